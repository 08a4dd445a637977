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
//!
//! After an edit ([`Reuse`]), the walk takes every inner node that [`Unchanged`] says is as it was from the
//! file's previous syntree tree instead: found by a descent to its old range that climbs from the previous
//! find (queries come in document order), its descendants are copied into the builder from the old tree's
//! links with their spans shifted, and tree-sitter's cursor does not go below it. The builder still writes
//! every node, but reading syntree's links costs a few nanoseconds a node where tree-sitter's cursor costs
//! about a hundred.

use cst_measure::tree_walk::CountedCursor;
use cst_measure::{BuildError, Unchanged};
use syntree::{Builder, Node, Span, Tree};

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
    /// Nodes copied from the previous version's tree (what the tests check an update saved).
    #[cfg_attr(not(test), expect(dead_code, reason = "read by the tests"))]
    pub(crate) copied: usize,
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

/// The previous version of an edited file, to take unchanged subtrees from.
pub(crate) struct Reuse<'a> {
    pub old: &'a FileTree,
    pub unchanged: &'a Unchanged<'a>,
}

type OldNode<'a> = Node<'a, Value, Compact>;

/// Finds the old node of a new one, climbing from the previous find.
struct Finder<'a> {
    reuse: Reuse<'a>,
    last: Option<OldNode<'a>>,
}

impl<'a> Finder<'a> {
    /// The old node of the new inner node `kind` at `start..end`, if nothing in it can have changed and a
    /// descent to its old range finds a node of that kind and range whose first child does not repeat both
    /// (the descent could stop one level short otherwise).
    fn find(&mut self, kind: u16, start: usize, end: usize) -> Option<OldNode<'a>> {
        let (old_start, old_end) = self.reuse.unchanged.old_range(start, end)?;
        let (old_start, old_end) = (u32::try_from(old_start).ok()?, u32::try_from(old_end).ok()?);
        let holds = |n: &OldNode<'_>| n.span().start <= old_start && n.span().end >= old_end;
        let mut node = self.last.or_else(|| self.reuse.old.first())?;
        // The child of `node` the climb came through: queries come in document order, so the descent's scan
        // of `node`'s children starts there.
        let mut from = None;
        while !holds(&node) {
            from = Some(node);
            node = node.parent()?;
        }
        loop {
            let span = node.span();
            if span.start == old_start && span.end == old_end && node.value().kind == kind {
                let first = node.first()?;
                if first.value().kind == kind && first.span() == span {
                    return None;
                }
                self.last = Some(node);
                return Some(node);
            }
            let mut child = from.take().or_else(|| node.first());
            node = loop {
                let c = child?;
                if c.span().start > old_start {
                    return None;
                }
                if holds(&c) {
                    break c;
                }
                child = c.next();
            };
        }
    }
}

