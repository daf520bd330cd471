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
//! records it ([`runner::Engine`]).
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

pub mod adopt;
pub mod backend;
pub mod capture;
pub mod checksum;
pub mod cli;
pub mod deps;
pub mod error;
pub mod guard;
pub mod history;
pub mod ledger;
pub mod lock;
pub mod plan;
pub mod plans;
pub mod project;
pub mod release;
pub mod render;
pub mod report;
pub mod runner;
pub mod scaffold;
pub mod selection;
pub mod snapshot;
pub mod source;
pub mod squash;
pub mod startup;
pub mod target;
pub mod verify;
pub mod wipe;

pub use deps::DependencyGraph;
pub use error::{EngineError, Result};
pub use guard::Guard;
pub use plan::{DownTarget, State, UpTarget};
pub use plans::{Plan, PlanStore};
pub use project::{LoadedProject, Project};
pub use release::Releases;
pub use report::{RunReport, StatusReport};
pub use runner::{Engine, RepairAction, RunOptions};
pub use snapshot::SchemaSnapshot;
pub use source::MigrationSet;
pub use squash::Squash;
pub use startup::{StartupOptions, run_pending};
pub use target::Target;
pub use verify::{Difference, VerifyOptions, VerifyReport};
