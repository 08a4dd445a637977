//! The layer under the rowan and cstree backends: each file's tree-sitter tree converted into a green tree
//! (the immutable, deduplicated tree rowan and its fork cstree share), its cursor, its index of wide nodes, the
//! store's kind table and the incremental update, written once over [`Library`], a small trait over what the
//! two libraries differ in: their builders, nodes, tokens, kinds and caches or interners. `backend-rowan` and
//! `backend-cstree` are instantiations: a `Library` impl and the `Backend` rows. How they were moved onto it,
//! with their figures before and after, is in [NOTES.md](../NOTES.md).
//!
//! - `kinds`: one green kind per (tree-sitter kind, field, missing) triple met, so fields and MISSING flags
//!   cost no storage beyond the kind the library keeps anyway; the one table of per-node data the layer owns.
//! - `convert`: tree-sitter tree to green tree, with text between visible nodes kept as TRIVIA tokens inside
//!   a FILE wrapper; text and drop without recursion.
//! - `update`: an edited file's next green tree, sharing with the previous version every subtree the edit did
//!   not change.
//! - `cursor`: the `CstCursor` over a green tree, skipping the wrapper and the trivia.
//! - `wide`: each version's sampled child offsets of its nodes with more than 64 children, for lookups by
//!   offset.
//! - `suite`: the tests every instantiation runs ([`suite!`]).
//!
//! # Layout
//!
//! A [`GreenStore`] is the library's [`Library::State`] (its caches or interners: none, a shared `NodeCache`,
//! per-file interners), the kind table, the query-status model learned at `finish()`
//! (`cst_measure::query_status::StatusModel`, 16 bytes per context it predicts for) and one 40-byte entry per file: language 1, its query-status stream 16, depth bound 4, a handle on
//! the FILE wrapper 8, a handle on the file's wide-node index 8 (`None` without wide nodes), padded. Its
//! bytes beside the green tree:
//!
//! | what | bytes |
//! | --- | --- |
//! | per file | 24 (the entry), plus the library's own (a cstree per-file interner: 56 and its tables) |
//! | per file with nodes of more than 64 children | 32 (an `Arc` of a boxed slice), + 32 per wide node (depth, start, end, child count, an `Arc` of its samples), + 16 + 4 per 32 children |
//! | per store | the (kind, field, missing) triples, 6 bytes each; while files are added or edited, their hash index |
//!
//! The green trees' own bytes are the library's, given in its instantiation's docs (a rowan node is 24 bytes
//! plus 16 per child and a token 24 plus its text; a cstree node 32 plus 8 per child and a token 24, its text
//! in an interner).
//!
//! # What each move costs
//!
//! - `add`, `replace`: one builder call per visible node and gap, a conversion stack of 32 bytes per open node;
//!   the tree-sitter tree is dropped on return.
//! - `update`: the nodes tree-sitter rebuilt and their children, plus the old nodes passed beside them, not the
//!   file (see `update.rs`); `replace` builds a file from scratch.
//! - `version`, `restore`: a clone of the file's entry: two handles, no allocation. Green trees are immutable,
//!   so a version stays as it was whatever the store does next; versions share every green node no edit
//!   between them rebuilt.
//! - the cursor: `node()`, `goto_first_child`, `goto_next_sibling`, `goto_parent` are O(1) (a stack of 32-byte
//!   frames, no allocation once it has grown); `text()` borrows a leaf's text and rebuilds an inner node's,
//!   O(subtree); `seek` descends from the root, starting each wide node's scan at its last sampled child
//!   (every 32nd) before the offset, so at most 64 children (plus trivia) are passed per level: O(depth).
//!
//! # Limits
//!
//! Per file: at most `u32::MAX` bytes of text (the libraries' `TextSize`). Per store: the library's
//! [`Library::MAX_KIND`] − 1 triples. A file whose build meets tree-sitter offsets that are not character
//! boundaries, or nodes that overlap, or (cstree) a cache hash collision, is refused with
//! [`BuildError::Limit`]. The depth in a file's entry is exact after a build and an upper bound after an update
//! (a reused subtree is at most as tall as the old bound leaves room for), so every holder of a tree deeper
//! than 1,000 levels, the store or a version, drops it without recursion; a cache holds only subtrees at most
//! 128 tall (`convert.rs`), so however it frees them, no drop recurses deeper.

pub mod convert;
mod cursor;
pub mod kinds;
#[doc(hidden)]
pub mod suite;
mod update;
pub mod wide;

pub use convert::{Builder, CacheRule, Converted};
pub use cursor::GreenCursor;
pub use update::{Planned, Updated};

