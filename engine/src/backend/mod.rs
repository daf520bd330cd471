//! What each backend can do, and the quirks the rest of the engine must not know about.
//!
//! One module per backend ([`postgres`], [`mysql`], [`sqlite`]) owns that backend's lock,
//! cancel, session id and timeouts, its connection of its own, its catalog queries (the schema
//! snapshot reader and what `fresh` drops) and its [`Capabilities`]: the one description the
//! rest of the engine asks instead of matching on the backend. What needs the backend's driver
//! (the lock's connection, the migration's own connection) is compiled only with the driver's
//! cargo feature (`postgres`, `mysql`, `sqlite`); the rest, plain SQL, is always there, so SQL
//! renders for every backend in any build.

pub mod backup;
pub mod cache;
pub mod fleet;
pub mod lock;
pub mod mysql;
pub mod postgres;
pub mod scratch;
pub mod snapshot;
pub mod sqlite;
pub mod target;
pub mod wipe;

use chrono::{DateTime, NaiveDateTime, Utc};
use sea_orm::{ConnectOptions, DatabaseConnection};

use crate::error::{EngineError, Result};
use sea_orm::sea_query::{Alias, ColumnDef, Value};
use sea_orm::{DbBackend, DbErr, QueryResult, RuntimeErr};

/// What a backend can do, as the engine needs to know it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capabilities {
    /// A short, stable name for messages and JSON.
    pub name: &'static str,
    /// The cargo feature that compiles its driver.
    pub feature: &'static str,
    /// Whether DDL can be rolled back. PostgreSQL and SQLite run DDL inside transactions; MySQL
    /// and MariaDB commit implicitly before and after every DDL statement, so a failed migration
    /// there can leave part of itself behind, and its ledger row is written `running` first.
    pub transactional_ddl: bool,
    /// Whether one run's migrations share one transaction, a savepoint each (SQLite: one writer
    /// at a time, and a commit per migration is the slow part).
    pub one_transaction_per_run: bool,
    /// The query naming the server's id for the current session, so an interrupt can cancel its
    /// statement from another connection (a row with column `id`); `None` where nothing can be
    /// cancelled from outside.
    pub session_id_query: Option<&'static str>,
    /// The catalog query `fresh` drops by: rows of `(kind, name)` in an order they can be
    /// dropped.
    pub objects_query: &'static str,
    /// Whether the catalog query returns names quoted already.
    pub objects_quoted: bool,
    /// Statements turning foreign key checks off and on around dropping everything, where
    /// dropping in any order needs it.
    pub foreign_key_checks: Option<(&'static str, &'static str)>,
    /// Whether `DROP` takes `CASCADE`, which takes dependents along.
    pub drop_cascades: bool,
    /// The identifier quote character.
    pub quote: char,
    /// Whether `fresh` drops everything in one transaction: one commit, one log flush, instead
    /// of one per object (PostgreSQL; SQLite ignores `PRAGMA foreign_keys` inside one, and
    /// MySQL/MariaDB commit each DDL statement anyway).
    pub wipe_in_one_transaction: bool,
    /// Whether one `DROP TABLE a, b, …` (and `DROP VIEW v, w, …`) drops a list: one statement,
    /// and on MySQL/MariaDB one implicit commit, instead of one per object.
    pub drops_lists: bool,
    /// The schemas beside the current one a project may create (`name`, quoted), for `fresh`;
    /// `None` where a schema is a database.
    pub schemas_query: Option<&'static str>,
    /// The catalog query listing what a fleet's `--schemas PATTERN` picks from (one name a
    /// row): the schemas of the database on PostgreSQL, the databases of the server on
    /// MySQL/MariaDB; `None` where there are none (SQLite).
    pub tenant_schemas_query: Option<&'static str>,
    /// A statement that lets the current transaction commit without waiting for its log flush,
    /// for a step of a run that is not its last: the last step's commit flushes them all, the
    /// log being written in order, and a crash in between loses the newest steps whole, schema
    /// and ledger row together. `None` where commits have no such setting.
    pub deferred_flush: Option<&'static str>,
}

/// The server's clock, as SQL: what the table lock's lease is measured by, so that every runner
/// of a cluster reads one clock (the server's), never its own host's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeaseClock {
    /// The server's time now, in UTC.
    pub now: &'static str,
    /// The server's time now plus a number of microseconds, bound as the one parameter.
    pub later: &'static str,
}

