//! The tests every instantiation of the layer runs, for both of its rows: [`suite!`](crate::suite!) makes them
//! `#[test]`s in the instantiation's test crate (with the measuring allocator the harness needs).
//!
//! Round trips (text byte for byte, tree-sitter's node sequence, node-at-offset and texts) on small snippets
//! (syntax errors, trivia around the root, CRLF, BOM), on 100,000-deep nesting (converted, verified, walked and
//! dropped on a normal test thread's stack) and through the harness; edit sessions (every version after every
//! edit, and every kept version restored, verified, on snippets with syntax errors, wide files and deep files);
//! and the wide-node index of every version of an edited file.

use crate::{GreenStore, GreenVersion, Library};
use cst_measure::backend::cursor_at;
use cst_measure::corpus::{Corpus, CorpusFile};
use cst_measure::edits::{EditKind, TextEdit};
use cst_measure::fixtures::{deep_nesting, snippets as edit_snippets, wide_file};
use cst_measure::harness::{measure, MeasureOptions, NoProgress};
use cst_measure::reference::{for_each_preorder, ReferenceTree};
use cst_measure::session::{measure_edits, EditOptions};
use cst_measure::verify::{verify_file, verify_lookups};
use cst_measure::{Backend, CstCursor, CstStore, FileEdit, Language, NodeInfo};
use std::sync::Arc;

pub use cst_measure::alloc::MeasuringAllocator;

/// Makes the layer's tests `#[test]`s for the two rows `$a` and `$b` of one library (backends whose store is
/// a [`GreenStore`](crate::GreenStore)), with the measuring allocator as the global allocator. Call it once,
/// at the top of an integration test file.
#[macro_export]
macro_rules! suite {
    ($a:ty, $b:ty) => {
        #[global_allocator]
        static ALLOC: $crate::suite::MeasuringAllocator = $crate::suite::MeasuringAllocator::new();

        #[test]
        fn snippets_round_trip_in_both_rows() {
            $crate::suite::snippets_round_trip::<$a, $b>();
        }

        #[test]
        fn error_snippets_have_error_or_missing_nodes() {
            $crate::suite::error_snippets::<$a>();
        }

        #[test]
        fn many_files_in_one_store() {
            $crate::suite::many_files::<$a>();
            $crate::suite::many_files::<$b>();
        }

        #[test]
        fn deep_files() {
            $crate::suite::deep_files::<$a>();
            $crate::suite::deep_files::<$b>();
        }

        #[test]
        fn nesting_just_below_the_recursive_drop_threshold() {
            $crate::suite::just_below_the_drop_threshold::<$a>();
            $crate::suite::just_below_the_drop_threshold::<$b>();
        }

        #[test]
        fn harness_measures_both_rows() {
            $crate::suite::harness_measures::<$a>();
            $crate::suite::harness_measures::<$b>();
        }

        #[test]
        fn snippets_edited_and_restored() {
            $crate::suite::snippets_edited::<$a>();
            $crate::suite::snippets_edited::<$b>();
        }

        #[test]
        fn wide_and_deep_files_edited_and_restored() {
            $crate::suite::wide_and_deep_files_edited::<$a>();
            $crate::suite::wide_and_deep_files_edited::<$b>();
        }

        #[test]
        fn wide_indexes_follow_every_version() {
            $crate::suite::wide_indexes_follow_every_version::<$a, _>();
            $crate::suite::wide_indexes_follow_every_version::<$b, _>();
        }

        #[test]
        fn a_file_entry_is_40_bytes() {
            $crate::suite::a_file_entry_is_40_bytes::<$a, _>();
        }
    };
}

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

/// Every snippet round-trips in both rows, with the same nodes, and the snippets meet ERROR and MISSING.
pub fn snippets_round_trip<A: Backend, B: Backend>() {
    let (mut errors, mut missing) = (0, 0);
    for (language, text) in snippets() {
        let nodes = check::<A>(language, text);
        assert_eq!(check::<B>(language, text), nodes);
        errors += nodes.iter().filter(|n| n.kind == ERROR).count();
        missing += nodes.iter().filter(|n| n.missing).count();
    }
    assert!(
        errors > 0 && missing > 0,
        "snippets must exercise ERROR ({errors}) and MISSING ({missing})"
    );
}

