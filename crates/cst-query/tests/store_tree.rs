//! [`StoreTree`] over a store (tree-sitter's own, `cst_measure::native::TreeSitterStore`) answers every shipped
//! query file as `QueryCursor` does, every shipped file compiles with both engines, and the comparison catches
//! a store that drops a supertype.

use cst_measure::native::TreeSitterStore;
use cst_measure::{CstStore, Language};
use cst_query::ops::{compare, ours, shipped, theirs};
use cst_query::{Query, QueryCursor, QueryTree, StoreTree};
use std::ops::Range;

/// A spread of the built-in corpus's files, in tree-sitter's store.
fn store() -> (TreeSitterStore, Vec<String>) {
    let generated = builtin_corpus::generate();
    let mut store = TreeSitterStore::new();
    let mut texts = Vec::new();
    for f in generated.iter().step_by(generated.len() / 30) {
        let Some(language) = Language::from_path(std::path::Path::new(&f.path)) else {
            continue;
        };
        store
            .add(language, &f.text, language.parse(&f.text))
            .expect("tree-sitter holds any tree");
        texts.push(f.text.clone());
    }
    (store, texts)
}

#[test]
fn every_shipped_file_compiles_with_tree_sitter_and_with_ours() {
    for q in shipped() {
        let grammar = q.language.grammar();
        tree_sitter::Query::new(&grammar, &q.source)
            .unwrap_or_else(|e| panic!("{:?} {}: {e}", q.language, q.name));
        Query::new(&grammar, &q.source)
            .unwrap_or_else(|e| panic!("{:?} {}: {e:?}", q.language, q.name));
    }
}

#[test]
fn a_store_tree_answers_the_shipped_queries_as_query_cursor_does() {
    let (store, texts) = store();
    let mut table = StoreTree::default();
    let mut cursor = QueryCursor::new();
    let mut compared = 0;
    for q in shipped() {
        let grammar = q.language.grammar();
        let query = Query::new(&grammar, &q.source).unwrap();
        let theirs_query = tree_sitter::Query::new(&grammar, &q.source).unwrap();
        for (file, text) in texts.iter().enumerate() {
            if store.language(file) != q.language {
                continue;
            }
            table.load(&store, file).unwrap();
            let ours = ours(&mut cursor, &query, &table);
            let theirs = theirs(&theirs_query, store.tree(file), text.as_bytes());
            compare(&theirs, &ours, |n| format!("{:?}", table.byte_range(n)))
                .unwrap_or_else(|m| panic!("{:?} {} file {file}: {m:?}", q.language, q.name));
            compared += theirs.matches.len();
        }
    }
    assert!(compared > 1000, "{compared} matches compared");
}

/// A tree whose store lost one node's supertypes.
struct DroppedSupertype<'t, T> {
    tree: &'t T,
    node: usize,
}

impl<T: QueryTree> QueryTree for DroppedSupertype<'_, T> {
    fn node_count(&self) -> usize {
        self.tree.node_count()
    }
    fn kind_id(&self, node: usize) -> u16 {
        self.tree.kind_id(node)
    }
    fn is_named(&self, node: usize) -> bool {
        self.tree.is_named(node)
    }
    fn is_extra(&self, node: usize) -> bool {
        self.tree.is_extra(node)
    }
    fn is_missing(&self, node: usize) -> bool {
        self.tree.is_missing(node)
    }
    fn byte_range(&self, node: usize) -> Range<usize> {
        self.tree.byte_range(node)
    }
    fn field_id(&self, node: usize) -> Option<u16> {
        self.tree.field_id(node)
    }
    fn has_supertype(&self, node: usize, supertype: u16) -> bool {
        node != self.node && self.tree.has_supertype(node, supertype)
    }
    fn has_child_in_field(&self, node: usize, field: u16) -> bool {
        self.tree.has_child_in_field(node, field)
    }
    fn parent(&self, node: usize) -> Option<usize> {
        self.tree.parent(node)
    }
    fn first_child(&self, node: usize) -> Option<usize> {
        self.tree.first_child(node)
    }
    fn next_sibling(&self, node: usize) -> Option<usize> {
        self.tree.next_sibling(node)
    }
    fn source(&self) -> &[u8] {
        self.tree.source()
    }
}

#[test]
fn a_dropped_supertype_is_caught_naming_the_pattern() {
    let text = "x = f(a) + 1\n";
    let mut store = TreeSitterStore::new();
    store
        .add(Language::Python, text, Language::Python.parse(text))
        .unwrap();
    let grammar = Language::Python.grammar();
    let source = "(identifier) @i\n(expression) @e\n";
    let query = Query::new(&grammar, source).unwrap();
    let theirs_query = tree_sitter::Query::new(&grammar, source).unwrap();
    let table = StoreTree::new(&store, 0).unwrap();
    let expression = grammar.id_for_node_kind("expression", true);
    let node = (0..table.node_count())
        .find(|&n| table.has_supertype(n, expression))
        .expect("a node under the expression supertype");
    let theirs = theirs(&theirs_query, store.tree(0), text.as_bytes());
    let mut cursor = QueryCursor::new();
    let right = ours(&mut cursor, &query, &table);
    assert_eq!(compare(&theirs, &right, |_| String::new()), Ok(()));
    let wrong = DroppedSupertype { tree: &table, node };
    let mismatch = compare(&theirs, &ours(&mut cursor, &query, &wrong), |_| {
        String::new()
    })
    .expect_err("a dropped supertype changes the matches");
    assert_eq!(mismatch.pattern, 1, "{mismatch:?}");
    assert!(mismatch.what.contains("missing p1"), "{mismatch:?}");
}
