//! Measures one backend in this process: build (memory at the allocator, time), scaling slices, verification
//! and operations. Run one backend per process so that nothing another backend did can show in its counts.
//!
//! Memory figures are differences of [`crate::alloc`] snapshots taken around the build, with the corpus text
//! already loaded (it is the input, not part of any CST). Parsers are created inside the build and dropped
//! before the retained bytes are read: their memory shows in the peak and, separately, as `parser_bytes`.
//!
//! Time is bounded for any input: each operation repeats until it has run the repetitions asked for or
//! another run would end past its time budget (judged by its slowest run so far), whichever comes first
//! (always one complete run, whose answer is the one reported, so answers never depend on timing). Per-file
//! mode measures files on several threads at once; the counters are per thread, so each file's figures are
//! its own.
//!
//! Each backend's time is measured in its own process, at its own moment, on a machine whose speed drifts
//! (this project's VM has moved a walk by half between spells), so a ratio of two processes' times carries
//! that drift. Every ratio to tree-sitter is therefore a same-process pair ([`PairedTiming`]): after the
//! store is verified, a sample of its files (all, or every n-th up to about [`BESIDE_TREE_SITTER_BYTES`]) is
//! parsed again into tree-sitter's own store ([`TreeSitterStore`]), and each operation runs on the backend's
//! store and on tree-sitter's in turns, each side of a turn repeated long enough to time
//! ([`PAIR_SIDE_SECONDS`]), the side that goes first alternating, in the thread's CPU time (waiting for a
//! core, which the compare run's processes share, counts for neither side); the ratio is the median over the
//! turns. The full walk also runs beside tree-sitter's two walks, its plain cursor and its counted cursor
//! ([`WalkBesideTreeSitter`]). While it times the pairs and the walk beside, the process holds an exclusive
//! `flock` on [`MeasureOptions::timing_lock`] when one is given (the compare run gives all its processes the
//! same file), so that no two processes of a run time their pairs at once; waiting for it is not timed.
//!
//! Operations are timed twice. First counted: each run inside an [`alloc::Watch`], whose peak is the
//! operation's working memory (every thread's allocations). Then with counting off
//! ([`alloc::without_counting`]): the headline medians and the pairs, fair to rows that allocate a lot and to
//! rows that allocate little alike. The build of the sample is timed again after the store is dropped,
//! counted and uncounted in turns on the same warm heap ([`UncountedBuild`]), for what counting costs it.
//! The uncounted phases free everything they allocate, and no memory figure is read inside them. One
//! repetition asked for is a quick check (the test suite's): no uncounted phase, no pair.
//!
//! Cost: the pairs and the uncounted phase at most double a backend's operation time (each under the same
//! repetitions and budget; a side whose one run takes the whole budget runs once more at most); the extra
//! builds add two to four parses and conversions of the sample (up to about 4 MB of text).

use crate::alloc;
use crate::backend::{Backend, CstStore};
use crate::clock::CpuClock;
use crate::corpus::{Corpus, CorpusFile};
use crate::measurement::{
    median_and_p99, ratio, PairedTiming, UncountedBuild, COUNTER_COST_BUILDS,
    PAIR_FAST_SIDE_SECONDS, PAIR_SIDE_SECONDS,
};
pub use crate::measurement::{
    BackendMeasurement, FileFailure, NoProgress, OperationTiming, Progress, QueryTiming,
    ScalingPoint, WalkBesideTreeSitter, BESIDE_TREE_SITTER_BYTES,
};
use crate::native::TreeSitterStore;
use crate::ops::{self, KindTables, Operation, OPERATIONS};
use crate::reference::ReferenceTree;
use crate::references::References;
use crate::session::{measure_edits, EditMeasurement, EditOptions};
use crate::verify::{spread_offsets, verify_against, verify_lookups};
use crate::Language;
use anyhow::{bail, Context};

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How to measure.
#[derive(Clone, Debug)]
pub struct MeasureOptions {
    /// Measure each file alone and sum (bounded memory), instead of holding the whole corpus.
    pub per_file: bool,
    /// Corpus slices (file counts) for the scaling table; counts at or above the corpus size are left out.
    pub scaling_steps: Vec<usize>,
    /// Most repetitions per operation timing (the median is reported); 0 skips the operations.
    pub repetitions: usize,
    /// Time after which an operation stops repeating (it always completes one run).
    pub budget: Duration,
    /// Byte offsets sampled for the node-at-offset operations.
    pub offset_samples: usize,
    /// Threads measuring files at once in per-file mode.
    pub jobs: usize,
    /// Offsets per file, spread evenly, at which verification checks the backend's lookup (and every ancestor
    /// it reports) against tree-sitter's; `usize::MAX` checks every offset.
    pub lookup_checks: usize,
    /// tree-sitter's trees of the corpus, recorded by [`References::record`] (the compare run records them
    /// once for all its processes); `None` records them here first.
    pub references: Option<PathBuf>,
    /// The edit sessions.
    pub edit: EditOptions,
    /// A file every measuring process of one run locks (an exclusive `flock`) while it times beside
    /// tree-sitter, so that no two processes' pairs run at once on the shared cores and memory (the compare
    /// run passes one to every backend's process); `None` takes no lock.
    pub timing_lock: Option<PathBuf>,
    /// Query files to run in place of the shipped ones (`cargo xtask query`); `None` runs the shipped ones.
    pub queries: Option<Vec<QuerySource>>,
}

/// Default offsets per file at which lookups are verified.
pub const LOOKUP_CHECKS: usize = 16;

/// Default time budget per operation per backend.
pub const DEFAULT_BUDGET: Duration = Duration::from_secs(2);

impl Default for MeasureOptions {
    fn default() -> Self {
        MeasureOptions {
            per_file: false,
            scaling_steps: vec![100, 300, 1000],
            repetitions: 5,
            budget: DEFAULT_BUDGET,
            offset_samples: ops::OFFSET_SAMPLES,
            jobs: 1,
            lookup_checks: LOOKUP_CHECKS,
            references: None,
            edit: EditOptions::default(),
            timing_lock: None,
            queries: None,
        }
    }
}

/// Failures listed by name; the rest are only counted.
const LISTED_FAILURES: usize = 20;

