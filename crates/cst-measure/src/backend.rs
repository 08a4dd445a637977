//! The backend trait: what a CST storage strategy implements to be measured, verified and queried.
//!
//! A backend is a [`Backend`] type whose [`CstStore`] holds the CSTs of many files. The harness parses each file
//! with tree-sitter and hands source and tree to [`CstStore::add`]; the store keeps whatever it needs to give
//! back the file's text and what tree-sitter's tree gives back for every visible node (kind, field in its
//! parent, byte range, MISSING flag, and the tree's shape), and nothing else. Every query goes through a
//! [`CstCursor`], the same three moves tree-sitter's `TreeCursor` offers, so every operation in [`crate::ops`]
//! runs the same generic code against every backend. A full walk goes through [`CstStore::fold_preorder`],
//! every node in preorder with its depth: a walk of the cursor unless the backend lists its nodes faster.
//!
//! Editing goes through [`CstStore::update`], which replaces one file's CST with its next version (its default
//! rebuilds the file through [`CstStore::replace`]; a backend that can share what did not change overrides it),
//! and [`CstStore::version`], a handle on one file's CST as it is now that stays alive apart from the store (an
//! undo history, a snapshot a request still reads), sharing with the store what the backend can share.
//!
//! Lookups by offset go through [`CstStore::seek`], which moves a cursor the caller already has (so no backend
//! allocates a cursor per lookup where another does not). Its default is the generic descent
//! [`descend_to_offset`], linear in the siblings passed at each level; a backend with a faster way (an index
//! over wide nodes, a binary search) overrides it and says so in [`Backend::LOOKUP`].

use crate::Language;
use std::borrow::Cow;
use thiserror::Error;

/// One visible tree-sitter node, as every backend must reproduce it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub struct NodeInfo {
    /// tree-sitter's kind id (`Node::kind_id`) in the file's language; `u16::MAX` is `ERROR`.
    pub kind: u16,
    /// tree-sitter's field id of this node in its parent (`TreeCursor::field_id`: `name`, `body`, `left`, ...,
    /// inherited through hidden parents as the cursor reports it); 0 when the node has no field.
    pub field: u16,
    /// Start byte offset in the file.
    pub start: u32,
    /// End byte offset in the file (exclusive).
    pub end: u32,
    /// Whether tree-sitter inserted this zero-width node during error recovery (`Node::is_missing`).
    pub missing: bool,
}

impl NodeInfo {
    /// Reads a tree-sitter node whose field in its parent is `field` (a `Node` alone does not know it).
    pub fn of(node: tree_sitter::Node<'_>, field: u16) -> NodeInfo {
        NodeInfo {
            kind: node.kind_id(),
            field,
            start: node.start_byte() as u32,
            end: node.end_byte() as u32,
            missing: node.is_missing(),
        }
    }
}

/// Why a backend could not hold a file. The harness reports it; it never turns into a wrong tree.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum BuildError {
    /// The file exceeds a limit of the representation (a field width, a kind-id space, ...).
    #[error("{0}")]
    Limit(String),
}

/// A storage strategy for CSTs. Register it in the `backends` crate to have it measured and tested.
pub trait Backend: 'static {
    /// Row name in tables and JSON.
    const NAME: &'static str;
    /// One line saying what this row's retained bytes include.
    const RETAINS: &'static str;
    /// Whether the retained bytes include the file text (as a copy of the source or inside the tree).
    const INCLUDES_SOURCE: bool;
    /// Whether the store shares data between files, so per-file measurements cannot represent it.
    const SHARES_ACROSS_FILES: bool = false;
    /// One line saying how [`CstStore::seek`] finds the node at an offset, for the tables.
    const LOOKUP: &'static str =
        "the generic descent (first child, then next sibling until the one that \
         reaches the offset, at every level): linear in the siblings passed";
    /// One line saying what [`CstStore::update`] does and what a [`CstStore::version`] shares, for the tables.
    const UPDATE: &'static str =
        "rebuilds the edited file from its new tree (the default update); a version is a copy";
    /// One line saying which read-only tables the backend reads beyond the grammars' own (trained models,
    /// code tables compiled into the binary), for the memory table; "none" for a backend that reads none.
    const STATIC_TABLES: &'static str = "none";
    /// The bytes of those tables that a process holding files of `languages` needs, measured from the tables
    /// themselves (their sizes in the binary). Counted with the store in the verdict.
    fn static_bytes(_languages: &[Language]) -> u64 {
        0
    }
    /// The corpus-wide store.
    type Store: CstStore;
    /// An empty store.
    fn new_store() -> Self::Store;

    /// The version of this backend's saved form ([`crate::saved`]), or `None` for a backend without one (its
    /// stores come back from a restart by parsing and converting every file again).
    const SAVED_FORMAT: Option<u32> = None;
    /// A hash of the compiled-in tables the saved form's bytes depend on (trained models, code tables): a
    /// file saved by a build with other tables is refused as stale. 0 for a backend that reads none.
    fn saved_tables_hash() -> u64 {
        0
    }
    /// Adds the store's own sections to what [`crate::saved::save`] writes (borrowing its buffers where it
    /// can). The default, for a backend without a saved form, refuses.
    fn save<'s>(
        _store: &'s Self::Store,
        _sections: &mut crate::saved::Sections<'s>,
    ) -> Result<(), String> {
        Err(format!("backend {} has no saved form", Self::NAME))
    }
    /// Builds a store from a file [`crate::saved::open`] has checked (header, checksums, files), reading its
    /// sections in place where it can; it checks their structure before trusting them, and says what is
    /// wrong otherwise. The default, for a backend without a saved form, refuses.
    fn open(_opened: &crate::saved::Opened) -> Result<Self::Store, String> {
        Err(format!("backend {} has no saved form", Self::NAME))
    }
}

