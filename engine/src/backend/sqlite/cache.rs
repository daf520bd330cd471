//! SQLite's reset cache: files beside the database file.
//!
//! The copies of `dev.db` are `.migrate-cache/dev-<key>.sqlite` next to it, each an online copy
//! (`VACUUM INTO`) with what it holds in `<copy>.json`. A reset drops the database's tables and
//! views in one transaction, then restores the copy's tables, rows, indexes, views and triggers
//! in another, through the session's own connection (as `migrate restore` restores), rather
//! than replacing the file: a process that has the file open, such as the application's dev
//! server, then sees the reset database instead of keeping the old file's contents. The
//! session's migration lock on the database file makes two resets take turns.

use std::fs;
use std::path::{Path, PathBuf};

use sea_orm::DatabaseConnection;
use serde::{Deserialize, Serialize};

use crate::backend::cache::{CachedCopy, name_stem};
use crate::backend::target::Target;
use crate::error::{EngineError, Result};

/// The directory beside the database file that holds its copies.
const DIR: &str = ".migrate-cache";

fn failed(message: impl Into<String>) -> EngineError {
    EngineError::ResetCache {
        message: message.into(),
    }
}

/// What a copy's `.json` holds.
#[derive(Debug, Serialize, Deserialize)]
struct Sidecar {
    database: String,
    key: String,
    meta: serde_json::Value,
}

/// The directory of one database file's copies.
pub struct Dir {
    dir: PathBuf,
    database: PathBuf,
}

impl Dir {
    /// The copies' directory of `target`'s file; `None` for an in-memory database.
    pub(crate) fn of(target: &Target) -> Option<Self> {
        use std::str::FromStr;
        let options = sqlx::sqlite::SqliteConnectOptions::from_str(target.url()).ok()?;
        let file = options.get_filename();
        if super::is_in_memory(file) {
            return None;
        }
        let database = std::path::absolute(file).unwrap_or_else(|_| file.to_path_buf());
        let dir = database
            .parent()
            .map_or_else(|| PathBuf::from(DIR), |parent| parent.join(DIR));
        Some(Self { dir, database })
    }

    fn stem(&self) -> String {
        name_stem(
            &self
                .database
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default(),
            40,
        )
    }

    fn sidecar(copy: &Path) -> PathBuf {
        let mut name = copy.as_os_str().to_owned();
        name.push(".json");
        PathBuf::from(name)
    }

    /// The copies of this database file, newest first.
    pub(crate) fn list(&self) -> Result<Vec<CachedCopy>> {
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return Ok(Vec::new());
        };
        let database = self.database.display().to_string();
        let mut found: Vec<(std::time::SystemTime, CachedCopy)> = entries
            .flatten()
            .filter(|e| e.path().extension().is_some_and(|x| x == "sqlite"))
            .filter_map(|e| {
                let path = e.path();
                let sidecar: Sidecar =
                    serde_json::from_slice(&fs::read(Self::sidecar(&path)).ok()?).ok()?;
                let metadata = e.metadata().ok()?;
                (sidecar.database == database).then(|| {
                    (
                        metadata.modified().unwrap_or(std::time::UNIX_EPOCH),
                        CachedCopy {
                            name: path.display().to_string(),
                            key: sidecar.key,
                            meta: sidecar.meta.to_string(),
                            bytes: metadata.len(),
                        },
                    )
                })
            })
            .collect();
        found.sort_by_key(|f| std::cmp::Reverse(f.0));
        Ok(found.into_iter().map(|(_, copy)| copy).collect())
    }

    /// Copies the database `conn` is open on into the copy under `key`: written beside its
    /// final name and renamed into place, so a copy is whole or absent.
    pub(crate) async fn save(
        &self,
        conn: &DatabaseConnection,
        key: &str,
        meta: &str,
    ) -> Result<CachedCopy> {
        fs::create_dir_all(&self.dir).map_err(|e| {
            failed(format!(
                "cannot create {} ({e}): make the database's directory writable, or run with --no-cache",
                self.dir.display()
            ))
        })?;
        let path = self.dir.join(format!(
            "{}-{}.sqlite",
            self.stem(),
            &key[..key.len().min(16)]
        ));
        let building = path.with_extension(format!("{}.new", std::process::id()));
        let _ = fs::remove_file(&building);
        let sidecar = Sidecar {
            database: self.database.display().to_string(),
            key: key.to_owned(),
            meta: serde_json::from_str(meta)
                .map_err(|e| failed(format!("the copy's description is not JSON: {e}")))?,
        };
        let written = async {
            drop(crate::backend::backup::private_file(&building)?);
            super::dump::dump(conn, &building).await?;
            let json = serde_json::to_vec(&sidecar)
                .map_err(|e| failed(format!("cannot encode the copy's description: {e}")))?;
            fs::write(Self::sidecar(&path), json)
                .and_then(|()| fs::rename(&building, &path))
                .map_err(|e| failed(format!("cannot write {}: {e}", path.display())))
        }
        .await;
        if let Err(e) = written {
            let _ = fs::remove_file(&building);
            return Err(e);
        }
        let bytes = fs::metadata(&path).map(|m| m.len()).unwrap_or_default();
        Ok(CachedCopy {
            name: path.display().to_string(),
            key: key.to_owned(),
            meta: sidecar.meta.to_string(),
            bytes,
        })
    }

    /// Replaces everything in the database `conn` is open on with `copy`: a transaction that
    /// drops, one that restores.
    pub(crate) async fn copy_into(
        &self,
        copy: &CachedCopy,
        conn: &DatabaseConnection,
    ) -> Result<()> {
        super::dump::restore_replacing(conn, Path::new(&copy.name), true)
            .await
            .map_err(|e| failed(format!("restoring {}: {e}", copy.name)))
    }

    /// Removes `copy` and its description.
    pub(crate) fn remove(&self, copy: &CachedCopy) -> Result<()> {
        let path = Path::new(&copy.name);
        let _ = fs::remove_file(Self::sidecar(path));
        match fs::remove_file(path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(failed(format!("cannot remove {}: {e}", path.display()))),
        }
    }
}
