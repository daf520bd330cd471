//! MySQL/MariaDB backups: `mariadb-dump` (or `mysqldump`) `--single-transaction --routines
//! --triggers --events`, without the migration lock table, checked for the line a complete dump ends with, restored with `mariadb`
//! (or `mysql`). The connection goes to the tools in an option file of mode 0600, removed after
//! the run: nothing of it is on their command line.

use std::io::Write;
use std::path::Path;
use std::process::Command;

use crate::backend::backup::{find_tool, private_file, run_tool, server_parts};
use crate::backend::target::Target;
use crate::error::{EngineError, Result};

/// The Debian package that has the client tools.
const PACKAGE: &str = "mariadb-client";

fn failed(message: String) -> EngineError {
    EngineError::Backup { message }
}

/// An option file with the target's connection, removed when dropped.
struct Options {
    dir: tempfile::TempDir,
}

impl Options {
    fn write(target: &Target) -> Result<(Self, String)> {
        let parts = server_parts(target)?;
        let dir = tempfile::Builder::new()
            .prefix("migrate-backup-")
            .tempdir()
            .map_err(|e| failed(format!("cannot create a temporary directory: {e}")))?;
        let quote = |v: &str| format!("\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\""));
        let mut text = String::from("[client]\n");
        text.push_str(&format!(
            "host={}\n",
            quote(parts.host.as_deref().unwrap_or("localhost"))
        ));
        text.push_str(&format!("port={}\n", parts.port.unwrap_or(3306)));
        if let Some(user) = &parts.user {
            text.push_str(&format!("user={}\n", quote(user)));
        }
        if let Some(password) = &parts.password {
            text.push_str(&format!("password={}\n", quote(password)));
        }
        let mut file = private_file(&dir.path().join("client.cnf"))?;
        file.write_all(text.as_bytes())
            .map_err(|e| failed(format!("cannot write the client option file: {e}")))?;
        Ok((Self { dir }, parts.database))
    }

    /// The first argument of every tool: where its connection is.
    fn argument(&self) -> String {
        format!(
            "--defaults-extra-file={}",
            self.dir.path().join("client.cnf").display()
        )
    }
}

/// Dumps `target` into `path` and checks the dump is complete.
pub(crate) fn dump(target: &Target, path: &Path) -> Result<&'static str> {
    let tool = find_tool(&["mariadb-dump", "mysqldump"], PACKAGE, &[])?;
    let (options, database) = Options::write(target)?;
    let mut command = Command::new(&tool);
    command
        .arg(options.argument())
        .args([
            "--single-transaction",
            "--routines",
            "--triggers",
            "--events",
            "--skip-dump-date",
        ])
        // The lock table holds the lock of the command taking the backup, not data: restored,
        // it would put back a lock row nobody holds.
        .arg(format!(
            "--ignore-table={database}.{}",
            crate::backend::lock::lock_table_name(&target.migration_table)
        ))
        .arg(format!("--result-file={}", path.display()))
        .arg("--databases")
        .arg(&database);
    let name = if tool.ends_with("mysqldump") {
        "mysqldump"
    } else {
        "mariadb-dump"
    };
    run_tool(command, name, target)?;
    let text =
        std::fs::read(path).map_err(|e| failed(format!("cannot read {}: {e}", path.display())))?;
    let tail = String::from_utf8_lossy(&text[text.len().saturating_sub(200)..]).into_owned();
    if !tail.contains("-- Dump completed") {
        return Err(failed(format!(
            "{name} stopped before the end of the dump of {}",
            target.redacted()
        )));
    }
    Ok(if name == "mysqldump" {
        "mysqldump"
    } else {
        "mariadb-dump"
    })
}

/// Restores the dump at `path` into `target`, whose schema is empty. The dump names its
/// database (`--databases`); it is read into the target's whichever that was.
pub(crate) fn restore(target: &Target, path: &Path) -> Result<()> {
    let tool = find_tool(&["mariadb", "mysql"], PACKAGE, &[])?;
    let (options, database) = Options::write(target)?;
    let text = std::fs::read_to_string(path)
        .map_err(|e| failed(format!("cannot read {}: {e}", path.display())))?;
    // The dump creates and selects the database it was taken of; into another one, those lines
    // go, and the target is selected instead.
    let body: String = text
        .lines()
        .filter(|l| !(l.starts_with("CREATE DATABASE ") || l.starts_with("USE `")))
        .collect::<Vec<_>>()
        .join("\n");
    let script = options.dir.path().join("restore.sql");
    let mut file = private_file(&script)?;
    file.write_all(body.as_bytes())
        .map_err(|e| failed(format!("cannot write {}: {e}", script.display())))?;
    drop(file);
    let mut command = Command::new(&tool);
    command
        .arg(options.argument())
        .arg("--database")
        .arg(&database)
        .arg("--execute")
        .arg(format!("source {}", script.display()));
    run_tool(command, "mariadb (restoring)", target).map(drop)
}
