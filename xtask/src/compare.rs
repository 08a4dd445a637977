//! `cargo xtask compare`: one child process per backend (so no backend's allocations can leak into another's
//! counts), their figures gathered into one report, written atomically.

use crate::output::write_atomically;
use crate::CorpusArgs;
use anyhow::{bail, Context};
use cst_measure::corpus::Corpus;
use cst_measure::harness::{BackendMeasurement, MeasureOptions, Progress};
use cst_measure::report::{render_markdown, CompareReport};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};

/// Loads the corpus the arguments name. A missing or unreadable path is an error naming it.
pub fn load_corpus(args: &CorpusArgs) -> anyhow::Result<Corpus> {
    let mut corpus = match &args.corpus {
        Some(path) => Corpus::scan(path, args.max_file_bytes)?,
        None => Corpus::builtin(),
    };
    if let Some(limit) = args.limit {
        corpus.files = corpus.spread(limit).into_iter().cloned().collect();
    }
    Ok(corpus)
}

/// The child: measures one backend and writes its figures to `json`. Progress goes to stdout, one line per
/// event, for the parent's progress bar.
pub fn measure_backend(args: &CorpusArgs, name: &str, json: &Path) -> anyhow::Result<()> {
    let entry = backends::find(name)
        .with_context(|| format!("unknown backend {name:?} (known: {})", backends::names()))?;
    let corpus = load_corpus(args)?;
    let options = MeasureOptions {
        per_file: args.per_file,
        repetitions: args.repetitions,
        offset_samples: args.offsets,
        ..MeasureOptions::default()
    };
    let measurement = (entry.measure)(&corpus, &options, &mut LineProgress::new())?;
    let text = serde_json::to_vec(&measurement)?;
    std::fs::write(json, text).with_context(|| format!("cannot write {}", json.display()))
}

/// Progress as lines on stdout (`phase\t<name>\t<total>`, `advance\t<done>`). stdout's buffer is set up before
/// any measurement starts, so these writes allocate nothing.
struct LineProgress(std::io::Stdout);

impl LineProgress {
    fn new() -> Self {
        let stdout = std::io::stdout();
        let _ = stdout.lock().flush();
        LineProgress(stdout)
    }
}

impl Progress for LineProgress {
    fn phase(&mut self, name: &str, total: u64) {
        let _ = writeln!(self.0.lock(), "phase\t{name}\t{total}");
    }
    fn advance(&mut self, done: u64) {
        let _ = writeln!(self.0.lock(), "advance\t{done}");
    }
}

/// Runs one child process for backend `name` and returns its figures.
fn run_child(
    args: &CorpusArgs,
    name: &str,
    bar: &ProgressBar,
) -> anyhow::Result<BackendMeasurement> {
    let json = tempfile::NamedTempFile::new()?;
    let mut command = Command::new(std::env::current_exe()?);
    command
        .arg("measure-backend")
        .args(["--backend", name])
        .arg("--json")
        .arg(json.path())
        .args(["--max-file-bytes", &args.max_file_bytes.to_string()])
        .args(["--repetitions", &args.repetitions.to_string()])
        .args(["--offsets", &args.offsets.to_string()]);
    if let Some(path) = &args.corpus {
        command.arg("--corpus").arg(path);
    }
    if let Some(limit) = args.limit {
        command.args(["--limit", &limit.to_string()]);
    }
    if args.per_file {
        command.arg("--per-file");
    }
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .context("cannot start the measuring process")?;
    let stdout = child.stdout.take().expect("stdout is piped");
    for line in BufReader::new(stdout).lines() {
        let line = line?;
        let mut fields = line.split('\t');
        match (fields.next(), fields.next(), fields.next()) {
            (Some("phase"), Some(phase), Some(total)) => {
                bar.set_message(format!("{name}: {phase}"));
                bar.set_length(total.parse().unwrap_or(0));
                bar.set_position(0);
            }
            (Some("advance"), Some(done), None) => bar.set_position(done.parse().unwrap_or(0)),
            _ => bar.println(line),
        }
    }
    let status = child.wait()?;
    if !status.success() {
        bail!("measuring backend {name} failed ({status})");
    }
    let text = std::fs::read(json.path())?;
    serde_json::from_slice(&text).with_context(|| format!("unreadable figures from backend {name}"))
}

