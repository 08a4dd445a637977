//! Round trips through both rowan backends: text byte for byte, tree-sitter's node sequence, node-at-offset
//! and texts, on small snippets (syntax errors, trivia around the root, CRLF, BOM), on 100,000-deep nesting
//! (converted, verified, walked and dropped on a normal test thread's stack) and through the harness.

use backend_rowan::{Rowan, RowanSharedCache};
use cst_measure::backend::cursor_at;
use cst_measure::corpus::{Corpus, CorpusFile};
use cst_measure::harness::{measure, MeasureOptions, NoProgress};
use cst_measure::reference::{for_each_preorder, ReferenceTree};
use cst_measure::verify::{verify_file, verify_lookups};
use cst_measure::{Backend, CstCursor, CstStore, Language, NodeInfo};

#[global_allocator]
static ALLOC: cst_measure::alloc::MeasuringAllocator =
    cst_measure::alloc::MeasuringAllocator::new();

const ERROR: u16 = u16::MAX;

/// Snippets per language: ordinary code, syntax errors, trivia around the root, empty, CRLF, BOM, non-ASCII.
fn snippets() -> Vec<(Language, &'static str)> {
    let mut all = Vec::new();
    let common = [
        "",
        " ",
        "\n\n",
        "\u{feff}",
        "   \n\t  \n",
        "\u{feff}x\n",
        "/* ü */",
        "é",
        ")",
    ];
    for language in Language::ALL {
        for text in common {
            all.push((language, text));
        }
    }
    let python = [
        "x = 1\n",
        "\n\n  \n# comment\nx = 1  \n\n\n",
        "def f(:\n",
        "def f(x):\n    return [x, (1, 2), {'a': b'c'}]\n\n\nclass A(B):\n    pass\n",
        "if x:\r\n    y = 1\r\nelse:\r\n    z = 'ü'\r\n",
        "\u{feff}import os\nprint(f\"{os.sep!r:>10}\")\n",
        "x = (1,\n",
        "for in range(3): pass\n",
        "lambda: (yield)\n@dec\ndef g(*a, **k) -> int: ...\n",
        "s = '''é\n\u{1F600}'''\n",
    ];
    let rust = [
        "fn main() { let x = 1; }\n",
        "fn f( {",
        "\n\n// leading\nfn f() {}\n\n// trailing\n\n",
        "struct S<'a, T: ?Sized> { a: &'a T }\r\nimpl<T> S<'_, T> where T: Copy {}\r\n",
        "\u{feff}fn main() {}\n",
        "fn f() { let = ; }",
        "macro_rules! m { ($x:expr) => { $x + 1 } }\nfn g() -> u8 { m!(1) }\n",
        "let x = 1",
        "/// doc é\n#[derive(Debug)] enum E { A = 1, B(u8), C { x: i32 } }\n",
    ];
    let typescript = [
        "let x = ;",
        "let x: number = 1;\n",
        "function f(a: string, b?: number): void { return; }\n",
        "\n\n/* c */ class A<T> extends B implements C { private x = 1; }\n\n",
        "const s = `a${b}c`;\r\nexport default s;\r\n",
        "\u{feff}interface I { (x: number): string; [k: string]: any }\n",
        "if (x { }",
        "type T = { a: 1 } | [string, ...number[]];\n",
    ];
    let tsx = [
        "const a = <div className=\"x\">{y}</div>;\n",
        "const b = <A.B x={1} {...p}>text é</A.B>;\n",
        "let x = <div>;",
        "function f<T,>(x: T) { return <>{x}</>; }\n",
        "let x = ;",
    ];
    all.extend(python.map(|t| (Language::Python, t)));
    all.extend(rust.map(|t| (Language::Rust, t)));
    all.extend(typescript.map(|t| (Language::TypeScript, t)));
    all.extend(tsx.map(|t| (Language::Tsx, t)));
    all
}

