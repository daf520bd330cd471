//! Running migrations: the guard before destructive work, the runner that applies and reverts
//! steps under each backend's protocol, the start-up API, and the reports of what ran.

pub mod guard;
pub mod releases;
pub mod report;
pub mod runner;
pub mod startup;