/// The [`LeaseClock`] of `backend`; `None` for SQLite, which takes no table lock.
pub fn lease_clock(backend: DbBackend) -> Option<LeaseClock> {
    match backend {
        DbBackend::Postgres => Some(postgres::LEASE_CLOCK),
        DbBackend::MySql => Some(mysql::LEASE_CLOCK),
        _ => None,
    }
}

/// The statement that stops what server session `session` runs, from another session
/// (PostgreSQL `pg_cancel_backend`, MySQL `KILL QUERY`); `None` where nothing can be cancelled
/// from outside.
pub fn cancel_statement(backend: DbBackend, session: i64) -> Option<String> {
    match backend {
        DbBackend::Postgres => Some(postgres::cancel_statement(session)),
        DbBackend::MySql => Some(mysql::cancel_statement(session)),
        _ => None,
    }
}

/// The [`Capabilities`] of `backend`.
pub fn capabilities(backend: DbBackend) -> &'static Capabilities {
    match backend {
        DbBackend::Postgres => &postgres::CAPABILITIES,
        DbBackend::MySql => &mysql::CAPABILITIES,
        _ => &sqlite::CAPABILITIES,
    }
}

/// Whether DDL can be rolled back (see [`Capabilities::transactional_ddl`]).
pub fn transactional_ddl(backend: DbBackend) -> bool {
    capabilities(backend).transactional_ddl
}

/// A short, stable name for messages and JSON.
pub fn name(backend: DbBackend) -> &'static str {
    capabilities(backend).name
}

/// A timestamp column as each backend stores one best: `timestamptz` on PostgreSQL,
/// `DATETIME(6)` holding UTC on MySQL/MariaDB (avoiding `TIMESTAMP`'s 2038 limit and implicit
/// updates), RFC 3339 text on SQLite.
pub fn timestamp_column(backend: DbBackend, column: &'static str) -> ColumnDef {
    let mut def = ColumnDef::new(Alias::new(column));
    match backend {
        DbBackend::Postgres => def.timestamp_with_time_zone(),
        DbBackend::MySql => def.custom(Alias::new("DATETIME(6)")),
        _ => def.text(),
    };
    def.not_null();
    def
}

const SQLITE_TIME_FORMAT: &str = "%Y-%m-%dT%H:%M:%S%.6fZ";

/// The value to bind for a [`timestamp_column`].
pub fn timestamp_value(backend: DbBackend, at: DateTime<Utc>) -> Value {
    match backend {
        DbBackend::Postgres => at.into(),
        DbBackend::MySql => at.naive_utc().into(),
        _ => at.format(SQLITE_TIME_FORMAT).to_string().into(),
    }
}

/// Reads a [`timestamp_column`] back.
///
/// # Errors
/// The driver's error when the column is absent or of another type.
pub fn read_timestamp(
    backend: DbBackend,
    row: &QueryResult,
    column: &str,
) -> Result<DateTime<Utc>, DbErr> {
    match backend {
        DbBackend::Postgres => row.try_get("", column),
        DbBackend::MySql => row
            .try_get::<NaiveDateTime>("", column)
            .map(|naive| naive.and_utc()),
        _ => {
            let text: String = row.try_get("", column)?;
            DateTime::parse_from_rfc3339(&text)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|e| DbErr::Type(format!("bad timestamp `{text}` in {column}: {e}")))
        }
    }
}

/// Whether a query failed because the table it reads does not exist. Reading the ledger and
/// treating this error as "nothing applied" costs one round trip where an existence probe
/// followed by a read costs two.
pub fn is_undefined_table(err: &DbErr) -> bool {
    let sqlx = match err {
        DbErr::Query(RuntimeErr::SqlxError(e)) | DbErr::Exec(RuntimeErr::SqlxError(e)) => e,
        _ => return false,
    };
    match sqlx.as_ref() {
        sea_orm::sqlx::Error::Database(db) => {
            let code = db.code();
            let code = code.as_deref().unwrap_or("");
            // 42P01 PostgreSQL undefined_table; 42S02 / 1146 MySQL ER_NO_SUCH_TABLE.
            matches!(code, "42P01" | "42S02" | "1146") || db.message().contains("no such table")
        }
        _ => false,
    }
}

