//! `migrate lint`: the corpus of bad/good pairs on each backend's rendering, the same pairs on
//! the real servers (the good ones apply; what a rule says of the bad ones is what the server
//! does), `LINT_ALLOW`, the reference schema, and the command line (`lint`, `up --lint`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use migration_engine::MigrationSet;
use migration_engine::lint::{self, Allowances, LintError, LintOptions, LintReport};
use sea_orm::{ConnectionTrait, DbBackend};
use std::collections::BTreeSet;
use std::path::Path;
use tests::lint_corpus::{self, Body, CASE, CASE_VERSION, Case, Step};
use tests::{Run, TestDb, backend_matrix, process};

fn options(backend: DbBackend) -> LintOptions {
    LintOptions {
        backends: vec![backend],
        ..LintOptions::default()
    }
}

async fn lint_step(backend: DbBackend, step: Step, options: &LintOptions) -> LintReport {
    let set = MigrationSet::new(lint_corpus::migrations(backend, step)).unwrap();
    let only: BTreeSet<String> = [CASE_VERSION.to_owned()].into();
    lint::lint(&set, &Vec::new(), Some(&only), options)
        .await
        .unwrap()
}

/// Lints every case of `backend`: each bad one must carry its rule, each good one neither its
/// rule nor any other error. Returns (pairs, flagged, unflagged).
async fn corpus_on(backend: DbBackend) -> (usize, usize, usize) {
    let cases: Vec<Case> = lint_corpus::cases()
        .into_iter()
        .filter(|c| c.backend == backend)
        .collect();
    assert!(!cases.is_empty());
    let mut failures = Vec::new();
    let (mut flagged, mut unflagged) = (0, 0);
    for case in &cases {
        let bad = lint_step(backend, case.bad, &options(backend)).await;
        if bad.rules_of(CASE).contains(&case.rule) {
            flagged += 1;
        } else {
            failures.push(format!(
                "bad `{}` is not flagged {}:\n{bad}",
                case.name, case.rule
            ));
        }
        let good = lint_step(backend, case.good, &options(backend)).await;
        let rules = good.rules_of(CASE);
        if rules.contains(&case.rule) || good.has_errors() {
            failures.push(format!("good `{}` is flagged:\n{good}", case.name));
        } else {
            unflagged += 1;
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    eprintln!(
        "lint corpus on {}: {} pairs, {flagged} bad flagged, {unflagged} good unflagged",
        migration_engine::backend::name(backend),
        cases.len()
    );
    (cases.len(), flagged, unflagged)
}

#[tokio::test]
async fn the_postgres_corpus_is_flagged_exactly() {
    corpus_on(DbBackend::Postgres).await;
}

#[tokio::test]
async fn the_mariadb_corpus_is_flagged_exactly() {
    corpus_on(DbBackend::MySql).await;
}

#[tokio::test]
async fn the_sqlite_corpus_is_flagged_exactly() {
    corpus_on(DbBackend::Sqlite).await;
}

#[test]
fn the_corpus_covers_every_rule_with_at_least_forty_pairs() {
    let cases = lint_corpus::cases();
    assert!(cases.len() >= 40, "{} pairs", cases.len());
    let covered: BTreeSet<&str> = cases.iter().map(|c| c.rule).collect();
    for rule in lint::rules::all() {
        assert!(covered.contains(rule.id), "no pair for {}", rule.id);
        assert!(
            !rule.doc.is_empty() && !rule.doc.contains('\n'),
            "{} needs a one-paragraph doc",
            rule.id
        );
    }
    let mut ids: Vec<&str> = lint::rules::all().iter().map(|r| r.id).collect();
    let count = ids.len();
    ids.dedup();
    assert_eq!(ids.len(), count, "rule ids are unique");
}

#[test]
fn the_readme_lists_every_rule() {
    let readme = std::fs::read_to_string(tests::workspace_root().join("README.md")).unwrap();
    for rule in lint::rules::all() {
        assert!(
            readme.contains(&format!("`{}`", rule.id)),
            "README does not list {}",
            rule.id
        );
    }
}

/// The migration `step` of a case as its own set on `db`, applied after the setup.
async fn apply(db: &TestDb, step: Step) -> Result<(), migration_engine::EngineError> {
    let backend = db.backend.db_backend();
    let set = MigrationSet::new(lint_corpus::migrations(backend, step)).unwrap();
    let conn = db.connect().await;
    let result = migration_engine::run_pending(&conn, &set, &Default::default()).await;
    let _ = conn.close().await;
    result.map(|_| ())
}

/// A copy of `step` with `suffix` appended to each `ALTER TABLE`.
fn with_algorithm(step: Step, suffix: &str) -> Step {
    let Body::Sql(statements) = step.body else {
        return step;
    };
    let changed: Vec<&'static str> = statements
        .iter()
        .map(|s| {
            let s = s.replace(", ALGORITHM=COPY", "");
            let out = if s.starts_with("ALTER TABLE") {
                format!("{s}{suffix}")
            } else {
                s
            };
            &*Box::leak(out.into_boxed_str())
        })
        .collect();
    Step {
        body: Body::Sql(Box::leak(changed.into_boxed_slice())),
        ..step
    }
}

/// On the real server: every good migration of the backend's corpus applies after the setup,
/// and the backend-specific claims of the rules hold.
async fn the_good_half_of_the_corpus_applies(db: TestDb) {
    let backend = db.backend.db_backend();
    for case in lint_corpus::cases().iter().filter(|c| c.backend == backend) {
        // Each good migration on a database of its own: they are alternatives, not a sequence.
        let own = TestDb::create(db.backend).await.unwrap();
        if let Err(e) = apply(&own, case.good).await {
            panic!("good `{}` does not apply on {backend:?}: {e}", case.name);
        }
    }
}

/// MariaDB: what `mysql.copy-algorithm` flags, the server refuses to do in place, and what its
/// good halves do, it does in place.
async fn copy_algorithm_agrees_with_the_server(db: TestDb) {
    if db.backend.db_backend() != DbBackend::MySql {
        return;
    }
    let cases: Vec<Case> = lint_corpus::cases()
        .into_iter()
        .filter(|c| c.rule == "mysql.copy-algorithm")
        .filter(|c| matches!(c.bad.body, Body::Sql(_)))
        .collect();
    for case in cases {
        let own = TestDb::create(db.backend).await.unwrap();
        let refused = apply(&own, with_algorithm(case.bad, ", ALGORITHM=INPLACE")).await;
        let err = refused.expect_err(&format!("`{}` ran in place", case.name));
        assert!(
            err.to_string()
                .contains("ALGORITHM=INPLACE is not supported"),
            "`{}`: {err}",
            case.name
        );
        let own = TestDb::create(db.backend).await.unwrap();
        let good = with_algorithm(case.good, ", ALGORITHM=INPLACE");
        if let Err(e) = apply(&own, good).await {
            panic!("good `{}` is refused in place: {e}", case.name);
        }
    }
}

/// PostgreSQL: the bad halves of two rules fail on a real server, leaving the database as the
/// setup left it.
async fn postgres_refuses_what_the_rules_say_it_refuses(db: TestDb) {
    if db.backend.db_backend() != DbBackend::Postgres {
        return;
    }
    for rule in [
        "pg.concurrently-in-transaction",
        "pg.add-column-not-null-without-default",
    ] {
        let case = lint_corpus::cases()
            .into_iter()
            .find(|c| c.rule == rule && matches!(c.bad.body, Body::Sql(_)))
            .unwrap();
        let own = TestDb::create(db.backend).await.unwrap();
        apply(&own, case.bad).await.expect_err(rule);
        let conn = own.connect().await;
        let applied = conn
            .query_one_raw(sea_orm::Statement::from_string(
                DbBackend::Postgres,
                format!("SELECT count(*)::int AS n FROM schema_migrations WHERE version = '{CASE_VERSION}' AND state = 'applied'"),
            ))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(applied.try_get::<i32>("", "n").unwrap(), 0, "{rule}");
    }
}

/// SQLite: a rebuild with foreign keys left on (inside the migration's transaction) cascades
/// the drop of the old table into the rows that reference it; done right, they survive.
async fn sqlite_rebuilds_lose_rows_unless_foreign_keys_are_off(db: TestDb) {
    if db.backend.db_backend() != DbBackend::Sqlite {
        return;
    }
    let case = lint_corpus::cases()
        .into_iter()
        .find(|c| c.name == "rebuild with foreign keys turned off inside the transaction")
        .unwrap();
    let orders = async |db: &TestDb| {
        let conn = db.connect().await;
        let row = conn
            .query_one_raw(sea_orm::Statement::from_string(
                DbBackend::Sqlite,
                "SELECT count(*) AS n FROM orders",
            ))
            .await
            .unwrap()
            .unwrap();
        row.try_get::<i32>("", "n").unwrap()
    };
    let bad = TestDb::create(db.backend).await.unwrap();
    apply(&bad, case.bad).await.unwrap();
    assert_eq!(orders(&bad).await, 0, "the cascade deleted the order");
    let good = TestDb::create(db.backend).await.unwrap();
    apply(&good, case.good).await.unwrap();
    assert_eq!(orders(&good).await, 1, "the order survives the rebuild");
}

backend_matrix!(
    the_good_half_of_the_corpus_applies,
    copy_algorithm_agrees_with_the_server,
    postgres_refuses_what_the_rules_say_it_refuses,
    sqlite_rebuilds_lose_rows_unless_foreign_keys_are_off,
);

/// A set of the setup and two migrations: the first drops a column and renames another, the
/// second drops a column too.
fn two_migrations() -> MigrationSet {
    use lint_corpus::{Down, StepMigration};
    let step = |statements: &'static [&'static str]| Step {
        body: Body::Sql(statements),
        transaction: None,
        down: Down::Nothing,
    };
    MigrationSet::new(vec![
        Box::new(StepMigration {
            name: lint_corpus::SETUP,
            step: lint_corpus::setup(DbBackend::Postgres),
        }),
        Box::new(StepMigration {
            name: CASE,
            step: step(&[
                "ALTER TABLE accounts DROP COLUMN note",
                "ALTER TABLE accounts RENAME COLUMN name TO full_name",
            ]),
        }),
        Box::new(StepMigration {
            name: "m20990101_000003_lint_more",
            step: step(&["ALTER TABLE orders DROP COLUMN code"]),
        }),
    ])
    .unwrap()
}

fn allow(migration: &str, rule: &str, reason: &str) -> Allowances {
    vec![(
        migration.to_owned(),
        vec![(rule.to_owned(), reason.to_owned())],
    )]
}

#[tokio::test]
async fn lint_allow_suppresses_exactly_one_rule_in_one_migration() {
    let set = two_migrations();
    let options = LintOptions {
        lock_timeout: true,
        ..options(DbBackend::Postgres)
    };
    let before = lint::lint(&set, &Vec::new(), None, &options).await.unwrap();
    assert_eq!(
        before.rules_of(CASE),
        ["common.drop-column", "common.rename-column"]
    );
    let allowed = allow(CASE, "common.drop-column", "the column was never read");
    let after = lint::lint(&set, &allowed, None, &options).await.unwrap();
    assert_eq!(after.rules_of(CASE), ["common.rename-column"]);
    assert_eq!(
        after.rules_of("m20990101_000003_lint_more"),
        ["common.drop-column"],
        "the other migration is not allowed anything"
    );
    assert_eq!(after.allowed(), 1);
    assert_eq!(after.errors(), before.errors() - 1);
    let text = after.to_string();
    assert!(
        text.contains("allowed[common.drop-column]") && text.contains("the column was never read"),
        "{text}"
    );
    let json = serde_json::to_value(&after).unwrap();
    let finding = &json["migrations"][1]["findings"][0];
    assert_eq!(finding["rule"], "common.drop-column");
    assert_eq!(finding["allowed"], "the column was never read");
}

#[tokio::test]
async fn allowances_name_known_rules_and_migrations_and_give_a_reason() {
    let set = two_migrations();
    let options = options(DbBackend::Postgres);
    let unknown = lint::lint(&set, &allow(CASE, "pg.no-such-rule", "x"), None, &options).await;
    assert!(
        matches!(unknown, Err(LintError::UnknownRule { .. })),
        "{unknown:?}"
    );
    let empty = lint::lint(
        &set,
        &allow(CASE, "common.drop-column", " "),
        None,
        &options,
    )
    .await;
    assert!(
        matches!(empty, Err(LintError::NoReason { .. })),
        "{empty:?}"
    );
    let stranger = lint::lint(
        &set,
        &allow("m20990101_000009_nope", "common.drop-column", "x"),
        None,
        &options,
    )
    .await;
    assert!(
        matches!(stranger, Err(LintError::UnknownMigration { .. })),
        "{stranger:?}"
    );
}

#[tokio::test]
async fn a_lock_timeout_set_by_the_run_satisfies_the_lock_timeout_rule() {
    let case = lint_corpus::cases()
        .into_iter()
        .find(|c| c.rule == "pg.lock-timeout-missing")
        .unwrap();
    let with = LintOptions {
        lock_timeout: true,
        ..options(DbBackend::Postgres)
    };
    let report = lint_step(DbBackend::Postgres, case.bad, &with).await;
    assert!(report.rules_of(CASE).is_empty(), "{report}");
}

#[tokio::test]
async fn the_reference_schema_lints_clean_with_its_documented_allowances() {
    use sea_orm_migration::MigratorTrait as _;
    let set = MigrationSet::new(migration::Migrator::migrations()).unwrap();
    let allowances: Allowances = migration::Migrator::lint_allowances()
        .into_iter()
        .map(|(m, rules)| {
            let rules = rules
                .iter()
                .map(|(r, why)| ((*r).to_owned(), (*why).to_owned()))
                .collect();
            (m.to_owned(), rules)
        })
        .collect();
    let report = lint::lint(&set, &allowances, None, &LintOptions::default())
        .await
        .unwrap();
    assert_eq!((report.errors(), report.warnings()), (0, 0), "{report}");
    // Every allowance is used: none stays behind once its reason is gone.
    for (migration, rules) in &allowances {
        let lint = report
            .migrations
            .iter()
            .find(|m| &m.migration == migration)
            .unwrap();
        for (rule, _) in rules {
            assert!(
                lint.findings
                    .iter()
                    .any(|f| f.rule == rule && f.allowed.is_some()),
                "{migration} allows {rule}, which it does not break"
            );
        }
    }
}

fn lint_bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_migrate_lint"))
}

