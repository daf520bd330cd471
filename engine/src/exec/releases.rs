//! `migrate releases` and `migrate report`: the project's releases joined with what `status`
//! found on the database.

use serde::Serialize;

use crate::exec::report::{Progress, StatusReport, is_in_effect};
use crate::model::releases::Releases;
use crate::plan::State;

/// One migration of a release, with its state on the database.
#[derive(Debug, Clone, Serialize)]
pub struct ReleasedMigration {
    /// Fourteen-digit version.
    pub version: String,
    /// Snake-case name.
    pub name: String,
    /// See [`State`].
    pub state: State,
}

/// A release with the state of each of its migrations: a line of `migrate releases`, a section
/// of `migrate report`.
#[derive(Debug, Clone, Serialize)]
pub struct ReleaseStatus {
    /// Its semantic version.
    pub version: String,
    /// When it shipped, as written.
    pub date: Option<String>,
    /// One line about it.
    pub description: String,
    /// What it brought.
    pub features: Vec<String>,
    /// What an application or an operator must change for it.
    pub breaking_changes: Vec<String>,
    /// What to do before or after upgrading to it.
    pub upgrade_notes: Vec<String>,
    /// Whether its migrations are applied.
    pub state: Progress,
    /// Its migrations and their states, in order.
    pub migrations: Vec<ReleasedMigration>,
}

/// Every release with its state, and the migrations not released yet.
#[derive(Debug, Clone, Serialize)]
pub struct ReleasesReport {
    /// Oldest first.
    pub releases: Vec<ReleaseStatus>,
    /// Migrations not in any release yet.
    pub unreleased: Vec<ReleasedMigration>,
}

/// Joins the releases with what `status` found.
pub fn report(declared: &Releases, status: &StatusReport) -> ReleasesReport {
    let of = |version: &str| {
        status
            .migrations
            .iter()
            .find(|m| m.version == version)
            .map(|m| ReleasedMigration {
                version: m.version.clone(),
                name: m.name.clone(),
                state: m.state,
            })
    };
    let mut everything_before_applied = true;
    let releases = declared
        .releases()
        .iter()
        .map(|r| {
            let migrations: Vec<ReleasedMigration> =
                r.migrations.iter().filter_map(|v| of(v)).collect();
            let applied = migrations.iter().filter(|m| is_in_effect(m.state)).count();
            // A release without migrations is where the one before it left the schema.
            let state =
                Progress::of(applied, migrations.len()).unwrap_or(if everything_before_applied {
                    Progress::Applied
                } else {
                    Progress::Pending
                });
            everything_before_applied &= state == Progress::Applied;
            ReleaseStatus {
                version: r.version.to_string(),
                date: r.date.clone(),
                description: r.description.clone(),
                features: r.features.clone(),
                breaking_changes: r.breaking_changes.clone(),
                upgrade_notes: r.upgrade_notes.clone(),
                state,
                migrations,
            }
        })
        .collect();
    ReleasesReport {
        releases,
        unreleased: declared.unreleased().iter().filter_map(|v| of(v)).collect(),
    }
}
