//! The `gwlab` binary end to end on the embedded target: the repository's
//! scenarios, reports, broken input and exit codes.

use std::path::{Path, PathBuf};

use crate::common::bin::{
    APP_ROUTE as ROUTE, assert_bad_input as bad_input, gwlab, scenario_dir as scenario, text,
};
use std::process::Command;

fn repo(p: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(p)
        .display()
        .to_string()
}

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
            "features: [GRPCRoute]\nbackends: [{name: app}]\nprobes:\n  - request: {url: 'http://app.example.com/'}\n    expect: {status: 200}\n",
        ),
    ]);
    let o = gwlab(&["test", dir.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        text(&o).contains("unsupported, the target lacks GRPCRoute"),
        "{}",
        text(&o)
    );
    assert!(
        text(&o).contains("features: 0 scenarios ran; unsupported on the embedded target: "),
        "the run ends with a feature line: {}",
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

#[test]
fn the_gateway_feature_scenarios_pass() {
    // Scenario Gateways, listener hostnames, allowedRoutes, conflicts and
    // ReferenceGrant fields, each as a scenario run through the binary.
    let o = gwlab(&["test", &repo("tests/scenarios")]);
    let all = text(&o);
    assert_eq!(o.status.code(), Some(0), "{all}");
    for name in [
        "listener-hostnames",
        "allowed-routes",
        "listener-conflicts",
        "grant-fields",
        "rule-timeouts",
        "listener-isolation",
        "declared-features",
    ] {
        assert!(all.contains(&format!("PASS {name}")), "{name}: {all}");
    }
}

#[test]
fn every_feature_the_embedded_gateway_declares_is_shown_by_a_passing_scenario() {
    // The scenarios of both directories pass (the tests above); here: each
    // declared feature is in the `features` of at least one of them.
    let dirs =
        gwlab::scenario::find(&[repo("scenarios").into(), repo("tests/scenarios").into()]).unwrap();
    let declared: std::collections::BTreeSet<String> = dirs
        .iter()
        .flat_map(|d| gwlab::scenario::load(d).unwrap().features)
        .collect();
    for f in gwlab::model::compile::SUPPORTED_FEATURES {
        assert!(declared.contains(f.name()), "no scenario shows {f}");
    }
}

#[test]
fn explain_says_which_match_won_and_why_the_others_lost() {
    let o = gwlab(&[
        "explain",
        &repo("scenarios/precedence"),
        "--url",
        "http://www.example.com/api/users",
        "-H",
        "X-Beta: true",
    ]);
    let all = text(&o);
    assert_eq!(o.status.code(), Some(0), "{all}");
    assert!(all.contains("listener: http"), "{all}");
    assert!(
        all.lines()
            .any(|l| l.contains("WON") && l.contains("/a-api rule 3")),
        "{all}"
    );
    assert!(all.contains("fewer header matches (0 < 1)"), "{all}");
    assert!(all.contains("less specific hostname"), "{all}");
    assert!(
        all.contains("answered by echo backend") && all.contains("/beta"),
        "{all}"
    );
    assert!(all.contains("route attachment:"), "{all}");
}

#[test]
fn explain_json_gives_the_redirect_and_the_attachment() {
    let o = gwlab(&[
        "explain",
        &repo("scenarios/redirect"),
        "--url",
        "http://imprun.dev/docs",
        "-o",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON on stdout");
    assert_eq!(v["outcome"]["status"], 301);
    assert_eq!(v["outcome"]["location"], "http://portal.imprun.dev/docs");
    assert_eq!(v["candidates"][0]["verdict"], "won");
    assert_eq!(
        v["attachments"][0]["route"],
        "imprun-system/imprun-root-redirect"
    );
    assert!(
        v["attachments"][0]["accepted"]
            .as_str()
            .unwrap()
            .starts_with("True")
    );
}

#[test]
fn explain_steps_show_the_state_after_that_step() {
    let after = |step: &str| {
        let o = gwlab(&[
            "explain",
            &repo("scenarios/cross-namespace"),
            "--url",
            "http://portal.example.com/api",
            "--step",
            step,
            "-o",
            "json",
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        v["outcome"]["summary"].as_str().unwrap().to_string()
    };
    assert!(
        after("1").contains("answered by echo backend gwlab-shared/shared-api"),
        "{}",
        after("1")
    );
    assert!(after("2").contains("RefNotPermitted"), "{}", after("2"));
    let o = gwlab(&[
        "explain",
        &repo("scenarios/cross-namespace"),
        "--url",
        "http://portal.example.com/",
        "--step",
        "3",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}

#[test]
fn explain_graph_draws_the_route_map_of_the_state_asked_for() {
    let graph = |format: &str, step: &str| {
        let o = gwlab(&[
            "explain",
            &repo("scenarios/cross-namespace"),
            "--graph",
            format,
            "--step",
            step,
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        String::from_utf8(o.stdout).unwrap()
    };
    // After step 1 the ReferenceGrant lets the route reach the Service; step 2
    // deletes it, and the backend turns to the failure colour.
    let granted = graph("mermaid", "1");
    assert!(granted.starts_with("flowchart LR\n"), "{granted}");
    assert!(
        granted.contains("gwlab-shared/shared-api:8080<br/>weight 1 (100 %)\"]"),
        "{granted}"
    );
    assert!(!granted.contains("\n  class "), "no failed node: {granted}");
    let refused = graph("mermaid", "2");
    assert!(refused.contains("<br/>500 RefNotPermitted\"]"), "{refused}");
    assert!(
        refused.contains("\n  class backend0_0_0 failed\n"),
        "{refused}"
    );
    assert!(graph("dot", "2").starts_with("digraph route_map {"));
    let svg = graph("svg", "2");
    assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"route-map\""));

    // --graph takes no request; without --graph a request is needed.
    for args in [
        &["--graph", "svg", "--url", "http://portal.example.com/"][..],
        &["--graph", "dot", "-o", "json"][..],
        &["--graph", "png"][..],
        &[][..],
    ] {
        let mut all = vec!["explain", "scenarios/cross-namespace"];
        all.extend_from_slice(args);
        let o = gwlab(&all);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
        assert!(o.stdout.is_empty(), "{args:?}");
    }
}

#[test]
fn the_route_map_in_the_docs_is_what_explain_graph_prints() {
    let o = gwlab(&[
        "explain",
        &repo("scenarios/https-redirect"),
        "--graph",
        "mermaid",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let map = String::from_utf8(o.stdout).unwrap();
    let docs = std::fs::read_to_string(repo("docs/reports.md")).unwrap();
    assert!(
        docs.contains(&format!("```mermaid\n{map}```")),
        "docs/reports.md's Mermaid example differs from:\n{map}"
    );
}

#[test]
fn serve_answers_until_interrupted() {
    use std::io::{BufRead, BufReader};
    let mut child = Command::new(env!("CARGO_BIN_EXE_gwlab"))
        .args([
            "serve",
            &repo("scenarios/path-routing"),
            "--port",
            "0",
            "--https-port",
            "0",
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut curl = None;
    let mut seen = Vec::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        seen.push(line.clone());
        if line.contains("curl") && line.contains("http://") {
            curl = Some(line);
            break;
        }
    }
    let curl = curl.unwrap_or_else(|| panic!("no curl line in {seen:?}"));
    assert!(
        seen.iter()
            .any(|l| l.contains("HTTPRoute") && l.contains("Accepted True")),
        "{seen:?}"
    );
    let answer = get_through_curl(&curl, "app.example.com", "/api/x");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("\"service\":\"backend-api\""), "{answer}");

    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let code = child.wait().unwrap();
    assert_eq!(code.code(), Some(0));
    assert!(lines.any(|l| l.unwrap() == "stopped"));
}

#[test]
fn parallel_runs_report_in_the_scenarios_order() {
    let out = tempfile::tempdir().unwrap();
    let json = out.path().join("r.json");
    let o = gwlab(&[
        "test",
        &repo("scenarios"),
        "--parallel",
        "4",
        "--json",
        json.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let names: Vec<&str> = v["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(
        names, sorted,
        "the report keeps the scenarios' order whatever finished first"
    );
}

#[test]
fn shards_split_the_scenarios_between_them() {
    let names = |shard: &str| -> Vec<String> {
        let out = tempfile::tempdir().unwrap();
        let json = out.path().join("r.json");
        let o = gwlab(&[
            "test",
            &repo("scenarios"),
            "--shard",
            shard,
            "--json",
            json.to_str().unwrap(),
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
        v["scenarios"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["name"].as_str().unwrap().to_string())
            .collect()
    };
    let (a, b) = (names("1/2"), names("2/2"));
    assert!(
        a.iter().all(|n| !b.contains(n)),
        "no scenario in both shards"
    );
    assert_eq!(
        a.len() + b.len(),
        crate::common::bin::repository_scenarios(),
        "{a:?} {b:?}"
    );
    assert_eq!(names("1/2"), a, "the same shard twice is the same set");
    assert_eq!(
        gwlab(&["test", &repo("scenarios"), "--shard", "3/2"])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn an_unquoted_yes_names_its_field() {
    bad_input(
        &[
            ("route.yaml", ROUTE),
            (
                "scenario.yaml",
                "backends: [{name: app}]\nprobes:\n  - request:\n      url: 'http://app.example.com/'\n      headers: {X-Debug: yes}\n    expect: {status: 200}\n",
            ),
        ],
        &[
            "scenario.yaml:5: field `probes[0].request.headers.X-Debug`",
            "must be quoted",
        ],
    );
}

#[test]
fn a_misspelt_kind_is_the_only_error_not_its_follow_ons() {
    let route = ROUTE.replace("kind: HTTPRoute", "kind: HttpRoute");
    let files = [
        ("route.yaml", route.as_str()),
        (
            "scenario.yaml",
            "backends: [{name: app}]\nconditions:\n  - {resource: HTTPRoute/app, type: Accepted}\nprobes:\n  - request: {url: 'http://app.example.com/'}\n    expect: {status: 200}\n",
        ),
    ];
    bad_input(
        &files,
        &[
            "route.yaml:2: field `kind`: `HttpRoute` is not a kind of the Gateway API",
            "write `kind: HTTPRoute`",
        ],
    );
    let dir = scenario(&files);
    let all = text(&gwlab(&["check", dir.path().to_str().unwrap()]));
    assert!(
        !all.contains("no manifest of the scenario defines it"),
        "{all}"
    );
}

#[test]
fn an_unknown_feature_name_is_bad_input_listing_the_known_ones() {
    bad_input(
        &[
            ("route.yaml", ROUTE),
            (
                "scenario.yaml",
                "features: [HTTPRouteSchemeRedirekt]\nbackends: [{name: app}]\nprobes:\n  - request: {url: 'http://app.example.com/'}\n    expect: {status: 200}\n",
            ),
        ],
        &[
            "scenario.yaml:1: field `features[0]`: `HTTPRouteSchemeRedirekt` is not a Gateway API feature name",
            "the names are those of Gateway API's conformance features (v1.2.1 to v1.5.1)",
            "HTTPRouteSchemeRedirect, Mesh",
        ],
    );
}

#[test]
fn check_notes_a_feature_the_routes_use_without_declaring_it() {
    let route = ROUTE.replace(
        "    - backendRefs:",
        "    - matches: [{method: GET}]\n      backendRefs:",
    );
    let dir = scenario(&[
        ("route.yaml", route.as_str()),
        (
            "scenario.yaml",
            "backends: [{name: app}]\nprobes:\n  - request: {url: 'http://app.example.com/'}\n    expect: {status: 200}\n",
        ),
    ]);
    let o = gwlab(&["check", dir.path().to_str().unwrap()]);
    let all = text(&o);
    assert_eq!(o.status.code(), Some(0), "a note, not an error: {all}");
    assert!(
        all.contains("note: HTTPRoute app (")
            && all.contains(
                "route.yaml:1) uses HTTPRouteMethodMatching, which `features` does not list"
            ),
        "{all}"
    );
}

/// GET `path` from `host` at the port of a serve curl line
/// (`curl -sv --resolve HOST:PORT:127.0.0.1 http://HOST:PORT/...`); the raw answer.
fn get_through_curl(curl: &str, host: &str, path: &str) -> String {
    use std::io::{Read, Write};
    let resolve = curl
        .split_whitespace()
        .find(|w| w.starts_with(&format!("{host}:")))
        .unwrap();
    let port = resolve.split(':').nth(1).unwrap();
    let mut s = std::net::TcpStream::connect(format!("127.0.0.1:{port}")).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    answer
}

/// `gwlab serve DIR` on free ports, stopped (Ctrl-C) when dropped.
struct Served {
    child: std::process::Child,
    lines: std::io::Lines<std::io::BufReader<std::process::ChildStdout>>,
    /// The `try:` curl lines printed before it waits.
    curls: Vec<String>,
}

impl Served {
    fn start(dir: &str) -> Served {
        use std::io::BufRead;
        let mut child = Command::new(env!("CARGO_BIN_EXE_gwlab"))
            .args(["serve", dir, "--port", "0", "--https-port", "0"])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
        let curls = lines
            .by_ref()
            .map(|l| l.unwrap())
            .skip_while(|l| l != "try:")
            .skip(1)
            .take_while(|l| l.starts_with("  curl"))
            .collect();
        Served {
            child,
            lines,
            curls,
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status();
        self.lines.by_ref().for_each(drop);
        let _ = self.child.wait();
    }
}

#[test]
fn serve_suggests_one_working_curl_per_listener_with_a_route() {
    let served = Served::start(&repo("scenarios/redirect"));
    let curls = &served.curls;
    assert_eq!(
        curls.len(),
        1,
        "the route is bound to the http listener only: {curls:?}"
    );
    let curl = &curls[0];
    assert!(curl.contains(" http://imprun.dev:"), "{curl}");
    let answer = get_through_curl(curl, "imprun.dev", "/");
    assert!(answer.starts_with("HTTP/1.1 301"), "{answer}");
}

#[test]
fn explain_takes_a_url_without_scheme_as_a_mistake_and_serves_port_8080_as_80() {
    let o = gwlab(&[
        "explain",
        &repo("scenarios/redirect"),
        "--url",
        "imprun.dev/docs",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o).contains(
            "the URL has no scheme; write it as a probe would, e.g. http://imprun.dev/docs"
        ),
        "{}",
        text(&o)
    );
    let o = gwlab(&[
        "explain",
        &repo("scenarios/redirect"),
        "--url",
        "http://imprun.dev:8080/docs",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let all = text(&o);
    assert!(
        all.contains("where `gwlab serve` serves its port 80 listeners"),
        "{all}"
    );
    assert!(all.contains("listener: http"), "{all}");
}

#[test]
fn a_404_names_the_hostnames_served_and_the_explain_command() {
    let dir = scenario(&[
        ("route.yaml", ROUTE),
        (
            "scenario.yaml",
            "backends: [{name: app}]\nprobes:\n  - request: {url: 'http://app.exmaple.com/'}\n    expect: {status: 200}\n",
        ),
    ]);
    let o = gwlab(&["test", dir.path().to_str().unwrap()]);
    let all = text(&o);
    assert_eq!(o.status.code(), Some(1), "{all}");
    assert!(all.contains("status: expected 200, got 404"), "{all}");
    assert!(
        all.contains("for host app.exmaple.com; on port 80: listener http (any host): routes "),
        "{all}"
    );
    assert!(all.contains("/app (app.example.com)"), "{all}");
    assert!(
        all.contains(&format!(
            "gwlab explain {} --url 'http://app.exmaple.com/'",
            dir.path().display()
        )),
        "{all}"
    );
}

/// `gwlab ... | head -1`: a reader that has gone ends the output, not the
/// command; no panic, the command's own exit code.
#[test]
fn a_closed_pipe_is_a_normal_end() {
    for args in [
        &["lab", "list"][..],
        &["test", "scenarios/redirect"],
        &["check", "scenarios"],
    ] {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_gwlab"))
            .args(args)
            .env("NO_COLOR", "1")
            .env_remove("GWLAB_TARGET")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // The reader goes before gwlab writes anything.
        drop(child.stdout.take());
        let o = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert_eq!(o.status.code(), Some(0), "{args:?}: {stderr}");
    }
}

/// Bad input in CI: an annotation at the file and line, and a JUnit file
/// with an error testcase naming it (a publishing step finds a file).
#[test]
fn bad_input_is_annotated_and_written_to_junit() {
    let dir = crate::common::bin::scenario_dir(&[(
        "scenario.yaml",
        "name: tabbed\nprobes:\n\t- name: x\n",
    )]);
    let junit = dir.path().join("j.xml");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_gwlab"))
        .args([
            "test",
            dir.path().to_str().unwrap(),
            "--junit",
            junit.to_str().unwrap(),
        ])
        .env("NO_COLOR", "1")
        .env("GITHUB_ACTIONS", "true")
        .env_remove("GWLAB_TARGET")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let stdout = String::from_utf8_lossy(&o.stdout);
    let file = dir.path().join("scenario.yaml").display().to_string();
    assert!(
        stdout.contains(&format!(
            "::error file={},line=3,",
            file.replace(':', "%3A")
        )),
        "{stdout}"
    );
    let xml = std::fs::read_to_string(&junit).expect("a JUnit file for bad input");
    assert!(
        xml.contains("errors=\"1\"") && xml.contains("<error message="),
        "{xml}"
    );
    assert!(xml.contains("line=\"3\""), "{xml}");
}

/// A report that cannot be written stops the run before anything runs.
#[test]
fn report_paths_are_checked_before_running() {
    let o = gwlab(&[
        "test",
        "scenarios/redirect",
        "--junit",
        "/nonexistent/dir/j.xml",
    ]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(2), "{t}");
    assert!(
        t.contains("--junit /nonexistent/dir/j.xml: the directory /nonexistent/dir does not exist"),
        "{t}"
    );
    assert!(!t.contains("target:"), "nothing ran: {t}");
    let o = gwlab(&["test", "scenarios/redirect", "--json", "scenarios"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o).contains("--json scenarios: is a directory"),
        "{}",
        text(&o)
    );
}

/// Shards are dealt by count; an empty shard says so; bad N and --parallel 0
/// are usage errors that say what is wrong.
#[test]
fn shards_are_balanced_and_bad_counts_say_what_is_wrong() {
    let ran = |shard: &str| -> Vec<String> {
        let o = gwlab(&[
            "test",
            "scenarios/redirect",
            "scenarios/path-routing",
            "scenarios/canary",
            "--shard",
            shard,
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        text(&o)
            .lines()
            .filter_map(|l| l.strip_prefix("PASS "))
            .map(|l| l.split(' ').next().unwrap().to_string())
            .collect()
    };
    assert_eq!(ran("1/2"), ["canary", "redirect"]);
    assert_eq!(ran("2/2"), ["path-routing"]);
    let o = gwlab(&["test", "scenarios/redirect", "--shard", "2/2"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(
        text(&o).contains("note: shard 2/2 is empty"),
        "{}",
        text(&o)
    );
    let o = gwlab(&["test", "scenarios/redirect", "--shard", "1/0"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o).contains("N, the number of shards, must be at least 1"),
        "{}",
        text(&o)
    );
    let o = gwlab(&["test", "scenarios/redirect", "--parallel", "0"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o).contains("run at least 1 scenario at a time"),
        "{}",
        text(&o)
    );
}

/// A failed probe names the rule that answered it, by file and line, in
/// its failure, its JSON (`answeredBy`) and a GitHub notice on that line.
#[test]
fn a_failed_probe_points_at_the_rule_that_answered() {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/path-routing");
    let dir = tempfile::tempdir().unwrap();
    for f in ["route.yaml", "scenario.yaml"] {
        let text = std::fs::read_to_string(src.join(f)).unwrap();
        // The second rule takes every path: "unmatched" paths get 200.
        let text = text.replace(
            "{type: PathPrefix, value: /web}",
            "{type: PathPrefix, value: /}",
        );
        std::fs::write(dir.path().join(f), text).unwrap();
    }
    let json = dir.path().join("r.json");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_gwlab"))
        .args([
            "test",
            dir.path().to_str().unwrap(),
            "--json",
            json.to_str().unwrap(),
        ])
        .env("NO_COLOR", "1")
        .env("GITHUB_ACTIONS", "true")
        .env_remove("GWLAB_TARGET")
        .output()
        .unwrap();
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    let route = dir.path().join("route.yaml").display().to_string();
    assert!(
        t.contains(&format!("the rule that answered: {route}:14 (HTTPRoute ")),
        "{t}"
    );
    assert!(
        t.contains(&format!(
            "::notice file={},line=14,",
            route.replace(':', "%3A")
        )),
        "{t}"
    );
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let failed = r["scenarios"][0]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["passed"] == false)
        .unwrap();
    assert_eq!(
        failed["answeredBy"],
        serde_json::json!({"file": route, "line": 14})
    );
}

/// A copy of scenarios/cors whose scenario.yaml has no `gatewayAPI:`.
fn cors_without_release(dir: &std::path::Path) -> PathBuf {
    let to = dir.join("cors");
    std::fs::create_dir_all(&to).unwrap();
    let from = PathBuf::from(repo("scenarios/cors"));
    std::fs::copy(from.join("route.yaml"), to.join("route.yaml")).unwrap();
    let scenario = std::fs::read_to_string(from.join("scenario.yaml")).unwrap();
    let without: String = scenario
        .lines()
        .filter(|l| !l.starts_with("gatewayAPI:"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_ne!(without, scenario, "scenarios/cors declares its release");
    std::fs::write(to.join("scenario.yaml"), without).unwrap();
    to
}

#[test]
fn a_field_of_a_later_gateway_api_release_is_named_with_the_release_that_has_it() {
    let dir = tempfile::tempdir().unwrap();
    let cors = cors_without_release(dir.path());
    let o = gwlab(&["test", cors.to_str().unwrap()]);
    let all = text(&o);
    assert_eq!(o.status.code(), Some(2), "{all}");
    let route = cors.join("route.yaml");
    assert!(
        all.contains(&format!(
            "{}:15: field `spec.rules[0].filters[0].cors`: the CORS filter is Gateway API v1.5.1, and this scenario's manifests are for v1.2.1",
            route.display()
        )),
        "{all}"
    );
    assert!(
        all.contains("hint: write the scenario for v1.5.1: `gatewayAPI: v1.5.1` in scenario.yaml (or run with `--gateway-api v1.5.1`), or leave it out"),
        "{all}"
    );
    // Read as v1.5.1, the same files pass; as v1.4.1 they do not.
    let o = gwlab(&["test", cors.to_str().unwrap(), "--gateway-api", "v1.5.1"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = gwlab(&["check", cors.to_str().unwrap(), "--gateway-api", "v1.4.1"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("manifests are for v1.4.1"),
        "{}",
        text(&o)
    );
    // A release gwlab does not know is a usage error naming the ones it does.
    let o = gwlab(&["test", cors.to_str().unwrap(), "--gateway-api", "v1.5.0"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("`v1.5.0` is not a Gateway API release gwlab knows (v1.2.1, v1.3.0, v1.4.1, v1.5.1, v1.6.1)"),
        "{}",
        text(&o)
    );
}

#[test]
fn a_scenario_for_v1_5_1_refuses_a_route_without_rules_that_v1_4_1_takes() {
    let dir = tempfile::tempdir().unwrap();
    let s = dir.path().join("empty");
    std::fs::create_dir_all(&s).unwrap();
    std::fs::write(
        s.join("route.yaml"),
        "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: empty}\nspec:\n  parentRefs: [{name: kong, namespace: kong-system}]\n  hostnames: [empty.example.com]\n  rules: []\n",
    )
    .unwrap();
    std::fs::write(
        s.join("scenario.yaml"),
        "gatewayAPI: v1.4.1\nprobes:\n  - name: nothing routes\n    request: {url: 'http://empty.example.com/'}\n    expect: {status: 404}\n",
    )
    .unwrap();
    let o = gwlab(&["test", s.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = gwlab(&["check", s.to_str().unwrap(), "--gateway-api", "v1.5.1"]);
    let all = text(&o);
    assert_eq!(o.status.code(), Some(2), "{all}");
    assert!(
        all.contains("field `spec.rules`: a route with no rules (`rules: []`) is refused since Gateway API v1.5.1"),
        "{all}"
    );
}
