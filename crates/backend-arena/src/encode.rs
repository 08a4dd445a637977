//! From a tree-sitter tree to a file's stream, in four iterative passes over a scratch arena.
//!
//! 1. A `TreeCursor` walk flattens the visible nodes in preorder into [`Flat`] records (kind, field, range,
//!    the base its gap counts from, its parent's end, the index past its subtree, leaf/last/missing). This is
//!    the only pass that touches tree-sitter's tree.
//! 2. Forward: each node's context (from its parent's and previous sibling's symbols, exactly as a reader
//!    finds it), its symbol (the most specific one of its context that reproduces it, else escapes) and the
//!    bits of its record without the size; which nodes are wide and which of their children are sampled.
//! 3. Backward: subtree sizes (a node's descendants' records, sizes included, are written by then), and so
//!    the length of the whole stream, checked against the limits before anything is written.
//! 4. Forward: the bits, straight into the store's arena, and the wide-node index.
//!
//! The scratch arena is a `bumpalo::Bump` the store resets before each file and drops in `finish()`: no
//! per-node allocation, and no scratch memory survives the build.

use crate::codec::{self, BitWriter, MISSING};
use crate::model::{Entry, Model, END_CODED, END_MASK, GAP_CODED, GAP_ONE, LAST, LEAF, NONE, RAW};
use crate::wide::{self, Sample, STRIDE, WIDE};
use bumpalo::collections::Vec as BumpVec;
use bumpalo::Bump;
use cst_measure::{BuildError, Language};

/// [`Flat::flags`]: the node has more than [`WIDE`] children (and an index).
const WIDE_NODE: u8 = 1 << 4;
/// [`Flat::entry`] of a raw record.
const RAW_ENTRY: u16 = u16::MAX;

/// One visible node as the encoder sees it.
#[derive(Clone, Copy, Debug, Default)]
struct Flat {
    start: u32,
    end: u32,
    /// Where the gap counts from: the parent's start (first child) or the previous sibling's end.
    base: u32,
    parent_end: u32,
    /// Index just past this node's subtree in preorder.
    next: u32,
    /// Bits of this node's record (pass 2 without the size, pass 3 with it).
    bits: u32,
    /// Bits of the records from this node to the end of the file (pass 3).
    written: u32,
    /// The subtree size the record stores (inner nodes that are not last).
    size: u32,
    kind: u16,
    /// Field id in the parent, 0 for none.
    field: u16,
    /// The context the record starts in.
    context: u16,
    /// The symbol (index into the model's entries) after `hops` escapes, or [`RAW_ENTRY`].
    entry: u16,
    /// [`LEAF`], [`LAST`], [`MISSING`], [`WIDE_NODE`].
    flags: u8,
    hops: u8,
}

const _: () = assert!(std::mem::size_of::<Flat>() == 44);

/// Encodes `tree` (of a text of `text_len` bytes) and appends the file's stream to `out`: a header byte, the
/// wide-node index when there is one, and the records. Fails, leaving `out` as it was, if the stream would
/// exceed `max_stream` bytes or the format's 32-bit bit offsets.
pub(crate) fn encode(
    scratch: &Bump,
    language: Language,
    text_len: u32,
    tree: &tree_sitter::Tree,
    max_stream: u64,
    out: &mut Vec<u8>,
) -> Result<(), BuildError> {
    let mut flat = flatten(scratch, tree, text_len)?;
    encode_flat(scratch, language, &mut flat, max_stream, out)
}

