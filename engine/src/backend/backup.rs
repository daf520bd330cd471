//! Backups of a target and their restore: one file per backup in a directory of backups, with a
//! manifest beside it saying what it holds.
//!
//! - **PostgreSQL**: `pg_dump --format=custom`, checked with `pg_restore --list`; restored with
//!   `pg_restore`.
//! - **MySQL/MariaDB**: `mariadb-dump` (or `mysqldump`) `--single-transaction --routines
//!   --triggers --events`, checked for the dump's closing line; restored with `mariadb` (or
//!   `mysql`).
//! - **SQLite**: an online copy with `VACUUM INTO`, checked with `PRAGMA quick_check`; restored
//!   by copying its schema and rows back.
//!
//! Every file is created with mode 0600 before a tool writes into it, in a directory of mode
//! 0700. Passwords reach the dump tools through their environment (`PGPASSWORD`) or an option
//! file of mode 0600 (`--defaults-extra-file`), never their command line, and no message quotes
//! them.

use std::fs::{self, File, OpenOptions};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use chrono::{DateTime, Utc};
use sea_orm::{DatabaseConnection, DbBackend};
use serde::{Deserialize, Serialize};

use crate::backend::target::{ServerParts, Target};
use crate::error::{EngineError, Result};

/// The directory backups go to when `MIGRATION_BACKUP_DIR` does not say.
pub const DEFAULT_DIR: &str = "backups";

/// What a backup holds, written beside it as `<file>.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// The backup file's name, in the same directory.
    pub file: String,
    /// `postgres`, `mysql` or `sqlite`.
    pub backend: String,
    /// The database it was taken of, password redacted.
    pub database: String,
    /// The newest applied migration at the time, if any.
    pub version: Option<String>,
    /// When it was taken.
    pub taken_at: DateTime<Utc>,
    /// Its size in bytes.
    pub bytes: u64,
    /// How long taking it took, in milliseconds.
    pub duration_ms: u64,
    /// The command that took it, e.g. `migrate down`.
    pub command: String,
    /// The tool that wrote it: `pg_dump`, `mariadb-dump`, `VACUUM INTO`.
    pub tool: String,
}

impl Manifest {
    /// The backup file, in `dir`.
    pub fn path(&self, dir: &Path) -> PathBuf {
        dir.join(&self.file)
    }
}

fn failed(message: impl Into<String>) -> EngineError {
    EngineError::Backup {
        message: message.into(),
    }
}

/// A tool to run: its path, or why it cannot be found.
pub(crate) fn find_tool(names: &[&str], package: &str, extra_dirs: &[PathBuf]) -> Result<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    for name in names {
        for dir in extra_dirs
            .iter()
            .cloned()
            .chain(std::env::split_paths(&path))
        {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return Ok(candidate);
            }
        }
    }
    Err(failed(format!(
        "{} is not installed (not on PATH): install the package {package}, e.g. `apt-get install {package}`",
        names[0]
    )))
}

/// `target`'s URL in parts, for a dump tool.
pub(crate) fn server_parts(target: &Target) -> Result<ServerParts> {
    target.server_parts().map_err(|e| {
        failed(format!(
            "malformed database URL `{}` ({e})",
            target.redacted()
        ))
    })
}

/// Runs `command`, its output captured; an error names `what` and the tool's own last line,
/// with `target`'s password scrubbed from it.
pub(crate) fn run_tool(mut command: Command, what: &str, target: &Target) -> Result<Vec<u8>> {
    let output = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| failed(format!("cannot start {what}: {e}")))?;
    if output.status.success() {
        return Ok(output.stdout);
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let last = stderr
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("no message");
    Err(failed(format!(
        "{what} failed ({}): {}",
        output.status,
        target.scrub(last.trim())
    )))
}

/// Creates `path` empty, readable and writable by its owner only, for a tool to write into.
pub(crate) fn private_file(path: &Path) -> Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
        .open(path)
        .map_err(|e| failed(format!("cannot create {}: {e}", path.display())))
}

/// Creates the directory of backups (mode 0700) if it is not there.
fn ensure_dir(dir: &Path) -> Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir).map_err(|e| {
        failed(format!(
            "cannot create the backup directory {} ({e}): make it writable or set MIGRATION_BACKUP_DIR",
            dir.display()
        ))
    })
}

/// The name a target's backups start with: its database (or SQLite file) name.
fn database_label(target: &Target) -> String {
    let name = match target.backend() {
        DbBackend::Sqlite => Path::new(&target.database_name())
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default(),
        _ => target.database_name(),
    };
    let clean: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if clean.is_empty() {
        "database".to_owned()
    } else {
        clean
    }
}

