//! The matcher against tree-sitter's `QueryCursor` on the same trees: `matches` as a multiset of
//! (pattern, captures with nodes by preorder index), `captures` as a sequence.

use cst_query::{Query, QueryCursor, QueryTree, TsTree};
use std::collections::HashMap;
use tree_sitter::StreamingIterator;

type Answer = (usize, Vec<(u32, usize)>);

struct File {
    language: tree_sitter::Language,
    language_name: &'static str,
    path: String,
    text: String,
    tree: tree_sitter::Tree,
}

fn language_for(path: &str) -> Option<(&'static str, tree_sitter::Language)> {
    let extension = path.rsplit('.').next()?;
    Some(match extension {
        "py" => ("python", tree_sitter_python::LANGUAGE.into()),
        "rs" => ("rust", tree_sitter_rust::LANGUAGE.into()),
        "ts" => (
            "typescript",
            tree_sitter_typescript::LANGUAGE_TYPESCRIPT.into(),
        ),
        "tsx" => ("tsx", tree_sitter_typescript::LANGUAGE_TSX.into()),
        _ => return None,
    })
}

fn corpus() -> Vec<File> {
    let mut parsers: HashMap<&'static str, tree_sitter::Parser> = HashMap::new();
    builtin_corpus::generate()
        .into_iter()
        .filter_map(|file| {
            let (name, language) = language_for(&file.path)?;
            let parser = parsers.entry(name).or_insert_with(|| {
                let mut parser = tree_sitter::Parser::new();
                parser.set_language(&language).expect("grammar loads");
                parser
            });
            let tree = parser.parse(&file.text, None).expect("parses");
            Some(File {
                language,
                language_name: name,
                path: file.path,
                text: file.text,
                tree,
            })
        })
        .collect()
}

/// tree-sitter's matches and captures, nodes by preorder index.
fn oracle(query: &tree_sitter::Query, file: &File, ours: &TsTree) -> (Vec<Answer>, Vec<Answer>) {
    let index: HashMap<usize, usize> = (0..ours.node_count())
        .map(|i| (ours.node(i).id(), i))
        .collect();
    let mut cursor = tree_sitter::QueryCursor::new();
    let mut matches = Vec::new();
    let mut it = cursor.matches(query, file.tree.root_node(), file.text.as_bytes());
    while let Some(m) = it.next() {
        let captures = m
            .captures()
            .iter()
            .map(|c| (c.index, index[&c.node.id()]))
            .collect();
        matches.push((m.pattern_index, captures));
    }
    let mut captures = Vec::new();
    let mut it = cursor.captures(query, file.tree.root_node(), file.text.as_bytes());
    while let Some((m, i)) = it.next() {
        let c = m.captures()[*i];
        captures.push((m.pattern_index, vec![(c.index, index[&c.node.id()])]));
    }
    (matches, captures)
}

/// Our matches, and our captures unless refused.
fn ours(query: &Query, tree: &TsTree) -> (Vec<Answer>, Option<Vec<Answer>>) {
    let mut cursor = QueryCursor::new();
    let matches = cursor
        .matches(query, tree)
        .expect("supported")
        .into_iter()
        .map(|m| {
            let captures = m.captures.iter().map(|c| (c.index, c.node)).collect();
            (m.pattern_index, captures)
        })
        .collect();
    let captures = cursor.captures(query, tree).ok().map(|captures| {
        captures
            .into_iter()
            .map(|(m, i)| {
                let c = m.captures[i];
                (m.pattern_index, vec![(c.index, c.node)])
            })
            .collect()
    });
    (matches, captures)
}

/// What one query's comparison covered: matches compared, files whose captures we refused.
#[derive(Default)]
struct Covered {
    matches: usize,
    refused_captures: usize,
}

/// Runs `source` (for the language named) on every file of that language; returns the first mismatch.
fn compare(files: &[File], language_name: &str, source: &str) -> Result<Covered, String> {
    let mut compared = 0;
    let mut refused_captures = 0;
    let mut compiled: Option<(Query, tree_sitter::Query)> = None;
    for file in files.iter().filter(|f| f.language_name == language_name) {
        let (query, theirs_query) = compiled.get_or_insert_with(|| {
            (
                Query::new(&file.language, source).expect("compiles"),
                tree_sitter::Query::new(&file.language, source).expect("tree-sitter compiles"),
            )
        });
        let tree = TsTree::new(&file.tree, file.text.as_bytes());
        let (mut their_matches, their_captures) = oracle(theirs_query, file, &tree);
        let (mut our_matches, our_captures) = ours(query, &tree);
        their_matches.sort();
        our_matches.sort();
        if their_matches != our_matches {
            let missing: Vec<_> = their_matches
                .iter()
                .filter(|m| !our_matches.contains(m))
                .take(3)
                .collect();
            let extra: Vec<_> = our_matches
                .iter()
                .filter(|m| !their_matches.contains(m))
                .take(3)
                .collect();
            return Err(format!(
                "{source:?} on {}: matches differ ({} theirs, {} ours); missing {missing:?}, extra {extra:?}",
                file.path,
                their_matches.len(),
                our_matches.len()
            ));
        }
        let Some(our_captures) = our_captures else {
            refused_captures += 1;
            compared += their_matches.len();
            continue;
        };
        if their_captures != our_captures {
            let at = their_captures
                .iter()
                .zip(&our_captures)
                .position(|(a, b)| a != b);
            let window = |v: &[Answer]| {
                let from = at.unwrap_or(0).saturating_sub(2);
                v.iter()
                    .skip(from)
                    .take(6)
                    .map(|(p, c)| {
                        let r = tree.byte_range(c[0].1);
                        format!(
                            "p{p} c{} n{} {:?} {}",
                            c[0].0,
                            c[0].1,
                            r,
                            tree.node(c[0].1).kind()
                        )
                    })
                    .collect::<Vec<_>>()
            };
            return Err(format!(
                "{source:?} on {}: captures differ ({} theirs, {} ours), first at {at:?}: theirs {:?} ours {:?}",
                file.path,
                their_captures.len(),
                our_captures.len(),
                window(&their_captures),
                window(&our_captures)
            ));
        }
        compared += their_matches.len();
    }
    Ok(Covered {
        matches: compared,
        refused_captures,
    })
}

