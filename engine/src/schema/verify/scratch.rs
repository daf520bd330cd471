//! The scratch databases of a run: one beside each database the sets run on, all made before
//! the first check, the sets' ledgers on them, and, however the run ends, what the checks applied
//! reverted and every scratch database dropped.

use std::time::Duration;
use tracing::{info, warn};

use super::SetToVerify;
use super::report::VerifyReport;
use crate::backend::scratch::Scratch;
use crate::backend::target::Target;
use crate::error::{EngineError, Result};
use crate::exec::sets::same_database;
use crate::exec::{Engine, RunOptions};
use crate::model::set::MigrationSet;
use crate::plan::DownTarget;
use crate::store::ledger::Ledger;

/// Why a run ended before checking every migration.
pub(super) enum Stop {
    /// An error other than a difference.
    Failed(EngineError),
    /// A signal, by name.
    Signal(&'static str),
}

/// The scratch databases of one run, each with the target it was made beside.
pub(super) struct Scratches<'a> {
    made: Vec<(&'a Target, Scratch)>,
    /// Every set's ledger table.
    siblings: Vec<String>,
}

impl<'a> Scratches<'a> {
    /// Makes a scratch database beside each database `sets` run on, in the order they first
    /// run there; when one cannot be made, those made before it are dropped.
    ///
    /// # Errors
    /// What [`Scratch::create`] fails with.
    pub(super) async fn create(sets: &[SetToVerify<'a>], timeout: Duration) -> Result<Self> {
        let mut made: Vec<(&'a Target, Scratch)> = Vec::new();
        for chosen in sets {
            if made.iter().any(|(t, _)| same_database(t, chosen.target)) {
                continue;
            }
            match Scratch::create(chosen.target, timeout).await {
                Ok(scratch) => made.push((chosen.target, scratch)),
                Err(e) => {
                    for (_, scratch) in made {
                        if let Err(drop_error) = scratch.destroy().await {
                            warn!("{drop_error}");
                        }
                    }
                    return Err(e);
                }
            }
        }
        Ok(Self {
            made,
            siblings: sets
                .iter()
                .map(|s| s.target.migration_table.clone())
                .collect(),
        })
    }

    /// The scratch database made beside `target`'s database.
    pub(super) fn of(&self, target: &Target) -> Option<&Scratch> {
        self.made
            .iter()
            .find(|(t, _)| same_database(t, target))
            .map(|(_, scratch)| scratch)
    }

    /// The ledger on `scratch` of the set that runs on `target`, beside every set's ledger table
    /// (a set's ledger is named for the set, on the scratch database as on its own).
    pub(super) fn ledger(&self, scratch: &Scratch, target: &Target) -> Ledger {
        Ledger::placed(
            scratch.target.backend(),
            scratch.target.database_schema.as_deref(),
            scratch.target.migration_schema.as_deref(),
            &target.migration_table,
        )
        .with_siblings(self.siblings.clone())
    }

    /// The sets of `sets` that run on `target`'s database, each with its ledger on `scratch`.
    pub(super) fn sets_on(
        &self,
        scratch: &Scratch,
        sets: &[SetToVerify<'a>],
        target: &Target,
    ) -> Vec<(&'a MigrationSet, Ledger)> {
        sets.iter()
            .filter(|s| same_database(s.target, target))
            .map(|s| (s.set, self.ledger(scratch, s.target)))
            .collect()
    }

    /// Ends the run that `outcome` says how it stopped: unless a signal stopped it, reverts on
    /// each scratch database what the checks applied; then drops every scratch database and
    /// returns `reports`, or the run's error (its differences and a failed drop logged), or the
    /// interruption with what was cleaned up.
    ///
    /// # Errors
    /// The run's error, else [`EngineError::Interrupted`] for a signal, else what dropping a
    /// scratch database failed with.
    pub(super) async fn finish(
        self,
        sets: &[SetToVerify<'a>],
        outcome: std::result::Result<(), Stop>,
        reports: Vec<VerifyReport>,
    ) -> Result<Vec<VerifyReport>> {
        if !matches!(outcome, Err(Stop::Signal(_))) {
            for (target, scratch) in &self.made {
                tear_down(scratch, &self.sets_on(scratch, sets, target)).await;
            }
        }
        let names: Vec<String> = self.made.iter().map(|(_, s)| s.target.redacted()).collect();
        let mut dropped = Ok(());
        for (_, scratch) in self.made {
            if let Err(e) = scratch.destroy().await {
                dropped = Err(e);
            }
        }
        match (outcome, dropped) {
            (Ok(()), Ok(())) => Ok(reports),
            (Ok(()), Err(e)) => Err(e),
            (Err(Stop::Signal(signal)), dropped) => Err(EngineError::Interrupted {
                signal,
                cleanup: match (dropped, names.as_slice()) {
                    (Ok(()), [name]) => format!("the scratch database {name} was dropped"),
                    (Ok(()), _) => {
                        format!("the scratch databases {} were dropped", names.join(", "))
                    }
                    (Err(e), _) => e.to_string(),
                },
            }),
            (Err(Stop::Failed(e)), dropped) => {
                // The run's own error is what the user must act on first; the rest goes to the log.
                for d in reports.iter().flat_map(|r| &r.differences) {
                    warn!("{d}");
                }
                if let Err(drop_error) = dropped {
                    warn!("{drop_error}");
                }
                Err(e)
            }
        }
    }
}

/// Reverts what the checks left applied on `scratch`, newest set first, before it is dropped:
/// a migration may create what outlives a database (PostgreSQL and MariaDB roles belong to the
/// server), and only its `down` removes that. Best effort: a `down` that fails here was
/// reported by the checks already.
async fn tear_down(scratch: &Scratch, applied: &[(&MigrationSet, Ledger)]) {
    let Ok(conn) = scratch.connect().await else {
        return;
    };
    let options = RunOptions {
        confirmed_missing: true,
        ..RunOptions::default()
    };
    for (set, ledger) in applied.iter().rev() {
        let engine = Engine::new(conn.clone(), set, ledger.clone()).without_squashes();
        if let Err(e) = engine.down(&DownTarget::All, &options).await {
            info!("reverting on the scratch database before dropping it: {e}");
            break;
        }
    }
    let _ = conn.close_by_ref().await;
}
