//! Thawing: one file's blob, or one block of it ([`Start`]: from its checkpoint's open frames, up to the
//! next block's), back into flat preorder node records and its text, reading the decisions `codec::emit`
//! made in the same order and contexts. A block's records carry the file's indices and positions, so a
//! cursor moves between blocks without translating anything; the nodes a block leaves open take their ends
//! from the next block's checkpoint. The hot loop of every operation on a frozen store, so
//! it is written for speed: a node symbol's context is one 32-bit word looked up in a direct-mapped cache,
//! literal bytes decode through a 4096-entry lookup table, and the cursor keeps both across the files it
//! thaws ([`Contexts`]); nothing is allocated per thaw once the buffers have grown.

use crate::codec::{
    bits_for, indent_after, key, kind_of, node3_key, slot, Kinds, DEFAULT, END_SLOT, GAP,
    GAP_FIRST, GAP_LINES, GAP_SPACES, GAP_TEXT, GROUP_GAP, GROUP_IDENTIFIER, GROUP_OTHER,
    IDENTIFIER, LEAF, LEN, LEX, LIT, LONG_GAP, MAX_FIELD, MISSING, NODE, NONE, NO_LIST,
    NO_SUCCESSOR, ROOT, START, TEXT, TEXT_FAR, TEXT_LEXICON, TEXT_NEW, TEXT_PREDICTED,
    TEXT_PREDICTED_2, TRAIL, WIDE, WINDOW,
};
use crate::model::{Model, LUT_BITS, PRECISION};
use crate::rans::Decoder;
use std::collections::VecDeque;

/// Entries of a new cursor's context caches (a power of two): more than the contexts a small file uses.
const CACHE_BITS: u32 = 9;
/// Entries of the caches of a cursor that thaws one file after another: about the contexts a corpus uses.
const REUSED_CACHE_BITS: u32 = 14;
/// An empty entry of the node cache (no node context packs to it: no previous sibling's slot is 1023).
const NO_CONTEXT: u32 = u32::MAX;

/// One thawed node: what the cursor reads, plus where its subtree ends and its child list.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Node {
    pub start: u32,
    pub end: u32,
    /// Index just past this node's subtree (its next sibling, if it has one).
    pub next: u32,
    /// Where this node's child list starts in [`Thawed::lists`] (count, then indices), or [`NO_LIST`].
    pub list: u32,
    pub kind: u16,
    pub field: u16,
    pub flags: u8,
}

/// One distinct leaf text of a thawed file: where it first appears in the text, its class, whether it is
/// in its class's move-to-front list, and its last two distinct successors.
#[derive(Clone, Copy)]
struct Entry {
    start: u32,
    len: u32,
    successors: [u32; 2],
    class: u8,
    listed: bool,
}

/// A class's move-to-front list while thawing, most recent at the back (a rank counts from there, and
/// moving a text of rank r to the back shifts r ids).
#[derive(Default)]
struct List {
    /// Thaw this list belongs to (older lists are stale: cleared before use).
    epoch: u64,
    ids: VecDeque<u32>,
}

/// An open inner node while thawing: its record, kind slot, last child's kind slot (or START) and number
/// of children so far.
#[derive(Clone, Copy)]
struct Open {
    node: u32,
    kind: u32,
    last: u32,
    children: u32,
}

/// An inner node open where a block starts (from the block's checkpoint): its index in the file's preorder,
/// its record (its end and subtree's end as they will be), and its last child's kind slot so far.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Frame {
    pub index: u32,
    pub node: Node,
    pub last: u32,
}

/// Where a thaw starts and stops: a whole blob ([`Start::WHOLE`]), or one block of a file coded in blocks.
pub(crate) struct Start<'s> {
    /// The file's index of the block's first node.
    pub first: u32,
    /// The text offset where the block starts.
    pub pos: u32,
    pub indent: u32,
    /// The inner nodes open at the block's start, the root first.
    pub frames: &'s [Frame],
    /// Nodes the block opens (`u32::MAX`: to the end of the file).
    pub count: u32,
    /// The inner nodes open at the block's end (the next block's frames): they give the ends of the block's
    /// nodes that the block does not close.
    pub after: &'s [Frame],
    /// A whole blob (its trailing gap follows its nodes), not a block.
    pub whole: bool,
    /// Most text bytes the thaw may make: a whole blob's recorded text length (`u32::MAX`: unbounded).
    pub text_limit: u32,
}

