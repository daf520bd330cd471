//! A database's schema as a comparable value: tables with their columns, keys, constraints and
//! indexes; views; triggers; and functions, sequences, types, extensions and schemas where the
//! backend has them. `migrate schema` prints it and `migrate verify` compares it before and after each
//! migration's `down` ([`crate::schema::diff`]).
//!
//! ## How it is read
//! Each backend is read with catalog queries (`pg_catalog` on PostgreSQL, `information_schema` on
//! MySQL/MariaDB, `sqlite_master` with the `pragma_*` table-valued functions on SQLite), not with
//! sea-schema's discovery. sea-schema 0.18 reads tables, columns, indexes and foreign keys, but
//! not views, triggers, functions, sequences or extensions, and it wants a raw sqlx pool rather
//! than a SeaORM connection. One set of queries per backend covers every object kind and lets each
//! be normalised the same way.
//!
//! ## What is normalised
//! - Everything is sorted by name (maps) or by a stated key (triggers by table, then name), so two
//!   snapshots of equal schemas are equal with `==` and print identically. Columns keep their
//!   position order, and index and key columns their key order, because both matter.
//! - Constraints without a name (on SQLite, unique and foreign key constraints declared without
//!   `CONSTRAINT name`; unnamed checks) are keyed by what they cover, e.g. `(email)` or
//!   `(account_id) -> accounts (id)`. SQLite's `sqlite_autoindex_*` indexes are reported as the
//!   unique constraints they implement, never under their positional names; the ones behind
//!   primary keys are left out.
//! - Indexes that back a primary key or a unique constraint appear once, as that key or
//!   constraint. MySQL/MariaDB make no difference between a unique constraint and a unique index,
//!   so there every unique key is an index with `unique: true`.
//! - MariaDB's `NULL` default of nullable columns reads as no default; MySQL/MariaDB view
//!   definitions lose their `` `database`. `` qualifiers, so a schema reads the same in any
//!   database.
//! - PostgreSQL objects that belong to an extension (pgcrypto's functions, say) are left out:
//!   the extension itself stands for them.
//! - On PostgreSQL every schema migrations can create objects in is read: the current schema and
//!   every other one that is neither a system schema nor an extension's. Objects in the current
//!   schema keep their bare names (`accounts`, `touch()`); the others are named with their schema
//!   (`timeseries.measurements`, `timeseries.create_partitions(...)`), and so are the tables they
//!   are named by (a trigger's, an index's, a foreign key's referenced table, a sequence's
//!   owner). The other schemas themselves are listed in [`SchemaSnapshot::schemas`].
//!
//! ## What is left out
//! The engine's ledger: the migration table, every table whose name starts with it and `_`
//! (its `_history` companion and any later one), and SeaORM's `seaql_migrations`; on PostgreSQL,
//! where the ledger lives in a schema of its own (`--migration-schema`), that schema too while
//! it holds nothing but the ledger. Data, sequence positions, statistics, privileges and
//! comments are not part of a schema snapshot.

use sea_orm::{ConnectionTrait, DbBackend, DbErr, QueryResult, Statement};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;

use crate::backend;
use crate::error::{EngineError, Result};

/// Everything the schema of one database holds that migrations create (PostgreSQL: its current
/// schema and the other schemas that are neither the system's nor an extension's).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SchemaSnapshot {
    /// `postgres`, `mysql` or `sqlite`.
    pub backend: String,
    /// PostgreSQL's schemas other than the current one, by name: those that are not system
    /// schemas (`pg_catalog`, `information_schema`, `pg_toast`, temporary ones) and not created
    /// by an extension. Objects in them are named `schema.name`. Left out of the JSON when empty,
    /// as on the other backends, which have one namespace per database.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub schemas: BTreeMap<String, Schema>,
    /// Base tables by name.
    pub tables: BTreeMap<String, Table>,
    /// Views (and PostgreSQL materialized views) by name.
    pub views: BTreeMap<String, View>,
    /// Triggers, sorted by table and then name (PostgreSQL names triggers per table).
    pub triggers: Vec<Trigger>,
    /// Functions and procedures by name; on PostgreSQL by `name(argument types)`, since names
    /// can be overloaded there.
    pub functions: BTreeMap<String, Function>,
    /// Sequences by name (PostgreSQL; MariaDB by name only).
    pub sequences: BTreeMap<String, Sequence>,
    /// User-defined types by name (PostgreSQL: enums, domains, composite and range types).
    pub types: BTreeMap<String, UserType>,
    /// Installed extensions by name (PostgreSQL).
    pub extensions: BTreeMap<String, Extension>,
}

