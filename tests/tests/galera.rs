//! The migration lock on a real Galera cluster (`TEST_GALERA_URLS`, see `tests/galera.sh`):
//! runners on different nodes exclude each other only through the table lock, which `auto`
//! takes there; a holder killed with SIGKILL is taken over once its lease runs out; and a
//! migration another node is applying reads as running, never as failed.
//!
//! The runners are real processes of `migrate_slow`, this crate's `migrate` over two quick
//! test-only migrations and a slow one between them (`SLOW_MIGRATION_SECS`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use migration_engine::backend::lock::{
    self, Holder, Identity, LockOptions, LockStrategy, MigrationLock,
};
use migration_engine::backend::target::Target;
use migration_engine::store::ledger::Ledger;
use migration_engine::{
    EngineError, MigrationSet, Operations, RunOptions, Session, SessionOptions, UpTarget,
};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use sea_orm_migration::prelude::*;
use tests::{Backend, GaleraDb, Run, TestDb, process};

const FIRST: &str = "20990101000001";
const SLOW: &str = "20990101000002";
const INDEX: &str = "20990101000003";

/// A `migrate_slow` command on `url`, isolated from the caller's environment and `.env`.
fn runner(url: &str, slow_secs: u64, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_migrate_slow"));
    process::isolate(&mut command, &std::env::temp_dir())
        .env("SLOW_MIGRATION_SECS", slow_secs.to_string())
        .arg("-u")
        .arg(url)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

async fn finish(child: Child) -> Run {
    process::finish(String::from("migrate_slow"), child).await
}

async fn migrate(url: &str, slow_secs: u64, args: &[&str]) -> Run {
    finish(runner(url, slow_secs, args).spawn().unwrap()).await
}

async fn connect(url: &str) -> DatabaseConnection {
    Target::new(url, None, None, None)
        .unwrap()
        .connect(Duration::from_secs(10))
        .await
        .unwrap()
}

/// Makes the next reads on `conn` wait until the node has applied everything the cluster
/// committed before them: a node applies other nodes' writes a moment after they commit.
async fn causal(conn: &DatabaseConnection) {
    conn.execute_unprepared("SET SESSION wsrep_sync_wait = 1")
        .await
        .unwrap();
}

/// `(version, state)` of every ledger row on `conn`, by version.
async fn ledger_rows(conn: &DatabaseConnection) -> Vec<(String, String)> {
    causal(conn).await;
    let rows = conn
        .query_all_raw(Statement::from_string(
            DbBackend::MySql,
            "SELECT version, state FROM schema_migrations ORDER BY version",
        ))
        .await
        .unwrap_or_default();
    rows.iter()
        .map(|r| {
            (
                r.try_get_by_index(0).unwrap(),
                r.try_get_by_index(1).unwrap(),
            )
        })
        .collect()
}

/// `(version, action, outcome)` of every history row on `conn`, oldest first.
async fn history(conn: &DatabaseConnection) -> Vec<(String, String, String)> {
    causal(conn).await;
    let rows = conn
        .query_all_raw(Statement::from_string(
            DbBackend::MySql,
            "SELECT version, action, outcome FROM schema_migrations_history ORDER BY id",
        ))
        .await
        .unwrap();
    rows.iter()
        .map(|r| {
            (
                r.try_get_by_index(0).unwrap(),
                r.try_get_by_index(1).unwrap(),
                r.try_get_by_index(2).unwrap(),
            )
        })
        .collect()
}

fn applied(versions: &[&str]) -> Vec<(String, String)> {
    versions
        .iter()
        .map(|v| ((*v).to_owned(), "applied".to_owned()))
        .collect()
}

/// No runner may print a database error: losing the race is not an error.
fn assert_no_database_error(run: &Run) {
    for needle in [
        "Duplicate",
        "Deadlock",
        "deadlock",
        "already exists",
        "error:",
        "repair",
    ] {
        assert!(
            !run.stdout.contains(needle) && !run.stderr.contains(needle),
            "a runner printed `{needle}`: {run:?}"
        );
    }
}

fn ledger() -> Ledger {
    Ledger::new(DbBackend::MySql, None, "schema_migrations")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nine_runners_on_three_nodes_apply_each_migration_once() {
    let Some(cluster) = GaleraDb::create().await else {
        return;
    };
    let children: Vec<Child> = (0..9)
        .map(|i| runner(cluster.url(i), 1, &["up"]).spawn().unwrap())
        .collect();
    let pids: Vec<u32> = children.iter().map(Child::id).collect();
    let mut runs = Vec::new();
    for child in children {
        runs.push(finish(child).await);
    }
    for run in &runs {
        assert_eq!(run.code, Some(0), "{run:?}");
        assert_no_database_error(run);
    }
    let appliers: Vec<usize> = (0..runs.len())
        .filter(|&i| runs[i].stdout.contains("Applied 3 migration(s)"))
        .collect();
    assert_eq!(
        appliers.len(),
        1,
        "one runner applies everything: {runs:#?}"
    );
    let idle = runs
        .iter()
        .filter(|r| r.stdout.contains("Nothing to do"))
        .count();
    assert_eq!(idle, 8, "{runs:#?}");
    // The others waited for the one that applied, and were told who it was.
    let holder = format!("pid {}", pids[appliers[0]]);
    let told = runs
        .iter()
        .filter(|r| {
            r.stderr
                .contains("waiting for the migration lock, held by `migrate up`")
                && r.stderr.contains(&holder)
        })
        .count();
    assert!(told >= 1, "no waiter named {holder}: {runs:#?}");

    for node in 0..3 {
        let conn = connect(cluster.url(node)).await;
        assert_eq!(
            ledger_rows(&conn).await,
            applied(&[FIRST, SLOW, INDEX]),
            "node {node}"
        );
        assert_eq!(
            history(&conn).await,
            [FIRST, SLOW, INDEX]
                .iter()
                .map(|v| ((*v).to_owned(), "apply".to_owned(), "success".to_owned()))
                .collect::<Vec<_>>(),
            "every version is applied exactly once, as node {node} sees it"
        );
        causal(&conn).await;
        let lease = lock::lease_of(&conn, &ledger()).await.unwrap();
        assert_eq!(lease, None, "the lock is released, as node {node} sees it");
    }
}

/// Waits up to `limit` for `check` to hold on `conn`.
async fn eventually<F, Fut>(limit: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + limit;
    while !check().await {
        assert!(Instant::now() < deadline, "{what} within {limit:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_holder_is_taken_over_once_its_lease_runs_out_and_was_reported_meanwhile() {
    let Some(cluster) = GaleraDb::create().await else {
        return;
    };
    // Every run here renders the slow migration alike (its wait is part of its SQL).
    const SLOW_SECS: u64 = 120;
    let lease = |command: &mut Command| {
        command.env("MIGRATION_LOCK_LEASE", "3");
    };
    let mut victim_command = runner(cluster.url(0), SLOW_SECS, &["up"]);
    lease(&mut victim_command);
    let mut victim = victim_command.spawn().unwrap();
    let pid = victim.id().to_string();
    let reader = connect(cluster.url(2)).await;
    eventually(
        Duration::from_secs(60),
        "the slow migration is running, as node 3 sees it",
        || async {
            ledger_rows(&reader)
                .await
                .contains(&(SLOW.to_owned(), "running".to_owned()))
        },
    )
    .await;

    // While it runs, the other nodes see it at work: running on its host and pid, never
    // failed, and nothing advises a repair.
    let status = migrate(cluster.url(2), SLOW_SECS, &["status"]).await;
    assert_eq!(status.code, Some(0), "{status:?}");
    assert!(status.stdout.contains("running on"), "{status:?}");
    assert!(status.stdout.contains(&format!("pid {pid}")), "{status:?}");
    assert!(!status.stdout.contains("failed"), "{status:?}");
    let check = migrate(cluster.url(1), SLOW_SECS, &["check"]).await;
    assert_eq!(check.code, Some(6), "{check:?}");
    let dry = migrate(cluster.url(1), SLOW_SECS, &["up", "--dry-run"]).await;
    assert_eq!(dry.code, Some(3), "{dry:?}");
    assert!(
        dry.stderr
            .contains(&format!("{SLOW}_slow_backfill is running on")),
        "{dry:?}"
    );
    assert!(dry.stderr.contains(&format!("pid {pid}")), "{dry:?}");
    let json = migrate(cluster.url(2), SLOW_SECS, &["status", "--format", "json"]).await;
    let report: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let slow = report["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["version"] == SLOW)
        .unwrap();
    assert_eq!(slow["state"], "running", "{slow}");
    assert_eq!(slow["runner"]["pid"], pid.as_str(), "{slow}");
    for run in [&status, &check, &dry, &json] {
        assert!(
            !run.stdout.contains("repair") && !run.stderr.contains("repair"),
            "{run:?}"
        );
    }

    // Killed with SIGKILL: nothing releases its lock row. A runner on another node waits,
    // naming it, until the lease has run out, then takes the lock over.
    victim.kill().unwrap();
    let _ = victim.wait();
    let killed = Instant::now();
    let mut next_command = runner(cluster.url(1), SLOW_SECS, &["--lock-timeout", "60", "up"]);
    lease(&mut next_command);
    let next = finish(next_command.spawn().unwrap()).await;
    let waited = killed.elapsed();
    assert!(
        next.stderr
            .contains("waiting for the migration lock, held by `migrate up`, on ")
            && next.stderr.contains(&format!("pid {pid}")),
        "the waiter named the killed holder: {next:?}"
    );
    assert!(next.stderr.contains("lease until"), "{next:?}");
    assert!(
        waited >= Duration::from_millis(1500),
        "took the lock over after {waited:?}, before the lease ran out"
    );
    assert!(waited < Duration::from_secs(30), "took {waited:?}");
    // Under the lock, the killed runner's `running` row is what it is: interrupted. Now, and
    // only now, the repair is the advice.
    assert_eq!(next.code, Some(4), "{next:?}");
    assert!(next.stderr.contains("was interrupted"), "{next:?}");
    assert!(next.stderr.contains("repair --mark-applied"), "{next:?}");
    assert!(!next.stderr.contains("is running"), "{next:?}");
    for node in 0..3 {
        let conn = connect(cluster.url(node)).await;
        assert_eq!(
            ledger_rows(&conn).await,
            [
                (FIRST.to_owned(), "applied".to_owned()),
                (SLOW.to_owned(), "failed".to_owned())
            ],
            "node {node}"
        );
    }
}

/// The options of a lock check on the cluster: `strategy`, a short lease, waiting `timeout`.
fn options(strategy: LockStrategy, timeout: Duration) -> LockOptions {
    LockOptions {
        strategy,
        lease: Duration::from_secs(3),
        timeout,
    }
}

fn me(command: &str) -> Identity {
    Identity {
        command: command.to_owned(),
        host: "galera-test".to_owned(),
        pid: 4242,
    }
}

async fn free(conn: &DatabaseConnection, strategy: LockStrategy) -> MigrationLock {
    MigrationLock::acquire(
        conn,
        &ledger(),
        &me("galera holder"),
        &options(strategy, Duration::from_secs(10)),
        |holder: &Holder| panic!("the lock should be free, but is held by {holder}"),
    )
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_takes_the_table_lock_on_galera_and_the_session_lock_on_plain_mariadb() {
    let Some(cluster) = GaleraDb::create().await else {
        return;
    };
    let node1 = connect(cluster.url(0)).await;
    assert_eq!(
        lock::resolve(&node1, LockStrategy::Auto).await.unwrap(),
        LockStrategy::Table
    );
    let held = free(&node1, LockStrategy::Auto).await;
    assert_eq!(held.strategy(), LockStrategy::Table);
    // The lock row replicates: node 2 reads it, live, with the holder's token.
    let node2 = connect(cluster.url(1)).await;
    let token = held.token().unwrap().to_owned();
    causal(&node2).await;
    let seen = lock::lease_of(&node2, &ledger()).await.unwrap().unwrap();
    assert_eq!(seen.token, token);
    assert!(seen.live);
    assert_eq!(seen.holder.host.as_deref(), Some("galera-test"));
    held.release().await.unwrap();
    eventually(
        Duration::from_secs(10),
        "node 2 sees the release",
        || async { lock::lease_of(&node2, &ledger()).await.unwrap().is_none() },
    )
    .await;

    // The one MariaDB server (TEST_MARIADB_URL) has no cluster: its session lock excludes
    // every runner, and `auto` takes it.
    if let Some(plain) = TestDb::create(Backend::MariaDb).await {
        let conn = connect(&plain.url).await;
        assert_eq!(
            lock::resolve(&conn, LockStrategy::Auto).await.unwrap(),
            LockStrategy::Session
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_table_lock_on_one_node_excludes_runners_on_the_others_where_get_lock_does_not() {
    let Some(cluster) = GaleraDb::create().await else {
        return;
    };
    let nodes = [
        connect(cluster.url(0)).await,
        connect(cluster.url(1)).await,
        connect(cluster.url(2)).await,
    ];
    let held = free(&nodes[0], LockStrategy::Table).await;
    for (n, node) in nodes.iter().enumerate().skip(1) {
        let mut told = Vec::new();
        let waited = MigrationLock::acquire(
            node,
            &ledger(),
            &me("galera waiter"),
            &options(LockStrategy::Table, Duration::from_secs(1)),
            |holder: &Holder| told.push(holder.to_string()),
        )
        .await;
        let Err(EngineError::LockTimeout { holder, .. }) = &waited else {
            panic!("node {n} got a lock node 1 holds: {waited:?}");
        };
        assert!(
            holder.contains("`galera holder`, on galera-test, pid 4242"),
            "{holder}"
        );
        assert_eq!(told.len(), 1, "{told:?}");
    }
    held.release().await.unwrap();
    let next = MigrationLock::acquire(
        &nodes[1],
        &ledger(),
        &me("galera next"),
        &options(LockStrategy::Table, Duration::from_secs(10)),
        |_| {},
    )
    .await
    .unwrap();
    next.release().await.unwrap();

    // GET_LOCK is node-local: a session on node 2 is granted what a session on node 1 holds
    // (releases that refuse GET_LOCK with wsrep on, MDEV-30473, fail it instead). Either way,
    // it never excludes a runner on another node.
    let local = free(&nodes[0], LockStrategy::Session).await;
    let elsewhere = MigrationLock::acquire(
        &nodes[1],
        &ledger(),
        &me("galera elsewhere"),
        &options(LockStrategy::Session, Duration::from_secs(1)),
        |_| {},
    )
    .await;
    assert!(
        !matches!(elsewhere, Err(EngineError::LockTimeout { .. })),
        "GET_LOCK excluded a runner on another node: {elsewhere:?}"
    );
    if let Ok(lock) = elsewhere {
        lock.release().await.unwrap();
    }
    local.release().await.unwrap();
}

/// Does nothing, both ways: the run around it is what the check is about.
struct Step;

impl MigrationName for Step {
    fn name(&self) -> &str {
        "m20990101_000001_galera_step"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Step {
    async fn up(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Ok(())
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_on_every_node_started_together_apply_once_through_the_library() {
    let Some(cluster) = GaleraDb::create().await else {
        return;
    };
    let runs: Vec<_> = (0..6)
        .map(|i| {
            let url = cluster.url(i).to_owned();
            tokio::spawn(async move {
                let set = MigrationSet::new(vec![Box::new(Step)]).unwrap();
                let target = Target::new(&url, None, None, None).unwrap();
                let options = SessionOptions {
                    lock_timeout: Duration::from_secs(60),
                    ..SessionOptions::new("galera library")
                };
                let session = Session::open(&target, &options, |_| {}).await.unwrap();
                assert_eq!(session.lock_strategy(), LockStrategy::Table);
                let ops = Operations::new(session, &set);
                let up = ops.up(&UpTarget::default(), &RunOptions::default()).await;
                ops.close(up).await.unwrap().steps.len()
            })
        })
        .collect();
    let mut applied_steps = 0;
    for run in runs {
        applied_steps += run.await.unwrap();
    }
    assert_eq!(applied_steps, 1, "one session applied the migration");
    let conn = connect(cluster.url(2)).await;
    assert_eq!(ledger_rows(&conn).await, applied(&[FIRST]));
}
