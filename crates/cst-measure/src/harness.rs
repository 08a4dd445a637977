//! Measures one backend in this process: build (memory at the allocator, time), scaling slices, verification
//! and operations. Run one backend per process so that nothing another backend did can show in its counts.
//!
//! Memory figures are differences of [`crate::alloc`] snapshots taken around the build, with the corpus text
//! already loaded (it is the input, not part of any CST). Parsers are created inside the build and dropped
//! before the retained bytes are read: their memory shows in the peak and, separately, as `parser_bytes`.

use crate::alloc;
use crate::backend::{Backend, CstStore};
use crate::corpus::{Corpus, CorpusFile};
use crate::ops::{self, KindTables, Operation, OPERATIONS};
use crate::verify::verify_file;
use crate::Language;
use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::time::{Duration, Instant};

/// How to measure.
#[derive(Clone, Debug)]
pub struct MeasureOptions {
    /// Measure each file alone and sum (bounded memory), instead of holding the whole corpus.
    pub per_file: bool,
    /// Corpus slices (file counts) for the scaling table; counts at or above the corpus size are left out.
    pub scaling_steps: Vec<usize>,
    /// Repetitions per operation timing (the median is reported); 0 skips the operations.
    pub repetitions: usize,
    /// Byte offsets sampled for the node-at-offset operations.
    pub offset_samples: usize,
}

impl Default for MeasureOptions {
    fn default() -> Self {
        MeasureOptions {
            per_file: false,
            scaling_steps: vec![100, 300, 1000],
            repetitions: 5,
            offset_samples: ops::OFFSET_SAMPLES,
        }
    }
}

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
    pub build_seconds: f64,
}

/// One operation's timing and answer.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct OperationTiming {
    pub operation: Operation,
    /// Median over the repetitions.
    pub median_seconds: f64,
    /// Nodes or offsets covered by one run.
    pub items: u64,
    /// Digest of the answer, hex; equal across backends when they agree.
    pub answer: String,
}

/// Everything measured for one backend, before derived figures.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct BackendMeasurement {
    pub name: String,
    pub retains: String,
    pub includes_source: bool,
    pub shares_across_files: bool,
    pub per_file: bool,
    /// Files the backend was given (the corpus's measured files).
    pub files: u64,
    pub lines: u64,
    pub source_bytes: u64,
    /// Bytes still allocated for the CSTs once built (parsers dropped).
    pub retained_bytes: u64,
    /// Heap blocks those bytes occupy.
    pub retained_blocks: u64,
    /// Allocations made while building (parsers and transient trees included).
    pub allocations_during_build: u64,
    /// Highest bytes live above the starting point while building (whole-corpus mode), or the largest
    /// single file's peak (per-file mode).
    pub peak_bytes: u64,
    /// Bytes the parsers held once the whole corpus was parsed (freed before `retained_bytes` is read).
    pub parser_bytes: u64,
    /// Visible nodes of the reference parses.
    pub nodes: u64,
    /// Files whose parse has ERROR or MISSING nodes (measured and verified like any other).
    pub parse_errors: u64,
    pub parse_seconds: f64,
    pub convert_seconds: f64,
    pub files_verified: u64,
    /// Files that failed to build or verify (all of them counted in `failed_files`, the first few listed).
    pub failed_files: u64,
    pub failures: Vec<FileFailure>,
    pub scaling: Vec<ScalingPoint>,
    pub operations: Vec<OperationTiming>,
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
    retained_blocks: u64,
    allocations: u64,
    peak_bytes: u64,
    parser_bytes: u64,
    parse: Duration,
    convert: Duration,
}

/// Builds a store from `files` (corpus index and text), counting memory from the current live bytes.
fn build<B: Backend>(files: &[(usize, &str, Language)], paths: &Corpus) -> Build<B::Store> {
    let start = alloc::snapshot();
    alloc::reset_peak();
    let mut parsers: [Option<tree_sitter::Parser>; 4] = Default::default();
    let mut store = B::new_store();
    let mut held = Vec::with_capacity(files.len());
    let mut failures = Vec::new();
    let mut parse_errors = 0;
    let (mut parse, mut convert) = (Duration::ZERO, Duration::ZERO);
    for &(index, text, language) in files {
        let parser = parsers[language.index()].get_or_insert_with(|| language.parser());
        let clock = Instant::now();
        let tree = parser
            .parse(text, None)
            .expect("no timeout or cancellation is set, so tree-sitter always returns a tree");
        parse += clock.elapsed();
        parse_errors += u64::from(tree.root_node().has_error());
        let clock = Instant::now();
        let added = store.add(language, text, tree);
        convert += clock.elapsed();
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
    let with_parsers = alloc::snapshot();
    drop(parsers);
    let end = alloc::snapshot();
    // The harness's own bookkeeping was allocated inside the measured region; take it out again (the counts
    // are of requested sizes, so these are exact).
    let bookkeeping = held.capacity() * std::mem::size_of::<usize>()
        + failures.capacity() * std::mem::size_of::<FileFailure>()
        + failures
            .iter()
            .map(|f| f.path.capacity() + f.error.capacity())
            .sum::<usize>();
    let bookkeeping_blocks = u64::from(held.capacity() > 0)
        + u64::from(failures.capacity() > 0)
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
        retained_blocks: end.live_blocks - start.live_blocks - bookkeeping_blocks,
        allocations: end.allocations - start.allocations,
        peak_bytes: end.peak_bytes - start.live_bytes,
        parser_bytes: with_parsers.live_bytes - end.live_bytes,
        parse,
        convert,
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
    let mut m = BackendMeasurement {
        name: B::NAME.into(),
        retains: B::RETAINS.into(),
        includes_source: B::INCLUDES_SOURCE,
        shares_across_files: B::SHARES_ACROSS_FILES,
        per_file: options.per_file,
        files: corpus.files.len() as u64,
        lines: corpus.lines(),
        source_bytes: corpus.source_bytes(),
        retained_bytes: 0,
        retained_blocks: 0,
        allocations_during_build: 0,
        peak_bytes: 0,
        parser_bytes: 0,
        nodes: 0,
        parse_errors: 0,
        parse_seconds: 0.0,
        convert_seconds: 0.0,
        files_verified: 0,
        failed_files: 0,
        failures: Vec::new(),
        scaling: Vec::new(),
        operations: Vec::new(),
    };
    if options.per_file {
        measure_per_file::<B>(corpus, &mut m, progress)?;
    } else {
        measure_whole::<B>(corpus, options, &mut m, progress)?;
    }
    Ok(m)
}

fn record_failure(m: &mut BackendMeasurement, failure: FileFailure) {
    m.failed_files += 1;
    if m.failures.len() < LISTED_FAILURES {
        m.failures.push(failure);
    }
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
            build_seconds: (built.parse + built.convert).as_secs_f64(),
        }
    }
}

