//! MariaDB and MySQL (InnoDB): `ALTER TABLE`s the server can only do by copying the table (writes
//! blocked for the whole copy, and a replica lagging behind it), and changes whose effect on
//! existing rows is not what the migration says.

use sea_orm::DbBackend;

use super::{Catalog, Ctx, Hit, Rule, hit};
use crate::lint::sql::{Action, ColumnDef, ConstraintKind, Kind, Statement, type_parts};
use crate::lint::{Level, ServerVersion};

const MY: &[DbBackend] = &[DbBackend::MySql];

/// An `ALTER` that needs `ALGORITHM=COPY`.
pub const COPY_ALGORITHM: Rule = Rule {
    id: "mysql.copy-algorithm",
    level: Level::Error,
    backends: MY,
    summary: "an ALTER TABLE on an existing table that the server can only run with ALGORITHM=COPY",
    doc: "InnoDB runs most `ALTER TABLE`s in place (MariaDB 10.0+, MySQL 5.6+; adding or dropping a \
          column is INSTANT from MariaDB 10.3/10.4 and MySQL 8.0), but a column type change other than \
          widening a `VARCHAR` without changing how its length is stored (past 255 bytes from a \
          column of 128 to 255 bytes is a copy), a charset conversion, a stored generated \
          column, dropping the primary key without adding one, a foreign key with `foreign_key_checks` \
          on, or an engine change copies the whole table while blocking writes (and before those \
          versions every ALTER copies). Say what you accept so that the server refuses instead of \
          copying: append `, ALGORITHM=INPLACE, LOCK=NONE` (or `INSTANT`) through `execute_unprepared`, \
          and do type changes as expand/contract: `ColumnDef::new(T::AmountBig).big_integer().null()`, \
          backfill in batches, then switch.",
};

/// `ADD COLUMN … NOT NULL` without a default on an existing table.
pub const ADD_COLUMN_NOT_NULL: Rule = Rule {
    id: "mysql.add-column-not-null-without-default",
    level: Level::Error,
    backends: MY,
    summary: "ADD COLUMN … NOT NULL without a default on an existing table",
    doc: "MariaDB and MySQL add a `NOT NULL` column without a default to a populated table by giving \
          every existing row the type's implicit default (0, '', or a zero date, which strict \
          `NO_ZERO_DATE` modes then refuse): rows silently hold a value nobody chose, on every version. \
          Give the column the default you mean, `ColumnDef::new(T::Status).string_len(16).not_null().default(\"new\")` \
          (INSTANT on MariaDB 10.3+ and MySQL 8.0+), or add it nullable, backfill, then make it NOT NULL.",
};

/// A column type change on an existing table.
pub const TYPE_CHANGE: Rule = Rule {
    id: "mysql.column-type-change",
    level: Level::Warning,
    backends: MY,
    summary: "a column type change (MODIFY/CHANGE) on an existing table",
    doc: "`MODIFY`/`CHANGE` to another type converts every row (silently truncating or rounding \
          values that do not fit unless strict mode refuses the whole statement) and, while old \
          application instances still run, hands them a column of a type they do not expect; where it \
          also needs a table copy `mysql.copy-algorithm` says so. Prefer expand/contract: add the new \
          column (`ColumnDef::new(T::CodeV2).string_len(64).null()`), dual-write and backfill, switch \
          readers, then drop the old column in a later release.",
};

/// A foreign key added to a populated table.
pub const FOREIGN_KEY: Rule = Rule {
    id: "mysql.foreign-key-on-populated-table",
    level: Level::Error,
    backends: MY,
    summary: "ADD FOREIGN KEY on an existing table with foreign_key_checks on",
    doc: "With `foreign_key_checks=1` (the default), InnoDB adds a foreign key only with \
          ALGORITHM=COPY: the table is copied and every row checked while writes wait (MariaDB and \
          MySQL, every version; MariaDB reports `Adding foreign keys needs foreign_key_checks=OFF`). \
          Check the data first with a query, then add the key in place: \
          `execute_unprepared(\"SET foreign_key_checks = 0\")`, then `manager.create_foreign_key(ForeignKey::create()…)`, \
          then `SET foreign_key_checks = 1`; orphans added meanwhile are not caught, so run the check query again.",
};

/// The MariaDB/MySQL rules.
pub const RULES: &[Rule] = &[
    COPY_ALGORITHM,
    ADD_COLUMN_NOT_NULL,
    TYPE_CHANGE,
    FOREIGN_KEY,
];

