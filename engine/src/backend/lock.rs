//! One runner at a time: the migration lock.
//!
//! Every command that changes the schema, the ledger or seeded data holds the lock for its whole
//! run, taken before the ledger is read, so replicas starting together apply each migration
//! exactly once: the first applies, the others wait, then read a ledger with nothing pending.
//!
//! Two strategies ([`LockStrategy`]):
//!
//! - **session**: a lock the server keeps for a session of its own, dropped with that session.
//!   - PostgreSQL: a session advisory lock on a dedicated connection, keyed by database, ledger
//!     schema and ledger table. The connection's `application_name` names the holder.
//!   - MySQL/MariaDB: `GET_LOCK` on a dedicated connection, under a name derived the same way.
//!   - SQLite: an exclusive OS lock on `<database file>.lock`, holding a line that names the
//!     holder. In-memory databases belong to one process and need none.
//!
//!   The server (or the OS) drops the lock with its holder's connection (or process), so a
//!   killed runner never leaves a stale lock behind. On a Galera cluster `GET_LOCK` is local to
//!   each node, so runners on different nodes do not exclude each other.
//! - **table**: a row in the lock table `<ledger>_lock` beside the ledger, which replicates like
//!   any row ([`table`]). Its holder renews a lease on it; a killed holder's row is taken over
//!   once the lease has run out.
//!
//! `auto` (the default) is `table` on a Galera cluster (`@@wsrep_on`) and `session` elsewhere.

#[cfg(any(feature = "postgres", feature = "mysql"))]
pub mod table;

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use sea_orm::{DatabaseConnection, DbBackend};
use sha2::{Digest, Sha256};

use crate::error::{EngineError, Result};

/// How often a waiter tries again.
const POLL: Duration = Duration::from_millis(200);

/// How long a table lock's lease lasts unless told otherwise (`--lock-lease`,
/// `MIGRATION_LOCK_LEASE`): a holder renews it every third of that, and a holder that stopped
/// renewing (killed, or cut off from the database) is taken over once it has run out.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(30);

/// How the migration lock is held. See the [module docs](self).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LockStrategy {
    /// `table` where the session lock does not exclude runners on other nodes (a Galera
    /// cluster), `session` elsewhere.
    #[default]
    Auto,
    /// The server's own lock for a session (advisory lock, `GET_LOCK`), or the lock file.
    Session,
    /// A replicated row in `<ledger>_lock` with a lease.
    Table,
}

impl LockStrategy {
    /// The word for it, as `--lock-strategy` and `MIGRATION_LOCK_STRATEGY` take it.
    pub fn as_str(self) -> &'static str {
        match self {
            LockStrategy::Auto => "auto",
            LockStrategy::Session => "session",
            LockStrategy::Table => "table",
        }
    }
}

impl fmt::Display for LockStrategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for LockStrategy {
    type Err = EngineError;

    /// `auto`, `session` or `table`, in any case, surrounding spaces ignored.
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(LockStrategy::Auto),
            "session" => Ok(LockStrategy::Session),
            "table" => Ok(LockStrategy::Table),
            _ => Err(EngineError::Config {
                message: format!(
                    "unknown lock strategy `{}` (--lock-strategy, MIGRATION_LOCK_STRATEGY); use auto, session or table",
                    s.trim()
                ),
            }),
        }
    }
}

/// How to take the lock: the strategy, the lease of a table lock, and how long to wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockOptions {
    /// See [`LockStrategy`].
    pub strategy: LockStrategy,
    /// How long a table lock's lease lasts; renewed every third of it while held.
    pub lease: Duration,
    /// How long to wait for another runner before giving up.
    pub timeout: Duration,
}

impl LockOptions {
    /// `auto`, the [`DEFAULT_LEASE`], waiting up to `timeout`.
    pub fn new(timeout: Duration) -> Self {
        Self {
            strategy: LockStrategy::Auto,
            lease: DEFAULT_LEASE,
            timeout,
        }
    }
}

/// Who holds the lock, as far as the server (or the lock file, or the lock row) can tell.
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
    /// Until when its lease lasts unless renewed (a table lock).
    pub lease_until: Option<DateTime<Utc>>,
}

impl Holder {
    /// A holder nothing is known about.
    pub fn unknown() -> Self {
        Self {
            command: None,
            host: None,
            pid: None,
            since: None,
            lease_until: None,
        }
    }

    /// Where it runs: `<host> pid <pid>`, as far as known.
    pub fn place(&self) -> String {
        match (&self.host, &self.pid) {
            (Some(host), Some(pid)) => format!("{host} pid {pid}"),
            (Some(host), None) => host.clone(),
            (None, Some(pid)) => format!("pid {pid}"),
            (None, None) => "another runner".to_owned(),
        }
    }
}

