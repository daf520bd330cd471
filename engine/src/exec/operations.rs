//! What changes a database, as library operations run in a [`Session`]: `up`, `down`, `redo`,
//! `reset`, `refresh`, `fresh` (and what runs after it, such as seeding), `repair`, `adopt` and
//! `baseline`.
//!
//! Each operation knows whether it is destructive ([`Operation::destructive`]). A destructive
//! one first asks the session's guard, then, once it knows what it will destroy and before it
//! destroys anything, calls every [`BeforeDestructive`] hook: the command line's confirmation
//! plugs in there, and so would a backup. `fresh` may be followed by an [`AfterFresh`] step in
//! the same session, under the same lock: the project's seeder plugs in there.
//!
//! Without hooks an operation asks nobody: a library caller that calls `reset` means it. Only
//! reverting migrations that are no longer in the code needs an explicit yes, from
//! [`RunOptions::confirmed_missing`] or a hook ([`BeforeDestructive::revert_missing`]).

use std::sync::Arc;
use std::time::{Duration, Instant};

use tracing::info;

use super::report::{RepairReport, RunReport, Script};
use super::reset_cache::{self, Content, Meta, ResetCache};
use super::session::{Session, SessionOptions, WithRelease};
use super::{BaselineReport, Engine, RepairAction, RunOptions};
use crate::backend::lock::Holder;
use crate::backend::target::Target;
use crate::backend::wipe::Listing;
use crate::error::{EngineError, Result};
use crate::model::deps::DependencyGraph;
use crate::model::releases::Releases;
use crate::model::set::MigrationSet;
use crate::plan::{DownTarget, State, UpTarget};

/// An operation that changes a database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// Apply pending migrations.
    Up,
    /// Revert applied migrations.
    Down,
    /// Revert the last migrations and apply them again.
    Redo,
    /// Revert every migration.
    Reset,
    /// Revert every migration, then apply every migration.
    Refresh,
    /// Drop every object, then apply every migration.
    Fresh,
    /// Rewrite ledger rows.
    Repair,
    /// Carry `seaql_migrations` over into the ledger.
    Adopt,
    /// Record migrations as applied without running them.
    Baseline,
    /// Replace everything with what a backup holds.
    Restore,
    /// Take a backup.
    Backup,
}

impl Operation {
    /// The command that runs it.
    pub fn name(self) -> &'static str {
        match self {
            Operation::Up => "up",
            Operation::Down => "down",
            Operation::Redo => "redo",
            Operation::Reset => "reset",
            Operation::Refresh => "refresh",
            Operation::Fresh => "fresh",
            Operation::Repair => "repair",
            Operation::Adopt => "adopt",
            Operation::Baseline => "baseline",
            Operation::Restore => "restore",
            Operation::Backup => "backup",
        }
    }

    /// What a destructive operation does, as the guard's refusal words it ("refusing to revert
    /// every migration on ..."); `None` for the others.
    ///
    /// `baseline` is not destructive: it changes no schema and no data, starts a ledger only
    /// where there is none, and exists to bring existing (often production) databases under
    /// the ledger; the command line asks before it instead.
    pub fn destructive(self) -> Option<&'static str> {
        match self {
            Operation::Down => Some("revert migrations"),
            Operation::Reset => Some("revert every migration"),
            Operation::Refresh => Some("revert and re-apply every migration"),
            Operation::Fresh => Some("drop every object and re-apply every migration"),
            Operation::Redo => Some("revert and re-apply migrations"),
            Operation::Repair => Some("rewrite the ledger"),
            Operation::Restore => Some("drop every object and restore a backup"),
            Operation::Up | Operation::Adopt | Operation::Baseline | Operation::Backup => None,
        }
    }
}

/// What a person should agree to before a destructive operation goes on.
#[derive(Debug, Clone, Copy)]
pub struct Confirmation<'x> {
    /// What happens, as a clause: "reverts 3 migration(s); the schema will be empty".
    pub effect: &'x str,
    /// What to show before asking, one item a line (the objects `fresh` drops); may be empty.
    pub details: &'x str,
}

