//! PostgreSQL: statements that take an `ACCESS EXCLUSIVE` (or `SHARE`) lock for as long as a
//! table scan or rewrite lasts, or that cannot run where the migration runs them.

use sea_orm::DbBackend;

use super::{Catalog, Ctx, Hit, Rule, hit};
use crate::lint::Level;
use crate::lint::sql::{Action, ColumnDef, ConstraintKind, Kind, Statement, type_parts};

const PG: &[DbBackend] = &[DbBackend::Postgres];

/// `CREATE INDEX` / `DROP INDEX` without `CONCURRENTLY` on an existing table.
pub const INDEX_NOT_CONCURRENT: Rule = Rule {
    id: "pg.index-not-concurrent",
    level: Level::Error,
    backends: PG,
    summary: "an index created or dropped without CONCURRENTLY on an existing table",
    doc: "`CREATE INDEX` takes a SHARE lock on the table and `DROP INDEX` an ACCESS EXCLUSIVE one, \
          for as long as the index takes to build or drop: writes (and, for a drop, reads) wait, on \
          every PostgreSQL version. Build it with `CONCURRENTLY` from a migration that runs outside a \
          transaction (`fn use_transaction(&self) -> Option<bool> { Some(false) }`), e.g. \
          `manager.get_connection().execute_unprepared(r#\"CREATE INDEX CONCURRENTLY IF NOT EXISTS \
          \"idx_orders_customer\" ON \"orders\" (\"customer_id\")\"#)`; drop with `DROP INDEX \
          CONCURRENTLY IF EXISTS`. An index on a table created in the same migration is not flagged.",
};

/// `CONCURRENTLY` inside a transaction.
pub const CONCURRENTLY_IN_TRANSACTION: Rule = Rule {
    id: "pg.concurrently-in-transaction",
    level: Level::Error,
    backends: PG,
    summary: "CREATE/DROP INDEX CONCURRENTLY inside a transaction",
    doc: "PostgreSQL refuses `CREATE INDEX CONCURRENTLY` and `DROP INDEX CONCURRENTLY` inside a \
          transaction block (every version), and the engine runs a migration in one unless it opts out. \
          Give the migration `fn use_transaction(&self) -> Option<bool> { Some(false) }` and keep each \
          concurrent build in a migration of its own, so that a failed build (which leaves an INVALID \
          index) is retried by re-running only it (`IF NOT EXISTS` after `DROP INDEX CONCURRENTLY IF EXISTS`).",
};

/// `ADD COLUMN … NOT NULL` without a default on an existing table.
pub const ADD_COLUMN_NOT_NULL: Rule = Rule {
    id: "pg.add-column-not-null-without-default",
    level: Level::Error,
    backends: PG,
    summary: "ADD COLUMN … NOT NULL without a default on an existing table",
    doc: "A `NOT NULL` column without a default cannot be added to a table that has rows: the \
          statement fails on any populated table (every version), after waiting for its ACCESS EXCLUSIVE \
          lock. Add it with a constant default, which PostgreSQL 11+ stores without rewriting the table: \
          `ColumnDef::new(Orders::Status).string().not_null().default(\"new\")`; or add it nullable, \
          backfill in batches, then set `NOT NULL` through a validated check (see `pg.set-not-null`).",
};

/// `SET NOT NULL` without a validated check first.
pub const SET_NOT_NULL: Rule = Rule {
    id: "pg.set-not-null",
    level: Level::Error,
    backends: PG,
    summary: "ALTER COLUMN … SET NOT NULL without a validated CHECK (… IS NOT NULL) first",
    doc: "`SET NOT NULL` scans the whole table under an ACCESS EXCLUSIVE lock to prove there is no \
          NULL. On PostgreSQL 12+ the scan is skipped when a validated `CHECK (col IS NOT NULL)` \
          already proves it: add the check `NOT VALID` (a brief lock), `VALIDATE CONSTRAINT` it in a \
          later statement or migration (a SHARE UPDATE EXCLUSIVE lock that lets writes through), then \
          `manager.alter_table(Table::alter().table(T::Table).modify_column(ColumnDef::new(T::Col).not_null()).to_owned())` \
          and drop the check.",
};

/// A volatile default on an added column.
pub const VOLATILE_DEFAULT: Rule = Rule {
    id: "pg.volatile-default",
    level: Level::Error,
    backends: PG,
    summary: "ADD COLUMN with a volatile default (random(), gen_random_uuid(), clock_timestamp(), serial) on an existing table",
    doc: "PostgreSQL 11+ adds a column with a constant (or stable, like `now()`) default without \
          touching the rows, but a volatile default (`gen_random_uuid()`, `random()`, \
          `clock_timestamp()`, a `serial` or identity column) is evaluated per row: the whole table is \
          rewritten under an ACCESS EXCLUSIVE lock, on every version. Add the column without a default \
          (`ColumnDef::new(T::Token).uuid().null()`), set the default for new rows with \
          `ALTER COLUMN … SET DEFAULT gen_random_uuid()` (no rewrite), backfill existing rows in batches, \
          then make it NOT NULL through a validated check.",
};

