//! The one place where errors become exit codes and messages: `error: …` on one line, then a
//! `caused by: …` line for each cause that adds to it, every URL without its password.

use super::Outcome;
use super::exit_code::{
    FAILED, GUARDED, LOCK_TIMEOUT, PENDING, REFUSED, SIGINT, SIGTERM, SUCCESS, USAGE,
};
use crate::authoring::plans::PlanError;
use crate::backend::target::{Target, redact_url};
use crate::error::EngineError;
use crate::exec::session::WithRelease;

/// An error a command line built on the engine can end with: what it prints and the documented
/// exit code it ends with.
pub trait CliError: std::error::Error {
    /// The documented exit code (see [`super::exit_code`]).
    fn exit_code(&self) -> u8;

    /// The text of the `error:` line, before passwords are hidden; the error's own message unless
    /// the command line has more to say.
    fn message(&self) -> String {
        self.to_string()
    }
}

/// An error a command ended with, and the target whose URL its message may quote, so that the
/// printer hides that URL's password however the message spells it.
pub type Failure<E> = Box<(E, Option<Target>)>;

/// The documented exit code of an error; other command lines built on the engine (such as a
/// project's `seed`) use it so that one error means one code everywhere.
pub fn code(error: &EngineError) -> u8 {
    match error {
        EngineError::MigrationFailed { .. }
        | EngineError::Backup { .. }
        | EngineError::ResetCache { .. }
        | EngineError::MigrationPanicked { .. }
        | EngineError::Database { .. } => FAILED,
        EngineError::Config { .. }
        | EngineError::Connect { .. }
        | EngineError::UnknownVersion { .. }
        | EngineError::NotEnoughApplied { .. }
        | EngineError::UnknownBatch { .. }
        | EngineError::Repair { .. }
        | EngineError::Scaffold { .. }
        | EngineError::Scratch { .. }
        | EngineError::Lock { .. } => USAGE,
        // Another runner is at work, as when the lock is not free: try again later.
        EngineError::LockTimeout { .. } | EngineError::Running { .. } => LOCK_TIMEOUT,
        EngineError::Set(_)
        | EngineError::Squash(crate::model::consolidated::SquashError::Name(_))
        | EngineError::Modified { .. }
        | EngineError::Dirty { .. }
        | EngineError::OutOfOrder { .. }
        | EngineError::Irreversible { .. }
        | EngineError::MissingWithoutDown { .. }
        | EngineError::Unledgered { .. }
        | EngineError::Baseline { .. } => REFUSED,
        EngineError::MissingNeedsConfirmation { .. }
        | EngineError::NeedsConfirmation { .. }
        | EngineError::Cancelled
        | EngineError::Guarded { .. } => GUARDED,
        EngineError::Release(e) => {
            if e.is_usage() {
                USAGE
            } else {
                REFUSED
            }
        }
        EngineError::Squash(crate::model::consolidated::SquashError::Declaration { .. })
        | EngineError::Dependency(_)
        | EngineError::Sets(_)
        | EngineError::SetNeedsUnapplied { .. }
        | EngineError::NeededBySet { .. }
        | EngineError::UnmetDependencies { .. }
        | EngineError::DependentsApplied { .. }
        | EngineError::SplitsSquash { .. } => REFUSED,
        EngineError::Squash(_) => USAGE,
        EngineError::SeedFailed { code, .. } => *code,
        EngineError::ReleaseFailed { error, .. } => code(error),
        EngineError::Interrupted { signal, .. } => {
            if *signal == "SIGINT" {
                SIGINT
            } else {
                SIGTERM
            }
        }
    }
}

/// What `migrate` itself can end with: the engine's errors, and those of saved plans, which the
/// engine (below the authoring layer) does not know.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// The engine refused or failed (boxed: the engine's errors are large, plans' small).
    #[error(transparent)]
    Engine(Box<EngineError>),
    /// A saved plan could not be named, found, read, written or picked.
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// `migrate lint` or `up --lint` could not lint: allowances naming unknown rules or
    /// migrations, a malformed server version.
    #[error(transparent)]
    LintSetup(#[from] crate::lint::LintError),
    /// `up --lint` (`MIGRATION_LINT=deny`) found error-level findings in pending migrations.
    #[error(
        "lint found {errors} error(s) in pending migration(s) {}; nothing was applied; fix them, allow the rule with a reason in the migration's LINT_ALLOW, or set MIGRATION_LINT=warn",
        .migrations.join(", ")
    )]
    Lint {
        /// How many error-level findings remain.
        errors: usize,
        /// The migrations that have them.
        migrations: Vec<String>,
    },
    /// A command on a fleet failed on some of its targets; the others ran to their end.
    #[error(
        "{failed} of {total} target(s) failed: {targets}; the others completed; fix what the summary says and re-run, which does only what is still to do"
    )]
    Fleet {
        /// How many failed.
        failed: usize,
        /// How many the fleet holds.
        total: usize,
        /// The failed targets, passwords redacted.
        targets: String,
        /// The exit code of the first failed target.
        code: u8,
    },
    /// The command failed, and so did releasing its session.
    #[error("{error}; releasing the migration session failed too: {release}")]
    ReleaseFailed {
        /// What the command ended with.
        error: Box<CommandError>,
        /// Why the release failed.
        release: Box<EngineError>,
    },
}

