//! The planner: a pure function from what the ledger says, what the code holds and what the user
//! asked for, to the list of migrations to apply or revert, or the reason to refuse. No database,
//! no clock: every rule here is unit-tested as a sentence.

use serde::Serialize;

use crate::error::{EngineError, Result};
use crate::ledger::{LedgerRow, RowState};

/// Where a migration stands. These words are the same in status tables, JSON and docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Applied, and its code renders the SQL that ran.
    Applied,
    /// In the code, not applied.
    Pending,
    /// Applied, but its code now renders different SQL.
    Modified,
    /// Applied, but not in the code (another branch, or deleted).
    Missing,
    /// Started and not completed (MySQL/MariaDB, or a migration without a transaction).
    Failed,
}

impl State {
    /// The word used everywhere.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Applied => "applied",
            State::Pending => "pending",
            State::Modified => "modified",
            State::Missing => "missing",
            State::Failed => "failed",
        }
    }
}

/// What the code says about one migration, as the planner needs it.
#[derive(Debug, Clone)]
pub struct CodeMigration {
    /// Fourteen-digit version.
    pub version: String,
    /// Snake-case name.
    pub name: String,
    /// Checksum of its rendered `up` for the backend in use.
    pub checksum: String,
}

/// One line of status: a migration from the code, the ledger, or both.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Fourteen-digit version.
    pub version: String,
    /// Snake-case name.
    pub name: String,
    /// See [`State`].
    pub state: State,
    /// Index into the code's list, when the code has it.
    pub code: Option<usize>,
    /// The ledger row, when it has one.
    pub row: Option<LedgerRow>,
}

impl Entry {
    /// `version_name`, as messages name a migration.
    pub fn label(&self) -> String {
        format!("{}_{}", self.version, self.name)
    }
}

/// Joins ledger and code into one list in version order.
pub fn classify(rows: &[LedgerRow], code: &[CodeMigration]) -> Vec<Entry> {
    let mut entries: Vec<Entry> = code
        .iter()
        .enumerate()
        .map(|(index, c)| {
            let row = rows.iter().find(|r| r.version == c.version).cloned();
            let state = match &row {
                None => State::Pending,
                Some(r) if r.state != RowState::Applied => State::Failed,
                Some(r) if r.checksum != c.checksum => State::Modified,
                Some(_) => State::Applied,
            };
            Entry {
                version: c.version.clone(),
                name: c.name.clone(),
                state,
                code: Some(index),
                row,
            }
        })
        .collect();
    for row in rows {
        if !code.iter().any(|c| c.version == row.version) {
            entries.push(Entry {
                version: row.version.clone(),
                name: row.name.clone(),
                state: if row.state == RowState::Applied {
                    State::Missing
                } else {
                    State::Failed
                },
                code: None,
                row: Some(row.clone()),
            });
        }
    }
    entries.sort_by(|a, b| a.version.cmp(&b.version));
    entries
}

/// How far `up` goes.
#[derive(Debug, Clone, Default)]
pub struct UpTarget {
    /// At most this many.
    pub steps: Option<u32>,
    /// Up to and including this version.
    pub to: Option<String>,
    /// Apply pending migrations older than the newest applied one.
    pub allow_out_of_order: bool,
}

/// How far `down` goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DownTarget {
    /// The last N applied.
    Steps(u32),
    /// Everything applied after this version (which stays).
    To(String),
    /// Everything.
    All,
}

fn refuse_dirty_or_modified(entries: &[Entry]) -> Result<()> {
    if let Some(e) = entries.iter().find(|e| e.state == State::Failed) {
        return Err(EngineError::Dirty {
            migration: e.label(),
            version: e.version.clone(),
            state: e
                .row
                .as_ref()
                .map_or("failed", |r| {
                    if r.state == RowState::Running {
                        "running"
                    } else {
                        "failed"
                    }
                })
                .to_owned(),
        });
    }
    let modified: Vec<String> = entries
        .iter()
        .filter(|e| e.state == State::Modified)
        .map(Entry::label)
        .collect();
    if !modified.is_empty() {
        return Err(EngineError::Modified { versions: modified });
    }
    Ok(())
}

