//! Loading into PostgreSQL on one connection of SeaORM's pool, in one transaction: `COPY ...
//! FROM STDIN` for every table big enough for it to pay, multi-row `INSERT`s for the others.
//!
//! Triggers and constraints apply to `COPY` as to `INSERT`, so the capacity triggers still
//! compute `booked_count`. A `COPY` costs a fixed delay on top of its rows: sqlx writes its end
//! marker as a separate small packet, which waits for the server's delayed acknowledgement of
//! the data before it (tens of milliseconds on Linux), far more than inserting a small table.

use sea_orm::DbBackend;
use sea_orm::sea_query::PostgresQueryBuilder;
use sea_orm::sqlx::{self, Connection, PgPool};
use sea_query_sqlx::SqlxBinder;

use super::{TableLoad, copy, insert};
use crate::error::{Result, SeedError};
use crate::generate::Dataset;
use crate::progress::Progress;
use crate::table::loaded_columns;

/// Tables with fewer rows are inserted rather than copied.
const COPY_FROM_ROWS: usize = 2_000;

/// Bytes buffered before a `COPY` chunk is sent.
const CHUNK: usize = 1 << 20;

fn failed(table: &'static str) -> impl Fn(sqlx::Error) -> SeedError {
    move |e| SeedError::Load {
        table,
        source: Box::new(e),
    }
}

/// Loads every table in one transaction on one pooled connection.
pub(super) async fn load(
    pool: &PgPool,
    ds: &Dataset,
    progress: &Progress,
) -> Result<Vec<TableLoad>> {
    let first = ds.tables()[0].name();
    let mut conn = pool.acquire().await.map_err(failed(first))?;
    let mut tx = conn.begin().await.map_err(failed(first))?;
    let mut loads = Vec::new();
    for table in ds.tables() {
        let name = table.name();
        let bar = progress.table(name, table.len() as u64);
        if table.len() >= COPY_FROM_ROWS {
            let columns = loaded_columns(table);
            let mut stream = tx
                .copy_in_raw(&copy::statement(table))
                .await
                .map_err(failed(name))?;
            let mut buf = Vec::with_capacity(CHUNK + 4096);
            let mut rows_in_buf = 0;
            for i in 0..table.len() {
                copy::encode_row(&mut buf, table, &columns, i);
                rows_in_buf += 1;
                if buf.len() >= CHUNK || i + 1 == table.len() {
                    let chunk = std::mem::replace(&mut buf, Vec::with_capacity(CHUNK + 4096));
                    stream.send(chunk).await.map_err(failed(name))?;
                    bar.advance(rows_in_buf);
                    rows_in_buf = 0;
                }
            }
            stream.finish().await.map_err(failed(name))?;
        } else {
            for rows in insert::batches(table, DbBackend::Postgres) {
                let n = rows.len() as u64;
                let (sql, values) =
                    insert::statement(table, rows)?.build_sqlx(PostgresQueryBuilder);
                sqlx::query_with(sqlx::AssertSqlSafe(sql), values)
                    .execute(&mut *tx)
                    .await
                    .map_err(failed(name))?;
                bar.advance(n);
            }
        }
        loads.push(TableLoad {
            table: name,
            rows: table.len() as u64,
            took: bar.finish(),
        });
    }
    tx.commit().await.map_err(|e| SeedError::Database {
        context: "committing the load".to_owned(),
        source: sea_orm::DbErr::Custom(e.to_string()),
    })?;
    Ok(loads)
}
