//! The mapping between what tree-sitter says of a node (kind, field in its parent, MISSING flag) and rowan's
//! `SyntaxKind(u16)`.
//!
//! rowan keeps one `u16` kind per node and token and nothing else, so the field and the missing flag ride in
//! it: each distinct (kind id, field id, missing) triple met in the store gets the next rowan kind, in the
//! order first seen. Kind ids are those of the file's own grammar, so the same triple in two languages is one
//! rowan kind (its numbers mean the same thing to each file's cursor), and identical tokens of two languages
//! can share green tokens.
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

use cst_measure::BuildError;
use rowan::SyntaxKind;
use std::collections::HashMap;

/// Kind of the trivia tokens (never presented by the cursor).
pub(crate) const TRIVIA: SyntaxKind = SyntaxKind(0);
/// Kind of the per-file wrapper node (never presented by the cursor).
pub(crate) const FILE: SyntaxKind = SyntaxKind(1);
/// The first rowan kind given to a triple.
const FIRST: u16 = 2;

/// What tree-sitter says of a visible node besides its range.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct NodeKind {
    pub(crate) kind: u16,
    pub(crate) field: u16,
    pub(crate) missing: bool,
}

/// The triples met so far, by rowan kind.
#[derive(Default)]
pub(crate) struct KindTable {
    kinds: Vec<NodeKind>,
    /// Triple to rowan kind, while files are being added.
    index: Option<HashMap<NodeKind, SyntaxKind>>,
}

impl KindTable {
    /// The rowan kind of a triple, given a new one if it was not met before.
    pub(crate) fn encode(&mut self, node: NodeKind) -> Result<SyntaxKind, BuildError> {
        let kinds = &mut self.kinds;
        let index = self.index.get_or_insert_with(|| {
            kinds
                .iter()
                .enumerate()
                .map(|(i, &k)| (k, SyntaxKind(FIRST + i as u16)))
                .collect()
        });
        if let Some(&kind) = index.get(&node) {
            return Ok(kind);
        }
        let next = u16::try_from(kinds.len() + usize::from(FIRST))
            .ok()
            .filter(|&k| k < u16::MAX)
            .ok_or_else(|| {
                BuildError::Limit(
                    "more distinct (kind, field, missing) triples than rowan's 16-bit kinds can number".into(),
                )
            })?;
        kinds.push(node);
        index.insert(node, SyntaxKind(next));
        Ok(SyntaxKind(next))
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

/// Rowan kind to triple, for the cursors.
#[derive(Clone, Copy)]
pub(crate) struct KindView<'a>(&'a [NodeKind]);

impl KindView<'_> {
    /// The triple of a rowan kind of this store (never TRIVIA or FILE).
    #[inline]
    pub(crate) fn decode(self, kind: SyntaxKind) -> NodeKind {
        self.0[usize::from(kind.0 - FIRST)]
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
                [0, 1, 40].into_iter().flat_map(move |field| {
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
            assert_eq!(table.view().decode(kind), triple);
        }
    }

    #[test]
    fn the_kind_space_runs_out_with_an_error() {
        let mut table = KindTable::default();
        let mut result = Ok(SyntaxKind(0));
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
    }
}
