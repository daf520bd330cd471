//! Reading a PostgreSQL schema from `pg_catalog`: the connection's current schema and every other
//! schema a project's migrations can create objects in.
//!
//! Those are the schemas that are neither the system's (`pg_catalog`, `information_schema`,
//! `pg_toast`, the `pg_temp_N` and `pg_toast_temp_N` of sessions: every `pg_` name, which users
//! cannot create) nor an extension's (a member of one, pg_depend deptype 'e'). Objects of the
//! current schema are named bare, as they always were; the others `schema.name`
//! ([`qualified`]).
//!
//! `pg_catalog` rather than `information_schema`: only the former has index definitions,
//! referential actions by constraint, trigger and function definitions, sequences' owners and
//! extension membership, and it shows objects whatever their owner. Lists come back as JSON
//! arrays (`json_agg`), which needs no array support in the driver. Needs PostgreSQL 12 or later
//! (`attgenerated`, `indnkeyatts`, `prokind`).

use sea_orm::{ConnectionTrait, DbErr, QueryResult};

use crate::backend::snapshot::{
    CheckConstraint, Column, Extension, ForeignKey, Function, Index, PrimaryKey, Schema,
    SchemaSnapshot, Sequence, Trigger, UniqueConstraint, UserType, View, flag, opt_text, query,
    text,
};

/// Whether the schema row `ns` (of `pg_namespace`) is read: the current schema, or one that is
/// neither a system schema nor a member of an extension.
fn in_scope(ns: &str) -> String {
    format!("({ns}.nspname = current_schema() OR {})", other_schema(ns))
}

/// Whether the schema row `ns` is a schema of the project's other than (possibly) the current
/// one: not `information_schema`, not `pg_*` (`pg_catalog`, `pg_toast`, `pg_temp_N`,
/// `pg_toast_temp_N`; PostgreSQL reserves the prefix for itself), not an extension's.
fn other_schema(ns: &str) -> String {
    format!(
        "({ns}.nspname <> 'information_schema' AND {ns}.nspname NOT LIKE 'pg\\_%' AND {})",
        not_in_extension("pg_catalog.pg_namespace", &format!("{ns}.oid"))
    )
}

/// The name of the object called `name` in the schema row `ns`, as text: bare in the current
/// schema, `schema.name` elsewhere. NULL when `ns` is (a LEFT JOIN that found nothing).
fn qualified(ns: &str, name: &str) -> String {
    format!(
        "CASE WHEN {ns}.nspname = current_schema() THEN {name}::text \
              ELSE {ns}.nspname::text || '.' || {name}::text END"
    )
}

/// `AND NOT <object is a member of an extension>`, for an object of catalog `catalog` whose oid
/// is `oid`.
fn not_in_extension(catalog: &str, oid: &str) -> String {
    format!(
        "NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend dep \
         WHERE dep.classid = '{catalog}'::regclass AND dep.objid = {oid} AND dep.deptype = 'e')"
    )
}

fn list(row: &QueryResult, column: &str) -> Result<Vec<String>, DbErr> {
    let raw = opt_text(row, column)?.unwrap_or_else(|| "[]".to_owned());
    serde_json::from_str(&raw).map_err(|e| DbErr::Type(format!("{column}: {e}")))
}

fn action(code: &str) -> String {
    match code {
        "r" => "RESTRICT",
        "c" => "CASCADE",
        "n" => "SET NULL",
        "d" => "SET DEFAULT",
        _ => "NO ACTION",
    }
    .to_owned()
}

pub(crate) async fn read<C: ConnectionTrait>(conn: &C) -> Result<SchemaSnapshot, DbErr> {
    let mut s = SchemaSnapshot::default();
    read_schemas(conn, &mut s).await?;
    read_tables(conn, &mut s).await?;
    read_constraints(conn, &mut s).await?;
    read_indexes(conn, &mut s).await?;
    read_views(conn, &mut s).await?;
    read_triggers(conn, &mut s).await?;
    read_functions(conn, &mut s).await?;
    read_sequences(conn, &mut s).await?;
    read_types(conn, &mut s).await?;
    read_extensions(conn, &mut s).await?;
    Ok(s)
}

