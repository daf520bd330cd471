//! Two group roles for the pipeline: `<database>_writer` (its ingest services) and
//! `<database>_reader` (dashboards, read-only). Login users get them with
//! `GRANT <database>_writer TO ingest_user`, which is the operators' business, not a migration's.
//!
//! Roles are server-wide on PostgreSQL and MariaDB, but these are named after the database
//! (its first 56 characters, so the names stay within PostgreSQL's 63), so two application
//! databases on one server, or many test databases created in parallel, never share one. They
//! are created only when missing, so a database wiped and migrated again finds its own roles
//! again, and `down` drops them whoever created them: by their name they belong to this database.
//!
//! SQLite has no roles: nothing to do.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

use crate::support::{execute_all, with_role_names};

const POSTGRES_UP_BODY: &str = r#"    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = writer) THEN
        EXECUTE format('CREATE ROLE %I NOLOGIN', writer);
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = reader) THEN
        EXECUTE format('CREATE ROLE %I NOLOGIN', reader);
    END IF;"#;

const POSTGRES_DOWN: &str = r#"
DO $$
BEGIN
    EXECUTE format('DROP ROLE IF EXISTS %I', left(current_database(), 56) || '_reader');
    EXECUTE format('DROP ROLE IF EXISTS %I', left(current_database(), 56) || '_writer');
END
$$"#;

// MariaDB has `IF NOT EXISTS` for roles; the name is built from DATABASE() in SQL, quoted with
// backticks (doubled inside), and run with EXECUTE IMMEDIATE: one statement each, so nothing
// depends on staying on one connection of the pool.
const MYSQL_UP: &[&str] = &[
    "EXECUTE IMMEDIATE CONCAT('CREATE ROLE IF NOT EXISTS `', \
     REPLACE(LEFT(DATABASE(), 56), '`', '``'), '_writer`')",
    "EXECUTE IMMEDIATE CONCAT('CREATE ROLE IF NOT EXISTS `', \
     REPLACE(LEFT(DATABASE(), 56), '`', '``'), '_reader`')",
];

const MYSQL_DOWN: &[&str] = &[
    "EXECUTE IMMEDIATE CONCAT('DROP ROLE IF EXISTS `', \
     REPLACE(LEFT(DATABASE(), 56), '`', '``'), '_reader`')",
    "EXECUTE IMMEDIATE CONCAT('DROP ROLE IF EXISTS `', \
     REPLACE(LEFT(DATABASE(), 56), '`', '``'), '_writer`')",
];

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        match manager.get_database_backend() {
            DbBackend::Postgres => {
                execute_all(manager, &[&with_role_names(POSTGRES_UP_BODY)]).await
            }
            DbBackend::MySql => execute_all(manager, MYSQL_UP).await,
            _ => Ok(()),
        }
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        match manager.get_database_backend() {
            DbBackend::Postgres => execute_all(manager, &[POSTGRES_DOWN]).await,
            DbBackend::MySql => execute_all(manager, MYSQL_DOWN).await,
            _ => Ok(()),
        }
    }
}
