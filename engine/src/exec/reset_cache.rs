//! The reset cache of `fresh --seed`: a copy of the database as the rebuild and the seeding
//! left it, kept under a key made of everything that decides that content, so that the next
//! reset with the same key copies it instead of rebuilding.
//!
//! The key covers the backend, the ledger's name and schema, the database schema, every
//! migration's version, name and checksum (and every consolidated migration's), and what the
//! step after `fresh` says decides its rows ([`AfterFresh::content`]: for the seeder its
//! profile, random seed, date and its own build). A migration whose SQL depends on data it reads
//! is checksummed over the statements before that read only; with one in the set, the key also
//! covers the `migrate` binary itself, so rebuilding it invalidates the copy.
//!
//! Where the copies live and how one is copied back is the backend's
//! ([`crate::backend::cache`]): template databases on PostgreSQL, files on SQLite, nothing on
//! MySQL/MariaDB, which resets the ordinary way.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::engine::Engine;
use super::operations::{AfterFresh, AfterFreshOutput, SeedRequest};
use crate::backend::cache::{CachedCopy, Store};
use crate::backend::target::Target;
use crate::error::Result;

/// Everything that decides what a reset leaves in the database.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Content {
    /// `postgres`, `mysql` or `sqlite`.
    pub backend: String,
    /// The ledger table, with its schema when it has one.
    pub ledger: String,
    /// The PostgreSQL search path the migrations run with.
    pub database_schema: Option<String>,
    /// Each migration as `version_name` and the checksum of its rendered `up`, in order;
    /// consolidated migrations follow as `name` and checksum.
    pub migrations: Vec<(String, String)>,
    /// The `migrate` binary (size and modification time), when a migration's SQL depends on
    /// data it reads and so is not all in its checksum.
    pub build: Option<String>,
    /// What the step after `fresh` says decides its rows, by name.
    pub seed: Vec<(String, String)>,
}

impl Content {
    /// The key copies are saved under: a SHA-256 of the content, in hex.
    pub fn key(&self) -> String {
        let bytes = serde_json::to_vec(self).unwrap_or_default();
        Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    fn seed_part(&self, name: &str) -> Option<&str> {
        self.seed
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Why a reset with this content cannot use a copy of `old`: the first difference, in one
    /// clause ("migration 20240101000000_create_users changed").
    pub fn change_since(&self, old: &Content) -> String {
        if self.backend != old.backend
            || self.ledger != old.ledger
            || self.database_schema != old.database_schema
        {
            return "the ledger or schema settings changed".to_owned();
        }
        for (new, was) in self.migrations.iter().zip(&old.migrations) {
            if new.0 != was.0 {
                return format!("migration {} was added or removed before {}", new.0, was.0);
            }
            if new.1 != was.1 {
                return format!("migration {} changed", new.0);
            }
        }
        if let Some(added) = self.migrations.get(old.migrations.len()) {
            return format!("migration {} was added", added.0);
        }
        if let Some(removed) = old.migrations.get(self.migrations.len()) {
            return format!("migration {} was removed", removed.0);
        }
        if self.build != old.build {
            return "the migrate binary was rebuilt, and a migration's SQL depends on the data it reads"
                .to_owned();
        }
        for (name, value) in &self.seed {
            match old.seed_part(name) {
                Some(was) if was == value => {}
                Some(was) => return format!("the seed's {name} changed ({was} -> {value})"),
                None => return format!("the seed's {name} is new ({value})"),
            }
        }
        "the seeding changed".to_owned()
    }
}

/// What a copy's description holds: its content, when it was made, and what the seeding
/// printed then, shown again by a reset served from it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Meta {
    /// What the copy holds.
    pub content: Content,
    /// When it was made.
    pub built_at: DateTime<Utc>,
    /// How many migrations were applied to make it.
    pub applied: usize,
    /// What the seeding printed, as text.
    pub seed_text: String,
    /// What the seeding printed, as JSON.
    pub seed_json: serde_json::Value,
}

impl Meta {
    /// The seeding's output, as it was when the copy was made.
    pub fn seed_output(&self) -> AfterFreshOutput {
        AfterFreshOutput {
            text: self.seed_text.clone(),
            json: self.seed_json.clone(),
        }
    }
}

/// One cached copy with its description read back.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The copy.
    pub copy: CachedCopy,
    /// Its description, when it could be read.
    pub meta: Option<Meta>,
}

/// The cached copies of one target, open for one command: see the [module docs](self).
#[derive(Debug)]
pub struct ResetCache {
    store: Store,
}

