//! tree-sitter as the reference every backend must match: a [`CstCursor`] over a native tree, and the
//! preorder walking helpers shared by verification and the operations.

use crate::backend::{CstCursor, NodeInfo};
use std::borrow::Cow;

/// A [`CstCursor`] over a native tree-sitter tree (`TreeCursor` plus the source it slices text from).
pub struct TreeSitterCursor<'a> {
    cursor: tree_sitter::TreeCursor<'a>,
    source: &'a str,
}

impl<'a> TreeSitterCursor<'a> {
    /// A cursor on `node` (its root for this cursor: `goto_parent` stops there).
    pub fn new(node: tree_sitter::Node<'a>, source: &'a str) -> Self {
        TreeSitterCursor {
            cursor: node.walk(),
            source,
        }
    }

    /// The tree-sitter node under the cursor.
    pub fn ts_node(&self) -> tree_sitter::Node<'a> {
        self.cursor.node()
    }

    /// Moves the cursor to `node` of another (or the same) tree, keeping its stack's memory.
    pub fn reset(&mut self, node: tree_sitter::Node<'a>, source: &'a str) {
        self.cursor.reset(node);
        self.source = source;
    }

    /// The underlying `TreeCursor`, for backends that use its own moves (`goto_first_child_for_byte`).
    pub fn tree_cursor(&mut self) -> &mut tree_sitter::TreeCursor<'a> {
        &mut self.cursor
    }
}

impl CstCursor for TreeSitterCursor<'_> {
    fn node(&self) -> NodeInfo {
        let field = self.cursor.field_id().map_or(0, |id| id.get());
        NodeInfo::of(self.cursor.node(), field)
    }

    fn text(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.source[self.cursor.node().byte_range()])
    }

    fn goto_first_child(&mut self) -> bool {
        self.cursor.goto_first_child()
    }

    fn goto_next_sibling(&mut self) -> bool {
        self.cursor.goto_next_sibling()
    }

    fn goto_parent(&mut self) -> bool {
        self.cursor.goto_parent()
    }
}

/// Moves to the next node in preorder; `false` (and the cursor back at its root) after the last one.
/// Iterative, so a tree of any depth is safe.
pub fn next_preorder<C: CstCursor + ?Sized>(cursor: &mut C) -> bool {
    if cursor.goto_first_child() {
        return true;
    }
    loop {
        if cursor.goto_next_sibling() {
            return true;
        }
        if !cursor.goto_parent() {
            return false;
        }
    }
}

/// Calls `visit` on every node from the cursor's node down, in preorder.
pub fn for_each_preorder<C: CstCursor>(cursor: &mut C, mut visit: impl FnMut(&C)) {
    loop {
        visit(cursor);
        if !next_preorder(cursor) {
            return;
        }
    }
}
