//! Backend `tree-sitter`: keeps each file's native `tree_sitter::Tree` (its nodes live on the C heap, counted
//! through the allocator hooks) together with a copy of the source text, which tree-sitter trees do not hold
//! but every query for text needs. This is the baseline the other backends are compared with. Its store is
//! [`cst_measure::native::TreeSitterStore`], the same store every other row's operations are timed beside in
//! that row's own process.
//!
//! # Layout
//!
//! | what | stored as | bytes |
//! | --- | --- | --- |
//! | per file | `File`: language, text (`Arc<str>`, 16), tree (`tree_sitter::Tree`, one pointer, 8) | 32 (a unit test checks it) |
//! | text | the `Arc<str>`'s block: two reference counts and the source | 16 + 1 per source byte |
//! | nodes | tree-sitter's own subtrees on the C heap (inner nodes and most leaves as heap records, small leaves inline in their parent's child array), through the allocator hooks | what the compare run measures |
//!
//! # Navigation and its costs
//!
//! - The cursor wraps tree-sitter's `TreeCursor` (a stack of the entries from the root to the node):
//!   `goto_first_child`, `goto_next_sibling` and `goto_parent` are tree-sitter's, O(1) amortised, each
//!   stepping over the hidden nodes between visible ones; `node()` reads the node's kind, field, range and
//!   MISSING flag from it.
//! - `text()`, `CstStore::text`: slices of the copy by the node's range. O(1), no copy.
//! - `seek`: descends with `TreeCursor::goto_first_child_for_byte` at each level (tree-sitter's scan over the
//!   children, linear in the children passed, making no node per child), then the visible-node rule over the
//!   next sibling or two: O(depth × children passed).
//! - `native_node_at_offset`: tree-sitter's `descendant_for_byte_range`, timed for reference.
//!
//! # Limits
//!
//! tree-sitter's: positions are `u32` byte offsets, so a file must be under 4 GiB; the store adds none.
//!
//! # Editing
//!
//! The store keeps the tree tree-sitter's incremental reparse made, which shares every unchanged
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

#[cfg(test)]
mod tests {
    /// The per-file bytes of the crate doc's layout table.
    #[test]
    fn a_file_entry_is_32_bytes() {
        assert_eq!(std::mem::size_of::<super::File>(), 32);
    }
}
