//! Edited versions as deltas: a version after an edit is the previous version's text with the edit spliced
//! in, and a tree spelled out only along the path to the edit, every other subtree a reference to the
//! previous version's node of the same kind and range. An update writes it without freezing anything (it
//! walks tree-sitter's new tree only where [`Unchanged`] says something may have changed); a thaw thaws the
//! version the chain starts from and applies the deltas in order, copying each referenced subtree's records.
//!
//! | what | stored as | bytes |
//! | --- | --- | --- |
//! | a delta | the previous version (an `Arc`), the language, the chain's length, the edit's start and old end, the inserted text, the ops | 56 and the inserted text |
//! | an op | [`Op`]: a node spelled out (range, kind, field, flags), its close, or a node whose descendants are the previous version's node's at a range (a "copy") | 16 each |
//!
//! A reference is resolved at thaw time by a descent to its old range that climbs from the previous one
//! (references come in document order): the outermost node of that kind and range. The update only
//! references a non-empty inner node whose parent and first child do not repeat both its kind and range, so
//! the outermost one is the one meant.

use crate::codec::{check_kind_and_field, LEAF, MISSING, NO_LIST, WIDE};
use crate::thaw::{Node, Thawed};
use cst_measure::tree_walk::CountedCursor;
use cst_measure::{BuildError, Unchanged};

/// `Op::flags` besides [`LEAF`] and [`MISSING`]: the op closes the last open node.
const CLOSE: u8 = 0x80;
/// The op is an inner node whose descendants are copied from the previous version.
const COPY: u8 = 0x40;

/// One step of a delta's preorder walk of the new tree.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Op {
    start: u32,
    end: u32,
    /// For a copy: where the previous version's node starts (it has the same length).
    old_start: u32,
    kind: u16,
    /// At most [`crate::codec::MAX_FIELD`].
    field: u8,
    flags: u8,
}

/// A version after an edit, against the previous one.
pub(crate) struct Delta {
    /// Bytes `start..old_end` of the previous text replaced by `inserted`.
    pub start: u32,
    pub old_end: u32,
    pub inserted: Box<str>,
    pub ops: Box<[Op]>,
}

/// The ops of `tree`'s delta against the previous version, or `None` if more than `limit` ops would be
/// needed (the caller freezes the version whole instead). Fails on what the frozen format cannot hold, as
/// [`crate::codec::flatten`] does.
pub(crate) fn ops(
    tree: &tree_sitter::Tree,
    unchanged: &Unchanged<'_>,
    limit: usize,
) -> Result<Option<Vec<Op>>, BuildError> {
    let mut ops = Vec::new();
    let mut cursor = CountedCursor::new(tree);
    // Kind and range of the open nodes (the parent of the node under the cursor last).
    let mut open: Vec<(u16, usize, usize)> = Vec::new();
    loop {
        if ops.len() > limit {
            return Ok(None);
        }
        let node = cursor.node();
        let (start, end, kind) = (node.start_byte(), node.end_byte(), node.kind_id());
        let field = cursor.field_id();
        check_kind_and_field(kind, field)?;
        let (Ok(start32), Ok(end32)) = (u32::try_from(start), u32::try_from(end)) else {
            return Err(BuildError::Limit("positions are 32-bit".into()));
        };
        let mut op = Op {
            start: start32,
            end: end32,
            old_start: 0,
            kind,
            field: field as u8,
            flags: if node.is_missing() { MISSING } else { 0 },
        };
        if cursor.goto_first_child(node.child_count()) {
            let repeats = |n: tree_sitter::Node<'_>| {
                n.kind_id() == kind && n.start_byte() == start && n.end_byte() == end
            };
            let parent_repeats = open.last() == Some(&(kind, start, end));
            let old = (start < end && !parent_repeats && !repeats(cursor.node()))
                .then(|| unchanged.old_range(start, end))
                .flatten();
            if let Some((old_start, _)) = old {
                cursor.goto_parent();
                op.flags |= COPY;
                op.old_start = u32::try_from(old_start)
                    .map_err(|_| BuildError::Limit("positions are 32-bit".into()))?;
                ops.push(op);
            } else {
                ops.push(op);
                open.push((kind, start, end));
                continue;
            }
        } else {
            op.flags |= LEAF;
            ops.push(op);
        }
        // Move on: the next sibling, or close parents until one has a next sibling.
        loop {
            if cursor.goto_next_sibling() {
                break;
            }
            if !cursor.goto_parent() {
                return Ok(Some(ops));
            }
            open.pop();
            ops.push(Op {
                start: 0,
                end: 0,
                old_start: 0,
                kind: 0,
                field: 0,
                flags: CLOSE,
            });
        }
    }
}