/// Takes a backup of `target` into `dir`: `conn` is a connection to it (SQLite copies through
/// it), `version` the newest applied migration, `command` what asked for it.
///
/// # Errors
/// [`EngineError::Backup`] when the tool is missing, the directory cannot be written, the tool
/// fails, or the file it wrote is empty or incomplete; nothing is left behind then.
pub async fn take(
    target: &Target,
    conn: &DatabaseConnection,
    dir: &Path,
    version: Option<&str>,
    command: &str,
) -> Result<Manifest> {
    ensure_dir(dir)?;
    let taken_at = Utc::now();
    let extension = match target.backend() {
        DbBackend::Postgres => "dump",
        DbBackend::MySql => "sql",
        _ => "sqlite",
    };
    let file = format!(
        "{}-{}-{}.{extension}",
        database_label(target),
        version.unwrap_or("empty"),
        taken_at.format("%Y%m%dT%H%M%S%.3fZ")
    );
    let path = dir.join(&file);
    drop(private_file(&path)?);
    let started = Instant::now();
    let written = write(target, conn, &path).await;
    let tool = match written {
        Ok(tool) => tool,
        Err(e) => {
            let _ = fs::remove_file(&path);
            return Err(e);
        }
    };
    let duration = started.elapsed();
    let bytes = fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    if bytes == 0 {
        let _ = fs::remove_file(&path);
        return Err(failed(format!(
            "{tool} wrote an empty backup of {}",
            target.redacted()
        )));
    }
    let manifest = Manifest {
        file,
        backend: crate::backend::name(target.backend()).to_owned(),
        database: target.redacted(),
        version: version.map(str::to_owned),
        taken_at,
        bytes,
        duration_ms: u64::try_from(duration.as_millis()).unwrap_or(u64::MAX),
        command: command.to_owned(),
        tool: tool.to_owned(),
    };
    let sidecar = manifest_path(&path);
    let written = serde_json::to_vec_pretty(&manifest)
        .map_err(|e| failed(format!("cannot encode the backup's manifest: {e}")))
        .and_then(|json| {
            private_file(&sidecar)?;
            fs::write(&sidecar, json)
                .map_err(|e| failed(format!("cannot write {}: {e}", sidecar.display())))
        });
    if let Err(e) = written {
        let _ = fs::remove_file(&path);
        let _ = fs::remove_file(&sidecar);
        return Err(e);
    }
    Ok(manifest)
}

#[cfg_attr(not(feature = "sqlite"), allow(unused_variables))]
async fn write(target: &Target, conn: &DatabaseConnection, path: &Path) -> Result<&'static str> {
    match target.backend() {
        #[cfg(feature = "postgres")]
        DbBackend::Postgres => super::postgres::dump::dump(target, path),
        #[cfg(feature = "mysql")]
        DbBackend::MySql => super::mysql::dump::dump(target, path),
        #[cfg(feature = "sqlite")]
        DbBackend::Sqlite => super::sqlite::dump::dump(conn, path).await,
        other => Err(crate::backend::not_built(other)),
    }
}

/// Restores the backup at `path` into `target`, whose schema `conn` (a connection to it) has
/// already emptied.
///
/// # Errors
/// [`EngineError::Backup`] when the file is not a backup of this backend or the tool fails.
#[cfg_attr(not(feature = "sqlite"), allow(unused_variables))]
pub async fn restore(target: &Target, conn: &DatabaseConnection, path: &Path) -> Result<()> {
    if !path.is_file() {
        return Err(failed(format!(
            "no backup at {}: `migrate backups` lists them",
            path.display()
        )));
    }
    match target.backend() {
        #[cfg(feature = "postgres")]
        DbBackend::Postgres => super::postgres::dump::restore(target, path),
        #[cfg(feature = "mysql")]
        DbBackend::MySql => super::mysql::dump::restore(target, path),
        #[cfg(feature = "sqlite")]
        DbBackend::Sqlite => super::sqlite::dump::restore(conn, path).await,
        other => Err(crate::backend::not_built(other)),
    }
}

fn manifest_path(backup: &Path) -> PathBuf {
    let mut name = backup.as_os_str().to_owned();
    name.push(".json");
    PathBuf::from(name)
}

/// The manifest of the backup at `path`, if it has one.
pub fn manifest_of(path: &Path) -> Option<Manifest> {
    let text = fs::read(manifest_path(path)).ok()?;
    serde_json::from_slice(&text).ok()
}

/// The backups in `dir` taken of `target`, oldest first.
pub fn list(dir: &Path, target: &Target) -> Vec<Manifest> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let database = target.redacted();
    let mut found: Vec<Manifest> = entries
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
        .filter_map(|e| serde_json::from_slice::<Manifest>(&fs::read(e.path()).ok()?).ok())
        .filter(|m| m.database == database && dir.join(&m.file).is_file())
        .collect();
    found.sort_by_key(|m| m.taken_at);
    found
}
