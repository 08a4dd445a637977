//! What a restart costs each backend: from nothing to every file's CST usable again, against tree-sitter
//! parsing the same files in the same process.
//!
//! For a backend with a saved form ([`Backend::SAVED_FORMAT`]) a restart is [`saved::open`] of the file the
//! store was saved to (a mapping, every checksum verified, the backend's structural checks) and one lookup
//! ([`CstStore::seek`] to the middle of the file) in every file; for one without, it is what a process must
//! do instead: parse every file with tree-sitter, convert it into the store (`add`, then `finish`), and the
//! same lookups. Both start from the texts in memory for the parse (reading the sources is not counted) and
//! from the saved file for the open (its pages in the page cache, as after a save: *warm*); the turns of the
//! restart and of tree-sitter's parse of the corpus alternate (a saved form's open timed
//! [`OPENS_PER_TURN`] times in each), and each time is the median of its samples.
//! Once, before the warm turns, the file's pages are dropped from the page cache
//! ([`saved::evict_from_page_cache`]) and the open timed *cold*, with the heap it allocates (the counting
//! allocator's live bytes, the store kept) and the file's pages resident (`mincore`) after the open and after
//! the lookups. Every reopened store is verified like a freshly built one: its language, text and every node
//! against a fresh parse of each file.
//!
//! [`SavedOps`] holds these functions instantiated for one backend, for the registry; [`save_corpus`] and
//! [`open_file`] are what `cargo xtask save` and `cargo xtask open` run.

use crate::alloc;
use crate::backend::{Backend, CstCursor, CstStore};
use crate::corpus::Corpus;
use crate::measurement::{median_and_p99, ratio};
use crate::saved;
use crate::verify::verify_file;
use crate::Language;
use anyhow::Context;
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

/// Opens of a saved file timed in each turn (each open's time is one sample of the median).
pub const OPENS_PER_TURN: usize = 10;

/// How many turns a restart measurement takes, and for how long at most.
#[derive(Clone, Debug)]
pub struct RestartOptions {
    /// Turns of the restart and of tree-sitter's parse (at least one of each).
    pub repetitions: usize,
    /// Time after which no further turn starts.
    pub budget: Duration,
    /// Where the saved file is written (and removed after).
    pub dir: std::path::PathBuf,
}

/// One backend's restart, as the Restart table shows it.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct RestartMeasurement {
    pub backend: String,
    /// Whether the store came back from its saved form (else by parse and conversion).
    pub saved_form: bool,
    /// What the restart does, for the table's notes.
    pub how: String,
    pub files: u64,
    pub source_bytes: u64,
    /// The saved file's bytes (0 without a saved form).
    pub disk_bytes: u64,
    /// Median seconds from nothing to every file's CST usable (open or parse + conversion, and one lookup
    /// per file), page cache warm.
    pub seconds: f64,
    /// Median seconds tree-sitter took to parse every file, in turns with the restart.
    pub tree_sitter_parse_seconds: f64,
    /// Turns each median is of.
    pub turns: usize,
    /// The median of each turn's first open (right after tree-sitter's parse of the corpus, whose freed trees
    /// and caches it follows), beside the median of all opens (0 without a saved form).
    pub first_open_seconds: f64,
    /// The first open after the file's pages were dropped from the page cache (0 without a saved form).
    pub cold_seconds: f64,
    /// Heap bytes the open allocated and the opened store keeps (requested, live), and the highest count
    /// during the open; for a row without a saved form, what its build keeps and its peak.
    pub heap_bytes: u64,
    pub heap_peak_bytes: u64,
    /// The saved file's pages, and those resident after the cold open and after one lookup per file.
    pub page_bytes: u64,
    pub pages: u64,
    pub resident_after_open: u64,
    pub resident_after_lookups: u64,
    /// Files whose reopened store verified against a fresh parse.
    pub verified_files: u64,
    /// The first verification failure, if any.
    pub verify_error: Option<String>,
}

impl RestartMeasurement {
    /// How many times shorter than tree-sitter's parse the restart is.
    pub fn speedup(&self) -> f64 {
        ratio(self.tree_sitter_parse_seconds, self.seconds)
    }

    /// Every file reopened verified.
    pub fn verified(&self) -> bool {
        self.verify_error.is_none() && self.verified_files == self.files
    }
}

/// The restart functions of one backend, for the registry.
#[derive(Clone, Copy)]
pub struct SavedOps {
    pub name: &'static str,
    pub has_saved_form: bool,
    pub save: fn(&Corpus, &Path) -> anyhow::Result<u64>,
    pub open: fn(&Path, Option<&Corpus>) -> anyhow::Result<OpenReport>,
    pub measure: fn(&Corpus, &RestartOptions) -> anyhow::Result<RestartMeasurement>,
}

