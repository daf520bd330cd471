//! `fresh --seed PROFILE`: after the schema is rebuilt, run the project's `seed` command.
//!
//! The engine knows nothing about a project's data, and the migration crate cannot depend on
//! the crate that seeds it (that crate needs the migrations), so the step runs the `seed`
//! executable that sits beside the running `migrate`. The database settings travel in the
//! child's environment, never in its arguments, so no URL or password shows in process lists.
//!
//! `fresh` holds the migration lock while the child seeds, so no other runner gets in between
//! the rebuild and the data; [`LOCK_HOLDER_PID_VAR`] tells the child that its parent holds the
//! lock for it, so it does not wait for that lock itself.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use super::args::Format;
use super::exit_code;
use crate::backend::target::Target;
use crate::error::EngineError;

/// Set on the child to the pid of the `migrate` that holds the migration lock for it. A seeder
/// whose parent process has this pid runs under that lock instead of taking it.
pub const LOCK_HOLDER_PID_VAR: &str = "MIGRATION_LOCK_HOLDER_PID";

/// The `seed` executable and what to ask of it.
pub(crate) struct SeedStep {
    program: PathBuf,
    profile: String,
    force: bool,
}

impl SeedStep {
    /// Finds `seed` next to the current executable. Called before anything else happens, so a
    /// missing binary never leaves a dropped and unseeded database behind.
    pub(crate) fn locate(profile: &str, force: bool) -> Result<Self, EngineError> {
        let name = format!("seed{}", std::env::consts::EXE_SUFFIX);
        let program = std::env::current_exe()
            .ok()
            .map(|exe| exe.with_file_name(&name))
            .filter(|path| path.is_file())
            .ok_or_else(|| EngineError::Config {
                message: "the `seed` binary is not built: run `cargo build -p seeds` \
                          (scripts/db.sh reset builds it)"
                    .to_owned(),
            })?;
        Ok(Self {
            program,
            profile: profile.to_owned(),
            force,
        })
    }

    /// The profile it seeds.
    pub(crate) fn profile(&self) -> &str {
        &self.profile
    }

    /// Runs the seed command on `target`. Its progress and errors go straight to our stderr.
    /// With `--format json` its stdout is captured and returned for the combined document;
    /// otherwise it prints its own summary and `None` is returned.
    pub(crate) fn run(
        &self,
        target: &Target,
        format: Format,
        connect_timeout: u64,
    ) -> Result<Option<serde_json::Value>, EngineError> {
        let mut command = Command::new(&self.program);
        command
            .arg(&self.profile)
            .args(["--connect-timeout", &connect_timeout.to_string()])
            .args([
                "--format",
                if format == Format::Json {
                    "json"
                } else {
                    "text"
                },
            ])
            .env("DATABASE_URL", target.url())
            .env("MIGRATION_TABLE", &target.migration_table)
            .env(LOCK_HOLDER_PID_VAR, std::process::id().to_string())
            .stdin(Stdio::inherit())
            .stderr(Stdio::inherit());
        if self.force {
            command.arg("--force");
        }
        for (var, value) in [
            ("DATABASE_SCHEMA", &target.database_schema),
            ("MIGRATION_SCHEMA", &target.migration_schema),
        ] {
            match value {
                Some(value) => command.env(var, value),
                None => command.env_remove(var),
            };
        }
        let failed = |code: Option<i32>| EngineError::SeedFailed {
            profile: self.profile.clone(),
            code: code
                .and_then(|c| u8::try_from(c).ok())
                .filter(|c| *c != exit_code::SUCCESS)
                .unwrap_or(exit_code::FAILED),
        };
        let cannot_start = |e: std::io::Error| EngineError::Config {
            message: format!(
                "cannot run {}: {e}; rebuild it with `cargo build -p seeds`",
                self.program.display()
            ),
        };
        if format != Format::Json {
            let status = command
                .stdout(Stdio::inherit())
                .status()
                .map_err(cannot_start)?;
            return if status.success() {
                Ok(None)
            } else {
                Err(failed(status.code()))
            };
        }
        let output = command
            .stdout(Stdio::piped())
            .output()
            .map_err(cannot_start)?;
        if !output.status.success() {
            return Err(failed(output.status.code()));
        }
        serde_json::from_slice(&output.stdout)
            .map(Some)
            .map_err(|e| EngineError::Config {
                message: format!(
                    "`seed {}` succeeded but printed no JSON document ({e}); run it with `--format json` to see what it prints",
                    self.profile
                ),
            })
    }
}
