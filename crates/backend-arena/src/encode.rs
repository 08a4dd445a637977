//! From a tree-sitter tree to a file's stream, in two passes over a scratch arena.
//!
//! 1. **The walk** (forward): one preorder walk of tree-sitter's tree through a
//!    [`cst_measure::tree_walk::CountedCursor`] (which asks tree-sitter only for moves that succeed), the
//!    only pass that touches tree-sitter's tree,
//!    records each visible node in a 32-byte [`Flat`] and, as soon as the node is finished (its next sibling
//!    found, or its parent's children done), chooses its symbol (from the [`Memo`] of choices already made
//!    when it holds one: most nodes repeat a choice). A node's context depends only on its
//!    parent's kind and its previous sibling's symbol, both known by then, and a node is finished only when
//!    the walk knows whether it is its parent's last child. Wide nodes' every [`STRIDE`]-th children are
//!    noted as candidate samples.
//! 2. **The writing** (backward): subtree sizes need the bits of everything below a node, so the records are
//!    written last to first: a non-last inner node's descendants are written, and their bits counted,
//!    before it. Bits are prepended into a scratch buffer ([`ReverseWriter`]), so the stream comes out in
//!    order; its first byte is padded at the front (the header says by how many bits). The length of the
//!    whole stream is known at the end of this pass and checked against the limits before anything goes
//!    into the store.
//!
//! The scratch arena is a `bumpalo::Bump` the store resets before each file and drops in `finish()`: no
//! per-node allocation, and no scratch memory survives the build. Beside it the scratch holds the [`Memo`]
//! (at most a [`MEMO_SHARE`]th of the store so far) and the encoder's [`Tables`] of each grammar encoded
//! (codes, next contexts and first-child contexts derived from the static decoding tables).

use crate::codec::{self, MISSING};
use crate::model::{
    Entry, Model, END_CODED, END_FIXED, END_MASK, GAP_CODED, GAP_ONE, LAST, LEAF, LOOKUP, NONE, RAW,
};
use crate::wide::{self, Sample, STRIDE, WIDE};
use bumpalo::collections::Vec as BumpVec;
use bumpalo::Bump;
use cst_measure::tree_walk::CountedCursor;
use cst_measure::{BuildError, Language};

/// [`Flat::flags`]: the node has more than [`WIDE`] children (and an index).
const WIDE_NODE: u8 = 1 << 3;
/// The node starts before its base (only raw records can say so).
const NEGATIVE_GAP: u8 = 1 << 4;
/// The node ends where its parent does.
const ENDS_WITH_PARENT: u8 = 1 << 5;
/// [`Flat::entry`] of a raw record.
const RAW_ENTRY: u16 = u16::MAX;

/// One visible node as the encoder sees it.
#[derive(Clone, Copy, Debug, Default)]
struct Flat {
    /// Start minus the base (the parent's start for a first child, the previous sibling's end otherwise),
    /// in absolute value ([`NEGATIVE_GAP`] gives the sign).
    gap: u32,
    /// End minus start.
    len: u32,
    /// Index just past this node's subtree in preorder.
    next: u32,
    /// Bits of this node's record without its size (pass 1), then with it (pass 2).
    bits: u32,
    /// Bits of the records from this node to the end of the file (pass 2).
    written: u32,
    kind: u16,
    /// Field id in the parent, 0 for none.
    field: u16,
    /// The context the record starts in.
    context: u16,
    /// The symbol (index into the model's entries) after `hops` escapes, or [`RAW_ENTRY`].
    entry: u16,
    /// [`LEAF`], [`LAST`], [`MISSING`], [`WIDE_NODE`], [`NEGATIVE_GAP`], [`ENDS_WITH_PARENT`].
    flags: u8,
    hops: u8,
}

const _: () = assert!(std::mem::size_of::<Flat>() == 32);

/// What the encoder reads beyond the decoder's static tables, derived from them ([`Tables::of`]) instead of
/// being static data of its own: per entry of a model, its code (`code << 4 | length`, most significant bit
/// first: what the decoding slots that lead to the entry say) and the id of its next sibling's context (the
/// context whose descriptor the entry carries; for an escape its fallback context or [`RAW`]); per number
/// code its 44 codes; per kind its first child's context. 4 bytes an entry, 88 a number code, 2 a kind
/// (about 8 KB a grammar), made once per grammar a build encodes (O(entries + slots), in the scratch,
/// dropped by `finish()`) and kept by an edited store from its first edit of the grammar.
pub(crate) struct Tables {
    pub(crate) codes: Box<[u16]>,
    pub(crate) links: Box<[u16]>,
    /// 44 codes per number code (`code << 4 | length`), from its decoding slots.
    pub(crate) number_codes: Box<[u16]>,
    /// `resolve(kind, NONE)` for every kind id up to the largest with a context of its children, then for
    /// `ERROR`.
    pub(crate) first_contexts: Box<[u16]>,
}

impl Tables {
    /// The encoder's tables of `model`.
    pub(crate) fn of(model: &Model) -> Tables {
        let entries = model.entries.len();
        let (mut codes, mut links) = (vec![0u16; entries], vec![0u16; entries]);
        // Contexts by descriptor (each context's decoding table starts at a slot of its own).
        let mut by_descriptor: Vec<(u32, u16)> = (model.contexts.iter().enumerate())
            .map(|(id, c)| (c.descriptor, id as u16))
            .collect();
        by_descriptor.sort_unstable();
        let context_of = |descriptor: u32| -> u16 {
            if descriptor == crate::model::RAW_DESCRIPTOR {
                return RAW;
            }
            let at = by_descriptor
                .binary_search_by_key(&descriptor, |&(d, _)| d)
                .expect("an entry's descriptor is a context's");
            by_descriptor[at].1
        };
        for c in model.contexts {
            let (shift, base) = (c.descriptor & 127, (c.descriptor >> 10) as usize);
            let (first, sub) = (64 - shift, (c.descriptor >> 7) & 7);
            // Canonical codes fill their code space from 0 up, so a code's first slot comes before any slot
            // no code reaches (zero, like a pointer to second-level table 0): the first slot seen for an
            // entry is its code's.
            let mut seen = |entry: usize, code: u32, length: u32| {
                if codes[entry] == 0 {
                    codes[entry] = ((code << 4) | length) as u16;
                }
            };
            for prefix in 0..1u32 << first {
                let slot = u32::from(model.slots[base + prefix as usize]);
                if slot & 15 != 0 {
                    let length = slot & 15;
                    seen((slot >> 4) as usize, prefix >> (first - length), length);
                    continue;
                }
                let table = base + (1 << first) + ((slot >> 4) << sub) as usize;
                for rest in 0..1u32 << sub {
                    let slot = u32::from(model.slots[table + rest as usize]);
                    let length = slot & 15;
                    if length > first {
                        let below = length - first;
                        seen(
                            (slot >> 4) as usize,
                            (prefix << below) | (rest >> (sub - below)),
                            length,
                        );
                    }
                }
            }
            let from = usize::from(c.entries);
            let to = from + usize::from(c.symbols) + 1;
            for (link, e) in links[from..to].iter_mut().zip(&model.entries[from..to]) {
                if e.flags & LOOKUP == 0 {
                    *link = context_of(e.next);
                }
            }
        }
        // Number codes: a slot holds `small << 9 | extra << 4 | length` (see `Model::number_slots`): the
        // symbol is `small` below 16, else `extra + 12`.
        let families = model.number_slots.len() / 256;
        let mut number_codes = vec![0u16; families * 44];
        for (family, slots) in model.number_slots.chunks_exact(256).enumerate() {
            for (prefix, &slot) in slots.iter().enumerate() {
                let (length, extra, small) = (slot & 15, (slot >> 4) & 31, slot >> 9);
                let symbol = usize::from(if extra > 0 { extra + 12 } else { small });
                let code = &mut number_codes[family * 44 + symbol];
                if length > 0 && *code == 0 {
                    *code = (((prefix as u16) >> (8 - length)) << 4) | length;
                }
            }
        }
        // First children's contexts: only a kind that is some context's parent has one other than the
        // global context.
        let parents = (model.pairs.iter().map(|&key| (key >> 16) as u16))
            .chain(model.fallback_kinds.iter().copied())
            .filter(|&kind| kind < NONE);
        let largest = parents.max().unwrap_or(0);
        let mut first_contexts: Vec<u16> = (0..=largest)
            .map(|kind| model.resolve(kind, NONE))
            .collect();
        first_contexts.push(model.resolve(u16::MAX, NONE));
        Tables {
            codes: codes.into_boxed_slice(),
            links: links.into_boxed_slice(),
            number_codes: number_codes.into_boxed_slice(),
            first_contexts: first_contexts.into_boxed_slice(),
        }
    }
}

