//! The table lock: one row in the lock table `<ledger>_lock`, beside the ledger in its schema,
//! holding who has the lock (a token of its own, host, pid, command), since when, and until
//! when its lease lasts.
//!
//! It is a lock where the server's own session locks are not: on a Galera cluster `GET_LOCK`
//! holds on one node only, while a row replicates to every node like any other, and two nodes
//! writing it at once conflict at certification, where one of the writes fails (1213). So:
//!
//! - **take**: insert the row; a row already there is the lock taken, unless its lease has run
//!   out by the server's clock, in which case one `UPDATE … WHERE expires_at < now` takes it
//!   over (whoever changed the row won; a lost certification leaves it to the other).
//! - **hold**: a task of its own, on a connection of its own (opened when it first renews),
//!   renews the lease every third of it, so a holder that is killed (SIGKILL, a lost host)
//!   leaves a row that is taken over at most one lease later.
//! - **release**: delete the row, if it is still ours.
//!
//! Every statement that fails because a concurrent one won (a deadlock, a serialization
//! failure, a lost certification: [`crate::backend::is_conflict`]) is simply run again: each
//! is a single statement whose effect is decided by the row it finds. The lock table is created
//! when the first runner finds it missing, `IF NOT EXISTS`, and a creation that loses to
//! another is fine.
//!
//! Leases are measured by the server's clock ([`crate::backend::LeaseClock`]): one clock for
//! every runner, however far the runners' own clocks drift.

use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use sea_orm::sea_query::{
    Alias, ColumnDef, Expr, ExprTrait, IntoTableRef, Query, SelectStatement, Table, TableRef,
};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, ExecResult, Statement};
use sha2::{Digest, Sha256};
use tokio::sync::oneshot;
use tracing::{info, warn};

use super::{Holder, Identity, Lease, LockScope, hex, lock_table_name};
use crate::backend::{self, LeaseClock};
use crate::error::{EngineError, Result};

mod col {
    pub const NAME: &str = "name";
    pub const TOKEN: &str = "token";
    pub const HOST: &str = "host";
    pub const PID: &str = "pid";
    pub const COMMAND: &str = "command";
    pub const ACQUIRED_AT: &str = "acquired_at";
    pub const EXPIRES_AT: &str = "expires_at";
    pub const SERVER_NOW: &str = "server_now";
}

/// How many times a statement that lost to a concurrent one is run in all.
const ATTEMPTS: u32 = 30;

/// The lock table of `scope`, in the ledger's schema.
fn table_of(scope: &impl LockScope) -> TableRef {
    let name = lock_table_name(scope.table_name());
    match scope.schema() {
        Some(schema) => (Alias::new(schema), Alias::new(name)).into_table_ref(),
        None => Alias::new(name).into_table_ref(),
    }
}

/// The lock table's name as messages show it: `schema.table`, or `table`.
fn shown(scope: &impl LockScope) -> String {
    let name = lock_table_name(scope.table_name());
    match scope.schema() {
        Some(schema) => format!("{schema}.{name}"),
        None => name,
    }
}

fn clock_of(backend: DbBackend) -> Result<LeaseClock> {
    backend::lease_clock(backend).ok_or_else(|| EngineError::Lock {
        detail: format!("{} has no table lock", backend::name(backend)),
    })
}

fn micros(d: Duration) -> i64 {
    i64::try_from(d.as_micros()).unwrap_or(i64::MAX)
}

/// A token no other holder has: a digest of this host, process, command, the time and a
/// counter of this process.
fn new_token(me: &Identity) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let mut hash = Sha256::new();
    hash.update(me.host.as_bytes());
    hash.update([0]);
    hash.update(me.pid.to_be_bytes());
    hash.update(me.command.as_bytes());
    hash.update([0]);
    hash.update(nanos.to_be_bytes());
    hash.update(COUNTER.fetch_add(1, Ordering::Relaxed).to_be_bytes());
    hex(&hash.finalize()[..16])
}

