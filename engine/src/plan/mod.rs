//! The planner: a pure function from what the ledger says, what the code holds and what the user
//! asked for, to the migrations to apply or revert and the steps that do it ([`Step`]), or the
//! reason to refuse. No database, no clock: every rule here is unit-tested as a sentence.

pub mod applied;

use serde::Serialize;
use std::collections::BTreeSet;

use crate::backend::lock::Holder;
use crate::error::{EngineError, Result};
use crate::model::deps::DependencyGraph;
use applied::{LedgerRow, RowState};

mod steps;

pub use steps::{Step, UpSteps, check_reverts, down_steps, stored_down, up_steps};

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
    /// Applied through a consolidated migration, together with the rest of its run.
    Squashed,
    /// Started and not completed yet by a runner that is still at work: it holds the table
    /// lock it marked the row with, and its lease is running.
    Running,
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
            State::Squashed => "squashed",
            State::Running => "running",
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
    /// The consolidated migration that covers it in the code, with that migration's checksum:
    /// what a `squashed` row of it is checked against.
    pub squash: Option<(String, String)>,
    /// Where rendering its `up` stopped, when it reads data: the checksum covers the statements
    /// before that point only.
    pub render_stop: Option<String>,
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
    /// Who is applying it now, for a `running` migration whose runner holds a live lease.
    pub runner: Option<Holder>,
}

impl Entry {
    /// `version_name`, as messages name a migration.
    pub fn label(&self) -> String {
        format!("{}_{}", self.version, self.name)
    }
}

/// What a `failed` or `running` row means, in words, from its state and recorded error.
fn dirty_description(running: bool, error: Option<&str>) -> String {
    match (running, error) {
        (true, _) => "is running: another runner started it and has not completed it, and it \
                      ran outside a transaction"
            .to_owned(),
        (false, Some(e)) if e.starts_with(INTERRUPTED) => format!(
            "was interrupted ({e}): it ran outside a transaction, so part of it may be committed"
        ),
        (false, Some(e)) => {
            format!("failed ({e}): it ran outside a transaction, so part of it may be committed")
        }
        (false, None) => {
            "failed: it ran outside a transaction, so part of it may be committed".to_owned()
        }
    }
}

/// How the error of a row whose runner stopped before completing it begins.
pub const INTERRUPTED: &str = "interrupted";

/// Joins ledger and code into one list in version order.
pub fn classify(rows: &[LedgerRow], code: &[CodeMigration]) -> Vec<Entry> {
    let by_version: std::collections::HashMap<&str, &LedgerRow> =
        rows.iter().map(|r| (r.version.as_str(), r)).collect();
    let in_code: std::collections::HashSet<&str> =
        code.iter().map(|c| c.version.as_str()).collect();
    let mut entries: Vec<Entry> = code
        .iter()
        .enumerate()
        .map(|(index, c)| {
            let row = by_version.get(c.version.as_str()).map(|&r| r.clone());
            let state = match &row {
                None => State::Pending,
                Some(r) if r.state != RowState::Applied => State::Failed,
                // Applied through a consolidated migration: its SQL is what ran. Without that
                // migration in the code any more, there is nothing to compare with.
                Some(r) if r.via.is_some() => match &c.squash {
                    Some((name, sum)) if r.via.as_ref() == Some(name) && *sum != r.checksum => {
                        State::Modified
                    }
                    _ => State::Squashed,
                },
                Some(r) if r.checksum != c.checksum => State::Modified,
                Some(_) => State::Applied,
            };
            Entry {
                version: c.version.clone(),
                name: c.name.clone(),
                state,
                code: Some(index),
                row,
                runner: None,
            }
        })
        .collect();
    for row in rows {
        if !in_code.contains(row.version.as_str()) {
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
                runner: None,
            });
        }
    }
    entries.sort_by(|a, b| a.version.cmp(&b.version));
    entries
}

