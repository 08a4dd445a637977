//! Frozen's saved form: saved stores open from their mapping and verify (edited ones as their current
//! versions); every refusal path fires, the container's and frozen's own, the latter on files whose
//! checksums were made right again after the damage (so that the decoders, not xxh3, refuse them); damaged
//! files (10,000 variants) are refused or open equal to the original, never crash.

use backend_frozen::{Frozen, FrozenStore};
use cst_measure::saved::{self, Header, OpenError, SectionEntry};
use cst_measure::verify::verify_file;
use cst_measure::{Backend, CstStore, FileEdit, Language};
use proptest::prelude::*;
use std::borrow::Cow;
use std::path::Path;

type Files = Vec<(String, Language, String)>;

/// Snippets of every language (errors, empty files, non-ASCII), a few built-in corpus files, and files
/// large enough to take the compressed literal path.
fn files(step: usize) -> Files {
    let mut files: Files = cst_measure::fixtures::snippets()
        .into_iter()
        .map(|s| (s.name, s.language, s.text))
        .collect();
    let corpus = builtin_corpus::generate();
    for f in corpus.iter().step_by(step) {
        let language = Language::from_path(Path::new(&f.path)).unwrap();
        files.push((f.path.clone(), language, f.text.clone()));
    }
    for (i, chunk) in corpus.chunks(20).step_by(3).enumerate() {
        let language = Language::from_path(Path::new(&chunk[0].path)).unwrap();
        let same: Vec<&str> = chunk
            .iter()
            .filter(|f| Language::from_path(Path::new(&f.path)) == Some(language))
            .map(|f| f.text.as_str())
            .collect();
        files.push((format!("joined/{i}"), language, same.join("\n")));
    }
    files
}

fn store_of(files: &[(String, Language, String)]) -> FrozenStore {
    let mut store = Frozen::new_store();
    for (name, language, text) in files {
        store
            .add(*language, text, language.parse(text))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    store.finish();
    store
}

fn paths(files: &[(String, Language, String)]) -> Vec<String> {
    files.iter().map(|f| f.0.clone()).collect()
}

fn saved_bytes(files: &[(String, Language, String)]) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.cst");
    saved::store::save::<Frozen>(&store_of(files), &paths(files), &path).unwrap();
    std::fs::read(&path).unwrap()
}

fn verify_all(store: &FrozenStore, files: &[(String, Language, String)]) -> Result<(), String> {
    if store.len() != files.len() {
        return Err(format!("{} files, not {}", store.len(), files.len()));
    }
    for (i, (name, language, text)) in files.iter().enumerate() {
        let tree = language.parse(text);
        verify_file(store, i, *language, text, &tree).map_err(|e| format!("{name}: {e}"))?;
    }
    Ok(())
}

fn open(bytes: Vec<u8>) -> Result<saved::store::SavedStore<FrozenStore>, OpenError> {
    saved::store::open_bytes::<Frozen>("test.cst", bytes)
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

/// The built-in files of one store, every section present (the dictionary and a compressed lexicon too).
fn good() -> &'static (Files, Vec<u8>) {
    static GOOD: std::sync::OnceLock<(Files, Vec<u8>)> = std::sync::OnceLock::new();
    GOOD.get_or_init(|| {
        let files = files(30);
        let bytes = saved_bytes(&files);
        (files, bytes)
    })
}

#[test]
fn a_saved_store_opens_from_its_mapping_and_verifies() {
    let files = &good().0;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.cst");
    let store = store_of(files);
    let written = saved::store::save::<Frozen>(&store, &paths(files), &path).unwrap();
    assert_eq!(written, std::fs::metadata(&path).unwrap().len());
    let opened = saved::store::open::<Frozen>(&path).unwrap();
    verify_all(&opened.store, files).unwrap();
    // The blobs are the mapping's: the opened store holds no blob byte on the heap, the rest as built.
    let (blobs, model, kinds, dictionary) = opened.store.parts();
    let built = store.parts();
    assert_eq!(blobs, files.len() * 4, "only the starts are on the heap");
    assert_eq!((model, kinds), (built.1, built.2));
    assert_eq!(dictionary, 0, "the dictionary is the mapping's");
    assert!(built.3 > 0, "the store has a dictionary");
    for (i, f) in files.iter().enumerate() {
        let entry = opened.opened.file(i);
        assert_eq!((entry.path, entry.language), (f.0.as_str(), f.1));
        assert_eq!(entry.size, f.2.len() as u64);
        assert_eq!(entry.hash, saved::hash(f.2.as_bytes()));
    }
    let (resident, pages) = opened.opened.resident_pages().unwrap();
    assert!(pages > 0 && resident <= pages);
    // Saved again from the opened store, it gives the same bytes.
    let again = dir.path().join("again.cst");
    saved::store::save::<Frozen>(&opened.store, &paths(files), &again).unwrap();
    assert_eq!(
        std::fs::read(&again).unwrap(),
        std::fs::read(&path).unwrap()
    );
}

