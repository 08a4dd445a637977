//! The trained models: per grammar, the contexts records are coded in, each context's symbols and codes, and
//! the number codes of gaps, lengths and subtree sizes. All of it is `static` data expanded at compile time by
//! `build.rs` from `tables/*.model` (trained by `examples/gen_tables.rs`): no heap, nothing shared between
//! files. What a process reads of it is counted apart from the store, per grammar used
//! ([`Model::static_bytes`], which a test checks against the bytes `build.rs` counted as it wrote them).
//! The tables are the decoder's: what only the encoder needs (each symbol's code and next context) it
//! derives from them at run time (`encode::Tables`; a test checks it against what `build.rs` computed).
//!
//! Correctness never depends on the model: a symbol carries the kind and field ids it stands for, and the
//! encoder uses a symbol only for a node it reproduces exactly (anything else is escaped to a fallback
//! context and finally to a raw record). A model trained on another grammar version only codes worse.

use cst_measure::Language;

/// [`Entry::flags`]: the node has no visible children.
pub(crate) const LEAF: u8 = 1;
/// The node is its parent's last child.
pub(crate) const LAST: u8 = 1 << 1;
/// The gap is a number coded with [`Entry::gap_code`] (else 0, or 1 with [`GAP_ONE`]).
pub(crate) const GAP_CODED: u8 = 1 << 2;
pub(crate) const GAP_ONE: u8 = 1 << 3;
/// How the end is found (two bits): a fixed length, the parent's end, or a length coded with
/// [`Entry::end_code`].
pub(crate) const END_MASK: u8 = 3 << 4;
pub(crate) const END_FIXED: u8 = 1 << 4;
pub(crate) const END_PARENT: u8 = 2 << 4;
pub(crate) const END_CODED: u8 = 3 << 4;
/// This symbol is the escape: go on decoding in context [`Entry::next`] ([`RAW`]: a raw record follows).
pub(crate) const ESCAPE: u8 = 1 << 6;
/// The next sibling's context depends on the parent's kind, which this (global) context does not know:
/// [`Model::resolve`] it.
pub(crate) const LOOKUP: u8 = 1 << 7;

/// The escape of the global context: a raw record follows (a context id).
pub(crate) const RAW: u16 = u16::MAX;
/// The same as a descriptor.
pub(crate) const RAW_DESCRIPTOR: u32 = u32::MAX;
/// The parent "kind" of a root and the previous sibling "kind" of a first child, in context keys.
pub(crate) const NONE: u16 = 0xFFFE;

/// A context, by id: where its symbols are (the encoder's view) and its descriptor (the decoder's).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Context {
    /// See [`Descriptor`].
    pub(crate) descriptor: u32,
    /// Its first symbol in [`Model::entries`]: its symbols are stored sorted by the encoder's key
    /// ([`Entry::key`]), then by how many of their parts are coded, and its escape after them. (A model
    /// has fewer than 4,096 entries: a decoding slot holds 12 bits of entry.)
    pub(crate) entries: u16,
    /// How many symbols (the escape not counted).
    pub(crate) symbols: u16,
}

const _: () = assert!(std::mem::size_of::<Context>() == 8);

/// What a reader needs to decode a symbol of a context, packed in a `u32` that entries and cursor frames
/// carry for the contexts of the next sibling and of the first child: `slots << 10 | sub << 7 | 64 - first`.
///
/// The context's decoding table starts at slot `slots` of [`Model::slots`] and has two levels, so that the
/// common (short) codes are found in one cache line: a first level of `1 << first` slots indexed by the next
/// `first` bits (at most 5), then second-level tables of `1 << sub` slots each for the longer codes. A slot
/// (a `u16`) holds `entry << 4 | code length` (the entry's index in [`Model::entries`], below 4,096), or
/// `table << 4` with length 0: go on in second-level table number `table`, indexed by the next `sub` bits.
#[allow(dead_code)] // Documentation of the packing; the code passes plain `u32`s.
pub(crate) type Descriptor = u32;

/// 64-byte alignment for the decoding tables, so that a full first level (32 slots of 2 bytes) starts a cache
/// line.
#[repr(align(64))]
pub(crate) struct Aligned<T>(pub(crate) T);

/// A symbol: what one code in one context stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Entry {
    /// `kind | field << 16`, as a cursor frame holds them (every bundled grammar has fewer than 256 fields;
    /// a node with a larger field id is raw).
    pub(crate) kind_field: u32,
    /// Descriptor of the next sibling's context (unless [`LOOKUP`]); for the escape, the fallback
    /// context's or [`RAW_DESCRIPTOR`].
    pub(crate) next: u32,
    /// [`LEAF`], [`LAST`], gap and end modes, [`ESCAPE`], [`LOOKUP`].
    pub(crate) flags: u8,
    /// The number codes of the gap ([`GAP_CODED`]) and of the length ([`END_CODED`]).
    pub(crate) gap_code: u8,
    pub(crate) end_code: u8,
    /// The length, with [`END_FIXED`].
    pub(crate) fixed: u8,
}

const _: () = assert!(std::mem::size_of::<Entry>() == 12);