/// What one build of a set of files cost.
struct Build<S> {
    store: S,
    /// Corpus indices of the files the store holds, in store order.
    held: Vec<usize>,
    failures: Vec<FileFailure>,
    parse_errors: u64,
    retained_bytes: u64,
    retained_footprint: u64,
    retained_blocks: u64,
    allocations: u64,
    peak_bytes: u64,
    parser_bytes: u64,
    parser_footprint: u64,
    parse: Duration,
    convert: Duration,
    free: Duration,
    walk: Duration,
}

/// Times a bare walk of `tree` into `walk`, and adds the allocations it made (tree-sitter's cursor stack) to
/// `instrument` (taken back out of the build's count).
fn timed_walk(tree: &tree_sitter::Tree, walk: &mut Duration, instrument: &mut u64) {
    let before = alloc::snapshot().allocations;
    let clock = Instant::now();
    std::hint::black_box(crate::references::bare_walk(tree));
    *walk += clock.elapsed();
    *instrument += alloc::snapshot().allocations - before;
}

/// Builds a store from `files` (corpus index and text), counting memory from the current live bytes.
fn build<B: Backend>(files: &[(usize, &str, Language)], paths: &Corpus) -> Build<B::Store> {
    // The harness's own list of held files is allocated before the measured region starts.
    let mut held = Vec::with_capacity(files.len());
    let start = alloc::snapshot();
    alloc::reset_peak();
    let mut parsers: [Option<tree_sitter::Parser>; 4] = Default::default();
    let mut store = B::new_store();
    let mut failures = Vec::new();
    let mut parse_errors = 0;
    let (mut parse, mut convert, mut free, mut walk) = Default::default();
    // Allocations of the harness's own instruments inside the measured region (a tree handle, the walk's
    // cursor), taken back out of the build's count.
    let mut instrument = 0u64;
    for &(index, text, language) in files {
        alloc::set_building(Some(index));
        let parser = parsers[language.index()].get_or_insert_with(|| language.parser());
        let clock = Instant::now();
        let tree = parser
            .parse(text, None)
            .expect("no timeout or cancellation is set, so tree-sitter always returns a tree");
        parse += clock.elapsed();
        parse_errors += u64::from(tree.root_node().has_error());
        // A second handle on the tree (a reference count), dropped after `add`: the backend's drop inside
        // `add` only lets go of its handle, and tree-sitter frees its nodes here, timed apart.
        let before = alloc::snapshot().allocations;
        let handle = tree.clone();
        instrument += alloc::snapshot().allocations - before;
        let walk_first = index % 2 == 0;
        if walk_first {
            timed_walk(&handle, &mut walk, &mut instrument);
        }
        let clock = Instant::now();
        let added = store.add(language, text, tree);
        convert += clock.elapsed();
        if !walk_first {
            timed_walk(&handle, &mut walk, &mut instrument);
        }
        let clock = Instant::now();
        drop(handle);
        free += clock.elapsed();
        match added {
            Ok(()) => held.push(index),
            Err(error) => failures.push(FileFailure {
                path: paths.files[index].path.clone(),
                error: format!("build: {error}"),
            }),
        }
    }
    let clock = Instant::now();
    store.finish();
    convert += clock.elapsed();
    alloc::set_building(None);
    let with_parsers = alloc::snapshot();
    drop(parsers);
    let end = alloc::snapshot();
    // Failures were recorded inside the measured region; take their blocks out again (exactly: the counts are
    // of requested sizes, and the footprints are read from the blocks themselves).
    let bookkeeping = failures.capacity() * std::mem::size_of::<FileFailure>()
        + failures
            .iter()
            .map(|f| f.path.capacity() + f.error.capacity())
            .sum::<usize>();
    let bookkeeping_footprint = alloc::vec_footprint(&failures)
        + failures
            .iter()
            .map(|f| alloc::string_footprint(&f.path) + alloc::string_footprint(&f.error))
            .sum::<u64>();
    let bookkeeping_blocks = u64::from(failures.capacity() > 0)
        + failures
            .iter()
            .map(|f| u64::from(f.path.capacity() > 0) + u64::from(f.error.capacity() > 0))
            .sum::<u64>();
    Build {
        store,
        held,
        failures,
        parse_errors,
        retained_bytes: end.live_bytes - start.live_bytes - bookkeeping as u64,
        retained_footprint: end.live_footprint - start.live_footprint - bookkeeping_footprint,
        retained_blocks: end.live_blocks - start.live_blocks - bookkeeping_blocks,
        allocations: end.allocations - start.allocations - instrument,
        peak_bytes: end.peak_bytes - start.live_bytes,
        parser_bytes: with_parsers.live_bytes - end.live_bytes,
        parser_footprint: with_parsers.live_footprint - end.live_footprint,
        parse,
        convert,
        free,
        walk,
    }
}

/// Every file's text, read (or borrowed) once.
fn load_texts(corpus: &Corpus) -> anyhow::Result<Vec<Cow<'_, str>>> {
    corpus.files.iter().map(CorpusFile::text).collect()
}

/// Each file as its corpus index, text and language: what [`build`] takes.
fn indexed_files<'a>(
    texts: &'a [Cow<'a, str>],
    corpus: &Corpus,
) -> Vec<(usize, &'a str, Language)> {
    texts
        .iter()
        .enumerate()
        .map(|(i, text)| (i, &**text, corpus.files[i].language))
        .collect()
}

/// The held files of a build, as [`StoreOperations`] are given them.
fn stored_files<'a>(
    held: &[usize],
    all: &[(usize, &'a str, Language)],
    corpus: &'a Corpus,
) -> Vec<StoredFile<'a>> {
    held.iter()
        .enumerate()
        .map(|(position, &index)| StoredFile {
            position,
            path: &corpus.files[index].path,
            text: all[index].1,
            language: all[index].2,
        })
        .collect()
}

/// Builds backend `B`'s store of `corpus` and runs only the operations `X` on it (`cargo xtask query`): no
/// memory figures, no verification beyond what `X` checks, no other operation. Files that do not build are
/// recorded as failures.
pub fn run_store_operations<B: Backend, X: StoreOperations>(
    corpus: &Corpus,
    options: &MeasureOptions,
    progress: &mut dyn Progress,
) -> anyhow::Result<BackendMeasurement> {
    let mut m = BackendMeasurement {
        name: B::NAME.to_string(),
        ..BackendMeasurement::default()
    };
    progress.phase("loading", corpus.files.len() as u64);
    let texts = load_texts(corpus)?;
    let all = indexed_files(&texts, corpus);
    progress.phase("building", 1);
    let built = build::<B>(&all, corpus);
    for failure in built.failures {
        record_failure(&mut m, failure);
    }
    let files = stored_files(&built.held, &all, corpus);
    X::measure(&built.store, &files, options, &mut m, progress)?;
    Ok(m)
}

