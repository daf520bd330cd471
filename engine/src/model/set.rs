//! The ordered list of migrations a project ships, checked before anything touches a database.

use sea_orm_migration::{MigrationTrait, MigratorTrait};
use std::fmt;

use crate::model::consolidated::{Squash, SquashError, SquashGroup};

/// Why a list of migrations was refused, before any database is contacted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SetError {
    /// A migration name does not follow `mYYYYMMDD_HHMMSS_snake_name`.
    #[error(
        "migration name `{name}` is malformed: {reason}; name modules `mYYYYMMDD_HHMMSS_snake_name`"
    )]
    MalformedName {
        /// The offending name.
        name: String,
        /// What is wrong with it.
        reason: String,
    },

    /// Two migrations share a version.
    #[error(
        "migrations `{first}` and `{second}` share version {version}; give one of them a new timestamp"
    )]
    DuplicateVersion {
        /// The shared version.
        version: String,
        /// The first migration with it.
        first: String,
        /// The second migration with it.
        second: String,
    },

    /// The list in `lib.rs` is not in timestamp order.
    #[error(
        "migration `{later}` is listed after `{earlier}` but has an older timestamp; list migrations in timestamp order in lib.rs"
    )]
    OutOfOrderList {
        /// The one listed first.
        earlier: String,
        /// The one listed after it, with the older timestamp.
        later: String,
    },
}

type Result<T, E = SetError> = std::result::Result<T, E>;

/// The identity of a migration, parsed from its module name `mYYYYMMDD_HHMMSS_snake_name`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MigrationId {
    /// Fourteen digits, `YYYYMMDDHHMMSS`: sorts the same as text and as a number.
    pub version: String,
    /// The snake-case part after the timestamp.
    pub name: String,
}

impl MigrationId {
    /// Parses a module name such as `m20240813_000010_create_core_tables`.
    ///
    /// # Errors
    /// [`SetError::MalformedName`] naming what is wrong.
    pub fn parse(full: &str) -> Result<Self> {
        let malformed = |reason: &str| SetError::MalformedName {
            name: full.to_owned(),
            reason: reason.to_owned(),
        };
        let rest = full
            .strip_prefix('m')
            .ok_or_else(|| malformed("it must start with `m`"))?;
        let bytes = rest.as_bytes();
        let digits = |range: std::ops::Range<usize>| {
            bytes
                .get(range)
                .is_some_and(|b| b.iter().all(u8::is_ascii_digit))
        };
        if !(digits(0..8) && bytes.get(8) == Some(&b'_') && digits(9..15)) {
            return Err(malformed(
                "expected the timestamp `YYYYMMDD_HHMMSS` after `m`",
            ));
        }
        if bytes.get(15) != Some(&b'_') || rest.len() < 17 {
            return Err(malformed("expected `_name` after the timestamp"));
        }
        let (date, time) = (&rest[0..8], &rest[9..15]);
        let num = |s: &str| s.parse::<u32>().unwrap_or(0);
        let (month, day) = (num(&date[4..6]), num(&date[6..8]));
        let (hour, minute, second) = (num(&time[0..2]), num(&time[2..4]), num(&time[4..6]));
        if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
            return Err(malformed(
                "the date in the timestamp is not a calendar date",
            ));
        }
        if hour > 23 || minute > 59 || second > 59 {
            return Err(malformed("the time in the timestamp is not a time of day"));
        }
        let name = &rest[16..];
        let snake = name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !snake || name.starts_with('_') {
            return Err(malformed(
                "the name after the timestamp must be snake_case (a-z, 0-9, _)",
            ));
        }
        Ok(Self {
            version: format!("{date}{time}"),
            name: name.to_owned(),
        })
    }

    /// The module name this id was parsed from, as SeaORM's `seaql_migrations` stores it.
    pub fn module_name(&self) -> String {
        format!(
            "m{}_{}_{}",
            &self.version[..8],
            &self.version[8..],
            self.name
        )
    }

    /// Normalises a version as a user may type it (`20240813000010`, `20240813_000010`,
    /// `m20240813_000010` or the whole module name) to the fourteen-digit form.
    pub fn normalise_version(typed: &str) -> Option<String> {
        let t = typed.trim().trim_start_matches('m');
        let digits: String = t
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '_')
            .collect();
        let version: String = digits.chars().filter(char::is_ascii_digit).collect();
        (version.len() == 14).then_some(version)
    }
}

impl fmt::Display for MigrationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}_{}", self.version, self.name)
    }
}

