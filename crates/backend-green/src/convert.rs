//! Conversion of a tree-sitter tree into a green tree through the library's builder, and the iterative helpers
//! a deep green tree needs (text, drop).
//!
//! The walk uses a `tree_sitter::TreeCursor`, so it sees exactly the visible nodes verification compares
//! with, and is iterative. Each visible node with children becomes a green node; each visible node without
//! becomes a token holding (rowan) or interning (cstree) its text. The bytes between visible nodes
//! (whitespace, hidden tokens such as Python's newlines, and the text before and after tree-sitter's root)
//! become one TRIVIA token per gap, so the green tree's text is the file byte for byte. The result is a FILE
//! wrapper node: [leading trivia, root, trailing trivia]. It costs one builder call per visible node and gap,
//! and a 32-byte frame per open node.
//!
//! **Bounding what a cache holds.** Both libraries' `NodeCache`s deduplicate nodes of at most 3 children, and
//! both recurse over what they hold: rowan recomputes every interned node's hash *recursively* when its table
//! grows (and drops it recursively), and cstree's drop recurses, so a cache that outlives a file's versions
//! may free a whole cached chain in one recursive drop. An interned chain 100,000 deep (nested parentheses:
//! each level is `(`, expr, `)`) would overflow the stack there. So the conversion tracks the height each node
//! would have as a cached subtree, by the library's [`CacheRule`], and pads a node reaching
//! [`MAX_CACHED_HEIGHT`] with empty TRIVIA tokens up to 4 children, which no cache takes. Real code never gets
//! there; the padding is invisible to the cursor.
//!
//! **The build log.** A library whose cache can hand back a different subtree ([`Library::CHECK_BUILD`]:
//! cstree, whose cache compares nodes by a 32-bit hash) gets a log of what the builder was asked for (one `u32`
//! per start, token and finish, freed with the conversion's result), which its check walks the finished tree
//! against; rowan's builder needs none and gets no log.

use crate::kinds::{KindTable, NodeKind, FILE, TRIVIA};
use crate::{Element, Library};
use cst_measure::tree_walk::CountedCursor;
use cst_measure::BuildError;

/// Tallest cached subtree allowed (see the module doc); bounds the libraries' recursive hashing and dropping.
pub const MAX_CACHED_HEIGHT: u32 = 128;

/// Green trees at most this deep are dropped by the library's own (recursive) drop; deeper ones by
/// [`drop_deep`].
pub const MAX_RECURSIVE_DROP_DEPTH: usize = 1_000;

/// Green nodes with more children than this get an index of their children's offsets (see `wide.rs`).
pub const WIDE: usize = 64;

/// Children above which a `NodeCache` does not take a node (cstree's `CHILDREN_CACHE_THRESHOLD`, rowan's 3).
const CACHED_CHILDREN: u32 = 3;

/// Build-log tag of a token (a start is the bare kind).
pub const TOKEN: u32 = 1 << 31;
/// Build-log entry closing a node.
pub const FINISH: u32 = u32::MAX;

/// Which nodes a library's `NodeCache` takes, for the conversion's height bound.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum CacheRule {
    /// rowan: a node of at most 3 children, all of them interned (its height counts interned levels only).
    AllChildrenCached,
    /// cstree: every node of at most 3 children (its height counts every level below it).
    AtMostThreeChildren,
}

/// What a library's green tree builder is asked for: the conversion and the update drive it through this.
pub trait Builder<L: Library> {
    /// What finishing the builder gives: the one node built, and the builder's own cache if the library hands
    /// it back.
    type Finished;
    fn start_node(&mut self, kind: u32);
    fn token(&mut self, kind: u32, text: &str);
    fn finish_node(&mut self);
    fn finish(self) -> Self::Finished;
    /// The node of what [`Builder::finish`] gave (a cache that came with it dropped).
    fn tree(finished: Self::Finished) -> L::Node;
}

