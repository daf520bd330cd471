//! # migration-engine
//!
//! Runs SeaORM migrations (`MigrationTrait` + `SchemaManager`, unchanged) with what teams need
//! around them: a ledger with checksums, batches and the `down` SQL of every applied migration;
//! an append-only history; dry-runs; adoption of `seaql_migrations`; and a `migrate` command line.
//!
//! ## The model
//! A project lists its migrations in order ([`source::MigrationSet`]). Each command reads the
//! ledger, classifies every migration as applied, pending, modified, missing or failed
//! ([`plan::State`]), plans what to do with a pure function ([`plan`]), then runs each step and
//! records it ([`exec::Engine`]).
//!
//! ## What each backend guarantees
//! - **PostgreSQL and SQLite** run DDL inside transactions: each migration commits together with
//!   its ledger and history rows, or not at all. A migration may opt out with
//!   `use_transaction() -> Some(false)` (e.g. `CREATE INDEX CONCURRENTLY`).
//! - **MySQL and MariaDB** commit every DDL statement implicitly. The ledger row is written as
//!   `running` before a migration and completed after it; a migration that stops midway leaves a
//!   `failed` row that blocks later commands until `migrate repair` resolves it.
//!
//! ## Rendering
//! [`render`] runs a migration against an in-memory connection of the target backend and keeps
//! the SQL it would send. Checksums, dry-runs and the stored `down` SQL come from it. Rendering is
//! best effort and never a precondition of running: a migration that reads data is rendered up to
//! its first read that only the database can answer, and is marked partly rendered. What a run
//! actually sent is read off the real connection ([`capture`]) and kept in the history.
//!
//! ## Releases, plans and consolidated migrations
//! A project may say which release shipped each migration ([`release`]), what each migration
//! needs ([`deps`]), and which consolidated migrations stand in for runs of the list on fresh
//! databases ([`squash`]); [`project::Project`] carries all of it to the command line. Plans
//! ([`plans`]) are hand-picked sets of migrations applied and reverted as one batch, checked
//! against the dependency graph.
//!
//! ## Reversibility
//! [`snapshot`] reads a schema into a value two of which compare with `==` and differ in typed,
//! worded changes ([`snapshot::diff`]). [`verify`] uses it on a scratch database to show that
//! every migration's `down` returns the schema to what it was before its `up`.

pub mod authoring;
pub mod backend;
#[cfg(feature = "cli")]
pub mod cli;
pub mod error;
pub mod exec;
pub mod model;
pub mod plan;
pub mod schema;
pub mod store;

pub use authoring::plans::{Plan, PlanStore};
pub use backend::target::Target;
pub use error::{EngineError, Result};
pub use exec::guard::Guard;
pub use exec::operations::{
    AfterFresh, BeforeDestructive, FreshReport, Hooks, Operation, Operations,
};
pub use exec::report::{RunReport, StatusReport};
pub use exec::session::{Session, SessionOptions};
pub use exec::startup::{StartupOptions, run_pending};
pub use exec::{Engine, RepairAction, RunOptions};
pub use model::consolidated::Squash;
pub use model::deps::DependencyGraph;
pub use model::project::{LoadedProject, Project};
pub use model::releases::Releases;
pub use model::set::MigrationSet;
pub use plan::{DownTarget, State, UpTarget};
pub use schema::snapshot::SchemaSnapshot;
pub use schema::verify::{Difference, VerifyOptions, VerifyReport};
