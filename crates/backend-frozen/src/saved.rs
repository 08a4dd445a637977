//! Frozen's saved form: the store's plain buffers as sections (`cst_measure::saved` has the container:
//! header, checksums, files), the blobs read in place from the mapping, which cursors thaw from.
//!
//! | tag | section | bytes | at open |
//! | --- | --- | --- | --- |
//! | 16 | every file's blob, end to end (the store's `blobs`) | the blobs' | borrowed from the mapping |
//! | 17 | where each file's blob starts (`u32`) | 4 per file | read into the store's `starts` (4 bytes of heap per file) |
//! | 18 | the model: `wild_a`, slot and entry counts, the slots, the entries' values and frequencies (`Model::to_section`) | 12, 8 per slot, 6 per entry | decoded and checked |
//! | 19 | the kinds: default texts, classes, the lexicon (its texts plain or as a zstd frame) (`Kinds::to_section`) | about the kinds' own | decoded and checked |
//! | 20 | the literal streams' zstd dictionary, if the store has one | its size | borrowed from the mapping, loaded once into a zstd context to check it |
//! | 21 | the query-status companion (`statuses.rs`): the length (LEB128) of its model buffer (per language its coded model, then per language its stream code, each with its length) and the buffer, a bit per file (whether it has exceptions), the coded stream length of each file with exceptions (LEB128) and the coded streams end to end | about 4 per model entry, a bit per file, about 2 per exception | copied; every part decoded and checked (then dropped), every length checked, the streams exactly the rest and each decoded once with its language's code |
//!
//! The plain buffers (16 and 17, and any other buffer the store keeps beside them) are listed once, in
//! [`plain_buffers!`]: one more buffer is one more line there, with its tag and its field (whose type
//! implements [`Plain`]), and its structure checked in [`check_structure`].
//!
//! A store with files edited since `finish()` is saved as its current versions: each edited file is
//! re-frozen whole from a fresh parse of its current text (a tolerant blob against the store's model, kinds
//! and dictionary, as an update that re-freezes does), and the blobs are laid end to end again; versions
//! kept apart are not saved. A store not finished is refused.
//!
//! # What open checks
//!
//! Everything decoded at open is checked before it is used, so that no later read of it can panic, read out
//! of bounds, loop forever or allocate by an unchecked length, whatever the bytes: the model (its section's
//! length against its counts before anything is allocated, every table's frequencies summing to
//! `1 << 15`, every context's table start a table's, a free slot for lookups to end at), the kinds
//! (counts within the section, classes, default texts and lexicon ranges in bounds, checkpoints right), the
//! starts (rising from 0 within the blobs, every blob at least its header byte, offsets below 2^31), each
//! blob's header (its language the files section's, no unknown flag; a whole blob's recorded text length the
//! file's size and its node count at most [`MAX_NODES_PER_BYTE`] per byte of it; its varint lengths inside
//! the blob, its literal length at most the file's size) and the dictionary (zstd loads it). O(the sections' size plus the
//! files), no thaw. The rest of a blob (its rANS and zstd streams) is not decoded at open, which would cost
//! a thaw of every file: the checksums guarantee that it is the bytes a save wrote; a thaw of a forged
//! stream reads only in bounds (the rANS decoder reads past its end as 1s, zstd refuses a bad frame) and
//! gives a wrong tree, which verification reports. A whole blob records its node count and text length
//! (checked here against the file's size), and a thaw stops, thawing nothing, when its stream would open
//! more nodes or make more text than that: a stream forged to keep opening nodes takes at most about 24
//! bytes per recorded node and the text's length, never the machine's memory. (A block's thaw stops at its
//! block's node count, from the block index; its text is bounded by its nodes' and not checked further.)
//!
//! Costs: saving borrows every section but the model's and kinds' (encoded, about their heap size) and the
//! starts (4 bytes a file); opening allocates the starts, the model and the kinds (their heap sizes, as a
//! built store holds them), nothing per blob byte.

