//! Versions: every kept version of an edited file comes back exactly, restored in any order and any number
//! of times (Baker's rerooting reverses the patches each time); a long history drops without recursion; a
//! version of another file is refused.

use backend_arena::Arena;
use cst_measure::verify::verify_file;
use cst_measure::{Backend, CstStore, Language};

/// The `step`th text of the file edited at the start, middle or end in turn.
fn text(step: usize) -> String {
    let mut lines: Vec<String> = (0..20).map(|i| format!("x{i} = {i}\n")).collect();
    for s in 0..step {
        let at = [0, 10, lines.len()][s % 3];
        lines.insert(at.min(lines.len()), format!("y{s} = f({s})\n"));
    }
    lines.concat()
}

fn replace(store: &mut <Arena as Backend>::Store, file: usize, text: &str) {
    store
        .replace(file, Language::Python, text, Language::Python.parse(text))
        .unwrap();
}

fn check(store: &<Arena as Backend>::Store, file: usize, text: &str) {
    assert_eq!(store.text(file), text);
    verify_file(
        store,
        file,
        Language::Python,
        text,
        &Language::Python.parse(text),
    )
    .unwrap();
}

#[test]
fn kept_versions_restore_in_any_order() {
    let mut store = Arena::new_store();
    for step in 0..3 {
        let t = text(step);
        store
            .add(Language::Python, &t, Language::Python.parse(&t))
            .unwrap();
    }
    store.finish();
    // File 1 edited 12 times, every version kept (the first one still in the arena when taken).
    let mut versions = vec![(store.version(1), text(1))];
    for step in 2..14 {
        replace(&mut store, 1, &text(step));
        versions.push((store.version(1), text(step)));
    }
    // Back and forth: each restore walks a different chain.
    for &i in &[0, 12, 5, 5, 1, 11, 0, 7, 12] {
        store.restore(1, &versions[i].0);
        check(&store, 1, &versions[i].1);
    }
    // Editing from a restored version, then going back to any other.
    store.restore(1, &versions[3].0);
    replace(&mut store, 1, &text(20));
    check(&store, 1, &text(20));
    store.restore(1, &versions[9].0);
    check(&store, 1, &versions[9].1);
    // The other files never moved.
    check(&store, 0, &text(0));
    check(&store, 2, &text(2));
}

#[test]
fn a_long_history_drops_without_recursion() {
    let mut store = Arena::new_store();
    store
        .add(Language::Python, &text(0), Language::Python.parse(&text(0)))
        .unwrap();
    store.finish();
    // Only the oldest version is kept: it holds the whole chain of patches after it.
    let oldest = store.version(0);
    for step in 1..3000 {
        let kept = store.version(0);
        replace(&mut store, 0, &text(step % 40));
        drop(kept);
    }
    store.restore(0, &oldest);
    check(&store, 0, &text(0));
    drop(store);
    // 3000 chained cells dropped on a test thread's 2 MiB stack.
    drop(oldest);
}

#[test]
#[should_panic(expected = "not of this file")]
fn a_version_of_another_file_is_refused() {
    let mut store = Arena::new_store();
    for step in 0..2 {
        let t = text(step);
        store
            .add(Language::Python, &t, Language::Python.parse(&t))
            .unwrap();
    }
    store.finish();
    let _of_file_0 = store.version(0);
    let of_file_1 = store.version(1);
    replace(&mut store, 1, &text(5));
    store.restore(0, &of_file_1);
}
