//! The schemas the pipeline's objects live in: `timeseries` (measurements, roll-ups and the
//! partitioning machinery) and `payload` (the tables of each kind of device payload).
//!
//! PostgreSQL only. On MariaDB a schema is a database, which the migration (running inside the
//! application database) cannot put objects in for the later sets, and SQLite has no schemas:
//! there the later sets prefix their table names with the schema's name instead.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

use crate::support::execute_all;

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
            &["CREATE SCHEMA timeseries", "CREATE SCHEMA payload"],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        // Without CASCADE: a schema that still holds something means a later set's `down` has
        // not run, and dropping its objects here would hide that.
        execute_all(manager, &["DROP SCHEMA payload", "DROP SCHEMA timeseries"]).await
    }
}
