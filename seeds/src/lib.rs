//! # seeds
//!
//! Deterministic test data for the reservation schema, written through the `entity` crate so
//! it follows the current schema (never from inside migrations, whose meaning must not change),
//! and the `seed` command that loads it.
//!
//! - [`profile`]: `minimal`, `demo` and `load --scale N`; the same [`Params`] give the same
//!   rows on every run and every backend.
//! - [`generate()`]: every row in memory, ids included; [`scenarios`] lists the QA scenarios
//!   and the ids they keep.
//! - [`load`]: `COPY` on PostgreSQL, multi-row `INSERT`s elsewhere, in one transaction.
//! - [`track`]: the `<ledger>_seeds` table recording each seeding and its [`hash`].
//! - [`Seeder`]: refuses an unmigrated database, skips what is already seeded, replaces what
//!   is not, [`Seeder::truncate`] empties the seeded tables.
//! - [`cli`]: the `seed` command line, with the engine's session, guards, confirmations and exit
//!   codes; and [`cli::SeedAfterFresh`], the same seeding run in process by
//!   `migrate fresh --seed PROFILE`.

pub mod cli;
pub mod error;
mod fleet;
pub mod generate;
pub mod hash;
pub mod load;
pub mod profile;
pub mod progress;
pub mod report;
pub mod scenarios;
pub mod seeder;
pub mod sequences;
pub mod table;
pub mod track;
pub mod truncate;

pub use error::{Result, SeedError};
pub use generate::{Dataset, generate, table_names};
pub use profile::{DEFAULT_SEED, Params, Profile};
pub use progress::Progress;
pub use report::{SeedReport, StatusReport, TruncateReport};
pub use seeder::{Plan, Request, Seeder};
pub use track::{SeedRecord, Tracking};
