//! Predicates as tree-sitter's Rust binding interprets them: the text predicates it filters matches on
//! (`eq?`, `match?`, `any-of?` and their `not-`/`any-` forms), the properties of `#set!`, `#is?` and
//! `#is-not?`, and every other predicate kept as a general one.
//!
//! Each text predicate costs one pass over the captured nodes' texts (a regex search for `match?`,
//! with the `regex` crate over bytes, unanchored, as the binding uses it). The binding's quirks are
//! kept: a predicate on a capture with no nodes passes, the plain forms need every node of a quantified
//! capture to satisfy them, an `any-` form that finds no satisfying node also passes, and `eq?` between
//! two captures fails when they hold different numbers of nodes.

use crate::error::{QueryError, QueryErrorKind};
use crate::parse::{RawArg, RawPredicate};

/// A key-value pair of `#set!`, `#is?` or `#is-not?` (like `tree_sitter::QueryProperty`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueryProperty {
    pub key: Box<str>,
    pub value: Option<Box<str>>,
    pub capture_id: Option<usize>,
}

/// An argument of a general predicate (like `tree_sitter::QueryPredicateArg`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum QueryPredicateArg {
    Capture(u32),
    String(Box<str>),
}

/// A predicate the engine does not apply (like `tree_sitter::QueryPredicate`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueryPredicate {
    pub operator: Box<str>,
    pub args: Box<[QueryPredicateArg]>,
}

/// A predicate that filters matches on the captured nodes' text.
#[derive(Clone, Debug)]
pub enum TextPredicate {
    /// `eq?`-family against a literal: capture, text, positive, every node must satisfy.
    EqString(u32, Box<str>, bool, bool),
    /// `eq?`-family between two captures.
    EqCapture(u32, u32, bool, bool),
    /// `match?`-family.
    MatchString(u32, regex::bytes::Regex, bool, bool),
    /// `any-of?` (positive) and `not-any-of?`.
    AnyString(u32, Box<[Box<str>]>, bool),
}

/// The predicates of one pattern, sorted into the binding's four lists.
#[derive(Clone, Debug, Default)]
pub struct PatternPredicates {
    pub text: Vec<TextPredicate>,
    pub property_settings: Vec<QueryProperty>,
    pub property_predicates: Vec<(QueryProperty, bool)>,
    pub general: Vec<QueryPredicate>,
}

fn predicate_error(row: usize, message: String) -> QueryError {
    QueryError {
        row,
        column: 0,
        offset: 0,
        kind: QueryErrorKind::Predicate,
        message,
    }
}

/// Sorts one pattern's predicates as the binding does, with its errors for malformed ones.
pub fn interpret(
    raw: &[RawPredicate],
    capture_names: &[String],
    row: usize,
) -> Result<PatternPredicates, QueryError> {
    let mut out = PatternPredicates::default();
    for p in raw {
        let args = &p.args;
        let name = p.name.as_str();
        let first_capture = |what: &str| -> Result<u32, QueryError> {
            match args.first() {
                Some(RawArg::Capture(c)) => Ok(*c),
                Some(RawArg::String(s)) => Err(predicate_error(
                    row,
                    format!(
                        "First argument to #{what} predicate must be a capture name. Got literal \"{s}\"."
                    ),
                )),
                None => unreachable!("argument counts are checked first"),
            }
        };
        match name {
            "eq?" | "not-eq?" | "any-eq?" | "any-not-eq?" => {
                if args.len() != 2 {
                    return Err(predicate_error(
                        row,
                        format!(
                            "Wrong number of arguments to #eq? predicate. Expected 2, got {}.",
                            args.len()
                        ),
                    ));
                }
                let capture = first_capture("eq?")?;
                let positive = name == "eq?" || name == "any-eq?";
                let all = name == "eq?" || name == "not-eq?";
                out.text.push(match &args[1] {
                    RawArg::Capture(other) => {
                        TextPredicate::EqCapture(capture, *other, positive, all)
                    }
                    RawArg::String(s) => {
                        TextPredicate::EqString(capture, s.as_str().into(), positive, all)
                    }
                });
            }
            "match?" | "not-match?" | "any-match?" | "any-not-match?" => {
                if args.len() != 2 {
                    return Err(predicate_error(
                        row,
                        format!(
                            "Wrong number of arguments to #match? predicate. Expected 2, got {}.",
                            args.len()
                        ),
                    ));
                }
                let capture = first_capture("match?")?;
                let pattern = match &args[1] {
                    RawArg::Capture(c) => {
                        return Err(predicate_error(
                            row,
                            format!(
                                "Second argument to #match? predicate must be a literal. Got capture @{}.",
                                capture_names[*c as usize]
                            ),
                        ))
                    }
                    RawArg::String(s) => s,
                };
                let positive = name == "match?" || name == "any-match?";
                let all = name == "match?" || name == "not-match?";
                let regex = regex::bytes::Regex::new(pattern)
                    .map_err(|_| predicate_error(row, format!("Invalid regex '{pattern}'")))?;
                out.text
                    .push(TextPredicate::MatchString(capture, regex, positive, all));
            }
            "set!" => out
                .property_settings
                .push(property(row, name, capture_names, args)?),
            "is?" | "is-not?" => out
                .property_predicates
                .push((property(row, name, capture_names, args)?, name == "is?")),
            "any-of?" | "not-any-of?" => {
                if args.is_empty() {
                    return Err(predicate_error(
                        row,
                        "Wrong number of arguments to #any-of? predicate. Expected at least 1, got 0."
                            .to_string(),
                    ));
                }
                let capture = first_capture("any-of?")?;
                let mut values = Vec::new();
                for arg in &args[1..] {
                    match arg {
                        RawArg::Capture(c) => {
                            return Err(predicate_error(
                                row,
                                format!(
                                    "Arguments to #any-of? predicate must be literals. Got capture @{}.",
                                    capture_names[*c as usize]
                                ),
                            ))
                        }
                        RawArg::String(s) => values.push(Box::<str>::from(s.as_str())),
                    }
                }
                out.text.push(TextPredicate::AnyString(
                    capture,
                    values.into(),
                    name == "any-of?",
                ));
            }
            _ => out.general.push(QueryPredicate {
                operator: name.into(),
                args: args
                    .iter()
                    .map(|a| match a {
                        RawArg::Capture(c) => QueryPredicateArg::Capture(*c),
                        RawArg::String(s) => QueryPredicateArg::String(s.as_str().into()),
                    })
                    .collect(),
            }),
        }
    }
    Ok(out)
}

