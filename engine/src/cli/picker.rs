//! The interactive picker of `migrate plan create`: lists every migration with its number,
//! version, name, release and state on stderr, asks for a selection in the syntax of
//! [`crate::authoring::selection`] (re-asking, with the parser's message pointing at the bad item, until it
//! reads), then for a description and a confirmation. Nothing is saved unless confirmed.

use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use inquire::validator::Validation;

use super::confirm::render_config;
use super::exit::CommandError;
use crate::authoring::selection::{self, Selection};
use crate::plan::State;

/// One line of the list.
pub(super) struct Choice {
    /// Its position, as selections count.
    pub number: usize,
    /// Fourteen-digit version.
    pub version: String,
    /// Snake-case name.
    pub name: String,
    /// The release that shipped it.
    pub release: Option<String>,
    /// Where it stands on the database.
    pub state: State,
}

/// Asks which of `choices` go into plan `plan`; `None` when the user cancels (an empty answer,
/// `none`, Esc, or no at the confirmation). Returns the picked numbers and the description.
///
/// # Errors
/// None in practice: the answer is validated before it is accepted; kept for the parser's error.
pub(super) fn pick(
    choices: &[Choice],
    plan: &str,
    description: Option<String>,
) -> Result<Option<(Vec<usize>, String)>, CommandError> {
    let mut table = Table::new();
    table
        .load_preset(UTF8_FULL_CONDENSED)
        .set_header(vec!["#", "Version", "Name", "Release", "State"]);
    // Without a releases file no migration has a release; "unreleased" would mislead there.
    let released = choices.iter().any(|c| c.release.is_some());
    for c in choices {
        table.add_row(vec![
            c.number.to_string(),
            c.version.clone(),
            c.name.clone(),
            match (&c.release, released) {
                (Some(release), _) => release.clone(),
                (None, true) => "unreleased".to_owned(),
                (None, false) => String::new(),
            },
            c.state.as_str().to_owned(),
        ]);
    }
    eprintln!("{table}");
    eprintln!(
        "Pick by number: 1,3-7,9 picks 1, 3 to 7 and 9; `all` picks every one; `none` or an empty answer cancels."
    );
    let count = choices.len();
    let answer = inquire::Text::new(&format!("Migrations for plan `{plan}`:"))
        .with_render_config(render_config())
        .with_validator(move |input: &str| {
            Ok(match selection::parse(input, count) {
                Ok(_) => Validation::Valid,
                Err(e) => Validation::Invalid(e.to_string().into()),
            })
        })
        .prompt();
    let Ok(answer) = answer else {
        return Ok(None);
    };
    let picked = match selection::parse(&answer, count)? {
        Selection::Cancelled => return Ok(None),
        Selection::Picked(picked) if picked.is_empty() => return Ok(None),
        Selection::Picked(picked) => picked,
    };
    eprintln!("Selected {} migration(s):", picked.len());
    for n in &picked {
        if let Some(c) = choices.get(n - 1) {
            eprintln!(
                "  {:>3}  {}_{} ({})",
                c.number,
                c.version,
                c.name,
                c.state.as_str()
            );
        }
    }
    let description = match description {
        Some(text) => text,
        None => match inquire::Text::new("Description (optional):")
            .with_render_config(render_config())
            .prompt()
        {
            Ok(text) => text,
            Err(_) => return Ok(None),
        },
    };
    let confirmed = inquire::Confirm::new(&format!(
        "Save plan `{plan}` with these {} migration(s)?",
        picked.len()
    ))
    .with_render_config(render_config())
    .with_default(false)
    .prompt()
    .unwrap_or(false);
    Ok(confirmed.then_some((picked, description)))
}
