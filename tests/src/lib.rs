//! Test support: one uniquely named database per test, on each backend.
//!
//! [`TestDb::create`] makes a fresh database and [`Drop`] removes it, so tests run in parallel
//! without sharing state (the model is sqlx's `sqlx-core/src/testing/mod.rs`):
//!
//! - SQLite: a file in a temporary directory, always available.
//! - PostgreSQL: `CREATE DATABASE` on the server named by `TEST_POSTGRES_URL`.
//! - MariaDB: `CREATE DATABASE` on the server named by `TEST_MARIADB_URL`.
//!
//! A server backend whose variable is unset is skipped with a line on stderr, unless
//! `REQUIRE_ALL_BACKENDS=1` (set in CI), which turns the skip into a failure. A variable that is
//! set but names a server that cannot be reached always fails: a typo must not pass as a skip.
//!
//! [`backend_matrix!`] turns one `async fn scenario(db: TestDb)` into a test per backend, and
//! [`TestDb::table_names`] / [`TestDb::dump`] inspect a database for assertions.

// This crate is test support: failing loudly is its job, so the workspace lints against
// unwrap/expect/panic (meant for the engine and the CLI) do not apply here.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod data;

use std::collections::HashMap;
use std::future::Future;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func, Query};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement, Value,
};
use tempfile::TempDir;
use url::Url;

/// The variable that makes a missing server URL a failure instead of a skip.
pub const REQUIRE_ALL_BACKENDS: &str = "REQUIRE_ALL_BACKENDS";

/// How long to wait for a test server before failing.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A database backend the suite runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    /// SQLite, in a temporary file.
    Sqlite,
    /// PostgreSQL, from `TEST_POSTGRES_URL`.
    Postgres,
    /// MariaDB (or MySQL), from `TEST_MARIADB_URL`.
    MariaDb,
}

impl Backend {
    /// Every backend, in the order the matrix runs them.
    pub const ALL: [Backend; 3] = [Backend::Sqlite, Backend::Postgres, Backend::MariaDb];

    /// The short lowercase name used in test names and messages: `sqlite`, `postgres`, `mariadb`.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
            Backend::MariaDb => "mariadb",
        }
    }

    /// The environment variable holding the admin URL of the test server, if the backend needs one.
    pub fn env_var(self) -> Option<&'static str> {
        match self {
            Backend::Sqlite => None,
            Backend::Postgres => Some("TEST_POSTGRES_URL"),
            Backend::MariaDb => Some("TEST_MARIADB_URL"),
        }
    }

    /// The admin URL from the environment; `None` for SQLite or when the variable is unset or empty.
    pub fn admin_url(self) -> Option<String> {
        let var = self.env_var()?;
        std::env::var(var).ok().filter(|url| !url.trim().is_empty())
    }

    /// The matching SeaORM backend.
    pub fn db_backend(self) -> DbBackend {
        match self {
            Backend::Sqlite => DbBackend::Sqlite,
            Backend::Postgres => DbBackend::Postgres,
            Backend::MariaDb => DbBackend::MySql,
        }
    }
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

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

        Some(TestDb {
            url,
            backend,
            server: Some(ServerDb { admin_url, name }),
            dir: None,
        })
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

/// Creates the database for `backend` and runs `scenario` on it; does nothing when the backend
/// is skipped. This is what each test generated by [`backend_matrix!`] calls.
pub async fn run_scenario<F, Fut>(backend: Backend, scenario: F)
where
    F: FnOnce(TestDb) -> Fut,
    Fut: Future<Output = ()>,
{
    if let Some(db) = TestDb::create(backend).await {
        scenario(db).await;
    }
}

