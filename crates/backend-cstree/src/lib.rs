//! Backends `cstree` and `cstree-shared`: each file's tree-sitter tree is converted into a cstree `GreenNode`
//! (the immutable, deduplicated green tree of cstree 0.14, a rowan descendant that interns token text) and the
//! tree-sitter tree is dropped. The text lives in cstree's `TokenInterner`, which the green tokens point into by
//! key, so the store keeps no copy of the source.
//!
//! - `kinds`: one cstree kind per (tree-sitter kind, field, missing) triple met, so fields and MISSING flags
//!   cost no storage beyond the kind cstree keeps anyway.
//! - `convert`: tree-sitter tree to green tree, with text between visible nodes kept as TRIVIA tokens inside
//!   a FILE wrapper; the check against cstree's cache's hash collisions; text and drop without recursion.
//! - `update`: an edited file's next green tree, sharing with the previous version every subtree the edit did
//!   not change.
//! - `cursor`: the `CstCursor` over a green tree (not cstree's red tree: see there why), skipping the wrapper
//!   and the trivia.
//! - `wide`: each version's sampled child offsets of its nodes with more than 64 children, for lookups by
//!   offset.
//!
//! The two rows differ in what outlives a file's build. cstree's `GreenNodeBuilder::new()` makes a `NodeCache`
//! (two hash tables deduplicating tokens and nodes of at most 3 children) that owns a `TokenInterner`.
//! [`Cstree`] uses one per file, and after the build keeps only the interner (`NodeCache::into_interner`): the
//! tokens hold interned keys, not text, so the interner *is* the file's text and cannot go; the two dedup
//! tables are only needed to build, so they are dropped. [`CstreeShared`] keeps one cache, with its interner,
//! for the whole store, so identical tokens, small subtrees and strings are shared across files and the
//! cache's tables count in the retained bytes.
//!
//! # Layout
//!
//! From cstree 0.14's own types (`green/node.rs`, `green/token.rs`, `green/element.rs`,
//! `interning/default_interner.rs`, `green/builder.rs`) on 64-bit targets; bytes are those asked of the
//! allocator (`tests/layout.rs` checks the per-node and per-token figures):
//!
//! | what | stored as | bytes |
//! | --- | --- | --- |
//! | green node | one `triomphe::ThinArc` block: refcount 8, `GreenNodeHead` (kind `u32`, text length `u32`, child hash `u32`) 12 + 4 padding, child count 8, then one tagged pointer per child | 32 + 8 per child |
//! | green token | one `triomphe::Arc` block: refcount 8, `GreenTokenData` (kind `u32`, interned key `Option<TokenKey>` 4, text length `u32`) | 24 (20 rounded up), once per distinct (kind, text) per cache |
//! | an element's place in its parent | the tagged pointer above (bit 0 tells token from node) | 8 |
//! | token text | `TokenInterner` = `IndexSet<String>`: one heap `String` per distinct text, an entry (hash 8 + `String` 24) and a hash slot (`usize` 8 + 1 control byte) per distinct text, tables grown by doubling and never shrunk | text + ~42–85 per distinct text |
//! | node cache (`cstree-shared` only) | `nodes: HashMap<GreenNodeHead, GreenNode>` and `tokens: HashMap<GreenTokenData, GreenToken>`, hashbrown, grown by doubling | 24 + 1 per slot |
//! | per file | `File` (language, depth bound, FILE handle, wide-index handle) 24, plus the file's `TokenInterner` (`cstree` only) 56 | 24 or 80 |
//! | per file with nodes of more than 64 children | an `Arc` of a boxed slice of `WideNode`s (depth, start, end, child count, an `Arc` of its samples: 4 bytes per 32 children) | 32, + 32 per wide node, + 16 + 4 per 32 children |
//! | per store | the (kind, field, missing) triples, 6 bytes each | |
//!
//! So a visible leaf costs 8 (its slot) plus, the first time its (kind, text) is met, a 24-byte token and its
//! interned text; an inner node costs 40 plus 8 per child unless an identical one (≤ 3 children) was cached;
//! each gap between visible nodes adds an 8-byte trivia slot (and its token and string when new).
//!
//! Compared with rowan 0.16 (the rowan backend): a rowan node is 24 bytes plus 16 per child (each child slot
//! holds the child's offset beside its pointer), a cstree node 32 plus 8 per child (no offsets: the cursor sums
//! lengths). A rowan token holds its text inline (24 + the text rounded up to 8, once per distinct (kind, text)
//! per cache); a cstree token is a fixed 24-byte block holding an interner key, and the text is stored once per
//! interner, with about 42–85 bytes of interner tables per distinct text and a heap `String` each (whose
//! allocator footprint is at least 32 bytes). rowan's cache takes a node of at most 3 children only when its
//! children are all cached, and compares children by identity; cstree's takes every node of at most 3 children
//! and compares heads only (hence the check in `convert.rs`).
//!
//! **Where this use departs from cstree's design.** cstree is meant to be read through its red tree
//! (`SyntaxNode`, `ResolvedNode`), made lazily and cached in place; the store keeps only green trees and the
//! cursor walks them with its own stack (see `cursor.rs` for why). Its kinds are numbered at run time through
//! the table, where a cstree user would derive `Syntax` on an enum. Trivia tokens and the FILE wrapper are this
//! backend's, as in the rowan backend. Every build is checked against cstree's cache's 32-bit hash collisions
//! (`convert.rs`).
//!
//! # Editing
//!
//! [`CstStore::update`] rebuilds only what the edit changed, as the rowan backend's does: it walks the new
//! tree-sitter tree beside the edited old one and the previous green tree, forward only; a node tree-sitter kept
//! (the same node id), a leaf of the same kind and text, and a node whose children all are the old node's take
//! the previous version's green element (a reference count), and the nodes on the path from the root to the
//! edit are rebuilt around them with `GreenNode::new`, outside the node cache (`update.rs` says why each rule
//! is exact). Its new tokens go through a builder: `cstree-shared`'s cache, or for `cstree` a fresh cache over
//! the file's own interner. It costs the nodes tree-sitter rebuilt and their children, plus the old nodes passed
//! beside them, not the file: on the measured corpora (200 files of each language, 20 edits each) its median is
//! 51–93 µs where a full rebuild takes 208–305 µs, and under tree-sitter's own incremental reparse
//! (0.32–0.53x). [`CstStore::replace`] builds a file from scratch (into the file's interner for `cstree`).
//!
//! A version ([`CstStore::version`]) is a clone of the file's entry: two handles, no allocation. Green trees
//! are immutable, so it stays as it was whatever the store does next, and restoring it is another clone.
//! Versions share every green node no edit between them rebuilt, so what an extra version holds on its own is
//! what its next edit replaced: the path to the edit (a green node is 32 bytes plus 8 per child), the tokens
//! the edit changed, and its wide-node index if the file has wide nodes. Its tokens' keys need the interner they
//! were made in, which therefore belongs to the store, not the version: `cstree`'s per-file interner is shared
//! by all the file's versions and only grows (text typed during edits stays in it, counted with the store), and
//! `cstree-shared`'s is the cache's. Measured: 0.9–2.1 KB per extra version against 54–82 KB for one version of
//! a file (0.02–0.03x). Rebuilding every version instead cost 0.61x per extra version for `cstree` on Python
//! (the interner is shared either way); for `cstree-shared` the cache kept every rebuilt version's tokens and
//! small subtrees whoever else dropped them, so one version of a file came to 152 KB instead of 58 KB.
//!
//! The depth in a file's entry is exact after a build and an upper bound after an update (a reused subtree is
//! at most as tall as the old bound leaves room for), so every holder of a tree deeper than 1,000 levels, the
//! store or a version, drops it without recursion. A shared cache outlives the versions whose nodes it holds,
//! and may be their last holder: the conversion keeps every cached subtree at most 128 tall (`convert.rs`), so
//! however it frees them, no drop recurses deeper.
//!
//! # Navigation and its costs
//!
//! - `node()`: the top frame's start and the element's kind and length (one load from the green block),
//!   decoded through the triple table. O(1).
//! - `goto_first_child`: pushes the first non-trivia child (at most one trivia slot skipped). O(1).
//! - `goto_next_sibling`: replaces the top frame by the next non-trivia sibling, its start being the previous
//!   end plus any trivia skipped. O(1).
//! - `goto_parent`: pops the stack. O(1). Parents come from the cursor's stack: green nodes have no parent link.
//! - `text()`: a leaf's text is borrowed from the interner (O(1) by key); an inner node's text is rebuilt from
//!   its tokens, O(subtree). `CstStore::text` is the FILE wrapper's.
//! - `seek`: descends from the root by the rule of `cst_measure::backend::descend_to_offset`, summing child
//!   lengths to know offsets; in a node with more than 64 children the scan starts at the last sampled child
//!   (every 32nd) starting before the offset, so at most 64 children (plus trivia) are passed per level:
//!   O(depth). No allocation once the cursor's stack has grown.
//! - `native_node_at_offset`: cstree's own `SyntaxNode::covering_element` on a red root made for the call and
//!   dropped after it (a red root kept in the store would grow it). It scans each level's children, making a red
//!   element for each, and picks the first child whose range *contains* the empty range (so the left one at a
//!   boundary), then trivia answers with its parent. Files deeper than 1,000 levels (cstree drops red trees
//!   recursively) or with a node of more than 4,096 children (a red node allocates a slot per child, and each
//!   child passed gets a red node: quadratic over the sampled offsets) get `None`, so the timing covers the
//!   other files only.
//!
//! # Limits
//!
//! Per file: at most `u32::MAX` bytes of text (cstree's `TextSize`). Per store: 2^31 − 3 triples (never met).
//! A file whose build meets a cache hash collision, or tree-sitter offsets that are not character boundaries, or
//! nodes that overlap, is refused with [`BuildError::Limit`].

