//! What `seed` did, for people (`Display`) and for machines (`Serialize`, `--format json`).

use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use serde::Serialize;

use crate::load::TableLoad;
use crate::track::SeedRecord;

/// What a seeding run did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// The rows were generated and loaded.
    Seeded,
    /// The database already held this seeding: nothing was done.
    Unchanged,
}

/// A table whose row count no longer matches what was seeded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Drift {
    /// The table.
    pub table: String,
    /// Rows when seeded.
    pub seeded: u64,
    /// Rows now.
    pub now: u64,
}

/// The outcome of `seed PROFILE`.
#[derive(Debug, Clone, Serialize)]
pub struct SeedReport {
    /// Seeded, or unchanged.
    pub action: Action,
    /// The profile's name.
    pub profile: String,
    /// The generator's seed.
    pub seed: u64,
    /// The scale.
    pub scale: u32,
    /// The date the data is generated around.
    pub today: NaiveDate,
    /// When the data in the database was seeded.
    pub seeded_at: DateTime<Utc>,
    /// Rows removed first (a previous seeding, or rows replaced with `--reseed`).
    pub replaced_rows: u64,
    /// Each table's load; empty when unchanged.
    pub tables: Vec<TableLoad>,
    /// Rows in the seeding.
    pub rows: u64,
    /// Milliseconds spent generating the rows.
    pub generate_ms: u64,
    /// Milliseconds spent loading them (the transaction, commit included).
    pub load_ms: u64,
    /// Milliseconds for the whole run.
    pub total_ms: u64,
    /// Rows loaded per second of loading.
    pub rows_per_second: f64,
    /// SHA-256 of the seeded rows.
    pub content_hash: String,
    /// Tables whose row count changed since they were seeded (unchanged runs only).
    pub drift: Vec<Drift>,
}

impl fmt::Display for SeedReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = format!(
            "`{}` (seed {}, scale {}, today {})",
            self.profile, self.seed, self.scale, self.today
        );
        if self.action == Action::Unchanged {
            writeln!(
                f,
                "Already seeded with {what} at {}: {} rows, content hash {}. Nothing to do; pass --reseed to seed again.",
                self.seeded_at.format("%Y-%m-%d %H:%M:%S UTC"),
                self.rows,
                self.content_hash
            )?;
            for d in &self.drift {
                writeln!(
                    f,
                    "Note: {} has {} rows, {} when seeded; --reseed restores it.",
                    d.table, d.now, d.seeded
                )?;
            }
            return Ok(());
        }
        let mut t = Table::new();
        t.load_preset(UTF8_FULL_CONDENSED)
            .set_header(vec!["Table", "Rows", "Seconds", "Rows/s"]);
        for load in &self.tables {
            let secs = load.took.as_secs_f64();
            t.add_row(vec![
                load.table.to_owned(),
                load.rows.to_string(),
                format!("{secs:.2}"),
                rate(load.rows, secs),
            ]);
        }
        writeln!(f, "{t}")?;
        if self.replaced_rows > 0 {
            writeln!(f, "Replaced {} existing rows.", self.replaced_rows)?;
        }
        writeln!(
            f,
            "Seeded {what}: {} rows loaded in {:.2} s ({} rows/s); generated in {:.2} s; {:.2} s in all.",
            self.rows,
            ms(self.load_ms),
            rate(self.rows, ms(self.load_ms)),
            ms(self.generate_ms),
            ms(self.total_ms),
        )?;
        writeln!(f, "Content hash: {}", self.content_hash)
    }
}

fn ms(ms: u64) -> f64 {
    ms as f64 / 1000.0
}

fn rate(rows: u64, secs: f64) -> String {
    if secs <= 0.0 {
        "-".to_owned()
    } else {
        format!("{:.0}", rows as f64 / secs)
    }
}

/// The outcome of `seed truncate`.
#[derive(Debug, Clone, Serialize)]
pub struct TruncateReport {
    /// Rows removed per table, children first.
    pub tables: Vec<(String, u64)>,
    /// Rows removed in all.
    pub rows: u64,
    /// The tracking table whose records were removed too.
    pub tracking_table: String,
}

impl fmt::Display for TruncateReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.rows == 0 {
            return writeln!(
                f,
                "The seeded tables were already empty; id sequences restart at 1."
            );
        }
        writeln!(
            f,
            "Emptied {} tables ({} rows) and {}; id sequences restart at 1. The schema and the migration ledger are untouched.",
            self.tables.iter().filter(|(_, n)| *n > 0).count(),
            self.rows,
            self.tracking_table
        )
    }
}

/// The outcome of `seed status`.
#[derive(Debug, Clone, Serialize)]
pub struct StatusReport {
    /// The newest recorded seeding, if any.
    pub seeded: Option<SeedRecord>,
    /// Rows per seeded table now; `None` when the tables do not exist (not migrated).
    pub tables: Option<Vec<(String, u64)>>,
    /// Where seedings are recorded.
    pub tracking_table: String,
}

impl fmt::Display for StatusReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.seeded {
            None => writeln!(f, "Nothing seeded (no record in {}).", self.tracking_table)?,
            Some(r) => writeln!(
                f,
                "Seeded with `{}` (seed {}, scale {}, today {}) at {} in {:.2} s: {} rows, content hash {}.",
                r.profile,
                r.seed,
                r.scale,
                r.today,
                r.seeded_at.format("%Y-%m-%d %H:%M:%S UTC"),
                r.duration_ms as f64 / 1000.0,
                r.total_rows(),
                r.content_hash
            )?,
        }
        let Some(tables) = &self.tables else {
            return writeln!(f, "The seeded tables do not exist: run `migrate up`.");
        };
        let mut t = Table::new();
        t.load_preset(UTF8_FULL_CONDENSED)
            .set_header(vec!["Table", "Rows now", "Rows seeded"]);
        for (table, now) in tables {
            let seeded = self
                .seeded
                .as_ref()
                .and_then(|r| r.rows.get(table))
                .map(u64::to_string)
                .unwrap_or_default();
            t.add_row(vec![table.clone(), now.to_string(), seeded]);
        }
        writeln!(f, "{t}")
    }
}
