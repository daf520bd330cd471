//! `migrate` on a project of several sets: `up`, `down`, `status`, `check`, `history`,
//! `verify` and `fresh` go through the selected sets (`--set`, every set by default) in run
//! order, `down` in reverse; every other command works on one set, named with `--set`.

use std::time::Duration;

use super::args::{self, Cli, Command};
use super::exit::CommandError;
use super::{Failure, Outcome, confirm, output, signal, targets};
use crate::backend::target::Target;
use crate::error::EngineError;
use crate::exec::backup::TakeBackup;
use crate::exec::operations::{Hooks, Operations};
use crate::exec::report::{RunReport, StatusReport};
use crate::exec::session::SessionOptions;
use crate::exec::sets::{self, Connections};
use crate::exec::{Engine, RunOptions};
use crate::model::sets::LoadedSet;
use crate::plan::{DownTarget, State, UpTarget};
use crate::schema::verify::{self, VerifyOptions};
use std::sync::Arc;

/// The commands that go through several sets; the others need one.
pub(super) fn across_sets(command: &Command) -> bool {
    matches!(
        command,
        Command::Up { .. }
            | Command::Down { .. }
            | Command::Lint(_)
            | Command::Status
            | Command::Check
            | Command::History { .. }
            | Command::Verify { .. }
            | Command::Fresh { .. }
    )
}

fn usage(message: String) -> Failure {
    Box::new((EngineError::Config { message }.into(), None))
}

/// A flag a project of several sets does not take, as the error [`usage`] turns it into.
fn refused(message: &str) -> EngineError {
    EngineError::Config {
        message: message.to_owned(),
    }
}

/// The indices of the sets `--set` names, in run order; every set when it names none.
///
/// # Errors
/// A usage error naming an unknown set and the known ones.
pub(super) fn selected(cli: &Cli, sets: &[LoadedSet]) -> Result<Vec<usize>, Failure> {
    for name in &cli.sets {
        if !sets.iter().any(|s| &s.name == name) {
            let known: Vec<&str> = sets.iter().map(|s| s.name.as_str()).collect();
            return Err(usage(format!(
                "unknown set `{name}` in --set: this project's sets are {}",
                known.join(", ")
            )));
        }
    }
    Ok((0..sets.len())
        .filter(|&i| cli.sets.is_empty() || cli.sets.contains(&sets[i].name))
        .collect())
}

