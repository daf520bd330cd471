//! Reading a MySQL or MariaDB schema from `information_schema`, in the connection's database.
//!
//! Every text column is `CAST(... AS CHAR)`: depending on version and collation, MariaDB hands
//! some `information_schema` columns back as binary strings, which the driver will not decode as
//! text. Rows are grouped into keys and indexes here rather than with `GROUP_CONCAT`, whose
//! result is cut at `group_concat_max_len`.

use sea_orm::{ConnectionTrait, DbErr};

use crate::backend::snapshot::{
    CheckConstraint, Column, ForeignKey, Function, Index, PrimaryKey, SchemaSnapshot, Sequence,
    Trigger, View, flag, opt_text, query, text,
};

pub(crate) async fn read<C: ConnectionTrait>(conn: &C) -> Result<SchemaSnapshot, DbErr> {
    let about = query(
        conn,
        "SELECT CAST(DATABASE() AS CHAR) AS db, CAST(VERSION() AS CHAR) AS version",
    )
    .await?;
    let (database, mariadb) = match about.first() {
        Some(row) => (
            opt_text(row, "db")?.unwrap_or_default(),
            text(row, "version")?.contains("MariaDB"),
        ),
        None => (String::new(), false),
    };
    let mut s = SchemaSnapshot::default();
    read_tables(conn, &mut s, &database).await?;
    read_columns(conn, &mut s).await?;
    read_indexes(conn, &mut s).await?;
    read_foreign_keys(conn, &mut s).await?;
    read_checks(conn, &mut s, mariadb).await?;
    read_triggers(conn, &mut s).await?;
    read_routines(conn, &mut s).await?;
    Ok(s)
}

/// Tables, views and (MariaDB) sequences, which `information_schema.tables` lists together.
async fn read_tables<C: ConnectionTrait>(
    conn: &C,
    s: &mut SchemaSnapshot,
    database: &str,
) -> Result<(), DbErr> {
    let sql = "SELECT CAST(t.table_name AS CHAR) AS name, CAST(t.table_type AS CHAR) AS kind, \
                      CAST(v.view_definition AS CHAR) AS definition \
               FROM information_schema.tables t \
               LEFT JOIN information_schema.views v \
                 ON v.table_schema = t.table_schema AND v.table_name = t.table_name \
               WHERE t.table_schema = DATABASE()";
    // MariaDB and MySQL print view queries with every name qualified by the database, which
    // would make the same view read differently in another database.
    let qualifier = format!("`{}`.", database.replace('`', "``"));
    for row in query(conn, sql).await? {
        let name = text(&row, "name")?;
        match text(&row, "kind")?.as_str() {
            "VIEW" => {
                let definition = opt_text(&row, "definition")?.unwrap_or_default();
                s.views.insert(
                    name,
                    View {
                        materialized: false,
                        definition: definition.replace(&qualifier, "").trim().to_owned(),
                    },
                );
            }
            "SEQUENCE" => {
                // MariaDB keeps a sequence's settings in the sequence itself, not in the catalog.
                s.sequences.insert(
                    name,
                    Sequence {
                        data_type: None,
                        start: None,
                        increment: None,
                        min_value: None,
                        max_value: None,
                        cycle: None,
                        owned_by: None,
                    },
                );
            }
            // `BASE TABLE`, and MariaDB's `SYSTEM VERSIONED` tables.
            _ => {
                s.tables.entry(name).or_default();
            }
        }
    }
    Ok(())
}

async fn read_columns<C: ConnectionTrait>(conn: &C, s: &mut SchemaSnapshot) -> Result<(), DbErr> {
    let sql = "SELECT CAST(table_name AS CHAR) AS table_name, CAST(column_name AS CHAR) AS name, \
                      CAST(column_type AS CHAR) AS data_type, CAST(is_nullable AS CHAR) AS nullable, \
                      CAST(column_default AS CHAR) AS default_expr, CAST(extra AS CHAR) AS extra, \
                      CAST(generation_expression AS CHAR) AS generated \
               FROM information_schema.columns WHERE table_schema = DATABASE() \
               ORDER BY table_name, ordinal_position";
    for row in query(conn, sql).await? {
        let Some(table) = s.tables.get_mut(&text(&row, "table_name")?) else {
            continue;
        };
        let extra = opt_text(&row, "extra")?.unwrap_or_default();
        let lower = extra.to_ascii_lowercase();
        let generated = match opt_text(&row, "generated")? {
            Some(expr) if lower.contains("generated") => {
                let kind = if lower.contains("stored") || lower.contains("persistent") {
                    "stored"
                } else {
                    "virtual"
                };
                Some(format!("{expr} {kind}"))
            }
            _ => None,
        };
        // MariaDB reports "no default" of a nullable column as the word NULL (a NULL string
        // default would be quoted: 'NULL').
        let default = opt_text(&row, "default_expr")?.filter(|d| d != "NULL");
        table.columns.push(Column {
            name: text(&row, "name")?,
            data_type: text(&row, "data_type")?,
            nullable: text(&row, "nullable")? == "YES",
            default: if generated.is_some() { None } else { default },
            auto_increment: lower.contains("auto_increment"),
            generated,
            on_update: on_update(&extra),
        });
    }
    Ok(())
}

