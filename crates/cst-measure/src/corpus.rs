//! Corpora: files held in memory (the built-in generated corpus, tests) or any directory on disk.
//!
//! Loading happens in two steps so that every backend measures exactly the same files: [`Corpus::scan`] reads
//! each candidate once, decides whether it can be measured (a known extension, readable, UTF-8, no NUL bytes,
//! within the size limit) and records why not otherwise; [`CorpusFile::text`] reads an accepted file again
//! when a measurement needs it, so a corpus larger than memory can be measured one file at a time.

use crate::Language;
use serde::Serialize;
use std::borrow::Cow;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// Largest file measured by default. Larger files are skipped with a reason; every backend's own limits
/// (32-bit offsets and the like) lie far above it.
pub const DEFAULT_MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// Why a file whose extension selects no grammar is skipped.
const UNKNOWN_EXTENSION: &str = "unknown extension (not .py, .rs, .ts or .tsx)";

/// A corpus path that cannot be used at all.
#[derive(Debug, Error)]
pub enum CorpusError {
    #[error("corpus path {0} does not exist")]
    Missing(PathBuf),
    #[error("corpus path {path} cannot be read: {source}")]
    Unreadable {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Where an accepted file's text comes from.
#[derive(Clone, Debug)]
enum Origin {
    Memory(String),
    Disk(PathBuf),
}

/// A file that will be measured.
#[derive(Clone, Debug)]
pub struct CorpusFile {
    /// Path relative to the corpus root (or the built-in name), for reports.
    pub path: String,
    pub language: Language,
    pub bytes: u64,
    pub lines: u64,
    origin: Origin,
}

impl CorpusFile {
    /// Wraps text that is already in memory (the built-in corpus, tests).
    pub fn in_memory(path: impl Into<String>, language: Language, text: String) -> CorpusFile {
        CorpusFile {
            path: path.into(),
            language,
            bytes: text.len() as u64,
            lines: count_lines(&text),
            origin: Origin::Memory(text),
        }
    }

    /// The file's text. Files on disk are read again; a file that changed since the scan is an error.
    pub fn text(&self) -> anyhow::Result<Cow<'_, str>> {
        match &self.origin {
            Origin::Memory(text) => Ok(Cow::Borrowed(text)),
            Origin::Disk(path) => {
                let bytes = std::fs::read(path)
                    .map_err(|e| anyhow::anyhow!("{}: cannot be read again: {e}", self.path))?;
                match check_text(bytes) {
                    Ok(text) if text.len() as u64 == self.bytes => Ok(Cow::Owned(text)),
                    _ => anyhow::bail!("{}: changed on disk during the run", self.path),
                }
            }
        }
    }
}

/// A file that will not be measured, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Skipped {
    pub path: String,
    pub reason: String,
}

/// Lines, bytes and files of one language.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct LanguageTotals {
    pub language: String,
    pub files: u64,
    pub lines: u64,
    pub source_bytes: u64,
}

/// The files to measure and the ones passed over.
#[derive(Clone, Debug)]
pub struct Corpus {
    /// `built-in` or the directory as given.
    pub name: String,
    pub files: Vec<CorpusFile>,
    pub skipped: Vec<Skipped>,
}

impl Corpus {
    /// A corpus of files already in memory, each `(path, text)`; the extension of a path picks its grammar,
    /// and a path with an unknown extension is listed as skipped.
    pub fn in_memory(
        name: impl Into<String>,
        files: impl IntoIterator<Item = (String, String)>,
    ) -> Corpus {
        let mut corpus = Corpus {
            name: name.into(),
            files: Vec::new(),
            skipped: Vec::new(),
        };
        for (path, text) in files {
            match Language::from_path(Path::new(&path)) {
                Some(language) => corpus
                    .files
                    .push(CorpusFile::in_memory(path, language, text)),
                None => corpus.skipped.push(Skipped {
                    path,
                    reason: UNKNOWN_EXTENSION.into(),
                }),
            }
        }
        corpus
    }

