//! Per-language opcode tables: which byte stands for which (kind, shape) pair in a compact record.
//!
//! The pairs come from [`crate::table_data`], generated from real code and listed by kind *name*, so a grammar
//! update can only make an entry unusable (it is then never written), never make a tree wrong. Each language's
//! table is resolved against its grammar once per process into a `static` [`OnceLock`] of fixed-size arrays:
//! no heap, so nothing of it is counted as retained by any store, and no store pays for it.

use crate::codec::{self, Entry, ESCAPE, FIXED, GAP_MASK, GAP_SHIFT, LAST, LEAF};
use crate::table_data;
use cst_measure::Language;
use std::sync::OnceLock;

/// One generated opcode: (kind name, named, shape bits [`LEAF`] | [`LAST`] | gap class << [`GAP_SHIFT`] |
/// [`FIXED`], fixed length).
pub(crate) type OpSpec = (&'static str, bool, u8, u8);

/// Kind ids below this can have compact opcodes (every bundled grammar has fewer kinds); others are escaped.
pub(crate) const MAX_KINDS: usize = 512;
/// Longest fixed length a leaf opcode can carry.
pub(crate) const MAX_FIXED: u32 = 15;
/// Shapes per kind in the encoder's lookup: leaf not last (gap 0/1/n × explicit or fixed 0..=15 length),
/// leaf last, inner not last, inner last (gap 0/1/n each).
const SHAPES: usize = 3 * (2 + MAX_FIXED as usize) + 3 * 3;
/// "No compact opcode" in the encoder's lookup.
const NONE: u8 = ESCAPE;

/// A resolved table: opcode byte to entry (decoding), and (kind, shape) to opcode byte (encoding).
pub(crate) struct Table {
    pub(crate) decode: [Entry; 256],
    encode: [u8; MAX_KINDS * SHAPES],
}

/// The encoder's lookup slot of a kind: its id, with `ERROR` (`u16::MAX`) in slot 0, which is tree-sitter's
/// end-of-input symbol and never a node.
fn slot(kind: u16) -> Option<usize> {
    let slot = if kind == u16::MAX {
        0
    } else {
        usize::from(kind)
    };
    (slot < MAX_KINDS).then_some(slot)
}

/// The lookup index of a shape (gap class 0..=2; `fixed` only for leaves that are not last).
fn shape_index(leaf: bool, last: bool, gap: u8, fixed: Option<u32>) -> usize {
    let gap = usize::from(gap);
    match (leaf, last) {
        (true, false) => gap * (2 + MAX_FIXED as usize) + fixed.map_or(0, |len| 1 + len as usize),
        (true, true) => 3 * (2 + MAX_FIXED as usize) + gap,
        (false, false) => 3 * (2 + MAX_FIXED as usize) + 3 + gap,
        (false, true) => 3 * (2 + MAX_FIXED as usize) + 6 + gap,
    }
}

impl Table {
    fn build(language: Language) -> Table {
        let specs: &[OpSpec] = match language {
            Language::Python => table_data::PYTHON,
            Language::Rust => table_data::RUST,
            Language::TypeScript | Language::Tsx => table_data::TYPESCRIPT,
        };
        let grammar = language.grammar();
        let mut table = Table {
            decode: [Entry::ESCAPE; 256],
            encode: [NONE; MAX_KINDS * SHAPES],
        };
        for (op, &(name, named, shape, fixed)) in specs.iter().enumerate().take(usize::from(ESCAPE))
        {
            let kind = if name == "ERROR" && named {
                u16::MAX
            } else {
                let id = grammar.id_for_node_kind(name, named);
                // Unknown names come back as 0; a name that is not the id's own (aliases) is unusable too.
                if id == 0 || grammar.node_kind_for_id(id) != Some(name) {
                    continue;
                }
                id
            };
            let Some(slot) = slot(kind) else { continue };
            let (leaf, last, gap) = (
                shape & LEAF != 0,
                shape & LAST != 0,
                (shape & GAP_MASK) >> GAP_SHIFT,
            );
            let fixed_len = (shape & FIXED != 0).then_some(u32::from(fixed));
            if gap > 2 || (fixed_len.is_some() && (!leaf || last || u32::from(fixed) > MAX_FIXED)) {
                continue; // Not a shape compact records have.
            }
            let index = slot * SHAPES + shape_index(leaf, last, gap, fixed_len);
            if table.encode[index] != NONE {
                continue; // Duplicate: the first (most used) wins.
            }
            table.encode[index] = op as u8;
            table.decode[op] = Entry::compact(kind, shape, fixed);
        }
        table
    }

    /// The table of `language` (built on first use).
    pub(crate) fn of(language: Language) -> &'static Table {
        static TABLES: [OnceLock<Table>; 4] = [const { OnceLock::new() }; 4];
        TABLES[language.index()].get_or_init(|| Table::build(language))
    }

    /// The opcode for a node of this shape, if the table has one (gap class 0..=2).
    pub(crate) fn opcode(
        &self,
        kind: u16,
        leaf: bool,
        last: bool,
        gap: u8,
        fixed: Option<u32>,
    ) -> Option<u8> {
        let slot = slot(kind)?;
        let op = self.encode[slot * SHAPES + shape_index(leaf, last, gap, fixed)];
        (op != NONE).then_some(op)
    }
}

const _: () = assert!(SHAPES == 60);
const _: () = assert!(codec::RECORD_MAX <= 64);

#[cfg(test)]
mod tests {
    use super::{Table, ESCAPE};
    use crate::codec::ENTRY_ESCAPE;
    use crate::table_data;
    use cst_measure::Language;

    /// Every generated entry names a kind its grammar still has (else it is silently unusable).
    #[test]
    fn every_generated_opcode_resolves() {
        for language in Language::ALL {
            let specs = match language {
                Language::Python => table_data::PYTHON,
                Language::Rust => table_data::RUST,
                Language::TypeScript | Language::Tsx => table_data::TYPESCRIPT,
            };
            assert!(specs.len() <= usize::from(ESCAPE));
            let table = Table::of(language);
            let resolved = table
                .decode
                .iter()
                .filter(|e| e.flags & ENTRY_ESCAPE == 0)
                .count();
            let unresolved: Vec<_> = specs
                .iter()
                .enumerate()
                .filter(|&(op, _)| table.decode[op].flags & ENTRY_ESCAPE != 0)
                .map(|(_, spec)| spec.0)
                .collect();
            // TSX reuses the TypeScript table; a kind TypeScript has and TSX lacks would show up here.
            assert_eq!(
                resolved,
                specs.len(),
                "{}: unresolved {unresolved:?}",
                language.name()
            );
            assert_eq!(table.decode[usize::from(ESCAPE)].flags, ENTRY_ESCAPE);
        }
    }
}
