//! The selection syntax of `migrate plan create`: which entries of a numbered list to pick.
//!
//! Items are separated by commas; each is a number (`4`), an inclusive range (`3-7`), or, alone,
//! `all`. `none`, or nothing at all, cancels. Spaces around items and around the dash are
//! ignored, case is ignored for the keywords, and repeats collapse: `9, 1,3 - 7,3` picks
//! 1, 3, 4, 5, 6, 7 and 9. Anything else is refused with the offending item and the column
//! where it starts, so a prompt can point at it.
//!
//! Parsing is pure and knows nothing about migrations: positions are 1-based indices into
//! whatever list the caller showed.

use std::fmt;

/// What the user picked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// `none` or an empty answer: the user changed their mind.
    Cancelled,
    /// These 1-based positions, ascending and without repeats.
    Picked(Vec<usize>),
}

/// Why a selection was refused. Every variant names the item as typed (`token`, trimmed) and the
/// 1-based column of its first character in the input, counted in characters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SelectionError {
    /// Not a number, a range, `all` or `none`.
    #[error(
        "`{token}` at column {column} is not a number, a range such as 3-7, `all` or `none`; separate items with commas"
    )]
    NotAnItem {
        /// The item as typed.
        token: String,
        /// Where it starts.
        column: usize,
    },
    /// A number, or an end of a range, that is not on the list.
    #[error("`{token}` at column {column} is outside the list: pick numbers from 1 to {count}")]
    OutOfRange {
        /// The item as typed.
        token: String,
        /// Where it starts.
        column: usize,
        /// How long the list is.
        count: usize,
    },
    /// A range whose start is after its end.
    #[error("`{token}` at column {column} runs backwards: write ranges low-high")]
    Backwards {
        /// The item as typed.
        token: String,
        /// Where it starts.
        column: usize,
    },
    /// `all` or `none` next to other items.
    #[error("`{token}` at column {column} cannot be combined with other items: use it alone")]
    NotAlone {
        /// The keyword as typed.
        token: String,
        /// Where it starts.
        column: usize,
    },
    /// Two commas in a row, or a comma at either end.
    #[error("extra `,` at column {column}: there is no item next to it")]
    EmptyItem {
        /// Always `,`: the comma that has no item next to it.
        token: String,
        /// The column of that comma.
        column: usize,
    },
}

impl SelectionError {
    /// The offending item, as typed.
    pub fn token(&self) -> &str {
        match self {
            SelectionError::NotAnItem { token, .. }
            | SelectionError::OutOfRange { token, .. }
            | SelectionError::Backwards { token, .. }
            | SelectionError::NotAlone { token, .. }
            | SelectionError::EmptyItem { token, .. } => token,
        }
    }

    /// The 1-based column where the offending item starts.
    pub fn column(&self) -> usize {
        match self {
            SelectionError::NotAnItem { column, .. }
            | SelectionError::OutOfRange { column, .. }
            | SelectionError::Backwards { column, .. }
            | SelectionError::NotAlone { column, .. }
            | SelectionError::EmptyItem { column, .. } => *column,
        }
    }
}

/// One comma-separated item: its trimmed text, where that starts, and where the comma after it
/// is (if any).
struct Item<'a> {
    text: &'a str,
    column: usize,
    /// Column of the comma before the item, if any.
    comma_before: Option<usize>,
    /// Column of the comma after the item, if any.
    comma_after: Option<usize>,
}

/// Splits on commas, keeping 1-based character columns.
fn items(input: &str) -> Vec<Item<'_>> {
    let mut out = Vec::new();
    let mut start_byte = 0;
    let mut start_col = 1;
    let mut comma_before = None;
    let mut column = 0;
    let mut push = |from: usize, to: usize, col: usize, before, after| {
        let raw = &input[from..to];
        let leading = raw.len() - raw.trim_start().len();
        let skipped = raw[..leading].chars().count();
        out.push(Item {
            text: raw.trim(),
            column: col + skipped,
            comma_before: before,
            comma_after: after,
        });
    };
    for (byte, c) in input.char_indices() {
        column += 1;
        if c == ',' {
            push(start_byte, byte, start_col, comma_before, Some(column));
            start_byte = byte + 1;
            start_col = column + 1;
            comma_before = Some(column);
        }
    }
    push(start_byte, input.len(), start_col, comma_before, None);
    out
}

/// Digits only, as a number; `None` for anything else. A number too large for `usize` is
/// `Some(usize::MAX)`, which is outside any list.
fn number(text: &str) -> Option<usize> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(text.parse().unwrap_or(usize::MAX))
}