/// A migration as the engine holds it: its id and its code.
pub struct Migration {
    /// Parsed from the module name.
    pub id: MigrationId,
    /// SeaORM's authoring trait object, unchanged.
    pub code: Box<dyn MigrationTrait>,
}

impl fmt::Debug for Migration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Migration").field("id", &self.id).finish()
    }
}

/// The project's migrations, validated: well named, unique and in timestamp order; with the
/// consolidated migrations that may stand in for runs of them ([`crate::model::consolidated`]).
#[derive(Debug, Default)]
pub struct MigrationSet {
    migrations: Vec<Migration>,
    squashes: Vec<SquashGroup>,
}

impl MigrationSet {
    /// Validates a list of SeaORM migrations as `lib.rs` declares it.
    ///
    /// # Errors
    /// [`SetError::MalformedName`], [`SetError::DuplicateVersion`] or
    /// [`SetError::OutOfOrderList`], before any database is contacted.
    pub fn new(list: Vec<Box<dyn MigrationTrait>>) -> Result<Self> {
        let mut migrations: Vec<Migration> = Vec::with_capacity(list.len());
        let mut seen: std::collections::HashMap<String, usize> =
            std::collections::HashMap::with_capacity(list.len());
        for code in list {
            let id = MigrationId::parse(code.name())?;
            if let Some(&prev) = seen.get(&id.version) {
                return Err(SetError::DuplicateVersion {
                    version: id.version.clone(),
                    first: migrations[prev].id.module_name(),
                    second: id.module_name(),
                });
            }
            seen.insert(id.version.clone(), migrations.len());
            if let Some(last) = migrations.last()
                && last.id.version > id.version
            {
                return Err(SetError::OutOfOrderList {
                    earlier: last.id.module_name(),
                    later: id.module_name(),
                });
            }
            migrations.push(Migration { id, code });
        }
        Ok(Self {
            migrations,
            squashes: Vec::new(),
        })
    }

    /// Adds consolidated migrations, each standing in for the run of migrations it replaces.
    ///
    /// # Errors
    /// [`SquashError::Declaration`] when one does not replace two or more
    /// consecutive migrations of the list, overlaps another, or shares a migration's name.
    pub fn with_squashes(mut self, squashes: Vec<Squash>) -> Result<Self, SquashError> {
        self.squashes = crate::model::consolidated::resolve(&self.migrations, squashes)?;
        Ok(self)
    }

    /// The consolidated migrations, in list order.
    pub fn squashes(&self) -> &[SquashGroup] {
        &self.squashes
    }

    /// The consolidated migration with this module name.
    pub fn squash(&self, name: &str) -> Option<&SquashGroup> {
        self.squashes.iter().find(|g| g.name() == name)
    }

    /// Takes the list from a SeaORM `MigratorTrait`, so an existing `Migrator` drops in.
    ///
    /// # Errors
    /// As [`MigrationSet::new`].
    pub fn from_migrator<M: MigratorTrait>() -> Result<Self> {
        Self::new(M::migrations())
    }

    /// The migrations in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &Migration> {
        self.migrations.iter()
    }

    /// How many migrations there are.
    pub fn len(&self) -> usize {
        self.migrations.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.migrations.is_empty()
    }

    /// The migration with this fourteen-digit version.
    pub fn get(&self, version: &str) -> Option<&Migration> {
        self.migrations.iter().find(|m| m.id.version == version)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_well_formed_name_parses_into_version_and_name() {
        let id = MigrationId::parse("m20240813_000010_create_core_tables").unwrap();
        assert_eq!(id.version, "20240813000010");
        assert_eq!(id.name, "create_core_tables");
        assert_eq!(id.module_name(), "m20240813_000010_create_core_tables");
    }

    #[test]
    fn names_without_prefix_timestamp_or_snake_case_are_refused() {
        for bad in [
            "20240813_000010_x",
            "m2024081_000010_x",
            "m20240813000010_x",
            "m20240813_000010",
            "m20240813_000010_",
            "m20241313_000010_x",
            "m20240813_250010_x",
            "m20240813_000010_Create",
            "m20240813_000010_with-dash",
        ] {
            assert!(MigrationId::parse(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn versions_are_accepted_in_every_spelling_users_type() {
        for typed in [
            "20240813000010",
            "20240813_000010",
            "m20240813_000010",
            "m20240813_000010_create_core_tables",
        ] {
            assert_eq!(
                MigrationId::normalise_version(typed).as_deref(),
                Some("20240813000010")
            );
        }
        assert_eq!(MigrationId::normalise_version("2024"), None);
        assert_eq!(MigrationId::normalise_version("latest"), None);
    }
}
