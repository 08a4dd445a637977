//! `cargo xtask save`, `cargo xtask open` and the restart measurement's child process (`measure-restart`).

use crate::compare::load_corpus;
use crate::CorpusArgs;
use anyhow::{bail, Context};
use cst_measure::corpus::Corpus;
use cst_measure::report::thousands;
use cst_measure::restart::{RestartMeasurement, RestartOptions};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// `cargo xtask save`: builds the corpus's store of `backend` and saves it to `out` atomically.
pub fn save(args: &CorpusArgs, backend: &str, out: &Path) -> anyhow::Result<()> {
    let entry = find(backend)?;
    if !entry.saved.has_saved_form {
        bail!("backend {backend} has no saved form (its stores come back by parsing again)");
    }
    let corpus = load_corpus(args)?;
    let bytes = (entry.saved.save)(&corpus, out)?;
    println!(
        "saved {} files ({} source bytes) of corpus {} as {backend} to {}: {} bytes",
        thousands(corpus.files.len() as u64),
        thousands(corpus.source_bytes()),
        corpus.name,
        out.display(),
        thousands(bytes)
    );
    Ok(())
}

/// `cargo xtask open`: says what `file` holds and, given the corpus, verifies it; `false` when a file does not
/// verify or changed since the save.
pub fn open(file: &Path, verify: Option<&Path>, max_file_bytes: u64) -> anyhow::Result<bool> {
    let header = cst_measure::saved::read_header(file)?;
    let entry = find(&header.backend)?;
    let corpus = verify
        .map(|dir| Corpus::scan(dir, max_file_bytes))
        .transpose()?;
    let report = (entry.saved.open)(file, corpus.as_ref())?;
    println!("{}: a saved {} store", file.display(), report.backend);
    println!(
        "  {} bytes on disk, {} files, {} source bytes ({})",
        thousands(report.disk_bytes),
        thousands(report.files),
        thousands(report.source_bytes),
        report
            .languages
            .iter()
            .map(|(l, n)| format!("{n} {l}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!(
        "  format {} of {}, tables hash {:016x}; grammars: {}",
        header.backend_format,
        header.backend,
        header.tables_hash,
        header
            .grammars
            .iter()
            .map(|g| format!("{} (ABI {})", g.name, g.abi))
            .collect::<Vec<_>>()
            .join(", ")
    );
    for (tag, len) in &report.sections {
        println!("  section {tag}: {} bytes", thousands(*len));
    }
    let Some(dir) = verify else {
        return Ok(true);
    };
    println!(
        "  against {}: {} files verified against fresh parses",
        dir.display(),
        thousands(report.verified)
    );
    for (path, why) in &report.changed {
        println!("  changed since the save (not verified): {path}: {why}");
    }
    for path in &report.missing {
        println!("  saved but no longer in the corpus: {path}");
    }
    for path in &report.unsaved {
        println!("  in the corpus but not in the saved store: {path}");
    }
    for (path, error) in &report.failed {
        println!("  does not verify: {path}: {error}");
    }
    Ok(report.failed.is_empty()
        && report.changed.is_empty()
        && report.missing.is_empty()
        && report.unsaved.is_empty())
}

fn find(name: &str) -> anyhow::Result<&'static cst_measure::harness::BackendEntry> {
    backends::find(name)
        .with_context(|| format!("unknown backend {name:?} (known: {})", backends::names()))
}

/// The child: measures every named backend's restart in turn (one process, each store dropped before the
/// next) and writes the figures to `json`.
pub fn measure_restart(args: &CorpusArgs, names: &[String], json: &Path) -> anyhow::Result<()> {
    let corpus = load_corpus(args)?;
    let dir = tempfile::tempdir()?;
    let options = RestartOptions {
        repetitions: args.repetitions.max(1),
        budget: Duration::from_secs_f64(args.budget.max(0.0)),
        dir: dir.path().to_path_buf(),
    };
    let mut rows = Vec::new();
    for name in names {
        let entry = find(name)?;
        rows.push((entry.saved.measure)(&corpus, &options)?);
    }
    std::fs::write(json, serde_json::to_vec(&rows)?)
        .with_context(|| format!("cannot write {}", json.display()))
}

/// Runs the restart children for `names` (after the other measuring processes): the names dealt round
/// among `--processes` children at once (each on a core of its own, as the measuring processes are; a
/// restart and tree-sitter's parse alternate within each child, so their ratio is a same-process pair), and
/// reads their figures, in the order of `names`.
pub fn run_restart_children(
    args: &CorpusArgs,
    names: &[&str],
) -> anyhow::Result<Vec<RestartMeasurement>> {
    let children = args.processes().min(names.len()).max(1);
    let groups: Vec<Vec<&str>> = (0..children)
        .map(|c| names.iter().copied().skip(c).step_by(children).collect())
        .collect();
    let started: Vec<_> = groups
        .iter()
        .map(|group| start_restart_child(args, group))
        .collect::<anyhow::Result<_>>()?;
    // Every child is waited for before any failure is reported, so that none outlives the run.
    let finished: Vec<_> = started
        .into_iter()
        .map(|(mut child, json)| (child.wait(), json))
        .collect();
    let mut rows = Vec::with_capacity(names.len());
    for (status, json) in finished {
        let status = status.context("cannot wait for the restart measurement's process")?;
        if !status.success() {
            bail!("the restart measurement failed ({status})");
        }
        let text = std::fs::read(json.path())?;
        let group: Vec<RestartMeasurement> = serde_json::from_slice(&text)
            .context("unreadable figures from the restart measurement")?;
        rows.extend(group);
    }
    rows.sort_by_key(|r| names.iter().position(|&n| n == r.backend));
    Ok(rows)
}

/// Starts one restart child for `names`; its figures go to the returned file.
fn start_restart_child(
    args: &CorpusArgs,
    names: &[&str],
) -> anyhow::Result<(std::process::Child, tempfile::NamedTempFile)> {
    let json = tempfile::NamedTempFile::new()?;
    let mut command = Command::new(std::env::current_exe()?);
    command
        .arg("measure-restart")
        .args(["--backends", &names.join(",")])
        .arg("--json")
        .arg(json.path())
        .args(["--repetitions", &args.repetitions.to_string()])
        .args(["--budget", &args.budget.to_string()])
        .args(["--max-file-bytes", &args.max_file_bytes.to_string()]);
    if let Some(limit) = args.memory_limit() {
        command.args(["--memory-limit", &limit.to_string()]);
    }
    if let Some(path) = &args.corpus {
        command.arg("--corpus").arg(path);
    }
    if let Some(limit) = args.limit {
        command.args(["--limit", &limit.to_string()]);
    }
    let child = command
        .spawn()
        .context("cannot start the restart measurement's process")?;
    Ok((child, json))
}
