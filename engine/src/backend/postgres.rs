//! PostgreSQL: what the engine does differently here.
//!
//! - **Lock**: a session advisory lock on a dedicated connection whose `application_name` names
//!   the holder (`migrate up@host#pid`), keyed by database, ledger schema and ledger table.
//! - **Cancel**: `pg_cancel_backend` from the lock's connection stops the migration's statement;
//!   its transaction rolls back at once.
//! - DDL is transactional: a migration commits together with its ledger rows, or not at all.

#[cfg(feature = "postgres")]
pub(crate) mod cache;
#[cfg(feature = "postgres")]
pub(crate) mod dump;
pub(crate) mod snapshot;

use std::time::Duration;

use super::Capabilities;
#[cfg(feature = "postgres")]
use {
    super::lock::{Holder, Identity, LockScope, lock_error, postgres_key},
    crate::error::Result,
    chrono::{DateTime, Utc},
    sea_orm::DatabaseConnection,
    sqlx::{Connection, PgConnection, Row},
    std::fmt,
};

/// What PostgreSQL can do.
pub const CAPABILITIES: Capabilities = Capabilities {
    name: "postgres",
    feature: "postgres",
    transactional_ddl: true,
    one_transaction_per_run: false,
    session_id_query: Some("SELECT CAST(pg_backend_pid() AS bigint) AS id"),
    // Extension members (pg_depend deptype 'e') go with their extension; sequences owned by a
    // column go with their table; row types of tables are not free-standing types.
    objects_query: "SELECT kind, name FROM ( \
       SELECT CASE WHEN c.relkind IN ('v', 'm') THEN 'view' ELSE 'table' END AS kind, \
              quote_ident(c.relname) AS name, \
              CASE WHEN c.relkind IN ('v', 'm') THEN 1 ELSE 2 END AS step \
       FROM pg_catalog.pg_class c \
       WHERE c.relnamespace = (SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = current_schema()) \
         AND c.relkind IN ('r', 'p', 'v', 'm') \
         AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d \
                         WHERE d.objid = c.oid AND d.deptype = 'e') \
       UNION ALL \
       SELECT 'sequence', quote_ident(c.relname), 3 \
       FROM pg_catalog.pg_class c \
       WHERE c.relnamespace = (SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = current_schema()) AND c.relkind = 'S' \
         AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d \
                         WHERE d.objid = c.oid AND d.deptype IN ('a', 'i', 'e')) \
       UNION ALL \
       SELECT CASE p.prokind WHEN 'p' THEN 'procedure' ELSE 'function' END, \
              p.oid::regprocedure::text, 4 \
       FROM pg_catalog.pg_proc p \
       WHERE p.pronamespace = (SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = current_schema()) AND p.prokind IN ('f', 'p') \
         AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d \
                         WHERE d.objid = p.oid AND d.deptype = 'e') \
       UNION ALL \
       SELECT CASE t.typtype WHEN 'd' THEN 'domain' ELSE 'type' END, \
              quote_ident(t.typname), 5 \
       FROM pg_catalog.pg_type t \
       WHERE t.typnamespace = (SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = current_schema()) \
         AND (t.typtype IN ('e', 'r', 'd') \
              OR (t.typtype = 'c' AND (SELECT c.relkind FROM pg_catalog.pg_class c \
                                        WHERE c.oid = t.typrelid) = 'c')) \
         AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d \
                         WHERE d.objid = t.oid AND d.deptype = 'e') \
       UNION ALL \
       SELECT 'extension', quote_ident(e.extname), 6 \
       FROM pg_catalog.pg_extension e \
       WHERE e.extnamespace = (SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = current_schema()) \
         AND e.extname <> 'plpgsql' \
     ) objects ORDER BY step, name",
    objects_quoted: true,
    foreign_key_checks: None,
    // CASCADE takes dependents already dropped by an earlier step in its stride; the engine's
    // `DROP ... IF EXISTS` keeps that from failing.
    drop_cascades: true,
    deferred_flush: Some("SET LOCAL synchronous_commit = off"),
    wipe_in_one_transaction: true,
    drops_lists: true,
    schemas_query: Some(
        "SELECT quote_ident(n.nspname) AS name FROM pg_catalog.pg_namespace n \
         WHERE n.nspname <> current_schema() AND n.nspname <> 'information_schema' \
           AND n.nspname NOT LIKE 'pg\\_%' \
           AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d \
                           WHERE d.classid = 'pg_catalog.pg_namespace'::regclass \
                             AND d.objid = n.oid AND d.deptype = 'e') \
         ORDER BY n.nspname",
    ),
    tenant_schemas_query: Some(
        "SELECT n.nspname::text AS name FROM pg_catalog.pg_namespace n \
         WHERE n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%' \
         ORDER BY n.nspname",
    ),
    quote: '"',
};

