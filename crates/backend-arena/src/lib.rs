//! Backend `arena`: every file's CST as a bit stream of context-coded preorder records in one byte arena,
//! plus one copy of the source text. Lossless (text byte for byte, tree-sitter's exact visible node sequence
//! with fields, `ERROR` and `MISSING` nodes) and navigable in place: nothing is unpacked per file or per query.
//! Measurements behind the design, and the alternatives tried and not kept, are in `NOTES.md` beside this
//! crate's `Cargo.toml`.
//!
//! # Layout
//!
//! The store ([`ArenaStore`]) owns four allocations, each exactly sized by `finish()`:
//!
//! | what | contents | bytes |
//! | --- | --- | --- |
//! | `text: String` | every file's text, end to end | 1 per source byte |
//! | `streams: Vec<u8>` | every file's stream, end to end, then 8 zero bytes (readers load 8-byte words) | see below |
//! | `text_starts` | where each file's text starts (`u32`) | 4 per file |
//! | `stream_starts` | where each file's stream starts (`u32`) | 4 per file |
//!
//! (Offsets past 4 GiB keep working: the rare indices where the high half grows are listed apart, see
//! `offsets.rs`.) A file's stream is:
//!
//! | part | bytes |
//! | --- | --- |
//! | header: language (bits 0–1), index present (bit 2), bits of padding before the first record (bits 3–5) | 1 |
//! | only if a node has more than 64 children: the index's length (`u32`) and the wide-node index (`wide.rs`) | 4 + 4 + 8 per wide node + 4 + 10 per sample (every 32nd child) |
//! | the records: one per visible node in preorder, bit-packed (most significant bit first), the first after the padding, the last ending the stream's last byte | the sum of the records' bits, / 8 |
//!
//! A record (`codec.rs` has the exact format) is `escape* symbol [gap] [length] [size]`, each part a
//! prefix code:
//!
//! | part | present | bits |
//! | --- | --- | --- |
//! | **symbol** | always | its Huffman code (1 to 12 bits) in the record's **context**: the parent's kind and the previous sibling's kind (none for a first child), which the reader knows from the frames it holds. A symbol stands for kind, field, leaf, last child, the gap mode (0, 1 or coded) and the end mode (a fixed length, the parent's end, or coded). |
//! | **escape** | the symbol is not in the context | the context's escape code (1 to 12 bits), once per wider context tried: the parent's kind alone, then every parent. |
//! | **raw body** | after the last escape | 3 (leaf, last, missing) + 16 (kind) + 1 (+ 16: field) + 1 (sign) + gap + 1 (+ length), numbers raw: 6 bits of bit length and the bits below the leading one. `MISSING` nodes, negative gaps, field ids past 255 and kinds the model lacks come this way. |
//! | **gap** | gap mode coded | start minus the *base* (the parent's start for a first child, the previous sibling's end otherwise): a number of the kind's gap code |
//! | **length** | end mode coded | end minus start: a number of the kind's length code (leaf and inner kinds have their own) |
//! | **size** | inner node, not its parent's last child | the bits of its descendants' records, or 0 for a node of at most [`SKIP_DESCENDANTS`] (16) descendants (a reader that must step past it decodes them): a number of the size code |
//!
//! A number is one of 44 symbols (values 0 to 15 exactly, then one per bit length from 5 to 32 bits) under an
//! 8-bit Huffman code, followed for values of 16 and more by the bits below their leading one. So a
//! keyword or a punctuation token costs its symbol (about 1 to 3 bits, its length being fixed and its gap
//! mostly 0 or 1), an identifier its symbol and a length (about 3 to 6 bits), a last child no length (it
//! ends with its parent) and no size. `cargo run -p backend-arena --release --example record_parts -- DIR`
//! reports the bits per node of each part for any code; `cargo xtask compare` the store's bytes.
//!
//! The models (contexts, their codes, the number codes) are `static` data: trained on code by
//! `examples/gen_tables.rs` into `tables/*.model`, expanded by `build.rs` into tables compiled into the
//! binary, never allocated, and nothing is shared between files. A process pays for the models of the
//! grammars it uses, so they are counted as the row's static bytes ([`Arena::static_bytes`], the
//! `size_of_val` of every array a model reads): 30.2 KB for Python, 41.0 KB for Rust, 37.2 KB for TypeScript
//! and 38.3 KB for TSX (0.11 MB for the built-in corpus's three, against the grammars' own parse tables'
//! 4.4 MB). Per context 8 bytes (its decoding table's descriptor, its first symbol, its symbol count), per
//! decoding slot 2, per symbol 12 (its entry), per kind 4 (the descriptor of its first child's context),
//! per number code 512 (its decoding slots), per pair context 6 and per fallback 4 (their sorted keys). What only the encoder reads (each symbol's code and its next
//! context's id, each number code's 44 codes, each kind's first-child context) is not static: the encoder
//! derives it from the decoding tables (`encode::Tables`, O(symbols + slots), about 8 KB a grammar) into
//! its scratch when a build first encodes the grammar, and an edited store keeps it from its first edit of
//! the grammar on.
//! They are that small because the generator gives table space only to what occurs often enough in the
//! training code (per 1,000,000 bytes of it: a (parent, previous sibling) context 400 times, a symbol 40
//! times in such a context, 20 in its parent's fallback, 1 in the global context, a kind's own number code
//! 4,000 values) and trains each fallback only on what its pair contexts leave to it: see
//! `examples/gen_tables.rs`. A model only makes records shorter: whatever it lacks is escaped, so
//! correctness never depends on it.
//!
//! # Navigation and its costs
//!
//! A cursor ([`ArenaCursor`]) holds a stack of decoded frames (a 32-byte `Frame` of `u32`s: kind and field,
//! start, end, flags, where the node's children and subtree end in the stream, and the context descriptors
//! of its next sibling and first child), the current node on top. **Parents come from that stack, not from
//! a stored link**: the arena stores no parent pointers. The stack never shrinks, so moves decode in place
//! and allocate only when a file is deeper than any before.
//!
//! - `node()`: reads the top frame; no decoding. O(1).
//! - `goto_first_child`: decodes one record (the child's symbol in the context the parent's frame gives,
//!   then at most three numbers). O(1).
//! - `goto_next_sibling`: decodes the record at the current node's subtree end, which its frame holds (a
//!   leaf's record end, an inner node's stored size, a last child has no next sibling). A node of at most
//!   [`SKIP_DESCENDANTS`] descendants stores no size: unless a walk below it has reached its last
//!   descendant (whose end `goto_parent` hands up), its end is found by decoding those few records in
//!   stream order on a stack of frames on the call stack (`codec::small_subtree_end`). O(1) either way: at
//!   most 16 records are decoded to skip a subtree.
//! - `goto_parent`: pops a frame, handing a last child's subtree end to a parent that stores no size. O(1).
//! - `fold_preorder` (what the compare run's full walk reads): decodes the records one after another in
//!   stream order, which is preorder, with a stack of the open parents (16 bytes each: the parent's parent's
//!   kind and end, its next sibling's context and gap base) instead of a cursor's 32-byte frames: no subtree
//!   end is computed or followed, a size is read only to step past it. O(1) per node; one allocation per
//!   file walked (the stack, 32 levels, growing past them).
//! - Each decode reads one table slot (two for codes longer than 5 bits) and one entry per context tried;
//!   escapes are rare and at most three. The record's numbers are taken from the 64 bits its code was read
//!   from while 40 of them are left, so most records load the stream once. A raw record's next contexts
//!   are looked up by binary search in the model (O(log contexts)).
//! - A walk is bound by latency, not instructions: each record waits on the one before it (its position on
//!   the previous record's code and numbers, its context on the previous symbol's entry: three or four
//!   dependent table loads). The instruction counts, the walk's floor on a one-pattern file, and the ways
//!   tried to shorten the chain (none kept) are in `NOTES.md` beside this crate's `Cargo.toml`.
//! - `text()` of a node, `CstStore::text` and `language` of a file: O(1) slices (no copy).
//! - `seek` (node at offset): the descent of [`cst_measure::backend::descend_to_offset`], decoding one
//!   record per child passed at each level (subtrees skipped by their sizes, a small one of at most 16
//!   descendants by decoding them), pushing each level's frame so
//!   that `goto_parent` climbs back to the root. Linear in the children passed for nodes of at most 64
//!   children; for a wider node the scan starts at the last sampled child (every 32nd) whose previous
//!   sibling ends before the offset, found by binary search in the file's wide-node index (over its wide
//!   nodes, then the node's samples): O(log children + 32) at that level. No allocation once the stack
//!   has grown. The answer is that rule's, which is tree-sitter's `descendant_for_byte_range(o, o)` except
//!   where a *hidden* zero-width token sits exactly at `o` (see [`CstStore::native_node_at_offset`]).
//! - A preorder walk decodes every record exactly once.
//!
//! # Limits
//!
//! Per file: at most `u32::MAX` bytes of text (positions are `u32`, as in [`NodeInfo`]), at most
//! `2^32 - 1` nodes, and a stream of at most 536,870,911 bytes (record offsets are `u32` bit offsets). A
//! file over any limit is refused with [`BuildError::Limit`] before anything is stored, and the store stays
//! usable ([`ArenaStore::with_limits`] lowers the text and stream limits for tests). Kinds and fields may be
//! any `u16`. The store as a whole has no size limit.
//!
//! # Building
//!
//! Two passes per file, both iterative (nesting depth is bounded only by memory), in a `bumpalo` scratch
//! arena reset for each file and dropped by `finish()` (`encode.rs`): one `TreeCursor` walk records each
//! node (32 bytes) and chooses its symbol as soon as the node is finished (through
//! [`cst_measure::tree_walk::CountedCursor`], which never asks tree-sitter for a move that would fail: each
//! node's child count, kept in the node, says whether it has a first child and which child is the last) (through a memo of the choices
//! made so far, started once a store has encoded 1,024 nodes: 256 slots of 16 bytes at first, growing
//! fourfold each time the nodes encoded reach 16 per slot, up to 4,096, and never past a 128th of the store's
//! bytes so far (its share of the build's peak: 8 KiB on the built-in corpus); kept across the files of a build
//! and dropped by `finish()`; an edit's encoding, which walks little, has none), then the records are
//! written last to first, so that each inner node's subtree size is known when it is written, into scratch
//! from which they are copied once after the header and index. Appending a file copies its text and
//! stream once; `add` drops the tree-sitter tree it was given (in the compare run only a reference count: the harness
//! holds a second handle and times tree-sitter freeing the tree apart, its *freeing trees* column);
//! `finish()` shrinks every buffer to its length. The buffers grow by a sixteenth of their length at a time
//! (`grow_by`), not by doubling, so that their spare capacity while building stays within a sixteenth of the
//! store, and the scratch takes one chunk per file, sized up front from the file's node count (40
//! bytes a node and 4 KiB), replacing (after freeing) one too small or over twice too large, instead of a
//! chain of doubling chunks. The peak while building is the store so far, its spare sixteenth, the
//! tree-sitter tree of the file being added, that scratch, the memo and the encoder's tables (`examples/
//! build_peak.rs` prints each at the peak). In `compare --edits 0`: built-in 1.30 MB for a store of 1.15 MB
//! (the largest file's tree-sitter peak is 47 kB: within 1.1x their sum, 1.32 MB), real TypeScript 8.46 MB
//! for 4.09 MB (4.30 MB: 9.23 MB), real Rust 10.6 MB for 5.93 MB (5.30 MB: 12.35 MB); with doubling buffers
//! and chunks real Rust took 17.3 MB.
//!
//! The conversion costs one tree-sitter walk through the `CountedCursor` (which makes none of the failing
//! `goto_next_sibling` calls a bare `TreeCursor` walk makes) plus the encoder's own work, about 0.35 to 0.45
//! of a bare walk's time: 1.2x to 1.35x the bare walk in the compare runs of real code. Its breakdown by
//! part (instructions and time) is in `NOTES.md`.
//!
//! The arena is one `Vec<u8>` shrunk to its length: the store owns it and hands out slices of it, in safe
//! Rust, and nothing is allocated per node, at build time or after (why not a `bumpalo::Bump`: `NOTES.md`).
//!
//! Each file's stream is self-contained and position-independent (records hold gaps and lengths, never
//! absolute offsets; only the index holds offsets, of its own file): a file can be moved, copied or
//! replaced without touching any other.
//!
//! # Editing
//!
//! `replace` encodes the new tree into a slot of the file's own, out of the arena: its text, its stream with
//! 8 bytes of padding, and a cell standing for the version, in a hash map that stays unallocated until the
//! first edit. `update` writes the same stream but walks only the path to the edit: a subtree outside the
//! edit and tree-sitter's changed ranges keeps its descendants' records, which are the same bits wherever
//! the subtree moves (records hold gaps and lengths relative to their parent and siblings, contexts come
//! from kinds inside the subtree), so they are copied from the previous stream, found by a descent to the
//! subtree's old range that climbs from the previous find (queries come in document order); its root's
//! record is encoded afresh (gap, size, last-ness may change). Subtrees holding a wide node are walked (the
//! index holds absolute positions), and so are those whose first child repeats their kind and range; a
//! subtree overlapping a node that holds a syntax error, before or after the edit, is walked too (around
//! errors tree-sitter's changed ranges can miss a MISSING node or a token's new kind: the compare run's
//! verification caught both; the nodes taken are the errors' ancestors
//! [`ERROR_DEPTH`](cst_measure::backend::ERROR_DEPTH) levels below the root, or shallower ones:
//! [`cst_measure::Unchanged`]). The file's range of the arena becomes garbage, compacted away when it reaches
//! a quarter of the arena. A version is an `Arc` to a cell; a version kept apart, once the file changes, holds a patch (the bytes of text and
//! stream between the two versions' common prefix and suffix) against the next newer version, and
//! `restore` applies the patches back from the current version, reversing each link (Baker's rerooting):
//! no version is ever held twice. `versions.rs` has the details and costs.

