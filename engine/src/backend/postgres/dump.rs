//! PostgreSQL backups: `pg_dump --format=custom` without the migration lock table, checked with
//! `pg_restore --list`, restored with `pg_restore`. The connection goes to the tools as `PG*`
//! variables, the password as `PGPASSWORD`: nothing of it is on their command line.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::backend::backup::{find_tool, run_tool, server_parts};
use crate::backend::target::{ServerParts, Target};
use crate::error::{EngineError, Result};

/// The Debian package that has the client tools.
const PACKAGE: &str = "postgresql-client";

/// Where the packaged client binaries of each major version live, as `<major>` in the pattern:
/// Debian and Ubuntu, then RHEL and Fedora.
const VERSIONED_DIRS: &[(&str, &str)] = &[("/usr/lib/postgresql", "bin"), ("/usr", "bin")];

/// The directories of the packaged client binaries, newest major version first (a newer
/// `pg_dump` dumps an older server).
fn bindir() -> Vec<PathBuf> {
    static BINDIRS: std::sync::OnceLock<Vec<PathBuf>> = std::sync::OnceLock::new();
    BINDIRS
        .get_or_init(|| {
            let mut found: Vec<(u32, PathBuf)> = Vec::new();
            for (parent, bin) in VERSIONED_DIRS {
                let Ok(entries) = std::fs::read_dir(parent) else {
                    continue;
                };
                for entry in entries.flatten() {
                    let name = entry.file_name().to_string_lossy().into_owned();
                    // `/usr/lib/postgresql/15`, `/usr/pgsql-15`.
                    let major = name.strip_prefix("pgsql-").unwrap_or(&name);
                    if let Ok(major) = major.parse::<u32>() {
                        let dir = entry.path().join(bin);
                        if dir.join("pg_dump").is_file() {
                            found.push((major, dir));
                        }
                    }
                }
            }
            found.sort_by_key(|f| std::cmp::Reverse(f.0));
            found.into_iter().map(|(_, dir)| dir).collect()
        })
        .clone()
}

/// `tool` as the PATH finds it, unless that is Debian's `pg_wrapper` (a Perl script that picks
/// a cluster, then starts the real binary): then the real binary of the newest packaged
/// version, found without running `pg_config`, a shell script that alone costs more than the
/// rest of a small backup's overhead.
fn tool_path(tool: &str) -> Result<PathBuf> {
    let on_path = find_tool(&[tool], PACKAGE, &[])?;
    let wrapper = std::fs::canonicalize(&on_path)
        .is_ok_and(|real| real.file_name().is_some_and(|name| name == "pg_wrapper"));
    if wrapper
        && let Some(real) = bindir()
            .into_iter()
            .map(|dir| dir.join(tool))
            .find(|path| path.is_file())
    {
        return Ok(real);
    }
    Ok(on_path)
}

/// `tool`, with the connection `parts` describe in its environment.
fn command(tool: &str, parts: &ServerParts) -> Result<Command> {
    let path = tool_path(tool)?;
    let mut command = Command::new(path);
    command
        .env_remove("PGSERVICE")
        .env("PGHOST", parts.host.as_deref().unwrap_or("localhost"))
        .env("PGPORT", parts.port.unwrap_or(5432).to_string())
        .env("PGDATABASE", &parts.database)
        .env("PGAPPNAME", "migrate backup");
    if let Some(user) = &parts.user {
        command.env("PGUSER", user);
    }
    match &parts.password {
        Some(password) => command.env("PGPASSWORD", password),
        None => command.env_remove("PGPASSWORD"),
    };
    let loopback = matches!(
        parts.host.as_deref(),
        Some("127.0.0.1" | "localhost" | "::1" | "[::1]")
    );
    match (parts.parameter("sslmode"), loopback) {
        (Some(mode), _) => command.env("PGSSLMODE", mode),
        // As `migrate` itself connects to a loopback server.
        (None, true) => command.env("PGSSLMODE", "disable"),
        (None, false) => command.env_remove("PGSSLMODE"),
    };
    Ok(command)
}

/// Dumps `target` into `path` and checks the archive lists its contents.
pub(crate) fn dump(target: &Target, path: &Path) -> Result<&'static str> {
    let parts = server_parts(target)?;
    let mut pg_dump = command("pg_dump", &parts)?;
    // The lock table holds the lock of the command taking the backup, not data: restored, it
    // would put back a lock row nobody holds.
    let lock_table = crate::backend::lock::lock_table_name(&target.migration_table);
    let lock_table = match target
        .migration_schema
        .as_ref()
        .or(target.database_schema.as_ref())
    {
        Some(schema) => format!("\"{schema}\".\"{lock_table}\""),
        None => format!("\"{lock_table}\""),
    };
    pg_dump
        .arg("--format=custom")
        .arg(format!("--exclude-table={lock_table}"))
        .arg("--no-password")
        .arg("--file")
        .arg(path);
    run_tool(pg_dump, "pg_dump", target)?;
    let mut list = command("pg_restore", &parts)?;
    list.arg("--list").arg(path);
    let listed = run_tool(list, "pg_restore --list (checking the backup)", target)?;
    if listed.is_empty() {
        return Err(EngineError::Backup {
            message: format!("pg_restore --list read nothing from {}", path.display()),
        });
    }
    Ok("pg_dump")
}

/// Restores the archive at `path` into `target`, whose schema is empty.
pub(crate) fn restore(target: &Target, path: &Path) -> Result<()> {
    let parts = server_parts(target)?;
    let mut pg_restore = command("pg_restore", &parts)?;
    pg_restore
        .arg("--no-password")
        .arg("--exit-on-error")
        .arg("--no-owner")
        .arg("--single-transaction")
        .arg("--dbname")
        .arg(&parts.database)
        .arg(path);
    run_tool(pg_restore, "pg_restore", target).map(drop)
}
