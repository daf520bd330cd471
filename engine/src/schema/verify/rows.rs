//! Row counts around a migration: a data migration's `down` must put back the rows its `up`
//! wrote.

use sea_orm::{ConnectionTrait, DatabaseConnection};
use std::collections::BTreeMap;

use super::report::{Difference, RowChange, VerifyReport};
use crate::error::{EngineError, Result};
use crate::schema::snapshot;

/// The number of rows of every table of `schema`.
pub(super) async fn row_counts(
    conn: &DatabaseConnection,
    schema: &snapshot::SchemaSnapshot,
) -> Result<BTreeMap<String, i64>> {
    use sea_orm::sea_query::{Alias, Asterisk, Expr, Func, Query};
    let mut counts = BTreeMap::new();
    for table in schema.tables.keys() {
        let mut count = Query::select()
            .expr_as(Func::count(Expr::col(Asterisk)), Alias::new("n"))
            .to_owned();
        match schema.split_name(table) {
            (Some(in_schema), name) => count.from((Alias::new(in_schema), Alias::new(name))),
            (None, name) => count.from(Alias::new(name)),
        };
        let n = conn
            .query_one(&count)
            .await
            .and_then(|row| match row {
                Some(row) => row.try_get::<i64>("", "n"),
                None => Ok(0),
            })
            .map_err(EngineError::db("counting the rows of the scratch database"))?;
        counts.insert(table.clone(), n);
    }
    Ok(counts)
}

/// Records the tables whose rows a migration's `up` changed, and a difference for every table
/// whose rows its `down` did not put back: `[before up, after up, after down]`.
pub(super) fn compare_rows(
    report: &mut VerifyReport,
    label: &str,
    rows: [&BTreeMap<String, i64>; 3],
) {
    let [before, up, down] = rows;
    let tables: std::collections::BTreeSet<&String> = before.keys().chain(up.keys()).collect();
    for table in tables {
        // A table created or dropped empty holds no data that changed.
        let rows = |counts: &BTreeMap<String, i64>| counts.get(table).copied().unwrap_or(0);
        if rows(before) == rows(up) {
            continue;
        }
        report.data.push(RowChange {
            migration: label.to_owned(),
            table: table.clone(),
            before: before.get(table).copied(),
            after_up: up.get(table).copied(),
            after_down: down.get(table).copied(),
        });
    }
    for (table, &n) in before {
        if let Some(&after_down) = down.get(table)
            && after_down != n
        {
            report.differences.push(Difference::Rows {
                migration: label.to_owned(),
                table: table.clone(),
                before: n,
                after_down,
            });
        }
    }
}
