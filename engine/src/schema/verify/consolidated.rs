//! The check of a consolidated migration ([`crate::model::consolidated`]): where none of the
//! migrations it replaces is applied, it must be used, end in their schema, and its `down` must
//! restore the schema from before it.

use super::report::{Difference, VerifyReport};
use super::round_trip::{Prelude, apply_first, apply_prelude};
use crate::backend::scratch::Scratch;
use crate::error::{EngineError, Result};
use crate::exec::{Engine, RunOptions};
use crate::model::consolidated::SquashGroup;
use crate::model::set::MigrationSet;
use crate::plan::{DownTarget, UpTarget};
use crate::schema::diff;
use crate::schema::snapshot;
use crate::store::ledger::Ledger;

/// Checks one consolidated migration on a rebuilt scratch database: its `up` where none of the
/// migrations it replaces is applied, its `down`, and the migrations it replaces one by one.
pub(super) async fn check_squash(
    scratch: &Scratch,
    set: &MigrationSet,
    ledger: &Ledger,
    prelude: &Prelude<'_>,
    group: &SquashGroup,
    report: &mut VerifyReport,
) -> Result<()> {
    let name = group.name();
    let count = group.last - group.first + 1;
    let steps = |n: usize| UpTarget {
        steps: Some(u32::try_from(n).unwrap_or(u32::MAX)),
        ..UpTarget::default()
    };
    let failed = |error: String| Difference::SquashFailed {
        migration: name.clone(),
        error,
    };
    let options = RunOptions::default();
    let conn = scratch.connect().await?;
    let read = || snapshot::read_beside_ledger(&conn, ledger.schema(), ledger.table_name());
    apply_prelude(&conn, prelude).await?;
    apply_first(&conn, set, ledger, group.first).await?;
    let before = read().await?;
    let engine = Engine::new(conn.clone(), set, ledger.clone());
    let consolidated = match engine.up(&steps(count), &options).await {
        Ok(run) if run.steps.first().is_some_and(|s| s.source == "squash") => {
            let after = read().await?;
            match engine.down(&DownTarget::Steps(1), &options).await {
                Ok(_) => {
                    let changes = diff::diff(&before, &read().await?);
                    report.differences.extend(changes.into_iter().map(|change| {
                        Difference::SquashDown {
                            migration: name.clone(),
                            change,
                        }
                    }));
                }
                Err(EngineError::MigrationFailed { source, .. }) => {
                    report
                        .differences
                        .push(failed(format!("its down fails: {source}")));
                }
                Err(e) => return Err(e),
            }
            Some(after)
        }
        Ok(_) => {
            report.differences.push(failed(
                "it was not used on a database where none of the migrations it replaces is applied"
                    .to_owned(),
            ));
            None
        }
        Err(EngineError::MigrationFailed { source, .. }) => {
            report
                .differences
                .push(failed(format!("its up fails: {source}")));
            None
        }
        Err(e) => return Err(e),
    };
    let _ = conn.close_by_ref().await;
    let Some(consolidated) = consolidated else {
        return Ok(());
    };

    scratch.reset().await?;
    let conn = scratch.connect().await?;
    apply_prelude(&conn, prelude).await?;
    apply_first(&conn, set, ledger, group.last + 1).await?;
    let individual =
        snapshot::read_beside_ledger(&conn, ledger.schema(), ledger.table_name()).await?;
    let _ = conn.close_by_ref().await;
    report.differences.extend(
        diff::diff(&individual, &consolidated)
            .into_iter()
            .map(|change| Difference::Squash {
                migration: name.clone(),
                change,
            }),
    );
    Ok(())
}