mod buffers;
mod codec;
mod encode;
mod model;
mod offsets;
mod saved;
mod versions;
mod wide;

use buffers::{Bytes, Text, TextRef};
use bumpalo::Bump;
use codec::{Frame, PADDING};
use cst_measure::backend::{FileEdit, Unchanged};
use cst_measure::query_status::{contexts_of, FileStatus, QueryStatuses, StatusStream};
use cst_measure::{Backend, BuildError, CstCursor, CstStore, Language, NodeInfo};
use model::Model;
use offsets::Offsets;
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, Weak};
use versions::{Cell, Edited, FileBytes};
use wide::WideIndex;

/// The arena backend.
pub struct Arena;

/// An inner node with at most this many descendants stores no subtree size (a size of 0 says so): a reader
/// that needs its subtree's end decodes those records instead (see `codec.rs`). Held out by package on the
/// training TypeScript (`gen_tables --holdout-packages --skip-descendants K`), records take 7.354 bits a
/// node with every size stored, 7.102 with K = 4, 6.804 with 8, 6.633 with 12, 6.500 with 16 (with the
/// global context keeping every symbol seen once per MB of training code, 6.223); the node-at-offset
/// lookups pay for it (`NOTES.md`).
pub const SKIP_DESCENDANTS: u32 = 16;