impl Entry {
    /// What the encoder looks a node up by: `kind << 16 | field << 8 | last << 1 | leaf`.
    #[inline(always)]
    pub(crate) fn key(&self) -> u32 {
        ((self.kind_field & 0xffff) << 16)
            | ((self.kind_field >> 16) << 8)
            | u32::from(self.flags & (LEAF | LAST))
    }
}

/// Builds an [`Entry`] (short, for the generated tables).
const fn e(kind_field: u32, flags: u8, gap_code: u8, end_code: u8, fixed: u8, next: u32) -> Entry {
    Entry {
        kind_field,
        next,
        flags,
        gap_code,
        end_code,
        fixed,
    }
}

/// One grammar's model.
pub(crate) struct Model {
    pub(crate) contexts: &'static [Context],
    pub(crate) entries: &'static [Entry],
    /// Per entry, the encoder's code (`code << 4 | length`, most significant bit first) and the id of its
    /// next sibling's context (for the escape: its fallback context or [`RAW`]), as `build.rs` wrote them:
    /// for the test that checks what the encoder derives from the decoding tables (`encode::Tables`).
    #[cfg(test)]
    pub(crate) codes: &'static [u16],
    #[cfg(test)]
    pub(crate) links: &'static [u16],
    /// Decoding tables of the contexts (see [`Descriptor`]).
    pub(crate) slots: &'static [u16],
    /// 256 slots per number code: `small << 9 | extra << 4 | length`: the code's length, and the value,
    /// `small` or a leading one followed by `extra` more bits.
    pub(crate) number_slots: &'static [u16],
    /// 44 codes per number code, `code << 4 | length`, as `build.rs` wrote them (the encoder derives them
    /// from `number_slots`; for the test that checks it).
    #[cfg(test)]
    pub(crate) number_codes: &'static [u16],
    /// Sorted `parent << 16 | previous sibling` keys of the pair contexts, and their contexts.
    pub(crate) pairs: &'static [u32],
    pub(crate) pair_contexts: &'static [u16],
    /// Sorted parent kinds with a fallback context, and those contexts.
    pub(crate) fallback_kinds: &'static [u16],
    pub(crate) fallback_contexts: &'static [u16],
    /// `resolve(kind, NONE)` for every kind id up to the largest the model names, then for `ERROR`, as
    /// `build.rs` wrote them (the encoder derives its own; for the test that checks it).
    #[cfg(test)]
    pub(crate) first_contexts: &'static [u16],
    /// The descriptor of `resolve(kind, NONE)`, the context of a node's first child, for every kind id up to
    /// the largest the model names, then for `ERROR`: what every entry of those kinds decodes its first
    /// child with (4 bytes a kind, instead of 4 an entry).
    pub(crate) first_children: &'static [u32],
    pub(crate) global: u16,
    /// The context of a file's root, and its descriptor.
    pub(crate) root: u16,
    pub(crate) root_descriptor: u32,
    /// The number code of subtree sizes.
    pub(crate) size_code: u8,
    /// The kind and field ids the model names, as the grammar it was trained with named them.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) kinds: &'static [(u16, bool, &'static str)],
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) fields: &'static [(u16, &'static str)],
}

include!(concat!(env!("OUT_DIR"), "/models.rs"));

impl Model {
    /// Bytes of the static tables this model reads (the kind and field names, kept for tests, aside).
    pub(crate) fn static_bytes(&self) -> usize {
        use std::mem::size_of_val;
        size_of_val(self.contexts)
            + size_of_val(self.entries)
            + size_of_val(self.slots)
            + size_of_val(self.number_slots)
            + size_of_val(self.pairs)
            + size_of_val(self.pair_contexts)
            + size_of_val(self.fallback_kinds)
            + size_of_val(self.fallback_contexts)
            + size_of_val(self.first_children)
    }

    /// The descriptor of the first child's context of a node decoded as `entry` (whose kind the model names,
    /// or is `ERROR`, the last of [`Model::first_children`]).
    #[inline(always)]
    pub(crate) fn child_descriptor(&self, entry: &Entry) -> u32 {
        let last = self.first_children.len() - 1;
        self.first_children[(entry.kind_field as u16 as usize).min(last)]
    }

