//! Schemas without a ledger: a database restored from a dump, built before this tool was used,
//! or whose ledger tables were dropped. Running the migrations there would collide with what
//! they already built (`table "tenants" already exists`) and leave an empty ledger behind, so
//! every command that plans on the ledger refuses such a database before it runs or creates
//! anything, and points to `migrate baseline`.
//!
//! `baseline` is Flyway's baseline: it records the migrations up to a version (every one, by
//! default) as applied without running them, with the checksums and stored `down` SQL an `up`
//! records, so `status`, `check`, `down` and `verify` treat them as any applied migration. Its
//! rows say how they got there: `applied_by` is [`BASELINE_APPLIED_BY`] (as adopted rows say
//! `seaql_migrations`), `status` marks them, and the history records each as a `baseline`.
//!
//! SeaORM's `seaql_migrations` is not such a case: `adopt` reads what it lists and keeps doing so.

use std::fmt;

use sea_orm::{ConnectionTrait, TransactionTrait};
use serde::Serialize;

use super::engine::{Engine, RunOptions, Snapshot};
use super::fresh::is_tracking_table;
use crate::backend::wipe::{self, Object, ObjectKind};
use crate::error::{EngineError, Result};
use crate::model::set::MigrationId;
use crate::plan::Entry;
use crate::store::adopt::SEAQL_TABLE;
use crate::store::history::{self, Action, Outcome};
use crate::store::ledger::{self, LedgerRow, Rendered};

/// `applied_by` of the ledger rows `baseline` records: nobody ran them. It cannot be mistaken for
/// a runner, whose `user@host` always has an `@`.
pub const BASELINE_APPLIED_BY: &str = "baseline";

/// How many objects the refusal of a schema without a ledger names.
const NAMED: usize = 3;

/// Whether `baseline` recorded `row`.
pub(crate) fn is_baseline_row(row: &LedgerRow) -> bool {
    row.applied_by == BASELINE_APPLIED_BY
}

/// The objects that show a schema was built: everything but migration bookkeeping and
/// extensions. An extension alone proves nothing (administrators install them into new
/// databases, and migrations create theirs with `IF NOT EXISTS`), while the objects that belong
/// to one are not listed at all.
fn built_objects(objects: Vec<Object>, ledger_table: &str) -> Vec<Object> {
    objects
        .into_iter()
        .filter(|o| o.kind != ObjectKind::Extension)
        .filter(|o| {
            !(o.kind == ObjectKind::Table && is_tracking_table(&o.identifier(), ledger_table))
        })
        .collect()
}

/// A few of `objects` for a message: one of each kind first (tables, views, functions, …), then
/// more tables, `…` when some are left out.
fn sample(objects: &[Object]) -> String {
    let mut sorted: Vec<&Object> = objects.iter().collect();
    sorted.sort_by_key(|o| (o.kind, o.display_name()));
    let mut picked: Vec<&Object> = Vec::new();
    for o in &sorted {
        if picked.len() < NAMED && !picked.iter().any(|p| p.kind == o.kind) {
            picked.push(o);
        }
    }
    for o in &sorted {
        if picked.len() < NAMED && !picked.iter().any(|p| std::ptr::eq(*p, *o)) {
            picked.push(o);
        }
    }
    picked.sort_by_key(|o| (o.kind.rank(), o.display_name()));
    let mut named: Vec<String> = picked.iter().map(|o| o.label()).collect();
    if objects.len() > picked.len() {
        named.push("…".to_owned());
    }
    named.join(", ")
}

/// The entries `baseline --to` records: every migration of the code up to and including
/// `to` (every one without it), in order.
///
/// # Errors
/// [`EngineError::UnknownVersion`] for a `to` that is not a migration in the code;
/// [`EngineError::Baseline`] when the code has no migration to record.
fn pick(entries: &[Entry], to: Option<&str>) -> Result<Vec<usize>> {
    let to = match to {
        Some(typed) => {
            let unknown = || EngineError::UnknownVersion {
                version: typed.to_owned(),
            };
            let version = MigrationId::normalise_version(typed).ok_or_else(unknown)?;
            if !entries
                .iter()
                .any(|e| e.code.is_some() && e.version == version)
            {
                return Err(unknown());
            }
            Some(version)
        }
        None => None,
    };
    let picked: Vec<usize> = (0..entries.len())
        .filter(|&i| entries[i].code.is_some())
        .filter(|&i| to.as_ref().is_none_or(|to| entries[i].version <= *to))
        .collect();
    if picked.is_empty() {
        return Err(EngineError::Baseline {
            message: "the code has no migrations to record".to_owned(),
        });
    }
    Ok(picked)
}

