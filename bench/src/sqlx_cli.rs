//! sqlx-cli, the fastest peer, measured beside `migrate`: installed with `cargo install` into
//! `bench/tools/` (once; later runs reuse it), and given the same schema as migration files of
//! its own made from our per-migration dry-run SQL, one `.up.sql` and one `.down.sql` each.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::process::{command, stdout_of};

/// The sqlx-cli release built on the same sqlx as SeaORM 2.0 (sqlx 0.9).
const VERSION: &str = "0.9.0";

/// An installed `sqlx` binary.
pub(crate) struct SqlxCli {
    bin: PathBuf,
    /// What `sqlx --version` printed, for the tables.
    pub version: String,
}

/// Installs sqlx-cli into `root` (its `bin/sqlx`), unless that binary is there and of
/// [`VERSION`]; PostgreSQL, MySQL and SQLite drivers, no TLS (every contender talks to loopback
/// servers without it).
///
/// # Errors
/// Why it could not be installed, for the skip message.
pub(crate) fn install(root: &Path) -> Result<SqlxCli, String> {
    let bin = root.join("bin").join("sqlx");
    if let Some(version) = version_of(&bin).filter(|v| v.contains(VERSION)) {
        return Ok(SqlxCli { bin, version });
    }
    eprintln!(
        "migrations: installing sqlx-cli {VERSION} into {}",
        root.display()
    );
    let status = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .args(["install", "sqlx-cli", "--locked", "--quiet", "--version"])
        .arg(format!("={VERSION}"))
        .args([
            "--no-default-features",
            "--features",
            "postgres,mysql,sqlite",
        ])
        .arg("--root")
        .arg(root)
        .status()
        .map_err(|e| format!("cannot run cargo install: {e}"))?;
    if !status.success() {
        return Err(format!(
            "`cargo install sqlx-cli --version ={VERSION}` failed ({status})"
        ));
    }
    let version = version_of(&bin)
        .ok_or_else(|| format!("{} does not run after installing", bin.display()))?;
    Ok(SqlxCli { bin, version })
}

fn version_of(bin: &Path) -> Option<String> {
    if !bin.is_file() {
        return None;
    }
    let out = stdout_of(command(bin).arg("--version")).ok()?;
    Some(String::from_utf8_lossy(&out).trim().to_owned())
}

impl SqlxCli {
    /// `sqlx migrate ARGS --source SOURCE` on `url` (passed in `DATABASE_URL`, never on the
    /// command line), with the same transport as `migrate`: no TLS to a loopback server.
    pub fn migrate(&self, source: &Path, url: &str, args: &[&str]) -> Command {
        let mut cmd = command(&self.bin);
        cmd.arg("migrate")
            .args(args)
            .arg("--source")
            .arg(source)
            .env("DATABASE_URL", plaintext(url));
        cmd
    }
}

/// `url` asking for no TLS where sqlx would otherwise try it first.
fn plaintext(url: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    if url.starts_with("postgres") {
        format!("{url}{sep}sslmode=disable")
    } else if url.starts_with("mysql") {
        format!("{url}{sep}ssl-mode=disabled")
    } else {
        url.to_owned()
    }
}

/// One migration as sqlx-cli files: its version, its name, and the statements of each half.
pub(crate) struct Files {
    pub version: String,
    pub name: String,
    pub up: Vec<String>,
    pub down: Vec<String>,
}

/// Writes `migrations` into a new directory `dir` as sqlx-cli's reversible migration files
/// (`<version>_<name>.up.sql` and `.down.sql`). A half with no statements on this backend
/// gets `noop`, where the server refuses an empty script (MySQL/MariaDB: "Query was empty").
///
/// # Errors
/// A file that cannot be written.
pub(crate) fn write(dir: &Path, migrations: &[Files], noop: &str) -> Result<(), String> {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    for m in migrations {
        for (half, statements) in [("up", &m.up), ("down", &m.down)] {
            let path = dir.join(format!("{}_{}.{half}.sql", m.version, m.name));
            let mut sql = String::new();
            if statements.is_empty() {
                sql.push_str(noop);
            }
            for s in statements {
                sql.push_str(s.trim_end().trim_end_matches(';'));
                sql.push_str(";\n");
            }
            std::fs::write(&path, sql)
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        }
    }
    Ok(())
}