/// A destructive operation about to destroy something.
#[derive(Debug, Clone, Copy)]
pub struct Destruction<'x> {
    /// The operation.
    pub operation: Operation,
    /// What a person should agree to, when the operation is one that asks: reverting everything,
    /// dropping objects. `None` for a partial revert or a ledger repair, which change what the
    /// command names and nothing more.
    pub confirm: Option<Confirmation<'x>>,
}

/// Runs before a destructive operation destroys anything, once the session's guard allowed it.
#[async_trait::async_trait]
pub trait BeforeDestructive: Send + Sync {
    /// Called once the operation knows what it will destroy, right before it does: a
    /// confirmation asks here, a backup is taken here.
    ///
    /// # Errors
    /// Any error stops the operation before it changed anything, and is what it ends with.
    async fn destroying(&self, session: &Session, destruction: &Destruction<'_>) -> Result<()>;

    /// Called when a revert would run, from their stored SQL (`script`), migrations that are no
    /// longer in the code (`versions`), which nothing approved yet. `Ok(true)` approves; the
    /// default, `Ok(false)`, leaves the decision to other hooks, and without an approval the
    /// operation ends with [`EngineError::MissingNeedsConfirmation`].
    ///
    /// # Errors
    /// Any error stops the operation with nothing reverted.
    async fn revert_missing(
        &self,
        session: &Session,
        versions: &[String],
        script: &Script,
    ) -> Result<bool> {
        let _ = (session, versions, script);
        Ok(false)
    }
}

/// What a step after `fresh` printed, for the command line to show.
#[derive(Debug, Clone)]
pub struct AfterFreshOutput {
    /// As text.
    pub text: String,
    /// As a JSON document.
    pub json: serde_json::Value,
}

/// What `fresh --seed PROFILE [--random-seed N] [--today DATE]` asks of the step after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedRequest {
    /// The profile to seed, e.g. `demo`.
    pub profile: String,
    /// The random generator's seed, when not the step's default.
    pub seed: Option<u64>,
    /// The day the data is generated around, when not today.
    pub today: Option<chrono::NaiveDate>,
}

impl SeedRequest {
    /// `profile` with the step's defaults for the rest.
    pub fn profile(profile: impl Into<String>) -> Self {
        Self {
            profile: profile.into(),
            seed: None,
            today: None,
        }
    }
}

/// A step run after `fresh` rebuilt the schema, in the same session, so no other runner gets in
/// between the rebuild and it: the project's seeder, for `fresh --seed PROFILE`.
#[async_trait::async_trait]
pub trait AfterFresh: Send + Sync {
    /// Checks `request` before `fresh` touches anything.
    ///
    /// # Errors
    /// [`EngineError::Config`] for a request the step cannot carry out.
    fn check(&self, request: &SeedRequest) -> Result<()>;

    /// What the step will do, as a clause for the confirmation: "seeds `demo`".
    fn effect(&self, request: &SeedRequest) -> String;

    /// What the step did, for the log: "seeded `demo`".
    fn done(&self, request: &SeedRequest) -> String;

    /// Everything that decides the rows the step writes for `request`, by name (its profile,
    /// its random seed, its date, its own version), when nothing else does: the reset cache
    /// keys its copies on these ([`super::reset_cache`]). `None`, the default, for a step
    /// whose rows depend on anything else; its result is then never cached.
    fn content(&self, request: &SeedRequest) -> Option<Vec<(String, String)>> {
        let _ = request;
        None
    }

    /// Runs the step on `session` once `fresh` dropped every object and applied every
    /// migration of `set`, as `fresh` reports.
    ///
    /// # Errors
    /// What the step fails with; `fresh` ends with it, the schema rebuilt.
    async fn run(
        &self,
        session: &Session,
        set: &MigrationSet,
        request: &SeedRequest,
        fresh: &FreshReport,
    ) -> Result<AfterFreshOutput>;
}

/// The hooks operations call.
#[derive(Clone, Default)]
pub struct Hooks {
    before_destructive: Vec<Arc<dyn BeforeDestructive>>,
    after_fresh: Option<Arc<dyn AfterFresh>>,
}

impl std::fmt::Debug for Hooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hooks")
            .field("before_destructive", &self.before_destructive.len())
            .field("after_fresh", &self.after_fresh.is_some())
            .finish()
    }
}

