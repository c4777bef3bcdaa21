//! What a mutation fuzzer found in `gwlab check`, `gwlab test` and
//! `gwlab migrate`, run as a user runs them: each case exits 2 naming the
//! file (never a panic, a hang or a silent wrong answer), or, for migrate,
//! warns naming the annotation and what it did instead.

use std::path::Path;

use crate::common::bin::{gwlab, text};

const ROUTE: &str = "apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: app}
spec:
  parentRefs: [{name: kong, namespace: kong-system}]
  hostnames: [app.example.com]
  rules:
  - backendRefs: [{name: app, port: 8080}]
";

fn scenario_dir(scenario: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("route.yaml"), ROUTE).unwrap();
    std::fs::write(dir.path().join("scenario.yaml"), scenario).unwrap();
    dir
}

/// `check` and `test` both exit 2 and say each of `needles`.
fn bad_input(dir: &Path, needles: &[&str]) {
    for cmd in ["check", "test"] {
        let o = gwlab(&[cmd, dir.to_str().unwrap()]);
        let all = text(&o);
        assert_eq!(o.status.code(), Some(2), "{cmd}: {all}");
        for n in needles {
            assert!(all.contains(n), "{cmd}: expected {n:?} in:\n{all}");
        }
    }
}

const PROBE: &str = "backends: [{name: app}]\nprobes:\n- request: {url: 'http://app.example.com/'}\n  expect: {status: 200}\n";

#[test]
fn huge_durations_are_bad_input_not_a_panic() {
    let dir = scenario_dir(&format!(
        "timeouts: {{conditions: 18446744073709551615s1s}}\n{PROBE}"
    ));
    bad_input(
        dir.path(),
        &[
            "scenario.yaml:1",
            "timeouts.conditions",
            "longer than any duration",
        ],
    );
}

#[test]
fn samples_beyond_the_bound_are_bad_input_not_an_abort() {
    let dir = scenario_dir(
        "backends: [{name: app}]\nprobes:\n- request: {url: 'http://app.example.com/'}\n  samples: 4000000000\n  expect: {status: 200, split: {app: 1}}\n",
    );
    bad_input(dir.path(), &["scenario.yaml:3", "probes[].samples"]);
}

#[test]
fn unknown_yaml_tags_are_bad_input() {
    let dir = scenario_dir(PROBE);
    std::fs::write(
        dir.path().join("route.yaml"),
        ROUTE.replace(
            "metadata: {name: app}",
            "metadata: {name: app, namespace: !foo bar}",
        ),
    )
    .unwrap();
    bad_input(dir.path(), &["route.yaml:3", "!foo"]);
}

#[cfg(unix)]
fn mkfifo(path: &Path) {
    let ok = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo runs");
    assert!(ok.success());
}

#[cfg(unix)]
#[test]
fn a_fifo_manifest_is_named_not_skipped_or_waited_on() {
    let dir = scenario_dir(PROBE);
    mkfifo(&dir.path().join("more.yaml"));
    bad_input(dir.path(), &["more.yaml: is a FIFO, not a regular file"]);
}

#[test]
fn a_scenario_yaml_that_is_a_directory_is_named() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("scenario.yaml")).unwrap();
    let o = gwlab(&["check", dir.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("scenario.yaml: is a directory, not a file"),
        "{}",
        text(&o)
    );
}

const CANARY: &str = "apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: main}
spec:
  ingressClassName: nginx
  rules:
  - host: canary.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: app-v1, port: {number: 8080}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: main-canary
  annotations:
    nginx.ingress.kubernetes.io/canary: \"true\"
    nginx.ingress.kubernetes.io/canary-weight: \"42949673\"
spec:
  ingressClassName: nginx
  rules:
  - host: canary.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: app-v2, port: {number: 8080}}}}
";

fn migrate(input: &str, extra: &[&str]) -> (std::process::Output, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("input.yaml");
    std::fs::write(&file, input).unwrap();
    let mut args = vec!["migrate", file.to_str().unwrap()];
    args.extend(extra);
    (gwlab(&args), dir)
}

