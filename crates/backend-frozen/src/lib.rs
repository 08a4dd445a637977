//! Backend `frozen`: a cold tier. Every file's tree and text are frozen together into one compact blob,
//! decodable on its own given the store's shared model, and thawed into flat node records to be navigated.
//! Lossless: the text byte for byte and every visible node's kind, field, range and MISSING flag, in
//! tree-sitter's shape.
//! Measurements behind its choices, and alternatives tried and not kept, are in `NOTES.md` beside this
//! crate's `Cargo.toml`.
//!
//! # Layout
//!
//! The store ([`FrozenStore`]) holds, each exactly sized by `finish()`:
//!
//! | what | contents | bytes |
//! | --- | --- | --- |
//! | `blobs` | every file's blob, end to end (owned, or borrowed from a saved file's mapping) | see below |
//! | `starts: Vec<u32>` | where each file's blob starts (top bit: the file was edited) | 4 per file |
//! | `edited: Vec<(u32, Arc<[u8]>)>` | the current blob of each file edited since `finish()` | 24 per edited file, and 16 plus the blob per `Arc`; empty until an edit |
//! | the model (`model.rs`) | per kept context, its symbols and 15-bit frequencies; an open-addressing index | 8 per index slot (load 4/5), 6 per table entry; a context with one symbol lives in its slot |
//! | the kinds (`codec.rs`) | per language and leaf kind: its default text and interner class; the lexicon of texts that recur across files | 4 per kind up to the highest leaf kind, the default texts, 1 per lexicon text, 4 per 32 lexicon texts, and the lexicon's texts as one zstd frame (level 19, the store's dictionary; plain if they take under 16 KiB or the frame is not shorter) |
//! | the dictionary | the literal streams' zstd dictionary, if one pays | its size, searched from 1 to 112 KiB |
//! | the query-status companion (`statuses.rs`) | what tree-sitter's query cursor sees beyond a walk (`cst_measure::query_status`), coded: the status model learned at `finish()` (LEB128 entries per language), each language's stream code, a bit per file with exceptions, their lengths and exp-Golomb coded exception streams | about 4 per model entry, a bit per file, about 2 per exception: 2.9 kB on 8.65 MB of training Rust |
//!
//! A file of at least twice [`BLOCK_NODES`] (16,384) nodes is coded in *blocks* (see *Blocks* below);
//! every other file's blob is one *part*. A part is a header byte (the language; whether the literal bytes are inline, in a compressed stream or in
//! a raw one; whether it refers to the lexicon), in a whole file's blob its node count and text length (LEB128 varints: a thaw stops
//! there, thawing nothing, if its stream would open more nodes or make more text, so a forged blob cannot thaw until memory runs out) and, unless they are inline, the literal stream's length and its three segments' (identifiers,
//! gaps, other texts: like with like compresses better) as LEB128 varints, its compressed length and the
//! stream; then the rANS stream (`rans.rs`) of every other decision, coded with the model in contexts of the
//! tree (`codec.rs` lists them). Per node: one symbol for (kind, field, leaf, MISSING, default text, gap
//! class) given the grandparent's, parent's and previous sibling's kinds, and for a leaf whose text is not
//! its kind's default, an interner reference (predicted successor of the previous text, move-to-front rank,
//! lexicon rank) or a new text's length and bytes. Keywords and punctuation cost only their kind; whitespace
//! is mostly a class in the node symbol. `stats.rs` splits a store's bytes into these parts.
//!
//! The model, kinds, lexicon and dictionary are learned from the measured corpus itself at build time (in
//! `finish()`: learn defaults and the lexicon, count, build the model, code, train the dictionary and
//! compress) and are counted in the retained bytes. Nothing is compiled into the binary from training code,
//! so the backend has no tables generator and no process statics. Until `finish()`, `add` holds each file's
//! nodes staged (`staging.rs`: about 5 bytes per node, against 20 for a flat record) and its text, the two
//! as one zstd frame at level 1 (about a quarter of their size on real code; every pass of `finish()`
//! decompresses and unstages one file at a time). The learning counts a text exactly only where a
//! fixed-size sketch (1 MiB) has seen it often enough to matter (twice for a default text, in three files
//! for a lexicon entry), so its maps hold the corpus's recurring texts, not all of them; the coding pass
//! drops each staged file once it is coded, and the blobs are written into a buffer reserved at their
//! bound, dropping each file's streams once written. The build's peak is then the compressed staged corpus
//! or the coded streams (whichever is larger), plus the learning's maps.
//!
//! # Blocks
//!
//! A file of at least twice `BLOCK_NODES` nodes is cut, before opening a node, into blocks of at least
//! `BLOCK_NODES` nodes each (up to twice as many; a cut waits for a node with at most [`codec::MAX_FRAMES`]
//! (64) open nodes above it, so a checkpoint stays small however deep the tree), each decodable alone:
//!
//! | what | contents | bytes |
//! | --- | --- | --- |
//! | header | the language, the `BLOCKED` flag, whether a block refers to the lexicon | 1 |
//! | index | the file's node count and block count; per block its first node, its text offset (each from the previous block's) and its body's length | LEB128 varints: about 8 per block |
//! | per block: checkpoint | the indentation, and per open node above the block's first node (its *frames*, root first): index, start, kind, MISSING, field, last child's kind, end, subtree's end | varints: about 12 per frame |
//! | per block: part | as a whole file's blob: the block's literal stream (its own zstd frame, with the store's dictionary) and rANS stream (its own coder) | the block's share of the file, plus what the restart costs |
//!
//! At a cut the coder, the literal stream and the interner all start again (a text met in an earlier block
//! is spelt out again or taken from the lexicon), so a block needs nothing from the blocks before it; the
//! indentation and the frames (what the node contexts and the records of the block's ancestors need) are
//! its checkpoint. Everything lives in the file's blob in `blobs`: no other buffer. A reader checks the
//! index (blocks in order, bodies inside the blob) and each checkpoint (indices before the block and
//! increasing, ranges and subtrees nested and holding the block's start) before it uses them; a damaged one
//! thaws an empty block (a wrong answer, never a panic). On real TypeScript with a 2.24 MB file the blocks
//! cost 4.5% more bytes at rest than the same files coded whole (`NOTES.md`).
//!
//! The companion is handed out by `CstStore::query_status` decoded for the caller: the file's language's
//! model (16 bytes per entry of it and an index, as `StatusModel` holds it) and the file's exceptions in
//! `FileStatus`'s format, a few kilobytes and microseconds per call, counted in the query pass's working
//! memory, not at rest. Until `finish()` the companions are kept as `cst_measure::query_status::QueryStatuses`
//! against the empty model (what `add` computes from the tree), then learned from and coded.
//!
//! # Thawing and navigation
//!
//! A cursor ([`FrozenCursor`]) owns its thaw buffers: the text, one 24-byte record per node in preorder
//! (start, end, index past its subtree, child list, kind, field, flags), child lists of wide nodes (more
//! than 8 children), the interner's entries and move-to-front lists, two caches of context lookups, the
//! lexicon's texts when the store holds them compressed (decompressed before the cursor's first thaw of a
//! blob whose header says it refers to them: 23.5 KB on real Rust code, tens of microseconds, paid once by a
//! cursor that thaws file after file and once per file by a new cursor per file), and a zstd decompression
//! context (made on the first compressed stream or lexicon, shared by both). A cursor's unit of thawing is a
//! whole file, or one block of a file coded in blocks: the block's records (indices, positions, subtree ends
//! and child lists in the file's terms), its text, and its frames' records. Every ancestor of a block's node
//! is a node or a frame of that block, so the current thaw always holds the current node and its
//! ancestors. `cursor(file)` thaws the file, or its first block (decompresses the literal stream, decodes
//! the rANS stream, rebuilds the text and the records) and sits on its root; `reset_cursor` thaws into the
//! current buffers when they hold a small file, or keeps them (a block, or a file of 64 KiB or more, its
//! buffers shrunk to what it holds) and thaws into new buffers, or into the least recently used kept thaw's,
//! and skips the thaw when the cursor still holds that file or block (lookups spread over a corpus where
//! one file has most of the bytes would otherwise thaw it for nearly every lookup). What it keeps is bounded
//! by the store's *thaw budget* ([`DEFAULT_THAW_BUDGET`], 1 MiB, unless [`FrozenStore::set_thaw_budget`] or
//! [`THAW_BUDGET_VAR`] sets it): the current thaw and the kept ones fit in it, least recently used dropped
//! first, and a thaw larger than the budget is never kept. A cursor's working memory is therefore at most
//! the budget plus the thaw being made (about 24 bytes per node and twice the text, as reserved: of a whole
//! file below 32,768 nodes, or of one block: about 1 MB at most) plus its caches (about 300 KB) and zstd state; a
//! smaller budget costs time only where lookups come back to files or blocks it dropped, which thaw again.
//! Then:
//!
//! - `node()`: a record (of the thaw's nodes, or by binary search of its frames). O(1) (O(log depth)).
//! - `text()`: a slice of the thawed text; for a node that spans blocks, an owned copy from the blocks it
//!   spans, thawed one at a time.
//! - `goto_first_child`: the next record. `goto_next_sibling`: the record past the subtree, if still inside
//!   the parent. Either thaws the next block when the record is past the current one (a walk streams the
//!   blocks through the cursor's buffers, in order). `goto_parent`: pops the cursor's stack of ancestors.
//! - `seek`: thaws the block of the offset (the last one starting before it, by binary search of the
//!   index; a file not in blocks whole), then descends from the root by
//!   [`cst_measure::backend::descend_to_offset`]'s rule: past a frame, straight to the next frame down or
//!   the block's first node (the children before them end before the block, so before the offset); by
//!   binary search over the child list of a wide node the thaw holds whole, and by a scan of siblings
//!   otherwise (within the block, and into the next one only where the offset is the block's end).
//! - `CstStore::text`: thaws the file (block after block) and returns its text (an owned copy).
//!
//! Every operation's time therefore includes thawing each file or block it visits: once per cursor for the
//! walks, once per lookup for node-at-offset (the whole file, or one block, for one node).
//!
//! # Editing
//!
//! An edited file is a hot one: `update` writes the new version as a *delta* against the current one
//! (`delta.rs`): the edit's splice of the text, and the new tree as ops in preorder, spelled out along the
//! path to the edit and, for every inner node that [`cst_measure::Unchanged`] says is as it was (outside the
//! edit, tree-sitter's changed ranges and the nodes holding syntax errors), a reference to the previous
//! version's node of that kind and range, whose descendants a thaw copies. So an update walks tree-sitter's
//! tree only where something may have changed and freezes nothing. A thaw of a delta thaws the version
//! before it and applies the delta (copying records, shifting their positions, listing wide nodes' children
//! again): a chain of deltas is thawed from the blob it starts from. Every 8th version in a row (`MAX_CHAIN`),
//! and any version whose delta would take more than `max_ops` ops (a byte per source byte plus 1 KiB: a
//! syntax error far from the edit, a large paste), is frozen whole instead, by `replace`: the new version of the file alone against the
//! model, kinds and dictionary `finish()` built, which stay as they are. That blob is *tolerant* (a header
//! flag): every symbol with a table first codes an escape flag (one slot in 2^15: about 0.00004 bits when it
//! says "coded by the table"), and a value its table lacks, or any value of a context the model lacks (an
//! `ERROR` where the corpus had none), follows in 32 raw bits; so any file round-trips, and a file like the
//! corpus's costs what it did. The store keeps no index of its lexicon: the new blob refers to the lexicon
//! texts the blob its chain started from did (read by thawing it) and spells the others out.
//!
//! Each version ([`Edition`]: a blob or a delta and the previous version) goes behind an `Arc` in `edited`;
//! a version ([`FrozenVersion`]) is a clone of that `Arc` (a delta keeps the versions before it alive, down
//! to a blob), or, for a file not edited since `finish()`, nothing (the store keeps its frozen range, never
//! changed, for as long as it lives: the first version's bytes stay counted in the store after the file
//! moves on). `restore` puts a version back.
//!
//! # Saved form
//!
//! `saved.rs` writes the store's buffers as sections of `cst_measure::saved`'s container: the blobs, the
//! starts, the model, the kinds and the dictionary. Opening borrows the blobs and the dictionary from the
//! mapping (no copy: cursors thaw from the mapped bytes) and decodes the starts, model and kinds (what a built
//! store holds on the heap besides its blobs), each checked before use so that no later read of them can
//! panic, read out of bounds or loop (the checks and the layout table are in `saved.rs`). A store edited since
//! `finish()` is saved as its current versions, each edited file re-frozen whole from a fresh parse of its
//! text.
//!
//! # Limits
//!
//! Positions are `u32` (as in [`NodeInfo`]); kind ids below 1020 (and ERROR) and field ids up to 255 fit a
//! node symbol; a tree whose nodes overlap (a node starting before its previous sibling ends, or ending
//! before its last child does), which tree-sitter does not produce, is refused; and a file that could take
//! the store's blobs past 2 GiB (31-bit offsets) is refused. Each refusal is a [`BuildError::Limit`] before
//! anything is stored. Thawing is iterative (nesting depth is bounded only by memory) and linear in the
//! file's size; move-to-front lists keep 1024 texts, so a file of 100,000 distinct identifiers stays linear.
//!
//! # Measured
//!
//! Figures live in the compare run's output, not here. [`measure_text_reference`] gives the rows this
//! backend is judged against: the text alone, each file compressed with zstd level 19, without and with a
//! dictionary trained on the corpus. `examples/thaw_bench.rs` times thawing every file against parsing it
//! and prints the cost of each part ([`breakdown`]).

