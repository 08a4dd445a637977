//! Staging: the nodes of a file taken in by `add` but not yet frozen, held compactly until `finish()` learns
//! the model from every file and codes them.
//!
//! A staged file is one byte string of LEB128 varints, node by node in preorder: a head (kind, then the
//! [`LEAF`] and [`MISSING`] flags and whether a field follows), the field (one byte, when not 0), the gap
//! from the previous boundary to the node's start, then for a leaf its length and for an inner node its
//! subtree's size in nodes; and after an inner node's last descendant, the gap from the last boundary to its
//! end. (The previous boundary is the one [`codec::flatten`](crate::codec::flatten)'s position check
//! walks: a leaf's end, an inner node's start, a closed node's end; it never goes back, so every gap is
//! non-negative.) Mostly 4 to 5 bytes per node against the 20 of a [`Flat`] record: on the built-in corpus
//! the nodes take about a quarter of what records took, and every pass of `finish()` unstages one file at a
//! time into one reused buffer (about 1 ns per node). Both directions are linear in the nodes; unstaging
//! bytes it did not write (it never sees any) gives wrong records, never a panic.

use crate::codec::{Flat, LEAF, MISSING};
use crate::literal;
use zstd_safe::{CCtx, DCtx};

/// A file taken in by `add`, staged: its nodes' bytes (as [`stage`] writes them) and its text, end to end,
/// as one zstd frame at [`LEVEL`] (or raw, when that is not shorter).
pub(crate) struct Staged {
    bytes: Box<[u8]>,
    nodes: u32,
    text: u32,
    compressed: bool,
}

/// zstd level of the staged files: the fastest, since every pass of `finish()` decompresses them again.
const LEVEL: i32 = 1;

impl Staged {
    /// `text` and `flat` (records that passed `flatten`'s checks) staged, compressed with `cctx` (a
    /// magicless compressor at [`LEVEL`]: [`compressor`]) if that is shorter; exactly sized.
    pub fn new(cctx: &mut CCtx<'_>, text: &[u8], flat: &[Flat]) -> Staged {
        let mut raw = stage(flat);
        let nodes = raw.len() as u32;
        raw.extend_from_slice(text);
        let compressed = literal::compress(cctx, &raw);
        let (bytes, compressed) = match compressed {
            Some(c) => (c.into_boxed_slice(), true),
            None => (raw.into_boxed_slice(), false),
        };
        Staged {
            bytes,
            nodes,
            text: text.len() as u32,
            compressed,
        }
    }

    /// Bytes this staged file holds.
    #[cfg(test)]
    pub fn held(&self) -> usize {
        self.bytes.len()
    }
}

/// The compressor [`Staged::new`] takes.
pub(crate) fn compressor() -> CCtx<'static> {
    literal::compressor(None, LEVEL, true)
}

/// The nodes of one file, as a pass over the files sees them: its text and records already flattened, or
/// a staged file.
#[derive(Clone, Copy)]
pub(crate) enum Nodes<'t> {
    Flat(&'t [u8], &'t [Flat]),
    Staged(&'t Staged),
}

/// A file to learn from or code: its language index and its nodes.
pub(crate) type FileView<'t> = (usize, Nodes<'t>);

/// Calls `f` with every file's index, language, text and records, in order, unstaging staged files into
/// one [`Unstager`]'s buffers.
pub(crate) fn each(files: &[FileView<'_>], mut f: impl FnMut(usize, usize, &[u8], &[Flat])) {
    let mut unstager = Unstager::default();
    for (i, &(lang, nodes)) in files.iter().enumerate() {
        match nodes {
            Nodes::Flat(text, flat) => f(i, lang, text, flat),
            Nodes::Staged(staged) => {
                let (text, records) = unstager.unstage(staged);
                f(i, lang, text, records);
            }
        }
    }
}

/// Reused buffers (and a zstd decompression context) to unstage files one at a time.
#[derive(Default)]
pub(crate) struct Unstager {
    records: Vec<Flat>,
    raw: Vec<u8>,
    dctx: Option<DCtx<'static>>,
}

impl Unstager {
    /// The text and records of `staged`, decompressed (about 1 ms per MB) and unstaged into this
    /// unstager's buffers. Staged bytes are this crate's own; bytes that do not decompress to their
    /// recorded sizes give an empty file, never a panic.
    pub fn unstage<'a>(&'a mut self, staged: &'a Staged) -> (&'a [u8], &'a [Flat]) {
        let bytes: &[u8] = if staged.compressed {
            self.raw.clear();
            let expected = staged.nodes as usize + staged.text as usize;
            self.raw.reserve(expected);
            let dctx = self.dctx.get_or_insert_with(literal::decompressor);
            if dctx.decompress(&mut self.raw, &staged.bytes).is_err() || self.raw.len() != expected
            {
                self.raw.clear();
            }
            &self.raw
        } else {
            &staged.bytes
        };
        let (nodes, text) = bytes.split_at(bytes.len().min(staged.nodes as usize));
        unstage(nodes, &mut self.records);
        (text, &self.records)
    }
}

fn put(out: &mut Vec<u8>, mut v: u32) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn get(bytes: &[u8], at: &mut usize) -> u32 {
    let (mut v, mut shift) = (0u32, 0);
    while let Some(&b) = bytes.get(*at) {
        *at += 1;
        v |= u32::from(b & 0x7f).wrapping_shl(shift);
        shift += 7;
        if b < 0x80 || shift > 28 {
            break;
        }
    }
    v
}

