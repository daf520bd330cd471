//! A migration session: one command's hold on one target.
//!
//! A [`Session`] has its own connection (never an application's pool), takes the migration lock
//! before anything reads the ledger, sets the session timeouts on that connection, and knows
//! the server's id for it, so that an interrupted run can cancel the statement it is running
//! from the lock's connection. Its guard refuses destructive work on the wrong database.
//! [`Session::close`] always releases the lock, and keeps both errors when the work and the
//! release both fail (as golang-migrate's `unlockErr` does).
//!
//! Everything that changes a schema runs in a session: the operations of
//! [`super::operations::Operations`] are reachable only from one, so no library caller can
//! change a schema without the lock. Read-only work (status, history, dry-runs, schema dumps)
//! needs no session and uses [`super::Engine`] directly.

use std::future::Future;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseConnection};

use crate::backend;
use crate::backend::lock::{Holder, Identity, LockOptions, LockStrategy, MigrationLock};
use crate::backend::target::Target;
use crate::error::{EngineError, Result};
use crate::exec::guard::Guard;
use crate::store::ledger::Ledger;

/// How long a session waits for its connection unless told otherwise, as `--connect-timeout`.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a session waits for another runner's lock unless told otherwise, as
/// `--lock-timeout` (`MIGRATION_LOCK_TIMEOUT`).
const LOCK_TIMEOUT: Duration = Duration::from_secs(60);

/// How a session is opened.
#[derive(Debug, Clone)]
pub struct SessionOptions {
    /// What the session runs, as waiters for its lock are told (`migrate up`, `run_pending`).
    pub command: String,
    /// How long connecting may take.
    pub connect_timeout: Duration,
    /// How long to wait for another runner's lock before giving up.
    pub lock_timeout: Duration,
    /// How the lock is held (`--lock-strategy`, `MIGRATION_LOCK_STRATEGY`): see
    /// [`LockStrategy`].
    pub lock_strategy: LockStrategy,
    /// The lease of a table lock (`--lock-lease`, `MIGRATION_LOCK_LEASE`), renewed every
    /// third of it while held; a holder killed without releasing is taken over once it has run
    /// out.
    pub lock_lease: Duration,
    /// How long one DDL statement may wait for a table lock; the server's setting when `None`.
    pub lock_timeout_ddl: Option<Duration>,
    /// How long one statement may run; the server's setting when `None`.
    pub statement_timeout: Option<Duration>,
    /// With `lock_timeout_ddl`: the ladder on which a migration whose statement timed out
    /// waiting for a table lock is tried again, where that is safe ([`crate::exec::retry`]).
    pub lock_retry: Option<crate::exec::retry::LockRetry>,
    /// `--force`: the guard allows destructive work wherever it would refuse it.
    pub force: bool,
}

impl SessionOptions {
    /// Options for a session running `command`: a 10 s connect timeout, a 60 s lock timeout,
    /// the `auto` lock strategy with a 30 s lease, the server's statement timeouts, and the
    /// guard on.
    pub fn new(command: impl Into<String>) -> Self {
        Self {
            command: command.into(),
            connect_timeout: CONNECT_TIMEOUT,
            lock_timeout: LOCK_TIMEOUT,
            lock_strategy: LockStrategy::Auto,
            lock_lease: crate::backend::lock::DEFAULT_LEASE,
            lock_timeout_ddl: None,
            statement_timeout: None,
            lock_retry: None,
            force: false,
        }
    }
}

/// An error that can also carry the error of releasing the session its work ran in, so that
/// [`Session::close`] loses neither.
pub trait WithRelease: From<EngineError> {
    /// This error, followed by `release`, the error releasing the session ended with.
    #[must_use]
    fn with_release(self, release: EngineError) -> Self;
}

impl WithRelease for EngineError {
    fn with_release(self, release: EngineError) -> Self {
        EngineError::ReleaseFailed {
            error: Box::new(self),
            release: Box::new(release),
        }
    }
}

