//! Properties of the selection syntax of `migrate plan create`: every selection written back
//! reads the same, however it is spaced, ordered or repeated; and every input with one bad item
//! among good ones is refused naming exactly that item and the column where it starts.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use migration_engine::authoring::selection::{Selection, SelectionError, format, parse};
use proptest::prelude::*;
use std::collections::BTreeSet;

/// A list length and a non-empty selection of positions on it.
fn list_and_selection() -> impl Strategy<Value = (usize, BTreeSet<usize>)> {
    (1usize..40)
        .prop_flat_map(|n| (Just(n), prop::collection::vec(any::<bool>(), n)))
        .prop_map(|(n, picked)| {
            let set: BTreeSet<usize> = picked
                .iter()
                .enumerate()
                .filter(|(_, p)| **p)
                .map(|(i, _)| i + 1)
                .collect();
            (n, set)
        })
        .prop_filter("a selection picks something", |(_, set)| !set.is_empty())
}

/// The items of `selection` as [`format`] writes them: `3`, `5-9`.
fn items(selection: &BTreeSet<usize>) -> Vec<String> {
    let positions: Vec<usize> = selection.iter().copied().collect();
    format(&positions).split(',').map(str::to_owned).collect()
}

/// Joins items with commas, padding each with the given numbers of spaces and spacing the dash
/// of a range (except in item `keep`, whose text must stay as it is); returns the text and the
/// 1-based column where each item's text starts.
fn join(
    items: &[String],
    pads: &[(usize, usize, bool)],
    keep: Option<usize>,
) -> (String, Vec<usize>) {
    let mut text = String::new();
    let mut columns = Vec::new();
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            text.push(',');
        }
        let (before, after, spaced_dash) = pads.get(i).copied().unwrap_or_default();
        text.push_str(&" ".repeat(before));
        columns.push(text.chars().count() + 1);
        let range =
            item.matches('-').count() == 1 && !item.starts_with('-') && !item.ends_with('-');
        if spaced_dash && range && keep != Some(i) {
            text.push_str(&item.replacen('-', " - ", 1));
        } else {
            text.push_str(item);
        }
        text.push_str(&" ".repeat(after));
    }
    (text, columns)
}

fn pads() -> impl Strategy<Value = Vec<(usize, usize, bool)>> {
    prop::collection::vec((0usize..3, 0usize..3, any::<bool>()), 0..50)
}

/// A bad item for a list of `n`, with the error kind it must produce.
#[derive(Debug, Clone)]
enum Bad {
    NotAnItem(String),
    OutOfRange(String),
    Backwards(String),
    NotAlone(String),
}

impl Bad {
    fn token(&self) -> &str {
        match self {
            Bad::NotAnItem(t) | Bad::OutOfRange(t) | Bad::Backwards(t) | Bad::NotAlone(t) => t,
        }
    }

    fn matches(&self, err: &SelectionError) -> bool {
        matches!(
            (self, err),
            (Bad::NotAnItem(_), SelectionError::NotAnItem { .. })
                | (Bad::OutOfRange(_), SelectionError::OutOfRange { .. })
                | (Bad::Backwards(_), SelectionError::Backwards { .. })
                | (Bad::NotAlone(_), SelectionError::NotAlone { .. })
        )
    }
}

