//! Turns raw measurements into the published figures: derived metrics, the reference row from the published
//! analysis, the JSON document and the Markdown tables of `results/compare.md` and the README.
//!
//! Two sizes are kept for every row: the bytes *requested* from the allocator, and the allocator's
//! *footprint* for the same blocks (what the process pays: glibc's headers and rounding included, see
//! [`crate::alloc`]). Per-CST, per-node and × source figures, and the 5 MB verdict, are of the footprint; the
//! requested bytes stand beside them.

use crate::corpus::{Corpus, LanguageTotals, Skipped};
use crate::measurement::{
    ratio, BackendMeasurement, FileFailure, PairedTiming, ScalingPoint, UncountedBuild,
    UncountedEdits, WalkBesideTreeSitter, BESIDE_TREE_SITTER_BYTES,
};
use crate::ops::{Operation, OPERATIONS};
use serde::{Deserialize, Serialize};
use std::fmt::Write;

/// One MB in every table: 1,000,000 bytes.
pub const MB_BYTES: u64 = 1_000_000;
/// The budget judged against: the whole corpus's CSTs plus the parsers in 5 MB.
pub const TARGET_BYTES: u64 = 5_000_000;
/// The backend every ratio is taken against.
pub const BASELINE_BACKEND: &str = "tree-sitter";

/// The published analysis this project starts from (`shared/reference/cst-memory-analysis.md`), as quoted there.
/// Its "MB" are MiB: only then do 36.39 MB of CSTs and 874 KB of source give its 43.6x. We convert to bytes.
pub mod published {
    const MIB: f64 = 1_048_576.0;
    pub const FILES: u64 = 3000;
    pub const LINES: u64 = 46_000;
    pub const SOURCE_BYTES: u64 = 874_000;
    /// 36.39 MiB of CSTs, measured as an RSS difference.
    pub const RETAINED_BYTES: u64 = (36.39 * MIB) as u64;
    /// 1.52 MiB for its parser manager.
    pub const PARSER_BYTES: u64 = (1.52 * MIB) as u64;
    pub const LINES_PER_SECOND: f64 = 37_794.0;
    pub const BUILD_SECONDS: f64 = 1.22;
}

/// Corpus facts shown above every table.
#[derive(Clone, Debug, Serialize)]
pub struct CorpusSummary {
    pub name: String,
    pub files: u64,
    pub lines: u64,
    pub source_bytes: u64,
    pub parse_errors: u64,
    pub languages: Vec<LanguageTotals>,
    pub skipped: Vec<Skipped>,
}

impl CorpusSummary {
    pub fn new(corpus: &Corpus, parse_errors: u64) -> CorpusSummary {
        CorpusSummary {
            name: corpus.name.clone(),
            files: corpus.files.len() as u64,
            lines: corpus.lines(),
            source_bytes: corpus.source_bytes(),
            parse_errors,
            languages: corpus.language_totals(),
            skipped: corpus.skipped.clone(),
        }
    }
}

/// One row of the memory table: measured figures and what follows from them.
#[derive(Clone, Debug, Serialize)]
pub struct BackendRow {
    pub name: String,
    /// What the retained bytes include.
    pub retains: String,
    /// How the backend finds the node at an offset.
    pub lookup: String,
    pub includes_source: bool,
    /// Bytes requested from the allocator and still held once every CST is built.
    pub retained_bytes: u64,
    /// What the allocator holds for those blocks: what the process pays.
    pub retained_footprint: u64,
    /// Heap blocks the retained bytes occupy.
    pub allocations: u64,
    pub allocations_during_build: u64,
    pub peak_bytes: u64,
    pub parser_bytes: u64,
    pub parser_footprint: u64,
    pub nodes: u64,
    /// Read-only tables the backend reads beyond the grammars' own, for this corpus's languages, and what
    /// they are ("none" for most rows).
    pub static_bytes: u64,
    pub static_tables: String,
    /// What a process pays to hold the store at rest: its footprint plus the static tables.
    pub paid_bytes: u64,
    /// Working memory: the most any timed operation (the shipped queries' passes included) had live above
    /// the store, and that operation's name.
    pub working_bytes: u64,
    pub working_operation: Option<String>,
    /// What a process pays to use the store: at rest, static tables, the largest operation's working memory
    /// and the parsers' footprint. The target is judged on this.
    pub in_use_bytes: u64,
    /// The build's peak (requested bytes live while building, parsers and transient trees included) plus the
    /// static tables the build reads.
    pub build_peak_bytes: u64,
    /// Whether that build peak is within the target.
    pub builds_within_target: bool,
    /// Paid (at rest, static tables included) per file.
    pub bytes_per_cst: f64,
    /// Paid per node.
    pub bytes_per_node: f64,
    /// Paid per line.
    pub bytes_per_line: f64,
    /// Paid over the source's size.
    pub overhead_x: f64,
    /// Lines held per MB paid.
    pub lines_per_mb: f64,
    /// Requested bytes per node.
    pub requested_per_node: f64,
    /// Requested bytes over the source's size.
    pub requested_overhead_x: f64,
    /// CSTs of this corpus's average footprint that fit in the target after the parsers' footprint, the
    /// static tables and the largest working memory.
    pub csts_in_target: u64,
    /// Whether the process fits the target while it uses the store: `in_use_bytes` within it.
    pub fits_target: bool,
    /// The same judged on requested bytes (the store's and the parsers' requested bytes, static tables and
    /// working memory as they are).
    pub fits_target_requested: bool,
    pub build_seconds: f64,
    pub parse_seconds: f64,
    pub convert_seconds: f64,
    /// Freeing tree-sitter's trees (see [`BackendMeasurement::free_seconds`]).
    pub free_seconds: f64,
    /// A bare `TreeCursor` walk of the same trees (see [`BackendMeasurement::walk_seconds`]).
    pub walk_seconds: f64,
    /// Conversion time over the bare walk's.
    pub convert_over_walk: f64,
    pub lines_per_second: f64,
    pub verified: bool,
    pub files_verified: u64,
    pub failed_files: u64,
    pub failures: Vec<FileFailure>,
    pub scaling: Vec<ScalingPoint>,
    /// The walk timed beside tree-sitter's in the backend's own process.
    pub walk_beside_tree_sitter: Option<WalkBesideTreeSitter>,
    /// The shipped query files run on the store (see [`crate::measurement::QueryTiming`]).
    #[serde(default)]
    pub queries: Vec<crate::measurement::QueryTiming>,
    /// The build timed again with counting off.
    pub uncounted: Option<UncountedBuild>,
    /// The first edits replayed with counting off.
    pub uncounted_edits: Option<UncountedEdits>,
}

