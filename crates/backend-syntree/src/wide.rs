//! [`WideIndex`]: sampled children of the nodes with many children, so that finding the child at an offset
//! is not a walk along every sibling link.
//!
//! syntree links children in a list (first, next), so the k-th child is k hops away, and its own lookup by offset
//! (`Tree::node_with_range`) answers by its own rule (see the crate doc). So the store keeps, for the few nodes
//! with more than [`WIDE`](crate::convert::WIDE) children, the start and pointer of every [`STRIDE`]-th child (8
//! bytes per 32 children). The start is a copy of the child's span start, kept beside the pointer so that the
//! binary search reads one contiguous array rather than a record per probe scattered over the node array. The
//! node itself is marked in its value (`Value::sampled`), so nodes that are not wide cost no lookup here.

use crate::convert::{Compact, FileTree, Value};
use std::collections::HashMap;
use syntree::{Node, Pointer};

/// Children between two samples.
pub(crate) const STRIDE: usize = 32;

/// A node of a file's tree.
pub(crate) type TreeNode<'a> = Node<'a, Value, Compact>;

/// The start and pointer of one sampled child.
#[derive(Clone, Copy)]
pub(crate) struct Sample {
    start: u32,
    id: u32,
}

/// Sampled children of the wide nodes of every file in the store.
#[derive(Default)]
pub(crate) struct WideIndex {
    /// (file, node pointer) to the (start, pointer) of children `STRIDE`, `2 * STRIDE`, ...
    samples: HashMap<(u32, u32), Box<[Sample]>>,
}

impl WideIndex {
    /// Samples the children of the nodes `wide` of `tree` (file `file`) and marks them.
    pub(crate) fn add(&mut self, file: u32, tree: &FileTree, wide: &[u32]) {
        for &id in wide {
            let node = tree
                .get(Pointer::new(id as usize).expect("a pointer the builder gave"))
                .expect("the conversion recorded a node of this tree");
            node.replace(node.value().with_sampled());
            let samples = node
                .children()
                .skip(STRIDE)
                .step_by(STRIDE)
                .map(|child| Sample {
                    start: child.span().start,
                    id: child.id().get() as u32,
                })
                .collect();
            self.samples.insert((file, id), samples);
        }
    }

    /// The samples of file `file`'s nodes, taken out of the index.
    pub(crate) fn take_file(&mut self, file: u32) -> Vec<(u32, Box<[Sample]>)> {
        let ids: Vec<u32> = self
            .samples
            .keys()
            .filter(|k| k.0 == file)
            .map(|k| k.1)
            .collect();
        ids.into_iter()
            .filter_map(|id| Some((id, self.samples.remove(&(file, id))?)))
            .collect()
    }

    /// A copy of the samples of file `file`'s nodes.
    pub(crate) fn of_file(&self, file: u32) -> Vec<(u32, Box<[Sample]>)> {
        self.samples
            .iter()
            .filter(|(k, _)| k.0 == file)
            .map(|(k, v)| (k.1, v.clone()))
            .collect()
    }

    /// Puts samples for file `file`'s nodes into the index.
    pub(crate) fn put_file(&mut self, file: u32, samples: Vec<(u32, Box<[Sample]>)>) {
        self.samples
            .extend(samples.into_iter().map(|(id, s)| ((file, id), s)));
    }

    /// Drops spare room.
    pub(crate) fn shrink(&mut self) {
        self.samples.shrink_to_fit();
    }

    /// The child of `node` (of file `file`) from which a scan for the first child reaching `offset` may begin:
    /// the last sampled child starting before `offset` (every child before it ends at or before its start, so
    /// none of them reaches `offset`), or the first child.
    #[inline]
    pub(crate) fn scan_from<'a>(
        &self,
        file: u32,
        tree: &'a FileTree,
        node: TreeNode<'a>,
        offset: u32,
    ) -> Option<TreeNode<'a>> {
        if !node.value().sampled() {
            return node.first();
        }
        let samples = &self.samples[&(file, node.id().get() as u32)];
        match samples.partition_point(|sample| sample.start < offset) {
            0 => node.first(),
            k => tree.get(Pointer::new(samples[k - 1].id as usize).expect("a sampled pointer")),
        }
    }
}
