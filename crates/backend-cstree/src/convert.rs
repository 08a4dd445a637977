//! Conversion of a tree-sitter tree into a cstree green tree, the check that cstree's cache gave back the tree
//! that was built, and the iterative helpers a deep green tree needs (text, drop).
//!
//! The walk uses a `tree_sitter::TreeCursor`, so it sees exactly the visible nodes verification compares
//! with, and is iterative. Each visible node with children becomes a green node; each visible node without
//! becomes a token whose text cstree interns. The bytes between visible nodes (whitespace, hidden tokens such as
//! Python's newlines, and the text before and after tree-sitter's root) become one TRIVIA token per gap, so
//! the green tree's text is the file byte for byte. The result is a FILE wrapper node: [leading trivia, root,
//! trailing trivia].
//!
//! **Why every file is checked after its build.** cstree's `NodeCache` deduplicates every node with at most 3
//! children, keyed by its `GreenNodeHead`: kind, text length and a *32-bit* hash of the children, compared by
//! those three fields only (cstree 0.14, `green/builder.rs`). Two different subtrees of the same kind and length
//! whose child hashes collide are one entry, and the second gets the first's children: a wrong tree, silently.
//! That is not far-fetched: the child hash is FxHash, and the unit test below meets a collision after about
//! 20,000 random subtrees of one shape (kind and length), fewer than a random 32-bit hash would need (about
//! 77,000 for even odds); a shared cache over a large corpus holds far more. So the conversion logs what it asked the builder for (one `u32` per start, token and
//! finish, freed before `add` returns), and [`check`] walks the finished green tree against that log and the
//! source; a difference is a [`BuildError::Limit`], never a wrong tree.
//!
//! cstree hashes a node from its children's heads, which are computed once, so unlike rowan's cache nothing is
//! rehashed recursively. But dropping recurses (see [`drop_deep`]), and a shared cache outlives the versions of
//! a file: once a version is dropped, the cache may be the last holder of its cached nodes, and drops them in
//! hash order, so a cached node may go last and free a whole chain below it in one recursive drop. So no
//! cached node is taller than [`MAX_CACHED_HEIGHT`]: a node that would be (with at most 3 children) is padded
//! with empty TRIVIA tokens to 4 children, which the cache does not take. Real code never gets there; the
//! padding is invisible to the cursor.

use crate::kinds::{Kind, KindTable, NodeKind, FILE, MAX_KIND, TRIVIA};
use cst_measure::tree_walk::CountedCursor;
use cst_measure::BuildError;
use cstree::build::{GreenNodeBuilder, NodeCache};
use cstree::green::GreenNode;
use cstree::interning::TokenInterner;
use cstree::util::NodeOrToken;

/// Green trees at most this deep are dropped by cstree's own (recursive) drop; deeper ones by [`drop_deep`].
pub(crate) const MAX_RECURSIVE_DROP_DEPTH: usize = 1_000;

/// Green nodes with more children than this get an index of their children's offsets (see `wide.rs`).
pub(crate) const WIDE: usize = 64;

/// Tallest subtree the node cache may hold (see the module doc); bounds the recursion of dropping it.
pub(crate) const MAX_CACHED_HEIGHT: u32 = 128;

/// Children above which cstree's `NodeCache` does not take a node (`CHILDREN_CACHE_THRESHOLD`).
pub(crate) const CACHED_CHILDREN: u32 = 3;

/// Event-log tag of a token (a start is the bare kind).
pub(crate) const TOKEN: u32 = 1 << 31;
/// Event-log entry closing a node.
pub(crate) const FINISH: u32 = u32::MAX;
const _: () = assert!(
    MAX_KIND | TOKEN < FINISH,
    "kinds leave room for the event tags"
);

