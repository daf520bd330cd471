//! PostgreSQL's `COPY` text format: the statement for a table and its rows as tab-separated
//! lines. The loader streams them ([`super::postgres`]); the benchmark writes them to files.

use std::io::Write;

use sea_orm::DbBackend;
use sea_orm::sea_query::Value;

use super::quote;
use crate::table::{Table, loaded_columns};

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