fn known(entries: &[Entry], version: &str) -> Result<()> {
    if entries.iter().any(|e| e.version == version) {
        Ok(())
    } else {
        Err(EngineError::UnknownVersion {
            version: version.to_owned(),
        })
    }
}

/// The migrations `up` applies, in order (indices into `entries`).
///
/// # Errors
/// Refuses a failed or modified migration, an unknown target, and pending migrations older than
/// the newest applied one unless allowed.
pub fn plan_up(entries: &[Entry], target: &UpTarget) -> Result<Vec<usize>> {
    refuse_dirty_or_modified(entries)?;
    if let Some(to) = &target.to {
        known(entries, to)?;
    }
    let newest_applied = entries
        .iter()
        .filter(|e| e.row.is_some())
        .map(|e| e.version.as_str())
        .max();
    let mut pending: Vec<usize> = entries
        .iter()
        .enumerate()
        .filter(|(_, e)| e.state == State::Pending)
        .filter(|(_, e)| target.to.as_ref().is_none_or(|to| &e.version <= to))
        .map(|(i, _)| i)
        .collect();
    if let Some(steps) = target.steps {
        pending.truncate(steps as usize);
    }
    if !target.allow_out_of_order
        && let Some(newest) = newest_applied
    {
        let late: Vec<String> = pending
            .iter()
            .map(|&i| &entries[i])
            .filter(|e| e.version.as_str() < newest)
            .map(Entry::label)
            .collect();
        if !late.is_empty() {
            return Err(EngineError::OutOfOrder { versions: late });
        }
    }
    Ok(pending)
}

