//! `migrate lint` and the lint that `migrate up --lint` (`MIGRATION_LINT`) runs before applying.

use sea_orm::DbBackend;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::Outcome;
use super::args::{Cli, LintArgs, LintBackend, LintMode};
use super::exit::CommandError;
use super::output;
use crate::backend::target::Target;
use crate::error::EngineError;
use crate::lint::{self, LintOptions, LintReport, ServerVersion};
use crate::model::project::LoadedProject;
use crate::model::set::MigrationId;

/// The lint options of a run on `target`: the backends asked for (the target's when none),
/// the server version, and whether `--lock-timeout-ddl` bounds DDL lock waits.
fn options(
    cli: &Cli,
    backend: Option<LintBackend>,
    server: &str,
    target: &Target,
) -> Result<LintOptions, CommandError> {
    let backends = match backend {
        Some(LintBackend::Postgres) => vec![DbBackend::Postgres],
        Some(LintBackend::Mysql) => vec![DbBackend::MySql],
        Some(LintBackend::Sqlite) => vec![DbBackend::Sqlite],
        Some(LintBackend::All) => vec![DbBackend::Postgres, DbBackend::MySql, DbBackend::Sqlite],
        None => vec![target.backend()],
    };
    let server: ServerVersion = server.parse()?;
    Ok(LintOptions {
        backends,
        server,
        lock_timeout: cli.lock_timeout_ddl.is_some(),
    })
}

/// The versions `migrate lint VERSION…` names, checked against the set.
fn chosen(
    project: &LoadedProject,
    typed: &[String],
) -> Result<Option<BTreeSet<String>>, EngineError> {
    if typed.is_empty() {
        return Ok(None);
    }
    let mut versions = BTreeSet::new();
    for t in typed {
        let version = MigrationId::normalise_version(t)
            .filter(|v| project.set.get(v).is_some())
            .ok_or_else(|| EngineError::UnknownVersion { version: t.clone() })?;
        versions.insert(version);
    }
    Ok(Some(versions))
}

/// `migrate lint`: lints the chosen migrations (`pending` holds the versions the database has
/// not applied, for `--pending`) and prints the report; `Invalid` (exit 4) when an error remains.
///
/// # Errors
/// A malformed server version, an unknown version, or allowances naming unknown rules.
pub(super) async fn command(
    cli: &Cli,
    project: &LoadedProject,
    target: &Target,
    args: &LintArgs,
    pending: Option<BTreeSet<String>>,
) -> Result<Outcome, CommandError> {
    if args.rules {
        output::lint_rules(cli.global.format);
        return Ok(Outcome::Done);
    }
    let report = report(cli, project, target, args, pending).await?;
    let file_of = |migration: &str| source_file(project, migration);
    output::lint(cli.global.format, args.annotate, &report, &file_of);
    Ok(outcome(&report))
}

/// `Invalid` (exit 4) when an error-level finding remains.
pub(super) fn outcome(report: &LintReport) -> Outcome {
    if report.has_errors() {
        Outcome::Invalid
    } else {
        Outcome::Done
    }
}

/// What `migrate lint` finds in one project (or set).
///
/// # Errors
/// A malformed server version, an unknown version, or allowances naming unknown rules.
pub(super) async fn report(
    cli: &Cli,
    project: &LoadedProject,
    target: &Target,
    args: &LintArgs,
    pending: Option<BTreeSet<String>>,
) -> Result<LintReport, CommandError> {
    let options = options(cli, args.backend, &args.server_version, target)?;
    let selected = match pending {
        Some(p) => Some(p),
        None => chosen(project, &args.versions)?,
    };
    Ok(lint::lint(
        &project.set,
        &project.lint_allow,
        selected.as_ref(),
        &options,
    )
    .await?)
}

/// The lint `migrate up` runs first: on the target's backend, over the pending migrations.
/// Findings go to stderr; with `deny`, an error-level finding refuses the run before the
/// session (and so before anything is locked or changed).
///
/// # Errors
/// [`CommandError::Lint`] when `deny` finds errors; the errors of [`lint::lint`].
pub(super) async fn before_up(
    cli: &Cli,
    project: &LoadedProject,
    target: &Target,
    mode: LintMode,
    pending: BTreeSet<String>,
) -> Result<(), CommandError> {
    if mode == LintMode::Off || pending.is_empty() {
        return Ok(());
    }
    let options = LintOptions {
        backends: vec![target.backend()],
        server: std::env::var("MIGRATION_LINT_SERVER")
            .ok()
            .map(|s| s.parse())
            .transpose()?
            .unwrap_or_default(),
        lock_timeout: cli.lock_timeout_ddl.is_some(),
    };
    let report = lint::lint(&project.set, &project.lint_allow, Some(&pending), &options).await?;
    if report.migrations.iter().any(|m| !m.findings.is_empty()) {
        eprint!("{report}");
    }
    if mode == LintMode::Deny && report.has_errors() {
        let migrations = report
            .migrations
            .iter()
            .filter(|m| m.findings.iter().any(|f| f.is_error()))
            .map(|m| m.migration.clone())
            .collect();
        return Err(CommandError::Lint {
            errors: report.errors(),
            migrations,
        });
    }
    Ok(())
}

/// The lint mode of `up`: `--lint[=MODE]`, else `MIGRATION_LINT` (read here for the bare
/// `migrate`, which clap does not parse as `up`), else off.
///
/// # Errors
/// A usage error for an unknown `MIGRATION_LINT`.
pub(super) fn mode(given: Option<LintMode>) -> Result<LintMode, EngineError> {
    if let Some(mode) = given {
        return Ok(mode);
    }
    match std::env::var("MIGRATION_LINT")
        .ok()
        .as_deref()
        .map(str::trim)
    {
        None | Some("" | "off") => Ok(LintMode::Off),
        Some("warn") => Ok(LintMode::Warn),
        Some("deny") => Ok(LintMode::Deny),
        Some(other) => Err(EngineError::Config {
            message: format!("unknown MIGRATION_LINT `{other}`; use off, warn or deny"),
        }),
    }
}

/// Where a migration's module lives, relative to the working directory when it is under it
/// (what GitHub annotations and SARIF locations want).
pub(super) fn source_file(project: &LoadedProject, migration: &str) -> Option<String> {
    let file = format!("{migration}.rs");
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Some(dir) = &project.source_dir {
        candidates.push(dir.join(&file));
    }
    candidates.push(project.crate_dir.join("src").join(&file));
    let found = candidates.into_iter().find(|p| p.is_file())?;
    let cwd = std::env::current_dir().ok();
    let shown: &Path = cwd
        .as_deref()
        .and_then(|c| found.strip_prefix(c).ok())
        .unwrap_or(&found);
    Some(shown.display().to_string())
}

/// The versions of the migrations the status lists as pending.
pub(super) fn pending_of(status: &crate::exec::report::StatusReport) -> BTreeSet<String> {
    status
        .migrations
        .iter()
        .filter(|l| l.state == crate::plan::State::Pending)
        .map(|l| l.version.clone())
        .collect()
}
