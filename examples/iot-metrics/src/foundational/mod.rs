//! The `foundational` set: what every other set of the application database stands on.
//!
//! - PostgreSQL: the schemas `timeseries` and `payload`; pg_partman in the schema `partman`
//!   where the server has it; the group roles `<database>_writer` and `<database>_reader`; their
//!   grants on the schemas and on every table created in them later.
//! - MariaDB/MySQL: the roles and their grants on the database. There are no schemas to create
//!   (a schema is a database; later sets prefix their table names instead) and no extensions.
//! - SQLite: nothing; it has no schemas, extensions, roles or grants.

use sea_orm_migration::prelude::*;

mod m20250301_000001_create_schemas;
mod m20250301_000002_setup_extensions;
mod m20250301_000003_create_roles;
mod m20250301_000004_grant_permissions;

/// The foundational set's migrations, oldest first.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20250301_000001_create_schemas::Migration),
            Box::new(m20250301_000002_setup_extensions::Migration),
            Box::new(m20250301_000003_create_roles::Migration),
            Box::new(m20250301_000004_grant_permissions::Migration),
        ]
    }
}
