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
    /// Where each language's part of `model` lies, then each language's [`Code`].
    parts: [(u32, u32); PARTS],
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

/// The parts of the model buffer: each language's model, then each language's [`Code`].
const PARTS: usize = 8;

/// The parts of a model buffer: where each lies, every length checked against the bytes.
fn model_parts(model: &[u8]) -> Result<[(u32, u32); PARTS], String> {
    let mut parts = [(0u32, 0u32); PARTS];
    let mut at = 0;
    for part in &mut parts {
        let len = read_varint(model, &mut at)
            .filter(|&n| n <= (model.len() - at) as u64)
            .ok_or("the query-status model runs past its section")?;
        *part = (at as u32, len as u32);
        at += len as usize;
    }
    if at != model.len() {
        return Err("the query-status model holds more than its parts".into());
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

/// One exception of a stream in `FileStatus`'s format: nodes since the previous one, its tag (bit 0 extra,
/// bit 1 a field follows, bit 2 a supertype set follows), the field and the supertype set (0 when absent).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Exception {
    gap: u64,
    symbol: (u8, u64, u64),
}

const TAG_FIELD: u8 = 2;
const TAG_SUPERTYPES: u8 = 4;

/// The exceptions of a stream in `FileStatus`'s format (one this process wrote: `FileStatus::encode_with`).
fn exceptions(raw: &[u8]) -> Vec<Exception> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < raw.len() {
        let gap = read_varint(raw, &mut at).unwrap_or(0);
        let tag = raw.get(at).copied().unwrap_or(0) & 7;
        at += 1;
        let mut field = 0;
        if tag & TAG_FIELD != 0 {
            field = read_varint(raw, &mut at).unwrap_or(0);
        }
        let mut supertypes = 0;
        if tag & TAG_SUPERTYPES != 0 {
            supertypes = read_varint(raw, &mut at).unwrap_or(0);
        }
        out.push(Exception {
            gap,
            symbol: (tag, field, supertypes),
        });
    }
    out
}

/// Appends `e` in `FileStatus`'s format.
fn write_exception(out: &mut Vec<u8>, e: Exception) {
    let (tag, field, supertypes) = e.symbol;
    write_varint(out, e.gap);
    out.push(tag);
    if tag & TAG_FIELD != 0 {
        write_varint(out, field);
    }
    if tag & TAG_SUPERTYPES != 0 {
        write_varint(out, supertypes);
    }
}

/// Bits, most significant first.
#[derive(Default)]
struct BitWriter {
    out: Vec<u8>,
    acc: u64,
    n: u32,
}

impl BitWriter {
    /// The low `n` bits of `v` (`n` at most 32).
    fn bits(&mut self, v: u64, n: u32) {
        debug_assert!(n <= 32);
        self.acc = self.acc << n | (v & ((1u64 << n) - 1));
        self.n += n;
        while self.n >= 8 {
            self.n -= 8;
            self.out.push((self.acc >> self.n) as u8);
        }
    }

    /// `v` in exp-Golomb code of order `k`: as many zeros as `v + 2^k` has bits past `k + 1`, then it.
    fn golomb(&mut self, v: u64, k: u32) {
        let w = u128::from(v) + (1u128 << k);
        let n = 128 - w.leading_zeros();
        for _ in 0..n - 1 - k {
            self.bits(0, 1);
        }
        for i in (0..n).rev() {
            self.bits((w >> i) as u64 & 1, 1);
        }
    }

    /// The bytes, the last padded with zeros.
    fn finish(mut self) -> Vec<u8> {
        if self.n > 0 {
            self.out.push((self.acc << (8 - self.n)) as u8);
        }
        self.out
    }
}

/// The bits of an exp-Golomb code of order `k` for `v`.
fn golomb_bits(v: u64, k: u32) -> u64 {
    let w = u128::from(v) + (1u128 << k);
    let n = u64::from(128 - w.leading_zeros());
    2 * n - 1 - u64::from(k)
}

