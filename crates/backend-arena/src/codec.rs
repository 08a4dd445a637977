//! The record format shared by the encoder and every reader: flag bits, varints, and [`decode`], which turns
//! one record plus its context (where the node's gap counts from, its parent) into a [`Frame`].
//!
//! A record is `opcode [flags kind] [gap] [len] [size]`:
//! - `opcode`: one byte. 0..=254 index the language's [`crate::table::Table`] (kind and shape in one byte)
//!   and are followed by the field id as a varint (0: no field); 255 ([`ESCAPE`]) is followed by a `flags`
//!   byte, the kind as a varint of `kind + 1` (so `ERROR`, `u16::MAX`, is the single byte 0) and, when the
//!   flags have [`HAS_FIELD`], the field id as a varint.
//! - `gap`: start minus base (base = the parent's start for a first child, the previous sibling's end
//!   otherwise). Gap class 0 and 1 are in the shape; class 2 stores a varint; class 3 (escape only) stores a
//!   varint to subtract (never seen from tree-sitter, kept so that no input can make a wrong tree).
//! - `len`: end minus start, a varint, when [`END_EXPLICIT`]; otherwise the end is the fixed length of the
//!   opcode ([`FIXED`]) or the parent's end (last children, and escaped nodes that end with their parent).
//! - `size`: for an inner node that is not its parent's last child, the bytes of its descendants' records,
//!   so that its next sibling is found without decoding them. A last child's subtree ends where its
//!   parent's does, and a leaf's where its record does.
//!
//! Varints are LEB128 (7 bits a byte, low bits first, high bit set on all but the last byte).

use cst_measure::NodeInfo;

/// The escape opcode.
pub(crate) const ESCAPE: u8 = 255;

/// The node has no visible children.
pub(crate) const LEAF: u8 = 1;
/// The node is its parent's last child.
pub(crate) const LAST: u8 = 2;
/// Gap class, two bits.
pub(crate) const GAP_SHIFT: u8 = 2;
pub(crate) const GAP_MASK: u8 = 3 << GAP_SHIFT;
pub(crate) const GAP_ZERO: u8 = 0;
pub(crate) const GAP_ONE: u8 = 1 << GAP_SHIFT;
pub(crate) const GAP_VARINT: u8 = 2 << GAP_SHIFT;
pub(crate) const GAP_NEGATIVE: u8 = 3 << GAP_SHIFT;
/// Compact leaves only: the length is the entry's fixed length.
pub(crate) const FIXED: u8 = 1 << 4;
/// The node was inserted by error recovery (escape only).
pub(crate) const MISSING: u8 = 1 << 5;
/// A `len` varint follows (otherwise the end is fixed or the parent's end).
pub(crate) const END_EXPLICIT: u8 = 1 << 6;
/// In a decoding [`Entry`]: this opcode is the escape (or unused).
pub(crate) const ENTRY_ESCAPE: u8 = 1 << 7;
/// In an escaped record's flags byte: a field id follows the kind (compact opcodes mean "no field").
pub(crate) const HAS_FIELD: u8 = 1 << 7;

/// Longest record: opcode, flags, a 3-byte kind, a 3-byte field and three 10-byte (u64) varints as the encoder
/// may write them before it checks its limits.
pub(crate) const RECORD_MAX: usize = 2 + 3 + 3 + 3 * 10;

/// What a compact opcode means: its kind and its flags with [`END_EXPLICIT`] already worked out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Entry {
    pub(crate) kind: u16,
    pub(crate) flags: u8,
    pub(crate) fixed: u8,
}

const _: () = assert!(std::mem::size_of::<Entry>() == 4);

impl Entry {
    pub(crate) const ESCAPE: Entry = Entry {
        kind: 0,
        flags: ENTRY_ESCAPE,
        fixed: 0,
    };

    /// The entry of a compact opcode of this shape.
    pub(crate) fn compact(kind: u16, shape: u8, fixed: u8) -> Entry {
        let mut flags = shape & (LEAF | LAST | GAP_MASK | FIXED);
        if flags & (LAST | FIXED) == 0 {
            flags |= END_EXPLICIT;
        }
        Entry {
            kind,
            flags,
            fixed: if flags & FIXED != 0 { fixed } else { 0 },
        }
    }
}

