//! The maintenance set on a PostgreSQL server that preloads pg_cron: a throwaway cluster per
//! test ([`support::pg_cluster`]), since no shared test server can be restarted with
//! `shared_preload_libraries` for one test.
//!
//! Once up, `cron.job` holds the jobs, to run in the application database; each job's command,
//! run there by hand (not waiting for the clock), does its work; once down, the jobs and the
//! extension are gone.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::path::Path;

use sea_orm_migration::prelude::MigratorTrait;
use sea_orm_migration::sea_orm::DatabaseConnection;
use support::pg_cluster::PgCluster;
use support::{Maintenance, connect, down_app, down_maintenance, exec, get, one, rows, up_all};

/// The application database each test creates on its cluster.
const APP: &str = "iot_app";

/// The jobs, by name, and what each runs.
const JOBS: [(&str, &str); 4] = [
    ("ess_signals_rollup", "SELECT payload.rollup_ess_signals()"),
    (
        "iot_partition_maintenance",
        "SELECT timeseries.run_maintenance()",
    ),
    ("iot_retention", "SELECT timeseries.run_retention()"),
    ("iot_rollup", "SELECT timeseries.perform_rollup()"),
];

/// A cluster with pg_cron preloaded, living in the `postgres` database, and the application
/// database created on it.
async fn cluster() -> Option<PgCluster> {
    let cluster = PgCluster::start(
        &[
            "shared_preload_libraries=pg_cron",
            "cron.database_name=postgres",
        ],
        &["pg_cron"],
    )?;
    let postgres = connect(&cluster.url("postgres")).await;
    exec(&postgres, &format!("CREATE DATABASE {APP}")).await;
    let _ = postgres.close().await;
    Some(cluster)
}

/// Makes `database` the `iot_metrics.app_database` of the cluster's `postgres` database, which
/// sessions opened after this see.
async fn set_app_database(cluster: &PgCluster, database: &str) {
    let postgres = connect(&cluster.url("postgres")).await;
    exec(
        &postgres,
        &format!("ALTER DATABASE postgres SET iot_metrics.app_database = '{database}'"),
    )
    .await;
    let _ = postgres.close().await;
}

/// `cron.job` is the four jobs, each to run `command` in the application database.
async fn assert_jobs_scheduled(postgres: &DatabaseConnection) {
    let jobs = rows(
        postgres,
        "SELECT jobname::text AS name, command, database::text AS database \
         FROM cron.job ORDER BY jobname",
    )
    .await;
    let found: Vec<(String, String, String)> = jobs
        .iter()
        .map(|job| (get(job, "name"), get(job, "command"), get(job, "database")))
        .collect();
    let expected: Vec<(String, String, String)> = JOBS
        .iter()
        .map(|(name, command)| ((*name).to_owned(), (*command).to_owned(), APP.to_owned()))
        .collect();
    assert_eq!(found, expected);
}

/// Runs each job's command in the application database, as pg_cron would, and checks that the
/// roll-ups took in the rows written before.
async fn run_jobs_by_hand(postgres: &DatabaseConnection, app: &DatabaseConnection) {
    exec(
        app,
        "INSERT INTO timeseries.measurements (device_id, metric, ts, value) VALUES \
         ('dev-1', 'temp', date_trunc('hour', now()) + interval '5 minutes', 20), \
         ('dev-1', 'temp', date_trunc('hour', now()) + interval '10 minutes', 22)",
    )
    .await;
    exec(
        app,
        "INSERT INTO payload.ess_signals (site_id, ess_id, ts, soc, power_kw) VALUES \
         ('site-1', 'ess-1', date_trunc('hour', now()) + interval '1 minute', 50, 100)",
    )
    .await;
    let commands = rows(postgres, "SELECT command FROM cron.job ORDER BY jobname").await;
    for command in &commands {
        exec(app, &get::<String>(command, "command")).await;
    }
    let rollup = rows(
        app,
        "SELECT sample_count, value_sum FROM timeseries.measurements_rollup \
         WHERE bucket = date_trunc('hour', now(), 'UTC')",
    )
    .await;
    assert_eq!(rollup.len(), 1);
    assert_eq!(get::<i64>(&rollup[0], "sample_count"), 2);
    assert_eq!(get::<f64>(&rollup[0], "value_sum"), 42.0);
    assert_eq!(
        one::<i64>(app, "SELECT count(*) FROM payload.ess_signals_hourly").await,
        1
    );
}

async fn pg_cron_installed(postgres: &DatabaseConnection) -> bool {
    one::<i64>(
        postgres,
        "SELECT count(*) FROM pg_extension WHERE extname = 'pg_cron'",
    )
    .await
        == 1
}

