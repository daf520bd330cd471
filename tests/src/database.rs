//! One uniquely named database per test: [`TestDb`] creates it, connects to it, inspects it
//! and drops it.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement, Value,
};
use tempfile::TempDir;
use url::Url;

use crate::backend::{Backend, CONNECT_TIMEOUT, REQUIRE_ALL_BACKENDS, notice, redact, scrub};
use crate::catalog::{columns, foreign_keys, indexes, rows, table_names};

/// A database created for one test and removed when dropped.
pub struct TestDb {
    /// The URL to connect to this database with.
    pub url: String,
    /// The backend it lives on.
    pub backend: Backend,
    /// The server database to drop, for PostgreSQL and MariaDB.
    server: Option<ServerDb>,
    /// The directory holding the SQLite file; removed when dropped.
    dir: Option<TempDir>,
}

/// A database on a server, with the admin URL needed to drop it.
struct ServerDb {
    admin_url: String,
    name: String,
}

// By hand, so that a `{db:?}` in an assertion message never prints a password.
impl std::fmt::Debug for TestDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestDb")
            .field("url", &redact(&self.url))
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}

impl TestDb {
    /// Creates a fresh, empty database on `backend`.
    ///
    /// Returns `None`, after printing `skipped: <backend> (...)` on stderr, when the backend's
    /// `TEST_*_URL` variable is unset.
    ///
    /// # Panics
    ///
    /// When the variable is unset but `REQUIRE_ALL_BACKENDS=1`, when the server cannot be
    /// reached, or when the database cannot be created. Messages never contain the password.
    pub async fn create(backend: Backend) -> Option<TestDb> {
        let Some(var) = backend.env_var() else {
            // SQLite needs no server: a file in a fresh temporary directory.
            let dir = tempfile::Builder::new()
                .prefix("migration-test-")
                .tempdir()
                .expect("cannot create a temporary directory for the SQLite test database");
            let url = format!("sqlite://{}?mode=rwc", dir.path().join("test.db").display());
            return Some(TestDb {
                url,
                backend,
                server: None,
                dir: Some(dir),
            });
        };

        let Some(admin_url) = backend.admin_url() else {
            if std::env::var(REQUIRE_ALL_BACKENDS).is_ok_and(|v| v.trim() == "1") {
                panic!("{var} is not set but {REQUIRE_ALL_BACKENDS}=1");
            }
            notice(&format!("skipped: {backend} (set {var} to run it)"));
            return None;
        };
        Some(Self::create_at(backend, admin_url).await)
    }

    /// Creates a fresh, empty database on the `backend` server that `admin_url` names (a URL
    /// on which databases may be created, as `TEST_*_URL` holds): for a server of the test's
    /// own, such as a node of the Galera cluster.
    ///
    /// # Panics
    ///
    /// When the server cannot be reached or the database cannot be created.
    pub async fn create_at(backend: Backend, admin_url: String) -> TestDb {
        let name = unique_database_name();
        let url = database_url(&admin_url, &name);
        let admin = admin_connect(backend, &admin_url).await;
        let create = format!("CREATE DATABASE {}", quote_database(backend, &name));
        if let Err(err) = admin.execute_unprepared(&create).await {
            panic!(
                "cannot create test database {name} on {backend} at {}: {}",
                redact(&admin_url),
                scrub(&err.to_string(), &admin_url)
            );
        }
        // The pool would close when dropped anyway, but closing it here frees the server slot
        // before the test opens its own connections.
        let _ = admin.close().await;

        TestDb {
            url,
            backend,
            server: Some(ServerDb { admin_url, name }),
            dir: None,
        }
    }

    /// Opens a new connection pool to this database.
    ///
    /// # Panics
    ///
    /// When the connection fails; the message never contains the password.
    pub async fn connect(&self) -> DatabaseConnection {
        let mut options = ConnectOptions::new(self.url.clone());
        options
            .connect_timeout(CONNECT_TIMEOUT)
            .acquire_timeout(CONNECT_TIMEOUT)
            .sqlx_logging(false);
        match Database::connect(options).await {
            Ok(db) => db,
            Err(err) => panic!(
                "cannot connect to test database {}: {}",
                redact(&self.url),
                scrub(&err.to_string(), &self.url)
            ),
        }
    }

    /// The name of the database on the server; `None` for SQLite.
    pub fn database_name(&self) -> Option<&str> {
        self.server.as_ref().map(|server| server.name.as_str())
    }

    /// The path of the database file; `None` for server backends.
    pub fn sqlite_path(&self) -> Option<PathBuf> {
        self.dir.as_ref().map(|dir| dir.path().join("test.db"))
    }

    /// The user tables in this database, sorted by name.
    ///
    /// PostgreSQL: the current schema (`public`); MariaDB: the current database; SQLite: every
    /// table except SQLite's own `sqlite_*` ones.
    pub async fn table_names(&self) -> Vec<String> {
        let db = self.connect().await;
        let names = table_names(&db).await;
        let _ = db.close().await;
        names
    }