impl Start<'_> {
    /// A whole blob of `count` nodes and `text` bytes, as its header records them: a thaw that would open
    /// more nodes or make more text (a forged stream) stops there and thaws nothing.
    pub fn whole(count: u32, text: u32) -> Start<'static> {
        Start {
            first: 0,
            pos: 0,
            indent: 0,
            frames: &[],
            count,
            after: &[],
            whole: true,
            text_limit: text,
        }
    }
}

/// A thawed file, or one block of it, and the scratch its thaw reuses: nothing here is allocated per thaw
/// once grown.
#[derive(Default)]
pub(crate) struct Thawed {
    /// The text from offset `base` (a block's: from its start to the next block's; a whole file's from 0).
    pub text: String,
    /// Records of nodes `first..first + nodes.len()` of the file's preorder (positions, `next` and child
    /// lists in the file's terms).
    pub nodes: Vec<Node>,
    pub first: u32,
    pub base: u32,
    /// The records of the block's open ancestors (a block's [`Start::frames`]), by index, the root first.
    pub frames: Vec<(u32, Node)>,
    /// Child lists of wide nodes: a count, then the children's indices.
    pub lists: Vec<u32>,
    /// The decompressed literal stream.
    pub literal: Vec<u8>,
    entries: Vec<Entry>,
    mtf_lists: Vec<List>,
    epoch: u64,
    stack: Vec<Open>,
    /// When present, every lexicon text the thaw read (an update codes them the same way again).
    pub lexicon_hits: Option<Vec<LexiconHit>>,
}

/// A lexicon text read by a thaw: its class and rank, and where it is in the thawed text.
#[derive(Clone, Copy, Debug)]
pub(crate) struct LexiconHit {
    pub class: u16,
    pub rank: u32,
    pub start: u32,
    pub len: u32,
}

impl Thawed {
    /// Gives back what the thaw reserved beyond what it holds (its buffers start at an upper bound of their
    /// final sizes, about twice what most files need): for a thaw a cursor keeps.
    pub fn shrink(&mut self) {
        self.frames.shrink_to_fit();
        self.text.shrink_to_fit();
        self.nodes.shrink_to_fit();
        self.lists.shrink_to_fit();
        self.literal = Vec::new();
        self.entries.shrink_to_fit();
    }

    /// The bytes this thaw's buffers hold (their capacities: what the allocator counts for them).
    pub fn heap_bytes(&self) -> usize {
        use std::mem::size_of;
        self.text.capacity()
            + self.nodes.capacity() * size_of::<Node>()
            + self.frames.capacity() * size_of::<(u32, Node)>()
            + self.lists.capacity() * 4
            + self.literal.capacity()
            + self.entries.capacity() * size_of::<Entry>()
            + self.mtf_lists.capacity() * size_of::<List>()
            + self
                .mtf_lists
                .iter()
                .map(|l| l.ids.capacity() * 4)
                .sum::<usize>()
            + self.stack.capacity() * size_of::<Open>()
            + self
                .lexicon_hits
                .as_ref()
                .map_or(0, |h| h.capacity() * size_of::<LexiconHit>())
    }

    /// The record of node `index` if this thaw holds it (among its nodes or its frames).
    #[inline]
    pub fn record(&self, index: u32) -> Option<&Node> {
        match self.nodes.get(index.wrapping_sub(self.first) as usize) {
            Some(n) => Some(n),
            None => self.frame(index),
        }
    }

    /// Whether node `index` is among this thaw's nodes (not a frame).
    #[inline]
    pub fn nodes_hold(&self, index: u32) -> bool {
        (index.wrapping_sub(self.first) as usize) < self.nodes.len()
    }

    #[inline(never)]
    fn frame(&self, index: u32) -> Option<&Node> {
        let at = self.frames.binary_search_by_key(&index, |f| f.0).ok()?;
        Some(&self.frames[at].1)
    }

