//! One seeding, start to end: refuse a database that is not fully migrated, decide from what is
//! recorded and what the tables hold whether there is anything to do, then empty, generate,
//! load, restart the id sequences and record.
//!
//! Guards and confirmations are the caller's (the command line asks; a test does not): this
//! module only says, through [`Plan::replaces`], when a run would replace rows.

use std::time::Instant;

use chrono::{SubsecRound, Utc};
use migration_engine::store::ledger::Ledger;
use migration_engine::{Engine, MigrationSet, State};
use sea_orm::DatabaseConnection;

use crate::error::{Result, SeedError};
use crate::generate::{generate, table_names};
use crate::hash;
use crate::load;
use crate::profile::Params;
use crate::progress::Progress;
use crate::report::{Action, Drift, SeedReport, StatusReport, TruncateReport};
use crate::sequences;
use crate::track::{SeedRecord, Tracking};
use crate::truncate;

/// What was asked for.
#[derive(Debug, Clone, Copy)]
pub struct Request {
    /// The rows wanted.
    pub params: Params,
    /// Seed again even if these parameters are already seeded, replacing any rows.
    pub reseed: bool,
    /// Whether `today` was given explicitly. When not, a seeding recorded on another day with
    /// the same profile, seed and scale still counts as done.
    pub today_given: bool,
}

/// What a seeding run will do.
#[derive(Debug, Clone)]
pub enum Plan {
    /// These parameters are seeded already.
    Unchanged {
        /// The recorded seeding.
        record: SeedRecord,
        /// Tables whose row counts changed since.
        drift: Vec<Drift>,
    },
    /// Seed, after emptying the seeded tables of the rows they hold.
    Seed {
        /// Rows in the seeded tables now.
        existing: u64,
        /// The seeding those rows came from, if recorded.
        previous: Option<SeedRecord>,
    },
}

impl Plan {
    /// Rows that seeding would replace.
    pub fn replaces(&self) -> u64 {
        match self {
            Plan::Unchanged { .. } => 0,
            Plan::Seed { existing, .. } => *existing,
        }
    }
}

/// Decides what a run does, from the request, the newest record and the rows per table.
///
/// # Errors
/// [`SeedError::ForeignRows`] when the tables hold rows no recorded seeding wrote and
/// `--reseed` was not given.
pub fn decide(
    request: &Request,
    record: Option<SeedRecord>,
    counts: &[(&str, u64)],
) -> Result<Plan> {
    let existing: u64 = counts.iter().map(|(_, n)| n).sum();
    let p = &request.params;
    if let Some(record) = &record
        && !request.reseed
        && record.profile == p.profile.name()
        && record.seed == p.seed
        && record.scale == p.scale
        && (!request.today_given || record.today == p.today)
    {
        let drift = counts
            .iter()
            .filter_map(|(table, now)| {
                let seeded = record.rows.get(*table).copied().unwrap_or(0);
                (seeded != *now).then(|| Drift {
                    table: (*table).to_owned(),
                    seeded,
                    now: *now,
                })
            })
            .collect();
        return Ok(Plan::Unchanged {
            record: record.clone(),
            drift,
        });
    }
    if record.is_none() && existing > 0 && !request.reseed {
        let tables: Vec<&str> = counts
            .iter()
            .filter(|(_, n)| *n > 0)
            .map(|(t, _)| *t)
            .collect();
        return Err(SeedError::ForeignRows {
            rows: existing,
            tables: tables.join(", "),
        });
    }
    Ok(Plan::Seed {
        existing,
        previous: record,
    })
}

/// Seeds one database.
pub struct Seeder {
    db: DatabaseConnection,
    ledger: Ledger,
    tracking: Tracking,
}

impl Seeder {
    /// A seeder for the database behind `db`, whose migration ledger is `ledger`.
    pub fn new(db: DatabaseConnection, ledger: Ledger) -> Self {
        let tracking = Tracking::new(&ledger);
        Self {
            db,
            ledger,
            tracking,
        }
    }

    /// The connection.
    pub fn connection(&self) -> &DatabaseConnection {
        &self.db
    }

    /// The migration ledger this seeder checks and records beside.
    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    /// The tracking table.
    pub fn tracking(&self) -> &Tracking {
        &self.tracking
    }

