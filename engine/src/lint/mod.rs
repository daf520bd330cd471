//! `migrate lint`: rules over the SQL each migration renders, per backend, without a database.
//!
//! Every migration of the set is rendered in order ([`crate::store::render`]); its statements
//! are split and classified ([`sql`]) and run past the rules of the backend and of every backend
//! ([`rules`]), which know from the [`catalog`] of the migrations before it whether a table is
//! *existing* (created by an earlier migration, or by none: it came another way and may hold
//! rows) or new in this migration, so that indexing a table created in the same migration is not
//! flagged. Only the `up` half is linted: a `down` undoes by nature.
//!
//! A migration allows a rule with a reason in its own code, beside `DEPENDS_ON`:
//! `pub const LINT_ALLOW: &[(&str, &str)] = &[("pg.index-not-concurrent", "the table is empty
//! when this ships")];`, handed to the engine as the project's allowances
//! ([`crate::model::project::Project::lint_allow`]). An allowed finding stays in the report,
//! marked allowed, and does not count.

pub(crate) mod catalog;
pub mod report;
pub mod rules;
pub mod sql;

use sea_orm::DbBackend;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use crate::exec::protocol::Protocol;
use crate::model::set::{Migration, MigrationSet};
use crate::store::render::{Direction, Stop, render};
use catalog::Catalog;
pub use report::{Finding, LintReport, MigrationLint};
pub use rules::Rule;
use rules::{Ctx, sqlite};
use sql::Kind;

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Fails `migrate lint` (exit 4) and `MIGRATION_LINT=deny`.
    Error,
    /// Reported, never fails.
    Warning,
}

impl Level {
    /// `error` or `warning`.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warning => "warning",
        }
    }
}

/// The MariaDB or MySQL server whose online DDL rules the MySQL rules apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerVersion {
    /// MariaDB `major.minor`.
    MariaDb(u32, u32),
    /// MySQL `major.minor`.
    MySql(u32, u32),
}

impl Default for ServerVersion {
    /// MariaDB 10.6, the oldest maintained long-term release.
    fn default() -> Self {
        ServerVersion::MariaDb(10, 6)
    }
}

impl fmt::Display for ServerVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServerVersion::MariaDb(a, b) => write!(f, "MariaDB {a}.{b}"),
            ServerVersion::MySql(a, b) => write!(f, "MySQL {a}.{b}"),
        }
    }
}

impl std::str::FromStr for ServerVersion {
    type Err = LintError;

    /// `mariadb-10.11`, `mysql-8.0` (or `mariadb:10.11`, `mysql 8.0`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || LintError::ServerVersion {
            given: s.to_owned(),
        };
        let lower = s.trim().to_ascii_lowercase();
        let (flavor, version) = lower.split_once(['-', ':', ' ']).ok_or_else(bad)?;
        let mut parts = version.split('.');
        let major = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
        let minor = parts
            .next()
            .map_or(Some(0), |p| p.parse().ok())
            .ok_or_else(bad)?;
        match flavor {
            "mariadb" => Ok(ServerVersion::MariaDb(major, minor)),
            "mysql" => Ok(ServerVersion::MySql(major, minor)),
            _ => Err(bad()),
        }
    }
}

/// What to lint for.
#[derive(Debug, Clone)]
pub struct LintOptions {
    /// The backends whose rendering is linted.
    pub backends: Vec<DbBackend>,
    /// The MariaDB/MySQL server the MySQL rules judge by.
    pub server: ServerVersion,
    /// Whether the run that applies the migrations sets a lock timeout for their DDL
    /// (`--lock-timeout-ddl`), which satisfies `pg.lock-timeout-missing`.
    pub lock_timeout: bool,
}

impl Default for LintOptions {
    fn default() -> Self {
        Self {
            backends: vec![DbBackend::Postgres, DbBackend::MySql, DbBackend::Sqlite],
            server: ServerVersion::default(),
            lock_timeout: false,
        }
    }
}

/// Each migration's allowed rules with their reasons, by module name: what the project hands
/// over from each migration's `LINT_ALLOW`.
pub type Allowances = Vec<(String, Vec<(String, String)>)>;