fn run_with(bin: &Path, dir: &Path, env: &[(&str, &str)], args: &[&str]) -> Run {
    let mut cmd = process::command(bin, dir);
    for (k, v) in env {
        cmd.env(k, v);
    }
    process::run(cmd, bin, args)
}

#[test]
fn the_command_line_reports_as_text_json_github_and_sarif() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let bin = lint_bin();
    let text = run_with(bin, dir, &[], &["lint", "--backend", "all"]).code(4);
    assert!(
        text.stdout.contains("m20990301_000002_rename_gadget_name")
            && text.stdout.contains("error[common.rename-column]")
            && text
                .stdout
                .contains("> ALTER TABLE gadgets RENAME COLUMN name TO title"),
        "{text:?}"
    );
    let json = run_with(
        bin,
        dir,
        &[],
        &["lint", "--backend", "sqlite", "--format", "json"],
    )
    .code(4)
    .json();
    assert_eq!(json["backends"], serde_json::json!(["sqlite"]));
    assert_eq!(
        json["migrations"][1]["findings"][0]["rule"],
        "common.rename-column"
    );
    let github = run_with(
        bin,
        dir,
        &[],
        &["lint", "--backend", "postgres", "--annotate", "github"],
    )
    .code(4);
    assert!(
        github
            .stdout
            .lines()
            .any(|l| l.starts_with("::error ") && l.contains("title=common.rename-column::")),
        "{github:?}"
    );
    let sarif = run_with(
        bin,
        dir,
        &[],
        &["lint", "--backend", "mysql", "--annotate", "sarif"],
    )
    .code(4)
    .json();
    assert_eq!(sarif["version"], "2.1.0");
    assert_eq!(
        sarif["runs"][0]["results"][0]["ruleId"],
        "common.rename-column"
    );
    // Only the first migration: nothing to report.
    run_with(
        bin,
        dir,
        &[],
        &["lint", "--backend", "all", "20990301000001"],
    )
    .code(0);
    run_with(bin, dir, &[], &["lint", "20990301999999"]).code(2);
    let rules = run_with(bin, dir, &[], &["lint", "--rules"]).code(0);
    for rule in lint::rules::all() {
        assert!(rules.stdout.contains(rule.id), "{rules:?}");
    }
    // The reference schema is clean, with its allowances shown.
    let reference = run_with(
        process::migrate_bin(),
        dir,
        &[],
        &["lint", "--backend", "all"],
    )
    .code(0);
    assert!(
        reference
            .stdout
            .contains("allowed[pg.index-not-concurrent]"),
        "{reference:?}"
    );
}

