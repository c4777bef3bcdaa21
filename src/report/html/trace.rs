//! A failed probe's `explain` trace as a compact table: the listener that
//! took the request, every candidate with why it won or lost, the outcome.

use std::fmt::Write;

use serde_json::Value;

use super::{esc, str_of};

/// The table for `detail.explain`, or `None` when the report has none
/// (the cluster target, or a request no Gateway of the model took).
pub fn table(explain: &Value) -> Option<String> {
    let e = explain.as_object()?;
    let listener_known = e.get("listener").and_then(Value::as_str).is_some();
    let listener = match e.get("listener").and_then(Value::as_str) {
        Some(l) => format!("listener <b>{}</b>", esc(l)),
        None => "no listener accepts this host on this port".to_string(),
    };
    let mut out = format!(
        "<div class=\"trace\"><p>routing trace of the reference gateway: Gateway <code>{}</code> port {}, {listener}; outcome: {}</p>",
        esc(str_of(&explain["gateway"])),
        number(&explain["port"]),
        esc(str_of(&explain["outcome"]["summary"]))
    );
    let candidates = explain["candidates"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    if candidates.is_empty() {
        // Without a listener, the sentence above already says why.
        if listener_known {
            out.push_str("<p>no route is attached to this listener</p>");
        }
    } else {
        out.push_str(
            "<table class=\"trace\"><tr><th>verdict</th><th>route</th><th>rule</th><th>match</th><th>why</th></tr>",
        );
        for c in candidates {
            let verdict = str_of(&c["verdict"]);
            let _ = write!(
                out,
                "<tr class=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                if verdict == "won" { "won" } else { "other" },
                esc(verdict),
                esc(str_of(&c["route"])),
                number(&c["rule"]),
                number(&c["match"]),
                esc(str_of(&c["why"]))
            );
        }
        out.push_str("</table>");
    }
    if let Some(filters) = explain["filters"].as_array().filter(|f| !f.is_empty()) {
        let names: Vec<String> = filters.iter().map(|f| esc(str_of(f))).collect();
        let _ = write!(out, "<p>filters, in order: {}</p>", names.join(", "));
    }
    out.push_str("</div>");
    Some(out)
}

/// A whole number from the report, or `?` where a saved report lacks it
/// (never a made-up 0).
fn number(v: &Value) -> String {
    v.as_u64()
        .map_or_else(|| "?".to_string(), |n| n.to_string())
}
