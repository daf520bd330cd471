//! Scratch databases: an empty database beside a target's, with its settings, for `verify` to
//! migrate up and down without touching the target; dropped afterwards, sessions and all.

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use url::Url;

use super::target::Target;
use crate::error::{EngineError, Result};

/// Where the scratch database lives.
enum Place {
    /// A database on the target's server, created and dropped through `admin`, a connection to
    /// the target database that runs nothing but `CREATE DATABASE` and `DROP DATABASE`.
    Server {
        admin: DatabaseConnection,
        name: String,
        /// `CHARACTER SET ... COLLATE ...` copied from the target (MySQL/MariaDB), so column
        /// types and index limits behave as they will there.
        options: String,
    },
    /// A SQLite file in a temporary directory, removed with it.
    File {
        dir: tempfile::TempDir,
        path: PathBuf,
    },
}

/// The scratch database of one `verify` run: on the target's server (or, for SQLite, in a
/// temporary directory), named uniquely, and dropped by [`Scratch::destroy`].
pub struct Scratch {
    /// The scratch database as a target: the target's settings, another database.
    pub target: Target,
    place: Place,
    timeout: Duration,
}

fn scratch_error(action: &'static str, database: &str, reason: String) -> EngineError {
    EngineError::Scratch {
        action,
        database: database.to_owned(),
        reason,
    }
}

/// `<database>_verify_<pid>_<counter>_<nanos>`: unique per run, lowercase, within PostgreSQL's
/// 63-byte and MySQL's 64-byte limits, and made only of `[a-z0-9_]`, so it needs no escaping.
fn scratch_name(target_database: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut base: String = target_database
        .chars()
        .map(|c| c.to_ascii_lowercase())
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .take(20)
        .collect();
    if !base.starts_with(|c: char| c.is_ascii_lowercase()) {
        base.insert_str(0, "db");
    }
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() % 1_000_000_000_000)
        .unwrap_or_default();
    let counter = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{base}_verify_{}_{counter}_{nanos}", std::process::id())
}

/// `CREATE DATABASE` and `DROP DATABASE` have no SeaQuery builder; names come from
/// [`scratch_name`] (or are the target's schema), so quoting them is enough.
pub(crate) fn quote(backend: DbBackend, name: &str) -> String {
    let q = super::capabilities(backend).quote;
    format!("{q}{name}{q}")
}

impl Scratch {
    /// Creates an empty scratch database next to `target`'s, with its settings (and, on
    /// MySQL/MariaDB, its character set and collation).
    ///
    /// # Errors
    /// [`EngineError::Scratch`] when the database cannot be created; [`EngineError::Connect`]
    /// when the server cannot be reached.
    pub async fn create(target: &Target, timeout: Duration) -> Result<Self> {
        let like = |url: &str| {
            Target::new(
                url,
                target.database_schema.clone(),
                target.migration_schema.clone(),
                Some(target.migration_table.clone()),
            )
        };
        if target.backend() == DbBackend::Sqlite {
            let dir = tempfile::Builder::new()
                .prefix("migrate-verify-")
                .tempdir()
                .map_err(|e| {
                    scratch_error(
                        "create",
                        "in the temporary directory",
                        format!(
                            "{e}; make {} writable or point TMPDIR elsewhere",
                            std::env::temp_dir().display()
                        ),
                    )
                })?;
            let path = dir.path().join("scratch.db");
            let scratch = like(&format!("sqlite://{}?mode=rwc", path.display()))?;
            return Ok(Self {
                target: scratch,
                place: Place::File { dir, path },
                timeout,
            });
        }
        let mut url = Url::parse(target.url()).map_err(|e| EngineError::Config {
            message: format!("malformed database URL `{}` ({e})", target.redacted()),
        })?;
        let name = scratch_name(url.path().trim_start_matches('/'));
        url.set_path(&format!("/{name}"));
        let scratch = like(url.as_str())?;
        let admin = target.connect(timeout).await?;
        let options = match target.backend() {
            DbBackend::MySql => super::mysql::database_options(&admin).await,
            _ => String::new(),
        };
        let this = Self {
            target: scratch,
            place: Place::Server {
                admin,
                name,
                options,
            },
            timeout,
        };
        if let Err(e) = this.create_database().await {
            this.close_admin().await;
            return Err(e);
        }
        Ok(this)
    }

