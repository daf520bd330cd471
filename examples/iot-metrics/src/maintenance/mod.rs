//! The `maintenance` set: the scheduled jobs that keep partitions ready, drop expired ones and
//! roll measurements up, in the application database.
//!
//! - PostgreSQL: runs on the server's `postgres` database, because pg_cron can only be created
//!   in the database its `cron.database_name` setting names (`postgres` by default), and only
//!   where the server preloads it (`shared_preload_libraries`). It enables pg_cron there and
//!   schedules the jobs with `cron.schedule_in_database` into the database the `foundational`
//!   set runs on. Every statement checks for pg_cron in SQL, so on a server without it the set
//!   applies, changes nothing, and renders the same SQL as anywhere else.
//! - MariaDB/MySQL: runs on the application database itself, where the jobs are EVENTs. They
//!   fire only while the server's `event_scheduler` is `ON`, which is server configuration, not
//!   a migration's.
//! - SQLite: nothing; it has no scheduler, and the application runs its own maintenance.

use sea_orm_migration::prelude::*;

mod m20250305_000001_enable_pg_cron;
mod m20250305_000002_schedule_maintenance_jobs;
mod m20250305_000003_schedule_ess_signals_jobs;

/// The maintenance set's migrations, oldest first.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20250305_000001_enable_pg_cron::Migration),
            Box::new(m20250305_000002_schedule_maintenance_jobs::Migration),
            Box::new(m20250305_000003_schedule_ess_signals_jobs::Migration),
        ]
    }
}
