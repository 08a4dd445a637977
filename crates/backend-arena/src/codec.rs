//! The record format shared by the encoder and every reader: bit reading, number codes, and
//! [`decode`], which turns one record plus its context (the context it is coded in, where its gap counts from,
//! its parent) into a [`Frame`].
//!
//! A file's records are one bit stream (most significant bit first), one record per visible node in
//! preorder. A record is
//!
//! `escape* symbol [gap] [length] [size]`
//!
//! - **symbol**: a Huffman code of the context the record is coded in (see [`crate::model`]): the parent's
//!   kind and the previous sibling's kind, known to the reader from the parent's and previous sibling's
//!   records. A symbol stands for kind, field, leaf, last child, the gap mode (0, 1 or coded) and the end
//!   mode (a fixed length, the parent's end, or coded). Each **escape** moves to a wider context (parent kind
//!   only, then every parent); the global context's escape is followed by a **raw** record instead:
//!   `leaf last missing` (3 bits), the kind (16 bits), a field bit and the field (16 bits), a sign bit and
//!   the gap, an "ends with the parent" bit or the length, and the size as below, numbers in raw form.
//! - **gap** (coded mode): start minus the *base*, which is the parent's start for a first child and the
//!   previous sibling's end otherwise, as a number of the symbol's gap code.
//! - **length** (coded mode): end minus start, a number of the symbol's length code.
//! - **size**, for an inner node that is not its parent's last child: the bits of its descendants' records,
//!   a number of the model's size code, so that its next sibling is found without decoding them; 0 (never
//!   a real size: a descendant's record takes at least a bit) for a node of at most
//!   [`crate::SKIP_DESCENDANTS`] descendants, whose frame then says [`UNKNOWN`] and whose end a reader finds
//!   by decoding those records ([`subtree_end`]). An update never copies such a subtree (its records are
//!   few), so that every copied subtree stores its size as a full encoding would.
//!
//! Numbers (gaps, lengths, sizes) are coded as a symbol of a 44-symbol alphabet, values 0 to 15 exactly and
//! then one symbol per bit length from 5 to 32 bits followed by the bits below the leading one, under an
//! 8-bit Huffman code trained per purpose and kind. A raw number is its bit length in 6 bits followed by the
//! bits below its leading one.

use crate::model::{
    Entry, Model, END_CODED, END_FIXED, END_MASK, END_PARENT, ESCAPE, GAP_CODED, GAP_ONE, LAST,
    LEAF, RAW_DESCRIPTOR,
};
use cst_measure::NodeInfo;

/// [`Frame::flags`] of a node inserted by error recovery (only raw records have it).
pub(crate) const MISSING: u8 = 1 << 2;
/// [`Frame::subtree_end`] of an inner node whose record stores no size (at most
/// [`crate::SKIP_DESCENDANTS`] descendants), and of the last children below it until a walk that reached
/// their end tells: [`subtree_end`] finds it.
pub(crate) const UNKNOWN: u32 = u32::MAX;
/// Bytes a reader may read past a file's last record: the arena ends with this many zero bytes.
pub(crate) const PADDING: usize = 8;

/// A decoded node and where its records are: what a cursor keeps per level.
///
/// Every field is a `u32`, written and read one field at a time: a cursor's moves write the frame they
/// decode straight into its stack and the next move reads single fields back, so no load ever spans
/// several narrower stores (which would defeat store-to-load forwarding and stall every move).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Frame {
    /// `kind | field << 16`.
    pub(crate) kind_field: u32,
    pub(crate) start: u32,
    pub(crate) end: u32,
    /// [`LEAF`], [`LAST`], [`MISSING`].
    pub(crate) flags: u32,
    /// Bit offset of the first child's record (the end of this node's record).
    pub(crate) children: u32,
    /// Bit offset just past this node's subtree (a leaf's record end; a non-last inner node's stored
    /// size; a last child's parent's subtree end), or [`UNKNOWN`].
    pub(crate) subtree_end: u32,
    /// Descriptor of the context of the next sibling's record.
    pub(crate) next: u32,
    /// Descriptor of the context of the first child's record.
    pub(crate) child: u32,
}

const _: () = assert!(std::mem::size_of::<Frame>() == 32);

impl Frame {
    #[inline(always)]
    pub(crate) fn is_leaf(&self) -> bool {
        self.flags & u32::from(LEAF) != 0
    }

    #[inline(always)]
    pub(crate) fn is_last(&self) -> bool {
        self.flags & u32::from(LAST) != 0
    }