/// One base table.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Table {
    /// In position order.
    pub columns: Vec<Column>,
    /// The primary key, if the table has one.
    pub primary_key: Option<PrimaryKey>,
    /// By name, or by `(columns) -> table (columns)` where the backend keeps no name.
    pub foreign_keys: BTreeMap<String, ForeignKey>,
    /// By name, or by `(columns)` where the backend keeps no name.
    pub unique_constraints: BTreeMap<String, UniqueConstraint>,
    /// By name, or by expression where the constraint has no name.
    pub check_constraints: BTreeMap<String, CheckConstraint>,
    /// By name; indexes behind a primary key or a unique constraint are not repeated here.
    pub indexes: BTreeMap<String, Index>,
}

impl Table {
    /// The column called `name`.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }
}

/// One column, as the backend reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Column {
    /// Its name.
    pub name: String,
    /// The type as the backend spells it (`character varying(255)`, `bigint(20)`, `varchar(255)`).
    #[serde(rename = "type")]
    pub data_type: String,
    /// Whether it accepts NULL.
    pub nullable: bool,
    /// The default expression as the backend prints it; `None` when there is none.
    pub default: Option<String>,
    /// Filled in by the database: identity, serial, `AUTO_INCREMENT` or `AUTOINCREMENT`.
    pub auto_increment: bool,
    /// The generation expression and kind of a generated column (SQLite: the kind only).
    pub generated: Option<String>,
    /// MySQL/MariaDB's `ON UPDATE` expression (e.g. `current_timestamp()`); `None` elsewhere.
    pub on_update: Option<String>,
}

/// A primary key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PrimaryKey {
    /// Its constraint name on PostgreSQL; MySQL always says `PRIMARY` and SQLite keeps none.
    pub name: Option<String>,
    /// In key order.
    pub columns: Vec<String>,
}

/// A foreign key with its referential actions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ForeignKey {
    /// Its constraint name; `None` on SQLite, which does not keep one.
    pub name: Option<String>,
    /// Referencing columns, in key order.
    pub columns: Vec<String>,
    /// The table referred to (on PostgreSQL `schema.table` outside the current schema).
    pub referenced_table: String,
    /// The columns referred to, in key order.
    pub referenced_columns: Vec<String>,
    /// `NO ACTION`, `RESTRICT`, `CASCADE`, `SET NULL` or `SET DEFAULT`.
    pub on_update: String,
    /// As `on_update`.
    pub on_delete: String,
}

/// A unique constraint (PostgreSQL, SQLite).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UniqueConstraint {
    /// Its constraint name; `None` on SQLite.
    pub name: Option<String>,
    /// In key order.
    pub columns: Vec<String>,
}

/// A check constraint (on PostgreSQL also an exclusion constraint).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckConstraint {
    /// Its name, where it has one.
    pub name: Option<String>,
    /// The condition as the backend prints it.
    pub expression: String,
}

/// An index that is not a primary key or unique constraint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Index {
    /// Key columns or expressions in key order, with ` DESC` and MySQL prefix lengths.
    pub columns: Vec<String>,
    /// Whether it is a unique index.
    pub unique: bool,
    /// The access method (`btree`, `gin`, `fulltext`, ...) where the backend reports one.
    pub method: Option<String>,
    /// The `WHERE` of a partial index.
    pub predicate: Option<String>,
}

/// A view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct View {
    /// A PostgreSQL materialized view.
    pub materialized: bool,
    /// The query as the backend prints it back.
    pub definition: String,
}

/// A trigger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Trigger {
    /// The table (or view) it fires on, named as tables are.
    pub table: String,
    /// Its name.
    pub name: String,
    /// The full definition as the backend prints it back.
    pub definition: String,
}