/// Finds the previous version's node of a reference, climbing from the last one found.
struct Finder<'p> {
    nodes: &'p [Node],
    /// The nodes from the root to the last one found.
    path: Vec<u32>,
}

impl Finder<'_> {
    /// The outermost node of `kind` at `start..end` (non-empty).
    fn find(&mut self, kind: u16, start: u32, end: u32) -> Option<u32> {
        let nodes = self.nodes;
        let holds = |i: u32| {
            let n = &nodes[i as usize];
            n.start <= start && n.end >= end
        };
        if self.path.is_empty() {
            if nodes.is_empty() {
                return None;
            }
            self.path.push(0);
        }
        // Climb to the first ancestor that holds the range; its children are scanned from the one the
        // climb came through (references come in document order).
        let mut from = None;
        while let Some(&top) = self.path.last() {
            if holds(top) {
                break;
            }
            from = self.path.pop();
        }
        let mut node = *self.path.last()?;
        loop {
            let n = &nodes[node as usize];
            if n.start == start && n.end == end && n.kind == kind {
                return Some(node);
            }
            if n.flags & LEAF != 0 {
                return None;
            }
            let mut child = from.take().unwrap_or(node + 1);
            loop {
                if child >= n.next || child as usize >= nodes.len() {
                    return None;
                }
                let c = &nodes[child as usize];
                if c.start > start {
                    return None;
                }
                if holds(child) {
                    break;
                }
                child = c.next;
            }
            self.path.push(child);
            node = child;
        }
    }
}

/// Thaws the version `delta` makes of `previous` into `out` (its text, records and child lists). A
/// reference that finds nothing (a damaged delta) leaves that node childless: a wrong tree, never a panic.
pub(crate) fn apply(previous: &Thawed, delta: &Delta, out: &mut Thawed) {
    let old = previous.text.as_bytes();
    let (start, old_end) = (
        (delta.start as usize).min(old.len()),
        (delta.old_end as usize).min(old.len()),
    );
    let mut text = std::mem::take(&mut out.text).into_bytes();
    text.clear();
    text.extend_from_slice(&old[..start]);
    text.extend_from_slice(delta.inserted.as_bytes());
    text.extend_from_slice(&old[old_end.max(start)..]);
    out.text = String::from_utf8(text)
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
    let nodes = &mut out.nodes;
    nodes.clear();
    out.lists.clear();
    let mut finder = Finder {
        nodes: &previous.nodes,
        path: Vec::new(),
    };
    let mut open: Vec<u32> = Vec::new();
    for op in delta.ops.iter() {
        if op.flags & CLOSE != 0 {
            if let Some(p) = open.pop() {
                nodes[p as usize].next = nodes.len() as u32;
            }
            continue;
        }
        let index = nodes.len() as u32;
        nodes.push(Node {
            start: op.start,
            end: op.end,
            next: index + 1,
            list: NO_LIST,
            kind: op.kind,
            field: u16::from(op.field),
            flags: op.flags & !(COPY | CLOSE),
        });
        if op.flags & COPY != 0 {
            let old_end = op.old_start + (op.end - op.start);
            if let Some(from) = finder.find(op.kind, op.old_start, old_end) {
                let source =
                    &previous.nodes[from as usize + 1..previous.nodes[from as usize].next as usize];
                let moved = i64::from(op.start) - i64::from(op.old_start);
                let renumbered = i64::from(index) - i64::from(from);
                nodes.extend(source.iter().map(|n| Node {
                    start: (i64::from(n.start) + moved) as u32,
                    end: (i64::from(n.end) + moved) as u32,
                    next: (i64::from(n.next) + renumbered) as u32,
                    list: NO_LIST,
                    ..*n
                }));
            }
            nodes[index as usize].next = nodes.len() as u32;
        } else if op.flags & LEAF == 0 {
            open.push(index);
        }
    }
    // An inner node with no ops below it has no children: it is one (a damaged delta ends up here too).
    for (i, n) in nodes.iter_mut().enumerate() {
        if n.flags & LEAF == 0 && n.next == i as u32 + 1 {
            n.flags |= LEAF;
        }
    }
    list_wide_children(nodes, &mut out.lists);
}