/// Runs `statement` until it does not lose to a concurrent one (see the [module docs](self)),
/// pausing a little longer, and a little differently, before each new try.
async fn retrying<T, F, Fut>(mut statement: F) -> std::result::Result<T, DbErr>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = std::result::Result<T, DbErr>>,
{
    let mut pause = Duration::from_millis(5);
    let mut attempt = 1;
    loop {
        match statement().await {
            Err(e) if backend::is_conflict(&e) && attempt < ATTEMPTS => {
                // Two runners that conflicted must not retry in step.
                let spread = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map(|d| d.subsec_nanos())
                    .unwrap_or_default();
                let jitter = Duration::from_micros(u64::from(spread % 1000) * 5);
                tokio::time::sleep(pause + jitter).await;
                pause = (pause * 2).min(Duration::from_millis(250));
                attempt += 1;
            }
            outcome => return outcome,
        }
    }
}

/// Runs `statement` on `conn`, again while it loses to a concurrent one.
async fn run(
    conn: &DatabaseConnection,
    statement: &Statement,
) -> std::result::Result<ExecResult, DbErr> {
    retrying(|| conn.execute_raw(statement.clone())).await
}

fn failed(context: &str) -> impl Fn(DbErr) -> EngineError + '_ {
    move |e| EngineError::Lock {
        detail: format!("{context}: {e}"),
    }
}

/// The statements of one holder's lock, built once.
struct Statements {
    create_schema: Option<String>,
    create_table: Statement,
    insert: Statement,
    take_over: Statement,
    renew: Statement,
    delete: Statement,
    read: Statement,
}

impl Statements {
    fn new(
        backend: DbBackend,
        scope: &impl LockScope,
        me: &Identity,
        token: &str,
        lease: Duration,
    ) -> Result<Self> {
        let clock = clock_of(backend)?;
        let table = table_of(scope);
        let key = scope.table_name().to_owned();
        let now = || Expr::cust(clock.now);
        let later = || Expr::cust_with_values(clock.later, [micros(lease)]);
        let ours = || {
            Expr::col(Alias::new(col::NAME))
                .eq(key.clone())
                .and(Expr::col(Alias::new(col::TOKEN)).eq(token))
        };
        let create_table = Table::create()
            .table(table.clone())
            .if_not_exists()
            .col(
                ColumnDef::new(Alias::new(col::NAME))
                    .string_len(255)
                    .not_null()
                    .primary_key(),
            )
            .col(
                ColumnDef::new(Alias::new(col::TOKEN))
                    .string_len(64)
                    .not_null(),
            )
            .col(
                ColumnDef::new(Alias::new(col::HOST))
                    .string_len(255)
                    .not_null(),
            )
            .col(
                ColumnDef::new(Alias::new(col::PID))
                    .big_integer()
                    .not_null(),
            )
            .col(
                ColumnDef::new(Alias::new(col::COMMAND))
                    .string_len(255)
                    .not_null(),
            )
            .col(backend::timestamp_column(backend, col::ACQUIRED_AT))
            .col(backend::timestamp_column(backend, col::EXPIRES_AT))
            .to_owned();
        let holder_values = [
            (col::TOKEN, Expr::val(token)),
            (col::HOST, Expr::val(me.host.clone())),
            (col::PID, Expr::val(i64::from(me.pid))),
            (col::COMMAND, Expr::val(me.command.clone())),
            (col::ACQUIRED_AT, now()),
            (col::EXPIRES_AT, later()),
        ];
        let mut insert = Query::insert();
        insert
            .into_table(table.clone())
            .columns(
                std::iter::once(col::NAME)
                    .chain(holder_values.iter().map(|(c, _)| *c))
                    .map(Alias::new),
            )
            .values_panic(
                std::iter::once(Expr::val(key.clone()))
                    .chain(holder_values.iter().map(|(_, v)| v.clone())),
            );
        let mut take_over = Query::update();
        take_over.table(table.clone());
        for (column, value) in holder_values {
            take_over.value(Alias::new(column), value);
        }
        take_over
            .and_where(Expr::col(Alias::new(col::NAME)).eq(key.clone()))
            .and_where(Expr::col(Alias::new(col::EXPIRES_AT)).lt(now()));
        let renew = Query::update()
            .table(table.clone())
            .value(Alias::new(col::EXPIRES_AT), later())
            .and_where(ours())
            .to_owned();
        let delete = Query::delete()
            .from_table(table.clone())
            .and_where(ours())
            .to_owned();
        Ok(Self {
            create_schema: scope
                .schema()
                .filter(|_| backend == DbBackend::Postgres)
                .map(|s| format!("CREATE SCHEMA IF NOT EXISTS \"{}\"", s.replace('"', "\"\""))),
            create_table: backend.build(&create_table),
            insert: backend.build(&insert),
            take_over: backend.build(&take_over),
            renew: backend.build(&renew),
            delete: backend.build(&delete),
            read: backend.build(&read_row(scope, clock)),
        })
    }
}