/// A stored function or procedure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Function {
    /// `function`, `procedure`, `aggregate` or `window`.
    pub kind: String,
    /// The result type, for functions.
    pub returns: Option<String>,
    /// The definition as the backend prints it back (PostgreSQL aggregates have none).
    pub definition: Option<String>,
}

/// A sequence. Its current position is data and is not part of the snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Sequence {
    /// The integer type.
    pub data_type: Option<String>,
    /// First value.
    pub start: Option<i64>,
    /// Step.
    pub increment: Option<i64>,
    /// Lowest value.
    pub min_value: Option<i64>,
    /// Highest value.
    pub max_value: Option<i64>,
    /// Whether it wraps around.
    pub cycle: Option<bool>,
    /// `table.column` of the column that owns it (serial and identity columns); the table named
    /// as tables are, so `schema.table.column` outside PostgreSQL's current schema.
    pub owned_by: Option<String>,
}

impl Sequence {
    /// One line naming every property, for display and comparison.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(t) = &self.data_type {
            parts.push(t.clone());
        }
        for (word, value) in [
            ("start", self.start),
            ("increment", self.increment),
            ("min", self.min_value),
            ("max", self.max_value),
        ] {
            if let Some(v) = value {
                parts.push(format!("{word} {v}"));
            }
        }
        match self.cycle {
            Some(true) => parts.push("cycle".to_owned()),
            Some(false) => parts.push("no cycle".to_owned()),
            None => {}
        }
        if let Some(owner) = &self.owned_by {
            parts.push(format!("owned by {owner}"));
        }
        if parts.is_empty() {
            "sequence".to_owned()
        } else {
            parts.join(" ")
        }
    }
}

/// A user-defined type (PostgreSQL).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserType {
    /// `enum`, `domain`, `composite` or `range`.
    pub kind: String,
    /// Enum labels in order, a domain's base type and constraints, a composite's attributes or
    /// a range's subtype.
    pub definition: String,
}

/// A PostgreSQL schema other than the current one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Schema {
    /// The role that owns it.
    pub owner: String,
}

/// An installed extension (PostgreSQL).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Extension {
    /// Installed version.
    pub version: String,
    /// The schema holding its objects.
    pub schema: String,
}

/// SeaORM's tracking table: bookkeeping, like the ledger, and never part of a schema.
pub const SEAQL_TABLE: &str = "seaql_migrations";

/// Whether `name` is one of the engine's ledger tables for a ledger called `ledger_table`, or
/// SeaORM's own `seaql_migrations`.
pub fn is_ledger_table(name: &str, ledger_table: &str) -> bool {
    name == ledger_table
        || name == SEAQL_TABLE
        || name
            .strip_prefix(ledger_table)
            .is_some_and(|rest| rest.starts_with('_'))
}

/// Reads the schema the connection works in (PostgreSQL: its current schema and the other
/// schemas migrations can create objects in; MySQL/MariaDB: its database; SQLite: its main
/// database), leaving out the ledger of a ledger called `ledger_table` in the current schema.
/// Reads only.
///
/// # Errors
/// [`EngineError::Database`] when a catalog query fails.
pub async fn read<C: ConnectionTrait>(conn: &C, ledger_table: &str) -> Result<SchemaSnapshot> {
    read_beside_ledger(conn, None, ledger_table).await
}

/// As [`read`], for a ledger called `ledger_table` in the PostgreSQL schema `ledger_schema`
/// (`None`: the current schema). A ledger schema other than the current one is left out while
/// it holds nothing but the ledger: the engine created it for the ledger. Other backends ignore
/// `ledger_schema`.
///
/// # Errors
/// [`EngineError::Database`] when a catalog query fails.
pub async fn read_beside_ledger<C: ConnectionTrait>(
    conn: &C,
    ledger_schema: Option<&str>,
    ledger_table: &str,
) -> Result<SchemaSnapshot> {
    let backend = conn.get_database_backend();
    let mut snapshot = match backend {
        DbBackend::Postgres => super::postgres::snapshot::read(conn).await,
        DbBackend::MySql => super::mysql::snapshot::read(conn).await,
        _ => super::sqlite::snapshot::read(conn).await,
    }
    .map_err(EngineError::db("reading the schema"))?;
    snapshot.backend = backend::name(backend).to_owned();
    let ledger_schema = ledger_schema.filter(|_| backend == DbBackend::Postgres);
    snapshot.retain_ours(ledger_schema, ledger_table);
    Ok(snapshot)
}

