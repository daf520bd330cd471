//! Listing and dropping every object in the target schema, for `fresh`, and telling which of
//! them this project's migrations create.
//!
//! Tables and views are not all a migration leaves behind: PostgreSQL schemas also hold
//! functions, types, free-standing sequences and extensions, and MySQL databases hold stored
//! routines. `fresh` promises the state of an empty database, so it drops those too; objects that
//! belong to an extension go with their extension.
//!
//! Before it drops anything, `fresh` lists what it will drop and marks what no migration of the
//! project creates (a table someone made by hand, another application's data): [`MigrationObjects`]
//! reads that from the SQL the migrations run, and [`Listing`] prints it.

use std::collections::BTreeSet;
use std::fmt;

use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement};
use serde::Serialize;

/// What kind of object [`list_objects`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
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
    /// A PostgreSQL schema beside the current one that the project's migrations create,
    /// dropped with everything in it.
    Schema,
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
            ObjectKind::Schema => "SCHEMA",
        }
    }
}

impl ObjectKind {
    /// The kind a `CREATE`/`DROP`/`ALTER` keyword names, for the kinds [`list_objects`] lists.
    fn from_keyword(word: &str) -> Option<Self> {
        Some(match word {
            "VIEW" => ObjectKind::View,
            "TABLE" => ObjectKind::Table,
            "SEQUENCE" => ObjectKind::Sequence,
            "FUNCTION" => ObjectKind::Function,
            "PROCEDURE" => ObjectKind::Procedure,
            "TYPE" => ObjectKind::Type,
            "DOMAIN" => ObjectKind::Domain,
            "EXTENSION" => ObjectKind::Extension,
            "SCHEMA" => ObjectKind::Schema,
            _ => return None,
        })
    }