/// The workspace root (this crate's parent folder).
fn workspace_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives inside the workspace")
}

/// `cargo xtask compare`. Returns whether every backend verified and every answer matched. Without `--out`,
/// results go to the workspace's `results/` and the README's results section is regenerated from them.
pub fn run(args: &CorpusArgs, out: Option<&Path>, names: &[String]) -> anyhow::Result<bool> {
    let default_out = workspace_root().join("results");
    let out = out.unwrap_or(&default_out);
    let corpus = load_corpus(args)?;
    if corpus.files.is_empty() {
        bail!(
            "corpus {} has no file that can be measured ({} skipped)",
            corpus.name,
            corpus.skipped.len()
        );
    }
    let entries = if names.is_empty() {
        backends::ALL.iter().collect::<Vec<_>>()
    } else {
        names
            .iter()
            .map(|n| {
                backends::find(n).with_context(|| {
                    format!("unknown backend {n:?} (known: {})", backends::names())
                })
            })
            .collect::<anyhow::Result<_>>()?
    };
    eprintln!(
        "corpus {}: {} files, {} lines, {} bytes, {} skipped",
        corpus.name,
        corpus.files.len(),
        corpus.lines(),
        corpus.source_bytes(),
        corpus.skipped.len()
    );
    let bar = ProgressBar::new(0).with_style(
        ProgressStyle::with_template("{msg:40} [{bar:30}] {pos}/{len} {elapsed}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    let mut measurements = Vec::with_capacity(entries.len());
    for entry in entries {
        measurements.push(run_child(args, entry.name, &bar)?);
    }
    bar.finish_and_clear();

    let report = CompareReport::new(&corpus, args.per_file, &measurements);
    let markdown = render_markdown(&report);
    let mut files = vec![
        ("compare.md", markdown.clone().into_bytes()),
        ("compare.json", report.to_json().into_bytes()),
    ];
    for (name, svg) in crate::charts::render_all(&report)? {
        files.push((name, svg.into_bytes()));
    }
    write_atomically(out, &files)?;
    if out == default_out {
        update_readme(&report)?;
    }
    println!("{markdown}");
    eprintln!("wrote {} files to {}", files.len(), out.display());
    if !report.all_verified {
        eprintln!("error: a backend failed verification (see the Verification section)");
    }
    if !report.answers_match {
        eprintln!("error: the backends' operation answers differ (see the Operations table)");
    }
    Ok(report.all_verified && report.answers_match)
}

/// Markers around the generated results section of the README.
const README_START: &str =
    "<!-- results:start (generated by `cargo xtask compare`; do not edit) -->";
const README_END: &str = "<!-- results:end -->";

/// Replaces the README's results section with the summary of `report`.
fn update_readme(report: &CompareReport) -> anyhow::Result<()> {
    let path = workspace_root().join("README.md");
    let readme = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let (Some(start), Some(end)) = (readme.find(README_START), readme.find(README_END)) else {
        bail!(
            "{} has no results markers ({README_START} ... {README_END})",
            path.display()
        );
    };
    let summary = cst_measure::report::render_summary(report);
    let charts =
        "![Bytes per CST](results/bytes-per-cst.svg)\n\n![Scaling](results/scaling.svg)\n\n\
                  ![Operations relative to tree-sitter](results/operations.svg)\n";
    let updated = format!(
        "{}{README_START}\n{summary}\n{charts}{}",
        &readme[..start],
        &readme[end..]
    );
    write_atomically(workspace_root(), &[("README.md", updated.into_bytes())])
}

/// `cargo xtask corpus --out DIR`.
pub fn write_builtin_corpus(out: &Path) -> anyhow::Result<()> {
    let corpus = Corpus::builtin();
    for file in &corpus.files {
        let path = out.join(&file.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, file.text()?.as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    eprintln!("wrote {} files to {}", corpus.files.len(), out.display());
    Ok(())
}

/// `cargo xtask bad-inputs --out DIR`: the test suite's bad-input fixtures, on disk, with what must happen to
/// each printed.
pub fn write_bad_inputs(out: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    if std::fs::read_dir(out)?.next().is_some() {
        bail!(
            "{} is not empty; bad inputs go into an empty folder",
            out.display()
        );
    }
    for (path, expected) in cst_measure::fixtures::write_bad_inputs(out, true)? {
        println!("{path}\t{expected:?}");
    }
    Ok(())
}
