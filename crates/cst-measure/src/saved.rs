//! The saved form of a store: one file that a backend's store is written to and opened from again without
//! parsing, and that is refused, never trusted, when it is damaged, stale or of another build.
//!
//! # Layout
//!
//! Every integer is little-endian. The file is a header, then the sections, each at an offset that is a
//! multiple of 8 (so that a backend can lay its buffers out for reading in place), in the order the header
//! lists them, with zero bytes between them, the last one ending the file:
//!
//! | offset | bytes | what |
//! | --- | --- | --- |
//! | 0 | 8 | magic `CSTSAVE\0` |
//! | 8 | 4 | container format version ([`FORMAT_VERSION`]) |
//! | 12 | 4 | header length `H`, a multiple of 8 (the checksum included) |
//! | 16 | 1 + n | backend name (length byte, UTF-8) |
//! | | 4 | the backend's own format version ([`crate::Backend::SAVED_FORMAT`]) |
//! | | 8 | hash of the compiled-in tables the backend's saved form depends on ([`crate::Backend::saved_tables_hash`]) |
//! | | 1 | number of grammars `g` (every grammar of this build, in [`Language::ALL`]'s order) |
//! | | per grammar: 1 + n, 4, 8, 8 | its name, tree-sitter ABI version, xxh3 of its kind table (every kind id's name, named and visible flags), xxh3 of its field table (every field id's name) |
//! | | 8 | number of files |
//! | | 4 | number of sections `s` |
//! | | per section: 4, 8, 8, 8 | tag, offset, length, xxh3-64 of its bytes |
//! | | | zero bytes up to `H - 8` |
//! | `H - 8` | 8 | xxh3-64 of bytes `0 .. H - 8` |
//!
//! Sections 1 and 2 are the container's own, written for every backend:
//!
//! | tag | section | contents |
//! | --- | --- | --- |
//! | 1 | files | per file, 24 bytes: its source's size (`u64`), its source's xxh3-64 (`u64`), where its path ends in section 2 (`u32`), its language (index in [`Language::ALL`], `u8`), 3 zero bytes |
//! | 2 | paths | every file's path (relative to the corpus root), end to end, UTF-8 |
//! | 16 and up | the backend's | whatever [`crate::Backend::save`] gives, read back by [`crate::Backend::open`] |
//!
//! # What is checked, and what it guarantees
//!
//! Checksums are per section (and the header's own), all verified by [`open`] before the store is built, so
//! a damaged file is caught before its first use: a store's reads ([`crate::CstStore::text`], its cursors) cannot
//! fail, so nothing can be left to check lazily. The hash is xxh3-64 (`xxhash-rust`): it runs at memory
//! speed (tens of GB/s on one core, so checking is a small part of an open, which touches every page
//! anyway), and a random change (truncation, flipped bits, a section moved) passes it with probability
//! 2^-64. It is not a signature: it guarantees that the bytes are the ones a save wrote, not that their
//! writer was honest; a file forged with valid checksums is outside what it guards. Per section rather than
//! whole-file so that each error names the part that is damaged.
//!
//! Before the checksums: the length (a zero-byte or truncated file), the magic, the format version and the
//! header's length against the file's. After them (the padding between sections is checked to be zero, so
//! that every byte of the file is covered), before anything is allocated from a count: the backend's
//! name, format version and tables hash (a file saved by a build with other trained tables is stale), every
//! grammar's name, ABI version and table hashes, each section's offset, alignment, length (against the
//! file's end, with overflow checked), order and tag, and the files section's size against the file count.
//! The backend's [`crate::Backend::open`] then checks its own sections' structure (see the backend's docs).
//!
//! Every error names the file and what is wrong with it ([`OpenError`]). Writing is atomic
//! ([`save`]): a temporary file beside the target, flushed to disk, then renamed over it.
//!
//! # Costs
//!
//! [`save`] writes each section once (hashing it first: two passes over the store's bytes). [`open`] maps the
//! file (`memmap2`, in `map.rs`, the only `unsafe` here), hashes every byte once, and allocates only the
//! section table (36 bytes per section); what the backend then allocates is its own. A store opened from a
//! mapping reads its bytes from it in place, through [`SharedBytes`].

