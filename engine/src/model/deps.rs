//! The dependency graph: which migrations each migration needs.
//!
//! A project declares dependencies per migration (the reference schema's `DEPENDS_ON`
//! constants, collected by `Migrator::dependencies()`). A migration without a declaration (one
//! written before dependencies were kept, or added by another tool) is taken to need every
//! earlier migration: the safe default, which makes it as strict as plain ordering. A declared
//! empty list means "needs nothing".
//!
//! `migrate up` and `down` never consult the graph: applying in order and reverting newest first
//! always respect it. It matters where a command picks migrations out of order: a plan run
//! (every picked migration's needs must be applied or picked too), a plan rollback and a batch
//! rollback (nothing left applied may need what is reverted). Both checks look at direct
//! dependencies only, which is enough: along any chain from a migration to a need that is not
//! met, some single link crosses from the met side to the unmet one, and that link is reported.

use serde::Serialize;
use std::collections::{BTreeSet, HashMap};
use std::fmt;

use crate::model::set::MigrationSet;

/// A dependency declaration that does not fit the migration list.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("migration {migration} {problem}; fix its dependency declaration")]
pub struct DependencyError {
    /// The declaring migration's module name.
    pub migration: String,
    /// What is wrong.
    pub problem: String,
}

/// A migration's needs as declared, or the default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Needs {
    /// These versions, as declared (possibly none).
    Declared(Vec<String>),
    /// Nothing declared: every earlier migration.
    EveryEarlier,
}

/// Which migrations each migration of a set needs, by fourteen-digit version.
#[derive(Debug, Clone, Default)]
pub struct DependencyGraph {
    declared: HashMap<String, Vec<String>>,
}

/// One unmet or endangered dependency, as a refusal names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Culprit {
    /// `version_name` of the migration that needs the other.
    pub migration: String,
    /// `version_name` of the migration it needs.
    pub needs: String,
}

impl fmt::Display for Culprit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} needs {}", self.migration, self.needs)
    }
}

fn dependency_error(migration: &str, problem: String) -> DependencyError {
    DependencyError {
        migration: migration.to_owned(),
        problem,
    }
}

impl DependencyGraph {
    /// A graph where nothing is declared: every migration needs every earlier one.
    pub fn undeclared() -> Self {
        Self::default()
    }

    /// Checks the declarations (by module name, as `Migrator::dependencies()` lists them)
    /// against `set`.
    ///
    /// # Errors
    /// [`DependencyError`] for a declaration about a migration not in the set, a need
    /// that is not in the set, or a need that is not earlier than the migration.
    pub fn new(set: &MigrationSet, declared: &[(&str, &[&str])]) -> Result<Self, DependencyError> {
        let position: HashMap<String, (usize, String)> = set
            .iter()
            .enumerate()
            .map(|(i, m)| (m.id.module_name(), (i, m.id.version.clone())))
            .collect();
        let mut graph = HashMap::new();
        for (name, needs) in declared {
            let Some((at, version)) = position.get(*name) else {
                return Err(dependency_error(
                    name,
                    "declares dependencies but is not in the migration list".to_owned(),
                ));
            };
            let mut versions = Vec::with_capacity(needs.len());
            for need in *needs {
                match position.get(*need) {
                    Some((before, v)) if before < at => versions.push(v.clone()),
                    Some(_) => {
                        return Err(dependency_error(
                            name,
                            format!("needs {need}, which is not an earlier migration"),
                        ));
                    }
                    None => {
                        return Err(dependency_error(
                            name,
                            format!("needs {need}, which is not in the migration list"),
                        ));
                    }
                }
            }
            versions.sort();
            versions.dedup();
            if graph.insert(version.clone(), versions).is_some() {
                return Err(dependency_error(
                    name,
                    "declares its dependencies twice".to_owned(),
                ));
            }
        }
        Ok(Self { declared: graph })
    }

    /// What `version` needs.
    pub fn needs(&self, version: &str) -> Needs {
        match self.declared.get(version) {
            Some(v) => Needs::Declared(v.clone()),
            None => Needs::EveryEarlier,
        }
    }

    /// The versions `version` needs directly, among `all` (every version known: the code's and
    /// the ledger's, in order).
    pub fn direct(&self, version: &str, all: &[String]) -> Vec<String> {
        match self.needs(version) {
            Needs::Declared(v) => v,
            Needs::EveryEarlier => all
                .iter()
                .filter(|v| v.as_str() < version)
                .cloned()
                .collect(),
        }
    }

    /// For a plan run: each need of a `selected` migration that is neither `applied` nor
    /// selected. `label` turns a version into `version_name`.
    pub fn unmet(
        &self,
        selected: &[String],
        applied: &BTreeSet<String>,
        all: &[String],
        label: impl Fn(&str) -> String,
    ) -> Vec<Culprit> {
        let picked: BTreeSet<&String> = selected.iter().collect();
        let mut out = Vec::new();
        for version in selected {
            for need in self.direct(version, all) {
                if !applied.contains(&need) && !picked.contains(&need) {
                    out.push(Culprit {
                        migration: label(version),
                        needs: label(&need),
                    });
                }
            }
        }
        out
    }

