//! The benchmark suites, one module each.

pub(crate) mod backups;
pub(crate) mod fleet;
pub(crate) mod locks;
pub(crate) mod migrations;
pub(crate) mod seeds;
pub(crate) mod workflow;