impl Holder {
    /// `running on <host> pid <pid>`, then what it runs and since when, as far as known: how
    /// `status` and the refusals of reads without the lock describe a runner at work.
    pub fn running_on(&self) -> String {
        let mut about = Vec::new();
        if let Some(command) = &self.command {
            about.push(format!("`{command}`"));
        }
        if let Some(since) = self.since {
            about.push(format!("since {}", since.format("%Y-%m-%d %H:%M:%S UTC")));
        }
        if let Some(until) = self.lease_until {
            about.push(format!("lease until {}", until.format("%H:%M:%S UTC")));
        }
        if about.is_empty() {
            format!("running on {}", self.place())
        } else {
            format!("running on {} ({})", self.place(), about.join(", "))
        }
    }
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
        if let Some(until) = self.lease_until {
            parts.push(format!("lease until {}", until.format("%H:%M:%S UTC")));
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
/// Dropping it without `release` also frees it (the connection closes, the file unlocks; a
/// table lock's row is taken over once its lease has run out), just less promptly: call
/// `release` on every path you can.
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
    #[cfg(any(feature = "postgres", feature = "mysql"))]
    Table(Box<table::Lock>),
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
            #[cfg(any(feature = "postgres", feature = "mysql"))]
            Held::Table(lock) => lock.to_string(),
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

/// The name of the lock table of the ledger `ledger_table`: `<ledger>_lock`, in the ledger's
/// schema.
pub fn lock_table_name(ledger_table: &str) -> String {
    format!("{ledger_table}_lock")
}

#[cfg(any(feature = "postgres", feature = "mysql"))]
pub(super) fn lock_error(context: &'static str) -> impl Fn(sqlx::Error) -> EngineError {
    move |e| EngineError::Lock {
        detail: format!("{context}: {e}"),
    }
}

/// The strategy `requested` comes to on the database `conn` points at: `auto` asks the server
/// (MySQL/MariaDB: whether it is a Galera node, [`super::mysql::is_galera`]).
///
/// # Errors
/// [`EngineError::Lock`] when the server cannot be asked.
pub async fn resolve(conn: &DatabaseConnection, requested: LockStrategy) -> Result<LockStrategy> {
    match (requested, conn.get_database_backend()) {
        (LockStrategy::Auto, DbBackend::MySql) => Ok(if super::mysql::is_galera(conn).await? {
            LockStrategy::Table
        } else {
            LockStrategy::Session
        }),
        (LockStrategy::Auto, _) => Ok(LockStrategy::Session),
        (chosen, _) => Ok(chosen),
    }
}

/// Why SQLite takes no table lock. Its writers queue on one database-wide write lock: a
/// renewal of the lease would wait behind the migration's own open write transaction (every run
/// on SQLite shares one), so a long run would lose its lease; and the lock file already
/// excludes every runner that can open the file.
#[cfg(feature = "sqlite")]
fn sqlite_has_no_table_lock() -> EngineError {
    EngineError::Config {
        message: "the `table` lock strategy needs a database server: SQLite's writers queue on one write lock, and its lock file already excludes every runner of the database; use --lock-strategy session or auto (MIGRATION_LOCK_STRATEGY)".to_owned(),
    }
}

impl MigrationLock {
    /// Takes the lock for the database `conn` points at, as `options` say, waiting up to
    /// `options.timeout`.
    ///
    /// `waiting` is called once when the lock is found taken, with whoever holds it, so the
    /// caller can say why it waits.
    ///
    /// # Errors
    /// [`EngineError::LockTimeout`] naming the holder when the timeout passes first;
    /// [`EngineError::Lock`] when the lock cannot be asked for at all;
    /// [`EngineError::Config`] for the `table` strategy on SQLite.
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
        options: &LockOptions,
        mut waiting: impl FnMut(&Holder),
    ) -> Result<Self> {
        let timeout = options.timeout;
        let deadline = Instant::now() + timeout;
        let mut told = false;
        let mut wait = |holder: Option<Holder>| -> Result<()> {
            let holder = holder.unwrap_or_else(Holder::unknown);
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
        let strategy = resolve(conn, options.strategy).await?;
        match conn.get_database_backend() {
            #[cfg(feature = "sqlite")]
            DbBackend::Sqlite if strategy == LockStrategy::Table => Err(sqlite_has_no_table_lock()),
            #[cfg(any(feature = "postgres", feature = "mysql"))]
            DbBackend::Postgres | DbBackend::MySql if strategy == LockStrategy::Table => {
                let mut lock = table::Lock::open(conn, scope, me, options.lease).await?;
                loop {
                    if lock.try_take().await? {
                        lock.hold();
                        return Ok(Self {
                            held: Held::Table(Box::new(lock)),
                        });
                    }
                    wait(lock.holder().await)?;
                    tokio::time::sleep(POLL).await;
                }
            }
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

    /// The strategy the lock was taken with: `session` or `table`, never `auto`.
    pub fn strategy(&self) -> LockStrategy {
        match &self.held {
            #[cfg(any(feature = "postgres", feature = "mysql"))]
            Held::Table(_) => LockStrategy::Table,
            #[allow(unreachable_patterns)]
            _ => LockStrategy::Session,
        }
    }

    /// The token a table lock's row holds, which the ledger's `running` rows record so that
    /// readers can tell a runner at work from one that is gone; `None` for a session lock.
    pub fn token(&self) -> Option<&str> {
        match &self.held {
            #[cfg(any(feature = "postgres", feature = "mysql"))]
            Held::Table(lock) => Some(lock.token()),
            #[allow(unreachable_patterns)]
            _ => None,
        }
    }

    /// Gives the lock back and closes its connection.
    ///
    /// # Errors
    /// [`EngineError::Lock`] if the server refused, or (a table lock) when the lock was lost:
    /// its lease ran out and another runner took it over. A session lock is freed anyway when
    /// the connection closes.
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
            #[cfg(any(feature = "postgres", feature = "mysql"))]
            Held::Table(lock) => lock.release().await,
        }
    }

    /// Lets the lock go before the database is dropped and created again under it (a reset
    /// from a cached copy), which ends every connection to it: a session lock goes with them;
    /// a table lock's row is deleted first and its connections closed, so that the copy holds
    /// no lock and no connection of the lock's gets in the way of the copying. Releasing
    /// afterwards does nothing more.
    pub async fn let_go(&mut self) {
        #[cfg(any(feature = "postgres", feature = "mysql"))]
        if let Held::Table(lock) = &mut self.held {
            lock.let_go().await;
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
            #[cfg(any(feature = "postgres", feature = "mysql"))]
            Held::Table(lock) => lock.cancel(session).await,
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
            #[cfg(any(feature = "postgres", feature = "mysql"))]
            Held::Table(lock) => lock.execute(sql).await,
        }
    }
}

/// The lease on the lock table of `scope` as `conn` reads it now: who holds it, with which
/// token, and whether the lease is still running; `None` when there is no lock table or no row
/// (no runner holds a table lock). What tells a `running` ledger row's runner at work from one
/// that is gone.
///
/// # Errors
/// A database error other than the lock table being absent.
pub async fn lease_of(
    conn: &DatabaseConnection,
    scope: &impl LockScope,
) -> std::result::Result<Option<Lease>, sea_orm::DbErr> {
    #[cfg(any(feature = "postgres", feature = "mysql"))]
    if matches!(
        conn.get_database_backend(),
        DbBackend::Postgres | DbBackend::MySql
    ) {
        return table::lease_of(conn, scope).await;
    }
    let _ = (conn, scope);
    Ok(None)
}

/// A table lock's row, as read by [`lease_of`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// The holder's token, which its `running` ledger rows record.
    pub token: String,
    /// Who holds it.
    pub holder: Holder,
    /// Whether its lease was still running when read (by the server's clock).
    pub live: bool,
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
            lease_until: None,
        };
        assert_eq!(holder.to_string(), "`migrate up`, on web-1, pid 42");
        assert_eq!(holder.place(), "web-1 pid 42");
        assert_eq!(Holder::unknown().to_string(), "another session");
    }

    #[test]
    fn a_table_holder_says_until_when_its_lease_lasts() {
        let at = |s: i64| DateTime::from_timestamp(1_767_225_600 + s, 0).unwrap();
        let holder = Holder {
            command: Some("migrate up".to_owned()),
            host: Some("web-1".to_owned()),
            pid: Some("42".to_owned()),
            since: Some(at(0)),
            lease_until: Some(at(30)),
        };
        assert_eq!(
            holder.to_string(),
            "`migrate up`, on web-1, pid 42, since 2026-01-01 00:00:00 UTC, lease until 00:00:30 UTC"
        );
    }

    #[test]
    fn a_lock_strategy_is_one_of_three_words_and_anything_else_names_them() {
        for (word, strategy) in [
            ("auto", LockStrategy::Auto),
            ("session", LockStrategy::Session),
            (" Table ", LockStrategy::Table),
        ] {
            assert_eq!(word.parse::<LockStrategy>().unwrap(), strategy);
        }
        assert_eq!(LockStrategy::default(), LockStrategy::Auto);
        let refused = "galera".parse::<LockStrategy>().unwrap_err().to_string();
        assert_eq!(
            refused,
            "unknown lock strategy `galera` (--lock-strategy, MIGRATION_LOCK_STRATEGY); use auto, session or table"
        );
    }

    #[test]
    fn the_lock_table_takes_the_ledger_as_prefix() {
        assert_eq!(
            lock_table_name("schema_migrations"),
            "schema_migrations_lock"
        );
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
