//! Engine behaviour on every backend, with test-only migrations: planning, state, checksums,
//! dry-runs, failures, missing migrations and adoption of `seaql_migrations`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use migration_engine::exec::operations::Destruction;
use migration_engine::exec::report::Script;
use migration_engine::model::set::SetError;
use migration_engine::store::ledger::Ledger;
use migration_engine::{
    BeforeDestructive, DownTarget, Engine, EngineError, Hooks, MigrationSet, Operation, Operations,
    RepairAction, RunOptions, Session, SessionOptions, State, Target, UpTarget,
};
use sea_orm::{ConnectionTrait, DbBackend};
use sea_orm_migration::prelude::*;
use std::sync::Arc;
use tests::{TestDb, backend_matrix};

/// Creates table `table` with an id and a `label` column (or `label_v2` when `variant`).
struct CreateTable {
    name: &'static str,
    table: &'static str,
    variant: bool,
}

impl MigrationName for CreateTable {
    fn name(&self) -> &str {
        self.name
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreateTable {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let label = if self.variant { "label_v2" } else { "label" };
        manager
            .create_table(
                Table::create()
                    .table(Alias::new(self.table))
                    .col(
                        ColumnDef::new(Alias::new("id"))
                            .big_integer()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Alias::new(label)).string())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Alias::new(self.table)).to_owned())
            .await
    }
}

/// Creates a table, then fails on invalid SQL.
struct FailsMidway;

impl MigrationName for FailsMidway {
    fn name(&self) -> &str {
        "m20240101_000009_fails_midway"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for FailsMidway {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("half_done"))
                    .col(
                        ColumnDef::new(Alias::new("id"))
                            .integer()
                            .not_null()
                            .primary_key(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared("THIS IS NOT SQL")
            .await
            .map(|_| ())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(Alias::new("half_done"))
                    .if_exists()
                    .to_owned(),
            )
            .await
    }
}

/// Has no `down`.
struct Irreversible;

impl MigrationName for Irreversible {
    fn name(&self) -> &str {
        "m20240101_000004_irreversible"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Irreversible {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        CreateTable {
            name: "",
            table: "gamma",
            variant: false,
        }
        .up(manager)
        .await
    }
}

fn table(n: u8, table: &'static str) -> Box<dyn MigrationTrait> {
    let name = match n {
        1 => "m20240101_000001_create_alpha",
        2 => "m20240101_000002_create_beta",
        _ => "m20240101_000003_create_gamma",
    };
    Box::new(CreateTable {
        name,
        table,
        variant: false,
    })
}

fn three() -> MigrationSet {
    MigrationSet::new(vec![table(1, "alpha"), table(2, "beta"), table(3, "gamma")]).unwrap()
}

/// The operations of `set` on `db`, in a session of their own (so under the migration lock
/// until dropped).
async fn engine<'a>(db: &TestDb, set: &'a MigrationSet) -> Operations<'a> {
    let target = Target::new(&db.url, None, None, None).unwrap();
    let session = Session::open(&target, &SessionOptions::new("tests"), |_| {})
        .await
        .unwrap();
    Operations::new(session, set)
}

async fn states(engine: &Engine<'_>) -> Vec<(String, State)> {
    engine
        .status()
        .await
        .unwrap()
        .migrations
        .into_iter()
        .map(|m| (m.name, m.state))
        .collect()
}

fn opts() -> RunOptions {
    RunOptions::default()
}

const LEDGER_TABLES: [&str; 2] = ["schema_migrations", "schema_migrations_history"];

async fn up_down_steps_targets_and_all(db: TestDb) {
    let set = three();
    let e = engine(&db, &set).await;
    let two = UpTarget {
        steps: Some(2),
        ..Default::default()
    };
    assert_eq!(e.up(&two, &opts()).await.unwrap().steps.len(), 2);
    assert!(db.table_names().await.contains(&"beta".to_owned()));
    assert!(!db.table_names().await.contains(&"gamma".to_owned()));
    let report = e.up(&UpTarget::default(), &opts()).await.unwrap();
    assert_eq!(report.batch, Some(2));
    assert!(
        e.up(&UpTarget::default(), &opts())
            .await
            .unwrap()
            .is_empty(),
        "nothing to do is success"
    );
    e.down(&DownTarget::Steps(1), &opts()).await.unwrap();
    assert!(!db.table_names().await.contains(&"gamma".to_owned()));
    let to = UpTarget {
        to: Some("20240101000003".into()),
        ..Default::default()
    };
    e.up(&to, &opts()).await.unwrap();
    e.down(&DownTarget::To("20240101000001".into()), &opts())
        .await
        .unwrap();
    let s = states(&e).await;
    assert_eq!(s.iter().filter(|(_, st)| *st == State::Applied).count(), 1);
    assert!(matches!(
        e.down(&DownTarget::Steps(5), &opts()).await,
        Err(EngineError::NotEnoughApplied {
            requested: 5,
            applied: 1
        })
    ));
    e.down(&DownTarget::All, &opts()).await.unwrap();
    assert_eq!(
        db.table_names().await,
        LEDGER_TABLES.map(str::to_owned).to_vec()
    );
    let history = e.history(None).await.unwrap();
    assert_eq!(
        history.len(),
        3 + 1 + 1 + 2 + 1,
        "every apply and revert is in the history"
    );
}

