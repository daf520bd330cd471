//! Reading a SQLite schema from `sqlite_master` and the `pragma_*` table-valued functions.
//!
//! The pragmas give columns, keys, indexes and foreign keys but not constraint names, check
//! constraints, partial index predicates or `AUTOINCREMENT`; those are read from the `CREATE`
//! statements SQLite keeps, with a small scanner that knows SQL's quoting and parentheses (not a
//! parser). Definitions kept as typed (views, triggers) have their whitespace collapsed.

use sea_orm::{ConnectionTrait, DbErr};
use std::collections::BTreeMap;

use crate::backend::snapshot::{
    CheckConstraint, Column, ForeignKey, Index, PrimaryKey, SchemaSnapshot, Trigger,
    UniqueConstraint, View, column_list, flag, foreign_key_key, opt_text, query, text,
};

/// SQLite's own objects (`sqlite_sequence`, `sqlite_stat1`, `sqlite_autoindex_*`) are not ours.
const OURS: &str = "m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\'";

pub(crate) async fn read<C: ConnectionTrait>(conn: &C) -> Result<SchemaSnapshot, DbErr> {
    let mut s = SchemaSnapshot::default();
    let mut table_sql = BTreeMap::new();
    let mut index_sql = BTreeMap::new();
    let objects = query(
        conn,
        &format!("SELECT m.type AS kind, m.name AS name, m.tbl_name AS table_name, m.sql AS sql FROM sqlite_master m WHERE {OURS}"),
    )
    .await?;
    for row in objects {
        let name = text(&row, "name")?;
        let sql = opt_text(&row, "sql")?.unwrap_or_default();
        match text(&row, "kind")?.as_str() {
            "table" => {
                s.tables.insert(name.clone(), Default::default());
                table_sql.insert(name, sql);
            }
            "view" => {
                s.views.insert(
                    name,
                    View {
                        materialized: false,
                        definition: crate::backend::snapshot::squash(&sql),
                    },
                );
            }
            "trigger" => s.triggers.push(Trigger {
                table: text(&row, "table_name")?,
                name,
                definition: crate::backend::snapshot::squash(&sql),
            }),
            "index" => {
                index_sql.insert(name, sql);
            }
            _ => {}
        }
    }
    read_columns(conn, &mut s, &table_sql).await?;
    read_indexes(conn, &mut s, &table_sql, &index_sql).await?;
    read_foreign_keys(conn, &mut s, &table_sql).await?;
    for (name, sql) in &table_sql {
        if let Some(table) = s.tables.get_mut(name) {
            for check in checks(sql) {
                let key = check
                    .name
                    .clone()
                    .unwrap_or_else(|| check.expression.clone());
                table.check_constraints.insert(key, check);
            }
        }
    }
    Ok(s)
}

async fn read_columns<C: ConnectionTrait>(
    conn: &C,
    s: &mut SchemaSnapshot,
    table_sql: &BTreeMap<String, String>,
) -> Result<(), DbErr> {
    // `hidden` is 2 for a virtual generated column and 3 for a stored one.
    let sql = format!(
        "SELECT m.name AS table_name, p.name AS name, p.type AS data_type, p.\"notnull\" AS not_null, \
                p.dflt_value AS default_expr, p.pk AS pk, p.hidden AS hidden \
         FROM sqlite_master m JOIN pragma_table_xinfo(m.name) p \
         WHERE m.type = 'table' AND {OURS} ORDER BY m.name, p.cid"
    );
    let mut keys: BTreeMap<String, Vec<(i64, String)>> = BTreeMap::new();
    for row in query(conn, &sql).await? {
        let table_name = text(&row, "table_name")?;
        let Some(table) = s.tables.get_mut(&table_name) else {
            continue;
        };
        let name = text(&row, "name")?;
        let pk: i64 = row.try_get("", "pk")?;
        if pk > 0 {
            keys.entry(table_name.clone())
                .or_default()
                .push((pk, name.clone()));
        }
        let hidden: i64 = row.try_get("", "hidden")?;
        table.columns.push(Column {
            name,
            data_type: opt_text(&row, "data_type")?
                .unwrap_or_default()
                .to_ascii_lowercase(),
            nullable: !flag(&row, "not_null")?,
            default: opt_text(&row, "default_expr")?,
            auto_increment: false,
            generated: match hidden {
                2 => Some("virtual".to_owned()),
                3 => Some("stored".to_owned()),
                _ => None,
            },
            on_update: None,
        });
    }
    for (table_name, mut columns) in keys {
        let Some(table) = s.tables.get_mut(&table_name) else {
            continue;
        };
        columns.sort();
        let columns: Vec<String> = columns.into_iter().map(|(_, name)| name).collect();
        // AUTOINCREMENT is only allowed on a lone INTEGER PRIMARY KEY, so it names that column.
        if let [only] = columns.as_slice()
            && table_sql
                .get(&table_name)
                .is_some_and(|sql| has_word(sql, "AUTOINCREMENT"))
            && let Some(column) = table.columns.iter_mut().find(|c| &c.name == only)
        {
            column.auto_increment = true;
        }
        table.primary_key = Some(PrimaryKey {
            name: None,
            columns,
        });
    }
    Ok(())
}