/// The CSTs of many files, addressed by the index [`CstStore::add`] gave them (0, 1, 2, ...).
pub trait CstStore {
    /// Walks one file's tree.
    type Cursor<'a>: CstCursor
    where
        Self: 'a;

    /// Takes in one file: its text and tree-sitter's tree for it (the store may keep or drop the tree).
    fn add(
        &mut self,
        language: Language,
        source: &str,
        tree: tree_sitter::Tree,
    ) -> Result<(), BuildError>;

    /// Called once after the last `add` (and counted in build time): compaction, shrinking buffers.
    fn finish(&mut self) {}

    /// Number of files held.
    fn len(&self) -> usize;

    /// Whether no file is held.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The file's language.
    fn language(&self, file: usize) -> Language;

    /// The file's text, byte for byte.
    fn text(&self, file: usize) -> Cow<'_, str>;

    /// A cursor on the file's root node (tree-sitter's root, not any wrapper the backend adds).
    fn cursor(&self, file: usize) -> Self::Cursor<'_>;

    /// Puts `cursor` (on any file of this store) on the root of `file`, reusing the memory it holds. The default
    /// makes a new cursor; backends whose cursors own a stack override it to keep that stack.
    fn reset_cursor<'a>(&'a self, cursor: &mut Self::Cursor<'a>, file: usize) {
        *cursor = self.cursor(file);
    }

    /// Moves `cursor` to the deepest visible node of `file` containing `offset`, chosen as tree-sitter's
    /// `Node::descendant_for_byte_range(offset, offset)` chooses it among visible nodes (see
    /// [`descend_to_offset`]), with its ancestors reachable by [`CstCursor::goto_parent`]. The default resets
    /// the cursor and applies [`descend_to_offset`]; an override must give the same node and ancestors.
    fn seek<'a>(&'a self, cursor: &mut Self::Cursor<'a>, file: usize, offset: u32) {
        self.reset_cursor(cursor, file);
        descend_to_offset(cursor, offset);
    }

    /// Folds every visible node of `file`, in preorder, with its depth (the root's is 0), into `init`: the
    /// nodes a cursor's preorder walk from the root meets, in that order, like [`Iterator::fold`] (the
    /// accumulator is passed along by value, so that it can stay in registers). What a full walk (an
    /// indexer's pass over every node) goes through. The default walks a cursor ([`fold_preorder_of`]); a
    /// backend that can list its nodes faster in order overrides it, and verification checks the override
    /// against tree-sitter's tree as it checks the cursor.
    fn fold_preorder<A>(&self, file: usize, init: A, f: impl FnMut(A, u32, NodeInfo) -> A) -> A {
        fold_preorder_of(&mut self.cursor(file), init, f)
    }

    /// What tree-sitter's query cursor sees of file `file`'s visible nodes beyond a walk (query field,
    /// hidden supertypes, extra bit): the companion of [`crate::query_status`], which a store builds in `add`
    /// and `replace`/`update` from the tree it is given (and keeps in its versions) for queries to read.
    /// Verification checks it against tree-sitter's tree. The default, `None`, is a store that keeps none:
    /// verification reports it as not kept, and queries cannot be answered on it.
    fn query_status(&self, _file: usize) -> Option<crate::query_status::StatusStream<'_>> {
        None
    }

    /// A backend's own lookup for the node at `offset`, when it has one that does not follow the rule above,
    /// so that it can be timed for reference. tree-sitter's `descendant_for_byte_range` is one: it also steps
    /// into hidden zero-width tokens (TypeScript's automatic semicolons, Python's indents) and then answers
    /// with their visible parent, which no store of visible nodes can reproduce.
    fn native_node_at_offset(&self, _file: usize, _offset: u32) -> Option<NodeInfo> {
        None
    }

    /// One file's CST at one moment, kept alive apart from the store.
    type Version;

    /// File `file`'s CST as it is now: it stays as it is whatever the store does next.
    fn version(&self, file: usize) -> Self::Version;

    /// Makes `version` (taken from file `file` of this store) the file's current CST again.
    fn restore(&mut self, file: usize, version: &Self::Version);

    /// Replaces file `file`'s CST by one built from `source` and its `tree`, as `add` builds a new file's. On
    /// an error the file keeps its previous CST.
    fn replace(
        &mut self,
        file: usize,
        language: Language,
        source: &str,
        tree: tree_sitter::Tree,
    ) -> Result<(), BuildError>;

    /// Replaces file `file`'s CST with its next version after `edit`. The default rebuilds it from the new tree
    /// through [`CstStore::replace`]; a backend that can rebuild only what changed, and share the rest with the
    /// previous version, overrides it. On an error the file keeps its previous CST.
    fn update(&mut self, file: usize, edit: FileEdit<'_>) -> Result<(), BuildError> {
        self.replace(file, edit.language, edit.text, edit.tree)
    }
}

