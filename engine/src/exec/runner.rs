//! The one loop every schema-changing command goes through: read the ledger, validate, plan, then
//! for each step begin, run, record, commit, and report. The CLI and the start-up API both call
//! these entry points; neither re-implements the loop.

use chrono::Utc;
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, StatementBuilder,
    TransactionTrait,
};
use sea_orm_migration::{MigrationTrait, SchemaManager};
use std::borrow::Cow;
use std::time::Instant;
use tracing::info;

use crate::backend;
use crate::backend::wipe;
use crate::error::{EngineError, Result};
use crate::exec::report::{
    RepairReport, RunReport, Script, Section, SquashPath, SquashStatus, StatusLine, StatusReport,
    Step,
};
use crate::model::consolidated::SquashGroup;
use crate::model::deps::DependencyGraph;
use crate::model::releases::Releases;
use crate::model::set::{Migration, MigrationId, MigrationSet};
use crate::plan::{self, CodeMigration, DownTarget, Entry, State, UpTarget};
use crate::store::adopt::{self, SeaqlRow};
use crate::store::capture;
use crate::store::checksum::checksum;
use crate::store::history::{self, Action, HistoryEntry, Outcome};
use crate::store::ledger::{self, Ledger, LedgerRow, Rendered, RowState};
use crate::store::render::{self, Direction, Rendering};

mod baseline;
mod fresh;

pub use baseline::{BASELINE_APPLIED_BY, BaselineReport, Baselined};

/// Per-run choices that are not about which migrations to run.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Recorded in the history with every step (`--reason`).
    pub reason: Option<String>,
    /// The user confirmed reverting migrations that are not in the code from their stored SQL.
    pub confirmed_missing: bool,
    /// The plan being run or rolled back, recorded in the ledger and the history.
    pub plan: Option<String>,
    /// `up --single-transaction`: every pending migration in one transaction, all or none.
    pub single_transaction: bool,
}

/// What `repair` should do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RepairAction {
    /// Re-record the checksums of modified migrations.
    Checksums,
    /// Mark a failed migration as applied (its DDL completed, checked by hand).
    MarkApplied(String),
    /// Remove a failed or missing migration's row (its DDL was undone by hand).
    Remove(String),
}

/// A migration set bound to one database connection and ledger. What it offers to every
/// caller reads; what changes the database runs in a session, through
/// [`crate::exec::operations::Operations`].
pub struct Engine<'a> {
    conn: DatabaseConnection,
    set: &'a MigrationSet,
    ledger: Ledger,
    actor: String,
    environment: String,
    graph: Cow<'a, DependencyGraph>,
    code: tokio::sync::OnceCell<Vec<CodeMigration>>,
    releases: Option<&'a Releases>,
    squashes: bool,
}

/// What the engine read before planning.
struct Snapshot {
    rows: Option<Vec<LedgerRow>>,
    adoptable: Option<Vec<SeaqlRow>>,
    code: Vec<CodeMigration>,
    entries: Vec<Entry>,
}

/// How a migration's effects and its ledger rows are made durable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Protocol {
    /// Migration and ledger rows in one transaction: all or nothing.
    Atomic,
    /// A `running` row first, flipped when done or marked `failed`: for DDL that commits itself.
    Tracked,
}

/// `user@host` of whoever runs this process, as the ledger, the history and plans record it.
pub(crate) fn who() -> String {
    let user = whoami::username().unwrap_or_else(|_| "unknown".to_owned());
    let host = whoami::hostname().unwrap_or_else(|_| "unknown".to_owned());
    format!("{user}@{host}")
}

fn millis(since: Instant) -> i64 {
    i64::try_from(since.elapsed().as_millis()).unwrap_or(i64::MAX)
}

impl<'a> Engine<'a> {
    /// Binds `set` to a connection and a ledger.
    pub fn new(conn: DatabaseConnection, set: &'a MigrationSet, ledger: Ledger) -> Self {
        Self {
            conn,
            set,
            ledger,
            actor: who(),
            environment: crate::exec::guard::current_environment(),
            graph: Cow::Owned(DependencyGraph::undeclared()),
            code: tokio::sync::OnceCell::new(),
            releases: None,
            squashes: true,
        }
    }

    /// Checks plan runs and batch or plan rollbacks against `graph`; without it, every
    /// migration needs every earlier one.
    pub fn with_dependencies(mut self, graph: &'a DependencyGraph) -> Self {
        self.graph = Cow::Borrowed(graph);
        self
    }

    /// Records in the history the release that shipped each migration.
    pub fn with_releases(mut self, releases: &'a Releases) -> Self {
        self.releases = Some(releases);
        self
    }

    /// Never runs a consolidated migration in place of the migrations it replaces: `verify`
    /// builds the one-by-one path with it. Migrations already applied through one are still
    /// reverted through it.
    pub fn without_squashes(mut self) -> Self {
        self.squashes = false;
        self
    }

    /// Records `environment` instead of `APP_ENV` as the environment of what this engine applies.
    pub fn with_environment(mut self, environment: impl Into<String>) -> Self {
        self.environment = environment.into();
        self
    }

    /// The environment the database was first migrated in: that of its oldest ledger row, or
    /// `None` for a database without a ledger (or with rows from before environments were kept).
    ///
    /// # Errors
    /// A database error reading the ledger.
    pub async fn stored_environment(&self) -> Result<Option<String>> {
        self.ledger
            .first_environment(&self.conn)
            .await
            .map_err(EngineError::db("reading the ledger"))
    }

    /// The connection, for callers that inspect the database after a run.
    pub fn connection(&self) -> &DatabaseConnection {
        &self.conn
    }