impl Backend for Arena {
    const NAME: &'static str = "arena";
    const RETAINS: &'static str =
        "one exactly-sized byte arena of bit-packed preorder records for all files (with a small index \
         per node of more than 64 children), one copy of all source text, two u32 offsets per file, and \
         each file's query-status companion (cst_measure::query_status: the stream of what a status model \
         learned from the corpus at finish() mispredicts, a u32 start per file, and the model, 16 bytes per \
         context it predicts for); \
         it reads static model tables (the contexts and codes of the grammars the corpus uses, trained on \
         other code and compiled into the binary), counted apart as its static bytes";
    const INCLUDES_SOURCE: bool = true;
    const STATIC_TABLES: &'static str =
        "the trained model of each grammar used (contexts, their symbols and decoding slots, number \
         codes), compiled into the binary: read-only, shared by every store (the encoder derives its \
         codes from the decoding slots while building or editing)";

    /// The sum over `languages` (each counted once) of [`Model::static_bytes`]: the `size_of_val` of
    /// every static array the model reads.
    fn static_bytes(languages: &[Language]) -> u64 {
        static_model_bytes(languages) as u64
    }
    const LOOKUP: &'static str =
        "the descent through the records, decoding one record per child passed at each level and \
         skipping subtrees by their stored sizes (one of at most 16 descendants, which stores none, by \
         decoding them); a node with more than 64 children starts its scan at \
         the last of every 32nd child whose previous sibling ends before the offset (binary search in \
         the file's wide-node index): at most about 32 siblings passed at such a level";
    const UPDATE: &'static str =
        "encodes the edited file's new tree into a slot of its own (its range of the arena becomes garbage, \
         compacted at a quarter of the arena), walking only the path to the edit: every subtree outside the \
         edit and tree-sitter's changed ranges has its descendants' records copied bit for bit from the \
         previous stream (except subtrees overlapping a node that holds a syntax error before or after \
         the edit, 8 levels below the root or shallower: around errors tree-sitter's changed ranges can \
         miss a change); a version kept apart is a patch against the \
         next one (the text and the stream between their common prefix and suffix), restored by applying \
         the patches and reversing them (Baker's rerooting)";
    type Store = ArenaStore;

    fn new_store() -> ArenaStore {
        ArenaStore::with_limits(u32::MAX, u32::MAX)
    }

    /// The buffers as they are in memory (`saved.rs`), opened in place from a mapping.
    const SAVED_FORMAT: Option<u32> = Some(saved::FORMAT);

    /// The model tables' hash: a stream is only readable with the tables it was written with.
    fn saved_tables_hash() -> u64 {
        model::TABLES_HASH
    }

    fn save<'s>(
        store: &'s ArenaStore,
        sections: &mut cst_measure::saved::Sections<'s>,
    ) -> Result<(), String> {
        saved::save(store, sections)
    }

    fn open(opened: &cst_measure::saved::Opened) -> Result<ArenaStore, String> {
        saved::open(opened)
    }
}

/// Bytes of the static model tables of the grammars among `languages` (each counted once), what
/// [`Arena::static_bytes`] reports.
pub fn static_model_bytes(languages: &[Language]) -> usize {
    Language::ALL
        .iter()
        .filter(|l| languages.contains(l))
        .map(|&l| Model::of(l).static_bytes())
        .sum()
}

