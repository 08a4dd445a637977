//! The operations every backend answers through [`CstStore`]/[`CstCursor`], with one generic implementation
//! each so that only the storage differs. Each returns an answer digest that must agree across backends.

use crate::backend::{CstCursor, CstStore, NodeInfo};
use crate::native::TreeSitterStore;
use crate::reference::for_each_preorder;
use crate::tree_walk::CountedCursor;
use crate::Language;
use serde::{Deserialize, Serialize};

/// Byte offsets sampled per corpus for the node-at-offset operations, by default.
pub const OFFSET_SAMPLES: usize = 10_000;
/// Seed of the offset sampler, fixed so that every backend and every run asks the same questions.
pub const OFFSET_SEED: u64 = 0x0005_eed0_ff5e;

/// The operations, in table order.
pub const OPERATIONS: [Operation; 7] = [
    Operation::Open,
    Operation::Walk,
    Operation::NamedHistogram,
    Operation::NodeAtOffset,
    Operation::NativeNodeAtOffset,
    Operation::ParentChain,
    Operation::IdentifierText,
];

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Operation {
    /// A cursor on every file's root (moved there by `reset_cursor`, so a store that thaws files thaws each).
    Open,
    /// Preorder walk reading every node's kind, field, byte range, missing flag and depth, through the
    /// store's [`CstStore::fold_preorder`].
    Walk,
    /// Count of named nodes per kind (a preorder walk of a cursor, reading kinds: [`CstCursor::kind`]).
    NamedHistogram,
    /// Deepest node at each sampled offset.
    NodeAtOffset,
    /// The same question put to a backend's own native lookup, where it has one that answers by a different
    /// rule (tree-sitter's `descendant_for_byte_range`). Timed for reference; its answers are not compared.
    NativeNodeAtOffset,
    /// Depth of the node at each sampled offset (parent chain to the root).
    ParentChain,
    /// Text of every identifier-like leaf (a preorder walk of a cursor, reading each leaf's text from it).
    IdentifierText,
}

impl Operation {
    pub fn name(self) -> &'static str {
        match self {
            Operation::Open => "open every file",
            Operation::Walk => "full preorder walk",
            Operation::NamedHistogram => "named-node histogram",
            Operation::NodeAtOffset => "node at offset",
            Operation::NativeNodeAtOffset => "node at offset, native lookup",
            Operation::ParentChain => "parent chain to root",
            Operation::IdentifierText => "identifier texts",
        }
    }

    /// Whether every backend's answers must agree.
    pub fn compared(self) -> bool {
        self != Operation::NativeNodeAtOffset
    }

    /// What one counted item is (per-item times divide by it).
    pub fn item(self) -> &'static str {
        match self {
            Operation::Open => "file",
            Operation::Walk | Operation::NamedHistogram | Operation::IdentifierText => "node",
            Operation::NodeAtOffset | Operation::NativeNodeAtOffset | Operation::ParentChain => {
                "offset"
            }
        }
    }
}

/// The result of one run of an operation: a digest to compare across backends and the items it covered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Answer {
    pub digest: u64,
    pub items: u64,
}

/// Per-language facts about kinds that the operations need, read from the grammar once.
pub struct KindTables {
    named: [Vec<bool>; 4],
    identifier: [Vec<bool>; 4],
}

impl KindTables {
    pub fn new() -> KindTables {
        let table = |pick: fn(&tree_sitter::Language, u16) -> bool| {
            Language::ALL.map(|language| {
                let grammar = language.grammar();
                (0..grammar.node_kind_count() as u16)
                    .map(|kind| pick(&grammar, kind))
                    .collect()
            })
        };
        KindTables {
            named: table(|g, k| g.node_kind_is_named(k)),
            identifier: table(|g, k| {
                g.node_kind_is_named(k)
                    && g.node_kind_for_id(k)
                        .is_some_and(|name| name.ends_with("identifier"))
            }),
        }
    }