/// The encoder's [`Tables`] of each grammar derived so far, by [`Language::index`].
pub(crate) type EncoderTables = [Option<Tables>; 4];

/// Bits a number of code `code` takes.
#[inline(always)]
fn number_length(value: u32, code: u8, model: &Coder<'_>) -> u32 {
    let (symbol, bits) = codec::number_symbol(value);
    u32::from(model.number_codes[usize::from(code) * 44 + symbol] & 15) + bits
}

/// A model with the encoder's [`Tables`] beside it: what the encoder codes with.
pub(crate) struct Coder<'t> {
    pub(crate) model: &'static Model,
    pub(crate) codes: &'t [u16],
    pub(crate) links: &'t [u16],
    pub(crate) number_codes: &'t [u16],
    first_contexts: &'t [u16],
}

impl<'t> Coder<'t> {
    pub(crate) fn new(model: &'static Model, tables: &'t Tables) -> Coder<'t> {
        Coder {
            model,
            codes: &tables.codes,
            links: &tables.links,
            number_codes: &tables.number_codes,
            first_contexts: &tables.first_contexts,
        }
    }

    /// The context of the first child of a node of kind `kind`: [`Model::resolve`]`(kind, NONE)`, from a
    /// table.
    #[inline(always)]
    pub(crate) fn first_context(&self, kind: u16) -> u16 {
        let last = self.first_contexts.len() - 1;
        match kind {
            u16::MAX => self.first_contexts[last],
            kind if usize::from(kind) < last => self.first_contexts[usize::from(kind)],
            _ => self.global,
        }
    }
}

impl std::ops::Deref for Coder<'_> {
    type Target = Model;
    #[inline(always)]
    fn deref(&self) -> &Model {
        self.model
    }
}

impl Coder<'_> {
    /// The id of the context of the node after one coded as entry `index` under a parent of kind `parent`
    /// (the encoder's [`Model::next_descriptor`]).
    #[inline(always)]
    fn next_context(&self, index: usize, parent: u16) -> u16 {
        if self.entries[index].flags & LOOKUP == 0 {
            self.links[index]
        } else {
            self.resolve(parent, self.entries[index].kind_field as u16)
        }
    }
}

/// What the encoder reads of a tree: the cursor moves and node facts of tree-sitter's tree (a trait so that
/// tests can feed it trees tree-sitter never makes).
pub(crate) trait Walk {
    /// Kind, field in the parent, start, end and number of visible children of the node under the cursor.
    fn node(&self) -> (u16, u16, usize, usize, u32);
    /// Whether it is MISSING (asked only of empty nodes: a MISSING node is always empty).
    fn missing(&self) -> bool;
    /// Moves to the first child of the node under the cursor, whose child count is `children`.
    fn goto_first_child(&mut self, children: u32) -> bool;
    fn goto_next_sibling(&mut self) -> bool;
    fn goto_parent(&mut self) -> bool;
}

impl Walk for CountedCursor<'_> {
    #[inline(always)]
    fn node(&self) -> (u16, u16, usize, usize, u32) {
        let node = CountedCursor::node(self);
        (
            node.kind_id(),
            self.field_id(),
            node.start_byte(),
            node.end_byte(),
            node.child_count(),
        )
    }

    fn missing(&self) -> bool {
        CountedCursor::node(self).is_missing()
    }

    #[inline(always)]
    fn goto_first_child(&mut self, children: u32) -> bool {
        CountedCursor::goto_first_child(self, children)
    }

    #[inline(always)]
    fn goto_next_sibling(&mut self) -> bool {
        CountedCursor::goto_next_sibling(self)
    }

    #[inline(always)]
    fn goto_parent(&mut self) -> bool {
        CountedCursor::goto_parent(self)
    }
}

/// Encodes `tree` (of a text of `text_len` bytes) and appends the file's stream to `out`: a header byte, the
/// wide-node index when there is one, and the records. Fails, leaving `out` as it was, if the stream would
/// exceed `max_stream` bytes or the format's 32-bit bit offsets.
pub(crate) fn encode(
    scratch: &mut Scratch,
    language: Language,
    text_len: u32,
    tree: &tree_sitter::Tree,
    max_stream: u64,
    out: &mut Vec<u8>,
) -> Result<(), BuildError> {
    let mut cursor = CountedCursor::new(tree);
    encode_from(
        scratch,
        language,
        text_len,
        &mut cursor,
        tree.root_node().descendant_count(),
        max_stream,
        out,
    )
}

/// Subtrees an update takes from the file's previous stream instead of walking them: given a node's kind,
/// start and end in the new tree, the bit range of its descendants' records in `old` (which has at least 8
/// bytes after its last record), or `None` to walk it. The descendants' records of an unchanged subtree are
/// the same bits wherever it moves: a record holds gaps and lengths relative to its parent and siblings, and
/// its context depends only on its parent's and previous sibling's kinds, all inside the subtree. The
/// subtree's root is encoded afresh (its gap, its being last, its size). Subtrees with a wide node are not
/// taken (the index holds absolute positions).
pub(crate) struct Reuse<'r> {
    pub old: &'r [u8],
    pub find: &'r mut FindReusable<'r>,
}

/// Given a new node's kind, start and end: the first bit and the bits of its descendants' records in the
/// previous stream, if they can be copied.
pub(crate) type FindReusable<'r> = dyn FnMut(u16, u32, u32) -> Option<(u32, u32)> + 'r;

/// [`encode`], taking unchanged subtrees' records from a previous stream where `reuse` finds them.
pub(crate) fn encode_reusing(
    scratch: &mut Scratch,
    language: Language,
    text_len: u32,
    tree: &tree_sitter::Tree,
    max_stream: u64,
    out: &mut Vec<u8>,
    reuse: Reuse<'_>,
) -> Result<(), BuildError> {
    let mut cursor = CountedCursor::new(tree);
    encode_with(
        scratch,
        language,
        text_len,
        &mut cursor,
        0,
        max_stream,
        out,
        Some(reuse),
    )
}

