//! The `ess_signals` set (needs `timeseries`): the signals energy storage systems report
//! (state of charge, power, voltage, current, temperature), the sites and units they come
//! from, and their hourly roll-up.
//!
//! - PostgreSQL: `payload.ess_signals`, partitioned by day like `timeseries.measurements` and
//!   registered in the track table; `payload.ess_sites`, `payload.ess_units`;
//!   `payload.ess_signals_hourly` filled by `payload.rollup_ess_signals()`.
//! - MariaDB/MySQL: the same as `payload_*` tables and the procedure
//!   `payload_rollup_ess_signals`.
//! - SQLite: plain tables and a view `payload_ess_signals_hourly`.

use sea_orm_migration::prelude::*;

mod m20250303_000001_create_ess_signals;
mod m20250303_000002_configure_ess_signals_dimensions;
mod m20250303_000003_ess_signals_rollup;

/// The ESS signals set's migrations, oldest first.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20250303_000001_create_ess_signals::Migration),
            Box::new(m20250303_000002_configure_ess_signals_dimensions::Migration),
            Box::new(m20250303_000003_ess_signals_rollup::Migration),
        ]
    }
}
