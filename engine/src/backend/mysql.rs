//! MySQL and MariaDB: what the engine does differently here.
//!
//! - **Lock**: `GET_LOCK` on a dedicated connection, under a name derived from database, ledger
//!   schema and ledger table (names are server-wide and at most 64 characters, hence a digest).
//!   The holder is found through `IS_USED_LOCK` and the process list. On a Galera cluster
//!   (`@@wsrep_on`, [`is_galera`]) `GET_LOCK` is local to the node it is taken on, so `auto`
//!   takes the table lock there ([`crate::backend::lock::table`]), whose lease runs on the
//!   server's clock in UTC ([`LEASE_CLOCK`]).
//! - **Cancel**: `KILL QUERY` from the lock's connection; the started migration's ledger row is
//!   then marked failed through that same connection.
//! - DDL commits implicitly: the ledger row is written `running` before a migration and
//!   completed after it.

#[cfg(feature = "mysql")]
pub(crate) mod dump;
pub(crate) mod snapshot;

use std::time::Duration;

use super::Capabilities;
#[cfg(feature = "mysql")]
use {
    super::lock::{Holder, LockScope, lock_error, mysql_lock_name},
    crate::error::Result,
    chrono::Utc,
    sea_orm::DatabaseConnection,
    sqlx::{Connection, MySqlConnection, Row},
    std::fmt,
};

/// What MySQL and MariaDB can do.
pub const CAPABILITIES: Capabilities = Capabilities {
    name: "mysql",
    feature: "mysql",
    transactional_ddl: false,
    one_transaction_per_run: false,
    session_id_query: Some("SELECT CAST(CONNECTION_ID() AS SIGNED) AS id"),
    objects_query: "SELECT kind, name FROM ( \
       SELECT IF(table_type = 'VIEW', 'view', 'table') AS kind, \
              CAST(table_name AS CHAR) AS name, IF(table_type = 'VIEW', 1, 2) AS step \
       FROM information_schema.tables WHERE table_schema = DATABASE() \
       UNION ALL \
       SELECT LOWER(routine_type), CAST(routine_name AS CHAR), 3 \
       FROM information_schema.routines WHERE routine_schema = DATABASE() \
     ) objects ORDER BY step, name",
    objects_quoted: false,
    foreign_key_checks: Some(("SET FOREIGN_KEY_CHECKS = 0", "SET FOREIGN_KEY_CHECKS = 1")),
    drop_cascades: false,
    deferred_flush: None,
    wipe_in_one_transaction: false,
    drops_lists: true,
    schemas_query: None,
    tenant_schemas_query: Some(
        "SELECT CAST(schema_name AS CHAR) AS name FROM information_schema.schemata \
         WHERE schema_name NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys') \
         ORDER BY schema_name",
    ),
    quote: '`',
};

/// The server's clock as the table lock's lease reads it: `UTC_TIMESTAMP(6)`, which does not
/// depend on the session's time zone (`NOW(6)` does), and the same plus a bound number of
/// microseconds.
pub(crate) const LEASE_CLOCK: super::LeaseClock = super::LeaseClock {
    now: "UTC_TIMESTAMP(6)",
    later: "UTC_TIMESTAMP(6) + INTERVAL ? MICROSECOND",
};

/// Whether the server `conn` points at is a Galera node: `@@wsrep_on`, which plain MySQL does
/// not have (an unknown variable there, read as off) and a MariaDB without a cluster reports
/// off. There `GET_LOCK` holds on one node only: a session on another node is granted the same
/// lock (MariaDB's "Galera Cluster known limitations" list `GET_LOCK()` among the unsupported
/// explicit locking; some releases refuse it outright, MDEV-30473).
///
/// # Errors
/// [`EngineError::Lock`] when the server cannot be asked at all.
pub(crate) async fn is_galera(conn: &sea_orm::DatabaseConnection) -> crate::error::Result<bool> {
    use sea_orm::{ConnectionTrait, DbBackend, Statement};
    let asked = conn
        .query_one_raw(Statement::from_string(
            DbBackend::MySql,
            "SELECT CAST(@@wsrep_on AS SIGNED) AS wsrep_on",
        ))
        .await;
    match asked {
        Ok(row) => Ok(row
            .and_then(|r| r.try_get::<i64>("", "wsrep_on").ok())
            .is_some_and(|on| on != 0)),
        Err(e) if e.to_string().contains("Unknown system variable") => Ok(false),
        Err(e) => Err(crate::error::EngineError::Lock {
            detail: format!("asking the server whether it is a Galera node (@@wsrep_on): {e}"),
        }),
    }
}

