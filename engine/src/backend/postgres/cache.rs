//! PostgreSQL's reset cache: template databases on the target's server.
//!
//! The copy of `app` is the database `app__migrate_cache_<key>`, taken from `app` with
//! `CREATE DATABASE … TEMPLATE app` right after a rebuild. It is kept with `ALLOW_CONNECTIONS
//! false`, so that no session ever connects to it and blocks the next clone, and its comment
//! holds what it contains.
//!
//! A reset clones the copy into a new database with the owner and the per-database settings
//! (`ALTER DATABASE app SET …`) of `app`, then ends every session connected to `app` and swaps
//! the two by renaming: `app` is replaced in one step, and stays as it was if the clone fails.
//! Grants on the database itself are not carried over. The replaced database is renamed
//! `app__migrate_cache_trash_…` and dropped afterwards by [`Server::sweep`]: `DROP DATABASE`
//! waits for a checkpoint, which costs more than the whole reset, so the command line runs the
//! sweep in the background.
//!
//! Everything runs on a connection to the maintenance database (`postgres`, else `template1`),
//! which also holds an advisory lock per target database while a reset runs, so two resets of
//! one database take turns instead of dropping it under each other.

use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement, Value};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::backend::cache::{CachedCopy, name_stem};
use crate::backend::target::Target;
use crate::error::{EngineError, Result};

/// The part of a copy's name after the database's: never in a name a user would choose.
const MARK: &str = "__migrate_cache_";

/// The database names a copy's name may start with: 24 bytes, so that the name, the mark, 16
/// hex digits of key and a `_new` suffix fit in PostgreSQL's 63 bytes.
const STEM: usize = 24;

/// GUCs whose value is a list: their flattened value is already SQL, and quoting it whole would
/// make it one item.
const LIST_SETTINGS: &[&str] = &[
    "search_path",
    "temp_tablespaces",
    "local_preload_libraries",
    "session_preload_libraries",
];

fn failed(message: impl Into<String>) -> EngineError {
    EngineError::ResetCache {
        message: message.into(),
    }
}

fn db_failed(action: &str) -> impl FnOnce(sea_orm::DbErr) -> EngineError + '_ {
    move |e| failed(format!("{action}: {e}"))
}

fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// Those of `schemas` (as `quote_ident` spells them) that hold a table, view, sequence, routine
/// or type, in the database `conn` is open on: the schemas a copy of the whole database would
/// put back as they were when it was made, where `fresh` leaves them alone.
pub(crate) async fn schemas_in_use(
    conn: &DatabaseConnection,
    schemas: &[String],
) -> Result<Vec<String>> {
    if schemas.is_empty() {
        return Ok(Vec::new());
    }
    let rows = conn
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT quote_ident(n.nspname) AS name FROM pg_catalog.pg_namespace n \
             WHERE quote_ident(n.nspname) = ANY($1) \
               AND (EXISTS (SELECT 1 FROM pg_catalog.pg_class c WHERE c.relnamespace = n.oid) \
                 OR EXISTS (SELECT 1 FROM pg_catalog.pg_proc p WHERE p.pronamespace = n.oid) \
                 OR EXISTS (SELECT 1 FROM pg_catalog.pg_type t \
                            WHERE t.typnamespace = n.oid AND t.typtype IN ('e', 'd', 'r', 'm'))) \
             ORDER BY 1",
            [Value::from(schemas.to_vec())],
        ))
        .await
        .map_err(db_failed("reading which schemas hold objects"))?;
    Ok(rows
        .iter()
        .filter_map(|row| row.try_get::<String>("", "name").ok())
        .collect())
}

/// What a copy's comment holds.
#[derive(Debug, Serialize, Deserialize)]
struct Comment {
    database: String,
    key: String,
    meta: serde_json::Value,
}

/// The target's server, reached through its maintenance database, holding the reset lock of one
/// target database.
pub struct Server {
    admin: DatabaseConnection,
    database: String,
    /// The key of the reset lock held, if it was asked for.
    lock: Option<i64>,
}

