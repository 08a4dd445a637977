//! Losslessness: every snippet comes back byte for byte with tree-sitter's exact node sequence, alone and in a
//! shared store, and the cursor's moves behave exactly like tree-sitter's `TreeCursor`, failures included.

mod common;

use cst_measure::reference::TreeSitterCursor;
use cst_measure::verify::verify_file;
use cst_measure::{CstCursor, CstStore};

#[test]
fn snippets_round_trip_in_one_store() {
    let files = common::snippets();
    let store = common::store_of(&files);
    assert_eq!(store.len(), files.len());
    for (index, (name, language, text)) in files.iter().enumerate() {
        assert_eq!(store.language(index), *language, "{name}");
        let nodes = verify_file(&store, index, *language, text, &language.parse(text))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(nodes >= 1, "{name}");
    }
}

#[test]
fn snippets_round_trip_each_alone() {
    for file in common::snippets() {
        let store = common::store_of(std::slice::from_ref(&file));
        let (name, language, text) = &file;
        verify_file(&store, 0, *language, text, &language.parse(text))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

#[test]
fn syntax_errors_include_error_and_missing_nodes() {
    let files = common::snippets();
    let (mut errors, mut missing) = (0, 0);
    for (_, language, text) in &files {
        let tree = language.parse(text);
        let mut cursor = TreeSitterCursor::new(tree.root_node(), text);
        cst_measure::reference::for_each_preorder(&mut cursor, |c| {
            errors += usize::from(c.node().kind == u16::MAX);
            missing += usize::from(c.node().missing);
        });
    }
    assert!(
        errors >= 4 && missing >= 2,
        "{errors} ERROR and {missing} MISSING nodes"
    );
}

#[test]
fn node_texts_are_the_source_slices() {
    let files = common::snippets();
    let store = common::store_of(&files);
    for (index, (name, _, text)) in files.iter().enumerate() {
        let mut cursor = store.cursor(index);
        cst_measure::reference::for_each_preorder(&mut cursor, |c| {
            let node = c.node();
            assert_eq!(
                c.text(),
                &text[node.start as usize..node.end as usize],
                "{name}: {node:?}"
            );
        });
    }
}

/// A deterministic pseudo-random sequence of moves, each checked against tree-sitter's cursor: same result,
/// same node afterwards (a failed move stays put).
#[test]
fn cursor_moves_match_tree_sitter_move_for_move() {
    let files = common::snippets();
    let store = common::store_of(&files);
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    for (index, (name, language, text)) in files.iter().enumerate() {
        let tree = language.parse(text);
        let mut expected = TreeSitterCursor::new(tree.root_node(), text);
        let mut actual = store.cursor(index);
        for step in 0..2000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            // Favour descending and stepping right so that walks reach deep into the tree.
            let (want, got) = match seed % 8 {
                0..=2 => (expected.goto_first_child(), actual.goto_first_child()),
                3..=6 => (expected.goto_next_sibling(), actual.goto_next_sibling()),
                _ => (expected.goto_parent(), actual.goto_parent()),
            };
            assert_eq!(want, got, "{name}: move {step} ({})", seed % 8);
            assert_eq!(expected.node(), actual.node(), "{name}: after move {step}");
        }
    }
}

#[test]
fn moves_fail_at_the_edges_and_stay_put() {
    let files = common::snippets();
    let store = common::store_of(&files);
    for index in 0..files.len() {
        let mut cursor = store.cursor(index);
        let root = cursor.node();
        assert!(!cursor.goto_parent());
        assert!(!cursor.goto_next_sibling());
        assert_eq!(cursor.node(), root);
        // Down the first children to a leaf, then right to the last sibling.
        while cursor.goto_first_child() {}
        let leaf = cursor.node();
        assert!(!cursor.goto_first_child());
        assert_eq!(cursor.node(), leaf);
        while cursor.goto_next_sibling() {}
        let last = cursor.node();
        assert!(!cursor.goto_next_sibling());
        assert_eq!(cursor.node(), last);
        while cursor.goto_parent() {}
        assert_eq!(cursor.node(), root);
    }
}

#[test]
fn stores_and_cursors_can_be_shared_between_threads() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<backend_arena::ArenaStore>();
    send_sync::<backend_arena::ArenaCursor<'static>>();
}
