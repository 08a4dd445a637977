//! Backends `rowan` and `rowan-shared-cache`: each file's tree-sitter tree is converted into a rowan
//! `GreenNode` (the immutable, hash-consed tree rust-analyzer uses) and the tree-sitter tree is dropped. The
//! text lives inside the green tokens, so the store keeps no copy of the source.
//!
//! This crate is rowan's instantiation of the `backend-green` layer, which holds the conversion, cursor,
//! wide-node index, kind table and incremental update for rowan and cstree alike (see its docs for the store's
//! layout, each move's cost and the limits): [`RowanGreen`] says how rowan's builder, nodes, tokens and
//! `NodeCache` answer the layer, and [`Rowan`] and [`RowanSharedCache`] are the rows. Measurements of
//! alternatives not kept are in [NOTES.md](../NOTES.md).
//!
//! The two rows differ only in rowan's `NodeCache`, which deduplicates identical tokens and small subtrees:
//! [`Rowan`] uses a fresh cache per file (as `GreenNodeBuilder::new()` does) and drops it once the file is
//! built; [`RowanSharedCache`] keeps one cache for the whole store, so identical tokens and subtrees are shared
//! across files and the cache's own tables count in the retained bytes.
//!
//! # Layout
//!
//! From rowan 0.16's own types on 64-bit targets, bytes asked of the allocator:
//!
//! | what | stored as | bytes |
//! | --- | --- | --- |
//! | green node | one `ThinArc` block: refcount 8, `GreenNodeHead` (kind `u16`, text length `u32`) 8, child count 8, then per child its offset and a handle | 24 + 16 per child |
//! | green token | one `ThinArc` block: refcount 8, kind `u16` (padded to 8), text length 8, then the text inline | 24 + the text, rounded up to 8; once per distinct (kind, text) per cache |
//! | node cache (`rowan-shared-cache` only) | two hashbrown tables of handles (nodes, tokens), grown by doubling | 9 per slot (handle 8, control byte 1) |
//! | per file | the layer's 40-byte entry (language, query-status stream `Box<[u8]>` 16, depth bound, FILE handle, wide-index handle) | 40 |
//! | query status | each file's `cst_measure::query_status::FileStatus` stream: the exceptions to the prediction of the store's status model, learned at `finish()` (16 bytes per context it predicts for) | about 0.01 per node, model included (built-in corpus) |
//!
//! rowan's cache takes a node of at most 3 children only when its children are all cached, and compares
//! children by identity; it recomputes every interned node's hash recursively when its table grows, which is
//! why the layer bounds cached subtrees at 128 levels ([`CacheRule::AllChildrenCached`]).
//!
//! # Editing
//!
//! [`CstStore::update`](cst_measure::CstStore::update) rebuilds only what the edit changed (the layer's
//! `update.rs` says how and why each reuse is exact). It costs the nodes tree-sitter rebuilt and their
//! children, plus the old nodes passed beside them, not the file: on the measured corpora (200 files of each
//! language, 20 edits each) its median is 51–88 µs where a full rebuild takes 186–284 µs, and under
//! tree-sitter's own incremental reparse (0.31–0.53x). The rebuilt nodes are not in the `NodeCache`; new
//! tokens are (the shared one for `rowan-shared-cache`). A version is two handles, sharing every green node no
//! edit between them rebuilt, so what an extra version holds on its own is what its next edit replaced: the
//! path to the edit (a wide parent such as a module's root dominates), the tokens the edit changed, and its
//! wide-node index if the file has wide nodes. Measured: 1.6–4.1 KB per extra version against 53–90 KB for one
//! version of a file (0.03–0.05x).

use backend_green::convert::{convert, drop_deep};
use backend_green::kinds::KindTable;
use backend_green::{
    Builder, CacheRule, Converted, Element, GreenStore, Library, Planned, Updated,
};
use cst_measure::{Backend, BuildError};
use rowan::{GreenNode, GreenNodeBuilder, GreenNodeData, GreenTokenData, NodeCache, NodeOrToken};
use rowan::{GreenToken, SyntaxKind};

/// How both rows find the node at an offset.
const LOOKUP: &str = "the descent through the green tree, scanning each node's children from the first, or, in \
     a node with more than 64 children, from the last of every 32nd child's offsets (kept with each version of the \
     file) that starts before the offset";

/// What both rows' updates do.
const UPDATE: &str = "reuses every green node and token of the previous version that tree-sitter kept (same node \
     id) or that comes out the same (a leaf's kind and text, a node's children), and rebuilds the path from the \
     root to the edit around them; a version is two handles (tree, wide-node index), sharing all but that path \
     with the next";

/// The green trees of many files, with the shared cache for [`RowanSharedCache`].
pub type RowanStore = GreenStore<RowanGreen>;

/// A cursor over one file's rowan green tree.
pub type RowanCursor<'a> = backend_green::GreenCursor<'a, RowanGreen>;

/// rowan green trees, deduplicated within each file by a per-file `NodeCache`.
pub struct Rowan;

impl Backend for Rowan {
    const NAME: &'static str = "rowan";
    const RETAINS: &'static str = "each file's rowan green tree (green nodes, and tokens holding the text, \
         deduplicated within the file by a NodeCache dropped after the build; trivia tokens for the text \
         between visible nodes; a FILE wrapper node) plus one 40-byte entry per file (language, query-status stream, depth bound, \
         root handle, wide-index handle), the store's query-status model (learned at finish()), the store's table of (kind, field, missing) triples, and each file's \
         index of its nodes with more than 64 children (depth, range, child count, every 32nd child's offset)";
    const INCLUDES_SOURCE: bool = true;
    const LOOKUP: &'static str = LOOKUP;
    const UPDATE: &'static str = UPDATE;
    type Store = RowanStore;

    fn new_store() -> RowanStore {
        GreenStore::new(None)
    }
}

