//! tree-sitter as the reference every backend must match: a [`CstCursor`] over a native tree; a
//! [`ReferenceTree`], tree-sitter's answer for one file recorded once (what verification compares with); and
//! the preorder walking helpers shared by verification and the operations.
//!
//! The harness records each file's [`ReferenceTree`] from the very tree it hands the backend, into a temporary
//! file while the file is built (no heap allocation inside the measured region), and reads it back to verify:
//! the comparison is with what tree-sitter produced, without parsing every file a second time.

use crate::backend::{CstCursor, NodeInfo};
use crate::query_status::{FileStatus, NodeStatus};
use std::borrow::Cow;
use std::io::{self, Read, Write};

/// A [`CstCursor`] over a native tree-sitter tree (`TreeCursor` plus the source it slices text from).
pub struct TreeSitterCursor<'a> {
    cursor: tree_sitter::TreeCursor<'a>,
    source: &'a str,
}

impl<'a> TreeSitterCursor<'a> {
    /// A cursor on `node` (its root for this cursor: `goto_parent` stops there).
    pub fn new(node: tree_sitter::Node<'a>, source: &'a str) -> Self {
        TreeSitterCursor {
            cursor: node.walk(),
            source,
        }
    }

    /// The tree-sitter node under the cursor.
    pub fn ts_node(&self) -> tree_sitter::Node<'a> {
        self.cursor.node()
    }

    /// Moves the cursor to `node` of another (or the same) tree, keeping its stack's memory.
    pub fn reset(&mut self, node: tree_sitter::Node<'a>, source: &'a str) {
        self.cursor.reset(node);
        self.source = source;
    }

    /// The underlying `TreeCursor`, for backends that use its own moves (`goto_first_child_for_byte`).
    pub fn tree_cursor(&mut self) -> &mut tree_sitter::TreeCursor<'a> {
        &mut self.cursor
    }
}

impl CstCursor for TreeSitterCursor<'_> {
    fn node(&self) -> NodeInfo {
        let field = self.cursor.field_id().map_or(0, |id| id.get());
        NodeInfo::of(self.cursor.node(), field)
    }

    /// Without the field, which tree-sitter finds by looking through the node's hidden ancestors.
    fn kind(&self) -> u16 {
        self.cursor.node().kind_id()
    }

    fn text(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.source[self.cursor.node().byte_range()])
    }

    fn goto_first_child(&mut self) -> bool {
        self.cursor.goto_first_child()
    }

    fn goto_next_sibling(&mut self) -> bool {
        self.cursor.goto_next_sibling()
    }

    fn goto_parent(&mut self) -> bool {
        self.cursor.goto_parent()
    }
}

/// Moves to the next node in preorder; `false` (and the cursor back at its root) after the last one.
/// Iterative, so a tree of any depth is safe.
pub fn next_preorder<C: CstCursor + ?Sized>(cursor: &mut C) -> bool {
    crate::backend::next_in_preorder(cursor, &mut 0)
}

/// Calls `visit` on every node from the cursor's node down, in preorder.
pub fn for_each_preorder<C: CstCursor>(cursor: &mut C, mut visit: impl FnMut(&C)) {
    loop {
        visit(cursor);
        if !next_preorder(cursor) {
            return;
        }
    }
}

/// One recorded node: what a backend must give back, and where its subtree ends.
#[derive(Clone, Copy, Debug)]
struct RecordedNode {
    info: NodeInfo,
    /// Visible children.
    children: u32,
    /// Index just past this node's subtree in preorder.
    next: u32,
}

/// tree-sitter's visible nodes of one file in preorder, with their shape: a flat copy of what its tree gives
/// back, walked by a [`ReferenceCursor`].
#[derive(Clone, Debug, Default)]
pub struct ReferenceTree {
    nodes: Vec<RecordedNode>,
    /// What the query cursor sees of each node beyond the walk ([`crate::query_status`]).
    status: FileStatus,
}

