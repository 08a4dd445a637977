//! Backends `cstree` and `cstree-shared`: each file's tree-sitter tree is converted into a cstree `GreenNode`
//! (the immutable, deduplicated green tree of cstree 0.14, a rowan descendant that interns token text) and the
//! tree-sitter tree is dropped. The text lives in cstree's `TokenInterner`, which the green tokens point into by
//! key, so the store keeps no copy of the source.
//!
//! This crate is cstree's instantiation of the `backend-green` layer, which holds the conversion, cursor,
//! wide-node index, kind table and incremental update for rowan and cstree alike (see its docs for the store's
//! layout, each move's cost and the limits): [`CstreeGreen`] says how cstree's builder, nodes, tokens, cache
//! and interners answer the layer, `check` refuses a tree the cache got wrong, and [`Cstree`] and
//! [`CstreeShared`] are the rows. Measurements of alternatives not kept are in [NOTES.md](../NOTES.md).
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
//! | per file | the layer's entry (language, depth bound, FILE handle, wide-index handle) 24, plus the file's `TokenInterner` (`cstree` only) 56 | 24 or 80 |
//! | per file with nodes of more than 64 children | the layer's wide-node index (depth, start, end, child count, an `Arc` of its samples: 4 bytes per 32 children) | 32, + 32 per wide node, + 16 + 4 per 32 children |
//! | per store | the layer's (kind, field, missing) triples, 6 bytes each | |
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
//! ([`CacheRule::AtMostThreeChildren`]) and compares heads only (hence `check`).
//!
//! **Where this use departs from cstree's design.** cstree is meant to be read through its red tree
//! (`SyntaxNode`, `ResolvedNode`), made lazily and cached in place; the store keeps only green trees and the
//! layer's cursor walks them with its own stack. Its kinds are numbered at run time through the layer's table,
//! where a cstree user would derive `Syntax` on an enum. Trivia tokens and the FILE wrapper are the layer's.
//! Every build is checked against cstree's cache's 32-bit hash collisions (`check.rs`).
//!
//! # Editing
//!
//! [`CstStore::update`](cst_measure::CstStore::update) is the layer's: the previous version's green elements
//! are reused wherever they are provably what a rebuild would make, and the path from the root to the edit is
//! rebuilt around them with `GreenNode::new`, outside the node cache. Its new tokens go through a builder:
//! `cstree-shared`'s cache, or for `cstree` a fresh cache over the file's own interner. It costs the nodes
//! tree-sitter rebuilt and their children, plus the old nodes passed beside them, not the file: on the measured
//! corpora (200 files of each language, 20 edits each) its median is 51–93 µs where a full rebuild takes
//! 208–305 µs, and under tree-sitter's own incremental reparse (0.32–0.53x). `replace` builds a file from
//! scratch (into the file's interner for `cstree`).
//!
//! A version is two handles. Its tokens' keys need the interner they were made in, which therefore belongs to
//! the store, not the version: `cstree`'s per-file interner is shared by all the file's versions and only grows
//! (text typed during edits stays in it, counted with the store), and `cstree-shared`'s is the cache's.
//! Measured: 0.9–2.1 KB per extra version against 54–82 KB for one version of a file (0.02–0.03x).
//!
//! A shared cache outlives the versions whose nodes it holds, and may be their last holder: the conversion
//! keeps every cached subtree at most 128 tall, so however it frees them, no drop recurses deeper. The store's
//! state (the cache, and the partial trees of refused files, whose nodes the cache may hold) is dropped before
//! its files.
//!
//! # Navigation
//!
//! The layer's cursor reads a leaf's text from the interner (O(1) by key). `native_node_at_offset` is cstree's
//! own `SyntaxNode::covering_element` on a red root made for the call and dropped after it (a red root kept in
//! the store would grow it). It scans each level's children, making a red element for each, and picks the
//! first child whose range *contains* the empty range (so the left one at a boundary), then trivia answers
//! with its parent. Files deeper than 1,000 levels (cstree drops red trees recursively) or with a node of more
//! than 4,096 children (a red node allocates a slot per child, and each child passed gets a red node: quadratic
//! over the sampled offsets) get `None`, so the timing covers the other files only.
//!
//! # Limits
//!
//! The layer's, and: per store, 2^31 − 3 triples (never met; the kinds leave room for the build log's tags). A
//! file whose build meets a cache hash collision is refused with [`BuildError::Limit`].

mod check;