/// [`encode`] from any [`Walk`]; `nodes` is a capacity hint.
fn encode_from<W: Walk>(
    scratch: &mut Scratch,
    language: Language,
    text_len: u32,
    source: &mut W,
    nodes: usize,
    max_stream: u64,
    out: &mut Vec<u8>,
) -> Result<(), BuildError> {
    encode_with(
        scratch, language, text_len, source, nodes, max_stream, out, None,
    )
}

#[allow(clippy::too_many_arguments)]
fn encode_with<W: Walk>(
    scratch: &mut Scratch,
    language: Language,
    text_len: u32,
    source: &mut W,
    nodes: usize,
    max_stream: u64,
    out: &mut Vec<u8>,
    reuse: Option<Reuse<'_>>,
) -> Result<(), BuildError> {
    scratch.grow_memo();
    let Scratch {
        bump,
        memo,
        nodes: encoded,
        tables,
        ..
    } = scratch;
    let model = Model::of(language);
    let tables = tables[language.index()].get_or_insert_with(|| Tables::of(model));
    let model = &Coder::new(model, tables);
    // One chunk for the whole file, sized up front (a `Flat` per node, the write buffer's few bytes per
    // node, the rest): a bump that grows chunk by chunk doubles, and keeps the smaller chunks until reset.
    // A chunk too small, or over twice too large (what a larger file left), is freed before the new one is
    // taken, so that the next files' trees are not built beside it.
    let need = nodes
        .saturating_mul(std::mem::size_of::<Flat>() + 8)
        .saturating_add(4096);
    let capacity = bump.chunk_capacity();
    if capacity < need || capacity > need.saturating_mul(2) {
        *bump = Bump::new();
        *bump = Bump::with_capacity(need);
    }
    let scratch = &*bump;
    let (old, find) = match reuse {
        Some(Reuse { old, find }) => (Some(old), Some(find)),
        None => (None, None),
    };
    let mut walked = walk(
        scratch, model, memo, language, text_len, source, nodes, find,
    )?;
    *encoded += walked.flat.len() as u64;
    let (bytes, pad) = write(scratch, model, &mut walked, old);
    let total = u64::from(walked.flat.first().map_or(0, |n| n.written));
    let wide = samples(scratch, &walked);
    let index_bytes = if wide.nodes.is_empty() {
        0
    } else {
        wide::index_len(wide.nodes.len(), wide.samples.len())
    };
    let prefix = 1 + if index_bytes == 0 { 0 } else { 4 + index_bytes };
    let stream_bytes = prefix as u64 + bytes.len() as u64;
    let limit = max_stream.min(u64::from(u32::MAX) / 8);
    if stream_bytes > limit {
        return Err(BuildError::Limit(format!(
            "the file's tree needs {stream_bytes} bytes of records; this store holds at most {limit} bytes of \
             records per file (32-bit bit offsets)"
        )));
    }
    crate::reserve_bounded(out, stream_bytes as usize + crate::codec::PADDING);
    out.push(language.index() as u8 | if index_bytes == 0 { 0 } else { 4 } | (pad << 3));
    if index_bytes > 0 {
        // Bit offsets of the nodes the index names: records start after the index and the padding.
        let origin = prefix as u64 * 8 + u64::from(pad);
        let at = |i: usize| {
            let written = walked.flat.get(i).map_or(0, |n| n.written);
            (origin + total - u64::from(written)) as u32
        };
        let keys: BumpVec<'_, u32> = BumpVec::from_iter_in(
            wide.nodes.iter().map(|&(node, _, _)| at(node as usize + 1)),
            scratch,
        );
        let samples: BumpVec<'_, Sample> = BumpVec::from_iter_in(
            wide.samples.iter().map(|&(child, base, context)| Sample {
                at: at(child as usize),
                base,
                context,
            }),
            scratch,
        );
        out.extend_from_slice(&(index_bytes as u32).to_le_bytes());
        let start = out.len();
        out.resize(start + index_bytes, 0);
        wide::write_index(&mut out[start..], &keys, &wide.nodes, &samples);
    }
    out.extend_from_slice(bytes);
    Ok(())
}

/// A parent whose children the walk is in.
#[derive(Clone, Copy)]
struct Open {
    index: u32,
    kind: u16,
    end: u32,
    children: u32,
}

/// What the walk learned.
struct Walked<'s> {
    flat: BumpVec<'s, Flat>,
    /// Every [`STRIDE`]-th child after the first of every parent: (child, parent, the child's base, its
    /// context). Only those of wide parents are kept in the index.
    candidates: BumpVec<'s, (u32, u32, u32, u16)>,
    /// An upper bound on the stream's bits.
    bound: u64,
    /// Nodes whose descendants' records are copied from a previous stream: (node, first bit, bits), in
    /// preorder.
    copies: BumpVec<'s, (u32, u32, u32)>,
}

/// Pass 1: the nodes in preorder, each with its symbol chosen as soon as it is finished.
#[allow(clippy::too_many_arguments)]
fn walk<'s, W: Walk>(
    scratch: &'s Bump,
    model: &Coder<'_>,
    memo: &mut Memo,
    language: Language,
    text_len: u32,
    source: &mut W,
    nodes: usize,
    mut reuse: Option<&mut FindReusable<'_>>,
) -> Result<Walked<'s>, BuildError> {
    let mut flat: BumpVec<'s, Flat> = BumpVec::with_capacity_in(nodes, scratch);
    let mut candidates = BumpVec::new_in(scratch);
    let mut copies = BumpVec::new_in(scratch);
    let mut open: BumpVec<'s, Open> = BumpVec::new_in(scratch);
    let mut bound = 0u64;
    // The parent of the next node (kind NONE and the whole text above the root), its base and context.
    let (mut parent_kind, mut parent_end) = (NONE, text_len);
    let (mut base, mut context) = (0u32, model.root);
    loop {
        let (kind, field, start, end, children) = source.node();
        let index = flat.len();
        if end > text_len as usize || start > end {
            return Err(BuildError::Limit(format!(
                "node {index} spans {start}..{end}, outside the {text_len}-byte text (not representable)"
            )));
        }
        if index as u64 >= u64::from(u32::MAX) {
            return Err(BuildError::Limit(
                "the file has more than 2^32 - 1 nodes".into(),
            ));
        }
        let (start, end) = (start as u32, end as u32);
        let mut flags = 0;
        if start == end && source.missing() {
            flags |= MISSING;
        }
        if start < base {
            flags |= NEGATIVE_GAP;
        }
        if end == parent_end {
            flags |= ENDS_WITH_PARENT;
        }
        flat.push(Flat {
            gap: start.abs_diff(base),
            len: end - start,
            kind,
            field,
            context,
            flags,
            ..Flat::default()
        });
        if let Some(parent) = open.last_mut() {
            if parent.children > 0 && parent.children % STRIDE == 0 {
                candidates.push((index as u32, parent.index, base, context));
            }
            parent.children += 1;
        }
        // An inner node's descendants may come from the previous stream instead.
        let copied = if children > 0 {
            reuse.as_mut().and_then(|find| find(kind, start, end))
        } else {
            None
        };
        if copied.is_none() && source.goto_first_child(children) {
            open.push(Open {
                index: index as u32,
                kind,
                end,
                children: 0,
            });
            (parent_kind, parent_end) = (kind, end);
            (base, context) = (start, model.first_context(kind));
            continue;
        }
        match copied {
            Some((from, bits)) => {
                copies.push((index as u32, from, bits));
                bound += u64::from(bits);
            }
            None => flat[index].flags |= LEAF,
        }
        // Finish nodes: this leaf (or copied subtree), then every parent whose last child it closes.
        let (mut current, mut current_end) = (index, end);
        loop {
            flat[current].next = flat.len() as u32;
            let last = !source.goto_next_sibling();
            if last {
                flat[current].flags |= LAST;
            }
            let next = symbol(model, memo, language, &mut flat[current], parent_kind);
            bound += u64::from(flat[current].bits) + 40;
            if !last {
                (base, context) = (current_end, next);
                break;
            }
            let Some(parent) = open.pop() else {
                return Ok(Walked {
                    flat,
                    candidates,
                    bound,
                    copies,
                });
            };
            if parent.children > WIDE {
                flat[parent.index as usize].flags |= WIDE_NODE;
            }
            (current, current_end) = (parent.index as usize, parent.end);
            (parent_kind, parent_end) = open.last().map_or((NONE, text_len), |p| (p.kind, p.end));
            if !source.goto_parent() {
                unreachable!("the walk closes only parents it opened");
            }
        }
    }
}

