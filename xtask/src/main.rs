//! `cargo xtask`: the project's automation.
//!
//! - `cargo xtask compare [--corpus DIR] [--out DIR] [--backends A,B] [--per-file]` measures every backend in
//!   a fresh process of its own and writes `compare.md`, `compare.json` and the charts to `results/`.
//! - `cargo xtask corpus --out DIR` writes the built-in corpus to disk.
//! - `cargo xtask bad-inputs --out DIR` writes a folder of awkward inputs to measure.
//!
//! The `measure-backend` subcommand is internal: it is the child process that measures one backend.

mod charts;
mod compare;
mod output;

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
    /// Repetitions of each timed operation (the median is reported); 0 skips the operations.
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub repetitions: usize,
    /// Byte offsets sampled (fixed seed) for the node-at-offset operations. Finding a node is linear in the
    /// siblings passed on the way down, so corpora with huge flat lists or extreme nesting may want fewer.
    #[arg(long, value_name = "N", default_value_t = cst_measure::ops::OFFSET_SAMPLES)]
    pub offsets: usize,
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
    },
    /// Write the built-in corpus to a directory.
    Corpus {
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
    /// Write a folder of awkward inputs (syntax errors, binary, non-UTF-8, 100,000-deep nesting, symlink
    /// loops, a 20 MB file, ...) to try `compare --corpus` on.
    BadInputs {
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
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
    },
}

fn main() -> ExitCode {
    let result = match Cli::parse().command {
        Command::Compare {
            corpus,
            out,
            backends,
        } => compare::run(&corpus, out.as_deref(), &backends),
        Command::Corpus { out } => compare::write_builtin_corpus(&out).map(|()| true),
        Command::BadInputs { out } => compare::write_bad_inputs(&out).map(|()| true),
        Command::MeasureBackend {
            corpus,
            backend,
            json,
        } => compare::measure_backend(&corpus, &backend, &json).map(|()| true),
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