/// `KILL QUERY`: stops the statement server connection `session` runs.
pub(crate) fn cancel_statement(session: i64) -> String {
    format!("KILL QUERY {session}")
}

/// `lock_wait_timeout` (whole seconds, at least 1) and MariaDB's `max_statement_time`.
pub(crate) fn session_timeouts(
    lock_wait: Option<Duration>,
    statement: Option<Duration>,
) -> Vec<String> {
    let mut sql = Vec::new();
    if let Some(d) = lock_wait {
        sql.push(format!(
            "SET SESSION lock_wait_timeout = {}",
            d.as_secs().max(1)
        ));
    }
    if let Some(d) = statement {
        sql.push(format!(
            "SET SESSION max_statement_time = {}",
            d.as_secs_f64()
        ));
    }
    sql
}

/// Drops scratch database `name` (a name the engine made: `[a-z0-9_]` only). MySQL and MariaDB
/// have no `FORCE`: a session a cancelled run left inside a statement holds a metadata lock
/// that `DROP DATABASE` would wait on, so those sessions are ended first.
pub(crate) async fn drop_database(
    admin: &sea_orm::DatabaseConnection,
    name: &str,
) -> std::result::Result<(), sea_orm::DbErr> {
    use sea_orm::{ConnectionTrait, DbBackend, Statement, Value};
    let sessions = admin
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::MySql,
            "SELECT id FROM information_schema.processlist \
             WHERE db = ? AND id <> CONNECTION_ID()",
            [Value::from(name)],
        ))
        .await?;
    for session in sessions {
        if let Ok(id) = session.try_get_by_index::<u64>(0) {
            // Already gone is what we want.
            let _ = admin.execute_unprepared(&format!("KILL {id}")).await;
        }
    }
    admin
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS `{name}`"))
        .await
        .map(drop)
}

/// `CHARACTER SET x COLLATE y` of the target database, or nothing if it cannot be read (the
/// server's defaults then apply).
pub(crate) async fn database_options(admin: &sea_orm::DatabaseConnection) -> String {
    use sea_orm::{ConnectionTrait, DbBackend, Statement};
    let row = admin
        .query_one_raw(Statement::from_string(
            DbBackend::MySql,
            "SELECT CAST(default_character_set_name AS CHAR) AS charset, \
                    CAST(default_collation_name AS CHAR) AS collation \
             FROM information_schema.schemata WHERE schema_name = DATABASE()",
        ))
        .await
        .ok()
        .flatten();
    let Some(row) = row else {
        return String::new();
    };
    let word = |col: &str| {
        row.try_get::<String>("", col)
            .ok()
            .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
    };
    match (word("charset"), word("collation")) {
        (Some(charset), Some(collation)) => {
            format!(" CHARACTER SET {charset} COLLATE {collation}")
        }
        _ => String::new(),
    }
}

#[cfg(feature = "mysql")]
/// A connection of its own that takes and holds `GET_LOCK`.
pub(crate) struct Lock {
    conn: MySqlConnection,
    name: String,
}

#[cfg(feature = "mysql")]
impl fmt::Display for Lock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "GET_LOCK('{}')", self.name)
    }
}

#[cfg(feature = "mysql")]
impl Lock {
    /// Opens the lock's connection with the pool's settings.
    pub(crate) async fn open(conn: &DatabaseConnection, scope: &impl LockScope) -> Result<Self> {
        let options = conn
            .get_mysql_connection_pool()
            .connect_options()
            .as_ref()
            .clone();
        let database = options
            .get_database()
            .unwrap_or(options.get_username())
            .to_owned();
        let name = mysql_lock_name(&database, scope);
        let conn = MySqlConnection::connect_with(&options)
            .await
            .map_err(lock_error("opening the lock connection"))?;
        Ok(Self { conn, name })
    }

    /// Takes the lock if it is free; never waits.
    pub(crate) async fn try_take(&mut self) -> Result<bool> {
        let taken: Option<i64> = sqlx::query_scalar("SELECT GET_LOCK(?, 0)")
            .bind(&self.name)
            .fetch_one(&mut self.conn)
            .await
            .map_err(lock_error("taking GET_LOCK"))?;
        Ok(taken == Some(1))
    }

    /// Who holds it now.
    pub(crate) async fn holder(&mut self) -> Option<Holder> {
        holder_of(&mut self.conn, &self.name).await
    }

    /// Gives it back and closes the connection.
    pub(crate) async fn release(mut self) -> Result<()> {
        let unlocked = sqlx::query("SELECT RELEASE_LOCK(?)")
            .bind(&self.name)
            .execute(&mut self.conn)
            .await
            .map(drop)
            .map_err(lock_error("releasing GET_LOCK"));
        let _ = self.conn.close().await;
        unlocked
    }