/// Whether a head says a field byte follows.
const FIELD: u32 = 4;

/// Stages `flat` (records that passed `flatten`'s checks) as bytes.
pub(crate) fn stage(flat: &[Flat]) -> Vec<u8> {
    let mut out = Vec::with_capacity(flat.len() * 5);
    let mut pos = 0u32;
    let mut open: Vec<usize> = Vec::new();
    let close = |open: &mut Vec<usize>, below: usize, pos: &mut u32, out: &mut Vec<u8>| {
        while let Some(&p) = open.last() {
            if (below as u32) < flat[p].next {
                break;
            }
            put(out, flat[p].end.wrapping_sub(*pos));
            *pos = flat[p].end;
            open.pop();
        }
    };
    for (i, n) in flat.iter().enumerate() {
        close(&mut open, i, &mut pos, &mut out);
        let head = u32::from(n.kind) << 3
            | u32::from(n.flags & (LEAF | MISSING))
            | if n.field != 0 { FIELD } else { 0 };
        put(&mut out, head);
        if n.field != 0 {
            out.push(n.field as u8);
        }
        put(&mut out, n.start.wrapping_sub(pos));
        pos = n.start;
        if n.flags & LEAF != 0 {
            put(&mut out, n.end - n.start);
            pos = n.end;
        } else {
            put(&mut out, n.next - i as u32);
            open.push(i);
        }
    }
    close(&mut open, flat.len(), &mut pos, &mut out);
    out
}

/// Rebuilds the records `stage` staged into `out` (cleared first).
pub(crate) fn unstage(bytes: &[u8], out: &mut Vec<Flat>) {
    out.clear();
    let (mut at, mut pos) = (0usize, 0u32);
    let mut open: Vec<usize> = Vec::new();
    while at < bytes.len() {
        // Close the inner nodes whose subtrees end here.
        let i = out.len() as u32;
        if let Some(&p) = open.last() {
            if i >= out[p].next {
                pos = pos.wrapping_add(get(bytes, &mut at));
                out[p].end = pos;
                open.pop();
                continue;
            }
        }
        let head = get(bytes, &mut at);
        let field = if head & FIELD != 0 {
            at += 1;
            u16::from(bytes.get(at - 1).copied().unwrap_or(0))
        } else {
            0
        };
        let flags = (head & 3) as u8;
        pos = pos.wrapping_add(get(bytes, &mut at));
        let start = pos;
        let (end, next) = if flags & LEAF != 0 {
            pos = pos.wrapping_add(get(bytes, &mut at));
            (pos, i + 1)
        } else {
            // Its end comes after its subtree; a subtree of at least itself.
            (start, i.wrapping_add(get(bytes, &mut at).max(1)))
        };
        if flags & LEAF == 0 {
            open.push(i as usize);
        }
        out.push(Flat {
            start,
            end,
            next,
            kind: (head >> 3) as u16,
            field,
            flags,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::{compressor, each, stage, unstage, Nodes, Staged};
    use crate::codec::flatten;
    use cst_measure::Language;

    /// Every record comes back as it was, for files of each language (and an empty one), staged alone and
    /// staged with the text, compressed.
    #[test]
    fn staged_records_come_back_whole() {
        let long = "def g(x):\n    return [x * i for i in range(10)]\n".repeat(40);
        let sources = [
            (
                Language::Python,
                "def f(a, b=2):\n    return a + b  # sum\n\nx = f(1)\n",
            ),
            (
                Language::Rust,
                "fn main() { let v: Vec<u8> = vec![1, 2]; println!(\"{v:?}\"); }\n",
            ),
            (
                Language::TypeScript,
                "export const f = (a: number): string => `${a}`;\n  \n",
            ),
            (Language::Python, ""),
            (Language::Rust, "fn broken( { let"),
            (Language::Python, &long),
        ];
        let mut cctx = compressor();
        for (language, source) in sources {
            let tree = language.parse(source);
            let flat = flatten(&tree, source.len()).expect("representable");
            let staged = stage(&flat);
            let mut back = Vec::new();
            unstage(&staged, &mut back);
            let same = |back: &[crate::codec::Flat]| {
                assert_eq!(back.len(), flat.len(), "{source:?}");
                for (a, b) in flat.iter().zip(back) {
                    assert_eq!(
                        (a.start, a.end, a.next, a.kind, a.field, a.flags),
                        (b.start, b.end, b.next, b.kind, b.field, b.flags),
                        "{source:?}"
                    );
                }
            };
            same(&back);
            assert!(staged.len() < flat.len() * 8, "{} bytes", staged.len());
            let packed = Staged::new(&mut cctx, source.as_bytes(), &flat);
            if source.len() > 1000 {
                assert!(
                    packed.held() * 4 < staged.len() + source.len(),
                    "{} bytes",
                    packed.held()
                );
            }
            let mut seen = 0;
            each(
                &[(language.index(), Nodes::Staged(&packed))],
                |_, lang, text, records| {
                    assert_eq!((lang, text), (language.index(), source.as_bytes()));
                    same(records);
                    seen += 1;
                },
            );
            assert_eq!(seen, 1);
        }
    }
}
