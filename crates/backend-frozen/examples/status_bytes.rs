//! What a frozen store's query-status companion costs: its model, per-file starts and streams, against the
//! store's bytes at rest and the source.
//!
//! Usage: `cargo run -p backend-frozen --release --example status_bytes -- [DIR]` (the built-in corpus
//! without DIR). The compare run is the source of reported figures; this is for working on the format.

use backend_frozen::{Frozen, FrozenStore};
use cst_measure::alloc;
use cst_measure::corpus::{Corpus, DEFAULT_MAX_FILE_BYTES};
use cst_measure::{Backend, CstStore, Language};

#[global_allocator]
static ALLOCATOR: alloc::MeasuringAllocator = alloc::MeasuringAllocator::new();

fn main() {
    let files: Vec<(Language, String)> = match std::env::args().nth(1) {
        Some(dir) => Corpus::scan(std::path::Path::new(&dir), DEFAULT_MAX_FILE_BYTES)
            .expect("corpus")
            .files
            .iter()
            .map(|f| (f.language, f.text().expect("text").into_owned()))
            .collect(),
        None => builtin_corpus::generate()
            .into_iter()
            .map(|f| {
                let language = Language::from_path(std::path::Path::new(&f.path)).expect("known");
                (language, f.text)
            })
            .collect(),
    };
    let source: usize = files.iter().map(|f| f.1.len()).sum();
    let before = alloc::snapshot();
    let mut store: FrozenStore = Frozen::new_store();
    for (language, text) in &files {
        store
            .add(*language, text, language.parse(text))
            .expect("representable");
    }
    store.finish();
    let after = alloc::snapshot();
    let parts = store.status_parts();
    println!(
        "{} files, {source} source bytes; store {} B requested, {} B held at rest",
        files.len(),
        after.live_bytes - before.live_bytes,
        after.live_footprint - before.live_footprint
    );
    println!(
        "companion: model {} entries, {} B; starts {} B; streams {} B ({} files with exceptions); total {} B",
        parts.model_entries,
        parts.model_bytes,
        parts.start_bytes,
        parts.stream_bytes,
        parts.files_with_exceptions,
        parts.model_bytes + parts.start_bytes + parts.stream_bytes
    );
    // What handing a file's companion out costs (its language's model and its exceptions decoded).
    let start = std::time::Instant::now();
    let mut entries = 0usize;
    for _ in 0..10 {
        for f in 0..store.len() {
            let status = store.query_status(f).expect("frozen keeps statuses");
            entries += std::hint::black_box(status.reader())
                .next(Default::default())
                .supertypes as usize;
        }
    }
    let per = start.elapsed().as_secs_f64() / (10 * store.len().max(1)) as f64;
    println!("query_status: {:.2} us per call ({entries})", per * 1e6);
}
