//! Comparing two snapshots into typed changes that read as sentences.
//!
//! A change names the kind of object, the object and its table, so a reader can act on it without
//! opening either snapshot: "adds index idx_bookings_status on bookings", "changes column
//! users.email: nullable -> not null". What goes with a table that appears or disappears (its
//! columns, keys, indexes, triggers and owned sequences) is not listed again.

use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use crate::backend::snapshot::{
    CheckConstraint, Column, ForeignKey, Index, SchemaSnapshot, Table, UniqueConstraint,
    column_list, owning_table, squash,
};

/// An object in a schema, named as a sentence names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Object {
    /// A PostgreSQL schema other than the current one.
    Schema {
        /// Its name.
        name: String,
    },
    /// A base table.
    Table {
        /// Its name.
        name: String,
    },
    /// A column of a table.
    Column {
        /// The table.
        table: String,
        /// The column.
        name: String,
    },
    /// A table's primary key.
    PrimaryKey {
        /// The table.
        table: String,
    },
    /// A foreign key, by name or by what it links where it has no name.
    ForeignKey {
        /// The referencing table.
        table: String,
        /// Its name or `(columns) -> table (columns)`.
        name: String,
    },
    /// A unique constraint.
    UniqueConstraint {
        /// The table.
        table: String,
        /// Its name or `(columns)`.
        name: String,
    },
    /// A check constraint.
    CheckConstraint {
        /// The table.
        table: String,
        /// Its name or its expression.
        name: String,
    },
    /// An index.
    Index {
        /// The table.
        table: String,
        /// Its name.
        name: String,
    },
    /// A view.
    View {
        /// Its name.
        name: String,
    },
    /// A trigger.
    Trigger {
        /// The table it fires on.
        table: String,
        /// Its name.
        name: String,
    },
    /// A function or procedure.
    Function {
        /// Its name (on PostgreSQL with its argument types).
        name: String,
    },
    /// A sequence.
    Sequence {
        /// Its name.
        name: String,
    },
    /// A user-defined type.
    Type {
        /// Its name.
        name: String,
    },
    /// An extension.
    Extension {
        /// Its name.
        name: String,
    },
}

impl fmt::Display for Object {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Object::Schema { name } => write!(f, "schema {name}"),
            Object::Table { name } => write!(f, "table {name}"),
            Object::Column { table, name } => write!(f, "column {table}.{name}"),
            Object::PrimaryKey { table } => write!(f, "the primary key of {table}"),
            Object::ForeignKey { table, name } => write!(f, "foreign key {name} on {table}"),
            Object::UniqueConstraint { table, name } => {
                write!(f, "unique constraint {name} on {table}")
            }
            Object::CheckConstraint { table, name } => {
                write!(f, "check constraint {name} on {table}")
            }
            Object::Index { table, name } => write!(f, "index {name} on {table}"),
            Object::View { name } => write!(f, "view {name}"),
            Object::Trigger { table, name } => write!(f, "trigger {name} on {table}"),
            Object::Function { name } => write!(f, "function {name}"),
            Object::Sequence { name } => write!(f, "sequence {name}"),
            Object::Type { name } => write!(f, "type {name}"),
            Object::Extension { name } => write!(f, "extension {name}"),
        }
    }
}

/// Which property of an object differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Aspect {
    /// A column's type.
    Type,
    /// Whether a column accepts NULL (`nullable` / `not null`).
    Nullability,
    /// A column's default.
    Default,
    /// Whether the database fills a column in.
    AutoIncrement,
    /// A column's generation expression.
    Generated,
    /// The order of a table's columns.
    ColumnOrder,
    /// A key's, constraint's or index's name.
    Name,
    /// A key's, constraint's or index's columns.
    Columns,
    /// What a foreign key refers to.
    References,
    /// A foreign key's `ON UPDATE`, or a MySQL column's.
    OnUpdate,
    /// A foreign key's `ON DELETE`.
    OnDelete,
    /// Whether an index is unique (`unique` / `not unique`).
    Uniqueness,
    /// An index's access method.
    Method,
    /// A partial index's condition.
    Predicate,
    /// A check constraint's condition.
    Expression,
    /// A view's, trigger's, function's, sequence's or type's definition.
    Definition,
    /// Whether a view is materialized.
    Materialized,
    /// A function's or type's kind.
    Kind,
    /// A function's result type.
    Returns,
    /// An extension's version.
    Version,
    /// An extension's schema.
    Schema,
    /// A schema's owner.
    Owner,
}

