//! One command on a fleet: `--targets FILE`, `--schemas GLOB` or `--targets-query SQL`.
//!
//! The list is read, checked (not empty, no target twice) and cut to `--shard K/N` before
//! anything connects to a target; the command's own arguments are read once. Destructive
//! commands ask once for the whole fleet, naming how many targets they touch. Then each target
//! runs the command in a session of its own, `--parallel` at a time
//! ([`crate::exec::fleet`]), with a progress bar on a terminal and a line per target
//! otherwise; a summary follows, one row (or JSON entry) per target. A failing target does not
//! stop the others unless `--fail-fast`; the exit code is the first failed target's, and the
//! error names the failed targets. A first SIGINT or SIGTERM starts no further target and lets
//! the running ones finish; a second interrupts them.

use std::io::IsTerminal;
use std::time::Duration;

use serde::Serialize;
use tracing::Instrument;

use super::args::{self, Cli, Command, Format};
use super::exit::{CliError, CommandError};
use super::{Failure, Outcome, output};
use crate::backend::fleet::{self as list, FleetTarget};
use crate::backend::target::Target;
use crate::error::EngineError;
use crate::exec::fleet::{self, FleetOptions, FleetRun, Progress, TargetRun};
use crate::exec::operations::{Hooks, Operation, Operations};
use crate::exec::report::{RepairReport, RunReport, StatusReport};
use crate::exec::session::SessionOptions;
use crate::exec::{RepairAction, RunOptions};
use crate::model::project::LoadedProject;
use crate::plan::{DownTarget, State, UpTarget};
use crate::store::history::HistoryEntry;
use crate::store::ledger::Ledger;

/// What a command does on each target of a fleet, its arguments read once.
enum Job {
    /// `up` and `plan run`: apply; `None` when `--to-release` names nothing to apply.
    Up(Option<UpTarget>, RunOptions),
    /// `down`.
    Down(DownTarget, RunOptions),
    /// `redo -n N`.
    Redo(u32, RunOptions),
    /// `repair`.
    Repair(RepairAction, RunOptions),
    /// `status` and `check`: read only.
    Status,
    /// `history`.
    History(Option<u64>),
}

impl Job {
    /// The operation whose session the job runs in; `None` for reads.
    fn operation(&self) -> Option<Operation> {
        match self {
            Job::Up(..) => Some(Operation::Up),
            Job::Down(..) => Some(Operation::Down),
            Job::Redo(..) => Some(Operation::Redo),
            Job::Repair(..) => Some(Operation::Repair),
            Job::Status | Job::History(_) => None,
        }
    }
}

/// What one target's job found and did.
#[derive(Debug, Default, Serialize)]
struct Done {
    /// The ledger before the job, as counts per state.
    before: Option<Counts>,
    /// The newest release fully applied before the job.
    #[serde(skip_serializing_if = "Option::is_none")]
    release: Option<String>,
    /// What ran.
    #[serde(skip_serializing_if = "Option::is_none")]
    run: Option<RunReport>,
    /// What `repair` changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    repair: Option<Vec<String>>,
    /// `history`, newest first.
    #[serde(skip_serializing_if = "Option::is_none")]
    history: Option<Vec<HistoryEntry>>,
}

/// How many migrations of a target are in each state.
#[derive(Debug, Default, Clone, Copy, Serialize, PartialEq, Eq)]
struct Counts {
    applied: usize,
    pending: usize,
    modified: usize,
    missing: usize,
    failed: usize,
    squashed: usize,
}

impl Counts {
    fn of(status: &StatusReport) -> Self {
        Counts {
            applied: status.count(State::Applied),
            pending: status.count(State::Pending),
            modified: status.count(State::Modified),
            missing: status.count(State::Missing),
            failed: status.count(State::Failed),
            squashed: status.count(State::Squashed),
        }
    }

    fn add(&mut self, other: Counts) {
        self.applied += other.applied;
        self.pending += other.pending;
        self.modified += other.modified;
        self.missing += other.missing;
        self.failed += other.failed;
        self.squashed += other.squashed;
    }

    /// What `check` would end with on a database in this state.
    fn outcome(&self) -> Outcome {
        if self.modified + self.missing + self.failed > 0 {
            Outcome::Invalid
        } else if self.pending > 0 {
            Outcome::Pending
        } else {
            Outcome::Done
        }
    }

