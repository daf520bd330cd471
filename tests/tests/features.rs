//! What a service embedding the engine compiles: `examples/embedded` depends on it with
//! `default-features = false, features = ["postgres"]`, and its dependency tree, as cargo
//! resolves it for that crate alone, holds no command-line crate and no other driver.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::process::Command;

/// `cargo tree` for `package`'s normal dependencies: one crate name per line.
fn tree(args: &[&str]) -> String {
    let workspace = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let output = Command::new(env!("CARGO"))
        .current_dir(workspace)
        .args(["tree", "--offline", "--edges", "normal", "--prefix", "none"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

fn crates(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter_map(|line| line.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

#[test]
fn a_postgres_only_service_compiles_no_command_line_and_no_other_driver() {
    let names = crates(&tree(&["-p", "embedded"]));
    assert!(names.contains("migration-engine"), "{names:?}");
    assert!(names.contains("sqlx-postgres"), "{names:?}");
    for absent in [
        "clap",
        "inquire",
        "comfy-table",
        "sqlx-mysql",
        "sqlx-sqlite",
    ] {
        assert!(
            !names.contains(absent),
            "{absent} is compiled in: {names:?}"
        );
    }
}

#[test]
fn what_remains_of_the_cli_crates_comes_from_upstream_not_from_the_engine() {
    // sqlx-postgres depends on dotenvy, and sea-orm-migration on tracing-subscriber, without
    // a feature to turn them off; the engine itself asks for neither.
    for (dependency, only_parent) in [
        ("dotenvy", "sqlx-postgres"),
        ("tracing-subscriber", "sea-orm-migration"),
    ] {
        let parents = crates(&tree(&["-p", "embedded", "-i", dependency, "--depth", "1"]));
        let expected: BTreeSet<String> = [dependency, only_parent]
            .into_iter()
            .map(str::to_owned)
            .collect();
        assert_eq!(parents, expected, "what pulls in {dependency}");
    }
}

#[test]
fn the_default_build_has_the_command_line_and_every_driver() {
    let names = crates(&tree(&["-p", "migration"]));
    for present in [
        "clap",
        "inquire",
        "comfy-table",
        "sqlx-mysql",
        "sqlx-sqlite",
        "sqlx-postgres",
    ] {
        assert!(names.contains(present), "{present} is missing: {names:?}");
    }
}
