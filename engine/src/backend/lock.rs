//! One runner at a time: the migration lock.
//!
//! Every command that changes the schema, the ledger or seeded data holds the lock for its whole
//! run, taken before the ledger is read, so replicas starting together apply each migration
//! exactly once: the first applies, the others wait, then read a ledger with nothing pending.
//!
//! - **PostgreSQL**: a session advisory lock on a dedicated connection, keyed by database,
//!   ledger schema and ledger table. The connection's `application_name` names the holder.
//! - **MySQL/MariaDB**: `GET_LOCK` on a dedicated connection, under a name derived the same way.
//! - **SQLite**: an exclusive OS lock on `<database file>.lock`, holding a line that names the
//!   holder. In-memory databases belong to one process and need none.
//!
//! The server (or the OS) drops the lock with its holder's connection (or process), so a killed
//! runner never leaves a stale lock behind.

use std::fmt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use sea_orm::{DatabaseConnection, DbBackend};
use sha2::{Digest, Sha256};

use crate::error::{EngineError, Result};

/// How often a waiter tries again.
const POLL: Duration = Duration::from_millis(200);

/// Who holds the lock, as far as the server (or the lock file) can tell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    /// What the holder runs (`migrate up`, `run_pending`, or the client's own name).
    pub command: Option<String>,
    /// The holder's host (or client address).
    pub host: Option<String>,
    /// Its process id, or the server's session id for it.
    pub pid: Option<String>,
    /// Since when it holds the lock (or has been connected).
    pub since: Option<DateTime<Utc>>,
}

impl fmt::Display for Holder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if let Some(command) = &self.command {
            parts.push(format!("`{command}`"));
        }
        if let Some(host) = &self.host {
            parts.push(format!("on {host}"));
        }
        if let Some(pid) = &self.pid {
            parts.push(format!("pid {pid}"));
        }
        if let Some(since) = self.since {
            parts.push(format!("since {}", since.format("%Y-%m-%d %H:%M:%S UTC")));
        }
        if parts.is_empty() {
            f.write_str("another session")
        } else {
            f.write_str(&parts.join(", "))
        }
    }
}

/// Identifies this runner to waiters: what it runs, on which host, with which pid.
#[derive(Debug, Clone)]
pub struct Identity {
    /// The command, e.g. `migrate up`.
    pub command: String,
    /// This host's name.
    pub host: String,
    /// This process's id.
    pub pid: u32,
}

impl Identity {
    /// This process, running `command`.
    pub fn current(command: impl Into<String>) -> Self {
        Self {
            command: command.into(),
            host: whoami::hostname().unwrap_or_else(|_| "unknown".to_owned()),
            pid: std::process::id(),
        }
    }

    /// The PostgreSQL `application_name` (at most 63 bytes): `migrate up@host#pid`, the host
    /// shortened when it does not fit.
    #[cfg(feature = "postgres")]
    pub(super) fn application_name(&self) -> String {
        let suffix = format!("#{}", self.pid);
        let room = 63usize.saturating_sub(self.command.len() + 1 + suffix.len());
        let host: String = self.host.chars().take(room).collect();
        let mut name = format!("{}@{host}{suffix}", self.command);
        while name.len() > 63 {
            name.pop();
        }
        name
    }
}

/// A held migration lock; [`MigrationLock::release`] gives it back.
///
/// Dropping it without `release` also frees it (the connection closes, the file unlocks), just
/// less promptly: call `release` on every path you can.
pub struct MigrationLock {
    held: Held,
}

enum Held {
    #[cfg(feature = "postgres")]
    Postgres(super::postgres::Lock),
    #[cfg(feature = "mysql")]
    MySql(super::mysql::Lock),
    #[cfg(feature = "sqlite")]
    Sqlite(super::sqlite::Lock),
    /// An in-memory SQLite database: one process, one pool, nothing to lock.
    #[cfg(feature = "sqlite")]
    Unshared,
}

impl fmt::Debug for MigrationLock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match &self.held {
            #[cfg(feature = "postgres")]
            Held::Postgres(lock) => lock.to_string(),
            #[cfg(feature = "mysql")]
            Held::MySql(lock) => lock.to_string(),
            #[cfg(feature = "sqlite")]
            Held::Sqlite(lock) => lock.to_string(),
            #[cfg(feature = "sqlite")]
            Held::Unshared => "in-memory database".to_owned(),
        };
        f.debug_struct("MigrationLock")
            .field("held", &kind)
            .finish()
    }
}

