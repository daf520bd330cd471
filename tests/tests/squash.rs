//! Consolidated migrations on every backend: a fresh database takes the consolidated path and a
//! partly migrated one the individual path, both end in the same schema, the history says which
//! went through what, `verify` checks both paths (and names a consolidated migration that
//! differs), and `migrate squash` writes one for the reference schema that builds, verifies and
//! runs.
//!
//! `migrate_squash` is this crate's test binary: four migrations (releases 1.0.0 and 1.1.0) and
//! a hand-written baseline replacing the first three.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{squash_bin, state_words};
use migration_engine::schema::verify::verify;
use migration_engine::{Difference, MigrationSet, Squash, Target, VerifyOptions};
use sea_orm_migration::prelude::*;
use serde_json::Value;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;
use tempfile::TempDir;
use tests::{Run, migrate_bin, run_in};
use tests::{TestDb, backend_matrix, target_dir, workspace_root};

fn squash_cli(db: &TestDb, args: &[&str]) -> Run {
    let dir = TempDir::new().unwrap();
    let mut all = vec!["-u", db.url.as_str()];
    all.extend_from_slice(args);
    run_in(squash_bin(), dir.path(), &all)
}

fn status(db: &TestDb) -> Value {
    squash_cli(db, &["status", "--format", "json"])
        .code(0)
        .json()
}

async fn schema(db: &TestDb) -> migration_engine::SchemaSnapshot {
    let conn = db.connect().await;
    let snapshot = migration_engine::schema::snapshot::read(&conn, "schema_migrations")
        .await
        .unwrap();
    let _ = conn.close().await;
    snapshot
}

async fn a_fresh_database_takes_the_consolidated_path(db: TestDb) {
    let up = squash_cli(&db, &["up", "--reason", "fresh install"]).code(0);
    assert!(
        up.stdout.contains(
            "up   20990201000100_baseline_1_0_0 (consolidated: 3 migrations in one step)"
        ),
        "{up:?}"
    );
    assert!(
        up.stdout.contains("Applied 4 migration(s) in batch 1"),
        "{up:?}"
    );
    let json = status(&db);
    assert_eq!(
        state_words(&json),
        ["squashed", "squashed", "squashed", "applied"]
    );
    assert_eq!(
        json["migrations"][0]["via"],
        "m20990201_000100_baseline_1_0_0"
    );
    assert_eq!(json["squashes"][0]["path"], "used");
    let text = squash_cli(&db, &["status"]).code(0).stdout;
    assert!(text.contains("they were applied through it"), "{text}");
    assert!(text.contains("1 applied, 3 squashed."), "{text}");

    let history = squash_cli(&db, &["history", "--format", "json"])
        .code(0)
        .json();
    let through: Vec<&Value> = history
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["via"] == "m20990201_000100_baseline_1_0_0")
        .collect();
    assert_eq!(through.len(), 3, "{history:#}");
    for e in &through {
        assert_eq!(e["action"], "apply");
        assert_eq!(e["reason"], "fresh install");
        assert_eq!(e["release"], "1.0.0");
    }

    // Going back into the consolidated run reverts it whole, through its own `down`.
    squash_cli(&db, &["down", "--to", "20990201000002"]).refused(
        4,
        &[
            "m20990201_000100_baseline_1_0_0",
            "20990201000003_add_order_note",
        ],
    );
    squash_cli(&db, &["down"]).code(0);
    let down = squash_cli(&db, &["down", "--format", "json", "--reason", "undo"]).code(0);
    let step = &down.json()["steps"][0];
    assert_eq!(step["source"], "squash");
    assert_eq!(step["name"], "baseline_1_0_0");
    assert_eq!(step["replaces"].as_array().unwrap().len(), 3);
    assert_eq!(state_words(&status(&db)), ["pending"; 4]);
    let tables = db.table_names().await;
    assert_eq!(tables, ["schema_migrations", "schema_migrations_history"]);
}

async fn a_partly_migrated_database_takes_the_individual_path(db: TestDb) {
    let first = squash_cli(&db, &["up", "-n", "1"]).code(0);
    assert!(
        first.stdout.contains(
            "Not using the consolidated migration 20990201000100_baseline_1_0_0: this run applies only 1 of the 3 migrations it replaces"
        ),
        "{first:?}"
    );
    let rest = squash_cli(&db, &["up"]).code(0);
    assert!(
        rest.stdout.contains(
            "Not using the consolidated migration 20990201000100_baseline_1_0_0: 1 of the 3 migrations it replaces was already applied, so they run one by one."
        ),
        "{rest:?}"
    );
    assert!(
        rest.stdout.contains("Applied 3 migration(s) in batch 2"),
        "{rest:?}"
    );
    let json = status(&db);
    assert_eq!(state_words(&json), ["applied"; 4]);
    assert_eq!(json["squashes"][0]["path"], "bypassed");
}

