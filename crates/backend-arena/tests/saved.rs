//! The arena's saved form: saved stores open from their mapping and verify; every refusal path fires; damaged
//! files (10,000 variants) are refused or open equal to the original, never crash.

mod common;

use backend_arena::{Arena, ArenaStore};
use cst_measure::saved::{self, Header, OpenError, SectionEntry};
use cst_measure::verify::verify_file;
use cst_measure::{Backend, CstStore, Language};
use proptest::prelude::*;
use std::borrow::Cow;
use std::path::Path;

/// Snippets of every language (errors, empty files, non-ASCII) and a few built-in corpus files.
fn files() -> Vec<(String, Language, String)> {
    let mut files = common::snippets();
    let corpus = builtin_corpus::generate();
    for f in corpus.iter().step_by(300) {
        let language = Language::from_path(Path::new(&f.path)).unwrap();
        files.push((f.path.clone(), language, f.text.clone()));
    }
    files
}

fn saved_bytes(files: &[(String, Language, String)]) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.cst");
    let store = common::store_of(files);
    let paths: Vec<String> = files.iter().map(|f| f.0.clone()).collect();
    saved::store::save::<Arena>(&store, &paths, &path).unwrap();
    std::fs::read(&path).unwrap()
}

fn verify_all(store: &ArenaStore, files: &[(String, Language, String)]) -> Result<(), String> {
    if store.len() != files.len() {
        return Err(format!("{} files, not {}", store.len(), files.len()));
    }
    for (i, (name, language, text)) in files.iter().enumerate() {
        let tree = language.parse(text);
        verify_file(store, i, *language, text, &tree).map_err(|e| format!("{name}: {e}"))?;
    }
    Ok(())
}

fn open(bytes: Vec<u8>) -> Result<saved::store::SavedStore<ArenaStore>, OpenError> {
    saved::store::open_bytes::<Arena>("test.cst", bytes)
}

fn refusal(bytes: Vec<u8>) -> String {
    match open(bytes) {
        Ok(_) => panic!("opened"),
        Err(e) => {
            assert_eq!(e.file, "test.cst");
            e.what
        }
    }
}

#[test]
fn a_saved_store_opens_from_its_mapping_and_verifies() {
    let files = files();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.cst");
    let paths: Vec<String> = files.iter().map(|f| f.0.clone()).collect();
    let written = saved::store::save::<Arena>(&common::store_of(&files), &paths, &path).unwrap();
    assert_eq!(written, std::fs::metadata(&path).unwrap().len());
    let opened = saved::store::open::<Arena>(&path).unwrap();
    verify_all(&opened.store, &files).unwrap();
    for (i, f) in files.iter().enumerate() {
        let entry = opened.opened.file(i);
        assert_eq!((entry.path, entry.language), (f.0.as_str(), f.1));
        assert_eq!(entry.size, f.2.len() as u64);
        assert_eq!(entry.hash, saved::hash(f.2.as_bytes()));
    }
    let (resident, pages) = opened.opened.resident_pages().unwrap();
    assert!(pages > 0 && resident <= pages);
    // A store opened in place takes files like a built one (its buffers copied out of the mapping first).
    let mut store = opened.store;
    let (name, language, text) = &files[0];
    store.add(*language, text, language.parse(text)).unwrap();
    store.finish();
    let tree = language.parse(text);
    verify_file(&store, files.len(), *language, text, &tree).unwrap();
    let _ = name;
}

#[test]
fn opening_borrows_the_text_and_streams_from_the_mapping() {
    let files = files();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.cst");
    let paths: Vec<String> = files.iter().map(|f| f.0.clone()).collect();
    saved::store::save::<Arena>(&common::store_of(&files), &paths, &path).unwrap();
    let disk = std::fs::metadata(&path).unwrap().len();
    // Without the counting allocator installed (a plain test binary) the heap cannot be counted here;
    // the compare run counts it. What this checks: the open's sections are the mapping's own bytes.
    let opened = saved::store::open::<Arena>(&path).unwrap();
    let text = opened.store.text(0);
    assert_eq!(text, files[0].2);
    assert!(disk > files.iter().map(|f| f.2.len() as u64).sum::<u64>());
}

