//! The one place a saved store's file is mapped into memory, and asked which of its pages are resident: the
//! only `unsafe` of the saved form.
//!
//! A [`Map`] is a read-only, shared mapping of a whole file (`memmap2`), kept alive by an `Arc` while any
//! store borrows bytes of it. Mapping costs one system call and no copy; a page is read from the page cache
//! (or the disk) the first time it is touched.

use std::fs::File;
use std::io;
use std::ops::Deref;
use std::sync::Arc;

/// A read-only mapping of one whole file.
pub(crate) struct Map {
    map: memmap2::Mmap,
}

impl Map {
    /// Maps `file` (its length as it is now) read-only.
    pub(crate) fn new(file: &File) -> io::Result<Map> {
        // SAFETY: `memmap2::Mmap::map` is unsafe because Rust's rules on `&[u8]` assume that the bytes do not
        // change while they are borrowed, and another process may write to, or truncate, a mapped file.
        // What this crate does about it:
        // - Our own writes never change a file that may be mapped: a save writes a temporary file beside the
        //   target and renames it over (`saved::write_atomically`), so a mapping keeps the old inode, whole.
        // - The checksums are verified once, at open, over every byte the store will read; a file changed in
        //   place by another program after that is not detected. Its bytes would then change under the store:
        //   every read of them stays bounds-checked (safe code indexes the mapping like any slice, never past
        //   its length as mapped), so the effect is wrong answers or a panic, and a file truncated while
        //   mapped makes a read of a page past its new end raise SIGBUS, which ends the process. That is the
        //   contract of every memory-mapped file reader (the kernel offers no read-only lock that another
        //   writer must respect); a caller that cannot accept it reads the file into memory instead
        //   (`saved::open_bytes`), which costs a copy.
        // The open reads every page to check its checksums, so the pages are mapped in one call
        // (`MAP_POPULATE`) rather than one fault each.
        let map = unsafe { memmap2::MmapOptions::new().populate().map(file)? };
        Ok(Map { map })
    }

    /// How many of the mapping's pages are resident in memory now (`mincore`), and how many it has.
    pub(crate) fn resident_pages(&self) -> io::Result<(u64, u64)> {
        let page = page_size();
        let len = self.map.len();
        if len == 0 {
            return Ok((0, 0));
        }
        let pages = len.div_ceil(page);
        let mut flags = vec![0u8; pages];
        // SAFETY: the range is this mapping's own (`Mmap` starts on a page boundary, and its length rounds up
        // to `pages` whole pages, which the kernel maps), and `flags` has one byte per page, as `mincore`
        // writes. `mincore` only reads the page tables; it touches no byte of the mapping.
        let result = unsafe {
            libc::mincore(
                self.map.as_ptr() as *mut libc::c_void,
                len,
                flags.as_mut_ptr(),
            )
        };
        if result != 0 {
            return Err(io::Error::last_os_error());
        }
        let resident = flags.iter().filter(|&&f| f & 1 != 0).count();
        Ok((resident as u64, pages as u64))
    }
}

impl Deref for Map {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.map
    }
}

/// The system's page size in bytes.
pub(crate) fn page_size() -> usize {
    // SAFETY: `sysconf` reads a constant of the system; it has no precondition.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(size)
        .ok()
        .filter(|&s| s > 0)
        .unwrap_or(4096)
}

/// Drops the page cache's clean pages of `file` (`posix_fadvise(POSIX_FADV_DONTNEED)`), so that the next
/// open reads it again: for measuring what an open touches. A hint: the kernel may keep some pages.
pub(crate) fn evict(file: &File) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    // SAFETY: the descriptor is `file`'s own and open for the call; the advice changes no memory of ours.
    let result = unsafe { libc::posix_fadvise(file.as_raw_fd(), 0, 0, libc::POSIX_FADV_DONTNEED) };
    if result != 0 {
        return Err(io::Error::from_raw_os_error(result));
    }
    Ok(())
}

/// Keeps a [`Map`] (or bytes read into memory) alive for what borrows it.
pub(crate) type Shared = Arc<dyn Deref<Target = [u8]> + Send + Sync>;
