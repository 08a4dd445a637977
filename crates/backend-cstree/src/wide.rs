//! [`WideIndex`]: sampled child offsets of the green nodes with many children, so that finding the child at an
//! offset is not a scan of every sibling.
//!
//! A green node knows its children's lengths, not their offsets, and cstree's own lookups by offset
//! (`SyntaxNode::covering_element`, `token_at_offset`) scan the children of a red node one by one, making a red
//! element for each. So the store keeps its own index for the few nodes with more than [`WIDE`] children: the
//! start of every [`STRIDE`]-th child relative to the node's start (4 bytes per 32 children).
//!
//! It is keyed by the address of the slot that holds the wide node in its parent's child array (what
//! `GreenNode::children` hands out references to). That address is stable while the store holds the tree, and
//! unique to the node: cstree's cache never shares a node with more than 3 children, so a wide node sits in one
//! slot, and where its parent is shared between files the slot (and the node) is the same for all of them. The
//! FILE wrapper, the one node held outside a child array, has at most 3 children. The index counts in the
//! retained bytes; a corpus without wide nodes has none.

use crate::convert::WIDE;
use cstree::green::GreenNode;
use cstree::util::NodeOrToken;
use std::collections::HashMap;

/// Children between two samples.
pub(crate) const STRIDE: usize = 32;

/// Sampled child offsets of the wide nodes of every file in the store.
#[derive(Default)]
pub(crate) struct WideIndex {
    /// Slot address to the starts of children `STRIDE`, `2 * STRIDE`, ... relative to the node.
    samples: HashMap<usize, Box<[u32]>>,
}

fn address(node: &GreenNode) -> usize {
    std::ptr::from_ref(node) as usize
}

impl WideIndex {
    /// Indexes the wide nodes of `file` (a FILE wrapper) found at `paths` (child indices from the wrapper).
    pub(crate) fn add(&mut self, file: &GreenNode, paths: &[Vec<u32>]) {
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
    pub(crate) fn scan_from(&self, node: &GreenNode, start: u32, offset: u32) -> (usize, u32) {
        if node.children().len() <= WIDE || offset <= start {
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
