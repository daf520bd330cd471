//! The steps of a run, as the planner hands them to the executor: each is one unit of work
//! together with the ledger rows it writes. A step applies or reverts one migration from the
//! code, applies or reverts a consolidated migration in place of the migrations it replaces, or
//! reverts with the `down` SQL stored when migrations that are no longer in the code were
//! applied. Pure like the rest of the planner: the code enters only as names and positions.

use super::Entry;
use crate::error::{EngineError, Result};
use crate::model::consolidated::SquashGroup;
use crate::model::set::MigrationId;

/// One step of a run. Indices are into the entries, in the order the step writes their rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// A migration's `up`, from the code.
    Apply(usize),
    /// A consolidated migration's `up`, in place of the migrations it replaces, none of which
    /// is applied.
    ApplyConsolidated {
        /// Its module name, as the ledger records it on the rows it applies.
        squash: String,
        /// The migrations it applies, oldest first.
        members: Vec<usize>,
    },
    /// A migration's `down`, from the code.
    Revert(usize),
    /// A consolidated migration's `down`, reverting the migrations applied through it.
    RevertConsolidated {
        /// Its module name, as the ledger recorded it.
        squash: String,
        /// The migrations it reverts, newest first.
        members: Vec<usize>,
    },
    /// The `down` SQL stored when they were applied, for a migration no longer in the code, or
    /// for the migrations applied through a consolidated migration (`via`) no longer in it.
    RevertStored {
        /// The consolidated migration they were applied through, if any.
        via: Option<String>,
        /// The migrations it reverts, newest first.
        members: Vec<usize>,
    },
}

impl Step {
    /// The migrations whose ledger rows the step writes, in the order it writes them.
    pub fn members(&self) -> &[usize] {
        match self {
            Step::Apply(i) | Step::Revert(i) => std::slice::from_ref(i),
            Step::ApplyConsolidated { members, .. }
            | Step::RevertConsolidated { members, .. }
            | Step::RevertStored { members, .. } => members,
        }
    }

    /// Whether the step applies (rather than reverts).
    pub fn applies(&self) -> bool {
        matches!(self, Step::Apply(_) | Step::ApplyConsolidated { .. })
    }

    /// The consolidated migration the step runs or reverts through, by module name.
    pub fn consolidated(&self) -> Option<&str> {
        match self {
            Step::ApplyConsolidated { squash, .. } | Step::RevertConsolidated { squash, .. } => {
                Some(squash)
            }
            Step::RevertStored { via, .. } => via.as_deref(),
            Step::Apply(_) | Step::Revert(_) => None,
        }
    }

    /// Version and name of what the step runs: the migration, or the consolidated migration
    /// (a recorded name that does not parse stands as the version, with no name).
    pub fn id(&self, entries: &[Entry]) -> (String, String) {
        match (self.consolidated(), self.members().first()) {
            (Some(squash), _) => MigrationId::parse(squash).map_or_else(
                |_| (squash.to_owned(), String::new()),
                |id| (id.version, id.name),
            ),
            (None, Some(&i)) => (entries[i].version.clone(), entries[i].name.clone()),
            (None, None) => (String::new(), String::new()),
        }
    }

    /// `version_name` of what the step runs, as progress lines and failures name it.
    pub fn label(&self, entries: &[Entry]) -> String {
        match (self.consolidated(), self.members().first()) {
            (Some(squash), _) => {
                MigrationId::parse(squash).map_or_else(|_| squash.to_owned(), |id| id.to_string())
            }
            (None, Some(&i)) => entries[i].label(),
            (None, None) => String::new(),
        }
    }

    /// What refusals name the step by: the module name of a consolidated migration, as the
    /// ledger recorded it, or the migration's `version_name`.
    fn refusal_name(&self, entries: &[Entry]) -> String {
        match (self.consolidated(), self.members().first()) {
            (Some(squash), _) => squash.to_owned(),
            (None, Some(&i)) => entries[i].label(),
            (None, None) => String::new(),
        }
    }
}