/// A store whose lexicon is held as a zstd frame (copied out of the mapping with the kinds) reads back.
#[test]
fn a_store_with_a_compressed_lexicon_opens_and_verifies() {
    let files: Files = (0..40)
        .map(|f| {
            let text = (0..800)
                .map(|i| format!("shared_identifier_{:05}_x = {}\n", (i * 7 + f) % 800, i + f))
                .collect();
            (format!("{f}.py"), Language::Python, text)
        })
        .collect();
    let store = store_of(&files);
    assert!(store.lexicon_compressed());
    let opened = open(saved_bytes(&files)).unwrap();
    assert!(opened.store.lexicon_compressed());
    verify_all(&opened.store, &files).unwrap();
}

/// A store whose files are coded in blocks saves and reopens, every block thawed from the mapping; a
/// damaged block index is refused at open, even with its checksums made right.
#[test]
fn a_store_coded_in_blocks_opens_and_verifies() {
    let files: Files = (0..3)
        .map(|f| {
            let text = (0..300)
                .map(|i| format!("value_{i} = f({i}, {f})\n"))
                .collect();
            (format!("{f}.py"), Language::Python, text)
        })
        .collect();
    let mut store = Frozen::new_store();
    store.set_block_nodes(64);
    for (_, language, text) in &files {
        store.add(*language, text, language.parse(text)).unwrap();
    }
    store.finish();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("blocks.cst");
    saved::store::save::<Frozen>(&store, &paths(&files), &path).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let opened = open(bytes.clone()).unwrap();
    verify_all(&opened.store, &files).unwrap();
    // The first blob's block count (the varint after its node count) made 0.
    let damaged = with_section(&bytes, BLOBS, |b| {
        assert!(b[0] & 64 != 0, "the first file is coded in blocks");
        let mut at = 1;
        while b[at] & 0x80 != 0 {
            at += 1;
        }
        b[at + 1] = 0;
    });
    let what = refusal(damaged);
    assert!(what.contains("block index is damaged"), "{what}");
}

#[test]
fn an_empty_store_saves_and_opens() {
    let bytes = saved_bytes(&[]);
    let opened = open(bytes).unwrap();
    assert_eq!(opened.store.len(), 0);
}

#[test]
fn a_store_not_finished_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Frozen::new_store();
    let text = "x = 1\n";
    store
        .add(Language::Python, text, Language::Python.parse(text))
        .unwrap();
    let error = saved::store::save::<Frozen>(&store, &["a.py".into()], &dir.path().join("s.cst"))
        .unwrap_err();
    assert!(error.to_string().contains("not finished"), "{error}");
}

