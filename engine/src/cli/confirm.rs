//! Asking before a destructive command: a yes/no prompt on a terminal, `--yes` without one.
//! The library refuses and reports; only the command line asks.

use std::io::IsTerminal;

use crate::backend::target::Target;
use crate::error::{EngineError, Result};

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

/// How prompts look: without colors when `NO_COLOR` is set, as every other output.
pub(crate) fn render_config() -> inquire::ui::RenderConfig<'static> {
    if std::env::var_os("NO_COLOR").is_some() {
        inquire::ui::RenderConfig::empty()
    } else {
        inquire::ui::RenderConfig::default()
    }
}
