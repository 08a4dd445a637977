//! `cargo xtask`: the project's automation.
//!
//! - `cargo xtask compare [--corpus DIR] [--out DIR] [--backends A,B] [--per-file] ...` measures every backend
//!   in a fresh process of its own (under a memory limit) and writes `compare.md`, `compare.json` and the
//!   charts (`charts.rs`: bytes per CST, scaling, operations, edits, and the size–speed and size–lookup charts
//!   `compare.md` shows under its verdict) to `results/` (and the README's results section), or, when
//!   something failed, to `--out` or `target/compare-failed/`.
//! - `cargo xtask corpus --out DIR` writes the built-in corpus to disk.
//! - `cargo xtask bad-inputs --out DIR` writes a folder of awkward inputs to measure.
//! - `cargo xtask check-corpora --training DIR --measured DIR` refuses a training set and a measured set that
//!   share a source file, a package, a repository or a listed fork (`scripts/fetch-real-code.sh` runs it).
//! - `cargo xtask save [--corpus DIR] --backend B --out FILE` builds a corpus's store and saves it;
//!   `cargo xtask open FILE [--verify DIR]` says what a saved file holds and, given its corpus, verifies it
//!   (listing the files that changed since the save instead).
//! - `cargo xtask query --corpus DIR --query FILE.scm [--language L] [--backends A,B]` runs a query file on
//!   every backend over a directory and compares each backend's answers with tree-sitter's `QueryCursor`
//!   (`query.rs`); it fails on a mismatch or a query that does not compile.
//! - `cargo xtask compare-runs A B` prints every ratio to tree-sitter of two compare runs side by side and how
//!   many agree within ±15% (`runs.rs`).
//!
//! The `measure-backend`, `measure-edits` and `measure-restart` subcommands are internal: they are the child
//! processes that measure one backend (its edit sessions in a process of their own) and the restarts.

mod charts;
mod compare;
mod corpora;
mod output;
mod query;
mod runs;
mod saved;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

// Every measurement is taken in this binary, so it must count at the allocator.
#[global_allocator]
static ALLOCATOR: cst_measure::alloc::MeasuringAllocator =
    cst_measure::alloc::MeasuringAllocator::new();

#[derive(Parser)]
#[command(name = "cargo xtask", about = "Measure CST storage strategies")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Which files to measure; shared by `compare` and its child processes.
#[derive(clap::Args, Clone, Debug)]
pub struct CorpusArgs {
    /// Directory (or single file) to measure instead of the built-in corpus.
    #[arg(long, value_name = "DIR")]
    pub corpus: Option<PathBuf>,
    /// Measure only this many files, spread evenly over the corpus (quick runs).
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
    /// Files larger than this are skipped, with the reason recorded.
    #[arg(long, value_name = "BYTES", default_value_t = cst_measure::corpus::DEFAULT_MAX_FILE_BYTES)]
    pub max_file_bytes: u64,
    /// Measure each file's CST alone and sum the exact per-file figures: bounded memory for any corpus size.
    #[arg(long)]
    pub per_file: bool,
    /// Most repetitions of each timed operation (the median is reported); 0 skips the operations.
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub repetitions: usize,
    /// Seconds an operation's repetitions may take: none starts that would end past them, judged by the
    /// slowest run so far (it always completes one run, which gives the answer).
    #[arg(long, value_name = "SECONDS", default_value_t = cst_measure::harness::DEFAULT_BUDGET.as_secs_f64())]
    pub budget: f64,
    /// Byte offsets sampled (fixed seed) for the node-at-offset operations.
    #[arg(long, value_name = "N", default_value_t = cst_measure::ops::OFFSET_SAMPLES)]
    pub offsets: usize,
    /// Measuring processes run at once (one per backend, one per backend's edit sessions, one per text-only
    /// row) [default: all cores]. Each runs on
    /// one core; with more than one, timings share the machine's memory bandwidth with a neighbour.
    #[arg(long, value_name = "N")]
    pub processes: Option<usize>,
    /// Files measured at once in per-file mode, per process [default: the cores left to each process].
    #[arg(long, value_name = "N")]
    pub jobs: Option<usize>,
    /// Edits per file in the edit sessions (0 skips them).
    #[arg(long, value_name = "N", default_value_t = cst_measure::session::EditOptions::default().edits)]
    pub edits: usize,
    /// Files edited, spread evenly over the corpus.
    #[arg(long, value_name = "N", default_value_t = cst_measure::session::EditOptions::default().files)]
    pub edit_files: usize,
    /// Files larger than this are left out of the edit sessions.
    #[arg(long, value_name = "BYTES", default_value_t = cst_measure::session::EditOptions::default().max_file_bytes)]
    pub edit_max_file_bytes: u64,
    /// Nodes an edited file's session may rebuild and verify in all (its nodes, hidden ones included, times its
    /// edits): a file with more nodes than this over --edits makes fewer edits, at least one.
    #[arg(long, value_name = "N", default_value_t = cst_measure::session::EditOptions::default().max_session_nodes)]
    pub edit_nodes: u64,
    /// Versions of each edited file kept alive (the current one included).
    #[arg(long, value_name = "N", default_value_t = cst_measure::session::EditOptions::default().versions)]
    pub versions: usize,
    /// Bytes a measuring process may hold; a backend that needs more stops with an error naming the file
    /// [default: 75% of physical memory, shared among the processes run at once].
    #[arg(long, value_name = "BYTES")]
    pub memory_limit: Option<u64>,
    /// Bytes of thaw buffers each frozen cursor keeps [default: backend_frozen::DEFAULT_THAW_BUDGET, 1 MiB].
    #[arg(long, value_name = "BYTES")]
    pub frozen_thaw_budget: Option<u64>,
}

