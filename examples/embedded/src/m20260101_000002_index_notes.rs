//! Notes are listed newest first.

use sea_orm_migration::prelude::*;

/// Lint rules this migration breaks on purpose (`migrate lint`), with the reason.
pub const LINT_ALLOW: &[(&str, &str)] = &[
    (
        "pg.index-not-concurrent",
        "ships in the same release as `notes`, which is empty when the index is built",
    ),
    (
        "pg.lock-timeout-missing",
        "nothing uses `notes` before this release, so there is no lock to wait for",
    ),
];

/// Indexes `notes` by creation time.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name("notes_created_at")
                    .table("notes")
                    .col("created_at")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("notes_created_at")
                    .table("notes")
                    .to_owned(),
            )
            .await
    }
}
