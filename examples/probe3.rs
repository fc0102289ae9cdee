use std::time::Instant;
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let text = std::fs::read(&args[1]).unwrap();
    let needle = logbench::scan::Needle::new(b"cpu_usage");
    for _ in 0..5 {
        let t = Instant::now();
        let mut ans = logbench::Answer::new();
        logbench::scan::fold_lines_fast(&text, &needle, &mut ans);
        let d = t.elapsed();
        println!("fast {d:?} {}", ans.count);
    }
}