impl Aspect {
    /// The words before the two values, or nothing where the values speak for themselves
    /// ("nullable -> not null").
    fn prefix(self) -> &'static str {
        match self {
            Aspect::Nullability
            | Aspect::Uniqueness
            | Aspect::AutoIncrement
            | Aspect::Materialized => "",
            Aspect::Type => "type ",
            Aspect::Default => "default ",
            Aspect::Generated => "generated ",
            Aspect::ColumnOrder => "column order ",
            Aspect::Name => "name ",
            Aspect::Columns => "columns ",
            Aspect::References => "references ",
            Aspect::OnUpdate => "on update ",
            Aspect::OnDelete => "on delete ",
            Aspect::Method => "method ",
            Aspect::Predicate => "predicate ",
            Aspect::Expression => "expression ",
            Aspect::Definition => "definition ",
            Aspect::Kind => "kind ",
            Aspect::Returns => "returns ",
            Aspect::Version => "version ",
            Aspect::Schema => "schema ",
            Aspect::Owner => "owner ",
        }
    }
}

/// One difference between a schema before and after something happened to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Change {
    /// The object exists after, not before.
    Added {
        /// What.
        object: Object,
    },
    /// The object existed before, not after.
    Removed {
        /// What.
        object: Object,
    },
    /// The object exists in both, with a property that differs.
    Altered {
        /// What.
        object: Object,
        /// Which property.
        aspect: Aspect,
        /// Its value before.
        before: String,
        /// Its value after.
        after: String,
    },
}

impl Change {
    /// The object that differs.
    pub fn object(&self) -> &Object {
        match self {
            Change::Added { object }
            | Change::Removed { object }
            | Change::Altered { object, .. } => object,
        }
    }

    /// For an alteration, `{aspect} {before} -> {after}`, e.g. `nullable -> not null` or
    /// `type bigint -> integer`.
    pub fn alteration(&self) -> Option<String> {
        match self {
            Change::Altered {
                aspect,
                before,
                after,
                ..
            } => Some(format!("{}{before} -> {after}", aspect.prefix())),
            _ => None,
        }
    }
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Change::Added { object } => write!(f, "adds {object}"),
            Change::Removed { object } => write!(f, "removes {object}"),
            Change::Altered { object, .. } => write!(
                f,
                "changes {object}: {}",
                self.alteration().unwrap_or_default()
            ),
        }
    }
}

/// Everything that differs from `before` to `after`, in a stable order: schemas, tables (with
/// what is in them), views, triggers, functions, sequences, types, extensions.
pub fn diff(before: &SchemaSnapshot, after: &SchemaSnapshot) -> Vec<Change> {
    let mut out = Vec::new();
    map(
        &before.schemas,
        &after.schemas,
        |name| Object::Schema { name: name.into() },
        |object, b, a, out| {
            alter(out, object, Aspect::Owner, b.owner.clone(), a.owner.clone());
        },
        &mut out,
    );
    let mut gone_or_new: BTreeSet<&str> = BTreeSet::new();
    for name in keys(&before.tables, &after.tables) {
        let object = || Object::Table { name: name.clone() };
        match (before.tables.get(name), after.tables.get(name)) {
            (Some(_), None) => {
                gone_or_new.insert(name);
                out.push(Change::Removed { object: object() });
            }
            (None, Some(_)) => {
                gone_or_new.insert(name);
                out.push(Change::Added { object: object() });
            }
            (Some(b), Some(a)) => table(name, b, a, &mut out),
            (None, None) => {}
        }
    }
    map(
        &before.views,
        &after.views,
        |name| Object::View { name: name.into() },
        |object, b, a, out| {
            alter(
                out,
                object,
                Aspect::Materialized,
                materialized(b.materialized),
                materialized(a.materialized),
            );
            alter(
                out,
                object,
                Aspect::Definition,
                squash(&b.definition),
                squash(&a.definition),
            );
        },
        &mut out,
    );
    for name in keys(&before.views, &after.views) {
        if !(before.views.contains_key(name) && after.views.contains_key(name)) {
            gone_or_new.insert(name);
        }
    }
    let triggers = |s: &SchemaSnapshot| -> BTreeMap<(String, String), String> {
        s.triggers
            .iter()
            .filter(|t| !gone_or_new.contains(t.table.as_str()))
            .map(|t| ((t.table.clone(), t.name.clone()), t.definition.clone()))
            .collect()
    };
    map(
        &triggers(before),
        &triggers(after),
        |(table, name)| Object::Trigger {
            table: table.clone(),
            name: name.clone(),
        },
        |object, b, a, out| alter(out, object, Aspect::Definition, squash(b), squash(a)),
        &mut out,
    );
    map(
        &before.functions,
        &after.functions,
        |name| Object::Function { name: name.into() },
        |object, b, a, out| {
            alter(out, object, Aspect::Kind, b.kind.clone(), a.kind.clone());
            alter(
                out,
                object,
                Aspect::Returns,
                or_none(&b.returns),
                or_none(&a.returns),
            );
            alter(
                out,
                object,
                Aspect::Definition,
                squash(&or_none(&b.definition)),
                squash(&or_none(&a.definition)),
            );
        },
        &mut out,
    );
    let owned = |s: &SchemaSnapshot| {
        let mut m = s.sequences.clone();
        m.retain(|_, seq| {
            seq.owned_by
                .as_deref()
                .and_then(owning_table)
                .is_none_or(|t| !gone_or_new.contains(t))
        });
        m
    };
    map(
        &owned(before),
        &owned(after),
        |name| Object::Sequence { name: name.into() },
        |object, b, a, out| alter(out, object, Aspect::Definition, b.describe(), a.describe()),
        &mut out,
    );
    map(
        &before.types,
        &after.types,
        |name| Object::Type { name: name.into() },
        |object, b, a, out| {
            alter(out, object, Aspect::Kind, b.kind.clone(), a.kind.clone());
            alter(
                out,
                object,
                Aspect::Definition,
                b.definition.clone(),
                a.definition.clone(),
            );
        },
        &mut out,
    );
    map(
        &before.extensions,
        &after.extensions,
        |name| Object::Extension { name: name.into() },
        |object, b, a, out| {
            alter(
                out,
                object,
                Aspect::Version,
                b.version.clone(),
                a.version.clone(),
            );
            alter(
                out,
                object,
                Aspect::Schema,
                b.schema.clone(),
                a.schema.clone(),
            );
        },
        &mut out,
    );
    out
}