fn bad_item(n: usize) -> impl Strategy<Value = Bad> {
    let word = "[a-zA-Z][a-zA-Z0-9]{0,5}"
        .prop_filter("keywords are valid alone", |w| {
            !w.eq_ignore_ascii_case("all") && !w.eq_ignore_ascii_case("none")
        })
        .prop_map(Bad::NotAnItem);
    let malformed = prop_oneof![
        (1..=n, 1..=n).prop_map(|(a, b)| format!("{a} {b}")),
        (1..=n).prop_map(|a| format!("{a}-")),
        (1..=n).prop_map(|a| format!("-{a}")),
        (1..=n).prop_map(|a| format!("+{a}")),
        (1..=n).prop_map(|a| format!("{a}.5")),
        (1..=n, 1..=n, 1..=n).prop_map(|(a, b, c)| format!("{a}-{b}-{c}")),
        (1..=n, 1..=n).prop_map(|(a, b)| format!("{a}--{b}")),
    ]
    .prop_map(Bad::NotAnItem);
    let out_of_range = prop_oneof![
        Just("0".to_owned()),
        (n + 1..n + 1000).prop_map(|x| x.to_string()),
        (1..=n, n + 1..n + 50).prop_map(|(a, b)| format!("{a}-{b}")),
        (1..=n).prop_map(|b| format!("0-{b}")),
        Just("99999999999999999999999".to_owned()),
    ]
    .prop_map(Bad::OutOfRange);
    let keyword = prop_oneof![Just("all"), Just("none"), Just("ALL"), Just("None")]
        .prop_map(|k| Bad::NotAlone(k.to_owned()));
    if n >= 2 {
        let backwards = (2..=n)
            .prop_flat_map(|a| (Just(a), 1..a))
            .prop_map(|(a, b)| Bad::Backwards(format!("{a}-{b}")));
        prop_oneof![word, malformed, out_of_range, keyword, backwards].boxed()
    } else {
        prop_oneof![word, malformed, out_of_range, keyword].boxed()
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn a_written_selection_reads_back_the_same((n, selection) in list_and_selection()) {
        let positions: Vec<usize> = selection.iter().copied().collect();
        prop_assert_eq!(parse(&format(&positions), n), Ok(Selection::Picked(positions)));
    }

    #[test]
    fn spacing_order_and_repeats_do_not_change_a_selection(
        (n, selection) in list_and_selection(),
        pads in pads(),
        repeats in prop::collection::vec(any::<prop::sample::Index>(), 0..4),
        order in any::<prop::sample::Index>(),
    ) {
        let mut items = items(&selection);
        for r in &repeats {
            let again = r.get(&items).clone();
            items.push(again);
        }
        let turn = order.index(items.len());
        items.rotate_left(turn);
        let (text, _) = join(&items, &pads, None);
        let expected: Vec<usize> = selection.iter().copied().collect();
        prop_assert_eq!(parse(&text, n), Ok(Selection::Picked(expected)), "{}", text);
    }

    #[test]
    fn one_bad_item_is_refused_by_name_and_column(
        (n, selection, bad) in list_and_selection()
            .prop_flat_map(|(n, s)| (Just(n), Just(s), bad_item(n))),
        at in any::<prop::sample::Index>(),
        pads in pads(),
    ) {
        let mut items = items(&selection);
        let k = at.index(items.len() + 1);
        items.insert(k, bad.token().to_owned());
        let (text, columns) = join(&items, &pads, Some(k));
        let err = parse(&text, n).expect_err(&text);
        prop_assert!(bad.matches(&err), "{:?} for {:?} in `{}`: {}", err, bad, text, err);
        prop_assert_eq!(err.token(), bad.token().trim(), "in `{}`", text);
        prop_assert_eq!(err.column(), columns[k], "in `{}`", text);
        let column = format!("column {}", columns[k]);
        prop_assert!(err.to_string().contains(&column), "{}", err);
    }

    #[test]
    fn an_empty_item_is_refused_at_its_comma(
        (n, selection) in list_and_selection(),
        at in any::<prop::sample::Index>(),
        spaces in 0usize..3,
    ) {
        let items = items(&selection);
        let k = at.index(items.len() + 1);
        let mut parts: Vec<String> = items.clone();
        parts.insert(k, " ".repeat(spaces));
        let text = parts.join(",");
        // The comma after the empty item, or before it when it is last.
        let commas: Vec<usize> = text
            .chars()
            .enumerate()
            .filter(|(_, c)| *c == ',')
            .map(|(i, _)| i + 1)
            .collect();
        let expected = if k < items.len() { commas[k] } else { commas[k - 1] };
        let err = parse(&text, n).expect_err(&text);
        prop_assert!(matches!(err, SelectionError::EmptyItem { .. }), "{:?}", err);
        prop_assert_eq!(err.token(), ",");
        prop_assert_eq!(err.column(), expected, "in `{}`", text);
    }

    #[test]
    fn blank_answers_and_none_cancel(spaces in 0usize..5, upper in any::<bool>()) {
        let none = if upper { "NONE" } else { "none" };
        prop_assert_eq!(parse(&" ".repeat(spaces), 5), Ok(Selection::Cancelled));
        prop_assert_eq!(
            parse(&format!("{0}{none}{0}", " ".repeat(spaces)), 5),
            Ok(Selection::Cancelled)
        );
    }
}
