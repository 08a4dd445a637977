//! The literal stream of every file (the bytes of new leaf texts and escaped gaps, in file order) compressed
//! with zstd at level 19, magicless frames without checksum, content size or dictionary id, against one
//! dictionary trained on all the streams (its bytes kept in the store, counted; a thaw loads it into its
//! decompression context, which costs microseconds against the milliseconds a file with a compressed literal
//! stream takes to parse, where a prepared `DDict` would hold another 27 KB of entropy tables in the store).
//! A stream that zstd does not shrink is kept raw.
//!
//! The dictionary size is searched: for each candidate (none, 1 KiB, 2 KiB, 4, 8, 12, 16, 24, ... 112 KiB, as far as the
//! streams can train), a dictionary is trained and the streams (or an evenly spread sample of at most
//! [`SAMPLE_BYTES`]) compressed with it; the size with the fewest bytes in total, the dictionary's own size
//! included, wins.

use zstd_safe::{CCtx, CParameter, DCtx, DParameter, FrameFormat};

/// zstd level of the literal streams. (Level 22 saved 82 bytes of 962,357 on real Rust code: not worth its
/// time.)
pub(crate) const LEVEL: i32 = 19;
/// Most bytes of streams compressed to judge one dictionary size.
const SAMPLE_BYTES: usize = 1 << 20;
/// Dictionary sizes tried (besides none).
const SIZES: [usize; 13] = [
    1 << 10,
    2 << 10,
    4 << 10,
    8 << 10,
    12 << 10,
    16 << 10,
    24 << 10,
    32 << 10,
    48 << 10,
    64 << 10,
    80 << 10,
    96 << 10,
    112 << 10,
];

/// A compression context writing the frames this crate reads (see the module doc).
pub(crate) fn compressor(dictionary: Option<&[u8]>, level: i32, magicless: bool) -> CCtx<'static> {
    let mut cctx = CCtx::create();
    let settings = [
        CParameter::CompressionLevel(level),
        CParameter::ChecksumFlag(false),
        CParameter::DictIdFlag(false),
        CParameter::ContentSizeFlag(!magicless),
        CParameter::Format(if magicless {
            FrameFormat::Magicless
        } else {
            FrameFormat::One
        }),
    ];
    for setting in settings {
        cctx.set_parameter(setting).expect("a valid zstd parameter");
    }
    if let Some(dictionary) = dictionary {
        cctx.load_dictionary(dictionary)
            .expect("a trained dictionary loads");
    }
    cctx
}

/// A decompression context for this crate's magicless frames.
pub(crate) fn decompressor() -> DCtx<'static> {
    let mut dctx = DCtx::create();
    dctx.set_parameter(DParameter::Format(FrameFormat::Magicless))
        .expect("a valid zstd parameter");
    dctx
}

/// `bytes` compressed by `cctx`, if that is shorter.
pub(crate) fn compress(cctx: &mut CCtx<'_>, bytes: &[u8]) -> Option<Vec<u8>> {
    if bytes.is_empty() {
        return None;
    }
    let mut out = Vec::with_capacity(zstd_safe::compress_bound(bytes.len()));
    cctx.compress2(&mut out, bytes)
        .expect("the output has the compress bound");
    (out.len() < bytes.len()).then_some(out)
}

/// A dictionary of at most `size` bytes trained on `streams` (the non-empty ones), if zstd can train one.
pub(crate) fn train(streams: &[&[u8]], size: usize) -> Option<Vec<u8>> {
    let samples: Vec<&[u8]> = streams.iter().copied().filter(|s| !s.is_empty()).collect();
    let total: usize = samples.iter().map(|s| s.len()).sum();
    // zstd wants many samples and far more sample bytes than dictionary bytes.
    if samples.len() < 8 || total < size * 4 {
        return None;
    }
    let mut joined = Vec::with_capacity(total);
    let mut sizes = Vec::with_capacity(samples.len());
    for s in &samples {
        joined.extend_from_slice(s);
        sizes.push(s.len());
    }
    let mut dictionary = Vec::with_capacity(size);
    zstd_safe::train_from_buffer(&mut dictionary, &joined, &sizes).ok()?;
    Some(dictionary)
}

/// Bytes the streams take with `dictionary` (each stream raw or compressed, whichever is shorter).
fn cost(streams: &[&[u8]], dictionary: Option<&[u8]>, level: i32) -> usize {
    let mut cctx = compressor(dictionary, level, true);
    streams
        .iter()
        .map(|s| compress(&mut cctx, s).map_or(s.len(), |c| c.len()))
        .sum()
}

/// The streams compressed (`None` where raw is shorter) and the dictionary they need, if any.
pub(crate) struct Packed {
    pub dictionary: Option<Vec<u8>>,
    pub compressed: Vec<Option<Vec<u8>>>,
}

/// An evenly spread sample of `streams` of at most about `limit` bytes, and the factor it stands for.
pub(crate) fn sample<'s>(streams: &[&'s [u8]], limit: usize) -> (Vec<&'s [u8]>, f64) {
    let total: usize = streams.iter().map(|s| s.len()).sum();
    let step = total.div_ceil(limit.max(1)).max(1);
    let picked: Vec<&[u8]> = streams.iter().copied().step_by(step).collect();
    let picked_total: usize = picked.iter().map(|s| s.len()).sum();
    (picked, total as f64 / picked_total.max(1) as f64)
}

/// Compresses every stream with the dictionary size that costs least (see the module doc).
pub(crate) fn pack(streams: &[&[u8]]) -> Packed {
    let (sample, scale) = sample(streams, SAMPLE_BYTES);
    let mut best: (f64, Option<Vec<u8>>) = (cost(&sample, None, LEVEL) as f64 * scale, None);
    for size in SIZES {
        let Some(dictionary) = train(streams, size) else {
            break;
        };
        let total =
            cost(&sample, Some(&dictionary), LEVEL) as f64 * scale + dictionary.len() as f64;
        if total < best.0 {
            best = (total, Some(dictionary));
        }
    }
    let dictionary = best.1;
    let mut cctx = compressor(dictionary.as_deref(), LEVEL, true);
    let compressed: Vec<Option<Vec<u8>>> = streams
        .iter()
        .map(|s| {
            compress(&mut cctx, s).map(|mut c| {
                c.shrink_to_fit();
                c
            })
        })
        .collect();
    let used = compressed.iter().any(Option::is_some);
    Packed {
        dictionary: dictionary.filter(|_| used),
        compressed,
    }
}
