//! Backend `syntree`: each file's tree-sitter tree is converted into one flat syntree 0.19 `Tree` (every node a
//! fixed-size link record in one array, with its span) and the tree-sitter tree is dropped; a copy of the source
//! gives back the text, which syntree trees do not hold.
//!
//! - `convert`: tree-sitter tree to syntree tree, one element per visible node with tree-sitter's span; the
//!   per-node value (kind, field, MISSING flag) and the 32-bit flavor.
//! - `cursor`: the `CstCursor`, one `syntree::Node` moved along syntree's links.
//! - `wide`: sampled child starts and pointers of nodes with more than 64 children, for lookups by offset.
//!
//! # Layout
//!
//! From syntree 0.19's own types (`links.rs`, `index.rs`, `pointer.rs`, `tree.rs`) with the flavor
//! `convert::Compact` (`u32` spans, `u32` pointers); bytes are those asked of the allocator
//! (`tests/layout.rs` checks the per-node and per-leaf figures):
//!
//! | what | stored as | bytes |
//! | --- | --- | --- |
//! | node (every visible node, inner or leaf) | `Links<Value, u32, PointerU32>`: value (`Cell<Value>`: kind `u16`, field and flags `u16`) 4, span (start, end `u32`) 8, parent, prev, next, first, last (`Option<PointerU32>`, a `NonZeroU32`) 20 | 32 |
//! | token index | syntree's `TreeIndex` (end `u32`, pointer `u32`) per leaf that is not empty, in end order, for `Tree::node_with_range` | 8 per non-empty leaf |
//! | growth | none kept: the builder grows both arrays by doubling and syntree can neither presize nor shrink them, so each file's tree is cloned once after its build (`Tree: Clone`, whose `Vec::clone`s allocate exactly their length) and the grown one dropped | 0 |
//! | text | a copy of each file's source (`Box<str>`) | 1 per source byte |
//! | per file | `File`: language, query-status stream `Box<[u8]>` 16, `Box<str>` 16, `Tree` 64 (the two `Vec`s, its span, first and last top-level pointers) | 104 |
//! | query status | each file's [`cst_measure::query_status::FileStatus`]: the exceptions to the prediction of each node's query field, supertypes and extra bit by the store's status model, learned at `finish()` (16 bytes per context it predicts for) | about 0.01 per node, model included (built-in corpus) |
//! | per store | sampled (start, pointer) of every 32nd child of the nodes with more than 64 children: 8 per 32 children, in a hash map by (file, node) | |
//!
//! So every visible node costs 32 bytes whatever its kind or text, every non-empty leaf 8 more; the text costs
//! its length once. There is no sharing between nodes or files, and nothing is allocated per node: a file is
//! three blocks (links, index, text) plus its wide samples. What the clone saves, measured, is in `NOTES.md`
//! beside this crate's `Cargo.toml`.
//!
//! **Where this use departs from syntree's design.** A syntree parser normally emits tokens back to back with
//! `Builder::token(value, len)`, so that the tokens tile the text and spans follow from lengths. tree-sitter's
//! visible nodes do not tile it (whitespace and hidden tokens lie between them, and an inner node may extend
//! past its visible children), so this backend gives every element its tree-sitter span explicitly
//! (`Builder::open_with`, `Builder::token_with`), which syntree supports and which leaves gaps: the text between
//! visible nodes is in no element, and comes back from the source copy. No trivia elements are stored, and the
//! cursor skips nothing. The flavor has `u32` pointers where syntree's default (`FlavorDefault`) has `usize`
//! ones, which would make each node 56 bytes; the file limits below follow from it. And each file's tree is
//! cloned once after its build to drop the builder's spare room, which a syntree user otherwise keeps.
//!
//! # Navigation and its costs
//!
//! - `node()`: the current record's value and span. O(1).
//! - `goto_first_child`, `goto_next_sibling`, `goto_parent`: one link each (`Node::first`, `Node::next`,
//!   `Node::parent`). O(1), and the cursor has no stack: parents are stored links.
//! - `text()`: a slice of the source copy by the node's span. O(1), no copy; `CstStore::text` likewise.
//! - `seek`: descends from the root by the rule of `cst_measure::backend::descend_to_offset` along first-child
//!   and next-sibling links, reading each child's absolute span; in a node with more than 64 children it starts
//!   from the last sampled child (every 32nd) starting before the offset (a binary search of the samples), so
//!   at most 64 children are passed per level: O(depth). No allocation: the cursor is moved, not grown.
//! - `native_node_at_offset`: syntree's own `Tree::node_with_range(offset..offset)`, a binary search of the
//!   token index for the first non-empty leaf ending after the offset, then up its parents (and the preceding
//!   leaf's, for offsets in gaps) to the smallest node containing the offset. O(log leaves + depth). Its rule
//!   differs from tree-sitter's (zero-width nodes are not in the index, and an offset in a gap goes to the
//!   smallest node spanning the gap); where it finds nothing (the end of the file) it answers the root.
//!
//! # Editing
//!
//! `update` builds the file's tree anew (syntree's arrays are append-only: no node can be spliced in), but
//! walks tree-sitter's new tree only along the path to the edit: every inner node that
//! [`cst_measure::Unchanged`] says is as it was (outside the edit, tree-sitter's changed ranges and the
//! nodes holding syntax errors) has its descendants copied from the previous syntree tree, their spans
//! shifted (`convert.rs`). Time: linear in the file's nodes still, but a copied node costs the builder's push
//! and a link read, not tree-sitter's cursor. A version is a full copy of the file (its tree, text and wide
//! samples): syntree trees share nothing.
//!
//! # Limits
//!
//! Per file: fewer than 2^32 bytes (the spans are `u32`), fewer than 2^32 − 1 nodes (the pointers), and field
//! ids up to 16,383 (the value's 14 field bits). Kinds may be any `u16`. A file over a limit is refused with
//! [`BuildError::Limit`] before anything is stored.