/// Passes 2 to 4 over a file's nodes in preorder.
fn encode_flat(
    scratch: &Bump,
    language: Language,
    flat: &mut [Flat],
    max_stream: u64,
    out: &mut Vec<u8>,
) -> Result<(), BuildError> {
    let model = crate::model::Model::of(language);
    let wide = choose(scratch, model, flat);
    let total_bits = sizes(model, flat);
    let index_bytes = wide::index_len(wide.nodes.len(), wide.samples);
    let prefix = 1 + if wide.nodes.is_empty() {
        0
    } else {
        4 + index_bytes
    };
    let stream_bytes = prefix as u64 + total_bits.div_ceil(8);
    let limit = max_stream.min(u64::from(u32::MAX) / 8);
    if stream_bytes > limit {
        return Err(BuildError::Limit(format!(
            "the file's tree needs {stream_bytes} bytes of records; this store holds at most {limit} bytes of \
             records per file (32-bit bit offsets)"
        )));
    }
    let stream_start = out.len();
    out.reserve(stream_bytes as usize);
    out.push(language.index() as u8 | if wide.nodes.is_empty() { 0 } else { 4 });
    if !wide.nodes.is_empty() {
        out.extend_from_slice(&(index_bytes as u32).to_le_bytes());
        out.resize(out.len() + index_bytes, 0);
    }
    let mut samples: BumpVec<'_, Sample> = BumpVec::with_capacity_in(wide.samples, scratch);
    samples.resize(wide.samples, Sample::default());
    let mut keys: BumpVec<'_, u32> = BumpVec::with_capacity_in(wide.nodes.len(), scratch);
    write(
        model,
        flat,
        &wide,
        prefix as u32 * 8,
        out,
        &mut samples,
        &mut keys,
    );
    debug_assert_eq!((out.len() - stream_start) as u64, stream_bytes);
    if !wide.nodes.is_empty() {
        let index = &mut out[stream_start + 5..stream_start + 5 + index_bytes];
        wide::write_index(index, &keys, &wide.nodes, &samples);
    }
    Ok(())
}

/// Pass 1: the visible nodes in preorder.
fn flatten<'s>(
    scratch: &'s Bump,
    tree: &tree_sitter::Tree,
    text_len: u32,
) -> Result<BumpVec<'s, Flat>, BuildError> {
    let root = tree.root_node();
    let mut flat: BumpVec<'s, Flat> = BumpVec::with_capacity_in(root.descendant_count(), scratch);
    let mut open: BumpVec<'s, u32> = BumpVec::new_in(scratch);
    let mut cursor = root.walk();
    let (mut base, mut parent_end) = (0, text_len);
    loop {
        let node = cursor.node();
        let index = flat.len();
        let (start, end) = (node.start_byte(), node.end_byte());
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
        // MISSING nodes are empty: only an empty node needs the question asked.
        let missing = start == end && node.is_missing();
        flat.push(Flat {
            start: start as u32,
            end: end as u32,
            base,
            parent_end,
            kind: node.kind_id(),
            field: cursor.field_id().map_or(0, |id| id.get()),
            flags: if missing { MISSING } else { 0 },
            ..Flat::default()
        });
        if cursor.goto_first_child() {
            open.push(index as u32);
            (base, parent_end) = (start as u32, end as u32);
            continue;
        }
        flat[index].flags |= LEAF;
        let mut current = index;
        loop {
            flat[current].next = flat.len() as u32;
            if cursor.goto_next_sibling() {
                base = flat[current].end;
                break;
            }
            flat[current].flags |= LAST;
            if !cursor.goto_parent() {
                return Ok(flat);
            }
            current = open.pop().expect("a parent is open below the root") as usize;
        }
        parent_end = open.last().map_or(text_len, |&p| flat[p as usize].end);
    }
}

/// The wide nodes of a file: their indices in preorder with their first sample slot and sample count, and
/// the number of samples.
struct Wide<'s> {
    nodes: BumpVec<'s, (u32, u32, u32)>,
    /// Sampled children: (index, owner's index, rank among the owner's samples) until pass 2 ends, then
    /// (index, sample slot, rank), sorted by index.
    sampled: BumpVec<'s, (u32, u32, u32)>,
    samples: usize,
}

/// A parent whose children pass 2 is in.
struct Open {
    index: u32,
    kind: u16,
    /// The context of its next child.
    context: u16,
    last: bool,
    children: u32,
}

