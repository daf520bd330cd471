//! Editing a project's `releases.toml` as `migrate create` does, keeping its layout and comments.

/// Adds `module` to `unreleased` in the releases file at `path`, keeping the file's layout and
/// comments: what `migrate create` does so that a new migration is accounted for at once.
/// Returns whether the file existed.
///
/// # Errors
/// A message when the file cannot be read, parsed or written.
pub fn add_unreleased(path: &std::path::Path, module: &str) -> Result<bool, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    let mut doc: toml_edit::DocumentMut = text
        .parse()
        .map_err(|e| format!("cannot parse {}: {e}", path.display()))?;
    let list = doc
        .entry("unreleased")
        .or_insert_with(|| toml_edit::value(toml_edit::Array::new()));
    let Some(array) = list.as_array_mut() else {
        return Err(format!(
            "`unreleased` in {} is not a list; make it `unreleased = []`",
            path.display()
        ));
    };
    if !array.iter().any(|v| v.as_str() == Some(module)) {
        array.push(module);
        // One entry per line, as a hand-written list reads.
        for value in array.iter_mut() {
            value.decor_mut().set_prefix("\n  ");
        }
        array.set_trailing_comma(true);
        array.set_trailing("\n");
    }
    std::fs::write(path, doc.to_string())
        .map_err(|e| format!("cannot update {}: {e}", path.display()))?;
    Ok(true)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_new_migration_is_added_to_unreleased_keeping_the_rest_of_the_file() {
        let dir = std::env::temp_dir().join(format!("releases-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("releases.toml");
        std::fs::write(
            &path,
            "# ours\nunreleased = []\n\n[[release]]\nversion = \"1.0.0\"\n",
        )
        .unwrap();
        assert!(add_unreleased(&path, "m20250101_000000_x").unwrap());
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("# ours\n"), "{text}");
        assert!(
            text.contains("unreleased = [\n  \"m20250101_000000_x\",\n]"),
            "{text}"
        );
        assert!(!add_unreleased(&dir.join("absent.toml"), "m").unwrap());
        std::fs::remove_dir_all(dir).unwrap();
    }
}
