//! The `timeseries` set (needs `foundational`): measurements partitioned by time, the
//! machinery that keeps their partitions, and the hourly roll-up.
//!
//! - PostgreSQL: in the schema `timeseries`, `measurements` declaratively partitioned by day
//!   (pg_partman's `create_parent` where foundational installed it, else this set's own
//!   `create_partitions`, with a DEFAULT partition either way); the track table of partitioned
//!   tables with `register_table` / `unregister_table`; `measurements_rollup` filled by
//!   `perform_rollup()`; `run_maintenance()` and `run_retention(keep)` for the scheduled jobs.
//! - MariaDB/MySQL: the same as `timeseries_*` tables and procedures in the application
//!   database: `timeseries_measurements` partitioned by `RANGE (TO_DAYS(ts))` with a catch-all
//!   `p_max` partition, split into days by `timeseries_create_partitions`.
//! - SQLite: plain tables (`timeseries_measurements`, the track tables) and a view
//!   `timeseries_measurements_rollup` that aggregates on read. No partitions, no functions.

use sea_orm_migration::prelude::*;

mod m20250302_000001_core_functions;
mod m20250302_000002_track_tables;
mod m20250302_000003_create_measurements;
mod m20250302_000004_rollup;
mod m20250302_000005_maintenance;

/// The timeseries set's migrations, oldest first.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20250302_000001_core_functions::Migration),
            Box::new(m20250302_000002_track_tables::Migration),
            Box::new(m20250302_000003_create_measurements::Migration),
            Box::new(m20250302_000004_rollup::Migration),
            Box::new(m20250302_000005_maintenance::Migration),
        ]
    }
}
