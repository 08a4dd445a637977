//! Bad queries: ours fail as tree-sitter's `Query::new` does, with the same kind, byte offset, row
//! and column, and the same text printed (`Query error at ROW:COLUMN.`, 1-based as the binding
//! prints it; the fields themselves are 0-based, as the binding's are), on a table of syntax errors,
//! unknown node kinds and fields, malformed predicates and impossible patterns in every grammar here.

mod common;

use cst_query::{Query, QueryErrorKind};

/// (grammar, query, the kind tree-sitter gives it).
const BAD: &[(&str, &str, QueryErrorKind)] = &[
    // Syntax.
    ("python", "(identifier", QueryErrorKind::Syntax),
    (
        "python",
        "((identifier) @x\n  (#eq? @x \"a\")",
        QueryErrorKind::Syntax,
    ),
    (
        "rust",
        "(function_item name: (identifier) @n))",
        QueryErrorKind::Syntax,
    ),
    (
        "typescript",
        "[(identifier) (string)",
        QueryErrorKind::Syntax,
    ),
    (
        "typescript",
        "(call_expression\n  function: )",
        QueryErrorKind::Syntax,
    ),
    ("python", "(call ... )", QueryErrorKind::Syntax),
    ("python", "\"unterminated", QueryErrorKind::Syntax),
    ("python", "(identifier) @", QueryErrorKind::Syntax),
    ("rust", "(block . . (_))", QueryErrorKind::Syntax),
    // Anchors at a group's edge (upstream's test_query_errors_on_anchor_at_group_edge).
    ("python", "((identifier) .)", QueryErrorKind::Syntax),
    ("typescript", "(. (identifier))", QueryErrorKind::Syntax),
    // Unknown node kinds.
    ("python", "(nonexistent_kind)", QueryErrorKind::NodeType),
    (
        "rust",
        "(function_item\n  body: (block\n    (no_such_thing) @x))",
        QueryErrorKind::NodeType,
    ),
    (
        "typescript",
        "\"no such token\" @t",
        QueryErrorKind::NodeType,
    ),
    (
        "tsx",
        "(jsx_element (not_a_jsx_kind))",
        QueryErrorKind::NodeType,
    ),
    (
        "python",
        "(MISSING nonexistent_kind)",
        QueryErrorKind::NodeType,
    ),
    (
        "typescript",
        "(expression/nonexistent_kind)",
        QueryErrorKind::NodeType,
    ),
    // Unknown fields.
    (
        "python",
        "(call nonexistent_field: (identifier))",
        QueryErrorKind::Field,
    ),
    (
        "rust",
        "(impl_item !nonexistent_field)",
        QueryErrorKind::Field,
    ),
    (
        "typescript",
        "(function_declaration\n    nam: (identifier))",
        QueryErrorKind::Field,
    ),
    // Captures named in predicates that the pattern does not have.
    (
        "python",
        "((identifier) @x (#eq? @y \"a\"))",
        QueryErrorKind::Capture,
    ),
    // Malformed predicates: wrong argument counts, wrong argument kinds, a bad regex.
    (
        "python",
        "((identifier) @x (#eq? @x))",
        QueryErrorKind::Predicate,
    ),
    (
        "python",
        "((identifier) @x (#eq? \"a\" @x))",
        QueryErrorKind::Predicate,
    ),
    (
        "rust",
        "((identifier) @x (#match? @x))",
        QueryErrorKind::Predicate,
    ),
    (
        "rust",
        "((identifier) @x (#match? @x @x))",
        QueryErrorKind::Predicate,
    ),
    (
        "typescript",
        "((identifier) @x (#match? @x \"(unclosed\"))",
        QueryErrorKind::Predicate,
    ),
    (
        "typescript",
        "((identifier) @x (#match? @x \"[z-a]\"))",
        QueryErrorKind::Predicate,
    ),
    (
        "python",
        "((identifier) @x (#any-of? \"a\" @x))",
        QueryErrorKind::Predicate,
    ),
    (
        "python",
        "((identifier) @x (#any-of? @x @x))",
        QueryErrorKind::Predicate,
    ),
    (
        "python",
        "((identifier) @x (#set!))",
        QueryErrorKind::Predicate,
    ),
    (
        "python",
        "((identifier) @x (#set! a b c))",
        QueryErrorKind::Predicate,
    ),
    (
        "python",
        "(identifier) @ok\n\n((string) @s (#not-eq? @s))",
        QueryErrorKind::Predicate,
    ),
    // Impossible patterns: structures the grammar never produces (upstream's
    // test_query_errors_on_impossible_patterns), and supertypes without that subtype.
    (
        "typescript",
        "(binary_expression left: (expression (identifier)) left: (expression (identifier)))",
        QueryErrorKind::Structure,
    ),
    (
        "typescript",
        "(function_declaration name: (identifier) body: (identifier))",
        QueryErrorKind::Structure,
    ),
    (
        "typescript",
        "(identifier (identifier))",
        QueryErrorKind::Structure,
    ),
    (
        "typescript",
        "(true (identifier))",
        QueryErrorKind::Structure,
    ),
    (
        "rust",
        "(function_item name: (integer_literal))",
        QueryErrorKind::Structure,
    ),
    (
        "rust",
        "(line_comment (identifier))",
        QueryErrorKind::Structure,
    ),
    (
        "python",
        "(call function: (string) arguments: (block))",
        QueryErrorKind::Structure,
    ),
    (
        "python",
        "(identifier/identifier)",
        QueryErrorKind::Structure,
    ),
    (
        "python",
        "(expression/function_definition)",
        QueryErrorKind::Structure,
    ),
    (
        "python",
        "(if_statement\n  condition: (identifier)\n  consequence: (block (identifier (integer))))",
        QueryErrorKind::Structure,
    ),
];

