//! [`GreenCursor`]: tree-sitter's cursor moves over a green tree, presenting only the visible nodes.
//!
//! Green nodes know neither their parent nor their offset, so the cursor keeps its own stack of the path from
//! tree-sitter's root (the FILE wrapper's only non-trivia child) down to the current element, with each
//! element's index among its parent's children and its start offset (a 32-byte frame per level, in a stack
//! that keeps its memory across `reset`). Moves skip TRIVIA tokens (at most one gap token between two visible
//! siblings, plus padding at the end of a node), so every move is O(1). Token text comes from the token
//! (rowan) or the file's interner (cstree).
//!
//! **Why not the libraries' red trees.** A red tree (rowan's `SyntaxNode`, cstree's `ResolvedNode`) allocates
//! a node per element visited: rowan's is freed as the cursor moves on, cstree's stays allocated in its
//! parent's child slots until the root is dropped (a `NodeData` of about 100 bytes plus 24 bytes of slot and
//! lock per child). A red root kept in the store would grow during verification and every operation, which the
//! harness's drop check rejects; a red root owned by each cursor would allocate on every walk, and cstree drops
//! red trees recursively, which a 100,000-deep file cannot survive on a 2 MiB stack. So the cursor walks the
//! green tree, which is all the store keeps.

use crate::convert::write_text;
use crate::kinds::KindView;
use crate::wide::WideIndex;
use crate::{Element, Library};
use cst_measure::{CstCursor, NodeInfo};
use std::borrow::Cow;

/// One element on the path from the root.
struct Frame<'a, L: Library> {
    element: Element<'a, L>,
    /// Index among the parent's children (the FILE wrapper's, for the root).
    index: usize,
    /// Start byte in the file.
    start: u32,
}

impl<L: Library> Clone for Frame<'_, L> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<L: Library> Copy for Frame<'_, L> {}

/// A cursor over one file's green tree.
pub struct GreenCursor<'a, L: Library> {
    kinds: KindView<'a>,
    /// Resolves the file's token texts.
    resolver: &'a L::Resolver,
    /// Path from tree-sitter's root to the current element; never empty.
    stack: Vec<Frame<'a, L>>,
}

/// The first visible child of `parent` at or after `index`, whose start is `start` if it is at `index`.
fn first_visible<L: Library>(
    parent: &L::NodeData,
    index: usize,
    mut start: u32,
) -> Option<Frame<'_, L>> {
    for (i, element) in L::children(parent).enumerate().skip(index) {
        let element = L::element(element);
        if !element.is_trivia() {
            return Some(Frame {
                element,
                index: i,
                start,
            });
        }
        start += element.text_len();
    }
    None
}

impl<'a, L: Library> GreenCursor<'a, L> {
    /// A cursor on tree-sitter's root inside the FILE wrapper `file`.
    pub(crate) fn new(
        file: &'a L::NodeData,
        resolver: &'a L::Resolver,
        kinds: KindView<'a>,
    ) -> GreenCursor<'a, L> {
        let mut cursor = GreenCursor {
            kinds,
            resolver,
            stack: Vec::with_capacity(32),
        };
        cursor.reset(file, resolver);
        cursor
    }

    /// Puts the cursor on tree-sitter's root inside `file`, keeping its stack's memory.
    pub(crate) fn reset(&mut self, file: &'a L::NodeData, resolver: &'a L::Resolver) {
        let root =
            first_visible::<L>(file, 0, 0).expect("the FILE wrapper holds tree-sitter's root");
        self.resolver = resolver;
        self.stack.clear();
        self.stack.push(root);
    }

    /// Moves from the root to the deepest visible node containing `offset` by the rule of
    /// `cst_measure::backend::descend_to_offset`, starting each level's scan where `wide` allows.
    pub(crate) fn descend(&mut self, offset: u32, wide: &WideIndex) {
        loop {
            let frame = *self.top();
            let Element::Node(node) = frame.element else {
                return;
            };
            let (index, start) = wide.scan_from::<L>(node, self.stack.len(), frame.start, offset);
            let Some(mut child) = first_visible::<L>(node, index, start) else {
                return;
            };
            loop {
                let end = child.start + child.element.text_len();
                if end >= offset && (end > offset || child.start == end) {
                    if child.start > offset {
                        return;
                    }
                    self.stack.push(child);
                    break;
                }
                match first_visible::<L>(node, child.index + 1, end) {
                    Some(next) => child = next,
                    None => return,
                }
            }
        }
    }

    fn top(&self) -> &Frame<'a, L> {
        self.stack
            .last()
            .expect("the stack holds at least the root")
    }
}

impl<L: Library> CstCursor for GreenCursor<'_, L> {
    #[inline]
    fn node(&self) -> NodeInfo {
        let frame = self.top();
        let node = self.kinds.decode(frame.element.kind());
        NodeInfo {
            kind: node.kind,
            field: node.field,
            missing: node.missing,
            start: frame.start,
            end: frame.start + frame.element.text_len(),
        }
    }

    fn text(&self) -> Cow<'_, str> {
        match self.top().element {
            Element::Token(token) => Cow::Borrowed(L::token_text(token, self.resolver)),
            Element::Node(node) => {
                let mut text = String::with_capacity(L::node_len(node) as usize);
                write_text::<L>(node, self.resolver, &mut text);
                Cow::Owned(text)
            }
        }
    }

    fn goto_first_child(&mut self) -> bool {
        let frame = *self.top();
        let Element::Node(node) = frame.element else {
            return false;
        };
        match first_visible::<L>(node, 0, frame.start) {
            Some(child) => {
                self.stack.push(child);
                true
            }
            None => false,
        }
    }

    fn goto_next_sibling(&mut self) -> bool {
        let [.., parent, frame] = self.stack[..] else {
            // The root has no siblings (the wrapper's other children are trivia).
            return false;
        };
        let Element::Node(parent) = parent.element else {
            unreachable!("only nodes have children on the stack");
        };
        match first_visible::<L>(
            parent,
            frame.index + 1,
            frame.start + frame.element.text_len(),
        ) {
            Some(sibling) => {
                *self.stack.last_mut().expect("checked above") = sibling;
                true
            }
            None => false,
        }
    }

    fn goto_parent(&mut self) -> bool {
        if self.stack.len() > 1 {
            self.stack.pop();
            true
        } else {
            false
        }
    }
}
