//! Dropping every object in the target schema, for `fresh`.
//!
//! Tables and views are not all a migration leaves behind: PostgreSQL schemas also hold
//! functions, types, free-standing sequences and extensions, and MySQL databases hold stored
//! routines. `fresh` promises the state of an empty database, so it drops those too; objects that
//! belong to an extension go with their extension.

use std::fmt;

use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement};

/// What kind of object [`list_objects`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectKind {
    /// A view (dropped first: it depends on tables).
    View,
    /// A table, with its indexes and triggers.
    Table,
    /// A PostgreSQL sequence no table column owns.
    Sequence,
    /// A function (PostgreSQL, MySQL).
    Function,
    /// A procedure (PostgreSQL, MySQL).
    Procedure,
    /// A PostgreSQL enum, range or composite type.
    Type,
    /// A PostgreSQL domain.
    Domain,
    /// A PostgreSQL extension installed into the schema.
    Extension,
}

impl ObjectKind {
    /// The SQL keyword after `DROP`.
    fn keyword(self) -> &'static str {
        match self {
            ObjectKind::View => "VIEW",
            ObjectKind::Table => "TABLE",
            ObjectKind::Sequence => "SEQUENCE",
            ObjectKind::Function => "FUNCTION",
            ObjectKind::Procedure => "PROCEDURE",
            ObjectKind::Type => "TYPE",
            ObjectKind::Domain => "DOMAIN",
            ObjectKind::Extension => "EXTENSION",
        }
    }
}

impl fmt::Display for ObjectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.keyword().to_ascii_lowercase())
    }
}

/// One object in the schema, named so that `DROP <kind> <name>` finds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object {
    /// What it is.
    pub kind: ObjectKind,
    /// Its name; for PostgreSQL routines, the signature (`set_updated_at()`), already quoted.
    pub name: String,
}

impl fmt::Display for Object {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind, self.name)
    }
}

fn quote(backend: DbBackend, name: &str) -> String {
    match backend {
        DbBackend::MySql => format!("`{}`", name.replace('`', "``")),
        _ => format!("\"{}\"", name.replace('"', "\"\"")),
    }
}

/// The catalog query per backend: rows of `(kind, name)`, in the order they can be dropped.
fn catalog_query(backend: DbBackend) -> &'static str {
    match backend {
        // Extension members (pg_depend deptype 'e') go with their extension; sequences owned by
        // a column go with their table; row types of tables are not free-standing types.
        DbBackend::Postgres => {
            "SELECT kind, name FROM ( \
               SELECT CASE WHEN c.relkind IN ('v', 'm') THEN 'view' ELSE 'table' END AS kind, \
                      quote_ident(c.relname) AS name, \
                      CASE WHEN c.relkind IN ('v', 'm') THEN 1 ELSE 2 END AS step \
               FROM pg_catalog.pg_class c \
               WHERE c.relnamespace = (SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = current_schema()) \
                 AND c.relkind IN ('r', 'p', 'v', 'm') \
                 AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d \
                                 WHERE d.objid = c.oid AND d.deptype = 'e') \
               UNION ALL \
               SELECT 'sequence', quote_ident(c.relname), 3 \
               FROM pg_catalog.pg_class c \
               WHERE c.relnamespace = (SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = current_schema()) AND c.relkind = 'S' \
                 AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d \
                                 WHERE d.objid = c.oid AND d.deptype IN ('a', 'i', 'e')) \
               UNION ALL \
               SELECT CASE p.prokind WHEN 'p' THEN 'procedure' ELSE 'function' END, \
                      p.oid::regprocedure::text, 4 \
               FROM pg_catalog.pg_proc p \
               WHERE p.pronamespace = (SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = current_schema()) AND p.prokind IN ('f', 'p') \
                 AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d \
                                 WHERE d.objid = p.oid AND d.deptype = 'e') \
               UNION ALL \
               SELECT CASE t.typtype WHEN 'd' THEN 'domain' ELSE 'type' END, \
                      quote_ident(t.typname), 5 \
               FROM pg_catalog.pg_type t \
               WHERE t.typnamespace = (SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = current_schema()) \
                 AND (t.typtype IN ('e', 'r', 'd') \
                      OR (t.typtype = 'c' AND (SELECT c.relkind FROM pg_catalog.pg_class c \
                                                WHERE c.oid = t.typrelid) = 'c')) \
                 AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d \
                                 WHERE d.objid = t.oid AND d.deptype = 'e') \
               UNION ALL \
               SELECT 'extension', quote_ident(e.extname), 6 \
               FROM pg_catalog.pg_extension e \
               WHERE e.extnamespace = (SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = current_schema()) \
                 AND e.extname <> 'plpgsql' \
             ) objects ORDER BY step, name"
        }
        DbBackend::MySql => {
            "SELECT kind, name FROM ( \
               SELECT IF(table_type = 'VIEW', 'view', 'table') AS kind, \
                      CAST(table_name AS CHAR) AS name, IF(table_type = 'VIEW', 1, 2) AS step \
               FROM information_schema.tables WHERE table_schema = DATABASE() \
               UNION ALL \
               SELECT LOWER(routine_type), CAST(routine_name AS CHAR), 3 \
               FROM information_schema.routines WHERE routine_schema = DATABASE() \
             ) objects ORDER BY step, name"
        }
        _ => {
            "SELECT type AS kind, name FROM sqlite_master \
             WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%' \
             ORDER BY type = 'table', name"
        }
    }
}

