//! What a measurement is: the figures a measuring process gathers for one backend ([`BackendMeasurement`],
//! its operations, scaling slices, edit sessions and failures), the progress a measurement reports, and the two
//! small statistics every table shares ([`ratio`], [`median_and_p99`]).
//!
//! The harness and the edit sessions fill these; the report reads them and nothing else of the harness, so the
//! modules depend on this one and not on each other (measurement ← harness, session, references, report).
//! Everything here is plain data, serialised as JSON between a measuring child and the compare run.

use crate::ops::Operation;
use serde::{Deserialize, Serialize};

/// Receives progress. Implementations must not allocate while a build is being measured, so the harness only
/// reports between measured regions or with plain integers (see `xtask`'s line protocol).
pub trait Progress {
    fn phase(&mut self, name: &str, total: u64);
    fn advance(&mut self, done: u64);
}

/// Ignores progress.
pub struct NoProgress;

impl Progress for NoProgress {
    fn phase(&mut self, _: &str, _: u64) {}
    fn advance(&mut self, _: u64) {}
}

/// A file a backend could not hold or reproduce.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct FileFailure {
    pub path: String,
    pub error: String,
}

/// Memory and time of one slice of the corpus.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ScalingPoint {
    pub files: u64,
    pub lines: u64,
    pub source_bytes: u64,
    pub retained_bytes: u64,
    pub retained_footprint: u64,
    pub build_seconds: f64,
}

/// One operation's timing and answer.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct OperationTiming {
    pub operation: Operation,
    /// Median over the repetitions: timed with counting off when the uncounted timing ran (whole-corpus
    /// mode), with it on otherwise.
    pub median_seconds: f64,
    /// Median over the repetitions with the counting allocator counting (the run working memory is read
    /// from); 0 when not timed.
    #[serde(default)]
    pub counted_seconds: f64,
    /// Complete runs the median is taken over (fewer than asked when the time budget ran out).
    pub repetitions: u64,
    /// Nodes or offsets covered by one run.
    pub items: u64,
    /// Digest of the answer, hex; equal across backends when they agree.
    pub answer: String,
    /// Working memory: the highest bytes live above the store while the operation ran (over its runs),
    /// counted on every thread that served it (a cursor's caches, thaw buffers, scratch), freed or not.
    #[serde(default)]
    pub working_bytes: u64,
    /// The operation timed in the same process in alternating turns with tree-sitter answering it on its own
    /// trees of the same files: the pair every ratio to tree-sitter is read from.
    #[serde(default)]
    pub beside: Option<PairedTiming>,
}

/// One query file's `matches` over every file of its language in a store, beside tree-sitter's `QueryCursor`
/// on its own trees of the same files.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct QueryTiming {
    /// The language's name and the query file's ("highlights", "tags", ...).
    pub language: String,
    pub query: String,
    /// Files of the language, and their visible nodes, whose answers were compared.
    pub files: u64,
    pub nodes: u64,
    /// Files of the language left out for their size (`cst_query::ops::QUERY_FILE_NODES`).
    #[serde(default)]
    pub left_out: u64,
    /// Matches and captures `QueryCursor` gives over those files.
    pub matches: u64,
    pub captures: u64,
    /// The files timed (every file, or an even spread of them), and their nodes.
    pub timed_files: u64,
    pub timed_nodes: u64,
    /// Working memory of `matches` over every file: the highest bytes live above the store (the query
    /// table, the matcher's states and answers), freed or not.
    pub working_bytes: u64,
    /// `matches` over the timed files in turns with `QueryCursor::matches` on tree-sitter's own trees.
    pub beside: Option<PairedTiming>,
    /// Whether the store could answer at all (it keeps query statuses).
    pub answered: bool,
    /// Whether every file's matches (as a multiset) and captures (as a sequence) equal `QueryCursor`'s.
    pub answers_agree: bool,
    /// The first mismatch: file, query and pattern.
    pub mismatch: Option<String>,
}

/// One operation timed in turns with tree-sitter's answer to it, in one process, on the same files.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct PairedTiming {
    /// Medians over the turns of the backend's run and of tree-sitter's.
    pub backend_seconds: f64,
    pub tree_sitter_seconds: f64,
    /// Median over the turns of the backend's time over tree-sitter's (below 1 is faster), and the lowest and
    /// highest turn's: the ratio's spread.
    pub ratio: f64,
    pub ratio_low: f64,
    pub ratio_high: f64,
    /// Turns (one run of each).
    pub turns: u64,
    /// Whether the two answers agree: the ratio compares like with like only then.
    pub answers_agree: bool,
}