/// Edited files (a delta, a chain re-frozen whole, a replaced file) are saved as their current versions,
/// re-frozen whole; the store they were saved from keeps its own versions.
#[test]
fn a_store_with_edited_files_saves_their_current_versions() {
    let files = files(300);
    let mut store = store_of(&files);
    let mut expected = files.clone();
    let at = files
        .iter()
        .position(|f| f.0.ends_with(".py") && f.2.len() > 200)
        .unwrap();
    // A delta: one character typed in the middle.
    let (_, language, text) = &files[at];
    let offset = text.find('\n').unwrap();
    let new_text = format!("{}#{}", &text[..offset], &text[offset..]);
    let mut parser = language.parser();
    let mut old_tree = parser.parse(text, None).unwrap();
    let input = tree_sitter::InputEdit {
        start_byte: offset,
        old_end_byte: offset,
        new_end_byte: offset + 1,
        start_position: tree_sitter::Point::new(0, offset),
        old_end_position: tree_sitter::Point::new(0, offset),
        new_end_position: tree_sitter::Point::new(0, offset + 1),
    };
    old_tree.edit(&input);
    let tree = parser.parse(&new_text, Some(&old_tree)).unwrap();
    let changed: Vec<tree_sitter::Range> = old_tree.changed_ranges(&tree).collect();
    store
        .update(
            at,
            FileEdit {
                language: *language,
                old_text: text,
                text: &new_text,
                input,
                old_tree: &old_tree,
                tree,
                changed: &changed,
            },
        )
        .unwrap();
    expected[at].2 = new_text;
    // A file replaced whole.
    let (_, language, text) = &files[2];
    let replaced = format!("{text}\n# added\n");
    store
        .replace(2, *language, &replaced, language.parse(&replaced))
        .unwrap();
    expected[2].2 = replaced;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.cst");
    saved::store::save::<Frozen>(&store, &paths(&files), &path).unwrap();
    verify_all(
        &saved::store::open::<Frozen>(&path).unwrap().store,
        &expected,
    )
    .unwrap();
    verify_all(&store, &expected).unwrap();
}

#[test]
fn a_failed_save_leaves_the_old_file_whole() {
    let files = &good().0;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.cst");
    let store = store_of(files);
    saved::store::save::<Frozen>(&store, &paths(files), &path).unwrap();
    let before = std::fs::read(&path).unwrap();
    let error = saved::store::save::<Frozen>(&store, &paths(files)[1..], &path).unwrap_err();
    assert!(error.to_string().contains("paths for a store"), "{error}");
    let error = saved::store::save::<Frozen>(
        &store,
        &paths(files),
        &dir.path().join("missing").join("store.cst"),
    )
    .unwrap_err();
    assert!(error.to_string().contains("cannot save"), "{error}");
    assert_eq!(std::fs::read(&path).unwrap(), before);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
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

/// The file with section `tag` changed and every checksum made right again: a hostile file that xxh3
/// passes, which only the decoders can refuse.
fn with_section(bytes: &[u8], tag: u32, change: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let (header, mut sections) = parts(bytes);
    change(&mut sections.iter_mut().find(|s| s.0 == tag).unwrap().1);
    rewritten(header, sections)
}

fn without_section(bytes: &[u8], tag: u32) -> Vec<u8> {
    let (header, mut sections) = parts(bytes);
    sections.retain(|s| s.0 != tag);
    rewritten(header, sections)
}

/// Where the `n` LEB128 varints from `at` end.
fn past_varints(bytes: &[u8], mut at: usize, n: usize) -> usize {
    for _ in 0..n {
        while bytes[at] & 0x80 != 0 {
            at += 1;
        }
        at += 1;
    }
    at
}

fn varint(mut v: u64) -> Vec<u8> {
    let mut out = Vec::new();
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
    out
}

/// The file with file `f`'s recorded node count and text length (a whole blob's, after its header byte)
/// replaced by `change`'s, the blobs after it moved and the starts made right, every checksum made right
/// again: a forged blob that only frozen's own checks can catch.
fn with_counts(bytes: &[u8], f: usize, change: impl FnOnce(u64, u64) -> (u64, u64)) -> Vec<u8> {
    let (header, mut sections) = parts(bytes);
    let find = |sections: &[(u32, Vec<u8>)], tag| sections.iter().position(|s| s.0 == tag).unwrap();
    let (b, s) = (find(&sections, BLOBS), find(&sections, STARTS));
    let at = u32_at(&sections[s].1, f * 4) as usize;
    let blobs = &sections[b].1;
    assert_eq!(blobs[at] & 64, 0, "file {f} is a whole blob");
    let (mut end, mut values) = (at + 1, [0u64; 2]);
    for v in &mut values {
        let from = end;
        end = past_varints(blobs, from, 1);
        *v = blobs[from..end]
            .iter()
            .rev()
            .fold(0, |v, &b| v << 7 | u64::from(b & 0x7f));
    }
    let (nodes, text) = change(values[0], values[1]);
    let mut counts = varint(nodes);
    counts.extend(varint(text));
    let moved = counts.len() as i64 - (end - at - 1) as i64;
    sections[b].1.splice(at + 1..end, counts);
    let starts = &mut sections[s].1;
    for g in f + 1..starts.len() / 4 {
        let start = u32_at(starts, g * 4) as i64 + moved;
        set_u32(starts, g * 4, start as u32);
    }
    rewritten(header, sections)
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap())
}