/// The encoder's scratch: a bump arena reset per file, and the [`Memo`] of symbol choices, which lasts as long
/// as the scratch (across the files of a build), starts once the scratch has encoded enough nodes for it to
/// pay, and grows with them.
pub(crate) struct Scratch {
    pub(crate) bump: Bump,
    memo: Memo,
    /// Nodes encoded through this scratch so far.
    nodes: u64,
    /// The most bytes the memo may take (a store sets it to a [`MEMO_SHARE`]th of what it holds, so that
    /// the memo stays a small part of the build's peak; unlimited by default).
    pub(crate) memo_budget: usize,
    /// The encoder's tables of each grammar it has encoded (by [`Language::index`]).
    tables: EncoderTables,
}

/// The memo of a store's build takes at most this share of the store's bytes so far (1/128: under 1% of the
/// peak, where its largest size, 64 KiB, would be 5.7% of the built-in corpus's store; 8 KiB there).
pub(crate) const MEMO_SHARE: usize = 128;

/// Nodes a scratch encodes before it starts a memo (a store of one small file, or an edit, never pays for
/// one: a memo's first choices all miss), its first size (4 KiB), and its largest (64 KiB; larger ones
/// measured no better), within the scratch's [`Scratch::memo_budget`].
const NODES_BEFORE_MEMO: u64 = 1024;
const FIRST_MEMO_SLOTS: usize = 256;
const MAX_MEMO_SLOTS: usize = 4096;

impl Scratch {
    /// A scratch with no memo yet: one of [`FIRST_MEMO_SLOTS`] starts once [`NODES_BEFORE_MEMO`] nodes have
    /// been encoded through it, and grows fourfold, up to [`MAX_MEMO_SLOTS`], each time they reach 16 per
    /// slot.
    pub(crate) fn new() -> Scratch {
        Scratch {
            bump: Bump::new(),
            memo: Memo::new(0),
            nodes: 0,
            memo_budget: usize::MAX,
            tables: Default::default(),
        }
    }

    /// Bytes of the bump arena's chunks (their metadata included) and of the memo with the encoder's tables.
    pub(crate) fn bytes(&mut self) -> (usize, usize) {
        let tables: usize = (self.tables.iter().flatten())
            .map(|t| {
                std::mem::size_of_val(&*t.codes)
                    + std::mem::size_of_val(&*t.links)
                    + std::mem::size_of_val(&*t.number_codes)
                    + std::mem::size_of_val(&*t.first_contexts)
            })
            .sum();
        (
            self.bump.allocated_bytes_including_metadata(),
            std::mem::size_of_val(&*self.memo.slots) + tables,
        )
    }

    /// A scratch with the encoder's tables already derived (see [`Scratch::into_tables`]).
    pub(crate) fn with_tables(tables: EncoderTables) -> Scratch {
        Scratch {
            tables,
            ..Scratch::new()
        }
    }

    /// The encoder's tables this scratch derived or was given, for the next scratch.
    pub(crate) fn into_tables(self) -> EncoderTables {
        self.tables
    }

    /// Starts or grows the memo if this scratch has encoded enough nodes for it to pay.
    fn grow_memo(&mut self) {
        let slots = self.memo.slots.len();
        let mut wanted = if self.nodes < NODES_BEFORE_MEMO {
            0
        } else if slots == 0 {
            FIRST_MEMO_SLOTS
        } else if slots < MAX_MEMO_SLOTS && self.nodes >= 16 * slots as u64 {
            slots * 4
        } else {
            slots
        };
        // Within the budget: the largest power of two of slots that fits it, none below the first size.
        let slot_bytes = std::mem::size_of::<(u64, u64)>();
        while wanted > slots && wanted * slot_bytes > self.memo_budget {
            wanted /= 2;
        }
        if wanted < FIRST_MEMO_SLOTS {
            wanted = slots;
        }
        if wanted != slots {
            self.memo = Memo::new(wanted);
        }
    }
}

/// The symbol choices made so far: a direct-mapped cache in front of [`choose`], keyed by everything a
/// choice depends on: the grammar, the context, the node's kind, field, leaf and last flags, its gap (0, 1
/// or more), whether it ends with its parent, and, only where a fixed-length symbol was among the candidates,
/// its exact length. A hit reads one slot instead of the model's context, symbol, code and link tables
/// (their loads missed the CPU cache most in the profile, when the tables were 1.3 MiB). Raw records, lengths of 255 or
/// more and choices behind 16 or more escapes are never memoised.
struct Memo {
    /// `(key, choice)`; key 0 is an empty slot.
    slots: Box<[(u64, u64)]>,
}

/// A memoised choice: `entry | next context << 16 | code bits << 32 | gap code << 40 | end code << 48 |
/// escapes << 56`, and these flags above; or [`NEEDS_LENGTH`].
const CHOICE_GAP_CODED: u64 = 1 << 60;
const CHOICE_END_CODED: u64 = 1 << 61;
/// The next context depends on the parent's kind: [`Model::resolve`] it.
const CHOICE_LOOKUP: u64 = 1 << 62;
/// The choice for this key depends on the exact length: look again with it in the key.
const NEEDS_LENGTH: u64 = u64::MAX;

impl Memo {
    fn new(slots: usize) -> Memo {
        debug_assert!(slots == 0 || slots.is_power_of_two());
        Memo {
            slots: vec![(0, 0); slots].into_boxed_slice(),
        }
    }

    /// The key of a node's choice without its length, or 0 for a node the memo does not hold.
    #[inline(always)]
    fn key(language: Language, node: &Flat) -> u64 {
        if node.flags & (MISSING | NEGATIVE_GAP) != 0 || node.field >= 256 || node.len >= 255 {
            return 0;
        }
        (1 << 63)
            | ((language.index() as u64) << 58)
            | (u64::from(node.context) << 40)
            | (u64::from(node.kind) << 24)
            | (u64::from(node.field) << 16)
            | (u64::from(node.gap.min(2)) << 3)
            | u64::from(node.flags & (LEAF | LAST | ENDS_WITH_PARENT))
    }

    /// `key` with the node's length in it.
    #[inline(always)]
    fn with_length(key: u64, node: &Flat) -> u64 {
        key | (u64::from(node.len + 1) << 8)
    }

    /// The slot of `key` (a memo of no slots holds nothing).
    #[inline(always)]
    fn slot(&mut self, key: u64) -> Option<&mut (u64, u64)> {
        let hash = key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40;
        let mask = self.slots.len().wrapping_sub(1);
        self.slots.get_mut(hash as usize & mask)
    }