mod convert;
mod cursor;
mod kinds;
mod update;
mod wide;

pub use cursor::CstreeCursor;

use convert::{check, drop_deep, write_text, Converted, MAX_RECURSIVE_DROP_DEPTH};
use cst_measure::{Backend, BuildError, CstStore, FileEdit, Language, NodeInfo};
use cstree::build::{GreenNodeBuilder, NodeCache};
use cstree::green::GreenNode;
use cstree::interning::TokenInterner;
use cstree::syntax::SyntaxNode;
use cstree::text::{TextRange, TextSize};
use cstree::util::NodeOrToken;
use kinds::{Kind, KindTable, FILE, TRIVIA};
use std::borrow::Cow;
use wide::WideIndex;

/// How both rows find the node at an offset.
const LOOKUP: &str = "the descent through the green tree, scanning each node's children from the first, or, in \
     a node with more than 64 children, from the last of every 32nd child's offsets (kept with each version of the \
     file) that starts before the offset";

/// Widest node for which [`CstStore::native_node_at_offset`] asks cstree's red tree (see the crate doc).
const NATIVE_MAX_CHILDREN: usize = 4_096;

/// cstree green trees, each file with its own interner; the node cache is dropped after each file's build.
pub struct Cstree;

impl Backend for Cstree {
    const NAME: &'static str = "cstree";
    const RETAINS: &'static str = "each file's cstree green tree (green nodes, and 24-byte tokens holding interned \
         keys, deduplicated within the file by a NodeCache whose two tables are dropped after the build; trivia \
         tokens for the text between visible nodes; a FILE wrapper node), each file's TokenInterner (every \
         distinct token text of the file as a String, with its IndexSet tables), one 24-byte entry per file \
         (language, depth bound, root handle, wide-index handle), the store's table of (kind, field, missing) \
         triples, and each file's index of its nodes with more than 64 children (depth, range, child count, every \
         32nd child's offset)";
    const INCLUDES_SOURCE: bool = true;
    const LOOKUP: &'static str = LOOKUP;
    const UPDATE: &'static str = "reuses every green node and token of the previous version that tree-sitter kept \
         (same node id) or that comes out the same (a leaf's kind and text, a node's children), and rebuilds the \
         path from the root to the edit around them, new text going into the file's interner (shared by its \
         versions, only growing); a version is two handles (tree, wide-node index), sharing all but that path with \
         the next";
    type Store = CstreeStore;

    fn new_store() -> CstreeStore {
        CstreeStore::new(None)
    }
}