/// A column type change that rewrites the table.
pub const TYPE_CHANGE: Rule = Rule {
    id: "pg.column-type-rewrite",
    level: Level::Error,
    backends: PG,
    summary: "ALTER COLUMN … TYPE that rewrites the table (and its indexes)",
    doc: "Changing a column's type rewrites the table and rebuilds its indexes under an ACCESS \
          EXCLUSIVE lock, except for the binary-compatible changes PostgreSQL 9.2+ does in place: \
          `varchar(n)` to a longer `varchar` or to `text`, `numeric(p,s)` to a larger precision with \
          the same scale, `cidr` to `inet`. Anything else (`integer` to `bigint`, a `USING` \
          conversion) blocks reads and writes for the whole rewrite. Add a new column \
          (`ColumnDef::new(T::IdBig).big_integer().null()`), write both from the application, backfill \
          in batches, then swap names in a short migration.",
};

/// `ADD FOREIGN KEY` / `ADD CHECK` without `NOT VALID` on an existing table.
pub const CONSTRAINT_NOT_VALID: Rule = Rule {
    id: "pg.constraint-without-not-valid",
    level: Level::Error,
    backends: PG,
    summary: "ADD FOREIGN KEY or ADD CHECK without NOT VALID on an existing table",
    doc: "Adding a foreign key or a check validates every existing row while holding a lock that \
          blocks writes (SHARE ROW EXCLUSIVE on both tables for a foreign key, ACCESS EXCLUSIVE for a \
          check), on every version. Add it `NOT VALID` (checked for new rows only, a brief lock), then \
          `VALIDATE CONSTRAINT` in a later migration, which scans under SHARE UPDATE EXCLUSIVE and lets \
          writes through: `execute_unprepared(r#\"ALTER TABLE \"orders\" ADD CONSTRAINT \
          \"fk_orders_customer\" FOREIGN KEY (\"customer_id\") REFERENCES \"customers\" (\"id\") NOT VALID\"#)`.",
};

/// `ADD UNIQUE` / `ADD PRIMARY KEY` not built from an index made concurrently.
pub const UNIQUE_WITHOUT_INDEX: Rule = Rule {
    id: "pg.unique-without-index",
    level: Level::Error,
    backends: PG,
    summary: "ADD UNIQUE / PRIMARY KEY on an existing table that builds its own index",
    doc: "`ADD CONSTRAINT … UNIQUE` or `PRIMARY KEY` (or an added column that is `UNIQUE`) builds \
          its index while holding an ACCESS EXCLUSIVE lock: reads and writes wait for the whole build, \
          on every version. Build the index first with `CREATE UNIQUE INDEX CONCURRENTLY` (in a \
          migration without a transaction), then attach it, which is instant: `ALTER TABLE \"t\" ADD \
          CONSTRAINT \"t_code_key\" UNIQUE USING INDEX \"t_code_idx\"`.",
};

/// `ALTER TYPE … ADD VALUE` inside a transaction.
pub const ENUM_VALUE_IN_TRANSACTION: Rule = Rule {
    id: "pg.enum-value-in-transaction",
    level: Level::Error,
    backends: PG,
    summary: "ALTER TYPE … ADD VALUE inside a transaction",
    doc: "Before PostgreSQL 12, `ALTER TYPE … ADD VALUE` cannot run inside a transaction block at \
          all; from 12 on it can, but the new value cannot be used until that transaction commits, so \
          a migration that adds a value and then uses it (a default, an update) fails. Add the value in \
          a migration of its own with `fn use_transaction(&self) -> Option<bool> { Some(false) }`: \
          `execute_unprepared(\"ALTER TYPE \\\"status\\\" ADD VALUE IF NOT EXISTS 'archived'\")`, and use \
          it from the next migration.",
};

/// DDL on an existing table with no lock timeout.
pub const LOCK_TIMEOUT: Rule = Rule {
    id: "pg.lock-timeout-missing",
    level: Level::Warning,
    backends: PG,
    summary: "DDL on an existing table with no lock timeout set",
    doc: "Even an instant `ALTER TABLE` first waits for its ACCESS EXCLUSIVE lock, and while it waits \
          every later query on the table queues behind it: one long transaction holding the table turns \
          a millisecond change into an outage (every version). Bound the wait: run migrations with \
          `migrate up --lock-timeout-ddl 5` (the engine sets `lock_timeout` for each migration and can \
          retry), or start the migration with `execute_unprepared(\"SET LOCAL lock_timeout = '5s'\")`.",
};

