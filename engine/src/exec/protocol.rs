//! The step protocol, written once: how one step's statements and its ledger writes are made
//! durable together on each backend. It is a description (a [`Recipe`]: the parts of a step in
//! order, and the writes of each) that the executor runs and a dry run prints, so what a dry
//! run shows is what a run does.
//!
//! - **Atomic**, where DDL is transactional (PostgreSQL, SQLite): `BEGIN`, the statements, the
//!   ledger and history rows, `COMMIT`. All or nothing; a failure is recorded in the history
//!   after the rollback.
//! - **Tracked**, where DDL commits itself (MySQL, MariaDB) and for migrations that opt out of
//!   transactions (`use_transaction() == Some(false)`): the rows are marked `running` and
//!   committed first, then the statements run, then the rows are completed. A step that stops
//!   midway leaves its rows `failed` (or `running`, if its runner died), which blocks later runs
//!   until `migrate repair`; sqlx's MySQL migrator keeps the same kind of dirty row. A migration
//!   that asks for a transaction (`Some(true)`) gets one around its statements: its DML is then
//!   atomic, though its DDL still commits itself.
//!
//! Where an atomic step's transaction comes from is the executor's choice, made for speed, not
//! meaning: its own, a savepoint in a transaction shared by consecutive steps (SQLite, where
//! each commit waits for the disk), or the run's one transaction (`--single-transaction`, where
//! the dry run shows one `BEGIN`/`COMMIT` around the run instead of one per step). So is how
//! many round trips the parts take: a migration whose rendering is complete and holds only
//! schema statements ([`Rendering::sendable`](crate::store::render::Rendering::sendable)) is
//! sent as those statements, its atomic step in two round trips (the opening and the
//! statements, then the ledger writes and the commit), its tracked step on MySQL/MariaDB as
//! one multi-statement script between its ledger writes. The statements are the ones its code
//! sends and its checksum covers, and a failure is reported as the code's own would be.

use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseExecutor, DbBackend, DbErr, Statement};
use sea_orm_migration::{MigrationTrait, SchemaManager};

use super::engine::{Engine, RunOptions};
use super::report;
use crate::backend;
use crate::error::EngineError;
use crate::store::capture;
use crate::store::history::{self, Action, HistoryEntry, Outcome};
use crate::store::ledger::{LedgerRow, RowState};
use crate::store::render::Direction;

/// How a step's statements and its ledger rows are made durable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Protocol {
    /// Statements and ledger rows in one transaction.
    Atomic,
    /// Rows marked `running` first and completed afterwards; the statements in a transaction of
    /// their own when the migration asks for one.
    Tracked {
        /// The migration asked for a transaction (`use_transaction() == Some(true)`).
        own_transaction: bool,
    },
}

impl Protocol {
    /// The protocol of migration code on `backend`: atomic where DDL is transactional, unless
    /// the migration opts out.
    pub(crate) fn of_code(code: &dyn MigrationTrait, backend: DbBackend) -> Self {
        let ddl = backend::transactional_ddl(backend);
        if code.use_transaction().unwrap_or(ddl) && ddl {
            Protocol::Atomic
        } else {
            Protocol::Tracked {
                own_transaction: code.use_transaction() == Some(true),
            }
        }
    }

    /// The protocol of stored `down` SQL: atomic where DDL is transactional.
    pub(crate) fn of_stored(backend: DbBackend) -> Self {
        if backend::transactional_ddl(backend) {
            Protocol::Atomic
        } else {
            Protocol::Tracked {
                own_transaction: false,
            }
        }
    }
}

/// One part of a step, in the order it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Part {
    /// The ledger rows marked `running`, committed before anything else (tracked steps).
    MarkRunning,
    /// Opens the step's transaction (`BEGIN`).
    Begin,
    /// The step's statements: migration code, or stored SQL.
    Body,
    /// The ledger and history writes that complete the step.
    Record,
    /// Commits the step's transaction (`COMMIT`).
    Commit,
}