/// One command's hold on one target: its connection, the migration lock, the session timeouts,
/// the cancel handle and the guard. See the [module docs](self).
pub struct Session {
    conn: DatabaseConnection,
    ledger: Ledger,
    // Behind a mutex so that an interrupt can cancel through the lock's connection while the
    // interrupted work still borrows the session.
    lock: tokio::sync::Mutex<MigrationLock>,
    /// The server's id for `conn`, which an interrupt cancels; `None` on SQLite.
    server_id: Option<i64>,
    /// The token of a table lock, which the ledger's `running` rows record.
    runner: Option<String>,
    /// The strategy the lock was taken with.
    strategy: LockStrategy,
    guard: Guard,
    /// Destructive actions the guard has allowed in this session, so each is checked once.
    allowed: Mutex<Vec<String>>,
    target: Option<Target>,
    /// The target's URL without its password, for messages.
    shown: String,
    /// `conn` is the application's own pool (an in-memory SQLite database), never closed here.
    shared: bool,
    /// The database was dropped and created again under the session (a reset from a cached
    /// copy on PostgreSQL): its connections, and the lock with them, are gone.
    replaced: std::sync::atomic::AtomicBool,
    /// The lock timeout of DDL and the ladder of retries, when both are set.
    ladder: Option<(Duration, crate::exec::retry::LockRetry)>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("target", &self.shown)
            .field("ledger", &self.ledger.table_name())
            .field("server_id", &self.server_id)
            .finish_non_exhaustive()
    }
}

/// Where a session's connection came from and what it may be called.
struct Opening {
    conn: DatabaseConnection,
    ledger: Ledger,
    guard: Guard,
    target: Option<Target>,
    shown: String,
    shared: bool,
}

impl Session {
    /// Connects to `target` and opens a session on that connection (see
    /// [`Session::on_connection`]).
    ///
    /// # Errors
    /// [`EngineError::Connect`] when the database cannot be reached, and what
    /// [`Session::on_connection`] fails with.
    pub async fn open(
        target: &Target,
        options: &SessionOptions,
        waiting: impl FnMut(&Holder),
    ) -> Result<Self> {
        let conn = target.connect(options.connect_timeout).await?;
        Self::on_connection(conn, target, options, waiting).await
    }

    /// Opens a session on `conn`, a connection [`Target::connect`] opened to `target` (for a
    /// caller that read the ledger on it first to see whether there is anything to do): takes
    /// the lock of the target's ledger, waiting up to `options.lock_timeout` and calling
    /// `waiting` once with the holder if it has to wait, then sets the session timeouts.
    ///
    /// # Errors
    /// [`EngineError::LockTimeout`] naming the holder; [`EngineError::Lock`] when the lock
    /// cannot be asked for; [`EngineError::Config`] when the server refuses a timeout.
    pub async fn on_connection(
        conn: DatabaseConnection,
        target: &Target,
        options: &SessionOptions,
        waiting: impl FnMut(&Holder),
    ) -> Result<Self> {
        Self::on_ledger(conn, Ledger::of(target), target, options, waiting).await
    }

    /// [`Session::on_connection`] for `ledger`, which an engine built on `conn` reads: the
    /// session locks the ledger its operations write.
    pub(crate) async fn on_ledger(
        conn: DatabaseConnection,
        ledger: Ledger,
        target: &Target,
        options: &SessionOptions,
        waiting: impl FnMut(&Holder),
    ) -> Result<Self> {
        let opening = Opening {
            conn,
            ledger,
            guard: Guard::from_env(target, options.force),
            target: Some(target.clone()),
            shown: target.redacted(),
            shared: false,
        };
        Self::start(opening, options, waiting).await
    }

    /// Opens a session beside an application's connection `db`: a connection of its own with
    /// the same settings, so that the lock wait, the session timeouts and open transactions
    /// never reach the application's pool, on the database schema `database_schema` when given
    /// (the PostgreSQL search path, as `--database-schema` sets it). An in-memory SQLite
    /// database exists only inside the application's pool, so that pool is used itself. The
    /// ledger is `ledger`; see [`Session::on_connection`] for the rest.
    ///
    /// # Errors
    /// [`EngineError::Database`] when the connection cannot be opened, and what
    /// [`Session::on_connection`] fails with.
    pub async fn beside(
        db: &DatabaseConnection,
        database_schema: Option<&str>,
        ledger: Ledger,
        options: &SessionOptions,
        waiting: impl FnMut(&Holder),
    ) -> Result<Self> {
        let conn = backend::own_connection(db, database_schema).await?;
        let shared = backend::is_shared(db, &conn);
        let shown = backend::url_of(&conn);
        let opening = Opening {
            conn,
            ledger,
            guard: Guard::from_env_for_url(&shown, options.force),
            target: None,
            shown,
            shared,
        };
        Self::start(opening, options, waiting).await
    }