    /// The ledger this engine reads and writes.
    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    /// The migrations it runs.
    pub(crate) fn set(&self) -> &'a MigrationSet {
        self.set
    }

    fn backend(&self) -> DbBackend {
        self.ledger.backend()
    }

    fn protocol(&self, code: &dyn MigrationTrait) -> Protocol {
        let transactional = code
            .use_transaction()
            .unwrap_or(backend::transactional_ddl(self.backend()));
        if transactional && backend::transactional_ddl(self.backend()) {
            Protocol::Atomic
        } else {
            Protocol::Tracked
        }
    }

    /// How a stored `down` runs: atomically where DDL is transactional.
    fn stored_protocol(&self) -> Protocol {
        if backend::transactional_ddl(self.backend()) {
            Protocol::Atomic
        } else {
            Protocol::Tracked
        }
    }

    async fn render(&self, code: &dyn MigrationTrait, direction: Direction) -> Rendering {
        render::render_code(code, self.backend(), direction).await
    }

    /// What the ledger row of a migration applied from `code` records about its rendering: the
    /// checksum of its `up` (and where that rendering stopped, if it did), and its `down` SQL if
    /// the `down` renders completely, or why it is not stored.
    async fn rendered(&self, code: &dyn MigrationTrait, up: &CodeMigration) -> Rendered {
        let (down_sql, down_stop) = self.stored_down(code).await;
        Rendered {
            checksum: up.checksum.clone(),
            render_stop: up.render_stop.clone(),
            down_sql,
            down_stop,
        }
    }

    /// A `down` for storage, only when it renders completely: a part of it would revert part of
    /// the migration. Otherwise, why it is not stored.
    async fn stored_down(&self, code: &dyn MigrationTrait) -> (Option<String>, Option<String>) {
        let down = self.render(code, Direction::Down).await;
        match &down.stop {
            None => (Some(ledger::encode_statements(&down.statements)), None),
            Some(stop) => (None, Some(stop.describe())),
        }
    }

    /// The code's migrations with their checksums, rendered once per engine: the code does not
    /// change while it runs. Rendering never fails: a migration that reads data is checksummed
    /// over the statements before its first read, and says so.
    async fn code_migrations(&self) -> Vec<CodeMigration> {
        self.code
            .get_or_init(|| self.render_code_migrations())
            .await
            .clone()
    }

    async fn render_code_migrations(&self) -> Vec<CodeMigration> {
        let mut out = Vec::with_capacity(self.set.len());
        for m in self.set.iter() {
            let up = self.render(m.code.as_ref(), Direction::Up).await;
            out.push(CodeMigration {
                version: m.id.version.clone(),
                name: m.id.name.clone(),
                checksum: checksum(&up.statements),
                squash: None,
                render_stop: up.partial(),
            });
        }
        for group in self.set.squashes() {
            let up = self.render(group.code.as_ref(), Direction::Up).await;
            let sum = checksum(&up.statements);
            for c in out.iter_mut().take(group.last + 1).skip(group.first) {
                c.squash = Some((group.name(), sum.clone()));
            }
        }
        out
    }

    async fn snapshot(&self) -> Result<Snapshot> {
        let code = self.code_migrations().await;
        let rows = self
            .ledger
            .read(&self.conn)
            .await
            .map_err(EngineError::db("reading the ledger"))?;
        let adoptable = match rows {
            Some(_) => None,
            None => adopt::read_seaql(&self.conn)
                .await
                .map_err(EngineError::db("reading seaql_migrations"))?,
        };
        let effective = match (&rows, &adoptable) {
            (Some(rows), _) => rows.clone(),
            (None, Some(seaql)) => self.adopted_rows(seaql, &code).await,
            (None, None) => Vec::new(),
        };
        let entries = plan::classify(&effective, &code);
        Ok(Snapshot {
            rows,
            adoptable,
            code,
            entries,
        })
    }

    /// Reads where the database stands for a command that holds the lock, after bringing a
    /// ledger created by an earlier version up to date. A `running` row found
    /// now belongs to a runner that stopped before completing it (the lock guarantees no other
    /// is at work), so it is marked failed, as interrupted, before anything is planned: the
    /// refusal that follows says so and gives the repair commands.
    ///
    /// # Errors
    /// A database error reading or updating the ledger.
    async fn locked_snapshot(&self) -> Result<Snapshot> {
        const UPGRADE: &str = "adding the newest columns to the ledger";
        let mut added = self
            .ledger
            .upgrade(&self.conn)
            .await
            .map_err(EngineError::db(UPGRADE))?;
        added.extend(
            history::upgrade(&self.conn, &self.ledger)
                .await
                .map_err(EngineError::db(UPGRADE))?,
        );
        if !added.is_empty() {
            info!("upgraded the ledger: added {}", added.join(", "));
        }
        let mut snap = self.snapshot().await?;
        let running = |r: &LedgerRow| r.state == RowState::Running;
        if !snap.rows.iter().flatten().any(running) {
            return Ok(snap);
        }
        let error = format!(
            "{}: its runner stopped before completing it",
            plan::INTERRUPTED
        );
        self.conn
            .execute(&self.ledger.fail_running(&error))
            .await
            .map_err(EngineError::db("marking an interrupted migration failed"))?;
        let rows = snap.rows.iter_mut().flatten();
        let entries = snap.entries.iter_mut().filter_map(|e| e.row.as_mut());
        for row in rows.chain(entries).filter(|r| running(r)) {
            row.state = RowState::Failed;
            row.error = Some(error.clone());
        }
        Ok(snap)
    }

    /// Ledger rows for what `seaql_migrations` lists: checksums and `down` SQL from the code
    /// where the code has the migration.
    async fn adopted_rows(&self, seaql: &[SeaqlRow], code: &[CodeMigration]) -> Vec<LedgerRow> {
        let mut rows = Vec::new();
        for s in seaql {
            let Ok(id) = MigrationId::parse(&s.version) else {
                continue;
            };
            let in_code = code.iter().find(|c| c.version == id.version);
            let rendered = match (self.set.get(&id.version), in_code) {
                (Some(m), Some(up)) => self.rendered(m.code.as_ref(), up).await,
                _ => Rendered::default(),
            };
            rows.push(LedgerRow {
                version: id.version.clone(),
                name: id.name.clone(),
                checksum: rendered.checksum,
                state: RowState::Applied,
                batch: 1,
                applied_at: chrono::DateTime::from_timestamp(s.applied_at, 0).unwrap_or_default(),
                execution_ms: 0,
                applied_by: adopt::SEAQL_TABLE.to_owned(),
                down_sql: rendered.down_sql,
                error: None,
                environment: Some(self.environment.clone()),
                plan: None,
                via: None,
                render_stop: rendered.render_stop,
                down_stop: rendered.down_stop,
            });
        }
        rows
    }

    fn release_of(&self, version: &str) -> Option<String> {
        self.releases
            .and_then(|r| r.release_of(version))
            .map(|r| r.version.to_string())
    }

    /// Where every migration stands. Reads only: creates nothing, takes no lock.
    ///
    /// # Errors
    /// A migration that cannot be rendered, or a database error while reading.
    pub async fn status(&self) -> Result<StatusReport> {
        let snap = self.snapshot().await?;
        let squashes = self
            .set
            .squashes()
            .iter()
            .map(|group| {
                let members: Vec<&Entry> = snap
                    .entries
                    .iter()
                    .filter(|e| e.code.is_some_and(|i| group.covers(i)))
                    .collect();
                let name = group.name();
                let through = members
                    .iter()
                    .any(|e| e.row.as_ref().and_then(|r| r.via.as_ref()) == Some(&name));
                let path = if through {
                    SquashPath::Used
                } else if members.iter().any(|e| e.row.is_some()) {
                    SquashPath::Bypassed
                } else {
                    SquashPath::Available
                };
                SquashStatus {
                    version: group.id.version.clone(),
                    name: group.id.name.clone(),
                    replaces: members.iter().map(|e| e.label()).collect(),
                    path,
                }
            })
            .collect();
        Ok(StatusReport {
            backend: backend::name(self.backend()),
            ledger_exists: snap.rows.is_some(),
            adoptable: snap.adoptable.is_some(),
            migrations: snap
                .entries
                .iter()
                .map(|e| StatusLine {
                    version: e.version.clone(),
                    name: e.name.clone(),
                    state: e.state,
                    batch: e.row.as_ref().map(|r| r.batch),
                    applied_at: e.row.as_ref().map(|r| r.applied_at),
                    execution_ms: e.row.as_ref().map(|r| r.execution_ms),
                    number: e.code.map(|i| i + 1),
                    release: self.release_of(&e.version),
                    plan: e.row.as_ref().and_then(|r| r.plan.clone()),
                    via: e.row.as_ref().and_then(|r| r.via.clone()),
                    partly_rendered: e
                        .code
                        .and_then(|i| snap.code.get(i))
                        .and_then(|c| c.render_stop.clone()),
                    baseline: e.row.as_ref().is_some_and(baseline::is_baseline_row),
                })
                .collect(),
            squashes,
        })
    }

    /// The newest history entries, newest first.
    ///
    /// # Errors
    /// A database error while reading.
    pub async fn history(&self, limit: Option<u64>) -> Result<Vec<HistoryEntry>> {
        history::read(&self.conn, &self.ledger, limit)
            .await
            .map_err(EngineError::db("reading the history"))
    }

    fn ledger_ddl(&self) -> Vec<String> {
        let b = self.backend();
        let mut out = Vec::new();
        if let Some(schema) = self.ledger.schema() {
            out.push(format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\""));
        }
        out.push(b.build(&self.ledger.create_table()).to_string());
        out.push(b.build(&history::create_table(&self.ledger)).to_string());
        out
    }

    async fn ensure_ledger(&self) -> Result<()> {
        for sql in self.ledger_ddl() {
            self.conn
                .execute_unprepared(&sql)
                .await
                .map_err(EngineError::db("creating the ledger"))?;
        }
        Ok(())
    }

    /// Creates the ledger and carries `seaql_migrations` into it, if the database has one and no
    /// ledger yet. Returns the adopted `version_name`s.
    async fn adopt_if_needed(&self, snap: &Snapshot) -> Result<Vec<String>> {
        let (None, Some(seaql)) = (&snap.rows, &snap.adoptable) else {
            return Ok(Vec::new());
        };
        let rows = self.adopted_rows(seaql, &snap.code).await;
        self.ensure_ledger().await?;
        let txn = self
            .conn
            .begin()
            .await
            .map_err(EngineError::db("adopting seaql_migrations"))?;
        let mut adopted = Vec::new();
        for row in &rows {
            let entry = self.history_entry(
                row,
                Action::Adopt,
                Some(row.batch),
                0,
                Outcome::Success,
                None,
                Some("adopted from seaql_migrations".to_owned()),
            );
            txn.execute(&self.ledger.insert(row))
                .await
                .map_err(EngineError::db("adopting seaql_migrations"))?;
            txn.execute(&history::insert(&self.ledger, &entry))
                .await
                .map_err(EngineError::db("adopting seaql_migrations"))?;
            adopted.push(format!("{}_{}", row.version, row.name));
        }
        txn.commit()
            .await
            .map_err(EngineError::db("adopting seaql_migrations"))?;
        info!(
            "adopted {} migration(s) from seaql_migrations",
            adopted.len()
        );
        Ok(adopted)
    }

    /// Carries `seaql_migrations` into the ledger now (`migrate adopt`).
    ///
    /// # Errors
    /// A database error; adopting when a ledger already exists adopts nothing.
    pub(crate) async fn adopt(&self) -> Result<RunReport> {
        let snap = self.locked_snapshot().await?;
        Ok(RunReport {
            adopted: self.adopt_if_needed(&snap).await?,
            ..RunReport::default()
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn history_entry(
        &self,
        row: &LedgerRow,
        action: Action,
        batch: Option<i32>,
        duration_ms: i64,
        outcome: Outcome,
        error: Option<String>,
        reason: Option<String>,
    ) -> HistoryEntry {
        HistoryEntry {
            version: row.version.clone(),
            name: row.name.clone(),
            action,
            batch,
            at: Utc::now(),
            performed_by: self.actor.clone(),
            duration_ms,
            outcome,
            error,
            reason,
            plan: None,
            release: self.release_of(&row.version),
            via: row.via.clone(),
            statements: Vec::new(),
        }
    }

    /// The history entry of one step of a run: its reason and plan come from `options`.
    fn record(
        &self,
        row: &LedgerRow,
        action: Action,
        duration_ms: i64,
        outcome: Outcome,
        error: Option<String>,
        options: &RunOptions,
    ) -> HistoryEntry {
        HistoryEntry {
            plan: options.plan.clone(),
            ..self.history_entry(
                row,
                action,
                Some(row.batch),
                duration_ms,
                outcome,
                error,
                options.reason.clone(),
            )
        }
    }

    fn new_row(
        &self,
        entry: &Entry,
        rendered: Rendered,
        batch: i32,
        options: &RunOptions,
    ) -> LedgerRow {
        LedgerRow {
            version: entry.version.clone(),
            name: entry.name.clone(),
            checksum: rendered.checksum,
            state: RowState::Applied,
            batch,
            applied_at: Utc::now(),
            execution_ms: 0,
            applied_by: self.actor.clone(),
            down_sql: rendered.down_sql,
            error: None,
            environment: Some(self.environment.clone()),
            plan: options.plan.clone(),
            via: None,
            render_stop: rendered.render_stop,
            down_stop: rendered.down_stop,
        }
    }

    fn sql<S: StatementBuilder>(&self, stmt: &S) -> String {
        self.backend().build(stmt).to_string()
    }

    /// Reads where the database stands and plans `target` on it; a selection (a plan) is also
    /// checked for migrations it needs that are neither applied nor selected. What `up` and its
    /// dry run share.
    fn plan_up(
        &self,
        snap: Snapshot,
        target: &UpTarget,
        options: &RunOptions,
    ) -> Result<(Snapshot, Vec<usize>)> {
        let planned = plan::plan_up(&snap.entries, target)?;
        if target.only.is_some() {
            plan::check_prerequisites(
                &snap.entries,
                &planned,
                &self.graph,
                options.plan.as_deref().unwrap_or("selection"),
            )?;
        }
        Ok((snap, planned))
    }

    /// Whether `up` with `target` would apply nothing and refuse nothing: one read of the
    /// ledger, no lock, no writes.
    pub async fn up_to_date(&self, target: &UpTarget, options: &RunOptions) -> bool {
        let Ok(snap) = self.snapshot().await else {
            return false;
        };
        matches!(self.plan_up(snap, target, options), Ok((_, planned)) if planned.is_empty())
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
        let (snap, planned) = self.plan_up(snap, target, options)?;
        let mut report = RunReport {
            plan: options.plan.clone(),
            ..RunReport::default()
        };
        if planned.is_empty() {
            return Ok(report);
        }
        let steps = self.up_steps(&snap.entries, &planned, &mut report.notes);
        report.adopted = self.adopt_if_needed(&snap).await?;
        let grouped = self.backend() == DbBackend::Sqlite && !options.single_transaction;
        // Grouped runs create the ledger in their first transaction: one commit fewer.
        let ledger_pending = snap.rows.is_none() && report.adopted.is_empty();
        if ledger_pending && !grouped {
            self.ensure_ledger().await?;
        }
        // The snapshot was read under the lock; only an adoption just now added rows to it.
        let batch = if report.adopted.is_empty() {
            ledger::next_batch(snap.rows.as_deref().unwrap_or_default())
        } else {
            let rows = self
                .ledger
                .read(&self.conn)
                .await
                .map_err(EngineError::db("reading the ledger"))?
                .unwrap_or_default();
            ledger::next_batch(&rows)
        };
        report.batch = Some(batch);
        let mut units = Vec::with_capacity(steps.len());
        for step in steps {
            units.push(self.up_unit(&snap, step, batch, options).await?);
        }
        if options.single_transaction {
            report.steps = self.apply_together(units, options).await?;
            return Ok(report);
        }
        if grouped {
            return self
                .apply_grouped(units, report, ledger_pending, options)
                .await;
        }
        let last = units.len().saturating_sub(1);
        for (n, unit) in units.into_iter().enumerate() {
            match self.apply_unit(unit, n == last, options).await {
                Ok(step) => report.steps.push(step),
                Err(e) => return Err(with_completed(e, &report)),
            }
        }
        Ok(report)
    }

    /// Applies `units` on SQLite, where every commit waits for the disk (a journal and a
    /// database `fsync`) and that wait, not the DDL, is most of a migration's cost: consecutive
    /// migrations share one transaction, each inside a savepoint of its own. A failing migration
    /// is rolled back to its savepoint, the ones before it are committed and its failure recorded,
    /// exactly as with a transaction each; a run that is killed or interrupted rolls back whole.
    /// A migration that opts out of transactions commits what came before it and runs alone.
    async fn apply_grouped(
        &self,
        units: Vec<Unit<'a>>,
        mut report: RunReport,
        mut ledger_pending: bool,
        options: &RunOptions,
    ) -> Result<RunReport> {
        let failed = |label: &str, e: StepError| step_failed(label, "up", true, e);
        let mut group: Option<(DatabaseTransaction, Vec<Step>)> = None;
        for mut unit in units {
            if self.protocol(unit.code) == Protocol::Tracked {
                if ledger_pending {
                    self.ensure_ledger().await?;
                    ledger_pending = false;
                }
                if let Some((txn, steps)) = group.take() {
                    txn.commit()
                        .await
                        .map_err(|e| with_completed(failed(&unit.label, e.into()), &report))?;
                    report.steps.extend(steps);
                }
                match self.apply_unit(unit, true, options).await {
                    Ok(step) => report.steps.push(step),
                    Err(e) => return Err(with_completed(e, &report)),
                }
                continue;
            }
            if group.is_none() {
                let txn = self
                    .conn
                    .begin()
                    .await
                    .map_err(|e| with_completed(failed(&unit.label, e.into()), &report))?;
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
            info!("applying {}", unit.label);
            let started = Instant::now();
            let result = async {
                let savepoint = txn.begin().await?;
                match self.up_in(&savepoint, &mut unit, started, options).await {
                    Ok(()) => Ok(savepoint.commit().await?),
                    Err(e) => {
                        let _ = savepoint.rollback().await;
                        Err(e)
                    }
                }
            }
            .await;
            match result {
                Ok(()) => steps.push(Step {
                    duration_ms: millis(started),
                    ..unit.step.clone()
                }),
                Err(e) => {
                    self.record_failure_on(txn, &unit.rows, Action::Apply, started, &e, options)
                        .await;
                    if let Some((txn, steps)) = group.take()
                        && txn.commit().await.is_ok()
                    {
                        report.steps.extend(steps);
                    }
                    return Err(with_completed(failed(&unit.label, e), &report));
                }
            }
        }
        if let Some((txn, steps)) = group.take() {
            let label = steps.last().map(|s| format!("{}_{}", s.version, s.name));
            txn.commit().await.map_err(|e| {
                with_completed(failed(&label.unwrap_or_default(), e.into()), &report)
            })?;
            report.steps.extend(steps);
        }
        Ok(report)
    }

    /// Applies `units` in one transaction: all of them or none. Refused where DDL is not
    /// transactional, or when one of them opts out of transactions.
    async fn apply_together(
        &self,
        mut units: Vec<Unit<'a>>,
        options: &RunOptions,
    ) -> Result<Vec<Step>> {
        if !backend::transactional_ddl(self.backend()) {
            return Err(EngineError::Config {
                message: format!(
                    "--single-transaction needs transactional DDL, which {} does not have; drop the flag",
                    backend::name(self.backend())
                ),
            });
        }
        if let Some(unit) = units
            .iter()
            .find(|u| self.protocol(u.code) == Protocol::Tracked)
        {
            return Err(EngineError::Config {
                message: format!(
                    "{} runs outside a transaction (use_transaction = false), so it cannot share one; apply it without --single-transaction",
                    unit.label
                ),
            });
        }
        let run_failed = |label: &str, e: StepError| step_failed(label, "up", true, e);
        let first = units.first().map(|u| u.label.clone()).unwrap_or_default();
        let txn = self
            .conn
            .begin()
            .await
            .map_err(|e| run_failed(&first, e.into()))?;
        let mut steps = Vec::with_capacity(units.len());
        for unit in &mut units {
            let started = Instant::now();
            if let Err(e) = self.up_in(&txn, unit, started, options).await {
                let _ = txn.rollback().await;
                self.record_failure(&unit.rows, Action::Apply, started, &e, options)
                    .await;
                return Err(run_failed(&unit.label, e));
            }
            steps.push(Step {
                duration_ms: millis(started),
                ..unit.step.clone()
            });
        }
        txn.commit()
            .await
            .map_err(|e| run_failed(&first, e.into()))?;
        Ok(steps)
    }

    /// Groups `planned` into steps: a consolidated migration where the run covers all it
    /// replaces (none of which can be applied, since `planned` holds pending ones only),
    /// otherwise one migration at a time, noting why a consolidated migration was not used.
    fn up_steps(
        &self,
        entries: &[Entry],
        planned: &[usize],
        notes: &mut Vec<String>,
    ) -> Vec<UpStep<'a>> {
        let set: &'a MigrationSet = self.set;
        let mut chosen: Vec<(&'a SquashGroup, Vec<usize>)> = Vec::new();
        for group in set.squashes().iter().filter(|_| self.squashes) {
            let members: Vec<usize> = (0..entries.len())
                .filter(|&i| entries[i].code.is_some_and(|c| group.covers(c)))
                .collect();
            let in_run: Vec<usize> = members
                .iter()
                .copied()
                .filter(|i| planned.contains(i))
                .collect();
            if in_run.is_empty() {
                continue;
            }
            let n = members.len();
            if in_run.len() == n {
                info!(
                    "none of the {n} migrations {} replaces is applied: running it instead",
                    group.id
                );
                chosen.push((group, in_run));
                continue;
            }
            let applied = members
                .iter()
                .filter(|&&i| entries[i].row.is_some())
                .count();
            let why = if applied > 0 {
                let verb = if applied == 1 { "was" } else { "were" };
                format!("{applied} of the {n} migrations it replaces {verb} already applied")
            } else {
                format!(
                    "this run applies only {} of the {n} migrations it replaces",
                    in_run.len()
                )
            };
            let note = format!(
                "Not using the consolidated migration {}: {why}, so they run one by one.",
                group.id
            );
            info!("{note}");
            notes.push(note);
        }
        let mut steps = Vec::new();
        for &i in planned {
            match chosen.iter().find(|(_, members)| members.contains(&i)) {
                Some((group, members)) if members.first() == Some(&i) => {
                    steps.push(UpStep::Squash(group, members.clone()));
                }
                Some(_) => {}
                None => steps.push(UpStep::One(i)),
            }
        }
        steps
    }

    fn code_of(&self, entry: &Entry) -> Result<&'a Migration> {
        let set: &'a MigrationSet = self.set;
        entry
            .code
            .and_then(|i| set.iter().nth(i))
            .ok_or_else(|| EngineError::UnknownVersion {
                version: entry.version.clone(),
            })
    }

    /// What applying one step takes: its code, the ledger rows it writes, its report line.
    async fn up_unit(
        &self,
        snap: &Snapshot,
        step: UpStep<'a>,
        batch: i32,
        options: &RunOptions,
    ) -> Result<Unit<'a>> {
        match step {
            UpStep::One(index) => {
                let entry = &snap.entries[index];
                let migration = self.code_of(entry)?;
                let rendered = match entry.code.and_then(|i| snap.code.get(i)) {
                    Some(up) => self.rendered(migration.code.as_ref(), up).await,
                    None => Rendered::default(),
                };
                Ok(Unit {
                    label: entry.label(),
                    code: migration.code.as_ref(),
                    rows: vec![self.new_row(entry, rendered, batch, options)],
                    step: Step {
                        version: entry.version.clone(),
                        name: entry.name.clone(),
                        direction: "up",
                        source: "code",
                        duration_ms: 0,
                        replaces: Vec::new(),
                    },
                })
            }
            UpStep::Squash(group, members) => {
                info!("{} stands in for {} migrations", group.id, members.len());
                Ok(Unit {
                    label: group.id.to_string(),
                    code: group.code.as_ref(),
                    rows: self
                        .squash_rows(snap, group, &members, batch, options)
                        .await,
                    step: Step {
                        version: group.id.version.clone(),
                        name: group.id.name.clone(),
                        direction: "up",
                        source: "squash",
                        duration_ms: 0,
                        replaces: members.iter().map(|&i| snap.entries[i].label()).collect(),
                    },
                })
            }
        }
    }

    /// The ledger rows a consolidated migration writes for the migrations it applies: its
    /// checksum on each, its `down` on the newest (reverted first), nothing to run on the others.
    async fn squash_rows(
        &self,
        snap: &Snapshot,
        group: &SquashGroup,
        members: &[usize],
        batch: i32,
        options: &RunOptions,
    ) -> Vec<LedgerRow> {
        let (down_sql, down_stop) = self.stored_down(group.code.as_ref()).await;
        let checksum = snap
            .code
            .get(group.first)
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
                    via: Some(group.name()),
                    ..self.new_row(&snap.entries[i], rendered, batch, options)
                }
            })
            .collect()
    }

    /// Runs a unit's `up` and records its rows (one, or those of a consolidated migration's
    /// run), as one unit: in one transaction, or tracked as `running` where DDL commits itself.
    ///
    /// On PostgreSQL every commit of a run but the `last` skips waiting for its WAL flush
    /// (`synchronous_commit = off` for that transaction alone): the last commit's flush makes
    /// them all durable, as the WAL is written in order. A server crash in between loses the
    /// newest such commits whole, schema and ledger row together, never one without the other.
    async fn apply_unit(&self, unit: Unit<'a>, last: bool, options: &RunOptions) -> Result<Step> {
        let Unit {
            label,
            code,
            mut rows,
            step,
        } = unit;
        info!("applying {label}");
        let started = Instant::now();
        let failed = |e: StepError, rolled_back| step_failed(&label, "up", rolled_back, e);
        match self.protocol(code) {
            Protocol::Atomic => {
                let txn = self
                    .begin_step(last)
                    .await
                    .map_err(|e| failed(e.into(), true))?;
                let mut unit = Unit {
                    label: label.clone(),
                    code,
                    rows,
                    step: step.clone(),
                };
                match self.up_in(&txn, &mut unit, started, options).await {
                    Ok(()) => txn.commit().await.map_err(|e| failed(e.into(), true))?,
                    Err(e) => {
                        let _ = txn.rollback().await;
                        self.record_failure(&unit.rows, Action::Apply, started, &e, options)
                            .await;
                        return Err(failed(e, true));
                    }
                }
            }
            Protocol::Tracked => {
                for row in &rows {
                    let running = LedgerRow {
                        state: RowState::Running,
                        ..row.clone()
                    };
                    self.conn
                        .execute(&self.ledger.insert(&running))
                        .await
                        .map_err(|e| failed(e.into(), true))?;
                }
                let result = if code.use_transaction() == Some(true) {
                    // Asked for explicitly: its DML is atomic, though DDL still commits itself.
                    match self.conn.begin().await {
                        Ok(txn) => {
                            match run_code(code, Direction::Up, &SchemaManager::new(&txn)).await {
                                Ok(statements) => txn
                                    .commit()
                                    .await
                                    .map(|()| statements)
                                    .map_err(StepError::from),
                                Err(e) => {
                                    let _ = txn.rollback().await;
                                    Err(e)
                                }
                            }
                        }
                        Err(e) => Err(e.into()),
                    }
                } else {
                    run_code(code, Direction::Up, &SchemaManager::new(&self.conn)).await
                };
                let ms = millis(started);
                match result {
                    Ok(statements) => {
                        for (n, row) in rows.iter_mut().enumerate() {
                            row.execution_ms = ms;
                            let done = HistoryEntry {
                                statements: if n == 0 {
                                    statements.clone()
                                } else {
                                    Vec::new()
                                },
                                ..self.record(
                                    row,
                                    Action::Apply,
                                    ms,
                                    Outcome::Success,
                                    None,
                                    options,
                                )
                            };
                            self.conn
                                .execute(&self.ledger.set_state(
                                    &row.version,
                                    RowState::Applied,
                                    None,
                                    Some(ms),
                                ))
                                .await
                                .map_err(|e| failed(e.into(), false))?;
                            self.conn
                                .execute(&history::insert(&self.ledger, &done))
                                .await
                                .map_err(|e| failed(e.into(), false))?;
                        }
                    }
                    Err(e) => {
                        for row in &rows {
                            let _ = self
                                .conn
                                .execute(&self.ledger.set_state(
                                    &row.version,
                                    RowState::Failed,
                                    Some(format!("up: {e}")),
                                    Some(ms),
                                ))
                                .await;
                        }
                        self.record_failure(&rows, Action::Apply, started, &e, options)
                            .await;
                        return Err(failed(e, false));
                    }
                }
            }
        }
        Ok(Step {
            duration_ms: millis(started),
            ..step
        })
    }

    /// Begins the transaction of one step of a run. On PostgreSQL a step that is not the run's
    /// `last` commits without waiting for its WAL flush (`synchronous_commit = off`, for that
    /// transaction alone): the last step's commit flushes them all, the WAL being written in
    /// order. A server crash in between loses the newest such steps whole, schema and ledger
    /// row together, never one without the other.
    async fn begin_step(&self, last: bool) -> std::result::Result<DatabaseTransaction, DbErr> {
        let txn = self.conn.begin().await?;
        if !last && self.backend() == DbBackend::Postgres {
            txn.execute_unprepared("SET LOCAL synchronous_commit = off")
                .await?;
        }
        Ok(txn)
    }

    /// Runs a unit's `up` and writes its ledger and history rows on `txn`.
    async fn up_in(
        &self,
        txn: &DatabaseTransaction,
        unit: &mut Unit<'a>,
        started: Instant,
        options: &RunOptions,
    ) -> std::result::Result<(), StepError> {
        let statements = run_code(unit.code, Direction::Up, &SchemaManager::new(txn)).await?;
        let ms = millis(started);
        for (n, row) in unit.rows.iter_mut().enumerate() {
            row.execution_ms = ms;
            let done = HistoryEntry {
                statements: if n == 0 {
                    statements.clone()
                } else {
                    Vec::new()
                },
                ..self.record(row, Action::Apply, ms, Outcome::Success, None, options)
            };
            txn.execute(&self.ledger.insert(row)).await?;
            txn.execute(&history::insert(&self.ledger, &done)).await?;
        }
        Ok(())
    }

    /// Appends failed history rows outside the failed transaction; a failure to record is
    /// logged rather than hiding the migration's own error.
    async fn record_failure(
        &self,
        rows: &[LedgerRow],
        action: Action,
        started: Instant,
        error: &StepError,
        options: &RunOptions,
    ) {
        self.record_failure_on(&self.conn, rows, action, started, error, options)
            .await;
    }

    /// [`Self::record_failure`] on a given connection or transaction. The statements the code
    /// sent before it failed, the failing one last, go with the first row's entry.
    async fn record_failure_on<C: ConnectionTrait>(
        &self,
        conn: &C,
        rows: &[LedgerRow],
        action: Action,
        started: Instant,
        error: &StepError,
        options: &RunOptions,
    ) {
        for (n, row) in rows.iter().enumerate() {
            let entry = HistoryEntry {
                statements: if n == 0 {
                    error.statements.clone()
                } else {
                    Vec::new()
                },
                ..self.record(
                    row,
                    action,
                    millis(started),
                    Outcome::Failed,
                    Some(error.to_string()),
                    options,
                )
            };
            if let Err(e) = conn.execute(&history::insert(&self.ledger, &entry)).await {
                tracing::warn!("could not record the failure in the history: {e}");
            }
        }
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
        let planned = plan::plan_down(&snap.entries, target)?;
        let mut report = RunReport {
            plan: options.plan.clone(),
            ..RunReport::default()
        };
        if planned.is_empty() {
            return Ok(report);
        }
        self.check_dependents(&snap, &planned, target, options)?;
        let units = self.check_down(&snap, &planned, options).await?;
        report.adopted = self.adopt_if_needed(&snap).await?;
        let last = units.len().saturating_sub(1);
        for (n, unit) in units.into_iter().enumerate() {
            let started = Instant::now();
            let rows: Vec<LedgerRow> = unit
                .members
                .iter()
                .filter_map(|&i| snap.entries[i].row.clone())
                .collect();
            info!("reverting {}", unit.label(&snap.entries));
            match self
                .revert_unit(
                    &unit.label(&snap.entries),
                    &unit.down,
                    &rows,
                    n == last,
                    options,
                )
                .await
            {
                Ok(()) => report.steps.push(unit.step(&snap.entries, millis(started))),
                Err(e) => return Err(with_completed(e, &report)),
            }
        }
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

    /// Resolves what each planned revert runs, refusing before any change when one cannot be
    /// reverted. Consecutive rows applied through one consolidated migration form one unit.
    async fn check_down(
        &self,
        snap: &Snapshot,
        planned: &[usize],
        options: &RunOptions,
    ) -> Result<Vec<RevertUnit<'a>>> {
        let set: &'a MigrationSet = self.set;
        let via_of = |i: usize| snap.entries[i].row.as_ref().and_then(|r| r.via.clone());
        let mut units = Vec::new();
        let mut unconfirmed = Vec::new();
        let mut k = 0;
        while k < planned.len() {
            let entry = &snap.entries[planned[k]];
            let via = via_of(planned[k]);
            let mut members = vec![planned[k]];
            while via.is_some() && k + 1 < planned.len() && via_of(planned[k + 1]) == via {
                k += 1;
                members.push(planned[k]);
            }
            k += 1;
            let code: Option<&'a dyn MigrationTrait> = match &via {
                Some(name) => set.squash(name).map(|g| g.code.as_ref()),
                None => entry
                    .code
                    .and_then(|i| set.iter().nth(i))
                    .map(|m| m.code.as_ref()),
            };
            let unit_label = match &via {
                Some(name) => name.clone(),
                None => entry.label(),
            };
            let down = match code {
                Some(code) => {
                    // A `down` that fails without reading anything fails on the database too;
                    // one that reads data runs from its code, whatever it reads.
                    let rendered = self.render(code, Direction::Down).await;
                    if let Some(reason) = rendered.irreversible() {
                        return Err(EngineError::Irreversible {
                            migration: unit_label.clone(),
                            reason: reason.to_owned(),
                        });
                    }
                    Down::Code(code)
                }
                None => {
                    let mut stored = Vec::new();
                    for &i in &members {
                        let e = &snap.entries[i];
                        let statements = e
                            .row
                            .as_ref()
                            .and_then(LedgerRow::down_statements)
                            .ok_or_else(|| EngineError::MissingWithoutDown {
                                migration: e.label(),
                                version: e.version.clone(),
                                why: e.row.as_ref().and_then(|r| r.down_stop.clone()),
                            })?;
                        stored.extend(statements);
                    }
                    unconfirmed.push(unit_label);
                    Down::Stored(stored)
                }
            };
            units.push(RevertUnit { members, down, via });
        }
        if !unconfirmed.is_empty() && !options.confirmed_missing {
            return Err(EngineError::MissingNeedsConfirmation {
                versions: unconfirmed,
            });
        }
        Ok(units)
    }

    /// Runs a `down` and removes `rows` from the ledger as one unit: in one transaction, or
    /// tracked as `running` where DDL commits itself.
    async fn revert_unit(
        &self,
        label: &str,
        down: &Down<'a>,
        rows: &[LedgerRow],
        last: bool,
        options: &RunOptions,
    ) -> Result<()> {
        let started = Instant::now();
        let failed = |e: StepError, rolled_back| step_failed(label, "down", rolled_back, e);
        let protocol = match down {
            Down::Code(code) => self.protocol(*code),
            Down::Stored(_) => self.stored_protocol(),
        };
        let done = |statements: &[String], n: usize, row: &LedgerRow| HistoryEntry {
            statements: if n == 0 {
                statements.to_vec()
            } else {
                Vec::new()
            },
            ..self.record(
                row,
                Action::Revert,
                millis(started),
                Outcome::Success,
                None,
                options,
            )
        };
        match protocol {
            Protocol::Atomic => {
                let txn = self
                    .begin_step(last)
                    .await
                    .map_err(|e| failed(e.into(), true))?;
                let result = async {
                    let statements = down.run(&SchemaManager::new(&txn), &txn).await?;
                    for (n, row) in rows.iter().enumerate() {
                        txn.execute(&self.ledger.delete(&row.version)).await?;
                        txn.execute(&history::insert(&self.ledger, &done(&statements, n, row)))
                            .await?;
                    }
                    Ok::<(), StepError>(())
                }
                .await;
                match result {
                    Ok(()) => txn.commit().await.map_err(|e| failed(e.into(), true))?,
                    Err(e) => {
                        let _ = txn.rollback().await;
                        self.record_failure(rows, Action::Revert, started, &e, options)
                            .await;
                        return Err(failed(e, true));
                    }
                }
            }
            Protocol::Tracked => {
                for row in rows {
                    self.conn
                        .execute(&self.ledger.set_state(
                            &row.version,
                            RowState::Running,
                            None,
                            None,
                        ))
                        .await
                        .map_err(|e| failed(e.into(), true))?;
                }
                match down.run(&SchemaManager::new(&self.conn), &self.conn).await {
                    Ok(statements) => {
                        for (n, row) in rows.iter().enumerate() {
                            self.conn
                                .execute(&self.ledger.delete(&row.version))
                                .await
                                .map_err(|e| failed(e.into(), false))?;
                            self.conn
                                .execute(&history::insert(&self.ledger, &done(&statements, n, row)))
                                .await
                                .map_err(|e| failed(e.into(), false))?;
                        }
                    }
                    Err(e) => {
                        for row in rows {
                            let _ = self
                                .conn
                                .execute(&self.ledger.set_state(
                                    &row.version,
                                    RowState::Failed,
                                    Some(format!("down: {e}")),
                                    None,
                                ))
                                .await;
                        }
                        self.record_failure(rows, Action::Revert, started, &e, options)
                            .await;
                        return Err(failed(e, false));
                    }
                }
            }
        }
        Ok(())
    }

    /// The statements that apply `up` and record `rows`, as [`Engine::apply_unit`] runs them.
    fn apply_script(
        &self,
        code: &dyn MigrationTrait,
        up: Vec<String>,
        rows: &[LedgerRow],
        options: &RunOptions,
    ) -> Vec<String> {
        let done = |row: &LedgerRow| {
            self.sql(&history::insert(
                &self.ledger,
                &self.record(row, Action::Apply, 0, Outcome::Success, None, options),
            ))
        };
        match self.protocol(code) {
            Protocol::Atomic => {
                let mut out = vec!["BEGIN".to_owned()];
                out.extend(up);
                for row in rows {
                    out.push(self.sql(&self.ledger.insert(row)));
                    out.push(done(row));
                }
                out.push("COMMIT".to_owned());
                out
            }
            Protocol::Tracked => {
                let mut out: Vec<String> = rows
                    .iter()
                    .map(|row| {
                        self.sql(&self.ledger.insert(&LedgerRow {
                            state: RowState::Running,
                            ..row.clone()
                        }))
                    })
                    .collect();
                out.extend(up);
                for row in rows {
                    out.push(self.sql(&self.ledger.set_state(
                        &row.version,
                        RowState::Applied,
                        None,
                        Some(0),
                    )));
                    out.push(done(row));
                }
                out
            }
        }
    }

    /// The SQL `up` would run, with transaction boundaries and ledger writes; changes nothing.
    ///
    /// # Errors
    /// The same validation refusals as [`Engine::up`].
    pub async fn dry_run_up(&self, target: &UpTarget, options: &RunOptions) -> Result<Script> {
        let snap = self.snapshot().await?;
        self.refuse_unledgered(&snap).await?;
        let (snap, planned) = self.plan_up(snap, target, options)?;
        let mut script = Script::default();
        if planned.is_empty() {
            return Ok(script);
        }
        if snap.rows.is_none() {
            script.sections.push(Section {
                title: format!(
                    "create the ledger `{}` and its history",
                    self.ledger.table_name()
                ),
                statements: self.ledger_ddl(),
                partly_rendered: None,
            });
        }
        let batch = ledger::next_batch(snap.rows.as_deref().unwrap_or_default());
        let mut notes = Vec::new();
        for step in self.up_steps(&snap.entries, &planned, &mut notes) {
            match step {
                UpStep::One(index) => {
                    let entry = &snap.entries[index];
                    let m = self.code_of(entry)?;
                    let code = m.code.as_ref();
                    let up = self.render(code, Direction::Up).await;
                    let rendered = match entry.code.and_then(|i| snap.code.get(i)) {
                        Some(c) => self.rendered(code, c).await,
                        None => Rendered::default(),
                    };
                    let row = self.new_row(entry, rendered, batch, options);
                    script.sections.push(Section {
                        title: format!("{} (up, batch {batch})", entry.label()),
                        partly_rendered: up.partial(),
                        statements: self.apply_script(code, up.statements, &[row], options),
                    });
                }
                UpStep::Squash(group, members) => {
                    let up = self.render(group.code.as_ref(), Direction::Up).await;
                    let rows = self
                        .squash_rows(&snap, group, &members, batch, options)
                        .await;
                    script.sections.push(Section {
                        title: format!(
                            "{} (up, batch {batch}; consolidated, in place of {} migrations none of which is applied)",
                            group.id,
                            members.len()
                        ),
                        partly_rendered: up.partial(),
                        statements: self.apply_script(
                            group.code.as_ref(),
                            up.statements,
                            &rows,
                            options,
                        ),
                    });
                }
            }
        }
        if options.single_transaction {
            for section in &mut script.sections {
                section
                    .statements
                    .retain(|s| !matches!(s.as_str(), "BEGIN" | "COMMIT"));
            }
            if let Some(first) = script.sections.first_mut() {
                first.statements.insert(0, "BEGIN".to_owned());
            }
            if let Some(last) = script.sections.last_mut() {
                last.statements.push("COMMIT".to_owned());
            }
        }
        script.notes = notes;
        Ok(script)
    }

    /// The SQL `down` would run, with transaction boundaries and ledger writes; changes nothing.
    ///
    /// # Errors
    /// The same validation refusals as [`Engine::down`], except that migrations missing from the
    /// code are shown rather than refused.
    pub async fn dry_run_down(&self, target: &DownTarget, options: &RunOptions) -> Result<Script> {
        let snap = self.snapshot().await?;
        self.refuse_unledgered(&snap).await?;
        let planned = plan::plan_down(&snap.entries, target)?;
        if !planned.is_empty() {
            self.check_dependents(&snap, &planned, target, options)?;
        }
        let shown = RunOptions {
            confirmed_missing: true,
            ..options.clone()
        };
        let units = self.check_down(&snap, &planned, &shown).await?;
        let mut script = Script::default();
        for unit in units {
            let rows: Vec<LedgerRow> = unit
                .members
                .iter()
                .filter_map(|&i| snap.entries[i].row.clone())
                .collect();
            // `check_down` refused the irreversible ones: what remains renders, in full or in part.
            let (rendering, protocol) = match &unit.down {
                Down::Code(code) => (
                    self.render(*code, Direction::Down).await,
                    self.protocol(*code),
                ),
                Down::Stored(s) => (
                    Rendering {
                        statements: s.clone(),
                        stop: None,
                    },
                    self.stored_protocol(),
                ),
            };
            let partly_rendered = rendering.partial();
            let statements = rendering.statements;
            let source = match (&unit.down, &unit.via) {
                (Down::Code(_), None) => "from code".to_owned(),
                (Down::Stored(_), None) => "not in the code: stored SQL".to_owned(),
                (Down::Code(_), Some(_)) => {
                    format!("consolidated: reverts {} migrations", rows.len())
                }
                (Down::Stored(_), Some(_)) => format!(
                    "consolidated, not in the code: stored SQL reverts {} migrations",
                    rows.len()
                ),
            };
            let mut writes = Vec::new();
            for row in &rows {
                writes.push(self.sql(&self.ledger.delete(&row.version)));
                writes.push(self.sql(&history::insert(
                    &self.ledger,
                    &self.record(row, Action::Revert, 0, Outcome::Success, None, options),
                )));
            }
            let statements = match protocol {
                Protocol::Atomic => [
                    vec!["BEGIN".to_owned()],
                    statements,
                    writes,
                    vec!["COMMIT".to_owned()],
                ]
                .concat(),
                Protocol::Tracked => [
                    rows.iter()
                        .map(|row| {
                            self.sql(&self.ledger.set_state(
                                &row.version,
                                RowState::Running,
                                None,
                                None,
                            ))
                        })
                        .collect(),
                    statements,
                    writes,
                ]
                .concat(),
            };
            script.sections.push(Section {
                title: format!("{} (down, {source})", unit.label(&snap.entries)),
                statements,
                partly_rendered,
            });
        }
        Ok(script)
    }

    /// Fixes the ledger after a deliberate change or a failed migration. Never runs migrations.
    ///
    /// # Errors
    /// [`EngineError::Repair`] when the named version is not in a state this action handles.
    pub(crate) async fn repair(
        &self,
        action: &RepairAction,
        options: &RunOptions,
    ) -> Result<RepairReport> {
        let snap = self.locked_snapshot().await?;
        let mut report = RepairReport::default();
        let find = |typed: &str| -> Result<&Entry> {
            let version = MigrationId::normalise_version(typed).ok_or_else(|| {
                EngineError::UnknownVersion {
                    version: typed.to_owned(),
                }
            })?;
            snap.entries
                .iter()
                .find(|e| e.version == version && e.row.is_some())
                .ok_or_else(|| EngineError::Repair {
                    message: format!("version {typed} has no row in the ledger; run `migrate status` to see what is recorded"),
                })
        };
        let mut writes: Vec<(LedgerRow, String, Box<dyn StatementBuilderDyn>)> = Vec::new();
        match action {
            RepairAction::Checksums => {
                if let Some(dirty) = snap.entries.iter().find(|e| e.state == State::Failed) {
                    return Err(EngineError::Dirty {
                        migration: dirty.label(),
                        version: dirty.version.clone(),
                        state: "failed".to_owned(),
                        what: "is failed, and a checksum cannot be re-recorded over it".to_owned(),
                    });
                }
                for e in snap.entries.iter().filter(|e| e.state == State::Modified) {
                    let (Some(row), Some(i)) = (&e.row, e.code) else {
                        continue;
                    };
                    let Some(m) = self.set.iter().nth(i) else {
                        continue;
                    };
                    // A row applied through a consolidated migration takes that migration's
                    // checksum, and its `down` if it is the newest of its run.
                    let through = match (&row.via, &snap.code[i].squash) {
                        (Some(via), Some((name, sum))) if via == name => {
                            self.set.squash(name).map(|g| (g, sum.clone()))
                        }
                        _ => None,
                    };
                    let rendered = match through {
                        Some((group, sum)) => {
                            let newest = snap
                                .entries
                                .iter()
                                .filter(|x| {
                                    x.row.as_ref().and_then(|r| r.via.as_ref()) == row.via.as_ref()
                                })
                                .map(|x| x.version.as_str())
                                .max();
                            let (down_sql, down_stop) = if newest == Some(e.version.as_str()) {
                                self.stored_down(group.code.as_ref()).await
                            } else {
                                (Some(ledger::encode_statements(&[])), None)
                            };
                            Rendered {
                                checksum: sum,
                                render_stop: None,
                                down_sql,
                                down_stop,
                            }
                        }
                        None => self.rendered(m.code.as_ref(), &snap.code[i]).await,
                    };
                    let what = format!(
                        "re-recorded checksum of {}: {} -> {}",
                        e.label(),
                        short(&row.checksum),
                        short(&rendered.checksum)
                    );
                    writes.push((
                        row.clone(),
                        what,
                        Box::new(self.ledger.set_checksum(&row.version, &rendered)),
                    ));
                }
            }
            RepairAction::MarkApplied(typed) => {
                let e = find(typed)?;
                let row = e.row.clone().unwrap_or_else(|| unreachable_row(e));
                if row.state == RowState::Applied {
                    return Err(EngineError::Repair {
                        message: format!("{} is already applied; nothing to mark", e.label()),
                    });
                }
                let what = format!("marked {} as applied", e.label());
                writes.push((
                    row.clone(),
                    what,
                    Box::new(
                        self.ledger
                            .set_state(&row.version, RowState::Applied, None, None),
                    ),
                ));
            }
            RepairAction::Remove(typed) => {
                let e = find(typed)?;
                let row = e.row.clone().unwrap_or_else(|| unreachable_row(e));
                if matches!(e.state, State::Applied | State::Modified | State::Squashed) {
                    return Err(EngineError::Repair {
                        message: format!(
                            "{} is applied and in the code; revert it with `migrate down` instead of removing its row",
                            e.label()
                        ),
                    });
                }
                let what = format!("removed the ledger row of {}", e.label());
                writes.push((
                    row.clone(),
                    what,
                    Box::new(self.ledger.delete(&row.version)),
                ));
            }
        }
        if writes.is_empty() {
            return Ok(report);
        }
        let txn = self
            .conn
            .begin()
            .await
            .map_err(EngineError::db("repairing the ledger"))?;
        for (row, what, stmt) in writes {
            let reason = Some(match &options.reason {
                Some(r) => format!("{what} ({r})"),
                None => what.clone(),
            });
            let entry = self.history_entry(
                &row,
                Action::Repair,
                Some(row.batch),
                0,
                Outcome::Success,
                None,
                reason,
            );
            txn.execute_raw(stmt.build_for(self.backend()))
                .await
                .map_err(EngineError::db("repairing the ledger"))?;
            txn.execute(&history::insert(&self.ledger, &entry))
                .await
                .map_err(EngineError::db("repairing the ledger"))?;
            report.changes.push(what);
        }
        txn.commit()
            .await
            .map_err(EngineError::db("repairing the ledger"))?;
        Ok(report)
    }

    /// Every object `fresh` would drop (`table tenants`, `function set_updated_at()`, ...).
    ///
    /// # Errors
    /// A database error while reading the catalog.
    pub async fn objects(&self) -> Result<Vec<String>> {
        Ok(wipe::list_objects(&self.conn)
            .await
            .map_err(EngineError::db("listing the schema's objects"))?
            .iter()
            .map(ToString::to_string)
            .collect())
    }

    /// Drops every object in the schema, the ledger included, for `fresh`.
    ///
    /// # Errors
    /// A database error while dropping.
    pub(crate) async fn drop_all(&self) -> Result<Vec<String>> {
        let mut dropped: Vec<String> = wipe::drop_all(&self.conn)
            .await
            .map_err(EngineError::db("dropping the schema's objects"))?
            .iter()
            .map(ToString::to_string)
            .collect();
        if self.ledger.schema().is_some() {
            for t in [
                self.ledger.companion("history"),
                self.ledger.table_ref(self.ledger.table_name().to_owned()),
            ] {
                let drop = sea_orm::sea_query::Table::drop()
                    .table(t)
                    .if_exists()
                    .to_owned();
                self.conn
                    .execute(&drop)
                    .await
                    .map_err(EngineError::db("dropping the ledger"))?;
            }
            dropped.push(format!("table {}", self.ledger.table_name()));
        }
        Ok(dropped)
    }
}

