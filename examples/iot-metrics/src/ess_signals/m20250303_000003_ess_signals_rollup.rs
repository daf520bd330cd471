//! The hourly roll-up of ESS signals per site, unit and hour: samples, state of charge
//! (mean, minimum, maximum) and the energy charged and discharged, taken as the mean charging
//! and discharging power over the hour times one hour (which assumes evenly spaced samples).
//!
//! - PostgreSQL: `payload.ess_signals_hourly` and `payload.rollup_ess_signals(from)`, which
//!   works like `timeseries.perform_rollup` (idempotent, from the hour of its watermark in
//!   `timeseries.rollup_watermarks`, serialised by an advisory lock).
//! - MariaDB/MySQL: `payload_ess_signals_hourly` and the procedure
//!   `payload_rollup_ess_signals(from)`.
//! - SQLite: a view `payload_ess_signals_hourly`, computed on read.
//!
//! `down` also removes this roll-up's watermark row, which its `up` did not write but its
//! function did: the next `up` starts from scratch again.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

use super::m20250303_000001_create_ess_signals::ESS_SIGNALS;
use crate::support::{Rollup, execute_all, key, number, table, timestamp};

/// What the roll-up aggregates on PostgreSQL.
const POSTGRES_AGGREGATE: &str = r#"    INSERT INTO payload.ess_signals_hourly
        (site_id, ess_id, bucket, sample_count, soc_avg, soc_min, soc_max,
         energy_charged_kwh, energy_discharged_kwh)
    SELECT site_id, ess_id, date_trunc('hour', ts, 'UTC'), count(*),
           avg(soc), min(soc), max(soc),
           avg(greatest(-power_kw, 0)), avg(greatest(power_kw, 0))
    FROM payload.ess_signals
    WHERE ts >= v_from
    GROUP BY 1, 2, 3
    ON CONFLICT (site_id, ess_id, bucket) DO UPDATE
        SET sample_count = EXCLUDED.sample_count, soc_avg = EXCLUDED.soc_avg,
            soc_min = EXCLUDED.soc_min, soc_max = EXCLUDED.soc_max,
            energy_charged_kwh = EXCLUDED.energy_charged_kwh,
            energy_discharged_kwh = EXCLUDED.energy_discharged_kwh;"#;

/// What the roll-up aggregates on MariaDB/MySQL.
const MYSQL_AGGREGATE: &str = r#"    INSERT INTO payload_ess_signals_hourly
        (site_id, ess_id, bucket, sample_count, soc_avg, soc_min, soc_max,
         energy_charged_kwh, energy_discharged_kwh)
    SELECT site_id, ess_id, DATE_FORMAT(ts, '%Y-%m-%d %H:00:00'), COUNT(*),
           AVG(soc), MIN(soc), MAX(soc),
           AVG(GREATEST(-power_kw, 0)), AVG(GREATEST(power_kw, 0))
    FROM payload_ess_signals
    WHERE ts >= v_from
    GROUP BY site_id, ess_id, DATE_FORMAT(ts, '%Y-%m-%d %H:00:00')
    ON DUPLICATE KEY UPDATE sample_count = VALUES(sample_count), soc_avg = VALUES(soc_avg),
        soc_min = VALUES(soc_min), soc_max = VALUES(soc_max),
        energy_charged_kwh = VALUES(energy_charged_kwh),
        energy_discharged_kwh = VALUES(energy_discharged_kwh);"#;

/// The roll-up routine, on PostgreSQL and MariaDB/MySQL.
const ROLLUP: Rollup = Rollup {
    routine: ("payload", "rollup_ess_signals"),
    source: ("payload", "ess_signals"),
    postgres_aggregate: POSTGRES_AGGREGATE,
    mysql_aggregate: MYSQL_AGGREGATE,
};

const SQLITE_VIEW: &str = r#"CREATE VIEW payload_ess_signals_hourly AS
SELECT site_id, ess_id, strftime('%Y-%m-%dT%H:00:00+00:00', ts) AS bucket,
       COUNT(*) AS sample_count, AVG(soc) AS soc_avg, MIN(soc) AS soc_min, MAX(soc) AS soc_max,
       AVG(MAX(-power_kw, 0)) AS energy_charged_kwh,
       AVG(MAX(power_kw, 0)) AS energy_discharged_kwh
FROM payload_ess_signals
GROUP BY site_id, ess_id, strftime('%Y-%m-%dT%H:00:00+00:00', ts)"#;

/// `ess_signals_hourly`: one row per site, unit and hour.
fn hourly_table(backend: DbBackend) -> TableCreateStatement {
    Table::create()
        .table(table(backend, "payload", "ess_signals_hourly"))
        .col(key("site_id"))
        .col(key("ess_id"))
        .col(timestamp(backend, "bucket"))
        .col(ColumnDef::new("sample_count").big_integer().not_null())
        .col(number("soc_avg"))
        .col(number("soc_min"))
        .col(number("soc_max"))
        .col(number("energy_charged_kwh"))
        .col(number("energy_discharged_kwh"))
        .primary_key(Index::create().col("site_id").col("ess_id").col("bucket"))
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
        manager.create_table(hourly_table(backend)).await?;
        execute_all(manager, &[&ROLLUP.create(backend)]).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        match backend {
            DbBackend::Sqlite => {
                return execute_all(manager, &["DROP VIEW payload_ess_signals_hourly"]).await;
            }
            _ => execute_all(manager, &[&ROLLUP.drop(backend)]).await?,
        }
        let forget = Query::delete()
            .from_table(table(backend, "timeseries", "rollup_watermarks"))
            .and_where(Expr::col("source_table").eq(ESS_SIGNALS.registered_name(backend)))
            .to_owned();
        manager.get_connection().execute(&forget).await?;
        manager
            .drop_table(
                Table::drop()
                    .table(table(backend, "payload", "ess_signals_hourly"))
                    .to_owned(),
            )
            .await
    }
}