    /// Cancels the statement server connection `session` runs.
    pub(crate) async fn cancel(&mut self, session: i64) -> Result<()> {
        sqlx::query(sqlx::AssertSqlSafe(cancel_statement(session)))
            .execute(&mut self.conn)
            .await
            .map(drop)
            .map_err(lock_error("cancelling the migration's statement"))
    }

    /// Runs `sql` on the lock's connection.
    pub(crate) async fn execute(&mut self, sql: &str) -> Result<()> {
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
            .execute(&mut self.conn)
            .await
            .map(drop)
            .map_err(lock_error("writing through the lock connection"))
    }
}

#[cfg(feature = "mysql")]
/// A one-connection pool with the settings of the application's pool `db`.
pub(crate) async fn own_connection(db: &DatabaseConnection) -> Result<DatabaseConnection> {
    let options = db.get_mysql_connection_pool().connect_options();
    let pool = super::one()
        .connect_with(options.as_ref().clone())
        .await
        .map_err(super::session_error)?;
    Ok(sea_orm::SqlxMySqlConnector::from_sqlx_mysql_pool(pool))
}

#[cfg(feature = "mysql")]
/// The URL of `conn`'s pool, without a password.
pub(crate) fn url_of(conn: &DatabaseConnection) -> String {
    let options = conn.get_mysql_connection_pool().connect_options();
    format!(
        "mysql://{}@{}:{}/{}",
        options.get_username(),
        options.get_host(),
        options.get_port(),
        options.get_database().unwrap_or_default()
    )
}

#[cfg(feature = "mysql")]
/// The session holding `GET_LOCK(name)`, from `IS_USED_LOCK` and the process list.
async fn holder_of(conn: &mut MySqlConnection, name: &str) -> Option<Holder> {
    // The id is cast because its type differs: BIGINT UNSIGNED on MySQL, signed BIGINT on
    // MariaDB, which the driver will not read as `u64`.
    let row = sqlx::query(
        "SELECT CAST(p.host AS CHAR), CAST(p.id AS UNSIGNED), CAST(p.user AS CHAR), p.time \
         FROM information_schema.processlist p WHERE p.id = IS_USED_LOCK(?)",
    )
    .bind(name)
    .fetch_optional(conn)
    .await
    .ok()??;
    let host: Option<String> = row.try_get(0).ok();
    let id: Option<u64> = row.try_get::<u64, _>(1).ok();
    let user: Option<String> = row.try_get(2).ok();
    let seconds: Option<i64> = row
        .try_get::<i64, _>(3)
        .ok()
        .or_else(|| row.try_get::<i32, _>(3).ok().map(i64::from));
    Some(Holder {
        command: user.map(|u| format!("session of {u}")),
        host,
        pid: id.map(|id| format!("{id} (server connection)")),
        since: seconds.map(|s| Utc::now() - chrono::Duration::seconds(s)),
        lease_until: None,
    })
}

/// Runs `statements` as one multi-statement script on `conn`, the session's pool of one
/// connection: one round trip for them all instead of, for each, a prepared statement's two
/// and the pool's check of the connection when it comes back. DDL commits statement by
/// statement here, so a failure says how far the script got: the server stops at the failing
/// statement, and the results before it count what completed. `None` when `conn` is not a
/// MySQL/MariaDB pool (a recording connection), for the caller to send them one by one.
pub(crate) async fn run_script(
    conn: &sea_orm::DatabaseConnection,
    statements: &[String],
) -> Option<std::result::Result<(), (usize, sea_orm::DbErr)>> {
    #[cfg(feature = "mysql")]
    if let sea_orm::DatabaseConnectionType::SqlxMySqlPoolConnection(_) = &conn.inner {
        use futures_util::StreamExt;
        let script = statements
            .iter()
            .map(|s| s.trim_end().trim_end_matches(';'))
            .collect::<Vec<_>>()
            .join(";\n");
        let pool = conn.get_mysql_connection_pool();
        let mut results = sqlx::raw_sql(sqlx::AssertSqlSafe(script)).execute_many(pool);
        let mut done = 0;
        while let Some(result) = results.next().await {
            match result {
                Ok(_) => done += 1,
                Err(e) => {
                    let e = sea_orm::DbErr::Exec(sea_orm::RuntimeErr::SqlxError(e.into()));
                    return Some(Err((done, e)));
                }
            }
        }
        return Some(Ok(()));
    }
    let _ = (conn, statements);
    None
}
