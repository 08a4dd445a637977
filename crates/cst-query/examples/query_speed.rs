//! The engine's speed against tree-sitter's `QueryCursor`: for every shipped query file, `matches`
//! and `captures` over every file of its language in the built-in corpus, ours over [`TsTree`] (built
//! once per file, not timed) and tree-sitter's over its own tree, in alternating turns (ours first on
//! even turns, theirs first on odd ones) in one process; prints the median turn of each and the ratio.
//!
//! Then the same for patterns that pile up states over one wide node (a Python list of 50,000 or
//! 10,000 elements) at a match limit of 64, as `tests/wide.rs` checks them.
//!
//! `cargo run --release -p cst-query --example query_speed [TURNS]` (default 5 turns).

use cst_query::{Query, QueryCursor, TsTree};
use std::time::{Duration, Instant};
use tree_sitter::StreamingIterator;

struct File {
    language: &'static str,
    text: String,
    tree: tree_sitter::Tree,
}

fn grammar(name: &str) -> tree_sitter::Language {
    match name {
        "python" => tree_sitter_python::LANGUAGE.into(),
        "rust" => tree_sitter_rust::LANGUAGE.into(),
        "typescript" => tree_sitter_typescript::LANGUAGE_TYPESCRIPT.into(),
        other => panic!("no grammar {other}"),
    }
}