    /// For a rollback: each applied migration outside `reverting` that needs one inside it.
    pub fn dependents(
        &self,
        reverting: &[String],
        applied: &BTreeSet<String>,
        all: &[String],
        label: impl Fn(&str) -> String,
    ) -> Vec<Culprit> {
        let going: BTreeSet<&String> = reverting.iter().collect();
        let mut out = Vec::new();
        for version in applied.iter().filter(|v| !going.contains(v)) {
            for need in self.direct(version, all) {
                if going.contains(&need) {
                    out.push(Culprit {
                        migration: label(version),
                        needs: label(&need),
                    });
                }
            }
        }
        out
    }

    /// The graph of `set` for `migrate deps`.
    pub fn report(&self, set: &MigrationSet) -> DepsReport {
        let all: Vec<String> = set.iter().map(|m| m.id.version.clone()).collect();
        let label = |v: &str| {
            set.get(v)
                .map_or_else(|| v.to_owned(), |m| m.id.to_string())
        };
        let needs: Vec<Vec<String>> = all.iter().map(|v| self.direct(v, &all)).collect();
        let migrations = set
            .iter()
            .enumerate()
            .map(|(i, m)| DepsLine {
                number: i + 1,
                version: m.id.version.clone(),
                name: m.id.name.clone(),
                declared: self.declared.contains_key(&m.id.version),
                needs: needs[i].iter().map(|v| label(v)).collect(),
                needed_by: all
                    .iter()
                    .zip(&needs)
                    .filter(|(_, n)| n.contains(&m.id.version))
                    .map(|(v, _)| label(v))
                    .collect(),
            })
            .collect();
        DepsReport { migrations }
    }
}

/// One migration of `migrate deps`.
#[derive(Debug, Clone, Serialize)]
pub struct DepsLine {
    /// Its position in the list, as plan selections count.
    pub number: usize,
    /// Fourteen-digit version.
    pub version: String,
    /// Snake-case name.
    pub name: String,
    /// Whether its needs are declared (otherwise it needs every earlier migration).
    pub declared: bool,
    /// `version_name` of each migration it needs directly.
    pub needs: Vec<String>,
    /// `version_name` of each migration that needs it directly.
    pub needed_by: Vec<String>,
}

/// The dependency graph as `migrate deps` prints it.
#[derive(Debug, Clone, Serialize)]
pub struct DepsReport {
    /// Every migration of the code, in order.
    pub migrations: Vec<DepsLine>,
}

impl fmt::Display for DepsReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for line in &self.migrations {
            writeln!(f, "{:>3}  {}_{}", line.number, line.version, line.name)?;
            if !line.declared {
                writeln!(
                    f,
                    "       needs every earlier migration (it declares nothing)"
                )?;
            } else if line.needs.is_empty() {
                writeln!(f, "       needs nothing")?;
            } else {
                for need in &line.needs {
                    writeln!(f, "       needs     {need}")?;
                }
            }
            for by in &line.needed_by {
                writeln!(f, "       needed by {by}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn all() -> Vec<String> {
        ["1", "2", "3", "4"].map(str::to_owned).to_vec()
    }

    fn graph() -> DependencyGraph {
        // 2 needs 1; 3 needs nothing; 4 declares nothing, so it needs 1, 2 and 3.
        DependencyGraph {
            declared: HashMap::from([
                ("1".to_owned(), vec![]),
                ("2".to_owned(), vec!["1".to_owned()]),
                ("3".to_owned(), vec![]),
            ]),
        }
    }

    fn set(items: &[&str]) -> BTreeSet<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    fn label(v: &str) -> String {
        format!("m{v}")
    }

    #[test]
    fn an_undeclared_migration_needs_every_earlier_one() {
        assert_eq!(graph().direct("4", &all()), ["1", "2", "3"]);
        assert_eq!(graph().direct("3", &all()), Vec::<String>::new());
        assert_eq!(DependencyGraph::undeclared().direct("2", &all()), ["1"]);
    }

    #[test]
    fn a_plan_run_needs_each_dependency_applied_or_picked() {
        let g = graph();
        assert!(
            g.unmet(&["2".into()], &set(&["1"]), &all(), label)
                .is_empty()
        );
        assert!(
            g.unmet(&["1".into(), "2".into()], &set(&[]), &all(), label)
                .is_empty()
        );
        assert_eq!(
            g.unmet(&["2".into(), "3".into()], &set(&[]), &all(), label),
            [Culprit {
                migration: "m2".into(),
                needs: "m1".into()
            }]
        );
        let culprits = g.unmet(&["4".into()], &set(&["1"]), &all(), label);
        assert_eq!(culprits.len(), 2, "{culprits:?}");
    }

    #[test]
    fn a_rollback_may_not_revert_what_a_remaining_migration_needs() {
        let g = graph();
        let applied = set(&["1", "2", "3"]);
        assert!(
            g.dependents(&["3".into()], &applied, &all(), label)
                .is_empty()
        );
        assert!(
            g.dependents(&["1".into(), "2".into()], &applied, &all(), label)
                .is_empty()
        );
        assert_eq!(
            g.dependents(&["1".into()], &applied, &all(), label),
            [Culprit {
                migration: "m2".into(),
                needs: "m1".into()
            }]
        );
        let with_four = set(&["1", "2", "3", "4"]);
        let culprits = g.dependents(&["3".into()], &with_four, &all(), label);
        assert_eq!(culprits.len(), 1);
        assert_eq!(culprits[0].to_string(), "m4 needs m3");
    }
}
