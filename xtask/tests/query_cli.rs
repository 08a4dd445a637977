//! `cargo xtask query` end to end, as a user runs it: a query of the user's over a small directory on every
//! backend, every answer the same as tree-sitter's `QueryCursor`; a query with a syntax error, one for the
//! wrong language, an unknown language, a missing corpus and a missing query file each refused with a
//! non-zero exit and an error that says where.

use std::path::Path;

mod common;

use common::{text, xtask};

/// A small corpus: every 200th built-in file, in a directory of its own.
fn corpus(dir: &Path) {
    common::write_corpus(dir, 200);
}

fn query(dir: &Path, name: &str, source: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, source).unwrap();
    path.to_str().unwrap().to_string()
}

#[test]
fn a_users_query_runs_on_every_backend_and_agrees_with_query_cursor() {
    let dir = tempfile::tempdir().unwrap();
    let code = dir.path().join("code");
    corpus(&code);
    // Fields, a quantifier, an alternation, a supertype and a predicate, in Python.
    let scm = query(
        dir.path(),
        "defs.scm",
        "(function_definition name: (identifier) @name body: (block (_)+ @stmt)) @def\n\
         [(string) (integer)] @literal\n\
         (expression) @expr\n\
         ((identifier) @self (#eq? @self \"self\"))\n",
    );
    let run = xtask(&[
        "query",
        "--corpus",
        code.to_str().unwrap(),
        "--query",
        &scm,
        "--repetitions",
        "2",
        "--budget",
        "0.2",
    ]);
    let out = text(&run);
    assert!(run.status.success(), "{out}");
    for backend in [
        "tree-sitter",
        "rowan",
        "arena",
        "cstree",
        "syntree",
        "frozen",
    ] {
        assert!(
            out.lines().any(|l| l.starts_with(backend)
                && l.contains("python")
                && l.ends_with("same as QueryCursor")),
            "{backend}: {out}"
        );
    }
    // The query is Python's: the other languages of the corpus are named as not run, with the reason.
    assert!(
        out.contains("not run on") && out.contains("for rust: Query error at"),
        "{out}"
    );
    assert!(!out.contains("DIFFER"), "{out}");
}

#[test]
fn a_syntax_error_exits_non_zero_with_its_row_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let code = dir.path().join("code");
    corpus(&code);
    let scm = query(
        dir.path(),
        "bad.scm",
        "(function_definition\n  name: (identifier @name\n",
    );
    let run = xtask(&[
        "query",
        "--corpus",
        code.to_str().unwrap(),
        "--query",
        &scm,
        "--language",
        "python",
    ]);
    let out = text(&run);
    assert!(!run.status.success(), "{out}");
    // tree-sitter's own wording and position (rows and columns 1-based).
    assert!(
        out.contains("bad.scm for python: Query error at 2:21. Invalid syntax"),
        "{out}"
    );
    // A node kind the grammar does not have, in the language asked for.
    let scm = query(dir.path(), "kind.scm", "(no_such_kind) @x\n");
    let run = xtask(&[
        "query",
        "--corpus",
        code.to_str().unwrap(),
        "--query",
        &scm,
        "--language",
        "rust",
    ]);
    let out = text(&run);
    assert!(!run.status.success(), "{out}");
    assert!(
        out.contains("Query error at 1:2. Invalid node type"),
        "{out}"
    );
}

#[test]
fn missing_paths_and_unknown_names_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let scm = query(dir.path(), "q.scm", "(identifier) @id\n");
    let missing = dir.path().join("nowhere");
    let run = xtask(&[
        "query",
        "--corpus",
        missing.to_str().unwrap(),
        "--query",
        &scm,
    ]);
    assert!(!run.status.success());
    assert!(text(&run).contains("does not exist"), "{}", text(&run));
    let code = dir.path().join("code");
    corpus(&code);
    let run = xtask(&[
        "query",
        "--corpus",
        code.to_str().unwrap(),
        "--query",
        dir.path().join("none.scm").to_str().unwrap(),
    ]);
    assert!(!run.status.success());
    assert!(
        text(&run).contains("cannot read the query file"),
        "{}",
        text(&run)
    );
    let run = xtask(&[
        "query",
        "--corpus",
        code.to_str().unwrap(),
        "--query",
        &scm,
        "--language",
        "cobol",
    ]);
    assert!(!run.status.success());
    assert!(
        text(&run).contains("unknown language cobol"),
        "{}",
        text(&run)
    );
    let run = xtask(&[
        "query",
        "--corpus",
        code.to_str().unwrap(),
        "--query",
        &scm,
        "--backends",
        "nope",
    ]);
    assert!(!run.status.success());
    assert!(
        text(&run).contains("unknown backend nope"),
        "{}",
        text(&run)
    );
}

#[test]
fn supertype_patterns_agree_on_typescript() {
    // TypeScript's grammar (ABI 14) lists no supertypes through the binding: the adapter reads them from the
    // symbol metadata, as the query cursor does.
    let dir = tempfile::tempdir().unwrap();
    let code = dir.path().join("code");
    corpus(&code);
    let scm = query(
        dir.path(),
        "supertypes.scm",
        "(expression) @e\n(primary_expression/identifier) @p\n",
    );
    let run = xtask(&[
        "query",
        "--corpus",
        code.to_str().unwrap(),
        "--query",
        &scm,
        "--language",
        "typescript",
        "--backends",
        "arena,frozen",
        "--repetitions",
        "0",
    ]);
    let out = text(&run);
    assert!(run.status.success(), "{out}");
    assert_eq!(out.matches("same as QueryCursor").count(), 2, "{out}");
}
