//! One file's tree and text as symbols in context, and back: [`emit`] walks a flattened tree and its text
//! and hands every decision to a [`Sink`] (the literal-length pass, the counting pass, then the encoder);
//! [`thaw`] reads a blob back into flat node records and the text. Both walk in the same order and build the
//! same context keys.
//!
//! Per visible node, in preorder:
//!
//! 1. **node symbol**: (kind, field, leaf, MISSING, default-text, and the class of the gap before the node)
//!    in the context (grandparent kind, parent kind, previous sibling kind or START) where the model keeps
//!    that context, else (parent, previous sibling), else (parent) (see `model.rs`). After an inner node's
//!    last child, END (with the class of the gap before the node's end) in the same context closes it. Shape,
//!    kinds, fields and most whitespace cost about one symbol per node, mostly near-certain.
//! 2. **gap**: the text between the previous boundary (the parent's start for a first child, the previous
//!    sibling's end otherwise) and the node's start. Its class in the node symbol says: empty, 1..=255 spaces,
//!    or one to three newlines and an indentation change of -64..=63 spaces from the current line's. Any other
//!    gap follows as a symbol of its own in the context (previous sibling kind, kind) or (parent kind, kind):
//!    more newlines, tabs, CRLF, wider indentation changes, or escaped (hidden tokens' text, trailing spaces,
//!    text in gaps): its length here and its bytes as literal bytes.
//! 3. **leaf text**, for leaves only: nothing when it is the kind's most common text in the corpus (a keyword,
//!    a punctuation mark, `self`: the default-text flag of step 1); else, in the context (kind, parent kind),
//!    a reference into the file's interner: one of the last two texts that followed the previous leaf text
//!    (PREDICTED), a move-to-front rank among the last [`WINDOW`] distinct texts of the kind, FAR (an index
//!    among all the file's texts), LEXICON (a rank in the store's lexicon of texts that recur across files),
//!    or NEW (its length here, its bytes as literal bytes).
//! 4. **trailing gap** after the root: the text to the end of the file.
//!
//! Literal bytes are coded inline (order-0 symbols per group: identifiers, gaps, other texts) in files with
//! fewer than 1 KiB of them, and go to the file's zstd-compressed literal stream otherwise (`literal.rs`).
//!
//! In a file of at least twice [`BLOCK_NODES`] nodes, [`emit`] cuts the walk into blocks before opening a
//! node (`Writer::boundary`): the interner starts again and the sink gets the block's checkpoint; the
//! coder then finishes one rANS stream and one literal stream per block.
//!
//! Inner nodes' ranges follow from their children and gaps; every byte of the text is in exactly one leaf or
//! one gap, so the text comes back whole.

use crate::literal;
use crate::model::{Counts, Model};
use crate::rans::Encoder;
use crate::staging::{self, FileView};
use cst_measure::tree_walk::CountedCursor;
use cst_measure::BuildError;
use std::collections::{HashMap, VecDeque};

/// Context slot of a kind: kinds below [`ERROR_SLOT`] are their own slot; ERROR and the (never seen) rest
/// share two.
#[inline]
pub(crate) fn slot(kind: u16) -> u32 {
    match kind {
        u16::MAX => ERROR_SLOT,
        k if u32::from(k) < ERROR_SLOT => u32::from(k),
        _ => ERROR_SLOT + 1,
    }
}
pub(crate) const ERROR_SLOT: u32 = 1020;
/// Previous-sibling slot of a first child.
pub(crate) const START: u32 = 1022;
/// Parent slot of the root.
pub(crate) const ROOT: u32 = 1023;
/// Length context of an escaped gap.
pub(crate) const GAP_TEXT: u32 = 1024;
/// Literal byte contexts (inline literals, order 0): `LIT + group`.
pub(crate) const LIT: u32 = 1536;
/// Literal groups.
pub(crate) const GROUP_IDENTIFIER: u32 = 0;
pub(crate) const GROUP_GAP: u32 = 1;
pub(crate) const GROUP_OTHER: u32 = 2;

// Context tags (never 0).
pub(crate) const NODE: u32 = 1;
pub(crate) const GAP: u32 = 2;
pub(crate) const GAP_FIRST: u32 = 3;
pub(crate) const TRAIL: u32 = 4;
pub(crate) const TEXT: u32 = 5;
pub(crate) const LEN: u32 = 6;
/// Node symbols in the context of the grandparent too (a hashed key: contexts that collide share a table).
pub(crate) const NODE3: u32 = 7;
/// Lexicon ranks: `LEN` contexts from this component on, by class.
pub(crate) const LEX: u32 = 2048;
/// Tags whose coarse context wildcards the first component (the previous sibling or parent of a gap).
pub(crate) const WILD_A: u8 = (1 << GAP) | (1 << GAP_FIRST);

/// Flag bits of a node symbol (above 16 bits of kind and 12 of field).
pub(crate) const LEAF: u8 = 1;
pub(crate) const MISSING: u8 = 2;
pub(crate) const DEFAULT: u8 = 4;
/// Largest field id a node symbol holds.
pub(crate) const MAX_FIELD: u16 = 0xff;
/// Kind slot of END in a node symbol.
pub(crate) const END_SLOT: u32 = 1023;
/// Gap class of a gap that follows as a symbol of its own (see [`short_gap`]).
pub(crate) const LONG_GAP: u32 = 1023;

/// Distinct texts a move-to-front list of the interner keeps (older ones are FAR).
pub(crate) const WINDOW: usize = 1024;
pub(crate) const TEXT_NEW: u32 = 0;
pub(crate) const TEXT_FAR: u32 = 23;
pub(crate) const TEXT_LEXICON: u32 = 24;
/// The text that followed the previous leaf text the last time that one occurred (its successor), and the
/// one that followed it before that (a different one).
pub(crate) const TEXT_PREDICTED: u32 = 25;
pub(crate) const TEXT_PREDICTED_2: u32 = 26;
/// No successor yet; not in its class's list; no list.
pub(crate) const NO_SUCCESSOR: u32 = u32::MAX;
pub(crate) const NONE: u32 = u32::MAX;

/// Inner nodes with more children than this get a child list in the thaw, for binary search.
pub(crate) const WIDE: usize = 8;
/// `Node::wide` of a node without a child list.
pub(crate) const NO_LIST: u32 = u32::MAX;
/// `KindInfo::default_len` of a kind without a default text (its top bit is the identifier flag).
const NO_DEFAULT: u8 = 0x7f;
pub(crate) const IDENTIFIER: u8 = 0x80;
/// Lexicon texts between two recorded start offsets.
const CHECKPOINT: usize = 32;
/// A lexicon of fewer text bytes than this is held plain: a cursor's decompression of it (a zstd context
/// and the frame's tables: about 20 µs for 6 KB) would cost a small file's thaw more than the bytes save.
const COMPRESSED_LEXICON: usize = 16 << 10;
/// Longest default text.
const MAX_DEFAULT: usize = 64;

/// Whether `key` is a context of literal bytes (decoded many in a row, through a lookup table).
pub(crate) fn is_literal_context(key: u32) -> bool {
    key >> 29 == LEN && (LIT..LIT + 3).contains(&((key >> 13) & 0x3fff))
}

