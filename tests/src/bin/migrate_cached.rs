//! A `migrate` command line over two test-only migrations and a small seeder after `fresh`:
//! what the reset cache tests run, so that they can change a migration between two resets.
//!
//! `FIXTURE_ITEMS_COLUMN` (default `label`) names the text column the first migration gives
//! `items`: setting it changes that migration's SQL, and so its checksum. The seeder's profiles
//! are `few` (3 items) and `many` (12); `--random-seed` and `--today` go into the rows, so that
//! their effect on the cache key shows in the data.

use std::process::ExitCode;
use std::sync::Arc;

use migration_engine::exec::operations::{AfterFresh, AfterFreshOutput, FreshReport, SeedRequest};
use migration_engine::{EngineError, Hooks, MigrationSet, Project, Session};
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, Statement};

fn items_column() -> String {
    std::env::var("FIXTURE_ITEMS_COLUMN").unwrap_or_else(|_| "label".to_owned())
}

/// Creates `items (id, <FIXTURE_ITEMS_COLUMN>, seed, day)`.
struct CreateItems;

impl MigrationName for CreateItems {
    fn name(&self) -> &str {
        "m20990301_000001_create_items"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreateItems {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("items")
                    .col(ColumnDef::new("id").integer().not_null().primary_key())
                    .col(ColumnDef::new(Alias::new(items_column())).string_len(40))
                    .col(ColumnDef::new("seed").big_integer())
                    .col(ColumnDef::new("day").string_len(10))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("items").to_owned())
            .await
    }
}

/// Creates `tags (id, name)`.
struct CreateTags;

impl MigrationName for CreateTags {
    fn name(&self) -> &str {
        "m20990301_000002_create_tags"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreateTags {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("tags")
                    .col(ColumnDef::new("id").integer().not_null().primary_key())
                    .col(ColumnDef::new("name").string_len(20))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("tags").to_owned())
            .await
    }
}

struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(CreateItems), Box::new(CreateTags)]
    }
}

/// Inserts the profile's items and one tag.
struct Items;

fn count(profile: &str) -> Option<i64> {
    match profile {
        "few" => Some(3),
        "many" => Some(12),
        _ => None,
    }
}

#[async_trait::async_trait]
impl AfterFresh for Items {
    fn check(&self, request: &SeedRequest) -> Result<(), EngineError> {
        count(&request.profile)
            .map(drop)
            .ok_or_else(|| EngineError::Config {
                message: format!("unknown profile `{}`: use few or many", request.profile),
            })
    }

    fn effect(&self, request: &SeedRequest) -> String {
        format!("seeds `{}`", request.profile)
    }

    fn done(&self, request: &SeedRequest) -> String {
        format!("seeded `{}`", request.profile)
    }

    fn content(&self, request: &SeedRequest) -> Option<Vec<(String, String)>> {
        Some(vec![
            ("profile".to_owned(), request.profile.clone()),
            ("seed".to_owned(), request.seed.unwrap_or(7).to_string()),
            (
                "today".to_owned(),
                request
                    .today
                    .map_or_else(|| "today".to_owned(), |d| d.to_string()),
            ),
        ])
    }

    async fn run(
        &self,
        session: &Session,
        _set: &MigrationSet,
        request: &SeedRequest,
        _fresh: &FreshReport,
    ) -> Result<AfterFreshOutput, EngineError> {
        let conn = session.connection();
        let backend = conn.get_database_backend();
        let n = count(&request.profile).unwrap_or(0);
        let seed = <i64 as TryFrom<u64>>::try_from(request.seed.unwrap_or(7)).unwrap_or(i64::MAX);
        let day = request.today.map(|d| d.to_string()).unwrap_or_default();
        let column = items_column();
        let failed = |e: DbErr| EngineError::Config {
            message: format!("seeding items: {e}"),
        };
        for id in 1..=n {
            conn.execute_raw(Statement::from_string(
                backend,
                format!(
                    "INSERT INTO items (id, {column}, seed, day) VALUES ({id}, 'item {id}', {seed}, '{day}')"
                ),
            ))
            .await
            .map_err(failed)?;
        }
        conn.execute_raw(Statement::from_string(
            backend,
            "INSERT INTO tags (id, name) VALUES (1, 'tag')".to_owned(),
        ))
        .await
        .map_err(failed)?;
        Ok(AfterFreshOutput {
            text: format!("Seeded {n} items.\n"),
            json: serde_json::json!({ "items": n }),
        })
    }
}

fn main() -> ExitCode {
    migration_engine::cli::run_with(
        Project::new::<Migrator>(env!("CARGO_MANIFEST_DIR")),
        Hooks::new().after_fresh(Arc::new(Items)),
    )
}