/// How far a step had got when it failed, which decides what the failure means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stage {
    /// Before anything of the migration could have run: nothing to undo or to record.
    Prepare,
    /// While its statements ran (for an atomic step: until its commit). The failure is
    /// recorded; an atomic step was rolled back.
    Work,
    /// Completing a tracked step's rows after its statements ran and committed themselves.
    Finish,
}

/// What a step runs.
pub(crate) enum Body<'a> {
    /// One half of migration code (a migration's, or a consolidated migration's), with the
    /// statements it renders to when they may be sent in its place
    /// ([`Rendering::sendable`](crate::store::render::Rendering::sendable)).
    Code(&'a dyn MigrationTrait, Direction, Option<Vec<String>>),
    /// The `down` statements stored when the migrations were applied.
    Stored(Vec<String>),
}

/// One ledger or history write of a step. What only the run knows (how long it took, what it
/// sent, how it failed) is filled in from [`Facts`] when the write is built.
#[derive(Debug, Clone)]
pub(crate) enum Write {
    /// Inserts the row, with the run's duration.
    Insert(LedgerRow),
    /// Sets a row's state, with the run's duration and the error where asked.
    SetState {
        version: String,
        state: RowState,
        duration: bool,
        error: bool,
    },
    /// Removes a row.
    Delete(String),
    /// Appends a history entry for the row; the `first` of a step carries its statements.
    History {
        row: LedgerRow,
        outcome: Outcome,
        first: bool,
    },
}

impl Write {
    /// The table a write goes to, for a warning when it cannot be written.
    pub(crate) fn table(&self) -> &'static str {
        match self {
            Write::History { .. } => "history",
            _ => "ledger",
        }
    }
}

/// What a run knows once a step's statements ran; a dry run knows none of it.
#[derive(Debug, Clone, Default)]
pub(crate) struct Facts {
    /// Wall time since the step started.
    pub ms: i64,
    /// The statements the step's code sent, the failing one last for a failure.
    pub statements: Vec<String>,
    /// Why the step failed.
    pub error: Option<String>,
}

/// One step as the protocol carries it out: what it runs, on which terms, and the ledger rows it
/// writes; with how progress lines, dry runs and the run's report name it.
pub(crate) struct Recipe<'a> {
    /// `version_name` of what runs, as progress lines and failures name it.
    pub label: String,
    /// The dry run's heading of the step.
    pub title: String,
    /// Applying or reverting.
    pub direction: Direction,
    /// See [`Protocol`].
    pub protocol: Protocol,
    /// See [`Body`].
    pub body: Body<'a>,
    /// The ledger rows the step writes, as they stand before it.
    pub rows: Vec<LedgerRow>,
    /// The report line of the step once done, without its duration.
    pub report: report::Step,
}