async fn both_paths_end_in_the_same_schema(db: TestDb) {
    let other = TestDb::create(db.backend).await.unwrap();
    squash_cli(&db, &["up"]).code(0);
    squash_cli(&other, &["up", "-n", "2"]).code(0);
    squash_cli(&other, &["up"]).code(0);
    assert_eq!(state_words(&status(&db))[0], "squashed");
    assert_eq!(state_words(&status(&other))[0], "applied");
    assert_eq!(schema(&db).await, schema(&other).await);

    let verified = squash_cli(&db, &["verify"]).code(0);
    assert!(
        verified
            .stdout
            .contains("Verified 1 consolidated migration(s)"),
        "{verified:?}"
    );
    let json = squash_cli(&db, &["verify", "--format", "json"])
        .code(0)
        .json();
    assert_eq!(
        json["squashes"],
        serde_json::json!(["m20990201_000100_baseline_1_0_0"])
    );
}

/// Creates `gizmos (id, label)`.
struct CreateGizmos;

impl MigrationName for CreateGizmos {
    fn name(&self) -> &str {
        "m20990301_000001_create_gizmos"
    }
}

fn gizmos() -> TableCreateStatement {
    Table::create()
        .table("gizmos")
        .col(ColumnDef::new("id").integer().not_null().primary_key())
        .col(ColumnDef::new("label").string_len(40))
        .to_owned()
}

fn gizmos_index() -> IndexCreateStatement {
    Index::create()
        .name("idx_gizmos_label")
        .table("gizmos")
        .col("label")
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for CreateGizmos {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.create_table(gizmos()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("gizmos").to_owned())
            .await
    }
}

/// Indexes `gizmos.label`.
struct IndexGizmos;

