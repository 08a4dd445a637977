//! Losslessness check: a backend's file must give back its language, the source byte for byte, and what
//! tree-sitter's tree gives back: every visible node's kind, field in its parent, byte range, MISSING flag and
//! text, reached by the same moves (so the shape is the same, not only the preorder sequence). Compared node by
//! node against a fresh parse; the store's [`CstStore::fold_preorder`] must list the same nodes at the same
//! depths, and the query status it keeps ([`CstStore::query_status`]) must be the query cursor's.

use crate::backend::{descend_to_offset, next_in_preorder, CstCursor, CstStore, NodeInfo};
use crate::reference::{ReferenceCursor, ReferenceTree};
use crate::Language;
use std::borrow::Cow;

/// Inner nodes' texts are compared until they add up to this many times the file's size (plus
/// [`INNER_TEXT_SLACK`]); leaves' texts always are. Every byte of a file lies in one leaf or one gap, so the
/// leaves cover the text in O(size); an inner node's text is as long as its subtree, and comparing them all
/// is O(size × depth), which a 100,000-deep file turns into hours.
pub const INNER_TEXT_BUDGET: usize = 4;
/// Bytes of inner-node text always compared, however small the file.
pub const INNER_TEXT_SLACK: usize = 1 << 16;

/// A move of the lockstep walk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Move {
    FirstChild,
    NextSibling,
    Parent,
}

impl Move {
    fn apply<C: CstCursor + ?Sized>(self, cursor: &mut C) -> bool {
        match self {
            Move::FirstChild => cursor.goto_first_child(),
            Move::NextSibling => cursor.goto_next_sibling(),
            Move::Parent => cursor.goto_parent(),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Move::FirstChild => "goto_first_child",
            Move::NextSibling => "goto_next_sibling",
            Move::Parent => "goto_parent",
        }
    }
}

/// Compares file `index` of `store` with `source`, its `language` and its tree-sitter tree; returns the number
/// of nodes checked, or the first difference.
pub fn verify_file<S: CstStore>(
    store: &S,
    index: usize,
    language: Language,
    source: &str,
    tree: &tree_sitter::Tree,
) -> Result<u64, String> {
    verify_against(store, index, language, source, &ReferenceTree::of(tree))
}

/// [`verify_file`] against a recorded tree.
pub fn verify_against<S: CstStore>(
    store: &S,
    index: usize,
    language: Language,
    source: &str,
    reference: &ReferenceTree,
) -> Result<u64, String> {
    let stored = store.language(index);
    if stored != language {
        return Err(format!(
            "language is {}, not {}",
            stored.name(),
            language.name()
        ));
    }
    let text = store.text(index);
    if text != source {
        return Err(format!(
            "text differs from the source at byte {} (backend {} bytes, source {} bytes)",
            first_difference(text.as_bytes(), source.as_bytes()),
            text.len(),
            source.len()
        ));
    }
    let mut expected = reference.cursor(source);
    let mut actual = store.cursor(index);
    let mut inner_text_budget = source.len() * INNER_TEXT_BUDGET + INNER_TEXT_SLACK;
    let mut nodes = 0u64;
    loop {
        let want = expected.node();
        check_node(nodes, want, actual.node())?;
        // Leaves always; inner nodes while the budget lasts (see INNER_TEXT_BUDGET).
        let leaf = expected.is_leaf();
        let length = (want.end - want.start) as usize;
        if leaf || length <= inner_text_budget {
            if !leaf {
                inner_text_budget -= length;
            }
            let (want_text, got_text) = (expected.text(), actual.text());
            if want_text != got_text {
                return Err(format!(
                    "node #{nodes} ({want:?}): text differs at byte {} of the node ({:?} vs {:?})",
                    first_difference(got_text.as_bytes(), want_text.as_bytes()),
                    clip(&want_text),
                    clip(&got_text),
                ));
            }
        }
        nodes += 1;
        // The next node in preorder, by the same moves on both sides.
        if !step(nodes, Move::FirstChild, &mut expected, &mut actual)? {
            while !step(nodes, Move::NextSibling, &mut expected, &mut actual)? {
                if !step(nodes, Move::Parent, &mut expected, &mut actual)? {
                    verify_preorder(store, index, source, reference)?;
                    verify_query_status(store, index, reference)?;
                    return Ok(nodes);
                }
            }
        }
    }
}

/// Checks [`CstStore::fold_preorder`] on file `index`: tree-sitter's nodes, in preorder, each at its depth
/// (which together fix the shape). Returns the number of nodes listed, or the first difference.
pub fn verify_preorder<S: CstStore>(
    store: &S,
    index: usize,
    source: &str,
    reference: &ReferenceTree,
) -> Result<u64, String> {
    let mut expected = reference.cursor(source);
    let (mut depth, mut listed, mut more) = (0u32, 0u64, true);
    let checked = store.fold_preorder(index, Ok(()), |checked, got_depth, got| {
        checked?;
        if !more {
            return Err(format!(
                "preorder lists more nodes than tree-sitter's {listed}"
            ));
        }
        check_node(listed, expected.node(), got).map_err(|e| format!("preorder: {e}"))?;
        if got_depth != depth {
            return Err(format!(
                "preorder: node #{listed} ({got:?}) is at depth {got_depth}, in tree-sitter's tree at {depth}"
            ));
        }
        listed += 1;
        more = next_in_preorder(&mut expected, &mut depth);
        Ok(())
    });
    match checked {
        Err(error) => Err(error),
        Ok(()) if more => Err(format!(
            "preorder lists {listed} nodes, fewer than tree-sitter's tree has"
        )),
        Ok(()) => Ok(listed),
    }
}

