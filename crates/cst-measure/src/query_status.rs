//! What tree-sitter's query cursor sees of each visible node beyond what a walk gives: its query field, the
//! hidden supertypes above it, and whether it is an extra. A compact per-file companion a store keeps so
//! that queries can be answered on it.
//!
//! - [`NodeStatus`]: one node's status, the shape `cst_query::status` uses.
//! - [`statuses`]: what a store's conversion reads, in one preorder walk of tree-sitter's tree asking its
//!   cursor the query cursor's own question at every node (`ts_tree_cursor_current_status`, through the
//!   one unsafe call in [`ffi`]): O(nodes). [`statuses_by_query`] is the ground truth it is tested against,
//!   read from tree-sitter's `QueryCursor` (one pattern `(SUPERTYPE) @s` per supertype and one
//!   `(_ FIELD: _ @c)` per field, compiled once per language): O(nodes × patterns), 3.7x the parse on the
//!   built-in corpus, against about 0.1x for the walk (see NOTES.md).
//! - [`FileStatus`]: the companion. Every node's status is predicted from what the store's cursor already
//!   gives (query field = the walk's field, no supertype, not an extra) and only the exceptions are kept,
//!   in preorder, as one byte stream: per exception a varint gap (nodes since the previous exception), a
//!   tag byte (bit 0 extra, bit 1 a query field other than the walk's, bit 2 supertypes) and the varint
//!   field and supertype set the tag announces. A file without exceptions holds no allocation.
//! - [`StatusReader`]: a preorder walk's reader of that stream, O(1) per node; [`StatusStream`] is the
//!   stream as a store hands it out ([`crate::CstStore::query_status`]), borrowed or built.
//! - [`QueryStatuses`]: the companions of a whole store in two blocks (streams end to end, a `u32` start
//!   per file), for stores that keep no per-file entry of their own (the arena, frozen); rowan, cstree and
//!   syntree keep a [`FileStatus`] (16 bytes and its stream) in their file entries.
//!
//! Costs: built once per `add`/`replace`/`update` from the tree given (a walk, 0.25x the parse on the
//! built-in corpus); 0.41 bytes of stream per node there. What it does not do yet: predict from context
//! (parent kind, kind, walk field), which would leave few exceptions but the extras; the 41,582 nodes under a
//! supertype are most of the stream.

use crate::Language;
use std::borrow::Cow;
use std::sync::OnceLock;
use tree_sitter::StreamingIterator;

/// One visible node's query status.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize)]
pub struct NodeStatus {
    /// The node's field as the query cursor reads it (`ts_tree_cursor_current_status`); 0 for none.
    pub query_field: u16,
    /// Bit `i` set when the hidden supertype `supertype_symbols(language)[i]` lies between the node and its
    /// visible parent.
    pub supertypes: u32,
    /// Whether the node is an extra (`Node::is_extra`).
    pub extra: bool,
}

/// What a walk of a store already gives of one visible node, from which its [`NodeStatus`] is predicted:
/// its kind, its visible parent's kind and its walk field ([`crate::NodeInfo::field`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct StatusContext {
    pub kind: u16,
    /// The visible parent's kind; [`StatusContext::NO_PARENT`] for the root.
    pub parent_kind: u16,
    pub walk_field: u16,
}

impl StatusContext {
    /// The parent kind of the root (kind 0 is tree-sitter's end symbol, never a node).
    pub const NO_PARENT: u16 = 0;
}

/// Every visible node's [`StatusContext`] in file `file` of `store`, in preorder: one preorder walk.
pub fn contexts_of<S: crate::CstStore>(store: &S, file: usize) -> Vec<StatusContext> {
    let (contexts, _) = store.fold_preorder(
        file,
        (Vec::new(), Vec::<u16>::new()),
        |(mut contexts, mut parents), depth, node| {
            parents.truncate(depth as usize);
            contexts.push(StatusContext {
                kind: node.kind,
                parent_kind: parents.last().copied().unwrap_or(StatusContext::NO_PARENT),
                walk_field: node.field,
            });
            parents.push(node.kind);
            (contexts, parents)
        },
    );
    contexts
}

