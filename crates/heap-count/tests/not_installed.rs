//! Without `Counting` as the global allocator, a measurement says so instead
//! of reporting zeros.

#[test]
fn a_measurement_without_the_allocator_is_refused() {
    assert_eq!(
        heap_count::measure(|| ()).map(|_| ()),
        Err(heap_count::Refused::NotInstalled)
    );
}