/// Reads what [`BitWriter`] wrote; `None` past the end or for a code longer than any gap.
struct BitReader<'a> {
    bytes: &'a [u8],
    /// The next bit's position.
    at: usize,
}

impl BitReader<'_> {
    fn bit(&mut self) -> Option<u64> {
        let byte = *self.bytes.get(self.at / 8)?;
        let bit = byte >> (7 - self.at % 8) & 1;
        self.at += 1;
        Some(u64::from(bit))
    }

    fn bits(&mut self, n: u32) -> Option<u64> {
        (0..n).try_fold(0u64, |v, _| Some(v << 1 | self.bit()?))
    }

    fn golomb(&mut self, k: u32) -> Option<u64> {
        let mut zeros = 0;
        while self.bit()? == 0 {
            zeros += 1;
            if zeros + k > 62 {
                return None;
            }
        }
        let w = 1u64 << (zeros + k) | self.bits(zeros + k)?;
        Some(w - (1 << k))
    }

    /// Whether only zeros are left (the padding): every code has a one in it.
    fn done(&self) -> bool {
        let (byte, bit) = (self.at / 8, self.at % 8);
        match self.bytes.get(byte) {
            None => true,
            Some(&b) => b << bit == 0 && self.bytes[byte + 1..].iter().all(|&b| b == 0),
        }
    }
}

/// How one language's exception streams are coded: each exception's gap in exp-Golomb code of `order`
/// (chosen at `finish()` to make them shortest), then its (tag, field, supertypes) as its rank among
/// `symbols` (most frequent first) in exp-Golomb code of order 0, or, for a rank past them (a file edited
/// since), the rank `symbols.len()` and the tag (3 bits), field (16) and supertype set (32) raw.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Code {
    order: u32,
    symbols: Vec<(u8, u64, u64)>,
}

