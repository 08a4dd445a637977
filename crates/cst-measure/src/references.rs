//! tree-sitter's answer for every file of a corpus, recorded once per run: what verification compares every
//! backend with.
//!
//! [`References::record`] parses each file with a fresh parse of its own and writes the file's
//! [`ReferenceTree`] to one file on disk. Every measuring process then reads the
//! records it needs from that file ([`References::get`]), so no process parses a file twice and the
//! comparison is always with a parse the backend never saw.
//!
//! Layout: the records one after another, then a footer: each record's offset (`u64` LE per file), the
//! seconds spent parsing (`f64` LE), the number of files (`u64` LE) and the magic `MAGIC`.
//!
//! [`bare_walk`] is the walk the build-time table compares every conversion with (timed by the harness
//! beside each backend's conversion, on the same trees).

use crate::corpus::Corpus;
use crate::measurement::Progress;
use crate::reference::ReferenceTree;
use anyhow::{bail, Context};
use std::io::{BufWriter, Write};
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::time::Instant;

/// The last bytes of a references file.
const MAGIC: &[u8; 8] = b"CSTREF02";
/// Footer bytes after the offsets: parse seconds, file count, magic.
const TRAILER: u64 = 8 * 2 + MAGIC.len() as u64;

/// A recorded corpus, open for reading by any number of threads.
pub struct References {
    file: std::fs::File,
    /// Where each file's record starts; one more entry marks the end of the last.
    offsets: Vec<u64>,
    /// Seconds spent parsing every file, when recorded.
    pub parse_seconds: f64,
}

/// A bare preorder walk of `tree` with tree-sitter's `TreeCursor`, reading what every backend keeps of each
/// node (kind, field, range, missing flag): what a conversion is compared with. It is the plain walk (first
/// child, else next sibling, else up); the converters walk through [`crate::tree_walk::CountedCursor`],
/// which skips the moves that would fail, and so take less than this for their own walk.
pub fn bare_walk(tree: &tree_sitter::Tree) -> u64 {
    let mut cursor = tree.walk();
    let mut sum = 0u64;
    loop {
        let node = cursor.node();
        sum = sum
            .wrapping_add(u64::from(node.kind_id()))
            .wrapping_add(u64::from(cursor.field_id().map_or(0, |f| f.get())))
            .wrapping_add(node.start_byte() as u64)
            .wrapping_add(node.end_byte() as u64)
            .wrapping_add(u64::from(node.is_missing()));
        if cursor.goto_first_child() {
            continue;
        }
        loop {
            if cursor.goto_next_sibling() {
                break;
            }
            if !cursor.goto_parent() {
                return sum;
            }
        }
    }
}

impl References {
    /// Parses and records every file of `corpus` into `path`.
    pub fn record(corpus: &Corpus, path: &Path, progress: &mut dyn Progress) -> anyhow::Result<()> {
        let file = std::fs::File::create(path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        let mut out = BufWriter::with_capacity(1 << 20, file);
        let mut parsers: [Option<tree_sitter::Parser>; 4] = Default::default();
        let mut offsets = Vec::with_capacity(corpus.files.len() + 1);
        let (mut written, mut parse_seconds) = (0u64, 0.0);
        progress.phase("parsing for verification", corpus.files.len() as u64);
        for (index, file) in corpus.files.iter().enumerate() {
            let text = file.text()?;
            let parser =
                parsers[file.language.index()].get_or_insert_with(|| file.language.parser());
            let clock = Instant::now();
            let tree = parser.parse(&*text, None).expect("no timeout is set");
            parse_seconds += clock.elapsed().as_secs_f64();
            offsets.push(written);
            let mut counted = Counted {
                inner: &mut out,
                bytes: 0,
            };
            ReferenceTree::write(&tree, &mut counted)?;
            written += counted.bytes;
            progress.advance(index as u64 + 1);
        }
        offsets.push(written);
        for offset in &offsets {
            out.write_all(&offset.to_le_bytes())?;
        }
        out.write_all(&parse_seconds.to_le_bytes())?;
        out.write_all(&(corpus.files.len() as u64).to_le_bytes())?;
        out.write_all(MAGIC)?;
        out.flush()
            .with_context(|| format!("cannot write {}", path.display()))
    }

    /// Opens what [`References::record`] wrote.
    pub fn open(path: &Path) -> anyhow::Result<References> {
        let file = std::fs::File::open(path)
            .with_context(|| format!("cannot open the references file {}", path.display()))?;
        let len = file.metadata()?.len();
        let mut trailer = [0u8; TRAILER as usize];
        if len < TRAILER {
            bail!("{} is not a references file", path.display());
        }
        file.read_exact_at(&mut trailer, len - TRAILER)?;
        let word =
            |i: usize| u64::from_le_bytes(trailer[i * 8..i * 8 + 8].try_into().expect("8 bytes"));
        if &trailer[16..] != MAGIC {
            bail!("{} is not a references file", path.display());
        }
        let files = word(1);
        let table = (files + 1) * 8;
        if len < TRAILER + table {
            bail!("{} is truncated", path.display());
        }
        let mut raw = vec![0u8; table as usize];
        file.read_exact_at(&mut raw, len - TRAILER - table)?;
        let offsets = raw
            .chunks_exact(8)
            .map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes")))
            .collect();
        Ok(References {
            file,
            offsets,
            parse_seconds: f64::from_bits(word(0)),
        })
    }

    /// The recorded tree of corpus file `index`.
    pub fn get(&self, index: usize) -> anyhow::Result<ReferenceTree> {
        let (start, end) = (self.offsets[index], self.offsets[index + 1]);
        let mut bytes = vec![0u8; (end - start) as usize];
        self.file.read_exact_at(&mut bytes, start)?;
        ReferenceTree::read(&mut bytes.as_slice()).context("corrupt reference record")
    }

    /// Files recorded.
    pub fn len(&self) -> usize {
        self.offsets.len() - 1
    }

    /// Whether no file was recorded.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A writer that counts what passes through it.
struct Counted<'a, W> {
    inner: &'a mut W,
    bytes: u64,
}

impl<W: Write> Write for Counted<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}
