use std::time::Instant;
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let path = std::path::Path::new(&args[1]);
    for _ in 0..3 {
        let t = Instant::now();
        let n = logbench::floor::count_newlines(logbench::Input::open(path).unwrap(), 256 * 1024)
            .unwrap();
        let floor = t.elapsed();
        let t = Instant::now();
        let a = (logbench::strategy::find(&args[2]).unwrap().run)(
            logbench::Input::open(path).unwrap(),
            &logbench::Query::default(),
        )
        .unwrap();
        let rung = t.elapsed();
        println!(
            "floor {:?} ({n}) rung {:?} ratio {:.2} {:?}",
            floor,
            rung,
            rung.as_secs_f64() / floor.as_secs_f64(),
            a.key()
        );
    }
}
