//! Backends `rowan` and `rowan-shared-cache`: each file's tree-sitter tree is converted into a rowan
//! `GreenNode` (the immutable, hash-consed tree rust-analyzer uses) and the tree-sitter tree is dropped. The
//! text lives inside the green tokens, so the store keeps no copy of the source.
//!
//! - `kinds`: one rowan kind per (tree-sitter kind, field, missing) triple met, so fields and MISSING flags
//!   cost no storage beyond the kind rowan keeps anyway.
//! - `convert`: tree-sitter tree to green tree, with text between visible nodes kept as TRIVIA tokens inside
//!   a FILE wrapper; text and drop without recursion.
//! - `update`: an edited file's next green tree, sharing with the previous version every subtree the edit did
//!   not change.
//! - `cursor`: the `CstCursor` over a green tree, skipping the wrapper and the trivia.
//! - `wide`: each version's sampled child offsets of its nodes with more than 64 children, for lookups by
//!   offset.
//!
//! The two rows differ only in rowan's `NodeCache`, which deduplicates identical tokens and small subtrees:
//! [`Rowan`] uses a fresh cache per file (as `GreenNodeBuilder::new()` does) and drops it once the file is
//! built; [`RowanSharedCache`] keeps one cache for the whole store, so identical tokens and subtrees are shared
//! across files and the cache's own tables count in the retained bytes.
//!
//! A file's entry is 24 bytes: language, depth bound, a handle on the FILE wrapper and a handle on the file's
//! wide-node index (`None` without wide nodes).
//!
//! # Editing
//!
//! [`CstStore::update`] rebuilds only what the edit changed. It walks the new tree-sitter tree beside the
//! edited old one and the previous green tree, forward only; a node tree-sitter kept (the same node id), a leaf
//! of the same kind and text, and a node whose children all are the old node's take the previous version's
//! green element (a reference count), and the nodes on the path from the root to the edit are rebuilt around
//! them with `GreenNode::new` (`update.rs` says why each rule is exact). It costs the nodes tree-sitter rebuilt
//! and their children, plus the old nodes passed beside them, not the file: on the measured corpora (200 files
//! of each language, 20 edits each) its median is 51–88 µs where a full rebuild takes 186–284 µs, and under
//! tree-sitter's own incremental reparse (0.31–0.53x). The rebuilt nodes are not in the `NodeCache`; new
//! tokens are (the shared one for `rowan-shared-cache`). [`CstStore::replace`] builds a file from scratch.
//!
//! A version ([`CstStore::version`]) is a clone of the file's entry: two handles, no allocation. Green trees
//! are immutable, so it stays as it was whatever the store does next, and restoring it is another clone.
//! Versions share every green node no edit between them rebuilt, so what an extra version holds on its own is
//! what its next edit replaced: the path to the edit (a green node is 24 bytes plus 16 per child, so a wide
//! parent such as a module's root dominates), the tokens the edit changed, and its wide-node index if the file
//! has wide nodes. Measured: 1.6–4.1 KB per extra version against 53–90 KB for one version of a file
//! (0.03–0.05x); rebuilding every version instead cost 1.00x (`rowan`) and 0.57x (`rowan-shared-cache`, whose
//! cache shares tokens and small subtrees) on Python, at 3–4x the update time.
//!
//! The depth in a file's entry is exact after a build and an upper bound after an update (a reused subtree is
//! at most as tall as the old bound leaves room for), so every holder of a tree deeper than 1,000 levels, the
//! store or a version, drops it without recursion. The shared cache only holds subtrees at most 128 tall (see
//! `convert.rs`), so it may outlive the versions whose nodes it holds.

mod convert;
mod cursor;
mod kinds;
mod update;
mod wide;

pub use cursor::RowanCursor;

use convert::{drop_deep, write_text, MAX_RECURSIVE_DROP_DEPTH};
use cst_measure::{Backend, BuildError, CstStore, FileEdit, Language};
use kinds::KindTable;
use rowan::{GreenNode, GreenNodeBuilder, NodeCache};
use wide::WideIndex;

