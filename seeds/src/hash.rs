//! The content hash of seeded data: SHA-256 over a canonical serialisation of every row of
//! every seeded table, in id order, read through the entities.
//!
//! Backends hand the same data back in different shapes, so the serialisation normalises them:
//! timestamps become UTC RFC 3339 with whole seconds (PostgreSQL returns `+00:00`, MariaDB a
//! `TIMESTAMP` in the session zone, SQLite the text it stored), booleans become one bit
//! (MariaDB stores `TINYINT(1)`), integers lose their width, and JSON objects are written with
//! sorted keys (PostgreSQL's `jsonb` and MariaDB reorder keys; SQLite keeps the text). Columns
//! whose value records when the load ran ([`crate::table::VOLATILE`]) are left out.
//!
//! The hash of the rows generated in memory equals the hash of the rows read back after
//! loading, so it is computed once at seeding time and recorded; reading back recomputes it.

use std::io::Write;

use chrono::Utc;
use sea_orm::sea_query::Value;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IdenStatic, Iterable, ModelTrait,
    PrimaryKeyToColumn, QueryFilter, QueryOrder, QuerySelect,
};
use sha2::{Digest, Sha256};

use crate::generate::Dataset;
use crate::table::{VOLATILE, entity_name, listed};

/// Rows read per query when hashing a database.
const PAGE: u64 = 20_000;

/// Accumulates tables and rows into the content hash.
pub struct ContentHasher {
    sha: Sha256,
    buf: Vec<u8>,
    /// Whether each column of the current table is hashed.
    keep: Vec<bool>,
}

impl Default for ContentHasher {
    fn default() -> Self {
        Self::new()
    }
}

impl ContentHasher {
    /// An empty hash.
    pub fn new() -> Self {
        Self {
            sha: Sha256::new(),
            buf: Vec::with_capacity(1024),
            keep: Vec::new(),
        }
    }

    /// Starts a table; the rows that follow are its rows.
    pub fn table(&mut self, name: &str, columns: &[&str]) {
        self.keep = columns.iter().map(|c| !listed(VOLATILE, name, c)).collect();
        self.buf.clear();
        self.buf.extend_from_slice(b"T");
        string(&mut self.buf, name);
        for (column, keep) in columns.iter().zip(&self.keep) {
            if *keep {
                string(&mut self.buf, column);
            }
        }
        self.buf.push(b'\n');
        self.sha.update(&self.buf);
    }

    /// Adds one row of the current table, its values in column order.
    pub fn row(&mut self, values: &[Value]) {
        self.buf.clear();
        self.buf.push(b'R');
        for (value, keep) in values.iter().zip(&self.keep) {
            if *keep {
                encode(&mut self.buf, value);
            }
        }
        self.buf.push(b'\n');
        self.sha.update(&self.buf);
    }

