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
//! that drift. The one ratio a target is set on, the full walk against tree-sitter's cursor, is therefore also
//! measured within the process ([`WalkBesideTreeSitter`]): after everything else, the files are parsed again
//! (all, or every n-th up to about [`BESIDE_TREE_SITTER_BYTES`]) and the backend's walk and tree-sitter's
//! alternate, under the same repetitions and budget as an operation.

use crate::alloc;
use crate::backend::{Backend, CstStore};
use crate::corpus::{Corpus, CorpusFile};
use crate::measurement::{median_and_p99, ratio};
pub use crate::measurement::{
    BackendMeasurement, FileFailure, NoProgress, OperationTiming, Progress, ScalingPoint,
    WalkBesideTreeSitter, BESIDE_TREE_SITTER_BYTES,
};
use crate::ops::{self, KindTables, Operation, OPERATIONS};
use crate::reference::ReferenceTree;
use crate::references::References;
use crate::session::{measure_edits, EditMeasurement, EditOptions};
use crate::verify::{spread_offsets, verify_against, verify_lookups};
use crate::Language;
use anyhow::{bail, Context};

use std::borrow::Cow;
use std::path::PathBuf;
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

/// Measures backend `B` on `corpus`.
pub fn measure<B: Backend>(
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
        measure_whole::<B>(corpus, options, &references, &mut m, progress)?;
    }
    if options.edit.edits > 0 {
        m.edits = Some(measure_edits::<B>(corpus, &options.edit, progress)?);
    }
    m.wall_seconds = clock.elapsed().as_secs_f64();
    Ok(m)
}

fn record_failure(m: &mut BackendMeasurement, failure: FileFailure) {
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
fn measure_whole<B: Backend>(
    corpus: &Corpus,
    options: &MeasureOptions,
    references: &References,
    m: &mut BackendMeasurement,
    progress: &mut dyn Progress,
) -> anyhow::Result<()> {
    progress.phase("loading", corpus.files.len() as u64);
    let texts: Vec<Cow<'_, str>> = corpus
        .files
        .iter()
        .map(CorpusFile::text)
        .collect::<anyhow::Result<_>>()?;
    let all: Vec<(usize, &str, Language)> = texts
        .iter()
        .enumerate()
        .map(|(i, text)| (i, &**text, corpus.files[i].language))
        .collect();
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
        let tables = KindTables::new();
        let sizes: Vec<u64> = built.held.iter().map(|&i| corpus.files[i].bytes).collect();
        let offsets = ops::sample_offsets(&sizes, options.offset_samples);
        progress.phase("operations", OPERATIONS.len() as u64);
        let has_native = offsets
            .first()
            .is_some_and(|&(file, offset)| store.native_node_at_offset(file, offset).is_some());
        for (done, &op) in OPERATIONS.iter().enumerate() {
            if op == Operation::NativeNodeAtOffset && !has_native {
                continue;
            }
            m.operations.push(time_operation(
                op,
                &store,
                &tables,
                &offsets,
                options.repetitions,
                options.budget,
            )?);
            progress.advance(done as u64 + 1);
        }
        let files: Vec<(usize, &str, Language)> = spread_sample(&sizes, BESIDE_TREE_SITTER_BYTES)
            .map(|position| {
                let (_, text, language) = all[built.held[position]];
                (position, text, language)
            })
            .collect();
        progress.phase("walking beside tree-sitter", files.len() as u64);
        m.walk_beside_tree_sitter = Some(walk_beside_tree_sitter(
            &store,
            &files,
            options.repetitions,
            options.budget,
        ));
        progress.advance(files.len() as u64);
    }
    release(store, retained, "whole corpus").context(B::NAME)
}

/// Every n-th of the files of `sizes` (store positions), n the least that keeps their total near `cap`
/// (all of them when the whole is within it).
fn spread_sample(sizes: &[u64], cap: u64) -> impl Iterator<Item = usize> {
    let total: u64 = sizes.iter().sum();
    let step = total.div_ceil(cap.max(1)).max(1) as usize;
    (0..sizes.len()).step_by(step)
}

/// Times the backend's walk of `files` (store positions, with text and language) in turns with tree-sitter's
/// walk of its own trees of them, parsed here; the first walk of each turn alternates.
pub fn walk_beside_tree_sitter<S: CstStore>(
    store: &S,
    files: &[(usize, &str, Language)],
    repetitions: usize,
    budget: Duration,
) -> WalkBesideTreeSitter {
    let trees: Vec<(tree_sitter::Tree, &str)> = files
        .iter()
        .map(|&(_, text, language)| (language.parse(text), text))
        .collect();
    let timed = |walk: &dyn Fn() -> ops::Answer| {
        let clock = Instant::now();
        let answer = walk();
        (clock.elapsed(), answer)
    };
    let ours = || ops::walk(store, files.iter().map(|f| f.0));
    let theirs = || ops::walk_trees(&trees);
    let (mut turns, mut answers) = (Vec::new(), None);
    repeat_within(repetitions, budget, |turn| {
        let ((backend, our_answer), (tree_sitter, their_answer)) = if turn % 2 == 0 {
            (timed(&ours), timed(&theirs))
        } else {
            let theirs = timed(&theirs);
            (timed(&ours), theirs)
        };
        answers = Some((our_answer, their_answer));
        turns.push((backend.as_secs_f64(), tree_sitter.as_secs_f64()));
        Ok(())
    })
    .expect("the turns never fail");
    let median = |values: Vec<f64>| median_and_p99(values).0;
    let (ours, theirs) = answers.expect("at least one turn");
    WalkBesideTreeSitter {
        files: files.len() as u64,
        nodes: theirs.items,
        backend_seconds: median(turns.iter().map(|t| t.0).collect()),
        tree_sitter_seconds: median(turns.iter().map(|t| t.1).collect()),
        times_as_fast: median(turns.iter().map(|t| ratio(t.1, t.0)).collect()),
        turns: turns.len() as u64,
        answers_agree: ours == theirs,
    }
}

/// Runs `op` until it has run `repetitions` times or another run would end past `budget` (at least once);
/// every run's answer must be the same.
fn time_operation<S: CstStore>(
    op: Operation,
    store: &S,
    tables: &KindTables,
    offsets: &[(usize, u32)],
    repetitions: usize,
    budget: Duration,
) -> anyhow::Result<OperationTiming> {
    let mut times = Vec::with_capacity(repetitions);
    let mut answer = None;
    repeat_within(repetitions, budget, |_| {
        let clock = Instant::now();
        let this = ops::run(op, store, tables, offsets);
        times.push(clock.elapsed().as_secs_f64());
        if answer.is_some_and(|a| a != this) {
            bail!("{}: answer changed between repetitions", op.name());
        }
        answer = Some(this);
        Ok(())
    })?;
    let answer = answer.expect("at least one repetition");
    Ok(OperationTiming {
        operation: op,
        repetitions: times.len() as u64,
        median_seconds: median_and_p99(times).0,
        items: answer.items,
        answer: format!("{:016x}", answer.digest),
        working_bytes: 0,
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