use crate::codec::{Flat, Kinds};
use crate::model::Model;
use crate::{FrozenStore, Shared, BLOCKED, COMPRESSED, EDITED, INLINE, LEXICON, TOLERANT};
use cst_measure::saved::{Opened, Sections, SharedBytes};
use cst_measure::{CstStore, Language};
use std::borrow::Cow;
use std::ops::Deref;

const BLOBS: u32 = 16;
const STARTS: u32 = 17;
const MODEL: u32 = 18;
const KINDS: u32 = 19;
const DICTIONARY: u32 = 20;
const STATUSES: u32 = 21;

/// The version of this layout (the header records it): 5 since section 21 holds the query-status model
/// coded and a varint length per file (4: the model as 16-byte entries and a `u64` length per file).
pub(crate) const FORMAT: u32 = 5;

/// Most nodes a whole blob may record per byte of its file, counting one byte more (tree-sitter's trees
/// have fewer than one per byte but for zero-width nodes: MISSING leaves and empty inner nodes, which this
/// allows many of). A larger count is refused at open.
pub const MAX_NODES_PER_BYTE: u64 = 16;

/// The store's plain buffers: `$each!(tag, field)` for each. One more buffer is one more line.
macro_rules! plain_buffers {
    ($each:ident) => {
        $each!(BLOBS, blobs);
        $each!(STARTS, starts);
    };
}

/// Bytes owned (a store built in memory) or borrowed from a saved file's mapping (a store opened from it),
/// read through the same slice either way.
pub(crate) enum Bytes {
    Owned(Vec<u8>),
    Mapped(SharedBytes),
}

impl Default for Bytes {
    fn default() -> Bytes {
        Bytes::Owned(Vec::new())
    }
}

impl Bytes {
    /// What the bytes hold on the heap (none when mapped: the file's pages are shown beside the store).
    pub(crate) fn heap_bytes(&self) -> usize {
        match self {
            Bytes::Owned(owned) => owned.capacity(),
            Bytes::Mapped(_) => 0,
        }
    }
}

impl Deref for Bytes {
    type Target = [u8];
    #[inline]
    fn deref(&self) -> &[u8] {
        match self {
            Bytes::Owned(owned) => owned,
            Bytes::Mapped(mapped) => mapped,
        }
    }
}

/// A plain buffer of the store, as a section: written as it is (little-endian words), read back in place
/// or into a vector, its length checked against the section's.
pub(crate) trait Plain: Sized {
    fn section(&self) -> Cow<'_, [u8]>;
    fn from_section(bytes: SharedBytes) -> Result<Self, String>;
}

impl Plain for Bytes {
    fn section(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(self)
    }
    fn from_section(bytes: SharedBytes) -> Result<Bytes, String> {
        Ok(Bytes::Mapped(bytes))
    }
}

impl Plain for Vec<u32> {
    fn section(&self) -> Cow<'_, [u8]> {
        Cow::Owned(self.iter().flat_map(|w| w.to_le_bytes()).collect())
    }
    fn from_section(bytes: SharedBytes) -> Result<Vec<u32>, String> {
        if !bytes.len().is_multiple_of(4) {
            return Err(format!("{} bytes are not whole 4-byte words", bytes.len()));
        }
        Ok(bytes
            .chunks_exact(4)
            .map(|b| u32::from_le_bytes(b.try_into().expect("4 bytes")))
            .collect())
    }
}

