//! Printing results: tables and sentences on a terminal, one JSON document with `--format json`.
//! Results go to stdout; nothing else does.

/// Writes a result to stdout. A reader that went away (`migrate status | head`) is not this
/// command's failure: its work is done, so the rest of the output is dropped quietly.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stdout().lock(), $($arg)*);
    }};
}

/// [`out!`] with a newline.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use serde::Serialize;
use std::path::Path;

use super::args::Format;
use crate::history::HistoryEntry;
use crate::report::{RepairReport, RunReport, Script, StatusReport};
use crate::snapshot::SchemaSnapshot;
use crate::verify::VerifyReport;

/// Logs go to stderr: progress at info, statements with `-v`. Colors only on a terminal and
/// never with `NO_COLOR`.
pub(crate) fn init_logging(verbose: bool) {
    use std::io::IsTerminal;
    let filter = if verbose {
        "migration_engine=debug,sea_orm=debug,sqlx=info"
    } else {
        "migration_engine=info"
    };
    let ansi = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .with_target(false)
        .without_time()
        .with_level(verbose)
        .try_init();
}

fn json<T: Serialize>(value: &T) {
    match serde_json::to_string_pretty(value) {
        Ok(text) => outln!("{text}"),
        Err(e) => eprintln!("error: cannot encode the result as JSON: {e}"),
    }
}

fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_header(header.to_vec());
    t
}

pub(crate) fn run(format: Format, report: &RunReport) {
    match format {
        Format::Json => json(report),
        Format::Text => out!("{report}"),
    }
}

pub(crate) fn script(format: Format, script: &Script) {
    match format {
        Format::Json => json(script),
        Format::Text => out!("{script}"),
    }
}

pub(crate) fn repair(format: Format, report: &RepairReport) {
    match format {
        Format::Json => json(report),
        Format::Text => out!("{report}"),
    }
}

pub(crate) fn schema(format: Format, snapshot: &SchemaSnapshot) {
    match format {
        Format::Json => json(snapshot),
        Format::Text => out!("{snapshot}"),
    }
}

pub(crate) fn verify(format: Format, report: &VerifyReport) {
    match format {
        Format::Json => json(report),
        Format::Text => out!("{report}"),
    }
}

/// `fresh --seed --format json`: the run report and the seed command's own document, as one.
pub(crate) fn fresh_seeded(report: &RunReport, seeded: &serde_json::Value) {
    json(&serde_json::json!({ "fresh": report, "seed": seeded }));
}

pub(crate) fn created(format: Format, file: &Path) {
    match format {
        Format::Json => json(&serde_json::json!({ "created": file.display().to_string() })),
        Format::Text => outln!(
            "Created {}; it is registered in lib.rs. Edit its up and down, then run `migrate up`.",
            file.display()
        ),
    }
}

pub(crate) fn status(format: Format, report: &StatusReport) {
    if report.adoptable {
        eprintln!(
            "note: this database was migrated by SeaORM's migrator; its seaql_migrations rows are shown as applied and will be adopted by the next `migrate up` (or `migrate adopt`)"
        );
    }
    if format == Format::Json {
        return json(report);
    }
    let mut t = table(&[
        "Version",
        "Name",
        "State",
        "Batch",
        "Applied at",
        "Duration",
    ]);
    for m in &report.migrations {
        t.add_row(vec![
            m.version.clone(),
            m.name.clone(),
            m.state.as_str().to_owned(),
            m.batch.map(|b| b.to_string()).unwrap_or_default(),
            m.applied_at
                .map(|at| at.format("%Y-%m-%d %H:%M:%S UTC").to_string())
                .unwrap_or_default(),
            m.execution_ms
                .map(|ms| format!("{ms} ms"))
                .unwrap_or_default(),
        ]);
    }
    outln!("{t}");
    let mut counts = Vec::new();
    for state in [
        crate::plan::State::Applied,
        crate::plan::State::Pending,
        crate::plan::State::Modified,
        crate::plan::State::Missing,
        crate::plan::State::Failed,
    ] {
        let n = report.count(state);
        if n > 0 {
            counts.push(format!("{n} {}", state.as_str()));
        }
    }
    if counts.is_empty() {
        outln!("No migrations.");
    } else {
        outln!("{}.", counts.join(", "));
    }
}

pub(crate) fn history(format: Format, entries: &[HistoryEntry]) {
    if format == Format::Json {
        return json(&entries);
    }
    let mut t = table(&[
        "At",
        "Action",
        "Version",
        "Name",
        "Batch",
        "Outcome",
        "Duration",
        "By",
        "Reason / error",
    ]);
    for e in entries {
        t.add_row(vec![
            e.at.format("%Y-%m-%d %H:%M:%S").to_string(),
            format!("{:?}", e.action).to_lowercase(),
            e.version.clone(),
            e.name.clone(),
            e.batch.map(|b| b.to_string()).unwrap_or_default(),
            format!("{:?}", e.outcome).to_lowercase(),
            format!("{} ms", e.duration_ms),
            e.performed_by.clone(),
            e.error
                .clone()
                .or_else(|| e.reason.clone())
                .unwrap_or_default(),
        ]);
    }
    outln!("{t}");
}