    #[inline(always)]
    pub(crate) fn info(&self) -> NodeInfo {
        node_info(self.kind_field, self.start, self.end, self.flags)
    }

    /// The frame above a file's root: spans the whole text and the whole stream, so that the root decodes
    /// like any last child (`base` 0) in the model's root context.
    pub(crate) fn above_root(
        text_len: u32,
        records: u32,
        stream_bits: u32,
        model: &Model,
    ) -> Frame {
        Frame {
            kind_field: u32::from(crate::model::NONE),
            start: 0,
            end: text_len,
            flags: 0,
            children: records,
            subtree_end: stream_bits,
            next: 0,
            child: model.root_descriptor,
        }
    }
}

/// A decoded node as readers give it: `kind_field` and `flags` as a [`Frame`] holds them.
#[inline(always)]
fn node_info(kind_field: u32, start: u32, end: u32, flags: u32) -> NodeInfo {
    NodeInfo {
        kind: kind_field as u16,
        field: (kind_field >> 16) as u16,
        start,
        end,
        missing: flags & u32::from(MISSING) != 0,
    }
}

/// The 64 bits starting at bit `at` (most significant first); at least 57 of them come from the stream.
#[inline(always)]
pub(crate) fn peek(bytes: &[u8], at: usize) -> u64 {
    let i = at >> 3;
    let word = u64::from_be_bytes(bytes[i..i + 8].try_into().expect("8 bytes"));
    word << (at & 7)
}

/// A raw number: 6 bits of bit length, then the bits below the leading one.
fn read_raw_number(bytes: &[u8], at: &mut usize) -> u32 {
    let word = peek(bytes, *at);
    let length = (word >> 58) as u32;
    *at += 6;
    match length {
        0 => 0,
        1 => 1,
        _ => {
            let below = length - 1;
            *at += below as usize;
            (1 << below) | ((word << 6) >> (64 - below)) as u32
        }
    }
}

fn read_bits(bytes: &[u8], at: &mut usize, count: u32) -> u32 {
    let value = (peek(bytes, *at) >> (64 - count)) as u32;
    *at += count as usize;
    value
}

/// Reads one code at `at` with the decoding table of `descriptor` (see [`crate::model::Descriptor`]): the
/// index of its entry, and its length.
#[inline(always)]
pub(crate) fn read_code(bytes: &[u8], at: usize, descriptor: u32, model: &Model) -> (u32, usize) {
    let (index, length, _) = read_code_word(bytes, at, descriptor, model);
    (index, length)
}

/// [`read_code`], also giving the 64 bits it peeked at `at`.
#[inline(always)]
fn read_code_word(bytes: &[u8], at: usize, descriptor: u32, model: &Model) -> (u32, usize, u64) {
    let word = peek(bytes, at);
    let (shift, base) = (descriptor & 127, (descriptor >> 10) as usize);
    let mut slot = u32::from(model.slots[base + (word >> shift) as usize]);
    if slot & 15 == 0 {
        let (first, sub) = (64 - shift, (descriptor >> 7) & 7);
        let table = (1usize << first) + ((slot >> 4) << sub) as usize;
        slot = u32::from(model.slots[base + table + ((word << first) >> (64 - sub)) as usize]);
    }
    (slot >> 4, (slot & 15) as usize, word)
}

/// The bits after a symbol, read from the word its code was peeked from while it holds enough: a record's
/// numbers mostly need no load of their own (each load would lengthen the chain a record's decoding waits
/// on).
struct Ahead<'b> {
    bytes: &'b [u8],
    /// Bit offset of the next bit.
    at: usize,
    /// The next bits, left-aligned; `valid` of them come from the stream.
    word: u64,
    valid: u32,
}

impl Ahead<'_> {
    /// A number of code `code` (at most 8 bits of code and 31 below the leading one).
    #[inline(always)]
    fn number(&mut self, code: u8, model: &Model) -> u32 {
        if self.valid < 40 {
            self.word = peek(self.bytes, self.at);
            self.valid = 64 - (self.at & 7) as u32;
        }
        let word = self.word;
        let slot = u32::from(model.number_slots[(usize::from(code) << 8) | (word >> 56) as usize]);
        let (length, extra, small) = (slot & 15, (slot >> 4) & 31, slot >> 9);
        let lead = (1u64 << extra) & !1;
        let below = ((word << length) >> 1) >> (63 - extra);
        let used = length + extra;
        self.word = word << used;
        self.valid -= used;
        self.at += used as usize;
        (u64::from(small) + lead + below) as u32
    }
}