/// The server's clock as the table lock's lease reads it: `now()` (a `timestamptz`, the start
/// of the statement's transaction: of the statement itself, as the lock's statements run
/// alone), and the same plus a bound number of microseconds.
pub(crate) const LEASE_CLOCK: super::LeaseClock = super::LeaseClock {
    now: "now()",
    later: "now() + $1 * interval '1 microsecond'",
};

/// `pg_cancel_backend`: stops the statement server session `session` runs.
pub(crate) fn cancel_statement(session: i64) -> String {
    format!("SELECT pg_cancel_backend({session})")
}

/// `lock_timeout` and `statement_timeout`, in milliseconds.
pub(crate) fn session_timeouts(
    lock_wait: Option<Duration>,
    statement: Option<Duration>,
) -> Vec<String> {
    let mut sql = Vec::new();
    if let Some(d) = lock_wait {
        sql.push(format!("SET lock_timeout = {}", d.as_millis()));
    }
    if let Some(d) = statement {
        sql.push(format!("SET statement_timeout = {}", d.as_millis()));
    }
    sql
}

/// Drops database `name` (a scratch database, a cached copy, or a target a reset replaces). `WITH (FORCE)`
/// (PostgreSQL 13+) ends sessions a cancelled run left behind; before 13 they are ended by hand.
pub(crate) async fn drop_database(
    admin: &sea_orm::DatabaseConnection,
    name: &str,
) -> std::result::Result<(), sea_orm::DbErr> {
    use sea_orm::{ConnectionTrait, DbBackend, Statement, Value};
    let version = admin
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT current_setting('server_version_num')::integer AS v",
        ))
        .await?
        .and_then(|row| row.try_get::<i32>("", "v").ok())
        .unwrap_or(0);
    if version >= 130_000 {
        admin
            .execute_unprepared(&format!(
                "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                name.replace('"', "\"\"")
            ))
            .await?;
    } else {
        admin
            .execute_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE datname = $1 AND pid <> pg_backend_pid()",
                [Value::from(name)],
            ))
            .await?;
        admin
            .execute_unprepared(&format!(
                "DROP DATABASE IF EXISTS \"{}\"",
                name.replace('"', "\"\"")
            ))
            .await?;
    }
    Ok(())
}

#[cfg(feature = "postgres")]
/// A connection of its own that takes and holds the advisory lock.
pub(crate) struct Lock {
    conn: PgConnection,
    key: i64,
}

#[cfg(feature = "postgres")]
impl fmt::Display for Lock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "postgres advisory lock {}", self.key)
    }
}

#[cfg(feature = "postgres")]
impl Lock {
    /// Opens the lock's connection with the pool's settings, naming this runner.
    pub(crate) async fn open(
        conn: &DatabaseConnection,
        scope: &impl LockScope,
        me: &Identity,
    ) -> Result<Self> {
        let options = conn
            .get_postgres_connection_pool()
            .connect_options()
            .as_ref()
            .clone()
            .application_name(&me.application_name());
        let database = options
            .get_database()
            .unwrap_or(options.get_username())
            .to_owned();
        let key = postgres_key(&database, scope);
        let conn = PgConnection::connect_with(&options)
            .await
            .map_err(lock_error("opening the lock connection"))?;
        Ok(Self { conn, key })
    }

