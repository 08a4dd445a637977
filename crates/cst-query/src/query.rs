//! [`Query`]: a compiled query, with the accessors of `tree_sitter::Query` that describe it (pattern
//! count, capture names, each pattern's start and predicates).
//!
//! Compiling is the parse (linear in the source), one regex compilation per `match?` predicate, and the
//! step program of [`crate::steps`] (which asks tree-sitter's own compilation of the same source for
//! the grammar's guarantees).

use crate::ast::Pattern;
use crate::error::QueryError;
use crate::parse::{parse, pattern_row};
use crate::predicate::{interpret, PatternPredicates, QueryPredicate, QueryProperty};
use crate::steps::Program;

/// A query compiled against one grammar.
pub struct Query {
    pub(crate) patterns: Vec<Pattern>,
    pub(crate) program: Program,
    pub(crate) predicates: Vec<PatternPredicates>,
    capture_names: Vec<String>,
}

impl Query {
    /// Parses `source` against `language`, with tree-sitter's errors for what does not compile.
    pub fn new(language: &tree_sitter::Language, source: &str) -> Result<Query, QueryError> {
        let parsed = parse(language, source)?;
        // The grammar analysis's errors come before the predicates' (as in tree-sitter, whose
        // binding reads predicates only from a query that compiled).
        let program =
            Program::compile(language, source, &parsed.patterns, &parsed.predicate_spans)?;
        let mut predicates = Vec::with_capacity(parsed.patterns.len());
        for (pattern, raw) in parsed.patterns.iter().zip(&parsed.predicates) {
            let row = pattern_row(source, pattern.start_byte);
            predicates.push(interpret(raw, &parsed.capture_names, row)?);
        }
        Ok(Query {
            program,
            patterns: parsed.patterns,
            predicates,
            capture_names: parsed.capture_names,
        })
    }

    pub fn pattern_count(&self) -> usize {
        self.patterns.len()
    }

    /// Every capture name, in the order first written (a capture's id is its index).
    pub fn capture_names(&self) -> Vec<&str> {
        self.capture_names.iter().map(String::as_str).collect()
    }

    /// The parsed pattern.
    pub fn pattern(&self, index: usize) -> &Pattern {
        &self.patterns[index]
    }

    pub fn start_byte_for_pattern(&self, index: usize) -> usize {
        self.patterns[index].start_byte
    }

    pub fn end_byte_for_pattern(&self, index: usize) -> usize {
        self.patterns[index].end_byte
    }

    pub fn general_predicates(&self, index: usize) -> &[QueryPredicate] {
        &self.predicates[index].general
    }

    pub fn property_settings(&self, index: usize) -> &[QueryProperty] {
        &self.predicates[index].property_settings
    }

    pub fn property_predicates(&self, index: usize) -> &[(QueryProperty, bool)] {
        &self.predicates[index].property_predicates
    }
}
