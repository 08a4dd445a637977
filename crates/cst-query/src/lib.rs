//! A tree-sitter query engine of its own: it parses `.scm` query source against a grammar and matches
//! the patterns over any tree that implements [`QueryTree`], answering as tree-sitter's `QueryCursor`
//! does (the oracle every test compares with).
//!
//! Layout:
//! - [`parse`]: the query-source parser (tree-sitter's grammar, errors at tree-sitter's offsets), which
//!   builds the patterns of [`ast`] with every name resolved to a kind or field id;
//! - [`predicate`]: predicates sorted and applied as tree-sitter's Rust binding does;
//! - [`query`]: [`Query`], the compiled query and its accessors;
//! - [`tree`]: [`QueryTree`], what the matcher needs of a tree, and [`ts_tree`]: tree-sitter's `Tree`
//!   behind it;
//! - [`steps`]: the step program tree-sitter's query compiler builds (guaranteed flags read from
//!   tree-sitter's own compilation of the same source: an analysis of the grammar, not of a tree);
//! - [`matcher`]: [`QueryCursor`], `matches` and `captures`, a port of tree-sitter's query execution;
//! - [`store_tree`]: [`StoreTree`], any backend's stored file behind [`QueryTree`] (one preorder walk of
//!   the store into a flat table, reading the statuses the store keeps);
//! - [`ops`]: the query files the grammar crates ship ([`ops::shipped`]), the comparison of answers with
//!   tree-sitter's `QueryCursor`, and the compare run's query operations ([`ops::ShippedQueries`]);
//! - [`statuses`] (from `cst_measure::query_status`): the query cursor's field and supertypes per node of
//!   a tree-sitter tree, which [`TsTree`] reads.
//!
//! Costs: compiling is linear in the query source (plus a symbol-table scan per node name and one regex
//! compilation per `match?`).
//!
//! Errors are tree-sitter's: kind, byte offset, 0-based row and column, printed `Query error at
//! ROW:COLUMN.` 1-based as the binding prints them (impossible patterns are found by tree-sitter's own
//! compilation of the source, which [`steps`] runs for the grammar's guarantees).
//!
//! Tested against tree-sitter's `QueryCursor` on the same trees: the shipped query files
//! (`tests/oracle.rs`), upstream's query tests ported (`tests/upstream.rs`), random patterns from real
//! subtrees (`tests/random.rs`), bad queries (`tests/errors.rs`) and the match limit over wide nodes
//! (`tests/wide.rs`); `examples/query_speed.rs` times the two engines.
//!
//! Nothing is refused; the approximations that remain are in `NOTES.md`.

pub mod ast;
pub mod error;
pub mod matcher;
pub mod ops;
pub mod parse;
pub mod predicate;
pub mod query;
pub mod steps;
pub mod store_tree;
pub mod tree;
pub mod ts_tree;

pub use cst_measure::query_status::{statuses, NodeStatus};
pub use error::{QueryError, QueryErrorKind, Unsupported};
pub use matcher::{Capture, Match, QueryCursor};
pub use predicate::{QueryPredicate, QueryPredicateArg, QueryProperty};
pub use query::Query;
pub use store_tree::{NotAnswered, StoreTree};
pub use tree::QueryTree;
pub use ts_tree::TsTree;
