//! [`WideIndex`]: sampled child offsets of the green nodes with many children, so that finding the child at an
//! offset is not a scan of every sibling.
//!
//! A green node knows its children's offsets, but rowan exposes them only through its red tree
//! (`SyntaxNode::child_or_token_at_range`), which allocates a red node per step. So the store keeps its own
//! index for the few nodes with more than [`WIDE`] children: the start of every [`STRIDE`]-th child relative
//! to the node's start (4 bytes per 32 children), keyed by the green node's address, which is stable while the
//! store holds the tree (and shared, like the node, between the files that share the node). The index counts
//! in the retained bytes; a corpus without wide nodes has none.

use crate::convert::WIDE;
use rowan::{GreenNodeData, NodeOrToken};
use std::collections::HashMap;

/// Children between two samples.
pub(crate) const STRIDE: usize = 32;

/// Sampled child offsets of the wide nodes of every file in the store.
#[derive(Default)]
pub(crate) struct WideIndex {
    /// Green node address to the starts of children `STRIDE`, `2 * STRIDE`, ... relative to the node.
    samples: HashMap<usize, Box<[u32]>>,
}

fn address(node: &GreenNodeData) -> usize {
    node as *const GreenNodeData as usize
}

impl WideIndex {
    /// Indexes the wide nodes of `file` (a FILE wrapper) found at `paths` (child indices from the wrapper).
    pub(crate) fn add(&mut self, file: &GreenNodeData, paths: &[Vec<u32>]) {
        for path in paths {
            let mut node = file;
            for &index in path {
                node = node
                    .children()
                    .nth(index as usize)
                    .and_then(NodeOrToken::into_node)
                    .expect("the conversion recorded the path of a node");
            }
            self.samples.entry(address(node)).or_insert_with(|| {
                let mut starts = Vec::with_capacity(node.children().len() / STRIDE);
                let mut start = 0u32;
                for (i, child) in node.children().enumerate() {
                    if i > 0 && i % STRIDE == 0 {
                        starts.push(start);
                    }
                    start += u32::from(child.text_len());
                }
                starts.into_boxed_slice()
            });
        }
    }

    /// Drops spare room.
    pub(crate) fn shrink(&mut self) {
        self.samples.shrink_to_fit();
    }

    /// Where a scan of `node`'s children (the node starting at `start`) for the first child reaching `offset`
    /// may begin: the index and start of the last sampled child starting before `offset` (every child before
    /// it ends at or before its start, so none of them reaches `offset`), or the first child.
    #[inline]
    pub(crate) fn scan_from(&self, node: &GreenNodeData, start: u32, offset: u32) -> (usize, u32) {
        if node.children().len() as u32 <= WIDE || offset <= start {
            return (0, start);
        }
        let Some(samples) = self.samples.get(&address(node)) else {
            return (0, start);
        };
        let relative = offset - start;
        match samples.partition_point(|&s| s < relative) {
            0 => (0, start),
            k => (k * STRIDE, start + samples[k - 1]),
        }
    }
}