/// The expression after `on update` in a column's `extra` (`on update current_timestamp()`;
/// MySQL adds `DEFAULT_GENERATED` before it).
fn on_update(extra: &str) -> Option<String> {
    let lower = extra.to_ascii_lowercase();
    let at = lower.find("on update ")?;
    let rest = extra[at + "on update ".len()..].trim();
    Some(rest.to_owned()).filter(|r| !r.is_empty())
}

async fn read_indexes<C: ConnectionTrait>(conn: &C, s: &mut SchemaSnapshot) -> Result<(), DbErr> {
    let sql = "SELECT CAST(table_name AS CHAR) AS table_name, CAST(index_name AS CHAR) AS name, \
                      CAST(non_unique AS SIGNED) AS non_unique, CAST(column_name AS CHAR) AS column_name, \
                      CAST(sub_part AS SIGNED) AS sub_part, CAST(collation AS CHAR) AS collation, \
                      CAST(index_type AS CHAR) AS method \
               FROM information_schema.statistics WHERE table_schema = DATABASE() \
               ORDER BY table_name, index_name, seq_in_index";
    for row in query(conn, sql).await? {
        let Some(table) = s.tables.get_mut(&text(&row, "table_name")?) else {
            continue;
        };
        let name = text(&row, "name")?;
        // MySQL 8's functional key parts have no column name.
        let mut column =
            opt_text(&row, "column_name")?.unwrap_or_else(|| "(expression)".to_owned());
        if let Some(len) = row.try_get::<Option<i64>>("", "sub_part")? {
            column.push_str(&format!("({len})"));
        }
        if opt_text(&row, "collation")?.as_deref() == Some("D") {
            column.push_str(" DESC");
        }
        if name == "PRIMARY" {
            table
                .primary_key
                .get_or_insert_with(|| PrimaryKey {
                    name: None,
                    columns: Vec::new(),
                })
                .columns
                .push(column);
            continue;
        }
        let unique = !flag(&row, "non_unique")?;
        let method = opt_text(&row, "method")?.map(|m| m.to_ascii_lowercase());
        table
            .indexes
            .entry(name)
            .or_insert_with(|| Index {
                columns: Vec::new(),
                unique,
                method,
                predicate: None,
            })
            .columns
            .push(column);
    }
    Ok(())
}

async fn read_foreign_keys<C: ConnectionTrait>(
    conn: &C,
    s: &mut SchemaSnapshot,
) -> Result<(), DbErr> {
    let sql = "SELECT CAST(k.table_name AS CHAR) AS table_name, CAST(k.constraint_name AS CHAR) AS name, \
                      CAST(k.column_name AS CHAR) AS column_name, \
                      CAST(k.referenced_table_name AS CHAR) AS referenced_table, \
                      CAST(k.referenced_column_name AS CHAR) AS referenced_column, \
                      CAST(r.update_rule AS CHAR) AS on_update, CAST(r.delete_rule AS CHAR) AS on_delete \
               FROM information_schema.key_column_usage k \
               JOIN information_schema.referential_constraints r \
                 ON r.constraint_schema = k.constraint_schema \
                AND r.constraint_name = k.constraint_name AND r.table_name = k.table_name \
               WHERE k.table_schema = DATABASE() AND k.referenced_table_name IS NOT NULL \
               ORDER BY k.table_name, k.constraint_name, k.ordinal_position";
    for row in query(conn, sql).await? {
        let Some(table) = s.tables.get_mut(&text(&row, "table_name")?) else {
            continue;
        };
        let name = text(&row, "name")?;
        let referenced_table = text(&row, "referenced_table")?;
        let on_update = text(&row, "on_update")?;
        let on_delete = text(&row, "on_delete")?;
        let fk = table
            .foreign_keys
            .entry(name.clone())
            .or_insert_with(|| ForeignKey {
                name: Some(name),
                columns: Vec::new(),
                referenced_table,
                referenced_columns: Vec::new(),
                on_update,
                on_delete,
            });
        fk.columns.push(text(&row, "column_name")?);
        fk.referenced_columns.push(text(&row, "referenced_column")?);
    }
    Ok(())
}