    /// The lexicon index of the texts a thaw with [`Thawed::lexicon_hits`] read.
    pub fn lexicon_index(&self) -> crate::codec::LexiconIndex<'_> {
        let text = self.text.as_bytes();
        self.lexicon_hits
            .iter()
            .flatten()
            .filter_map(|h| {
                let t = text.get(h.start as usize..(h.start + h.len) as usize)?;
                Some(((h.class, t), h.rank))
            })
            .collect()
    }
}

/// A literal-byte table ready to decode: the entry holding each of the 4096 slot buckets (literal tables'
/// frequencies are multiples of `1 << (PRECISION - LUT_BITS)`, so a bucket lies in one entry), and each
/// entry's start, frequency and byte.
struct Lut {
    bucket: Box<[u8; 1 << LUT_BITS]>,
    entries: Box<[(u16, u16, u8); 256]>,
}

/// How literal bytes of one (language, group) decode.
#[derive(Clone, Copy)]
enum Literal {
    /// Not looked up yet.
    Unknown,
    /// Through `Contexts::luts[i]`.
    Lut(u32),
    /// Through the model's table (a one-value table, or one that is not ready for a lookup table).
    Table(u32),
}

/// What a cursor keeps across the files it thaws, for one model: direct-mapped caches of context lookups
/// (node contexts packed into a word, other contexts by key) and the literal lookup tables. Valid for one
/// model: see [`Contexts::forget_model`].
pub(crate) struct Contexts {
    node_cache: Vec<(u32, u32)>,
    cache: Vec<(u32, u32)>,
    bits: u32,
    literals: [[Literal; 3]; 4],
    luts: Vec<Lut>,
    /// The model's lexicon texts, when the store holds them compressed: decompressed before the first thaw
    /// of a blob that refers to them (its header says so), and whether they are.
    pub lexicon: Vec<u8>,
    pub lexicon_expanded: bool,
}

impl Default for Contexts {
    fn default() -> Contexts {
        Contexts {
            node_cache: Vec::new(),
            cache: Vec::new(),
            bits: 0,
            literals: [[Literal::Unknown; 3]; 4],
            luts: Vec::new(),
            lexicon: Vec::new(),
            lexicon_expanded: false,
        }
    }
}

impl Contexts {
    /// Drops what belongs to the model of the store last thawed from (before thawing from another store).
    pub fn forget_model(&mut self) {
        *self = Contexts::default();
    }

    /// Sizes the caches for a cursor that thaws one file after another (a new cursor's are small: it may
    /// thaw one small file and go).
    pub fn for_many_files(&mut self) {
        self.size(REUSED_CACHE_BITS);
    }

    fn size(&mut self, bits: u32) {
        if self.bits < bits {
            self.node_cache.clear();
            self.node_cache.resize(1 << bits, (NO_CONTEXT, 0));
            self.cache.clear();
            self.cache.resize(1 << bits, (0, 0));
            self.bits = bits;
        }
    }
}

/// What the out-of-line paths of a thaw read and write besides the decoder and the text: leaf texts (the
/// interner), long gaps, literal bytes.
struct Side<'a, 'b> {
    /// Most text bytes the thaw may make ([`Start::text_limit`]): no run is made longer than one past it.
    limit: usize,
    model: &'a Model,
    kinds: &'a Kinds,
    /// The lexicon's texts decompressed (when the store holds them compressed).
    lexicon: &'b [u8],
    lang: u32,
    /// The literal stream, or `None` when literals are coded inline.
    literal: Option<[&'b [u8]; 3]>,
    literal_at: [usize; 3],
    indent: u32,
    entries: &'b mut Vec<Entry>,
    lists: &'b mut Vec<List>,
    epoch: u64,
    cache: &'b mut [(u32, u32)],
    literals: &'b mut [[Literal; 3]; 4],
    luts: &'b mut Vec<Lut>,
    /// `32 - log2` of the caches' sizes.
    shift: u32,
    /// The last leaf text read.
    previous: u32,
    /// Whether the blob is tolerant (see `codec::Coder`).
    tolerant: bool,
    hits: Option<&'b mut Vec<LexiconHit>>,
}

/// Decodes a value with table `table`, tolerant or not.
#[inline(always)]
fn decode(model: &Model, tolerant: bool, table: u32, dec: &mut Decoder<'_>) -> u32 {
    if tolerant {
        model.decode_tolerant(table, dec)
    } else {
        model.decode_at(table, dec)
    }
}

impl Side<'_, '_> {
    #[inline]
    fn symbol(&mut self, key: u32, dec: &mut Decoder<'_>) -> u32 {
        // A file keeps coming back to the same few hundred contexts, and a pruned one costs two probes of
        // the model's index otherwise.
        let i = (key.wrapping_mul(0x9E37_79B1) >> self.shift) as usize;
        let (k, table) = self.cache[i];
        let table = if k == key {
            table
        } else {
            let table = self.model.table(key);
            self.cache[i] = (key, table);
            table
        };
        decode(self.model, self.tolerant, table, dec)
    }

