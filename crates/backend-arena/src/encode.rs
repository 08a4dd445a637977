//! From a tree-sitter tree to a file's record stream, in two iterative passes over a scratch arena.
//!
//! 1. A `TreeCursor` walk flattens the visible nodes in preorder into [`Flat`] records (kind, range, the base
//!    its gap counts from, its parent's end, the index past its subtree, leaf/last/missing).
//! 2. A reverse pass writes the records back to front: when a node is written, its descendants already are,
//!    so the byte size of their records, which a non-last inner node stores, is known. The bytes are pushed
//!    reversed and the caller copies them out in reverse, so no pass ever moves data twice.
//!
//! Both passes live in a `bumpalo::Bump` the store resets before each file and drops in `finish()`: no
//! per-node allocation, and no scratch memory survives the build.

use crate::codec::{
    self, END_EXPLICIT, ESCAPE, GAP_NEGATIVE, GAP_ONE, GAP_VARINT, GAP_ZERO, HAS_FIELD, LAST, LEAF,
    MISSING, RECORD_MAX,
};
use crate::table::{Table, MAX_FIXED};
use bumpalo::collections::Vec as BumpVec;
use bumpalo::Bump;
use cst_measure::BuildError;

/// One visible node as the encoder sees it.
#[derive(Clone, Copy, Debug, Default)]
struct Flat {
    start: u32,
    end: u32,
    /// Where the gap counts from: the parent's start (first child) or the previous sibling's end.
    base: u32,
    parent_end: u32,
    /// Index just past this node's subtree in preorder.
    next: u32,
    /// Bytes of the records from this node to the end of the file, once written.
    written: u32,
    kind: u16,
    /// Field id in the parent, 0 for none.
    field: u16,
    /// [`LEAF`], [`LAST`], [`MISSING`].
    flags: u8,
}

const _: () = assert!(std::mem::size_of::<Flat>() == 32);

/// Encodes `tree` (of a text of `text_len` bytes) into `scratch`, returning the stream *reversed*; fails if the
/// stream would exceed `max_stream` bytes.
pub(crate) fn encode<'s>(
    scratch: &'s Bump,
    table: &Table,
    language_byte: u8,
    text_len: u32,
    tree: &tree_sitter::Tree,
    max_stream: u64,
) -> Result<BumpVec<'s, u8>, BuildError> {
    let flat = flatten(scratch, tree, text_len)?;
    let mut out = BumpVec::with_capacity_in(flat.len() * 2 + 1, scratch);
    let mut flat = flat;
    let mut record = [0u8; RECORD_MAX];
    for i in (0..flat.len()).rev() {
        let node = flat[i];
        let size = if node.flags & (LEAF | LAST) == 0 {
            // Descendants are i+1 .. next; `written` counts from a node to the end of the file.
            let after = flat.get(node.next as usize).map_or(0, |n| n.written);
            flat[i + 1].written - after
        } else {
            0
        };
        let len = write_record(table, &node, size, &mut record);
        out.extend(record[..len].iter().rev().copied());
        // One byte for the language, and every offset must fit the u32 fields of a [`codec::Frame`].
        if out.len() as u64 + 1 > max_stream {
            return Err(BuildError::Limit(format!(
                "the file's tree needs more than {max_stream} bytes of records, the limit of this store's \
                 32-bit stream offsets"
            )));
        }
        flat[i].written = out.len() as u32;
    }
    out.push(language_byte);
    Ok(out)
}

/// Pass 1: the visible nodes in preorder.
fn flatten<'s>(
    scratch: &'s Bump,
    tree: &tree_sitter::Tree,
    text_len: u32,
) -> Result<BumpVec<'s, Flat>, BuildError> {
    let root = tree.root_node();
    let mut flat: BumpVec<'s, Flat> = BumpVec::with_capacity_in(root.descendant_count(), scratch);
    let mut open: BumpVec<'s, u32> = BumpVec::new_in(scratch);
    let mut cursor = root.walk();
    let (mut base, mut parent_end) = (0, text_len);
    loop {
        let node = cursor.node();
        let index = flat.len();
        let (start, end) = (node.start_byte(), node.end_byte());
        if end > text_len as usize || start > end {
            return Err(BuildError::Limit(format!(
                "node {index} spans {start}..{end}, outside the {text_len}-byte text (not representable)"
            )));
        }
        flat.push(Flat {
            start: start as u32,
            end: end as u32,
            base,
            parent_end,
            next: 0,
            written: 0,
            kind: node.kind_id(),
            field: cursor.field_id().map_or(0, |id| id.get()),
            flags: if node.is_missing() { MISSING } else { 0 },
        });
        if index as u64 >= u64::from(u32::MAX) {
            return Err(BuildError::Limit(
                "the file has more than 2^32 - 1 nodes".into(),
            ));
        }
        if cursor.goto_first_child() {
            open.push(index as u32);
            (base, parent_end) = (start as u32, end as u32);
            continue;
        }
        flat[index].flags |= LEAF;
        let mut current = index;
        loop {
            flat[current].next = flat.len() as u32;
            if cursor.goto_next_sibling() {
                base = flat[current].end;
                break;
            }
            flat[current].flags |= LAST;
            if !cursor.goto_parent() {
                return Ok(flat);
            }
            current = open.pop().expect("a parent is open below the root") as usize;
        }
        parent_end = open.last().map_or(text_len, |&p| flat[p as usize].end);
    }
}

