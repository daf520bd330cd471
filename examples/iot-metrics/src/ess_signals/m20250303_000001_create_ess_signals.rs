//! `ess_signals`: one row per ESS and instant, partitioned by day like the measurements and
//! kept for 30 days. `power_kw` is positive while discharging and negative while charging;
//! `soc` is the state of charge in percent.
//!
//! PostgreSQL: `payload.ess_signals`; MariaDB/MySQL: `payload_ess_signals`, partitioned by
//! `TO_DAYS(ts)`; SQLite: a plain `payload_ess_signals`. Each registered in the track table.
//!
//! No foreign key to the units: devices report before anyone registers them, and a foreign
//! key on a partitioned table of this volume costs every insert a lookup.

use sea_orm_migration::prelude::*;

use crate::support::{
    Partitioning, key, number, optional_number, partitioned_by_ts, register, table, timestamp,
    unregister,
};

/// How `ess_signals` is partitioned; the dimensions migration registers its columns.
pub(crate) const ESS_SIGNALS: Partitioning = Partitioning {
    schema: "payload",
    table: "ess_signals",
    column: "ts",
    interval: "1 day",
    premake: 4,
    retention_days: 30,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        let mut create = Table::create()
            .table(table(backend, "payload", "ess_signals"))
            .col(key("site_id"))
            .col(key("ess_id"))
            .col(timestamp(backend, "ts"))
            .col(number("soc"))
            .col(number("power_kw"))
            .col(optional_number("voltage_v"))
            .col(optional_number("current_a"))
            .col(optional_number("temperature_c"))
            .primary_key(Index::create().col("site_id").col("ess_id").col("ts"))
            .check(Expr::col("soc").between(0, 100))
            .to_owned();
        if let Some(partitioning) = partitioned_by_ts(backend) {
            create.extra(partitioning);
        }
        manager.create_table(create).await?;
        register(manager, &ESS_SIGNALS).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        unregister(manager, &ESS_SIGNALS).await?;
        manager
            .drop_table(
                Table::drop()
                    .table(table(backend, "payload", "ess_signals"))
                    .to_owned(),
            )
            .await
    }
}
