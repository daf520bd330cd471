//! What every set shares: where a table lives on each backend, the timestamp type, and running
//! the raw SQL that SeaQuery has no builder for (functions, procedures, DO blocks, events).
//!
//! PostgreSQL keeps the pipeline's objects in its own schemas (`timeseries.measurements`,
//! `payload.ess_signals`). A MariaDB "schema" is a database, which a migration running inside
//! the application database cannot create objects in, and SQLite has none: on both, the schema
//! becomes a prefix of the name in the current database (`timeseries_measurements`).
//!
//! Changing a helper changes the SQL of every migration that uses it, so the engine would show
//! applied migrations as `modified`: add new helpers rather than editing these once released.

use migration_engine::database_of;
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend, Statement};

/// `schema.name` on PostgreSQL, `schema_name` in the current database elsewhere.
pub(crate) fn table(backend: DbBackend, schema: &'static str, name: &'static str) -> TableName {
    match backend {
        DbBackend::Postgres => TableName(Some(schema.into()), name.into()),
        _ => TableName(None, format!("{schema}_{name}").into()),
    }
}

/// A required point in time, in UTC.
///
/// PostgreSQL: `timestamptz`. MariaDB: `DATETIME(6)` holding UTC, because its `TIMESTAMP`
/// ends in 2038 and can only be partitioned through `UNIX_TIMESTAMP()`, while `DATETIME` takes
/// `TO_DAYS()`. SQLite: text, as SeaORM writes it (RFC 3339 with an offset).
pub(crate) fn timestamp(backend: DbBackend, name: &'static str) -> ColumnDef {
    let mut column = ColumnDef::new(name);
    match backend {
        DbBackend::MySql => column.custom("DATETIME(6)"),
        _ => column.timestamp_with_time_zone(),
    };
    column.not_null().take()
}

/// A required `varchar(64)`: device, metric, site and unit identifiers.
pub(crate) fn key(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).string_len(64).not_null().take()
}

/// A required `double precision`.
pub(crate) fn number(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).double().not_null().take()
}

/// An optional `double precision`.
pub(crate) fn optional_number(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).double().null().take()
}

/// The clause that makes a table range-partitioned on its `ts` column, where the backend has
/// declarative partitioning; `None` on SQLite.
///
/// PostgreSQL creates no partitions with the table: `timeseries.register_table` does, through
/// pg_partman or the set's own functions. MariaDB needs at least one partition in the statement:
/// the catch-all `p_max`, which `timeseries_create_partitions` splits into days.
pub(crate) fn partitioned_by_ts(backend: DbBackend) -> Option<&'static str> {
    match backend {
        DbBackend::Postgres => Some("PARTITION BY RANGE (ts)"),
        DbBackend::MySql => {
            Some("PARTITION BY RANGE (TO_DAYS(ts)) (PARTITION p_max VALUES LESS THAN MAXVALUE)")
        }
        _ => None,
    }
}

/// Runs raw statements in order, each on its own (MariaDB/MySQL get no session state between
/// them: outside a transaction each may go to another connection of the pool).
pub(crate) async fn execute_all(
    manager: &SchemaManager<'_>,
    statements: &[&str],
) -> Result<(), DbErr> {
    let db = manager.get_connection();
    for sql in statements {
        db.execute_unprepared(sql).await?;
    }
    Ok(())
}

/// How a payload table is partitioned and for how long its rows are kept; the row it gets in
/// the `timeseries` set's track table.
pub(crate) struct Partitioning {
    /// The table's schema on PostgreSQL, its name prefix elsewhere.
    pub schema: &'static str,
    /// The table's name within the schema.
    pub table: &'static str,
    /// The range-partitioned column.
    pub column: &'static str,
    /// The width of a partition: `1 day` or `1 month` (PostgreSQL also takes `1 hour`).
    pub interval: &'static str,
    /// How many partitions are kept ready ahead of now (and created behind it at first).
    pub premake: i32,
    /// After how many days whole partitions are dropped by the retention job.
    pub retention_days: i32,
}

impl Partitioning {
    /// The name the track table knows the table by (see [`registered_name`]).
    pub(crate) fn registered_name(&self, backend: DbBackend) -> String {
        registered_name(backend, self.schema, self.table)
    }
}

