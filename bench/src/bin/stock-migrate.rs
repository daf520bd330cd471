//! SeaORM's own runner (`MigratorTrait`, ledger `seaql_migrations`) over the same migration
//! modules as `migrate`: the reference schema, or `BENCH_TRIVIAL=N` generated migrations when
//! that is set. What a project's binary made by `sea-orm-cli migrate init` does for `up`,
//! `reset` (every `down`) and `status`, for comparison.
//!
//! usage: stock-migrate up|reset|status   (DATABASE_URL names the database)

use bench::trivial::{COUNT_VAR, Trivial};
use sea_orm_migration::MigratorTrait;
use sea_orm_migration::sea_orm::{Database, DatabaseConnection, DbErr};
use std::process::ExitCode;

async fn run<M: MigratorTrait>(command: &str, db: &DatabaseConnection) -> Result<(), DbErr> {
    match command {
        "up" => M::up(db, None).await,
        "reset" => M::reset(db).await,
        "status" => M::status(db).await,
        other => Err(DbErr::Custom(format!(
            "unknown command `{other}`: use up, reset or status"
        ))),
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .with_target(false)
        .init();
    let command = std::env::args().nth(1).unwrap_or_else(|| "up".to_owned());
    let Ok(url) = std::env::var("DATABASE_URL") else {
        eprintln!("error: DATABASE_URL is not set");
        return ExitCode::from(2);
    };
    let result = match Database::connect(&url).await {
        Ok(db) if std::env::var_os(COUNT_VAR).is_some() => run::<Trivial>(&command, &db).await,
        Ok(db) => run::<migration::Migrator>(&command, &db).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}
