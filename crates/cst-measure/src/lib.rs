//! Shared measurement kit for comparing CST storage strategies.
//!
//! - [`alloc`]: the counting global allocator, with tree-sitter's C allocations routed into it.
//! - [`language`]: the grammars and how file extensions select them.
//! - [`corpus`]: the built-in corpus and loading any directory, with what was skipped and why.
//! - [`backend`]: the trait a storage strategy implements.
//! - [`reference`]: tree-sitter's own cursor, the reference every backend is checked against.
//! - [`verify`]: the byte-for-byte and node-for-node check.
//! - [`fixtures`]: generated test inputs, awkward ones included.
//! - [`ops`]: the operations every backend answers, through the same generic code.
//! - [`harness`]: measuring one backend (memory, time, scaling, verification, operations).
//! - [`report`]: derived metrics, JSON and Markdown tables.

pub mod alloc;
pub mod backend;
pub mod corpus;
pub mod fixtures;
pub mod harness;
pub mod language;
pub mod ops;
pub mod reference;
pub mod report;
pub mod verify;

pub use backend::{Backend, BuildError, CstCursor, CstStore, NodeInfo};
pub use language::Language;