/// rowan green trees, deduplicated across all files by one `NodeCache` kept in the store.
pub struct RowanSharedCache;

impl Backend for RowanSharedCache {
    const NAME: &'static str = "rowan-shared-cache";
    const RETAINS: &'static str = "every file's rowan green tree (green nodes, and tokens holding the text, \
         deduplicated across all files by one NodeCache; trivia tokens for the text between visible nodes; a \
         FILE wrapper node per file), the NodeCache's two hash tables, kept alive in the store, plus one \
         40-byte entry per file (language, query-status stream, depth bound, root handle, wide-index handle), the store's query-status model (learned at finish()), the store's table of \
         (kind, field, missing) triples, and each file's index of its nodes with more than 64 children (depth, \
         range, child count, every 32nd child's offset)";
    const INCLUDES_SOURCE: bool = true;
    const SHARES_ACROSS_FILES: bool = true;
    const LOOKUP: &'static str = LOOKUP;
    const UPDATE: &'static str = UPDATE;
    type Store = RowanStore;

    fn new_store() -> RowanStore {
        GreenStore::new(Some(NodeCache::default()))
    }
}

/// rowan as the layer sees it. The store's state is the shared `NodeCache` (`None`: a fresh one per build).
pub struct RowanGreen;

/// rowan's builder, driven by the layer.
struct RowanBuilder<'c>(GreenNodeBuilder<'c>);

impl RowanBuilder<'_> {
    fn of(cache: &mut Option<NodeCache>) -> RowanBuilder<'_> {
        RowanBuilder(match cache {
            Some(cache) => GreenNodeBuilder::with_cache(cache),
            None => GreenNodeBuilder::new(),
        })
    }
}

impl Builder<RowanGreen> for RowanBuilder<'_> {
    type Finished = GreenNode;
    #[inline]
    fn start_node(&mut self, kind: u32) {
        self.0.start_node(SyntaxKind(kind as u16));
    }
    #[inline]
    fn token(&mut self, kind: u32, text: &str) {
        self.0.token(SyntaxKind(kind as u16), text);
    }
    #[inline]
    fn finish_node(&mut self) {
        self.0.finish_node();
    }
    fn finish(self) -> GreenNode {
        self.0.finish()
    }
    fn tree(green: GreenNode) -> GreenNode {
        green
    }
}

type RowanElement<'a> = NodeOrToken<&'a GreenNodeData, &'a GreenTokenData>;

impl Library for RowanGreen {
    const NAME: &'static str = "rowan";
    const CACHE: CacheRule = CacheRule::AllChildrenCached;
    const CHECK_BUILD: bool = false;
    const FREE_PLAN_BEFORE_BUILD: bool = false;
    const MAX_KIND: u32 = u16::MAX as u32 - 1;
    type Kind = u16;
    type NodeData = GreenNodeData;
    type TokenData = GreenTokenData;
    type Node = GreenNode;
    type Token = GreenToken;
    type OwnedElement = NodeOrToken<GreenNode, GreenToken>;
    type Resolver = ();
    type Child<'a> = RowanElement<'a>;
    type Children<'a> = rowan::Children<'a>;
    type State = Option<NodeCache>;
    type Adopt = ();

    #[inline]
    fn children(node: &GreenNodeData) -> rowan::Children<'_> {
        node.children()
    }
    #[inline]
    fn element<'a>(child: Self::Child<'a>) -> Element<'a, RowanGreen> {
        match child {
            NodeOrToken::Node(node) => Element::Node(node),
            NodeOrToken::Token(token) => Element::Token(token),
        }
    }
    #[inline]
    fn node_kind(node: &GreenNodeData) -> u32 {
        u32::from(node.kind().0)
    }
    #[inline]
    fn node_len(node: &GreenNodeData) -> u32 {
        node.text_len().into()
    }
    #[inline]
    fn token_kind(token: &GreenTokenData) -> u32 {
        u32::from(token.kind().0)
    }
    #[inline]
    fn token_len(token: &GreenTokenData) -> u32 {
        token.text_len().into()
    }
    #[inline]
    fn token_text<'a>(token: &'a GreenTokenData, _: &'a ()) -> &'a str {
        token.text()
    }
    fn into_node(element: Self::OwnedElement) -> Option<GreenNode> {
        element.into_node()
    }
    fn new_node(kind: u32, children: std::vec::Drain<'_, Self::OwnedElement>) -> GreenNode {
        GreenNode::new(SyntaxKind(kind as u16), children)
    }

    fn build(
        cache: &mut Option<NodeCache>,
        kinds: &mut KindTable<u16>,
        source: &str,
        tree: &tree_sitter::Tree,
        _file: Option<usize>,
    ) -> Result<(GreenNode, Converted, ()), BuildError> {
        let (green, mut converted) = convert(RowanBuilder::of(cache), kinds, source, tree);
        match converted.error.take() {
            Some(error) => {
                drop_deep::<RowanGreen>(green);
                Err(error)
            }
            None => Ok((green, converted, ())),
        }
    }

    fn adopt(_: &mut Option<NodeCache>, (): ()) {}

    fn resolver(_: &Option<NodeCache>, _file: usize) -> &() {
        &()
    }

    fn build_update(
        cache: &mut Option<NodeCache>,
        _file: usize,
        planned: Planned<'_, '_, RowanGreen>,
    ) -> Updated<RowanGreen> {
        planned.build(RowanBuilder::of(cache))
    }
}
