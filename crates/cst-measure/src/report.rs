//! Turns raw measurements into the published figures: derived metrics, the reference row from the published
//! analysis, the JSON document and the Markdown tables of `results/compare.md`.

use crate::corpus::{Corpus, LanguageTotals, Skipped};
use crate::harness::{BackendMeasurement, FileFailure, ScalingPoint};
use crate::ops::{Operation, OPERATIONS};
use serde::Serialize;
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
    /// What `retained_bytes` includes.
    pub retains: String,
    pub includes_source: bool,
    pub retained_bytes: u64,
    /// Heap blocks the retained bytes occupy.
    pub allocations: u64,
    pub allocations_during_build: u64,
    pub peak_bytes: u64,
    pub parser_bytes: u64,
    pub nodes: u64,
    pub bytes_per_cst: f64,
    pub bytes_per_node: f64,
    pub bytes_per_line: f64,
    pub overhead_x: f64,
    pub lines_per_mb: f64,
    /// CSTs of this corpus's average size that fit in the target after the parsers' own memory.
    pub csts_in_target: u64,
    /// Whether the whole corpus's CSTs plus the parsers fit in the target.
    pub fits_target: bool,
    pub build_seconds: f64,
    pub parse_seconds: f64,
    pub convert_seconds: f64,
    pub lines_per_second: f64,
    pub verified: bool,
    pub files_verified: u64,
    pub failed_files: u64,
    pub failures: Vec<FileFailure>,
    pub scaling: Vec<ScalingPoint>,
}

fn ratio(a: f64, b: f64) -> f64 {
    if b == 0.0 {
        0.0
    } else {
        a / b
    }
}

impl BackendRow {
    pub fn from_measurement(m: &BackendMeasurement) -> BackendRow {
        let retained = m.retained_bytes as f64;
        let bytes_per_cst = ratio(retained, m.files as f64);
        let build_seconds = m.parse_seconds + m.convert_seconds;
        let room = TARGET_BYTES.saturating_sub(m.parser_bytes) as f64;
        BackendRow {
            name: m.name.clone(),
            retains: m.retains.clone(),
            includes_source: m.includes_source,
            retained_bytes: m.retained_bytes,
            allocations: m.retained_blocks,
            allocations_during_build: m.allocations_during_build,
            peak_bytes: m.peak_bytes,
            parser_bytes: m.parser_bytes,
            nodes: m.nodes,
            bytes_per_cst,
            bytes_per_node: ratio(retained, m.nodes as f64),
            bytes_per_line: ratio(retained, m.lines as f64),
            overhead_x: ratio(retained, m.source_bytes as f64),
            lines_per_mb: ratio(m.lines as f64, retained / MB_BYTES as f64),
            csts_in_target: if bytes_per_cst > 0.0 {
                (room / bytes_per_cst) as u64
            } else {
                0
            },
            fits_target: m.retained_bytes + m.parser_bytes <= TARGET_BYTES,
            build_seconds,
            parse_seconds: m.parse_seconds,
            convert_seconds: m.convert_seconds,
            lines_per_second: ratio(m.lines as f64, build_seconds),
            verified: m.failed_files == 0 && m.files_verified == m.files,
            files_verified: m.files_verified,
            failed_files: m.failed_files,
            failures: m.failures.clone(),
            scaling: m.scaling.clone(),
        }
    }
}

/// The reference row, derived from the published figures the same way as ours.
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

/// One operation timed on one backend.
#[derive(Clone, Debug, Serialize)]
pub struct OperationRow {
    pub operation: Operation,
    pub backend: String,
    pub median_seconds: f64,
    pub items: u64,
    pub ns_per_item: f64,
    /// This backend's time over tree-sitter's (below 1 is faster).
    pub ratio_to_tree_sitter: Option<f64>,
    pub answer: String,
    /// Whether every backend gave the same answer for this operation.
    pub answers_match: bool,
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
    pub operations: Vec<OperationRow>,
    /// Every backend reproduced every file, and every operation's answers agree.
    pub all_verified: bool,
    pub answers_match: bool,
}

