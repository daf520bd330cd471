//! This application's migrations, in the order they run.
//!
//! Each migration lives in its own `mYYYYMMDD_HHMMSS_<name>.rs` module with an `up` and a
//! `down` that undoes exactly that `up`. `migrate create` and `sea-orm-cli migrate generate`
//! both edit this file, so keep one `mod` line per migration and the single list below, one
//! entry per line.

pub use sea_orm_migration::prelude::*;

mod m20240101_000001_create_accounts;
mod m20240101_000002_create_notes;
mod m20240101_000003_add_accounts_display_name;

/// The ordered list of this application's migrations, oldest first.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20240101_000001_create_accounts::Migration),
            Box::new(m20240101_000002_create_notes::Migration),
            Box::new(m20240101_000003_add_accounts_display_name::Migration),
        ]
    }
}
