//! [`RowanCursor`]: tree-sitter's cursor moves over a green tree, presenting only the visible nodes.
//!
//! Green nodes know neither their parent nor their offset, so the cursor keeps its own stack of the path from
//! tree-sitter's root (the FILE wrapper's only non-trivia child) down to the current element, with each
//! element's index among its parent's children and its start offset. Moves skip TRIVIA tokens (at most one
//! gap token between two visible siblings, plus padding at the end of a node), so every move is O(1).

use crate::convert::write_text;
use crate::kinds::{KindView, TRIVIA};
use crate::wide::WideIndex;
use cst_measure::{CstCursor, NodeInfo};
use rowan::{GreenNodeData, GreenTokenData, NodeOrToken};
use std::borrow::Cow;

type Element<'a> = NodeOrToken<&'a GreenNodeData, &'a GreenTokenData>;

/// One element on the path from the root.
#[derive(Clone, Copy)]
struct Frame<'a> {
    element: Element<'a>,
    /// Index among the parent's children (the FILE wrapper's, for the root).
    index: usize,
    /// Start byte in the file.
    start: u32,
}

/// A cursor over one file's green tree.
pub struct RowanCursor<'a> {
    kinds: KindView<'a>,
    /// Path from tree-sitter's root to the current element; never empty.
    stack: Vec<Frame<'a>>,
}

fn len(element: Element<'_>) -> u32 {
    match element {
        NodeOrToken::Node(node) => node.text_len().into(),
        NodeOrToken::Token(token) => token.text().len() as u32,
    }
}

fn is_trivia(element: Element<'_>) -> bool {
    matches!(element, NodeOrToken::Token(token) if token.kind() == TRIVIA)
}

/// The first visible child of `parent` at or after `index`, whose start is `start` if it is at `index`.
fn first_visible<'a>(parent: &'a GreenNodeData, index: usize, mut start: u32) -> Option<Frame<'a>> {
    for (i, element) in parent.children().enumerate().skip(index) {
        if !is_trivia(element) {
            return Some(Frame {
                element,
                index: i,
                start,
            });
        }
        start += len(element);
    }
    None
}

impl<'a> RowanCursor<'a> {
    /// A cursor on tree-sitter's root inside the FILE wrapper `file`.
    pub(crate) fn new(file: &'a GreenNodeData, kinds: KindView<'a>) -> RowanCursor<'a> {
        let mut cursor = RowanCursor {
            kinds,
            stack: Vec::with_capacity(32),
        };
        cursor.reset(file);
        cursor
    }

    /// Puts the cursor on tree-sitter's root inside `file`, keeping its stack's memory.
    pub(crate) fn reset(&mut self, file: &'a GreenNodeData) {
        let root = first_visible(file, 0, 0).expect("the FILE wrapper holds tree-sitter's root");
        self.stack.clear();
        self.stack.push(root);
    }

    /// Moves from the root to the deepest visible node containing `offset` by the rule of
    /// `cst_measure::backend::descend_to_offset`, starting each level's scan where `wide` allows.
    pub(crate) fn descend(&mut self, offset: u32, wide: &WideIndex) {
        loop {
            let frame = *self.top();
            let NodeOrToken::Node(node) = frame.element else {
                return;
            };
            let (index, start) = wide.scan_from(node, self.stack.len(), frame.start, offset);
            let Some(mut child) = first_visible(node, index, start) else {
                return;
            };
            loop {
                let end = child.start + len(child.element);
                if end >= offset && (end > offset || child.start == end) {
                    if child.start > offset {
                        return;
                    }
                    self.stack.push(child);
                    break;
                }
                match first_visible(node, child.index + 1, end) {
                    Some(next) => child = next,
                    None => return,
                }
            }
        }
    }

    fn top(&self) -> &Frame<'a> {
        self.stack
            .last()
            .expect("the stack holds at least the root")
    }
}

impl CstCursor for RowanCursor<'_> {
    #[inline]
    fn node(&self) -> NodeInfo {
        let frame = self.top();
        let kind = match frame.element {
            NodeOrToken::Node(node) => node.kind(),
            NodeOrToken::Token(token) => token.kind(),
        };
        let node = self.kinds.decode(kind);
        NodeInfo {
            kind: node.kind,
            field: node.field,
            missing: node.missing,
            start: frame.start,
            end: frame.start + len(frame.element),
        }
    }

    fn text(&self) -> Cow<'_, str> {
        match self.top().element {
            NodeOrToken::Token(token) => Cow::Borrowed(token.text()),
            NodeOrToken::Node(node) => {
                let mut text = String::with_capacity(u32::from(node.text_len()) as usize);
                write_text(node, &mut text);
                Cow::Owned(text)
            }
        }
    }

    fn goto_first_child(&mut self) -> bool {
        let frame = *self.top();
        let NodeOrToken::Node(node) = frame.element else {
            return false;
        };
        match first_visible(node, 0, frame.start) {
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
        let NodeOrToken::Node(parent) = parent.element else {
            unreachable!("only nodes have children on the stack");
        };
        match first_visible(parent, frame.index + 1, frame.start + len(frame.element)) {
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
