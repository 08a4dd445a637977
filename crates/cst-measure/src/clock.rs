//! The calling thread's CPU time (`CLOCK_THREAD_CPUTIME_ID`): what a same-process pair is timed with, so that
//! the moments the thread waits for a core (the compare run's processes and anything else on the machine
//! share the cores) count for neither side. Nanosecond resolution; one `clock_gettime` call per reading
//! (a system call, under a microsecond, read once per side of a turn).
//!
//! The one `unsafe` outside [`crate::alloc`]: std has no per-thread CPU clock.

use std::time::Duration;

/// The calling thread's CPU time so far.
pub fn thread_cpu_time() -> Duration {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid, writable timespec for the duration of the call, and
    // CLOCK_THREAD_CPUTIME_ID is a clock every Linux kernel this project runs on provides.
    let status = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
    assert_eq!(status, 0, "the thread CPU clock is unavailable");
    Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
}

/// CPU time of the calling thread since it was started.
pub struct CpuClock(Duration);

impl CpuClock {
    pub fn now() -> CpuClock {
        CpuClock(thread_cpu_time())
    }

    pub fn elapsed(&self) -> Duration {
        thread_cpu_time().saturating_sub(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::CpuClock;

    #[test]
    fn cpu_time_advances_with_work_and_not_with_sleep() {
        let clock = CpuClock::now();
        std::thread::sleep(std::time::Duration::from_millis(50));
        let slept = clock.elapsed();
        assert!(slept < std::time::Duration::from_millis(20), "{slept:?}");
        let clock = CpuClock::now();
        let mut x = 0u64;
        for i in 0..20_000_000u64 {
            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(i));
        }
        assert!(
            clock.elapsed() > std::time::Duration::from_micros(100),
            "{x}"
        );
    }
}