    fn text(&self) -> String {
        let mut parts = vec![
            format!("{} applied", self.applied + self.squashed),
            format!("{} pending", self.pending),
        ];
        for (n, word) in [
            (self.modified, "modified"),
            (self.missing, "missing"),
            (self.failed, "failed"),
        ] {
            if n > 0 {
                parts.push(format!("{n} {word}"));
            }
        }
        parts.join(", ")
    }
}

/// Whether the command line asks for a fleet; refuses `--parallel`, `--shard` and
/// `--fail-fast` without a list to apply them to.
///
/// # Errors
/// [`EngineError::Config`] naming the stray flag.
pub fn requested(fleet: &args::FleetArgs) -> Result<bool, EngineError> {
    if fleet.requested() {
        return Ok(true);
    }
    let stray = [
        (fleet.parallel.is_some(), "--parallel"),
        (fleet.shard.is_some(), "--shard"),
        (fleet.fail_fast, "--fail-fast"),
    ];
    match stray.iter().find(|(given, _)| *given) {
        Some((_, flag)) => Err(EngineError::Config {
            message: format!(
                "{flag} applies to a fleet: add --targets FILE, --schemas GLOB or --targets-query SQL, or drop {flag}"
            ),
        }),
        None => Ok(false),
    }
}

/// The commands that run on every target, the name they go by, and the one that runs once.
fn supported(command: &Command) -> Result<&'static str, EngineError> {
    Ok(match command {
        Command::Up { .. } => "up",
        Command::Down { .. } => "down",
        Command::Redo { .. } => "redo",
        Command::Status => "status",
        Command::Check => "check",
        Command::History { .. } => "history",
        Command::Repair { .. } => "repair",
        Command::Verify { .. } => "verify",
        Command::Plan(args::PlanArgs {
            command: args::PlanCommand::Run { dry_run: false, .. },
            ..
        }) => "plan run",
        other => {
            let shown = match super::command_name(other) {
                "migrate" => "this command".to_owned(),
                name => format!("`migrate {name}`"),
            };
            return Err(EngineError::Config {
                message: format!(
                    "{shown} works on one database, not on a fleet: drop --targets, --schemas and --targets-query, and name the database with -u"
                ),
            });
        }
    })
}

/// Reads the fleet's list from the source `fleet` names (on `base`, the database of the global
/// options, for `--schemas` and `--targets-query`), checks it (readable, not empty, no target
/// twice) and keeps this machine's `--shard` of it. Returns the targets and the size of the
/// whole list. For every command line built on the engine that runs on fleets (`seed`).
///
/// # Errors
/// [`EngineError::Config`] for a list that cannot be read, is empty or names a target twice;
/// the connection's and the query's errors for `--schemas` and `--targets-query`.
pub async fn resolve(
    fleet: &args::FleetArgs,
    global: &args::GlobalArgs,
    base: &Target,
) -> Result<(Vec<FleetTarget>, usize), EngineError> {
    let timeout = Duration::from_secs(global.connect_timeout);
    let (targets, source) = if let Some(path) = &fleet.targets {
        let (text, source) = if path.as_os_str() == "-" {
            let mut text = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut text).map_err(|e| {
                EngineError::Config {
                    message: format!("cannot read the target list from stdin ({e}): pipe one URL (or URL and schema) a line into --targets -"),
                }
            })?;
            (text, "stdin".to_owned())
        } else {
            let text = std::fs::read_to_string(path).map_err(|e| EngineError::Config {
                message: format!(
                    "cannot read the target list {} ({e}): give --targets a readable file, or `-` for stdin",
                    path.display()
                ),
            })?;
            (text, path.display().to_string())
        };
        (list::parse_list(&text, &source, base)?, source)
    } else if let Some(pattern) = &fleet.schemas {
        (
            list::schemas_matching(base, pattern, timeout).await?,
            format!("--schemas `{pattern}` on {}", base.redacted()),
        )
    } else if let Some(sql) = &fleet.targets_query {
        (
            list::from_query(base, sql, timeout).await?,
            "--targets-query".to_owned(),
        )
    } else {
        unreachable_source()?
    };
    list::check_distinct(&targets, &source)?;
    let total = targets.len();
    Ok(match fleet.shard {
        Some(shard) => (shard.select(targets), total),
        None => (targets, total),
    })
}

