//! What `fresh` shows before it drops anything: every object, marked with whether the
//! migrations or the ledger account for it.

use std::fmt;

use serde::Serialize;

use super::objects::{Object, ObjectKind};
use super::statements::MigrationObjects;

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

    #[test]
    fn a_listing_shows_what_no_migration_created_first() {
        use ObjectKind::*;
        let objects = [
            Object::named(View, "\"available_timeslots\""),
            Object::named(Table, "\"tenants\""),
            Object::named(Table, "\"schema_migrations\""),
            Object::named(Table, "\"precious\""),
            Object::named(Table, "\"bookings\""),
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
