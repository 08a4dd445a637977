//! Expands the trained models (`tables/*.model`, written by `examples/gen_tables.rs`) into the static tables
//! `src/model.rs` includes: per context, a decoding table indexed by the next `bits` bits of the stream (each
//! slot: the symbol's rank and its code length) and its symbols; per number code, a 256-slot decoding table;
//! the canonical codes the encoder writes; and the sorted (parent, previous sibling) keys of the contexts.
//!
//! Codes are canonical Huffman codes built from the code lengths in the model (shortest first, then in rank
//! order), so the encoder's codes and the decoder's tables come from the same lengths and cannot disagree.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

/// Number-code alphabet size and table width (see `examples/gen_tables.rs`).
const NUMBER_SYMBOLS: usize = 44;
const NUMBER_BITS: u32 = 8;
/// Parent of the root, previous sibling of a first child.
const NONE: u32 = 0xFFFE;

struct Entry {
    kind: u32,
    field: u32,
    leaf: bool,
    last: bool,
    gap: String,
    end: String,
    length: u32,
}

struct Context {
    parent: Option<u32>,
    prev: Option<u32>,
    fallback: Option<u32>,
    entries: Vec<Entry>,
    escape: u32,
}

struct Spec {
    root: u32,
    size: u32,
    families: Vec<Vec<u32>>,
    contexts: Vec<Context>,
    kinds: Vec<(u32, bool, String)>,
    fields: Vec<(u32, String)>,
}

fn parse(text: &str, path: &Path) -> Spec {
    let mut spec = Spec {
        root: 0,
        size: 0,
        families: Vec::new(),
        contexts: Vec::new(),
        kinds: Vec::new(),
        fields: Vec::new(),
    };
    let num = |s: &str| -> u32 {
        s.parse()
            .unwrap_or_else(|_| panic!("{}: not a number: {s}", path.display()))
    };
    let opt = |s: &str| -> Option<u32> { (s != "*" && s != "-").then(|| num(s)) };
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        match words[0] {
            "root" => spec.root = num(words[1]),
            "size" => spec.size = num(words[1]),
            "family" => {
                let (_, lengths) = line.split_once(':').expect("family F NAME: lengths");
                let lengths: Vec<u32> = lengths.split_whitespace().map(num).collect();
                assert_eq!(lengths.len(), NUMBER_SYMBOLS, "{}: {line}", path.display());
                assert_eq!(num(words[1]) as usize, spec.families.len());
                spec.families.push(lengths);
            }
            "context" => {
                assert_eq!(num(words[1]) as usize, spec.contexts.len());
                spec.contexts.push(Context {
                    parent: opt(words[2]),
                    prev: opt(words[3]),
                    fallback: opt(words[4]),
                    entries: Vec::new(),
                    escape: 0,
                });
            }
            "e" => spec
                .contexts
                .last_mut()
                .expect("a context")
                .entries
                .push(Entry {
                    kind: num(words[1]),
                    field: num(words[2]),
                    leaf: words[3] == "1",
                    last: words[4] == "1",
                    gap: words[5].to_string(),
                    end: words[6].to_string(),
                    length: num(words[7]),
                }),
            "x" => spec.contexts.last_mut().expect("a context").escape = num(words[1]),
            "kind" => spec
                .kinds
                .push((num(words[1]), words[2] == "1", words[3..].join(" "))),
            "field" => spec.fields.push((num(words[1]), words[2..].join(" "))),
            other => panic!("{}: unknown line {other}", path.display()),
        }
    }
    spec
}

/// Canonical codes (MSB first) for code lengths; zero lengths get no code.
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
    let kraft: f64 = order.iter().map(|&i| 0.5f64.powi(lengths[i] as i32)).sum();
    assert!(
        kraft <= 1.0 + 1e-9,
        "code lengths over-subscribe: {lengths:?}"
    );
    codes
}

