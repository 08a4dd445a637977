//! Every check the measurements rest on, shown to fire: verification rejects a backend for each kind of
//! mistake (and accepts it once the mistake is gone), the harness refuses stores whose memory it cannot count
//! exactly, and a store holding a known number of bytes measures exactly that, requested and paid.

use cst_measure::alloc::{self, glibc_chunk_size, MeasuringAllocator};
use cst_measure::backend::{descend_to_offset, fold_preorder_of};
use cst_measure::corpus::{Corpus, CorpusFile};
use cst_measure::harness::{measure, walk_beside_tree_sitter, MeasureOptions, NoProgress};
use cst_measure::query_status::{statuses_with_contexts, FileStatus, NodeStatus, StatusStream};
use cst_measure::reference::{next_preorder, ReferenceTree, TreeSitterCursor};
use cst_measure::verify::{verify_file, verify_lookups};
use cst_measure::{Backend, BuildError, CstCursor, CstStore, Language, NodeInfo};
use std::borrow::Cow;
use std::sync::Mutex;
use std::time::Duration;

#[global_allocator]
static ALLOCATOR: MeasuringAllocator = MeasuringAllocator::new();

/// The kinds of mistake a backend can make, one at a time, at one node (by preorder number).
#[derive(Clone, Copy, Debug, PartialEq)]
enum Mistake {
    None,
    /// A flat list: "first child" moves to the next node in preorder, and there are no siblings or parents.
    FlatShape,
    WrongField(usize),
    ShiftedRange(usize),
    WrongText(usize),
    WrongLanguage,
    /// `seek` stops one level short of the answer.
    ShallowLookup,
    /// `fold_preorder` leaves out one node.
    SkippedInPreorder(usize),
    /// `fold_preorder` gives one node a depth one too deep.
    DeeperInPreorder(usize),
    /// `fold_preorder` lists the last node twice.
    RepeatedInPreorder,
    /// The query status drops the first supertype of the first node under one.
    DroppedSupertype,
    /// The query status gives the first node with a query field another one.
    WrongQueryField,
    /// The query status marks the first node that is not an extra as one.
    WrongExtra,
}

/// tree-sitter's own trees, read through a cursor that makes `mistake`.
struct MutantStore {
    mistake: Mistake,
    files: Vec<(Language, String, tree_sitter::Tree)>,
}

impl MutantStore {
    fn of(mistake: Mistake, language: Language, text: &str) -> MutantStore {
        MutantStore {
            mistake,
            files: vec![(language, text.to_string(), language.parse(text))],
        }
    }
}

struct MutantCursor<'a> {
    inner: TreeSitterCursor<'a>,
    mistake: Mistake,
    /// Preorder number of the current node: in a preorder walk (what verification does), each successful
    /// first-child or next-sibling move lands on the next node.
    position: usize,
    /// Preorder numbers of the ancestors.
    ancestors: Vec<usize>,
    /// Nodes landed on so far.
    visited: usize,
}

impl CstCursor for MutantCursor<'_> {
    fn node(&self) -> NodeInfo {
        let mut node = self.inner.node();
        match self.mistake {
            Mistake::WrongField(at) if at == self.position => node.field += 1,
            Mistake::ShiftedRange(at) if at == self.position => node.end += 1,
            _ => {}
        }
        node
    }

    fn text(&self) -> Cow<'_, str> {
        match self.mistake {
            Mistake::WrongText(at) if at == self.position => {
                Cow::Owned(format!("{}!", self.inner.text()))
            }
            _ => self.inner.text(),
        }
    }

    fn goto_first_child(&mut self) -> bool {
        if self.mistake == Mistake::FlatShape {
            return next_preorder(&mut self.inner);
        }
        let moved = self.inner.goto_first_child();
        if moved {
            self.ancestors.push(self.position);
            self.visited += 1;
            self.position = self.visited;
        }
        moved
    }

    fn goto_next_sibling(&mut self) -> bool {
        if self.mistake == Mistake::FlatShape {
            return false;
        }
        let moved = self.inner.goto_next_sibling();
        if moved {
            self.visited += 1;
            self.position = self.visited;
        }
        moved
    }

    fn goto_parent(&mut self) -> bool {
        if self.mistake == Mistake::FlatShape {
            return false;
        }
        let moved = self.inner.goto_parent();
        if moved {
            self.position = self.ancestors.pop().expect("a parent was pushed");
        }
        moved
    }
}

impl CstStore for MutantStore {
    type Cursor<'a> = MutantCursor<'a>;
    type Version = ();

