//! A `migrate` command line over two test-only migrations, the second of which forgets to drop
//! its index in `down`: what the CLI tests of `migrate verify` run to see a difference reported
//! and exit code 4. It is the engine's command line unchanged, as a project's `main.rs` has it.

use sea_orm_migration::prelude::*;
use std::process::ExitCode;

/// Creates `widgets (id, name)` and drops it again: reversible.
struct CreateWidgets;

impl MigrationName for CreateWidgets {
    fn name(&self) -> &str {
        "m20990101_000001_create_widgets"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreateWidgets {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("widgets"))
                    .col(
                        ColumnDef::new(Alias::new("id"))
                            .integer()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Alias::new("name")).string_len(50))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Alias::new("widgets")).to_owned())
            .await
    }
}

/// Creates `idx_widgets_name` and forgets it in `down`.
struct ForgetIndex;

impl MigrationName for ForgetIndex {
    fn name(&self) -> &str {
        "m20990101_000002_forget_index"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for ForgetIndex {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name("idx_widgets_name")
                    .table(Alias::new("widgets"))
                    .col(Alias::new("name"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Ok(())
    }
}

/// The two migrations, in order.
struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(CreateWidgets), Box::new(ForgetIndex)]
    }
}

fn main() -> ExitCode {
    migration_engine::cli::main::<Migrator>(env!("CARGO_MANIFEST_DIR"))
}