impl Recipe<'_> {
    /// The parts of the step in the order they run: the one sequence both the executor and the
    /// dry run walk.
    pub(crate) fn parts(&self) -> &'static [Part] {
        match self.protocol {
            Protocol::Atomic => &[Part::Begin, Part::Body, Part::Record, Part::Commit],
            Protocol::Tracked {
                own_transaction: false,
            } => &[Part::MarkRunning, Part::Body, Part::Record],
            Protocol::Tracked {
                own_transaction: true,
            } => &[
                Part::MarkRunning,
                Part::Begin,
                Part::Body,
                Part::Commit,
                Part::Record,
            ],
        }
    }

    /// Whether the [`Part::Record`] writes go in one transaction of their own: a tracked step's,
    /// written after its statements, outside any transaction, so that its row and its history
    /// entry are completed together, with one commit.
    pub(crate) fn records_together(&self) -> bool {
        self.protocol != Protocol::Atomic && self.writes(Part::Record).len() > 1
    }

    /// What a failure in `part` means.
    pub(crate) fn stage(&self, part: Part) -> Stage {
        match (self.protocol, part) {
            (Protocol::Atomic, Part::Begin) | (_, Part::MarkRunning) => Stage::Prepare,
            (Protocol::Tracked { .. }, Part::Record) => Stage::Finish,
            _ => Stage::Work,
        }
    }

    /// Whether a failure in `stage` left nothing of the step behind.
    pub(crate) fn rolled_back(&self, stage: Stage) -> bool {
        match stage {
            Stage::Prepare => true,
            Stage::Work => self.protocol == Protocol::Atomic,
            Stage::Finish => false,
        }
    }

    /// The ledger and history writes of `part` (of [`Part::MarkRunning`] and [`Part::Record`];
    /// the other parts write nothing), in order.
    pub(crate) fn writes(&self, part: Part) -> Vec<Write> {
        let tracked = self.protocol != Protocol::Atomic;
        let mut out = Vec::new();
        for (n, row) in self.rows.iter().enumerate() {
            let set_state = |state, duration| Write::SetState {
                version: row.version.clone(),
                state,
                duration,
                error: false,
            };
            let history = Write::History {
                row: row.clone(),
                outcome: Outcome::Success,
                first: n == 0,
            };
            match (part, self.direction) {
                (Part::MarkRunning, Direction::Up) if tracked => {
                    out.push(Write::Insert(LedgerRow {
                        state: RowState::Running,
                        ..row.clone()
                    }));
                }
                (Part::MarkRunning, Direction::Down) if tracked => {
                    out.push(set_state(RowState::Running, false));
                }
                (Part::Record, Direction::Up) if tracked => {
                    out.extend([set_state(RowState::Applied, true), history]);
                }
                (Part::Record, Direction::Up) => out.extend([Write::Insert(row.clone()), history]),
                (Part::Record, Direction::Down) => {
                    out.extend([Write::Delete(row.version.clone()), history]);
                }
                _ => {}
            }
        }
        out
    }

    /// The writes that record a failure of the step's work: tracked rows marked `failed`, then
    /// a failed history entry for each row.
    pub(crate) fn failure_writes(&self) -> Vec<Write> {
        let marked = self
            .rows
            .iter()
            .filter(|_| self.protocol != Protocol::Atomic)
            .map(|row| Write::SetState {
                version: row.version.clone(),
                state: RowState::Failed,
                duration: self.direction == Direction::Up,
                error: true,
            });
        let entries = self.rows.iter().enumerate().map(|(n, row)| Write::History {
            row: row.clone(),
            outcome: Outcome::Failed,
            first: n == 0,
        });
        marked.chain(entries).collect()
    }

    /// The step's report line, with how long it took.
    pub(crate) fn done(&self, duration_ms: i64) -> report::Step {
        report::Step {
            duration_ms,
            ..self.report.clone()
        }
    }
}

impl<'a> Engine<'a> {
    /// The statement of `write` for `recipe`, with what the run knows filled in.
    pub(crate) fn statement(
        &self,
        write: &Write,
        recipe: &Recipe<'_>,
        facts: &Facts,
        options: &RunOptions,
    ) -> Statement {
        let ledger = &self.ledger;
        let b = self.backend();
        match write {
            Write::Insert(row) => b.build(&ledger.insert(&LedgerRow {
                execution_ms: facts.ms,
                ..row.clone()
            })),
            Write::SetState {
                version,
                state,
                duration,
                error,
            } => {
                if *state == RowState::Running {
                    return b.build(&ledger.mark_running(version, self.runner.clone()));
                }
                let error = facts
                    .error
                    .as_ref()
                    .filter(|_| *error)
                    .map(|e| format!("{}: {e}", recipe.direction.as_str()));
                b.build(&ledger.set_state(version, *state, error, duration.then_some(facts.ms)))
            }
            Write::Delete(version) => b.build(&ledger.delete(version)),
            Write::History {
                row,
                outcome,
                first,
            } => {
                let action = match recipe.direction {
                    Direction::Up => Action::Apply,
                    Direction::Down => Action::Revert,
                };
                let error = facts
                    .error
                    .clone()
                    .filter(|_| matches!(outcome, Outcome::Failed | Outcome::Retried));
                let entry = HistoryEntry {
                    statements: if *first {
                        facts.statements.clone()
                    } else {
                        Vec::new()
                    },
                    ..self.record(row, action, facts.ms, *outcome, error, options)
                };
                b.build(&history::insert(ledger, &entry))
            }
        }
    }

