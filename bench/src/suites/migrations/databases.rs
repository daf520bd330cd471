//! The three backends as the migrations suite uses them: a new empty database per measured run,
//! and each one's own client as the floor, running a script or one query.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::process::command;
use crate::servers::{MariaDb, Postgres, mariadb_args, psql_env};

/// A backend the suite measures on.
pub(crate) enum Db<'a> {
    Postgres(&'a Postgres, String),
    MariaDb(&'a MariaDb, String),
    /// A directory for database files, and SQLite's version.
    Sqlite(PathBuf, String),
}

impl Db<'_> {
    /// The backend and its version, for the tables.
    pub fn label(&self) -> &str {
        match self {
            Db::Postgres(_, v) | Db::MariaDb(_, v) | Db::Sqlite(_, v) => v,
        }
    }

    /// Short name, for progress lines.
    pub fn short(&self) -> &'static str {
        match self {
            Db::Postgres(..) => "postgres",
            Db::MariaDb(..) => "mariadb",
            Db::Sqlite(..) => "sqlite",
        }
    }

    /// A new empty database called `name` (replacing one of that name); returns its URL.
    pub async fn create(&self, name: &str) -> Result<String, String> {
        match self {
            Db::Postgres(pg, _) => pg.create(name).await,
            Db::MariaDb(maria, _) => maria.create(name).await,
            Db::Sqlite(dir, _) => {
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
            Db::Postgres(pg, _) => pg.drop(name).await,
            Db::MariaDb(maria, _) => maria.drop(name).await,
            Db::Sqlite(dir, _) => {
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
            Db::Postgres(..) => "`psql -1 -f` (one transaction)",
            Db::MariaDb(..) => "`mariadb` reading the script",
            Db::Sqlite(..) => "`sqlite3` (one transaction)",
        }
    }

    /// The one-query floor, for the tables.
    pub fn query_method(&self) -> &'static str {
        match self {
            Db::Postgres(..) => "`psql -c 'select 1'`",
            Db::MariaDb(..) => "`mariadb -e 'select 1'`",
            Db::Sqlite(..) => "`sqlite3 FILE 'select 1'`",
        }
    }

    /// `statements` as a script the backend's client runs in one go (in one transaction where
    /// DDL is transactional).
    pub fn script(&self, statements: &[String]) -> String {
        let mut out = String::new();
        match self {
            Db::Postgres(..) => {
                for s in statements {
                    out.push_str(s);
                    out.push_str(";\n");
                }
            }
            Db::Sqlite(..) => {
                out.push_str("BEGIN;\n");
                for s in statements {
                    out.push_str(s);
                    out.push_str(";\n");
                }
                out.push_str("COMMIT;\n");
            }
            Db::MariaDb(..) => {
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
        if let Db::Postgres(..) = self {
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
            Db::Postgres(..) => {
                let mut cmd = command(Path::new("psql"));
                for (var, value) in psql_env(url)? {
                    cmd.env(var, value);
                }
                if let Some(sql) = sql {
                    cmd.args(["-c", sql]);
                }
                Ok(cmd)
            }
            Db::MariaDb(..) => {
                let (args, env) = mariadb_args(url)?;
                let mut cmd = command(Path::new("mariadb"));
                cmd.args(args).envs(env);
                if let Some(sql) = sql {
                    cmd.args(["-e", sql]);
                }
                Ok(cmd)
            }
            Db::Sqlite(..) => {
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