/// The key of a node symbol's finer context: grandparent, parent and previous sibling, hashed to 27 bits.
#[inline]
pub(crate) fn node3_key(lang: u32, grandparent: u32, parent: u32, prev: u32) -> u32 {
    let packed = grandparent | (parent << 10) | (prev << 20);
    (NODE3 << 29) | (lang << 27) | (packed.wrapping_mul(0x9E37_79B1) >> 5)
}

#[inline]
pub(crate) fn key(tag: u32, lang: u32, a: u32, b: u32) -> u32 {
    crate::model::key(tag, lang, a, b)
}

/// A node symbol: kind slot (10 bits; [`END_SLOT`] closes the current node), field (8), flags (3) and the
/// class of the gap before the node (or, for END, before the parent's end), 10 bits.
#[inline]
fn node_value(kind_slot: u32, field: u16, flags: u8, gap: u32) -> u32 {
    kind_slot | (u32::from(field) << 10) | (u32::from(flags) << 18) | (gap << 21)
}

/// The kind of a kind slot (the inverse of [`slot`] for the kinds a blob holds).
#[inline]
pub(crate) fn kind_of(slot: u32) -> u16 {
    if slot == ERROR_SLOT {
        u16::MAX
    } else {
        slot as u16
    }
}

/// One visible node as flattened from tree-sitter's tree, in preorder.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Flat {
    pub start: u32,
    pub end: u32,
    /// Index just past this node's subtree.
    pub next: u32,
    pub kind: u16,
    pub field: u16,
    /// [`LEAF`], [`MISSING`].
    pub flags: u8,
}

/// The visible nodes of `tree` in preorder; fails on what a blob cannot hold (fields past [`MAX_FIELD`],
/// ranges outside the text, overlapping siblings or children past their parent's end).
pub(crate) fn flatten(tree: &tree_sitter::Tree, text_len: usize) -> Result<Vec<Flat>, BuildError> {
    let root = tree.root_node();
    let mut flat: Vec<Flat> = Vec::with_capacity(root.descendant_count());
    let mut open: Vec<usize> = Vec::new();
    let mut cursor = CountedCursor::new(tree);
    loop {
        let node = cursor.node();
        let (start, end) = (node.start_byte(), node.end_byte());
        if end > text_len || start > end {
            return Err(BuildError::Limit(format!(
                "a node spans {start}..{end}, outside the {text_len}-byte text"
            )));
        }
        let field = cursor.field_id();
        let kind = node.kind_id();
        check_kind_and_field(kind, field)?;
        let index = flat.len();
        flat.push(Flat {
            start: start as u32,
            end: end as u32,
            next: 0,
            kind,
            field,
            flags: if node.is_missing() { MISSING } else { 0 },
        });
        if cursor.goto_first_child(node.child_count()) {
            open.push(index);
            continue;
        }
        flat[index].flags |= LEAF;
        let mut current = index;
        loop {
            flat[current].next = flat.len() as u32;
            if cursor.goto_next_sibling() {
                break;
            }
            if !cursor.goto_parent() {
                check_positions(&flat, text_len)?;
                return Ok(flat);
            }
            current = open.pop().expect("a parent is open below the root");
        }
    }
}

/// Refuses a kind or a field id that a node symbol cannot hold.
pub(crate) fn check_kind_and_field(kind: u16, field: u16) -> Result<(), BuildError> {
    if field > MAX_FIELD {
        return Err(BuildError::Limit(format!(
            "field id {field} is past the blob format's {MAX_FIELD}"
        )));
    }
    if kind != u16::MAX && u32::from(kind) >= ERROR_SLOT {
        return Err(BuildError::Limit(format!(
            "kind id {kind} is past the blob format's {}",
            ERROR_SLOT - 1
        )));
    }
    Ok(())
}

/// Checks that the text splits into gaps and leaves in preorder: every node starts at or after the previous
/// boundary, and every inner node ends at or after its last child.
fn check_positions(flat: &[Flat], text_len: usize) -> Result<(), BuildError> {
    let mut pos = 0u32;
    let mut open: Vec<usize> = Vec::new();
    let overlap = |what: &str| {
        Err(BuildError::Limit(format!(
            "{what}: the frozen format holds trees whose nodes do not overlap"
        )))
    };
    for (i, n) in flat.iter().enumerate() {
        while let Some(&p) = open.last() {
            if (i as u32) < flat[p].next {
                break;
            }
            if flat[p].end < pos {
                return overlap("a node ends before its last child");
            }
            pos = flat[p].end;
            open.pop();
        }
        if n.start < pos {
            return overlap("a node starts before its previous sibling ends");
        }
        pos = n.start;
        if n.flags & LEAF != 0 {
            pos = n.end;
        } else {
            open.push(i);
        }
    }
    while let Some(p) = open.pop() {
        if flat[p].end < pos {
            return overlap("a node ends before its last child");
        }
        pos = flat[p].end;
    }
    debug_assert!(pos as usize <= text_len);
    Ok(())
}

/// What the store knows about one leaf kind: its default text, its interner class, whether it is an
/// identifier.
#[derive(Clone, Copy, Debug)]
pub(crate) struct KindInfo {
    default_start: u16,
    pub default_len: u8,
    pub class: u8,
}

const PLAIN: KindInfo = KindInfo {
    default_start: 0,
    default_len: NO_DEFAULT,
    class: 0,
};

impl Kinds {
    /// Whether the kinds of interner class `class` in language `lang` are identifiers.
    pub fn class_is_identifier(&self, lang: usize, class: u16) -> bool {
        self.by_language[lang]
            .iter()
            .chain(std::iter::once(&self.error[lang]))
            .any(|i| u16::from(i.class) == class && i.default_len & IDENTIFIER != 0)
    }
}

/// Per language, per leaf kind: default texts (the most common text of each leaf kind in the corpus) and
/// interner classes (each identifier kind has its own, from 1; every other leaf kind shares class 0: a few
/// interners per file keep a thaw to a few buffers); and per class, the lexicon: texts that recur across
/// files often enough to be worth holding once, most common first.
pub(crate) struct Kinds {
    by_language: [Vec<KindInfo>; 4],
    error: [KindInfo; 4],
    classes: usize,
    bytes: Vec<u8>,
    /// Length of each lexicon text (at most 255 bytes; they follow each other from `lexicon_base` in
    /// `bytes`, or in `lexicon_frame` decompressed), and where every [`CHECKPOINT`]th one starts (counted
    /// from the first lexicon text).
    lexicon_lengths: Vec<u8>,
    lexicon_checkpoints: Vec<u32>,
    lexicon_base: u32,
    /// The lexicon's texts as one zstd frame (see [`Kinds::compress_lexicon`]); empty while they are in
    /// `bytes`.
    lexicon_frame: Vec<u8>,
    /// Bytes of the lexicon's texts, decompressed.
    lexicon_len: u32,
    /// First lexicon entry of each class (one more entry than classes).
    class_starts: Vec<u32>,
}

/// Per lexicon candidate: the files it appears in whose literals are inline and the others, and whether it
/// is an identifier.
type FileCounts = ([u32; 2], bool);

/// A text the learning keeps (copied out of a file's text, which it sees one file at a time).
type OwnedText = Box<[u8]>;