/// Whether a query failed because a column it names does not exist: how a ledger created by an
/// earlier version of the engine, before a column was added, shows itself.
pub fn is_undefined_column(err: &DbErr) -> bool {
    database_error(err, &["42703", "42S22", "1054"], "no such column")
}

/// Whether a statement failed because the PostgreSQL schema it names does not exist.
pub fn is_undefined_schema(err: &DbErr) -> bool {
    database_error(err, &["3F000"], "unknown database")
}

/// Whether creating a table or schema failed because it exists already: one created by another
/// session at the same moment, past the `IF NOT EXISTS` check.
pub fn is_duplicate_object(err: &DbErr) -> bool {
    database_error(err, &["42P07", "42P06", "42S01", "1050"], "already exists")
}

/// Whether adding a column failed because the table already has it.
pub fn is_duplicate_column(err: &DbErr) -> bool {
    database_error(err, &["42701", "42S21", "1060"], "duplicate column name")
}

/// Whether a write failed because a row with its key exists already.
pub fn is_unique_violation(err: &DbErr) -> bool {
    match sqlx_error(err) {
        Some(sea_orm::sqlx::Error::Database(db)) => db.is_unique_violation(),
        _ => false,
    }
}

/// Whether a statement failed because it conflicted with a concurrent one and may simply be
/// run again: a deadlock or serialization failure (SQLSTATE `40001`; PostgreSQL's deadlock
/// `40P01`). On a Galera cluster this is how a write that lost certification to a write of
/// another node fails (error 1213), for autocommit statements too once the server's own
/// `wsrep_retry_autocommit` retries are spent.
pub fn is_conflict(err: &DbErr) -> bool {
    match sqlx_error(err) {
        Some(sea_orm::sqlx::Error::Database(db)) => {
            matches!(db.code().as_deref(), Some("40001" | "40P01" | "1213"))
        }
        _ => false,
    }
}

fn sqlx_error(err: &DbErr) -> Option<&sea_orm::sqlx::Error> {
    match err {
        DbErr::Query(RuntimeErr::SqlxError(e))
        | DbErr::Exec(RuntimeErr::SqlxError(e))
        | DbErr::Conn(RuntimeErr::SqlxError(e)) => Some(e.as_ref()),
        _ => None,
    }
}

/// Whether `err` is a database error with one of `codes`, or (SQLite, which has no codes for
/// these) whose message contains `sqlite_message`.
fn database_error(err: &DbErr, codes: &[&str], sqlite_message: &str) -> bool {
    let sqlx = match err {
        DbErr::Query(RuntimeErr::SqlxError(e)) | DbErr::Exec(RuntimeErr::SqlxError(e)) => e,
        _ => return false,
    };
    match sqlx.as_ref() {
        sea_orm::sqlx::Error::Database(db) => {
            let code = db.code();
            codes.contains(&code.as_deref().unwrap_or("")) || db.message().contains(sqlite_message)
        }
        _ => false,
    }
}

/// The statements that bound how long one migration may wait for a table lock and run one
/// statement, on the migration's own session (never the application's pool).
///
/// PostgreSQL: `lock_timeout` and `statement_timeout`. MySQL/MariaDB: `lock_wait_timeout`
/// (whole seconds, at least 1) and MariaDB's `max_statement_time`. SQLite has neither.
pub fn session_timeouts(
    backend: DbBackend,
    lock_wait: Option<std::time::Duration>,
    statement: Option<std::time::Duration>,
) -> Vec<String> {
    match backend {
        DbBackend::Postgres => postgres::session_timeouts(lock_wait, statement),
        DbBackend::MySql => mysql::session_timeouts(lock_wait, statement),
        _ => Vec::new(),
    }
}

/// Whether a migration failed because it waited too long for a lock another session held: such
/// a failure changed nothing (PostgreSQL rolls back; MySQL/MariaDB fail before the DDL starts)
/// and can be retried.
pub fn is_lock_wait_timeout(err: &DbErr) -> bool {
    let text = err.to_string();
    text.contains("55P03")
        || text.contains("due to lock timeout")
        || text.contains("Lock wait timeout exceeded")
}

