//! The `migrate` command for this application's migrations, their dependencies, its releases
//! (embedded, so a deployed binary knows them) and its consolidated migrations; with the `seeds`
//! feature (on by default), `migrate fresh --seed PROFILE` seeds in the same run.

use migration::Migrator;
use migration_engine::{Hooks, Project};
use std::process::ExitCode;

fn main() -> ExitCode {
    let project = Project::new::<Migrator>(env!("CARGO_MANIFEST_DIR"))
        .dependencies(Migrator::dependencies())
        .lint_allow(Migrator::lint_allowances())
        .releases(include_str!("../releases.toml"))
        .squashes(Migrator::squashes());
    migration_engine::cli::run_with(project, hooks())
}

/// The seeder after `fresh`, when the seeds crate is built in.
fn hooks() -> Hooks {
    let hooks = Hooks::new();
    #[cfg(feature = "seeds")]
    let hooks = hooks.after_fresh(std::sync::Arc::new(seeds::cli::SeedAfterFresh));
    hooks
}
