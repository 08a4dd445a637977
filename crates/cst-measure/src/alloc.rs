//! Allocator-level memory accounting: the only place in the project with `unsafe` code.
//!
//! [`MeasuringAllocator`] is the global allocator of every binary that measures: the `cap` crate's [`Cap`] (a
//! limit on the bytes the process holds) around [`CountingAllocator`], which forwards to the system allocator
//! (glibc's `malloc` on Linux) and keeps, per thread:
//!
//! - **live bytes**: the sizes *requested* and not yet freed (no allocator headers or rounding), for Rust and
//!   C allocations alike; the peak since the last [`reset_peak`]; allocations and frees;
//! - **live footprint**: what the system allocator really holds for the same blocks. For a Rust block that is
//!   `malloc_usable_size` of the block plus glibc's 8-byte chunk header; for one of tree-sitter's C blocks it
//!   is [`glibc_chunk_size`] of the size tree-sitter asked for (what its own `malloc` call would have taken:
//!   the shims below add a header of their own, which a program using tree-sitter does not pay).
//!
//! tree-sitter allocates its trees from C with `malloc`, which a Rust global allocator never sees;
//! [`route_tree_sitter_allocations`] points tree-sitter's allocator hooks at shims that allocate through the
//! global allocator, so C blocks are counted in the same figures and held to the same limit.
//!
//! When the limit is reached, the process stops with a line on stderr that starts with [`LIMIT_MARKER`] and
//! names the limit and the file being built (see [`set_building`]), so the parent process can say which.
//!
//! Two switches, both off by default:
//!
//! - [`Watch`] counts, process-wide, the bytes requested and not freed since it started, on every thread, and
//!   their peak: the working memory of an operation, whichever thread serves it. While no watch runs it costs
//!   each allocation one relaxed load; while one runs, two atomic operations.
//! - [`without_counting`] runs a closure with the calling thread's allocations passed straight to the system
//!   allocator, uncounted (no counters, no `malloc_usable_size`): what the counting costs, timed. The memory
//!   limit still applies (its one atomic add per allocation stays, as does the 16-byte size header of
//!   tree-sitter's C blocks, so that a block's layout never depends on the switch and any block may be freed
//!   on either side of it). A block allocated on one side and freed on the other leaves this thread's counts
//!   off by its size, so the harness uses it only for a phase that frees everything it allocates and is
//!   never inside a measured region.

use cap::Cap;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::ffi::c_void;
use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Once;

/// The counters of one thread. Attribution is per thread so that a measurement on one thread is never
/// disturbed by another (a test harness, a progress bar); each measured build runs on one thread.
struct Counters {
    live_bytes: Cell<u64>,
    peak_bytes: Cell<u64>,
    live_footprint: Cell<u64>,
    allocations: Cell<u64>,
    deallocations: Cell<u64>,
    /// Set by the C shims around their call into the global allocator: the block carries
    /// [`c_hooks::HEADER`] bytes that tree-sitter did not ask for.
    c_block: Cell<bool>,
    /// The corpus index of the file being built, or `usize::MAX`.
    building: Cell<usize>,
    /// Set by [`without_counting`]: this thread's allocations go straight to the system allocator.
    uncounted: Cell<bool>,
}

thread_local! {
    // Const-initialised and without a destructor, so reading it never allocates and works during thread exit.
    static COUNTERS: Counters = const {
        Counters {
            live_bytes: Cell::new(0),
            peak_bytes: Cell::new(0),
            live_footprint: Cell::new(0),
            allocations: Cell::new(0),
            deallocations: Cell::new(0),
            c_block: Cell::new(false),
            building: Cell::new(usize::MAX),
            uncounted: Cell::new(false),
        }
    };
}

static INSTALLED: AtomicBool = AtomicBool::new(false);

/// Whether a [`Watch`] runs; its live bytes (from 0 when it started, below 0 after frees of older blocks) and
/// their peak.
static WATCHING: AtomicBool = AtomicBool::new(false);
static WATCH_LIVE: AtomicI64 = AtomicI64::new(0);
static WATCH_PEAK: AtomicI64 = AtomicI64::new(0);