    /// The columns of `table` (or view) as `name type nullability`, in declaration order.
    pub async fn columns(&self, table: &str) -> Vec<String> {
        let db = self.connect().await;
        let columns = columns(&db, table)
            .await
            .into_iter()
            .map(|c| format!("{} {} {}", c.name, c.ty, c.nullability))
            .collect();
        let _ = db.close().await;
        columns
    }

    /// A deterministic text fingerprint of the whole database, for "unchanged" assertions.
    ///
    /// For each table, sorted by name: its columns in order (name, type, nullability, default),
    /// its indexes and foreign keys (sorted) and every row rendered as JSON (sorted). Two dumps
    /// of one backend are equal exactly when these are equal; dumps of different backends differ.
    pub async fn dump(&self) -> String {
        let db = self.connect().await;
        let mut out = String::new();
        for table in table_names(&db).await {
            out.push_str(&format!("table {table}\n"));
            let columns = columns(&db, &table).await;
            for column in &columns {
                out.push_str(&format!("  column {column}\n"));
            }
            for index in indexes(&db, &table).await {
                out.push_str(&format!("  index {index}\n"));
            }
            for foreign_key in foreign_keys(&db, &table).await {
                out.push_str(&format!("  foreign key {foreign_key}\n"));
            }
            for row in rows(&db, &table, &columns).await {
                out.push_str(&format!("  row {row}\n"));
            }
        }
        let _ = db.close().await;
        out
    }

    /// [`TestDb::dump`] without the ledger's history table, whose rows say how the database
    /// got to where it is (a restore, a reset from a cached copy add theirs): what the database
    /// holds, for comparing a copy with its original.
    pub async fn content(&self) -> String {
        let mut out = String::new();
        let mut skipping = false;
        for line in self.dump().await.lines() {
            if let Some(table) = line.strip_prefix("table ") {
                skipping = table.ends_with("_history");
            }
            if !skipping {
                out.push_str(line);
                out.push('\n');
            }
        }
        out
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        // The SQLite directory goes with `self.dir`; only server databases need work here.
        let Some(server) = self.server.take() else {
            return;
        };
        let backend = self.backend;
        // Drop cannot be async, and this usually runs inside the test's runtime, where blocking
        // on another future panics. A thread with its own small runtime sidesteps both.
        let outcome = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|err| err.to_string())?;
            runtime.block_on(drop_database(backend, &server))
        })
        .join();
        // A leftover database is not worth aborting over (a panic during unwinding would abort
        // the whole test binary), so report it and move on.
        match outcome {
            Ok(Ok(())) => {}
            Ok(Err(message)) => notice(&format!("warning: {message}")),
            Err(_) => notice(&format!(
                "warning: the thread dropping a {backend} test database panicked"
            )),
        }
    }
}

/// Whether the server of `backend` (from its `TEST_*_URL`) has a database called `name`.
///
/// # Panics
///
/// For SQLite, when the variable is unset, or when the server cannot be reached.
pub async fn server_has_database(backend: Backend, name: &str) -> bool {
    let admin_url = backend
        .admin_url()
        .unwrap_or_else(|| panic!("{backend} has no test server URL"));
    let admin = admin_connect(backend, &admin_url).await;
    let sql = match backend {
        Backend::Sqlite => panic!("SQLite has no server"),
        Backend::Postgres => "SELECT datname::text FROM pg_catalog.pg_database WHERE datname = $1",
        Backend::MariaDb => {
            "SELECT CAST(schema_name AS CHAR) FROM information_schema.schemata \
             WHERE schema_name = ?"
        }
    };
    let found = admin
        .query_one_raw(Statement::from_sql_and_values(
            backend.db_backend(),
            sql,
            [Value::from(name)],
        ))
        .await
        .unwrap_or_else(|err| panic!("cannot list databases on {backend}: {err}"))
        .is_some();
    let _ = admin.close().await;
    found
}

/// `mt_<pid>_<counter>_<nanos>`: unique across parallel tests and test binaries, lowercase, and
/// well under PostgreSQL's 63-byte identifier limit (at most 3 + 10 + 1 + 20 + 1 + 20 = 55).
/// The process id and counter make names unique within a run; the clock, across runs.
fn unique_database_name() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let counter = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_nanos())
        .unwrap_or_default();
    format!("mt_{}_{counter}_{nanos}", std::process::id())
}

/// The admin URL with its path (the database) replaced by `name`; query parameters are kept.
pub(crate) fn database_url(admin_url: &str, name: &str) -> String {
    let mut url = Url::parse(admin_url).unwrap_or_else(|err| {
        panic!(
            "test server URL {} is not a valid URL: {err}",
            redact(admin_url)
        )
    });
    url.set_path(&format!("/{name}"));
    url.to_string()
}

/// Quotes a database name for `CREATE`/`DROP DATABASE`, which SeaQuery has no builder for.
/// Names come from [`unique_database_name`], so this is belt and braces.
fn quote_database(backend: Backend, name: &str) -> String {
    assert!(
        name.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
        "unexpected test database name {name:?}"
    );
    match backend {
        Backend::MariaDb => format!("`{name}`"),
        Backend::Sqlite | Backend::Postgres => format!("\"{name}\""),
    }
}