impl CompareReport {
    pub fn new(
        corpus: &Corpus,
        per_file: bool,
        measurements: &[BackendMeasurement],
    ) -> CompareReport {
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
                    items: t.items,
                    ns_per_item: ratio(t.median_seconds * 1e9, t.items as f64),
                    ratio_to_tree_sitter: baseline.map(|b| ratio(t.median_seconds, b)),
                    answer: t.answer.clone(),
                    answers_match,
                });
            }
        }
        CompareReport {
            generated_by: "cargo xtask compare".into(),
            mode: if per_file { "per-file" } else { "whole-corpus" }.into(),
            corpus: CorpusSummary::new(corpus, parse_errors),
            mb_bytes: MB_BYTES,
            target_bytes: TARGET_BYTES,
            reference: ReferenceRow::published(),
            all_verified: backends.iter().all(|b| b.verified),
            answers_match: operations.iter().all(|o| o.answers_match),
            backends,
            operations,
        }
    }

    /// The JSON document.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("report fields are plain data") + "\n"
    }
}

/// `1234567` as `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(d);
    }
    out
}

fn mb(bytes: f64) -> String {
    format!("{:.2} MB", bytes / MB_BYTES as f64)
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
    corpus_section(r, w);
    memory_section(r, w);
    build_section(r, w);
    operations_section(r, w);
    scaling_section(r, w);
    verification_section(r, w);
    md
}

