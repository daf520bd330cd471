//! # iot-metrics
//!
//! The schema of an IoT metrics pipeline, ported from Flyway to five migration sets of the
//! engine, on two databases of one PostgreSQL server (or one MariaDB/MySQL or SQLite database):
//!
//! | set | needs | runs on | holds |
//! |---|---|---|---|
//! | [`maintenance`] | — | PostgreSQL: the `postgres` database; elsewhere the application's | pg_cron and its jobs (MariaDB: events) |
//! | [`foundational`] | — | the application database | schemas, extensions, roles, grants |
//! | [`timeseries`] | `foundational` | the application database | measurements, partitioning, roll-up, maintenance functions |
//! | [`ess_signals`] | `timeseries` | the application database | ESS signals, their sites and units, their roll-up |
//! | [`ess_summary`] | `timeseries` | the application database | ESS summaries and their portfolios |
//!
//! [`sets`] declares them for the engine; the `migrate` binary runs them. Each set's module
//! says what each backend gets; the README has the whole picture and the commands.

mod support;

pub mod ess_signals;
pub mod ess_summary;
pub mod foundational;
pub mod maintenance;
pub mod timeseries;

use migration_engine::{Project, SetDatabase};

/// The project's five sets, as the engine runs them: each with its name, the sets it needs,
/// where it runs, and the folder `migrate create --set NAME` writes new migrations into.
/// `crate_dir` is the crate's own directory (`env!("CARGO_MANIFEST_DIR")`).
///
/// `maintenance` runs on PostgreSQL's `postgres` database of `DATABASE_URL`'s server (pg_cron
/// lives there), elsewhere on `DATABASE_URL` itself; `MAINTENANCE_DATABASE_URL` overrides it.
/// The others run on `DATABASE_URL`.
pub fn sets(crate_dir: &str) -> Vec<Project> {
    vec![
        Project::new::<maintenance::Migrator>(crate_dir)
            .named("maintenance")
            .database(SetDatabase::PostgresDatabase("postgres"))
            .source_dir("src/maintenance"),
        Project::new::<foundational::Migrator>(crate_dir)
            .named("foundational")
            .source_dir("src/foundational"),
        Project::new::<timeseries::Migrator>(crate_dir)
            .named("timeseries")
            .needs("foundational")
            .source_dir("src/timeseries"),
        Project::new::<ess_signals::Migrator>(crate_dir)
            .named("ess_signals")
            .needs("timeseries")
            .source_dir("src/ess_signals"),
        Project::new::<ess_summary::Migrator>(crate_dir)
            .named("ess_summary")
            .needs("timeseries")
            .source_dir("src/ess_summary"),
    ]
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use migration_engine::Sets;

    #[test]
    fn the_sets_load_in_declared_order_each_after_the_sets_it_needs() {
        let sets = Sets::new(sets(env!("CARGO_MANIFEST_DIR"))).load().unwrap();
        let order: Vec<&str> = sets.named().iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            order,
            [
                "maintenance",
                "foundational",
                "timeseries",
                "ess_signals",
                "ess_summary"
            ]
        );
        let maintenance = sets.get("maintenance").unwrap();
        assert_eq!(
            maintenance.database,
            SetDatabase::PostgresDatabase("postgres")
        );
    }
}