/// Copies `old`'s descendants into `builder` with their spans moved by `delta`, noting the new pointers of
/// nodes with more than [`WIDE`] children in `wide`; returns how many children and descendants `old` has.
fn copy_descendants(
    builder: &mut Builder<Value, Compact>,
    old: OldNode<'_>,
    delta: i64,
    wide: &mut Vec<u32>,
) -> Result<(usize, usize), BuildError> {
    let shift = |span: Span<u32>| {
        Span::new(
            (i64::from(span.start) + delta) as u32,
            (i64::from(span.end) + delta) as u32,
        )
    };
    // The open copies: old node, children so far, new pointer.
    let mut open: Vec<(OldNode<'_>, usize, u32)> = Vec::new();
    let (mut children, mut descendants) = (0, 0);
    let mut next = old.first();
    loop {
        match next {
            Some(node) => {
                descendants += 1;
                *open.last_mut().map_or(&mut children, |o| &mut o.1) += 1;
                let span = shift(*node.span());
                if let Some(first) = node.first() {
                    let id = builder
                        .open_with(node.value(), span)
                        .map_err(syntree_error)?;
                    open.push((node, 0, id.get() as u32));
                    next = Some(first);
                } else {
                    builder
                        .token_with(node.value(), span)
                        .map_err(syntree_error)?;
                    next = node.next();
                }
            }
            None => match open.pop() {
                Some((node, count, id)) => {
                    builder.close().map_err(syntree_error)?;
                    if count > WIDE {
                        wide.push(id);
                    }
                    next = node.next();
                }
                None => return Ok((children, descendants)),
            },
        }
    }
}

/// Converts one file; with `reuse`, unchanged subtrees come from the previous version's tree.
pub(crate) fn convert(
    source: &str,
    tree: &tree_sitter::Tree,
    reuse: Option<Reuse<'_>>,
) -> Result<Converted, BuildError> {
    if u32::try_from(source.len()).is_err() {
        return Err(BuildError::Limit(format!(
            "file of {} bytes exceeds this backend's 32-bit spans",
            source.len()
        )));
    }
    let mut builder: Builder<Value, Compact> = Builder::new_with();
    let mut open: Vec<Open> = Vec::new();
    let mut wide = Vec::new();
    let mut cursor = CountedCursor::new(tree);
    let mut finder = reuse.map(|reuse| Finder { reuse, last: None });
    let mut copied = 0;
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
        let value = Value::new(node.kind_id(), cursor.field_id(), node.is_missing())?;
        // Checked against the file's length above, which fits in 32 bits.
        let span = Span::new(start as u32, end as u32);
        if let Some(parent) = open.last_mut() {
            parent.children += 1;
        }
        if cursor.goto_first_child(node.child_count()) {
            let id = builder.open_with(value, span).map_err(syntree_error)?.get() as u32;
            let old = finder
                .as_mut()
                .and_then(|f| f.find(node.kind_id(), start, end));
            let Some(old) = old else {
                open.push(Open {
                    id,
                    end,
                    children: 0,
                });
                pos = start;
                continue;
            };
            cursor.goto_parent();
            let delta = start as i64 - i64::from(old.span().start);
            let (children, descendants) = copy_descendants(&mut builder, old, delta, &mut wide)?;
            if children > WIDE {
                wide.push(id);
            }
            copied += descendants;
            builder.close().map_err(syntree_error)?;
        } else {
            builder.token_with(value, span).map_err(syntree_error)?;
        }
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
                return Ok(Converted { tree, wide, copied });
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
    use cst_measure::fixtures::InsertionEdit;

    /// Converts the edited file of [`cst_measure::fixtures::InsertionEdit`] with reuse and checks it against
    /// a conversion from scratch; returns the nodes copied and the nodes in all.
    fn update(broken: bool) -> (usize, usize) {
        let edit = InsertionEdit::new(200, "x = 1\n", broken);
        let old = convert(&edit.old_text, &edit.old_parse, None).unwrap();
        let unchanged = edit.file_edit().unchanged();
        let reuse = Reuse {
            old: &old.tree,
            unchanged: &unchanged,
        };
        let updated = convert(&edit.new_text, &edit.new_tree, Some(reuse)).unwrap();
        let fresh = convert(&edit.new_text, &edit.new_tree, None).unwrap();
        assert!(
            updated.tree == fresh.tree,
            "the same tree as a conversion from scratch"
        );
        (updated.copied, fresh.tree.len())
    }

    #[test]
    fn an_update_copies_the_unchanged_subtrees() {
        let (copied, nodes) = update(false);
        // All but the module, the 201 statements and their children's own nodes.
        assert!(copied * 10 > nodes * 7, "{copied} of {nodes} nodes copied");
    }

    #[test]
    fn an_update_walks_the_subtrees_holding_a_syntax_error() {
        let (clean, _) = update(false);
        let (copied, nodes) = update(true);
        assert!(copied < clean, "{copied} copied, {clean} without the error");
        assert!(copied * 10 > nodes * 6, "{copied} of {nodes} nodes copied");
    }

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