/// The lock row of `scope`, with the server's time beside it.
fn read_row(scope: &impl LockScope, clock: LeaseClock) -> SelectStatement {
    Query::select()
        .columns(
            [
                col::TOKEN,
                col::HOST,
                col::PID,
                col::COMMAND,
                col::ACQUIRED_AT,
                col::EXPIRES_AT,
            ]
            .map(Alias::new),
        )
        .expr_as(Expr::cust(clock.now), Alias::new(col::SERVER_NOW))
        .from(table_of(scope))
        .and_where(Expr::col(Alias::new(col::NAME)).eq(scope.table_name()))
        .to_owned()
}

/// Reads the lock row `read` selects on `conn`: `None` without a row or without a lock table.
async fn read_lease(
    conn: &DatabaseConnection,
    read: &Statement,
) -> std::result::Result<Option<Lease>, DbErr> {
    let backend = conn.get_database_backend();
    let row = match retrying(|| conn.query_one_raw(read.clone())).await {
        Ok(row) => row,
        Err(e) if is_missing(&e) => return Ok(None),
        Err(e) => return Err(e),
    };
    let Some(row) = row else {
        return Ok(None);
    };
    let since = backend::read_timestamp(backend, &row, col::ACQUIRED_AT)?;
    let until = backend::read_timestamp(backend, &row, col::EXPIRES_AT)?;
    let now = backend::read_timestamp(backend, &row, col::SERVER_NOW)?;
    let pid: i64 = row.try_get("", col::PID)?;
    Ok(Some(Lease {
        token: row.try_get("", col::TOKEN)?,
        holder: Holder {
            command: row.try_get("", col::COMMAND).ok(),
            host: row.try_get("", col::HOST).ok(),
            pid: Some(pid.to_string()),
            since: Some(since),
            lease_until: Some(until),
        },
        live: until >= now,
    }))
}

/// Whether a statement failed because the lock table (or, on PostgreSQL, its schema) does not
/// exist yet.
fn is_missing(e: &DbErr) -> bool {
    backend::is_undefined_table(e) || backend::is_undefined_schema(e)
}

/// The lock row of `scope`'s lock table as `conn` reads it (see [`super::lease_of`]).
pub(super) async fn lease_of(
    conn: &DatabaseConnection,
    scope: &impl LockScope,
) -> std::result::Result<Option<Lease>, DbErr> {
    let backend = conn.get_database_backend();
    let Some(clock) = backend::lease_clock(backend) else {
        return Ok(None);
    };
    read_lease(conn, &backend.build(&read_row(scope, clock))).await
}

/// A table lock, taken or being asked for.
pub(crate) struct Lock {
    /// The lock's connection: taking, reading, cancelling, recording an interruption,
    /// releasing.
    control: DatabaseConnection,
    statements: Statements,
    table: String,
    token: String,
    lease: Duration,
    renewer: Option<Renewer>,
    /// The row as the last attempt to take the lock found it: who holds it.
    seen: Option<Lease>,
    /// Let go of before the database was replaced: nothing is left to release.
    gone: bool,
}

/// The task renewing a held lock's lease, on a connection of its own.
struct Renewer {
    stop: oneshot::Sender<()>,
    /// Ends with why the lock was lost, if it was.
    task: tokio::task::JoinHandle<Option<String>>,
}