/// The keys of two maps, sorted, each once.
fn keys<'a, K: Ord, V>(a: &'a BTreeMap<K, V>, b: &'a BTreeMap<K, V>) -> BTreeSet<&'a K> {
    a.keys().chain(b.keys()).collect()
}

/// Added, removed, then `altered` for what both hold, per key.
fn map<K: Ord, V: PartialEq>(
    before: &BTreeMap<K, V>,
    after: &BTreeMap<K, V>,
    object: impl Fn(&K) -> Object,
    altered: impl Fn(&Object, &V, &V, &mut Vec<Change>),
    out: &mut Vec<Change>,
) {
    for key in keys(before, after) {
        match (before.get(key), after.get(key)) {
            (Some(_), None) => out.push(Change::Removed {
                object: object(key),
            }),
            (None, Some(_)) => out.push(Change::Added {
                object: object(key),
            }),
            (Some(b), Some(a)) if b != a => altered(&object(key), b, a, out),
            _ => {}
        }
    }
}

fn alter(out: &mut Vec<Change>, object: &Object, aspect: Aspect, before: String, after: String) {
    if before != after {
        out.push(Change::Altered {
            object: object.clone(),
            aspect,
            before,
            after,
        });
    }
}

fn or_none(value: &Option<String>) -> String {
    value.clone().unwrap_or_else(|| "none".to_owned())
}

fn materialized(yes: bool) -> String {
    if yes {
        "materialized"
    } else {
        "not materialized"
    }
    .to_owned()
}

fn table(name: &str, before: &Table, after: &Table, out: &mut Vec<Change>) {
    let by_name = |t: &Table| -> BTreeMap<String, Column> {
        t.columns
            .iter()
            .map(|c| (c.name.clone(), c.clone()))
            .collect()
    };
    let column_object = |column: &String| Object::Column {
        table: name.to_owned(),
        name: column.clone(),
    };
    map(
        &by_name(before),
        &by_name(after),
        column_object,
        column,
        out,
    );
    // Position matters (SELECT *, INSERT without a column list): compare the order of the
    // columns both have.
    let common = |t: &Table, other: &Table| -> Vec<String> {
        t.columns
            .iter()
            .filter(|c| other.column(&c.name).is_some())
            .map(|c| c.name.clone())
            .collect()
    };
    alter(
        out,
        &Object::Table {
            name: name.to_owned(),
        },
        Aspect::ColumnOrder,
        column_list(&common(before, after)),
        column_list(&common(after, before)),
    );
    let pk = Object::PrimaryKey {
        table: name.to_owned(),
    };
    match (&before.primary_key, &after.primary_key) {
        (Some(_), None) => out.push(Change::Removed { object: pk }),
        (None, Some(_)) => out.push(Change::Added { object: pk }),
        (Some(b), Some(a)) => {
            alter(out, &pk, Aspect::Name, or_none(&b.name), or_none(&a.name));
            alter(
                out,
                &pk,
                Aspect::Columns,
                column_list(&b.columns),
                column_list(&a.columns),
            );
        }
        (None, None) => {}
    }
    map(
        &before.foreign_keys,
        &after.foreign_keys,
        |key| Object::ForeignKey {
            table: name.to_owned(),
            name: key.clone(),
        },
        foreign_key,
        out,
    );
    map(
        &before.unique_constraints,
        &after.unique_constraints,
        |key| Object::UniqueConstraint {
            table: name.to_owned(),
            name: key.clone(),
        },
        |object, b: &UniqueConstraint, a, out| {
            alter(
                out,
                object,
                Aspect::Columns,
                column_list(&b.columns),
                column_list(&a.columns),
            );
        },
        out,
    );
    map(
        &before.check_constraints,
        &after.check_constraints,
        |key| Object::CheckConstraint {
            table: name.to_owned(),
            name: key.clone(),
        },
        |object, b: &CheckConstraint, a, out| {
            alter(
                out,
                object,
                Aspect::Expression,
                b.expression.clone(),
                a.expression.clone(),
            );
        },
        out,
    );
    map(
        &before.indexes,
        &after.indexes,
        |key| Object::Index {
            table: name.to_owned(),
            name: key.clone(),
        },
        index,
        out,
    );
}

