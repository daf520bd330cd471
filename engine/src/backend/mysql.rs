//! MySQL and MariaDB: what the engine does differently here.
//!
//! - **Lock**: `GET_LOCK` on a dedicated connection, under a name derived from database, ledger
//!   schema and ledger table (names are server-wide and at most 64 characters, hence a digest).
//!   The holder is found through `IS_USED_LOCK` and the process list.
//! - **Cancel**: `KILL QUERY` from the lock's connection; the started migration's ledger row is
//!   then marked failed through that same connection.
//! - DDL commits implicitly: the ledger row is written `running` before a migration and
//!   completed after it.

use std::fmt;

use chrono::Utc;
use sea_orm::DatabaseConnection;
use sqlx::{Connection, MySqlConnection, Row};

use super::lock::{Holder, LockScope, lock_error, mysql_lock_name};
use crate::error::Result;

/// A connection of its own that takes and holds `GET_LOCK`.
pub(crate) struct Lock {
    conn: MySqlConnection,
    name: String,
}

impl fmt::Display for Lock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "GET_LOCK('{}')", self.name)
    }
}

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
        sqlx::query(sqlx::AssertSqlSafe(format!("KILL QUERY {session}")))
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

/// A one-connection pool with the settings of the application's pool `db`.
pub(crate) async fn own_connection(db: &DatabaseConnection) -> Result<DatabaseConnection> {
    let options = db.get_mysql_connection_pool().connect_options();
    let pool = super::one()
        .connect_with(options.as_ref().clone())
        .await
        .map_err(super::session_error)?;
    Ok(sea_orm::SqlxMySqlConnector::from_sqlx_mysql_pool(pool))
}

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
    })
}
