//! The thaw budget bounds a cursor's working memory: lookups spread over many large files keep, beside the
//! thaw of the file they are in, only the thaws that fit the budget, counted at the allocator. The same
//! lookups with the budget lifted hold every file's thaw and fail the bound (the check fires).

use backend_frozen::{Frozen, FrozenStore};
use cst_measure::alloc;
use cst_measure::{Backend, CstCursor, CstStore, Language};

#[global_allocator]
static ALLOCATOR: alloc::MeasuringAllocator = alloc::MeasuringAllocator::new();

/// Rust files of the built-in corpus joined into `count` files of about `bytes` each (going round the
/// corpus again when it runs out).
fn large_files(count: usize, bytes: usize) -> Vec<String> {
    let rust: Vec<_> = builtin_corpus::generate()
        .into_iter()
        .filter(|f| f.path.ends_with(".rs"))
        .collect();
    let mut out = vec![String::new()];
    for file in rust.iter().cycle() {
        if out.last().is_some_and(|t| t.len() >= bytes) {
            if out.len() == count {
                break;
            }
            out.push(String::new());
        }
        let last = out.last_mut().expect("one file at least");
        last.push_str(&file.text);
        last.push('\n');
    }
    out
}

fn store(files: &[String], budget: usize) -> FrozenStore {
    let mut store = Frozen::new_store();
    store.set_thaw_budget(budget);
    for text in files {
        store
            .add(Language::Rust, text, Language::Rust.parse(text))
            .expect("representable");
    }
    store.finish();
    store
}

/// Peak live bytes above the store while one cursor looks up offsets moving from file to file (each file
/// visited several times, in an order no cache of fewer than all of them serves).
fn lookups_peak(store: &FrozenStore, files: &[String]) -> u64 {
    alloc::reset_peak();
    let before = alloc::snapshot().live_bytes;
    let mut cursor = store.cursor(0);
    let mut depth = 0u64;
    for round in 0..4 {
        for (file, text) in files.iter().enumerate() {
            let offset = ((round * 7919 + file * 104_729) % text.len()) as u32;
            store.seek(&mut cursor, file, offset);
            while cursor.goto_parent() {
                depth += 1;
            }
        }
    }
    assert!(depth > 0);
    drop(cursor);
    alloc::snapshot().peak_bytes - before
}

/// Working memory of a new cursor on one file: its thaw (its buffers as reserved), its context caches and
/// decompression state.
fn one_file(store: &FrozenStore, file: usize) -> u64 {
    alloc::reset_peak();
    let before = alloc::snapshot().live_bytes;
    drop(store.cursor(file));
    alloc::snapshot().peak_bytes - before
}

/// What a cursor that moves between files holds beyond a new one's, whatever the files: its larger context
/// caches (two of 2^14 entries of 8 bytes) and its prepared zstd dictionary, with room to spare.
const MOVING_CURSOR: u64 = 512 << 10;

#[test]
fn lookups_over_large_files_stay_within_the_budget_and_one_thaw() {
    // Files just past the size from which a cursor keeps thaws (64 KiB), each thawing into about 1 MB: a
    // budget of 4 MiB keeps a few of the sixteen.
    let files = large_files(16, 70_000);
    let budget = 4 << 20;
    let bounded = store(&files, budget);
    // One file's thaw (the largest of them) and a cursor's state, twice (the thaw being made, and the
    // current one before the budget drops it), and what a cursor moving between files holds besides.
    let one = (0..files.len())
        .map(|f| one_file(&bounded, f))
        .max()
        .unwrap();
    assert!(
        (500_000..budget as u64 / 2).contains(&one),
        "a file of 70 KB thaws into {one} bytes: the budget would keep none or all"
    );
    let bound = budget as u64 + 2 * one + MOVING_CURSOR;
    let peak = lookups_peak(&bounded, &files);
    assert!(
        peak <= bound,
        "lookups took {peak} bytes of working memory, past the {budget}-byte budget plus two thaws of \
         {one} bytes"
    );
    // The budget lifted: every file's thaw is kept, and the same bound fails.
    let unbounded = store(&files, usize::MAX);
    let peak = lookups_peak(&unbounded, &files);
    assert!(
        peak > bound,
        "with no budget the cursor keeps all sixteen thaws ({peak} bytes), past {bound}"
    );
}