fn column(object: &Object, b: &Column, a: &Column, out: &mut Vec<Change>) {
    alter(
        out,
        object,
        Aspect::Type,
        b.data_type.clone(),
        a.data_type.clone(),
    );
    let nullability = |c: &Column| if c.nullable { "nullable" } else { "not null" }.to_owned();
    alter(
        out,
        object,
        Aspect::Nullability,
        nullability(b),
        nullability(a),
    );
    alter(
        out,
        object,
        Aspect::Default,
        or_none(&b.default),
        or_none(&a.default),
    );
    let auto = |c: &Column| {
        if c.auto_increment {
            "auto-increment"
        } else {
            "no auto-increment"
        }
        .to_owned()
    };
    alter(out, object, Aspect::AutoIncrement, auto(b), auto(a));
    alter(
        out,
        object,
        Aspect::Generated,
        or_none(&b.generated),
        or_none(&a.generated),
    );
    alter(
        out,
        object,
        Aspect::OnUpdate,
        or_none(&b.on_update),
        or_none(&a.on_update),
    );
}

fn foreign_key(object: &Object, b: &ForeignKey, a: &ForeignKey, out: &mut Vec<Change>) {
    alter(
        out,
        object,
        Aspect::Columns,
        column_list(&b.columns),
        column_list(&a.columns),
    );
    let target = |fk: &ForeignKey| {
        format!(
            "{} {}",
            fk.referenced_table,
            column_list(&fk.referenced_columns)
        )
    };
    alter(out, object, Aspect::References, target(b), target(a));
    alter(
        out,
        object,
        Aspect::OnUpdate,
        b.on_update.clone(),
        a.on_update.clone(),
    );
    alter(
        out,
        object,
        Aspect::OnDelete,
        b.on_delete.clone(),
        a.on_delete.clone(),
    );
}

