//! Heap allocations per call, split by runtime: the global allocator wraps
//! the real one and, while counting is switched on, adds every allocation
//! to the counters of the thread group that made it.
//!
//! Off, it costs one relaxed load per allocation, so the timed runs are not
//! disturbed; counting is only switched on for the sequential allocation
//! runs.

use std::{
    alloc::{GlobalAlloc, Layout},
    cell::Cell,
    sync::atomic::{AtomicBool, AtomicU64, Ordering},
    time::{Duration, Instant},
};

use crate::measure::Group;

/// Wraps the allocator that does the work.
pub struct Counting<A>(pub A);

static COUNTING: AtomicBool = AtomicBool::new(false);

const GROUPS: usize = 4;

/// Per group: allocations (reallocations included) and bytes asked for.
static ALLOCATIONS: [AtomicU64; GROUPS] = [const { AtomicU64::new(0) }; GROUPS];
static BYTES: [AtomicU64; GROUPS] = [const { AtomicU64::new(0) }; GROUPS];

thread_local! {
    // `const` and without a destructor: reading it allocates nothing, so
    // the allocator may read it.
    static THREAD_GROUP: Cell<usize> = const { Cell::new(index(Group::Other)) };
}

const fn index(group: Group) -> usize {
    match group {
        Group::Upstream => 0,
        Group::Facade => 1,
        Group::Client => 2,
        // sqlx starts its SQLite threads itself, so they cannot be tagged.
        Group::Store | Group::Other => 3,
    }
}

/// Counts this thread's allocations under `group` from now on.
pub fn tag_thread(group: Group) {
    THREAD_GROUP.with(|cell| cell.set(index(group)));
}

fn record(bytes: usize) {
    if COUNTING.load(Ordering::Relaxed) {
        let group = THREAD_GROUP
            .try_with(Cell::get)
            .unwrap_or(index(Group::Other));
        ALLOCATIONS[group].fetch_add(1, Ordering::Relaxed);
        BYTES[group].fetch_add(bytes as u64, Ordering::Relaxed);
    }
}

// SAFETY: every method forwards to the wrapped allocator with the caller's
// arguments unchanged; counting touches only atomics and a const thread
// local, and never allocates.
unsafe impl<A: GlobalAlloc> GlobalAlloc for Counting<A> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        record(layout.size());
        // SAFETY: the caller upholds `alloc`'s contract for `layout`.
        unsafe { self.0.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        record(layout.size());
        // SAFETY: as for `alloc`.
        unsafe { self.0.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from this allocator with `layout`.
        unsafe { self.0.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        record(new_size);
        // SAFETY: the caller upholds `realloc`'s contract.
        unsafe { self.0.realloc(ptr, layout, new_size) }
    }
}

/// Allocations and bytes by group over a stretch of counting.
#[derive(Debug, Clone, Copy, Default)]
pub struct Counts {
    allocations: [u64; GROUPS],
    bytes: [u64; GROUPS],
}

impl Counts {
    pub fn allocations(&self, group: Group) -> u64 {
        self.allocations[index(group)]
    }

    pub fn bytes(&self, group: Group) -> u64 {
        self.bytes[index(group)]
    }

    pub fn all_allocations(&self) -> u64 {
        self.allocations.iter().sum()
    }
}

/// Counts what `f` allocates, by group. Counting is global: nothing else
/// should be running meanwhile.
pub fn count<R>(f: impl FnOnce() -> R) -> (R, Counts) {
    let before = start();
    let output = f();
    (output, stop(&before))
}

fn start() -> Counts {
    let before = snapshot();
    COUNTING.store(true, Ordering::SeqCst);
    before
}

fn stop(before: &Counts) -> Counts {
    COUNTING.store(false, Ordering::SeqCst);
    let after = snapshot();
    let mut counts = Counts::default();
    for group in 0..GROUPS {
        counts.allocations[group] = after.allocations[group] - before.allocations[group];
        counts.bytes[group] = after.bytes[group] - before.bytes[group];
    }
    counts
}

/// What calls made one at a time allocated.
#[derive(Debug, Clone, Copy)]
pub struct PerCall {
    calls: u64,
    counts: Counts,
}

impl PerCall {
    /// Calls `call` one at a time, counting, until `budget` has passed and
    /// at least `min_calls` were made. Stops at the first failed call.
    pub async fn measure<F, Fut>(budget: Duration, min_calls: u64, call: F) -> Result<Self, String>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<(), String>>,
    {
        let started = Instant::now();
        let before = start();
        let mut calls = 0;
        while calls < min_calls || started.elapsed() < budget {
            if let Err(err) = call().await {
                stop(&before);
                return Err(err);
            }
            calls += 1;
        }
        Ok(Self {
            calls,
            counts: stop(&before),
        })
    }

    pub fn allocations(&self, group: Group) -> f64 {
        self.counts.allocations(group) as f64 / self.calls.max(1) as f64
    }

    pub fn bytes(&self, group: Group) -> f64 {
        self.counts.bytes(group) as f64 / self.calls.max(1) as f64
    }
}

fn snapshot() -> Counts {
    let mut counts = Counts::default();
    for group in 0..GROUPS {
        counts.allocations[group] = ALLOCATIONS[group].load(Ordering::SeqCst);
        counts.bytes[group] = BYTES[group].load(Ordering::SeqCst);
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_this_threads_allocations_under_its_group() {
        tag_thread(Group::Client);
        let (kept, counts) = count(|| std::hint::black_box(vec![0u8; 1000]));
        assert_eq!(kept.len(), 1000);
        assert!(counts.allocations(Group::Client) >= 1, "{counts:?}");
        assert!(counts.bytes(Group::Client) >= 1000, "{counts:?}");
        assert_eq!(counts.allocations(Group::Facade), 0, "{counts:?}");
    }
}
