//! The hourly roll-up of measurements: count, sum, minimum and maximum per device, metric and
//! hour.
//!
//! - PostgreSQL: `timeseries.measurements_rollup`, `timeseries.rollup_watermarks` (the latest
//!   measurement each roll-up has seen, per source table) and `perform_rollup(from)`. A run
//!   recomputes every hour from the watermark's hour (or `from`'s) onwards and replaces those
//!   buckets, so running it twice changes nothing and a late row within the current hour is
//!   picked up by the next run; rows arriving later than that need `perform_rollup(from)`.
//!   The watermark never passes the present, so a device whose clock runs ahead cannot make
//!   later runs skip the rows of everyone else. Runs are serialised by an advisory lock.
//! - MariaDB/MySQL: the same as `timeseries_measurements_rollup`,
//!   `timeseries_rollup_watermarks` and the procedure `timeseries_perform_rollup(from)`, which
//!   serialises runs with `GET_LOCK` (named after the database: the lock is server-wide).
//! - SQLite: a view `timeseries_measurements_rollup` with the same columns, computed on read;
//!   no watermarks, nothing to run. Its `bucket` is text, `YYYY-MM-DDTHH:00:00+00:00`.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

use crate::support::{execute_all, key, number, table, timestamp};

const POSTGRES_FUNCTION: &str = r#"CREATE FUNCTION timeseries.perform_rollup(
    p_from timestamptz DEFAULT NULL) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    v_from timestamptz;
    v_until timestamptz;
    v_buckets integer;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('timeseries.perform_rollup'));
    v_from := date_trunc('hour', coalesce(p_from,
        (SELECT watermark FROM timeseries.rollup_watermarks
         WHERE source_table = 'timeseries.measurements'),
        '-infinity'), 'UTC');
    SELECT max(ts) INTO v_until FROM timeseries.measurements WHERE ts >= v_from;
    -- A device with its clock ahead must not carry the watermark past rows still to come.
    IF v_until > now() THEN
        v_until := now();
    END IF;
    INSERT INTO timeseries.measurements_rollup
        (device_id, metric, bucket, sample_count, value_sum, value_min, value_max)
    SELECT device_id, metric, date_trunc('hour', ts, 'UTC'),
           count(*), sum(value), min(value), max(value)
    FROM timeseries.measurements
    WHERE ts >= v_from
    GROUP BY 1, 2, 3
    ON CONFLICT (device_id, metric, bucket) DO UPDATE
        SET sample_count = EXCLUDED.sample_count, value_sum = EXCLUDED.value_sum,
            value_min = EXCLUDED.value_min, value_max = EXCLUDED.value_max;
    GET DIAGNOSTICS v_buckets = ROW_COUNT;
    IF v_until IS NOT NULL THEN
        INSERT INTO timeseries.rollup_watermarks AS w (source_table, watermark)
        VALUES ('timeseries.measurements', v_until)
        ON CONFLICT (source_table) DO UPDATE
            SET watermark = greatest(w.watermark, EXCLUDED.watermark);
    END IF;
    RETURN v_buckets;
END
$$"#;

const MYSQL_PROCEDURE: &str = r#"CREATE PROCEDURE timeseries_perform_rollup(
    IN p_from DATETIME(6))
MODIFIES SQL DATA
BEGIN
    DECLARE v_from DATETIME(6);
    DECLARE v_until DATETIME(6);
    DECLARE v_lock VARCHAR(128) DEFAULT CONCAT(DATABASE(), '.timeseries_perform_rollup');
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
         WHERE source_table = 'timeseries_measurements'),
        '1000-01-01'), '%Y-%m-%d %H:00:00');
    SET v_until = LEAST((SELECT MAX(ts) FROM timeseries_measurements WHERE ts >= v_from),
                        UTC_TIMESTAMP(6));
    INSERT INTO timeseries_measurements_rollup
        (device_id, metric, bucket, sample_count, value_sum, value_min, value_max)
    SELECT device_id, metric, DATE_FORMAT(ts, '%Y-%m-%d %H:00:00'),
           COUNT(*), SUM(value), MIN(value), MAX(value)
    FROM timeseries_measurements
    WHERE ts >= v_from
    GROUP BY device_id, metric, DATE_FORMAT(ts, '%Y-%m-%d %H:00:00')
    ON DUPLICATE KEY UPDATE sample_count = VALUES(sample_count), value_sum = VALUES(value_sum),
        value_min = VALUES(value_min), value_max = VALUES(value_max);
    IF v_until IS NOT NULL THEN
        INSERT INTO timeseries_rollup_watermarks (source_table, watermark)
        VALUES ('timeseries_measurements', v_until)
        ON DUPLICATE KEY UPDATE watermark = GREATEST(watermark, VALUES(watermark));
    END IF;
    DO RELEASE_LOCK(v_lock);
END"#;

const SQLITE_VIEW: &str = r#"CREATE VIEW timeseries_measurements_rollup AS
SELECT device_id, metric, strftime('%Y-%m-%dT%H:00:00+00:00', ts) AS bucket,
       COUNT(*) AS sample_count, SUM(value) AS value_sum,
       MIN(value) AS value_min, MAX(value) AS value_max
FROM timeseries_measurements
GROUP BY device_id, metric, strftime('%Y-%m-%dT%H:00:00+00:00', ts)"#;

/// `measurements_rollup`: one row per device, metric and hour.
fn rollup_table(backend: DbBackend) -> TableCreateStatement {
    Table::create()
        .table(table(backend, "timeseries", "measurements_rollup"))
        .col(key("device_id"))
        .col(key("metric"))
        .col(timestamp(backend, "bucket"))
        .col(ColumnDef::new("sample_count").big_integer().not_null())
        .col(number("value_sum"))
        .col(number("value_min"))
        .col(number("value_max"))
        .primary_key(Index::create().col("device_id").col("metric").col("bucket"))
        .to_owned()
}

/// `rollup_watermarks`: the newest source row each roll-up has aggregated.
fn watermarks_table(backend: DbBackend) -> TableCreateStatement {
    Table::create()
        .table(table(backend, "timeseries", "rollup_watermarks"))
        .col(
            ColumnDef::new("source_table")
                .string_len(128)
                .not_null()
                .primary_key(),
        )
        .col(timestamp(backend, "watermark"))
        .to_owned()
}

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        if backend == DbBackend::Sqlite {
            return execute_all(manager, &[SQLITE_VIEW]).await;
        }
        manager.create_table(rollup_table(backend)).await?;
        manager.create_table(watermarks_table(backend)).await?;
        match backend {
            DbBackend::Postgres => execute_all(manager, &[POSTGRES_FUNCTION]).await,
            _ => execute_all(manager, &[MYSQL_PROCEDURE]).await,
        }
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        match backend {
            DbBackend::Sqlite => {
                return execute_all(manager, &["DROP VIEW timeseries_measurements_rollup"]).await;
            }
            DbBackend::Postgres => {
                execute_all(
                    manager,
                    &["DROP FUNCTION timeseries.perform_rollup(timestamptz)"],
                )
                .await?;
            }
            _ => execute_all(manager, &["DROP PROCEDURE timeseries_perform_rollup"]).await?,
        }
        for name in ["rollup_watermarks", "measurements_rollup"] {
            manager
                .drop_table(
                    Table::drop()
                        .table(table(backend, "timeseries", name))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
