//! The engine: a migration set bound to one database connection and its ledger, and what it
//! reads there: where every migration stands, the history, the schema. The executor
//! ([`super::executor`]) plans on what it reads and runs the steps; repair, baseline and fresh
//! live beside it.

use chrono::Utc;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, TransactionTrait};
use sea_orm_migration::MigrationTrait;
use std::borrow::Cow;
use std::time::Instant;
use tracing::info;

use crate::backend;
use crate::backend::lock::Holder;
use crate::backend::wipe;
use crate::error::{EngineError, Result};
use crate::exec::report::{RunReport, SquashPath, SquashStatus, StatusLine, StatusReport};
use crate::model::deps::DependencyGraph;
use crate::model::releases::Releases;
use crate::model::set::{Migration, MigrationId, MigrationSet};
use crate::plan::{self, CodeMigration, Entry};
use crate::store::adopt::{self, SeaqlRow};
use crate::store::checksum::checksum;
use crate::store::history::{self, Action, HistoryEntry, Outcome};
use crate::store::ledger::{self, Ledger, LedgerRow, Rendered, RowState};
use crate::store::render::{self, Direction, Rendering};

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

/// A migration set bound to one database connection and ledger.
pub struct Engine<'a> {
    pub(super) conn: DatabaseConnection,
    pub(super) set: &'a MigrationSet,
    pub(super) ledger: Ledger,
    pub(super) actor: String,
    pub(super) environment: String,
    pub(super) graph: Cow<'a, DependencyGraph>,
    pub(super) code: tokio::sync::OnceCell<Vec<CodeMigration>>,
    /// The `up` renderings of the code's migrations, then of its consolidated migrations.
    pub(super) ups: tokio::sync::OnceCell<Ups>,
    pub(super) releases: Option<&'a Releases>,
    pub(super) squashes: bool,
    /// The lock timeout of DDL and the ladder of retries, from the session.
    pub(super) ladder: Option<(std::time::Duration, crate::exec::retry::LockRetry)>,
    /// The token of the session's table lock, which the `running` rows it writes record.
    pub(super) runner: Option<String>,
}

/// The `up` renderings of a set's migrations, then of its consolidated migrations: what
/// checksums are computed from. Rendering needs no database, so a caller may make them while
/// the connection is being opened ([`Engine::with_rendered`]).
#[derive(Debug, Clone)]
pub struct Ups(Vec<Rendering>, DbBackend);

impl Ups {
    /// Renders every `up` of `set` for `backend`, letting other work of the task (a connection
    /// being opened) go on between migrations.
    pub async fn render(set: &MigrationSet, backend: DbBackend) -> Self {
        let codes = set
            .iter()
            .map(|m| m.code.as_ref())
            .chain(set.squashes().iter().map(|g| g.code.as_ref()));
        let mut out = Vec::new();
        for code in codes {
            out.push(render::render_code(code, backend, Direction::Up).await);
            tokio::task::yield_now().await;
        }
        Self(out, backend)
    }
}

/// What the engine read before planning.
pub(super) struct Snapshot {
    pub(super) rows: Option<Vec<LedgerRow>>,
    pub(super) adoptable: Option<Vec<SeaqlRow>>,
    pub(super) code: Vec<CodeMigration>,
    pub(super) entries: Vec<Entry>,
    /// Versions whose `running` row belongs to a runner that is gone: read as failed, still
    /// `running` in the ledger.
    pub(super) gone: Vec<String>,
}

impl Snapshot {
    /// The batch an `up` on this snapshot records: one more than the highest recorded, counting
    /// the rows an adoption of `seaql_migrations` writes first.
    pub(super) fn next_batch(&self) -> i32 {
        let rows: Vec<LedgerRow> = self.entries.iter().filter_map(|e| e.row.clone()).collect();
        ledger::next_batch(&rows)
    }
}

/// `user@host` of whoever runs this process, as the ledger, the history and plans record it.
pub(crate) fn who() -> String {
    let user = whoami::username().unwrap_or_else(|_| "unknown".to_owned());
    let host = whoami::hostname().unwrap_or_else(|_| "unknown".to_owned());
    format!("{user}@{host}")
}

