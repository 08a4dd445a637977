//! Allocator-level memory accounting: the only place in the project with `unsafe` code.
//!
//! [`CountingAllocator`] wraps the system allocator and keeps, per thread, the bytes live now, the peak since
//! the last [`reset_peak`], and the number of allocations and frees. Binaries that measure install it
//! with `#[global_allocator]`. tree-sitter allocates its trees from C with `malloc`, which a Rust global
//! allocator never sees; [`route_tree_sitter_allocations`] points tree-sitter's allocator hooks at shims that
//! count through the same figures. Every figure is the *requested* size (no allocator headers or rounding), for
//! Rust and C allocations alike.
//!
//! (The `cap` crate counts live bytes only; we also need allocation counts and a resettable peak, so this
//! module keeps its own counters.)

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::ffi::c_void;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Once;

/// The counters of one thread. Attribution is per thread so that a measurement on one thread is never
/// disturbed by another (a test harness, a progress bar); all measured work runs on one thread.
struct Counters {
    live_bytes: Cell<u64>,
    peak_bytes: Cell<u64>,
    allocations: Cell<u64>,
    deallocations: Cell<u64>,
}

thread_local! {
    // Const-initialised and without a destructor, so reading it never allocates and works during thread exit.
    static COUNTERS: Counters = const {
        Counters {
            live_bytes: Cell::new(0),
            peak_bytes: Cell::new(0),
            allocations: Cell::new(0),
            deallocations: Cell::new(0),
        }
    };
}

static INSTALLED: AtomicBool = AtomicBool::new(false);

fn record_alloc(size: usize) {
    let _ = COUNTERS.try_with(|c| {
        // Wrapping: a block freed on this thread but allocated on another makes `live` dip below zero for a
        // while; the measured regions never do that, and differences stay exact.
        let live = c.live_bytes.get().wrapping_add(size as u64);
        c.live_bytes.set(live);
        if live as i64 > c.peak_bytes.get() as i64 {
            c.peak_bytes.set(live);
        }
        c.allocations.set(c.allocations.get() + 1);
    });
}

fn record_dealloc(size: usize) {
    let _ = COUNTERS.try_with(|c| {
        c.live_bytes
            .set(c.live_bytes.get().wrapping_sub(size as u64));
        c.deallocations.set(c.deallocations.get() + 1);
    });
}

/// A snapshot of the calling thread's counters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Snapshot {
    /// Bytes allocated and not yet freed.
    pub live_bytes: u64,
    /// Highest `live_bytes` since the last [`reset_peak`].
    pub peak_bytes: u64,
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
        allocations: c.allocations.get(),
        live_blocks: c.allocations.get().wrapping_sub(c.deallocations.get()),
    })
}

/// Restarts the calling thread's peak tracking from the bytes live now.
pub fn reset_peak() {
    COUNTERS.with(|c| c.peak_bytes.set(c.live_bytes.get()));
}

/// Whether [`CountingAllocator`] is this process's global allocator (it has served at least one allocation).
pub fn is_installed() -> bool {
    // Force one allocation so a freshly started process answers correctly.
    drop(std::hint::black_box(Box::new(0u8)));
    INSTALLED.load(Ordering::Relaxed)
}

/// The system allocator, counted. Install it with `#[global_allocator]`.
pub struct CountingAllocator;

// SAFETY: every method forwards to `System` with the caller's own layout and pointer, so `System`'s guarantees
// carry over unchanged; the counters are only atomics on the side.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        INSTALLED.store(true, Ordering::Relaxed);
        let ptr = System.alloc(layout);
        if !ptr.is_null() {
            record_alloc(layout.size());
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        INSTALLED.store(true, Ordering::Relaxed);
        let ptr = System.alloc_zeroed(layout);
        if !ptr.is_null() {
            record_alloc(layout.size());
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout);
        record_dealloc(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let new_ptr = System.realloc(ptr, layout, new_size);
        if !new_ptr.is_null() {
            record_dealloc(layout.size());
            record_alloc(new_size);
        }
        new_ptr
    }
}

/// Routes tree-sitter's C allocations (`ts_malloc` and friends) through the counters. Idempotent; it must run
/// before any tree-sitter object exists, which is why [`crate::Language::parser`] calls it.
pub fn route_tree_sitter_allocations() {
    static ROUTED: Once = Once::new();
    ROUTED.call_once(|| {
        // SAFETY: `Once` makes this the first tree-sitter call of the process (all parsers are created through
        // `Language::parser`, which comes here first), so no object allocated by the previous allocator is ever
        // freed by ours. The shims below honour the C contracts of malloc/calloc/realloc/free.
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
/// with its requested size; the counters see only the requested size, like Rust allocations.
mod c_hooks {
    use super::*;

    /// Room for the size header, keeping the block aligned like `malloc`'s (16 bytes on 64-bit targets).
    const HEADER: usize = 16;
    const ALIGN: usize = 16;

    fn layout_for(size: usize) -> Option<Layout> {
        Layout::from_size_align(size.checked_add(HEADER)?, ALIGN).ok()
    }

    /// Writes the header and returns the pointer tree-sitter sees, or null when `base` is null.
    ///
    /// SAFETY (for callers): `base` is null or a fresh block of `layout_for(size)` bytes.
    unsafe fn finish(base: *mut u8, size: usize) -> *mut c_void {
        if base.is_null() {
            return std::ptr::null_mut();
        }
        (base as *mut usize).write(size);
        record_alloc(size);
        base.add(HEADER) as *mut c_void
    }

    /// SAFETY (for callers): `ptr` came from one of these shims and was not freed; returns (base, size).
    unsafe fn header(ptr: *mut c_void) -> (*mut u8, usize) {
        let base = (ptr as *mut u8).sub(HEADER);
        (base, (base as *const usize).read())
    }

    pub unsafe extern "C" fn malloc(size: usize) -> *mut c_void {
        match layout_for(size) {
            // SAFETY: the layout has a non-zero size (it includes the header).
            Some(layout) => finish(System.alloc(layout), size),
            None => std::ptr::null_mut(),
        }
    }

    pub unsafe extern "C" fn calloc(count: usize, size: usize) -> *mut c_void {
        match count
            .checked_mul(size)
            .and_then(|total| Some((total, layout_for(total)?)))
        {
            // SAFETY: as in `malloc`; the block is zeroed, header included, then the header is overwritten.
            Some((total, layout)) => finish(System.alloc_zeroed(layout), total),
            None => std::ptr::null_mut(),
        }
    }

    pub unsafe extern "C" fn realloc(ptr: *mut c_void, new_size: usize) -> *mut c_void {
        if ptr.is_null() {
            return malloc(new_size);
        }
        let Some(new_layout) = layout_for(new_size) else {
            return std::ptr::null_mut();
        };
        // SAFETY: tree-sitter only passes pointers these shims returned; the old layout is rebuilt from the
        // stored size exactly as it was allocated.
        let (base, old_size) = header(ptr);
        let old_layout = layout_for(old_size).expect("stored size was valid when allocated");
        let new_base = System.realloc(base, old_layout, new_layout.size());
        if new_base.is_null() {
            return std::ptr::null_mut();
        }
        record_dealloc(old_size);
        finish(new_base, new_size)
    }

    pub unsafe extern "C" fn free(ptr: *mut c_void) {
        if ptr.is_null() {
            return;
        }
        // SAFETY: as in `realloc`.
        let (base, size) = header(ptr);
        System.dealloc(
            base,
            layout_for(size).expect("stored size was valid when allocated"),
        );
        record_dealloc(size);
    }
}