impl fmt::Display for Lock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "lock row in {} (token {})", self.table, self.token)
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        // Dropped unreleased: the lease stops being renewed and runs out.
        if let Some(renewer) = self.renewer.take() {
            renewer.task.abort();
        }
    }
}

impl Lock {
    /// Opens the lock's connection beside `conn`, with its settings, for `me` with a lease of
    /// `lease`.
    pub(crate) async fn open(
        conn: &DatabaseConnection,
        scope: &impl LockScope,
        me: &Identity,
        lease: Duration,
    ) -> Result<Self> {
        let backend = conn.get_database_backend();
        let token = new_token(me);
        let statements = Statements::new(backend, scope, me, &token, lease)?;
        let control = backend::own_connection(conn, None)
            .await
            .map_err(|e| EngineError::Lock {
                detail: format!("opening the lock connection: {e}"),
            })?;
        Ok(Self {
            control,
            statements,
            table: shown(scope),
            token,
            lease,
            renewer: None,
            seen: None,
            gone: false,
        })
    }

    /// The token this lock's row holds while it is ours.
    pub(crate) fn token(&self) -> &str {
        &self.token
    }

    /// Takes the lock if it is free or its holder's lease has run out; never waits.
    pub(crate) async fn try_take(&mut self) -> Result<bool> {
        loop {
            match run(&self.control, &self.statements.insert).await {
                Ok(_) => return Ok(true),
                Err(e) if backend::is_unique_violation(&e) => break,
                Err(e) if is_missing(&e) => self.create_table().await?,
                Err(e) => return Err(failed("inserting the lock row")(e)),
            }
        }
        self.seen = read_lease(&self.control, &self.statements.read)
            .await
            .ok()
            .flatten();
        let Some(expired) = self.seen.clone().filter(|lease| !lease.live) else {
            return Ok(false);
        };
        let taken = run(&self.control, &self.statements.take_over)
            .await
            .map_err(failed("taking over the lock row"))?;
        if taken.rows_affected() == 0 {
            // Another runner took it over first: who that is, the next read says.
            self.seen = None;
            return Ok(false);
        }
        info!(
            "took over the migration lock from {}: its lease had run out",
            expired.holder
        );
        Ok(true)
    }

    /// Creates the lock table (and its PostgreSQL schema) where it does not exist yet; another
    /// runner creating it at the same time is fine.
    async fn create_table(&self) -> Result<()> {
        let context = "creating the lock table";
        if let Some(sql) = &self.statements.create_schema {
            match retrying(|| self.control.execute_unprepared(sql)).await {
                Ok(_) => {}
                Err(e) if created_by_another(&e) => {}
                Err(e) => return Err(failed(context)(e)),
            }
        }
        match run(&self.control, &self.statements.create_table).await {
            Ok(_) => Ok(()),
            Err(e) if created_by_another(&e) => Ok(()),
            Err(e) => Err(failed(context)(e)),
        }
    }

    /// Starts renewing the lease of the lock just taken, from a task of its own on a
    /// connection of its own, which it opens when it first renews: a run shorter than a third
    /// of the lease costs no connection more.
    pub(crate) fn hold(&mut self) {
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(renew(
            self.control.clone(),
            self.statements.renew.clone(),
            self.lease,
            stopped,
        ));
        self.renewer = Some(Renewer { stop, task });
    }

    /// Who holds the lock, as the last attempt to take it found the row (read again when that
    /// attempt could not read it).
    pub(crate) async fn holder(&mut self) -> Option<Holder> {
        if let Some(lease) = self.seen.take() {
            return Some(lease.holder);
        }
        read_lease(&self.control, &self.statements.read)
            .await
            .ok()
            .flatten()
            .map(|lease| lease.holder)
    }

    /// Stops renewing; why the lock was lost, if it was.
    async fn stop_renewing(&mut self) -> Option<String> {
        let renewer = self.renewer.take()?;
        let _ = renewer.stop.send(());
        match renewer.task.await {
            Ok(lost) => lost,
            Err(e) => Some(format!("the task renewing its lease ended: {e}")),
        }
    }