/// A column of a payload table that identifies a series, and the table describing its values,
/// if any, as `(schema, table)`.
pub(crate) type Dimension = (&'static str, Option<(&'static str, &'static str)>);

/// The name the track tables know a table by: `schema.table` on PostgreSQL (what pg_partman
/// and `regclass` take), `schema_table` elsewhere.
pub(crate) fn registered_name(backend: DbBackend, schema: &str, table: &str) -> String {
    match backend {
        DbBackend::Postgres => format!("{schema}.{table}"),
        _ => format!("{schema}_{table}"),
    }
}

/// Partitions the table and records it in the track table: `timeseries.register_table` on
/// PostgreSQL, `timeseries_register_table` on MariaDB/MySQL; on SQLite, which has no
/// partitioning, only the row (marked as managed by `none`).
pub(crate) async fn register(
    manager: &SchemaManager<'_>,
    table: &Partitioning,
) -> Result<(), DbErr> {
    let backend = manager.get_database_backend();
    let name = table.registered_name(backend);
    let db = manager.get_connection();
    match backend {
        DbBackend::Postgres => {
            db.execute_raw(Statement::from_sql_and_values(
                backend,
                "SELECT timeseries.register_table($1::regclass, $2, $3::interval, $4, \
                 make_interval(days => $5))",
                [
                    name.into(),
                    table.column.into(),
                    table.interval.into(),
                    table.premake.into(),
                    table.retention_days.into(),
                ],
            ))
            .await?;
        }
        DbBackend::MySql => {
            db.execute_raw(Statement::from_sql_and_values(
                backend,
                "CALL timeseries_register_table(?, ?, ?, ?, ?)",
                [
                    name.into(),
                    table.column.into(),
                    table.interval.into(),
                    table.premake.into(),
                    table.retention_days.into(),
                ],
            ))
            .await?;
        }
        _ => {
            let insert = Query::insert()
                .into_table(self::table(backend, "timeseries", "partitioned_tables"))
                .columns([
                    "table_name",
                    "partition_column",
                    "partition_interval",
                    "premake",
                    "retention_days",
                    "managed_by",
                ])
                .values_panic([
                    name.into(),
                    table.column.into(),
                    table.interval.into(),
                    table.premake.into(),
                    table.retention_days.into(),
                    "none".into(),
                ])
                .to_owned();
            db.execute(&insert).await?;
        }
    }
    Ok(())
}

/// Undoes [`register`]: on PostgreSQL `timeseries.unregister_table` (which also removes what
/// pg_partman keeps about the table); elsewhere the track table's row. The partitions go with
/// the table when it is dropped.
pub(crate) async fn unregister(
    manager: &SchemaManager<'_>,
    table: &Partitioning,
) -> Result<(), DbErr> {
    let backend = manager.get_database_backend();
    let name = table.registered_name(backend);
    let db = manager.get_connection();
    if backend == DbBackend::Postgres {
        db.execute_raw(Statement::from_sql_and_values(
            backend,
            "SELECT timeseries.unregister_table($1::regclass)",
            [name.into()],
        ))
        .await?;
    } else {
        let delete = Query::delete()
            .from_table(self::table(backend, "timeseries", "partitioned_tables"))
            .and_where(Expr::col("table_name").eq(name))
            .to_owned();
        db.execute(&delete).await?;
    }
    Ok(())
}

/// Records which columns of a registered table identify a series, and the table describing
/// each (if any), in the track table's `table_dimensions`.
pub(crate) async fn add_dimensions(
    manager: &SchemaManager<'_>,
    table: &Partitioning,
    dimensions: &[Dimension],
) -> Result<(), DbErr> {
    let backend = manager.get_database_backend();
    let mut insert = Query::insert()
        .into_table(self::table(backend, "timeseries", "table_dimensions"))
        .columns(["table_name", "column_name", "described_by"])
        .to_owned();
    for (column, described_by) in dimensions {
        insert.values_panic([
            table.registered_name(backend).into(),
            (*column).into(),
            described_by
                .map(|(schema, table)| registered_name(backend, schema, table))
                .into(),
        ]);
    }
    manager.get_connection().execute(&insert).await?;
    Ok(())
}

/// Undoes [`add_dimensions`].
pub(crate) async fn remove_dimensions(
    manager: &SchemaManager<'_>,
    table: &Partitioning,
    dimensions: &[Dimension],
) -> Result<(), DbErr> {
    let backend = manager.get_database_backend();
    let delete = Query::delete()
        .from_table(self::table(backend, "timeseries", "table_dimensions"))
        .and_where(Expr::col("table_name").eq(table.registered_name(backend)))
        .and_where(Expr::col("column_name").is_in(dimensions.iter().map(|(column, _)| *column)))
        .to_owned();
    manager.get_connection().execute(&delete).await?;
    Ok(())
}

/// The set whose database the scheduled jobs run in: the application database.
pub(crate) const APP_SET: &str = "foundational";

/// Tells the SQL that follows, for the rest of this migration's transaction, which database
/// the jobs go into: the database of the `foundational` set in this run
/// ([`database_of`]), as the setting `iot_metrics.app_database`. The value is bound, not
/// spliced into the SQL.
///
/// Without the engine (plain sea-orm-migration) there is no run to ask, and the setting keeps
/// whatever the server gives it (`ALTER DATABASE postgres SET iot_metrics.app_database =
/// 'iot'`); the scheduling SQL refuses when it has none and pg_cron is there.
pub(crate) async fn pass_app_database(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let Some(database) = database_of(APP_SET) else {
        return Ok(());
    };
    manager
        .get_connection()
        .execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT set_config('iot_metrics.app_database', $1, true)",
            [database.into()],
        ))
        .await?;
    Ok(())
}