    /// A connection to the scratch database, with the target's PostgreSQL schema in place.
    ///
    /// # Errors
    /// [`EngineError::Connect`], or a database error creating the schema.
    pub async fn connect(&self) -> Result<DatabaseConnection> {
        let conn = self.target.connect(self.timeout).await?;
        if let (DbBackend::Postgres, Some(schema)) =
            (self.target.backend(), &self.target.database_schema)
        {
            conn.execute_unprepared(&format!(
                "CREATE SCHEMA IF NOT EXISTS {}",
                quote(DbBackend::Postgres, schema)
            ))
            .await
            .map_err(EngineError::db(
                "creating the schema in the scratch database",
            ))?;
        }
        Ok(conn)
    }

    async fn create_database(&self) -> Result<()> {
        let Place::Server {
            admin,
            name,
            options,
        } = &self.place
        else {
            return Ok(());
        };
        let sql = format!(
            "CREATE DATABASE {}{options}",
            quote(self.target.backend(), name)
        );
        admin.execute_unprepared(&sql).await.map(drop).map_err(|e| {
            scratch_error(
                "create",
                &self.target.redacted(),
                format!(
                    "{}; the user in DATABASE_URL needs the right to create databases (PostgreSQL: CREATEDB; MySQL/MariaDB: CREATE and DROP)",
                    self.target.scrub(&e.to_string())
                ),
            )
        })
    }

    async fn drop_database(&self) -> Result<()> {
        let Place::Server { admin, name, .. } = &self.place else {
            return Ok(());
        };
        let backend = self.target.backend();
        let failed = |e: sea_orm::DbErr| {
            scratch_error(
                "drop",
                &self.target.redacted(),
                format!(
                    "{}; drop the database {name} by hand",
                    self.target.scrub(&e.to_string())
                ),
            )
        };
        match backend {
            DbBackend::Postgres => super::postgres::drop_database(admin, name).await,
            _ => super::mysql::drop_database(admin, name).await,
        }
        .map_err(failed)
    }

    /// Empties the scratch database by dropping and creating it again. Connections to it must
    /// be closed first.
    pub(crate) async fn reset(&self) -> Result<()> {
        match &self.place {
            Place::Server { .. } => {
                self.drop_database().await?;
                self.create_database().await
            }
            Place::File { path, .. } => {
                for suffix in ["", "-wal", "-shm", "-journal"] {
                    let mut file = path.clone().into_os_string();
                    file.push(suffix);
                    match std::fs::remove_file(&file) {
                        Ok(()) => {}
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                        Err(e) => {
                            return Err(scratch_error(
                                "reset",
                                &self.target.redacted(),
                                format!("{e}; remove {} by hand", PathBuf::from(file).display()),
                            ));
                        }
                    }
                }
                Ok(())
            }
        }
    }

    async fn close_admin(&self) {
        if let Place::Server { admin, .. } = &self.place {
            let _ = admin.close_by_ref().await;
        }
    }

    /// Drops the scratch database and lets go of the server.
    ///
    /// # Errors
    /// [`EngineError::Scratch`] when the database (or the SQLite directory) cannot be removed.
    pub async fn destroy(self) -> Result<()> {
        let dropped = self.drop_database().await;
        self.close_admin().await;
        let Self { target, place, .. } = self;
        if let Place::File { dir, .. } = place {
            dir.close().map_err(|e| {
                scratch_error(
                    "drop",
                    &target.redacted(),
                    format!("{e}; remove the file by hand"),
                )
            })?;
        }
        dropped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scratch_names_are_unique_safe_and_short_enough_for_every_server() {
        let a = scratch_name("Booking-App_Production_Database_2024");
        let b = scratch_name("Booking-App_Production_Database_2024");
        assert_ne!(a, b);
        for name in [a, b, scratch_name(""), scratch_name("1st")] {
            assert!(name.len() <= 63, "{name}");
            assert!(
                name.bytes()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_'),
                "{name}"
            );
            assert!(name.starts_with(|c: char| c.is_ascii_lowercase()), "{name}");
            assert!(name.contains("_verify_"), "{name}");
        }
    }
}
