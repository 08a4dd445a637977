//! Conversion of a tree-sitter tree into a syntree `Tree` with explicit spans, and the per-node value.
//!
//! The walk uses a `tree_sitter::TreeCursor`, so it sees exactly the visible nodes verification compares with,
//! and is iterative. Each visible node with children is opened with `Builder::open_with` at its tree-sitter
//! span and closed after its children; each visible node without is a `Builder::token_with` at its span. syntree
//! joins a parent's span with its children's, which changes nothing here since tree-sitter's children lie inside
//! their parent. The text between visible nodes (whitespace, hidden tokens, the text around the root) is in no
//! element at all: syntree keeps explicit spans, gaps are allowed ("only explicit spans leave gaps between
//! tokens"), and the store's copy of the source gives the text back. So the tree has exactly one element per
//! visible node, in preorder.

use cst_measure::BuildError;
use syntree::{Builder, Span, Tree};

syntree::flavor! {
    /// 32-bit spans and 32-bit node pointers (syntree's default flavor has `usize` pointers: 56-byte links).
    pub struct Compact {
        type Index = u32;
        type Width = u32;
    }
}

/// Green nodes with more children than this get sampled child pointers (see `crate::wide`).
pub(crate) const WIDE: usize = 64;

/// A file's tree as the store keeps it.
pub(crate) type FileTree = Tree<Value, Compact>;

/// What a node holds besides its span and links: tree-sitter's kind, and its field, MISSING flag and whether
/// the store has sampled its children, in one `u16`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Value {
    pub(crate) kind: u16,
    flags: u16,
}

const MISSING: u16 = 1 << 15;
const SAMPLED: u16 = 1 << 14;
/// The largest field id a [`Value`] holds.
pub(crate) const MAX_FIELD: u16 = SAMPLED - 1;

impl Value {
    /// The value of a node of tree-sitter kind `kind` with field `field` in its parent.
    pub fn new(kind: u16, field: u16, missing: bool) -> Result<Value, BuildError> {
        if field > MAX_FIELD {
            return Err(BuildError::Limit(format!(
                "field id {field} exceeds the {MAX_FIELD} this backend's 16-bit node value leaves for fields"
            )));
        }
        Ok(Value {
            kind,
            flags: field | if missing { MISSING } else { 0 },
        })
    }

    pub(crate) fn field(self) -> u16 {
        self.flags & MAX_FIELD
    }

    pub(crate) fn missing(self) -> bool {
        self.flags & MISSING != 0
    }

    /// Whether the store has sampled this node's children (it has more than [`WIDE`]).
    pub(crate) fn sampled(self) -> bool {
        self.flags & SAMPLED != 0
    }

    pub(crate) fn with_sampled(self) -> Value {
        Value {
            kind: self.kind,
            flags: self.flags | SAMPLED,
        }
    }
}

/// A converted file.
pub(crate) struct Converted {
    pub(crate) tree: FileTree,
    /// Pointers of the nodes with more than [`WIDE`] children.
    pub(crate) wide: Vec<u32>,
}

/// An open node during conversion.
struct Open {
    id: u32,
    end: usize,
    children: usize,
}

fn syntree_error(error: syntree::Error) -> BuildError {
    BuildError::Limit(format!(
        "syntree refused the tree: {error} (at most 2^32 - 1 nodes and 2^32 - 1 bytes per file)"
    ))
}

/// Converts one file.
pub(crate) fn convert(source: &str, tree: &tree_sitter::Tree) -> Result<Converted, BuildError> {
    if u32::try_from(source.len()).is_err() {
        return Err(BuildError::Limit(format!(
            "file of {} bytes exceeds this backend's 32-bit spans",
            source.len()
        )));
    }
    let mut builder: Builder<Value, Compact> = Builder::new_with();
    let mut open: Vec<Open> = Vec::new();
    let mut wide = Vec::new();
    let mut cursor = tree.walk();
    // End of the previous visible node at this level, or start of the parent.
    let mut pos = 0;
    'nodes: loop {
        let node = cursor.node();
        let (start, end) = (node.start_byte(), node.end_byte());
        let limit = open.last().map_or(source.len(), |parent| parent.end);
        if start < pos || end < start || end > limit {
            return Err(BuildError::Limit(format!(
                "tree-sitter node {} at bytes {start}..{end} overlaps the node before it (up to {pos}) or \
                 leaves its parent (ending at {limit})",
                node.kind()
            )));
        }
        let value = Value::new(
            node.kind_id(),
            cursor.field_id().map_or(0, |id| id.get()),
            node.is_missing(),
        )?;
        // Checked against the file's length above, which fits in 32 bits.
        let span = Span::new(start as u32, end as u32);
        if let Some(parent) = open.last_mut() {
            parent.children += 1;
        }
        if cursor.goto_first_child() {
            let id = builder.open_with(value, span).map_err(syntree_error)?;
            open.push(Open {
                id: id.get() as u32,
                end,
                children: 0,
            });
            pos = start;
            continue;
        }
        builder.token_with(value, span).map_err(syntree_error)?;
        pos = end;
        // Move on: the next sibling, or close parents until one has a next sibling.
        loop {
            let Some(parent) = open.last() else {
                // The root is done.
                let built = builder.build().map_err(syntree_error)?;
                // The builder grew both arrays by doubling, and syntree offers no way to shrink them or to
                // presize a builder; a clone allocates each at its length (`Vec::clone`), and the spare room
                // goes with `built`.
                let tree = built.clone();
                return Ok(Converted { tree, wide });
            };
            if cursor.goto_next_sibling() {
                continue 'nodes;
            }
            cursor.goto_parent();
            builder.close().map_err(syntree_error)?;
            if parent.children > WIDE {
                wide.push(parent.id);
            }
            pos = parent.end;
            open.pop();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_up_to_the_field_limit() {
        for kind in [0, 1, 300, u16::MAX] {
            for field in [0, 1, MAX_FIELD] {
                for missing in [false, true] {
                    let value = Value::new(kind, field, missing).unwrap();
                    for value in [value, value.with_sampled()] {
                        assert_eq!(
                            (value.kind, value.field(), value.missing()),
                            (kind, field, missing)
                        );
                    }
                    assert!(!value.sampled() && value.with_sampled().sampled());
                }
            }
        }
        assert!(matches!(
            Value::new(1, MAX_FIELD + 1, false),
            Err(BuildError::Limit(m)) if m.contains("field id")
        ));
    }
}
