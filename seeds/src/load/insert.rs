//! Multi-row `INSERT`s through SeaORM, for MariaDB/MySQL and SQLite.

use sea_orm::sea_query::{Alias, Expr, Query};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, TransactionTrait};

use super::TableLoad;
use crate::error::{Result, SeedError};
use crate::generate::Dataset;
use crate::progress::Progress;
use crate::table::loaded_columns;

/// Rows per statement at most: beyond this, statements only grow (MariaDB's packet limit is
/// 16 MiB by default) without getting faster.
const MAX_ROWS: usize = 5_000;

/// Bind parameters one statement may carry: SQLite allows 32766 (since 3.32), MySQL and
/// MariaDB 65535.
fn parameter_limit(backend: DbBackend) -> usize {
    match backend {
        DbBackend::Sqlite => 32_766,
        _ => 65_535,
    }
}

/// Inserts every table in one transaction.
pub(super) async fn load(
    db: &DatabaseConnection,
    ds: &Dataset,
    progress: &Progress,
) -> Result<Vec<TableLoad>> {
    let backend = db.get_database_backend();
    let txn = db
        .begin()
        .await
        .map_err(SeedError::db("starting the load"))?;
    let mut loads = Vec::new();
    for table in ds.tables() {
        let name = table.name();
        let columns = loaded_columns(table);
        let per_statement = (parameter_limit(backend) / columns.len().max(1)).min(MAX_ROWS);
        let bar = progress.table(name, table.len() as u64);
        let mut start = 0;
        while start < table.len() {
            let end = (start + per_statement).min(table.len());
            let mut insert = Query::insert();
            insert
                .into_table(Alias::new(name))
                .columns(columns.iter().map(|(_, c)| Alias::new(*c)));
            for i in start..end {
                let row = table.row(i);
                insert
                    .values(columns.iter().map(|(at, _)| Expr::val(row[*at].clone())))
                    .map_err(|e| SeedError::Load {
                        table: name,
                        source: Box::new(e),
                    })?;
            }
            txn.execute(&insert).await.map_err(|e| SeedError::Load {
                table: name,
                source: Box::new(e),
            })?;
            bar.advance((end - start) as u64);
            start = end;
        }
        loads.push(TableLoad {
            table: name,
            rows: table.len() as u64,
            took: bar.finish(),
        });
    }
    txn.commit()
        .await
        .map_err(SeedError::db("committing the load"))?;
    Ok(loads)
}