fn short(sum: &str) -> &str {
    sum.get(..12).unwrap_or(sum)
}

fn unreachable_row(e: &Entry) -> LedgerRow {
    LedgerRow {
        version: e.version.clone(),
        name: e.name.clone(),
        checksum: String::new(),
        state: RowState::Failed,
        batch: 0,
        applied_at: Utc::now(),
        execution_ms: 0,
        applied_by: String::new(),
        down_sql: None,
        error: None,
        environment: None,
        plan: None,
        via: None,
        render_stop: None,
        down_stop: None,
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

/// What a revert runs: the code's `down` (a migration's, or a consolidated migration's), or the
/// statements stored at apply time.
enum Down<'a> {
    Code(&'a dyn MigrationTrait),
    Stored(Vec<String>),
}

/// One step of an `up`: a migration, or a consolidated migration with the migrations it applies
/// (indices into the entries).
enum UpStep<'a> {
    One(usize),
    Squash(&'a SquashGroup, Vec<usize>),
}

/// One step of an `up`, ready to run: its code, the ledger rows it writes and its report line.
struct Unit<'a> {
    label: String,
    code: &'a dyn MigrationTrait,
    rows: Vec<LedgerRow>,
    step: Step,
}

/// One step of a `down`: a migration, or the migrations applied through one consolidated
/// migration (`via`), newest first, with what reverts them.
struct RevertUnit<'a> {
    members: Vec<usize>,
    down: Down<'a>,
    via: Option<String>,
}