/// Drops a store and checks that it frees exactly the bytes it was measured to retain: none leaked, and none
/// gained after the measurement (which would make the retained figure an understatement).
fn release<S>(store: S, retained_bytes: u64, what: &str) -> anyhow::Result<()> {
    let before = alloc::snapshot().live_bytes;
    drop(store);
    let freed = before - alloc::snapshot().live_bytes;
    if freed != retained_bytes {
        bail!("{what}: dropping the store freed {freed} bytes, but it was measured to retain {retained_bytes}");
    }
    Ok(())
}

/// One file of a built store, as [`StoreOperations`] are given it.
#[derive(Clone, Copy, Debug)]
pub struct StoredFile<'a> {
    /// The file's position in the store.
    pub position: usize,
    /// Its corpus path, for reports.
    pub path: &'a str,
    pub text: &'a str,
    pub language: Language,
}

/// A query file given to a run in place of the shipped ones ([`MeasureOptions::queries`]).
#[derive(Clone, Debug)]
pub struct QuerySource {
    pub language: Language,
    /// What reports call it (the file's name).
    pub name: String,
    pub source: String,
}

/// Operations that a crate above the harness times on a built and verified store, in the same process, after
/// the harness's own (the shipped queries of `cst-query`: the harness cannot depend on it). Set on a row by
/// [`BackendEntry::with_operations`]; whole-corpus mode only, or alone ([`run_store_operations`]).
pub trait StoreOperations {
    /// Times the operations on `store`, whose files are `files`, into `m`.
    fn measure<S: CstStore>(
        store: &S,
        files: &[StoredFile<'_>],
        options: &MeasureOptions,
        m: &mut BackendMeasurement,
        progress: &mut dyn Progress,
    ) -> anyhow::Result<()>;
}

/// No operations beyond the harness's own.
pub struct NoStoreOperations;

impl StoreOperations for NoStoreOperations {
    fn measure<S: CstStore>(
        _: &S,
        _: &[StoredFile<'_>],
        _: &MeasureOptions,
        _: &mut BackendMeasurement,
        _: &mut dyn Progress,
    ) -> anyhow::Result<()> {
        Ok(())
    }
}

/// Measures backend `B` on `corpus`.
pub fn measure<B: Backend>(
    corpus: &Corpus,
    options: &MeasureOptions,
    progress: &mut dyn Progress,
) -> anyhow::Result<BackendMeasurement> {
    measure_with::<B, NoStoreOperations>(corpus, options, progress)
}

/// Measures backend `B` on `corpus`, with the operations `X` timed on its store beside the harness's own.
pub fn measure_with<B: Backend, X: StoreOperations>(
    corpus: &Corpus,
    options: &MeasureOptions,
    progress: &mut dyn Progress,
) -> anyhow::Result<BackendMeasurement> {
    if !alloc::is_installed() {
        bail!("the counting allocator is not this process's global allocator; memory cannot be measured");
    }
    alloc::route_tree_sitter_allocations();
    let clock = Instant::now();
    let mut m = BackendMeasurement {
        name: B::NAME.into(),
        retains: B::RETAINS.into(),
        lookup: B::LOOKUP.into(),
        update: B::UPDATE.into(),
        includes_source: B::INCLUDES_SOURCE,
        shares_across_files: B::SHARES_ACROSS_FILES,
        per_file: options.per_file,
        files: corpus.files.len() as u64,
        lines: corpus.lines(),
        source_bytes: corpus.source_bytes(),
        static_bytes: B::static_bytes(&corpus.languages()),
        static_tables: B::STATIC_TABLES.into(),
        ..BackendMeasurement::default()
    };
    let recorded;
    let references = match &options.references {
        Some(path) => References::open(path)?,
        None => {
            recorded = tempfile::NamedTempFile::new()?;
            References::record(corpus, recorded.path(), progress)?;
            References::open(recorded.path())?
        }
    };
    if references.len() != corpus.files.len() {
        bail!(
            "the references hold {} files, the corpus {}",
            references.len(),
            corpus.files.len()
        );
    }
    if options.per_file {
        measure_per_file::<B>(corpus, options, &references, &mut m, progress)?;
    } else {
        measure_whole::<B, X>(corpus, options, &references, &mut m, progress)?;
    }
    if options.edit.edits > 0 {
        m.edits = Some(measure_edits::<B>(corpus, &options.edit, progress)?);
    }
    m.wall_seconds = clock.elapsed().as_secs_f64();
    Ok(m)
}

/// Counts one failed file, listing it among the first [`LISTED_FAILURES`].
pub fn record_failure(m: &mut BackendMeasurement, failure: FileFailure) {
    m.failed_files += 1;
    if m.failures.len() < LISTED_FAILURES {
        m.failures.push(failure);
    }
}

/// The whole check of one held file: [`verify_file`], then [`verify_lookups`] at `lookup_checks` offsets.
fn verify<S: CstStore>(
    store: &S,
    index: usize,
    language: Language,
    text: &str,
    reference: &ReferenceTree,
    lookup_checks: usize,
) -> Result<u64, String> {
    let nodes = verify_against(store, index, language, text, reference)?;
    let offsets = spread_offsets(text.len() as u32, lookup_checks);
    verify_lookups(store, index, text, reference, offsets).map_err(|e| format!("lookup: {e}"))?;
    Ok(nodes)
}

/// Counts one file's verification: its nodes when it passed, a listed failure when it did not.
fn record_verification(m: &mut BackendMeasurement, path: &str, verified: Result<u64, String>) {
    match verified {
        Ok(nodes) => {
            m.nodes += nodes;
            m.files_verified += 1;
        }
        Err(error) => record_failure(
            m,
            FileFailure {
                path: path.to_string(),
                error,
            },
        ),
    }
}

impl ScalingPoint {
    /// The scaling figures of one build of `files`.
    fn of<S>(files: &[(usize, &str, Language)], corpus: &Corpus, built: &Build<S>) -> ScalingPoint {
        ScalingPoint {
            files: files.len() as u64,
            lines: files.iter().map(|f| corpus.files[f.0].lines).sum(),
            source_bytes: files.iter().map(|f| corpus.files[f.0].bytes).sum(),
            retained_bytes: built.retained_bytes,
            retained_footprint: built.retained_footprint,
            build_seconds: (built.parse + built.convert + built.free).as_secs_f64(),
        }
    }
}

/// Whole-corpus mode: every CST alive at once, as an application holding them would have them.
fn measure_whole<B: Backend, X: StoreOperations>(
    corpus: &Corpus,
    options: &MeasureOptions,
    references: &References,
    m: &mut BackendMeasurement,
    progress: &mut dyn Progress,
) -> anyhow::Result<()> {
    progress.phase("loading", corpus.files.len() as u64);
    let texts = load_texts(corpus)?;
    let all = indexed_files(&texts, corpus);
    let spread_steps: Vec<usize> = options
        .scaling_steps
        .iter()
        .copied()
        .filter(|&n| n > 0 && n < all.len())
        .collect();
    progress.phase("building", spread_steps.len() as u64 + 1);
    for (done, &count) in spread_steps.iter().enumerate() {
        let slice: Vec<_> = (0..count).map(|j| all[j * all.len() / count]).collect();
        let built = build::<B>(&slice, corpus);
        m.scaling.push(ScalingPoint::of(&slice, corpus, &built));
        release(built.store, built.retained_bytes, "scaling slice")?;
        progress.advance(done as u64 + 1);
    }
    let built = build::<B>(&all, corpus);
    progress.advance(spread_steps.len() as u64 + 1);
    m.scaling.push(ScalingPoint::of(&all, corpus, &built));
    m.retained_bytes = built.retained_bytes;
    m.retained_footprint = built.retained_footprint;
    m.retained_blocks = built.retained_blocks;
    m.allocations_during_build = built.allocations;
    m.peak_bytes = built.peak_bytes;
    m.parser_bytes = built.parser_bytes;
    m.parser_footprint = built.parser_footprint;
    m.parse_errors = built.parse_errors;
    m.parse_seconds = built.parse.as_secs_f64();
    m.convert_seconds = built.convert.as_secs_f64();
    m.free_seconds = built.free.as_secs_f64();
    m.walk_seconds = built.walk.as_secs_f64();
    for failure in built.failures {
        record_failure(m, failure);
    }
    let (store, retained) = (built.store, built.retained_bytes);
    if store.len() != built.held.len() {
        bail!(
            "{}: store holds {} files but accepted {}",
            B::NAME,
            store.len(),
            built.held.len()
        );
    }

    progress.phase("verifying", built.held.len() as u64);
    for (position, &index) in built.held.iter().enumerate() {
        let (text, language) = (all[index].1, all[index].2);
        let reference = references.get(index)?;
        let verified = verify(
            &store,
            position,
            language,
            text,
            &reference,
            options.lookup_checks,
        );
        record_verification(m, &corpus.files[index].path, verified);
        progress.advance(position as u64 + 1);
    }

    if options.repetitions > 0 && !store.is_empty() {
        time_operations(
            &store,
            &sizes_of(&built.held, corpus),
            &all,
            &built.held,
            options,
            m,
            progress,
        )?;
        let files = stored_files(&built.held, &all, corpus);
        X::measure(&store, &files, options, m, progress)?;
    }
    release(store, retained, "whole corpus").context(B::NAME)?;
    if options.repetitions > 1 && !built.held.is_empty() {
        // The build again, counted and uncounted in turns on the same warm heap (every block allocated and
        // freed within each build): what counting costs it. On the files timed beside tree-sitter (all, or
        // every n-th up to about BESIDE_TREE_SITTER_BYTES), one build each way, then more while they fit the
        // operations' budget: a large corpus or a pathological file is not built four times more. (One
        // repetition asked for is a quick check: not timed.)
        let sizes = sizes_of(&built.held, corpus);
        let files: Vec<(usize, &str, Language)> = spread_sample(&sizes, BESIDE_TREE_SITTER_BYTES)
            .map(|p| all[built.held[p]])
            .collect();
        let mut best = [(Duration::MAX, Duration::MAX); 2];
        let (started, mut slowest) = (Instant::now(), Duration::ZERO);
        for turn in 0..2 * COUNTER_COST_BUILDS.min(options.repetitions) {
            if turn >= 2 && started.elapsed() + slowest > options.budget {
                break;
            }
            let clock = Instant::now();
            let uncounted = turn % 2 == 1;
            let (parse, convert) = if uncounted {
                alloc::without_counting(|| uncounted_build::<B>(&files))
            } else {
                uncounted_build::<B>(&files)
            };
            let slot = &mut best[usize::from(uncounted)];
            *slot = (slot.0.min(parse), slot.1.min(convert));
            slowest = slowest.max(clock.elapsed());
        }
        m.uncounted = Some(UncountedBuild {
            counted_parse_seconds: best[0].0.as_secs_f64(),
            counted_convert_seconds: best[0].1.as_secs_f64(),
            parse_seconds: best[1].0.as_secs_f64(),
            convert_seconds: best[1].1.as_secs_f64(),
        });
    }
    Ok(())
}

/// The bytes of the held files, in store order.
fn sizes_of(held: &[usize], corpus: &Corpus) -> Vec<u64> {
    held.iter().map(|&i| corpus.files[i].bytes).collect()
}

/// Parses `files` and builds a store of them as [`build`] does (the tree handle kept through `add` and
/// dropped after), timing the parse and the conversion only, and drops everything: for timing a build with
/// counting on and off, where no memory is read.
fn uncounted_build<B: Backend>(files: &[(usize, &str, Language)]) -> (Duration, Duration) {
    let mut parsers: [Option<tree_sitter::Parser>; 4] = Default::default();
    let mut store = B::new_store();
    let (mut parse, mut convert) = (Duration::ZERO, Duration::ZERO);
    for &(_, text, language) in files {
        let parser = parsers[language.index()].get_or_insert_with(|| language.parser());
        let clock = Instant::now();
        let tree = parser
            .parse(text, None)
            .expect("no timeout or cancellation is set, so tree-sitter always returns a tree");
        parse += clock.elapsed();
        let handle = tree.clone();
        let clock = Instant::now();
        let added = store.add(language, text, tree);
        convert += clock.elapsed();
        drop(handle);
        drop(added);
    }
    let clock = Instant::now();
    store.finish();
    convert += clock.elapsed();
    drop(store);
    (parse, convert)
}

/// Times every operation on `store` (the held files' `sizes`, in store order; `all` the corpus's files and
/// `held` the corpus index of each stored one): first counted, reading each run's working memory; then with
/// counting off, for the headline median and for the pair with tree-sitter's own trees of a sample of the
/// files (every file, or every n-th up to about [`BESIDE_TREE_SITTER_BYTES`]), parsed here; and the walk
/// beside tree-sitter's two walks of the sample.
fn time_operations<S: CstStore>(
    store: &S,
    sizes: &[u64],
    all: &[(usize, &str, Language)],
    held: &[usize],
    options: &MeasureOptions,
    m: &mut BackendMeasurement,
    progress: &mut dyn Progress,
) -> anyhow::Result<()> {
    let tables = KindTables::new();
    let everything: Vec<usize> = (0..store.len()).collect();
    let offsets = ops::sample_offsets(sizes, options.offset_samples);
    let has_native = offsets
        .first()
        .is_some_and(|&(file, offset)| store.native_node_at_offset(file, offset).is_some());
    let timed: Vec<Operation> = OPERATIONS
        .into_iter()
        .filter(|&op| op != Operation::NativeNodeAtOffset || has_native)
        .collect();
    progress.phase("operations", timed.len() as u64);
    for (done, &op) in timed.iter().enumerate() {
        m.operations.push(time_operation(
            op,
            store,
            &tables,
            &everything,
            &offsets,
            options.repetitions,
            options.budget,
        )?);
        progress.advance(done as u64 + 1);
    }

    // The sample, by store position, and its offsets: by store position for the backend, by sample position
    // for tree-sitter's store of the sample.
    let sample: Vec<usize> = spread_sample(sizes, BESIDE_TREE_SITTER_BYTES).collect();
    let sample_sizes: Vec<u64> = sample.iter().map(|&p| sizes[p]).collect();
    let theirs_offsets = ops::sample_offsets(&sample_sizes, options.offset_samples);
    let ours_offsets: Vec<(usize, u32)> = theirs_offsets
        .iter()
        .map(|&(i, offset)| (sample[i], offset))
        .collect();
    let theirs_files: Vec<usize> = (0..sample.len()).collect();
    let walked: Vec<(usize, &str, Language)> = sample
        .iter()
        .map(|&p| {
            let (_, text, language) = all[held[p]];
            (p, text, language)
        })
        .collect();
    // Room for every result before counting stops, so that nothing allocated uncounted outlives the phase.
    let mut results: Vec<anyhow::Result<Option<(f64, PairedTiming)>>> =
        Vec::with_capacity(timed.len());
    // The pairs wait for the run's other measuring processes to finish theirs (the wait counts for neither
    // side: the pairs are timed in CPU time, and begin once the lock is held).
    progress.phase("waiting to time beside tree-sitter", 1);
    let lock = options
        .timing_lock
        .as_deref()
        .map(hold_timing_lock)
        .transpose()?;
    progress.phase("timing beside tree-sitter", timed.len() as u64 + 1);
    let beside = alloc::without_counting(|| {
        let mut native = TreeSitterStore::new();
        for &(_, text, language) in &walked {
            native
                .add(language, text, language.parse(text))
                .expect("tree-sitter's store holds any tree");
        }
        for (done, &op) in timed.iter().enumerate() {
            results.push((|| {
                // One repetition asked for is a quick check (the test suite's): no uncounted run and no
                // pair, whose tree-sitter side on every row would cost eight times tree-sitter's own lookups
                // on pathological files.
                if options.repetitions <= 1 {
                    return Ok(None);
                }
                let alone = time_runs(
                    op,
                    store,
                    &tables,
                    &everything,
                    &offsets,
                    options.repetitions,
                    options.budget,
                )?;
                let pair = time_pair(
                    (store, &sample, &ours_offsets),
                    (&native, &theirs_files, &theirs_offsets),
                    op,
                    &tables,
                    pair_turns(options.repetitions),
                    options.budget,
                )?;
                Ok(Some((alone, pair)))
            })());
            progress.advance(done as u64 + 1);
        }
        let walk = walk_beside(
            store,
            &sample,
            &native,
            pair_turns(options.repetitions),
            options.budget,
        );
        drop(native);
        walk
    });
    for (timing, result) in m.operations.iter_mut().zip(results) {
        let timed =
            result.with_context(|| format!("{} beside tree-sitter", timing.operation.name()))?;
        if let Some((alone, pair)) = timed {
            timing.median_seconds = alone;
            timing.beside = Some(pair);
        }
    }
    drop(lock);
    progress.advance(timed.len() as u64 + 1);
    m.walk_beside_tree_sitter = Some(beside);
    Ok(())
}

/// Opens `path` (created if missing) and takes an exclusive lock on it, waiting for whoever holds it; the lock
/// is released when the file is dropped (or the process ends, however it ends).
fn hold_timing_lock(path: &Path) -> anyhow::Result<std::fs::File> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .with_context(|| format!("cannot open the timing lock {}", path.display()))?;
    file.lock()
        .with_context(|| format!("cannot lock {}", path.display()))?;
    Ok(file)
}

/// Every n-th of the files of `sizes` (store positions), n the least that keeps their total near `cap`
/// (all of them when the whole is within it).
pub fn spread_sample(sizes: &[u64], cap: u64) -> impl Iterator<Item = usize> {
    let total: u64 = sizes.iter().sum();
    let step = total.div_ceil(cap.max(1)).max(1) as usize;
    (0..sizes.len()).step_by(step)
}

/// Turns of a pair per repetition asked for: a pair's ratio is a median over turns, each of them short.
pub const PAIR_TURNS_PER_REPETITION: usize = 3;

/// The turns of a pair (and of the walk beside tree-sitter) for `repetitions` asked for: one (of one run each
/// side: a quick check of the answers, as the test suite asks for) for one, else
/// [`PAIR_TURNS_PER_REPETITION`] per repetition. (With one repetition the operations have no pair at all.)
fn pair_turns(repetitions: usize) -> usize {
    if repetitions <= 1 {
        1
    } else {
        repetitions * PAIR_TURNS_PER_REPETITION
    }
}

/// At most this many runs per side of a turn.
const PAIR_MOST_RUNS: usize = 100_000;

/// Runs each of `sides` once (the answers) and then in turns, each side of a turn repeated as often as it
/// takes the slowest side to run for [`PAIR_SIDE_SECONDS`] and the fastest for [`PAIR_FAST_SIDE_SECONDS`]
/// (the same count for every side; one run when one turn is asked for: a quick check), the side that goes
/// first rotating, in this thread's CPU time ([`crate::clock`]: waiting for a core counts for neither side);
/// as many turns as [`repeat_within`] allows. When a side's run for the answers alone took `budget` or more,
/// those runs are the one turn (on pathological files a turn more would double the pair's time and change
/// nothing but the spread). Each side's seconds per run, per turn, and its answer; an error when a side's
/// answer changes.
fn in_turns(
    sides: &mut [&mut dyn FnMut() -> ops::Answer],
    turns: usize,
    budget: Duration,
) -> anyhow::Result<(Vec<Vec<f64>>, Vec<ops::Answer>)> {
    let mut answers = Vec::with_capacity(sides.len());
    let (mut fastest, mut slowest) = (f64::INFINITY, 0f64);
    let mut times: Vec<Vec<f64>> = (0..sides.len())
        .map(|_| Vec::with_capacity(turns))
        .collect();
    let mut first: Vec<f64> = Vec::with_capacity(sides.len());
    for side in sides.iter_mut() {
        let clock = CpuClock::now();
        answers.push(side());
        let took = clock.elapsed().as_secs_f64().max(1e-9);
        (fastest, slowest) = (fastest.min(took), slowest.max(took));
        first.push(took);
    }
    // A quick check, or sides so slow that the answers' runs took the whole budget (pathological files): the
    // answers' runs are the one turn.
    if turns <= 1 || slowest >= budget.as_secs_f64() {
        for (times, took) in times.iter_mut().zip(first) {
            times.push(took);
        }
        return Ok((times, answers));
    }
    let runs = (PAIR_SIDE_SECONDS / slowest)
        .max(PAIR_FAST_SIDE_SECONDS / fastest)
        .ceil()
        .clamp(1.0, PAIR_MOST_RUNS as f64) as usize;
    let count = sides.len();
    repeat_within(turns, budget, |turn| {
        for j in 0..count {
            let i = (j + turn) % count;
            let clock = CpuClock::now();
            for _ in 0..runs {
                if sides[i]() != answers[i] {
                    bail!("answer changed between repetitions");
                }
            }
            times[i].push(clock.elapsed().as_secs_f64() / runs as f64);
        }
        Ok(())
    })?;
    Ok((times, answers))
}

/// The median of `values` (0 for none).
fn median(values: Vec<f64>) -> f64 {
    median_and_p99(values).0
}

/// A store, the files an operation runs over (store positions) and its offsets (by store position).
type Side<'a, S> = (&'a S, &'a [usize], &'a [(usize, u32)]);