fn unreachable_source() -> Result<(Vec<FleetTarget>, String), EngineError> {
    Err(EngineError::Config {
        message: "no fleet named: add --targets FILE, --schemas GLOB or --targets-query SQL"
            .to_owned(),
    })
}

/// The job `command` stands for, its arguments read once for every target.
fn job(cli: &Cli, command: &Command, project: &LoadedProject) -> Result<Job, CommandError> {
    let options = |change: &args::Change| RunOptions {
        reason: change.reason.clone(),
        confirmed_missing: cli.global.yes,
        plan: None,
        single_transaction: false,
    };
    let release_end = |typed: &str| super::release_end(project, typed);
    Ok(match command {
        Command::Up {
            num,
            to,
            to_release,
            allow_out_of_order,
            single_transaction,
            change,
            ..
        } => Job::Up(
            super::targets::up_target(
                *num,
                to.as_deref(),
                to_release.as_deref(),
                *allow_out_of_order,
                &release_end,
            )?,
            RunOptions {
                single_transaction: *single_transaction,
                ..options(change)
            },
        ),
        Command::Down {
            num,
            to,
            to_release,
            batch,
            all,
            change,
            ..
        } => Job::Down(
            super::targets::down_target(
                *num,
                to.as_deref(),
                to_release.as_deref(),
                *batch,
                *all,
                &release_end,
            )?,
            options(change),
        ),
        Command::Redo { num, change } => Job::Redo(*num, options(change)),
        Command::Repair {
            mark_applied,
            remove,
            change,
        } => Job::Repair(
            match (mark_applied, remove) {
                (Some(v), _) => RepairAction::MarkApplied(v.clone()),
                (None, Some(v)) => RepairAction::Remove(v.clone()),
                (None, None) => RepairAction::Checksums,
            },
            options(change),
        ),
        Command::History { limit } => Job::History(*limit),
        Command::Plan(args::PlanArgs {
            command: args::PlanCommand::Run { name, change, .. },
            plans_dir,
        }) => {
            let dir = super::plans_dir(plans_dir.as_deref(), &project.crate_dir);
            let (target, options) = super::plans::run_target(project, &dir, name, options(change))?;
            Job::Up(Some(target), options)
        }
        _ => Job::Status,
    })
}

/// Runs `command` on the fleet the command line names.
pub(super) async fn execute(
    cli: &Cli,
    command: Command,
    project: &LoadedProject,
    base: Target,
    hooks: Hooks,
) -> Result<Outcome, Failure> {
    let refuse = |e: CommandError| -> Failure { Box::new((e, None)) };
    let name = supported(&command).map_err(|e| refuse(e.into()))?;
    let job = job(cli, &command, project).map_err(refuse)?;
    let (targets, total) = resolve(&cli.fleet, &cli.global, &base)
        .await
        .map_err(|e| refuse(e.into()))?;
    if let Command::Verify { .. } = command {
        // verify builds the migrations on a scratch database: once, on the first target's
        // server, whatever the fleet's size.
        let first = targets
            .into_iter()
            .next()
            .map_or(base, |t| t.target.clone());
        return super::execute_project(cli, command, project, first, Vec::new(), hooks).await;
    }
    if let Some(shard) = cli.fleet.shard {
        eprintln!(
            "shard {shard}: {} of the fleet's {total} target(s)",
            targets.len()
        );
    }
    if let Some(operation) = job.operation()
        && let Some(effect) = operation.destructive()
        && !targets.is_empty()
    {
        confirm_fleet(name, effect, targets.len(), cli.global.yes).map_err(|e| refuse(e.into()))?;
    }
    let format = cli.global.format;
    let parallel = cli.fleet.parallel.map_or_else(
        || fleet::default_parallel(base.backend()),
        |n| usize::from(n).min(targets.len().max(1)),
    );
    let bar = Reporter::new(targets.len(), format);
    let signals = Signals::listen();
    let ctx = FleetCtx {
        cli,
        project,
        name,
        job: &job,
        hooks,
        reporter: &bar,
        signals: &signals,
    };
    let first_signal = async {
        let signal = signals.nth(1).await;
        bar.note(&format!(
            "{signal}: no further target starts; those running finish their work ({signal} again cancels them)"
        ));
        signal
    };
    let run = fleet::run(
        targets.len(),
        FleetOptions {
            parallel,
            fail_fast: cli.fleet.fail_fast,
        },
        first_signal,
        |progress| bar.progress(progress, &targets),
        |i| {
            let span = tracing::info_span!("target", name = %targets[i].label());
            ctx.one(&targets[i].target).instrument(span)
        },
    )
    .await;
    bar.finish();
    let summary = Summary::new(name, &targets, &run);
    summary.print(format, &command);
    summary.outcome(&command, &run)
}