fn set_u32(bytes: &mut [u8], at: usize, value: u32) {
    bytes[at..at + 4].copy_from_slice(&value.to_le_bytes());
}

const BLOBS: u32 = 16;
const STARTS: u32 = 17;
const MODEL: u32 = 18;
const KINDS: u32 = 19;
const DICTIONARY: u32 = 20;
const STATUSES: u32 = 21;

/// The container's checks, on frozen's files: zero bytes, truncation, bit flips, other versions, backends
/// and grammars, lengths past the end, sections swapped, bytes modified after the save.
#[test]
fn every_container_refusal_path_fires() {
    let good = &good().1;
    assert!(open(good.clone()).is_ok());
    let check = |bytes: Vec<u8>, expected: &str| {
        let what = refusal(bytes);
        assert!(what.contains(expected), "{what:?} lacks {expected:?}");
    };
    check(Vec::new(), "is empty (0 bytes)");
    check(good[..10].to_vec(), "is truncated");
    check(good[..good.len() - 1].to_vec(), "past its end");
    check(good[..good.len() / 2].to_vec(), "past its end");
    let mut bad = good.clone();
    bad[0] ^= 1;
    check(bad, "not a saved CST store");
    let mut bad = good.clone();
    bad[8] = 2;
    check(bad, "format version 2");
    let mut bad = good.clone();
    bad[20] ^= 0x40;
    check(bad, "header's checksum");
    check(
        with_header(good, |h| h.backend = "arena".into()),
        "saved by backend arena, not frozen",
    );
    check(
        with_header(good, |h| h.backend_format += 1),
        "saved format version 6, this build reads 5",
    );
    check(with_header(good, |h| h.tables_hash ^= 1), "stale");
    check(
        with_header(good, |h| h.grammars[0].abi += 1),
        "grammar python of ABI version",
    );
    check(
        with_header(good, |h| h.grammars[1].kinds_hash ^= 1),
        "another version of grammar rust",
    );
    check(with_header(good, |h| h.files += 1), "files section has");
    let (header, _) = parts(good);
    let head = header.to_bytes().len();
    let mut swapped = header.clone();
    swapped.sections.swap(3, 4);
    let mut bad = good.clone();
    bad[..head].copy_from_slice(&swapped.to_bytes());
    check(bad, "tags must rise");
    // Two sections' bytes swapped (the blobs' start and the model's): their checksums are of the places they
    // were.
    let (blobs, model) = (header.sections[2], header.sections[4]);
    let n = (blobs.len.min(model.len) as usize).min(64);
    let mut bad = good.clone();
    let block = bad[blobs.offset as usize..][..n].to_vec();
    bad.copy_within(
        model.offset as usize..model.offset as usize + n,
        blobs.offset as usize,
    );
    bad[model.offset as usize..][..n].copy_from_slice(&block);
    check(bad, "checksum does not match");
    let mut long = header.clone();
    long.sections[2].len = u64::MAX - 4;
    let mut bad = good.clone();
    bad[..head].copy_from_slice(&long.to_bytes());
    check(bad, "past its end");
    // One bit of every one of frozen's sections, flipped after the save.
    for s in header.sections.iter().filter(|s| s.tag >= BLOBS) {
        let mut bad = good.clone();
        bad[(s.offset + s.len / 2) as usize] ^= 0x10;
        check(bad, &format!("section {}'s checksum", s.tag));
    }
}