impl From<EngineError> for CommandError {
    fn from(e: EngineError) -> Self {
        CommandError::Engine(Box::new(e))
    }
}

impl From<crate::authoring::selection::SelectionError> for CommandError {
    fn from(e: crate::authoring::selection::SelectionError) -> Self {
        CommandError::Plan(e.into())
    }
}

impl WithRelease for CommandError {
    fn with_release(self, release: EngineError) -> Self {
        match self {
            CommandError::Engine(e) => CommandError::Engine(Box::new(e.with_release(release))),
            other => CommandError::ReleaseFailed {
                error: Box::new(other),
                release: Box::new(release),
            },
        }
    }
}

impl CliError for CommandError {
    fn exit_code(&self) -> u8 {
        match self {
            CommandError::Engine(e) => code(e),
            CommandError::Plan(PlanError::UnknownMigration { .. }) => REFUSED,
            CommandError::Plan(_) => USAGE,
            CommandError::LintSetup(crate::lint::LintError::ServerVersion { .. }) => USAGE,
            CommandError::LintSetup(_) | CommandError::Lint { .. } => REFUSED,
            CommandError::ReleaseFailed { error, .. } => error.exit_code(),
            CommandError::Fleet { code, .. } => *code,
        }
    }

    fn message(&self) -> String {
        match self {
            CommandError::Engine(e) => e.message(),
            other => other.to_string(),
        }
    }
}

impl CliError for EngineError {
    fn exit_code(&self) -> u8 {
        code(self)
    }

    /// The message, and for a migration that failed, what this run completed before it.
    fn message(&self) -> String {
        if let EngineError::ReleaseFailed { error, release } = self {
            return format!(
                "{}; releasing the migration lock failed too: {release}",
                error.message()
            );
        }
        let mut message = self.to_string();
        if let EngineError::MigrationFailed { completed, .. }
        | EngineError::MigrationPanicked { completed, .. } = self
            && !completed.is_empty()
        {
            message.push_str(&format!(
                "; completed before it in this run: {}",
                completed.join(", ")
            ));
        }
        message
    }
}

/// Makes a panic one `error:` line without any password, for this and every other command line
/// built on the engine. A migration's own panic prints nothing here: the engine catches it and
/// reports it as that migration's failure.
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        if crate::store::capture::in_migration_code() {
            return;
        }
        let message = crate::store::render::panic_message(info.payload());
        let place = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let text = redact_url(&format!("{message}{place}"));
        eprintln!(
            "error: internal error: {}; please report it",
            one_line(&text)
        );
    }));
}

/// Prints `error: …` and each `caused by: …` on stderr, without any password, and returns the
/// error's exit code.
pub fn report<E: CliError + ?Sized>(error: &E, target: Option<&Target>) -> u8 {
    use std::io::Write as _;
    let mut stderr = std::io::stderr().lock();
    for line in lines(error, target) {
        // Nowhere is left to say that stderr is gone; the exit code still tells.
        let _ = writeln!(stderr, "{line}");
    }
    error.exit_code()
}

/// The lines [`report`] prints: the message, then each error of the `source()` chain whose text
/// is not already printed (a message often quotes its cause), each on one line.
fn lines<E: CliError + ?Sized>(error: &E, target: Option<&Target>) -> Vec<String> {
    let hide = |text: &str| {
        one_line(&match target {
            Some(t) => t.scrub(text),
            None => redact_url(text),
        })
    };
    let message = hide(&error.message());
    let mut printed = message.clone();
    let mut lines = vec![format!("error: {message}")];
    let mut cause = error.source();
    while let Some(e) = cause {
        let text = hide(&e.to_string());
        if !text.is_empty() && !printed.contains(&text) {
            lines.push(format!("caused by: {text}"));
            // Lines are one line each, so a separator keeps a match from spanning two.
            printed.push('\n');
            printed.push_str(&text);
        }
        cause = e.source();
    }
    lines
}

