//! Counting the heap of one run: allocations, bytes and peak.
//!
//! The case study's memory question (a list of five million ints against a
//! running sum) is answered by counting what the program asks of the
//! allocator. [`Counting`] wraps the system allocator; a binary installs it
//! with `#[global_allocator]` and [`measure`] counts every allocation of every
//! thread while its closure runs.
//!
//! Why not dhat, the usual choice: dhat's allocator takes a global lock on
//! every allocation even when no profile runs, and records a backtrace per
//! allocation while one does. The baseline rung allocates three times per
//! line, 15 million times on the case study's file, so dhat would slow every
//! run of the CLI and make a profile take minutes. Here, outside a
//! measurement, an allocation costs one relaxed load of a flag more than the
//! system allocator; inside, four atomic adds.
//!
//! The `unsafe` here is the `GlobalAlloc` contract itself: each method passes
//! its arguments unchanged to [`System`], whose contract is the same.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering::Relaxed};

/// The system allocator, counting while [`measure`] runs.
#[derive(Debug, Default, Clone, Copy)]
pub struct Counting;

/// True while a measurement counts.
static ON: AtomicBool = AtomicBool::new(false);
/// Allocations, reallocations included.
static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);
/// Bytes asked for: a reallocation counts its new size.
static BYTES: AtomicU64 = AtomicU64::new(0);
/// Bytes allocated minus bytes freed since the measurement began. Freeing
/// what was allocated before it makes this negative.
static LIVE: AtomicI64 = AtomicI64::new(0);
/// The highest value `LIVE` took.
static PEAK: AtomicI64 = AtomicI64::new(0);

fn size(bytes: usize) -> i64 {
    i64::try_from(bytes).unwrap_or(i64::MAX)
}

/// Count a request for `new` bytes that replaces `old` bytes (0 for a fresh
/// allocation). Each `fetch_add` returns a distinct point of `LIVE`'s history,
/// so the maximum over them is the true peak even with many threads.
#[inline]
fn count_alloc(new: usize, old: usize) {
    ALLOCATIONS.fetch_add(1, Relaxed);
    BYTES.fetch_add(new as u64, Relaxed);
    let delta = size(new) - size(old);
    let live = LIVE.fetch_add(delta, Relaxed) + delta;
    PEAK.fetch_max(live, Relaxed);
}

#[inline]
fn count_free(old: usize) {
    LIVE.fetch_sub(size(old), Relaxed);
}

// SAFETY: every method forwards its arguments unchanged to `System`, which
// upholds `GlobalAlloc`'s contract; the counting around it touches only
// atomics and never allocates, so it cannot re-enter the allocator.
unsafe impl GlobalAlloc for Counting {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller meets `alloc`'s contract (non-zero size), which
        // is `System.alloc`'s too.
        let ptr = unsafe { System.alloc(layout) };
        if ON.load(Relaxed) && !ptr.is_null() {
            count_alloc(layout.size(), 0);
        }
        ptr
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if ON.load(Relaxed) && !ptr.is_null() {
            count_alloc(layout.size(), 0);
        }
        ptr
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller guarantees `ptr` came from this allocator (so
        // from `System`) with this `layout`.
        unsafe { System.dealloc(ptr, layout) };
        if ON.load(Relaxed) {
            count_free(layout.size());
        }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller guarantees `ptr` came from this allocator (so
        // from `System`) with `layout`, and that `new_size` is valid for it.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if ON.load(Relaxed) && !new.is_null() {
            count_alloc(new_size, layout.size());
        }
        new
    }
}

/// What one measured run asked of the heap.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Heap {
    /// Allocations and reallocations.
    pub allocations: u64,
    /// Bytes requested, a reallocation counting its new size (dhat's "total").
    pub bytes: u64,
    /// The most bytes live at once beyond those live when the run began.
    pub peak: u64,
    /// Bytes still live at the end beyond those live at the start; negative
    /// when the run freed more than it kept.
    pub retained: i64,
}

/// Why a measurement could not run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// [`Counting`] is not this program's global allocator.
    NotInstalled,
    /// Another measurement is running; the counters are global.
    Busy,
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Refused::NotInstalled => {
                "heap counting needs heap_count::Counting as the program's global allocator"
            }
            Refused::Busy => "another heap measurement is already running",
        })
    }
}

impl std::error::Error for Refused {}

/// Run `work` and count every allocation made meanwhile, by any thread.
///
/// Threads that outlive `work` stop being counted when it returns; memory
/// they free later is not subtracted.
pub fn measure<T>(work: impl FnOnce() -> T) -> Result<(T, Heap), Refused> {
    if ON.swap(true, Relaxed) {
        return Err(Refused::Busy);
    }
    let before = ALLOCATIONS.load(Relaxed);
    drop(black_box(Box::new(0u64)));
    if ALLOCATIONS.load(Relaxed) == before {
        ON.store(false, Relaxed);
        return Err(Refused::NotInstalled);
    }
    for counter in [&ALLOCATIONS, &BYTES] {
        counter.store(0, Relaxed);
    }
    for counter in [&LIVE, &PEAK] {
        counter.store(0, Relaxed);
    }
    let result = work();
    ON.store(false, Relaxed);
    let heap = Heap {
        allocations: ALLOCATIONS.load(Relaxed),
        bytes: BYTES.load(Relaxed),
        peak: PEAK.load(Relaxed).max(0) as u64,
        retained: LIVE.load(Relaxed),
    };
    Ok((result, heap))
}