/// [`read_code`], advancing `at` (for tests).
#[cfg(test)]
pub(crate) fn read_symbol(
    bytes: &[u8],
    at: &mut usize,
    descriptor: u32,
    model: &Model,
) -> (u32, usize) {
    let (entry, length) = read_code(bytes, *at, descriptor, model);
    *at += length;
    (entry, length)
}

/// Decodes the record at bit `at`, coded in the context of descriptor `context`, a child of `parent` whose
/// gap counts from `base`, into `out`.
#[inline(always)]
pub(crate) fn decode(
    bytes: &[u8],
    at: u32,
    context: u32,
    base: u32,
    parent: &Frame,
    model: &Model,
    out: &mut Frame,
) {
    let (index, length, word) = read_code_word(bytes, at as usize, context, model);
    let entry = &model.entries[index as usize];
    if entry.flags & ESCAPE != 0 {
        *out = decode_escaped(bytes, at as usize + length, entry.next, base, parent, model);
        return;
    }
    let ahead = Ahead {
        bytes,
        at: at as usize + length,
        word: word << length,
        valid: 64 - (at & 7) - length as u32,
    };
    decode_entry(ahead, entry, base, parent, model, out);
}

/// The bit just past the subtree of `node`: its frame's, or for an inner node whose record stores no size
/// ([`UNKNOWN`]), found by decoding its descendants' records ([`small_subtree_end`]). A stream that is not
/// the encoder's (a forged saved file) can make this wrong or make a bounds-checked read panic, never read
/// out of bounds or loop.
#[inline(always)]
pub(crate) fn subtree_end(bytes: &[u8], node: &Frame, model: &Model) -> u32 {
    if node.subtree_end != UNKNOWN {
        node.subtree_end
    } else {
        skipped_subtree_end(bytes, node, model)
    }
}

#[inline(never)]
fn skipped_subtree_end(bytes: &[u8], node: &Frame, model: &Model) -> u32 {
    small_subtree_end(bytes, node, model).unwrap_or(node.children)
}

/// The bit just past the subtree of the inner node `node` if it has at most [`crate::SKIP_DESCENDANTS`]
/// descendants, else `None`: their records decoded in stream order (at most that many and one more), on a
/// stack of frames that lives on the call stack. O(1): bounded by that constant. Every record moves on by at
/// least one bit.
pub(crate) fn small_subtree_end(bytes: &[u8], node: &Frame, model: &Model) -> Option<u32> {
    const MOST: usize = crate::SKIP_DESCENDANTS as usize;
    let mut parents = [Frame::default(); MOST + 1];
    parents[0] = *node;
    let (mut depth, mut records) = (0, 0);
    let (mut at, mut context, mut base) = (node.children, node.child, node.start);
    let mut child = Frame::default();
    loop {
        if records == MOST {
            return None;
        }
        records += 1;
        decode(bytes, at, context, base, &parents[depth], model, &mut child);
        if !child.is_leaf() {
            depth += 1;
            parents[depth] = child;
            (at, context, base) = (child.children, child.child, child.start);
            continue;
        }
        at = child.subtree_end;
        // Climb past every parent whose last child this closes; the node's own children end the walk.
        let mut closed = child;
        while closed.is_last() {
            if depth == 0 {
                return Some(at);
            }
            closed = parents[depth];
            depth -= 1;
        }
        (context, base) = (closed.next, closed.end);
    }
}

/// [`decode`] into a new frame.
#[inline(always)]
pub(crate) fn decoded(
    bytes: &[u8],
    at: u32,
    context: u32,
    base: u32,
    parent: &Frame,
    model: &Model,
) -> Frame {
    let mut frame = Frame::default();
    decode(bytes, at, context, base, parent, model, &mut frame);
    frame
}

/// A record's start and end from its symbol `entry` and the numbers after it (gap, length), given its base
/// and its parent's end.
#[inline(always)]
fn span(
    ahead: &mut Ahead<'_>,
    entry: &Entry,
    base: u32,
    parent_end: u32,
    model: &Model,
) -> (u32, u32) {
    let flags = entry.flags;
    let mut start = base.wrapping_add(u32::from(flags & GAP_ONE != 0));
    if flags & GAP_CODED != 0 {
        start = start.wrapping_add(ahead.number(entry.gap_code, model));
    }
    let end = match flags & END_MASK {
        END_PARENT => parent_end,
        END_CODED => start.wrapping_add(ahead.number(entry.end_code, model)),
        _ => start.wrapping_add(u32::from(entry.fixed)),
    };
    (start, end)
}

