//! Writing a consolidated migration (`migrate squash --to-release X NAME`): one module that
//! does, per backend, what the migrations of a run of releases render, declared with the
//! migrations it replaces (see [`crate::model::consolidated`]).

use chrono::NaiveDateTime;
use sea_orm::DbBackend;
use std::path::{Path, PathBuf};

use crate::authoring::create;
use crate::error::{EngineError, Result};
use crate::model::consolidated::SquashError;
use crate::model::releases::Releases;
use crate::model::set::{Migration, MigrationId, MigrationSet};
use crate::store::render::{self, Direction};

/// What [`generate`] wrote.
#[derive(Debug, Clone)]
pub struct Generated {
    /// The new module's file.
    pub file: PathBuf,
    /// Its module name.
    pub module: String,
    /// The module names of the migrations it replaces.
    pub replaces: Vec<String>,
    /// The file that declares it and lists it in `squashes()`.
    pub registry: PathBuf,
}

const BACKENDS: [(DbBackend, &str); 3] = [
    (DbBackend::Postgres, "POSTGRES"),
    (DbBackend::MySql, "MYSQL"),
    (DbBackend::Sqlite, "SQLITE"),
];

fn generate_error(reason: impl Into<String>) -> EngineError {
    SquashError::Generate {
        reason: reason.into(),
    }
    .into()
}

/// The statements `migrations` render for `backend` in `direction`, in the order they would
/// run (a consolidated `down` reverts the newest first). Transaction markers are left out: the
/// consolidated migration runs in the runner's transaction, like any other.
async fn rendered(
    migrations: &[&Migration],
    backend: DbBackend,
    direction: Direction,
) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let ordered: Vec<&&Migration> = match direction {
        Direction::Up => migrations.iter().collect(),
        Direction::Down => migrations.iter().rev().collect(),
    };
    for m in ordered {
        let rendering = render::render(m, backend, direction).await;
        if let Some(stop) = &rendering.stop {
            return Err(generate_error(match (direction, stop) {
                (Direction::Down, render::Stop::Failed(e) | render::Stop::Panicked(e)) => format!(
                    "{} has no down ({e}), so a consolidated migration could not be reverted; squash only reversible migrations",
                    m.id.module_name()
                ),
                _ => format!(
                    "the {} of {} reads data, so it cannot be written out as SQL (rendering {}); squash only releases whose migrations do not read data",
                    direction.as_str(),
                    m.id.module_name(),
                    stop.describe()
                ),
            }));
        }
        let statements = rendering.statements;
        out.extend(
            statements
                .into_iter()
                .filter(|s| !matches!(s.as_str(), "BEGIN" | "COMMIT" | "ROLLBACK")),
        );
    }
    Ok(out)
}

/// A Rust raw string literal holding `text` exactly.
fn raw_literal(text: &str) -> String {
    let mut hashes = 1;
    while text.contains(&format!("\"{}", "#".repeat(hashes))) {
        hashes += 1;
    }
    let h = "#".repeat(hashes);
    format!("r{h}\"{text}\"{h}")
}

fn statement_list(name: &str, statements: &[String]) -> String {
    let mut out = format!("const {name}: &[&str] = &[\n");
    for s in statements {
        out.push_str(&format!("    {},\n", raw_literal(s)));
    }
    out.push_str("];\n");
    out
}

/// The constants and selector function of one direction.
fn direction_code(direction: &str, per_backend: &[Vec<String>; 3]) -> String {
    let upper = direction.to_ascii_uppercase();
    let same = per_backend[0] == per_backend[1] && per_backend[1] == per_backend[2];
    if same {
        return format!(
            "{}\nfn {direction}_sql(_backend: DbBackend) -> &'static [&'static str] {{\n    {upper}\n}}\n",
            statement_list(&upper, &per_backend[0])
        );
    }
    let mut out = String::new();
    for ((_, prefix), statements) in BACKENDS.iter().zip(per_backend) {
        out.push_str(&statement_list(&format!("{prefix}_{upper}"), statements));
        out.push('\n');
    }
    out.push_str(&format!(
        "fn {direction}_sql(backend: DbBackend) -> &'static [&'static str] {{\n    match backend {{\n        DbBackend::Postgres => POSTGRES_{upper},\n        DbBackend::MySql => MYSQL_{upper},\n        _ => SQLITE_{upper},\n    }}\n}}\n"
    ));
    out
}

