//! Trains the arena backend's models (`tables/*.model`) from code: the record codes of each grammar.
//!
//! Usage (what produced the committed tables; TSX is trained on the TypeScript directory parsed with the TSX
//! grammar, `.ts` and `.tsx` files alike):
//!
//! ```sh
//! cargo run -p backend-arena --release --example gen_tables -- crates/backend-arena/tables \
//!     python=/work/realcode/training/python rust=/work/realcode/training/rust \
//!     typescript=/work/realcode/training/typescript
//! ```
//!
//! `--holdout` trains on the even-numbered files of each directory (in path order) and reports the cost of
//! every record part on the odd-numbered ones, without writing anything: how the format's choices were
//! compared without looking at the measured corpus. `--holdout-packages` splits by package instead (the
//! first directory under each training directory, even-numbered packages in path order to train on, the
//! others to cost): code of packages the model never saw, as the measured code is.
//!
//! What is learned, per grammar (the record format itself is in `src/codec.rs`):
//! - **symbols**: each visible node is one symbol: (kind, field, leaf, last child, gap class, end class), where
//!   the gap class is 0, 1 or "coded" and the end class is "fixed length n" (for leaf kinds whose length is
//!   one value in at least 90% of their occurrences), "ends where its parent ends" (last children) or
//!   "coded". MISSING nodes and negative gaps are never symbols (raw records).
//! - **contexts**: a symbol is coded in the context (parent kind, previous sibling kind or none) when that
//!   pair occurs often enough ([`Params`]), with a fallback context per parent kind, and one global context
//!   behind those. A context keeps only the symbols it sees often enough; a fallback learns only the nodes
//!   its parent's pair contexts leave to it. Each context has a length-limited Huffman code over its
//!   symbols, most frequent first, plus an escape to its fallback (counted as the symbols seen once,
//!   Good-Turing's estimate of unseen ones, plus the occurrences of the symbols left out); the global
//!   context's escape leads to a raw record. The thresholds are per 1,000,000 training bytes and trade the
//!   static tables' bytes (reported, with `--holdout`, beside the records' bits) against the records.
//! - **number codes** (gaps, lengths, subtree sizes): a value below 16 is a symbol of its own, a larger one is
//!   the symbol of its bit length followed by the bits below its leading one. One Huffman code over those 44
//!   symbols (add-one smoothed, at most 8 bits) per kind with enough values ([`Params`]), one shared code
//!   for the other kinds; gaps, leaf lengths and inner-node lengths each have their own; subtree sizes one.
//! - **subtree sizes**: a node that is not its parent's last child stores the bit size of its descendants'
//!   records (one size code), or 0 when it has at most `backend_arena::SKIP_DESCENDANTS` of them (the size
//!   code learns how often; `--skip-descendants N` costs another choice of that constant, which the format
//!   fixes: tables trained with another value code worse, never wrongly).

use cst_measure::corpus::{Corpus, DEFAULT_MAX_FILE_BYTES};
use cst_measure::Language;
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};

/// What decides the model's size: how often a context, a symbol or a number code must occur in the training
/// code to get table space of its own, in occurrences per 1,000,000 bytes of training code (so that a
/// larger training set does not make larger tables, and `--holdout`, training on half, prunes alike). Every
/// part left out is coded through a wider context (or a shared number code) instead, so these trade the
/// static tables' bytes against the records' bits. The defaults are what the committed tables were trained
/// with; `--context-min N` and the like override them (to compare choices with `--holdout`).
#[derive(Clone, Copy, Debug)]
struct Params {
    /// Pairs (parent, previous sibling) seen fewer times share their parent's fallback context.
    context_min: f64,
    /// Parent kinds seen fewer times (as parents) have no fallback context: their pairs escape to the global.
    fallback_min: f64,
    /// A symbol seen fewer times in a pair context is left out of it (escaped to the fallback).
    pair_symbol_min: f64,
    /// The same in a parent's fallback context (escaped to the global context).
    fallback_symbol_min: f64,
    /// The same in the global context (escaped to a raw record).
    global_symbol_min: f64,
    /// Kinds with fewer coded values share one number code per purpose.
    family_min: f64,
    /// Whether a parent's fallback context learns only the nodes its pair contexts do not code (else every
    /// node under that parent).
    exclusion: bool,
}

impl Default for Params {
    fn default() -> Params {
        Params {
            context_min: 400.0,
            fallback_min: 0.0,
            pair_symbol_min: 40.0,
            fallback_symbol_min: 20.0,
            global_symbol_min: 1.0,
            family_min: 4000.0,
            exclusion: true,
        }
    }
}

