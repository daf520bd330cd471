//! The catalog queries behind [`TestDb::table_names`](crate::TestDb::table_names),
//! [`TestDb::columns`](crate::TestDb::columns) and [`TestDb::dump`](crate::TestDb::dump).

use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func, Query};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement, Value};

/// Runs a catalog query returning one text column per row.
async fn strings(db: &DatabaseConnection, sql: &str, values: Vec<Value>) -> Vec<String> {
    let backend = db.get_database_backend();
    db.query_all_raw(Statement::from_sql_and_values(backend, sql, values))
        .await
        .unwrap_or_else(|err| panic!("catalog query failed: {err}\n{sql}"))
        .into_iter()
        .map(|row| {
            row.try_get_by_index::<String>(0)
                .unwrap_or_else(|err| panic!("catalog query returned a non-text value: {err}"))
        })
        .collect()
}

pub(crate) async fn table_names(db: &DatabaseConnection) -> Vec<String> {
    let sql = match db.get_database_backend() {
        DbBackend::Postgres => {
            "SELECT tablename::text FROM pg_catalog.pg_tables WHERE schemaname = current_schema()"
        }
        DbBackend::MySql => {
            "SELECT CAST(table_name AS CHAR) FROM information_schema.tables \
             WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE'"
        }
        DbBackend::Sqlite => {
            "SELECT name FROM sqlite_master \
             WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
        }
        other => panic!("unsupported backend {other:?}"),
    };
    let mut names = strings(db, sql, Vec::new()).await;
    // Sorted here rather than in SQL so the order does not depend on the server's collation.
    names.sort();
    names
}

/// One column of a table, as the dump shows it.
pub(crate) struct Column {
    pub(crate) name: String,
    pub(crate) ty: String,
    /// `not null` or `null`.
    pub(crate) nullability: String,
    pub(crate) default: Option<String>,
}

impl Column {
    /// Binary values cannot go into JSON as they are; the dump hex-encodes them.
    fn is_binary(&self) -> bool {
        let ty = self.ty.to_ascii_lowercase();
        ty.contains("blob") || ty.contains("binary")
    }
}

impl std::fmt::Display for Column {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} {}", self.name, self.ty, self.nullability)?;
        if let Some(default) = &self.default {
            write!(f, " default {default}")?;
        }
        Ok(())
    }
}

pub(crate) async fn columns(db: &DatabaseConnection, table: &str) -> Vec<Column> {
    let backend = db.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => {
            "SELECT a.attname::text, pg_catalog.format_type(a.atttypid, a.atttypmod), \
                    CASE WHEN a.attnotnull THEN 'not null' ELSE 'null' END, \
                    pg_catalog.pg_get_expr(d.adbin, d.adrelid) \
             FROM pg_catalog.pg_attribute a \
             JOIN pg_catalog.pg_class c ON c.oid = a.attrelid \
             JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
             LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
             WHERE n.nspname = current_schema() AND c.relname = $1 \
               AND a.attnum > 0 AND NOT a.attisdropped \
             ORDER BY a.attnum"
        }
        DbBackend::MySql => {
            "SELECT CAST(column_name AS CHAR), CAST(column_type AS CHAR), \
                    IF(is_nullable = 'NO', 'not null', 'null'), CAST(column_default AS CHAR) \
             FROM information_schema.columns \
             WHERE table_schema = DATABASE() AND table_name = ? \
             ORDER BY ordinal_position"
        }
        DbBackend::Sqlite => {
            "SELECT name, type, CASE WHEN \"notnull\" <> 0 THEN 'not null' ELSE 'null' END, \
                    dflt_value \
             FROM pragma_table_info(?) ORDER BY cid"
        }
        other => panic!("unsupported backend {other:?}"),
    };
    db.query_all_raw(Statement::from_sql_and_values(
        backend,
        sql,
        [Value::from(table)],
    ))
    .await
    .unwrap_or_else(|err| panic!("cannot list the columns of {table}: {err}"))
    .into_iter()
    .map(|row| Column {
        name: row.try_get_by_index(0).unwrap(),
        ty: row.try_get_by_index(1).unwrap(),
        nullability: row.try_get_by_index(2).unwrap(),
        default: row.try_get_by_index(3).unwrap(),
    })
    .collect()
}

pub(crate) async fn indexes(db: &DatabaseConnection, table: &str) -> Vec<String> {
    let backend = db.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => {
            "SELECT indexname::text || ': ' || indexdef FROM pg_catalog.pg_indexes \
             WHERE schemaname = current_schema() AND tablename = $1"
        }
        DbBackend::MySql => {
            "SELECT CAST(CONCAT(index_name, ': ', \
                        IF(non_unique = 0, 'unique ', ''), \
                        '(', GROUP_CONCAT(column_name ORDER BY seq_in_index SEPARATOR ', '), ')') \
                    AS CHAR) \
             FROM information_schema.statistics \
             WHERE table_schema = DATABASE() AND table_name = ? \
             GROUP BY index_name, non_unique"
        }
        DbBackend::Sqlite => {
            "SELECT name || ': ' || COALESCE(sql, '(automatic)') FROM sqlite_master \
             WHERE type = 'index' AND tbl_name = ?"
        }
        other => panic!("unsupported backend {other:?}"),
    };
    let mut indexes = strings(db, sql, vec![Value::from(table)]).await;
    indexes.sort();
    indexes
}