/// Fills a decoding table of `1 << bits` slots: each slot holds `value << 4 | length` of the code it starts
/// with. Slots no code reaches (an incomplete code) stay `0` and are never read for streams the encoder made.
fn fill(table: &mut Vec<u16>, lengths: &[u32], bits: u32) {
    let codes = canonical(lengths);
    let base = table.len();
    table.resize(base + (1 << bits), 0);
    for (value, (&length, &code)) in lengths.iter().zip(&codes).enumerate() {
        if length == 0 {
            continue;
        }
        assert!(length <= bits && length < 16 && value < 4096);
        let first = (code << (bits - length)) as usize;
        let count = 1usize << (bits - length);
        for slot in &mut table[base + first..base + first + count] {
            *slot = ((value as u16) << 4) | length as u16;
        }
    }
}

/// Bits of a context's first-level table: one 64-byte cache line of slots.
const FIRST_BITS: u32 = 5;

/// Fills a context's two-level decoding table. The first level has `1 << first` slots (`first` = the
/// longest code, at most [`FIRST_BITS`]); a slot of a code no longer than `first` holds `rank << 4 | length`,
/// a slot whose codes are longer holds `table << 4` (length 0): the number of a second-level table of
/// `1 << sub` slots (`sub` = longest code minus `first`), which follow the first level in order and are
/// indexed by the `sub` bits after the first `first`. Returns (first, sub).
fn fill_context(table: &mut Vec<u16>, lengths: &[u32]) -> (u32, u32) {
    let longest = *lengths.iter().max().expect("an escape");
    let first = longest.min(FIRST_BITS);
    let sub = longest - first;
    let codes = canonical(lengths);
    let base = table.len();
    // Prefixes (first-level slots) that lead to second-level tables, numbered in order.
    let mut prefixes: Vec<u32> = lengths
        .iter()
        .zip(&codes)
        .filter(|(&l, _)| l > first)
        .map(|(&l, &c)| c >> (l - first))
        .collect();
    prefixes.sort_unstable();
    prefixes.dedup();
    table.resize(base + (1 << first) + (prefixes.len() << sub), 0);
    for (number, &prefix) in prefixes.iter().enumerate() {
        assert!(number < 4096);
        table[base + prefix as usize] = (number as u16) << 4;
    }
    for (rank, (&length, &code)) in lengths.iter().zip(&codes).enumerate() {
        assert!((1..16).contains(&length) && rank < 4096);
        let value = ((rank as u16) << 4) | length as u16;
        if length <= first {
            let start = (code << (first - length)) as usize;
            for slot in &mut table[base + start..base + start + (1 << (first - length))] {
                *slot = value;
            }
        } else {
            let prefix = code >> (length - first);
            let number = prefixes.binary_search(&prefix).expect("a prefix");
            let rest = code & ((1 << (length - first)) - 1);
            let start =
                base + (1 << first) + (number << sub) + ((rest << (longest - length)) as usize);
            for slot in &mut table[start..start + (1 << (longest - length))] {
                *slot = value;
            }
        }
    }
    (first, sub)
}

fn flags(entry: &Entry) -> String {
    let mut f = Vec::new();
    if entry.leaf {
        f.push("LEAF");
    }
    if entry.last {
        f.push("LAST");
    }
    match entry.gap.as_str() {
        "0" => {}
        "1" => f.push("GAP_ONE"),
        _ => f.push("GAP_CODED"),
    }
    match entry.end.chars().next() {
        Some('f') => f.push("END_FIXED"),
        Some('p') => f.push("END_PARENT"),
        _ => f.push("END_CODED"),
    }
    if f.is_empty() {
        "0".into()
    } else {
        f.join(" | ")
    }
}