    fn version(&self, _: usize) {
        unreachable!("these tests do not edit")
    }

    fn restore(&mut self, _: usize, _: &()) {
        unreachable!("these tests do not edit")
    }

    fn replace(
        &mut self,
        _: usize,
        _: Language,
        _: &str,
        _: tree_sitter::Tree,
    ) -> Result<(), BuildError> {
        unreachable!("these tests do not edit")
    }

    fn add(&mut self, _: Language, _: &str, _: tree_sitter::Tree) -> Result<(), BuildError> {
        unreachable!("built directly")
    }

    fn len(&self) -> usize {
        self.files.len()
    }

    fn language(&self, file: usize) -> Language {
        match (self.mistake, self.files[file].0) {
            (Mistake::WrongLanguage, Language::Python) => Language::Rust,
            (_, language) => language,
        }
    }

    fn text(&self, file: usize) -> Cow<'_, str> {
        Cow::Borrowed(&self.files[file].1)
    }

    fn cursor(&self, file: usize) -> MutantCursor<'_> {
        let (_, text, tree) = &self.files[file];
        MutantCursor {
            inner: TreeSitterCursor::new(tree.root_node(), text),
            mistake: self.mistake,
            position: 0,
            ancestors: Vec::new(),
            visited: 0,
        }
    }

    fn fold_preorder<A>(
        &self,
        file: usize,
        init: A,
        mut f: impl FnMut(A, u32, NodeInfo) -> A,
    ) -> A {
        let (mistake, mut position, mut last) = (self.mistake, 0, None);
        let acc = fold_preorder_of(&mut self.cursor(file), init, |acc, depth, node| {
            let acc = match mistake {
                Mistake::SkippedInPreorder(at) if at == position => acc,
                Mistake::DeeperInPreorder(at) if at == position => f(acc, depth + 1, node),
                _ => f(acc, depth, node),
            };
            position += 1;
            last = Some((depth, node));
            acc
        });
        match (mistake, last) {
            (Mistake::RepeatedInPreorder, Some((depth, node))) => f(acc, depth, node),
            _ => acc,
        }
    }

    fn query_status(&self, file: usize) -> Option<StatusStream<'_>> {
        let (mut statuses, contexts) = statuses_with_contexts(&self.files[file].2);
        let first = |f: &dyn Fn(&NodeStatus) -> bool| statuses.iter().position(f).unwrap();
        match self.mistake {
            Mistake::DroppedSupertype => {
                let at = first(&|s| s.supertypes != 0);
                let bits = statuses[at].supertypes;
                statuses[at].supertypes = bits & (bits - 1);
            }
            Mistake::WrongQueryField => {
                let at = first(&|s| s.query_field != 0);
                statuses[at].query_field += 1;
            }
            Mistake::WrongExtra => {
                let at = first(&|s| !s.extra);
                statuses[at].extra = true;
            }
            _ => {}
        }
        Some(FileStatus::encode(&statuses, &contexts).into_stream())
    }

    fn seek<'a>(&'a self, cursor: &mut MutantCursor<'a>, file: usize, offset: u32) {
        *cursor = self.cursor(file);
        descend_to_offset(cursor, offset);
        if self.mistake == Mistake::ShallowLookup {
            cursor.goto_parent();
        }
    }
}

/// Python with fields on many nodes (`name`, `parameters`, `body`, `left`, `right`, ...).
const PYTHON: &str = "def f(x, y):\n    return x + y * 2\n\nclass A(B):\n    z = f(1, 2)\n";

fn verify(mistake: Mistake) -> Result<u64, String> {
    let store = MutantStore::of(mistake, Language::Python, PYTHON);
    verify_file(
        &store,
        0,
        Language::Python,
        PYTHON,
        &Language::Python.parse(PYTHON),
    )
}

/// A preorder number of a node with a field, and one without children (a leaf), for the mistakes.
fn nodes_of_interest() -> (usize, usize) {
    let tree = Language::Python.parse(PYTHON);
    let mut cursor = TreeSitterCursor::new(tree.root_node(), PYTHON);
    let (mut with_field, mut leaf, mut position) = (None, None, 0);
    loop {
        if with_field.is_none() && cursor.node().field != 0 && position > 3 {
            with_field = Some(position);
        }
        if leaf.is_none() && cursor.ts_node().child_count() == 0 && position > 5 {
            leaf = Some(position);
        }
        if !next_preorder(&mut cursor) {
            break;
        }
        position += 1;
    }
    (with_field.unwrap(), leaf.unwrap())
}

