//! Frozen's query-status companion once `finish()` has run: what tree-sitter's query cursor sees of each
//! node beyond a walk (`cst_measure::query_status`), kept coded, for a store that holds everything else
//! coded too.
//!
//! Layout ([`Companion`]):
//!
//! | what | contents | bytes |
//! | --- | --- | --- |
//! | `model` | the status model learned at `finish()`, coded: per language the byte length of its part (LEB128), then each part: its distinct predictions (count, then each as a varint), its entries (count, then per entry in key order: the kind's rise from the previous entry's, the parent kind plus one (0: the kind's fallback, which has no field), the walk field, the prediction's index), all LEB128 | about 4 per entry and the predictions |
//! | `present` | a bit per file: whether it has exceptions | 1 per 8 files |
//! | `lengths` | the stream length of each file with exceptions, LEB128 | 1 per such file with at most 127 bytes of them |
//! | `streams` | every file's exception stream (`cst_measure::query_status::FileStatus`'s format), end to end | the exceptions' |
//! | `marks` | every 64th file's stream start and length offset (`u32` each), derived from `present` and `lengths` | 8 per 64 files |
//! | `edited` | the current stream of each file edited since `finish()` | empty until an edit |
//!
//! Against `QueryStatuses` (16 bytes per model entry and its index held decoded, a `u32` start per file),
//! this holds the model at about a quarter of its bytes and a file's start in about a bit (most files have no
//! exception). What it
//! costs: [`Companion::model_of`] decodes one language's part of the model into the `StatusModel` a reader
//! predicts with (16 bytes per entry of that language and its index), on every
//! `CstStore::query_status` call: a few microseconds and a few kilobytes, which are the query pass's
//! working memory, not the store's; finding a file's stream reads at most 64 bits and 63 lengths from its mark. The
//! model's entries are weighed at [`ENTRY_BYTES`] by `cst_measure::query_status::ModelBuilder::build_with`,
//! what an entry takes coded here, so the model keeps the contexts whose exceptions cost more than that.

use cst_measure::query_status::{FileStatus, StatusModel, StatusStream};
use cst_measure::Language;
use std::borrow::Cow;
use std::collections::HashMap;

/// What an entry of the coded model costs, for the learning's weighing (measured: see `NOTES.md`).
pub(crate) const ENTRY_BYTES: u64 = 4;
/// Files between two marks.
const MARK_EVERY: usize = 64;
/// The bit of a model key's language, and of its kind (as `cst_measure::query_status` packs them).
const LANGUAGE_SHIFT: u32 = 48;
const KIND_SHIFT: u32 = 32;
/// The parent kind and walk field of a kind's fallback key.
const ANY: u64 = 0xFFFF_FFFF;

/// Every file's query-status companion, coded (see the module's docs).
#[derive(Clone, Debug, Default)]
pub(crate) struct Companion {
    model: Box<[u8]>,
    /// Where each language's part of `model` lies.
    parts: [(u32, u32); 4],
    present: Vec<u8>,
    lengths: Vec<u8>,
    streams: Vec<u8>,
    /// Per 64 files, the first one's stream start and length offset.
    marks: Vec<(u32, u32)>,
    files: usize,
    edited: HashMap<u32, FileStatus>,
}

fn write_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// A varint of `bytes` at `at`, or `None` where it runs past them or past 64 bits.
fn read_varint(bytes: &[u8], at: &mut usize) -> Option<u64> {
    let (mut v, mut shift) = (0u64, 0);
    loop {
        let &b = bytes.get(*at)?;
        *at += 1;
        if shift > 63 || (shift == 63 && b > 1) {
            return None;
        }
        v |= u64::from(b & 0x7f) << shift;
        if b < 0x80 {
            return Some(v);
        }
        shift += 7;
    }
}