/// The part of the results the README shows (corpus, memory and operations), its headings one level down.
pub fn render_summary(r: &CompareReport) -> String {
    let mut md = String::new();
    corpus_section(r, &mut md);
    memory_section(r, &mut md);
    operations_section(r, &mut md);
    md.replace("\n## ", "\n### ")
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
        "Corpus **{}**: {} files ({}), {} lines, {} source bytes; {} with parse errors (measured like the rest); \
         {} skipped. Mode: **{}. MB = 1,000,000 bytes. Target: {} for the whole corpus's CSTs plus the parsers.\n",
        c.name,
        thousands(c.files),
        languages.join(", "),
        thousands(c.lines),
        thousands(c.source_bytes),
        thousands(c.parse_errors),
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

fn memory_section(r: &CompareReport, w: &mut String) {
    let c = &r.corpus;
    let _ = writeln!(w, "## Memory\n");
    let _ = writeln!(
        w,
        "| backend | retained | per CST | per node | per line | × source | lines per MB | CSTs in 5 MB | corpus fits 5 MB | peak while building | heap blocks | verified |"
    );
    let _ = writeln!(w, "|---|--:|--:|--:|--:|--:|--:|--:|:-:|--:|--:|:-:|");
    for b in &r.backends {
        let _ = writeln!(
            w,
            "| {} | {} | {} B | {:.1} B | {:.1} B | {:.2}x | {} | {} | {} | {} | {} | {} |",
            b.name,
            mb(b.retained_bytes as f64),
            thousands(b.bytes_per_cst.round() as u64),
            b.bytes_per_node,
            b.bytes_per_line,
            b.overhead_x,
            thousands(b.lines_per_mb.round() as u64),
            thousands(b.csts_in_target),
            yes_no(b.fits_target),
            mb(b.peak_bytes as f64),
            thousands(b.allocations),
            if b.verified {
                format!(
                    "{}/{} files",
                    thousands(b.files_verified),
                    thousands(c.files)
                )
            } else {
                format!("**FAILED** ({} files)", thousands(b.failed_files))
            },
        );
    }
    let p = &r.reference;
    let _ = writeln!(
        w,
        "| *{}* | *{}* | *{} B* | | *{:.1} B* | *{:.2}x* | *{}* | *{}* | *{}* | | | |",
        p.name,
        mb(p.retained_bytes as f64),
        thousands(p.bytes_per_cst.round() as u64),
        p.bytes_per_line,
        p.overhead_x,
        thousands(p.lines_per_mb.round() as u64),
        thousands(p.csts_in_target),
        yes_no(p.fits_target),
    );
    let _ = writeln!(
        w,
        "\n*Retained* is what the allocator still counts once every CST is built and the parsers are dropped \
         (tree-sitter's C allocations included); *CSTs in 5 MB* is how many CSTs of this corpus's average size fit \
         in the target after the parsers' own memory. The reference row is the published analysis ({}), not a \
         measurement of ours.\n",
        p.note
    );
    let _ = writeln!(w, "What each row retains:\n");
    for b in &r.backends {
        let _ = writeln!(w, "- **{}**: {}", b.name, b.retains);
    }
    let _ = writeln!(w);
}

fn build_section(r: &CompareReport, w: &mut String) {
    let p = &r.reference;
    let _ = writeln!(w, "## Build time\n");
    let _ = writeln!(
        w,
        "| backend | parse | conversion | total | lines per second | parser memory |"
    );
    let _ = writeln!(w, "|---|--:|--:|--:|--:|--:|");
    for b in &r.backends {
        let _ = writeln!(
            w,
            "| {} | {:.3} s | {:.3} s | {:.3} s | {} | {} |",
            b.name,
            b.parse_seconds,
            b.convert_seconds,
            b.build_seconds,
            thousands(b.lines_per_second.round() as u64),
            mb(b.parser_bytes as f64),
        );
    }
    let _ = writeln!(
        w,
        "| *{}* | | | *{:.2} s* | *{}* | *{}* |",
        p.name,
        published::BUILD_SECONDS,
        thousands(p.lines_per_second.round() as u64),
        mb(p.parser_bytes as f64)
    );
    let _ = writeln!(
        w,
        "\n*Parser memory* is what the parsers held after parsing the whole corpus (the peak includes it).\n"
    );
}

fn operations_section(r: &CompareReport, w: &mut String) {
    if !r.operations.is_empty() {
        let _ = writeln!(w, "## Operations\n");
        let _ = writeln!(
            w,
            "Each operation runs over the whole corpus through the same generic code on every backend; times are \
             medians of repeated runs. The node-at-offset operations use {} offsets from a fixed-seed generator.\n",
            thousands(
                r.operations
                    .iter()
                    .find(|o| o.operation == Operation::NodeAtOffset)
                    .map_or(0, |o| o.items)
            )
        );
        let _ = writeln!(
            w,
            "| operation | backend | time | per item | vs tree-sitter | answers match |"
        );
        let _ = writeln!(w, "|---|---|--:|--:|--:|:-:|");
        for o in &r.operations {
            let _ = writeln!(
                w,
                "| {} | {} | {:.3} ms | {:.1} ns/{} | {} | {} |",
                o.operation.name(),
                o.backend,
                o.median_seconds * 1e3,
                o.ns_per_item,
                o.operation.item(),
                o.ratio_to_tree_sitter
                    .map_or("—".into(), |x| format!("{x:.2}x")),
                if o.operation.compared() {
                    yes_no(o.answers_match)
                } else {
                    "not compared"
                },
            );
        }
        let native = r
            .operations
            .iter()
            .find(|o| o.operation == Operation::NativeNodeAtOffset);
        if let Some(native) = native {
            let relative: Vec<String> = r
                .operations
                .iter()
                .filter(|o| o.operation == Operation::NodeAtOffset)
                .map(|o| {
                    format!(
                        "{} {:.2}x",
                        o.backend,
                        ratio(o.median_seconds, native.median_seconds)
                    )
                })
                .collect();
            let _ = writeln!(
                w,
                "\n*Node at offset* follows tree-sitter's `descendant_for_byte_range` rule over the visible nodes, \
                 through each backend's cursor (tree-sitter's: `TreeCursor`). The *native lookup* row is \
                 {}'s own `descendant_for_byte_range`, which also steps into hidden zero-width tokens and can then \
                 answer with their parent, so its answers are not compared. Node at offset relative to that \
                 native lookup: {}.",
                native.backend,
                relative.join(", ")
            );
        }
        let _ = writeln!(w);
    }
}

fn scaling_section(r: &CompareReport, w: &mut String) {
    if r.backends.iter().any(|b| b.scaling.len() > 1) {
        let _ = writeln!(w, "## Scaling\n");
        let _ = writeln!(
            w,
            "Retained memory and build time for evenly spread slices of the corpus.\n"
        );
        let _ = writeln!(
            w,
            "| backend | files | lines | retained | per CST | build time |"
        );
        let _ = writeln!(w, "|---|--:|--:|--:|--:|--:|");
        for b in &r.backends {
            for s in &b.scaling {
                let _ = writeln!(
                    w,
                    "| {} | {} | {} | {} | {} B | {:.3} s |",
                    b.name,
                    thousands(s.files),
                    thousands(s.lines),
                    mb(s.retained_bytes as f64),
                    thousands(ratio(s.retained_bytes as f64, s.files as f64).round() as u64),
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
            "Every backend reproduced all {} files byte for byte and tree-sitter's preorder node sequence (kind, \
             start, end, missing flag).",
            thousands(c.files)
        );
    } else {
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
