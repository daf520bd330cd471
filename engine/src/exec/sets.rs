//! Commands across the sets of a project ([`crate::model::sets`]): where each set runs, one
//! reading engine per set, and the needs between sets checked before anything changes.
//!
//! A command across sets goes through them in run order (`down` in reverse), one session at a
//! time: each set's lock is taken, its work done and the lock given back before the next set's
//! lock is asked for, so a runner never holds one lock while waiting for another and two runners
//! over the same sets cannot deadlock. Each set's ledger has its own table, so its lock is its
//! own too, even where several sets share a database.

use std::collections::HashMap;
use std::time::Duration;

use sea_orm::{DatabaseConnection, DbBackend};

use super::Engine;
use super::report::StatusReport;
use crate::backend::target::Target;
use crate::error::{EngineError, Result};
use crate::model::sets::{LoadedSet, SetDatabase, publish_databases};
use crate::plan::State;
use crate::store::ledger::Ledger;

/// The environment variable that says where set `name` runs: `NAME_DATABASE_URL`.
pub fn url_variable(name: &str) -> String {
    format!("{}_DATABASE_URL", name.to_ascii_uppercase())
}

/// Where `set` runs: `NAME_DATABASE_URL` as `lookup` finds it, else what the set declares
/// ([`SetDatabase`]), on `base`'s server. A set on `base`'s database keeps its schema settings;
/// every set's ledger is `NAME_<table>`, `<table>` being `base`'s.
///
/// # Errors
/// [`EngineError::Config`] for a set declared [`SetDatabase::Own`] whose variable is unset, and
/// for a URL that [`Target::new`] refuses.
pub fn resolve(
    set: &LoadedSet,
    base: &Target,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<Target> {
    let variable = url_variable(&set.name);
    let url = match (
        lookup(&variable).filter(|u| !u.trim().is_empty()),
        set.database,
    ) {
        (Some(url), _) => url,
        (None, SetDatabase::Default) => base.url().to_owned(),
        (None, SetDatabase::Own) => {
            return Err(EngineError::Config {
                message: format!(
                    "set `{}` runs on a database of its own and {variable} is not set: set it to that database's URL, or leave the set out with `--set`",
                    set.name
                ),
            });
        }
        (None, SetDatabase::PostgresDatabase(database)) => match base.backend() {
            DbBackend::Postgres => with_database(base.url(), database),
            _ => base.url().to_owned(),
        },
    };
    let same = url == base.url();
    Target::new(
        &url,
        same.then(|| base.database_schema.clone()).flatten(),
        same.then(|| base.migration_schema.clone()).flatten(),
        Some(format!("{}_{}", set.name, base.migration_table)),
    )
    .map_err(|e| match e {
        EngineError::Config { message } => EngineError::Config {
            message: format!("{variable}: {message}"),
        },
        other => other,
    })
}

/// Records the database each set runs on, for [`crate::model::sets::database_of`].
pub fn publish<'x>(resolved: impl IntoIterator<Item = (&'x LoadedSet, &'x Target)>) {
    publish_databases(
        resolved
            .into_iter()
            .map(|(set, target)| (set.name.as_str(), target.database_name())),
    );
}

/// `url` with its path (the database) replaced by `database`.
fn with_database(url: &str, database: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) => {
            parsed.set_path(&format!("/{database}"));
            parsed.to_string()
        }
        Err(_) => url.to_owned(),
    }
}

/// Whether two targets are the same database (and schema): what one `fresh` wipes together.
pub fn same_database(a: &Target, b: &Target) -> bool {
    a.url() == b.url() && a.database_schema == b.database_schema
}

/// One connection per database for reading: sets on one database share it.
#[derive(Debug, Default)]
pub struct Connections {
    open: HashMap<String, DatabaseConnection>,
}

impl Connections {
    /// No connections yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The connection to `target`'s database, opened on first use.
    ///
    /// # Errors
    /// What [`Target::connect`] fails with.
    pub async fn get(&mut self, target: &Target, timeout: Duration) -> Result<DatabaseConnection> {
        let key = format!("{}\0{:?}", target.url(), target.database_schema);
        if let Some(conn) = self.open.get(&key) {
            return Ok(conn.clone());
        }
        let conn = target.connect(timeout).await?;
        self.open.insert(key, conn.clone());
        Ok(conn)
    }