/// Asks once before a destructive command runs on the whole fleet.
fn confirm_fleet(command: &str, effect: &str, count: usize, yes: bool) -> Result<(), EngineError> {
    if yes {
        return Ok(());
    }
    let action = format!("{effect} on {count} target(s) (`migrate {command}`)");
    if !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
        return Err(EngineError::NeedsConfirmation { action });
    }
    match inquire::Confirm::new(&format!("{action}. Proceed?"))
        .with_default(false)
        .with_render_config(super::confirm::render_config())
        .prompt()
    {
        Ok(true) => Ok(()),
        _ => Err(EngineError::Cancelled),
    }
}

/// What every target's job shares.
struct FleetCtx<'a> {
    cli: &'a Cli,
    project: &'a LoadedProject,
    name: &'static str,
    job: &'a Job,
    hooks: Hooks,
    reporter: &'a Reporter,
    signals: &'a Signals,
}

impl FleetCtx<'_> {
    /// Runs the job on `target`: reads where it stands, then, for a command that changes
    /// something, does it in a session of its own.
    async fn one(&self, target: &Target) -> Result<Done, CommandError> {
        let cli = self.cli;
        let conn = target
            .connect(Duration::from_secs(cli.global.connect_timeout))
            .await?;
        let engine = super::engine(conn, self.project, Ledger::of(target));
        let status = engine.status().await?;
        let mut done = Done {
            before: Some(Counts::of(&status)),
            release: self.project.releases.as_ref().and_then(|releases| {
                crate::exec::releases::report(releases, &status)
                    .releases
                    .iter()
                    .rev()
                    .find(|r| r.state == crate::exec::report::Progress::Applied)
                    .map(|r| r.version.clone())
            }),
            ..Done::default()
        };
        let operation = match (self.job, self.job.operation()) {
            (Job::History(limit), _) => {
                done.history = Some(engine.history(*limit).await?);
                return Ok(done);
            }
            (Job::Up(None, _), _) | (Job::Status, _) | (_, None) => return Ok(done),
            (Job::Up(Some(up), options), _) if engine.up_to_date(up, options).await => {
                done.run = Some(RunReport::default());
                return Ok(done);
            }
            (_, Some(operation)) => operation,
        };
        let options = SessionOptions {
            lock_timeout_ddl: cli.lock_timeout_ddl.map(Duration::from_secs),
            lock_retry: cli.lock_retry(),
            statement_timeout: cli.statement_timeout.map(Duration::from_secs),
            ..cli.global.session_options(format!("migrate {}", self.name))
        };
        let reporter = self.reporter;
        let label = list::label(target);
        let policy = cli.backups.policy()?;
        let ops = Operations::on_engine(engine, target, &options, |holder| {
            reporter.note(&format!(
                "{label}: waiting for the migration lock, held by {holder}"
            ));
        })
        .await?
        // The fleet's one confirmation stands for every target's.
        .with_hooks(super::command_hooks(
            target,
            self.hooks.clone(),
            policy,
            self.name,
            true,
            cli.global.format,
        ));
        let outcome = async {
            if let Some(action) = operation.destructive() {
                ops.session().guard(action).await?;
            }
            ops.session()
                .interruptible(self.act(&ops, &mut done), self.signals.nth(2))
                .await
        }
        .await;
        ops.close(outcome).await?;
        Ok(done)
    }

    /// The job's change, in its session.
    async fn act(&self, ops: &Operations<'_>, done: &mut Done) -> Result<(), CommandError> {
        match self.job {
            Job::Up(Some(up), options) => done.run = Some(ops.up(up, options).await?),
            Job::Down(down, options) => done.run = Some(ops.down(down, options).await?),
            Job::Redo(n, options) => done.run = Some(ops.redo(*n, options).await?),
            Job::Repair(action, options) => {
                let RepairReport { changes } = ops.repair(action, options).await?;
                done.repair = Some(changes);
            }
            Job::Up(None, _) | Job::Status | Job::History(_) => {}
        }
        Ok(())
    }
}