impl MigrationName for IndexGizmos {
    fn name(&self) -> &str {
        "m20990301_000002_index_gizmos"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for IndexGizmos {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.create_index(gizmos_index()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_gizmos_label")
                    .table("gizmos")
                    .to_owned(),
            )
            .await
    }
}

/// A consolidated migration for the two above that forgets the index (`forget_index`) or
/// forgets to drop the table in `down`.
struct Careless {
    forget_index: bool,
}

impl MigrationName for Careless {
    fn name(&self) -> &str {
        "m20990301_000100_careless_baseline"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Careless {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.create_table(gizmos()).await?;
        if self.forget_index {
            return Ok(());
        }
        manager.create_index(gizmos_index()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if self.forget_index {
            manager
                .drop_table(Table::drop().table("gizmos").to_owned())
                .await?;
        }
        Ok(())
    }
}

async fn verify_names_a_consolidated_migration_that_differs(db: TestDb) {
    let target = Target::new(&db.url, None, None, None).unwrap();
    let options = VerifyOptions {
        from: None,
        connect_timeout: Duration::from_secs(10),
    };
    let set = |forget_index: bool| {
        MigrationSet::new(vec![Box::new(CreateGizmos), Box::new(IndexGizmos)])
            .unwrap()
            .with_squashes(vec![Squash::new(
                Careless { forget_index },
                &[
                    "m20990301_000001_create_gizmos",
                    "m20990301_000002_index_gizmos",
                ],
            )])
            .unwrap()
    };

    let report = verify(&target, &set(true), &options).await.unwrap();
    let messages: Vec<String> = report.differences.iter().map(ToString::to_string).collect();
    assert_eq!(
        messages,
        [
            "m20990301_000100_careless_baseline does not create index idx_gizmos_label on gizmos, which the migrations it replaces do"
        ],
        "{report:#?}"
    );
    assert!(matches!(report.differences[0], Difference::Squash { .. }));

    let report = verify(&target, &set(false), &options).await.unwrap();
    let messages: Vec<String> = report.differences.iter().map(ToString::to_string).collect();
    assert_eq!(
        messages,
        ["down of m20990301_000100_careless_baseline leaves table gizmos"],
        "{report:#?}"
    );
    assert!(
        db.table_names().await.is_empty(),
        "the target is never touched"
    );
}

/// Copies the workspace's members and manifests (not `target/`) to `to`.
fn copy_workspace(to: &Path) {
    fn copy_dir(from: &Path, to: &Path) {
        fs::create_dir_all(to).unwrap();
        for entry in fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
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
    let manifest: toml::Table =
        toml::from_str(&fs::read_to_string(root.join("Cargo.toml")).unwrap()).unwrap();
    for member in manifest["workspace"]["members"].as_array().unwrap() {
        let member = member.as_str().unwrap();
        copy_dir(&root.join(member), &to.join(member));
    }
}

/// `migrate squash --to-release 1.1.0 baseline_1_1_0` run on a copy of the workspace, and the
/// copy's `migrate` built as `migrate_generated` (sharing this build's target directory, so only
/// the workspace crates compile, without replacing the `migrate` under test).
fn generated_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let copy = TempDir::new().unwrap();
        copy_workspace(copy.path());
        let manifest = copy.path().join("migration").join("Cargo.toml");
        let renamed = fs::read_to_string(&manifest)
            .unwrap()
            .replace("name = \"migrate\"", "name = \"migrate_generated\"")
            .replace(
                "default-run = \"migrate\"",
                "default-run = \"migrate_generated\"",
            );
        fs::write(&manifest, renamed).unwrap();
        let src = copy.path().join("migration").join("src");
        let made = run_in(
            migrate_bin(),
            copy.path(),
            &[
                "squash",
                "--to-release",
                "1.1.0",
                "baseline_1_1_0",
                "-d",
                src.to_str().unwrap(),
            ],
        )
        .code(0);
        assert!(made.stdout.contains("replaces 6 migrations"), "{made:?}");
        let lib = fs::read_to_string(src.join("lib.rs")).unwrap();
        let project = fs::read_to_string(src.join("project.rs")).unwrap();
        let module = fs::read_dir(&src)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .find(|f| f.ends_with("_baseline_1_1_0.rs"))
            .expect("no baseline module was written");
        let module = module.trim_end_matches(".rs");
        // Declared and listed beside lib.rs, which sea-orm-cli's generator rewrites: a `mod`
        // line there would have it list the consolidated migration as an ordinary one.
        assert!(!lib.contains(module), "{lib}");
        assert!(
            project.contains(&format!("#[path = \"{module}.rs\"]\nmod {module};")),
            "{project}"
        );
        assert!(
            project.contains(&format!("{module}::squash(),")),
            "{project}"
        );
        let code = fs::read_to_string(src.join(format!("{module}.rs"))).unwrap();
        for part in [
            "POSTGRES_UP",
            "MYSQL_UP",
            "SQLITE_DOWN",
            "m20240813_000006_create_timeslots",
        ] {
            assert!(code.contains(part), "no {part} in the module:\n{code}");
        }
        let marked = fs::read_to_string(src.join("m20240813_000006_create_timeslots.rs")).unwrap();
        assert!(marked.contains(&format!("`{module}`")), "{marked}");
        let untouched =
            fs::read_to_string(src.join("m20240813_000007_create_booking_tables.rs")).unwrap();
        assert!(!untouched.contains(module), "{untouched}");

        let build = std::process::Command::new(env!("CARGO"))
            .args([
                "build",
                "--quiet",
                "--offline",
                "-p",
                "migration",
                "--bin",
                "migrate_generated",
            ])
            .current_dir(copy.path())
            .env("CARGO_TARGET_DIR", target_dir())
            .output()
            .unwrap();
        assert!(
            build.status.success(),
            "the workspace does not build after `squash`:\n{}",
            String::from_utf8_lossy(&build.stderr)
        );
        target_dir()
            .join("debug")
            .join(format!("migrate_generated{}", std::env::consts::EXE_SUFFIX))
    })
}

async fn a_generated_consolidated_migration_verifies_and_serves_fresh_databases(db: TestDb) {
    let bin = tokio::task::spawn_blocking(generated_bin).await.unwrap();
    let dir = TempDir::new().unwrap();
    let generated = |args: &[&str]| {
        let mut all = vec!["-u", db.url.as_str()];
        all.extend_from_slice(args);
        run_in(bin, dir.path(), &all)
    };
    let verified = generated(&["verify"]).code(0);
    assert!(
        verified
            .stdout
            .contains("Verified 1 consolidated migration(s)"),
        "{verified:?}"
    );
    assert!(
        db.table_names().await.is_empty(),
        "verify leaves the target alone"
    );

    let up = generated(&["up", "--to-release", "1.1.0"]).code(0);
    assert!(
        up.stdout
            .contains("_baseline_1_1_0 (consolidated: 6 migrations in one step)"),
        "{up:?}"
    );
    generated(&["up"]).code(0);
    let status = generated(&["status", "--format", "json"]).code(0).json();
    let states = state_words(&status);
    assert_eq!(&states[..6], ["squashed"; 6]);
    assert_eq!(&states[6..], ["applied"; 5]);

    // The same schema as the reference built one migration at a time.
    let other = TestDb::create(db.backend).await.unwrap();
    run_in(migrate_bin(), dir.path(), &["-u", other.url.as_str(), "up"]).code(0);
    assert_eq!(schema(&db).await, schema(&other).await);

    generated(&["down", "--to-release", "1.0.0"]).refused(4, &["_baseline_1_1_0"]);
    generated(&["down", "--to-release", "1.1.0"]).code(0);
    generated(&["down", "--yes"]).code(0);
    assert_eq!(
        state_words(&generated(&["status", "--format", "json"]).code(0).json()),
        ["pending"; 11]
    );
}

backend_matrix!(
    a_fresh_database_takes_the_consolidated_path,
    a_partly_migrated_database_takes_the_individual_path,
    both_paths_end_in_the_same_schema,
    verify_names_a_consolidated_migration_that_differs,
    a_generated_consolidated_migration_verifies_and_serves_fresh_databases,
);