/// Builds one file in a fresh store of `B`, verifies it fully and returns its nodes.
fn check<B: Backend>(language: Language, text: &str) -> Vec<NodeInfo> {
    let mut store = B::new_store();
    store
        .add(language, text, language.parse(text))
        .unwrap_or_else(|e| panic!("{} {language:?} {text:?}: {e}", B::NAME));
    store.finish();
    let reference = language.parse(text);
    verify_file(&store, 0, language, text, &reference)
        .unwrap_or_else(|e| panic!("{} {language:?} {text:?}: {e}", B::NAME));
    assert_eq!(store.language(0), language);

    // Every node's text is its slice of the source; leaves borrow it.
    let mut nodes = Vec::new();
    for_each_preorder(&mut store.cursor(0), |c| {
        let node = c.node();
        assert_eq!(
            c.text(),
            &text[node.start as usize..node.end as usize],
            "{node:?} in {text:?}"
        );
        nodes.push(node);
    });

    // Node at every offset, by the rule tree-sitter's descent applies to visible nodes, and the same parent
    // chain.
    verify_lookups(
        &store,
        0,
        text,
        &ReferenceTree::of(&reference),
        0..=text.len() as u32,
    )
    .unwrap_or_else(|e| panic!("{} {language:?} {text:?}: {e}", B::NAME));

    // Moves that fail stay put.
    let mut cursor = store.cursor(0);
    let at_root = cursor.node();
    assert!(!cursor.goto_next_sibling() && !cursor.goto_parent());
    assert_eq!(cursor.node(), at_root);
    while cursor.goto_first_child() {}
    let leaf = cursor.node();
    assert!(!cursor.goto_first_child());
    assert_eq!(cursor.node(), leaf);
    nodes
}

#[test]
fn snippets_round_trip_in_both_backends() {
    let (mut errors, mut missing) = (0, 0);
    for (language, text) in snippets() {
        let nodes = check::<Rowan>(language, text);
        assert_eq!(check::<RowanSharedCache>(language, text), nodes);
        errors += nodes.iter().filter(|n| n.kind == ERROR).count();
        missing += nodes.iter().filter(|n| n.missing).count();
    }
    assert!(
        errors > 0 && missing > 0,
        "snippets must exercise ERROR ({errors}) and MISSING ({missing})"
    );
}

#[test]
fn error_snippets_have_error_or_missing_nodes() {
    for (language, text) in [
        (Language::Python, "def f(:\n"),
        (Language::Rust, "fn f( {"),
        (Language::TypeScript, "let x = ;"),
        (Language::Tsx, "let x = <div>;"),
    ] {
        let nodes = check::<Rowan>(language, text);
        assert!(
            nodes.iter().any(|n| n.kind == ERROR || n.missing),
            "{language:?} {text:?}"
        );
    }
}

#[test]
fn many_files_in_one_store() {
    for shared in [false, true] {
        let mut store = if shared {
            RowanSharedCache::new_store()
        } else {
            Rowan::new_store()
        };
        let files = snippets();
        for &(language, text) in &files {
            store.add(language, text, language.parse(text)).unwrap();
        }
        store.finish();
        assert_eq!(store.len(), files.len());
        for (index, &(language, text)) in files.iter().enumerate() {
            assert_eq!(store.language(index), language);
            verify_file(&store, index, language, text, &language.parse(text)).unwrap();
        }
    }
}

/// `x = ((...(1)...))` nested `depth` levels deep, in each language's syntax.
fn deep(language: Language, depth: usize) -> String {
    let nest = format!("{}1{}", "(".repeat(depth), ")".repeat(depth));
    match language {
        Language::Python => format!("x = {nest}\n"),
        Language::Rust => format!("fn f() {{ let x = {nest}; }}\n"),
        Language::TypeScript | Language::Tsx => format!("let x = {nest};\n"),
    }
}

