//! Running migrations: the session that holds a target (connection, lock, timeouts, cancel,
//! guard), the operations that change it with their destructive hooks, the runner that applies
//! and reverts steps under each backend's protocol, the start-up API, and the reports of what
//! ran.

pub mod guard;
pub mod operations;
pub mod releases;
pub mod report;
pub mod runner;
pub mod session;
pub mod startup;
