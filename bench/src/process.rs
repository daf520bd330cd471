//! Running the measured programs: a clean environment, whole-process wall time, medians.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

/// A command with the benchmark's environment: none of the variables the binaries read from
/// the caller's shell.
pub(crate) fn command(program: &Path) -> Command {
    let mut cmd = Command::new(program);
    for var in [
        "DATABASE_URL",
        "DATABASE_SCHEMA",
        "MIGRATION_TABLE",
        "MIGRATION_SCHEMA",
        "MIGRATION_PROTECTED_URLS",
        "MIGRATION_LOCK_TIMEOUT",
        "MIGRATION_LOCK_STRATEGY",
        "MIGRATION_LOCK_LEASE",
        "APP_ENV",
        "RUST_LOG",
    ] {
        cmd.env_remove(var);
    }
    cmd.stdin(Stdio::null());
    cmd
}

/// Runs `cmd` to completion with its output discarded (errors kept for the message) and
/// returns its wall time in seconds, start to exit.
pub(crate) fn timed(cmd: &mut Command) -> Result<f64, String> {
    let what = cmd.get_program().to_string_lossy().into_owned();
    let started = Instant::now();
    let output = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| format!("cannot run {what}: {e}"))?;
    let took = started.elapsed().as_secs_f64();
    if output.status.success() {
        Ok(took)
    } else {
        Err(format!(
            "{what} failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ))
    }
}

/// Runs `cmd` and returns its standard output.
pub(crate) fn stdout_of(cmd: &mut Command) -> Result<Vec<u8>, String> {
    let what = cmd.get_program().to_string_lossy().into_owned();
    let output = cmd
        .output()
        .map_err(|e| format!("cannot run {what}: {e}"))?;
    if output.status.success() {
        Ok(output.stdout)
    } else {
        Err(format!(
            "{what} failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ))
    }
}

/// The median; `0` for no values.
pub(crate) fn median(values: &[f64]) -> f64 {
    let mut values = values.to_vec();
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => 0.0,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

/// `1234567` as `1,234,567`.
pub(crate) fn thousands(n: f64) -> String {
    let digits = format!("{:.0}", n.max(0.0));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}
