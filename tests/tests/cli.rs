//! End-to-end tests of the `migrate` binary: exit codes, one-line errors without passwords,
//! the default SQLite database, every schema-changing command on each backend, `--help` and
//! `create`.
//!
//! The binary is built once per test process with `cargo build -p migration --bin migrate` (it
//! belongs to the `migration` package, so Cargo does not build it for this crate) and always runs
//! in a temporary directory with the variables it reads removed, so neither the runner's
//! environment nor a `.env` of the checkout leaks in.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs;
use std::path::Path;
use std::time::Duration;

use serde_json::Value;
use tempfile::TempDir;
use tests::{
    Backend, Run, TestDb, backend_matrix, migrate_bin, process, server_has_database, target_dir,
    workspace_root,
};

use url::Url;

/// The password of every bad URL; it must never be printed.
const PASSWORD: &str = "hunter22";

/// The second word of the bad URLs' passwords that hold a space, a quote, a backtick or an `&`
/// after [`PASSWORD`]; it must never be printed either.
const PASSWORD_TAIL: &str = "plugh77";

/// The application's migration versions, oldest first.
fn versions() -> Vec<String> {
    migration_engine::MigrationSet::from_migrator::<migration::Migrator>()
        .unwrap()
        .iter()
        .map(|m| m.id.version.clone())
        .collect()
}

/// The newest migration's version.
fn newest() -> String {
    versions().pop().unwrap()
}

/// The ledger tables under their default name.
const LEDGER: [&str; 2] = ["schema_migrations", "schema_migrations_history"];

/// The reference schema's tables, sorted.
const APP_TABLES: [&str; 23] = [
    "audit_logs",
    "booking_cancellations",
    "booking_items",
    "bookings",
    "business_hours",
    "cancel_reasons",
    "customers",
    "holidays",
    "idempotency_keys",
    "notifications",
    "outbox_events",
    "payment_methods",
    "payments",
    "resource_time_offs",
    "resources",
    "schedules",
    "service_resources",
    "services",
    "tenants",
    "timeslots",
    "user_resources",
    "users",
    "webhook_events",
];

/// Every table after `up` with the ledger named `ledger`, sorted.
fn all_tables(ledger: &str) -> Vec<String> {
    let mut tables: Vec<String> = APP_TABLES.iter().map(|t| (*t).to_owned()).collect();
    tables.push(ledger.to_owned());
    tables.push(format!("{ledger}_history"));
    tables.sort();
    tables
}

// ---------------------------------------------------------------------------------------------
// Running the binary
// ---------------------------------------------------------------------------------------------

/// A `migrate` command running in `dir`, isolated from the runner's environment.
fn migrate(dir: &Path) -> assert_cmd::Command {
    let mut cmd = process::command(migrate_bin(), dir);
    cmd.timeout(Duration::from_secs(120));
    cmd
}

/// The checks of this file on top of [`Run`]'s own.
trait CliRun: Sized {
    /// Asserts that the run failed with `code`, one line `error: …` on stderr, no panic or
    /// backtrace, and no password anywhere. With `verbose`, log lines may precede the error.
    fn clean_failure(self, code: i32, verbose: bool) -> Self;

    /// Asserts that neither [`PASSWORD`] nor [`PASSWORD_TAIL`] appears on stdout or stderr.
    fn no_password(self) -> Self;
}

impl CliRun for Run {
    #[track_caller]
    fn clean_failure(self, code: i32, verbose: bool) -> Self {
        let run = self.code(code);
        let errors: Vec<&str> = run
            .stderr
            .lines()
            .filter(|line| line.starts_with("error: "))
            .collect();
        assert_eq!(errors.len(), 1, "expected one error line: {run:?}");
        if !verbose {
            assert_eq!(
                run.stderr.trim_end().lines().count(),
                1,
                "expected only the error on stderr: {run:?}"
            );
        }
        let stderr = run.stderr.to_lowercase();
        for word in ["panicked", "backtrace", "internal error"] {
            assert!(!stderr.contains(word), "`{word}` on stderr: {run:?}");
        }
        run.no_password()
    }

    #[track_caller]
    fn no_password(self) -> Self {
        for secret in [PASSWORD, PASSWORD_TAIL] {
            assert!(
                !self.stdout.contains(secret) && !self.stderr.contains(secret),
                "the password leaked: {self:?}"
            );
        }
        self
    }
}

/// Runs `migrate` in `dir` with `args`.
fn run(dir: &Path, args: &[&str]) -> Run {
    run_with(migrate(dir), args)
}

/// Runs a prepared `migrate` command with `args`.
fn run_with(cmd: assert_cmd::Command, args: &[&str]) -> Run {
    // Every run, passing or failing, is checked for the password: nothing the binary prints
    // may carry it.
    process::run(cmd, migrate_bin(), args).no_password()
}