async fn read_checks<C: ConnectionTrait>(
    conn: &C,
    s: &mut SchemaSnapshot,
    mariadb: bool,
) -> Result<(), DbErr> {
    // MariaDB names a column-level check after its column, so names repeat across tables and
    // only its `check_constraints` (which has the table) tells them apart. MySQL's lacks the
    // table, but there names are unique per database.
    let sql = if mariadb {
        "SELECT CAST(table_name AS CHAR) AS table_name, CAST(constraint_name AS CHAR) AS name, \
                CAST(check_clause AS CHAR) AS expression \
         FROM information_schema.check_constraints WHERE constraint_schema = DATABASE()"
    } else {
        "SELECT CAST(tc.table_name AS CHAR) AS table_name, CAST(tc.constraint_name AS CHAR) AS name, \
                CAST(cc.check_clause AS CHAR) AS expression \
         FROM information_schema.table_constraints tc \
         JOIN information_schema.check_constraints cc \
           ON cc.constraint_schema = tc.constraint_schema AND cc.constraint_name = tc.constraint_name \
         WHERE tc.table_schema = DATABASE() AND tc.constraint_type = 'CHECK'"
    };
    for row in query(conn, sql).await? {
        let Some(table) = s.tables.get_mut(&text(&row, "table_name")?) else {
            continue;
        };
        let name = text(&row, "name")?;
        table.check_constraints.insert(
            name.clone(),
            CheckConstraint {
                name: Some(name),
                expression: text(&row, "expression")?,
            },
        );
    }
    Ok(())
}

async fn read_triggers<C: ConnectionTrait>(conn: &C, s: &mut SchemaSnapshot) -> Result<(), DbErr> {
    let sql = "SELECT CAST(trigger_name AS CHAR) AS name, CAST(event_object_table AS CHAR) AS table_name, \
                      CAST(action_timing AS CHAR) AS timing, CAST(event_manipulation AS CHAR) AS event, \
                      CAST(action_orientation AS CHAR) AS orientation, \
                      CAST(action_statement AS CHAR) AS statement \
               FROM information_schema.triggers WHERE trigger_schema = DATABASE()";
    for row in query(conn, sql).await? {
        s.triggers.push(Trigger {
            table: text(&row, "table_name")?,
            name: text(&row, "name")?,
            definition: format!(
                "{} {} FOR EACH {} {}",
                text(&row, "timing")?,
                text(&row, "event")?,
                text(&row, "orientation")?,
                text(&row, "statement")?.trim()
            ),
        });
    }
    Ok(())
}

async fn read_routines<C: ConnectionTrait>(conn: &C, s: &mut SchemaSnapshot) -> Result<(), DbErr> {
    let sql = "SELECT CAST(routine_name AS CHAR) AS name, CAST(routine_type AS CHAR) AS kind, \
                      CAST(dtd_identifier AS CHAR) AS returns, \
                      CAST(routine_definition AS CHAR) AS definition \
               FROM information_schema.routines WHERE routine_schema = DATABASE()";
    for row in query(conn, sql).await? {
        s.functions.insert(
            text(&row, "name")?,
            Function {
                kind: text(&row, "kind")?.to_ascii_lowercase(),
                returns: opt_text(&row, "returns")?,
                definition: opt_text(&row, "definition")?.map(|d| d.trim().to_owned()),
            },
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn on_update_is_read_from_the_extra_column_as_both_servers_write_it() {
        assert_eq!(
            on_update("on update current_timestamp()").as_deref(),
            Some("current_timestamp()")
        );
        assert_eq!(
            on_update("DEFAULT_GENERATED on update CURRENT_TIMESTAMP").as_deref(),
            Some("CURRENT_TIMESTAMP")
        );
        assert_eq!(on_update("auto_increment"), None);
    }
}