/// Frozen's own checks, each on a file whose checksums are right: what xxh3 cannot catch (a file forged,
/// or written by a faulty build) is refused by the decoders themselves.
#[test]
fn every_frozen_refusal_path_fires_with_valid_checksums() {
    let (files, good) = good();
    let files = files.len();
    let check = |bytes: Vec<u8>, expected: &str| {
        let what = refusal(bytes);
        assert!(what.contains(expected), "{what:?} lacks {expected:?}");
    };
    let (_, sections) = parts(good);
    let section = |tag: u32| sections.iter().find(|s| s.0 == tag).unwrap().1.clone();
    // Sections missing.
    for tag in [BLOBS, STARTS, MODEL, KINDS] {
        check(
            without_section(good, tag),
            &format!("section {tag} is missing"),
        );
    }
    // The starts: not whole words, too few, out of order, past the blobs, not from 0.
    check(
        with_section(good, STARTS, |s| s.push(0)),
        "whole 4-byte words",
    );
    check(
        with_section(good, STARTS, |s| s.truncate(s.len() - 4)),
        "blob starts for",
    );
    check(with_section(good, STARTS, |s| s.swap(4, 8)), "do not rise");
    check(
        with_section(good, STARTS, |s| {
            let n = s.len();
            set_u32(s, n - 4, u32::MAX >> 1)
        }),
        "do not rise within the blobs",
    );
    check(
        with_section(good, STARTS, |s| set_u32(s, 0, 1)),
        "do not rise",
    );
    // A blob's header: another language, unknown flags, lengths past the blob or the file's size.
    check(
        with_section(good, BLOBS, |b| b[0] = (b[0] & !3) | (((b[0] & 3) + 1) % 3)),
        "the files section says",
    );
    check(with_section(good, BLOBS, |b| b[0] |= 0x80), "unknown flags");
    let starts = section(STARTS);
    let blobs = section(BLOBS);
    let big = (0..starts.len() / 4)
        .map(|f| u32_at(&starts, f * 4) as usize)
        .find(|&at| blobs[at] & 8 == 0)
        .expect("a blob with a literal stream");
    // The literal stream's lengths follow the whole blob's node count and text length.
    let lengths = past_varints(&blobs, big + 1, 2);
    check(
        with_section(good, BLOBS, |b| b[lengths..lengths + 10].fill(0xff)),
        "blob header has a length past 2^63",
    );
    check(
        with_section(good, BLOBS, |b| {
            b[lengths..lengths + 5].copy_from_slice(&[0xff, 0xff, 0xff, 0xff, 0x0f])
        }),
        "claims a literal stream of 4294967295 bytes",
    );
    // The model: lengths past the end, a table whose frequencies do not sum, a zero frequency, a context
    // pointing inside a table, no free slot, a mask that is not a byte.
    check(
        with_section(good, MODEL, |m| m.truncate(8)),
        "less than its counts",
    );
    check(
        with_section(good, MODEL, |m| set_u32(m, 4, u32::MAX)),
        "its 4294967295 slots",
    );
    check(with_section(good, MODEL, |m| m.push(0)), "slots and");
    check(
        with_section(good, MODEL, |m| set_u32(m, 0, 256)),
        "is not a byte",
    );
    let model = section(MODEL);
    let (slots, entries) = (u32_at(&model, 4) as usize, u32_at(&model, 8) as usize);
    let freqs = 12 + slots * 8 + entries * 4;
    let freq = |m: &[u8], i: usize| u16::from_le_bytes([m[freqs + i * 2], m[freqs + i * 2 + 1]]);
    // The tables' starts, and one table of several entries.
    let mut starts = Vec::new();
    let mut at = 0;
    while at < entries {
        starts.push(at);
        let mut sum = u32::from(freq(&model, at));
        at += 1;
        while sum > 0 && sum < 1 << 15 {
            sum += u32::from(freq(&model, at));
            at += 1;
        }
    }
    let table = *starts
        .iter()
        .find(|&&t| freq(&model, t) > 0 && !starts.contains(&(t + 1)))
        .expect("a table of several entries");
    let set_freq = |m: &mut Vec<u8>, i: usize, f: u16| {
        m[freqs + i * 2..][..2].copy_from_slice(&f.to_le_bytes())
    };
    check(
        with_section(good, MODEL, |m| set_freq(m, table, freq(&model, table) + 1)),
        "frequencies summing to 32769",
    );
    check(
        with_section(good, MODEL, |m| set_freq(m, table + 1, 0)),
        "frequency 0",
    );
    let slot = (0..slots)
        .find(|&s| u32_at(&model, 12 + s * 8) != 0 && u32_at(&model, 16 + s * 8) as usize == table)
        .expect("a context with that table");
    check(
        with_section(good, MODEL, |m| {
            let data = u32_at(m, 16 + slot * 8);
            set_u32(m, 16 + slot * 8, data + 1)
        }),
        "which starts no table",
    );
    check(
        with_section(good, MODEL, |m| {
            set_u32(m, 16 + slot * 8, entries as u32 + 7)
        }),
        "which starts no table",
    );
    check(
        with_section(good, MODEL, |m| {
            for s in 0..slots {
                if u32_at(m, 12 + s * 8) == 0 {
                    set_u32(m, 12 + s * 8, 1);
                    set_u32(m, 16 + s * 8, 1 << 31);
                }
            }
        }),
        "no free slot",
    );
    // The kinds: counts past the section, classes out of range, defaults past their texts, the lexicon's
    // class starts, checkpoints and length.
    check(
        with_section(good, KINDS, |k| k.truncate(20)),
        "past their section",
    );
    check(
        with_section(good, KINDS, |k| set_u32(k, 12, u32::MAX)),
        "past their section",
    );
    check(with_section(good, KINDS, |k| k.push(0)), "end at byte");
    check(
        with_section(good, KINDS, |k| set_u32(k, 4, u32::MAX)),
        "lexicon starts at byte",
    );
    check(
        with_section(good, KINDS, |k| k[16 + 3] = 255),
        "has class 255",
    );
    check(
        with_section(good, KINDS, |k| {
            k[16] = 0xff;
            k[17] = 0xff;
            k[18] = 1;
        }),
        "past the default texts",
    );
    check(
        with_section(good, KINDS, |k| set_u32(k, 0, 300)),
        "class starts do not rise",
    );
    check(
        with_section(good, KINDS, |k| set_u32(k, 8, 1)),
        "checkpoints and 1 bytes",
    );
    let kinds = section(KINDS);
    check(
        with_section(good, KINDS, |k| {
            let n = k.len();
            set_u32(k, n - 4, u32_at(&kinds, n - 4) + 1)
        }),
        "class starts do not rise",
    );
    // The dictionary: zstd refuses it.
    check(
        with_section(good, DICTIONARY, |d| {
            d[4..].iter_mut().for_each(|b| *b = 0xff)
        }),
        "zstd refuses the dictionary",
    );
    // The query-status companion: the coded model's length past the section, its four language parts not
    // filling it, a part damaged (no prediction for its entries to index), the bits of the files with
    // exceptions past the section or marking a file past the last, a file's length past the section or the
    // lengths summing past it, and bytes after the last file's stream.
    let (_, sections) = parts(good);
    let statuses = &sections.iter().find(|s| s.0 == STATUSES).unwrap().1;
    let model_at = past_varints(statuses, 0, 1);
    let model_len = statuses[..model_at]
        .iter()
        .rev()
        .fold(0, |v, &b| v << 7 | usize::from(b & 0x7f));
    let lengths_at = model_at + model_len;
    // Python's part (the first) is not empty: the store learned a model for it.
    let python_at = past_varints(statuses, model_at, 1);
    assert!(python_at < lengths_at && statuses[model_at] != 0);
    check(
        with_section(good, STATUSES, |s| {
            s.splice(..model_at, [0xff, 0xff, 0xff, 0xff, 0x0f]);
        }),
        "query-status model runs past its section",
    );
    check(
        with_section(good, STATUSES, |s| {
            s.splice(..model_at, varint(model_len as u64 + 1));
            s.insert(
                lengths_at + varint(model_len as u64 + 1).len() - model_at,
                0,
            );
        }),
        "query-status model holds more than its parts",
    );
    check(
        with_section(good, STATUSES, |s| s[python_at] = 0),
        "query-status model of language 0 is damaged",
    );
    let (bits, lengths) = (lengths_at, lengths_at + files.div_ceil(8));
    assert!(
        statuses[bits..lengths].iter().any(|&b| b != 0) && lengths < statuses.len(),
        "some file has exceptions"
    );
    check(
        with_section(good, STATUSES, |s| s.truncate(lengths - 1)),
        "query-status bits run past their section",
    );
    if !files.is_multiple_of(8) {
        check(
            with_section(good, STATUSES, |s| s[lengths - 1] |= 0x80),
            "mark a file past the last",
        );
    }
    check(
        with_section(good, STATUSES, |s| s.truncate(lengths)),
        "query status runs past its section",
    );
    check(
        with_section(good, STATUSES, |s| {
            s.pop();
        }),
        "query statuses run past their section",
    );
    // A language's stream code damaged (an order past 39), and a file's coded stream ending inside an
    // exception (all zeros but its last bit: a code's prefix of zeros with nothing after its one).
    let value = |at: &mut usize| {
        let end = past_varints(statuses, *at, 1);
        let v = statuses[*at..end]
            .iter()
            .rev()
            .fold(0, |v, &b| v << 7 | usize::from(b & 0x7f));
        *at = end;
        v
    };
    let mut at = model_at;
    for _ in 0..4 {
        let len = value(&mut at);
        at += len;
    }
    let (language, code_at) = (0..4)
        .find_map(|l| {
            let len = value(&mut at);
            let found = (len > 0).then_some((l, at));
            at += len;
            found
        })
        .expect("some language has a stream code");
    check(
        with_section(good, STATUSES, |s| s[code_at] = 40),
        &format!("query-status code of language {language} is damaged"),
    );
    let mut at = lengths;
    let first = value(&mut at);
    let streams = past_varints(statuses, lengths, {
        let bits: u32 = statuses[bits..lengths].iter().map(|b| b.count_ones()).sum();
        bits as usize
    });
    let file = (0..files)
        .find(|&f| statuses[bits + f / 8] >> (f % 8) & 1 != 0)
        .unwrap();
    check(
        with_section(good, STATUSES, |s| {
            s[streams..streams + first].fill(0);
            s[streams + first - 1] = 1;
        }),
        &format!("file {file}'s query status is damaged"),
    );
    check(
        with_section(good, STATUSES, |s| s.push(0)),
        "holds more than its files' companions",
    );
}