impl Server {
    /// Connects to the maintenance database of `target`'s server and takes the reset lock of
    /// `target`'s database, waiting as long as `PostgreSQL`'s `lock_timeout` allows (up to
    /// `timeout`, 60 s at least, since the other reset is making progress).
    ///
    /// # Errors
    /// [`EngineError::Connect`] when neither `postgres` nor `template1` can be reached;
    /// [`EngineError::ResetCache`] when the lock is not granted.
    pub(crate) async fn open(target: &Target, timeout: Duration, lock: bool) -> Result<Self> {
        let database = target
            .server_parts()
            .map(|parts| parts.database)
            .unwrap_or_default();
        let admin = match target.on_database("postgres")?.connect(timeout).await {
            Ok(admin) => admin,
            Err(first) => match target.on_database("template1")?.connect(timeout).await {
                Ok(admin) => admin,
                Err(_) => return Err(first),
            },
        };
        let digest = Sha256::digest(format!("migrate reset cache\0{database}").as_bytes());
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(&digest[..8]);
        let key = i64::from_be_bytes(bytes);
        if !lock {
            return Ok(Self {
                admin,
                database,
                lock: None,
            });
        }
        let wait = timeout.max(Duration::from_secs(60));
        let locked = async {
            admin
                .execute_unprepared(&format!("SET lock_timeout = {}", wait.as_millis()))
                .await?;
            admin
                .execute_raw(Statement::from_sql_and_values(
                    DbBackend::Postgres,
                    "SELECT pg_advisory_lock($1)",
                    [Value::from(key)],
                ))
                .await
        }
        .await;
        if let Err(e) = locked {
            let _ = admin.close().await;
            return Err(failed(format!(
                "another reset of `{database}` did not finish within {} s ({e}); try again",
                wait.as_secs()
            )));
        }
        Ok(Self {
            admin,
            database,
            lock: Some(key),
        })
    }

    fn copy_name(&self, key: &str) -> String {
        format!(
            "{}{MARK}{}",
            name_stem(&self.database, STEM),
            &key[..key.len().min(16)]
        )
    }

