//! The wide-node index: for each node with more than [`WIDE`] children, every [`STRIDE`]-th child's record
//! offset, the base its gap counts from (the previous child's end) and the context it is coded in, so that
//! a lookup by offset starts its scan of the children at most [`STRIDE`] children before the answer instead
//! of at the first child.
//!
//! It sits between a file's header byte and its records, only in files that have wide nodes (the header's
//! bit 2 says so), as a `u32` byte length followed by (all integers little-endian):
//!
//! | part | bytes |
//! | --- | --- |
//! | number of wide nodes `n` | 4 |
//! | per wide node, in preorder: its children's bit offset (the key a cursor frame has), its first sample | 8 each |
//! | the number of samples (where the last node's samples end) | 4 |
//! | per sample: its record's bit offset, its base, its context | 10 each |

/// Nodes with more children than this are indexed.
pub(crate) const WIDE: u32 = 64;
/// Children between two samples.
pub(crate) const STRIDE: u32 = 32;

const NODE: usize = 8;
const SAMPLE: usize = 10;

/// One sampled child: where its record is and what decoding it needs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Sample {
    /// Bit offset of its record in the file's stream.
    pub(crate) at: u32,
    /// Its previous sibling's end, which its gap counts from.
    pub(crate) base: u32,
    /// The context its record is coded in.
    pub(crate) context: u16,
}

/// Bytes of an index of `nodes` wide nodes with `samples` samples in all.
pub(crate) fn index_len(nodes: usize, samples: usize) -> usize {
    4 + nodes * NODE + 4 + samples * SAMPLE
}

/// Writes the index into `out` (exactly [`index_len`] bytes): `keys` and `nodes` (index, first sample,
/// count) in preorder.
pub(crate) fn write_index(
    out: &mut [u8],
    keys: &[u32],
    nodes: &[(u32, u32, u32)],
    samples: &[Sample],
) {
    debug_assert_eq!(out.len(), index_len(nodes.len(), samples.len()));
    let mut at = 0;
    let mut put = |bytes: &[u8]| {
        out[at..at + bytes.len()].copy_from_slice(bytes);
        at += bytes.len();
    };
    put(&(nodes.len() as u32).to_le_bytes());
    for (key, node) in keys.iter().zip(nodes) {
        put(&key.to_le_bytes());
        put(&node.1.to_le_bytes());
    }
    put(&(samples.len() as u32).to_le_bytes());
    for s in samples {
        put(&s.at.to_le_bytes());
        put(&s.base.to_le_bytes());
        put(&s.context.to_le_bytes());
    }
}

/// A file's index, read in place.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct WideIndex<'a> {
    bytes: &'a [u8],
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"))
}

impl<'a> WideIndex<'a> {
    /// The index of the stream `file` (its header byte first), and the bit offset of its first record
    /// (after the index and the padding the header's bits 3 to 5 give).
    pub(crate) fn of(file: &'a [u8]) -> (WideIndex<'a>, u32) {
        let pad = u32::from(file[0] >> 3) & 7;
        if file[0] & 4 == 0 {
            return (WideIndex { bytes: &[] }, 8 + pad);
        }
        let len = u32_at(file, 1) as usize;
        (
            WideIndex {
                bytes: &file[5..5 + len],
            },
            (5 + len) as u32 * 8 + pad,
        )
    }

    /// Whether a wide node's children start at a bit in `from..to`.
    pub(crate) fn any_in(&self, from: u32, to: u32) -> bool {
        if self.bytes.is_empty() {
            return false;
        }
        let nodes = u32_at(self.bytes, 0) as usize;
        let key_at = |i: usize| u32_at(self.bytes, 4 + i * NODE);
        let (mut lo, mut hi) = (0, nodes);
        while lo < hi {
            let mid = (lo + hi) / 2;
            if key_at(mid) < from {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo < nodes && key_at(lo) < to
    }

    /// Where a scan of the children of the node whose children start at bit `key` for the first child that
    /// reaches `offset` may begin: the last sample whose base (its previous sibling's end) is before
    /// `offset` (every child before it ends at or before that base, so none of them reaches `offset`), or
    /// `None` to start at the first child.
    #[inline]
    pub(crate) fn scan_from(&self, key: u32, offset: u32) -> Option<Sample> {
        if self.bytes.is_empty() {
            return None;
        }
        let nodes = u32_at(self.bytes, 0) as usize;
        let key_at = |i: usize| u32_at(self.bytes, 4 + i * NODE);
        let (mut lo, mut hi) = (0, nodes);
        while lo < hi {
            let mid = (lo + hi) / 2;
            if key_at(mid) < key {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        if lo == nodes || key_at(lo) != key {
            return None;
        }
        let first = u32_at(self.bytes, 4 + lo * NODE + 4) as usize;
        // The next node's first sample, or after the last node the total.
        let end_at = 4 + (lo + 1) * NODE + if lo + 1 == nodes { 0 } else { 4 };
        let end = u32_at(self.bytes, end_at) as usize;
        let samples = 4 + nodes * NODE + 4;
        let sample = |i: usize| {
            let at = samples + i * SAMPLE;
            Sample {
                at: u32_at(self.bytes, at),
                base: u32_at(self.bytes, at + 4),
                context: u16::from_le_bytes(
                    self.bytes[at + 8..at + 10].try_into().expect("2 bytes"),
                ),
            }
        };
        // The samples of this node whose base is before `offset` form a prefix; take its last.
        let (mut lo, mut hi) = (first, end);
        while lo < hi {
            let mid = (lo + hi) / 2;
            if sample(mid).base < offset {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        (lo > first).then(|| sample(lo - 1))
    }
}

/// Ties the numbers in the row's descriptions ([`crate::Arena`]'s `RETAINS`, `LOOKUP` and `UPDATE`) to the
/// constants the code uses, so that changing one without the other fails here.
#[cfg(test)]
mod descriptions {
    use super::{STRIDE, WIDE};
    use crate::Arena;
    use cst_measure::backend::ERROR_DEPTH;
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
    fn the_wide_node_index_is_described_with_its_threshold_and_stride() {
        says(
            Arena::RETAINS,
            &format!("a small index per node of more than {WIDE} children"),
        );
        says(
            Arena::LOOKUP,
            &format!(
                "a node with more than {WIDE} children starts its scan at the last of every {} child",
                ordinal(STRIDE)
            ),
        );
        says(
            Arena::LOOKUP,
            &format!("at most about {STRIDE} siblings passed at such a level"),
        );
    }

    #[test]
    fn the_update_gives_the_error_depth() {
        says(
            Arena::UPDATE,
            &format!("the edit, {ERROR_DEPTH} levels below the root or shallower"),
        );
    }
}
