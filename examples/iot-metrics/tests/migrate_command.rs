//! The `migrate` binary on each backend: `up` applies the five sets, `check` finds nothing
//! pending, `verify` finds every `down` undoing its `up`, and `down --all` leaves nothing but
//! the engine's ledgers.
//!
//! On PostgreSQL the maintenance set gets a second test database through
//! `MAINTENANCE_DATABASE_URL` (its default, the server's `postgres` database, is shared by
//! every test); on MariaDB and SQLite it runs on the application database, as it does there by
//! default.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::path::Path;

use support::{column, connect};
use tests::{Backend, TestDb};

/// The `migrate` binary, run in `dir` with the variables it reads from the runner removed.
fn migrate(dir: &Path, app: &TestDb, maintenance: Option<&TestDb>) -> assert_cmd::Command {
    let mut command = assert_cmd::Command::new(env!("CARGO_BIN_EXE_iot-migrate"));
    command.current_dir(dir).env("NO_COLOR", "1");
    for var in tests::process::ENV_VARS {
        command.env_remove(var);
    }
    for set in ["foundational", "timeseries", "ess_signals", "ess_summary"] {
        command.env_remove(format!("{}_DATABASE_URL", set.to_ascii_uppercase()));
    }
    command.env("DATABASE_URL", &app.url);
    match maintenance {
        Some(db) => command.env("MAINTENANCE_DATABASE_URL", &db.url),
        None => command.env_remove("MAINTENANCE_DATABASE_URL"),
    };
    command
}

/// Runs `migrate args`, which must exit with 0; returns its stdout.
fn succeed(mut command: assert_cmd::Command, args: &[&str]) -> String {
    let output = command.args(args).output().unwrap();
    assert!(
        output.status.success(),
        "migrate {args:?}: {}\nstdout:\n{}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The tables left besides the engine's ledgers and their history.
async fn non_ledger_tables(db: &TestDb) -> Vec<String> {
    let mut tables = db.table_names().await;
    tables
        .retain(|t| !t.ends_with("schema_migrations") && !t.ends_with("schema_migrations_history"));
    tables
}

/// The roles left on the server that are named after `app`'s scratch databases, which
/// `verify` names after the first 20 characters of `app`'s name
/// (`<prefix>_verify_<pid>_<counter>_<nanos>`). Roles are the server's, so only the sets'
/// `down`, which `verify` runs before it drops a scratch database, removes them.
async fn scratch_roles(app: &TestDb) -> Vec<String> {
    let Some(name) = app.database_name() else {
        return Vec::new();
    };
    let prefix: String = name.chars().take(20).collect();
    let conn = connect(&app.url).await;
    let roles = match app.backend {
        Backend::Postgres => {
            column(
                &conn,
                &format!(
                    "SELECT rolname::text FROM pg_roles \
                     WHERE rolname LIKE '{prefix}\\_verify\\_%' AND rolname ~ '_(writer|reader)$'"
                ),
            )
            .await
        }
        Backend::MariaDb => {
            column(
                &conn,
                &format!(
                    "SELECT CAST(User AS CHAR) FROM mysql.user \
                     WHERE is_role = 'Y' AND User LIKE '{prefix}\\_verify\\_%'"
                ),
            )
            .await
        }
        Backend::Sqlite => Vec::new(),
    };
    let _ = conn.close().await;
    roles
}

async fn scenario(backend: Backend) {
    let Some(app) = TestDb::create(backend).await else {
        return;
    };
    let maintenance = match backend {
        Backend::Postgres => TestDb::create(backend).await,
        _ => None,
    };
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| succeed(migrate(dir.path(), &app, maintenance.as_ref()), args);

    let up = run(&["up"]);
    for set in [
        "maintenance",
        "foundational",
        "timeseries",
        "ess_signals",
        "ess_summary",
    ] {
        assert!(up.contains(&format!("Set {set} on")), "{up}");
    }
    run(&["check"]);
    let verified = run(&["verify"]);
    assert_eq!(
        scratch_roles(&app).await,
        Vec::<String>::new(),
        "verify left roles behind"
    );
    assert_eq!(
        verified.matches("each down restores the schema").count(),
        5,
        "{verified}"
    );
    run(&["down", "--all", "--yes"]);
    assert_eq!(non_ledger_tables(&app).await, Vec::<String>::new());
    if let Some(maintenance) = &maintenance {
        assert_eq!(non_ledger_tables(maintenance).await, Vec::<String>::new());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite() {
    scenario(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres() {
    scenario(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mariadb() {
    scenario(Backend::MariaDb).await;
}
