//! The rows the frozen store is judged against: the text alone (no tree), each file compressed with zstd
//! level 19, (a) without a dictionary and (b) with one trained on the corpus, its size counted. Measured at
//! the allocator like every store: the retained bytes are the difference of [`alloc::snapshot`]s around
//! building the compressed blobs (one exactly-sized `Vec<u8>` of all frames end to end, a `u32` offset per
//! file, and the dictionary's bytes), which are kept until the figures are read.
//!
//! Frames are standard zstd frames with the content size and without checksum or dictionary id (what
//! `zstd -19 --no-check --no-dictID` writes). The dictionary size is searched as the frozen store's is
//! (`literal.rs`): each candidate from 1 KiB to 112 KiB is trained on every file and judged by the bytes of
//! an evenly spread sample of at most 1 MB of files compressed at level 19 with it, plus its own size; the
//! smallest total wins (zstd's default of 110 KB is one of the candidates, roughly; on a corpus of a few
//! hundred kilobytes a small dictionary wins).

use crate::literal::{self, compressor, sample};
use cst_measure::alloc;
use std::time::Instant;

/// What the text alone costs compressed, and how long it takes.
#[derive(Clone, Debug, PartialEq)]
pub struct TextReference {
    /// Bytes the compressed files (and the dictionary, if any) retain.
    pub retained_bytes: u64,
    /// What the allocator holds for them.
    pub retained_footprint: u64,
    /// Time to compress every file (and with a dictionary: to search its size and train it).
    pub compress_seconds: f64,
    /// Time to decompress every file once (with a dictionary: a prepared `DDict`, made once, included).
    pub decompress_seconds: f64,
    /// Size of the dictionary used (0 without).
    pub dictionary_bytes: u64,
}

/// The zstd level the text-only rows compress at (their names and descriptions give it).
pub const TEXT_REFERENCE_LEVEL: i32 = 19;
const SAMPLE_BYTES: usize = 1 << 20;
const SIZES: [usize; 8] = [
    1 << 10,
    2 << 10,
    4 << 10,
    8 << 10,
    16 << 10,
    32 << 10,
    64 << 10,
    112 << 10,
];

fn frames_cost(files: &[&[u8]], dictionary: Option<&[u8]>) -> usize {
    let mut cctx = compressor(dictionary, TEXT_REFERENCE_LEVEL, false);
    files
        .iter()
        .map(|f| compress_frame(&mut cctx, f).len())
        .sum()
}

/// One standard frame (always a frame, even when it is longer than the text).
fn compress_frame(cctx: &mut zstd_safe::CCtx<'_>, text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(zstd_safe::compress_bound(text.len()));
    cctx.compress2(&mut out, text)
        .expect("the output has the compress bound");
    out
}

/// Compresses every text with zstd level 19, with a corpus-trained dictionary if `dictionary`, and measures
/// what it retains and how long compressing and decompressing take.
pub fn measure_text_reference(texts: &[&str], dictionary: bool) -> TextReference {
    let files: Vec<&[u8]> = texts.iter().map(|t| t.as_bytes()).collect();
    let clock = Instant::now();
    let trained = if dictionary {
        let (sample, scale) = sample(&files, SAMPLE_BYTES);
        let mut best = (frames_cost(&sample, None) as f64 * scale, None);
        for size in SIZES {
            let Some(d) = literal::train(&files, size) else {
                break;
            };
            let total = frames_cost(&sample, Some(&d)) as f64 * scale + d.len() as f64;
            if total < best.0 {
                best = (total, Some(d));
            }
        }
        best.1
    } else {
        None
    };
    let mut cctx = compressor(trained.as_deref(), TEXT_REFERENCE_LEVEL, false);
    let frames: Vec<Vec<u8>> = files.iter().map(|f| compress_frame(&mut cctx, f)).collect();
    drop(cctx);
    let start = alloc::snapshot();
    let mut blobs = Vec::with_capacity(frames.iter().map(Vec::len).sum());
    let mut offsets: Vec<u32> = Vec::with_capacity(frames.len());
    for frame in &frames {
        offsets.push(blobs.len() as u32);
        blobs.extend_from_slice(frame);
    }
    let kept_dictionary: Option<Vec<u8>> = trained.as_ref().map(|d| d.to_vec());
    let end = alloc::snapshot();
    let (retained, footprint) = (
        end.live_bytes - start.live_bytes,
        end.live_footprint - start.live_footprint,
    );
    let compress_seconds = clock.elapsed().as_secs_f64();
    drop(frames);

    let clock = Instant::now();
    let mut dctx = zstd_safe::DCtx::create();
    let ddict = kept_dictionary.as_deref().map(zstd_safe::DDict::create);
    let mut out: Vec<u8> = Vec::with_capacity(texts.iter().map(|t| t.len()).max().unwrap_or(0));
    for (i, text) in texts.iter().enumerate() {
        let end = offsets.get(i + 1).map_or(blobs.len(), |&e| e as usize);
        let frame = &blobs[offsets[i] as usize..end];
        out.clear();
        match &ddict {
            Some(ddict) => dctx.decompress_using_ddict(&mut out, frame, ddict),
            None => dctx.decompress(&mut out, frame),
        }
        .expect("a frame this function wrote decompresses");
        assert_eq!(out.len(), text.len());
    }
    let decompress_seconds = clock.elapsed().as_secs_f64();
    TextReference {
        retained_bytes: retained,
        retained_footprint: footprint,
        compress_seconds,
        decompress_seconds,
        dictionary_bytes: kept_dictionary.map_or(0, |d| d.len() as u64),
    }
}
