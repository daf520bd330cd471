//! placeholder
pub mod backend;
pub mod checksum;
pub mod error;
pub mod history;
pub mod ledger;
pub mod plan;
pub mod render;
pub mod source;
pub mod target;
