//! Editing a frozen store: files re-frozen one at a time against the model `finish()` built, with
//! compressed literal streams and a trained dictionary (which the conformance suite's few files never
//! train), content the model never saw, and versions restored.

use backend_frozen::Frozen;
use cst_measure::corpus::{Corpus, CorpusFile};
use cst_measure::harness::NoProgress;
use cst_measure::reference::ReferenceTree;
use cst_measure::session::{measure_edits, EditOptions};
use cst_measure::verify::{spread_offsets, verify_file, verify_lookups};
use cst_measure::{Backend, CstStore, Language};

#[global_allocator]
static ALLOCATOR: cst_measure::alloc::MeasuringAllocator =
    cst_measure::alloc::MeasuringAllocator::new();

/// Some built-in files alone (inline literals) and runs of them joined (compressed literals).
fn mixed_files() -> Vec<(Language, String)> {
    let generated: Vec<(Language, String)> = builtin_corpus::generate()
        .into_iter()
        .map(|f| {
            (
                Language::from_path(std::path::Path::new(&f.path)).expect("known extension"),
                f.text,
            )
        })
        .collect();
    let mut files: Vec<(Language, String)> = generated.iter().step_by(60).cloned().collect();
    for chunk in generated.chunks(30).step_by(3) {
        if chunk.iter().all(|f| f.0 == chunk[0].0) {
            let joined: Vec<&str> = chunk.iter().map(|f| f.1.as_str()).collect();
            files.push((chunk[0].0, joined.join("\n")));
        }
    }
    files
}

fn check(store: &<Frozen as Backend>::Store, file: usize, language: Language, text: &str) {
    let tree = language.parse(text);
    verify_file(store, file, language, text, &tree).unwrap_or_else(|e| panic!("file {file}: {e}"));
    verify_lookups(
        store,
        file,
        text,
        &ReferenceTree::of(&tree),
        spread_offsets(text.len() as u32, 100),
    )
    .unwrap_or_else(|e| panic!("file {file}: {e}"));
}

#[test]
fn edit_sessions_verify_every_version() {
    let files = mixed_files();
    assert!(files.iter().filter(|f| f.1.len() > 6000).count() >= 20);
    let corpus = Corpus {
        name: "mixed".into(),
        files: files
            .iter()
            .enumerate()
            .map(|(i, (l, t))| {
                CorpusFile::in_memory(format!("{i}.{}", l.extension()), *l, t.clone())
            })
            .collect(),
        skipped: Vec::new(),
    };
    let options = EditOptions {
        edits: 12,
        versions: 4,
        ..EditOptions::default()
    };
    let m = measure_edits::<Frozen>(&corpus, &options, &mut NoProgress).expect("sessions run");
    assert_eq!(m.failed, 0, "{:#?}", m.failures);
    assert_eq!(m.edits, 12 * files.len() as u64);
    assert_eq!(m.versions_verified, m.edits + 3 * files.len() as u64);
    assert!(m.bytes_per_extra_version > 0.0);
}

#[test]
fn content_the_model_never_saw_round_trips() {
    // A store of Python files only; then file 0 becomes Rust, file 1 TypeScript full of errors, file 2 a large
    // Python file of texts the corpus never had (its literal stream compressed without a dictionary).
    let python: Vec<String> = builtin_corpus::generate()
        .into_iter()
        .filter(|f| f.path.ends_with(".py"))
        .take(4)
        .map(|f| f.text)
        .collect();
    let mut store = Frozen::new_store();
    for text in &python {
        store
            .add(Language::Python, text, Language::Python.parse(text))
            .expect("representable");
    }
    store.finish();
    let first = store.version(0);
    let replacements = [
        (
            0,
            Language::Rust,
            "fn main() {\n\tlet x = r#\"raw\"#; }\r\n// comment\n".to_string(),
        ),
        (
            1,
            Language::TypeScript,
            "let = = ; class { x: ( ] } \u{e9}\u{1F600}".to_string(),
        ),
        (
            2,
            Language::Python,
            (0..400)
                .map(|i| format!("def f{i}(a{i}, b={i}.5):\n    return 'x{i}' + a{i}  # {i}\n"))
                .collect(),
        ),
    ];
    for (file, language, text) in &replacements {
        store
            .replace(*file, *language, text, language.parse(text))
            .expect("representable");
    }
    for (file, language, text) in &replacements {
        check(&store, *file, *language, text);
    }
    check(&store, 3, Language::Python, &python[3]);
    // The first version comes back; the replacement stays in a version of its own.
    let rust = store.version(0);
    store.restore(0, &first);
    check(&store, 0, Language::Python, &python[0]);
    store.restore(0, &rust);
    check(&store, 0, Language::Rust, &replacements[0].2);
}

/// Edit sessions on files coded in blocks (runs of 600 built-in files joined: more than twice
/// `BLOCK_NODES` nodes each): every version verified, the deltas thawing the blocked first version whole.
#[test]
fn edit_sessions_on_files_in_blocks_verify_every_version() {
    let generated: Vec<(Language, String)> = builtin_corpus::generate()
        .into_iter()
        .map(|f| {
            (
                Language::from_path(std::path::Path::new(&f.path)).expect("known extension"),
                f.text,
            )
        })
        .collect();
    let mut files = Vec::new();
    for language in [Language::Python, Language::Rust, Language::TypeScript] {
        let texts: Vec<&str> = generated
            .iter()
            .filter(|f| f.0 == language)
            .take(600)
            .map(|f| f.1.as_str())
            .collect();
        files.push((language, texts.join("\n")));
    }
    let mut store = Frozen::new_store();
    for (language, text) in &files {
        store
            .add(*language, text, language.parse(text))
            .expect("representable");
    }
    store.finish();
    assert_eq!(store.block_overhead().0, 3, "every file in blocks");
    let corpus = Corpus {
        name: "blocked".into(),
        files: files
            .iter()
            .enumerate()
            .map(|(i, (l, t))| {
                CorpusFile::in_memory(format!("{i}.{}", l.extension()), *l, t.clone())
            })
            .collect(),
        skipped: Vec::new(),
    };
    let options = EditOptions {
        edits: 10,
        versions: 3,
        ..EditOptions::default()
    };
    let m = measure_edits::<Frozen>(&corpus, &options, &mut NoProgress).expect("sessions run");
    assert_eq!(m.failed, 0, "{:#?}", m.failures);
    assert_eq!(m.edits, 10 * files.len() as u64);
}