    /// The memoised choice of `key`, if any.
    #[inline(always)]
    fn get(&mut self, key: u64) -> Option<u64> {
        let &mut (tag, choice) = self.slot(key)?;
        (tag == key).then_some(choice)
    }

    /// Memoises `choice` for `key`.
    fn put(&mut self, key: u64, choice: u64) {
        if let Some(slot) = self.slot(key) {
            *slot = (key, choice);
        }
    }
}

/// Chooses a finished node's symbol in its context (escaping as needed) and sets its record length without
/// the size; returns the context of its next sibling. From the memo when it holds the choice.
#[inline(always)]
fn symbol(
    model: &Coder<'_>,
    memo: &mut Memo,
    language: Language,
    node: &mut Flat,
    parent_kind: u16,
) -> u16 {
    let mut key = if memo.slots.is_empty() {
        0
    } else {
        Memo::key(language, node)
    };
    if key != 0 {
        let mut found = memo.get(key);
        if found == Some(NEEDS_LENGTH) {
            key = Memo::with_length(key, node);
            found = memo.get(key);
        }
        if let Some(choice) = found {
            let mut bits = u32::from((choice >> 32) as u8);
            if choice & CHOICE_GAP_CODED != 0 {
                bits += number_length(node.gap, (choice >> 40) as u8, model);
            }
            if choice & CHOICE_END_CODED != 0 {
                bits += number_length(node.len, (choice >> 48) as u8, model);
            }
            node.entry = choice as u16;
            node.hops = ((choice >> 56) & 15) as u8;
            node.bits = bits;
            return if choice & CHOICE_LOOKUP != 0 {
                model.resolve(parent_kind, node.kind)
            } else {
                (choice >> 16) as u16
            };
        }
    }
    let mut fixed = false;
    let next = choose(model, node, parent_kind, &mut fixed);
    if key != 0 && node.entry != RAW_ENTRY && node.hops < 16 {
        let index = usize::from(node.entry);
        let e = &model.entries[index];
        let mut bits = node.bits;
        let mut choice = index as u64 | (u64::from(node.hops) << 56);
        if e.flags & GAP_CODED != 0 {
            bits -= number_length(node.gap, e.gap_code, model);
            choice |= CHOICE_GAP_CODED | (u64::from(e.gap_code) << 40);
        }
        if e.flags & END_MASK == END_CODED {
            bits -= number_length(node.len, e.end_code, model);
            choice |= CHOICE_END_CODED | (u64::from(e.end_code) << 48);
        }
        if e.flags & LOOKUP != 0 {
            choice |= CHOICE_LOOKUP;
        } else {
            choice |= u64::from(model.links[index]) << 16;
        }
        if bits < 256 {
            if fixed && key & (0xff << 8) == 0 {
                memo.put(key, NEEDS_LENGTH);
                key = Memo::with_length(key, node);
            }
            memo.put(key, choice | (u64::from(bits) << 32));
        }
    }
    next
}

/// [`symbol`] from the model's tables; `fixed` says whether a candidate it tried has a fixed length (so
/// that the choice depends on the node's exact length).
#[inline(never)]
fn choose(model: &Coder<'_>, node: &mut Flat, parent_kind: u16, fixed: &mut bool) -> u16 {
    let mut context = node.context;
    let mut bits = 0;
    let mut hops = 0;
    if node.flags & (MISSING | NEGATIVE_GAP) == 0 && node.field < 256 {
        let key = (u32::from(node.kind) << 16)
            | (u32::from(node.field) << 8)
            | u32::from(node.flags & (LEAF | LAST));
        let ends_with_parent = node.flags & ENDS_WITH_PARENT != 0;
        loop {
            let c = model.contexts[usize::from(context)];
            let first = c.entries as usize;
            let symbols = &model.entries[first..first + c.symbols as usize];
            // The most specific symbol that reproduces the node: the first that fits among those of its key
            // (sorted by how many parts they code).
            let mut at = symbols.partition_point(|e| e.key() < key);
            while at < symbols.len() && symbols[at].key() == key {
                let index = first + at;
                let e = &symbols[at];
                *fixed |= e.flags & END_MASK == END_FIXED;
                if gap_fits(e, node.gap) && codec::end_fits(e, node.len, ends_with_parent) {
                    bits += u32::from(model.codes[index] & 15);
                    if e.flags & GAP_CODED != 0 {
                        bits += number_length(node.gap, e.gap_code, model);
                    }
                    if e.flags & END_MASK == END_CODED {
                        bits += number_length(node.len, e.end_code, model);
                    }
                    node.entry = index as u16;
                    node.hops = hops;
                    node.bits = bits;
                    return model.next_context(index, parent_kind);
                }
                at += 1;
            }
            let escape = c.entries as usize + c.symbols as usize;
            bits += u32::from(model.codes[escape] & 15);
            hops += 1;
            context = model.links[escape];
            if context == RAW {
                break;
            }
        }
    } else {
        // Straight to a raw record: escape through every context.
        loop {
            let c = model.contexts[usize::from(context)];
            let escape = c.entries as usize + c.symbols as usize;
            bits += u32::from(model.codes[escape] & 15);
            hops += 1;
            context = model.links[escape];
            if context == RAW {
                break;
            }
        }
    }
    node.entry = RAW_ENTRY;
    node.hops = hops;
    node.bits = bits + raw_body(node, &mut Pieces::default());
    model.resolve(parent_kind, node.kind)
}

fn gap_fits(entry: &Entry, gap: u32) -> bool {
    if entry.flags & GAP_CODED != 0 {
        true
    } else {
        gap == u32::from(entry.flags & GAP_ONE != 0)
    }
}

/// The pieces of a raw record, `(value, bit count)` in stream order (at most 12: nine for the body with
/// its numbers in two pieces each, two for a size).
#[derive(Default)]
struct Pieces {
    pieces: [(u32, u32); 16],
    count: usize,
}

impl Pieces {
    #[inline(always)]
    fn push(&mut self, value: u32, bits: u32) {
        self.pieces[self.count] = (value, bits);
        self.count += 1;
    }

    fn raw_number(&mut self, value: u32) {
        let length = 32 - value.leading_zeros();
        self.push(length, 6);
        if length >= 2 {
            self.push(value - (1 << (length - 1)), length - 1);
        }
    }
}

/// A raw record's body (see `codec.rs`), without the size, into `pieces`; returns its bits.
fn raw_body(node: &Flat, pieces: &mut Pieces) -> u32 {
    let first = pieces.count;
    pieces.push(u32::from(node.flags & (LEAF | LAST | MISSING)), 3);
    pieces.push(u32::from(node.kind), 16);
    if node.field != 0 {
        pieces.push(1, 1);
        pieces.push(u32::from(node.field), 16);
    } else {
        pieces.push(0, 1);
    }
    pieces.push(u32::from(node.flags & NEGATIVE_GAP != 0), 1);
    pieces.raw_number(node.gap);
    if node.flags & ENDS_WITH_PARENT != 0 {
        pieces.push(1, 1);
    } else {
        pieces.push(0, 1);
        pieces.raw_number(node.len);
    }
    pieces.pieces[first..pieces.count].iter().map(|p| p.1).sum()
}