async fn read_indexes<C: ConnectionTrait>(
    conn: &C,
    s: &mut SchemaSnapshot,
    table_sql: &BTreeMap<String, String>,
    index_sql: &BTreeMap<String, String>,
) -> Result<(), DbErr> {
    // `origin` is `pk` for a primary key's index, `u` for a UNIQUE constraint's and `c` for
    // CREATE INDEX. `cid` is -2 for an expression and -1 for the rowid.
    let sql = format!(
        "SELECT m.name AS table_name, il.name AS name, il.\"unique\" AS is_unique, il.origin AS origin, \
                il.partial AS partial, ix.name AS column_name, ix.cid AS cid, ix.\"desc\" AS is_desc \
         FROM sqlite_master m JOIN pragma_index_list(m.name) il JOIN pragma_index_xinfo(il.name) ix \
         WHERE m.type = 'table' AND {OURS} AND ix.key = 1 ORDER BY m.name, il.name, ix.seqno"
    );
    let mut uniques: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for row in query(conn, &sql).await? {
        let table_name = text(&row, "table_name")?;
        let Some(table) = s.tables.get_mut(&table_name) else {
            continue;
        };
        let name = text(&row, "name")?;
        let cid: i64 = row.try_get("", "cid")?;
        let mut column = match (opt_text(&row, "column_name")?, cid) {
            (Some(c), _) => c,
            (None, -1) => "rowid".to_owned(),
            (None, _) => "(expression)".to_owned(),
        };
        if flag(&row, "is_desc")? {
            column.push_str(" DESC");
        }
        match text(&row, "origin")?.as_str() {
            "pk" => {}
            "u" => uniques.entry((table_name, name)).or_default().push(column),
            _ => {
                let predicate = if flag(&row, "partial")? {
                    index_sql.get(&name).and_then(|sql| predicate(sql))
                } else {
                    None
                };
                let unique = flag(&row, "is_unique")?;
                table
                    .indexes
                    .entry(name)
                    .or_insert_with(|| Index {
                        columns: Vec::new(),
                        unique,
                        method: None,
                        predicate,
                    })
                    .columns
                    .push(column);
            }
        }
    }
    // The automatic index's name is positional: the constraint goes by the name written in the
    // table's SQL, or else by what it covers.
    for ((table_name, _), columns) in uniques {
        let name = table_sql.get(&table_name).and_then(|sql| {
            constraint_names(sql, &["UNIQUE"])
                .into_iter()
                .find(|(_, c)| *c == columns)
                .map(|(name, _)| name)
        });
        if let Some(table) = s.tables.get_mut(&table_name) {
            table.unique_constraints.insert(
                name.clone().unwrap_or_else(|| column_list(&columns)),
                UniqueConstraint { name, columns },
            );
        }
    }
    Ok(())
}

async fn read_foreign_keys<C: ConnectionTrait>(
    conn: &C,
    s: &mut SchemaSnapshot,
    table_sql: &BTreeMap<String, String>,
) -> Result<(), DbErr> {
    let sql = format!(
        "SELECT m.name AS table_name, f.id AS id, f.\"table\" AS referenced_table, f.\"from\" AS column_name, \
                f.\"to\" AS referenced_column, f.on_update AS on_update, f.on_delete AS on_delete \
         FROM sqlite_master m JOIN pragma_foreign_key_list(m.name) f \
         WHERE m.type = 'table' AND {OURS} ORDER BY m.name, f.id, f.seq"
    );
    let mut grouped: BTreeMap<(String, i64), ForeignKey> = BTreeMap::new();
    for row in query(conn, &sql).await? {
        let table_name = text(&row, "table_name")?;
        let id: i64 = row.try_get("", "id")?;
        let fk = grouped
            .entry((table_name, id))
            .or_insert_with(|| ForeignKey {
                name: None,
                columns: Vec::new(),
                referenced_table: String::new(),
                referenced_columns: Vec::new(),
                on_update: String::new(),
                on_delete: String::new(),
            });
        fk.referenced_table = text(&row, "referenced_table")?;
        fk.on_update = text(&row, "on_update")?;
        fk.on_delete = text(&row, "on_delete")?;
        fk.columns.push(text(&row, "column_name")?);
        // NULL when the key refers to the parent's primary key without naming it.
        if let Some(to) = opt_text(&row, "referenced_column")? {
            fk.referenced_columns.push(to);
        }
    }
    for ((table_name, _), mut fk) in grouped {
        if fk.referenced_columns.is_empty()
            && let Some(pk) = s
                .tables
                .get(&fk.referenced_table)
                .and_then(|t| t.primary_key.as_ref())
        {
            fk.referenced_columns = pk.columns.clone();
        }
        fk.name = table_sql.get(&table_name).and_then(|sql| {
            constraint_names(sql, &["FOREIGN", "KEY"])
                .into_iter()
                .find(|(_, c)| *c == fk.columns)
                .map(|(name, _)| name)
        });
        if let Some(table) = s.tables.get_mut(&table_name) {
            table.foreign_keys.insert(foreign_key_key(&fk), fk);
        }
    }
    Ok(())
}

