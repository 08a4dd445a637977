//! Times thawing every file of a corpus against tree-sitter parsing it, and prints what the store retains.
//!
//! Usage: `cargo run -p backend-frozen --release --example thaw_bench -- [DIR]` (the built-in corpus without
//! DIR). The compare run is the source of reported figures; this is for working on the format.

use backend_frozen::Frozen;
use cst_measure::corpus::{Corpus, DEFAULT_MAX_FILE_BYTES};
use cst_measure::{Backend, CstStore, Language};
use std::time::Instant;

#[global_allocator]
static ALLOCATOR: cst_measure::alloc::MeasuringAllocator =
    cst_measure::alloc::MeasuringAllocator::new();

fn main() {
    let files: Vec<(Language, String)> = match std::env::args().nth(1) {
        Some(dir) => {
            let corpus =
                Corpus::scan(std::path::Path::new(&dir), DEFAULT_MAX_FILE_BYTES).expect("corpus");
            corpus
                .files
                .iter()
                .map(|f| (f.language, f.text().expect("text").into_owned()))
                .collect()
        }
        None => builtin_corpus::generate()
            .into_iter()
            .map(|f| {
                (
                    Language::from_path(std::path::Path::new(&f.path)).expect("known"),
                    f.text,
                )
            })
            .collect(),
    };
    println!("DCtx {} bytes", dctx_size());
    let source: usize = files.iter().map(|f| f.1.len()).sum();
    if std::env::var_os("REFERENCE").is_some() {
        let texts: Vec<&str> = files.iter().map(|f| f.1.as_str()).collect();
        let source: usize = texts.iter().map(|t| t.len()).sum();
        for dictionary in [false, true] {
            let r = backend_frozen::measure_text_reference(&texts, dictionary);
            println!(
                "reference dictionary={dictionary}: {} bytes ({:.4}x), dictionary {} B, compress {:.2} s, decompress {:.1} ms",
                r.retained_bytes, r.retained_bytes as f64 / source as f64, r.dictionary_bytes, r.compress_seconds, r.decompress_seconds * 1e3
            );
        }
    }
    if std::env::var_os("BREAKDOWN").is_some() {
        print_breakdown(&files);
    }
    let mut parsers: Vec<_> = Language::ALL.iter().map(|l| l.parser()).collect();
    // The fastest of three parses of everything (the machine is shared: minima are steadier than medians).
    let mut parse = f64::MAX;
    let mut trees = Vec::new();
    for _ in 0..3 {
        let clock = Instant::now();
        trees = files
            .iter()
            .map(|(l, t)| parsers[l.index()].parse(t, None).expect("tree"))
            .collect();
        parse = parse.min(clock.elapsed().as_secs_f64());
    }
    let mut store = Frozen::new_store();
    let clock = Instant::now();
    for ((l, t), tree) in files.iter().zip(trees) {
        store.add(*l, t, tree).expect("add");
    }
    store.finish();
    let build = clock.elapsed().as_secs_f64();
    // The store's parts (the compare run measures what it retains at the allocator).
    let (blobs, model, kinds, dictionary) = store.parts();
    let parts = blobs + model + kinds + dictionary;
    println!("files {} source {source} parts {parts} ({:.4}x) blobs+offsets {blobs} model {model} kinds {kinds} dictionary {dictionary}", files.len(), parts as f64 / source as f64);
    println!("parse {:.1} ms, build {:.1} ms", parse * 1e3, build * 1e3);
    let rounds = std::env::var("ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(3);
    let (mut best_fresh, mut best_reused) = (f64::MAX, f64::MAX);
    for round in 0..rounds {
        let clock = Instant::now();
        for file in 0..store.len() {
            std::hint::black_box(store.cursor(file));
        }
        let fresh = clock.elapsed().as_secs_f64();
        let mut cursor = store.cursor(0);
        let clock = Instant::now();
        for file in 0..store.len() {
            if std::env::var_os("FRESH_ONLY").is_some() {
                break;
            }
            store.reset_cursor(&mut cursor, (file + 1) % store.len());
        }
        let reused = clock.elapsed().as_secs_f64();
        best_fresh = best_fresh.min(fresh);
        best_reused = best_reused.min(reused);
        println!(
            "round {round}: thaw every file, new cursor each {:.2} ms ({:.3}x parse), reused cursor {:.2} ms ({:.3}x parse), {:.1} ns/source byte",
            fresh * 1e3, fresh / parse, reused * 1e3, reused / parse, fresh * 1e9 / source as f64
        );
    }
    println!(
        "best: new cursor {:.3}x parse, reused {:.3}x parse",
        best_fresh / parse,
        best_reused / parse
    );
    // Parse and thaw alternately, keeping the fastest of each: the machine is shared, and alternating
    // exposes both to the same load.
    let (mut p_best, mut t_best) = (f64::MAX, f64::MAX);
    for _ in 0..std::env::var("PAIRS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(0)
    {
        let clock = Instant::now();
        for (l, t) in &files {
            std::hint::black_box(parsers[l.index()].parse(t, None));
        }
        p_best = p_best.min(clock.elapsed().as_secs_f64());
        // As the compare run's "open every file": one new cursor, reset on every file in turn.
        let clock = Instant::now();
        let mut cursor = store.cursor(0);
        for file in 0..store.len() {
            store.reset_cursor(&mut cursor, file);
        }
        drop(cursor);
        t_best = t_best.min(clock.elapsed().as_secs_f64());
    }
    if t_best < f64::MAX {
        println!(
            "alternating: parse {:.1} ms, open every file {:.2} ms: {:.3}x",
            p_best * 1e3,
            t_best * 1e3,
            t_best / p_best
        );
    }
}

#[allow(dead_code)]
fn dctx_size() -> usize {
    zstd_safe::DCtx::create().sizeof()
}

/// Prints [`backend_frozen::breakdown`] for `files`.
pub fn print_breakdown(files: &[(Language, String)]) {
    let refs: Vec<(Language, &str)> = files.iter().map(|(l, t)| (*l, t.as_str())).collect();
    let (b, lexicon) = backend_frozen::breakdown(&refs);
    println!("lexicon {lexicon:?}");
    println!(
        "nodes {} leaves {} source {} (nodes per byte {:.3})",
        b.nodes,
        b.leaves,
        b.source_bytes,
        b.nodes as f64 / b.source_bytes as f64
    );
    for (part, bytes, text) in &b.common_literals {
        println!(
            "  literal {part} {bytes:>8} {:?}",
            text.chars().take(60).collect::<String>()
        );
    }
    for (i, name) in backend_frozen::PARTS.iter().enumerate() {
        println!(
            "{name:>12}: coded {:>9.0} B ({:.3} b/node, {:.4} B/src B), symbols {:>8}, literal {:>8} B, contexts {:>6}, entries {:>7}",
            b.coded_bits[i] / 8.0, b.coded_bits[i] / b.nodes as f64, b.coded_bits[i] / 8.0 / b.source_bytes as f64,
            b.symbols[i], b.literal_bytes[i], b.contexts[i], b.entries[i]
        );
    }
}

#[allow(dead_code)]
fn dctx_create_cost() {
    let clock = Instant::now();
    for _ in 0..3000 {
        let mut d = zstd_safe::DCtx::create();
        d.set_parameter(zstd_safe::DParameter::Format(
            zstd_safe::FrameFormat::Magicless,
        ))
        .unwrap();
        std::hint::black_box(&d);
    }
    println!(
        "3000 DCtx create+drop: {:.2} ms",
        clock.elapsed().as_secs_f64() * 1e3
    );
}
