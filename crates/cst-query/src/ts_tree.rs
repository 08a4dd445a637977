//! [`TsTree`]: tree-sitter's own `Tree` behind [`QueryTree`], as a flat table of its visible nodes in
//! preorder (one walk of a `TreeCursor` to build, 40 bytes per node plus the `Node` handles, which
//! negated fields ask `child_by_field_id`).
//!
//! Fields and supertypes are the query cursor's (`ts_tree_cursor_current_status`), read by
//! [`cst_measure::query_status::statuses`] (the same reading every backend keeps) when the table is built.

use crate::tree::QueryTree;
use std::ops::Range;

#[derive(Clone, Copy)]
struct Rec {
    kind: u16,
    flags: u8,
    field: u16,
    start: u32,
    end: u32,
    parent: u32,
    first_child: u32,
    next_sibling: u32,
}

const NAMED: u8 = 1;
const EXTRA: u8 = 2;
const MISSING: u8 = 4;
const NONE: u32 = u32::MAX;

/// A tree-sitter tree as a [`QueryTree`]: node `i` is the `i`-th visible node in preorder.
pub struct TsTree<'t> {
    recs: Vec<Rec>,
    supertypes: Vec<u32>,
    /// The language's supertypes, in the order of the bits of `supertypes`.
    supertype_ids: Vec<u16>,
    nodes: Vec<tree_sitter::Node<'t>>,
    source: &'t [u8],
}

impl<'t> TsTree<'t> {
    /// Lists the tree's visible nodes (`source` is the text it was parsed from).
    pub fn new(tree: &'t tree_sitter::Tree, source: &'t [u8]) -> TsTree<'t> {
        let mut recs: Vec<Rec> = Vec::new();
        let mut nodes = Vec::new();
        let mut cursor = tree.walk();
        // The last child seen at each depth, to link siblings.
        let mut path: Vec<u32> = Vec::new();
        let mut last_child: Vec<u32> = vec![NONE];
        loop {
            let node = cursor.node();
            let index = recs.len() as u32;
            let mut flags = 0;
            if node.is_named() {
                flags |= NAMED;
            }
            if node.is_extra() {
                flags |= EXTRA;
            }
            if node.is_missing() {
                flags |= MISSING;
            }
            let parent = path.last().copied().unwrap_or(NONE);
            recs.push(Rec {
                kind: node.kind_id(),
                flags,
                field: cursor.field_id().map_or(0, |f| f.get()),
                start: node.start_byte() as u32,
                end: node.end_byte() as u32,
                parent,
                first_child: NONE,
                next_sibling: NONE,
            });
            nodes.push(node);
            let previous = *last_child.last().expect("a level per depth");
            if previous != NONE {
                recs[previous as usize].next_sibling = index;
            } else if parent != NONE {
                recs[parent as usize].first_child = index;
            }
            *last_child.last_mut().expect("a level per depth") = index;
            if cursor.goto_first_child() {
                path.push(index);
                last_child.push(NONE);
                continue;
            }
            loop {
                if cursor.goto_next_sibling() {
                    break;
                }
                if !cursor.goto_parent() {
                    let language = tree.language();
                    let statuses = cst_measure::query_status::statuses(tree);
                    for (rec, status) in recs.iter_mut().zip(&statuses) {
                        rec.field = status.query_field;
                    }
                    return TsTree {
                        recs,
                        supertypes: statuses.iter().map(|s| s.supertypes).collect(),
                        supertype_ids: cst_measure::query_status::supertype_symbols(&language),
                        nodes,
                        source,
                    };
                }
                path.pop();
                last_child.pop();
            }
        }
    }

    /// The tree-sitter node behind node `i`.
    pub fn node(&self, i: usize) -> tree_sitter::Node<'t> {
        self.nodes[i]
    }
}

fn opt(i: u32) -> Option<usize> {
    (i != NONE).then_some(i as usize)
}

impl QueryTree for TsTree<'_> {
    fn node_count(&self) -> usize {
        self.recs.len()
    }
    fn kind_id(&self, node: usize) -> u16 {
        self.recs[node].kind
    }
    fn is_named(&self, node: usize) -> bool {
        self.recs[node].flags & NAMED != 0
    }
    fn is_extra(&self, node: usize) -> bool {
        self.recs[node].flags & EXTRA != 0
    }
    fn is_missing(&self, node: usize) -> bool {
        self.recs[node].flags & MISSING != 0
    }
    fn byte_range(&self, node: usize) -> Range<usize> {
        self.recs[node].start as usize..self.recs[node].end as usize
    }
    fn field_id(&self, node: usize) -> Option<u16> {
        let f = self.recs[node].field;
        (f != 0).then_some(f)
    }
    fn has_supertype(&self, node: usize, supertype: u16) -> bool {
        self.supertype_ids
            .iter()
            .take(32)
            .position(|&s| s == supertype)
            .is_some_and(|bit| self.supertypes[node] & (1 << bit) != 0)
    }
    fn has_child_in_field(&self, node: usize, field: u16) -> bool {
        self.nodes[node].child_by_field_id(field).is_some()
    }
    fn parent(&self, node: usize) -> Option<usize> {
        opt(self.recs[node].parent)
    }
    fn first_child(&self, node: usize) -> Option<usize> {
        opt(self.recs[node].first_child)
    }
    fn next_sibling(&self, node: usize) -> Option<usize> {
        opt(self.recs[node].next_sibling)
    }
    fn source(&self) -> &[u8] {
        self.source
    }
}
