//! tree-sitter's own trees as a [`CstStore`]: the `tree-sitter` row's store, and what every other row's
//! operations are timed beside in that row's own process (the harness builds one from a sample of the files
//! and runs each operation on it in turns with the backend's: see [`crate::harness`]).
//!
//! Layout: per file, its language, its text (reference-counted, so that a version shares it) and its native
//! `tree_sitter::Tree` (nodes on the C heap, counted through the allocator hooks). A cursor is tree-sitter's
//! `TreeCursor` ([`TreeSitterCursor`]); a lookup descends with `TreeCursor::goto_first_child_for_byte`, linear
//! in the children tree-sitter scans, without making a node per child. A version is a new handle on the same
//! tree and text.

use crate::backend::{BuildError, CstStore, NodeInfo};
use crate::reference::TreeSitterCursor;
use crate::Language;
use std::borrow::Cow;
use std::sync::Arc;

/// One file: its language, its text and its tree; cloning it shares both.
#[derive(Clone)]
pub struct File {
    language: Language,
    text: Arc<str>,
    tree: tree_sitter::Tree,
}

/// Native trees, one per file.
#[derive(Default)]
pub struct TreeSitterStore {
    files: Vec<File>,
}

impl TreeSitterStore {
    /// An empty store.
    pub fn new() -> TreeSitterStore {
        TreeSitterStore { files: Vec::new() }
    }

    /// The file's tree.
    pub fn tree(&self, file: usize) -> &tree_sitter::Tree {
        &self.files[file].tree
    }
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

    /// Read from the tree itself, which keeps the hidden nodes: built on each call.
    fn query_status(&self, file: usize) -> Option<crate::query_status::StatusStream<'_>> {
        Some(crate::query_status::FileStatus::of(&self.files[file].tree).into_stream())
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