impl Hooks {
    /// No hooks.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `hook` before every destructive operation, after those added before it.
    #[must_use]
    pub fn before_destructive(mut self, hook: Arc<dyn BeforeDestructive>) -> Self {
        self.before_destructive.push(hook);
        self
    }

    /// Adds `hook` before every destructive operation, ahead of those added so far: for a
    /// confirmation, which should come before any hook that does work (a backup), so nothing is
    /// done for an operation that is declined.
    #[must_use]
    pub fn before_destructive_first(mut self, hook: Arc<dyn BeforeDestructive>) -> Self {
        self.before_destructive.insert(0, hook);
        self
    }

    /// Runs `hook` after `fresh` when `fresh` is asked to, in place of any earlier one.
    #[must_use]
    pub fn after_fresh(mut self, hook: Arc<dyn AfterFresh>) -> Self {
        self.after_fresh = Some(hook);
        self
    }

    /// The step run after `fresh`, if there is one.
    pub fn after_fresh_step(&self) -> Option<&Arc<dyn AfterFresh>> {
        self.after_fresh.as_ref()
    }

    /// Checks that `fresh` can run `request` after itself: that there is a step, and that it
    /// accepts `request`. The command line calls it before connecting.
    ///
    /// # Errors
    /// [`EngineError::Config`] when no step is registered or it refuses `request`.
    pub fn check_after_fresh(&self, request: &SeedRequest) -> Result<&Arc<dyn AfterFresh>> {
        let step = self
            .after_fresh
            .as_ref()
            .ok_or_else(|| EngineError::Config {
                message: "`fresh --seed` needs a seeder and this `migrate` has none: build the \
                      migration crate with its `seeds` feature (on by default: \
                      `cargo build -p migration`)"
                    .to_owned(),
            })?;
        step.check(request)?;
        Ok(step)
    }
}

/// What `fresh` did.
#[derive(Debug, Clone)]
pub struct FreshReport {
    /// The objects it dropped.
    pub dropped: Listing,
    /// The migrations it applied.
    pub applied: RunReport,
    /// What the step after it printed, when one ran (or, served from the reset cache, what it
    /// printed when the copy was made).
    pub after: Option<AfterFreshOutput>,
    /// How the reset cache served it, when it was asked to.
    pub cache: Option<CacheUse>,
}

/// How `fresh --seed` used the reset cache ([`super::reset_cache`]).
#[derive(Debug, Clone, serde::Serialize)]
pub struct CacheUse {
    /// `copied`: reset by copying a cached copy; `rebuilt`: rebuilt the ordinary way (then
    /// saved as a copy, unless `saved` is empty).
    pub outcome: &'static str,
    /// The copy used or saved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub copy: Option<String>,
    /// When the copy used was made.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub built_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Why the database was rebuilt rather than copied.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Why the rebuilt database could not be saved as a copy, when it could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_saved: Option<String>,
    /// How long the copy, or the rebuild, took.
    pub duration_ms: u64,
}

impl CacheUse {
    /// A rebuild that neither used nor saved a copy, for `reason`.
    pub fn uncached(reason: impl Into<String>) -> Self {
        Self {
            outcome: "rebuilt",
            copy: None,
            built_at: None,
            reason: Some(reason.into()),
            not_saved: None,
            duration_ms: 0,
        }
    }
}

/// What `restore` did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RestoreReport {
    /// The backup restored.
    pub file: String,
    /// What was dropped first.
    pub dropped: Listing,
    /// How long dropping and restoring took.
    pub duration_ms: u64,
}

/// The operations of one migration set on one session's target. Reads (status, history,
/// dry-runs) are the [`Engine`]'s, reached through [`Operations::engine`] or `Deref`.
pub struct Operations<'a> {
    session: Session,
    engine: Engine<'a>,
    set: &'a MigrationSet,
    hooks: Hooks,
    cache: Option<&'a ResetCache>,
}

impl std::fmt::Debug for Operations<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Operations")
            .field("session", &self.session)
            .field("migrations", &self.set.len())
            .field("hooks", &self.hooks)
            .finish_non_exhaustive()
    }
}

