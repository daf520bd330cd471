//! pg_cron, where it can exist: on a server that preloads it, in the database its
//! `cron.database_name` names. Anywhere else (another database of that server, a server
//! without it) the statement does nothing, so one migration fits every server.
//!
//! `down` drops the extension only when no jobs are left in it: jobs of other applications on
//! the same server would go with it, and a pg_cron that still holds some was not this set's
//! alone.
//!
//! MariaDB/MySQL: nothing; events need no extension, only the server's `event_scheduler`.
//! SQLite: nothing.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

use crate::support::execute_all;

const ENABLE: &str = r#"
DO $$
BEGIN
    IF current_setting('shared_preload_libraries', true) LIKE '%pg_cron%'
       AND current_database() = current_setting('cron.database_name', true) THEN
        CREATE EXTENSION IF NOT EXISTS pg_cron;
    END IF;
END
$$"#;

// The tests are nested: an IF's condition is planned as a whole, and `cron.job` does not exist
// without the extension.
const DISABLE: &str = r#"
DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_extension WHERE extname = 'pg_cron') THEN
        IF NOT EXISTS (SELECT FROM cron.job) THEN
            DROP EXTENSION pg_cron;
        END IF;
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
        execute_all(manager, &[ENABLE]).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        execute_all(manager, &[DISABLE]).await
    }
}
