//! Notes are listed newest first.

use sea_orm_migration::prelude::*;

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