    #[inline]
    fn length(&mut self, key: u32, dec: &mut Decoder<'_>) -> usize {
        let v = self.symbol(key, dec);
        (if v < 16 {
            v
        } else {
            (1 << (v - 12)) + dec.raw(v - 12)
        }) as usize
    }

    /// How literal bytes of `group` decode (built on first need).
    fn literal_decoding(&mut self, group: u32) -> Literal {
        let known = &mut self.literals[self.lang as usize][group as usize];
        if let Literal::Unknown = known {
            let table = self.model.table(key(LEN, self.lang, LIT + group, 0));
            *known = match self.model.lut_entries(table) {
                Some((values, freqs)) => {
                    let mut bucket = Box::new([0u8; 1 << LUT_BITS]);
                    let shift = PRECISION - LUT_BITS;
                    let mut entries = Box::new([(0, 0, 0); 256]);
                    let mut start = 0u16;
                    for (j, (&value, &freq)) in values.iter().zip(freqs).enumerate() {
                        let from = usize::from(start) >> shift;
                        bucket[from..from + (usize::from(freq) >> shift)].fill(j as u8);
                        entries[j] = (start, freq, value as u8);
                        start = start.wrapping_add(freq);
                    }
                    self.luts.push(Lut { bucket, entries });
                    Literal::Lut(self.luts.len() as u32 - 1)
                }
                None => Literal::Table(table),
            };
        }
        *known
    }

    fn literal(&mut self, group: u32, len: usize, dec: &mut Decoder<'_>, text: &mut Vec<u8>) {
        if let Some(segments) = self.literal {
            let (segment, at) = (
                segments[group as usize],
                &mut self.literal_at[group as usize],
            );
            let end = (*at + len).min(segment.len());
            text.extend_from_slice(&segment[*at..end]);
            *at = end;
            return;
        }
        let len = self.bounded(text, len);
        if self.tolerant {
            // A tolerant blob's literal bytes carry escape flags.
            let key = key(LEN, self.lang, LIT + group, 0);
            for _ in 0..len {
                let b = self.symbol(key, dec);
                text.push(b as u8);
            }
            return;
        }
        match self.literal_decoding(group) {
            Literal::Lut(i) => {
                let lut = &self.luts[i as usize];
                let shift = PRECISION - LUT_BITS;
                // The decoder in registers, and the bytes written into a slice (no capacity check per
                // byte).
                let mut d = *dec;
                let from = text.len();
                text.resize(from + len, 0);
                for byte in &mut text[from..] {
                    let j =
                        lut.bucket[((d.peek(PRECISION) >> shift) & ((1 << LUT_BITS) - 1)) as usize];
                    let (start, freq, value) = lut.entries[usize::from(j)];
                    d.advance(u32::from(start), u32::from(freq), PRECISION);
                    *byte = value;
                }
                *dec = d;
            }
            Literal::Table(table) => {
                for _ in 0..len {
                    let b = self.model.decode_at(table, dec);
                    text.push(b as u8);
                }
            }
            Literal::Unknown => unreachable!("looked up above"),
        }
    }

    /// `n` bytes more, or as many as take `text` one past the limit (a forged length or indentation makes no
    /// run longer than that; the thaw then stops).
    #[inline]
    fn bounded(&self, text: &[u8], n: usize) -> usize {
        n.min((self.limit + 1).saturating_sub(text.len()))
    }

