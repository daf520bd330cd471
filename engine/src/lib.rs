//! # migration-engine
//!
//! Runs SeaORM migrations (`MigrationTrait` + `SchemaManager`, unchanged) with what teams need
//! around them: a ledger with checksums, batches and the `down` SQL of every applied migration;
//! an append-only history; dry-runs; adoption of `seaql_migrations`; and a `migrate` command line.
//!
//! ## The layers
//! Each folder uses only those before it; nothing uses the command line
//! (`tests/layers.rs` reads the sources to keep it so):
//! - [`model`]: the ordered set of migrations ([`model::set::MigrationSet`]), consolidated
//!   migrations as data, dependencies, releases, the project that carries them, and a
//!   project's several sets with their needs and run order ([`model::sets`]);
//! - [`error`]: [`EngineError`], wrapping the model's errors;
//! - [`backend`]: a module per backend (lock, cancel, session id and timeouts, its own
//!   connection, catalog queries, scratch databases) and [`backend::Capabilities`], the one
//!   description of what a backend can do;
//! - [`plan`]: the pure planner, from ledger rows and the set to [`plan::Step`]s;
//! - [`store`]: the ledger and its history, adoption, checksums, rendering without a database
//!   ([`store::render`]) and the capture of what a run sent ([`store::capture`]);
//! - [`exec`]: the [`Session`] (connection, lock, timeouts, cancel, guard), the
//!   [`Operations`] that change a schema with their destructive hooks, the executor and the
//!   step protocol it shares with dry runs, repair, baseline, [`run_pending`], reports, and
//!   what commands across sets share ([`exec::sets`]: where each set runs, their needs checked);
//! - [`schema`]: schema snapshots, their worded diff, and [`schema::verify`];
//! - [`lint`]: `migrate lint`, rules over each migration's rendered SQL per backend, knowing
//!   which tables earlier migrations created, with allowances (`LINT_ALLOW`) and reports;
//! - [`authoring`]: `create`, the consolidated-migration generator, releases editing, saved
//!   plans;
//! - `cli` (cargo feature `cli`): the `migrate` command line and what `seed` shares with it.
//!
//! A schema-changing command opens a [`Session`] on its target, reads the ledger, plans, runs
//! each step under the backend's protocol and records it, reports, and releases the session.
//! Read-only commands (status, history, dry runs, schema) use an [`Engine`] without a lock.
//!
//! ## What each backend guarantees
//! - **PostgreSQL and SQLite** run DDL inside transactions: each migration commits together with
//!   its ledger and history rows, or not at all. A migration may opt out with
//!   `use_transaction() -> Some(false)` (e.g. `CREATE INDEX CONCURRENTLY`).
//! - **MySQL and MariaDB** commit every DDL statement implicitly. The ledger row is written as
//!   `running` before a migration and completed after it; a migration that stops midway leaves a
//!   `failed` row that blocks later commands until `migrate repair` resolves it.
//! - **The lock** ([`backend::lock`]) is the server's session lock (advisory lock, `GET_LOCK`, the
//!   SQLite lock file), or on a Galera cluster, where `GET_LOCK` holds on one node only, a
//!   replicated row with a lease (the `table` strategy, PostgreSQL and MySQL/MariaDB). A
//!   `running` row whose runner still holds its table lock reads as `running`, never as failed.
//!
//! ## Rendering
//! [`store::render`] runs a migration against an in-memory connection of the target backend and
//! keeps the SQL it would send. Checksums, dry-runs and the stored `down` SQL come from it.
//! Rendering is best effort and never a precondition of running: a migration that reads data is
//! rendered up to its first read that only the database can answer, and is marked partly
//! rendered. What a run actually sent is read off the real connection ([`store::capture`]) and
//! kept in the history.
//!
//! ## Cargo features
//! `cli` (the command line: clap, prompts, tables, `.env`, the log subscriber) and the drivers
//! `postgres`, `mysql`, `sqlite`, all on by default. A service that only runs [`run_pending`]
//! needs `default-features = false` and its one driver.

pub mod authoring;
pub mod backend;
#[cfg(feature = "cli")]
pub mod cli;
pub mod error;
pub mod exec;
pub mod lint;
pub mod model;
pub mod plan;
pub mod schema;
pub mod store;

pub use authoring::plans::{Plan, PlanStore};
pub use backend::target::Target;
pub use error::{EngineError, Result};
pub use exec::guard::Guard;
pub use exec::operations::{
    AfterFresh, BeforeDestructive, CacheUse, FreshReport, Hooks, Operation, Operations, SeedRequest,
};
pub use exec::report::{RunReport, StatusReport};
pub use exec::reset_cache::ResetCache;
pub use exec::session::{Session, SessionOptions};
pub use exec::startup::{StartupOptions, run_pending};
pub use exec::{Engine, RepairAction, RunOptions};
pub use model::consolidated::Squash;
pub use model::deps::DependencyGraph;
pub use model::project::{LoadedProject, Project};
pub use model::releases::Releases;
pub use model::set::MigrationSet;
pub use model::sets::{SetDatabase, Sets, database_of};
pub use plan::{DownTarget, State, UpTarget};
pub use schema::snapshot::SchemaSnapshot;
pub use schema::verify::{Difference, VerifyOptions, VerifyReport};