/// How much to grow a buffer of `len` elements that needs room for `additional` more: what it needs, or a
/// sixteenth of its length if that is more. Growing by a sixteenth instead of doubling keeps a build's spare
/// capacity within a sixteenth of the store (the peak while building about its final size, not twice it),
/// and still takes amortised constant time per byte appended (each growth copies at most the buffer, once
/// per sixteenth it grows; glibc's `realloc` of a large block remaps its pages rather than copying them).
pub(crate) fn grow_by(len: usize, additional: usize) -> usize {
    additional.max(len / 16)
}

/// Makes room in `buffer` for `additional` more bytes, growing it by [`grow_by`].
pub(crate) fn reserve_bounded(buffer: &mut Vec<u8>, additional: usize) {
    if buffer.capacity() - buffer.len() < additional {
        buffer.reserve_exact(grow_by(buffer.len(), additional));
    }
}

/// All files: their texts end to end in one `String`, their streams end to end in one byte arena.
pub struct ArenaStore {
    /// Owned, or borrowed from a saved file's mapping (`buffers.rs`).
    text: Text,
    /// Every file's stream, then [`PADDING`] zero bytes (so that a reader may load 8 bytes anywhere in a
    /// stream). Owned, or borrowed from a saved file's mapping.
    streams: Bytes,
    text_starts: Offsets,
    stream_starts: Offsets,
    /// Encoding scratch (a bump arena reset per file, and the memo of symbol choices), dropped by
    /// `finish()`. Only ever reached through `&mut self` (`Mutex::get_mut`, no locking): the `Mutex` is
    /// there so that the store is `Sync` (a `Bump` is not).
    scratch: Mutex<Option<encode::Scratch>>,
    max_text: u32,
    max_stream: u32,
    /// Files replaced or restored since they were added: their current CST, out of the arena (see
    /// `versions.rs`). Empty, and unallocated, until the first edit.
    edited: HashMap<u32, Edited>,
    /// The cell standing for each file still in the arena of which a version was taken.
    originals: Mutex<HashMap<u32, Weak<Cell>>>,
    /// Bytes of text and streams in the arena that belong to files now in `edited`.
    garbage: u64,
    /// The encoder's tables (derived from the static ones, about 8 KB a grammar) of the grammars edits have
    /// encoded: none until the first edit, then kept so that each edit does not derive them again.
    edit_tables: encode::EncoderTables,
    /// Every file's query-status companion ([`cst_measure::query_status`]), beside its records.
    statuses: QueryStatuses,
}

impl ArenaStore {
    /// An empty store that refuses (with [`BuildError::Limit`]) files longer than `max_text` bytes or whose
    /// stream would exceed `max_stream` bytes. [`Arena::new_store`] uses `u32::MAX` for both (the format's
    /// own limit on a stream is lower: 2^32 bits); lower ones serve tests of the limit path and callers that
    /// bound memory.
    pub fn with_limits(max_text: u32, max_stream: u32) -> ArenaStore {
        ArenaStore {
            text: Text::Owned(String::new()),
            streams: Bytes::Owned(vec![0; PADDING]),
            text_starts: Offsets::default(),
            stream_starts: Offsets::default(),
            scratch: Mutex::new(None),
            max_text,
            max_stream,
            edited: HashMap::new(),
            originals: Mutex::new(HashMap::new()),
            garbage: 0,
            edit_tables: Default::default(),
            statuses: QueryStatuses::default(),
        }
    }

    fn file_text(&self, file: usize) -> TextRef<'_> {
        match self.edited.get(&(file as u32)) {
            Some(edited) => TextRef::Str(&edited.text),
            None => self.arena_text(file),
        }
    }

    /// The file's stream, and the bytes from its start to the end of its buffer (what readers load words
    /// from).
    fn file_stream(&self, file: usize) -> (&[u8], &[u8]) {
        match self.edited.get(&(file as u32)) {
            Some(edited) => (edited.bytes().stream, &edited.stream),
            None => self.arena_stream(file),
        }
    }

    /// The file's current text and stream.
    fn file_bytes(&self, file: usize) -> FileBytes<'_> {
        FileBytes {
            text: self.file_text(file).as_bytes(),
            stream: self.file_stream(file).0,
        }
    }

    /// The file's range of the arena's text (empty or stale once the file is edited).
    fn arena_text(&self, file: usize) -> TextRef<'_> {
        let start = self.text_starts.get(file) as usize;
        let end = if file + 1 < self.len() {
            self.text_starts.get(file + 1) as usize
        } else {
            self.text.len()
        };
        self.text.range(start, end)
    }

    /// The file's range of the arena's streams, and the arena from its start to the end.
    fn arena_stream(&self, file: usize) -> (&[u8], &[u8]) {
        let start = self.stream_starts.get(file) as usize;
        let end = if file + 1 < self.len() {
            self.stream_starts.get(file + 1) as usize
        } else {
            self.streams.len() - PADDING
        };
        (&self.streams[start..end], &self.streams[start..])
    }

    /// Makes `edited` file `file`'s current CST. A file leaving the arena leaves its range there as
    /// garbage, compacted away once it reaches a quarter of the arena.
    /// The cell standing for file `file`'s current version (see `versions.rs`).
    fn version_cell(&self, file: usize) -> Arc<Cell> {
        if let Some(edited) = self.edited.get(&(file as u32)) {
            return Arc::clone(&edited.cell);
        }
        let mut originals = self
            .originals
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let slot = originals.entry(file as u32).or_default();
        slot.upgrade().unwrap_or_else(|| {
            let cell = Arc::new(Cell::current());
            *slot = Arc::downgrade(&cell);
            cell
        })
    }

    /// Makes the version `version` stands for file `file`'s current one.
    fn restore_cell(&mut self, file: usize, version: &Arc<Cell>) {
        let current = self
            .current_cell(file)
            .expect("arena: restore of a version that is not of this file");
        if let Some((text, stream)) = versions::reroot(version, &current, self.file_bytes(file)) {
            self.install(
                file,
                Edited {
                    text,
                    stream,
                    cell: Arc::clone(version),
                },
            );
        }
    }

    fn install(&mut self, file: usize, edited: Edited) {
        if self.edited.insert(file as u32, edited).is_none() {
            let (stream, _) = self.arena_stream(file);
            self.garbage += (self.arena_text(file).len() + stream.len()) as u64;
            self.originals
                .get_mut()
                .unwrap_or_else(PoisonError::into_inner)
                .remove(&(file as u32));
            if self.garbage * 4 > (self.text.len() + self.streams.len()) as u64 {
                self.compact();
            }
        }
    }

    /// Rebuilds the arena without the ranges of edited files (each keeps an empty range).
    fn compact(&mut self) {
        let live = |store: &ArenaStore, f: usize| !store.edited.contains_key(&(f as u32));
        let text_bytes: usize = (0..self.len())
            .filter(|&f| live(self, f))
            .map(|f| self.arena_text(f).len())
            .sum();
        let stream_bytes: usize = (0..self.len())
            .filter(|&f| live(self, f))
            .map(|f| self.arena_stream(f).0.len())
            .sum();
        let mut text = String::with_capacity(text_bytes);
        let mut streams = Vec::with_capacity(stream_bytes + PADDING);
        let mut text_starts = Offsets::default();
        let mut stream_starts = Offsets::default();
        for f in 0..self.len() {
            text_starts.push(text.len() as u64);
            stream_starts.push(streams.len() as u64);
            if live(self, f) {
                text.push_str(&self.arena_text(f).to_cow());
                streams.extend_from_slice(self.arena_stream(f).0);
            }
        }
        streams.resize(streams.len() + PADDING, 0);
        text_starts.shrink_to_fit();
        stream_starts.shrink_to_fit();
        self.text = Text::Owned(text);
        self.streams = Bytes::Owned(streams);
        self.text_starts = text_starts;
        self.stream_starts = stream_starts;
        self.garbage = 0;
    }

    /// The cell standing for file `file`'s current version, if there is one.
    fn current_cell(&mut self, file: usize) -> Option<Arc<Cell>> {
        match self.edited.get(&(file as u32)) {
            Some(edited) => Some(Arc::clone(&edited.cell)),
            None => self
                .originals
                .get_mut()
                .unwrap_or_else(PoisonError::into_inner)
                .get(&(file as u32))
                .and_then(Weak::upgrade),
        }
    }

    /// A cursor's view of `file`, on its root.
    fn view(&self, file: usize) -> View<'_> {
        let (stream, bytes) = self.file_stream(file);
        let text = self.file_text(file);
        let model = Model::of(Language::ALL[usize::from(stream[0] & 3)]);
        let (index, records) = WideIndex::of(stream);
        let above = Frame::above_root(text.len() as u32, records, stream.len() as u32 * 8, model);
        let root = codec::decoded(bytes, records, model.root_descriptor, 0, &above, model);
        View {
            bytes,
            text,
            model,
            index,
            above,
            root,
        }
    }
}

