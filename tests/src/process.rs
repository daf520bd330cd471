//! Running the binaries under test: one isolated command builder and one [`Run`], what a
//! process printed and returned.
//!
//! Each command runs in a directory of the caller's choosing with the variables the binaries read
//! removed, so neither the runner's environment nor a `.env` of the checkout leaks in.

use std::fmt;
use std::path::Path;
use std::process::{Child, Command, Output};
use std::time::Duration;

/// The variables the binaries read; removed so the runner's environment does not leak in.
pub const ENV_VARS: [&str; 15] = [
    "DATABASE_URL",
    "DATABASE_SCHEMA",
    "MIGRATION_TABLE",
    "MIGRATION_SCHEMA",
    "MIGRATION_PLANS_DIR",
    "MIGRATION_LOCK_TIMEOUT",
    "MIGRATION_LOCK_ATTEMPTS",
    "MIGRATION_LOCK_STRATEGY",
    "MIGRATION_LOCK_LEASE",
    "MIGRATION_PROTECTED_URLS",
    "MIGRATION_LINT",
    "MIGRATION_LINT_SERVER",
    "APP_ENV",
    "RUST_LOG",
    "RUST_BACKTRACE",
];

/// How long a run may take before it is killed.
pub const TIMEOUT: Duration = Duration::from_secs(300);

/// The application's `migrate` binary (built once per test process).
pub fn migrate_bin() -> &'static Path {
    crate::workspace_bin("migration", "migrate")
}

/// Makes `cmd` run in `dir` with [`ENV_VARS`] removed, without colours and with help wrapped at
/// 100 columns (clap wraps to the terminal width; fixed, snapshots do not depend on it), and
/// with the reset cache of `fresh --seed` off: the tests of that cache turn it on again
/// (`env_remove("MIGRATION_RESET_CACHE")`); the others rebuild every time, as they always did,
/// and leave no cached copies to drop.
pub fn isolate<'a>(cmd: &'a mut Command, dir: &Path) -> &'a mut Command {
    cmd.current_dir(dir);
    for var in ENV_VARS {
        cmd.env_remove(var);
    }
    cmd.env("NO_COLOR", "1")
        .env("COLUMNS", "100")
        .env("MIGRATION_RESET_CACHE", "off")
}

/// An [isolated](isolate) command for `bin` in `dir`, killed after [`TIMEOUT`].
pub fn command(bin: &Path, dir: &Path) -> assert_cmd::Command {
    let mut std = Command::new(bin);
    isolate(&mut std, dir);
    let mut cmd = assert_cmd::Command::from_std(std);
    cmd.timeout(TIMEOUT);
    cmd
}

/// Runs a prepared command for `bin` with `args`.
pub fn run(mut cmd: assert_cmd::Command, bin: &Path, args: &[&str]) -> Run {
    let output = cmd
        .args(args)
        .output()
        .unwrap_or_else(|err| panic!("cannot run {} {args:?}: {err}", bin.display()));
    Run::new(command_line(bin, args), output)
}

/// Runs `bin` with `args` in `dir`, isolated from the runner's environment.
pub fn run_in(bin: &Path, dir: &Path, args: &[&str]) -> Run {
    run(command(bin, dir), bin, args)
}

/// Waits, off the async runtime, for a spawned `child` and collects what it printed.
/// `command` names it in failure messages.
pub async fn finish(command: String, child: Child) -> Run {
    tokio::task::spawn_blocking(move || {
        let output = child.wait_with_output().expect("cannot wait for the child");
        Run::new(command, output)
    })
    .await
    .expect("the task waiting for the child panicked")
}

/// `bin`'s file name and `args`, for failure messages.
pub fn command_line(bin: &Path, args: &[&str]) -> String {
    format!(
        "{} {}",
        bin.file_name().unwrap_or_default().to_string_lossy(),
        args.join(" ")
    )
}

/// What one run printed and returned.
pub struct Run {
    /// The command line, for failure messages.
    pub command: String,
    /// The exit code; `None` when a signal ended the process.
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
    /// The run of `command` that produced `output`.
    pub fn new(command: String, output: Output) -> Self {
        Run {
            command,
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

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
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {self:?}"))
    }
}
