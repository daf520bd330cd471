//! What `verify` found: the [`Difference`]s between what a `down` leaves and what its `up` started
//! from, the tables whose rows a migration changed, and the report that holds them, as sentences
//! and as JSON.

use serde::{Serialize, Serializer};
use std::fmt;

use crate::schema::diff::Change;

/// One way in which a migration's `down` does not undo its `up`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Difference {
    /// After `up` then `down`, the schema differs from the one before `up`.
    Down {
        /// The migration's module name.
        migration: String,
        /// From the schema before `up` to the schema after `down`.
        change: Change,
    },
    /// `up` run again after `down` gives a schema other than its first run did.
    Reapply {
        /// The migration's module name.
        migration: String,
        /// From the schema after the first `up` to the schema after the second.
        change: Change,
    },
    /// `down` failed.
    DownFailed {
        /// The migration's module name.
        migration: String,
        /// The database's error.
        error: String,
    },
    /// The migration has no `down`.
    Irreversible {
        /// The migration's module name.
        migration: String,
        /// What its `down` returned.
        reason: String,
    },
    /// `up` failed when run again after `down`.
    ReapplyFailed {
        /// The migration's module name.
        migration: String,
        /// The database's error.
        error: String,
    },
    /// A consolidated migration ends in another schema than the migrations it replaces.
    Squash {
        /// The consolidated migration's module name.
        migration: String,
        /// From the schema the replaced migrations give to the one it gives.
        change: Change,
    },
    /// After a consolidated migration's `up` then `down`, the schema differs from before.
    SquashDown {
        /// The consolidated migration's module name.
        migration: String,
        /// From the schema before its `up` to the schema after its `down`.
        change: Change,
    },
    /// A consolidated migration's `up` or `down` failed, or it was not used where it should be.
    SquashFailed {
        /// The consolidated migration's module name.
        migration: String,
        /// What failed.
        error: String,
    },
    /// After `up` then `down`, a table holds another number of rows than before `up`: the
    /// `down` of a data migration does not take back the rows its `up` wrote (or takes more).
    Rows {
        /// The migration's module name.
        migration: String,
        /// The table.
        table: String,
        /// Its rows before `up`.
        before: i64,
        /// Its rows after `down`.
        after_down: i64,
    },
    /// The `down` SQL stored at apply time is not what the code renders now: a `down` that
    /// renders differently each time cannot be trusted to revert the migration once its code is
    /// gone.
    StoredDown {
        /// The migration's module name.
        migration: String,
        /// The statements stored in the ledger.
        stored: Vec<String>,
        /// The statements the code renders.
        rendered: Vec<String>,
    },
}

