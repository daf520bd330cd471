//! A `migrate` command line over three test-only migrations, the second of which takes a while
//! and the third of which runs outside a transaction (`CREATE INDEX CONCURRENTLY`):
//! what the lock and interrupt tests run as concurrent, killed and interrupted runners. It is
//! the engine's command line unchanged, as a project's `main.rs` has it.
//!
//! `SLOW_MIGRATION_SECS` (default 2) sets how long the second migration runs. The wait is SQL
//! (`pg_sleep`, `SLEEP`, and on SQLite a recursive count sized to take about that long), so
//! rendering it for checksums and dry-runs costs nothing.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;
use std::process::ExitCode;

/// Creates `gadgets (id, note)`.
struct CreateGadgets;

impl MigrationName for CreateGadgets {
    fn name(&self) -> &str {
        "m20990101_000001_create_gadgets"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreateGadgets {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("gadgets")
                    .col(ColumnDef::new("id").integer().not_null().primary_key())
                    .col(ColumnDef::new("note").string_len(50))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("gadgets").to_owned())
            .await
    }
}

/// Waits `SLOW_MIGRATION_SECS` inside the migration, then adds a column and a row.
struct SlowBackfill;

impl MigrationName for SlowBackfill {
    fn name(&self) -> &str {
        "m20990101_000002_slow_backfill"
    }
}

fn seconds() -> u64 {
    std::env::var("SLOW_MIGRATION_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2)
}

#[async_trait::async_trait]
impl MigrationTrait for SlowBackfill {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        manager
            .alter_table(
                Table::alter()
                    .table("gadgets")
                    .add_column(ColumnDef::new("backfilled").boolean().null())
                    .to_owned(),
            )
            .await?;
        let secs = seconds();
        let wait = match manager.get_database_backend() {
            DbBackend::Postgres => format!("SELECT pg_sleep({secs})"),
            DbBackend::MySql => format!("SELECT SLEEP({secs})"),
            _ => format!(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {}) \
                 SELECT count(*) FROM n",
                secs * 10_000_000
            ),
        };
        db.execute_unprepared(&wait).await?;
        db.execute_unprepared(
            "INSERT INTO gadgets (id, note, backfilled) VALUES (1, 'slow', TRUE)",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared("DELETE FROM gadgets WHERE id = 1")
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("gadgets")
                    .drop_column("backfilled")
                    .to_owned(),
            )
            .await
    }
}

/// Indexes `gadgets.note` outside a transaction: `CREATE INDEX CONCURRENTLY` on PostgreSQL,
/// which refuses to run inside one.
struct IndexGadgets;

impl MigrationName for IndexGadgets {
    fn name(&self) -> &str {
        "m20990101_000003_index_gadgets"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for IndexGadgets {
    fn use_transaction(&self) -> Option<bool> {
        Some(false)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let concurrently = if manager.get_database_backend() == DbBackend::Postgres {
            "CONCURRENTLY "
        } else {
            ""
        };
        manager
            .get_connection()
            .execute_unprepared(&format!(
                "CREATE INDEX {concurrently}idx_gadgets_note ON gadgets (note)"
            ))
            .await
            .map(drop)
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_gadgets_note")
                    .table("gadgets")
                    .to_owned(),
            )
            .await
    }
}

struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(CreateGadgets),
            Box::new(SlowBackfill),
            Box::new(IndexGadgets),
        ]
    }
}

fn main() -> ExitCode {
    migration_engine::cli::main::<Migrator>(env!("CARGO_MANIFEST_DIR"))
}
