//! Editing: an edited file's current CST lives out of the shared arena, and the versions kept apart hold
//! only what differs from the next newer one.
//!
//! A file that has been replaced, updated or restored has an [`Edited`] slot of its own: its text and stream
//! (the same format as in the arena, encoded from the new tree, unchanged subtrees' records copied: see the
//! crate's docs) and the [`Cell`] that stands for its current version. Its range in the shared arena becomes
//! garbage, which the store compacts away once it reaches a quarter of the arena (amortised O(1) per byte
//! edited).
//!
//! Versions are Baker's persistent arrays ("rerooting"): a version is an `Arc<Cell>`; exactly one cell per
//! file, the store's, is [`State::Current`] (its bytes are the store's); every other cell holds a [`Patch`]
//! that turns the bytes of the next cell on its chain into its own. An update turns the previous current
//! cell, if anyone still holds it, into a patch against the new bytes; a restore walks the chain from the
//! version to the current cell, applying the patches, and reverses each link as it goes, so the restored
//! version becomes the current cell and no cell is created or duplicated.
//!
//! | what | bytes |
//! | --- | --- |
//! | an edited file's slot (current version) | its text + its stream + 8 bytes of padding + a cell (`Arc`, about 48) + a hash-map entry |
//! | each version kept apart | a cell plus one allocation holding the text between the common prefix and suffix of the two versions, and likewise the stream's bytes |
//!
//! A stream's records end at its last byte, so everything after an edit is a common suffix; a change of
//! the stream's length in bits shifts the records before it (the padding before the first record
//! changes), so a patch keeps the stream from its header to the edit. Restoring a version `k` edits back
//! costs `k` patch applications, each linear in the file.

use crate::codec::PADDING;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// A file's bytes: its text and its stream (without the padding).
pub(crate) struct FileBytes<'a> {
    pub text: &'a [u8],
    pub stream: &'a [u8],
}

/// An edited file's current CST, out of the arena.
pub(crate) struct Edited {
    pub text: Box<str>,
    /// The stream, then [`PADDING`] zero bytes.
    pub stream: Box<[u8]>,
    /// The cell that stands for this version.
    pub cell: Arc<Cell>,
}

impl Edited {
    /// A slot for `text` and `stream` (with its padding already appended), with a new current cell.
    pub fn new(text: Box<str>, stream: Box<[u8]>) -> Edited {
        Edited {
            text,
            stream,
            cell: Arc::new(Cell::current()),
        }
    }

    pub fn bytes(&self) -> FileBytes<'_> {
        FileBytes {
            text: self.text.as_bytes(),
            stream: &self.stream[..self.stream.len() - PADDING],
        }
    }
}

/// One version of one file: the current one, or a patch against the next one on its chain.
pub struct Cell {
    state: Mutex<State>,
}

enum State {
    /// The version whose bytes the store holds.
    Current,
    /// `patch` applied to `next`'s bytes gives this version's.
    Delta { patch: Patch, next: Arc<Cell> },
}