#[test]
fn a_budget_of_nothing_keeps_no_other_thaw() {
    let files = large_files(4, 100_000);
    let none = store(&files, 0);
    let one = (0..files.len()).map(|f| one_file(&none, f)).max().unwrap();
    let peak = lookups_peak(&none, &files);
    assert!(
        peak <= 2 * one + MOVING_CURSOR,
        "{peak} bytes with no budget, one thaw is {one}"
    );
}

/// One store of a single multi-megabyte file (Rust of the built-in corpus, joined), its nodes coded in
/// blocks of `block_nodes` (0: whole), with thaw budget `budget`.
fn one_large_file(text: &str, block_nodes: usize, budget: usize) -> FrozenStore {
    let mut store = Frozen::new_store();
    store.set_block_nodes(block_nodes);
    store.set_thaw_budget(budget);
    store
        .add(Language::Rust, text, Language::Rust.parse(text))
        .expect("representable");
    store.finish();
    store
}

/// Peak live bytes above the store of lookups spread over the file (one cursor, parent chains climbed)
/// and of a full walk (the store's fold).
fn lookups_and_walk_peak(store: &FrozenStore, len: usize) -> (u64, u64) {
    alloc::reset_peak();
    let before = alloc::snapshot().live_bytes;
    let mut cursor = store.cursor(0);
    let mut depth = 0u64;
    for i in 0..400usize {
        let offset = ((i * 104_729 + i * i * 7919) % len) as u32;
        store.seek(&mut cursor, 0, offset);
        while cursor.goto_parent() {
            depth += 1;
        }
    }
    assert!(depth > 0);
    drop(cursor);
    let lookups = alloc::snapshot().peak_bytes - before;
    alloc::reset_peak();
    let before = alloc::snapshot().live_bytes;
    let nodes = store.fold_preorder(0, 0u64, |n, _, _| n + 1);
    assert!(nodes > 100_000);
    let walk = alloc::snapshot().peak_bytes - before;
    (lookups, walk)
}

/// Blocks bound working memory whatever the file's size: lookups all over a file of 2 MB and a full walk
/// of it stay within the default budget plus a few blocks' thaws; with the file coded whole (its thaw
/// about 24 bytes per node and twice the text) or with the budget lifted (every block kept), the same
/// bound fails (the check fires).
#[test]
fn a_multi_megabyte_file_is_read_within_the_budget_and_a_few_blocks() {
    let text = large_files(1, 2_000_000).pop().expect("one file");
    let budget = backend_frozen::DEFAULT_THAW_BUDGET;
    let blocked = one_large_file(&text, backend_frozen::BLOCK_NODES, budget);
    let (files, blocks, _) = blocked.block_overhead();
    assert_eq!(files, 1);
    assert!(blocks >= 20, "{blocks} blocks");
    // A new cursor thaws the root's block: one block's thaw and a cursor's state.
    let block = one_file(&blocked, 0);
    let bound = budget as u64 + 3 * block + MOVING_CURSOR;
    let (lookups, walk) = lookups_and_walk_peak(&blocked, text.len());
    println!("{blocks} blocks of {block} bytes: lookups {lookups}, walk {walk}, bound {bound}");
    assert!(
        lookups <= bound && walk <= bound,
        "lookups took {lookups} bytes and a walk {walk}, past the {budget}-byte budget plus three blocks \
         of {block} bytes"
    );
    // Coded whole: one thaw is the whole file.
    let whole = one_large_file(&text, 0, budget);
    let (lookups, walk) = lookups_and_walk_peak(&whole, text.len());
    println!("whole: lookups {lookups}, walk {walk}");
    assert!(
        lookups > bound && walk > bound,
        "coded whole, lookups took {lookups} bytes and a walk {walk}, within {bound}"
    );
    // The budget lifted: every block a lookup thaws is kept.
    let kept = one_large_file(&text, backend_frozen::BLOCK_NODES, usize::MAX);
    let (lookups, _) = lookups_and_walk_peak(&kept, text.len());
    println!("no budget: lookups {lookups}");
    assert!(
        lookups > bound,
        "with no budget, lookups took {lookups} bytes, within {bound}"
    );
}