/// Prepends node `i`'s record, size included, to `writer`; returns its bits.
#[inline]
fn prepend_record(
    model: &Coder<'_>,
    flat: &[Flat],
    i: usize,
    copied: u32,
    holds_copy: bool,
    writer: &mut ReverseWriter<'_>,
) -> u32 {
    let node = &flat[i];
    let size = size_of(flat, i, copied, holds_copy);
    let mut bits = 0;
    if node.entry == RAW_ENTRY {
        let mut pieces = Pieces::default();
        raw_body(node, &mut pieces);
        if let Some(size) = size {
            pieces.raw_number(size);
        }
        for &(value, count) in pieces.pieces[..pieces.count].iter().rev() {
            writer.prepend(value, count);
            bits += count;
        }
    } else {
        let index = usize::from(node.entry);
        let e = &model.entries[index];
        if let Some(size) = size {
            bits += writer.prepend_number(size, model.size_code, model);
        }
        if e.flags & END_MASK == END_CODED {
            bits += writer.prepend_number(node.len, e.end_code, model);
        }
        if e.flags & GAP_CODED != 0 {
            bits += writer.prepend_number(node.gap, e.gap_code, model);
        }
        bits += writer.prepend_code(model.codes[index]);
    }
    if node.hops > 0 {
        // The escapes, first to last context, prepended last to first.
        let mut escapes = [0u16; 8];
        let mut context = node.context;
        for escape in escapes.iter_mut().take(usize::from(node.hops)) {
            let c = model.contexts[usize::from(context)];
            let at = c.entries as usize + c.symbols as usize;
            *escape = model.codes[at];
            context = model.links[at];
        }
        for &code in escapes[..usize::from(node.hops)].iter().rev() {
            bits += writer.prepend_code(code);
        }
    }
    bits
}

/// The subtree size node `i`'s record stores (inner nodes that are not last): the bits of its descendants'
/// records, known once they are written (`copied`: those copied from a previous stream, for a node whose
/// descendants are not in `flat`), or 0 for a node with at most [`crate::SKIP_DESCENDANTS`] descendants (a
/// reader decodes them to find its end). `holds_copy`: the node or one of its descendants has its
/// descendants copied (only subtrees of more than [`crate::SKIP_DESCENDANTS`] descendants are), so that it
/// has more descendants than `flat` shows.
#[inline(always)]
fn size_of(flat: &[Flat], i: usize, copied: u32, holds_copy: bool) -> Option<u32> {
    let node = &flat[i];
    (node.flags & (LEAF | LAST) == 0).then(|| {
        if !holds_copy && node.next - i as u32 - 1 <= crate::SKIP_DESCENDANTS {
            return 0;
        }
        let end = flat.get(node.next as usize).map_or(0, |n| n.written);
        // Wrapping: past the format's limit the sums are clamped and the file is refused anyway.
        flat.get(i + 1)
            .map_or(0, |n| n.written)
            .wrapping_sub(end)
            .wrapping_add(copied)
    })
}

/// Prepends bits to a buffer filled from its end, so that records written last to first come out in order.
struct ReverseWriter<'b> {
    buffer: &'b mut [u8],
    /// First byte written.
    at: usize,
    /// Bits not yet in the buffer, right-aligned (the earliest in the stream highest).
    pending: u64,
    count: u32,
}

impl ReverseWriter<'_> {
    /// A code stored as `code << 4 | length`; returns its length.
    #[inline(always)]
    fn prepend_code(&mut self, code: u16) -> u32 {
        self.prepend(u32::from(code >> 4), u32::from(code & 15));
        u32::from(code & 15)
    }

    /// A number of code `code` (its code, then the bits below its leading one); returns its bits.
    #[inline(always)]
    fn prepend_number(&mut self, value: u32, code: u8, model: &Coder<'_>) -> u32 {
        let (symbol, extra) = codec::number_symbol(value);
        if extra > 0 {
            self.prepend(value - (1 << extra), extra);
        }
        extra + self.prepend_code(model.number_codes[usize::from(code) * 44 + symbol])
    }

    /// Puts the low `bits` bits of `value` (at most 32) before everything written so far.
    #[inline(always)]
    fn prepend(&mut self, value: u32, bits: u32) {
        debug_assert!(bits <= 32 && (bits == 32 || value >> bits == 0));
        self.pending |= u64::from(value) << self.count;
        self.count += bits;
        if self.count >= 32 {
            self.at -= 4;
            self.buffer[self.at..self.at + 4].copy_from_slice(&(self.pending as u32).to_be_bytes());
            self.pending >>= 32;
            self.count -= 32;
        }
    }

    /// Puts bits `from..from + bits` of `old` (most significant bit first; `old` has 8 bytes past them)
    /// before everything written so far.
    fn prepend_copy(&mut self, old: &[u8], from: u32, bits: u32) {
        let mut left = bits;
        while left > 0 {
            let take = left.min(32);
            let at = u64::from(from) + u64::from(left - take);
            let byte = (at / 8) as usize;
            let word = u64::from_be_bytes(old[byte..byte + 8].try_into().expect("8 bytes"));
            let value = (word << (at % 8)) >> (64 - take);
            self.prepend(value as u32, take);
            left -= take;
        }
    }

    /// Writes out the last bits (the stream's first), zero-padded at the front of their byte.
    fn finish(&mut self) {
        while self.count > 0 {
            self.at -= 1;
            self.buffer[self.at] = self.pending as u8;
            self.pending >>= 8;
            self.count = self.count.saturating_sub(8);
        }
    }
}

/// Pass 2: sizes and records, last to first, into scratch; returns the stream's bytes and the bits of
/// padding before its first record.
fn write<'s>(
    scratch: &'s Bump,
    model: &Coder<'_>,
    walked: &mut Walked<'_>,
    old: Option<&[u8]>,
) -> (&'s [u8], u8) {
    let flat = &mut walked.flat[..];
    let mut copies = walked.copies.iter().rev().peekable();
    let buffer: &mut [u8] = scratch.alloc_slice_fill_copy(walked.bound.div_ceil(8) as usize + 8, 0);
    let len = buffer.len();
    let mut writer = ReverseWriter {
        buffer,
        at: len,
        pending: 0,
        count: 0,
    };
    let mut after = 0u64;
    // The first node after `i` whose descendants are copied (they are more than `SKIP_DESCENDANTS`, so that
    // a node holding one stores its size).
    let mut next_copy = u32::MAX;
    for i in (0..flat.len()).rev() {
        let mut copied = 0;
        if let Some(&(_, from, bits)) = copies.next_if(|c| c.0 as usize == i) {
            writer.prepend_copy(old.expect("copies come with the stream"), from, bits);
            after += u64::from(bits);
            copied = bits;
        }
        let holds_copy = copied > 0 || next_copy < flat[i].next;
        let bits = prepend_record(model, flat, i, copied, holds_copy, &mut writer);
        if copied > 0 {
            next_copy = i as u32;
        }
        flat[i].bits = bits;
        after += u64::from(bits);
        // Past the format's limit the stream is refused; keep the sums in range until then.
        flat[i].written = after.min(u64::from(u32::MAX)) as u32;
    }
    writer.finish();
    let ReverseWriter { buffer, at, .. } = writer;
    (&buffer[at..], ((8 - after % 8) % 8) as u8)
}

/// The wide nodes (index, first sample, count) in preorder and their samples (child, base, context).
struct Wide<'s> {
    nodes: BumpVec<'s, (u32, u32, u32)>,
    samples: BumpVec<'s, (u32, u32, u16)>,
}