/// A converted file, whole or (after an error) partial: every node started was finished, so the tree can be
/// dropped safely either way.
pub(crate) struct Converted<'i> {
    /// The FILE wrapper.
    pub(crate) green: GreenNode,
    /// The builder's own cache (with its interner) when it had one, `None` when it borrowed one.
    pub(crate) cache: Option<NodeCache<'i>>,
    /// Green nodes on the longest root-to-leaf path, wrapper included.
    pub(crate) depth: usize,
    /// Where the non-empty nodes with more than [`WIDE`] children are.
    pub(crate) wide: Vec<Wide>,
    /// What the builder was asked for: a kind per start, a kind | [`TOKEN`] per token, [`FINISH`] per finish.
    pub(crate) events: Vec<u32>,
    /// Why the conversion stopped early, if it did.
    pub(crate) error: Option<BuildError>,
}

/// A non-empty node with more than [`WIDE`] children, found by the conversion.
pub(crate) struct Wide {
    /// Child indices from the FILE wrapper down to it (so its depth below the wrapper is the path's length).
    pub(crate) path: Vec<u32>,
    /// Its byte range.
    pub(crate) start: u32,
    pub(crate) end: u32,
}

/// An open green node during conversion.
struct Open {
    /// Start byte of the tree-sitter node (0 for the wrapper).
    start: usize,
    /// End byte of the tree-sitter node (the file's length for the wrapper).
    end: usize,
    /// Its index among its parent's children.
    index: u32,
    children: u32,
    /// Height of its tallest child so far (a token's is 0).
    height: u32,
}

/// A `GreenNodeBuilder` plus the bookkeeping around it.
struct Sink<'c, 'i> {
    builder: GreenNodeBuilder<'c, 'i, Kind>,
    open: Vec<Open>,
    depth: usize,
    wide: Vec<Wide>,
    events: Vec<u32>,
}

impl Sink<'_, '_> {
    fn start(&mut self, kind: Kind, start: usize, end: usize) {
        self.builder.start_node(kind);
        self.events.push(kind.0);
        let index = self.open.last().map_or(0, |parent| parent.children);
        self.open.push(Open {
            start,
            end,
            index,
            children: 0,
            height: 0,
        });
        self.depth = self.depth.max(self.open.len());
    }

    fn token(&mut self, kind: Kind, text: &str) {
        self.builder.token(kind, text);
        self.events.push(kind.0 | TOKEN);
        self.child(0);
    }

    /// Trivia for a gap, if it is not empty.
    fn trivia(&mut self, text: &str) {
        if !text.is_empty() {
            self.token(TRIVIA, text);
        }
    }

    fn finish(&mut self) {
        let open = self.open.last().expect("finish matches a start");
        if open.children as usize > WIDE && open.end > open.start {
            // The wrapper is the root of the paths: skip its own (zero) index.
            self.wide.push(Wide {
                path: self.open[1..].iter().map(|open| open.index).collect(),
                start: open.start as u32,
                end: open.end as u32,
            });
        }
        let (height, children) = (open.height + 1, open.children);
        if height >= MAX_CACHED_HEIGHT {
            // Too tall for the cache: more children than it takes.
            for _ in children..=CACHED_CHILDREN {
                self.token(TRIVIA, "");
            }
        }
        self.open.pop();
        self.builder.finish_node();
        self.events.push(FINISH);
        self.child(height);
    }

    fn child(&mut self, height: u32) {
        if let Some(parent) = self.open.last_mut() {
            parent.children += 1;
            parent.height = parent.height.max(height);
        }
    }
}

/// Converts one file. `builder` is fresh (own cache and interner) or borrows the store's shared cache.
pub(crate) fn convert<'i>(
    builder: GreenNodeBuilder<'_, 'i, Kind>,
    kinds: &mut KindTable,
    source: &str,
    tree: &tree_sitter::Tree,
) -> Converted<'i> {
    let mut sink = Sink {
        builder,
        open: Vec::new(),
        depth: 0,
        wide: Vec::new(),
        events: Vec::new(),
    };
    sink.start(FILE, 0, source.len());
    let result = walk(&mut sink, kinds, source, tree);
    // Close whatever is open (everything, after an error) so the partial tree can be dropped safely.
    while !sink.open.is_empty() {
        sink.finish();
    }
    let (green, cache) = sink.builder.finish();
    Converted {
        green,
        cache,
        depth: sink.depth,
        wide: sink.wide,
        events: sink.events,
        error: result.err(),
    }
}