fn index(object: &Object, b: &Index, a: &Index, out: &mut Vec<Change>) {
    alter(
        out,
        object,
        Aspect::Columns,
        column_list(&b.columns),
        column_list(&a.columns),
    );
    let unique = |i: &Index| if i.unique { "unique" } else { "not unique" }.to_owned();
    alter(out, object, Aspect::Uniqueness, unique(b), unique(a));
    alter(
        out,
        object,
        Aspect::Method,
        or_none(&b.method),
        or_none(&a.method),
    );
    alter(
        out,
        object,
        Aspect::Predicate,
        or_none(&b.predicate),
        or_none(&a.predicate),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::snapshot::{PrimaryKey, Trigger, View};

    fn col(name: &str, ty: &str, nullable: bool) -> Column {
        Column {
            name: name.to_owned(),
            data_type: ty.to_owned(),
            nullable,
            default: None,
            auto_increment: false,
            generated: None,
            on_update: None,
        }
    }

    fn bookings() -> Table {
        Table {
            columns: vec![col("id", "bigint", false), col("status", "text", true)],
            primary_key: Some(PrimaryKey {
                name: None,
                columns: vec!["id".to_owned()],
            }),
            ..Table::default()
        }
    }

    fn schema(tables: &[(&str, Table)]) -> SchemaSnapshot {
        SchemaSnapshot {
            backend: "sqlite".to_owned(),
            tables: tables
                .iter()
                .map(|(n, t)| ((*n).to_owned(), t.clone()))
                .collect(),
            ..SchemaSnapshot::default()
        }
    }

    fn sentences(changes: &[Change]) -> Vec<String> {
        changes.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn equal_snapshots_have_no_changes() {
        let s = schema(&[("bookings", bookings())]);
        assert!(diff(&s, &s.clone()).is_empty());
    }

    #[test]
    fn an_index_left_behind_is_named_with_its_table() {
        let before = schema(&[("bookings", bookings())]);
        let mut t = bookings();
        t.indexes.insert(
            "idx_bookings_status".to_owned(),
            Index {
                columns: vec!["status".to_owned()],
                unique: false,
                method: None,
                predicate: None,
            },
        );
        let after = schema(&[("bookings", t)]);
        assert_eq!(
            sentences(&diff(&before, &after)),
            ["adds index idx_bookings_status on bookings"]
        );
    }

    #[test]
    fn a_dropped_table_is_one_change_not_one_per_column_or_trigger() {
        let mut before = schema(&[("bookings", bookings()), ("accounts", bookings())]);
        before.triggers.push(Trigger {
            table: "accounts".to_owned(),
            name: "trg".to_owned(),
            definition: "x".to_owned(),
        });
        let after = schema(&[("bookings", bookings())]);
        assert_eq!(
            sentences(&diff(&before, &after)),
            ["removes table accounts"]
        );
    }

    #[test]
    fn column_changes_say_what_changed_from_what_to_what() {
        let before = schema(&[("bookings", bookings())]);
        let mut t = bookings();
        t.columns[1] = col("status", "varchar(20)", false);
        t.columns.push(col("note", "text", true));
        let after = schema(&[("bookings", t)]);
        assert_eq!(
            sentences(&diff(&before, &after)),
            [
                "adds column bookings.note",
                "changes column bookings.status: type text -> varchar(20)",
                "changes column bookings.status: nullable -> not null",
            ]
        );
    }

    #[test]
    fn a_column_moved_to_the_end_changes_the_column_order() {
        let before = schema(&[("bookings", bookings())]);
        let mut t = bookings();
        t.columns.reverse();
        let after = schema(&[("bookings", t)]);
        assert_eq!(
            sentences(&diff(&before, &after)),
            ["changes table bookings: column order (id, status) -> (status, id)"]
        );
    }

    #[test]
    fn a_schema_left_behind_or_missing_is_named_like_any_object() {
        use crate::backend::snapshot::Schema;
        let before = schema(&[]);
        let mut after = schema(&[("payload.signals", bookings())]);
        after.schemas.insert(
            "payload".to_owned(),
            Schema {
                owner: "postgres".to_owned(),
            },
        );
        assert_eq!(
            sentences(&diff(&before, &after)),
            ["adds schema payload", "adds table payload.signals"]
        );
        assert_eq!(
            sentences(&diff(&after, &before)),
            ["removes schema payload", "removes table payload.signals"]
        );
        let mut other_owner = after.clone();
        if let Some(s) = other_owner.schemas.get_mut("payload") {
            s.owner = "app".to_owned();
        }
        assert_eq!(
            sentences(&diff(&after, &other_owner)),
            ["changes schema payload: owner postgres -> app"]
        );
    }

    #[test]
    fn a_sequence_owned_by_a_table_in_another_schema_goes_with_it() {
        use crate::backend::snapshot::Sequence;
        let before = schema(&[]);
        let mut after = schema(&[("payload.signals", bookings())]);
        after.sequences.insert(
            "payload.signals_id_seq".to_owned(),
            Sequence {
                data_type: Some("bigint".to_owned()),
                start: Some(1),
                increment: Some(1),
                min_value: Some(1),
                max_value: None,
                cycle: Some(false),
                owned_by: Some("payload.signals.id".to_owned()),
            },
        );
        assert_eq!(
            sentences(&diff(&before, &after)),
            ["adds table payload.signals"]
        );
    }

    #[test]
    fn views_and_functions_are_compared_by_name() {
        let before = schema(&[]);
        let mut after = schema(&[]);
        after.views.insert(
            "v_active".to_owned(),
            View {
                materialized: false,
                definition: "SELECT 1".to_owned(),
            },
        );
        after.functions.insert(
            "f_x()".to_owned(),
            crate::backend::snapshot::Function {
                kind: "function".to_owned(),
                returns: Some("integer".to_owned()),
                definition: None,
            },
        );
        assert_eq!(
            sentences(&diff(&before, &after)),
            ["adds view v_active", "adds function f_x()"]
        );
        assert_eq!(
            sentences(&diff(&after, &before)),
            ["removes view v_active", "removes function f_x()"]
        );
    }
}