/// The wide nodes' samples among the walk's candidates.
fn samples<'s>(scratch: &'s Bump, walked: &Walked<'_>) -> Wide<'s> {
    let mut wide = Wide {
        nodes: BumpVec::new_in(scratch),
        samples: BumpVec::new_in(scratch),
    };
    let mut kept: BumpVec<'_, (u32, u32, u32, u16)> = BumpVec::from_iter_in(
        walked
            .candidates
            .iter()
            .copied()
            .filter(|c| walked.flat[c.1 as usize].flags & WIDE_NODE != 0),
        scratch,
    );
    // By parent (preorder), then child.
    kept.sort_unstable_by_key(|c| (c.1, c.0));
    for &(child, parent, base, context) in kept.iter() {
        if wide.nodes.last().is_none_or(|n| n.0 != parent) {
            wide.nodes.push((parent, wide.samples.len() as u32, 0));
        }
        wide.nodes.last_mut().expect("pushed").2 += 1;
        wide.samples.push((child, base, context));
    }
    wide
}

/// Bits of each part of a file's records (see [`crate::RecordParts`]).
pub(crate) fn part_bits(
    scratch: &Bump,
    language: Language,
    text_len: u32,
    tree: &tree_sitter::Tree,
) -> Result<crate::RecordParts, BuildError> {
    let model = Model::of(language);
    let tables = Tables::of(model);
    let model = &Coder::new(model, &tables);
    let mut cursor = CountedCursor::new(tree);
    let mut walked = walk(
        scratch,
        model,
        // No memo: the accounting of one file at a time would pay for a memo its choices mostly miss, and a
        // memo changes no bit (`the_memo_changes_no_bit`).
        &mut Memo::new(0),
        language,
        text_len,
        &mut cursor,
        tree.root_node().descendant_count(),
        None,
    )?;
    let (bytes, _) = write(scratch, model, &mut walked, None);
    let wide = samples(scratch, &walked);
    let flat = &walked.flat;
    let total = u64::from(flat.first().map_or(0, |n| n.written));
    let mut parts = crate::RecordParts {
        nodes: flat.len() as u64,
        leaves: flat.iter().filter(|n| n.flags & LEAF != 0).count() as u64,
        index_bytes: if wide.nodes.is_empty() {
            0
        } else {
            4 + wide::index_len(wide.nodes.len(), wide.samples.len()) as u64
        },
        header_bits: 8 + bytes.len() as u64 * 8 - total,
        ..crate::RecordParts::default()
    };
    for (i, node) in flat.iter().enumerate() {
        let mut context = node.context;
        let mut escapes = 0;
        for _ in 0..node.hops {
            let c = model.contexts[usize::from(context)];
            let escape = c.entries as usize + c.symbols as usize;
            escapes += u64::from(model.codes[escape] & 15);
            context = model.links[escape];
        }
        parts.escape_bits += escapes;
        let size = size_of(flat, i, 0, false);
        if node.entry == RAW_ENTRY {
            let size_bits = size.map_or(0, |s| u64::from(codec::raw_number_length(s)));
            parts.raw_records += 1;
            parts.raw_bits += u64::from(node.bits) - escapes - size_bits;
            parts.size_bits += size_bits;
            continue;
        }
        let index = usize::from(node.entry);
        let e = &model.entries[index];
        parts.symbol_bits += u64::from(model.codes[index] & 15);
        parts
            .counts
            .push((0, u32::from(context), index as u32, node.kind));
        if e.flags & GAP_CODED != 0 {
            parts.gap_bits += u64::from(number_length(node.gap, e.gap_code, model));
            parts
                .counts
                .push((1, u32::from(e.gap_code), node.gap, node.kind));
        }
        if e.flags & END_MASK == END_CODED {
            parts
                .counts
                .push((2, u32::from(e.end_code), node.len, node.kind));
            let bits = u64::from(number_length(node.len, e.end_code, model));
            if node.flags & LEAF != 0 {
                parts.leaf_length_bits += bits;
            } else {
                parts.inner_length_bits += bits;
            }
        }
        if let Some(size) = size {
            parts
                .counts
                .push((3, u32::from(model.size_code), size, node.kind));
            parts
                .counts
                .push((4, size, flat[i].next - i as u32 - 1, node.kind));
            parts.size_bits += u64::from(number_length(size, model.size_code, model));
        }
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    //! Records of every form, symbol-coded and raw, written and read back from a synthetic tree: this reaches
    //! what tree-sitter never produces (negative gaps, kinds past the grammar, field ids past a byte, huge
    //! gaps and lengths, last children that end before their parent) and checks the wide-node index.

    use super::{encode_from, Scratch, Walk};
    use crate::codec::{decoded, Frame, PADDING};
    use crate::model::Model;
    use crate::wide::{WideIndex, STRIDE};
    use cst_measure::{Language, NodeInfo};

    /// A synthetic node.
    struct T {
        info: NodeInfo,
        children: Vec<T>,
    }

    fn node(kind: u16, field: u16, start: u32, end: u32, children: Vec<T>) -> T {
        T {
            info: NodeInfo {
                kind,
                field,
                start,
                end,
                missing: false,
            },
            children,
        }
    }

    /// A synthetic tree in preorder, walked like tree-sitter's cursor: (node, index past its subtree).
    struct Synthetic {
        nodes: Vec<(NodeInfo, usize)>,
        /// The current node and its ancestors.
        path: Vec<usize>,
    }

    impl Synthetic {
        fn new(root: &T) -> Synthetic {
            fn visit(t: &T, out: &mut Vec<(NodeInfo, usize)>) {
                let index = out.len();
                out.push((t.info, 0));
                for child in &t.children {
                    visit(child, out);
                }
                out[index].1 = out.len();
            }
            let mut nodes = Vec::new();
            visit(root, &mut nodes);
            Synthetic {
                nodes,
                path: vec![0],
            }
        }
    }

    impl Walk for Synthetic {
        fn node(&self) -> (u16, u16, usize, usize, u32) {
            let at = *self.path.last().unwrap();
            let (info, end) = self.nodes[at];
            let (mut children, mut child) = (0, at + 1);
            while child < end {
                children += 1;
                child = self.nodes[child].1;
            }
            (
                info.kind,
                info.field,
                info.start as usize,
                info.end as usize,
                children,
            )
        }
        fn missing(&self) -> bool {
            self.nodes[*self.path.last().unwrap()].0.missing
        }
        fn goto_first_child(&mut self, _children: u32) -> bool {
            let at = *self.path.last().unwrap();
            let has = self.nodes[at].1 > at + 1;
            if has {
                self.path.push(at + 1);
            }
            has
        }
        fn goto_next_sibling(&mut self) -> bool {
            let n = self.path.len();
            if n < 2 {
                return false;
            }
            let next = self.nodes[self.path[n - 1]].1;
            let has = next < self.nodes[self.path[n - 2]].1;
            if has {
                self.path[n - 1] = next;
            }
            has
        }
        fn goto_parent(&mut self) -> bool {
            self.path.pop();
            !self.path.is_empty()
        }
    }

    /// Every node read back by first-child and next-sibling moves, in preorder, with its leaf and last flags.
    fn read_back(bytes: &[u8], text_len: u32, language: Language) -> Vec<(NodeInfo, bool, bool)> {
        let model = Model::of(language);
        let (_, records) = WideIndex::of(bytes);
        let above = Frame::above_root(text_len, records, (bytes.len() * 8) as u32, model);
        let root = decoded(bytes, records, model.root_descriptor, 0, &above, model);
        let mut out = Vec::new();
        let mut stack = vec![root];
        while let Some(frame) = stack.pop() {
            out.push((frame.info(), frame.is_leaf(), frame.is_last()));
            if frame.is_leaf() {
                continue;
            }
            let mut children = Vec::new();
            let parent = &frame;
            let mut child = decoded(
                bytes,
                frame.children,
                frame.child,
                frame.start,
                parent,
                model,
            );
            loop {
                children.push(child);
                if child.is_last() {
                    break;
                }
                child = decoded(
                    bytes,
                    crate::codec::subtree_end(bytes, &child, model),
                    child.next,
                    child.end,
                    parent,
                    model,
                );
            }
            stack.extend(children.into_iter().rev());
        }
        out
    }

    /// The synthetic tree's nodes in preorder (with leaf and last flags), and its stream, padded.
    fn encode(
        language: Language,
        root: &T,
        text_len: u32,
    ) -> (Vec<(NodeInfo, bool, bool)>, Vec<u8>) {
        let mut source = Synthetic::new(root);
        let mut want = Vec::new();
        for (i, &(info, next)) in source.nodes.iter().enumerate() {
            // Last: no later sibling, i.e. the parent's subtree ends where this node's does.
            let parent_end = source.nodes[..i]
                .iter()
                .rev()
                .find(|(_, end)| *end > i)
                .map_or(next, |(_, end)| *end);
            want.push((info, next == i + 1, next == parent_end));
        }
        let mut stream = Vec::new();
        encode_from(
            &mut Scratch::new(),
            language,
            text_len,
            &mut source,
            0,
            u64::MAX,
            &mut stream,
        )
        .unwrap();
        stream.resize(stream.len() + PADDING, 0);
        (want, stream)
    }

    #[test]
    fn every_form_reads_back_as_written() {
        let grammar = Language::Python.grammar();
        let module = grammar.id_for_node_kind("module", true);
        let call = grammar.id_for_node_kind("call", true);
        let identifier = grammar.id_for_node_kind("identifier", true);
        let paren = grammar.id_for_node_kind("(", false);
        let big = 1u32 << 30;
        let mut leaves = Vec::new();
        let mut at = 0;
        // Symbol-coded and raw leaves: gaps 0, 1, 7 and huge; kinds of the grammar, past it and ERROR; fields
        // 0, 1 and past a byte; lengths 0, 1, 20 and huge.
        for (i, (kind, field, gap, len)) in [
            (identifier, 0, 0, 3),
            (identifier, 0, 1, 1),
            (paren, 0, 7, 1),
            (identifier, 1, 0, 20),
            (600, 0, 1, 2),
            (40_000, 300, 0, 0),
            (u16::MAX, 0, big, 5),
            (identifier, 0, 2, big),
        ]
        .into_iter()
        .enumerate()
        {
            at += gap;
            leaves.push(node(kind, field, at, at + len, vec![]));
            at += len;
            if i == 2 {
                // A MISSING node and an empty one.
                let mut missing = node(identifier, 0, at, at, vec![]);
                missing.info.missing = true;
                leaves.push(missing);
                leaves.push(node(paren, 0, at, at, vec![]));
            }
        }
        // A leaf starting before its previous sibling ends (a negative gap), then inner nodes: one that is not
        // last (sized), one whose last child ends before it does.
        leaves.push(node(identifier, 0, at - 3, at + 1, vec![]));
        at += 1;
        let inner = node(
            call,
            2,
            at,
            at + 10,
            vec![
                node(identifier, 0, at, at + 4, vec![]),
                node(paren, 0, at + 4, at + 5, vec![]),
            ],
        );
        let trailing = node(
            call,
            0,
            at + 10,
            at + 30,
            vec![node(identifier, 0, at + 11, at + 12, vec![])],
        );
        leaves.push(inner);
        leaves.push(trailing);
        let text_len = at + 40;
        let root = node(module, 0, 0, text_len, leaves);
        let (want, stream) = encode(Language::Python, &root, text_len);
        let back = read_back(&stream, text_len, Language::Python);
        assert_eq!(back.len(), want.len());
        for (i, (want, got)) in want.iter().zip(&back).enumerate() {
            assert_eq!(want, got, "node {i}");
        }
    }

    #[test]
    fn the_wide_index_samples_every_stride_th_child() {
        let grammar = Language::Python.grammar();
        let module = grammar.id_for_node_kind("module", true);
        let identifier = grammar.id_for_node_kind("identifier", true);
        let count = 1000u32;
        let children: Vec<T> = (0..count)
            .map(|i| node(identifier, 0, i * 3, i * 3 + 2, vec![]))
            .collect();
        let root = node(module, 0, 0, count * 3, children);
        let (nodes, stream) = encode(Language::Python, &root, count * 3);
        // The base of child `k` (node `k + 1`): the previous child's end.
        let base = |k: u32| nodes[k as usize].0.end;
        let (index, records) = WideIndex::of(&stream);
        let model = Model::of(Language::Python);
        let above = Frame::above_root(count * 3, records, (stream.len() * 8) as u32, model);
        let root = decoded(&stream, records, model.root_descriptor, 0, &above, model);
        assert!(index.scan_from(root.children, 0).is_none());
        for offset in [0, 1, 95, 96, 97, 1500, count * 3 - 1] {
            // The last sampled child whose previous sibling ends before `offset`.
            let want = (1..count)
                .rev()
                .find(|k| k % STRIDE == 0 && base(*k) < offset);
            let got = index.scan_from(root.children, offset);
            match (want, got) {
                (None, None) => {}
                (Some(k), Some(sample)) => {
                    let child = decoded(
                        &stream,
                        sample.at,
                        model.descriptor(sample.context),
                        sample.base,
                        &root,
                        model,
                    );
                    assert_eq!(child.info().start, k * 3, "offset {offset}");
                }
                other => panic!("offset {offset}: {other:?}"),
            }
        }
    }

    /// The memo changes no bit: every file of the built-in corpus, and escape sequences of several lengths
    /// (a kind with a fixed-length symbol, so that the choice depends on the exact length), encode the same
    /// with the memo of a whole build (warmed by every file before, of every grammar) as with none.
    #[test]
    fn the_memo_changes_no_bit() {
        let mut warm = Scratch::new();
        let escapes = (
            "escapes.rs".to_string(),
            "fn f() { let s = \"\\n\\t\\t\\u{1F600}\\x41\\t\"; }\n".to_string(),
        );
        let files = builtin_corpus::generate()
            .into_iter()
            .map(|file| (file.path, file.text))
            .chain([escapes]);
        for (path, text) in files {
            let language = Language::from_path(std::path::Path::new(&path)).expect("known");
            let tree = language.parse(&text);
            let text_len = text.len() as u32;
            let (mut with_warm, mut with_none) = (Vec::new(), Vec::new());
            warm.bump.reset();
            super::encode(
                &mut warm,
                language,
                text_len,
                &tree,
                u64::MAX,
                &mut with_warm,
            )
            .unwrap();
            // A fresh scratch starts no memo within its first file.
            let mut none = Scratch::new();
            super::encode(
                &mut none,
                language,
                text_len,
                &tree,
                u64::MAX,
                &mut with_none,
            )
            .unwrap();
            assert!(with_warm == with_none, "{path}");
        }
        // The comparison above meant something only if the warm scratch's memo was in use.
        assert_eq!(warm.memo.slots.len(), super::MAX_MEMO_SLOTS);
    }
}
