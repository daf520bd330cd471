//! Cached copies of a database as `fresh --seed` left it, and resets that copy one back instead
//! of rebuilding: the fast dev reset.
//!
//! - **PostgreSQL** keeps each copy as a database on the target's server,
//!   `<database>__migrate_cache_<key>`, and resets by dropping the target and creating it again
//!   from the copy with `CREATE DATABASE … TEMPLATE` (see [`super::postgres::cache`]).
//! - **SQLite** keeps each copy as a file in `.migrate-cache/` beside the database file, and
//!   resets by replacing the database's contents with it in place, so connections other processes
//!   hold on the file see the reset (see [`super::sqlite::cache`]).
//! - **MySQL/MariaDB** has no template databases and no copy faster than rebuilding: no cache.
//!
//! A copy is named by its key (a digest of everything that decides its content, which the
//! caller computes) and carries a description of that content (`meta`, a JSON document the
//! caller writes and reads), so a rebuild can say what changed.

use std::time::Duration;

use sea_orm::{DatabaseConnection, DbBackend};

use super::target::Target;
use crate::error::Result;

/// One cached copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedCopy {
    /// The copy's name: a database (PostgreSQL) or a file path (SQLite).
    pub name: String,
    /// The key it was saved under.
    pub key: String,
    /// What the caller said it holds, as saved.
    pub meta: String,
    /// Its size in bytes.
    pub bytes: u64,
}

/// The place the cached copies of one target live.
pub enum Store {
    /// Template databases on the target's server.
    #[cfg(feature = "postgres")]
    Postgres(super::postgres::cache::Server),
    /// Files beside the database file.
    #[cfg(feature = "sqlite")]
    Sqlite(super::sqlite::cache::Dir),
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            #[cfg(feature = "postgres")]
            Store::Postgres(_) => "Store::Postgres",
            #[cfg(feature = "sqlite")]
            Store::Sqlite(_) => "Store::Sqlite",
        })
    }
}

