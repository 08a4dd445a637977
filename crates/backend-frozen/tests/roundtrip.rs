//! Files large enough to take the compressed literal path (with a trained dictionary) next to files small
//! enough to code their literals inline, in one store: every file reproduced and every lookup right; and a
//! store whose lexicon is large enough to be held compressed. (The
//! conformance suite in `crates/backends` covers awkward inputs; its files are few, so none of them trains
//! a dictionary.)

use backend_frozen::Frozen;
use cst_measure::reference::ReferenceTree;
use cst_measure::verify::{spread_offsets, verify_file, verify_lookups};
use cst_measure::{Backend, CstCursor, CstStore, Language};

#[global_allocator]
static ALLOCATOR: cst_measure::alloc::MeasuringAllocator =
    cst_measure::alloc::MeasuringAllocator::new();

#[test]
fn large_and_small_files_round_trip_in_one_store() {
    let generated: Vec<(Language, String)> = builtin_corpus::generate()
        .into_iter()
        .map(|f| {
            (
                Language::from_path(std::path::Path::new(&f.path)).expect("known extension"),
                f.text,
            )
        })
        .collect();
    // Every 60th file alone (small), and runs of 30 files of one language joined into one (large).
    let mut files: Vec<(Language, String)> = generated.iter().step_by(60).cloned().collect();
    for chunk in generated.chunks(30).step_by(3) {
        if chunk.iter().all(|f| f.0 == chunk[0].0) {
            files.push((
                chunk[0].0,
                chunk
                    .iter()
                    .map(|f| f.1.as_str())
                    .collect::<Vec<_>>()
                    .join("\n"),
            ));
        }
    }
    assert!(files.iter().filter(|f| f.1.len() > 6000).count() >= 20);
    let mut store = Frozen::new_store();
    for (language, text) in &files {
        store
            .add(*language, text, language.parse(text))
            .expect("representable");
    }
    store.finish();
    let (_, _, _, dictionary) = store.parts();
    assert!(
        dictionary > 0,
        "the large files' literal streams train a dictionary"
    );
    for (i, (language, text)) in files.iter().enumerate() {
        let reference = language.parse(text);
        verify_file(&store, i, *language, text, &reference)
            .unwrap_or_else(|e| panic!("file {i}: {e}"));
        verify_lookups(
            &store,
            i,
            text,
            &ReferenceTree::of(&reference),
            spread_offsets(text.len() as u32, 200),
        )
        .unwrap_or_else(|e| panic!("file {i}: {e}"));
    }
}

/// Files sharing 800 long identifiers: a lexicon of about 19 KB, held compressed, which every thaw below
/// (a new cursor per file, as `verify_file` makes) decompresses before reading the file.
#[test]
fn a_store_with_a_compressed_lexicon_reads_back() {
    let language = Language::Python;
    let files: Vec<String> = (0..40)
        .map(|f| {
            (0..800)
                .map(|i| format!("shared_identifier_{:05}_x = {}\n", (i * 7 + f) % 800, i + f))
                .collect()
        })
        .collect();
    let mut store = Frozen::new_store();
    for text in &files {
        store
            .add(language, text, language.parse(text))
            .expect("representable");
    }
    store.finish();
    assert!(store.lexicon_compressed(), "19 KB of shared identifiers");
    for (i, text) in files.iter().enumerate() {
        verify_file(&store, i, language, text, &language.parse(text))
            .unwrap_or_else(|e| panic!("file {i}: {e}"));
    }
}

/// Large files coded in small blocks (64 nodes, so that every block boundary case comes up: blocks that
/// start deep inside a node, nodes spanning many blocks, wide nodes cut by a boundary), next to small files
/// coded whole: every file reproduced (walk, fold, texts of nodes spanning blocks) and every lookup right,
/// each through a new cursor and through one cursor moving between files and blocks.
#[test]
fn files_in_blocks_round_trip() {
    let generated: Vec<(Language, String)> = builtin_corpus::generate()
        .into_iter()
        .map(|f| {
            (
                Language::from_path(std::path::Path::new(&f.path)).expect("known extension"),
                f.text,
            )
        })
        .collect();
    let mut files: Vec<(Language, String)> = generated.iter().step_by(97).cloned().collect();
    for chunk in generated.chunks(20).step_by(7) {
        if chunk.iter().all(|f| f.0 == chunk[0].0) {
            let joined: Vec<&str> = chunk.iter().map(|f| f.1.as_str()).collect();
            files.push((chunk[0].0, joined.join("\n")));
        }
    }
    for budget in [0, 1 << 20] {
        let mut store = Frozen::new_store();
        store.set_block_nodes(64);
        store.set_thaw_budget(budget);
        for (language, text) in &files {
            store
                .add(*language, text, language.parse(text))
                .expect("representable");
        }
        store.finish();
        let (blocked, blocks, _) = store.block_overhead();
        assert!(
            blocked >= 10 && blocks >= 100,
            "{blocked} files in {blocks} blocks"
        );
        for (i, (language, text)) in files.iter().enumerate() {
            let reference = language.parse(text);
            verify_file(&store, i, *language, text, &reference)
                .unwrap_or_else(|e| panic!("file {i}: {e}"));
            assert_eq!(store.text(i), text.as_str(), "file {i}");
            verify_lookups(
                &store,
                i,
                text,
                &ReferenceTree::of(&reference),
                spread_offsets(text.len() as u32, 300),
            )
            .unwrap_or_else(|e| panic!("file {i}: {e}"));
        }
        // One cursor moving between files: every lookup's node and ancestors as a new cursor's.
        let mut moving = store.cursor(0);
        for round in 0..3u32 {
            for (i, (_, text)) in files.iter().enumerate().rev() {
                let len = text.len() as u32;
                for offset in [0, len / 3 + round, len.saturating_sub(round)] {
                    let mut fresh = store.cursor(i);
                    store.seek(&mut fresh, i, offset);
                    store.seek(&mut moving, i, offset);
                    loop {
                        assert_eq!(fresh.node(), moving.node(), "file {i} at {offset}");
                        assert_eq!(fresh.text(), moving.text());
                        let (a, b) = (fresh.goto_parent(), moving.goto_parent());
                        assert_eq!(a, b);
                        if !a {
                            break;
                        }
                    }
                }
            }
        }
    }
}
