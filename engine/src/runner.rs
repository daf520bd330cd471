//! The one loop every schema-changing command goes through: read the ledger, validate, plan, then
//! for each step begin, run, record, commit, and report. The CLI and the start-up API both call
//! these entry points; neither re-implements the loop.

use chrono::Utc;
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, DbErr, StatementBuilder, TransactionTrait,
};
use sea_orm_migration::SchemaManager;
use std::time::Instant;
use tracing::info;

use crate::adopt::{self, SeaqlRow};
use crate::backend;
use crate::checksum::checksum;
use crate::error::{EngineError, Result};
use crate::history::{self, Action, HistoryEntry, Outcome};
use crate::ledger::{self, Ledger, LedgerRow, RowState};
use crate::plan::{self, CodeMigration, DownTarget, Entry, State, UpTarget};
use crate::render::{self, Direction};
use crate::report::{RepairReport, RunReport, Script, Section, StatusLine, StatusReport, Step};
use crate::source::{Migration, MigrationId, MigrationSet};
use crate::wipe;

/// Per-run choices that are not about which migrations to run.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Recorded in the history with every step (`--reason`).
    pub reason: Option<String>,
    /// The user confirmed reverting migrations that are not in the code from their stored SQL.
    pub confirmed_missing: bool,
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

/// A migration set bound to one database connection and ledger.
pub struct Engine<'a> {
    conn: DatabaseConnection,
    set: &'a MigrationSet,
    ledger: Ledger,
    actor: String,
    environment: String,
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

