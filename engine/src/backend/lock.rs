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
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use sea_orm::{DatabaseConnection, DbBackend};
use sha2::{Digest, Sha256};
use sqlx::{Connection, MySqlConnection, PgConnection, Row};

use crate::error::{EngineError, Result};
use crate::store::ledger::Ledger;

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
    fn application_name(&self) -> String {
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
    Postgres { conn: PgConnection, key: i64 },
    MySql { conn: MySqlConnection, name: String },
    Sqlite { file: File, path: PathBuf },
    Unshared,
}

impl fmt::Debug for MigrationLock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match &self.held {
            Held::Postgres { key, .. } => format!("postgres advisory lock {key}"),
            Held::MySql { name, .. } => format!("GET_LOCK('{name}')"),
            Held::Sqlite { path, .. } => format!("lock file {}", path.display()),
            Held::Unshared => "in-memory database".to_owned(),
        };
        f.debug_struct("MigrationLock")
            .field("held", &kind)
            .finish()
    }
}

/// The lock's identity for this database and ledger: the same for every runner that would
/// write the same ledger.
fn lock_digest(database: &str, ledger: &Ledger) -> [u8; 32] {
    let mut hash = Sha256::new();
    hash.update(database.as_bytes());
    hash.update([0]);
    hash.update(ledger.schema().unwrap_or("").as_bytes());
    hash.update([0]);
    hash.update(ledger.table_name().as_bytes());
    hash.finalize().into()
}

/// The PostgreSQL advisory lock key runners of this database and ledger share.
pub fn postgres_key(database: &str, ledger: &Ledger) -> i64 {
    let digest = lock_digest(database, ledger);
    let mut key = [0u8; 8];
    key.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(key)
}

/// The MySQL/MariaDB `GET_LOCK` name runners of this database and ledger share (names are at
/// most 64 characters and server-wide, hence the digest).
pub fn mysql_lock_name(database: &str, ledger: &Ledger) -> String {
    format!("migrate:{}", hex(&lock_digest(database, ledger)[..16]))
}

/// Whether a SQLite database lives in memory: it belongs to one process and its pool, so it
/// needs no lock file and no session of its own.
pub(crate) fn is_in_memory(filename: &std::path::Path) -> bool {
    let name = filename.to_string_lossy();
    name.is_empty() || name.starts_with(":memory:") || name.contains("mode=memory")
}

/// The lock file beside a SQLite database file.
pub fn sqlite_lock_path(database_file: &std::path::Path) -> PathBuf {
    let mut path = database_file.as_os_str().to_owned();
    path.push(".lock");
    PathBuf::from(path)
}