const MISSING_FLAG: u8 = 1;

fn write_varint(out: &mut impl Write, mut value: u64) -> io::Result<()> {
    let mut bytes = [0u8; 10];
    let mut len = 0;
    while value >= 0x80 {
        bytes[len] = value as u8 | 0x80;
        value >>= 7;
        len += 1;
    }
    bytes[len] = value as u8;
    out.write_all(&bytes[..=len])
}

fn read_varint(input: &mut impl Read) -> io::Result<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let mut byte = [0u8];
        input.read_exact(&mut byte)?;
        value |= u64::from(byte[0] & 0x7f) << shift;
        if byte[0] < 0x80 {
            return Ok(value);
        }
    }
    Err(io::Error::new(
        io::ErrorKind::InvalidData,
        "varint too long",
    ))
}

impl ReferenceTree {
    /// Records `tree` in memory (tests and one-off checks; the harness uses [`ReferenceTree::write`]).
    pub fn of(tree: &tree_sitter::Tree) -> ReferenceTree {
        let mut bytes = Vec::new();
        ReferenceTree::write(tree, &mut bytes).expect("writing to memory cannot fail");
        ReferenceTree::read(&mut bytes.as_slice()).expect("just written")
    }

    /// Appends `tree`'s record to `out`: a capacity hint (tree-sitter's count of all nodes, hidden ones
    /// included), then per visible node in preorder its kind and field (two bytes each), flags, visible child
    /// count, start and length (varints), then the number of visible nodes, which the reader checks, then the
    /// query-status companion ([`FileStatus`]: its length, a varint, and its stream).
    /// Allocates nothing but the `TreeCursor`'s stack.
    pub fn write(tree: &tree_sitter::Tree, out: &mut impl Write) -> io::Result<()> {
        write_varint(out, tree.root_node().descendant_count() as u64)?;
        let mut cursor = tree.walk();
        let mut written = 0u64;
        loop {
            let node = cursor.node();
            out.write_all(&node.kind_id().to_le_bytes())?;
            out.write_all(&cursor.field_id().map_or(0, |f| f.get()).to_le_bytes())?;
            out.write_all(&[if node.is_missing() { MISSING_FLAG } else { 0 }])?;
            write_varint(out, node.child_count() as u64)?;
            write_varint(out, node.start_byte() as u64)?;
            write_varint(out, (node.end_byte() - node.start_byte()) as u64)?;
            written += 1;
            if cursor.goto_first_child() {
                continue;
            }
            loop {
                if cursor.goto_next_sibling() {
                    break;
                }
                if !cursor.goto_parent() {
                    write_varint(out, written)?;
                    let status = FileStatus::of(tree);
                    write_varint(out, status.as_bytes().len() as u64)?;
                    out.write_all(status.as_bytes())?;
                    return Ok(());
                }
            }
        }
    }