/// Looks up lexicon ranks while encoding.
pub(crate) type LexiconIndex<'t> = HashMap<(u16, &'t [u8]), u32>;

impl Kinds {
    /// Learns default texts, classes and the lexicon from `files` (language index, text, nodes).
    /// Learns default texts and classes from `files` (language index, text, nodes); the lexicon is empty
    /// until [`Kinds::learn_lexicon`].
    pub fn learn(files: &[FileView<'_>]) -> Kinds {
        // A default text is met at least twice: a first pass counts each (language, kind, text) in a
        // sketch, and only texts it counts twice or more are counted exactly (the same defaults, without
        // holding every distinct text of the corpus).
        let mut sketch = Sketch::new();
        staging::each(files, |_, lang, text, flat| {
            for n in flat.iter().filter(|n| n.flags & LEAF != 0) {
                let t = &text[n.start as usize..n.end as usize];
                if t.len() <= MAX_DEFAULT && n.flags & MISSING == 0 {
                    sketch.add(lang as u32, n.kind, t);
                }
            }
        });
        let mut texts: HashMap<(usize, u16), HashMap<OwnedText, u64>> = HashMap::new();
        let mut seen: [Vec<u16>; 4] = Default::default();
        staging::each(files, |_, lang, text, flat| {
            for n in flat.iter().filter(|n| n.flags & LEAF != 0) {
                seen[lang].push(n.kind);
                let t = &text[n.start as usize..n.end as usize];
                if t.len() <= MAX_DEFAULT
                    && n.flags & MISSING == 0
                    && sketch.at_least(lang as u32, n.kind, t, 2)
                {
                    let counts = texts.entry((lang, n.kind)).or_default();
                    match counts.get_mut(t) {
                        Some(count) => *count += 1,
                        None => {
                            counts.insert(t.into(), 1);
                        }
                    }
                }
            }
            // Distinct kinds only (not one entry per leaf of the corpus).
            seen[lang].sort_unstable();
            seen[lang].dedup();
        });
        let mut kinds = Kinds {
            by_language: Default::default(),
            error: [PLAIN; 4],
            classes: 0,
            bytes: Vec::new(),
            lexicon_lengths: Vec::new(),
            lexicon_checkpoints: Vec::new(),
            lexicon_base: 0,
            lexicon_frame: Vec::new(),
            lexicon_len: 0,
            class_starts: Vec::new(),
        };
        for (lang, seen) in seen.iter_mut().enumerate() {
            seen.sort_unstable();
            seen.dedup();
            let grammar = cst_measure::Language::ALL[lang].grammar();
            for (next_class, &kind) in seen.iter().enumerate() {
                let identifier = kind != u16::MAX
                    && grammar.node_kind_is_named(kind)
                    && grammar
                        .node_kind_for_id(kind)
                        .is_some_and(|n| n.ends_with("identifier"));
                // Each leaf kind of a language has its own interner (a grammar with more than 256 leaf kinds
                // would share the last one among the rest).
                let class = next_class.min(255) as u8;
                kinds.classes = kinds.classes.max(usize::from(class) + 1);
                let mut info = KindInfo { class, ..PLAIN };
                if let Some(counts) = texts.get(&(lang, kind)) {
                    let best = counts.iter().max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)));
                    if let Some((text, &count)) = best {
                        if count >= 2 && kinds.bytes.len() + text.len() <= usize::from(u16::MAX) {
                            info.default_start = kinds.bytes.len() as u16;
                            info.default_len = text.len() as u8;
                            kinds.bytes.extend_from_slice(text);
                        }
                    }
                }
                if identifier {
                    info.default_len |= IDENTIFIER;
                }
                if kind == u16::MAX {
                    kinds.error[lang] = info;
                } else {
                    let table = &mut kinds.by_language[lang];
                    if table.len() <= usize::from(kind) {
                        table.resize(usize::from(kind) + 1, PLAIN);
                    }
                    table[usize::from(kind)] = info;
                }
            }
        }
        kinds.lexicon_base = kinds.bytes.len() as u32;
        kinds.class_starts = vec![0; kinds.classes + 1];
        kinds
    }

    /// Learns the lexicon from `files`: per class, texts that are not their kind's default, by the number of
    /// files they appear in, kept when the files that would spell them out save more than the entry costs.
    pub fn learn_lexicon(&mut self, files: &[FileView<'_>], inline: &[bool]) {
        let kinds = self;
        // The distinct (class, text, identifier) of one file that are candidates.
        fn file_texts<'a>(
            kinds: &Kinds,
            lang: usize,
            text: &'a [u8],
            flat: &[Flat],
        ) -> Vec<(u16, &'a [u8], bool)> {
            let mut this_file: Vec<(u16, &[u8], bool)> = Vec::new();
            for n in flat.iter().filter(|n| n.flags & LEAF != 0) {
                let info = kinds.info(lang, n.kind);
                let t = &text[n.start as usize..n.end as usize];
                if kinds.default_text(info) != Some(t) && !t.is_empty() && t.len() <= 255 {
                    this_file.push((u16::from(info.class), t, info.default_len & IDENTIFIER != 0));
                }
            }
            this_file.sort_unstable();
            this_file.dedup();
            this_file
        }
        // An entry pays only for a text in at least 3 files (`saved` below is at most the files times
        // 0.5 * len - 1.5, and must pass len + 4): a first pass counts each text's files in a sketch, and
        // only texts it counts in 3 files or more are counted exactly (the same lexicon, without holding
        // every distinct text of the corpus).
        let mut sketch = Sketch::new();
        staging::each(files, |_, lang, text, flat| {
            for (class, t, _) in file_texts(kinds, lang, text, flat) {
                sketch.add(0, class, t);
            }
        });
        // Per text: the files it appears in whose literals are inline, and the others.
        let mut in_files: HashMap<(u16, OwnedText), FileCounts> = HashMap::new();
        staging::each(files, |i, lang, text, flat| {
            let inline = inline[i];
            for (class, t, identifier) in file_texts(kinds, lang, text, flat) {
                if !sketch.at_least(0, class, t, 3) {
                    continue;
                }
                let key = (class, Box::<[u8]>::from(t));
                let entry = in_files.entry(key).or_insert(([0; 2], identifier));
                entry.0[usize::from(!inline)] += 1;
                entry.1 |= identifier;
            }
        });
        // What spelling a text out costs per byte, inline (order 0) and in a zstd stream (identifiers, and
        // strings and comments, which zstd's matches serve better), against about 1.5 bytes for a reference.
        let spelt = |inline: bool, identifier: bool| match (inline, identifier) {
            (true, _) => 0.5,
            (false, false) => 0.3,
            (false, true) => 0.5,
        };
        let mut lexicon: Vec<((u16, OwnedText), u32)> = in_files
            .into_iter()
            .filter(|((_, t), ([inline, other], identifier))| {
                let (inline, other, identifier) = (*inline, *other, *identifier);
                if t.len() > 255 {
                    return false;
                }
                let len = t.len() as f64;
                let saved = f64::from(inline) * (spelt(true, identifier) * len - 1.5)
                    + f64::from(other) * (spelt(false, identifier) * len - 1.5);
                saved > len + 4.0
            })
            .map(|(entry, ([inline, other], _))| (entry, inline + other))
            .collect();
        lexicon.sort_unstable_by(|a, b| {
            (a.0 .0, std::cmp::Reverse(a.1), &a.0 .1).cmp(&(
                b.0 .0,
                std::cmp::Reverse(b.1),
                &b.0 .1,
            ))
        });
        // Sorted by class: each class's entries are one run, and a class starts where the previous ends.
        kinds.lexicon_base = kinds.bytes.len() as u32;
        kinds.class_starts = vec![0; kinds.classes + 1];
        for &((class, _), _) in &lexicon {
            kinds.class_starts[usize::from(class) + 1] += 1;
        }
        for c in 0..kinds.classes {
            kinds.class_starts[c + 1] += kinds.class_starts[c];
        }
        for (i, ((_, text), _)) in lexicon.iter().enumerate() {
            if i % CHECKPOINT == 0 {
                kinds
                    .lexicon_checkpoints
                    .push(kinds.bytes.len() as u32 - kinds.lexicon_base);
            }
            kinds.bytes.extend_from_slice(text);
            kinds.lexicon_lengths.push(text.len() as u8);
        }
        kinds.lexicon_len = kinds.bytes.len() as u32 - kinds.lexicon_base;
        kinds.bytes.shrink_to_fit();
        kinds.lexicon_lengths.shrink_to_fit();
        kinds.lexicon_checkpoints.shrink_to_fit();
        for table in &mut kinds.by_language {
            table.shrink_to_fit();
        }
    }

    /// The rank of each lexicon text in its class, for encoding (the texts borrowed from the kinds, which
    /// hold them plain until [`Kinds::compress_lexicon`]).
    pub fn lexicon_index(&self) -> LexiconIndex<'_> {
        let mut index = LexiconIndex::with_capacity(self.lexicon_lengths.len());
        let Some(texts) = self.plain_lexicon() else {
            return index;
        };
        let mut at = 0usize;
        for class in 0..self.classes {
            let (first, end) = (self.class_starts[class], self.class_starts[class + 1]);
            for i in first..end {
                let len = usize::from(self.lexicon_lengths[i as usize]);
                index.insert((class as u16, &texts[at..at + len]), i - first);
                at += len;
            }
        }
        index
    }

    /// Compresses the lexicon's texts into one zstd frame (level [`literal::LEVEL`], with `dictionary`,
    /// the store's) if they take at least [`COMPRESSED_LEXICON`] bytes and the frame is shorter: a cold
    /// store reads them only through a thaw, which decompresses them once per cursor (see
    /// [`Kinds::lexicon_frame`]).
    pub fn compress_lexicon(&mut self, dictionary: Option<&[u8]>) {
        let base = self.lexicon_base as usize;
        if self.bytes.len() - base < COMPRESSED_LEXICON {
            return;
        }
        let mut cctx = literal::compressor(dictionary, literal::LEVEL, true);
        if let Some(frame) = literal::compress(&mut cctx, &self.bytes[base..]) {
            self.lexicon_frame = frame;
            self.lexicon_frame.shrink_to_fit();
            self.bytes.truncate(base);
            self.bytes.shrink_to_fit();
        }
    }

    /// The lexicon's texts if they are held plain; `None` when they are compressed.
    #[inline]
    pub fn plain_lexicon(&self) -> Option<&[u8]> {
        self.lexicon_frame
            .is_empty()
            .then(|| &self.bytes[self.lexicon_base as usize..])
    }

    /// The zstd frame of the lexicon's texts (compressed with the store's dictionary) and their length
    /// decompressed, when they are held compressed.
    pub fn lexicon_frame(&self) -> Option<(&[u8], usize)> {
        (!self.lexicon_frame.is_empty()).then_some((&self.lexicon_frame, self.lexicon_len as usize))
    }

    pub fn heap_bytes(&self) -> usize {
        self.bytes.capacity()
            + self.lexicon_frame.capacity()
            + self.lexicon_lengths.capacity()
            + self.lexicon_checkpoints.capacity() * 4
            + self.class_starts.capacity() * 4
            + self
                .by_language
                .iter()
                .map(|t| t.capacity() * std::mem::size_of::<KindInfo>())
                .sum::<usize>()
    }

    /// Entries and bytes of the lexicon.
    pub fn lexicon_size(&self) -> (usize, usize) {
        (self.lexicon_lengths.len(), self.lexicon_len as usize)
    }

    #[inline]
    pub fn info(&self, lang: usize, kind: u16) -> KindInfo {
        if kind == u16::MAX {
            self.error[lang]
        } else {
            self.by_language[lang]
                .get(usize::from(kind))
                .copied()
                .unwrap_or(PLAIN)
        }
    }

    /// The kinds of language `lang` up to its highest leaf kind (ERROR apart).
    #[inline]
    pub fn infos(&self, lang: usize) -> &[KindInfo] {
        &self.by_language[lang]
    }

    /// Whether `kind` is an identifier kind (its texts share class 0).
    pub fn is_identifier(&self, lang: usize, kind: u16) -> bool {
        self.info(lang, kind).default_len & IDENTIFIER != 0
    }

    #[inline]
    pub fn default_text(&self, info: KindInfo) -> Option<&[u8]> {
        let len = info.default_len & !IDENTIFIER;
        (len != NO_DEFAULT)
            .then(|| &self.bytes[usize::from(info.default_start)..][..usize::from(len)])
    }

    /// Where lexicon text `rank` of `class` lies in the lexicon's texts (plain or expanded).
    pub fn lexicon_range(&self, class: u16, rank: u32) -> std::ops::Range<usize> {
        let i = (self.class_starts[usize::from(class)] + rank) as usize;
        let (Some(&checkpoint), Some(&len)) = (
            self.lexicon_checkpoints.get(i / CHECKPOINT),
            self.lexicon_lengths.get(i),
        ) else {
            return 0..0; // Damaged.
        };
        let skipped: usize = self.lexicon_lengths[i - i % CHECKPOINT..i]
            .iter()
            .map(|&l| usize::from(l))
            .sum();
        let start = checkpoint as usize + skipped;
        start..start + usize::from(len)
    }
}

