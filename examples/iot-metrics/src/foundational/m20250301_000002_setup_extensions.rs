//! pg_partman, in its own schema `partman`, where the server has it.
//!
//! It is optional: the `timeseries` set creates and drops partitions with its own functions
//! when pg_partman is absent, so the check is in SQL (`pg_available_extensions`) and the
//! statement is the same on every server. Setting `iot_metrics.use_partman` to `off` (for
//! example `ALTER DATABASE app SET iot_metrics.use_partman = off`) opts out where it is
//! installed. Its SQL functions need no `shared_preload_libraries`; only its background worker
//! does, which this project does not use (pg_cron runs the maintenance instead).
//!
//! MariaDB/MySQL and SQLite have no extensions: nothing to do.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

use crate::support::execute_all;

const CREATE_PARTMAN: &str = r#"
DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_available_extensions WHERE name = 'pg_partman')
       AND coalesce(current_setting('iot_metrics.use_partman', true), '') <> 'off' THEN
        CREATE SCHEMA IF NOT EXISTS partman;
        CREATE EXTENSION IF NOT EXISTS pg_partman SCHEMA partman;
    END IF;
END
$$"#;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        execute_all(manager, &[CREATE_PARTMAN]).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        execute_all(
            manager,
            &[
                "DROP EXTENSION IF EXISTS pg_partman",
                "DROP SCHEMA IF EXISTS partman",
            ],
        )
        .await
    }
}