mod codec;
mod delta;
#[cfg(test)]
mod descriptions;
mod literal;
mod model;
mod rans;
mod reference;
mod saved;
mod staging;
mod stats;
mod statuses;
mod thaw;

pub use codec::BLOCK_NODES;
pub use reference::{measure_text_reference, TextReference, TEXT_REFERENCE_LEVEL};
pub use stats::{breakdown, Breakdown, PARTS};

use codec::{Flat, Kinds, LEAF, MISSING, NO_LIST};
use cst_measure::query_status::{
    contexts_of, FileStatus, ModelBuilder, QueryStatuses, StatusStream,
};
use cst_measure::{Backend, BuildError, CstCursor, CstStore, FileEdit, Language, NodeInfo};
use model::{Counts, Model};
use std::borrow::Cow;
use std::sync::Arc;
use thaw::{Contexts, Thawed};
use zstd_safe::{DCtx, DDict};

/// The frozen backend.
pub struct Frozen;

impl Backend for Frozen {
    const NAME: &'static str = "frozen";
    const RETAINS: &'static str =
        "every file's blob (rANS-coded tree, whitespace and interner references, plus the file's new texts, \
         inline or zstd-compressed; a file of 32768 nodes or more in blocks of 16384 nodes or more, each with \
         a checkpoint to decode it alone) end to end, a u32 offset per file, and the model learned from the corpus \
         at build time (context tables, default texts, lexicon (its texts zstd-compressed: a cursor \
         decompresses them on first need), the literal streams' zstd dictionary); no process statics. Thawing a file into navigable records is part of every operation's time, and its buffers are a \
         cursor's working memory (the thaw budget bounds what a cursor keeps besides the file it is on); and \
         each file's query-status companion (cst_measure::query_status: what a status model learned from the \
         corpus at finish() mispredicts, coded: the model, about 4 bytes per context it predicts for, a bit per \
         file with exceptions, their lengths and exp-Golomb coded exceptions, decoded per query pass)";
    const INCLUDES_SOURCE: bool = true;
    const SHARES_ACROSS_FILES: bool = true;
    const LOOKUP: &'static str =
        "thaws the whole file, or the block of the offset in a file coded in blocks, into flat preorder \
         records (part of the time; skipped when the cursor still holds that file or block: the thaws of \
         blocks and of files of 64 KiB or more that it keeps within its thaw budget, 1 MiB unless set, least \
         recently used dropped first), then descends by the rule: binary search over the child \
         list of a node with more than 8 children, a scan of its few siblings otherwise";
    const UPDATE: &'static str =
        "writes the new version as a delta against the previous one: the text's splice, and the new tree \
         spelled out along the path to the edit, every subtree outside the edit, tree-sitter's changed ranges \
         and the nodes holding syntax errors a reference to the previous version's node of that kind and \
         range (a thaw copies its records); every 8th version in a row, or one whose delta would take more \
         than a byte per source byte plus 1 KiB, is re-frozen whole against the model, kinds and dictionary built at \
         finish() (a tolerant blob, zstd -3 for its new texts). A thaw of a delta thaws the chain from its \
         blob. A version is an Arc to a blob or a delta (which keeps the versions before it alive); the first \
         version is the file's range of the store's blob, which the store keeps while it lives";
    type Store = FrozenStore;

    /// The store's buffers as sections (`saved.rs`), its blobs thawed in place from a mapping.
    const SAVED_FORMAT: Option<u32> = Some(saved::FORMAT);

    fn save<'s>(
        store: &'s FrozenStore,
        sections: &mut cst_measure::saved::Sections<'s>,
    ) -> Result<(), String> {
        saved::save(store, sections)
    }

    fn open(opened: &cst_measure::saved::Opened) -> Result<FrozenStore, String> {
        saved::open(opened, Frozen::new_store())
    }

    fn new_store() -> FrozenStore {
        let mut store = FrozenStore::default();
        if let Some(bytes) = std::env::var(THAW_BUDGET_VAR)
            .ok()
            .and_then(|v| v.trim().parse().ok())
        {
            store.set_thaw_budget(bytes);
        }
        store
    }
}

/// A file taken in but not yet frozen (`finish()` freezes them all at once, with the model they share):
/// its text and its nodes, staged (`staging.rs`: about 5 bytes per node).
struct Pending {
    language: u8,
    staged: staging::Staged,
}

/// What every blob is decoded with.
struct Shared {
    model: Model,
    kinds: Kinds,
    dictionary: Option<saved::Bytes>,
}