impl BackendRow {
    pub fn from_measurement(m: &BackendMeasurement) -> BackendRow {
        let paid_bytes = m.retained_footprint + m.static_bytes;
        let paid = paid_bytes as f64;
        let bytes_per_cst = ratio(paid, m.files as f64);
        let build_seconds = m.parse_seconds + m.convert_seconds + m.free_seconds;
        // The largest of the operations' and the query passes' working memory (an operation wins a tie).
        let working = m
            .operations
            .iter()
            .map(|o| (o.working_bytes, o.operation.name().to_string()))
            .chain(
                m.queries
                    .iter()
                    .map(|q| (q.working_bytes, format!("{} {} query", q.language, q.query))),
            )
            .filter(|(bytes, _)| *bytes > 0)
            .reduce(|best, next| if next.0 > best.0 { next } else { best });
        let working_bytes = working.as_ref().map_or(0, |w| w.0);
        let in_use_bytes = paid_bytes + working_bytes + m.parser_footprint;
        let build_peak_bytes = m.peak_bytes + m.static_bytes;
        // What is left for the CSTs themselves once the process has its parsers, tables and working memory.
        let room =
            TARGET_BYTES.saturating_sub(m.parser_footprint + m.static_bytes + working_bytes) as f64;
        let store_per_cst = ratio(m.retained_footprint as f64, m.files as f64);
        BackendRow {
            name: m.name.clone(),
            retains: m.retains.clone(),
            lookup: m.lookup.clone(),
            includes_source: m.includes_source,
            retained_bytes: m.retained_bytes,
            retained_footprint: m.retained_footprint,
            allocations: m.retained_blocks,
            allocations_during_build: m.allocations_during_build,
            peak_bytes: m.peak_bytes,
            parser_bytes: m.parser_bytes,
            parser_footprint: m.parser_footprint,
            nodes: m.nodes,
            static_bytes: m.static_bytes,
            static_tables: m.static_tables.clone(),
            paid_bytes,
            working_bytes,
            working_operation: working.map(|w| w.1),
            in_use_bytes,
            build_peak_bytes,
            builds_within_target: build_peak_bytes <= TARGET_BYTES,
            bytes_per_cst,
            bytes_per_node: ratio(paid, m.nodes as f64),
            bytes_per_line: ratio(paid, m.lines as f64),
            overhead_x: ratio(paid, m.source_bytes as f64),
            lines_per_mb: ratio(m.lines as f64, paid / MB_BYTES as f64),
            requested_per_node: ratio(m.retained_bytes as f64, m.nodes as f64),
            requested_overhead_x: ratio(m.retained_bytes as f64, m.source_bytes as f64),
            csts_in_target: if store_per_cst > 0.0 {
                (room / store_per_cst) as u64
            } else {
                0
            },
            fits_target: in_use_bytes <= TARGET_BYTES,
            fits_target_requested: m.retained_bytes
                + m.static_bytes
                + working_bytes
                + m.parser_bytes
                <= TARGET_BYTES,
            build_seconds,
            parse_seconds: m.parse_seconds,
            convert_seconds: m.convert_seconds,
            free_seconds: m.free_seconds,
            walk_seconds: m.walk_seconds,
            convert_over_walk: ratio(m.convert_seconds, m.walk_seconds),
            lines_per_second: ratio(m.lines as f64, build_seconds),
            verified: m.failed_files == 0 && m.files_verified == m.files,
            files_verified: m.files_verified,
            failed_files: m.failed_files,
            failures: m.failures.clone(),
            scaling: m.scaling.clone(),
            walk_beside_tree_sitter: m.walk_beside_tree_sitter.clone(),
            queries: m.queries.clone(),
            uncounted: m.uncounted.clone(),
            uncounted_edits: m.edits.as_ref().and_then(|e| e.uncounted.clone()),
        }
    }
}

/// The reference row, derived from the published figures the same way as ours. Its bytes come from an RSS
/// difference, so they compare with footprints (allocator overhead included), not requested bytes.
#[derive(Clone, Debug, Serialize)]
pub struct ReferenceRow {
    pub name: String,
    pub note: String,
    pub retained_bytes: u64,
    pub parser_bytes: u64,
    pub bytes_per_cst: f64,
    pub bytes_per_line: f64,
    pub overhead_x: f64,
    pub lines_per_mb: f64,
    pub csts_in_target: u64,
    pub fits_target: bool,
    pub lines_per_second: f64,
}

impl ReferenceRow {
    pub fn published() -> ReferenceRow {
        use published::*;
        let retained = RETAINED_BYTES as f64;
        let bytes_per_cst = retained / FILES as f64;
        ReferenceRow {
            name: "published analysis (reference)".into(),
            note: "tree-sitter CSTs of its own 3000-file corpus, measured as an RSS difference; its MB are MiB"
                .into(),
            retained_bytes: RETAINED_BYTES,
            parser_bytes: PARSER_BYTES,
            bytes_per_cst,
            bytes_per_line: retained / LINES as f64,
            overhead_x: retained / SOURCE_BYTES as f64,
            lines_per_mb: LINES as f64 / (retained / MB_BYTES as f64),
            csts_in_target: ((TARGET_BYTES - PARSER_BYTES) as f64 / bytes_per_cst) as u64,
            fits_target: RETAINED_BYTES + PARSER_BYTES <= TARGET_BYTES,
            lines_per_second: LINES_PER_SECOND,
        }
    }
}

/// One operation timed on one backend (the long form; the tables pivot it).
#[derive(Clone, Debug, Serialize)]
pub struct OperationRow {
    pub operation: Operation,
    pub backend: String,
    /// The headline median: with counting off where that was timed.
    pub median_seconds: f64,
    /// The median with counting on (0 when not timed).
    pub counted_seconds: f64,
    /// Complete runs the median is of.
    pub repetitions: u64,
    pub items: u64,
    pub ns_per_item: f64,
    /// Working memory: the highest rise of the process's live bytes above the store while a run went on.
    pub working_bytes: u64,
    /// This backend's time over tree-sitter's (below 1 is faster): the same-process pair's median ratio where
    /// it was timed, else the two processes' medians divided.
    pub ratio_to_tree_sitter: Option<f64>,
    /// The operation timed in turns with tree-sitter's answer to it in the backend's own process.
    pub beside: Option<PairedTiming>,
    pub answer: String,
    /// Whether every backend gave the same answer for this operation.
    pub answers_match: bool,
}

/// What editing cost one backend (see [`crate::session`]).
#[derive(Clone, Debug, Serialize)]
pub struct EditRow {
    pub backend: String,
    /// What the backend's update does, and what a version shares.
    pub update: String,
    pub files: u64,
    pub files_left_out: u64,
    pub edits: u64,
    /// Edits asked for per file; files that made fewer for their nodes; the nodes a session may take.
    pub edits_per_file: u64,
    pub files_with_fewer_edits: u64,
    pub max_session_nodes: u64,
    pub reparse_median_seconds: f64,
    pub reparse_p99_seconds: f64,
    pub update_median_seconds: f64,
    pub update_p99_seconds: f64,
    pub rebuild_median_seconds: f64,
    /// Median update over the common reparse's median (the reparse measured once, by the baseline's run).
    pub update_over_reparse: f64,
    /// Median update over the median full rebuild of the same files.
    pub update_over_rebuild: f64,
    pub versions_kept: u64,
    pub retained_bytes_one_version: u64,
    pub retained_bytes_all_versions: u64,
    pub footprint_one_version: u64,
    pub footprint_all_versions: u64,
    pub bytes_per_extra_version: f64,
    pub bytes_per_file_version: f64,
    /// An extra version over one whole version of the file.
    pub extra_version_over_file: f64,
    pub versions_verified: u64,
    pub failed: u64,
    pub failures: Vec<FileFailure>,
}

/// A row that holds the text alone, no tree (each file compressed with zstd, ...): for scale.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TextReferenceRow {
    pub name: String,
    pub retains: String,
    pub retained_bytes: u64,
    pub retained_footprint: u64,
    pub dictionary_bytes: u64,
    pub compress_seconds: f64,
    pub decompress_seconds: f64,
    /// Retained bytes over the source's size.
    #[serde(default)]
    pub overhead_x: f64,
}

/// A backend whose measurement did not finish (it crashed, or reached the memory limit).
#[derive(Clone, Debug, Serialize)]
pub struct BackendCrash {
    pub name: String,
    pub error: String,
}

/// Everything one compare run found; `compare.json` is this, serialised.
#[derive(Clone, Debug, Serialize)]
pub struct CompareReport {
    pub generated_by: String,
    /// `whole-corpus` (every CST alive at once) or `per-file` (each file alone, figures summed).
    pub mode: String,
    pub corpus: CorpusSummary,
    pub mb_bytes: u64,
    pub target_bytes: u64,
    pub reference: ReferenceRow,
    pub backends: Vec<BackendRow>,
    /// Backends whose measurement did not finish.
    pub crashed: Vec<BackendCrash>,
    pub operations: Vec<OperationRow>,
    /// The edit sessions, per backend that ran them.
    pub edits: Vec<EditRow>,
    /// Rows holding the text alone, for scale.
    pub text_references: Vec<TextReferenceRow>,
    /// Seconds tree-sitter took to parse every file once (the run's own parse for verification).
    pub parse_seconds: f64,
    /// What a restart costs each backend ([`crate::restart`]), when the run measured it.
    pub restart: Vec<crate::restart::RestartMeasurement>,
    /// Every backend was measured and reproduced every file (and every version of the edited ones).
    pub all_verified: bool,
    /// Every compared operation's answers agree.
    pub answers_match: bool,
}