impl SavedOps {
    pub const fn of<B: Backend>() -> SavedOps {
        SavedOps {
            name: B::NAME,
            has_saved_form: B::SAVED_FORMAT.is_some(),
            save: save_corpus::<B>,
            open: open_file::<B>,
            measure: measure_restart::<B>,
        }
    }
}

/// The corpus's texts, read once.
fn texts(corpus: &Corpus) -> anyhow::Result<Vec<(Language, String)>> {
    corpus
        .files
        .iter()
        .map(|f| Ok((f.language, f.text()?.into_owned())))
        .collect()
}

/// Parses and converts every file into a finished store of `B`.
fn build<B: Backend>(texts: &[(Language, String)]) -> anyhow::Result<B::Store> {
    let mut parsers: Vec<tree_sitter::Parser> = Language::ALL.iter().map(|l| l.parser()).collect();
    let mut store = B::new_store();
    for (i, (language, text)) in texts.iter().enumerate() {
        let tree = parsers[language.index()]
            .parse(text, None)
            .with_context(|| format!("file {i}: tree-sitter gave no tree"))?;
        store
            .add(*language, text, tree)
            .map_err(|e| anyhow::anyhow!("file {i}: {e}"))?;
    }
    store.finish();
    Ok(store)
}

/// One lookup in every file, at the middle of its root's range (not of its text, which a store may hand out
/// only by checking or copying it); a digest of the kinds found (so that none is skipped).
fn lookups<S: CstStore>(store: &S) -> u64 {
    let mut digest = 0u64;
    if store.is_empty() {
        return digest;
    }
    let mut cursor = store.cursor(0);
    for file in 0..store.len() {
        store.reset_cursor(&mut cursor, file);
        let root = cursor.node();
        store.seek(&mut cursor, file, root.start + (root.end - root.start) / 2);
        digest = digest.rotate_left(5) ^ u64::from(cursor.kind());
    }
    digest
}

/// Seconds tree-sitter takes to parse every text (its trees freed as they come).
fn parse_all(texts: &[(Language, String)]) -> f64 {
    let mut parsers: Vec<tree_sitter::Parser> = Language::ALL.iter().map(|l| l.parser()).collect();
    let start = Instant::now();
    for (language, text) in texts {
        let tree = parsers[language.index()].parse(text, None);
        std::hint::black_box(&tree);
    }
    start.elapsed().as_secs_f64()
}

/// Builds `corpus`'s store of `B` and saves it to `out`; returns the bytes written.
pub fn save_corpus<B: Backend>(corpus: &Corpus, out: &Path) -> anyhow::Result<u64> {
    let texts = texts(corpus)?;
    let store = build::<B>(&texts)?;
    let paths: Vec<String> = corpus.files.iter().map(|f| f.path.clone()).collect();
    Ok(saved::store::save::<B>(&store, &paths, out)?)
}

/// What `cargo xtask open` reports of a saved file.
#[derive(Clone, Debug, Default)]
pub struct OpenReport {
    pub backend: String,
    pub files: u64,
    pub disk_bytes: u64,
    pub source_bytes: u64,
    pub sections: Vec<(u32, u64)>,
    pub languages: Vec<(String, u64)>,
    /// With a corpus: the files verified against fresh parses, those whose source changed since the save
    /// (path, why), those saved but missing from the corpus, and those in the corpus the file lacks.
    pub verified: u64,
    pub changed: Vec<(String, String)>,
    pub missing: Vec<String>,
    pub unsaved: Vec<String>,
    /// Files that did not verify (path, first difference).
    pub failed: Vec<(String, String)>,
}