    /// Runs `writes` on `conn`, stopping at the first that fails.
    pub(crate) async fn write<C: ConnectionTrait>(
        &self,
        conn: &C,
        writes: &[Write],
        recipe: &Recipe<'_>,
        facts: &Facts,
        options: &RunOptions,
    ) -> Result<(), DbErr> {
        for write in writes {
            conn.execute_raw(self.statement(write, recipe, facts, options))
                .await?;
        }
        Ok(())
    }

    /// Runs `writes` on the connection in one transaction of their own, as one script with
    /// their values inlined: one round trip and one commit (one log flush) for them all. A
    /// single write runs as [`Engine::write`] runs it.
    pub(crate) async fn write_together(
        &self,
        conn: &DatabaseConnection,
        writes: &[Write],
        recipe: &Recipe<'_>,
        facts: &Facts,
        options: &RunOptions,
    ) -> Result<(), DbErr> {
        if writes.len() < 2 {
            return self.write(conn, writes, recipe, facts, options).await;
        }
        let mut script = vec!["BEGIN".to_owned()];
        script.extend(
            writes
                .iter()
                .map(|w| self.statement(w, recipe, facts, options).to_string()),
        );
        script.push("COMMIT".to_owned());
        let done = conn.execute_unprepared(&script.join(";\n")).await;
        if done.is_err() {
            let _ = conn.execute_unprepared("ROLLBACK").await;
        }
        done.map(drop)
    }

    /// Records the failure of a step's work on `conn` (outside the rolled-back transaction, or
    /// in the transaction the step shared), and returns the failure as the run reports it. A
    /// failure to record is logged rather than hiding the migration's own error.
    pub(crate) async fn fail<C: ConnectionTrait>(
        &self,
        conn: &C,
        recipe: &Recipe<'_>,
        failure: Failure,
        options: &RunOptions,
    ) -> EngineError {
        if failure.stage == Stage::Work {
            let facts = Facts {
                ms: failure.ms,
                statements: failure.error.statements.clone(),
                error: Some(failure.error.to_string()),
            };
            for write in recipe.failure_writes() {
                let statement = self.statement(&write, recipe, &facts, options);
                if let Err(e) = conn.execute_raw(statement).await {
                    tracing::warn!("could not record the failure in the {}: {e}", write.table());
                }
            }
        }
        step_failed(
            &recipe.label,
            recipe.direction,
            recipe.rolled_back(failure.stage),
            failure.error,
        )
    }
}

impl Body<'_> {
    /// Runs the body on `conn` under `protocol`, returning the statements it sent.
    ///
    /// Code whose statements are known from its rendering, in a tracked step (whose DDL commits
    /// statement by statement), sends them as plain text instead of running: on MySQL/MariaDB
    /// as one script that counts what completed, so a failure still says which statement failed
    /// and what ran before it. The database receives what the code would have sent, and what
    /// was checksummed. (An atomic step sends them with its ledger writes; see
    /// [`Engine::run_step`](super::engine::Engine).)
    pub(crate) async fn run(
        &self,
        conn: DatabaseExecutor<'_>,
        protocol: Protocol,
    ) -> Result<Vec<String>, StepError> {
        match self {
            Body::Code(_, _, Some(statements)) if protocol != Protocol::Atomic => {
                replay(&conn, statements).await
            }
            Body::Code(code, direction, _) => {
                let manager = SchemaManager::new(conn);
                let run = match direction {
                    Direction::Up => code.up(&manager),
                    Direction::Down => code.down(&manager),
                };
                StepError::settle(capture::run(run).await)
            }
            Body::Stored(statements) => replay(&conn, statements).await,
        }
    }
}