/// The compiled ground-truth query of one language: supertype patterns first, then one per field.
struct StatusQuery {
    query: tree_sitter::Query,
    /// How many of the first patterns are supertype patterns (pattern `i` is supertype bit `i`).
    supertypes: usize,
    /// The field id of each field pattern, after the supertype patterns.
    fields: Vec<u16>,
}

/// The grammar's supertypes, in the order of [`NodeStatus::supertypes`]'s bits: the list an ABI 15
/// grammar carries (`Language::supertypes`), or for an older grammar (TypeScript's, ABI 14, whose list
/// is empty) every kind its symbol metadata marks as a supertype, which is what the query cursor reads
/// (`ts_tree_cursor_current_status` checks the metadata flag). O(kinds).
pub fn supertype_symbols(grammar: &tree_sitter::Language) -> Vec<u16> {
    let listed = grammar.supertypes();
    if !listed.is_empty() {
        return listed.to_vec();
    }
    (1..grammar.node_kind_count() as u16)
        .filter(|&kind| grammar.node_kind_is_supertype(kind))
        .collect()
}

fn status_query(language: Language) -> &'static StatusQuery {
    static QUERIES: [OnceLock<StatusQuery>; 4] = [const { OnceLock::new() }; 4];
    QUERIES[language.index()].get_or_init(|| {
        let grammar = language.grammar();
        let mut source = String::new();
        let supertypes = supertype_symbols(&grammar);
        assert!(supertypes.len() <= 32, "more than 32 supertypes");
        for &supertype in &supertypes {
            let name = grammar
                .node_kind_for_id(supertype)
                .expect("a supertype has a name");
            source.push_str(&format!("({name}) @s\n"));
        }
        let mut fields = Vec::new();
        for field in 1..=grammar.field_count() as u16 {
            if let Some(name) = grammar.field_name_for_id(field) {
                source.push_str(&format!("(_ {name}: _ @c)\n"));
                fields.push(field);
            }
        }
        let query = tree_sitter::Query::new(&grammar, &source)
            .expect("the status query of a bundled grammar compiles");
        StatusQuery {
            query,
            supertypes: supertypes.len(),
            fields,
        }
    })
}

/// The visible nodes of `tree` in preorder, with the walk's field of each (`TreeCursor::field_id`).
fn preorder(tree: &tree_sitter::Tree) -> Vec<(tree_sitter::Node<'_>, StatusContext)> {
    let mut nodes = Vec::new();
    let mut cursor = tree.walk();
    let mut parents: Vec<u16> = Vec::new();
    loop {
        let node = cursor.node();
        nodes.push((
            node,
            StatusContext {
                kind: node.kind_id(),
                parent_kind: parents.last().copied().unwrap_or(StatusContext::NO_PARENT),
                walk_field: cursor.field_id().map_or(0, |f| f.get()),
            },
        ));
        if cursor.goto_first_child() {
            parents.push(node.kind_id());
            continue;
        }
        loop {
            if cursor.goto_next_sibling() {
                break;
            }
            if !cursor.goto_parent() {
                return nodes;
            }
            parents.pop();
        }
    }
}

/// Every visible node's status in preorder, read from tree-sitter's `QueryCursor` (the ground truth), with
/// each node's [`StatusContext`] beside it.
pub fn statuses_by_query_with_contexts(
    tree: &tree_sitter::Tree,
    language: Language,
) -> (Vec<NodeStatus>, Vec<StatusContext>) {
    let nodes = preorder(tree);
    let index: std::collections::HashMap<usize, usize> = nodes
        .iter()
        .enumerate()
        .map(|(i, (node, _))| (node.id(), i))
        .collect();
    let mut out: Vec<NodeStatus> = nodes
        .iter()
        .map(|(node, _)| NodeStatus {
            extra: node.is_extra(),
            ..NodeStatus::default()
        })
        .collect();
    let contexts = nodes.iter().map(|&(_, context)| context).collect();
    let status = status_query(language);
    let mut cursor = tree_sitter::QueryCursor::new();
    let mut matches = cursor.matches(&status.query, tree.root_node(), &[] as &[u8]);
    while let Some(m) = matches.next() {
        for capture in m.captures() {
            let Some(&at) = index.get(&capture.node.id()) else {
                continue;
            };
            if m.pattern_index < status.supertypes {
                out[at].supertypes |= 1 << m.pattern_index;
            } else {
                out[at].query_field = status.fields[m.pattern_index - status.supertypes];
            }
        }
    }
    (out, contexts)
}