/// What the scanner tells apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Word,
    QuotedName,
    Literal,
    Open,
    Close,
    Other,
}

#[derive(Debug, Clone, Copy)]
struct Token {
    kind: Kind,
    start: usize,
    end: usize,
}

/// Splits SQL into words, quoted names, string literals, parentheses and other characters,
/// skipping whitespace and comments.
fn tokens(sql: &str) -> Vec<Token> {
    let b = sql.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if c == b'-' && b.get(i + 1) == Some(&b'-') {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        if c == b'/' && b.get(i + 1) == Some(&b'*') {
            i += 2;
            while i < b.len() && !(b[i] == b'*' && b.get(i + 1) == Some(&b'/')) {
                i += 1;
            }
            i = (i + 2).min(b.len());
            continue;
        }
        let start = i;
        let kind = match c {
            b'\'' | b'"' | b'`' | b'[' => {
                let close = if c == b'[' { b']' } else { c };
                i += 1;
                while i < b.len() {
                    if b[i] == close {
                        // A doubled quote inside quotes stands for itself.
                        if close != b']' && b.get(i + 1) == Some(&close) {
                            i += 2;
                            continue;
                        }
                        i += 1;
                        break;
                    }
                    i += 1;
                }
                if c == b'\'' {
                    Kind::Literal
                } else {
                    Kind::QuotedName
                }
            }
            b'(' => {
                i += 1;
                Kind::Open
            }
            b')' => {
                i += 1;
                Kind::Close
            }
            c if c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80 => {
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] >= 0x80)
                {
                    i += 1;
                }
                Kind::Word
            }
            _ => {
                i += 1;
                Kind::Other
            }
        };
        out.push(Token {
            kind,
            start,
            end: i,
        });
    }
    out
}

fn is_word(sql: &str, token: &Token, word: &str) -> bool {
    token.kind == Kind::Word && sql[token.start..token.end].eq_ignore_ascii_case(word)
}

fn has_word(sql: &str, word: &str) -> bool {
    tokens(sql).iter().any(|t| is_word(sql, t, word))
}

/// A name as written, without its quotes.
fn unquote(name: &str) -> String {
    let (Some(first), Some(last)) = (name.chars().next(), name.chars().last()) else {
        return String::new();
    };
    match (first, last) {
        ('"', '"') | ('`', '`') if name.len() >= 2 => {
            let inner = &name[1..name.len() - 1];
            inner.replace(&format!("{first}{first}"), &first.to_string())
        }
        ('[', ']') if name.len() >= 2 => name[1..name.len() - 1].to_owned(),
        _ => name.to_owned(),
    }
}

/// Every `[CONSTRAINT name] CHECK (expression)` in a `CREATE TABLE`.
fn checks(sql: &str) -> Vec<CheckConstraint> {
    let toks = tokens(sql);
    let mut out = Vec::new();
    for (i, t) in toks.iter().enumerate() {
        if !is_word(sql, t, "CHECK") || toks.get(i + 1).is_none_or(|n| n.kind != Kind::Open) {
            continue;
        }
        let mut depth = 0usize;
        let mut close = None;
        for (j, u) in toks.iter().enumerate().skip(i + 1) {
            match u.kind {
                Kind::Open => depth += 1,
                Kind::Close => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        close = Some(j);
                        break;
                    }
                }
                _ => {}
            }
        }
        let Some(close) = close else { continue };
        let name = match (i.checked_sub(2).map(|k| &toks[k]), i.checked_sub(1)) {
            (Some(kw), Some(n)) if is_word(sql, kw, "CONSTRAINT") => {
                Some(unquote(&sql[toks[n].start..toks[n].end]))
            }
            _ => None,
        };
        out.push(CheckConstraint {
            name,
            expression: crate::backend::snapshot::squash(&sql[toks[i + 1].end..toks[close].start]),
        });
    }
    out
}