/// Reads a section's fields, every length checked against what is left of it.
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
    what: &'static str,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8], what: &'static str) -> Reader<'a> {
        Reader { bytes, at: 0, what }
    }

    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.bytes.len());
        let Some(end) = end else {
            return Err(format!(
                "{} claim {n} bytes at byte {}, past their section's {}",
                self.what,
                self.at,
                self.bytes.len()
            ));
        };
        let bytes = &self.bytes[self.at..end];
        self.at = end;
        Ok(bytes)
    }

    /// `count` items of `size` bytes.
    pub(crate) fn array(&mut self, count: usize, size: usize) -> Result<&'a [u8], String> {
        let n = count.checked_mul(size).ok_or_else(|| {
            format!(
                "{} claim {count} items, past their section's end",
                self.what
            )
        })?;
        self.take(n)
    }

    pub(crate) fn u32(&mut self) -> Result<u32, String> {
        Ok(u32::from_le_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }

    /// Nothing may follow the last field.
    pub(crate) fn end(&self) -> Result<(), String> {
        if self.at == self.bytes.len() {
            Ok(())
        } else {
            Err(format!(
                "{} end at byte {} of their section's {}",
                self.what,
                self.at,
                self.bytes.len()
            ))
        }
    }
}

/// Adds the store's sections (see the module's docs).
pub(crate) fn save<'s>(store: &'s FrozenStore, sections: &mut Sections<'s>) -> Result<(), String> {
    let Some(shared) = store.shared.as_ref() else {
        return Err("the store is not finished (finish() freezes its files)".into());
    };
    if store.edited.is_empty() {
        macro_rules! add {
            ($tag:expr, $field:ident) => {
                sections.add($tag, store.$field.section());
            };
        }
        plain_buffers!(add);
    } else {
        // Every edited file re-frozen whole from a fresh parse of its current text.
        let mut blobs = Vec::new();
        let mut starts = Vec::with_capacity(store.len());
        let mut parsers: Vec<tree_sitter::Parser> =
            Language::ALL.iter().map(|l| l.parser()).collect();
        for file in 0..store.len() {
            starts.push(blobs.len() as u32);
            if store.edition(file).is_none() {
                blobs.extend_from_slice(store.frozen_blob(file));
                continue;
            }
            let language = store.language(file);
            let text = store.text(file);
            let tree = parsers[language.index()]
                .parse(text.as_bytes(), None)
                .ok_or_else(|| format!("file {file}: tree-sitter gave no tree"))?;
            let flat: Vec<Flat> = crate::codec::flatten(&tree, text.len())
                .map_err(|e| format!("file {file}: {e}"))?;
            blobs.extend_from_slice(&store.freeze_one(file, language, &text, &flat));
            if blobs.len() >= EDITED as usize {
                return Err(
                    "the re-frozen blobs pass 2 GiB, the limit of their 31-bit offsets".into(),
                );
            }
        }
        sections.add(BLOBS, blobs);
        sections.add(STARTS, starts.section().into_owned());
    }
    sections.add(MODEL, shared.model.to_section());
    sections.add(KINDS, shared.kinds.to_section());
    if let Some(dictionary) = &shared.dictionary {
        sections.add(DICTIONARY, dictionary.section());
    }
    sections.add(
        STATUSES,
        store
            .statuses
            .to_section(store.len(), |f| store.language(f)),
    );
    Ok(())
}

/// The store the checked file holds, its blobs (and dictionary) borrowed from the mapping.
pub(crate) fn open(opened: &Opened, mut store: FrozenStore) -> Result<FrozenStore, String> {
    macro_rules! read {
        ($tag:expr, $field:ident) => {
            store.$field = Plain::from_section(opened.section($tag)?)
                .map_err(|e| format!("the {} section: {e}", stringify!($field)))?;
        };
    }
    plain_buffers!(read);
    let model = Model::from_section(&opened.section(MODEL)?)?;
    let kinds = Kinds::from_section(&opened.section(KINDS)?)?;
    let dictionary = if opened.header().sections.iter().any(|s| s.tag == DICTIONARY) {
        let dictionary = opened.section(DICTIONARY)?;
        let mut dctx = crate::literal::decompressor();
        dctx.load_dictionary(&dictionary).map_err(|code| {
            format!(
                "zstd refuses the dictionary ({})",
                zstd_safe::get_error_name(code)
            )
        })?;
        Some(Bytes::Mapped(dictionary))
    } else {
        None
    };
    check_structure(opened, &store)?;
    let languages: Vec<Language> = (0..opened.file_count())
        .map(|f| opened.file(f).language)
        .collect();
    store.statuses =
        crate::statuses::Companion::from_section(&opened.section(STATUSES)?, &languages)?;
    store.shared = Some(Shared {
        model,
        kinds,
        dictionary,
    });
    Ok(store)
}

