//! [`SyntreeCursor`]: tree-sitter's cursor moves over a syntree tree, with syntree's own links.
//!
//! Every element of the tree is a visible node (the conversion makes no trivia), and each holds its parent,
//! first child and next sibling, so the cursor is one `syntree::Node` (two references) and the file's text: no
//! stack, no skipping, every move one link.

use crate::convert::FileTree;
use crate::wide::{TreeNode, WideIndex};
use cst_measure::{CstCursor, NodeInfo};
use std::borrow::Cow;

/// A cursor over one file's tree.
pub struct SyntreeCursor<'a> {
    node: TreeNode<'a>,
    /// The file's text, which the spans index.
    text: &'a str,
}

impl<'a> SyntreeCursor<'a> {
    /// A cursor on the root of `tree` (its one top-level node).
    pub(crate) fn new(tree: &'a FileTree, text: &'a str) -> SyntreeCursor<'a> {
        SyntreeCursor {
            node: tree.first().expect("every file has tree-sitter's root"),
            text,
        }
    }

    /// Moves from the root to the deepest visible node containing `offset` by the rule of
    /// `cst_measure::backend::descend_to_offset`, starting each level's scan where `wide` allows.
    pub(crate) fn descend(&mut self, file: u32, tree: &'a FileTree, offset: u32, wide: &WideIndex) {
        'level: while let Some(mut child) = wide.scan_from(file, tree, self.node, offset) {
            loop {
                let span = child.span();
                if span.end >= offset && (span.end > offset || span.start == span.end) {
                    if span.start > offset {
                        return;
                    }
                    self.node = child;
                    continue 'level;
                }
                match child.next() {
                    Some(next) => child = next,
                    None => return,
                }
            }
        }
    }
}

impl CstCursor for SyntreeCursor<'_> {
    #[inline]
    fn node(&self) -> NodeInfo {
        let value = self.node.value();
        let span = self.node.span();
        NodeInfo {
            kind: value.kind,
            field: value.field(),
            start: span.start,
            end: span.end,
            missing: value.missing(),
        }
    }

    fn text(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.text[self.node.range()])
    }

    fn goto_first_child(&mut self) -> bool {
        self.node.first().map(|child| self.node = child).is_some()
    }

    fn goto_next_sibling(&mut self) -> bool {
        self.node.next().map(|next| self.node = next).is_some()
    }

    fn goto_parent(&mut self) -> bool {
        self.node
            .parent()
            .map(|parent| self.node = parent)
            .is_some()
    }
}