/// Header byte: the language in the low two bits, whether the literal stream is compressed or inline, and
/// whether the blob is tolerant (frozen after the model was built: see [`codec::Coder`]).
const COMPRESSED: u8 = 4;
const INLINE: u8 = 8;
const TOLERANT: u8 = 16;
/// The blob refers to the store's lexicon (a thaw decompresses a compressed lexicon first).
const LEXICON: u8 = 32;
/// The blob is coded in blocks (see the crate's doc): an index, then each block's checkpoint and part.
const BLOCKED: u8 = 64;
/// Files with fewer literal bytes than this code them inline, in the rANS stream.
const INLINE_LITERALS: usize = 1024;
/// zstd level of the literal streams of files frozen by an update (see [`Frozen::UPDATE`]): an edited file
/// is a hot one, so its update is timed like a keystroke's. Level 3 against 19 on 300 files of real Python:
/// half the median update time (432 against 927 µs) for 7% more bytes per extra version (2,080 against
/// 1,945). (Measured by `cargo xtask compare --limit 300` on `scripts/fetch-real-code.sh`'s Python.)
const UPDATE_LEVEL: i32 = 3;
/// Flag of `starts`: the file's current blob is an edited one, in `edited`.
const EDITED: u32 = 1 << 31;

/// Every file's blob and the model they share.
#[derive(Default)]
pub struct FrozenStore {
    pending: Vec<Pending>,
    /// The compressor of the files staged by `add` (about 1 MB at its level); dropped by `finish()`.
    staging: Option<zstd_safe::CCtx<'static>>,
    /// Upper bound of the blob bytes the pending files can take (to refuse a file before the offsets overflow).
    bound: u64,
    /// Every file's blob as `finish()` froze it, end to end; never changed afterwards (versions point into it).
    /// Owned, or borrowed from a saved file's mapping (`saved.rs`).
    blobs: saved::Bytes,
    /// Where each file's blob starts in `blobs`, with [`EDITED`] set when the file's current blob is in
    /// `edited` instead.
    starts: Vec<u32>,
    /// The current version of every file edited since `finish()`, by file index (sorted).
    edited: Vec<(u32, Arc<Edition>)>,
    shared: Option<Shared>,
    thaw_budget: ThawBudget,
    /// Every file's query-status companion ([`cst_measure::query_status`]) until `finish()`, against the
    /// empty model; empty after it.
    building: QueryStatuses,
    /// Every file's query-status companion from `finish()` on, coded (`statuses.rs`).
    statuses: statuses::Companion,
    block_nodes: BlockNodes,
}

/// What a store's query-status companion holds ([`FrozenStore::status_parts`]), in requested bytes: the
/// coded model and its entries, the per-file lengths and marks, the streams, and how many files have
/// exceptions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StatusParts {
    pub model_entries: usize,
    pub model_bytes: usize,
    pub start_bytes: usize,
    pub stream_bytes: usize,
    pub files_with_exceptions: usize,
}

/// Nodes per block of the files `finish()` codes in blocks ([`codec::BLOCK_NODES`] unless set; 0: none).
struct BlockNodes(usize);

impl Default for BlockNodes {
    fn default() -> BlockNodes {
        BlockNodes(codec::BLOCK_NODES)
    }
}

/// One block of a file coded in blocks, as its blob's index gives it: its first node, its text offset, and
/// where its body (checkpoint and part) lies in the blob.
#[derive(Clone, Copy, Debug)]
struct BlockEntry {
    first: u32,
    pos: u32,
    body: (usize, usize),
}

/// The thaw unit of a file that is not coded in blocks (or an edited one): the whole file.
const WHOLE: u32 = u32::MAX;

/// Reads the index of a blob coded in blocks into `out`, checking it (every block's first node and offset
/// after the previous one's, the first at 0, every body inside the blob): the file's node count, or `None`
/// for a blob that is not coded in blocks or is damaged.
pub(crate) fn block_index(blob: &[u8], out: &mut Vec<BlockEntry>) -> Option<u32> {
    out.clear();
    if blob.first()? & BLOCKED == 0 {
        return None;
    }
    let mut at = 1;
    let nodes = read_varint(blob, &mut at);
    let count = read_varint(blob, &mut at);
    if count == 0 || count > nodes || nodes > u32::MAX as usize || count > blob.len() {
        return None;
    }
    let (mut first, mut pos, mut body) = (0usize, 0usize, 0usize);
    let mut entries = Vec::with_capacity(count);
    for b in 0..count {
        let (df, dp, len) = (
            read_varint(blob, &mut at),
            read_varint(blob, &mut at),
            read_varint(blob, &mut at),
        );
        if (b > 0 && df == 0) || (b == 0 && (df != 0 || dp != 0)) {
            return None;
        }
        first = first.checked_add(df)?;
        pos = pos.checked_add(dp)?;
        if first >= nodes || pos > u32::MAX as usize {
            return None;
        }
        entries.push((first as u32, pos as u32, body, len));
        body = body.checked_add(len)?;
    }
    if at.checked_add(body)? != blob.len() {
        return None;
    }
    out.extend(
        entries
            .into_iter()
            .map(|(first, pos, start, len)| BlockEntry {
                first,
                pos,
                body: (at + start, at + start + len),
            }),
    );
    Some(nodes as u32)
}

/// Reads block `b`'s checkpoint (see `codec::Writer::boundary`) into `frames`, checking it: indices
/// increasing and before the block's first node, ranges nested and holding the block's offset, subtree
/// ends nested and past the block's first node, within the file's `nodes`. Returns the indentation and where
/// the block's part starts in `body`; `None` if damaged.
fn checkpoint(
    body: &[u8],
    entry: &BlockEntry,
    nodes: u32,
    frames: &mut Vec<thaw::Frame>,
) -> Option<(u32, usize)> {
    frames.clear();
    let mut at = 0;
    let mut read = || -> Option<u32> { u32::try_from(read_varint(body, &mut at)).ok() };
    let indent = read()?;
    let count = read()? as usize;
    if count > body.len() {
        return None;
    }
    let (mut index, mut start) = (0u32, 0u32);
    let (mut end_above, mut next_above) = (u32::MAX, nodes);
    for f in 0..count {
        let di = read()?;
        if (f == 0) != (di == 0) {
            return None;
        }
        index = index.checked_add(di)?;
        start = start.checked_add(read()?)?;
        let head = read()?;
        let last = read()?;
        let end = entry.pos.checked_add(read()?)?;
        let next = entry.first.checked_add(read()?)?;
        let kind_slot = head & 0x3ff;
        let field = head >> 11;
        if index >= entry.first
            || start > entry.pos
            || end > end_above
            || next <= entry.first
            || next > next_above
            || last > codec::START
            || field > u32::from(codec::MAX_FIELD)
            || kind_slot > codec::ERROR_SLOT
        {
            return None;
        }
        (end_above, next_above) = (end, next);
        frames.push(thaw::Frame {
            index,
            node: thaw::Node {
                start,
                end,
                next,
                list: NO_LIST,
                kind: codec::kind_of(kind_slot),
                field: field as u16,
                flags: if head & (1 << 10) != 0 { MISSING } else { 0 },
            },
            last,
        });
    }
    Some((indent, at))
}

/// Bytes of thaw buffers each cursor of the store keeps ([`DEFAULT_THAW_BUDGET`] unless set).
struct ThawBudget(usize);

impl Default for ThawBudget {
    fn default() -> ThawBudget {
        ThawBudget(DEFAULT_THAW_BUDGET)
    }
}

/// One file's CST at one moment (`None`: the blob `finish()` froze, which the store keeps), with a copy of
/// its query-status companion.
#[derive(Clone)]
pub struct FrozenVersion(Option<Arc<Edition>>, FileStatus);

/// One version of a file edited since `finish()`.
pub struct Edition {
    /// Its deltas down to a blob (0 for a blob).
    depth: u8,
    language: u8,
    form: Form,
}

enum Form {
    /// Frozen whole: a tolerant blob.
    Blob(Box<[u8]>),
    /// The previous version (`None`: the blob `finish()` froze) and the delta against it.
    Delta(Option<Arc<Edition>>, delta::Delta),
}

/// Empties `out`, a thaw of a damaged blob: a cursor on it finds no node (a wrong answer, never a panic).
fn damaged(out: &mut Thawed) {
    out.text.clear();
    out.nodes.clear();
    out.lists.clear();
    out.frames.clear();
}

/// Most deltas between a version and the blob it is thawed from: every `MAX_CHAIN`th update freezes the file
/// whole.
const MAX_CHAIN: u8 = 8;

/// Most ops a delta may take for a file of `len` bytes (16 bytes each: a byte per source byte at most, about
/// four times the file's blob); past it the update freezes the file whole.
fn max_ops(len: usize) -> usize {
    len / 16 + 64
}

