//! The executor: every `up` and `down` reads where the database stands, plans on it, turns the
//! planner's steps into recipes of the step protocol ([`super::protocol`]), and then either runs
//! them or, for a dry run, prints them. Both walk the same recipes, so a dry run shows what the
//! run does. The CLI, the start-up API and `verify` call these entry points; none of them
//! re-implements the loop.

use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseExecutor, DatabaseTransaction, DbErr,
    TransactionTrait,
};
use sea_orm_migration::MigrationTrait;
use std::time::Instant;
use tracing::info;

use super::engine::{Engine, RunOptions, Snapshot, millis};
use super::protocol::{
    Body, Facts, Failure, Part, Protocol, Recipe, Stage, StepError, Write, step_failed,
};
use super::report::{self, RunReport};
use super::retry::{self, Retry};
use crate::backend;
use crate::error::{EngineError, Result};
use crate::model::set::MigrationSet;
use crate::plan::{self, DownTarget, Entry, Step, UpTarget};
use crate::store::history::Outcome;
use crate::store::ledger::{self, LedgerRow, Rendered};
use crate::store::render::Direction;

/// Where an atomic step's transaction comes from.
#[derive(Debug, Clone, Copy)]
pub(super) enum Frame<'t> {
    /// A transaction of its own; `last` says whether its commit is the run's last.
    Own { last: bool },
    /// A savepoint in the transaction consecutive steps share (SQLite).
    Savepoint(&'t DatabaseTransaction),
    /// The run's one transaction (`--single-transaction`): nothing of its own to open or commit.
    Shared(&'t DatabaseTransaction),
}

/// How the steps of a run are framed in transactions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    /// Each step in a transaction of its own.
    Each,
    /// Consecutive atomic steps in one transaction, a savepoint each (SQLite).
    Grouped,
    /// Every step in one transaction (`--single-transaction`).
    Together,
}

/// An `up` ready to run or print.
pub(super) struct Prepared<'a> {
    /// The steps, in order.
    pub(super) recipes: Vec<Recipe<'a>>,
    /// Why a consolidated migration was passed over, one sentence each.
    pub(super) notes: Vec<String>,
    /// The batch the run records.
    pub(super) batch: i32,
}

impl<'a> Engine<'a> {
    /// Plans `target` on `snap`; a selection (a plan) is also checked for migrations it needs
    /// that are neither applied nor selected.
    fn plan_up(
        &self,
        snap: &Snapshot,
        target: &UpTarget,
        options: &RunOptions,
    ) -> Result<Vec<usize>> {
        let planned = plan::plan_up(&snap.entries, target)?;
        if target.only.is_some() {
            plan::check_prerequisites(
                &snap.entries,
                &planned,
                &self.graph,
                options.plan.as_deref().unwrap_or("selection"),
            )?;
        }
        Ok(planned)
    }

    /// Whether `up` with `target` would apply nothing and refuse nothing: one read of the
    /// ledger, no lock, no writes.
    pub async fn up_to_date(&self, target: &UpTarget, options: &RunOptions) -> bool {
        let Ok(snap) = self.snapshot().await else {
            return false;
        };
        matches!(self.plan_up(&snap, target, options), Ok(planned) if planned.is_empty())
    }