impl CorpusArgs {
    /// The memory limit of each measuring process: the one given, or its share of 75% of physical memory (none
    /// if that cannot be read).
    pub fn memory_limit(&self) -> Option<u64> {
        let processes = self.processes() as u64;
        self.memory_limit.or_else(|| {
            let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
            let kib: u64 = meminfo
                .lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))?
                .trim()
                .strip_suffix("kB")?
                .trim()
                .parse()
                .ok()?;
            Some(kib * 1024 / 4 * 3 / processes)
        })
    }

    /// Measuring processes at once.
    pub fn processes(&self) -> usize {
        self.processes.unwrap_or_else(cores).max(1)
    }

    /// Threads for per-file mode, in each process.
    pub fn jobs(&self) -> usize {
        self.jobs
            .unwrap_or_else(|| cores() / self.processes())
            .max(1)
    }
}

/// The machine's cores.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
}

#[derive(Subcommand)]
enum Command {
    /// Measure every backend over a corpus and write the results.
    Compare {
        #[command(flatten)]
        corpus: CorpusArgs,
        /// Where the results go [default: the workspace's `results/`, which also refreshes the README's
        /// results section].
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Backends to run, comma-separated (default: all registered).
        #[arg(long, value_name = "NAMES", value_delimiter = ',')]
        backends: Vec<String>,
        /// (tests) Act as if the workspace were DIR: its `results/`, `README.md` and `target/`.
        #[arg(long, value_name = "DIR", hide = true)]
        root: Option<PathBuf>,
    },
    /// Print every ratio to tree-sitter of two compare runs (their output directories or compare.json files)
    /// side by side, and how many agree within ±15%.
    CompareRuns { a: PathBuf, b: PathBuf },
    /// Run a query file on every backend over a directory, compare each backend's `matches` and `captures`
    /// with tree-sitter's `QueryCursor`, and print times and mismatches; fails on a mismatch or a query that
    /// does not compile (printed with its row and column). `; inherits:` lines are not resolved.
    Query {
        #[command(flatten)]
        corpus: CorpusArgs,
        /// The query file (`.scm`).
        #[arg(long, value_name = "FILE")]
        query: PathBuf,
        /// The language to compile it for (python, rust, typescript, tsx) [default: every language of the
        /// corpus it compiles for].
        #[arg(long, value_name = "L")]
        language: Option<String>,
        /// Backends to run, comma-separated (default: all registered).
        #[arg(long, value_name = "NAMES", value_delimiter = ',')]
        backends: Vec<String>,
    },
    /// Write the built-in corpus to a directory.
    Corpus {
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
    /// Write a folder of awkward inputs (syntax errors, binary, non-UTF-8, 100,000-deep nesting, symlink
    /// loops, an 8 MB file, ...) to try `compare --corpus` on.
    BadInputs {
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
    /// Refuse a training set and a measured set (each `SET/LANGUAGE/PACKAGE`, the packages' metadata still
    /// in place) that share a source file's content, a package, a repository or a listed fork.
    CheckCorpora {
        /// A set the learned tables are trained on (repeatable).
        #[arg(long, value_name = "DIR", required = true)]
        training: Vec<PathBuf>,
        /// A set that compare runs measure (repeatable).
        #[arg(long, value_name = "DIR", required = true)]
        measured: Vec<PathBuf>,
        /// The forks table: `FORK ORIGIN REASON` a line.
        #[arg(long, value_name = "FILE", default_value = corpora::FORKS_TABLE)]
        forks: PathBuf,
    },
    /// Build a corpus's store of one backend and save it to a file (atomically).
    Save {
        #[command(flatten)]
        corpus: CorpusArgs,
        #[arg(long)]
        backend: String,
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Say what a saved store holds; with --verify, check it against fresh parses of the corpus it was saved
    /// from (files changed since the save are listed, not verified).
    Open {
        file: PathBuf,
        #[arg(long, value_name = "DIR")]
        verify: Option<PathBuf>,
        /// Files larger than this are skipped in the corpus given to --verify.
        #[arg(long, value_name = "BYTES", default_value_t = cst_measure::corpus::DEFAULT_MAX_FILE_BYTES)]
        max_file_bytes: u64,
    },
    /// (internal) Measure the named backends' restarts in this process and write their figures as JSON.
    #[command(hide = true)]
    MeasureRestart {
        #[command(flatten)]
        corpus: CorpusArgs,
        #[arg(long, value_name = "NAMES", value_delimiter = ',')]
        backends: Vec<String>,
        #[arg(long, value_name = "FILE")]
        json: PathBuf,
    },
    /// (internal) Measure one text-only reference row in this process and write its figures as JSON.
    #[command(hide = true)]
    MeasureReference {
        #[command(flatten)]
        corpus: CorpusArgs,
        #[arg(long)]
        reference: String,
        #[arg(long, value_name = "FILE")]
        json: PathBuf,
    },
    /// (internal) Measure one backend in this process and write its figures as JSON.
    #[command(hide = true)]
    MeasureBackend {
        #[command(flatten)]
        corpus: CorpusArgs,
        #[arg(long)]
        backend: String,
        #[arg(long, value_name = "FILE")]
        json: PathBuf,
        /// tree-sitter's trees of the corpus, as the parent recorded them for verification [default: record
        /// them here first].
        #[arg(long, value_name = "FILE")]
        references: Option<PathBuf>,
        /// A file locked while this process times beside tree-sitter, shared by the run's processes so that
        /// one times at a time [default: no lock].
        #[arg(long, value_name = "FILE")]
        timing_lock: Option<PathBuf>,
    },
    /// (internal) Run one backend's edit sessions in this process and write their figures as JSON.
    #[command(hide = true)]
    MeasureEdits {
        #[command(flatten)]
        corpus: CorpusArgs,
        #[arg(long)]
        backend: String,
        #[arg(long, value_name = "FILE")]
        json: PathBuf,
    },
}

/// A measuring child: sets the process's memory limit, when the arguments give one, before it measures.
fn measuring_child(
    args: &CorpusArgs,
    measure: impl FnOnce() -> anyhow::Result<()>,
) -> anyhow::Result<bool> {
    if let Some(limit) = args.memory_limit() {
        ALLOCATOR.set_limit(usize::try_from(limit).unwrap_or(usize::MAX))?;
    }
    measure().map(|()| true)
}

fn main() -> ExitCode {
    let result = match Cli::parse().command {
        Command::Compare {
            corpus,
            out,
            backends,
            root,
        } => compare::run(&corpus, out.as_deref(), &backends, root.as_deref()),
        Command::CompareRuns { a, b } => runs::run(&a, &b),
        Command::Query {
            corpus,
            query,
            language,
            backends,
        } => query::run(&corpus, &query, language.as_deref(), &backends),
        Command::Corpus { out } => compare::write_builtin_corpus(&out).map(|()| true),
        Command::BadInputs { out } => compare::write_bad_inputs(&out).map(|()| true),
        Command::CheckCorpora {
            training,
            measured,
            forks,
        } => corpora::run(&training, &measured, &forks),
        Command::Save {
            corpus,
            backend,
            out,
        } => saved::save(&corpus, &backend, &out).map(|()| true),
        Command::Open {
            file,
            verify,
            max_file_bytes,
        } => saved::open(&file, verify.as_deref(), max_file_bytes),
        Command::MeasureRestart {
            corpus,
            backends,
            json,
        } => measuring_child(&corpus, || {
            saved::measure_restart(&corpus, &backends, &json)
        }),
        Command::MeasureReference {
            corpus,
            reference,
            json,
        } => measuring_child(&corpus, || {
            compare::measure_reference(&corpus, &reference, &json)
        }),
        Command::MeasureBackend {
            corpus,
            backend,
            json,
            references,
            timing_lock,
        } => measuring_child(&corpus, || {
            compare::measure_backend(
                &corpus,
                &backend,
                &json,
                references.as_deref(),
                timing_lock.as_deref(),
            )
        }),
        Command::MeasureEdits {
            corpus,
            backend,
            json,
        } => measuring_child(&corpus, || compare::measure_edits(&corpus, &backend, &json)),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