impl RevertUnit<'_> {
    fn label(&self, entries: &[Entry]) -> String {
        match (&self.via, self.members.first()) {
            (Some(via), _) => {
                MigrationId::parse(via).map_or_else(|_| via.clone(), |id| id.to_string())
            }
            (None, Some(&i)) => entries[i].label(),
            (None, None) => String::new(),
        }
    }

    fn step(&self, entries: &[Entry], duration_ms: i64) -> Step {
        let (version, name) = match (&self.via, self.members.first()) {
            (Some(via), _) => MigrationId::parse(via)
                .map_or_else(|_| (via.clone(), String::new()), |id| (id.version, id.name)),
            (None, Some(&i)) => (entries[i].version.clone(), entries[i].name.clone()),
            (None, None) => (String::new(), String::new()),
        };
        let mut replaces: Vec<String> = match self.via {
            Some(_) => self.members.iter().map(|&i| entries[i].label()).collect(),
            None => Vec::new(),
        };
        replaces.sort();
        Step {
            version,
            name,
            direction: "down",
            source: match (&self.down, &self.via) {
                (Down::Stored(_), _) => "stored",
                (Down::Code(_), Some(_)) => "squash",
                (Down::Code(_), None) => "code",
            },
            duration_ms,
            replaces,
        }
    }
}

