//! The migration model: what a project declares, before any database is involved. The ordered
//! set of migrations, the consolidated migrations that may stand in for runs of it, what each
//! migration needs, and which release shipped it.

pub mod consolidated;
pub mod deps;
pub mod project;
pub mod releases;
pub mod set;
