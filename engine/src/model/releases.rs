//! Releases: which migrations shipped in which version of the application.
//!
//! A project describes them in `releases.toml` next to its migration crate's `Cargo.toml` and
//! embeds the file in its binary (`include_str!`), so a deployed `migrate` knows its releases
//! without the source tree:
//!
//! ```toml
//! unreleased = ["m20250101_000000_add_waitlist"]
//!
//! [[release]]
//! version = "1.0.0"
//! date = "2024-08-20"
//! description = "Core platform"
//! features = ["Tenants, staff users and customers"]
//! breaking_changes = []
//! upgrade_notes = ["PostgreSQL needs the pgcrypto and btree_gist extensions"]
//! migrations = ["m20240813_000001_setup", "m20240813_000002_create_core_tables"]
//! ```
//!
//! The file is checked against the code before anything else runs: versions are semantic
//! versions listed in ascending order; no migration is in two places, and every entry names a
//! migration of the code; and releases follow migration order (every migration of a release
//! comes after every migration of the releases before it, and unreleased ones come last), so
//! "up to release X" and "back to release X" each name one point in the list.
//!
//! A migration the file does not mention is unreleased, as if listed in `unreleased`: one added
//! by `sea-orm-cli migrate generate` or by hand works at once, and a team that does not use
//! releases never has to touch the file. A team that wants every migration placed on purpose
//! sets `require_listed = true` at the top of the file: `migrate check` and `migrate releases`
//! then refuse (exit 4) while a migration is in no release and not in `unreleased`
//! ([`Releases::check_listed`]).

use semver::Version;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

use crate::model::set::{MigrationId, MigrationSet};

/// Why a releases file was refused, or a release could not be found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReleaseError {
    /// The file is not valid TOML, or has fields this version does not know.
    #[error("releases.toml is malformed: {message}; fix the file and rebuild")]
    Syntax {
        /// The parser's message, on one line.
        message: String,
    },
    /// A release's version is not a semantic version.
    #[error(
        "releases.toml: release `{version}` is not a semantic version ({reason}); write it as MAJOR.MINOR.PATCH, e.g. 1.4.0"
    )]
    BadVersion {
        /// As written.
        version: String,
        /// What the parser said.
        reason: String,
    },
    /// Two releases share a version.
    #[error("releases.toml lists release {version} twice; merge the two entries")]
    DuplicateRelease {
        /// The shared version.
        version: String,
    },
    /// Releases are not listed in ascending version order.
    #[error(
        "releases.toml lists release {later} after {earlier}, which is newer; list releases oldest first"
    )]
    ReleasesOutOfOrder {
        /// The one listed first.
        earlier: String,
        /// The one listed after it, with the older version.
        later: String,
    },
    /// A release (or `unreleased`) names a migration the code does not have.
    #[error(
        "releases.toml: {place} names `{entry}`, which is not a migration in the code{hint}; use the module name as in lib.rs"
    )]
    UnknownMigration {
        /// `release 1.2.0` or `unreleased`.
        place: String,
        /// The entry as written.
        entry: String,
        /// A suggestion when the version matches a migration under another name.
        hint: String,
    },
    /// A migration is listed twice.
    #[error(
        "releases.toml lists {migration} in both {first} and {second}; a migration belongs to exactly one release"
    )]
    ListedTwice {
        /// The module name.
        migration: String,
        /// `release 1.2.0` or `unreleased`.
        first: String,
        /// `release 1.3.0` or `unreleased`.
        second: String,
    },
    /// Migrations the file does not mention, while it sets `require_listed = true`.
    #[error(
        "migration(s) in no release: {}; add each to a release in releases.toml, or to `unreleased` until it ships",
        .migrations.join(", ")
    )]
    Unassigned {
        /// Module names.
        migrations: Vec<String>,
    },
    /// A release holds a migration older than one of an earlier release (or an unreleased one
    /// is older than a released one).
    #[error(
        "releases.toml: {place} holds {migration}, which is older than {earlier_migration} of {earlier_place}; releases must follow migration order"
    )]
    NotInMigrationOrder {
        /// `release 1.2.0` or `unreleased`.
        place: String,
        /// The older migration.
        migration: String,
        /// The earlier place.
        earlier_place: String,
        /// Its newer migration.
        earlier_migration: String,
    },
    /// A migration the file does not mention is older than a migration of a release: it would
    /// count as unreleased, yet go with that release.
    #[error(
        "releases.toml lists {migration} in no release, yet it is older than {later} of release {release}; add it to the release that shipped it, as releases follow migration order"
    )]
    UnlistedBeforeRelease {
        /// The unlisted migration.
        migration: String,
        /// The newer migration of a release.
        later: String,
        /// That release.
        release: String,
    },
    /// A release asked for on the command line is not in the file.
    #[error("unknown release `{typed}`; known releases: {}", .known.join(", "))]
    UnknownRelease {
        /// As typed.
        typed: String,
        /// Every release, oldest first.
        known: Vec<String>,
    },
    /// The project declares no releases.
    #[error(
        "this project declares no releases: add releases.toml to the migration crate and pass it to `Project::releases` in its main.rs"
    )]
    NoReleases,
}

