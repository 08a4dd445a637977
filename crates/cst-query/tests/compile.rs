//! Compiling queries: every shipped query file describes itself as `tree_sitter::Query` does, and broken
//! queries fail with tree-sitter's error kind and position.

use cst_query::{Query, QueryErrorKind, QueryPredicateArg};

fn python() -> tree_sitter::Language {
    tree_sitter_python::LANGUAGE.into()
}
fn rust() -> tree_sitter::Language {
    tree_sitter_rust::LANGUAGE.into()
}
fn typescript() -> tree_sitter::Language {
    tree_sitter_typescript::LANGUAGE_TYPESCRIPT.into()
}
fn tsx() -> tree_sitter::Language {
    tree_sitter_typescript::LANGUAGE_TSX.into()
}

/// Every query file the grammar crates ship, with a name and the grammar it is for.
fn shipped() -> Vec<(&'static str, tree_sitter::Language, &'static str)> {
    let mut out = vec![
        (
            "python highlights",
            python(),
            tree_sitter_python::HIGHLIGHTS_QUERY,
        ),
        ("python tags", python(), tree_sitter_python::TAGS_QUERY),
        (
            "rust highlights",
            rust(),
            tree_sitter_rust::HIGHLIGHTS_QUERY,
        ),
        ("rust tags", rust(), tree_sitter_rust::TAGS_QUERY),
        (
            "rust injections",
            rust(),
            tree_sitter_rust::INJECTIONS_QUERY,
        ),
    ];
    // TypeScript and TSX number their kinds differently: each compiles the queries on its own.
    for language in [typescript(), tsx()] {
        out.push((
            "typescript highlights",
            language.clone(),
            tree_sitter_typescript::HIGHLIGHTS_QUERY,
        ));
        out.push((
            "typescript locals",
            language.clone(),
            tree_sitter_typescript::LOCALS_QUERY,
        ));
        out.push((
            "typescript tags",
            language,
            tree_sitter_typescript::TAGS_QUERY,
        ));
    }
    out
}

fn arg_text(names: &[&str], arg: &QueryPredicateArg) -> String {
    match arg {
        QueryPredicateArg::Capture(c) => format!("@{}", names[*c as usize]),
        QueryPredicateArg::String(s) => format!("{s:?}"),
    }
}

fn ts_arg_text(names: &[&str], arg: &tree_sitter::QueryPredicateArg) -> String {
    match arg {
        tree_sitter::QueryPredicateArg::Capture(c) => format!("@{}", names[*c as usize]),
        tree_sitter::QueryPredicateArg::String(s) => format!("{s:?}"),
    }
}

/// Asserts that our compiled query describes itself as tree-sitter's does.
fn assert_same_description(name: &str, language: &tree_sitter::Language, source: &str) {
    let theirs = tree_sitter::Query::new(language, source)
        .unwrap_or_else(|e| panic!("{name}: tree-sitter refuses it: {e}"));
    let ours = Query::new(language, source).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(ours.pattern_count(), theirs.pattern_count(), "{name}");
    assert_eq!(ours.capture_names(), theirs.capture_names(), "{name}");
    let names = ours.capture_names();
    for i in 0..theirs.pattern_count() {
        assert_eq!(
            ours.start_byte_for_pattern(i),
            theirs.start_byte_for_pattern(i),
            "{name}: pattern {i}"
        );
        assert_eq!(
            ours.end_byte_for_pattern(i),
            theirs.end_byte_for_pattern(i),
            "{name}: pattern {i}"
        );
        let general: Vec<(String, Vec<String>)> = ours
            .general_predicates(i)
            .iter()
            .map(|p| {
                let args = p.args.iter().map(|a| arg_text(&names, a)).collect();
                (p.operator.to_string(), args)
            })
            .collect();
        let their_general: Vec<(String, Vec<String>)> = theirs
            .general_predicates(i)
            .iter()
            .map(|p| {
                let args = p.args.iter().map(|a| ts_arg_text(&names, a)).collect();
                (p.operator.to_string(), args)
            })
            .collect();
        assert_eq!(general, their_general, "{name}: pattern {i}");
        let settings: Vec<_> = ours
            .property_settings(i)
            .iter()
            .map(|p| (p.key.clone(), p.value.clone(), p.capture_id))
            .collect();
        let their_settings: Vec<_> = theirs
            .property_settings(i)
            .iter()
            .map(|p| (p.key.clone(), p.value.clone(), p.capture_id))
            .collect();
        assert_eq!(settings, their_settings, "{name}: pattern {i}");
        let predicates: Vec<_> = ours
            .property_predicates(i)
            .iter()
            .map(|(p, is)| (p.key.clone(), p.value.clone(), p.capture_id, *is))
            .collect();
        let their_predicates: Vec<_> = theirs
            .property_predicates(i)
            .iter()
            .map(|(p, is)| (p.key.clone(), p.value.clone(), p.capture_id, *is))
            .collect();
        assert_eq!(predicates, their_predicates, "{name}: pattern {i}");
    }
}

