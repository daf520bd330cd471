//! Plan files: a named, hand-picked set of migrations to deploy or roll back as a unit (an
//! emergency hotfix, a feature rolled out ahead of its release), kept as TOML under the migration
//! crate's `plans/` directory so it is reviewed and versioned like code.
//!
//! A plan names its migrations by version and name, never by their position in a list, so it
//! means the same thing after new migrations are added:
//!
//! ```toml
//! name = "auth-hotfix"
//! description = "Payment webhooks ahead of 1.3.0"
//! created_at = 2026-11-21T10:30:00Z
//! created_by = "ana@build-7"
//!
//! [[migrations]]
//! version = "20240813000008"
//! name = "create_payment_tables"
//! ```

use serde::{Deserialize, Serialize};
use std::fs;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// Why a plan could not be named, found, read or written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PlanError {
    /// The name cannot be a file name.
    #[error(
        "invalid plan name `{name}`: use lowercase letters, digits, `-` and `_`, starting with a letter or digit (e.g. auth-hotfix)"
    )]
    BadName {
        /// As typed.
        name: String,
    },
    /// No file for this name.
    #[error("no plan `{name}` in {dir}; `migrate plan list` shows the plans there")]
    NotFound {
        /// As typed.
        name: String,
        /// The plans directory.
        dir: String,
    },
    /// A plan of this name exists.
    #[error("plan `{name}` already exists ({path}); choose another name, or delete the file first")]
    Exists {
        /// As typed.
        name: String,
        /// Its file.
        path: String,
    },
    /// The file cannot be read or parsed, or does not match its name.
    #[error("cannot read plan file {path}: {reason}")]
    Unreadable {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// The file cannot be written.
    #[error("cannot write plan file {path}: {reason}")]
    Unwritable {
        /// The file.
        path: String,
        /// What went wrong.
        reason: String,
    },
    /// A plan names a migration that the code does not have.
    #[error(
        "plan `{plan}` names {migration}, which is not a migration in the code; check out the branch that has it, or create the plan again"
    )]
    UnknownMigration {
        /// The plan's name.
        plan: String,
        /// `version_name` as the plan records it.
        migration: String,
    },
    /// `plan create` was run without `--select` and without a terminal for its picker.
    #[error(
        "`plan create` picks migrations on a terminal; without one, pass --select (e.g. --select 1,3-7,9; numbers as `migrate status` shows them)"
    )]
    NeedsSelection,
    /// A selection typed for `plan create` that cannot be read.
    #[error("invalid selection: {0}")]
    Selection(#[from] crate::authoring::selection::SelectionError),
}

/// One migration of a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlannedMigration {
    /// Fourteen-digit version.
    pub version: String,
    /// Snake-case name, for people reading the file (the version identifies it).
    pub name: String,
}

/// A saved plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    /// Also its file name, without `.toml`.
    pub name: String,
    /// What it is for.
    #[serde(default)]
    pub description: String,
    /// When it was created (UTC).
    pub created_at: toml::value::Datetime,
    /// `user@host` of whoever created it.
    pub created_by: String,
    /// The migrations, in migration order.
    pub migrations: Vec<PlannedMigration>,
}

impl Plan {
    /// A plan created now by `created_by`.
    ///
    /// # Errors
    /// [`PlanError::BadName`].
    pub fn new(
        name: &str,
        description: &str,
        created_by: &str,
        now: chrono::DateTime<chrono::Utc>,
        mut migrations: Vec<PlannedMigration>,
    ) -> Result<Self, PlanError> {
        check_name(name)?;
        migrations.sort_by(|a, b| a.version.cmp(&b.version));
        migrations.dedup_by(|a, b| a.version == b.version);
        let stamp = now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let created_at =
            toml::value::Datetime::from_str(&stamp).map_err(|e| PlanError::Unwritable {
                path: name.to_owned(),
                reason: e.to_string(),
            })?;
        Ok(Self {
            name: name.to_owned(),
            description: description.trim().to_owned(),
            created_at,
            created_by: created_by.to_owned(),
            migrations,
        })
    }

    /// The plan's versions, in order.
    pub fn versions(&self) -> Vec<String> {
        self.migrations.iter().map(|m| m.version.clone()).collect()
    }
}

fn check_name(name: &str) -> Result<(), PlanError> {
    let ok = name
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && name.len() <= 100
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(PlanError::BadName {
            name: name.to_owned(),
        })
    }
}

/// The directory of plan files.
#[derive(Debug, Clone)]
pub struct PlanStore {
    dir: PathBuf,
}

impl PlanStore {
    /// Plans in `dir` (created when the first plan is saved).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// Where the plans are kept.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file of plan `name`.
    ///
    /// # Errors
    /// [`PlanError::BadName`].
    pub fn path(&self, name: &str) -> Result<PathBuf, PlanError> {
        check_name(name)?;
        Ok(self.dir.join(format!("{name}.toml")))
    }

