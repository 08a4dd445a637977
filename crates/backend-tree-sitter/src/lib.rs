//! Backend `tree-sitter`: keeps each file's native `tree_sitter::Tree` (its nodes live on the C heap, counted
//! through the allocator hooks) together with a copy of the source text, which tree-sitter trees do not hold
//! but every query for text needs. This is the baseline the other backends are compared with.
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

use cst_measure::reference::TreeSitterCursor;
use cst_measure::{Backend, BuildError, CstStore, Language, NodeInfo};
use std::borrow::Cow;
use std::sync::Arc;

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
        TreeSitterStore { files: Vec::new() }
    }
}

/// One file: its language, its text and its tree; cloning it shares both.
#[derive(Clone)]
pub struct File {
    language: Language,
    text: Arc<str>,
    tree: tree_sitter::Tree,
}

/// Native trees, one per file.
pub struct TreeSitterStore {
    files: Vec<File>,
}

impl CstStore for TreeSitterStore {
    type Cursor<'a> = TreeSitterCursor<'a>;

    fn add(
        &mut self,
        language: Language,
        source: &str,
        tree: tree_sitter::Tree,
    ) -> Result<(), BuildError> {
        self.files.push(File {
            language,
            text: source.into(),
            tree,
        });
        Ok(())
    }

    fn finish(&mut self) {
        self.files.shrink_to_fit();
    }

    fn len(&self) -> usize {
        self.files.len()
    }

    fn language(&self, file: usize) -> Language {
        self.files[file].language
    }

    fn text(&self, file: usize) -> Cow<'_, str> {
        Cow::Borrowed(&self.files[file].text)
    }

    type Version = File;

    fn version(&self, file: usize) -> File {
        self.files[file].clone()
    }

    fn restore(&mut self, file: usize, version: &File) {
        self.files[file] = version.clone();
    }

    fn replace(
        &mut self,
        file: usize,
        language: Language,
        source: &str,
        tree: tree_sitter::Tree,
    ) -> Result<(), BuildError> {
        self.files[file] = File {
            language,
            text: source.into(),
            tree,
        };
        Ok(())
    }

    fn cursor(&self, file: usize) -> TreeSitterCursor<'_> {
        let file = &self.files[file];
        TreeSitterCursor::new(file.tree.root_node(), &file.text)
    }

    fn reset_cursor<'a>(&'a self, cursor: &mut TreeSitterCursor<'a>, file: usize) {
        let file = &self.files[file];
        cursor.reset(file.tree.root_node(), &file.text);
    }

    fn seek<'a>(&'a self, cursor: &mut TreeSitterCursor<'a>, file: usize, offset: u32) {
        self.reset_cursor(cursor, file);
        let cursor = cursor.tree_cursor();
        loop {
            // The first visible child whose end reaches the offset: tree-sitter's skip finds the first ending
            // past `offset - 1`. It gives up (None) when there is none, and also when a hidden child reaches the
            // offset but none of its visible children do; a scan from the first child then decides.
            let found = offset > 0
                && cursor
                    .goto_first_child_for_byte(offset as usize - 1)
                    .is_some();
            if !found && !cursor.goto_first_child() {
                return; // A leaf: the answer.
            }
            // The rule of `descend_to_offset` from there: skip children that end at the offset unless empty.
            loop {
                let node = cursor.node();
                let (start, end) = (node.start_byte() as u32, node.end_byte() as u32);
                if end >= offset && (end > offset || start == end) {
                    if start > offset {
                        cursor.goto_parent();
                        return;
                    }
                    break;
                }
                if !cursor.goto_next_sibling() {
                    cursor.goto_parent();
                    return;
                }
            }
        }
    }

    /// tree-sitter's own `descendant_for_byte_range`, timed as the reference for node lookups (a `Node` does
    /// not know its field, so the answer's field is 0; these answers are not compared).
    fn native_node_at_offset(&self, file: usize, offset: u32) -> Option<NodeInfo> {
        let root = self.files[file].tree.root_node();
        let offset = offset as usize;
        Some(NodeInfo::of(
            root.descendant_for_byte_range(offset, offset)
                .unwrap_or(root),
            0,
        ))
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