/// Times `op` on the backend's side and on tree-sitter's in turns ([`in_turns`]).
fn time_pair<S: CstStore>(
    (ours, ours_files, ours_offsets): Side<'_, S>,
    (theirs, theirs_files, theirs_offsets): Side<'_, TreeSitterStore>,
    op: Operation,
    tables: &KindTables,
    turns: usize,
    budget: Duration,
) -> anyhow::Result<PairedTiming> {
    let (times, answers) = in_turns(
        &mut [
            &mut || ops::run_on(op, ours, tables, ours_files, ours_offsets),
            &mut || ops::run_on(op, theirs, tables, theirs_files, theirs_offsets),
        ],
        turns,
        budget,
    )?;
    Ok(paired(&times[0], &times[1], answers[0] == answers[1]))
}

/// Times `ours` and `theirs` (tree-sitter answering the same question on its own trees of the same files) in
/// turns as every operation's pair is timed ([`in_turns`], the turns `repetitions` asks for): for operations
/// timed outside the harness ([`StoreOperations`]). Call it with counting off, as the harness does.
pub fn time_beside(
    ours: &mut dyn FnMut() -> ops::Answer,
    theirs: &mut dyn FnMut() -> ops::Answer,
    repetitions: usize,
    budget: Duration,
) -> anyhow::Result<PairedTiming> {
    let (times, answers) = in_turns(&mut [ours, theirs], pair_turns(repetitions), budget)?;
    Ok(paired(&times[0], &times[1], answers[0] == answers[1]))
}

