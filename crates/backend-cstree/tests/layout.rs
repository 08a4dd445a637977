//! The per-node and per-token bytes of the crate doc's layout table, measured at the allocator on cstree's own
//! builder, so that a cstree release that changes them fails here rather than leaving the table wrong.

use cst_measure::alloc::{snapshot, MeasuringAllocator};
use cstree::build::GreenNodeBuilder;
use cstree::{RawSyntaxKind, Syntax};

#[global_allocator]
static ALLOC: MeasuringAllocator = MeasuringAllocator::new();

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct K(u32);

impl Syntax for K {
    fn from_raw(raw: RawSyntaxKind) -> K {
        K(raw.0)
    }
    fn into_raw(self) -> RawSyntaxKind {
        RawSyntaxKind(self.0)
    }
    fn static_text(self) -> Option<&'static str> {
        None
    }
}

/// Bytes still allocated after building `build`'s tree and dropping the builder's cache and interner.
fn tree_bytes(build: impl FnOnce(&mut GreenNodeBuilder<'static, 'static, K>)) -> u64 {
    let before = snapshot().live_bytes;
    let mut builder = GreenNodeBuilder::new();
    build(&mut builder);
    let (green, cache) = builder.finish();
    drop(cache);
    let bytes = snapshot().live_bytes - before;
    drop(green);
    bytes
}

#[test]
fn a_node_is_32_bytes_plus_8_per_child_and_a_token_24_once_per_kind_and_text() {
    // A node with six tokens, five of them distinct: one node block and five token blocks.
    let bytes = tree_bytes(|b| {
        b.start_node(K(1));
        for text in ["a", "b", "c", "d", "e", "a"] {
            b.token(K(2), text);
        }
        b.finish_node();
    });
    assert_eq!(bytes, (32 + 6 * 8) + 5 * 24);

    // The same text under another kind is another token.
    let bytes = tree_bytes(|b| {
        b.start_node(K(1));
        b.token(K(2), "a");
        b.token(K(3), "a");
        b.finish_node();
    });
    assert_eq!(bytes, (32 + 2 * 8) + 2 * 24);
}

#[test]
fn nodes_of_at_most_three_children_are_shared_and_wider_ones_are_not() {
    let nested = |children: usize| {
        tree_bytes(move |b| {
            b.start_node(K(1));
            for _ in 0..2 {
                b.start_node(K(2));
                for _ in 0..children {
                    b.token(K(3), "x");
                }
                b.finish_node();
            }
            b.finish_node();
        })
    };
    // Root (32 + 2 slots), one shared child (32 + 3 slots), one token.
    assert_eq!(nested(3), (32 + 2 * 8) + (32 + 3 * 8) + 24);
    // Root, two separate children (32 + 4 slots each), one token.
    assert_eq!(nested(4), (32 + 2 * 8) + 2 * (32 + 4 * 8) + 24);
}
