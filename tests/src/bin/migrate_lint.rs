//! A `migrate` command line whose second migration renames a column of the table the first one
//! creates: what the tests of `migrate lint` and `up --lint` run to see a refusal.

use sea_orm_migration::prelude::*;
use std::process::ExitCode;

/// The table, then the rename.
struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        tests::lint_corpus::renaming()
    }
}

fn main() -> ExitCode {
    migration_engine::cli::main::<Migrator>(env!("CARGO_MANIFEST_DIR"))
}