/// Pass 2: contexts, symbols, record lengths without sizes; wide nodes and their samples.
fn choose<'s>(scratch: &'s Bump, model: &Model, flat: &mut [Flat]) -> Wide<'s> {
    let mut stack: BumpVec<'_, Open> = BumpVec::new_in(scratch);
    let mut wide = Wide {
        nodes: BumpVec::new_in(scratch),
        sampled: BumpVec::new_in(scratch),
        samples: 0,
    };
    for i in 0..flat.len() {
        let (parent_kind, context) = stack
            .last()
            .map_or((NONE, model.root), |o| (o.kind, o.context));
        let node = &mut flat[i];
        let (next, child) = symbol(model, node, context, parent_kind);
        let (kind, leaf, last) = (node.kind, node.flags & LEAF != 0, node.flags & LAST != 0);
        if let Some(parent) = stack.last_mut() {
            parent.context = next;
            parent.children += 1;
        }
        if !leaf {
            stack.push(Open {
                index: i as u32,
                kind,
                context: child,
                last,
                children: 0,
            });
        } else if last {
            while let Some(open) = stack.pop() {
                if open.children > WIDE {
                    mark_wide(flat, &open, &mut wide);
                }
                if !open.last {
                    break;
                }
            }
        }
    }
    // Sample slots: the wide nodes' samples one after the other, in preorder of the nodes.
    wide.nodes.sort_unstable();
    let mut slot = 0;
    for node in wide.nodes.iter_mut() {
        node.1 = slot;
        slot += node.2;
    }
    for sampled in wide.sampled.iter_mut() {
        let owner = wide.nodes.partition_point(|n| n.0 < sampled.1);
        sampled.1 = wide.nodes[owner].1 + sampled.2;
    }
    wide.sampled.sort_unstable();
    wide
}

/// Marks a wide node and samples every [`STRIDE`]-th child after the first (walking its children by their
/// subtree ends: O(children)).
fn mark_wide(flat: &mut [Flat], open: &Open, wide: &mut Wide<'_>) {
    let index = open.index as usize;
    flat[index].flags |= WIDE_NODE;
    let mut child = index + 1;
    let mut count = 0;
    for k in 0..open.children {
        if k > 0 && k % STRIDE == 0 {
            wide.sampled.push((child as u32, open.index, count));
            count += 1;
        }
        child = flat[child].next as usize;
    }
    wide.nodes.push((open.index, 0, count));
    wide.samples += count as usize;
}

/// Chooses node's symbol in `context` (escaping as needed) and sets its record length without the size;
/// returns the contexts of its next sibling and of its first child.
#[inline]
fn symbol(model: &Model, node: &mut Flat, mut context: u16, parent_kind: u16) -> (u16, u16) {
    node.context = context;
    let gap = i64::from(node.start) - i64::from(node.base);
    let len = node.end - node.start;
    let ends_with_parent = node.end == node.parent_end;
    let mut bits = 0;
    let mut hops = 0;
    if node.flags & MISSING == 0 && gap >= 0 {
        let gap = gap as u32;
        let key = (u32::from(node.kind) << 16)
            | (u32::from(node.field) << 8)
            | u32::from(node.flags & (LEAF | LAST));
        // A field id that does not fit a symbol's byte never matches one (its record is raw).
        let fits = node.field < 256;
        loop {
            let c = model.contexts[usize::from(context)];
            let keys = &model.index_keys[c.index as usize..(c.index + c.symbols) as usize];
            // The most specific symbol that reproduces the node: the first that fits among those of its key
            // (sorted by how many parts they code).
            let mut at = keys.partition_point(|&k| k < key);
            while fits && at < keys.len() && keys[at] == key {
                let index = usize::from(model.index_entries[c.index as usize + at]);
                let e = &model.entries[index];
                if gap_fits(e, gap) && codec::end_fits(e, len, ends_with_parent) {
                    bits += u32::from(model.codes[index] & 15);
                    if e.flags & GAP_CODED != 0 {
                        bits += codec::number_length(gap, e.gap_code, model);
                    }
                    if e.flags & END_MASK == END_CODED {
                        bits += codec::number_length(len, e.end_code, model);
                    }
                    node.entry = index as u16;
                    node.hops = hops;
                    node.bits = bits;
                    return (model.next_context(index, parent_kind), model.links[index].1);
                }
                at += 1;
            }
            let escape = c.entries as usize + c.symbols as usize;
            bits += u32::from(model.codes[escape] & 15);
            hops += 1;
            context = model.links[escape].0;
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
            context = model.links[escape].0;
            if context == RAW {
                break;
            }
        }
    }
    bits += 3
        + 16
        + 1
        + if node.field != 0 { 16 } else { 0 }
        + 1
        + codec::raw_number_length(gap.unsigned_abs() as u32)
        + 1
        + if ends_with_parent {
            0
        } else {
            codec::raw_number_length(len)
        };
    node.entry = RAW_ENTRY;
    node.hops = hops;
    node.bits = bits;
    (
        model.resolve(parent_kind, node.kind),
        model.resolve(node.kind, NONE),
    )
}

fn gap_fits(entry: &Entry, gap: u32) -> bool {
    if entry.flags & GAP_CODED != 0 {
        true
    } else {
        gap == u32::from(entry.flags & GAP_ONE != 0)
    }
}

