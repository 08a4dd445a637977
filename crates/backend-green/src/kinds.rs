//! The mapping between what tree-sitter says of a node (kind, field in its parent, MISSING flag) and the green
//! library's kind, a `u16` (rowan) or a `u32` (cstree) on every node and token.
//!
//! The library keeps one kind per node and token and nothing else, so the field and the missing flag ride in
//! it: each distinct (kind id, field id, missing) triple met in the store gets the next kind, in the order
//! first seen. Kind ids are those of the file's own grammar, so the same triple in two languages is one green
//! kind (its numbers mean the same thing to each file's cursor), and identical tokens of two languages can
//! share green tokens.
//!
//! ```text
//! 0        TRIVIA: text between visible nodes (whitespace, hidden tokens, text around the root)
//! 1        FILE: the synthetic wrapper holding [leading trivia, tree-sitter's root, trailing trivia]
//! 2 + i    the i-th triple (kind, field, missing) the store met
//! ```
//!
//! The store keeps the list (6 bytes a triple; a few thousand triples at most, counted in its retained bytes)
//! for the cursor, and a hash index for the conversion (8 bytes an entry with rowan's `u16` kinds, 12 with
//! cstree's `u32`), which `finish()` drops and the next `add` rebuilds (as does the first `replace` or `update`
//! after it, which keep it: a store being edited holds that index, a few KB). The table stops at the library's
//! [`Library::MAX_KIND`](crate::Library::MAX_KIND) (65,534 for rowan; 2^31 − 2 for cstree, for the event log of
//! its build check): no grammar gets there, but the limit is an error, not a wrong kind. This table is the one
//! place the layer keeps per-node data beyond the green tree.

use cst_measure::BuildError;
use std::collections::HashMap;
use std::hash::Hash;

/// Kind of the trivia tokens (never presented by the cursor).
pub const TRIVIA: u32 = 0;
/// Kind of the per-file wrapper node (never presented by the cursor).
pub const FILE: u32 = 1;
/// The first kind given to a triple.
const FIRST: u32 = 2;

/// The integer a library stores as a node's kind: what the conversion's hash index maps triples to.
pub trait RawKind: Copy + Eq + Hash {
    /// The kind numbered `kind` (at most the library's `MAX_KIND`).
    fn of(kind: u32) -> Self;
    /// Its number.
    fn get(self) -> u32;
}

impl RawKind for u16 {
    #[inline]
    fn of(kind: u32) -> u16 {
        kind as u16
    }
    #[inline]
    fn get(self) -> u32 {
        u32::from(self)
    }
}

impl RawKind for u32 {
    #[inline]
    fn of(kind: u32) -> u32 {
        kind
    }
    #[inline]
    fn get(self) -> u32 {
        self
    }
}

/// What tree-sitter says of a visible node besides its range.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct NodeKind {
    pub kind: u16,
    pub field: u16,
    pub missing: bool,
}

/// The triples met so far, by green kind.
pub struct KindTable<K> {
    kinds: Vec<NodeKind>,
    /// Triple to green kind, while files are being added.
    index: Option<HashMap<NodeKind, K>>,
    /// The highest kind given out.
    max: u32,
    /// The library's name, for the error.
    library: &'static str,
}

impl<K: RawKind> KindTable<K> {
    /// A table giving out kinds up to `max`, for `library`.
    pub fn new(max: u32, library: &'static str) -> KindTable<K> {
        KindTable {
            kinds: Vec::new(),
            index: None,
            max,
            library,
        }
    }

    /// Lowers the highest kind given out to `max` (tests fill the table early with it).
    pub fn limit(&mut self, max: u32) {
        self.max = self.max.min(max);
    }