fn write_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// A blob's header for a literal stream that is not inline: the header byte, the stream's length and its
/// first two segments' lengths, and the stream (compressed, with its length, if `compressed`).
fn write_header(
    out: &mut Vec<u8>,
    header: u8,
    counts: Option<(u32, u32)>,
    literal: &[u8],
    segments: [usize; 2],
    compressed: Option<&[u8]>,
) {
    out.push(header | if compressed.is_some() { COMPRESSED } else { 0 });
    write_counts(out, counts);
    write_varint(out, literal.len() as u64);
    write_varint(out, segments[0] as u64);
    write_varint(out, segments[1] as u64);
    match compressed {
        Some(c) => {
            write_varint(out, c.len() as u64);
            out.extend_from_slice(c);
        }
        None => out.extend_from_slice(literal),
    }
}

/// A whole blob's node count and text length, after its header byte (none in a block's part).
fn write_counts(out: &mut Vec<u8>, counts: Option<(u32, u32)>) {
    if let Some((nodes, text)) = counts {
        write_varint(out, u64::from(nodes));
        write_varint(out, u64::from(text));
    }
}

fn read_varint(bytes: &[u8], at: &mut usize) -> usize {
    let (mut v, mut shift) = (0usize, 0);
    while let Some(&b) = bytes.get(*at) {
        *at += 1;
        v |= usize::from(b & 0x7f) << shift;
        shift += 7;
        if b < 0x80 || shift > 56 {
            break;
        }
    }
    v
}

impl FrozenStore {
    /// Sets the bytes of thaw buffers each cursor keeps: past the current file's thaw, a cursor keeps the
    /// thaws of the files it left only while all of them fit in `bytes` (0: it keeps none).
    pub fn set_thaw_budget(&mut self, bytes: usize) {
        self.thaw_budget = ThawBudget(bytes);
    }

    /// The bytes of thaw buffers each cursor keeps.
    pub fn thaw_budget(&self) -> usize {
        self.thaw_budget.0
    }

    /// The current version of `file` if it was edited since `finish()`.
    fn edition(&self, file: usize) -> Option<&Arc<Edition>> {
        if self.starts[file] & EDITED == 0 {
            return None;
        }
        let at = self
            .edited
            .binary_search_by_key(&(file as u32), |e| e.0)
            .expect("an edited file has its version");
        Some(&self.edited[at].1)
    }

    /// The blob `finish()` froze for `file`.
    fn frozen_blob(&self, file: usize) -> &[u8] {
        let start = (self.starts[file] & !EDITED) as usize;
        let end = self
            .starts
            .get(file + 1)
            .map_or(self.blobs.len(), |&e| (e & !EDITED) as usize);
        &self.blobs[start..end]
    }

    /// Makes `blob` file `file`'s current version (`None`: the blob `finish()` froze).
    fn set_blob(&mut self, file: usize, blob: Option<Arc<Edition>>) {
        let at = self.edited.binary_search_by_key(&(file as u32), |e| e.0);
        match (blob, at) {
            (Some(blob), Ok(at)) => self.edited[at].1 = blob,
            (Some(blob), Err(at)) => {
                self.edited.insert(at, (file as u32, blob));
                self.starts[file] |= EDITED;
            }
            (None, Ok(at)) => {
                self.edited.remove(at);
                self.starts[file] &= !EDITED;
            }
            (None, Err(_)) => {}
        }
    }

    /// Sets the nodes per block of the files `finish()` will code in blocks ([`codec::BLOCK_NODES`] unless
    /// set): a file of at least twice as many is coded in blocks of that many nodes up to twice as many; 0
    /// codes every file whole. Takes effect at `finish()`.
    pub fn set_block_nodes(&mut self, nodes: usize) {
        self.block_nodes = BlockNodes(nodes);
    }

    /// Files coded in blocks, their blocks, and the bytes of their indices and checkpoints (the blocks'
    /// cost at rest besides what restarting the coder per block costs).
    pub fn block_overhead(&self) -> (usize, usize, usize) {
        let (mut files, mut blocks, mut bytes) = (0, 0, 0);
        let (mut index, mut frames) = (Vec::new(), Vec::new());
        for file in 0..self.starts.len() {
            let blob = self.frozen_blob(file);
            let Some(nodes) = block_index(blob, &mut index) else {
                continue;
            };
            files += 1;
            blocks += index.len();
            bytes += index[0].body.0;
            for entry in &index {
                let body = &blob[entry.body.0..entry.body.1];
                bytes += checkpoint(body, entry, nodes, &mut frames).map_or(0, |c| c.1);
            }
        }
        (files, blocks, bytes)
    }

    /// Learns the query-status model from every file (the statuses `add` kept against the empty model, read
    /// in the contexts of the store's own walk) and codes each file's companion against it: two walks per
    /// file, O(nodes); the entries weighed at what they take coded ([`statuses::ENTRY_BYTES`]).
    fn learn_statuses(&self) -> statuses::Companion {
        let decoded = |f: usize| {
            let language = self.language(f);
            let contexts = contexts_of(self, f);
            let statuses = self
                .building
                .get(f, language)
                .decode(contexts.iter().copied());
            (language, statuses, contexts)
        };
        let mut builder = ModelBuilder::default();
        for f in 0..self.len() {
            let (language, statuses, contexts) = decoded(f);
            builder.count(language, &statuses, &contexts);
        }
        let model = builder.build_with(statuses::ENTRY_BYTES);
        let streams: Vec<(Language, FileStatus)> = (0..self.len())
            .map(|f| {
                let (language, statuses, contexts) = decoded(f);
                let status = FileStatus::encode_with(&statuses, &contexts, language, &model);
                (language, status)
            })
            .collect();
        statuses::Companion::new(&model, &streams)
    }

    /// What the query-status companion holds: its model's entries and bytes, the per-file starts' bytes, and
    /// the streams' bytes (with how many files have a non-empty stream).
    pub fn status_parts(&self) -> StatusParts {
        let (model_bytes, model_entries, start_bytes, stream_bytes) = self.statuses.parts();
        let files_with_exceptions = (0..self.len())
            .filter(|&f| self.statuses.owned(f, self.language(f)).bytes() > 0)
            .count();
        StatusParts {
            model_entries,
            model_bytes,
            start_bytes,
            stream_bytes,
            files_with_exceptions,
        }
    }

    /// Makes the cursor's block index that of `file` (empty when the file is not coded in blocks).
    fn load_index(&self, cursor: &mut FrozenCursor<'_>, file: usize) {
        if cursor.index_of == file {
            return;
        }
        cursor.index_of = file;
        cursor.nodes = 0;
        cursor.index.clear();
        if self.edition(file).is_none() {
            if let Some(nodes) = block_index(self.frozen_blob(file), &mut cursor.index) {
                cursor.nodes = nodes;
            }
        }
    }

    /// The thaw unit of `file` that holds node `index` (its block, or [`WHOLE`]); `None` past its nodes.
    fn unit_of_node(&self, cursor: &mut FrozenCursor<'_>, file: usize, index: u32) -> Option<u32> {
        self.load_index(cursor, file);
        if cursor.index.is_empty() {
            return Some(WHOLE);
        }
        (index < cursor.nodes)
            .then(|| cursor.index.partition_point(|e| e.first <= index) as u32 - 1)
    }

    /// The thaw unit of `file` a lookup of `offset` starts in: the last block starting before `offset` (so
    /// that the nodes before it end before `offset`), or [`WHOLE`].
    fn unit_of_offset(&self, cursor: &mut FrozenCursor<'_>, file: usize, offset: u32) -> u32 {
        self.load_index(cursor, file);
        if cursor.index.is_empty() {
            return WHOLE;
        }
        cursor
            .index
            .partition_point(|e| e.pos < offset)
            .saturating_sub(1) as u32
    }