/// A whole blob records its node count and text length: open refuses a count above what the file's size
/// allows or a text length that is not the file's, and a thaw whose stream would open more nodes than the
/// blob records (a forged blob, its checksums made right) stops there and thaws nothing, so that a stream
/// forged to keep opening nodes cannot thaw until memory runs out.
#[test]
fn a_forged_node_count_is_refused_or_stops_the_thaw() {
    let (files, good) = good();
    let largest = (0..files.len())
        .filter(|&f| files[f].2.len() < 30_000)
        .max_by_key(|&f| files[f].2.len())
        .unwrap();
    let size = files[largest].2.len() as u64;
    let what = refusal(with_counts(good, largest, |_, text| {
        (17 * (size + 1), text)
    }));
    assert!(what.contains("nodes a byte"), "{what}");
    let what = refusal(with_counts(good, largest, |nodes, text| (nodes, text + 1)));
    assert!(what.contains("records"), "{what}");
    // Fewer nodes recorded than the stream opens: the file opens (the count is within bounds) and every
    // thaw of it stops at the count, giving nothing rather than more.
    let mut recorded = 0;
    let forged = with_counts(good, largest, |nodes, text| {
        recorded = nodes;
        (nodes / 2, text)
    });
    assert!(recorded > 100, "{recorded} nodes");
    let opened = open(forged).expect("the forged count is within bounds");
    let store = &opened.store;
    let (_, language, text) = &files[largest];
    let tree = language.parse(text);
    assert!(verify_file(store, largest, *language, text, &tree).is_err());
    assert_eq!(store.text(largest), "");
    let mut walked = 0u64;
    store.fold_preorder(largest, (), |(), _, _| walked += 1);
    assert!(walked <= 1, "{walked} nodes walked");
    // The other files are untouched.
    verify_file(
        store,
        0,
        files[0].1,
        &files[0].2,
        &files[0].1.parse(&files[0].2),
    )
    .unwrap();
}

#[test]
fn a_missing_file_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("none.cst");
    let error = saved::store::open::<Frozen>(&missing).err().unwrap();
    assert!(
        error.to_string().contains("none.cst: cannot be opened"),
        "{error}"
    );
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

/// A small saved store (a few files of each language) and its files.
fn small() -> &'static (Files, Vec<u8>) {
    static SMALL: std::sync::OnceLock<(Files, Vec<u8>)> = std::sync::OnceLock::new();
    SMALL.get_or_init(|| {
        let mut files: Files = cst_measure::fixtures::snippets()
            .into_iter()
            .step_by(3)
            .map(|s| (s.name, s.language, s.text))
            .collect();
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
    /// original (a damage that changed nothing); none panics.
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
