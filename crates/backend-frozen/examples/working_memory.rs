//! Working memory of a frozen store's operations, counted at the allocator: for opening every file, a full
//! walk, node-at-offset and parent-chain lookups (the compare run's sampled offsets), the peak of live bytes
//! above the store while the operation runs, with its time, at the thaw budgets given; and the build's peak.
//!
//! Usage: `cargo run -p backend-frozen --release --example working_memory -- [DIR] [BUDGET...]` (the
//! built-in corpus without DIR, or with `-`; the default budget without BUDGETs; `FROZEN_BLOCK_NODES=N` in
//! the environment sets the nodes per block, 0 for none). The compare run is the source of reported
//! figures; this is for working on the cursor.

use backend_frozen::{Frozen, FrozenStore, DEFAULT_THAW_BUDGET};
use cst_measure::alloc;
use cst_measure::corpus::{Corpus, DEFAULT_MAX_FILE_BYTES};
use cst_measure::ops::{sample_offsets, OFFSET_SAMPLES};
use cst_measure::{Backend, CstCursor, CstStore, Language};
use std::time::Instant;

#[global_allocator]
static ALLOCATOR: alloc::MeasuringAllocator = alloc::MeasuringAllocator::new();

/// Runs `op`, returning its peak live bytes above those live before it and its seconds.
fn measured(op: impl FnOnce() -> u64) -> (u64, f64) {
    alloc::reset_peak();
    let before = alloc::snapshot().live_bytes;
    let start = Instant::now();
    std::hint::black_box(op());
    let seconds = start.elapsed().as_secs_f64();
    (alloc::snapshot().peak_bytes - before, seconds)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = args.next().filter(|d| d != "-");
    let budgets: Vec<usize> = args
        .map(|b| b.parse().expect("a budget is a number of bytes"))
        .collect();
    let budgets = if budgets.is_empty() {
        vec![DEFAULT_THAW_BUDGET]
    } else {
        budgets
    };
    let files: Vec<(Language, String)> = match dir {
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
    let source: usize = files.iter().map(|f| f.1.len()).sum();
    let largest = files.iter().map(|f| f.1.len()).max().unwrap_or(0);
    println!(
        "{} files, {source} bytes, the largest {largest} bytes",
        files.len()
    );
    // The build: parse each file and add it, then finish (the parsers' bytes included, as in the compare run).
    alloc::reset_peak();
    let before = alloc::snapshot().live_bytes;
    let mut store: FrozenStore = Frozen::new_store();
    if let Some(nodes) = std::env::var("FROZEN_BLOCK_NODES")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        store.set_block_nodes(nodes);
    }
    for (language, text) in &files {
        let tree = language.parse(text);
        store.add(*language, text, tree).expect("representable");
    }
    store.finish();
    let after = alloc::snapshot();
    println!(
        "store {} bytes at rest, build peak {} bytes",
        after.live_bytes - before,
        after.peak_bytes - before
    );
    let (blocked, blocks, overhead) = store.block_overhead();
    println!("{blocked} files in {blocks} blocks; their indices and checkpoints {overhead} bytes");
    let sizes: Vec<u64> = files.iter().map(|f| f.1.len() as u64).collect();
    let offsets = sample_offsets(&sizes, OFFSET_SAMPLES);
    for budget in budgets {
        store.set_thaw_budget(budget);
        let store = &store;
        let open = measured(|| {
            let mut cursor = store.cursor(0);
            let mut kinds = 0u64;
            for file in 0..store.len() {
                store.reset_cursor(&mut cursor, file);
                kinds += u64::from(cursor.node().kind);
            }
            kinds
        });
        let walk = measured(|| {
            (0..store.len())
                .map(|file| store.fold_preorder(file, 0u64, |n, depth, _| n + u64::from(depth)))
                .sum()
        });
        let lookup = measured(|| {
            let mut cursor = store.cursor(0);
            let mut ends = 0u64;
            for &(file, offset) in &offsets {
                store.seek(&mut cursor, file, offset);
                ends += u64::from(cursor.node().end);
            }
            ends
        });
        let chain = measured(|| {
            let mut cursor = store.cursor(0);
            let mut depth = 0u64;
            for &(file, offset) in &offsets {
                store.seek(&mut cursor, file, offset);
                while cursor.goto_parent() {
                    depth += 1;
                }
            }
            depth
        });
        println!("budget {budget} bytes: working bytes and time per item");
        let per = |(bytes, seconds): (u64, f64), items: usize| {
            format!("{bytes} B, {:.2} us", seconds * 1e6 / items.max(1) as f64)
        };
        println!("  open           {}", per(open, store.len()));
        println!("  walk (a file)  {}", per(walk, store.len()));
        println!("  node at offset {}", per(lookup, offsets.len()));
        println!("  parent chain   {}", per(chain, offsets.len()));
    }
}
