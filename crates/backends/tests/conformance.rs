//! The conformance suite: every registered backend, automatically, on the same inputs. Each must reproduce
//! every file byte for byte and what tree-sitter's tree gives back (kinds, fields, ranges, MISSING flags,
//! per-node text, shape move by move) on syntax errors, empty files, 100,000-deep nesting, 100,000-wide nodes
//! and multi-megabyte lines; find the node at an offset as tree-sitter's rule does (at every offset of the
//! small inputs); free exactly what it retained; and answer every operation exactly as every other backend
//! does. A property test does the same on random token sequences.

use cst_measure::corpus::{Corpus, CorpusFile};
use cst_measure::fixtures::{
    deep_nesting, long_line, random_tokens, snippets, wide_file, DEEP_NESTING, WIDE_SIBLINGS,
};
use cst_measure::harness::{BackendMeasurement, MeasureOptions, NoProgress};
use cst_measure::session::EditOptions;
use cst_measure::Language;
use proptest::prelude::*;

#[global_allocator]
static ALLOCATOR: cst_measure::alloc::MeasuringAllocator =
    cst_measure::alloc::MeasuringAllocator::new();

fn corpus(files: Vec<CorpusFile>) -> Corpus {
    Corpus {
        name: "conformance".into(),
        files,
        skipped: Vec::new(),
    }
}

/// Measures every registered backend on `corpus` and checks each one reproduced every file, with lookups
/// checked at every offset.
fn measure_all(corpus: &Corpus, repetitions: usize) -> Vec<BackendMeasurement> {
    measure_all_with(
        corpus,
        &MeasureOptions {
            scaling_steps: vec![],
            repetitions,
            lookup_checks: usize::MAX,
            ..MeasureOptions::default()
        },
    )
}

fn measure_all_with(corpus: &Corpus, options: &MeasureOptions) -> Vec<BackendMeasurement> {
    // tree-sitter's trees are recorded once for every backend, as the compare run's parent does.
    let references = tempfile::NamedTempFile::new().unwrap();
    cst_measure::references::References::record(corpus, references.path(), &mut NoProgress)
        .unwrap();
    let options = &MeasureOptions {
        references: Some(references.path().to_path_buf()),
        ..options.clone()
    };
    backends::ALL
        .iter()
        .map(|entry| {
            let m = (entry.measure)(corpus, options, &mut NoProgress)
                .unwrap_or_else(|e| panic!("{}: {e:#}", entry.name));
            assert_eq!(m.failed_files, 0, "{}: {:#?}", entry.name, m.failures);
            assert_eq!(
                m.files_verified,
                corpus.files.len() as u64,
                "{}",
                entry.name
            );
            if let Some(edits) = &m.edits {
                assert_eq!(edits.failed, 0, "{}: {:#?}", entry.name, edits.failures);
                assert!(edits.versions_verified >= edits.edits, "{}", entry.name);
            }
            m
        })
        .collect()
}

/// Every backend gave the same answer to every operation, and the same node count.
fn assert_same_answers(measurements: &[BackendMeasurement]) {
    let first = &measurements[0];
    for m in &measurements[1..] {
        assert_eq!(
            m.nodes, first.nodes,
            "{} vs {}: node count",
            m.name, first.name
        );
        let compared = |m: &BackendMeasurement| -> Vec<_> {
            m.operations
                .iter()
                .filter(|o| o.operation.compared())
                .cloned()
                .collect()
        };
        let (ours, theirs) = (compared(m), compared(first));
        assert_eq!(
            ours.len(),
            theirs.len(),
            "{} vs {}: operations run",
            m.name,
            first.name
        );
        for (a, b) in ours.iter().zip(&theirs) {
            assert_eq!(a.operation, b.operation);
            assert_eq!(
                a.answer, b.answer,
                "{} vs {}: {:?}",
                m.name, first.name, a.operation
            );
        }
    }
}

#[test]
fn the_registry_is_complete() {
    let names: Vec<_> = backends::ALL.iter().map(|e| e.name).collect();
    assert!(names.contains(&"tree-sitter"), "{names:?}");
    let mut unique = names.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(
        unique.len(),
        names.len(),
        "backend names must be unique: {names:?}"
    );
}