/// One migration `baseline` records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Baselined {
    /// Fourteen-digit version.
    pub version: String,
    /// Snake-case name.
    pub name: String,
}

/// What `baseline` recorded, or with `dry_run` would record.
#[derive(Debug, Clone, Serialize)]
pub struct BaselineReport {
    /// Whether nothing was recorded (`--dry-run`, or the question before recording).
    pub dry_run: bool,
    /// The batch the rows are recorded in.
    pub batch: i32,
    /// The migrations recorded as applied, in order.
    pub baselined: Vec<Baselined>,
    /// How many later migrations stay pending, for `up` to apply.
    pub pending: usize,
}

impl BaselineReport {
    /// The migrations, one per indented line.
    pub fn list(&self) -> String {
        self.baselined
            .iter()
            .map(|m| format!("  {}_{}\n", m.version, m.name))
            .collect()
    }

    /// `records 11 migration(s) as applied without running them (20240813000001_… .. 20240813000011_…)`,
    /// for a confirmation.
    pub fn effect(&self) -> String {
        let label = |m: Option<&Baselined>| {
            m.map_or(String::new(), |m| format!("{}_{}", m.version, m.name))
        };
        let range = match self.baselined.len() {
            1 => label(self.baselined.first()),
            _ => format!(
                "{} .. {}",
                label(self.baselined.first()),
                label(self.baselined.last())
            ),
        };
        format!(
            "records {} migration(s) as applied without running them ({range})",
            self.baselined.len()
        )
    }
}

impl fmt::Display for BaselineReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.baselined.len();
        let batch = self.batch;
        if self.dry_run {
            writeln!(f, "Dry run: nothing was recorded.")?;
            writeln!(
                f,
                "baseline would record {n} migration(s) as applied in batch {batch}, without running them:"
            )?;
        } else {
            writeln!(
                f,
                "Recorded {n} migration(s) as applied in batch {batch}, without running them:"
            )?;
        }
        f.write_str(&self.list())?;
        match (self.pending, self.dry_run) {
            (0, _) => Ok(()),
            (k, true) => writeln!(f, "{k} later migration(s) would stay pending."),
            (k, false) => writeln!(
                f,
                "{k} later migration(s) stay pending: `migrate up` applies them."
            ),
        }
    }
}

