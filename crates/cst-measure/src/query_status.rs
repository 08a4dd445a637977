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
//! - [`StatusModel`]: a store's prediction of a node's status from its [`StatusContext`] (kind, visible
//!   parent's kind, walk field: what the store's cursor already gives), learned from the store's own files
//!   at `finish()` by [`ModelBuilder`] (16 bytes per context it predicts for; a kind's fallback for the
//!   contexts without an entry; "query field = the walk's field, no supertype, not an extra" for the rest,
//!   which is all the empty model predicts).
//! - [`FileStatus`]: the companion. Every node's status is predicted by the model and only the exceptions
//!   are kept, in preorder, as one byte stream: per exception a varint gap (nodes since the previous
//!   exception), a tag byte (bit 0 extra, bit 1 a query field other than the predicted one, bit 2 a
//!   supertype set other than the predicted one) and the varint field and supertype set the tag announces.
//!   A file without exceptions holds no allocation.
//! - [`StatusReader`]: a preorder walk's reader of that stream, O(1) per node; [`StatusStream`] is the
//!   stream as a store hands it out ([`crate::CstStore::query_status`]), borrowed or built.
//! - [`QueryStatuses`]: the companions of a whole store in two blocks (streams end to end, a `u32` start
//!   per file) and the store's model, learned at `finish()` ([`QueryStatuses::learn`]: every stream
//!   re-encoded against it), for stores that keep no per-file entry of their own (the arena; frozen keeps the same model and streams
//!   coded, handing each out through [`StatusStream::new`]); rowan,
//!   cstree and syntree keep a [`FileStatus`] (16 bytes and its stream) in their file entries.
//!
//! Costs: built once per `add`/`replace`/`update` from the tree given (a walk, 0.25x the parse on the
//! built-in corpus); learning at `finish()` takes two walks of the store's own files. Against the empty
//! model the stream is 0.414 bytes per node on the built-in corpus (the 41,582 nodes under a supertype are
//! most of it); against a learned model the streams and the model together are about 0.01 bytes per node
//! there and on the training sets of real code (see NOTES.md). A file added or edited after `finish()` is
//! encoded against the model as it is (what it mispredicts becomes exceptions). While a store is built,
//! [`QueryStatuses::push`] encodes each file as the walk goes (nothing held per node) against provisional
//! models learned from the files before it, so that a build's peak holds streams of about the learned size,
//! not a byte a node.

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

/// A model learned from every file of `store` (from the statuses it hands out, read in the contexts of its
/// own walk), and each file's companion encoded against it: what a store that keeps a [`FileStatus`] per
/// file puts in place at `finish()`. Two walks per file, O(nodes); the new companions are built beside the
/// old ones.
pub fn relearn<S: crate::CstStore>(store: &S) -> (StatusModel, Vec<FileStatus>) {
    let decoded = |f: usize| {
        let contexts = contexts_of(store, f);
        let statuses = store
            .query_status(f)
            .map(|s| s.decode(contexts.iter().copied()))
            .unwrap_or_default();
        (store.language(f), statuses, contexts)
    };
    let mut builder = ModelBuilder::default();
    for f in 0..store.len() {
        let (language, statuses, contexts) = decoded(f);
        builder.count(language, &statuses, &contexts);
    }
    let model = builder.build();
    let files = (0..store.len())
        .map(|f| {
            let (language, statuses, contexts) = decoded(f);
            FileStatus::encode_with(&statuses, &contexts, language, &model)
        })
        .collect();
    (model, files)
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
    let (mut out, mut contexts) = (Vec::new(), Vec::new());
    for_each_status(tree, |status, context| {
        out.push(status);
        contexts.push(context);
    });
    (out, contexts)
}

