//! The `migrate` command line. A project's `main` is one line:
//! `fn main() -> ExitCode { migration_engine::cli::main::<Migrator>(env!("CARGO_MANIFEST_DIR")) }`.
//!
//! Results go to stdout, logs and errors to stderr; every error becomes one line and one of the
//! documented exit codes in [`exit`].

pub mod args;
mod exit;
mod output;

use clap::Parser;
use sea_orm_migration::MigratorTrait;
use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use crate::error::EngineError;
use crate::ledger::Ledger;
use crate::plan::{DownTarget, State, UpTarget};
use crate::report::RunReport;
use crate::runner::{Engine, RepairAction, RunOptions};
use crate::scaffold;
use crate::source::{MigrationId, MigrationSet};
use crate::target::{DEFAULT_DATABASE_URL, Target};
use args::{Cli, Command};

/// What a command ended with, before it becomes an exit code.
pub(crate) enum Outcome {
    /// Success.
    Done,
    /// `check` found pending migrations.
    Pending,
    /// `check` found modified, missing or failed migrations.
    Invalid,
}

/// Parses the command line, runs the command for migrator `M`, and returns the exit code.
/// `crate_dir` is the migration crate's directory, where `create` looks last for `lib.rs`.
pub fn main<M: MigratorTrait>(crate_dir: &str) -> ExitCode {
    let env_error = match dotenvy::dotenv() {
        Ok(_) => None,
        Err(e) if e.not_found() => None,
        Err(e) => Some(e),
    };
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    if let Some(e) = env_error {
        // dotenvy's message quotes the whole line, which may hold a secret: say only where.
        let detail = match &e {
            dotenvy::Error::LineParse(line, index) => {
                let key = line.split('=').next().unwrap_or("").trim();
                format!("syntax error at character {index} of the line for `{key}`")
            }
            dotenvy::Error::Io(io) => io.kind().to_string(),
            _ => "unreadable".to_owned(),
        };
        return exit::fail(
            &EngineError::Config {
                message: format!("cannot read .env: {detail}; fix the line or remove the file"),
            },
            None,
        );
    }
    output::init_logging(cli.verbose);
    std::panic::set_hook(Box::new(|info| {
        let text = crate::target::redact_url(&info.to_string());
        eprintln!("error: internal error: {text}; please report it");
    }));
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let crate_dir = Path::new(crate_dir).to_path_buf();
    let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        runtime.block_on(run::<M>(cli, &crate_dir))
    }));
    match run {
        Ok(Ok(outcome)) => exit::success(outcome),
        Ok(Err(failure)) => exit::fail(&failure.0, failure.1.as_ref()),
        Err(_) => ExitCode::from(1),
    }
}

type Failure = Box<(EngineError, Option<Target>)>;

async fn run<M: MigratorTrait>(mut cli: Cli, crate_dir: &Path) -> Result<Outcome, Failure> {
    let command = cli.command.take().unwrap_or(Command::Up {
        num: None,
        to: None,
        dry_run: false,
        allow_out_of_order: false,
        change: args::Change::default(),
    });
    if let Command::Create {
        name,
        migration_dir,
        ..
    } = &command
    {
        let dir = scaffold::locate(migration_dir.as_deref(), Some(crate_dir))
            .map_err(|e| Box::new((e, None)))?;
        let file =
            scaffold::create(&dir, name, scaffold::now()).map_err(|e| Box::new((e, None)))?;
        output::created(cli.format, &file);
        return Ok(Outcome::Done);
    }
    // The list is checked before connecting: a duplicate or misordered version never reaches the
    // database.
    let set = MigrationSet::from_migrator::<M>().map_err(|e| Box::new((e, None)))?;
    let url = cli
        .database_url
        .clone()
        .unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned());
    let target = Target::new(
        &url,
        cli.database_schema.clone(),
        cli.migration_schema.clone(),
        cli.migration_table.clone(),
    )
    .map_err(|e| Box::new((e, None)))?;
    let fail = |e: EngineError| Box::new((e, Some(target.clone())));
    let conn = target
        .connect(Duration::from_secs(cli.connect_timeout))
        .await
        .map_err(fail)?;
    let ledger = Ledger::new(
        target.backend(),
        target
            .migration_schema
            .clone()
            .or(target.database_schema.clone()),
        target.migration_table.clone(),
    );
    let engine = Engine::new(conn, &set, ledger);
    let ctx = Ctx {
        cli: &cli,
        engine: &engine,
        target: &target,
    };
    ctx.dispatch(command).await.map_err(fail)
}

struct Ctx<'a> {
    cli: &'a Cli,
    engine: &'a Engine<'a>,
    target: &'a Target,
}

fn version_arg(typed: &str) -> Result<String, EngineError> {
    MigrationId::normalise_version(typed).ok_or_else(|| EngineError::UnknownVersion {
        version: typed.to_owned(),
    })
}

