//! Where the arena's bytes go: bits per node of each record part, as the encoder writes them, for a corpus.
//!
//! Usage: `cargo run -p backend-arena --release --example record_parts -- [builtin] [DIR...]`
//!
//! Per language: symbols (kind, field, leaf, last child, gap and end modes, in their contexts), escapes to
//! wider contexts, raw records, coded gaps, leaf lengths, inner-node lengths, subtree sizes, each file's
//! header byte and final padding, and the wide-node index; then bytes per node of records, and the store's
//! size over the source with the text and the 8 bytes of per-file offsets included (what `cargo xtask
//! compare` reports as × source, up to the allocator's rounding of nothing: the store's buffers are exact).

use backend_arena::RecordParts;
use cst_measure::corpus::{Corpus, DEFAULT_MAX_FILE_BYTES};
use cst_measure::Language;
use std::collections::BTreeMap;
use std::path::Path;

fn main() {
    let mut files: Vec<(Language, String)> = Vec::new();
    for arg in std::env::args().skip(1) {
        if arg == "builtin" {
            for file in builtin_corpus::generate() {
                let language = Language::from_path(Path::new(&file.path)).expect("known extension");
                files.push((language, file.text));
            }
        } else {
            let corpus = Corpus::scan(Path::new(&arg), DEFAULT_MAX_FILE_BYTES).expect("corpus");
            for file in &corpus.files {
                files.push((file.language, file.text().expect("readable").into_owned()));
            }
        }
    }
    // TSX files count with TypeScript, as the corpora list them.
    let mut totals: BTreeMap<&str, (RecordParts, u64, u64)> = BTreeMap::new();
    for (language, text) in &files {
        let parts = RecordParts::of(*language, text, &language.parse(text)).expect("fits");
        let name = if *language == Language::Tsx {
            "typescript"
        } else {
            language.name()
        };
        let entry = totals.entry(name).or_default();
        entry.0.add(&parts);
        entry.1 += text.len() as u64;
        entry.2 += 1;
    }
    let mut all = (RecordParts::default(), 0, 0);
    for (name, (parts, bytes, count)) in &totals {
        report(name, parts, *bytes, *count);
        all.0.add(parts);
        all.1 += bytes;
        all.2 += count;
    }
    if totals.len() > 1 {
        report("all", &all.0, all.1, all.2);
    }
}

fn report(name: &str, p: &RecordParts, bytes: u64, files: u64) {
    let n = p.nodes as f64;
    let per = |bits: u64| bits as f64 / n;
    let records = p.escape_bits
        + p.symbol_bits
        + p.raw_bits
        + p.gap_bits
        + p.leaf_length_bits
        + p.inner_length_bits
        + p.size_bits
        + p.header_bits
        + p.index_bytes * 8;
    let store = bytes as f64 + records as f64 / 8.0 + 8.0 * files as f64;
    println!(
        "{name}: {files} files, {bytes} bytes, {} nodes ({:.3} per byte, {:.0}% leaves), {} raw records",
        p.nodes,
        n / bytes as f64,
        100.0 * p.leaves as f64 / n,
        p.raw_records
    );
    println!(
        "  bits per node: symbol {:.3}, escapes {:.3}, raw {:.3}, gap {:.3}, leaf length {:.3} ({:.3} per leaf), \
         inner length {:.3}, size {:.3}, header and padding {:.3}, wide index {:.3}; records {:.3} b = {:.3} B \
         per node; store {:.3}x source (text, records, 8 B per file)",
        per(p.symbol_bits),
        per(p.escape_bits),
        per(p.raw_bits),
        per(p.gap_bits),
        per(p.leaf_length_bits),
        p.leaf_length_bits as f64 / p.leaves as f64,
        per(p.inner_length_bits),
        per(p.size_bits),
        per(p.header_bits),
        per(p.index_bytes * 8),
        per(records),
        per(records) / 8.0,
        store / bytes as f64,
    );
}