/// The `running` rows of a ledger read, by runner.
#[derive(Default)]
struct Runners {
    /// Versions whose runner is at work, with who it is.
    live: Vec<(String, Holder)>,
    /// Versions whose runner is gone.
    gone: Vec<String>,
}

/// The error a `running` row whose runner stopped before completing it is marked with.
pub(super) fn interrupted() -> String {
    format!(
        "{}: its runner stopped before completing it",
        plan::INTERRUPTED
    )
}

/// Milliseconds since `since`, as the ledger and the history record durations.
pub(super) fn millis(since: Instant) -> i64 {
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
            ups: tokio::sync::OnceCell::new(),
            releases: None,
            squashes: true,
            ladder: None,
            runner: None,
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

    /// Whether `object` is the lock table of this engine's ledger, which `fresh` and `restore`
    /// keep: it holds the lock of the command that drops everything else.
    pub(crate) fn is_lock_table(&self, object: &wipe::Object) -> bool {
        object.kind == wipe::ObjectKind::Table
            && object
                .identifier()
                .eq_ignore_ascii_case(&backend::lock::lock_table_name(self.ledger.table_name()))
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

    /// The backend of the connection and the ledger.
    pub(super) fn backend(&self) -> DbBackend {
        self.ledger.backend()
    }

    /// One half of `code` rendered for this backend, without a database.
    pub(super) async fn render(
        &self,
        code: &dyn MigrationTrait,
        direction: Direction,
    ) -> Rendering {
        render::render_code(code, self.backend(), direction).await
    }

    /// What the ledger row of a migration applied from `code` records about its rendering: the
    /// checksum of its `up` (and where that rendering stopped, if it did), and its `down` SQL if
    /// the `down` renders completely, or why it is not stored.
    pub(super) async fn rendered(&self, code: &dyn MigrationTrait, up: &CodeMigration) -> Rendered {
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
    pub(super) async fn stored_down(
        &self,
        code: &dyn MigrationTrait,
    ) -> (Option<String>, Option<String>) {
        let down = self.render(code, Direction::Down).await;
        match &down.stop {
            None => (Some(ledger::encode_statements(&down.statements)), None),
            Some(stop) => (None, Some(stop.describe())),
        }
    }

    /// The code's migrations with their checksums, rendered once per engine: the code does not
    /// change while it runs. Rendering never fails: a migration that reads data is checksummed
    /// over the statements before its first read, and says so.
    pub(super) async fn code_migrations(&self) -> Vec<CodeMigration> {
        self.code
            .get_or_init(|| self.render_code_migrations())
            .await
            .clone()
    }

    /// The `up` of every migration of the code, then of every consolidated migration, rendered
    /// once per engine: checksums and the list of what `fresh` drops both read them.
    pub(super) async fn rendered_ups(&self) -> &[Rendering] {
        let ups = self
            .ups
            .get_or_init(|| Ups::render(self.set, self.backend()));
        ups.await.0.as_slice()
    }

    /// Takes `ups`, rendered for this engine's set and backend beforehand (while connecting),
    /// as its renderings; ones made for another set or backend are ignored.
    pub fn with_rendered(self, ups: Ups) -> Self {
        if ups.1 == self.backend() && ups.0.len() == self.set.len() + self.set.squashes().len() {
            let _ = self.ups.set(ups);
        }
        self
    }

    async fn render_code_migrations(&self) -> Vec<CodeMigration> {
        let ups = self.rendered_ups().await;
        let mut out = Vec::with_capacity(self.set.len());
        for (m, up) in self.set.iter().zip(ups) {
            out.push(CodeMigration {
                version: m.id.version.clone(),
                name: m.id.name.clone(),
                checksum: checksum(&up.statements),
                squash: None,
                render_stop: up.partial(),
            });
        }
        for (group, up) in self.set.squashes().iter().zip(&ups[self.set.len()..]) {
            let sum = checksum(&up.statements);
            for c in out.iter_mut().take(group.last + 1).skip(group.first) {
                c.squash = Some((group.name(), sum.clone()));
            }
        }
        out
    }

    /// Reads where the database stands, without the lock and without writing: the ledger (or,
    /// without one, the rows adopting `seaql_migrations` would write) joined with the code. A
    /// `running` row is told apart by its runner ([`Engine::runners`]): one at work leaves the
    /// migration `running`; one that is gone leaves it interrupted, so `failed`.
    ///
    /// # Errors
    /// A database error while reading.
    pub(super) async fn snapshot(&self) -> Result<Snapshot> {
        let code = self.code_migrations().await;
        let rows = self
            .ledger
            .read(&self.conn)
            .await
            .map_err(EngineError::db("reading the ledger"))?;
        let (rows, Runners { live, gone }) = match rows {
            Some(rows) => {
                let (rows, runners) = self.runners(rows).await?;
                (Some(rows), runners)
            }
            None => (None, Runners::default()),
        };
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
        let mut entries = plan::classify(&effective, &code);
        plan::mark_running(&mut entries, &live);
        Ok(Snapshot {
            rows,
            adoptable,
            code,
            entries,
            gone,
        })
    }

    /// Tells the `running` rows of `rows` whose runner is at work from those whose runner is
    /// gone, by the lease on the table lock each recorded (the token of the lock it held):
    /// returns the rows, those of a runner that is gone marked failed as interrupted (in memory
    /// only), and which rows are which ([`Runners`]). A row without a token (written under a
    /// session lock) is left as it is: nothing tells.
    ///
    /// The lock row is read after the ledger. A runner that completed its migration and let go
    /// of the lock in between would look gone; so when one looks gone, the ledger is read once
    /// more, and only a row still `running` under a token the first read had is taken for one
    /// whose runner is gone (a token belongs to one holding of the lock, so its holder cannot
    /// have come back).
    ///
    /// # Errors
    /// A database error reading the ledger or the lock table.
    async fn runners(&self, rows: Vec<LedgerRow>) -> Result<(Vec<LedgerRow>, Runners)> {
        let tokens = |rows: &[LedgerRow]| -> Vec<String> {
            rows.iter()
                .filter(|r| r.state == RowState::Running)
                .filter_map(|r| r.runner.clone())
                .collect()
        };
        let first = tokens(&rows);
        if first.is_empty() {
            return Ok((rows, Runners::default()));
        }
        let lease = backend::lock::lease_of(&self.conn, &self.ledger)
            .await
            .map_err(EngineError::db("reading the migration lock"))?
            .filter(|lease| lease.live);
        let at_work = |token: &String| lease.as_ref().is_some_and(|l| l.token == *token);
        let mut rows = if first.iter().all(at_work) {
            rows
        } else {
            self.ledger
                .read(&self.conn)
                .await
                .map_err(EngineError::db("reading the ledger"))?
                .unwrap_or_default()
        };
        let mut runners = Runners::default();
        for row in rows.iter_mut().filter(|r| r.state == RowState::Running) {
            match (&row.runner, &lease) {
                (Some(token), Some(lease)) if lease.token == *token => {
                    runners
                        .live
                        .push((row.version.clone(), lease.holder.clone()));
                }
                (Some(token), _) if first.contains(token) => {
                    row.state = RowState::Failed;
                    row.error = Some(interrupted());
                    runners.gone.push(row.version.clone());
                }
                _ => {}
            }
        }
        Ok((rows, runners))
    }

    /// Reads where the database stands for a command that holds the lock, after bringing a
    /// ledger created by an earlier version up to date. A `running` row found now belongs to a
    /// runner that stopped before completing it (the lock guarantees no other is at work),
    /// unless its runner still holds a live table lock (one that took the table lock while
    /// this command took a session lock): it is marked failed, as interrupted, before anything
    /// is planned, and the refusal that follows says so and gives the repair commands. A
    /// migration whose runner is at work stays `running`, and the plan refuses to wait for it.
    ///
    /// # Errors
    /// A database error reading or updating the ledger.
    pub(super) async fn locked_snapshot(&self) -> Result<Snapshot> {
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
        let at_work: Vec<String> = snap
            .entries
            .iter()
            .filter(|e| e.state == plan::State::Running)
            .map(|e| e.version.clone())
            .collect();
        let gone = std::mem::take(&mut snap.gone);
        let stale = |r: &LedgerRow| {
            (r.state == RowState::Running && !at_work.contains(&r.version))
                || gone.contains(&r.version)
        };
        if !snap.rows.iter().flatten().any(stale) {
            return Ok(snap);
        }
        let error = interrupted();
        self.conn
            .execute(&self.ledger.fail_running_except(&error, &at_work))
            .await
            .map_err(EngineError::db("marking an interrupted migration failed"))?;
        let rows = snap.rows.iter_mut().flatten();
        let entries = snap.entries.iter_mut().filter_map(|e| e.row.as_mut());
        for row in rows.chain(entries).filter(|r| stale(r)) {
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
                runner: None,
            });
        }
        rows
    }

    /// The release that shipped `version`, when the project declares releases.
    pub(super) fn release_of(&self, version: &str) -> Option<String> {
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
                    baseline: e.row.as_ref().is_some_and(super::baseline::is_baseline_row),
                    runner: e.runner.as_ref().map(Into::into),
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

    /// The statements that create the ledger and its history (and their schema).
    pub(super) fn ledger_ddl(&self) -> Vec<String> {
        let b = self.backend();
        let mut out = Vec::new();
        if let Some(schema) = self.ledger.schema() {
            out.push(format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\""));
        }
        out.push(b.build(&self.ledger.create_table()).to_string());
        out.push(b.build(&history::create_table(&self.ledger)).to_string());
        out
    }

    /// Creates the ledger and its history where they do not exist yet.
    ///
    /// # Errors
    /// A database error while creating them.
    pub(super) async fn ensure_ledger(&self) -> Result<()> {
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
    pub(super) async fn adopt_if_needed(&self, snap: &Snapshot) -> Result<Vec<String>> {
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

    /// A history entry for `row`, by whoever runs this engine.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn history_entry(
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
    pub(super) fn record(
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

    /// The ledger row an apply of `entry` writes in `batch`.
    pub(super) fn new_row(
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
            runner: self.runner.clone(),
        }
    }

    /// The code of the migration `entry` stands for.
    ///
    /// # Errors
    /// [`EngineError::UnknownVersion`] when the code does not have it.
    pub(crate) fn code_of(&self, entry: &Entry) -> Result<&'a Migration> {
        let set: &'a MigrationSet = self.set;
        entry
            .code
            .and_then(|i| set.iter().nth(i))
            .ok_or_else(|| EngineError::UnknownVersion {
                version: entry.version.clone(),
            })
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

    /// Drops every object in the schema, the ledger included, and the schemas `listing` (from
    /// [`Engine::fresh_listing`]) says the migrations create, for `fresh` and `restore`.
    ///
    /// # Errors
    /// A database error while dropping.
    pub(crate) async fn drop_all(&self, listing: &wipe::Listing) -> Result<Vec<String>> {
        // The schemas the listing found the migrations create (it rendered them once already).
        let schemas: Vec<wipe::Object> = listing
            .objects
            .iter()
            .filter(|o| o.kind == wipe::ObjectKind::Schema)
            .map(|o| wipe::Object::schema(self.backend(), &o.name))
            .collect();
        let mut dropped: Vec<String> = wipe::drop_all(&self.conn, |o| self.is_lock_table(o))
            .await
            .map_err(EngineError::db("dropping the schema's objects"))?
            .iter()
            .map(ToString::to_string)
            .collect();
        dropped.extend(
            wipe::drop_schemas(&self.conn, schemas)
                .await
                .map_err(EngineError::db("dropping the migrations' schemas"))?
                .iter()
                .map(ToString::to_string),
        );
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