/// The bits each part of a file's records takes, as the encoder writes them: for the report's accounting
/// of where the bytes go (not part of the backend's interface).
#[doc(hidden)]
#[derive(Clone, Debug, Default)]
pub struct RecordParts {
    /// Every coded part as (what: 0 symbol, 1 gap, 2 length, 3 size; the context or number code; the entry
    /// or the value; the node's kind): for the accounting of codes adapted to a corpus.
    pub counts: Vec<(u8, u32, u32, u16)>,
    pub nodes: u64,
    pub leaves: u64,
    /// Escapes to wider contexts (and to raw records).
    pub escape_bits: u64,
    /// Symbols (kind, field, leaf, last, gap and end modes).
    pub symbol_bits: u64,
    /// Raw records' bodies (sizes excluded).
    pub raw_bits: u64,
    pub raw_records: u64,
    pub gap_bits: u64,
    pub leaf_length_bits: u64,
    pub inner_length_bits: u64,
    pub size_bits: u64,
    /// The header byte and the padding to a whole byte after the last record.
    pub header_bits: u64,
    /// The wide-node index with its length word.
    pub index_bytes: u64,
}

impl RecordParts {
    /// The accounting of one file's records (its tree is converted and thrown away).
    pub fn of(
        language: Language,
        source: &str,
        tree: &tree_sitter::Tree,
    ) -> Result<RecordParts, BuildError> {
        encode::part_bits(&Bump::new(), language, source.len() as u32, tree)
    }

    /// Adds another file's accounting.
    pub fn add(&mut self, other: &RecordParts) {
        self.nodes += other.nodes;
        self.leaves += other.leaves;
        self.escape_bits += other.escape_bits;
        self.symbol_bits += other.symbol_bits;
        self.raw_bits += other.raw_bits;
        self.raw_records += other.raw_records;
        self.gap_bits += other.gap_bits;
        self.leaf_length_bits += other.leaf_length_bits;
        self.inner_length_bits += other.inner_length_bits;
        self.size_bits += other.size_bits;
        self.header_bits += other.header_bits;
        self.index_bytes += other.index_bytes;
        self.counts.extend_from_slice(&other.counts);
    }
}

/// What a store being built holds beyond its contents, in bytes (for `examples/build_peak.rs`; not part of
/// the backend's interface): the spare capacity of its text and streams, and its encoder's scratch (the
/// bump arena's chunks and the memo of symbol choices).
#[doc(hidden)]
#[derive(Clone, Copy, Debug, Default)]
pub struct BuildSpare {
    pub text_spare: usize,
    pub streams_spare: usize,
    pub scratch_chunks: usize,
    pub memo: usize,
}

impl ArenaStore {
    /// See [`BuildSpare`].
    #[doc(hidden)]
    pub fn build_spare(&mut self) -> BuildSpare {
        let (text_spare, streams_spare) = match (&mut self.text, &mut self.streams) {
            (Text::Owned(text), Bytes::Owned(streams)) => (
                text.capacity() - text.len(),
                streams.capacity() - streams.len(),
            ),
            _ => (0, 0),
        };
        let (scratch_chunks, memo) = self
            .scratch
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .as_mut()
            .map_or((0, 0), |s| s.bytes());
        BuildSpare {
            text_spare,
            streams_spare,
            scratch_chunks,
            memo,
        }
    }
}

/// What a cursor holds of its file.
struct View<'a> {
    bytes: &'a [u8],
    text: TextRef<'a>,
    model: &'static Model,
    index: WideIndex<'a>,
    above: Frame,
    root: Frame,
}

impl CstStore for ArenaStore {
    type Cursor<'a> = ArenaCursor<'a>;