    /// Thaws `unit` of `file` into the cursor's current buffers (`many`: as a cursor that thaws one file or
    /// block after another does).
    fn thaw_unit<'a>(&'a self, cursor: &mut FrozenCursor<'a>, file: usize, unit: u32, many: bool) {
        if many {
            cursor.contexts.for_many_files();
            cursor.zstd.many = true;
        }
        self.load_index(cursor, file);
        let FrozenCursor {
            thawed,
            contexts,
            zstd,
            index,
            nodes,
            ..
        } = cursor;
        if unit == WHOLE || index.is_empty() {
            self.thaw(file, thawed, contexts, zstd);
        } else {
            let blob = self.frozen_blob(file);
            self.thaw_block(blob, index, *nodes, unit as usize, thawed, contexts, zstd);
        }
    }

    /// Makes unit `unit` of `file` the cursor's current thaw: swapped in if the cursor holds it, else thawed,
    /// keeping the thaw it replaces when that is worth keeping (a block, or a file of [`HOLD_FROM`] bytes
    /// or more) and fits the budget, least recently used dropped first.
    fn switch<'a>(&'a self, cursor: &mut FrozenCursor<'a>, file: usize, unit: u32) {
        if (cursor.file, cursor.unit) == (file, unit) {
            return;
        }
        let previous = (cursor.file, cursor.unit);
        (cursor.file, cursor.unit) = (file, unit);
        if let Some(at) = cursor.held.iter().position(|h| (h.0, h.1) == (file, unit)) {
            // Held: swap it in, and the thaw it replaces becomes the most recently held.
            std::mem::swap(&mut cursor.thawed, &mut cursor.held[at].2);
            (cursor.held[at].0, cursor.held[at].1) = previous;
            cursor.held[..=at].rotate_right(1);
        } else if previous.0 != usize::MAX
            && (previous.1 != WHOLE || cursor.thawed.text.len() >= HOLD_FROM)
            && {
                cursor.thawed.shrink();
                cursor.thawed.heap_bytes() <= self.thaw_budget.0
            }
        {
            // Not held, and the current thaw is worth keeping and fits the budget (once it gave back
            // what it reserved beyond its needs): keep it, and thaw into new buffers, or into the least
            // recently used thaw's when the ones held already fill the budget.
            let held: usize = cursor.held.iter().map(|h| h.2.heap_bytes()).sum();
            let buffers = if held + cursor.thawed.heap_bytes() <= self.thaw_budget.0 {
                Thawed::default()
            } else {
                cursor.held.pop().map(|h| h.2).unwrap_or_default()
            };
            let current = std::mem::replace(&mut cursor.thawed, buffers);
            cursor.held.insert(0, (previous.0, previous.1, current));
            self.thaw_unit(cursor, file, unit, true);
            // Within the budget again: the least recently used thaws go.
            let mut total = cursor.thawed.heap_bytes();
            let keep = cursor
                .held
                .iter()
                .take_while(|h| {
                    total += h.2.heap_bytes();
                    total <= self.thaw_budget.0
                })
                .count();
            cursor.held.truncate(keep);
        } else {
            // Not held, and the current thaw is of a small file (cheap to thaw again) or does not fit:
            // thaw into its buffers, which are warm in the cache.
            self.thaw_unit(cursor, file, unit, true);
        }
    }

    /// Text `start..end` of `file`, thawing only the blocks it spans, one at a time (for a node that spans
    /// blocks; its bytes as text, damaged ones replaced).
    fn text_range(&self, file: usize, start: u32, end: u32) -> String {
        let blob = self.frozen_blob(file);
        let mut index = Vec::new();
        let Some(nodes) = block_index(blob, &mut index) else {
            return String::new();
        };
        let mut out = Vec::with_capacity((end.saturating_sub(start)) as usize);
        let (mut part, mut contexts, mut zstd) = (
            Thawed::default(),
            Contexts::default(),
            Decompression::default(),
        );
        let from = index.partition_point(|e| e.pos <= start).saturating_sub(1);
        for b in from..index.len() {
            if index[b].pos >= end && b > from {
                break;
            }
            self.thaw_block(blob, &index, nodes, b, &mut part, &mut contexts, &mut zstd);
            let text = part.text.as_bytes();
            let lo = (start.max(part.base) - part.base) as usize;
            let hi = ((end.saturating_sub(part.base)) as usize).min(text.len());
            out.extend_from_slice(text.get(lo..hi).unwrap_or_default());
        }
        String::from_utf8(out)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
    }

    /// Freezes a new version of `file` alone against the shared model (after `finish()`): a tolerant blob.
    /// The store keeps no index of its lexicon; the new version refers to the lexicon texts the previous
    /// version did (read by thawing it), and spells out the others.
    fn freeze_one(&self, file: usize, language: Language, source: &str, flat: &[Flat]) -> Vec<u8> {
        let shared = self.shared();
        let lang = language.index();
        // The lexicon texts the blob the current version is thawed from refers to (deltas add none).
        let mut previous = Thawed::default();
        previous.lexicon_hits = Some(Vec::new());
        let mut base = self.edition(file);
        while let Some(Form::Delta(older, _)) = base.map(|e| &e.form) {
            base = older.as_ref();
        }
        let blob = match base.map(|e| &e.form) {
            Some(Form::Blob(blob)) => blob,
            _ => self.frozen_blob(file),
        };
        self.thaw_blob(
            blob,
            &mut previous,
            &mut Contexts::default(),
            &mut Decompression::default(),
        );
        let lexicon = previous.lexicon_index();
        let cx = codec::Context {
            kinds: &shared.kinds,
            lexicon: &lexicon,
        };
        // A file shorter than the inline threshold has fewer literal bytes than that: no need to count them.
        let inline = source.len() < INLINE_LITERALS || {
            let mut length = codec::LiteralLength::default();
            codec::emit(lang, source.as_bytes(), flat, &cx, false, 0, &mut length);
            length.0 < INLINE_LITERALS
        };
        // Whole, not in blocks: an edited file is a hot one, and its deltas thaw whole versions.
        let mut coder = codec::Coder::new(&shared.model, true);
        codec::emit(lang, source.as_bytes(), flat, &cx, inline, 0, &mut coder);
        let mut blob = Vec::new();
        let header = lang as u8 | TOLERANT | if coder.uses_lexicon { LEXICON } else { 0 };
        let counts = Some((flat.len() as u32, source.len() as u32));
        if inline {
            blob.push(header | INLINE);
            write_counts(&mut blob, counts);
        } else {
            let segments = [coder.literal[0].len(), coder.literal[1].len()];
            let literal = coder.literal.concat();
            let mut cctx = literal::compressor(shared.dictionary.as_deref(), UPDATE_LEVEL, true);
            let compressed = literal::compress(&mut cctx, &literal);
            drop(cctx);
            write_header(
                &mut blob,
                header,
                counts,
                &literal,
                segments,
                compressed.as_deref(),
            );
        }
        coder.rans.finish(&mut blob);
        blob
    }

    fn shared(&self) -> &Shared {
        self.shared
            .as_ref()
            .expect("finish() freezes the files before they are read")
    }

    /// Thaws `file` into `out`, looking contexts up through `contexts` and decompressing with `zstd`.
    fn thaw<'a>(
        &'a self,
        file: usize,
        out: &mut Thawed,
        contexts: &mut Contexts,
        zstd: &mut Decompression<'a>,
    ) {
        match self.edition(file) {
            Some(edition) => self.thaw_edition(file, edition, out, contexts, zstd),
            None => self.thaw_blob(self.frozen_blob(file), out, contexts, zstd),
        }
    }

    /// Thaws version `edition` of `file`: a blob, or the version before it with its delta applied (at most
    /// [`MAX_CHAIN`] levels of recursion).
    fn thaw_edition<'a>(
        &'a self,
        file: usize,
        edition: &'a Edition,
        out: &mut Thawed,
        contexts: &mut Contexts,
        zstd: &mut Decompression<'a>,
    ) {
        match &edition.form {
            Form::Blob(blob) => self.thaw_blob(blob, out, contexts, zstd),
            Form::Delta(previous, delta) => {
                let mut before = Thawed::default();
                match previous {
                    Some(previous) => {
                        self.thaw_edition(file, previous, &mut before, contexts, zstd)
                    }
                    None => self.thaw_blob(self.frozen_blob(file), &mut before, contexts, zstd),
                }
                delta::apply(&before, delta, out);
                // A whole version: its records from node 0 and its text from offset 0, no frames.
                (out.first, out.base) = (0, 0);
                out.frames.clear();
            }
        }
    }

    /// Thaws one blob into `out`: whole, a blob coded in blocks block after block.
    fn thaw_blob<'a>(
        &'a self,
        blob: &'a [u8],
        out: &mut Thawed,
        contexts: &mut Contexts,
        zstd: &mut Decompression<'a>,
    ) {
        let mut index = Vec::new();
        let Some(nodes) = block_index(blob, &mut index) else {
            // A whole blob: its node count and text length bound the thaw (a forged stream stops there).
            let mut at = 1;
            let count = read_varint(blob, &mut at).min(u32::MAX as usize - 1) as u32;
            let text = read_varint(blob, &mut at).min(u32::MAX as usize) as u32;
            let start = thaw::Start::whole(count, text);
            return self.thaw_part(blob, at.min(blob.len()), &start, out, contexts, zstd);
        };
        // Block after block into one buffer, appended to `out` (records and text in the file's terms
        // already); the nodes that span blocks get their child lists at the end.
        let mut part = Thawed::default();
        part.lexicon_hits = out.lexicon_hits.as_ref().map(|_| Vec::new());
        let mut text = std::mem::take(&mut out.text);
        text.clear();
        out.nodes.clear();
        out.lists.clear();
        out.frames.clear();
        (out.first, out.base) = (0, 0);
        if let Some(hits) = out.lexicon_hits.as_mut() {
            hits.clear();
        }
        for b in 0..index.len() {
            self.thaw_block(blob, &index, nodes, b, &mut part, contexts, zstd);
            out.nodes.extend(part.nodes.iter().map(|n| thaw::Node {
                list: NO_LIST,
                ..*n
            }));
            let base = text.len() as u32;
            text.push_str(&part.text);
            if let (Some(hits), Some(more)) = (out.lexicon_hits.as_mut(), &part.lexicon_hits) {
                hits.extend(more.iter().map(|h| thaw::LexiconHit {
                    start: h.start + base,
                    ..*h
                }));
            }
        }
        out.text = text;
        delta::list_wide_children(&mut out.nodes, &mut out.lists);
    }

    /// Thaws block `b` of `blob` (its `index` read by [`block_index`], of `nodes` nodes) into `out`; a
    /// damaged checkpoint thaws nothing.
    #[allow(clippy::too_many_arguments)]
    fn thaw_block<'a>(
        &'a self,
        blob: &'a [u8],
        index: &[BlockEntry],
        nodes: u32,
        b: usize,
        out: &mut Thawed,
        contexts: &mut Contexts,
        zstd: &mut Decompression<'a>,
    ) {
        let (mut frames, mut after) = (Vec::new(), Vec::new());
        let entry = &index[b];
        let body = &blob[entry.body.0..entry.body.1];
        let Some((indent, at)) = checkpoint(body, entry, nodes, &mut frames) else {
            return damaged(out);
        };
        let count = match index.get(b + 1) {
            Some(next) => {
                let next_body = &blob[next.body.0..next.body.1];
                if checkpoint(next_body, next, nodes, &mut after).is_none() {
                    return damaged(out);
                }
                next.first - entry.first
            }
            None => u32::MAX,
        };
        let start = thaw::Start {
            first: entry.first,
            pos: entry.pos,
            indent,
            frames: &frames,
            count,
            after: &after,
            whole: false,
            text_limit: u32::MAX,
        };
        self.thaw_part(&body[at..], 1, &start, out, contexts, zstd);
    }

    /// Thaws one part (a whole blob, or a block's) into `out`, from `start`: its header byte is `blob[0]`,
    /// its lengths and streams from `body` on (past a whole blob's counts).
    fn thaw_part<'a>(
        &'a self,
        blob: &'a [u8],
        body: usize,
        start: &thaw::Start<'_>,
        out: &mut Thawed,
        contexts: &mut Contexts,
        zstd: &mut Decompression<'a>,
    ) {
        let shared = self.shared();
        let Some(&header) = blob.first() else {
            return damaged(out);
        };
        if header & LEXICON != 0 && !contexts.lexicon_expanded {
            if let Some((frame, len)) = shared.kinds.lexicon_frame() {
                // Once per cursor: its decompression context (shared with the literal streams) and the
                // store's dictionary.
                contexts.lexicon.clear();
                contexts.lexicon.reserve(len);
                let done =
                    zstd.decompress(shared.dictionary.as_deref(), &mut contexts.lexicon, frame);
                if done.is_err() {
                    contexts.lexicon.clear(); // Damaged: lexicon texts read as empty, never a panic.
                }
                contexts.lexicon_expanded = true;
            }
        }
        let tolerant = header & TOLERANT != 0;
        if header & INLINE != 0 {
            thaw::thaw(
                &shared.model,
                &shared.kinds,
                usize::from(header & 3),
                &blob[body..],
                None,
                tolerant,
                start,
                contexts,
                out,
            );
            return;
        }
        let mut at = body;
        let literal_len = read_varint(blob, &mut at);
        let segments = [read_varint(blob, &mut at), read_varint(blob, &mut at)];
        let stored = if header & COMPRESSED != 0 {
            read_varint(blob, &mut at)
        } else {
            literal_len
        };
        let at = at.min(blob.len());
        let (literal, rans) = blob[at..].split_at(stored.min(blob.len() - at));
        let mut buffer = std::mem::take(&mut out.literal);
        let literal: &[u8] = if header & COMPRESSED != 0 {
            buffer.clear();
            buffer.reserve(literal_len);
            let done = zstd.decompress(shared.dictionary.as_deref(), &mut buffer, literal);
            if done.is_err() {
                buffer.clear(); // Damaged: the thaw gives a wrong text, never a panic or unsafety.
            }
            &buffer
        } else {
            literal
        };
        let (first, rest) = literal.split_at(segments[0].min(literal.len()));
        let (second, third) = rest.split_at(segments[1].min(rest.len()));
        thaw::thaw(
            &shared.model,
            &shared.kinds,
            usize::from(header & 3),
            rans,
            Some([first, second, third]),
            tolerant,
            start,
            contexts,
            out,
        );
        out.literal = buffer;
    }

    /// Whether the store holds its lexicon's texts as a zstd frame (which a cursor decompresses on its
    /// first reference to one) rather than plain.
    pub fn lexicon_compressed(&self) -> bool {
        self.shared().kinds.plain_lexicon().is_none()
    }

    /// Retained bytes by part: (blobs and offsets, model tables, kinds, dictionary).
    pub fn parts(&self) -> (usize, usize, usize, usize) {
        let shared = self.shared();
        (
            self.blobs.heap_bytes() + self.starts.capacity() * 4,
            shared.model.heap_bytes(),
            shared.kinds.heap_bytes(),
            shared
                .dictionary
                .as_ref()
                .map_or(0, saved::Bytes::heap_bytes),
        )
    }
}