fn kind_of(label: &str) -> Option<ObjectKind> {
    Some(match label {
        "view" => ObjectKind::View,
        "table" => ObjectKind::Table,
        "sequence" => ObjectKind::Sequence,
        "function" => ObjectKind::Function,
        "procedure" => ObjectKind::Procedure,
        "type" => ObjectKind::Type,
        "domain" => ObjectKind::Domain,
        "extension" => ObjectKind::Extension,
        _ => return None,
    })
}

/// Every object in the schema the connection works in, in an order they can be dropped.
///
/// # Errors
/// The catalog query's error.
pub async fn list_objects<C: ConnectionTrait>(conn: &C) -> Result<Vec<Object>, DbErr> {
    let backend = conn.get_database_backend();
    let rows = conn
        .query_all_raw(Statement::from_string(backend, catalog_query(backend)))
        .await?;
    let mut objects = Vec::with_capacity(rows.len());
    for row in rows {
        let label: String = row.try_get("", "kind")?;
        let name: String = row.try_get("", "name")?;
        let kind = kind_of(&label)
            .ok_or_else(|| DbErr::Custom(format!("unexpected object kind `{label}`")))?;
        let name = match (backend, kind) {
            // PostgreSQL names come back quoted (and routines with their signature).
            (DbBackend::Postgres, _) => name,
            _ => quote(backend, &name),
        };
        objects.push(Object { kind, name });
    }
    Ok(objects)
}

/// Drops what [`list_objects`] lists, with foreign key checks off where the backend needs it,
/// and returns what it dropped.
///
/// # Errors
/// The first failing statement's error.
pub async fn drop_all<C: ConnectionTrait>(conn: &C) -> Result<Vec<Object>, DbErr> {
    let backend = conn.get_database_backend();
    let objects = list_objects(conn).await?;
    let (off, on) = match backend {
        DbBackend::MySql => ("SET FOREIGN_KEY_CHECKS = 0", "SET FOREIGN_KEY_CHECKS = 1"),
        DbBackend::Sqlite => ("PRAGMA foreign_keys = OFF", "PRAGMA foreign_keys = ON"),
        _ => ("", ""),
    };
    if !off.is_empty() {
        conn.execute_unprepared(off).await?;
    }
    let mut dropped = Vec::new();
    let mut result = Ok(());
    for object in objects {
        // CASCADE (PostgreSQL) takes dependents already dropped by an earlier step in its
        // stride; IF EXISTS keeps that from failing.
        let cascade = if backend == DbBackend::Postgres {
            " CASCADE"
        } else {
            ""
        };
        let sql = format!(
            "DROP {} IF EXISTS {}{cascade}",
            object.kind.keyword(),
            object.name
        );
        if let Err(e) = conn.execute_unprepared(&sql).await {
            result = Err(e);
            break;
        }
        dropped.push(object);
    }
    if !on.is_empty() {
        conn.execute_unprepared(on).await?;
    }
    result.map(|()| dropped)
}
