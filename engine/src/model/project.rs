//! What a project tells the `migrate` command line about itself beyond its list of migrations:
//! what each migration needs, which release shipped it, which consolidated migrations may stand
//! in for runs of it, and where its crate lives (for `plans/` and generated code).
//!
//! A project's `main.rs` builds one and hands it over:
//!
//! ```ignore
//! fn main() -> std::process::ExitCode {
//!     let project = migration_engine::Project::new::<Migrator>(env!("CARGO_MANIFEST_DIR"))
//!         .dependencies(Migrator::dependencies())
//!         .releases(include_str!("../releases.toml"))
//!         .squashes(Migrator::squashes());
//!     migration_engine::cli::run(project)
//! }
//! ```
//!
//! `include_str!` puts the releases in the binary, so a deployed `migrate` knows them without the
//! source tree. Everything but the migrator is optional; [`crate::cli::main`] is the one-line
//! form for a project with nothing else to declare.

use sea_orm_migration::{MigrationTrait, MigratorTrait};
use std::fmt;
use std::path::{Path, PathBuf};

use crate::model::ModelError;
use crate::model::consolidated::Squash;
use crate::model::deps::DependencyGraph;
use crate::model::releases::Releases;
use crate::model::set::MigrationSet;
use crate::model::sets::SetDatabase;

