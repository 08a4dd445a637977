//! Conversion of a tree-sitter tree into a rowan green tree, and the iterative helpers a deep green tree needs
//! (text, drop).
//!
//! The walk uses a `tree_sitter::TreeCursor`, so it sees exactly the visible nodes verification compares
//! with, and is iterative. Each visible node with children becomes a green node; each visible node without
//! becomes a token holding its text. The bytes between visible nodes (whitespace, hidden tokens such as
//! Python's newlines, and the text before and after tree-sitter's root) become one TRIVIA token per gap, so
//! the green tree's text is the file byte for byte. The result is a FILE wrapper node: [leading trivia, root,
//! trailing trivia].
//!
//! rowan's `NodeCache` interns a node only when it has at most 3 children that are all interned, and when its
//! hash table grows it recomputes every interned node's hash *recursively*. An interned chain 100,000 deep
//! (nested parentheses: each level is `(`, expr, `)`) would overflow the stack there, and again when the
//! cache drops it. So the conversion tracks the height each node would have as an interned subtree and pads
//! a node reaching [`MAX_INTERNED_HEIGHT`] with empty TRIVIA tokens up to 4 children: that node, and hence
//! every ancestor, is not interned. Real code never gets there; the padding is invisible to the cursor.

use crate::kinds::{KindTable, NodeKind, FILE, TRIVIA};
use cst_measure::tree_walk::CountedCursor;
use cst_measure::BuildError;
use rowan::{GreenNode, GreenNodeBuilder, GreenNodeData, NodeOrToken, SyntaxKind};

/// Tallest interned subtree allowed (see the module doc); bounds rowan's recursive hashing and dropping.
pub(crate) const MAX_INTERNED_HEIGHT: u32 = 128;

/// Green trees at most this deep are dropped by rowan's own (recursive) drop; deeper ones by [`drop_deep`].
pub(crate) const MAX_RECURSIVE_DROP_DEPTH: usize = 1_000;

/// Green nodes with more children than this get an index of their children's offsets (see `wide.rs`).
pub(crate) const WIDE: u32 = 64;

/// A converted file.
pub(crate) struct Converted {
    /// The FILE wrapper.
    pub(crate) green: GreenNode,
    /// Green nodes on the longest root-to-leaf path, wrapper included.
    pub(crate) depth: usize,
    /// Where the non-empty nodes with more than [`WIDE`] children are.
    pub(crate) wide: Vec<Wide>,
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
    /// Height this node would have as an interned subtree, so far; `None` once a child is not interned.
    height: Option<u32>,
}

/// A `GreenNodeBuilder` plus the bookkeeping for interned heights.
struct Sink<'c> {
    builder: GreenNodeBuilder<'c>,
    open: Vec<Open>,
    depth: usize,
    wide: Vec<Wide>,
}

impl Sink<'_> {
    fn start(&mut self, kind: SyntaxKind, start: usize, end: usize) {
        self.builder.start_node(kind);
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

    fn token(&mut self, kind: SyntaxKind, text: &str) {
        self.builder.token(kind, text);
        self.child(Some(0));
    }

    /// Trivia for a gap, if it is not empty.
    fn trivia(&mut self, text: &str) {
        if !text.is_empty() {
            self.token(TRIVIA, text);
        }
    }

    fn finish(&mut self) {
        if let Some(open) = self
            .open
            .last()
            .filter(|open| open.children > WIDE && open.end > open.start)
        {
            // The wrapper is the root of the paths: skip its own (zero) index.
            self.wide.push(Wide {
                path: self.open[1..].iter().map(|open| open.index).collect(),
                start: open.start as u32,
                end: open.end as u32,
            });
        }
        let open = self.open.pop().expect("finish matches a start");
        // NodeCache's rule: at most 3 children, all of them interned.
        let mut height = match open.height {
            Some(height) if open.children <= 3 => Some(height + 1),
            _ => None,
        };
        if height.is_some_and(|h| h >= MAX_INTERNED_HEIGHT) {
            for _ in open.children..4 {
                self.builder.token(TRIVIA, "");
            }
            height = None;
        }
        self.builder.finish_node();
        self.child(height);
    }

    fn child(&mut self, height: Option<u32>) {
        if let Some(parent) = self.open.last_mut() {
            parent.children += 1;
            parent.height = parent.height.zip(height).map(|(a, b)| a.max(b));
        }
    }
}

/// Converts one file. `builder` is fresh (own cache) or borrows the store's shared cache.
pub(crate) fn convert(
    builder: GreenNodeBuilder<'_>,
    kinds: &mut KindTable,
    source: &str,
    tree: &tree_sitter::Tree,
) -> Result<Converted, BuildError> {
    if u32::try_from(source.len()).is_err() {
        return Err(BuildError::Limit(format!(
            "file of {} bytes exceeds rowan's 32-bit text offsets",
            source.len()
        )));
    }
    let mut sink = Sink {
        builder,
        open: Vec::new(),
        depth: 0,
        wide: Vec::new(),
    };
    sink.start(FILE, 0, source.len());
    let result = walk(&mut sink, kinds, source, tree);
    // Close whatever is open (everything, after an error) so the partial tree can be dropped safely.
    while !sink.open.is_empty() {
        sink.finish();
    }
    let depth = sink.depth;
    let green = sink.builder.finish();
    match result {
        Ok(()) => Ok(Converted {
            green,
            depth,
            wide: sink.wide,
        }),
        Err(error) => {
            drop_deep(green);
            Err(error)
        }
    }
}

/// Emits the root and everything below it, then the trailing trivia, into the open FILE node.
fn walk(
    sink: &mut Sink<'_>,
    kinds: &mut KindTable,
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

/// Appends the text of `node` to `out` with an explicit stack (rowan's `Display` recurses).
pub(crate) fn write_text(node: &GreenNodeData, out: &mut String) {
    let mut stack = vec![node.children()];
    while let Some(children) = stack.last_mut() {
        match children.next() {
            Some(NodeOrToken::Token(token)) => out.push_str(token.text()),
            Some(NodeOrToken::Node(node)) => stack.push(node.children()),
            None => {
                stack.pop();
            }
        }
    }
}

/// Drops a green tree of any depth without recursing: rowan's drop frees a node's children from inside the
/// node's own drop, one stack frame per level. Holding a clone of every node (parents before children) and
/// releasing them front to back means that whenever a node's last handle goes, each of its children still
/// has a later clone, so every drop frees exactly one node.
pub(crate) fn drop_deep(green: GreenNode) {
    let mut clones = Vec::new();
    let mut stack: Vec<&GreenNodeData> = vec![&green];
    while let Some(node) = stack.pop() {
        clones.push(node.to_owned());
        stack.extend(node.children().filter_map(NodeOrToken::into_node));
    }
    drop(stack);
    drop(green);
    for clone in clones {
        drop(clone);
    }
}