impl Kinds {
    /// The kinds' saved form (`saved.rs`), `u32` counts before each array: the class count, the lexicon's
    /// base and length; per language, its kinds (default text start `u16`, default length `u8`, class `u8`);
    /// the four ERROR kinds; the default and plain lexicon texts; the lexicon's lengths (`u8`), checkpoints
    /// (`u32`), zstd frame and class starts (`u32`).
    pub(crate) fn to_section(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let put = |out: &mut Vec<u8>, n: usize| out.extend_from_slice(&(n as u32).to_le_bytes());
        let info = |out: &mut Vec<u8>, i: &KindInfo| {
            out.extend_from_slice(&i.default_start.to_le_bytes());
            out.extend_from_slice(&[i.default_len, i.class]);
        };
        put(&mut out, self.classes);
        put(&mut out, self.lexicon_base as usize);
        put(&mut out, self.lexicon_len as usize);
        for table in &self.by_language {
            put(&mut out, table.len());
            table.iter().for_each(|i| info(&mut out, i));
        }
        self.error.iter().for_each(|i| info(&mut out, i));
        for bytes in [&self.bytes, &self.lexicon_lengths, &self.lexicon_frame] {
            put(&mut out, bytes.len());
            out.extend_from_slice(bytes);
        }
        for words in [&self.lexicon_checkpoints, &self.class_starts] {
            put(&mut out, words.len());
            words
                .iter()
                .for_each(|w| out.extend_from_slice(&w.to_le_bytes()));
        }
        out
    }

