//! The `seed` command: `seed [PROFILE]`, `seed truncate`, `seed status`.

use std::process::ExitCode;

fn main() -> ExitCode {
    seeds::cli::main::<migration::Migrator>()
}
