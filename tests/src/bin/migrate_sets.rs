//! A `migrate` for a project of four migration sets on two databases, declared out of their run
//! order: what the tests of sets run.
//!
//! - `jobs` runs on a database of its own (`JOBS_DATABASE_URL`) and needs nothing;
//! - `metrics` needs the whole of `core` (its tables reference `core`'s);
//! - `core` needs nothing;
//! - `reports` needs one migration of `core`.
//!
//! So the run order is jobs, core, metrics, reports. `MIGRATE_SETS_BROKEN` picks a broken
//! declaration instead (`cycle`, `unknown_set`, `unknown_migration`), to see it refused before
//! anything connects.

use migration_engine::{Project, SetDatabase};
use sea_orm_migration::prelude::*;
use std::process::ExitCode;

/// A migration that creates one table with an `id`, and, when given, a column referencing
/// another table's `id`; its `down` drops the table.
macro_rules! table_migration {
    ($module:ident, $name:literal, $table:literal $(, $parent:literal)?) => {
        mod $module {
            use sea_orm_migration::prelude::*;

            pub struct Migration;

            impl MigrationName for Migration {
                fn name(&self) -> &str {
                    $name
                }
            }

            #[async_trait::async_trait]
            impl MigrationTrait for Migration {
                async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
                    #[allow(unused_mut)]
                    let mut table = Table::create()
                        .table(Alias::new($table))
                        .col(
                            ColumnDef::new(Alias::new("id"))
                                .integer()
                                .not_null()
                                .primary_key(),
                        )
                        .to_owned();
                    $(
                        table
                            .col(ColumnDef::new(Alias::new("parent_id")).integer().not_null())
                            .foreign_key(
                                ForeignKey::create()
                                    .from(Alias::new($table), Alias::new("parent_id"))
                                    .to(Alias::new($parent), Alias::new("id")),
                            );
                    )?
                    manager.create_table(table).await
                }

                async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
                    manager
                        .drop_table(Table::drop().table(Alias::new($table)).to_owned())
                        .await
                }
            }
        }
    };
}

table_migration!(jobs_1, "m20240101_000001_create_jobs", "jobs");
table_migration!(core_1, "m20240101_000001_create_accounts", "accounts");
table_migration!(
    core_2,
    "m20240101_000002_create_devices",
    "devices",
    "accounts"
);
table_migration!(
    metrics_1,
    "m20240102_000001_create_readings",
    "readings",
    "devices"
);
table_migration!(
    metrics_2,
    "m20240102_000002_create_alerts",
    "alerts",
    "readings"
);
table_migration!(
    reports_1,
    "m20240103_000001_create_summaries",
    "summaries",
    "accounts"
);

struct Jobs;
impl MigratorTrait for Jobs {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(jobs_1::Migration)]
    }
}

struct Core;
impl MigratorTrait for Core {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(core_1::Migration), Box::new(core_2::Migration)]
    }
}

struct Metrics;
impl MigratorTrait for Metrics {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(metrics_1::Migration),
            Box::new(metrics_2::Migration),
        ]
    }
}

struct Reports;
impl MigratorTrait for Reports {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(reports_1::Migration)]
    }
}

fn main() -> ExitCode {
    let dir = env!("CARGO_MANIFEST_DIR");
    let mut core = Project::new::<Core>(dir).named("core");
    let mut reports = Project::new::<Reports>(dir)
        .named("reports")
        .needs_migration("core", "m20240101_000001_create_accounts");
    match std::env::var("MIGRATE_SETS_BROKEN").as_deref() {
        Ok("cycle") => core = core.needs("reports"),
        Ok("unknown_set") => reports = reports.needs("nowhere"),
        Ok("unknown_migration") => {
            reports = reports.needs_migration("core", "m20991231_000009_not_there");
        }
        _ => {}
    }
    migration_engine::cli::run_sets(vec![
        Project::new::<Jobs>(dir)
            .named("jobs")
            .database(SetDatabase::Own),
        Project::new::<Metrics>(dir).named("metrics").needs("core"),
        core,
        reports,
    ])
}
