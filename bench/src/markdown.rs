//! BENCHMARKS.md: one section per suite, between markers, so each suite rewrites only its own.

use std::path::Path;

const HEADER: &str = "\
# Benchmarks

Measured by `bench/run.sh [suite...]` on release builds. Each figure is compared with a floor
measured in the same run on the same machine, so the ratio says more than the absolute rate.
Sections are rewritten by the suite that owns them.
";

/// Replaces (or appends) the section of `suite` in the file at `path` with `body`.
pub(crate) fn write_section(path: &Path, suite: &str, body: &str) -> Result<(), String> {
    let begin = format!("<!-- bench:{suite} -->");
    let end = format!("<!-- /bench:{suite} -->");
    let current = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => HEADER.to_owned(),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    let section = format!("{begin}\n{}\n{end}", body.trim_end());
    let updated = match (current.find(&begin), current.find(&end)) {
        (Some(start), Some(stop)) if stop > start => format!(
            "{}{section}{}",
            &current[..start],
            &current[stop + end.len()..]
        ),
        _ => format!("{}\n{section}\n", current.trim_end()),
    };
    std::fs::write(path, updated).map_err(|e| format!("cannot write {}: {e}", path.display()))
}