    /// Refuses unless every migration of `set` is applied and none is modified, missing or
    /// failed: only then are the tables the ones the entities describe.
    ///
    /// # Errors
    /// [`SeedError::NotMigrated`], or the engine's error while reading the ledger.
    pub async fn check_migrated(&self, set: &MigrationSet) -> Result<()> {
        let status = Engine::new(self.db.clone(), set, self.ledger.clone())
            .status()
            .await?;
        let states = [
            State::Pending,
            State::Modified,
            State::Missing,
            State::Failed,
        ];
        let parts: Vec<String> = states
            .iter()
            .filter_map(|s| {
                let n = status.count(*s);
                (n > 0).then(|| format!("{n} {}", s.as_str()))
            })
            .collect();
        if parts.is_empty() {
            return Ok(());
        }
        let only_pending = parts.len() == 1 && status.count(State::Pending) > 0;
        Err(SeedError::NotMigrated {
            summary: parts.join(", "),
            fix: if only_pending {
                "run `migrate up` first"
            } else {
                "run `migrate status` to see which, resolve them, then run `migrate up` first"
            },
        })
    }

    /// What a run for `request` would do.
    ///
    /// # Errors
    /// See [`decide`]; or a database error while reading.
    pub async fn plan(&self, request: &Request) -> Result<Plan> {
        let record = self.tracking.latest(&self.db).await?;
        let counts = truncate::counts(&self.db).await?;
        decide(request, record, &counts)
    }

    /// Plans and, unless there is nothing to do, seeds; asks nobody.
    ///
    /// # Errors
    /// As [`Seeder::plan`] and [`Seeder::execute`].
    pub async fn run(&self, request: &Request, progress: &Progress) -> Result<SeedReport> {
        let plan = self.plan(request).await?;
        self.execute(request, plan, progress).await
    }

    /// Carries out `plan`.
    ///
    /// # Errors
    /// [`SeedError::Load`] when a table fails to load (the load is rolled back; rows that were
    /// replaced stay removed), or a database error.
    pub async fn execute(
        &self,
        request: &Request,
        plan: Plan,
        progress: &Progress,
    ) -> Result<SeedReport> {
        let started = Instant::now();
        let p = request.params;
        let existing = match plan {
            Plan::Unchanged { record, drift } => return Ok(unchanged(record, drift)),
            Plan::Seed { existing, .. } => existing,
        };
        if existing > 0 {
            progress.note(&format!("emptying the seeded tables ({existing} rows)"));
            truncate::empty(&self.db).await?;
        }
        let generating = Instant::now();
        let ds = generate(&p);
        let content_hash = hash::of_dataset(&ds);
        let generate_ms = millis(generating);
        progress.note(&format!(
            "generated {} rows of `{}` in {:.2} s",
            ds.row_count(),
            p.profile,
            generate_ms as f64 / 1000.0
        ));
        let loading = Instant::now();
        let tables = load::load(&self.db, &ds, progress).await?;
        let load_ms = millis(loading);
        sequences::reset(&self.db, &table_names()).await?;
        let rows = ds.row_count();
        let record = SeedRecord {
            profile: p.profile.name().to_owned(),
            seed: p.seed,
            scale: p.scale,
            today: p.today,
            seeded_at: Utc::now().trunc_subsecs(0),
            rows: tables
                .iter()
                .map(|t| (t.table.to_owned(), t.rows))
                .collect(),
            content_hash: content_hash.clone(),
            duration_ms: i64::try_from(millis(started)).unwrap_or(i64::MAX),
        };
        self.tracking.record(&self.db, &record).await?;
        let load_secs = load_ms as f64 / 1000.0;
        Ok(SeedReport {
            action: Action::Seeded,
            profile: record.profile,
            seed: p.seed,
            scale: p.scale,
            today: p.today,
            seeded_at: record.seeded_at,
            replaced_rows: existing,
            tables,
            rows,
            generate_ms,
            load_ms,
            total_ms: millis(started),
            rows_per_second: if load_secs > 0.0 {
                rows as f64 / load_secs
            } else {
                0.0
            },
            content_hash,
            drift: Vec::new(),
        })
    }

    /// Empties every seeded table children first, restarts their ids and forgets the recorded
    /// seedings. The schema, the migration ledger and its history stay as they are.
    ///
    /// # Errors
    /// A database error.
    pub async fn truncate(&self) -> Result<TruncateReport> {
        let mut tables: Vec<(String, u64)> = truncate::counts(&self.db)
            .await?
            .into_iter()
            .map(|(t, n)| (t.to_owned(), n))
            .collect();
        tables.reverse();
        truncate::empty(&self.db).await?;
        self.tracking.clear(&self.db).await?;
        Ok(TruncateReport {
            rows: tables.iter().map(|(_, n)| n).sum(),
            tables,
            tracking_table: self.tracking.name().to_owned(),
        })
    }