    /// The order listings show kinds in: tables first, as people look for them.
    pub(crate) fn rank(self) -> u8 {
        match self {
            ObjectKind::Table => 0,
            ObjectKind::View => 1,
            ObjectKind::Function => 2,
            ObjectKind::Procedure => 3,
            ObjectKind::Type => 4,
            ObjectKind::Domain => 5,
            ObjectKind::Sequence => 6,
            ObjectKind::Extension => 7,
            ObjectKind::Schema => 8,
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

impl Object {
    /// The schema `name` (unquoted), as `DROP SCHEMA` names it on `backend`.
    pub fn schema(backend: DbBackend, name: &str) -> Self {
        Object {
            kind: ObjectKind::Schema,
            name: quote(backend, name),
        }
    }
}

impl Object {
    /// The name as people read it: without quotes, and for PostgreSQL routines with their
    /// signature (`set_updated_at()`).
    pub fn display_name(&self) -> String {
        let (identifier, rest) = split_identifier(&self.name);
        format!("{identifier}{rest}")
    }

    /// The bare identifier, without quotes or signature: what SQL statements name it by.
    pub fn identifier(&self) -> String {
        split_identifier(&self.name).0
    }

    /// `table tenants`, `function set_updated_at()`: for messages.
    pub fn label(&self) -> String {
        format!("{} {}", self.kind, self.display_name())
    }

    /// The order listings show objects in: by kind (tables first), then by name.
    fn sort_key(&self) -> (u8, String) {
        (self.kind.rank(), self.display_name().to_ascii_lowercase())
    }
}

/// Splits a quoted (`"a""b"`, `` `a` ``) or bare name into its unquoted identifier and what
/// follows it (a PostgreSQL routine's signature).
fn split_identifier(name: &str) -> (String, &str) {
    let Some(quote) = name.chars().next().filter(|c| matches!(c, '"' | '`')) else {
        let end = name.find('(').unwrap_or(name.len());
        return (name[..end].to_owned(), &name[end..]);
    };
    let mut identifier = String::new();
    let mut chars = name.char_indices().skip(1).peekable();
    while let Some((i, c)) = chars.next() {
        if c == quote {
            if chars.peek().is_some_and(|&(_, next)| next == quote) {
                chars.next();
            } else {
                return (identifier, &name[i + c.len_utf8()..]);
            }
        }
        identifier.push(c);
    }
    (identifier, "")
}

fn quote(backend: DbBackend, name: &str) -> String {
    let q = super::capabilities(backend).quote;
    format!("{q}{}{q}", name.replace(q, &format!("{q}{q}")))
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
        .query_all_raw(Statement::from_string(
            backend,
            super::capabilities(backend).objects_query,
        ))
        .await?;
    let mut objects = Vec::with_capacity(rows.len());
    for row in rows {
        let label: String = row.try_get("", "kind")?;
        let name: String = row.try_get("", "name")?;
        let kind = kind_of(&label)
            .ok_or_else(|| DbErr::Custom(format!("unexpected object kind `{label}`")))?;
        // PostgreSQL names come back quoted (and routines with their signature).
        let name = if super::capabilities(backend).objects_quoted {
            name
        } else {
            quote(backend, &name)
        };
        objects.push(Object { kind, name });
    }
    Ok(objects)
}

/// The schemas beside the current one that a project's migrations may have created (PostgreSQL:
/// every schema that is not a system schema, not the current one and not an extension's); none
/// on the other backends, where a schema is a database. [`list_objects`] leaves them out: only
/// the ones the migrations create are the project's to drop ([`drop_schemas`]).
///
/// # Errors
/// The catalog query's error.
pub async fn list_schemas<C: ConnectionTrait>(conn: &C) -> Result<Vec<Object>, DbErr> {
    let backend = conn.get_database_backend();
    let Some(sql) = super::capabilities(backend).schemas_query else {
        return Ok(Vec::new());
    };
    let rows = conn
        .query_all_raw(Statement::from_string(backend, sql))
        .await?;
    rows.iter()
        .map(|row| {
            Ok(Object {
                kind: ObjectKind::Schema,
                name: row.try_get("", "name")?,
            })
        })
        .collect()
}

/// Drops `schemas` with everything in them, and returns them.
///
/// # Errors
/// The first failing statement's error.
pub async fn drop_schemas<C: ConnectionTrait>(
    conn: &C,
    schemas: Vec<Object>,
) -> Result<Vec<Object>, DbErr> {
    for schema in &schemas {
        conn.execute_unprepared(&format!("DROP SCHEMA IF EXISTS {} CASCADE", schema.name))
            .await?;
    }
    Ok(schemas)
}

/// Drops what [`list_objects`] lists, with foreign key checks off where the backend needs it,
/// and returns what it dropped.
///
/// # Errors
/// The first failing statement's error.
pub async fn drop_all<C: ConnectionTrait>(conn: &C) -> Result<Vec<Object>, DbErr> {
    let backend = conn.get_database_backend();
    let objects = list_objects(conn).await?;
    let capabilities = super::capabilities(backend);
    if let Some((off, _)) = capabilities.foreign_key_checks {
        conn.execute_unprepared(off).await?;
    }
    if capabilities.wipe_in_one_transaction {
        conn.execute_unprepared("BEGIN").await?;
    }
    let mut dropped = Vec::new();
    let mut result = Ok(());
    for object in objects {
        // IF EXISTS: a CASCADE may have taken this one along already.
        let cascade = if capabilities.drop_cascades {
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
    if capabilities.wipe_in_one_transaction {
        let end = if result.is_ok() { "COMMIT" } else { "ROLLBACK" };
        if let Err(e) = conn.execute_unprepared(end).await {
            result = result.and(Err(e));
        }
        if result.is_err() {
            dropped.clear();
        }
    }
    if let Some((_, on)) = capabilities.foreign_key_checks {
        conn.execute_unprepared(on).await?;
    }
    result.map(|()| dropped)
}

/// The objects a project's migrations create, read from the SQL they run.
///
/// An object counts as created by the migrations when it is what a `CREATE` statement creates
/// (or what a rename renames something to) in the `up` SQL the code's migrations render, or in
/// the `down` SQL the ledger stored when migrations were applied; in the stored SQL, what a
/// `DROP` drops counts too, since a `down` drops what its `up` created (and the ledger keeps the
/// `down` of migrations that are no longer in the code). Names are compared without quotes,
/// schema qualifiers or signatures, ignoring ASCII case, and with their kind (a table and a view
/// of one name are two objects).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MigrationObjects {
    names: BTreeSet<(ObjectKind, String)>,
}

impl MigrationObjects {
    /// From `up_sql`, the statements the code's migrations render for their `up`, and
    /// `stored_sql`, the `down` statements stored in the ledger.
    pub fn from_sql<A: AsRef<str>, B: AsRef<str>>(up_sql: &[A], stored_sql: &[B]) -> Self {
        let mut names = BTreeSet::new();
        for sql in up_sql {
            for (verb, kind, name) in statement_targets(sql.as_ref()) {
                if verb != Verb::Drop {
                    names.insert((kind, name.to_ascii_lowercase()));
                }
            }
        }
        for sql in stored_sql {
            for (_, kind, name) in statement_targets(sql.as_ref()) {
                names.insert((kind, name.to_ascii_lowercase()));
            }
        }
        Self { names }
    }

    /// Whether the migrations create `object`.
    pub fn creates(&self, object: &Object) -> bool {
        self.names
            .contains(&(object.kind, object.identifier().to_ascii_lowercase()))
    }
}

/// What a statement does to an object it names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verb {
    /// `CREATE`.
    Create,
    /// `DROP`.
    Drop,
    /// The new name of a rename.
    Rename,
}

/// One token of SQL, as far as naming objects goes.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    /// A keyword or a bare identifier, as written.
    Word(String),
    /// A quoted identifier (`"a"`, `` `a` ``), unquoted.
    Quoted(String),
    /// Any other character outside literals and comments.
    Punct(char),
}

/// Splits SQL into [`Token`]s, skipping whitespace, comments (`--`, `/* */`), string literals
/// (with `''` and `\'` inside) and PostgreSQL dollar-quoted bodies (`$$ … $$`, `$fn$ … $fn$`),
/// whose text is not a statement the migration runs.
fn tokenize(sql: &str) -> Vec<Token> {
    let chars: Vec<char> = sql.chars().collect();
    let at = |i: usize| chars.get(i).copied();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(c) = at(i) {
        match c {
            c if c.is_whitespace() => i += 1,
            '-' if at(i + 1) == Some('-') => {
                while at(i).is_some_and(|c| c != '\n') {
                    i += 1;
                }
            }
            '/' if at(i + 1) == Some('*') => {
                i += 2;
                while at(i).is_some() && !(at(i) == Some('*') && at(i + 1) == Some('/')) {
                    i += 1;
                }
                i += 2;
            }
            '\'' => {
                i += 1;
                while let Some(c) = at(i) {
                    match c {
                        '\\' => i += 2,
                        '\'' if at(i + 1) == Some('\'') => i += 2,
                        '\'' => {
                            i += 1;
                            break;
                        }
                        _ => i += 1,
                    }
                }
            }
            '"' | '`' => {
                let mut name = String::new();
                i += 1;
                while let Some(ch) = at(i) {
                    i += 1;
                    if ch == c {
                        if at(i) == Some(c) {
                            i += 1;
                        } else {
                            break;
                        }
                    }
                    name.push(ch);
                }
                out.push(Token::Quoted(name));
            }
            '$' => {
                let mut j = i + 1;
                while at(j).is_some_and(|c| c.is_alphanumeric() || c == '_') {
                    j += 1;
                }
                let is_tag = at(j) == Some('$') && !at(i + 1).is_some_and(|c| c.is_ascii_digit());
                if !is_tag {
                    out.push(Token::Punct('$'));
                    i += 1;
                    continue;
                }
                let tag = &chars[i..=j];
                let body = j + 1;
                let end = (body..chars.len())
                    .find(|&k| chars[k..].starts_with(tag))
                    .unwrap_or(chars.len());
                i = end + tag.len();
            }
            c if c.is_alphanumeric() || c == '_' => {
                let start = i;
                while at(i).is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$') {
                    i += 1;
                }
                out.push(Token::Word(chars[start..i].iter().collect()));
            }
            c => {
                out.push(Token::Punct(c));
                i += 1;
            }
        }
    }
    out
}

/// Words that may stand between `CREATE` (or `DROP`, `ALTER`) and the kind of object.
const MODIFIERS: [&str; 14] = [
    "OR",
    "REPLACE",
    "TEMP",
    "TEMPORARY",
    "UNLOGGED",
    "GLOBAL",
    "LOCAL",
    "MATERIALIZED",
    "RECURSIVE",
    "VIRTUAL",
    "FOREIGN",
    "TRUSTED",
    "PROCEDURAL",
    "AGGREGATE",
];

/// The uppercase keyword at `i`, if a bare word is there.
fn keyword(tokens: &[Token], i: usize) -> Option<String> {
    match tokens.get(i) {
        Some(Token::Word(w)) => Some(w.to_ascii_uppercase()),
        _ => None,
    }
}

/// The kind named after the verb at `i` (past modifiers and MySQL's `DEFINER = user`,
/// `ALGORITHM = x` and `SQL SECURITY x` clauses), and the index after its keyword; `None` for
/// statements about anything else (an index, a trigger, a column).
fn kind_after(tokens: &[Token], i: usize) -> Option<(ObjectKind, usize)> {
    let mut j = i + 1;
    loop {
        let word = keyword(tokens, j)?;
        if let Some(kind) = ObjectKind::from_keyword(&word) {
            return Some((kind, j + 1));
        }
        match word.as_str() {
            w if MODIFIERS.contains(&w) => j += 1,
            "DEFINER" | "ALGORITHM" => {
                // `= value`: a word or quoted name, `user@host`, or `CURRENT_USER()`.
                j += 1;
                if tokens.get(j) == Some(&Token::Punct('=')) {
                    j += 1;
                }
                if matches!(tokens.get(j), Some(Token::Word(_) | Token::Quoted(_))) {
                    j += 1;
                }
                if tokens.get(j) == Some(&Token::Punct('@')) {
                    j += 2;
                }
                if tokens.get(j) == Some(&Token::Punct('('))
                    && tokens.get(j + 1) == Some(&Token::Punct(')'))
                {
                    j += 2;
                }
            }
            "SQL" => j += 3,
            _ => return None,
        }
    }
}

/// Skips `IF`, `NOT`, `EXISTS` and `ONLY` from `i`.
fn skip_conditions(tokens: &[Token], mut i: usize) -> usize {
    while keyword(tokens, i).is_some_and(|w| matches!(w.as_str(), "IF" | "NOT" | "EXISTS" | "ONLY"))
    {
        i += 1;
    }
    i
}

/// The name at `i` without its schema qualifiers (`"app"."tenants"` is `tenants`), and the index
/// after it.
fn name_at(tokens: &[Token], mut i: usize) -> Option<(String, usize)> {
    let part = |t: Option<&Token>| match t {
        Some(Token::Word(w) | Token::Quoted(w)) => Some(w.clone()),
        _ => None,
    };
    let mut name = part(tokens.get(i))?;
    while tokens.get(i + 1) == Some(&Token::Punct('.')) {
        let Some(next) = part(tokens.get(i + 2)) else {
            break;
        };
        name = next;
        i += 2;
    }
    Some((name, i + 1))
}

/// Every object a piece of SQL (one statement or several) creates, drops or renames something
/// to, of the kinds [`list_objects`] lists, with its unquoted name.
fn statement_targets(sql: &str) -> Vec<(Verb, ObjectKind, String)> {
    let tokens = tokenize(sql);
    let mut out = Vec::new();
    // The kind of object the `ALTER` statement being read alters, for `RENAME TO`.
    let mut altering: Option<ObjectKind> = None;
    let mut i = 0;
    while i < tokens.len() {
        if tokens[i] == Token::Punct(';') {
            altering = None;
            i += 1;
            continue;
        }
        let Some(word) = keyword(&tokens, i) else {
            i += 1;
            continue;
        };
        match word.as_str() {
            "CREATE" | "DROP" => {
                let verb = if word == "CREATE" {
                    Verb::Create
                } else {
                    Verb::Drop
                };
                let Some((kind, after)) = kind_after(&tokens, i) else {
                    i += 1;
                    continue;
                };
                let mut j = skip_conditions(&tokens, after);
                while let Some((name, next)) = name_at(&tokens, j) {
                    out.push((verb, kind, name));
                    j = next;
                    // `DROP TABLE a, b`: a list of names.
                    if verb == Verb::Drop && tokens.get(j) == Some(&Token::Punct(',')) {
                        j += 1;
                    } else {
                        break;
                    }
                }
                i = j.max(i + 1);
            }
            "ALTER" => {
                // `ALTER TABLE a ALTER COLUMN b …` keeps the statement's kind.
                if let Some((kind, _)) = kind_after(&tokens, i) {
                    altering = Some(kind);
                }
                i += 1;
            }
            "RENAME" => {
                match keyword(&tokens, i + 1).as_deref() {
                    // `ALTER TABLE a RENAME TO b` (PostgreSQL, SQLite, MySQL).
                    Some("TO" | "AS") => {
                        if let (Some(kind), Some((name, _))) = (altering, name_at(&tokens, i + 2)) {
                            out.push((Verb::Rename, kind, name));
                        }
                    }
                    // `RENAME TABLE a TO b, c TO d` (MySQL).
                    Some("TABLE") => {
                        let mut j = i + 2;
                        while let Some((_, after)) = name_at(&tokens, j) {
                            if keyword(&tokens, after).as_deref() != Some("TO") {
                                break;
                            }
                            let Some((name, next)) = name_at(&tokens, after + 1) else {
                                break;
                            };
                            out.push((Verb::Rename, ObjectKind::Table, name));
                            j = next;
                            if tokens.get(j) == Some(&Token::Punct(',')) {
                                j += 1;
                            } else {
                                break;
                            }
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    out
}

/// One object `fresh` drops, as it is listed (and printed with `--format json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ListedObject {
    /// `table`, `view`, `function`, `procedure`, `type`, `domain`, `sequence` or `extension`.
    pub kind: ObjectKind,
    /// Its name without quotes; PostgreSQL routines with their signature (`set_updated_at()`).
    pub name: String,
    /// Whether a migration of the project creates it (see [`MigrationObjects`]).
    pub created_by_migrations: bool,
    /// Whether it is migration bookkeeping: the ledger and its companion tables, or SeaORM's
    /// `seaql_migrations`.
    pub ledger: bool,
}

impl fmt::Display for ListedObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind, self.name)
    }
}

/// The objects `fresh` drops, by kind (tables first) and name, each marked with where it comes
/// from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Listing {
    /// The objects, in listing order.
    pub objects: Vec<ListedObject>,
}

impl Listing {
    /// Lists `objects`, marking those `created` says the migrations create and those
    /// `is_ledger` says are migration bookkeeping.
    pub fn new(
        objects: &[Object],
        created: &MigrationObjects,
        is_ledger: impl Fn(&Object) -> bool,
    ) -> Self {
        let mut sorted: Vec<&Object> = objects.iter().collect();
        sorted.sort_by_key(|o| o.sort_key());
        Self {
            objects: sorted
                .into_iter()
                .map(|o| {
                    let ledger = is_ledger(o);
                    ListedObject {
                        kind: o.kind,
                        name: o.display_name(),
                        created_by_migrations: !ledger && created.creates(o),
                        ledger,
                    }
                })
                .collect(),
        }
    }

    /// How many objects.
    pub fn len(&self) -> usize {
        self.objects.len()
    }

    /// Whether there is nothing to drop.
    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }

    /// The objects that neither the migrations nor the ledger account for.
    pub fn foreign(&self) -> impl Iterator<Item = &ListedObject> {
        self.objects
            .iter()
            .filter(|o| !o.created_by_migrations && !o.ledger)
    }

    /// One line for a confirmation or a refusal: `29 object(s), 1 of them not created by any
    /// migration of this project (table precious)`.
    pub fn summary(&self) -> String {
        let foreign: Vec<String> = self.foreign().map(ToString::to_string).collect();
        let n = self.len();
        match foreign.len() {
            0 => format!("{n} object(s), each created by this project's migrations or its ledger"),
            k => {
                let mut named = foreign
                    .iter()
                    .take(5)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ");
                if k > 5 {
                    named.push_str(", …");
                }
                format!(
                    "{n} object(s), {k} of them not created by any migration of this project ({named})"
                )
            }
        }
    }
}

impl ListedObject {
    /// Which group of a listing it is printed in.
    fn group(&self) -> usize {
        match (self.ledger, self.created_by_migrations) {
            (true, _) => 2,
            (false, true) => 1,
            (false, false) => 0,
        }
    }
}

/// One line per object, indented, in groups: those no migration creates first, so they are seen
/// before they are gone; then the migrations' own; then the ledger.
impl fmt::Display for Listing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let titles = [
            "not created by any migration of this project",
            "created by this project's migrations",
            "the migration ledger",
        ];
        for (group, title) in titles.iter().enumerate() {
            let members: Vec<&ListedObject> =
                self.objects.iter().filter(|o| o.group() == group).collect();
            if members.is_empty() {
                continue;
            }
            writeln!(f, "  {title} ({}):", members.len())?;
            for o in members {
                writeln!(f, "    {o}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn targets(sql: &str) -> Vec<(Verb, ObjectKind, String)> {
        statement_targets(sql)
    }

    fn created(kind: ObjectKind, name: &str) -> (Verb, ObjectKind, String) {
        (Verb::Create, kind, name.to_owned())
    }

    fn object(kind: ObjectKind, name: &str) -> Object {
        Object {
            kind,
            name: name.to_owned(),
        }
    }

    #[test]
    fn postgres_statements_name_what_they_create() {
        use ObjectKind::*;
        assert_eq!(
            targets(
                r#"CREATE TABLE IF NOT EXISTS "tenants" ( "id" bigserial NOT NULL PRIMARY KEY, "name" varchar(100) NOT NULL )"#
            ),
            [created(Table, "tenants")]
        );
        assert_eq!(
            targets("CREATE EXTENSION IF NOT EXISTS pgcrypto"),
            [created(Extension, "pgcrypto")]
        );
        assert_eq!(
            targets(
                "CREATE OR REPLACE FUNCTION set_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$"
            ),
            [created(Function, "set_updated_at")]
        );
        assert_eq!(
            targets(r#"CREATE OR REPLACE VIEW "public"."available_timeslots" AS SELECT 1"#),
            [created(View, "available_timeslots")]
        );
        assert_eq!(
            targets("CREATE MATERIALIZED VIEW mv_daily AS SELECT 1"),
            [created(View, "mv_daily")]
        );
        assert_eq!(
            targets(r#"CREATE TYPE "booking_status" AS ENUM ('new', 'done')"#),
            [created(Type, "booking_status")]
        );
        assert_eq!(
            targets("create unlogged table Scratch (id int)"),
            [created(Table, "Scratch")]
        );
    }

    #[test]
    fn mysql_statements_name_what_they_create() {
        use ObjectKind::*;
        assert_eq!(
            targets(
                r"CREATE TABLE `users` ( `id` bigint NOT NULL AUTO_INCREMENT PRIMARY KEY, `note` varchar(20) DEFAULT 'it\'s' ) ENGINE=InnoDB"
            ),
            [created(Table, "users")]
        );
        assert_eq!(
            targets("CREATE DEFINER=`root`@`localhost` FUNCTION `fn_total`() RETURNS INT RETURN 1"),
            [created(Function, "fn_total")]
        );
        assert_eq!(
            targets(
                "CREATE OR REPLACE ALGORITHM=UNDEFINED DEFINER=CURRENT_USER() SQL SECURITY INVOKER VIEW `v_open` AS SELECT 1"
            ),
            [created(View, "v_open")]
        );
        assert_eq!(
            targets("CREATE PROCEDURE `app`.`archive`() BEGIN SELECT 1; END"),
            [created(Procedure, "archive")]
        );
    }

    #[test]
    fn sqlite_statements_name_what_they_create() {
        use ObjectKind::*;
        assert_eq!(
            targets(
                r#"CREATE TABLE "bookings" ( "id" integer NOT NULL PRIMARY KEY AUTOINCREMENT )"#
            ),
            [created(Table, "bookings")]
        );
        assert_eq!(
            targets("CREATE TEMP TABLE scratch (id)"),
            [created(Table, "scratch")]
        );
        assert_eq!(
            targets(r#"CREATE VIEW IF NOT EXISTS "daily" AS SELECT 1"#),
            [created(View, "daily")]
        );
        assert_eq!(
            targets(r#"CREATE TABLE "we""ird" (id)"#),
            [created(Table, "we\"ird")]
        );
    }

    #[test]
    fn indexes_triggers_columns_literals_bodies_and_comments_name_nothing() {
        for sql in [
            r#"CREATE INDEX "idx_bookings_status" ON "bookings" ("status")"#,
            "CREATE UNIQUE INDEX `ux` ON `t` (`a`)",
            r#"CREATE TRIGGER trg BEFORE UPDATE ON "tenants" FOR EACH ROW EXECUTE FUNCTION set_updated_at()"#,
            r#"CREATE TRIGGER IF NOT EXISTS trg AFTER UPDATE ON "x" BEGIN UPDATE "x" SET a = 1; END"#,
            "ALTER TABLE `t` DROP COLUMN `x`, DROP INDEX `i`",
            r#"ALTER TABLE "t" ALTER COLUMN "a" TYPE text"#,
            "INSERT INTO notes (body) VALUES ('CREATE TABLE not_a_table (id int)')",
            "-- CREATE TABLE commented_out (id int)\nSELECT 1",
            "/* CREATE VIEW v AS SELECT 1 */ SELECT 1",
            "SELECT $body$ CREATE TABLE inside_a_body (id int) $body$",
        ] {
            assert_eq!(targets(sql), [], "{sql}");
        }
        // A schema is an object `fresh` drops when the migrations create it.
        assert_eq!(
            targets("CREATE SCHEMA IF NOT EXISTS app"),
            [(Verb::Create, ObjectKind::Schema, "app".to_owned())]
        );
        // Inside a function body the rest of the statement still counts.
        assert_eq!(
            targets(
                "CREATE FUNCTION f() RETURNS int AS $$ CREATE TABLE no (id int) $$ LANGUAGE sql"
            ),
            [created(ObjectKind::Function, "f")]
        );
    }

    #[test]
    fn several_statements_in_one_string_each_count() {
        use ObjectKind::*;
        assert_eq!(
            targets(
                "CREATE TABLE a (id int); CREATE VIEW b AS SELECT 1;\nCREATE TABLE `c` (id int)"
            ),
            [created(Table, "a"), created(View, "b"), created(Table, "c")]
        );
    }

    #[test]
    fn renames_name_the_new_object_and_column_renames_nothing() {
        use ObjectKind::*;
        let renamed = |kind, name: &str| (Verb::Rename, kind, name.to_owned());
        assert_eq!(
            targets(r#"ALTER TABLE "old_name" RENAME TO "new_name""#),
            [renamed(Table, "new_name")]
        );
        assert_eq!(
            targets("RENAME TABLE `a` TO `b`, `c` TO `d`"),
            [renamed(Table, "b"), renamed(Table, "d")]
        );
        assert_eq!(
            targets(r#"ALTER VIEW v RENAME TO "v2""#),
            [renamed(View, "v2")]
        );
        assert_eq!(targets(r#"ALTER TABLE "t" RENAME COLUMN "a" TO "b""#), []);
        assert_eq!(targets(r#"ALTER TABLE "t" RENAME "a" TO "b""#), []);
    }

    #[test]
    fn drops_name_every_object_of_their_list() {
        use ObjectKind::*;
        let dropped = |kind, name: &str| (Verb::Drop, kind, name.to_owned());
        assert_eq!(
            targets(r#"DROP TABLE IF EXISTS "legacy_a", "public"."legacy_b" CASCADE"#),
            [dropped(Table, "legacy_a"), dropped(Table, "legacy_b")]
        );
        assert_eq!(
            targets("DROP FUNCTION IF EXISTS legacy_fn()"),
            [dropped(Function, "legacy_fn")]
        );
        assert_eq!(targets("DROP VIEW `v_old`"), [dropped(View, "v_old")]);
    }

    #[test]
    fn the_migrations_create_what_their_ups_create_and_their_stored_downs_drop() {
        let up = [
            r#"CREATE TABLE "tenants" (id int)"#.to_owned(),
            "CREATE FUNCTION set_updated_at() RETURNS trigger AS $$ $$".to_owned(),
            // An `up` that drops a table does not make that table the migrations' own.
            "DROP TABLE imported".to_owned(),
        ];
        let stored = ["DROP TABLE IF EXISTS `legacy`".to_owned()];
        let made = MigrationObjects::from_sql(&up, &stored);
        use ObjectKind::*;
        assert!(made.creates(&object(Table, "tenants")));
        assert!(
            made.creates(&object(Table, "\"TENANTS\"")),
            "ASCII case is ignored"
        );
        assert!(made.creates(&object(Table, "`tenants`")));
        assert!(made.creates(&object(Function, "set_updated_at()")));
        assert!(
            made.creates(&object(Table, "legacy")),
            "dropped by a stored down"
        );
        assert!(!made.creates(&object(Table, "imported")));
        assert!(!made.creates(&object(View, "tenants")), "kinds must match");
        assert!(!made.creates(&object(Table, "\"precious\"")));
    }

    #[test]
    fn names_come_out_of_their_quotes_with_signatures_kept() {
        use ObjectKind::*;
        let o = object(Table, "\"we\"\"ird\"");
        assert_eq!(
            (o.identifier(), o.display_name()),
            ("we\"ird".into(), "we\"ird".into())
        );
        let o = object(Table, "`a``b`");
        assert_eq!(o.identifier(), "a`b");
        let o = object(Function, "set_updated_at()");
        assert_eq!(o.identifier(), "set_updated_at");
        assert_eq!(o.label(), "function set_updated_at()");
        let o = object(Function, "\"Odd(name\"(integer)");
        assert_eq!(
            (o.identifier(), o.display_name()),
            ("Odd(name".into(), "Odd(name(integer)".into())
        );
    }

    #[test]
    fn a_listing_shows_what_no_migration_created_first() {
        use ObjectKind::*;
        let objects = [
            object(View, "\"available_timeslots\""),
            object(Table, "\"tenants\""),
            object(Table, "\"schema_migrations\""),
            object(Table, "\"precious\""),
            object(Table, "\"bookings\""),
        ];
        let made = MigrationObjects::from_sql(
            &[
                "CREATE TABLE tenants (id int)",
                "CREATE TABLE bookings (id int)",
                "CREATE VIEW available_timeslots AS SELECT 1",
            ],
            &[] as &[&str],
        );
        let listing = Listing::new(&objects, &made, |o| o.identifier() == "schema_migrations");
        assert_eq!(
            listing.to_string(),
            "  not created by any migration of this project (1):\n    table precious\n  \
             created by this project's migrations (3):\n    table bookings\n    table tenants\n    \
             view available_timeslots\n  the migration ledger (1):\n    table schema_migrations\n"
        );
        assert_eq!(
            listing.summary(),
            "5 object(s), 1 of them not created by any migration of this project (table precious)"
        );
        let json = serde_json::to_value(&listing).unwrap_or_default();
        assert_eq!(
            json[0],
            serde_json::json!({
                "kind": "table",
                "name": "bookings",
                "created_by_migrations": true,
                "ledger": false
            })
        );
        assert_eq!(json[1]["name"], "precious");
        assert_eq!(json[1]["created_by_migrations"], false);
    }
}
