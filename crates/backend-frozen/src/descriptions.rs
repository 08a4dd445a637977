//! Ties every number in the row's descriptions ([`Frozen::RETAINS`], [`Frozen::LOOKUP`], [`Frozen::UPDATE`]) to the constant the
//! code uses, so that changing one without the other fails here rather than leaving the README wrong.

use crate::{codec, Frozen, DEFAULT_THAW_BUDGET, HOLD_FROM, MAX_CHAIN, UPDATE_LEVEL};
use cst_measure::Backend;

/// `32` as "32nd", as the descriptions spell a sampling interval.
fn ordinal(n: impl Into<u64>) -> String {
    let n = n.into();
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

fn says(description: &str, phrase: &str) {
    assert!(
        description.contains(phrase),
        "the description lacks {phrase:?}: {description}"
    );
}

#[test]
fn the_lookup_gives_the_cursors_thaw_cache_and_the_child_lists_threshold() {
    assert_eq!(HOLD_FROM % 1024, 0, "the description gives KiB");
    assert_eq!(
        DEFAULT_THAW_BUDGET % (1 << 20),
        0,
        "the description gives MiB"
    );
    says(
        Frozen::LOOKUP,
        &format!("files of {} KiB or more", HOLD_FROM >> 10),
    );
    says(
        Frozen::LOOKUP,
        &format!(
            "within its thaw budget, {} MiB unless set",
            DEFAULT_THAW_BUDGET >> 20
        ),
    );
    says(
        Frozen::LOOKUP,
        &format!("a node with more than {} children", codec::WIDE),
    );
}

#[test]
fn the_retains_gives_the_blocks_size() {
    says(
        Frozen::RETAINS,
        &format!(
            "a file of {} nodes or more in blocks of {} nodes or more",
            2 * codec::BLOCK_NODES,
            codec::BLOCK_NODES
        ),
    );
}

#[test]
fn the_update_gives_the_chain_length_the_delta_bound_and_the_level() {
    says(
        Frozen::UPDATE,
        &format!("every {} version in a row", ordinal(MAX_CHAIN)),
    );
    says(
        Frozen::UPDATE,
        &format!("zstd -{UPDATE_LEVEL} for its new texts"),
    );
    // A delta's ops are 16 bytes each, and a file of `len` bytes may take `max_ops(len)` of them: a byte per
    // source byte, plus 1 KiB.
    assert_eq!(std::mem::size_of::<crate::delta::Op>(), 16);
    for len in [0, 1000, 1 << 20] {
        assert_eq!(crate::max_ops(len) * 16, len / 16 * 16 + 1024);
    }
    says(
        Frozen::UPDATE,
        "one whose delta would take more than a byte per source byte plus 1 KiB,",
    );
}

#[test]
fn the_retains_gives_what_a_status_model_entry_is_weighed_at() {
    says(
        Frozen::RETAINS,
        &format!(
            "the model, about {} bytes per context it predicts for",
            crate::statuses::ENTRY_BYTES
        ),
    );
}
