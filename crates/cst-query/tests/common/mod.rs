//! What the tests of upstream's cases, random patterns and match limits share: the grammars, a
//! parse, and the comparison of our answers with tree-sitter's `QueryCursor` on the same tree
//! (`matches` as a multiset of (pattern, captures by preorder index), `captures` as a sequence, and
//! `did_exceed_match_limit`).

#![allow(dead_code)]

use cst_query::{Query, QueryCursor, QueryTree, TsTree};
use std::collections::HashMap;
use tree_sitter::StreamingIterator;

pub type Answer = (usize, Vec<(u32, usize)>);

pub fn language(name: &str) -> tree_sitter::Language {
    match name {
        "python" => tree_sitter_python::LANGUAGE.into(),
        "rust" => tree_sitter_rust::LANGUAGE.into(),
        "typescript" => tree_sitter_typescript::LANGUAGE_TYPESCRIPT.into(),
        "tsx" => tree_sitter_typescript::LANGUAGE_TSX.into(),
        other => panic!("no grammar {other}"),
    }
}

pub fn parse(language: &tree_sitter::Language, text: &str) -> tree_sitter::Tree {
    let mut parser = tree_sitter::Parser::new();
    parser.set_language(language).expect("grammar loads");
    parser.parse(text, None).expect("parses")
}

/// Both engines' answers on one tree.
#[derive(Debug, PartialEq, Eq)]
pub struct Answers {
    pub matches: Vec<Answer>,
    pub captures: Vec<Answer>,
    pub matches_exceeded: bool,
    pub captures_exceeded: bool,
}

/// tree-sitter's answers (matches sorted), nodes by our preorder index.
pub fn theirs(
    query: &tree_sitter::Query,
    tree: &tree_sitter::Tree,
    text: &[u8],
    ours: &TsTree,
    limit: Option<u32>,
) -> Answers {
    let index: HashMap<usize, usize> = (0..ours.node_count())
        .map(|i| (ours.node(i).id(), i))
        .collect();
    let mut cursor = tree_sitter::QueryCursor::new();
    if let Some(limit) = limit {
        cursor.set_match_limit(limit);
    }
    let mut matches = Vec::new();
    let mut it = cursor.matches(query, tree.root_node(), text);
    while let Some(m) = it.next() {
        let captures = m
            .captures()
            .iter()
            .map(|c| (c.index, index[&c.node.id()]))
            .collect();
        matches.push((m.pattern_index, captures));
    }
    drop(it);
    let matches_exceeded = cursor.did_exceed_match_limit();
    let mut captures = Vec::new();
    let mut it = cursor.captures(query, tree.root_node(), text);
    while let Some((m, i)) = it.next() {
        let c = m.captures()[*i];
        captures.push((m.pattern_index, vec![(c.index, index[&c.node.id()])]));
    }
    drop(it);
    let captures_exceeded = cursor.did_exceed_match_limit();
    matches.sort();
    Answers {
        matches,
        captures,
        matches_exceeded,
        captures_exceeded,
    }
}

/// Our answers (matches sorted).
pub fn ours(query: &Query, tree: &TsTree, limit: Option<u32>) -> Answers {
    let mut cursor = QueryCursor::new();
    if let Some(limit) = limit {
        cursor.set_match_limit(limit);
    }
    let mut matches: Vec<Answer> = cursor
        .matches(query, tree)
        .expect("supported")
        .into_iter()
        .map(|m| {
            let captures = m.captures.iter().map(|c| (c.index, c.node)).collect();
            (m.pattern_index, captures)
        })
        .collect();
    let matches_exceeded = cursor.did_exceed_match_limit();
    let captures = cursor
        .captures(query, tree)
        .expect("supported")
        .into_iter()
        .map(|(m, i)| {
            let c = m.captures[i];
            (m.pattern_index, vec![(c.index, c.node)])
        })
        .collect();
    let captures_exceeded = cursor.did_exceed_match_limit();
    matches.sort();
    Answers {
        matches,
        captures,
        matches_exceeded,
        captures_exceeded,
    }
}

/// Compiles `query` with both engines and compares their answers on `text`; `Ok` holds the (equal)
/// answers, so a case can be checked to match something, `Err` what differs.
pub fn compare(
    language_name: &str,
    query: &str,
    text: &str,
    limit: Option<u32>,
) -> Result<Answers, String> {
    let language = language(language_name);
    let tree = parse(&language, text);
    let theirs_query = tree_sitter::Query::new(&language, query)
        .map_err(|e| format!("tree-sitter refuses {query:?}: {e}"))?;
    let ours_query = Query::new(&language, query).map_err(|e| format!("{query:?}: {e}"))?;
    compare_compiled(&ours_query, &theirs_query, &tree, text, limit)
        .map_err(|e| format!("{language_name} {query:?} on {text:?}: {e}"))
}

pub fn compare_compiled(
    ours_query: &Query,
    theirs_query: &tree_sitter::Query,
    tree: &tree_sitter::Tree,
    text: &str,
    limit: Option<u32>,
) -> Result<Answers, String> {
    let ts_tree = TsTree::new(tree, text.as_bytes());
    let expected = theirs(theirs_query, tree, text.as_bytes(), &ts_tree, limit);
    let actual = ours(ours_query, &ts_tree, limit);
    if expected == actual {
        return Ok(expected);
    }
    let mut what = Vec::new();
    if expected.matches != actual.matches {
        what.push(format!(
            "matches differ: theirs {:?}, ours {:?}",
            head(&expected.matches),
            head(&actual.matches)
        ));
    }
    if expected.captures != actual.captures {
        what.push(format!(
            "captures differ: theirs {:?}, ours {:?}",
            head(&expected.captures),
            head(&actual.captures)
        ));
    }
    if (expected.matches_exceeded, expected.captures_exceeded)
        != (actual.matches_exceeded, actual.captures_exceeded)
    {
        what.push(format!(
            "did_exceed_match_limit differs: theirs {:?}, ours {:?}",
            (expected.matches_exceeded, expected.captures_exceeded),
            (actual.matches_exceeded, actual.captures_exceeded)
        ));
    }
    Err(what.join("; "))
}

fn head(answers: &[Answer]) -> String {
    let shown: Vec<_> = answers.iter().take(8).collect();
    format!("{} in all, first {shown:?}", answers.len())
}