impl ResetCache {
    /// The cache of `target`; `None` where its backend keeps none (MySQL/MariaDB, an in-memory
    /// SQLite database). On PostgreSQL this waits for any other reset of the same database to
    /// finish first, and holds it off until [`ResetCache::close`]: open it before connecting to
    /// the target, as a reset may drop the database under the connections it ends.
    ///
    /// # Errors
    /// [`crate::EngineError::Connect`] when the server's maintenance database cannot be reached;
    /// [`crate::EngineError::ResetCache`] when another reset holds it off too long.
    pub async fn open(target: &Target, timeout: Duration) -> Result<Option<Self>> {
        Ok(Store::open(target, timeout)
            .await?
            .map(|store| Self { store }))
    }

    /// Removes what earlier resets of `target` replaced and left to remove (see
    /// [`Store::sweep`]) without waiting for a reset running now; returns the names removed.
    ///
    /// # Errors
    /// As [`ResetCache::open`], and a database error while removing.
    pub async fn sweep(target: &Target, timeout: Duration) -> Result<Vec<String>> {
        let Some(store) = Store::open_locked(target, timeout, false).await? else {
            return Ok(Vec::new());
        };
        let swept = store.sweep(false).await;
        store.close().await;
        swept
    }

    /// Whether a reset from this cache leaves something for [`ResetCache::sweep`] to remove.
    pub fn leaves_sweeping(&self) -> bool {
        self.store.replaces_database()
    }

    pub(crate) fn store(&self) -> &Store {
        &self.store
    }

    /// The target's copies with their descriptions, newest first.
    ///
    /// # Errors
    /// A database or file error while listing.
    pub async fn entries(&self) -> Result<Vec<Entry>> {
        Ok(self
            .store
            .list()
            .await?
            .into_iter()
            .map(|copy| Entry {
                meta: serde_json::from_str(&copy.meta).ok(),
                copy,
            })
            .collect())
    }

    /// Removes every copy of the target, and returns what it removed.
    ///
    /// # Errors
    /// A database or file error while removing; what was removed before it stays removed.
    pub async fn clear(&self) -> Result<Vec<String>> {
        let copies = self.store.list().await?;
        for copy in &copies {
            self.store.remove(copy).await?;
        }
        let mut removed: Vec<String> = copies.into_iter().map(|c| c.name).collect();
        removed.extend(self.store.sweep(true).await?);
        Ok(removed)
    }

    /// Closes the cache, letting the next reset of the target go.
    pub async fn close(self) {
        self.store.close().await;
    }
}

/// The content a reset of `engine`'s set on `database_schema`, seeded by `step` with `request`,
/// leaves; `None` when the step cannot say what decides its rows, so its result is never cached.
pub(crate) async fn content_of(
    engine: &Engine<'_>,
    database_schema: Option<&str>,
    step: &dyn AfterFresh,
    request: &SeedRequest,
) -> Option<Content> {
    let seed = step.content(request)?;
    let code = engine.code_migrations().await;
    let mut migrations: Vec<(String, String)> = code
        .iter()
        .map(|c| (format!("{}_{}", c.version, c.name), c.checksum.clone()))
        .collect();
    let mut squashes: Vec<(String, String)> =
        code.iter().filter_map(|c| c.squash.clone()).collect();
    squashes.dedup();
    migrations.extend(squashes);
    let build = code
        .iter()
        .any(|c| c.render_stop.is_some())
        .then(binary_identity);
    let ledger = engine.ledger();
    Some(Content {
        backend: crate::backend::name(ledger.backend()).to_owned(),
        ledger: match ledger.schema() {
            Some(schema) => format!("{schema}.{}", ledger.table_name()),
            None => ledger.table_name().to_owned(),
        },
        database_schema: database_schema.map(str::to_owned),
        migrations,
        build,
        seed,
    })
}

/// The running binary as its size and modification time: it changes with every rebuild.
fn binary_identity() -> String {
    std::env::current_exe()
        .and_then(std::fs::metadata)
        .map(|m| {
            let modified = m
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map(|d| d.as_nanos())
                .unwrap_or_default();
            format!("{} bytes, modified {modified}", m.len())
        })
        .unwrap_or_else(|e| format!("unknown ({e})"))
}

