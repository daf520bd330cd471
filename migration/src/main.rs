//! The `migrate` command for this application's migrations.

use std::process::ExitCode;

fn main() -> ExitCode {
    migration_engine::cli::main::<migration::Migrator>(env!("CARGO_MANIFEST_DIR"))
}