mod map;
pub mod store;

use crate::Language;
use std::borrow::Cow;
use std::fmt;
use std::fs::File;
use std::io::{self, Write};
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use xxhash_rust::xxh3::xxh3_64;

/// The file's first 8 bytes.
pub const MAGIC: [u8; 8] = *b"CSTSAVE\0";
/// The container's format version, which [`open`] requires.
pub const FORMAT_VERSION: u32 = 1;
/// Tag of the container's files section (size, hash, path end and language of each file).
pub const FILES: u32 = 1;
/// Tag of the container's paths section.
pub const PATHS: u32 = 2;
/// The first tag a backend may use.
pub const FIRST_BACKEND_TAG: u32 = 16;
/// Bytes of one entry of the files section.
pub const FILE_ENTRY: usize = 24;
/// Bytes of one entry of the header's section table.
const SECTION_ENTRY: usize = 28;
/// Bytes before the header's body: magic, version, header length.
const PREFIX: usize = 16;

/// The xxh3-64 of `bytes`: what the saved form hashes sources and sections with.
pub fn hash(bytes: &[u8]) -> u64 {
    xxh3_64(bytes)
}

/// A grammar as a saved file names it: what a file saved with another version of it would differ in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GrammarStamp {
    pub name: String,
    pub abi: u32,
    pub kinds_hash: u64,
    pub fields_hash: u64,
}

impl GrammarStamp {
    /// This build's stamp of `language`'s grammar.
    pub fn of(language: Language) -> GrammarStamp {
        let grammar = language.grammar();
        let mut kinds = Vec::new();
        for id in 0..grammar.node_kind_count() as u16 {
            kinds.extend_from_slice(grammar.node_kind_for_id(id).unwrap_or("").as_bytes());
            kinds.push(0);
            kinds.push(u8::from(grammar.node_kind_is_named(id)));
            kinds.push(u8::from(grammar.node_kind_is_visible(id)));
        }
        let mut fields = Vec::new();
        for id in 1..=grammar.field_count() as u16 {
            fields.extend_from_slice(grammar.field_name_for_id(id).unwrap_or("").as_bytes());
            fields.push(0);
        }
        GrammarStamp {
            name: language.name().to_string(),
            abi: grammar.abi_version() as u32,
            kinds_hash: hash(&kinds),
            fields_hash: hash(&fields),
        }
    }

    /// This build's stamps of every grammar, in [`Language::ALL`]'s order (computed once).
    pub fn all() -> &'static [GrammarStamp] {
        static STAMPS: OnceLock<Vec<GrammarStamp>> = OnceLock::new();
        STAMPS.get_or_init(|| Language::ALL.iter().map(|&l| GrammarStamp::of(l)).collect())
    }
}

/// One section as the header lists it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SectionEntry {
    pub tag: u32,
    pub offset: u64,
    pub len: u64,
    pub hash: u64,
}

/// What a saved file's header says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    pub backend: String,
    pub backend_format: u32,
    pub tables_hash: u64,
    pub grammars: Vec<GrammarStamp>,
    pub files: u64,
    pub sections: Vec<SectionEntry>,
}