/// What one edit of a file gives a store: the new text and tree, and what tree-sitter knows of the change.
pub struct FileEdit<'a> {
    pub language: Language,
    /// The text before the edit.
    pub old_text: &'a str,
    /// The text after it.
    pub text: &'a str,
    /// The edit as tree-sitter was told it (`Tree::edit`).
    pub input: tree_sitter::InputEdit,
    /// The file's previous tree, edited, which the new one was parsed from.
    pub old_tree: &'a tree_sitter::Tree,
    /// The new tree, which shares its unchanged subtrees with `old_tree`.
    pub tree: tree_sitter::Tree,
    /// Ranges of the new text whose syntactic structure changed (`old_tree.changed_ranges(&tree)`). A token
    /// whose text changed without changing the structure (a rename) lies in `input`'s range, maybe not here.
    pub changed: &'a [tree_sitter::Range],
}

impl<'a> FileEdit<'a> {
    /// What an update that takes unchanged subtrees from the previous version needs to tell them: the edit,
    /// tree-sitter's changed ranges, and the nodes holding syntax errors in the new tree and in the old one.
    pub fn unchanged(&self) -> Unchanged<'a> {
        let mut errors = Vec::new();
        for tree in [&self.tree, self.old_tree] {
            error_ranges(tree.root_node(), ERROR_DEPTH, &mut errors);
        }
        Unchanged {
            input: self.input,
            changed: self.changed,
            errors,
        }
    }
}

/// Tells which subtrees of an edited file's new tree are as they were (see [`Unchanged::old_range`]).
pub struct Unchanged<'a> {
    input: tree_sitter::InputEdit,
    changed: &'a [tree_sitter::Range],
    /// Ranges in the new text of the nodes holding syntax errors (see [`error_ranges`]).
    errors: Vec<(usize, usize)>,
}

impl Unchanged<'_> {
    /// The range in the previous text of the new tree's node at `start..end`, if the node lies outside the
    /// edit, every changed range and every node holding a syntax error, by a byte (so that nothing touching
    /// them is taken). Around syntax errors tree-sitter's changed ranges can miss a change (a MISSING node
    /// appearing or going, a token taking another kind: the compare run's verification caught both), hence
    /// the errors.
    pub fn old_range(&self, start: usize, end: usize) -> Option<(usize, usize)> {
        let input = &self.input;
        let old = if end < input.start_byte {
            (start, end)
        } else if start > input.new_end_byte {
            (
                start - input.new_end_byte + input.old_end_byte,
                end - input.new_end_byte + input.old_end_byte,
            )
        } else {
            return None;
        };
        let touched = self
            .changed
            .iter()
            .map(|r| (r.start_byte, r.end_byte))
            .chain(self.errors.iter().copied())
            .any(|(from, to)| start <= to && end >= from);
        (!touched).then_some(old)
    }
}

/// How deep below the root [`Unchanged`] looks for the nodes holding syntax errors (public so that the
/// descriptions of the backends that rely on it can be tied to it).
pub const ERROR_DEPTH: usize = 8;

/// Adds to `out` the ranges (in the new text: an edited old tree's are) of the nodes holding the syntax errors
/// below `node`: its descendants with an error down to `depth` levels, or a shallower one that is itself an
/// ERROR, MISSING or has no child with the error. Only children of nodes with an error are visited.
fn error_ranges(node: tree_sitter::Node<'_>, depth: usize, out: &mut Vec<(usize, usize)>) {
    if !node.has_error() {
        return;
    }
    let mut cursor = node.walk();
    let mut inner = Vec::new();
    if depth > 0 && !node.is_error() && !node.is_missing() && cursor.goto_first_child() {
        loop {
            if cursor.node().has_error() {
                inner.push(cursor.node());
            }
            if !cursor.goto_next_sibling() {
                break;
            }
        }
    }
    if inner.is_empty() {
        out.push((node.start_byte(), node.end_byte()));
    }
    for child in inner {
        error_ranges(child, depth - 1, out);
    }
}

