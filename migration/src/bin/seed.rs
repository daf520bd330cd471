//! The `seed` command for this application's migrations: `seed [PROFILE]`, `seed truncate`,
//! `seed status` (see the seeds crate).

use std::process::ExitCode;

fn main() -> ExitCode {
    seeds::cli::main::<migration::Migrator>()
}
