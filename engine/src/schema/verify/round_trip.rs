//! The round trip of each migration on the scratch database: `up`, `down` back to the schema
//! before it, `up` again to the same schema, and the `down` SQL stored in the ledger against the
//! one the code renders; the scratch database is rebuilt after a migration that fails it.

use sea_orm::DatabaseConnection;
use tracing::info;

use super::consolidated::check_squash;
use super::report::{Difference, VerifyReport};
use super::rows::{compare_rows, row_counts};
use crate::backend::scratch::Scratch;
use crate::error::{EngineError, Result};
use crate::exec::{Engine, RunOptions};
use crate::model::set::{Migration, MigrationSet};
use crate::plan::{DownTarget, UpTarget};
use crate::schema::diff;
use crate::schema::snapshot;
use crate::store::ledger::Ledger;
use crate::store::render::{self, Direction};

fn one_step() -> UpTarget {
    UpTarget {
        steps: Some(1),
        ..UpTarget::default()
    }
}

/// The sets applied before the one checked, on the same scratch database, each with its ledger.
pub(super) type Prelude<'p> = [(&'p MigrationSet, Ledger)];

/// Applies every set of `prelude` whole, in order.
pub(super) async fn apply_prelude(conn: &DatabaseConnection, prelude: &Prelude<'_>) -> Result<()> {
    for (set, ledger) in prelude {
        apply_first(conn, set, ledger, set.len()).await?;
    }
    Ok(())
}

/// Checks the migrations of `set` on `scratch` from the one at `start` on, after the sets of
/// `prelude` and the migrations before `start`; then each consolidated migration that replaces
/// one of them, on a database rebuilt for it.
pub(super) async fn check_all(
    scratch: &Scratch,
    set: &MigrationSet,
    ledger: &Ledger,
    prelude: &Prelude<'_>,
    start: usize,
    report: &mut VerifyReport,
) -> Result<()> {
    if !prelude.is_empty() {
        scratch.reset().await?;
    }
    let mut conn = scratch.connect().await?;
    apply_prelude(&conn, prelude).await?;
    if start > 0 {
        apply_first(&conn, set, ledger, start).await?;
    }
    for (index, migration) in set.iter().enumerate().skip(start) {
        let label = migration.id.module_name();
        let found = report.differences.len();
        let next = check_one(&conn, set, ledger, migration, report).await?;
        report.verified.push(label.clone());
        match report.differences.len() - found {
            0 => info!("{label}: its down undoes its up"),
            n => info!("{label}: {n} difference(s)"),
        }
        if let Next::Rebuild = next {
            let _ = conn.close_by_ref().await;
            scratch.reset().await?;
            conn = scratch.connect().await?;
            apply_prelude(&conn, prelude).await?;
            apply_first(&conn, set, ledger, index + 1).await?;
        }
    }
    let _ = conn.close_by_ref().await;
    for group in set.squashes().iter().filter(|g| g.last >= start) {
        scratch.reset().await?;
        check_squash(scratch, set, ledger, prelude, group, report).await?;
        report.squashes.push(group.name());
    }
    Ok(())
}

/// Applies the first `count` migrations one by one (never through a consolidated migration),
/// without checking them.
pub(super) async fn apply_first(
    conn: &DatabaseConnection,
    set: &MigrationSet,
    ledger: &Ledger,
    count: usize,
) -> Result<()> {
    let target = UpTarget {
        steps: Some(u32::try_from(count).unwrap_or(u32::MAX)),
        ..UpTarget::default()
    };
    Engine::new(conn.clone(), set, ledger.clone())
        .without_squashes()
        .up(&target, &RunOptions::default())
        .await
        .map(drop)
}

async fn check_one(
    conn: &DatabaseConnection,
    set: &MigrationSet,
    ledger: &Ledger,
    migration: &Migration,
    report: &mut VerifyReport,
) -> Result<Next> {
    let label = migration.id.module_name();
    let engine = Engine::new(conn.clone(), set, ledger.clone()).without_squashes();
    let options = RunOptions::default();
    let read = || snapshot::read_beside_ledger(conn, ledger.schema(), ledger.table_name());

    let before = read().await?;
    let rows_before = row_counts(conn, &before).await?;
    engine.up(&one_step(), &options).await?;
    let after_up = read().await?;
    let rows_up = row_counts(conn, &after_up).await?;

    let rendering = render::render(migration, ledger.backend(), Direction::Down).await;
    if let Some(reason) = rendering.irreversible() {
        report.differences.push(Difference::Irreversible {
            migration: label,
            reason: reason.to_owned(),
        });
        // Nothing was reverted: the schema is as this `up` left it, ready for the next.
        return Ok(Next::Continue);
    }
    // A `down` that reads data is stored only when it renders completely.
    let rendered = rendering.is_complete().then_some(rendering.statements);
    let stored = ledger
        .read(conn)
        .await
        .map_err(EngineError::db("reading the scratch ledger"))?
        .unwrap_or_default()
        .into_iter()
        .find(|row| row.version == migration.id.version)
        .and_then(|row| row.down_statements());
    if stored != rendered {
        report.differences.push(Difference::StoredDown {
            migration: label.clone(),
            stored: stored.unwrap_or_default(),
            rendered: rendered.unwrap_or_default(),
        });
    }

    match engine.down(&DownTarget::Steps(1), &options).await {
        Ok(_) => {}
        Err(EngineError::MigrationFailed { source, .. }) => {
            report.differences.push(Difference::DownFailed {
                migration: label,
                error: source.to_string(),
            });
            return Ok(Next::Rebuild);
        }
        Err(e) => return Err(e),
    }
    let after_down = read().await?;
    let rows_down = row_counts(conn, &after_down).await?;
    compare_rows(report, &label, [&rows_before, &rows_up, &rows_down]);
    let changes = diff::diff(&before, &after_down);
    if !changes.is_empty() {
        report
            .differences
            .extend(changes.into_iter().map(|change| Difference::Down {
                migration: label.clone(),
                change,
            }));
        return Ok(Next::Rebuild);
    }

    match engine.up(&one_step(), &options).await {
        Ok(_) => {}
        Err(EngineError::MigrationFailed { source, .. }) => {
            report.differences.push(Difference::ReapplyFailed {
                migration: label,
                error: source.to_string(),
            });
            return Ok(Next::Rebuild);
        }
        Err(e) => return Err(e),
    }
    let again = read().await?;
    let changes = diff::diff(&after_up, &again);
    if changes.is_empty() {
        return Ok(Next::Continue);
    }
    report
        .differences
        .extend(changes.into_iter().map(|change| Difference::Reapply {
            migration: label.clone(),
            change,
        }));
    Ok(Next::Rebuild)
}

/// What to do after checking one migration.
enum Next {
    /// The scratch schema is as the migration's `up` leaves it.
    Continue,
    /// The scratch schema is not to be trusted: build it again.
    Rebuild,
}
