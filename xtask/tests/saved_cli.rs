//! `cargo xtask save` and `cargo xtask open [--verify DIR]` end to end, as a user runs them, for the arena and
//! frozen: a small corpus saved, opened and verified; a damaged file, a missing one and a file of another
//! backend refused with an error naming the file and what is wrong; a source changed since the save reported
//! as stale, not verified.

use std::path::Path;

mod common;

use common::{text, xtask};

/// A small corpus: every 100th built-in file, in a directory of its own.
fn corpus(dir: &Path) {
    common::write_corpus(dir, 100);
}

fn save(corpus: &Path, backend: &str, out: &Path) {
    let run = xtask(&[
        "save",
        "--corpus",
        corpus.to_str().unwrap(),
        "--backend",
        backend,
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(run.status.success(), "{}", text(&run));
    assert!(
        text(&run).contains(&format!("as {backend} to")),
        "{}",
        text(&run)
    );
}

#[test]
fn saved_stores_open_and_verify_and_damage_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("corpus");
    corpus(&source);
    for backend in ["arena", "frozen"] {
        let file = dir.path().join(format!("{backend}.cst"));
        save(&source, backend, &file);
        let f = file.to_str().unwrap();
        // What it holds.
        let run = xtask(&["open", f]);
        assert!(run.status.success(), "{}", text(&run));
        let out = text(&run);
        assert!(out.contains(&format!("a saved {backend} store")), "{out}");
        assert!(out.contains("30 files"), "{out}");
        // Verified against its corpus.
        let run = xtask(&["open", f, "--verify", source.to_str().unwrap()]);
        assert!(run.status.success(), "{}", text(&run));
        assert!(
            text(&run).contains("30 files verified against fresh parses"),
            "{}",
            text(&run)
        );
        // Damaged: one byte in the middle of the file.
        let damaged = dir.path().join(format!("{backend}-damaged.cst"));
        let mut bytes = std::fs::read(&file).unwrap();
        let middle = bytes.len() / 2;
        bytes[middle] ^= 0x55;
        std::fs::write(&damaged, &bytes).unwrap();
        let run = xtask(&["open", damaged.to_str().unwrap()]);
        assert!(!run.status.success(), "a damaged file opened");
        let out = text(&run);
        assert!(
            out.contains(&format!("{backend}-damaged.cst: is damaged")),
            "{out}"
        );
        assert!(!out.contains("panicked"), "{out}");
        // Truncated.
        std::fs::write(&damaged, &bytes[..middle]).unwrap();
        let run = xtask(&["open", damaged.to_str().unwrap()]);
        assert!(!run.status.success());
        assert!(text(&run).contains("is truncated"), "{}", text(&run));
        // Zero bytes.
        std::fs::write(&damaged, b"").unwrap();
        let run = xtask(&["open", damaged.to_str().unwrap()]);
        assert!(!run.status.success());
        assert!(text(&run).contains("is empty (0 bytes)"), "{}", text(&run));
    }
}

#[test]
fn a_missing_file_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nothing-here.cst");
    let run = xtask(&["open", missing.to_str().unwrap()]);
    assert!(!run.status.success());
    assert!(
        text(&run).contains("nothing-here.cst: cannot be read"),
        "{}",
        text(&run)
    );
    let corpus = dir.path().join("no-corpus");
    let run = xtask(&[
        "save",
        "--corpus",
        corpus.to_str().unwrap(),
        "--backend",
        "frozen",
        "--out",
        dir.path().join("x.cst").to_str().unwrap(),
    ]);
    assert!(!run.status.success());
    assert!(text(&run).contains("no-corpus"), "{}", text(&run));
    assert!(!dir.path().join("x.cst").exists());
}

#[test]
fn a_source_changed_since_the_save_is_reported_as_stale() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("corpus");
    corpus(&source);
    let changed = walk_first(&source);
    for backend in ["arena", "frozen"] {
        let file = dir.path().join(format!("{backend}.cst"));
        save(&source, backend, &file);
        let original = std::fs::read_to_string(&changed).unwrap();
        std::fs::write(&changed, format!("{original}\n")).unwrap();
        let run = xtask(&[
            "open",
            file.to_str().unwrap(),
            "--verify",
            source.to_str().unwrap(),
        ]);
        std::fs::write(&changed, &original).unwrap();
        assert!(!run.status.success(), "a stale file passed");
        let out = text(&run);
        assert!(
            out.contains("changed since the save (not verified)"),
            "{out}"
        );
        assert!(out.contains("29 files verified"), "{out}");
        let name = changed.file_name().unwrap().to_str().unwrap();
        assert!(out.contains(name), "{out}");
    }
}

/// The first source file under `dir`, by name.
fn walk_first(dir: &Path) -> std::path::PathBuf {
    let mut files: Vec<_> = walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| e.into_path())
        .collect();
    files.sort();
    files.remove(0)
}