/// A decoded node and where its records are: what a cursor keeps per level.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Frame {
    pub(crate) info: NodeInfo,
    /// Offset of the first child's record (the end of this node's record).
    pub(crate) children: u32,
    /// Offset just past this node's subtree (its next sibling's record, if it has one).
    pub(crate) subtree_end: u32,
    /// [`LEAF`], [`LAST`] and the rest of the record's flags.
    pub(crate) flags: u8,
}

const _: () = assert!(std::mem::size_of::<NodeInfo>() == 16);
const _: () = assert!(std::mem::size_of::<Frame>() == 28);

impl Frame {
    pub(crate) fn is_leaf(&self) -> bool {
        self.flags & LEAF != 0
    }

    pub(crate) fn is_last(&self) -> bool {
        self.flags & LAST != 0
    }

    /// The frame above a file's root: spans the whole text and the whole stream, so that the root decodes
    /// like any last child (`base` 0).
    pub(crate) fn above_root(text_len: u32, stream_len: u32) -> Frame {
        Frame {
            info: NodeInfo {
                kind: 0,
                field: 0,
                start: 0,
                end: text_len,
                missing: false,
            },
            children: ROOT_RECORD,
            subtree_end: stream_len,
            flags: 0,
        }
    }
}

/// Offset of the root's record in a file's stream (after the language byte).
pub(crate) const ROOT_RECORD: u32 = 1;

/// Reads a LEB128 varint at `*at` (at most 5 bytes for the u32 values the encoder lets through).
#[inline(always)]
pub(crate) fn read_varint(bytes: &[u8], at: &mut usize) -> u32 {
    let byte = bytes[*at];
    *at += 1;
    if byte < 0x80 {
        return u32::from(byte);
    }
    let mut value = u32::from(byte & 0x7f);
    let mut shift = 7;
    loop {
        let byte = bytes[*at];
        *at += 1;
        value |= u32::from(byte & 0x7f) << shift;
        if byte < 0x80 {
            return value;
        }
        shift += 7;
    }
}

/// Writes a LEB128 varint into `out` at `*at`.
pub(crate) fn write_varint(out: &mut [u8], at: &mut usize, mut value: u64) {
    while value >= 0x80 {
        out[*at] = (value as u8) | 0x80;
        *at += 1;
        value >>= 7;
    }
    out[*at] = value as u8;
    *at += 1;
}

/// Decodes the record at `at`, a child of `parent` whose gap counts from `base`.
#[inline(always)]
pub(crate) fn decode(
    bytes: &[u8],
    at: u32,
    base: u32,
    parent: &Frame,
    table: &[Entry; 256],
) -> Frame {
    let mut p = at as usize;
    let entry = table[usize::from(bytes[p])];
    p += 1;
    let (kind, field, flags, fixed) = if entry.flags & ENTRY_ESCAPE == 0 {
        let field = read_varint(bytes, &mut p) as u16;
        (entry.kind, field, entry.flags, entry.fixed)
    } else {
        escape_header(bytes, &mut p)
    };
    let start = if flags & GAP_VARINT == 0 {
        // Classes 0 and 1: the class is the gap.
        base + u32::from((flags & GAP_MASK) >> GAP_SHIFT)
    } else if flags & GAP_MASK == GAP_VARINT {
        base + read_varint(bytes, &mut p)
    } else {
        base - read_varint(bytes, &mut p)
    };
    let end = if flags & END_EXPLICIT != 0 {
        start + read_varint(bytes, &mut p)
    } else if flags & FIXED != 0 {
        start + u32::from(fixed)
    } else {
        parent.info.end
    };
    let subtree_end = if flags & LEAF != 0 {
        p as u32
    } else if flags & LAST != 0 {
        parent.subtree_end
    } else {
        let size = read_varint(bytes, &mut p);
        p as u32 + size
    };
    Frame {
        info: NodeInfo {
            kind,
            field,
            start,
            end,
            missing: flags & MISSING != 0,
        },
        children: p as u32,
        subtree_end,
        flags,
    }
}

/// The kind, field and flags byte of an escaped record.
#[cold]
#[inline(never)]
fn escape_header(bytes: &[u8], p: &mut usize) -> (u16, u16, u8, u8) {
    let flags = bytes[*p];
    *p += 1;
    let kind = (read_varint(bytes, p) as u16).wrapping_sub(1);
    let field = if flags & HAS_FIELD != 0 {
        read_varint(bytes, p) as u16
    } else {
        0
    };
    (kind, field, flags, 0)
}