impl Cell {
    pub(crate) fn current() -> Cell {
        Cell {
            state: Mutex::new(State::Current),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for Cell {
    /// Drops a chain iteratively: a long history must not overflow the stack.
    fn drop(&mut self) {
        let mut state = std::mem::replace(
            self.state.get_mut().unwrap_or_else(PoisonError::into_inner),
            State::Current,
        );
        while let State::Delta { next, .. } = state {
            match Arc::try_unwrap(next) {
                Ok(mut cell) => {
                    state = std::mem::replace(
                        cell.state.get_mut().unwrap_or_else(PoisonError::into_inner),
                        State::Current,
                    );
                }
                Err(_) => break,
            }
        }
    }
}

/// What turns one version's bytes (`from`) into another's: the common prefix and suffix of each part are
/// kept by length, the middles by value, in one allocation.
struct Patch {
    text_prefix: u32,
    text_suffix: u32,
    stream_prefix: u32,
    stream_suffix: u32,
    /// The text's middle, then the stream's.
    middles: Box<[u8]>,
    text_middle: u32,
}

/// Lengths of the common prefix and suffix of `a` and `b`, not overlapping in either.
fn common_ends(a: &[u8], b: &[u8]) -> (usize, usize) {
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let room = a.len().min(b.len()) - prefix;
    let suffix = a
        .iter()
        .rev()
        .zip(b.iter().rev())
        .take(room)
        .take_while(|(x, y)| x == y)
        .count();
    (prefix, suffix)
}

impl Patch {
    /// The patch that turns `from` into `to`.
    fn between(from: &FileBytes<'_>, to: &FileBytes<'_>) -> Patch {
        let (text_prefix, text_suffix) = common_ends(from.text, to.text);
        let (stream_prefix, stream_suffix) = common_ends(from.stream, to.stream);
        let text_middle = &to.text[text_prefix..to.text.len() - text_suffix];
        let stream_middle = &to.stream[stream_prefix..to.stream.len() - stream_suffix];
        let mut middles = Vec::with_capacity(text_middle.len() + stream_middle.len());
        middles.extend_from_slice(text_middle);
        middles.extend_from_slice(stream_middle);
        Patch {
            text_prefix: text_prefix as u32,
            text_suffix: text_suffix as u32,
            stream_prefix: stream_prefix as u32,
            stream_suffix: stream_suffix as u32,
            middles: middles.into_boxed_slice(),
            text_middle: text_middle.len() as u32,
        }
    }

    /// The bytes this patch turns `from` into: text, and stream with its padding.
    fn apply(&self, from: &FileBytes<'_>) -> (Box<str>, Box<[u8]>) {
        let (text_middle, stream_middle) = self.middles.split_at(self.text_middle as usize);
        let splice = |base: &[u8], prefix: u32, suffix: u32, middle: &[u8], padding: usize| {
            let mut out =
                Vec::with_capacity(prefix as usize + middle.len() + suffix as usize + padding);
            out.extend_from_slice(&base[..prefix as usize]);
            out.extend_from_slice(middle);
            out.extend_from_slice(&base[base.len() - suffix as usize..]);
            out.resize(out.len() + padding, 0);
            out
        };
        let text = splice(
            from.text,
            self.text_prefix,
            self.text_suffix,
            text_middle,
            0,
        );
        let text = String::from_utf8(text)
            .expect("a patch splices whole versions' texts")
            .into_boxed_str();
        let stream = splice(
            from.stream,
            self.stream_prefix,
            self.stream_suffix,
            stream_middle,
            PADDING,
        )
        .into_boxed_slice();
        (text, stream)
    }
}

/// Hands the role of current version from `old` (whose bytes are `old_bytes`), which someone keeps, to
/// `new` (bytes `new_bytes`): `old` becomes a patch against `new`.
pub(crate) fn succeed(
    old: &Arc<Cell>,
    old_bytes: &FileBytes<'_>,
    new: &Arc<Cell>,
    new_bytes: &FileBytes<'_>,
) {
    *old.lock() = State::Delta {
        patch: Patch::between(new_bytes, old_bytes),
        next: Arc::clone(new),
    };
}

/// Makes `version` the current cell: walks its chain to `current` (whose bytes are `bytes`), applying the
/// patches and reversing every link. Returns the version's text and stream (with padding), or `None` if
/// `version` is already current. Panics if the chain does not end at `current` (a version of another file
/// or store).
pub(crate) fn reroot(
    version: &Arc<Cell>,
    current: &Arc<Cell>,
    bytes: FileBytes<'_>,
) -> Option<(Box<str>, Box<[u8]>)> {
    if Arc::ptr_eq(version, current) {
        return None;
    }
    // The chain, from the version to the cell before the current one.
    let mut path = vec![Arc::clone(version)];
    loop {
        let next = match &*path.last().expect("starts with the version").lock() {
            State::Delta { next, .. } => Arc::clone(next),
            State::Current => panic!("arena: restore of a version that is not of this file"),
        };
        if Arc::ptr_eq(&next, current) {
            break;
        }
        path.push(next);
    }
    // Back from the current bytes: each cell's bytes from its successor's, and the link reversed.
    let mut stream = Vec::with_capacity(bytes.stream.len() + PADDING);
    stream.extend_from_slice(bytes.stream);
    stream.resize(stream.len() + PADDING, 0);
    // (A file's bytes in the arena are its text; a mapped one is checked here, lossily only if forged.)
    let text: Box<str> = String::from_utf8_lossy(bytes.text).into();
    let mut data: (Box<str>, Box<[u8]>) = (text, stream.into_boxed_slice());
    let mut newer = Arc::clone(current);
    for cell in path.iter().rev() {
        let State::Delta { patch, .. } = std::mem::replace(&mut *cell.lock(), State::Current)
        else {
            unreachable!("every cell before the current one is a patch")
        };
        let older = patch.apply(&view(&data));
        *newer.lock() = State::Delta {
            patch: Patch::between(&view(&older), &view(&data)),
            next: Arc::clone(cell),
        };
        newer = Arc::clone(cell);
        data = older;
    }
    Some(data)
}

/// The bytes of an owned text and padded stream.
fn view(data: &(Box<str>, Box<[u8]>)) -> FileBytes<'_> {
    FileBytes {
        text: data.0.as_bytes(),
        stream: &data.1[..data.1.len() - PADDING],
    }
}
