//! The per-node and per-leaf bytes of the crate doc's layout table, measured at the allocator on syntree's own
//! builder with this backend's flavor and value, so that a syntree release that changes them (or stops cloning
//! a tree into exactly sized arrays, which the store relies on) fails here rather than leaving the table wrong.

use backend_syntree::{Compact, Value};
use cst_measure::alloc::{snapshot, MeasuringAllocator};
use syntree::{Builder, Span, Tree};

#[global_allocator]
static ALLOC: MeasuringAllocator = MeasuringAllocator::new();

/// A root spanning `0..leaves` with `leaves` one-byte leaves and `empty` empty ones after them.
fn build(leaves: u32, empty: u32) -> Tree<Value, Compact> {
    let value = Value::new(1, 2, false).unwrap();
    let mut builder: Builder<Value, Compact> = Builder::new_with();
    builder.open_with(value, Span::new(0, leaves)).unwrap();
    for i in 0..leaves {
        builder.token_with(value, Span::new(i, i + 1)).unwrap();
    }
    for _ in 0..empty {
        builder.token_with(value, Span::point(leaves)).unwrap();
    }
    builder.close().unwrap();
    builder.build().unwrap()
}

/// Bytes and blocks `make` leaves allocated in what it returns.
fn measure<T>(make: impl FnOnce() -> T) -> (u64, u64, T) {
    let before = snapshot();
    let made = make();
    let after = snapshot();
    (
        after.live_bytes - before.live_bytes,
        after.live_blocks - before.live_blocks,
        made,
    )
}

/// Bytes per visible node and per non-empty leaf, as the row's description gives them.
const NODE_BYTES: u64 = 32;
const LEAF_BYTES: u64 = 8;

#[test]
fn the_description_gives_the_measured_bytes() {
    use cst_measure::Backend;
    let retains = backend_syntree::Syntree::RETAINS;
    for phrase in [
        format!("one {NODE_BYTES}-byte link record per visible node"),
        format!("token index, {LEAF_BYTES} bytes per non-empty leaf"),
    ] {
        assert!(retains.contains(&phrase), "{retains:?} lacks {phrase:?}");
    }
}

#[test]
fn a_node_is_32_bytes_and_a_non_empty_leaf_8_more() {
    // 64 elements (the builder's doubling Vecs end exactly full): a root, 47 non-empty leaves, 16 empty ones.
    let (bytes, blocks, tree) = measure(|| build(47, 16));
    assert_eq!((tree.len(), tree.capacity()), (64, 64));
    // The links array, 64 records of 32 bytes; the token index, 47 entries of 8 bytes in a Vec of 64.
    assert_eq!((bytes, blocks), (64 * NODE_BYTES + 64 * LEAF_BYTES, 2));
}

#[test]
fn a_clone_is_exactly_sized() {
    let grown = build(40, 9);
    assert_eq!((grown.len(), grown.capacity()), (50, 64));
    let (bytes, blocks, clone) = measure(|| grown.clone());
    assert_eq!(clone.capacity(), 50);
    assert_eq!((bytes, blocks), (50 * NODE_BYTES + 40 * LEAF_BYTES, 2));
}