impl Store {
    /// The store of `target`'s copies, or `None` where the backend keeps none (MySQL/MariaDB,
    /// an in-memory SQLite database). On PostgreSQL this connects to the server's maintenance
    /// database and waits there for any other reset of the same database to finish, so that
    /// one reset never drops a database another is working in; the wait ends when the store is
    /// closed or dropped.
    ///
    /// # Errors
    /// [`crate::EngineError::Connect`] when the maintenance database cannot be reached;
    /// [`crate::EngineError::ResetCache`] when the server refuses the lock.
    #[cfg_attr(
        not(any(feature = "postgres", feature = "sqlite")),
        allow(unused_variables)
    )]
    pub async fn open(target: &Target, timeout: Duration) -> Result<Option<Self>> {
        Self::open_locked(target, timeout, true).await
    }

    /// [`Store::open`], without waiting for other resets when `lock` is false: for removing
    /// what they replaced, which never touches a database one of them works in.
    ///
    /// # Errors
    /// As [`Store::open`].
    pub async fn open_locked(
        target: &Target,
        timeout: Duration,
        lock: bool,
    ) -> Result<Option<Self>> {
        match target.backend() {
            #[cfg(feature = "postgres")]
            DbBackend::Postgres => Ok(Some(Store::Postgres(
                super::postgres::cache::Server::open(target, timeout, lock).await?,
            ))),
            #[cfg(feature = "sqlite")]
            DbBackend::Sqlite => Ok(super::sqlite::cache::Dir::of(target).map(Store::Sqlite)),
            _ => Ok(None),
        }
    }

    /// Whether a reset from this store drops and recreates the database, ending every session
    /// connected to it, the caller's own included (PostgreSQL); otherwise the copy replaces the
    /// database's contents through the caller's connection.
    pub fn replaces_database(&self) -> bool {
        match self {
            #[cfg(feature = "postgres")]
            Store::Postgres(_) => true,
            #[cfg(feature = "sqlite")]
            Store::Sqlite(_) => false,
        }
    }

    /// Schemas beside the ones `listing` drops that hold objects, in the database `conn` is open
    /// on, when a reset from this store would replace them too (PostgreSQL replaces the whole
    /// database; `fresh` keeps schemas no migration creates): with any, copying back would not
    /// be what `fresh` does.
    ///
    /// # Errors
    /// A database error while reading the catalog.
    #[cfg_attr(not(feature = "postgres"), allow(unused_variables))]
    pub async fn replaced_beyond(
        &self,
        conn: &DatabaseConnection,
        listing: &super::wipe::Listing,
    ) -> Result<Vec<String>> {
        match self {
            #[cfg(feature = "postgres")]
            Store::Postgres(_) => {
                let all = super::wipe::list_schemas(conn).await.map_err(|e| {
                    crate::error::EngineError::ResetCache {
                        message: format!("listing the schemas: {e}"),
                    }
                })?;
                let dropped: Vec<&str> = listing
                    .objects
                    .iter()
                    .filter(|o| o.kind == super::wipe::ObjectKind::Schema)
                    .map(|o| o.name.as_str())
                    .collect();
                let kept: Vec<String> = all
                    .into_iter()
                    .map(|s| s.name)
                    .filter(|name| !dropped.contains(&name.trim_matches('"')))
                    .collect();
                super::postgres::cache::schemas_in_use(conn, &kept).await
            }
            #[cfg(feature = "sqlite")]
            Store::Sqlite(_) => Ok(Vec::new()),
        }
    }

    /// The copies of this target, newest first.
    ///
    /// # Errors
    /// A database or file error while listing.
    pub async fn list(&self) -> Result<Vec<CachedCopy>> {
        match self {
            #[cfg(feature = "postgres")]
            Store::Postgres(server) => server.list().await,
            #[cfg(feature = "sqlite")]
            Store::Sqlite(dir) => dir.list(),
        }
    }

    /// Saves the database `conn` is open on as the copy under `key`, described by `meta`. On
    /// PostgreSQL the database must have no other sessions for the copy to be taken, so this
    /// ends those that are left, `conn`'s own included.
    ///
    /// # Errors
    /// [`crate::EngineError::ResetCache`] when the copy cannot be taken; nothing is left behind.
    #[cfg_attr(not(feature = "sqlite"), allow(unused_variables))]
    pub async fn save(
        &self,
        conn: &DatabaseConnection,
        key: &str,
        meta: &str,
    ) -> Result<CachedCopy> {
        match self {
            #[cfg(feature = "postgres")]
            Store::Postgres(server) => server.save(key, meta).await,
            #[cfg(feature = "sqlite")]
            Store::Sqlite(dir) => dir.save(conn, key, meta).await,
        }
    }

    /// Makes the target what `copy` holds. On PostgreSQL the target is replaced by a clone of
    /// the copy (every session on it ended), with its owner and settings; on SQLite everything
    /// in the database `conn` is open on is dropped, then the copy restored in its place.
    ///
    /// # Errors
    /// [`crate::EngineError::ResetCache`] when the copy cannot be made; on PostgreSQL the target
    /// may then be gone, and a reset with `--no-cache` rebuilds it.
    #[cfg_attr(not(feature = "sqlite"), allow(unused_variables))]
    pub async fn copy_into(&self, copy: &CachedCopy, conn: &DatabaseConnection) -> Result<()> {
        match self {
            #[cfg(feature = "postgres")]
            Store::Postgres(server) => server.copy_into(copy).await,
            #[cfg(feature = "sqlite")]
            Store::Sqlite(dir) => dir.copy_into(copy, conn).await,
        }
    }

    /// Removes `copy`.
    ///
    /// # Errors
    /// A database or file error while removing.
    pub async fn remove(&self, copy: &CachedCopy) -> Result<()> {
        match self {
            #[cfg(feature = "postgres")]
            Store::Postgres(server) => server.remove(copy).await,
            #[cfg(feature = "sqlite")]
            Store::Sqlite(dir) => dir.remove(copy),
        }
    }

    /// Removes what earlier resets replaced and left to remove later (PostgreSQL: the databases
    /// they swapped out; see [`super::postgres::cache`]), and, with `all`, what resets that
    /// stopped midway left; returns the names removed.
    ///
    /// # Errors
    /// A database error while removing.
    pub async fn sweep(&self, all: bool) -> Result<Vec<String>> {
        match self {
            #[cfg(feature = "postgres")]
            Store::Postgres(server) => server.sweep(all).await,
            #[cfg(feature = "sqlite")]
            Store::Sqlite(_) => {
                let _ = all;
                Ok(Vec::new())
            }
        }
    }

    /// Ends the wait for other resets and closes the store's connection.
    pub async fn close(self) {
        match self {
            #[cfg(feature = "postgres")]
            Store::Postgres(server) => server.close().await,
            #[cfg(feature = "sqlite")]
            Store::Sqlite(_) => {}
        }
    }
}

/// The start of the names of `database`'s copies (a database name or a file stem): at most
/// `limit` bytes of `[a-z0-9_]`, so they never need quoting. A longer name is cut and ends in a
/// digest of the whole, so two databases whose names start alike keep apart.
pub(crate) fn name_stem(database: &str, limit: usize) -> String {
    use sha2::{Digest, Sha256};
    let clean: String = database
        .chars()
        .map(|c| {
            let c = c.to_ascii_lowercase();
            if c.is_ascii_alphanumeric() { c } else { '_' }
        })
        .collect();
    if clean.is_empty() {
        return "db".to_owned();
    }
    if clean.len() <= limit {
        return clean;
    }
    let digest: String = Sha256::digest(database.as_bytes())
        .iter()
        .take(4)
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("{}_{digest}", &clean[..limit.saturating_sub(9)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_names_start_with_a_plain_cut_of_the_database_name() {
        assert_eq!(name_stem("App-Dev", 20), "app_dev");
        assert_eq!(name_stem("", 6), "db");
        let long = name_stem("a_very_long_database_name_1", 20);
        assert_eq!(long.len(), 20);
        assert!(long.starts_with("a_very_long"), "{long}");
        assert_ne!(long, name_stem("a_very_long_database_name_2", 20));
    }
}