/// Connects to a test server's admin URL with one connection.
///
/// # Panics
///
/// Always when the server cannot be reached: a set URL that does not work is a broken set-up,
/// never a skip.
async fn admin_connect(backend: Backend, admin_url: &str) -> DatabaseConnection {
    let mut options = ConnectOptions::new(admin_url.to_owned());
    options
        .max_connections(1)
        .min_connections(0)
        .connect_timeout(CONNECT_TIMEOUT)
        .acquire_timeout(CONNECT_TIMEOUT)
        .sqlx_logging(false);
    match Database::connect(options).await {
        Ok(db) => db,
        Err(err) => panic!(
            "cannot reach the {backend} test server at {} (from {}): {}",
            redact(admin_url),
            backend.env_var().unwrap_or("?"),
            scrub(&err.to_string(), admin_url)
        ),
    }
}

/// Drops a server test database, disconnecting anyone still using it.
async fn drop_database(backend: Backend, server: &ServerDb) -> Result<(), String> {
    let fail = |what: &str, err: sea_orm::DbErr| {
        format!(
            "cannot {what} test database {} on {backend}: {}",
            server.name,
            scrub(&err.to_string(), &server.admin_url)
        )
    };
    let mut options = ConnectOptions::new(server.admin_url.clone());
    options
        .max_connections(1)
        .connect_timeout(CONNECT_TIMEOUT)
        .acquire_timeout(CONNECT_TIMEOUT)
        .sqlx_logging(false);
    let admin = Database::connect(options)
        .await
        .map_err(|err| fail("connect to drop", err))?;
    let quoted = quote_database(backend, &server.name);
    match backend {
        Backend::Sqlite => {}
        Backend::Postgres => {
            // WITH (FORCE) (PostgreSQL 13+) terminates sessions a test left open; pools are
            // closed asynchronously, so some usually are.
            admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS {quoted} WITH (FORCE)"))
                .await
                .map_err(|err| fail("drop", err))?;
            // The reset cache's copies of it, and the databases its resets replaced, which say
            // whose they are in their comments.
            let copies = admin
                .query_all_raw(Statement::from_sql_and_values(
                    DbBackend::Postgres,
                    "SELECT datname::text FROM pg_database d \
                     WHERE datname LIKE '%\\_\\_migrate\\_cache\\_%' \
                       AND shobj_description(d.oid, 'pg_database') LIKE $1",
                    [Value::from(format!("%\"database\":\"{}\"%", server.name))],
                ))
                .await
                .map_err(|err| fail("list the cached copies of", err))?;
            for copy in copies {
                if let Ok(name) = copy.try_get_by_index::<String>(0) {
                    admin
                        .execute_unprepared(&format!(
                            "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                            name.replace('"', "\"\"")
                        ))
                        .await
                        .map_err(|err| fail("drop a cached copy of", err))?;
                }
            }
        }
        Backend::MariaDb => {
            // MariaDB has no FORCE: a session left inside a transaction (say, by a panicking
            // test) keeps a metadata lock and DROP DATABASE would wait for it indefinitely. Kill
            // such sessions first, and bound the wait in case one slips through.
            let sessions = admin
                .query_all_raw(Statement::from_sql_and_values(
                    DbBackend::MySql,
                    "SELECT id FROM information_schema.processlist \
                     WHERE db = ? AND id <> CONNECTION_ID()",
                    [Value::from(server.name.as_str())],
                ))
                .await
                .map_err(|err| fail("list sessions of", err))?;
            for session in sessions {
                if let Ok(id) = session.try_get_by_index::<u64>(0) {
                    // The session may already be gone; that is the outcome we want.
                    let _ = admin.execute_unprepared(&format!("KILL {id}")).await;
                }
            }
            admin
                .execute_unprepared("SET SESSION lock_wait_timeout = 30")
                .await
                .map_err(|err| fail("prepare to drop", err))?;
            admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS {quoted}"))
                .await
                .map_err(|err| fail("drop", err))?;
        }
    }
    let _ = admin.close().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_names_are_unique_lowercase_and_short_enough_for_postgres() {
        let names: Vec<String> = (0..100).map(|_| unique_database_name()).collect();
        let mut distinct = names.clone();
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), names.len());
        for name in &names {
            assert!(name.starts_with("mt_"), "{name}");
            assert!(name.len() <= 63, "{name}");
            assert_eq!(
                quote_database(Backend::Postgres, name),
                format!("\"{name}\"")
            );
        }
    }

    #[test]
    fn database_url_replaces_only_the_database() {
        assert_eq!(
            database_url(
                "postgres://postgres@127.0.0.1:5432/test?sslmode=disable",
                "mt_1"
            ),
            "postgres://postgres@127.0.0.1:5432/mt_1?sslmode=disable"
        );
        assert_eq!(
            database_url("mysql://root@127.0.0.1:3306", "mt_2"),
            "mysql://root@127.0.0.1:3306/mt_2"
        );
    }
}