/// Counts `delta` requested bytes (negative: freed) into the running watch, if any.
#[inline]
fn watch(delta: i64) {
    if WATCHING.load(Ordering::Relaxed) {
        let live = WATCH_LIVE.fetch_add(delta, Ordering::Relaxed) + delta;
        if delta > 0 {
            WATCH_PEAK.fetch_max(live, Ordering::Relaxed);
        }
    }
}

/// The process-wide rise of live bytes (requested sizes, C blocks as tree-sitter asked for them) while it
/// runs, on every thread: [`Watch::peak`] is the highest it reached above where it started, whatever was
/// freed since. One watch at a time (starting another restarts the count).
pub struct Watch(());

impl Watch {
    /// Starts counting from the bytes live now.
    pub fn start() -> Watch {
        WATCH_LIVE.store(0, Ordering::Relaxed);
        WATCH_PEAK.store(0, Ordering::Relaxed);
        WATCHING.store(true, Ordering::SeqCst);
        Watch(())
    }

    /// The highest rise so far.
    pub fn peak(&self) -> u64 {
        WATCH_PEAK.load(Ordering::SeqCst).max(0) as u64
    }

    /// Stops counting; the highest rise.
    pub fn stop(self) -> u64 {
        self.peak()
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        WATCHING.store(false, Ordering::SeqCst);
    }
}

/// Whether the calling thread counts its allocations (see [`without_counting`]).
#[inline]
fn counting() -> bool {
    COUNTERS.try_with(|c| !c.uncounted.get()).unwrap_or(true)
}

/// Runs `f` with the calling thread's allocations uncounted and passed straight to the system allocator
/// (under the memory limit still): for timing what counting costs. Every block `f` allocates should be
/// freed within it, and it should free no block allocated outside it (see the module documentation).
pub fn without_counting<T>(f: impl FnOnce() -> T) -> T {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            COUNTERS.with(|c| c.uncounted.set(self.0));
        }
    }
    let _restore = Restore(COUNTERS.with(|c| c.uncounted.replace(true)));
    f()
}

/// glibc's chunk header on 64-bit targets: the bytes before each block that `malloc_usable_size` leaves out.
pub const GLIBC_CHUNK_HEADER: u64 = 8;

/// The chunk glibc's `malloc(n)` takes below its mmap threshold on 64-bit targets: `n` plus the 8-byte header,
/// rounded up to 16, at least 32. (A test checks it against `malloc_usable_size`.)
pub const fn glibc_chunk_size(n: u64) -> u64 {
    let chunk = (n + GLIBC_CHUNK_HEADER + 15) & !15;
    if chunk < 32 {
        32
    } else {
        chunk
    }
}

/// What the system allocator holds for the live Rust block at `ptr`.
///
/// SAFETY (for callers): `ptr` is a live block of the system allocator.
unsafe fn footprint(ptr: *mut u8) -> u64 {
    libc::malloc_usable_size(ptr.cast()) as u64 + GLIBC_CHUNK_HEADER
}

/// Counts a new block of `size` requested bytes (C blocks: the header taken off) and `footprint` held bytes.
fn record_alloc(size: usize, rust_footprint: u64) {
    let _ = COUNTERS.try_with(|c| {
        let (size, footprint) = if c.c_block.get() {
            let size = (size - c_hooks::HEADER) as u64;
            (size, glibc_chunk_size(size))
        } else {
            (size as u64, rust_footprint)
        };
        // Wrapping: a block freed on this thread but allocated on another makes `live` dip below zero for a
        // while; the measured regions never do that, and differences stay exact.
        let live = c.live_bytes.get().wrapping_add(size);
        c.live_bytes.set(live);
        if live as i64 > c.peak_bytes.get() as i64 {
            c.peak_bytes.set(live);
        }
        c.live_footprint
            .set(c.live_footprint.get().wrapping_add(footprint));
        c.allocations.set(c.allocations.get() + 1);
        watch(size as i64);
    });
}

