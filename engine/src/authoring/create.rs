//! `migrate create NAME`: writes a new migration module with a working, reversible skeleton and
//! registers it in `lib.rs`, in the layout sea-orm-cli's generator also edits.

use chrono::{Duration, NaiveDateTime, Utc};
use std::fs;
use std::path::{Path, PathBuf};

use crate::error::{EngineError, Result};
use crate::model::set::MigrationId;

fn scaffold_error(message: impl Into<String>) -> EngineError {
    EngineError::Scaffold {
        message: message.into(),
    }
}

/// Turns what the user typed into a snake-case name, or says why it cannot be one.
pub(crate) fn normalise_name(typed: &str) -> Result<String> {
    let name = typed.trim().replace([' ', '-'], "_").to_ascii_lowercase();
    let ok = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && !name.starts_with(|c: char| c == '_' || c.is_ascii_digit());
    if ok {
        Ok(name)
    } else {
        Err(scaffold_error(format!(
            "invalid migration name `{typed}`: use letters, digits and `_`, starting with a letter (e.g. add_email_to_users)"
        )))
    }
}

fn module_template(module: &str, table: &str) -> String {
    let ident: String = table
        .split('_')
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect();
    format!(
        r#"//! {module}: replace the example table with this migration's change; keep `down` the exact
//! inverse of `up` (`migrate verify` checks it), and run `migrate lint` on it: a rule this
//! migration breaks on purpose goes in a `pub const LINT_ALLOW: &[(&str, &str)]` of
//! `(rule, reason)` pairs, listed in the project's lint allowances.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {{
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {{
        manager
            .create_table(
                Table::create()
                    .table({ident}::Table)
                    .col(
                        ColumnDef::new({ident}::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new({ident}::Name).string().not_null())
                    .to_owned(),
            )
            .await
    }}

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {{
        manager
            .drop_table(Table::drop().table({ident}::Table).to_owned())
            .await
    }}
}}

#[derive(DeriveIden)]
enum {ident} {{
    Table,
    Id,
    Name,
}}
"#
    )
}

/// Finds the directory holding `lib.rs`: the one given, else `./migration/src`, else `./src` when
/// it holds a migrator, else the migration crate's own directory.
pub fn locate(given: Option<&Path>, fallback: Option<&Path>) -> Result<PathBuf> {
    let has_lib = |dir: &Path| dir.join("lib.rs").is_file();
    if let Some(dir) = given {
        let dir = if dir.join("src").join("lib.rs").is_file() {
            dir.join("src")
        } else {
            dir.to_path_buf()
        };
        return if has_lib(&dir) {
            Ok(dir)
        } else {
            Err(scaffold_error(format!(
                "no lib.rs in {}: point --migration-dir at the migration crate",
                dir.display()
            )))
        };
    }
    let candidates = [
        Some(PathBuf::from("migration/src")),
        Some(PathBuf::from("src")),
        fallback.map(|f| f.join("src")),
    ];
    candidates
        .into_iter()
        .flatten()
        .find(|dir| {
            has_lib(dir)
                && fs::read_to_string(dir.join("lib.rs")).is_ok_and(|s| s.contains("MigratorTrait"))
        })
        .ok_or_else(|| scaffold_error("cannot find the migration crate's lib.rs: run from the project root or pass --migration-dir"))
}

/// Writes the module and registers it; returns the new file's path. When the crate keeps a
/// `releases.toml` beside `src/`, the new migration is also listed there as `unreleased`, so the
/// release check accounts for it from the start.
///
/// # Errors
/// [`EngineError::Scaffold`] for a bad name, an unreadable `lib.rs` or one without the `vec![...]`
/// list of migrations.
pub fn create(dir: &Path, typed_name: &str, now: NaiveDateTime) -> Result<PathBuf> {
    create_listed(dir, "lib.rs", typed_name, now)
}

/// [`create`] for a migration list kept in `dir/list` (`lib.rs`, or a set's `mod.rs`).
///
/// # Errors
/// As [`create`].
pub fn create_listed(
    dir: &Path,
    list: &str,
    typed_name: &str,
    now: NaiveDateTime,
) -> Result<PathBuf> {
    let name = normalise_name(typed_name)?;
    let lib_path = dir.join(list);
    let lib = read_lib(&lib_path)?;
    let module = next_module(dir, &lib, &name, now);
    let table = name.strip_prefix("create_").unwrap_or(&name);
    let updated = register(&lib, &module)?;
    let file = dir.join(format!("{module}.rs"));
    write(&file, &module_template(&module, table))?;
    write(&lib_path, &updated)?;
    // Only in a crate directory: `src/`'s parent may be anything when `-d` points elsewhere.
    if let Some(crate_dir) = dir.parent().filter(|d| d.join("Cargo.toml").is_file()) {
        crate::authoring::releases::add_unreleased(&crate_dir.join("releases.toml"), &module)
            .map_err(scaffold_error)?;
    }
    Ok(file)
}

pub(crate) fn read_lib(lib_path: &Path) -> Result<String> {
    fs::read_to_string(lib_path)
        .map_err(|e| scaffold_error(format!("cannot read {}: {e}", lib_path.display())))
}

pub(crate) fn write(path: &Path, text: &str) -> Result<()> {
    fs::write(path, text)
        .map_err(|e| scaffold_error(format!("cannot write {}: {e}", path.display())))
}