/// Calls `visit` with every visible node's status and context, in preorder: one walk, O(nodes), holding
/// nothing but the walk's path.
pub fn for_each_status(tree: &tree_sitter::Tree, mut visit: impl FnMut(NodeStatus, StatusContext)) {
    let grammar = tree.language();
    let grammar_supertypes = supertype_symbols(&grammar);
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
        let kind = walk.node().kind_id();
        visit(
            NodeStatus {
                query_field: field,
                supertypes: bits,
                extra: walk.node().is_extra(),
            },
            StatusContext {
                kind,
                parent_kind: parents.last().copied().unwrap_or(StatusContext::NO_PARENT),
                walk_field: walk.field_id().map_or(0, |f| f.get()),
            },
        );
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
            return;
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

/// The field of a packed prediction meaning "the walk's field".
const WALK: u64 = 0xFFFF;
/// The parent kind and walk field of a kind's fallback key (no node has walk field `0xFFFF`).
const ANY: u64 = 0xFFFF_FFFF;
/// What "query field = walk field, no supertype, not an extra" packs to.
const DEFAULT: u64 = WALK << 32;
/// The estimated bytes of one exception in a stream (gap, tag, supertype set) and of one model entry (its key
/// and value), which [`ModelBuilder::build`] weighs against each other.
const EXCEPTION_BYTES: u64 = 3;
const ENTRY_BYTES: u64 = 16;

/// A status packed as a model keeps it: supertypes in bits 0–31, the query field in bits 32–47 (`WALK`
/// for the walk's own), the extra bit in bit 48.
fn pack(status: NodeStatus, walk_field: u16) -> u64 {
    let field = if status.query_field == walk_field {
        WALK
    } else {
        u64::from(status.query_field)
    };
    u64::from(status.supertypes) | field << 32 | u64::from(status.extra) << 48
}

fn unpack(value: u64, walk_field: u16) -> NodeStatus {
    let field = (value >> 32) & 0xFFFF;
    NodeStatus {
        query_field: if field == WALK {
            walk_field
        } else {
            field as u16
        },
        supertypes: value as u32,
        extra: value >> 48 & 1 != 0,
    }
}

fn key(language: Language, context: StatusContext) -> u64 {
    (language.index() as u64) << 48
        | u64::from(context.kind) << 32
        | u64::from(context.parent_kind) << 16
        | u64::from(context.walk_field)
}

/// A store's prediction of each node's status from its [`StatusContext`], learned from the store's own
/// files at `finish()` ([`ModelBuilder`]), so that a file's stream keeps only the mispredicted nodes.
///
/// Layout: one sorted array of keys (language in bits 48–49, kind in 32–47, visible parent's kind in 16–31,
/// walk field in 0–15) and one of packed predictions beside it (16 bytes an entry); a key whose parent and
/// field are both `0xFFFF` is its kind's fallback, after the kind's other keys. Beside them an index derived
/// from the keys: per language that has entries, a `u16` per kind up to its highest kind with entries, the
/// first entry of that kind (2 bytes per kind). Kinds from [`MAX_KIND`] up (tree-sitter's `ERROR` is
/// 65,535) get no entry. A context found in neither its own entry nor its kind's fallback is predicted as
/// "query field = walk field, no supertype, not an extra", which is also what the empty model (a store
/// before `finish()`, or one that keeps none) predicts for every node.
///
/// Costs: a prediction is one index read and, for a kind with entries, a binary search of that kind's few
/// entries: O(log entries of the kind) per node, on a few kilobytes that stay in cache.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StatusModel {
    keys: Vec<u64>,
    values: Vec<u64>,
    /// Per language, where its kinds' entries start in `index` (one more than its kinds with entries; empty
    /// for a language without entries).
    languages: [(u32, u32); 4],
    /// Per language and kind, the first entry of the kind; the next kind's first entry ends it.
    index: Vec<u16>,
}

/// The kinds a model predicts for are below this (every bundled grammar's are; tree-sitter's `ERROR`,
/// 65,535, is not).
pub const MAX_KIND: u16 = 4096;
/// The most entries a model holds (its index is of `u16`s).
const MAX_ENTRIES: usize = u16::MAX as usize;

impl StatusModel {
    /// A model of these entries (keys rising strictly, kinds below [`MAX_KIND`], at most `u16::MAX`), with
    /// its index.
    fn of(keys: Vec<u64>, values: Vec<u64>) -> StatusModel {
        let mut languages = [(0u32, 0u32); 4];
        let mut index = Vec::new();
        for (l, span) in languages.iter_mut().enumerate() {
            let first = keys.partition_point(|&k| k >> 48 < l as u64);
            let end = keys.partition_point(|&k| k >> 48 <= l as u64);
            if first == end {
                continue;
            }
            let kinds = ((keys[end - 1] >> 32) & 0xFFFF) as usize + 1;
            let start = index.len();
            let mut at = first;
            for kind in 0..=kinds {
                while at < end && (((keys[at] >> 32) & 0xFFFF) as usize) < kind {
                    at += 1;
                }
                index.push(at as u16);
            }
            *span = (start as u32, (index.len() - start) as u32);
        }
        index.shrink_to_fit();
        StatusModel {
            keys,
            values,
            languages,
            index,
        }
    }