impl Code {
    /// The code that makes these streams (`FileStatus`'s format) shortest.
    fn learn<'a>(streams: impl IntoIterator<Item = &'a [u8]>) -> Code {
        let mut counts: HashMap<(u8, u64, u64), u64> = HashMap::new();
        let mut gaps = Vec::new();
        for stream in streams {
            for e in exceptions(stream) {
                *counts.entry(e.symbol).or_default() += 1;
                gaps.push(e.gap);
            }
        }
        let mut symbols: Vec<((u8, u64, u64), u64)> = counts.into_iter().collect();
        symbols.sort_unstable_by_key(|&(symbol, n)| (std::cmp::Reverse(n), symbol));
        let order = (0..40)
            .min_by_key(|&k| gaps.iter().map(|&g| golomb_bits(g, k)).sum::<u64>())
            .expect("orders to choose from");
        Code {
            order: if gaps.is_empty() { 0 } else { order },
            symbols: symbols.into_iter().map(|(symbol, _)| symbol).collect(),
        }
    }

    /// A stream in `FileStatus`'s format, coded.
    fn encode(&self, raw: &[u8]) -> Vec<u8> {
        let mut out = BitWriter::default();
        for e in exceptions(raw) {
            out.golomb(e.gap, self.order);
            match self.symbols.iter().position(|&s| s == e.symbol) {
                Some(rank) => out.golomb(rank as u64, 0),
                None => {
                    out.golomb(self.symbols.len() as u64, 0);
                    let (tag, field, supertypes) = e.symbol;
                    out.bits(u64::from(tag), 3);
                    out.bits(field, 16);
                    out.bits(supertypes, 32);
                }
            }
        }
        out.finish()
    }

    /// A coded stream back in `FileStatus`'s format; `None` for one that ends inside an exception or has
    /// a rank past the escape.
    fn decode(&self, coded: &[u8]) -> Option<Vec<u8>> {
        let mut raw = Vec::new();
        let mut bits = BitReader {
            bytes: coded,
            at: 0,
        };
        while !bits.done() {
            let gap = bits.golomb(self.order)?;
            let rank = usize::try_from(bits.golomb(0)?).ok()?;
            let symbol = match self.symbols.get(rank) {
                Some(&symbol) => symbol,
                None if rank == self.symbols.len() => {
                    (bits.bits(3)? as u8, bits.bits(16)?, bits.bits(32)?)
                }
                None => return None,
            };
            write_exception(&mut raw, Exception { gap, symbol });
        }
        Some(raw)
    }

    /// The code as a part of the companion's model buffer: the order, the symbol count, and per symbol its
    /// tag and, as the tag says, its field and supertype set (LEB128); nothing for an empty code.
    fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        if *self == Code::default() {
            return out;
        }
        write_varint(&mut out, u64::from(self.order));
        write_varint(&mut out, self.symbols.len() as u64);
        for &(tag, field, supertypes) in &self.symbols {
            out.push(tag);
            if tag & TAG_FIELD != 0 {
                write_varint(&mut out, field);
            }
            if tag & TAG_SUPERTYPES != 0 {
                write_varint(&mut out, supertypes);
            }
        }
        out
    }

    /// A code from its part, checked: an order below 40, tags of three bits, fields of 16 and supertype
    /// sets of 32, nothing left over.
    fn from_bytes(language: usize, part: &[u8]) -> Result<Code, String> {
        let damaged = || format!("the query-status code of language {language} is damaged");
        if part.is_empty() {
            return Ok(Code::default());
        }
        let mut at = 0;
        let order = read_varint(part, &mut at)
            .filter(|&k| k < 40)
            .ok_or_else(damaged)? as u32;
        let count = read_varint(part, &mut at)
            .filter(|&n| n <= part.len() as u64)
            .ok_or_else(damaged)?;
        let mut symbols = Vec::with_capacity(count as usize);
        for _ in 0..count {
            let tag = *part.get(at).filter(|&&t| t < 8).ok_or_else(damaged)?;
            at += 1;
            let mut field = 0;
            if tag & TAG_FIELD != 0 {
                field = read_varint(part, &mut at)
                    .filter(|&f| f <= 0xFFFF)
                    .ok_or_else(damaged)?;
            }
            let mut supertypes = 0;
            if tag & TAG_SUPERTYPES != 0 {
                supertypes = read_varint(part, &mut at)
                    .filter(|&s| s <= u64::from(u32::MAX))
                    .ok_or_else(damaged)?;
            }
            symbols.push((tag, field, supertypes));
        }
        if at != part.len() {
            return Err(damaged());
        }
        Ok(Code { order, symbols })
    }
}

impl Companion {
    /// The companion of files of these languages with these streams, encoded against `model`, in file
    /// order: each language's [`Code`] learned from its files' streams, and every stream coded with it.
    pub(crate) fn new(model: &StatusModel, streams: &[(Language, FileStatus)]) -> Companion {
        let mut buffer = encode_model(model);
        let codes: Vec<Code> = Language::ALL
            .iter()
            .map(|&l| {
                let code = Code::learn(streams.iter().filter(|s| s.0 == l).map(|s| s.1.as_bytes()));
                let part = code.to_bytes();
                write_varint(&mut buffer, part.len() as u64);
                buffer.extend_from_slice(&part);
                code
            })
            .collect();
        let model = buffer.into_boxed_slice();
        let parts = model_parts(&model).expect("a model just coded");
        let mut companion = Companion {
            model,
            parts,
            ..Companion::default()
        };
        for (language, status) in streams {
            if companion.files.is_multiple_of(8) {
                companion.present.push(0);
            }
            if status.bytes() > 0 {
                let coded = codes[language.index()].encode(status.as_bytes());
                *companion.present.last_mut().expect("a byte per 8 files") |=
                    1 << (companion.files % 8);
                write_varint(&mut companion.lengths, coded.len() as u64);
                companion.streams.extend_from_slice(&coded);
            }
            companion.files += 1;
        }
        companion.mark();
        companion
    }

