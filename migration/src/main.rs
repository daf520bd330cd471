//! The `migrate` command for this application's migrations, their dependencies, its releases
//! (embedded, so a deployed binary knows them) and its consolidated migrations.

use migration::Migrator;
use migration_engine::Project;
use std::process::ExitCode;

fn main() -> ExitCode {
    let project = Project::new::<Migrator>(env!("CARGO_MANIFEST_DIR"))
        .dependencies(Migrator::dependencies())
        .releases(include_str!("../releases.toml"))
        .squashes(Migrator::squashes());
    migration_engine::cli::run(project)
}
