//! What the command-line test files share beyond [`tests::process`]: this crate's own test
//! binaries (their paths exist only for integration tests) and reading `status --format json`.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::Value;
use std::path::Path;

/// This crate's `migrate_squash` test binary.
pub fn squash_bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_migrate_squash"))
}

/// This crate's `migrate_releases` test binary: the reference migrations with the releases file
/// of its working directory.
pub fn releases_bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_migrate_releases"))
}

/// `(version, state)` of every migration in `status --format json`.
pub fn states(status: &Value) -> Vec<(String, String)> {
    status["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["version"].as_str().unwrap().to_owned(),
                m["state"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// The state of each migration, in order, from `status --format json`.
pub fn state_words(status: &Value) -> Vec<String> {
    states(status).into_iter().map(|(_, s)| s).collect()
}