/// Codes `model` (see the module's docs): the parts of the four languages, each with its length first.
fn encode_model(model: &StatusModel) -> Vec<u8> {
    let saved = model.to_bytes();
    let entries: Vec<(u64, u64)> = saved[8..]
        .chunks_exact(16)
        .map(|e| {
            let word = |b: &[u8]| u64::from_le_bytes(b.try_into().expect("8 bytes"));
            (word(&e[..8]), word(&e[8..]))
        })
        .collect();
    let mut out = Vec::new();
    for language in 0..Language::ALL.len() as u64 {
        let mine: Vec<(u64, u64)> = entries
            .iter()
            .copied()
            .filter(|&(k, _)| k >> LANGUAGE_SHIFT == language)
            .collect();
        let mut values: Vec<u64> = mine.iter().map(|&(_, v)| v).collect();
        values.sort_unstable();
        values.dedup();
        let mut part = Vec::new();
        if !mine.is_empty() {
            write_varint(&mut part, values.len() as u64);
            for &v in &values {
                write_varint(&mut part, v);
            }
            write_varint(&mut part, mine.len() as u64);
            let mut kind = 0;
            for &(k, v) in &mine {
                let this = (k >> KIND_SHIFT) & 0xFFFF;
                write_varint(&mut part, this - kind);
                kind = this;
                if k & ANY == ANY {
                    write_varint(&mut part, 0);
                } else {
                    write_varint(&mut part, ((k >> 16) & 0xFFFF) + 1);
                    write_varint(&mut part, k & 0xFFFF);
                }
                let index = values.binary_search(&v).expect("a value of the part");
                write_varint(&mut part, index as u64);
            }
        }
        write_varint(&mut out, part.len() as u64);
        out.extend_from_slice(&part);
    }
    out
}

/// The language parts of a coded model: where each lies, every length checked against the bytes.
fn model_parts(model: &[u8]) -> Result<[(u32, u32); 4], String> {
    let mut parts = [(0u32, 0u32); 4];
    let mut at = 0;
    for part in &mut parts {
        let len = read_varint(model, &mut at)
            .filter(|&n| n <= (model.len() - at) as u64)
            .ok_or("the query-status model runs past its section")?;
        *part = (at as u32, len as u32);
        at += len as usize;
    }
    if at != model.len() {
        return Err("the query-status model holds more than its four languages' parts".into());
    }
    Ok(parts)
}

/// One language's part decoded into a model (the other languages without entries), checked: every varint
/// within the part, every index a value's, no byte left over, and what `StatusModel::from_bytes` checks
/// (keys rising, kinds and values in range).
fn decode_part(language: usize, part: &[u8]) -> Result<StatusModel, String> {
    let damaged = || format!("the query-status model of language {language} is damaged");
    let mut at = 0;
    let mut saved = 0u64.to_le_bytes().to_vec();
    if part.is_empty() {
        return StatusModel::from_bytes(&saved).map(|m| m.0);
    }
    let mut next = || read_varint(part, &mut at).ok_or_else(damaged);
    let count = next()?;
    // Each value takes at least a byte: a count past the part's bytes is refused before anything is kept.
    if count > part.len() as u64 {
        return Err(damaged());
    }
    let values: Vec<u64> = (0..count).map(|_| next()).collect::<Result<_, _>>()?;
    let entries = next()?;
    if entries > part.len() as u64 {
        return Err(damaged());
    }
    saved.reserve(16 * entries as usize);
    let mut kind = 0u64;
    for _ in 0..entries {
        kind = kind
            .checked_add(next()?)
            .filter(|&k| k < 1 << 16)
            .ok_or_else(damaged)?;
        let parent = next()?;
        let low = match parent {
            0 => ANY,
            p if p <= 1 << 16 => {
                // No node has walk field 0xFFFF (with parent 0xFFFF it would read as the fallback).
                let field = next()?;
                if field >= 0xFFFF {
                    return Err(damaged());
                }
                (p - 1) << 16 | field
            }
            _ => return Err(damaged()),
        };
        let value = *values
            .get(usize::try_from(next()?).unwrap_or(usize::MAX))
            .ok_or_else(damaged)?;
        let key = (language as u64) << LANGUAGE_SHIFT | kind << KIND_SHIFT | low;
        saved.extend_from_slice(&key.to_le_bytes());
        saved.extend_from_slice(&value.to_le_bytes());
    }
    if at != part.len() {
        return Err(damaged());
    }
    saved[..8].copy_from_slice(&entries.to_le_bytes());
    StatusModel::from_bytes(&saved).map(|m| m.0)
}

impl Companion {
    /// The companion of `files` files, their streams encoded against `model`, given in file order.
    pub(crate) fn new(
        model: &StatusModel,
        streams: impl IntoIterator<Item = FileStatus>,
    ) -> Companion {
        let model = encode_model(model).into_boxed_slice();
        let parts = model_parts(&model).expect("a model just coded");
        let mut companion = Companion {
            model,
            parts,
            ..Companion::default()
        };
        for status in streams {
            if companion.files.is_multiple_of(8) {
                companion.present.push(0);
            }
            if status.bytes() > 0 {
                *companion.present.last_mut().expect("a byte per 8 files") |=
                    1 << (companion.files % 8);
                write_varint(&mut companion.lengths, status.bytes() as u64);
                companion.streams.extend_from_slice(status.as_bytes());
            }
            companion.files += 1;
        }
        companion.mark();
        companion
    }