impl ReleaseError {
    /// Whether the error is about the file (a project problem, refused by validation) rather
    /// than about what was typed (a usage error).
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            ReleaseError::Syntax { .. }
                | ReleaseError::UnknownRelease { .. }
                | ReleaseError::NoReleases
        )
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    require_listed: bool,
    #[serde(default)]
    unreleased: Vec<String>,
    #[serde(default, rename = "release")]
    releases: Vec<RawRelease>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRelease {
    version: String,
    #[serde(default)]
    date: Option<String>,
    #[serde(default)]
    description: String,
    #[serde(default)]
    features: Vec<String>,
    #[serde(default)]
    breaking_changes: Vec<String>,
    #[serde(default)]
    upgrade_notes: Vec<String>,
    #[serde(default)]
    migrations: Vec<String>,
}

/// One release, checked against the code.
#[derive(Debug, Clone, Serialize)]
pub struct Release {
    /// Its semantic version.
    #[serde(serialize_with = "as_text")]
    pub version: Version,
    /// When it shipped, as written (free text, usually `YYYY-MM-DD`).
    pub date: Option<String>,
    /// One line about it.
    pub description: String,
    /// What it brought.
    pub features: Vec<String>,
    /// What an application or an operator must change for it.
    pub breaking_changes: Vec<String>,
    /// What to do before or after upgrading to it.
    pub upgrade_notes: Vec<String>,
    /// Its migrations' fourteen-digit versions, in migration order.
    pub migrations: Vec<String>,
}

fn as_text<S: serde::Serializer>(version: &Version, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(version)
}

/// Every release of a project, oldest first, and the migrations not released yet.
#[derive(Debug, Clone, Default)]
pub struct Releases {
    releases: Vec<Release>,
    unreleased: Vec<String>,
    of_migration: HashMap<String, usize>,
    /// Module names of the migrations the file does not mention (unreleased too).
    unlisted: Vec<String>,
    require_listed: bool,
}

fn place(release: Option<&RawRelease>) -> String {
    match release {
        Some(r) => format!("release {}", r.version),
        None => "unreleased".to_owned(),
    }
}

impl Releases {
    /// Every release, oldest first.
    pub fn releases(&self) -> &[Release] {
        &self.releases
    }

