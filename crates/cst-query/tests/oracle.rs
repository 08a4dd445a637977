//! The matcher against tree-sitter's `QueryCursor` on the same trees: `matches` as a multiset of
//! (pattern, captures with nodes by preorder index), `captures` as a sequence.

use cst_query::{ops, Query, QueryCursor, QueryTree, TsTree};
use std::collections::HashMap;

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

/// What one query's comparison covered: matches compared, files whose captures we refused.
#[derive(Default)]
struct Covered {
    matches: usize,
    refused_captures: usize,
}

/// Runs `source` (for the language named) on every file of that language with the library's comparison
/// ([`cst_query::ops::compare`], the one the compare run uses); returns the first mismatch.
fn compare(files: &[File], language_name: &str, source: &str) -> Result<Covered, String> {
    let mut covered = Covered::default();
    let mut compiled: Option<(Query, tree_sitter::Query)> = None;
    let mut cursor = QueryCursor::new();
    for file in files.iter().filter(|f| f.language_name == language_name) {
        let (query, theirs_query) = compiled.get_or_insert_with(|| {
            (
                Query::new(&file.language, source).expect("compiles"),
                tree_sitter::Query::new(&file.language, source).expect("tree-sitter compiles"),
            )
        });
        let tree = TsTree::new(&file.tree, file.text.as_bytes());
        let theirs = ops::theirs(theirs_query, &file.tree, file.text.as_bytes());
        let ours = ops::ours(&mut cursor, query, &tree);
        ops::compare(&theirs, &ours, |n| {
            format!("n{n} {:?} {}", tree.byte_range(n), tree.node(n).kind())
        })
        .map_err(|m| {
            format!(
                "{source:?} on {}: pattern {}: {}",
                file.path, m.pattern, m.what
            )
        })?;
        if ours.captures.is_none() {
            covered.refused_captures += 1;
        }
        covered.matches += theirs.matches.len();
    }
    Ok(covered)
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

/// Every file the grammar crates ship for the languages of the built-in corpus ([`ops::shipped`]), and
/// TypeScript's locals, which no shipped list combines.
fn shipped() -> Vec<(String, &'static str, String)> {
    let mut all: Vec<(String, &'static str, String)> = ops::shipped()
        .into_iter()
        .filter(|q| q.language != cst_measure::Language::Tsx)
        .map(|q| {
            let name = q.language.name();
            (format!("{name} {}", q.name), name, q.source)
        })
        .collect();
    all.push((
        "typescript locals".into(),
        "typescript",
        tree_sitter_typescript::LOCALS_QUERY.into(),
    ));
    all
}

/// Every shipped query file, whole, on every file of its language: matches as `QueryCursor`'s, and
/// captures too wherever they are not refused.
#[test]
fn shipped_query_files_answer_as_query_cursor_does() {
    let files = corpus();
    let mut failures = Vec::new();
    let mut summary = Vec::new();
    for (name, language, source) in shipped() {
        match compare(&files, language, &source) {
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
