//! The `migrate` command for the IoT metrics pipeline's five sets: every command of the
//! engine's, across the sets in their order (`--set NAME` for some of them).

use std::process::ExitCode;

fn main() -> ExitCode {
    migration_engine::cli::run_sets(iot_metrics::sets(env!("CARGO_MANIFEST_DIR")))
}
