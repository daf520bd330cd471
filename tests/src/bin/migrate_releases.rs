//! The reference migrations under a `migrate` command line that reads its releases from
//! `releases.toml` in the working directory instead of embedding them: what the release tests
//! run to see how a releases file that leaves migrations out is treated, with and without
//! `require_listed`.

use migration::Migrator;
use migration_engine::Project;
use std::process::ExitCode;

fn main() -> ExitCode {
    let releases = match std::fs::read_to_string("releases.toml") {
        Ok(text) => text,
        Err(e) => {
            eprintln!(
                "error: cannot read releases.toml in the working directory ({e}); write one there"
            );
            return ExitCode::from(2);
        }
    };
    let project = Project::new::<Migrator>(env!("CARGO_MANIFEST_DIR"))
        .dependencies(Migrator::dependencies())
        .releases(releases)
        .squashes(Migrator::squashes());
    migration_engine::cli::run(project)
}