fn record_dealloc(size: usize, rust_footprint: u64) {
    let _ = COUNTERS.try_with(|c| {
        let (size, footprint) = if c.c_block.get() {
            let size = (size - c_hooks::HEADER) as u64;
            (size, glibc_chunk_size(size))
        } else {
            (size as u64, rust_footprint)
        };
        c.live_bytes.set(c.live_bytes.get().wrapping_sub(size));
        c.live_footprint
            .set(c.live_footprint.get().wrapping_sub(footprint));
        c.deallocations.set(c.deallocations.get() + 1);
        watch(-(size as i64));
    });
}

/// A snapshot of the calling thread's counters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Snapshot {
    /// Bytes requested and not yet freed.
    pub live_bytes: u64,
    /// Highest `live_bytes` since the last [`reset_peak`].
    pub peak_bytes: u64,
    /// What the system allocator holds for the live blocks (see the module documentation).
    pub live_footprint: u64,
    /// Allocations made so far (a reallocation counts as one free and one allocation).
    pub allocations: u64,
    /// Blocks allocated and not yet freed.
    pub live_blocks: u64,
}

/// Reads the calling thread's counters.
pub fn snapshot() -> Snapshot {
    COUNTERS.with(|c| Snapshot {
        live_bytes: c.live_bytes.get(),
        peak_bytes: c.peak_bytes.get(),
        live_footprint: c.live_footprint.get(),
        allocations: c.allocations.get(),
        live_blocks: c.allocations.get().wrapping_sub(c.deallocations.get()),
    })
}

/// Restarts the calling thread's peak tracking from the bytes live now.
pub fn reset_peak() {
    COUNTERS.with(|c| c.peak_bytes.set(c.live_bytes.get()));
}

/// Records which corpus file the calling thread is building (`None` when none), for the message printed when
/// the memory limit is reached.
pub fn set_building(file: Option<usize>) {
    COUNTERS.with(|c| c.building.set(file.unwrap_or(usize::MAX)));
}

/// What the system allocator holds for `v`'s buffer (0 when it has none): for taking bookkeeping that was
/// allocated inside a measured region back out of its footprint.
pub fn vec_footprint<T>(v: &Vec<T>) -> u64 {
    if v.capacity() == 0 || std::mem::size_of::<T>() == 0 || !INSTALLED.load(Ordering::Relaxed) {
        return 0;
    }
    // SAFETY: a Vec with capacity owns a live block of the global allocator, which (as `CountingAllocator`
    // has served allocations in this process) is the system allocator.
    unsafe { footprint(v.as_ptr() as *mut u8) }
}

/// [`vec_footprint`] of a string's buffer.
pub fn string_footprint(s: &String) -> u64 {
    if s.capacity() == 0 || !INSTALLED.load(Ordering::Relaxed) {
        return 0;
    }
    // SAFETY: as in `vec_footprint`.
    unsafe { footprint(s.as_ptr() as *mut u8) }
}

/// Whether [`CountingAllocator`] serves this process's allocations (it has served at least one).
pub fn is_installed() -> bool {
    // Force one allocation so a freshly started process answers correctly.
    drop(std::hint::black_box(Box::new(0u8)));
    INSTALLED.load(Ordering::Relaxed)
}

/// The system allocator, counted.
pub struct CountingAllocator;

// SAFETY: every method forwards to `System` with the caller's own layout and pointer, so `System`'s guarantees
// carry over unchanged; the counters are thread-local cells on the side, and `footprint` reads live blocks
// only (before they are freed, after they are allocated). Uncounted, a method forwards and does nothing else.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        INSTALLED.store(true, Ordering::Relaxed);
        if !counting() {
            return System.alloc(layout);
        }
        let ptr = System.alloc(layout);
        if !ptr.is_null() {
            record_alloc(layout.size(), footprint(ptr));
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        INSTALLED.store(true, Ordering::Relaxed);
        if !counting() {
            return System.alloc_zeroed(layout);
        }
        let ptr = System.alloc_zeroed(layout);
        if !ptr.is_null() {
            record_alloc(layout.size(), footprint(ptr));
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if counting() {
            record_dealloc(layout.size(), footprint(ptr));
        }
        System.dealloc(ptr, layout);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if !counting() {
            return System.realloc(ptr, layout, new_size);
        }
        let old_footprint = footprint(ptr);
        let new_ptr = System.realloc(ptr, layout, new_size);
        if !new_ptr.is_null() {
            record_dealloc(layout.size(), old_footprint);
            record_alloc(new_size, footprint(new_ptr));
        }
        new_ptr
    }
}