    /// Rows in the seeded tables now, in load order.
    ///
    /// # Errors
    /// A database error, including a missing table.
    pub async fn counts(&self) -> Result<Vec<(&'static str, u64)>> {
        truncate::counts(&self.db).await
    }

    /// The newest recorded seeding and the rows per table now. Reads only.
    ///
    /// # Errors
    /// A database error other than missing tables.
    pub async fn status(&self) -> Result<StatusReport> {
        let seeded = self.tracking.latest(&self.db).await?;
        let tables = match truncate::counts(&self.db).await {
            Ok(counts) => Some(counts.into_iter().map(|(t, n)| (t.to_owned(), n)).collect()),
            Err(SeedError::Database { source, .. })
                if migration_engine::backend::is_undefined_table(&source) =>
            {
                None
            }
            Err(e) => return Err(e),
        };
        Ok(StatusReport {
            seeded,
            tables,
            tracking_table: self.tracking.name().to_owned(),
        })
    }
}

fn unchanged(record: SeedRecord, drift: Vec<Drift>) -> SeedReport {
    SeedReport {
        action: Action::Unchanged,
        seed: record.seed,
        scale: record.scale,
        today: record.today,
        seeded_at: record.seeded_at,
        replaced_rows: 0,
        tables: Vec::new(),
        rows: record.total_rows(),
        generate_ms: 0,
        load_ms: 0,
        total_ms: 0,
        rows_per_second: 0.0,
        content_hash: record.content_hash,
        profile: record.profile,
        drift,
    }
}

fn millis(since: Instant) -> u64 {
    u64::try_from(since.elapsed().as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::Profile;
    use chrono::NaiveDate;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, 1, 6).unwrap_or_default()
    }

    fn request(profile: Profile, reseed: bool, today_given: bool) -> Request {
        Request {
            params: Params::new(profile, today()),
            reseed,
            today_given,
        }
    }

    fn record(profile: &str, rows: u64) -> SeedRecord {
        SeedRecord {
            profile: profile.to_owned(),
            seed: crate::profile::DEFAULT_SEED,
            scale: 1,
            today: today() - chrono::Duration::days(3),
            seeded_at: Utc::now(),
            rows: [("tenants".to_owned(), rows)].into_iter().collect(),
            content_hash: "h".to_owned(),
            duration_ms: 1,
        }
    }

    #[test]
    fn an_empty_database_is_seeded() {
        let plan = decide(
            &request(Profile::Demo, false, false),
            None,
            &[("tenants", 0)],
        );
        assert!(matches!(plan, Ok(Plan::Seed { existing: 0, .. })));
    }

    #[test]
    fn the_same_profile_again_is_unchanged_even_on_another_day() {
        let plan = decide(
            &request(Profile::Demo, false, false),
            Some(record("demo", 4)),
            &[("tenants", 4)],
        );
        assert!(matches!(plan, Ok(Plan::Unchanged { ref drift, .. }) if drift.is_empty()));
    }

    #[test]
    fn an_explicit_other_day_or_another_profile_replaces_the_seeded_rows() {
        for (req, rec) in [
            (request(Profile::Demo, false, true), record("demo", 4)),
            (request(Profile::Minimal, false, false), record("demo", 4)),
        ] {
            let plan = decide(&req, Some(rec), &[("tenants", 4)]);
            assert!(matches!(plan, Ok(Plan::Seed { existing: 4, .. })));
        }
    }

    #[test]
    fn rows_nobody_recorded_are_refused_unless_reseeding() {
        let refused = decide(
            &request(Profile::Demo, false, false),
            None,
            &[("tenants", 2)],
        );
        assert!(matches!(
            refused,
            Err(SeedError::ForeignRows { rows: 2, .. })
        ));
        let replaced = decide(
            &request(Profile::Demo, true, false),
            None,
            &[("tenants", 2)],
        );
        assert!(matches!(replaced, Ok(Plan::Seed { existing: 2, .. })));
    }

    #[test]
    fn changed_row_counts_are_reported_as_drift() {
        let plan = decide(
            &request(Profile::Demo, false, false),
            Some(record("demo", 4)),
            &[("tenants", 3)],
        );
        assert!(matches!(plan, Ok(Plan::Unchanged { ref drift, .. }) if drift.len() == 1));
    }
}
