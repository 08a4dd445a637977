//! What tree-sitter's query cursor knows of each visible node beyond the public `Node` API: its field
//! as `ts_tree_cursor_current_status` reads it and the hidden supertypes between it and its visible
//! parent. [`statuses`] computes both with tree-sitter's own `QueryCursor` on the tree (no `unsafe`):
//!
//! - supertypes: one pattern `(SUPERTYPE) @s` per supertype of the language (a wildcard step with a
//!   supertype matches exactly the nodes that have it in the cursor's supertype list);
//! - fields: the walk's field (`TreeCursor::field_id`) equals the query cursor's for every node that
//!   is not an extra; an extra under a hidden node that has a field takes that field in the query
//!   cursor only, so for each extra kind present in the tree and each field, `(_ FIELD: (EXTRA) @c)`
//!   and `(ERROR FIELD: (EXTRA) @c)` find the extras the query cursor gives that field.
//!
//! Costs: one walk of the tree, one query compilation for the supertypes and one for the extras' fields
//! (only when the tree has extras), each run once over the tree; the field patterns start only at
//! extras. Not covered: an `ERROR` node under a hidden supertype (a wildcard step never matches
//! `ERROR`), supertypes beyond the 32nd of a language, and a supertype whose name resolves to another
//! symbol.

use std::collections::HashMap;
use tree_sitter::StreamingIterator;

/// The query cursor's view of one visible node.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NodeStatus {
    /// The field as `ts_tree_cursor_current_status` reads it (0 for none).
    pub query_field: u16,
    /// Bit `i` set when `language.supertypes()[i]` is among the node's hidden supertypes.
    pub supertypes: u32,
    pub extra: bool,
}

/// The status of every visible node of `tree`, in preorder (the root is 0).
pub fn statuses(tree: &tree_sitter::Tree, language: &tree_sitter::Language) -> Vec<NodeStatus> {
    let mut out = Vec::new();
    let mut index: HashMap<usize, usize> = HashMap::new();
    let mut extra_kinds: Vec<(u16, bool)> = Vec::new();
    let mut cursor = tree.walk();
    'walk: loop {
        let node = cursor.node();
        index.insert(node.id(), out.len());
        let extra = node.is_extra();
        if extra && !extra_kinds.contains(&(node.kind_id(), node.is_named())) {
            extra_kinds.push((node.kind_id(), node.is_named()));
        }
        out.push(NodeStatus {
            query_field: if extra {
                0
            } else {
                cursor.field_id().map_or(0, |f| f.get())
            },
            supertypes: 0,
            extra,
        });
        if cursor.goto_first_child() {
            continue;
        }
        loop {
            if cursor.goto_next_sibling() {
                break;
            }
            if !cursor.goto_parent() {
                break 'walk;
            }
        }
    }

    // Supertypes.
    let supertypes = language.supertypes();
    let mut source = String::new();
    let mut bit_of_pattern = Vec::new();
    for (bit, &supertype) in supertypes.iter().enumerate().take(32) {
        let Some(name) = language.node_kind_for_id(supertype) else {
            continue;
        };
        if language.id_for_node_kind(name, true) != supertype || !is_plain_name(name) {
            continue;
        }
        source.push_str(&format!("({name}) @s\n"));
        bit_of_pattern.push(bit);
    }
    if !source.is_empty() {
        if let Some(query) = compiled(language, &source) {
            let mut qc = tree_sitter::QueryCursor::new();
            let mut matches = qc.matches(&query, tree.root_node(), &[] as &[u8]);
            while let Some(m) = matches.next() {
                for c in m.captures() {
                    if let Some(&i) = index.get(&c.node.id()) {
                        out[i].supertypes |= 1 << bit_of_pattern[m.pattern_index];
                    }
                }
            }
        }
    }

    // The fields of extras.
    if !extra_kinds.is_empty() {
        let mut source = String::new();
        let mut field_of_pattern = Vec::new();
        for field in 1..=language.field_count() as u16 {
            let Some(name) = language.field_name_for_id(field) else {
                continue;
            };
            if !is_plain_name(name) {
                continue;
            }
            for &(kind, named) in &extra_kinds {
                let Some(kind_name) = language.node_kind_for_id(kind) else {
                    continue;
                };
                let child = if named {
                    if !is_plain_name(kind_name)
                        || language.id_for_node_kind(kind_name, true) != kind
                    {
                        continue;
                    }
                    format!("({kind_name})")
                } else {
                    format!("\"{}\"", escape(kind_name))
                };
                for parent in ["_", "ERROR"] {
                    source.push_str(&format!("({parent} {name}: {child} @c)\n"));
                    field_of_pattern.push(field);
                }
            }
        }
        if let Some(query) = compiled(language, &source) {
            let mut qc = tree_sitter::QueryCursor::new();
            let mut matches = qc.matches(&query, tree.root_node(), &[] as &[u8]);
            while let Some(m) = matches.next() {
                for c in m.captures() {
                    if let Some(&i) = index.get(&c.node.id()) {
                        if out[i].extra {
                            out[i].query_field = field_of_pattern[m.pattern_index];
                        }
                    }
                }
            }
        }
    }
    out
}

/// A name that can stand in a query as written.
fn is_plain_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')
        && name != "_"
        && name != "MISSING"
}

fn escape(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\0' => out.push_str("\\0"),
            c => out.push(c),
        }
    }
    out
}

thread_local! {
    /// The status queries compiled so far on this thread (tree-sitter's analysis of them dominates).
    static COMPILED: std::cell::RefCell<HashMap<String, Option<std::rc::Rc<tree_sitter::Query>>>> =
        std::cell::RefCell::new(HashMap::new());
}

/// `source` compiled for `language`, once per thread.
fn compiled(
    language: &tree_sitter::Language,
    source: &str,
) -> Option<std::rc::Rc<tree_sitter::Query>> {
    let key = format!("{}\n{source}", language.name().unwrap_or(""));
    COMPILED.with(|cache| {
        cache
            .borrow_mut()
            .entry(key)
            .or_insert_with(|| {
                tree_sitter::Query::new(language, source)
                    .ok()
                    .map(std::rc::Rc::new)
            })
            .clone()
    })
}