async fn a_changed_migration_is_modified_refused_and_repaired(db: TestDb) {
    let set = three();
    engine(&db, &set)
        .await
        .up(&UpTarget::default(), &opts())
        .await
        .unwrap();
    let changed = MigrationSet::new(vec![
        table(1, "alpha"),
        Box::new(CreateTable {
            name: "m20240101_000002_create_beta",
            table: "beta",
            variant: true,
        }),
        table(3, "gamma"),
    ])
    .unwrap();
    let e = engine(&db, &changed).await;
    let s = states(&e).await;
    assert_eq!(s[1], ("create_beta".to_owned(), State::Modified));
    let before = db.dump().await;
    let err = e.down(&DownTarget::Steps(1), &opts()).await.unwrap_err();
    assert!(
        err.to_string().contains("20240101000002_create_beta"),
        "{err}"
    );
    assert!(matches!(
        e.up(&UpTarget::default(), &opts()).await,
        Err(EngineError::Modified { .. })
    ));
    assert_eq!(db.dump().await, before, "a refusal changes nothing");
    let repaired = e.repair(&RepairAction::Checksums, &opts()).await.unwrap();
    assert_eq!(repaired.changes.len(), 1);
    assert!(repaired.changes[0].contains("create_beta"));
    assert!(states(&e).await.iter().all(|(_, st)| *st == State::Applied));
}

async fn a_migration_missing_from_the_code_is_reverted_from_stored_sql(db: TestDb) {
    let set = three();
    engine(&db, &set)
        .await
        .up(&UpTarget::default(), &opts())
        .await
        .unwrap();
    let branch = MigrationSet::new(vec![table(1, "alpha"), table(2, "beta")]).unwrap();
    let e = engine(&db, &branch).await;
    assert_eq!(
        states(&e).await[2],
        ("create_gamma".to_owned(), State::Missing)
    );
    assert!(
        e.up(&UpTarget::default(), &opts())
            .await
            .unwrap()
            .is_empty(),
        "missing does not block up"
    );
    assert!(matches!(
        e.down(&DownTarget::Steps(1), &opts()).await,
        Err(EngineError::MissingNeedsConfirmation { .. })
    ));
    let script = e
        .dry_run_down(&DownTarget::Steps(1), &opts())
        .await
        .unwrap()
        .to_string();
    assert!(script.to_lowercase().contains("drop table"), "{script}");
    let yes = RunOptions {
        confirmed_missing: true,
        ..opts()
    };
    let report = e.down(&DownTarget::Steps(1), &yes).await.unwrap();
    assert_eq!(report.steps[0].source, "stored");
    assert!(!db.table_names().await.contains(&"gamma".to_owned()));
    assert_eq!(states(&e).await.len(), 2);
}

async fn dry_runs_change_nothing_not_even_the_ledger(db: TestDb) {
    let set = three();
    let e = engine(&db, &set).await;
    let before = db.dump().await;
    let script = e
        .dry_run_up(&UpTarget::default(), &opts())
        .await
        .unwrap()
        .to_string();
    assert!(script.contains("CREATE TABLE"), "{script}");
    assert!(
        script.contains("schema_migrations"),
        "ledger writes are shown: {script}"
    );
    assert!(
        script.contains("rendered up to their first read"),
        "{script}"
    );
    assert_eq!(db.dump().await, before);
    assert!(db.table_names().await.is_empty());
    e.up(&UpTarget::default(), &opts()).await.unwrap();
    let before = db.dump().await;
    let script = e
        .dry_run_down(&DownTarget::All, &opts())
        .await
        .unwrap()
        .to_string();
    assert!(script.contains("DROP TABLE"), "{script}");
    assert_eq!(db.dump().await, before);
}