/// The global allocator of a measuring process: [`CountingAllocator`] under a `cap` limit (none until
/// [`MeasuringAllocator::set_limit`]). Install it with `#[global_allocator]`.
pub struct MeasuringAllocator {
    cap: Cap<CountingAllocator>,
}

impl MeasuringAllocator {
    /// Counting, with no limit.
    pub const fn new() -> MeasuringAllocator {
        MeasuringAllocator {
            cap: Cap::new(CountingAllocator, usize::MAX),
        }
    }

    /// Limits the bytes the whole process holds (every thread, Rust and C blocks, as requested sizes plus
    /// tree-sitter's shim headers). Fails if more than `bytes` are held already.
    pub fn set_limit(&self, bytes: usize) -> anyhow::Result<()> {
        self.cap.set_limit(bytes).map_err(|()| {
            anyhow::anyhow!(
                "the process already holds {} bytes, more than a {bytes}-byte memory limit",
                self.cap.allocated()
            )
        })
    }

    /// The limit in force (`usize::MAX` for none).
    pub fn limit(&self) -> usize {
        self.cap.limit()
    }

    /// Bytes the process holds now, as the limit counts them.
    pub fn allocated(&self) -> usize {
        self.cap.allocated()
    }

    /// Reports that `size` more bytes would cross the limit. Writes to stderr without allocating.
    fn limit_reached(&self, size: usize) {
        report_limit(self.cap.limit(), size);
    }
}

impl Default for MeasuringAllocator {
    fn default() -> Self {
        MeasuringAllocator::new()
    }
}

/// First field of the line printed when the memory limit is reached; then, tab-separated, the limit in bytes,
/// the request that crossed it, and the corpus index of the file being built (`-` when none).
pub const LIMIT_MARKER: &str = "cst-measure: memory limit reached";

/// Writes the limit line to stderr from a stack buffer: no allocation, as the allocator has just refused one.
fn report_limit(limit: usize, size: usize) {
    let building = COUNTERS
        .try_with(|c| c.building.get())
        .unwrap_or(usize::MAX);
    let mut line = [0u8; 160];
    let mut out = std::io::Cursor::new(&mut line[..]);
    let _ = if building == usize::MAX {
        writeln!(out, "{LIMIT_MARKER}\t{limit}\t{size}\t-")
    } else {
        writeln!(out, "{LIMIT_MARKER}\t{limit}\t{size}\t{building}")
    };
    let written = out.position() as usize;
    let _ = std::io::stderr().write_all(&line[..written]);
}

// SAFETY: forwards to `Cap`, which forwards to `CountingAllocator` (see there) or returns null; reporting a
// refusal writes to stderr from a stack buffer and allocates nothing.
unsafe impl GlobalAlloc for MeasuringAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let ptr = self.cap.alloc(layout);
        if ptr.is_null() {
            self.limit_reached(layout.size());
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let ptr = self.cap.alloc_zeroed(layout);
        if ptr.is_null() {
            self.limit_reached(layout.size());
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        self.cap.dealloc(ptr, layout);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let new_ptr = self.cap.realloc(ptr, layout, new_size);
        if new_ptr.is_null() {
            self.limit_reached(new_size);
        }
        new_ptr
    }
}

/// Routes tree-sitter's C allocations (`ts_malloc` and friends) through the global allocator, so they are
/// counted and limited. Idempotent; it must run before any tree-sitter object exists, which is why
/// [`crate::Language::parser`] calls it.
///
/// The grammars' external scanners allocate their per-parser state (Python's indent and delimiter stacks,
/// Rust's one-byte state) with libc's `calloc`/`realloc` directly, as their crates compile them without
/// `TREE_SITTER_REUSE_ALLOCATOR`: those few bytes per parser are the only allocations no figure sees. They
/// belong to the parser, never to a tree.
pub fn route_tree_sitter_allocations() {
    static ROUTED: Once = Once::new();
    ROUTED.call_once(|| {
        // SAFETY: `Once` makes this the first tree-sitter call of the process (all parsers are created through
        // `Language::parser`, which comes here first), so no object allocated by the previous allocator is ever
        // freed by ours. The shims below honour the C contracts of malloc/calloc/realloc/free and never return
        // null for a non-zero size (they abort instead, as tree-sitter's own default does).
        unsafe {
            tree_sitter::set_allocator(Some(tree_sitter::Allocator {
                malloc: c_hooks::malloc,
                calloc: c_hooks::calloc,
                realloc: c_hooks::realloc,
                free: c_hooks::free,
            }));
        }
    });
}

