//! Destructive commands against the wrong database are refused, changing nothing: a database
//! first migrated in production, one from another environment, a protected URL. `--force`
//! overrides; `--yes` is still needed without a terminal.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::{Command, Stdio};

use tests::{Run, TestDb, backend_matrix, process};

/// A `migrate_slow` run (two quick migrations here) on `db` with `APP_ENV=env`.
fn migrate(db: &TestDb, env: Option<&str>, extra: &[(&str, &str)], args: &[&str]) -> (i32, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_migrate_slow"));
    process::isolate(&mut command, &std::env::temp_dir());
    if let Some(env) = env {
        command.env("APP_ENV", env);
    }
    for (key, value) in extra {
        command.env(key, value);
    }
    let out = command
        .env("SLOW_MIGRATION_SECS", "0")
        .arg("-u")
        .arg(&db.url)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let run = Run::new(format!("migrate_slow {}", args.join(" ")), out);
    (run.code.unwrap_or(-1), run.stderr)
}

const DESTRUCTIVE: [&[&str]; 6] = [
    &["down", "--yes"],
    &["reset", "--yes"],
    &["refresh", "--yes"],
    &["fresh", "--yes"],
    &["redo", "--yes"],
    &["repair", "--yes"],
];

async fn a_production_database_refuses_every_destructive_command(db: TestDb) {
    let (code, stderr) = migrate(&db, Some("production"), &[], &["up"]);
    assert_eq!(code, 0, "{stderr}");
    let before = db.dump().await;
    for env in [Some("production"), None] {
        for args in DESTRUCTIVE {
            let (code, stderr) = migrate(&db, env, &[], args);
            assert_eq!(code, 5, "{args:?} with APP_ENV={env:?}: {stderr}");
            assert!(stderr.contains("nothing was changed"), "{stderr}");
            assert!(stderr.contains("--force"), "{stderr}");
            assert_eq!(db.dump().await, before, "{args:?} changed the database");
        }
    }
    // --force overrides the guard, not the confirmation.
    let (code, stderr) = migrate(&db, None, &[], &["down", "--all", "--force"]);
    assert_eq!(code, 5, "{stderr}");
    assert!(stderr.contains("--yes"), "{stderr}");
    assert_eq!(db.dump().await, before);
    let (code, stderr) = migrate(&db, None, &[], &["down", "--all", "--force", "--yes"]);
    assert_eq!(code, 0, "{stderr}");
}

async fn another_environments_database_is_refused(db: TestDb) {
    let (code, stderr) = migrate(&db, Some("staging"), &[], &["up"]);
    assert_eq!(code, 0, "{stderr}");
    let before = db.dump().await;
    let (code, stderr) = migrate(&db, Some("development"), &[], &["down", "--yes"]);
    assert_eq!(code, 5, "{stderr}");
    assert!(
        stderr.contains("first migrated with APP_ENV=`staging`"),
        "{stderr}"
    );
    assert_eq!(db.dump().await, before);
    let (code, stderr) = migrate(&db, Some("staging"), &[], &["down", "--yes"]);
    assert_eq!(code, 0, "{stderr}");
}

async fn a_protected_url_is_refused(db: TestDb) {
    let (code, stderr) = migrate(&db, None, &[], &["up"]);
    assert_eq!(code, 0, "{stderr}");
    let before = db.dump().await;
    let protect = [("MIGRATION_PROTECTED_URLS", "*nomatch*, *")];
    let (code, stderr) = migrate(&db, None, &protect, &["reset", "--yes"]);
    assert_eq!(code, 5, "{stderr}");
    assert!(stderr.contains("protected pattern `*`"), "{stderr}");
    assert_eq!(db.dump().await, before);
    // Applying is not destructive: a protected database can still be migrated forward.
    let (code, stderr) = migrate(&db, None, &protect, &["up"]);
    assert_eq!(code, 0, "{stderr}");
}

backend_matrix!(
    a_production_database_refuses_every_destructive_command,
    another_environments_database_is_refused,
    a_protected_url_is_refused,
);