/// The rest of a record whose symbol is `entry` and ends at bit `at`.
#[inline(always)]
fn decode_entry(
    mut ahead: Ahead<'_>,
    entry: &Entry,
    base: u32,
    parent: &Frame,
    model: &Model,
    out: &mut Frame,
) {
    let flags = entry.flags;
    let (start, end) = span(&mut ahead, entry, base, parent.end, model);
    let subtree_end = if flags & LEAF != 0 {
        ahead.at as u32
    } else if flags & LAST != 0 {
        parent.subtree_end
    } else {
        match ahead.number(model.size_code, model) {
            0 => UNKNOWN,
            size => (ahead.at as u32).wrapping_add(size),
        }
    };
    let p = ahead.at;
    out.kind_field = entry.kind_field;
    out.start = start;
    out.end = end;
    out.flags = u32::from(flags & (LEAF | LAST));
    out.children = p as u32;
    out.subtree_end = subtree_end;
    out.next = model.next_descriptor(entry, parent.kind_field as u16);
    out.child = model.child_descriptor(entry);
}

/// The record after an escape to context `context` at bit `at`: more escapes, a symbol, or a raw record.
#[cold]
#[inline(never)]
fn decode_escaped(
    bytes: &[u8],
    at: usize,
    context: u32,
    base: u32,
    parent: &Frame,
    model: &Model,
) -> Frame {
    let mut p = at;
    match symbol(bytes, &mut p, context, model) {
        Some(entry) => {
            let mut frame = Frame::default();
            let ahead = Ahead {
                bytes,
                at: p,
                word: 0,
                valid: 0,
            };
            decode_entry(ahead, entry, base, parent, model, &mut frame);
            frame
        }
        None => decode_raw(bytes, p, base, parent, model),
    }
}

/// Reads the symbol at `*at` in the context of descriptor `context` (or [`RAW_DESCRIPTOR`]), following
/// escapes: the entry, or `None` when a raw record's body follows.
#[inline(always)]
fn symbol<'m>(
    bytes: &[u8],
    at: &mut usize,
    mut context: u32,
    model: &'m Model,
) -> Option<&'m Entry> {
    while context != RAW_DESCRIPTOR {
        let (index, length) = read_code(bytes, *at, context, model);
        *at += length;
        let entry = &model.entries[index as usize];
        if entry.flags & ESCAPE == 0 {
            return Some(entry);
        }
        context = entry.next;
    }
    None
}

/// Decodes the raw record whose body starts at bit `at` (after the global context's escape).
#[cold]
#[inline(never)]
fn decode_raw(bytes: &[u8], at: usize, base: u32, parent: &Frame, model: &Model) -> Frame {
    let mut p = at;
    let flags = read_bits(bytes, &mut p, 3);
    let kind = read_bits(bytes, &mut p, 16) as u16;
    let field = if read_bits(bytes, &mut p, 1) == 1 {
        read_bits(bytes, &mut p, 16)
    } else {
        0
    };
    let negative = read_bits(bytes, &mut p, 1) == 1;
    let gap = read_raw_number(bytes, &mut p);
    let start = if negative {
        base.wrapping_sub(gap)
    } else {
        base.wrapping_add(gap)
    };
    let end = if read_bits(bytes, &mut p, 1) == 1 {
        parent.end
    } else {
        start.wrapping_add(read_raw_number(bytes, &mut p))
    };
    let subtree_end = if flags & u32::from(LEAF) != 0 {
        p as u32
    } else if flags & u32::from(LAST) != 0 {
        parent.subtree_end
    } else {
        match read_raw_number(bytes, &mut p) {
            0 => UNKNOWN,
            size => (p as u32).wrapping_add(size),
        }
    };
    Frame {
        kind_field: u32::from(kind) | (field << 16),
        start,
        end,
        flags,
        children: p as u32,
        subtree_end,
        next: model.descriptor(model.resolve(parent.kind_field as u16, kind)),
        child: model.descriptor(model.resolve(kind, crate::model::NONE)),
    }
}

/// A number's symbol and the count of bits below its leading one that follow it (0 for values below 16).
#[inline(always)]
pub(crate) fn number_symbol(value: u32) -> (usize, u32) {
    if value < 16 {
        (value as usize, 0)
    } else {
        let bits = 31 - value.leading_zeros();
        (16 + bits as usize - 4, bits)
    }
}

/// Bits a raw number takes.
pub(crate) fn raw_number_length(value: u32) -> u32 {
    6 + (32 - value.leading_zeros()).saturating_sub(1)
}

