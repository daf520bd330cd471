//! The pipeline's five sets lint clean on PostgreSQL, the backend they ship on: no finding, and
//! no allowance needed.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use migration_engine::lint::{self, LintOptions};
use sea_orm_migration::sea_orm::DbBackend;

#[tokio::test]
async fn every_set_lints_clean_on_postgres() {
    let options = LintOptions {
        backends: vec![DbBackend::Postgres],
        ..LintOptions::default()
    };
    for project in iot_metrics::sets(env!("CARGO_MANIFEST_DIR")) {
        let name = project.set_name().unwrap().to_owned();
        let loaded = project.load().unwrap();
        let report = lint::lint(&loaded.set, &loaded.lint_allow, None, &options)
            .await
            .unwrap();
        assert!(
            report
                .migrations
                .iter()
                .all(|m| m.findings.is_empty() && m.partial.is_empty()),
            "set {name}:\n{report}"
        );
        assert_eq!(report.migrations.len(), loaded.set.len(), "set {name}");
    }
}
