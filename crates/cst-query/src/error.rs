//! Errors: a query that does not compile ([`QueryError`], placed as tree-sitter's `QueryError` places it),
//! and a feature the matcher does not yet answer exactly ([`Unsupported`]).

use std::fmt;

/// What is wrong with a query, with the same kinds as `tree_sitter::QueryErrorKind`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum QueryErrorKind {
    Syntax,
    NodeType,
    Field,
    Capture,
    Predicate,
    Structure,
}

/// A query that does not compile: its kind, where (byte offset, and the row and column tree-sitter's Rust
/// binding derives from it) and a message. Predicate errors, found after parsing as the binding finds
/// them, carry the pattern's row and offset 0, as the binding's do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueryError {
    pub row: usize,
    pub column: usize,
    pub offset: usize,
    pub kind: QueryErrorKind,
    pub message: String,
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "query error ({:?}) at row {}, column {} (byte {}): {}",
            self.kind, self.row, self.column, self.offset, self.message
        )
    }
}

impl std::error::Error for QueryError {}

/// A query feature the matcher refuses rather than risk answering differently from tree-sitter.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("pattern {pattern} uses {feature}, which this engine does not yet match exactly")]
pub struct Unsupported {
    pub pattern: usize,
    pub feature: &'static str,
}