/// Runs each `async fn name(db: TestDb)` on every backend.
///
/// For each name it generates `mod name { sqlite, postgres, mariadb }`, three `#[tokio::test]`s,
/// so a failure reads as `name::postgres` and `cargo test name::` runs one scenario everywhere.
/// The caller's crate must depend on `tokio` (for `#[tokio::test]`).
///
/// ```ignore
/// use tests::{TestDb, backend_matrix};
///
/// async fn a_new_database_is_empty(db: TestDb) {
///     assert!(db.table_names().await.is_empty());
/// }
///
/// backend_matrix!(a_new_database_is_empty);
/// # fn main() {}
/// ```
#[macro_export]
macro_rules! backend_matrix {
    ($($scenario:ident),+ $(,)?) => {
        $(
            mod $scenario {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    $crate::run_scenario($crate::Backend::Sqlite, super::$scenario).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    $crate::run_scenario($crate::Backend::Postgres, super::$scenario).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn mariadb() {
                    $crate::run_scenario($crate::Backend::MariaDb, super::$scenario).await;
                }
            }
        )+
    };
}

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// Cargo's target directory: `CARGO_TARGET_DIR`, else the one the running test binary was built
/// into (`<target>/debug/deps/<test>-<hash>`).
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR").filter(|dir| !dir.is_empty()) {
        Some(dir) if Path::new(&dir).is_absolute() => PathBuf::from(dir),
        Some(dir) => workspace_root().join(dir),
        None => {
            let exe = std::env::current_exe().expect("cannot locate the test binary");
            exe.ancestors()
                .nth(3)
                .unwrap_or_else(|| panic!("unexpected test binary location {}", exe.display()))
                .to_path_buf()
        }
    }
}

/// The binary `bin` of workspace package `package`, built once per test process.
///
/// Cargo builds only this crate's own binaries for its tests (`CARGO_BIN_EXE_*`); the
/// application's `migrate` and the `seed` binary belong to other packages, so tests that run
/// them build them here, into the same target directory.
pub fn workspace_bin(package: &str, bin: &str) -> &'static Path {
    static BUILT: OnceLock<Mutex<HashMap<String, &'static Path>>> = OnceLock::new();
    let mut built = BUILT
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(path) = built.get(bin) {
        return path;
    }
    let output = std::process::Command::new(env!("CARGO"))
        .args(["build", "-q", "-p", package, "--bin", bin])
        .current_dir(workspace_root())
        .output()
        .expect("cannot run cargo");
    assert!(
        output.status.success(),
        "cargo build -p {package} --bin {bin} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let path = target_dir()
        .join("debug")
        .join(format!("{bin}{}", std::env::consts::EXE_SUFFIX));
    assert!(path.is_file(), "no {bin} binary at {}", path.display());
    let path: &'static Path = Box::leak(path.into_boxed_path());
    built.insert(bin.to_owned(), path);
    path
}