/// cstree green trees, deduplicated across all files by one `NodeCache` and its interner, kept in the store.
pub struct CstreeShared;

impl Backend for CstreeShared {
    const NAME: &'static str = "cstree-shared";
    const RETAINS: &'static str = "every file's cstree green tree (green nodes, and 24-byte tokens holding \
         interned keys, deduplicated across all files by one NodeCache; trivia tokens for the text between \
         visible nodes; a FILE wrapper node per file), the NodeCache's two hash tables and its TokenInterner \
         (every distinct token text of the corpus as a String, with its IndexSet tables), kept alive in the \
         store, one 24-byte entry per file (language, depth bound, root handle, wide-index handle), the store's \
         table of (kind, field, missing) triples, each file's index of its nodes with more than 64 children \
         (depth, range, child count, every 32nd child's offset), and the partial trees of files refused mid-build \
         (none in a clean run)";
    const INCLUDES_SOURCE: bool = true;
    const SHARES_ACROSS_FILES: bool = true;
    const LOOKUP: &'static str = LOOKUP;
    const UPDATE: &'static str = "reuses every green node and token of the previous version that tree-sitter kept \
         (same node id) or that comes out the same (a leaf's kind and text, a node's children), and rebuilds the \
         path from the root to the edit around them, new tokens going into the shared cache (which keeps them); a \
         version is two handles (tree, wide-node index), sharing all but that path with the next";
    type Store = CstreeStore;

    fn new_store() -> CstreeStore {
        CstreeStore::new(Some(NodeCache::new()))
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
        // A deep tree would overflow the stack in cstree's drop. (Where a store or another version still holds
        // the tree, dropping it frees nothing and `drop_deep` only walks it.)
        if self.depth as usize > MAX_RECURSIVE_DROP_DEPTH {
            if let Some(green) = self.green.take() {
                drop_deep(green);
            }
        }
    }
}