/// How both rows find the node at an offset.
const LOOKUP: &str = "the descent through the green tree, scanning each node's children from the first, or, in \
     a node with more than 64 children, from the last of every 32nd child's offsets (kept with each version of the \
     file) that starts before the offset";

/// What both rows' updates do.
const UPDATE: &str = "reuses every green node and token of the previous version that tree-sitter kept (same node \
     id) or that comes out the same (a leaf's kind and text, a node's children), and rebuilds the path from the \
     root to the edit around them; a version is two handles (tree, wide-node index), sharing all but that path \
     with the next";

use std::borrow::Cow;

/// rowan green trees, deduplicated within each file by a per-file `NodeCache`.
pub struct Rowan;

impl Backend for Rowan {
    const NAME: &'static str = "rowan";
    const RETAINS: &'static str = "each file's rowan green tree (green nodes, and tokens holding the text, \
         deduplicated within the file by a NodeCache dropped after the build; trivia tokens for the text \
         between visible nodes; a FILE wrapper node) plus one 24-byte entry per file (language, depth bound, \
         root handle, wide-index handle), the store's table of (kind, field, missing) triples, and each file's \
         index of its nodes with more than 64 children (depth, range, every 32nd child's offset)";
    const INCLUDES_SOURCE: bool = true;
    const LOOKUP: &'static str = LOOKUP;
    const UPDATE: &'static str = UPDATE;
    type Store = RowanStore;

    fn new_store() -> RowanStore {
        RowanStore::new(None)
    }
}

/// rowan green trees, deduplicated across all files by one `NodeCache` kept in the store.
pub struct RowanSharedCache;

impl Backend for RowanSharedCache {
    const NAME: &'static str = "rowan-shared-cache";
    const RETAINS: &'static str = "every file's rowan green tree (green nodes, and tokens holding the text, \
         deduplicated across all files by one NodeCache; trivia tokens for the text between visible nodes; a \
         FILE wrapper node per file), the NodeCache's two hash tables, kept alive in the store, plus one \
         24-byte entry per file (language, depth bound, root handle, wide-index handle), the store's table of \
         (kind, field, missing) triples, and each file's index of its nodes with more than 64 children (depth, \
         range, every 32nd child's offset)";
    const INCLUDES_SOURCE: bool = true;
    const SHARES_ACROSS_FILES: bool = true;
    const LOOKUP: &'static str = LOOKUP;
    const UPDATE: &'static str = UPDATE;
    type Store = RowanStore;

    fn new_store() -> RowanStore {
        RowanStore::new(Some(NodeCache::default()))
    }
}

/// One version of one file: its FILE wrapper node and its wide-node index. Cloning it copies two handles.
#[derive(Clone)]
struct File {
    language: Language,
    /// Green nodes on its longest root-to-leaf path (wrapper included), or more after updates (see
    /// `update.rs`); deeper than [`MAX_RECURSIVE_DROP_DEPTH`], its last handle is dropped with [`drop_deep`].
    depth: u32,
    /// `None` only while it is dropped.
    green: Option<GreenNode>,
    wide: WideIndex,
}

impl File {
    fn new(language: Language, depth: usize, green: GreenNode, wide: WideIndex) -> File {
        File {
            language,
            depth: u32::try_from(depth).unwrap_or(u32::MAX),
            green: Some(green),
            wide,
        }
    }

    fn green(&self) -> &GreenNode {
        self.green
            .as_ref()
            .expect("only a dropped file has no tree")
    }
}

impl Drop for File {
    fn drop(&mut self) {
        // A deep tree would overflow the stack in rowan's drop. (Where a store or another version still holds
        // the tree, dropping it frees nothing and `drop_deep` only walks it.) The shared cache, dropped after
        // the files, only holds interned subtrees, whose height the conversion bounds.
        if self.depth as usize > MAX_RECURSIVE_DROP_DEPTH {
            if let Some(green) = self.green.take() {
                drop_deep(green);
            }
        }
    }
}

/// One file's CST at one moment: its green tree and wide-node index, shared with the store and other versions.
#[derive(Clone)]
pub struct RowanVersion(File);

