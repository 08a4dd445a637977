//! What each part of the frozen store costs: the tree (node symbols: kinds, fields, shape), whitespace (gaps),
//! identifiers (interner references and new identifiers' lengths and bytes) and the rest (other leaf texts),
//! each as coded bits in the rANS streams, literal bytes before compression, and model bytes; for the
//! report and for working on the format.

use crate::codec::{self, Kinds, Sink};
use crate::model::{Counts, Model};
use cst_measure::Language;

/// The parts a blob's bytes are split into.
pub const PARTS: [&str; 4] = ["tree", "whitespace", "identifiers", "other texts"];

/// Costs per part (indexed as [`PARTS`]).
#[derive(Clone, Debug, Default)]
pub struct Breakdown {
    /// Bits coded in the rANS streams (symbols and their raw bits).
    pub coded_bits: [f64; 4],
    /// Literal bytes before compression.
    pub literal_bytes: [u64; 4],
    /// Contexts and table entries of the model.
    pub contexts: [u64; 4],
    pub entries: [u64; 4],
    /// Symbols coded (node symbols: one per node and one END per inner node).
    pub symbols: [u64; 4],
    pub nodes: u64,
    pub leaves: u64,
    pub source_bytes: u64,
    /// The most common escaped gaps and other literal texts (for working on the format).
    pub common_literals: Vec<(usize, u64, String)>,
}

fn part(kinds: &Kinds, key: u32) -> usize {
    let (tag, lang, a, b) = (
        key >> 29,
        ((key >> 27) & 3) as usize,
        (key >> 13) & 0x3fff,
        key & 0x1fff,
    );
    let identifier = |slot: u32| {
        let kind = if slot == codec::ERROR_SLOT {
            u16::MAX
        } else {
            slot as u16
        };
        slot <= codec::ERROR_SLOT && kinds.is_identifier(lang, kind)
    };
    match tag {
        codec::NODE | codec::NODE3 => 0,
        codec::GAP | codec::GAP_FIRST | codec::TRAIL => 1,
        codec::LEN
            if a >= codec::LEX && kinds.class_is_identifier(lang, (a - codec::LEX) as u16) =>
        {
            2
        }
        codec::LEN if a >= codec::LEX => 3,
        codec::LEN if a == codec::GAP_TEXT || a == codec::LIT + 1 => 1,
        codec::LEN if a == codec::LIT => 2,
        codec::LEN if a == codec::LIT + 2 => 3,
        _ if a == crate::model::WILD && b == crate::model::WILD => 3,
        _ if identifier(a) => 2,
        _ => 3,
    }
}

struct Tally<'a> {
    seen: &'a mut std::collections::HashMap<(usize, Vec<u8>), u64>,
    model: &'a Model,
    kinds: &'a Kinds,
    current: usize,
    out: &'a mut Breakdown,
}

impl Sink for Tally<'_> {
    fn symbol(&mut self, key: u32, value: u32) {
        self.current = part(self.kinds, key);
        self.out.coded_bits[self.current] += self.model.cost(key, value);
        self.out.symbols[self.current] += 1;
    }
    fn node_symbol(&mut self, finer: u32, fine: u32, value: u32) {
        self.current = 0;
        self.out.coded_bits[0] += self.model.cost_at(self.model.table2(finer, fine), value);
        self.out.symbols[0] += 1;
    }
    fn raw(&mut self, _: u32, bits: u32) {
        self.out.coded_bits[self.current] += f64::from(bits);
    }
    fn literal(&mut self, _: u32, bytes: &[u8]) {
        self.out.literal_bytes[self.current] += bytes.len() as u64;
        *self.seen.entry((self.current, bytes.to_vec())).or_default() += bytes.len() as u64;
    }
}

/// The costs of freezing `files` together (as `finish()` would, every file's literals inline or not as
/// there), and the lexicon's entries and bytes.
pub fn breakdown(files: &[(Language, &str)]) -> (Breakdown, (usize, usize)) {
    let trees: Vec<_> = files.iter().map(|(l, t)| l.parse(t)).collect();
    let flats: Vec<_> = trees
        .iter()
        .zip(files)
        .map(|(tree, (_, t))| codec::flatten(tree, t.len()).expect("representable"))
        .collect();
    let views: Vec<crate::staging::FileView<'_>> = flats
        .iter()
        .zip(files)
        .map(|(f, (l, t))| (l.index(), crate::staging::Nodes::Flat(t.as_bytes(), &f[..])))
        .collect();
    let (kinds, inline) = codec::learn(&views, crate::INLINE_LITERALS, codec::BLOCK_NODES);
    let lexicon = kinds.lexicon_index();
    let cx = codec::Context {
        kinds: &kinds,
        lexicon: &lexicon,
    };
    let mut counts = Counts::default();
    for ((f, (l, t)), &inline) in flats.iter().zip(files).zip(&inline) {
        codec::emit(
            l.index(),
            t.as_bytes(),
            f,
            &cx,
            inline,
            codec::BLOCK_NODES,
            &mut counts,
        );
    }
    let model = Model::build(counts, codec::WILD_A, codec::is_literal_context);
    let mut out = Breakdown::default();
    for (key, len) in model.tables() {
        let p = part(&kinds, key);
        out.contexts[p] += 1;
        out.entries[p] += len as u64;
    }
    let mut seen = std::collections::HashMap::new();
    for ((flat, (l, text)), &inline) in flats.iter().zip(files).zip(&inline) {
        let (lang, text) = (l.index(), text.as_bytes());
        out.nodes += flat.len() as u64;
        out.leaves += flat.iter().filter(|n| n.flags & codec::LEAF != 0).count() as u64;
        out.source_bytes += text.len() as u64;
        let mut tally = Tally {
            seen: &mut seen,
            model: &model,
            kinds: &kinds,
            current: 0,
            out: &mut out,
        };
        codec::emit(
            lang,
            text,
            flat,
            &cx,
            inline,
            codec::BLOCK_NODES,
            &mut tally,
        );
    }
    let mut common: Vec<(usize, u64, String)> = seen
        .into_iter()
        .map(|((p, t), n)| (p, n, String::from_utf8_lossy(&t).into_owned()))
        .collect();
    common.sort_by_key(|c| std::cmp::Reverse(c.1));
    common.truncate(30);
    out.common_literals = common;
    (out, kinds.lexicon_size())
}