/// One file's CST at one moment: its green tree and wide-node index, shared with the store and other versions.
/// Its tokens' keys are resolved by the interner of the store it came from (which only ever grows), so it is
/// read by restoring it into that store.
#[derive(Clone)]
pub struct CstreeVersion(File);

/// The green trees of many files, with the shared cache or the per-file interners.
pub struct CstreeStore {
    /// The (kind, field, missing) triples, by cstree kind.
    kinds: KindTable,
    files: Vec<File>,
    /// [`Cstree`]: each file's interner, by file, shared by all its versions.
    interners: Vec<TokenInterner>,
    /// [`CstreeShared`]: the cache, owning the interner of every file.
    cache: Option<NodeCache<'static>>,
    /// [`CstreeShared`]: partial trees of refused files, whose nodes the cache may hold (see `Drop`).
    refused: Vec<GreenNode>,
}

/// What a conversion gave, less the builder's cache.
struct Built {
    green: GreenNode,
    depth: usize,
    wide: Vec<convert::Wide>,
    events: Vec<u32>,
    error: Option<BuildError>,
}

impl Built {
    fn of(converted: Converted<'_>) -> (Built, Option<NodeCache<'_>>) {
        let Converted {
            green,
            cache,
            depth,
            wide,
            events,
            error,
        } = converted;
        let built = Built {
            green,
            depth,
            wide,
            events,
            error,
        };
        (built, cache)
    }
}

impl CstreeStore {
    fn new(cache: Option<NodeCache<'static>>) -> CstreeStore {
        CstreeStore {
            kinds: KindTable::default(),
            files: Vec::new(),
            interners: Vec::new(),
            cache,
            refused: Vec::new(),
        }
    }

    fn interner(&self, file: usize) -> &TokenInterner {
        match &self.cache {
            Some(cache) => cache.interner(),
            None => &self.interners[file],
        }
    }

