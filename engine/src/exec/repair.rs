//! `migrate repair`: fixes the ledger after a deliberate change to an applied migration or a
//! failed one, one history entry per change, all in one transaction. It never runs migrations.

use chrono::Utc;
use sea_orm::{ConnectionTrait, DbBackend, StatementBuilder, TransactionTrait};

use super::engine::{Engine, RunOptions};
use super::report::RepairReport;
use crate::error::{EngineError, Result};
use crate::model::set::MigrationId;
use crate::plan::{Entry, State};
use crate::store::history::{self, Action, Outcome};
use crate::store::ledger::{self, LedgerRow, Rendered, RowState};

/// What `repair` should do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RepairAction {
    /// Re-record the checksums of modified migrations.
    Checksums,
    /// Mark a failed migration as applied (its DDL completed, checked by hand).
    MarkApplied(String),
    /// Remove a failed or missing migration's row (its DDL was undone by hand).
    Remove(String),
}

impl Engine<'_> {
    /// Fixes the ledger after a deliberate change or a failed migration. Never runs migrations.
    ///
    /// # Errors
    /// [`EngineError::Repair`] when the named version is not in a state this action handles.
    pub(crate) async fn repair(
        &self,
        action: &RepairAction,
        options: &RunOptions,
    ) -> Result<RepairReport> {
        let snap = self.locked_snapshot().await?;
        let mut report = RepairReport::default();
        let find = |typed: &str| -> Result<&Entry> {
            let version = MigrationId::normalise_version(typed).ok_or_else(|| {
                EngineError::UnknownVersion {
                    version: typed.to_owned(),
                }
            })?;
            snap.entries
                .iter()
                .find(|e| e.version == version && e.row.is_some())
                .ok_or_else(|| EngineError::Repair {
                    message: format!("version {typed} has no row in the ledger; run `migrate status` to see what is recorded"),
                })
        };
        let mut writes: Vec<(LedgerRow, String, Box<dyn StatementBuilderDyn>)> = Vec::new();
        match action {
            RepairAction::Checksums => {
                if let Some(dirty) = snap.entries.iter().find(|e| e.state == State::Failed) {
                    return Err(EngineError::Dirty {
                        migration: dirty.label(),
                        version: dirty.version.clone(),
                        state: "failed".to_owned(),
                        what: "is failed, and a checksum cannot be re-recorded over it".to_owned(),
                    });
                }
                for e in snap.entries.iter().filter(|e| e.state == State::Modified) {
                    let (Some(row), Some(i)) = (&e.row, e.code) else {
                        continue;
                    };
                    let Some(m) = self.set.iter().nth(i) else {
                        continue;
                    };
                    // A row applied through a consolidated migration takes that migration's
                    // checksum, and its `down` if it is the newest of its run.
                    let through = match (&row.via, &snap.code[i].squash) {
                        (Some(via), Some((name, sum))) if via == name => {
                            self.set.squash(name).map(|g| (g, sum.clone()))
                        }
                        _ => None,
                    };
                    let rendered = match through {
                        Some((group, sum)) => {
                            let newest = snap
                                .entries
                                .iter()
                                .filter(|x| {
                                    x.row.as_ref().and_then(|r| r.via.as_ref()) == row.via.as_ref()
                                })
                                .map(|x| x.version.as_str())
                                .max();
                            let (down_sql, down_stop) = if newest == Some(e.version.as_str()) {
                                self.stored_down(group.code.as_ref()).await
                            } else {
                                (Some(ledger::encode_statements(&[])), None)
                            };
                            Rendered {
                                checksum: sum,
                                render_stop: None,
                                down_sql,
                                down_stop,
                            }
                        }
                        None => self.rendered(m.code.as_ref(), &snap.code[i]).await,
                    };
                    let what = format!(
                        "re-recorded checksum of {}: {} -> {}",
                        e.label(),
                        short(&row.checksum),
                        short(&rendered.checksum)
                    );
                    writes.push((
                        row.clone(),
                        what,
                        Box::new(self.ledger.set_checksum(&row.version, &rendered)),
                    ));
                }
            }
            RepairAction::MarkApplied(typed) => {
                let e = find(typed)?;
                refuse_at_work(e)?;
                let row = e.row.clone().unwrap_or_else(|| unreachable_row(e));
                if row.state == RowState::Applied {
                    return Err(EngineError::Repair {
                        message: format!("{} is already applied; nothing to mark", e.label()),
                    });
                }
                let what = format!("marked {} as applied", e.label());
                writes.push((
                    row.clone(),
                    what,
                    Box::new(
                        self.ledger
                            .set_state(&row.version, RowState::Applied, None, None),
                    ),
                ));
            }
            RepairAction::Remove(typed) => {
                let e = find(typed)?;
                refuse_at_work(e)?;
                let row = e.row.clone().unwrap_or_else(|| unreachable_row(e));
                if matches!(e.state, State::Applied | State::Modified | State::Squashed) {
                    return Err(EngineError::Repair {
                        message: format!(
                            "{} is applied and in the code; revert it with `migrate down` instead of removing its row",
                            e.label()
                        ),
                    });
                }
                let what = format!("removed the ledger row of {}", e.label());
                writes.push((
                    row.clone(),
                    what,
                    Box::new(self.ledger.delete(&row.version)),
                ));
            }
        }
        if writes.is_empty() {
            return Ok(report);
        }
        let txn = self
            .conn
            .begin()
            .await
            .map_err(EngineError::db("repairing the ledger"))?;
        for (row, what, stmt) in writes {
            let reason = Some(match &options.reason {
                Some(r) => format!("{what} ({r})"),
                None => what.clone(),
            });
            let entry = self.history_entry(
                &row,
                Action::Repair,
                Some(row.batch),
                0,
                Outcome::Success,
                None,
                reason,
            );
            txn.execute_raw(stmt.build_for(self.backend()))
                .await
                .map_err(EngineError::db("repairing the ledger"))?;
            txn.execute(&history::insert(&self.ledger, &entry))
                .await
                .map_err(EngineError::db("repairing the ledger"))?;
            report.changes.push(what);
        }
        txn.commit()
            .await
            .map_err(EngineError::db("repairing the ledger"))?;
        Ok(report)
    }
}

/// Refuses to repair a migration another runner is applying now (it holds the table lock its
/// row names, under a lock this command did not share): the row is not stale, and will complete.
fn refuse_at_work(e: &Entry) -> Result<()> {
    match (&e.state, &e.runner) {
        (State::Running, Some(runner)) => Err(EngineError::Running {
            migration: e.label(),
            runner: runner.running_on(),
        }),
        _ => Ok(()),
    }
}

fn short(sum: &str) -> &str {
    sum.get(..12).unwrap_or(sum)
}

fn unreachable_row(e: &Entry) -> LedgerRow {
    LedgerRow {
        version: e.version.clone(),
        name: e.name.clone(),
        checksum: String::new(),
        state: RowState::Failed,
        batch: 0,
        applied_at: Utc::now(),
        execution_ms: 0,
        applied_by: String::new(),
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

/// A statement whose SQL is built for the backend at hand.
trait StatementBuilderDyn: Send + Sync {
    fn build_for(&self, backend: DbBackend) -> sea_orm::Statement;
}

impl<S: StatementBuilder + Send + Sync> StatementBuilderDyn for S {
    fn build_for(&self, backend: DbBackend) -> sea_orm::Statement {
        backend.build(self)
    }
}