const PATTERNS: &[(&str, &str)] = &[
    ("python", "(identifier) @id"),
    ("python", "(call function: (identifier) @f arguments: (argument_list) @args) @call"),
    ("python", "(function_definition name: (identifier) @name parameters: (parameters (identifier) @p)) @def"),
    ("python", "(call (identifier) @a (argument_list (_) @arg))"),
    ("python", "(argument_list (_) @a (_) @b)"),
    ("python", "(_ (identifier) @x)"),
    ("python", "(_ (identifier) @x (identifier) @y)"),
    ("python", "(_ (identifier) (identifier) @y) @parent"),
    ("python", "(class_definition body: (block (function_definition) @m))"),
    ("python", "\"def\" @kw"),
    ("python", "_ @any"),
    ("python", "(_) @named"),
    ("python", "(function_definition !return_type) @f"),
    ("python", "(call (argument_list))"),
    ("python", "(call (argument_list)) @c"),
    ("python", "(block (expression_statement) (expression_statement) @second)"),
    ("python", "((identifier) @x (#eq? @x \"self\"))"),
    ("python", "((identifier) @c (#match? @c \"^[A-Z]\"))"),
    ("python", "((identifier) @c (#not-match? @c \"^[a-z]\"))"),
    ("python", "((identifier) @c (#any-of? @c \"self\" \"cls\" \"x\"))"),
    ("python", "(assignment left: (identifier) @l right: (identifier) @r (#eq? @l @r))"),
    ("python", "(MISSING) @m"),
    ("python", "(ERROR) @e"),
    ("python", "(identifier) @a @b @c @d"),
    ("python", "(comment) @c (string) @s (identifier) @i"),
    ("rust", "(function_item name: (identifier) @n)"),
    ("rust", "(impl_item !trait) @i"),
    ("rust", "(call_expression function: (identifier) @f)"),
    ("rust", "(let_declaration pattern: (identifier) @p value: (_) @v)"),
    ("rust", "(block (_) @a (_) @b)"),
    ("rust", "(_ (identifier) @x)"),
    ("rust", "(line_comment) @c"),
    ("rust", "(struct_item name: (type_identifier) @n body: (field_declaration_list (field_declaration name: (field_identifier) @f)))"),
    ("typescript", "(function_declaration name: (identifier) @n)"),
    ("typescript", "(call_expression function: (member_expression object: (identifier) @o property: (property_identifier) @p))"),
    ("typescript", "(arrow_function (formal_parameters (required_parameter) @p))"),
    ("typescript", "(_ (identifier) @x (identifier) @y)"),
    ("typescript", "(comment) @c"),
    ("python", "[(identifier) (string)] @x"),
    ("python", "[(identifier) (_)] @x"),
    ("python", "[\"def\" \"return\" \"(\" \")\"] @kw"),
    ("python", "(call function: [(identifier) @f (attribute attribute: (identifier) @f)])"),
    ("python", "(call [(identifier) (attribute)] @callee)"),
    ("python", "(argument_list [(identifier) @i (_) @any])"),
    ("python", "(_ [(identifier) (string)] @x)"),
    ("rust", "[(line_comment) (block_comment)] @comment"),
    ("rust", "(call_expression function: [(identifier) @f (scoped_identifier name: (identifier) @f) (field_expression field: (field_identifier) @m)])"),
];

/// Every file the grammar crates ship, for the languages of the built-in corpus.
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

/// Every shipped query file, whole, on every file of its language: matches as `QueryCursor`'s, and
/// captures too wherever they are not refused.
#[test]
fn shipped_query_files_answer_as_query_cursor_does() {
    let files = corpus();
    let mut failures = Vec::new();
    let mut summary = Vec::new();
    for (name, language, source) in shipped() {
        match compare(&files, language, source) {
            Ok(covered) => summary.push(format!(
                "{name}: {} matches equal; captures refused on {} files",
                covered.matches, covered.refused_captures
            )),
            Err(e) => failures.push(format!("{name}: {e}")),
        }
    }
    eprintln!("{}", summary.join("\n"));
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn hand_written_patterns_answer_as_query_cursor_does() {
    let files = corpus();
    let mut failures = Vec::new();
    for (language, source) in PATTERNS {
        if let Err(e) = compare(&files, language, source) {
            failures.push(e);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