    /// The status predicted for a node of `language` seen in `context`.
    #[inline]
    pub fn predict(&self, language: Language, context: StatusContext) -> NodeStatus {
        let (start, kinds) = self.languages[language.index()];
        let kind = u32::from(context.kind);
        if kind + 1 >= kinds {
            return unpack(DEFAULT, context.walk_field);
        }
        let at = (start + kind) as usize;
        let (first, end) = (usize::from(self.index[at]), usize::from(self.index[at + 1]));
        if first == end {
            return unpack(DEFAULT, context.walk_field);
        }
        let exact = key(language, context);
        let keys = &self.keys[first..end];
        let value = match keys.binary_search(&exact) {
            Ok(i) => self.values[first + i],
            // The kind's fallback, if any, is its last entry.
            Err(_) if keys[keys.len() - 1] == exact | ANY => self.values[end - 1],
            Err(_) => DEFAULT,
        };
        unpack(value, context.walk_field)
    }

    /// How many contexts the model predicts for.
    pub fn entries(&self) -> usize {
        self.keys.len()
    }

    /// The bytes the model holds (its arrays' requested sizes).
    pub fn bytes(&self) -> usize {
        std::mem::size_of_val(&self.keys[..])
            + std::mem::size_of_val(&self.values[..])
            + std::mem::size_of_val(&self.index[..])
    }

    /// The model as saved: its entry count (`u64`, little-endian), then per entry its key and its value
    /// (`u64` each); the index is derived again at open.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(8 + 16 * self.keys.len());
        out.extend_from_slice(&(self.keys.len() as u64).to_le_bytes());
        for (k, v) in self.keys.iter().zip(&self.values) {
            out.extend_from_slice(&k.to_le_bytes());
            out.extend_from_slice(&v.to_le_bytes());
        }
        out
    }

    /// A model from the front of `bytes` as [`StatusModel::to_bytes`] wrote it, with the bytes it took. The
    /// count is checked against the bytes (and the limit of `u16::MAX` entries) before anything is read;
    /// keys must rise strictly, name one of the four languages and a kind below [`MAX_KIND`], and values use
    /// no bit beyond bit 48: a damaged model is refused.
    pub fn from_bytes(bytes: &[u8]) -> Result<(StatusModel, usize), String> {
        let Some(count) = bytes.get(..8) else {
            return Err("the query-status model runs past its section".into());
        };
        let count = u64::from_le_bytes(count.try_into().expect("8 bytes"));
        if count > ((bytes.len() - 8) / 16) as u64 {
            return Err("the query-status model runs past its section".into());
        }
        if count > MAX_ENTRIES as u64 {
            return Err(format!(
                "the query-status model has {count} entries, more than {MAX_ENTRIES}"
            ));
        }
        let count = count as usize;
        let word = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"));
        let (mut keys, mut values) = (Vec::with_capacity(count), Vec::with_capacity(count));
        for i in 0..count {
            let (k, v) = (word(8 + 16 * i), word(16 + 16 * i));
            if k >> 48 >= Language::ALL.len() as u64
                || (k >> 32) & 0xFFFF >= u64::from(MAX_KIND)
                || v >> 49 != 0
            {
                return Err(format!("query-status model entry {i} is damaged"));
            }
            if keys.last().is_some_and(|&last| last >= k) {
                return Err(format!("query-status model entry {i} is out of order"));
            }
            keys.push(k);
            values.push(v);
        }
        Ok((StatusModel::of(keys, values), 8 + 16 * count))
    }
}

