//! Raw bytes → every rung (and `parallel` at several thread counts and chunk
//! sizes) must give exactly the answer of the first rung, `naive-regex`, whose
//! agreement with the plain reference is what the test suite checks; or all
//! must fail.
#![no_main]

use libfuzzer_sys::fuzz_target;
use logbench::{Input, Query, STRATEGIES};

fuzz_target!(|data: &[u8]| {
    // The first byte picks the buffer size, so line edges land everywhere.
    let (buffer, text) = match data.split_first() {
        Some((&b, rest)) => (usize::from(b % 64) + 1, rest),
        None => (1, data),
    };
    let run = |name: &str, threads: usize| {
        let strategy = STRATEGIES.iter().find(|s| s.name == name).unwrap();
        let query = Query::new("cpu_usage")
            .with_buffer_size(buffer)
            .with_threads(threads);
        (strategy.run)(Input::from_bytes("fuzz", text.to_vec()), &query)
            .map(|a| a.key())
            .map_err(|_| ())
    };
    let expected = run("naive-regex", 1);
    for strategy in STRATEGIES {
        for threads in [1, 2, 3] {
            assert_eq!(
                run(strategy.name, threads),
                expected,
                "{} with {threads} threads",
                strategy.name
            );
        }
    }
});