use backend_green::convert::{convert, drop_deep, FINISH, MAX_RECURSIVE_DROP_DEPTH, TOKEN};
use backend_green::kinds::{KindTable, KindView, FILE, TRIVIA};
use backend_green::{
    Builder, CacheRule, Converted, Element, GreenFile, GreenStore, Library, Planned, Updated,
};
use check::check;
use cst_measure::{Backend, BuildError, NodeInfo};
use cstree::build::{GreenNodeBuilder, NodeCache};
use cstree::green::{GreenNode, GreenToken};
use cstree::interning::TokenInterner;
use cstree::syntax::SyntaxNode;
use cstree::text::{TextRange, TextSize};
use cstree::util::NodeOrToken;
use cstree::{RawSyntaxKind, Syntax};

/// How both rows find the node at an offset.
const LOOKUP: &str = "the descent through the green tree, scanning each node's children from the first, or, in \
     a node with more than 64 children, from the last of every 32nd child's offsets (kept with each version of the \
     file) that starts before the offset";

/// Widest node for which `native_node_at_offset` asks cstree's red tree (see the crate doc).
const NATIVE_MAX_CHILDREN: u32 = 4_096;

/// The highest cstree kind the table gives out: below the build log's tags.
const MAX_KIND: u32 = (1 << 31) - 2;
const _: () = assert!(
    MAX_KIND | TOKEN < FINISH,
    "kinds leave room for the event tags"
);

/// The green trees of many files, with the shared cache or the per-file interners.
pub type CstreeStore = GreenStore<CstreeGreen>;

/// A cursor over one file's cstree green tree.
pub type CstreeCursor<'a> = backend_green::GreenCursor<'a, CstreeGreen>;

/// cstree green trees, each file with its own interner; the node cache is dropped after each file's build.
pub struct Cstree;

impl Backend for Cstree {
    const NAME: &'static str = "cstree";
    const RETAINS: &'static str = "each file's cstree green tree (green nodes, and 24-byte tokens holding interned \
         keys, deduplicated within the file by a NodeCache whose two tables are dropped after the build; trivia \
         tokens for the text between visible nodes; a FILE wrapper node), each file's TokenInterner (every \
         distinct token text of the file as a String, with its IndexSet tables), one 40-byte entry per file \
         (language, query-status stream, depth bound, root handle, wide-index handle), the store's query-status model (learned at finish()), the store's table of (kind, field, missing) \
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
        GreenStore::new(CstreeState::new(None))
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
         store, one 40-byte entry per file (language, query-status stream, depth bound, root handle, wide-index handle), the store's query-status model (learned at finish()), the store's \
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
        GreenStore::new(CstreeState::new(Some(NodeCache::new())))
    }
}

/// A cstree kind of this store: what `GreenNodeBuilder` is generic over. Kinds are numbered at run time by the
/// layer's table, so none has static text (every token's text is interned).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Kind(pub(crate) u32);

impl Syntax for Kind {
    fn from_raw(raw: RawSyntaxKind) -> Kind {
        Kind(raw.0)
    }

    fn into_raw(self) -> RawSyntaxKind {
        RawSyntaxKind(self.0)
    }

    fn static_text(self) -> Option<&'static str> {
        None
    }
}

/// What a cstree store keeps beside its files.
pub struct CstreeState {
    /// [`Cstree`]: each file's interner, by file, shared by all its versions.
    interners: Vec<TokenInterner>,
    /// [`CstreeShared`]: the cache, owning the interner of every file.
    cache: Option<NodeCache<'static>>,
    /// [`CstreeShared`]: partial trees of refused files, whose nodes the cache may hold (see `release`).
    refused: Vec<GreenNode>,
}

impl CstreeState {
    fn new(cache: Option<NodeCache<'static>>) -> CstreeState {
        CstreeState {
            interners: Vec::new(),
            cache,
            refused: Vec::new(),
        }
    }
}

/// cstree as the layer sees it.
pub struct CstreeGreen;

/// cstree's builder, driven by the layer.
struct CstreeBuilder<'c, 'i>(GreenNodeBuilder<'c, 'i, Kind>);

impl<'i> Builder<CstreeGreen> for CstreeBuilder<'_, 'i> {
    type Finished = (GreenNode, Option<NodeCache<'i>>);
    #[inline]
    fn start_node(&mut self, kind: u32) {
        self.0.start_node(Kind(kind));
    }
    #[inline]
    fn token(&mut self, kind: u32, text: &str) {
        self.0.token(Kind(kind), text);
    }
    #[inline]
    fn finish_node(&mut self) {
        self.0.finish_node();
    }
    fn finish(self) -> Self::Finished {
        self.0.finish()
    }
    fn tree((green, cache): Self::Finished) -> GreenNode {
        drop(cache);
        green
    }
}

