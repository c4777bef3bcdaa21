//! A split probe drawn as bars: per backend, the share its weight predicts
//! and the share it got, so a skewed split shows at a glance.

use std::collections::BTreeSet;

use serde_json::Value;

use super::esc;

/// Width in pixels of a 100 % bar.
const FULL: f64 = 300.0;
const ROW: f64 = 34.0;
const LABEL: f64 = 140.0;

/// The SVG for a split judgement (`detail.split`), or `None` without counts.
pub(crate) fn split_bars(split: &Value) -> Option<String> {
    let counts = split.get("counts")?.as_object()?;
    let expected = split
        .get("expected")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    // Backends answering outside the split have no expectation, and weighted
    // ones that never answered no count: draw the union.
    let backends: BTreeSet<&String> = counts.keys().chain(expected.keys()).collect();
    let total = |m: &serde_json::Map<String, Value>| -> f64 {
        m.values().filter_map(Value::as_f64).sum::<f64>()
    };
    let (seen, wanted) = (total(counts), total(&expected));
    let share = |m: &serde_json::Map<String, Value>, b: &str, of: f64| -> f64 {
        let v = m.get(b).and_then(Value::as_f64).unwrap_or(0.0);
        if of > 0.0 { v / of } else { 0.0 }
    };
    let height = ROW * backends.len() as f64 + 20.0;
    let width = LABEL + FULL + 110.0;
    let mut out = format!(
        "<svg class=\"split\" role=\"img\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\"><title>expected and observed share per backend</title>"
    );
    for (i, b) in backends.iter().enumerate() {
        let y = 4.0 + ROW * i as f64;
        let (e, o) = (share(&expected, b, wanted), share(counts, b, seen));
        let n = counts.get(*b).and_then(Value::as_u64).unwrap_or(0);
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
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_are_as_long_as_the_shares_with_every_backend_escaped() {
        let split = serde_json::json!({
            "counts": {"a": 150, "<b>": 50},
            "expected": {"a": 100.0, "<b>": 100.0}
        });
        let svg = split_bars(&split).unwrap();
        // a: expected 50 % (150 px), got 75 % (225 px).
        assert!(
            svg.contains("class=\"expected\" x=\"140\" y=\"38\" width=\"150.0\""),
            "{svg}"
        );
        assert!(svg.contains("width=\"225.0\""), "{svg}");
        assert!(svg.contains("got 75.0 % (150)"), "{svg}");
        assert!(svg.contains("&lt;b&gt;") && !svg.contains("<b>"), "{svg}");
        assert_eq!(split_bars(&serde_json::json!({})), None);
    }
}