#[test]
fn the_unmutated_store_verifies() {
    let nodes = verify(Mistake::None).unwrap();
    assert_eq!(
        nodes,
        ReferenceTree::of(&Language::Python.parse(PYTHON)).len() as u64
    );
}

#[test]
fn a_query_status_without_a_supertype_a_query_field_or_an_extra_bit_is_rejected() {
    for mistake in [
        Mistake::DroppedSupertype,
        Mistake::WrongQueryField,
        Mistake::WrongExtra,
    ] {
        let error = verify(mistake).unwrap_err();
        assert!(
            error.contains("query status of node #"),
            "{mistake:?}: {error}"
        );
    }
}

#[test]
fn a_flat_shape_is_rejected() {
    let error = verify(Mistake::FlatShape).unwrap_err();
    assert!(error.contains("the shapes differ"), "{error}");
}

#[test]
fn a_wrong_field_is_rejected() {
    let (with_field, _) = nodes_of_interest();
    let error = verify(Mistake::WrongField(with_field)).unwrap_err();
    assert!(
        error.contains(&format!("node #{with_field} differs (field)")),
        "{error}"
    );
}

#[test]
fn a_shifted_range_is_rejected() {
    let (_, leaf) = nodes_of_interest();
    let error = verify(Mistake::ShiftedRange(leaf)).unwrap_err();
    assert!(
        error.contains(&format!("node #{leaf} differs (range)")),
        "{error}"
    );
}

#[test]
fn wrong_text_in_one_node_is_rejected() {
    let (_, leaf) = nodes_of_interest();
    let error = verify(Mistake::WrongText(leaf)).unwrap_err();
    assert!(
        error.contains(&format!("node #{leaf}")) && error.contains("text differs"),
        "{error}"
    );
}

#[test]
fn a_wrong_language_is_rejected() {
    let error = verify(Mistake::WrongLanguage).unwrap_err();
    assert!(error.contains("language is rust, not python"), "{error}");
}

#[test]
fn a_preorder_that_differs_from_the_cursor_walk_is_rejected() {
    let (_, leaf) = nodes_of_interest();
    let error = verify(Mistake::SkippedInPreorder(leaf)).unwrap_err();
    assert!(
        error.contains(&format!("preorder: node #{leaf} differs")),
        "{error}"
    );
    let error = verify(Mistake::DeeperInPreorder(leaf)).unwrap_err();
    assert!(
        error.contains(&format!("preorder: node #{leaf}")) && error.contains("is at depth"),
        "{error}"
    );
    let error = verify(Mistake::RepeatedInPreorder).unwrap_err();
    assert!(error.contains("preorder lists more nodes"), "{error}");
    // The last node skipped: the listing ends early.
    let nodes = ReferenceTree::of(&Language::Python.parse(PYTHON)).len();
    let error = verify(Mistake::SkippedInPreorder(nodes - 1)).unwrap_err();
    assert!(error.contains("fewer than tree-sitter's"), "{error}");
}

#[test]
fn a_lookup_that_stops_short_is_rejected() {
    let reference = ReferenceTree::of(&Language::Python.parse(PYTHON));
    let offsets = 0..=PYTHON.len() as u32;
    let good = MutantStore::of(Mistake::None, Language::Python, PYTHON);
    assert_eq!(
        verify_lookups(&good, 0, PYTHON, &reference, offsets.clone()).unwrap(),
        PYTHON.len() as u64 + 1
    );
    let bad = MutantStore::of(Mistake::ShallowLookup, Language::Python, PYTHON);
    let error = verify_lookups(&bad, 0, PYTHON, &reference, offsets).unwrap_err();
    assert!(error.contains("node at offset 0"), "{error}");
}

#[test]
fn a_walk_that_differs_from_tree_sitters_beside_it_is_flagged() {
    let (field_node, _) = nodes_of_interest();
    let beside = |mistake| {
        let store = MutantStore::of(mistake, Language::Python, PYTHON);
        let files = [(0, PYTHON, Language::Python)];
        walk_beside_tree_sitter(&store, &files, 3, Duration::from_secs(1))
    };
    let good = beside(Mistake::None);
    assert!(good.answers_agree);
    assert_eq!(
        good.nodes,
        ReferenceTree::of(&Language::Python.parse(PYTHON)).len() as u64
    );
    assert!(!beside(Mistake::WrongField(field_node)).answers_agree);
}

// ---- The harness's memory checks. ----