/// Why linting was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LintError {
    /// `LINT_ALLOW` names a rule that does not exist.
    #[error(
        "migration {migration} allows unknown lint rule `{rule}` in LINT_ALLOW; `migrate lint --rules` lists the rules"
    )]
    UnknownRule {
        /// The migration's module name.
        migration: String,
        /// The rule as written.
        rule: String,
    },
    /// `LINT_ALLOW` allows a rule without saying why.
    #[error(
        "migration {migration} allows lint rule `{rule}` without a reason; write why it is safe in LINT_ALLOW"
    )]
    NoReason {
        /// The migration's module name.
        migration: String,
        /// The rule.
        rule: String,
    },
    /// Allowances were declared for a migration that is not in the set.
    #[error(
        "lint allowances are declared for `{migration}`, which is not a migration of this set; fix the name in the project's lint allowances"
    )]
    UnknownMigration {
        /// The name as declared.
        migration: String,
    },
    /// `--server-version` could not be read.
    #[error("unknown server version `{given}`; write it as `mariadb-10.11` or `mysql-8.0`")]
    ServerVersion {
        /// What was given.
        given: String,
    },
}

/// Checks the allowances against the set and the rules, and indexes them by module name.
fn allowances(
    set: &MigrationSet,
    allow: &Allowances,
) -> Result<BTreeMap<String, BTreeMap<String, String>>, LintError> {
    let names: BTreeSet<String> = set.iter().map(|m| m.id.module_name()).collect();
    let mut out: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for (migration, rules) in allow {
        if !names.contains(migration) {
            return Err(LintError::UnknownMigration {
                migration: migration.clone(),
            });
        }
        for (rule, reason) in rules {
            if rules::find(rule).is_none() {
                return Err(LintError::UnknownRule {
                    migration: migration.clone(),
                    rule: rule.clone(),
                });
            }
            if reason.trim().is_empty() {
                return Err(LintError::NoReason {
                    migration: migration.clone(),
                    rule: rule.clone(),
                });
            }
            out.entry(migration.clone())
                .or_default()
                .insert(rule.clone(), reason.clone());
        }
    }
    Ok(out)
}

/// Lints the migrations of `set` whose versions are in `selected` (every migration when
/// `None`), on each backend of `options`. The migrations before them are rendered too: they
/// say which tables exist.
///
/// # Errors
/// [`LintError`] when the allowances name an unknown migration or rule, or give no reason.
pub async fn lint(
    set: &MigrationSet,
    allow: &Allowances,
    selected: Option<&BTreeSet<String>>,
    options: &LintOptions,
) -> Result<LintReport, LintError> {
    let allowed = allowances(set, allow)?;
    let chosen = |m: &Migration| selected.is_none_or(|s| s.contains(&m.id.version));
    let mut migrations: Vec<MigrationLint> = set
        .iter()
        .filter(|m| chosen(m))
        .map(|m| MigrationLint {
            migration: m.id.module_name(),
            version: m.id.version.clone(),
            findings: Vec::new(),
            partial: Vec::new(),
        })
        .collect();
    for &backend in &options.backends {
        let mut catalog = Catalog::default();
        for (index, migration) in set.iter().enumerate() {
            let rendering = render(migration, backend, Direction::Up).await;
            let statements = sql::statements(&rendering.statements);
            let slot = migrations
                .iter_mut()
                .find(|l| l.version == migration.id.version);
            let Some(slot) = slot else {
                for s in &statements {
                    catalog.apply(s, index);
                }
                continue;
            };
            let mut hits = lint_migration(
                migration,
                backend,
                index,
                &statements,
                &mut catalog,
                options,
            );
            if let Some(stop) = &rendering.stop {
                slot.partial.push(report::Partial {
                    backend: crate::backend::name(backend),
                    reason: stop.describe(),
                });
                if backend == DbBackend::Sqlite
                    && let Stop::Panicked(message) | Stop::Failed(message) = stop
                    && message.contains("Sqlite")
                    && message.contains("not support")
                {
                    hits.push((
                        rules::Hit {
                            rule: &sqlite::UNSUPPORTED_ALTER,
                            message: format!("SeaQuery refused the change on SQLite: {message}"),
                        },
                        None,
                    ));
                }
            }
            if let Some(hit) = data_without_down(migration, backend, &statements).await {
                hits.push((hit, None));
            }
            let allowed_here = allowed.get(&slot.migration);
            for (hit, statement) in hits {
                slot.findings.push(Finding {
                    rule: hit.rule.id,
                    level: hit.rule.level,
                    backend: crate::backend::name(backend),
                    message: hit.message,
                    statement,
                    allowed: allowed_here.and_then(|a| a.get(hit.rule.id)).cloned(),
                });
            }
        }
    }
    Ok(LintReport {
        backends: options
            .backends
            .iter()
            .map(|b| crate::backend::name(*b))
            .collect(),
        migrations,
    })
}

