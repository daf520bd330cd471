//! The `ess_summary` set (needs `timeseries`): the summaries energy storage systems report
//! per period (energy in and out, equivalent full cycles, state of charge range, health,
//! availability), and the portfolios that reports group sites into.
//!
//! - PostgreSQL: `payload.ess_summary`, partitioned by month on `period_start` and registered
//!   in the track table; `payload.ess_portfolios`, `payload.ess_portfolio_sites`.
//! - MariaDB/MySQL: the same as `payload_*` tables, partitioned by `TO_DAYS(period_start)`.
//! - SQLite: plain tables.
//!
//! It needs only `timeseries`, not `ess_signals`: a deployment may take either payload or both,
//! so it names its sites by id and keeps its own grouping of them.

use sea_orm_migration::prelude::*;

mod m20250304_000001_create_ess_summary;
mod m20250304_000002_configure_ess_summary_dimensions;

/// The ESS summary set's migrations, oldest first.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20250304_000001_create_ess_summary::Migration),
            Box::new(m20250304_000002_configure_ess_summary_dimensions::Migration),
        ]
    }
}