    /// The hash, as 64 lower-case hex digits.
    pub fn finish(self) -> String {
        self.sha
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

/// The content hash of generated rows, as they will read back once loaded.
pub fn of_dataset(ds: &Dataset) -> String {
    let mut hasher = ContentHasher::new();
    for table in ds.tables() {
        hasher.table(table.name(), &table.columns());
        for i in 0..table.len() {
            hasher.row(&table.row(i));
        }
    }
    hasher.finish()
}

/// The content hash of the seeded tables as they are in the database, read through the
/// entities in id order.
///
/// # Errors
/// The database's error while reading.
pub async fn of_database<C: ConnectionTrait>(db: &C) -> Result<String, DbErr> {
    use entity::*;
    let mut h = ContentHasher::new();
    entity_rows::<tenants::Entity, _>(db, &mut h).await?;
    entity_rows::<users::Entity, _>(db, &mut h).await?;
    entity_rows::<cancel_reasons::Entity, _>(db, &mut h).await?;
    entity_rows::<customers::Entity, _>(db, &mut h).await?;
    entity_rows::<services::Entity, _>(db, &mut h).await?;
    entity_rows::<resources::Entity, _>(db, &mut h).await?;
    entity_rows::<service_resources::Entity, _>(db, &mut h).await?;
    entity_rows::<user_resources::Entity, _>(db, &mut h).await?;
    entity_rows::<schedules::Entity, _>(db, &mut h).await?;
    entity_rows::<business_hours::Entity, _>(db, &mut h).await?;
    entity_rows::<holidays::Entity, _>(db, &mut h).await?;
    entity_rows::<resource_time_offs::Entity, _>(db, &mut h).await?;
    entity_rows::<timeslots::Entity, _>(db, &mut h).await?;
    entity_rows::<bookings::Entity, _>(db, &mut h).await?;
    entity_rows::<booking_items::Entity, _>(db, &mut h).await?;
    entity_rows::<booking_cancellations::Entity, _>(db, &mut h).await?;
    entity_rows::<payment_methods::Entity, _>(db, &mut h).await?;
    entity_rows::<payments::Entity, _>(db, &mut h).await?;
    entity_rows::<webhook_events::Entity, _>(db, &mut h).await?;
    entity_rows::<notifications::Entity, _>(db, &mut h).await?;
    entity_rows::<outbox_events::Entity, _>(db, &mut h).await?;
    entity_rows::<audit_logs::Entity, _>(db, &mut h).await?;
    entity_rows::<idempotency_keys::Entity, _>(db, &mut h).await?;
    Ok(h.finish())
}

/// Hashes every row of `E`, a page at a time in id order.
async fn entity_rows<E, C>(db: &C, hasher: &mut ContentHasher) -> Result<(), DbErr>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    let columns: Vec<E::Column> = E::Column::iter().collect();
    let names: Vec<&str> = columns.iter().map(|c| c.as_str()).collect();
    hasher.table(entity_name::<E>(), &names);
    let Some(pk) = E::PrimaryKey::iter()
        .next()
        .map(PrimaryKeyToColumn::into_column)
    else {
        return Ok(());
    };
    let mut after = i64::MIN;
    loop {
        let page = E::find()
            .filter(pk.gt(after))
            .order_by_asc(pk)
            .limit(PAGE)
            .all(db)
            .await?;
        for model in &page {
            let values: Vec<Value> = columns.iter().map(|c| model.get(*c)).collect();
            hasher.row(&values);
        }
        match page.last().map(|m| m.get(pk)) {
            Some(Value::BigInt(Some(id))) if page.len() as u64 == PAGE => after = id,
            _ => return Ok(()),
        }
    }
}

/// A length-prefixed string, so no value can run into the next.
fn string(buf: &mut Vec<u8>, s: &str) {
    buf.extend_from_slice(s.len().to_string().as_bytes());
    buf.push(b':');
    buf.extend_from_slice(s.as_bytes());
}

/// One value in canonical form: a type letter, then its text, ended by `;` (or, for strings
/// and JSON, prefixed by its length).
fn encode(buf: &mut Vec<u8>, value: &Value) {
    // Writing into a Vec cannot fail.
    let _ = match value {
        Value::Bool(Some(b)) => write!(buf, "b{};", u8::from(*b)),
        Value::TinyInt(Some(n)) => write!(buf, "i{n};"),
        Value::SmallInt(Some(n)) => write!(buf, "i{n};"),
        Value::Int(Some(n)) => write!(buf, "i{n};"),
        Value::BigInt(Some(n)) => write!(buf, "i{n};"),
        Value::TinyUnsigned(Some(n)) => write!(buf, "i{n};"),
        Value::SmallUnsigned(Some(n)) => write!(buf, "i{n};"),
        Value::Unsigned(Some(n)) => write!(buf, "i{n};"),
        Value::BigUnsigned(Some(n)) => write!(buf, "i{n};"),
        Value::Float(Some(f)) => write!(buf, "f{f};"),
        Value::Double(Some(f)) => write!(buf, "f{f};"),
        Value::String(Some(s)) => {
            buf.push(b's');
            string(buf, s);
            Ok(())
        }
        Value::Char(Some(c)) => {
            buf.push(b's');
            string(buf, c.encode_utf8(&mut [0; 4]));
            Ok(())
        }
        Value::Json(Some(j)) => {
            buf.push(b'j');
            string(buf, &canonical_json(j));
            Ok(())
        }
        Value::ChronoDate(Some(d)) => write!(buf, "d{};", d.format("%Y-%m-%d")),
        Value::ChronoTime(Some(t)) => write!(buf, "h{};", t.format("%H:%M:%S")),
        Value::ChronoDateTime(Some(t)) => write!(buf, "t{};", t.format(UTC_SECONDS)),
        Value::ChronoDateTimeUtc(Some(t)) => write!(buf, "t{};", t.format(UTC_SECONDS)),
        Value::ChronoDateTimeWithTimeZone(Some(t)) => {
            write!(buf, "t{};", t.with_timezone(&Utc).format(UTC_SECONDS))
        }
        Value::Bool(None)
        | Value::TinyInt(None)
        | Value::SmallInt(None)
        | Value::Int(None)
        | Value::BigInt(None)
        | Value::TinyUnsigned(None)
        | Value::SmallUnsigned(None)
        | Value::Unsigned(None)
        | Value::BigUnsigned(None)
        | Value::Float(None)
        | Value::Double(None)
        | Value::String(None)
        | Value::Char(None)
        | Value::Json(None)
        | Value::ChronoDate(None)
        | Value::ChronoTime(None)
        | Value::ChronoDateTime(None)
        | Value::ChronoDateTimeUtc(None)
        | Value::ChronoDateTimeWithTimeZone(None) => write!(buf, "n;"),
        // No entity of the schema has another type; should one appear, its debug form still
        // changes the hash when the value changes.
        other => {
            buf.push(b'?');
            string(buf, &format!("{other:?}"));
            Ok(())
        }
    };
}

/// RFC 3339 in UTC, whole seconds.
const UTC_SECONDS: &str = "%Y-%m-%dT%H:%M:%SZ";

/// JSON with object keys sorted at every level, whatever order the backend returned.
pub(crate) fn canonical_json(value: &serde_json::Value) -> String {
    let mut out = String::new();
    write_json(&mut out, value);
    out
}

fn write_json(out: &mut String, value: &serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (n, key) in keys.into_iter().enumerate() {
                if n > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::Value::String(key.clone()).to_string());
                out.push(':');
                if let Some(v) = map.get(key) {
                    write_json(out, v);
                }
            }
            out.push('}');
        }
        serde_json::Value::Array(items) => {
            out.push('[');
            for (n, item) in items.iter().enumerate() {
                if n > 0 {
                    out.push(',');
                }
                write_json(out, item);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{FixedOffset, TimeZone};

    fn one(value: Value) -> Vec<u8> {
        let mut buf = Vec::new();
        encode(&mut buf, &value);
        buf
    }

    #[test]
    fn timestamps_in_any_zone_encode_as_the_same_utc_second() {
        let utc_time = Utc.with_ymd_and_hms(2025, 1, 6, 10, 0, 0).single();
        let tokyo = FixedOffset::east_opt(9 * 3600)
            .and_then(|z| z.with_ymd_and_hms(2025, 1, 6, 19, 0, 0).single());
        assert_eq!(
            one(Value::ChronoDateTimeUtc(utc_time)),
            one(Value::ChronoDateTimeWithTimeZone(tokyo))
        );
    }

    #[test]
    fn json_keys_are_sorted_at_every_level() {
        let a: serde_json::Value =
            serde_json::from_str(r#"{"b":1,"a":{"y":[1,{"d":2,"c":3}],"x":"s"}}"#)
                .unwrap_or_default();
        let b: serde_json::Value =
            serde_json::from_str(r#"{"a":{"x":"s","y":[1,{"c":3,"d":2}]},"b":1}"#)
                .unwrap_or_default();
        assert_eq!(canonical_json(&a), canonical_json(&b));
        assert_eq!(
            canonical_json(&a),
            r#"{"a":{"x":"s","y":[1,{"c":3,"d":2}]},"b":1}"#
        );
    }

    #[test]
    fn integers_of_any_width_and_null_and_empty_string_differ_as_they_should() {
        assert_eq!(one(Value::SmallInt(Some(7))), one(Value::BigInt(Some(7))));
        assert_ne!(
            one(Value::String(None)),
            one(Value::String(Some(String::new())))
        );
        assert_ne!(
            one(Value::String(Some("n".into()))),
            one(Value::String(None))
        );
    }
}
