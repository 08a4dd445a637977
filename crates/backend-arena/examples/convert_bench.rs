//! Times conversion against the bare tree-sitter walk of the same trees, and the ways through tree-sitter's
//! tree that cost less than that walk: a benchmark, not a test (no bound is asserted; figures for the report
//! come from `cargo xtask compare`).
//!
//! Usage: `cargo run -p backend-arena --release --example convert_bench -- [builtin] [DIR...] [--reps N]
//! [--ops] [--walk-only]`
//!
//! For each repetition every file is parsed again (not timed), then six things are timed on those trees:
//! - `walk`: a bare `TreeCursor` preorder walk reading kind, field, byte range and MISSING flag of every
//!   visible node: the harness's own (`cst_measure::references::bare_walk`, its `walk` column);
//! - `convert`: `ArenaStore::add` for every file plus `finish` (what the harness's conversion column times:
//!   it includes dropping each tree, which `add` owns);
//! - `drop`: dropping freshly parsed trees alone, the part of `convert` that is tree-sitter freeing its nodes;
//! - `lean`: the walk asking `is_missing` only of empty nodes, as the encoder does;
//! - `counted`: `lean` through `cst_measure::tree_walk::CountedCursor`, as every converter walks: never
//!   asking for a next sibling that is not there, nor for a first child of a node without children (the
//!   same nodes, checked; what this way through tree-sitter's tree saves over the bare walk);
//! - `floor`: the walk plus the least any encoder of records adds per node (one code per kind into a bit
//!   buffer): what tree-sitter's public API leaves a converter for everything else under 1.1x.
//!
//! `--harness` instead times as the compare run's build does: each file parsed, then converted with the
//! bare walk timed beside it (before `add` for every other file, after it for the rest), trees freed apart.
//!
//! Medians are printed. `--walk-only` runs the bare walk alone (20 times per repetition: for profiling it).
//! `--ops` instead builds a store and times the walk, named-histogram (a cursor's walk) and node-at-offset
//! operations of `cst_measure::ops` on it (`ONLY_WALK=1` for the walk alone), after the walk's digest over
//! pre-decoded nodes (a `Vec` of depths and `NodeInfo`s: the floor the operation itself sets on this
//! machine).

use backend_arena::Arena;
use cst_measure::corpus::{Corpus, DEFAULT_MAX_FILE_BYTES};
use cst_measure::references::bare_walk;
use cst_measure::tree_walk::CountedCursor;
use cst_measure::{Backend, CstStore, Language};
use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

// The harness's allocator, so that tree-sitter's frees cost here what they cost there.
#[global_allocator]
static ALLOC: cst_measure::alloc::MeasuringAllocator =
    cst_measure::alloc::MeasuringAllocator::new();