impl CstStore for FrozenStore {
    type Cursor<'a> = FrozenCursor<'a>;

    fn add(
        &mut self,
        language: Language,
        source: &str,
        tree: tree_sitter::Tree,
    ) -> Result<(), BuildError> {
        if source.len() > u32::MAX as usize {
            return Err(BuildError::Limit(format!(
                "the file has {} bytes; positions are 32-bit",
                source.len()
            )));
        }
        let flat = codec::flatten(&tree, source.len())?;
        let status = self.building.status_of(language, &tree);
        drop(tree);
        // Each node costs at most a few escaped symbols, each text byte one literal byte.
        let bound = self.bound + source.len() as u64 + 40 * flat.len() as u64 + 64;
        if bound >= u64::from(EDITED) {
            return Err(BuildError::Limit(
                "the store's blobs could pass 2 GiB, the limit of its 31-bit offsets".into(),
            ));
        }
        self.bound = bound;
        let cctx = self.staging.get_or_insert_with(staging::compressor);
        let staged = staging::Staged::new(cctx, source.as_bytes(), &flat);
        drop(flat);
        self.pending.push(Pending {
            language: language.index() as u8,
            staged,
        });
        self.building.push_status(status);
        Ok(())
    }

    fn finish(&mut self) {
        let pending = std::mem::take(&mut self.pending);
        let files: Vec<staging::FileView<'_>> = pending
            .iter()
            .map(|p| (usize::from(p.language), staging::Nodes::Staged(&p.staged)))
            .collect();
        self.staging = None;
        let block = self.block_nodes.0;
        let (kinds, inline) = codec::learn(&files, INLINE_LITERALS, block);
        let lexicon = kinds.lexicon_index();
        let cx = codec::Context {
            kinds: &kinds,
            lexicon: &lexicon,
        };
        let mut counts = Counts::default();
        staging::each(&files, |i, lang, text, flat| {
            codec::emit(lang, text, flat, &cx, inline[i], block, &mut counts);
        });
        let model = Model::build(counts, codec::WILD_A, codec::is_literal_context);
        let mut coder = codec::Coder::new(&model, false);
        let mut streams = Vec::with_capacity(files.len());
        drop(files);
        // Each staged file is dropped as soon as it is coded.
        let mut unstager = staging::Unstager::default();
        for (i, p) in pending.into_iter().enumerate() {
            let lang = usize::from(p.language);
            let (text, flat) = unstager.unstage(&p.staged);
            coder.clear();
            codec::emit(lang, text, flat, &cx, inline[i], block, &mut coder);
            coder.finish_block();
            let blocks = std::mem::take(&mut coder.blocks);
            streams.push((
                p.language,
                inline[i],
                flat.len() as u32,
                text.len() as u32,
                blocks,
            ));
        }
        drop(unstager);
        drop(coder);
        drop(lexicon);
        let literals: Vec<&[u8]> = streams
            .iter()
            .filter(|s| !s.1)
            .flat_map(|s| s.4.iter().map(|b| &b.literal[..]))
            .collect();
        let packed = literal::pack(&literals);
        drop(literals);
        // The blobs reserved at an upper bound of their length (varints at their longest), so that they are
        // never copied to grow; each stream is dropped once written.
        let mut sizes = packed.compressed.iter();
        let bound: usize = streams
            .iter()
            .flat_map(|s| s.4.iter().map(move |b| (s.1, b)))
            .map(|(inline, b)| {
                let literal = match inline {
                    true => 0,
                    false => sizes
                        .next()
                        .and_then(Option::as_ref)
                        .map_or(b.literal.len(), Vec::len),
                };
                80 + b.checkpoint.len() + literal + b.rans.len()
            })
            .sum::<usize>()
            + 32 * streams.len();
        let mut compressed = packed.compressed.into_iter();
        let mut blobs = Vec::with_capacity(bound);
        let mut starts = Vec::with_capacity(streams.len());
        let mut body = Vec::new();
        for (language, inline, nodes, text_len, blocks) in streams {
            starts.push(blobs.len() as u32);
            let mut part = |out: &mut Vec<u8>, b: &codec::CodedBlock, counts| {
                let header = language | if b.uses_lexicon { LEXICON } else { 0 };
                if inline {
                    out.push(header | INLINE);
                    write_counts(out, counts);
                } else {
                    let compressed = compressed.next().expect("one per stream");
                    let compressed = compressed.as_deref();
                    write_header(out, header, counts, &b.literal, b.segments, compressed);
                }
                out.extend_from_slice(&b.rans);
            };
            if let [whole] = &blocks[..] {
                part(&mut blobs, whole, Some((nodes, text_len)));
                continue;
            }
            // In blocks: the header, the nodes, the index (per block: its first node, its text offset and
            // its body's length, each from the previous block's), then each block's checkpoint and part.
            let lexicon = if blocks.iter().any(|b| b.uses_lexicon) {
                LEXICON
            } else {
                0
            };
            blobs.push(language | BLOCKED | lexicon);
            write_varint(&mut blobs, u64::from(nodes));
            write_varint(&mut blobs, blocks.len() as u64);
            let mut bodies = Vec::new();
            let (mut first, mut pos) = (0, 0);
            for b in &blocks {
                body.clear();
                body.extend_from_slice(&b.checkpoint);
                part(&mut body, b, None);
                write_varint(&mut blobs, u64::from(b.first - first));
                write_varint(&mut blobs, u64::from(b.pos - pos));
                write_varint(&mut blobs, body.len() as u64);
                (first, pos) = (b.first, b.pos);
                bodies.extend_from_slice(&body);
            }
            blobs.extend_from_slice(&bodies);
        }
        drop(compressed);
        drop(body);
        let mut kinds = kinds;
        kinds.compress_lexicon(packed.dictionary.as_deref());
        blobs.shrink_to_fit();
        self.blobs = saved::Bytes::Owned(blobs);
        self.starts = starts;
        self.shared = Some(Shared {
            model,
            kinds,
            dictionary: packed.dictionary.map(saved::Bytes::Owned),
        });
        self.pending = Vec::new();
        self.statuses = self.learn_statuses();
        self.building = QueryStatuses::default();
    }