/// Pass 3: subtree sizes, back to front; returns the bits of all records.
fn sizes(model: &Model, flat: &mut [Flat]) -> u64 {
    let mut after = 0u64;
    for i in (0..flat.len()).rev() {
        let node = flat[i];
        let mut bits = node.bits;
        if node.flags & (LEAF | LAST) == 0 {
            let end = flat.get(node.next as usize).map_or(0, |n| n.written);
            let size = flat[i + 1].written - end;
            bits += if node.entry == RAW_ENTRY {
                codec::raw_number_length(size)
            } else {
                codec::number_length(size, model.size_code, model)
            };
            flat[i].size = size;
        }
        flat[i].bits = bits;
        after += u64::from(bits);
        // Past the format's limit the stream is refused; keep the sums in range until then.
        flat[i].written = after.min(u64::from(u32::MAX)) as u32;
    }
    after
}

/// Pass 4: the records, bit by bit, from bit `origin` of the stream; the samples of the wide nodes and the
/// bit offsets of their children (their index keys).
fn write(
    model: &Model,
    flat: &[Flat],
    wide: &Wide<'_>,
    origin: u32,
    out: &mut Vec<u8>,
    samples: &mut [Sample],
    keys: &mut BumpVec<'_, u32>,
) {
    let mut writer = BitWriter::new(out);
    let mut at = origin;
    let mut sampled = wide.sampled.iter().peekable();
    for (i, node) in flat.iter().enumerate() {
        if let Some(&&(child, slot, _)) = sampled.peek() {
            if child as usize == i {
                samples[slot as usize] = Sample {
                    at,
                    base: node.base,
                    context: node.context,
                };
                sampled.next();
            }
        }
        if node.flags & WIDE_NODE != 0 {
            keys.push(at + node.bits);
        }
        at += node.bits;
        let mut context = node.context;
        for _ in 0..node.hops {
            let c = model.contexts[usize::from(context)];
            let escape = c.entries as usize + c.symbols as usize;
            writer.put_code(model.codes[escape]);
            context = model.links[escape].0;
        }
        let inner_not_last = node.flags & (LEAF | LAST) == 0;
        if node.entry == RAW_ENTRY {
            write_raw(&mut writer, node);
            if inner_not_last {
                writer.put_raw_number(node.size);
            }
            continue;
        }
        let index = usize::from(node.entry);
        let e = &model.entries[index];
        writer.put_code(model.codes[index]);
        if e.flags & GAP_CODED != 0 {
            writer.put_number(node.start - node.base, e.gap_code, model);
        }
        if e.flags & END_MASK == END_CODED {
            writer.put_number(node.end - node.start, e.end_code, model);
        }
        if inner_not_last {
            writer.put_number(node.size, model.size_code, model);
        }
    }
    writer.finish();
}

/// A raw record's body (see `codec.rs`), without the size.
fn write_raw(writer: &mut BitWriter<'_>, node: &Flat) {
    writer.put(u32::from(node.flags & (LEAF | LAST | MISSING)), 3);
    writer.put(u32::from(node.kind), 16);
    if node.field != 0 {
        writer.put(1, 1);
        writer.put(u32::from(node.field), 16);
    } else {
        writer.put(0, 1);
    }
    let gap = i64::from(node.start) - i64::from(node.base);
    writer.put(u32::from(gap < 0), 1);
    writer.put_raw_number(gap.unsigned_abs() as u32);
    if node.end == node.parent_end {
        writer.put(1, 1);
    } else {
        writer.put(0, 1);
        writer.put_raw_number(node.end - node.start);
    }
}

#[cfg(test)]
mod tests {
    //! Records of every form, symbol-coded and raw, written and read back from a synthetic tree: this reaches
    //! what tree-sitter never produces (negative gaps, kinds past the grammar, field ids past a byte, huge
    //! gaps and lengths, last children that end before their parent) and checks the wide-node index.

    use super::{encode_flat, Flat, LAST, LEAF, MISSING};
    use crate::codec::{decoded, Frame, PADDING};
    use crate::model::Model;
    use crate::wide::{WideIndex, STRIDE};
    use bumpalo::Bump;
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

