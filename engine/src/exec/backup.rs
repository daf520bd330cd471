//! Backups before destructive operations, and restores: when a backup is taken
//! ([`BackupPolicy`]), the hook that takes it ([`TakeBackup`], a [`BeforeDestructive`] hook, so
//! it runs once the guard and the confirmation allowed the operation and before anything is
//! destroyed), and the history rows that record both.

use std::path::PathBuf;
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::Utc;
use sea_orm::{ConnectionTrait, DatabaseConnection};
use tracing::info;

use super::engine::who;
use super::operations::{BeforeDestructive, Destruction};
use super::session::Session;
use crate::backend::backup::{self, DEFAULT_DIR, Manifest};
use crate::error::{EngineError, Result};
use crate::plan::applied::RowState;
use crate::store::history::{self, Action, HistoryEntry, Outcome};
use crate::store::ledger::Ledger;

/// The variable saying when destructive commands back up first.
pub const BACKUP_VAR: &str = "MIGRATION_BACKUP";

/// The variable naming the directory of backups.
pub const BACKUP_DIR_VAR: &str = "MIGRATION_BACKUP_DIR";

/// When destructive commands back up first (`MIGRATION_BACKUP`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BackupMode {
    /// Only when asked with `--backup`.
    Off,
    /// Where the guard protects the database (production, a database first migrated in
    /// production, a protected URL), which only `--force` lets a destructive command reach.
    #[default]
    Auto,
    /// Always, unless `--no-backup` says otherwise.
    Required,
}

impl BackupMode {
    /// Parses `off`, `auto` or `required`.
    ///
    /// # Errors
    /// [`EngineError::Config`] naming the accepted values.
    pub fn parse(value: &str) -> Result<Self> {
        match value.trim().to_ascii_lowercase().as_str() {
            "" | "auto" => Ok(BackupMode::Auto),
            "off" => Ok(BackupMode::Off),
            "required" => Ok(BackupMode::Required),
            other => Err(EngineError::Config {
                message: format!(
                    "{BACKUP_VAR}=`{other}` is not a backup mode: use off, auto or required"
                ),
            }),
        }
    }
}

/// Whether and where a command backs up before destroying anything.
#[derive(Debug, Clone)]
pub struct BackupPolicy {
    /// The configured mode.
    pub mode: BackupMode,
    /// `--backup` (`Some(true)`) or `--no-backup` (`Some(false)`), which win over the mode.
    pub asked: Option<bool>,
    /// Where backups go.
    pub dir: PathBuf,
}

impl BackupPolicy {
    /// The policy from `MIGRATION_BACKUP` and `MIGRATION_BACKUP_DIR` (default `./backups/`),
    /// with the command line's `asked`.
    ///
    /// # Errors
    /// [`EngineError::Config`] for an unknown mode.
    pub fn from_env(asked: Option<bool>) -> Result<Self> {
        let mode = BackupMode::parse(&std::env::var(BACKUP_VAR).unwrap_or_default())?;
        let dir = std::env::var_os(BACKUP_DIR_VAR)
            .filter(|d| !d.is_empty())
            .map_or_else(|| PathBuf::from(DEFAULT_DIR), PathBuf::from);
        Ok(Self { mode, asked, dir })
    }

    /// Whether `session`'s database is backed up before a destructive operation.
    ///
    /// # Errors
    /// A database error reading the environment the database was first migrated in.
    pub async fn wanted(&self, session: &Session) -> Result<bool> {
        Ok(match (self.asked, self.mode) {
            (Some(asked), _) => asked,
            (None, BackupMode::Off) => false,
            (None, BackupMode::Required) => true,
            (None, BackupMode::Auto) => session.protected().await?,
        })
    }
}

/// What the history row of a backup or a restore needs from the ledger, read once.
struct LedgerNow {
    /// Whether the database has a ledger to hold the row.
    exists: bool,
    /// The newest applied migration, if any.
    newest_applied: Option<String>,
}

/// Reads `ledger` for [`LedgerNow`].
async fn read_ledger(conn: &DatabaseConnection, ledger: &Ledger) -> Result<LedgerNow> {
    let rows = ledger
        .read(conn)
        .await
        .map_err(EngineError::db("reading the ledger"))?;
    Ok(LedgerNow {
        exists: rows.is_some(),
        newest_applied: rows.and_then(|rows| {
            rows.into_iter()
                .filter(|r| r.state == RowState::Applied)
                .map(|r| r.version)
                .max()
        }),
    })
}