fn shipped() -> Vec<(&'static str, &'static str, &'static str)> {
    vec![
        (
            "python highlights",
            "python",
            tree_sitter_python::HIGHLIGHTS_QUERY,
        ),
        ("python tags", "python", tree_sitter_python::TAGS_QUERY),
        (
            "rust highlights",
            "rust",
            tree_sitter_rust::HIGHLIGHTS_QUERY,
        ),
        ("rust tags", "rust", tree_sitter_rust::TAGS_QUERY),
        (
            "rust injections",
            "rust",
            tree_sitter_rust::INJECTIONS_QUERY,
        ),
        (
            "typescript highlights",
            "typescript",
            tree_sitter_typescript::HIGHLIGHTS_QUERY,
        ),
        (
            "typescript locals",
            "typescript",
            tree_sitter_typescript::LOCALS_QUERY,
        ),
        (
            "typescript tags",
            "typescript",
            tree_sitter_typescript::TAGS_QUERY,
        ),
    ]
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let turns: usize = std::env::args()
        .nth(1)
        .map(|a| a.parse().expect("TURNS is a number"))
        .unwrap_or(5);
    let mut parsers = std::collections::HashMap::new();
    let files: Vec<File> = builtin_corpus::generate()
        .into_iter()
        .filter_map(|f| {
            let language = match f.path.rsplit('.').next()? {
                "py" => "python",
                "rs" => "rust",
                "ts" => "typescript",
                _ => return None,
            };
            let parser = parsers.entry(language).or_insert_with(|| {
                let mut p = tree_sitter::Parser::new();
                p.set_language(&grammar(language)).expect("grammar loads");
                p
            });
            let tree = parser.parse(&f.text, None).expect("parses");
            Some(File {
                language,
                text: f.text,
                tree,
            })
        })
        .collect();
    println!(
        "{:<24} {:>7} {:>9} | {:>10} {:>10} {:>6} | {:>10} {:>10} {:>6}",
        "query", "files", "nodes", "matches", "QC", "ratio", "captures", "QC", "ratio"
    );
    for (name, language, source) in shipped() {
        let grammar = grammar(language);
        let ours_query = Query::new(&grammar, source).expect("compiles");
        let theirs_query = tree_sitter::Query::new(&grammar, source).expect("compiles");
        let mine: Vec<&File> = files.iter().filter(|f| f.language == language).collect();
        let trees: Vec<TsTree> = mine
            .iter()
            .map(|f| TsTree::new(&f.tree, f.text.as_bytes()))
            .collect();
        let nodes: usize = trees.iter().map(cst_query::QueryTree::node_count).sum();
        let ours_matches = || {
            let start = Instant::now();
            let mut n = 0;
            for tree in &trees {
                n += QueryCursor::new()
                    .matches(&ours_query, tree)
                    .expect("supported")
                    .len();
            }
            (start.elapsed(), n)
        };
        let ours_captures = || {
            let start = Instant::now();
            let mut n = 0;
            for tree in &trees {
                n += QueryCursor::new()
                    .captures(&ours_query, tree)
                    .expect("supported")
                    .len();
            }
            (start.elapsed(), n)
        };
        let theirs_matches = || {
            let start = Instant::now();
            let mut n = 0;
            let mut cursor = tree_sitter::QueryCursor::new();
            for f in &mine {
                let mut it = cursor.matches(&theirs_query, f.tree.root_node(), f.text.as_bytes());
                while let Some(m) = it.next() {
                    n += std::hint::black_box(m.captures()).len().min(1);
                }
            }
            (start.elapsed(), n)
        };
        let theirs_captures = || {
            let start = Instant::now();
            let mut n = 0;
            let mut cursor = tree_sitter::QueryCursor::new();
            for f in &mine {
                let mut it = cursor.captures(&theirs_query, f.tree.root_node(), f.text.as_bytes());
                while let Some((m, i)) = it.next() {
                    std::hint::black_box(m.captures()[*i]);
                    n += 1;
                }
            }
            (start.elapsed(), n)
        };
        let (mut om, mut tm, mut oc, mut tc) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for turn in 0..turns {
            let pairs = if turn % 2 == 0 {
                let a = ours_matches();
                let b = theirs_matches();
                let c = ours_captures();
                let d = theirs_captures();
                (a, b, c, d)
            } else {
                let b = theirs_matches();
                let a = ours_matches();
                let d = theirs_captures();
                let c = ours_captures();
                (a, b, c, d)
            };
            assert_eq!(pairs.0 .1, pairs.1 .1, "{name}: match counts differ");
            assert_eq!(pairs.2 .1, pairs.3 .1, "{name}: capture counts differ");
            om.push(pairs.0 .0);
            tm.push(pairs.1 .0);
            oc.push(pairs.2 .0);
            tc.push(pairs.3 .0);
        }
        let (om, tm, oc, tc) = (median(om), median(tm), median(oc), median(tc));
        println!(
            "{:<24} {:>7} {:>9} | {:>8.2}ms {:>8.2}ms {:>5.2}x | {:>8.2}ms {:>8.2}ms {:>5.2}x",
            name,
            mine.len(),
            nodes,
            om.as_secs_f64() * 1e3,
            tm.as_secs_f64() * 1e3,
            om.as_secs_f64() / tm.as_secs_f64(),
            oc.as_secs_f64() * 1e3,
            tc.as_secs_f64() * 1e3,
            oc.as_secs_f64() / tc.as_secs_f64(),
        );
    }
    println!();
    println!(
        "{:<80} {:>9} | {:>10} {:>10} {:>6}",
        "wide node, limit 64: captures", "elements", "ours", "QC", "ratio"
    );
    let python = grammar("python");
    let mut parser = tree_sitter::Parser::new();
    parser.set_language(&python).expect("grammar loads");
    for (pattern, n) in [
        ("(list (_) @a . (_)* @b)", 50_000),
        ("(list [(identifier) (integer)]* @x)", 50_000),
        ("(list (identifier) @a (integer)* @b)", 10_000),
        ("(list (_) @a (_) @b)", 10_000),
        (
            "(list [(identifier) (integer)] @a [(identifier) (integer)]* @b (integer) @c)",
            10_000,
        ),
    ] {
        let mut text = String::from("x = [");
        for i in 0..n {
            text.push_str(&if i % 2 == 0 {
                format!("a{i}, ")
            } else {
                format!("{i}, ")
            });
        }
        text.push_str("]\n");
        let tree = parser.parse(&text, None).expect("parses");
        let ours_tree = TsTree::new(&tree, text.as_bytes());
        let ours_query = Query::new(&python, pattern).expect("compiles");
        let theirs_query = tree_sitter::Query::new(&python, pattern).expect("compiles");
        let (mut ours, mut theirs) = (Vec::new(), Vec::new());
        for turn in 0..turns {
            let run_ours = || {
                let start = Instant::now();
                let mut cursor = QueryCursor::new();
                cursor.set_match_limit(64);
                let n = cursor
                    .captures(&ours_query, &ours_tree)
                    .expect("supported")
                    .len();
                (start.elapsed(), n)
            };
            let run_theirs = || {
                let start = Instant::now();
                let mut cursor = tree_sitter::QueryCursor::new();
                cursor.set_match_limit(64);
                let mut it = cursor.captures(&theirs_query, tree.root_node(), text.as_bytes());
                let mut n = 0;
                while it.next().is_some() {
                    n += 1;
                }
                (start.elapsed(), n)
            };
            let (a, b) = if turn % 2 == 0 {
                let a = run_ours();
                (a, run_theirs())
            } else {
                let b = run_theirs();
                (run_ours(), b)
            };
            assert_eq!(a.1, b.1, "{pattern}: capture counts differ");
            ours.push(a.0);
            theirs.push(b.0);
        }
        let (o, t) = (median(ours), median(theirs));
        println!(
            "{:<80} {:>9} | {:>8.2}ms {:>8.2}ms {:>5.2}x",
            pattern,
            n,
            o.as_secs_f64() * 1e3,
            t.as_secs_f64() * 1e3,
            o.as_secs_f64() / t.as_secs_f64()
        );
    }
}
