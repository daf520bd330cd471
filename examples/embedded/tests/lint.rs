//! The service's migrations lint clean on PostgreSQL with their documented allowances: the
//! index migration allows the two rules it breaks on purpose, and only those.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use migration_engine::MigrationSet;
use migration_engine::lint::{self, LintOptions};
use sea_orm_migration::sea_orm::DbBackend;

#[tokio::test]
async fn the_migrations_lint_clean_with_their_allowances() {
    let set = MigrationSet::from_migrator::<embedded::Migrator>().unwrap();
    let options = LintOptions {
        backends: vec![DbBackend::Postgres],
        ..LintOptions::default()
    };
    let report = lint::lint(&set, &embedded::lint_allowances(), None, &options)
        .await
        .unwrap();
    assert_eq!((report.errors(), report.warnings()), (0, 0), "{report}");
    assert_eq!(report.allowed(), 2, "{report}");
    let bare = lint::lint(&set, &Vec::new(), None, &options).await.unwrap();
    assert_eq!(
        bare.rules_of("m20260101_000002_index_notes"),
        ["pg.index-not-concurrent", "pg.lock-timeout-missing"]
    );
}