/// Appends a history row for a backup or a restore, when the database has a ledger to hold it
/// (`now`, read before).
async fn record(
    conn: &DatabaseConnection,
    ledger: &Ledger,
    now: &LedgerNow,
    action: Action,
    duration_ms: u64,
    reason: String,
) -> Result<()> {
    if !now.exists {
        return Ok(());
    }
    let entry = HistoryEntry {
        version: now
            .newest_applied
            .as_deref()
            .unwrap_or("00000000000000")
            .to_owned(),
        name: action_name(action).to_owned(),
        action,
        batch: None,
        at: Utc::now(),
        performed_by: who(),
        duration_ms: i64::try_from(duration_ms).unwrap_or(i64::MAX),
        outcome: Outcome::Success,
        error: None,
        reason: Some(reason),
        plan: None,
        release: None,
        via: None,
        statements: Vec::new(),
    };
    conn.execute(&history::insert(ledger, &entry))
        .await
        .map_err(EngineError::db("recording the backup in the history"))?;
    Ok(())
}

fn action_name(action: Action) -> &'static str {
    match action {
        Action::Restore => "restore",
        _ => "backup",
    }
}

/// Takes a backup of `session`'s database into `dir` now, records it in the history, and
/// returns what it wrote.
///
/// # Errors
/// [`EngineError::Backup`] when it cannot be taken (see [`backup::take`]).
pub async fn take(session: &Session, dir: &std::path::Path, command: &str) -> Result<Manifest> {
    let target = session.target().ok_or_else(|| EngineError::Backup {
        message: "this session has no database URL to back up from: open it with Session::open"
            .to_owned(),
    })?;
    let conn = session.connection();
    let now = read_ledger(conn, session.ledger()).await?;
    let manifest = backup::take(target, conn, dir, now.newest_applied.as_deref(), command).await?;
    let path = manifest.path(dir);
    info!(
        "backed up {} to {} ({} bytes) in {:.2} s",
        manifest.database,
        path.display(),
        manifest.bytes,
        manifest.duration_ms as f64 / 1000.0
    );
    record(
        conn,
        session.ledger(),
        &now,
        Action::Backup,
        manifest.duration_ms,
        format!(
            "backup {} ({} bytes, {} ms) before `{command}`",
            path.display(),
            manifest.bytes,
            manifest.duration_ms
        ),
    )
    .await?;
    Ok(manifest)
}

/// Records in the history of `session`'s database, just restored from `file`, that it was.
///
/// # Errors
/// A database error writing the row.
pub async fn record_restore(
    session: &Session,
    file: &std::path::Path,
    duration_ms: u64,
) -> Result<()> {
    record_restored(
        session.connection(),
        session.ledger(),
        duration_ms,
        format!("restored from {}", file.display()),
    )
    .await
}

/// Records in the history of the database `conn` is open on, whose contents were just replaced
/// (`reason` says from where), that they were.
///
/// # Errors
/// A database error writing the row.
pub(super) async fn record_restored(
    conn: &DatabaseConnection,
    ledger: &Ledger,
    duration_ms: u64,
    reason: String,
) -> Result<()> {
    let now = read_ledger(conn, ledger).await?;
    record(conn, ledger, &now, Action::Restore, duration_ms, reason).await
}

/// The [`BeforeDestructive`] hook that backs up as [`BackupPolicy`] says, once per session.
#[derive(Debug)]
pub struct TakeBackup {
    policy: BackupPolicy,
    command: String,
    taken: Mutex<Vec<Manifest>>,
}

impl TakeBackup {
    /// Backs up as `policy` says, naming `command` in the backup's manifest.
    pub fn new(policy: BackupPolicy, command: impl Into<String>) -> Self {
        Self {
            policy,
            command: command.into(),
            taken: Mutex::new(Vec::new()),
        }
    }

    /// The backups taken so far.
    pub fn taken(&self) -> Vec<Manifest> {
        self.taken.lock().map(|t| t.clone()).unwrap_or_default()
    }
}

#[async_trait]
impl BeforeDestructive for TakeBackup {
    async fn destroying(&self, session: &Session, _destruction: &Destruction<'_>) -> Result<()> {
        let database = session
            .target()
            .map(crate::backend::target::Target::redacted);
        let already = self
            .taken
            .lock()
            .map(|t| t.iter().any(|m| Some(&m.database) == database.as_ref()))
            .unwrap_or(false);
        if already || !self.policy.wanted(session).await? {
            return Ok(());
        }
        let manifest = take(session, &self.policy.dir, &self.command).await?;
        if let Ok(mut taken) = self.taken.lock() {
            taken.push(manifest);
        }
        Ok(())
    }
}