fn module_code(
    release: &str,
    replaces: &[String],
    no_transaction: bool,
    up: &[Vec<String>; 3],
    down: &[Vec<String>; 3],
) -> String {
    let list: String = replaces.iter().map(|r| format!("    \"{r}\",\n")).collect();
    let transaction = if no_transaction {
        "\n    // One of the replaced migrations runs outside a transaction (e.g. CREATE INDEX\n    // CONCURRENTLY), so this one does too.\n    fn use_transaction(&self) -> Option<bool> {\n        Some(false)\n    }\n"
    } else {
        ""
    };
    format!(
        r#"//! The schema of every release up to {release} in one step, for databases where none of the
//! migrations in [`REPLACES`] is applied yet; databases that applied some of them run the rest
//! one by one instead. `migrate squash --to-release {release}` wrote it from the SQL those
//! migrations render on each backend, and `migrate verify` checks that both paths end in the
//! same schema. Regenerate it rather than editing it.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{{ConnectionTrait, DbBackend}};

/// The migrations this one replaces, oldest first.
pub const REPLACES: &[&str] = &[
{list}];

#[derive(DeriveMigrationName)]
pub struct Migration;

/// This migration with what it replaces, for `Migrator::squashes()`.
pub fn squash() -> migration_engine::Squash {{
    migration_engine::Squash::new(Migration, REPLACES)
}}

#[async_trait::async_trait]
impl MigrationTrait for Migration {{
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {{
        run(manager, up_sql(manager.get_database_backend())).await
    }}

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {{
        run(manager, down_sql(manager.get_database_backend())).await
    }}
{transaction}}}

async fn run(manager: &SchemaManager<'_>, statements: &[&str]) -> Result<(), DbErr> {{
    let connection = manager.get_connection();
    for sql in statements {{
        connection.execute_unprepared(sql).await?;
    }}
    Ok(())
}}

{up}
{down}"#,
        up = direction_code("up", up),
        down = direction_code("down", down),
    )
}

/// The file that registers consolidated migrations: the module in `dir` that defines
/// `fn squashes()`. That is `lib.rs` in a crate laid out before sea-orm-cli's generator was
/// accounted for; otherwise the first other module beside it (not a migration) that does, such
/// as the reference crate's `project.rs`.
fn registry(dir: &Path) -> Result<PathBuf> {
    let defines = |path: &Path| {
        std::fs::read_to_string(path).is_ok_and(|text| text.contains("fn squashes()"))
    };
    let lib = dir.join("lib.rs");
    if defines(&lib) {
        return Ok(lib);
    }
    let mut others: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| generate_error(format!("cannot read {}: {e}", dir.display())))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| {
            path.extension().is_some_and(|ext| ext == "rs")
                && path
                    .file_stem()
                    .and_then(|stem| stem.to_str())
                    .is_some_and(|stem| MigrationId::parse(stem).is_err())
        })
        .collect();
    others.sort();
    others
        .into_iter()
        .find(|path| defines(path))
        .ok_or_else(|| {
            generate_error(format!(
                "no module in {} defines `fn squashes()`: add \
             `pub fn squashes() -> Vec<migration_engine::Squash> {{ vec![] }}` to an \
             `impl Migrator` in a module beside lib.rs (e.g. project.rs, where sea-orm-cli's \
             generator leaves it alone) and pass `Migrator::squashes()` to `Project::squashes` \
             in main.rs",
                dir.display()
            ))
        })
}

/// Adds `module::squash(),` to the `vec!` of `fn squashes()` in `text`, and declares the module:
/// with a plain `mod` line in `lib.rs`, or with `#[path]` in another module (`in_lib` false),
/// since the file sits beside the migrations in `src/`.
fn register(text: &str, module: &str, in_lib: bool) -> Result<String> {
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let missing =
        || generate_error("`fn squashes()` does not return a `vec![...]`: make it `vec![]`");
    let func = lines
        .iter()
        .position(|l| l.contains("fn squashes()"))
        .ok_or_else(missing)?;
    let open = lines
        .iter()
        .skip(func)
        .position(|l| l.contains("vec!["))
        .map(|p| p + func)
        .ok_or_else(missing)?;
    let indent = {
        let l = &lines[open];
        l[..l.len() - l.trim_start().len()].to_owned()
    };
    let entry = format!("{indent}    {module}::squash(),");
    if lines[open].contains("vec![]") {
        let replaced = lines[open].replacen("vec![]", "vec![", 1);
        lines[open] = replaced;
        lines.insert(open + 1, entry);
        lines.insert(open + 2, format!("{indent}]"));
    } else {
        let close = lines
            .iter()
            .skip(open)
            .position(|l| l.trim_start().starts_with(']'))
            .map(|p| p + open)
            .ok_or_else(missing)?;
        lines.insert(close, entry);
    }
    if in_lib {
        create::add_mod_line(&mut lines, module);
    } else {
        add_path_mod_line(&mut lines, module);
    }
    Ok(lines.join("\n") + "\n")
}