impl Ctx<'_> {
    fn options(&self, change: &args::Change) -> RunOptions {
        RunOptions {
            reason: change.reason.clone(),
            confirmed_missing: self.cli.yes,
        }
    }

    /// Asks before a destructive command; without a terminal, `--yes` is required.
    fn confirm(&self, effect: &str) -> Result<(), EngineError> {
        if self.cli.yes {
            return Ok(());
        }
        let action = format!("{effect} on {}", self.target.redacted());
        if !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
            return Err(EngineError::NeedsConfirmation { action });
        }
        match inquire::Confirm::new(&format!("{action}. Proceed?"))
            .with_default(false)
            .prompt()
        {
            Ok(true) => Ok(()),
            _ => Err(EngineError::Cancelled),
        }
    }

    async fn applied_count(&self) -> Result<usize, EngineError> {
        let status = self.engine.status().await?;
        Ok(status
            .migrations
            .iter()
            .filter(|m| m.state != State::Pending)
            .count())
    }

    async fn down(
        &self,
        target: DownTarget,
        options: RunOptions,
    ) -> Result<RunReport, EngineError> {
        match self.engine.down(&target, &options).await {
            Err(EngineError::MissingNeedsConfirmation { versions })
                if std::io::stdin().is_terminal() && std::io::stderr().is_terminal() =>
            {
                let script = self.engine.dry_run_down(&target, &options).await?;
                eprintln!("{script}");
                self.confirm(&format!(
                    "reverts {} migration(s) that are not in the code, with the SQL above",
                    versions.len()
                ))?;
                let confirmed = RunOptions {
                    confirmed_missing: true,
                    ..options
                };
                self.engine.down(&target, &confirmed).await
            }
            other => other,
        }
    }

    async fn dispatch(&self, command: Command) -> Result<Outcome, EngineError> {
        let format = self.cli.format;
        match command {
            Command::Up {
                num,
                to,
                dry_run,
                allow_out_of_order,
                change,
            } => {
                let target = UpTarget {
                    steps: num,
                    to: to.as_deref().map(version_arg).transpose()?,
                    allow_out_of_order,
                };
                if dry_run {
                    output::script(
                        format,
                        &self
                            .engine
                            .dry_run_up(&target, &self.options(&change))
                            .await?,
                    );
                } else {
                    output::run(
                        format,
                        &self.engine.up(&target, &self.options(&change)).await?,
                    );
                }
            }
            Command::Down {
                num,
                to,
                all,
                dry_run,
                change,
            } => {
                let target = match (num, to, all) {
                    (_, _, true) => DownTarget::All,
                    (_, Some(v), _) => DownTarget::To(version_arg(&v)?),
                    (n, None, false) => DownTarget::Steps(n.unwrap_or(1)),
                };
                if dry_run {
                    output::script(
                        format,
                        &self
                            .engine
                            .dry_run_down(&target, &self.options(&change))
                            .await?,
                    );
                } else {
                    if target == DownTarget::All {
                        let n = self.applied_count().await?;
                        if n > 0 {
                            self.confirm(&format!(
                                "reverts {n} migration(s); the schema will be empty"
                            ))?;
                        }
                    }
                    output::run(format, &self.down(target, self.options(&change)).await?);
                }
            }
            Command::Status => output::status(format, &self.engine.status().await?),
            Command::Check => {
                let status = self.engine.status().await?;
                output::status(format, &status);
                let invalid = status.count(State::Modified)
                    + status.count(State::Missing)
                    + status.count(State::Failed);
                if invalid > 0 {
                    return Ok(Outcome::Invalid);
                }
                if status.count(State::Pending) > 0 {
                    return Ok(Outcome::Pending);
                }
            }
            Command::History { limit } => {
                output::history(format, &self.engine.history(limit).await?)
            }
            Command::Fresh { change } => {
                let objects = self.engine.objects().await?;
                if !objects.is_empty() {
                    self.confirm(&format!(
                        "drops {} table(s) and view(s) ({}) and applies every migration",
                        objects.len(),
                        objects.join(", ")
                    ))?;
                }
                self.engine.drop_all().await?;
                output::run(
                    format,
                    &self
                        .engine
                        .up(&UpTarget::default(), &self.options(&change))
                        .await?,
                );
            }
            Command::Reset { change } => {
                let n = self.applied_count().await?;
                if n > 0 {
                    self.confirm(&format!(
                        "reverts {n} migration(s); the schema will be empty"
                    ))?;
                }
                output::run(
                    format,
                    &self.down(DownTarget::All, self.options(&change)).await?,
                );
            }
            Command::Refresh { change } => {
                let n = self.applied_count().await?;
                if n > 0 {
                    self.confirm(&format!(
                        "reverts {n} migration(s), then applies every migration"
                    ))?;
                }
                let mut report = self.down(DownTarget::All, self.options(&change)).await?;
                report.extend(
                    self.engine
                        .up(&UpTarget::default(), &self.options(&change))
                        .await?,
                );
                output::run(format, &report);
            }
            Command::Redo { num, change } => {
                let mut report = self
                    .down(DownTarget::Steps(num), self.options(&change))
                    .await?;
                let again = UpTarget {
                    steps: Some(num),
                    ..UpTarget::default()
                };
                report.extend(self.engine.up(&again, &self.options(&change)).await?);
                output::run(format, &report);
            }
            Command::Repair {
                mark_applied,
                remove,
                change,
            } => {
                let action = match (mark_applied, remove) {
                    (Some(v), _) => RepairAction::MarkApplied(v),
                    (None, Some(v)) => RepairAction::Remove(v),
                    (None, None) => RepairAction::Checksums,
                };
                output::repair(
                    format,
                    &self.engine.repair(&action, &self.options(&change)).await?,
                );
            }
            Command::Adopt => output::run(format, &self.engine.adopt().await?),
            Command::Create { .. } => {}
        }
        Ok(Outcome::Done)
    }
}