    /// Parses `text` (the contents of `releases.toml`) and checks it against `set`. A migration
    /// the file does not mention is unreleased; whether that is allowed is
    /// [`Releases::check_listed`]'s business.
    ///
    /// # Errors
    /// The first [`ReleaseError`] found, naming the release and migration it is about.
    pub fn parse(text: &str, set: &MigrationSet) -> Result<Self, ReleaseError> {
        let raw: RawFile = toml::from_str(text).map_err(|e| ReleaseError::Syntax {
            message: e
                .to_string()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" "),
        })?;
        let mut releases: Vec<Release> = Vec::with_capacity(raw.releases.len());
        for r in &raw.releases {
            let version =
                Version::parse(r.version.trim().trim_start_matches('v')).map_err(|e| {
                    ReleaseError::BadVersion {
                        version: r.version.clone(),
                        reason: e.to_string(),
                    }
                })?;
            if let Some(prev) = releases.iter().find(|p| p.version == version) {
                return Err(ReleaseError::DuplicateRelease {
                    version: prev.version.to_string(),
                });
            }
            if let Some(prev) = releases.last()
                && prev.version > version
            {
                return Err(ReleaseError::ReleasesOutOfOrder {
                    earlier: prev.version.to_string(),
                    later: version.to_string(),
                });
            }
            releases.push(Release {
                version,
                date: r.date.clone(),
                description: r.description.clone(),
                features: r.features.clone(),
                breaking_changes: r.breaking_changes.clone(),
                upgrade_notes: r.upgrade_notes.clone(),
                migrations: Vec::new(),
            });
        }