/// An hourly roll-up: the routine that computes it and the table it reads, each as `(schema,
/// name)` and named on each backend as [`registered_name`] says, and the statement that
/// aggregates on PostgreSQL and on MariaDB/MySQL.
pub(crate) struct Rollup {
    /// The function (PostgreSQL) or procedure (MariaDB/MySQL) that rolls up.
    pub routine: (&'static str, &'static str),
    /// The table it reads.
    pub source: (&'static str, &'static str),
    /// Its `INSERT … ON CONFLICT` statement, for [`postgres_rollup_function`].
    pub postgres_aggregate: &'static str,
    /// Its `INSERT … ON DUPLICATE KEY UPDATE` statement, for [`mysql_rollup_procedure`].
    pub mysql_aggregate: &'static str,
}

impl Rollup {
    /// The statement that creates the routine on `backend` (PostgreSQL or MariaDB/MySQL).
    pub(crate) fn create(&self, backend: DbBackend) -> String {
        let (routine, source) = self.names(backend);
        match backend {
            DbBackend::Postgres => {
                postgres_rollup_function(&routine, &source, self.postgres_aggregate)
            }
            _ => mysql_rollup_procedure(&routine, &source, self.mysql_aggregate),
        }
    }

    /// The statement that drops the routine on `backend` (PostgreSQL or MariaDB/MySQL).
    pub(crate) fn drop(&self, backend: DbBackend) -> String {
        let (routine, _) = self.names(backend);
        match backend {
            DbBackend::Postgres => format!("DROP FUNCTION {routine}(timestamptz)"),
            _ => format!("DROP PROCEDURE {routine}"),
        }
    }

    fn names(&self, backend: DbBackend) -> (String, String) {
        (
            registered_name(backend, self.routine.0, self.routine.1),
            registered_name(backend, self.source.0, self.source.1),
        )
    }
}

/// The PostgreSQL roll-up function `function(p_from)`, which aggregates `source` by the hour:
/// the frame every roll-up shares around `aggregate`, its own `INSERT … ON CONFLICT` statement
/// (indented as the function's body). It recomputes every hour from its watermark's hour (or
/// `p_from`'s) on, serialised by an advisory lock named after it, and moves the watermark in
/// `timeseries.rollup_watermarks` up to the newest row it saw, never past the present.
fn postgres_rollup_function(function: &str, source: &str, aggregate: &str) -> String {
    format!(
        r#"CREATE FUNCTION {function}(
    p_from timestamptz DEFAULT NULL) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    v_from timestamptz;
    v_until timestamptz;
    v_buckets integer;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('{function}'));
    v_from := date_trunc('hour', coalesce(p_from,
        (SELECT watermark FROM timeseries.rollup_watermarks
         WHERE source_table = '{source}'),
        '-infinity'), 'UTC');
    SELECT max(ts) INTO v_until FROM {source} WHERE ts >= v_from;
    -- A device with its clock ahead must not carry the watermark past rows still to come.
    IF v_until > now() THEN
        v_until := now();
    END IF;
{aggregate}
    GET DIAGNOSTICS v_buckets = ROW_COUNT;
    IF v_until IS NOT NULL THEN
        INSERT INTO timeseries.rollup_watermarks AS w (source_table, watermark)
        VALUES ('{source}', v_until)
        ON CONFLICT (source_table) DO UPDATE
            SET watermark = greatest(w.watermark, EXCLUDED.watermark);
    END IF;
    RETURN v_buckets;
END
$$"#
    )
}

