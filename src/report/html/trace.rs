//! A failed probe's `explain` trace as a compact table: the listener that
//! took the request, every candidate with why it won or lost, the outcome.

use std::fmt::Write;

use super::esc;
use crate::explain::Explanation;

/// The table for a failed probe's `detail.explain` (on targets that can tell:
/// the embedded one).
pub fn table(explain: &Explanation) -> String {
    let listener = match &explain.listener {
        Some(l) => format!("listener <b>{}</b>", esc(l)),
        None => "no listener accepts this host on this port".to_string(),
    };
    let mut out = format!(
        "<div class=\"trace\"><p>routing trace of the reference gateway: Gateway <code>{}</code> port {}, {listener}; outcome: {}</p>",
        esc(&explain.gateway),
        explain.port,
        esc(&explain.outcome.summary)
    );
    if explain.candidates.is_empty() {
        // Without a listener, the sentence above already says why.
        if explain.listener.is_some() {
            out.push_str("<p>no route is attached to this listener</p>");
        }
    } else {
        out.push_str(
            "<table class=\"trace\"><tr><th>verdict</th><th>route</th><th>rule</th><th>match</th><th>why</th></tr>",
        );
        for c in &explain.candidates {
            let _ = write!(
                out,
                "<tr class=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                if c.verdict == "won" { "won" } else { "other" },
                esc(&c.verdict),
                esc(&c.route),
                c.rule,
                c.match_index,
                esc(&c.why)
            );
        }
        out.push_str("</table>");
    }
    if !explain.filters.is_empty() {
        let names: Vec<String> = explain.filters.iter().map(|f| esc(f)).collect();
        let _ = write!(out, "<p>filters, in order: {}</p>", names.join(", "));
    }
    out.push_str("</div>");
    out
}