#[test]
fn shipped_query_files_describe_themselves_as_tree_sitter_does() {
    for (name, language, source) in shipped() {
        assert_same_description(name, &language, source);
    }
}

#[test]
fn small_queries_describe_themselves_as_tree_sitter_does() {
    let queries = [
        "(identifier) @a (identifier) @b @a",
        "((identifier) @x (#set! x.y \"z\") (#is? @x local) (#is-not? local) (#foo! @x bar \"baz\"))",
        "; comment\n  (call function: (identifier) @f) ; trailing\n(string) @s",
        "[(identifier) (string)] @x",
        "((comment)* @doc . (function_definition name: (identifier) @name))",
        "(function_definition !return_type) @f",
        "(MISSING) @m (MISSING identifier) @n (MISSING \")\") @p",
        "(ERROR) @e (_) @any _ @all",
        "(expression) @e (primary_expression/identifier) @i",
        "(call (_)? @a (_)+ @b (_)* @c)",
        "(argument_list \"(\" @paren . (identifier) . )",
        "((string) @s (#foo! @s \"\\n\\t\\\\\\\"x\\q\\0\"))",
        "((identifier) @x (#eq? @x \"a\") (#not-eq? @x b) (#any-eq? @x c) (#any-not-eq? @x @x))",
        "((identifier) @x (#match? @x \"^a\") (#not-match? @x b) (#any-of? @x a b c) (#not-any-of? @x d))",
    ];
    for source in queries {
        assert_same_description(source, &python(), source);
    }
}

/// Broken queries, each for Python, with what tree-sitter says of them.
const BROKEN: &[&str] = &[
    "(identifier",
    "(identifier))",
    ")",
    "]",
    "[]",
    "(nonexistent_kind)",
    "(call (nonexistent_kind))",
    "\"nonexistent token\"",
    "(call nonexistent_field: (identifier))",
    "(call function: (nonexistent_kind))",
    "(call !nonexistent_field)",
    "(call !)",
    "(call function (identifier))",
    "(identifier) @",
    "((identifier) @x (#eq? @y \"a\"))",
    "((identifier) @x (#eq? @x))",
    "((identifier) @x (#eq? \"a\" @x))",
    "((identifier) @x (#match? @x @x))",
    "((identifier) @x (#match? @x \"(\"))",
    "((identifier) @x (#any-of? \"a\"))",
    "((identifier) @x (#any-of? @x @x))",
    "((identifier) @x (#set!))",
    "((identifier) @x (#set! @x @x))",
    "((identifier) @x (#set! a b c))",
    "((identifier) @x (#eq @x \"a\"))",
    "((identifier) @x (# @x))",
    "\"unterminated",
    "\"broken\nstring\"",
    "(identifier/identifier)",
    "(expression/nonexistent_kind)",
    "(expression/function_definition)",
    "((identifier) .)",
    "(call .)",
    "(MISSING nonexistent_kind)",
    "(MISSING \"nonexistent\")",
    "(MISSING @x)",
    "(call\n  function: (identifier)\n  arguments: (argument_list\n    (nonexistent)))",
    "(identifier) @x\n\n((string) @s (#eq? @s))",
    "(call (identifier) @x",
    "[(identifier) (string)",
    "(_ (identifier) @x",
    "(identifier) ?? @x )",
    "@x",
    "!field",
    "(call function: )",
    "(string \"\\n\\t\\\\\\\"x\") @esc",
    "(\"(\" @paren . (identifier) . )",
];

#[test]
fn broken_queries_fail_with_tree_sitters_kind_and_position() {
    let language = python();
    let mut wrong = Vec::new();
    for source in BROKEN {
        let theirs = match tree_sitter::Query::new(&language, source) {
            Ok(_) => panic!("tree-sitter accepts {source:?}"),
            Err(e) => e,
        };
        let ours = match Query::new(&language, source) {
            Ok(_) => {
                wrong.push(format!("we accept {source:?}; tree-sitter says {theirs:?}"));
                continue;
            }
            Err(e) => e,
        };
        let their_kind = match theirs.kind {
            tree_sitter::QueryErrorKind::Syntax => QueryErrorKind::Syntax,
            tree_sitter::QueryErrorKind::NodeType => QueryErrorKind::NodeType,
            tree_sitter::QueryErrorKind::Field => QueryErrorKind::Field,
            tree_sitter::QueryErrorKind::Capture => QueryErrorKind::Capture,
            tree_sitter::QueryErrorKind::Predicate => QueryErrorKind::Predicate,
            tree_sitter::QueryErrorKind::Structure => QueryErrorKind::Structure,
            tree_sitter::QueryErrorKind::Language => panic!("language error"),
        };
        if (ours.kind, ours.offset, ours.row, ours.column)
            != (their_kind, theirs.offset, theirs.row, theirs.column)
        {
            wrong.push(format!("{source:?}: ours {ours}, theirs {theirs:?}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