    /// A file built from scratch, its text interned in the shared cache's interner, or with the per-file cache
    /// in file `existing`'s interner (shared by its versions), or, for a new file, in a new interner, returned.
    fn build(
        &mut self,
        language: Language,
        source: &str,
        tree: &tree_sitter::Tree,
        existing: Option<usize>,
    ) -> Result<(File, Option<TokenInterner>), BuildError> {
        let kinds = &mut self.kinds;
        let (built, new_interner) = match (&mut self.cache, existing) {
            (Some(cache), _) => {
                let converted =
                    convert::convert(GreenNodeBuilder::with_cache(cache), kinds, source, tree);
                (Built::of(converted).0, None)
            }
            (None, Some(file)) => {
                let builder = GreenNodeBuilder::with_interner(&mut self.interners[file]);
                let (built, cache) = Built::of(convert::convert(builder, kinds, source, tree));
                // Its dedup tables go; the interner stays the file's.
                drop(cache);
                (built, None)
            }
            (None, None) => {
                let (built, cache) = Built::of(convert::convert(
                    GreenNodeBuilder::new(),
                    kinds,
                    source,
                    tree,
                ));
                // The dedup tables go; the interner holds the tokens' text.
                let interner = cache
                    .and_then(NodeCache::into_interner)
                    .expect("GreenNodeBuilder::new() owns its interner");
                (built, Some(interner))
            }
        };
        let interner = match (&self.cache, existing, &new_interner) {
            (Some(cache), _, _) => cache.interner(),
            (None, Some(file), _) => &self.interners[file],
            (None, None, Some(interner)) => interner,
            (None, None, None) => unreachable!("a new file's interner was made above"),
        };
        let error = match built.error {
            Some(error) => Some(error),
            None => check(&built.green, &built.events, source, interner).err(),
        };
        if let Some(error) = error {
            if self.cache.is_some() {
                // The shared cache may keep nodes of the partial tree: the store keeps the tree (see `Drop`).
                self.refused.push(built.green);
            } else {
                drop_deep(built.green);
            }
            return Err(error);
        }
        let wide = WideIndex::new(wide::of_paths(&built.green, &built.wide));
        Ok((
            File::new(language, built.depth, built.green, wide),
            new_interner,
        ))
    }
}

impl CstStore for CstreeStore {
    type Cursor<'a> = CstreeCursor<'a>;

    fn add(
        &mut self,
        language: Language,
        source: &str,
        tree: tree_sitter::Tree,
    ) -> Result<(), BuildError> {
        // The tree-sitter tree is dropped on return: only the green tree is kept.
        let (file, interner) = self.build(language, source, &tree, None)?;
        self.files.push(file);
        self.interners.extend(interner);
        Ok(())
    }

    fn finish(&mut self) {
        self.files.shrink_to_fit();
        self.interners.shrink_to_fit();
        self.refused.shrink_to_fit();
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
        write_text(green, self.interner(file), &mut text);
        Cow::Owned(text)
    }

    type Version = CstreeVersion;

    fn version(&self, file: usize) -> CstreeVersion {
        CstreeVersion(self.files[file].clone())
    }

    fn restore(&mut self, file: usize, version: &CstreeVersion) {
        self.files[file] = version.0.clone();
    }

    fn replace(
        &mut self,
        file: usize,
        language: Language,
        source: &str,
        tree: tree_sitter::Tree,
    ) -> Result<(), BuildError> {
        let (built, _) = self.build(language, source, &tree, Some(file))?;
        self.files[file] = built;
        Ok(())
    }

    fn update(&mut self, file: usize, edit: FileEdit<'_>) -> Result<(), BuildError> {
        let CstreeStore {
            kinds,
            files,
            interners,
            cache,
            ..
        } = self;
        let stored = &files[file];
        let previous = update::Previous {
            green: stored.green(),
            depth: stored.depth as usize,
            wide: &stored.wide,
        };
        let interner = match cache {
            Some(cache) => cache.interner(),
            None => &interners[file],
        };
        let Some(planned) = update::plan(kinds, &previous, interner, &edit)? else {
            // The edit's old tree is not this file's: rebuild it.
            return self.replace(file, edit.language, edit.text, edit.tree);
        };
        // The new tokens' text goes into the interner the file's versions share.
        let updated = match cache {
            Some(cache) => planned.build(GreenNodeBuilder::with_cache(cache)),
            None => planned.build(GreenNodeBuilder::with_interner(&mut interners[file])),
        };
        files[file] = File::new(edit.language, updated.depth, updated.green, updated.wide);
        Ok(())
    }