/// The pair of two sides' times per turn.
fn paired(ours: &[f64], theirs: &[f64], answers_agree: bool) -> PairedTiming {
    let ratios: Vec<f64> = ours
        .iter()
        .zip(theirs)
        .map(|(&a, &b)| ratio(a, b))
        .collect();
    PairedTiming {
        backend_seconds: median(ours.to_vec()),
        tree_sitter_seconds: median(theirs.to_vec()),
        ratio: median(ratios.clone()),
        ratio_low: ratios.iter().copied().fold(f64::INFINITY, f64::min),
        ratio_high: ratios.iter().copied().fold(0.0, f64::max),
        turns: ours.len() as u64,
        answers_agree,
    }
}

/// Times the backend's walk of `files` (store positions) in turns with tree-sitter's two walks of its own
/// trees of them (`theirs` holds them in the same order): its plain `TreeCursor` walk and its counted cursor.
fn walk_beside<S: CstStore>(
    ours: &S,
    files: &[usize],
    theirs: &TreeSitterStore,
    turns: usize,
    budget: Duration,
) -> WalkBesideTreeSitter {
    let (times, answers) = in_turns(
        &mut [
            &mut || ops::walk(ours, files.iter().copied()),
            &mut || ops::walk(theirs, 0..theirs.len()),
            &mut || ops::walk_counted(theirs, 0..theirs.len()),
        ],
        turns,
        budget,
    )
    .expect("a walk's answer does not change");
    let over = |side: usize| -> f64 {
        median(
            times[side]
                .iter()
                .zip(&times[0])
                .map(|(&b, &a)| ratio(b, a))
                .collect(),
        )
    };
    WalkBesideTreeSitter {
        files: files.len() as u64,
        nodes: answers[1].items,
        backend_seconds: median(times[0].clone()),
        tree_sitter_seconds: median(times[1].clone()),
        times_as_fast: over(1),
        counted_cursor_seconds: median(times[2].clone()),
        times_as_fast_counted_cursor: over(2),
        turns: times[0].len() as u64,
        answers_agree: answers[0] == answers[1] && answers[1] == answers[2],
    }
}