impl Header {
    /// The header's bytes, checksum included.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        out.extend_from_slice(&[0; 4]);
        put_name(&mut out, &self.backend);
        out.extend_from_slice(&self.backend_format.to_le_bytes());
        out.extend_from_slice(&self.tables_hash.to_le_bytes());
        out.push(self.grammars.len() as u8);
        for g in &self.grammars {
            put_name(&mut out, &g.name);
            out.extend_from_slice(&g.abi.to_le_bytes());
            out.extend_from_slice(&g.kinds_hash.to_le_bytes());
            out.extend_from_slice(&g.fields_hash.to_le_bytes());
        }
        out.extend_from_slice(&self.files.to_le_bytes());
        out.extend_from_slice(&(self.sections.len() as u32).to_le_bytes());
        for s in &self.sections {
            out.extend_from_slice(&s.tag.to_le_bytes());
            out.extend_from_slice(&s.offset.to_le_bytes());
            out.extend_from_slice(&s.len.to_le_bytes());
            out.extend_from_slice(&s.hash.to_le_bytes());
        }
        out.resize(out.len().next_multiple_of(8) + 8, 0);
        let len = out.len();
        out[12..16].copy_from_slice(&(len as u32).to_le_bytes());
        let checksum = hash(&out[..len - 8]);
        out[len - 8..].copy_from_slice(&checksum.to_le_bytes());
        out
    }

    /// The header's length in bytes (what [`Header::to_bytes`] gives), for laying out the sections.
    fn len(&self) -> usize {
        let names = 1
            + self.backend.len()
            + self
                .grammars
                .iter()
                .map(|g| 1 + g.name.len() + 20)
                .sum::<usize>();
        (PREFIX + names + 4 + 8 + 1 + 8 + 4 + SECTION_ENTRY * self.sections.len())
            .next_multiple_of(8)
            + 8
    }
}

fn put_name(out: &mut Vec<u8>, name: &str) {
    let bytes = &name.as_bytes()[..name.len().min(255)];
    out.push(bytes.len() as u8);
    out.extend_from_slice(bytes);
}

/// What a backend hands to [`save`]: its sections, borrowed from the store where they can be.
#[derive(Default)]
pub struct Sections<'a> {
    list: Vec<(u32, Cow<'a, [u8]>)>,
}

impl<'a> Sections<'a> {
    /// Adds a section (tags from [`FIRST_BACKEND_TAG`] up, each once).
    pub fn add(&mut self, tag: u32, bytes: impl Into<Cow<'a, [u8]>>) {
        self.list.push((tag, bytes.into()));
    }
}

/// Why a save failed. The target is left as it was.
#[derive(Debug)]
pub struct SaveError {
    pub file: PathBuf,
    pub what: String,
}

impl fmt::Display for SaveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: cannot save: {}", self.file.display(), self.what)
    }
}

impl std::error::Error for SaveError {}

/// Why a saved file was refused: the file and what is wrong with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenError {
    pub file: String,
    pub what: String,
}

impl fmt::Display for OpenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.file, self.what)
    }
}

impl std::error::Error for OpenError {}

/// Writes `header` (its section table filled in here) and `sections` to `path` atomically. Public for the
/// tests that write files of another version, backend or grammar.
#[doc(hidden)]
pub fn write_file(
    mut header: Header,
    sections: &[(u32, Cow<'_, [u8]>)],
    path: &Path,
) -> io::Result<u64> {
    header.sections = sections
        .iter()
        .map(|(tag, bytes)| SectionEntry {
            tag: *tag,
            offset: 0,
            len: bytes.len() as u64,
            hash: hash(bytes),
        })
        .collect();
    let mut at = header.len() as u64;
    for s in &mut header.sections {
        s.offset = at;
        at = (at + s.len).next_multiple_of(8);
    }
    let head = header.to_bytes();
    debug_assert_eq!(head.len(), header.len());
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let mut temp = tempfile::NamedTempFile::new_in(dir)?;
    let mut written = 0u64;
    {
        let mut out = io::BufWriter::new(temp.as_file_mut());
        out.write_all(&head)?;
        written += head.len() as u64;
        for ((_, bytes), entry) in sections.iter().zip(&header.sections) {
            let pad = (entry.offset - written) as usize;
            out.write_all(&[0; 8][..pad])?;
            out.write_all(bytes)?;
            written = entry.offset + entry.len;
        }
        out.flush()?;
    }
    temp.as_file().sync_all()?;
    temp.persist(path).map_err(|e| e.error)?;
    // The rename itself reaches the disk with the directory's own flush (a failure here leaves the new file
    // whole in place, so it is not an error).
    if let Ok(dir) = File::open(dir) {
        let _ = dir.sync_all();
    }
    Ok(written)
}

/// Bytes of an opened file: a range of its mapping (or of the bytes read into memory), which it keeps alive.
#[derive(Clone)]
pub struct SharedBytes {
    owner: map::Shared,
    start: usize,
    len: usize,
}

impl SharedBytes {
    /// The bytes `start..start + len` of these (`None` past their end).
    pub fn slice(&self, start: usize, len: usize) -> Option<SharedBytes> {
        let end = start.checked_add(len)?;
        (end <= self.len).then(|| SharedBytes {
            owner: Arc::clone(&self.owner),
            start: self.start + start,
            len,
        })
    }
}

impl Deref for SharedBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.owner[self.start..self.start + self.len]
    }
}