fn generate(name: &str, spec: &Spec) -> String {
    // Context lookup keys.
    let mut pairs = BTreeMap::new();
    let mut fallbacks = BTreeMap::new();
    let mut global = None;
    for (i, c) in spec.contexts.iter().enumerate() {
        match (c.parent, c.prev) {
            (Some(p), Some(s)) => {
                pairs.insert((p << 16) | s, i);
            }
            (Some(p), None) => {
                fallbacks.insert(p, i);
            }
            (None, _) => global = Some(i),
        }
    }
    let global = global.expect("a global context");
    let resolve = |parent: u32, prev: u32| -> usize {
        pairs
            .get(&((parent << 16) | prev))
            .or_else(|| fallbacks.get(&parent))
            .copied()
            .unwrap_or(global)
    };

    let mut number_slots = Vec::new();
    let mut number_codes = Vec::new();
    for lengths in &spec.families {
        let mut symbols = Vec::new();
        fill(&mut symbols, lengths, NUMBER_BITS);
        number_slots.extend(symbols.iter().map(|&slot| {
            let (symbol, length) = (slot >> 4, slot & 15);
            if symbol < 16 {
                (symbol << 9) | length
            } else {
                ((symbol - 12) << 4) | length
            }
        }));
        let c = canonical(lengths);
        number_codes.extend(lengths.iter().zip(c).map(|(&l, c)| (c << 4) | l));
    }
    assert!(spec.families.len() <= 256, "{name}: too many number codes");
    let mut out = String::new();
    // Decoding tables first: every context's descriptor must be known to write the entries that lead to it.
    // A slot holds `entry << 4 | length` (the absolute entry index) or a second-level table's number with
    // length 0.
    let mut slots: Vec<u16> = Vec::new();
    let mut descriptors = Vec::new();
    let mut context_lines = String::new();
    let mut entry_count = 0usize;
    // Each context's symbols are stored sorted by (kind, field, leaf, last), then by how many of their parts
    // are coded (the fewest first, then by rank): the encoder binary-searches them by key and takes the first
    // that fits, the most specific. The decoder reaches them through the slots, in any order. The escape
    // is stored after them.
    let key = |e: &Entry| {
        (e.kind << 16) | (e.field << 8) | (u32::from(e.leaf) | (u32::from(e.last) << 1))
    };
    let coded = |e: &Entry| u32::from(e.gap.starts_with('c')) + u32::from(e.end.starts_with('c'));
    let orders: Vec<Vec<usize>> = spec
        .contexts
        .iter()
        .map(|c| {
            let mut order: Vec<usize> = (0..c.entries.len()).collect();
            order.sort_by_key(|&i| (key(&c.entries[i]), coded(&c.entries[i]), i));
            order
        })
        .collect();
    for (c, order) in spec.contexts.iter().zip(&orders) {
        let mut lengths: Vec<u32> = c.entries.iter().map(|e| e.length).collect();
        lengths.push(c.escape);
        let mut position = vec![0usize; lengths.len()];
        for (at, &rank) in order.iter().enumerate() {
            position[rank] = at;
        }
        position[c.entries.len()] = c.entries.len();
        // A full first-level table starts on a cache line boundary; smaller ones fill the gaps before.
        if lengths.iter().max() >= Some(&FIRST_BITS) {
            slots.resize(slots.len().next_multiple_of(64 / 2), 0);
        }
        let slot_base = slots.len();
        let mut table = Vec::new();
        let (first, sub) = fill_context(&mut table, &lengths);
        slots.extend(table.iter().map(|&slot| {
            let (rank, length) = (usize::from(slot >> 4), slot & 15);
            if length == 0 {
                slot
            } else {
                let entry = entry_count + position[rank];
                assert!(
                    entry < 4096,
                    "{name}: over 4,096 symbols (a slot holds a 12-bit entry)"
                );
                ((entry as u16) << 4) | length
            }
        }));
        assert!(slot_base < 1 << 22);
        descriptors.push(((slot_base as u32) << 10) | (sub << 7) | (64 - first));
        writeln!(
            context_lines,
            "    Context {{ descriptor: {}, entries: {entry_count}, symbols: {} }},",
            descriptors.last().unwrap(),
            c.entries.len()
        )
        .unwrap();
        entry_count += lengths.len();
    }
    let mut entries = String::new();
    let mut codes = String::new();
    let mut links = String::new();
    for (c, order) in spec.contexts.iter().zip(&orders) {
        let mut lengths: Vec<u32> = c.entries.iter().map(|e| e.length).collect();
        lengths.push(c.escape);
        let canonical_codes = canonical(&lengths);
        for &rank in order {
            let e = &c.entries[rank];
            // The fixed length or the length's number code, whichever the end mode needs.
            let end = e.end[1..].parse::<u32>().unwrap_or(0);
            let gap_code = e
                .gap
                .strip_prefix('c')
                .map_or(0, |n| n.parse::<u32>().unwrap());
            assert!(
                end < 256 && gap_code < 256 && e.field < 256,
                "{name}: entry out of range"
            );
            // Entries of the global context serve every parent: their next context is looked up at run time.
            let (next, lookup) = match c.parent {
                Some(p) => (resolve(p, e.kind), ""),
                None => (0, " | LOOKUP"),
            };
            let (fixed, end_code) = match e.end.chars().next() {
                Some('f') => (end, 0),
                Some('p') => (0, 0),
                _ => (0, end),
            };
            writeln!(
                entries,
                "    e({}, {}{lookup}, {gap_code}, {end_code}, {fixed}, {}),",
                e.kind | (e.field << 16),
                flags(e),
                descriptors[next],
            )
            .unwrap();
            writeln!(codes, "    {},", (canonical_codes[rank] << 4) | e.length).unwrap();
            writeln!(links, "    {next},").unwrap();
        }
        let (fallback, fallback_id) = match c.fallback {
            Some(f) => (descriptors[f as usize].to_string(), f.to_string()),
            None => ("RAW_DESCRIPTOR".to_string(), "RAW".to_string()),
        };
        writeln!(entries, "    e(0, ESCAPE, 0, 0, 0, {fallback}),").unwrap();
        writeln!(
            codes,
            "    {},",
            (canonical_codes[c.entries.len()] << 4) | c.escape
        )
        .unwrap();
        writeln!(links, "    {fallback_id},").unwrap();
    }
    writeln!(out, "/// The `{name}` model.").unwrap();
    writeln!(out, "pub(crate) mod {name} {{").unwrap();
    writeln!(out, "    use super::*;").unwrap();
    let list = |values: &mut dyn Iterator<Item = String>| -> String {
        let mut s = String::new();
        for (i, v) in values.enumerate() {
            s.push_str(&v);
            s.push(',');
            s.push(if i % 24 == 23 { '\n' } else { ' ' });
        }
        s
    };
    writeln!(
        out,
        "static CONTEXTS: [Context; {}] = [\n{context_lines}];",
        spec.contexts.len()
    )
    .unwrap();
    writeln!(
        out,
        "static ENTRIES: [Entry; {entry_count}] = [\n{entries}];"
    )
    .unwrap();
    // The encoder's codes and next contexts are derived from the decoding tables at run time
    // (`encode::Tables`); these are only for the test that checks the derivation.
    writeln!(
        out,
        "#[cfg(test)]\nstatic CODES: [u16; {entry_count}] = [\n{codes}];"
    )
    .unwrap();
    writeln!(
        out,
        "#[cfg(test)]\nstatic LINKS: [u16; {entry_count}] = [\n{links}];"
    )
    .unwrap();
    writeln!(
        out,
        "static SLOTS: Aligned<[u16; {}]> = Aligned([\n{}]);",
        slots.len(),
        list(&mut slots.iter().map(u16::to_string))
    )
    .unwrap();
    writeln!(
        out,
        "static NUMBER_SLOTS: [u16; {}] = [\n{}];",
        number_slots.len(),
        list(&mut number_slots.iter().map(u16::to_string))
    )
    .unwrap();
    writeln!(
        out,
        "#[cfg(test)]\nstatic NUMBER_CODES: [u16; {}] = [\n{}];",
        number_codes.len(),
        list(&mut number_codes.iter().map(u32::to_string))
    )
    .unwrap();
    writeln!(
        out,
        "static PAIRS: [u32; {}] = [{}];\nstatic PAIR_CONTEXTS: [u16; {}] = [{}];",
        pairs.len(),
        list(&mut pairs.keys().map(u32::to_string)),
        pairs.len(),
        list(&mut pairs.values().map(usize::to_string))
    )
    .unwrap();
    writeln!(
        out,
        "static FALLBACK_KINDS: [u16; {}] = [{}];\nstatic FALLBACK_CONTEXTS: [u16; {}] = [{}];",
        fallbacks.len(),
        list(&mut fallbacks.keys().map(u32::to_string)),
        fallbacks.len(),
        list(&mut fallbacks.values().map(usize::to_string))
    )
    .unwrap();
    // The first child's context of every kind id up to the largest the model names (others: the global
    // context, as `resolve` gives), ERROR's last.
    let max_kind = spec
        .kinds
        .iter()
        .map(|k| k.0)
        .filter(|&k| k != 0xFFFF)
        .max()
        .unwrap_or(0);
    let mut first = Vec::new();
    for kind in 0..=max_kind + 1 {
        let kind = if kind == max_kind + 1 { 0xFFFF } else { kind };
        first.push(resolve(kind, NONE));
    }
    writeln!(
        out,
        "#[cfg(test)]\nstatic FIRST_CONTEXTS: [u16; {}] = [{}];",
        first.len(),
        list(&mut first.iter().map(usize::to_string))
    )
    .unwrap();
    // The same as descriptors: what a decoded node's first child is decoded with (per kind, not per entry).
    writeln!(
        out,
        "static FIRST_CHILDREN: [u32; {}] = [{}];",
        first.len(),
        list(&mut first.iter().map(|&c| descriptors[c].to_string()))
    )
    .unwrap();
    writeln!(
        out,
        "static KINDS: [(u16, bool, &str); {}] = [{}];",
        spec.kinds.len(),
        list(
            &mut spec
                .kinds
                .iter()
                .map(|(id, named, n)| format!("({id}, {named}, {n:?})"))
        )
    )
    .unwrap();
    writeln!(
        out,
        "static FIELDS: [(u16, &str); {}] = [{}];",
        spec.fields.len(),
        list(&mut spec.fields.iter().map(|(id, n)| format!("({id}, {n:?})")))
    )
    .unwrap();
    assert_eq!(
        resolve(NONE, NONE),
        spec.root as usize,
        "{name}: root context"
    );
    // The tables' bytes, counted from what was written (element sizes as `src/model.rs` declares them:
    // `Context` 8, `Entry` 12, a slot 2, a first child's descriptor 4; the arrays compiled for tests only
    // aside), for the test that checks `Model::static_bytes` against it.
    let counted = spec.contexts.len() * 8
        + entry_count * 12
        + first.len() * 4
        + slots.len() * 2
        + number_slots.len() * 2
        + pairs.len() * (4 + 2)
        + fallbacks.len() * (2 + 2);
    writeln!(
        out,
        "/// The bytes of this model's tables as `build.rs` counted them from the model file.\n\
         #[cfg(test)]\n\
         pub(crate) const COUNTED_BYTES: usize = {counted};"
    )
    .unwrap();
    writeln!(
        out,
        "pub(crate) static MODEL: Model = Model {{
        contexts: &CONTEXTS,
        entries: &ENTRIES,
        #[cfg(test)]
        codes: &CODES,
        #[cfg(test)]
        links: &LINKS,
        slots: &SLOTS.0,
        number_slots: &NUMBER_SLOTS,
        #[cfg(test)]
        number_codes: &NUMBER_CODES,
        pairs: &PAIRS,
        pair_contexts: &PAIR_CONTEXTS,
        fallback_kinds: &FALLBACK_KINDS,
        fallback_contexts: &FALLBACK_CONTEXTS,
        #[cfg(test)]
        first_contexts: &FIRST_CONTEXTS,
        first_children: &FIRST_CHILDREN,
        global: {global},
        root: {},
        root_descriptor: {},
        size_code: {},
        kinds: &KINDS,
        fields: &FIELDS,
    }};",
        spec.root, descriptors[spec.root as usize], spec.size
    )
    .unwrap();
    writeln!(out, "}}").unwrap();
    out
}

fn main() {
    let dir = Path::new("tables");
    let mut out = String::from("// Generated by build.rs from tables/*.model. Do not edit.\n\n");
    for name in ["python", "rust", "typescript", "tsx"] {
        let path = dir.join(format!("{name}.model"));
        println!("cargo:rerun-if-changed={}", path.display());
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        out.push_str(&generate(name, &parse(&text, &path)));
    }
    println!("cargo:rerun-if-changed=build.rs");
    // What a saved store's header records of these tables: a file saved with other tables is stale.
    let hash = xxhash_rust::xxh3::xxh3_64(out.as_bytes());
    out.push_str(&format!(
        "\n/// xxh3-64 of the generated tables above (a saved store records it).\npub(crate) const TABLES_HASH: u64 = {hash:#018x};\n"
    ));
    let target = Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR")).join("models.rs");
    std::fs::write(target, out).expect("write models.rs");
}