impl Params {
    /// Reads `--NAME=N` (or `--NAME N`); returns whether `flag` was one of them.
    fn set(&mut self, flag: &str, value: &str) -> bool {
        let value: f64 = value
            .parse()
            .unwrap_or_else(|_| panic!("{flag}: not a number: {value}"));
        match flag {
            "--context-min" => self.context_min = value,
            "--fallback-min" => self.fallback_min = value,
            "--pair-symbol-min" => self.pair_symbol_min = value,
            "--fallback-symbol-min" => self.fallback_symbol_min = value,
            "--global-symbol-min" => self.global_symbol_min = value,
            "--family-min" => self.family_min = value,
            "--exclusion" => self.exclusion = value != 0.0,
            "--skip-descendants" => SKIP.store(value as u32, Ordering::Relaxed),
            _ => return false,
        }
        true
    }
}
/// Subtrees of at most this many descendants store no size (0 instead; the format's
/// [`backend_arena::SKIP_DESCENDANTS`], which `--skip-descendants N` overrides to compare choices).
static SKIP: AtomicU32 = AtomicU32::new(backend_arena::SKIP_DESCENDANTS);
/// Longest number code.
const NUMBER_LIMIT: u32 = 8;
/// Symbol codes: at least this long a limit, longer only when a context has more symbols than it holds.
const SYMBOL_LIMIT: u32 = 8;
const SYMBOL_LIMIT_MAX: u32 = 12;
/// Symbols a context can hold (its rank field is 12 bits; one rank is the escape).
const SYMBOLS_MAX: usize = 4095;
/// Fixed-length leaf kinds: the most common length covers at least this share of the kind's leaves.
const FIXED_SHARE: f64 = 0.90;
/// Symbols of the number alphabet: 0..=15 exactly, then bit lengths 4..=31.
const NUMBER_SYMBOLS: usize = 44;

/// Parent "kind" of the root; previous sibling "kind" of a first child.
const NONE: u16 = 0xFFFE;

/// A visible node as the encoder sees it.
#[derive(Clone, Copy, Debug)]
struct Node {
    kind: u16,
    field: u16,
    leaf: bool,
    last: bool,
    missing: bool,
    start: u32,
    end: u32,
    base: u32,
    parent_end: u32,
    parent: u16,
    prev: u16,
    descendants: u32,
}

