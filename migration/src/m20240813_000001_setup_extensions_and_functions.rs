//! Extensions and functions the rest of the schema relies on.
//!
//! - PostgreSQL: `pgcrypto` (`gen_random_uuid()` for public booking references on servers
//!   older than 13, where it is not built in), `btree_gist` (the exclusion constraint that keeps
//!   a resource's timeslots from overlapping mixes `=` on a bigint with `&&` on a range), and
//!   `set_updated_at()`, the trigger function that keeps every `updated_at` current.
//! - MariaDB/MySQL: nothing. `updated_at` columns are declared `ON UPDATE CURRENT_TIMESTAMP`.
//! - SQLite: nothing. It has no extensions or stored functions; each table gets its own
//!   `updated_at` trigger instead.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

use crate::support::execute_all;

/// The first migration depends on nothing.
pub const DEPENDS_ON: &[&str] = &[];

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        execute_all(
            manager,
            &[
                "CREATE EXTENSION IF NOT EXISTS pgcrypto".to_owned(),
                "CREATE EXTENSION IF NOT EXISTS btree_gist".to_owned(),
                // An update that sets updated_at itself keeps its value, as MariaDB's
                // ON UPDATE CURRENT_TIMESTAMP and the SQLite triggers do.
                "CREATE FUNCTION set_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$ \
                 BEGIN \
                 IF NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at THEN \
                 NEW.updated_at := now(); \
                 END IF; \
                 RETURN NEW; \
                 END $$"
                    .to_owned(),
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        execute_all(
            manager,
            &[
                "DROP FUNCTION set_updated_at()".to_owned(),
                "DROP EXTENSION IF EXISTS btree_gist".to_owned(),
                "DROP EXTENSION IF EXISTS pgcrypto".to_owned(),
            ],
        )
        .await
    }
}