/// The snippets with syntax errors keep their ERROR or MISSING nodes.
pub fn error_snippets<B: Backend>() {
    for (language, text) in [
        (Language::Python, "def f(:\n"),
        (Language::Rust, "fn f( {"),
        (Language::TypeScript, "let x = ;"),
        (Language::Tsx, "let x = <div>;"),
    ] {
        let nodes = check::<B>(language, text);
        assert!(
            nodes.iter().any(|n| n.kind == ERROR || n.missing),
            "{language:?} {text:?}"
        );
    }
}

/// Every snippet in one store, each verified after all are added.
pub fn many_files<B: Backend>() {
    let mut store = B::new_store();
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

/// `x = ((...(1)...))` nested `depth` levels deep, in each language's syntax.
fn deep(language: Language, depth: usize) -> String {
    let nest = format!("{}1{}", "(".repeat(depth), ")".repeat(depth));
    match language {
        Language::Python => format!("x = {nest}\n"),
        Language::Rust => format!("fn f() {{ let x = {nest}; }}\n"),
        Language::TypeScript | Language::Tsx => format!("let x = {nest};\n"),
    }
}

/// Converts, verifies, walks, queries and drops a 100,000-deep file of every language on this (2 MiB) test
/// thread.
pub fn deep_files<B: Backend>() {
    for language in Language::ALL {
        deep_file::<B>(language);
    }
}

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

/// Files just shallow enough for the library's own recursive drop (the store's threshold is 1,000 green
/// levels).
pub fn just_below_the_drop_threshold<B: Backend>() {
    for language in Language::ALL {
        let text = deep(language, 985);
        let mut store = B::new_store();
        store.add(language, &text, language.parse(&text)).unwrap();
        verify_file(&store, 0, language, &text, &language.parse(&text)).unwrap();
    }
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

/// The harness measures and verifies the snippets, whole-corpus and per file.
pub fn harness_measures<B: Backend>() {
    for per_file in [false, true] {
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
}

fn session<B: Backend>(files: Vec<CorpusFile>, options: &EditOptions) {
    let corpus = Corpus {
        name: "edits".into(),
        files,
        skipped: Vec::new(),
    };
    let m = measure_edits::<B>(&corpus, options, &mut NoProgress).unwrap();
    assert_eq!(m.failed, 0, "{}: {:#?}", B::NAME, m.failures);
    assert!(m.edits > 0 && m.versions_verified >= m.edits, "{}", B::NAME);
}

/// Edit sessions on the edit fixtures' snippets (syntax errors included), every version and every kept
/// version restored verified, with lookups everywhere.
pub fn snippets_edited<B: Backend>() {
    let files = edit_snippets()
        .into_iter()
        .map(|s| CorpusFile::in_memory(s.name, s.language, s.text))
        .collect();
    let options = EditOptions {
        edits: 40,
        lookup_checks: usize::MAX,
        ..EditOptions::default()
    };
    session::<B>(files, &options);
}

/// Edit sessions on a wide file and a deep file of every language.
pub fn wide_and_deep_files_edited<B: Backend>() {
    let files = Language::ALL
        .iter()
        .flat_map(|&l| {
            [
                CorpusFile::in_memory(format!("wide.{}", l.extension()), l, wide_file(l, 1_000)),
                CorpusFile::in_memory(format!("deep.{}", l.extension()), l, deep_nesting(l, 2_000)),
            ]
        })
        .collect();
    let options = EditOptions {
        edits: 20,
        versions: 5,
        lookup_checks: 500,
        ..EditOptions::default()
    };
    session::<B>(files, &options);
}

/// The text before the wide list, the list of `n` items, and what follows it.
fn wide_source(n: usize) -> String {
    let items: Vec<String> = (0..n).map(|i| i.to_string()).collect();
    format!(
        "def a():\n    return 1\n\n\ndef b():\n    x = [{}]\n    return x\n\n\ndef c():\n    pass\n",
        items.join(", ")
    )
}

/// Verifies file 0 of `store` against `text` fully, with lookups at every offset, and checks that its wide
/// index is the one a fresh build of the text has.
fn check_wide<B, L>(store: &GreenStore<L>, text: &str)
where
    B: Backend<Store = GreenStore<L>>,
    L: Library,
{
    let tree = Language::Python.parse(text);
    verify_file(store, 0, Language::Python, text, &tree).unwrap();
    verify_lookups(
        store,
        0,
        text,
        &ReferenceTree::of(&tree),
        0..=text.len() as u32,
    )
    .unwrap();
    let mut rebuilt = B::new_store();
    rebuilt.add(Language::Python, text, tree).unwrap();
    let (ours, theirs) = (store.wide_nodes(0), rebuilt.wide_nodes(0));
    assert_eq!(ours, theirs, "{text:?}");
    assert!(!ours.is_empty(), "the list is wide");
}

/// Edits a file with a node of more than 64 children before, inside and after it, keeping every version:
/// each version's lookups and wide index are right, the list's index moves with it where it is reused (its
/// samples shared, not recomputed), and every kept version is still right once restored.
pub fn wide_indexes_follow_every_version<B, L>()
where
    B: Backend<Store = GreenStore<L>>,
    L: Library,
{
    let mut text = wide_source(200);
    let mut parser = Language::Python.parser();
    let mut tree = parser.parse(&text, None).unwrap();
    let mut store = B::new_store();
    store.add(Language::Python, &text, tree.clone()).unwrap();
    store.finish();
    check_wide::<B, L>(&store, &text);
    let list = text.find('[').unwrap();
    let edits = [
        // Before the list: it is reused, one byte further on.
        (6..6, "x", true),
        // Inside it: rebuilt.
        (list + 5..list + 6, "77", false),
        // After it: reused where it is.
        (text.len() - 5..text.len() - 1, "return 2", true),
        // A line before it goes: reused, further back.
        (0..23, "", true),
        // An item more.
        (list..list + 1, "[5, ", false),
    ];
    let mut kept = vec![(store.version(0), text.clone())];
    for (range, insert, reused) in edits {
        let edit = TextEdit {
            range,
            text: insert.into(),
            kind: EditKind::Keystroke,
        };
        let input = edit.input_edit(&text);
        let new_text = edit.apply(&text);
        let mut old_tree = tree.clone();
        old_tree.edit(&input);
        let new_tree = parser.parse(&new_text, Some(&old_tree)).unwrap();
        let changed: Vec<_> = old_tree.changed_ranges(&new_tree).collect();
        let before = store.wide_nodes(0)[0].samples.clone();
        store
            .update(
                0,
                FileEdit {
                    language: Language::Python,
                    old_text: &text,
                    text: &new_text,
                    input,
                    old_tree: &old_tree,
                    tree: new_tree.clone(),
                    changed: &changed,
                },
            )
            .unwrap();
        check_wide::<B, L>(&store, &new_text);
        let after = &store.wide_nodes(0)[0].samples;
        assert_eq!(Arc::ptr_eq(&before, after), reused, "{edit:?}");
        text = new_text;
        tree = new_tree;
        kept.push((store.version(0), text.clone()));
    }
    for (version, text) in &kept {
        store.restore(0, version);
        check_wide::<B, L>(&store, text);
    }
}

/// The per-file bytes of the crate doc: a version (a file's entry) is 40 bytes, a wide node's entry 32.
pub fn a_file_entry_is_40_bytes<B, L>()
where
    B: Backend<Store = GreenStore<L>>,
    L: Library,
{
    assert_eq!(std::mem::size_of::<GreenVersion<L>>(), 40);
    assert_eq!(std::mem::size_of::<crate::wide::WideNode>(), 32);
}
