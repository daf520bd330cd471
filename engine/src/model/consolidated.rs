//! Consolidated migrations: one migration that does what a run of consecutive migrations does,
//! so a fresh database is built in one step instead of replaying years of history.
//!
//! A consolidated migration is a `MigrationTrait` like any other, declared with the migrations
//! it replaces ([`Squash`]); it is not in the ordered list itself. When an `up` (or a plan run)
//! would apply every migration it replaces and none of them is applied yet, the runner runs the
//! consolidated migration instead and records each replaced migration as applied through it
//! (state `squashed`). Otherwise the replaced migrations run one by one as usual, and the report
//! says which path was taken and why. Reverting any of them reverts the whole run through the
//! consolidated migration's `down`. `migrate verify` checks that both paths end in the same
//! schema.
//!
//! [`crate::authoring::squash`] writes a consolidated migration from the SQL the individual
//! migrations render for each backend (`migrate squash --to-release X NAME`).

use sea_orm_migration::MigrationTrait;
use std::collections::HashMap;
use std::fmt;

use crate::model::set::{Migration, MigrationId, SetError};

/// Why a consolidated migration was refused or could not be generated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SquashError {
    /// A declaration does not fit the migration list.
    #[error("consolidated migration `{squash}` {problem}")]
    Declaration {
        /// Its name.
        squash: String,
        /// What is wrong, with the fix.
        problem: String,
    },
    /// Its module name does not follow `mYYYYMMDD_HHMMSS_snake_name`.
    #[error(transparent)]
    Name(#[from] SetError),
    /// `migrate squash` cannot generate the module.
    #[error("cannot squash: {reason}")]
    Generate {
        /// What is wrong, with the fix.
        reason: String,
    },
}

/// A consolidated migration as a project declares it: the migration and the module names of the
/// consecutive migrations it replaces.
pub struct Squash {
    code: Box<dyn MigrationTrait>,
    replaces: Vec<String>,
}

impl Squash {
    /// `migration` replaces the migrations named in `replaces` (module names, in order).
    pub fn new<M: MigrationTrait + 'static>(migration: M, replaces: &[&str]) -> Self {
        Self {
            code: Box::new(migration),
            replaces: replaces.iter().map(|s| (*s).to_owned()).collect(),
        }
    }
}

impl fmt::Debug for Squash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Squash")
            .field("name", &self.code.name())
            .field("replaces", &self.replaces)
            .finish()
    }
}

/// A checked consolidated migration: what it is, and which run of the list it replaces.
pub struct SquashGroup {
    /// Parsed from its module name.
    pub id: MigrationId,
    /// Its code.
    pub code: Box<dyn MigrationTrait>,
    /// Index in the list of the first migration it replaces.
    pub first: usize,
    /// Index in the list of the last migration it replaces.
    pub last: usize,
}

impl SquashGroup {
    /// Its module name, as the ledger records it on the rows it applied.
    pub fn name(&self) -> String {
        self.id.module_name()
    }

    /// Whether it replaces the migration at `index` of the list.
    pub fn covers(&self, index: usize) -> bool {
        (self.first..=self.last).contains(&index)
    }
}

impl fmt::Debug for SquashGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SquashGroup")
            .field("id", &self.id)
            .field("first", &self.first)
            .field("last", &self.last)
            .finish()
    }
}

fn declaration(squash: &str, problem: impl Into<String>) -> SquashError {
    SquashError::Declaration {
        squash: squash.to_owned(),
        problem: problem.into(),
    }
}

/// Checks declarations against the list: each replaces two or more consecutive migrations of
/// it, by module name and in order; none overlaps another; and none shares a name with a
/// migration.
///
/// # Errors
/// [`SquashError::Declaration`] (or [`SquashError::Name`]) naming the declaration.
pub(crate) fn resolve(
    migrations: &[Migration],
    squashes: Vec<Squash>,
) -> Result<Vec<SquashGroup>, SquashError> {
    let position: HashMap<String, usize> = migrations
        .iter()
        .enumerate()
        .map(|(i, m)| (m.id.module_name(), i))
        .collect();
    let mut groups: Vec<SquashGroup> = Vec::with_capacity(squashes.len());
    for squash in squashes {
        let name = squash.code.name().to_owned();
        let id = MigrationId::parse(&name)?;
        if position.contains_key(&name) {
            return Err(declaration(
                &name,
                "is also in the migration list; list it only in `Migrator::squashes()`",
            ));
        }
        if squash.replaces.len() < 2 {
            return Err(declaration(&name, "must replace at least two migrations"));
        }
        let mut indices = Vec::with_capacity(squash.replaces.len());
        for replaced in &squash.replaces {
            let at = position.get(replaced).ok_or_else(|| {
                declaration(
                    &name,
                    format!("replaces {replaced}, which is not in the migration list"),
                )
            })?;
            indices.push(*at);
        }
        let (first, last) = (indices[0], indices[indices.len() - 1]);
        if indices.iter().enumerate().any(|(k, &i)| i != first + k) {
            return Err(declaration(
                &name,
                "must replace consecutive migrations, listed in order",
            ));
        }
        if let Some(other) = groups.iter().find(|g| g.first <= last && first <= g.last) {
            return Err(declaration(
                &name,
                format!(
                    "overlaps {}, which replaces some of the same migrations; keep one of them",
                    other.name()
                ),
            ));
        }
        groups.push(SquashGroup {
            id,
            code: squash.code,
            first,
            last,
        });
    }
    groups.sort_by_key(|g| g.first);
    Ok(groups)
}
