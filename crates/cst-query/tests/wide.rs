//! Wide nodes and the match limit: patterns whose states multiply (quantified alternations, a
//! wildcard followed by a quantified wildcard) over a node with tens of thousands of children finish
//! in time proportional to the input when the match limit is on, report `did_exceed_match_limit` as
//! tree-sitter does, and answer as `QueryCursor` with the same limit does. How the time grows with the
//! width is a benchmark, not a test: `examples/query_speed.rs` times these patterns over a wide node.

mod common;

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
        let answers =
            common::compare("python", pattern, text, Some(limit)).unwrap_or_else(|e| panic!("{e}"));
        exceeded += usize::from(answers.matches_exceeded);
        eprintln!(
            "{pattern}: {} matches, {} captures, exceeded {}",
            answers.matches.len(),
            answers.captures.len(),
            answers.matches_exceeded
        );
    }
    assert!(exceeded >= 3, "only {exceeded} patterns exceeded the limit");
}