impl Engine<'_> {
    /// The schema's objects that show it was built, besides migration bookkeeping.
    async fn built_objects(&self) -> Result<Vec<Object>> {
        let objects = wipe::list_objects(&self.conn)
            .await
            .map_err(EngineError::db("listing the schema's objects"))?;
        Ok(built_objects(objects, self.ledger.table_name()))
    }

    /// Refuses to plan on a database that has no ledger (and no `seaql_migrations` to adopt)
    /// but holds tables, views or routines: read before anything runs or is created. Costs one
    /// catalog query, only when there is no ledger.
    ///
    /// # Errors
    /// [`EngineError::Unledgered`], naming a few of the objects.
    pub(super) async fn refuse_unledgered(&self, snap: &Snapshot) -> Result<()> {
        if snap.rows.is_some() || snap.adoptable.is_some() {
            return Ok(());
        }
        let objects = self.built_objects().await?;
        let siblings = self.ledger.siblings();
        // Another set of the project keeps its ledger here: what is beside it is the sets' work.
        if objects.is_empty()
            || objects.iter().any(|o| {
                o.kind == ObjectKind::Table && siblings.iter().any(|t| *t == o.identifier())
            })
        {
            return Ok(());
        }
        Err(EngineError::Unledgered {
            count: objects.len(),
            ledger: self.ledger.table_name().to_owned(),
            sample: sample(&objects),
        })
    }

    /// Checks that `baseline` may start a ledger here and picks what it records.
    async fn check_baseline(&self, snap: &Snapshot, to: Option<&str>) -> Result<Vec<usize>> {
        let table = self.ledger.table_name();
        if let Some(rows) = snap.rows.as_ref().filter(|rows| !rows.is_empty()) {
            let newest = rows
                .iter()
                .max_by(|a, b| a.version.cmp(&b.version))
                .map(|r| format!("{}_{}", r.version, r.name))
                .unwrap_or_default();
            return Err(EngineError::Baseline {
                message: format!(
                    "the ledger `{table}` already records {} migration(s), the newest {newest}; baseline only starts a ledger on a database without one: `migrate status` shows where this one stands and `migrate up` applies what is pending",
                    rows.len()
                ),
            });
        }
        if snap.rows.is_none() && snap.adoptable.is_some() {
            return Err(EngineError::Baseline {
                message: format!(
                    "this database was migrated by SeaORM's migrator: `{SEAQL_TABLE}` lists what is applied; run `migrate adopt` to carry it into the ledger instead"
                ),
            });
        }
        if self.built_objects().await?.is_empty() {
            return Err(EngineError::Baseline {
                message: "the database holds no tables, views or routines: there is nothing to baseline; `migrate up` applies the migrations".to_owned(),
            });
        }
        pick(&snap.entries, to)
    }

    fn baseline_report(&self, snap: &Snapshot, picked: &[usize], dry_run: bool) -> BaselineReport {
        let batch = ledger::next_batch(snap.rows.as_deref().unwrap_or_default());
        BaselineReport {
            dry_run,
            batch,
            baselined: picked
                .iter()
                .map(|&i| Baselined {
                    version: snap.entries[i].version.clone(),
                    name: snap.entries[i].name.clone(),
                })
                .collect(),
            pending: snap
                .entries
                .iter()
                .filter(|e| e.code.is_some())
                .count()
                .saturating_sub(picked.len()),
        }
    }

    /// What [`Operations::baseline`](crate::exec::operations::Operations::baseline) would record, after the same checks; reads only.
    ///
    /// # Errors
    /// As [`Operations::baseline`](crate::exec::operations::Operations::baseline), before anything is written.
    pub async fn baseline_plan(&self, to: Option<&str>) -> Result<BaselineReport> {
        let snap = self.locked_snapshot().await?;
        let picked = self.check_baseline(&snap, to).await?;
        Ok(self.baseline_report(&snap, &picked, true))
    }

    /// Records the code's migrations up to and including `to` (every one without it) as
    /// applied, without running them, on a database whose schema they already built but that
    /// has no ledger (or an empty one): creates the ledger, writes each row with the checksum
    /// and stored `down` SQL an `up` would record, in one new batch, and appends a `baseline`
    /// history entry for each, all in one transaction.
    ///
    /// It runs under the migration lock, like every command that writes the ledger, but no
    /// guard stops it: it changes no schema and no data, only starts a ledger where there is
    /// none (so nothing recorded can be lost), and its main use is bringing an existing
    /// production database under the ledger, where a guard would demand `--force` every time it
    /// is used as intended. The command line asks for confirmation instead, as `adopt` needs
    /// none: what it records is the user's claim, not the database's.
    ///
    /// # Errors
    /// [`EngineError::Baseline`] when the ledger already records migrations, when
    /// `seaql_migrations` is there to adopt, or when the schema is empty;
    /// [`EngineError::UnknownVersion`] for a `to` not in the code; a database error while
    /// writing, which leaves no row behind.
    pub(crate) async fn baseline(
        &self,
        to: Option<&str>,
        options: &RunOptions,
    ) -> Result<BaselineReport> {
        let snap = self.locked_snapshot().await?;
        let picked = self.check_baseline(&snap, to).await?;
        let report = self.baseline_report(&snap, &picked, false);
        let mut rows = Vec::with_capacity(picked.len());
        for &i in &picked {
            let entry = &snap.entries[i];
            let migration = self.code_of(entry)?;
            let rendered = match entry.code.and_then(|c| snap.code.get(c)) {
                Some(up) => self.rendered(migration.code.as_ref(), up).await,
                None => Rendered::default(),
            };
            rows.push(LedgerRow {
                applied_by: BASELINE_APPLIED_BY.to_owned(),
                ..self.new_row(entry, rendered, report.batch, options)
            });
        }
        self.ensure_ledger().await?;
        let failed = EngineError::db("recording the baseline");
        let txn = self.conn.begin().await.map_err(failed)?;
        for row in &rows {
            let entry = self.record(row, Action::Baseline, 0, Outcome::Success, None, options);
            let written = async {
                txn.execute(&self.ledger.insert(row)).await?;
                txn.execute(&history::insert(&self.ledger, &entry)).await
            }
            .await;
            if let Err(e) = written {
                let _ = txn.rollback().await;
                return Err(EngineError::db("recording the baseline")(e));
            }
        }
        txn.commit()
            .await
            .map_err(EngineError::db("recording the baseline"))?;
        tracing::info!(
            "recorded {} migration(s) as applied without running them",
            rows.len()
        );
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::State;

    fn object(kind: ObjectKind, name: &str) -> Object {
        Object {
            kind,
            name: name.to_owned(),
        }
    }

    fn entry(version: &str, in_code: bool) -> Entry {
        Entry {
            version: version.to_owned(),
            name: format!("m{version}"),
            state: State::Pending,
            code: in_code.then_some(0),
            row: None,
            runner: None,
        }
    }

    #[test]
    fn extensions_and_bookkeeping_do_not_show_a_built_schema() {
        let objects = vec![
            object(ObjectKind::Extension, "pgcrypto"),
            object(ObjectKind::Table, "\"schema_migrations_history\""),
            object(ObjectKind::Table, "`seaql_migrations`"),
        ];
        assert!(built_objects(objects.clone(), "schema_migrations").is_empty());
        let mut more = objects;
        more.push(object(ObjectKind::Function, "set_updated_at()"));
        assert_eq!(built_objects(more, "schema_migrations").len(), 1);
    }

    #[test]
    fn a_refusal_names_one_object_of_each_kind_first() {
        let objects = [
            object(ObjectKind::View, "\"available_timeslots\""),
            object(ObjectKind::Table, "\"tenants\""),
            object(ObjectKind::Table, "\"bookings\""),
            object(ObjectKind::Function, "set_updated_at()"),
            object(ObjectKind::Table, "\"users\""),
        ];
        assert_eq!(
            sample(&objects),
            "table bookings, view available_timeslots, function set_updated_at(), …"
        );
        assert_eq!(sample(&objects[1..3]), "table bookings, table tenants");
    }

    #[test]
    fn baseline_takes_the_code_up_to_the_version_asked_for() {
        let entries = [
            entry("20240101000001", true),
            entry("20240101000002", true),
            entry("20240101000003", true),
        ];
        assert_eq!(pick(&entries, None).ok(), Some(vec![0, 1, 2]));
        assert_eq!(
            pick(&entries, Some("20240101_000002")).ok(),
            Some(vec![0, 1])
        );
        assert!(matches!(
            pick(&entries, Some("20240101000009")),
            Err(EngineError::UnknownVersion { .. })
        ));
        assert!(matches!(
            pick(&entries, Some("x")),
            Err(EngineError::UnknownVersion { .. })
        ));
        assert!(matches!(pick(&[], None), Err(EngineError::Baseline { .. })));
    }

    #[test]
    fn a_report_lists_what_it_records_and_what_stays_pending() {
        let report = BaselineReport {
            dry_run: false,
            batch: 1,
            baselined: vec![
                Baselined {
                    version: "20240101000001".into(),
                    name: "a".into(),
                },
                Baselined {
                    version: "20240101000002".into(),
                    name: "b".into(),
                },
            ],
            pending: 1,
        };
        assert_eq!(
            report.to_string(),
            "Recorded 2 migration(s) as applied in batch 1, without running them:\n  \
             20240101000001_a\n  20240101000002_b\n1 later migration(s) stay pending: `migrate up` applies them.\n"
        );
        assert_eq!(
            report.effect(),
            "records 2 migration(s) as applied without running them (20240101000001_a .. 20240101000002_b)"
        );
    }
}