/// Calls `visit` on every visible node of `tree` in preorder, through one `TreeCursor` (the bare walk's
/// moves).
#[inline(always)]
fn preorder(tree: &tree_sitter::Tree, mut visit: impl FnMut(&tree_sitter::TreeCursor<'_>)) {
    let mut cursor = tree.walk();
    loop {
        visit(&cursor);
        if cursor.goto_first_child() {
            continue;
        }
        loop {
            if cursor.goto_next_sibling() {
                break;
            }
            if !cursor.goto_parent() {
                return;
            }
        }
    }
}

/// The time `walk` takes over every tree.
fn each(trees: &[tree_sitter::Tree], mut walk: impl FnMut(&tree_sitter::Tree) -> u64) -> Duration {
    let clock = Instant::now();
    for tree in trees {
        black_box(walk(tree));
    }
    clock.elapsed()
}

/// [`bare_walk`] asking `is_missing` only of empty nodes (a MISSING node is always empty), as the encoder
/// does (a call per node a reader can skip; [`counted_walk`] skips more). Its sum is the bare walk's,
/// so that the two differ in that call only.
fn lean_walk(tree: &tree_sitter::Tree) -> u64 {
    let mut sum = 0u64;
    preorder(tree, |cursor| {
        sum = lean_sum(
            sum,
            &cursor.node(),
            cursor.field_id().map_or(0, |f| f.get()),
        )
    });
    sum
}

/// `sum` plus what the bare walk reads of `node` (and its `field`), asking `is_missing` only of an empty one.
#[inline(always)]
fn lean_sum(sum: u64, node: &tree_sitter::Node<'_>, field: u16) -> u64 {
    let (start, end) = (node.start_byte(), node.end_byte());
    sum.wrapping_add(u64::from(node.kind_id()))
        .wrapping_add(u64::from(field))
        .wrapping_add(start as u64)
        .wrapping_add(end as u64)
        .wrapping_add(u64::from(start == end && node.is_missing()))
}

/// [`lean_walk`] through a [`CountedCursor`], as the encoder walks: never asking for a next sibling after the
/// last child its parent's child count promised, nor for a first child of a node whose count is 0.
fn counted_walk(tree: &tree_sitter::Tree) -> u64 {
    let mut walk = CountedCursor::new(tree);
    let mut sum = 0u64;
    loop {
        let node = walk.node();
        sum = lean_sum(sum, &node, walk.field_id());
        if walk.goto_first_child(node.child_count()) {
            continue;
        }
        while !walk.goto_next_sibling() {
            if !walk.goto_parent() {
                return sum;
            }
        }
    }
}

/// [`bare_walk`] plus the least any encoder of records adds per node: one prefix code per kind (lengths of 1
/// to 12 bits from a fixed table, no context and no numbers) appended to a bit buffer. It reads and sums what
/// the bare walk does, so that its cost over the bare walk is the encoding alone: how much of the 1.1x a
/// converter through `TreeCursor` has to spend on everything else.
fn floor_encoder_walk(tree: &tree_sitter::Tree, codes: &[u32], out: &mut Vec<u8>) -> u64 {
    out.clear();
    let (mut bits, mut pending) = (0u64, 0u32);
    let mut sum = 0u64;
    preorder(tree, |cursor| {
        let node = cursor.node();
        let kind = node.kind_id();
        sum = sum
            .wrapping_add(u64::from(kind))
            .wrapping_add(u64::from(cursor.field_id().map_or(0, |f| f.get())))
            .wrapping_add(node.start_byte() as u64)
            .wrapping_add(node.end_byte() as u64)
            .wrapping_add(u64::from(node.is_missing()));
        let code = codes[usize::from(kind)];
        let length = code & 15;
        bits = (bits << length) | u64::from(code >> 4);
        pending += length;
        if pending >= 32 {
            out.extend_from_slice(&((bits >> (pending - 32)) as u32).to_be_bytes());
            pending -= 32;
        }
    });
    sum ^ out.len() as u64
}

fn main() {
    let mut files: Vec<(Language, String)> = Vec::new();
    let mut reps = 5;
    let mut walk_only = false;
    let mut ops_only = false;
    let mut harness = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--ops" {
            ops_only = true;
        } else if arg == "--harness" {
            harness = true;
        } else if arg == "--walk-only" {
            walk_only = true;
        } else if arg == "--reps" {
            reps = args.next().and_then(|n| n.parse().ok()).expect("--reps N");
        } else if arg == "builtin" {
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
    let mut parsers: Vec<tree_sitter::Parser> = Language::ALL.iter().map(|l| l.parser()).collect();
    let mut parse_all = || -> Vec<tree_sitter::Tree> {
        files
            .iter()
            .map(|(l, text)| parsers[l.index()].parse(text, None).expect("tree"))
            .collect()
    };
    if harness {
        as_the_harness(&files, &mut parsers, reps);
        return;
    }
    if ops_only {
        flat_floor(&files, reps);
        ops(&files, reps);
        return;
    }
    let (mut walk, mut convert, mut drop_time) = (Vec::new(), Vec::new(), Vec::new());
    let mut lean = Vec::new();
    let mut counted = Vec::new();
    let mut floor = Vec::new();
    // Code lengths of 1 to 12 bits spread over the kind ids by a multiplicative hash: `code << 4 | length`.
    let floor_codes: Vec<u32> = (0..=u32::from(u16::MAX))
        .map(|kind| {
            let length = 1 + (kind.wrapping_mul(2_654_435_761) >> 28) % 12;
            ((kind & ((1 << length) - 1)) << 4) | length
        })
        .collect();
    let mut floor_buffer = Vec::with_capacity(1 << 20);
    let mut nodes = 0u64;
    for _ in 0..reps {
        let trees = parse_all();
        nodes = trees
            .iter()
            .map(|t| t.root_node().descendant_count() as u64)
            .sum();
        walk.push(each(&trees, bare_walk));
        lean.push(each(&trees, lean_walk));
        for tree in &trees {
            assert_eq!(counted_walk(tree), lean_walk(tree), "the same nodes");
        }
        counted.push(each(&trees, counted_walk));
        floor.push(each(&trees, |tree| {
            floor_encoder_walk(tree, &floor_codes, &mut floor_buffer)
        }));
        if walk_only {
            // Walk the same trees many times, so that a profile of this mode is the walk's.
            for _ in 0..20 {
                for tree in &trees {
                    black_box(bare_walk(tree));
                }
            }
            continue;
        }
        let clock = Instant::now();
        let mut store = Arena::new_store();
        for ((language, text), tree) in files.iter().zip(trees) {
            store.add(*language, text, tree).expect("fits");
        }
        store.finish();
        convert.push(clock.elapsed());
        black_box(&store);
        drop(store);
        let trees = parse_all();
        let clock = Instant::now();
        drop(black_box(trees));
        drop_time.push(clock.elapsed());
    }
    let median = |v: &mut Vec<Duration>| {
        v.sort();
        v[v.len() / 2]
    };
    if walk_only {
        let w = median(&mut walk);
        println!("walk {:.3} ms over {nodes} nodes", w.as_secs_f64() * 1e3);
        return;
    }
    let w = median(&mut walk);
    let per = |t: Duration| t.as_secs_f64() * 1e9 / nodes as f64;
    println!(
        "{} files, {nodes} nodes (descendant_count, hidden included); medians of {reps}:",
        files.len()
    );
    println!(
        "walk    {:>9.3} ms  {:>6.1} ns/node",
        w.as_secs_f64() * 1e3,
        per(w)
    );
    for (name, times, what) in [
        ("convert", &mut convert, ""),
        ("drop", &mut drop_time, ""),
        (
            "floor",
            &mut floor,
            " (plus one code per kind into a bit buffer)",
        ),
        ("lean", &mut lean, " (is_missing asked of empty nodes only)"),
        ("counted", &mut counted, " (no move asked that would fail)"),
    ] {
        let t = median(times);
        println!(
            "{name:<7} {:>9.3} ms  {:>6.1} ns/node  {:.3}x walk{what}",
            t.as_secs_f64() * 1e3,
            per(t),
            t.as_secs_f64() / w.as_secs_f64()
        );
    }
}

/// Conversion against the bare walk timed as the compare run's build does (see the module doc).
fn as_the_harness(files: &[(Language, String)], parsers: &mut [tree_sitter::Parser], reps: usize) {
    let (mut walks, mut converts) = (Vec::new(), Vec::new());
    for _ in 0..reps {
        let (mut walk, mut convert) = (Duration::ZERO, Duration::ZERO);
        let mut store = Arena::new_store();
        for (index, (language, text)) in files.iter().enumerate() {
            let tree = parsers[language.index()].parse(text, None).expect("tree");
            let handle = tree.clone();
            let timed_walk = |walk: &mut Duration| {
                let clock = Instant::now();
                black_box(bare_walk(&handle));
                *walk += clock.elapsed();
            };
            if index % 2 == 0 {
                timed_walk(&mut walk);
            }
            let clock = Instant::now();
            store.add(*language, text, tree).expect("fits");
            convert += clock.elapsed();
            if index % 2 == 1 {
                timed_walk(&mut walk);
            }
            drop(handle);
        }
        let clock = Instant::now();
        store.finish();
        convert += clock.elapsed();
        walks.push(walk);
        converts.push(convert);
    }
    let mut ratios: Vec<f64> = walks
        .iter()
        .zip(&converts)
        .map(|(w, c)| c.as_secs_f64() / w.as_secs_f64())
        .collect();
    ratios.sort_by(f64::total_cmp);
    walks.sort();
    converts.sort();
    println!(
        "as the harness, medians of {reps}: walk {:.3} ms, conversion {:.3} ms, conversion / walk {:.3}x (range {:.3}-{:.3})",
        walks[reps / 2].as_secs_f64() * 1e3,
        converts[reps / 2].as_secs_f64() * 1e3,
        ratios[reps / 2],
        ratios[0],
        ratios[reps - 1]
    );
}

/// Times the arena's preorder walk and lookups (as `cst_measure::ops` runs them), for profiling.
#[inline(never)]
fn ops(files: &[(Language, String)], reps: usize) {
    use cst_measure::ops::{run, sample_offsets, KindTables, Operation};
    let mut store = Arena::new_store();
    for (language, text) in files {
        store
            .add(*language, text, language.parse(text))
            .expect("fits");
    }
    store.finish();
    let tables = KindTables::new();
    let sizes: Vec<u64> = files.iter().map(|f| f.1.len() as u64).collect();
    let offsets = sample_offsets(&sizes, 10_000);
    let only_walk = std::env::var_os("ONLY_WALK").is_some();
    for op in [
        Operation::Walk,
        Operation::NamedHistogram,
        Operation::NodeAtOffset,
    ] {
        if only_walk && op != Operation::Walk {
            continue;
        }
        let mut times = Vec::new();
        let mut items = 0;
        for _ in 0..reps {
            let clock = Instant::now();
            items = black_box(run(op, &store, &tables, &offsets)).items;
            times.push(clock.elapsed());
        }
        times.sort();
        let (t, min) = (times[times.len() / 2], times[0]);
        println!(
            "{:?}: median {:.1} ns per item, fastest {:.1} ns per item",
            op,
            t.as_secs_f64() * 1e9 / items as f64,
            min.as_secs_f64() * 1e9 / items as f64
        );
    }
}

/// Times the walk operation's own work over pre-decoded nodes (each file's `(depth, NodeInfo)` in preorder,
/// read from a `Vec` with the operation's digest): the floor the operation itself sets on this machine.
#[inline(never)]
fn flat_floor(files: &[(Language, String)], reps: usize) {
    let trees: Vec<Vec<(u32, cst_measure::NodeInfo)>> = files
        .iter()
        .map(|(l, text)| {
            let tree = l.parse(text);
            let mut cursor = cst_measure::reference::TreeSitterCursor::new(tree.root_node(), text);
            cst_measure::backend::fold_preorder_of(
                &mut cursor,
                Vec::new(),
                |mut nodes, depth, node| {
                    nodes.push((depth, node));
                    nodes
                },
            )
        })
        .collect();
    let mut times = Vec::new();
    let mut count = 0u64;
    for _ in 0..reps {
        let clock = Instant::now();
        count = flat_walk(&trees);
        times.push(clock.elapsed());
    }
    times.sort();
    println!(
        "flat floor: fastest {:.1} ns per node over {count} nodes",
        times[0].as_secs_f64() * 1e9 / count as f64
    );
}

/// One pass over every pre-decoded tree, with the walk operation's digest.
#[inline(never)]
fn flat_walk(trees: &[Vec<(u32, cst_measure::NodeInfo)>]) -> u64 {
    let mut count = 0;
    let mut digest = cst_measure::ops::DIGEST_START;
    for &(depth, node) in trees.iter().flatten() {
        digest = cst_measure::ops::mix_node(digest, depth, node);
        count += 1;
    }
    black_box(digest);
    count
}