/// Opens `path` as `B`'s saved form and says what it holds; given the corpus it was saved from, verifies
/// every file whose source is unchanged (size and hash) against a fresh parse, and lists the others.
pub fn open_file<B: Backend>(path: &Path, corpus: Option<&Corpus>) -> anyhow::Result<OpenReport> {
    let opened = saved::store::open::<B>(path)?;
    let (store, file) = (&opened.store, &opened.opened);
    let mut report = OpenReport {
        backend: B::NAME.to_string(),
        files: file.file_count() as u64,
        disk_bytes: std::fs::metadata(path)?.len(),
        sections: file
            .header()
            .sections
            .iter()
            .map(|s| (s.tag, s.len))
            .collect(),
        ..OpenReport::default()
    };
    let mut languages = [0u64; 4];
    for i in 0..file.file_count() {
        let saved = file.file(i);
        report.source_bytes += saved.size;
        languages[saved.language.index()] += 1;
    }
    report.languages = Language::ALL
        .iter()
        .zip(languages)
        .filter(|(_, n)| *n > 0)
        .map(|(l, n)| (l.name().to_string(), n))
        .collect();
    let Some(corpus) = corpus else {
        return Ok(report);
    };
    let by_path: std::collections::HashMap<&str, usize> = corpus
        .files
        .iter()
        .enumerate()
        .map(|(i, f)| (f.path.as_str(), i))
        .collect();
    let mut seen = vec![false; corpus.files.len()];
    let mut parsers: Vec<tree_sitter::Parser> = Language::ALL.iter().map(|l| l.parser()).collect();
    for i in 0..file.file_count() {
        let saved = file.file(i);
        let Some(&index) = by_path.get(saved.path) else {
            report.missing.push(saved.path.to_string());
            continue;
        };
        seen[index] = true;
        let source = &corpus.files[index];
        let text = source.text()?;
        if text.len() as u64 != saved.size || saved::hash(text.as_bytes()) != saved.hash {
            let why = if text.len() as u64 != saved.size {
                format!("{} bytes now, {} when saved", text.len(), saved.size)
            } else {
                "same size, other content".to_string()
            };
            report.changed.push((saved.path.to_string(), why));
            continue;
        }
        let tree = parsers[source.language.index()]
            .parse(text.as_ref(), None)
            .context("tree-sitter gave no tree")?;
        match verify_file(store, i, source.language, &text, &tree) {
            Ok(_) => report.verified += 1,
            Err(e) => report.failed.push((saved.path.to_string(), e)),
        }
    }
    for (index, seen) in seen.iter().enumerate() {
        if !seen {
            report.unsaved.push(corpus.files[index].path.clone());
        }
    }
    Ok(report)
}

/// Measures `B`'s restart on `corpus` (see the module's docs).
pub fn measure_restart<B: Backend>(
    corpus: &Corpus,
    options: &RestartOptions,
) -> anyhow::Result<RestartMeasurement> {
    let texts = texts(corpus)?;
    let mut m = RestartMeasurement {
        backend: B::NAME.to_string(),
        saved_form: B::SAVED_FORMAT.is_some(),
        files: texts.len() as u64,
        source_bytes: texts.iter().map(|(_, t)| t.len() as u64).sum(),
        ..RestartMeasurement::default()
    };
    let path = options.dir.join(format!("{}.cst", B::NAME));
    if m.saved_form {
        m.how =
            "open the saved file (mapped, every checksum verified) + one lookup per file".into();
        {
            let store = build::<B>(&texts)?;
            let paths: Vec<String> = corpus.files.iter().map(|f| f.path.clone()).collect();
            m.disk_bytes = saved::store::save::<B>(&store, &paths, &path)?;
        }
        // Cold: the file's pages dropped from the page cache first.
        saved::evict_from_page_cache(&path)?;
        let before = alloc::snapshot();
        alloc::reset_peak();
        let start = Instant::now();
        let opened = saved::store::open::<B>(&path)?;
        let after_open = alloc::snapshot();
        let resident_open = opened.opened.resident_pages();
        std::hint::black_box(lookups(&opened.store));
        m.cold_seconds = start.elapsed().as_secs_f64();
        let resident_lookups = opened.opened.resident_pages();
        m.heap_bytes = after_open.live_bytes.saturating_sub(before.live_bytes);
        m.heap_peak_bytes = after_open.peak_bytes.saturating_sub(before.live_bytes);
        if let (Some((open, pages)), Some((looked, _))) = (resident_open, resident_lookups) {
            m.pages = pages;
            m.resident_after_open = open;
            m.resident_after_lookups = looked;
            m.page_bytes = pages * saved::page_size() as u64;
        }
        drop(opened);
    } else {
        m.how = "parse every file with tree-sitter and convert it (no saved form) + one lookup per file"
            .into();
        let before = alloc::snapshot();
        alloc::reset_peak();
        let store = build::<B>(&texts)?;
        let after = alloc::snapshot();
        m.heap_bytes = after.live_bytes.saturating_sub(before.live_bytes);
        m.heap_peak_bytes = after.peak_bytes.saturating_sub(before.live_bytes);
        drop(store);
    }
    // Warm turns, the restart and tree-sitter's parse in alternation.
    let (mut restarts, mut parses, mut firsts) = (Vec::new(), Vec::new(), Vec::new());
    let started = Instant::now();
    while restarts.is_empty()
        || (restarts.len() < options.repetitions.max(1) && started.elapsed() < options.budget)
    {
        parses.push(parse_all(&texts));
        if m.saved_form {
            // A restart this short is one of several per turn, so that a time slice lost to another
            // process moves the median less.
            for i in 0..OPENS_PER_TURN {
                let start = Instant::now();
                let opened = saved::store::open::<B>(&path)?;
                std::hint::black_box(lookups(&opened.store));
                let seconds = start.elapsed().as_secs_f64();
                if i == 0 {
                    firsts.push(seconds);
                }
                restarts.push(seconds);
            }
        } else {
            let start = Instant::now();
            let store = build::<B>(&texts)?;
            std::hint::black_box(lookups(&store));
            restarts.push(start.elapsed().as_secs_f64());
        }
    }
    m.turns = parses.len();
    m.seconds = median_and_p99(restarts).0;
    m.first_open_seconds = median_and_p99(firsts).0;
    m.tree_sitter_parse_seconds = median_and_p99(parses).0;
    // Verified like a freshly built store.
    let verify = |store: &B::Store, m: &mut RestartMeasurement| -> anyhow::Result<()> {
        let mut parsers: Vec<tree_sitter::Parser> =
            Language::ALL.iter().map(|l| l.parser()).collect();
        for (i, (language, text)) in texts.iter().enumerate() {
            let tree = parsers[language.index()]
                .parse(text, None)
                .context("tree-sitter gave no tree")?;
            match verify_file(store, i, *language, text, &tree) {
                Ok(_) => m.verified_files += 1,
                Err(e) => {
                    m.verify_error = Some(format!("{}: {e}", corpus.files[i].path));
                    break;
                }
            }
        }
        Ok(())
    };
    if m.saved_form {
        let opened = saved::store::open::<B>(&path)?;
        verify(&opened.store, &mut m)?;
        drop(opened);
        std::fs::remove_file(&path).with_context(|| format!("cannot remove {}", path.display()))?;
    } else {
        let store = build::<B>(&texts)?;
        verify(&store, &mut m)?;
    }
    Ok(m)
}