/// `text` with every run of whitespace, newlines included, as one space.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The exit code of a command that ran to its end.
pub(crate) fn success(outcome: Outcome) -> u8 {
    match outcome {
        Outcome::Done => SUCCESS,
        Outcome::Invalid => REFUSED,
        Outcome::Pending => PENDING,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// An error with a message and an optional cause, as a library's error would be.
    #[derive(Debug)]
    struct Layer {
        message: String,
        cause: Option<Box<Layer>>,
    }

    impl Layer {
        fn new(message: &str, cause: Option<Layer>) -> Self {
            Self {
                message: message.to_owned(),
                cause: cause.map(Box::new),
            }
        }
    }

    impl std::fmt::Display for Layer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(&self.message)
        }
    }

    impl std::error::Error for Layer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            self.cause.as_deref().map(|c| c as _)
        }
    }

    impl CliError for Layer {
        fn exit_code(&self) -> u8 {
            FAILED
        }
    }

    #[test]
    fn an_error_without_a_cause_is_one_line() {
        let error = Layer::new("cannot read\n  the file", None);
        assert_eq!(lines(&error, None), ["error: cannot read the file"]);
    }

    #[test]
    fn each_cause_that_adds_something_gets_its_own_line() {
        let error = Layer::new(
            "loading users failed",
            Some(Layer::new(
                "connection reset",
                Some(Layer::new("broken pipe\n(os error 32)", None)),
            )),
        );
        assert_eq!(
            lines(&error, None),
            [
                "error: loading users failed",
                "caused by: connection reset",
                "caused by: broken pipe (os error 32)",
            ]
        );
    }

    #[test]
    fn a_cause_the_message_already_quotes_is_not_repeated() {
        let error = Layer::new(
            "migration m1 failed during up: Execution Error: syntax error; fix it",
            Some(Layer::new(
                "Execution Error: syntax error",
                Some(Layer::new("syntax error", Some(Layer::new("", None)))),
            )),
        );
        assert_eq!(
            lines(&error, None),
            ["error: migration m1 failed during up: Execution Error: syntax error; fix it"]
        );
        // Nor is a cause that an earlier cause's line already holds.
        let error = Layer::new(
            "seeding failed",
            Some(Layer::new(
                "io: connection refused",
                Some(Layer::new("connection refused", None)),
            )),
        );
        assert_eq!(
            lines(&error, None),
            ["error: seeding failed", "caused by: io: connection refused"]
        );
    }

    #[test]
    fn causes_hide_passwords_as_the_message_does() {
        let error = Layer::new(
            "cannot connect",
            Some(Layer::new(
                "refused by postgres://app:s3cret@db:5432/app",
                None,
            )),
        );
        assert_eq!(
            lines(&error, None),
            [
                "error: cannot connect",
                "caused by: refused by postgres://app:***@db:5432/app",
            ]
        );
        let target = Target::new("postgres://app:s3cret@db:5432/app", None, None, None).unwrap();
        let error = Layer::new(
            "cannot connect",
            Some(Layer::new("password s3cret rejected", None)),
        );
        let printed = lines(&error, Some(&target)).join("\n");
        assert!(!printed.contains("s3cret"), "{printed}");
    }

    #[test]
    fn a_release_that_fails_after_the_work_keeps_both_errors_and_the_works_code() {
        use crate::exec::session::WithRelease;
        let error = EngineError::MigrationFailed {
            migration: "m2".to_owned(),
            direction: "up",
            source: sea_orm::DbErr::Custom("boom".to_owned()),
            completed: vec!["m1".to_owned()],
            rolled_back: true,
            lock_wait: false,
        }
        .with_release(EngineError::Lock {
            detail: "releasing the advisory lock: connection reset".to_owned(),
        });
        assert_eq!(code(&error), FAILED);
        let printed = lines(&error, None);
        assert_eq!(printed.len(), 1, "{printed:?}");
        for part in [
            "migration m2 failed",
            "completed before it in this run: m1",
            "releasing the migration lock failed too",
            "connection reset",
        ] {
            assert!(printed[0].contains(part), "{part}: {printed:?}");
        }
    }

    #[test]
    fn a_failed_migration_says_what_completed_before_it() {
        let error = EngineError::MigrationFailed {
            migration: "m2".to_owned(),
            direction: "up",
            source: sea_orm::DbErr::Custom("boom".to_owned()),
            completed: vec!["m1".to_owned()],
            rolled_back: true,
            lock_wait: false,
        };
        let printed = lines(&error, None);
        assert_eq!(printed.len(), 1, "{printed:?}");
        assert!(
            printed[0].ends_with("; completed before it in this run: m1"),
            "{printed:?}"
        );
    }
}