        // Where each migration of the code sits, and where the file puts it.
        let position: HashMap<String, usize> = set
            .iter()
            .enumerate()
            .map(|(i, m)| (m.id.module_name(), i))
            .collect();
        let mut assigned: HashMap<String, String> = HashMap::new();
        let mut of_migration = HashMap::new();
        let mut unreleased = Vec::new();
        // The newest migration seen so far, with the place that holds it.
        let mut newest: Option<(usize, String)> = None;
        let places = raw
            .releases
            .iter()
            .map(Some)
            .enumerate()
            .chain(std::iter::once((raw.releases.len(), None)));
        for (index, release) in places {
            let entries = match release {
                Some(r) => &r.migrations,
                None => &raw.unreleased,
            };
            let here = place(release);
            let mut newest_here: Option<usize> = None;
            for entry in entries {
                let Some(&at) = position.get(entry.trim()) else {
                    let hint = MigrationId::normalise_version(entry)
                        .and_then(|v| set.get(&v))
                        .map(|m| {
                            format!(" (the code has {} with that version)", m.id.module_name())
                        })
                        .unwrap_or_default();
                    return Err(ReleaseError::UnknownMigration {
                        place: here,
                        entry: entry.clone(),
                        hint,
                    });
                };
                let module = entry.trim().to_owned();
                if let Some(first) = assigned.insert(module.clone(), here.clone()) {
                    return Err(ReleaseError::ListedTwice {
                        migration: module,
                        first,
                        second: here,
                    });
                }
                if let Some((newest_at, newest_place)) = &newest
                    && at < *newest_at
                {
                    let earlier_migration = set
                        .iter()
                        .nth(*newest_at)
                        .map(|m| m.id.module_name())
                        .unwrap_or_default();
                    return Err(ReleaseError::NotInMigrationOrder {
                        place: here,
                        migration: module,
                        earlier_place: newest_place.clone(),
                        earlier_migration,
                    });
                }
                newest_here = newest_here.max(Some(at));
                let version = set
                    .iter()
                    .nth(at)
                    .map(|m| m.id.version.clone())
                    .unwrap_or_default();
                match release {
                    Some(_) => {
                        of_migration.insert(version.clone(), index);
                        releases[index].migrations.push(version);
                    }
                    None => unreleased.push(version),
                }
            }
            if let Some(at) = newest_here {
                newest = Some((at, here));
            }
        }
        // Unmentioned migrations are unreleased, so they too must come after every released one.
        let newest_released = set
            .iter()
            .enumerate()
            .filter(|(_, m)| of_migration.contains_key(&m.id.version))
            .last();
        let mut unlisted = Vec::new();
        for (at, m) in set.iter().enumerate() {
            let module = m.id.module_name();
            if assigned.contains_key(&module) {
                continue;
            }
            if let Some((newest_at, newest)) = newest_released
                && at < newest_at
            {
                let release = of_migration
                    .get(&newest.id.version)
                    .and_then(|&i| releases.get(i))
                    .map(|r| r.version.to_string())
                    .unwrap_or_default();
                return Err(ReleaseError::UnlistedBeforeRelease {
                    migration: module,
                    later: newest.id.module_name(),
                    release,
                });
            }
            unreleased.push(m.id.version.clone());
            unlisted.push(module);
        }
        for r in &mut releases {
            r.migrations.sort();
        }
        unreleased.sort();
        Ok(Self {
            releases,
            unreleased,
            of_migration,
            unlisted,
            require_listed: raw.require_listed,
        })
    }

    /// What `migrate check` and `migrate releases` ask of the file: when it sets
    /// `require_listed = true`, that every migration is in a release or in `unreleased`.
    ///
    /// # Errors
    /// [`ReleaseError::Unassigned`] naming each migration the file does not mention.
    pub fn check_listed(&self) -> Result<(), ReleaseError> {
        if self.require_listed && !self.unlisted.is_empty() {
            return Err(ReleaseError::Unassigned {
                migrations: self.unlisted.clone(),
            });
        }
        Ok(())
    }

    /// The module names of the migrations the file does not mention; they count as unreleased.
    pub fn unlisted(&self) -> &[String] {
        &self.unlisted
    }

    /// The releases, oldest first.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &Release> {
        self.releases.iter()
    }

    /// The versions of migrations not released yet, in order: those listed in `unreleased` and
    /// those the file does not mention.
    pub fn unreleased(&self) -> &[String] {
        &self.unreleased
    }

    /// The release a typed version names (`1.8.0` or `v1.8.0`).
    ///
    /// # Errors
    /// [`ReleaseError::UnknownRelease`] listing the known ones.
    pub fn get(&self, typed: &str) -> Result<&Release, ReleaseError> {
        let unknown = || ReleaseError::UnknownRelease {
            typed: typed.to_owned(),
            known: self
                .releases
                .iter()
                .map(|r| r.version.to_string())
                .collect(),
        };
        let version =
            Version::parse(typed.trim().trim_start_matches('v')).map_err(|_| unknown())?;
        self.releases
            .iter()
            .find(|r| r.version == version)
            .ok_or_else(unknown)
    }

    /// The release that shipped a migration (by fourteen-digit version), if any.
    pub fn release_of(&self, migration: &str) -> Option<&Release> {
        self.of_migration
            .get(migration)
            .and_then(|&i| self.releases.get(i))
    }

    /// The newest migration in `release` or any release before it: where `up --to-release`
    /// stops and what `down --to-release` keeps. `None` when none of them has a migration.
    pub fn last_migration_through(&self, release: &Release) -> Option<&str> {
        self.releases
            .iter()
            .take_while(|r| r.version <= release.version)
            .flat_map(|r| r.migrations.iter())
            .max()
            .map(String::as_str)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use sea_orm_migration::prelude::*;

    struct Named(&'static str);

    impl MigrationName for Named {
        fn name(&self) -> &str {
            self.0
        }
    }

    #[async_trait::async_trait]
    impl MigrationTrait for Named {
        async fn up(&self, _: &SchemaManager) -> Result<(), DbErr> {
            Ok(())
        }
    }

    const A: &str = "m20240101_000001_a";
    const B: &str = "m20240101_000002_b";
    const C: &str = "m20240101_000003_c";

    fn set() -> MigrationSet {
        MigrationSet::new(vec![
            Box::new(Named(A)),
            Box::new(Named(B)),
            Box::new(Named(C)),
        ])
        .unwrap()
    }

    fn file(releases: &[(&str, &[&str])], unreleased: &[&str]) -> String {
        let list = |items: &[&str]| {
            items
                .iter()
                .map(|m| format!("\"{m}\""))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut text = format!("unreleased = [{}]\n", list(unreleased));
        for (version, migrations) in releases {
            text.push_str(&format!(
                "[[release]]\nversion = \"{version}\"\ndescription = \"r\"\nmigrations = [{}]\n",
                list(migrations)
            ));
        }
        text
    }

    #[test]
    fn a_consistent_file_maps_each_migration_to_its_release() {
        let r =
            Releases::parse(&file(&[("1.0.0", &[A, B]), ("1.1.0", &[])], &[C]), &set()).unwrap();
        assert_eq!(
            r.release_of("20240101000002").unwrap().version.to_string(),
            "1.0.0"
        );
        assert!(r.release_of("20240101000003").is_none());
        assert_eq!(r.unreleased(), ["20240101000003"]);
        let v110 = r.get("v1.1.0").unwrap();
        assert_eq!(r.last_migration_through(v110), Some("20240101000002"));
    }

    #[test]
    fn a_migration_in_no_release_is_unreleased() {
        let r = Releases::parse(&file(&[("1.0.0", &[A])], &[B]), &set()).unwrap();
        assert_eq!(r.unreleased(), ["20240101000002", "20240101000003"]);
        assert_eq!(r.unlisted(), [C]);
        assert!(r.release_of("20240101000003").is_none());
        assert_eq!(r.check_listed(), Ok(()));
        let none = Releases::parse("", &set()).unwrap();
        assert_eq!(none.unreleased().len(), 3);
        assert_eq!(none.check_listed(), Ok(()));
    }

    #[test]
    fn with_require_listed_every_migration_must_be_listed() {
        let text = format!("require_listed = true\n{}", file(&[("1.0.0", &[A])], &[B]));
        let r = Releases::parse(&text, &set()).unwrap();
        assert_eq!(
            r.check_listed(),
            Err(ReleaseError::Unassigned {
                migrations: vec![C.to_owned()]
            })
        );
        assert_eq!(
            r.check_listed().unwrap_err().to_string(),
            "migration(s) in no release: m20240101_000003_c; add each to a release in releases.toml, or to `unreleased` until it ships"
        );
        let text = format!(
            "require_listed = true\n{}",
            file(&[("1.0.0", &[A])], &[B, C])
        );
        assert_eq!(
            Releases::parse(&text, &set()).unwrap().check_listed(),
            Ok(())
        );
    }

    #[test]
    fn a_migration_is_listed_once_and_only_if_the_code_has_it() {
        let err = Releases::parse(&file(&[("1.0.0", &[A, B])], &[B, C]), &set()).unwrap_err();
        assert!(matches!(err, ReleaseError::ListedTwice { .. }), "{err}");
        let err = Releases::parse(
            &file(&[("1.0.0", &[A, B, C, "m20240101_000003_x"])], &[]),
            &set(),
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("the code has m20240101_000003_c"),
            "{err}"
        );
    }

    #[test]
    fn a_migration_in_no_release_must_not_be_older_than_a_released_one() {
        let err = Releases::parse(&file(&[("1.0.0", &[A, C])], &[]), &set()).unwrap_err();
        assert_eq!(
            err,
            ReleaseError::UnlistedBeforeRelease {
                migration: B.to_owned(),
                later: C.to_owned(),
                release: "1.0.0".to_owned(),
            }
        );
    }

    #[test]
    fn releases_must_follow_version_and_migration_order() {
        let err = Releases::parse(&file(&[("1.1.0", &[A]), ("1.0.0", &[B, C])], &[]), &set())
            .unwrap_err();
        assert!(
            matches!(err, ReleaseError::ReleasesOutOfOrder { .. }),
            "{err}"
        );
        let err = Releases::parse(&file(&[("1.0.0", &[B]), ("1.1.0", &[A, C])], &[]), &set())
            .unwrap_err();
        assert!(
            matches!(err, ReleaseError::NotInMigrationOrder { .. }),
            "{err}"
        );
        let err = Releases::parse(&file(&[("1.0.0", &[A, C])], &[B]), &set()).unwrap_err();
        assert!(
            matches!(err, ReleaseError::NotInMigrationOrder { .. }),
            "{err}"
        );
        let err = Releases::parse(&file(&[("one", &[A, B, C])], &[]), &set()).unwrap_err();
        assert!(matches!(err, ReleaseError::BadVersion { .. }), "{err}");
    }

    #[test]
    fn unknown_fields_and_unknown_releases_are_refused() {
        let err = Releases::parse("colour = 1\n", &set()).unwrap_err();
        assert!(matches!(err, ReleaseError::Syntax { .. }), "{err}");
        let r = Releases::parse(&file(&[("1.0.0", &[A, B, C])], &[]), &set()).unwrap();
        let err = r.get("2.0.0").unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown release `2.0.0`; known releases: 1.0.0"
        );
    }
}