    /// The model of a grammar.
    pub(crate) fn of(language: Language) -> &'static Model {
        match language {
            Language::Python => &python::MODEL,
            Language::Rust => &rust::MODEL,
            Language::TypeScript => &typescript::MODEL,
            Language::Tsx => &tsx::MODEL,
        }
    }

    /// The context of a node whose parent has kind `parent` (or [`NONE`]) and whose previous sibling has
    /// kind `prev` (or [`NONE`]): the pair's context, else the parent's fallback, else the global context.
    /// Binary searches: the encoder and the decoder's slow paths use it; decoding reads contexts from entries.
    pub(crate) fn resolve(&self, parent: u16, prev: u16) -> u16 {
        let key = (u32::from(parent) << 16) | u32::from(prev);
        if let Ok(i) = self.pairs.binary_search(&key) {
            return self.pair_contexts[i];
        }
        match self.fallback_kinds.binary_search(&parent) {
            Ok(i) => self.fallback_contexts[i],
            Err(_) => self.global,
        }
    }

    /// The descriptor of context `context`.
    pub(crate) fn descriptor(&self, context: u16) -> u32 {
        self.contexts[usize::from(context)].descriptor
    }

    /// The descriptor of the context of the node after one decoded as `entry` under a parent of kind
    /// `parent`.
    #[inline(always)]
    pub(crate) fn next_descriptor(&self, entry: &Entry, parent: u16) -> u32 {
        if entry.flags & LOOKUP == 0 {
            entry.next
        } else {
            self.descriptor(self.resolve(parent, entry.kind_field as u16))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Model;
    use cst_measure::Language;

    /// Every kind and field id the models use still has the name it was trained under (else the model
    /// silently codes worse: correctness does not depend on it).
    #[test]
    fn model_ids_name_what_they_were_trained_on() {
        for language in Language::ALL {
            let model = Model::of(language);
            let grammar = language.grammar();
            assert!(model.kinds.len() > 100, "{}", language.name());
            for &(id, named, name) in model.kinds {
                if id == u16::MAX {
                    assert_eq!(name, "ERROR");
                    continue;
                }
                assert_eq!(
                    (grammar.node_kind_for_id(id), grammar.node_kind_is_named(id)),
                    (Some(name), named),
                    "{}: kind {id}",
                    language.name()
                );
            }
            // The encoder's first-child contexts and number codes, derived from the decoder's tables.
            let tables = crate::encode::Tables::of(model);
            let coder = crate::encode::Coder::new(model, &tables);
            for kind in (0..=model.first_contexts.len() as u16 + 2).chain([u16::MAX]) {
                assert_eq!(coder.first_context(kind), model.resolve(kind, super::NONE));
            }
            assert_eq!(&*tables.number_codes, model.number_codes);
            for &(id, name) in model.fields {
                assert_eq!(
                    grammar.field_name_for_id(id),
                    Some(name),
                    "{}: field {id}",
                    language.name()
                );
            }
        }
    }

    /// Every context's codes are complete where the encoder can reach them: each symbol (and the escape) has
    /// a code, decoding the slot its code starts gives it back, and escapes lead to a wider context.
    #[test]
    fn static_bytes_are_what_build_rs_counted() {
        for (language, counted) in [
            (Language::Python, super::python::COUNTED_BYTES),
            (Language::Rust, super::rust::COUNTED_BYTES),
            (Language::TypeScript, super::typescript::COUNTED_BYTES),
            (Language::Tsx, super::tsx::COUNTED_BYTES),
        ] {
            assert_eq!(
                Model::of(language).static_bytes(),
                counted,
                "{}",
                language.name()
            );
        }
    }

    #[test]
    fn codes_and_tables_agree() {
        for language in Language::ALL {
            let model = Model::of(language);
            for (index, context) in model.contexts.iter().enumerate() {
                let first = context.entries as usize;
                let count = model.entries[first..]
                    .iter()
                    .position(|e| e.flags & super::ESCAPE != 0)
                    .expect("an escape")
                    + 1;
                for rank in 0..count {
                    let code = model.codes[first + rank];
                    let (bits, length) = (u64::from(code >> 4), u32::from(code & 15));
                    assert!(length >= 1);
                    // The code, left-aligned, followed by ones: what the decoder peeks.
                    let word = (bits << (64 - length)) | (u64::MAX >> length);
                    let mut at = 0usize;
                    let mut stream = word.to_be_bytes().to_vec();
                    stream.extend([0xff; 8]);
                    assert_eq!(
                        crate::codec::read_symbol(
                            &stream,
                            &mut at,
                            model.contexts[index].descriptor,
                            model
                        ),
                        ((first + rank) as u32, length as usize),
                        "{} context {index} rank {rank}",
                        language.name()
                    );
                }
                // The encoder's tables, derived from the decoding tables, are what build.rs wrote.
                let tables = crate::encode::Tables::of(model);
                for at in first..first + count {
                    assert_eq!(
                        tables.codes[at],
                        model.codes[at],
                        "{} entry {at}",
                        language.name()
                    );
                    if model.entries[at].flags & super::LOOKUP == 0 {
                        assert_eq!(
                            tables.links[at],
                            model.links[at],
                            "{} entry {at}",
                            language.name()
                        );
                    }
                }
                // Each symbol's first child decodes in its kind's first-child context, from the per-kind table.
                for e in &model.entries[first..first + count - 1] {
                    assert_eq!(
                        model.child_descriptor(e),
                        model.descriptor(model.resolve(e.kind_field as u16, super::NONE)),
                        "{} kind {}",
                        language.name(),
                        e.kind_field as u16
                    );
                }
                // The escape leads to a wider context (whose descriptor it carries) or to a raw record.
                let (escape, fallback) = (
                    model.entries[first + count - 1],
                    model.links[first + count - 1],
                );
                if fallback == super::RAW {
                    assert_eq!(escape.next, super::RAW_DESCRIPTOR);
                } else {
                    assert_eq!(escape.next, model.descriptor(fallback));
                }
            }
        }
    }
}