    /// A gap of class `class` (from a node symbol) other than 0 and 1; a long one reads its own symbol in
    /// context (`tag`, `a`, `b`).
    #[inline(never)]
    fn short_gap(
        &mut self,
        class: u32,
        (tag, a, b): (u32, u32, u32),
        dec: &mut Decoder<'_>,
        text: &mut Vec<u8>,
    ) {
        if class <= 255 {
            text.resize(text.len() + self.bounded(text, class as usize), b' ');
        } else if class == LONG_GAP {
            self.gap(key(tag, self.lang, a, b), dec, text);
        } else {
            let (lines, delta) = ((class - 256) / 128 + 1, ((class - 256) % 128) as i64 - 64);
            for _ in 0..lines {
                text.push(b'\n');
            }
            self.indent = (i64::from(self.indent) + delta) as u32;
            text.resize(text.len() + self.bounded(text, self.indent as usize), b' ');
        }
    }

    fn gap(&mut self, key: u32, dec: &mut Decoder<'_>, text: &mut Vec<u8>) {
        let v = self.symbol(key, dec);
        match v & (3 << 24) {
            0 => {}
            GAP_SPACES => text.resize(text.len() + self.bounded(text, (v & 0xff) as usize), b' '),
            GAP_LINES => {
                let newline: &[u8] = if v & (1 << 21) != 0 { b"\r\n" } else { b"\n" };
                for _ in 0..(v >> 9) & 0xf {
                    text.extend_from_slice(newline);
                }
                self.indent = (i64::from(self.indent) + i64::from(v & 0x1ff) - 256) as u32;
                let unit = if v & (1 << 20) != 0 { b'\t' } else { b' ' };
                text.resize(text.len() + self.bounded(text, self.indent as usize), unit);
            }
            _ => {
                let len = self.length(self::key(LEN, self.lang, GAP_TEXT, 0), dec);
                let from = text.len();
                self.literal(GROUP_GAP, len, dec, text);
                indent_after(&text[from..], &mut self.indent);
            }
        }
    }

    /// The text of a leaf whose text is not its kind's default.
    #[inline(never)]
    fn leaf_text(&mut self, kind: u16, parent: u32, dec: &mut Decoder<'_>, text: &mut Vec<u8>) {
        let info = self.kinds.info(self.lang as usize, kind);
        let class = info.class;
        if self.lists.len() <= usize::from(class) {
            self.lists
                .resize_with(usize::from(class) + 1, List::default);
        }
        let list = &mut self.lists[usize::from(class)];
        if list.epoch != self.epoch {
            list.epoch = self.epoch;
            list.ids.clear();
        }
        let v = self.symbol(key(TEXT, self.lang, slot(kind), parent), dec);
        let id = match v {
            TEXT_NEW | TEXT_LEXICON => {
                let start = text.len();
                if v == TEXT_NEW {
                    let len = self.length(key(LEN, self.lang, slot(kind), 0), dec);
                    let group = if info.default_len & IDENTIFIER != 0 {
                        GROUP_IDENTIFIER
                    } else {
                        GROUP_OTHER
                    };
                    self.literal(group, len, dec, text);
                } else {
                    let rank = self.length(key(LEN, self.lang, LEX + u32::from(class), 0), dec);
                    let range = self.kinds.lexicon_range(u16::from(class), rank as u32);
                    let texts = self.kinds.plain_lexicon().unwrap_or(self.lexicon);
                    // Out of range (a damaged blob, or one whose header hid its lexicon references): empty.
                    text.extend_from_slice(texts.get(range).unwrap_or_default());
                    if let Some(hits) = self.hits.as_deref_mut() {
                        hits.push(LexiconHit {
                            class: u16::from(class),
                            rank: rank as u32,
                            start: start as u32,
                            len: (text.len() - start) as u32,
                        });
                    }
                }
                let id = self.entries.len() as u32;
                self.entries.push(Entry {
                    start: start as u32,
                    len: (text.len() - start) as u32,
                    successors: [NO_SUCCESSOR; 2],
                    class,
                    listed: false,
                });
                self.push_front(class, id);
                self.follow(id);
                return;
            }
            TEXT_PREDICTED | TEXT_PREDICTED_2 => {
                let successors = self
                    .entries
                    .get(self.previous as usize)
                    .map_or([NONE; 2], |e| e.successors);
                successors[(v - TEXT_PREDICTED) as usize]
            }
            TEXT_FAR => {
                let id = dec.raw(bits_for(self.entries.len()));
                if (id as usize) < self.entries.len() && !self.entries[id as usize].listed {
                    self.push_front(class, id);
                }
                id
            }
            _ => {
                let rank = if v <= 16 {
                    v - 1
                } else {
                    (1 << (v - 13)) + dec.raw(v - 13)
                };
                let ids = &mut self.lists[usize::from(class)].ids;
                match (ids.len() as u32).checked_sub(rank + 1) {
                    Some(at) => {
                        let id = ids.remove(at as usize).unwrap_or(NONE);
                        ids.push_back(id);
                        id
                    }
                    None => NONE, // Damaged.
                }
            }
        };
        let Some(&Entry {
            start,
            len,
            class: found,
            ..
        }) = self.entries.get(id as usize)
        else {
            return; // Damaged: a wrong text, never a panic.
        };
        if found == class {
            text.extend_from_within(start as usize..(start + len) as usize);
            self.follow(id);
        }
    }

