//! A service that migrates its PostgreSQL database when it starts, depending on the engine with
//! `default-features = false, features = ["postgres"]`: no command line, no prompts, no tables,
//! no `.env` reader, no log subscriber and no MySQL or SQLite driver are compiled in.
//!
//! ```ignore
//! let db = sea_orm::Database::connect(&url).await?;
//! embedded::migrate(&db).await?; // every replica calls this; one applies, the rest wait
//! ```

use migration_engine::{EngineError, MigrationSet, RunReport, StartupOptions, run_pending};
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseConnection;

/// The service's migrations, oldest first.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20260101_000001_create_notes::Migration),
            Box::new(m20260101_000002_index_notes::Migration),
        ]
    }
}

/// Applies whatever is pending under the migration lock, configured from `MIGRATION_TABLE`,
/// `MIGRATION_SCHEMA` and `MIGRATION_LOCK_TIMEOUT`.
///
/// # Errors
/// What [`run_pending`] refuses or fails with, and [`EngineError::Config`] for a bad variable.
pub async fn migrate(db: &DatabaseConnection) -> Result<RunReport, EngineError> {
    let set = MigrationSet::from_migrator::<Migrator>()?;
    run_pending(db, &set, &StartupOptions::from_env()?).await
}

/// The lint rules its migrations allow on purpose (each one's `LINT_ALLOW`), by module name,
/// for `migration_engine::lint::lint`.
pub fn lint_allowances() -> Vec<(String, Vec<(String, String)>)> {
    let allow = |rules: &[(&str, &str)]| -> Vec<(String, String)> {
        rules
            .iter()
            .map(|(rule, reason)| ((*rule).to_owned(), (*reason).to_owned()))
            .collect()
    };
    vec![(
        "m20260101_000002_index_notes".to_owned(),
        allow(m20260101_000002_index_notes::LINT_ALLOW),
    )]
}

/// The table of notes.
pub mod m20260101_000001_create_notes;

/// Notes are listed newest first.
pub mod m20260101_000002_index_notes;