/// The backend's full walk timed in turns with tree-sitter's own `TreeCursor` walking the same files in the
/// same process (the files parsed again after everything else is measured): both walks meet the same machine
/// at the same time, so their ratio holds where the walks' times, measured process by process, drift with the
/// machine.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct WalkBesideTreeSitter {
    /// The files walked: all of them, or every n-th held file so that about [`BESIDE_TREE_SITTER_BYTES`] of
    /// text are walked.
    pub files: u64,
    /// The nodes tree-sitter's walk visited.
    pub nodes: u64,
    /// Medians over the turns of the backend's walk and of tree-sitter's.
    pub backend_seconds: f64,
    pub tree_sitter_seconds: f64,
    /// Median over the turns of tree-sitter's time over the backend's.
    pub times_as_fast: f64,
    /// The same turns' walks of tree-sitter's fastest public-API walk, the counted cursor
    /// ([`crate::tree_walk::CountedCursor`]): its median, and the median over the turns of its time over the
    /// backend's (0 when not timed).
    #[serde(default)]
    pub counted_cursor_seconds: f64,
    #[serde(default)]
    pub times_as_fast_counted_cursor: f64,
    /// Turns (one walk of each), as many as the operations' repetitions and budget allow.
    pub turns: u64,
    /// Whether the two walks gave the same answer (every node's kind, field, range and missing flag): the
    /// ratio compares like with like only then.
    pub answers_agree: bool,
}

impl WalkBesideTreeSitter {
    /// Times as fast as tree-sitter's faster walk (the counted cursor when it was timed and faster): the
    /// headline ratio.
    pub fn times_as_fast_as_fastest(&self) -> f64 {
        if self.times_as_fast_counted_cursor > 0.0 {
            self.times_as_fast.min(self.times_as_fast_counted_cursor)
        } else {
            self.times_as_fast
        }
    }
}

/// What the counting allocator costs one row's build: the whole corpus built again after the store is
/// dropped, counted and with counting off ([`crate::alloc::without_counting`]) in turns, the fastest of each
/// kept (the same warm heap for both, which the first, measured build does not find).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct UncountedBuild {
    pub counted_parse_seconds: f64,
    pub counted_convert_seconds: f64,
    pub parse_seconds: f64,
    pub convert_seconds: f64,
}

/// About how much text the walk beside tree-sitter covers: every n-th file of a larger corpus, so that parsing
/// it again and walking it stay a small part of any run.
pub const BESIDE_TREE_SITTER_BYTES: u64 = 4_000_000;

/// Everything measured for one backend, before derived figures.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct BackendMeasurement {
    pub name: String,
    pub retains: String,
    /// How the backend finds the node at an offset.
    pub lookup: String,
    /// What its update does, and what a version shares.
    pub update: String,
    pub includes_source: bool,
    pub shares_across_files: bool,
    pub per_file: bool,
    /// Files the backend was given (the corpus's measured files).
    pub files: u64,
    pub lines: u64,
    pub source_bytes: u64,
    /// Bytes still allocated for the CSTs once built (parsers dropped), as requested from the allocator.
    pub retained_bytes: u64,
    /// What the system allocator holds for those blocks (headers and rounding included).
    pub retained_footprint: u64,
    /// Heap blocks those bytes occupy.
    pub retained_blocks: u64,
    /// Allocations made while building (parsers and transient trees included).
    pub allocations_during_build: u64,
    /// Highest bytes live above the starting point while building (whole-corpus mode), or the largest
    /// single file's peak (per-file mode).
    pub peak_bytes: u64,
    /// Bytes the parsers held once the whole corpus was parsed (freed before `retained_bytes` is read).
    pub parser_bytes: u64,
    /// What the system allocator held for them.
    pub parser_footprint: u64,
    /// Visible nodes of the reference parses.
    pub nodes: u64,
    /// Files whose parse has ERROR or MISSING nodes (measured and verified like any other).
    pub parse_errors: u64,
    pub parse_seconds: f64,
    /// The backend's `add` of each parsed tree and its `finish`.
    pub convert_seconds: f64,
    /// Freeing tree-sitter's trees once the backend has let go of them (the harness keeps a handle on each
    /// tree through `add` and drops it after): a cost of the parse that every use of tree-sitter pays, not
    /// part of the conversion; near zero for a backend that keeps the tree.
    pub free_seconds: f64,
    /// A bare `TreeCursor` walk of the same trees reading kind, field, range and missing flag, timed in the
    /// same process beside the conversion (before `add` for every other file, after it for the rest, so that
    /// neither always finds the tree warm in the cache), not part of the build: what a conversion is compared
    /// with (see [`crate::references::bare_walk`]: a converter can walk for less).
    pub walk_seconds: f64,
    /// Wall time of the whole measurement (per-file mode: all threads together).
    pub wall_seconds: f64,
    pub files_verified: u64,
    /// Files that failed to build or verify (all of them counted in `failed_files`, the first few listed).
    pub failed_files: u64,
    pub failures: Vec<FileFailure>,
    pub scaling: Vec<ScalingPoint>,
    pub operations: Vec<OperationTiming>,
    /// The walk timed beside tree-sitter's (whole-corpus mode, when the operations are timed).
    pub walk_beside_tree_sitter: Option<WalkBesideTreeSitter>,
    /// The build timed again with counting off (whole-corpus mode, when the operations are timed).
    #[serde(default)]
    pub uncounted: Option<UncountedBuild>,
    /// The edit sessions, when run.
    pub edits: Option<EditMeasurement>,
    /// Read-only tables the backend needs beyond the grammars' own for the languages this corpus uses
    /// ([`crate::Backend::static_bytes`]): bytes every process using the store pays, counted in the verdict.
    #[serde(default)]
    pub static_bytes: u64,
    /// What those tables are ([`crate::Backend::STATIC_TABLES`]).
    #[serde(default)]
    pub static_tables: String,
    /// The shipped query files run on the store (empty where the row runs none).
    #[serde(default)]
    pub queries: Vec<QueryTiming>,
}