impl Down<'_> {
    /// Runs the `down`, returning the statements it sent.
    async fn run<C: ConnectionTrait>(
        &self,
        manager: &SchemaManager<'_>,
        conn: &C,
    ) -> std::result::Result<Vec<String>, StepError> {
        match self {
            Down::Code(code) => run_code(*code, Direction::Down, manager).await,
            Down::Stored(statements) => {
                let run = async {
                    for sql in statements {
                        conn.execute_unprepared(sql).await?;
                    }
                    Ok(())
                };
                StepError::settle(capture::run(run).await)
            }
        }
    }
}

/// Why a step did not complete: the database refused a statement, the migration's code returned
/// an error, or it panicked; with the statements its code had sent, the failing one last.
#[derive(Debug)]
struct StepError {
    cause: Cause,
    statements: Vec<String>,
}

#[derive(Debug)]
enum Cause {
    Db(DbErr),
    Panic(String),
}

impl From<DbErr> for StepError {
    fn from(e: DbErr) -> Self {
        Self {
            cause: Cause::Db(e),
            statements: Vec::new(),
        }
    }
}

impl std::fmt::Display for StepError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.cause {
            Cause::Db(e) => write!(f, "{e}"),
            Cause::Panic(message) => write!(f, "panicked: {message}"),
        }
    }
}