/// The one set a single-set command works on: the one `--set` names, or the project's only set.
///
/// # Errors
/// A usage error when `--set` names none or several of several sets.
pub(super) fn single(cli: &Cli, command: &str, sets: &[LoadedSet]) -> Result<usize, Failure> {
    let chosen = selected(cli, sets)?;
    match chosen.as_slice() {
        [one] => Ok(*one),
        _ => Err(usage(format!(
            "`migrate {command}` works on one set at a time: add `--set NAME` (one of {})",
            sets.iter()
                .map(|s| s.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// Before a single-set command that reverts (`reset`, `refresh`, `redo`) on set `index`:
/// refuses, as `down` would, while another set that needs what it reverts has anything
/// applied.
pub(super) async fn check_single(
    cli: &Cli,
    command: &Command,
    sets: &[LoadedSet],
    targets: &[Target],
    index: usize,
) -> Result<(), Failure> {
    let down = match command {
        Command::Reset { .. } | Command::Refresh { .. } => DownTarget::All,
        Command::Redo { num, .. } => DownTarget::Steps(*num),
        _ => return Ok(()),
    };
    let timeout = Duration::from_secs(cli.global.connect_timeout);
    let mut conns = Connections::new();
    let checked = async {
        let siblings = ledgers(targets);
        let engine = conns
            .engine(&sets[index], &targets[index], &siblings, timeout)
            .await?;
        let versions = engine.planned_down(&down).await?;
        let mut statuses: Vec<Option<StatusReport>> = vec![None; sets.len()];
        for (j, other) in sets.iter().enumerate() {
            if j != index && other.needs.iter().any(|n| n.set == sets[index].name) {
                let engine = conns.engine(other, &targets[j], &siblings, timeout).await?;
                statuses[j] = Some(engine.status().await?);
            }
        }
        sets::check_down(sets, &statuses, index, &versions, &[])
    }
    .await;
    conns.close().await;
    checked.map_err(|e| Box::new((e.into(), Some(targets[index].clone()))))
}

/// What a command across sets runs with.
pub(super) struct AcrossSets<'a> {
    pub cli: &'a Cli,
    pub sets: &'a [LoadedSet],
    pub targets: &'a [Target],
    pub selected: Vec<usize>,
    pub hooks: Hooks,
}

/// Every set's ledger table, for [`crate::store::ledger::Ledger::with_siblings`].
pub(super) fn ledgers(targets: &[Target]) -> Vec<String> {
    targets.iter().map(|t| t.migration_table.clone()).collect()
}

impl<'x> AcrossSets<'x> {
    fn ledgers(&self) -> Vec<String> {
        ledgers(self.targets)
    }

    fn timeout(&self) -> Duration {
        Duration::from_secs(self.cli.global.connect_timeout)
    }

    /// An error of set `index`, with its target for the printer's scrubbing.
    fn fail(&self, index: usize) -> impl Fn(CommandError) -> Failure + '_ {
        move |e| Box::new((e, Some(self.targets[index].clone())))
    }

    /// A reading engine for set `i`, on the connection its database shares.
    async fn reader(&self, conns: &mut Connections, i: usize) -> Result<Engine<'x>, Failure> {
        conns
            .engine(
                &self.sets[i],
                &self.targets[i],
                &self.ledgers(),
                self.timeout(),
            )
            .await
            .map_err(|e| self.fail(i)(e.into()))
    }

    /// `read` on each set of `order`, with its reading engine: each set's index and result.
    async fn each<T>(
        &self,
        conns: &mut Connections,
        order: &[usize],
        read: impl AsyncFn(&Engine<'x>) -> Result<T, EngineError>,
    ) -> Result<Vec<(usize, T)>, Failure> {
        let mut results = Vec::with_capacity(order.len());
        for &i in order {
            let engine = self.reader(conns, i).await?;
            let result = read(&engine).await.map_err(|e| self.fail(i)(e.into()))?;
            results.push((i, result));
        }
        Ok(results)
    }

    /// Prints one result per set, in the order given (see [`output::per_set`]).
    fn print<T: serde::Serialize>(&self, results: &[(usize, T)], text: impl Fn(&T)) {
        let parts: Vec<_> = results
            .iter()
            .map(|(i, report)| output::SetPart {
                set: self.sets[*i].name.clone(),
                database: self.targets[*i].redacted(),
                report,
            })
            .collect();
        output::per_set(self.cli.global.format, &parts, text);
    }

    /// `migrate lint` on each selected set: text and JSON per set, annotations and SARIF as one
    /// document over them all; exit 4 when any set has an error-level finding.
    async fn lint(
        &self,
        conns: &mut Connections,
        args: &args::LintArgs,
    ) -> Result<Outcome, Failure> {
        if args.rules {
            output::lint_rules(self.cli.global.format);
            return Ok(Outcome::Done);
        }
        let statuses = if args.pending {
            Some(self.statuses(conns, |i| self.selected.contains(&i)).await?)
        } else {
            None
        };
        let mut reports = Vec::with_capacity(self.selected.len());
        for &i in &self.selected {
            let pending = statuses
                .as_ref()
                .and_then(|s| s[i].as_ref())
                .map(super::lint::pending_of);
            let report = super::lint::report(
                self.cli,
                &self.sets[i].project,
                &self.targets[i],
                args,
                pending,
            )
            .await
            .map_err(self.fail(i))?;
            reports.push((i, report));
        }
        let file_of = |migration: &str| {
            self.sets
                .iter()
                .find_map(|s| super::lint::source_file(&s.project, migration))
        };
        match args.annotate {
            Some(_) => {
                let all = crate::lint::LintReport {
                    backends: reports
                        .first()
                        .map(|(_, r)| r.backends.clone())
                        .unwrap_or_default(),
                    migrations: reports
                        .iter()
                        .flat_map(|(_, r)| r.migrations.iter().cloned())
                        .collect(),
                };
                output::lint(self.cli.global.format, args.annotate, &all, &file_of);
            }
            None => self.print(&reports, |r| {
                output::lint(args::Format::Text, None, r, &file_of);
            }),
        }
        Ok(if reports.iter().any(|(_, r)| r.has_errors()) {
            Outcome::Invalid
        } else {
            Outcome::Done
        })
    }

    /// The status of each set `wanted` names, by index; `None` for the others.
    async fn statuses(
        &self,
        conns: &mut Connections,
        wanted: impl Fn(usize) -> bool,
    ) -> Result<Vec<Option<StatusReport>>, Failure> {
        let order: Vec<usize> = (0..self.sets.len()).filter(|&i| wanted(i)).collect();
        let read = self.each(conns, &order, async |e| e.status().await).await?;
        let mut statuses = vec![None; self.sets.len()];
        for (i, status) in read {
            statuses[i] = Some(status);
        }
        Ok(statuses)
    }

    /// [`AcrossSets::statuses`] on connections opened for it and closed after: what a caller
    /// holding a set's lock reads of the others now.
    async fn statuses_now(
        &self,
        wanted: impl Fn(usize) -> bool,
    ) -> Result<Vec<Option<StatusReport>>, CommandError> {
        let mut conns = Connections::new();
        let now = self.statuses(&mut conns, wanted).await;
        conns.close().await;
        now.map_err(|failure| failure.0)
    }

    /// The sets related to the selection through needs, in either direction, and the selection.
    fn related(&self, i: usize) -> bool {
        let set = &self.sets[i];
        self.selected.contains(&i)
            || self.selected.iter().any(|&s| {
                let chosen = &self.sets[s];
                chosen.needs.iter().any(|n| n.set == set.name)
                    || set.needs.iter().any(|n| n.set == chosen.name)
            })
    }

    pub(super) async fn run(self, command: Command) -> Result<Outcome, Failure> {
        let mut conns = Connections::new();
        let outcome = self.dispatch(command, &mut conns).await;
        conns.close().await;
        outcome
    }

    async fn dispatch(
        &self,
        command: Command,
        conns: &mut Connections,
    ) -> Result<Outcome, Failure> {
        let text = args::Format::Text;
        match command {
            Command::Status | Command::Check => {
                let statuses = self
                    .each(conns, &self.selected, async |e| e.status().await)
                    .await?;
                self.print(&statuses, |s| output::status(text, s));
                if matches!(command, Command::Check) {
                    let count = |state| statuses.iter().map(|(_, s)| s.count(state)).sum::<usize>();
                    if count(State::Modified) + count(State::Missing) + count(State::Failed) > 0 {
                        return Ok(Outcome::Invalid);
                    }
                    if count(State::Pending) + count(State::Running) > 0 {
                        return Ok(Outcome::Pending);
                    }
                }
                Ok(Outcome::Done)
            }
            Command::History { limit } => {
                let histories = self
                    .each(conns, &self.selected, async |e| {
                        Ok(output::History {
                            history: e.history(limit).await?,
                        })
                    })
                    .await?;
                let verbose = self.cli.verbose;
                self.print(&histories, |h| output::history(text, &h.history, verbose));
                Ok(Outcome::Done)
            }
            Command::Verify { from } => self.verify(from.as_deref()).await,
            Command::Lint(args) => self.lint(conns, &args).await,
            Command::Up {
                num,
                to,
                to_release,
                dry_run,
                allow_out_of_order,
                single_transaction,
                lint,
                change,
            } => {
                let lint = super::lint::mode(lint).map_err(|e| usage(e.to_string()))?;
                if self.selected.len() > 1
                    && to_release.is_none()
                    && (num.is_some() || to.is_some())
                {
                    return Err(usage(
                        "--num and --to count the migrations of one set: add `--set NAME`"
                            .to_owned(),
                    ));
                }
                let Some(target) = targets::up_target(
                    num,
                    to.as_deref(),
                    to_release.as_deref(),
                    allow_out_of_order,
                    &|_| {
                        Err(refused(
                            "--to-release on a project of several sets: name the set with `--set NAME` and use --to VERSION",
                        ))
                    },
                )
                .map_err(|e| usage(e.to_string()))?
                else {
                    // Not reached: the sets refuse `--to-release` above.
                    return Ok(Outcome::Done);
                };
                let options = RunOptions {
                    single_transaction,
                    ..self.options(change)
                };
                self.up(conns, &target, &options, dry_run, lint).await
            }
            Command::Down {
                num,
                to,
                to_release,
                batch,
                all,
                dry_run,
                change,
            } => {
                if !all && self.selected.len() > 1 {
                    return Err(usage(
                        "`migrate down` reverts the newest migrations of one set: add `--set NAME`, or use `--all` for every selected set"
                            .to_owned(),
                    ));
                }
                let target = targets::down_target(
                    num,
                    to.as_deref(),
                    to_release.as_deref(),
                    batch,
                    all,
                    &|_| {
                        Err(refused(
                            "--to-release on a project of several sets: use --to VERSION",
                        ))
                    },
                )
                .map_err(|e| usage(e.to_string()))?;
                self.down(conns, &target, &self.options(change), dry_run)
                    .await
            }
            Command::Fresh {
                seed,
                dry_run,
                change,
                ..
            } => {
                if seed.is_some() {
                    return Err(usage(
                        "`fresh --seed` seeds one set: add `--set NAME`".to_owned(),
                    ));
                }
                self.fresh(conns, &self.options(change), dry_run).await
            }
            _ => Ok(Outcome::Done),
        }
    }

    fn options(&self, change: args::Change) -> RunOptions {
        RunOptions {
            reason: change.reason,
            confirmed_missing: self.cli.global.yes,
            ..RunOptions::default()
        }
    }

    /// The options of a session running `command`.
    fn session_options(&self, command: &str) -> SessionOptions {
        SessionOptions {
            lock_timeout_ddl: self.cli.lock_timeout_ddl.map(Duration::from_secs),
            lock_retry: self.cli.lock_retry(),
            statement_timeout: self.cli.statement_timeout.map(Duration::from_secs),
            ..self
                .cli
                .global
                .session_options(format!("migrate {command}"))
        }
    }

    /// Runs `work` in a session on set `index` (a connection of its own, which the session
    /// closes, and the set's lock), with the confirmations, guarded for `action` when given,
    /// interruptible by a signal; then releases the session.
    async fn in_session<T>(
        &self,
        index: usize,
        command: &str,
        action: Option<&str>,
        work: impl AsyncFnOnce(&Operations<'x>) -> Result<T, CommandError>,
    ) -> Result<T, Failure> {
        let target = &self.targets[index];
        let conn = target
            .connect(self.timeout())
            .await
            .map_err(|e| self.fail(index)(e.into()))?;
        let engine = sets::engine_on(conn, &self.sets[index], target, &self.ledgers());
        let ops = Operations::on_engine(engine, target, &self.session_options(command), |holder| {
            eprintln!(
                "waiting for the migration lock of set `{}`, held by {holder}",
                self.sets[index].name
            );
        })
        .await
        .map_err(|e| self.fail(index)(e.into()))?;
        let confirm = Arc::new(confirm::Confirmations::new(
            target.clone(),
            self.cli.global.yes,
        ));
        let backup = Arc::new(TakeBackup::new(
            self.cli
                .backups
                .policy()
                .map_err(|e| self.fail(index)(e.into()))?,
            format!("migrate {command}"),
        ));
        let hooks = self
            .hooks
            .clone()
            .before_destructive_first(backup)
            .before_destructive_first(confirm);
        let ops = ops.with_hooks(hooks);
        let outcome = async {
            if let Some(action) = action {
                ops.session().guard(action).await?;
            }
            ops.session().interruptible(work(&ops), signal()).await
        }
        .await;
        ops.close(outcome).await.map_err(self.fail(index))
    }

    /// `up` on each selected set in order. Refused before anything runs when a set with
    /// something to apply needs what is neither applied nor applied by this command first; under
    /// each set's lock, what it needs is read again (another runner may have reverted it since).
    async fn up(
        &self,
        conns: &mut Connections,
        target: &UpTarget,
        options: &RunOptions,
        dry_run: bool,
        lint: args::LintMode,
    ) -> Result<Outcome, Failure> {
        // What is pending is read before what stands: a set another runner applies in between
        // then reads as applied, not as missing from both.
        let pending: Vec<usize> = self
            .each(conns, &self.selected, async |e| {
                Ok(!e.up_to_date(target, options).await)
            })
            .await?
            .into_iter()
            .filter_map(|(i, pending)| pending.then_some(i))
            .collect();
        let statuses = self.statuses(conns, |i| self.related(i)).await?;
        for (n, &i) in pending.iter().enumerate() {
            sets::check_up(self.sets, &statuses, i, &pending[..n])
                .map_err(|e| self.fail(i)(e.into()))?;
        }
        if !dry_run {
            // `up --lint`: every set with something pending is linted before any set runs.
            for &i in &pending {
                let Some(status) = &statuses[i] else { continue };
                super::lint::before_up(
                    self.cli,
                    &self.sets[i].project,
                    &self.targets[i],
                    lint,
                    super::lint::pending_of(status),
                )
                .await
                .map_err(self.fail(i))?;
            }
        }
        if dry_run {
            let scripts = self
                .each(conns, &self.selected, async |e| {
                    e.dry_run_up(target, options).await
                })
                .await?;
            self.print(&scripts, |s| output::script(args::Format::Text, s));
            return Ok(Outcome::Done);
        }
        let mut reports: Vec<(usize, RunReport)> = Vec::with_capacity(self.selected.len());
        for &i in &self.selected {
            if !pending.contains(&i) {
                reports.push((i, RunReport::default()));
                continue;
            }
            let before: Vec<usize> = reports.iter().map(|(j, _)| *j).collect();
            let needed = |j: usize| {
                !before.contains(&j)
                    && self.sets[i]
                        .needs
                        .iter()
                        .any(|n| n.set == self.sets[j].name)
            };
            let report = self
                .in_session(i, "up", None, async |ops| {
                    let now = self.statuses_now(needed).await?;
                    sets::check_up(self.sets, &now, i, &before)?;
                    Ok(ops.up(target, options).await?)
                })
                .await?;
            reports.push((i, report));
        }
        self.print(&reports, |r| output::run(args::Format::Text, r));
        Ok(Outcome::Done)
    }

    /// `down` on each selected set in reverse order, refused as [`AcrossSets::up`] is while a
    /// set that needs what would go keeps anything applied.
    async fn down(
        &self,
        conns: &mut Connections,
        target: &DownTarget,
        options: &RunOptions,
        dry_run: bool,
    ) -> Result<Outcome, Failure> {
        let order: Vec<usize> = self.selected.iter().rev().copied().collect();
        // Only `--all` takes a set whole, so only then are the sets reverted before it gone.
        let before = |n: usize| {
            if matches!(target, DownTarget::All) {
                order[..n].to_vec()
            } else {
                Vec::new()
            }
        };
        let statuses = self.statuses(conns, |i| self.related(i)).await?;
        let planned = self
            .each(conns, &order, async |e| e.planned_down(target).await)
            .await?;
        for (n, (i, versions)) in planned.iter().enumerate() {
            sets::check_down(self.sets, &statuses, *i, versions, &before(n))
                .map_err(|e| self.fail(*i)(e.into()))?;
        }
        if dry_run {
            let scripts = self
                .each(conns, &order, async |e| {
                    e.dry_run_down(target, options).await
                })
                .await?;
            self.print(&scripts, |s| output::script(args::Format::Text, s));
            return Ok(Outcome::Done);
        }
        let mut reports = Vec::with_capacity(order.len());
        for (n, &i) in order.iter().enumerate() {
            let before = before(n);
            let report = self
                .in_session(i, "down", Some("down"), async |ops| {
                    let now = self.statuses_now(|j| j != i && self.related(j)).await?;
                    let versions = ops.planned_down(target).await?;
                    sets::check_down(self.sets, &now, i, &versions, &before)?;
                    Ok(ops.down(target, options).await?)
                })
                .await?;
            reports.push((i, report));
        }
        self.print(&reports, |r| output::run(args::Format::Text, r));
        Ok(Outcome::Done)
    }

    /// `fresh` across sets: each database is wiped when the first set on it comes, then that
    /// set and the later ones on it are applied; a set left out may not share a database with
    /// one that is wiped.
    async fn fresh(
        &self,
        conns: &mut Connections,
        options: &RunOptions,
        dry_run: bool,
    ) -> Result<Outcome, Failure> {
        let shares = |i: usize, j: usize| sets::same_database(&self.targets[i], &self.targets[j]);
        for &i in &self.selected {
            if let Some(j) =
                (0..self.sets.len()).find(|&j| !self.selected.contains(&j) && shares(i, j))
            {
                return Err(usage(format!(
                    "`fresh` drops everything in the database of set `{}`, which set `{}` uses too: add `--set {}`, or run `migrate fresh` for every set",
                    self.sets[i].name, self.sets[j].name, self.sets[j].name
                )));
            }
        }
        let first: Vec<usize> = self
            .selected
            .iter()
            .enumerate()
            .filter(|&(n, &i)| !self.selected[..n].iter().any(|&j| shares(i, j)))
            .map(|(_, &i)| i)
            .collect();
        if dry_run {
            let plans = self
                .each(conns, &self.selected, async |e| {
                    let wiped = first
                        .iter()
                        .any(|&i| std::ptr::eq(e.set(), &self.sets[i].project.set));
                    Ok(output::FreshPlan {
                        drops: if wiped {
                            e.fresh_listing().await?
                        } else {
                            Default::default()
                        },
                        applies: e.set().iter().map(|m| m.id.to_string()).collect(),
                    })
                })
                .await?;
            self.print(&plans, |p| {
                output::fresh_plan(args::Format::Text, &p.drops, &p.applies, None);
            });
            return Ok(Outcome::Done);
        }
        let mut reports = Vec::with_capacity(self.selected.len());
        for &i in &self.selected {
            let report = if first.contains(&i) {
                let fresh = self
                    .in_session(i, "fresh", Some("fresh"), async |ops| {
                        Ok(ops.fresh(options, None).await?)
                    })
                    .await?;
                output::FreshDone {
                    report: fresh.applied,
                    dropped: fresh.dropped,
                }
            } else {
                let applied = self
                    .in_session(i, "fresh", None, async |ops| {
                        Ok(ops.up(&UpTarget::default(), options).await?)
                    })
                    .await?;
                output::FreshDone {
                    report: applied,
                    dropped: Default::default(),
                }
            };
            reports.push((i, report));
        }
        self.print(&reports, |r| {
            output::fresh(args::Format::Text, &r.dropped, &r.report)
        });
        Ok(Outcome::Done)
    }

    /// `verify` across sets: one scratch database per database the sets run on, each set
    /// checked on it after the sets before it on the same database are applied.
    async fn verify(&self, from: Option<&str>) -> Result<Outcome, Failure> {
        if from.is_some() && self.selected.len() > 1 {
            return Err(usage(
                "`verify --from` names a version of one set: add `--set NAME`".to_owned(),
            ));
        }
        let options = VerifyOptions {
            from: from.map(str::to_owned),
            connect_timeout: self.timeout(),
        };
        let chosen: Vec<verify::SetToVerify<'_>> = self
            .selected
            .iter()
            .map(|&i| verify::SetToVerify {
                target: &self.targets[i],
                set: &self.sets[i].project.set,
            })
            .collect();
        let reports = verify::verify_sets_until(&chosen, &options, signal())
            .await
            .map_err(|e| self.fail(self.selected[0])(e.into()))?;
        let clean = reports.iter().all(|r| r.is_clean());
        let results: Vec<(usize, _)> = self.selected.iter().copied().zip(reports).collect();
        self.print(&results, |r| output::verify(args::Format::Text, r));
        Ok(if clean {
            Outcome::Done
        } else {
            Outcome::Invalid
        })
    }
}