impl Difference {
    /// The module name of the migration it is about.
    pub fn migration(&self) -> &str {
        match self {
            Difference::Down { migration, .. }
            | Difference::Reapply { migration, .. }
            | Difference::DownFailed { migration, .. }
            | Difference::Irreversible { migration, .. }
            | Difference::ReapplyFailed { migration, .. }
            | Difference::Squash { migration, .. }
            | Difference::SquashDown { migration, .. }
            | Difference::SquashFailed { migration, .. }
            | Difference::Rows { migration, .. }
            | Difference::StoredDown { migration, .. } => migration,
        }
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // A consolidated migration's down is judged like any other down.
            Difference::Down { migration, change }
            | Difference::SquashDown { migration, change } => match change {
                Change::Added { object } => write!(f, "down of {migration} leaves {object}"),
                Change::Removed { object } => write!(
                    f,
                    "down of {migration} drops {object} that existed before up"
                ),
                Change::Altered { object, .. } => write!(
                    f,
                    "down of {migration} changes {object}: {}",
                    change.alteration().unwrap_or_default()
                ),
            },
            Difference::Reapply { migration, change } => match change {
                Change::Added { object } => write!(
                    f,
                    "up of {migration} run again after its down creates {object}, which its first run did not"
                ),
                Change::Removed { object } => write!(
                    f,
                    "up of {migration} run again after its down does not create {object}, which its first run did"
                ),
                Change::Altered { object, .. } => write!(
                    f,
                    "up of {migration} run again after its down leaves {object} unlike its first run: {}",
                    change.alteration().unwrap_or_default()
                ),
            },
            Difference::Squash { migration, change } => match change {
                Change::Added { object } => write!(
                    f,
                    "{migration} creates {object}, which the migrations it replaces do not"
                ),
                Change::Removed { object } => write!(
                    f,
                    "{migration} does not create {object}, which the migrations it replaces do"
                ),
                Change::Altered { object, .. } => write!(
                    f,
                    "{migration} leaves {object} unlike the migrations it replaces: {}",
                    change.alteration().unwrap_or_default()
                ),
            },
            Difference::SquashFailed { migration, error } => {
                write!(f, "{migration}: {}", one_line(error))
            }
            Difference::DownFailed { migration, error } => {
                write!(f, "down of {migration} fails: {}", one_line(error))
            }
            Difference::Irreversible { migration, reason } => write!(
                f,
                "{migration} has no down ({}): it cannot be reverted or verified",
                one_line(reason)
            ),
            Difference::ReapplyFailed { migration, error } => write!(
                f,
                "up of {migration} fails when run again after its down: {}",
                one_line(error)
            ),
            Difference::Rows {
                migration,
                table,
                before,
                after_down,
            } => write!(
                f,
                "down of {migration} leaves {after_down} row(s) in table {table}, which held {before} before up"
            ),
            Difference::StoredDown {
                migration,
                stored,
                rendered,
            } => {
                write!(
                    f,
                    "the down SQL stored when {migration} was applied is not what its code renders now"
                )?;
                let first = (0..stored.len().max(rendered.len()))
                    .find(|&i| stored.get(i) != rendered.get(i));
                if let Some(i) = first {
                    let show = |s: Option<&String>| {
                        s.map_or_else(|| "nothing".to_owned(), |s| format!("`{}`", one_line(s)))
                    };
                    write!(
                        f,
                        ": statement {} was stored as {} and renders as {}",
                        i + 1,
                        show(stored.get(i)),
                        show(rendered.get(i))
                    )?;
                }
                Ok(())
            }
        }
    }
}

/// What `verify` found.
#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    /// `postgres`, `mysql` or `sqlite`.
    pub backend: &'static str,
    /// The scratch database it worked in (dropped since), password redacted.
    pub scratch: String,
    /// The version checking started at, when `--from` was given.
    pub from: Option<String>,
    /// Module names of the migrations checked, in order.
    pub verified: Vec<String>,
    /// Module names of the consolidated migrations checked.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub squashes: Vec<String>,
    /// Every difference found, in the order found; empty when every migration is reversible.
    #[serde(serialize_with = "with_messages")]
    pub differences: Vec<Difference>,
    /// The migrations whose `up` changed the number of rows of a table, and what their `down`
    /// made of it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub data: Vec<RowChange>,
}

/// A table whose number of rows a migration's `up` changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowChange {
    /// The migration's module name.
    pub migration: String,
    /// The table.
    pub table: String,
    /// Its rows before `up`; `None` when `up` created it.
    pub before: Option<i64>,
    /// Its rows after `up`; `None` when `up` dropped it.
    pub after_up: Option<i64>,
    /// Its rows after `down`; `None` when `down` dropped it (or `down` did not run).
    pub after_down: Option<i64>,
}

impl RowChange {
    /// Whether `down` put the count back as it was before `up`.
    pub fn restored(&self) -> bool {
        self.before == self.after_down
    }
}

impl fmt::Display for RowChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count =
            |n: Option<i64>| n.map_or_else(|| "no table".to_owned(), |n| format!("{n} row(s)"));
        write!(
            f,
            "{} changed rows on the way up: table {} went from {} to {}; ",
            self.migration,
            self.table,
            count(self.before),
            count(self.after_up)
        )?;
        if self.restored() {
            write!(f, "its down put the row count back")
        } else {
            write!(f, "its down left {}", count(self.after_down))
        }
    }
}

impl VerifyReport {
    /// Whether every checked migration's `down` undoes its `up`.
    pub fn is_clean(&self) -> bool {
        self.differences.is_empty()
    }
}

