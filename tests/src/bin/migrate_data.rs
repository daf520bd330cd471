//! A `migrate` command line over the data migrations of [`tests::data`]: ActiveModel inserts,
//! updates and deletes, reads that decide what runs, nested and manual transactions. It is the
//! engine's command line unchanged, as a project's `main.rs` has it.

use sea_orm_migration::prelude::*;
use std::process::ExitCode;

/// The data migrations, in order.
struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        tests::data::migrations()
    }
}

fn main() -> ExitCode {
    migration_engine::cli::main::<Migrator>(env!("CARGO_MANIFEST_DIR"))
}
