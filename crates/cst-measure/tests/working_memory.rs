//! Working memory and the counting switch, shown to fire: an operation whose cursor allocates a known block
//! reports exactly that block as its working memory, a block allocated on another thread is seen, an
//! allocation made with counting off leaves the counts alone, and a pair whose answers differ from
//! tree-sitter's is flagged.
//!
//! One test function, so that no other test's thread allocates while a process-wide watch runs.

use cst_measure::alloc::{self, MeasuringAllocator, Watch};
use cst_measure::corpus::{Corpus, CorpusFile};
use cst_measure::harness::{measure, MeasureOptions, NoProgress};
use cst_measure::ops::Operation;
use cst_measure::{Backend, BuildError, CstCursor, CstStore, Language, NodeInfo};
use std::borrow::Cow;
use std::time::Duration;

#[global_allocator]
static ALLOCATOR: MeasuringAllocator = MeasuringAllocator::new();

/// What each cursor of the allocating store holds.
const CURSOR_BYTES: usize = 54_321;

/// A store that holds no bytes (it counts files); its cursor holds `ALLOCATES` bytes when true.
struct Store<const ALLOCATES: bool> {
    files: usize,
}

struct Working<const ALLOCATES: bool>;

impl<const ALLOCATES: bool> Backend for Working<ALLOCATES> {
    const NAME: &'static str = "working";
    const RETAINS: &'static str = "nothing";
    const INCLUDES_SOURCE: bool = false;
    type Store = Store<ALLOCATES>;

    fn new_store() -> Store<ALLOCATES> {
        Store { files: 0 }
    }
}

/// One empty node, no moves; its buffer stands for a cursor's stack or cache.
struct Cursor {
    _buffer: Vec<u8>,
}

impl CstCursor for Cursor {
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

impl<const ALLOCATES: bool> CstStore for Store<ALLOCATES> {
    type Cursor<'a> = Cursor;
    type Version = ();

    fn version(&self, _: usize) {}
    fn restore(&mut self, _: usize, _: &()) {}
    fn replace(
        &mut self,
        _: usize,
        _: Language,
        _: &str,
        _: tree_sitter::Tree,
    ) -> Result<(), BuildError> {
        Ok(())
    }
    fn add(&mut self, _: Language, _: &str, _: tree_sitter::Tree) -> Result<(), BuildError> {
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
        Cow::Borrowed("")
    }
    fn cursor(&self, _: usize) -> Cursor {
        Cursor {
            _buffer: if ALLOCATES {
                vec![1u8; CURSOR_BYTES]
            } else {
                Vec::new()
            },
        }
    }
    /// Keeps the cursor's buffer: a lookup allocates nothing more.
    fn reset_cursor(&self, _: &mut Cursor, _: usize) {}
}

fn measure_working<const ALLOCATES: bool>() -> cst_measure::harness::BackendMeasurement {
    let corpus = Corpus {
        name: "working".into(),
        files: vec![
            CorpusFile::in_memory("a.py", Language::Python, "def f(x):\n    return x\n".into()),
            CorpusFile::in_memory("b.py", Language::Python, "x = 1\n".into()),
        ],
        skipped: Vec::new(),
    };
    let options = MeasureOptions {
        scaling_steps: vec![],
        repetitions: 2,
        budget: Duration::from_millis(300),
        edit: cst_measure::session::EditOptions {
            edits: 0,
            ..Default::default()
        },
        ..MeasureOptions::default()
    };
    measure::<Working<ALLOCATES>>(&corpus, &options, &mut NoProgress).unwrap()
}

#[test]
fn working_memory_and_the_counting_switch() {
    // An operation's working memory is exactly what its cursor allocates (one cursor at a time: each walk
    // drops a file's cursor before it makes the next), and nothing where the cursor allocates nothing.
    let allocating = measure_working::<true>();
    let quiet = measure_working::<false>();
    for op in [
        Operation::Open,
        Operation::Walk,
        Operation::NodeAtOffset,
        Operation::ParentChain,
        Operation::IdentifierText,
    ] {
        let working = |m: &cst_measure::harness::BackendMeasurement| {
            m.operations
                .iter()
                .find(|t| t.operation == op)
                .unwrap_or_else(|| panic!("{op:?} timed"))
                .working_bytes
        };
        assert_eq!(working(&allocating), CURSOR_BYTES as u64, "{op:?}");
        assert_eq!(working(&quiet), 0, "{op:?}");
    }
    // Every operation was timed beside tree-sitter; this store's answers are not tree-sitter's, and every
    // compared pair says so.
    for timing in &allocating.operations {
        let pair = timing.beside.as_ref().expect("a pair");
        assert!(pair.turns >= 1 && pair.ratio > 0.0);
        assert!(pair.ratio_low <= pair.ratio && pair.ratio <= pair.ratio_high);
        assert!(!pair.answers_agree, "{:?}", timing.operation);
        assert!(timing.counted_seconds > 0.0 && timing.median_seconds > 0.0);
    }
    let walk = allocating.walk_beside_tree_sitter.as_ref().expect("walked");
    assert!(!walk.answers_agree);
    assert!(walk.counted_cursor_seconds > 0.0 && walk.times_as_fast_counted_cursor > 0.0);
    let build = allocating
        .uncounted
        .as_ref()
        .expect("the build timed uncounted");
    assert!(build.parse_seconds > 0.0 && build.counted_parse_seconds > 0.0);

    // A block allocated and freed on another thread while a watch runs is in its peak.
    let watch = Watch::start();
    std::thread::spawn(|| drop(std::hint::black_box(vec![2u8; 1_000_000])))
        .join()
        .unwrap();
    let peak = watch.stop();
    assert!(
        (1_000_000..1_000_000 + 16_384).contains(&peak),
        "peak {peak}"
    );
    // No watch running, nothing is added to the last one's count.
    let before = Watch::start().stop();
    drop(std::hint::black_box(vec![3u8; 10_000]));
    assert_eq!(before, 0);

    // With counting off, a block allocated and freed leaves this thread's counts as they were; counting
    // resumes after.
    let before = alloc::snapshot();
    let inside = alloc::without_counting(|| {
        let block = std::hint::black_box(vec![4u8; 100_000]);
        let during = alloc::snapshot();
        drop(block);
        during
    });
    assert_eq!(inside, before);
    assert_eq!(alloc::snapshot(), before);
    let block = std::hint::black_box(vec![5u8; 100_000]);
    assert_eq!(alloc::snapshot().live_bytes - before.live_bytes, 100_000);
    drop(block);
}