async fn read_tables<C: ConnectionTrait>(conn: &C, s: &mut SchemaSnapshot) -> Result<(), DbErr> {
    let sql = format!(
        "SELECT {} AS table_name, a.attname::text AS name, \
                pg_catalog.format_type(a.atttypid, a.atttypmod) AS data_type, \
                NOT a.attnotnull AS nullable, \
                pg_catalog.pg_get_expr(d.adbin, d.adrelid) AS default_expr, \
                a.attidentity::text AS identity, a.attgenerated::text AS generated \
         FROM pg_catalog.pg_class c \
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
         JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped \
         LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
         WHERE {} AND c.relkind IN ('r', 'p') AND {} \
         ORDER BY n.nspname, c.relname, a.attnum",
        qualified("n", "c.relname"),
        in_scope("n"),
        not_in_extension("pg_catalog.pg_class", "c.oid")
    );
    for row in query(conn, &sql).await? {
        let table = text(&row, "table_name")?;
        let default = opt_text(&row, "default_expr")?;
        let identity = opt_text(&row, "identity")?;
        let generated = opt_text(&row, "generated")?;
        // A generated column's expression is stored as its default; it is not one.
        let (default, generated) = match generated {
            Some(_) => (None, default.map(|expr| format!("{expr} stored"))),
            None => (default, None),
        };
        let auto_increment = identity.is_some()
            || default
                .as_deref()
                .is_some_and(|d| d.starts_with("nextval("));
        s.tables.entry(table).or_default().columns.push(Column {
            name: text(&row, "name")?,
            data_type: text(&row, "data_type")?,
            nullable: flag(&row, "nullable")?,
            default,
            auto_increment,
            generated,
            on_update: None,
        });
    }
    Ok(())
}

async fn read_constraints<C: ConnectionTrait>(
    conn: &C,
    s: &mut SchemaSnapshot,
) -> Result<(), DbErr> {
    // Each side of a key as a JSON array of column names, in key order.
    let columns_of = |keys: &str, rel: &str| {
        format!(
            "(SELECT json_agg(a.attname::text ORDER BY k.ord)::text \
              FROM unnest(con.{keys}) WITH ORDINALITY AS k(attnum, ord) \
              JOIN pg_catalog.pg_attribute a ON a.attrelid = con.{rel} AND a.attnum = k.attnum)"
        )
    };
    let sql = format!(
        "SELECT {} AS table_name, con.conname::text AS name, \
                con.contype::text AS kind, pg_catalog.pg_get_constraintdef(con.oid, true) AS definition, \
                {} AS referenced_table, \
                con.confupdtype::text AS on_update, con.confdeltype::text AS on_delete, \
                {} AS columns, {} AS referenced_columns \
         FROM pg_catalog.pg_constraint con \
         JOIN pg_catalog.pg_class t ON t.oid = con.conrelid \
         JOIN pg_catalog.pg_namespace n ON n.oid = t.relnamespace \
         LEFT JOIN pg_catalog.pg_class ft ON ft.oid = con.confrelid \
         LEFT JOIN pg_catalog.pg_namespace fns ON fns.oid = ft.relnamespace \
         WHERE {} AND t.relkind IN ('r', 'p') \
           AND con.contype IN ('p', 'u', 'f', 'c', 'x') \
         ORDER BY n.nspname, t.relname, con.conname",
        qualified("n", "t.relname"),
        qualified("fns", "ft.relname"),
        columns_of("conkey", "conrelid"),
        columns_of("confkey", "confrelid"),
        in_scope("n"),
    );
    for row in query(conn, &sql).await? {
        let Some(table) = s.tables.get_mut(&text(&row, "table_name")?) else {
            continue;
        };
        let name = text(&row, "name")?;
        match text(&row, "kind")?.as_str() {
            "p" => {
                table.primary_key = Some(PrimaryKey {
                    name: Some(name),
                    columns: list(&row, "columns")?,
                });
            }
            "u" => {
                table.unique_constraints.insert(
                    name.clone(),
                    UniqueConstraint {
                        name: Some(name),
                        columns: list(&row, "columns")?,
                    },
                );
            }
            "f" => {
                table.foreign_keys.insert(
                    name.clone(),
                    ForeignKey {
                        name: Some(name),
                        columns: list(&row, "columns")?,
                        referenced_table: opt_text(&row, "referenced_table")?.unwrap_or_default(),
                        referenced_columns: list(&row, "referenced_columns")?,
                        on_update: action(&text(&row, "on_update")?),
                        on_delete: action(&text(&row, "on_delete")?),
                    },
                );
            }
            _ => {
                table.check_constraints.insert(
                    name.clone(),
                    CheckConstraint {
                        name: Some(name),
                        expression: text(&row, "definition")?,
                    },
                );
            }
        }
    }
    Ok(())
}

