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

use crate::support::{execute_all, pass_app_database};

const SCHEDULE: &str = r#"
DO $$
DECLARE
    app text := nullif(current_setting('iot_metrics.app_database', true), '');
BEGIN
    IF NOT EXISTS (SELECT FROM pg_extension WHERE extname = 'pg_cron') THEN
        RETURN;
    END IF;
    IF app IS NULL THEN
        RAISE EXCEPTION 'no application database to schedule the iot-metrics jobs in'
            USING HINT = 'Run the sets with their migrate command, or set iot_metrics.app_database '
                         '(ALTER DATABASE postgres SET iot_metrics.app_database = ''iot'').';
    END IF;
    IF EXISTS (SELECT FROM cron.job WHERE username = current_user
               AND jobname = 'ess_signals_rollup' AND database <> app) THEN
        RAISE EXCEPTION 'the iot-metrics jobs already run in another database than %', app
            USING HINT = 'pg_cron keeps one job per name and user, and would leave them there: '
                         'revert the maintenance set of that application database first.';
    END IF;
    PERFORM cron.schedule_in_database('ess_signals_rollup', '*/15 * * * *',
                                      'SELECT payload.rollup_ess_signals()', app);
END
$$"#;

const UNSCHEDULE: &str = r#"
DO $$
DECLARE
    app text := nullif(current_setting('iot_metrics.app_database', true), '');
BEGIN
    IF EXISTS (SELECT FROM pg_extension WHERE extname = 'pg_cron') THEN
        PERFORM cron.unschedule(jobname) FROM cron.job
        WHERE username = current_user AND jobname = 'ess_signals_rollup'
          AND (app IS NULL OR database = app);
    END IF;
END
$$"#;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        match manager.get_database_backend() {
            DbBackend::Postgres => {
                pass_app_database(manager).await?;
                execute_all(manager, &[SCHEDULE]).await
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
                execute_all(manager, &[UNSCHEDULE]).await
            }
            DbBackend::MySql => execute_all(manager, &["DROP EVENT ess_signals_rollup"]).await,
            _ => Ok(()),
        }
    }
}