impl fmt::Debug for SharedBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SharedBytes({} bytes)", self.len)
    }
}

/// One file a saved store holds, as the container's files section gives it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SavedFile<'a> {
    pub path: &'a str,
    pub language: Language,
    /// Its source's size and xxh3-64 when it was saved.
    pub size: u64,
    pub hash: u64,
}

/// An opened file whose header, checksums and container sections were checked: what [`crate::Backend::open`] reads
/// its sections from.
pub struct Opened {
    name: String,
    header: Header,
    bytes: SharedBytes,
    map: Option<Arc<map::Map>>,
}

impl Opened {
    /// The file's name, as errors give it.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// What the header says.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// Number of files held.
    pub fn file_count(&self) -> usize {
        self.header.files as usize
    }

    /// The bytes of the section tagged `tag` (an error naming it if the file has none).
    pub fn section(&self, tag: u32) -> Result<SharedBytes, String> {
        let entry = self
            .header
            .sections
            .iter()
            .find(|s| s.tag == tag)
            .ok_or_else(|| format!("section {tag} is missing"))?;
        Ok(self
            .bytes
            .slice(entry.offset as usize, entry.len as usize)
            .expect("section bounds checked at open"))
    }

    /// File `index`'s entry (checked at open: its path is a UTF-8 range of the paths, its language known).
    pub fn file(&self, index: usize) -> SavedFile<'_> {
        let entries = self.section_slice(FILES);
        let paths = self.section_slice(PATHS);
        let entry = &entries[index * FILE_ENTRY..(index + 1) * FILE_ENTRY];
        let path_start = if index == 0 {
            0
        } else {
            u32_at(entries, index * FILE_ENTRY - 8) as usize
        };
        let path_end = u32_at(entry, 16) as usize;
        SavedFile {
            path: std::str::from_utf8(&paths[path_start..path_end]).unwrap_or(""),
            language: Language::ALL[usize::from(entry[20]) % Language::ALL.len()],
            size: u64_at(entry, 0),
            hash: u64_at(entry, 8),
        }
    }

    fn section_slice(&self, tag: u32) -> &[u8] {
        let entry = self.header.sections.iter().find(|s| s.tag == tag);
        entry.map_or(&[], |e| {
            &self.bytes[e.offset as usize..(e.offset + e.len) as usize]
        })
    }

    /// The file's pages resident in memory now, and its pages (`None` for bytes read into memory).
    pub fn resident_pages(&self) -> Option<(u64, u64)> {
        self.map.as_ref().and_then(|m| m.resident_pages().ok())
    }

    fn error(&self, what: impl Into<String>) -> OpenError {
        OpenError {
            file: self.name.clone(),
            what: what.into(),
        }
    }
}

/// Reads and checks a saved file's header and checksums without knowing its backend (what `xtask open`
/// reads to choose the backend).
pub fn read_header(path: &Path) -> Result<Header, OpenError> {
    let name = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| OpenError {
        file: name.clone(),
        what: format!("cannot be read: {e}"),
    })?;
    check(&name, &bytes).map_err(|what| OpenError { file: name, what })
}

