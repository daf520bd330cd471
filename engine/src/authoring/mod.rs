//! Writing migrations and what goes with them: `create`, the consolidated-migration generator,
//! saved plans and the selection syntax that picks their migrations.

pub mod create;
pub mod plans;
pub mod releases;
pub mod selection;
pub mod squash;