/// Every visible node's status in preorder, read from tree-sitter's `QueryCursor` (the ground truth).
pub fn statuses_by_query(tree: &tree_sitter::Tree, language: Language) -> Vec<NodeStatus> {
    statuses_by_query_with_contexts(tree, language).0
}

/// Every visible node's status in preorder, as tree-sitter's query cursor sees it, with each node's
/// [`StatusContext`] beside it (what [`FileStatus::of`] predicts from): one walk, O(nodes).
pub fn statuses_with_contexts(tree: &tree_sitter::Tree) -> (Vec<NodeStatus>, Vec<StatusContext>) {
    let grammar = tree.language();
    let grammar_supertypes = supertype_symbols(&grammar);
    let (mut out, mut contexts) = (Vec::new(), Vec::new());
    let mut parents: Vec<u16> = Vec::new();
    let mut cursor = Some(tree.walk());
    loop {
        let (back, field, supertypes, count) =
            ffi::current_status(cursor.take().expect("a cursor"));
        let mut walk = back;
        let mut bits = 0u32;
        for &symbol in &supertypes[..count] {
            if let Some(bit) = grammar_supertypes.iter().position(|&s| s == symbol) {
                bits |= 1 << bit;
            }
        }
        out.push(NodeStatus {
            query_field: field,
            supertypes: bits,
            extra: walk.node().is_extra(),
        });
        let kind = walk.node().kind_id();
        contexts.push(StatusContext {
            kind,
            parent_kind: parents.last().copied().unwrap_or(StatusContext::NO_PARENT),
            walk_field: walk.field_id().map_or(0, |f| f.get()),
        });
        let mut done = false;
        if walk.goto_first_child() {
            parents.push(kind);
        } else {
            loop {
                if walk.goto_next_sibling() {
                    break;
                }
                if !walk.goto_parent() {
                    done = true;
                    break;
                }
                parents.pop();
            }
        }
        if done {
            return (out, contexts);
        }
        cursor = Some(walk);
    }
}

/// Every visible node's status in preorder, as tree-sitter's query cursor sees it.
pub fn statuses(tree: &tree_sitter::Tree) -> Vec<NodeStatus> {
    statuses_with_contexts(tree).0
}

/// The one call into tree-sitter's C library that its Rust binding does not offer: the query cursor's
/// reading of a node's field and hidden supertypes.
mod ffi {
    /// The most supertypes the query cursor asks for (`TSSymbol supertypes[8]` in `query.c`).
    const MAX_SUPERTYPES: usize = 8;

    extern "C" {
        // From tree-sitter's `lib/src/tree_cursor.h` (not in its public header, but an exported symbol of the
        // library the `tree-sitter` crate builds and links).
        fn ts_tree_cursor_current_status(
            cursor: *const tree_sitter::ffi::TSTreeCursor,
            field_id: *mut u16,
            has_later_siblings: *mut bool,
            has_later_named_siblings: *mut bool,
            can_have_later_siblings_with_this_field: *mut bool,
            supertypes: *mut u16,
            supertype_count: *mut u32,
        );
    }