/// Emits the root and everything below it, then the trailing trivia, into the open FILE node.
fn walk(
    sink: &mut Sink<'_, '_>,
    kinds: &mut KindTable,
    source: &str,
    tree: &tree_sitter::Tree,
) -> Result<(), BuildError> {
    if u32::try_from(source.len()).is_err() {
        return Err(BuildError::Limit(format!(
            "file of {} bytes exceeds cstree's 32-bit text offsets",
            source.len()
        )));
    }
    let mut cursor = CountedCursor::new(tree);
    // Bytes of the file already emitted.
    let mut pos = 0;
    'nodes: loop {
        let node = cursor.node();
        let (start, end) = (node.start_byte(), node.end_byte());
        let limit = sink.open.last().expect("the wrapper is open").end;
        if start < pos || end < start || end > limit {
            return Err(BuildError::Limit(format!(
                "tree-sitter node {} at bytes {start}..{end} overlaps the text before it (up to {pos}) or \
                 leaves its parent (ending at {limit}); a green tree cannot hold it",
                node.kind()
            )));
        }
        let kind = kinds.encode(NodeKind {
            kind: node.kind_id(),
            field: cursor.field_id(),
            missing: node.is_missing(),
        })?;
        sink.trivia(slice(source, pos, start)?);
        if cursor.goto_first_child(node.child_count()) {
            sink.start(kind, start, end);
            pos = start;
            continue;
        }
        sink.token(kind, slice(source, start, end)?);
        pos = end;
        // Move on: the next sibling, or close parents until one has a next sibling.
        loop {
            if sink.open.len() == 1 {
                // Back at the root's level: only the trailing trivia is left.
                sink.trivia(slice(source, pos, source.len())?);
                return Ok(());
            }
            if cursor.goto_next_sibling() {
                continue 'nodes;
            }
            cursor.goto_parent();
            let parent_end = sink.open.last().expect("a parent is open").end;
            sink.trivia(slice(source, pos, parent_end)?);
            pos = parent_end;
            sink.finish();
        }
    }
}

/// `source[start..end]`, or an error if tree-sitter's offsets do not fall on character boundaries.
pub(crate) fn slice(source: &str, start: usize, end: usize) -> Result<&str, BuildError> {
    source.get(start..end).ok_or_else(|| {
        BuildError::Limit(format!(
            "tree-sitter byte range {start}..{end} does not fall on UTF-8 character boundaries"
        ))
    })
}

/// Checks that `green` is the tree the builder was asked for in `events`, its tokens holding `source` in order
/// (see the module doc: cstree's cache can hand back a different subtree on a 32-bit hash collision).
pub(crate) fn check(
    green: &GreenNode,
    events: &[u32],
    source: &str,
    resolver: &TokenInterner,
) -> Result<(), BuildError> {
    let mut expected = events.iter().copied();
    let mut same = |actual: u32| expected.next() == Some(actual);
    let mut pos = 0usize;
    let mut ok = same(green.kind().0);
    let mut stack = vec![green.children()];
    while ok {
        let Some(children) = stack.last_mut() else {
            break;
        };
        match children.next() {
            Some(NodeOrToken::Node(node)) => {
                ok = same(node.kind().0);
                stack.push(node.children());
            }
            Some(NodeOrToken::Token(token)) => {
                let text = token.text(resolver).unwrap_or_default();
                let end = pos + text.len();
                ok = same(token.kind().0 | TOKEN) && source.get(pos..end) == Some(text);
                pos = end;
            }
            None => {
                ok = same(FINISH);
                stack.pop();
            }
        }
    }
    if ok && expected.next().is_none() && pos == source.len() {
        Ok(())
    } else {
        Err(BuildError::Limit(format!(
            "cstree's NodeCache gave back a different subtree near byte {pos} (same kind, text length and 32-bit \
             child hash: a hash collision), so the green tree is not this file's; refused rather than kept wrong"
        )))
    }
}