pub(crate) fn check(ctx: &Ctx<'_>, catalog: &Catalog, statement: &Statement, hits: &mut Vec<Hit>) {
    let Kind::AlterTable { table, actions } = &statement.kind else {
        return;
    };
    if !catalog.existing(table, ctx.index) {
        return;
    }
    // `ALGORITHM=INPLACE/NOCOPY/INSTANT` makes the server refuse rather than copy: safe.
    let refuses_copy = actions
        .iter()
        .any(|a| matches!(a, Action::Algorithm(alg) if alg != "COPY" && alg != "DEFAULT"));
    let adds_primary_key = actions.iter().any(|a| {
        matches!(
            a,
            Action::AddConstraint {
                kind: ConstraintKind::PrimaryKey,
                ..
            }
        )
    });
    let mut copies: Vec<String> = Vec::new();
    if !ctx.server.online_ddl() {
        copies.push(format!("{} copies the table for every ALTER", ctx.server));
    }
    for action in actions {
        match action {
            Action::AddColumn(def) => {
                if def.not_null
                    && def.default.is_none()
                    && !def.generated_value
                    && !def.stored_generated
                {
                    hits.push(hit(
                        &ADD_COLUMN_NOT_NULL,
                        format!("`{table}`.`{}` is NOT NULL without a default: existing rows get the type's implicit default", def.name),
                    ));
                }
                if def.stored_generated {
                    copies.push(format!("the stored generated column `{}`", def.name));
                }
            }
            Action::Modify { column, def } => {
                let old = catalog.column(table, column);
                match old {
                    Some(old) if same_type(&old.ty, &def.ty) => {}
                    _ => {
                        let from = old.map_or_else(
                            || "its current type".to_owned(),
                            |o| format!("`{}`", o.ty),
                        );
                        hits.push(hit(
                            &TYPE_CHANGE,
                            format!("`{table}`.`{column}` changes from {from} to `{}`", def.ty),
                        ));
                        if !old.is_some_and(|old| in_place(old, def)) {
                            copies.push(format!("changing the type of `{column}` to `{}`", def.ty));
                        }
                    }
                }
            }
            Action::Charset => copies.push("converting the character set".to_owned()),
            Action::Algorithm(algorithm) if algorithm == "COPY" => {
                copies.push("ALGORITHM=COPY is asked for".to_owned());
            }
            Action::Engine => copies.push("changing the engine".to_owned()),
            Action::DropPrimaryKey if !adds_primary_key => {
                copies.push("dropping the primary key without adding one".to_owned());
            }
            Action::AddConstraint {
                kind: ConstraintKind::ForeignKey,
                ..
            } if !ctx.foreign_key_checks_off => {
                hits.push(hit(
                    &FOREIGN_KEY,
                    format!("adding a foreign key to existing table `{table}` copies it and checks every row (foreign_key_checks is on)"),
                ));
            }
            _ => {}
        }
    }
    if !copies.is_empty() && !refuses_copy {
        hits.push(hit(
            &COPY_ALGORITHM,
            format!(
                "ALTER TABLE `{table}` needs ALGORITHM=COPY on {}: {}",
                ctx.server,
                copies.join(", ")
            ),
        ));
    }
}

/// Whether two normalised types are the same type (integer display widths aside).
fn same_type(old: &str, new: &str) -> bool {
    strip_width(old) == strip_width(new)
}

fn strip_width(ty: &str) -> String {
    let (base, _) = type_parts(ty);
    let integer = ["tinyint", "smallint", "mediumint", "integer", "bigint"].contains(&base);
    if integer && ty[base.len()..].starts_with('(') {
        let close = ty.find(')').map_or(ty.len(), |c| c + 1);
        format!("{base}{}", &ty[close..])
    } else {
        ty.to_owned()
    }
}

/// Whether InnoDB changes `old` into `new` without copying: a `VARCHAR`/`VARBINARY` that grows
/// without changing how its length is stored (`utf8mb4` counts four bytes a character).
fn in_place(old: &ColumnDef, new: &ColumnDef) -> bool {
    let (old_base, old_args) = type_parts(&old.ty);
    let (new_base, new_args) = type_parts(&new.ty);
    let bytes = |base: &str, n: u64| if base == "varbinary" { n } else { n * 4 };
    match (old_base, new_base, old_args.as_slice(), new_args.as_slice()) {
        ("varchar", "varchar", [o], [n]) | ("varbinary", "varbinary", [o], [n]) => {
            // A column of at most 255 bytes stores its length in one byte, a longer one in one
            // byte below 128 and two above: growing keeps the rows valid unless it moves a
            // column of 128 to 255 bytes past 255 (tried on MariaDB 10.11).
            let (o, n) = (bytes(old_base, *o), bytes(new_base, *n));
            n >= o && (o <= 127 || n <= 255 || o > 255)
        }
        _ => false,
    }
}

impl ServerVersion {
    /// Whether InnoDB's online DDL (in-place `ALTER TABLE`) exists on this server.
    fn online_ddl(self) -> bool {
        match self {
            ServerVersion::MariaDb(major, minor) => (major, minor) >= (10, 0),
            ServerVersion::MySql(major, minor) => (major, minor) >= (5, 6),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn col(ty: &str) -> ColumnDef {
        ColumnDef {
            name: "c".into(),
            ty: ty.into(),
            ..ColumnDef::default()
        }
    }

    #[test]
    fn a_varchar_grows_in_place_only_within_its_length_byte_class() {
        assert!(in_place(&col("varchar(20)"), &col("varchar(60)")));
        assert!(in_place(&col("varchar(31)"), &col("varchar(70)")));
        assert!(!in_place(&col("varchar(32)"), &col("varchar(70)")));
        assert!(!in_place(&col("varchar(60)"), &col("varchar(70)")));
        assert!(!in_place(&col("varchar(60)"), &col("varchar(50)")));
        assert!(in_place(&col("varchar(100)"), &col("varchar(200)")));
        assert!(!in_place(&col("integer"), &col("bigint")));
    }

    #[test]
    fn integer_display_widths_are_not_type_changes() {
        assert!(same_type("integer(11)", "integer"));
        assert!(!same_type("integer", "bigint"));
        assert!(!same_type("integer", "integer unsigned"));
        assert!(same_type("varchar(20)", "varchar(20)"));
    }
}
