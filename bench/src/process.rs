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

/// [`timed`], also returning the process's peak resident memory in KiB: its `VmHWM`, read from
/// `/proc` every few milliseconds while it runs (the last reading before it exits). Its stderr
/// is drained as it goes, so a long progress log never blocks it.
pub(crate) fn timed_peak(cmd: &mut Command) -> Result<(f64, u64), String> {
    let what = cmd.get_program().to_string_lossy().into_owned();
    let started = Instant::now();
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {what}: {e}"))?;
    let mut stderr = child.stderr.take();
    let drain = std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(pipe) = stderr.as_mut() {
            let _ = std::io::Read::read_to_string(pipe, &mut text);
        }
        text
    });
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak = 0;
    let status = loop {
        if let Some(hwm) = std::fs::read_to_string(&status_file).ok().and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        }) {
            peak = peak.max(hwm);
        }
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) => std::thread::sleep(std::time::Duration::from_millis(5)),
            Err(e) => return Err(format!("cannot wait for {what}: {e}")),
        }
    };
    let took = started.elapsed().as_secs_f64();
    let errors = drain.join().unwrap_or_default();
    if status.success() {
        Ok((took, peak))
    } else {
        Err(format!("{what} failed: {}", errors.trim()))
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
