//! The per-node and per-leaf bytes of the crate doc's layout table, measured at the allocator on syntree's own
//! builder with this backend's flavor and value, so that a syntree release that changes them fails here rather
//! than leaving the table wrong.

use backend_syntree::{Compact, Value};
use cst_measure::alloc::{snapshot, MeasuringAllocator};
use syntree::{Builder, Span};

#[global_allocator]
static ALLOC: MeasuringAllocator = MeasuringAllocator::new();

#[test]
fn a_node_is_32_bytes_and_a_non_empty_leaf_8_more() {
    let value = Value::new(1, 2, false).unwrap();
    let before = snapshot();
    let mut builder: Builder<Value, Compact> = Builder::new_with();
    // 64 elements (a power of two, so the doubling Vecs end exactly full): a root, 47 non-empty leaves and 16
    // empty ones.
    builder.open_with(value, Span::new(0, 47)).unwrap();
    for i in 0..63u32 {
        let start = i.min(47);
        let end = if i < 47 { i + 1 } else { 47 };
        builder.token_with(value, Span::new(start, end)).unwrap();
    }
    builder.close().unwrap();
    let tree = builder.build().unwrap();
    let after = snapshot();
    assert_eq!(tree.len(), 64);
    assert_eq!(tree.capacity(), 64);
    // The links array, 64 records of 32 bytes, and the token index, 47 entries of 8 bytes in a Vec of 64.
    assert_eq!(after.live_bytes - before.live_bytes, 64 * 32 + 64 * 8);
    assert_eq!(after.live_blocks - before.live_blocks, 2);
    drop(tree);
}
