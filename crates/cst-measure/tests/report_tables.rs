//! Snapshot of the rendered results (Markdown and JSON) for fixed figures, so a change to the tables is a
//! visible, reviewed diff.

use cst_measure::corpus::{Corpus, CorpusFile, Skipped};
use cst_measure::harness::{
    BackendMeasurement, FileFailure, OperationTiming, ScalingPoint, WalkBesideTreeSitter,
};
use cst_measure::measurement::{PairedTiming, QueryTiming, UncountedBuild, UncountedEdits};
use cst_measure::ops::Operation;
use cst_measure::report::{render_markdown, CompareReport};
use cst_measure::session::EditMeasurement;
use cst_measure::Language;

fn corpus() -> Corpus {
    Corpus {
        name: "fixture".into(),
        files: vec![
            CorpusFile::in_memory("a.py", Language::Python, "x = 1\n".into()),
            CorpusFile::in_memory("b.rs", Language::Rust, "fn main() {}\n".into()),
        ],
        skipped: vec![Skipped {
            path: "blob.py".into(),
            reason: "binary: NUL byte at offset 3".into(),
        }],
    }
}

/// A pair whose backend side took `ratio` times tree-sitter's, spread 10% either way over 15 turns.
fn pair(seconds: f64, ratio: f64, answers_agree: bool) -> Option<PairedTiming> {
    Some(PairedTiming {
        backend_seconds: seconds,
        tree_sitter_seconds: seconds / ratio,
        ratio,
        ratio_low: ratio * 0.9,
        ratio_high: ratio * 1.1,
        turns: 15,
        answers_agree,
    })
}

fn measurement(name: &str, retained: u64, walk_seconds: f64, failed: bool) -> BackendMeasurement {
    let beside = if name == "tree-sitter" { 1.0 } else { 20.0 };
    BackendMeasurement {
        name: name.into(),
        retains: format!("what {name} keeps"),
        lookup: format!("how {name} finds a node"),
        update: format!("how {name} takes an edit"),
        includes_source: true,
        shares_across_files: false,
        per_file: false,
        files: 2,
        lines: 2,
        source_bytes: 19,
        retained_bytes: retained,
        retained_footprint: retained + 7 * 16,
        retained_blocks: 7,
        allocations_during_build: 40,
        peak_bytes: retained * 2,
        parser_bytes: 20_000,
        parser_footprint: 21_000,
        nodes: 9,
        parse_errors: 0,
        parse_seconds: 0.001,
        convert_seconds: 0.0005,
        free_seconds: 0.0002,
        walk_seconds: 0.0002,
        wall_seconds: 0.01,
        files_verified: if failed { 1 } else { 2 },
        failed_files: u64::from(failed),
        failures: if failed {
            vec![FileFailure {
                path: "b.rs".into(),
                error: "node #3 differs".into(),
            }]
        } else {
            vec![]
        },
        scaling: vec![
            ScalingPoint {
                files: 1,
                lines: 1,
                source_bytes: 6,
                retained_bytes: retained / 3,
                retained_footprint: retained / 3 + 48,
                build_seconds: 0.0004,
            },
            ScalingPoint {
                files: 2,
                lines: 2,
                source_bytes: 19,
                retained_bytes: retained,
                retained_footprint: retained + 7 * 16,
                build_seconds: 0.0015,
            },
        ],
        operations: vec![
            OperationTiming {
                operation: Operation::Walk,
                median_seconds: walk_seconds,
                // Counting slows the walk by a fifth.
                counted_seconds: walk_seconds * 1.2,
                repetitions: 5,
                items: 9,
                answer: "00ff".into(),
                working_bytes: 24,
                beside: pair(walk_seconds, 1.0 / beside, true),
            },
            OperationTiming {
                operation: Operation::NodeAtOffset,
                median_seconds: walk_seconds / 2.0,
                counted_seconds: walk_seconds / 2.0,
                repetitions: 3,
                items: 10_000,
                answer: if failed { "dead".into() } else { "beef".into() },
                // A lookup's cursor caches 30 kB in every row but tree-sitter's.
                working_bytes: if name == "tree-sitter" { 0 } else { 30_000 },
                // The broken row's lookups disagree with tree-sitter's beside it too.
                beside: pair(walk_seconds / 2.0, 0.5, !failed),
            },
        ],
        queries: vec![QueryTiming {
            language: "python".into(),
            query: "highlights".into(),
            files: 2,
            nodes: 9,
            left_out: 0,
            matches: 5,
            captures: 6,
            timed_files: 2,
            timed_nodes: 9,
            working_bytes: 600,
            beside: pair(walk_seconds * 3.0, 0.8, !failed),
            answered: name != "small",
            answers_agree: !failed && name != "small",
            mismatch: failed.then(|| "file 1: python highlights pattern 3: matches differ".into()),
        }],
        // Side by side, tree-sitter's walk of the same files took 20 times this backend's (its own, as long).
        walk_beside_tree_sitter: Some(WalkBesideTreeSitter {
            files: 2,
            nodes: 9,
            backend_seconds: walk_seconds,
            tree_sitter_seconds: walk_seconds * beside,
            times_as_fast: beside,
            // tree-sitter's counted cursor takes 0.85 of its plain walk.
            counted_cursor_seconds: walk_seconds * beside * 0.85,
            times_as_fast_counted_cursor: beside * 0.85,
            turns: 5,
            answers_agree: !failed,
        }),
        edits: Some(EditMeasurement {
            files: 2,
            source_bytes: 19,
            files_left_out: 0,
            // One file of two made 6 edits for its nodes.
            edits: 26,
            edits_per_file: 20,
            files_with_fewer_edits: 1,
            max_session_nodes: 2_000_000,
            reparse_median_seconds: 0.000_02,
            reparse_p99_seconds: 0.000_09,
            update_median_seconds: walk_seconds / 100.0,
            update_p99_seconds: walk_seconds / 10.0,
            rebuild_median_seconds: walk_seconds / 20.0,
            uncounted: Some(UncountedEdits {
                edits: 26,
                reparse_counted_median_seconds: 0.000_02,
                reparse_median_seconds: 0.000_016,
                update_counted_median_seconds: walk_seconds / 100.0,
                update_median_seconds: walk_seconds / 125.0,
            }),
            versions_kept: 10,
            retained_bytes_one_version: retained,
            retained_bytes_all_versions: retained * 4,
            bytes_per_extra_version: retained as f64 / 6.0,
            bytes_per_file_version: retained as f64 / 2.0,
            footprint_one_version: retained + 100,
            footprint_all_versions: retained * 4 + 400,
            versions_verified: if failed { 39 } else { 41 },
            failed: u64::from(failed),
            failures: vec![],
        }),
        // Every row but tree-sitter's reads 2,000 bytes of trained tables.
        static_bytes: if name == "tree-sitter" { 0 } else { 2_000 },
        static_tables: if name == "tree-sitter" {
            "none".into()
        } else {
            format!("{name}'s trained tables")
        },
        uncounted: Some(UncountedBuild {
            counted_parse_seconds: 0.001,
            counted_convert_seconds: 0.0005,
            parse_seconds: 0.0008,
            convert_seconds: 0.0004,
        }),
    }
}

