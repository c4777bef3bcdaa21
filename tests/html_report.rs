//! The HTML report end to end: `gwlab test --html` writes a page, and
//! `gwlab report` renders the saved JSON of the same run as the same page;
//! a JSON file that is not a gwlab report is bad input naming the file.

#[path = "common/bin.rs"]
mod bin;

use std::path::Path;

use bin::{gwlab, text};

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