/// The green trees of many files, with the shared cache when the backend has one.
pub struct RowanStore {
    /// The (kind, field, missing) triples, by rowan kind.
    kinds: KindTable,
    files: Vec<File>,
    /// `Some` for [`RowanSharedCache`].
    cache: Option<NodeCache>,
}

impl RowanStore {
    fn new(cache: Option<NodeCache>) -> RowanStore {
        RowanStore {
            kinds: KindTable::default(),
            files: Vec::new(),
            cache,
        }
    }

    /// A file built from scratch.
    fn build(
        &mut self,
        language: Language,
        source: &str,
        tree: &tree_sitter::Tree,
    ) -> Result<File, BuildError> {
        let builder = match &mut self.cache {
            Some(cache) => GreenNodeBuilder::with_cache(cache),
            None => GreenNodeBuilder::new(),
        };
        let converted = convert::convert(builder, &mut self.kinds, source, tree)?;
        let wide = WideIndex::new(wide::of_paths(&converted.green, &converted.wide));
        Ok(File::new(language, converted.depth, converted.green, wide))
    }
}

impl CstStore for RowanStore {
    type Cursor<'a> = RowanCursor<'a>;

    fn add(
        &mut self,
        language: Language,
        source: &str,
        tree: tree_sitter::Tree,
    ) -> Result<(), BuildError> {
        // The tree-sitter tree is dropped on return: only the green tree is kept.
        let file = self.build(language, source, &tree)?;
        self.files.push(file);
        Ok(())
    }

    fn finish(&mut self) {
        self.files.shrink_to_fit();
        self.kinds.shrink();
    }

    fn len(&self) -> usize {
        self.files.len()
    }

    fn language(&self, file: usize) -> Language {
        self.files[file].language
    }

