//! The engine's speed against tree-sitter's `QueryCursor`: for every shipped query file, `matches`
//! and `captures` over every file of its language in the built-in corpus, ours over [`TsTree`] (built
//! once per file, not timed) and tree-sitter's over its own tree, in alternating turns (ours first on
//! even turns, theirs first on odd ones) in one process; prints the median turn of each and the ratio.
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
}