/// The module name for a new `name`: `m<now>_<name>`, or one second after the newest module
/// `declared` names (the text of `lib.rs`, and of any other module that declares migrations) or
/// `dir` holds a file of, when this clock is behind another's, so it always sorts last.
pub(crate) fn next_module(dir: &Path, declared: &str, name: &str, now: NaiveDateTime) -> String {
    let declared = declared.lines().filter_map(|l| {
        l.trim()
            .strip_prefix("mod ")
            .or_else(|| l.trim().strip_prefix("pub mod "))
            .map(|m| m.trim_end_matches(';').to_owned())
    });
    let files = fs::read_dir(dir).into_iter().flatten().filter_map(|entry| {
        let path = entry.ok()?.path();
        let stem = path.file_stem()?.to_str()?.to_owned();
        path.extension()
            .is_some_and(|ext| ext == "rs")
            .then_some(stem)
    });
    let last = declared
        .chain(files)
        .filter_map(|m| MigrationId::parse(&m).ok())
        .filter_map(|id| NaiveDateTime::parse_from_str(&id.version, "%Y%m%d%H%M%S").ok())
        .max();
    let at = match last {
        Some(last) if now <= last => last + Duration::seconds(1),
        _ => now,
    };
    format!("m{}_{name}", at.format("%Y%m%d_%H%M%S"))
}

/// Whether `line` declares a migration module (`mod m…;`, `pub mod m…;`).
pub(crate) fn is_mod_line(line: &str) -> bool {
    let t = line.trim();
    (t.starts_with("mod m") || t.starts_with("pub mod m")) && t.ends_with(';')
}

/// Adds `mod <module>;` after the last migration module declared in `lines`.
pub(crate) fn add_mod_line(lines: &mut Vec<String>, module: &str) {
    let mod_at = lines.iter().rposition(|l| is_mod_line(l));
    let insert_mod_at = mod_at.map_or(0, |i| i + 1);
    let vis = mod_at
        .and_then(|i| lines.get(i))
        .filter(|l| l.trim().starts_with("pub "))
        .map_or("", |_| "pub ");
    lines.insert(insert_mod_at, format!("{vis}mod {module};"));
}

/// Adds `mod <module>;` after the last migration module and `Box::new(<module>::Migration),` at
/// the end of the `vec![...]`.
fn register(lib: &str, module: &str) -> Result<String> {
    let mut lines: Vec<String> = lib.lines().map(str::to_owned).collect();
    let vec_start = lines
        .iter()
        .position(|l| l.contains("vec!["))
        .ok_or_else(|| {
            scaffold_error(
                "lib.rs has no `vec![...]` listing the migrations: add the module by hand",
            )
        })?;
    let vec_end = lines
        .iter()
        .skip(vec_start)
        .position(|l| l.trim_start().starts_with(']'))
        .map(|p| p + vec_start)
        .ok_or_else(|| {
            scaffold_error(
                "lib.rs's `vec![` has no closing `]` on its own line: add the module by hand",
            )
        })?;
    let indent = lines
        .get(vec_start + 1)
        .filter(|_| vec_start + 1 < vec_end)
        .map(|l| l[..l.len() - l.trim_start().len()].to_owned())
        .unwrap_or_else(|| "            ".to_owned());
    lines.insert(vec_end, format!("{indent}Box::new({module}::Migration),"));
    add_mod_line(&mut lines, module);
    Ok(lines.join("\n") + "\n")
}

/// The current UTC time, for [`create`].
pub fn now() -> NaiveDateTime {
    Utc::now().naive_utc()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const LIB: &str = "pub use sea_orm_migration::prelude::*;\n\nmod m20240101_000001_a;\n\npub struct Migrator;\n\nimpl MigratorTrait for Migrator {\n    fn migrations() -> Vec<Box<dyn MigrationTrait>> {\n        vec![\n            Box::new(m20240101_000001_a::Migration),\n        ]\n    }\n}\n";

    #[test]
    fn registering_adds_the_module_and_the_list_entry() {
        let out = register(LIB, "m20250101_000000_b").unwrap();
        assert!(out.contains("mod m20240101_000001_a;\nmod m20250101_000000_b;"));
        assert!(out.contains(
            "Box::new(m20240101_000001_a::Migration),\n            Box::new(m20250101_000000_b::Migration),\n        ]"
        ));
    }

    #[test]
    fn names_are_normalised_or_refused() {
        assert_eq!(
            normalise_name("Add email-to users").unwrap(),
            "add_email_to_users"
        );
        assert!(normalise_name("1st").is_err());
        assert!(normalise_name("drop;table").is_err());
    }

    #[test]
    fn a_new_version_sorts_after_existing_ones_even_with_a_slow_clock() {
        let dir = tempdir();
        fs::write(dir.join("lib.rs"), LIB).unwrap();
        let past =
            NaiveDateTime::parse_from_str("2020-01-01 00:00:00", "%Y-%m-%d %H:%M:%S").unwrap();
        let file = create(&dir, "late", past).unwrap();
        let name = file.file_stem().unwrap().to_string_lossy().to_string();
        assert_eq!(name, "m20240101_000002_late");
        fs::remove_dir_all(dir).unwrap();
    }

    fn tempdir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "scaffold-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        fs::create_dir_all(&dir).unwrap();
        dir
    }
}
