//! Limits: a file over the store's text or stream limit is refused with `BuildError::Limit` and a message
//! saying which limit, leaves the store as it was, and later files are stored and read back correctly. The
//! real limits are `u32::MAX` bytes of text and of records per file; `ArenaStore::with_limits` lowers them so
//! that the same checks run on small inputs.

use backend_arena::ArenaStore;
use cst_measure::verify::verify_file;
use cst_measure::{BuildError, CstStore, Language};

fn add(store: &mut ArenaStore, text: &str) -> Result<(), BuildError> {
    store.add(Language::Python, text, Language::Python.parse(text))
}

#[test]
fn a_file_over_the_text_limit_is_refused() {
    let mut store = ArenaStore::with_limits(10, u32::MAX);
    let BuildError::Limit(message) = add(&mut store, "x = 100000\n").unwrap_err();
    assert!(
        message.contains("11 bytes") && message.contains("up to 10 bytes"),
        "{message}"
    );
    assert_eq!(store.len(), 0);
    add(&mut store, "x = 10000\n").unwrap();
    add(&mut store, "").unwrap();
    store.finish();
    assert_eq!(store.len(), 2);
    verify_file(
        &store,
        0,
        Language::Python,
        "x = 10000\n",
        &Language::Python.parse("x = 10000\n"),
    )
    .unwrap();
    verify_file(&store, 1, Language::Python, "", &Language::Python.parse("")).unwrap();
}

#[test]
fn a_file_over_the_stream_limit_is_refused() {
    let mut store = ArenaStore::with_limits(u32::MAX, 16);
    // About 80 nodes: more than 16 bytes of records however well they are coded.
    let long = format!(
        "x = [{}]\n",
        (0..40)
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    let BuildError::Limit(message) = add(&mut store, &long).unwrap_err();
    assert!(message.contains("16 bytes of records"), "{message}");
    assert_eq!(store.len(), 0);
    add(&mut store, "x\n").unwrap();
    store.finish();
    assert_eq!(store.len(), 1);
    verify_file(
        &store,
        0,
        Language::Python,
        "x\n",
        &Language::Python.parse("x\n"),
    )
    .unwrap();
}

#[test]
fn refused_files_do_not_shift_the_ones_after() {
    let mut store = ArenaStore::with_limits(20, u32::MAX);
    let texts = [
        "a = 1\n",
        "b = 'this is too long'\n",
        "c = 2\n",
        "",
        "d = [3]\n",
    ];
    let mut kept = Vec::new();
    for text in texts {
        if add(&mut store, text).is_ok() {
            kept.push(text);
        }
    }
    store.finish();
    assert_eq!(kept.len(), 4);
    for (index, text) in kept.iter().enumerate() {
        assert_eq!(store.text(index), *text);
        verify_file(
            &store,
            index,
            Language::Python,
            text,
            &Language::Python.parse(text),
        )
        .unwrap();
    }
}