/// Each difference with its sentence, so JSON readers need not rebuild it.
fn with_messages<S: Serializer>(
    differences: &[Difference],
    serializer: S,
) -> std::result::Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    struct Reported<'a> {
        message: String,
        #[serde(flatten)]
        difference: &'a Difference,
    }
    serializer.collect_seq(differences.iter().map(|difference| Reported {
        message: difference.to_string(),
        difference,
    }))
}

impl fmt::Display for VerifyReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in &self.differences {
            writeln!(f, "{d}")?;
        }
        for change in &self.data {
            writeln!(f, "{change}")?;
        }
        let checked = self.verified.len();
        if self.is_clean() {
            writeln!(
                f,
                "Verified {checked} migration(s): each down restores the schema its up started from, and each up runs again to the same schema."
            )?;
            if !self.squashes.is_empty() {
                writeln!(
                    f,
                    "Verified {} consolidated migration(s): each ends in the schema of the migrations it replaces, and its down restores the schema before it.",
                    self.squashes.len()
                )?;
            }
            return Ok(());
        }
        let mut migrations: Vec<&str> = self.differences.iter().map(|d| d.migration()).collect();
        migrations.dedup();
        writeln!(
            f,
            "{} difference(s) in {} of {checked} migration(s) checked: make each down undo exactly what its up does.",
            self.differences.len(),
            migrations.len()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::diff::{Aspect, Object};

    #[test]
    fn differences_read_as_sentences_naming_the_migration_and_the_object() {
        let m = "m20240813_000010_create_indexes".to_owned();
        let index = Object::Index {
            table: "bookings".to_owned(),
            name: "idx_bookings_status".to_owned(),
        };
        let cases = [
            (
                Difference::Down {
                    migration: m.clone(),
                    change: Change::Added {
                        object: index.clone(),
                    },
                },
                "down of m20240813_000010_create_indexes leaves index idx_bookings_status on bookings",
            ),
            (
                Difference::Down {
                    migration: m.clone(),
                    change: Change::Removed {
                        object: Object::Table {
                            name: "accounts".to_owned(),
                        },
                    },
                },
                "down of m20240813_000010_create_indexes drops table accounts that existed before up",
            ),
            (
                Difference::Down {
                    migration: m.clone(),
                    change: Change::Altered {
                        object: Object::Column {
                            table: "users".to_owned(),
                            name: "email".to_owned(),
                        },
                        aspect: Aspect::Nullability,
                        before: "nullable".to_owned(),
                        after: "not null".to_owned(),
                    },
                },
                "down of m20240813_000010_create_indexes changes column users.email: nullable -> not null",
            ),
            (
                Difference::StoredDown {
                    migration: m.clone(),
                    stored: vec!["DROP TABLE a".to_owned()],
                    rendered: vec!["DROP TABLE a".to_owned(), "SELECT 2".to_owned()],
                },
                "the down SQL stored when m20240813_000010_create_indexes was applied is not what its code renders now: statement 2 was stored as nothing and renders as `SELECT 2`",
            ),
        ];
        for (difference, sentence) in cases {
            assert_eq!(difference.to_string(), sentence);
        }
    }

    #[test]
    fn the_json_of_a_difference_carries_its_sentence_and_its_parts() {
        let report = VerifyReport {
            backend: "sqlite",
            scratch: "sqlite://scratch.db".to_owned(),
            from: None,
            verified: vec!["m20240101_000001_a".to_owned()],
            data: Vec::new(),
            squashes: Vec::new(),
            differences: vec![Difference::Down {
                migration: "m20240101_000001_a".to_owned(),
                change: Change::Added {
                    object: Object::View {
                        name: "v_x".to_owned(),
                    },
                },
            }],
        };
        let json = serde_json::to_value(&report).unwrap_or_default();
        assert_eq!(
            json["differences"][0],
            serde_json::json!({
                "message": "down of m20240101_000001_a leaves view v_x",
                "kind": "down",
                "migration": "m20240101_000001_a",
                "change": {"type": "added", "object": {"kind": "view", "name": "v_x"}},
            })
        );
    }
}
