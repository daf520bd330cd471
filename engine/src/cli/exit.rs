//! The one place where errors become exit codes and one-line messages.

use std::process::ExitCode;

use super::Outcome;
use crate::error::EngineError;
use crate::target::{Target, redact_url};

/// The documented exit code of an error; other command lines built on the engine (such as a
/// project's `seed`) use it so that one error means one code everywhere.
pub fn code(error: &EngineError) -> u8 {
    match error {
        EngineError::MigrationFailed { .. }
        | EngineError::MigrationPanicked { .. }
        | EngineError::Database { .. } => 1,
        EngineError::Config { .. }
        | EngineError::Connect { .. }
        | EngineError::UnknownVersion { .. }
        | EngineError::NotEnoughApplied { .. }
        | EngineError::UnknownBatch { .. }
        | EngineError::Repair { .. }
        | EngineError::Scaffold { .. }
        | EngineError::Scratch { .. }
        | EngineError::Lock { .. } => 2,
        EngineError::LockTimeout { .. } => 3,
        EngineError::MalformedName { .. }
        | EngineError::DuplicateVersion { .. }
        | EngineError::OutOfOrderList { .. }
        | EngineError::Modified { .. }
        | EngineError::Dirty { .. }
        | EngineError::OutOfOrder { .. }
        | EngineError::Irreversible { .. }
        | EngineError::MissingWithoutDown { .. }
        | EngineError::Unledgered { .. }
        | EngineError::Baseline { .. } => 4,
        EngineError::MissingNeedsConfirmation { .. }
        | EngineError::NeedsConfirmation { .. }
        | EngineError::Cancelled
        | EngineError::Guarded { .. } => 5,
        EngineError::Release(e) => {
            if e.is_usage() {
                2
            } else {
                4
            }
        }
        EngineError::Squash(crate::squash::SquashError::Declaration { .. })
        | EngineError::Dependency { .. }
        | EngineError::UnmetDependencies { .. }
        | EngineError::DependentsApplied { .. }
        | EngineError::SplitsSquash { .. }
        | EngineError::PlanUnknownMigration { .. } => 4,
        EngineError::Selection(_)
        | EngineError::Plan(_)
        | EngineError::Squash(_)
        | EngineError::NeedsSelection => 2,
        EngineError::SeedFailed { code, .. } => *code,
        EngineError::Interrupted { signal, .. } => {
            if *signal == "SIGINT" {
                130
            } else {
                143
            }
        }
    }
}

/// Makes a panic one `error:` line without any password, for this and every other command line
/// built on the engine. A migration's own panic prints nothing here: the engine catches it and
/// reports it as that migration's failure.
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        if crate::capture::in_migration_code() {
            return;
        }
        let message = crate::render::panic_message(info.payload());
        let place = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let text = redact_url(&format!("{message}{place}"));
        let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
        eprintln!("error: internal error: {one_line}; please report it");
    }));
}

/// Prints `error: …` on one line, without any password, and returns its exit code.
pub(crate) fn fail(error: &EngineError, target: Option<&Target>) -> ExitCode {
    let mut message = error.to_string();
    if let EngineError::MigrationFailed { completed, .. }
    | EngineError::MigrationPanicked { completed, .. } = error
        && !completed.is_empty()
    {
        message.push_str(&format!(
            "; completed before it in this run: {}",
            completed.join(", ")
        ));
    }
    let message = match target {
        Some(t) => t.scrub(&message),
        None => redact_url(&message),
    };
    let one_line = message.split_whitespace().collect::<Vec<_>>().join(" ");
    eprintln!("error: {one_line}");
    ExitCode::from(code(error))
}

/// The exit code of a command that ran to its end.
pub(crate) fn success(outcome: Outcome) -> ExitCode {
    match outcome {
        Outcome::Done => ExitCode::SUCCESS,
        Outcome::Invalid => ExitCode::from(4),
        Outcome::Pending => ExitCode::from(6),
    }
}