/// The `migrate` binary, run in `dir` with the variables it reads from the runner removed.
fn migrate(dir: &Path) -> assert_cmd::Command {
    let mut command = assert_cmd::Command::new(env!("CARGO_BIN_EXE_iot-migrate"));
    command.current_dir(dir).env("NO_COLOR", "1");
    for var in tests::process::ENV_VARS {
        command.env_remove(var);
    }
    for set in [
        "maintenance",
        "foundational",
        "timeseries",
        "ess_signals",
        "ess_summary",
    ] {
        command.env_remove(format!("{}_DATABASE_URL", set.to_ascii_uppercase()));
    }
    command
}

/// Runs `command` with `args`, which must succeed.
fn succeed(mut command: assert_cmd::Command, args: &[&str]) {
    let output = command.args(args).output().unwrap();
    assert!(
        output.status.success(),
        "migrate {args:?}: {}\nstdout:\n{}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_schedules_the_jobs_from_the_postgres_database_into_the_application_database() {
    let Some(cluster) = cluster().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    // `up` with only DATABASE_URL: the set's declaration puts maintenance on the server's
    // `postgres` database.
    let mut up = migrate(dir.path());
    up.env("DATABASE_URL", cluster.url(APP));
    succeed(up, &["up"]);

    let postgres = connect(&cluster.url("postgres")).await;
    let app = connect(&cluster.url(APP)).await;
    assert!(pg_cron_installed(&postgres).await);
    assert_jobs_scheduled(&postgres).await;
    let ledger = "SELECT count(*) FROM pg_tables WHERE tablename = 'maintenance_schema_migrations'";
    assert_eq!(one::<i64>(&postgres, ledger).await, 1);
    assert_eq!(one::<i64>(&app, ledger).await, 0);
    run_jobs_by_hand(&postgres, &app).await;

    // `down` with the maintenance database named explicitly.
    let mut down = migrate(dir.path());
    down.env("DATABASE_URL", cluster.url(APP))
        .env("MAINTENANCE_DATABASE_URL", cluster.url("postgres"));
    succeed(down, &["down", "--all", "--yes"]);
    assert!(!pg_cron_installed(&postgres).await);
    assert_eq!(
        one::<i64>(
            &app,
            "SELECT count(*) FROM pg_namespace WHERE nspname IN ('timeseries', 'payload', 'partman')",
        )
        .await,
        0
    );
    let _ = postgres.close().await;
    let _ = app.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_engine_the_jobs_go_where_iot_metrics_app_database_says() {
    let Some(cluster) = cluster().await else {
        return;
    };
    // Without the engine's run, nothing names the application database: scheduling refuses
    // (after the first migration, which enabled pg_cron, committed).
    let postgres = connect(&cluster.url("postgres")).await;
    let refused = Maintenance::up(&postgres, None).await.unwrap_err();
    assert!(
        refused
            .to_string()
            .contains("no application database to schedule the iot-metrics jobs in"),
        "{refused}"
    );
    assert!(pg_cron_installed(&postgres).await);
    let _ = postgres.close().await;

    set_app_database(&cluster, APP).await;
    let postgres = connect(&cluster.url("postgres")).await;
    let app = connect(&cluster.url(APP)).await;
    up_all(&app, &postgres).await;
    assert_jobs_scheduled(&postgres).await;
    run_jobs_by_hand(&postgres, &app).await;

    // A second application database on the server can neither take the jobs over (pg_cron
    // would keep them where they are) nor unschedule them.
    set_app_database(&cluster, "iot_other").await;
    let other = connect(&cluster.url("postgres")).await;
    Maintenance::down(&other, Some(1)).await.unwrap();
    let refused = Maintenance::up(&other, None).await.unwrap_err();
    assert!(
        refused
            .to_string()
            .contains("the iot-metrics jobs already run in another database than iot_other"),
        "{refused}"
    );
    assert_jobs_scheduled(&postgres).await;
    let _ = other.close().await;
    set_app_database(&cluster, APP).await;
    let postgres = connect(&cluster.url("postgres")).await;
    Maintenance::up(&postgres, None).await.unwrap();
    assert_jobs_scheduled(&postgres).await;

    // Unscheduling the jobs leaves pg_cron; reverting its migration removes it.
    down_app(&app).await;
    down_maintenance(&postgres, Some(2)).await;
    assert_eq!(
        one::<i64>(&postgres, "SELECT count(*) FROM cron.job").await,
        0
    );
    assert!(pg_cron_installed(&postgres).await);
    down_maintenance(&postgres, None).await;
    assert!(!pg_cron_installed(&postgres).await);
    let _ = postgres.close().await;
    let _ = app.close().await;
}