    fn is_named(&self, language: Language, kind: u16) -> bool {
        kind == u16::MAX || self.named[language.index()].get(kind as usize) == Some(&true)
    }

    fn is_identifier(&self, language: Language, kind: u16) -> bool {
        self.identifier[language.index()].get(kind as usize) == Some(&true)
    }
}

impl Default for KindTables {
    fn default() -> Self {
        KindTables::new()
    }
}

/// `count` sampled `(file, offset)` pairs: uniform over all source bytes of the corpus, fixed seed.
pub fn sample_offsets(file_sizes: &[u64], count: usize) -> Vec<(usize, u32)> {
    let mut starts = Vec::with_capacity(file_sizes.len());
    let mut total = 0u64;
    for &size in file_sizes {
        starts.push(total);
        total += size;
    }
    if total == 0 {
        return Vec::new();
    }
    let mut rng = fastrand::Rng::with_seed(OFFSET_SEED);
    (0..count)
        .map(|_| {
            let global = rng.u64(0..total);
            // The last file starting at or before `global` that is not empty holds it.
            let file = starts.partition_point(|&s| s <= global) - 1;
            (file, (global - starts[file]) as u32)
        })
        .collect()
}

/// Folds a value into a digest (FNV-1a-style on 64-bit words: cheap, so timings measure the storage).
fn mix(digest: u64, value: u64) -> u64 {
    (digest ^ value).wrapping_mul(0x0000_0100_0000_01b3)
}

/// Folds every part of a node into a digest. Kind, field, missing flag and depth share one word without
/// overlap; start and end get a word each, so no two nodes fold in the same words whatever their offsets.
/// Public for benchmarks that time a walk's floor (the digest over nodes already decoded).
pub fn mix_node(digest: u64, depth: u32, node: NodeInfo) -> u64 {
    let tag = u64::from(node.kind)
        | (u64::from(node.field) << 16)
        | (u64::from(node.missing) << 32)
        | (u64::from(depth) << 33);
    mix(
        mix(mix(digest, tag), u64::from(node.start)),
        u64::from(node.end),
    )
}

/// The digest of no node.
pub const DIGEST_START: u64 = 0xcbf2_9ce4_8422_2325;

/// The walk operation over `files` of `store` ([`run`] walks all of them), through
/// [`CstStore::fold_preorder`].
pub fn walk<S: CstStore>(store: &S, files: impl IntoIterator<Item = usize>) -> Answer {
    let (digest, items) = files
        .into_iter()
        .fold((DIGEST_START, 0), |(digest, items), file| {
            store.fold_preorder(file, (digest, items), fold_node)
        });
    Answer { digest, items }
}

/// One node of the walk operation.
#[inline(always)]
fn fold_node((digest, items): (u64, u64), depth: u32, node: NodeInfo) -> (u64, u64) {
    (mix_node(digest, depth, node), items + 1)
}

/// The walk operation over `files` of tree-sitter's own trees through its fastest public-API walk, the
/// [`CountedCursor`] (which never asks for a first child of a childless node nor for a sibling after the
/// last its parent's count promises): the fair baseline of a walk. Its answer is [`walk`]'s.
pub fn walk_counted(store: &TreeSitterStore, files: impl IntoIterator<Item = usize>) -> Answer {
    let (mut digest, mut items) = (DIGEST_START, 0u64);
    for file in files {
        let mut cursor = CountedCursor::new(store.tree(file));
        let mut depth = 0u32;
        'walk: loop {
            let node = cursor.node();
            digest = mix_node(digest, depth, NodeInfo::of(node, cursor.field_id()));
            items += 1;
            if cursor.goto_first_child(node.child_count()) {
                depth += 1;
                continue;
            }
            while !cursor.goto_next_sibling() {
                if !cursor.goto_parent() {
                    break 'walk;
                }
                depth -= 1;
            }
        }
    }
    Answer { digest, items }
}

