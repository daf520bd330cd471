//! Test support: one uniquely named database per test, on each backend.
//!
//! [`TestDb::create`] makes a fresh database and [`Drop`] removes it, so tests run in parallel
//! without sharing state (the model is sqlx's `sqlx-core/src/testing/mod.rs`):
//!
//! - SQLite: a file in a temporary directory, always available.
//! - PostgreSQL: `CREATE DATABASE` on the server named by `TEST_POSTGRES_URL`.
//! - MariaDB: `CREATE DATABASE` on the server named by `TEST_MARIADB_URL`.
//! - A Galera cluster, for the tests of the migration lock across nodes: `CREATE DATABASE`
//!   through the first of the nodes `TEST_GALERA_URLS` names ([`GaleraDb`]).
//!
//! A server backend whose variable is unset is skipped with a line on stderr, unless
//! `REQUIRE_ALL_BACKENDS=1` (set in CI), which turns the skip into a failure. A variable that is
//! set but names a server that cannot be reached always fails: a typo must not pass as a skip.
//!
//! [`backend_matrix!`] turns one `async fn scenario(db: TestDb)` into a test per backend, and
//! [`TestDb::table_names`] / [`TestDb::dump`] inspect a database for assertions.
//!
//! [`process`] runs the binaries under test, isolated from the runner's environment, and
//! returns a [`Run`]; [`workspace_bin`] builds the binaries of other workspace packages.
//!
//! The modules, one job each: `backend` (the backends and the variables that select them),
//! `database` (per-test databases; `catalog` reads them), `galera` (databases on the Galera
//! cluster), `matrix` (the backend matrix), `binaries` (the workspace, its target directory and
//! binaries), [`process`] (process runs) and [`data`] (test migrations over data).

// This crate is test support: failing loudly is its job, so the workspace lints against
// unwrap/expect/panic (meant for the engine and the CLI) do not apply here.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod backend;
mod binaries;
mod catalog;
pub mod data;
mod database;
mod galera;
pub mod lint_corpus;
mod matrix;
pub mod process;

pub use backend::{Backend, REQUIRE_ALL_BACKENDS, redact};
pub use binaries::{target_dir, workspace_bin, workspace_root};
pub use database::{TestDb, server_has_database};
pub use galera::{GALERA_URLS, GaleraDb, galera_urls};
pub use matrix::run_scenario;
pub use process::{Run, migrate_bin, run_in};
