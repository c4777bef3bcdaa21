//! The HTML report end to end: `gwlab test --html` writes a page, and
//! `gwlab report` renders the saved JSON of the same run as the same page;
//! a JSON file that is not a gwlab report is bad input naming the file.

use std::path::Path;

use crate::common::bin::{gwlab, text};

fn scenarios() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios/redirect")
        .display()
        .to_string()
}

#[test]
fn a_run_and_its_saved_json_render_the_same_self_contained_page() {
    let dir = tempfile::tempdir().unwrap();
    let (html, json, again) = (
        dir.path().join("out.html"),
        dir.path().join("out.json"),
        dir.path().join("out2.html"),
    );
    let o = gwlab(&[
        "test",
        &scenarios(),
        "--html",
        html.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>"), "{page}");
    assert!(
        page.contains("1 passed") && page.contains("0 failed"),
        "{page}"
    );
    assert!(page.contains("</span> redirect "), "{page}");
    assert!(page.contains("redirect/scenario.yaml:1</code>"), "{page}");
    assert!(!page.contains("<script") && !page.contains("<link") && !page.contains("src="));

    let o = gwlab(&[
        "report",
        json.to_str().unwrap(),
        "--html",
        again.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(std::fs::read_to_string(&again).unwrap(), page);
}

#[test]
fn a_file_that_is_not_a_report_is_bad_input_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("other.json");
    let out = dir.path().join("out.html");
    std::fs::write(&json, "{\"schemaVersion\": 1, \"scenarios\": []}").unwrap();
    let o = gwlab(&[
        "report",
        json.to_str().unwrap(),
        "--html",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let all = text(&o);
    assert!(all.contains(json.to_str().unwrap()), "{all}");
    assert!(all.contains("schemaVersion"), "{all}");
    assert!(!out.exists(), "nothing is written for bad input");
}

/// The showcase fixture's run, as an HTML page and its JSON.
fn showcase(dir: &Path) -> (String, serde_json::Value, std::path::PathBuf) {
    let (html, json) = (dir.join("showcase.html"), dir.join("showcase.json"));
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/report-showcase");
    let o = gwlab(&[
        "test",
        fixture.to_str().unwrap(),
        "--html",
        html.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "the fixture fails on purpose: {}",
        text(&o)
    );
    let doc = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    (std::fs::read_to_string(&html).unwrap(), doc, json)
}

fn select<'a>(html: &'a scraper::Html, css: &str) -> Vec<scraper::ElementRef<'a>> {
    html.select(&scraper::Selector::parse(css).unwrap())
        .collect()
}

fn text_of(e: &scraper::ElementRef) -> String {
    let all: String = e.text().collect::<Vec<_>>().join(" ");
    all.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn the_page_parses_as_html_and_draws_the_route_map_and_the_failed_probes_trace() {
    let dir = tempfile::tempdir().unwrap();
    let (page, json, saved) = showcase(dir.path());
    let html = scraper::Html::parse_document(&page);
    assert!(
        html.errors.is_empty(),
        "HTML parse errors: {:?}",
        html.errors
    );
    let scenario = &json["scenarios"][0];

    // The map: one per scenario, a node per route of the JSON's routeMap,
    // the unattached one in the failure colour with its reason.
    assert_eq!(select(&html, "svg.route-map").len(), 1);
    let drawn: Vec<String> = select(&html, "svg.route-map g.node.route text.name")
        .iter()
        .map(text_of)
        .collect();
    let mut listed: Vec<String> = scenario["routeMap"]["routes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_string())
        .collect();
    let mut drawn_sorted = drawn.clone();
    drawn_sorted.sort();
    listed.sort();
    assert_eq!(drawn_sorted, listed);
    let failed = select(&html, "svg.route-map g.node.route.failed");
    assert_eq!(failed.len(), 1);
    let failed = text_of(&failed[0]);
    assert!(
        failed.contains("admin") && failed.contains("not attached: NoMatchingParent"),
        "{failed}"
    );

    // The failed probe's trace: one row per candidate of the JSON's
    // explain, the winner marked, each loser with why. Read inside that
    // probe's own block: the split beside it is statistical, and should it
    // ever fail (one run in a thousand), it carries a trace of its own.
    let probe = scenario["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["passed"] == false)
        .unwrap();
    assert_eq!(probe["name"], "the API answers /apiv2");
    let block = select(&html, "div.check.failed")
        .into_iter()
        .find(|b| text_of(b).contains("the API answers /apiv2"))
        .expect("the failed probe has its block");
    let within = |css: &str| -> Vec<scraper::ElementRef> {
        block
            .select(&scraper::Selector::parse(css).unwrap())
            .collect()
    };
    let candidates = probe["detail"]["explain"]["candidates"].as_array().unwrap();
    let rows = within("table.trace tr");
    assert_eq!(
        rows.len(),
        candidates.len() + 1,
        "a header and a row per candidate"
    );
    let won = within("table.trace tr.won");
    assert_eq!(won.len(), 1);
    let won = text_of(&won[0]);
    assert!(
        won.contains("/shop") && won.contains(" 1 "),
        "rule 1 wins: {won}"
    );
    let all = text_of(&within("div.trace")[0]);
    assert!(
        all.contains("path /apiv2 does not match PathPrefix /api"),
        "{all}"
    );
    assert!(all.contains("listener http"), "{all}");

    // A saved report draws the same page, map and trace included.
    let again = dir.path().join("again.html");
    let o = gwlab(&[
        "report",
        saved.to_str().unwrap(),
        "--html",
        again.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(std::fs::read_to_string(&again).unwrap(), page);
}
