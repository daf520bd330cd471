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
use super::plans::{PlanView, shown};
use crate::authoring::squash::Generated;
use crate::backend::wipe::Listing;
use crate::exec::BaselineReport;
use crate::exec::operations::{AfterFreshOutput, FreshReport};
use crate::exec::releases::ReleasesReport;
use crate::exec::report::{RepairReport, RunReport, Script, StatusReport};
use crate::model::deps::DepsReport;
use crate::schema::snapshot::SchemaSnapshot;
use crate::schema::verify::VerifyReport;
use crate::store::history::HistoryEntry;

/// Logs go to stderr: progress at info, statements with `-v`. Colors only on a terminal and
/// never with `NO_COLOR`.
pub(crate) fn init_logging(verbose: bool, fleet: bool) {
    use std::io::IsTerminal;
    let filter = match (verbose, fleet) {
        (true, _) => "migration_engine=debug,sea_orm=debug,sqlx=info",
        (false, true) => "migration_engine=warn",
        (false, false) => "migration_engine=info",
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

/// One line of a result on stdout.
pub(crate) fn line(text: &str) {
    outln!("{text}");
}

pub(crate) fn json<T: Serialize>(value: &T) {
    match serde_json::to_string_pretty(value) {
        Ok(text) => outln!("{text}"),
        Err(e) => eprintln!("error: cannot encode the result as JSON: {e}"),
    }
}

pub(crate) fn table(header: &[&str]) -> Table {
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

/// What `fresh` dropped and applied, as JSON: the run report with the objects dropped.
#[derive(Serialize)]
struct Fresh<'a> {
    #[serde(flatten)]
    report: &'a RunReport,
    dropped: &'a Listing,
}

/// `fresh`: what it dropped, then what it applied.
pub(crate) fn fresh(format: Format, dropped: &Listing, report: &RunReport) {
    match format {
        Format::Json => json(&Fresh { report, dropped }),
        Format::Text => {
            if !dropped.is_empty() {
                outln!("Dropped {} object(s):\n{dropped}", dropped.len());
            }
            out!("{report}");
        }
    }
}

/// `fresh --dry-run`: what it would drop and apply.
pub(crate) fn fresh_plan(format: Format, drops: &Listing, applies: &[String], seed: Option<&str>) {
    if format == Format::Json {
        return json(&serde_json::json!({ "drops": drops, "applies": applies, "seed": seed }));
    }
    outln!("Dry run: nothing was dropped or applied.");
    if drops.is_empty() {
        outln!("fresh would drop nothing: the schema holds no objects.");
    } else {
        outln!("fresh would drop {} object(s):\n{drops}", drops.len());
    }
    let then = seed.map_or(String::new(), |p| format!(", then seed `{p}`"));
    outln!(
        "Then it would apply every migration ({}){then}.",
        applies.len()
    );
}

/// `fresh --seed`: on text, what the seeding printed (the rebuild's summary went out before it
/// ran); on JSON, the run report with what was dropped and the seeding's own document, as one.
///
/// With the reset cache, JSON gains `cache` (see [`crate::exec::operations::CacheUse`]); text says whether the database
/// was copied back (the seeding's summary is then the one printed when the copy was made) or
/// rebuilt and why.
pub(crate) fn fresh_seeded(format: Format, fresh: &FreshReport, seeded: &AfterFreshOutput) {
    let cache = fresh.cache.as_ref();
    if format == Format::Json {
        let mut document = serde_json::json!({
            "fresh": Fresh { report: &fresh.applied, dropped: &fresh.dropped },
            "seed": seeded.json,
        });
        if let Some(cache) = cache {
            document["cache"] = serde_json::to_value(cache).unwrap_or_default();
        }
        return json(&document);
    }
    match cache {
        Some(c) if c.outcome == "copied" => {
            if !fresh.dropped.is_empty() {
                outln!(
                    "Dropped {} object(s):\n{}",
                    fresh.dropped.len(),
                    fresh.dropped
                );
            }
            let made = c
                .built_at
                .map(|at| format!(", made {}", at.format("%Y-%m-%d %H:%M:%S UTC")))
                .unwrap_or_default();
            outln!(
                "Reset from the cached copy {}{made} in {:.2} s; nothing was rebuilt. The seeding it holds:",
                c.copy.as_deref().unwrap_or("?"),
                c.duration_ms as f64 / 1000.0
            );
            out!("{}", seeded.text);
        }
        Some(c) => {
            out!("{}", seeded.text);
            let why = c.reason.as_deref().unwrap_or("no cached copy fits");
            match (&c.copy, &c.not_saved) {
                (Some(copy), _) => {
                    outln!("Rebuilt ({why}); saved as the cached copy {copy} for the next reset.");
                }
                (None, Some(error)) => outln!("Rebuilt ({why}); not cached: {error}"),
                (None, None) => outln!("Rebuilt: {why}."),
            }
        }
        None => out!("{}", seeded.text),
    }
}

/// `migrate cache` on a backend that keeps no copies.
pub(crate) fn no_reset_cache(format: Format, backend: sea_orm::DbBackend) {
    let why = no_cache_reason(backend);
    match format {
        Format::Json => json(&serde_json::json!({ "copies": [], "note": why })),
        Format::Text => outln!("No cached copies: {why}."),
    }
}

/// Why `backend` keeps no cached copies for `fresh --seed`.
pub(crate) fn no_cache_reason(backend: sea_orm::DbBackend) -> &'static str {
    match backend {
        sea_orm::DbBackend::MySql => {
            "MySQL/MariaDB has no template databases and no copy faster than rebuilding, so `fresh --seed` rebuilds every time"
        }
        _ => "an in-memory database is rebuilt every time",
    }
}

/// `migrate cache list`.
pub(crate) fn cache_list(format: Format, entries: &[crate::exec::reset_cache::Entry]) {
    let profile = |e: &crate::exec::reset_cache::Entry| {
        e.meta
            .as_ref()
            .and_then(|m| m.content.seed.iter().find(|(n, _)| n == "profile"))
            .map(|(_, v)| v.clone())
    };
    if format == Format::Json {
        let listed: Vec<serde_json::Value> = entries
            .iter()
            .map(|e| {
                serde_json::json!({
                    "copy": e.copy.name,
                    "key": e.copy.key,
                    "bytes": e.copy.bytes,
                    "profile": profile(e),
                    "built_at": e.meta.as_ref().map(|m| m.built_at),
                    "migrations": e.meta.as_ref().map(|m| m.applied),
                })
            })
            .collect();
        return json(&serde_json::json!({ "copies": listed }));
    }
    if entries.is_empty() {
        outln!("No cached copies of this database: `fresh --seed PROFILE` makes one.");
        return;
    }
    let mut t = table(&["Made at", "Profile", "Migrations", "Size", "Copy"]);
    for e in entries {
        t.add_row(vec![
            e.meta
                .as_ref()
                .map(|m| m.built_at.format("%Y-%m-%d %H:%M:%S UTC").to_string())
                .unwrap_or_else(|| "?".to_owned()),
            profile(e).unwrap_or_else(|| "?".to_owned()),
            e.meta
                .as_ref()
                .map_or_else(|| "?".to_owned(), |m| m.applied.to_string()),
            size(e.copy.bytes),
            e.copy.name.clone(),
        ]);
    }
    outln!("{t}");
}

/// `migrate cache clear`.
pub(crate) fn cache_cleared(format: Format, removed: &[String]) {
    match format {
        Format::Json => json(&serde_json::json!({ "removed": removed })),
        Format::Text if removed.is_empty() => outln!("No cached copies to remove."),
        Format::Text => {
            for name in removed {
                outln!("Removed {name}");
            }
        }
    }
}

pub(crate) fn baseline(format: Format, report: &BaselineReport) {
    match format {
        Format::Json => json(report),
        Format::Text => out!("{report}"),
    }
}

/// `create`: the new module's file, and the file that lists it (`lib.rs`, or a set's `mod.rs`).
pub(crate) fn created(format: Format, file: &Path, list: &str) {
    match format {
        Format::Json => json(&serde_json::json!({ "created": file.display().to_string() })),
        Format::Text => outln!(
            "Created {}; it is registered in {list}. Edit its up and down, check it with `migrate lint`, then run `migrate up`.",
            file.display()
        ),
    }
}

/// The completion script of `migrate` for `shell`. It is built in memory first: clap_complete
/// panics when a write fails, and a reader that went away is no failure of ours.
pub(crate) fn completions(shell: clap_complete::Shell) {
    use clap::CommandFactory;
    use std::io::Write as _;
    let mut command = super::args::Cli::command();
    let name = command.get_name().to_owned();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, name, &mut script);
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(&script).and_then(|()| stdout.flush());
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
    let releases = report.migrations.iter().any(|m| m.release.is_some());
    let mut header = vec!["#", "Version", "Name"];
    if releases {
        header.push("Release");
    }
    header.extend(["State", "Batch", "Applied at", "Duration"]);
    let mut t = table(&header);
    for m in &report.migrations {
        let mut row = vec![
            m.number.map(|n| n.to_string()).unwrap_or_default(),
            m.version.clone(),
            m.name.clone(),
        ];
        if releases {
            row.push(m.release.clone().unwrap_or_else(|| "unreleased".to_owned()));
        }
        let mut state = match (&m.plan, m.baseline, &m.runner) {
            (_, _, Some(runner)) => runner.text.clone(),
            (Some(plan), _, None) => format!("{} (plan {plan})", m.state.as_str()),
            (None, true, None) => format!("{} (baseline)", m.state.as_str()),
            (None, false, None) => m.state.as_str().to_owned(),
        };
        if m.partly_rendered.is_some() {
            state.push_str(" (partly rendered)");
        }
        row.extend([
            state,
            m.batch.map(|b| b.to_string()).unwrap_or_default(),
            m.applied_at
                .map(|at| at.format("%Y-%m-%d %H:%M:%S UTC").to_string())
                .unwrap_or_default(),
            m.execution_ms
                .map(|ms| format!("{ms} ms"))
                .unwrap_or_default(),
        ]);
        t.add_row(row);
    }
    outln!("{t}");
    for squash in &report.squashes {
        outln!("{squash}.");
    }
    for m in report
        .migrations
        .iter()
        .filter(|m| m.partly_rendered.is_some())
    {
        outln!(
            "{}_{} reads data, so it is partly rendered: its checksum covers the statements before rendering {}; edits past that point are not detected.",
            m.version,
            m.name,
            m.partly_rendered.as_deref().unwrap_or_default()
        );
    }
    let mut counts = Vec::new();
    for state in [
        crate::plan::State::Applied,
        crate::plan::State::Pending,
        crate::plan::State::Modified,
        crate::plan::State::Missing,
        crate::plan::State::Failed,
        crate::plan::State::Squashed,
        crate::plan::State::Running,
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

/// The history as a table; `verbose` adds, after it, the statements each apply and revert sent.
pub(crate) fn history(format: Format, entries: &[HistoryEntry], verbose: bool) {
    if format == Format::Json {
        return json(&entries);
    }
    let mut t = table(&[
        "At",
        "Action",
        "Version",
        "Name",
        "Batch",
        "Plan",
        "Release",
        "Outcome",
        "Duration",
        "By",
        "Reason / error",
    ]);
    for e in entries {
        let action = format!("{:?}", e.action).to_lowercase();
        t.add_row(vec![
            e.at.format("%Y-%m-%d %H:%M:%S").to_string(),
            match &e.via {
                Some(via) => format!("{action} via {via}"),
                None => action,
            },
            e.version.clone(),
            e.name.clone(),
            e.batch.map(|b| b.to_string()).unwrap_or_default(),
            e.plan.clone().unwrap_or_default(),
            e.release.clone().unwrap_or_default(),
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
    if !verbose {
        return;
    }
    for e in entries.iter().filter(|e| !e.statements.is_empty()) {
        let action = format!("{:?}", e.action).to_lowercase();
        outln!(
            "\n-- {action} of {}_{} at {} ({}): the statements it sent",
            e.version,
            e.name,
            e.at.format("%Y-%m-%d %H:%M:%S"),
            format!("{:?}", e.outcome).to_lowercase()
        );
        for statement in &e.statements {
            let s = statement.trim_end();
            if s.ends_with(';') {
                outln!("{s}");
            } else {
                outln!("{s};");
            }
        }
    }
}

pub(crate) fn deps(format: Format, report: &DepsReport) {
    match format {
        Format::Json => json(report),
        Format::Text => out!("{report}"),
    }
}

pub(crate) fn squashed(format: Format, generated: &Generated) {
    match format {
        Format::Json => json(&serde_json::json!({
            "created": generated.file.display().to_string(),
            "module": generated.module,
            "replaces": generated.replaces,
            "registry": generated.registry.display().to_string(),
        })),
        Format::Text => {
            outln!(
                "Created {}, which replaces {} migrations ({} .. {}) on fresh databases; it is registered in `squashes()` in {}, and each replaced module notes it.",
                generated.file.display(),
                generated.replaces.len(),
                generated.replaces.first().map_or("", String::as_str),
                generated.replaces.last().map_or("", String::as_str),
                generated.registry.display(),
            );
            outln!("Run `migrate verify` to check that both paths end in the same schema.");
        }
    }
}

pub(crate) fn releases(format: Format, report: &ReleasesReport) {
    if format == Format::Json {
        return json(report);
    }
    let mut t = table(&["Release", "Date", "State", "Migrations", "Description"]);
    for r in &report.releases {
        let applied = r
            .migrations
            .iter()
            .filter(|m| crate::exec::report::is_in_effect(m.state))
            .count();
        t.add_row(vec![
            r.version.clone(),
            r.date.clone().unwrap_or_default(),
            r.state.as_str().to_owned(),
            format!("{applied}/{}", r.migrations.len()),
            r.description.clone(),
        ]);
    }
    if !report.unreleased.is_empty() {
        let applied = report
            .unreleased
            .iter()
            .filter(|m| crate::exec::report::is_in_effect(m.state))
            .count();
        t.add_row(vec![
            "unreleased".to_owned(),
            String::new(),
            String::new(),
            format!("{applied}/{}", report.unreleased.len()),
            "not in any release yet".to_owned(),
        ]);
    }
    outln!("{t}");
}

/// `migrate report`: Markdown, one section per release, newest last as the file lists them.
pub(crate) fn release_notes(format: Format, report: &ReleasesReport) {
    if format == Format::Json {
        return json(report);
    }
    let applied = |ms: &[crate::exec::releases::ReleasedMigration]| {
        ms.iter()
            .filter(|m| crate::exec::report::is_in_effect(m.state))
            .count()
    };
    let list = |items: &[String]| -> String {
        if items.is_empty() {
            "None.\n".to_owned()
        } else {
            items.iter().map(|i| format!("- {i}\n")).collect()
        }
    };
    let migrations = |ms: &[crate::exec::releases::ReleasedMigration]| -> String {
        let mut text = "| Version | Name | State |\n|---|---|---|\n".to_owned();
        for m in ms {
            text.push_str(&format!(
                "| {} | {} | {} |\n",
                m.version,
                m.name,
                m.state.as_str()
            ));
        }
        text
    };
    let mut md = String::from(
        "# Releases\n\n| Release | Date | State | Migrations applied |\n|---|---|---|---|\n",
    );
    for r in &report.releases {
        md.push_str(&format!(
            "| {} | {} | {} | {}/{} |\n",
            r.version,
            r.date.as_deref().unwrap_or(""),
            r.state.as_str(),
            applied(&r.migrations),
            r.migrations.len()
        ));
    }
    for r in &report.releases {
        md.push_str(&format!("\n## {} ({})\n\n", r.version, r.state.as_str()));
        if let Some(date) = &r.date {
            md.push_str(&format!("Released {date}. "));
        }
        md.push_str(&format!("{}\n\n", r.description));
        md.push_str(&format!("### Features\n\n{}\n", list(&r.features)));
        md.push_str(&format!(
            "### Migrations\n\n{}\n",
            migrations(&r.migrations)
        ));
        md.push_str(&format!(
            "### Breaking changes\n\n{}\n",
            list(&r.breaking_changes)
        ));
        md.push_str(&format!("### Upgrade notes\n\n{}", list(&r.upgrade_notes)));
    }
    if !report.unreleased.is_empty() {
        md.push_str(&format!(
            "\n## Unreleased\n\n{}",
            migrations(&report.unreleased)
        ));
    }
    out!("{md}");
}

pub(crate) fn plans(format: Format, dir: &Path, plans: &[PlanView]) {
    if format == Format::Json {
        return json(&plans);
    }
    if plans.is_empty() {
        outln!(
            "No plans in {}; `migrate plan create NAME` makes one.",
            shown(dir)
        );
        return;
    }
    let mut t = table(&[
        "Plan",
        "State",
        "Migrations",
        "Created",
        "By",
        "Description",
    ]);
    for p in plans {
        t.add_row(vec![
            p.name.clone(),
            p.state.as_str().to_owned(),
            p.migrations.len().to_string(),
            p.created_at.clone(),
            p.created_by.clone(),
            p.description.clone(),
        ]);
    }
    outln!("{t}");
}

pub(crate) fn plan(format: Format, plan: &PlanView) {
    if format == Format::Json {
        return json(plan);
    }
    outln!("Plan `{}` ({})", plan.name, plan.state.as_str());
    if !plan.description.is_empty() {
        outln!("{}", plan.description);
    }
    outln!("Created {} by {}.", plan.created_at, plan.created_by);
    let released = plan.migrations.iter().any(|m| m.release.is_some());
    let mut t = table(&["#", "Version", "Name", "Release", "State"]);
    for m in &plan.migrations {
        t.add_row(vec![
            m.number.map(|n| n.to_string()).unwrap_or_default(),
            m.version.clone(),
            m.name.clone(),
            match (&m.release, released) {
                (Some(release), _) => release.clone(),
                (None, true) => "unreleased".to_owned(),
                (None, false) => String::new(),
            },
            m.state.map_or("not in the code", |s| s.as_str()).to_owned(),
        ]);
    }
    outln!("{t}");
}

pub(crate) fn plan_created(format: Format, file: &Path, plan: &PlanView) {
    match format {
        Format::Json => json(&serde_json::json!({
            "created": file.display().to_string(),
            "plan": plan,
        })),
        Format::Text => outln!(
            "Saved plan `{}` with {} migration(s) to {}. Run it with `migrate plan run {}`.",
            plan.name,
            plan.migrations.len(),
            shown(file),
            plan.name
        ),
    }
}

/// One set's part of a result across sets.
#[derive(Serialize)]
pub(crate) struct SetPart<'r, T> {
    /// The set's name.
    pub set: String,
    /// Where it runs, password redacted.
    pub database: String,
    /// Its result.
    #[serde(flatten)]
    pub report: &'r T,
}

/// A result across sets: on text each set's part under a line naming the set and its
/// database, printed by `text`; as JSON one document, `{"sets": [{"set", "database", ...}]}`.
pub(crate) fn per_set<T: Serialize>(format: Format, parts: &[SetPart<'_, T>], text: impl Fn(&T)) {
    if format == Format::Json {
        return json(&serde_json::json!({ "sets": parts }));
    }
    for (n, part) in parts.iter().enumerate() {
        if n > 0 {
            outln!();
        }
        outln!("Set {} on {}:", part.set, part.database);
        text(part.report);
    }
}

/// A set's history, as one JSON field.
#[derive(Serialize)]
pub(crate) struct History {
    /// Newest first.
    pub history: Vec<HistoryEntry>,
}

/// What `fresh --dry-run` would do on one set.
#[derive(Serialize)]
pub(crate) struct FreshPlan {
    /// What it would drop (nothing for a set whose database an earlier set wipes).
    pub drops: Listing,
    /// What it would apply.
    pub applies: Vec<String>,
}

/// What `fresh` did on one set.
#[derive(Serialize)]
pub(crate) struct FreshDone {
    /// What it applied.
    #[serde(flatten)]
    pub report: RunReport,
    /// What it dropped (nothing for a set whose database an earlier set wiped).
    pub dropped: Listing,
}

/// `backups`: the backups of the database, oldest first.
pub(crate) fn backups(format: Format, dir: &Path, found: &[crate::backend::backup::Manifest]) {
    if format == Format::Json {
        let listed: Vec<serde_json::Value> = found
            .iter()
            .map(|m| {
                let mut value = serde_json::to_value(m).unwrap_or_default();
                value["path"] = serde_json::Value::String(m.path(dir).display().to_string());
                value
            })
            .collect();
        return json(&listed);
    }
    if found.is_empty() {
        outln!("No backups of this database in {}.", dir.display());
        return;
    }
    let mut t = table(&["Taken at", "Version", "Size", "Command", "File"]);
    for m in found {
        t.add_row(vec![
            m.taken_at.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
            m.version
                .clone()
                .unwrap_or_else(|| "(nothing applied)".to_owned()),
            size(m.bytes),
            m.command.clone(),
            m.path(dir).display().to_string(),
        ]);
    }
    outln!("{t}");
}

/// A size in bytes, for people.
fn size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// `restore`: what it dropped and restored.
pub(crate) fn restored(
    format: Format,
    report: &crate::exec::operations::RestoreReport,
    database: &str,
) {
    match format {
        Format::Json => json(report),
        Format::Text => {
            if !report.dropped.is_empty() {
                outln!(
                    "Dropped {} object(s):\n{}",
                    report.dropped.len(),
                    report.dropped
                );
            }
            outln!(
                "Restored {} into {database} ({} ms). `migrate status` shows where it stands.",
                report.file,
                report.duration_ms
            );
        }
    }
}

/// `migrate lint`'s report: text grouped by migration, JSON, GitHub annotations or SARIF.
pub(crate) fn lint(
    format: Format,
    annotate: Option<super::args::Annotate>,
    report: &crate::lint::LintReport,
    file_of: &dyn Fn(&str) -> Option<String>,
) {
    use super::args::Annotate;
    match (annotate, format) {
        (Some(Annotate::Github), _) => out!("{}", report.github(file_of)),
        (Some(Annotate::Sarif), _) => json(&report.sarif(file_of)),
        (None, Format::Json) => json(report),
        (None, Format::Text) => out!("{report}"),
    }
}

/// `migrate lint --rules`: every rule with its level, backends and documentation.
pub(crate) fn lint_rules(format: Format) {
    let rules = crate::lint::rules::all();
    let backends = |r: &crate::lint::Rule| -> Vec<&'static str> {
        if r.backends.is_empty() {
            vec!["all"]
        } else {
            r.backends
                .iter()
                .map(|b| crate::backend::name(*b))
                .collect()
        }
    };
    if format == Format::Json {
        let list: Vec<serde_json::Value> = rules
            .iter()
            .map(|r| {
                serde_json::json!({
                    "id": r.id,
                    "level": r.level,
                    "backends": backends(r),
                    "summary": r.summary,
                    "doc": r.doc,
                })
            })
            .collect();
        json(&list);
        return;
    }
    for r in rules {
        outln!(
            "{} ({}, {}): {}",
            r.id,
            r.level.as_str(),
            backends(r).join(", "),
            r.summary
        );
        outln!("    {}\n", r.doc);
    }
}