impl<'a> std::ops::Deref for Operations<'a> {
    type Target = Engine<'a>;

    fn deref(&self) -> &Engine<'a> {
        &self.engine
    }
}

impl<'a> Operations<'a> {
    /// The operations of `set` in `session`, on its connection and ledger, without hooks.
    pub fn new(session: Session, set: &'a MigrationSet) -> Self {
        let mut engine = Engine::new(session.connection().clone(), set, session.ledger().clone());
        engine.ladder = session.ladder();
        engine.runner = session.runner().map(str::to_owned);
        Self {
            session,
            engine,
            set,
            hooks: Hooks::default(),
            cache: None,
        }
    }

    /// Opens a session on `engine`'s connection to `target` (see [`Session::on_connection`])
    /// and makes `engine` its operations: for a caller that read the ledger through `engine`
    /// before deciding to change anything, so what the engine read and rendered is kept.
    ///
    /// # Errors
    /// As [`Session::on_connection`].
    pub async fn on_engine(
        engine: Engine<'a>,
        target: &Target,
        options: &SessionOptions,
        waiting: impl FnMut(&Holder),
    ) -> Result<Self> {
        let session = Session::on_ledger(
            engine.connection().clone(),
            engine.ledger().clone(),
            target,
            options,
            waiting,
        )
        .await?;
        let mut engine = engine;
        engine.ladder = session.ladder();
        engine.runner = session.runner().map(str::to_owned);
        Ok(Self {
            session,
            set: engine.set(),
            engine,
            hooks: Hooks::default(),
            cache: None,
        })
    }

    /// Checks plan runs and rollbacks against `graph` (see [`Engine::with_dependencies`]).
    #[must_use]
    pub fn with_dependencies(mut self, graph: &'a DependencyGraph) -> Self {
        self.engine = self.engine.with_dependencies(graph);
        self
    }

    /// Records the release of each migration (see [`Engine::with_releases`]).
    #[must_use]
    pub fn with_releases(mut self, releases: &'a Releases) -> Self {
        self.engine = self.engine.with_releases(releases);
        self
    }

    /// Never applies through a consolidated migration (see [`Engine::without_squashes`]).
    #[must_use]
    pub fn without_squashes(mut self) -> Self {
        self.engine = self.engine.without_squashes();
        self
    }

    /// Records `environment` instead of `APP_ENV` (see [`Engine::with_environment`]).
    #[must_use]
    pub fn with_environment(mut self, environment: impl Into<String>) -> Self {
        self.engine = self.engine.with_environment(environment);
        self
    }

    /// Calls `hooks` around destructive operations and after `fresh`.
    #[must_use]
    pub fn with_hooks(mut self, hooks: Hooks) -> Self {
        self.hooks = hooks;
        self
    }

    /// Serves `fresh` with a seeding step from `cache` and saves what it rebuilds there (see
    /// [`super::reset_cache`]). Open `cache` before the session: see [`ResetCache::open`].
    #[must_use]
    pub fn with_reset_cache(mut self, cache: &'a ResetCache) -> Self {
        self.cache = Some(cache);
        self
    }