/// Prints a line on stderr that shows even for passing tests.
///
/// The test harness captures `eprintln!` and hides it when a test passes; skips and leftover
/// databases must be visible in every run, so this writes to the stderr handle directly.
fn notice(line: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// Replaces the password in `url`, if any, with `***`; returns the input unchanged when it does
/// not parse as a URL.
pub fn redact(url: &str) -> String {
    match Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

/// Removes the password of `url` from `message`, in case a driver echoes it back.
fn scrub(message: &str, url: &str) -> String {
    let Some(password) = Url::parse(url)
        .ok()
        .and_then(|parsed| parsed.password().map(str::to_owned))
        .filter(|password| !password.is_empty())
    else {
        return message.to_owned();
    };
    // The URL holds the password percent-encoded; a driver may echo either form.
    let decoded = percent_decode(&password);
    let mut scrubbed = message.replace(&password, "***");
    if !decoded.is_empty() {
        scrubbed = scrubbed.replace(&decoded, "***");
    }
    scrubbed
}

/// Decodes `%XX` escapes, leaving anything malformed as it is.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|pair| std::str::from_utf8(pair).ok())
            .and_then(|pair| u8::from_str_radix(pair, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
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
fn database_url(admin_url: &str, name: &str) -> String {
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

/// Runs a catalog query returning one text column per row.
async fn strings(db: &DatabaseConnection, sql: &str, values: Vec<Value>) -> Vec<String> {
    let backend = db.get_database_backend();
    db.query_all_raw(Statement::from_sql_and_values(backend, sql, values))
        .await
        .unwrap_or_else(|err| panic!("catalog query failed: {err}\n{sql}"))
        .into_iter()
        .map(|row| {
            row.try_get_by_index::<String>(0)
                .unwrap_or_else(|err| panic!("catalog query returned a non-text value: {err}"))
        })
        .collect()
}

async fn table_names(db: &DatabaseConnection) -> Vec<String> {
    let sql = match db.get_database_backend() {
        DbBackend::Postgres => {
            "SELECT tablename::text FROM pg_catalog.pg_tables WHERE schemaname = current_schema()"
        }
        DbBackend::MySql => {
            "SELECT CAST(table_name AS CHAR) FROM information_schema.tables \
             WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE'"
        }
        DbBackend::Sqlite => {
            "SELECT name FROM sqlite_master \
             WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
        }
        other => panic!("unsupported backend {other:?}"),
    };
    let mut names = strings(db, sql, Vec::new()).await;
    // Sorted here rather than in SQL so the order does not depend on the server's collation.
    names.sort();
    names
}

/// One column of a table, as the dump shows it.
struct Column {
    name: String,
    ty: String,
    /// `not null` or `null`.
    nullability: String,
    default: Option<String>,
}

impl Column {
    /// Binary values cannot go into JSON as they are; the dump hex-encodes them.
    fn is_binary(&self) -> bool {
        let ty = self.ty.to_ascii_lowercase();
        ty.contains("blob") || ty.contains("binary")
    }
}

impl std::fmt::Display for Column {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} {}", self.name, self.ty, self.nullability)?;
        if let Some(default) = &self.default {
            write!(f, " default {default}")?;
        }
        Ok(())
    }
}

async fn columns(db: &DatabaseConnection, table: &str) -> Vec<Column> {
    let backend = db.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => {
            "SELECT a.attname::text, pg_catalog.format_type(a.atttypid, a.atttypmod), \
                    CASE WHEN a.attnotnull THEN 'not null' ELSE 'null' END, \
                    pg_catalog.pg_get_expr(d.adbin, d.adrelid) \
             FROM pg_catalog.pg_attribute a \
             JOIN pg_catalog.pg_class c ON c.oid = a.attrelid \
             JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
             LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
             WHERE n.nspname = current_schema() AND c.relname = $1 \
               AND a.attnum > 0 AND NOT a.attisdropped \
             ORDER BY a.attnum"
        }
        DbBackend::MySql => {
            "SELECT CAST(column_name AS CHAR), CAST(column_type AS CHAR), \
                    IF(is_nullable = 'NO', 'not null', 'null'), CAST(column_default AS CHAR) \
             FROM information_schema.columns \
             WHERE table_schema = DATABASE() AND table_name = ? \
             ORDER BY ordinal_position"
        }
        DbBackend::Sqlite => {
            "SELECT name, type, CASE WHEN \"notnull\" <> 0 THEN 'not null' ELSE 'null' END, \
                    dflt_value \
             FROM pragma_table_info(?) ORDER BY cid"
        }
        other => panic!("unsupported backend {other:?}"),
    };
    db.query_all_raw(Statement::from_sql_and_values(
        backend,
        sql,
        [Value::from(table)],
    ))
    .await
    .unwrap_or_else(|err| panic!("cannot list the columns of {table}: {err}"))
    .into_iter()
    .map(|row| Column {
        name: row.try_get_by_index(0).unwrap(),
        ty: row.try_get_by_index(1).unwrap(),
        nullability: row.try_get_by_index(2).unwrap(),
        default: row.try_get_by_index(3).unwrap(),
    })
    .collect()
}

async fn indexes(db: &DatabaseConnection, table: &str) -> Vec<String> {
    let backend = db.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => {
            "SELECT indexname::text || ': ' || indexdef FROM pg_catalog.pg_indexes \
             WHERE schemaname = current_schema() AND tablename = $1"
        }
        DbBackend::MySql => {
            "SELECT CAST(CONCAT(index_name, ': ', \
                        IF(non_unique = 0, 'unique ', ''), \
                        '(', GROUP_CONCAT(column_name ORDER BY seq_in_index SEPARATOR ', '), ')') \
                    AS CHAR) \
             FROM information_schema.statistics \
             WHERE table_schema = DATABASE() AND table_name = ? \
             GROUP BY index_name, non_unique"
        }
        DbBackend::Sqlite => {
            "SELECT name || ': ' || COALESCE(sql, '(automatic)') FROM sqlite_master \
             WHERE type = 'index' AND tbl_name = ?"
        }
        other => panic!("unsupported backend {other:?}"),
    };
    let mut indexes = strings(db, sql, vec![Value::from(table)]).await;
    indexes.sort();
    indexes
}

async fn foreign_keys(db: &DatabaseConnection, table: &str) -> Vec<String> {
    let backend = db.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => {
            "SELECT c.conname::text || ': ' || pg_catalog.pg_get_constraintdef(c.oid) \
             FROM pg_catalog.pg_constraint c \
             JOIN pg_catalog.pg_class t ON t.oid = c.conrelid \
             JOIN pg_catalog.pg_namespace n ON n.oid = t.relnamespace \
             WHERE n.nspname = current_schema() AND t.relname = $1 AND c.contype = 'f'"
        }
        DbBackend::MySql => {
            "SELECT CAST(CONCAT(k.constraint_name, ': FOREIGN KEY (', \
                        GROUP_CONCAT(k.column_name ORDER BY k.ordinal_position SEPARATOR ', '), \
                        ') REFERENCES ', k.referenced_table_name, '(', \
                        GROUP_CONCAT(k.referenced_column_name \
                                     ORDER BY k.ordinal_position SEPARATOR ', '), \
                        ') ON DELETE ', r.delete_rule, ' ON UPDATE ', r.update_rule) AS CHAR) \
             FROM information_schema.key_column_usage k \
             JOIN information_schema.referential_constraints r \
               ON r.constraint_schema = k.constraint_schema \
              AND r.constraint_name = k.constraint_name AND r.table_name = k.table_name \
             WHERE k.table_schema = DATABASE() AND k.table_name = ? \
               AND k.referenced_table_name IS NOT NULL \
             GROUP BY k.constraint_name, k.referenced_table_name, r.delete_rule, r.update_rule"
        }
        // SQLite foreign keys have no names; `to` is NULL when the parent's primary key is meant.
        DbBackend::Sqlite => {
            "SELECT 'FOREIGN KEY (' || group_concat(\"from\", ', ') || ') REFERENCES ' \
                    || \"table\" || '(' || group_concat(COALESCE(\"to\", ''), ', ') \
                    || ') ON DELETE ' || on_delete || ' ON UPDATE ' || on_update \
             FROM (SELECT * FROM pragma_foreign_key_list(?) ORDER BY id, seq) \
             GROUP BY id"
        }
        other => panic!("unsupported backend {other:?}"),
    };
    let mut foreign_keys = strings(db, sql, vec![Value::from(table)]).await;
    foreign_keys.sort();
    foreign_keys
}