/// What a conversion gave besides the finished builder: whole or, after an error, partial, but every node
/// started was finished, so the tree can be dropped safely either way.
pub struct Converted {
    /// Green nodes on the longest root-to-leaf path, wrapper included.
    pub depth: usize,
    /// Where the non-empty nodes with more than [`WIDE`] children are.
    pub wide: Vec<Wide>,
    /// What the builder was asked for, with [`Library::CHECK_BUILD`] (empty otherwise): a kind per start, a kind
    /// | [`TOKEN`] per token, [`FINISH`] per finish.
    pub events: Vec<u32>,
    /// Why the conversion stopped early, if it did.
    pub error: Option<BuildError>,
}

/// A non-empty node with more than [`WIDE`] children, found by the conversion.
pub struct Wide {
    /// Child indices from the FILE wrapper down to it (so its depth below the wrapper is the path's length).
    pub path: Vec<u32>,
    /// Its byte range.
    pub start: u32,
    pub end: u32,
}

/// An open green node during conversion (32 bytes).
struct Open {
    /// Start byte of the tree-sitter node (0 for the wrapper).
    start: usize,
    /// End byte of the tree-sitter node (the file's length for the wrapper).
    end: usize,
    /// Its index among its parent's children.
    index: u32,
    children: u32,
    /// Height of its tallest child as a cached subtree so far (a token's is 0); `None` once, by
    /// [`CacheRule::AllChildrenCached`], a child is not cached.
    height: Option<u32>,
}

/// A builder plus the bookkeeping around it.
struct Sink<L: Library, B> {
    builder: B,
    open: Vec<Open>,
    depth: usize,
    wide: Vec<Wide>,
    events: Vec<u32>,
    _library: std::marker::PhantomData<L>,
}

impl<L: Library, B: Builder<L>> Sink<L, B> {
    fn log(&mut self, event: u32) {
        if L::CHECK_BUILD {
            self.events.push(event);
        }
    }

    fn start(&mut self, kind: u32, start: usize, end: usize) {
        self.builder.start_node(kind);
        self.log(kind);
        let index = self.open.last().map_or(0, |parent| parent.children);
        self.open.push(Open {
            start,
            end,
            index,
            children: 0,
            height: Some(0),
        });
        self.depth = self.depth.max(self.open.len());
    }

    fn token(&mut self, kind: u32, text: &str) {
        self.builder.token(kind, text);
        self.log(kind | TOKEN);
        self.child(Some(0));
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
        let children = open.children;
        let height = match L::CACHE {
            CacheRule::AllChildrenCached => open.height.filter(|_| children <= CACHED_CHILDREN),
            CacheRule::AtMostThreeChildren => open.height,
        }
        .map(|h| h + 1);
        let height = match height {
            Some(h) if h >= MAX_CACHED_HEIGHT => {
                // Too tall for the cache: more children than it takes.
                for _ in children..=CACHED_CHILDREN {
                    self.token(TRIVIA, "");
                }
                height.filter(|_| L::CACHE == CacheRule::AtMostThreeChildren)
            }
            _ => height,
        };
        self.open.pop();
        self.builder.finish_node();
        self.log(FINISH);
        self.child(height);
    }

    fn child(&mut self, height: Option<u32>) {
        if let Some(parent) = self.open.last_mut() {
            parent.children += 1;
            parent.height = parent.height.zip(height).map(|(a, b)| a.max(b));
        }
    }
}

/// An error unless `source` fits the libraries' 32-bit text offsets.
pub fn check_len<L: Library>(source: &str) -> Result<(), BuildError> {
    match u32::try_from(source.len()) {
        Ok(_) => Ok(()),
        Err(_) => Err(BuildError::Limit(format!(
            "file of {} bytes exceeds {}'s 32-bit text offsets",
            source.len(),
            L::NAME
        ))),
    }
}

