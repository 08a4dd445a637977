//! The arena's saved form: its buffers as they are in memory, so that a store opened from a mapping reads
//! its records and text in place (`cst_measure::saved` has the container: header, checksums, files).
//!
//! | tag | section | bytes |
//! | --- | --- | --- |
//! | 16 | every file's text, end to end | 1 per source byte |
//! | 17 | every file's stream, end to end, then 8 zero bytes (the arena's `streams`, byte for byte) | the store's stream bytes |
//! | 18 | where each file's text starts (`u64`) | 8 per file |
//! | 19 | where each file's stream starts (`u64`) | 8 per file |
//! | 20 | the query-status model (its entry count, `u64`, then per entry its key and its prediction, `u64` each), then every file's query-status companion (`cst_measure::query_status`), each its length (`u64`) then its stream | 16 per model entry, 8 per file and the streams (about 0.01 per node) |
//!
//! A store with edited files is saved as its current versions, end to end (what a compaction would
//! give); versions kept apart are not saved.
//!
//! Opening copies section 20's model and companions into the store (their bytes in the heap kept by the
//! open), the model's entry count checked against the section, its keys to rise and its values to use no
//! unknown bit, each length checked to lie within the section; a companion's reader reads a cut-short stream as zeros. Opening
//! borrows sections 16 and 17 from the mapping (no copy) and reads sections 18 and 19 into the
//! store's 4-byte offsets (8 bytes of heap per file). Before the store is handed out, the structure is
//! checked: the offsets rise from 0 within their sections, each file's text length is the one the container
//! recorded, each stream holds at least its header byte, whose language is the file's, and whose wide-node
//! index (if any) ends inside the stream, the stream's records fit the format's limit, and the streams end
//! with their 8 zero bytes. The records themselves are not decoded at open (that would cost a walk of every
//! file): the checksums guarantee that they are the bytes a save wrote, which the encoder wrote; a file
//! forged with valid checksums can make a cursor's bounds-checked reads panic, never read out of bounds.
//! Texts are checked as UTF-8 where they are handed out (`buffers.rs`).

use crate::buffers::{Bytes, Text};
use crate::codec::PADDING;
use crate::ArenaStore;
use cst_measure::query_status::QueryStatuses;
use cst_measure::saved::{u32_at, u64_at, Opened, Sections};
use cst_measure::{CstStore, Language};
use std::borrow::Cow;

const TEXT: u32 = 16;
const STREAMS: u32 = 17;
const TEXT_STARTS: u32 = 18;
const STREAM_STARTS: u32 = 19;
const STATUSES: u32 = 20;

/// The version of this layout (the header records it): 3 since section 20 leads with the query-status
/// model, 4 since a subtree of at most [`crate::SKIP_DESCENDANTS`] descendants stores a size of 0.
pub(crate) const FORMAT: u32 = 4;

/// Adds the store's sections: its buffers, borrowed when no file was edited.
pub(crate) fn save<'s>(store: &'s ArenaStore, sections: &mut Sections<'s>) -> Result<(), String> {
    let n = store.len();
    let mut text_starts = Vec::with_capacity(n * 8);
    let mut stream_starts = Vec::with_capacity(n * 8);
    if store.edited.is_empty() {
        for f in 0..n {
            text_starts.extend_from_slice(&store.text_starts.get(f).to_le_bytes());
            stream_starts.extend_from_slice(&store.stream_starts.get(f).to_le_bytes());
        }
        sections.add(TEXT, store.text.bytes());
        sections.add(STREAMS, &store.streams[..]);
    } else {
        let (mut text, mut streams) = (Vec::new(), Vec::new());
        for f in 0..n {
            text_starts.extend_from_slice(&(text.len() as u64).to_le_bytes());
            stream_starts.extend_from_slice(&(streams.len() as u64).to_le_bytes());
            text.extend_from_slice(store.file_text(f).as_bytes());
            streams.extend_from_slice(store.file_stream(f).0);
        }
        streams.resize(streams.len() + PADDING, 0);
        sections.add(TEXT, Cow::Owned(text));
        sections.add(STREAMS, Cow::Owned(streams));
    }
    sections.add(TEXT_STARTS, text_starts);
    sections.add(STREAM_STARTS, stream_starts);
    sections.add(STATUSES, store.statuses.to_section(n));
    Ok(())
}

/// The store the checked file holds, its text and streams borrowed from the mapping.
pub(crate) fn open(opened: &Opened) -> Result<ArenaStore, String> {
    let n = opened.file_count();
    let text = opened.section(TEXT)?;
    let streams = opened.section(STREAMS)?;
    let text_starts = opened.section(TEXT_STARTS)?;
    let stream_starts = opened.section(STREAM_STARTS)?;
    for (name, section) in [("text", &text_starts), ("stream", &stream_starts)] {
        if section.len() as u64 != n as u64 * 8 {
            return Err(format!(
                "the {name} offsets take {} bytes, not 8 for each of {n} files",
                section.len()
            ));
        }
    }
    if streams.len() < PADDING || streams[streams.len() - PADDING..].iter().any(|&b| b != 0) {
        return Err("the streams do not end with their 8 zero bytes".into());
    }
    let stream_end = (streams.len() - PADDING) as u64;
    let mut store = ArenaStore::with_limits(u32::MAX, u32::MAX);
    for f in 0..n {
        let bound = |starts: &[u8], end: u64| {
            let start = u64_at(starts, f * 8);
            let next = if f + 1 < n {
                u64_at(starts, f * 8 + 8)
            } else {
                end
            };
            (start, next)
        };
        let (text_start, text_next) = bound(&text_starts, text.len() as u64);
        let (stream_start, stream_next) = bound(&stream_starts, stream_end);
        let expected = opened.file(f);
        if (f == 0 && text_start != 0) || text_next < text_start || text_next > text.len() as u64 {
            return Err(format!(
                "file {f}'s text offsets {text_start}..{text_next} do not rise within the text"
            ));
        }
        if text_next - text_start != expected.size || expected.size > u64::from(u32::MAX) {
            return Err(format!(
                "file {f}'s text has {} bytes, the files section says {}",
                text_next - text_start,
                expected.size
            ));
        }
        if (f == 0 && stream_start != 0) || stream_next <= stream_start || stream_next > stream_end
        {
            return Err(format!(
                "file {f}'s stream offsets {stream_start}..{stream_next} do not rise within the streams"
            ));
        }
        let stream = &streams[stream_start as usize..stream_next as usize];
        // Record offsets are u32 bit offsets.
        if stream.len() as u64 * 8 > u64::from(u32::MAX) {
            return Err(format!(
                "file {f}'s stream has {} bytes, past the format's limit",
                stream.len()
            ));
        }
        let language = Language::ALL[usize::from(stream[0] & 3)];
        if language != expected.language {
            return Err(format!(
                "file {f}'s stream is of {}, the files section says {}",
                language.name(),
                expected.language.name()
            ));
        }
        if stream[0] & 4 != 0 {
            let fits = stream.len() >= 5 && (u32_at(stream, 1) as u64) + 5 <= stream.len() as u64;
            if !fits {
                return Err(format!("file {f}'s wide-node index runs past its stream"));
            }
        }
        store.text_starts.push(text_start);
        store.stream_starts.push(stream_start);
    }
    store.text_starts.shrink_to_fit();
    store.stream_starts.shrink_to_fit();
    store.statuses = QueryStatuses::from_section(&opened.section(STATUSES)?, n)?;
    store.text = Text::Mapped(text);
    store.streams = Bytes::Mapped(streams);
    Ok(store)
}
