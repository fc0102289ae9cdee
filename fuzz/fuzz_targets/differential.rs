//! Raw bytes → every rung, and `parallel` at 1–3 threads both on a stream and
//! on a regular file (its `pread` chunks), must give exactly the answer of the
//! first rung, `naive-regex`, whose agreement with the plain reference is what
//! the test suite checks; or all must fail. Buffers of 1-64 bytes put line
//! edges everywhere; buffers of 128 bytes to 8 KiB let the fast paths run.
#![no_main]

#[path = "common.rs"]
mod common;

use common::{file_input, run};
use libfuzzer_sys::fuzz_target;
use logbench::{Input, Query, STRATEGIES};

fuzz_target!(|data: &[u8]| {
    // The first byte picks the buffer (and chunk) size: 1-64 bytes, so line
    // edges land everywhere, or 128 bytes and up, so the fast paths (which
    // need 64-byte blocks and slack, and mask-split's 128-byte window) run.
    let (buffer, text) = match data.split_first() {
        Some((&b, rest)) if b < 128 => (usize::from(b % 64) + 1, rest),
        Some((&b, rest)) => (64 * usize::from(b - 126), rest),
        None => (1, data),
    };
    let stream = || Input::from_bytes("fuzz", text.to_vec());
    let query = Query::new("cpu_usage").with_buffer_size(buffer);
    let expected = run("naive-regex", stream(), &query);
    for strategy in STRATEGIES.iter().filter(|s| s.name != "parallel") {
        assert_eq!(run(strategy.name, stream(), &query), expected, "{}", strategy.name);
    }
    for threads in [1, 2, 3] {
        let query = query.clone().with_threads(threads);
        assert_eq!(run("parallel", stream(), &query), expected, "stream, {threads} threads");
        assert_eq!(run("parallel", file_input(text), &query), expected, "file, {threads} threads");
    }
});