    /// Reads one record written by [`ReferenceTree::write`].
    pub fn read(input: &mut impl Read) -> io::Result<ReferenceTree> {
        let capacity = read_varint(input)?;
        let mut nodes: Vec<RecordedNode> = Vec::with_capacity(capacity.min(1 << 24) as usize);
        // Open nodes with the children they still expect.
        let mut open: Vec<(usize, u32)> = Vec::new();
        loop {
            let mut fixed = [0u8; 5];
            input.read_exact(&mut fixed)?;
            let children = u32::try_from(read_varint(input)?).map_err(invalid)?;
            let start = u32::try_from(read_varint(input)?).map_err(invalid)?;
            let len = u32::try_from(read_varint(input)?).map_err(invalid)?;
            let index = nodes.len();
            nodes.push(RecordedNode {
                info: NodeInfo {
                    kind: u16::from_le_bytes([fixed[0], fixed[1]]),
                    field: u16::from_le_bytes([fixed[2], fixed[3]]),
                    start,
                    end: start.checked_add(len).ok_or_else(|| invalid(()))?,
                    missing: fixed[4] & MISSING_FLAG != 0,
                },
                children,
                next: 0,
            });
            if let Some((_, expected)) = open.last_mut() {
                *expected -= 1;
            }
            if children > 0 {
                open.push((index, children));
                continue;
            }
            nodes[index].next = nodes.len() as u32;
            // Close every node whose last child this was.
            while let Some(&(parent, 0)) = open.last() {
                open.pop();
                nodes[parent].next = nodes.len() as u32;
            }
            if open.is_empty() {
                let count = read_varint(input)?;
                if count != nodes.len() as u64 {
                    return Err(invalid(()));
                }
                let len = read_varint(input)?;
                // At most a few bytes per node: a longer stream is not one this writer wrote.
                if len > count.saturating_mul(16) {
                    return Err(invalid(()));
                }
                let mut stream = vec![0u8; len as usize];
                input.read_exact(&mut stream)?;
                let status = FileStatus::from_bytes(&stream);
                return Ok(ReferenceTree { nodes, status });
            }
        }
    }

    /// Every visible node's query status, in preorder.
    pub fn statuses(&self) -> Vec<NodeStatus> {
        // Each node's visible parent: the innermost open subtree (`next` ends it) when the node starts.
        let mut open: Vec<(u32, u16)> = Vec::new();
        let contexts = self.nodes.iter().enumerate().map(|(i, n)| {
            while open.last().is_some_and(|&(end, _)| end <= i as u32) {
                open.pop();
            }
            let context = crate::query_status::StatusContext {
                kind: n.info.kind,
                parent_kind: open
                    .last()
                    .map_or(crate::query_status::StatusContext::NO_PARENT, |&(_, k)| k),
                walk_field: n.info.field,
            };
            open.push((n.next, n.info.kind));
            context
        });
        self.status.view().decode(contexts)
    }

    /// Visible nodes.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether the record holds no node (never, for a recorded tree).
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// A cursor on the root, slicing node texts from `source`.
    pub fn cursor<'a>(&'a self, source: &'a str) -> ReferenceCursor<'a> {
        ReferenceCursor {
            tree: self,
            source,
            current: 0,
            ancestors: Vec::new(),
        }
    }
}

fn invalid<E>(_: E) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, "corrupt reference record")
}

/// A [`CstCursor`] over a [`ReferenceTree`]: tree-sitter's moves, replayed.
pub struct ReferenceCursor<'a> {
    tree: &'a ReferenceTree,
    source: &'a str,
    current: usize,
    ancestors: Vec<usize>,
}

impl ReferenceCursor<'_> {
    /// Whether the current node has no visible children.
    pub fn is_leaf(&self) -> bool {
        self.tree.nodes[self.current].children == 0
    }

    /// Back to the root.
    pub fn reset(&mut self) {
        self.current = 0;
        self.ancestors.clear();
    }
}

impl CstCursor for ReferenceCursor<'_> {
    fn node(&self) -> NodeInfo {
        self.tree.nodes[self.current].info
    }

    fn text(&self) -> Cow<'_, str> {
        let info = self.node();
        String::from_utf8_lossy(&self.source.as_bytes()[info.start as usize..info.end as usize])
    }

    fn goto_first_child(&mut self) -> bool {
        if self.is_leaf() {
            return false;
        }
        self.ancestors.push(self.current);
        self.current += 1;
        true
    }

    fn goto_next_sibling(&mut self) -> bool {
        let Some(&parent) = self.ancestors.last() else {
            return false;
        };
        let next = self.tree.nodes[self.current].next;
        if next >= self.tree.nodes[parent].next {
            return false;
        }
        self.current = next as usize;
        true
    }

    fn goto_parent(&mut self) -> bool {
        match self.ancestors.pop() {
            Some(parent) => {
                self.current = parent;
                true
            }
            None => false,
        }
    }
}