    /// The cursor's node's query field and the symbols of the hidden supertypes above it (as many as the
    /// query cursor reads), with the cursor given back.
    pub(super) fn current_status(
        cursor: tree_sitter::TreeCursor<'_>,
    ) -> (
        tree_sitter::TreeCursor<'_>,
        u16,
        [u16; MAX_SUPERTYPES],
        usize,
    ) {
        let raw = cursor.into_raw();
        let mut field = 0u16;
        let (mut later, mut later_named, mut can_later) = (false, false, false);
        let mut supertypes = [0u16; MAX_SUPERTYPES];
        let mut count = MAX_SUPERTYPES as u32;
        // SAFETY: `raw` is a live cursor just taken out of its `TreeCursor` (on a tree the caller borrows for
        // the cursor's lifetime); the function reads it and writes only through the out pointers, each to a
        // local of the declared C type, `supertypes` holding `count` (8) entries as in `query.c`'s call.
        unsafe {
            ts_tree_cursor_current_status(
                &raw,
                &mut field,
                &mut later,
                &mut later_named,
                &mut can_later,
                supertypes.as_mut_ptr(),
                &mut count,
            );
        }
        // SAFETY: `raw` came from `TreeCursor::into_raw` above and is given back unchanged, with the lifetime
        // of the tree it came with.
        let cursor = unsafe { tree_sitter::TreeCursor::from_raw(raw) };
        let count = (count as usize).min(MAX_SUPERTYPES);
        (cursor, field, supertypes, count)
    }
}

const TAG_EXTRA: u8 = 1;
const TAG_FIELD: u8 = 2;
const TAG_SUPERTYPES: u8 = 4;

/// One file's query statuses, as exceptions to what the walk predicts (see the module's description).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FileStatus {
    stream: Box<[u8]>,
}

fn push_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push(value as u8 | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

impl FileStatus {
    /// The companion of `tree`.
    pub fn of(tree: &tree_sitter::Tree) -> FileStatus {
        let (statuses, contexts) = statuses_with_contexts(tree);
        FileStatus::encode(&statuses, &contexts)
    }

    /// The companion of nodes with these statuses and contexts (in preorder).
    pub fn encode(statuses: &[NodeStatus], contexts: &[StatusContext]) -> FileStatus {
        let mut stream = Vec::new();
        let mut next = 0usize;
        for (i, (status, context)) in statuses.iter().zip(contexts).enumerate() {
            let walk = context.walk_field;
            let mut tag = 0;
            if status.extra {
                tag |= TAG_EXTRA;
            }
            if status.query_field != walk {
                tag |= TAG_FIELD;
            }
            if status.supertypes != 0 {
                tag |= TAG_SUPERTYPES;
            }
            if tag == 0 {
                continue;
            }
            push_varint(&mut stream, (i - next) as u64);
            stream.push(tag);
            if tag & TAG_FIELD != 0 {
                push_varint(&mut stream, u64::from(status.query_field));
            }
            if tag & TAG_SUPERTYPES != 0 {
                push_varint(&mut stream, u64::from(status.supertypes));
            }
            next = i + 1;
        }
        FileStatus {
            stream: stream.into_boxed_slice(),
        }
    }

    /// A reader for a preorder walk from the root.
    pub fn reader(&self) -> StatusReader<'_> {
        reader_of(&self.stream)
    }

    /// The companion as a store hands it out ([`crate::CstStore::query_status`]).
    pub fn view(&self) -> StatusStream<'_> {
        StatusStream(Cow::Borrowed(&self.stream))
    }

    /// The companion, owned, as a store hands it out.
    pub fn into_stream(self) -> StatusStream<'static> {
        StatusStream(Cow::Owned(self.stream.into_vec()))
    }

    /// The stream itself (what a saved form writes).
    pub fn as_bytes(&self) -> &[u8] {
        &self.stream
    }

    /// A companion from its stream, as [`FileStatus::as_bytes`] gave it.
    pub fn from_bytes(bytes: &[u8]) -> FileStatus {
        FileStatus {
            stream: bytes.into(),
        }
    }

    /// The bytes the stream takes (its allocation's requested size).
    pub fn bytes(&self) -> usize {
        self.stream.len()
    }
}