/// Every row of `table` as a JSON object, sorted.
async fn rows(db: &DatabaseConnection, table: &str, columns: &[Column]) -> Vec<String> {
    let backend = db.get_database_backend();
    let mut select = Query::select();
    match backend {
        DbBackend::Postgres => {
            // row_to_json renders every type, bytea included, as valid JSON.
            select
                .expr(Expr::cust("row_to_json(\"t\")::text"))
                .from_as(Alias::new(table), Alias::new("t"));
        }
        DbBackend::MySql | DbBackend::Sqlite => {
            let (object, hex) = match backend {
                DbBackend::MySql => ("JSON_OBJECT", "HEX"),
                _ => ("json_object", "hex"),
            };
            let mut args = Vec::with_capacity(columns.len() * 2);
            for column in columns {
                args.push(Expr::val(column.name.as_str()));
                let value = Expr::col(Alias::new(column.name.as_str()));
                args.push(if column.is_binary() {
                    Func::cust(Alias::new(hex)).arg(value).into()
                } else {
                    value
                });
            }
            let json = Expr::from(Func::cust(Alias::new(object)).args(args));
            // MariaDB's JSON_OBJECT returns LONGTEXT with a binary-ish collation on some
            // versions; the CAST makes the driver hand it back as a string.
            let json = match backend {
                DbBackend::MySql => json.cast_as(Alias::new("CHAR")),
                _ => json,
            };
            select.expr(json).from(Alias::new(table));
        }
        other => panic!("unsupported backend {other:?}"),
    }
    let mut rows: Vec<String> = db
        .query_all(&select)
        .await
        .unwrap_or_else(|err| panic!("cannot read the rows of {table}: {err}"))
        .into_iter()
        .map(|row| row.try_get_by_index::<String>(0).unwrap())
        .collect();
    // Sorted here rather than with ORDER BY so the order does not depend on collation.
    rows.sort();
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_hides_the_password_and_keeps_the_rest() {
        assert_eq!(
            redact("postgres://app:s3cret@db.example:5432/app?sslmode=disable"),
            "postgres://app:***@db.example:5432/app?sslmode=disable"
        );
    }

    #[test]
    fn redact_leaves_urls_without_a_password_alone() {
        let url = "mysql://root@127.0.0.1:3306/test";
        assert_eq!(redact(url), url);
    }

    #[test]
    fn scrub_removes_the_password_in_both_encodings() {
        let url = "postgres://app:p%40ss@localhost/app";
        assert_eq!(scrub("bad login p%40ss / p@ss", url), "bad login *** / ***");
    }

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