/// What [`up_steps`] makes of the migrations an `up` applies.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UpSteps {
    /// The steps, in order.
    pub steps: Vec<Step>,
    /// Why a consolidated migration was passed over, one sentence each.
    pub notes: Vec<String>,
}

/// Groups `planned` (pending migrations, in order) into steps: a consolidated migration of
/// `squashes` where the run covers every migration it replaces, none of which can be applied
/// as `planned` holds pending ones only; otherwise one migration at a time, with a note saying
/// why a consolidated migration the run reaches was not used.
pub fn up_steps(entries: &[Entry], planned: &[usize], squashes: &[SquashGroup]) -> UpSteps {
    let mut chosen: Vec<(String, Vec<usize>)> = Vec::new();
    let mut notes = Vec::new();
    for group in squashes {
        let members: Vec<usize> = (0..entries.len())
            .filter(|&i| entries[i].code.is_some_and(|c| group.covers(c)))
            .collect();
        let in_run: Vec<usize> = members
            .iter()
            .copied()
            .filter(|i| planned.contains(i))
            .collect();
        if in_run.is_empty() {
            continue;
        }
        let n = members.len();
        if in_run.len() == n {
            chosen.push((group.name(), in_run));
            continue;
        }
        let applied = members
            .iter()
            .filter(|&&i| entries[i].row.is_some())
            .count();
        let why = if applied > 0 {
            let verb = if applied == 1 { "was" } else { "were" };
            format!("{applied} of the {n} migrations it replaces {verb} already applied")
        } else {
            format!(
                "this run applies only {} of the {n} migrations it replaces",
                in_run.len()
            )
        };
        notes.push(format!(
            "Not using the consolidated migration {}: {why}, so they run one by one.",
            group.id
        ));
    }
    let mut steps = Vec::new();
    for &i in planned {
        match chosen.iter().find(|(_, members)| members.contains(&i)) {
            Some((squash, members)) if members.first() == Some(&i) => {
                steps.push(Step::ApplyConsolidated {
                    squash: squash.clone(),
                    members: members.clone(),
                });
            }
            Some(_) => {}
            None => steps.push(Step::Apply(i)),
        }
    }
    UpSteps { steps, notes }
}

/// Groups `planned` (applied migrations, newest first) into steps: consecutive rows applied
/// through one consolidated migration are reverted together, by its `down` when `squashes`
/// still has it, from their stored SQL otherwise; every other migration alone, from its code
/// or, when the code no longer has it, from its stored SQL.
pub fn down_steps(entries: &[Entry], planned: &[usize], squashes: &[SquashGroup]) -> Vec<Step> {
    let via_of = |i: usize| entries[i].row.as_ref().and_then(|r| r.via.clone());
    let mut steps = Vec::new();
    let mut k = 0;
    while k < planned.len() {
        let first = planned[k];
        let via = via_of(first);
        let mut members = vec![first];
        while via.is_some() && k + 1 < planned.len() && via_of(planned[k + 1]) == via {
            k += 1;
            members.push(planned[k]);
        }
        k += 1;
        steps.push(match via {
            Some(squash) if squashes.iter().any(|g| g.name() == squash) => {
                Step::RevertConsolidated { squash, members }
            }
            Some(squash) => Step::RevertStored {
                via: Some(squash),
                members,
            },
            None if entries[first].code.is_some() => Step::Revert(first),
            None => Step::RevertStored { via: None, members },
        });
    }
    steps
}

