//! The reports CI reads, end to end: the JSON report's layout (schema
//! version, camelCase names, durations in seconds, source locations, every
//! field documented in docs/reports.md), JUnit's failure messages and
//! locations, GitHub Actions annotations, and duplicate scenario names.

use std::path::Path;

use crate::common::bin::{APP_ROUTE as ROUTE, gwlab, scenario_dir, text};

/// A scenario with a passing condition, a failing probe (line 6) and a split.
const SCENARIO: &str = "backends: [{name: app}]
conditions:
  - {resource: HTTPRoute/app, type: Accepted}
probes:
  - name: wrong status
    request: {url: 'http://app.example.com/x'}
    expect: {status: 201}
  - name: split
    request: {url: 'http://app.example.com/'}
    samples: 50
    expect: {split: {app: 1}}
";

fn run(extra_env: &[(&str, &str)]) -> (tempfile::TempDir, std::process::Output) {
    let dir = scenario_dir(&[("route.yaml", ROUTE), ("scenario.yaml", SCENARIO)]);
    let json = dir.path().join("r.json");
    let junit = dir.path().join("r.xml");
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_gwlab"));
    cmd.args([
        "test",
        dir.path().to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
        "--junit",
        junit.to_str().unwrap(),
    ])
    .env("NO_COLOR", "1")
    .env_remove("GWLAB_TARGET")
    .env_remove("GITHUB_ACTIONS");
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    let o = cmd.output().unwrap();
    (dir, o)
}

fn report(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("r.json")).unwrap()).unwrap()
}

/// Every object key of `v` with its path, except inside maps whose keys are
/// data (header names, backend names).
fn keys(v: &serde_json::Value, path: &str, out: &mut Vec<(String, String)>) {
    const DATA_MAPS: &[&str] = &["headers", "counts", "expected", "bounds"];
    match v {
        serde_json::Value::Object(m) => {
            for (k, child) in m {
                out.push((path.to_string(), k.clone()));
                if !DATA_MAPS.contains(&k.as_str()) {
                    keys(child, &format!("{path}.{k}"), out);
                }
            }
        }
        serde_json::Value::Array(a) => a.iter().for_each(|c| keys(c, &format!("{path}[]"), out)),
        _ => {}
    }
}

#[test]
fn the_json_report_is_versioned_camel_case_in_seconds_with_locations_and_documented() {
    let (dir, o) = run(&[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let r = report(dir.path());
    assert_eq!(r["schemaVersion"], 2);
    let mut all = Vec::new();
    keys(&r, "", &mut all);
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/reports.md"))
            .unwrap();
    for (at, k) in &all {
        assert!(
            k.chars().next().unwrap().is_ascii_lowercase()
                && k.chars().all(|c| c.is_ascii_alphanumeric()),
            "{at}.{k} is not camelCase"
        );
        assert!(
            !matches!(k.as_str(), "secs" | "nanos"),
            "{at}.{k}: a duration as a structure"
        );
        if k.contains("uration") || k.contains("lapsed") {
            assert!(
                k.ends_with("Seconds"),
                "{at}.{k}: durations are named ...Seconds"
            );
        }
        assert!(
            doc.contains(&format!("`{k}`")),
            "{at}.{k} is not documented in docs/reports.md"
        );
    }
    let s = &r["scenarios"][0];
    let file = dir.path().join("scenario.yaml").display().to_string();
    assert_eq!(s["source"], serde_json::json!({"file": file, "line": 1}));
    assert!(s["durationSeconds"].is_number());
    let checks = s["checks"].as_array().unwrap();
    let lines: Vec<u64> = checks
        .iter()
        .map(|c| c["source"]["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, [3, 5, 8], "condition, probe, probe");
    let failed = &checks[1];
    assert_eq!(failed["failure"][0], "status: expected 201, got 200");
    assert!(
        failed["request"]
            .as_str()
            .unwrap()
            .starts_with("GET http://app.example.com/x")
    );
    assert!(failed["detail"]["elapsedSeconds"].is_number());
}

#[test]
fn junit_failures_carry_the_mismatch_and_testcases_their_file_and_line() {
    let (dir, _) = run(&[]);
    let xml = std::fs::read_to_string(dir.path().join("r.xml")).unwrap();
    let doc = roxmltree::Document::parse(&xml).expect("well-formed XML");
    let file = dir.path().join("scenario.yaml").display().to_string();
    let cases: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    assert_eq!(cases.len(), 3);
    for (case, line) in cases.iter().zip(["3", "5", "8"]) {
        assert_eq!(case.attribute("file"), Some(file.as_str()));
        assert_eq!(case.attribute("line"), Some(line));
    }
    let failure = doc
        .descendants()
        .find(|n| n.has_tag_name("failure"))
        .unwrap();
    assert_eq!(
        failure.attribute("message"),
        Some("status: expected 201, got 200")
    );
}

#[test]
fn in_github_actions_failures_are_annotations_on_the_scenario_line() {
    let (dir, o) = run(&[("GITHUB_ACTIONS", "true")]);
    let out = String::from_utf8_lossy(&o.stdout);
    let file = dir.path().join("scenario.yaml").display().to_string();
    let annotations: Vec<&str> = out.lines().filter(|l| l.starts_with("::error ")).collect();
    assert_eq!(annotations.len(), 1, "{out}");
    assert!(
        annotations[0].starts_with(&format!("::error file={file},line=5,title=gwlab%3A ")),
        "{out}"
    );
    assert!(
        annotations[0].contains("::status: expected 201, got 200%0A"),
        "the mismatch comes first: {out}"
    );
    assert!(
        annotations[0].contains("%0AGET http://app.example.com/x"),
        "{out}"
    );
    let (_, o) = run(&[]);
    assert!(
        !String::from_utf8_lossy(&o.stdout).contains("::error"),
        "only in GitHub Actions"
    );
}

#[test]
fn two_scenarios_of_one_name_are_bad_input_naming_both_directories() {
    let root = tempfile::tempdir().unwrap();
    for d in ["a", "b"] {
        let dir = root.path().join(d);
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(dir.join("route.yaml"), ROUTE).unwrap();
        std::fs::write(
            dir.join("scenario.yaml"),
            "name: same\nbackends: [{name: app}]\nprobes:\n  - request: {url: 'http://app.example.com/'}\n    expect: {status: 200}\n",
        )
        .unwrap();
    }
    for cmd in ["test", "check"] {
        let o = gwlab(&[cmd, root.path().to_str().unwrap()]);
        let all = text(&o);
        assert_eq!(o.status.code(), Some(2), "{cmd}: {all}");
        let a = root.path().join("a").display().to_string();
        let b = root.path().join("b").display().to_string();
        assert!(
            all.contains(&format!("two scenarios are named `same`: {a} and {b}")),
            "{cmd}: {all}"
        );
    }
}