    /// A reading engine for `set` on `target`.
    ///
    /// # Errors
    /// As [`Connections::get`].
    pub async fn engine<'a>(
        &mut self,
        set: &'a LoadedSet,
        target: &Target,
        siblings: &[String],
        timeout: Duration,
    ) -> Result<Engine<'a>> {
        let conn = self.get(target, timeout).await?;
        Ok(engine_on(conn, set, target, siblings))
    }

    /// Closes every connection.
    pub async fn close(self) {
        for (_, conn) in self.open {
            let _ = conn.close().await;
        }
    }
}

/// An engine for `set` on `conn`, a connection to `target`: its ledger (beside `siblings`, the
/// other sets' ledger tables), dependencies and releases.
pub fn engine_on<'a>(
    conn: DatabaseConnection,
    set: &'a LoadedSet,
    target: &Target,
    siblings: &[String],
) -> Engine<'a> {
    let project = &set.project;
    let ledger = Ledger::of(target).with_siblings(siblings.to_vec());
    let engine = Engine::new(conn, &project.set, ledger).with_dependencies(&project.graph);
    match &project.releases {
        Some(releases) => engine.with_releases(releases),
        None => engine,
    }
}

/// Whether a migration in this state has run (or been recorded) and not been reverted.
fn is_applied(state: State) -> bool {
    !matches!(state, State::Pending | State::Failed | State::Running)
}

/// Checks that set `index` may apply migrations: each need is applied, or belongs to a set in
/// `applied_before` (sets this command applies earlier). `statuses` holds every set's status,
/// by index (`None` where it was not read).
///
/// # Errors
/// [`EngineError::SetNeedsUnapplied`] naming the first unmet need.
pub fn check_up(
    sets: &[LoadedSet],
    statuses: &[Option<StatusReport>],
    index: usize,
    applied_before: &[usize],
) -> Result<()> {
    let set = &sets[index];
    for need in &set.needs {
        let Some(needed) = sets.iter().position(|s| s.name == need.set) else {
            continue;
        };
        if applied_before.contains(&needed) {
            continue;
        }
        let Some(status) = &statuses[needed] else {
            continue;
        };
        let missing = status.migrations.iter().find(|m| {
            m.number.is_some()
                && need.version.as_deref().is_none_or(|v| v == m.version)
                && !is_applied(m.state)
        });
        if let Some(missing) = missing {
            return Err(EngineError::SetNeedsUnapplied {
                set: set.name.clone(),
                needed: match &need.version {
                    None => format!("set `{}`", need.set),
                    Some(_) => {
                        format!("{}_{} of set `{}`", missing.version, missing.name, need.set)
                    }
                },
                needed_set: need.set.clone(),
                missing: format!("{}_{}", missing.version, missing.name),
            });
        }
    }
    Ok(())
}

/// Checks that set `index` may revert `versions`: no other set that needs one of them has
/// anything applied, unless it is in `reverted_before` (sets this command reverts whole
/// earlier).
///
/// # Errors
/// [`EngineError::NeededBySet`] naming the first set in the way.
pub fn check_down(
    sets: &[LoadedSet],
    statuses: &[Option<StatusReport>],
    index: usize,
    versions: &[String],
    reverted_before: &[usize],
) -> Result<()> {
    let set = &sets[index];
    for (other, dependent) in sets.iter().enumerate() {
        if other == index || reverted_before.contains(&other) {
            continue;
        }
        let Some(version) = versions
            .iter()
            .find(|v| dependent.needs_version(&set.name, v))
        else {
            continue;
        };
        let Some(status) = &statuses[other] else {
            continue;
        };
        let applied: Vec<_> = status
            .migrations
            .iter()
            .filter(|m| is_applied(m.state))
            .collect();
        if let Some(newest) = applied.last() {
            let migration = set
                .project
                .set
                .get(version)
                .map_or_else(|| version.clone(), |m| m.id.to_string());
            return Err(EngineError::NeededBySet {
                set: set.name.clone(),
                migration,
                dependent: dependent.name.clone(),
                applied: applied.len(),
                newest: format!("{}_{}", newest.version, newest.name),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_set_database_replaces_only_the_path() {
        assert_eq!(
            with_database(
                "postgres://u:p@127.0.0.1:5432/app?sslmode=disable",
                "postgres"
            ),
            "postgres://u:p@127.0.0.1:5432/postgres?sslmode=disable"
        );
    }

    #[test]
    fn set_variables_are_the_name_in_capitals() {
        assert_eq!(url_variable("ess_signals"), "ESS_SIGNALS_DATABASE_URL");
    }
}
