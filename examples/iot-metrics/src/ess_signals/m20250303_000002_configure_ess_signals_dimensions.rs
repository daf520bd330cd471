//! The dimensions of `ess_signals`: the sites (`ess_sites`) and the storage units at each
//! (`ess_units`), and the track table's record that `site_id` and `ess_id` identify a series
//! and which table describes each.
//!
//! PostgreSQL: `payload.ess_sites`, `payload.ess_units`; MariaDB/MySQL and SQLite:
//! `payload_ess_sites`, `payload_ess_units`.

use sea_orm_migration::prelude::*;

use super::m20250303_000001_create_ess_signals::ESS_SIGNALS;
use crate::support::{Dimension, add_dimensions, key, number, remove_dimensions, table};

const DIMENSIONS: &[Dimension] = &[
    ("site_id", Some(("payload", "ess_sites"))),
    ("ess_id", Some(("payload", "ess_units"))),
];

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        manager
            .create_table(
                Table::create()
                    .table(table(backend, "payload", "ess_sites"))
                    .col(key("site_id").primary_key())
                    .col(ColumnDef::new("name").string_len(200).not_null())
                    .col(
                        ColumnDef::new("timezone")
                            .string_len(64)
                            .not_null()
                            .default("UTC"),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(table(backend, "payload", "ess_units"))
                    .col(key("ess_id").primary_key())
                    .col(key("site_id"))
                    .col(ColumnDef::new("model").string_len(100).null())
                    .col(number("rated_power_kw"))
                    .col(number("rated_energy_kwh"))
                    .col(ColumnDef::new("commissioned_on").date().null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_ess_units_site_id")
                            .from(table(backend, "payload", "ess_units"), "site_id")
                            .to(table(backend, "payload", "ess_sites"), "site_id")
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_ess_units_site_id")
                    .table(table(backend, "payload", "ess_units"))
                    .col("site_id")
                    .to_owned(),
            )
            .await?;
        add_dimensions(manager, &ESS_SIGNALS, DIMENSIONS).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        remove_dimensions(manager, &ESS_SIGNALS, DIMENSIONS).await?;
        // Dropping the table drops its index with it on every backend.
        for name in ["ess_units", "ess_sites"] {
            manager
                .drop_table(
                    Table::drop()
                        .table(table(backend, "payload", name))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