/// Appends the text of `node` to `out` with an explicit stack (cstree's `Display` for red nodes recurses).
pub(crate) fn write_text(node: &GreenNode, resolver: &TokenInterner, out: &mut String) {
    let mut stack = vec![node.children()];
    while let Some(children) = stack.last_mut() {
        match children.next() {
            Some(NodeOrToken::Token(token)) => {
                out.push_str(token.text(resolver).unwrap_or_default())
            }
            Some(NodeOrToken::Node(node)) => stack.push(node.children()),
            None => {
                stack.pop();
            }
        }
    }
}

/// Drops a green tree of any depth without recursing: cstree's drop (triomphe's `ThinArc`) frees a node's
/// children from inside the node's own drop, one stack frame per level. Holding a clone of every node (parents
/// before children) and releasing them front to back means that whenever a node's last handle goes, each of
/// its children still has a later clone, so every drop frees exactly one node.
pub(crate) fn drop_deep(green: GreenNode) {
    let mut clones = Vec::new();
    let mut stack: Vec<&GreenNode> = vec![&green];
    while let Some(node) = stack.pop() {
        clones.push(node.clone());
        stack.extend(node.children().filter_map(NodeOrToken::into_node));
    }
    drop(stack);
    drop(green);
    for clone in clones {
        drop(clone);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds, with `cache`, the FILE-like tree `1[2[5[3:a 4:b] 3:c]]` and returns it with its event log and text.
    fn build(
        cache: &mut NodeCache<'static>,
        a: &str,
        b: &str,
        c: &str,
    ) -> (GreenNode, Vec<u32>, String) {
        let mut builder: GreenNodeBuilder<'_, 'static, Kind> = GreenNodeBuilder::with_cache(cache);
        builder.start_node(Kind(1));
        builder.start_node(Kind(2));
        builder.start_node(Kind(5));
        builder.token(Kind(3), a);
        builder.token(Kind(4), b);
        builder.finish_node();
        builder.token(Kind(3), c);
        builder.finish_node();
        builder.finish_node();
        let (green, _) = builder.finish();
        let events = vec![
            1,
            2,
            5,
            3 | TOKEN,
            4 | TOKEN,
            FINISH,
            3 | TOKEN,
            FINISH,
            FINISH,
        ];
        (green, events, format!("{a}{b}{c}"))
    }

    /// cstree's cache does conflate different subtrees of one kind and length (here after about 20,000 of
    /// them), and the check refuses the tree it gives back then.
    #[test]
    fn the_check_catches_the_caches_hash_collisions() {
        let mut cache = NodeCache::new();
        let mut state: u64 = 12345;
        let mut random = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            format!("{:03}", state % 130)
        };
        for _ in 0..100_000 {
            let (a, b, c) = (random(), random(), random());
            let (green, events, text) = build(&mut cache, &a, &b, &c);
            let mut built = String::new();
            write_text(&green, cache.interner(), &mut built);
            let checked = check(&green, &events, &text, cache.interner());
            if built == text {
                assert_eq!(checked, Ok(()));
                // A log or a text that is not the tree's is refused too.
                assert!(check(&green, &events[1..], &text, cache.interner()).is_err());
                assert!(check(&green, &events, &text[1..], cache.interner()).is_err());
            } else {
                assert!(
                    matches!(checked, Err(BuildError::Limit(m)) if m.contains("hash collision"))
                );
                return;
            }
        }
        panic!("no collision in 100,000 subtrees: has cstree's NodeCache changed its key?");
    }
}