/// Gives every node with more than [`WIDE`] children its child list (a count, then the indices), as a thaw
/// does.
pub(crate) fn list_wide_children(nodes: &mut [Node], lists: &mut Vec<u32>) {
    for i in 0..nodes.len() {
        if nodes[i].flags & LEAF != 0 {
            continue;
        }
        let end = nodes[i].next;
        let mut count = 0;
        let mut c = i as u32 + 1;
        while c < end && count <= WIDE {
            count += 1;
            c = nodes[c as usize].next;
        }
        if count <= WIDE {
            continue;
        }
        nodes[i].list = lists.len() as u32;
        lists.push(0);
        let mut c = i as u32 + 1;
        while c < end {
            lists.push(c);
            c = nodes[c as usize].next;
        }
        let at = nodes[i].list as usize;
        lists[at] = (lists.len() - at - 1) as u32;
    }
}

#[cfg(test)]
mod tests {
    use super::{apply, Delta, Op, COPY};
    use crate::codec::{LEAF, NO_LIST};
    use crate::thaw::{Node, Thawed};

    fn node(start: u32, end: u32, next: u32, kind: u16, flags: u8) -> Node {
        Node {
            start,
            end,
            next,
            list: NO_LIST,
            kind,
            field: 0,
            flags,
        }
    }

    /// `(a b)`: a root of kind 1 over two leaves of kind 2.
    fn previous() -> Thawed {
        let mut thawed = Thawed::default();
        thawed.text = "ab".into();
        thawed.nodes = vec![
            node(0, 2, 3, 1, 0),
            node(0, 1, 2, 2, LEAF),
            node(1, 2, 3, 2, LEAF),
        ];
        thawed
    }

    fn copy_of_root(kind: u16) -> Delta {
        Delta {
            start: 0,
            old_end: 0,
            inserted: "x".into(),
            ops: vec![Op {
                start: 1,
                end: 3,
                old_start: 0,
                kind,
                field: 0,
                flags: COPY,
            }]
            .into(),
        }
    }

    #[test]
    fn a_reference_copies_the_old_nodes_descendants_moved() {
        let mut out = Thawed::default();
        apply(&previous(), &copy_of_root(1), &mut out);
        assert_eq!(out.text, "xab");
        let ranges: Vec<(u32, u32, u32)> =
            out.nodes.iter().map(|n| (n.start, n.end, n.next)).collect();
        assert_eq!(ranges, [(1, 3, 3), (1, 2, 2), (2, 3, 3)]);
    }

    #[test]
    fn a_reference_that_finds_nothing_leaves_a_childless_node() {
        let mut out = Thawed::default();
        // No node of kind 9 at 0..2 in the previous version: a damaged delta.
        apply(&previous(), &copy_of_root(9), &mut out);
        assert_eq!(out.nodes.len(), 1);
        assert_ne!(out.nodes[0].flags & LEAF, 0);
    }
}