/// What the lock guards: one ledger table, named by its schema and table. Runners that would
/// write the same ledger share a lock; runners of different ledgers (several migration sets on
/// one database) do not wait for each other.
pub trait LockScope {
    /// The ledger's schema, when it is not the connection's default.
    fn schema(&self) -> Option<&str>;
    /// The ledger table's name.
    fn table_name(&self) -> &str;
}

/// The lock's identity for this database and ledger: the same for every runner that would
/// write the same ledger.
pub(super) fn lock_digest(database: &str, ledger: &impl LockScope) -> [u8; 32] {
    let mut hash = Sha256::new();
    hash.update(database.as_bytes());
    hash.update([0]);
    hash.update(ledger.schema().unwrap_or("").as_bytes());
    hash.update([0]);
    hash.update(ledger.table_name().as_bytes());
    hash.finalize().into()
}

/// The PostgreSQL advisory lock key runners of this database and ledger share.
pub fn postgres_key(database: &str, ledger: &impl LockScope) -> i64 {
    let digest = lock_digest(database, ledger);
    let mut key = [0u8; 8];
    key.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(key)
}

/// The MySQL/MariaDB `GET_LOCK` name runners of this database and ledger share (names are at
/// most 64 characters and server-wide, hence the digest).
pub fn mysql_lock_name(database: &str, ledger: &impl LockScope) -> String {
    format!("migrate:{}", hex(&lock_digest(database, ledger)[..16]))
}

/// The lock file beside a SQLite database file.
pub fn sqlite_lock_path(database_file: &std::path::Path) -> PathBuf {
    let mut path = database_file.as_os_str().to_owned();
    path.push(".lock");
    PathBuf::from(path)
}

#[cfg(any(feature = "postgres", feature = "mysql"))]
pub(super) fn lock_error(context: &'static str) -> impl Fn(sqlx::Error) -> EngineError {
    move |e| EngineError::Lock {
        detail: format!("{context}: {e}"),
    }
}

