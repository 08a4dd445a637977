//! The mapping between tree-sitter kinds and rowan's `SyntaxKind(u16)`.
//!
//! rowan has one flat kind space, so every language gets its own block of it, and a MISSING node, which
//! tree-sitter reports with the kind of the token it stands for plus an `is_missing` flag, gets a kind of its
//! own so that the flag survives without any extra storage. With `n = grammar.node_kind_count()`:
//!
//! ```text
//! 0                TRIVIA: text between visible nodes (whitespace, hidden tokens, text around the root)
//! 1                FILE: the synthetic wrapper holding [leading trivia, tree-sitter's root, trailing trivia]
//! base + k         kind k            (0 <= k < n)
//! base + n         ERROR             (tree-sitter's kind id 65535)
//! base + n + 1 + k MISSING kind k
//! base + 2n + 1    MISSING ERROR
//! ```
//!
//! Blocks follow each other in [`Language::ALL`] order, starting at 2, so no two languages share a kind. A
//! kind id outside `0..n` other than ERROR (tree-sitter never produces one for a visible node) is refused.

use cst_measure::{BuildError, Language};
use rowan::SyntaxKind;

/// Kind of the trivia tokens (never presented by the cursor).
pub(crate) const TRIVIA: SyntaxKind = SyntaxKind(0);
/// Kind of the per-file wrapper node (never presented by the cursor).
pub(crate) const FILE: SyntaxKind = SyntaxKind(1);
/// tree-sitter's kind id for ERROR nodes.
const ERROR: u16 = u16::MAX;

/// One language's block of rowan kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct KindMap {
    base: u16,
    /// The grammar's `node_kind_count`.
    count: u16,
}

impl KindMap {
    /// The rowan kind for a visible tree-sitter node, or why it has none.
    pub(crate) fn encode(self, kind_id: u16, missing: bool) -> Result<SyntaxKind, BuildError> {
        let local = if kind_id == ERROR {
            self.count
        } else if kind_id < self.count {
            kind_id
        } else {
            return Err(BuildError::Limit(format!(
                "tree-sitter kind id {kind_id} is outside its grammar's {} kinds and is not ERROR; \
                 the rowan kind scheme has no slot for it",
                self.count
            )));
        };
        let offset = if missing {
            self.count + 1 + local
        } else {
            local
        };
        // Cannot overflow: `KindTable::new` checked that the whole block fits in u16.
        Ok(SyntaxKind(self.base + offset))
    }

    /// The tree-sitter kind id and MISSING flag of a rowan kind from this block (never TRIVIA or FILE).
    #[inline]
    pub(crate) fn decode(self, kind: SyntaxKind) -> (u16, bool) {
        let local = kind.0.wrapping_sub(self.base);
        let n = self.count;
        if local < n {
            (local, false)
        } else if local == n {
            (ERROR, false)
        } else if local < 2 * n + 1 {
            (local - n - 1, true)
        } else {
            (ERROR, true)
        }
    }
}

/// The blocks of all four languages.
#[derive(Clone, Copy, Debug)]
pub(crate) struct KindTable {
    maps: [KindMap; 4],
}

impl KindTable {
    /// Lays the blocks out from the grammars, or says why they do not fit in rowan's 16-bit kinds.
    pub(crate) fn new() -> Result<KindTable, String> {
        let mut next: u32 = 2;
        let mut maps = [KindMap { base: 0, count: 0 }; 4];
        for language in Language::ALL {
            let count = language.grammar().node_kind_count();
            let block = 2 * count as u32 + 2;
            // The block's last kind must stay below u16::MAX so that `encode` never overflows.
            if count >= usize::from(ERROR) || next + block > u32::from(u16::MAX) {
                return Err(format!(
                    "the {} grammar's {count} kinds do not fit in rowan's 16-bit kind space after the \
                     other languages' blocks",
                    language.name()
                ));
            }
            maps[language.index()] = KindMap {
                base: next as u16,
                count: count as u16,
            };
            next += block;
        }
        Ok(KindTable { maps })
    }

    pub(crate) fn get(&self, language: Language) -> KindMap {
        self.maps[language.index()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_round_trip_and_never_collide() {
        let table = KindTable::new().unwrap();
        let mut seen = std::collections::HashSet::new();
        for language in Language::ALL {
            let map = table.get(language);
            let n = language.grammar().node_kind_count() as u16;
            for kind_id in (0..n).chain([ERROR]) {
                for missing in [false, true] {
                    let kind = map.encode(kind_id, missing).unwrap();
                    assert!(kind != TRIVIA && kind != FILE);
                    assert!(seen.insert(kind), "{kind:?} used twice");
                    assert_eq!(map.decode(kind), (kind_id, missing));
                }
            }
            assert!(matches!(map.encode(n, false), Err(BuildError::Limit(_))));
            assert!(matches!(
                map.encode(ERROR - 1, true),
                Err(BuildError::Limit(_))
            ));
        }
    }
}
