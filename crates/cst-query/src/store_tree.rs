//! [`StoreTree`]: any backend's file ([`cst_measure::CstStore`]) behind [`QueryTree`], as a flat table of
//! its visible nodes in preorder.
//!
//! Layout: one 28-byte record per node (kind, walk field, query field, flags, byte range, parent, first
//! child, next sibling), a `u32` supertype set per node, the language's supertype ids and named-kind table
//! (per language, kept across files), and the file's text as the store gives it (borrowed, or built for the
//! call by stores that do not hold it flat).
//!
//! Built by one preorder walk ([`cst_measure::CstStore::fold_preorder`]) reading the store's query statuses
//! ([`cst_measure::CstStore::query_status`]) node by node with [`StatusReader::next`]: O(nodes). Named-ness is
//! the grammar's (`node_kind_is_named`; `ERROR`, `u16::MAX`, is named). [`StoreTree::load`] clears and refills
//! the same buffers, so a pass over many files allocates only when a file is larger than any before it: the
//! table's bytes (about 32 per node of the largest file, and its text where the store builds it) are the
//! working memory of a query pass. Every accessor is O(1) but [`QueryTree::has_child_in_field`], a scan of the
//! node's children.

use crate::tree::QueryTree;
use cst_measure::query_status::{StatusContext, StatusReader};
use cst_measure::{CstStore, Language};
use std::borrow::Cow;
use std::ops::Range;

#[derive(Clone, Copy)]
struct Rec {
    kind: u16,
    walk_field: u16,
    query_field: u16,
    flags: u8,
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

/// Why a store's file cannot be queried.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NotAnswered {
    /// The store keeps no query statuses ([`cst_measure::CstStore::query_status`] is `None`).
    #[error("the store keeps no query statuses for file {0}")]
    NoStatuses(usize),
}

/// One file of a store as a [`QueryTree`]: node `i` is the `i`-th visible node in preorder.
#[derive(Default)]
pub struct StoreTree<'s> {
    recs: Vec<Rec>,
    supertypes: Vec<u32>,
    /// The language's supertypes, in the order of the bits of `supertypes`.
    supertype_ids: Vec<u16>,
    /// Whether each kind id of the language is named.
    named: Vec<bool>,
    /// The language `supertype_ids` and `named` are of.
    language: Option<Language>,
    /// The last child seen at each depth during a load (kept for its buffer).
    last_child: Vec<u32>,
    source: Cow<'s, str>,
}

impl<'s> StoreTree<'s> {
    /// File `file` of `store`, in a new table.
    pub fn new<S: CstStore>(store: &'s S, file: usize) -> Result<StoreTree<'s>, NotAnswered> {
        let mut tree = StoreTree::default();
        tree.load(store, file)?;
        Ok(tree)
    }

    /// Replaces the table's file with file `file` of `store`, reusing its buffers.
    pub fn load<S: CstStore>(&mut self, store: &'s S, file: usize) -> Result<(), NotAnswered> {
        let status = store
            .query_status(file)
            .ok_or(NotAnswered::NoStatuses(file))?;
        let language = store.language(file);
        if self.language != Some(language) {
            let grammar = language.grammar();
            self.supertype_ids = cst_measure::query_status::supertype_symbols(&grammar);
            self.named = (0..grammar.node_kind_count() as u16)
                .map(|k| grammar.node_kind_is_named(k))
                .collect();
            self.language = Some(language);
        }
        self.recs.clear();
        self.supertypes.clear();
        self.last_child.clear();
        let mut reader: StatusReader<'_> = status.reader();
        let (named, recs, supertypes, last_child) = (
            &self.named,
            &mut self.recs,
            &mut self.supertypes,
            &mut self.last_child,
        );
        store.fold_preorder(file, (), |(), depth, node| {
            let depth = depth as usize;
            last_child.truncate(depth + 1);
            let index = recs.len() as u32;
            // The visible parent is the last node seen one level up.
            let parent = if depth == 0 {
                NONE
            } else {
                last_child[depth - 1]
            };
            let parent_kind = if parent == NONE {
                StatusContext::NO_PARENT
            } else {
                recs[parent as usize].kind
            };
            let status = reader.next(StatusContext {
                kind: node.kind,
                parent_kind,
                walk_field: node.field,
            });
            let mut flags = 0;
            if node.kind == u16::MAX || named.get(node.kind as usize).copied().unwrap_or(false) {
                flags |= NAMED;
            }
            if status.extra {
                flags |= EXTRA;
            }
            if node.missing {
                flags |= MISSING;
            }
            recs.push(Rec {
                kind: node.kind,
                walk_field: node.field,
                query_field: status.query_field,
                flags,
                start: node.start,
                end: node.end,
                parent,
                first_child: NONE,
                next_sibling: NONE,
            });
            supertypes.push(status.supertypes);
            if last_child.len() == depth + 1 {
                let previous = last_child[depth];
                recs[previous as usize].next_sibling = index;
                last_child[depth] = index;
            } else {
                if parent != NONE {
                    recs[parent as usize].first_child = index;
                }
                last_child.push(index);
            }
        });
        self.source = store.text(file);
        Ok(())
    }

    /// The bytes the table's buffers hold (their capacities), for reports.
    pub fn capacity_bytes(&self) -> usize {
        self.recs.capacity() * std::mem::size_of::<Rec>()
            + self.supertypes.capacity() * 4
            + self.supertype_ids.capacity() * 2
            + self.named.capacity()
            + self.last_child.capacity() * 4
    }
}

fn opt(i: u32) -> Option<usize> {
    (i != NONE).then_some(i as usize)
}

impl QueryTree for StoreTree<'_> {
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
        let f = self.recs[node].query_field;
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
        // `ts_node_child_by_field_id` follows the production's field map, which is what the walk's field
        // (`TreeCursor::field_id`, inherited through hidden children, none for extras) reports.
        let mut child = self.recs[node].first_child;
        while child != NONE {
            let rec = &self.recs[child as usize];
            if rec.walk_field == field && rec.flags & EXTRA == 0 {
                return true;
            }
            child = rec.next_sibling;
        }
        false
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
        self.source.as_bytes()
    }
}
