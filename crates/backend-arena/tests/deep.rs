//! A file nested 100,000 levels deep, per language, converts, verifies, walks, answers offsets and drops on a
//! normal test thread's 2 MiB stack: nothing in the backend recurses.

mod common;

use backend_arena::Arena;
use cst_measure::backend::cursor_at;
use cst_measure::reference::for_each_preorder;
use cst_measure::verify::verify_file;
use cst_measure::{Backend, CstCursor, CstStore, Language, NodeInfo};

const DEPTH: usize = 100_000;

fn deep(language: Language) -> String {
    let nested = format!("{}1{}", "(".repeat(DEPTH), ")".repeat(DEPTH));
    match language {
        Language::Python => format!("x = {nested}\n"),
        Language::Rust => format!("fn f() {{ let x = {nested}; }}"),
        Language::TypeScript | Language::Tsx => format!("let x = {nested};"),
    }
}

fn check(language: Language) {
    let text = deep(language);
    let tree = language.parse(&text);
    let mut store = Arena::new_store();
    store.add(language, &text, language.parse(&text)).unwrap();
    store.finish();
    let nodes = verify_file(&store, 0, language, &text, &tree).unwrap();
    assert!(nodes > 3 * DEPTH as u64, "{nodes}");

    let mut walked = 0u64;
    for_each_preorder(&mut store.cursor(0), |_| walked += 1);
    assert_eq!(walked, nodes);

    // The innermost `1`: as deep as it gets.
    let one = text.find('1').unwrap();
    let want = tree
        .root_node()
        .descendant_for_byte_range(one, one)
        .unwrap();
    let mut cursor = cursor_at(&store, 0, one as u32);
    assert_eq!(cursor.node(), NodeInfo::of(want, cursor.node().field));
    let mut depth = 0;
    while cursor.goto_parent() {
        depth += 1;
    }
    assert!(depth > DEPTH, "{depth}");
    // An offset in the closing parentheses, half way out.
    let close = one + 1 + DEPTH / 2;
    let want = tree
        .root_node()
        .descendant_for_byte_range(close, close)
        .unwrap();
    let node = cursor_at(&store, 0, close as u32).node();
    assert_eq!(node, NodeInfo::of(want, node.field));
    drop(store);
    drop(tree);
}

#[test]
fn deep_python() {
    check(Language::Python);
}

#[test]
fn deep_rust() {
    check(Language::Rust);
}

#[test]
fn deep_typescript() {
    check(Language::TypeScript);
}

#[test]
fn deep_tsx() {
    check(Language::Tsx);
}