    fn len(&self) -> usize {
        self.starts.len().max(self.pending.len())
    }

    fn language(&self, file: usize) -> Language {
        let index = match self.edition(file) {
            Some(edition) => edition.language,
            None => self.frozen_blob(file)[0] & 3,
        };
        Language::ALL[usize::from(index)]
    }

    fn text(&self, file: usize) -> Cow<'_, str> {
        let mut thawed = Thawed::default();
        self.thaw(
            file,
            &mut thawed,
            &mut Contexts::default(),
            &mut Decompression::default(),
        );
        Cow::Owned(thawed.text)
    }

    type Version = FrozenVersion;

    fn version(&self, file: usize) -> FrozenVersion {
        assert!(self.shared.is_some(), "versions are taken after finish()");
        FrozenVersion(
            self.edition(file).cloned(),
            self.statuses.owned(file, self.language(file)),
        )
    }

    fn restore(&mut self, file: usize, version: &FrozenVersion) {
        self.set_blob(file, version.0.clone());
        self.statuses.replace(file, version.1.clone());
    }

    fn query_status(&self, file: usize) -> Option<StatusStream<'_>> {
        let language = self.language(file);
        Some(match self.shared {
            Some(_) => self.statuses.get(file, language),
            None => self.building.get(file, language),
        })
    }

    fn replace(
        &mut self,
        file: usize,
        language: Language,
        source: &str,
        tree: tree_sitter::Tree,
    ) -> Result<(), BuildError> {
        if source.len() > u32::MAX as usize {
            return Err(BuildError::Limit(format!(
                "the file has {} bytes; positions are 32-bit",
                source.len()
            )));
        }
        let flat = codec::flatten(&tree, source.len())?;
        let status = match self.shared {
            Some(_) => self.statuses.status_of(language, &tree),
            None => self.building.status_of(language, &tree),
        };
        drop(tree);
        if self.shared.is_none() {
            // Not frozen yet: the file waits for `finish()` like any other (its bound counted again: an upper
            // bound).
            let bound = self.bound + source.len() as u64 + 40 * flat.len() as u64 + 64;
            if bound >= u64::from(EDITED) {
                return Err(BuildError::Limit(
                    "the store's blobs could pass 2 GiB, the limit of its 31-bit offsets".into(),
                ));
            }
            self.bound = bound;
            let cctx = self.staging.get_or_insert_with(staging::compressor);
            self.pending[file] = Pending {
                language: language.index() as u8,
                staged: staging::Staged::new(cctx, source.as_bytes(), &flat),
            };
            self.building.replace(file, status);
            return Ok(());
        }
        let blob = self.freeze_one(file, language, source, &flat);
        drop(flat);
        let edition = Edition {
            depth: 0,
            language: language.index() as u8,
            form: Form::Blob(blob.into_boxed_slice()),
        };
        self.set_blob(file, Some(Arc::new(edition)));
        self.statuses.replace(file, status);
        Ok(())
    }

    /// Writes the new version as a delta against the current one (see `delta.rs`): tree-sitter's new tree is
    /// walked only where something may have changed. Every 8th version in a row (`MAX_CHAIN`), or one whose
    /// delta would take more than `max_ops`, is frozen whole by `replace`.
    fn update(&mut self, file: usize, edit: FileEdit<'_>) -> Result<(), BuildError> {
        if self.shared.is_none() {
            return self.replace(file, edit.language, edit.text, edit.tree);
        }
        let input = edit.input;
        let inserted = edit.text.get(input.start_byte..input.new_end_byte);
        let (base, depth) = match self.edition(file) {
            Some(edition) => (Some(Arc::clone(edition)), edition.depth),
            None => (None, 0),
        };
        let (Some(inserted), true, true) = (
            inserted,
            edit.text.len() <= u32::MAX as usize && input.old_end_byte <= u32::MAX as usize,
            depth + 1 < MAX_CHAIN && self.language(file) == edit.language,
        ) else {
            return self.replace(file, edit.language, edit.text, edit.tree);
        };
        let unchanged = edit.unchanged();
        let Some(ops) = delta::ops(&edit.tree, &unchanged, max_ops(edit.text.len()))? else {
            return self.replace(file, edit.language, edit.text, edit.tree);
        };
        let edition = Edition {
            depth: depth + 1,
            language: edit.language.index() as u8,
            form: Form::Delta(
                base,
                delta::Delta {
                    start: input.start_byte as u32,
                    old_end: input.old_end_byte as u32,
                    inserted: inserted.into(),
                    ops: ops.into_boxed_slice(),
                },
            ),
        };
        self.set_blob(file, Some(Arc::new(edition)));
        self.statuses
            .replace(file, self.statuses.status_of(edit.language, &edit.tree));
        Ok(())
    }

    fn cursor(&self, file: usize) -> FrozenCursor<'_> {
        let mut cursor = FrozenCursor {
            store: self,
            file,
            unit: WHOLE,
            thawed: Thawed::default(),
            held: Vec::new(),
            contexts: Contexts::default(),
            zstd: Decompression::default(),
            index: Vec::new(),
            index_of: usize::MAX,
            nodes: 0,
            current: 0,
            ancestors: Vec::new(),
        };
        let unit = self.unit_of_offset(&mut cursor, file, 0);
        cursor.unit = unit;
        self.thaw_unit(&mut cursor, file, unit, false);
        cursor
    }

    fn reset_cursor<'a>(&'a self, cursor: &mut FrozenCursor<'a>, file: usize) {
        self.seek_unit(cursor, file, 0);
    }

    fn seek<'a>(&'a self, cursor: &mut FrozenCursor<'a>, file: usize, offset: u32) {
        self.seek_unit(cursor, file, offset);
        loop {
            let current = cursor.current;
            let Some(&node) = cursor.thawed.record(current) else {
                return;
            };
            if node.flags & LEAF != 0 {
                return;
            }
            let reaches = |n: &thaw::Node| n.end >= offset && (n.end > offset || n.start == n.end);
            let child = if node.list != NO_LIST && cursor.thawed.nodes_hold(current) {
                // A wide node the thaw holds whole: its children are in the thaw, listed.
                let t = &cursor.thawed;
                let list = node.list as usize;
                let count = t.lists.get(list).map_or(0, |&c| c as usize);
                let children = t.lists.get(list + 1..list + 1 + count).unwrap_or_default();
                let at = children.partition_point(|&c| t.record(c).is_some_and(|n| !reaches(n)));
                children.get(at).copied()
            } else {
                // The first child that can reach `offset`: past the frames a block starts in, the next
                // frame down (the children before it end before the block, so before `offset`), or the
                // block's first node (a child of the deepest frame); else the first child.
                let frames = &cursor.thawed.frames;
                let mut c = match frames.binary_search_by_key(&current, |f| f.0) {
                    Ok(k) => frames.get(k + 1).map_or(cursor.thawed.first, |f| f.0),
                    Err(_) => current + 1,
                };
                loop {
                    if !cursor.reach(c) {
                        break None;
                    }
                    let Some(n) = cursor.thawed.record(c) else {
                        break None;
                    };
                    if reaches(n) {
                        break Some(c);
                    }
                    c = n.next;
                    if c >= node.next {
                        break None;
                    }
                }
            };
            match child.and_then(|c| Some((c, *cursor.thawed.record(c)?))) {
                Some((c, n)) if n.start <= offset => {
                    cursor.ancestors.push(current);
                    cursor.current = c;
                }
                _ => return,
            }
        }
    }
}