    /// Reads the kinds' saved form, refusing any whose use could panic or read out of bounds: every count
    /// within the section (checked before anything is allocated from it), every kind's class at most the
    /// class count and its default text within the default texts, the class starts rising from 0 to the
    /// lexicon's entry count, the checkpoints and the length the lexicon's lengths give, and the lexicon's
    /// texts plain (after the defaults) or compressed (a frame, and no plain texts). O(its size).
    pub(crate) fn from_section(bytes: &[u8]) -> Result<Kinds, String> {
        let mut r = crate::saved::Reader::new(bytes, "the kinds");
        let classes = r.u32()? as usize;
        let lexicon_base = r.u32()?;
        let lexicon_len = r.u32()?;
        let info = |b: &[u8]| KindInfo {
            default_start: u16::from_le_bytes([b[0], b[1]]),
            default_len: b[2],
            class: b[3],
        };
        let mut by_language: [Vec<KindInfo>; 4] = Default::default();
        for table in &mut by_language {
            let n = r.u32()? as usize;
            *table = r.array(n, 4)?.chunks_exact(4).map(info).collect();
        }
        let mut error = [PLAIN; 4];
        for e in &mut error {
            *e = info(r.take(4)?);
        }
        let mut arrays = [Vec::new(), Vec::new(), Vec::new()];
        for a in &mut arrays {
            let n = r.u32()? as usize;
            *a = r.array(n, 1)?.to_vec();
        }
        let [kind_bytes, lexicon_lengths, lexicon_frame] = arrays;
        let mut words = [Vec::new(), Vec::new()];
        for w in &mut words {
            let n = r.u32()? as usize;
            *w = r
                .array(n, 4)?
                .chunks_exact(4)
                .map(|b| u32::from_le_bytes(b.try_into().expect("4 bytes")))
                .collect();
        }
        let [lexicon_checkpoints, class_starts] = words;
        r.end()?;
        let base = lexicon_base as usize;
        if base > kind_bytes.len() {
            return Err(format!(
                "the kinds' lexicon starts at byte {base} of {} text bytes",
                kind_bytes.len()
            ));
        }
        for (lang, info) in by_language
            .iter()
            .enumerate()
            .flat_map(|(l, t)| t.iter().map(move |i| (l, i)))
            .chain(error.iter().enumerate())
        {
            let len = info.default_len & !IDENTIFIER;
            if usize::from(info.class) > classes
                || (len != NO_DEFAULT && usize::from(info.default_start) + usize::from(len) > base)
            {
                return Err(format!(
                    "a kind of language {lang} has class {} (of {classes}) or a default text past the default texts",
                    info.class
                ));
            }
        }
        let entries = lexicon_lengths.len();
        let rising = class_starts.windows(2).all(|w| w[0] <= w[1]);
        if classes > 256
            || class_starts.len() != classes + 1
            || class_starts[0] != 0
            || !rising
            || class_starts[classes] as usize != entries
        {
            return Err(format!(
                "the kinds' {} class starts do not rise from 0 to the lexicon's {entries} entries for {classes} classes",
                class_starts.len()
            ));
        }
        let mut at = 0u64;
        for (i, &len) in lexicon_lengths.iter().enumerate() {
            if i % CHECKPOINT == 0 && lexicon_checkpoints.get(i / CHECKPOINT) != Some(&(at as u32))
            {
                return Err(format!(
                    "the lexicon's checkpoint of entry {i} is not where it starts"
                ));
            }
            at += u64::from(len);
        }
        if lexicon_checkpoints.len() != entries.div_ceil(CHECKPOINT) || at != u64::from(lexicon_len)
        {
            return Err(format!(
                "the lexicon's {} checkpoints and {lexicon_len} bytes are not what its {entries} lengths give ({at} bytes)",
                lexicon_checkpoints.len()
            ));
        }
        let plain = (kind_bytes.len() - base) as u64;
        if (lexicon_frame.is_empty() && plain != at) || (!lexicon_frame.is_empty() && plain != 0) {
            return Err(format!(
                "the lexicon holds {plain} plain text bytes and a frame of {} bytes for {at} bytes of texts",
                lexicon_frame.len()
            ));
        }
        Ok(Kinds {
            by_language,
            error,
            classes,
            bytes: kind_bytes,
            lexicon_lengths,
            lexicon_checkpoints,
            lexicon_base,
            lexicon_frame,
            lexicon_len,
            class_starts,
        })
    }
}

