//! What opening a saved frozen store costs, part by part: `cargo run -p backend-frozen --release --example
//! open_bench -- FILE` (a file `cargo xtask save --backend frozen` wrote) prints the median of 20 opens, of
//! hashing the file's bytes alone (xxh3-64, in memory) and of one lookup in every file (which thaws it).

use backend_frozen::Frozen;
use cst_measure::saved;
use cst_measure::{CstCursor, CstStore};
use std::time::Instant;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let path = std::env::args().nth(1).expect("usage: open_bench FILE");
    let path = std::path::Path::new(&path);
    let bytes = std::fs::read(path).unwrap();
    let (mut opens, mut hashes, mut lookups) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..20 {
        let start = Instant::now();
        std::hint::black_box(saved::hash(&bytes));
        hashes.push(start.elapsed().as_secs_f64());
        let start = Instant::now();
        let opened = saved::store::open::<Frozen>(path).unwrap();
        opens.push(start.elapsed().as_secs_f64());
        let start = Instant::now();
        let store = &opened.store;
        let mut cursor = store.cursor(0);
        for file in 0..store.len() {
            store.reset_cursor(&mut cursor, file);
            let root = cursor.node();
            store.seek(&mut cursor, file, (root.start + root.end) / 2);
        }
        lookups.push(start.elapsed().as_secs_f64());
        drop(cursor);
        drop(opened);
    }
    println!(
        "{} bytes: open {:.3} ms, hashing alone {:.3} ms ({:.1} GB/s), one lookup per file {:.3} ms",
        bytes.len(),
        median(opens) * 1e3,
        median(hashes.clone()) * 1e3,
        bytes.len() as f64 / median(hashes) / 1e9,
        median(lookups) * 1e3
    );
}