fn lock_error(context: &'static str) -> impl Fn(sqlx::Error) -> EngineError {
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
    pub async fn acquire(
        conn: &DatabaseConnection,
        ledger: &Ledger,
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
            DbBackend::Postgres => {
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
                let key = postgres_key(&database, ledger);
                let mut lock = PgConnection::connect_with(&options)
                    .await
                    .map_err(lock_error("opening the lock connection"))?;
                loop {
                    let taken: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
                        .bind(key)
                        .fetch_one(&mut lock)
                        .await
                        .map_err(lock_error("taking the advisory lock"))?;
                    if taken {
                        return Ok(Self {
                            held: Held::Postgres { conn: lock, key },
                        });
                    }
                    wait(pg_holder(&mut lock, key).await)?;
                    tokio::time::sleep(POLL).await;
                }
            }
            DbBackend::MySql => {
                let options = conn
                    .get_mysql_connection_pool()
                    .connect_options()
                    .as_ref()
                    .clone();
                let database = options
                    .get_database()
                    .unwrap_or(options.get_username())
                    .to_owned();
                let name = mysql_lock_name(&database, ledger);
                let mut lock = MySqlConnection::connect_with(&options)
                    .await
                    .map_err(lock_error("opening the lock connection"))?;
                loop {
                    let taken: Option<i64> = sqlx::query_scalar("SELECT GET_LOCK(?, 0)")
                        .bind(&name)
                        .fetch_one(&mut lock)
                        .await
                        .map_err(lock_error("taking GET_LOCK"))?;
                    if taken == Some(1) {
                        return Ok(Self {
                            held: Held::MySql { conn: lock, name },
                        });
                    }
                    wait(mysql_holder(&mut lock, &name).await)?;
                    tokio::time::sleep(POLL).await;
                }
            }
            DbBackend::Sqlite => {
                let options = conn.get_sqlite_connection_pool().connect_options();
                let filename = options.get_filename();
                if is_in_memory(filename) {
                    return Ok(Self {
                        held: Held::Unshared,
                    });
                }
                let path = sqlite_lock_path(filename);
                let mut file = File::options()
                    .read(true)
                    .write(true)
                    .create(true)
                    .truncate(false)
                    .open(&path)
                    .map_err(|e| EngineError::Lock {
                        detail: format!("opening {}: {e}", path.display()),
                    })?;
                loop {
                    match file.try_lock() {
                        Ok(()) => {
                            let line = format!(
                                "{}\t{}\t{}\t{}\n",
                                me.command,
                                me.host,
                                me.pid,
                                Utc::now().to_rfc3339()
                            );
                            // The holder line is advice for waiters; failing to write it must
                            // not fail the run.
                            let _ = file
                                .set_len(0)
                                .and_then(|()| file.seek(SeekFrom::Start(0)).map(drop))
                                .and_then(|()| file.write_all(line.as_bytes()))
                                .and_then(|()| file.flush());
                            return Ok(Self {
                                held: Held::Sqlite { file, path },
                            });
                        }
                        Err(std::fs::TryLockError::WouldBlock) => {
                            wait(file_holder(&mut file))?;
                            tokio::time::sleep(POLL).await;
                        }
                        Err(std::fs::TryLockError::Error(e)) => {
                            return Err(EngineError::Lock {
                                detail: format!("locking {}: {e}", path.display()),
                            });
                        }
                    }
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
            Held::Postgres { mut conn, key } => {
                let unlocked = sqlx::query("SELECT pg_advisory_unlock($1)")
                    .bind(key)
                    .execute(&mut conn)
                    .await
                    .map(drop)
                    .map_err(lock_error("releasing the advisory lock"));
                let _ = conn.close().await;
                unlocked
            }
            Held::MySql { mut conn, name } => {
                let unlocked = sqlx::query("SELECT RELEASE_LOCK(?)")
                    .bind(&name)
                    .execute(&mut conn)
                    .await
                    .map(drop)
                    .map_err(lock_error("releasing GET_LOCK"));
                let _ = conn.close().await;
                unlocked
            }
            Held::Sqlite { file, path } => {
                let _ = file.set_len(0);
                file.unlock().map_err(|e| EngineError::Lock {
                    detail: format!("unlocking {}: {e}", path.display()),
                })
            }
            Held::Unshared => Ok(()),
        }
    }

    /// Stops the statement another connection of this database is running, from the lock's
    /// own connection: how an interrupted run cancels its migration (PostgreSQL
    /// `pg_cancel_backend`, MySQL `KILL QUERY`). `session` is that connection's server id.
    ///
    /// # Errors
    /// [`EngineError::Lock`] when the server refuses.
    pub async fn cancel(&mut self, session: i64) -> Result<()> {
        match &mut self.held {
            Held::Postgres { conn, .. } => sqlx::query("SELECT pg_cancel_backend($1::int)")
                .bind(session)
                .execute(conn)
                .await
                .map(drop)
                .map_err(lock_error("cancelling the migration's statement")),
            Held::MySql { conn, .. } => {
                sqlx::query(sqlx::AssertSqlSafe(format!("KILL QUERY {session}")))
                    .execute(conn)
                    .await
                    .map(drop)
                    .map_err(lock_error("cancelling the migration's statement"))
            }
            Held::Sqlite { .. } | Held::Unshared => Ok(()),
        }
    }

    /// Runs one statement on the lock's connection: for recording an interruption in the ledger
    /// after the migration's own connection was cancelled (MySQL/MariaDB).
    ///
    /// # Errors
    /// [`EngineError::Lock`] with the server's message.
    pub async fn execute(&mut self, sql: &str) -> Result<()> {
        match &mut self.held {
            Held::Postgres { conn, .. } => sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
                .execute(conn)
                .await
                .map(drop)
                .map_err(lock_error("writing through the lock connection")),
            Held::MySql { conn, .. } => sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
                .execute(conn)
                .await
                .map(drop)
                .map_err(lock_error("writing through the lock connection")),
            Held::Sqlite { .. } | Held::Unshared => Ok(()),
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The session holding advisory lock `key`, from `pg_locks` and `pg_stat_activity`.
async fn pg_holder(conn: &mut PgConnection, key: i64) -> Option<Holder> {
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
        },
        None => Holder {
            command: application.filter(|name| !name.is_empty()),
            host: client,
            pid: pid.map(|p| format!("{p} (server session)")),
            since,
        },
    })
}

/// The session holding `GET_LOCK(name)`, from `IS_USED_LOCK` and the process list.
async fn mysql_holder(conn: &mut MySqlConnection, name: &str) -> Option<Holder> {
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

/// The holder line of a SQLite lock file: `command \t host \t pid \t since`.
fn file_holder(file: &mut File) -> Option<Holder> {
    let mut text = String::new();
    file.seek(SeekFrom::Start(0)).ok()?;
    file.read_to_string(&mut text).ok()?;
    let mut fields = text.trim_end().split('\t');
    Some(Holder {
        command: fields.next().map(str::to_owned),
        host: fields.next().map(str::to_owned),
        pid: fields.next().map(str::to_owned),
        since: fields
            .next()
            .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
            .map(|t| t.with_timezone(&Utc)),
    })
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

    #[test]
    fn runners_of_one_ledger_share_a_lock_and_other_ledgers_do_not() {
        let a = Ledger::new(DbBackend::Postgres, None, "schema_migrations");
        let b = Ledger::new(DbBackend::Postgres, None, "other_ledger");
        assert_eq!(lock_digest("app", &a), lock_digest("app", &a));
        assert_ne!(lock_digest("app", &a), lock_digest("app", &b));
        assert_ne!(lock_digest("app", &a), lock_digest("shop", &a));
    }
}
