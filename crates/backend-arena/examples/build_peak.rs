//! Where the arena's build peak comes from: builds a store as the compare run's harness does (each file
//! parsed, added, its tree freed; the parsers kept) under the counting allocator, and prints the peak of
//! live bytes, the final store, and at the file where the peak was reached: the store's live bytes before
//! that file and what the file's parse and `add` raised the peak to.
//!
//! Usage: `cargo run -p backend-arena --release --example build_peak -- [builtin] [DIR...]`

use backend_arena::Arena;
use cst_measure::alloc;
use cst_measure::corpus::{Corpus, DEFAULT_MAX_FILE_BYTES};
use cst_measure::{Backend, CstStore, Language};
use std::path::Path;

#[global_allocator]
static ALLOC: alloc::MeasuringAllocator = alloc::MeasuringAllocator::new();

fn main() {
    let mut files: Vec<(Language, String)> = Vec::new();
    for arg in std::env::args().skip(1) {
        if arg == "builtin" {
            for file in builtin_corpus::generate() {
                let language = Language::from_path(Path::new(&file.path)).expect("known extension");
                files.push((language, file.text));
            }
        } else {
            let corpus = Corpus::scan(Path::new(&arg), DEFAULT_MAX_FILE_BYTES).expect("corpus");
            for file in &corpus.files {
                files.push((file.language, file.text().expect("readable").into_owned()));
            }
        }
    }
    let start = alloc::snapshot();
    alloc::reset_peak();
    let mut parsers: [Option<tree_sitter::Parser>; 4] = Default::default();
    let mut store = Arena::new_store();
    // (file, live before its parse, the peak after its add, the store's spare and scratch before it)
    let mut worst = (0usize, 0u64, 0u64, backend_arena::BuildSpare::default());
    let mut peak = 0;
    for (i, (language, text)) in files.iter().enumerate() {
        let before = alloc::snapshot().live_bytes - start.live_bytes;
        let spare = store.build_spare();
        let parser = parsers[language.index()].get_or_insert_with(|| language.parser());
        let tree = parser.parse(text, None).expect("a tree");
        store.add(*language, text, tree).expect("added");
        let now = alloc::snapshot().peak_bytes - start.live_bytes;
        if now > peak {
            peak = now;
            worst = (i, before, now, spare);
        }
    }
    store.finish();
    drop(parsers);
    let end = alloc::snapshot();
    let stored = end.live_bytes - start.live_bytes;
    println!(
        "{} files: peak {} B, store {} B ({:.3}x the store); the peak at file {} ({} bytes of text): \
         {} B live before its parse, {} B more during its parse and add; before it {:?}",
        files.len(),
        end.peak_bytes - start.live_bytes,
        stored,
        (end.peak_bytes - start.live_bytes) as f64 / stored as f64,
        worst.0,
        files[worst.0].1.len(),
        worst.1,
        worst.2 - worst.1,
        worst.3,
    );
}