/// SIGINT and SIGTERM, counted: the first stops the fleet from starting targets, the second
/// interrupts those running, each in its session. Stopping between migrations leaves every
/// target applied or pending, never half-done, on MySQL/MariaDB too, where an interrupted
/// migration's DDL stays behind.
struct Signals {
    seen: tokio::sync::watch::Receiver<(usize, &'static str)>,
}

impl Signals {
    /// Starts counting signals for the rest of the process.
    fn listen() -> Self {
        let (tx, seen) = tokio::sync::watch::channel((0, ""));
        tokio::spawn(async move {
            #[cfg(unix)]
            {
                use tokio::signal::unix::{SignalKind, signal};
                let (Ok(mut int), Ok(mut term)) = (
                    signal(SignalKind::interrupt()),
                    signal(SignalKind::terminate()),
                ) else {
                    return;
                };
                loop {
                    let name = tokio::select! {
                        _ = int.recv() => "SIGINT",
                        _ = term.recv() => "SIGTERM",
                    };
                    tx.send_modify(|(n, last)| {
                        *n += 1;
                        *last = name;
                    });
                }
            }
            #[cfg(not(unix))]
            while tokio::signal::ctrl_c().await.is_ok() {
                tx.send_modify(|(n, last)| {
                    *n += 1;
                    *last = "SIGINT";
                });
            }
        });
        Self { seen }
    }

    /// Resolves with the signal's name once `n` signals have come; never before.
    async fn nth(&self, n: usize) -> &'static str {
        let mut seen = self.seen.clone();
        match seen.wait_for(|(count, _)| *count >= n).await {
            Ok(value) => value.1,
            Err(_) => std::future::pending().await,
        }
    }
}

/// Progress on stderr: a bar on a terminal (done, failed, remaining, ETA), a line per finished
/// target otherwise.
struct Reporter {
    bar: Option<indicatif::ProgressBar>,
    total: usize,
    finished: std::sync::atomic::AtomicUsize,
    failed: std::sync::atomic::AtomicUsize,
}

impl Reporter {
    fn new(total: usize, format: Format) -> Self {
        let terminal = std::io::stderr().is_terminal() && format == Format::Text;
        let bar = terminal.then(|| {
            let bar = indicatif::ProgressBar::new(total as u64);
            if let Ok(style) = indicatif::ProgressStyle::with_template(
                "{bar:30} {pos}/{len} targets, {msg} (ETA {eta})",
            ) {
                bar.set_style(style);
            }
            bar.set_message("0 failed");
            bar
        });
        Self {
            bar,
            total,
            finished: 0.into(),
            failed: 0.into(),
        }
    }

    /// A line above the bar, or on stderr.
    fn note(&self, line: &str) {
        match &self.bar {
            Some(bar) => bar.println(line),
            None => eprintln!("{line}"),
        }
    }