/// Every backend answers every shipped query file as tree-sitter's `QueryCursor` does (matches as a multiset,
/// captures as a sequence) on a spread of built-in files of each language: the compare run's query operations,
/// which fail the row on a mismatch.
#[test]
fn every_backend_answers_the_shipped_queries_as_query_cursor_does() {
    let generated = builtin_corpus::generate();
    let files: Vec<CorpusFile> = generated
        .iter()
        .step_by(generated.len() / 24)
        .filter_map(|f| {
            let language = Language::from_path(std::path::Path::new(&f.path))?;
            Some(CorpusFile::in_memory(
                f.path.clone(),
                language,
                f.text.clone(),
            ))
        })
        .collect();
    let languages = corpus(files.clone()).languages();
    let expected = cst_query::ops::shipped()
        .into_iter()
        .filter(|q| languages.contains(&q.language))
        .count();
    assert!(expected >= 7, "python, rust and typescript are all there");
    for m in measure_all(&corpus(files), 1) {
        assert_eq!(m.queries.len(), expected, "{}", m.name);
        for q in &m.queries {
            assert!(
                q.answered,
                "{}: {} {} not answered",
                m.name, q.language, q.query
            );
            assert!(
                q.answers_agree && q.mismatch.is_none(),
                "{}: {} {}: {:?}",
                m.name,
                q.language,
                q.query,
                q.mismatch
            );
            assert!(q.files > 0 && q.matches > 0, "{}: {q:?}", m.name);
        }
    }
}

#[test]
fn snippets_round_trip_with_identical_answers() {
    let files = snippets()
        .into_iter()
        .map(|s| CorpusFile::in_memory(s.name, s.language, s.text))
        .collect();
    let measurements = measure_all(&corpus(files), 1);
    assert!(
        measurements[0].parse_errors >= 6,
        "the snippets include syntax errors"
    );
    assert_same_answers(&measurements);
}

#[test]
fn deep_nesting_overflows_nothing() {
    // Runs on a test thread's default 2 MiB stack: parsing, conversion, verification, operations and drop
    // must all be iterative.
    let files = Language::ALL
        .iter()
        .map(|&l| {
            CorpusFile::in_memory(
                format!("deep.{}", l.name()),
                l,
                deep_nesting(l, DEEP_NESTING),
            )
        })
        .collect();
    // Every sampled offset sits 50,000 levels deep on average, so sample fewer of them than usual; and an
    // edit of each file, its two versions kept and verified, shows that updates and versions of 100,000-deep
    // trees overflow nothing either (each version's verification walks tree-sitter's tree again: the edits
    // were most of this test's time).
    let options = MeasureOptions {
        scaling_steps: vec![],
        repetitions: 1,
        budget: std::time::Duration::from_millis(100),
        offset_samples: 200,
        edit: EditOptions {
            edits: 1,
            versions: 2,
            ..EditOptions::default()
        },
        ..MeasureOptions::default()
    };
    let measurements = measure_all_with(&corpus(files), &options);
    assert!(measurements[0].nodes > 4 * DEEP_NESTING as u64);
    assert_same_answers(&measurements);
}

#[test]
fn wide_nodes_are_looked_up_in_bounded_time() {
    // One node of 100,000 children per language, looked up at 1,000 sampled offsets (a tenth of the default:
    // tree-sitter's own lookup passes the siblings before the offset one by one, as every row that follows its
    // cursor's rule may, and 10,000 of them on every row took most of this test's two minutes) besides the
    // verified ones.
    let files = Language::ALL
        .iter()
        .map(|&l| {
            CorpusFile::in_memory(
                format!("wide.{}", l.extension()),
                l,
                wide_file(l, WIDE_SIBLINGS),
            )
        })
        .collect();
    // An edit of each (every version verified at 4 offsets) shows that updates keep lookups bounded.
    let options = MeasureOptions {
        scaling_steps: vec![],
        repetitions: 1,
        budget: std::time::Duration::from_millis(100),
        offset_samples: 1_000,
        edit: EditOptions {
            edits: 1,
            versions: 2,
            ..EditOptions::default()
        },
        ..MeasureOptions::default()
    };
    let measurements = measure_all_with(&corpus(files), &options);
    assert!(measurements[0].nodes > 4 * WIDE_SIBLINGS as u64);
    assert_same_answers(&measurements);
}

