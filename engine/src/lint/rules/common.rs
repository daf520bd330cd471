//! Every backend: changes that destroy data, that break the application version still running
//! while the migration runs, or that cannot be undone.

use super::{Catalog, Ctx, Hit, Rule, hit};
use crate::lint::Level;
use crate::lint::sql::{Action, Kind, Statement};

/// Dropping a table.
pub const DROP_TABLE: Rule = Rule {
    id: "common.drop-table",
    level: Level::Error,
    backends: &[],
    summary: "DROP TABLE of a table an earlier migration created (destroys its data)",
    doc: "Dropping a table destroys its rows for good (a `down` can recreate the table, not the data) \
          and breaks every application instance that still reads it, on every backend. Stop using the \
          table in one release, and drop it in a later one, with a backup (`migrate up --backup`); \
          when the drop is intended, say so in the migration with \
          `pub const LINT_ALLOW: &[(&str, &str)] = &[(\"common.drop-table\", \"why\")];`.",
};

/// Dropping a column.
pub const DROP_COLUMN: Rule = Rule {
    id: "common.drop-column",
    level: Level::Error,
    backends: &[],
    summary: "DROP COLUMN on an existing table (destroys its data)",
    doc: "Dropping a column destroys its values and breaks application instances that still select \
          or insert it (an ORM entity listing the column fails every query), on every backend; on \
          SQLite it also rewrites the table, on PostgreSQL it takes an ACCESS EXCLUSIVE lock. Remove the \
          column from the entity first, deploy, and drop it in a later migration \
          (`manager.alter_table(Table::alter().table(T::Table).drop_column(T::Old).to_owned())`).",
};

/// Renaming a table.
pub const RENAME_TABLE: Rule = Rule {
    id: "common.rename-table",
    level: Level::Error,
    backends: &[],
    summary: "renaming an existing table (breaks the running application)",
    doc: "The moment a table is renamed, every running instance of the previous release fails its \
          queries against the old name, on every backend. Create the new table (or a view under the new \
          name on PostgreSQL), write to both, move readers, and drop the old one in a later release; a \
          rename is only safe while nothing runs against the database.",
};

/// Renaming a column.
pub const RENAME_COLUMN: Rule = Rule {
    id: "common.rename-column",
    level: Level::Error,
    backends: &[],
    summary: "renaming a column of an existing table (breaks the running application)",
    doc: "Renaming a column (`RENAME COLUMN`, or MySQL's `CHANGE old new`) breaks every running \
          instance that still names the old column, on every backend. Add the new column \
          (`ColumnDef::new(T::NewName)…null()`), write both, backfill, move readers, then drop the old \
          column in a later release.",
};

/// A data migration whose `down` cannot undo it.
pub const DATA_WITHOUT_DOWN: Rule = Rule {
    id: "common.data-migration-without-down",
    level: Level::Error,
    backends: &[],
    summary: "a migration that changes rows (INSERT/UPDATE/DELETE) without a working down",
    doc: "A migration that changes data and has no `down` (SeaORM's default `down` returns an error) \
          cannot be reverted by `migrate down`, and a failed deploy cannot be rolled back, on every \
          backend. Write a `down` that restores what `up` changed (delete the rows it inserted, undo an \
          update from a copy kept in the migration), or, for a change that truly cannot be undone, allow \
          the rule with the reason.",
};

/// The rules of every backend.
pub const RULES: &[Rule] = &[
    DROP_TABLE,
    DROP_COLUMN,
    RENAME_TABLE,
    RENAME_COLUMN,
    DATA_WITHOUT_DOWN,
];

pub(crate) fn check(ctx: &Ctx<'_>, catalog: &Catalog, statement: &Statement, hits: &mut Vec<Hit>) {
    let existing = |table: &str| catalog.existing(table, ctx.index);
    let in_rebuild = ctx.in_rebuild();
    match &statement.kind {
        Kind::DropTable { tables } if !in_rebuild => {
            for table in tables.iter().filter(|t| existing(t)) {
                hits.push(hit(
                    &DROP_TABLE,
                    format!("DROP TABLE `{table}` destroys its rows"),
                ));
            }
        }
        Kind::RenameTables { pairs } if !in_rebuild => {
            for (from, to) in pairs.iter().filter(|(from, _)| existing(from)) {
                hits.push(hit(
                    &RENAME_TABLE,
                    format!("renaming `{from}` to `{to}` breaks the running application's queries"),
                ));
            }
        }
        Kind::AlterTable { table, actions } if existing(table) => {
            for action in actions {
                match action {
                    Action::DropColumn(column) => hits.push(hit(
                        &DROP_COLUMN,
                        format!("dropping `{table}`.`{column}` destroys its values"),
                    )),
                    Action::RenameTo(to) if !in_rebuild => hits.push(hit(
                        &RENAME_TABLE,
                        format!("renaming `{table}` to `{to}` breaks the running application's queries"),
                    )),
                    Action::RenameColumn { from, to } => hits.push(hit(
                        &RENAME_COLUMN,
                        format!("renaming `{table}`.`{from}` to `{to}` breaks the running application's queries"),
                    )),
                    Action::Modify { column, def } if *column != def.name => hits.push(hit(
                        &RENAME_COLUMN,
                        format!("CHANGE renames `{table}`.`{column}` to `{}`, breaking the running application's queries", def.name),
                    )),
                    _ => {}
                }
            }
        }
        _ => {}
    }
}