#[test]
fn a_store_with_edited_files_saves_their_current_versions() {
    let files = files();
    let mut store = common::store_of(&files);
    let (_, language, text) = &files[2];
    let new_text = format!("{text}\n# added\n");
    store
        .replace(2, *language, &new_text, language.parse(&new_text))
        .unwrap();
    let mut expected = files.clone();
    expected[2].2 = new_text;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.cst");
    let paths: Vec<String> = files.iter().map(|f| f.0.clone()).collect();
    saved::store::save::<Arena>(&store, &paths, &path).unwrap();
    verify_all(
        &saved::store::open::<Arena>(&path).unwrap().store,
        &expected,
    )
    .unwrap();
}

#[test]
fn a_failed_save_leaves_the_old_file_whole() {
    let files = files();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.cst");
    let paths: Vec<String> = files.iter().map(|f| f.0.clone()).collect();
    saved::store::save::<Arena>(&common::store_of(&files), &paths, &path).unwrap();
    let before = std::fs::read(&path).unwrap();
    // Wrong number of paths: refused before anything is written.
    let error =
        saved::store::save::<Arena>(&common::store_of(&files), &paths[1..], &path).unwrap_err();
    assert!(error.to_string().contains("paths for a store"), "{error}");
    // A backend without a saved form.
    let error = saved::store::save::<NoSavedForm>(&Arena::new_store(), &[], &path).unwrap_err();
    assert!(error.to_string().contains("has no saved form"), "{error}");
    // A target whose directory cannot hold the temporary file.
    let error = saved::store::save::<Arena>(
        &common::store_of(&files),
        &paths,
        &dir.path().join("missing").join("store.cst"),
    )
    .unwrap_err();
    assert!(error.to_string().contains("cannot save"), "{error}");
    assert_eq!(std::fs::read(&path).unwrap(), before);
    // No temporary file is left beside it.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

/// A backend without a saved form (the trait's defaults), over the arena's store.
struct NoSavedForm;

impl Backend for NoSavedForm {
    const NAME: &'static str = "no-saved-form";
    const RETAINS: &'static str = "test";
    const INCLUDES_SOURCE: bool = true;
    type Store = ArenaStore;
    fn new_store() -> ArenaStore {
        Arena::new_store()
    }
}

/// The file's header and its sections' bytes, for writing variants with valid checksums.
fn parts(bytes: &[u8]) -> (Header, Vec<(u32, Vec<u8>)>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.cst");
    std::fs::write(&path, bytes).unwrap();
    let header = saved::read_header(&path).unwrap();
    let sections = header
        .sections
        .iter()
        .map(|s: &SectionEntry| {
            (
                s.tag,
                bytes[s.offset as usize..(s.offset + s.len) as usize].to_vec(),
            )
        })
        .collect();
    (header, sections)
}

/// Writes `header` and `sections` with fresh checksums (as a save would) and returns the file's bytes.
fn rewritten(header: Header, sections: Vec<(u32, Vec<u8>)>) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.cst");
    let sections: Vec<(u32, Cow<'_, [u8]>)> = sections
        .into_iter()
        .map(|(t, b)| (t, Cow::Owned(b)))
        .collect();
    saved::write_file(header, &sections, &path).unwrap();
    std::fs::read(&path).unwrap()
}

fn with_header(bytes: &[u8], change: impl FnOnce(&mut Header)) -> Vec<u8> {
    let (mut header, sections) = parts(bytes);
    change(&mut header);
    rewritten(header, sections)
}

fn with_section(bytes: &[u8], tag: u32, change: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let (header, mut sections) = parts(bytes);
    change(&mut sections.iter_mut().find(|s| s.0 == tag).unwrap().1);
    rewritten(header, sections)
}

fn set_u64(bytes: &mut [u8], at: usize, value: u64) {
    bytes[at..at + 8].copy_from_slice(&value.to_le_bytes());
}

#[test]
fn every_refusal_path_fires() {
    let good = saved_bytes(&files());
    assert!(open(good.clone()).is_ok());
    let check = |bytes: Vec<u8>, expected: &str| {
        let what = refusal(bytes);
        assert!(what.contains(expected), "{what:?} lacks {expected:?}");
    };
    check(Vec::new(), "is empty (0 bytes)");
    check(good[..10].to_vec(), "is truncated");
    check(good[..good.len() - 1].to_vec(), "past its end");
    let mut bad = good.clone();
    bad[0] ^= 1;
    check(bad, "not a saved CST store");
    let mut bad = good.clone();
    bad[8] = 2;
    check(bad, "format version 2");
    let mut bad = good.clone();
    // Past the end, and a multiple of 8 as every header is.
    bad[12..16].copy_from_slice(&((good.len() as u32 + 8) & !7).to_le_bytes());
    check(bad, "its header takes");
    let mut bad = good.clone();
    bad[12..16].copy_from_slice(&13u32.to_le_bytes());
    check(bad, "which no save writes");
    let mut bad = good.clone();
    bad[20] ^= 0x40;
    check(bad, "header's checksum");
    check(
        with_header(&good, |h| h.backend = "frozen".into()),
        "saved by backend frozen, not arena",
    );
    check(
        with_header(&good, |h| h.backend_format += 1),
        "saved format version 5",
    );
    // A file of format 3, whose small subtrees stored their sizes, is refused too.
    check(
        with_header(&good, |h| h.backend_format -= 1),
        "saved format version 3",
    );
    check(with_header(&good, |h| h.tables_hash ^= 1), "stale");
    // The query-status companions (section 20): cut short, or with bytes after the last file's.
    check(
        with_section(&good, 20, |b| {
            b.pop();
        }),
        "query status runs past its section",
    );
    check(
        with_section(&good, 20, |b| b.push(0)),
        "holds more than its files' companions",
    );
    // Its model (at the section's front): its count past the section, an entry damaged or out of order.
    let (_, sections) = parts(&good);
    let statuses = &sections.iter().find(|s| s.0 == 20).unwrap().1;
    assert!(
        u64::from_le_bytes(statuses[..8].try_into().unwrap()) >= 2,
        "the store learned a query-status model"
    );
    check(
        with_section(&good, 20, |b| {
            b[..8].copy_from_slice(&u64::MAX.to_le_bytes())
        }),
        "query-status model runs past its section",
    );
    check(
        with_section(&good, 20, |b| b[23] = 0xff),
        "query-status model entry 0 is damaged",
    );
    check(
        with_section(&good, 20, |b| b.copy_within(8..16, 24)),
        "query-status model entry 1 is out of order",
    );
    check(
        with_header(&good, |h| h.grammars[0].abi += 1),
        "grammar python of ABI version",
    );
    check(
        with_header(&good, |h| h.grammars[1].kinds_hash ^= 1),
        "another version of grammar rust",
    );
    check(
        with_header(&good, |h| h.grammars[2].fields_hash ^= 1),
        "another version of grammar typescript",
    );
    check(
        with_header(&good, |h| h.grammars[2].name = "go".into()),
        "grammar \"go\"",
    );
    check(
        with_header(&good, |h| h.grammars.pop().map(drop).unwrap()),
        "3 grammars",
    );
    check(with_header(&good, |h| h.files += 1), "files section has");
    // Sections swapped: their bytes (the header's checksums are of the places they were), or their entries.
    let (header, _) = parts(&good);
    let (a, b) = (header.sections[2], header.sections[3]);
    let mut bad = good.clone();
    let (first, second) = (a.offset as usize, b.offset as usize);
    let n = (a.len.min(b.len) as usize).min(64);
    let block: Vec<u8> = bad[first..first + n].to_vec();
    bad.copy_within(second..second + n, first);
    bad[second..second + n].copy_from_slice(&block);
    check(bad, "checksum does not match");
    let mut bad = good.clone();
    let head = header.to_bytes().len();
    // The section table's entries swapped in the header, its checksum made right again.
    let mut h2 = header.clone();
    h2.sections.swap(2, 3);
    let new_head = h2.to_bytes();
    assert_eq!(new_head.len(), head);
    bad[..head].copy_from_slice(&new_head);
    check(bad, "tags must rise");
    // Lengths past the end, in a header whose checksum is right.
    let mut h3 = header.clone();
    h3.sections[3].len = u64::MAX - 4;
    let mut bad = good.clone();
    bad[..head].copy_from_slice(&h3.to_bytes());
    check(bad, "past its end");
    let mut h4 = header.clone();
    h4.sections[1].offset += 4;
    let mut bad = good.clone();
    bad[..head].copy_from_slice(&h4.to_bytes());
    check(bad, "multiple of 8");
    let mut bad = good.clone();
    bad.extend_from_slice(&[0; 8]);
    check(bad, "past its last section");
    // A file modified after it was saved: one byte of a text.
    let (_, sections) = parts(&good);
    let text = header
        .sections
        .iter()
        .find(|s| s.tag == 16)
        .map(|s| s.offset as usize)
        .unwrap();
    let mut bad = good.clone();
    bad[text + 3] ^= 0x20;
    check(bad, "section 16's checksum");
    drop(sections);
    // The container's files section.
    check(
        with_section(&good, saved::FILES, |f| {
            f[16..20].copy_from_slice(&u32::MAX.to_le_bytes())
        }),
        "outside the paths section",
    );
    check(
        with_section(&good, saved::FILES, |f| f[20] = 9),
        "language byte 9",
    );
    check(
        with_section(&good, saved::PATHS, |p| p[0] = 0xff),
        "not UTF-8",
    );
    // The arena's own sections, with valid checksums: offsets, lengths, languages, padding, the index.
    check(
        with_section(&good, 18, |t| set_u64(t, 8, u64::MAX)),
        "text offsets",
    );
    check(
        with_section(&good, 18, |t| t.truncate(8)),
        "the text offsets take 8 bytes",
    );
    check(
        with_section(&good, 19, |t| set_u64(t, 8, 0)),
        "stream offsets",
    );
    check(
        with_section(&good, 16, |t| t.push(b'x')),
        "the files section says",
    );
    check(
        with_section(&good, 17, |s| {
            let n = s.len();
            s[n - 1] = 1;
        }),
        "8 zero bytes",
    );
    check(
        with_section(&good, 17, |s| s[0] ^= 1),
        "the files section says python",
    );
    check(
        with_section(&good, 17, |s| {
            s[0] |= 4;
            s[1..5].copy_from_slice(&u32::MAX.to_le_bytes());
        }),
        "wide-node index runs past",
    );
    let mut bad = good.clone();
    let streams = header.sections.iter().find(|s| s.tag == 17).unwrap();
    bad.truncate(streams.offset as usize + 3);
    check(bad, "past its end");
}

#[test]
fn a_missing_or_unmappable_file_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("none.cst");
    let error = saved::store::open::<Arena>(&missing).err().unwrap();
    assert!(
        error.to_string().contains("none.cst: cannot be opened"),
        "{error}"
    );
    let empty = dir.path().join("empty.cst");
    std::fs::write(&empty, b"").unwrap();
    let error = saved::store::open::<Arena>(&empty).err().unwrap();
    assert!(error.to_string().contains("empty.cst: is empty"), "{error}");
}