/// Sends `statements` as plain text, outside a transaction on MySQL/MariaDB as one script
/// ([`backend::mysql::run_script`]), otherwise one by one; on a failure, the statements sent
/// are those before it and the failing one.
async fn replay(
    conn: &DatabaseExecutor<'_>,
    statements: &[String],
) -> Result<Vec<String>, StepError> {
    if let DatabaseExecutor::Connection(db) = conn
        && let Some(ran) = backend::mysql::run_script(db, statements).await
    {
        return match ran {
            Ok(()) => Ok(statements.to_vec()),
            Err((done, e)) => Err(StepError {
                cause: Cause::Db(e),
                statements: statements[..(done + 1).min(statements.len())].to_vec(),
            }),
        };
    }
    let run = async {
        for sql in statements {
            conn.execute_unprepared(sql).await?;
        }
        Ok(())
    };
    StepError::settle(capture::run(run).await)
}

/// A step that did not complete: how far it got, why, and after how long.
#[derive(Debug)]
pub(crate) struct Failure {
    pub stage: Stage,
    pub error: StepError,
    pub ms: i64,
}

/// Why a step did not complete: the database refused a statement, the migration's code returned
/// an error, or it panicked; with the statements its code had sent, the failing one last.
#[derive(Debug)]
pub(crate) struct StepError {
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
    /// The failure of `statements` sent together as one script, which the database refused
    /// with `e` at a statement it does not name.
    pub(crate) fn sent_together(e: DbErr, statements: &[String]) -> Self {
        Self {
            cause: Cause::Db(e),
            statements: statements.to_vec(),
        }
    }

    /// How many statements the step's code sent, the failing one included.
    pub(crate) fn sent(&self) -> usize {
        self.statements.len()
    }

    /// Whether the database refused a statement because it gave up waiting for a lock.
    pub(crate) fn is_lock_timeout(&self) -> bool {
        matches!(&self.cause, Cause::Db(e) if super::retry::is_lock_timeout(&e.to_string()))
    }

    /// The same error, with `note` after the database's message.
    pub(crate) fn noted(self, note: &str) -> Self {
        let cause = match self.cause {
            Cause::Db(e) => Cause::Db(DbErr::Custom(format!("{e}; {note}"))),
            other => other,
        };
        Self { cause, ..self }
    }

