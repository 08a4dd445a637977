//! Backend `tree-sitter`: keeps each file's native `tree_sitter::Tree` (its nodes live on the C heap, counted
//! through the allocator hooks) together with a copy of the source text, which tree-sitter trees do not hold
//! but every query for text needs. This is the baseline the other backends are compared with.

use cst_measure::reference::TreeSitterCursor;
use cst_measure::{Backend, BuildError, CstStore, Language, NodeInfo};
use std::borrow::Cow;

/// The native tree-sitter backend.
pub struct TreeSitter;

impl Backend for TreeSitter {
    const NAME: &'static str = "tree-sitter";
    const RETAINS: &'static str =
        "each file's native tree_sitter::Tree (C heap, via the allocator hooks) plus a copy of its source text";
    const INCLUDES_SOURCE: bool = true;
    type Store = TreeSitterStore;

    fn new_store() -> TreeSitterStore {
        TreeSitterStore { files: Vec::new() }
    }
}

/// One file: its language, its text and its tree.
struct File {
    language: Language,
    text: Box<str>,
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

    fn cursor(&self, file: usize) -> TreeSitterCursor<'_> {
        let file = &self.files[file];
        TreeSitterCursor::new(file.tree.root_node(), &file.text)
    }

    /// tree-sitter's own `descendant_for_byte_range`, timed as the reference for node lookups.
    fn native_node_at_offset(&self, file: usize, offset: u32) -> Option<NodeInfo> {
        let root = self.files[file].tree.root_node();
        let offset = offset as usize;
        Some(NodeInfo::of(
            root.descendant_for_byte_range(offset, offset)
                .unwrap_or(root),
        ))
    }
}