#[test]
fn a_megabyte_line_round_trips() {
    let files = vec![CorpusFile::in_memory(
        "long.rs",
        Language::Rust,
        long_line(Language::Rust, 1_000_000),
    )];
    let options = MeasureOptions {
        scaling_steps: vec![],
        repetitions: 1,
        budget: std::time::Duration::from_millis(100),
        // Edits of wide nodes are the wide-node test's; here they would only add reparses.
        edit: EditOptions {
            edits: 0,
            ..EditOptions::default()
        },
        ..MeasureOptions::default()
    };
    assert_same_answers(&measure_all_with(&corpus(files), &options));
}

#[test]
fn per_file_mode_sums_what_whole_corpus_mode_measures() {
    let files: Vec<_> = snippets()
        .into_iter()
        .map(|s| CorpusFile::in_memory(s.name, s.language, s.text))
        .collect();
    let corpus = corpus(files);
    for entry in backends::ALL {
        let whole = MeasureOptions {
            scaling_steps: vec![],
            repetitions: 0,
            edit: EditOptions {
                edits: 0,
                ..EditOptions::default()
            },
            ..MeasureOptions::default()
        };
        let per_file = MeasureOptions {
            per_file: true,
            ..whole.clone()
        };
        let a = (entry.measure)(&corpus, &whole, &mut NoProgress).unwrap();
        let b = (entry.measure)(&corpus, &per_file, &mut NoProgress).unwrap();
        assert_eq!(b.failed_files, 0, "{}: {:?}", entry.name, b.failures);
        assert_eq!(a.nodes, b.nodes, "{}", entry.name);
        assert!(
            b.peak_bytes <= a.peak_bytes,
            "{}: per-file peak {} > whole {}",
            entry.name,
            b.peak_bytes,
            a.peak_bytes
        );
        if !entry.shares_across_files {
            // Without sharing, per-file sums differ from the whole-corpus figure only by the store's own
            // per-file bookkeeping (its Vec of files).
            let (a, b) = (a.retained_bytes as f64, b.retained_bytes as f64);
            assert!(
                (a - b).abs() / a < 0.25,
                "{}: whole {a} vs per-file sum {b}",
                entry.name
            );
        }
    }
}

#[test]
fn two_measurements_give_identical_byte_counts() {
    let files = snippets()
        .into_iter()
        .map(|s| CorpusFile::in_memory(s.name, s.language, s.text))
        .collect();
    let corpus = corpus(files);
    let options = MeasureOptions {
        scaling_steps: vec![],
        repetitions: 0,
        edit: EditOptions {
            edits: 0,
            ..EditOptions::default()
        },
        ..MeasureOptions::default()
    };
    let (a, b) = (
        measure_all_with(&corpus, &options),
        measure_all_with(&corpus, &options),
    );
    for (a, b) in a.iter().zip(&b) {
        assert_eq!(
            (a.retained_bytes, a.retained_blocks, a.peak_bytes, a.nodes),
            (b.retained_bytes, b.retained_blocks, b.peak_bytes, b.nodes),
            "{}",
            a.name
        );
    }
}

fn token_file() -> impl Strategy<Value = (Language, String)> {
    prop::sample::select(Language::ALL.to_vec()).prop_flat_map(|language| {
        prop::collection::vec(prop::sample::select(random_tokens(language)), 0..60)
            .prop_map(move |parts| (language, parts.concat()))
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn random_token_sequences_round_trip_on_every_backend(files in prop::collection::vec(token_file(), 1..4)) {
        let files = files
            .into_iter()
            .enumerate()
            .map(|(i, (language, text))| CorpusFile::in_memory(format!("random{i}"), language, text))
            .collect();
        assert_same_answers(&measure_all(&corpus(files), 1));
    }
}
