//! The engine's layers, read from its sources: each top-level module names only modules of the
//! layers before it (`crate::...` paths outside `#[cfg(test)]` code), so there are no import
//! cycles between them and nothing below the command line reaches into it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The layers in order; `error` sits between the model (whose errors it wraps) and the backends
/// (which report with it).
const LAYERS: &[&str] = &[
    "model",
    "error",
    "backend",
    "plan",
    "store",
    "exec",
    "schema",
    "lint",
    "authoring",
    "cli",
];

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The text of a source file without comments and without its `#[cfg(test)]` module.
fn code(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let text = match text.find("#[cfg(test)]\n#[allow(clippy::unwrap_used)]\nmod tests") {
        Some(at) => &text[..at],
        None => match text.find("#[cfg(test)]\nmod tests") {
            Some(at) => &text[..at],
            None => &text,
        },
    };
    text.lines()
        .map(|line| match line.find("//") {
            Some(at) => &line[..at],
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The top-level modules `code` names through `crate::`.
fn named(code: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                let head: String = item
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !head.is_empty() {
                    names.insert(head);
                }
            }
        } else {
            let head: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            names.insert(head);
        }
    }
    names
}

#[test]
fn every_top_level_module_names_only_the_layers_before_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut wrong = Vec::new();
    let mut seen = BTreeSet::new();
    for file in &files {
        let relative = file.strip_prefix(&src).unwrap();
        let top = relative
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_owned();
        if top == "lib" {
            continue;
        }
        let Some(rank) = LAYERS.iter().position(|l| *l == top) else {
            panic!(
                "{} is in no layer; add `{top}` to LAYERS",
                relative.display()
            );
        };
        seen.insert(top.clone());
        for name in named(&code(file)) {
            if let Some(other) = LAYERS.iter().position(|l| *l == name)
                && other > rank
            {
                wrong.push(format!(
                    "{} ({top}) names crate::{name}",
                    relative.display()
                ));
            }
        }
    }
    assert_eq!(seen.len(), LAYERS.len(), "layers without sources: {seen:?}");
    assert!(
        wrong.is_empty(),
        "imports against the layers:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_layer_check_sees_grouped_and_plain_paths() {
    let names = named("use crate::{plan::State, store::ledger};\nlet x = crate::exec::run();");
    assert_eq!(
        names.into_iter().collect::<Vec<_>>(),
        ["exec", "plan", "store"]
    );
}