    /// The session the operations run in.
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// The engine, for reads.
    pub fn engine(&self) -> &Engine<'a> {
        &self.engine
    }

    /// Releases the session (see [`Session::release`]).
    ///
    /// # Errors
    /// As [`Session::release`].
    pub async fn release(self) -> Result<()> {
        self.session.release().await
    }

    /// Releases the session after work that ended with `outcome` (see [`Session::close`]).
    ///
    /// # Errors
    /// As [`Session::close`].
    pub async fn close<T, E: WithRelease>(
        self,
        outcome: std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        self.session.close(outcome).await
    }

    /// Applies pending migrations up to `target`. Not destructive.
    ///
    /// # Errors
    /// The refusals and failures of [`Engine::dry_run_up`]'s checks, and
    /// [`EngineError::MigrationFailed`] with what was applied before it.
    pub async fn up(&self, target: &UpTarget, options: &RunOptions) -> Result<RunReport> {
        self.engine.up(target, options).await
    }

    /// Reverts applied migrations down to `target`. Destructive: asks to confirm when it would
    /// leave nothing applied (anything but a number of steps can).
    ///
    /// # Errors
    /// [`EngineError::Guarded`]; a hook's refusal; the refusals and failures of the revert.
    pub async fn down(&self, target: &DownTarget, options: &RunOptions) -> Result<RunReport> {
        self.allowed(Operation::Down).await?;
        let mut effect = None;
        if !matches!(target, DownTarget::Steps(_)) && self.confirms() {
            let n = self.applied_count().await?;
            if n > 0 && self.engine.planned_down(target).await?.len() >= n {
                effect = Some(format!(
                    "reverts {n} migration(s); the schema will be empty"
                ));
            }
        }
        self.destroying(Operation::Down, effect.as_deref(), "")
            .await?;
        self.revert(target, options).await
    }

    /// Reverts the last `steps` migrations and applies them again. Destructive.
    ///
    /// # Errors
    /// As [`Operations::down`] and [`Operations::up`].
    pub async fn redo(&self, steps: u32, options: &RunOptions) -> Result<RunReport> {
        self.allowed(Operation::Redo).await?;
        self.destroying(Operation::Redo, None, "").await?;
        let mut report = self.revert(&DownTarget::Steps(steps), options).await?;
        // A run applied through a consolidated migration is reverted whole, so apply again as
        // many migrations as went, not as many steps as were asked for.
        let reverted: usize = report.steps.iter().map(|s| s.migrations()).sum();
        let again = UpTarget {
            steps: Some(u32::try_from(reverted).unwrap_or(u32::MAX)),
            ..UpTarget::default()
        };
        report.extend(self.engine.up(&again, options).await?);
        Ok(report)
    }

    /// Reverts every migration. Destructive.
    ///
    /// # Errors
    /// As [`Operations::down`].
    pub async fn reset(&self, options: &RunOptions) -> Result<RunReport> {
        self.allowed(Operation::Reset).await?;
        let effect = self
            .when_applied(|n| format!("reverts {n} migration(s); the schema will be empty"))
            .await?;
        self.destroying(Operation::Reset, effect.as_deref(), "")
            .await?;
        self.revert(&DownTarget::All, options).await
    }

    /// Reverts every migration, then applies every migration. Destructive.
    ///
    /// # Errors
    /// As [`Operations::down`] and [`Operations::up`].
    pub async fn refresh(&self, options: &RunOptions) -> Result<RunReport> {
        self.allowed(Operation::Refresh).await?;
        let effect = self
            .when_applied(|n| format!("reverts {n} migration(s), then applies every migration"))
            .await?;
        self.destroying(Operation::Refresh, effect.as_deref(), "")
            .await?;
        let mut report = self.revert(&DownTarget::All, options).await?;
        report.extend(self.engine.up(&UpTarget::default(), options).await?);
        Ok(report)
    }

    /// Drops every object in the schema, applies every migration, then runs the step after
    /// `fresh` with `then` when given (`fresh --seed PROFILE`). Destructive: asks to confirm
    /// when there is anything to drop, listing it.
    ///
    /// With a reset cache ([`Operations::with_reset_cache`]) and a step that says what decides
    /// its rows, a copy saved under the same key is copied back instead of rebuilding, and a
    /// rebuild is saved as the copy for the next reset. On PostgreSQL both end every other
    /// session connected to the database, and this session's connection with them.
    ///
    /// # Errors
    /// [`EngineError::Config`] when `then` is given and no step is registered or it refuses
    /// `then` (before anything is dropped); [`EngineError::Guarded`]; a hook's refusal; what
    /// dropping, applying, the step or copying back fails with.
    pub async fn fresh(
        &self,
        options: &RunOptions,
        then: Option<&SeedRequest>,
    ) -> Result<FreshReport> {
        self.allowed(Operation::Fresh).await?;
        let after = then
            .map(|request| Ok::<_, EngineError>((self.hooks.check_after_fresh(request)?, request)))
            .transpose()?;
        let content = match (self.cache, &after) {
            (Some(_), Some((step, request))) => {
                let schema = self
                    .session
                    .target()
                    .and_then(|t| t.database_schema.as_deref());
                reset_cache::content_of(&self.engine, schema, step.as_ref(), request).await
            }
            _ => None,
        };
        let cache = self.cache.filter(|_| content.is_some());
        let listing = self.engine.fresh_listing().await?;
        let (mut effect, mut details) = (None, String::new());
        if !listing.is_empty() {
            let then = match &after {
                Some((step, request)) => format!(", then {}", step.effect(request)),
                None => String::new(),
            };
            let ends = if cache.is_some_and(|c| c.store().replaces_database()) {
                "; every other session connected to the database is ended"
            } else {
                ""
            };
            details = format!(
                "fresh drops these {} object(s) from {}:\n{listing}",
                listing.len(),
                self.session.redacted()
            );
            effect = Some(format!(
                "drops {}, and applies every migration{then}{ends}",
                listing.summary()
            ));
        }
        self.destroying(Operation::Fresh, effect.as_deref(), &details)
            .await?;
        let (cache, content) = match (cache, content) {
            (Some(cache), Some(content)) => (cache, content),
            _ => {
                let uncacheable = self.cache.is_some() && after.is_some();
                let mut report = self.rebuild(listing, options, after).await?;
                if uncacheable {
                    report.cache = Some(CacheUse::uncached(
                        "the step after fresh does not say what decides its rows",
                    ));
                }
                return Ok(report);
            }
        };
        let beyond = cache
            .store()
            .replaced_beyond(self.session.connection(), &listing)
            .await?;
        if !beyond.is_empty() {
            let mut report = self.rebuild(listing, options, after).await?;
            report.cache = Some(CacheUse::uncached(format!(
                "schema {} holds objects that fresh keeps and a copy of the database would replace",
                beyond.join(", ")
            )));
            return Ok(report);
        }
        let entries = cache.entries().await?;
        let reason = match reset_cache::choose(&entries, &content) {
            Ok(entry) => return self.copy_back(cache, entry, listing).await,
            Err(reason) => reason,
        };
        info!("rebuilding: {reason}");
        let started = Instant::now();
        let mut report = self.rebuild(listing, options, after).await?;
        let duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let saved = self.save_copy(cache, &entries, &content, &report).await;
        report.cache = Some(CacheUse {
            outcome: "rebuilt",
            copy: saved.as_ref().ok().cloned(),
            built_at: None,
            reason: Some(reason),
            not_saved: saved.err().map(|e| e.to_string()),
            duration_ms,
        });
        Ok(report)
    }

    /// `fresh` the ordinary way: drop everything in `listing`, apply every migration, run the
    /// step after it.
    async fn rebuild(
        &self,
        listing: Listing,
        options: &RunOptions,
        after: Option<(&Arc<dyn AfterFresh>, &SeedRequest)>,
    ) -> Result<FreshReport> {
        let started = Instant::now();
        let dropped = self.engine.drop_all(&listing).await?;
        info!(
            "dropped {} object(s) in {:.2} s",
            dropped.len(),
            started.elapsed().as_secs_f64()
        );
        let started = Instant::now();
        let applied = self.engine.up(&UpTarget::default(), options).await?;
        info!(
            "applied {} migration(s) in {:.2} s",
            applied.steps.len(),
            started.elapsed().as_secs_f64()
        );
        let mut report = FreshReport {
            dropped: listing,
            applied,
            after: None,
            cache: None,
        };
        if let Some((step, request)) = after {
            let started = Instant::now();
            let output = step.run(&self.session, self.set, request, &report).await?;
            info!(
                "{} in {:.2} s",
                step.done(request),
                started.elapsed().as_secs_f64()
            );
            report.after = Some(output);
        }
        Ok(report)
    }

    /// Makes the database what `entry`'s copy holds, records that in its history, and reports
    /// it as `fresh` would have, with what the seeding printed when the copy was made.
    async fn copy_back(
        &self,
        cache: &ResetCache,
        entry: &reset_cache::Entry,
        listing: Listing,
    ) -> Result<FreshReport> {
        let started = Instant::now();
        let store = cache.store();
        if store.replaces_database() {
            self.session.database_replaced().await;
        }
        store
            .copy_into(&entry.copy, self.session.connection())
            .await?;
        let duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let reason = format!("reset from the cached copy {}", entry.copy.name);
        if store.replaces_database() {
            if let Some(target) = self.session.target() {
                let conn = target.connect(Duration::from_secs(10)).await?;
                let recorded = super::backup::record_restored(
                    &conn,
                    self.session.ledger(),
                    duration_ms,
                    reason,
                )
                .await;
                let _ = conn.close().await;
                recorded?;
            }
        } else {
            super::backup::record_restored(
                self.session.connection(),
                self.session.ledger(),
                duration_ms,
                reason,
            )
            .await?;
        }
        info!(
            "copied {} back in {:.2} s",
            entry.copy.name,
            started.elapsed().as_secs_f64()
        );
        let meta = entry.meta.as_ref();
        Ok(FreshReport {
            dropped: listing,
            applied: RunReport::default(),
            after: meta.map(Meta::seed_output),
            cache: Some(CacheUse {
                outcome: "copied",
                copy: Some(entry.copy.name.clone()),
                built_at: meta.map(|m| m.built_at),
                reason: None,
                not_saved: None,
                duration_ms,
            }),
        })
    }

    /// Saves the database just rebuilt for `content` as its copy, in place of the copies it
    /// replaces (see [`reset_cache::replaced_by`]), and returns the copy's name.
    async fn save_copy(
        &self,
        cache: &ResetCache,
        entries: &[reset_cache::Entry],
        content: &Content,
        report: &FreshReport,
    ) -> Result<String> {
        let seeded = report.after.clone().unwrap_or(AfterFreshOutput {
            text: String::new(),
            json: serde_json::Value::Null,
        });
        let meta = Meta {
            content: content.clone(),
            built_at: chrono::Utc::now(),
            applied: report.applied.steps.len(),
            seed_text: seeded.text,
            seed_json: seeded.json,
        };
        let meta = serde_json::to_string(&meta).map_err(|e| EngineError::ResetCache {
            message: format!("cannot describe the copy: {e}"),
        })?;
        let store = cache.store();
        if store.replaces_database() {
            self.session.database_replaced().await;
        }
        let copy = store
            .save(self.session.connection(), &content.key(), &meta)
            .await?;
        for old in reset_cache::replaced_by(entries, content) {
            if old.name != copy.name {
                store.remove(old).await?;
            }
        }
        info!(
            "saved {} ({} bytes) for the next reset",
            copy.name, copy.bytes
        );
        Ok(copy.name)
    }

    /// Replaces everything in the schema with what the backup at `file` holds: drops every
    /// object, as `fresh` does, then restores the backup, and records the restore in the
    /// history the backup brought back. Destructive: asks to confirm, listing what it drops.
    ///
    /// # Errors
    /// [`EngineError::Guarded`]; a hook's refusal; [`EngineError::Backup`] when the file is
    /// missing or the restore fails (after the drop: the schema is then as far as the restore
    /// got, and the backup file is still there to try again).
    pub async fn restore(&self, file: &std::path::Path) -> Result<RestoreReport> {
        self.allowed(Operation::Restore).await?;
        if !file.is_file() {
            return Err(EngineError::Backup {
                message: format!(
                    "no backup at {}: `migrate backups` lists them",
                    file.display()
                ),
            });
        }
        let target = self.session.target().ok_or_else(|| EngineError::Backup {
            message: "this session has no database URL to restore into".to_owned(),
        })?;
        let listing = self.engine.fresh_listing().await?;
        let details = if listing.is_empty() {
            String::new()
        } else {
            format!(
                "restore drops these {} object(s) from {}:\n{listing}",
                listing.len(),
                self.session.redacted()
            )
        };
        let effect = format!(
            "drops {}, and restores {}",
            listing.summary(),
            file.display()
        );
        self.destroying(Operation::Restore, Some(&effect), &details)
            .await?;
        let started = Instant::now();
        self.engine.drop_all(&listing).await?;
        crate::backend::backup::restore(target, self.session.connection(), file).await?;
        let duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        super::backup::record_restore(&self.session, file, duration_ms).await?;
        info!(
            "restored {} in {:.2} s",
            file.display(),
            started.elapsed().as_secs_f64()
        );
        Ok(RestoreReport {
            file: file.display().to_string(),
            dropped: listing,
            duration_ms,
        })
    }

    /// Takes a backup of the session's database into `dir` now, under the session's lock, so no
    /// migration runs while it is taken; records it in the history. Not destructive.
    ///
    /// # Errors
    /// [`EngineError::Backup`] when it cannot be taken.
    pub async fn backup(
        &self,
        dir: &std::path::Path,
        command: &str,
    ) -> Result<crate::backend::backup::Manifest> {
        super::backup::take(&self.session, dir, command).await
    }

    /// Rewrites ledger rows as `action` says. Destructive.
    ///
    /// # Errors
    /// [`EngineError::Guarded`]; a hook's refusal; [`EngineError::Repair`] for a version not in
    /// the state `action` handles.
    pub async fn repair(
        &self,
        action: &RepairAction,
        options: &RunOptions,
    ) -> Result<RepairReport> {
        self.allowed(Operation::Repair).await?;
        self.destroying(Operation::Repair, None, "").await?;
        self.engine.repair(action, options).await
    }

    /// Carries `seaql_migrations` over into the ledger. Not destructive.
    ///
    /// # Errors
    /// A database error, or a `seaql_migrations` row that the code does not have.
    pub async fn adopt(&self) -> Result<RunReport> {
        self.engine.adopt().await
    }

    /// Records the migrations up to `to` (all without it) as applied without running them, on
    /// a database without a ledger. Not destructive; see [`Engine::baseline_plan`] for what it
    /// would record.
    ///
    /// # Errors
    /// [`EngineError::Baseline`] where a ledger exists or `to` is not in the code.
    pub async fn baseline(&self, to: Option<&str>, options: &RunOptions) -> Result<BaselineReport> {
        self.engine.baseline(to, options).await
    }

    /// The guard's verdict on a destructive `operation` in this session.
    async fn allowed(&self, operation: Operation) -> Result<()> {
        match operation.destructive() {
            Some(action) => self.session.guard(action).await,
            None => Ok(()),
        }
    }

    /// Whether any hook listens before destructive operations: only then are the reads that
    /// word a confirmation worth their round trips.
    fn confirms(&self) -> bool {
        !self.hooks.before_destructive.is_empty()
    }

    /// Calls every hook before `operation` destroys anything, with `effect` to confirm if any.
    async fn destroying(
        &self,
        operation: Operation,
        effect: Option<&str>,
        details: &str,
    ) -> Result<()> {
        let destruction = Destruction {
            operation,
            confirm: effect.map(|effect| Confirmation { effect, details }),
        };
        for hook in &self.hooks.before_destructive {
            hook.destroying(&self.session, &destruction).await?;
        }
        Ok(())
    }

    /// `effect(n)` when `n` migrations are applied (any state but pending), else `None`; read
    /// only when a hook would ask.
    async fn when_applied(&self, effect: impl Fn(usize) -> String) -> Result<Option<String>> {
        if !self.confirms() {
            return Ok(None);
        }
        let n = self.applied_count().await?;
        Ok((n > 0).then(|| effect(n)))
    }

    async fn applied_count(&self) -> Result<usize> {
        let status = self.engine.status().await?;
        Ok(status
            .migrations
            .iter()
            .filter(|m| m.state != State::Pending)
            .count())
    }

    /// Reverts down to `target`; a refusal to revert migrations missing from the code is put to
    /// the hooks, with the SQL that would run, and the revert runs again if one approves.
    async fn revert(&self, target: &DownTarget, options: &RunOptions) -> Result<RunReport> {
        match self.engine.down(target, options).await {
            Err(EngineError::MissingNeedsConfirmation { versions }) if self.confirms() => {
                let script = self.engine.dry_run_down(target, options).await?;
                let mut approved = false;
                for hook in &self.hooks.before_destructive {
                    approved |= hook
                        .revert_missing(&self.session, &versions, &script)
                        .await?;
                }
                if !approved {
                    return Err(EngineError::MissingNeedsConfirmation { versions });
                }
                let confirmed = RunOptions {
                    confirmed_missing: true,
                    ..options.clone()
                };
                self.engine.down(target, &confirmed).await
            }
            other => other,
        }
    }
}
