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

use crate::support::{Rollup, execute_all, key, number, table, timestamp};

/// What the roll-up aggregates on PostgreSQL.
const POSTGRES_AGGREGATE: &str = r#"    INSERT INTO timeseries.measurements_rollup
        (device_id, metric, bucket, sample_count, value_sum, value_min, value_max)
    SELECT device_id, metric, date_trunc('hour', ts, 'UTC'),
           count(*), sum(value), min(value), max(value)
    FROM timeseries.measurements
    WHERE ts >= v_from
    GROUP BY 1, 2, 3
    ON CONFLICT (device_id, metric, bucket) DO UPDATE
        SET sample_count = EXCLUDED.sample_count, value_sum = EXCLUDED.value_sum,
            value_min = EXCLUDED.value_min, value_max = EXCLUDED.value_max;"#;

/// What the roll-up aggregates on MariaDB/MySQL.
const MYSQL_AGGREGATE: &str = r#"    INSERT INTO timeseries_measurements_rollup
        (device_id, metric, bucket, sample_count, value_sum, value_min, value_max)
    SELECT device_id, metric, DATE_FORMAT(ts, '%Y-%m-%d %H:00:00'),
           COUNT(*), SUM(value), MIN(value), MAX(value)
    FROM timeseries_measurements
    WHERE ts >= v_from
    GROUP BY device_id, metric, DATE_FORMAT(ts, '%Y-%m-%d %H:00:00')
    ON DUPLICATE KEY UPDATE sample_count = VALUES(sample_count), value_sum = VALUES(value_sum),
        value_min = VALUES(value_min), value_max = VALUES(value_max);"#;

/// The roll-up routine, on PostgreSQL and MariaDB/MySQL.
const ROLLUP: Rollup = Rollup {
    routine: ("timeseries", "perform_rollup"),
    source: ("timeseries", "measurements"),
    postgres_aggregate: POSTGRES_AGGREGATE,
    mysql_aggregate: MYSQL_AGGREGATE,
};

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
        execute_all(manager, &[&ROLLUP.create(backend)]).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        match backend {
            DbBackend::Sqlite => {
                return execute_all(manager, &["DROP VIEW timeseries_measurements_rollup"]).await;
            }
            _ => execute_all(manager, &[&ROLLUP.drop(backend)]).await?,
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