/// Counts each context's statuses over a store's files and builds the [`StatusModel`] that keeps the
/// fewest bytes: a kind's fallback where most of the kind's nodes share a status other than the default, and
/// an entry for a context where most of its nodes share a status other than the kind's prediction, each only
/// where the exceptions it saves (about 3 bytes each) outweigh its 16 bytes.
///
/// Costs: O(nodes) to count, into one map entry (24 bytes) per distinct (context, status) pair (1,223 on the
/// built-in corpus); [`ModelBuilder::build`] turns the map into one sorted array of them (contexts of a kind
/// side by side) and reads it once, O(pairs log pairs).
#[derive(Clone, Default)]
pub struct ModelBuilder {
    counts: std::collections::HashMap<(u64, u64), u64>,
}

/// The most frequent value among `counts` (ties to the smaller value) and its count, and the count of
/// `baseline`.
fn mode(counts: &[(u64, u64)], baseline: u64) -> (u64, u64, u64) {
    let (mut best, mut best_n, mut base_n) = (baseline, 0, 0);
    for &(v, n) in counts {
        if n > best_n || (n == best_n && v < best) {
            (best, best_n) = (v, n);
        }
        if v == baseline {
            base_n = n;
        }
    }
    (best, best_n, base_n)
}

/// Whether an entry predicting `best` (seen `best_n` times) instead of `base` (seen `base_n` times) saves
/// more stream bytes than it takes.
fn worth(best: u64, best_n: u64, base: u64, base_n: u64, entry_bytes: u64) -> bool {
    best != base && (best_n - base_n) * EXCEPTION_BYTES > entry_bytes
}

impl ModelBuilder {
    /// Counts one file's nodes: their statuses and contexts, in preorder.
    pub fn count(
        &mut self,
        language: Language,
        statuses: &[NodeStatus],
        contexts: &[StatusContext],
    ) {
        for (&status, &context) in statuses.iter().zip(contexts) {
            self.count_one(language, status, context);
        }
    }

    /// Counts one node.
    pub fn count_one(&mut self, language: Language, status: NodeStatus, context: StatusContext) {
        let pair = (key(language, context), pack(status, context.walk_field));
        *self.counts.entry(pair).or_default() += 1;
    }

    /// How many distinct (context, status) pairs it has counted.
    pub fn distinct(&self) -> usize {
        self.counts.len()
    }

    /// The model, each entry weighed at 16 bytes (a key and a value, as a [`StatusModel`]
    /// holds and saves it).
    pub fn build(self) -> StatusModel {
        self.build_with(ENTRY_BYTES)
    }

    /// The model, an entry kept only where the exceptions it saves (about 3 bytes each) outweigh
    /// `entry_bytes` (what the store keeping the model pays for one: less where it keeps the model coded).
    pub fn build_with(self, entry_bytes: u64) -> StatusModel {
        let mut pairs: Vec<((u64, u64), u64)> = self
            .counts
            .into_iter()
            .filter(|((k, _), _)| (k >> 32) & 0xFFFF < u64::from(MAX_KIND))
            .collect();
        pairs.sort_unstable();
        let (mut keys, mut values) = (Vec::new(), Vec::new());
        let mut kind_counts: Vec<(u64, u64)> = Vec::new();
        let mut context_counts: Vec<(u64, u64)> = Vec::new();
        // One run of pairs per kind (the key's bits above the parent kind), within it one per context.
        for kind in pairs.chunk_by(|a, b| a.0 .0 | ANY == b.0 .0 | ANY) {
            kind_counts.clear();
            for &((_, status), n) in kind {
                match kind_counts.iter_mut().find(|(v, _)| *v == status) {
                    Some((_, total)) => *total += n,
                    None => kind_counts.push((status, n)),
                }
            }
            let (best, best_n, base_n) = mode(&kind_counts, DEFAULT);
            let base = if worth(best, best_n, DEFAULT, base_n, entry_bytes) {
                best
            } else {
                DEFAULT
            };
            for context in kind.chunk_by(|a, b| a.0 .0 == b.0 .0) {
                context_counts.clear();
                context_counts.extend(context.iter().map(|&((_, status), n)| (status, n)));
                let (best, best_n, base_n) = mode(&context_counts, base);
                if worth(best, best_n, base, base_n, entry_bytes) {
                    keys.push(context[0].0 .0);
                    values.push(best);
                }
            }
            if base != DEFAULT {
                // The fallback's key (parent and field 0xFFFF) sorts after every context of its kind.
                keys.push(kind[0].0 .0 | ANY);
                values.push(base);
            }
        }
        // Past the index's limit the rest are left to the streams (no corpus here comes near it).
        keys.truncate(MAX_ENTRIES);
        values.truncate(MAX_ENTRIES);
        keys.shrink_to_fit();
        values.shrink_to_fit();
        StatusModel::of(keys, values)
    }
}