/// Learns what `files` share ([`Kinds`], the lexicon) and which of them code their literals inline (those
/// with fewer than `inline_below` literal bytes, counted without the lexicon).
pub(crate) fn learn(
    files: &[FileView<'_>],
    inline_below: usize,
    block: usize,
) -> (Kinds, Vec<bool>) {
    let mut kinds = Kinds::learn(files);
    let none = LexiconIndex::new();
    let cx = Context {
        kinds: &kinds,
        lexicon: &none,
    };
    let mut inline = Vec::with_capacity(files.len());
    staging::each(files, |_, lang, text, flat| {
        let mut length = LiteralLength::default();
        emit(lang, text, flat, &cx, false, block, &mut length);
        inline.push(length.0 < inline_below);
    });
    kinds.learn_lexicon(files, &inline);
    (kinds, inline)
}

/// Saturating counts of (group, class, text) keys by their hash, in a fixed table: a key's count is at
/// least its true count (keys sharing a slot add up), so a key it counts below a threshold is truly below
/// it. 1 MiB, whatever the corpus.
struct Sketch(Box<[u8]>);

impl Sketch {
    const SLOTS: usize = 1 << 20;

    fn new() -> Sketch {
        Sketch(vec![0; Self::SLOTS].into_boxed_slice())
    }

    fn slot(group: u32, class: u16, text: &[u8]) -> usize {
        // FNV-1a, 64-bit.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for &b in u32::to_le_bytes(group)
            .iter()
            .chain(&u16::to_le_bytes(class))
            .chain(text)
        {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        (h ^ (h >> 32)) as usize % Self::SLOTS
    }

    fn add(&mut self, group: u32, class: u16, text: &[u8]) {
        let slot = &mut self.0[Self::slot(group, class, text)];
        *slot = slot.saturating_add(1);
    }

    fn at_least(&self, group: u32, class: u16, text: &[u8], count: u8) -> bool {
        self.0[Self::slot(group, class, text)] >= count
    }
}

/// Receives the decisions of [`emit`].
pub(crate) trait Sink {
    fn symbol(&mut self, key: u32, value: u32);
    /// A node symbol: context `finer` if the model keeps it, else `fine` (see [`Model::table2`]).
    fn node_symbol(&mut self, finer: u32, fine: u32, value: u32);
    fn raw(&mut self, value: u32, bits: u32);
    /// Bytes for segment `group` of the literal stream (only for files whose literals are not inline).
    fn literal(&mut self, group: u32, bytes: &[u8]);
    /// A new block starts at node `first` and text offset `pos`, decodable from `checkpoint` (see
    /// [`Writer::boundary`]); only in files coded in blocks.
    fn block(&mut self, _first: u32, _pos: u32, _checkpoint: Vec<u8>) {}
}

/// The counting pass: every (context, value).
impl Sink for Counts {
    fn symbol(&mut self, key: u32, value: u32) {
        self.add(key, value);
    }
    fn node_symbol(&mut self, finer: u32, fine: u32, value: u32) {
        self.add2(finer, fine, value);
    }
    fn raw(&mut self, _: u32, _: u32) {}
    fn literal(&mut self, _: u32, _: &[u8]) {}
}

/// Sums the literal bytes of a file (the pass that decides which files code their literals inline).
#[derive(Default)]
pub(crate) struct LiteralLength(pub usize);

impl Sink for LiteralLength {
    fn symbol(&mut self, _: u32, _: u32) {}
    fn node_symbol(&mut self, _: u32, _: u32, _: u32) {}
    fn raw(&mut self, _: u32, _: u32) {}
    fn literal(&mut self, _: u32, bytes: &[u8]) {
        self.0 += bytes.len();
    }
}

/// The coding pass: symbols into rANS, literal bytes into their own stream, in three segments (identifiers,
/// escaped gaps, other texts: like with like compresses better).
/// A tolerant coder (for a file frozen after the model was built) escapes what the model cannot code (see
/// [`Model::encode_tolerant`]).
pub(crate) struct Coder<'m> {
    pub model: &'m Model,
    pub rans: Encoder,
    pub literal: [Vec<u8>; 3],
    pub tolerant: bool,
    /// Whether a leaf text was coded as a lexicon reference (the blob's header says so: a thaw then
    /// expands a compressed lexicon first).
    pub uses_lexicon: bool,
    /// In a file coded in blocks, the blocks finished so far, and where the current one starts (the first
    /// block's checkpoint: indentation 0, no frames).
    pub blocks: Vec<CodedBlock>,
    pub start: (u32, u32, Vec<u8>),
}

/// One finished block of a file coded in blocks: its first node, its text offset, its checkpoint, its
/// literal stream (three segments, the first two's lengths), its rANS stream, and whether it refers to the
/// lexicon.
pub(crate) struct CodedBlock {
    pub first: u32,
    pub pos: u32,
    pub checkpoint: Vec<u8>,
    pub literal: Vec<u8>,
    pub segments: [usize; 2],
    pub rans: Vec<u8>,
    pub uses_lexicon: bool,
}

impl Coder<'_> {
    /// A coder of `model` (tolerant or not), empty.
    pub fn new(model: &Model, tolerant: bool) -> Coder<'_> {
        Coder {
            model,
            rans: Default::default(),
            literal: Default::default(),
            tolerant,
            uses_lexicon: false,
            blocks: Vec::new(),
            start: (0, 0, vec![0, 0]),
        }
    }

    /// Empties the coder for the next file.
    pub fn clear(&mut self) {
        self.rans.clear();
        self.literal.iter_mut().for_each(Vec::clear);
        self.uses_lexicon = false;
        self.blocks.clear();
        self.start = (0, 0, vec![0, 0]);
    }

    /// Finishes the block being coded (its start given by the last [`Sink::block`], or the file's).
    pub fn finish_block(&mut self) {
        let mut rans = Vec::new();
        self.rans.finish(&mut rans);
        self.rans.clear();
        let (first, pos, checkpoint) = std::mem::take(&mut self.start);
        self.blocks.push(CodedBlock {
            first,
            pos,
            checkpoint,
            segments: [self.literal[0].len(), self.literal[1].len()],
            literal: self.literal.concat(),
            rans,
            uses_lexicon: std::mem::take(&mut self.uses_lexicon),
        });
        self.literal.iter_mut().for_each(Vec::clear);
    }
}

impl Sink for Coder<'_> {
    fn symbol(&mut self, key: u32, value: u32) {
        self.uses_lexicon |= key >> 29 == TEXT && value == TEXT_LEXICON;
        if self.tolerant {
            self.model
                .encode_tolerant(self.model.table(key), value, &mut self.rans);
        } else {
            self.model.encode(key, value, &mut self.rans);
        }
    }
    fn node_symbol(&mut self, finer: u32, fine: u32, value: u32) {
        let table = self.model.table2(finer, fine);
        if self.tolerant {
            self.model.encode_tolerant(table, value, &mut self.rans);
        } else {
            self.model.encode_at(table, value, &mut self.rans);
        }
    }
    fn raw(&mut self, value: u32, bits: u32) {
        self.rans.put_raw(value, bits);
    }
    fn literal(&mut self, group: u32, bytes: &[u8]) {
        self.literal[group as usize].extend_from_slice(bytes);
    }
    fn block(&mut self, first: u32, pos: u32, checkpoint: Vec<u8>) {
        self.finish_block();
        self.start = (first, pos, checkpoint);
    }
}

/// Nodes per block of a file coded in blocks (a file of fewer than twice as many is coded whole; the last
/// block takes the rest, so every block has at least this many nodes, and up to twice as many where the
/// tree is not deeper than [`MAX_FRAMES`]).
pub const BLOCK_NODES: usize = 16384;
/// Most open nodes a block may start inside (its checkpoint's frames): a block of a deeper place goes on
/// to the next node with at most as many.
pub(crate) const MAX_FRAMES: usize = 64;

/// Appends `v` as a LEB128 varint.
pub(crate) fn put_varint(out: &mut Vec<u8>, mut v: u32) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Length `len` as a bucket value and its raw extra bits.
#[inline]
fn length_value(len: u32) -> (u32, u32, u32) {
    if len < 16 {
        (len, 0, 0)
    } else {
        let b = 31 - len.leading_zeros();
        (12 + b, b, len - (1 << b))
    }
}

/// Rank `r` (below [`WINDOW`]) of a move-to-front list as a value and its raw extra bits.
#[inline]
fn rank_value(r: usize) -> (u32, u32, u32) {
    let r = r as u32;
    if r < 16 {
        (1 + r, 0, 0)
    } else {
        let b = 31 - r.leading_zeros();
        (13 + b, b, r - (1 << b))
    }
}

/// Raw bits that an index below `count` takes.
#[inline]
pub(crate) fn bits_for(count: usize) -> u32 {
    if count <= 1 {
        0
    } else {
        usize::BITS - (count - 1).leading_zeros()
    }
}

pub(crate) const GAP_SPACES: u32 = 1 << 24;
pub(crate) const GAP_LINES: u32 = 2 << 24;
const GAP_ESCAPE: u32 = 3 << 24;

