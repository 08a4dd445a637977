//! The text-only reference rows: what they count, and that a corpus-trained dictionary pays on many small,
//! similar files (the built-in corpus's shape).

use backend_frozen::measure_text_reference;
use zstd_safe::{CCtx, CParameter};

#[global_allocator]
static ALLOCATOR: cst_measure::alloc::MeasuringAllocator =
    cst_measure::alloc::MeasuringAllocator::new();

/// Small files that share most of their vocabulary, as generated code does.
fn similar_files(count: usize) -> Vec<String> {
    (0..count)
        .map(|i| {
            format!(
                "def handle_request_{i}(session, payload):\n    \"\"\"Validate the payload and store it.\"\"\"\n    \
                 if payload is None:\n        return session.reject({i})\n    return session.store(payload, \
                 retries={})\n",
                i % 7
            )
        })
        .collect()
}

/// One file as `zstd -19 --no-check --no-dictID` writes it, without a dictionary.
fn frame_bytes(text: &str) -> usize {
    let mut cctx = CCtx::create();
    for p in [
        CParameter::CompressionLevel(19),
        CParameter::ChecksumFlag(false),
        CParameter::DictIdFlag(false),
    ] {
        cctx.set_parameter(p).unwrap();
    }
    let mut out = Vec::with_capacity(zstd_safe::compress_bound(text.len()));
    cctx.compress2(&mut out, text.as_bytes()).unwrap();
    out.len()
}

#[test]
fn the_plain_row_counts_each_frame_and_a_u32_offset_per_file() {
    let files = similar_files(50);
    let texts: Vec<&str> = files.iter().map(String::as_str).collect();
    let plain = measure_text_reference(&texts, false);
    let frames: usize = texts.iter().map(|t| frame_bytes(t)).sum();
    assert_eq!(plain.retained_bytes, (frames + 4 * texts.len()) as u64);
    assert_eq!(plain.dictionary_bytes, 0);
}

#[test]
fn a_trained_dictionary_pays_for_itself_on_many_small_similar_files() {
    let files = similar_files(2000);
    let texts: Vec<&str> = files.iter().map(String::as_str).collect();
    let source: usize = texts.iter().map(|t| t.len()).sum();
    let plain = measure_text_reference(&texts, false);
    let trained = measure_text_reference(&texts, true);
    assert!(trained.dictionary_bytes > 0, "{trained:?}");
    assert!(trained.retained_bytes >= trained.dictionary_bytes);
    assert!(
        trained.retained_bytes * 10 < plain.retained_bytes * 7,
        "dictionary {} vs plain {} bytes of {source}",
        trained.retained_bytes,
        plain.retained_bytes
    );
}