/// What editing cost one backend.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct EditMeasurement {
    /// Files edited, and their bytes before editing.
    pub files: u64,
    pub source_bytes: u64,
    /// Files of the sample left out for their size.
    pub files_left_out: u64,
    pub edits: u64,
    /// Edits asked for per file, and the files that made fewer for their nodes (see
    /// [`EditOptions::max_session_nodes`](crate::session::EditOptions::max_session_nodes), given here too).
    pub edits_per_file: u64,
    pub files_with_fewer_edits: u64,
    pub max_session_nodes: u64,
    /// Incremental reparse (`Parser::parse` from the edited old tree, and `changed_ranges`), per edit.
    pub reparse_median_seconds: f64,
    pub reparse_p99_seconds: f64,
    /// The backend's `update`, per edit.
    pub update_median_seconds: f64,
    pub update_p99_seconds: f64,
    /// Building the same new version from its tree in a fresh store, per edit.
    pub rebuild_median_seconds: f64,
    /// The edits of a spread of the files replayed counted and with counting off.
    #[serde(default)]
    pub uncounted: Option<UncountedEdits>,
    /// Versions of each file kept alive, the current one included.
    pub versions_kept: u64,
    /// What one version of every edited file holds (freed by dropping the store last).
    pub retained_bytes_one_version: u64,
    /// With every kept version alive.
    pub retained_bytes_all_versions: u64,
    /// Bytes an extra version of one file costs: what the kept versions hold on their own, per kept version.
    pub bytes_per_extra_version: f64,
    /// One version of one file, on average: what each extra version is compared with.
    pub bytes_per_file_version: f64,
    pub footprint_one_version: u64,
    pub footprint_all_versions: u64,
    /// Versions verified: every version right after its update, and every kept version restored at the end.
    pub versions_verified: u64,
    pub failed: u64,
    pub failures: Vec<FileFailure>,
}

/// The edits of a spread of an edit session's files replayed in a fresh store of them (no verification, no
/// versions kept), once counted and once with counting off: medians per edit.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct UncountedEdits {
    pub edits: u64,
    pub reparse_counted_median_seconds: f64,
    pub reparse_median_seconds: f64,
    pub update_counted_median_seconds: f64,
    pub update_median_seconds: f64,
}

/// The median (the upper middle value) and the 99th percentile of `times`; zeros for none.
pub fn median_and_p99(mut times: Vec<f64>) -> (f64, f64) {
    if times.is_empty() {
        return (0.0, 0.0);
    }
    times.sort_by(f64::total_cmp);
    let p99 = ((times.len() as f64 * 0.99).ceil() as usize).clamp(1, times.len()) - 1;
    (times[times.len() / 2], times[p99])
}

/// `a / b`, or 0 when `b` is 0.
pub fn ratio(a: f64, b: f64) -> f64 {
    if b == 0.0 {
        0.0
    } else {
        a / b
    }
}

/// Builds of each kind (counted, uncounted) timed for what counting costs a build (fewer when fewer
/// repetitions are asked for); the fastest of each is kept.
pub const COUNTER_COST_BUILDS: usize = 2;

/// The slower side of a turn repeats its run until it has taken about this long, so that a short operation
/// is timed over more than the clock's grain and a moment's interruption...
pub const PAIR_SIDE_SECONDS: f64 = 0.005;

/// ...and the faster side at least this long (a side far faster than the other would otherwise make the
/// slower one's turn long).
pub const PAIR_FAST_SIDE_SECONDS: f64 = 0.0005;

/// Files whose edits are replayed with counting off (a spread of the edited ones).
pub const UNCOUNTED_EDIT_FILES: usize = 300;

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