/// The stored `down` SQL of a [`Step::RevertStored`]'s migrations, in the order they revert.
///
/// # Errors
/// [`EngineError::MissingWithoutDown`] for a migration whose row keeps no `down` SQL, with why
/// it was not stored.
pub fn stored_down(entries: &[Entry], members: &[usize]) -> Result<Vec<String>> {
    let mut stored = Vec::new();
    for &i in members {
        let e = &entries[i];
        let statements = e
            .row
            .as_ref()
            .and_then(super::applied::LedgerRow::down_statements)
            .ok_or_else(|| EngineError::MissingWithoutDown {
                migration: e.label(),
                version: e.version.clone(),
                why: e.row.as_ref().and_then(|r| r.down_stop.clone()),
            })?;
        stored.extend(statements);
    }
    Ok(stored)
}

/// Refuses a revert that cannot run, before anything changes, in the order the steps would
/// run. `irreversible` holds, for each step, why its `down` from the code cannot run (its code
/// fails without reading anything, as it would on the database); reverting from stored SQL
/// needs that SQL, and needs `confirmed` since the code no longer vouches for it.
///
/// # Errors
/// [`EngineError::Irreversible`], [`EngineError::MissingWithoutDown`], or
/// [`EngineError::MissingNeedsConfirmation`] listing every step that reverts from stored SQL.
pub fn check_reverts(
    entries: &[Entry],
    steps: &[Step],
    irreversible: &[Option<String>],
    confirmed: bool,
) -> Result<()> {
    let mut unconfirmed = Vec::new();
    for (n, step) in steps.iter().enumerate() {
        if let Step::RevertStored { members, .. } = step {
            stored_down(entries, members)?;
            unconfirmed.push(step.refusal_name(entries));
        } else if let Some(reason) = irreversible.get(n).cloned().flatten() {
            return Err(EngineError::Irreversible {
                migration: step.refusal_name(entries),
                reason,
            });
        }
    }
    if unconfirmed.is_empty() || confirmed {
        Ok(())
    } else {
        Err(EngineError::MissingNeedsConfirmation {
            versions: unconfirmed,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::plan::tests::{applied, code, squashed};
    use crate::plan::{UpTarget, classify, plan_down, plan_up};
    use crate::store::ledger::{LedgerRow, encode_statements};
    use sea_orm_migration::prelude::*;

    struct Named(&'static str);

    impl MigrationName for Named {
        fn name(&self) -> &str {
            self.0
        }
    }

    #[async_trait::async_trait]
    impl MigrationTrait for Named {
        async fn up(&self, _: &SchemaManager) -> Result<(), DbErr> {
            Ok(())
        }
    }

    const SQUASH: &str = "m20240101_000009_squash";

    /// A consolidated migration replacing the code's migrations `first..=last`.
    fn group(first: usize, last: usize) -> SquashGroup {
        SquashGroup {
            id: MigrationId::parse(SQUASH).unwrap(),
            code: Box::new(Named(SQUASH)),
            first,
            last,
        }
    }

    fn pending(entries: &[Entry]) -> Vec<usize> {
        plan_up(entries, &UpTarget::default()).unwrap()
    }

    #[test]
    fn a_run_through_every_migration_a_consolidated_one_replaces_runs_it_instead() {
        let entries = classify(&[], &code(&["1", "2", "3"]));
        let up = up_steps(&entries, &pending(&entries), &[group(0, 1)]);
        assert_eq!(
            up.steps,
            [
                Step::ApplyConsolidated {
                    squash: SQUASH.to_owned(),
                    members: vec![0, 1]
                },
                Step::Apply(2)
            ]
        );
        assert!(up.notes.is_empty());
        assert_eq!(up.steps[0].label(&entries), "20240101000009_squash");
        assert_eq!(up.steps[1].label(&entries), "3_m3");
    }

    #[test]
    fn a_consolidated_migration_is_passed_over_with_a_note_when_the_run_splits_it() {
        let entries = classify(&[applied("1")], &code(&["1", "2", "3"]));
        let up = up_steps(&entries, &pending(&entries), &[group(0, 1)]);
        assert_eq!(up.steps, [Step::Apply(1), Step::Apply(2)]);
        assert_eq!(
            up.notes,
            [
                "Not using the consolidated migration 20240101000009_squash: 1 of the 2 migrations it replaces was already applied, so they run one by one."
            ]
        );
        let entries = classify(&[], &code(&["1", "2", "3"]));
        let up = up_steps(&entries, &[0], &[group(0, 1)]);
        assert_eq!(up.steps, [Step::Apply(0)]);
        assert!(
            up.notes[0].contains("this run applies only 1 of the 2"),
            "{up:?}"
        );
    }

    #[test]
    fn without_consolidated_migrations_every_migration_is_a_step_of_its_own() {
        let entries = classify(&[], &code(&["1", "2"]));
        let up = up_steps(&entries, &pending(&entries), &[]);
        assert_eq!(up.steps, [Step::Apply(0), Step::Apply(1)]);
    }

    #[test]
    fn rows_applied_through_a_consolidated_migration_revert_through_it_together() {
        let rows = [squashed("1", SQUASH), squashed("2", SQUASH), applied("3")];
        let entries = classify(&rows, &code(&["1", "2", "3"]));
        let planned = plan_down(&entries, &crate::plan::DownTarget::All).unwrap();
        let steps = down_steps(&entries, &planned, &[group(0, 1)]);
        assert_eq!(
            steps,
            [
                Step::Revert(2),
                Step::RevertConsolidated {
                    squash: SQUASH.to_owned(),
                    members: vec![1, 0]
                }
            ]
        );
        assert_eq!(
            steps[1].id(&entries),
            ("20240101000009".to_owned(), "squash".to_owned())
        );
    }

    #[test]
    fn what_the_code_no_longer_has_reverts_from_stored_sql() {
        let rows = [squashed("1", SQUASH), squashed("2", SQUASH), applied("5")];
        let entries = classify(&rows, &code(&["1", "2"]));
        let planned = plan_down(&entries, &crate::plan::DownTarget::All).unwrap();
        let steps = down_steps(&entries, &planned, &[]);
        assert_eq!(
            steps,
            [
                Step::RevertStored {
                    via: None,
                    members: vec![2]
                },
                Step::RevertStored {
                    via: Some(SQUASH.to_owned()),
                    members: vec![1, 0]
                }
            ]
        );
    }

    fn with_down(row: LedgerRow, down: &[&str]) -> LedgerRow {
        let down: Vec<String> = down.iter().map(|s| (*s).to_owned()).collect();
        LedgerRow {
            down_sql: Some(encode_statements(&down)),
            ..row
        }
    }

    #[test]
    fn reverting_from_stored_sql_needs_the_sql_and_a_confirmation() {
        let rows = [with_down(applied("1"), &["DROP TABLE a"]), applied("2")];
        let entries = classify(&rows, &code(&[]));
        let steps = down_steps(&entries, &[1, 0], &[]);
        let none = [None, None];
        assert!(matches!(
            check_reverts(&entries, &steps, &none, true),
            Err(EngineError::MissingWithoutDown { .. })
        ));
        assert_eq!(
            stored_down(&entries, steps[1].members()).unwrap(),
            ["DROP TABLE a"]
        );
        let err = check_reverts(&entries, &steps[1..], &none, false).unwrap_err();
        assert!(
            matches!(&err, EngineError::MissingNeedsConfirmation { versions } if versions == &["1_m1"]),
            "{err}"
        );
        assert!(check_reverts(&entries, &steps[1..], &none, true).is_ok());
    }

    #[test]
    fn an_irreversible_down_is_refused_before_later_steps_are_looked_at() {
        let entries = classify(&[applied("1"), applied("2")], &code(&["1", "2"]));
        let steps = down_steps(&entries, &[1, 0], &[]);
        let why = [None, Some("no down".to_owned())];
        let err = check_reverts(&entries, &steps, &why, false).unwrap_err();
        assert!(
            matches!(&err, EngineError::Irreversible { migration, .. } if migration == "1_m1"),
            "{err}"
        );
    }
}
