//! The `timeseries` set's jobs, in the application database:
//!
//! | job | when | what |
//! |---|---|---|
//! | `iot_partition_maintenance` | every hour, at :07 | `timeseries.run_maintenance()` |
//! | `iot_retention` | daily, 03:17 | `timeseries.run_retention()` |
//! | `iot_rollup` | every 5 minutes | `timeseries.perform_rollup()` |
//!
//! - PostgreSQL: pg_cron jobs, scheduled with `cron.schedule_in_database` into the database
//!   of the `foundational` set (see [`crate::support::pass_app_database`]) and unscheduled by
//!   name in `down`; nothing where pg_cron is absent. pg_cron keeps one job per name and user
//!   and leaves an existing one where it is, so `up` refuses while these jobs run in another
//!   application database, and `down` unschedules only those of this one.
//! - MariaDB/MySQL: events of the same names calling the `timeseries_*` procedures.
//! - SQLite: nothing.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

use crate::support::{CronJob, execute_all, pass_app_database, schedule_jobs, unschedule_jobs};

/// The pg_cron jobs, in the application database.
const JOBS: &[CronJob] = &[
    (
        "iot_partition_maintenance",
        "7 * * * *",
        "SELECT timeseries.run_maintenance()",
    ),
    (
        "iot_retention",
        "17 3 * * *",
        "SELECT timeseries.run_retention()",
    ),
    (
        "iot_rollup",
        "*/5 * * * *",
        "SELECT timeseries.perform_rollup()",
    ),
];

const MYSQL_UP: &[&str] = &[
    "CREATE EVENT iot_partition_maintenance ON SCHEDULE EVERY 1 HOUR \
     DO CALL timeseries_run_maintenance()",
    "CREATE EVENT iot_retention ON SCHEDULE EVERY 1 DAY DO CALL timeseries_run_retention(NULL)",
    "CREATE EVENT iot_rollup ON SCHEDULE EVERY 5 MINUTE DO CALL timeseries_perform_rollup(NULL)",
];

const MYSQL_DOWN: &[&str] = &[
    "DROP EVENT iot_rollup",
    "DROP EVENT iot_retention",
    "DROP EVENT iot_partition_maintenance",
];

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        match manager.get_database_backend() {
            DbBackend::Postgres => {
                pass_app_database(manager).await?;
                execute_all(manager, &[&schedule_jobs(JOBS)]).await
            }
            DbBackend::MySql => execute_all(manager, MYSQL_UP).await,
            _ => Ok(()),
        }
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        match manager.get_database_backend() {
            DbBackend::Postgres => {
                pass_app_database(manager).await?;
                execute_all(manager, &[&unschedule_jobs(JOBS)]).await
            }
            DbBackend::MySql => execute_all(manager, MYSQL_DOWN).await,
            _ => Ok(()),
        }
    }
}
