//! What the tests share: the five sets under plain sea-orm-migration, each with a ledger table
//! of its own (they share a database, and `seaql_migrations` would take one set's rows for
//! another's missing migrations), and short ways to run SQL and read one value back.
//!
//! Each test binary uses part of this module.
#![allow(dead_code)]

pub mod pg_cluster;

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, QueryResult, TryGetable,
};

/// A set's migrations with `$table` as their ledger.
macro_rules! ledgered {
    ($name:ident, $set:path, $table:literal) => {
        pub struct $name;

        #[async_trait::async_trait]
        impl MigratorTrait for $name {
            fn migrations() -> Vec<Box<dyn MigrationTrait>> {
                <$set as MigratorTrait>::migrations()
            }

            fn migration_table_name() -> DynIden {
                $table.into_iden()
            }
        }
    };
}

ledgered!(
    Maintenance,
    iot_metrics::maintenance::Migrator,
    "seaql_migrations_maintenance"
);
ledgered!(
    Foundational,
    iot_metrics::foundational::Migrator,
    "seaql_migrations_foundational"
);
ledgered!(
    Timeseries,
    iot_metrics::timeseries::Migrator,
    "seaql_migrations_timeseries"
);
ledgered!(
    EssSignals,
    iot_metrics::ess_signals::Migrator,
    "seaql_migrations_ess_signals"
);
ledgered!(
    EssSummary,
    iot_metrics::ess_summary::Migrator,
    "seaql_migrations_ess_summary"
);

/// Applies every set in run order: maintenance on `maintenance`, the others on `app`.
pub async fn up_all(app: &DatabaseConnection, maintenance: &DatabaseConnection) {
    Maintenance::up(maintenance, None)
        .await
        .expect("maintenance up");
    Foundational::up(app, None).await.expect("foundational up");
    Timeseries::up(app, None).await.expect("timeseries up");
    EssSignals::up(app, None).await.expect("ess_signals up");
    EssSummary::up(app, None).await.expect("ess_summary up");
}

/// Reverts the sets of the application database, in reverse run order, and drops their
/// ledgers.
pub async fn down_app(app: &DatabaseConnection) {
    EssSummary::down(app, None).await.expect("ess_summary down");
    EssSignals::down(app, None).await.expect("ess_signals down");
    Timeseries::down(app, None).await.expect("timeseries down");
    Foundational::down(app, None)
        .await
        .expect("foundational down");
    for uninstall in [
        EssSummary::uninstall(app).await,
        EssSignals::uninstall(app).await,
        Timeseries::uninstall(app).await,
        Foundational::uninstall(app).await,
    ] {
        uninstall.expect("dropping a ledger");
    }
}

/// Reverts the maintenance set (`steps` of it, or all) and, when all, drops its ledger.
pub async fn down_maintenance(maintenance: &DatabaseConnection, steps: Option<u32>) {
    Maintenance::down(maintenance, steps)
        .await
        .expect("maintenance down");
    if steps.is_none() {
        Maintenance::uninstall(maintenance)
            .await
            .expect("dropping the maintenance ledger");
    }
}

/// Connects to `url` with a small pool and without statement logging.
pub async fn connect(url: &str) -> DatabaseConnection {
    let mut options = ConnectOptions::new(url.to_owned());
    options.max_connections(4).sqlx_logging(false);
    Database::connect(options).await.expect("connecting")
}

/// Runs `sql`, which must succeed.
pub async fn exec(db: &DatabaseConnection, sql: &str) {
    if let Err(err) = db.execute_unprepared(sql).await {
        panic!("{sql}\nfailed: {err}");
    }
}

/// The rows of `sql`.
pub async fn rows(db: &DatabaseConnection, sql: &str) -> Vec<QueryResult> {
    db.query_all_raw(sea_orm_migration::sea_orm::Statement::from_string(
        db.get_database_backend(),
        sql,
    ))
    .await
    .unwrap_or_else(|err| panic!("{sql}\nfailed: {err}"))
}

/// The first column of the one row of `sql`.
pub async fn one<T: TryGetable>(db: &DatabaseConnection, sql: &str) -> T {
    let rows = rows(db, sql).await;
    assert_eq!(rows.len(), 1, "{sql} returned {} rows", rows.len());
    rows[0]
        .try_get_by_index::<T>(0)
        .unwrap_or_else(|err| panic!("{sql}: {err:?}"))
}

/// The first column of every row of `sql`.
pub async fn column<T: TryGetable>(db: &DatabaseConnection, sql: &str) -> Vec<T> {
    rows(db, sql)
        .await
        .iter()
        .map(|row| {
            row.try_get_by_index::<T>(0)
                .unwrap_or_else(|err| panic!("{sql}: {err:?}"))
        })
        .collect()
}

/// The named column of a row, which must be there.
pub fn get<T: TryGetable>(row: &QueryResult, column: &str) -> T {
    row.try_get::<T>("", column)
        .unwrap_or_else(|err| panic!("column {column}: {err:?}"))
}