    /// What `up` and its dry run share: the plan on `snap` as recipes, refused as `up` refuses,
    /// before anything is written.
    pub(super) async fn prepare_up(
        &self,
        snap: &Snapshot,
        target: &UpTarget,
        options: &RunOptions,
    ) -> Result<Prepared<'a>> {
        let planned = self.plan_up(snap, target, options)?;
        let set: &'a MigrationSet = self.set;
        let squashes = if self.squashes { set.squashes() } else { &[] };
        let plan::UpSteps { steps, notes } = plan::up_steps(&snap.entries, &planned, squashes);
        for note in &notes {
            info!("{note}");
        }
        let batch = snap.next_batch();
        let mut recipes = Vec::with_capacity(steps.len());
        for step in &steps {
            recipes.push(self.recipe(snap, step, batch, options).await?);
        }
        if options.single_transaction && !recipes.is_empty() {
            self.check_together(&recipes)?;
        }
        Ok(Prepared {
            recipes,
            notes,
            batch,
        })
    }

    /// Refuses `--single-transaction` where one transaction cannot hold the run: where DDL is
    /// not transactional, or for a migration that opts out of transactions.
    fn check_together(&self, recipes: &[Recipe<'_>]) -> Result<()> {
        if !backend::transactional_ddl(self.backend()) {
            return Err(EngineError::Config {
                message: format!(
                    "--single-transaction needs transactional DDL, which {} does not have; drop the flag",
                    backend::name(self.backend())
                ),
            });
        }
        match recipes.iter().find(|r| r.protocol != Protocol::Atomic) {
            Some(recipe) => Err(EngineError::Config {
                message: format!(
                    "{} runs outside a transaction (use_transaction = false), so it cannot share one; apply it without --single-transaction",
                    recipe.label
                ),
            }),
            None => Ok(()),
        }
    }

    /// Applies pending migrations as `target` says, each in its own transaction where the backend
    /// allows, as one new batch. Where the run covers every migration a consolidated migration
    /// replaces and none of them is applied, the consolidated migration runs instead of them;
    /// the report's notes say when one was passed over, and why.
    ///
    /// # Errors
    /// Validation refusals before anything runs (for a selection, also a picked migration that
    /// needs one neither applied nor picked); [`EngineError::MigrationFailed`] when a migration
    /// fails, carrying what completed before it.
    pub(crate) async fn up(&self, target: &UpTarget, options: &RunOptions) -> Result<RunReport> {
        let snap = self.locked_snapshot().await?;
        self.refuse_unledgered(&snap).await?;
        let run = self.prepare_up(&snap, target, options).await?;
        let mut report = RunReport {
            plan: options.plan.clone(),
            ..RunReport::default()
        };
        if run.recipes.is_empty() {
            return Ok(report);
        }
        report.notes = run.notes;
        for recipe in run.recipes.iter().filter(|r| !r.report.replaces.is_empty()) {
            let n = recipe.report.replaces.len();
            info!("{} stands in for {n} migrations", recipe.label);
        }
        report.adopted = self.adopt_if_needed(&snap).await?;
        report.batch = Some(run.batch);
        let framing = if options.single_transaction {
            Framing::Together
        } else if backend::capabilities(self.backend()).one_transaction_per_run {
            Framing::Grouped
        } else {
            Framing::Each
        };
        // Grouped runs create the ledger in their first transaction: one commit fewer.
        let ledger_pending = snap.rows.is_none() && report.adopted.is_empty();
        if ledger_pending && framing != Framing::Grouped {
            self.ensure_ledger().await?;
        }
        let ran = self
            .run_all(&run.recipes, framing, ledger_pending, &mut report, options)
            .await;
        ran.map_err(|e| with_completed(e, &report))?;
        Ok(report)
    }

    /// Reverts applied migrations as `target` says, newest first. Migrations not in the code are
    /// reverted with the `down` SQL stored when they were applied, only once confirmed.
    /// Migrations applied together through a consolidated migration are reverted together by its
    /// `down`. A batch or a selection is reverted only if nothing staying applied needs it.
    ///
    /// # Errors
    /// Validation refusals before anything runs (including an irreversible migration anywhere in
    /// the range, and a migration staying applied that needs one to be reverted);
    /// [`EngineError::MigrationFailed`] when a `down` fails.
    pub(crate) async fn down(
        &self,
        target: &DownTarget,
        options: &RunOptions,
    ) -> Result<RunReport> {
        let snap = self.locked_snapshot().await?;
        self.refuse_unledgered(&snap).await?;
        let recipes = self
            .prepare_down(&snap, target, options, options.confirmed_missing)
            .await?;
        let mut report = RunReport {
            plan: options.plan.clone(),
            ..RunReport::default()
        };
        if recipes.is_empty() {
            return Ok(report);
        }
        report.adopted = self.adopt_if_needed(&snap).await?;
        let framing = if backend::capabilities(self.backend()).one_transaction_per_run {
            Framing::Grouped
        } else {
            Framing::Each
        };
        let ran = self
            .run_all(&recipes, framing, false, &mut report, options)
            .await;
        ran.map_err(|e| with_completed(e, &report))?;
        Ok(report)
    }

    /// The versions `down` would revert for `target`, newest first, without checking whether it
    /// may: for confirmations that depend on how much would go.
    ///
    /// # Errors
    /// The planner's refusals.
    pub async fn planned_down(&self, target: &DownTarget) -> Result<Vec<String>> {
        let snap = self.snapshot().await?;
        let planned = plan::plan_down(&snap.entries, target)?;
        Ok(planned
            .iter()
            .map(|&i| snap.entries[i].version.clone())
            .collect())
    }

    /// What `down` and its dry run share: the plan on `snap` as recipes, refused before any
    /// change when a step cannot be reverted; reverting from stored SQL needs `confirmed`.
    pub(super) async fn prepare_down(
        &self,
        snap: &Snapshot,
        target: &DownTarget,
        options: &RunOptions,
        confirmed: bool,
    ) -> Result<Vec<Recipe<'a>>> {
        let planned = plan::plan_down(&snap.entries, target)?;
        if planned.is_empty() {
            return Ok(Vec::new());
        }
        self.check_dependents(snap, &planned, target, options)?;
        let set: &'a MigrationSet = self.set;
        let steps = plan::down_steps(&snap.entries, &planned, set.squashes());
        let mut irreversible = Vec::with_capacity(steps.len());
        for step in &steps {
            // A `down` that fails without reading anything fails on the database too; one that
            // reads data runs from its code, whatever it reads.
            irreversible.push(match self.code_for(&snap.entries, step)? {
                Some(code) => self
                    .render(code, Direction::Down)
                    .await
                    .irreversible()
                    .map(str::to_owned),
                None => None,
            });
        }
        plan::check_reverts(&snap.entries, &steps, &irreversible, confirmed)?;
        let mut recipes = Vec::with_capacity(steps.len());
        for step in &steps {
            recipes.push(self.recipe(snap, step, 0, options).await?);
        }
        Ok(recipes)
    }

    /// For a batch or a selection: refuses when a migration staying applied needs one of them.
    fn check_dependents(
        &self,
        snap: &Snapshot,
        planned: &[usize],
        target: &DownTarget,
        options: &RunOptions,
    ) -> Result<()> {
        let what = match target {
            DownTarget::Batch(_) => {
                let batch = planned
                    .first()
                    .and_then(|&i| snap.entries[i].row.as_ref())
                    .map(|r| r.batch)
                    .unwrap_or_default();
                format!("batch {batch}")
            }
            DownTarget::Only(_) => match &options.plan {
                Some(plan) => format!("plan `{plan}`"),
                None => "the selected migrations".to_owned(),
            },
            _ => return Ok(()),
        };
        plan::check_dependents(&snap.entries, planned, &self.graph, &what)
    }

    /// The migration code a step runs, if it runs code.
    fn code_for(&self, entries: &[Entry], step: &Step) -> Result<Option<&'a dyn MigrationTrait>> {
        let set: &'a MigrationSet = self.set;
        Ok(match step {
            Step::Apply(i) | Step::Revert(i) => Some(self.code_of(&entries[*i])?.code.as_ref()),
            Step::ApplyConsolidated { squash, .. } | Step::RevertConsolidated { squash, .. } => {
                let group = set
                    .squash(squash)
                    .ok_or_else(|| EngineError::UnknownVersion {
                        version: squash.clone(),
                    })?;
                Some(group.code.as_ref())
            }
            Step::RevertStored { .. } => None,
        })
    }

    /// The recipe of one planned step: what it runs under which protocol, the ledger rows it
    /// writes (new ones in `batch` for an apply), and how it is named and reported.
    async fn recipe(
        &self,
        snap: &Snapshot,
        step: &Step,
        batch: i32,
        options: &RunOptions,
    ) -> Result<Recipe<'a>> {
        let entries = &snap.entries;
        let label = step.label(entries);
        let members = step.members();
        let code = self.code_for(entries, step)?;
        let (body, protocol) = match code {
            Some(code) => {
                let direction = if step.applies() {
                    Direction::Up
                } else {
                    Direction::Down
                };
                let protocol = Protocol::of_code(code, self.backend());
                let sendable = self.sendable(snap, step, code, direction).await;
                (Body::Code(code, direction, sendable), protocol)
            }
            None => (
                Body::Stored(plan::stored_down(entries, members)?),
                Protocol::of_stored(self.backend()),
            ),
        };
        let existing = || -> Vec<LedgerRow> {
            members
                .iter()
                .filter_map(|&i| entries[i].row.clone())
                .collect()
        };
        let (rows, title, source) = match (step, code) {
            (Step::Apply(i), Some(code)) => {
                let entry = &entries[*i];
                let rendered = match entry.code.and_then(|c| snap.code.get(c)) {
                    Some(up) => self.rendered(code, up).await,
                    None => Rendered::default(),
                };
                let row = self.new_row(entry, rendered, batch, options);
                (vec![row], format!("{label} (up, batch {batch})"), "code")
            }
            (Step::ApplyConsolidated { squash, .. }, Some(code)) => {
                info!(
                    "none of the {} migrations {label} replaces is applied: running it instead",
                    members.len()
                );
                let title = format!(
                    "{label} (up, batch {batch}; consolidated, in place of {} migrations none of which is applied)",
                    members.len()
                );
                let rows = self
                    .squash_rows(snap, squash, code, members, batch, options)
                    .await;
                (rows, title, "squash")
            }
            (Step::Revert(_), _) => (existing(), format!("{label} (down, from code)"), "code"),
            (Step::RevertConsolidated { .. }, _) => {
                let rows = existing();
                let how = format!("consolidated: reverts {} migrations", rows.len());
                (rows, format!("{label} (down, {how})"), "squash")
            }
            (Step::RevertStored { via: None, .. }, _) => (
                existing(),
                format!("{label} (down, not in the code: stored SQL)"),
                "stored",
            ),
            (Step::RevertStored { via: Some(_), .. }, _) => {
                let rows = existing();
                let how = format!(
                    "consolidated, not in the code: stored SQL reverts {} migrations",
                    rows.len()
                );
                (rows, format!("{label} (down, {how})"), "stored")
            }
            (Step::Apply(_) | Step::ApplyConsolidated { .. }, None) => {
                return Err(EngineError::UnknownVersion { version: label });
            }
        };
        let (version, name) = step.id(entries);
        let mut replaces: Vec<String> = match step.consolidated() {
            Some(_) => members.iter().map(|&i| entries[i].label()).collect(),
            None => Vec::new(),
        };
        if !step.applies() {
            replaces.sort();
        }
        let direction = match body {
            Body::Code(_, direction, _) => direction,
            Body::Stored(_) => Direction::Down,
        };
        Ok(Recipe {
            report: report::Step {
                version,
                name,
                direction: direction.as_str(),
                source,
                duration_ms: 0,
                replaces,
                retries: Vec::new(),
            },
            label,
            title,
            direction,
            protocol,
            body,
            rows,
        })
    }

    /// The statements `code` renders to in `direction`, when they may be sent in its place
    /// ([`Rendering::sendable`](crate::store::render::Rendering::sendable)). A migration's `up`
    /// was rendered for its checksum already.
    async fn sendable(
        &self,
        snap: &Snapshot,
        step: &Step,
        code: &dyn MigrationTrait,
        direction: Direction,
    ) -> Option<Vec<String>> {
        let cached = match (step, direction) {
            (Step::Apply(i), Direction::Up) => snap.entries[*i].code,
            _ => None,
        };
        let rendering = match cached {
            Some(c) => self.rendered_ups().await.get(c)?.clone(),
            None => self.render(code, direction).await,
        };
        rendering.sendable().map(<[String]>::to_vec)
    }

    /// The ledger rows a consolidated migration (`squash`, whose code is `code`) writes for the
    /// migrations it applies: its checksum on each, its `down` on the newest (reverted first),
    /// nothing to run on the others.
    async fn squash_rows(
        &self,
        snap: &Snapshot,
        squash: &str,
        code: &dyn MigrationTrait,
        members: &[usize],
        batch: i32,
        options: &RunOptions,
    ) -> Vec<LedgerRow> {
        let (down_sql, down_stop) = self.stored_down(code).await;
        let checksum = members
            .first()
            .and_then(|&i| snap.entries[i].code)
            .and_then(|c| snap.code.get(c))
            .and_then(|c| c.squash.as_ref())
            .map(|(_, sum)| sum.clone())
            .unwrap_or_default();
        members
            .iter()
            .map(|&i| {
                let newest = members.last() == Some(&i);
                let rendered = Rendered {
                    checksum: checksum.clone(),
                    render_stop: None,
                    down_sql: if newest {
                        down_sql.clone()
                    } else {
                        Some(ledger::encode_statements(&[]))
                    },
                    down_stop: down_stop.clone().filter(|_| newest),
                };
                LedgerRow {
                    via: Some(squash.to_owned()),
                    ..self.new_row(&snap.entries[i], rendered, batch, options)
                }
            })
            .collect()
    }

    /// Runs `recipes` in order, framed as `framing` says, adding each completed step to
    /// `report`. `ledger_pending` says the ledger is still to be created (grouped runs create it
    /// in their first transaction).
    async fn run_all(
        &self,
        recipes: &[Recipe<'a>],
        framing: Framing,
        ledger_pending: bool,
        report: &mut RunReport,
        options: &RunOptions,
    ) -> Result<()> {
        match framing {
            Framing::Each => {
                let last = recipes.len().saturating_sub(1);
                for (n, recipe) in recipes.iter().enumerate() {
                    let (ms, retries) = self.run_alone(recipe, n == last, options).await?;
                    report.steps.push(report::Step {
                        retries,
                        ..recipe.done(ms)
                    });
                }
                Ok(())
            }
            Framing::Grouped => {
                self.run_grouped(recipes, ledger_pending, report, options)
                    .await
            }
            Framing::Together => self.run_together(recipes, report, options).await,
        }
    }

    /// Runs one step in a transaction of its own (or, tracked, none around its rows), recording
    /// a failure once the step's transaction is rolled back. `last` is whether its commit is the
    /// run's last.
    async fn run_alone(
        &self,
        recipe: &Recipe<'a>,
        last: bool,
        options: &RunOptions,
    ) -> Result<(i64, Vec<Retry>)> {
        let Some((base, ladder)) = self.ladder else {
            return match self.run_step(recipe, Frame::Own { last }, options).await {
                Ok(ms) => Ok((ms, Vec::new())),
                Err(failure) => Err(self.fail(&self.conn, recipe, failure, options).await),
            };
        };
        let mut retries = Vec::new();
        let mut attempt = 1;
        let outcome = loop {
            let timeout = ladder.timeout(base, attempt);
            if attempt > 1 {
                self.set_lock_timeout(timeout).await;
            }
            let failure = match self.run_step(recipe, Frame::Own { last }, options).await {
                Ok(ms) => break Ok(ms),
                Err(failure) => failure,
            };
            // Safe to run again: the step's transaction rolled back, or nothing of it ran
            // before the statement that timed out (so nothing of it has committed).
            let safe = recipe.rolled_back(failure.stage)
                || matches!(
                    recipe.protocol,
                    Protocol::Tracked {
                        own_transaction: true
                    }
                )
                || failure.error.sent() <= 1;
            if !(failure.stage == Stage::Work && failure.error.is_lock_timeout() && safe) {
                break Err(failure);
            }
            if attempt >= ladder.attempts {
                let held = retry::holders(&self.conn, self.backend())
                    .await
                    .map_or_else(String::new, |h| format!("; the lock was held by {h}"));
                let waits: Vec<String> = (1..=attempt)
                    .map(|n| format!("{:?}", ladder.timeout(base, n)))
                    .collect();
                let note = format!(
                    "gave up after {attempt} attempt(s) waiting for a table lock ({}){held}",
                    waits.join(", ")
                );
                let failure = Failure {
                    error: failure.error.noted(&note),
                    ..failure
                };
                // Nothing of the step ran: it leaves no failed row to repair, only history.
                self.record_attempt(recipe, &failure, Outcome::Failed, options)
                    .await;
                if attempt > 1 {
                    self.set_lock_timeout(base).await;
                }
                return Err(step_failed(
                    &recipe.label,
                    recipe.direction,
                    true,
                    failure.error,
                ));
            }
            let pause = ladder.pause_before(attempt + 1, retry::jitter());
            let error = failure.error.to_string();
            tracing::warn!(
                "{} timed out waiting for a table lock (attempt {attempt} of {}); retrying in {pause:?}",
                recipe.label,
                ladder.attempts
            );
            self.record_attempt(recipe, &failure, Outcome::Retried, options)
                .await;
            retries.push(Retry {
                attempt,
                lock_timeout_ms: retry::millis(timeout),
                paused_ms: retry::millis(pause),
                error,
            });
            tokio::time::sleep(pause).await;
            attempt += 1;
        };
        if attempt > 1 {
            self.set_lock_timeout(base).await;
        }
        match outcome {
            Ok(ms) => Ok((ms, retries)),
            Err(failure) => Err(self.fail(&self.conn, recipe, failure, options).await),
        }
    }

    /// Sets the session's lock timeout for DDL to `timeout` (one rung of the ladder).
    async fn set_lock_timeout(&self, timeout: std::time::Duration) {
        for sql in backend::session_timeouts(self.backend(), Some(timeout), None) {
            if let Err(e) = self.conn.execute_unprepared(&sql).await {
                tracing::warn!("could not set the lock timeout with `{sql}`: {e}");
            }
        }
    }

    /// Records an attempt that changed nothing (`outcome`: retried, or failed for the last)
    /// in the history and, for a tracked step, takes back its `running` rows: the next attempt
    /// marks them again, and a step that never ran leaves nothing to repair.
    async fn record_attempt(
        &self,
        recipe: &Recipe<'a>,
        failure: &Failure,
        outcome: Outcome,
        options: &RunOptions,
    ) {
        let facts = Facts {
            ms: failure.ms,
            statements: Vec::new(),
            error: Some(failure.error.to_string()),
        };
        let mut writes: Vec<Write> = Vec::new();
        if recipe.protocol != Protocol::Atomic {
            writes.extend(recipe.rows.iter().map(|r| match recipe.direction {
                Direction::Up => Write::Delete(r.version.clone()),
                Direction::Down => Write::SetState {
                    version: r.version.clone(),
                    state: ledger::RowState::Applied,
                    duration: false,
                    error: false,
                },
            }));
        }
        writes.extend(
            recipe
                .rows
                .iter()
                .enumerate()
                .map(|(n, row)| Write::History {
                    row: row.clone(),
                    outcome,
                    first: n == 0,
                }),
        );
        for write in writes {
            let statement = self.statement(&write, recipe, &facts, options);
            if let Err(e) = self.conn.execute_raw(statement).await {
                tracing::warn!("could not record the retry in the {}: {e}", write.table());
            }
        }
    }

    /// Runs `recipes` on SQLite, where every commit waits for the disk (a journal and a
    /// database `fsync`) and that wait, not the DDL, is most of a migration's cost: consecutive
    /// atomic steps share one transaction, each inside a savepoint of its own. A failing step is
    /// rolled back to its savepoint, the ones before it are committed and its failure recorded,
    /// exactly as with a transaction each; a run that is killed or interrupted rolls back whole.
    /// A tracked step commits what came before it and runs alone.
    async fn run_grouped(
        &self,
        recipes: &[Recipe<'a>],
        mut ledger_pending: bool,
        report: &mut RunReport,
        options: &RunOptions,
    ) -> Result<()> {
        let direction = recipes.first().map_or(Direction::Up, |r| r.direction);
        let failed = |label: &str, e: DbErr| step_failed(label, direction, true, e.into());
        let mut group: Option<(DatabaseTransaction, Vec<report::Step>)> = None;
        for recipe in recipes {
            if recipe.protocol != Protocol::Atomic {
                if ledger_pending {
                    self.ensure_ledger().await?;
                    ledger_pending = false;
                }
                if let Some((txn, steps)) = group.take() {
                    txn.commit().await.map_err(|e| failed(&recipe.label, e))?;
                    report.steps.extend(steps);
                }
                let (ms, retries) = self.run_alone(recipe, true, options).await?;
                report.steps.push(report::Step {
                    retries,
                    ..recipe.done(ms)
                });
                continue;
            }
            if group.is_none() {
                let txn = self
                    .conn
                    .begin()
                    .await
                    .map_err(|e| failed(&recipe.label, e))?;
                if ledger_pending {
                    for sql in self.ledger_ddl() {
                        txn.execute_unprepared(&sql)
                            .await
                            .map_err(EngineError::db("creating the ledger"))?;
                    }
                    ledger_pending = false;
                }
                group = Some((txn, Vec::new()));
            }
            let Some((txn, steps)) = group.as_mut() else {
                continue;
            };
            match self.run_step(recipe, Frame::Savepoint(txn), options).await {
                Ok(ms) => steps.push(recipe.done(ms)),
                Err(failure) => {
                    let error = self.fail(txn, recipe, failure, options).await;
                    if let Some((txn, steps)) = group.take()
                        && txn.commit().await.is_ok()
                    {
                        report.steps.extend(steps);
                    }
                    return Err(error);
                }
            }
        }
        if let Some((txn, steps)) = group.take() {
            let label = steps.last().map(|s| format!("{}_{}", s.version, s.name));
            txn.commit()
                .await
                .map_err(|e| failed(&label.unwrap_or_default(), e))?;
            report.steps.extend(steps);
        }
        Ok(())
    }

    /// Runs `recipes` in one transaction: all of them or none.
    async fn run_together(
        &self,
        recipes: &[Recipe<'a>],
        report: &mut RunReport,
        options: &RunOptions,
    ) -> Result<()> {
        let first = recipes.first().map(|r| r.label.clone()).unwrap_or_default();
        let failed = |e: DbErr| step_failed(&first, Direction::Up, true, e.into());
        let txn = self.conn.begin().await.map_err(failed)?;
        let mut steps = Vec::with_capacity(recipes.len());
        for recipe in recipes {
            match self.run_step(recipe, Frame::Shared(&txn), options).await {
                Ok(ms) => steps.push(recipe.done(ms)),
                Err(failure) => {
                    let _ = txn.rollback().await;
                    return Err(self.fail(&self.conn, recipe, failure, options).await);
                }
            }
        }
        txn.commit().await.map_err(failed)?;
        report.steps.extend(steps);
        Ok(())
    }

    /// Runs one step by its recipe in `frame`: its parts in order, each on the step's
    /// transaction once that is open, otherwise on the connection. A failure rolls back what the
    /// step opened and says how far it got; recording it is the caller's, which knows where it
    /// can be written. Returns how long the step took.
    pub(super) async fn run_step(
        &self,
        recipe: &Recipe<'a>,
        frame: Frame<'_>,
        options: &RunOptions,
    ) -> std::result::Result<i64, Failure> {
        // In the run's one transaction nothing is applied before the run commits, so steps are
        // not announced one by one.
        if !matches!(frame, Frame::Shared(_)) {
            let verb = match recipe.direction {
                Direction::Up => "applying",
                Direction::Down => "reverting",
            };
            info!("{verb} {}", recipe.label);
        }
        if let Some(fused) = self.run_fused(recipe, frame, options).await {
            return fused;
        }
        let started = Instant::now();
        let mut open: Option<DatabaseExecutor<'_>> = None;
        let mut sent = Vec::new();
        for &part in recipe.parts() {
            let result: std::result::Result<(), StepError> = match part {
                Part::Begin => match self.begin(recipe, frame).await {
                    Ok(txn) => {
                        open = Some(txn);
                        Ok(())
                    }
                    Err(e) => Err(e.into()),
                },
                Part::MarkRunning => {
                    let writes = recipe.writes(part);
                    let facts = Facts::default();
                    let written = self.write(&self.conn, &writes, recipe, &facts, options);
                    written.await.map_err(StepError::from)
                }
                Part::Body => match recipe
                    .body
                    .run(on(&open, &self.conn), recipe.protocol)
                    .await
                {
                    Ok(statements) => {
                        sent = statements;
                        Ok(())
                    }
                    Err(e) => Err(e),
                },
                Part::Record => {
                    let facts = Facts {
                        ms: millis(started),
                        statements: std::mem::take(&mut sent),
                        error: None,
                    };
                    let writes = recipe.writes(part);
                    let written = match &open {
                        None if recipe.records_together() => {
                            self.write_together(&self.conn, &writes, recipe, &facts, options)
                                .await
                        }
                        _ => {
                            let conn = on(&open, &self.conn);
                            self.write(&conn, &writes, recipe, &facts, options).await
                        }
                    };
                    written.map_err(StepError::from)
                }
                Part::Commit => match open.take() {
                    Some(DatabaseExecutor::OwnedTransaction(txn)) => {
                        txn.commit().await.map_err(StepError::from)
                    }
                    _ => Ok(()),
                },
            };
            if let Err(error) = result {
                if let Some(DatabaseExecutor::OwnedTransaction(txn)) = open.take() {
                    let _ = txn.rollback().await;
                }
                return Err(Failure {
                    stage: recipe.stage(part),
                    error,
                    ms: millis(started),
                });
            }
        }
        Ok(millis(started))
    }

    /// Runs an atomic step whose statements are known from its rendering in two round trips:
    /// the opening of its transaction (or savepoint) with its statements, then its ledger and
    /// history writes with the commit (or release). The parts are those of its recipe, in
    /// order, as the dry run prints them; only how many go to the database at once differs.
    /// `None` when the step is not of that kind, or when its statements failed: they are then
    /// undone, and the step runs part by part from its code, which fails where they did and
    /// reports which statement failed.
    async fn run_fused(
        &self,
        recipe: &Recipe<'a>,
        frame: Frame<'_>,
        options: &RunOptions,
    ) -> Option<std::result::Result<i64, Failure>> {
        const STEP: &str = "migrate_step";
        let (Protocol::Atomic, Body::Code(_, _, Some(statements))) =
            (recipe.protocol, &recipe.body)
        else {
            return None;
        };
        let started = Instant::now();
        // The run's one transaction has no savepoint per step: a thousand subtransactions cost
        // PostgreSQL more than the steps themselves, and a failure ends the run whole anyway.
        let (conn, open, close, undo) = match frame {
            Frame::Own { last } => {
                let mut open = "BEGIN".to_owned();
                if let (false, Some(flush)) =
                    (last, backend::capabilities(self.backend()).deferred_flush)
                {
                    open.push_str(";\n");
                    open.push_str(flush);
                }
                let conn = DatabaseExecutor::Connection(&self.conn);
                (
                    conn,
                    Some(open),
                    Some("COMMIT".to_owned()),
                    Some("ROLLBACK".to_owned()),
                )
            }
            Frame::Savepoint(txn) => (
                DatabaseExecutor::Transaction(txn),
                Some(format!("SAVEPOINT {STEP}")),
                Some(format!("RELEASE SAVEPOINT {STEP}")),
                Some(format!(
                    "ROLLBACK TO SAVEPOINT {STEP}; RELEASE SAVEPOINT {STEP}"
                )),
            ),
            Frame::Shared(txn) => (DatabaseExecutor::Transaction(txn), None, None, None),
        };
        let body = statements
            .iter()
            .map(|s| s.trim_end().trim_end_matches(';'));
        let script: Vec<&str> = open.as_deref().into_iter().chain(body).collect();
        if let Err(e) = conn.execute_unprepared(&script.join(";\n")).await {
            // A wait that gave up (a lock, a statement timeout, a busy database) would only wait
            // again from the code: it fails as it is, for the retry ladder to judge.
            let message = e.to_string();
            let waited = retry::is_lock_timeout(&message)
                || message.contains("canceling statement")
                || message.contains("database is locked")
                || message.contains("interrupted");
            let failed = |error| {
                Some(Err(Failure {
                    stage: Stage::Work,
                    error,
                    ms: millis(started),
                }))
            };
            let Some(undo) = undo else {
                return failed(StepError::sent_together(e, statements));
            };
            if let Err(undone) = conn.execute_unprepared(&undo).await {
                let both = format!("{e}; then, undoing it: {undone}");
                return failed(StepError::from(DbErr::Custom(both)));
            }
            if waited {
                return failed(StepError::sent_together(e, statements));
            }
            tracing::debug!(
                "{} failed as one script ({e}); running it part by part",
                recipe.label
            );
            return None;
        }
        let facts = Facts {
            ms: millis(started),
            statements: statements.clone(),
            error: None,
        };
        let writes = recipe.writes(Part::Record);
        let mut record: Vec<String> = writes
            .iter()
            .map(|w| self.statement(w, recipe, &facts, options).to_string())
            .collect();
        record.extend(close);
        match conn.execute_unprepared(&record.join(";\n")).await {
            Ok(_) => Some(Ok(millis(started))),
            Err(e) => {
                if let Some(undo) = undo
                    && let Err(undone) = conn.execute_unprepared(&undo).await
                {
                    tracing::warn!(
                        "could not undo {} after its ledger write failed: {undone}",
                        recipe.label
                    );
                }
                Some(Err(Failure {
                    stage: recipe.stage(Part::Record),
                    error: e.into(),
                    ms: millis(started),
                }))
            }
        }
    }

    /// Opens a step's transaction: around a tracked step's statements, one of its own; for an
    /// atomic step, as `frame` says.
    async fn begin<'t>(
        &self,
        recipe: &Recipe<'_>,
        frame: Frame<'t>,
    ) -> std::result::Result<DatabaseExecutor<'t>, DbErr> {
        Ok(match (recipe.protocol, frame) {
            (Protocol::Tracked { .. }, _) => {
                DatabaseExecutor::OwnedTransaction(self.conn.begin().await?)
            }
            (Protocol::Atomic, Frame::Own { last }) => {
                DatabaseExecutor::OwnedTransaction(self.begin_step(last).await?)
            }
            (Protocol::Atomic, Frame::Savepoint(txn)) => {
                DatabaseExecutor::OwnedTransaction(txn.begin().await?)
            }
            (Protocol::Atomic, Frame::Shared(txn)) => DatabaseExecutor::Transaction(txn),
        })
    }

    /// Begins the transaction of one step of a run. A step that is not the run's `last`
    /// commits without waiting for its log flush where the backend allows it
    /// ([`backend::Capabilities::deferred_flush`]: PostgreSQL's `synchronous_commit = off`,
    /// for that transaction alone).
    async fn begin_step(&self, last: bool) -> std::result::Result<DatabaseTransaction, DbErr> {
        let txn = self.conn.begin().await?;
        if let (false, Some(sql)) = (last, backend::capabilities(self.backend()).deferred_flush) {
            txn.execute_unprepared(sql).await?;
        }
        Ok(txn)
    }
}

/// Where a part of a step runs: the step's transaction once open, otherwise the connection.
fn on<'c>(
    open: &'c Option<DatabaseExecutor<'_>>,
    conn: &'c DatabaseConnection,
) -> DatabaseExecutor<'c> {
    match open {
        Some(DatabaseExecutor::OwnedTransaction(txn)) => DatabaseExecutor::Transaction(txn),
        Some(DatabaseExecutor::Transaction(txn)) => DatabaseExecutor::Transaction(txn),
        Some(DatabaseExecutor::Connection(c)) => DatabaseExecutor::Connection(c),
        None => DatabaseExecutor::Connection(conn),
    }
}

/// Adds the migrations completed earlier in the run to a failure.
fn with_completed(mut err: EngineError, report: &RunReport) -> EngineError {
    if let EngineError::MigrationFailed { completed, .. }
    | EngineError::MigrationPanicked { completed, .. } = &mut err
    {
        *completed = report
            .steps
            .iter()
            .map(|s| format!("{}_{}", s.version, s.name))
            .collect();
    }
    err
}
