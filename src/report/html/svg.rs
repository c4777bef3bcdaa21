//! A split probe drawn as bars: per backend, the share its weight predicts
//! and the share it got, so a skewed split shows at a glance.

use std::collections::{BTreeMap, BTreeSet};

use super::esc;

/// Width in pixels of a 100 % bar.
const FULL: f64 = 300.0;
const ROW: f64 = 34.0;
const LABEL: f64 = 140.0;

/// The SVG for a split judgement: what each backend got (`counts`) against
/// its weight (`expected`).
pub(crate) fn split_bars(
    counts: &BTreeMap<String, u32>,
    expected: &BTreeMap<String, f64>,
) -> String {
    // Backends answering outside the split have no expectation, and weighted
    // ones that never answered no count: draw the union.
    let backends: BTreeSet<&String> = counts.keys().chain(expected.keys()).collect();
    let seen: f64 = counts.values().map(|&n| f64::from(n)).sum();
    let wanted: f64 = expected.values().sum();
    let share = |v: f64, of: f64| if of > 0.0 { v / of } else { 0.0 };
    let height = ROW * backends.len() as f64 + 20.0;
    let width = LABEL + FULL + 110.0;
    let mut out = format!(
        "<svg class=\"split\" role=\"img\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\"><title>expected and observed share per backend</title>"
    );
    for (i, b) in backends.iter().enumerate() {
        let y = 4.0 + ROW * i as f64;
        let n = counts.get(*b).copied().unwrap_or(0);
        let e = share(expected.get(*b).copied().unwrap_or(0.0), wanted);
        let o = share(f64::from(n), seen);
        out.push_str(&format!(
            "<text x=\"0\" y=\"{ty}\">{name}</text>\
             <rect class=\"expected\" x=\"{LABEL}\" y=\"{y}\" width=\"{ew:.1}\" height=\"12\"/>\
             <text x=\"{ex:.1}\" y=\"{ety}\">expected {ep:.1} %</text>\
             <rect class=\"observed\" x=\"{LABEL}\" y=\"{oy}\" width=\"{ow:.1}\" height=\"12\"/>\
             <text x=\"{ox:.1}\" y=\"{oty}\">got {op:.1} % ({n})</text>",
            ty = y + 16.0,
            name = esc(b),
            ew = e * FULL,
            ex = LABEL + e * FULL + 4.0,
            ety = y + 10.0,
            ep = e * 100.0,
            oy = y + 14.0,
            ow = o * FULL,
            ox = LABEL + o * FULL + 4.0,
            oty = y + 24.0,
            op = o * 100.0,
        ));
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_are_as_long_as_the_shares_with_every_backend_escaped() {
        let counts = BTreeMap::from([("a".to_string(), 150), ("<b>".to_string(), 50)]);
        let expected = BTreeMap::from([("a".to_string(), 100.0), ("<b>".to_string(), 100.0)]);
        let svg = split_bars(&counts, &expected);
        // a: expected 50 % (150 px), got 75 % (225 px).
        assert!(
            svg.contains("class=\"expected\" x=\"140\" y=\"38\" width=\"150.0\""),
            "{svg}"
        );
        assert!(svg.contains("width=\"225.0\""), "{svg}");
        assert!(svg.contains("got 75.0 % (150)"), "{svg}");
        assert!(svg.contains("&lt;b&gt;") && !svg.contains("<b>"), "{svg}");
        // A weighted backend that never answered is drawn with nothing got.
        let svg = split_bars(&BTreeMap::new(), &expected);
        assert!(svg.contains("got 0.0 % (0)"), "{svg}");
    }
}
