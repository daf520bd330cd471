//! The three backends as the migrations suite uses them: a new empty database per measured run,
//! and each one's own client as the floor, running a script or one query.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::process::command;
use crate::servers::{MariaDb, Postgres, mariadb_args, pg_client, psql_env};

/// A backend the suite measures on.
pub(crate) enum Backend<'a> {
    Postgres(&'a Postgres, String),
    MariaDb(&'a MariaDb, String),
    /// A directory for database files, and SQLite's version.
    Sqlite(PathBuf, String),
}

impl Backend<'_> {
    /// The backend and its version, for the tables.
    pub fn label(&self) -> &str {
        match self {
            Backend::Postgres(_, v) | Backend::MariaDb(_, v) | Backend::Sqlite(_, v) => v,
        }
    }

    /// Short name, for progress lines.
    pub fn short(&self) -> &'static str {
        match self {
            Backend::Postgres(..) => "postgres",
            Backend::MariaDb(..) => "mariadb",
            Backend::Sqlite(..) => "sqlite",
        }
    }

    /// A new empty database called `name` (replacing one of that name); returns its URL.
    pub async fn create(&self, name: &str) -> Result<String, String> {
        match self {
            Backend::Postgres(pg, _) => pg.create(name).await,
            Backend::MariaDb(maria, _) => maria.create(name).await,
            Backend::Sqlite(dir, _) => {
                self.drop(name).await?;
                Ok(format!(
                    "sqlite://{}?mode=rwc",
                    dir.join(format!("{name}.db")).display()
                ))
            }
        }
    }

    /// Drops database `name`.
    pub async fn drop(&self, name: &str) -> Result<(), String> {
        match self {
            Backend::Postgres(pg, _) => pg.drop(name).await,
            Backend::MariaDb(maria, _) => maria.drop(name).await,
            Backend::Sqlite(dir, _) => {
                for suffix in ["db", "db-journal", "db-wal", "db-shm", "db.lock"] {
                    let _ = std::fs::remove_file(dir.join(format!("{name}.{suffix}")));
                }
                Ok(())
            }
        }
    }

    /// How the floor runs a script, for the tables.
    pub fn script_method(&self) -> &'static str {
        match self {
            Backend::Postgres(..) => "`psql -1 -f` (one transaction)",
            Backend::MariaDb(..) => "`mariadb` reading the script",
            Backend::Sqlite(..) => "`sqlite3` (one transaction)",
        }
    }

    /// The one-query floor, for the tables.
    pub fn query_method(&self) -> &'static str {
        match self {
            Backend::Postgres(..) => "`psql -c 'select 1'`",
            Backend::MariaDb(..) => "`mariadb -e 'select 1'`",
            Backend::Sqlite(..) => "`sqlite3 FILE 'select 1'`",
        }
    }

    /// `statements` as a script the backend's client runs in one go (in one transaction where
    /// DDL is transactional).
    pub fn script(&self, statements: &[String]) -> String {
        let mut out = String::new();
        match self {
            Backend::Postgres(..) => {
                for s in statements {
                    out.push_str(s);
                    out.push_str(";\n");
                }
            }
            Backend::Sqlite(..) => {
                out.push_str("BEGIN;\n");
                for s in statements {
                    out.push_str(s);
                    out.push_str(";\n");
                }
                out.push_str("COMMIT;\n");
            }
            Backend::MariaDb(..) => {
                // Trigger bodies hold `;`, so statements end with a delimiter of their own.
                out.push_str("DELIMITER //\n");
                for s in statements {
                    out.push_str(s);
                    out.push_str("\n//\n");
                }
            }
        }
        out
    }

    /// The client running the script file `script` on `url`.
    pub fn run_script(&self, url: &str, script: &Path) -> Result<Command, String> {
        let input =
            File::open(script).map_err(|e| format!("cannot read {}: {e}", script.display()))?;
        let mut cmd = self.client(url, None)?;
        cmd.stdin(Stdio::from(input));
        if let Backend::Postgres(..) = self {
            cmd.args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-1", "-f", "-"]);
        }
        Ok(cmd)
    }

    /// The client running one query on `url`, as a user would type it.
    pub fn query(&self, url: &str, sql: &str) -> Result<Command, String> {
        self.client(url, Some(sql))
    }

    fn client(&self, url: &str, sql: Option<&str>) -> Result<Command, String> {
        match self {
            Backend::Postgres(..) => {
                let mut cmd = command(&pg_client("psql"));
                for (var, value) in psql_env(url)? {
                    cmd.env(var, value);
                }
                if let Some(sql) = sql {
                    cmd.args(["-c", sql]);
                }
                Ok(cmd)
            }
            Backend::MariaDb(..) => {
                let (args, env) = mariadb_args(url)?;
                let mut cmd = command(Path::new("mariadb"));
                cmd.args(args).envs(env);
                if let Some(sql) = sql {
                    cmd.args(["-e", sql]);
                }
                Ok(cmd)
            }
            Backend::Sqlite(..) => {
                let file = url
                    .trim_start_matches("sqlite://")
                    .split('?')
                    .next()
                    .unwrap_or_default();
                let mut cmd = command(Path::new("sqlite3"));
                cmd.arg("-bail").arg(file);
                if let Some(sql) = sql {
                    cmd.arg(sql);
                }
                Ok(cmd)
            }
        }
    }
}