/// Declares `module` with `#[path = "<module>.rs"]` (relative to `src/`, where the file is)
/// after the last migration module declared in `lines`, else after the last top-level `use`
/// statement, else after the module docs.
fn add_path_mod_line(lines: &mut Vec<String>, module: &str) {
    let declaration = [
        format!("#[path = \"{module}.rs\"]"),
        format!("mod {module};"),
    ];
    if let Some(last) = lines.iter().rposition(|l| create::is_mod_line(l)) {
        lines.splice(last + 1..last + 1, declaration);
        return;
    }
    let after_use = lines
        .iter()
        .rposition(|l| l.starts_with("use ") || l.starts_with("pub use "))
        .map(|start| {
            // A `use` may span lines; it ends at its `;`.
            lines
                .iter()
                .skip(start)
                .position(|l| l.trim_end().ends_with(';'))
                .map_or(start, |p| start + p)
                + 1
        });
    let at = after_use.unwrap_or_else(|| {
        lines
            .iter()
            .take_while(|l| l.starts_with("//!") || l.starts_with("#!["))
            .count()
    });
    let mut block = vec![String::new()];
    block.extend(declaration);
    lines.splice(at..at, block);
}

/// Adds a paragraph to a replaced migration's module docs saying what replaces it.
fn mark_replaced(source: &str, module: &str) -> String {
    let note = format!(
        "//!\n//! Fresh databases get this migration through the consolidated migration\n//! `{module}`, which replaces it and the migrations before it;\n//! keep this module for databases that applied it on its own.\n"
    );
    if source.contains(&format!("`{module}`")) {
        return source.to_owned();
    }
    let docs_end = source
        .lines()
        .take_while(|l| l.starts_with("//!"))
        .map(|l| l.len() + 1)
        .sum::<usize>();
    if docs_end == 0 {
        return format!("{}\n{source}", note.trim_start_matches("//!\n"));
    }
    let (docs, rest) = source.split_at(docs_end.min(source.len()));
    format!("{docs}{note}{rest}")
}