fn kind_of(e: &tree_sitter::QueryError) -> QueryErrorKind {
    match e.kind {
        tree_sitter::QueryErrorKind::Syntax => QueryErrorKind::Syntax,
        tree_sitter::QueryErrorKind::NodeType => QueryErrorKind::NodeType,
        tree_sitter::QueryErrorKind::Field => QueryErrorKind::Field,
        tree_sitter::QueryErrorKind::Capture => QueryErrorKind::Capture,
        tree_sitter::QueryErrorKind::Predicate => QueryErrorKind::Predicate,
        tree_sitter::QueryErrorKind::Structure => QueryErrorKind::Structure,
        tree_sitter::QueryErrorKind::Language => panic!("a language error"),
    }
}

/// tree-sitter's binding finds bad predicates after the query compiled; these checks are the
/// binding's own (it panics on none of them, and neither may we).
#[test]
fn bad_queries_fail_as_tree_sitter_does() {
    let mut wrong = Vec::new();
    for (language_name, source, kind) in BAD {
        let language = common::language(language_name);
        let theirs = match tree_sitter::Query::new(&language, source) {
            Ok(_) => {
                wrong.push(format!("tree-sitter accepts {source:?}"));
                continue;
            }
            Err(e) => e,
        };
        if kind_of(&theirs) != *kind {
            wrong.push(format!("tree-sitter gives {source:?} {:?}", theirs.kind));
        }
        let ours = match Query::new(&language, source) {
            Ok(_) => {
                wrong.push(format!("we accept {source:?}; tree-sitter says {theirs}"));
                continue;
            }
            Err(e) => e,
        };
        if (ours.kind, ours.offset, ours.row, ours.column)
            != (*kind, theirs.offset, theirs.row, theirs.column)
        {
            wrong.push(format!(
                "{language_name} {source:?}: ours {:?} at byte {} ({}, {}), theirs {:?} at byte {} ({}, {})",
                ours.kind, ours.offset, ours.row, ours.column, theirs.kind, theirs.offset, theirs.row, theirs.column
            ));
        } else if ours.to_string() != theirs.to_string() {
            wrong.push(format!(
                "{language_name} {source:?}: printed\n{ours}\nwhere tree-sitter prints\n{theirs}"
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// The position is printed 1-based, row first: `Query error at 3:5.` for a fault on the third line's
/// fifth column (row 2, column 4 in the fields).
#[test]
fn the_position_is_printed_as_row_colon_column_from_one() {
    let source = "(call)\n(identifier)\n    (nonexistent_kind)";
    let e = Query::new(&common::language("python"), source)
        .err()
        .expect("an error");
    assert_eq!((e.row, e.column, e.offset), (2, 5, 25));
    assert!(
        e.to_string()
            .starts_with("Query error at 3:6. Invalid node type "),
        "{e}"
    );
}
