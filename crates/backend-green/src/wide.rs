//! [`WideIndex`]: sampled child offsets of the green nodes with many children, so that finding the child at an
//! offset is not a scan of every sibling.
//!
//! A green node knows its children's lengths (cstree) or offsets (rowan, which exposes them only through its
//! red tree, allocating a red node per step), and both libraries' own lookups by offset scan the children of a
//! red node one by one. So each file keeps its own index for the few nodes with more than [`WIDE`] children:
//! the start of every [`STRIDE`]-th child relative to the node's start (4 bytes per 32 children), and the
//! node's child count.
//!
//! **Keyed by position, held by the version.** An entry names its node by depth (visible nodes from
//! tree-sitter's root, the root being 1) and start offset: two non-empty nodes at one depth never overlap, so
//! the pair names one node of one version, and an empty node never needs the index (no offset lies inside it).
//! The index belongs to one version of one file (the store's entry and every `Version` taken of it share it by
//! `Arc`), so it can never describe another tree. (Keyed by green-node address and kept in the store, it would
//! outlive the nodes of replaced versions, whose addresses the allocator hands out again to other nodes; and an
//! update copies a reused wide node's handle into a new parent's slot.) An update carries the entries of the
//! wide nodes it reuses over to the new version, shifted by where the reused subtree moved (`carry`), with
//! their samples shared; a corpus without wide nodes has no index at all.
//!
//! Bytes: 8 in the file's entry (`None` without wide nodes); with wide nodes, an `Arc` of a boxed slice (16 +
//! 16), 32 per wide node (depth, start, end, child count 4 each, the samples' `Arc` handle 16) and its samples
//! (an `Arc` block: 16 + 4 per 32 children). A lookup's `scan_from` is a binary search over the entries and
//! one over the node's samples.

use crate::convert::{Wide, WIDE};
use crate::{Element, Library};
use std::sync::Arc;

/// Children between two samples.
pub const STRIDE: usize = 32;

/// One wide node of one version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WideNode {
    /// Visible nodes from tree-sitter's root down to this one, both included.
    pub depth: u32,
    /// Its byte range in the file.
    pub start: u32,
    pub end: u32,
    /// Its children.
    pub children: u32,
    /// The starts of children `STRIDE`, `2 * STRIDE`, ... relative to the node's start.
    pub samples: Arc<[u32]>,
}

/// The samples of a node with these children's lengths.
pub(crate) fn samples(lengths: impl Iterator<Item = u32>) -> Arc<[u32]> {
    let mut starts = Vec::new();
    let mut start = 0u32;
    for (i, len) in lengths.enumerate() {
        if i > 0 && i % STRIDE == 0 {
            starts.push(start);
        }
        start += len;
    }
    starts.into()
}

/// The samples of green node `node`.
pub(crate) fn samples_of<L: Library>(node: &L::NodeData) -> Arc<[u32]> {
    samples(L::children(node).map(|c| L::element(c).text_len()))
}

/// A reused subtree's place in the old and the new version, for carrying its wide nodes over.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Moved {
    pub(crate) old_depth: u32,
    pub(crate) old_start: u32,
    pub(crate) old_end: u32,
    pub(crate) new_depth: u32,
    pub(crate) new_start: u32,
}

/// Sampled child offsets of the wide nodes of one version of one file, sorted by (depth, start): a thin handle
/// (8 bytes in the file's entry, `None` for a file without wide nodes).
#[derive(Clone, Default)]
pub struct WideIndex(Option<Arc<Box<[WideNode]>>>);

impl WideIndex {
    /// The index of these nodes (in any order).
    pub(crate) fn new(mut nodes: Vec<WideNode>) -> WideIndex {
        if nodes.is_empty() {
            return WideIndex(None);
        }
        nodes.sort_by_key(|n| (n.depth, n.start));
        WideIndex(Some(Arc::new(nodes.into_boxed_slice())))
    }

    /// Children of its widest node (0 without wide nodes).
    pub fn widest(&self) -> u32 {
        self.nodes().iter().map(|n| n.children).max().unwrap_or(0)
    }

    /// Its entries.
    pub fn nodes(&self) -> &[WideNode] {
        self.0.as_deref().map_or(&[], |nodes| nodes)
    }

    /// The entries of this (old) version's wide nodes that lie in the subtrees an update reused, moved to where
    /// the new version has them. `moved` is in document order (the reused subtrees do not overlap).
    pub(crate) fn carry(&self, moved: &[Moved], out: &mut Vec<WideNode>) {
        for node in self.nodes() {
            // The last reused subtree starting at or before the node; an empty one cannot hold it, so look
            // back past those.
            let mut k = moved.partition_point(|m| m.old_start <= node.start);
            while k > 0 {
                k -= 1;
                let m = moved[k];
                if m.old_end == m.old_start {
                    continue;
                }
                // A non-empty node inside a reused subtree's range, at its depth or below, is in it (nodes of
                // one depth do not overlap).
                if node.end <= m.old_end && node.depth >= m.old_depth {
                    out.push(WideNode {
                        depth: node.depth - m.old_depth + m.new_depth,
                        start: node.start - m.old_start + m.new_start,
                        end: node.end - m.old_start + m.new_start,
                        children: node.children,
                        samples: node.samples.clone(),
                    });
                }
                break;
            }
        }
    }

    /// Where a scan of `node`'s children (the node at `depth`, starting at `start`) for the first child reaching
    /// `offset` may begin: the index and start of the last sampled child starting before `offset` (every child
    /// before it ends at or before its start, so none of them reaches `offset`), or the first child.
    #[inline]
    pub(crate) fn scan_from<L: Library>(
        &self,
        node: &L::NodeData,
        depth: usize,
        start: u32,
        offset: u32,
    ) -> (usize, u32) {
        let Some(nodes) = &self.0 else {
            return (0, start);
        };
        if L::children(node).len() <= WIDE || offset <= start {
            return (0, start);
        }
        let key = (depth as u32, start);
        let Ok(found) = nodes.binary_search_by_key(&key, |n| (n.depth, n.start)) else {
            return (0, start);
        };
        let samples = &nodes[found].samples;
        let relative = offset - start;
        match samples.partition_point(|&s| s < relative) {
            0 => (0, start),
            k => (k * STRIDE, start + samples[k - 1]),
        }
    }
}

/// The wide nodes of a freshly converted file (a FILE wrapper), found at `paths` (child indices from the
/// wrapper) with their depth and range.
pub(crate) fn of_paths<L: Library>(file: &L::NodeData, found: &[Wide]) -> Vec<WideNode> {
    found
        .iter()
        .map(|wide| {
            let mut node = file;
            for &index in &wide.path {
                node = L::children(node)
                    .nth(index as usize)
                    .map(L::element)
                    .and_then(Element::node)
                    .expect("the conversion recorded the path of a node");
            }
            WideNode {
                depth: wide.path.len() as u32,
                start: wide.start,
                end: wide.end,
                children: u32::try_from(L::children(node).len()).unwrap_or(u32::MAX),
                samples: samples_of::<L>(node),
            }
        })
        .collect()
}