    fn text(&self, file: usize) -> Cow<'_, str> {
        let green = self.files[file].green();
        let mut text = String::with_capacity(u32::from(green.text_len()) as usize);
        write_text(green, &mut text);
        Cow::Owned(text)
    }

    type Version = RowanVersion;

    fn version(&self, file: usize) -> RowanVersion {
        RowanVersion(self.files[file].clone())
    }

    fn restore(&mut self, file: usize, version: &RowanVersion) {
        self.files[file] = version.0.clone();
    }

    fn replace(
        &mut self,
        file: usize,
        language: Language,
        source: &str,
        tree: tree_sitter::Tree,
    ) -> Result<(), BuildError> {
        self.files[file] = self.build(language, source, &tree)?;
        Ok(())
    }

    fn update(&mut self, file: usize, edit: FileEdit<'_>) -> Result<(), BuildError> {
        let RowanStore {
            kinds,
            files,
            cache,
        } = self;
        let stored = &files[file];
        let builder = match cache {
            Some(cache) => GreenNodeBuilder::with_cache(cache),
            None => GreenNodeBuilder::new(),
        };
        let previous = update::Previous {
            green: stored.green(),
            depth: stored.depth as usize,
            wide: &stored.wide,
        };
        match update::update(builder, kinds, &previous, &edit)? {
            Some(updated) => {
                files[file] = File::new(edit.language, updated.depth, updated.green, updated.wide);
                Ok(())
            }
            // The edit's old tree is not this file's: rebuild it.
            None => self.replace(file, edit.language, edit.text, edit.tree),
        }
    }

    fn cursor(&self, file: usize) -> RowanCursor<'_> {
        RowanCursor::new(self.files[file].green(), self.kinds.view())
    }

    fn reset_cursor<'a>(&'a self, cursor: &mut RowanCursor<'a>, file: usize) {
        cursor.reset(self.files[file].green());
    }

    fn seek<'a>(&'a self, cursor: &mut RowanCursor<'a>, file: usize, offset: u32) {
        let stored = &self.files[file];
        cursor.reset(stored.green());
        cursor.descend(offset, &stored.wide);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cst_measure::edits::{EditKind, TextEdit};
    use cst_measure::reference::ReferenceTree;
    use cst_measure::verify::{verify_file, verify_lookups};
    use std::sync::Arc;

    /// The text before the wide list, the list of `n` items, and what follows it.
    fn wide_source(n: usize) -> String {
        let items: Vec<String> = (0..n).map(|i| i.to_string()).collect();
        format!(
            "def a():\n    return 1\n\n\ndef b():\n    x = [{}]\n    return x\n\n\ndef c():\n    pass\n",
            items.join(", ")
        )
    }

    /// Verifies file 0 of `store` against `text` fully, with lookups at every offset, and checks that its wide
    /// index is the one a fresh build of the text has.
    fn check(store: &RowanStore, text: &str, fresh: fn() -> RowanStore) {
        let tree = Language::Python.parse(text);
        verify_file(store, 0, Language::Python, text, &tree).unwrap();
        verify_lookups(
            store,
            0,
            text,
            &ReferenceTree::of(&tree),
            0..=text.len() as u32,
        )
        .unwrap();
        let mut rebuilt = fresh();
        rebuilt.add(Language::Python, text, tree).unwrap();
        let (ours, theirs) = (store.files[0].wide.nodes(), rebuilt.files[0].wide.nodes());
        assert_eq!(ours, theirs, "{text:?}");
        assert!(!ours.is_empty(), "the list is wide");
    }

    /// Edits a file with a node of more than 64 children before, inside and after it, keeping every version:
    /// each version's lookups and wide index are right, the list's index moves with it where it is reused (its
    /// samples shared, not recomputed), and every kept version is still right once restored.
    fn wide_indexes_follow_every_version(fresh: fn() -> RowanStore) {
        let mut text = wide_source(200);
        let mut parser = Language::Python.parser();
        let mut tree = parser.parse(&text, None).unwrap();
        let mut store = fresh();
        store.add(Language::Python, &text, tree.clone()).unwrap();
        store.finish();
        check(&store, &text, fresh);
        let list = text.find('[').unwrap();
        let edits = [
            // Before the list: it is reused, one byte further on.
            (6..6, "x", true),
            // Inside it: rebuilt.
            (list + 5..list + 6, "77", false),
            // After it: reused where it is.
            (text.len() - 5..text.len() - 1, "return 2", true),
            // A line before it goes: reused, further back.
            (0..23, "", true),
            // An item more.
            (list..list + 1, "[5, ", false),
        ];
        let mut kept = vec![(store.version(0), text.clone())];
        for (range, insert, reused) in edits {
            let edit = TextEdit {
                range,
                text: insert.into(),
                kind: EditKind::Keystroke,
            };
            let input = edit.input_edit(&text);
            let new_text = edit.apply(&text);
            let mut old_tree = tree.clone();
            old_tree.edit(&input);
            let new_tree = parser.parse(&new_text, Some(&old_tree)).unwrap();
            let changed: Vec<_> = old_tree.changed_ranges(&new_tree).collect();
            let before = store.files[0].wide.nodes()[0].samples.clone();
            store
                .update(
                    0,
                    FileEdit {
                        language: Language::Python,
                        old_text: &text,
                        text: &new_text,
                        input,
                        old_tree: &old_tree,
                        tree: new_tree.clone(),
                        changed: &changed,
                    },
                )
                .unwrap();
            check(&store, &new_text, fresh);
            let after = &store.files[0].wide.nodes()[0].samples;
            assert_eq!(Arc::ptr_eq(&before, after), reused, "{edit:?}");
            text = new_text;
            tree = new_tree;
            kept.push((store.version(0), text.clone()));
        }
        for (version, text) in &kept {
            store.restore(0, version);
            check(&store, text, fresh);
        }
    }

    #[test]
    fn wide_indexes_follow_every_version_rowan() {
        wide_indexes_follow_every_version(Rowan::new_store);
    }

    #[test]
    fn wide_indexes_follow_every_version_rowan_shared_cache() {
        wide_indexes_follow_every_version(RowanSharedCache::new_store);
    }

    /// The per-file bytes of the crate doc.
    #[test]
    fn a_file_entry_is_24_bytes() {
        assert_eq!(std::mem::size_of::<File>(), 24);
    }
}