/// Times the backend's walk of `files` (store positions, with text and language) in turns with tree-sitter's
/// two walks of its own trees of them, parsed here (see [`walk_beside`]).
pub fn walk_beside_tree_sitter<S: CstStore>(
    store: &S,
    files: &[(usize, &str, Language)],
    repetitions: usize,
    budget: Duration,
) -> WalkBesideTreeSitter {
    let mut native = TreeSitterStore::new();
    for &(_, text, language) in files {
        native
            .add(language, text, language.parse(text))
            .expect("tree-sitter's store holds any tree");
    }
    let positions: Vec<usize> = files.iter().map(|f| f.0).collect();
    walk_beside(store, &positions, &native, repetitions, budget)
}

/// Runs `op` on `files` of `store` until it has run `repetitions` times or another run would end past
/// `budget` (at least once); the median run's seconds. Every run's answer must be the same.
fn time_runs<S: CstStore>(
    op: Operation,
    store: &S,
    tables: &KindTables,
    files: &[usize],
    offsets: &[(usize, u32)],
    repetitions: usize,
    budget: Duration,
) -> anyhow::Result<f64> {
    let mut times = Vec::with_capacity(repetitions);
    let mut answer = None;
    repeat_within(repetitions, budget, |_| {
        let clock = Instant::now();
        let this = ops::run_on(op, store, tables, files, offsets);
        times.push(clock.elapsed().as_secs_f64());
        if answer.is_some_and(|a| a != this) {
            bail!("{}: answer changed between repetitions", op.name());
        }
        answer = Some(this);
        Ok(())
    })?;
    Ok(median(times))
}

