//! The dimensions of `ess_summary`: portfolios (`ess_portfolios`), the sites each groups
//! (`ess_portfolio_sites`), and the track table's record that `site_id` and `ess_id` identify
//! a series, sites being described by the portfolio membership.
//!
//! PostgreSQL: `payload.ess_portfolios`, `payload.ess_portfolio_sites`; MariaDB/MySQL and
//! SQLite: `payload_ess_portfolios`, `payload_ess_portfolio_sites`.

use sea_orm_migration::prelude::*;

use super::m20250304_000001_create_ess_summary::ESS_SUMMARY;
use crate::support::{Dimension, add_dimensions, key, remove_dimensions, table};

const DIMENSIONS: &[Dimension] = &[
    ("site_id", Some(("payload", "ess_portfolio_sites"))),
    ("ess_id", None),
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
                    .table(table(backend, "payload", "ess_portfolios"))
                    .col(key("portfolio_id").primary_key())
                    .col(ColumnDef::new("name").string_len(200).not_null())
                    .col(ColumnDef::new("owner").string_len(200).null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(table(backend, "payload", "ess_portfolio_sites"))
                    .col(key("portfolio_id"))
                    .col(key("site_id"))
                    .primary_key(Index::create().col("portfolio_id").col("site_id"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_ess_portfolio_sites_portfolio_id")
                            .from(
                                table(backend, "payload", "ess_portfolio_sites"),
                                "portfolio_id",
                            )
                            .to(table(backend, "payload", "ess_portfolios"), "portfolio_id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_ess_portfolio_sites_site_id")
                    .table(table(backend, "payload", "ess_portfolio_sites"))
                    .col("site_id")
                    .to_owned(),
            )
            .await?;
        add_dimensions(manager, &ESS_SUMMARY, DIMENSIONS).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        remove_dimensions(manager, &ESS_SUMMARY, DIMENSIONS).await?;
        for name in ["ess_portfolio_sites", "ess_portfolios"] {
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