/// Runs the rules over one migration's statements, updating the catalog as it goes.
fn lint_migration(
    migration: &Migration,
    backend: DbBackend,
    index: usize,
    statements: &[sql::Statement],
    catalog: &mut Catalog,
    options: &LintOptions,
) -> Vec<(rules::Hit, Option<String>)> {
    let in_transaction = match Protocol::of_code(migration.code.as_ref(), backend) {
        Protocol::Atomic => true,
        Protocol::Tracked { own_transaction } => own_transaction,
    };
    let rebuilds = if backend == DbBackend::Sqlite {
        sqlite::rebuilds(statements, catalog, index)
    } else {
        Vec::new()
    };
    let mut ctx = Ctx {
        backend,
        server: options.server,
        index,
        in_transaction,
        lock_timeout: options.lock_timeout,
        foreign_key_checks_off: false,
        sqlite_foreign_keys_off: false,
        lock_timeout_reported: false,
        statements,
        rebuilds: &rebuilds,
        at: 0,
    };
    let mut hits = Vec::new();
    for (at, statement) in statements.iter().enumerate() {
        ctx.at = at;
        match &statement.kind {
            Kind::Begin => ctx.in_transaction = true,
            Kind::Commit | Kind::Rollback => ctx.in_transaction = false,
            Kind::Set { name, value } if name == "lock_timeout" || name == "lock_wait_timeout" => {
                ctx.lock_timeout = !matches!(value.trim(), "0" | "" | "DEFAULT" | "default");
            }
            Kind::Set { name, value } if name == "foreign_key_checks" => {
                ctx.foreign_key_checks_off = matches!(value.trim(), "0" | "OFF" | "off");
            }
            Kind::Pragma { name, value } if name == "foreign_keys" && !ctx.in_transaction => {
                ctx.sqlite_foreign_keys_off = value
                    .as_deref()
                    .is_some_and(|v| v == "off" || v == "0" || v == "false");
            }
            _ => {}
        }
        for hit in rules::check(&ctx, catalog, statement) {
            if hit.rule.id == rules::postgres::LOCK_TIMEOUT.id {
                ctx.lock_timeout_reported = true;
            }
            hits.push((hit, Some(statement.sql.clone())));
        }
        catalog.apply(statement, index);
    }
    hits
}

/// `common.data-migration-without-down`: the `up` changes rows and the `down` cannot run (it
/// fails without reading anything) or does nothing.
async fn data_without_down(
    migration: &Migration,
    backend: DbBackend,
    statements: &[sql::Statement],
) -> Option<rules::Hit> {
    // Rows written into a table this migration creates (a lookup table's seed, the copy of a
    // rebuild) go away with the table: only rows of existing tables make a data migration.
    let created: BTreeSet<&str> = statements
        .iter()
        .filter_map(|s| match &s.kind {
            Kind::CreateTable { table, .. } => Some(table.as_str()),
            _ => None,
        })
        .collect();
    let dml = statements.iter().find(|s| match &s.kind {
        Kind::Dml { table } => table.as_deref().is_none_or(|t| !created.contains(t)),
        _ => false,
    })?;
    let down = render(migration, backend, Direction::Down).await;
    let why = match down.irreversible() {
        Some(error) => format!("its down fails: {error}"),
        None if down.is_complete() && down.statements.is_empty() => {
            "its down does nothing".to_owned()
        }
        None => return None,
    };
    let first_line = dml.sql.lines().next().unwrap_or_default();
    Some(rules::Hit {
        rule: &rules::common::DATA_WITHOUT_DOWN,
        message: format!("the migration changes rows (`{first_line}`…) but {why}"),
    })
}