async fn a_failing_migration_leaves_nothing_or_a_failed_row(db: TestDb) {
    let set = MigrationSet::new(vec![table(1, "alpha"), Box::new(FailsMidway)]).unwrap();
    let e = engine(&db, &set).await;
    let err = e.up(&UpTarget::default(), &opts()).await.unwrap_err();
    let EngineError::MigrationFailed {
        completed,
        rolled_back,
        ..
    } = &err
    else {
        panic!("expected a migration failure, got {err}");
    };
    assert_eq!(completed, &["20240101000001_create_alpha".to_owned()]);
    let history = e.history(None).await.unwrap();
    assert_eq!(
        history[0].outcome,
        migration_engine::store::history::Outcome::Failed
    );
    if db.backend.db_backend() == DbBackend::MySql {
        assert!(!rolled_back);
        assert!(
            db.table_names().await.contains(&"half_done".to_owned()),
            "MariaDB committed the DDL"
        );
        assert_eq!(states(&e).await[1].1, State::Failed);
        let refused = e.up(&UpTarget::default(), &opts()).await.unwrap_err();
        assert!(refused.to_string().contains("repair"), "{refused}");
        assert!(matches!(
            e.down(&DownTarget::All, &opts()).await,
            Err(EngineError::Dirty { .. })
        ));
        // Resolve one way: mark applied, revert it, then fail again and resolve the other way.
        e.repair(&RepairAction::MarkApplied("20240101000009".into()), &opts())
            .await
            .unwrap();
        assert_eq!(states(&e).await[1].1, State::Applied);
        e.down(&DownTarget::Steps(1), &opts()).await.unwrap();
        assert!(!db.table_names().await.contains(&"half_done".to_owned()));
        e.up(&UpTarget::default(), &opts()).await.unwrap_err();
        db.connect()
            .await
            .execute_unprepared("DROP TABLE half_done")
            .await
            .unwrap();
        e.repair(&RepairAction::Remove("20240101000009".into()), &opts())
            .await
            .unwrap();
        assert_eq!(states(&e).await[1].1, State::Pending);
    } else {
        assert!(rolled_back);
        assert!(
            !db.table_names().await.contains(&"half_done".to_owned()),
            "nothing of it remains"
        );
        assert_eq!(states(&e).await[1].1, State::Pending);
    }
}

async fn an_irreversible_migration_in_a_down_range_is_refused_before_any_change(db: TestDb) {
    let set = MigrationSet::new(vec![
        table(1, "alpha"),
        table(2, "beta"),
        Box::new(Irreversible),
    ])
    .unwrap();
    let e = engine(&db, &set).await;
    e.up(&UpTarget::default(), &opts()).await.unwrap();
    let before = db.dump().await;
    assert!(matches!(
        e.down(&DownTarget::All, &opts()).await,
        Err(EngineError::Irreversible { .. })
    ));
    assert_eq!(db.dump().await, before);
}

/// A migration older than the newest applied one (merged late from a branch) is refused until
/// the user says it may run out of order; the refusal changes nothing.
async fn an_out_of_order_migration_is_refused_unless_allowed(db: TestDb) {
    let old = MigrationSet::new(vec![table(1, "alpha"), table(3, "gamma")]).unwrap();
    engine(&db, &old)
        .await
        .up(&UpTarget::default(), &opts())
        .await
        .unwrap();
    let merged = three();
    let e = engine(&db, &merged).await;
    let before = db.dump().await;
    let refused = e.up(&UpTarget::default(), &opts()).await;
    assert!(
        matches!(refused, Err(EngineError::OutOfOrder { .. })),
        "{refused:?}"
    );
    assert_eq!(db.dump().await, before);
    let allowed = UpTarget {
        allow_out_of_order: true,
        ..Default::default()
    };
    let report = e.up(&allowed, &opts()).await.unwrap();
    assert_eq!(report.steps.len(), 1);
    assert!(states(&e).await.iter().all(|(_, s)| *s == State::Applied));
}

async fn a_seaorm_project_is_adopted_without_rerunning(db: TestDb) {
    struct Stock;
    impl MigratorTrait for Stock {
        fn migrations() -> Vec<Box<dyn MigrationTrait>> {
            vec![table(1, "alpha"), table(2, "beta")]
        }
    }
    let conn = db.connect().await;
    <Stock as MigratorTrait>::up(&conn, None).await.unwrap();
    let set = three();
    let e = engine(&db, &set).await;
    let status = e.status().await.unwrap();
    assert!(status.adoptable && !status.ledger_exists);
    assert_eq!(status.count(State::Applied), 2);
    assert_eq!(status.count(State::Pending), 1);
    // If adoption re-ran the migrations, CREATE TABLE alpha would fail.
    let report = e.up(&UpTarget::default(), &opts()).await.unwrap();
    assert_eq!(report.adopted.len(), 2);
    assert_eq!(report.steps.len(), 1);
    assert!(states(&e).await.iter().all(|(_, s)| *s == State::Applied));
    e.down(&DownTarget::All, &opts()).await.unwrap();
    assert!(
        !db.table_names().await.contains(&"alpha".to_owned()),
        "adopted rows carry their down"
    );
}