/// Declared dependencies: each migration's module name with the module names it needs.
pub type Dependencies = Vec<(&'static str, &'static [&'static str])>;

/// Lint rules each migration allows, by module name, with the reason: each migration's
/// `LINT_ALLOW` constant, beside its `DEPENDS_ON`.
pub type LintAllowances = Vec<(&'static str, &'static [(&'static str, &'static str)])>;

/// A project as declared, checked by [`Project::load`].
pub struct Project {
    migrations: Vec<Box<dyn MigrationTrait>>,
    dependencies: Dependencies,
    lint_allow: LintAllowances,
    releases: Option<String>,
    squashes: Vec<Squash>,
    crate_dir: PathBuf,
    name: Option<String>,
    needs: Vec<(String, Option<String>)>,
    database: SetDatabase,
    source_dir: Option<PathBuf>,
}

impl fmt::Debug for Project {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Project")
            .field("migrations", &self.migrations.len())
            .field("dependencies", &self.dependencies.len())
            .field("lint_allow", &self.lint_allow)
            .field("releases", &self.releases.is_some())
            .field("squashes", &self.squashes)
            .field("crate_dir", &self.crate_dir)
            .field("name", &self.name)
            .field("needs", &self.needs)
            .field("database", &self.database)
            .finish()
    }
}

/// A project whose declarations were checked against its migrations.
#[derive(Debug)]
pub struct LoadedProject {
    /// The migrations and their consolidated stand-ins.
    pub set: MigrationSet,
    /// What each migration needs.
    pub graph: DependencyGraph,
    /// The releases, when the project declares them.
    pub releases: Option<Releases>,
    /// The lint rules each migration allows, with the reason, by module name.
    pub lint_allow: Vec<(String, Vec<(String, String)>)>,
    /// The migration crate's directory.
    pub crate_dir: PathBuf,
    /// Where `migrate create` writes this set's modules (the directory of its list), when the
    /// project says; otherwise the crate's `src/` with `lib.rs`.
    pub source_dir: Option<PathBuf>,
}

impl Project {
    /// The project of migrator `M`, whose crate is at `crate_dir` (`env!("CARGO_MANIFEST_DIR")`).
    pub fn new<M: MigratorTrait>(crate_dir: impl Into<PathBuf>) -> Self {
        Self {
            migrations: M::migrations(),
            dependencies: Vec::new(),
            lint_allow: Vec::new(),
            releases: None,
            squashes: Vec::new(),
            crate_dir: crate_dir.into(),
            name: None,
            needs: Vec::new(),
            database: SetDatabase::Default,
            source_dir: None,
        }
    }

    /// Names this list of migrations as one set of a project of several
    /// ([`crate::model::sets`]): `migrate --set NAME` picks it, its ledger is
    /// `NAME_schema_migrations`, and `NAME_DATABASE_URL` (in capitals) may say where it runs.
    pub fn named(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// This set needs every migration of set `set` applied before any of its own, and keeps
    /// them from being reverted while any of its own is applied.
    pub fn needs(mut self, set: impl Into<String>) -> Self {
        self.needs.push((set.into(), None));
        self
    }

    /// This set needs the migration `migration` (its module name or version) of set `set`
    /// applied before any of its own, and keeps it from being reverted while any of its own is
    /// applied.
    pub fn needs_migration(mut self, set: impl Into<String>, migration: impl Into<String>) -> Self {
        self.needs.push((set.into(), Some(migration.into())));
        self
    }

    /// Where this set runs, when not on the project's database.
    pub fn database(mut self, database: SetDatabase) -> Self {
        self.database = database;
        self
    }

    /// The directory, relative to the crate, that holds this set's modules and the `mod.rs`
    /// listing them, where `migrate create --set NAME` writes.
    pub fn source_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.source_dir = Some(dir.into());
        self
    }

    /// The set's name, when it is one of several.
    pub fn set_name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// What the set needs from other sets, as declared: set names with a migration or `None`.
    pub fn set_needs(&self) -> &[(String, Option<String>)] {
        &self.needs
    }

    /// Where the set runs.
    pub fn set_database(&self) -> SetDatabase {
        self.database
    }

    /// The set's source directory, relative to the crate, when declared.
    pub fn set_source_dir(&self) -> Option<&Path> {
        self.source_dir.as_deref()
    }

    /// What each migration needs, by module name. A migration left out needs every earlier one.
    pub fn dependencies(mut self, dependencies: Dependencies) -> Self {
        self.dependencies = dependencies;
        self
    }

    /// The lint rules each migration allows (its `LINT_ALLOW`), by module name; `migrate lint`
    /// reports their findings as allowed, with the reason, and does not count them.
    pub fn lint_allow(mut self, allowances: LintAllowances) -> Self {
        self.lint_allow = allowances;
        self
    }

    /// The contents of the project's `releases.toml` (see [`crate::model::releases`]).
    pub fn releases(mut self, toml: impl Into<String>) -> Self {
        self.releases = Some(toml.into());
        self
    }

    /// Consolidated migrations that may stand in for runs of the list (see [`crate::model::consolidated`]).
    pub fn squashes(mut self, squashes: Vec<Squash>) -> Self {
        self.squashes = squashes;
        self
    }

    /// The migration crate's directory.
    pub fn crate_dir(&self) -> &Path {
        &self.crate_dir
    }

    /// Checks every declaration against the migration list, before any database is contacted.
    ///
    /// # Errors
    /// What [`MigrationSet::new`], [`MigrationSet::with_squashes`], [`DependencyGraph::new`] and
    /// [`Releases::parse`] refuse.
    pub fn load(self) -> Result<LoadedProject, ModelError> {
        let set = MigrationSet::new(self.migrations)?.with_squashes(self.squashes)?;
        let graph = DependencyGraph::new(&set, &self.dependencies)?;
        let releases = self
            .releases
            .map(|text| Releases::parse(&text, &set))
            .transpose()?;
        let lint_allow = self
            .lint_allow
            .iter()
            .map(|(migration, rules)| {
                let rules = rules
                    .iter()
                    .map(|(rule, reason)| ((*rule).to_owned(), (*reason).to_owned()))
                    .collect();
                ((*migration).to_owned(), rules)
            })
            .collect();
        Ok(LoadedProject {
            set,
            graph,
            releases,
            lint_allow,
            source_dir: self.source_dir.map(|dir| self.crate_dir.join(dir)),
            crate_dir: self.crate_dir,
        })
    }
}
