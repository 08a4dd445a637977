//! The mapping between what tree-sitter says of a node (kind, field in its parent, MISSING flag) and cstree's
//! `RawSyntaxKind(u32)`, and the [`Kind`] type cstree's builder is generic over.
//!
//! cstree keeps one `u32` kind per node and token (in `GreenNodeHead` and `GreenTokenData`), so the field and
//! the missing flag ride in it: each distinct (kind id, field id, missing) triple met in the store gets the next
//! cstree kind, in the order first seen. Kind ids are those of the file's own grammar, so the same triple in two
//! languages is one cstree kind, and identical tokens of two languages can share green tokens and cache entries.
//!
//! ```text
//! 0        TRIVIA: text between visible nodes (whitespace, hidden tokens, text around the root)
//! 1        FILE: the synthetic wrapper holding [leading trivia, tree-sitter's root, trailing trivia]
//! 2 + i    the i-th triple (kind, field, missing) the store met
//! ```
//!
//! The store keeps the list (6 bytes a triple; a few thousand triples at most, counted in its retained bytes)
//! for the cursor, and a hash index for the conversion, which `finish()` drops and the next `add` rebuilds (as does
//! the first `replace` or `update` after it, which keep it: a store being edited holds that index, a few KB).
//! cstree's kinds are 32-bit, so the table stops at [`MAX_KIND`] (2^31 − 2, for the conversion's event log;
//! see `convert.rs`) rather than at rowan's 65,534: no grammar gets there, but the limit is an error, not a
//! wrong kind.

use cst_measure::BuildError;
use cstree::{RawSyntaxKind, Syntax};
use std::collections::HashMap;

/// Kind of the trivia tokens (never presented by the cursor).
pub(crate) const TRIVIA: Kind = Kind(0);
/// Kind of the per-file wrapper node (never presented by the cursor).
pub(crate) const FILE: Kind = Kind(1);
/// The first cstree kind given to a triple.
const FIRST: u32 = 2;
/// The highest cstree kind the table gives out.
pub(crate) const MAX_KIND: u32 = (1 << 31) - 2;

/// A cstree kind of this store: what `GreenNodeBuilder` is generic over. Kinds are numbered at run time, so
/// none has static text (every token's text is interned).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Kind(pub(crate) u32);

impl Syntax for Kind {
    fn from_raw(raw: RawSyntaxKind) -> Kind {
        Kind(raw.0)
    }

    fn into_raw(self) -> RawSyntaxKind {
        RawSyntaxKind(self.0)
    }

    fn static_text(self) -> Option<&'static str> {
        None
    }
}

/// What tree-sitter says of a visible node besides its range.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct NodeKind {
    pub(crate) kind: u16,
    pub(crate) field: u16,
    pub(crate) missing: bool,
}

/// The triples met so far, by cstree kind.
pub(crate) struct KindTable {
    kinds: Vec<NodeKind>,
    /// Triple to cstree kind, while files are being added.
    index: Option<HashMap<NodeKind, Kind>>,
    /// The highest kind given out (lower in tests).
    max: u32,
}

impl Default for KindTable {
    fn default() -> KindTable {
        KindTable::with_max(MAX_KIND)
    }
}

impl KindTable {
    /// A table giving out kinds up to `max`.
    pub(crate) fn with_max(max: u32) -> KindTable {
        KindTable {
            kinds: Vec::new(),
            index: None,
            max: max.min(MAX_KIND),
        }
    }

    /// The cstree kind of a triple, given a new one if it was not met before.
    pub(crate) fn encode(&mut self, node: NodeKind) -> Result<Kind, BuildError> {
        let kinds = &mut self.kinds;
        let index = self.index.get_or_insert_with(|| {
            kinds
                .iter()
                .enumerate()
                .map(|(i, &k)| (k, Kind(FIRST + i as u32)))
                .collect()
        });
        if let Some(&kind) = index.get(&node) {
            return Ok(kind);
        }
        let next = u32::try_from(kinds.len())
            .ok()
            .and_then(|n| n.checked_add(FIRST))
            .filter(|&k| k <= self.max)
            .ok_or_else(|| {
                BuildError::Limit(format!(
                    "more than {} distinct (kind, field, missing) triples in one store: the cstree kind table is full",
                    self.max - FIRST + 1
                ))
            })?;
        kinds.push(node);
        index.insert(node, Kind(next));
        Ok(Kind(next))
    }

    /// Drops the conversion's hash index and spare room: what is left is what the cursors read.
    pub(crate) fn shrink(&mut self) {
        self.index = None;
        self.kinds.shrink_to_fit();
    }

    /// The decoding view the cursors use.
    pub(crate) fn view(&self) -> KindView<'_> {
        KindView(&self.kinds)
    }
}

/// cstree kind to triple, for the cursors.
#[derive(Clone, Copy)]
pub(crate) struct KindView<'a>(&'a [NodeKind]);

impl KindView<'_> {
    /// The triple of a cstree kind of this store (never TRIVIA or FILE).
    #[inline]
    pub(crate) fn decode(self, kind: RawSyntaxKind) -> NodeKind {
        self.0[(kind.0 - FIRST) as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn triples_round_trip_and_never_collide() {
        let mut table = KindTable::default();
        let mut seen = std::collections::HashSet::new();
        let triples: Vec<NodeKind> = [0, 1, 7, 300, u16::MAX]
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
            .collect();
        for &triple in &triples {
            let kind = table.encode(triple).unwrap();
            assert!(kind != TRIVIA && kind != FILE);
            assert!(seen.insert(kind), "{kind:?} used twice");
            assert_eq!(table.encode(triple).unwrap(), kind, "stable");
        }
        table.shrink();
        for &triple in &triples {
            // After `finish`, a new file finds the same kinds again.
            let kind = table.encode(triple).unwrap();
            assert_eq!(table.view().decode(kind.into_raw()), triple);
        }
    }

    #[test]
    fn a_full_table_refuses_new_triples_and_keeps_old_ones() {
        let triple = |i: u16| NodeKind {
            kind: i,
            field: 0,
            missing: false,
        };
        // Room for kinds 2..=4: three triples.
        let mut table = KindTable::with_max(4);
        for i in 0..3 {
            assert_eq!(table.encode(triple(i)).unwrap(), Kind(2 + u32::from(i)));
        }
        assert!(matches!(
            table.encode(triple(3)),
            Err(BuildError::Limit(message)) if message.contains("kind table is full")
        ));
        assert_eq!(table.encode(triple(1)).unwrap(), Kind(3));
    }
}
