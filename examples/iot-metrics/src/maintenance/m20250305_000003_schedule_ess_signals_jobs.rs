//! The `ess_signals` set's job, in the application database: `ess_signals_rollup`, every 15
//! minutes, `payload.rollup_ess_signals()`.
//!
//! A deployment without the `ess_signals` set still gets the job; its runs fail (pg_cron
//! records each in `cron.job_run_details`) until that set is applied.
//!
//! - PostgreSQL: a pg_cron job, scheduled and unscheduled as in the previous migration;
//!   nothing where pg_cron is absent.
//! - MariaDB/MySQL: an event calling `payload_rollup_ess_signals`.
//! - SQLite: nothing.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

use crate::support::{CronJob, execute_all, pass_app_database, schedule_jobs, unschedule_jobs};

/// The pg_cron job, in the application database.
const JOBS: &[CronJob] = &[(
    "ess_signals_rollup",
    "*/15 * * * *",
    "SELECT payload.rollup_ess_signals()",
)];

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
            DbBackend::MySql => {
                execute_all(
                    manager,
                    &[
                        "CREATE EVENT ess_signals_rollup ON SCHEDULE EVERY 15 MINUTE \
                       DO CALL payload_rollup_ess_signals(NULL)",
                    ],
                )
                .await
            }
            _ => Ok(()),
        }
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        match manager.get_database_backend() {
            DbBackend::Postgres => {
                pass_app_database(manager).await?;
                execute_all(manager, &[&unschedule_jobs(JOBS)]).await
            }
            DbBackend::MySql => execute_all(manager, &["DROP EVENT ess_signals_rollup"]).await,
            _ => Ok(()),
        }
    }
}
