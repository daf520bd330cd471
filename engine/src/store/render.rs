//! Records the SQL a migration would send, without a database: best effort.
//!
//! A migration's `up` or `down` runs against an in-memory SeaORM connection of the target backend
//! that keeps every statement instead of sending it. This gives checksums that follow what a
//! migration *does* rather than how its file is formatted, dry-runs, and the `down` SQL stored at
//! apply time.
//!
//! Rendering is never a precondition of running: a migration that reads data (an ActiveModel
//! insert that reads its row back, `Entity::find()`, `has_table`) is rendered up to the first read
//! whose answer depends on the database, and the [`Rendering`] says where it stopped. Reads are
//! answered only where the answer is exact:
//!
//! - an `INSERT … RETURNING` whose returned columns are all given in the insert gets its own row
//!   back, and rendering goes on;
//! - a statement that changes rows reports one affected row per inserted tuple (one for an update
//!   or a delete), so SeaORM's own checks pass;
//! - the id MySQL reports for an insert is a marker value: the first statement that uses it stops
//!   rendering, since its SQL would hold an id only the database knows;
//! - every other read (a `SELECT`, an existence probe, an `INSERT … RETURNING` of generated
//!   columns) stops rendering. A statement that writes is kept before the stop; a plain read
//!   is not.

use sea_orm::{
    DatabaseConnection, DatabaseConnectionType, DbBackend, DbErr, ExecResult, MockDatabase,
    MockDatabaseConnection, MockDatabaseTrait, MockExecResult, QueryResult, Statement, Transaction,
    Value,
};
use sea_orm_migration::{MigrationTrait, SchemaManager};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use crate::model::set::Migration;

/// Which half of a migration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Applying.
    Up,
    /// Reverting.
    Down,
}

impl Direction {
    /// `up` or `down`.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Up => "up",
            Direction::Down => "down",
        }
    }
}

/// The note every dry-run and rendered script carries.
pub const READS_NOTE: &str = "Migrations that read data are rendered up to their first read; what follows it is decided at run time.";

/// The id a rendered insert reports on MySQL/MariaDB, where the database chooses it. It fits an
/// `i32` key; a statement that carries it is a statement whose SQL depends on the database.
const GENERATED_ID: u64 = 2_147_418_112;

/// Why rendering ended before the migration's code did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// A read whose answer only the database has: rendering ends before it (or, for a statement
    /// that writes and returns rows, just after it).
    Read(String),
    /// The migration returned an error of its own, with nothing read.
    Failed(String),
    /// The migration panicked while being rendered.
    Panicked(String),
}

impl Stop {
    /// One line for dry-runs, `status` and the ledger: where rendering stopped and why.
    pub fn describe(&self) -> String {
        match self {
            Stop::Read(sql) => format!("stopped at a read only the database can answer: {sql}"),
            Stop::Failed(e) => format!("stopped: the migration returned an error: {e}"),
            Stop::Panicked(e) => format!("stopped: the migration panicked: {e}"),
        }
    }
}

/// What rendering one half of a migration produced.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Rendering {
    /// The statements recorded, in order, with their values inlined: all of them when rendering
    /// was complete, those before the first read it could not answer otherwise.
    pub statements: Vec<String>,
    /// Why rendering ended early; `None` when the migration's code ran to its end.
    pub stop: Option<Stop>,
}

impl Rendering {
    /// Whether the statements are everything the migration sends.
    pub fn is_complete(&self) -> bool {
        self.stop.is_none()
    }

    /// For a `down`: the reason it cannot be reverted at all, when its code fails without having
    /// read anything (SeaORM's default `down` does): it would fail the same way on a database.
    pub fn irreversible(&self) -> Option<&str> {
        match &self.stop {
            Some(Stop::Failed(e) | Stop::Panicked(e)) => Some(e),
            _ => None,
        }
    }

    /// `None` when complete, otherwise the one-line description of where it stopped.
    pub fn partial(&self) -> Option<String> {
        self.stop.as_ref().map(Stop::describe)
    }