/// A gap as a value, updating the current indentation; `None` when it must be escaped.
fn gap_value(g: &[u8], indent: &mut u32) -> Option<u32> {
    if g.is_empty() {
        return Some(0);
    }
    if g.len() <= 255 && g.iter().all(|&b| b == b' ') {
        return Some(GAP_SPACES | g.len() as u32);
    }
    let crlf = g[0] == b'\r';
    let newline: &[u8] = if crlf { b"\r\n" } else { b"\n" };
    let (mut lines, mut at) = (0u32, 0);
    while g[at..].starts_with(newline) {
        lines += 1;
        at += newline.len();
    }
    let rest = &g[at..];
    let tabs = rest.first() == Some(&b'\t');
    let unit = if tabs { b'\t' } else { b' ' };
    if lines == 0 || lines > 15 || !rest.iter().all(|&b| b == unit) {
        return None;
    }
    let delta = rest.len() as i64 - i64::from(*indent);
    if !(-256..=255).contains(&delta) {
        return None;
    }
    *indent = rest.len() as u32;
    Some(
        GAP_LINES
            | (u32::from(crlf) << 21)
            | (u32::from(tabs) << 20)
            | (lines << 9)
            | (delta + 256) as u32,
    )
}

/// The indentation after an escaped gap: the run of spaces or tabs after its last newline, if it has one.
pub(crate) fn indent_after(g: &[u8], indent: &mut u32) {
    if let Some(nl) = g.iter().rposition(|&b| b == b'\n') {
        let rest = &g[nl + 1..];
        let unit = if rest.first() == Some(&b'\t') {
            b'\t'
        } else {
            b' '
        };
        *indent = rest.iter().take_while(|&&b| b == unit).count() as u32;
    }
}

/// The class (10 bits) a gap value takes inside a node symbol: 0 empty, 1..=255 that many spaces, 256..=639
/// one to three newlines and an indentation change of -64..=63 spaces; [`LONG_GAP`] for every other gap
/// (`value` `None`: escaped), which then follows as a symbol of its own.
fn short_gap(value: Option<u32>) -> u32 {
    match value {
        Some(0) => 0,
        Some(v) if v & (3 << 24) == GAP_SPACES => v & 0xff,
        Some(v) if v & (3 << 24) == GAP_LINES && v & (3 << 20) == 0 => {
            let (lines, delta) = ((v >> 9) & 0xf, (v & 0x1ff) as i32 - 256);
            if (1..=3).contains(&lines) && (-64..=63).contains(&delta) {
                256 + (lines - 1) * 128 + (delta + 64) as u32
            } else {
                LONG_GAP
            }
        }
        _ => LONG_GAP,
    }
}

/// A file's interner while encoding: every distinct leaf text gets an id (per file, in order of first
/// appearance, whatever its class); each class keeps a move-to-front list of its ids; each id remembers its
/// last two distinct successors.
#[derive(Default)]
struct Interner<'t> {
    ids: HashMap<(u8, &'t [u8]), u32>,
    class_of: Vec<u8>,
    lists: HashMap<u8, VecDeque<u32>>,
    previous: Option<u32>,
    successors: HashMap<u32, [u32; 2]>,
}

/// Puts `id` at the front (the back of the deque) of a move-to-front list, dropping the oldest past
/// [`WINDOW`].
fn push_front(mtf: &mut VecDeque<u32>, id: u32) {
    mtf.push_back(id);
    if mtf.len() > WINDOW {
        mtf.pop_front();
    }
}

struct Writer<'t, 'k, S> {
    lang: u32,
    text: &'t [u8],
    kinds: &'k Kinds,
    lexicon: &'k LexiconIndex<'k>,
    inline: bool,
    sink: &'k mut S,
    pos: usize,
    indent: u32,
    interner: Interner<'t>,
}

impl<'t, S: Sink> Writer<'t, '_, S> {
    /// Codes the gap up to `to` as a symbol of its own in context `key`.
    fn gap(&mut self, key: u32, to: usize) {
        let g = &self.text[self.pos..to];
        let value = gap_value(g, &mut self.indent);
        self.long_gap(key, value, to);
    }

    /// The second half of a gap whose value is known (`None`: escaped).
    fn long_gap(&mut self, key: u32, value: Option<u32>, to: usize) {
        let g = &self.text[self.pos..to];
        match value {
            Some(v) => self.sink.symbol(key, v),
            None => {
                self.sink.symbol(key, GAP_ESCAPE);
                self.length(self::key(LEN, self.lang, GAP_TEXT, 0), g.len());
                self.literal(GROUP_GAP, g);
                indent_after(g, &mut self.indent);
            }
        }
        self.pos = to;
    }

    /// The gap up to `to` as its class in a node symbol; codes it after that symbol when it is long.
    fn node_with_gap(
        &mut self,
        keys: (u32, u32),
        gap_key: u32,
        to: usize,
        symbol: impl FnOnce(u32) -> u32,
    ) {
        let value = gap_value(&self.text[self.pos..to], &mut self.indent);
        let class = short_gap(value);
        self.sink.node_symbol(keys.0, keys.1, symbol(class));
        if class == LONG_GAP {
            self.long_gap(gap_key, value, to);
        } else {
            self.pos = to;
        }
    }

    fn length(&mut self, key: u32, len: usize) {
        let (v, bits, extra) = length_value(len as u32);
        self.sink.symbol(key, v);
        self.sink.raw(extra, bits);
    }

    /// Literal bytes: inline as order-0 symbols of their group, or into the literal stream.
    fn literal(&mut self, group: u32, bytes: &[u8]) {
        if self.inline {
            for &b in bytes {
                self.sink
                    .symbol(key(LEN, self.lang, LIT + group, 0), u32::from(b));
            }
        } else {
            self.sink.literal(group, bytes);
        }
    }

    /// Starts a new block before opening node `first`: the interner starts again (texts met before are
    /// spelt out again or taken from the lexicon), and the sink gets the checkpoint a decoder starts from:
    /// the indentation, then per open node (the root first) its index, start, kind slot, MISSING flag and
    /// field, its last child's kind slot, its end and its subtree's end, as LEB128 varints (indices and
    /// starts as deltas from the previous frame's, ends from the block's offset, subtree ends from `first`).
    fn boundary(&mut self, flat: &[Flat], stack: &[(usize, u32)], first: usize) {
        self.interner = Interner::default();
        let mut out = Vec::with_capacity(8 + stack.len() * 10);
        put_varint(&mut out, self.indent);
        put_varint(&mut out, stack.len() as u32);
        let (mut index, mut start) = (0u32, 0u32);
        for &(p, last) in stack {
            let n = &flat[p];
            put_varint(&mut out, p as u32 - index);
            put_varint(&mut out, n.start - start);
            (index, start) = (p as u32, n.start);
            let missing = u32::from(n.flags & MISSING != 0);
            put_varint(
                &mut out,
                slot(n.kind) | missing << 10 | u32::from(n.field) << 11,
            );
            put_varint(&mut out, last);
            put_varint(&mut out, n.end - self.pos as u32);
            put_varint(&mut out, n.next - first as u32);
        }
        self.sink.block(first as u32, self.pos as u32, out);
    }

    fn open(&mut self, n: &Flat, grandparent: u32, parent: u32, prev: u32) {
        let lang = self.lang;
        let leaf = n.flags & LEAF != 0;
        let text = &self.text[n.start as usize..n.end as usize];
        let info = self.kinds.info(lang as usize, n.kind);
        let default = leaf && self.kinds.default_text(info) == Some(text);
        let flags = n.flags | if default { DEFAULT } else { 0 };
        let kind = slot(n.kind);
        let gap_key = if prev == START {
            key(GAP_FIRST, lang, parent, kind)
        } else {
            key(GAP, lang, prev, kind)
        };
        let field = n.field;
        let keys = (
            node3_key(lang, grandparent, parent, prev),
            key(NODE, lang, parent, prev),
        );
        self.node_with_gap(keys, gap_key, n.start as usize, |gap| {
            node_value(kind, field, flags, gap)
        });
        if leaf {
            if !default {
                self.leaf_text(info, n.kind, parent, text);
            }
            self.pos = n.end as usize;
        }
    }

    fn leaf_text(&mut self, info: KindInfo, kind: u16, parent: u32, text: &'t [u8]) {
        let text_key = key(TEXT, self.lang, slot(kind), parent);
        let class = info.class;
        let interner = &mut self.interner;
        let known = interner.ids.get(&(class, text)).copied();
        if let (Some(id), Some(previous)) = (known, interner.previous) {
            if let Some(i) = interner
                .successors
                .get(&previous)
                .and_then(|s| s.iter().position(|&s| s == id))
            {
                self.sink.symbol(text_key, TEXT_PREDICTED + i as u32);
                self.follow(id);
                return;
            }
        }
        let count = interner.class_of.len();
        let list = interner.lists.entry(class).or_default();
        let id = match known {
            Some(id) => match list.iter().rposition(|&x| x == id) {
                Some(at) => {
                    let (v, bits, extra) = rank_value(list.len() - 1 - at);
                    list.remove(at);
                    list.push_back(id);
                    self.sink.symbol(text_key, v);
                    self.sink.raw(extra, bits);
                    id
                }
                None => {
                    push_front(list, id);
                    self.sink.symbol(text_key, TEXT_FAR);
                    self.sink.raw(id, bits_for(count));
                    id
                }
            },
            None => {
                let id = count as u32;
                interner.ids.insert((class, text), id);
                interner.class_of.push(class);
                push_front(list, id);
                match self.lexicon.get(&(u16::from(class), text)) {
                    Some(&rank) => {
                        self.sink.symbol(text_key, TEXT_LEXICON);
                        self.length(
                            key(LEN, self.lang, LEX + u32::from(class), 0),
                            rank as usize,
                        );
                    }
                    None => {
                        self.sink.symbol(text_key, TEXT_NEW);
                        self.length(key(LEN, self.lang, slot(kind), 0), text.len());
                        let identifier = info.default_len & IDENTIFIER != 0;
                        let group = if identifier {
                            GROUP_IDENTIFIER
                        } else {
                            GROUP_OTHER
                        };
                        self.literal(group, text);
                    }
                }
                id
            }
        };
        self.follow(id);
    }

    /// Records that text `id` followed the previous leaf text.
    fn follow(&mut self, id: u32) {
        let interner = &mut self.interner;
        if let Some(previous) = interner.previous {
            let successors = interner
                .successors
                .entry(previous)
                .or_insert([NO_SUCCESSOR; 2]);
            if successors[0] != id {
                successors[1] = successors[0];
                successors[0] = id;
            }
        }
        interner.previous = Some(id);
    }
}

