//! Adopting projects that ran SeaORM's own migrator: its `seaql_migrations` table lists applied
//! migrations by module name; they are carried into the ledger without running anything.

use sea_orm::sea_query::{Alias, Order, Query};
use sea_orm::{ConnectionTrait, DbErr};

use crate::backend;

pub use crate::backend::snapshot::SEAQL_TABLE;

/// A row of `seaql_migrations`.
#[derive(Debug, Clone)]
pub struct SeaqlRow {
    /// The module name, e.g. `m20220101_000001_create_table`.
    pub version: String,
    /// Unix seconds.
    pub applied_at: i64,
}

/// Reads `seaql_migrations`; `None` when the table does not exist.
///
/// # Errors
/// Any database error other than the table being absent.
pub async fn read_seaql<C: ConnectionTrait>(conn: &C) -> Result<Option<Vec<SeaqlRow>>, DbErr> {
    let select = Query::select()
        .columns([Alias::new("version"), Alias::new("applied_at")])
        .from(Alias::new(SEAQL_TABLE))
        .order_by(Alias::new("version"), Order::Asc)
        .to_owned();
    match conn.query_all(&select).await {
        Ok(rows) => rows
            .iter()
            .map(|r| {
                Ok(SeaqlRow {
                    version: r.try_get("", "version")?,
                    applied_at: r.try_get("", "applied_at")?,
                })
            })
            .collect::<Result<Vec<_>, DbErr>>()
            .map(Some),
        Err(e) if backend::is_undefined_table(&e) => Ok(None),
        Err(e) => Err(e),
    }
}
