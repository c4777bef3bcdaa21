//! Split probes end to end on the embedded gateway: `tolerance`, `samples:
//! auto`, and the power statement in every report.

use std::path::Path;

use crate::common::bin::{assert_bad_input, gwlab, scenario_dir, text};

/// A route splitting canary.example.com between app-v1 and app-v2 by these weights.
fn route(v1: u32, v2: u32) -> String {
    format!(
        "apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: canary
spec:
  parentRefs:
    - {{name: kong, namespace: kong-system}}
  hostnames: [canary.example.com]
  rules:
    - backendRefs:
        - {{name: app-v1, port: 8080, weight: {v1}}}
        - {{name: app-v2, port: 8080, weight: {v2}}}
"
    )
}

/// A scenario with one split probe: `probe` is its lines after `request`.
fn scenario(probe: &str) -> String {
    format!(
        "backends: [{{name: app-v1}}, {{name: app-v2}}]
probes:
  - name: split
    request: {{url: 'http://canary.example.com/'}}
{probe}"
    )
}

fn bad_input(scenario_yaml: &str, needles: &[&str]) {
    let route = route(90, 10);
    assert_bad_input(
        &[("route.yaml", &route), ("scenario.yaml", scenario_yaml)],
        needles,
    );
}

#[test]
fn tolerance_and_auto_apply_to_splits_only() {
    bad_input(
        &scenario("    tolerance: 5\n    expect: {status: 200}\n"),
        &[
            "scenario.yaml:3",
            "probes[].tolerance",
            "applies to probes with `expect.split`",
        ],
    );
    bad_input(
        &scenario("    samples: auto\n    expect: {status: 200}\n"),
        &[
            "scenario.yaml:3",
            "probes[].samples",
            "`samples: auto` sizes the sample of a `split`",
        ],
    );
}

#[test]
fn a_tolerance_must_be_points_between_0_and_100() {
    for bad in ["0", "100", "-5"] {
        bad_input(
            &scenario(&format!(
                "    tolerance: {bad}\n    expect: {{split: {{app-v1: 90, app-v2: 10}}}}\n"
            )),
            &[
                "probes[].tolerance",
                "above 0 and below 100",
                "e.g. `tolerance: 5`",
            ],
        );
    }
}

#[test]
fn samples_are_a_number_or_auto() {
    bad_input(
        &scenario("    samples: many\n    expect: {split: {app-v1: 90, app-v2: 10}}\n"),
        &[
            "scenario.yaml:",
            "samples `many` must be a number of requests or `auto`",
        ],
    );
}

/// Runs `gwlab test` on a scenario; returns the exit code, the output and the JSON report.
fn run(route_yaml: &str, scenario_yaml: &str) -> (Option<i32>, String, serde_json::Value, String) {
    let dir = scenario_dir(&[("route.yaml", route_yaml), ("scenario.yaml", scenario_yaml)]);
    let json = dir.path().join("out.json");
    let junit = dir.path().join("out.xml");
    let o = gwlab(&[
        "test",
        dir.path().to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
        "--junit",
        junit.to_str().unwrap(),
    ]);
    let report = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let xml = std::fs::read_to_string(&junit).unwrap();
    (o.status.code(), text(&o), report, xml)
}

fn probe_check(report: &serde_json::Value) -> &serde_json::Value {
    report["scenarios"][0]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "probe")
        .unwrap()
}

/// A 90/10 split probe within 5 points, with `samples: auto`.
const AUTO_WITHIN_5: &str =
    "    samples: auto\n    tolerance: 5\n    expect:\n      split: {app-v1: 90, app-v2: 10}\n";

#[test]
fn a_tolerance_split_with_auto_passes_and_states_its_power_everywhere() {
    let (code, out, report, xml) = run(&route(90, 10), &scenario(AUTO_WITHIN_5));
    assert_eq!(code, Some(0), "{out}");
    let check = probe_check(&report);
    let split = &check["detail"]["split"];
    assert_eq!(split["tolerance"], 5.0);
    // Sequential: looks of 293, 586, ... up to 18752 requests; a split
    // served as expected stops at the first look that shows it within.
    let plan = &split["power"]["auto"]["sequential"];
    assert_eq!(
        (plan["first"].as_u64(), plan["looks"].as_u64()),
        (Some(293), Some(7))
    );
    assert_eq!(split["power"]["auto"]["samples"], 18752);
    assert_eq!(split["sequential"]["stopped"], "within");
    let look = split["sequential"]["looks"].as_u64().unwrap();
    let total: u64 = split["counts"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(
        total,
        293 << (look - 1),
        "the sample is the look it stopped at"
    );
    assert!(look < 7, "a split served as expected stops early: {out}");
    let statement = format!(
        "{total} samples (auto, sequential: look {look} of 7, at most 18752), stopped as soon as every share was shown within the tolerance: a share off by 5 points (the tolerance) or more passes with at most 5 % probability, and a split with every share inside the tolerance fails as outside with at most 0.1 %"
    );
    assert!(out.contains(&format!("       {statement}")), "{out}");
    assert_eq!(check["power"], statement.as_str());
    assert_eq!(split["power"]["deviation"], 5.0);
    assert!(
        xml.contains(&format!("<system-out>{statement}</system-out>")),
        "{xml}"
    );
}

#[test]
fn a_split_off_its_weights_by_more_than_the_tolerance_fails() {
    let (code, out, report, _) = run(&route(80, 20), &scenario(AUTO_WITHIN_5));
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("split: outside the tolerance: app-v1 answered"),
        "{out}"
    );
    assert!(out.contains("outside 90 ± 5 points"), "{out}");
    assert!(
        out.contains("stopped as soon as a share was shown outside the tolerance"),
        "{out}"
    );
    assert_eq!(
        probe_check(&report)["detail"]["split"]["sequential"]["stopped"],
        "outside"
    );
    assert_eq!(probe_check(&report)["passed"], false);
}

#[test]
fn too_few_samples_for_the_tolerance_fail_saying_how_many_are_needed() {
    // One backend answers everything; 20 answers cannot show its share above
    // 95 % (that takes 59), so the probe cannot pass, whatever it sees.
    let one = "apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: canary
spec:
  parentRefs:
    - {name: kong, namespace: kong-system}
  hostnames: [canary.example.com]
  rules:
    - backendRefs:
        - {name: app-v1, port: 8080}
";
    let (code, out, _, _) = run(
        one,
        &scenario("    samples: 20\n    tolerance: 5\n    expect:\n      split: {app-v1: 1}\n"),
    );
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("split: inconclusive, which fails"), "{out}");
    assert!(
        out.contains("20 samples: a deviation of 5 points (the tolerance) or more would have been caught with 95 % probability; a split served exactly as expected may well fail with this few"),
        "{out}"
    );
    assert!(
        out.contains("more samples are needed: about 59 would decide shares like these (`samples: auto` samples sequentially, up to "),
        "{out}"
    );
}

#[test]
fn the_repository_canary_states_its_power() {
    let canary = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/canary");
    let o = gwlab(&["test", canary.to_str().unwrap()]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(
        out.contains("       400 samples: a deviation of 8.0 points or more would have been caught with 95 % probability"),
        "{out}"
    );
}
