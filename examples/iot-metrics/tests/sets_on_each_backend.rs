//! The five sets under plain sea-orm-migration (`MigratorTrait::up` / `down`), on each backend:
//! applied in run order, the pipeline's data checked where it lands (partitions, roll-ups, the
//! jobs' functions), reverted in reverse order to an empty database.
//!
//! The maintenance set runs on the test's own database here: the shared test server has no
//! pg_cron, so on PostgreSQL it changes nothing (`pg_cron.rs` tests it on a cluster that has).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use sea_orm_migration::sea_orm::DatabaseConnection;
use support::{column, down_app, down_maintenance, exec, get, one, rows, up_all};
use tests::{Backend, TestDb};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_partitions_through_pg_partman_where_available() {
    let Some(db) = TestDb::create(Backend::Postgres).await else {
        return;
    };
    let conn = db.connect().await;
    let available: i64 = one(
        &conn,
        "SELECT count(*) FROM pg_available_extensions WHERE name = 'pg_partman'",
    )
    .await;
    let expected = if available == 1 {
        "pg_partman"
    } else {
        "timeseries"
    };
    postgres_scenario(&db, &conn, expected).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_partitions_with_its_own_functions_when_pg_partman_is_opted_out() {
    let Some(db) = TestDb::create(Backend::Postgres).await else {
        return;
    };
    let setup = db.connect().await;
    let name = db.database_name().unwrap();
    exec(
        &setup,
        &format!("ALTER DATABASE \"{name}\" SET iot_metrics.use_partman = off"),
    )
    .await;
    let _ = setup.close().await;
    // New sessions see the database's setting.
    let conn = db.connect().await;
    postgres_scenario(&db, &conn, "timeseries").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mariadb_partitions_by_day_and_rolls_up_in_procedures() {
    let Some(db) = TestDb::create(Backend::MariaDb).await else {
        return;
    };
    let conn = db.connect().await;
    mariadb_scenario(&db, &conn).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_gets_plain_tables_and_roll_up_views() {
    let db = TestDb::create(Backend::Sqlite).await.unwrap();
    let conn = db.connect().await;
    sqlite_scenario(&db, &conn).await;
}

/// One row of a roll-up, as `(count, sum, min, max)`.
async fn measurement_bucket(conn: &DatabaseConnection, sql: &str) -> (i64, f64, f64, f64) {
    let rows = rows(conn, sql).await;
    assert_eq!(rows.len(), 1, "{sql}");
    (
        get(&rows[0], "sample_count"),
        get(&rows[0], "value_sum"),
        get(&rows[0], "value_min"),
        get(&rows[0], "value_max"),
    )
}

async fn postgres_scenario(db: &TestDb, conn: &DatabaseConnection, managed_by: &str) {
    up_all(conn, conn).await;
    let database = db.database_name().unwrap();
    let roles = format!("('{database}_writer', '{database}_reader')");

    // Every payload table is registered and partitioned by the expected machinery.
    let registered: Vec<String> = column(
        conn,
        "SELECT table_name || ' ' || managed_by FROM timeseries.partitioned_tables \
         ORDER BY table_name",
    )
    .await;
    assert_eq!(
        registered,
        [
            format!("payload.ess_signals {managed_by}"),
            format!("payload.ess_summary {managed_by}"),
            format!("timeseries.measurements {managed_by}"),
        ]
    );
    let dimensions: Vec<String> = column(
        conn,
        "SELECT table_name || '.' || column_name || ' ' || coalesce(described_by, '-') \
         FROM timeseries.table_dimensions ORDER BY 1",
    )
    .await;
    assert_eq!(
        dimensions,
        [
            "payload.ess_signals.ess_id payload.ess_units",
            "payload.ess_signals.site_id payload.ess_sites",
            "payload.ess_summary.ess_id -",
            "payload.ess_summary.site_id payload.ess_portfolio_sites",
            "timeseries.measurements.device_id -",
            "timeseries.measurements.metric -",
        ]
    );

    // The roles exist, and tables created later in the schemas carry their grants.
    let writer = format!("{database}_writer");
    let reader = format!("{database}_reader");
    assert_eq!(
        one::<i64>(
            conn,
            &format!("SELECT count(*) FROM pg_roles WHERE rolname IN {roles}")
        )
        .await,
        2
    );
    let privileges: Vec<bool> = column(
        conn,
        &format!(
            "SELECT has_table_privilege(r, 'timeseries.measurements', p) FROM \
             (VALUES ('{writer}', 'INSERT'), ('{writer}', 'SELECT'), ('{reader}', 'SELECT'), \
                     ('{reader}', 'INSERT')) AS v(r, p)"
        ),
    )
    .await;
    assert_eq!(privileges, [true, true, true, false]);

    // Rows land in the partition whose bounds hold them; older ones in the DEFAULT partition.
    exec(
        conn,
        "INSERT INTO timeseries.measurements (device_id, metric, ts, value) VALUES \
         ('dev-1', 'temp', date_trunc('hour', now()) + interval '5 minutes', 20), \
         ('dev-1', 'temp', date_trunc('hour', now()) + interval '10 minutes', 22), \
         ('dev-1', 'temp', now() - interval '1 day', 18), \
         ('dev-2', 'temp', '2001-01-01T00:00:00Z', 1), \
         ('dev-3', 'temp', '2100-01-01T00:00:00Z', 2)",
    )
    .await;
    let placed = rows(
        conn,
        "SELECT m.tableoid::regclass::text AS actual, \
                coalesce((SELECT p.partition_table::text FROM timeseries.partitions p \
                          WHERE p.parent_table = 'timeseries.measurements'::regclass \
                            AND NOT p.is_default \
                            AND m.ts >= p.lower_bound AND m.ts < p.upper_bound), \
                         'timeseries.measurements_default') AS expected, \
                abs(extract(epoch FROM m.ts - now())) > 86400 * 365 AS far \
         FROM timeseries.measurements m",
    )
    .await;
    let mut partitions: Vec<String> = Vec::new();
    for row in &placed {
        let actual: String = get(row, "actual");
        assert_eq!(actual, get::<String>(row, "expected"));
        if get::<bool>(row, "far") {
            assert_eq!(actual, "timeseries.measurements_default");
        }
        partitions.push(actual);
    }
    partitions.sort();
    partitions.dedup();
    assert_eq!(partitions.len(), 3, "{partitions:?}");
    if managed_by == "timeseries" {
        // The set's own partitions are named after their UTC day.
        let today: String = one(
            conn,
            "SELECT 'timeseries.measurements_p' || to_char(now() AT TIME ZONE 'UTC', 'YYYY_MM_DD')",
        )
        .await;
        assert!(partitions.contains(&today), "{partitions:?} lacks {today}");
    }

    // The roll-up aggregates by hour, twice to the same result, and takes in late rows of the
    // current hour (the row from 2100 does not carry the watermark past them).
    let current_hour = "SELECT sample_count, value_sum, value_min, value_max \
                        FROM timeseries.measurements_rollup \
                        WHERE device_id = 'dev-1' AND bucket = date_trunc('hour', now(), 'UTC')";
    assert_eq!(
        one::<i32>(conn, "SELECT timeseries.perform_rollup()").await,
        4
    );
    assert_eq!(
        measurement_bucket(conn, current_hour).await,
        (2, 42.0, 20.0, 22.0)
    );
    one::<i32>(conn, "SELECT timeseries.perform_rollup()").await;
    assert_eq!(
        measurement_bucket(conn, current_hour).await,
        (2, 42.0, 20.0, 22.0)
    );
    assert_eq!(
        one::<i64>(conn, "SELECT count(*) FROM timeseries.measurements_rollup").await,
        4
    );
    exec(
        conn,
        "INSERT INTO timeseries.measurements (device_id, metric, ts, value) \
         VALUES ('dev-1', 'temp', date_trunc('hour', now()) + interval '20 minutes', 30)",
    )
    .await;
    one::<i32>(conn, "SELECT timeseries.perform_rollup()").await;
    assert_eq!(
        measurement_bucket(conn, current_hour).await,
        (3, 72.0, 20.0, 30.0)
    );

    // ESS signals: partitioned the same way, rolled up per unit and hour.
    exec(
        conn,
        "INSERT INTO payload.ess_signals (site_id, ess_id, ts, soc, power_kw) VALUES \
         ('site-1', 'ess-1', date_trunc('hour', now()) + interval '1 minute', 50, 100), \
         ('site-1', 'ess-1', date_trunc('hour', now()) + interval '31 minutes', 60, -50)",
    )
    .await;
    assert_eq!(
        one::<i64>(
            conn,
            "SELECT count(*) FROM payload.ess_signals s JOIN timeseries.partitions p \
               ON p.partition_table = s.tableoid::regclass \
             WHERE NOT p.is_default AND s.ts >= p.lower_bound AND s.ts < p.upper_bound",
        )
        .await,
        2
    );
    assert_eq!(
        one::<i32>(conn, "SELECT payload.rollup_ess_signals()").await,
        1
    );
    let hourly = rows(
        conn,
        "SELECT sample_count, soc_avg, energy_charged_kwh, energy_discharged_kwh \
         FROM payload.ess_signals_hourly",
    )
    .await;
    assert_eq!(hourly.len(), 1);
    assert_eq!(get::<i64>(&hourly[0], "sample_count"), 2);
    assert_eq!(get::<f64>(&hourly[0], "soc_avg"), 55.0);
    assert_eq!(get::<f64>(&hourly[0], "energy_charged_kwh"), 25.0);
    assert_eq!(get::<f64>(&hourly[0], "energy_discharged_kwh"), 50.0);

    // ESS summaries: monthly partitions.
    exec(
        conn,
        "INSERT INTO payload.ess_summary (site_id, ess_id, period_start, period_end, \
             energy_charged_kwh, energy_discharged_kwh, equivalent_full_cycles) \
         VALUES ('site-1', 'ess-1', date_trunc('day', now(), 'UTC'), \
                 date_trunc('day', now(), 'UTC') + interval '1 day', 120, 110, 0.9)",
    )
    .await;
    let summary_partition: String = one(
        conn,
        "SELECT tableoid::regclass::text FROM payload.ess_summary",
    )
    .await;
    assert_ne!(summary_partition, "payload.ess_summary_default");

    // The jobs' functions: maintenance keeps partitions ahead, retention drops old ones and
    // never the DEFAULT partition.
    one::<i32>(conn, "SELECT timeseries.run_maintenance()").await;
    assert_eq!(
        one::<i32>(conn, "SELECT timeseries.run_retention()").await,
        0
    );
    assert!(one::<i32>(conn, "SELECT timeseries.run_retention('2 days')").await >= 4);
    assert_eq!(
        one::<i64>(
            conn,
            "SELECT count(*) FROM timeseries.partitions \
             WHERE parent_table = 'timeseries.measurements'::regclass AND NOT is_default \
               AND upper_bound <= now() - interval '2 days'",
        )
        .await,
        0
    );
    assert_eq!(
        one::<i64>(
            conn,
            "SELECT count(*) FROM timeseries.measurements WHERE ts < now() - interval '20 hours'",
        )
        .await,
        2,
        "yesterday's row and the DEFAULT partition's are kept"
    );

    down_app(conn).await;
    down_maintenance(conn, None).await;
    assert_eq!(db.table_names().await, Vec::<String>::new());
    assert_eq!(
        one::<i64>(
            conn,
            "SELECT count(*) FROM pg_namespace WHERE nspname IN ('timeseries', 'payload', 'partman')",
        )
        .await,
        0
    );
    assert_eq!(
        column::<String>(
            conn,
            "SELECT extname::text FROM pg_extension WHERE extname <> 'plpgsql'"
        )
        .await,
        Vec::<String>::new()
    );
    assert_eq!(
        one::<i64>(
            conn,
            &format!("SELECT count(*) FROM pg_roles WHERE rolname IN {roles}")
        )
        .await,
        0
    );
}

async fn mariadb_scenario(db: &TestDb, conn: &DatabaseConnection) {
    up_all(conn, conn).await;
    let database = db.database_name().unwrap();
    let roles = format!("('{database}_writer', '{database}_reader')");

    let registered: Vec<String> = column(
        conn,
        "SELECT CONCAT(table_name, ' ', partition_interval, ' ', managed_by) \
         FROM timeseries_partitioned_tables ORDER BY table_name",
    )
    .await;
    assert_eq!(
        registered,
        [
            "payload_ess_signals 1 day timeseries",
            "payload_ess_summary 1 month timeseries",
            "timeseries_measurements 1 day timeseries",
        ]
    );
    assert_eq!(
        one::<i64>(
            conn,
            &format!("SELECT COUNT(*) FROM mysql.user WHERE is_role = 'Y' AND User IN {roles}")
        )
        .await,
        2
    );
    let grants: Vec<String> = column(conn, &format!("SHOW GRANTS FOR `{database}_reader`")).await;
    assert!(
        grants.iter().any(
            |g| g.starts_with("GRANT SELECT ON `") && g.contains(&database.replace('_', "\\_"))
        ),
        "{grants:?}"
    );

    // Rows land in their day's partition; older ones in the first, later ones in p_max.
    exec(
        conn,
        "INSERT INTO timeseries_measurements (device_id, metric, ts, value) VALUES \
         ('dev-1', 'temp', DATE_FORMAT(UTC_TIMESTAMP(), '%Y-%m-%d %H:05:00'), 20), \
         ('dev-1', 'temp', DATE_FORMAT(UTC_TIMESTAMP(), '%Y-%m-%d %H:10:00'), 22), \
         ('dev-1', 'temp', UTC_TIMESTAMP() - INTERVAL 1 DAY, 18), \
         ('dev-2', 'temp', '2001-01-01', 1), \
         ('dev-3', 'temp', '2100-01-01', 2)",
    )
    .await;
    let today: String = one(
        conn,
        "SELECT CONCAT('p', DATE_FORMAT(UTC_DATE(), '%Y%m%d'))",
    )
    .await;
    let yesterday: String = one(
        conn,
        "SELECT CONCAT('p', DATE_FORMAT(UTC_DATE() - INTERVAL 1 DAY, '%Y%m%d'))",
    )
    .await;
    let first: String = one(
        conn,
        "SELECT PARTITION_NAME FROM information_schema.PARTITIONS \
         WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'timeseries_measurements' \
         ORDER BY PARTITION_ORDINAL_POSITION LIMIT 1",
    )
    .await;
    for (partition, expected) in [(&today, 2), (&yesterday, 1), (&first, 1)] {
        let count: i64 = one(
            conn,
            &format!("SELECT COUNT(*) FROM timeseries_measurements PARTITION (`{partition}`)"),
        )
        .await;
        assert_eq!(count, expected, "rows in partition {partition}");
    }
    let later: Vec<String> = column(
        conn,
        "SELECT device_id FROM timeseries_measurements PARTITION (p_max)",
    )
    .await;
    assert_eq!(later, ["dev-3"]);

    // The roll-up, twice to the same result, then with a late row of the current hour (the row
    // from 2100 does not carry the watermark past it).
    let current_hour = "SELECT sample_count, value_sum, value_min, value_max \
                        FROM timeseries_measurements_rollup WHERE device_id = 'dev-1' \
                        AND bucket = DATE_FORMAT(UTC_TIMESTAMP(), '%Y-%m-%d %H:00:00')";
    exec(conn, "CALL timeseries_perform_rollup(NULL)").await;
    assert_eq!(
        measurement_bucket(conn, current_hour).await,
        (2, 42.0, 20.0, 22.0)
    );
    exec(conn, "CALL timeseries_perform_rollup(NULL)").await;
    assert_eq!(
        measurement_bucket(conn, current_hour).await,
        (2, 42.0, 20.0, 22.0)
    );
    assert_eq!(
        one::<i64>(conn, "SELECT COUNT(*) FROM timeseries_measurements_rollup").await,
        4
    );
    exec(
        conn,
        "INSERT INTO timeseries_measurements (device_id, metric, ts, value) \
         VALUES ('dev-1', 'temp', DATE_FORMAT(UTC_TIMESTAMP(), '%Y-%m-%d %H:20:00'), 30)",
    )
    .await;
    exec(conn, "CALL timeseries_perform_rollup(NULL)").await;
    assert_eq!(
        measurement_bucket(conn, current_hour).await,
        (3, 72.0, 20.0, 30.0)
    );

    // ESS signals and their roll-up; a summary in this month's partition.
    exec(
        conn,
        "INSERT INTO payload_ess_signals (site_id, ess_id, ts, soc, power_kw) VALUES \
         ('site-1', 'ess-1', DATE_FORMAT(UTC_TIMESTAMP(), '%Y-%m-%d %H:01:00'), 50, 100), \
         ('site-1', 'ess-1', DATE_FORMAT(UTC_TIMESTAMP(), '%Y-%m-%d %H:31:00'), 60, -50)",
    )
    .await;
    assert_eq!(
        one::<i64>(
            conn,
            &format!("SELECT COUNT(*) FROM payload_ess_signals PARTITION (`{today}`)")
        )
        .await,
        2
    );
    exec(conn, "CALL payload_rollup_ess_signals(NULL)").await;
    let hourly = rows(
        conn,
        "SELECT sample_count, soc_avg, energy_charged_kwh, energy_discharged_kwh \
         FROM payload_ess_signals_hourly",
    )
    .await;
    assert_eq!(hourly.len(), 1);
    assert_eq!(get::<i64>(&hourly[0], "sample_count"), 2);
    assert_eq!(get::<f64>(&hourly[0], "soc_avg"), 55.0);
    assert_eq!(get::<f64>(&hourly[0], "energy_charged_kwh"), 25.0);
    assert_eq!(get::<f64>(&hourly[0], "energy_discharged_kwh"), 50.0);
    exec(
        conn,
        "INSERT INTO payload_ess_summary (site_id, ess_id, period_start, period_end, \
             energy_charged_kwh, energy_discharged_kwh, equivalent_full_cycles) \
         VALUES ('site-1', 'ess-1', UTC_DATE(), UTC_DATE() + INTERVAL 1 DAY, 120, 110, 0.9)",
    )
    .await;
    let month: String = one(conn, "SELECT CONCAT('p', DATE_FORMAT(UTC_DATE(), '%Y%m'))").await;
    assert_eq!(
        one::<i64>(
            conn,
            &format!("SELECT COUNT(*) FROM payload_ess_summary PARTITION (`{month}`)")
        )
        .await,
        1
    );

    // The events exist, and what each runs works when run by hand (the test server's
    // event_scheduler is off).
    let events = rows(
        conn,
        "SELECT EVENT_NAME AS name, EVENT_DEFINITION AS definition FROM information_schema.EVENTS \
         WHERE EVENT_SCHEMA = DATABASE() ORDER BY EVENT_NAME",
    )
    .await;
    let names: Vec<String> = events.iter().map(|e| get(e, "name")).collect();
    assert_eq!(
        names,
        [
            "ess_signals_rollup",
            "iot_partition_maintenance",
            "iot_retention",
            "iot_rollup"
        ]
    );
    for event in &events {
        exec(conn, &get::<String>(event, "definition")).await;
    }
    exec(conn, "CALL timeseries_run_retention(2)").await;
    let kept: Vec<String> = column(
        conn,
        "SELECT PARTITION_NAME FROM information_schema.PARTITIONS \
         WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'timeseries_measurements' \
         ORDER BY PARTITION_ORDINAL_POSITION",
    )
    .await;
    // Day d's partition holds rows below d + 1, so keeping two days drops up to d = today - 3.
    let oldest_kept: String = one(
        conn,
        "SELECT CONCAT('p', DATE_FORMAT(UTC_DATE() - INTERVAL 2 DAY, '%Y%m%d'))",
    )
    .await;
    assert_eq!(kept.first(), Some(&oldest_kept), "{kept:?}");
    assert_eq!(kept.last().map(String::as_str), Some("p_max"));

    down_app(conn).await;
    down_maintenance(conn, None).await;
    assert_eq!(db.table_names().await, Vec::<String>::new());
    assert_eq!(
        one::<i64>(
            conn,
            "SELECT COUNT(*) FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = DATABASE()"
        )
        .await,
        0
    );
    assert_eq!(
        one::<i64>(
            conn,
            "SELECT COUNT(*) FROM information_schema.EVENTS WHERE EVENT_SCHEMA = DATABASE()"
        )
        .await,
        0
    );
    assert_eq!(
        one::<i64>(
            conn,
            &format!("SELECT COUNT(*) FROM mysql.user WHERE User IN {roles}")
        )
        .await,
        0
    );
}

async fn sqlite_scenario(db: &TestDb, conn: &DatabaseConnection) {
    up_all(conn, conn).await;
    let mut tables = db.table_names().await;
    tables.retain(|t| !t.starts_with("seaql_migrations"));
    assert_eq!(
        tables,
        [
            "payload_ess_portfolio_sites",
            "payload_ess_portfolios",
            "payload_ess_signals",
            "payload_ess_sites",
            "payload_ess_summary",
            "payload_ess_units",
            "timeseries_measurements",
            "timeseries_partitioned_tables",
            "timeseries_table_dimensions",
        ]
    );
    let registered: Vec<String> = column(
        conn,
        "SELECT table_name || ' ' || managed_by FROM timeseries_partitioned_tables \
         ORDER BY table_name",
    )
    .await;
    assert_eq!(
        registered,
        [
            "payload_ess_signals none",
            "payload_ess_summary none",
            "timeseries_measurements none",
        ]
    );

    // The roll-up views aggregate on read.
    exec(
        conn,
        "INSERT INTO timeseries_measurements (device_id, metric, ts, value) VALUES \
         ('dev-1', 'temp', '2025-03-01T10:05:00+00:00', 20), \
         ('dev-1', 'temp', '2025-03-01 10:10:00+00:00', 22), \
         ('dev-1', 'temp', '2025-03-01T11:00:00+00:00', 18)",
    )
    .await;
    assert_eq!(
        measurement_bucket(
            conn,
            "SELECT sample_count, value_sum, value_min, value_max \
             FROM timeseries_measurements_rollup WHERE bucket = '2025-03-01T10:00:00+00:00'",
        )
        .await,
        (2, 42.0, 20.0, 22.0)
    );
    exec(
        conn,
        "INSERT INTO payload_ess_signals (site_id, ess_id, ts, soc, power_kw) VALUES \
         ('site-1', 'ess-1', '2025-03-01T10:01:00+00:00', 50, 100), \
         ('site-1', 'ess-1', '2025-03-01T10:31:00+00:00', 60, -50)",
    )
    .await;
    let hourly = rows(
        conn,
        "SELECT sample_count, soc_avg, energy_charged_kwh, energy_discharged_kwh \
         FROM payload_ess_signals_hourly",
    )
    .await;
    assert_eq!(hourly.len(), 1);
    assert_eq!(get::<i64>(&hourly[0], "sample_count"), 2);
    assert_eq!(get::<f64>(&hourly[0], "soc_avg"), 55.0);
    assert_eq!(get::<f64>(&hourly[0], "energy_charged_kwh"), 25.0);
    assert_eq!(get::<f64>(&hourly[0], "energy_discharged_kwh"), 50.0);

    down_app(conn).await;
    down_maintenance(conn, None).await;
    assert_eq!(db.table_names().await, Vec::<String>::new());
    assert_eq!(
        one::<i64>(
            conn,
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'view'"
        )
        .await,
        0
    );
}