impl CompareReport {
    pub fn new(
        corpus: &Corpus,
        per_file: bool,
        measurements: &[BackendMeasurement],
        crashed: &[BackendCrash],
    ) -> CompareReport {
        CompareReport::with_references(corpus, per_file, measurements, crashed, Vec::new(), 0.0)
    }

    /// [`CompareReport::new`] with the text-only rows and the run's parse time.
    pub fn with_references(
        corpus: &Corpus,
        per_file: bool,
        measurements: &[BackendMeasurement],
        crashed: &[BackendCrash],
        mut text_references: Vec<TextReferenceRow>,
        parse_seconds: f64,
    ) -> CompareReport {
        for row in &mut text_references {
            row.overhead_x = ratio(row.retained_bytes as f64, corpus.source_bytes() as f64);
        }
        let parse_errors = measurements.first().map_or(0, |m| m.parse_errors);
        let backends: Vec<BackendRow> = measurements
            .iter()
            .map(BackendRow::from_measurement)
            .collect();
        let mut operations = Vec::new();
        for op in OPERATIONS {
            let timings: Vec<(&BackendMeasurement, _)> = measurements
                .iter()
                .filter_map(|m| Some((m, m.operations.iter().find(|t| t.operation == op)?)))
                .collect();
            let baseline = timings
                .iter()
                .find(|(m, _)| m.name == BASELINE_BACKEND)
                .map(|(_, t)| t.median_seconds);
            let answers_match =
                !op.compared() || timings.windows(2).all(|w| w[0].1.answer == w[1].1.answer);
            for (m, t) in timings {
                operations.push(OperationRow {
                    operation: op,
                    backend: m.name.clone(),
                    median_seconds: t.median_seconds,
                    counted_seconds: t.counted_seconds,
                    repetitions: t.repetitions,
                    items: t.items,
                    ns_per_item: ratio(t.median_seconds * 1e9, t.items as f64),
                    working_bytes: t.working_bytes,
                    ratio_to_tree_sitter: match &t.beside {
                        Some(pair) => Some(pair.ratio),
                        None => baseline.map(|b| ratio(t.median_seconds, b)),
                    },
                    beside: t.beside.clone(),
                    answer: t.answer.clone(),
                    // A pair whose two answers differ compares unlike things.
                    answers_match: answers_match
                        && (!op.compared() || t.beside.as_ref().is_none_or(|p| p.answers_agree)),
                });
            }
        }
        let common_reparse = measurements
            .iter()
            .filter_map(|m| Some((m, m.edits.as_ref()?)))
            .min_by_key(|(m, _)| m.name != BASELINE_BACKEND)
            .map_or(0.0, |(_, e)| e.reparse_median_seconds);
        let edits: Vec<EditRow> = measurements
            .iter()
            .filter_map(|m| {
                let e = m.edits.as_ref()?;
                Some(EditRow {
                    backend: m.name.clone(),
                    update: m.update.clone(),
                    files: e.files,
                    files_left_out: e.files_left_out,
                    edits: e.edits,
                    edits_per_file: e.edits_per_file,
                    files_with_fewer_edits: e.files_with_fewer_edits,
                    max_session_nodes: e.max_session_nodes,
                    reparse_median_seconds: e.reparse_median_seconds,
                    reparse_p99_seconds: e.reparse_p99_seconds,
                    update_median_seconds: e.update_median_seconds,
                    update_p99_seconds: e.update_p99_seconds,
                    rebuild_median_seconds: e.rebuild_median_seconds,
                    update_over_reparse: ratio(e.update_median_seconds, common_reparse),
                    update_over_rebuild: ratio(e.update_median_seconds, e.rebuild_median_seconds),
                    versions_kept: e.versions_kept,
                    retained_bytes_one_version: e.retained_bytes_one_version,
                    retained_bytes_all_versions: e.retained_bytes_all_versions,
                    footprint_one_version: e.footprint_one_version,
                    footprint_all_versions: e.footprint_all_versions,
                    bytes_per_extra_version: e.bytes_per_extra_version,
                    bytes_per_file_version: e.bytes_per_file_version,
                    extra_version_over_file: ratio(
                        e.bytes_per_extra_version,
                        e.bytes_per_file_version,
                    ),
                    versions_verified: e.versions_verified,
                    failed: e.failed,
                    failures: e.failures.clone(),
                })
            })
            .collect();
        CompareReport {
            generated_by: "cargo xtask compare".into(),
            mode: if per_file { "per-file" } else { "whole-corpus" }.into(),
            corpus: CorpusSummary::new(corpus, parse_errors),
            mb_bytes: MB_BYTES,
            target_bytes: TARGET_BYTES,
            reference: ReferenceRow::published(),
            all_verified: backends.iter().all(|b| b.verified)
                && crashed.is_empty()
                && edits.iter().all(|e| e.failed == 0),
            edits,
            text_references,
            parse_seconds,
            restart: Vec::new(),
            answers_match: operations.iter().all(|o| o.answers_match),
            crashed: crashed.to_vec(),
            backends,
            operations,
        }
    }

    /// The JSON document.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("report fields are plain data") + "\n"
    }

    /// The operations that were timed, in table order, each with its rows.
    fn operation_groups(&self) -> Vec<(Operation, Vec<&OperationRow>)> {
        OPERATIONS
            .into_iter()
            .map(|op| {
                let rows = self
                    .operations
                    .iter()
                    .filter(|o| o.operation == op)
                    .collect();
                (op, rows)
            })
            .filter(|(_, rows): &(Operation, Vec<&OperationRow>)| !rows.is_empty())
            .collect()
    }

    fn timing(&self, op: Operation, backend: &str) -> Option<&OperationRow> {
        self.operations
            .iter()
            .find(|o| o.operation == op && o.backend == backend)
    }
}

pub use crate::measurement::thousands;

/// Bytes as MB with two decimals.
pub fn mb(bytes: f64) -> String {
    format!("{:.2} MB", bytes / MB_BYTES as f64)
}

/// A byte count small or large: bytes below 10 kB, kB below 1 MB, else MB (1 kB = 1,000 bytes).
pub fn bytes(n: u64) -> String {
    if n < 10_000 {
        format!("{} B", thousands(n))
    } else if n < MB_BYTES {
        format!("{:.1} kB", n as f64 / 1000.0)
    } else {
        mb(n as f64)
    }
}

