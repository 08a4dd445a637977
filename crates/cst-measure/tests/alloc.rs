//! The counting allocator counts what it must: Rust allocations exactly, and tree-sitter's C heap through the
//! allocator hooks (without them a tree would look like a few bytes).

use cst_measure::alloc::{self, CountingAllocator};
use cst_measure::reference::for_each_preorder;
use cst_measure::reference::TreeSitterCursor;
use cst_measure::Language;

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

#[test]
fn counting_allocator_is_installed() {
    assert!(alloc::is_installed());
}

#[test]
fn a_known_rust_allocation_is_counted_exactly() {
    let before = alloc::snapshot();
    let buffer: Vec<u8> = Vec::with_capacity(12_345);
    let during = alloc::snapshot();
    assert_eq!(during.live_bytes - before.live_bytes, 12_345);
    assert_eq!(during.live_blocks - before.live_blocks, 1);
    assert_eq!(during.allocations - before.allocations, 1);
    drop(std::hint::black_box(buffer));
    assert_eq!(alloc::snapshot().live_bytes, before.live_bytes);
}

#[test]
fn peak_tracks_the_highest_point_since_reset() {
    alloc::reset_peak();
    let base = alloc::snapshot().live_bytes;
    drop(std::hint::black_box(vec![0u8; 100_000]));
    let small = std::hint::black_box(vec![0u8; 10]);
    let after = alloc::snapshot();
    assert_eq!(after.live_bytes - base, 10);
    assert!(
        after.peak_bytes - base >= 100_000,
        "peak {} should include the freed 100 kB",
        after.peak_bytes - base
    );
    drop(small);
}

#[test]
fn tree_sitter_trees_are_counted_through_the_hooks() {
    let source = "def f(x):\n    return [y * 2 for y in range(x) if y % 3]\n".repeat(200);
    let before = alloc::snapshot().live_bytes;
    let tree = Language::Python.parse(&source); // the parser is dropped inside: only the tree is left
    let held = alloc::snapshot().live_bytes - before;
    let mut nodes = 0u64;
    for_each_preorder(
        &mut TreeSitterCursor::new(tree.root_node(), &source),
        |_| nodes += 1,
    );
    let per_node = held as f64 / nodes as f64;
    // A tree-sitter node costs tens of bytes; a figure of a few bytes per node means C malloc went uncounted.
    assert!(
        (10.0..500.0).contains(&per_node),
        "{held} bytes for {nodes} nodes = {per_node:.1} B/node"
    );
    drop(tree);
    assert_eq!(
        alloc::snapshot().live_bytes,
        before,
        "dropping the tree returns every byte"
    );
}

#[test]
fn counts_are_per_thread() {
    let (held_tx, held_rx) = std::sync::mpsc::channel();
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let before = alloc::snapshot().live_bytes;
    let worker = std::thread::spawn(move || {
        let big = std::hint::black_box(vec![0u8; 1 << 20]);
        held_tx.send(()).unwrap();
        done_rx.recv().unwrap();
        drop(big);
    });
    held_rx.recv().unwrap();
    let delta = alloc::snapshot().live_bytes.wrapping_sub(before) as i64;
    // Spawning costs this thread a little bookkeeping; the worker's megabyte must not show.
    assert!(
        delta.abs() < 64 * 1024,
        "this thread sees {delta} bytes of another thread's megabyte"
    );
    done_tx.send(()).unwrap();
    worker.join().unwrap();
}