/// The PostgreSQL rules.
pub const RULES: &[Rule] = &[
    INDEX_NOT_CONCURRENT,
    CONCURRENTLY_IN_TRANSACTION,
    ADD_COLUMN_NOT_NULL,
    SET_NOT_NULL,
    VOLATILE_DEFAULT,
    TYPE_CHANGE,
    CONSTRAINT_NOT_VALID,
    UNIQUE_WITHOUT_INDEX,
    ENUM_VALUE_IN_TRANSACTION,
    LOCK_TIMEOUT,
];

const VOLATILE: &[&str] = &[
    "random",
    "gen_random_uuid",
    "uuid_generate_v1",
    "uuid_generate_v1mc",
    "uuid_generate_v4",
    "uuidv4",
    "uuidv7",
    "clock_timestamp",
    "timeofday",
    "nextval",
    "txid_current",
];

/// Whether a default expression calls a volatile function.
fn volatile(expr: &str) -> Option<&'static str> {
    let lower = expr.to_ascii_lowercase();
    VOLATILE.iter().copied().find(|f| {
        lower.match_indices(f).any(|(at, _)| {
            let before = lower[..at].chars().next_back();
            let after = lower[at + f.len()..].trim_start().chars().next();
            !before.is_some_and(|c| c.is_alphanumeric() || c == '_') && after == Some('(')
        })
    })
}

pub(crate) fn check(ctx: &Ctx<'_>, catalog: &Catalog, statement: &Statement, hits: &mut Vec<Hit>) {
    let existing = |table: &str| catalog.existing(table, ctx.index);
    match &statement.kind {
        Kind::CreateIndex {
            table,
            concurrently,
            ..
        } => {
            if *concurrently && ctx.in_transaction {
                hits.push(hit(
                    &CONCURRENTLY_IN_TRANSACTION,
                    "CREATE INDEX CONCURRENTLY runs inside the migration's transaction, where PostgreSQL refuses it",
                ));
            }
            if !concurrently && existing(table) {
                hits.push(hit(
                    &INDEX_NOT_CONCURRENT,
                    format!("CREATE INDEX on existing table `{table}` blocks its writes while the index builds"),
                ));
            }
        }
        Kind::DropIndex {
            names,
            concurrently,
            ..
        } => {
            if *concurrently && ctx.in_transaction {
                hits.push(hit(
                    &CONCURRENTLY_IN_TRANSACTION,
                    "DROP INDEX CONCURRENTLY runs inside the migration's transaction, where PostgreSQL refuses it",
                ));
            }
            if !concurrently
                && let Some(name) = names
                    .iter()
                    .find(|n| catalog.index_on_existing(n, ctx.index))
            {
                hits.push(hit(
                    &INDEX_NOT_CONCURRENT,
                    format!("DROP INDEX `{name}` locks its table against reads and writes"),
                ));
            }
        }
        Kind::AddEnumValue { type_name } if ctx.in_transaction => {
            hits.push(hit(
                &ENUM_VALUE_IN_TRANSACTION,
                format!(
                    "ALTER TYPE `{type_name}` ADD VALUE runs inside the migration's transaction"
                ),
            ));
        }
        Kind::AlterTable { table, actions } if existing(table) => {
            for action in actions {
                alter_action(table, action, catalog, hits);
            }
        }
        _ => {}
    }
    if let Some(table) = statement.kind.table_ddl()
        && existing(table)
        && !ctx.lock_timeout
        && !ctx.lock_timeout_reported
        && !hits.iter().any(|h| h.rule.id == LOCK_TIMEOUT.id)
    {
        hits.push(hit(
            &LOCK_TIMEOUT,
            format!(
                "DDL on existing table `{table}` waits for its lock without a limit; pass --lock-timeout-ddl or SET LOCAL lock_timeout first"
            ),
        ));
    }
}