use convert::{drop_deep, write_text, MAX_RECURSIVE_DROP_DEPTH};
use cst_measure::query_status::{FileStatus, StatusModel, StatusStream};
use cst_measure::{BuildError, CstStore, FileEdit, Language, NodeInfo};
use kinds::{KindTable, KindView, RawKind, TRIVIA};
use std::borrow::{Borrow, Cow};
use wide::{WideIndex, WideNode};

/// A green tree library: what the layer needs of rowan's or cstree's nodes, tokens, builders and caches.
pub trait Library: Sized + 'static {
    /// The library's name, for errors.
    const NAME: &'static str;
    /// Which nodes its `NodeCache` takes (for the conversion's height bound).
    const CACHE: CacheRule;
    /// Whether every build is checked against a log of what the builder was asked for (the library's own
    /// [`Library::build`] does the check).
    const CHECK_BUILD: bool;
    /// Whether an update frees its planning's scratch (a few hundred bytes to a few KB) before building the new
    /// tree (cstree) or after it (rowan). Either is correct; each backend keeps the order it was measured with,
    /// since what glibc hands out next, and so the footprint figures, depend on the order of frees.
    const FREE_PLAN_BEFORE_BUILD: bool;
    /// The highest green kind it can number.
    const MAX_KIND: u32;
    /// The integer it stores as a kind.
    type Kind: RawKind;
    /// A green node, borrowed (what its children are read from).
    type NodeData: ?Sized + ToOwned<Owned = Self::Node>;
    /// A green token, borrowed.
    type TokenData: ?Sized + ToOwned<Owned = Self::Token>;
    /// A handle on a green token.
    type Token;
    /// A handle on a green node (a reference count).
    type Node: Clone + Borrow<Self::NodeData>;
    /// An owned child: node or token handle.
    type OwnedElement: From<Self::Node> + From<Self::Token>;
    /// What token texts are read through (cstree's interner; nothing for rowan, whose tokens hold their text).
    type Resolver: ?Sized;
    /// A child as the library's iterator yields it.
    type Child<'a>
    where
        Self: 'a;
    /// A node's children, in order.
    type Children<'a>: Iterator<Item = Self::Child<'a>> + ExactSizeIterator
    where
        Self: 'a;
    /// What a store keeps beside its files: caches, interners.
    type State;
    /// What building a new file leaves for [`Library::State`] to keep once the file is stored.
    type Adopt;

    #[inline]
    fn data(node: &Self::Node) -> &Self::NodeData {
        node.borrow()
    }
    fn to_owned(node: &Self::NodeData) -> Self::Node {
        node.to_owned()
    }
    fn children(node: &Self::NodeData) -> Self::Children<'_>;
    fn element<'a>(child: Self::Child<'a>) -> Element<'a, Self>;
    fn node_kind(node: &Self::NodeData) -> u32;
    fn node_len(node: &Self::NodeData) -> u32;
    fn token_kind(token: &Self::TokenData) -> u32;
    fn token_len(token: &Self::TokenData) -> u32;
    fn token_text<'a>(token: &'a Self::TokenData, resolver: &'a Self::Resolver) -> &'a str;
    fn into_node(element: Self::OwnedElement) -> Option<Self::Node>;
    /// A node of these children, outside any cache.
    fn new_node(kind: u32, children: std::vec::Drain<'_, Self::OwnedElement>) -> Self::Node;

    /// Builds a file from scratch with [`convert::convert`]: `file` is the stored file it replaces, or `None`
    /// for a new one. On an error, what was built is dropped (or kept in the state, if a cache may hold it).
    fn build(
        state: &mut Self::State,
        kinds: &mut KindTable<Self::Kind>,
        source: &str,
        tree: &tree_sitter::Tree,
        file: Option<usize>,
    ) -> Result<(Self::Node, Converted, Self::Adopt), BuildError>;
    /// Keeps what a new file's build left, once the file is stored.
    fn adopt(state: &mut Self::State, adopt: Self::Adopt);
    /// What file `file`'s token texts are read through.
    fn resolver(state: &Self::State, file: usize) -> &Self::Resolver;
    /// Builds an update's plan for file `file`, its new tokens through the right cache.
    fn build_update(
        state: &mut Self::State,
        file: usize,
        planned: Planned<'_, '_, Self>,
    ) -> Updated<Self>;
    /// Frees, before the store's files go, what must go while they are alive (a cache that may hold their
    /// nodes: while the files hold them too, dropping its handles frees none).
    fn release(_state: &mut Self::State) {}
    /// Shrinks the state once the last file is added.
    fn finish(_state: &mut Self::State) {}
    /// The library's own lookup for the node at `offset` (see `CstStore::native_node_at_offset`).
    fn native_node_at_offset(
        _file: &GreenFile<'_, Self>,
        _kinds: KindView<'_>,
        _offset: u32,
    ) -> Option<NodeInfo> {
        None
    }
}