    fn cursor(&self, file: usize) -> CstreeCursor<'_> {
        CstreeCursor::new(
            self.files[file].green(),
            self.interner(file),
            self.kinds.view(),
        )
    }

    fn reset_cursor<'a>(&'a self, cursor: &mut CstreeCursor<'a>, file: usize) {
        cursor.reset(self.files[file].green(), self.interner(file));
    }

    fn seek<'a>(&'a self, cursor: &mut CstreeCursor<'a>, file: usize, offset: u32) {
        let stored = &self.files[file];
        cursor.reset(stored.green(), self.interner(file));
        cursor.descend(offset, &stored.wide);
    }

    fn native_node_at_offset(&self, file: usize, offset: u32) -> Option<NodeInfo> {
        let stored = &self.files[file];
        if stored.depth as usize > MAX_RECURSIVE_DROP_DEPTH
            || stored.wide.widest() as usize > NATIVE_MAX_CHILDREN
        {
            return None;
        }
        let green = stored.green();
        let red: SyntaxNode<Kind> = SyntaxNode::new_root(green.clone());
        let offset = TextSize::from(offset.min(u32::from(green.text_len())));
        let mut element = red.covering_element(TextRange::empty(offset));
        // Trivia is no node: answer with its parent.
        if element.kind() == TRIVIA {
            element = NodeOrToken::Node(element.parent().expect("trivia lies inside a node"));
        }
        // The wrapper is no node either: answer with tree-sitter's root, its one child that is not trivia.
        if element.kind() == FILE {
            element = red
                .children_with_tokens()
                .find(|child| child.kind() != TRIVIA)
                .expect("the wrapper holds the root");
        }
        let (kind, range) = (element.syntax_kind(), element.text_range());
        let node = self.kinds.view().decode(kind);
        Some(NodeInfo {
            kind: node.kind,
            field: node.field,
            start: range.start().into(),
            end: range.end().into(),
            missing: node.missing,
        })
    }
}

impl Drop for CstreeStore {
    fn drop(&mut self) {
        // The shared cache goes first, while every tree it has nodes of is alive (held files and refused
        // partial trees), so dropping its handles frees nothing. (Nodes of versions dropped earlier may be held
        // by the cache alone; the conversion keeps every cached subtree at most `MAX_CACHED_HEIGHT` tall, so
        // whatever order the cache frees them in recurses no deeper.) Deep files are dropped by `File`'s drop.
        drop(self.cache.take());
        for green in std::mem::take(&mut self.refused) {
            drop_deep(green);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cst_measure::edits::{EditKind, TextEdit};
    use cst_measure::fixtures::{deep_nesting, DEEP_NESTING};
    use cst_measure::reference::ReferenceTree;
    use cst_measure::verify::{verify_file, verify_lookups};
    use std::sync::Arc;

    /// A 100,000-deep file refused at its innermost node (the kind table is made too small for its last
    /// triples) leaves a partial tree as deep, which the store drops safely on this 2 MiB test thread: at once
    /// with a per-file cache, or kept with the shared cache (which may hold its nodes) until the store goes.
    #[test]
    fn a_deep_file_refused_mid_build_is_dropped_safely() {
        let text = deep_nesting(Language::Python, DEEP_NESTING);
        for shared in [false, true] {
            let mut store = CstreeStore::new(shared.then(NodeCache::new));
            // module, expression_statement, assignment, `x` (left), `=`, the outer parentheses (right), `(` and
            // the inner parentheses: the integer at the bottom is one triple too many.
            store.kinds = KindTable::with_max(9);
            let tree = Language::Python.parse(&text);
            let refused = store.add(Language::Python, &text, tree);
            assert!(
                matches!(&refused, Err(BuildError::Limit(m)) if m.contains("kind table is full")),
                "{refused:?}"
            );
            assert_eq!((store.len(), store.refused.len()), (0, usize::from(shared)));
            store.finish();
            drop(store);
        }
    }

    /// The per-file bytes of the crate doc's layout table.
    #[test]
    fn a_file_entry_is_24_bytes_and_an_interner_56() {
        assert_eq!(std::mem::size_of::<File>(), 24);
        assert_eq!(std::mem::size_of::<wide::WideNode>(), 32);
        assert_eq!(std::mem::size_of::<TokenInterner>(), 56);
    }

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
    fn check(store: &CstreeStore, text: &str, fresh: fn() -> CstreeStore) {
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
    fn wide_indexes_follow_every_version(fresh: fn() -> CstreeStore) {
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
    fn wide_indexes_follow_every_version_cstree() {
        wide_indexes_follow_every_version(Cstree::new_store);
    }

    #[test]
    fn wide_indexes_follow_every_version_cstree_shared() {
        wide_indexes_follow_every_version(CstreeShared::new_store);
    }
}