impl MigrationLock {
    /// Takes the lock for the database `conn` points at, waiting up to `timeout`.
    ///
    /// `waiting` is called once when the lock is found taken, with whoever holds it, so the
    /// caller can say why it waits.
    ///
    /// # Errors
    /// [`EngineError::LockTimeout`] naming the holder when `timeout` passes first;
    /// [`EngineError::Lock`] when the lock cannot be asked for at all.
    #[cfg_attr(
        not(all(
            any(feature = "postgres", feature = "sqlite"),
            any(feature = "postgres", feature = "mysql")
        )),
        allow(unused_variables)
    )]
    pub async fn acquire(
        conn: &DatabaseConnection,
        scope: &impl LockScope,
        me: &Identity,
        timeout: Duration,
        mut waiting: impl FnMut(&Holder),
    ) -> Result<Self> {
        let deadline = Instant::now() + timeout;
        let mut told = false;
        let mut wait = |holder: Option<Holder>| -> Result<()> {
            let holder = holder.unwrap_or(Holder {
                command: None,
                host: None,
                pid: None,
                since: None,
            });
            if Instant::now() >= deadline {
                return Err(EngineError::LockTimeout {
                    holder: holder.to_string(),
                    waited: timeout,
                });
            }
            if !told {
                waiting(&holder);
                told = true;
            }
            Ok(())
        };
        match conn.get_database_backend() {
            #[cfg(feature = "postgres")]
            DbBackend::Postgres => {
                let mut lock = super::postgres::Lock::open(conn, scope, me).await?;
                loop {
                    if lock.try_take().await? {
                        return Ok(Self {
                            held: Held::Postgres(lock),
                        });
                    }
                    wait(lock.holder().await)?;
                    tokio::time::sleep(POLL).await;
                }
            }
            #[cfg(feature = "mysql")]
            DbBackend::MySql => {
                let mut lock = super::mysql::Lock::open(conn, scope).await?;
                loop {
                    if lock.try_take().await? {
                        return Ok(Self {
                            held: Held::MySql(lock),
                        });
                    }
                    wait(lock.holder().await)?;
                    tokio::time::sleep(POLL).await;
                }
            }
            #[cfg(feature = "sqlite")]
            DbBackend::Sqlite => {
                let Some(mut lock) = super::sqlite::Lock::open(conn)? else {
                    return Ok(Self {
                        held: Held::Unshared,
                    });
                };
                loop {
                    if lock.try_take(me)? {
                        return Ok(Self {
                            held: Held::Sqlite(lock),
                        });
                    }
                    wait(lock.holder())?;
                    tokio::time::sleep(POLL).await;
                }
            }
            other => Err(EngineError::Lock {
                detail: format!("no lock for backend {other:?}"),
            }),
        }
    }

    /// Gives the lock back and closes its connection.
    ///
    /// # Errors
    /// [`EngineError::Lock`] if the server refused; the lock is freed anyway when the
    /// connection closes.
    pub async fn release(self) -> Result<()> {
        match self.held {
            #[cfg(feature = "postgres")]
            Held::Postgres(lock) => lock.release().await,
            #[cfg(feature = "mysql")]
            Held::MySql(lock) => lock.release().await,
            #[cfg(feature = "sqlite")]
            Held::Sqlite(lock) => lock.release(),
            #[cfg(feature = "sqlite")]
            Held::Unshared => Ok(()),
        }
    }

    /// Stops the statement another connection of this database is running, from the lock's
    /// own connection: how an interrupted run cancels its migration (PostgreSQL
    /// `pg_cancel_backend`, MySQL `KILL QUERY`). `session` is that connection's server id.
    ///
    /// # Errors
    /// [`EngineError::Lock`] when the server refuses.
    #[cfg_attr(
        not(any(feature = "postgres", feature = "mysql")),
        allow(unused_variables)
    )]
    pub async fn cancel(&mut self, session: i64) -> Result<()> {
        match &mut self.held {
            #[cfg(feature = "postgres")]
            Held::Postgres(lock) => lock.cancel(session).await,
            #[cfg(feature = "mysql")]
            Held::MySql(lock) => lock.cancel(session).await,
            #[cfg(feature = "sqlite")]
            Held::Sqlite(_) | Held::Unshared => Ok(()),
        }
    }

    /// Runs one statement on the lock's connection: for recording an interruption in the ledger
    /// after the migration's own connection was cancelled (MySQL/MariaDB).
    ///
    /// # Errors
    /// [`EngineError::Lock`] with the server's message.
    #[cfg_attr(
        not(any(feature = "postgres", feature = "mysql")),
        allow(unused_variables)
    )]
    pub async fn execute(&mut self, sql: &str) -> Result<()> {
        match &mut self.held {
            #[cfg(feature = "postgres")]
            Held::Postgres(lock) => lock.execute(sql).await,
            #[cfg(feature = "mysql")]
            Held::MySql(lock) => lock.execute(sql).await,
            #[cfg(feature = "sqlite")]
            Held::Sqlite(_) | Held::Unshared => Ok(()),
        }
    }
}

pub(super) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_holder_names_what_is_known() {
        let holder = Holder {
            command: Some("migrate up".to_owned()),
            host: Some("web-1".to_owned()),
            pid: Some("42".to_owned()),
            since: None,
        };
        assert_eq!(holder.to_string(), "`migrate up`, on web-1, pid 42");
        let unknown = Holder {
            command: None,
            host: None,
            pid: None,
            since: None,
        };
        assert_eq!(unknown.to_string(), "another session");
    }

    #[cfg(feature = "postgres")]
    #[test]
    fn the_application_name_fits_postgres_limit() {
        let me = Identity {
            command: "migrate up".to_owned(),
            host: "h".repeat(100),
            pid: 7,
        };
        let name = me.application_name();
        assert!(name.len() <= 63, "{name}");
        assert!(name.starts_with("migrate up@"), "{name}");
        assert!(name.ends_with("#7"), "{name}");
    }

    struct Table(&'static str);

    impl LockScope for Table {
        fn schema(&self) -> Option<&str> {
            None
        }
        fn table_name(&self) -> &str {
            self.0
        }
    }

    #[test]
    fn runners_of_one_ledger_share_a_lock_and_other_ledgers_do_not() {
        let a = Table("schema_migrations");
        let b = Table("other_ledger");
        assert_eq!(lock_digest("app", &a), lock_digest("app", &a));
        assert_ne!(lock_digest("app", &a), lock_digest("app", &b));
        assert_ne!(lock_digest("app", &a), lock_digest("shop", &a));
    }
}