    /// Walks `root` (a directory or a single file), following symlinks, in a stable (sorted) order.
    /// Fails only when `root` itself is unusable; everything below it is either accepted or skipped.
    pub fn scan(root: &Path, max_file_bytes: u64) -> Result<Corpus, CorpusError> {
        let meta = std::fs::metadata(root).map_err(|source| {
            if source.kind() == std::io::ErrorKind::NotFound {
                CorpusError::Missing(root.to_path_buf())
            } else {
                CorpusError::Unreadable {
                    path: root.to_path_buf(),
                    source,
                }
            }
        })?;
        if meta.is_dir() {
            std::fs::read_dir(root).map_err(|source| CorpusError::Unreadable {
                path: root.to_path_buf(),
                source,
            })?;
        }
        let mut corpus = Corpus {
            name: root.display().to_string(),
            files: Vec::new(),
            skipped: Vec::new(),
        };
        let relative = |path: &Path| -> String {
            let rel = path.strip_prefix(root).unwrap_or(path);
            if rel.as_os_str().is_empty() {
                path.display().to_string()
            } else {
                rel.display().to_string()
            }
        };
        let walk = walkdir::WalkDir::new(root)
            .follow_links(true)
            .sort_by_file_name();
        for entry in walk {
            let entry = match entry {
                Ok(entry) => entry,
                Err(error) => {
                    let path = error.path().map(relative).unwrap_or_default();
                    corpus.skipped.push(Skipped {
                        path,
                        reason: walk_error_reason(&error),
                    });
                    continue;
                }
            };
            let file_type = entry.file_type();
            if file_type.is_dir() {
                continue; // Directories are walked, whatever their name (`pkg.py/` is a directory).
            }
            let path = relative(entry.path());
            let skip = |reason: String| Skipped {
                path: path.clone(),
                reason,
            };
            if !file_type.is_file() {
                corpus
                    .skipped
                    .push(skip("not a regular file (device, socket or pipe)".into()));
                continue;
            }
            let Some(language) = Language::from_path(entry.path()) else {
                corpus.skipped.push(skip(UNKNOWN_EXTENSION.into()));
                continue;
            };
            match read_candidate(entry.path(), max_file_bytes) {
                Ok(text) => corpus.files.push(CorpusFile {
                    path,
                    language,
                    bytes: text.len() as u64,
                    lines: count_lines(&text),
                    origin: Origin::Disk(entry.path().to_path_buf()),
                }),
                Err(reason) => corpus.skipped.push(skip(reason)),
            }
        }
        Ok(corpus)
    }

    /// Total lines.
    pub fn lines(&self) -> u64 {
        self.files.iter().map(|f| f.lines).sum()
    }

    /// The languages of the corpus's files, each once, in [`Language::ALL`]'s order.
    pub fn languages(&self) -> Vec<Language> {
        Language::ALL
            .into_iter()
            .filter(|&l| self.files.iter().any(|f| f.language == l))
            .collect()
    }

    /// Total source bytes.
    pub fn source_bytes(&self) -> u64 {
        self.files.iter().map(|f| f.bytes).sum()
    }

    /// Per-language totals, for the languages present.
    pub fn language_totals(&self) -> Vec<LanguageTotals> {
        Language::ALL
            .iter()
            .filter_map(|&language| {
                let files: Vec<_> = self
                    .files
                    .iter()
                    .filter(|f| f.language == language)
                    .collect();
                (!files.is_empty()).then(|| LanguageTotals {
                    language: language.name().into(),
                    files: files.len() as u64,
                    lines: files.iter().map(|f| f.lines).sum(),
                    source_bytes: files.iter().map(|f| f.bytes).sum(),
                })
            })
            .collect()
    }

    /// `count` files spread evenly over the corpus (so every language is represented), in corpus order.
    pub fn spread(&self, count: usize) -> Vec<&CorpusFile> {
        let total = self.files.len();
        let count = count.min(total);
        (0..count).map(|j| &self.files[j * total / count]).collect()
    }
}

/// Lines as an editor counts them: newline-terminated lines plus a final unterminated one.
pub fn count_lines(text: &str) -> u64 {
    let newlines = text.bytes().filter(|&b| b == b'\n').count() as u64;
    newlines + u64::from(!text.is_empty() && !text.ends_with('\n'))
}

/// Reads a candidate file and checks that it is text we can measure; `Err` holds the skip reason.
fn read_candidate(path: &Path, max_file_bytes: u64) -> Result<String, String> {
    let len = std::fs::metadata(path)
        .map_err(|e| format!("unreadable: {e}"))?
        .len();
    if len > max_file_bytes {
        return Err(format!(
            "too large: {len} bytes, over the {max_file_bytes}-byte limit"
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| format!("unreadable: {e}"))?;
    if bytes.len() as u64 > max_file_bytes {
        return Err(format!(
            "grew past the {max_file_bytes}-byte limit while read"
        ));
    }
    check_text(bytes)
}

/// Accepts UTF-8 without NUL bytes; `Err` holds the reason.
fn check_text(bytes: Vec<u8>) -> Result<String, String> {
    if let Some(at) = bytes.iter().position(|&b| b == 0) {
        return Err(format!("binary: NUL byte at offset {at}"));
    }
    String::from_utf8(bytes).map_err(|e| {
        format!(
            "not UTF-8: invalid byte at offset {}",
            e.utf8_error().valid_up_to()
        )
    })
}

fn walk_error_reason(error: &walkdir::Error) -> String {
    if let Some(ancestor) = error.loop_ancestor() {
        return format!("symlink loop back to {}", ancestor.display());
    }
    match (error.io_error(), error.path()) {
        (Some(io), Some(path))
            if io.kind() == std::io::ErrorKind::NotFound
                && std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) =>
        {
            "dangling symlink".into()
        }
        (Some(io), _) => format!("unreadable: {io}"),
        (None, _) => format!("unreadable: {error}"),
    }
}
