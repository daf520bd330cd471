//! Several migration sets in one project, and the order they run in.
//!
//! A set is one ordered list of migrations with its own ledger, running on one database. A
//! project of several sets names each ([`Project::named`]), may say that a set needs another set
//! whole ([`Project::needs`]) or one migration of it ([`Project::needs_migration`]), and where
//! each runs ([`Project::database`]). [`Sets::load`] checks all of it before any database is
//! contacted and puts the sets in their run order: every set after the sets it needs, otherwise
//! in the order they were declared. Commands across sets go through them in that order (`down`
//! in reverse), each set under its own lock, so two runners never wait for each other in a
//! circle.

use std::collections::BTreeMap;
use std::sync::RwLock;

use crate::model::ModelError;
use crate::model::project::{LoadedProject, Project};
use crate::model::set::MigrationId;

/// Where a set's migrations run. `<SET>_DATABASE_URL` (the set's name in capitals) overrides
/// each of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SetDatabase {
    /// The project's database: `DATABASE_URL` (or `-u`).
    #[default]
    Default,
    /// A database of its own, always given as `<SET>_DATABASE_URL`; a command refuses to run
    /// the set without it.
    Own,
    /// On PostgreSQL, the database of this name on the server of `DATABASE_URL`, for migrations
    /// that belong in one database of a server, such as pg_cron's (which lives in the database
    /// its `cron.database_name` setting names, `postgres` by default). On MariaDB/MySQL and
    /// SQLite, which have no such server-wide extensions, `DATABASE_URL` itself.
    PostgresDatabase(&'static str),
}

/// What a set needs from another set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Need {
    /// The set it needs.
    pub set: String,
    /// One migration of that set (its fourteen-digit version), or `None` for the whole set.
    pub version: Option<String>,
}

impl Need {
    /// `set `timeseries`` or `migration 20240101000001_x of set `timeseries``, for messages.
    pub fn describe(&self, sets: &LoadedSets) -> String {
        match &self.version {
            None => format!("set `{}`", self.set),
            Some(version) => {
                let label = sets
                    .get(&self.set)
                    .and_then(|s| s.project.set.get(version))
                    .map_or_else(|| version.clone(), |m| m.id.to_string());
                format!("migration {label} of set `{}`", self.set)
            }
        }
    }
}

/// Why a project's sets were refused, before any database is contacted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SetsError {
    /// A project of several sets left one unnamed.
    #[error(
        "set number {position} has no name: in a project of several sets, name each with `.named(\"...\")`"
    )]
    Unnamed {
        /// Its position in the declaration, from 1.
        position: usize,
    },
    /// A set's name is not a short snake_case identifier.
    #[error(
        "set name `{name}` is invalid: use lowercase letters, digits and `_`, starting with a letter, at most 30 characters"
    )]
    BadName {
        /// The name.
        name: String,
    },
    /// Two sets share a name.
    #[error("two sets are named `{name}`: give each set its own name")]
    Duplicate {
        /// The shared name.
        name: String,
    },
    /// A set needs a set the project does not declare.
    #[error(
        "set `{set}` needs set `{needed}`, which is not declared; declare it or fix the name (sets: {known})"
    )]
    UnknownSet {
        /// The set with the need.
        set: String,
        /// The set it names.
        needed: String,
        /// The declared sets, comma-separated.
        known: String,
    },
    /// A set needs a migration its set does not hold.
    #[error(
        "set `{set}` needs migration `{migration}` of set `{needed}`, which that set does not hold; fix the name or add the migration"
    )]
    UnknownMigration {
        /// The set with the need.
        set: String,
        /// The set it names.
        needed: String,
        /// The migration as declared.
        migration: String,
    },
    /// Sets need each other in a circle.
    #[error("sets need each other in a cycle: {cycle}; remove one of these needs")]
    Cycle {
        /// The sets around the circle, `a -> b -> a`.
        cycle: String,
    },
}

