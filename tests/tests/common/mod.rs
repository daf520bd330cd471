//! Running the command lines under test: the application's `migrate` (built once per test
//! process, since it belongs to another package) and this crate's test binaries, each in a
//! directory of its own with the variables they read removed, so neither the runner's
//! environment nor a `.env` of the checkout leaks in.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::Value;
use std::fmt;
use std::path::Path;
use std::time::Duration;

/// The variables the binaries read; removed so the runner's environment does not leak in.
pub const ENV_VARS: [&str; 7] = [
    "DATABASE_URL",
    "DATABASE_SCHEMA",
    "MIGRATION_TABLE",
    "MIGRATION_SCHEMA",
    "MIGRATION_PLANS_DIR",
    "APP_ENV",
    "MIGRATION_PROTECTED_URLS",
];

/// The application's `migrate` binary.
pub fn migrate_bin() -> &'static Path {
    tests::workspace_bin("migration", "migrate")
}

/// This crate's `migrate_squash` test binary.
pub fn squash_bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_migrate_squash"))
}

/// This crate's `migrate_releases` test binary: the reference migrations with the releases file
/// of its working directory.
pub fn releases_bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_migrate_releases"))
}

/// What one run printed and returned.
pub struct Run {
    /// The command line, for failure messages.
    pub command: String,
    /// The exit code.
    pub code: Option<i32>,
    /// Everything on stdout.
    pub stdout: String,
    /// Everything on stderr.
    pub stderr: String,
}

impl fmt::Debug for Run {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` exited with {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.command, self.code, self.stdout, self.stderr
        )
    }
}

impl Run {
    /// Asserts the exit code and returns the run for further checks.
    #[track_caller]
    pub fn code(self, expected: i32) -> Self {
        assert_eq!(self.code, Some(expected), "{self:?}");
        self
    }

    /// Asserts a failure with `code` and a single `error: …` line on stderr containing each of
    /// `fragments`.
    #[track_caller]
    pub fn refused(self, code: i32, fragments: &[&str]) -> Self {
        let run = self.code(code);
        let errors: Vec<&str> = run
            .stderr
            .lines()
            .filter(|l| l.starts_with("error: "))
            .collect();
        assert_eq!(errors.len(), 1, "expected one error line: {run:?}");
        for fragment in fragments {
            assert!(errors[0].contains(fragment), "no `{fragment}` in: {run:?}");
        }
        run
    }

    /// stdout as JSON.
    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {self:?}"))
    }
}

/// Runs `bin` with `args` in `dir`, isolated from the runner's environment.
pub fn run_in(bin: &Path, dir: &Path, args: &[&str]) -> Run {
    let mut cmd = assert_cmd::Command::new(bin);
    cmd.current_dir(dir);
    for var in ENV_VARS {
        cmd.env_remove(var);
    }
    cmd.env_remove("RUST_LOG")
        .env_remove("RUST_BACKTRACE")
        .env("NO_COLOR", "1")
        .env("COLUMNS", "100")
        .timeout(Duration::from_secs(300))
        .args(args);
    let out = cmd.output().unwrap();
    Run {
        command: format!(
            "{} {}",
            bin.file_name().unwrap_or_default().to_string_lossy(),
            args.join(" ")
        ),
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `(version, state)` of every migration in `status --format json`.
pub fn states(status: &Value) -> Vec<(String, String)> {
    status["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["version"].as_str().unwrap().to_owned(),
                m["state"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// The state of each migration, in order, from `status --format json`.
pub fn state_words(status: &Value) -> Vec<String> {
    states(status).into_iter().map(|(_, s)| s).collect()
}