fn alter_action(table: &str, action: &Action, catalog: &Catalog, hits: &mut Vec<Hit>) {
    match action {
        Action::AddColumn(def) => add_column(table, def, hits),
        Action::SetNotNull(column) if !catalog.has_not_null_check(table, column) => {
            hits.push(hit(
                &SET_NOT_NULL,
                format!(
                    "SET NOT NULL on `{table}`.`{column}` scans the table under an ACCESS EXCLUSIVE lock; no validated CHECK (`{column}` IS NOT NULL) precedes it"
                ),
            ));
        }
        Action::AlterType { column, ty, using } => {
            let old = catalog.column(table, column).map(|c| c.ty.as_str());
            if *using || !old.is_some_and(|old| in_place(old, ty)) {
                let from = old.map_or_else(|| "its current type".to_owned(), |o| format!("`{o}`"));
                hits.push(hit(
                    &TYPE_CHANGE,
                    format!("changing `{table}`.`{column}` from {from} to `{ty}` rewrites the table under an ACCESS EXCLUSIVE lock"),
                ));
            }
        }
        Action::AddConstraint {
            kind: kind @ (ConstraintKind::ForeignKey | ConstraintKind::Check),
            not_valid: false,
            ..
        } => {
            let what = if *kind == ConstraintKind::ForeignKey {
                "a foreign key"
            } else {
                "a check"
            };
            hits.push(hit(
                &CONSTRAINT_NOT_VALID,
                format!("adding {what} to existing table `{table}` without NOT VALID checks every row while blocking writes"),
            ));
        }
        Action::AddConstraint {
            kind: kind @ (ConstraintKind::Unique | ConstraintKind::PrimaryKey),
            using_index: false,
            ..
        } => {
            let what = if *kind == ConstraintKind::Unique {
                "UNIQUE"
            } else {
                "PRIMARY KEY"
            };
            hits.push(hit(
                &UNIQUE_WITHOUT_INDEX,
                format!("ADD {what} on existing table `{table}` builds its index under an ACCESS EXCLUSIVE lock; attach an index built CONCURRENTLY with USING INDEX"),
            ));
        }
        _ => {}
    }
}

fn add_column(table: &str, def: &ColumnDef, hits: &mut Vec<Hit>) {
    let column = &def.name;
    let volatile_default = def.default.as_deref().and_then(volatile);
    if let Some(function) = volatile_default {
        hits.push(hit(
            &VOLATILE_DEFAULT,
            format!("the default of `{table}`.`{column}` calls volatile `{function}()`: every row is rewritten"),
        ));
    } else if def.generated_value || def.stored_generated {
        hits.push(hit(
            &VOLATILE_DEFAULT,
            format!(
                "`{table}`.`{column}` is filled per row ({}): every row is rewritten",
                def.ty
            ),
        ));
    } else if def.not_null && def.default.is_none() {
        hits.push(hit(
            &ADD_COLUMN_NOT_NULL,
            format!("`{table}`.`{column}` is NOT NULL without a default: the statement fails on a table with rows"),
        ));
    }
    if def.unique {
        hits.push(hit(
            &UNIQUE_WITHOUT_INDEX,
            format!("the added column `{table}`.`{column}` is UNIQUE/PRIMARY KEY: its index is built under an ACCESS EXCLUSIVE lock"),
        ));
    }
    if def.check || def.references {
        hits.push(hit(
            &CONSTRAINT_NOT_VALID,
            format!("the added column `{table}`.`{column}` carries a constraint checked under the table's lock; add it NOT VALID separately"),
        ));
    }
}

/// Whether changing a column from type `old` to `new` is binary compatible (no rewrite).
fn in_place(old: &str, new: &str) -> bool {
    if old == new {
        return true;
    }
    let (old_base, old_args) = type_parts(old);
    let (new_base, new_args) = type_parts(new);
    let widens = |same_scale: bool| match (old_args.as_slice(), new_args.as_slice()) {
        (_, []) => true,
        ([], _) => false,
        ([o, rest_o @ ..], [n, rest_n @ ..]) => n >= o && (!same_scale || rest_o == rest_n),
    };
    match (old_base, new_base) {
        ("varchar", "varchar") | ("varbit", "varbit") | ("bit varying", "bit varying") => {
            widens(false)
        }
        ("varchar", "text") | ("text", "varchar") if new_args.is_empty() || new_base == "text" => {
            true
        }
        ("numeric", "numeric") => widens(true),
        ("cidr", "inet") => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_binary_compatible_type_changes_are_in_place() {
        assert!(in_place("varchar(20)", "varchar(40)"));
        assert!(in_place("varchar(20)", "text"));
        assert!(in_place("numeric(10,2)", "numeric(12,2)"));
        assert!(!in_place("numeric(10,2)", "numeric(12,3)"));
        assert!(!in_place("varchar(40)", "varchar(20)"));
        assert!(!in_place("integer", "bigint"));
        assert!(!in_place("text", "varchar(20)"));
    }

    #[test]
    fn volatile_defaults_are_told_from_stable_ones() {
        assert_eq!(volatile("gen_random_uuid ()"), Some("gen_random_uuid"));
        assert_eq!(volatile("now()"), None);
        assert_eq!(volatile("'random'"), None);
        assert_eq!(volatile("CURRENT_TIMESTAMP"), None);
    }
}