#[test]
fn the_json_report_has_a_stable_shape() {
    let dir = tempfile::tempdir().unwrap();
    let run = run_with(
        lint_bin(),
        dir.path(),
        &[],
        &["lint", "--backend", "all", "--format", "json"],
    )
    .code(4);
    insta::assert_snapshot!("lint_report_json", run.stdout);
}

/// `up --lint` and `MIGRATION_LINT=deny` refuse before touching the database; `warn` prints
/// and applies.
async fn up_lint_refuses_before_changing_anything(db: TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let bin = lint_bin();
    let url = db.url.as_str();
    let refused = run_with(bin, dir, &[], &["-u", url, "up", "--lint"]).refused(
        4,
        &[
            "lint found 1 error(s)",
            "m20990301_000002_rename_gadget_name",
            "nothing was applied",
        ],
    );
    assert!(
        refused.stderr.contains("error[common.rename-column]"),
        "{refused:?}"
    );
    assert!(db.table_names().await.is_empty(), "nothing was created");
    run_with(bin, dir, &[("MIGRATION_LINT", "deny")], &["-u", url, "up"]).code(4);
    run_with(
        bin,
        dir,
        &[("MIGRATION_LINT", "sometimes")],
        &["-u", url, "up"],
    )
    .code(2);
    assert!(db.table_names().await.is_empty(), "nothing was created");
    let warned = run_with(bin, dir, &[("MIGRATION_LINT", "warn")], &["-u", url, "up"]).code(0);
    assert!(
        warned.stderr.contains("error[common.rename-column]"),
        "{warned:?}"
    );
    assert!(db.table_names().await.contains(&"gadgets".to_owned()));
    // Nothing pending: nothing to lint.
    run_with(bin, dir, &[], &["-u", url, "up", "--lint"]).code(0);
    let pending = run_with(bin, dir, &[], &["-u", url, "lint", "--pending"]).code(0);
    assert!(
        pending.stdout.contains("Linted 0 migration(s)"),
        "{pending:?}"
    );
}

backend_matrix!(up_lint_refuses_before_changing_anything);