    fn progress(&self, progress: Progress, targets: &[FleetTarget]) {
        use std::sync::atomic::Ordering::Relaxed;
        let Progress::Finished {
            index,
            ok,
            duration,
        } = progress
        else {
            return;
        };
        let finished = self.finished.fetch_add(1, Relaxed) + 1;
        let failed = self.failed.fetch_add(usize::from(!ok), Relaxed) + usize::from(!ok);
        match &self.bar {
            Some(bar) => {
                bar.set_position(finished as u64);
                bar.set_message(format!(
                    "{failed} failed, {} remaining",
                    self.total - finished
                ));
            }
            None => eprintln!(
                "[{finished}/{}] {} {} ({} ms)",
                self.total,
                if ok { "ok" } else { "failed" },
                targets[index].label(),
                duration.as_millis()
            ),
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// One target's line of the summary.
#[derive(Serialize)]
struct Entry<'r> {
    /// The target, password redacted, with its schema.
    target: String,
    /// `ok`, `failed` or `not started`.
    result: &'static str,
    /// Time spent on this target.
    #[serde(skip_serializing_if = "Option::is_none")]
    duration_ms: Option<u128>,
    /// What the job found and did.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    done: Option<&'r Done>,
    /// Why it failed: the one-line message and the exit code it would have had alone.
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<TargetError>,
}

#[derive(Serialize)]
struct TargetError {
    message: String,
    exit_code: u8,
}

/// The fleet's result, one entry a target, and the totals.
#[derive(Serialize)]
struct Summary<'r> {
    command: &'static str,
    targets: Vec<Entry<'r>>,
    total: Total,
}

#[derive(Serialize, Default)]
struct Total {
    targets: usize,
    ok: usize,
    failed: usize,
    not_started: usize,
    /// Migrations applied or reverted across the fleet.
    steps: usize,
    /// Counts per state across the fleet, before the command.
    before: Counts,
    duration_ms: u128,
    #[serde(skip_serializing_if = "Option::is_none")]
    interrupted: Option<&'static str>,
}

impl<'r> Summary<'r> {
    fn new(
        command: &'static str,
        targets: &[FleetTarget],
        run: &'r FleetRun<Done, CommandError>,
    ) -> Self {
        let mut total = Total {
            targets: targets.len(),
            duration_ms: run.duration.as_millis(),
            interrupted: run.interrupted,
            ..Total::default()
        };
        let entries = targets
            .iter()
            .zip(&run.targets)
            .map(|(t, r)| {
                let label = t.label();
                match r {
                    TargetRun::Ran {
                        result: Ok(done),
                        duration,
                    } => {
                        total.ok += 1;
                        total.steps += done
                            .run
                            .as_ref()
                            .map_or(0, |r| r.steps.iter().map(|s| s.migrations()).sum());
                        if let Some(before) = done.before {
                            total.before.add(before);
                        }
                        Entry {
                            target: label,
                            result: "ok",
                            duration_ms: Some(duration.as_millis()),
                            done: Some(done),
                            error: None,
                        }
                    }
                    TargetRun::Ran {
                        result: Err(e),
                        duration,
                    } => {
                        total.failed += 1;
                        Entry {
                            target: label,
                            result: "failed",
                            duration_ms: Some(duration.as_millis()),
                            done: None,
                            error: Some(TargetError {
                                message: one_line(&t.target.scrub(&e.message())),
                                exit_code: e.exit_code(),
                            }),
                        }
                    }
                    TargetRun::NotStarted => {
                        total.not_started += 1;
                        Entry {
                            target: label,
                            result: "not started",
                            duration_ms: None,
                            done: None,
                            error: None,
                        }
                    }
                }
            })
            .collect();
        Summary {
            command,
            targets: entries,
            total,
        }
    }

    /// Prints the summary on stdout: a table with a row per target and a total line, or one
    /// JSON document.
    fn print(&self, format: Format, command: &Command) {
        if format == Format::Json {
            return output::json(self);
        }
        match command {
            Command::History { .. } => self.print_histories(),
            Command::Status | Command::Check => self.print_states(),
            _ => self.print_runs(),
        }
        for e in &self.targets {
            if let Some(error) = &e.error {
                output::line(&format!("{}: {}", e.target, error.message));
            }
        }
        let t = &self.total;
        let mut line = format!("{} target(s): {} ok", t.targets, t.ok);
        if t.failed > 0 {
            let failed: Vec<&str> = self
                .targets
                .iter()
                .filter(|e| e.result == "failed")
                .map(|e| e.target.as_str())
                .collect();
            line.push_str(&format!(", {} failed ({})", t.failed, named(&failed)));
        }
        if t.not_started > 0 {
            line.push_str(&format!(", {} not started", t.not_started));
        }
        if matches!(command, Command::Status | Command::Check) {
            line.push_str(&format!("; {}", t.before.text()));
        } else if t.steps > 0 {
            line.push_str(&format!("; {} migration step(s)", t.steps));
        }
        line.push_str(&format!(", in {}.", seconds(t.duration_ms)));
        output::line(&line);
    }

    fn print_states(&self) {
        let releases = self
            .targets
            .iter()
            .any(|e| e.done.is_some_and(|d| d.release.is_some()));
        let mut header = vec![
            "Target", "Applied", "Pending", "Modified", "Missing", "Failed",
        ];
        if releases {
            header.push("Release");
        }
        header.push("Result");
        let mut table = output::table(&header);
        for e in &self.targets {
            let mut row: Vec<String> = vec![e.target.clone()];
            match e.done.and_then(|d| d.before) {
                Some(c) => row.extend(
                    [
                        c.applied + c.squashed,
                        c.pending,
                        c.modified,
                        c.missing,
                        c.failed,
                    ]
                    .map(|n| n.to_string()),
                ),
                None => row.extend(std::iter::repeat_n(String::new(), 5)),
            }
            if releases {
                row.push(
                    e.done
                        .and_then(|d| d.release.clone())
                        .unwrap_or_else(|| "none".to_owned()),
                );
            }
            row.push(result_text(e));
            table.add_row(row);
        }
        output::line(&table.to_string());
    }