/// One set as declared, checked and loaded.
#[derive(Debug)]
pub struct LoadedSet {
    /// Its name.
    pub name: String,
    /// Its migrations and their declarations.
    pub project: LoadedProject,
    /// What it needs from other sets.
    pub needs: Vec<Need>,
    /// Where it runs.
    pub database: SetDatabase,
}

impl LoadedSet {
    /// Whether this set needs `version` of set `set` (a need of the whole set covers each of
    /// its migrations).
    pub fn needs_version(&self, set: &str, version: &str) -> bool {
        self.needs
            .iter()
            .any(|n| n.set == set && n.version.as_deref().is_none_or(|v| v == version))
    }
}

/// A project's sets in run order, or its one unnamed set.
#[derive(Debug)]
pub enum LoadedSets {
    /// A project of one unnamed set: the ledger and every command as they always were.
    Single(Box<LoadedProject>),
    /// Named sets, in run order.
    Named(Vec<LoadedSet>),
}

impl LoadedSets {
    /// The set named `name`, in a project of named sets.
    pub fn get(&self, name: &str) -> Option<&LoadedSet> {
        match self {
            LoadedSets::Single(_) => None,
            LoadedSets::Named(sets) => sets.iter().find(|s| s.name == name),
        }
    }

    /// The named sets in run order; empty for a project of one unnamed set.
    pub fn named(&self) -> &[LoadedSet] {
        match self {
            LoadedSets::Single(_) => &[],
            LoadedSets::Named(sets) => sets,
        }
    }