mod convert;
mod cursor;
mod wide;

pub use convert::{Compact, Value};
pub use cursor::SyntreeCursor;

use convert::FileTree;
use cst_measure::query_status::{FileStatus, StatusModel, StatusStream};
use cst_measure::{Backend, BuildError, CstStore, FileEdit, Language, NodeInfo};
use std::borrow::Cow;
use wide::WideIndex;

/// The syntree backend.
pub struct Syntree;

impl Backend for Syntree {
    const NAME: &'static str = "syntree";
    const RETAINS: &'static str = "each file's syntree Tree (one 32-byte link record per visible node: value, span, \
         parent, previous, next, first and last pointers; syntree's token index, 8 bytes per non-empty leaf; \
         both exactly sized by cloning the built tree), a copy of each file's source text, one \
         104-byte entry per file (language, text, tree, query-status stream), each file's query-status \
         companion (cst_measure::query_status: what the status model learned at finish() mispredicts) and the model, and the sampled starts and pointers of every 32nd child of nodes with more than \
         64 children";
    const INCLUDES_SOURCE: bool = true;
    const LOOKUP: &'static str = "the descent along syntree's first-child and next-sibling links, reading each \
         child's absolute span, scanning each node's children from the first, or, in a node with more than 64 \
         children (marked in its value), from the last of every 32nd child (start and pointer kept by the store) that \
         starts before the offset; the cursor is one node, with no stack";
    const UPDATE: &'static str =
        "builds the edited file's tree anew, walking tree-sitter's new tree only along the path to the edit: \
         every subtree outside the edit, tree-sitter's changed ranges and the nodes holding syntax errors is \
         copied from the previous syntree tree (found by a descent to its old range; its spans shifted); a \
         version is a copy of the file's tree, text and samples";
    type Store = SyntreeStore;

    fn new_store() -> SyntreeStore {
        SyntreeStore {
            files: Vec::new(),
            wide: WideIndex::default(),
            status_model: StatusModel::default(),
        }
    }
}

/// One file.
#[derive(Clone)]
pub struct File {
    language: Language,
    /// What the query cursor sees beyond the walk ([`cst_measure::query_status`]).
    status: FileStatus,
    text: Box<str>,
    tree: FileTree,
}

/// One file's tree, text and wide-node samples, copied.
pub struct Version {
    file: File,
    samples: Vec<(u32, Box<[wide::Sample]>)>,
}

/// The trees and texts of many files.
pub struct SyntreeStore {
    files: Vec<File>,
    wide: WideIndex,
    /// The query-status model every file's companion is encoded against, learned at `finish()`.
    status_model: StatusModel,
}

impl CstStore for SyntreeStore {
    type Cursor<'a> = SyntreeCursor<'a>;

    fn add(
        &mut self,
        language: Language,
        source: &str,
        tree: tree_sitter::Tree,
    ) -> Result<(), BuildError> {
        // The tree-sitter tree is dropped on return: only syntree's tree and the text are kept.
        let converted = convert::convert(source, &tree, None)?;
        let index = u32::try_from(self.files.len())
            .map_err(|_| BuildError::Limit("more than 2^32 files in one store".into()))?;
        self.wide.add(index, &converted.tree, &converted.wide);
        self.files.push(File {
            language,
            status: FileStatus::of_with(&tree, language, &self.status_model),
            text: source.into(),
            tree: converted.tree,
        });
        Ok(())
    }

    fn finish(&mut self) {
        self.files.shrink_to_fit();
        self.wide.shrink();
        let (model, statuses) = cst_measure::query_status::relearn(&*self);
        for (file, status) in self.files.iter_mut().zip(statuses) {
            file.status = status;
        }
        self.status_model = model;
    }

    fn len(&self) -> usize {
        self.files.len()
    }

    fn language(&self, file: usize) -> Language {
        self.files[file].language
    }

    fn text(&self, file: usize) -> Cow<'_, str> {
        Cow::Borrowed(&self.files[file].text)
    }

    type Version = Version;

