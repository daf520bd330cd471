//! A `migrate` command line whose third migration panics after its first statement: what the
//! CLI tests run to see a panic reported as one line, with the database left as any failure
//! leaves it and the lock released.

use sea_orm_migration::prelude::*;
use std::process::ExitCode;

/// Two data migrations, then the one that panics.
struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        tests::data::panicking()
    }
}

fn main() -> ExitCode {
    migration_engine::cli::main::<Migrator>(env!("CARGO_MANIFEST_DIR"))
}