    async fn start(
        opening: Opening,
        options: &SessionOptions,
        waiting: impl FnMut(&Holder),
    ) -> Result<Self> {
        let Opening {
            conn,
            ledger,
            guard,
            target,
            shown,
            shared,
        } = opening;
        let me = Identity::current(options.command.clone());
        let lock_options = LockOptions {
            strategy: options.lock_strategy,
            lease: options.lock_lease,
            timeout: options.lock_timeout,
        };
        let lock = match MigrationLock::acquire(&conn, &ledger, &me, &lock_options, waiting).await {
            Ok(lock) => lock,
            Err(e) => {
                close(conn, shared).await;
                return Err(e);
            }
        };
        for sql in backend::session_timeouts(
            ledger.backend(),
            options.lock_timeout_ddl,
            options.statement_timeout,
        ) {
            if let Err(e) = conn.execute_unprepared(&sql).await {
                let refused = EngineError::Config {
                    message: format!("the server refused `{sql}`: {e}; drop the timeout option"),
                };
                let released = lock.release().await;
                close(conn, shared).await;
                return Err(match released {
                    Ok(()) => refused,
                    Err(release) => refused.with_release(release),
                });
            }
        }
        let server_id = backend::session_id(&conn).await;
        let runner = lock.token().map(str::to_owned);
        let strategy = lock.strategy();
        Ok(Self {
            conn,
            ledger,
            lock: tokio::sync::Mutex::new(lock),
            server_id,
            runner,
            strategy,
            guard,
            allowed: Mutex::new(Vec::new()),
            target,
            shown,
            shared,
            replaced: std::sync::atomic::AtomicBool::new(false),
            ladder: options
                .lock_timeout_ddl
                .zip(options.lock_retry)
                .filter(|(_, retry)| retry.attempts > 1),
        })
    }

    /// The lock timeout of DDL and the ladder of retries of this session, when both are set.
    pub(crate) fn ladder(&self) -> Option<(Duration, crate::exec::retry::LockRetry)> {
        self.ladder
    }

    /// The token of the table lock this session holds, which the `running` ledger rows it
    /// writes record; `None` under a session lock.
    pub fn runner(&self) -> Option<&str> {
        self.runner.as_deref()
    }

    /// The strategy the session's lock was taken with: `session` or `table`.
    pub fn lock_strategy(&self) -> LockStrategy {
        self.strategy
    }

    /// The session's connection. Work done on it runs under the lock.
    pub fn connection(&self) -> &DatabaseConnection {
        &self.conn
    }

    /// The ledger of the target, whose lock the session holds.
    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    /// The target, for a session opened on one (not for one opened [`Session::beside`] an
    /// application's connection).
    pub fn target(&self) -> Option<&Target> {
        self.target.as_ref()
    }

    /// The target's URL without its password: the form messages show.
    pub fn redacted(&self) -> &str {
        &self.shown
    }

    /// The environment the database was first migrated in, as its ledger records it.
    ///
    /// # Errors
    /// A database error reading the ledger.
    pub async fn stored_environment(&self) -> Result<Option<String>> {
        self.ledger
            .first_environment(&self.conn)
            .await
            .map_err(EngineError::db("reading the ledger"))
    }

    /// Refuses `action` (a phrase such as "revert every migration") unless the guard allows it
    /// on this target, judging from `APP_ENV`, the protected URLs, `--force` and the
    /// environment the ledger recorded. An allowed action is remembered, so the operation that
    /// performs it does not read the ledger again.
    ///
    /// # Errors
    /// [`EngineError::Guarded`] with the reason and the fix; a database error reading the
    /// ledger.
    pub async fn guard(&self, action: &str) -> Result<()> {
        if self.allowed().iter().any(|a| a == action) {
            return Ok(());
        }
        let stored = self.stored_environment().await?;
        self.guard
            .clone()
            .with_stored_environment(stored)
            .check(action)?;
        self.allowed().push(action.to_owned());
        Ok(())
    }

    /// Whether the guard protects this session's database (production, a database first
    /// migrated in production or elsewhere, a protected URL), `--force` or not.
    ///
    /// # Errors
    /// A database error reading the stored environment.
    pub async fn protected(&self) -> Result<bool> {
        let stored = self.stored_environment().await?;
        Ok(self
            .guard
            .clone()
            .with_stored_environment(stored)
            .protects())
    }