fn property(
    row: usize,
    name: &str,
    capture_names: &[String],
    args: &[RawArg],
) -> Result<QueryProperty, QueryError> {
    if args.is_empty() || args.len() > 3 {
        return Err(predicate_error(
            row,
            format!(
                "Wrong number of arguments to {name} predicate. Expected 1 to 3, got {}.",
                args.len()
            ),
        ));
    }
    let mut capture_id = None;
    let mut key: Option<&str> = None;
    let mut value: Option<&str> = None;
    for arg in args {
        match arg {
            RawArg::Capture(c) => {
                if capture_id.is_some() {
                    return Err(predicate_error(
                        row,
                        format!(
                            "Invalid arguments to {name} predicate. Unexpected second capture name @{}",
                            capture_names[*c as usize]
                        ),
                    ));
                }
                capture_id = Some(*c as usize);
            }
            RawArg::String(s) if key.is_none() => key = Some(s),
            RawArg::String(s) if value.is_none() => value = Some(s),
            RawArg::String(s) => {
                return Err(predicate_error(
                    row,
                    format!(
                        "Invalid arguments to {name} predicate. Unexpected third argument @{s}"
                    ),
                ))
            }
        }
    }
    match key {
        Some(key) => Ok(QueryProperty {
            key: key.into(),
            value: value.map(Into::into),
            capture_id,
        }),
        None => Err(predicate_error(
            row,
            format!("Invalid arguments to {name} predicate. Missing key argument"),
        )),
    }
}

/// Whether a match's captures satisfy every text predicate of its pattern. `captures` lists the match's
/// (capture id, node text) in the match's order.
pub fn satisfied(predicates: &[TextPredicate], captures: &[(u32, &[u8])]) -> bool {
    let nodes = |id: u32| {
        captures
            .iter()
            .filter(move |(c, _)| *c == id)
            .map(|(_, t)| *t)
    };
    predicates.iter().all(|p| match p {
        TextPredicate::EqCapture(a, b, positive, all) => {
            let mut left = nodes(*a);
            let mut right = nodes(*b);
            loop {
                match (left.next(), right.next()) {
                    (Some(x), Some(y)) => {
                        let hit = x == y;
                        if hit != *positive && *all {
                            return false;
                        }
                        if hit == *positive && !*all {
                            return true;
                        }
                    }
                    (None, None) => return true,
                    _ => return false,
                }
            }
        }
        TextPredicate::EqString(c, s, positive, all) => {
            for text in nodes(*c) {
                let hit = text == s.as_bytes();
                if hit != *positive && *all {
                    return false;
                }
                if hit == *positive && !*all {
                    return true;
                }
            }
            true
        }
        TextPredicate::MatchString(c, regex, positive, all) => {
            for text in nodes(*c) {
                let hit = regex.is_match(text);
                if hit != *positive && *all {
                    return false;
                }
                if hit == *positive && !*all {
                    return true;
                }
            }
            true
        }
        TextPredicate::AnyString(c, values, positive) => {
            nodes(*c).all(|text| values.iter().any(|v| text == v.as_bytes()) == *positive)
        }
    })
}
