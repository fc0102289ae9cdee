use std::time::Instant;
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let text = std::fs::read(&args[1]).unwrap();
    for _ in 0..3 {
        let t = Instant::now();
        let n = memchr::memchr_iter(b'\n', &text).count();
        let a = t.elapsed();
        let t = Instant::now();
        let mut s = 0usize;
        for p in memchr::memchr_iter(b'\n', &text) {
            s = s.wrapping_add(p);
        }
        let b = t.elapsed();
        let t = Instant::now();
        let mut s2 = 0usize;
        let mut start = 0;
        while let Some(p) = memchr::memchr(b'\n', &text[start..]) {
            s2 = s2.wrapping_add(p);
            start += p + 1;
        }
        let c = t.elapsed();
        let t = Instant::now();
        let mut ans = logbench::Answer::new();
        logbench::scan::fold_lines(&text, b"cpu_usage", &mut ans);
        let d = t.elapsed();
        println!(
            "count {a:?} iter {b:?} memchr-loop {c:?} fold_lines {d:?} {n} {s} {s2} {}",
            ans.count
        );
    }
}