impl FrozenStore {
    /// Puts `cursor` on the root of `file`, its current thaw the unit a lookup of `offset` starts in.
    fn seek_unit<'a>(&'a self, cursor: &mut FrozenCursor<'a>, file: usize, offset: u32) {
        if !std::ptr::eq(cursor.store, self) {
            cursor.contexts.forget_model();
            cursor.zstd.ddict = None;
            cursor.held.clear();
            cursor.file = usize::MAX;
            cursor.index_of = usize::MAX;
            cursor.store = self;
        }
        let unit = self.unit_of_offset(cursor, file, offset);
        self.switch(cursor, file, unit);
        cursor.current = 0;
        cursor.ancestors.clear();
    }
}

/// A cursor over one thawed file, or a block of one: its records, and the stack of the current node's
/// ancestors (indices in the file's preorder). Every ancestor of a node of a block is one of the block's
/// nodes or frames, so the current thaw always holds the current node and its ancestors.
pub struct FrozenCursor<'a> {
    store: &'a FrozenStore,
    file: usize,
    /// The block of `file` the current thaw holds, or [`WHOLE`].
    unit: u32,
    thawed: Thawed,
    /// Other files or blocks this cursor thawed last, most recent first (all of them, and the current
    /// one, within the store's thaw budget).
    held: Vec<(usize, u32, Thawed)>,
    /// Context lookups, kept across the files the cursor thaws.
    contexts: Contexts,
    zstd: Decompression<'a>,
    /// The block index of file `index_of` (empty: not coded in blocks), and its node count.
    index: Vec<BlockEntry>,
    index_of: usize,
    nodes: u32,
    current: u32,
    ancestors: Vec<u32>,
}

/// What the cursor reads where its thaw holds no node (a damaged blob): an empty leaf.
const NO_NODE: thaw::Node = thaw::Node {
    start: 0,
    end: 0,
    next: 0,
    list: NO_LIST,
    kind: 0,
    field: 0,
    flags: LEAF,
};

impl FrozenCursor<'_> {
    #[inline]
    fn record(&self) -> &thaw::Node {
        self.thawed.record(self.current).unwrap_or(&NO_NODE)
    }

    /// Makes the current thaw hold node `index` (thawing its block if it does not): whether it does.
    #[inline]
    fn reach(&mut self, index: u32) -> bool {
        self.thawed.record(index).is_some() || self.reach_block(index)
    }

    #[inline(never)]
    fn reach_block(&mut self, index: u32) -> bool {
        let (store, file) = (self.store, self.file);
        match store.unit_of_node(self, file, index) {
            Some(unit) if unit != self.unit => {
                store.switch(self, file, unit);
                self.thawed.record(index).is_some()
            }
            _ => false,
        }
    }
}

/// What a cursor decompresses literal streams with: a context, and the store's dictionary prepared once
/// (a `DDict` borrowing the store's bytes, so that a thaw does not load the dictionary's entropy tables
/// again); both made on first need, and only for a cursor that thaws one file after another for the
/// prepared dictionary (for one file it costs what loading it once does).
#[derive(Default)]
struct Decompression<'a> {
    dctx: Option<DCtx<'static>>,
    ddict: Option<DDict<'a>>,
    many: bool,
}

impl<'a> Decompression<'a> {
    /// Decompresses `frame` into `out` with `dictionary` (the store's, if it has one).
    fn decompress(
        &mut self,
        dictionary: Option<&'a [u8]>,
        out: &mut Vec<u8>,
        frame: &[u8],
    ) -> zstd_safe::SafeResult {
        let dctx = self.dctx.get_or_insert_with(literal::decompressor);
        match dictionary {
            Some(dictionary) if self.many => {
                let ddict = self
                    .ddict
                    .get_or_insert_with(|| DDict::create_by_reference(dictionary));
                dctx.decompress_using_ddict(out, frame, ddict)
            }
            Some(dictionary) => dctx.decompress_using_dict(out, frame, dictionary),
            None => dctx.decompress(out, frame),
        }
    }
}

/// Bytes of thaw buffers a cursor keeps by default ([`FrozenStore::set_thaw_budget`]): the current thaw
/// and the thaws of other files it keeps, so that lookups moving between a few files, large ones among them,
/// do not thaw the large ones again each time. Only thaws of files of at least [`HOLD_FROM`] bytes are kept
/// (a small file thaws again in microseconds, and thawing into its buffers keeps them warm in the cache). A
/// thaw is about 24 bytes per node and the text: 1 MiB holds two or three files of 64 KiB.
pub const DEFAULT_THAW_BUDGET: usize = 1 << 20;
/// The environment variable that sets a new store's thaw budget in bytes (`cargo xtask compare
/// --frozen-thaw-budget BYTES` sets it for its measuring processes); a value that is not a number leaves
/// the default.
pub const THAW_BUDGET_VAR: &str = "CST_FROZEN_THAW_BUDGET";
/// Text bytes from which a cursor keeps a file's thaw when it moves to another file.
const HOLD_FROM: usize = 64 << 10;

impl CstCursor for FrozenCursor<'_> {
    #[inline]
    fn node(&self) -> NodeInfo {
        let n = self.record();
        NodeInfo {
            kind: n.kind,
            field: n.field,
            start: n.start,
            end: n.end,
            missing: n.flags & MISSING != 0,
        }
    }

    fn text(&self) -> Cow<'_, str> {
        let n = self.record();
        let t = &self.thawed;
        let range = n.start.wrapping_sub(t.base) as usize..n.end.wrapping_sub(t.base) as usize;
        if n.start >= t.base {
            if let Some(text) = t.text.get(range.clone()) {
                return Cow::Borrowed(text);
            }
            if let Some(bytes) = t.text.as_bytes().get(range) {
                return String::from_utf8_lossy(bytes);
            }
        }
        // A node that spans blocks: its text from the blocks it spans.
        Cow::Owned(self.store.text_range(self.file, n.start, n.end))
    }

    #[inline]
    fn goto_first_child(&mut self) -> bool {
        if self.record().flags & LEAF != 0 {
            return false;
        }
        let child = self.current + 1;
        if !self.reach(child) {
            return false;
        }
        self.ancestors.push(self.current);
        self.current = child;
        true
    }

    #[inline]
    fn goto_next_sibling(&mut self) -> bool {
        let Some(&parent) = self.ancestors.last() else {
            return false;
        };
        let next = self.record().next;
        let end = self.thawed.record(parent).map_or(0, |p| p.next);
        if next < end && self.reach(next) {
            self.current = next;
            true
        } else {
            false
        }
    }

    #[inline]
    fn goto_parent(&mut self) -> bool {
        match self.ancestors.pop() {
            Some(parent) => {
                self.current = parent;
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Form, Frozen, MAX_CHAIN};
    use cst_measure::{Backend, CstStore, FileEdit, Language};

    /// Edits one definition's name again and again: deltas pile up to [`MAX_CHAIN`] - 1, then a version is
    /// frozen whole, and every version reads back right.
    #[test]
    fn deltas_chain_up_to_the_limit_then_a_blob() {
        let language = Language::Python;
        let body: String = (0..40)
            .map(|i| format!("def f{i}(a):\n    return a + {i}\n"))
            .collect();
        let mut text = format!("def g0():\n    pass\n{body}");
        let mut parser = language.parser();
        let mut tree = parser.parse(&text, None).unwrap();
        let mut store = Frozen::new_store();
        store.add(language, &text, tree.clone()).unwrap();
        store.finish();
        let mut depths = Vec::new();
        for i in 1..=2 * usize::from(MAX_CHAIN) {
            // Replace the name's digits: `g0` -> `g1` -> ... (the name ends at byte 6 or 7).
            let name_end = text.find('(').unwrap();
            let new_text = format!("def g{i}{}", &text[name_end..]);
            let input = tree_sitter::InputEdit {
                start_byte: 5,
                old_end_byte: name_end,
                new_end_byte: 5 + i.to_string().len(),
                start_position: tree_sitter::Point::new(0, 5),
                old_end_position: tree_sitter::Point::new(0, name_end),
                new_end_position: tree_sitter::Point::new(0, 5 + i.to_string().len()),
            };
            tree.edit(&input);
            let new_tree = parser.parse(&new_text, Some(&tree)).unwrap();
            let changed: Vec<tree_sitter::Range> = tree.changed_ranges(&new_tree).collect();
            store
                .update(
                    0,
                    FileEdit {
                        language,
                        old_text: &text,
                        text: &new_text,
                        input,
                        old_tree: &tree,
                        tree: new_tree.clone(),
                        changed: &changed,
                    },
                )
                .unwrap();
            let edition = store.edition(0).expect("edited");
            depths.push(edition.depth);
            assert_eq!(matches!(edition.form, Form::Blob(_)), edition.depth == 0);
            cst_measure::verify::verify_file(&store, 0, language, &new_text, &new_tree)
                .unwrap_or_else(|e| panic!("version {i}: {e}"));
            (text, tree) = (new_text, new_tree);
        }
        let expected: Vec<u8> = (1..=2 * MAX_CHAIN).map(|i| i % MAX_CHAIN).collect();
        assert_eq!(depths, expected);
    }
}
