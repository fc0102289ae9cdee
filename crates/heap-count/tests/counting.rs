//! The counter's behaviour, checked in a program that installs it.
//!
//! One `main` runs the checks in turn: the counters are global, so libtest's
//! harness threads would be counted too.

use std::hint::black_box;
use std::sync::Barrier;

use heap_count::{Counting, Heap, Refused, measure};

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn one_allocation_is_counted_with_its_size() {
    let ((), heap) = measure(|| drop(black_box(vec![0u64; 1000]))).unwrap();
    assert_eq!(
        heap,
        Heap {
            allocations: 1,
            bytes: 8000,
            peak: 8000,
            retained: 0
        }
    );
}

fn what_the_run_keeps_is_retained() {
    let (kept, heap) = measure(|| black_box(vec![1u8; 4096])).unwrap();
    assert_eq!(heap.retained, 4096);
    assert_eq!(heap.peak, 4096);
    drop(kept);
}

fn a_growing_vec_counts_each_reallocation_and_peaks_at_its_capacity() {
    let (v, heap) = measure(|| {
        let mut v = Vec::new();
        for i in 0..100_000u64 {
            v.push(black_box(i));
        }
        v
    })
    .unwrap();
    assert!(heap.allocations > 10, "{heap:?}");
    assert_eq!(heap.retained as usize, v.capacity() * 8);
    // realloc replaces the old block, so the peak is the final size, not old + new.
    assert_eq!(heap.peak as usize, v.capacity() * 8);
    assert!(heap.bytes as usize > v.capacity() * 8, "{heap:?}");
}

fn freeing_older_memory_makes_retained_negative_and_leaves_peak_at_zero() {
    let old = black_box(vec![0u8; 10_000]);
    let ((), heap) = measure(|| drop(old)).unwrap();
    assert_eq!(heap.allocations, 0);
    assert_eq!(heap.retained, -10_000);
    assert_eq!(heap.peak, 0);
}

fn nothing_outside_a_measurement_is_counted() {
    let before = black_box(vec![0u8; 1 << 20]);
    let ((), heap) = measure(|| ()).unwrap();
    drop(before);
    assert_eq!(heap, Heap::default());
}

fn every_thread_is_counted_and_the_peak_sees_them_together() {
    const BLOCK: usize = 1 << 20;
    let barrier = Barrier::new(2);
    let ((), heap) = measure(|| {
        std::thread::scope(|scope| {
            for _ in 0..2 {
                scope.spawn(|| {
                    let block = black_box(vec![1u8; BLOCK]);
                    barrier.wait(); // both blocks are live here
                    barrier.wait();
                    drop(block);
                });
            }
        })
    })
    .unwrap();
    assert!(heap.allocations >= 2, "{heap:?}");
    assert!(heap.peak as usize >= 2 * BLOCK, "{heap:?}");
    assert!(heap.bytes as usize >= 2 * BLOCK, "{heap:?}");
}

fn a_nested_measurement_is_refused() {
    let (inner, _) = measure(|| measure(|| ()).map(|_| ())).unwrap();
    assert_eq!(inner, Err(Refused::Busy));
    // and the outer one released the counters when it ended
    assert!(measure(|| ()).is_ok());
}

fn main() {
    let checks: [(&str, fn()); 7] = [
        ("one allocation", one_allocation_is_counted_with_its_size),
        ("retained", what_the_run_keeps_is_retained),
        (
            "growing vec",
            a_growing_vec_counts_each_reallocation_and_peaks_at_its_capacity,
        ),
        (
            "freeing older memory",
            freeing_older_memory_makes_retained_negative_and_leaves_peak_at_zero,
        ),
        ("outside", nothing_outside_a_measurement_is_counted),
        (
            "threads",
            every_thread_is_counted_and_the_peak_sees_them_together,
        ),
        ("nested", a_nested_measurement_is_refused),
    ];
    for (name, check) in checks {
        check();
        println!("heap-count: {name} ... ok");
    }
}
