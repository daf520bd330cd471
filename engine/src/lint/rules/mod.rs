//! The rules: one module per backend and one for every backend, each rule a [`Rule`] with its
//! id, level and documentation, and a check over one classified statement in its context.

pub(crate) mod common;
pub(crate) mod mysql;
pub(crate) mod postgres;
pub(crate) mod sqlite;

use sea_orm::DbBackend;

use super::catalog::Catalog;
use super::sql::Statement;
use super::{Level, ServerVersion};

/// A lint rule, as documented in the README and `migrate lint --rules`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// Its stable id (`pg.index-not-concurrent`), as `LINT_ALLOW` names it.
    pub id: &'static str,
    /// Whether a finding fails `migrate lint` (exit 4) or only warns.
    pub level: Level,
    /// The backends it applies to; empty for every backend.
    pub backends: &'static [DbBackend],
    /// One line: what it flags.
    pub summary: &'static str,
    /// One paragraph: what the statement locks or rewrites, on which versions, and the safe
    /// alternative as SeaQuery/SchemaManager code.
    pub doc: &'static str,
}

impl Rule {
    /// Whether the rule applies on `backend`.
    pub fn applies_to(&self, backend: DbBackend) -> bool {
        self.backends.is_empty() || self.backends.contains(&backend)
    }
}

/// Every rule, in the order the README lists them.
pub fn all() -> Vec<&'static Rule> {
    postgres::RULES
        .iter()
        .chain(mysql::RULES)
        .chain(sqlite::RULES)
        .chain(common::RULES)
        .collect()
}

/// The rule with this id.
pub fn find(id: &str) -> Option<&'static Rule> {
    all().into_iter().find(|r| r.id == id)
}

/// What a check found: the rule and a sentence about this statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Hit {
    pub rule: &'static Rule,
    pub message: String,
}

/// What the checks of one migration see besides the statement: where it stands in the set,
/// its transaction state, and what earlier statements of it set.
#[derive(Debug, Clone)]
pub(crate) struct Ctx<'a> {
    /// The backend linted for.
    pub backend: DbBackend,
    /// The MySQL/MariaDB server the rules judge by.
    pub server: ServerVersion,
    /// The migration's index in the set.
    pub index: usize,
    /// Whether the statement runs inside a transaction.
    pub in_transaction: bool,
    /// Whether a lock timeout is in force (set by the migration, or by `--lock-timeout-ddl`).
    pub lock_timeout: bool,
    /// Whether MySQL's `foreign_key_checks` was turned off.
    pub foreign_key_checks_off: bool,
    /// Whether SQLite's `foreign_keys` was turned off outside a transaction.
    pub sqlite_foreign_keys_off: bool,
    /// Whether a lock-timeout finding was already made for this migration.
    pub lock_timeout_reported: bool,
    /// The statements of the migration, classified, for rules that look around.
    pub statements: &'a [Statement],
    /// The table rebuilds among them (SQLite).
    pub rebuilds: &'a [sqlite::Rebuild],
    /// The position of the statement being checked.
    pub at: usize,
}

impl Ctx<'_> {
    /// Whether the statement being checked is part of a table rebuild.
    pub fn in_rebuild(&self) -> bool {
        self.rebuilds.iter().any(|r| r.parts.contains(&self.at))
    }
}

/// Runs every rule that applies on `ctx.backend` over one statement.
pub(crate) fn check(ctx: &Ctx<'_>, catalog: &Catalog, statement: &Statement) -> Vec<Hit> {
    let mut hits = Vec::new();
    match ctx.backend {
        DbBackend::Postgres => postgres::check(ctx, catalog, statement, &mut hits),
        DbBackend::MySql => mysql::check(ctx, catalog, statement, &mut hits),
        DbBackend::Sqlite => sqlite::check(ctx, catalog, statement, &mut hits),
        _ => {}
    }
    common::check(ctx, catalog, statement, &mut hits);
    hits
}

fn hit(rule: &'static Rule, message: impl Into<String>) -> Hit {
    Hit {
        rule,
        message: message.into(),
    }
}