async fn read_indexes<C: ConnectionTrait>(conn: &C, s: &mut SchemaSnapshot) -> Result<(), DbErr> {
    // Indexes that implement a primary key, unique or exclusion constraint are reported as that
    // constraint. `indoption` bit 0 is DESC; it is an int2vector, subscripted from 0.
    let sql = format!(
        "SELECT {} AS table_name, ic.relname::text AS name, \
                i.indisunique AS is_unique, am.amname::text AS method, \
                pg_catalog.pg_get_expr(i.indpred, i.indrelid, true) AS predicate, \
                (SELECT json_agg(pg_catalog.pg_get_indexdef(i.indexrelid, k, true) \
                                 || CASE WHEN i.indoption[k - 1] & 1 = 1 THEN ' DESC' ELSE '' END \
                                 ORDER BY k)::text \
                 FROM generate_series(1, i.indnkeyatts) AS k) AS columns \
         FROM pg_catalog.pg_index i \
         JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid \
         JOIN pg_catalog.pg_class t ON t.oid = i.indrelid \
         JOIN pg_catalog.pg_namespace n ON n.oid = t.relnamespace \
         JOIN pg_catalog.pg_am am ON am.oid = ic.relam \
         WHERE {} AND t.relkind IN ('r', 'p') \
           AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint con \
                           WHERE con.conindid = i.indexrelid AND con.conrelid = i.indrelid \
                             AND con.contype IN ('p', 'u', 'x')) \
         ORDER BY n.nspname, t.relname, ic.relname",
        qualified("n", "t.relname"),
        in_scope("n"),
    );
    for row in query(conn, &sql).await? {
        let Some(table) = s.tables.get_mut(&text(&row, "table_name")?) else {
            continue;
        };
        table.indexes.insert(
            text(&row, "name")?,
            Index {
                columns: list(&row, "columns")?,
                unique: flag(&row, "is_unique")?,
                method: opt_text(&row, "method")?,
                predicate: opt_text(&row, "predicate")?,
            },
        );
    }
    Ok(())
}

async fn read_views<C: ConnectionTrait>(conn: &C, s: &mut SchemaSnapshot) -> Result<(), DbErr> {
    let sql = format!(
        "SELECT {} AS name, c.relkind = 'm' AS materialized, \
                pg_catalog.pg_get_viewdef(c.oid, true) AS definition \
         FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
         WHERE {} AND c.relkind IN ('v', 'm') AND {}",
        qualified("n", "c.relname"),
        in_scope("n"),
        not_in_extension("pg_catalog.pg_class", "c.oid")
    );
    for row in query(conn, &sql).await? {
        s.views.insert(
            text(&row, "name")?,
            View {
                materialized: flag(&row, "materialized")?,
                definition: text(&row, "definition")?.trim().to_owned(),
            },
        );
    }
    Ok(())
}