/// Checks [`CstStore::query_status`] on file `index` (whose walk has been checked): every visible node's
/// query field, supertype set and extra bit equal tree-sitter's. A store that keeps none passes this check
/// (it is reported apart, as not answering queries); one that keeps a wrong one fails it.
pub fn verify_query_status<S: CstStore>(
    store: &S,
    index: usize,
    reference: &ReferenceTree,
) -> Result<(), String> {
    let Some(status) = store.query_status(index) else {
        return Ok(());
    };
    let want = reference.statuses();
    // The contexts are the store's own walk's, as a query reads them (checked equal to tree-sitter's above).
    let got = status.decode(crate::query_status::contexts_of(store, index));
    match want.iter().zip(&got).position(|(w, g)| w != g) {
        Some(at) => Err(format!(
            "query status of node #{at} differs: tree-sitter's query cursor sees {:?}, the backend keeps {:?}",
            want[at], got[at]
        )),
        None => Ok(()),
    }
}

/// `count` offsets spread evenly over `0..=len` (all of them when `count` exceeds that), first and last
/// included: where [`verify_lookups`] looks.
pub fn spread_offsets(len: u32, count: usize) -> impl Iterator<Item = u32> {
    let positions = u64::from(len) + 1;
    let count = (count as u64).min(positions);
    (0..count).map(move |i| {
        if count == 1 {
            0
        } else {
            (i * (positions - 1) / (count - 1)) as u32
        }
    })
}

/// Checks [`CstStore::seek`] on file `index` at each of `offsets` against the rule of [`descend_to_offset`]
/// applied to tree-sitter's tree: the node found, and every ancestor up to the root. Returns the number of
/// offsets checked, or the first difference.
pub fn verify_lookups<S: CstStore>(
    store: &S,
    index: usize,
    source: &str,
    reference: &ReferenceTree,
    offsets: impl IntoIterator<Item = u32>,
) -> Result<u64, String> {
    let mut expected = reference.cursor(source);
    let mut actual = store.cursor(index);
    let mut checked = 0;
    for offset in offsets {
        expected.reset();
        descend_to_offset(&mut expected, offset);
        store.seek(&mut actual, index, offset);
        let mut level = 0;
        loop {
            let (want, got) = (expected.node(), actual.node());
            if want != got {
                return Err(format!(
                    "node at offset {offset}, {level} levels up: tree-sitter's rule gives {want:?}, the backend's \
                     lookup {got:?}"
                ));
            }
            match (expected.goto_parent(), actual.goto_parent()) {
                (true, true) => level += 1,
                (false, false) => break,
                (want, _) => {
                    return Err(format!(
                        "node at offset {offset}: tree-sitter's has {} ancestors, the backend's {}",
                        if want { "more than" } else { "exactly" },
                        level
                    ))
                }
            }
        }
        checked += 1;
    }
    Ok(checked)
}

/// Applies `mv` to both cursors; they must agree on whether it succeeded.
fn step<C: CstCursor>(
    nodes: u64,
    mv: Move,
    expected: &mut ReferenceCursor<'_>,
    actual: &mut C,
) -> Result<bool, String> {
    let (want, got) = (mv.apply(expected), mv.apply(actual));
    if want != got {
        let at = expected.node();
        return Err(format!(
            "after {nodes} nodes, at {at:?}: {} {} on tree-sitter's tree but {} on the backend's (the shapes \
             differ)",
            mv.name(),
            if want { "succeeds" } else { "fails" },
            if got { "succeeds" } else { "fails" },
        ));
    }
    Ok(want)
}

fn check_node(index: u64, want: NodeInfo, got: NodeInfo) -> Result<(), String> {
    if want == got {
        return Ok(());
    }
    let mut parts = Vec::new();
    if want.kind != got.kind {
        parts.push("kind");
    }
    if want.field != got.field {
        parts.push("field");
    }
    if (want.start, want.end) != (got.start, got.end) {
        parts.push("range");
    }
    if want.missing != got.missing {
        parts.push("missing flag");
    }
    Err(format!(
        "node #{index} differs ({}): tree-sitter has {want:?}, backend has {got:?}",
        parts.join(", ")
    ))
}

fn first_difference(a: &[u8], b: &[u8]) -> usize {
    a.iter()
        .zip(b)
        .position(|(x, y)| x != y)
        .unwrap_or(a.len().min(b.len()))
}

/// At most 40 characters of a text, for messages.
fn clip(text: &str) -> Cow<'_, str> {
    match text.char_indices().nth(40) {
        Some((at, _)) => Cow::Owned(format!("{}…", &text[..at])),
        None => Cow::Borrowed(text),
    }
}