/// The MariaDB/MySQL roll-up procedure `procedure(p_from)`, as
/// [`postgres_rollup_function`]: the shared frame around `aggregate`, its own
/// `INSERT … ON DUPLICATE KEY UPDATE` statement. Runs are serialised with `GET_LOCK`, named
/// after the database and the procedure (the lock is server-wide); the watermark is in
/// `timeseries_rollup_watermarks`.
fn mysql_rollup_procedure(procedure: &str, source: &str, aggregate: &str) -> String {
    format!(
        r#"CREATE PROCEDURE {procedure}(
    IN p_from DATETIME(6))
MODIFIES SQL DATA
BEGIN
    DECLARE v_from DATETIME(6);
    DECLARE v_until DATETIME(6);
    DECLARE v_lock VARCHAR(128) DEFAULT CONCAT(DATABASE(), '.{procedure}');
    DECLARE EXIT HANDLER FOR SQLEXCEPTION
    BEGIN
        DO RELEASE_LOCK(v_lock);
        RESIGNAL;
    END;
    IF GET_LOCK(v_lock, 60) IS NOT TRUE THEN
        SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'another roll-up has been running for 60 s';
    END IF;
    SET v_from = DATE_FORMAT(COALESCE(p_from,
        (SELECT watermark FROM timeseries_rollup_watermarks
         WHERE source_table = '{source}'),
        '1000-01-01'), '%Y-%m-%d %H:00:00');
    SET v_until = LEAST((SELECT MAX(ts) FROM {source} WHERE ts >= v_from),
                        UTC_TIMESTAMP(6));
{aggregate}
    IF v_until IS NOT NULL THEN
        INSERT INTO timeseries_rollup_watermarks (source_table, watermark)
        VALUES ('{source}', v_until)
        ON DUPLICATE KEY UPDATE watermark = GREATEST(watermark, VALUES(watermark));
    END IF;
    DO RELEASE_LOCK(v_lock);
END"#
    )
}

/// A pg_cron job: its name, when it runs (cron syntax), and the SQL it runs.
pub(crate) type CronJob = (&'static str, &'static str, &'static str);

/// The names of `jobs` as a condition on `cron.job`'s `jobname`.
fn jobname_condition(jobs: &[CronJob]) -> String {
    match jobs {
        [(name, _, _)] => format!("jobname = '{name}'"),
        _ => {
            let names: Vec<String> = jobs
                .iter()
                .map(|(name, _, _)| format!("'{name}'"))
                .collect();
            format!("jobname IN ({})", names.join(", "))
        }
    }
}

/// The DO block that schedules `jobs` with pg_cron in the application database, the setting
/// [`pass_app_database`] sets: nothing where pg_cron is absent; refused without an application
/// database, and while jobs of these names run in another one (pg_cron keeps one job per name
/// and user, and leaves an existing one where it is).
pub(crate) fn schedule_jobs(jobs: &[CronJob]) -> String {
    let names = jobname_condition(jobs);
    let schedule: Vec<String> = jobs
        .iter()
        .map(|(name, when, command)| {
            format!(
                "    PERFORM cron.schedule_in_database('{name}', '{when}',\n                                      '{command}', app);"
            )
        })
        .collect();
    with_app_database(&format!(
        r#"    IF NOT EXISTS (SELECT FROM pg_extension WHERE extname = 'pg_cron') THEN
        RETURN;
    END IF;
    IF app IS NULL THEN
        RAISE EXCEPTION 'no application database to schedule the iot-metrics jobs in'
            USING HINT = 'Run the sets with their migrate command, or set iot_metrics.app_database '
                         '(ALTER DATABASE postgres SET iot_metrics.app_database = ''iot'').';
    END IF;
    IF EXISTS (SELECT FROM cron.job WHERE username = current_user
               AND {names} AND database <> app) THEN
        RAISE EXCEPTION 'the iot-metrics jobs already run in another database than %', app
            USING HINT = 'pg_cron keeps one job per name and user, and would leave them there: '
                         'revert the maintenance set of that application database first.';
    END IF;
{}"#,
        schedule.join("\n")
    ))
}

/// The DO block that unschedules `jobs` where pg_cron is there: those of the current user in
/// the application database, or in any database when no application database is set.
pub(crate) fn unschedule_jobs(jobs: &[CronJob]) -> String {
    // One name fits on the `WHERE` line; a list goes on a line of its own.
    let names = match jobs {
        [_] => format!(" AND {}", jobname_condition(jobs)),
        _ => format!("\n          AND {}", jobname_condition(jobs)),
    };
    with_app_database(&format!(
        r#"    IF EXISTS (SELECT FROM pg_extension WHERE extname = 'pg_cron') THEN
        PERFORM cron.unschedule(jobname) FROM cron.job
        WHERE username = current_user{names}
          AND (app IS NULL OR database = app);
    END IF;"#
    ))
}

/// A DO block running `body` with the application database in `app`: the setting
/// [`pass_app_database`] sets, `NULL` when it is unset or empty.
fn with_app_database(body: &str) -> String {
    format!(
        r#"
DO $$
DECLARE
    app text := nullif(current_setting('iot_metrics.app_database', true), '');
BEGIN
{body}
END
$$"#
    )
}

/// A DO block running `body` with the names of the application's two roles in `writer` and
/// `reader`: the database's name (cut to 56 bytes, so the name fits PostgreSQL's 63) followed
/// by `_writer` and `_reader`.
pub(crate) fn with_role_names(body: &str) -> String {
    format!(
        r#"
DO $$
DECLARE
    writer text := left(current_database(), 56) || '_writer';
    reader text := left(current_database(), 56) || '_reader';
BEGIN
{body}
END
$$"#
    )
}