/// `--single-transaction`: every pending migration commits together or not at all, where DDL is
/// transactional; refused with nothing changed where it is not (MariaDB).
async fn single_transaction_applies_all_or_none(db: TestDb) {
    let together = RunOptions {
        single_transaction: true,
        ..opts()
    };
    let set = MigrationSet::new(vec![table(1, "alpha"), Box::new(FailsMidway)]).unwrap();
    let e = engine(&db, &set).await;
    let err = e.up(&UpTarget::default(), &together).await.unwrap_err();
    let pending = [State::Pending, State::Pending];
    if db.backend.db_backend() == DbBackend::MySql {
        assert!(matches!(err, EngineError::Config { .. }), "{err}");
        assert!(err.to_string().contains("--single-transaction"), "{err}");
        assert_eq!(
            states(&e).await.iter().map(|s| s.1).collect::<Vec<_>>(),
            pending
        );
        assert!(!db.table_names().await.contains(&"alpha".to_owned()));
        return;
    }
    let EngineError::MigrationFailed {
        completed,
        rolled_back,
        ..
    } = &err
    else {
        panic!("expected a migration failure, got {err}");
    };
    assert!(completed.is_empty() && *rolled_back, "{err}");
    let tables = db.table_names().await;
    assert!(!tables.contains(&"alpha".to_owned()), "{tables:?}");
    assert!(!tables.contains(&"half_done".to_owned()), "{tables:?}");
    assert_eq!(
        states(&e).await.iter().map(|s| s.1).collect::<Vec<_>>(),
        pending
    );
    let history = e.history(None).await.unwrap();
    assert_eq!(
        history[0].outcome,
        migration_engine::store::history::Outcome::Failed
    );
    drop(e);

    let set = three();
    let e = engine(&db, &set).await;
    let report = e.up(&UpTarget::default(), &together).await.unwrap();
    assert_eq!(report.steps.len(), 3, "{report:?}");
    assert!(states(&e).await.iter().all(|s| s.1 == State::Applied));
}

/// A ledger created before the engine kept where rendering stopped and what each run sent is
/// read as it is, and gains those columns under the lock of the next command that writes.
async fn a_ledger_from_an_earlier_version_is_read_and_upgraded_in_place(db: TestDb) {
    let set = three();
    let one = UpTarget {
        steps: Some(1),
        ..Default::default()
    };
    engine(&db, &set).await.up(&one, &opts()).await.unwrap();
    let conn = db.connect().await;
    for (table, column) in [
        ("schema_migrations", "render_stop"),
        ("schema_migrations", "down_stop"),
        ("schema_migrations_history", "statements"),
    ] {
        conn.execute_unprepared(&format!("ALTER TABLE {table} DROP COLUMN {column}"))
            .await
            .unwrap();
    }
    let e = engine(&db, &set).await;
    let states: Vec<State> = states(&e).await.into_iter().map(|(_, s)| s).collect();
    assert_eq!(states, [State::Applied, State::Pending, State::Pending]);
    assert_eq!(e.history(None).await.unwrap().len(), 1);
    let ledger = Ledger::new(db.backend.db_backend(), None, "schema_migrations");
    let rows = ledger.read(&conn).await.unwrap().unwrap();
    assert_eq!(
        (rows[0].render_stop.as_deref(), rows[0].down_stop.as_deref()),
        (None, None)
    );

    e.up(&UpTarget::default(), &opts()).await.unwrap();
    let columns = db.columns("schema_migrations").await;
    assert!(
        columns.iter().any(|c| c.starts_with("render_stop ")),
        "{columns:?}"
    );
    let history = e.history(None).await.unwrap();
    assert_eq!(history.len(), 3);
    assert!(
        history[0].statements.iter().any(|s| s.contains("gamma")),
        "{history:?}"
    );
    e.down(&DownTarget::All, &opts()).await.unwrap();
    assert_eq!(db.table_names().await, LEDGER_TABLES);
}

/// A hook before destructive operations that records what it was shown and answers as told.
#[derive(Default)]
struct Recorder {
    seen: std::sync::Mutex<Vec<(Operation, Option<String>)>>,
    refuse: bool,
    approve_missing: bool,
}