    /// Puts `id` at the front of `class`'s list, dropping the oldest past [`WINDOW`] (as `push_front` does on
    /// the encoder's deque).
    fn push_front(&mut self, class: u8, id: u32) {
        let ids = &mut self.lists[usize::from(class)].ids;
        ids.push_back(id);
        self.entries[id as usize].listed = true;
        if ids.len() > WINDOW {
            if let Some(old) = ids.pop_front() {
                self.entries[old as usize].listed = false;
            }
        }
    }

    /// Records that text `id` followed the previous leaf text.
    fn follow(&mut self, id: u32) {
        if let Some(e) = self.entries.get_mut(self.previous as usize) {
            if e.successors[0] != id {
                e.successors[1] = e.successors[0];
                e.successors[0] = id;
            }
        }
        self.previous = id;
    }
}

/// The table of node context (`grandparent`, `parent`, `prev`) in language `lang`, found in the model and
/// put in the cache entry `entry` (the cache missed).
#[inline(never)]
fn node_table(
    model: &Model,
    lang: u32,
    (grandparent, parent, prev): (u32, u32, u32),
    entry: &mut (u32, u32),
) -> u32 {
    let table = model.table2(
        node3_key(lang, grandparent, parent, prev),
        key(NODE, lang, parent, prev),
    );
    *entry = (
        grandparent | (parent << 10) | (prev << 20) | (lang << 30),
        table,
    );
    table
}

/// Thaws one file's blob (`rans`: its symbol stream; `literal`: the segments of its literal stream, already
/// decompressed, or `None` when its literals are inline; `tolerant`: whether it was coded by a tolerant
/// `codec::Coder`) into `out`, looking contexts up through `contexts`.
///
/// The loop over node symbols keeps its state in locals (the decoder, the text, the open nodes); what is
/// rarer (leaf texts that are not their kind's default, gaps other than none or one space, closing a wide
/// node) is out of line.
#[allow(clippy::too_many_arguments)]
pub(crate) fn thaw(
    model: &Model,
    kinds: &Kinds,
    lang: usize,
    rans: &[u8],
    literal: Option<[&[u8]; 3]>,
    tolerant: bool,
    start: &Start<'_>,
    contexts: &mut Contexts,
    out: &mut Thawed,
) {
    out.epoch += 1;
    out.first = start.first;
    out.base = start.pos;
    out.frames.clear();
    out.frames
        .extend(start.frames.iter().map(|f| (f.index, f.node)));
    // The buffers the node loop writes are moved into locals (kept in registers, not reloaded through
    // `out`) and back at the end.
    let mut text = std::mem::take(&mut out.text).into_bytes();
    let mut nodes = std::mem::take(&mut out.nodes);
    let mut stack = std::mem::take(&mut out.stack);
    let mut lists = std::mem::take(&mut out.lists);
    text.clear();
    let Thawed {
        entries,
        mtf_lists,
        epoch,
        lexicon_hits,
        ..
    } = out;
    if let Some(hits) = lexicon_hits.as_mut() {
        hits.clear();
    }
    contexts.size(CACHE_BITS);
    let shift = 32 - contexts.bits;
    // Buffers start at about their final size (text and nodes take at most about 12 and 4 times a blob's
    // symbol stream, besides the literal bytes): growing them a few times each would cost more than the
    // thaw.
    let literal_len: usize = literal.map_or(0, |l| l.iter().map(|s| s.len()).sum());
    room(&mut text, literal_len + rans.len() * 12 + 64);
    room(&mut nodes, rans.len() * 4 + 16);
    if stack.capacity() == 0 {
        stack.reserve(32);
        entries.reserve(rans.len() / 2 + 8);
    }
    entries.clear();
    nodes.clear();
    lists.clear();
    stack.clear();
    let lang = lang as u32;
    let Contexts {
        node_cache,
        cache,
        literals,
        luts,
        lexicon,
        ..
    } = contexts;
    let node_cache = &mut node_cache[..];
    let infos = kinds.infos(lang as usize);
    let mut side = Side {
        limit: start.text_limit as usize,
        model,
        kinds,
        lexicon,
        lang,
        literal,
        literal_at: [0; 3],
        indent: start.indent,
        entries,
        lists: mtf_lists,
        epoch: *epoch,
        cache,
        literals,
        luts,
        shift,
        previous: NONE,
        tolerant,
        hits: lexicon_hits.as_mut(),
    };
    let mut dec = Decoder::new(rans);
    let (mut grandparent, mut parent, mut last) = (ROOT, ROOT, START);
    // The open inner nodes below the current parent (the parent's own entry is `open`).
    let mut open = Open {
        node: u32::MAX,
        kind: ROOT,
        last: START,
        children: 0,
    };
    let mut root_kind = ROOT;
    // A block starts inside its open frames (the deepest is the parent of its first node).
    let first = start.first;
    if let Some((deepest, above)) = start.frames.split_last() {
        for f in above {
            stack.push(Open {
                node: f.index,
                kind: slot(f.node.kind),
                last: f.last,
                children: 0,
            });
        }
        open = Open {
            node: deepest.index,
            kind: slot(deepest.node.kind),
            last: deepest.last,
            children: 0,
        };
        root_kind = slot(start.frames[0].node.kind);
        parent = open.kind;
        last = open.last;
        grandparent = stack.last().map_or(ROOT, |o| o.kind);
    }
    // Where a block ends: after its last node and as many ends as close the nodes the next block's
    // checkpoint does not list.
    let (count, depth_after) = (start.count as usize, start.after.len());
    let text_limit = start.text_limit as usize;
    loop {
        if nodes.len() >= count && (nodes.len() > count || stack.len() + 1 == depth_after) {
            break;
        }
        if text.len() > text_limit {
            break;
        }
        let packed = grandparent | (parent << 10) | (last << 20) | (lang << 30);
        let i = (packed.wrapping_mul(0x9E37_79B1) >> shift) as usize;
        let entry = &mut node_cache[i];
        let table = if entry.0 == packed {
            entry.1
        } else {
            node_table(model, lang, (grandparent, parent, last), entry)
        };
        let v = decode(model, tolerant, table, &mut dec);
        let kind_slot = v & 0x3ff;
        let class = v >> 21;
        if kind_slot == END_SLOT && open.node != u32::MAX {
            // Closes the parent: the gap before its end, its end, its subtree's end, its child list.
            if class == 1 {
                text.push(b' ');
            } else if class != 0 {
                side.short_gap(class, (TRAIL, parent, last), &mut dec, &mut text);
            }
            let next = first + nodes.len() as u32;
            // A frame's record is the checkpoint's; a damaged blob's index is out of range: left alone.
            if let Some(node) = nodes.get_mut(open.node.wrapping_sub(first) as usize) {
                node.end = start.pos + text.len() as u32;
                node.next = next;
                if open.children as usize > WIDE {
                    wide_list(&mut nodes, &mut lists, first, open, next);
                }
            }
            let Some(above) = stack.pop() else {
                break;
            };
            open = above;
            last = parent;
            parent = open.kind;
            grandparent = stack.last().map_or(ROOT, |o| o.kind);
            open.last = last;
            continue;
        }
        // Opens a node: the gap before it, its text if it is a leaf, its record.
        if class == 1 {
            text.push(b' ');
        } else if class != 0 {
            let context = if last == START {
                (GAP_FIRST, parent, kind_slot)
            } else {
                (GAP, last, kind_slot)
            };
            side.short_gap(class, context, &mut dec, &mut text);
        }
        let kind = kind_of(kind_slot);
        let flags = ((v >> 18) & 7) as u8;
        let index = first + nodes.len() as u32;
        let node_start = start.pos + text.len() as u32;
        if flags & LEAF != 0 {
            if flags & DEFAULT != 0 {
                let info = infos
                    .get(usize::from(kind))
                    .copied()
                    .unwrap_or_else(|| kinds.info(lang as usize, kind));
                if let Some(t) = kinds.default_text(info) {
                    // Mostly a keyword or a punctuation mark: a few bytes, not worth a call to memcpy.
                    match *t {
                        [a] => text.push(a),
                        [a, b] => text.extend_from_slice(&[a, b]),
                        _ => text.extend_from_slice(t),
                    }
                }
            } else {
                side.leaf_text(kind, parent, &mut dec, &mut text);
            }
        }
        nodes.push(Node {
            start: node_start,
            end: start.pos + text.len() as u32,
            next: index + 1,
            list: NO_LIST,
            kind,
            field: ((v >> 10) & u32::from(MAX_FIELD)) as u16,
            flags: flags & (LEAF | MISSING),
        });
        if open.node == u32::MAX {
            // The root.
            root_kind = kind_slot;
            if flags & LEAF != 0 {
                break;
            }
            open = Open {
                node: index,
                kind: kind_slot,
                last: START,
                children: 0,
            };
            (grandparent, parent, last) = (ROOT, kind_slot, START);
            continue;
        }
        open.children += 1;
        if flags & LEAF == 0 {
            open.last = kind_slot;
            stack.push(open);
            open = Open {
                node: index,
                kind: kind_slot,
                last: START,
                children: 0,
            };
            (grandparent, parent, last) = (parent, kind_slot, START);
        } else {
            last = kind_slot;
        }
    }
    if start.whole {
        side.gap(key(TRAIL, lang, ROOT, root_kind), &mut dec, &mut text);
    }
    // A whole blob's stream that opens more nodes or makes more text than its header records is forged
    // (or damaged): it thaws nothing.
    let over = start.whole && (nodes.len() > count || text.len() > start.text_limit as usize);
    // The nodes the block leaves open: their ends from the next block's checkpoint.
    for f in start.after {
        if let Some(node) = nodes.get_mut(f.index.wrapping_sub(first) as usize) {
            node.end = f.node.end;
            node.next = f.node.next;
        }
    }
    if over {
        nodes.clear();
        lists.clear();
        text.clear();
    }
    out.nodes = nodes;
    out.stack = stack;
    out.lists = lists;
    out.text = match String::from_utf8(text) {
        Ok(text) => text,
        // Only a damaged blob gets here: the text was a `&str` when it was frozen.
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    };
}

/// Gives the wide node `open` (its subtree ending before `next`) a list of its children, to binary search
/// (each child's `next` is known by now).
#[inline(never)]
fn wide_list(nodes: &mut [Node], lists: &mut Vec<u32>, first: u32, open: Open, next: u32) {
    nodes[(open.node - first) as usize].list = lists.len() as u32;
    lists.push(open.children);
    let mut child = open.node + 1;
    while child < next {
        lists.push(child);
        child = nodes.get((child - first) as usize).map_or(next, |n| n.next);
    }
}

/// Makes room for `need` items in the empty `v`, dropping its buffer rather than growing it when it is too
/// small (growing would copy the bytes it held).
fn room<T>(v: &mut Vec<T>, need: usize) {
    if v.capacity() < need {
        *v = Vec::with_capacity(need);
    }
}