/// The table part of a sequence's `owned_by` (`table.column`, `schema.table.column`).
pub(crate) fn owning_table(owned_by: &str) -> Option<&str> {
    owned_by.rsplit_once('.').map(|(table, _)| table)
}

impl SchemaSnapshot {
    /// Drops the ledger tables and what hangs off them, and the ledger's own schema while it
    /// holds nothing else.
    fn retain_ours(&mut self, ledger_schema: Option<&str>, ledger_table: &str) {
        // The ledger in a schema other than the current one reads as `schema.table`.
        let prefix = ledger_schema
            .filter(|schema| self.schemas.contains_key(*schema))
            .map(|schema| format!("{schema}."));
        let ours = |name: &str| {
            let in_ledger_schema = prefix
                .as_deref()
                .and_then(|p| name.strip_prefix(p))
                .is_some_and(|bare| is_ledger_table(bare, ledger_table));
            !in_ledger_schema && !is_ledger_table(name, ledger_table)
        };
        self.tables.retain(|name, _| ours(name));
        self.triggers.retain(|t| ours(&t.table));
        self.sequences.retain(|_, s| {
            s.owned_by
                .as_deref()
                .and_then(owning_table)
                .is_none_or(&ours)
        });
        self.triggers
            .sort_by(|a, b| (&a.table, &a.name).cmp(&(&b.table, &b.name)));
        if let (Some(schema), Some(prefix)) = (ledger_schema, &prefix)
            && !self.names().any(|name| name.starts_with(prefix.as_str()))
        {
            self.schemas.remove(schema);
        }
    }

    /// The names of every table, view, trigger's table, function, sequence and type.
    fn names(&self) -> impl Iterator<Item = &str> {
        self.tables
            .keys()
            .chain(self.views.keys())
            .chain(self.triggers.iter().map(|t| &t.table))
            .chain(self.functions.keys())
            .chain(self.sequences.keys())
            .chain(self.types.keys())
            .map(String::as_str)
    }

    /// The table called `name`.
    pub fn table(&self, name: &str) -> Option<&Table> {
        self.tables.get(name)
    }

    /// `name` as `(schema, name)`: the schema of [`SchemaSnapshot::schemas`] it is qualified
    /// with (the longest, should one schema's name be a prefix of another's), or `None` for an
    /// object of the current schema, named bare.
    pub fn split_name<'a>(&self, name: &'a str) -> (Option<&'a str>, &'a str) {
        self.schemas
            .keys()
            .filter_map(|schema| {
                let bare = name.strip_prefix(schema.as_str())?.strip_prefix('.')?;
                Some((&name[..schema.len()], bare))
            })
            .max_by_key(|(schema, _)| schema.len())
            .map_or((None, name), |(schema, bare)| (Some(schema), bare))
    }

    /// Whether it holds no object at all (extensions aside, which PostgreSQL databases are
    /// created with).
    pub fn is_empty(&self) -> bool {
        self.schemas.is_empty()
            && self.tables.is_empty()
            && self.views.is_empty()
            && self.triggers.is_empty()
            && self.functions.is_empty()
            && self.sequences.is_empty()
            && self.types.is_empty()
    }
}

/// `(a, b)`: how column lists read in keys and messages.
pub(crate) fn column_list(columns: &[String]) -> String {
    format!("({})", columns.join(", "))
}

/// The key of a foreign key without a name.
pub(crate) fn foreign_key_key(fk: &ForeignKey) -> String {
    fk.name.clone().unwrap_or_else(|| {
        format!(
            "{} -> {} {}",
            column_list(&fk.columns),
            fk.referenced_table,
            column_list(&fk.referenced_columns)
        )
    })
}