/// The plain buffers' structure: the starts rise from 0 within the blobs, each blob's header is sound for
/// its file (see the module's docs).
fn check_structure(opened: &Opened, store: &FrozenStore) -> Result<(), String> {
    let n = opened.file_count();
    let (blobs, starts) = (&store.blobs, &store.starts);
    if starts.len() != n {
        return Err(format!("{} blob starts for {n} files", starts.len()));
    }
    if blobs.len() >= EDITED as usize {
        return Err(format!(
            "the blobs take {} bytes, past the 2 GiB of their 31-bit offsets",
            blobs.len()
        ));
    }
    for f in 0..n {
        let start = starts[f] as usize;
        let end = starts.get(f + 1).map_or(blobs.len(), |&e| e as usize);
        if (f == 0 && start != 0) || end <= start || end > blobs.len() {
            return Err(format!(
                "file {f}'s blob offsets {start}..{end} do not rise within the blobs ({} bytes)",
                blobs.len()
            ));
        }
        check_blob(f, &blobs[start..end], opened.file(f))?;
    }
    Ok(())
}

/// One blob's header: language, flags, and the literal stream's lengths inside the blob and bounded by the
/// file's size.
fn check_blob(
    f: usize,
    blob: &[u8],
    saved: cst_measure::saved::SavedFile<'_>,
) -> Result<(), String> {
    let header = blob[0];
    let language = usize::from(header & 3);
    if language >= Language::ALL.len() || Language::ALL[language] != saved.language {
        return Err(format!(
            "file {f}'s blob is of language {language}, the files section says {}",
            saved.language.name()
        ));
    }
    if header & BLOCKED != 0 {
        // Coded in blocks: the block index, checked as every thaw checks it before use (each block's
        // checkpoint and body are checked when it is thawed).
        let mut index = Vec::new();
        return match crate::block_index(blob, &mut index) {
            Some(_) => Ok(()),
            None => Err(format!("file {f}'s block index is damaged")),
        };
    }
    if header & !(3 | COMPRESSED | INLINE | TOLERANT | LEXICON) != 0 {
        return Err(format!(
            "file {f}'s blob header {header:#04x} has unknown flags"
        ));
    }
    let mut at = 1;
    let mut varint = || {
        let (mut v, mut shift) = (0u64, 0);
        loop {
            let Some(&b) = blob.get(at) else {
                return Err(format!("file {f}'s blob ends inside its header"));
            };
            at += 1;
            if shift > 56 {
                return Err(format!("file {f}'s blob header has a length past 2^63"));
            }
            v |= u64::from(b & 0x7f) << shift;
            shift += 7;
            if b < 0x80 {
                return Ok(v);
            }
        }
    };
    let (nodes, text) = (varint()?, varint()?);
    if text != saved.size || nodes > MAX_NODES_PER_BYTE * (saved.size + 1) {
        return Err(format!(
            "file {f}'s blob records {nodes} nodes and {text} bytes of text, for a file of {} bytes (at \
             most {MAX_NODES_PER_BYTE} nodes a byte)",
            saved.size
        ));
    }
    if header & INLINE != 0 {
        return Ok(());
    }
    let literal = varint()?;
    let segments = varint()?.checked_add(varint()?);
    let stored = if header & COMPRESSED != 0 {
        varint()?
    } else {
        literal
    };
    let rest = (blob.len() - at) as u64;
    if literal > saved.size || segments.is_none_or(|s| s > literal) || stored > rest {
        return Err(format!(
            "file {f}'s blob claims a literal stream of {literal} bytes ({stored} stored) in a blob of {} \
             bytes, for a file of {}",
            blob.len(),
            saved.size
        ));
    }
    Ok(())
}