    /// The copies of this database, newest first (by the order their comments were written).
    pub(crate) async fn list(&self) -> Result<Vec<CachedCopy>> {
        let pattern = format!(
            "{}{}%",
            name_stem(&self.database, STEM),
            MARK.replace('_', "\\_")
        );
        let rows = self
            .admin
            .query_all_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT d.datname::text AS name, \
                        coalesce(shobj_description(d.oid, 'pg_database'), '') AS comment, \
                        pg_database_size(d.oid) AS bytes \
                 FROM pg_database d WHERE d.datname LIKE $1 \
                 ORDER BY d.oid DESC",
                [Value::from(pattern)],
            ))
            .await
            .map_err(db_failed("listing the cached copies"))?;
        let mut copies = Vec::new();
        for row in rows {
            let name: String = row.try_get("", "name").unwrap_or_default();
            let text: String = row.try_get("", "comment").unwrap_or_default();
            let bytes: i64 = row.try_get("", "bytes").unwrap_or_default();
            // A copy of another database whose name starts the same is not this one's.
            let Ok(comment) = serde_json::from_str::<Comment>(&text) else {
                continue;
            };
            if comment.database != self.database {
                continue;
            }
            copies.push(CachedCopy {
                name,
                key: comment.key,
                meta: comment.meta.to_string(),
                bytes: u64::try_from(bytes).unwrap_or_default(),
            });
        }
        Ok(copies)
    }

    async fn run(&self, sql: &str, action: &str) -> Result<()> {
        self.admin
            .execute_unprepared(sql)
            .await
            .map(drop)
            .map_err(db_failed(action))
    }

    async fn end_sessions(&self, database: &str) -> Result<()> {
        self.admin
            .execute_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE datname = $1 AND pid <> pg_backend_pid()",
                [Value::from(database)],
            ))
            .await
            .map(drop)
            .map_err(db_failed("ending the sessions on the database"))
    }

    /// Copies the target database as it is now into the copy under `key`: connections to the
    /// target are refused for the moment of the copy, and those open are ended.
    pub(crate) async fn save(&self, key: &str, meta: &str) -> Result<CachedCopy> {
        let name = self.copy_name(key);
        let building = self.scratch_name("next");
        let target = ident(&self.database);
        super::drop_database(&self.admin, &building)
            .await
            .map_err(db_failed("dropping an unfinished copy"))?;
        self.run(
            &format!("ALTER DATABASE {target} WITH ALLOW_CONNECTIONS false"),
            "closing the database to new sessions",
        )
        .await?;
        let copied = async {
            self.end_sessions(&self.database).await?;
            self.run(
                &format!("CREATE DATABASE {} TEMPLATE {target}", ident(&building)),
                "copying the database",
            )
            .await
        }
        .await;
        let reopened = self
            .run(
                &format!("ALTER DATABASE {target} WITH ALLOW_CONNECTIONS true"),
                "opening the database to sessions again",
            )
            .await;
        copied.and(reopened)?;
        let comment = Comment {
            database: self.database.clone(),
            key: key.to_owned(),
            meta: serde_json::from_str(meta)
                .map_err(|e| failed(format!("the copy's description is not JSON: {e}")))?,
        };
        let text = serde_json::to_string(&comment)
            .map_err(|e| failed(format!("cannot encode the copy's description: {e}")))?;
        let finished = async {
            self.run(
                &format!(
                    "ALTER DATABASE {} WITH ALLOW_CONNECTIONS false",
                    ident(&building)
                ),
                "closing the copy to sessions",
            )
            .await?;
            self.run(
                &format!(
                    "COMMENT ON DATABASE {} IS {}",
                    ident(&building),
                    literal(&text)
                ),
                "describing the copy",
            )
            .await?;
            super::drop_database(&self.admin, &name)
                .await
                .map_err(db_failed("dropping the copy it replaces"))?;
            self.run(
                &format!(
                    "ALTER DATABASE {} RENAME TO {}",
                    ident(&building),
                    ident(&name)
                ),
                "naming the copy",
            )
            .await
        }
        .await;
        if let Err(e) = finished {
            let _ = super::drop_database(&self.admin, &building).await;
            return Err(e);
        }
        let bytes = self
            .admin
            .query_one_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT pg_database_size($1::text) AS bytes",
                [Value::from(name.as_str())],
            ))
            .await
            .ok()
            .flatten()
            .and_then(|row| row.try_get::<i64>("", "bytes").ok())
            .unwrap_or_default();
        Ok(CachedCopy {
            name,
            key: key.to_owned(),
            meta: comment.meta.to_string(),
            bytes: u64::try_from(bytes).unwrap_or_default(),
        })
    }

    /// The owner of the target database and its own settings, as `ALTER DATABASE … SET`
    /// clauses, to give the database created again from a copy.
    async fn owner_and_settings(&self) -> Result<(Option<String>, Vec<String>)> {
        let owner = self
            .admin
            .query_one_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT pg_get_userbyid(datdba)::text AS owner FROM pg_database WHERE datname = $1",
                [Value::from(self.database.as_str())],
            ))
            .await
            .map_err(db_failed("reading the database's owner"))?
            .and_then(|row| row.try_get::<String>("", "owner").ok());
        let rows = self
            .admin
            .query_all_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT unnest(s.setconfig) AS setting FROM pg_db_role_setting s \
                 JOIN pg_database d ON d.oid = s.setdatabase \
                 WHERE d.datname = $1 AND s.setrole = 0",
                [Value::from(self.database.as_str())],
            ))
            .await
            .map_err(db_failed("reading the database's settings"))?;
        let settings = rows
            .iter()
            .filter_map(|row| row.try_get::<String>("", "setting").ok())
            .filter_map(|setting| {
                let (name, value) = setting.split_once('=')?;
                Some(if LIST_SETTINGS.contains(&name) {
                    format!("{} = {value}", ident(name))
                } else {
                    format!("{} = {}", ident(name), literal(value))
                })
            })
            .collect();
        Ok((owner, settings))
    }

    /// A name beside the copies' that no other process of this machine uses now.
    fn scratch_name(&self, kind: &str) -> String {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default();
        format!(
            "{}{MARK}{kind}_{}_{nanos}",
            name_stem(&self.database, STEM),
            std::process::id()
        )
    }

    /// Replaces the target database with a clone of `copy`: see the [module docs](self).
    pub(crate) async fn copy_into(&self, copy: &CachedCopy) -> Result<()> {
        let (owner, settings) = self.owner_and_settings().await?;
        let next = self.scratch_name("next");
        let owner = owner
            .map(|o| format!(" OWNER {}", ident(&o)))
            .unwrap_or_default();
        self.run(
            &format!(
                "CREATE DATABASE {} TEMPLATE {}{owner}",
                ident(&next),
                ident(&copy.name)
            ),
            "cloning the cached copy (run with --no-cache to rebuild instead)",
        )
        .await?;
        let swapped = async {
            for setting in settings {
                self.run(
                    &format!("ALTER DATABASE {} SET {setting}", ident(&next)),
                    "giving the clone the database's settings",
                )
                .await?;
            }
            let target = ident(&self.database);
            let trash = self.scratch_name("trash");
            self.run(
                &format!("ALTER DATABASE {target} WITH ALLOW_CONNECTIONS false"),
                "closing the database to new sessions",
            )
            .await?;
            let renamed = async {
                self.end_sessions(&self.database).await?;
                self.run(
                    &format!("ALTER DATABASE {target} RENAME TO {}", ident(&trash)),
                    "moving the database aside",
                )
                .await
            }
            .await;
            if renamed.is_ok() {
                // Says whose it was, for whoever cleans up after the sweep.
                let replaced = serde_json::json!({ "database": self.database, "replaced": true });
                let _ = self
                    .run(
                        &format!(
                            "COMMENT ON DATABASE {} IS {}",
                            ident(&trash),
                            literal(&replaced.to_string())
                        ),
                        "describing the replaced database",
                    )
                    .await;
            }
            if renamed.is_err() {
                let _ = self
                    .run(
                        &format!("ALTER DATABASE {target} WITH ALLOW_CONNECTIONS true"),
                        "opening the database to sessions again",
                    )
                    .await;
                return renamed;
            }
            self.run(
                &format!("ALTER DATABASE {} RENAME TO {target}", ident(&next)),
                "putting the clone in place",
            )
            .await
        }
        .await;
        if swapped.is_err() {
            let _ = super::drop_database(&self.admin, &next).await;
        }
        swapped
    }

    /// Drops the databases earlier resets of this database replaced, and, with `all`, the
    /// clones resets that stopped midway left; returns their names.
    pub(crate) async fn sweep(&self, all: bool) -> Result<Vec<String>> {
        let stem = name_stem(&self.database, STEM);
        let pattern = |kind: &str| format!("{stem}{MARK}{kind}_").replace('_', "\\_") + "%";
        let rows = self
            .admin
            .query_all_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT datname::text AS name FROM pg_database \
                 WHERE datname LIKE $1 OR datname LIKE $2",
                [Value::from(pattern("trash")), Value::from(pattern("next"))],
            ))
            .await
            .map_err(db_failed("listing the replaced databases"))?;
        let mut dropped = Vec::new();
        for name in rows
            .iter()
            .filter_map(|r| r.try_get::<String>("", "name").ok())
        {
            // A clone in the making may belong to a reset still running.
            if !all && name.contains(&format!("{MARK}next_")) {
                continue;
            }
            super::drop_database(&self.admin, &name)
                .await
                .map_err(db_failed("dropping a replaced database"))?;
            dropped.push(name);
        }
        Ok(dropped)
    }

    /// Drops `copy`.
    pub(crate) async fn remove(&self, copy: &CachedCopy) -> Result<()> {
        super::drop_database(&self.admin, &copy.name)
            .await
            .map_err(db_failed("dropping a cached copy"))
    }

    /// Gives the reset lock back and closes the connection.
    pub(crate) async fn close(self) {
        if let Some(key) = self.lock {
            let _ = self
                .admin
                .execute_raw(Statement::from_sql_and_values(
                    DbBackend::Postgres,
                    "SELECT pg_advisory_unlock($1)",
                    [Value::from(key)],
                ))
                .await;
        }
        let _ = self.admin.close().await;
    }
}
