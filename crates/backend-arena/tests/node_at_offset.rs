//! `node_at_offset` and `cursor_at_offset` give the answer of `cst_measure::backend::descend_to_offset` at every
//! offset `0..=len`, with the cursor's parent chain as deep as tree-sitter's `Node::parent()` chain: on the
//! snippets that is also tree-sitter's own `descendant_for_byte_range(o, o)`, checked directly; on random
//! token files it is the rule applied to tree-sitter's own cursor, since tree-sitter itself departs from the
//! rule where a hidden zero-width token sits at the offset (see the last test).

mod common;

use backend_arena::Arena;
use cst_measure::backend::descend_to_offset;
use cst_measure::fixtures::random_tokens;
use cst_measure::reference::TreeSitterCursor;
use cst_measure::{Backend, CstCursor, CstStore, Language, NodeInfo};
use proptest::prelude::*;

/// Checks every offset of `text` (file `index` of `store`) against the rule applied to tree-sitter's own
/// cursor and, if `native`, against `descendant_for_byte_range` too; returns the number of offsets checked.
fn check_every_offset<S: CstStore>(
    store: &S,
    index: usize,
    name: &str,
    language: Language,
    text: &str,
    native: bool,
) -> usize {
    let tree = language.parse(text);
    let root = tree.root_node();
    for offset in 0..=text.len() {
        let offset32 = offset as u32;
        let mut reference = TreeSitterCursor::new(root, text);
        descend_to_offset(&mut reference, offset32);
        let want = reference.ts_node();
        if native {
            let native = root
                .descendant_for_byte_range(offset, offset)
                .unwrap_or(root);
            assert_eq!(
                NodeInfo::of(native),
                NodeInfo::of(want),
                "{name} at {offset}: tree-sitter vs the rule"
            );
        }
        assert_eq!(
            store.node_at_offset(index, offset32),
            NodeInfo::of(want),
            "{name} at {offset}"
        );

        let mut cursor = store.cursor_at_offset(index, offset32);
        assert_eq!(
            cursor.node(),
            NodeInfo::of(want),
            "{name} at {offset}: cursor"
        );
        let mut generic = store.cursor(index);
        descend_to_offset(&mut generic, offset32);
        assert_eq!(
            generic.node(),
            NodeInfo::of(want),
            "{name} at {offset}: generic descent"
        );

        let mut ts_depth = 0;
        let mut node = want;
        while let Some(parent) = node.parent() {
            ts_depth += 1;
            node = parent;
        }
        let mut depth = 0;
        while cursor.goto_parent() {
            depth += 1;
        }
        assert_eq!(depth, ts_depth, "{name} at {offset}: parent chain");
        assert_eq!(
            cursor.node(),
            NodeInfo::of(root),
            "{name} at {offset}: chain ends at the root"
        );
    }
    text.len() + 1
}

#[test]
fn every_offset_of_every_snippet() {
    let files = common::snippets();
    let store = common::store_of(&files);
    let mut checked = 0;
    for (index, (name, language, text)) in files.iter().enumerate() {
        checked += check_every_offset(&store, index, name, *language, text, true);
    }
    assert!(checked > 1500, "{checked}");
}

#[test]
fn offsets_past_the_end_give_what_tree_sitter_gives() {
    let files = common::snippets();
    let store = common::store_of(&files);
    for (index, (name, language, text)) in files.iter().enumerate() {
        let tree = language.parse(text);
        let root = tree.root_node();
        for offset in [text.len() + 1, text.len() + 100, u32::MAX as usize] {
            let want = root
                .descendant_for_byte_range(offset, offset)
                .unwrap_or(root);
            assert_eq!(
                store.node_at_offset(index, offset as u32),
                NodeInfo::of(want),
                "{name} at {offset}"
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn every_offset_of_random_token_files(
        language in prop::sample::select(Language::ALL.to_vec()),
        picks in prop::collection::vec(any::<prop::sample::Index>(), 0..60),
    ) {
        let tokens = random_tokens(language);
        let text: String = picks.iter().map(|i| tokens[i.index(tokens.len())]).collect();
        let mut store = Arena::new_store();
        store.add(language, &text, language.parse(&text)).unwrap();
        store.finish();
        cst_measure::verify::verify_file(&store, 0, &text, &language.parse(&text)).unwrap();
        check_every_offset(&store, 0, &format!("{language:?} {text:?}"), language, &text, false);
    }
}

/// Where tree-sitter's own descent meets a hidden zero-width token at the offset (here TypeScript's automatic
/// semicolon between `x` and `}` at byte 21), it stops at the visible node above it; the rule of
/// `descend_to_offset`, which sees only visible nodes, goes on into `}`. This backend stores visible nodes only
/// and gives the rule's answer, as the cursor-based default and every other backend do.
#[test]
fn hidden_zero_width_tokens_are_where_tree_sitter_departs_from_the_rule() {
    let text = "letfunction</**/{/*;x}";
    let language = Language::TypeScript;
    let tree = language.parse(text);
    let mut store = Arena::new_store();
    store.add(language, text, language.parse(text)).unwrap();
    store.finish();
    let native = tree.root_node().descendant_for_byte_range(21, 21).unwrap();
    assert_eq!(native.kind(), "object_type");
    let node = store.node_at_offset(0, 21);
    assert_eq!(language.grammar().node_kind_for_id(node.kind), Some("}"));
    assert_eq!((node.start, node.end), (21, 22));
    let mut generic = store.cursor(0);
    descend_to_offset(&mut generic, 21);
    assert_eq!(generic.node(), node);
}