/// A companion's stream as a store hands it out: borrowed from where the store keeps it, or built for the
/// caller (tree-sitter's row reads it from its tree).
#[derive(Clone, Debug)]
pub struct StatusStream<'a>(Cow<'a, [u8]>);

impl StatusStream<'_> {
    /// A reader for a preorder walk from the root.
    pub fn reader(&self) -> StatusReader<'_> {
        reader_of(&self.0)
    }

    /// Every node's status, in preorder, for nodes in these contexts.
    pub fn decode(&self, contexts: impl IntoIterator<Item = StatusContext>) -> Vec<NodeStatus> {
        let mut reader = self.reader();
        contexts.into_iter().map(|c| reader.next(c)).collect()
    }
}

fn reader_of(stream: &[u8]) -> StatusReader<'_> {
    let mut reader = StatusReader {
        stream,
        at: 0,
        gap: 0,
        node: 0,
        next: usize::MAX,
    };
    reader.advance();
    reader
}

/// Reads a [`FileStatus`] node by node in preorder.
pub struct StatusReader<'a> {
    stream: &'a [u8],
    at: usize,
    gap: usize,
    /// The preorder index of the node the next [`StatusReader::next`] answers for.
    node: usize,
    /// The preorder index of the next exception (`usize::MAX` after the last).
    next: usize,
}

impl StatusReader<'_> {
    fn varint(&mut self) -> u64 {
        let (mut value, mut shift) = (0u64, 0);
        while let Some(&byte) = self.stream.get(self.at) {
            self.at += 1;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                break;
            }
            shift += 7;
        }
        value
    }

    fn advance(&mut self) {
        if self.at >= self.stream.len() {
            self.next = usize::MAX;
            return;
        }
        self.gap = self.varint() as usize;
        self.next = self.node + self.gap;
    }

    /// The status of the next node in preorder, which the walk sees in `context`.
    #[inline]
    pub fn next(&mut self, context: StatusContext) -> NodeStatus {
        let mut status = NodeStatus {
            query_field: context.walk_field,
            supertypes: 0,
            extra: false,
        };
        if self.node == self.next {
            // A stream read from a file may be cut short: it then reads as zeros, never out of bounds.
            let tag = self.stream.get(self.at).copied().unwrap_or(0);
            self.at += 1;
            status.extra = tag & TAG_EXTRA != 0;
            if tag & TAG_FIELD != 0 {
                status.query_field = self.varint() as u16;
            }
            if tag & TAG_SUPERTYPES != 0 {
                status.supertypes = self.varint() as u32;
            }
            self.node += 1;
            self.advance();
        } else {
            self.node += 1;
        }
        status
    }
}

/// The companions of a store's files, by file index: what a store holds beside its own structure. Laid out
/// as one buffer of every file's stream end to end with a `u32` start per file (4 bytes per file and the
/// streams' bytes, in two blocks), and the files replaced since in a map of their own streams.
#[derive(Clone, Debug, Default)]
pub struct QueryStatuses {
    streams: Vec<u8>,
    /// Where each file's stream starts in `streams`; the next file's start (or the end) ends it.
    starts: Vec<u32>,
    /// The current companion of each file replaced or restored since it was added.
    edited: std::collections::HashMap<u32, FileStatus>,
}

impl QueryStatuses {
    /// Adds the next file's companion, built from its tree.
    pub fn push(&mut self, tree: &tree_sitter::Tree) {
        self.push_status(FileStatus::of(tree));
    }

    /// Adds the next file's companion as it is (one a saved form gives back).
    pub fn push_status(&mut self, status: FileStatus) {
        let start = u32::try_from(self.streams.len()).expect("query statuses under 4 GiB");
        self.starts.push(start);
        self.streams.extend_from_slice(status.as_bytes());
    }

    /// Replaces file `file`'s companion.
    pub fn replace(&mut self, file: usize, status: FileStatus) {
        self.edited.insert(file as u32, status);
    }

