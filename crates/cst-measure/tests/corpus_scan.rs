//! The corpus loader on awkward inputs: every file is measured or skipped with its reason, and an unusable
//! corpus path is a clear error.

use cst_measure::corpus::{count_lines, Corpus, CorpusError, DEFAULT_MAX_FILE_BYTES};
use cst_measure::fixtures::{write_bad_inputs, Expected};

#[test]
fn every_bad_input_is_measured_or_skipped_with_its_reason() {
    let dir = tempfile::tempdir().unwrap();
    let expected = write_bad_inputs(dir.path(), false).unwrap();
    let corpus = Corpus::scan(dir.path(), DEFAULT_MAX_FILE_BYTES).unwrap();
    for (path, outcome) in &expected {
        let measured = corpus.files.iter().any(|f| &f.path == path);
        let skipped = corpus.skipped.iter().find(|s| &s.path == path);
        match outcome {
            Expected::Measured => {
                assert!(measured && skipped.is_none(), "{path} should be measured")
            }
            Expected::Skipped(reason) => {
                assert!(!measured, "{path} should not be measured");
                let skipped = skipped.unwrap_or_else(|| {
                    panic!("{path} should be listed as skipped: {:?}", corpus.skipped)
                });
                assert!(
                    skipped.reason.contains(reason),
                    "{path}: reason {:?} should mention {reason:?}",
                    skipped.reason
                );
            }
        }
    }
    // Nothing is measured or skipped that the fixture did not ask for, so nothing is lost silently either.
    assert_eq!(
        corpus.files.len() + corpus.skipped.len(),
        expected.len(),
        "{:?}",
        corpus.skipped
    );
    for file in &corpus.files {
        assert_eq!(file.text().unwrap().len() as u64, file.bytes);
    }
}

#[test]
fn files_over_the_size_limit_are_skipped() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("big.py"), "x = 1\n".repeat(100)).unwrap();
    let corpus = Corpus::scan(dir.path(), 100).unwrap();
    assert!(corpus.files.is_empty());
    assert!(
        corpus.skipped[0].reason.contains("too large"),
        "{:?}",
        corpus.skipped
    );
}

#[test]
fn a_missing_corpus_path_is_an_error_naming_it() {
    let error = Corpus::scan("/no/such/corpus".as_ref(), DEFAULT_MAX_FILE_BYTES).unwrap_err();
    assert!(matches!(error, CorpusError::Missing(_)));
    assert_eq!(
        error.to_string(),
        "corpus path /no/such/corpus does not exist"
    );
}

#[test]
fn a_single_file_is_a_corpus_too() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("one.rs");
    std::fs::write(&path, "fn main() {}\n").unwrap();
    let corpus = Corpus::scan(&path, DEFAULT_MAX_FILE_BYTES).unwrap();
    assert_eq!(corpus.files.len(), 1);
}

#[test]
fn lines_are_counted_like_an_editor() {
    assert_eq!(count_lines(""), 0);
    assert_eq!(count_lines("a"), 1);
    assert_eq!(count_lines("a\n"), 1);
    assert_eq!(count_lines("a\nb"), 2);
    assert_eq!(count_lines("a\r\nb\r\n"), 2);
}

#[test]
fn spread_slices_cover_every_language() {
    let corpus = Corpus::in_memory(
        "built-in",
        builtin_corpus::generate()
            .into_iter()
            .map(|f| (f.path, f.text)),
    );
    let slice = corpus.spread(30);
    assert_eq!(slice.len(), 30);
    for language in ["python", "rust", "typescript"] {
        assert!(
            slice.iter().any(|f| f.language.name() == language),
            "{language} missing from the slice"
        );
    }
}