/// Writes a consolidated migration replacing every migration of the releases up to `release`,
/// registers it in the module of `dir` that defines `fn squashes()` (`project.rs` in the
/// reference crate, see [`Generated::registry`]), and notes in each replaced module what
/// replaces it.
///
/// # Errors
/// [`SquashError::Generate`] when the releases up to `release` hold fewer than two migrations,
/// overlap an existing consolidated migration, or hold one without a `down`, or when no module
/// defines `fn squashes()`; an unknown release; [`EngineError::Scaffold`] for a bad name or an
/// unwritable file.
pub async fn generate(
    set: &MigrationSet,
    releases: &Releases,
    release: &str,
    name: &str,
    dir: &Path,
    now: NaiveDateTime,
) -> Result<Generated> {
    let name = create::normalise_name(name)?;
    let release = releases.get(release)?;
    let last = releases
        .last_migration_through(release)
        .and_then(|v| set.iter().position(|m| m.id.version == v))
        .ok_or_else(|| {
            generate_error(format!(
                "releases up to {} have no migrations",
                release.version
            ))
        })?;
    let migrations: Vec<&Migration> = set.iter().take(last + 1).collect();
    if migrations.len() < 2 {
        return Err(generate_error(format!(
            "releases up to {} hold one migration: there is nothing to consolidate",
            release.version
        )));
    }
    if let Some(existing) = set.squashes().iter().find(|g| g.first <= last) {
        return Err(generate_error(format!(
            "{} already replaces some of these migrations; remove it (its module and its line in `squashes()`) to squash up to {}",
            existing.name(),
            release.version
        )));
    }
    let mut up: [Vec<String>; 3] = Default::default();
    let mut down: [Vec<String>; 3] = Default::default();
    for (i, (backend, _)) in BACKENDS.iter().enumerate() {
        up[i] = rendered(&migrations, *backend, Direction::Up).await?;
        down[i] = rendered(&migrations, *backend, Direction::Down).await?;
    }
    let no_transaction = migrations
        .iter()
        .any(|m| m.code.use_transaction() == Some(false));
    let replaces: Vec<String> = migrations.iter().map(|m| m.id.module_name()).collect();

    let lib_path = dir.join("lib.rs");
    let lib = create::read_lib(&lib_path)?;
    let registry = registry(dir)?;
    let registry_text = create::read_lib(&registry)?;
    let module = create::next_module(dir, &format!("{lib}\n{registry_text}"), &name, now);
    let registered = register(&registry_text, &module, registry == lib_path)?;
    let code = module_code(
        &release.version.to_string(),
        &replaces,
        no_transaction,
        &up,
        &down,
    );
    let file = dir.join(format!("{module}.rs"));
    create::write(&file, &code)?;
    create::write(&registry, &registered)?;
    for replaced in &replaces {
        let path = dir.join(format!("{replaced}.rs"));
        // A migration may live elsewhere (a `#[path]`, a submodule); then it is not marked.
        if let Ok(source) = std::fs::read_to_string(&path) {
            create::write(&path, &mark_replaced(&source, &module))?;
        }
    }
    Ok(Generated {
        file,
        module,
        replaces,
        registry,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn raw_literals_hold_any_sql_exactly() {
        assert_eq!(raw_literal("SELECT 1"), "r#\"SELECT 1\"#");
        assert_eq!(raw_literal("SELECT '\"#'"), "r##\"SELECT '\"#'\"##");
    }

    #[test]
    fn registering_fills_an_empty_squash_list_and_appends_to_a_full_one() {
        let lib = "mod m20240101_000001_a;\n\nimpl Migrator {\n    pub fn squashes() -> Vec<migration_engine::Squash> {\n        vec![]\n    }\n}\n";
        let once = register(lib, "m20250101_000000_base", true).unwrap();
        assert!(
            once.contains("mod m20240101_000001_a;\nmod m20250101_000000_base;\n"),
            "{once}"
        );
        assert!(
            once.contains(
                "        vec![\n            m20250101_000000_base::squash(),\n        ]\n"
            ),
            "{once}"
        );
        let twice = register(&once, "m20250101_000001_more", true).unwrap();
        assert!(
            twice.contains(
                "base::squash(),\n            m20250101_000001_more::squash(),\n        ]"
            ),
            "{twice}"
        );
        assert!(register("fn main() {}\n", "m20250101_000000_base", true).is_err());
    }

    #[test]
    fn outside_lib_rs_a_consolidated_migration_is_declared_with_its_path() {
        let project = "//! Docs.\n\nuse super::*;\n\nimpl Migrator {\n    pub fn squashes() -> Vec<migration_engine::Squash> {\n        vec![]\n    }\n}\n";
        let once = register(project, "m20250101_000000_base", false).unwrap();
        assert!(
            once.starts_with(
                "//! Docs.\n\nuse super::*;\n\n#[path = \"m20250101_000000_base.rs\"]\nmod m20250101_000000_base;\n\nimpl Migrator {"
            ),
            "{once}"
        );
        assert!(
            once.contains(
                "        vec![\n            m20250101_000000_base::squash(),\n        ]\n"
            ),
            "{once}"
        );
        let twice = register(&once, "m20250101_000001_more", false).unwrap();
        assert!(
            twice.contains(
                "mod m20250101_000000_base;\n#[path = \"m20250101_000001_more.rs\"]\nmod m20250101_000001_more;\n\nimpl"
            ),
            "{twice}"
        );
        let docs_only = register(
            "//! Docs.\nfn squashes() { vec![] }\n",
            "m20250101_000000_base",
            false,
        )
        .unwrap();
        assert!(
            docs_only.starts_with("//! Docs.\n\n#[path = \"m20250101_000000_base.rs\"]\n"),
            "{docs_only}"
        );
    }

    #[test]
    fn the_registry_is_lib_rs_or_the_module_beside_it_that_defines_squashes() {
        let dir = std::env::temp_dir().join(format!("squash-registry-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("lib.rs"), "mod project;\n").unwrap();
        std::fs::write(dir.join("m20240101_000001_a.rs"), "// fn squashes()\n").unwrap();
        assert!(registry(&dir).is_err());
        std::fs::write(dir.join("project.rs"), "fn squashes() {}\n").unwrap();
        assert_eq!(registry(&dir).unwrap(), dir.join("project.rs"));
        std::fs::write(dir.join("lib.rs"), "fn squashes() {}\n").unwrap();
        assert_eq!(registry(&dir).unwrap(), dir.join("lib.rs"));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_replaced_module_gets_a_note_once() {
        let source = "//! Creates a.\n\nuse x;\n";
        let marked = mark_replaced(source, "m20250101_000000_base");
        assert!(
            marked.starts_with("//! Creates a.\n//!\n//! Fresh databases get this migration"),
            "{marked}"
        );
        assert!(marked.ends_with("\n\nuse x;\n"), "{marked}");
        assert_eq!(mark_replaced(&marked, "m20250101_000000_base"), marked);
    }
}
