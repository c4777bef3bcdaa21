//! The run as one self-contained HTML page (`--html FILE`, `gwlab report`):
//! a summary, failures first and open, each mismatch as expected beside got,
//! splits drawn as bars. Inline CSS only, no scripts, no external resources,
//! so it opens anywhere (a CI artifact, a mail attachment) as it is.
//!
//! A fresh run and a saved `--json` file (read back by `saved::load`) are
//! the same typed report, so they give the same page. Everything from the
//! report is escaped.

mod svg;
mod trace;

use std::fmt::Write;
use std::time::Duration;

use super::portability::Portability;
use super::{CheckReport, RunReport, ScenarioReport, Source, Verdict};
use crate::probe::expect::Mismatch;

/// The page of a run, just finished or read back from its JSON.
pub(crate) fn render(report: &RunReport) -> String {
    let mut page = String::new();
    page.push_str("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
    let _ = write!(
        page,
        "<title>gwlab run {}</title><style>{CSS}</style></head><body>",
        esc(&report.run_id)
    );
    page.push_str(&summary(report));
    page.push_str(&portability(report.portability.as_deref()));
    let mut ordered: Vec<&ScenarioReport> = report.scenarios.iter().collect();
    // Stable: within a verdict, the run's order.
    ordered.sort_by_key(|s| rank(s.verdict));
    for s in ordered {
        page.push_str(&scenario(s));
    }
    page.push_str("</body></html>\n");
    page
}

/// Failures first, then what did not run, passes last.
fn rank(verdict: Verdict) -> u8 {
    match verdict {
        Verdict::Failed => 0,
        Verdict::Interrupted => 1,
        Verdict::Unsupported => 2,
        Verdict::Passed => 3,
    }
}

const CSS: &str = "body{font-family:system-ui,sans-serif;margin:1.5em;color:#222;background:#fff}\
h1{font-size:1.4em}h3{font-size:1em;margin:.8em 0 .3em}code,pre,.mono{font-family:ui-monospace,monospace}\
.counts span{display:inline-block;margin-right:1em;padding:.2em .6em;border-radius:4px}\
.passed .v,.counts .passed{background:#d8f0d8}.failed .v,.counts .failed{background:#f8d0d0}\
.unsupported .v,.counts .unsupported{background:#eee}.interrupted .v,.counts .interrupted{background:#f8ecc8}\
details.scenario{border:1px solid #ccc;border-radius:4px;margin:.5em 0;padding:.3em .6em}\
details.failed{border-color:#c33}summary{cursor:pointer}.v{padding:0 .4em;font-weight:bold}\
.check{margin:.6em 0 .6em 1em}.check.failed{border-left:3px solid #c33;padding-left:.6em}\
.where{color:#666;font-size:.9em}table.diff,table.trace{border-collapse:collapse;margin:.3em 0}\
table.diff td,table.diff th,table.trace td,table.trace th{border:1px solid #ccc;padding:.2em .5em;text-align:left;vertical-align:top}\
table.trace{font-size:.9em}table.trace tr.won td{font-weight:bold;background:#e4f2e4}\
mark{background:#fc6}svg.split text{font-size:11px;font-family:system-ui,sans-serif;fill:currentColor}\
svg.split rect.expected{fill:#aaa}svg.split rect.observed{fill:#37c}.map{overflow-x:auto}\
@media (prefers-color-scheme:dark){body{color:#e6e6e6;background:#1c2128}\
.passed .v,.counts .passed{background:#1f4d2b}.failed .v,.counts .failed{background:#6e2126}\
.unsupported .v,.counts .unsupported{background:#373e47}.interrupted .v,.counts .interrupted{background:#5c4813}\
.where{color:#adbac7}details.scenario,table.diff td,table.diff th,table.trace td,table.trace th{border-color:#444c56}\
table.trace tr.won td{background:#1f4d2b}mark{background:#966600;color:#fff}}\
@media print{body{color:#000;background:#fff;margin:0}details.scenario{break-inside:avoid-page}}";

fn summary(report: &RunReport) -> String {
    let mut out = String::from("<h1>gwlab test report</h1><p class=\"counts\">");
    for v in [
        Verdict::Passed,
        Verdict::Failed,
        Verdict::Unsupported,
        Verdict::Interrupted,
    ] {
        let _ = write!(
            out,
            "<span class=\"{v}\">{} {v}</span>",
            report.count(v),
            v = v.as_str()
        );
    }
    let _ = write!(
        out,
        "</p><p>target <b>{}</b>{}, run <code>{}</code>, {}",
        esc(&report.target),
        if report.implementation != "spec" {
            format!(" answering as <b>{}</b>", esc(&report.implementation))
        } else {
            String::new()
        },
        esc(&report.run_id),
        secs(report.duration)
    );
    if report.interrupted {
        out.push_str(", <b>interrupted (Ctrl-C)</b>");
    }
    out.push_str("</p>");
    // The run's time by phase: the sum over the scenarios that ran.
    let ran: Vec<&super::Phases> = report
        .scenarios
        .iter()
        .filter_map(|s| s.phases.as_ref())
        .collect();
    if !ran.is_empty() {
        let total = |of: fn(&super::Phases) -> Duration| -> f64 {
            ran.iter().map(|p| super::secs::rounded(of(p))).sum()
        };
        let _ = write!(
            out,
            "<p class=\"where\">time by phase: apply {:.2}s, conditions {:.2}s, probes {:.2}s, cleanup {:.2}s</p>",
            total(|p| p.apply),
            total(|p| p.conditions),
            total(|p| p.probes),
            total(|p| p.cleanup)
        );
    }
    if !report.still_deleting.is_empty() {
        let names: Vec<String> = report.still_deleting.iter().map(|n| esc(n)).collect();
        let _ = write!(out, "<p>still deleting: {}</p>", names.join(", "));
    }
    if !report.namespaces_finishing.is_empty() {
        let _ = write!(
            out,
            "<p>{} of this run, emptied of its objects, still being removed by the cluster</p>",
            crate::diag::counted(report.namespaces_finishing.len(), "namespace")
        );
    }
    out
}

fn scenario(s: &ScenarioReport) -> String {
    let word = match s.verdict {
        Verdict::Passed => "PASS",
        Verdict::Failed => "FAIL",
        Verdict::Unsupported => "SKIP",
        Verdict::Interrupted => "NOT RUN",
    };
    let mut out = format!(
        "<details class=\"scenario {v}\"{open}><summary><span class=\"v\">{word}</span> {name} <span class=\"where\">({d})</span></summary>",
        v = s.verdict.as_str(),
        open = if s.verdict == Verdict::Failed {
            " open"
        } else {
            ""
        },
        name = esc(&s.name),
        d = secs(s.duration),
    );
    let _ = write!(out, "<p class=\"where\">{}", location(Some(&s.source)));
    if let Some(ns) = &s.namespace {
        let _ = write!(out, ", namespace <code>{}</code>", esc(ns));
    }
    if let Some(p) = &s.phases {
        let _ = write!(
            out,
            "<br>time: apply {}, conditions {}, probes {}, cleanup {}",
            secs(p.apply),
            secs(p.conditions),
            secs(p.probes),
            secs(p.cleanup)
        );
    }
    out.push_str("</p>");
    if !s.missing_features.is_empty() {
        let names: Vec<String> = s.missing_features.iter().map(|m| esc(m)).collect();
        let _ = write!(
            out,
            "<p>unsupported: the target lacks {}</p>",
            names.join(", ")
        );
    }
    if s.verdict == Verdict::Interrupted {
        out.push_str("<p>not run: the run was interrupted (Ctrl-C)</p>");
    }
    if let Some(d) = &s.diagnosis {
        let _ = write!(
            out,
            "<p>diagnostics: <code>{}</code></p><pre>",
            esc(&d.bundle.display().to_string())
        );
        for l in &d.lines {
            let _ = writeln!(out, "{}", esc(l));
        }
        out.push_str("</pre>");
    }
    // Failed checks first, as in the scenario.
    for c in s.checks.iter().filter(|c| !c.passed) {
        out.push_str(&check(c));
    }
    for c in s.checks.iter().filter(|c| c.passed) {
        out.push_str(&check(c));
    }
    if let Some(map) = &s.route_map {
        let _ = write!(
            out,
            "<div class=\"map\"><h3>route map</h3>{}</div>",
            crate::route_map::svg::render(map)
        );
    }
    out.push_str("</details>\n");
    out
}

fn check(c: &CheckReport) -> String {
    let mut out = format!(
        "<div class=\"check {}\"><b>{} {}: {}</b>",
        if c.passed { "passed" } else { "failed" },
        if c.passed { "✓" } else { "✗" },
        c.kind.as_str(),
        esc(&c.name)
    );
    if let Some(step) = &c.step {
        let _ = write!(out, " <span class=\"where\">in step {}</span>", esc(step));
    }
    let _ = write!(
        out,
        " <span class=\"where\">{} ({})</span>",
        location(c.source.as_ref()),
        secs(c.duration)
    );
    if let Some(r) = &c.request {
        let _ = write!(out, "<div class=\"mono\">{}</div>", esc(r));
    }
    let probe = c.detail.as_ref().and_then(|d| d.probe());
    let mismatches = probe.map_or(&[][..], |p| p.result.mismatches.as_slice());
    if !c.passed && !mismatches.is_empty() {
        out.push_str(&diff_table(mismatches));
    }
    if !c.passed
        && let Some(explain) = probe.and_then(|p| p.explain.as_ref())
    {
        out.push_str(&trace::table(explain));
    }
    // The failure lines the table does not already show.
    let shown: Vec<String> = mismatches.iter().map(Mismatch::to_string).collect();
    let rest: Vec<&String> = c
        .failure
        .iter()
        .filter(|l| !shown.iter().any(|s| s == *l))
        .collect();
    if !rest.is_empty() {
        out.push_str("<ul>");
        for l in rest {
            let _ = write!(out, "<li>{}</li>", esc(l));
        }
        out.push_str("</ul>");
    }
    let split = probe.and_then(|p| p.result.split.as_ref());
    if let Some(split) = split {
        out.push_str(&svg::split_bars(&split.counts, &split.expected));
    }
    let power = c
        .power
        .as_deref()
        .or_else(|| split.map(|s| s.power.statement.as_str()));
    if let Some(p) = power {
        let _ = write!(out, "<p class=\"power\">{}</p>", esc(p));
    }
    out.push_str("</div>");
    out
}

/// The portability table of a run under several implementations: a row per
/// probe, a column per implementation, and the answers where they differ.
fn portability(p: Option<&Portability>) -> String {
    let Some(p) = p else {
        return String::new();
    };
    let mut out = String::from(
        "<h2>Portability</h2><table class=\"trace portability\"><tr><th>scenario</th><th>probe</th>",
    );
    for i in &p.implementations {
        let _ = write!(out, "<th>{}</th>", esc(i));
    }
    out.push_str("</tr>");
    for r in &p.rows {
        let _ = write!(
            out,
            "<tr{}><td>{}</td><td>{}</td>",
            if r.differs { " class=\"differs\"" } else { "" },
            esc(&r.scenario),
            esc(&r.probe)
        );
        for c in &r.cells {
            use super::portability::CellResult;
            let class = match c.result {
                CellResult::Passed => "passed",
                CellResult::Failed => "failed",
                CellResult::Unsupported | CellResult::NotRun => "unsupported",
            };
            let _ = write!(
                out,
                "<td class=\"{class}\"><span class=\"v\">{}</span>",
                c.result.as_str()
            );
            if r.differs
                && let Some(a) = &c.answer
            {
                let _ = write!(out, "<br><code>{}</code>", esc(a));
            }
            for d in &c.deviations {
                let _ = write!(out, "<br><span class=\"where\">{}</span>", esc(d));
            }
            out.push_str("</td>");
        }
        out.push_str("</tr>");
    }
    out.push_str("</table><p class=\"where\">The scenarios below are the first implementation's run; the JSON report holds every run.</p>");
    out
}

fn diff_table(mismatches: &[Mismatch]) -> String {
    let mut out =
        String::from("<table class=\"diff\"><tr><th>field</th><th>expected</th><th>got</th></tr>");
    for m in mismatches {
        let (e, g) = marked(&m.expected, &m.actual);
        let _ = write!(
            out,
            "<tr><td>{}</td><td class=\"mono\">{e}</td><td class=\"mono\">{g}</td></tr>",
            esc(&m.field)
        );
    }
    out.push_str("</table>");
    out
}

/// Both values escaped, with what differs between them (all but the common
/// start and end) in `<mark>`: `/api/v2` against `/api/v1` marks the digit.
fn marked(expected: &str, got: &str) -> (String, String) {
    let (e, g): (Vec<char>, Vec<char>) = (expected.chars().collect(), got.chars().collect());
    let prefix = e.iter().zip(&g).take_while(|(a, b)| a == b).count();
    let suffix = e[prefix..]
        .iter()
        .rev()
        .zip(g[prefix..].iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    let one = |s: &[char]| {
        let part = |r: &[char]| esc(&r.iter().collect::<String>());
        let (head, mid, tail) = (
            &s[..prefix],
            &s[prefix..s.len() - suffix],
            &s[s.len() - suffix..],
        );
        let mid = if mid.is_empty() {
            String::new()
        } else {
            format!("<mark>{}</mark>", part(mid))
        };
        format!("{}{mid}{}", part(head), part(tail))
    };
    (one(&e), one(&g))
}

fn location(source: Option<&Source>) -> String {
    match source {
        Some(s) => format!("<code>{}:{}</code>", esc(&s.file), s.line),
        None => String::new(),
    }
}

/// Seconds as the JSON report has them, with two decimals.
fn secs(d: Duration) -> String {
    format!("{:.2}s", super::secs::rounded(d))
}

/// Text and attribute values made inert: the five characters HTML gives meaning.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests;