/// Marks `running` each entry whose `running` row was written by a runner still at work, as
/// `live` lists them (version, holder): it is not failed, and nothing advises repairing it.
pub fn mark_running(entries: &mut [Entry], live: &[(String, Holder)]) {
    for entry in entries {
        let running = entry
            .row
            .as_ref()
            .is_some_and(|r| r.state == RowState::Running);
        if let Some((_, holder)) = live.iter().find(|(v, _)| *v == entry.version)
            && running
        {
            entry.state = State::Running;
            entry.runner = Some(holder.clone());
        }
    }
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
    /// Apply only these versions (a plan run), in order; pending ones older than the newest
    /// applied one are allowed, since they were picked by hand.
    pub only: Option<Vec<String>>,
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
    /// The migrations applied by one batch (one `up` or plan run); `None` for the last one.
    Batch(Option<i32>),
    /// These versions, where applied (a plan rollback).
    Only(Vec<String>),
}

fn refuse_dirty_or_modified(entries: &[Entry]) -> Result<()> {
    if let Some(e) = entries.iter().find(|e| e.state == State::Running) {
        return Err(EngineError::Running {
            migration: e.label(),
            runner: e
                .runner
                .clone()
                .unwrap_or_else(Holder::unknown)
                .running_on(),
        });
    }
    if let Some(e) = entries.iter().find(|e| e.state == State::Failed) {
        let running = e.row.as_ref().is_some_and(|r| r.state == RowState::Running);
        let error = e.row.as_ref().and_then(|r| r.error.clone());
        return Err(EngineError::Dirty {
            migration: e.label(),
            version: e.version.clone(),
            state: if running { "running" } else { "failed" }.to_owned(),
            what: dirty_description(running, error.as_deref()),
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
    if let Some(only) = &target.only {
        for version in only {
            known(entries, version)?;
        }
    }
    // Migrations applied ahead of their turn by a plan do not make the ones they skipped late.
    let newest_applied = entries
        .iter()
        .filter(|e| e.row.as_ref().is_some_and(|r| r.plan.is_none()))
        .map(|e| e.version.as_str())
        .max();
    let mut pending: Vec<usize> = entries
        .iter()
        .enumerate()
        .filter(|(_, e)| e.state == State::Pending)
        .filter(|(_, e)| target.to.as_ref().is_none_or(|to| &e.version <= to))
        .filter(|(_, e)| target.only.as_ref().is_none_or(|o| o.contains(&e.version)))
        .map(|(i, _)| i)
        .collect();
    if let Some(steps) = target.steps {
        pending.truncate(steps as usize);
    }
    if !target.allow_out_of_order
        && target.only.is_none()
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

/// The migrations `down` reverts, newest first (indices into `entries`). Migrations applied
/// together through a consolidated migration are reverted together: a target that reaches one
/// of them takes the others along, or is refused where that would revert more than it names.
///
/// # Errors
/// Refuses a failed or modified migration, an unknown target, more steps than are applied, a
/// batch with nothing applied, and a version target or selection that would split migrations
/// applied through a consolidated migration.
pub fn plan_down(entries: &[Entry], target: &DownTarget) -> Result<Vec<usize>> {
    refuse_dirty_or_modified(entries)?;
    let applied: Vec<usize> = entries
        .iter()
        .enumerate()
        .rev()
        .filter(|(_, e)| e.row.is_some())
        .map(|(i, _)| i)
        .collect();
    let planned: Vec<usize> = match target {
        DownTarget::All => applied.clone(),
        DownTarget::Steps(n) => {
            if *n as usize > applied.len() {
                return Err(EngineError::NotEnoughApplied {
                    requested: *n,
                    applied: applied.len(),
                });
            }
            applied.iter().copied().take(*n as usize).collect()
        }
        DownTarget::To(version) => {
            known(entries, version)?;
            applied
                .iter()
                .copied()
                .filter(|&i| entries[i].version.as_str() > version.as_str())
                .collect()
        }
        DownTarget::Batch(batch) => {
            let batch_of = |i: &usize| entries[*i].row.as_ref().map(|r| r.batch);
            let Some(batch) = batch.or_else(|| applied.iter().filter_map(batch_of).max()) else {
                return Ok(Vec::new());
            };
            let rows: Vec<usize> = applied
                .iter()
                .copied()
                .filter(|i| batch_of(i) == Some(batch))
                .collect();
            if rows.is_empty() {
                return Err(EngineError::UnknownBatch { batch });
            }
            rows
        }
        // A selection names what it names; whatever of it is not applied is simply not reverted.
        DownTarget::Only(versions) => applied
            .iter()
            .copied()
            .filter(|&i| versions.contains(&entries[i].version))
            .collect(),
    };
    with_squashed_runs(entries, planned, target)
}

/// Adds to `planned` the other migrations applied through the same consolidated migration as
/// one in it, or refuses where the target names a point or a selection that would split them.
fn with_squashed_runs(
    entries: &[Entry],
    mut planned: Vec<usize>,
    target: &DownTarget,
) -> Result<Vec<usize>> {
    let via = |i: usize| entries[i].row.as_ref().and_then(|r| r.via.clone());
    let mut runs: Vec<String> = planned.iter().filter_map(|&i| via(i)).collect();
    runs.sort();
    runs.dedup();
    for squash in runs {
        let run: Vec<usize> = (0..entries.len())
            .filter(|&i| via(i).as_deref() == Some(squash.as_str()))
            .collect();
        let left_out: Vec<usize> = run
            .iter()
            .copied()
            .filter(|i| !planned.contains(i))
            .collect();
        if left_out.is_empty() {
            continue;
        }
        let refuse = |what: String, fix: &str| EngineError::SplitsSquash {
            what,
            squash: squash.clone(),
            migrations: run.iter().map(|&i| entries[i].label()).collect(),
            fix: fix.to_owned(),
        };
        match target {
            DownTarget::To(version) => {
                return Err(refuse(
                    format!("back to {version}"),
                    "go back to the last of them, or to a version before the first",
                ));
            }
            DownTarget::Only(_) => {
                return Err(refuse(
                    "the selected migrations".to_owned(),
                    "select all of them, or none",
                ));
            }
            DownTarget::All | DownTarget::Steps(_) | DownTarget::Batch(_) => {
                planned.extend(left_out);
            }
        }
    }
    planned.sort_by(|&a, &b| entries[b].version.cmp(&entries[a].version));
    Ok(planned)
}

/// Refuses a plan run in which a picked migration needs one that is neither applied nor
/// picked (`picked` are indices into `entries` of the migrations about to be applied).
///
/// # Errors
/// [`EngineError::UnmetDependencies`] naming each such pair.
pub fn check_prerequisites(
    entries: &[Entry],
    picked: &[usize],
    graph: &DependencyGraph,
    plan: &str,
) -> Result<()> {
    let all: Vec<String> = entries.iter().map(|e| e.version.clone()).collect();
    let applied: BTreeSet<String> = entries
        .iter()
        .filter(|e| e.row.is_some())
        .map(|e| e.version.clone())
        .collect();
    let selected: Vec<String> = picked.iter().map(|&i| entries[i].version.clone()).collect();
    let culprits = graph.unmet(&selected, &applied, &all, |v| label_of(entries, v));
    if culprits.is_empty() {
        Ok(())
    } else {
        Err(EngineError::UnmetDependencies {
            plan: plan.to_owned(),
            culprits,
        })
    }
}

/// Refuses a rollback that would revert a migration which a migration staying applied needs
/// (`planned` are indices into `entries` of the migrations about to be reverted).
///
/// # Errors
/// [`EngineError::DependentsApplied`] naming each such pair.
pub fn check_dependents(
    entries: &[Entry],
    planned: &[usize],
    graph: &DependencyGraph,
    what: &str,
) -> Result<()> {
    let all: Vec<String> = entries.iter().map(|e| e.version.clone()).collect();
    let applied: BTreeSet<String> = entries
        .iter()
        .filter(|e| e.row.is_some())
        .map(|e| e.version.clone())
        .collect();
    let reverting: Vec<String> = planned
        .iter()
        .map(|&i| entries[i].version.clone())
        .collect();
    let culprits = graph.dependents(&reverting, &applied, &all, |v| label_of(entries, v));
    if culprits.is_empty() {
        Ok(())
    } else {
        Err(EngineError::DependentsApplied {
            what: what.to_owned(),
            culprits,
        })
    }
}

fn label_of(entries: &[Entry], version: &str) -> String {
    entries
        .iter()
        .find(|e| e.version == version)
        .map_or_else(|| version.to_owned(), Entry::label)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use chrono::Utc;

    pub(super) fn code(versions: &[&str]) -> Vec<CodeMigration> {
        versions
            .iter()
            .map(|v| CodeMigration {
                version: (*v).to_owned(),
                name: format!("m{v}"),
                checksum: format!("sum{v}"),
                squash: None,
                render_stop: None,
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
            plan: None,
            via: None,
            render_stop: None,
            down_stop: None,
            runner: None,
        }
    }

    pub(super) fn applied(version: &str) -> LedgerRow {
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
    fn a_migration_whose_runner_is_at_work_is_running_and_plans_wait_for_it_without_a_repair() {
        let holder = Holder {
            command: Some("migrate up".to_owned()),
            host: Some("web-2".to_owned()),
            pid: Some("77".to_owned()),
            since: None,
            lease_until: None,
        };
        let rows = [applied("1"), row("2", "sum2", RowState::Running)];
        let mut entries = classify(&rows, &code(&["1", "2", "3"]));
        mark_running(&mut entries, &[("2".to_owned(), holder.clone())]);
        let states: Vec<_> = entries.iter().map(|e| e.state).collect();
        assert_eq!(states, [State::Applied, State::Running, State::Pending]);
        assert_eq!(entries[1].runner.as_ref(), Some(&holder));
        for refused in [
            plan_up(&entries, &UpTarget::default()).unwrap_err(),
            plan_down(&entries, &DownTarget::All).unwrap_err(),
        ] {
            assert!(matches!(refused, EngineError::Running { .. }), "{refused}");
            let message = refused.to_string();
            assert!(
                message.starts_with("migration 2_m2 is running on web-2 pid 77 (`migrate up`)"),
                "{message}"
            );
            assert!(message.contains("wait for it to finish"), "{message}");
            assert!(!message.contains("repair"), "{message}");
        }
        // Only a row still marked `running` is taken for one at work.
        let mut done = classify(&[applied("1"), applied("2")], &code(&["1", "2"]));
        mark_running(&mut done, &[("2".to_owned(), holder)]);
        assert_eq!(done[1].state, State::Applied);
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

    fn in_batch(version: &str, batch: i32) -> LedgerRow {
        LedgerRow {
            batch,
            ..applied(version)
        }
    }

    pub(super) fn squashed(version: &str, via: &str) -> LedgerRow {
        LedgerRow {
            via: Some(via.to_owned()),
            checksum: "sumS".to_owned(),
            ..applied(version)
        }
    }

    #[test]
    fn a_batch_rollback_reverts_exactly_that_batch_the_last_by_default() {
        let entries = classify(
            &[
                in_batch("1", 1),
                in_batch("2", 2),
                in_batch("3", 2),
                in_batch("4", 3),
            ],
            &code(&["1", "2", "3", "4"]),
        );
        let last = plan_down(&entries, &DownTarget::Batch(None)).unwrap();
        assert_eq!(versions(&entries, &last), ["4"]);
        let two = plan_down(&entries, &DownTarget::Batch(Some(2))).unwrap();
        assert_eq!(versions(&entries, &two), ["3", "2"]);
        assert!(matches!(
            plan_down(&entries, &DownTarget::Batch(Some(9))),
            Err(EngineError::UnknownBatch { batch: 9 })
        ));
        let nothing = classify(&[], &code(&["1"]));
        assert!(
            plan_down(&nothing, &DownTarget::Batch(None))
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn a_plan_applies_only_its_pending_migrations_even_out_of_order() {
        let entries = classify(&[applied("1"), applied("3")], &code(&["1", "2", "3", "4"]));
        let plan = UpTarget {
            only: Some(vec!["2".into(), "3".into(), "4".into()]),
            ..Default::default()
        };
        assert_eq!(
            versions(&entries, &plan_up(&entries, &plan).unwrap()),
            ["2", "4"]
        );
        let unknown = UpTarget {
            only: Some(vec!["7".into()]),
            ..Default::default()
        };
        assert!(plan_up(&entries, &unknown).is_err());
    }

    #[test]
    fn migrations_a_plan_applied_early_do_not_make_the_skipped_ones_late() {
        let early = LedgerRow {
            plan: Some("hotfix".into()),
            ..applied("4")
        };
        let entries = classify(&[applied("1"), early], &code(&["1", "2", "3", "4"]));
        let all = plan_up(&entries, &UpTarget::default()).unwrap();
        assert_eq!(versions(&entries, &all), ["2", "3"]);
    }

    #[test]
    fn rows_applied_through_a_consolidated_migration_are_squashed_and_checked_against_it() {
        let mut code = code(&["1", "2", "3"]);
        for c in &mut code[..2] {
            c.squash = Some(("mS".into(), "sumS".into()));
        }
        let entries = classify(&[squashed("1", "mS"), squashed("2", "mS")], &code);
        assert_eq!(entries[0].state, State::Squashed);
        code[0].squash = Some(("mS".into(), "changed".into()));
        let entries = classify(&[squashed("1", "mS"), squashed("2", "mS")], &code);
        assert_eq!(entries[0].state, State::Modified);
        code[0].squash = None;
        let entries = classify(&[squashed("1", "mS")], &code);
        assert_eq!(entries[0].state, State::Squashed);
    }

    #[test]
    fn a_squashed_run_is_reverted_whole_or_not_at_all() {
        let rows = [squashed("1", "mS"), squashed("2", "mS"), applied("3")];
        let entries = classify(&rows, &code(&["1", "2", "3"]));
        let two = plan_down(&entries, &DownTarget::Steps(2)).unwrap();
        assert_eq!(versions(&entries, &two), ["3", "2", "1"]);
        let to_one = plan_down(&entries, &DownTarget::To("1".into())).unwrap_err();
        assert!(
            matches!(to_one, EngineError::SplitsSquash { .. }),
            "{to_one}"
        );
        let to_two = plan_down(&entries, &DownTarget::To("2".into())).unwrap();
        assert_eq!(versions(&entries, &to_two), ["3"]);
        assert!(plan_down(&entries, &DownTarget::Only(vec!["2".into()])).is_err());
    }

    #[test]
    fn picked_migrations_need_their_dependencies_applied_or_picked() {
        let entries = classify(&[applied("1")], &code(&["1", "2", "3"]));
        let graph = DependencyGraph::undeclared();
        assert!(check_prerequisites(&entries, &[1], &graph, "p").is_ok());
        let err = check_prerequisites(&entries, &[2], &graph, "p").unwrap_err();
        assert_eq!(
            err.to_string(),
            "plan `p` cannot run: 3_m3 needs 2_m2, which is neither applied nor in the plan; add what is needed to the plan, or apply it first"
        );
    }

    #[test]
    fn a_rollback_may_not_take_away_what_a_remaining_migration_needs() {
        let entries = classify(&[applied("1"), applied("2")], &code(&["1", "2"]));
        let graph = DependencyGraph::undeclared();
        assert!(check_dependents(&entries, &[1], &graph, "batch 2").is_ok());
        let err = check_dependents(&entries, &[0], &graph, "batch 1").unwrap_err();
        assert!(
            err.to_string()
                .contains("2_m2, which stays applied, needs 1_m1"),
            "{err}"
        );
    }
}