type CstreeElement<'a> = NodeOrToken<&'a GreenNode, &'a GreenToken>;

impl Library for CstreeGreen {
    type State = CstreeState;
    type Adopt = Option<TokenInterner>;
    type Resolver = TokenInterner;
    const NAME: &'static str = "cstree";
    type Node = GreenNode;
    type NodeData = GreenNode;
    const CHECK_BUILD: bool = true;
    const FREE_PLAN_BEFORE_BUILD: bool = true;
    type Token = GreenToken;
    type TokenData = GreenToken;
    const CACHE: CacheRule = CacheRule::AtMostThreeChildren;
    type OwnedElement = NodeOrToken<GreenNode, GreenToken>;
    type Kind = u32;
    const MAX_KIND: u32 = MAX_KIND;
    type Children<'a> = cstree::green::GreenNodeChildren<'a>;
    type Child<'a> = CstreeElement<'a>;

    #[inline]
    fn node_kind(node: &GreenNode) -> u32 {
        node.kind().0
    }
    #[inline]
    fn node_len(node: &GreenNode) -> u32 {
        node.text_len().into()
    }
    #[inline]
    fn token_kind(token: &GreenToken) -> u32 {
        token.kind().0
    }
    #[inline]
    fn token_len(token: &GreenToken) -> u32 {
        token.text_len().into()
    }
    #[inline]
    fn token_text<'a>(token: &'a GreenToken, interner: &'a TokenInterner) -> &'a str {
        token.text(interner).unwrap_or_default()
    }
    #[inline]
    fn element<'a>(child: Self::Child<'a>) -> Element<'a, CstreeGreen> {
        match child {
            NodeOrToken::Node(node) => Element::Node(node),
            NodeOrToken::Token(token) => Element::Token(token),
        }
    }
    #[inline]
    fn children(node: &GreenNode) -> Self::Children<'_> {
        node.children()
    }
    fn into_node(element: Self::OwnedElement) -> Option<GreenNode> {
        element.into_node()
    }
    fn new_node(kind: u32, children: std::vec::Drain<'_, Self::OwnedElement>) -> GreenNode {
        GreenNode::new(RawSyntaxKind(kind), children)
    }

    /// Builds a file, its text interned in the shared cache's interner, or with the per-file cache in file
    /// `file`'s interner (shared by its versions), or, for a new file, in a new interner, returned to be adopted.
    fn build(
        state: &mut CstreeState,
        kinds: &mut KindTable<u32>,
        source: &str,
        tree: &tree_sitter::Tree,
        file: Option<usize>,
    ) -> Result<(GreenNode, Converted, Option<TokenInterner>), BuildError> {
        let (green, converted, new_interner) = match (&mut state.cache, file) {
            (Some(cache), _) => {
                let builder = CstreeBuilder(GreenNodeBuilder::with_cache(cache));
                let ((green, _), converted) = convert(builder, kinds, source, tree);
                (green, converted, None)
            }
            (None, Some(file)) => {
                let builder =
                    CstreeBuilder(GreenNodeBuilder::with_interner(&mut state.interners[file]));
                let ((green, cache), converted) = convert(builder, kinds, source, tree);
                // Its dedup tables go; the interner stays the file's.
                drop(cache);
                (green, converted, None)
            }
            (None, None) => {
                let builder = CstreeBuilder(GreenNodeBuilder::new());
                let ((green, cache), converted) = convert(builder, kinds, source, tree);
                // The dedup tables go; the interner holds the tokens' text.
                let interner = cache
                    .and_then(NodeCache::into_interner)
                    .expect("GreenNodeBuilder::new() owns its interner");
                (green, converted, Some(interner))
            }
        };
        let interner = match (&state.cache, file, &new_interner) {
            (Some(cache), _, _) => cache.interner(),
            (None, Some(file), _) => &state.interners[file],
            (None, None, Some(interner)) => interner,
            (None, None, None) => unreachable!("a new file's interner was made above"),
        };
        let mut converted = converted;
        let error = match converted.error.take() {
            Some(error) => Some(error),
            None => check(&green, &converted.events, source, interner).err(),
        };
        if let Some(error) = error {
            if state.cache.is_some() {
                // The shared cache may keep nodes of the partial tree: the store keeps the tree (see `release`).
                state.refused.push(green);
            } else {
                drop_deep::<CstreeGreen>(green);
            }
            return Err(error);
        }
        Ok((green, converted, new_interner))
    }

    fn adopt(state: &mut CstreeState, interner: Option<TokenInterner>) {
        state.interners.extend(interner);
    }

    #[inline]
    fn resolver(state: &CstreeState, file: usize) -> &TokenInterner {
        match &state.cache {
            Some(cache) => cache.interner(),
            None => &state.interners[file],
        }
    }

    fn build_update(
        state: &mut CstreeState,
        file: usize,
        planned: Planned<'_, '_, CstreeGreen>,
    ) -> Updated<CstreeGreen> {
        // The new tokens' text goes into the interner the file's versions share.
        match &mut state.cache {
            Some(cache) => planned.build(CstreeBuilder(GreenNodeBuilder::with_cache(cache))),
            None => planned.build(CstreeBuilder(GreenNodeBuilder::with_interner(
                &mut state.interners[file],
            ))),
        }
    }

    fn release(state: &mut CstreeState) {
        // The shared cache goes first, while every tree it has nodes of is alive (the store's files, and the
        // refused partial trees, which go after it), so dropping its handles frees nothing. (Nodes of versions
        // dropped earlier may be held by the cache alone; the conversion keeps every cached subtree at most 128
        // tall, so whatever order the cache frees them in recurses no deeper.) Deep files are dropped by the
        // layer.
        drop(state.cache.take());
        for green in std::mem::take(&mut state.refused) {
            drop_deep::<CstreeGreen>(green);
        }
    }

    fn finish(state: &mut CstreeState) {
        state.interners.shrink_to_fit();
        state.refused.shrink_to_fit();
    }

    fn native_node_at_offset(
        file: &GreenFile<'_, CstreeGreen>,
        kinds: KindView<'_>,
        offset: u32,
    ) -> Option<NodeInfo> {
        if file.depth > MAX_RECURSIVE_DROP_DEPTH || file.widest > NATIVE_MAX_CHILDREN {
            return None;
        }
        let red: SyntaxNode<Kind> = SyntaxNode::new_root(file.green.clone());
        let offset = TextSize::from(offset.min(u32::from(file.green.text_len())));
        let mut element = red.covering_element(TextRange::empty(offset));
        // Trivia is no node: answer with its parent.
        if element.kind() == Kind(TRIVIA) {
            element = NodeOrToken::Node(element.parent().expect("trivia lies inside a node"));
        }
        // The wrapper is no node either: answer with tree-sitter's root, its one child that is not trivia.
        if element.kind() == Kind(FILE) {
            element = red
                .children_with_tokens()
                .find(|child| child.kind() != Kind(TRIVIA))
                .expect("the wrapper holds the root");
        }
        let (kind, range) = (element.syntax_kind(), element.text_range());
        let node = kinds.decode(kind.0);
        Some(NodeInfo {
            kind: node.kind,
            field: node.field,
            start: range.start().into(),
            end: range.end().into(),
            missing: node.missing,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cst_measure::fixtures::{deep_nesting, DEEP_NESTING};
    use cst_measure::{CstStore, Language};

    /// A 100,000-deep file refused at its innermost node (the kind table is made too small for its last
    /// triples) leaves a partial tree as deep, which the store drops safely on this 2 MiB test thread: at once
    /// with a per-file cache, or kept with the shared cache (which may hold its nodes) until the store goes.
    #[test]
    fn a_deep_file_refused_mid_build_is_dropped_safely() {
        let text = deep_nesting(Language::Python, DEEP_NESTING);
        for shared in [false, true] {
            let mut store =
                GreenStore::<CstreeGreen>::new(CstreeState::new(shared.then(NodeCache::new)));
            // module, expression_statement, assignment, `x` (left), `=`, the outer parentheses (right), `(` and
            // the inner parentheses: the integer at the bottom is one triple too many.
            store.limit_kinds(9);
            let tree = Language::Python.parse(&text);
            let refused = store.add(Language::Python, &text, tree);
            assert!(
                matches!(&refused, Err(BuildError::Limit(m)) if m.contains("kind table is full")),
                "{refused:?}"
            );
            assert_eq!(
                (store.len(), store.state().refused.len()),
                (0, usize::from(shared))
            );
            store.finish();
            drop(store);
        }
    }

    /// The per-file bytes of the crate doc's layout table.
    #[test]
    fn an_interner_is_56_bytes() {
        assert_eq!(std::mem::size_of::<TokenInterner>(), 56);
    }
}