/// Runs `op` on `files` of `store` (with `offsets` by store position) until it has run `repetitions` times or
/// another run would end past `budget` (at least once), counted: the median, and the working memory, the
/// highest rise of the live bytes of the whole process ([`alloc::Watch`]) over any run. Every run's answer
/// must be the same. The median is replaced by an uncounted one where that is timed.
fn time_operation<S: CstStore>(
    op: Operation,
    store: &S,
    tables: &KindTables,
    files: &[usize],
    offsets: &[(usize, u32)],
    repetitions: usize,
    budget: Duration,
) -> anyhow::Result<OperationTiming> {
    let mut times = Vec::with_capacity(repetitions);
    let mut answer = None;
    let mut working = 0u64;
    repeat_within(repetitions, budget, |_| {
        let watch = alloc::Watch::start();
        let clock = Instant::now();
        let this = ops::run_on(op, store, tables, files, offsets);
        let elapsed = clock.elapsed();
        working = working.max(watch.stop());
        times.push(elapsed.as_secs_f64());
        if answer.is_some_and(|a| a != this) {
            bail!("{}: answer changed between repetitions", op.name());
        }
        answer = Some(this);
        Ok(())
    })?;
    let answer = answer.expect("at least one repetition");
    let counted = median(times.clone());
    Ok(OperationTiming {
        operation: op,
        repetitions: times.len() as u64,
        median_seconds: counted,
        counted_seconds: counted,
        items: answer.items,
        answer: format!("{:016x}", answer.digest),
        working_bytes: working,
        beside: None,
    })
}

/// Calls `run` with the number of runs made so far, as often as [`another_run`] allows (the first call
/// always), stopping at its first error.
fn repeat_within(
    repetitions: usize,
    budget: Duration,
    mut run: impl FnMut(usize) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let (started, mut slowest, mut runs) = (Instant::now(), Duration::ZERO, 0);
    while another_run(runs, repetitions, started.elapsed() + slowest, budget) {
        let clock = Instant::now();
        run(runs)?;
        slowest = slowest.max(clock.elapsed());
        runs += 1;
    }
    Ok(())
}

/// Whether a timing loop that has made `runs` runs makes another: always a first one, then up to
/// `repetitions` while it should end within `budget` (`ends_by`: time spent plus the slowest run so far). An
/// operation that takes most of the budget runs once, never twice the budget.
fn another_run(runs: usize, repetitions: usize, ends_by: Duration, budget: Duration) -> bool {
    runs == 0 || (runs < repetitions && ends_by <= budget)
}

/// What one file measured alone contributes to the per-file sums.
struct FileResult {
    index: usize,
    retained_bytes: u64,
    retained_footprint: u64,
    retained_blocks: u64,
    allocations: u64,
    peak_bytes: u64,
    parser_bytes: u64,
    parser_footprint: u64,
    parse_errors: u64,
    parse: Duration,
    convert: Duration,
    free: Duration,
    walk: Duration,
    failures: Vec<FileFailure>,
    /// `Some` when the store held the file: its verification.
    verified: Option<Result<u64, String>>,
}

/// Builds, verifies and drops one file's store on the calling thread.
fn measure_one<B: Backend>(
    corpus: &Corpus,
    index: usize,
    references: &References,
    lookup_checks: usize,
) -> anyhow::Result<FileResult> {
    let file = &corpus.files[index];
    let text = file.text()?;
    let language = file.language;
    let built = build::<B>(&[(index, &text, language)], corpus);
    let reference = references.get(index)?;
    let verified = (!built.held.is_empty())
        .then(|| verify(&built.store, 0, language, &text, &reference, lookup_checks));
    release(built.store, built.retained_bytes, &file.path)?;
    Ok(FileResult {
        index,
        retained_bytes: built.retained_bytes,
        retained_footprint: built.retained_footprint,
        retained_blocks: built.retained_blocks,
        allocations: built.allocations,
        peak_bytes: built.peak_bytes,
        parser_bytes: built.parser_bytes,
        parser_footprint: built.parser_footprint,
        parse_errors: built.parse_errors,
        parse: built.parse,
        convert: built.convert,
        free: built.free,
        walk: built.walk,
        failures: built.failures,
        verified,
    })
}

