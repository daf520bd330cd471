//! PostgreSQL `COPY ... FROM STDIN` in text format: every table streamed in chunks over one
//! connection, inside one transaction. Triggers and constraints apply as for `INSERT`, so the
//! capacity triggers still compute `booked_count`.

use std::io::Write;

use sea_orm::DbBackend;
use sea_orm::sea_query::Value;
use sea_orm::sqlx::{Acquire, PgPool};

use super::{TableLoad, quote};
use crate::error::{Result, SeedError};
use crate::generate::Dataset;
use crate::progress::Progress;
use crate::table::{Table, loaded_columns};

/// Bytes buffered before a chunk is sent.
const CHUNK: usize = 1 << 20;

/// The `COPY` statement for a table's loaded columns.
pub fn statement(table: &dyn Table) -> String {
    let columns: Vec<String> = loaded_columns(table)
        .iter()
        .map(|(_, c)| quote(DbBackend::Postgres, c))
        .collect();
    format!(
        "COPY {} ({}) FROM STDIN",
        quote(DbBackend::Postgres, table.name()),
        columns.join(", ")
    )
}

/// Appends row `index` of `table` to `buf` in `COPY` text format (tab-separated, `\N` for
/// NULL, backslash escapes), loaded columns only.
pub fn encode_row(buf: &mut Vec<u8>, table: &dyn Table, columns: &[(usize, &str)], index: usize) {
    let row = table.row(index);
    for (n, (at, _)) in columns.iter().enumerate() {
        if n > 0 {
            buf.push(b'\t');
        }
        encode(buf, &row[*at]);
    }
    buf.push(b'\n');
}

/// One value in `COPY` text format. Writing into a Vec cannot fail.
fn encode(buf: &mut Vec<u8>, value: &Value) {
    let _ = match value {
        Value::Bool(Some(b)) => write!(buf, "{}", if *b { 't' } else { 'f' }),
        Value::TinyInt(Some(n)) => write!(buf, "{n}"),
        Value::SmallInt(Some(n)) => write!(buf, "{n}"),
        Value::Int(Some(n)) => write!(buf, "{n}"),
        Value::BigInt(Some(n)) => write!(buf, "{n}"),
        Value::TinyUnsigned(Some(n)) => write!(buf, "{n}"),
        Value::SmallUnsigned(Some(n)) => write!(buf, "{n}"),
        Value::Unsigned(Some(n)) => write!(buf, "{n}"),
        Value::BigUnsigned(Some(n)) => write!(buf, "{n}"),
        Value::Float(Some(f)) => write!(buf, "{f}"),
        Value::Double(Some(f)) => write!(buf, "{f}"),
        Value::String(Some(s)) => {
            escape(buf, s);
            Ok(())
        }
        Value::Char(Some(c)) => {
            escape(buf, c.encode_utf8(&mut [0; 4]));
            Ok(())
        }
        Value::Json(Some(j)) => {
            escape(buf, &j.to_string());
            Ok(())
        }
        Value::ChronoDate(Some(d)) => write!(buf, "{}", d.format("%Y-%m-%d")),
        Value::ChronoTime(Some(t)) => write!(buf, "{}", t.format("%H:%M:%S%.f")),
        Value::ChronoDateTime(Some(t)) => write!(buf, "{}", t.format("%Y-%m-%d %H:%M:%S%.f")),
        Value::ChronoDateTimeUtc(Some(t)) => {
            write!(buf, "{}", t.format("%Y-%m-%d %H:%M:%S%.f%:z"))
        }
        Value::ChronoDateTimeWithTimeZone(Some(t)) => {
            write!(buf, "{}", t.format("%Y-%m-%d %H:%M:%S%.f%:z"))
        }
        // Every None, and any type the schema does not use (whose value would be refused by
        // the column anyway).
        _ => write!(buf, "\\N"),
    };
}

/// Text with `COPY`'s special characters escaped.
fn escape(buf: &mut Vec<u8>, text: &str) {
    for byte in text.bytes() {
        match byte {
            b'\\' => buf.extend_from_slice(b"\\\\"),
            b'\n' => buf.extend_from_slice(b"\\n"),
            b'\r' => buf.extend_from_slice(b"\\r"),
            b'\t' => buf.extend_from_slice(b"\\t"),
            other => buf.push(other),
        }
    }
}

fn failed(table: &'static str) -> impl Fn(sea_orm::sqlx::Error) -> SeedError {
    move |e| SeedError::Load {
        table,
        source: Box::new(e),
    }
}

/// Copies every table in one transaction on one pooled connection.
pub(super) async fn load(
    pool: &PgPool,
    ds: &Dataset,
    progress: &Progress,
) -> Result<Vec<TableLoad>> {
    let first = ds.tables().first().map_or("tenants", |t| t.name());
    let mut conn = pool.acquire().await.map_err(failed(first))?;
    let mut tx = conn.begin().await.map_err(failed(first))?;
    let mut loads = Vec::new();
    for table in ds.tables() {
        let name = table.name();
        let bar = progress.table(name, table.len() as u64);
        if !table.is_empty() {
            let columns = loaded_columns(table);
            let mut copy = tx
                .copy_in_raw(&statement(table))
                .await
                .map_err(failed(name))?;
            let mut buf = Vec::with_capacity(CHUNK + 4096);
            let mut rows_in_buf = 0;
            for i in 0..table.len() {
                encode_row(&mut buf, table, &columns, i);
                rows_in_buf += 1;
                if buf.len() >= CHUNK {
                    let chunk = std::mem::replace(&mut buf, Vec::with_capacity(CHUNK + 4096));
                    copy.send(chunk).await.map_err(failed(name))?;
                    bar.advance(rows_in_buf);
                    rows_in_buf = 0;
                }
            }
            if !buf.is_empty() {
                copy.send(buf).await.map_err(failed(name))?;
                bar.advance(rows_in_buf);
            }
            copy.finish().await.map_err(failed(name))?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_characters_and_nulls_are_escaped() {
        let mut buf = Vec::new();
        encode(&mut buf, &Value::String(Some("a\tb\\c\nd".to_owned())));
        buf.push(b'|');
        encode(&mut buf, &Value::String(None));
        buf.push(b'|');
        encode(&mut buf, &Value::Bool(Some(true)));
        assert_eq!(String::from_utf8_lossy(&buf), "a\\tb\\\\c\\nd|\\N|t");
    }
}