#[test]
fn a_canary_weight_beyond_its_total_goes_all_to_the_canary_with_a_warning() {
    // Found by fuzzing: 42949673 * 100 wrapped in a u32, giving the canary 0.
    let (o, _dir) = migrate(CANARY, &[]);
    let all = text(&o);
    assert_eq!(o.status.code(), Some(0), "{all}");
    assert!(
        all.contains("nginx.ingress.kubernetes.io/canary-weight: 42949673 is more than canary-weight-total (100)"),
        "{all}"
    );
    let routes = String::from_utf8_lossy(&o.stdout);
    assert!(routes.contains("weight: 100"), "{routes}");
}

const KONG_REDIRECT: &str = "apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: old
  annotations: {konghq.com/plugins: moved}
spec:
  rules:
  - host: old.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: app, port: {number: 8080}}}}
---
apiVersion: configuration.konghq.com/v1
kind: KongPlugin
metadata: {name: moved}
plugin: redirect
config: {location: 'https://new.example.com', status_code: STATUS}
";

#[test]
fn a_redirect_status_code_kong_would_refuse_is_a_warning_not_a_guess() {
    // Found by fuzzing: 65838 became 302 (u16 truncation); "308", -1 and
    // 99999999999999999999 all became 301, without a word.
    for (status, says) in [
        ("65838", "65838 is not within 100-599"),
        ("'308'", "\"308\" is a string, not a number"),
        ("-1", "-1 is not within 100-599"),
        ("99999999999999999999", "is not within 100-599"),
    ] {
        let (o, _dir) = migrate(&KONG_REDIRECT.replace("STATUS", status), &[]);
        let all = text(&o);
        assert_eq!(o.status.code(), Some(0), "{status}: {all}");
        assert!(
            all.contains("konghq.com/plugins: KongPlugin moved (redirect): config.status_code"),
            "{status}: {all}"
        );
        assert!(all.contains(says), "{status}: {all}");
        assert!(all.contains("not converted"), "{status}: {all}");
        assert!(
            !all.contains("statusCode"),
            "{status}: no redirect is written: {all}"
        );
    }
}

const PATHS: &str = "apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: app}
spec:
  rules:
  - host: app.example.com
    http:
      paths:
      - {path: api, pathType: Prefix, backend: {service: {name: app, port: {number: 8080}}}}
      - {path: //, pathType: Exact, backend: {service: {name: app, port: {number: 8080}}}}
      - {path: /ok, pathType: Prefix, backend: {service: {name: app, port: {number: 8080}}}}
";

#[test]
fn paths_a_route_cannot_have_are_left_out_with_a_warning_and_the_scenario_passes_check() {
    let out = tempfile::tempdir().unwrap();
    let scenario = out.path().join("paths");
    let (o, _dir) = migrate(PATHS, &["--scenario", scenario.to_str().unwrap()]);
    let all = text(&o);
    assert_eq!(o.status.code(), Some(0), "{all}");
    assert!(
        all.contains("path api: the path must be an absolute path starting with `/`"),
        "{all}"
    );
    assert!(
        all.contains("path //: the path must not contain `//`"),
        "{all}"
    );
    let c = gwlab(&["check", scenario.to_str().unwrap()]);
    assert_eq!(c.status.code(), Some(0), "{}", text(&c));
}

#[test]
fn an_ingress_with_nothing_to_convert_writes_no_scenario() {
    // Found by fuzzing: `spec: {}` with --scenario wrote a scenario that
    // `gwlab check` rejects (it asserts nothing).
    let out = tempfile::tempdir().unwrap();
    let scenario = out.path().join("empty");
    let (o, _dir) = migrate(
        "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: app}\nspec: {}\n",
        &["--scenario", scenario.to_str().unwrap()],
    );
    let all = text(&o);
    assert_eq!(o.status.code(), Some(2), "{all}");
    assert!(all.contains("neither rules nor a defaultBackend"), "{all}");
    assert!(
        all.contains("input.yaml"),
        "the error names the input: {all}"
    );
    assert!(!scenario.exists());
}

#[test]
fn output_to_a_file_is_a_usage_error() {
    let out = tempfile::NamedTempFile::new().unwrap();
    let (o, _dir) = migrate(PATHS, &["-o", out.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("-o and --scenario take a directory"),
        "{}",
        text(&o)
    );
}

#[cfg(unix)]
#[test]
fn migrate_names_a_fifo_instead_of_calling_it_missing() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("ingress.yaml");
    mkfifo(&fifo);
    let o = gwlab(&["migrate", fifo.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("ingress.yaml: is a FIFO, not a regular file"),
        "{}",
        text(&o)
    );
}
