//! The store's two large buffers, owned (a store built in memory) or borrowed from a saved file's mapping
//! (a store opened with `cst_measure::saved::open`), read through the same slices either way.
//!
//! | type | owned | mapped |
//! | --- | --- | --- |
//! | [`Bytes`] (the streams) | `Vec<u8>` | a range of the mapping ([`SharedBytes`]) |
//! | [`Text`] (every file's text) | `String` | a range of the mapping, UTF-8 unchecked |
//!
//! Reading costs the same slice either way. Mapped text is not checked as UTF-8 when the file is opened (that
//! would read all of it); a text is checked where it is handed out as `str` ([`TextRef::slice`], O(its
//! length), as tree-sitter's own `Node::utf8_text` checks), and an owned one needs no check. Writing (a file
//! added to an opened store, a compaction) first copies a mapped buffer into an owned one: O(its size),
//! once.

use cst_measure::saved::SharedBytes;
use std::borrow::Cow;
use std::ops::Deref;

/// Bytes owned or mapped.
pub(crate) enum Bytes {
    Owned(Vec<u8>),
    Mapped(SharedBytes),
}

impl Bytes {
    /// The owned bytes, copied from the mapping first if they are mapped.
    pub(crate) fn to_mut(&mut self) -> &mut Vec<u8> {
        if let Bytes::Mapped(mapped) = self {
            *self = Bytes::Owned(mapped.to_vec());
        }
        match self {
            Bytes::Owned(owned) => owned,
            Bytes::Mapped(_) => unreachable!("made owned above"),
        }
    }

    pub(crate) fn shrink_to_fit(&mut self) {
        if let Bytes::Owned(owned) = self {
            owned.shrink_to_fit();
        }
    }
}

impl Deref for Bytes {
    type Target = [u8];
    #[inline]
    fn deref(&self) -> &[u8] {
        match self {
            Bytes::Owned(owned) => owned,
            Bytes::Mapped(mapped) => mapped,
        }
    }
}

/// Text owned (known to be UTF-8) or mapped (checked where it is handed out).
pub(crate) enum Text {
    Owned(String),
    Mapped(SharedBytes),
}

impl Text {
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.bytes().len()
    }

    #[inline]
    pub(crate) fn bytes(&self) -> &[u8] {
        match self {
            Text::Owned(owned) => owned.as_bytes(),
            Text::Mapped(mapped) => mapped,
        }
    }

    /// Bytes `start..end` (in bounds: the store's offsets are checked).
    #[inline]
    pub(crate) fn range(&self, start: usize, end: usize) -> TextRef<'_> {
        match self {
            Text::Owned(owned) => TextRef::Str(&owned[start..end]),
            Text::Mapped(mapped) => TextRef::Bytes(&mapped[start..end]),
        }
    }

    /// The owned text, copied from the mapping first if it is mapped (invalid UTF-8, which only a forged
    /// file can hold, is replaced, as everywhere a mapped text is read).
    pub(crate) fn to_mut(&mut self) -> &mut String {
        if let Text::Mapped(mapped) = self {
            *self = Text::Owned(String::from_utf8_lossy(mapped).into_owned());
        }
        match self {
            Text::Owned(owned) => owned,
            Text::Mapped(_) => unreachable!("made owned above"),
        }
    }

    pub(crate) fn shrink_to_fit(&mut self) {
        if let Text::Owned(owned) = self {
            owned.shrink_to_fit();
        }
    }
}

/// One file's text: a `str` (owned text or an edited file's) or mapped bytes.
#[derive(Clone, Copy)]
pub(crate) enum TextRef<'a> {
    Str(&'a str),
    Bytes(&'a [u8]),
}

impl<'a> TextRef<'a> {
    #[inline]
    pub(crate) fn len(self) -> usize {
        self.as_bytes().len()
    }

    #[inline]
    pub(crate) fn as_bytes(self) -> &'a [u8] {
        match self {
            TextRef::Str(text) => text.as_bytes(),
            TextRef::Bytes(bytes) => bytes,
        }
    }

    /// Bytes `start..end` as text (lossily where they are not UTF-8 or not on character boundaries, which
    /// tree-sitter never gives for valid text).
    #[inline]
    pub(crate) fn slice(self, start: usize, end: usize) -> Cow<'a, str> {
        match self {
            TextRef::Str(text) => match text.get(start..end) {
                Some(text) => Cow::Borrowed(text),
                None => String::from_utf8_lossy(&text.as_bytes()[start..end]),
            },
            TextRef::Bytes(bytes) => String::from_utf8_lossy(&bytes[start..end]),
        }
    }

    /// The whole text.
    pub(crate) fn to_cow(self) -> Cow<'a, str> {
        self.slice(0, self.len())
    }
}