    /// The green kind of a triple, given a new one if it was not met before.
    pub fn encode(&mut self, node: NodeKind) -> Result<u32, BuildError> {
        let kinds = &mut self.kinds;
        let index = self.index.get_or_insert_with(|| {
            kinds
                .iter()
                .enumerate()
                .map(|(i, &k)| (k, K::of(FIRST + i as u32)))
                .collect()
        });
        if let Some(&kind) = index.get(&node) {
            return Ok(kind.get());
        }
        let next = u32::try_from(kinds.len())
            .ok()
            .and_then(|n| n.checked_add(FIRST))
            .filter(|&k| k <= self.max)
            .ok_or_else(|| {
                BuildError::Limit(format!(
                    "more than {} distinct (kind, field, missing) triples in one store: the {} kind table is full",
                    self.max - FIRST + 1,
                    self.library
                ))
            })?;
        kinds.push(node);
        index.insert(node, K::of(next));
        Ok(next)
    }

    /// Drops the conversion's hash index and spare room: what is left is what the cursors read.
    pub fn shrink(&mut self) {
        self.index = None;
        self.kinds.shrink_to_fit();
    }

    /// The decoding view the cursors use.
    pub fn view(&self) -> KindView<'_> {
        KindView(&self.kinds)
    }
}

/// Green kind to triple, for the cursors.
#[derive(Clone, Copy)]
pub struct KindView<'a>(&'a [NodeKind]);

impl KindView<'_> {
    /// The triple of a green kind of this store (never TRIVIA or FILE).
    #[inline]
    pub fn decode(self, kind: u32) -> NodeKind {
        self.0[(kind - FIRST) as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn triples() -> Vec<NodeKind> {
        [0, 1, 7, 300, u16::MAX]
            .into_iter()
            .flat_map(|kind| {
                [0, 1, 40, u16::MAX].into_iter().flat_map(move |field| {
                    [false, true].map(|missing| NodeKind {
                        kind,
                        field,
                        missing,
                    })
                })
            })
            .collect()
    }

    fn round_trip<K: RawKind>(mut table: KindTable<K>) {
        let mut seen = std::collections::HashSet::new();
        let triples = triples();
        for &triple in &triples {
            let kind = table.encode(triple).unwrap();
            assert!(kind != TRIVIA && kind != FILE);
            assert!(seen.insert(kind), "{kind} used twice");
            assert_eq!(table.encode(triple).unwrap(), kind, "stable");
        }
        table.shrink();
        for &triple in &triples {
            // After `finish`, a new file finds the same kinds again.
            let kind = table.encode(triple).unwrap();
            assert_eq!(table.view().decode(kind), triple);
        }
    }

    #[test]
    fn triples_round_trip_and_never_collide() {
        round_trip(KindTable::<u16>::new(u32::from(u16::MAX) - 1, "rowan"));
        round_trip(KindTable::<u32>::new((1 << 31) - 2, "cstree"));
    }

    #[test]
    fn the_16_bit_kind_space_runs_out_with_an_error() {
        let mut table = KindTable::<u16>::new(u32::from(u16::MAX) - 1, "rowan");
        let mut result = Ok(0);
        for i in 0..=u32::from(u16::MAX) {
            result = table.encode(NodeKind {
                kind: i as u16,
                field: (i >> 16) as u16,
                missing: false,
            });
            if result.is_err() {
                break;
            }
        }
        assert!(matches!(result, Err(BuildError::Limit(_))));
        // Kinds 2 to 65,534.
        assert_eq!(table.view().0.len(), usize::from(u16::MAX) - 2);
    }

    #[test]
    fn a_full_table_refuses_new_triples_and_keeps_old_ones() {
        let triple = |i: u16| NodeKind {
            kind: i,
            field: 0,
            missing: false,
        };
        // Room for kinds 2..=4: three triples.
        let mut table = KindTable::<u32>::new(4, "cstree");
        for i in 0..3 {
            assert_eq!(table.encode(triple(i)).unwrap(), 2 + u32::from(i));
        }
        assert!(matches!(
            table.encode(triple(3)),
            Err(BuildError::Limit(message)) if message.contains("cstree kind table is full")
        ));
        assert_eq!(table.encode(triple(1)).unwrap(), 3);
    }
}