    /// Takes the lock if it is free; never waits.
    pub(crate) async fn try_take(&mut self) -> Result<bool> {
        sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
            .bind(self.key)
            .fetch_one(&mut self.conn)
            .await
            .map_err(lock_error("taking the advisory lock"))
    }

    /// Who holds it now.
    pub(crate) async fn holder(&mut self) -> Option<Holder> {
        holder_of(&mut self.conn, self.key).await
    }

    /// Gives it back and closes the connection.
    pub(crate) async fn release(mut self) -> Result<()> {
        let unlocked = sqlx::query("SELECT pg_advisory_unlock($1)")
            .bind(self.key)
            .execute(&mut self.conn)
            .await
            .map(drop)
            .map_err(lock_error("releasing the advisory lock"));
        let _ = self.conn.close().await;
        unlocked
    }

    /// Cancels the statement server session `session` runs.
    pub(crate) async fn cancel(&mut self, session: i64) -> Result<()> {
        sqlx::query("SELECT pg_cancel_backend($1::int)")
            .bind(session)
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

#[cfg(feature = "postgres")]
/// A one-connection pool with the settings of the application's pool `db`, searching
/// `database_schema` first when given.
pub(crate) async fn own_connection(
    db: &DatabaseConnection,
    database_schema: Option<&str>,
) -> Result<DatabaseConnection> {
    let mut options = db
        .get_postgres_connection_pool()
        .connect_options()
        .as_ref()
        .clone();
    if let Some(schema) = database_schema {
        options = options.options([("search_path", schema)]);
    }
    let pool = super::one()
        .connect_with(options)
        .await
        .map_err(super::session_error)?;
    Ok(sea_orm::SqlxPostgresConnector::from_sqlx_postgres_pool(
        pool,
    ))
}

#[cfg(feature = "postgres")]
/// The URL of `conn`'s pool, without a password.
pub(crate) fn url_of(conn: &DatabaseConnection) -> String {
    let options = conn.get_postgres_connection_pool().connect_options();
    format!(
        "postgres://{}@{}:{}/{}",
        options.get_username(),
        options.get_host(),
        options.get_port(),
        options.get_database().unwrap_or_default()
    )
}

#[cfg(feature = "postgres")]
/// The session holding advisory lock `key`, from `pg_locks` and `pg_stat_activity`.
async fn holder_of(conn: &mut PgConnection, key: i64) -> Option<Holder> {
    // A bigint advisory key shows as classid (high 32 bits), objid (low 32 bits), objsubid 1.
    let bits = u64::from_be_bytes(key.to_be_bytes());
    let (high, low) = (i64::from((bits >> 32) as u32), i64::from(bits as u32));
    let row = sqlx::query(
        "SELECT a.application_name, COALESCE(host(a.client_addr), 'local socket'), a.pid, \
                a.state_change \
         FROM pg_catalog.pg_locks l JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid \
         WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 \
           AND l.classid::bigint = $1 AND l.objid::bigint = $2 \
           AND l.database = (SELECT oid FROM pg_catalog.pg_database \
                             WHERE datname = current_database())",
    )
    .bind(high)
    .bind(low)
    .fetch_optional(conn)
    .await
    .ok()??;
    let application: Option<String> = row.try_get(0).ok();
    let client: Option<String> = row.try_get(1).ok();
    let pid: Option<i32> = row.try_get(2).ok();
    let since: Option<DateTime<Utc>> = row.try_get(3).ok();
    // Our own runners name themselves `command@host#pid`.
    let ours = application.as_deref().and_then(|name| {
        let (command, rest) = name.split_once('@')?;
        let (host, pid) = rest.rsplit_once('#')?;
        Some((command.to_owned(), host.to_owned(), pid.to_owned()))
    });
    Some(match ours {
        Some((command, host, pid)) => Holder {
            command: Some(command),
            host: Some(host),
            pid: Some(pid),
            since,
            lease_until: None,
        },
        None => Holder {
            command: application.filter(|name| !name.is_empty()),
            host: client,
            pid: pid.map(|p| format!("{p} (server session)")),
            since,
            lease_until: None,
        },
    })
}