/// Whole-corpus mode: every CST alive at once, as an application holding them would have them.
fn measure_whole<B: Backend>(
    corpus: &Corpus,
    options: &MeasureOptions,
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
    m.retained_blocks = built.retained_blocks;
    m.allocations_during_build = built.allocations;
    m.peak_bytes = built.peak_bytes;
    m.parser_bytes = built.parser_bytes;
    m.parse_errors = built.parse_errors;
    m.parse_seconds = built.parse.as_secs_f64();
    m.convert_seconds = built.convert.as_secs_f64();
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
    let mut parsers: [Option<tree_sitter::Parser>; 4] = Default::default();
    for (position, &index) in built.held.iter().enumerate() {
        let (text, language) = (all[index].1, all[index].2);
        let parser = parsers[language.index()].get_or_insert_with(|| language.parser());
        let reference = parser.parse(text, None).expect("no timeout is set");
        let verified = verify_file(&store, position, text, &reference);
        record_verification(m, &corpus.files[index].path, verified);
        progress.advance(position as u64 + 1);
    }
    drop(parsers);

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
            )?);
            progress.advance(done as u64 + 1);
        }
    }
    release(store, retained, "whole corpus").context(B::NAME)
}

/// Runs `op` `repetitions` times; the answer must not change between runs.
fn time_operation<S: CstStore>(
    op: Operation,
    store: &S,
    tables: &KindTables,
    offsets: &[(usize, u32)],
    repetitions: usize,
) -> anyhow::Result<OperationTiming> {
    let mut times = Vec::with_capacity(repetitions);
    let mut answer = None;
    for _ in 0..repetitions {
        let clock = Instant::now();
        let this = ops::run(op, store, tables, offsets);
        times.push(clock.elapsed().as_secs_f64());
        if answer.is_some_and(|a| a != this) {
            bail!("{}: answer changed between repetitions", op.name());
        }
        answer = Some(this);
    }
    times.sort_by(f64::total_cmp);
    let answer = answer.expect("at least one repetition");
    Ok(OperationTiming {
        operation: op,
        median_seconds: times[times.len() / 2],
        items: answer.items,
        answer: format!("{:016x}", answer.digest),
    })
}

/// Per-file mode: each file's CST is built, measured, verified and dropped before the next, so memory stays
/// near the largest single file's cost whatever the corpus size. Retained bytes are the exact per-file sums.
fn measure_per_file<B: Backend>(
    corpus: &Corpus,
    m: &mut BackendMeasurement,
    progress: &mut dyn Progress,
) -> anyhow::Result<()> {
    progress.phase("measuring per file", corpus.files.len() as u64);
    for (index, file) in corpus.files.iter().enumerate() {
        let text = file.text()?;
        let language = file.language;
        let built = build::<B>(&[(index, &text, language)], corpus);
        m.retained_bytes += built.retained_bytes;
        m.retained_blocks += built.retained_blocks;
        m.allocations_during_build += built.allocations;
        m.peak_bytes = m.peak_bytes.max(built.peak_bytes);
        m.parser_bytes = m.parser_bytes.max(built.parser_bytes);
        m.parse_errors += built.parse_errors;
        m.parse_seconds += built.parse.as_secs_f64();
        m.convert_seconds += built.convert.as_secs_f64();
        for failure in built.failures {
            record_failure(m, failure);
        }
        if !built.held.is_empty() {
            let reference = language.parse(&text);
            let verified = verify_file(&built.store, 0, &text, &reference);
            record_verification(m, &file.path, verified);
        }
        release(built.store, built.retained_bytes, &file.path)?;
        progress.advance(index as u64 + 1);
    }
    Ok(())
}

/// A registered backend: its name and its [`measure`] instantiated for it. The `backends` crate lists one
/// per row of the results.
#[derive(Clone, Copy)]
pub struct BackendEntry {
    pub name: &'static str,
    pub shares_across_files: bool,
    pub measure:
        fn(&Corpus, &MeasureOptions, &mut dyn Progress) -> anyhow::Result<BackendMeasurement>,
}

impl BackendEntry {
    /// The entry for backend `B`.
    pub const fn of<B: Backend>() -> BackendEntry {
        BackendEntry {
            name: B::NAME,
            shares_across_files: B::SHARES_ACROSS_FILES,
            measure: measure::<B>,
        }
    }
}