    /// The statements a run of migration code sent, or why it stopped. A panic is a failure
    /// like any other.
    fn settle(captured: capture::Captured<Result<(), DbErr>>) -> Result<Vec<String>, Self> {
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

/// The error of a step (`label`) that did not complete.
pub(crate) fn step_failed(
    label: &str,
    direction: Direction,
    rolled_back: bool,
    e: StepError,
) -> EngineError {
    let (migration, direction) = (label.to_owned(), direction.as_str());
    match e.cause {
        Cause::Db(source) => EngineError::MigrationFailed {
            migration,
            direction,
            rolled_back,
            lock_wait: backend::is_lock_wait_timeout(&source),
            completed: Vec::new(),
            source,
        },
        Cause::Panic(message) => EngineError::MigrationPanicked {
            migration,
            direction,
            rolled_back,
            completed: Vec::new(),
            message,
        },
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::exec::executor::Frame;
    use crate::model::set::MigrationSet;
    use crate::store::ledger::Ledger;
    use sea_orm::{DatabaseConnection, MockDatabase, MockExecResult};
    use sea_orm_migration::prelude::*;

    /// Creates a table (and fails right after, when asked to).
    struct Table {
        fails: bool,
        transaction: Option<bool>,
    }

    impl MigrationName for Table {
        fn name(&self) -> &str {
            "m20240101_000001_table"
        }
    }

    #[async_trait::async_trait]
    impl MigrationTrait for Table {
        fn use_transaction(&self) -> Option<bool> {
            self.transaction
        }

        async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
            let conn = manager.get_connection();
            conn.execute_unprepared("CREATE TABLE t (id int)").await?;
            if self.fails {
                return Err(DbErr::Custom("the table ran out".to_owned()));
            }
            Ok(())
        }

        async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
            let conn = manager.get_connection();
            conn.execute_unprepared("DROP TABLE t").await.map(drop)
        }
    }

    fn mock(backend: DbBackend) -> DatabaseConnection {
        let done = (0..32).map(|_| MockExecResult {
            last_insert_id: 0,
            rows_affected: 1,
        });
        MockDatabase::new(backend)
            .append_exec_results(done)
            .into_connection()
    }

    /// A statement up to the table it works on: what it does, not the values it carries.
    fn shape(sql: &str) -> String {
        let sql = sql.trim_end_matches(';');
        [" (", " VALUES", " SET", " WHERE"]
            .iter()
            .filter_map(|cut| sql.find(cut))
            .min()
            .map_or(sql, |end| &sql[..end])
            .replace(['"', '`'], "")
    }

    fn recipe<'a>(code: &'a Table, backend: DbBackend, direction: Direction) -> Recipe<'a> {
        recipe_sending(code, backend, direction, None)
    }

    fn recipe_sending<'a>(
        code: &'a Table,
        backend: DbBackend,
        direction: Direction,
        sendable: Option<Vec<String>>,
    ) -> Recipe<'a> {
        let row = LedgerRow {
            version: "20240101000001".to_owned(),
            name: "table".to_owned(),
            checksum: String::new(),
            state: RowState::Applied,
            batch: 1,
            applied_at: chrono::Utc::now(),
            execution_ms: 0,
            applied_by: "t@h".to_owned(),
            down_sql: None,
            error: None,
            environment: None,
            plan: None,
            via: None,
            render_stop: None,
            down_stop: None,
            runner: None,
        };
        Recipe {
            label: "20240101000001_table".to_owned(),
            title: String::new(),
            direction,
            protocol: Protocol::of_code(code, backend),
            body: Body::Code(code, direction, sendable),
            rows: vec![row],
            report: report::Step {
                version: "20240101000001".to_owned(),
                name: "table".to_owned(),
                direction: direction.as_str(),
                source: "code",
                duration_ms: 0,
                replaces: Vec::new(),
                retries: Vec::new(),
            },
        }
    }

    /// Runs `code` in `direction` as one step on a recording connection of `backend`: the
    /// statements the run sent and those its dry run prints, both as shapes, and the run's
    /// error.
    async fn run_and_print(
        code: &Table,
        backend: DbBackend,
        direction: Direction,
    ) -> (Vec<String>, Vec<String>, Option<EngineError>) {
        let set = MigrationSet::new(Vec::new()).unwrap();
        let ledger = Ledger::new(backend, None, "schema_migrations");
        let engine = Engine::new(mock(backend), &set, ledger);
        let recipe = recipe(code, backend, direction);
        let options = RunOptions::default();
        let frame = Frame::Own { last: true };
        let error = match engine.run_step(&recipe, frame, &options).await {
            Ok(_) => None,
            Err(failure) => Some(
                engine
                    .fail(engine.connection(), &recipe, failure, &options)
                    .await,
            ),
        };
        let body = engine.preview(&recipe.body).await.statements;
        let printed = engine.script(&recipe, body, false, &options);
        let sent = engine.connection().clone().into_transaction_log();
        let sent = sent
            .iter()
            .flat_map(|t| t.statements().iter().map(ToString::to_string))
            .flat_map(|s| s.split(";\n").map(str::to_owned).collect::<Vec<_>>())
            .collect::<Vec<_>>();
        let shapes = |list: &[String]| list.iter().map(|s| shape(s)).collect::<Vec<_>>();
        (shapes(&sent), shapes(&printed), error)
    }

    /// Runs `recipe` as one step on `conn`, returning what it sent, whole, and its error.
    async fn run_recipe(
        conn: DatabaseConnection,
        recipe: &Recipe<'_>,
    ) -> (Vec<String>, Option<EngineError>) {
        let set = MigrationSet::new(Vec::new()).unwrap();
        let backend = conn.get_database_backend();
        let ledger = Ledger::new(backend, None, "schema_migrations");
        let engine = Engine::new(conn, &set, ledger);
        let options = RunOptions::default();
        let frame = Frame::Own { last: true };
        let error = match engine.run_step(recipe, frame, &options).await {
            Ok(_) => None,
            Err(failure) => Some(
                engine
                    .fail(engine.connection(), recipe, failure, &options)
                    .await,
            ),
        };
        let sent = engine.connection().clone().into_transaction_log();
        let sent = sent
            .iter()
            .flat_map(|t| t.statements().iter().map(ToString::to_string))
            .collect();
        (sent, error)
    }

    #[tokio::test]
    async fn an_atomic_step_whose_code_renders_to_schema_statements_runs_in_two_round_trips() {
        let code = Table {
            fails: false,
            transaction: None,
        };
        let rendered = vec![
            "CREATE TABLE t (id int)".to_owned(),
            "CREATE INDEX i ON t (id)".to_owned(),
        ];
        let recipe = recipe_sending(&code, DbBackend::Postgres, Direction::Up, Some(rendered));
        let (sent, error) = run_recipe(mock(DbBackend::Postgres), &recipe).await;
        assert!(error.is_none(), "{error:?}");
        assert_eq!(sent.len(), 2, "{sent:?}");
        assert_eq!(
            sent[0],
            "BEGIN;\nCREATE TABLE t (id int);\nCREATE INDEX i ON t (id)"
        );
        // What went in two round trips is what the dry run prints, part by part.
        let parts: Vec<String> = sent
            .iter()
            .flat_map(|s| s.split(";\n").map(shape).collect::<Vec<_>>())
            .collect();
        assert_eq!(
            parts,
            [
                "BEGIN",
                "CREATE TABLE t",
                "CREATE INDEX i ON t",
                LEDGER,
                HISTORY,
                "COMMIT"
            ]
        );
    }

    #[tokio::test]
    async fn a_step_whose_statements_fail_together_is_undone_and_run_from_its_code_to_name_the_failure()
     {
        let code = Table {
            fails: true,
            transaction: None,
        };
        let conn = MockDatabase::new(DbBackend::Postgres)
            .append_exec_errors([DbErr::Custom("relation t already exists".to_owned())])
            .append_exec_results((0..8).map(|_| MockExecResult {
                last_insert_id: 0,
                rows_affected: 1,
            }))
            .into_connection();
        let rendered = vec!["CREATE TABLE t (id int)".to_owned()];
        let recipe = recipe_sending(&code, DbBackend::Postgres, Direction::Up, Some(rendered));
        let (sent, error) = run_recipe(conn, &recipe).await;
        let shapes: Vec<String> = sent.iter().map(|s| shape(s)).collect();
        assert_eq!(
            shapes,
            [
                "BEGIN;\nCREATE TABLE t",
                "ROLLBACK",
                "BEGIN",
                "CREATE TABLE t",
                "ROLLBACK",
                HISTORY
            ]
        );
        assert!(
            matches!(&error, Some(EngineError::MigrationFailed { rolled_back: true, source, .. }) if source.to_string().contains("ran out")),
            "the code's own failure is the one reported: {error:?}"
        );
    }

    #[tokio::test]
    async fn a_tracked_step_sends_its_rendered_statements_one_by_one_as_plain_text() {
        let code = Table {
            fails: true,
            transaction: None,
        };
        let rendered = vec![
            "CREATE TABLE t (id int)".to_owned(),
            "CREATE INDEX i ON t (id)".to_owned(),
        ];
        let recipe = recipe_sending(&code, DbBackend::MySql, Direction::Up, Some(rendered));
        let (sent, error) = run_recipe(mock(DbBackend::MySql), &recipe).await;
        let sent: Vec<String> = sent
            .iter()
            .flat_map(|s| s.split(";\n"))
            .map(str::to_owned)
            .collect();
        assert!(
            error.is_none(),
            "the rendered statements ran, not the failing code: {error:?}"
        );
        let shapes: Vec<String> = sent.iter().map(|s| shape(s)).collect();
        assert_eq!(
            shapes,
            [
                LEDGER,
                "CREATE TABLE t",
                "CREATE INDEX i ON t",
                "BEGIN",
                STATE,
                HISTORY,
                "COMMIT"
            ]
        );
    }

    const LEDGER: &str = "INSERT INTO schema_migrations";
    const STATE: &str = "UPDATE schema_migrations";
    const HISTORY: &str = "INSERT INTO schema_migrations_history";

    #[tokio::test]
    async fn an_atomic_step_runs_and_records_inside_one_transaction_as_its_dry_run_shows() {
        let code = Table {
            fails: false,
            transaction: None,
        };
        let (sent, printed, error) = run_and_print(&code, DbBackend::Postgres, Direction::Up).await;
        assert!(error.is_none(), "{error:?}");
        assert_eq!(sent, ["BEGIN", "CREATE TABLE t", LEDGER, HISTORY, "COMMIT"]);
        assert_eq!(sent, printed);
        let (sent, printed, _) = run_and_print(&code, DbBackend::Sqlite, Direction::Down).await;
        let delete = "DELETE FROM schema_migrations";
        assert_eq!(sent, ["BEGIN", "DROP TABLE t", delete, HISTORY, "COMMIT"]);
        assert_eq!(sent, printed);
    }

    #[tokio::test]
    async fn a_tracked_step_marks_its_row_running_first_and_completes_it_after_as_its_dry_run_shows()
     {
        let code = Table {
            fails: false,
            transaction: None,
        };
        let (sent, printed, _) = run_and_print(&code, DbBackend::MySql, Direction::Up).await;
        assert_eq!(
            sent,
            [LEDGER, "CREATE TABLE t", "BEGIN", STATE, HISTORY, "COMMIT"]
        );
        assert_eq!(sent, printed);
        let asks = Table {
            fails: false,
            transaction: Some(true),
        };
        let (sent, printed, _) = run_and_print(&asks, DbBackend::MySql, Direction::Up).await;
        assert_eq!(
            sent,
            [
                LEDGER,
                "BEGIN",
                "CREATE TABLE t",
                "COMMIT",
                "BEGIN",
                STATE,
                HISTORY,
                "COMMIT"
            ]
        );
        assert_eq!(sent, printed);
        let opts_out = Table {
            fails: false,
            transaction: Some(false),
        };
        let (sent, printed, _) =
            run_and_print(&opts_out, DbBackend::Postgres, Direction::Down).await;
        assert_eq!(
            sent,
            [
                STATE,
                "DROP TABLE t",
                "BEGIN",
                "DELETE FROM schema_migrations",
                HISTORY,
                "COMMIT"
            ]
        );
        assert_eq!(sent, printed);
    }

    #[tokio::test]
    async fn a_failed_step_is_recorded_after_its_rollback_or_leaves_its_row_failed() {
        let code = Table {
            fails: true,
            transaction: None,
        };
        let (sent, _, error) = run_and_print(&code, DbBackend::Postgres, Direction::Up).await;
        assert_eq!(sent, ["BEGIN", "CREATE TABLE t", "ROLLBACK", HISTORY]);
        assert!(
            matches!(
                error,
                Some(EngineError::MigrationFailed {
                    rolled_back: true,
                    ..
                })
            ),
            "{error:?}"
        );
        let (sent, _, error) = run_and_print(&code, DbBackend::MySql, Direction::Up).await;
        assert_eq!(sent, [LEDGER, "CREATE TABLE t", STATE, HISTORY]);
        assert!(
            matches!(
                error,
                Some(EngineError::MigrationFailed {
                    rolled_back: false,
                    ..
                })
            ),
            "{error:?}"
        );
    }

    #[test]
    fn only_a_tracked_step_that_ran_is_left_behind_by_a_failure() {
        let code = Table {
            fails: false,
            transaction: None,
        };
        let atomic = recipe(&code, DbBackend::Postgres, Direction::Up);
        let tracked = recipe(&code, DbBackend::MySql, Direction::Up);
        assert!(atomic.rolled_back(atomic.stage(Part::Record)));
        assert!(tracked.rolled_back(tracked.stage(Part::MarkRunning)));
        assert!(!tracked.rolled_back(tracked.stage(Part::Body)));
        assert_eq!(tracked.stage(Part::Record), Stage::Finish);
        assert_eq!(atomic.failure_writes().len(), 1, "a history entry only");
        assert_eq!(
            tracked.failure_writes().len(),
            2,
            "the row failed, and history"
        );
    }
}
