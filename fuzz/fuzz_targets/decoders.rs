//! Arbitrary bytes behind a bzip2 or gzip magic: the input layer (serial and
//! block-parallel) must never panic or loop; it answers or errors cleanly.
#![no_main]

use libfuzzer_sys::fuzz_target;
use logbench::{Input, Query, STRATEGIES};

fuzz_target!(|data: &[u8]| {
    for magic in [&b"BZh9"[..], b"\x1f\x8b\x08\x00"] {
        let bytes = [magic, data].concat();
        for name in ["swar", "parallel"] {
            let strategy = STRATEGIES.iter().find(|s| s.name == name).unwrap();
            let _ = (strategy.run)(
                Input::from_bytes("fuzz", bytes.clone()),
                &Query::default().with_threads(2),
            );
        }
    }
});