/// C-ABI allocation shims for tree-sitter. C's `free` is not told the size, so each block carries a header
/// with its requested size. The shims allocate through the global allocator (so `cap` limits them), telling the
/// counters that the block has a header that is not part of the requested size.
mod c_hooks {
    use super::*;

    /// Room for the size header, keeping the block aligned like `malloc`'s (16 bytes on 64-bit targets).
    pub(super) const HEADER: usize = 16;
    const ALIGN: usize = 16;

    fn layout_for(size: usize) -> Option<Layout> {
        Layout::from_size_align(size.checked_add(HEADER)?, ALIGN).ok()
    }

    /// Runs an allocator call with the counters told that its block is a C block.
    fn as_c_block<T>(call: impl FnOnce() -> T) -> T {
        let _ = COUNTERS.try_with(|c| c.c_block.set(true));
        let result = call();
        let _ = COUNTERS.try_with(|c| c.c_block.set(false));
        result
    }

    /// Writes the header and returns the pointer tree-sitter sees; aborts when `base` is null (tree-sitter
    /// requires its allocator never to fail; the global allocator has already said why on stderr).
    ///
    /// SAFETY (for callers): `base` is null or a fresh block of `layout_for(size)` bytes.
    unsafe fn finish(base: *mut u8, size: usize) -> *mut c_void {
        if base.is_null() {
            std::process::abort();
        }
        (base as *mut usize).write(size);
        base.add(HEADER) as *mut c_void
    }

    /// SAFETY (for callers): `ptr` came from one of these shims and was not freed; returns (base, size).
    unsafe fn header(ptr: *mut c_void) -> (*mut u8, usize) {
        let base = (ptr as *mut u8).sub(HEADER);
        (base, (base as *const usize).read())
    }

    fn too_large() -> ! {
        report_limit(usize::MAX, usize::MAX);
        std::process::abort();
    }

    pub unsafe extern "C" fn malloc(size: usize) -> *mut c_void {
        let Some(layout) = layout_for(size) else {
            too_large()
        };
        // SAFETY: the layout has a non-zero size (it includes the header).
        finish(as_c_block(|| std::alloc::alloc(layout)), size)
    }

    pub unsafe extern "C" fn calloc(count: usize, size: usize) -> *mut c_void {
        let Some((total, layout)) = count
            .checked_mul(size)
            .and_then(|total| Some((total, layout_for(total)?)))
        else {
            too_large()
        };
        // SAFETY: as in `malloc`; the block is zeroed, header included, then the header is overwritten.
        finish(as_c_block(|| std::alloc::alloc_zeroed(layout)), total)
    }

    pub unsafe extern "C" fn realloc(ptr: *mut c_void, new_size: usize) -> *mut c_void {
        if ptr.is_null() {
            return malloc(new_size);
        }
        let Some(new_layout) = layout_for(new_size) else {
            too_large()
        };
        // SAFETY: tree-sitter only passes pointers these shims returned; the old layout is rebuilt from the
        // stored size exactly as it was allocated.
        let (base, old_size) = header(ptr);
        let old_layout = layout_for(old_size).expect("stored size was valid when allocated");
        let new_base = as_c_block(|| std::alloc::realloc(base, old_layout, new_layout.size()));
        finish(new_base, new_size)
    }

    pub unsafe extern "C" fn free(ptr: *mut c_void) {
        if ptr.is_null() {
            return;
        }
        // SAFETY: as in `realloc`.
        let (base, size) = header(ptr);
        let layout = layout_for(size).expect("stored size was valid when allocated");
        as_c_block(|| std::alloc::dealloc(base, layout));
    }
}