#[test]
fn tables_for_verified_backends() {
    let report = CompareReport::new(
        &corpus(),
        false,
        &[
            measurement("tree-sitter", 1_234, 0.002, false),
            measurement("compact", 45, 0.0001, false),
        ],
        &[],
    );
    assert!(report.all_verified && report.answers_match);
    insta::assert_snapshot!(render_markdown(&report));
    insta::assert_snapshot!("json", report.to_json());
}

#[test]
fn tables_for_a_failing_backend_in_per_file_mode() {
    let report = CompareReport::new(
        &corpus(),
        true,
        &[
            measurement("tree-sitter", 1_234, 0.002, false),
            measurement("broken", 45, 0.0001, true),
        ],
        &[],
    );
    assert!(!report.all_verified && !report.answers_match);
    insta::assert_snapshot!(render_markdown(&report));
}

/// The verdict judges what a process pays to use a store, not the store alone: a store well within the target
/// at rest does not fit once its static tables and an operation's working memory take the process past it, and
/// a build that peaks past the target is said apart.
#[test]
fn the_target_counts_static_tables_working_memory_and_the_build_peak() {
    let mut small = measurement("small", 1_000_000, 0.0001, false);
    let mut heavy = measurement("heavy", 1_000_000, 0.0001, false);
    heavy.static_bytes = 1_500_000;
    heavy.operations[1].working_bytes = 2_600_000;
    heavy.peak_bytes = 6_000_000;
    small.peak_bytes = 3_000_000;
    let report = CompareReport::new(
        &corpus(),
        false,
        &[
            measurement("tree-sitter", 1_234, 0.002, false),
            small,
            heavy,
        ],
        &[],
    );
    let row = |name: &str| report.backends.iter().find(|b| b.name == name).unwrap();
    let (small, heavy) = (row("small"), row("heavy"));
    // 1,000,112 at rest + 2,000 static + 30,000 working + 21,000 parsers.
    assert_eq!(small.in_use_bytes, 1_053_112);
    assert!(small.fits_target && small.builds_within_target);
    assert_eq!(small.build_peak_bytes, 3_002_000);
    // 1,000,112 + 1,500,000 + 2,600,000 + 21,000 = 5,121,112: past 5 MB, though the store alone is 1 MB.
    assert_eq!(heavy.in_use_bytes, 5_121_112);
    assert!(!heavy.fits_target && !heavy.builds_within_target);
    assert_eq!(
        heavy.working_operation.as_deref(),
        Some(Operation::NodeAtOffset.name())
    );
    // Per node and × source count the static tables with the store.
    assert_eq!(heavy.paid_bytes, 2_500_112);
    assert!((heavy.overhead_x - 2_500_112.0 / 19.0).abs() < 1e-6);
    let verdict = render_markdown(&report);
    let verdict = verdict
        .lines()
        .find(|l| l.starts_with("**Verdict.**"))
        .unwrap();
    assert!(
        verdict.contains("2 of the 3 verified backends"),
        "{verdict}"
    );
    assert!(!verdict.contains("**heavy**"), "{verdict}");
}