/// A duration per item in the unit that keeps three significant figures readable.
pub fn per_item(ns: f64) -> String {
    if ns >= 100_000.0 {
        format!("{:.1} µs", ns / 1000.0)
    } else if ns >= 1000.0 {
        format!("{:.2} µs", ns / 1000.0)
    } else {
        format!("{ns:.1} ns")
    }
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

/// Listed skipped files in the Markdown (all of them are in the JSON).
const LISTED_SKIPS: usize = 50;

/// The size–speed charts `cargo xtask compare` writes beside `compare.md` (whenever a backend was measured),
/// as (file name, alt text), in the order `compare.md` shows them under the verdict.
pub const SIZE_SPEED_CHARTS: [(&str, &str); 2] = [
    (
        "size-speed.svg",
        "Bytes paid per node against full-walk time per node",
    ),
    (
        "size-lookup.svg",
        "Bytes paid per node against node-at-offset time per lookup",
    ),
];

/// The Markdown of `compare.md`: every table.
pub fn render_markdown(r: &CompareReport) -> String {
    let mut md = String::new();
    let w = &mut md;
    // `write!` to a String cannot fail.
    let _ = writeln!(
        w,
        "<!-- Generated by `{}`. Do not edit by hand: run it again. -->",
        r.generated_by
    );
    let _ = writeln!(w, "# CST memory comparison\n");
    verdict_section(r, w);
    if !r.backends.is_empty() {
        for (file, alt) in SIZE_SPEED_CHARTS {
            let _ = writeln!(w, "![{alt}]({file})\n");
        }
    }
    corpus_section(r, w);
    memory_section(r, w, true);
    build_section(r, w);
    operations_section(r, w);
    queries_section(r, w);
    edits_section(r, w);
    crate::restart::render_markdown(&r.restart, w);
    scaling_section(r, w);
    verification_section(r, w);
    md
}

/// The size–speed chart shown under the verdict, as the README (at the workspace's root) links it.
pub const README_SIZE_SPEED_CHART: &str =
    "![Bytes paid per node against walk time per node](results/size-speed.svg)";

/// The part of the results the README shows, its headings one level down: the verdict, the size–speed chart,
/// the corpus, one memory table and one speed table (the full tables are in `compare.md`).
pub fn render_summary(r: &CompareReport) -> String {
    let mut md = String::new();
    verdict_section(r, &mut md);
    let _ = writeln!(md, "{README_SIZE_SPEED_CHART}\n");
    corpus_section(r, &mut md);
    memory_section(r, &mut md, false);
    speed_section(r, &mut md);
    crate::restart::render_markdown(&r.restart, &mut md);
    if !r.crashed.is_empty() || !r.all_verified {
        verification_section(r, &mut md);
    }
    md.replace("\n## ", "\n### ")
}

/// One speed table: per backend, the operations a user of stored trees meets most (a full walk, a lookup by
/// offset, opening every file, one edit's update), each with its ratio to tree-sitter.
fn speed_section(r: &CompareReport, w: &mut String) {
    let ops = [Operation::Walk, Operation::NodeAtOffset, Operation::Open];
    if r.operations.is_empty() {
        return;
    }
    let _ = writeln!(w, "## Speed\n");
    let _ = writeln!(
        w,
        "| backend | full walk (per node) | node at offset (per lookup) | open every file (per file) | update after an edit |"
    );
    let _ = writeln!(w, "|---|--:|--:|--:|--:|");
    for b in &r.backends {
        let cells: Vec<String> = ops
            .iter()
            .map(|&op| {
                r.timing(op, &b.name).map_or("—".into(), |o| {
                    let against = o
                        .ratio_to_tree_sitter
                        .filter(|_| o.backend != BASELINE_BACKEND)
                        .map_or(String::new(), |x| format!(" ({x:.2}x)"));
                    format!("{}{against}", per_item(o.ns_per_item))
                })
            })
            .collect();
        let update = r
            .edits
            .iter()
            .find(|e| e.backend == b.name)
            .map_or("—".into(), |e| {
                let against = if e.update_over_reparse < 0.01 {
                    "below 0.01x".to_string()
                } else {
                    format!("{:.2}x", e.update_over_reparse)
                };
                format!(
                    "{} ({against} the reparse)",
                    per_item(e.update_median_seconds * 1e9)
                )
            });
        let _ = writeln!(w, "| {} | {} | {update} |", b.name, cells.join(" | "));
    }
    let _ = writeln!(
        w,
        "\nMedian times; in brackets the ratio to tree-sitter (below 1 is faster). *Update after an edit* is the \
         backend's own work after tree-sitter's incremental reparse, which every row pays on top. Every operation, \
         how each ratio was taken, and the edit sessions are in `compare.md`.\n"
    );
}

/// A few generated sentences: which rows fit the target, the smallest, the fastest to walk.
fn verdict_section(r: &CompareReport, w: &mut String) {
    let measured: Vec<&BackendRow> = r.backends.iter().filter(|b| b.verified).collect();
    if measured.is_empty() {
        return;
    }
    let fits: Vec<&BackendRow> = measured.iter().copied().filter(|b| b.fits_target).collect();
    let listed: Vec<String> = fits
        .iter()
        .map(|b| format!("**{}** ({})", b.name, mb(b.in_use_bytes as f64)))
        .collect();
    let _ = write!(
        w,
        "**Verdict.** {} of the {} verified backends let a process use {} within the {} target, counting what \
         it pays: the store at rest, its static tables, the largest working memory of any operation, and the \
         parsers{}",
        fits.len(),
        measured.len(),
        if r.mode == "per-file" {
            "this corpus's CSTs (summed file by file)"
        } else {
            "this whole corpus's CSTs"
        },
        mb(r.target_bytes as f64),
        if listed.is_empty() {
            ".".to_string()
        } else {
            format!(": {}.", listed.join(", "))
        }
    );
    if !fits.is_empty() {
        let (build, over): (Vec<&BackendRow>, Vec<&BackendRow>) =
            fits.iter().partition(|b| b.builds_within_target);
        let name_peak =
            |b: &&BackendRow| format!("**{}** ({})", b.name, mb(b.build_peak_bytes as f64));
        let _ = write!(
            w,
            " Building them within it too (the peak while building, parsers and static tables included): {}{}.",
            if build.is_empty() {
                "none".to_string()
            } else {
                build.iter().map(name_peak).collect::<Vec<_>>().join(", ")
            },
            if over.is_empty() {
                String::new()
            } else {
                format!(
                    "; {} peak{} past it",
                    over.iter().map(name_peak).collect::<Vec<_>>().join(", "),
                    if over.len() == 1 { "s" } else { "" }
                )
            }
        );
    }
    let smallest = measured
        .iter()
        .min_by_key(|b| b.paid_bytes)
        .expect("not empty");
    let _ = write!(
        w,
        " The smallest at rest is **{}**: {}{}, {:.2}x the source{}, {:.1} bytes per node.",
        smallest.name,
        mb(smallest.paid_bytes as f64),
        if smallest.static_bytes > 0 {
            " with its static tables"
        } else {
            ""
        },
        smallest.overhead_x,
        if smallest.includes_source {
            " with the text included"
        } else {
            ""
        },
        smallest.bytes_per_node
    );
    if let Some(text) = r.text_references.iter().min_by_key(|t| t.retained_bytes) {
        let _ = write!(
            w,
            " Tree and text together in {} is {:.2} times the text alone compressed by *{}* ({}).",
            smallest.name,
            ratio(
                (smallest.retained_bytes + smallest.static_bytes) as f64,
                text.retained_bytes as f64
            ),
            text.name,
            mb(text.retained_bytes as f64),
        );
    }
    let walks: Vec<&OperationRow> = r
        .operations
        .iter()
        .filter(|o| o.operation == Operation::Walk && measured.iter().any(|b| b.name == o.backend))
        .collect();
    if let Some(fastest) = walks
        .iter()
        .min_by(|a, b| a.ns_per_item.total_cmp(&b.ns_per_item))
    {
        let beside = measured
            .iter()
            .find(|b| b.name == fastest.backend)
            .and_then(|b| b.walk_beside_tree_sitter.as_ref())
            .filter(|beside| beside.answers_agree);
        let against_tree_sitter = match (beside, fastest.ratio_to_tree_sitter) {
            _ if fastest.backend == BASELINE_BACKEND => String::new(),
            (Some(beside), _) if beside.times_as_fast_counted_cursor > 0.0 => format!(
                ", {:.1} times as fast as tree-sitter's faster walk ({}) walking the same files beside it \
                 ({:.1} times its plain cursor)",
                beside.times_as_fast_as_fastest(),
                if beside.times_as_fast_counted_cursor <= beside.times_as_fast {
                    "its counted cursor"
                } else {
                    "its plain cursor"
                },
                beside.times_as_fast
            ),
            (Some(beside), _) => format!(
                ", {:.1} times as fast as tree-sitter's cursor walking the same files beside it",
                beside.times_as_fast
            ),
            (None, Some(x)) if x > 0.0 => {
                format!(", {:.1} times as fast as tree-sitter's cursor", 1.0 / x)
            }
            _ => String::new(),
        };
        let _ = write!(
            w,
            " The fastest to walk is **{}**: {} per node{against_tree_sitter}.",
            fastest.backend,
            per_item(fastest.ns_per_item),
        );
    }
    let _ = writeln!(w, "\n");
}

fn corpus_section(r: &CompareReport, w: &mut String) {
    let c = &r.corpus;
    let languages: Vec<String> = c
        .languages
        .iter()
        .map(|l| format!("{} {}", thousands(l.files), l.language))
        .collect();
    let _ = writeln!(
        w,
        "Corpus **{}**: {} files ({}), {} lines, {} source bytes; {} with parse errors ({} of the files, measured \
         like the rest); {} skipped. Mode: **{}. MB = 1,000,000 bytes. Target: {} for what a process pays to use \
         the whole corpus's CSTs (the store, its static tables, working memory and the parsers).
",
        c.name,
        thousands(c.files),
        languages.join(", "),
        thousands(c.lines),
        thousands(c.source_bytes),
        thousands(c.parse_errors),
        share_of_files(c.parse_errors, c.files),
        thousands(c.skipped.len() as u64),
        if r.mode == "per-file" {
            "per-file** (each file's CST built, measured and dropped alone; bytes are exact per-file sums, the peak \
             is the largest single file's; a shared cache is shared within one file only)"
        } else {
            "whole corpus** (every CST alive at once)"
        },
        mb(r.target_bytes as f64),
    );
}

/// `part` of `files` as a percentage with one decimal ("0%" for none, "under 0.1%" for a few of many).
fn share_of_files(part: u64, files: u64) -> String {
    if part == 0 || files == 0 {
        return "0%".to_string();
    }
    let percent = 100.0 * part as f64 / files as f64;
    if percent < 0.05 {
        "under 0.1%".to_string()
    } else {
        format!("{percent:.1}%")
    }
}

fn verified_cell(r: &CompareReport, b: &BackendRow) -> String {
    if b.verified {
        format!(
            "{}/{} files",
            thousands(b.files_verified),
            thousands(r.corpus.files)
        )
    } else {
        format!("**FAILED** ({} files)", thousands(b.failed_files))
    }
}

/// The memory table: what a process pays at rest, for static tables, as working memory and while building;
/// `full` adds requested bytes, the sum in use, per-CST and per-node figures and the heap blocks.
fn memory_section(r: &CompareReport, w: &mut String, full: bool) {
    let _ = writeln!(w, "## Memory\n");
    if full {
        let _ = writeln!(
            w,
            "| backend | at rest | requested | static tables | working memory | in use | per CST | per node | \
             × source | CSTs in 5 MB | fits 5 MB | build peak | builds in 5 MB | heap blocks | verified |"
        );
        let _ = writeln!(
            w,
            "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|:-:|--:|:-:|--:|:-:|"
        );
    } else {
        let _ = writeln!(
            w,
            "| backend | at rest | static tables | working memory | build peak | × source | fits 5 MB | verified |"
        );
        let _ = writeln!(w, "|---|--:|--:|--:|--:|--:|:-:|:-:|");
    }
    for b in &r.backends {
        let working = match &b.working_operation {
            Some(op) if full => format!("{} ({op})", bytes(b.working_bytes)),
            _ => bytes(b.working_bytes),
        };
        if full {
            let _ = writeln!(
                w,
                "| {} | {} | {} | {} | {working} | {} | {} B | {:.1} B | {:.2}x | {} | {} | {} | {} | {} | {} |",
                b.name,
                mb(b.retained_footprint as f64),
                mb(b.retained_bytes as f64),
                bytes(b.static_bytes),
                mb(b.in_use_bytes as f64),
                thousands(b.bytes_per_cst.round() as u64),
                b.bytes_per_node,
                b.overhead_x,
                thousands(b.csts_in_target),
                yes_no(b.fits_target),
                mb(b.build_peak_bytes as f64),
                yes_no(b.builds_within_target),
                thousands(b.allocations),
                verified_cell(r, b),
            );
        } else {
            let _ = writeln!(
                w,
                "| {} | {} | {} | {working} | {} | {:.2}x | {} | {} |",
                b.name,
                mb(b.retained_footprint as f64),
                bytes(b.static_bytes),
                mb(b.build_peak_bytes as f64),
                b.overhead_x,
                yes_no(b.fits_target),
                verified_cell(r, b),
            );
        }
    }
    let files = r.corpus.files.max(1) as f64;
    for t in &r.text_references {
        let _ = if full {
            writeln!(
                w,
                "| *{} (text only)* | *{}* | *{}* | | | | *{} B* | | *{:.3}x* | | | | | | |",
                t.name,
                mb(t.retained_footprint as f64),
                mb(t.retained_bytes as f64),
                thousands((t.retained_footprint as f64 / files).round() as u64),
                t.overhead_x
            )
        } else {
            writeln!(
                w,
                "| *{} (text only)* | *{}* | | | | *{:.3}x* | | |",
                t.name,
                mb(t.retained_footprint as f64),
                t.overhead_x
            )
        };
    }
    let p = &r.reference;
    let _ = if full {
        writeln!(
            w,
            "| *{}* | *{}* | | | | | *{} B* | | *{:.2}x* | *{}* | *{}* | | | | |",
            p.name,
            mb(p.retained_bytes as f64),
            thousands(p.bytes_per_cst.round() as u64),
            p.overhead_x,
            thousands(p.csts_in_target),
            yes_no(p.fits_target),
        )
    } else {
        writeln!(
            w,
            "| *{}* | *{}* | | | | *{:.2}x* | *{}* | |",
            p.name,
            mb(p.retained_bytes as f64),
            p.overhead_x,
            yes_no(p.fits_target),
        )
    };
    let _ = writeln!(
        w,
        "\n*At rest* is what glibc's allocator holds for the store's blocks once every CST is built and the \
         parsers are dropped (its 8-byte chunk headers and 16-byte rounding included; tree-sitter's C blocks as its \
         own `malloc` calls would take them). *Static tables* are the read-only tables a row reads beyond the \
         grammars' own, for this corpus's languages, measured from the tables themselves. *Working memory* is the \
         most any timed operation or query pass had live above the store while it ran (a cursor's caches, thaw \
         buffers, scratch, a query's table and states), on every thread that served it. *Fits 5 MB* judges what a process pays to use the store: at rest \
         + static tables + working memory + the parsers' footprint{}. *Build peak* is the most live while \
         building (requested bytes: parsers and transient trees included) plus the static tables, judged apart as \
         *builds in 5 MB*. Per CST, per node and × source are of what is paid at rest, static tables included. The \
         reference row is the published analysis ({}), not a measurement of ours; an RSS difference includes \
         allocator overhead, so it compares with *at rest*.\n",
        if full {
            " (the *in use* column); *requested* is the sizes asked for, and *CSTs in 5 MB* is how many CSTs of \
             this corpus's average size fit after the parsers, static tables and working memory"
        } else {
            ""
        },
        p.note
    );
    if !full {
        let _ = writeln!(
            w,
            "The *text only* rows hold each file's text compressed with zstd, no tree: what a store of tree and \
             text together is judged against. What each row holds, how it finds a node, and every column are in \
             `compare.md`.\n"
        );
        return;
    }
    if !r.text_references.is_empty() {
        let _ = writeln!(
            w,
            "The *text only* rows hold no tree: they are what a store of tree and text together is judged against \
             (× source there is of the bytes requested, with three decimals):\n"
        );
        for t in &r.text_references {
            let dictionary = if t.dictionary_bytes > 0 {
                format!(
                    " (choosing and training the {} B dictionary included)",
                    thousands(t.dictionary_bytes)
                )
            } else {
                String::new()
            };
            let _ = writeln!(
                w,
                "- *{}*: {}. Compressing every file took {:.2} s{dictionary}; decompressing every file once, {:.1} ms.",
                t.name, t.retains, t.compress_seconds, t.decompress_seconds * 1e3
            );
        }
        let _ = writeln!(w);
    }
    let _ = writeln!(
        w,
        "What each row holds, and how it finds the node at an offset:\n"
    );
    for b in &r.backends {
        let _ = writeln!(
            w,
            "- **{}**: {}. *Lookup*: {}.{}",
            b.name,
            b.retains,
            b.lookup,
            if b.static_bytes > 0 {
                format!(
                    " *Static tables*: {} ({}).",
                    b.static_tables,
                    bytes(b.static_bytes)
                )
            } else {
                String::new()
            }
        );
    }
    let _ = writeln!(
        w,
        "\nNo row counts the grammars' parse tables (static data every row's process holds alike) or the few \
         bytes of scanner state each parser allocates with libc directly, which no allocator hook sees.\n"
    );
}

fn build_section(r: &CompareReport, w: &mut String) {
    let p = &r.reference;
    let _ = writeln!(w, "## Build time\n");
    let _ = writeln!(
        w,
        "| backend | parse | freeing trees | bare walk | conversion | conversion / walk | total | lines per second | parser memory |"
    );
    let _ = writeln!(w, "|---|--:|--:|--:|--:|--:|--:|--:|--:|");
    for b in &r.backends {
        let _ = writeln!(
            w,
            "| {} | {:.3} s | {:.3} s | {:.3} s | {:.3} s | {:.2}x | {:.3} s | {} | {} |",
            b.name,
            b.parse_seconds,
            b.free_seconds,
            b.walk_seconds,
            b.convert_seconds,
            b.convert_over_walk,
            b.build_seconds,
            thousands(b.lines_per_second.round() as u64),
            mb(b.parser_bytes as f64),
        );
    }
    let _ = writeln!(
        w,
        "| *{}* | | | | | | *{:.2} s* | *{}* | *{}* |",
        p.name,
        published::BUILD_SECONDS,
        thousands(p.lines_per_second.round() as u64),
        mb(p.parser_bytes as f64)
    );
    let _ = writeln!(
        w,
        "\n*Conversion* is the backend's own work on each parsed tree (`add` and `finish`; tree-sitter's: keeping \
         it); *freeing trees* is tree-sitter freeing each tree once the backend has let go of it (the harness \
         holds a second handle through `add` and drops it after, so a backend's own drop of the tree costs a \
         reference count): part of what the parse costs every user of tree-sitter, not of the conversion, and \
         near zero for a backend that keeps the tree; *total* counts all three. The *bare walk* \
         is a `TreeCursor` walk of the same trees reading kind, field, range and missing flag, timed in the \
         same process beside the conversion (before `add` for every other file, after it for the rest, so that \
         neither always finds the tree warm in the cache) and not counted in the total. It is the plain walk \
         (first child, else next sibling, else up); every converter here asks tree-sitter for less, never \
         for a first child of a node whose child count is 0 nor for a sibling after the last child its \
         parent's count promised, so its own walk takes less time than the bare walk. *Parser memory* is what the parsers held after \
         parsing the whole corpus (the peak includes it).\n"
    );
}

fn operations_section(r: &CompareReport, w: &mut String) {
    let groups = r.operation_groups();
    if groups.is_empty() {
        return;
    }
    let names: Vec<&str> = r
        .backends
        .iter()
        .map(|b| b.name.as_str())
        .filter(|name| r.operations.iter().any(|o| o.backend == *name))
        .collect();
    let offsets = r
        .operations
        .iter()
        .find(|o| o.operation == Operation::NodeAtOffset)
        .map_or(0, |o| o.items);
    let most_runs = r
        .operations
        .iter()
        .map(|o| o.repetitions)
        .max()
        .unwrap_or(0);
    let paired = r.operations.iter().any(|o| o.beside.is_some());
    let uncounted = r
        .operations
        .iter()
        .any(|o| o.counted_seconds > 0.0 && o.counted_seconds != o.median_seconds);
    let _ = writeln!(w, "## Operations\n");
    let _ = writeln!(
        w,
        "Time per item, and in brackets the ratio to tree-sitter (below 1 is faster){}. Each operation runs over the \
         whole corpus through the same generic code on every backend. The full preorder walk lists every node with \
         its depth through the store's `fold_preorder`, which walks its cursor unless the backend has a faster way \
         to list its nodes in order (the arena decodes its records in stream order, syntree runs its own \
         `walk().with_depths()`); the named-node histogram and identifier texts walk each backend's cursor. Times are \
         medians of up to {most_runs} complete runs{}, fewer where the time budget per operation ran out (the JSON gives each \
         count). The node-at-offset operations use {} offsets from a fixed-seed generator.\n",
        if paired {
            " with its spread: the lowest and highest turn's ratio"
        } else {
            ""
        },
        if uncounted {
            " with the counting allocator switched off (fair to every row: see *what counting costs* below)"
        } else {
            ""
        },
        thousands(offsets)
    );
    if paired {
        let _ = writeln!(
            w,
            "Every ratio is a same-process pair: in each backend's own process the operation is timed in turns with \
             tree-sitter answering it on its own trees of the same files (parsed again there: every file, or every \
             n-th so that about {} of text are covered, with offsets sampled over those files), each side of a \
             turn repeated as often as it takes the slower side to run for about {:.0} ms (and the faster for \
             {:.1} ms) in the process's own CPU time (waiting for a core counts for neither side), the side that goes \
             first alternating, while no other process of the run times its pairs (each holds the run's timing lock \
             for them; the others go on building and verifying); the ratio is \
             the median over the turns of the backend's time over tree-sitter's, and a pair counts only when the \
             two answers agree. tree-sitter's own row is tree-sitter beside itself: how far apart two runs of one \
             operation fall.\n",
            mb(BESIDE_TREE_SITTER_BYTES as f64),
            crate::measurement::PAIR_SIDE_SECONDS * 1e3,
            crate::measurement::PAIR_FAST_SIDE_SECONDS * 1e3
        );
    }
    let _ = writeln!(w, "| operation | {} | answers agree |", names.join(" | "));
    let _ = writeln!(w, "|---|{}:-:|", "--:|".repeat(names.len()));
    for (op, rows) in &groups {
        let cells: Vec<String> = names
            .iter()
            .map(|name| {
                r.timing(*op, name).map_or("—".into(), |o| {
                    let ratio = match &o.beside {
                        Some(pair) => format!(
                            " ({:.2}x, {:.2}–{:.2})",
                            pair.ratio, pair.ratio_low, pair.ratio_high
                        ),
                        None => o
                            .ratio_to_tree_sitter
                            .filter(|_| o.backend != BASELINE_BACKEND)
                            .map_or(String::new(), |x| format!(" ({x:.2}x)")),
                    };
                    format!("{}{ratio}", per_item(o.ns_per_item))
                })
            })
            .collect();
        let agree = if !op.compared() {
            "not compared"
        } else {
            yes_no(rows.iter().all(|o| o.answers_match))
        };
        let _ = writeln!(
            w,
            "| {} (per {}) | {} | {} |",
            op.name(),
            op.item(),
            cells.join(" | "),
            agree
        );
    }
    let opens: Vec<String> = r
        .operations
        .iter()
        .filter(|o| o.operation == Operation::Open)
        .map(|o| {
            format!(
                "{} {:.3}x",
                o.backend,
                ratio(o.median_seconds, r.parse_seconds)
            )
        })
        .collect();
    if !opens.is_empty() && r.parse_seconds > 0.0 {
        let _ = writeln!(
            w,
            "\n*Open every file* puts a cursor on each file's root; for a store that keeps files frozen it thaws \
             each. Against tree-sitter parsing every file in this run ({:.3} s): {}.",
            r.parse_seconds,
            opens.join(", ")
        );
    }
    if r.operations
        .iter()
        .any(|o| o.operation == Operation::NativeNodeAtOffset)
    {
        let _ = writeln!(
            w,
            "\n*Node at offset* finds the deepest visible node by tree-sitter's `descendant_for_byte_range` rule, \
             through each backend's own lookup (listed with what each row holds). The *native lookup* row is a \
             library's own call where it has one (tree-sitter's `descendant_for_byte_range`, which also steps into \
             hidden zero-width tokens and can then answer with their parent), so its answers are not compared; \
             its pair is with tree-sitter's own native lookup."
        );
    }
    working_memory_section(r, &groups, &names, w);
    walk_beside_section(r, w);
    counter_cost_section(r, w);
    let _ = writeln!(w);
}

/// Each operation's working memory on each backend.
fn working_memory_section(
    r: &CompareReport,
    groups: &[(Operation, Vec<&OperationRow>)],
    names: &[&str],
    w: &mut String,
) {
    let _ = writeln!(
        w,
        "\n*Working memory*: the highest rise of the whole process's live bytes (requested sizes, on every \
         thread) above the store while one run of the operation went on, over its counted runs: every \
         allocation the operation causes, freed or not by its end (cursors' stacks and caches, thaw buffers, \
         the histogram's counts). A process using the store pays it on top of the store.\n"
    );
    let _ = writeln!(w, "| operation | {} |", names.join(" | "));
    let _ = writeln!(w, "|---|{}", "--:|".repeat(names.len()));
    for (op, _) in groups {
        let cells: Vec<String> = names
            .iter()
            .map(|name| {
                r.timing(*op, name).map_or("—".into(), |o| {
                    format!("{} B", thousands(o.working_bytes))
                })
            })
            .collect();
        let _ = writeln!(w, "| {} | {} |", op.name(), cells.join(" | "));
    }
}

/// Each backend's walk against tree-sitter's two walks, timed in turns in the backend's own process.
fn walk_beside_section(r: &CompareReport, w: &mut String) {
    let rows: Vec<(&str, &WalkBesideTreeSitter)> = r
        .backends
        .iter()
        .filter_map(|b| Some((b.name.as_str(), b.walk_beside_tree_sitter.as_ref()?)))
        .collect();
    if rows.is_empty() {
        return;
    }
    let _ = writeln!(
        w,
        "\n*Walking beside tree-sitter*: each backend's full walk timed in its own process in turns with two \
         walks by tree-sitter of the same files (parsed again there: every file, or every n-th so that about {} \
         of text are walked), the walk that goes first rotating, in the process's CPU time, one process of the \
         run at a time (as the pairs above): its plain `TreeCursor` walk (first child, else \
         next sibling, else up) and its counted cursor, its fastest walk through its public API (it never asks \
         for a first child of a childless node nor for a sibling after the last one its parent's child count \
         promises). *Times as fast* is the median over the turns of tree-sitter's time over the backend's, \
         against each walk; the headline ratios (the verdict's) are against the faster of the two. *Answers \
         agree* says all three walks read the same kinds, fields, ranges and missing flags. tree-sitter's own \
         row is its walk beside itself.\n",
        mb(BESIDE_TREE_SITTER_BYTES as f64)
    );
    let _ = writeln!(
        w,
        "| backend | files | nodes | walk (per node) | tree-sitter's cursor (per node) | counted cursor (per node) \
         | times as fast as the cursor | times as fast as the counted cursor | turns | answers agree |"
    );
    let _ = writeln!(w, "|---|--:|--:|--:|--:|--:|--:|--:|--:|:-:|");
    for (name, beside) in rows {
        let nodes = beside.nodes.max(1) as f64;
        let counted = if beside.counted_cursor_seconds > 0.0 {
            (
                per_item(beside.counted_cursor_seconds * 1e9 / nodes),
                format!("{:.1}x", beside.times_as_fast_counted_cursor),
            )
        } else {
            ("—".into(), "—".into())
        };
        let _ = writeln!(
            w,
            "| {name} | {} | {} | {} | {} | {} | {:.1}x | {} | {} | {} |",
            thousands(beside.files),
            thousands(beside.nodes),
            per_item(beside.backend_seconds * 1e9 / nodes),
            per_item(beside.tree_sitter_seconds * 1e9 / nodes),
            counted.0,
            beside.times_as_fast,
            counted.1,
            beside.turns,
            yes_no(beside.answers_agree)
        );
    }
}

/// A query row's files, and those left out for their size.
fn files_cell(q: &crate::measurement::QueryTiming) -> String {
    if q.left_out == 0 {
        thousands(q.files)
    } else {
        format!(
            "{} ({} left out)",
            thousands(q.files),
            thousands(q.left_out)
        )
    }
}

/// The shipped query files on every row: answers against `QueryCursor`, time beside it, working memory.
fn queries_section(r: &CompareReport, w: &mut String) {
    if r.backends.iter().all(|b| b.queries.is_empty()) {
        return;
    }
    let _ = writeln!(
        w,
        "## Queries
"
    );
    let _ = writeln!(
        w,
        "The query files the grammar crates ship (TypeScript's and TSX's combined with tree-sitter-javascript's \
         as tree-sitter-typescript's `tree-sitter.json` lists them), run by `cst-query` on each backend's store \
         (one preorder walk of the file into a table, reading the query statuses the store keeps, then the \
         matcher). On every file of the language the answers are compared with tree-sitter's `QueryCursor` on \
         its own tree (`matches` as a multiset of pattern and captured nodes by preorder index, `captures` as a \
         sequence); a mismatch fails the row. `matches` is then timed on an even spread of the files (*timed \
         files*) in turns with `QueryCursor::matches` on tree-sitter's own trees of them in the same process, \
         the side that goes first rotating, in CPU time: *ratio* is the median over the turns of the backend's \
         time over `QueryCursor`'s (below 1 is faster), with its lowest and highest. *Matches* are \
         `QueryCursor`'s over every file. *Working memory* is the most live above the store during `matches` \
         over every file (the table and the matcher's states); the memory table's working memory is the largest \
         of these and the operations'.\n"
    );
    let _ = writeln!(
        w,
        "| backend | language | query | files | nodes | matches | timed files | per node | per file | ratio to QueryCursor | spread | working memory | answers agree |"
    );
    let _ = writeln!(w, "|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|:-:|");
    for b in &r.backends {
        for q in &b.queries {
            if !q.answered {
                let _ = writeln!(
                    w,
                    "| {} | {} | {} | {} | — | — | — | — | — | — | — | — | not answered (no query statuses) |",
                    b.name, q.language, q.query, thousands(q.files)
                );
                continue;
            }
            let (per_node, per_file, ratio, spread) = match &q.beside {
                Some(p) => (
                    per_item(p.backend_seconds * 1e9 / q.timed_nodes.max(1) as f64),
                    format!(
                        "{:.1} µs",
                        p.backend_seconds * 1e6 / q.timed_files.max(1) as f64
                    ),
                    format!("{:.2}x", p.ratio),
                    format!("{:.2}–{:.2}x", p.ratio_low, p.ratio_high),
                ),
                None => ("—".into(), "—".into(), "—".into(), "—".into()),
            };
            let _ = writeln!(
                w,
                "| {} | {} | {} | {} | {} | {} | {} | {per_node} | {per_file} | {ratio} | {spread} | {} | {} |",
                b.name,
                q.language,
                q.query,
                files_cell(q),
                thousands(q.nodes),
                thousands(q.matches),
                thousands(q.timed_files),
                bytes(q.working_bytes),
                yes_no(q.answers_agree && q.beside.as_ref().is_none_or(|p| p.answers_agree))
            );
        }
    }
    let mismatches: Vec<String> = r
        .backends
        .iter()
        .flat_map(|b| {
            b.queries
                .iter()
                .filter_map(move |q| Some(format!("- {}: {}", b.name, q.mismatch.as_ref()?)))
        })
        .collect();
    if !mismatches.is_empty() {
        let _ = writeln!(
            w,
            "\nFirst mismatch per row and query:\n\n{}",
            mismatches.join("\n")
        );
    }
    let _ = writeln!(w);
}

/// Counted against uncounted times, per phase and row.
fn counter_cost_section(r: &CompareReport, w: &mut String) {
    let rows: Vec<&BackendRow> = r
        .backends
        .iter()
        .filter(|b| b.uncounted.is_some() || b.uncounted_edits.is_some())
        .collect();
    if rows.is_empty() {
        return;
    }
    let cell = |counted: f64, uncounted: f64, unit: fn(f64) -> String| {
        if uncounted > 0.0 {
            format!(
                "{} / {} ({:.2}x)",
                unit(counted),
                unit(uncounted),
                counted / uncounted
            )
        } else {
            "—".into()
        }
    };
    let seconds = |s: f64| {
        if s >= 1.0 {
            format!("{s:.2} s")
        } else if s >= 1e-3 {
            format!("{:.1} ms", s * 1e3)
        } else {
            per_item(s * 1e9)
        }
    };
    let _ = writeln!(
        w,
        "\n*What counting costs*: every figure of memory is counted by the counting allocator (per allocation: \
         thread-local counters and two `malloc_usable_size` calls). Each phase is timed again in the same process \
         with counting switched off for this thread (a runtime switch: its allocations go straight to the system \
         allocator; the memory limit's one atomic add per allocation and the 16-byte size header of tree-sitter's \
         C blocks stay, so that any block can be freed on either side of the switch), in a phase that frees \
         everything it allocates, beside the same phase counted: the files timed beside tree-sitter (every file, \
         or every n-th up to about {} of text) parsed and converted again after the store is dropped, once each way \
         in turns and up to {} times while within the operations' time budget, the fastest of each kept (both on the \
         same warm heap, which the first, measured build did not find); every operation (the sum of their medians) on the \
         store; every edit of a spread of up to {} edited files replayed in a fresh store of them, without \
         verification, once each way. Cells are counted / uncounted (counted over uncounted). The operations' \
         times, ratios and the walks above are uncounted, fair to every row; the build-time table's and the \
         editing table's are counted, and their slowdown is given here.\n",
        mb(BESIDE_TREE_SITTER_BYTES as f64),
        crate::measurement::COUNTER_COST_BUILDS,
        crate::measurement::UNCOUNTED_EDIT_FILES
    );
    let _ = writeln!(
        w,
        "| backend | parse | conversion | operations (sum of medians) | reparse (per edit) | update (per edit) |"
    );
    let _ = writeln!(w, "|---|--:|--:|--:|--:|--:|");
    for b in rows {
        let (parse, convert) = b.uncounted.as_ref().map_or(("—".into(), "—".into()), |u| {
            (
                cell(u.counted_parse_seconds, u.parse_seconds, seconds),
                cell(u.counted_convert_seconds, u.convert_seconds, seconds),
            )
        });
        let timed: Vec<&OperationRow> = r
            .operations
            .iter()
            .filter(|o| o.backend == b.name && o.counted_seconds > 0.0)
            .collect();
        let operations = cell(
            timed.iter().map(|o| o.counted_seconds).sum(),
            timed.iter().map(|o| o.median_seconds).sum(),
            seconds,
        );
        let (reparse, update) =
            b.uncounted_edits
                .as_ref()
                .map_or(("—".into(), "—".into()), |e| {
                    (
                        cell(
                            e.reparse_counted_median_seconds,
                            e.reparse_median_seconds,
                            seconds,
                        ),
                        cell(
                            e.update_counted_median_seconds,
                            e.update_median_seconds,
                            seconds,
                        ),
                    )
                });
        let _ = writeln!(
            w,
            "| {} | {parse} | {convert} | {operations} | {reparse} | {update} |",
            b.name
        );
    }
}

fn edits_section(r: &CompareReport, w: &mut String) {
    let Some(first) = r.edits.first() else {
        return;
    };
    let common = r
        .edits
        .iter()
        .find(|e| e.backend == BASELINE_BACKEND)
        .unwrap_or(first);
    let _ = writeln!(w, "## Editing\n");
    let fewer = if first.files_with_fewer_edits == 0 {
        String::new()
    } else {
        format!(
            ", fewer in files of more than {} nodes, hidden ones included ({} of them), so that no session \
             rebuilds and verifies more than {} nodes (its file's nodes times its edits)",
            thousands(first.max_session_nodes / first.edits_per_file.max(1)),
            thousands(first.files_with_fewer_edits),
            thousands(first.max_session_nodes),
        )
    };
    let _ = writeln!(
        w,
        "{} edits over {} files ({} left out for their size; {} per file{fewer}), each applied as an editor does: \
         `Tree::edit`, an incremental reparse from the old tree and `changed_ranges` (the part every backend \
         shares: median {}, p99 {}, measured in {}'s run), then the backend's *update* of the file's CST. Every \
         version is verified like a whole file, and the last {} versions of every file are kept alive, then restored and verified \
         again. A *full rebuild* builds the same version from its tree in a fresh store (after every fourth edit).\n",
        thousands(first.edits),
        thousands(first.files),
        thousands(first.files_left_out),
        first.edits_per_file,
        per_item(common.reparse_median_seconds * 1e9),
        per_item(common.reparse_p99_seconds * 1e9),
        common.backend,
        first.versions_kept,
    );
    let _ = writeln!(
        w,
        "| backend | update, median | update, p99 | vs reparse | full rebuild | one version of a file | each extra \
         version | extra / one | versions verified |"
    );
    let _ = writeln!(w, "|---|--:|--:|--:|--:|--:|--:|--:|:-:|");
    for e in &r.edits {
        let _ = writeln!(
            w,
            "| {} | {} | {} | {:.2}x | {} | {} B | {} B | {:.2} | {} |",
            e.backend,
            per_item(e.update_median_seconds * 1e9),
            per_item(e.update_p99_seconds * 1e9),
            e.update_over_reparse,
            per_item(e.rebuild_median_seconds * 1e9),
            thousands(e.bytes_per_file_version.round() as u64),
            thousands(e.bytes_per_extra_version.round() as u64),
            e.extra_version_over_file,
            if e.failed == 0 {
                thousands(e.versions_verified)
            } else {
                format!("**FAILED** ({} files)", thousands(e.failed))
            },
        );
    }
    let _ = writeln!(
        w,
        "\nBytes are requested bytes, measured by freeing: dropping the kept versions frees what they hold on their \
         own (*each extra version* is that over the versions kept), then dropping the store frees one version of \
         every file. What each row's update does:\n"
    );
    for e in &r.edits {
        let _ = writeln!(w, "- **{}**: {}.", e.backend, e.update);
    }
    let _ = writeln!(w);
}

fn scaling_section(r: &CompareReport, w: &mut String) {
    if r.backends.iter().any(|b| b.scaling.len() > 1) {
        let _ = writeln!(w, "## Scaling\n");
        let _ = writeln!(
            w,
            "Memory paid (footprint) and build time for evenly spread slices of the corpus.\n"
        );
        let _ = writeln!(
            w,
            "| backend | files | lines | paid | per CST | requested | build time |"
        );
        let _ = writeln!(w, "|---|--:|--:|--:|--:|--:|--:|");
        for b in &r.backends {
            for s in &b.scaling {
                let _ = writeln!(
                    w,
                    "| {} | {} | {} | {} | {} B | {} | {:.3} s |",
                    b.name,
                    thousands(s.files),
                    thousands(s.lines),
                    mb(s.retained_footprint as f64),
                    thousands(ratio(s.retained_footprint as f64, s.files as f64).round() as u64),
                    mb(s.retained_bytes as f64),
                    s.build_seconds
                );
            }
        }
        let _ = writeln!(w);
    }
}

fn verification_section(r: &CompareReport, w: &mut String) {
    let c = &r.corpus;
    let _ = writeln!(w, "## Verification\n");
    if r.all_verified {
        let _ = writeln!(
            w,
            "Every backend reproduced all {} files: the text byte for byte, and every visible node's kind, field, \
             byte range, MISSING flag and text, reached by the same moves as on tree-sitter's tree, and the same \
             nodes at the same depths in its preorder listing; and found the node at offsets spread over each \
             file as tree-sitter's rule does, with the same ancestors.",
            thousands(c.files)
        );
    } else {
        for e in r.edits.iter().filter(|e| e.failed > 0) {
            let _ = writeln!(
                w,
                "**{}** failed editing {} files:\n",
                e.backend,
                thousands(e.failed)
            );
            for f in &e.failures {
                let _ = writeln!(w, "- `{}`: {}", f.path, f.error);
            }
            let _ = writeln!(w);
        }
        for b in r.backends.iter().filter(|b| !b.verified) {
            let _ = writeln!(
                w,
                "**{}** failed on {} files:\n",
                b.name,
                thousands(b.failed_files)
            );
            for f in &b.failures {
                let _ = writeln!(w, "- `{}`: {}", f.path, f.error);
            }
            let _ = writeln!(w);
        }
    }
    for crash in &r.crashed {
        let _ = writeln!(w, "\n**{}** was not measured: {}", crash.name, crash.error);
    }
    if !c.skipped.is_empty() {
        let _ = writeln!(w, "\n## Skipped files\n");
        let _ = writeln!(w, "| path | reason |");
        let _ = writeln!(w, "|---|---|");
        for s in c.skipped.iter().take(LISTED_SKIPS) {
            let _ = writeln!(w, "| `{}` | {} |", s.path, s.reason);
        }
        if c.skipped.len() > LISTED_SKIPS {
            let _ = writeln!(
                w,
                "\n…and {} more, listed in compare.json.",
                c.skipped.len() - LISTED_SKIPS
            );
        }
    }
}

#[cfg(test)]
mod share_of_files_tests {
    #[test]
    fn shares_read_as_percentages() {
        use super::share_of_files;
        assert_eq!(share_of_files(0, 0), "0%");
        assert_eq!(share_of_files(0, 464), "0%");
        assert_eq!(share_of_files(4, 464), "0.9%");
        assert_eq!(share_of_files(185, 401), "46.1%");
        assert_eq!(share_of_files(1, 10_000), "under 0.1%");
        assert_eq!(share_of_files(3, 3), "100.0%");
    }
}
