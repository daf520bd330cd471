//! Records the SQL a migration would send, without a database.
//!
//! A migration's `up` or `down` runs against an in-memory SeaORM connection of the target backend
//! that keeps every statement instead of sending it. This gives checksums that follow what a
//! migration *does* rather than how its file is formatted, dry-runs, and the `down` SQL stored at
//! apply time.
//!
//! Reads answer as an empty database would: queries return no rows, and the existence probes
//! behind `SchemaManager::has_table` / `has_column` / `has_index` answer `false`. SQL that depends
//! on data read at run time is therefore rendered as if those reads returned nothing.

use sea_orm::{
    DatabaseConnection, DatabaseConnectionType, DbBackend, DbErr, ExecResult, MockDatabase,
    MockDatabaseConnection, MockDatabaseTrait, MockExecResult, QueryResult, Statement, Transaction,
    Value,
};
use sea_orm_migration::{MigrationTrait, SchemaManager};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use crate::source::Migration;

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
pub const READS_RETURN_NOTHING: &str =
    "SQL that depends on data read at run time is rendered as if those reads returned nothing.";

/// Keeps every statement it is given; clones share the same list, so the caller keeps one while
/// the connection owns another.
///
/// It plugs in as a mock database rather than through SeaORM's `proxy` feature: in sea-orm 2.0.4
/// the proxy's row conversion for `sqlx-mysql` and `sqlx-sqlite` does not compile (it boxes values
/// that sea-query 1.0 no longer boxes), and this workspace needs all three drivers.
#[derive(Debug, Clone)]
struct Recorder {
    backend: DbBackend,
    statements: Arc<Mutex<Vec<String>>>,
}

impl Recorder {
    fn push(&self, sql: String) {
        if let Ok(mut list) = self.statements.lock() {
            list.push(sql);
        }
    }

    fn take(&self) -> Vec<String> {
        self.statements
            .lock()
            .map(|mut list| std::mem::take(&mut *list))
            .unwrap_or_default()
    }
}

impl MockDatabaseTrait for Recorder {
    fn execute(&mut self, _counter: usize, statement: Statement) -> Result<ExecResult, DbErr> {
        self.push(statement.to_string());
        // A one-shot stock mock builds the result value, whose fields are private to sea-orm.
        MockDatabase::new(self.backend)
            .append_exec_results([MockExecResult::default()])
            .execute(0, statement)
    }

    fn query(&mut self, _counter: usize, statement: Statement) -> Result<Vec<QueryResult>, DbErr> {
        let rows = match probe_column(&statement.sql) {
            Some(col) => vec![BTreeMap::from([(col.to_owned(), Value::Bool(Some(false)))])],
            None => Vec::new(),
        };
        self.push(statement.to_string());
        MockDatabase::new(self.backend)
            .append_query_results([rows])
            .query(0, statement)
    }

    fn begin(&mut self) {
        self.push("BEGIN".to_owned());
    }

    fn commit(&mut self) {
        self.push("COMMIT".to_owned());
    }

    fn rollback(&mut self) {
        self.push("ROLLBACK".to_owned());
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

/// The column an existence probe of sea-schema selects, if `sql` is one.
fn probe_column(sql: &str) -> Option<&'static str> {
    ["has_table", "has_column", "has_index"]
        .into_iter()
        .find(|col| sql.contains(&format!("AS \"{col}\"")) || sql.contains(&format!("AS `{col}`")))
}

/// Renders one half of a migration for `backend`: the statements it would execute, in order,
/// with their values inlined.
///
/// # Errors
/// The error the migration itself returned (for a `down`, SeaORM's default "irreversible" error).
pub async fn render(
    migration: &Migration,
    backend: DbBackend,
    direction: Direction,
) -> Result<Vec<String>, DbErr> {
    render_code(migration.code.as_ref(), backend, direction).await
}

/// [`render`] for migration code that is not part of the ordered list (a consolidated
/// migration).
///
/// # Errors
/// As [`render`].
pub async fn render_code(
    code: &dyn MigrationTrait,
    backend: DbBackend,
    direction: Direction,
) -> Result<Vec<String>, DbErr> {
    let recorder = Recorder {
        backend,
        statements: Arc::default(),
    };
    let conn: DatabaseConnection = DatabaseConnectionType::MockDatabaseConnection(Arc::new(
        MockDatabaseConnection::new(recorder.clone()),
    ))
    .into();
    let manager = SchemaManager::new(&conn);
    match direction {
        Direction::Up => code.up(&manager).await?,
        Direction::Down => code.down(&manager).await?,
    }
    Ok(recorder.take())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn existence_probes_are_recognised_on_every_backend_quoting() {
        assert_eq!(
            probe_column(r#"SELECT COUNT(*) > 0 AS "has_table" FROM x"#),
            Some("has_table")
        );
        assert_eq!(
            probe_column("SELECT COUNT(*) > 0 AS `has_index` FROM x"),
            Some("has_index")
        );
        assert_eq!(probe_column("SELECT 1"), None);
    }
}
