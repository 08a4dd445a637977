//! Wide nodes and the match limit: patterns whose states multiply (quantified alternations, a
//! wildcard followed by a quantified wildcard) over a node with tens of thousands of children finish
//! in time proportional to the input when the match limit is on, report `did_exceed_match_limit` as
//! tree-sitter does, and answer as `QueryCursor` with the same limit does.

mod common;

use cst_query::{Query, QueryCursor, TsTree};
use std::time::{Duration, Instant};

/// A Python list of `n` elements, identifiers and integers in turn: one node of `2n + 1` children.
fn wide_list(n: usize) -> String {
    let mut text = String::from("x = [");
    for i in 0..n {
        if i % 2 == 0 {
            text.push_str(&format!("a{i}, "));
        } else {
            text.push_str(&format!("{i}, "));
        }
    }
    text.push_str("]\n");
    text
}

/// Patterns whose states stay few (each child starts one, which soon finishes), checked at 50,000
/// elements.
const LIGHT: &[&str] = &[
    "(list (_) @a . (_)* @b)",
    "(list [(identifier) (integer)]* @x)",
    "(list [(identifier) @i (integer) @n]+ . (integer) @last)",
    "((_) @a . (_)* @b)",
];

/// Patterns whose states pile up (every child starts one that waits for any later sibling): the
/// match limit bounds them, and their matches number in the hundreds of thousands, so they are
/// checked at 10,000 elements.
const HEAVY: &[&str] = &[
    "(list (identifier) @a (integer)* @b)",
    "(list (_) @a (_) @b)",
    "(list [(identifier) (integer)] @a [(identifier) (integer)]* @b (integer) @c)",
];

/// Our matches and captures over the file, timed.
fn time_ours(query: &Query, tree: &TsTree, limit: u32) -> (Duration, bool) {
    let mut cursor = QueryCursor::new();
    cursor.set_match_limit(limit);
    let start = Instant::now();
    let matches = cursor.matches(query, tree).expect("supported").len();
    let exceeded = cursor.did_exceed_match_limit();
    let captures = cursor.captures(query, tree).expect("supported").len();
    std::hint::black_box((matches, captures));
    (start.elapsed(), exceeded)
}

#[test]
fn quantified_patterns_over_a_wide_node_answer_as_query_cursor_does_within_the_limit() {
    let limit = 64;
    let (light, heavy) = (wide_list(50_000), wide_list(10_000));
    let mut exceeded = 0;
    let cases = LIGHT
        .iter()
        .map(|p| (p, &light))
        .chain(HEAVY.iter().map(|p| (p, &heavy)));
    for (pattern, text) in cases {
        let start = Instant::now();
        let answers =
            common::compare("python", pattern, text, Some(limit)).unwrap_or_else(|e| panic!("{e}"));
        exceeded += usize::from(answers.matches_exceeded);
        let elapsed = start.elapsed();
        eprintln!(
            "{pattern}: {} matches, {} captures, exceeded {}, both engines {elapsed:?}",
            answers.matches.len(),
            answers.captures.len(),
            answers.matches_exceeded
        );
        assert!(
            elapsed < Duration::from_secs(10),
            "{pattern} took {elapsed:?} over {} bytes",
            text.len()
        );
    }
    assert!(exceeded >= 3, "only {exceeded} patterns exceeded the limit");
}

/// Time grows with the input, not its square: four times the children (10,000 and 40,000 elements
/// for the light patterns, 1,000 and 4,000 for the heavy) take well under sixteen times as long. The
/// two widths run in turns and the best turn of each is kept (five for the light, three for the
/// heavy), so that a shared machine's load falls on both alike; 12x is the bound.
#[test]
fn time_over_a_wide_node_is_proportional_to_its_width() {
    let language = common::language("python");
    let sizes = LIGHT
        .iter()
        .map(|p| (p, [10_000, 40_000], 5))
        .chain(HEAVY.iter().map(|p| (p, [1_000, 4_000], 3)));
    let texts: Vec<(usize, String)> = [1_000, 4_000, 10_000, 40_000]
        .into_iter()
        .map(|n| (n, wide_list(n)))
        .collect();
    let parsed: Vec<(usize, &str, tree_sitter::Tree)> = texts
        .iter()
        .map(|(n, text)| (*n, text.as_str(), common::parse(&language, text)))
        .collect();
    let trees: Vec<(usize, TsTree)> = parsed
        .iter()
        .map(|(n, text, tree)| (*n, TsTree::new(tree, text.as_bytes())))
        .collect();
    let tree_of = |n: usize| &trees.iter().find(|t| t.0 == n).expect("a width built").1;
    for (pattern, widths, turns) in sizes {
        let query = Query::new(&language, pattern).expect("compiles");
        let mut best = [Duration::MAX; 2];
        for _ in 0..turns {
            for (slot, &n) in widths.iter().enumerate() {
                best[slot] = best[slot].min(time_ours(&query, tree_of(n), 64).0);
            }
        }
        let ratio = best[1].as_secs_f64() / best[0].as_secs_f64().max(1e-6);
        eprintln!(
            "{pattern}: {} elements in {:?}, {} in {:?} ({ratio:.1}x)",
            widths[0], best[0], widths[1], best[1]
        );
        assert!(
            ratio < 12.0,
            "{pattern}: 4x the width took {ratio:.1}x the time"
        );
    }
}