/// Moves through one file's tree like tree-sitter's `TreeCursor`. Moves return `false` and stay put when the
/// node they look for does not exist.
pub trait CstCursor {
    /// The node under the cursor.
    fn node(&self) -> NodeInfo;
    /// The kind of the node under the cursor: `node().kind`, for operations that need nothing else (a
    /// backend overrides it where the rest of [`NodeInfo`] costs more to read).
    fn kind(&self) -> u16 {
        self.node().kind
    }
    /// The text of the node under the cursor.
    fn text(&self) -> Cow<'_, str>;
    /// Moves to the first visible child.
    fn goto_first_child(&mut self) -> bool;
    /// Moves to the next visible sibling (never past the node the cursor started on).
    fn goto_next_sibling(&mut self) -> bool;
    /// Moves to the visible parent (never above the node the cursor started on).
    fn goto_parent(&mut self) -> bool;
}

/// Moves `cursor` to the next node in preorder, keeping `depth` (the cursor's levels below where it started);
/// `false`, with the cursor back where it started, after the last node. Iterative: any depth is safe.
pub fn next_in_preorder<C: CstCursor + ?Sized>(cursor: &mut C, depth: &mut u32) -> bool {
    if cursor.goto_first_child() {
        *depth += 1;
        return true;
    }
    loop {
        if cursor.goto_next_sibling() {
            return true;
        }
        if !cursor.goto_parent() {
            return false;
        }
        *depth = depth.wrapping_sub(1);
    }
}

/// Folds the cursor's node and each node below it, in preorder, with its depth below the cursor's node:
/// the default [`CstStore::fold_preorder`].
pub fn fold_preorder_of<C: CstCursor + ?Sized, A>(
    cursor: &mut C,
    init: A,
    mut f: impl FnMut(A, u32, NodeInfo) -> A,
) -> A {
    let (mut acc, mut depth) = (init, 0);
    loop {
        acc = f(acc, depth, cursor.node());
        if !next_in_preorder(cursor, &mut depth) {
            return acc;
        }
    }
}

/// A cursor on `file` moved to `offset` by [`CstStore::seek`]: for one-off lookups (loops reuse one cursor).
pub fn cursor_at<S: CstStore>(store: &S, file: usize, offset: u32) -> S::Cursor<'_> {
    let mut cursor = store.cursor(file);
    store.seek(&mut cursor, file, offset);
    cursor
}

/// Descends from the cursor's node to the deepest visible node containing `offset`, applying tree-sitter's
/// rule from `ts_node__descendant_for_byte_range` with an empty range at `offset` to the visible nodes: at
/// each level take the first child whose end reaches `offset` (and passes it, unless the child is empty), and
/// stop if that child starts after `offset`. (tree-sitter applies it to hidden nodes too; see
/// [`CstStore::native_node_at_offset`].)
pub fn descend_to_offset<C: CstCursor + ?Sized>(cursor: &mut C, offset: u32) {
    'level: while cursor.goto_first_child() {
        loop {
            let child = cursor.node();
            let reaches = child.end >= offset && (child.end > offset || child.start == child.end);
            if reaches {
                if child.start > offset {
                    break;
                }
                continue 'level;
            }
            if !cursor.goto_next_sibling() {
                break;
            }
        }
        cursor.goto_parent();
        return;
    }
}

#[cfg(test)]
mod tests {
    use super::{error_ranges, ERROR_DEPTH};
    use crate::Language;

    #[test]
    fn error_ranges_are_inside_the_broken_definition() {
        let line = |i: usize| format!("def f{i}(a, b):\n    return g(a, [b, {i}]) + h(b)\n");
        let mut text: String = (0..5).map(line).collect();
        let at = text.len();
        let broken = "def broken(:\n    pass\n";
        text.push_str(broken);
        text.extend((5..10).map(line));
        let tree = Language::Python.parse(&text);
        assert!(tree.root_node().has_error());
        let mut ranges = Vec::new();
        error_ranges(tree.root_node(), ERROR_DEPTH, &mut ranges);
        assert!(!ranges.is_empty());
        // Inside the broken definition, not the whole module.
        for &(start, end) in &ranges {
            assert!(start >= at && end <= at + broken.len(), "{start}..{end}");
        }
        let mut none = Vec::new();
        error_ranges(
            Language::Python.parse("x = 1\n").root_node(),
            ERROR_DEPTH,
            &mut none,
        );
        assert!(none.is_empty());
    }
}
