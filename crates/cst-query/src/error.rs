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

/// Printed as tree-sitter's Rust binding prints its `QueryError`: `Query error at ROW:COLUMN.`, both
/// 1-based (the fields are 0-based, as the binding's are), then what is wrong and the message.
impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            QueryErrorKind::Field => "Invalid field name ",
            QueryErrorKind::NodeType => "Invalid node type ",
            QueryErrorKind::Capture => "Invalid capture name ",
            QueryErrorKind::Predicate => "Invalid predicate: ",
            QueryErrorKind::Structure => "Impossible pattern:\n",
            QueryErrorKind::Syntax => "Invalid syntax:\n",
        };
        write!(
            f,
            "Query error at {}:{}. {what}{}",
            self.row + 1,
            self.column + 1,
            self.message
        )
    }
}

impl QueryError {
    /// tree-sitter's own error for the same source (the grammar analysis's `Structure` errors are
    /// read from tree-sitter's compilation, as its guarantees are: see [`crate::steps`]).
    pub(crate) fn from_tree_sitter(e: &tree_sitter::QueryError) -> QueryError {
        let kind = match e.kind {
            tree_sitter::QueryErrorKind::Syntax => QueryErrorKind::Syntax,
            tree_sitter::QueryErrorKind::NodeType => QueryErrorKind::NodeType,
            tree_sitter::QueryErrorKind::Field => QueryErrorKind::Field,
            tree_sitter::QueryErrorKind::Capture => QueryErrorKind::Capture,
            tree_sitter::QueryErrorKind::Predicate => QueryErrorKind::Predicate,
            tree_sitter::QueryErrorKind::Structure | tree_sitter::QueryErrorKind::Language => {
                QueryErrorKind::Structure
            }
        };
        QueryError {
            row: e.row,
            column: e.column,
            offset: e.offset,
            kind,
            message: e.message.clone(),
        }
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
