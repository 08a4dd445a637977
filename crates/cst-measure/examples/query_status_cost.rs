//! What the query-status companion costs: bytes per node and the conversion time it adds, against the parse.
//!
//! Beside it, what the companion costs against a [`cst_measure::query_status::StatusModel`] learned from the
//! same files (as a store learns it at `finish()`): the streams, the model, and the model's entries.
//!
//! `cargo run --release -p cst-measure --example query_status_cost [DIR]` (the built-in corpus without DIR).

use cst_measure::corpus::Corpus;
use cst_measure::query_status::{
    statuses_by_query, statuses_with_contexts, FileStatus, ModelBuilder,
};
use cst_measure::Language;
use std::time::{Duration, Instant};

fn main() -> anyhow::Result<()> {
    let files: Vec<(Language, String)> = match std::env::args().nth(1) {
        Some(dir) => {
            let corpus = Corpus::scan(dir.as_ref(), 16 << 20)?;
            corpus
                .files
                .iter()
                .map(|f| Ok((f.language, f.text()?.into_owned())))
                .collect::<anyhow::Result<_>>()?
        }
        None => builtin_corpus::generate()
            .into_iter()
            .map(|f| {
                let language = Language::from_path(f.path.as_ref()).expect("a known extension");
                (language, f.text)
            })
            .collect(),
    };
    let (mut nodes, mut bytes, mut exceptions) = (0usize, 0usize, [0usize; 3]);
    let (mut parse, mut status, mut by_query) = (Duration::ZERO, Duration::ZERO, Duration::ZERO);
    let mut differ = 0;
    let mut builder = ModelBuilder::default();
    let mut kept = Vec::new();
    for (language, text) in &files {
        let start = Instant::now();
        let tree = language.parse(text);
        parse += start.elapsed();
        let start = Instant::now();
        let file = FileStatus::of(&tree);
        status += start.elapsed();
        let (statuses, walk) = statuses_with_contexts(&tree);
        let start = Instant::now();
        let truth = statuses_by_query(&tree, *language);
        by_query += start.elapsed();
        differ += usize::from(truth != statuses);
        builder.count(*language, &statuses, &walk);
        nodes += statuses.len();
        bytes += file.bytes();
        for (s, c) in statuses.iter().zip(&walk) {
            let w = &c.walk_field;
            exceptions[0] += usize::from(s.extra);
            exceptions[1] += usize::from(s.query_field != *w);
            exceptions[2] += usize::from(s.supertypes != 0);
        }
        kept.push((*language, statuses, walk));
    }
    let pairs = builder.distinct();
    let model = builder.build();
    let encoded: Vec<(FileStatus, FileStatus)> = kept
        .iter()
        .map(|(language, statuses, walk)| {
            (
                FileStatus::encode(statuses, walk),
                FileStatus::encode_with(statuses, walk, *language, &model),
            )
        })
        .collect();
    let learned: usize = encoded.iter().map(|(_, with)| with.bytes()).sum();
    // Reading every node's status in a preorder walk's contexts, against the empty model and the learned one
    // (the fastest of 5 rounds each).
    let read = |with_model: bool| {
        (0..5)
            .map(|_| {
                let start = Instant::now();
                let mut seen = 0u64;
                for ((language, _, walk), (without, with)) in kept.iter().zip(&encoded) {
                    let stream = if with_model {
                        with.view_with(*language, &model)
                    } else {
                        without.view()
                    };
                    let mut reader = stream.reader();
                    for &c in walk {
                        seen += u64::from(reader.next(c).supertypes);
                    }
                }
                std::hint::black_box(seen);
                start.elapsed()
            })
            .min()
            .expect("5 rounds")
    };
    let (plain, modelled) = (read(false), read(true));
    println!(
        "reading every status: {:.1} ns per node against the empty model, {:.1} ns against the learned one",
        plain.as_secs_f64() * 1e9 / nodes as f64,
        modelled.as_secs_f64() * 1e9 / nodes as f64,
    );
    println!(
        "against a model learned from these files ({pairs} distinct (context, status) pairs counted): streams {learned} B, model {} B ({} entries); {:.3} B per \
         node with the model, against {:.3} B without",
        model.bytes(),
        model.entries(),
        (learned + model.bytes()) as f64 / nodes as f64,
        bytes as f64 / nodes as f64,
    );
    println!(
        "{} files, {nodes} nodes: companion streams {bytes} B ({:.3} B per node); extras {}, query field != \
         walk field {}, under a supertype {}; parse {:.1} ms, statuses {:.1} ms ({:.2}x the parse; by QueryCursor {:.1} ms, {differ} files differ from it)",
        files.len(),
        bytes as f64 / nodes as f64,
        exceptions[0],
        exceptions[1],
        exceptions[2],
        parse.as_secs_f64() * 1e3,
        status.as_secs_f64() * 1e3,
        status.as_secs_f64() / parse.as_secs_f64(),
        by_query.as_secs_f64() * 1e3,
    );
    Ok(())
}
