//! Generates `src/table_data.rs`, the per-language opcode tables of the arena backend, from real code.
//!
//! Usage: `cargo run -p backend-arena --release --example gen_tables -- OUT python=DIR rust=DIR typescript=DIR`
//! (several directories per language may be given; TSX reuses the TypeScript table).
//!
//! Each node the encoder could write as a one-byte opcode is classified exactly as `src/encode.rs` does:
//! kind, leaf or inner, last child (which for a compact record implies "ends where its parent ends"), gap class
//! (0, 1 or a varint) and, for a leaf that is not last, its length. Opcodes are then chosen greedily by the
//! bytes they save over the escape form, up to 255 per language (byte 255 is the escape).

use cst_measure::corpus::{Corpus, DEFAULT_MAX_FILE_BYTES};
use cst_measure::Language;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;

const LEAF: u8 = 1;
const LAST: u8 = 2;
const GAP_SHIFT: u8 = 2;
const FIXED: u8 = 16;
const MAX_FIXED: u32 = 15;
const OPCODES: usize = 255;

/// A set of nodes that one opcode choice treats alike.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct GroupKey {
    kind: u16,
    leaf: bool,
    last: bool,
    gap: u8,
    /// Exact length, for leaves that are not last (others take their end from the parent or a varint).
    len: Option<u32>,
}

/// A candidate opcode: a shape (flags) and, for fixed-length leaves, the length.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct Candidate {
    kind: u16,
    shape: u8,
    fixed: u8,
}

fn varint_len(mut v: u64) -> u64 {
    let mut n = 1;
    while v >= 0x80 {
        v >>= 7;
        n += 1;
    }
    n
}

/// Bytes the opcode-dependent part of a record costs in the escape form.
fn escape_cost(key: &GroupKey) -> u64 {
    2 + varint_len(u64::from(key.kind.wrapping_add(1)))
        + key.len.map_or(0, |l| varint_len(l.into()))
}

/// One node as the encoder sees it.
struct Flat {
    kind: u16,
    start: u32,
    end: u32,
    base: u32,
    parent_end: u32,
    leaf: bool,
    last: bool,
    missing: bool,
}

/// The file's visible nodes in preorder, with the base (parent start or previous sibling end) and parent end.
fn flatten(tree: &tree_sitter::Tree, text_len: u32) -> Vec<Flat> {
    let mut flat: Vec<Flat> = Vec::new();
    let mut cursor = tree.walk();
    let mut open: Vec<usize> = Vec::new();
    let (mut base, mut parent_end) = (0, text_len);
    loop {
        let node = cursor.node();
        let index = flat.len();
        flat.push(Flat {
            kind: node.kind_id(),
            start: node.start_byte() as u32,
            end: node.end_byte() as u32,
            base,
            parent_end,
            leaf: true,
            last: false,
            missing: node.is_missing(),
        });
        if cursor.goto_first_child() {
            flat[index].leaf = false;
            open.push(index);
            (base, parent_end) = (flat[index].start, flat[index].end);
            continue;
        }
        let mut current = index;
        loop {
            if cursor.goto_next_sibling() {
                base = flat[current].end;
                break;
            }
            flat[current].last = true;
            if !cursor.goto_parent() {
                return flat;
            }
            current = open.pop().expect("a parent is open");
        }
        parent_end = open.last().map_or(text_len, |&p| flat[p].end);
    }
}

fn collect(language: Language, dirs: &[String], groups: &mut HashMap<GroupKey, u64>) {
    for dir in dirs {
        let corpus =
            Corpus::scan(Path::new(dir), DEFAULT_MAX_FILE_BYTES).expect("corpus directory");
        for file in corpus.files.iter().filter(|f| f.language == language) {
            let text = file.text().expect("readable");
            let tree = language.parse(&text);
            for node in flatten(&tree, text.len() as u32) {
                let gap = i64::from(node.start) - i64::from(node.base);
                let ends_at_parent = node.end == node.parent_end;
                if node.missing || gap < 0 || (node.last && !ends_at_parent) {
                    continue; // Always an escape.
                }
                let key = GroupKey {
                    kind: node.kind,
                    leaf: node.leaf,
                    last: node.last,
                    gap: gap.min(2) as u8,
                    len: (node.leaf && !node.last).then_some(node.end - node.start),
                };
                *groups.entry(key).or_default() += 1;
            }
        }
    }
}

/// The candidates that would serve a group.
fn candidates_of(key: &GroupKey) -> Vec<Candidate> {
    let shape = (u8::from(key.leaf) * LEAF) | (u8::from(key.last) * LAST) | (key.gap << GAP_SHIFT);
    match key.len {
        Some(len) if len <= MAX_FIXED => vec![
            Candidate {
                kind: key.kind,
                shape,
                fixed: 0,
            },
            Candidate {
                kind: key.kind,
                shape: shape | FIXED,
                fixed: len as u8,
            },
        ],
        _ => vec![Candidate {
            kind: key.kind,
            shape,
            fixed: 0,
        }],
    }
}

