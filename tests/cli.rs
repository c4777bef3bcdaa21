//! The `gwlab` binary end to end on the embedded target: the repository's
//! scenarios, reports, broken input and exit codes.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn gwlab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gwlab"))
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("GWLAB_TARGET")
        .output()
        .expect("gwlab runs")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn repo(p: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(p)
        .display()
        .to_string()
}

/// A scenario directory with the given files.
fn scenario(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, body) in files {
        std::fs::write(dir.path().join(name), body).unwrap();
    }
    dir
}

const ROUTE: &str = "apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: app
spec:
  parentRefs:
    - {name: kong, namespace: kong-system}
  hostnames: [app.example.com]
  rules:
    - backendRefs:
        - {name: app, port: 8080}
";

#[test]
fn the_repository_scenarios_pass_with_valid_reports() {
    let out = tempfile::tempdir().unwrap();
    let junit = out.path().join("junit.xml");
    let json = out.path().join("report.json");
    let o = gwlab(&[
        "test",
        &repo("scenarios"),
        "--junit",
        junit.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
    ]);
    let all = text(&o);
    assert_eq!(o.status.code(), Some(0), "{all}");
    assert!(
        all.lines().next().unwrap().starts_with("target: embedded"),
        "the first line names the target: {all}"
    );

    let dirs: Vec<PathBuf> = std::fs::read_dir(repo("scenarios"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("scenario.yaml").is_file())
        .collect();
    assert!(
        dirs.len() >= 11,
        "the seed's patterns and the workshop scenarios"
    );

    let xml = std::fs::read_to_string(&junit).unwrap();
    let doc = roxmltree::Document::parse(&xml).expect("JUnit is well-formed XML");
    let suites: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testsuite"))
        .collect();
    assert_eq!(suites.len(), dirs.len(), "one testsuite per scenario");
    let mut total = 0;
    for s in &suites {
        let cases = s.children().filter(|n| n.has_tag_name("testcase")).count();
        assert_eq!(
            s.attribute("tests").unwrap().parse::<usize>().unwrap(),
            cases
        );
        assert_eq!(s.attribute("failures"), Some("0"));
        total += cases;
    }
    let root = doc.root_element();
    assert_eq!(
        root.attribute("tests").unwrap().parse::<usize>().unwrap(),
        total
    );
    // Conditions and probes of the redirect scenario are testcases of their own.
    let redirect = suites
        .iter()
        .find(|s| s.attribute("name") == Some("redirect"))
        .unwrap();
    let names: Vec<&str> = redirect
        .children()
        .filter_map(|n| n.attribute("name"))
        .collect();
    assert_eq!(
        names
            .iter()
            .filter(|n| n.starts_with("condition: "))
            .count(),
        2,
        "{names:?}"
    );
    assert_eq!(
        names.iter().filter(|n| n.starts_with("probe: ")).count(),
        4,
        "{names:?}"
    );

    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(report["target"], "embedded");
    let scenarios = report["scenarios"].as_array().unwrap();
    assert_eq!(scenarios.len(), dirs.len());
    assert!(scenarios.iter().all(|s| s["verdict"] == "passed"));
    let canary = scenarios.iter().find(|s| s["name"] == "canary").unwrap();
    let split = &canary["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "probe")
        .unwrap()["detail"]["split"];
    assert_eq!(
        split["counts"]["app-v3"],
        serde_json::Value::Null,
        "the weight-0 backend got nothing"
    );
    let total: u64 = split["counts"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(total, 400);
}

#[test]
fn a_wrong_expectation_fails_with_expected_and_actual() {
    let dir = scenario(&[
        ("route.yaml", ROUTE),
        (
            "scenario.yaml",
            "backends: [{name: app}]\nprobes:\n  - name: wrong backend\n    request: {url: 'http://app.example.com/x'}\n    expect: {status: 200, backend: other, backendRequest: {path: /y}}\n",
        ),
    ]);
    let junit = dir.path().join("out.xml");
    let o = gwlab(&[
        "test",
        dir.path().to_str().unwrap(),
        "--junit",
        junit.to_str().unwrap(),
    ]);
    let all = text(&o);
    assert_eq!(o.status.code(), Some(1), "{all}");
    assert!(all.contains("FAIL"), "{all}");
    assert!(all.contains("backend: expected other, got app"), "{all}");
    assert!(
        all.contains("backendRequest.path: expected /y, got /x"),
        "{all}"
    );
    assert!(
        all.contains("scenario.yaml:3"),
        "the failure points at the probe: {all}"
    );
    let xml = std::fs::read_to_string(&junit).unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    assert_eq!(doc.root_element().attribute("failures"), Some("1"));
}

fn bad_input(files: &[(&str, &str)], needles: &[&str]) {
    let dir = scenario(files);
    for cmd in ["test", "check"] {
        let o = gwlab(&[cmd, dir.path().to_str().unwrap()]);
        let all = text(&o);
        assert_eq!(o.status.code(), Some(2), "{cmd}: {all}");
        for n in needles {
            assert!(all.contains(n), "{cmd}: expected {n:?} in:\n{all}");
        }
    }
}

#[test]
fn unknown_scenario_field_names_file_line_and_field() {
    bad_input(
        &[
            ("route.yaml", ROUTE),
            (
                "scenario.yaml",
                "backends: [{name: app}]\nprobes:\n  - request: {url: 'http://a/'}\n    expect:\n      status: 200\n      bakend: app\n",
            ),
        ],
        &["scenario.yaml:6", "bakend"],
    );
}

#[test]
fn bad_duration_is_reported() {
    bad_input(
        &[
            ("route.yaml", ROUTE),
            (
                "scenario.yaml",
                "timeouts: {probes: 30}\nprobes:\n  - request: {url: 'http://a/'}\n    expect: {status: 200}\n",
            ),
        ],
        &["scenario.yaml:1", "no unit"],
    );
}

#[test]
fn probe_without_expect_is_an_error() {
    bad_input(
        &[
            ("route.yaml", ROUTE),
            (
                "scenario.yaml",
                "probes:\n  - name: forgot\n    request: {url: 'http://a/'}\n",
            ),
        ],
        &["scenario.yaml:2", "probe `forgot` has no `expect`"],
    );
}

#[test]
fn unquoted_header_value_says_to_quote_it() {
    bad_input(
        &[
            ("route.yaml", ROUTE),
            (
                "scenario.yaml",
                "probes:\n  - request:\n      url: 'http://a/'\n      headers: {X-Beta: yes}\n    expect: {status: 200}\n",
            ),
        ],
        &["scenario.yaml:4", "quote"],
    );
}

#[test]
fn manifest_typo_names_the_manifest_line() {
    let typo = ROUTE.replace("    - backendRefs:", "    - backendRef:");
    bad_input(
        &[
            ("route.yaml", &typo),
            (
                "scenario.yaml",
                "probes:\n  - request: {url: 'http://a/'}\n    expect: {status: 200}\n",
            ),
        ],
        &["route.yaml:10", "backendRef"],
    );
}

#[test]
fn steps_and_top_level_probes_are_exclusive() {
    bad_input(
        &[
            ("route.yaml", ROUTE),
            (
                "scenario.yaml",
                "probes:\n  - request: {url: 'http://a/'}\n    expect: {status: 200}\nsteps:\n  - apply: [missing.yaml]\n",
            ),
        ],
        &["either `steps` or top-level"],
    );
}

#[test]
fn a_step_naming_a_missing_file_is_an_error() {
    bad_input(
        &[
            ("route.yaml", ROUTE),
            (
                "scenario.yaml",
                "steps:\n  - apply: [rout.yaml]\n    probes:\n      - request: {url: 'http://a/'}\n        expect: {status: 200}\n",
            ),
        ],
        &["scenario.yaml:2", "rout.yaml", "route.yaml"],
    );
}

#[test]
fn a_missing_directory_is_bad_input() {
    let o = gwlab(&["test", "/nonexistent/gwlab-scenarios"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("no such file or directory"));
}

#[test]
fn unsupported_features_skip_unless_required() {
    let dir = scenario(&[
        ("route.yaml", ROUTE),
        (
            "scenario.yaml",
            "features: [GRPCRouteExtendedThing]\nbackends: [{name: app}]\nprobes:\n  - request: {url: 'http://app.example.com/'}\n    expect: {status: 200}\n",
        ),
    ]);
    let o = gwlab(&["test", dir.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        text(&o).contains("unsupported, the target lacks GRPCRouteExtendedThing"),
        "{}",
        text(&o)
    );
    let o = gwlab(&["test", "--require-features", dir.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
}

#[test]
fn tags_select_scenarios() {
    let o = gwlab(&["test", "--tag", "seed", &repo("scenarios")]);
    let all = text(&o);
    assert_eq!(o.status.code(), Some(0), "{all}");
    assert!(
        all.contains("PASS redirect") && all.contains("PASS canary"),
        "{all}"
    );
    assert!(!all.contains("precedence"), "{all}");
}

#[test]
fn unknown_target_is_a_usage_error() {
    let o = gwlab(&["test", "--target", "elsewhere", &repo("scenarios")]);
    assert_eq!(o.status.code(), Some(2));
}
