//! SQLite: what the engine does differently here.
//!
//! - **Lock**: an exclusive OS lock on `<database file>.lock`, holding a line that names the
//!   holder. An in-memory database belongs to one process and its pool, and needs none.
//! - **Cancel**: nothing to cancel from outside; the run's transaction goes with the process.
//! - DDL is transactional, and one run's migrations share one transaction (savepoints per
//!   migration), because SQLite allows one writer at a time anyway.

#[cfg(feature = "sqlite")]
pub(crate) mod cache;
#[cfg(feature = "sqlite")]
pub(crate) mod dump;
pub(crate) mod snapshot;

use super::Capabilities;
#[cfg(feature = "sqlite")]
use {
    super::lock::{Holder, Identity, sqlite_lock_path},
    crate::error::{EngineError, Result},
    chrono::{DateTime, Utc},
    sea_orm::DatabaseConnection,
    std::fmt,
    std::fs::File,
    std::io::{Read, Seek, SeekFrom, Write},
    std::path::PathBuf,
};

/// What SQLite can do.
pub const CAPABILITIES: Capabilities = Capabilities {
    name: "sqlite",
    feature: "sqlite",
    transactional_ddl: true,
    one_transaction_per_run: true,
    session_id_query: None,
    objects_query: "SELECT type AS kind, name FROM sqlite_master \
     WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%' \
     ORDER BY type = 'table', name",
    objects_quoted: false,
    foreign_key_checks: Some(("PRAGMA foreign_keys = OFF", "PRAGMA foreign_keys = ON")),
    drop_cascades: false,
    deferred_flush: None,
    wipe_in_one_transaction: false,
    drops_lists: false,
    schemas_query: None,
    tenant_schemas_query: None,
    quote: '"',
};

#[cfg(feature = "sqlite")]
/// Whether a SQLite database lives in memory: it belongs to one process and its pool, so it
/// needs no lock file and no session of its own.
pub(crate) fn is_in_memory(filename: &std::path::Path) -> bool {
    let name = filename.to_string_lossy();
    name.is_empty() || name.starts_with(":memory:") || name.contains("mode=memory")
}

#[cfg(feature = "sqlite")]
/// The lock file beside the database file.
pub(crate) struct Lock {
    file: File,
    path: PathBuf,
}

#[cfg(feature = "sqlite")]
impl fmt::Display for Lock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "lock file {}", self.path.display())
    }
}

#[cfg(feature = "sqlite")]
impl Lock {
    /// Opens (or creates) the lock file; `None` for an in-memory database.
    pub(crate) fn open(conn: &DatabaseConnection) -> Result<Option<Self>> {
        let options = conn.get_sqlite_connection_pool().connect_options();
        let filename = options.get_filename();
        if is_in_memory(filename) {
            return Ok(None);
        }
        let path = sqlite_lock_path(filename);
        let file = File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| EngineError::Lock {
                detail: format!("opening {}: {e}", path.display()),
            })?;
        Ok(Some(Self { file, path }))
    }

    /// Takes the lock if it is free and writes the holder line; never waits.
    pub(crate) fn try_take(&mut self, me: &Identity) -> Result<bool> {
        match self.file.try_lock() {
            Ok(()) => {
                let line = format!(
                    "{}\t{}\t{}\t{}\n",
                    me.command,
                    me.host,
                    me.pid,
                    Utc::now().to_rfc3339()
                );
                // The holder line is advice for waiters; failing to write it must not fail the
                // run.
                let file = &mut self.file;
                let _ = file
                    .set_len(0)
                    .and_then(|()| file.seek(SeekFrom::Start(0)).map(drop))
                    .and_then(|()| file.write_all(line.as_bytes()))
                    .and_then(|()| file.flush());
                Ok(true)
            }
            Err(std::fs::TryLockError::WouldBlock) => Ok(false),
            Err(std::fs::TryLockError::Error(e)) => Err(EngineError::Lock {
                detail: format!("locking {}: {e}", self.path.display()),
            }),
        }
    }

    /// Who holds it now, from its line.
    pub(crate) fn holder(&mut self) -> Option<Holder> {
        holder_of(&mut self.file)
    }

    /// Empties the holder line and unlocks the file.
    pub(crate) fn release(self) -> Result<()> {
        let _ = self.file.set_len(0);
        self.file.unlock().map_err(|e| EngineError::Lock {
            detail: format!("unlocking {}: {e}", self.path.display()),
        })
    }
}

#[cfg(feature = "sqlite")]
/// A one-connection pool with the settings of the application's pool `db`; `db` itself for an
/// in-memory database, which exists only inside that pool.
pub(crate) async fn own_connection(db: &DatabaseConnection) -> Result<DatabaseConnection> {
    let options = db.get_sqlite_connection_pool().connect_options();
    if is_in_memory(options.get_filename()) {
        return Ok(db.clone());
    }
    let pool = super::one()
        .connect_with(options.as_ref().clone())
        .await
        .map_err(super::session_error)?;
    Ok(sea_orm::SqlxSqliteConnector::from_sqlx_sqlite_pool(pool))
}

#[cfg(feature = "sqlite")]
/// Whether `conn` is a pool over an in-memory database.
pub(crate) fn is_in_memory_pool(conn: &DatabaseConnection) -> bool {
    is_in_memory(
        conn.get_sqlite_connection_pool()
            .connect_options()
            .get_filename(),
    )
}

#[cfg(feature = "sqlite")]
/// The URL of `conn`'s pool.
pub(crate) fn url_of(conn: &DatabaseConnection) -> String {
    let options = conn.get_sqlite_connection_pool().connect_options();
    format!("sqlite://{}", options.get_filename().display())
}

#[cfg(feature = "sqlite")]
/// The holder line of a SQLite lock file: `command \t host \t pid \t since`.
fn holder_of(file: &mut File) -> Option<Holder> {
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
        lease_until: None,
    })
}
