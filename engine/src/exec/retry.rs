//! DDL that waits safely for its locks: with `--lock-timeout-ddl`, a migration whose statement
//! gave up waiting for a table lock is run again on a ladder of attempts, each allowed a longer
//! wait, with a jittered pause between them, where running it again is safe:
//!
//! - PostgreSQL and SQLite, an atomic migration: its transaction rolled back, nothing is left;
//! - a migration run outside a transaction (MariaDB/MySQL, or `use_transaction() == Some(false)`):
//!   only when the statement that timed out was its first, so that nothing of it has committed.
//!
//! Every retry is written to the history (outcome `retried`, with the error) and listed in the
//! run report. When the ladder is exhausted, the error names the sessions that held locks on
//! the migration's tables, read from the server's catalog (`pg_locks`, `INNODB_TRX`).

use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde::Serialize;
use std::time::Duration;

/// The ladder of attempts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LockRetry {
    /// How many times a migration is tried in all (1: no retry).
    pub attempts: u32,
    /// How much longer each attempt may wait for its lock than the one before (2.0: twice).
    pub growth: f64,
    /// The pause before the first retry, growing like the timeouts; each pause is jittered
    /// between half and all of it, so that runners blocked together do not retry together.
    pub pause: Duration,
}

impl Default for LockRetry {
    /// Three attempts, each waiting twice as long as the one before, one second's pause.
    fn default() -> Self {
        Self {
            attempts: 3,
            growth: 2.0,
            pause: Duration::from_secs(1),
        }
    }
}

impl LockRetry {
    /// The lock timeout of attempt `n` (1-based), from the first attempt's `base`.
    pub fn timeout(&self, base: Duration, n: u32) -> Duration {
        base.mul_f64(self.growth.max(1.0).powi(n.saturating_sub(1) as i32))
    }

    /// The pause before attempt `n` (2-based), jittered by `jitter` in `[0, 1)`.
    pub fn pause_before(&self, n: u32, jitter: f64) -> Duration {
        let full = self
            .pause
            .mul_f64(self.growth.max(1.0).powi(n.saturating_sub(2) as i32));
        full.mul_f64(0.5 + jitter.clamp(0.0, 1.0) / 2.0)
    }
}

/// A number in `[0, 1)` that differs from runner to runner and from call to call: enough to
/// spread retries, without a random number generator for it.
pub(crate) fn jitter() -> f64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let mixed =
        (u64::from(nanos) ^ u64::from(std::process::id())).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (mixed >> 11) as f64 / (1u64 << 53) as f64
}

/// One retry of a migration, as the run report lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Retry {
    /// The attempt that timed out (1-based).
    pub attempt: u32,
    /// The lock timeout that attempt had, in milliseconds.
    pub lock_timeout_ms: u64,
    /// The pause before the next attempt, in milliseconds.
    pub paused_ms: u64,
    /// The server's error.
    pub error: String,
}

/// Whole milliseconds of `d`, for reports.
pub(crate) fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Whether a database error is a statement giving up waiting for a lock (PostgreSQL's
/// `lock_timeout`, SQLSTATE 55P03; MariaDB/MySQL's `lock_wait_timeout`, error 1205).
pub(crate) fn is_lock_timeout(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    m.contains("lock timeout") || m.contains("55p03") || m.contains("lock wait timeout exceeded")
}

/// The sessions that hold locks on tables of this database (PostgreSQL) or have a transaction
/// open (MariaDB/MySQL), other than this one: who kept the migration waiting. `None` when the
/// server does not say (or on SQLite).
pub(crate) async fn holders<C: ConnectionTrait>(conn: &C, backend: DbBackend) -> Option<String> {
    let sql = match backend {
        // The advisory lock of the migration lock has no relation and is not listed.
        DbBackend::Postgres => {
            "SELECT a.pid::text AS who, coalesce(a.state, '') AS state, \
             coalesce(a.application_name, '') AS app, \
             coalesce(left(regexp_replace(a.query, '\\s+', ' ', 'g'), 120), '') AS query, \
             string_agg(DISTINCT c.relname, ', ') AS tables \
             FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid \
             JOIN pg_class c ON c.oid = l.relation \
             WHERE l.granted AND l.pid <> pg_backend_pid() \
             AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) \
             AND c.relkind IN ('r', 'p') AND c.relnamespace <> 'pg_catalog'::regnamespace \
             GROUP BY a.pid, a.state, a.application_name, a.query ORDER BY a.pid"
        }
        DbBackend::MySql => {
            "SELECT CAST(p.ID AS CHAR) AS who, COALESCE(p.COMMAND, '') AS state, \
             COALESCE(p.USER, '') AS app, COALESCE(LEFT(t.trx_query, 120), '') AS query, \
             CAST(t.trx_started AS CHAR) AS tables \
             FROM information_schema.INNODB_TRX t \
             JOIN information_schema.PROCESSLIST p ON p.ID = t.trx_mysql_thread_id \
             WHERE p.ID <> CONNECTION_ID() ORDER BY p.ID"
        }
        _ => return None,
    };
    let rows = conn
        .query_all_raw(Statement::from_string(backend, sql))
        .await
        .ok()?;
    let text = |row: &sea_orm::QueryResult, col: &str| -> String {
        row.try_get::<Option<String>>("", col)
            .ok()
            .flatten()
            .unwrap_or_default()
    };
    let described: Vec<String> = rows
        .iter()
        .map(|row| {
            let (who, state, app, query, tables) = (
                text(row, "who"),
                text(row, "state"),
                text(row, "app"),
                text(row, "query"),
                text(row, "tables"),
            );
            let mut d = match backend {
                DbBackend::Postgres => format!("session {who} ({state}) holding {tables}"),
                _ => {
                    format!("connection {who} of {app} ({state}), in a transaction since {tables}")
                }
            };
            if backend == DbBackend::Postgres && !app.is_empty() {
                d.push_str(&format!(", application `{app}`"));
            }
            if !query.is_empty() {
                d.push_str(&format!(", last statement `{query}`"));
            }
            d
        })
        .collect();
    (!described.is_empty()).then(|| described.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_attempt_waits_longer_and_pauses_are_jittered_below_the_full_pause() {
        let ladder = LockRetry::default();
        let base = Duration::from_secs(2);
        assert_eq!(ladder.timeout(base, 1), Duration::from_secs(2));
        assert_eq!(ladder.timeout(base, 3), Duration::from_secs(8));
        assert_eq!(ladder.pause_before(2, 0.0), Duration::from_millis(500));
        assert_eq!(ladder.pause_before(3, 1.0), Duration::from_secs(2));
        let j = jitter();
        assert!((0.0..1.0).contains(&j));
    }

    #[test]
    fn lock_timeouts_are_told_from_other_errors() {
        assert!(is_lock_timeout(
            "Execution Error: error returned from database: canceling statement due to lock timeout"
        ));
        assert!(is_lock_timeout(
            "error returned from database: 1205 (HY000): Lock wait timeout exceeded; try restarting transaction"
        ));
        assert!(!is_lock_timeout("relation \"x\" does not exist"));
    }
}
