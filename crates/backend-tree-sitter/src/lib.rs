//! Backend `tree-sitter`: keeps each file's native `tree_sitter::Tree` (its nodes live on the C heap, counted
//! through the allocator hooks) together with a copy of the source text, which tree-sitter trees do not hold
//! but every query for text needs. This is the baseline the other backends are compared with. Its store is
//! [`cst_measure::native::TreeSitterStore`], the same store every other row's operations are timed beside in
//! that row's own process.
//!
//! Editing: the store keeps the tree tree-sitter's incremental reparse made, which shares every unchanged
//! subtree with the previous version's (subtrees are reference-counted); a version is that tree (a new handle
//! on the same nodes) and the text, shared with the store until the next edit replaces it.

pub use cst_measure::native::{File, TreeSitterStore};
use cst_measure::Backend;

/// The native tree-sitter backend.
pub struct TreeSitter;

impl Backend for TreeSitter {
    const NAME: &'static str = "tree-sitter";
    const RETAINS: &'static str =
        "each file's native tree_sitter::Tree (C heap, via the allocator hooks) plus a \
         copy of its source text (reference-counted, so that a version shares it)";
    const INCLUDES_SOURCE: bool = true;
    const LOOKUP: &'static str = "the descent through tree-sitter's TreeCursor, skipping to the child at the offset \
         at each level with TreeCursor::goto_first_child_for_byte (tree-sitter's own scan over its children, \
         linear but without making a node per child), then the visible-node rule over the next sibling or two";
    const UPDATE: &'static str = "keeps tree-sitter's incrementally reparsed tree, which shares its unchanged \
         subtrees with the previous version's; a version is a tree handle on the same subtrees and the text";
    type Store = TreeSitterStore;

    fn new_store() -> TreeSitterStore {
        TreeSitterStore::new()
    }
}