async fn read_triggers<C: ConnectionTrait>(conn: &C, s: &mut SchemaSnapshot) -> Result<(), DbErr> {
    let sql = format!(
        "SELECT {} AS table_name, tg.tgname::text AS name, \
                pg_catalog.pg_get_triggerdef(tg.oid, true) AS definition \
         FROM pg_catalog.pg_trigger tg \
         JOIN pg_catalog.pg_class c ON c.oid = tg.tgrelid \
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
         WHERE {} AND NOT tg.tgisinternal AND {}",
        qualified("n", "c.relname"),
        in_scope("n"),
        // The triggers of an extension's tables go with them.
        not_in_extension("pg_catalog.pg_class", "c.oid"),
    );
    for row in query(conn, &sql).await? {
        s.triggers.push(Trigger {
            table: text(&row, "table_name")?,
            name: text(&row, "name")?,
            definition: text(&row, "definition")?,
        });
    }
    Ok(())
}

async fn read_functions<C: ConnectionTrait>(conn: &C, s: &mut SchemaSnapshot) -> Result<(), DbErr> {
    // pg_get_functiondef refuses aggregates, which have no body of their own.
    let sql = format!(
        "SELECT {} || '(' || pg_catalog.pg_get_function_identity_arguments(p.oid) || ')' \
                    AS signature, \
                CASE p.prokind WHEN 'p' THEN 'procedure' WHEN 'a' THEN 'aggregate' \
                               WHEN 'w' THEN 'window' ELSE 'function' END AS kind, \
                pg_catalog.pg_get_function_result(p.oid) AS returns, \
                CASE WHEN p.prokind <> 'a' THEN pg_catalog.pg_get_functiondef(p.oid) END AS definition \
         FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace \
         WHERE {} AND {}",
        qualified("n", "p.proname"),
        in_scope("n"),
        not_in_extension("pg_catalog.pg_proc", "p.oid")
    );
    for row in query(conn, &sql).await? {
        s.functions.insert(
            text(&row, "signature")?,
            Function {
                kind: text(&row, "kind")?,
                returns: opt_text(&row, "returns")?,
                definition: opt_text(&row, "definition")?.map(|d| d.trim().to_owned()),
            },
        );
    }
    Ok(())
}

async fn read_sequences<C: ConnectionTrait>(conn: &C, s: &mut SchemaSnapshot) -> Result<(), DbErr> {
    // Serial columns own their sequence with an 'a' dependency, identity columns with an 'i'.
    let sql = format!(
        "SELECT {} AS name, pg_catalog.format_type(sq.seqtypid, NULL) AS data_type, \
                sq.seqstart AS start, sq.seqincrement AS increment, sq.seqmin AS min_value, \
                sq.seqmax AS max_value, sq.seqcycle AS cycle, \
                (SELECT {} || '.' || a.attname::text \
                 FROM pg_catalog.pg_depend d \
                 JOIN pg_catalog.pg_class t ON t.oid = d.refobjid \
                 JOIN pg_catalog.pg_namespace tn ON tn.oid = t.relnamespace \
                 JOIN pg_catalog.pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid \
                 WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = c.oid \
                   AND d.refclassid = 'pg_catalog.pg_class'::regclass AND d.deptype IN ('a', 'i') \
                 ORDER BY 1 LIMIT 1) AS owned_by \
         FROM pg_catalog.pg_class c \
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
         JOIN pg_catalog.pg_sequence sq ON sq.seqrelid = c.oid \
         WHERE {} AND c.relkind = 'S' AND {}",
        qualified("n", "c.relname"),
        qualified("tn", "t.relname"),
        in_scope("n"),
        not_in_extension("pg_catalog.pg_class", "c.oid")
    );
    for row in query(conn, &sql).await? {
        s.sequences.insert(
            text(&row, "name")?,
            Sequence {
                data_type: opt_text(&row, "data_type")?,
                start: row.try_get("", "start")?,
                increment: row.try_get("", "increment")?,
                min_value: row.try_get("", "min_value")?,
                max_value: row.try_get("", "max_value")?,
                cycle: row.try_get("", "cycle")?,
                owned_by: opt_text(&row, "owned_by")?,
            },
        );
    }
    Ok(())
}