fn who() -> String {
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
            environment: crate::guard::current_environment(),
        }
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
        let rows = self
            .ledger
            .read(&self.conn)
            .await
            .map_err(EngineError::db("reading the ledger"))?
            .unwrap_or_default();
        Ok(rows
            .into_iter()
            .filter(|r| r.environment.is_some())
            .min_by(|a, b| (a.applied_at, &a.version).cmp(&(b.applied_at, &b.version)))
            .and_then(|r| r.environment))
    }

    /// The connection, for callers that inspect the database after a run.
    pub fn connection(&self) -> &DatabaseConnection {
        &self.conn
    }

    fn backend(&self) -> DbBackend {
        self.ledger.backend()
    }

    fn protocol(&self, migration: &Migration) -> Protocol {
        let transactional = migration
            .code
            .use_transaction()
            .unwrap_or(backend::transactional_ddl(self.backend()));
        if transactional && backend::transactional_ddl(self.backend()) {
            Protocol::Atomic
        } else {
            Protocol::Tracked
        }
    }

    async fn render(&self, migration: &Migration, direction: Direction) -> Result<Vec<String>> {
        render::render(migration, self.backend(), direction)
            .await
            .map_err(|source| EngineError::Render {
                migration: migration.id.to_string(),
                direction: direction.as_str(),
                source,
            })
    }

    /// Renders every migration's `down` for storage; `None` for one that has no `down`.
    async fn render_down(&self, migration: &Migration) -> Option<String> {
        render::render(migration, self.backend(), Direction::Down)
            .await
            .ok()
            .map(|s| ledger::encode_statements(&s))
    }

    async fn code_migrations(&self) -> Result<Vec<CodeMigration>> {
        let mut out = Vec::with_capacity(self.set.len());
        for m in self.set.iter() {
            let up = self.render(m, Direction::Up).await?;
            out.push(CodeMigration {
                version: m.id.version.clone(),
                name: m.id.name.clone(),
                checksum: checksum(&up),
            });
        }
        Ok(out)
    }

    async fn snapshot(&self) -> Result<Snapshot> {
        let code = self.code_migrations().await?;
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

    /// Ledger rows for what `seaql_migrations` lists: checksums and `down` SQL from the code
    /// where the code has the migration.
    async fn adopted_rows(&self, seaql: &[SeaqlRow], code: &[CodeMigration]) -> Vec<LedgerRow> {
        let mut rows = Vec::new();
        for s in seaql {
            let Ok(id) = MigrationId::parse(&s.version) else {
                continue;
            };
            let in_code = code.iter().find(|c| c.version == id.version);
            let down_sql = match self.set.get(&id.version) {
                Some(m) => self.render_down(m).await,
                None => None,
            };
            rows.push(LedgerRow {
                version: id.version.clone(),
                name: id.name.clone(),
                checksum: in_code.map(|c| c.checksum.clone()).unwrap_or_default(),
                state: RowState::Applied,
                batch: 1,
                applied_at: chrono::DateTime::from_timestamp(s.applied_at, 0).unwrap_or_default(),
                execution_ms: 0,
                applied_by: adopt::SEAQL_TABLE.to_owned(),
                down_sql,
                error: None,
                environment: Some(self.environment.clone()),
            });
        }
        rows
    }

    /// Where every migration stands. Reads only: creates nothing, takes no lock.
    ///
    /// # Errors
    /// A migration that cannot be rendered, or a database error while reading.
    pub async fn status(&self) -> Result<StatusReport> {
        let snap = self.snapshot().await?;
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
                })
                .collect(),
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
    pub async fn adopt(&self) -> Result<RunReport> {
        let snap = self.snapshot().await?;
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
        }
    }

    fn new_row(
        &self,
        entry: &Entry,
        checksum: &str,
        batch: i32,
        down_sql: Option<String>,
        state: RowState,
    ) -> LedgerRow {
        LedgerRow {
            version: entry.version.clone(),
            name: entry.name.clone(),
            checksum: checksum.to_owned(),
            state,
            batch,
            applied_at: Utc::now(),
            execution_ms: 0,
            applied_by: self.actor.clone(),
            down_sql,
            error: None,
            environment: Some(self.environment.clone()),
        }
    }

    fn sql<S: StatementBuilder>(&self, stmt: &S) -> String {
        self.backend().build(stmt).to_string()
    }

    /// Applies pending migrations as `target` says, each in its own transaction where the backend
    /// allows, as one new batch.
    ///
    /// # Errors
    /// Validation refusals before anything runs; [`EngineError::MigrationFailed`] when a migration
    /// fails, carrying what completed before it.
    pub async fn up(&self, target: &UpTarget, options: &RunOptions) -> Result<RunReport> {
        let snap = self.snapshot().await?;
        let planned = plan::plan_up(&snap.entries, target)?;
        let mut report = RunReport::default();
        if planned.is_empty() {
            return Ok(report);
        }
        report.adopted = self.adopt_if_needed(&snap).await?;
        if snap.rows.is_none() {
            self.ensure_ledger().await?;
        }
        let rows = self
            .ledger
            .read(&self.conn)
            .await
            .map_err(EngineError::db("reading the ledger"))?
            .unwrap_or_default();
        let batch = ledger::next_batch(&rows);
        report.batch = Some(batch);
        for index in planned {
            let entry = &snap.entries[index];
            let Some(code_index) = entry.code else {
                continue;
            };
            let migration =
                self.set
                    .iter()
                    .nth(code_index)
                    .ok_or_else(|| EngineError::UnknownVersion {
                        version: entry.version.clone(),
                    })?;
            let checksum = &snap.code[code_index].checksum;
            match self
                .apply_one(entry, migration, checksum, batch, options)
                .await
            {
                Ok(step) => report.steps.push(step),
                Err(e) => return Err(with_completed(e, &report)),
            }
        }
        Ok(report)
    }

    async fn apply_one(
        &self,
        entry: &Entry,
        migration: &Migration,
        checksum: &str,
        batch: i32,
        options: &RunOptions,
    ) -> Result<Step> {
        info!("applying {}", entry.label());
        let down_sql = self.render_down(migration).await;
        let started = Instant::now();
        let mut row = self.new_row(entry, checksum, batch, down_sql, RowState::Applied);
        let failed = |source: DbErr, rolled_back: bool| EngineError::MigrationFailed {
            migration: entry.label(),
            direction: "up",
            rolled_back,
            completed: Vec::new(),
            source,
        };
        match self.protocol(migration) {
            Protocol::Atomic => {
                let txn = self.conn.begin().await.map_err(|e| failed(e, true))?;
                let result = async {
                    migration.code.up(&SchemaManager::new(&txn)).await?;
                    row.execution_ms = millis(started);
                    let done = self.history_entry(
                        &row,
                        Action::Apply,
                        Some(batch),
                        row.execution_ms,
                        Outcome::Success,
                        None,
                        options.reason.clone(),
                    );
                    txn.execute(&self.ledger.insert(&row)).await?;
                    txn.execute(&history::insert(&self.ledger, &done)).await?;
                    Ok::<(), DbErr>(())
                }
                .await;
                match result {
                    Ok(()) => txn.commit().await.map_err(|e| failed(e, true))?,
                    Err(e) => {
                        let _ = txn.rollback().await;
                        self.record_failure(&row, Action::Apply, batch, started, &e, options)
                            .await;
                        return Err(failed(e, true));
                    }
                }
            }
            Protocol::Tracked => {
                row.state = RowState::Running;
                self.conn
                    .execute(&self.ledger.insert(&row))
                    .await
                    .map_err(|e| failed(e, true))?;
                let result = if migration.code.use_transaction() == Some(true) {
                    async {
                        let txn = self.conn.begin().await?;
                        migration.code.up(&SchemaManager::new(&txn)).await?;
                        txn.commit().await
                    }
                    .await
                } else {
                    migration.code.up(&SchemaManager::new(&self.conn)).await
                };
                let ms = millis(started);
                match result {
                    Ok(()) => {
                        row.execution_ms = ms;
                        let done = self.history_entry(
                            &row,
                            Action::Apply,
                            Some(batch),
                            ms,
                            Outcome::Success,
                            None,
                            options.reason.clone(),
                        );
                        self.conn
                            .execute(&self.ledger.set_state(
                                &row.version,
                                RowState::Applied,
                                None,
                                Some(ms),
                            ))
                            .await
                            .map_err(|e| failed(e, false))?;
                        self.conn
                            .execute(&history::insert(&self.ledger, &done))
                            .await
                            .map_err(|e| failed(e, false))?;
                    }
                    Err(e) => {
                        let _ = self
                            .conn
                            .execute(&self.ledger.set_state(
                                &row.version,
                                RowState::Failed,
                                Some(format!("up: {e}")),
                                Some(ms),
                            ))
                            .await;
                        self.record_failure(&row, Action::Apply, batch, started, &e, options)
                            .await;
                        return Err(failed(e, false));
                    }
                }
            }
        }
        Ok(Step {
            version: entry.version.clone(),
            name: entry.name.clone(),
            direction: "up",
            source: "code",
            duration_ms: millis(started),
        })
    }

    /// Appends a failed history row outside the failed transaction; a failure to record is logged
    /// rather than hiding the migration's own error.
    async fn record_failure(
        &self,
        row: &LedgerRow,
        action: Action,
        batch: i32,
        started: Instant,
        error: &DbErr,
        options: &RunOptions,
    ) {
        let entry = self.history_entry(
            row,
            action,
            Some(batch),
            millis(started),
            Outcome::Failed,
            Some(error.to_string()),
            options.reason.clone(),
        );
        if let Err(e) = self
            .conn
            .execute(&history::insert(&self.ledger, &entry))
            .await
        {
            tracing::warn!("could not record the failure in the history: {e}");
        }
    }

    /// Reverts applied migrations as `target` says, newest first. Migrations not in the code are
    /// reverted with the `down` SQL stored when they were applied, only once confirmed.
    ///
    /// # Errors
    /// Validation refusals before anything runs (including an irreversible migration anywhere in
    /// the range); [`EngineError::MigrationFailed`] when a `down` fails.
    pub async fn down(&self, target: &DownTarget, options: &RunOptions) -> Result<RunReport> {
        let snap = self.snapshot().await?;
        let planned = plan::plan_down(&snap.entries, target)?;
        let mut report = RunReport::default();
        if planned.is_empty() {
            return Ok(report);
        }
        let steps = self.check_down(&snap, &planned, options).await?;
        report.adopted = self.adopt_if_needed(&snap).await?;
        for (index, down) in planned.iter().zip(steps) {
            let entry = &snap.entries[*index];
            match self.revert_one(entry, down, options).await {
                Ok(step) => report.steps.push(step),
                Err(e) => return Err(with_completed(e, &report)),
            }
        }
        Ok(report)
    }

    /// Resolves what each planned revert runs, refusing before any change when one cannot be
    /// reverted.
    async fn check_down(
        &self,
        snap: &Snapshot,
        planned: &[usize],
        options: &RunOptions,
    ) -> Result<Vec<Down<'a>>> {
        let mut out = Vec::new();
        let mut unconfirmed = Vec::new();
        for &index in planned {
            let entry = &snap.entries[index];
            match entry.code.and_then(|i| self.set.iter().nth(i)) {
                Some(m) => {
                    render::render(m, self.backend(), Direction::Down)
                        .await
                        .map_err(|e| EngineError::Irreversible {
                            migration: entry.label(),
                            reason: e.to_string(),
                        })?;
                    out.push(Down::Code(m));
                }
                None => {
                    let stored = entry
                        .row
                        .as_ref()
                        .and_then(LedgerRow::down_statements)
                        .ok_or_else(|| EngineError::MissingWithoutDown {
                            migration: entry.label(),
                            version: entry.version.clone(),
                        })?;
                    unconfirmed.push(entry.label());
                    out.push(Down::Stored(stored));
                }
            }
        }
        if !unconfirmed.is_empty() && !options.confirmed_missing {
            return Err(EngineError::MissingNeedsConfirmation {
                versions: unconfirmed,
            });
        }
        Ok(out)
    }

    async fn revert_one(
        &self,
        entry: &Entry,
        down: Down<'a>,
        options: &RunOptions,
    ) -> Result<Step> {
        info!("reverting {}", entry.label());
        let started = Instant::now();
        let Some(row) = entry.row.clone() else {
            return Err(EngineError::UnknownVersion {
                version: entry.version.clone(),
            });
        };
        let failed = |source: DbErr, rolled_back: bool| EngineError::MigrationFailed {
            migration: entry.label(),
            direction: "down",
            rolled_back,
            completed: Vec::new(),
            source,
        };
        let source = match &down {
            Down::Code(_) => "code",
            Down::Stored(_) => "stored",
        };
        let protocol = match &down {
            Down::Code(m) => self.protocol(m),
            Down::Stored(_) if backend::transactional_ddl(self.backend()) => Protocol::Atomic,
            Down::Stored(_) => Protocol::Tracked,
        };
        match protocol {
            Protocol::Atomic => {
                let txn = self.conn.begin().await.map_err(|e| failed(e, true))?;
                let result = async {
                    down.run(&SchemaManager::new(&txn), &txn).await?;
                    let done = self.history_entry(
                        &row,
                        Action::Revert,
                        Some(row.batch),
                        millis(started),
                        Outcome::Success,
                        None,
                        options.reason.clone(),
                    );
                    txn.execute(&self.ledger.delete(&row.version)).await?;
                    txn.execute(&history::insert(&self.ledger, &done)).await?;
                    Ok::<(), DbErr>(())
                }
                .await;
                match result {
                    Ok(()) => txn.commit().await.map_err(|e| failed(e, true))?,
                    Err(e) => {
                        let _ = txn.rollback().await;
                        self.record_failure(&row, Action::Revert, row.batch, started, &e, options)
                            .await;
                        return Err(failed(e, true));
                    }
                }
            }
            Protocol::Tracked => {
                self.conn
                    .execute(
                        &self
                            .ledger
                            .set_state(&row.version, RowState::Running, None, None),
                    )
                    .await
                    .map_err(|e| failed(e, true))?;
                match down.run(&SchemaManager::new(&self.conn), &self.conn).await {
                    Ok(()) => {
                        let done = self.history_entry(
                            &row,
                            Action::Revert,
                            Some(row.batch),
                            millis(started),
                            Outcome::Success,
                            None,
                            options.reason.clone(),
                        );
                        self.conn
                            .execute(&self.ledger.delete(&row.version))
                            .await
                            .map_err(|e| failed(e, false))?;
                        self.conn
                            .execute(&history::insert(&self.ledger, &done))
                            .await
                            .map_err(|e| failed(e, false))?;
                    }
                    Err(e) => {
                        let _ = self
                            .conn
                            .execute(&self.ledger.set_state(
                                &row.version,
                                RowState::Failed,
                                Some(format!("down: {e}")),
                                None,
                            ))
                            .await;
                        self.record_failure(&row, Action::Revert, row.batch, started, &e, options)
                            .await;
                        return Err(failed(e, false));
                    }
                }
            }
        }
        Ok(Step {
            version: entry.version.clone(),
            name: entry.name.clone(),
            direction: "down",
            source,
            duration_ms: millis(started),
        })
    }

    /// The SQL `up` would run, with transaction boundaries and ledger writes; changes nothing.
    ///
    /// # Errors
    /// The same validation refusals as [`Engine::up`].
    pub async fn dry_run_up(&self, target: &UpTarget, options: &RunOptions) -> Result<Script> {
        let snap = self.snapshot().await?;
        let planned = plan::plan_up(&snap.entries, target)?;
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
            });
        }
        let batch = ledger::next_batch(snap.rows.as_deref().unwrap_or_default());
        for index in planned {
            let entry = &snap.entries[index];
            let Some(m) = entry.code.and_then(|i| self.set.iter().nth(i)) else {
                continue;
            };
            let checksum = &snap.code[entry.code.unwrap_or_default()].checksum;
            let up = self.render(m, Direction::Up).await?;
            let down_sql = self.render_down(m).await;
            let row = self.new_row(entry, checksum, batch, down_sql, RowState::Applied);
            let done = self.history_entry(
                &row,
                Action::Apply,
                Some(batch),
                0,
                Outcome::Success,
                None,
                options.reason.clone(),
            );
            let statements = match self.protocol(m) {
                Protocol::Atomic => [
                    vec!["BEGIN".to_owned()],
                    up,
                    vec![
                        self.sql(&self.ledger.insert(&row)),
                        self.sql(&history::insert(&self.ledger, &done)),
                        "COMMIT".to_owned(),
                    ],
                ]
                .concat(),
                Protocol::Tracked => {
                    let running = LedgerRow {
                        state: RowState::Running,
                        ..row.clone()
                    };
                    [
                        vec![self.sql(&self.ledger.insert(&running))],
                        up,
                        vec![
                            self.sql(&self.ledger.set_state(
                                &row.version,
                                RowState::Applied,
                                None,
                                Some(0),
                            )),
                            self.sql(&history::insert(&self.ledger, &done)),
                        ],
                    ]
                    .concat()
                }
            };
            script.sections.push(Section {
                title: format!("{} (up, batch {batch})", entry.label()),
                statements,
            });
        }
        Ok(script)
    }

    /// The SQL `down` would run, with transaction boundaries and ledger writes; changes nothing.
    ///
    /// # Errors
    /// The same validation refusals as [`Engine::down`], except that migrations missing from the
    /// code are shown rather than refused.
    pub async fn dry_run_down(&self, target: &DownTarget, options: &RunOptions) -> Result<Script> {
        let snap = self.snapshot().await?;
        let planned = plan::plan_down(&snap.entries, target)?;
        let shown = RunOptions {
            confirmed_missing: true,
            ..options.clone()
        };
        let downs = self.check_down(&snap, &planned, &shown).await?;
        let mut script = Script::default();
        for (&index, down) in planned.iter().zip(downs) {
            let entry = &snap.entries[index];
            let Some(row) = &entry.row else { continue };
            let (statements, source, protocol) = match &down {
                Down::Code(m) => (
                    self.render(m, Direction::Down).await?,
                    "from code",
                    self.protocol(m),
                ),
                Down::Stored(s) => (
                    s.clone(),
                    "not in the code: stored SQL",
                    if backend::transactional_ddl(self.backend()) {
                        Protocol::Atomic
                    } else {
                        Protocol::Tracked
                    },
                ),
            };
            let done = self.history_entry(
                row,
                Action::Revert,
                Some(row.batch),
                0,
                Outcome::Success,
                None,
                options.reason.clone(),
            );
            let writes = vec![
                self.sql(&self.ledger.delete(&row.version)),
                self.sql(&history::insert(&self.ledger, &done)),
            ];
            let statements =
                match protocol {
                    Protocol::Atomic => [
                        vec!["BEGIN".to_owned()],
                        statements,
                        writes,
                        vec!["COMMIT".to_owned()],
                    ]
                    .concat(),
                    Protocol::Tracked => [
                        vec![self.sql(&self.ledger.set_state(
                            &row.version,
                            RowState::Running,
                            None,
                            None,
                        ))],
                        statements,
                        writes,
                    ]
                    .concat(),
                };
            script.sections.push(Section {
                title: format!("{} (down, {source})", entry.label()),
                statements,
            });
        }
        Ok(script)
    }

    /// Fixes the ledger after a deliberate change or a failed migration. Never runs migrations.
    ///
    /// # Errors
    /// [`EngineError::Repair`] when the named version is not in a state this action handles.
    pub async fn repair(
        &self,
        action: &RepairAction,
        options: &RunOptions,
    ) -> Result<RepairReport> {
        let snap = self.snapshot().await?;
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
                    });
                }
                for e in snap.entries.iter().filter(|e| e.state == State::Modified) {
                    let (Some(row), Some(i)) = (&e.row, e.code) else {
                        continue;
                    };
                    let Some(m) = self.set.iter().nth(i) else {
                        continue;
                    };
                    let new_sum = snap.code[i].checksum.clone();
                    let down_sql = self.render_down(m).await;
                    let what = format!(
                        "re-recorded checksum of {}: {} -> {}",
                        e.label(),
                        short(&row.checksum),
                        short(&new_sum)
                    );
                    writes.push((
                        row.clone(),
                        what,
                        Box::new(self.ledger.set_checksum(&row.version, &new_sum, down_sql)),
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
                if e.state == State::Applied || e.state == State::Modified {
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

    /// The schema as it stands, without the ledger's tables: what `migrate schema` prints and
    /// `migrate verify` compares. Reads only.
    ///
    /// # Errors
    /// A database error while reading the catalog.
    pub async fn schema(&self) -> Result<crate::snapshot::SchemaSnapshot> {
        crate::snapshot::read(&self.conn, self.ledger.table_name()).await
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
    pub async fn drop_all(&self) -> Result<Vec<String>> {
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
    }
}

/// Adds the migrations completed earlier in the run to a failure.
fn with_completed(err: EngineError, report: &RunReport) -> EngineError {
    match err {
        EngineError::MigrationFailed {
            migration,
            direction,
            rolled_back,
            source,
            ..
        } => EngineError::MigrationFailed {
            migration,
            direction,
            rolled_back,
            completed: report
                .steps
                .iter()
                .map(|s| format!("{}_{}", s.version, s.name))
                .collect(),
            source,
        },
        other => other,
    }
}

/// What a revert runs: the migration's `down`, or the statements stored at apply time.
enum Down<'a> {
    Code(&'a Migration),
    Stored(Vec<String>),
}

impl Down<'_> {
    async fn run<C: ConnectionTrait>(
        &self,
        manager: &SchemaManager<'_>,
        conn: &C,
    ) -> Result<(), DbErr> {
        match self {
            Down::Code(m) => m.code.down(manager).await,
            Down::Stored(statements) => {
                for sql in statements {
                    conn.execute_unprepared(sql).await?;
                }
                Ok(())
            }
        }
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