/// Writes one node's record into `out`, returning its length.
fn write_record(table: &Table, node: &Flat, size: u32, out: &mut [u8; RECORD_MAX]) -> usize {
    let leaf = node.flags & LEAF != 0;
    let last = node.flags & LAST != 0;
    let gap = i64::from(node.start) - i64::from(node.base);
    let len = node.end - node.start;
    let ends_with_parent = node.end == node.parent_end;
    let mut at = 1;
    let compact = node.flags & MISSING == 0 && gap >= 0 && (!last || ends_with_parent);
    let gap_class = gap.clamp(0, 2) as u8;
    let opcode = if !compact {
        None
    } else if leaf && !last {
        let fixed = (len <= MAX_FIXED)
            .then(|| table.opcode(node.kind, true, false, gap_class, Some(len)))
            .flatten();
        fixed.map(|op| (op, false)).or_else(|| {
            table
                .opcode(node.kind, true, false, gap_class, None)
                .map(|op| (op, true))
        })
    } else {
        table
            .opcode(node.kind, leaf, last, gap_class, None)
            .map(|op| (op, !last))
    };
    let explicit_len = match opcode {
        Some((op, explicit_len)) => {
            out[0] = op;
            codec::write_varint(out, &mut at, u64::from(node.field));
            explicit_len
        }
        None => {
            out[0] = ESCAPE;
            let gap_flags = match gap {
                0 => GAP_ZERO,
                1 => GAP_ONE,
                2.. => GAP_VARINT,
                _ => GAP_NEGATIVE,
            };
            let explicit_len = !ends_with_parent;
            let field_flag = if node.field != 0 { HAS_FIELD } else { 0 };
            out[1] =
                node.flags | gap_flags | field_flag | if explicit_len { END_EXPLICIT } else { 0 };
            at = 2;
            codec::write_varint(out, &mut at, u64::from(node.kind.wrapping_add(1)));
            if node.field != 0 {
                codec::write_varint(out, &mut at, u64::from(node.field));
            }
            explicit_len
        }
    };
    // Classes 0 and 1 are in the opcode or flags; every other gap (negative ones too) is a varint.
    if !(0..=1).contains(&gap) {
        codec::write_varint(out, &mut at, gap.unsigned_abs());
    }
    if explicit_len {
        codec::write_varint(out, &mut at, u64::from(len));
    }
    if !leaf && !last {
        codec::write_varint(out, &mut at, u64::from(size));
    }
    at
}

#[cfg(test)]
mod tests {
    //! Records of every shape, compact and escaped, written and decoded back in a synthetic context: this
    //! reaches the forms tree-sitter never produces (negative gaps, huge varints, kinds past the table).

    use super::{write_record, Flat};
    use crate::codec::{decode, Frame, LAST, LEAF, MISSING, RECORD_MAX};
    use crate::table::Table;
    use cst_measure::{Language, NodeInfo};

    #[test]
    fn every_shape_decodes_to_what_was_written() {
        let table = Table::of(Language::Rust);
        let identifier = Language::Rust
            .grammar()
            .id_for_node_kind("identifier", true);
        let paren = Language::Rust.grammar().id_for_node_kind("(", false);
        let kinds = [identifier, paren, u16::MAX, 1, 600, 40_000];
        let fields = [0u16, 1, 300];
        let base = 1_000_000u32;
        let parent = Frame {
            info: NodeInfo {
                kind: 7,
                field: 0,
                start: 0,
                end: 3_000_000_000,
                missing: false,
            },
            children: 0,
            subtree_end: 4_000_000_000,
            flags: 0,
        };
        let mut cases = 0;
        for (kind, field) in kinds.into_iter().flat_map(|k| fields.map(|f| (k, f))) {
            for flags in 0..8u8 {
                let (leaf, last, missing) = (flags & 1 != 0, flags & 2 != 0, flags & 4 != 0);
                for gap in [-1000i64, -1, 0, 1, 2, 127, 128, 300_000, 1 << 28] {
                    for len in [None, Some(0u32), Some(1), Some(4), Some(200), Some(1 << 30)] {
                        let start = (i64::from(base) + gap) as u32;
                        // `None`: the node ends where its parent does.
                        let end = len.map_or(parent.info.end, |len| start + len);
                        let node = Flat {
                            start,
                            end,
                            base,
                            parent_end: parent.info.end,
                            next: 0,
                            written: 0,
                            kind,
                            field,
                            flags: (u8::from(leaf) * LEAF)
                                | (u8::from(last) * LAST)
                                | (u8::from(missing) * MISSING),
                        };
                        let size = 123_456;
                        let mut record = [0u8; RECORD_MAX];
                        let written = write_record(table, &node, size, &mut record);
                        let mut bytes = vec![0xAA; 3];
                        bytes.extend_from_slice(&record[..written]);
                        let frame = decode(&bytes, 3, base, &parent, &table.decode);
                        let info = NodeInfo {
                            kind,
                            field,
                            start,
                            end,
                            missing,
                        };
                        assert_eq!(
                            frame.info, info,
                            "leaf {leaf} last {last} gap {gap} len {len:?}"
                        );
                        assert_eq!((frame.is_leaf(), frame.is_last()), (leaf, last));
                        let record_end = (3 + written) as u32;
                        assert_eq!(frame.children, record_end);
                        let subtree_end = match (leaf, last) {
                            (true, _) => record_end,
                            (false, true) => parent.subtree_end,
                            (false, false) => record_end + size,
                        };
                        assert_eq!(frame.subtree_end, subtree_end);
                        cases += 1;
                    }
                }
            }
        }
        assert_eq!(cases, 6 * 3 * 8 * 9 * 6);
    }
}