    /// The code of `language`'s streams (checked when it was made or opened).
    fn code_of(&self, language: Language) -> Code {
        let (at, len) = self.parts[4 + language.index()];
        Code::from_bytes(
            language.index(),
            &self.model[at as usize..(at + len) as usize],
        )
        .unwrap_or_default()
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

    /// File `file`'s stream in `FileStatus`'s format: an edited file's as it is, a frozen one's decoded
    /// (checked when it was made or opened).
    fn bytes_of(&self, file: usize, language: Language) -> Cow<'_, [u8]> {
        match self.edited.get(&(file as u32)) {
            Some(edited) => Cow::Borrowed(edited.as_bytes()),
            None => {
                let coded = self.frozen_bytes(file);
                if coded.is_empty() {
                    return Cow::Borrowed(&[]);
                }
                Cow::Owned(self.code_of(language).decode(coded).unwrap_or_default())
            }
        }
    }

    /// File `file`'s companion (a file of `language`) with its language's model decoded beside it.
    pub(crate) fn get(&self, file: usize, language: Language) -> StatusStream<'_> {
        StatusStream::new(
            self.bytes_of(file, language),
            language,
            Cow::Owned(self.model_of(language)),
        )
    }

    /// A copy of file `file`'s companion, a file of `language` (what a version keeps).
    pub(crate) fn owned(&self, file: usize, language: Language) -> FileStatus {
        FileStatus::from_bytes(&self.bytes_of(file, language))
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
        let streams = match self.edited.is_empty() {
            true => self.streams.len(),
            false => {
                self.edited.values().map(FileStatus::bytes).sum::<usize>() + self.streams.len()
            }
        };
        (
            self.model.len(),
            entries,
            self.present.len() + self.lengths.len() + 8 * self.marks.len(),
            streams,
        )
    }

    /// The companion as a saved section: the model buffer's length (LEB128) and the buffer (the coded
    /// model and codes), then a bit per file (whether it has exceptions), the coded stream length of every
    /// file with exceptions (LEB128) and their coded streams: the current ones (an edited file's coded
    /// with its language's code), `language` giving each file's language.
    pub(crate) fn to_section(&self, files: usize, language: impl Fn(usize) -> Language) -> Vec<u8> {
        let coded: Vec<Cow<'_, [u8]>> = (0..files)
            .map(|f| match self.edited.get(&(f as u32)) {
                Some(edited) => Cow::Owned(self.code_of(language(f)).encode(edited.as_bytes())),
                None => Cow::Borrowed(self.frozen_bytes(f)),
            })
            .collect();
        let mut section = Vec::new();
        write_varint(&mut section, self.model.len() as u64);
        section.extend_from_slice(&self.model);
        let mut present = vec![0u8; files.div_ceil(8)];
        for (f, stream) in coded.iter().enumerate() {
            if !stream.is_empty() {
                present[f / 8] |= 1 << (f % 8);
            }
        }
        section.extend_from_slice(&present);
        for stream in coded.iter().filter(|s| !s.is_empty()) {
            write_varint(&mut section, stream.len() as u64);
        }
        for stream in &coded {
            section.extend_from_slice(stream);
        }
        section
    }

    /// The companion of `files` files from a section [`Companion::to_section`] wrote, checked before use:
    /// the model's and codes' parts each decode, a bit per file (none set past the last), a length per bit
    /// set within the section, the streams exactly the rest, and each file's stream decodes with the code
    /// of its language (`languages`, one per file).
    pub(crate) fn from_section(
        section: &[u8],
        languages: &[Language],
    ) -> Result<Companion, String> {
        let files = languages.len();
        let mut at = 0;
        let model_len = read_varint(section, &mut at)
            .filter(|&n| n <= (section.len() - at) as u64)
            .ok_or("the query-status model runs past its section")?;
        let model: Box<[u8]> = section[at..at + model_len as usize].into();
        at += model_len as usize;
        let parts = model_parts(&model)?;
        for (i, &(start, len)) in parts.iter().enumerate() {
            let part = &model[start as usize..(start + len) as usize];
            match i {
                0..4 => decode_part(i, part).map(drop)?,
                _ => Code::from_bytes(i - 4, part).map(drop)?,
            }
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
        for (f, &language) in languages.iter().enumerate() {
            let coded = companion.frozen_bytes(f);
            if !coded.is_empty() && companion.code_of(language).decode(coded).is_none() {
                return Err(format!("file {f}'s query status is damaged"));
            }
        }
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
        let mut coded = encode_model(&model);
        // Four empty codes after the four models.
        coded.extend_from_slice(&[0; 4]);
        let parts = model_parts(&coded).unwrap();
        // The parts' entries, in language order, are the model's (its keys sort by language first).
        let mut entries = Vec::new();
        for (l, &(at, len)) in parts[..4].iter().enumerate() {
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
    fn a_code_gives_back_every_stream_its_symbols_or_not() {
        let stream = |exceptions: &[(u64, (u8, u64, u64))]| {
            let mut raw = Vec::new();
            for &(gap, symbol) in exceptions {
                write_exception(&mut raw, Exception { gap, symbol });
            }
            raw
        };
        let common = stream(&[
            (3, (4, 0, 1)),
            (0, (4, 0, 1)),
            (900, (1, 0, 0)),
            (12, (4, 0, 1)),
        ]);
        let code = Code::learn([&common[..]]);
        assert_eq!(code.symbols[0], (4, 0, 1));
        let again = Code::from_bytes(0, &code.to_bytes()).unwrap();
        assert_eq!(again, code);
        // A symbol the code has not seen (an edited file's) is escaped; huge gaps and values come back.
        let unseen = stream(&[
            (0, (0, 0, 0)),
            (u64::from(u32::MAX), (7, 0xFFFF, u64::from(u32::MAX))),
            (1, (4, 0, 1)),
        ]);
        for raw in [&common, &unseen, &Vec::new()] {
            let coded = code.encode(raw);
            assert_eq!(code.decode(&coded).as_ref(), Some(raw));
        }
        assert!(code.encode(&common).len() < common.len());
        // A stream cut inside an exception is refused.
        let coded = code.encode(&unseen);
        assert_eq!(code.decode(&coded[..coded.len() - 2]), None);
        assert!(Code::from_bytes(0, &[40, 0]).is_err());
        assert!(Code::from_bytes(0, &[0, 1, 8]).is_err());
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
        let languages: Vec<Language> = (0..statuses.len())
            .map(|i| files[i % files.len()].0)
            .collect();
        let with: Vec<(Language, FileStatus)> = languages
            .iter()
            .copied()
            .zip(statuses.iter().cloned())
            .collect();
        let companion = Companion::new(&model, &with);
        for (f, status) in statuses.iter().enumerate() {
            assert_eq!(&companion.owned(f, languages[f]), status, "file {f}");
        }
        let section = companion.to_section(statuses.len(), |f| languages[f]);
        let again = Companion::from_section(&section, &languages).unwrap();
        for (f, status) in statuses.iter().enumerate() {
            assert_eq!(&again.owned(f, languages[f]), status, "file {f}");
        }
        let mut longer = section.clone();
        longer.push(0);
        let refused = Companion::from_section(&longer, &languages).unwrap_err();
        assert!(refused.contains("holds more"), "{refused}");
        let refused = Companion::from_section(&section[..section.len() - 1], &languages);
        assert!(refused.unwrap_err().contains("past"));
        let mut bad = section.clone();
        bad[0] = 0xff;
        assert!(Companion::from_section(&bad, &languages).is_err());
    }
}