/// What a damage does to a saved file.
#[derive(Clone, Debug)]
enum Damage {
    Truncate(usize),
    Flip { at: usize, bit: u8 },
    Flips(Vec<(usize, u8)>),
    Zero { at: usize, len: usize },
    Swap { a: usize, b: usize, len: usize },
    Word { at: usize, value: u64 },
    Append(Vec<u8>),
}

fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        any::<usize>().prop_map(Damage::Truncate),
        (any::<usize>(), 0..8u8).prop_map(|(at, bit)| Damage::Flip { at, bit }),
        prop::collection::vec((any::<usize>(), 0..8u8), 2..8).prop_map(Damage::Flips),
        (any::<usize>(), 1..64usize).prop_map(|(at, len)| Damage::Zero { at, len }),
        (any::<usize>(), any::<usize>(), 1..256usize).prop_map(|(a, b, len)| Damage::Swap {
            a,
            b,
            len
        }),
        (any::<usize>(), any::<u64>()).prop_map(|(at, value)| Damage::Word { at, value }),
        prop::collection::vec(any::<u8>(), 1..16).prop_map(Damage::Append),
    ]
}

fn apply(mut bytes: Vec<u8>, damage: &Damage) -> Vec<u8> {
    let n = bytes.len();
    match damage {
        Damage::Truncate(len) => bytes.truncate(len % n),
        Damage::Flip { at, bit } => bytes[at % n] ^= 1 << bit,
        Damage::Flips(flips) => {
            for (at, bit) in flips {
                bytes[at % n] ^= 1 << bit;
            }
        }
        Damage::Zero { at, len } => {
            let at = at % n;
            let end = (at + len).min(n);
            bytes[at..end].fill(0);
        }
        Damage::Swap { a, b, len } => {
            let len = (*len).min(n / 2);
            let (a, b) = (a % (n - len), b % (n - len));
            let block = bytes[a..a + len].to_vec();
            bytes.copy_within(b..b + len, a);
            bytes[b..b + len].copy_from_slice(&block);
        }
        Damage::Word { at, value } => {
            let at = (at % (n - 8)) & !7;
            bytes[at..at + 8].copy_from_slice(&value.to_le_bytes());
        }
        Damage::Append(extra) => bytes.extend_from_slice(extra),
    }
    bytes
}

