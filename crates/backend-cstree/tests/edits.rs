//! Edit sessions on both cstree rows: every version after every edit, and every kept version restored, is
//! verified (text, nodes, shape, fields, lookups), on snippets with syntax errors, wide files and deep files.

use backend_cstree::{Cstree, CstreeShared};
use cst_measure::corpus::{Corpus, CorpusFile};
use cst_measure::fixtures::{deep_nesting, snippets, wide_file};
use cst_measure::harness::NoProgress;
use cst_measure::session::{measure_edits, EditOptions};
use cst_measure::{Backend, Language};

#[global_allocator]
static ALLOC: cst_measure::alloc::MeasuringAllocator =
    cst_measure::alloc::MeasuringAllocator::new();

fn session<B: Backend>(files: Vec<CorpusFile>, options: &EditOptions) {
    let corpus = Corpus {
        name: "edits".into(),
        files,
        skipped: Vec::new(),
    };
    let m = measure_edits::<B>(&corpus, options, &mut NoProgress).unwrap();
    assert_eq!(m.failed, 0, "{}: {:#?}", B::NAME, m.failures);
    assert!(m.edits > 0 && m.versions_verified >= m.edits, "{}", B::NAME);
}

fn snippet_files() -> Vec<CorpusFile> {
    snippets()
        .into_iter()
        .map(|s| CorpusFile::in_memory(s.name, s.language, s.text))
        .collect()
}

#[test]
fn snippets_edited_and_restored() {
    let options = EditOptions {
        edits: 40,
        lookup_checks: usize::MAX,
        ..EditOptions::default()
    };
    session::<Cstree>(snippet_files(), &options);
    session::<CstreeShared>(snippet_files(), &options);
}

#[test]
fn wide_and_deep_files_edited_and_restored() {
    let files = || {
        Language::ALL
            .iter()
            .flat_map(|&l| {
                [
                    CorpusFile::in_memory(
                        format!("wide.{}", l.extension()),
                        l,
                        wide_file(l, 1_000),
                    ),
                    CorpusFile::in_memory(
                        format!("deep.{}", l.extension()),
                        l,
                        deep_nesting(l, 2_000),
                    ),
                ]
            })
            .collect()
    };
    let options = EditOptions {
        edits: 20,
        versions: 5,
        lookup_checks: 500,
        ..EditOptions::default()
    };
    session::<Cstree>(files(), &options);
    session::<CstreeShared>(files(), &options);
}