/// A fresh empty directory to run the binary in.
fn workdir() -> TempDir {
    tempfile::Builder::new()
        .prefix("migrate-cli-")
        .tempdir()
        .expect("cannot create a temporary directory")
}

/// Runs a bad invocation twice, plainly and with `RUST_BACKTRACE=1 -v`, and asserts each fails
/// cleanly with exit code 2. Returns the plain run.
#[track_caller]
fn assert_fails_cleanly(dir: &Path, args: &[&str]) -> Run {
    let plain = run(dir, args).clean_failure(2, false);
    let mut noisy = migrate(dir);
    noisy.env("RUST_BACKTRACE", "1");
    let mut verbose_args = vec!["-v"];
    verbose_args.extend_from_slice(args);
    run_with(noisy, &verbose_args).clean_failure(2, true);
    plain
}

/// `url` with its password replaced by [`PASSWORD`] and, when given, its database by `database`.
fn with_password(url: &str, database: Option<&str>) -> String {
    let mut url = Url::parse(url).expect("test server URL is not a URL");
    url.set_password(Some(PASSWORD))
        .expect("test server URL cannot take a password");
    if let Some(database) = database {
        url.set_path(&format!("/{database}"));
    }
    url.to_string()
}

// ---------------------------------------------------------------------------------------------
// Inspecting results
// ---------------------------------------------------------------------------------------------