    /// The names in run order, comma-separated, for messages.
    pub fn names(&self) -> String {
        self.named()
            .iter()
            .map(|s| s.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// A project's declared sets, checked by [`Sets::load`].
#[derive(Debug)]
pub struct Sets(Vec<Project>);

impl Sets {
    /// The sets of a project, as declared.
    pub fn new(projects: Vec<Project>) -> Self {
        Self(projects)
    }

    /// Checks every set and every need before any database is contacted, and orders the sets.
    ///
    /// # Errors
    /// [`SetsError`] for a set without a name (when there are several), a bad or shared name,
    /// a need of an unknown set or migration, or needs in a cycle; what [`Project::load`]
    /// refuses for any one set.
    pub fn load(self) -> Result<LoadedSets, ModelError> {
        let mut projects = self.0;
        if projects.len() == 1 && projects[0].set_name().is_none() {
            return Ok(LoadedSets::Single(Box::new(projects.remove(0).load()?)));
        }
        let mut declared: Vec<Declared> = Vec::with_capacity(projects.len());
        for (i, project) in projects.iter().enumerate() {
            let name = project
                .set_name()
                .ok_or(SetsError::Unnamed { position: i + 1 })?
                .to_owned();
            if !valid_name(&name) {
                return Err(SetsError::BadName { name }.into());
            }
            if declared.iter().any(|(n, ..)| *n == name) {
                return Err(SetsError::Duplicate { name }.into());
            }
            declared.push((name, project.set_needs().to_vec(), project.set_database()));
        }
        let loaded: Vec<LoadedProject> = projects
            .into_iter()
            .map(Project::load)
            .collect::<Result<_, _>>()?;
        let known = declared
            .iter()
            .map(|(n, ..)| n.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        let mut needs: Vec<Vec<Need>> = Vec::with_capacity(declared.len());
        for (name, wanted, _) in &declared {
            let mut resolved = Vec::with_capacity(wanted.len());
            for (needed, migration) in wanted {
                let Some(index) = declared.iter().position(|(n, ..)| n == needed) else {
                    return Err(SetsError::UnknownSet {
                        set: name.clone(),
                        needed: needed.clone(),
                        known: known.clone(),
                    }
                    .into());
                };
                let version = match migration {
                    None => None,
                    Some(typed) => {
                        let unknown = || SetsError::UnknownMigration {
                            set: name.clone(),
                            needed: needed.clone(),
                            migration: typed.clone(),
                        };
                        let version = MigrationId::normalise_version(typed).ok_or_else(unknown)?;
                        if loaded[index].set.get(&version).is_none() {
                            return Err(unknown().into());
                        }
                        Some(version)
                    }
                };
                resolved.push(Need {
                    set: needed.clone(),
                    version,
                });
            }
            needs.push(resolved);
        }
        let order = run_order(&declared, &needs)?;
        let mut slots: Vec<Option<LoadedSet>> = loaded
            .into_iter()
            .zip(declared)
            .zip(needs)
            .map(|((project, (name, _, database)), needs)| {
                Some(LoadedSet {
                    name,
                    project,
                    needs,
                    database,
                })
            })
            .collect();
        Ok(LoadedSets::Named(
            order.into_iter().filter_map(|i| slots[i].take()).collect(),
        ))
    }
}

/// A set's name, its needs as declared, and where it runs.
type Declared = (String, Vec<(String, Option<String>)>, SetDatabase);

fn valid_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 30
        && bytes[0].is_ascii_lowercase()
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'_')
}

/// Every set after the sets it needs; among sets free to go, the one declared first. A cycle is
/// refused naming its sets.
fn run_order<T, D>(
    declared: &[(String, T, D)],
    needs: &[Vec<Need>],
) -> Result<Vec<usize>, SetsError> {
    let index = |name: &str| declared.iter().position(|(n, ..)| n == name);
    let mut placed = vec![false; declared.len()];
    let mut order = Vec::with_capacity(declared.len());
    while order.len() < declared.len() {
        let ready = (0..declared.len()).find(|&i| {
            !placed[i]
                && needs[i]
                    .iter()
                    .all(|n| index(&n.set).is_some_and(|j| placed[j] && j != i))
        });
        match ready {
            Some(i) => {
                placed[i] = true;
                order.push(i);
            }
            None => {
                let start = (0..declared.len()).find(|&i| !placed[i]).unwrap_or(0);
                return Err(SetsError::Cycle {
                    cycle: cycle_from(start, declared, needs, &placed),
                });
            }
        }
    }
    Ok(order)
}

/// Walks unplaced needs from `start` until a set repeats, and names the circle found.
fn cycle_from<T, D>(
    start: usize,
    declared: &[(String, T, D)],
    needs: &[Vec<Need>],
    placed: &[bool],
) -> String {
    let index = |name: &str| declared.iter().position(|(n, ..)| n == name);
    let mut path = vec![start];
    loop {
        let current = path[path.len() - 1];
        let next = needs[current]
            .iter()
            .filter_map(|n| index(&n.set))
            .find(|&j| !placed[j]);
        let Some(next) = next else { break };
        if let Some(at) = path.iter().position(|&p| p == next) {
            let mut names: Vec<&str> = path[at..].iter().map(|&i| declared[i].0.as_str()).collect();
            names.push(&declared[next].0);
            return names.join(" -> ");
        }
        path.push(next);
    }
    declared[start].0.clone()
}

/// The database each set runs on in this process's run, by set name, as the command line or a
/// library caller resolved them ([`publish_databases`]).
static DATABASES: RwLock<BTreeMap<String, String>> = RwLock::new(BTreeMap::new());

/// The name of the database the set `set` runs on in this run (PostgreSQL and MariaDB/MySQL;
/// for SQLite, the file), once the run's sets are resolved; `None` before, or for an unknown
/// set.
///
/// For a migration that reaches from one set's database into another's: a pg_cron job that the
/// maintenance set schedules, in the `postgres` database, to run in the application's
/// (`cron.schedule_in_database(..., database)`). The SQL such a migration renders contains the
/// name, so its checksum is that of the deployment it ran in.
pub fn database_of(set: &str) -> Option<String> {
    DATABASES.read().ok()?.get(set).cloned()
}

/// Records the database each set runs on, for [`database_of`].
pub fn publish_databases<'x>(databases: impl IntoIterator<Item = (&'x str, String)>) {
    if let Ok(mut map) = DATABASES.write() {
        for (set, database) in databases {
            map.insert(set.to_owned(), database);
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use sea_orm_migration::prelude::*;

    macro_rules! migration {
        ($module:ident, $name:literal) => {
            mod $module {
                use sea_orm_migration::prelude::*;
                pub struct Migration;
                impl MigrationName for Migration {
                    fn name(&self) -> &str {
                        $name
                    }
                }
                #[async_trait::async_trait]
                impl MigrationTrait for Migration {
                    async fn up(&self, _: &SchemaManager) -> Result<(), DbErr> {
                        Ok(())
                    }
                }
            }
        };
    }
    migration!(a1, "m20240101_000001_a");
    migration!(b1, "m20240101_000001_b");

    struct A;
    impl MigratorTrait for A {
        fn migrations() -> Vec<Box<dyn MigrationTrait>> {
            vec![Box::new(a1::Migration)]
        }
    }
    struct B;
    impl MigratorTrait for B {
        fn migrations() -> Vec<Box<dyn MigrationTrait>> {
            vec![Box::new(b1::Migration)]
        }
    }

    fn order(sets: Vec<Project>) -> Result<Vec<String>, ModelError> {
        Ok(Sets::new(sets)
            .load()?
            .named()
            .iter()
            .map(|s| s.name.clone())
            .collect())
    }

    fn err(sets: Vec<Project>) -> String {
        order(sets).unwrap_err().to_string()
    }

    #[test]
    fn sets_run_after_what_they_need_and_otherwise_as_declared() {
        let sets = vec![
            Project::new::<A>(".").named("late").needs("early"),
            Project::new::<B>(".").named("free"),
            Project::new::<A>(".").named("early"),
        ];
        assert_eq!(order(sets).unwrap(), ["free", "early", "late"]);
    }

    #[test]
    fn one_unnamed_set_is_the_single_project_of_before() {
        let loaded = Sets::new(vec![Project::new::<A>(".")]).load().unwrap();
        assert!(matches!(loaded, LoadedSets::Single(_)));
    }

    #[test]
    fn a_cycle_is_refused_naming_its_sets() {
        let message = err(vec![
            Project::new::<A>(".").named("one").needs("three"),
            Project::new::<A>(".").named("two").needs("one"),
            Project::new::<B>(".").named("three").needs("two"),
        ]);
        assert!(message.contains("one -> three -> two -> one"), "{message}");
        let message = err(vec![Project::new::<A>(".").named("self_").needs("self_")]);
        assert!(message.contains("self_ -> self_"), "{message}");
    }

    #[test]
    fn unknown_sets_and_migrations_are_refused_naming_them() {
        let message = err(vec![Project::new::<A>(".").named("one").needs("nope")]);
        assert!(message.contains("set `one` needs set `nope`"), "{message}");
        let message = err(vec![
            Project::new::<A>(".").named("one"),
            Project::new::<B>(".")
                .named("two")
                .needs_migration("one", "m20990101_000001_gone"),
        ]);
        assert!(message.contains("m20990101_000001_gone"), "{message}");
        let ok = order(vec![
            Project::new::<A>(".").named("one"),
            Project::new::<B>(".")
                .named("two")
                .needs_migration("one", "m20240101_000001_a"),
        ]);
        assert!(ok.is_ok());
    }

    #[test]
    fn names_must_be_present_unique_and_snake_case() {
        assert!(
            err(vec![
                Project::new::<A>(".").named("x"),
                Project::new::<B>(".")
            ])
            .contains("number 2")
        );
        assert!(
            err(vec![
                Project::new::<A>(".").named("x"),
                Project::new::<B>(".").named("x")
            ])
            .contains("two sets are named `x`")
        );
        assert!(err(vec![Project::new::<A>(".").named("Bad-Name")]).contains("invalid"));
    }
}