/// Which entry flags a node's record can use: its end mode given its length and parent's end.
pub(crate) fn end_fits(entry: &Entry, len: u32, ends_with_parent: bool) -> bool {
    match entry.flags & END_MASK {
        END_FIXED => u32::from(entry.fixed) == len,
        END_PARENT => ends_with_parent,
        END_CODED => true,
        _ => false,
    }
}

/// An open parent during a [`Preorder`]: what its children's records are decoded against, and where the
/// walk goes on once they end.
#[derive(Clone, Copy)]
struct Open {
    /// The parent's parent's kind (the context of the parent's next sibling needs it) and end.
    kind: u32,
    end: u32,
    /// The parent's next sibling: its context's descriptor and base; `u32::MAX` if the parent is last.
    next: u32,
    base: u32,
}

/// Every node of a file in preorder with its depth (the root's 0), decoding the records in stream order: one
/// record after another, no subtree skipped, so no frame keeps where subtrees end.
pub(crate) struct Preorder<'b> {
    bytes: &'b [u8],
    model: &'static Model,
    /// The next record, or `u32::MAX` after the last.
    at: u32,
    open: Vec<Open>,
    /// The parent of the next record (kind, end), the next record's context and base.
    parent_kind: u32,
    parent_end: u32,
    context: u32,
    base: u32,
}

impl<'b> Preorder<'b> {
    /// The walk of the records from bit `at` of a file of `text_len` bytes.
    pub(crate) fn new(bytes: &'b [u8], at: u32, text_len: u32, model: &'static Model) -> Self {
        Preorder {
            bytes,
            model,
            at,
            open: Vec::with_capacity(32),
            parent_kind: u32::from(crate::model::NONE),
            parent_end: text_len,
            context: model.root_descriptor,
            base: 0,
        }
    }
}

impl Iterator for Preorder<'_> {
    type Item = (u32, NodeInfo);

    #[inline(always)]
    fn next(&mut self) -> Option<(u32, NodeInfo)> {
        let (bytes, model, at) = (self.bytes, self.model, self.at);
        if at == u32::MAX {
            return None;
        }
        let (index, length, word) = read_code_word(bytes, at as usize, self.context, model);
        let entry = &model.entries[index as usize];
        let (kind_field, start, end, flags, next, child);
        if entry.flags & ESCAPE == 0 {
            let mut ahead = Ahead {
                bytes,
                at: at as usize + length,
                word: word << length,
                valid: 64 - (at & 7) - length as u32,
            };
            let f = entry.flags;
            (start, end) = span(&mut ahead, entry, self.base, self.parent_end, model);
            if f & (LEAF | LAST) == 0 {
                ahead.number(model.size_code, model);
            }
            kind_field = entry.kind_field;
            flags = u32::from(f & (LEAF | LAST));
            self.at = ahead.at as u32;
            next = if f & LAST != 0 {
                u32::MAX
            } else {
                model.next_descriptor(entry, self.parent_kind as u16)
            };
            child = model.child_descriptor(entry);
        } else {
            let parent = Frame {
                kind_field: self.parent_kind,
                end: self.parent_end,
                ..Frame::default()
            };
            let frame = decode_escaped(
                bytes,
                at as usize + length,
                entry.next,
                self.base,
                &parent,
                model,
            );
            (kind_field, start, end, flags) =
                (frame.kind_field, frame.start, frame.end, frame.flags);
            self.at = frame.children;
            next = if flags & u32::from(LAST) != 0 {
                u32::MAX
            } else {
                frame.next
            };
            child = frame.child;
        }
        let node = node_info(kind_field, start, end, flags);
        let depth = self.open.len() as u32;
        if flags & u32::from(LEAF) == 0 {
            self.open.push(Open {
                kind: self.parent_kind,
                end: self.parent_end,
                next,
                base: end,
            });
            (self.parent_kind, self.parent_end) = (kind_field & 0xffff, end);
            (self.context, self.base) = (child, start);
        } else if next != u32::MAX {
            (self.context, self.base) = (next, end);
        } else {
            // The last child: climb past every parent that is last in its own parent.
            loop {
                let Some(up) = self.open.pop() else {
                    self.at = u32::MAX;
                    break;
                };
                if up.next != u32::MAX {
                    (self.parent_kind, self.parent_end) = (up.kind, up.end);
                    (self.context, self.base) = (up.next, up.base);
                    break;
                }
            }
        }
        Some((depth, node))
    }
}