    /// Reads plan `name`.
    ///
    /// # Errors
    /// [`PlanError::NotFound`], or [`PlanError::Unreadable`] for a malformed file or one whose
    /// `name` is not its file name.
    pub fn load(&self, name: &str) -> Result<Plan, PlanError> {
        let path = self.path(name)?;
        let text = match fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(PlanError::NotFound {
                    name: name.to_owned(),
                    dir: self.dir.display().to_string(),
                });
            }
            Err(e) => {
                return Err(PlanError::Unreadable {
                    path: path.display().to_string(),
                    reason: e.to_string(),
                });
            }
        };
        let unreadable = |reason: String| PlanError::Unreadable {
            path: path.display().to_string(),
            reason,
        };
        let plan: Plan = toml::from_str(&text).map_err(|e| {
            unreadable(
                e.to_string()
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" "),
            )
        })?;
        if plan.name != name {
            return Err(unreadable(format!(
                "it is named `{}`; a plan's name is its file name",
                plan.name
            )));
        }
        Ok(plan)
    }

    /// Every plan, by name. A missing directory holds none.
    ///
    /// # Errors
    /// The first file that cannot be read.
    pub fn list(&self) -> Result<Vec<Plan>, PlanError> {
        let entries = match fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => {
                return Err(PlanError::Unreadable {
                    path: self.dir.display().to_string(),
                    reason: e.to_string(),
                });
            }
        };
        let mut names: Vec<String> = entries
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .filter_map(|p| Some(p.file_stem()?.to_str()?.to_owned()))
            .collect();
        names.sort();
        names.iter().map(|n| self.load(n)).collect()
    }

    /// Writes a new plan; refuses to overwrite one.
    ///
    /// # Errors
    /// [`PlanError::Exists`], or [`PlanError::Unwritable`].
    pub fn save(&self, plan: &Plan) -> Result<PathBuf, PlanError> {
        let path = self.path(&plan.name)?;
        let unwritable = |reason: String| PlanError::Unwritable {
            path: path.display().to_string(),
            reason,
        };
        if path.exists() {
            return Err(PlanError::Exists {
                name: plan.name.clone(),
                path: path.display().to_string(),
            });
        }
        let text = toml::to_string(plan).map_err(|e| unwritable(e.to_string()))?;
        fs::create_dir_all(&self.dir).map_err(|e| unwritable(e.to_string()))?;
        let header = "# A migration plan: `migrate plan run NAME` applies these migrations as one batch,\n\
                      # `migrate plan rollback NAME` reverts them. Created by `migrate plan create`.\n\n";
        fs::write(&path, format!("{header}{text}")).map_err(|e| unwritable(e.to_string()))?;
        Ok(path)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, PlanStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = PlanStore::new(dir.path().join("plans"));
        (dir, store)
    }

    fn plan(name: &str) -> Plan {
        let now = chrono::DateTime::parse_from_rfc3339("2026-01-02T03:04:05Z")
            .unwrap()
            .to_utc();
        let m = |v: &str, n: &str| PlannedMigration {
            version: v.to_owned(),
            name: n.to_owned(),
        };
        Plan::new(
            name,
            " Hotfix ",
            "ana@box",
            now,
            vec![
                m("20240101000003", "c"),
                m("20240101000001", "a"),
                m("20240101000003", "c"),
            ],
        )
        .unwrap()
    }

    #[test]
    fn a_saved_plan_reads_back_the_same_and_lists() {
        let (_dir, store) = store();
        assert!(store.list().unwrap().is_empty());
        let saved = plan("auth-hotfix");
        assert_eq!(saved.versions(), ["20240101000001", "20240101000003"]);
        let path = store.save(&saved).unwrap();
        let text = fs::read_to_string(&path).unwrap();
        assert!(text.contains("created_at = 2026-01-02T03:04:05Z"), "{text}");
        assert!(text.contains("description = \"Hotfix\""), "{text}");
        assert_eq!(store.load("auth-hotfix").unwrap(), saved);
        assert_eq!(store.list().unwrap(), [saved]);
    }

    #[test]
    fn plans_are_never_overwritten_and_names_must_be_file_names() {
        let (_dir, store) = store();
        store.save(&plan("p1")).unwrap();
        assert!(matches!(
            store.save(&plan("p1")),
            Err(PlanError::Exists { .. })
        ));
        for bad in ["", "Hotfix", "../x", "a b", "-x"] {
            assert!(
                matches!(store.path(bad), Err(PlanError::BadName { .. })),
                "{bad}"
            );
        }
        assert!(matches!(store.load("p2"), Err(PlanError::NotFound { .. })));
    }

    #[test]
    fn a_file_whose_name_disagrees_is_refused() {
        let (_dir, store) = store();
        store.save(&plan("p1")).unwrap();
        fs::rename(store.path("p1").unwrap(), store.path("p2").unwrap()).unwrap();
        let err = store.load("p2").unwrap_err().to_string();
        assert!(err.contains("named `p1`"), "{err}");
    }
}
