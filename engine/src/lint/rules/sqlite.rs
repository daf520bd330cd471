//! SQLite: `ALTER TABLE` does little, so changes are made by rebuilding the table (create a new
//! one, copy the rows, drop the old, rename), which must keep foreign keys intact across it.

use sea_orm::DbBackend;

use super::{Catalog, Ctx, Hit, Rule, hit};
use crate::lint::Level;
use crate::lint::sql::{Action, Kind, Statement};

const LITE: &[DbBackend] = &[DbBackend::Sqlite];

/// A table rebuild.
pub const TABLE_REBUILD: Rule = Rule {
    id: "sqlite.table-rebuild",
    level: Level::Warning,
    backends: LITE,
    summary: "a table rebuilt (new table, copy, drop, rename) by the migration",
    doc: "SQLite cannot change a column's type, constraints or foreign keys in place, so the \
          migration rebuilds the table: it copies every row while holding the database's write lock, \
          and whatever the new `CREATE TABLE` forgets (indexes, triggers, views naming the table, a \
          column's default) is lost. Keep the rebuild to the documented order (SQLite's \"making other \
          kinds of table schema changes\"): recreate the indexes and triggers, and follow \
          `sqlite.rebuild-foreign-keys`; where the change can be additive (`ALTER TABLE … ADD COLUMN`, \
          `manager.alter_table(Table::alter().table(T::Table).add_column(…).to_owned())`), prefer it.",
};

/// Foreign keys left unchecked across a rebuild.
pub const REBUILD_FOREIGN_KEYS: Rule = Rule {
    id: "sqlite.rebuild-foreign-keys",
    level: Level::Error,
    backends: LITE,
    summary: "a rebuild that leaves foreign keys enforced during the swap, or unchecked after it",
    doc: "With foreign keys on (sqlx's default), dropping the old table of a rebuild first deletes \
          its rows, firing `ON DELETE CASCADE`/`SET NULL` in the tables that reference it; and \
          `PRAGMA foreign_keys = OFF` is silently ignored inside a transaction, where the engine runs a \
          migration by default. Run the rebuild from a migration with \
          `fn use_transaction(&self) -> Option<bool> { Some(false) }`: `PRAGMA foreign_keys = OFF`, then \
          `BEGIN`, the rebuild, `PRAGMA foreign_key_check` (which must return nothing), `COMMIT`, and \
          `PRAGMA foreign_keys = ON`.",
};

/// A change sea-query cannot express on SQLite.
pub const UNSUPPORTED_ALTER: Rule = Rule {
    id: "sqlite.unsupported-alter",
    level: Level::Error,
    backends: LITE,
    summary: "an ALTER that SeaQuery cannot render for SQLite (modify a column, add or drop a foreign key)",
    doc: "SeaQuery refuses, on SQLite, `modify_column`, `add_foreign_key`, `drop_foreign_key` and \
          dropping constraints (SQLite has no such `ALTER TABLE`), so the migration fails there as soon \
          as it runs. Branch on `manager.get_database_backend()` and perform the change as a table \
          rebuild on SQLite (see `sqlite.table-rebuild` and `sqlite.rebuild-foreign-keys`), or make the \
          change additive.",
};

/// The SQLite rules.
pub const RULES: &[Rule] = &[TABLE_REBUILD, REBUILD_FOREIGN_KEYS, UNSUPPORTED_ALTER];

/// A table rebuild found in a migration's statements.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rebuild {
    /// The table rebuilt.
    pub table: String,
    /// The positions of the statements that make it up (create, drop, rename).
    pub parts: Vec<usize>,
}

/// The rebuilds among `statements` of migration `index`: a new table renamed to the name of an
/// existing one dropped before (`CREATE new; … DROP t; ALTER new RENAME TO t`), or an existing
/// table renamed away, recreated, and the old one dropped.
pub(crate) fn rebuilds(statements: &[Statement], catalog: &Catalog, index: usize) -> Vec<Rebuild> {
    let mut found = Vec::new();
    let renames = statements
        .iter()
        .enumerate()
        .filter_map(|(at, s)| match &s.kind {
            Kind::AlterTable { table, actions } => actions.iter().find_map(|a| match a {
                Action::RenameTo(to) => Some((at, table.clone(), to.clone())),
                _ => None,
            }),
            _ => None,
        });
    for (rename_at, from, to) in renames {
        let created = |name: &str, before: usize| {
            statements[..before]
                .iter()
                .position(|s| matches!(&s.kind, Kind::CreateTable { table, .. } if table == name))
        };
        let dropped = |name: &str, range: std::ops::Range<usize>| {
            range.clone().find(|&i| {
                matches!(&statements[i].kind, Kind::DropTable { tables } if tables.iter().any(|t| t == name))
            })
        };
        // CREATE new; … DROP to; ALTER new RENAME TO to
        if let Some(create_at) = created(&from, rename_at)
            && catalog.existing(&to, index)
            && let Some(drop_at) = dropped(&to, create_at..rename_at)
        {
            found.push(Rebuild {
                table: to.clone(),
                parts: vec![create_at, drop_at, rename_at],
            });
            continue;
        }
        // ALTER t RENAME TO old; CREATE t; … DROP old
        if catalog.existing(&from, index)
            && let Some(create_at) = statements[rename_at..]
                .iter()
                .position(|s| matches!(&s.kind, Kind::CreateTable { table, .. } if *table == from))
                .map(|p| p + rename_at)
            && let Some(drop_at) = dropped(&to, create_at..statements.len())
        {
            found.push(Rebuild {
                table: from.clone(),
                parts: vec![rename_at, create_at, drop_at],
            });
        }
    }
    found
}

pub(crate) fn check(ctx: &Ctx<'_>, _catalog: &Catalog, statement: &Statement, hits: &mut Vec<Hit>) {
    if let Kind::Pragma { name, value } = &statement.kind
        && name == "foreign_keys"
        && value
            .as_deref()
            .is_some_and(|v| v == "off" || v == "0" || v == "false")
        && ctx.in_transaction
    {
        hits.push(hit(
            &REBUILD_FOREIGN_KEYS,
            "PRAGMA foreign_keys = OFF inside a transaction does nothing: foreign keys stay enforced",
        ));
    }
    for rebuild in ctx.rebuilds {
        // Reported once, at the drop of the old table, where the danger is.
        let drop_at = rebuild
            .parts
            .iter()
            .copied()
            .find(|&p| matches!(ctx.statements[p].kind, Kind::DropTable { .. }));
        if drop_at != Some(ctx.at) {
            continue;
        }
        let table = &rebuild.table;
        hits.push(hit(
            &TABLE_REBUILD,
            format!("`{table}` is rebuilt: every row is copied under the database's write lock"),
        ));
        let end = rebuild.parts.iter().copied().max().unwrap_or(ctx.at);
        let checked_after = ctx.statements[end..]
            .iter()
            .any(|s| matches!(&s.kind, Kind::Pragma { name, .. } if name == "foreign_key_check"));
        if !ctx.sqlite_foreign_keys_off {
            hits.push(hit(
                &REBUILD_FOREIGN_KEYS,
                format!("`{table}` is dropped for its rebuild with foreign keys enforced: rows referencing it cascade or fail"),
            ));
        } else if !checked_after {
            hits.push(hit(
                &REBUILD_FOREIGN_KEYS,
                format!("no PRAGMA foreign_key_check follows the rebuild of `{table}`: broken references go unnoticed"),
            ));
        }
    }
}