/// Converts one file with `builder` (fresh, or borrowing the store's cache), and finishes it: its FILE wrapper.
pub fn convert<L: Library, B: Builder<L>>(
    builder: B,
    kinds: &mut KindTable<L::Kind>,
    source: &str,
    tree: &tree_sitter::Tree,
) -> (B::Finished, Converted) {
    let mut sink = Sink {
        builder,
        open: Vec::new(),
        depth: 0,
        wide: Vec::new(),
        events: Vec::new(),
        _library: std::marker::PhantomData::<L>,
    };
    sink.start(FILE, 0, source.len());
    let result = check_len::<L>(source).and_then(|()| walk(&mut sink, kinds, source, tree));
    // Close whatever is open (everything, after an error) so the partial tree can be dropped safely.
    while !sink.open.is_empty() {
        sink.finish();
    }
    let finished = sink.builder.finish();
    let converted = Converted {
        depth: sink.depth,
        wide: sink.wide,
        events: sink.events,
        error: result.err(),
    };
    (finished, converted)
}

/// Emits the root and everything below it, then the trailing trivia, into the open FILE node.
fn walk<L: Library, B: Builder<L>>(
    sink: &mut Sink<L, B>,
    kinds: &mut KindTable<L::Kind>,
    source: &str,
    tree: &tree_sitter::Tree,
) -> Result<(), BuildError> {
    let mut cursor = CountedCursor::new(tree);
    // Bytes of the file already emitted.
    let mut pos = 0;
    'nodes: loop {
        let node = cursor.node();
        let (start, end) = (node.start_byte(), node.end_byte());
        let limit = sink.open.last().expect("the wrapper is open").end;
        check_nesting(node, pos, limit)?;
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

/// An error unless `node` starts at or after `pos` (what was emitted before it) and ends inside its parent,
/// which ends at `limit`.
pub(crate) fn check_nesting(
    node: tree_sitter::Node<'_>,
    pos: usize,
    limit: usize,
) -> Result<(), BuildError> {
    let (start, end) = (node.start_byte(), node.end_byte());
    if start < pos || end < start || end > limit {
        return Err(BuildError::Limit(format!(
            "tree-sitter node {} at bytes {start}..{end} overlaps the text before it (up to {pos}) or leaves its \
             parent (ending at {limit}); a green tree cannot hold it",
            node.kind()
        )));
    }
    Ok(())
}

/// `source[start..end]`, or an error if tree-sitter's offsets do not fall on character boundaries.
pub fn slice(source: &str, start: usize, end: usize) -> Result<&str, BuildError> {
    source.get(start..end).ok_or_else(|| {
        BuildError::Limit(format!(
            "tree-sitter byte range {start}..{end} does not fall on UTF-8 character boundaries"
        ))
    })
}

/// Appends the text of `node` to `out` with an explicit stack (the libraries' `Display` recurses).
pub fn write_text<L: Library>(node: &L::NodeData, resolver: &L::Resolver, out: &mut String) {
    let mut stack = vec![L::children(node)];
    while let Some(children) = stack.last_mut() {
        match children.next().map(L::element) {
            Some(Element::Token(token)) => out.push_str(L::token_text(token, resolver)),
            Some(Element::Node(node)) => stack.push(L::children(node)),
            None => {
                stack.pop();
            }
        }
    }
}

/// Drops a green tree of any depth without recursing: both libraries' drops free a node's children from
/// inside the node's own drop, one stack frame per level. Holding a clone of every node (parents before
/// children) and releasing them front to back means that whenever a node's last handle goes, each of its
/// children still has a later clone, so every drop frees exactly one node.
pub fn drop_deep<L: Library>(green: L::Node) {
    let mut clones = Vec::new();
    let mut stack: Vec<&L::NodeData> = vec![L::data(&green)];
    while let Some(node) = stack.pop() {
        clones.push(L::to_owned(node));
        stack.extend(L::children(node).map(L::element).filter_map(Element::node));
    }
    drop(stack);
    drop(green);
    for clone in clones {
        drop(clone);
    }
}