    /// The statements, when the executor may send them in place of running the code: the
    /// rendering is complete and every statement is a schema statement (`CREATE`, `ALTER`,
    /// `DROP`, `COMMENT`, `RENAME`, `GRANT`, `REVOKE`). The code read nothing and cannot have
    /// looked at what a statement answered, so at run time it would send exactly these;
    /// sending them together saves a round trip (and a prepared statement) for each.
    pub fn sendable(&self) -> Option<&[String]> {
        let schema = |sql: &String| {
            matches!(
                first_word(sql).as_str(),
                "CREATE" | "ALTER" | "DROP" | "COMMENT" | "RENAME" | "GRANT" | "REVOKE"
            )
        };
        (self.is_complete() && !self.statements.is_empty() && self.statements.iter().all(schema))
            .then_some(self.statements.as_slice())
    }
}

#[derive(Debug, Default)]
struct Recording {
    statements: Vec<String>,
    stopped_at: Option<String>,
}

/// Keeps every statement it is given until the first read it cannot answer; clones share the
/// same recording, so the caller keeps one while the connection owns another.
///
/// It plugs in as a mock database rather than through SeaORM's `proxy` feature: in sea-orm 2.0.4
/// the proxy's row conversion for `sqlx-mysql` and `sqlx-sqlite` does not compile (it boxes values
/// that sea-query 1.0 no longer boxes), and this workspace needs all three drivers.
#[derive(Debug, Clone)]
struct Recorder {
    backend: DbBackend,
    recording: Arc<Mutex<Recording>>,
}

/// The error the recorder answers once rendering has stopped; the migration's code usually
/// returns it with `?`, which ends the rendering.
fn stopped() -> DbErr {
    DbErr::Custom("rendering stopped at a read only the database can answer".to_owned())
}

impl Recorder {
    fn with<T>(&self, f: impl FnOnce(&mut Recording) -> T) -> Option<T> {
        self.recording.lock().ok().map(|mut r| f(&mut r))
    }

    fn is_stopped(&self) -> bool {
        self.with(|r| r.stopped_at.is_some()).unwrap_or(true)
    }

    /// Records `sql`, unless it carries an id only the database knows: then rendering stops there.
    fn push(&self, sql: String) -> Result<(), DbErr> {
        if sql.contains(&GENERATED_ID.to_string()) {
            self.stop_at(&sql);
            return Err(stopped());
        }
        self.with(|r| r.statements.push(sql));
        Ok(())
    }

    fn stop_at(&self, sql: &str) {
        let shown = sql.replace(&GENERATED_ID.to_string(), "<id generated at run time>");
        self.with(|r| r.stopped_at.get_or_insert(shown).clone());
    }

    fn take(&self) -> Recording {
        self.with(std::mem::take).unwrap_or_default()
    }
}

impl MockDatabaseTrait for Recorder {
    fn execute(&mut self, _counter: usize, statement: Statement) -> Result<ExecResult, DbErr> {
        if self.is_stopped() {
            return Err(stopped());
        }
        let sql = statement.to_string();
        self.push(sql)?;
        let result = match first_word(&statement.sql).as_str() {
            "INSERT" | "REPLACE" => MockExecResult {
                last_insert_id: GENERATED_ID,
                rows_affected: inserted_tuples(&statement.sql).unwrap_or(1),
            },
            "UPDATE" | "DELETE" => MockExecResult {
                last_insert_id: 0,
                rows_affected: 1,
            },
            _ => MockExecResult::default(),
        };
        // A one-shot stock mock builds the result value, whose fields are private to sea-orm.
        MockDatabase::new(self.backend)
            .append_exec_results([result])
            .execute(0, statement)
    }

    fn query(&mut self, _counter: usize, statement: Statement) -> Result<Vec<QueryResult>, DbErr> {
        if self.is_stopped() {
            return Err(stopped());
        }
        let sql = statement.to_string();
        if let Some(rows) = returned_rows(&statement) {
            self.push(sql)?;
            return MockDatabase::new(self.backend)
                .append_query_results([rows])
                .query(0, statement);
        }
        if writes(&statement.sql) {
            // What it sends is decided before the read: keep it, then stop.
            self.push(sql.clone())?;
        }
        self.stop_at(&sql);
        Err(stopped())
    }

    fn begin(&mut self) {
        if !self.is_stopped() {
            self.with(|r| r.statements.push("BEGIN".to_owned()));
        }
    }

    fn commit(&mut self) {
        if !self.is_stopped() {
            self.with(|r| r.statements.push("COMMIT".to_owned()));
        }
    }