/// Per-file mode: each file's CST is built, measured, verified and dropped alone, so memory stays near the
/// largest single file's cost (per thread) whatever the corpus size. `jobs` threads take files in turn; each
/// file is measured entirely on one thread, whose counters see only its own work, and the results are summed
/// in corpus order, so every figure but the times is the same for any number of jobs.
fn measure_per_file<B: Backend>(
    corpus: &Corpus,
    options: &MeasureOptions,
    references: &References,
    m: &mut BackendMeasurement,
    progress: &mut dyn Progress,
) -> anyhow::Result<()> {
    let total = corpus.files.len();
    progress.phase("measuring per file", total as u64);
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let results: Mutex<Vec<FileResult>> = Mutex::new(Vec::with_capacity(total));
    let error: Mutex<Option<anyhow::Error>> = Mutex::new(None);
    let jobs = options.jobs.clamp(1, total.max(1));
    // Workers still running: each one's guard counts it out when it returns or panics, so that the
    // progress loop ends either way (the scope then passes a worker's panic on).
    let running = AtomicUsize::new(jobs);
    struct Running<'a>(&'a AtomicUsize);
    impl Drop for Running<'_> {
        fn drop(&mut self) {
            self.0.fetch_sub(1, Ordering::Relaxed);
        }
    }
    let (next, done, results, error) = (&next, &done, &results, &error);
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            let guard = Running(&running);
            scope.spawn(move || loop {
                let _running = &guard;
                let index = next.fetch_add(1, Ordering::Relaxed);
                if index >= total || error.lock().map_or(true, |e| e.is_some()) {
                    return;
                }
                match measure_one::<B>(corpus, index, references, options.lookup_checks) {
                    Ok(result) => results
                        .lock()
                        .expect("a measuring thread panicked")
                        .push(result),
                    Err(e) => {
                        *error.lock().expect("a measuring thread panicked") = Some(e);
                        return;
                    }
                }
                done.fetch_add(1, Ordering::Relaxed);
            });
        }
        // This thread reports progress while the others measure.
        let mut reported = 0;
        loop {
            let now = done.load(Ordering::Relaxed);
            if now != reported {
                reported = now;
                progress.advance(now as u64);
            }
            if now >= total
                || running.load(Ordering::Relaxed) == 0
                || error.lock().map_or(true, |e| e.is_some())
            {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    });
    if let Some(error) = error.lock().expect("a measuring thread panicked").take() {
        return Err(error);
    }
    let mut results = std::mem::take(&mut *results.lock().expect("a measuring thread panicked"));
    results.sort_by_key(|r| r.index);
    for r in results {
        m.retained_bytes += r.retained_bytes;
        m.retained_footprint += r.retained_footprint;
        m.retained_blocks += r.retained_blocks;
        m.allocations_during_build += r.allocations;
        m.peak_bytes = m.peak_bytes.max(r.peak_bytes);
        m.parser_bytes = m.parser_bytes.max(r.parser_bytes);
        m.parser_footprint = m.parser_footprint.max(r.parser_footprint);
        m.parse_errors += r.parse_errors;
        m.parse_seconds += r.parse.as_secs_f64();
        m.convert_seconds += r.convert.as_secs_f64();
        m.free_seconds += r.free.as_secs_f64();
        m.walk_seconds += r.walk.as_secs_f64();
        for failure in r.failures {
            record_failure(m, failure);
        }
        if let Some(verified) = r.verified {
            record_verification(m, &corpus.files[r.index].path, verified);
        }
    }
    progress.advance(total as u64);
    Ok(())
}

/// A registered backend: its name and its [`measure`] and [`measure_edits`] instantiated for it (the compare
/// run measures its edit sessions in a process of their own). The `backends` crate lists one per row of the
/// results.
#[derive(Clone, Copy)]
pub struct BackendEntry {
    pub name: &'static str,
    pub shares_across_files: bool,
    pub measure:
        fn(&Corpus, &MeasureOptions, &mut dyn Progress) -> anyhow::Result<BackendMeasurement>,
    pub measure_edits:
        fn(&Corpus, &EditOptions, &mut dyn Progress) -> anyhow::Result<EditMeasurement>,
    /// Saving, opening and the restart measurement ([`crate::restart`]).
    pub saved: crate::restart::SavedOps,
    /// The row's [`StoreOperations`] alone on a fresh store ([`run_store_operations`]; none unless
    /// [`BackendEntry::with_operations`] set them).
    pub store_operations:
        fn(&Corpus, &MeasureOptions, &mut dyn Progress) -> anyhow::Result<BackendMeasurement>,
}

impl BackendEntry {
    /// The entry for backend `B`.
    pub const fn of<B: Backend>() -> BackendEntry {
        BackendEntry {
            name: B::NAME,
            shares_across_files: B::SHARES_ACROSS_FILES,
            measure: measure::<B>,
            measure_edits: measure_edits::<B>,
            saved: crate::restart::SavedOps::of::<B>(),
            store_operations: run_store_operations::<B, NoStoreOperations>,
        }
    }

    /// This entry (of backend `B`) with the operations `X` timed on its store too ([`measure_with`]).
    pub const fn with_operations<B: Backend, X: StoreOperations>(self) -> BackendEntry {
        BackendEntry {
            measure: measure_with::<B, X>,
            store_operations: run_store_operations::<B, X>,
            ..self
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{another_run, spread_sample};
    use std::time::Duration;

    #[test]
    fn the_walk_beside_tree_sitter_takes_every_file_or_an_even_spread_near_the_cap() {
        let all: Vec<usize> = spread_sample(&[10, 20, 30], 100).collect();
        assert_eq!(all, [0, 1, 2]);
        // 1,000 bytes in 100 files against a cap of 250: every 4th file, 250 bytes.
        let spread: Vec<usize> = spread_sample(&[10; 100], 250).collect();
        assert_eq!((spread.len(), spread[1], spread[24]), (25, 4, 96));
        assert_eq!(spread_sample(&[], 250).count(), 0);
    }

    #[test]
    fn repetitions_stop_before_a_run_that_would_end_past_the_budget() {
        let (budget, ms) = (Duration::from_secs(2), Duration::from_millis);
        // Always one run, however slow the operation.
        assert!(another_run(0, 5, Duration::MAX, budget));
        // A 1.9 s run is not repeated (a second would end near 3.8 s); a 0.5 s one is, until the fifth.
        assert!(!another_run(1, 5, ms(1900) + ms(1900), budget));
        assert!(another_run(3, 5, ms(1500) + ms(500), budget));
        assert!(!another_run(4, 5, ms(2000) + ms(500), budget));
        assert!(!another_run(5, 5, ms(10), budget));
        // No repetitions asked for past the first.
        assert!(!another_run(1, 1, ms(1), budget));
    }
}
