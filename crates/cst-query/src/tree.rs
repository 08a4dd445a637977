//! What the matcher needs of a tree: [`QueryTree`], a small read-only view of one file's visible nodes.
//!
//! Nodes are named by their preorder index among visible nodes (the root is 0), the identity the oracle
//! tests compare answers by. Every method is expected to cost O(1) (children through first child and
//! next sibling), except [`QueryTree::has_child_in_field`], which may scan the node's children.

use std::ops::Range;

/// A read-only view of one file's visible nodes, in the terms tree-sitter's query cursor sees them.
pub trait QueryTree {
    /// How many visible nodes the tree has; they are numbered `0..node_count()` in preorder.
    fn node_count(&self) -> usize;
    /// The node's public kind id (`ERROR` is `u16::MAX`).
    fn kind_id(&self, node: usize) -> u16;
    fn is_named(&self, node: usize) -> bool;
    fn is_extra(&self, node: usize) -> bool;
    /// Inserted by the parser's error recovery (zero-width).
    fn is_missing(&self, node: usize) -> bool;
    fn byte_range(&self, node: usize) -> Range<usize>;
    /// The node's field as the query cursor reads it (`ts_tree_cursor_current_status`); for an extra
    /// under a hidden node that has a field, this differs from `TreeCursor::field_id`.
    fn field_id(&self, node: usize) -> Option<u16>;
    /// Whether a hidden supertype node of kind `supertype` lies between the node and its visible
    /// parent (is in `ts_tree_cursor_current_status`'s supertypes): what `(expression)` asks.
    fn has_supertype(&self, node: usize, supertype: u16) -> bool;
    /// Whether `ts_node_child_by_field_id(node, field)` finds a child: checked for negated fields.
    fn has_child_in_field(&self, node: usize, field: u16) -> bool;
    fn parent(&self, node: usize) -> Option<usize>;
    fn first_child(&self, node: usize) -> Option<usize>;
    fn next_sibling(&self, node: usize) -> Option<usize>;
    /// The file's text, which predicates read.
    fn source(&self) -> &[u8];

    /// The node's text.
    fn text(&self, node: usize) -> &[u8] {
        let range = self.byte_range(node);
        &self.source()[range]
    }
    /// The node's children, in order.
    fn children(&self, node: usize) -> Children<'_, Self>
    where
        Self: Sized,
    {
        Children {
            tree: self,
            next: self.first_child(node),
        }
    }
}

/// The children of a node, in order.
pub struct Children<'t, T: QueryTree> {
    tree: &'t T,
    next: Option<usize>,
}

impl<T: QueryTree> Iterator for Children<'_, T> {
    type Item = usize;
    fn next(&mut self) -> Option<usize> {
        let node = self.next?;
        self.next = self.tree.next_sibling(node);
        Some(node)
    }
}
