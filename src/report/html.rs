//! The run as one self-contained HTML page (`--html FILE`, `gwlab report`):
//! a summary, failures first and open, each mismatch as expected beside got,
//! splits drawn as bars. Inline CSS only, no scripts, no external resources,
//! so it opens anywhere (a CI artifact, a mail attachment) as it is.
//!
//! It renders the JSON form of the report, so a fresh run and a saved
//! `--json` file give the same page. Everything from the report is escaped.

mod svg;
mod trace;

use std::fmt::Write;

use serde_json::Value;

use super::RunReport;

/// The page of a run just finished.
pub(crate) fn render_run(report: &RunReport) -> String {
    render(&super::json::to_value(report))
}

/// The page of a report in its JSON form (checked by `saved::load` when read
/// from a file; missing optional fields are left out of the page).
pub(crate) fn render(doc: &Value) -> String {
    let scenarios = doc["scenarios"].as_array().cloned().unwrap_or_default();
    let mut page = String::new();
    page.push_str("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
    let _ = write!(
        page,
        "<title>gwlab run {}</title><style>{CSS}</style></head><body>",
        esc(str_of(&doc["runId"]))
    );
    page.push_str(&summary(doc, &scenarios));
    page.push_str(&portability(&doc["portability"]));
    let mut ordered: Vec<&Value> = scenarios.iter().collect();
    // Stable: within a verdict, the run's order.
    ordered.sort_by_key(|s| rank(str_of(&s["verdict"])));
    for s in ordered {
        page.push_str(&scenario(s));
    }
    page.push_str("</body></html>\n");
    page
}

/// Failures first, then what did not run, passes last.
fn rank(verdict: &str) -> u8 {
    match verdict {
        "failed" => 0,
        "interrupted" => 1,
        "unsupported" => 2,
        "passed" => 3,
        _ => 4,
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

fn summary(doc: &Value, scenarios: &[Value]) -> String {
    let count = |v: &str| scenarios.iter().filter(|s| s["verdict"] == v).count();
    let mut out = String::from("<h1>gwlab test report</h1><p class=\"counts\">");
    for v in ["passed", "failed", "unsupported", "interrupted"] {
        let _ = write!(out, "<span class=\"{v}\">{} {v}</span>", count(v));
    }
    let _ = write!(
        out,
        "</p><p>target <b>{}</b>{}, run <code>{}</code>, {}",
        esc(str_of(&doc["target"])),
        match doc["implementation"].as_str() {
            Some(i) if i != "spec" => format!(" answering as <b>{}</b>", esc(i)),
            _ => String::new(),
        },
        esc(str_of(&doc["runId"])),
        secs(&doc["durationSeconds"])
    );
    if doc["interrupted"] == true {
        out.push_str(", <b>interrupted (Ctrl-C)</b>");
    }
    out.push_str("</p>");
    // The run's time by phase: the sum over the scenarios that ran.
    let phases = ["apply", "conditions", "probes", "cleanup"];
    let totals: Vec<f64> = phases
        .iter()
        .map(|p| {
            scenarios
                .iter()
                .filter_map(|s| s["phases"][format!("{p}Seconds")].as_f64())
                .sum()
        })
        .collect();
    if scenarios.iter().any(|s| s["phases"].is_object()) {
        out.push_str("<p class=\"where\">time by phase: ");
        let parts: Vec<String> = phases
            .iter()
            .zip(&totals)
            .map(|(p, t)| format!("{p} {t:.2}s"))
            .collect();
        out.push_str(&parts.join(", "));
        out.push_str("</p>");
    }
    if let Some(left) = doc["stillDeleting"].as_array().filter(|l| !l.is_empty()) {
        let names: Vec<String> = left.iter().map(|n| esc(str_of(n))).collect();
        let _ = write!(out, "<p>still deleting: {}</p>", names.join(", "));
    }
    if let Some(ns) = doc["namespacesFinishing"]
        .as_array()
        .filter(|l| !l.is_empty())
    {
        let _ = write!(
            out,
            "<p>{} of this run, emptied of its objects, still being removed by the cluster</p>",
            crate::diag::counted(ns.len(), "namespace")
        );
    }
    out
}

fn scenario(s: &Value) -> String {
    let verdict = str_of(&s["verdict"]);
    let word = match verdict {
        "passed" => "PASS",
        "failed" => "FAIL",
        "unsupported" => "SKIP",
        "interrupted" => "NOT RUN",
        _ => "?",
    };
    let mut out = format!(
        "<details class=\"scenario {v}\"{open}><summary><span class=\"v\">{word}</span> {name} <span class=\"where\">({d})</span></summary>",
        v = esc(verdict),
        open = if verdict == "failed" { " open" } else { "" },
        name = esc(str_of(&s["name"])),
        d = secs(&s["durationSeconds"]),
    );
    let _ = write!(out, "<p class=\"where\">{}", location(&s["source"]));
    if let Some(ns) = s["namespace"].as_str() {
        let _ = write!(out, ", namespace <code>{}</code>", esc(ns));
    }
    if let Some(p) = s["phases"].as_object() {
        let parts: Vec<String> = ["apply", "conditions", "probes", "cleanup"]
            .iter()
            .map(|k| {
                let t = p.get(&format!("{k}Seconds")).and_then(Value::as_f64);
                format!("{k} {:.2}s", t.unwrap_or(0.0))
            })
            .collect();
        let _ = write!(out, "<br>time: {}", parts.join(", "));
    }
    out.push_str("</p>");
    if let Some(missing) = s["missingFeatures"].as_array() {
        let names: Vec<String> = missing.iter().map(|m| esc(str_of(m))).collect();
        let _ = write!(
            out,
            "<p>unsupported: the target lacks {}</p>",
            names.join(", ")
        );
    }
    if verdict == "interrupted" {
        out.push_str("<p>not run: the run was interrupted (Ctrl-C)</p>");
    }
    if let Some(lines) = s["diagnosis"]["lines"].as_array() {
        let _ = write!(
            out,
            "<p>diagnostics: <code>{}</code></p><pre>",
            esc(str_of(&s["diagnosis"]["bundle"]))
        );
        for l in lines {
            let _ = writeln!(out, "{}", esc(str_of(l)));
        }
        out.push_str("</pre>");
    }
    let checks = s["checks"].as_array().map(Vec::as_slice).unwrap_or(&[]);
    // Failed checks first, as in the scenario.
    for c in checks.iter().filter(|c| c["passed"] != true) {
        out.push_str(&check(c));
    }
    for c in checks.iter().filter(|c| c["passed"] == true) {
        out.push_str(&check(c));
    }
    out.push_str(&route_map(&s["routeMap"]));
    out.push_str("</details>\n");
    out
}

fn check(c: &Value) -> String {
    let passed = c["passed"] == true;
    let mut out = format!(
        "<div class=\"check {}\"><b>{} {}: {}</b>",
        if passed { "passed" } else { "failed" },
        if passed { "✓" } else { "✗" },
        esc(str_of(&c["kind"])),
        esc(str_of(&c["name"]))
    );
    if let Some(step) = c["step"].as_str() {
        let _ = write!(out, " <span class=\"where\">in step {}</span>", esc(step));
    }
    let _ = write!(
        out,
        " <span class=\"where\">{} ({})</span>",
        location(&c["source"]),
        secs(&c["durationSeconds"])
    );
    if let Some(r) = c["request"].as_str() {
        let _ = write!(out, "<div class=\"mono\">{}</div>", esc(r));
    }
    let mismatches = c["detail"]["mismatches"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    if !passed && !mismatches.is_empty() {
        out.push_str(&diff_table(mismatches));
    }
    if !passed && let Some(t) = trace::table(&c["detail"]["explain"]) {
        out.push_str(&t);
    }
    // The failure lines the table does not already show.
    let shown: Vec<String> = mismatches.iter().map(mismatch_line).collect();
    let rest: Vec<&str> = c["failure"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[])
        .iter()
        .map(str_of)
        .filter(|l| !shown.iter().any(|s| s == l))
        .collect();
    if !rest.is_empty() {
        out.push_str("<ul>");
        for l in rest {
            let _ = write!(out, "<li>{}</li>", esc(l));
        }
        out.push_str("</ul>");
    }
    if let Some(bars) = svg::split_bars(&c["detail"]["split"]) {
        out.push_str(&bars);
    }
    let power = c["power"]
        .as_str()
        .or_else(|| c["detail"]["split"]["power"]["statement"].as_str());
    if let Some(p) = power {
        let _ = write!(out, "<p class=\"power\">{}</p>", esc(p));
    }
    out.push_str("</div>");
    out
}

/// The portability table of a run under several implementations: a row per
/// probe, a column per implementation, and the answers where they differ.
fn portability(p: &Value) -> String {
    let (Some(impls), Some(rows)) = (p["implementations"].as_array(), p["rows"].as_array()) else {
        return String::new();
    };
    let mut out = String::from(
        "<h2>Portability</h2><table class=\"trace portability\"><tr><th>scenario</th><th>probe</th>",
    );
    for i in impls {
        let _ = write!(out, "<th>{}</th>", esc(str_of(i)));
    }
    out.push_str("</tr>");
    for r in rows {
        let differs = r["differs"] == true;
        let _ = write!(
            out,
            "<tr{}><td>{}</td><td>{}</td>",
            if differs { " class=\"differs\"" } else { "" },
            esc(str_of(&r["scenario"])),
            esc(str_of(&r["probe"]))
        );
        for c in r["cells"].as_array().map(Vec::as_slice).unwrap_or(&[]) {
            let result = str_of(&c["result"]);
            let class = match result {
                "passed" => "passed",
                "failed" => "failed",
                _ => "unsupported",
            };
            let _ = write!(
                out,
                "<td class=\"{class}\"><span class=\"v\">{}</span>",
                esc(result)
            );
            if differs && let Some(a) = c["answer"].as_str() {
                let _ = write!(out, "<br><code>{}</code>", esc(a));
            }
            for d in c["deviations"].as_array().map(Vec::as_slice).unwrap_or(&[]) {
                let _ = write!(out, "<br><span class=\"where\">{}</span>", esc(str_of(d)));
            }
            out.push_str("</td>");
        }
        out.push_str("</tr>");
    }
    out.push_str("</table><p class=\"where\">The scenarios below are the first implementation's run; the JSON report holds every run.</p>");
    out
}

/// The scenario's route map, when the report has one (embedded target).
fn route_map(map: &Value) -> String {
    if map.is_null() {
        return String::new();
    }
    match serde_json::from_value::<crate::route_map::RouteMap>(map.clone()) {
        Ok(m) => format!(
            "<div class=\"map\"><h3>route map</h3>{}</div>",
            crate::route_map::svg::render(&m)
        ),
        Err(e) => format!(
            "<p class=\"where\">route map not drawn: <code>routeMap</code> is not one this gwlab reads ({})</p>",
            esc(&e.to_string())
        ),
    }
}

/// The line the terminal prints for a mismatch (`status: expected 200, got
/// 404`), to leave it out of the list below the table.
fn mismatch_line(m: &Value) -> String {
    format!(
        "{}: expected {}, got {}",
        str_of(&m["field"]),
        str_of(&m["expected"]),
        str_of(&m["actual"])
    )
}

fn diff_table(mismatches: &[Value]) -> String {
    let mut out =
        String::from("<table class=\"diff\"><tr><th>field</th><th>expected</th><th>got</th></tr>");
    for m in mismatches {
        let (e, g) = marked(str_of(&m["expected"]), str_of(&m["actual"]));
        let _ = write!(
            out,
            "<tr><td>{}</td><td class=\"mono\">{e}</td><td class=\"mono\">{g}</td></tr>",
            esc(str_of(&m["field"]))
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

fn location(source: &Value) -> String {
    match (source["file"].as_str(), source["line"].as_u64()) {
        (Some(f), Some(l)) => format!("<code>{}:{l}</code>", esc(f)),
        _ => String::new(),
    }
}

fn secs(v: &Value) -> String {
    format!("{:.2}s", v.as_f64().unwrap_or(0.0))
}

fn str_of(v: &Value) -> &str {
    v.as_str().unwrap_or("")
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