/// Which of `entries` a reset with `content` uses, or why none fits: the copy under its key,
/// else the change since the newest copy of the same seed profile (or any copy).
pub(crate) fn choose<'e>(
    entries: &'e [Entry],
    content: &Content,
) -> std::result::Result<&'e Entry, String> {
    let key = content.key();
    if let Some(entry) = entries
        .iter()
        .find(|e| e.copy.key == key && e.meta.is_some())
    {
        return Ok(entry);
    }
    let profile = content.seed_part("profile");
    let described = entries.iter().filter_map(|e| e.meta.as_ref());
    let old = described
        .clone()
        .find(|m| m.content.seed_part("profile") == profile)
        .or_else(|| described.clone().next());
    Err(match old {
        Some(old) => content.change_since(&old.content),
        None => "no cached copy yet".to_owned(),
    })
}

/// The copies a new copy for `content` replaces: those of the same seed profile.
pub(crate) fn replaced_by<'e>(entries: &'e [Entry], content: &Content) -> Vec<&'e CachedCopy> {
    let key = content.key();
    let profile = content.seed_part("profile");
    entries
        .iter()
        .filter(|e| e.copy.key != key)
        .filter(|e| {
            e.meta
                .as_ref()
                .is_none_or(|m| m.content.seed_part("profile") == profile)
        })
        .map(|e| &e.copy)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn content() -> Content {
        Content {
            backend: "sqlite".to_owned(),
            ledger: "schema_migrations".to_owned(),
            database_schema: None,
            migrations: vec![
                ("20240101000000_users".to_owned(), "aaa".to_owned()),
                ("20240102000000_posts".to_owned(), "bbb".to_owned()),
            ],
            build: None,
            seed: vec![
                ("profile".to_owned(), "demo".to_owned()),
                ("today".to_owned(), "2026-12-01".to_owned()),
            ],
        }
    }

    #[test]
    fn the_key_changes_with_anything_that_decides_the_content() {
        let base = content();
        let mut changed = base.clone();
        changed.migrations[1].1 = "ccc".to_owned();
        assert_ne!(base.key(), changed.key());
        let mut reseeded = base.clone();
        reseeded.seed[1].1 = "2026-12-02".to_owned();
        assert_ne!(base.key(), reseeded.key());
        assert_eq!(base.key(), content().key());
    }

    #[test]
    fn a_rebuild_names_the_first_difference() {
        let old = content();
        let mut new = old.clone();
        new.migrations[1].1 = "ccc".to_owned();
        assert_eq!(
            new.change_since(&old),
            "migration 20240102000000_posts changed"
        );
        let mut added = old.clone();
        added
            .migrations
            .push(("20240103000000_tags".to_owned(), "ddd".to_owned()));
        assert_eq!(
            added.change_since(&old),
            "migration 20240103000000_tags was added"
        );
        let mut profile = old.clone();
        profile.seed[0].1 = "minimal".to_owned();
        assert_eq!(
            profile.change_since(&old),
            "the seed's profile changed (demo -> minimal)"
        );
    }

    fn entry(content: Content) -> Entry {
        let meta = Meta {
            built_at: Utc::now(),
            applied: content.migrations.len(),
            seed_text: String::new(),
            seed_json: serde_json::Value::Null,
            content: content.clone(),
        };
        Entry {
            copy: CachedCopy {
                name: format!("copy-{}", &content.key()[..8]),
                key: content.key(),
                meta: serde_json::to_string(&meta).unwrap_or_default(),
                bytes: 1,
            },
            meta: Some(meta),
        }
    }

    #[test]
    fn a_reset_uses_the_copy_of_its_key_and_replaces_only_its_profiles_copies() {
        let demo = content();
        let mut minimal = content();
        minimal.seed[0].1 = "minimal".to_owned();
        let mut old_demo = content();
        old_demo.migrations[0].1 = "old".to_owned();
        let entries = vec![entry(minimal.clone()), entry(old_demo.clone())];
        assert_eq!(
            choose(&entries, &demo).map(|e| e.copy.key.clone()),
            Err("migration 20240101000000_users changed".to_owned())
        );
        let replaced: Vec<String> = replaced_by(&entries, &demo)
            .iter()
            .map(|c| c.key.clone())
            .collect();
        assert_eq!(replaced, vec![old_demo.key()]);
        let entries = vec![entry(minimal), entry(demo.clone())];
        assert_eq!(
            choose(&entries, &demo).map(|e| e.copy.key.clone()),
            Ok(demo.key())
        );
        assert_eq!(
            choose(&[], &demo).map(|e| e.copy.key.clone()),
            Err("no cached copy yet".to_owned())
        );
    }
}