    /// The encoder's view of a synthetic tree, in preorder.
    fn flat(root: &T, text_len: u32) -> Vec<Flat> {
        fn visit(t: &T, base: u32, parent_end: u32, last: bool, out: &mut Vec<Flat>) {
            let index = out.len();
            out.push(Flat {
                start: t.info.start,
                end: t.info.end,
                base,
                parent_end,
                kind: t.info.kind,
                field: t.info.field,
                flags: u8::from(t.info.missing) * MISSING
                    | u8::from(t.children.is_empty()) * LEAF
                    | u8::from(last) * LAST,
                ..Flat::default()
            });
            let mut base = t.info.start;
            for (i, child) in t.children.iter().enumerate() {
                visit(child, base, t.info.end, i + 1 == t.children.len(), out);
                base = child.info.end;
            }
            out[index].next = out.len() as u32;
        }
        let mut out = Vec::new();
        visit(root, 0, text_len, true, &mut out);
        out
    }

    /// Every node read back by first-child and next-sibling moves, in preorder, with its leaf and last flags.
    fn read_back(bytes: &[u8], text_len: u32, language: Language) -> Vec<(NodeInfo, bool, bool)> {
        let model = Model::of(language);
        let (_, records) = WideIndex::of(bytes);
        let above = Frame::above_root(text_len, records, (bytes.len() * 8) as u32, model);
        let root = decoded(bytes, records, model.root_descriptor, 0, above.as_parent(), model);
        let mut out = Vec::new();
        let mut stack = vec![root];
        while let Some(frame) = stack.pop() {
            out.push((frame.info(), frame.is_leaf(), frame.is_last()));
            if frame.is_leaf() {
                continue;
            }
            let mut children = Vec::new();
            let parent = frame.as_parent();
            let mut child = decoded(bytes, frame.children, frame.child, frame.start, parent, model);
            loop {
                children.push(child);
                if child.is_last() {
                    break;
                }
                child = decoded(bytes, child.subtree_end, child.next, child.end, parent, model);
            }
            stack.extend(children.into_iter().rev());
        }
        out
    }

    fn encode(language: Language, root: &T, text_len: u32) -> (Vec<Flat>, Vec<u8>) {
        let mut nodes = flat(root, text_len);
        let mut stream = Vec::new();
        encode_flat(&Bump::new(), language, &mut nodes, u64::MAX, &mut stream).unwrap();
        stream.resize(stream.len() + PADDING, 0);
        (nodes, stream)
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
        let (nodes, stream) = encode(Language::Python, &root, text_len);
        let back = read_back(&stream, text_len, Language::Python);
        assert_eq!(back.len(), nodes.len());
        for (i, (flat, (info, leaf, last))) in nodes.iter().zip(&back).enumerate() {
            let want = NodeInfo {
                kind: flat.kind,
                field: flat.field,
                start: flat.start,
                end: flat.end,
                missing: flat.flags & MISSING != 0,
            };
            assert_eq!(*info, want, "node {i}");
            assert_eq!(
                (*leaf, *last),
                (flat.flags & LEAF != 0, flat.flags & LAST != 0),
                "node {i}"
            );
        }
        // Some of them were raw records, some symbols.
        let raw = nodes.iter().filter(|n| n.entry == super::RAW_ENTRY).count();
        assert!(raw >= 4 && raw < nodes.len() - 4, "{raw} raw records");
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
        let (index, records) = WideIndex::of(&stream);
        let model = Model::of(Language::Python);
        let above = Frame::above_root(count * 3, records, (stream.len() * 8) as u32, model);
        let root = decoded(&stream, records, model.root_descriptor, 0, above.as_parent(), model);
        assert!(index.scan_from(root.children, 0).is_none());
        for offset in [0, 1, 95, 96, 97, 1500, count * 3 - 1] {
            // The last sampled child (node `k + 1` in preorder) whose previous sibling ends before `offset`.
            let want = (1..count)
                .filter(|k| k % STRIDE == 0 && nodes[*k as usize + 1].base < offset)
                .last();
            let got = index.scan_from(root.children, offset);
            match (want, got) {
                (None, None) => {}
                (Some(k), Some(sample)) => {
                    let child = decoded(
                        &stream,
                        sample.at,
                        model.descriptor(sample.context),
                        sample.base,
                        root.as_parent(),
                        model,
                    );
                    assert_eq!(child.info().start, k * 3, "offset {offset}");
                }
                other => panic!("offset {offset}: {other:?}"),
            }
        }
    }
}