    /// Whether file `file` has exceptions.
    fn has(&self, file: usize) -> bool {
        self.present[file / 8] >> (file % 8) & 1 != 0
    }

    /// Derives the marks from `present` and `lengths` (checked before: a bit per file, a length per bit
    /// set, their sum the streams').
    fn mark(&mut self) {
        self.marks.clear();
        let (mut at, mut start) = (0usize, 0u64);
        for f in 0..self.files {
            if f % MARK_EVERY == 0 {
                self.marks.push((start as u32, at as u32));
            }
            if self.has(f) {
                start += read_varint(&self.lengths, &mut at).expect("a length per file");
            }
        }
        self.present.shrink_to_fit();
        self.lengths.shrink_to_fit();
        self.streams.shrink_to_fit();
        self.marks.shrink_to_fit();
    }

    /// The model a reader of a file of `language` predicts with: its part decoded (checked at `finish()` or
    /// open, so it decodes).
    pub(crate) fn model_of(&self, language: Language) -> StatusModel {
        let (at, len) = self.parts[language.index()];
        let part = &self.model[at as usize..(at + len) as usize];
        decode_part(language.index(), part).expect("a model checked when it was made or opened")
    }

    fn frozen_bytes(&self, file: usize) -> &[u8] {
        let (start, at) = self.marks[file / MARK_EVERY];
        let (mut start, mut at) = (start as usize, at as usize);
        for g in file / MARK_EVERY * MARK_EVERY..file {
            if self.has(g) {
                start += read_varint(&self.lengths, &mut at).expect("checked lengths") as usize;
            }
        }
        if !self.has(file) {
            return &[];
        }
        let len = read_varint(&self.lengths, &mut at).expect("checked lengths") as usize;
        &self.streams[start..start + len]
    }

    fn bytes_of(&self, file: usize) -> &[u8] {
        match self.edited.get(&(file as u32)) {
            Some(edited) => edited.as_bytes(),
            None => self.frozen_bytes(file),
        }
    }