/// What [`emit`] works with besides the file: the shared model's kinds and lexicon.
pub(crate) struct Context<'k> {
    pub kinds: &'k Kinds,
    pub lexicon: &'k LexiconIndex<'k>,
}

/// Walks one file (language index `lang`, its text and nodes) and hands every decision to `sink`; literal
/// bytes are coded as symbols if `inline`, else handed to [`Sink::literal`].
pub(crate) fn emit<S: Sink>(
    lang: usize,
    text: &[u8],
    flat: &[Flat],
    cx: &Context<'_>,
    inline: bool,
    block: usize,
    sink: &mut S,
) {
    let blocks = if block > 0 && flat.len() >= 2 * block {
        block
    } else {
        usize::MAX
    };
    let lang = lang as u32;
    let mut w = Writer {
        lang,
        text,
        kinds: cx.kinds,
        lexicon: cx.lexicon,
        inline,
        sink,
        pos: 0,
        indent: 0,
        interner: Interner::default(),
    };
    w.open(&flat[0], ROOT, ROOT, START);
    let mut stack: Vec<(usize, u32)> = Vec::new();
    if flat[0].flags & LEAF == 0 {
        stack.push((0, START));
    }
    let mut i = 1;
    let mut cut = blocks;
    while let Some(&(p, last)) = stack.last() {
        let parent = slot(flat[p].kind);
        let grandparent = stack
            .len()
            .checked_sub(2)
            .map_or(ROOT, |g| slot(flat[stack[g].0].kind));
        if (i as u32) < flat[p].next {
            // A block ends before the first node past its size that has at most MAX_FRAMES open above it
            // (so that checkpoints stay small however deep the tree), unless the rest is smaller.
            if i >= cut && stack.len() <= MAX_FRAMES && i + blocks <= flat.len() {
                w.boundary(flat, &stack, i);
                cut = i + blocks;
            }
            w.open(&flat[i], grandparent, parent, last);
            if let Some(top) = stack.last_mut() {
                top.1 = slot(flat[i].kind);
            }
            if flat[i].flags & LEAF == 0 {
                stack.push((i, START));
            }
            i += 1;
        } else {
            let keys = (
                node3_key(lang, grandparent, parent, last),
                key(NODE, lang, parent, last),
            );
            w.node_with_gap(
                keys,
                key(TRAIL, lang, parent, last),
                flat[p].end as usize,
                |gap| node_value(END_SLOT, 0, 0, gap),
            );
            stack.pop();
        }
    }
    w.gap(key(TRAIL, lang, ROOT, slot(flat[0].kind)), text.len());
}

#[cfg(test)]
mod tests {
    use super::{gap_value, indent_after, length_value, rank_value};

    #[test]
    fn gaps_of_every_form_classify_as_expected() {
        let mut indent = 4;
        assert_eq!(gap_value(b"", &mut indent), Some(0));
        assert!(gap_value(b"   ", &mut indent).is_some());
        assert!(gap_value(b"\n\n        ", &mut indent).is_some());
        assert_eq!(indent, 8);
        assert!(gap_value(b"\r\n\t", &mut indent).is_some());
        assert_eq!(indent, 1);
        for escaped in [&b" \n"[..], b"\n \t", b"\\\n", b"\n\r\n", b"x"] {
            assert_eq!(gap_value(escaped, &mut indent), None, "{escaped:?}");
        }
        indent_after(b"// x\n  ", &mut indent);
        assert_eq!(indent, 2);
    }

    #[test]
    fn buckets_cover_their_ranges() {
        for len in [0u32, 15, 16, 17, 1000, u32::MAX] {
            let (v, bits, extra) = length_value(len);
            let back = if v < 16 { v } else { (1 << (v - 12)) + extra };
            assert_eq!((back, bits <= 32), (len, true));
        }
        for r in 0..1024 {
            let (v, bits, extra) = rank_value(r);
            assert!((1..=22).contains(&v));
            let back = if v <= 16 {
                v - 1
            } else {
                (1 << (v - 13)) + extra
            };
            assert_eq!(back as usize, r);
            assert!(extra < 1 << bits.max(1));
        }
    }
}