    /// Deletes the row if it is still ours and closes the connection.
    pub(crate) async fn release(mut self) -> Result<()> {
        let lost = self.stop_renewing().await;
        if self.gone {
            return Ok(());
        }
        let deleted = run(&self.control, &self.statements.delete).await;
        let _ = self.control.close_by_ref().await;
        let context = "releasing the lock row";
        match (lost, deleted) {
            (Some(reason), _) => Err(EngineError::Lock {
                detail: format!("{context}: the lock was lost while held: {reason}"),
            }),
            (None, Ok(done)) if done.rows_affected() > 0 => Ok(()),
            (None, Ok(_)) => Err(EngineError::Lock {
                detail: format!(
                    "{context}: the row was no longer ours: its lease ran out and another runner took the lock over"
                ),
            }),
            (None, Err(e)) => Err(failed(context)(e)),
        }
    }

    /// Deletes the row and closes both connections now (see
    /// [`super::MigrationLock::let_go`]).
    pub(crate) async fn let_go(&mut self) {
        if self.gone {
            return;
        }
        let _ = self.stop_renewing().await;
        let _ = run(&self.control, &self.statements.delete).await;
        let _ = self.control.close_by_ref().await;
        self.gone = true;
    }

    /// Cancels the statement server session `session` runs.
    pub(crate) async fn cancel(&mut self, session: i64) -> Result<()> {
        let Some(sql) = backend::cancel_statement(self.control.get_database_backend(), session)
        else {
            return Ok(());
        };
        self.control
            .execute_unprepared(&sql)
            .await
            .map(drop)
            .map_err(failed("cancelling the migration's statement"))
    }

    /// Runs `sql` on the lock's connection.
    pub(crate) async fn execute(&mut self, sql: &str) -> Result<()> {
        retrying(|| self.control.execute_unprepared(sql))
            .await
            .map(drop)
            .map_err(failed("writing through the lock connection"))
    }
}

/// Whether creating the lock table (or its schema) failed only because another runner created
/// it at the same moment: PostgreSQL's `IF NOT EXISTS` checks before it inserts into its
/// catalog, so of two at once one may fail on the catalog's unique index.
fn created_by_another(e: &DbErr) -> bool {
    backend::is_unique_violation(e) || backend::is_duplicate_object(e)
}

/// Renews the lease with `statement` every third of `lease` until `stop`, on a connection of
/// its own opened beside `control` (the lock's connection) when it first renews, and ends with
/// why the lock was lost if it was: the row was no longer ours (another runner took it over),
/// or no renewal went through for a whole lease.
async fn renew(
    control: DatabaseConnection,
    statement: Statement,
    lease: Duration,
    mut stop: oneshot::Receiver<()>,
) -> Option<String> {
    let every = lease / 3;
    let mut renewed = Instant::now();
    let mut conn: Option<DatabaseConnection> = None;
    let lost = loop {
        tokio::select! {
            _ = &mut stop => break None,
            () = tokio::time::sleep(every) => {}
        }
        if conn.is_none() {
            conn = backend::own_connection(&control, None).await.ok();
        }
        let outcome = match &conn {
            Some(conn) => run(conn, &statement).await.map_err(|e| e.to_string()),
            None => Err("the connection that renews the lease cannot be opened".to_owned()),
        };
        match outcome {
            Ok(done) if done.rows_affected() > 0 => renewed = Instant::now(),
            Ok(_) => {
                break Some("its lease ran out and another runner took the lock over".to_owned());
            }
            // A connection lost now is opened again at the next beat, within the lease.
            Err(e) if renewed.elapsed() < lease => {
                warn!("could not renew the migration lock's lease (trying again): {e}");
            }
            Err(e) => {
                break Some(format!(
                    "no renewal of its lease went through for {} s: {e}",
                    lease.as_secs()
                ));
            }
        }
    };
    if let Some(reason) = &lost {
        warn!("the migration lock is lost: {reason}");
    }
    if let Some(conn) = conn {
        let _ = conn.close().await;
    }
    lost
}
