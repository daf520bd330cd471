//! What the two roles may do.
//!
//! - PostgreSQL: both may connect and use the schemas `timeseries` and `payload`; through
//!   default privileges, every table the migrating user creates there later (partitions
//!   included) is readable by `<database>_reader` and writable by `<database>_writer`. Functions
//!   keep PostgreSQL's default, executable by everyone.
//! - MariaDB/MySQL: the same on the database: the writer may read, write and call the
//!   procedures, the reader may read. The database name is a pattern in GRANT (`_` and `%` are
//!   wildcards), so both are escaped: the grant names this database only.
//! - SQLite: nothing.
//!
//! `down` revokes exactly these grants, which leaves the roles without privileges, so that the
//! previous migration's `down` can drop them.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

use crate::support::{execute_all, with_role_names};

const POSTGRES_UP_BODY: &str = r#"    EXECUTE format('GRANT CONNECT ON DATABASE %I TO %I, %I', current_database(), writer, reader);
    EXECUTE format('GRANT USAGE ON SCHEMA timeseries, payload TO %I, %I', writer, reader);
    EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA timeseries, payload '
                   'GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO %I', writer);
    EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA timeseries, payload '
                   'GRANT SELECT ON TABLES TO %I', reader);"#;

const POSTGRES_DOWN_BODY: &str = r#"    EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA timeseries, payload '
                   'REVOKE SELECT ON TABLES FROM %I', reader);
    EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA timeseries, payload '
                   'REVOKE SELECT, INSERT, UPDATE, DELETE ON TABLES FROM %I', writer);
    EXECUTE format('REVOKE USAGE ON SCHEMA timeseries, payload FROM %I, %I', writer, reader);
    EXECUTE format('REVOKE CONNECT ON DATABASE %I FROM %I, %I', current_database(), writer, reader);"#;

// `db`.* with `\`, `_` and `%` escaped (so the grant is no pattern) and backticks doubled.
const MYSQL_UP: &[&str] = &[
    r"EXECUTE IMMEDIATE CONCAT('GRANT SELECT, INSERT, UPDATE, DELETE, EXECUTE ON `',
        REPLACE(REPLACE(REPLACE(REPLACE(DATABASE(), '\\', '\\\\'), '_', '\\_'), '%', '\\%'), '`', '``'),
        '`.* TO `', REPLACE(LEFT(DATABASE(), 56), '`', '``'), '_writer`')",
    r"EXECUTE IMMEDIATE CONCAT('GRANT SELECT ON `',
        REPLACE(REPLACE(REPLACE(REPLACE(DATABASE(), '\\', '\\\\'), '_', '\\_'), '%', '\\%'), '`', '``'),
        '`.* TO `', REPLACE(LEFT(DATABASE(), 56), '`', '``'), '_reader`')",
];

const MYSQL_DOWN: &[&str] = &[
    r"EXECUTE IMMEDIATE CONCAT('REVOKE SELECT ON `',
        REPLACE(REPLACE(REPLACE(REPLACE(DATABASE(), '\\', '\\\\'), '_', '\\_'), '%', '\\%'), '`', '``'),
        '`.* FROM `', REPLACE(LEFT(DATABASE(), 56), '`', '``'), '_reader`')",
    r"EXECUTE IMMEDIATE CONCAT('REVOKE SELECT, INSERT, UPDATE, DELETE, EXECUTE ON `',
        REPLACE(REPLACE(REPLACE(REPLACE(DATABASE(), '\\', '\\\\'), '_', '\\_'), '%', '\\%'), '`', '``'),
        '`.* FROM `', REPLACE(LEFT(DATABASE(), 56), '`', '``'), '_writer`')",
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
            DbBackend::Postgres => {
                execute_all(manager, &[&with_role_names(POSTGRES_DOWN_BODY)]).await
            }
            DbBackend::MySql => execute_all(manager, MYSQL_DOWN).await,
            _ => Ok(()),
        }
    }
}
