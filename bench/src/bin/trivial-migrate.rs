//! The `migrate` command line over `BENCH_TRIVIAL=N` generated migrations.

use bench::trivial::Trivial;
use std::process::ExitCode;

fn main() -> ExitCode {
    migration_engine::cli::main::<Trivial>(env!("CARGO_MANIFEST_DIR"))
}