/// Files (name, language, text) and the saved bytes of their store.
type Saved = (Vec<(String, Language, String)>, Vec<u8>);

/// A small saved store (a few files of each language) and its files.
fn small() -> &'static Saved {
    static SMALL: std::sync::OnceLock<Saved> = std::sync::OnceLock::new();
    SMALL.get_or_init(|| {
        let mut files: Vec<_> = common::snippets().into_iter().step_by(3).collect();
        for f in builtin_corpus::generate().iter().step_by(1000) {
            let language = Language::from_path(Path::new(&f.path)).unwrap();
            files.push((f.path.clone(), language, f.text.clone()));
        }
        let bytes = saved_bytes(&files);
        (files, bytes)
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 10_000, ..ProptestConfig::default() })]

    /// Every damaged variant is refused with an error naming the file, or opens and verifies equal to the
    /// original (a damage that changed nothing: a swap of equal blocks, a zeroed run of zeros); none panics.
    #[test]
    fn a_damaged_file_is_refused_or_opens_equal(damage in damage()) {
        let (files, good) = small();
        let bytes = apply(good.clone(), &damage);
        let unchanged = bytes == *good;
        match open(bytes) {
            Err(error) => {
                prop_assert!(!unchanged, "the original was refused: {error}");
                prop_assert_eq!(error.file.as_str(), "test.cst");
            }
            Ok(opened) => {
                prop_assert!(unchanged, "a damaged file opened ({damage:?})");
                prop_assert_eq!(verify_all(&opened.store, files), Ok(()));
            }
        }
    }
}