    fn add(
        &mut self,
        language: Language,
        source: &str,
        tree: tree_sitter::Tree,
    ) -> Result<(), BuildError> {
        self.check_text(source)?;
        let scratch = self
            .scratch
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .get_or_insert_with(encode::Scratch::new);
        scratch.bump.reset();
        scratch.memo_budget = (self.text.len() + self.streams.len()) / encode::MEMO_SHARE;
        // The stream goes where the padding was; the padding goes back after it (or stays, on failure).
        let streams = self.streams.to_mut();
        let start = streams.len() - PADDING;
        streams.truncate(start);
        let encoded = encode::encode(
            scratch,
            language,
            source.len() as u32,
            &tree,
            u64::from(self.max_stream),
            streams,
        );
        streams.resize(streams.len() + PADDING, 0);
        encoded?;
        self.statuses.push(language, &tree);
        drop(tree);
        self.text_starts.push(self.text.len() as u64);
        let text = self.text.to_mut();
        if text.capacity() - text.len() < source.len() {
            text.reserve_exact(grow_by(text.len(), source.len()));
        }
        text.push_str(source);
        self.stream_starts.push(start as u64);
        Ok(())
    }

    fn finish(&mut self) {
        *self
            .scratch
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner) = None;
        self.text.shrink_to_fit();
        self.streams.shrink_to_fit();
        self.text_starts.shrink_to_fit();
        self.stream_starts.shrink_to_fit();
        let mut statuses = std::mem::take(&mut self.statuses);
        statuses.learn(self.len(), |f| (self.language(f), contexts_of(self, f)));
        self.statuses = statuses;
    }

    fn len(&self) -> usize {
        self.text_starts.len()
    }

    fn language(&self, file: usize) -> Language {
        Language::ALL[usize::from(self.file_stream(file).0[0] & 3)]
    }

    fn text(&self, file: usize) -> Cow<'_, str> {
        self.file_text(file).to_cow()
    }

    /// An `Arc` to the version's cell (see `versions.rs`): the current version costs nothing more; a version
    /// kept apart, once the file has changed, holds a patch against the next one. Beside it, a copy of the
    /// file's query-status companion.
    type Version = (Arc<Cell>, FileStatus);

    fn version(&self, file: usize) -> (Arc<Cell>, FileStatus) {
        (self.version_cell(file), self.statuses.owned(file))
    }

    fn restore(&mut self, file: usize, version: &(Arc<Cell>, FileStatus)) {
        self.restore_cell(file, &version.0);
        self.statuses.restore(file, &version.1);
    }

    fn query_status(&self, file: usize) -> Option<StatusStream<'_>> {
        Some(self.statuses.get(file, self.language(file)))
    }

    /// Encodes the file's new tree whole; the previous version, if kept, becomes a patch against the new one.
    fn replace(
        &mut self,
        file: usize,
        language: Language,
        source: &str,
        tree: tree_sitter::Tree,
    ) -> Result<(), BuildError> {
        self.check_text(source)?;
        // A scratch arena of its own, dropped at once: an edited store keeps no encoder memory but the
        // encoder's tables.
        let mut stream = Vec::new();
        let mut scratch = encode::Scratch::with_tables(std::mem::take(&mut self.edit_tables));
        let encoded = encode::encode(
            &mut scratch,
            language,
            source.len() as u32,
            &tree,
            u64::from(self.max_stream),
            &mut stream,
        );
        self.edit_tables = scratch.into_tables();
        encoded?;
        self.statuses
            .replace(file, self.statuses.status_of(language, &tree));
        drop(tree);
        self.put(file, source, stream);
        Ok(())
    }

    /// Encodes the new tree like `replace`, but takes the records of every subtree that did not change
    /// ([`Unchanged`]: outside the edit, tree-sitter's changed ranges and the nodes holding syntax errors)
    /// from the previous stream (found by a descent to its range), so that only the path to the edit is
    /// walked and encoded.
    fn update(&mut self, file: usize, edit: FileEdit<'_>) -> Result<(), BuildError> {
        if edit.text.len() as u64 > u64::from(self.max_text) || self.language(file) != edit.language
        {
            return self.replace(file, edit.language, edit.text, edit.tree);
        }
        let unchanged = edit.unchanged();
        let FileEdit {
            language,
            text,
            tree,
            ..
        } = edit;
        let mut stream = Vec::new();
        let mut scratch = encode::Scratch::with_tables(std::mem::take(&mut self.edit_tables));
        let encoded = {
            let mut cursor = self.cursor(file);
            let old = cursor.bytes;
            let mut find = |kind: u16, start: u32, end: u32| {
                reusable(&mut cursor, &unchanged, kind, start, end)
            };
            encode::encode_reusing(
                &mut scratch,
                language,
                text.len() as u32,
                &tree,
                u64::from(self.max_stream),
                &mut stream,
                encode::Reuse {
                    old,
                    find: &mut find,
                },
            )
        };
        self.edit_tables = scratch.into_tables();
        encoded?;
        self.statuses
            .replace(file, self.statuses.status_of(language, &tree));
        drop(tree);
        self.put(file, text, stream);
        Ok(())
    }

    fn cursor(&self, file: usize) -> ArenaCursor<'_> {
        let view = self.view(file);
        let mut frames = Vec::with_capacity(32);
        frames.extend([view.above, view.root]);
        ArenaCursor {
            bytes: view.bytes,
            text: view.text,
            model: view.model,
            index: view.index,
            frames,
            depth: 1,
        }
    }

    fn reset_cursor<'a>(&'a self, cursor: &mut ArenaCursor<'a>, file: usize) {
        let view = self.view(file);
        cursor.bytes = view.bytes;
        cursor.text = view.text;
        cursor.model = view.model;
        cursor.index = view.index;
        cursor.frames[0] = view.above;
        cursor.frames[1] = view.root;
        cursor.depth = 1;
    }

    /// Decodes the file's records one after another, in stream order (which is preorder), with a stack of
    /// the open parents' kinds and ends instead of a cursor's frames: no subtree end is kept or followed.
    fn fold_preorder<A>(
        &self,
        file: usize,
        init: A,
        mut f: impl FnMut(A, u32, NodeInfo) -> A,
    ) -> A {
        let (stream, bytes) = self.file_stream(file);
        let model = Model::of(Language::ALL[usize::from(stream[0] & 3)]);
        let (_, records) = WideIndex::of(stream);
        let text_len = self.file_text(file).len() as u32;
        codec::Preorder::new(bytes, records, text_len, model)
            .fold(init, |acc, (depth, node)| f(acc, depth, node))
    }

    fn seek<'a>(&'a self, cursor: &mut ArenaCursor<'a>, file: usize, offset: u32) {
        self.reset_cursor(cursor, file);
        while let Some(child) = cursor.step_toward(offset) {
            cursor.push(child);
        }
    }
}