/// Converts, verifies, walks, queries and drops a 100,000-deep file on this (2 MiB) test thread.
fn deep_file<B: Backend>(language: Language) {
    const DEPTH: usize = 100_000;
    let text = deep(language, DEPTH);
    let tree = language.parse(&text);
    let mut store = B::new_store();
    store.add(language, &text, tree).unwrap();
    // A few more files after it, so a shared cache keeps growing (and rehashing) with the deep file in it.
    let others: Vec<String> = (0..2000)
        .map(|i| format!("{}{i}{}", "(".repeat(3), ")".repeat(3)))
        .collect();
    for other in &others {
        let other = deep(language, 0).replace('1', other);
        store.add(language, &other, language.parse(&other)).unwrap();
    }
    store.finish();
    let reference = language.parse(&text);
    let nodes = verify_file(&store, 0, language, &text, &reference).unwrap();
    assert!(nodes > DEPTH as u64, "{nodes} nodes");
    drop(reference);

    // A preorder walk, counting depth.
    let mut walker = store.cursor(0);
    let (mut walked, mut depth, mut max_depth) = (0u64, 0usize, 0usize);
    'walk: loop {
        walked += 1;
        if walker.goto_first_child() {
            depth += 1;
            max_depth = max_depth.max(depth);
            continue;
        }
        loop {
            if walker.goto_next_sibling() {
                continue 'walk;
            }
            if !walker.goto_parent() {
                break 'walk;
            }
            depth -= 1;
        }
    }
    assert_eq!((walked, depth), (nodes, 0));
    assert!(max_depth > DEPTH, "{max_depth}");
    drop(walker);

    // The innermost `1`, its parent chain, and the root's text.
    let middle = text.find('1').unwrap() as u32;
    let mut cursor = cursor_at(&store, 0, middle);
    assert_eq!(cursor.node().start, middle);
    assert_eq!(cursor.text(), "1");
    let mut chain = 0;
    while cursor.goto_parent() {
        chain += 1;
    }
    assert!(chain > DEPTH, "{chain}");
    let root = cursor.node();
    assert!(root.start == 0 && cursor.text() == text[..root.end as usize]);
    drop(cursor);
    assert!(store.text(0) == text);
    drop(store);
}

#[test]
fn deep_python() {
    deep_file::<Rowan>(Language::Python);
    deep_file::<RowanSharedCache>(Language::Python);
}

#[test]
fn deep_rust() {
    deep_file::<Rowan>(Language::Rust);
    deep_file::<RowanSharedCache>(Language::Rust);
}

#[test]
fn deep_typescript() {
    deep_file::<Rowan>(Language::TypeScript);
    deep_file::<RowanSharedCache>(Language::TypeScript);
}

#[test]
fn deep_tsx() {
    deep_file::<Rowan>(Language::Tsx);
    deep_file::<RowanSharedCache>(Language::Tsx);
}

/// Files just shallow enough for rowan's own recursive drop (the store's threshold is 1,000 green levels).
#[test]
fn nesting_just_below_the_recursive_drop_threshold() {
    for language in Language::ALL {
        let text = deep(language, 985);
        check_file::<Rowan>(language, &text);
        check_file::<RowanSharedCache>(language, &text);
    }
}

fn check_file<B: Backend>(language: Language, text: &str) {
    let mut store = B::new_store();
    store.add(language, text, language.parse(text)).unwrap();
    verify_file(&store, 0, language, text, &language.parse(text)).unwrap();
}

fn small_corpus() -> Corpus {
    let mut files: Vec<CorpusFile> = snippets()
        .into_iter()
        .enumerate()
        .map(|(i, (language, text))| {
            let ext = language.extension();
            CorpusFile::in_memory(format!("snippet{i}.{ext}"), language, text.to_string())
        })
        .collect();
    // Deeper than the store's recursive-drop threshold, so the harness's release check covers `drop_deep`.
    files.push(CorpusFile::in_memory(
        "deep.py",
        Language::Python,
        deep(Language::Python, 1_500),
    ));
    Corpus {
        name: "snippets".into(),
        files,
        skipped: vec![],
    }
}

fn measure_corpus<B: Backend>(per_file: bool) {
    let corpus = small_corpus();
    // One repetition: the answers are checked here, not the timings.
    let options = MeasureOptions {
        per_file,
        repetitions: 1,
        ..MeasureOptions::default()
    };
    let m = measure::<B>(&corpus, &options, &mut NoProgress).unwrap();
    assert_eq!(m.failed_files, 0, "{:?}", m.failures);
    assert_eq!(m.files_verified, corpus.files.len() as u64);
    assert!(m.retained_bytes > 0 && m.nodes > 0);
    assert_eq!(m.shares_across_files, B::SHARES_ACROSS_FILES);
}

#[test]
fn harness_measures_rowan() {
    measure_corpus::<Rowan>(false);
    measure_corpus::<Rowan>(true);
}

#[test]
fn harness_measures_rowan_shared_cache() {
    measure_corpus::<RowanSharedCache>(false);
    measure_corpus::<RowanSharedCache>(true);
}