/// Every check that does not depend on the backend (see the module's docs), in the order given there.
fn check(_name: &str, bytes: &[u8]) -> Result<Header, String> {
    let len = bytes.len();
    if len == 0 {
        return Err("is empty (0 bytes): not a saved CST store".into());
    }
    if len < PREFIX + 8 {
        return Err(format!(
            "is truncated: {len} bytes, shorter than any saved store's header"
        ));
    }
    if bytes[..8] != MAGIC {
        return Err(
            "is not a saved CST store (its first 8 bytes are not the magic CSTSAVE)".into(),
        );
    }
    let version = u32_at(bytes, 8);
    if version != FORMAT_VERSION {
        return Err(format!(
            "is of saved-store format version {version}; this build reads version {FORMAT_VERSION}"
        ));
    }
    let head_len = u32_at(bytes, 12) as usize;
    if head_len < PREFIX + 8 || !head_len.is_multiple_of(8) {
        return Err(format!(
            "claims a header of {head_len} bytes, which no save writes"
        ));
    }
    if head_len > len {
        return Err(format!(
            "is truncated, or claims a length past its end: its header takes {head_len} bytes, the file has {len}"
        ));
    }
    let stored = u64_at(bytes, head_len - 8);
    if hash(&bytes[..head_len - 8]) != stored {
        return Err("is damaged: its header's checksum does not match".into());
    }
    let header = parse_header(&bytes[PREFIX..head_len - 8]).map_err(|e| format!("header: {e}"))?;
    let ours = GrammarStamp::all();
    if header.grammars.len() != ours.len() {
        return Err(format!(
            "was saved with {} grammars, this build has {}",
            header.grammars.len(),
            ours.len()
        ));
    }
    for (theirs, ours) in header.grammars.iter().zip(ours) {
        if theirs.name != ours.name {
            return Err(format!(
                "grammar {:?} where this build has {}",
                theirs.name, ours.name
            ));
        }
        if theirs.abi != ours.abi {
            return Err(format!(
                "was saved with grammar {} of ABI version {}, this build's is {}",
                ours.name, theirs.abi, ours.abi
            ));
        }
        if theirs.kinds_hash != ours.kinds_hash || theirs.fields_hash != ours.fields_hash {
            return Err(format!(
                "was saved with another version of grammar {} (its kind or field table differs)",
                ours.name
            ));
        }
    }
    for pair in header.sections.windows(2) {
        if pair[1].tag <= pair[0].tag {
            return Err(format!(
                "section {} follows section {}: tags must rise (sections swapped or repeated)",
                pair[1].tag, pair[0].tag
            ));
        }
    }
    let mut end = head_len as u64;
    for s in &header.sections {
        if !s.offset.is_multiple_of(8) || s.offset < end || s.offset - end >= 8 {
            return Err(format!(
                "section {} starts at {}, not at the first multiple of 8 after the previous one's end ({end})",
                s.tag, s.offset
            ));
        }
        // (In bounds: the previous section's end was checked, and this gap is less than 8 bytes before an
        // offset checked below.)
        if s.offset as usize <= len
            && bytes[end as usize..s.offset as usize]
                .iter()
                .any(|&b| b != 0)
        {
            return Err(format!("the padding before section {} is not zero", s.tag));
        }
        end = s
            .offset
            .checked_add(s.len)
            .filter(|&e| e <= len as u64)
            .ok_or_else(|| {
                format!(
                    "is truncated, or claims a length past its end: section {} takes bytes {} to {}, the file has {len}",
                    s.tag,
                    s.offset,
                    u128::from(s.offset) + u128::from(s.len)
                )
            })?;
    }
    if end != len as u64 {
        return Err(format!(
            "has {} bytes past its last section",
            len as u64 - end
        ));
    }
    for s in &header.sections {
        let body = &bytes[s.offset as usize..(s.offset + s.len) as usize];
        if hash(body) != s.hash {
            return Err(format!(
                "is damaged: section {}'s checksum does not match",
                s.tag
            ));
        }
    }
    check_files(&header, bytes)?;
    Ok(header)
}