/// Where the descendants' records of the new node (`kind`, `start..end`) are in the file's previous stream
/// (`cursor`'s), if nothing in the node can have changed ([`Unchanged::old_range`]), its old node is found
/// by a descent to its old range, it is an inner node whose first child does not repeat its kind and range (so that the
/// descent cannot stop one level short), and no wide node is among its descendants.
fn reusable(
    cursor: &mut ArenaCursor<'_>,
    unchanged: &Unchanged<'_>,
    kind: u16,
    start: u32,
    end: u32,
) -> Option<(u32, u32)> {
    let old_range = unchanged.old_range(start as usize, end as usize)?;
    let (old_start, old_end) = (
        u32::try_from(old_range.0).ok()?,
        u32::try_from(old_range.1).ok()?,
    );
    // Queries come in document order: climb from the last answer to the first node that holds the range,
    // then descend (amortised over a walk, not a descent from the root per query).
    while cursor.depth > 1 {
        let node = cursor.current();
        if node.start <= old_start && node.end >= old_end {
            break;
        }
        cursor.depth -= 1;
    }
    loop {
        let node = *cursor.current();
        if node.start == old_start && node.end == old_end && node.kind_field as u16 == kind {
            // A subtree of at most `SKIP_DESCENDANTS` descendants is walked: its root's record stores no size,
            // which a copy (that does not count them) would store. A larger one's end is known: no sized
            // ancestor stands between it and a sized node or the root.
            if node.is_leaf()
                || codec::small_subtree_end(cursor.bytes, &node, cursor.model).is_some()
                || cursor.index.any_in(node.children, node.subtree_end)
            {
                return None;
            }
            let first = cursor.step_toward(old_start)?;
            if first.kind_field as u16 == kind && first.start == old_start && first.end == old_end {
                return None;
            }
            return Some((node.children, node.subtree_end - node.children));
        }
        if node.start > old_start || node.end < old_end {
            return None;
        }
        let child = cursor.step_toward(old_start)?;
        cursor.push(child);
    }
}

impl ArenaStore {
    /// Refuses a text longer than the store's limit.
    fn check_text(&self, source: &str) -> Result<(), BuildError> {
        if source.len() as u64 > u64::from(self.max_text) {
            return Err(BuildError::Limit(format!(
                "the file has {} bytes; this store holds files up to {} bytes (32-bit positions)",
                source.len(),
                self.max_text
            )));
        }
        Ok(())
    }

    /// Makes `source` and its encoded `stream` file `file`'s current version; the previous one, if kept,
    /// becomes a patch against it.
    fn put(&mut self, file: usize, source: &str, mut stream: Vec<u8>) {
        stream.resize(stream.len() + PADDING, 0);
        let edited = Edited::new(source.into(), stream.into_boxed_slice());
        if let Some(old) = self.current_cell(file) {
            // Held by more than the store (its slot and `old`, or `old` alone for a file in the arena).
            let store_refs = if self.edited.contains_key(&(file as u32)) {
                2
            } else {
                1
            };
            if Arc::strong_count(&old) > store_refs {
                versions::succeed(&old, &self.file_bytes(file), &edited.cell, &edited.bytes());
            }
        }
        self.install(file, edited);
    }
}

/// A cursor over one file: the decoded frames of the current node and of its ancestors.
pub struct ArenaCursor<'a> {
    /// The arena from the file's stream on (readers load 8-byte words anywhere in the stream).
    bytes: &'a [u8],
    text: TextRef<'a>,
    model: &'static Model,
    index: WideIndex<'a>,
    /// `frames[..=depth]` is `[frame above the root, root, ..., parent, current node]`; frames past
    /// `depth` are left over from deeper nodes visited before (the stack never shrinks, so moves write
    /// frames in place and allocate only when a file is deeper than any before).
    frames: Vec<Frame>,
    depth: usize,
}

impl ArenaCursor<'_> {
    #[inline(always)]
    fn current(&self) -> &Frame {
        &self.frames[self.depth]
    }

    /// Makes room for a child of the current node and returns its frame.
    #[inline(always)]
    fn child_slot(&mut self) -> &mut Frame {
        let depth = self.depth + 1;
        if depth == self.frames.len() {
            self.frames.push(Frame::default());
        }
        self.depth = depth;
        &mut self.frames[depth]
    }

    fn push(&mut self, frame: Frame) {
        *self.child_slot() = frame;
    }

    /// One level of [`cst_measure::backend::descend_to_offset`] from the current node: the child to descend
    /// into for `offset`, or `None` if the current node is the answer. A wide node's scan starts at the
    /// last sampled child before `offset`.
    #[inline]
    fn step_toward(&self, offset: u32) -> Option<Frame> {
        let node = self.current();
        if node.is_leaf() {
            return None;
        }
        let parent = node;
        let (at, context, base) = match self.index.scan_from(node.children, offset) {
            Some(sample) => (
                sample.at,
                self.model.descriptor(sample.context),
                sample.base,
            ),
            None => (node.children, node.child, node.start),
        };
        let mut child = codec::decoded(self.bytes, at, context, base, parent, self.model);
        loop {
            let (start, end) = (child.start, child.end);
            if end >= offset && (end > offset || start == end) {
                return (start <= offset).then_some(child);
            }
            if child.is_last() {
                return None;
            }
            child = codec::decoded(
                self.bytes,
                codec::subtree_end(self.bytes, &child, self.model),
                child.next,
                end,
                parent,
                self.model,
            );
        }
    }
}