    fn allowed(&self) -> std::sync::MutexGuard<'_, Vec<String>> {
        // The list is only ever pushed to: one a panic interrupted is still sound.
        self.allowed.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `work` until it ends or `stop` resolves with the name of a signal. On a stop the
    /// work is dropped, the statement the session's connection runs is cancelled from the lock's
    /// connection (PostgreSQL `pg_cancel_backend`, MySQL `KILL QUERY`), so PostgreSQL rolls its
    /// transaction back at once (SQLite's goes with the process), and on MySQL/MariaDB the
    /// migration that was running is marked failed. The lock is released by
    /// [`Session::close`], as on every path.
    ///
    /// # Errors
    /// What `work` ends with; [`EngineError::Interrupted`], saying what was cleaned up, when
    /// `stop` comes first.
    pub async fn interruptible<T, E: From<EngineError>>(
        &self,
        work: impl Future<Output = std::result::Result<T, E>>,
        stop: impl Future<Output = &'static str>,
    ) -> std::result::Result<T, E> {
        tokio::select! {
            outcome = work => outcome,
            signal = stop => Err(self.interrupt(signal).await.into()),
        }
    }

    /// Cleans up after `signal` stopped the session's work, and says how.
    async fn interrupt(&self, signal: &'static str) -> EngineError {
        let mut lock = self.lock.lock().await;
        let mut cleanup = Vec::new();
        if let Some(id) = self.server_id {
            match lock.cancel(id).await {
                Ok(()) => cleanup.push("the running statement was cancelled"),
                Err(_) => cleanup.push("the running statement could not be cancelled"),
            }
        }
        let can = backend::capabilities(self.ledger.backend());
        if !can.transactional_ddl {
            // The migration's DDL committed itself (MySQL/MariaDB, the one backend without
            // transactional DDL), so its `running` row would stay: it is marked failed from the
            // lock's connection, as the session's own was cancelled.
            let mark = self
                .ledger
                .fail_running(&format!("interrupted by {signal}"))
                .to_string(sea_orm::sea_query::MysqlQueryBuilder);
            if lock.execute(&mark).await.is_ok() {
                cleanup.push(
                    "a migration that had started is marked failed: inspect the schema, then run `migrate repair`",
                );
            }
        } else if can.one_transaction_per_run {
            cleanup.push("this run's migrations were rolled back (on SQLite they commit together)");
        } else {
            cleanup.push("the migration in progress was rolled back");
        }
        cleanup.push("the lock is released");
        EngineError::Interrupted {
            signal,
            cleanup: cleanup.join("; "),
        }
    }

    /// Says that the database is about to be dropped and created again under the session, which
    /// ends its connections: the lock then goes with them (a table lock's row is deleted first,
    /// so the copy holds none), and releasing it is not attempted.
    pub(crate) async fn database_replaced(&self) {
        self.lock.lock().await.let_go().await;
        self.replaced
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// Releases the lock and closes the session's connection.
    ///
    /// # Errors
    /// [`EngineError::Lock`] when the server refused to release; the lock is freed anyway once
    /// its connection closes.
    pub async fn release(self) -> Result<()> {
        if self.replaced.load(std::sync::atomic::Ordering::SeqCst) {
            drop(self.lock);
            close(self.conn, self.shared).await;
            return Ok(());
        }
        let released = self.lock.into_inner().release().await;
        close(self.conn, self.shared).await;
        released
    }

    /// Releases the session after work that ended with `outcome`, and returns that outcome,
    /// unless releasing failed: then the release's error, joined to the work's when both
    /// failed.
    ///
    /// # Errors
    /// The work's error (with the release's, when both failed), or the release's.
    pub async fn close<T, E: WithRelease>(
        self,
        outcome: std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        let released = self.release().await;
        match (outcome, released) {
            (Ok(value), Ok(())) => Ok(value),
            (Ok(_), Err(release)) => Err(E::from(release)),
            (Err(error), Ok(())) => Err(error),
            (Err(error), Err(release)) => Err(error.with_release(release)),
        }
    }
}

/// Closes a session's connection unless it is the application's own pool.
async fn close(conn: DatabaseConnection, shared: bool) {
    if !shared {
        // Closing only returns the connection to the server early; a failure loses nothing.
        let _ = conn.close().await;
    }
}
