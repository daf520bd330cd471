//! Running migrations: the session that holds a target (connection, lock, timeouts, cancel,
//! guard); the operations that change it, with their destructive hooks; the engine bound to a
//! database and what it reads there; the executor that plans each command and runs its steps
//! under the step protocol (or prints them for a dry run); repair, baseline and what `fresh`
//! drops; the start-up API; and the reports of what ran.

pub mod backup;
mod baseline;
mod dry_run;
mod engine;
mod executor;
pub mod fleet;
mod fresh;
pub mod guard;
pub mod operations;
pub(crate) mod protocol;
pub mod releases;
mod repair;
pub mod report;
pub mod reset_cache;
pub mod retry;
pub mod session;
pub mod sets;
pub mod startup;

pub use baseline::{BASELINE_APPLIED_BY, BaselineReport, Baselined};
// Plans record who made them; only the command line makes plans.
#[cfg(feature = "cli")]
pub(crate) use engine::who;
pub use engine::{Engine, RunOptions, Ups};
pub use repair::RepairAction;