impl CstCursor for ArenaCursor<'_> {
    #[inline]
    fn node(&self) -> NodeInfo {
        self.current().info()
    }

    fn text(&self) -> Cow<'_, str> {
        let node = self.current();
        self.text.slice(node.start as usize, node.end as usize)
    }

    #[inline]
    fn goto_first_child(&mut self) -> bool {
        if self.current().is_leaf() {
            return false;
        }
        let depth = self.depth;
        if depth + 1 == self.frames.len() {
            self.frames.push(Frame::default());
        }
        self.depth = depth + 1;
        let (above, below) = self.frames.split_at_mut(depth + 1);
        let node = &above[depth];
        let (at, context, base) = (node.children, node.child, node.start);
        codec::decode(
            self.bytes,
            at,
            context,
            base,
            node,
            self.model,
            &mut below[0],
        );
        true
    }

    #[inline]
    fn goto_next_sibling(&mut self) -> bool {
        let depth = self.depth;
        // The root has no siblings (the frame above it is not a parent to step within).
        if depth <= 1 || self.frames[depth].is_last() {
            return false;
        }
        // A node that is not last is a leaf (its subtree ends with its record) or has a stored size.
        let (above, below) = self.frames.split_at_mut(depth);
        let node = &mut below[0];
        let at = codec::subtree_end(self.bytes, node, self.model);
        let (context, base) = (node.next, node.end);
        codec::decode(
            self.bytes,
            at,
            context,
            base,
            &above[depth - 1],
            self.model,
            node,
        );
        true
    }

    #[inline]
    fn goto_parent(&mut self) -> bool {
        let depth = self.depth;
        if depth <= 1 {
            return false;
        }
        // A last child's end is its parent's: tell a parent that stores no size (a walk that goes on to its
        // next sibling then decodes nothing twice).
        let (child, parent) = (self.frames[depth], &mut self.frames[depth - 1]);
        if child.is_last() && parent.subtree_end == codec::UNKNOWN {
            parent.subtree_end = child.subtree_end;
        }
        self.depth = depth - 1;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small subtree that is not its parent's last child stores no size: its frame's end is unknown until a
    /// reader steps past it (by decoding its records) or a walk below it climbs back (from its last child),
    /// and both reach the same next sibling.
    #[test]
    fn a_small_subtree_stores_no_size_and_both_ways_past_it_agree() {
        let text = "f(a, b)\ng(c)\n";
        let mut store = Arena::new_store();
        store
            .add(Language::Python, text, Language::Python.parse(text))
            .unwrap();
        store.finish();
        // Stepping past it: its end is found by decoding its descendants.
        let mut past = store.cursor(0);
        assert!(past.goto_first_child());
        assert_eq!(past.current().subtree_end, codec::UNKNOWN);
        assert!(past.goto_next_sibling());
        // Walking below it to its last descendant and climbing back: the end is handed up.
        let mut below = store.cursor(0);
        assert!(below.goto_first_child());
        let statement = below.depth;
        while below.goto_first_child() {
            while below.goto_next_sibling() {}
        }
        while below.depth > statement {
            assert!(below.goto_parent());
        }
        assert_ne!(below.current().subtree_end, codec::UNKNOWN);
        assert!(below.goto_next_sibling());
        assert_eq!(below.node(), past.node());
        assert_eq!(below.node().start, 8);
    }

    /// An update copies the unchanged subtrees' records, and the stream it writes is the one a full encode of
    /// the new tree writes, byte for byte.
    #[test]
    fn an_update_copies_most_records_and_writes_the_full_encoding() {
        let (copies, copied_bits, full_bits) = update_and_count("x = 1\n", false);
        assert!(copies >= 190, "{copies} subtrees copied");
        // All but the module's and the 201 statements' own records (about 80% here).
        assert!(
            copied_bits * 4 > full_bits * 3,
            "{copied_bits} of {full_bits} bits"
        );
    }

    /// In a file with a syntax error away from the edit, the subtrees around the error are walked and the
    /// rest still copied, and the stream is still the full encoding's.
    #[test]
    fn an_update_in_a_file_with_a_syntax_error_walks_only_around_it() {
        let (_, clean_bits, _) = update_and_count("x = 1\n", false);
        let (copies, copied_bits, full_bits) = update_and_count("x = 1\n", true);
        // The broken definition's own records are encoded afresh, not copied whole.
        assert!(
            copied_bits < clean_bits,
            "{copied_bits} bits copied, {clean_bits} without the error"
        );
        assert!(copies >= 190, "{copies} subtrees copied");
        assert!(
            copied_bits * 2 > full_bits,
            "{copied_bits} of {full_bits} bits"
        );
    }

    /// Updates a 200-function file (broken or not, see [`texts`]) by inserting `inserted` in the middle, checks the stream against a full
    /// encode and the store against the new tree, and returns the subtrees and bits copied, and the full
    /// stream's bits.
    fn update_and_count(inserted: &str, broken: bool) -> (usize, u64, u64) {
        let edit = cst_measure::fixtures::InsertionEdit::new(200, inserted, broken);
        let (language, new_text, new_tree) = (Language::Python, &edit.new_text, &edit.new_tree);
        let mut store = Arena::new_store();
        store
            .add(language, &edit.old_text, edit.old_parse.clone())
            .unwrap();
        store.finish();
        let unchanged = edit.file_edit().unchanged();

        // What the update's walk takes from the old stream.
        let (mut copies, mut copied_bits) = (0, 0u64);
        let mut stream = Vec::new();
        {
            let mut cursor = store.cursor(0);
            let old = cursor.bytes;
            let mut find = |kind: u16, start: u32, end: u32| {
                let found = reusable(&mut cursor, &unchanged, kind, start, end);
                if let Some((_, bits)) = found {
                    copies += 1;
                    copied_bits += u64::from(bits);
                }
                found
            };
            encode::encode_reusing(
                &mut encode::Scratch::new(),
                language,
                new_text.len() as u32,
                new_tree,
                u64::MAX,
                &mut stream,
                encode::Reuse {
                    old,
                    find: &mut find,
                },
            )
            .unwrap();
        }
        let mut full = Vec::new();
        encode::encode(
            &mut encode::Scratch::new(),
            language,
            new_text.len() as u32,
            new_tree,
            u64::MAX,
            &mut full,
        )
        .unwrap();
        assert_eq!(stream, full);

        // Through the store: the same stream, and the file reads back as the new text and tree.
        store.update(0, edit.file_edit()).unwrap();
        assert_eq!(store.file_stream(0).0, &full[..]);
        cst_measure::verify::verify_file(&store, 0, language, new_text, new_tree).unwrap();
        (copies, copied_bits, full.len() as u64 * 8)
    }
}