impl StepError {
    /// The statements a run of migration code sent, or why it stopped.
    fn settle(
        captured: capture::Captured<std::result::Result<(), DbErr>>,
    ) -> std::result::Result<Vec<String>, Self> {
        let cause = match captured.outcome {
            Ok(Ok(())) => return Ok(captured.statements),
            Ok(Err(e)) => Cause::Db(e),
            Err(message) => Cause::Panic(message),
        };
        Err(Self {
            cause,
            statements: captured.statements,
        })
    }
}

/// Runs one half of a migration's code on `manager`, keeping what it sends; a panic is a
/// failure like any other.
async fn run_code(
    code: &dyn MigrationTrait,
    direction: Direction,
    manager: &SchemaManager<'_>,
) -> std::result::Result<Vec<String>, StepError> {
    let run = match direction {
        Direction::Up => code.up(manager),
        Direction::Down => code.down(manager),
    };
    StepError::settle(capture::run(run).await)
}

/// The error of a step that did not complete.
fn step_failed(
    label: &str,
    direction: &'static str,
    rolled_back: bool,
    e: StepError,
) -> EngineError {
    match e.cause {
        Cause::Db(source) => EngineError::MigrationFailed {
            migration: label.to_owned(),
            direction,
            rolled_back,
            lock_wait: backend::is_lock_wait_timeout(&source),
            completed: Vec::new(),
            source,
        },
        Cause::Panic(message) => EngineError::MigrationPanicked {
            migration: label.to_owned(),
            direction,
            rolled_back,
            completed: Vec::new(),
            message,
        },
    }
}

/// A statement whose SQL is built for the backend at hand.
trait StatementBuilderDyn: Send + Sync {
    fn build_for(&self, backend: DbBackend) -> sea_orm::Statement;
}

impl<S: StatementBuilder + Send + Sync> StatementBuilderDyn for S {
    fn build_for(&self, backend: DbBackend) -> sea_orm::Statement {
        backend.build(self)
    }
}