/// Builds a companion's stream node by node in preorder: each node's status against its prediction, only
/// the mispredicted ones written.
#[derive(Default)]
struct Encoder {
    stream: Vec<u8>,
    /// Nodes seen, and the index after the last exception written.
    node: usize,
    next: usize,
}

impl Encoder {
    fn push(&mut self, status: NodeStatus, predicted: NodeStatus) {
        let i = self.node;
        self.node += 1;
        if status == predicted {
            return;
        }
        let mut tag = 0;
        if status.extra {
            tag |= TAG_EXTRA;
        }
        if status.query_field != predicted.query_field {
            tag |= TAG_FIELD;
        }
        if status.supertypes != predicted.supertypes {
            tag |= TAG_SUPERTYPES;
        }
        push_varint(&mut self.stream, (i - self.next) as u64);
        self.stream.push(tag);
        if tag & TAG_FIELD != 0 {
            push_varint(&mut self.stream, u64::from(status.query_field));
        }
        if tag & TAG_SUPERTYPES != 0 {
            push_varint(&mut self.stream, u64::from(status.supertypes));
        }
        self.next = i + 1;
    }

    fn finish(self) -> FileStatus {
        FileStatus {
            stream: self.stream.into_boxed_slice(),
        }
    }
}

/// One file's query statuses, as exceptions to a prediction (see the module's description).
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

/// The empty model every stream without a model of its own is read against.
static EMPTY: StatusModel = StatusModel {
    keys: Vec::new(),
    values: Vec::new(),
    languages: [(0, 0); 4],
    index: Vec::new(),
};

impl FileStatus {
    /// The companion of `tree`, against the empty model (the walk's prediction).
    pub fn of(tree: &tree_sitter::Tree) -> FileStatus {
        FileStatus::of_with(tree, Language::Python, &EMPTY)
    }

    /// The companion of `tree` (a file of `language`), against `model`.
    pub fn of_with(
        tree: &tree_sitter::Tree,
        language: Language,
        model: &StatusModel,
    ) -> FileStatus {
        // Encoded as the walk goes: no status or context is held (a build's peak is at its largest file).
        let mut encoder = Encoder::default();
        for_each_status(tree, |status, context| {
            encoder.push(status, model.predict(language, context));
        });
        encoder.finish()
    }

    /// The companion of nodes with these statuses and contexts (in preorder), against the empty model.
    pub fn encode(statuses: &[NodeStatus], contexts: &[StatusContext]) -> FileStatus {
        FileStatus::encode_with(statuses, contexts, Language::Python, &EMPTY)
    }

    /// The companion of nodes of a file of `language` with these statuses and contexts (in preorder),
    /// against `model`: only the nodes it mispredicts are kept.
    pub fn encode_with(
        statuses: &[NodeStatus],
        contexts: &[StatusContext],
        language: Language,
        model: &StatusModel,
    ) -> FileStatus {
        let mut encoder = Encoder::default();
        for (status, &context) in statuses.iter().zip(contexts) {
            encoder.push(*status, model.predict(language, context));
        }
        encoder.finish()
    }

    /// A reader for a preorder walk from the root, against the empty model.
    pub fn reader(&self) -> StatusReader<'_> {
        reader_of(&self.stream, Language::Python, &EMPTY)
    }

    /// The companion as a store hands it out ([`crate::CstStore::query_status`]), read against the empty
    /// model.
    pub fn view(&self) -> StatusStream<'_> {
        StatusStream {
            stream: Cow::Borrowed(&self.stream),
            language: Language::Python,
            model: Cow::Borrowed(&EMPTY),
        }
    }

    /// The companion of a file of `language` encoded against `model`, as a store hands it out.
    pub fn view_with<'a>(&'a self, language: Language, model: &'a StatusModel) -> StatusStream<'a> {
        StatusStream {
            stream: Cow::Borrowed(&self.stream),
            language,
            model: Cow::Borrowed(model),
        }
    }

    /// The companion, owned, as a store hands it out, read against the empty model.
    pub fn into_stream(self) -> StatusStream<'static> {
        StatusStream {
            stream: Cow::Owned(self.stream.into_vec()),
            language: Language::Python,
            model: Cow::Borrowed(&EMPTY),
        }
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
/// caller (tree-sitter's row reads it from its tree), with the model and language it is read against.
#[derive(Clone, Debug)]
pub struct StatusStream<'a> {
    stream: Cow<'a, [u8]>,
    language: Language,
    model: Cow<'a, StatusModel>,
}

