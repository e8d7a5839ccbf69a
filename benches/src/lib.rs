//! Shared pieces of the benchmarks: synthetic config directories and an allocation
//! counter for memory per resource.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use tempfile::TempDir;

use cpg_infra::synthetic::{synthetic_config, write_config_dir};

/// Counts the bytes currently allocated through it, and the most at once since
/// [`reset_peak`].
pub struct CountingAllocator;

static ALLOCATED: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

#[allow(unsafe_code)]
// SAFETY: every call is forwarded unchanged to the system allocator, which upholds
// GlobalAlloc's contract; the counter only observes sizes.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let now = ALLOCATED.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK.fetch_max(now, Ordering::Relaxed);
        // SAFETY: same layout the caller gave us, forwarded to the system allocator.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        ALLOCATED.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: `ptr` came from `alloc` above with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

/// Bytes allocated now.
pub fn allocated() -> usize {
    ALLOCATED.load(Ordering::Relaxed)
}

/// The most bytes allocated at once since the last [`reset_peak`].
pub fn peak() -> usize {
    PEAK.load(Ordering::Relaxed)
}

/// Starts a new peak from what is allocated now.
pub fn reset_peak() {
    PEAK.store(allocated(), Ordering::Relaxed);
}

/// A synthetic config directory of `datasets` datasets under the temporary
/// directory, written afresh (so it is always what the generator writes now) and
/// removed when dropped.
pub fn config_dir(datasets: usize) -> TempDir {
    let dir = tempfile::Builder::new()
        .prefix(&format!("cpg-infra-bench-{datasets}-"))
        .tempdir()
        .expect("temporary directory");
    let config = synthetic_config(datasets, 42);
    write_config_dir(&config, dir.path()).expect("write the synthetic config");
    dir
}

/// CPU time (user + system) from a `/proc/…/stat` file, in clock ticks of
/// 1/100 s (Linux's USER_HZ).
fn proc_cpu(path: &str) -> Option<std::time::Duration> {
    let stat = std::fs::read_to_string(path).ok()?;
    // Fields after the command name (which is in parentheses and may hold
    // spaces): state is field 3, utime 14, stime 15.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(std::time::Duration::from_millis(ticks * 10))
}

/// CPU time used so far by the calling thread and by the whole process (Linux
/// only; `None` elsewhere). Resolution: 10 ms.
pub fn cpu_times() -> Option<(std::time::Duration, std::time::Duration)> {
    Some((
        proc_cpu("/proc/thread-self/stat")?,
        proc_cpu("/proc/self/stat")?,
    ))
}