/// The files and paths sections: one entry per file, paths rising within the paths section on character
/// boundaries, languages known.
fn check_files(header: &Header, bytes: &[u8]) -> Result<(), String> {
    let section = |tag: u32| {
        header
            .sections
            .iter()
            .find(|s| s.tag == tag)
            .map(|s| &bytes[s.offset as usize..(s.offset + s.len) as usize])
            .ok_or_else(|| format!("section {tag} is missing"))
    };
    let (entries, paths) = (section(FILES)?, section(PATHS)?);
    if header.files.checked_mul(FILE_ENTRY as u64) != Some(entries.len() as u64) {
        return Err(format!(
            "the files section has {} bytes, not {FILE_ENTRY} for each of {} files",
            entries.len(),
            header.files
        ));
    }
    let paths =
        std::str::from_utf8(paths).map_err(|_| "the paths section is not UTF-8".to_string())?;
    let mut previous = 0usize;
    for (i, entry) in entries.chunks_exact(FILE_ENTRY).enumerate() {
        let path_end = u32_at(entry, 16) as usize;
        if path_end < previous || path_end > paths.len() || !paths.is_char_boundary(path_end) {
            return Err(format!(
                "file {i}'s path ends at {path_end}, outside the paths section"
            ));
        }
        if usize::from(entry[20]) >= Language::ALL.len() || entry[21..24] != [0; 3] {
            return Err(format!("file {i}'s language byte {} is unknown", entry[20]));
        }
        previous = path_end;
    }
    Ok(())
}

/// Reads the header's body (between the prefix and the checksum), every length checked against it.
fn parse_header(body: &[u8]) -> Result<Header, String> {
    let mut r = Reader { bytes: body, at: 0 };
    let backend = r.name()?;
    let backend_format = r.u32()?;
    let tables_hash = r.u64()?;
    let grammar_count = r.u8()?;
    let mut grammars = Vec::with_capacity(usize::from(grammar_count));
    for _ in 0..grammar_count {
        grammars.push(GrammarStamp {
            name: r.name()?,
            abi: r.u32()?,
            kinds_hash: r.u64()?,
            fields_hash: r.u64()?,
        });
    }
    let files = r.u64()?;
    let section_count = r.u32()? as usize;
    if section_count.saturating_mul(SECTION_ENTRY) > body.len() - r.at {
        return Err(format!(
            "claims {section_count} sections, more than it has room for"
        ));
    }
    let mut sections = Vec::with_capacity(section_count);
    for _ in 0..section_count {
        sections.push(SectionEntry {
            tag: r.u32()?,
            offset: r.u64()?,
            len: r.u64()?,
            hash: r.u64()?,
        });
    }
    if body[r.at..].iter().any(|&b| b != 0) {
        return Err("has bytes after its section table".into());
    }
    Ok(Header {
        backend,
        backend_format,
        tables_hash,
        grammars,
        files,
        sections,
    })
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.bytes.len());
        let end = end.ok_or_else(|| format!("ends inside a field at byte {}", self.at + PREFIX))?;
        let bytes = &self.bytes[self.at..end];
        self.at = end;
        Ok(bytes)
    }
    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }
    fn u32(&mut self) -> Result<u32, String> {
        Ok(u32_at(self.take(4)?, 0))
    }
    fn u64(&mut self) -> Result<u64, String> {
        Ok(u64_at(self.take(8)?, 0))
    }
    fn name(&mut self) -> Result<String, String> {
        let len = usize::from(self.u8()?);
        let bytes = self.take(len)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| "a name is not UTF-8".to_string())
    }
}

/// The little-endian `u32` at `at` (which the caller has checked is in bounds).
pub fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"))
}

/// The little-endian `u64` at `at` (which the caller has checked is in bounds).
pub fn u64_at(bytes: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"))
}

/// The system's page size in bytes (what resident pages are counted in).
pub fn page_size() -> usize {
    map::page_size()
}

/// Drops the page cache's pages of `path`, so that the next open reads it again (a hint the kernel may
/// partly ignore): for measuring which pages an open touches.
pub fn evict_from_page_cache(path: &Path) -> io::Result<()> {
    map::evict(&File::open(path)?)
}