impl<'a> StatusStream<'a> {
    /// A stream of a file of `language` encoded against `model`, each borrowed or owned (a store that keeps
    /// its model coded decodes it for the caller: what the caller then holds is its working memory).
    pub fn new(
        stream: Cow<'a, [u8]>,
        language: Language,
        model: Cow<'a, StatusModel>,
    ) -> StatusStream<'a> {
        StatusStream {
            stream,
            language,
            model,
        }
    }

    /// A reader for a preorder walk from the root.
    pub fn reader(&self) -> StatusReader<'_> {
        reader_of(&self.stream, self.language, &self.model)
    }

    /// Every node's status, in preorder, for nodes in these contexts.
    pub fn decode(&self, contexts: impl IntoIterator<Item = StatusContext>) -> Vec<NodeStatus> {
        let mut reader = self.reader();
        contexts.into_iter().map(|c| reader.next(c)).collect()
    }
}

fn reader_of<'a>(stream: &'a [u8], language: Language, model: &'a StatusModel) -> StatusReader<'a> {
    let mut reader = StatusReader {
        stream,
        language,
        model,
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
    language: Language,
    model: &'a StatusModel,
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
            if shift < 64 {
                value |= u64::from(byte & 0x7f) << shift;
            }
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
        self.next = self.node.saturating_add(self.gap);
    }

    /// The status of the next node in preorder, which the walk sees in `context`.
    #[inline]
    pub fn next(&mut self, context: StatusContext) -> NodeStatus {
        let mut status = self.model.predict(self.language, context);
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
/// streams' bytes, in two blocks), the files replaced since in a map of their own streams, and the
/// store's [`StatusModel`], which every stream is encoded against once [`QueryStatuses::learn`] has run.
///
/// Before that (while a store is being built), [`QueryStatuses::push`] counts every file's statuses and
/// encodes its stream against a provisional model learned from the files pushed before it (after the 16th,
/// 64th, 256th and 1,024th file; the first 16 against the empty model): the streams then stay near what the final
/// model gives instead of about a byte a node, which would sit in a build's peak. A byte per file says which
/// model its stream is encoded against; `learn` re-encodes every stream against the store's one model and
/// drops the provisional ones and the counts.
#[derive(Clone, Default)]
pub struct QueryStatuses {
    streams: Vec<u8>,
    /// Where each file's stream starts in `streams`; the next file's start (or the end) ends it.
    starts: Vec<u32>,
    /// The current companion of each file replaced or restored since it was added.
    edited: std::collections::HashMap<u32, FileStatus>,
    model: StatusModel,
    /// Until `learn`: the counts of every file pushed, the provisional models, and for each file pushed
    /// the model its stream is encoded against (0: `model`, `i`: `provisional[i - 1]`).
    building: Option<Box<Provisional>>,
}

#[derive(Clone, Default)]
struct Provisional {
    counts: ModelBuilder,
    models: Vec<StatusModel>,
    coded_with: Vec<u8>,
}

impl std::fmt::Debug for QueryStatuses {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QueryStatuses")
            .field("files", &self.starts.len())
            .field("stream_bytes", &self.streams.len())
            .field("edited", &self.edited.len())
            .field("model", &self.model)
            .finish()
    }
}

/// The numbers of files after which a provisional model is learned (the counts are dropped with the last: a
/// model from a thousand files predicts nearly as well as the store's); the first 16 files are encoded
/// against the empty model.
const PROVISIONAL_AFTER: [usize; 4] = [16, 64, 256, 1_024];

impl QueryStatuses {
    /// Adds the next file's companion, built from its tree (a file of `language`): against the store's
    /// model once it has learned one, else against the latest provisional model (see the type's docs).
    pub fn push(&mut self, language: Language, tree: &tree_sitter::Tree) {
        let learned = !self.starts.is_empty() && self.building.is_none();
        if learned {
            self.push_status(self.status_of(language, tree));
            return;
        }
        let mut building = self.building.take().unwrap_or_default();
        let status = {
            let model = building.models.last().unwrap_or(&self.model);
            let mut encoder = Encoder::default();
            let counting = building.models.len() < PROVISIONAL_AFTER.len();
            let counts = &mut building.counts;
            for_each_status(tree, |status, context| {
                if counting {
                    counts.count_one(language, status, context);
                }
                encoder.push(status, model.predict(language, context));
            });
            encoder.finish()
        };
        building.coded_with.push(building.models.len() as u8);
        self.push_status(status);
        let pushed = self.starts.len();
        if PROVISIONAL_AFTER.get(building.models.len()) == Some(&pushed) {
            let model = if building.models.len() + 1 == PROVISIONAL_AFTER.len() {
                // The last: the counts are not needed any more.
                std::mem::take(&mut building.counts).build()
            } else {
                building.counts.clone().build()
            };
            building.models.push(model);
        }
        self.building = Some(building);
    }

    /// The model file `file`'s stream is encoded against.
    fn model_of(&self, file: usize) -> &StatusModel {
        if self.edited.contains_key(&(file as u32)) {
            return &self.model;
        }
        match &self.building {
            Some(b) => match b.coded_with.get(file).copied().unwrap_or(0) {
                0 => &self.model,
                i => &b.models[usize::from(i) - 1],
            },
            None => &self.model,
        }
    }

    /// The companion of `tree` (a file of `language`) against this store's model: what
    /// [`QueryStatuses::replace`] takes.
    pub fn status_of(&self, language: Language, tree: &tree_sitter::Tree) -> FileStatus {
        FileStatus::of_with(tree, language, &self.model)
    }

    /// Adds the next file's companion as it is (one a saved form gives back, or [`QueryStatuses::status_of`]).
    pub fn push_status(&mut self, status: FileStatus) {
        let start = u32::try_from(self.streams.len()).expect("query statuses under 4 GiB");
        self.starts.push(start);
        // Grown by an eighth, not doubled: before `learn` the streams are against the empty model (about a
        // byte a node), and their spare room would sit in a build's peak.
        let bytes = status.as_bytes();
        if self.streams.capacity() - self.streams.len() < bytes.len() {
            self.streams
                .reserve_exact(bytes.len().max(self.streams.len() / 8).max(4096));
        }
        self.streams.extend_from_slice(bytes);
    }

    /// Replaces file `file`'s companion (one [`QueryStatuses::status_of`] gave).
    pub fn replace(&mut self, file: usize, status: FileStatus) {
        self.edited.insert(file as u32, status);
    }

    /// Puts back a companion taken with [`QueryStatuses::owned`] (a version's).
    pub fn restore(&mut self, file: usize, status: &FileStatus) {
        self.replace(file, status.clone());
    }

    fn bytes_of(&self, file: usize) -> &[u8] {
        if let Some(edited) = self.edited.get(&(file as u32)) {
            return edited.as_bytes();
        }
        let start = self.starts[file] as usize;
        let end = self
            .starts
            .get(file + 1)
            .map_or(self.streams.len(), |&s| s as usize);
        &self.streams[start..end]
    }

    /// File `file`'s companion (a file of `language`), as the store hands it out.
    pub fn get(&self, file: usize, language: Language) -> StatusStream<'_> {
        StatusStream {
            stream: Cow::Borrowed(self.bytes_of(file)),
            language,
            model: Cow::Borrowed(self.model_of(file)),
        }
    }

    /// A copy of file `file`'s companion (what a version keeps).
    pub fn owned(&self, file: usize) -> FileStatus {
        FileStatus::from_bytes(self.bytes_of(file))
    }

    /// The store's model.
    pub fn model(&self) -> &StatusModel {
        &self.model
    }

    /// Learns the store's model from its files and re-encodes every file's companion against it (called
    /// from a store's `finish`, with `file` giving each file's language and the contexts of its nodes in
    /// preorder, e.g. by [`contexts_of`]): two calls of `file` per file (one to count, one to re-encode),
    /// O(nodes); the old streams are dropped as the new ones are built. Versions taken before are not to be
    /// restored after (their streams were encoded against the old model).
    pub fn learn(
        &mut self,
        files: usize,
        mut file: impl FnMut(usize) -> (Language, Vec<StatusContext>),
    ) {
        let mut builder = ModelBuilder::default();
        for f in 0..files {
            let (language, contexts) = file(f);
            let statuses = self.get(f, language).decode(contexts.iter().copied());
            builder.count(language, &statuses, &contexts);
        }
        let model = builder.build();
        let mut learned = QueryStatuses::default();
        for f in 0..files {
            let (language, contexts) = file(f);
            let statuses = self.get(f, language).decode(contexts.iter().copied());
            learned.push_status(FileStatus::encode_with(
                &statuses, &contexts, language, &model,
            ));
        }
        learned.model = model;
        learned.shrink();
        *self = learned;
    }

    /// Every file's companion as one saved section: the model ([`StatusModel::to_bytes`]), then per file
    /// its length (`u64`, little-endian) and its stream (16 bytes per model entry, 8 per file and the
    /// streams' bytes).
    pub fn to_section(&self, files: usize) -> Vec<u8> {
        let mut section = self.model.to_bytes();
        for f in 0..files {
            let status = self.bytes_of(f);
            section.extend_from_slice(&(status.len() as u64).to_le_bytes());
            section.extend_from_slice(status);
        }
        section
    }

    /// The companions of `files` files from a section [`QueryStatuses::to_section`] wrote, the model and
    /// every length checked against the section before it is used; a section cut short, a damaged model or
    /// bytes after the last file's are refused.
    pub fn from_section(section: &[u8], files: usize) -> Result<QueryStatuses, String> {
        let (model, mut at) = StatusModel::from_bytes(section)?;
        let mut statuses = QueryStatuses {
            model,
            ..QueryStatuses::default()
        };
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

    #[test]
    fn a_learned_model_predicts_and_mispredictions_are_kept() {
        let train = [
            (
                Language::Python,
                "def f(a):\n    # c\n    return [a, *a] + g(a, b)\n",
            ),
            (
                Language::Rust,
                "fn f<T: X>(a: T) -> u8 { /* c */ a.0 + b(c) }\n",
            ),
        ];
        let mut builder = ModelBuilder::default();
        for (language, text) in train {
            // Enough of each context for an entry to be worth its bytes.
            let (statuses, contexts) = statuses_with_contexts(&language.parse(&text.repeat(20)));
            builder.count(language, &statuses, &contexts);
        }
        let model = builder.build();
        assert!(model.entries() > 0);
        let (again, used) = StatusModel::from_bytes(&model.to_bytes()).unwrap();
        assert_eq!((&again, used), (&model, model.to_bytes().len()));
        // Files it was learned from, and others (Python that it has seen little of, TypeScript it has not).
        for (language, text) in train.into_iter().chain([
            (
                Language::Python,
                "class A(B):\n    x: int = 1 if y else 2  # c\n",
            ),
            (Language::TypeScript, "let x: number = f(1) // c\n"),
        ]) {
            let (statuses, contexts) = statuses_with_contexts(&language.parse(text));
            let file = FileStatus::encode_with(&statuses, &contexts, language, &model);
            let mut reader = reader_of(file.as_bytes(), language, &model);
            for (i, (&want, &context)) in statuses.iter().zip(&contexts).enumerate() {
                assert_eq!(reader.next(context), want, "{language:?} node #{i}");
            }
        }
        // A damaged model is refused.
        let bytes = model.to_bytes();
        assert!(StatusModel::from_bytes(&bytes[..bytes.len() - 1]).is_err());
        let mut bad = bytes.clone();
        bad[15] = 0x80;
        assert!(StatusModel::from_bytes(&bad).is_err());
        let mut bad = bytes.clone();
        bad[12..14].copy_from_slice(&MAX_KIND.to_le_bytes());
        let refused = StatusModel::from_bytes(&bad).unwrap_err();
        assert!(refused.contains("entry 0 is damaged"), "{refused}");
    }
}