/// A child in a green node: a node or a token, borrowed.
pub enum Element<'a, L: Library> {
    Node(&'a L::NodeData),
    Token(&'a L::TokenData),
}

impl<L: Library> Clone for Element<'_, L> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<L: Library> Copy for Element<'_, L> {}

impl<'a, L: Library> Element<'a, L> {
    /// Its green kind.
    #[inline]
    pub fn kind(self) -> u32 {
        match self {
            Element::Node(node) => L::node_kind(node),
            Element::Token(token) => L::token_kind(token),
        }
    }

    /// Its text's length.
    #[inline]
    pub fn text_len(self) -> u32 {
        match self {
            Element::Node(node) => L::node_len(node),
            Element::Token(token) => L::token_len(token),
        }
    }

    /// Whether it is a TRIVIA token (never presented by the cursor).
    #[inline]
    pub fn is_trivia(self) -> bool {
        matches!(self, Element::Token(token) if L::token_kind(token) == TRIVIA)
    }

    pub fn node(self) -> Option<&'a L::NodeData> {
        match self {
            Element::Node(node) => Some(node),
            Element::Token(_) => None,
        }
    }

    pub fn token(self) -> Option<&'a L::TokenData> {
        match self {
            Element::Token(token) => Some(token),
            Element::Node(_) => None,
        }
    }

    /// Whether it is `other`: the same green node or token (not merely an equal one).
    pub(crate) fn is(self, other: Element<'_, L>) -> bool {
        match (self, other) {
            (Element::Node(a), Element::Node(b)) => std::ptr::eq(a, b),
            (Element::Token(a), Element::Token(b)) => std::ptr::eq(a, b),
            _ => false,
        }
    }
}

/// One version of one file: its FILE wrapper node, its wide-node index and its query-status companion
/// ([`cst_measure::query_status`], encoded against the store's status model). Cloning it copies two handles
/// and the companion's stream (what the model mispredicts: about 0.01 bytes per node on the built-in corpus).
struct File<L: Library> {
    language: Language,
    status: FileStatus,
    /// Green nodes on its longest root-to-leaf path (wrapper included), or more after updates (see
    /// `update.rs`); deeper than [`MAX_RECURSIVE_DROP_DEPTH`], its last handle is dropped with [`drop_deep`].
    depth: u32,
    /// `None` only while it is dropped.
    green: Option<L::Node>,
    wide: WideIndex,
}

impl<L: Library> Clone for File<L> {
    fn clone(&self) -> Self {
        File {
            language: self.language,
            status: self.status.clone(),
            depth: self.depth,
            green: self.green.clone(),
            wide: self.wide.clone(),
        }
    }
}

impl<L: Library> File<L> {
    fn new(
        language: Language,
        status: FileStatus,
        depth: usize,
        green: L::Node,
        wide: WideIndex,
    ) -> File<L> {
        File {
            language,
            status,
            depth: u32::try_from(depth).unwrap_or(u32::MAX),
            green: Some(green),
            wide,
        }
    }

    fn green(&self) -> &L::NodeData {
        L::data(
            self.green
                .as_ref()
                .expect("only a dropped file has no tree"),
        )
    }
}

impl<L: Library> Drop for File<L> {
    fn drop(&mut self) {
        // A deep tree would overflow the stack in the library's drop. (Where a store or another version still
        // holds the tree, dropping it frees nothing and `drop_deep` only walks it.)
        if self.depth as usize > MAX_RECURSIVE_DROP_DEPTH {
            if let Some(green) = self.green.take() {
                drop_deep::<L>(green);
            }
        }
    }
}

/// A stored file as [`Library::native_node_at_offset`] reads it.
pub struct GreenFile<'a, L: Library> {
    /// Its FILE wrapper.
    pub green: &'a L::Node,
    /// Its depth bound (green nodes, wrapper included).
    pub depth: usize,
    /// Children of its widest node with more than 64 (0 if none).
    pub widest: u32,
}

/// One file's CST at one moment: its green tree and wide-node index, shared with the store and other versions.
/// (cstree: its tokens' keys are resolved by the interner of the store it came from, which only ever grows, so
/// it is read by restoring it into that store.)
pub struct GreenVersion<L: Library>(File<L>);

impl<L: Library> Clone for GreenVersion<L> {
    fn clone(&self) -> Self {
        GreenVersion(self.0.clone())
    }
}

/// The green trees of many files, with the library's caches or interners.
pub struct GreenStore<L: Library> {
    /// The (kind, field, missing) triples, by green kind.
    kinds: KindTable<L::Kind>,
    files: Vec<File<L>>,
    /// The query-status model every file's companion is encoded against, learned at `finish()`.
    status_model: StatusModel,
    /// [`Library::release`]d first, then dropped after the files.
    state: L::State,
}

