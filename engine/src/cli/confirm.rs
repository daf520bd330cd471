//! Asking before a destructive command: a yes/no prompt on a terminal, `--yes` without one.
//! The library refuses and reports; only the command line asks, through `Confirmations`, its
//! hook before the library's destructive operations.

use std::io::IsTerminal;

use crate::backend::target::Target;
use crate::error::{EngineError, Result};
use crate::exec::operations::{BeforeDestructive, Destruction};
use crate::exec::report::Script;
use crate::exec::session::Session;

/// Asks before a destructive run: on a terminal, a yes/no prompt stating `effect` and the
/// redacted target; without one, `yes` (the `--yes` flag) is required.
///
/// # Errors
/// [`EngineError::NeedsConfirmation`] without a terminal and without `yes`;
/// [`EngineError::Cancelled`] when the answer is no.
pub fn confirm(effect: &str, target: &Target, yes: bool) -> Result<()> {
    confirm_listed("", effect, target, yes)
}

/// [`confirm`], showing `details` (a list, one item a line) on the terminal before the question.
/// Without a terminal the refusal states `effect` alone, on one line, as every error does.
///
/// # Errors
/// As [`confirm`].
pub fn confirm_listed(details: &str, effect: &str, target: &Target, yes: bool) -> Result<()> {
    if yes {
        return Ok(());
    }
    let action = format!("{effect} on {}", target.redacted());
    if !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
        return Err(EngineError::NeedsConfirmation { action });
    }
    if !details.is_empty() {
        eprint!("{details}");
    }
    match inquire::Confirm::new(&format!("{action}. Proceed?"))
        .with_default(false)
        .with_render_config(render_config())
        .prompt()
    {
        Ok(true) => Ok(()),
        _ => Err(EngineError::Cancelled),
    }
}

/// The command line's hook before destructive operations: on a terminal a yes/no question,
/// without one `--yes`.
pub(crate) struct Confirmations {
    target: Target,
    yes: bool,
}

impl Confirmations {
    /// Confirmations naming `target`; `yes` is `--yes`.
    pub(crate) fn new(target: Target, yes: bool) -> Self {
        Self { target, yes }
    }
}

#[async_trait::async_trait]
impl BeforeDestructive for Confirmations {
    async fn destroying(
        &self,
        _session: &Session,
        destruction: &Destruction<'_>,
    ) -> Result<(), EngineError> {
        match destruction.confirm {
            Some(c) => confirm_listed(c.details, c.effect, &self.target, self.yes),
            None => Ok(()),
        }
    }

    /// On a terminal, shows the SQL that would revert the migrations missing from the code and
    /// asks; without one the refusal stands, naming `--yes`.
    async fn revert_missing(
        &self,
        _session: &Session,
        versions: &[String],
        script: &Script,
    ) -> Result<bool, EngineError> {
        if !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
            return Ok(false);
        }
        eprintln!("{script}");
        confirm(
            &format!(
                "reverts {} migration(s) that are not in the code, with the SQL above",
                versions.len()
            ),
            &self.target,
            self.yes,
        )?;
        Ok(true)
    }
}

/// How prompts look: without colors when `NO_COLOR` is set, as every other output.
pub(crate) fn render_config() -> inquire::ui::RenderConfig<'static> {
    if std::env::var_os("NO_COLOR").is_some() {
        inquire::ui::RenderConfig::empty()
    } else {
        inquire::ui::RenderConfig::default()
    }
}