/// Turns TLS off on a connection to a loopback server that was not asked for it: local servers
/// rarely have certificates, and the drivers' default (try TLS first) costs a round trip.
#[cfg_attr(
    not(any(feature = "postgres", feature = "mysql")),
    allow(unused_variables)
)]
pub(crate) fn without_tls(backend: DbBackend, options: &mut ConnectOptions) {
    match backend {
        #[cfg(feature = "postgres")]
        DbBackend::Postgres => {
            options.map_sqlx_postgres_opts(|o| o.ssl_mode(sqlx::postgres::PgSslMode::Disable));
        }
        #[cfg(feature = "mysql")]
        DbBackend::MySql => {
            options.map_sqlx_mysql_opts(|o| o.ssl_mode(sqlx::mysql::MySqlSslMode::Disabled));
        }
        _ => {}
    }
}

/// A connection of the migration's own, with the settings of the application's pool `db`: a
/// one-connection pool, so session settings and open transactions never leak into the
/// application's pool; on PostgreSQL with `database_schema`, when given, as its search path (as
/// `--database-schema` sets it). An in-memory SQLite database exists only inside the
/// application's pool, so that one is shared (see [`is_shared`]).
///
/// # Errors
/// [`EngineError::Database`] when the server refuses the connection;
/// [`EngineError::Config`] for a backend this build has no driver for.
pub async fn own_connection(
    db: &DatabaseConnection,
    database_schema: Option<&str>,
) -> Result<DatabaseConnection> {
    // Only PostgreSQL has a search path to set.
    #[cfg(not(feature = "postgres"))]
    let _ = database_schema;
    match db.get_database_backend() {
        #[cfg(feature = "postgres")]
        DbBackend::Postgres => postgres::own_connection(db, database_schema).await,
        #[cfg(feature = "mysql")]
        DbBackend::MySql => mysql::own_connection(db).await,
        #[cfg(feature = "sqlite")]
        DbBackend::Sqlite => sqlite::own_connection(db).await,
        #[allow(unreachable_patterns)]
        other => Err(not_built(other)),
    }
}

/// The URL `conn` connects to, without any password (a pool's settings hold none that can be
/// read back): what the guard matches and messages show for a session opened beside an
/// application's connection.
pub fn url_of(conn: &DatabaseConnection) -> String {
    match conn.get_database_backend() {
        #[cfg(feature = "postgres")]
        DbBackend::Postgres => postgres::url_of(conn),
        #[cfg(feature = "mysql")]
        DbBackend::MySql => mysql::url_of(conn),
        #[cfg(feature = "sqlite")]
        DbBackend::Sqlite => sqlite::url_of(conn),
        #[allow(unreachable_patterns)]
        other => format!("{}://", name(other)),
    }
}

/// The server's id for `conn`'s session (see [`Capabilities::session_id_query`]); `None` where
/// the backend has none or the query fails.
pub async fn session_id(conn: &DatabaseConnection) -> Option<i64> {
    use sea_orm::{ConnectionTrait, Statement};
    let backend = conn.get_database_backend();
    let sql = capabilities(backend).session_id_query?;
    conn.query_one_raw(Statement::from_string(backend, sql))
        .await
        .ok()
        .flatten()
        .and_then(|row| row.try_get::<i64>("", "id").ok())
}

/// Whether `conn`, opened by [`own_connection`] for `db`, is `db`'s own pool (in-memory SQLite),
/// which must stay open after the migration is done.
pub fn is_shared(db: &DatabaseConnection, conn: &DatabaseConnection) -> bool {
    match db.get_database_backend() {
        #[cfg(feature = "sqlite")]
        DbBackend::Sqlite => sqlite::is_in_memory_pool(conn),
        _ => {
            let _ = conn;
            false
        }
    }
}

/// The refusal for a backend whose driver this build left out (cargo features `postgres`,
/// `mysql`, `sqlite`).
pub(crate) fn not_built(backend: DbBackend) -> EngineError {
    EngineError::Config {
        message: format!(
            "this build has no {} driver; enable the engine's `{}` cargo feature",
            name(backend),
            capabilities(backend).feature
        ),
    }
}

/// A failure to open the migration's own connection.
pub(crate) fn session_error(e: sqlx::Error) -> EngineError {
    EngineError::Database {
        context: "opening the migration session".to_owned(),
        source: sea_orm::DbErr::Conn(sea_orm::RuntimeErr::Internal(e.to_string())),
    }
}

/// A pool of exactly one connection.
pub(crate) fn one<DB: sqlx::Database>() -> sqlx::pool::PoolOptions<DB> {
    sqlx::pool::PoolOptions::new()
        .max_connections(1)
        .min_connections(0)
}