/// What a test store does with its memory, besides holding exactly [`CALIBRATION_BYTES`] in one block.
#[derive(Clone, Copy, PartialEq)]
enum Behaviour {
    /// Nothing else: the calibration.
    Exact,
    /// Leaks a block into a static while building: measured as retained, never freed by the store.
    LeaksToStatic,
    /// Allocates a block it keeps the first time a cursor is made, after the build.
    GrowsAfterBuild,
    /// Keeps a block that another thread allocated during the build.
    AllocatesOnAnotherThread,
    /// Panics while building the file `x = 1`.
    PanicsOnOneFile,
}

/// Bytes the calibration store holds.
const CALIBRATION_BYTES: usize = 12_345;

static LEAKED: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());

/// A store that keeps one block of [`CALIBRATION_BYTES`] (and, by `B`, misbehaves as [`Behaviour`] says) and
/// nothing of the files: its cursor shows one empty node, so verification fails, which does not matter here.
struct TestStore<const B: u8> {
    held: Vec<u8>,
    files: usize,
    kept: Vec<Vec<u8>>,
    lazily: Mutex<Vec<u8>>,
}

struct Test<const B: u8>;

const fn behaviour(b: u8) -> Behaviour {
    match b {
        0 => Behaviour::Exact,
        1 => Behaviour::LeaksToStatic,
        2 => Behaviour::GrowsAfterBuild,
        3 => Behaviour::AllocatesOnAnotherThread,
        _ => Behaviour::PanicsOnOneFile,
    }
}

impl<const B: u8> Backend for Test<B> {
    const NAME: &'static str = "test";
    const RETAINS: &'static str = "one block of a known size";
    const INCLUDES_SOURCE: bool = false;
    type Store = TestStore<B>;

    fn new_store() -> TestStore<B> {
        TestStore {
            held: Vec::new(),
            files: 0,
            kept: Vec::new(),
            lazily: Mutex::new(Vec::new()),
        }
    }
}

/// One empty node, no moves.
struct EmptyCursor;

impl CstCursor for EmptyCursor {
    fn node(&self) -> NodeInfo {
        NodeInfo {
            kind: 0,
            field: 0,
            start: 0,
            end: 0,
            missing: false,
        }
    }
    fn text(&self) -> Cow<'_, str> {
        Cow::Borrowed("")
    }
    fn goto_first_child(&mut self) -> bool {
        false
    }
    fn goto_next_sibling(&mut self) -> bool {
        false
    }
    fn goto_parent(&mut self) -> bool {
        false
    }
}

impl<const B: u8> CstStore for TestStore<B> {
    type Cursor<'a> = EmptyCursor;
    type Version = ();

    fn version(&self, _: usize) {
        unreachable!("these tests do not edit")
    }

    fn restore(&mut self, _: usize, _: &()) {
        unreachable!("these tests do not edit")
    }

    fn replace(
        &mut self,
        _: usize,
        _: Language,
        _: &str,
        _: tree_sitter::Tree,
    ) -> Result<(), BuildError> {
        unreachable!("these tests do not edit")
    }

    fn add(&mut self, _: Language, text: &str, tree: tree_sitter::Tree) -> Result<(), BuildError> {
        drop(tree);
        if behaviour(B) == Behaviour::PanicsOnOneFile && text == "x = 1\n" {
            panic!("a backend's bug");
        }
        if self.files == 0 {
            self.held = vec![1u8; CALIBRATION_BYTES];
            match behaviour(B) {
                Behaviour::LeaksToStatic => LEAKED.lock().unwrap().push(vec![2u8; 1000]),
                Behaviour::AllocatesOnAnotherThread => {
                    let block = std::thread::spawn(|| vec![3u8; 1000]).join().unwrap();
                    self.kept.push(block);
                }
                Behaviour::Exact | Behaviour::GrowsAfterBuild | Behaviour::PanicsOnOneFile => {}
            }
        }
        self.files += 1;
        Ok(())
    }

    fn len(&self) -> usize {
        self.files
    }

    fn language(&self, _: usize) -> Language {
        Language::Python
    }

    fn text(&self, _: usize) -> Cow<'_, str> {
        if behaviour(B) == Behaviour::GrowsAfterBuild {
            // The first read, during verification, grows the store.
            let mut lazily = self.lazily.lock().unwrap();
            if lazily.is_empty() {
                lazily.extend_from_slice(&[4u8; 1000]);
            }
        }
        Cow::Borrowed("")
    }

    fn cursor(&self, _: usize) -> EmptyCursor {
        EmptyCursor
    }
}

fn measure_test<const B: u8>() -> anyhow::Result<cst_measure::harness::BackendMeasurement> {
    measure_test_with::<B>(MeasureOptions::default())
}