    /// Puts back a companion taken with [`QueryStatuses::owned`] (a version's).
    pub fn restore(&mut self, file: usize, status: &FileStatus) {
        self.replace(file, status.clone());
    }

    /// File `file`'s companion, as the store hands it out.
    pub fn get(&self, file: usize) -> StatusStream<'_> {
        if let Some(edited) = self.edited.get(&(file as u32)) {
            return edited.view();
        }
        let start = self.starts[file] as usize;
        let end = self
            .starts
            .get(file + 1)
            .map_or(self.streams.len(), |&s| s as usize);
        StatusStream(Cow::Borrowed(&self.streams[start..end]))
    }

    /// A copy of file `file`'s companion (what a version keeps).
    pub fn owned(&self, file: usize) -> FileStatus {
        FileStatus::from_bytes(&self.get(file).0)
    }

    /// Every file's companion as one saved section: per file its length (`u64`, little-endian), then its
    /// stream (8 bytes per file and the streams' bytes).
    pub fn to_section(&self, files: usize) -> Vec<u8> {
        let mut section = Vec::new();
        for f in 0..files {
            let status = self.get(f);
            section.extend_from_slice(&(status.0.len() as u64).to_le_bytes());
            section.extend_from_slice(&status.0);
        }
        section
    }

    /// The companions of `files` files from a section [`QueryStatuses::to_section`] wrote, every length
    /// checked against the section before it is used; a section cut short or with bytes after the last
    /// file's is refused.
    pub fn from_section(section: &[u8], files: usize) -> Result<QueryStatuses, String> {
        let mut statuses = QueryStatuses::default();
        let mut at = 0usize;
        for f in 0..files {
            let Some(len) = section.get(at..at + 8) else {
                return Err(format!("file {f}'s query status runs past its section"));
            };
            let len = u64::from_le_bytes(len.try_into().expect("8 bytes"));
            at += 8;
            if len > (section.len() - at) as u64 {
                return Err(format!("file {f}'s query status runs past its section"));
            }
            let len = len as usize;
            statuses.push_status(FileStatus::from_bytes(&section[at..at + len]));
            at += len;
        }
        if at != section.len() {
            return Err("the query-status section holds more than its files' companions".into());
        }
        statuses.shrink();
        Ok(statuses)
    }

    /// Shrinks the buffers to their lengths (called from a store's `finish`).
    pub fn shrink(&mut self) {
        self.streams.shrink_to_fit();
        self.starts.shrink_to_fit();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(language: Language, text: &str) -> (usize, usize) {
        let tree = language.parse(text);
        let (statuses, contexts) = statuses_with_contexts(&tree);
        assert_eq!(
            (&statuses, &contexts),
            (
                &statuses_by_query_with_contexts(&tree, language).0,
                &statuses_by_query_with_contexts(&tree, language).1
            )
        );
        let file = FileStatus::encode(&statuses, &contexts);
        let mut reader = file.reader();
        for (i, (&want, &context)) in statuses.iter().zip(&contexts).enumerate() {
            assert_eq!(reader.next(context), want, "node #{i}");
        }
        (statuses.len(), file.bytes())
    }

    #[test]
    fn statuses_see_supertypes_fields_and_extras() {
        let tree = Language::Python.parse("x = f(1) # c\n");
        let statuses = statuses(&tree);
        assert!(statuses.iter().any(|s| s.supertypes != 0));
        assert!(statuses.iter().any(|s| s.query_field != 0));
        assert!(statuses.iter().any(|s| s.extra));
    }

    #[test]
    fn the_companion_gives_back_every_status() {
        round_trip(Language::Python, "def f(a):\n    # c\n    return [a, *a]\n");
        round_trip(Language::Rust, "fn f<T: X>(a: T) -> u8 { /* c */ a.0 }\n");
        round_trip(Language::TypeScript, "let x: number = f(1) // c\n");
        round_trip(Language::Tsx, "const a = <b c={1}/>;\n");
        round_trip(Language::Python, "");
        round_trip(Language::Rust, "fn (");
    }
}