/// The names of table constraints written `CONSTRAINT name <keywords> (columns)`, with their
/// columns: SQLite keeps these names only in the `CREATE TABLE` text.
fn constraint_names(sql: &str, keywords: &[&str]) -> Vec<(String, Vec<String>)> {
    let toks = tokens(sql);
    let mut out = Vec::new();
    for (i, t) in toks.iter().enumerate() {
        if !is_word(sql, t, "CONSTRAINT") {
            continue;
        }
        let Some(name) = toks.get(i + 1) else {
            continue;
        };
        let open = i + 2 + keywords.len();
        let matches = keywords
            .iter()
            .enumerate()
            .all(|(k, w)| toks.get(i + 2 + k).is_some_and(|t| is_word(sql, t, w)));
        if !matches || toks.get(open).is_none_or(|t| t.kind != Kind::Open) {
            continue;
        }
        let mut columns = Vec::new();
        let mut depth = 0usize;
        let mut first_of_item = true;
        for u in &toks[open..] {
            match u.kind {
                Kind::Open => depth += 1,
                Kind::Close => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        break;
                    }
                }
                Kind::Other if depth == 1 && &sql[u.start..u.end] == "," => first_of_item = true,
                Kind::Word | Kind::QuotedName if depth == 1 && first_of_item => {
                    columns.push(unquote(&sql[u.start..u.end]));
                    first_of_item = false;
                }
                _ => {}
            }
        }
        out.push((unquote(&sql[name.start..name.end]), columns));
    }
    out
}

/// The condition after a `CREATE INDEX`'s top-level `WHERE`.
fn predicate(sql: &str) -> Option<String> {
    let mut depth = 0usize;
    for t in tokens(sql) {
        match t.kind {
            Kind::Open => depth += 1,
            Kind::Close => depth = depth.saturating_sub(1),
            _ if depth == 0 && is_word(sql, &t, "WHERE") => {
                return Some(crate::backend::snapshot::squash(&sql[t.end..]))
                    .filter(|p| !p.is_empty());
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_are_found_with_their_names_and_nested_parentheses() {
        let sql = r#"CREATE TABLE "t" ( "a" integer CHECK (a > 0), "b" text,
            CONSTRAINT "chk_b" CHECK (length(b) IN (1, 2)), -- CHECK (not this)
            c text DEFAULT 'CHECK (nor this)' )"#;
        let found = checks(sql);
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(found[0].name, None);
        assert_eq!(found[0].expression, "a > 0");
        assert_eq!(found[1].name.as_deref(), Some("chk_b"));
        assert_eq!(found[1].expression, "length(b) IN (1, 2)");
    }

    #[test]
    fn a_partial_index_predicate_is_the_text_after_its_top_level_where() {
        assert_eq!(
            predicate(r#"CREATE INDEX "i" ON "t" ("a") WHERE "b" IS NOT NULL"#).as_deref(),
            Some(r#""b" IS NOT NULL"#)
        );
        assert_eq!(predicate(r#"CREATE INDEX "where" ON "t" ("a")"#), None);
    }

    #[test]
    fn autoincrement_is_a_word_not_a_substring() {
        assert!(has_word(
            "CREATE TABLE t (id integer PRIMARY KEY AUTOINCREMENT)",
            "AUTOINCREMENT"
        ));
        assert!(!has_word(
            "CREATE TABLE t (\"autoincrement_flag\" integer, note text DEFAULT 'AUTOINCREMENT')",
            "AUTOINCREMENT"
        ));
    }

    #[test]
    fn constraint_names_are_read_with_their_columns() {
        let sql = r#"CREATE TABLE "pets" ( "id" integer, "owner_id" integer, "name" text,
            CONSTRAINT "uq_pets_owner_id_name" UNIQUE ("owner_id", "name" COLLATE nocase),
            CONSTRAINT fk_pets_owner FOREIGN KEY (owner_id) REFERENCES owners (id) )"#;
        assert_eq!(
            constraint_names(sql, &["UNIQUE"]),
            [(
                "uq_pets_owner_id_name".to_owned(),
                vec!["owner_id".to_owned(), "name".to_owned()]
            )]
        );
        assert_eq!(
            constraint_names(sql, &["FOREIGN", "KEY"]),
            [("fk_pets_owner".to_owned(), vec!["owner_id".to_owned()])]
        );
    }

    #[test]
    fn quoted_names_lose_their_quotes() {
        assert_eq!(unquote("\"a\"\"b\""), "a\"b");
        assert_eq!(unquote("`x`"), "x");
        assert_eq!(unquote("[y z]"), "y z");
        assert_eq!(unquote("plain"), "plain");
    }
}