fn measure_test_with<const B: u8>(
    options: MeasureOptions,
) -> anyhow::Result<cst_measure::harness::BackendMeasurement> {
    let corpus = Corpus {
        name: "calibration".into(),
        files: vec![
            CorpusFile::in_memory("a.py", Language::Python, PYTHON.into()),
            CorpusFile::in_memory("b.py", Language::Python, "x = 1\n".into()),
        ],
        skipped: Vec::new(),
    };
    let options = MeasureOptions {
        scaling_steps: vec![],
        repetitions: 0,
        edit: cst_measure::session::EditOptions {
            edits: 0,
            ..Default::default()
        },
        ..options
    };
    measure::<Test<B>>(&corpus, &options, &mut NoProgress)
}

/// glibc does not split a free chunk when less than its 32-byte minimum would remain, so a block may sit in a
/// chunk up to 16 bytes larger than its own size needs: the footprint is read from the block, not computed.
fn assert_footprint(footprint: u64, size: u64) {
    let chunk = glibc_chunk_size(size);
    assert!(
        (chunk..=chunk + 16).contains(&footprint),
        "{size} bytes: footprint {footprint}, glibc's chunk {chunk}"
    );
}

#[test]
fn a_store_holding_a_known_block_measures_exactly_that() {
    let m = measure_test::<0>().unwrap();
    assert_eq!(m.retained_bytes, CALIBRATION_BYTES as u64);
    assert_eq!(m.retained_blocks, 1);
    assert_footprint(m.retained_footprint, CALIBRATION_BYTES as u64);
    // Its cursor gives back nothing of the files, and verification says so.
    assert_eq!((m.files_verified, m.failed_files), (0, 2));
}

/// The (freed, retained) figures of the harness's refusal.
fn refusal(error: anyhow::Error) -> (u64, u64) {
    let message = format!("{error:#}");
    let figures: Vec<u64> = message
        .split(' ')
        .filter_map(|word| word.parse().ok())
        .collect();
    assert!(
        message.contains("dropping the store freed") && figures.len() == 2,
        "{message}"
    );
    (figures[0], figures[1])
}

#[test]
fn a_store_that_leaks_into_a_static_is_refused() {
    // The leaked block (and the static's own list) were counted as retained, and are never freed.
    let (freed, retained) = refusal(measure_test::<1>().unwrap_err());
    assert_eq!(freed, CALIBRATION_BYTES as u64);
    assert!(retained >= freed + 1000, "{retained}");
}

#[test]
fn a_store_that_grows_after_the_build_is_refused() {
    // The block allocated while verifying is freed with the store, but was not there when measured.
    let (freed, retained) = refusal(measure_test::<2>().unwrap_err());
    assert_eq!(
        (freed, retained),
        (CALIBRATION_BYTES as u64 + 1000, CALIBRATION_BYTES as u64)
    );
}

#[test]
fn a_store_that_allocates_on_another_thread_is_refused() {
    // The other thread's block was counted on that thread, then freed with the store on this one.
    let (freed, retained) = refusal(measure_test::<3>().unwrap_err());
    assert!(freed > retained, "freed {freed}, retained {retained}");
}

/// A backend that panics on one file in per-file mode ends the measurement with that panic: the progress loop
/// does not wait for the file that never finishes (it once did, forever).
#[test]
fn a_panic_on_a_per_file_worker_ends_the_measurement() {
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let outcome = std::panic::catch_unwind(|| {
            measure_test_with::<4>(MeasureOptions {
                per_file: true,
                jobs: 2,
                ..MeasureOptions::default()
            })
        });
        sender.send(outcome.is_err()).unwrap();
    });
    // A hang detector, not a timing: the measurement of two tiny files ends in milliseconds either way.
    let panicked = receiver.recv_timeout(std::time::Duration::from_secs(120));
    assert_eq!(panicked, Ok(true), "the measurement hung or did not panic");
}

/// The footprint the counters report for a block is the chunk glibc holds for it: checked on blocks of every
/// size up to 4 KiB (below glibc's mmap threshold, where `glibc_chunk_size` applies).
#[test]
fn footprints_are_glibc_chunks() {
    for size in 1..=4096usize {
        let before = alloc::snapshot();
        let block: Vec<u8> = Vec::with_capacity(size);
        let during = alloc::snapshot();
        assert_eq!(during.live_bytes - before.live_bytes, size as u64);
        let footprint = during.live_footprint - before.live_footprint;
        assert_footprint(footprint, size as u64);
        assert_eq!(alloc::vec_footprint(&block), footprint);
        drop(block);
        assert_eq!(alloc::snapshot().live_footprint, before.live_footprint);
    }
}
