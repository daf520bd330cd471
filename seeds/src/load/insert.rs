//! Multi-row `INSERT`s: as many rows per statement as the backend's bind-parameter limit
//! allows. MariaDB/MySQL and SQLite load every table this way, through SeaORM; PostgreSQL uses
//! them for tables too small for `COPY` to pay.

use std::ops::Range;

use sea_orm::sea_query::{Alias, Expr, InsertStatement, Query};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, TransactionTrait};

use super::TableLoad;
use crate::error::{Result, SeedError};
use crate::generate::Dataset;
use crate::progress::Progress;
use crate::table::{Table, loaded_columns};

/// Rows per statement at most: beyond this, statements only grow (MariaDB's packet limit is
/// 16 MiB by default) without getting faster.
const MAX_ROWS: usize = 5_000;

/// Bind parameters one statement may carry: SQLite allows 32766 (since 3.32), MySQL, MariaDB
/// and PostgreSQL 65535.
fn parameter_limit(backend: DbBackend) -> usize {
    match backend {
        DbBackend::Sqlite => 32_766,
        _ => 65_535,
    }
}

/// The row ranges of `table`, one per statement.
pub(super) fn batches(table: &dyn Table, backend: DbBackend) -> Vec<Range<usize>> {
    let columns = loaded_columns(table).len().max(1);
    let per_statement = (parameter_limit(backend) / columns).clamp(1, MAX_ROWS);
    (0..table.len())
        .step_by(per_statement)
        .map(|start| start..(start + per_statement).min(table.len()))
        .collect()
}

/// One multi-row `INSERT` of `rows` of `table`, its loaded columns only.
pub(super) fn statement(table: &dyn Table, rows: Range<usize>) -> Result<InsertStatement> {
    let name = table.name();
    let columns = loaded_columns(table);
    let mut insert = Query::insert();
    insert
        .into_table(Alias::new(name))
        .columns(columns.iter().map(|(_, c)| Alias::new(*c)));
    for i in rows {
        let row = table.row(i);
        insert
            .values(columns.iter().map(|(at, _)| Expr::val(row[*at].clone())))
            .map_err(|e| SeedError::Load {
                table: name,
                source: Box::new(e),
            })?;
    }
    Ok(insert)
}

/// Inserts every table in one transaction, through SeaORM.
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
        let bar = progress.table(name, table.len() as u64);
        for rows in batches(table, backend) {
            let n = rows.len() as u64;
            txn.execute(&statement(table, rows)?)
                .await
                .map_err(|e| SeedError::Load {
                    table: name,
                    source: Box::new(e),
                })?;
            bar.advance(n);
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