    fn version(&self, file: usize) -> Version {
        Version {
            file: self.files[file].clone(),
            samples: self.wide.of_file(file as u32),
        }
    }

    fn restore(&mut self, file: usize, version: &Version) {
        self.files[file] = version.file.clone();
        self.wide.take_file(file as u32);
        self.wide.put_file(file as u32, version.samples.clone());
    }

    fn replace(
        &mut self,
        file: usize,
        language: Language,
        source: &str,
        tree: tree_sitter::Tree,
    ) -> Result<(), BuildError> {
        let converted = convert::convert(source, &tree, None)?;
        let status = FileStatus::of_with(&tree, language, &self.status_model);
        self.put(file, language, source, converted, status);
        Ok(())
    }

    /// Converts the new tree like `replace`, but copies every subtree that did not change from the file's
    /// previous tree instead of walking tree-sitter's (see `convert`).
    fn update(&mut self, file: usize, edit: FileEdit<'_>) -> Result<(), BuildError> {
        if self.files[file].language != edit.language {
            return self.replace(file, edit.language, edit.text, edit.tree);
        }
        let unchanged = edit.unchanged();
        let reuse = convert::Reuse {
            old: &self.files[file].tree,
            unchanged: &unchanged,
        };
        let converted = convert::convert(edit.text, &edit.tree, Some(reuse))?;
        let status = FileStatus::of_with(&edit.tree, edit.language, &self.status_model);
        self.put(file, edit.language, edit.text, converted, status);
        Ok(())
    }

    fn query_status(&self, file: usize) -> Option<StatusStream<'_>> {
        let file = &self.files[file];
        Some(file.status.view_with(file.language, &self.status_model))
    }

    fn cursor(&self, file: usize) -> SyntreeCursor<'_> {
        let file = &self.files[file];
        SyntreeCursor::new(&file.tree, &file.text)
    }

    /// syntree's own preorder walk with depths (`Tree::walk().with_depths()`, which follows the same links
    /// as the cursor).
    fn fold_preorder<A>(
        &self,
        file: usize,
        init: A,
        mut f: impl FnMut(A, u32, NodeInfo) -> A,
    ) -> A {
        let walk = self.files[file].tree.walk().with_depths();
        walk.fold(init, |acc, (depth, node)| {
            let (value, span) = (node.value(), node.span());
            let info = NodeInfo {
                kind: value.kind,
                field: value.field(),
                start: span.start,
                end: span.end,
                missing: value.missing(),
            };
            f(acc, depth as u32, info)
        })
    }

    fn seek<'a>(&'a self, cursor: &mut SyntreeCursor<'a>, file: usize, offset: u32) {
        let stored = &self.files[file];
        *cursor = SyntreeCursor::new(&stored.tree, &stored.text);
        cursor.descend(file as u32, &stored.tree, offset, &self.wide);
    }

    fn native_node_at_offset(&self, file: usize, offset: u32) -> Option<NodeInfo> {
        let tree = &self.files[file].tree;
        let offset = offset as usize;
        let node = tree
            .node_with_range(offset..offset)
            .or_else(|| tree.first())?;
        let (value, span) = (node.value(), node.span());
        Some(NodeInfo {
            kind: value.kind,
            field: value.field(),
            start: span.start,
            end: span.end,
            missing: value.missing(),
        })
    }
}

impl SyntreeStore {
    /// Makes `converted` file `file`'s tree, with `source` its text, and its samples the store's.
    fn put(
        &mut self,
        file: usize,
        language: Language,
        source: &str,
        converted: convert::Converted,
        status: FileStatus,
    ) {
        let index = file as u32;
        self.wide.take_file(index);
        self.wide.add(index, &converted.tree, &converted.wide);
        self.files[file] = File {
            language,
            status,
            text: source.into(),
            tree: converted.tree,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The per-file bytes of the crate doc's layout table.
    #[test]
    fn a_file_entry_is_104_bytes() {
        assert_eq!(std::mem::size_of::<FileTree>(), 64);
        assert_eq!(std::mem::size_of::<File>(), 104);
        says(
            Syntree::RETAINS,
            &format!("one {}-byte entry per file", std::mem::size_of::<File>()),
        );
    }

    /// `32` as "32nd", as the descriptions spell a sampling interval.
    fn ordinal(n: usize) -> String {
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

    /// The row's descriptions give the wide-node threshold and stride the code uses (a change of either fails
    /// here; `tests/layout.rs` ties the per-node and per-leaf bytes).
    #[test]
    fn the_descriptions_give_the_wide_nodes_threshold_and_stride() {
        use crate::convert::WIDE;
        use crate::wide::STRIDE;
        says(
            Syntree::RETAINS,
            &format!(
                "every {} child of nodes with more than {WIDE} children",
                ordinal(STRIDE)
            ),
        );
        says(
            Syntree::LOOKUP,
            &format!(
                "in a node with more than {WIDE} children (marked in its value), from the last of every {} child",
                ordinal(STRIDE)
            ),
        );
    }
}