/// The file's visible nodes in preorder.
fn flatten(tree: &tree_sitter::Tree, text_len: u32, out: &mut Vec<Node>) {
    let first = out.len();
    let mut cursor = tree.walk();
    let mut open: Vec<usize> = Vec::new();
    let (mut base, mut prev) = (0u32, NONE);
    loop {
        let node = cursor.node();
        let index = out.len();
        let (parent, parent_end) = match open.last() {
            Some(&p) => (out[p].kind, out[p].end),
            None => (NONE, text_len),
        };
        out.push(Node {
            kind: node.kind_id(),
            field: cursor.field_id().map_or(0, |f| f.get()),
            leaf: true,
            last: false,
            missing: node.is_missing(),
            start: node.start_byte() as u32,
            end: node.end_byte() as u32,
            base,
            parent_end,
            parent,
            prev,
            descendants: 0,
        });
        if cursor.goto_first_child() {
            out[index].leaf = false;
            open.push(index);
            (base, prev) = (out[index].start, NONE);
            continue;
        }
        let mut current = index;
        loop {
            if cursor.goto_next_sibling() {
                (base, prev) = (out[current].end, out[current].kind);
                break;
            }
            out[current].last = true;
            match open.pop() {
                Some(parent) => {
                    out[parent].descendants = (out.len() - parent - 1) as u32;
                    current = parent;
                    if !cursor.goto_parent() {
                        unreachable!("an open parent exists");
                    }
                }
                None => {
                    out[first].descendants = (out.len() - first - 1) as u32;
                    return;
                }
            }
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
enum Gap {
    Zero,
    One,
    Coded,
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
enum End {
    Fixed(u8),
    Parent,
    Coded,
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
struct Sym {
    kind: u16,
    field: u16,
    leaf: bool,
    last: bool,
    gap: Gap,
    end: End,
}

/// The most specific symbol of a node, or `None` for a raw record.
fn classify(node: &Node, fixed: &HashMap<u16, u8>) -> Option<Sym> {
    if node.missing || node.start < node.base {
        return None;
    }
    let gap = match node.start - node.base {
        0 => Gap::Zero,
        1 => Gap::One,
        _ => Gap::Coded,
    };
    let len = node.end - node.start;
    let end = if node.last && node.end == node.parent_end {
        End::Parent
    } else if node.leaf && fixed.get(&node.kind).is_some_and(|&n| u32::from(n) == len) {
        End::Fixed(len as u8)
    } else {
        End::Coded
    };
    Some(Sym {
        kind: node.kind,
        field: node.field,
        leaf: node.leaf,
        last: node.last,
        gap,
        end,
    })
}

/// Leaf kinds with one length in at least [`FIXED_SHARE`] of their occurrences (and that length below 256).
fn fixed_lengths(nodes: &[Node]) -> HashMap<u16, u8> {
    let mut by_kind: HashMap<u16, HashMap<u32, u64>> = HashMap::new();
    for n in nodes.iter().filter(|n| n.leaf && !n.missing) {
        *by_kind
            .entry(n.kind)
            .or_default()
            .entry(n.end - n.start)
            .or_default() += 1;
    }
    by_kind
        .into_iter()
        .filter_map(|(kind, lengths)| {
            let total: u64 = lengths.values().sum();
            let (&len, &count) = lengths
                .iter()
                .max_by_key(|&(&l, &c)| (c, std::cmp::Reverse(l)))?;
            (len < 256 && count as f64 >= FIXED_SHARE * total as f64).then_some((kind, len as u8))
        })
        .collect()
}

/// Huffman code lengths for `counts` (zero counts get no code), at most `limit` bits: counts are halved
/// (rounding up) until the code fits, which stays close to optimal for the skewed counts seen here.
fn code_lengths(counts: &[u64], limit: u32) -> Vec<u32> {
    let mut c = counts.to_vec();
    loop {
        let lengths = huffman(&c);
        if lengths.iter().all(|&l| l <= limit) {
            return lengths;
        }
        for x in c.iter_mut().filter(|x| **x > 0) {
            *x = x.div_ceil(2);
        }
    }
}

/// Plain Huffman code lengths (ties broken by index, so the result is deterministic).
fn huffman(counts: &[u64]) -> Vec<u32> {
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;
    let n = counts.len();
    let mut lengths = vec![0u32; n];
    let live: Vec<usize> = (0..n).filter(|&i| counts[i] > 0).collect();
    if live.len() == 1 {
        lengths[live[0]] = 1;
    }
    if live.len() <= 1 {
        return lengths;
    }
    // Tree nodes: leaves 0..n, internal nodes after; `up` is each one's parent.
    let mut up: Vec<usize> = vec![usize::MAX; n];
    let mut heap: BinaryHeap<Reverse<(u64, usize)>> =
        live.iter().map(|&i| Reverse((counts[i], i))).collect();
    while heap.len() > 1 {
        let Reverse((a, x)) = heap.pop().expect("two nodes");
        let Reverse((b, y)) = heap.pop().expect("two nodes");
        let id = up.len();
        up.push(usize::MAX);
        up[x] = id;
        up[y] = id;
        heap.push(Reverse((a + b, id)));
    }
    for &i in &live {
        let (mut x, mut depth) = (i, 0);
        while up[x] != usize::MAX {
            x = up[x];
            depth += 1;
        }
        lengths[i] = depth;
    }
    lengths
}

/// The number alphabet: a value's symbol and the count of bits that follow it.
fn number_symbol(value: u32) -> (usize, u32) {
    if value < 16 {
        (value as usize, 0)
    } else {
        let bits = 31 - value.leading_zeros();
        (16 + bits as usize - 4, bits)
    }
}

/// A trained number code.
struct Family {
    name: String,
    lengths: Vec<u32>,
}

impl Family {
    fn train(name: String, values: &[u64; NUMBER_SYMBOLS]) -> Family {
        let smoothed: Vec<u64> = values.iter().map(|&c| c + 1).collect();
        Family {
            name,
            lengths: code_lengths(&smoothed, NUMBER_LIMIT),
        }
    }

    fn cost(&self, value: u32) -> u32 {
        let (symbol, extra) = number_symbol(value);
        self.lengths[symbol] + extra
    }
}

/// Cost of a raw number (a 6-bit bit length, then the bits below the leading one).
fn raw_number_cost(value: u32) -> u32 {
    6 + (32 - value.leading_zeros()).saturating_sub(1)
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
enum Key {
    Global,
    Fallback(u16),
    Pair(u16, u16),
}

struct Context {
    key: Key,
    /// Symbols in rank order with their counts; the escape follows them (in `lengths`).
    symbols: Vec<(Sym, u64)>,
    lengths: Vec<u32>,
    /// Index of the context its escape leads to (`None` from the global context: a raw record).
    fallback: Option<usize>,
}

/// One grammar's trained model.
struct Model {
    contexts: Vec<Context>,
    /// Context index by key.
    by_key: HashMap<Key, usize>,
    families: Vec<Family>,
    gap_family: HashMap<u16, usize>,
    leaf_len_family: HashMap<u16, usize>,
    inner_len_family: HashMap<u16, usize>,
    gap_shared: usize,
    leaf_len_shared: usize,
    inner_len_shared: usize,
    size_family: usize,
    fixed: HashMap<u16, u8>,
    /// What it was pruned with.
    params: Params,
}

impl Model {
    /// The context a node is coded in: its (parent, previous sibling) pair's, else its parent's fallback,
    /// else the global one. Mirrors `Model::resolve` in `src/model.rs`.
    fn context_of(&self, parent: u16, prev: u16) -> usize {
        self.by_key
            .get(&Key::Pair(parent, prev))
            .or_else(|| self.by_key.get(&Key::Fallback(parent)))
            .copied()
            .unwrap_or(self.by_key[&Key::Global])
    }

    fn gap_family(&self, kind: u16) -> usize {
        *self.gap_family.get(&kind).unwrap_or(&self.gap_shared)
    }

    fn len_family(&self, kind: u16, leaf: bool) -> usize {
        if leaf {
            *self
                .leaf_len_family
                .get(&kind)
                .unwrap_or(&self.leaf_len_shared)
        } else {
            *self
                .inner_len_family
                .get(&kind)
                .unwrap_or(&self.inner_len_shared)
        }
    }
}

fn train(nodes: &[Node], bytes: u64, params: &Params) -> Model {
    // A rate per 1,000,000 training bytes as a count (at least 1).
    let min = |rate: f64| ((rate * bytes as f64 / 1e6).ceil() as u64).max(1);
    let fixed = fixed_lengths(nodes);
    let mut pair: HashMap<(u16, u16), HashMap<Sym, u64>> = HashMap::new();
    let mut parent: HashMap<u16, HashMap<Sym, u64>> = HashMap::new();
    let mut global: HashMap<Sym, u64> = HashMap::new();
    let mut gaps: HashMap<u16, [u64; NUMBER_SYMBOLS]> = HashMap::new();
    let mut leaf_lens: HashMap<u16, [u64; NUMBER_SYMBOLS]> = HashMap::new();
    let mut inner_lens: HashMap<u16, [u64; NUMBER_SYMBOLS]> = HashMap::new();
    for n in nodes {
        let Some(sym) = classify(n, &fixed) else {
            continue;
        };
        *pair
            .entry((n.parent, n.prev))
            .or_default()
            .entry(sym)
            .or_default() += 1;
        *parent.entry(n.parent).or_default().entry(sym).or_default() += 1;
        *global.entry(sym).or_default() += 1;
        if sym.gap == Gap::Coded {
            gaps.entry(n.kind).or_insert([0; NUMBER_SYMBOLS])[number_symbol(n.start - n.base).0] +=
                1;
        }
        if sym.end == End::Coded {
            let lens = if n.leaf {
                &mut leaf_lens
            } else {
                &mut inner_lens
            };
            lens.entry(n.kind).or_insert([0; NUMBER_SYMBOLS])[number_symbol(n.end - n.start).0] +=
                1;
        }
    }

    // Contexts: global first, then fallbacks by parent, then pairs. A symbol a context leaves out is escaped
    // to the next wider one: its count goes to the escape.
    let prune = |counts: HashMap<Sym, u64>, min: u64| -> (Vec<(Sym, u64)>, u64) {
        let mut symbols: Vec<(Sym, u64)> = counts.into_iter().collect();
        symbols.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let kept = symbols
            .iter()
            .take(SYMBOLS_MAX)
            .take_while(|s| s.1 >= min)
            .count();
        let left_out: u64 = symbols[kept..].iter().map(|s| s.1).sum();
        symbols.truncate(kept);
        (symbols, left_out)
    };
    let mut pairs: Vec<_> = pair
        .into_iter()
        // The root's context is always a pair's (the decoder starts from it), however few the files.
        .filter(|(k, m)| *k == (NONE, NONE) || m.values().sum::<u64>() >= min(params.context_min))
        .map(|(k, m)| {
            let least = if k == (NONE, NONE) {
                1
            } else {
                min(params.pair_symbol_min)
            };
            (k, prune(m, least))
        })
        .filter(|(_, (symbols, _))| !symbols.is_empty())
        .collect();
    pairs.sort_by_key(|(k, _)| *k);
    if params.exclusion {
        // A fallback learns only what reaches it: the nodes its parent's pair contexts do not code.
        let coded: HashMap<(u16, u16), std::collections::HashSet<Sym>> = pairs
            .iter()
            .map(|(k, (symbols, _))| (*k, symbols.iter().map(|s| s.0).collect()))
            .collect();
        parent.clear();
        for n in nodes {
            let Some(sym) = classify(n, &fixed) else {
                continue;
            };
            if !coded
                .get(&(n.parent, n.prev))
                .is_some_and(|c| c.contains(&sym))
            {
                *parent.entry(n.parent).or_default().entry(sym).or_default() += 1;
            }
        }
    }
    let mut keys = vec![(Key::Global, prune(global, min(params.global_symbol_min)))];
    let mut parents: Vec<_> = parent
        .into_iter()
        .filter(|(_, m)| m.values().sum::<u64>() >= min(params.fallback_min))
        .map(|(p, m)| (p, prune(m, min(params.fallback_symbol_min))))
        .filter(|(_, (symbols, _))| !symbols.is_empty())
        .collect();
    parents.sort_by_key(|(p, _)| *p);
    keys.extend(parents.into_iter().map(|(p, m)| (Key::Fallback(p), m)));
    keys.extend(pairs.into_iter().map(|((p, s), m)| (Key::Pair(p, s), m)));
    let by_key: HashMap<Key, usize> = keys.iter().enumerate().map(|(i, (k, _))| (*k, i)).collect();
    let global_index = by_key[&Key::Global];
    let contexts = keys
        .into_iter()
        .map(|(key, (symbols, left_out))| {
            // Unseen symbols: Good-Turing's estimate (the symbols seen once), plus what is left out.
            let singletons = symbols.iter().filter(|s| s.1 == 1).count() as u64;
            let escape = (singletons + left_out).max(1);
            let mut counts: Vec<u64> = symbols.iter().map(|s| s.1).collect();
            counts.push(escape);
            let needed = usize::BITS - counts.len().leading_zeros();
            let limit = SYMBOL_LIMIT.max(needed).min(SYMBOL_LIMIT_MAX);
            let lengths = code_lengths(&counts, limit);
            let fallback = match key {
                Key::Global => None,
                Key::Fallback(_) => Some(global_index),
                Key::Pair(p, _) => Some(*by_key.get(&Key::Fallback(p)).unwrap_or(&global_index)),
            };
            Context {
                key,
                symbols,
                lengths,
                fallback,
            }
        })
        .collect();

    // Number codes.
    let mut families = Vec::new();
    let mut per_kind = |name: &str, table: &HashMap<u16, [u64; NUMBER_SYMBOLS]>| {
        let mut shared = [0u64; NUMBER_SYMBOLS];
        let mut kinds: Vec<_> = table.iter().collect();
        kinds.sort_by_key(|(k, _)| **k);
        let mut map = HashMap::new();
        for (&kind, counts) in kinds {
            if counts.iter().sum::<u64>() >= min(params.family_min) {
                map.insert(kind, families.len());
                families.push(Family::train(format!("{name} {kind}"), counts));
            } else {
                for (s, c) in shared.iter_mut().zip(counts) {
                    *s += c;
                }
            }
        }
        let shared_index = families.len();
        families.push(Family::train(format!("{name} shared"), &shared));
        (map, shared_index)
    };
    let (gap_family, gap_shared) = per_kind("gap", &gaps);
    let (leaf_len_family, leaf_len_shared) = per_kind("leaf-length", &leaf_lens);
    let (inner_len_family, inner_len_shared) = per_kind("inner-length", &inner_lens);
    assert!(families.len() < 255, "too many number codes for a u8 index");
    let size_family = families.len();
    families.push(Family::train("size".into(), &[1; NUMBER_SYMBOLS]));
    let mut model = Model {
        contexts,
        by_key,
        families,
        gap_family,
        leaf_len_family,
        inner_len_family,
        gap_shared,
        leaf_len_shared,
        inner_len_shared,
        size_family,
        fixed,
        params: *params,
    };
    // Subtree sizes depend on every other code: train their code on sizes computed with a first guess.
    let costs = Costs::of(&model, nodes);
    let mut sizes = [0u64; NUMBER_SYMBOLS];
    for value in costs.size_values {
        sizes[number_symbol(value).0] += 1;
    }
    model.families[size_family] = Family::train("size".into(), &sizes);
    model
}

/// Bits per record part of a node sequence under a model.
#[derive(Default)]
struct Costs {
    symbol: u64,
    escape: u64,
    raw: u64,
    gap: u64,
    leaf_len: u64,
    inner_len: u64,
    size: u64,
    size_values: Vec<u32>,
}

impl Costs {
    fn of(model: &Model, nodes: &[Node]) -> Costs {
        let mut c = Costs::default();
        let mut record = vec![0u32; nodes.len()];
        for (i, n) in nodes.iter().enumerate() {
            let mut ctx = model.context_of(n.parent, n.prev);
            let sym = classify(n, &model.fixed);
            let mut bits = 0;
            loop {
                let context = &model.contexts[ctx];
                let rank = sym.and_then(|s| context.symbols.iter().position(|x| x.0 == s));
                match rank {
                    Some(rank) => {
                        c.symbol += u64::from(context.lengths[rank]);
                        bits += context.lengths[rank];
                        break;
                    }
                    None => {
                        let escape = context.lengths[context.symbols.len()];
                        c.escape += u64::from(escape);
                        bits += escape;
                        match context.fallback {
                            Some(f) => ctx = f,
                            None => {
                                // Raw: flags, kind, field, gap, end.
                                let gap =
                                    (i64::from(n.start) - i64::from(n.base)).unsigned_abs() as u32;
                                let raw = 3
                                    + 16
                                    + 1
                                    + if n.field != 0 { 16 } else { 0 }
                                    + 1
                                    + raw_number_cost(gap)
                                    + 1
                                    + if n.end == n.parent_end {
                                        0
                                    } else {
                                        raw_number_cost(n.end - n.start)
                                    };
                                c.raw += u64::from(raw);
                                bits += raw;
                                break;
                            }
                        }
                    }
                }
            }
            if let Some(s) = sym.filter(|_| bits > 0) {
                if s.gap == Gap::Coded {
                    let x = model.families[model.gap_family(n.kind)].cost(n.start - n.base);
                    c.gap += u64::from(x);
                    bits += x;
                }
                if s.end == End::Coded {
                    let x = model.families[model.len_family(n.kind, n.leaf)].cost(n.end - n.start);
                    if n.leaf {
                        c.leaf_len += u64::from(x);
                    } else {
                        c.inner_len += u64::from(x);
                    }
                    bits += x;
                }
            }
            record[i] = bits;
        }
        // Sizes, bottom-up: `after[i]` is the bits of records i.. to the end.
        let size_code = &model.families[model.size_family];
        let skip = SKIP.load(Ordering::Relaxed);
        let mut after = vec![0u64; nodes.len() + 1];
        for i in (0..nodes.len()).rev() {
            let n = &nodes[i];
            let mut bits = u64::from(record[i]);
            if !n.leaf && !n.last {
                let end = i + 1 + n.descendants as usize;
                let value = if n.descendants <= skip {
                    0
                } else {
                    (after[i + 1] - after[end]) as u32
                };
                let x = u64::from(size_code.cost(value));
                c.size += x;
                bits += x;
                c.size_values.push(value);
            }
            after[i] = after[i + 1] + bits;
        }
        c
    }

    fn total(&self) -> u64 {
        self.symbol + self.escape + self.raw + self.gap + self.leaf_len + self.inner_len + self.size
    }
}

/// Loads every file of `dirs` that `grammar` should see, parsed with `grammar`, in path order.
fn load(grammar: Language, dirs: &[String]) -> Vec<(String, String)> {
    let mut files = Vec::new();
    for dir in dirs {
        let corpus =
            Corpus::scan(Path::new(dir), DEFAULT_MAX_FILE_BYTES).expect("corpus directory");
        for file in &corpus.files {
            let wanted = match grammar {
                // TSX learns from TypeScript and TSX files alike (few TSX files exist).
                Language::Tsx => matches!(file.language, Language::TypeScript | Language::Tsx),
                _ => file.language == grammar,
            };
            if wanted {
                files.push((
                    file.path.clone(),
                    file.text().expect("readable").into_owned(),
                ));
            }
        }
    }
    files.sort();
    files
}

fn nodes_of(grammar: Language, files: &[&(String, String)]) -> (Vec<Node>, u64) {
    let mut parser = grammar.parser();
    let mut nodes = Vec::new();
    let mut bytes = 0;
    for (_, text) in files {
        let tree = parser.parse(text, None).expect("tree");
        flatten(&tree, text.len() as u32, &mut nodes);
        bytes += text.len() as u64;
    }
    (nodes, bytes)
}

/// Canonical codes (most significant bit first) of code lengths, as `build.rs` assigns them.
fn canonical(lengths: &[u32]) -> Vec<u32> {
    let mut order: Vec<usize> = (0..lengths.len()).filter(|&i| lengths[i] > 0).collect();
    order.sort_by_key(|&i| (lengths[i], i));
    let mut codes = vec![0u32; lengths.len()];
    let (mut code, mut previous) = (0u32, 0u32);
    for (n, &i) in order.iter().enumerate() {
        if n > 0 {
            code += 1;
        }
        code <<= lengths[i] - previous;
        previous = lengths[i];
        codes[i] = code;
    }
    codes
}

/// The bytes of the static tables `build.rs` makes of a model (its layout: `src/model.rs`), the 64-byte
/// alignment of the contexts' first levels aside: per context 8 bytes and its decoding slots (2 bytes
/// each: a first level of at most 32, a second-level table per long-code prefix), per symbol 16 bytes
/// (its entry), per number code 512 bytes (its decoding slots), per pair 6, per fallback 4 (the encoder's
/// codes, links and first-child contexts are derived at run time, not static).
fn table_bytes(model: &Model) -> u64 {
    table_parts(model).iter().sum()
}

/// [`table_bytes`] by part: contexts and their keys, decoding slots, symbols, number codes.
fn table_parts(model: &Model) -> [u64; 4] {
    let (mut contexts, mut slots, mut symbols) = (0u64, 0u64, 0u64);
    for c in &model.contexts {
        let longest = *c.lengths.iter().max().expect("an escape");
        let first = longest.min(5);
        let sub = longest - first;
        let codes = canonical(&c.lengths);
        let mut prefixes: Vec<u32> = c
            .lengths
            .iter()
            .zip(&codes)
            .filter(|(&l, _)| l > first)
            .map(|(&l, &code)| code >> (l - first))
            .collect();
        prefixes.sort_unstable();
        prefixes.dedup();
        slots += 2 * ((1u64 << first) + ((prefixes.len() as u64) << sub));
        symbols += 16 * c.lengths.len() as u64;
        contexts += 8 + match c.key {
            Key::Pair(..) => 6,
            Key::Fallback(_) => 4,
            Key::Global => 0,
        };
    }
    [contexts, slots, symbols, 512 * model.families.len() as u64]
}

fn report(label: &str, model: &Model, costs: &Costs, nodes: usize, bytes: u64, files: usize) {
    let per = |bits: u64| bits as f64 / nodes as f64;
    let tree_bytes = costs.total() as f64 / 8.0;
    println!(
        "{label}: {nodes} nodes, {bytes} bytes, {files} files; bits per node: symbol {:.3}, escapes {:.3}, raw {:.3}, \
         gap {:.3}, leaf length {:.3}, inner length {:.3}, size {:.3}; total {:.3} b = {:.3} B per node \
         ({:.3} B per source byte, records only); static tables about {} B ({} contexts, {} symbols, {} number \
         codes; bytes of contexts, slots, symbols, number codes: {:?})",
        per(costs.symbol),
        per(costs.escape),
        per(costs.raw),
        per(costs.gap),
        per(costs.leaf_len),
        per(costs.inner_len),
        per(costs.size),
        per(costs.total()),
        per(costs.total()) / 8.0,
        tree_bytes / bytes as f64,
        table_bytes(model),
        model.contexts.len(),
        model.contexts.iter().map(|c| c.symbols.len()).sum::<usize>(),
        model.families.len(),
        table_parts(model),
    );
}

fn sym_line(sym: &Sym, model: &Model, length: u32) -> String {
    let gap = match sym.gap {
        Gap::Zero => "0".to_string(),
        Gap::One => "1".to_string(),
        Gap::Coded => format!("c{}", model.gap_family(sym.kind)),
    };
    let end = match sym.end {
        End::Fixed(n) => format!("f{n}"),
        End::Parent => "p".to_string(),
        End::Coded => format!("c{}", model.len_family(sym.kind, sym.leaf)),
    };
    format!(
        "e {} {} {} {} {gap} {end} {length}",
        sym.kind,
        sym.field,
        u8::from(sym.leaf),
        u8::from(sym.last)
    )
}

fn write_model(
    out: &Path,
    grammar: Language,
    dirs: &[String],
    files: usize,
    bytes: u64,
    nodes: usize,
    model: &Model,
) {
    let ts = grammar.grammar();
    let mut text = String::new();
    writeln!(
        text,
        "# Generated by crates/backend-arena/examples/gen_tables.rs; do not edit (run it again).\n\
         # Grammar: {name} (tree-sitter {abi}, {kinds} kinds, {fields} fields).\n\
         # Trained on {files} files ({bytes} bytes, {nodes} visible nodes) under: {dirs}\n\
         # ({how}).\n\
         # Only that code was read: none of the code compare runs measure.\n\
         # Pruned with (occurrences per 1,000,000 training bytes): {params:?}.\n\
         #\n\
         # Lines: `root C`; `size F` (the number code of subtree sizes); `family F NAME: 44 code lengths`\n\
         # (number codes); `context C PARENT PREV FALLBACK` (PARENT/PREV `*` = any, 65534 = none: the root's\n\
         # parent, a first child's previous sibling; FALLBACK `-` = raw records) followed by its symbols in\n\
         # rank order, `e KIND FIELD LEAF LAST GAP END LENGTH` (GAP 0, 1 or cF: coded with number code F; END\n\
         # fN: fixed length N, p: the parent's end, cF: coded; LENGTH: code length in bits), and its escape\n\
         # `x LENGTH`. `kind ID NAMED NAME` and `field ID NAME` name the ids used (for the test that checks\n\
         # them against the grammar).",
        name = grammar.name(),
        abi = ts.abi_version(),
        kinds = ts.node_kind_count(),
        fields = ts.field_count(),
        dirs = dirs.join(", "),
        params = model.params,
        how = if grammar == Language::Tsx {
            "every .ts and .tsx file there, parsed with the TSX grammar"
        } else {
            "every file of this language there"
        },
    )
    .unwrap();
    writeln!(text, "root {}", model.by_key[&Key::Pair(NONE, NONE)]).unwrap();
    writeln!(text, "size {}", model.size_family).unwrap();
    for (i, f) in model.families.iter().enumerate() {
        let lengths: Vec<String> = f.lengths.iter().map(u32::to_string).collect();
        writeln!(text, "family {i} {}: {}", f.name, lengths.join(" ")).unwrap();
    }
    let mut kinds = BTreeMap::new();
    let mut fields = BTreeMap::new();
    for (i, c) in model.contexts.iter().enumerate() {
        let (p, s) = match c.key {
            Key::Global => ("*".to_string(), "*".to_string()),
            Key::Fallback(p) => (p.to_string(), "*".to_string()),
            Key::Pair(p, s) => (p.to_string(), s.to_string()),
        };
        let fallback = c.fallback.map_or("-".to_string(), |f| f.to_string());
        writeln!(text, "context {i} {p} {s} {fallback}").unwrap();
        for (rank, (sym, _)) in c.symbols.iter().enumerate() {
            writeln!(text, "{}", sym_line(sym, model, c.lengths[rank])).unwrap();
            kinds.insert(sym.kind, ());
            if sym.field != 0 {
                fields.insert(sym.field, ());
            }
        }
        writeln!(text, "x {}", c.lengths[c.symbols.len()]).unwrap();
        let referenced = match c.key {
            Key::Pair(p, s) => [p, s],
            Key::Fallback(p) => [p, NONE],
            Key::Global => [NONE, NONE],
        };
        for k in referenced.into_iter().filter(|&k| k != NONE) {
            kinds.insert(k, ());
        }
    }
    for kind in kinds.keys() {
        let (named, name) = if *kind == u16::MAX {
            (true, "ERROR")
        } else {
            (
                ts.node_kind_is_named(*kind),
                ts.node_kind_for_id(*kind).unwrap_or("?"),
            )
        };
        writeln!(text, "kind {kind} {} {name}", u8::from(named)).unwrap();
    }
    for field in fields.keys() {
        writeln!(
            text,
            "field {field} {}",
            ts.field_name_for_id(*field).unwrap_or("?")
        )
        .unwrap();
    }
    let path = out.join(format!("{}.model", grammar.name()));
    std::fs::write(&path, text).expect("write the model");
    eprintln!("wrote {}", path.display());
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mut out = None;
    let mut holdout = false;
    let mut by_package = false;
    let mut dirs: HashMap<Language, Vec<String>> = HashMap::new();
    let mut params = Params::default();
    while let Some(arg) = args.next() {
        if arg == "--holdout" {
            holdout = true;
        } else if arg == "--holdout-packages" {
            (holdout, by_package) = (true, true);
        } else if arg.starts_with("--") {
            let (flag, value) = match arg.split_once('=') {
                Some((flag, value)) => (flag.to_string(), value.to_string()),
                None => (arg.clone(), args.next().expect("a value after the flag")),
            };
            assert!(params.set(&flag, &value), "unknown flag {flag}");
        } else if let Some((name, dir)) = arg.split_once('=') {
            let language = Language::ALL
                .into_iter()
                .find(|l| l.name() == name)
                .expect("python, rust or typescript");
            dirs.entry(language).or_default().push(dir.to_string());
        } else {
            out = Some(arg);
        }
    }
    for grammar in Language::ALL {
        let source = if grammar == Language::Tsx {
            Language::TypeScript
        } else {
            grammar
        };
        let Some(dirs) = dirs.get(&source) else {
            continue;
        };
        let files = load(grammar, dirs);
        if holdout {
            // A file's package: the first directory under the training directory it is in.
            let package = |path: &str| -> String {
                let rest = dirs
                    .iter()
                    .find_map(|d| Path::new(path).strip_prefix(d).ok())
                    .unwrap_or(Path::new(path));
                rest.components()
                    .next()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .unwrap_or_default()
            };
            let mut packages: Vec<String> = files.iter().map(|(p, _)| package(p)).collect();
            packages.sort();
            packages.dedup();
            let side = |i: usize, path: &str| -> bool {
                if by_package {
                    packages
                        .binary_search(&package(path))
                        .unwrap_or(0)
                        .is_multiple_of(2)
                } else {
                    i.is_multiple_of(2)
                }
            };
            let train_files: Vec<_> = (files.iter().enumerate())
                .filter(|(i, (p, _))| side(*i, p))
                .map(|(_, f)| f)
                .collect();
            let test_files: Vec<_> = (files.iter().enumerate())
                .filter(|(i, (p, _))| !side(*i, p))
                .map(|(_, f)| f)
                .collect();
            let (train_nodes, train_bytes) = nodes_of(grammar, &train_files);
            let (test_nodes, test_bytes) = nodes_of(grammar, &test_files);
            let model = train(&train_nodes, train_bytes, &params);
            let costs = Costs::of(&model, &test_nodes);
            report(
                &format!("{} held out", grammar.name()),
                &model,
                &costs,
                test_nodes.len(),
                test_bytes,
                test_files.len(),
            );
        } else {
            let all: Vec<_> = files.iter().collect();
            let (nodes, bytes) = nodes_of(grammar, &all);
            let model = train(&nodes, bytes, &params);
            let costs = Costs::of(&model, &nodes);
            report(
                &format!("{} training (in sample)", grammar.name()),
                &model,
                &costs,
                nodes.len(),
                bytes,
                files.len(),
            );
            let out = out
                .as_deref()
                .expect("usage: gen_tables OUT_DIR language=DIR...");
            write_model(
                Path::new(out),
                grammar,
                dirs,
                files.len(),
                bytes,
                nodes.len(),
                &model,
            );
        }
    }
}
