//! `ess_summary`: one row per ESS and reported period (a day, usually), partitioned by month on
//! `period_start` and kept for two years.
//!
//! PostgreSQL: `payload.ess_summary`, `PARTITION BY RANGE (period_start)`, three monthly
//! partitions on either side of this month plus a DEFAULT partition; MariaDB/MySQL:
//! `payload_ess_summary`, `PARTITION BY RANGE (TO_DAYS(period_start))` in months plus `p_max`;
//! SQLite: a plain `payload_ess_summary`.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

use crate::support::{
    Partitioning, key, number, optional_number, register, table, timestamp, unregister,
};

/// How `ess_summary` is partitioned; the dimensions migration registers its columns.
pub(crate) const ESS_SUMMARY: Partitioning = Partitioning {
    schema: "payload",
    table: "ess_summary",
    column: "period_start",
    interval: "1 month",
    premake: 3,
    retention_days: 730,
};

/// The partitioning clause of `ess_summary`, per backend.
fn partitioned_by_period(backend: DbBackend) -> Option<&'static str> {
    match backend {
        DbBackend::Postgres => Some("PARTITION BY RANGE (period_start)"),
        DbBackend::MySql => Some(
            "PARTITION BY RANGE (TO_DAYS(period_start)) \
             (PARTITION p_max VALUES LESS THAN MAXVALUE)",
        ),
        _ => None,
    }
}

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        let mut create = Table::create()
            .table(table(backend, "payload", "ess_summary"))
            .col(key("site_id"))
            .col(key("ess_id"))
            .col(timestamp(backend, "period_start"))
            .col(timestamp(backend, "period_end"))
            .col(number("energy_charged_kwh"))
            .col(number("energy_discharged_kwh"))
            .col(number("equivalent_full_cycles"))
            .col(optional_number("soc_min"))
            .col(optional_number("soc_max"))
            .col(optional_number("state_of_health_pct"))
            .col(optional_number("availability_pct"))
            .primary_key(
                Index::create()
                    .col("site_id")
                    .col("ess_id")
                    .col("period_start"),
            )
            .check(Expr::col("period_end").gt(Expr::col("period_start")))
            .to_owned();
        if let Some(partitioning) = partitioned_by_period(backend) {
            create.extra(partitioning);
        }
        manager.create_table(create).await?;
        register(manager, &ESS_SUMMARY).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        unregister(manager, &ESS_SUMMARY).await?;
        manager
            .drop_table(
                Table::drop()
                    .table(table(backend, "payload", "ess_summary"))
                    .to_owned(),
            )
            .await
    }
}