#[async_trait::async_trait]
impl BeforeDestructive for Recorder {
    async fn destroying(
        &self,
        _session: &Session,
        destruction: &Destruction<'_>,
    ) -> Result<(), EngineError> {
        self.seen.lock().unwrap().push((
            destruction.operation,
            destruction.confirm.map(|c| c.effect.to_owned()),
        ));
        if self.refuse {
            Err(EngineError::Cancelled)
        } else {
            Ok(())
        }
    }

    async fn revert_missing(
        &self,
        _session: &Session,
        versions: &[String],
        script: &Script,
    ) -> Result<bool, EngineError> {
        assert_eq!(versions.len(), 1, "{versions:?}");
        assert!(
            script.to_string().to_lowercase().contains("drop table"),
            "{script}"
        );
        Ok(self.approve_missing)
    }
}

/// The operations of `set` on `db` with `hook` before destructive ones.
async fn hooked<'a>(db: &TestDb, set: &'a MigrationSet, hook: Arc<Recorder>) -> Operations<'a> {
    engine(db, set)
        .await
        .with_hooks(Hooks::new().before_destructive(hook))
}

async fn destructive_operations_ask_their_hooks_before_destroying_anything(db: TestDb) {
    let set = three();
    let refusing = Arc::new(Recorder {
        refuse: true,
        ..Recorder::default()
    });
    let e = hooked(&db, &set, refusing.clone()).await;
    // Applying is not destructive: no hook is asked.
    e.up(&UpTarget::default(), &opts()).await.unwrap();
    assert!(refusing.seen.lock().unwrap().is_empty());
    let before = db.dump().await;
    for refused in [
        e.reset(&opts()).await,
        e.refresh(&opts()).await,
        e.redo(1, &opts()).await,
        e.down(&DownTarget::All, &opts()).await,
        e.down(&DownTarget::Steps(1), &opts()).await,
    ] {
        assert!(
            matches!(refused, Err(EngineError::Cancelled)),
            "{refused:?}"
        );
    }
    assert_eq!(db.dump().await, before, "a refusal changes nothing");
    let everything = Some("reverts 3 migration(s); the schema will be empty".to_owned());
    assert_eq!(
        *refusing.seen.lock().unwrap(),
        [
            (Operation::Reset, everything.clone()),
            (
                Operation::Refresh,
                Some("reverts 3 migration(s), then applies every migration".to_owned())
            ),
            (Operation::Redo, None),
            (Operation::Down, everything),
            (Operation::Down, None),
        ],
        "each is asked once, with what to confirm when it reverts everything"
    );
    drop(e);

    // A migration that left the code is reverted from its stored SQL only once approved.
    let branch = MigrationSet::new(vec![table(1, "alpha"), table(2, "beta")]).unwrap();
    let declining = Arc::new(Recorder::default());
    let e = hooked(&db, &branch, declining).await;
    assert!(matches!(
        e.down(&DownTarget::Steps(1), &opts()).await,
        Err(EngineError::MissingNeedsConfirmation { .. })
    ));
    assert_eq!(db.dump().await, before);
    drop(e);
    let approving = Arc::new(Recorder {
        approve_missing: true,
        ..Recorder::default()
    });
    let e = hooked(&db, &branch, approving).await;
    let report = e.down(&DownTarget::Steps(1), &opts()).await.unwrap();
    assert_eq!(report.steps[0].source, "stored");
    assert!(!db.table_names().await.contains(&"gamma".to_owned()));
}

backend_matrix!(
    destructive_operations_ask_their_hooks_before_destroying_anything,
    a_ledger_from_an_earlier_version_is_read_and_upgraded_in_place,
    single_transaction_applies_all_or_none,
    up_down_steps_targets_and_all,
    a_changed_migration_is_modified_refused_and_repaired,
    a_migration_missing_from_the_code_is_reverted_from_stored_sql,
    dry_runs_change_nothing_not_even_the_ledger,
    a_failing_migration_leaves_nothing_or_a_failed_row,
    an_irreversible_migration_in_a_down_range_is_refused_before_any_change,
    an_out_of_order_migration_is_refused_unless_allowed,
    a_seaorm_project_is_adopted_without_rerunning,
);

#[test]
fn duplicate_and_misordered_lists_are_refused_before_connecting() {
    let dup = MigrationSet::new(vec![table(1, "alpha"), table(1, "beta")]);
    assert!(matches!(dup, Err(SetError::DuplicateVersion { .. })));
    let order = MigrationSet::new(vec![table(2, "beta"), table(1, "alpha")]);
    assert!(matches!(order, Err(SetError::OutOfOrderList { .. })));
}