impl<L: Library> Drop for GreenStore<L> {
    fn drop(&mut self) {
        L::release(&mut self.state);
    }
}

impl<L: Library> GreenStore<L> {
    /// An empty store around `state`.
    pub fn new(state: L::State) -> GreenStore<L> {
        GreenStore {
            kinds: KindTable::new(L::MAX_KIND, L::NAME),
            files: Vec::new(),
            status_model: StatusModel::default(),
            state,
        }
    }

    /// The library's state.
    pub fn state(&self) -> &L::State {
        &self.state
    }

    /// Lowers the highest kind the store gives out (tests fill its table early with it).
    #[doc(hidden)]
    pub fn limit_kinds(&mut self, max: u32) {
        self.kinds.limit(max);
    }

    /// The wide-node index of file `file`'s current version (for tests and diagnostics).
    pub fn wide_nodes(&self, file: usize) -> &[WideNode] {
        self.files[file].wide.nodes()
    }

    /// A file built from scratch (see [`Library::build`]).
    fn build(
        &mut self,
        language: Language,
        source: &str,
        tree: &tree_sitter::Tree,
        file: Option<usize>,
    ) -> Result<(File<L>, L::Adopt), BuildError> {
        let (green, converted, adopt) =
            L::build(&mut self.state, &mut self.kinds, source, tree, file)?;
        let wide = WideIndex::new(wide::of_paths::<L>(L::data(&green), &converted.wide));
        let status = FileStatus::of_with(tree, language, &self.status_model);
        Ok((
            File::new(language, status, converted.depth, green, wide),
            adopt,
        ))
    }
}

impl<L: Library> CstStore for GreenStore<L> {
    type Cursor<'a> = GreenCursor<'a, L>;

    fn add(
        &mut self,
        language: Language,
        source: &str,
        tree: tree_sitter::Tree,
    ) -> Result<(), BuildError> {
        // The tree-sitter tree is dropped on return: only the green tree is kept.
        let (file, adopt) = self.build(language, source, &tree, None)?;
        self.files.push(file);
        L::adopt(&mut self.state, adopt);
        Ok(())
    }

    fn finish(&mut self) {
        self.files.shrink_to_fit();
        L::finish(&mut self.state);
        self.kinds.shrink();
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
        let green = self.files[file].green();
        let mut text = String::with_capacity(L::node_len(green) as usize);
        write_text::<L>(green, L::resolver(&self.state, file), &mut text);
        Cow::Owned(text)
    }

    type Version = GreenVersion<L>;

    fn version(&self, file: usize) -> GreenVersion<L> {
        GreenVersion(self.files[file].clone())
    }

    fn restore(&mut self, file: usize, version: &GreenVersion<L>) {
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
        let GreenStore {
            kinds,
            files,
            status_model,
            state,
        } = self;
        let stored = &files[file];
        let previous = update::Previous {
            green: stored.green(),
            depth: stored.depth as usize,
            wide: &stored.wide,
        };
        let resolver = L::resolver(state, file);
        let Some(planned) = update::plan(kinds, &previous, resolver, &edit)? else {
            // The edit's old tree is not this file's: rebuild it.
            return self.replace(file, edit.language, edit.text, edit.tree);
        };
        // The new tokens' text goes into the cache or interner the file's versions share.
        let updated = L::build_update(state, file, planned);
        let status = FileStatus::of_with(&edit.tree, edit.language, status_model);
        files[file] = File::new(
            edit.language,
            status,
            updated.depth,
            updated.green,
            updated.wide,
        );
        Ok(())
    }

    fn query_status(&self, file: usize) -> Option<StatusStream<'_>> {
        let file = &self.files[file];
        Some(file.status.view_with(file.language, &self.status_model))
    }

    fn cursor(&self, file: usize) -> GreenCursor<'_, L> {
        GreenCursor::new(
            self.files[file].green(),
            L::resolver(&self.state, file),
            self.kinds.view(),
        )
    }

    fn reset_cursor<'a>(&'a self, cursor: &mut GreenCursor<'a, L>, file: usize) {
        cursor.reset(self.files[file].green(), L::resolver(&self.state, file));
    }

    fn seek<'a>(&'a self, cursor: &mut GreenCursor<'a, L>, file: usize, offset: u32) {
        let stored = &self.files[file];
        cursor.reset(stored.green(), L::resolver(&self.state, file));
        cursor.descend(offset, &stored.wide);
    }

    fn native_node_at_offset(&self, file: usize, offset: u32) -> Option<NodeInfo> {
        let stored = &self.files[file];
        let view = GreenFile {
            green: stored.green.as_ref()?,
            depth: stored.depth as usize,
            widest: stored.wide.widest(),
        };
        L::native_node_at_offset(&view, self.kinds.view(), offset)
    }
}