/// The Restart section of the report, for the rows measured (none: nothing).
pub fn render_markdown(rows: &[RestartMeasurement], w: &mut String) {
    if rows.is_empty() {
        return;
    }
    let mb = |b: u64| format!("{:.2} MB", b as f64 / 1e6);
    let _ = writeln!(w, "## Restart\n");
    let _ = writeln!(
        w,
        "| backend | comes back by | on disk | × source | nothing to every file usable | tree-sitter's parse beside it | × shorter | each turn's first open | cold open | heap kept by the open | pages resident after open / after one lookup per file | verified |"
    );
    let _ = writeln!(w, "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|:-:|");
    for r in rows {
        let saved = r.saved_form;
        let heap = format!("{} B", crate::measurement::thousands(r.heap_bytes));
        let _ = writeln!(
            w,
            "| {} | {} | {} | {} | {:.2} ms | {:.2} ms | {:.1}x | {} | {} | {} | {} | {}/{} files |",
            r.backend,
            if saved {
                "opening its saved file"
            } else {
                "parse + conversion"
            },
            if saved {
                mb(r.disk_bytes)
            } else {
                "–".into()
            },
            if saved {
                format!("{:.2}x", ratio(r.disk_bytes as f64, r.source_bytes as f64))
            } else {
                "–".into()
            },
            r.seconds * 1e3,
            r.tree_sitter_parse_seconds * 1e3,
            r.speedup(),
            if saved {
                format!("{:.2} ms", r.first_open_seconds * 1e3)
            } else {
                "–".into()
            },
            if saved {
                format!("{:.2} ms", r.cold_seconds * 1e3)
            } else {
                "–".into()
            },
            heap,
            if saved && r.pages > 0 {
                format!(
                    "{} / {} of {} ({})",
                    r.resident_after_open,
                    r.resident_after_lookups,
                    r.pages,
                    mb(r.page_bytes)
                )
            } else {
                "–".into()
            },
            r.verified_files,
            r.files,
        );
    }
    let turns = rows.iter().map(|r| r.turns).min().unwrap_or(0);
    let _ = writeln!(
        w,
        "\n*Nothing to every file usable* is, for a row with a saved form, opening the file it was saved to (mapped with \
         `memmap2`; the header, every section's xxh3 checksum and the store's structure checked) and one lookup in \
         every file; for a row without one, parsing every file with tree-sitter, converting it into the store and the \
         same lookups. Each time is the median of at least {turns} turns alternating with tree-sitter parsing every file \
         in the same process ({OPENS_PER_TURN} opens a turn for a saved form) (*× shorter* is that parse's time over the restart's), the saved file's pages in the page \
         cache (*warm*, as after a save); *each turn's first open* is the median of the opens that \
         directly follow a parse of the corpus (whose trees it has just freed), slower than the rest; *cold open* is the first open and lookups after the file's pages were dropped \
         from the page cache. *Heap kept by the open* is what the counting allocator counts still allocated once the \
         store is open (for a row without a saved form, its built store). Pages resident are the saved file's, \
         counted with `mincore` after the cold open and after the lookups: the open reads every byte once to check \
         its checksums, so every page is resident after it. Every reopened store is verified against a fresh parse \
         of every file like a freshly built one."
    );
    let _ = writeln!(w);
}