/// Collapses runs of whitespace to one space, for definitions stored as they were typed.
pub(crate) fn squash(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Runs a catalog query without parameters.
pub(crate) async fn query<C: ConnectionTrait>(
    conn: &C,
    sql: &str,
) -> std::result::Result<Vec<QueryResult>, DbErr> {
    conn.query_all_raw(Statement::from_string(conn.get_database_backend(), sql))
        .await
}

/// A text column.
pub(crate) fn text(row: &QueryResult, column: &str) -> std::result::Result<String, DbErr> {
    row.try_get("", column)
}

/// A nullable text column; empty text reads as absent, as MySQL reports some absent values.
pub(crate) fn opt_text(
    row: &QueryResult,
    column: &str,
) -> std::result::Result<Option<String>, DbErr> {
    Ok(row
        .try_get::<Option<String>>("", column)?
        .filter(|s| !s.is_empty()))
}

/// An integer column that drivers may hand back as a boolean or an integer.
pub(crate) fn flag(row: &QueryResult, column: &str) -> std::result::Result<bool, DbErr> {
    row.try_get::<bool>("", column)
        .or_else(|_| row.try_get::<i64>("", column).map(|v| v != 0))
}

impl fmt::Display for SchemaSnapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() && self.extensions.is_empty() {
            return writeln!(f, "The schema is empty.");
        }
        for (name, schema) in &self.schemas {
            writeln!(f, "schema {name} owned by {}", schema.owner)?;
        }
        for (name, table) in &self.tables {
            writeln!(f, "table {name}")?;
            write!(f, "{table}")?;
        }
        for (name, view) in &self.views {
            let kind = if view.materialized {
                "materialized view"
            } else {
                "view"
            };
            writeln!(f, "{kind} {name}")?;
            writeln!(f, "  {}", squash(&view.definition))?;
        }
        for t in &self.triggers {
            writeln!(f, "trigger {} on {}", t.name, t.table)?;
            writeln!(f, "  {}", squash(&t.definition))?;
        }
        for (name, function) in &self.functions {
            write!(f, "{} {name}", function.kind)?;
            if let Some(returns) = &function.returns {
                write!(f, " returns {returns}")?;
            }
            writeln!(f)?;
        }
        for (name, sequence) in &self.sequences {
            writeln!(f, "sequence {name}: {}", sequence.describe())?;
        }
        for (name, t) in &self.types {
            writeln!(f, "type {name}: {} {}", t.kind, t.definition)?;
        }
        for (name, e) in &self.extensions {
            writeln!(f, "extension {name} {} in {}", e.version, e.schema)?;
        }
        Ok(())
    }
}

impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in &self.columns {
            write!(f, "  column {} {}", c.name, c.data_type)?;
            write!(f, "{}", if c.nullable { " null" } else { " not null" })?;
            if let Some(d) = &c.default {
                write!(f, " default {d}")?;
            }
            if c.auto_increment {
                write!(f, " auto-increment")?;
            }
            if let Some(g) = &c.generated {
                write!(f, " generated {g}")?;
            }
            if let Some(u) = &c.on_update {
                write!(f, " on update {u}")?;
            }
            writeln!(f)?;
        }
        if let Some(pk) = &self.primary_key {
            write!(f, "  primary key")?;
            if let Some(name) = &pk.name {
                write!(f, " {name}")?;
            }
            writeln!(f, " {}", column_list(&pk.columns))?;
        }
        let named =
            |name: &Option<String>| name.as_ref().map(|n| format!(" {n}")).unwrap_or_default();
        for fk in self.foreign_keys.values() {
            writeln!(
                f,
                "  foreign key{} {} references {} {} on update {} on delete {}",
                named(&fk.name),
                column_list(&fk.columns),
                fk.referenced_table,
                column_list(&fk.referenced_columns),
                fk.on_update,
                fk.on_delete
            )?;
        }
        for u in self.unique_constraints.values() {
            writeln!(
                f,
                "  unique constraint{} {}",
                named(&u.name),
                column_list(&u.columns)
            )?;
        }
        for c in self.check_constraints.values() {
            writeln!(f, "  check constraint{} {}", named(&c.name), c.expression)?;
        }
        for (name, i) in &self.indexes {
            let unique = if i.unique { "unique index" } else { "index" };
            write!(f, "  {unique} {name} {}", column_list(&i.columns))?;
            if let Some(m) = &i.method {
                write!(f, " using {m}")?;
            }
            if let Some(p) = &i.predicate {
                write!(f, " where {p}")?;
            }
            writeln!(f)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ledger_its_companions_and_seaql_migrations_are_not_ours() {
        for name in [
            "schema_migrations",
            "schema_migrations_history",
            "schema_migrations_lock",
            "seaql_migrations",
        ] {
            assert!(is_ledger_table(name, "schema_migrations"), "{name}");
        }
        for name in ["schema_migration", "schema_migrationsx", "bookings"] {
            assert!(!is_ledger_table(name, "schema_migrations"), "{name}");
        }
    }

    fn schema(owner: &str) -> Schema {
        Schema {
            owner: owner.to_owned(),
        }
    }

    #[test]
    fn a_qualified_name_splits_at_the_longest_schema_it_starts_with() {
        let mut s = SchemaSnapshot::default();
        s.schemas.insert("app".to_owned(), schema("postgres"));
        s.schemas.insert("app.v2".to_owned(), schema("postgres"));
        assert_eq!(s.split_name("accounts"), (None, "accounts"));
        assert_eq!(s.split_name("app.accounts"), (Some("app"), "accounts"));
        assert_eq!(
            s.split_name("app.v2.accounts"),
            (Some("app.v2"), "accounts")
        );
        // A dot in a bare name is no schema unless one of that name was read.
        assert_eq!(s.split_name("apple.x"), (None, "apple.x"));
    }

    #[test]
    fn a_sequence_is_owned_by_the_table_before_its_last_dot() {
        assert_eq!(owning_table("accounts.id"), Some("accounts"));
        assert_eq!(owning_table("app.accounts.id"), Some("app.accounts"));
        assert_eq!(owning_table("orphan"), None);
    }

    #[test]
    fn a_ledger_in_a_schema_of_its_own_is_left_out_with_that_schema() {
        let mut s = SchemaSnapshot::default();
        s.schemas.insert("ops".to_owned(), schema("postgres"));
        s.schemas.insert("app".to_owned(), schema("postgres"));
        for name in [
            "ops.schema_migrations",
            "ops.schema_migrations_history",
            "app.schema_migrations",
            "accounts",
        ] {
            s.tables.insert(name.to_owned(), Table::default());
        }
        let mut only_ledger = s.clone();
        only_ledger.retain_ours(Some("ops"), "schema_migrations");
        assert_eq!(
            only_ledger.tables.keys().collect::<Vec<_>>(),
            ["accounts", "app.schema_migrations"]
        );
        assert_eq!(only_ledger.schemas.keys().collect::<Vec<_>>(), ["app"]);

        // A schema that holds more than the ledger stays.
        s.tables.insert("ops.audit".to_owned(), Table::default());
        s.retain_ours(Some("ops"), "schema_migrations");
        assert_eq!(
            s.tables.keys().collect::<Vec<_>>(),
            ["accounts", "app.schema_migrations", "ops.audit"]
        );
        assert_eq!(s.schemas.keys().collect::<Vec<_>>(), ["app", "ops"]);
    }

    #[test]
    fn schemas_are_listed_first_and_count_as_objects() {
        let mut s = SchemaSnapshot::default();
        assert!(s.is_empty());
        s.schemas.insert("payload".to_owned(), schema("postgres"));
        assert!(!s.is_empty());
        assert_eq!(s.to_string(), "schema payload owned by postgres\n");
        // Skipped in JSON when empty, so other backends' snapshots keep their shape.
        let json = serde_json::to_value(SchemaSnapshot::default()).unwrap_or_default();
        assert!(json.get("schemas").is_none(), "{json}");
    }

    #[test]
    fn a_sequence_describes_every_property_it_has() {
        let s = Sequence {
            data_type: Some("bigint".to_owned()),
            start: Some(1),
            increment: Some(1),
            min_value: Some(1),
            max_value: None,
            cycle: Some(false),
            owned_by: Some("accounts.id".to_owned()),
        };
        assert_eq!(
            s.describe(),
            "bigint start 1 increment 1 min 1 no cycle owned by accounts.id"
        );
    }
}