/// Parses what the user typed against a list of `count` entries.
///
/// # Errors
/// A [`SelectionError`] naming the first offending item and its column.
pub fn parse(input: &str, count: usize) -> Result<Selection, SelectionError> {
    if input.trim().is_empty() {
        return Ok(Selection::Cancelled);
    }
    let items = items(input);
    let mut picked = Vec::new();
    for item in &items {
        if item.text.is_empty() {
            let column = item.comma_after.or(item.comma_before).unwrap_or(1);
            return Err(SelectionError::EmptyItem {
                token: ",".to_owned(),
                column,
            });
        }
        let token = || item.text.to_owned();
        let keyword = item.text.to_ascii_lowercase();
        if keyword == "all" || keyword == "none" {
            if items.len() > 1 {
                return Err(SelectionError::NotAlone {
                    token: token(),
                    column: item.column,
                });
            }
            return Ok(if keyword == "all" {
                Selection::Picked((1..=count).collect())
            } else {
                Selection::Cancelled
            });
        }
        let on_list = |n: usize| (1..=count).contains(&n);
        let out_of_range = || SelectionError::OutOfRange {
            token: token(),
            column: item.column,
            count,
        };
        if let Some(n) = number(item.text) {
            if !on_list(n) {
                return Err(out_of_range());
            }
            picked.push(n);
            continue;
        }
        let range = item
            .text
            .split_once('-')
            .and_then(|(a, b)| Some((number(a.trim())?, number(b.trim())?)));
        let Some((from, to)) = range else {
            return Err(SelectionError::NotAnItem {
                token: token(),
                column: item.column,
            });
        };
        if !on_list(from) || !on_list(to) {
            return Err(out_of_range());
        }
        if from > to {
            return Err(SelectionError::Backwards {
                token: token(),
                column: item.column,
            });
        }
        picked.extend(from..=to);
    }
    picked.sort_unstable();
    picked.dedup();
    Ok(Selection::Picked(picked))
}

/// Writes positions back in the syntax [`parse`] reads, runs of two or more as ranges:
/// `[1, 3, 4, 5, 9]` is `1,3-5,9`. An empty list is the empty string (which cancels).
pub fn format(positions: &[usize]) -> String {
    let mut sorted = positions.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut parts = Vec::new();
    let mut i = 0;
    while i < sorted.len() {
        let start = sorted[i];
        let mut end = start;
        while i + 1 < sorted.len() && sorted[i + 1] == end + 1 {
            i += 1;
            end = sorted[i];
        }
        parts.push(if end > start {
            format!("{start}-{end}")
        } else {
            start.to_string()
        });
        i += 1;
    }
    parts.join(",")
}

impl fmt::Display for Selection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Selection::Cancelled => f.write_str("none"),
            Selection::Picked(positions) => f.write_str(&format(positions)),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn picked(input: &str, count: usize) -> Vec<usize> {
        match parse(input, count).unwrap() {
            Selection::Picked(p) => p,
            Selection::Cancelled => Vec::new(),
        }
    }

    #[test]
    fn numbers_ranges_and_commas_combine_in_any_order_without_repeats() {
        assert_eq!(picked("1,3-7,9", 10), [1, 3, 4, 5, 6, 7, 9]);
        assert_eq!(picked(" 9, 1,3 - 7 ,3 ", 10), [1, 3, 4, 5, 6, 7, 9]);
        assert_eq!(picked("4-4", 10), [4]);
    }

    #[test]
    fn all_picks_everything_and_none_or_nothing_cancels() {
        assert_eq!(picked("ALL", 3), [1, 2, 3]);
        assert_eq!(parse("none", 3).unwrap(), Selection::Cancelled);
        assert_eq!(parse("  ", 3).unwrap(), Selection::Cancelled);
        assert_eq!(parse("", 0).unwrap(), Selection::Cancelled);
    }

    #[test]
    fn each_refusal_points_at_the_item_and_its_column() {
        let cases = [
            ("1,x,3", "x", 3),
            ("1, 3 5", "3 5", 4),
            ("12", "12", 1),
            ("0", "0", 1),
            ("2-11", "2-11", 1),
            ("1,7-3", "7-3", 3),
            ("1,all", "all", 3),
            ("none ,2", "none", 1),
            ("1,,3", ",", 3),
            ("1,3,", ",", 4),
            (",1", ",", 1),
            ("é,2", "é", 1),
            ("2,é", "é", 3),
            ("-3", "-3", 1),
        ];
        for (input, token, column) in cases {
            let err = parse(input, 10).unwrap_err();
            assert_eq!(
                (err.token(), err.column()),
                (token, column),
                "{input}: {err}"
            );
        }
    }

    #[test]
    fn messages_say_what_is_wrong_and_how_to_write_it() {
        let err = parse("1,7-3", 10).unwrap_err().to_string();
        assert_eq!(
            err,
            "`7-3` at column 3 runs backwards: write ranges low-high"
        );
        let err = parse("99", 11).unwrap_err().to_string();
        assert!(err.contains("from 1 to 11"), "{err}");
    }

    #[test]
    fn formatting_writes_runs_as_ranges_and_parses_back() {
        assert_eq!(format(&[9, 1, 3, 4, 5, 3]), "1,3-5,9");
        assert_eq!(format(&[]), "");
        assert_eq!(picked(&format(&[2, 3, 7]), 7), [2, 3, 7]);
    }
}