/// The migrations `down` reverts, newest first (indices into `entries`).
///
/// # Errors
/// Refuses a failed or modified migration, an unknown target, and more steps than are applied.
pub fn plan_down(entries: &[Entry], target: &DownTarget) -> Result<Vec<usize>> {
    refuse_dirty_or_modified(entries)?;
    let applied: Vec<usize> = entries
        .iter()
        .enumerate()
        .rev()
        .filter(|(_, e)| e.row.is_some())
        .map(|(i, _)| i)
        .collect();
    match target {
        DownTarget::All => Ok(applied),
        DownTarget::Steps(n) => {
            if *n as usize > applied.len() {
                return Err(EngineError::NotEnoughApplied {
                    requested: *n,
                    applied: applied.len(),
                });
            }
            Ok(applied.into_iter().take(*n as usize).collect())
        }
        DownTarget::To(version) => {
            known(entries, version)?;
            Ok(applied
                .into_iter()
                .filter(|&i| entries[i].version.as_str() > version.as_str())
                .collect())
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn code(versions: &[&str]) -> Vec<CodeMigration> {
        versions
            .iter()
            .map(|v| CodeMigration {
                version: (*v).to_owned(),
                name: format!("m{v}"),
                checksum: format!("sum{v}"),
            })
            .collect()
    }

    fn row(version: &str, checksum: &str, state: RowState) -> LedgerRow {
        LedgerRow {
            version: version.to_owned(),
            name: format!("m{version}"),
            checksum: checksum.to_owned(),
            state,
            batch: 1,
            applied_at: Utc::now(),
            execution_ms: 1,
            applied_by: "t@h".to_owned(),
            down_sql: None,
            error: None,
            environment: None,
        }
    }

    fn applied(version: &str) -> LedgerRow {
        row(version, &format!("sum{version}"), RowState::Applied)
    }

    fn versions(entries: &[Entry], idx: &[usize]) -> Vec<String> {
        idx.iter().map(|&i| entries[i].version.clone()).collect()
    }

    #[test]
    fn each_migration_gets_exactly_one_state() {
        let rows = vec![
            applied("1"),
            row("2", "other", RowState::Applied),
            row("3", "sum3", RowState::Failed),
            applied("9"),
        ];
        let entries = classify(&rows, &code(&["1", "2", "3", "4"]));
        let states: Vec<_> = entries
            .iter()
            .map(|e| (e.version.as_str(), e.state))
            .collect();
        assert_eq!(
            states,
            vec![
                ("1", State::Applied),
                ("2", State::Modified),
                ("3", State::Failed),
                ("4", State::Pending),
                ("9", State::Missing),
            ]
        );
    }

    #[test]
    fn up_applies_pending_in_order_limited_by_steps_and_target() {
        let entries = classify(&[applied("1")], &code(&["1", "2", "3", "4"]));
        let all = plan_up(&entries, &UpTarget::default()).unwrap();
        assert_eq!(versions(&entries, &all), ["2", "3", "4"]);
        let two = plan_up(
            &entries,
            &UpTarget {
                steps: Some(2),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(versions(&entries, &two), ["2", "3"]);
        let to = plan_up(
            &entries,
            &UpTarget {
                to: Some("3".into()),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(versions(&entries, &to), ["2", "3"]);
    }

    #[test]
    fn nothing_pending_is_an_empty_plan_not_an_error() {
        let entries = classify(&[applied("1")], &code(&["1"]));
        assert!(plan_up(&entries, &UpTarget::default()).unwrap().is_empty());
    }

    #[test]
    fn a_modified_migration_blocks_up_and_down_naming_it() {
        let entries = classify(
            &[row("1", "changed", RowState::Applied)],
            &code(&["1", "2"]),
        );
        let err = plan_up(&entries, &UpTarget::default()).unwrap_err();
        assert!(err.to_string().contains("1_m1"), "{err}");
        assert!(plan_down(&entries, &DownTarget::Steps(1)).is_err());
    }

    #[test]
    fn a_failed_row_blocks_every_plan() {
        let entries = classify(&[row("1", "sum1", RowState::Running)], &code(&["1", "2"]));
        assert!(matches!(
            plan_up(&entries, &UpTarget::default()),
            Err(EngineError::Dirty { .. })
        ));
        assert!(matches!(
            plan_down(&entries, &DownTarget::All),
            Err(EngineError::Dirty { .. })
        ));
    }

    #[test]
    fn a_pending_migration_older_than_the_newest_applied_is_refused_unless_allowed() {
        let entries = classify(&[applied("1"), applied("3")], &code(&["1", "2", "3"]));
        assert!(matches!(
            plan_up(&entries, &UpTarget::default()),
            Err(EngineError::OutOfOrder { .. })
        ));
        let allowed = UpTarget {
            allow_out_of_order: true,
            ..Default::default()
        };
        assert_eq!(
            versions(&entries, &plan_up(&entries, &allowed).unwrap()),
            ["2"]
        );
    }

    #[test]
    fn an_unknown_target_version_is_refused() {
        let entries = classify(&[], &code(&["1"]));
        let up = UpTarget {
            to: Some("7".into()),
            ..Default::default()
        };
        assert!(matches!(
            plan_up(&entries, &up),
            Err(EngineError::UnknownVersion { .. })
        ));
        assert!(matches!(
            plan_down(&entries, &DownTarget::To("7".into())),
            Err(EngineError::UnknownVersion { .. })
        ));
    }

    #[test]
    fn down_reverts_newest_first_including_missing_ones() {
        let entries = classify(
            &[applied("1"), applied("2"), applied("5")],
            &code(&["1", "2", "3"]),
        );
        let two = plan_down(&entries, &DownTarget::Steps(2)).unwrap();
        assert_eq!(versions(&entries, &two), ["5", "2"]);
        let to = plan_down(&entries, &DownTarget::To("1".into())).unwrap();
        assert_eq!(versions(&entries, &to), ["5", "2"]);
        let all = plan_down(&entries, &DownTarget::All).unwrap();
        assert_eq!(versions(&entries, &all), ["5", "2", "1"]);
    }

    #[test]
    fn reverting_more_than_is_applied_is_refused() {
        let entries = classify(&[applied("1")], &code(&["1", "2"]));
        assert!(matches!(
            plan_down(&entries, &DownTarget::Steps(2)),
            Err(EngineError::NotEnoughApplied {
                requested: 2,
                applied: 1
            })
        ));
    }
}