/// Runs one operation over every file of `store` ([`run_on`] all of them; the list of files is allocated
/// here, so time [`run_on`] where an allocation matters).
pub fn run<S: CstStore>(
    op: Operation,
    store: &S,
    tables: &KindTables,
    offsets: &[(usize, u32)],
) -> Answer {
    let files: Vec<usize> = (0..store.len()).collect();
    run_on(op, store, tables, &files, offsets)
}

/// Runs one operation over `files` of `store` (store positions, in that order; the offsets name files by
/// store position too): every file for the operations table, a sample of them beside tree-sitter's own trees
/// of the same files (see [`crate::native::TreeSitterStore`]), whose answer is then the backend's.
pub fn run_on<S: CstStore>(
    op: Operation,
    store: &S,
    tables: &KindTables,
    files: &[usize],
    offsets: &[(usize, u32)],
) -> Answer {
    let mut digest = DIGEST_START;
    let mut items = 0u64;
    match op {
        Operation::Open => {
            if let Some(&first) = files.first() {
                let mut cursor = store.cursor(first);
                for &file in files {
                    store.reset_cursor(&mut cursor, file);
                    digest = mix_node(digest, 0, cursor.node());
                    items += 1;
                }
            }
        }
        Operation::Walk => return walk(store, files.iter().copied()),
        Operation::NamedHistogram => {
            // Histogram keyed by (language, kind): ERROR (u16::MAX) goes in the slot past the grammar's kinds.
            let mut counts: Vec<Vec<u64>> = vec![Vec::new(); Language::ALL.len()];
            for &file in files {
                let language = store.language(file);
                let slots = &mut counts[language.index()];
                for_each_preorder(&mut store.cursor(file), |c| {
                    let kind = c.kind();
                    items += 1;
                    if tables.is_named(language, kind) {
                        let slot = if kind == u16::MAX {
                            tables.named[language.index()].len()
                        } else {
                            kind as usize
                        };
                        if slots.len() <= slot {
                            slots.resize(slot + 1, 0);
                        }
                        slots[slot] += 1;
                    }
                });
            }
            for (language, slots) in counts.iter().enumerate() {
                for (kind, &count) in slots.iter().enumerate().filter(|(_, &c)| c > 0) {
                    digest = mix(mix(mix(digest, language as u64), kind as u64), count);
                }
            }
        }
        Operation::NodeAtOffset => {
            // One cursor, moved by every lookup: no backend allocates per lookup where another does not.
            if let Some(&(first, _)) = offsets.first() {
                let mut cursor = store.cursor(first);
                for &(file, offset) in offsets {
                    store.seek(&mut cursor, file, offset);
                    digest = mix_node(digest, 0, cursor.node());
                    items += 1;
                }
            }
        }
        Operation::NativeNodeAtOffset => {
            for &(file, offset) in offsets {
                if let Some(node) = store.native_node_at_offset(file, offset) {
                    digest = mix_node(digest, 0, node);
                    items += 1;
                }
            }
        }
        Operation::ParentChain => {
            if let Some(&(first, _)) = offsets.first() {
                let mut cursor = store.cursor(first);
                for &(file, offset) in offsets {
                    store.seek(&mut cursor, file, offset);
                    let mut depth = 0u64;
                    while cursor.goto_parent() {
                        depth += 1;
                    }
                    digest = mix(digest, depth);
                    items += 1;
                }
            }
        }
        Operation::IdentifierText => {
            for &file in files {
                let language = store.language(file);
                for_each_preorder(&mut store.cursor(file), |c| {
                    items += 1;
                    if tables.is_identifier(language, c.kind()) {
                        for byte in c.text().bytes() {
                            digest = mix(digest, u64::from(byte));
                        }
                        digest = mix(digest, 0xff);
                    }
                });
            }
        }
    }
    Answer { digest, items }
}