/// What a group's opcode-dependent bytes cost with `candidate` available.
fn cost_with(key: &GroupKey, candidate: &Candidate) -> u64 {
    if candidate.shape & FIXED != 0 {
        1
    } else {
        1 + key.len.map_or(0, |l| varint_len(l.into()))
    }
}

/// Greedy choice of up to 255 opcodes by bytes saved.
fn choose(groups: &HashMap<GroupKey, u64>) -> Vec<(Candidate, u64)> {
    let keys: Vec<(GroupKey, u64)> = groups.iter().map(|(k, &n)| (*k, n)).collect();
    let mut cost: Vec<u64> = keys.iter().map(|(k, _)| escape_cost(k)).collect();
    let mut serves: HashMap<Candidate, Vec<usize>> = HashMap::new();
    for (i, (key, _)) in keys.iter().enumerate() {
        for c in candidates_of(key) {
            serves.entry(c).or_default().push(i);
        }
    }
    let mut chosen = Vec::new();
    while chosen.len() < OPCODES {
        let best = serves
            .iter()
            .map(|(c, gs)| {
                let saving: u64 = gs
                    .iter()
                    .map(|&g| keys[g].1 * cost[g].saturating_sub(cost_with(&keys[g].0, c)))
                    .sum();
                (saving, *c)
            })
            .max_by_key(|&(saving, c)| (saving, std::cmp::Reverse((c.kind, c.shape, c.fixed))));
        let Some((saving, c)) = best else { break };
        if saving == 0 {
            break;
        }
        let mut uses = 0;
        for &g in &serves[&c] {
            let with = cost_with(&keys[g].0, &c);
            if with < cost[g] {
                cost[g] = with;
            }
            uses += keys[g].1;
        }
        serves.remove(&c);
        chosen.push((c, uses));
    }
    chosen.sort_by_key(|&(c, uses)| (std::cmp::Reverse(uses), c.kind, c.shape, c.fixed));
    chosen
}

fn main() {
    let mut args = std::env::args().skip(1);
    let out = args.next().expect("usage: gen_tables OUT language=DIR...");
    let mut dirs: HashMap<Language, Vec<String>> = HashMap::new();
    for arg in args {
        let (name, dir) = arg.split_once('=').expect("language=DIR");
        let language = Language::ALL
            .into_iter()
            .find(|l| l.name() == name)
            .expect("python, rust or typescript");
        dirs.entry(language).or_default().push(dir.to_string());
    }
    let mut text = String::from(
        "//! Generated by `examples/gen_tables.rs` from real code (see the crate documentation): the compact\n\
         //! opcodes of each language, most used first. Each entry is (kind name, named, shape bits, fixed length);\n\
         //! its position is its opcode byte; the comment is how many nodes of the training code it matched.\n\
         //! Regenerate rather than edit.\n\n\
         use crate::table::OpSpec;\n",
    );
    for (language, konst) in [
        (Language::Python, "PYTHON"),
        (Language::Rust, "RUST"),
        (Language::TypeScript, "TYPESCRIPT"),
    ] {
        let grammar = language.grammar();
        let mut groups = HashMap::new();
        collect(
            language,
            dirs.get(&language).map_or(&[][..], |d| &d[..]),
            &mut groups,
        );
        // Kinds whose name resolves to another id (aliases) cannot be named in the table: they stay escapes.
        groups.retain(|key, _| {
            key.kind == u16::MAX
                || grammar.node_kind_for_id(key.kind).is_some_and(|name| {
                    grammar.id_for_node_kind(name, grammar.node_kind_is_named(key.kind)) == key.kind
                })
        });
        let total: u64 = groups.values().sum();
        let chosen = choose(&groups);
        eprintln!(
            "{}: {} opcodes chosen over {total} nodes",
            language.name(),
            chosen.len()
        );
        writeln!(
            text,
            "\n/// {} ({} opcodes).",
            language.name(),
            chosen.len()
        )
        .unwrap();
        writeln!(text, "pub(crate) const {konst}: &[OpSpec] = &[").unwrap();
        for (c, uses) in chosen {
            let (name, named) = if c.kind == u16::MAX {
                ("ERROR", true)
            } else {
                (
                    grammar.node_kind_for_id(c.kind).expect("kind"),
                    grammar.node_kind_is_named(c.kind),
                )
            };
            writeln!(
                text,
                "    ({name:?}, {named}, {}, {}), // {uses}",
                c.shape, c.fixed
            )
            .unwrap();
        }
        writeln!(text, "];").unwrap();
    }
    std::fs::write(&out, text).expect("write the table file");
}