    fn print_runs(&self) {
        let mut table = output::table(&["Target", "Before", "Steps", "Duration", "Result"]);
        for e in &self.targets {
            let steps = e
                .done
                .and_then(|d| d.run.as_ref())
                .map(steps_text)
                .or_else(|| {
                    e.done
                        .and_then(|d| d.repair.as_ref())
                        .map(|c| format!("{} change(s)", c.len()))
                })
                .unwrap_or_default();
            table.add_row(vec![
                e.target.clone(),
                e.done
                    .and_then(|d| d.before)
                    .map(|c| c.text())
                    .unwrap_or_default(),
                steps,
                e.duration_ms
                    .map(|ms| format!("{ms} ms"))
                    .unwrap_or_default(),
                result_text(e),
            ]);
        }
        output::line(&table.to_string());
    }

    fn print_histories(&self) {
        for e in &self.targets {
            output::line(&format!("{}:", e.target));
            match e.done.and_then(|d| d.history.as_deref()) {
                Some(history) => output::history(Format::Text, history, false),
                None => output::line(&format!("  {}", result_text(e))),
            }
        }
    }

    /// How the command ends: interrupted, failed on some targets (the first one's exit code),
    /// or for `status` and `check`, as `check` would on the worst target.
    fn outcome(
        &self,
        command: &Command,
        run: &FleetRun<Done, CommandError>,
    ) -> Result<Outcome, Failure> {
        let t = &self.total;
        if let Some(signal) = run.interrupted {
            let error = EngineError::Interrupted {
                signal,
                cleanup: format!(
                    "{} of {} target(s) finished, {} failed, {} not started; re-run to finish the rest",
                    t.ok, t.targets, t.failed, t.not_started
                ),
            };
            return Err(Box::new((error.into(), None)));
        }
        let failed: Vec<(&str, u8)> = self
            .targets
            .iter()
            .filter_map(|e| Some((e.target.as_str(), e.error.as_ref()?.exit_code)))
            .collect();
        if let Some(&(_, code)) = failed.first() {
            let names: Vec<&str> = failed.iter().map(|(name, _)| *name).collect();
            let error = CommandError::Fleet {
                failed: failed.len(),
                total: t.targets,
                targets: named(&names),
                code,
            };
            return Err(Box::new((error, None)));
        }
        if matches!(command, Command::Status | Command::Check) {
            let worst = self
                .targets
                .iter()
                .filter_map(|e| e.done.and_then(|d| d.before))
                .map(|c| c.outcome())
                .max_by_key(|o| match o {
                    Outcome::Done => 0,
                    Outcome::Pending => 1,
                    Outcome::Invalid => 2,
                });
            return Ok(worst.unwrap_or(Outcome::Done));
        }
        Ok(Outcome::Done)
    }
}

/// Up to ten names, then how many more.
fn named(names: &[&str]) -> String {
    const SHOWN: usize = 10;
    let mut text = names
        .iter()
        .take(SHOWN)
        .copied()
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > SHOWN {
        text.push_str(&format!(" and {} more", names.len() - SHOWN));
    }
    text
}

fn seconds(ms: u128) -> String {
    format!("{}.{:02} s", ms / 1000, (ms % 1000) / 10)
}

fn steps_text(run: &RunReport) -> String {
    let (up, down) = run.steps.iter().fold((0, 0), |(u, d), s| {
        if s.direction == "up" {
            (u + s.migrations(), d)
        } else {
            (u, d + s.migrations())
        }
    });
    match (up, down) {
        (0, 0) => "nothing to do".to_owned(),
        (up, 0) => format!("applied {up}"),
        (0, down) => format!("reverted {down}"),
        (up, down) => format!("reverted {down}, applied {up}"),
    }
}

fn result_text(e: &Entry<'_>) -> String {
    match &e.error {
        Some(error) => format!("failed (exit {})", error.exit_code),
        None => e.result.to_owned(),
    }
}

/// `text` with every run of whitespace as one space.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
