//! `cargo xtask query --corpus DIR --query FILE.scm [--language L] [--backends A,B]`: a query file of the
//! user's on every backend over a directory, each backend's answers compared with tree-sitter's `QueryCursor`
//! on its own trees.
//!
//! The query is compiled for the language given, or for every language of the corpus that it compiles for
//! (with tree-sitter's `Query` and with cst-query's; an error in the language given, or in every language
//! tried, is printed with its row and column and the command fails). `; inherits:` lines are comments here:
//! the files they name are not read. Each backend then builds its store of the corpus in this process, one
//! after another (each store dropped before the next), and runs the query through the compare run's own
//! query operation ([`cst_query::ops::ShippedQueries`] given the file in place of the shipped ones): every
//! file's `matches` (a multiset) and `captures` (a sequence) against `QueryCursor`'s, `matches` timed in
//! alternating turns with `QueryCursor::matches` on an even spread of the files, and the working memory of
//! the pass. A mismatch is printed with the file, the pattern and its row, and makes the command fail.
//!
//! Costs: one parse of every file per backend for its build and one more for the comparison; the timed turns
//! are bounded by `--budget`.

use crate::compare::load_corpus;
use crate::CorpusArgs;
use anyhow::{bail, Context};
use cst_measure::harness::{MeasureOptions, NoProgress, QuerySource};
use cst_measure::report::thousands;
use cst_measure::Language;
use std::path::Path;
use std::time::Duration;

/// How many mismatches are printed per backend (the rest are counted).
const LISTED_MISMATCHES: usize = 10;

/// Runs the query; `false` when a backend's answers differ from `QueryCursor`'s or a file did not build.
pub fn run(
    corpus_args: &CorpusArgs,
    query_path: &Path,
    language: Option<&str>,
    backends: &[String],
) -> anyhow::Result<bool> {
    if corpus_args.corpus.is_none() {
        bail!("--corpus DIR is required: the directory of code to run the query over");
    }
    let source = std::fs::read(query_path)
        .with_context(|| format!("cannot read the query file {}", query_path.display()))?;
    let source = String::from_utf8(source)
        .with_context(|| format!("the query file {} is not UTF-8", query_path.display()))?;
    let corpus = load_corpus(corpus_args)?;
    let present: Vec<Language> = Language::ALL
        .into_iter()
        .filter(|l| corpus.files.iter().any(|f| f.language == *l))
        .collect();
    let wanted: Vec<Language> = match language {
        Some(name) => {
            let language = Language::ALL
                .into_iter()
                .find(|l| l.name() == name)
                .with_context(|| {
                    format!("unknown language {name}: one of python, rust, typescript, tsx")
                })?;
            vec![language]
        }
        None => present.clone(),
    };
    if wanted.is_empty() {
        bail!(
            "{} holds no file of a language this project parses (.py, .rs, .ts, .tsx)",
            corpus.name
        );
    }
    let name = query_path
        .file_name()
        .map_or_else(|| "query".to_string(), |n| n.to_string_lossy().into_owned());
    let mut queries = Vec::new();
    let mut errors = Vec::new();
    for &language in &wanted {
        match compile(language, &source) {
            Ok(()) => queries.push(QuerySource {
                language,
                name: name.clone(),
                source: source.clone(),
            }),
            Err(error) => errors.push(format!(
                "{} for {}: {error}",
                query_path.display(),
                language.name()
            )),
        }
    }
    if language.is_some() && !errors.is_empty() || queries.is_empty() {
        for error in &errors {
            eprintln!("{error}");
        }
        bail!(
            "the query does not compile for {}",
            wanted
                .iter()
                .map(|l| l.name())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    for error in &errors {
        println!("not run on {error}");
    }
    let entries: Vec<_> = if backends.is_empty() {
        backends::ALL.iter().collect()
    } else {
        backends
            .iter()
            .map(|b| {
                backends::find(b)
                    .with_context(|| format!("unknown backend {b}: one of {}", backends::names()))
            })
            .collect::<anyhow::Result<_>>()?
    };
    let options = MeasureOptions {
        repetitions: corpus_args.repetitions,
        budget: Duration::from_secs_f64(corpus_args.budget),
        queries: Some(queries.clone()),
        ..MeasureOptions::default()
    };
    println!(
        "{} over {} ({} files): every backend against tree-sitter's QueryCursor",
        query_path.display(),
        corpus.name,
        thousands(corpus.files.len() as u64)
    );
    println!(
        "{:<20} {:<10} {:>6} {:>9} {:>8} {:>10} {:>10} {:>18} {:>11}  answers",
        "backend",
        "language",
        "files",
        "nodes",
        "matches",
        "ns/node",
        "µs/file",
        "x QueryCursor",
        "working"
    );
    let mut all_agree = true;
    for entry in entries {
        let m = (entry.store_operations)(&corpus, &options, &mut NoProgress)
            .with_context(|| format!("{}: running the query", entry.name))?;
        for q in &m.queries {
            let (per_node, per_file, ratio) = match &q.beside {
                Some(pair) if q.timed_nodes > 0 && q.timed_files > 0 => (
                    format!("{:.1}", pair.backend_seconds * 1e9 / q.timed_nodes as f64),
                    format!("{:.1}", pair.backend_seconds * 1e6 / q.timed_files as f64),
                    format!(
                        "{:.2}x ({:.2}–{:.2})",
                        pair.ratio, pair.ratio_low, pair.ratio_high
                    ),
                ),
                _ => ("-".into(), "-".into(), "-".into()),
            };
            let answers = if !q.answered {
                all_agree = false;
                "not answered (the store keeps no query statuses)".to_string()
            } else if q.answers_agree {
                "same as QueryCursor".to_string()
            } else {
                all_agree = false;
                "DIFFER".to_string()
            };
            println!(
                "{:<20} {:<10} {:>6} {:>9} {:>8} {:>10} {:>10} {:>18} {:>11}  {answers}",
                entry.name,
                q.language,
                thousands(q.files),
                thousands(q.nodes),
                thousands(q.matches),
                per_node,
                per_file,
                ratio,
                cst_measure::report::bytes(q.working_bytes),
            );
        }
        if m.failed_files > 0 {
            all_agree = false;
            println!(
                "  {}: {} files failed (build or answers):",
                entry.name,
                thousands(m.failed_files)
            );
            for failure in m.failures.iter().take(LISTED_MISMATCHES) {
                println!("    {}: {}", failure.path, failure.error);
            }
            if m.failed_files as usize > LISTED_MISMATCHES {
                println!(
                    "    ... and {} more",
                    thousands(m.failed_files - LISTED_MISMATCHES as u64)
                );
            }
        }
    }
    if !all_agree {
        eprintln!("some backend's answers differ from QueryCursor's (listed above)");
    }
    Ok(all_agree)
}

/// Compiles `source` for `language` with tree-sitter's `Query` and with cst-query's: the error of either
/// (tree-sitter's first: the position the user's editor tooling reports).
fn compile(language: Language, source: &str) -> anyhow::Result<()> {
    let grammar = language.grammar();
    if let Err(error) = tree_sitter::Query::new(&grammar, source) {
        bail!("{error}");
    }
    if let Err(error) = cst_query::Query::new(&grammar, source) {
        bail!("tree-sitter compiles it, cst-query does not: {error}");
    }
    Ok(())
}