    fn rollback(&mut self) {
        if !self.is_stopped() {
            self.with(|r| r.statements.push("ROLLBACK".to_owned()));
        }
    }

    fn drain_transaction_log(&mut self) -> Vec<Transaction> {
        Vec::new()
    }

    fn get_database_backend(&self) -> DbBackend {
        self.backend
    }

    fn ping(&self) -> Result<(), DbErr> {
        Ok(())
    }
}

fn first_word(sql: &str) -> String {
    sql.split_whitespace()
        .next()
        .unwrap_or("")
        .to_ascii_uppercase()
}

/// Whether a statement changes rows (and so is sent whatever its answer).
fn writes(sql: &str) -> bool {
    matches!(
        first_word(sql).as_str(),
        "INSERT" | "UPDATE" | "DELETE" | "REPLACE" | "MERGE"
    )
}

/// How many tuples an `INSERT … VALUES (…), (…)` inserts, counted from its placeholders' groups;
/// `None` when the statement has another shape (`INSERT … SELECT`, upserts).
fn inserted_tuples(sql: &str) -> Option<u64> {
    let upper = sql.to_ascii_uppercase();
    if upper.contains(" ON CONFLICT") || upper.contains(" ON DUPLICATE") || upper.contains("IGNORE")
    {
        return None;
    }
    let values = &sql[upper.find(" VALUES ")? + 8..];
    let values = values.split(" RETURNING ").next().unwrap_or(values);
    let mut depth = 0usize;
    let mut tuples = 0u64;
    for c in values.chars() {
        match c {
            '(' => {
                if depth == 0 {
                    tuples += 1;
                }
                depth += 1;
            }
            ')' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    (tuples > 0).then_some(tuples)
}

/// The rows an `INSERT … VALUES … RETURNING` returns when every returned column is one the
/// insert gives a bound value: then they are known exactly. `None` for anything else.
fn returned_rows(statement: &Statement) -> Option<Vec<BTreeMap<String, Value>>> {
    let sql = statement.sql.as_str();
    let upper = sql.to_ascii_uppercase();
    if !upper.starts_with("INSERT INTO ") || upper.contains(" ON CONFLICT") {
        return None;
    }
    let returning_at = upper.rfind(" RETURNING ")?;
    let values_at = upper.find(" VALUES ")?;
    let open = sql.find('(')?;
    if open > values_at {
        return None;
    }
    let close = open + sql[open..].find(')')?;
    let columns: Vec<String> = split_list(&sql[open + 1..close]);
    let returning: Vec<String> = split_list(&sql[returning_at + 11..]);
    let tuples_sql = &sql[values_at + 8..returning_at];
    let placeholders: Vec<String> = tuples_sql
        .split(['(', ')', ','])
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect();
    let bound = placeholders
        .iter()
        .all(|p| p == "?" || (p.starts_with('$') && p[1..].bytes().all(|b| b.is_ascii_digit())));
    let values = &statement.values.as_ref()?.0;
    if columns.is_empty() || !bound || values.len() != placeholders.len() {
        return None;
    }
    if values.len() % columns.len() != 0 {
        return None;
    }
    let positions: Vec<usize> = returning
        .iter()
        .map(|name| columns.iter().position(|c| c == name))
        .collect::<Option<_>>()?;
    Some(
        values
            .chunks(columns.len())
            .map(|tuple| {
                returning
                    .iter()
                    .zip(&positions)
                    .map(|(name, &i)| (name.clone(), tuple[i].clone()))
                    .collect()
            })
            .collect(),
    )
}

/// `"a", "b"` or `` `a`, `b` `` as bare names.
fn split_list(list: &str) -> Vec<String> {
    list.split(',')
        .map(|c| c.trim().trim_matches(['"', '`']).to_owned())
        .filter(|c| !c.is_empty())
        .collect()
}

/// The text of a panic's payload.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned())
}

/// Renders one half of a migration for `backend`: the statements it would execute, in order,
/// with their values inlined, as far as that can be known without a database.
pub async fn render(migration: &Migration, backend: DbBackend, direction: Direction) -> Rendering {
    render_code(migration.code.as_ref(), backend, direction).await
}

/// [`render`] for migration code that is not part of the ordered list (a consolidated
/// migration).
pub async fn render_code(
    code: &dyn MigrationTrait,
    backend: DbBackend,
    direction: Direction,
) -> Rendering {
    let recorder = Recorder {
        backend,
        recording: Arc::default(),
    };
    let conn: DatabaseConnection = DatabaseConnectionType::MockDatabaseConnection(Arc::new(
        MockDatabaseConnection::new(recorder.clone()),
    ))
    .into();
    let manager = SchemaManager::new(&conn);
    let run = match direction {
        Direction::Up => code.up(&manager),
        Direction::Down => code.down(&manager),
    };
    let outcome = crate::store::capture::contained(run).await;
    let recording = recorder.take();
    let stop = match (recording.stopped_at, outcome) {
        (Some(read), _) => Some(Stop::Read(read)),
        (None, Ok(Ok(()))) => None,
        (None, Ok(Err(e))) => Some(Stop::Failed(e.to_string())),
        (None, Err(message)) => Some(Stop::Panicked(message)),
    };
    Rendering {
        statements: recording.statements,
        stop,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use sea_orm::Values;

    fn stmt(sql: &str, values: Vec<Value>) -> Statement {
        Statement {
            sql: sql.to_owned(),
            values: Some(Values(values)),
            db_backend: DbBackend::Postgres,
        }
    }

    #[test]
    fn an_insert_returning_only_what_it_inserts_is_answered_exactly() {
        let s = stmt(
            r#"INSERT INTO "cake" ("id", "name") VALUES ($1, $2), ($3, $4) RETURNING "name", "id""#,
            vec![1.into(), "a".into(), 2.into(), "b".into()],
        );
        let rows = returned_rows(&s).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1]["id"], Value::from(2));
        assert_eq!(rows[0]["name"], Value::from("a"));
    }

    #[test]
    fn an_insert_returning_a_generated_column_is_not_answered() {
        let s = stmt(
            r#"INSERT INTO "cake" ("name") VALUES ($1) RETURNING "id", "name""#,
            vec!["a".into()],
        );
        assert_eq!(returned_rows(&s), None);
        let upsert = stmt(
            r#"INSERT INTO "cake" ("id") VALUES ($1) ON CONFLICT DO NOTHING RETURNING "id""#,
            vec![1.into()],
        );
        assert_eq!(returned_rows(&upsert), None);
    }

    #[test]
    fn inserted_tuples_are_counted_from_the_values_list() {
        assert_eq!(
            inserted_tuples("INSERT INTO `t` (`a`, `b`) VALUES (?, ?), (?, ?)"),
            Some(2)
        );
        assert_eq!(inserted_tuples("INSERT INTO t SELECT * FROM u"), None);
        assert_eq!(
            inserted_tuples("INSERT IGNORE INTO `t` (`a`) VALUES (?)"),
            None
        );
    }

    #[test]
    fn only_a_complete_rendering_of_schema_statements_is_sendable_in_place_of_its_code() {
        let rendering = |statements: &[&str], stop: Option<Stop>| Rendering {
            statements: statements.iter().map(|s| (*s).to_owned()).collect(),
            stop,
        };
        let ddl = rendering(
            &["CREATE TABLE t (id int)", "create index i on t (id)"],
            None,
        );
        assert_eq!(ddl.sendable().map(<[String]>::len), Some(2));
        let data = rendering(
            &["CREATE TABLE t (id int)", "INSERT INTO t VALUES (1)"],
            None,
        );
        assert_eq!(
            data.sendable(),
            None,
            "the code may have looked at what an insert answered"
        );
        let read = Stop::Read("SELECT 1".to_owned());
        assert_eq!(rendering(&["DROP TABLE t"], Some(read)).sendable(), None);
        let own_transaction = rendering(&["BEGIN", "CREATE TABLE t (id int)", "COMMIT"], None);
        assert_eq!(own_transaction.sendable(), None);
        assert_eq!(rendering(&[], None).sendable(), None);
    }

    #[test]
    fn only_statements_that_change_rows_count_as_writes() {
        assert!(writes("insert into t values (1)"));
        assert!(writes("DELETE FROM t"));
        assert!(!writes("SELECT COUNT(*) > 0 AS \"has_table\" FROM x"));
    }
}