    /// File `file`'s companion (a file of `language`) with its language's model decoded beside it.
    pub(crate) fn get(&self, file: usize, language: Language) -> StatusStream<'_> {
        StatusStream::new(
            Cow::Borrowed(self.bytes_of(file)),
            language,
            Cow::Owned(self.model_of(language)),
        )
    }

    /// A copy of file `file`'s companion (what a version keeps).
    pub(crate) fn owned(&self, file: usize) -> FileStatus {
        FileStatus::from_bytes(self.bytes_of(file))
    }

    /// Replaces file `file`'s companion (one encoded against [`Companion::model_of`]).
    pub(crate) fn replace(&mut self, file: usize, status: FileStatus) {
        self.edited.insert(file as u32, status);
    }

    /// The companion of `tree`, a file of `language`, against the model.
    pub(crate) fn status_of(&self, language: Language, tree: &tree_sitter::Tree) -> FileStatus {
        FileStatus::of_with(tree, language, &self.model_of(language))
    }

    /// What the companion holds: the coded model's bytes and entries, the lengths' and marks' bytes, the
    /// streams' bytes.
    pub(crate) fn parts(&self) -> (usize, usize, usize, usize) {
        let entries = Language::ALL
            .iter()
            .map(|&l| self.model_of(l).entries())
            .sum();
        (
            self.model.len(),
            entries,
            self.present.len() + self.lengths.len() + 8 * self.marks.len(),
            self.streams.len(),
        )
    }

    /// The companion as a saved section: the coded model's length (LEB128) and the model, then a bit per
    /// file (whether it has exceptions), the stream length of every file with exceptions (LEB128) and their
    /// streams: the current ones (an edited file's, once edited).
    pub(crate) fn to_section(&self, files: usize) -> Vec<u8> {
        let mut section = Vec::new();
        write_varint(&mut section, self.model.len() as u64);
        section.extend_from_slice(&self.model);
        let mut present = vec![0u8; files.div_ceil(8)];
        for f in 0..files {
            if !self.bytes_of(f).is_empty() {
                present[f / 8] |= 1 << (f % 8);
            }
        }
        section.extend_from_slice(&present);
        for f in 0..files {
            let len = self.bytes_of(f).len();
            if len > 0 {
                write_varint(&mut section, len as u64);
            }
        }
        for f in 0..files {
            section.extend_from_slice(self.bytes_of(f));
        }
        section
    }

    /// The companion of `files` files from a section [`Companion::to_section`] wrote, checked before use:
    /// the model's parts each decode, a bit per file (none set past the last), a length per bit set within
    /// the section, and the streams exactly the rest.
    pub(crate) fn from_section(section: &[u8], files: usize) -> Result<Companion, String> {
        let mut at = 0;
        let model_len = read_varint(section, &mut at)
            .filter(|&n| n <= (section.len() - at) as u64)
            .ok_or("the query-status model runs past its section")?;
        let model: Box<[u8]> = section[at..at + model_len as usize].into();
        at += model_len as usize;
        let parts = model_parts(&model)?;
        for (language, &(start, len)) in parts.iter().enumerate() {
            decode_part(language, &model[start as usize..(start + len) as usize])?;
        }
        let Some(present) = section.get(at..at + files.div_ceil(8)) else {
            return Err("the query-status bits run past their section".into());
        };
        let present = present.to_vec();
        at += present.len();
        if !files.is_multiple_of(8) && present.last().is_some_and(|&b| b >> (files % 8) != 0) {
            return Err("the query-status bits mark a file past the last".into());
        }
        let lengths_start = at;
        let mut total = 0u64;
        for f in 0..files {
            if present[f / 8] >> (f % 8) & 1 == 0 {
                continue;
            }
            let len = read_varint(section, &mut at)
                .ok_or_else(|| format!("file {f}'s query status runs past its section"))?;
            total = total.saturating_add(len);
        }
        let lengths = section[lengths_start..at].to_vec();
        if total > (section.len() - at) as u64 {
            return Err("the query statuses run past their section".into());
        }
        if total < (section.len() - at) as u64 {
            return Err("the query-status section holds more than its files' companions".into());
        }
        let mut companion = Companion {
            model,
            parts,
            present,
            lengths,
            streams: section[at..].to_vec(),
            marks: Vec::new(),
            files,
            edited: HashMap::new(),
        };
        companion.mark();
        Ok(companion)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cst_measure::query_status::{statuses_with_contexts, ModelBuilder};

    fn learned() -> (StatusModel, Vec<(Language, String)>) {
        let files = vec![
            (
                Language::Python,
                "def f(a):\n    # c\n    return [a, *a] + g(a, b)\n".repeat(20),
            ),
            (
                Language::Rust,
                "fn f<T: X>(a: T) -> u8 { /* c */ a.0 + b(c) }\n".repeat(20),
            ),
            (
                Language::TypeScript,
                "let x: number = f(1) // c\n".repeat(20),
            ),
        ];
        let mut builder = ModelBuilder::default();
        for (language, text) in &files {
            let (statuses, contexts) = statuses_with_contexts(&language.parse(text));
            builder.count(*language, &statuses, &contexts);
        }
        (builder.build_with(ENTRY_BYTES), files)
    }

    #[test]
    fn the_coded_model_decodes_to_the_model() {
        let (model, _) = learned();
        assert!(model.entries() > 3);
        let coded = encode_model(&model);
        let parts = model_parts(&coded).unwrap();
        // The parts' entries, in language order, are the model's (its keys sort by language first).
        let mut entries = Vec::new();
        for (l, &(at, len)) in parts.iter().enumerate() {
            let part = decode_part(l, &coded[at as usize..(at + len) as usize]).unwrap();
            entries.extend_from_slice(&part.to_bytes()[8..]);
        }
        assert_eq!(entries, model.to_bytes()[8..]);
        assert!(
            coded.len() < model.to_bytes().len(),
            "{} bytes",
            coded.len()
        );
    }

    #[test]
    fn streams_come_back_by_file_and_a_damaged_section_is_refused() {
        let (model, files) = learned();
        let statuses: Vec<FileStatus> = (0..150)
            .map(|i| {
                let (language, text) = &files[i % files.len()];
                let text = if i % 7 == 0 { "" } else { text.as_str() };
                FileStatus::of_with(&language.parse(text), *language, &model)
            })
            .collect();
        let companion = Companion::new(&model, statuses.clone());
        for (f, status) in statuses.iter().enumerate() {
            assert_eq!(&companion.owned(f), status, "file {f}");
        }
        let section = companion.to_section(statuses.len());
        let again = Companion::from_section(&section, statuses.len()).unwrap();
        for (f, status) in statuses.iter().enumerate() {
            assert_eq!(&again.owned(f), status, "file {f}");
        }
        let mut longer = section.clone();
        longer.push(0);
        let refused = Companion::from_section(&longer, statuses.len()).unwrap_err();
        assert!(refused.contains("holds more"), "{refused}");
        let refused = Companion::from_section(&section[..section.len() - 1], statuses.len());
        assert!(refused.unwrap_err().contains("past"));
        let mut bad = section.clone();
        bad[0] = 0xff;
        assert!(Companion::from_section(&bad, statuses.len()).is_err());
    }
}
