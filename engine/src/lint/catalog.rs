//! What the migrations before the one being linted have built: which tables exist (and which
//! migration created them), their columns' types, the indexes and the validated `NOT NULL`
//! checks. A table the migrations never created (one that came with a baseline, say) is taken to
//! exist already and to hold rows: the safe guess.

use std::collections::{HashMap, HashSet};

use super::sql::{Action, ColumnDef, ConstraintKind, Kind, Statement};

/// A table and where it came from.
#[derive(Debug, Clone, Default)]
pub(crate) struct TableInfo {
    /// The index (in the set's order) of the migration that created it.
    pub created_in: usize,
    /// Its columns by name.
    pub columns: HashMap<String, ColumnDef>,
}

/// An index and its table.
#[derive(Debug, Clone)]
pub(crate) struct IndexInfo {
    pub table: String,
    pub created_in: usize,
}

/// The schema as the migrations so far leave it.
#[derive(Debug, Default)]
pub(crate) struct Catalog {
    tables: HashMap<String, TableInfo>,
    indexes: HashMap<String, IndexInfo>,
    /// `(table, column)` pairs with a validated `CHECK (column IS NOT NULL)`.
    not_null_checks: HashSet<(String, String)>,
    /// Checks added `NOT VALID`, by constraint name, waiting for their `VALIDATE`.
    unvalidated: HashMap<String, (String, String)>,
}

impl Catalog {
    /// Whether `table` existed before migration `current`: created by an earlier one, or not
    /// created by any migration at all.
    pub fn existing(&self, table: &str, current: usize) -> bool {
        self.tables
            .get(table)
            .is_none_or(|t| t.created_in < current)
    }

    /// Whether the index named `name` is on a table that existed before migration `current`
    /// (an index the migrations never created is taken to be on one).
    pub fn index_on_existing(&self, name: &str, current: usize) -> bool {
        match self.indexes.get(name) {
            Some(index) => index.created_in < current && self.existing(&index.table, current),
            None => true,
        }
    }

    /// The column's type as the migrations defined it, when they did.
    pub fn column(&self, table: &str, column: &str) -> Option<&ColumnDef> {
        self.tables.get(table)?.columns.get(column)
    }

    /// Whether the column has a validated `CHECK (column IS NOT NULL)`.
    pub fn has_not_null_check(&self, table: &str, column: &str) -> bool {
        self.not_null_checks
            .contains(&(table.to_owned(), column.to_owned()))
    }

    /// Records what `statement`, of migration `current`, changes.
    pub fn apply(&mut self, statement: &Statement, current: usize) {
        match &statement.kind {
            Kind::CreateTable { table, columns } => {
                self.tables.insert(
                    table.clone(),
                    TableInfo {
                        created_in: current,
                        columns: columns
                            .iter()
                            .map(|c| (c.name.clone(), c.clone()))
                            .collect(),
                    },
                );
            }
            Kind::DropTable { tables } => {
                for t in tables {
                    self.tables.remove(t);
                    self.indexes.retain(|_, i| &i.table != t);
                }
            }
            Kind::RenameTables { pairs } => {
                for (from, to) in pairs {
                    self.rename_table(from, to);
                }
            }
            Kind::CreateIndex {
                name: Some(name),
                table,
                ..
            } => {
                self.indexes.insert(
                    name.clone(),
                    IndexInfo {
                        table: table.clone(),
                        created_in: current,
                    },
                );
            }
            Kind::DropIndex { names, .. } => {
                for n in names {
                    self.indexes.remove(n);
                }
            }
            Kind::AlterTable { table, actions } => {
                for action in actions {
                    self.alter(table, action);
                }
            }
            _ => {}
        }
    }

    fn rename_table(&mut self, from: &str, to: &str) {
        let info = self.tables.remove(from).unwrap_or(TableInfo {
            // A table the migrations never created keeps being an existing one.
            created_in: 0,
            columns: HashMap::new(),
        });
        for index in self.indexes.values_mut() {
            if index.table == from {
                index.table = to.to_owned();
            }
        }
        self.tables.insert(to.to_owned(), info);
    }

    fn table_mut(&mut self, table: &str) -> &mut TableInfo {
        self.tables.entry(table.to_owned()).or_default()
    }

    fn alter(&mut self, table: &str, action: &Action) {
        let known = self.tables.contains_key(table);
        match action {
            Action::AddColumn(def) if known => {
                self.table_mut(table)
                    .columns
                    .insert(def.name.clone(), def.clone());
            }
            Action::DropColumn(column) if known => {
                self.table_mut(table).columns.remove(column);
            }
            Action::AlterType { column, ty, .. } if known => {
                if let Some(c) = self.table_mut(table).columns.get_mut(column) {
                    c.ty = ty.clone();
                }
            }
            Action::Modify { column, def } if known => {
                let columns = &mut self.table_mut(table).columns;
                columns.remove(column);
                columns.insert(def.name.clone(), def.clone());
            }
            Action::RenameColumn { from, to } if known => {
                let columns = &mut self.table_mut(table).columns;
                if let Some(mut c) = columns.remove(from) {
                    c.name = to.clone();
                    columns.insert(to.clone(), c);
                }
            }
            Action::RenameTo(to) => self.rename_table(table, to),
            Action::AddConstraint {
                name,
                kind: ConstraintKind::Check,
                not_valid,
                not_null_column: Some(column),
                ..
            } => {
                let key = (table.to_owned(), column.clone());
                if *not_valid {
                    if let Some(name) = name {
                        self.unvalidated.insert(name.clone(), key);
                    }
                } else {
                    self.not_null_checks.insert(key);
                }
            }
            Action::ValidateConstraint(name) => {
                if let Some(key) = self.unvalidated.remove(name) {
                    self.not_null_checks.insert(key);
                }
            }
            _ => {}
        }
    }
}