async fn read_types<C: ConnectionTrait>(conn: &C, s: &mut SchemaSnapshot) -> Result<(), DbErr> {
    // Composite types that merely describe a table's row are the table's, not the user's.
    let sql = format!(
        "SELECT {} AS name, \
                CASE t.typtype WHEN 'e' THEN 'enum' WHEN 'd' THEN 'domain' \
                               WHEN 'c' THEN 'composite' ELSE 'range' END AS kind, \
                CASE t.typtype \
                  WHEN 'e' THEN (SELECT string_agg(quote_literal(e.enumlabel::text), ', ' ORDER BY e.enumsortorder) \
                                 FROM pg_catalog.pg_enum e WHERE e.enumtypid = t.oid) \
                  WHEN 'd' THEN pg_catalog.format_type(t.typbasetype, t.typtypmod) \
                                || CASE WHEN t.typnotnull THEN ' NOT NULL' ELSE '' END \
                                || COALESCE(' DEFAULT ' || t.typdefault, '') \
                                || COALESCE((SELECT ' ' || string_agg(pg_catalog.pg_get_constraintdef(con.oid, true), ' ' \
                                                                      ORDER BY con.conname) \
                                             FROM pg_catalog.pg_constraint con WHERE con.contypid = t.oid), '') \
                  WHEN 'c' THEN (SELECT string_agg(a.attname::text || ' ' || pg_catalog.format_type(a.atttypid, a.atttypmod), \
                                                   ', ' ORDER BY a.attnum) \
                                 FROM pg_catalog.pg_attribute a \
                                 WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped) \
                  ELSE (SELECT pg_catalog.format_type(r.rngsubtype, NULL) FROM pg_catalog.pg_range r \
                        WHERE r.rngtypid = t.oid) \
                END AS definition \
         FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace \
         WHERE {} AND t.typtype IN ('e', 'd', 'c', 'r') \
           AND (t.typtype <> 'c' OR EXISTS (SELECT 1 FROM pg_catalog.pg_class c \
                                            WHERE c.oid = t.typrelid AND c.relkind = 'c')) \
           AND {}",
        qualified("n", "t.typname"),
        in_scope("n"),
        not_in_extension("pg_catalog.pg_type", "t.oid")
    );
    for row in query(conn, &sql).await? {
        s.types.insert(
            text(&row, "name")?,
            UserType {
                kind: text(&row, "kind")?,
                definition: opt_text(&row, "definition")?.unwrap_or_default(),
            },
        );
    }
    Ok(())
}

async fn read_schemas<C: ConnectionTrait>(conn: &C, s: &mut SchemaSnapshot) -> Result<(), DbErr> {
    let sql = format!(
        "SELECT n.nspname::text AS name, pg_catalog.pg_get_userbyid(n.nspowner)::text AS owner \
         FROM pg_catalog.pg_namespace n \
         WHERE n.nspname IS DISTINCT FROM current_schema() AND {}",
        other_schema("n")
    );
    for row in query(conn, &sql).await? {
        s.schemas.insert(
            text(&row, "name")?,
            Schema {
                owner: text(&row, "owner")?,
            },
        );
    }
    Ok(())
}

async fn read_extensions<C: ConnectionTrait>(
    conn: &C,
    s: &mut SchemaSnapshot,
) -> Result<(), DbErr> {
    let sql = "SELECT e.extname::text AS name, e.extversion::text AS version, n.nspname::text AS schema \
               FROM pg_catalog.pg_extension e \
               JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace";
    for row in query(conn, sql).await? {
        s.extensions.insert(
            text(&row, "name")?,
            Extension {
                version: text(&row, "version")?,
                schema: text(&row, "schema")?,
            },
        );
    }
    Ok(())
}