/// The states of `status --format json`, in version order.
fn states(status: &Value) -> Vec<(String, String)> {
    status["migrations"]
        .as_array()
        .unwrap_or_else(|| panic!("no migrations array in {status}"))
        .iter()
        .map(|m| {
            (
                m["version"].as_str().unwrap().to_owned(),
                m["state"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// Every version with the same `state`.
fn all(state: &str) -> Vec<(String, String)> {
    versions()
        .into_iter()
        .map(|v| (v, state.to_owned()))
        .collect()
}

/// `status --format json` on `db`, with extra global flags.
fn status_of(dir: &Path, db: &TestDb, flags: &[&str]) -> Vec<(String, String)> {
    let mut args = vec!["-u", db.url.as_str()];
    args.extend_from_slice(flags);
    args.extend_from_slice(&["status", "--format", "json"]);
    states(&run(dir, &args).code(0).json())
}

// ---------------------------------------------------------------------------------------------
// 1. No configuration: the default SQLite file
// ---------------------------------------------------------------------------------------------

#[test]
fn up_without_configuration_migrates_the_default_sqlite_file() {
    let dir = workdir();
    let dev_db = dir.path().join("dev.db");
    assert!(!dev_db.exists());

    run(dir.path(), &["up"]).code(0);
    assert!(
        dev_db.is_file(),
        "up did not create dev.db in the working directory"
    );

    let status = run(dir.path(), &["status"]).code(0);
    let summary = format!("{} applied.", versions().len());
    assert!(status.stdout.contains(&summary), "{status:?}");
    let json = run(dir.path(), &["status", "--format", "json"])
        .code(0)
        .json();
    assert_eq!(states(&json), all("applied"));

    run(dir.path(), &["check"]).code(0);
    run(dir.path(), &["down"]).code(0);
    let check = run(dir.path(), &["check"]).code(6);
    let summary = format!("{} applied, 1 pending.", versions().len() - 1);
    assert!(check.stdout.contains(&summary), "{check:?}");
}

#[test]
fn no_command_means_up() {
    let dir = workdir();
    run(dir.path(), &[]).code(0);
    let json = run(dir.path(), &["status", "--format", "json"])
        .code(0)
        .json();
    assert_eq!(states(&json), all("applied"));
}

// ---------------------------------------------------------------------------------------------
// 2. A malformed .env
// ---------------------------------------------------------------------------------------------

/// Asserts that `migrate status` with `env_file` as `.env` fails with one line naming `.env`
/// and creates no database.
#[track_caller]
fn assert_env_file_is_refused(env_file: &str) -> Run {
    let dir = workdir();
    fs::write(dir.path().join(".env"), env_file).unwrap();
    let failure = run(dir.path(), &["status"]).clean_failure(2, false);
    assert!(failure.stderr.contains(".env"), "{failure:?}");
    assert!(
        !dir.path().join("dev.db").exists(),
        "a database was created despite the broken .env"
    );
    failure
}

#[test]
fn a_malformed_env_file_with_an_empty_key_is_a_configuration_error() {
    assert_env_file_is_refused("=oops\n");
}

#[test]
fn a_malformed_env_file_with_an_unterminated_quote_is_a_configuration_error() {
    assert_env_file_is_refused("FOO=\"unterminated\n");
}

#[test]
fn a_malformed_env_line_holding_a_url_does_not_print_its_password() {
    assert_env_file_is_refused(&format!(
        "DATABASE_URL=\"postgres://app:{PASSWORD}@db.example.com/app\n"
    ));
}

#[test]
fn a_malformed_env_line_holding_a_secret_does_not_print_it() {
    // The error quotes the offending line; a secret on it must not reach a CI log.
    assert_env_file_is_refused(&format!("DATABASE_PASSWORD=\"{PASSWORD}\n"));
}

// ---------------------------------------------------------------------------------------------
// 3. Bad input: exit 2, one line, no panic, no password, nothing changed
// ---------------------------------------------------------------------------------------------

#[test]
fn a_malformed_url_is_a_configuration_error() {
    let dir = workdir();
    assert_fails_cleanly(dir.path(), &["-u", "postgres://u:hunter22@:5432/db", "up"]);
}

#[test]
fn an_unknown_url_scheme_is_a_configuration_error() {
    let dir = workdir();
    let failure = assert_fails_cleanly(dir.path(), &["-u", "oracle://u:hunter22@h/db", "up"]);
    assert!(failure.stderr.contains("oracle"), "{failure:?}");
}

#[test]
fn an_unknown_lock_strategy_is_refused_in_one_line_naming_the_accepted_ones() {
    let dir = workdir();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("app.db").display());
    for command in ["up", "status"] {
        let failure = assert_fails_cleanly(
            dir.path(),
            &["-u", &url, "--lock-strategy", "galera", command],
        );
        assert!(
            failure.stderr.contains("unknown lock strategy `galera`")
                && failure.stderr.contains("use auto, session or table"),
            "{failure:?}"
        );
    }
    let mut from_env = migrate(dir.path());
    from_env.env("MIGRATION_LOCK_STRATEGY", "nodes");
    let failure = run_with(from_env, &["-u", &url, "up"]).clean_failure(2, false);
    assert!(
        failure.stderr.contains("unknown lock strategy `nodes`")
            && failure.stderr.contains("MIGRATION_LOCK_STRATEGY"),
        "{failure:?}"
    );
    assert!(!dir.path().join("app.db").exists(), "nothing is touched");
}

/// The commands whose handling of a bad URL is checked: each of them parses it first.
const URL_COMMANDS: [&str; 5] = ["status", "up", "down", "verify", "history"];

#[test]
fn a_url_that_does_not_parse_is_printed_without_anything_that_may_be_its_password() {
    let dir = workdir();
    for url in [
        format!("postgres://u:{PASSWORD} {PASSWORD_TAIL}@[bad/db"),
        format!("mysql://u:{PASSWORD}`{PASSWORD_TAIL}@db:99999/app"),
        format!("postgres://u:{PASSWORD}\"{PASSWORD_TAIL}@{PASSWORD}@[bad/db"),
        format!("postgres://u@[bad/db?password={PASSWORD} {PASSWORD_TAIL}"),
        format!("postgres://u@[bad/db?password={PASSWORD}&{PASSWORD_TAIL}@x"),
    ] {
        for command in URL_COMMANDS {
            let failure = assert_fails_cleanly(dir.path(), &["-u", &url, command]);
            for part in [
                "error: malformed database URL `",
                "expected e.g. postgres://user@host:5432/db",
            ] {
                assert!(failure.stderr.contains(part), "no `{part}`: {failure:?}");
            }
        }
    }
    assert!(!dir.path().join("dev.db").exists());
}

#[test]
fn a_password_with_spaces_quotes_or_ampersands_is_hidden_and_the_rest_of_the_message_kept() {
    let dir = workdir();
    for (url, target) in [
        (
            format!("postgres://u:{PASSWORD} {PASSWORD_TAIL}@127.0.0.1:1/x"),
            "postgres://u:***@127.0.0.1:1/x",
        ),
        (
            format!("postgres://u:{PASSWORD}'{PASSWORD_TAIL}@127.0.0.1:1/x"),
            "postgres://u:***@127.0.0.1:1/x",
        ),
        (
            format!("postgres://u@127.0.0.1:1/x?password={PASSWORD}"),
            "postgres://u@127.0.0.1:1/x?password=***",
        ),
        (
            format!("postgres://u@127.0.0.1:1/x?password={PASSWORD} {PASSWORD_TAIL}"),
            "postgres://u@127.0.0.1:1/x?password=***",
        ),
        (
            format!(
                "postgres://u@127.0.0.1:1/x?password={PASSWORD}\"{PASSWORD_TAIL}&sslmode=disable"
            ),
            "postgres://u@127.0.0.1:1/x?password=***&sslmode=disable",
        ),
        (
            format!("mysql://u@127.0.0.1:1/x?password={PASSWORD}%26{PASSWORD_TAIL}"),
            "mysql://u@127.0.0.1:1/x?password=***",
        ),
    ] {
        for command in URL_COMMANDS {
            let failure =
                assert_fails_cleanly(dir.path(), &["-u", &url, "--connect-timeout", "5", command]);
            // The target, then what went wrong and the fix, all on the one line.
            let expected = format!("error: cannot connect to {target}: Connection refused");
            assert!(
                failure.stderr.starts_with(&expected),
                "no `{expected}`: {failure:?}"
            );
            assert!(
                failure
                    .stderr
                    .trim_end()
                    .ends_with("check host and port in DATABASE_URL"),
                "{failure:?}"
            );
        }
    }
}

#[tokio::test]
async fn a_wrong_mariadb_password_with_a_space_is_hidden_from_every_command() {
    let Some(db) = TestDb::create(Backend::MariaDb).await else {
        return;
    };
    let before = db.dump().await;
    let url =
        with_password(&db.url, None).replacen(PASSWORD, &format!("{PASSWORD} {PASSWORD_TAIL}"), 1);
    let dir = workdir();
    for command in URL_COMMANDS {
        let failure = assert_fails_cleanly(dir.path(), &["-u", &url, command]);
        assert!(
            failure.stderr.contains("authentication failed") && failure.stderr.contains(":***@"),
            "{failure:?}"
        );
    }
    assert_eq!(db.dump().await, before);
}

#[test]
fn an_unreachable_server_is_a_connection_error() {
    let dir = workdir();
    assert_fails_cleanly(
        dir.path(),
        &[
            "-u",
            "postgres://postgres:hunter22@127.0.0.1:1/x",
            "--connect-timeout",
            "5",
            "up",
        ],
    );
}

#[tokio::test]
async fn a_wrong_mariadb_password_is_a_connection_error_and_changes_nothing() {
    let Some(db) = TestDb::create(Backend::MariaDb).await else {
        return;
    };
    let before = db.dump().await;
    let url = with_password(&db.url, None);
    let dir = workdir();
    assert_fails_cleanly(dir.path(), &["-u", &url, "up"]);
    assert_eq!(db.dump().await, before);
}

#[tokio::test]
async fn a_missing_postgres_database_is_a_connection_error_and_is_not_created() {
    let Some(admin_url) = Backend::Postgres.admin_url() else {
        eprintln!("skipped: postgres (set TEST_POSTGRES_URL to run it)");
        return;
    };
    let missing = "does_not_exist_xyz";
    assert!(!server_has_database(Backend::Postgres, missing).await);
    let url = with_password(&admin_url, Some(missing));
    let dir = workdir();
    assert_fails_cleanly(dir.path(), &["-u", &url, "up"]);
    assert!(!server_has_database(Backend::Postgres, missing).await);
}

#[tokio::test]
async fn an_unknown_target_version_is_refused_before_anything_changes() {
    let db = TestDb::create(Backend::Sqlite).await.unwrap();
    let path = db.sqlite_path().unwrap();
    let dir = workdir();
    let failure =
        assert_fails_cleanly(dir.path(), &["-u", &db.url, "up", "--to", "20990101000000"]);
    assert!(failure.stderr.contains("20990101000000"), "{failure:?}");
    if path.exists() {
        assert_eq!(db.table_names().await, Vec::<String>::new());
    }
}

#[test]
fn an_unknown_command_line_option_is_a_usage_error() {
    let dir = workdir();
    let run = run(dir.path(), &["up", "--no-such-flag"]).code(2);
    assert!(run.stderr.contains("--no-such-flag"), "{run:?}");
    assert!(!dir.path().join("dev.db").exists());
}

// ---------------------------------------------------------------------------------------------
// 4. Every backend
// ---------------------------------------------------------------------------------------------

async fn up_status_and_down_guard_and_revert(db: TestDb) {
    let dir = workdir();
    let dir = dir.path();
    let url = db.url.as_str();

    run(dir, &["-u", url, "up"]).code(0);
    assert_eq!(db.table_names().await, all_tables(LEDGER[0]));
    let status = run(dir, &["-u", url, "status", "--format", "json"])
        .code(0)
        .json();
    assert_eq!(
        status["migrations"].as_array().unwrap().len(),
        versions().len(),
        "{status}"
    );
    assert_eq!(states(&status), all("applied"));

    let down = run(dir, &["-u", url, "down", "-n", "1"]).code(0);
    assert!(down.stdout.contains(&newest()), "{down:?}");
    let mut expected = all("applied");
    expected.last_mut().unwrap().1 = "pending".to_owned();
    assert_eq!(status_of(dir, &db, &[]), expected);

    // More than is applied: refused before anything runs.
    let before = db.dump().await;
    let too_many = (versions().len() + 1).to_string();
    run(dir, &["-u", url, "down", "-n", &too_many]).clean_failure(2, false);
    assert_eq!(db.dump().await, before);

    // Reverting everything needs --yes when nobody can be asked.
    run(dir, &["-u", url, "down", "--all"]).clean_failure(5, false);
    assert_eq!(db.dump().await, before);

    run(dir, &["-u", url, "down", "--all", "--yes"]).code(0);
    assert_eq!(db.table_names().await, LEDGER);
    assert_eq!(status_of(dir, &db, &[]), all("pending"));
}

async fn a_dry_run_prints_the_sql_and_changes_nothing(db: TestDb) {
    let dir = workdir();
    let before = db.dump().await;
    let dry = run(dir.path(), &["-u", &db.url, "up", "--dry-run"]).code(0);
    assert!(dry.stdout.contains("CREATE TABLE"), "{dry:?}");
    // MariaDB cannot roll back DDL, so its migrations run outside transactions: only the
    // ledger row and its history entry are completed together, in one.
    let lines: Vec<&str> = dry.stdout.lines().map(str::trim).collect();
    let begins: Vec<usize> = (0..lines.len()).filter(|&i| lines[i] == "BEGIN;").collect();
    assert!(!begins.is_empty(), "{dry:?}");
    let ledger_first = begins.iter().all(|&i| {
        lines
            .get(i + 1)
            .is_some_and(|next| next.starts_with("UPDATE `schema_migrations`"))
    });
    assert_eq!(ledger_first, db.backend == Backend::MariaDb, "{dry:?}");
    for version in versions() {
        assert!(dry.stdout.contains(&version), "{dry:?}");
    }
    assert_eq!(db.table_names().await, Vec::<String>::new());
    assert_eq!(db.dump().await, before);

    let json = run(
        dir.path(),
        &["-u", &db.url, "up", "--dry-run", "--format", "json"],
    )
    .code(0)
    .json();
    assert!(!json["sections"].as_array().unwrap().is_empty(), "{json}");
    assert_eq!(db.dump().await, before);
}

async fn a_custom_migration_table_names_the_ledger(db: TestDb) {
    let dir = workdir();
    let custom = ["--migration-table", "custom_ledger"];
    let mut args = vec!["-u", db.url.as_str()];
    args.extend_from_slice(&custom);
    args.push("up");
    run(dir.path(), &args).code(0);
    assert_eq!(db.table_names().await, all_tables("custom_ledger"));
    assert_eq!(status_of(dir.path(), &db, &custom), all("applied"));
}

async fn redo_reapplies_and_the_history_records_it(db: TestDb) {
    let dir = workdir();
    let dir = dir.path();
    let url = db.url.as_str();
    run(dir, &["-u", url, "up"]).code(0);
    let redo = run(dir, &["-u", url, "redo", "--reason", "try again"]).code(0);
    assert!(redo.stdout.contains(&newest()), "{redo:?}");
    assert_eq!(status_of(dir, &db, &[]), all("applied"));
    assert_eq!(db.table_names().await, all_tables(LEDGER[0]));

    let history = run(dir, &["-u", url, "history", "--format", "json"])
        .code(0)
        .json();
    let entries = history
        .as_array()
        .unwrap_or_else(|| panic!("history is not an array: {history}"));
    let actions: Vec<(&str, &str)> = entries
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap(),
                e["version"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(actions.len(), versions().len() + 2, "{history}");
    assert_eq!(
        actions
            .iter()
            .filter(|(action, _)| *action == "apply")
            .count(),
        versions().len() + 1,
        "{history}"
    );
    // Newest first: the redo's apply, then its revert.
    let newest = newest();
    assert_eq!(actions[0], ("apply", newest.as_str()), "{history}");
    assert_eq!(actions[1], ("revert", newest.as_str()), "{history}");
    assert!(
        entries.iter().all(|e| e["outcome"] == "success"),
        "{history}"
    );
    assert_eq!(entries[0]["reason"], "try again", "{history}");

    let limited = run(
        dir,
        &["-u", url, "history", "--limit", "2", "--format", "json"],
    )
    .code(0)
    .json();
    assert_eq!(limited.as_array().unwrap().len(), 2, "{limited}");
}

async fn fresh_refresh_and_reset_need_yes(db: TestDb) {
    let dir = workdir();
    let dir = dir.path();
    let url = db.url.as_str();

    // Nothing to destroy yet: fresh needs no confirmation.
    run(dir, &["-u", url, "fresh"]).code(0);
    assert_eq!(status_of(dir, &db, &[]), all("applied"));

    let before = db.dump().await;
    for command in ["fresh", "refresh", "reset"] {
        run(dir, &["-u", url, command]).clean_failure(5, false);
        assert_eq!(
            db.dump().await,
            before,
            "{command} without --yes changed the database"
        );
    }

    run(dir, &["-u", url, "fresh", "--yes"]).code(0);
    assert_eq!(status_of(dir, &db, &[]), all("applied"));
    assert_eq!(db.table_names().await, all_tables(LEDGER[0]));

    let refresh = run(dir, &["-u", url, "refresh", "--yes"]).code(0);
    for version in versions() {
        assert!(refresh.stdout.contains(&version), "{refresh:?}");
    }
    assert_eq!(status_of(dir, &db, &[]), all("applied"));
    assert_eq!(db.table_names().await, all_tables(LEDGER[0]));

    run(dir, &["-u", url, "reset", "--yes"]).code(0);
    assert_eq!(status_of(dir, &db, &[]), all("pending"));
    assert_eq!(db.table_names().await, LEDGER);

    // Nothing applied: reset has nothing to confirm.
    run(dir, &["-u", url, "reset"]).code(0);
}

backend_matrix!(
    up_status_and_down_guard_and_revert,
    a_dry_run_prints_the_sql_and_changes_nothing,
    a_custom_migration_table_names_the_ledger,
    redo_reapplies_and_the_history_records_it,
    fresh_refresh_and_reset_need_yes,
);

// ---------------------------------------------------------------------------------------------
// 5. Help
// ---------------------------------------------------------------------------------------------

/// `migrate <args> --help`, which must succeed and print on stdout only.
fn help(args: &[&str]) -> String {
    let dir = workdir();
    let mut all_args = args.to_vec();
    all_args.push("--help");
    let run = run(dir.path(), &all_args).code(0);
    assert_eq!(run.stderr, "", "{run:?}");
    run.stdout
}

#[test]
fn help_lists_the_commands_options_and_exit_codes() {
    let text = help(&[]);
    assert!(
        text.contains(migration_engine::cli::exit_code::TABLE),
        "the exit code table is missing from --help:\n{text}"
    );
    insta::assert_snapshot!("help", text);
}

#[test]
fn help_does_not_print_the_values_of_the_environment() {
    let dir = workdir();
    let url = format!("postgres://app:{PASSWORD}@db.example.com/app");
    let values = [
        ("DATABASE_URL", url.as_str()),
        ("DATABASE_SCHEMA", "schema_from_env"),
        ("MIGRATION_TABLE", "table_from_env"),
        ("MIGRATION_SCHEMA", "ledger_schema_from_env"),
        ("MIGRATION_LOCK_TIMEOUT", "4242"),
    ];
    let mut cmd = migrate(dir.path());
    for (var, value) in values {
        cmd.env(var, value);
    }
    let run = run_with(cmd, &["--help"]).code(0);
    for (var, value) in values {
        assert!(
            run.stdout.contains(&format!("[env: {var}]")),
            "{var}: {run:?}"
        );
        assert!(!run.stdout.contains(value), "{var}'s value shown: {run:?}");
    }
}

#[test]
fn completions_print_a_script_for_every_shell_without_touching_a_database() {
    let dir = workdir();
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        // Not even a URL that cannot be parsed stops it: it connects to nothing.
        let run = run(
            dir.path(),
            &[
                "-u",
                &format!("postgres://u:{PASSWORD}@[bad/db"),
                "completions",
                shell,
            ],
        )
        .code(0);
        assert_eq!(run.stderr, "", "{run:?}");
        for word in [
            "migrate",
            "status",
            "verify",
            "squash",
            "completions",
            "database-url",
        ] {
            assert!(run.stdout.contains(word), "{shell}: no `{word}`: {run:?}");
        }
    }
    assert!(!dir.path().join("dev.db").exists());
}

#[test]
fn completions_for_an_unknown_shell_is_a_usage_error() {
    let dir = workdir();
    let failure = run(dir.path(), &["completions", "nushell"]).code(2);
    assert_eq!(failure.stdout, "", "{failure:?}");
    assert!(failure.stderr.contains("nushell"), "{failure:?}");
    run(dir.path(), &["completions"]).code(2);
}

#[test]
fn up_help_is_stable() {
    insta::assert_snapshot!("up_help", help(&["up"]));
}

#[test]
fn lint_help_is_stable() {
    insta::assert_snapshot!("lint_help", help(&["lint"]));
}

#[test]
fn down_help_is_stable() {
    insta::assert_snapshot!("down_help", help(&["down"]));
}

#[test]
fn baseline_help_is_stable() {
    insta::assert_snapshot!("baseline_help", help(&["baseline"]));
}

#[test]
fn fresh_help_is_stable() {
    insta::assert_snapshot!("fresh_help", help(&["fresh"]));
}

// ---------------------------------------------------------------------------------------------
// 6. create
// ---------------------------------------------------------------------------------------------

/// Whether `stem` is `m<YYYYMMDD>_<HHMMSS>_<name>`, the layout of the existing modules.
fn is_module_for(stem: &str, name: &str) -> bool {
    let Some(rest) = stem.strip_prefix('m') else {
        return false;
    };
    let bytes = rest.as_bytes();
    rest.len() == 16 + name.len()
        && bytes[..8].iter().all(u8::is_ascii_digit)
        && bytes[8] == b'_'
        && bytes[9..15].iter().all(u8::is_ascii_digit)
        && bytes[15] == b'_'
        && &rest[16..] == name
}

#[test]
fn create_writes_a_reversible_module_and_registers_it() {
    let dir = workdir();
    let src = dir.path().join("src");
    fs::create_dir(&src).unwrap();
    let original = workspace_root().join("migration").join("src");
    for entry in fs::read_dir(&original).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_file() {
            fs::copy(entry.path(), src.join(entry.file_name())).unwrap();
        }
    }
    let before: Vec<String> = module_stems(&src);

    let created = run(
        dir.path(),
        &["create", "add_widgets", "-d", src.to_str().unwrap()],
    )
    .code(0);
    assert_eq!(created.stderr.trim(), "", "{created:?}");

    let new: Vec<String> = module_stems(&src)
        .into_iter()
        .filter(|stem| !before.contains(stem))
        .collect();
    assert_eq!(new.len(), 1, "expected one new module, got {new:?}");
    let module = &new[0];
    assert!(
        is_module_for(module, "add_widgets"),
        "bad module name {module}"
    );
    assert!(created.stdout.contains(module.as_str()), "{created:?}");
    // It sorts after every existing migration.
    assert!(
        before.iter().all(|old| old < module),
        "{module} sorts before {before:?}"
    );

    let lib = fs::read_to_string(src.join("lib.rs")).unwrap();
    assert!(
        lib.lines()
            .any(|line| line.trim() == format!("mod {module};")),
        "lib.rs does not declare {module}:\n{lib}"
    );
    let registration = format!("Box::new({module}::Migration),");
    let vec_start = lib.find("vec![").expect("lib.rs lost its vec![");
    let vec_end = vec_start + lib[vec_start..].find(']').expect("vec! is not closed");
    let at = lib
        .find(&registration)
        .unwrap_or_else(|| panic!("lib.rs does not register {module}:\n{lib}"));
    assert!(
        vec_start < at && at < vec_end,
        "the registration is outside the vec!:\n{lib}"
    );
    // Appended last, after the existing ones.
    let last_old = lib
        .find("Box::new(m20240813_000011_create_views::Migration),")
        .unwrap();
    assert!(last_old < at, "{lib}");

    let code = fs::read_to_string(src.join(format!("{module}.rs"))).unwrap();
    assert!(code.contains("async fn up"), "{code}");
    assert!(code.contains("async fn down"), "{code}");
    assert!(!code.contains("todo!"), "{code}");

    // The original crate is untouched.
    assert_eq!(module_stems(&original), before);
}

/// Copies the workspace's manifests and sources (not `target/`) to `to`.
fn copy_workspace(to: &Path) {
    fn copy_dir(from: &Path, to: &Path) {
        fs::create_dir_all(to).unwrap();
        for entry in fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            if entry.file_name() == "target" {
                continue;
            }
            let (source, dest) = (entry.path(), to.join(entry.file_name()));
            if entry.file_type().unwrap().is_dir() {
                copy_dir(&source, &dest);
            } else {
                fs::copy(&source, &dest).unwrap();
            }
        }
    }
    let root = workspace_root();
    for file in ["Cargo.toml", "Cargo.lock"] {
        fs::copy(root.join(file), to.join(file)).unwrap();
    }
    // Every member named in the workspace manifest, whole (its sources and whatever else it
    // embeds, such as migration/releases.toml).
    let manifest: toml::Table = fs::read_to_string(root.join("Cargo.toml"))
        .unwrap()
        .parse()
        .unwrap();
    let members = manifest["workspace"]["members"]
        .as_array()
        .expect("the workspace manifest lists no members");
    for member in members.iter().filter_map(toml::Value::as_str) {
        copy_dir(&root.join(member), &to.join(member));
    }
}

/// `create` promises that the next `cargo build` passes: build a copy of the workspace with the
/// new module (sharing this build's target directory, so only the workspace crates compile;
/// `--lib` keeps the copy's `migrate` binary from replacing the one under test).
#[test]
fn a_created_migration_compiles() {
    let dir = workdir();
    copy_workspace(dir.path());
    let src = dir.path().join("migration").join("src");
    run(
        dir.path(),
        &["create", "add_widgets", "-d", src.to_str().unwrap()],
    )
    .code(0);
    let build = std::process::Command::new(env!("CARGO"))
        .args(["build", "--quiet", "--offline", "--lib", "-p", "migration"])
        .current_dir(dir.path())
        .env("CARGO_TARGET_DIR", target_dir())
        .output()
        .unwrap();
    assert!(
        build.status.success(),
        "the workspace does not build after `create`:\n{}",
        String::from_utf8_lossy(&build.stderr)
    );
}

/// What `sea-orm-cli migrate generate <module>` (sea-orm-cli 2.0.4) does to the migration
/// crate in `src`: writes the module from its template and rewrites lib.rs. The template and
/// the two regular expressions are copied unchanged from sea-orm-cli 2.0.4,
/// `src/commands/migrate.rs` (`fmt_migration_template` and `update_migrator`).
fn sea_orm_cli_generate(src: &Path, module: &str) {
    let template = format! {
        r#"use sea_orm_migration::{{prelude::*, schema::*}};

pub struct Migration;

impl MigrationName for Migration {{
    fn name(&self) -> &str {{
        "{module}"
    }}
}}

#[async_trait::async_trait]
impl MigrationTrait for Migration {{
    async fn up(&self, _manager: &SchemaManager) -> Result<(), DbErr> {{
        // Replace the sample below with your own migration scripts
        todo!();
    }}

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {{
        // Replace the sample below with your own migration scripts
        todo!();
    }}
}}
"#
    };
    fs::write(src.join(format!("{module}.rs")), template).unwrap();

    let lib = src.join("lib.rs");
    let migrator_content = fs::read_to_string(&lib).unwrap();
    let mut updated_migrator_content = migrator_content.clone();
    // find existing mod declarations, add new line
    let mod_regex = regex::Regex::new(r"mod\s+(?P<name>m\d{8}_\d{6}_\w+);").unwrap();
    let mods: Vec<_> = mod_regex.captures_iter(&migrator_content).collect();
    let mods_end = if let Some(last_match) = mods.last() {
        last_match.get(0).unwrap().end() + 1
    } else {
        migrator_content.len()
    };
    updated_migrator_content.insert_str(mods_end, format!("mod {module};\n").as_str());
    // build new vector from declared migration modules
    let mut migrations: Vec<&str> = mods
        .iter()
        .map(|cap| cap.name("name").unwrap().as_str())
        .collect();
    migrations.push(module);
    let mut boxed_migrations = migrations
        .iter()
        .map(|migration| format!("            Box::new({migration}::Migration),"))
        .collect::<Vec<String>>()
        .join("\n");
    boxed_migrations.push('\n');
    let boxed_migrations = format!("vec![\n{boxed_migrations}        ]\n");
    let vec_regex = regex::Regex::new(r"vec!\[[\s\S]+\]\n").unwrap();
    let updated_migrator_content = vec_regex.replace(&updated_migrator_content, &boxed_migrations);
    fs::write(&lib, updated_migrator_content.as_bytes()).unwrap();
}

/// SeaORM's own authoring workflow keeps working: after `sea-orm-cli migrate generate`, lib.rs
/// differs only by the new module's two lines (nothing after the migration list is lost, since
/// the declarations that used to follow it live in project.rs), and the crate builds and passes
/// its tests (in a copy of the workspace, sharing this build's target directory).
#[test]
fn sea_orm_cli_generate_leaves_the_migration_crate_building() {
    let dir = workdir();
    copy_workspace(dir.path());
    let src = dir.path().join("migration").join("src");
    let before = fs::read_to_string(src.join("lib.rs")).unwrap();
    let project = fs::read_to_string(src.join("project.rs")).unwrap();
    let module = format!(
        "m{}_add_widgets",
        chrono::Utc::now().format("%Y%m%d_%H%M%S")
    );

    sea_orm_cli_generate(&src, &module);

    let after = fs::read_to_string(src.join("lib.rs")).unwrap();
    let added = [
        format!("mod {module};"),
        format!("            Box::new({module}::Migration),"),
    ];
    for line in &added {
        assert!(after.lines().any(|l| l == line), "no `{line}` in:\n{after}");
    }
    let without_added: Vec<&str> = after
        .lines()
        .filter(|l| !added.iter().any(|a| a == l))
        .collect();
    assert_eq!(
        without_added,
        before.lines().collect::<Vec<_>>(),
        "sea-orm-cli changed more of lib.rs than the new module's lines:\n{after}"
    );
    assert_eq!(fs::read_to_string(src.join("project.rs")).unwrap(), project);

    let build = std::process::Command::new(env!("CARGO"))
        .args(["test", "--quiet", "--offline", "--lib", "-p", "migration"])
        .current_dir(dir.path())
        .env("CARGO_TARGET_DIR", target_dir())
        .output()
        .unwrap();
    assert!(
        build.status.success(),
        "the migration crate does not build and pass its tests after `sea-orm-cli migrate generate`:\n{}{}",
        String::from_utf8_lossy(&build.stdout),
        String::from_utf8_lossy(&build.stderr)
    );
}

#[test]
fn create_refuses_a_bad_name_and_writes_nothing() {
    let dir = workdir();
    let src = dir.path().join("src");
    fs::create_dir(&src).unwrap();
    let lib = workspace_root()
        .join("migration")
        .join("src")
        .join("lib.rs");
    fs::copy(&lib, src.join("lib.rs")).unwrap();

    run(
        dir.path(),
        &["create", "drop;table", "-d", src.to_str().unwrap()],
    )
    .clean_failure(2, false);
    assert_eq!(
        fs::read_to_string(src.join("lib.rs")).unwrap(),
        fs::read_to_string(&lib).unwrap()
    );
    assert_eq!(module_stems(&src), Vec::<String>::new());
}

/// The migration modules (`m*.rs`) in `dir`, as sorted file stems.
fn module_stems(dir: &Path) -> Vec<String> {
    let mut stems: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "rs"))
        .filter_map(|path| Some(path.file_stem()?.to_str()?.to_owned()))
        .filter(|stem| stem.starts_with('m') && stem != "main")
        .collect();
    stems.sort();
    stems
}
