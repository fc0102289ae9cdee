//! The throughput chart, an SVG written by hand: plotters needs system fonts
//! to lay out text, which a fresh machine may lack.

use std::fmt::Write as _;

use super::criterion::find;
use super::{BenchResult, Record};
use crate::input::Format;
use crate::strategy::STRATEGIES;

/// A horizontal bar chart of MB/s per rung, one panel per format, log scale.
/// Hand-written SVG: plotters needs system fonts (its `ttf` feature) to lay
/// out text, which a fresh machine may lack; this needs none.
pub fn throughput_svg(record: &Record) -> String {
    const BAR: f64 = 18.0;
    const LEFT: f64 = 150.0;
    const WIDTH: f64 = 560.0;
    let (low, high) = (10f64.log10(), 10_000f64.log10());
    let x = |mbps: f64| LEFT + WIDTH * ((mbps.max(10.0).log10() - low) / (high - low));
    let mut body = String::new();
    let mut y = 30.0;
    for format in Format::ALL {
        let _ = writeln!(
            body,
            r#"<text x="10" y="{y}" font-weight="bold">{}</text>"#,
            format.name()
        );
        y += 8.0;
        let names = std::iter::once("floor").chain(STRATEGIES.iter().map(|s| s.name));
        for name in names {
            let Some(mbps) =
                find(&record.benches, format.name(), name).and_then(BenchResult::mb_per_s)
            else {
                continue;
            };
            let colour = if name == "floor" { "#999" } else { "#4a7fb5" };
            let _ = writeln!(
                body,
                r#"<text x="{}" y="{}" text-anchor="end">{name}</text><rect x="{LEFT}" y="{y}" width="{:.1}" height="{}" fill="{colour}"/><text x="{:.1}" y="{}">{mbps:.0}</text>"#,
                LEFT - 6.0,
                y + BAR - 5.0,
                x(mbps) - LEFT,
                BAR - 4.0,
                x(mbps) + 4.0,
                y + BAR - 5.0
            );
            y += BAR;
        }
        y += 22.0;
    }
    let mut axis = String::new();
    for tick in [10.0, 100.0, 1000.0, 10_000.0] {
        let _ = writeln!(
            axis,
            r##"<line x1="{0:.1}" y1="20" x2="{0:.1}" y2="{1}" stroke="#ddd"/><text x="{0:.1}" y="{2}" text-anchor="middle">{tick}</text>"##,
            x(tick),
            y - 10.0,
            y + 4.0
        );
    }
    format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{}" height="{}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
{axis}{body}<text x="{}" y="{}" text-anchor="middle">MB/s of uncompressed text (log scale), 1 thread, median</text>
</svg>
"#,
        LEFT + WIDTH + 60.0,
        y + 30.0,
        LEFT + WIDTH / 2.0,
        y + 22.0
    )
}