pub(crate) async fn foreign_keys(db: &DatabaseConnection, table: &str) -> Vec<String> {
    let backend = db.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => {
            "SELECT c.conname::text || ': ' || pg_catalog.pg_get_constraintdef(c.oid) \
             FROM pg_catalog.pg_constraint c \
             JOIN pg_catalog.pg_class t ON t.oid = c.conrelid \
             JOIN pg_catalog.pg_namespace n ON n.oid = t.relnamespace \
             WHERE n.nspname = current_schema() AND t.relname = $1 AND c.contype = 'f'"
        }
        DbBackend::MySql => {
            "SELECT CAST(CONCAT(k.constraint_name, ': FOREIGN KEY (', \
                        GROUP_CONCAT(k.column_name ORDER BY k.ordinal_position SEPARATOR ', '), \
                        ') REFERENCES ', k.referenced_table_name, '(', \
                        GROUP_CONCAT(k.referenced_column_name \
                                     ORDER BY k.ordinal_position SEPARATOR ', '), \
                        ') ON DELETE ', r.delete_rule, ' ON UPDATE ', r.update_rule) AS CHAR) \
             FROM information_schema.key_column_usage k \
             JOIN information_schema.referential_constraints r \
               ON r.constraint_schema = k.constraint_schema \
              AND r.constraint_name = k.constraint_name AND r.table_name = k.table_name \
             WHERE k.table_schema = DATABASE() AND k.table_name = ? \
               AND k.referenced_table_name IS NOT NULL \
             GROUP BY k.constraint_name, k.referenced_table_name, r.delete_rule, r.update_rule"
        }
        // SQLite foreign keys have no names; `to` is NULL when the parent's primary key is meant.
        DbBackend::Sqlite => {
            "SELECT 'FOREIGN KEY (' || group_concat(\"from\", ', ') || ') REFERENCES ' \
                    || \"table\" || '(' || group_concat(COALESCE(\"to\", ''), ', ') \
                    || ') ON DELETE ' || on_delete || ' ON UPDATE ' || on_update \
             FROM (SELECT * FROM pragma_foreign_key_list(?) ORDER BY id, seq) \
             GROUP BY id"
        }
        other => panic!("unsupported backend {other:?}"),
    };
    let mut foreign_keys = strings(db, sql, vec![Value::from(table)]).await;
    foreign_keys.sort();
    foreign_keys
}

/// Every row of `table` as a JSON object, sorted.
pub(crate) async fn rows(db: &DatabaseConnection, table: &str, columns: &[Column]) -> Vec<String> {
    let backend = db.get_database_backend();
    let mut select = Query::select();
    match backend {
        DbBackend::Postgres => {
            // row_to_json renders every type, bytea included, as valid JSON.
            select
                .expr(Expr::cust("row_to_json(\"t\")::text"))
                .from_as(Alias::new(table), Alias::new("t"));
        }
        DbBackend::MySql | DbBackend::Sqlite => {
            let (object, hex) = match backend {
                DbBackend::MySql => ("JSON_OBJECT", "HEX"),
                _ => ("json_object", "hex"),
            };
            let mut args = Vec::with_capacity(columns.len() * 2);
            for column in columns {
                args.push(Expr::val(column.name.as_str()));
                let value = Expr::col(Alias::new(column.name.as_str()));
                args.push(if column.is_binary() {
                    Func::cust(Alias::new(hex)).arg(value).into()
                } else {
                    value
                });
            }
            let json = Expr::from(Func::cust(Alias::new(object)).args(args));
            // MariaDB's JSON_OBJECT returns LONGTEXT with a binary-ish collation on some
            // versions; the CAST makes the driver hand it back as a string.
            let json = match backend {
                DbBackend::MySql => json.cast_as(Alias::new("CHAR")),
                _ => json,
            };
            select.expr(json).from(Alias::new(table));
        }
        other => panic!("unsupported backend {other:?}"),
    }
    let mut rows: Vec<String> = db
        .query_all(&select)
        .await
        .unwrap_or_else(|err| panic!("cannot read the rows of {table}: {err}"))
        .into_iter()
        .map(|row| row.try_get_by_index::<String>(0).unwrap())
        .collect();
    // Sorted here rather than with ORDER BY so the order does not depend on collation.
    rows.sort();
    rows
}
