//! `gwlab migrate` golden tests: each directory of tests/migrate holds an
//! `input.yaml`, the HTTPRoutes expected (`expected.yaml`) and the warnings and
//! notes expected (`expected.txt`). The scenario written for each case must pass
//! on the embedded gateway, except where the converter reports a known
//! difference ("the scenario expects ..."): there it must fail, on the original's
//! expectation. `GWLAB_BLESS=1 cargo test --test migrate` rewrites the goldens.

use std::path::{Path, PathBuf};

use crate::common::bin::{gwlab, text};

fn messages(stderr: &[u8]) -> String {
    String::from_utf8_lossy(stderr)
        .lines()
        .filter(|l| l.starts_with("warning:") || l.starts_with("note:"))
        .map(|l| format!("{l}\n"))
        .collect()
}

fn golden(path: &Path, actual: &str) {
    if std::env::var_os("GWLAB_BLESS").is_some() {
        std::fs::write(path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(path)
        .unwrap_or_else(|_| panic!("{} is missing (GWLAB_BLESS=1 writes it)", path.display()));
    assert_eq!(
        actual,
        expected,
        "{} differs from the output",
        path.display()
    );
}

fn cases() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/migrate");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("input.yaml").is_file())
        .collect();
    dirs.sort();
    dirs
}

#[test]
fn every_annotation_case_matches_its_golden_files() {
    let cases = cases();
    assert!(cases.len() >= 18, "one case per annotation family");
    for dir in cases {
        let input = dir.join("input.yaml");
        let o = gwlab(&["migrate", input.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(0), "{}: {}", dir.display(), text(&o));
        golden(
            &dir.join("expected.yaml"),
            &String::from_utf8_lossy(&o.stdout),
        );
        golden(&dir.join("expected.txt"), &messages(&o.stderr));
    }
}

#[test]
fn generated_scenarios_pass_unless_a_difference_is_reported() {
    for dir in cases() {
        let out = tempfile::tempdir().unwrap();
        let scenario = out.path().join("scenario");
        let o = gwlab(&[
            "migrate",
            dir.join("input.yaml").to_str().unwrap(),
            "--scenario",
            scenario.to_str().unwrap(),
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        let stderr = String::from_utf8_lossy(&o.stderr).to_string();
        let differs = stderr.contains("the scenario expects");
        let t = gwlab(&["test", scenario.to_str().unwrap()]);
        if differs {
            assert_eq!(
                t.status.code(),
                Some(1),
                "{}: the original's expectation must fail on the route: {}",
                dir.display(),
                text(&t)
            );
            // A warning that names its probe is shown by that probe failing.
            let out = String::from_utf8_lossy(&t.stdout).to_string();
            let failed: Vec<&str> = out
                .lines()
                .filter_map(|l| l.trim().strip_prefix("probe: "))
                .collect();
            for named in stderr.split("in probe `").skip(1) {
                let name = named.split('`').next().unwrap();
                assert!(
                    failed.contains(&name),
                    "{}: the probe `{name}` named by a warning did not fail: {}",
                    dir.display(),
                    text(&t)
                );
            }
        } else {
            assert_eq!(t.status.code(), Some(0), "{}: {}", dir.display(), text(&t));
        }
    }
}

#[test]
fn the_seed_example_is_what_migrate_writes_and_says_what_kong_lacks() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/seed-migration");
    let out = tempfile::tempdir().unwrap();
    let scenario = out.path().join("after");
    let o = gwlab(&[
        "migrate",
        root.join("before").to_str().unwrap(),
        "--scenario",
        scenario.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&o.stderr).to_string();
    assert_eq!(o.status.code(), Some(0), "{stderr}");
    let probe = "imprun-root imprun.dev/: redirected with the query item=42";
    assert!(
        stderr.contains("redirects to exactly https://portal.imprun.dev, without the request's path and query; the route keeps the query")
            && stderr.contains(&format!("in probe `{probe}`")),
        "{stderr}"
    );
    assert!(stderr.contains("the lab's Kong Ingress Controller 3.5.13 claims no support for HTTPRoutePathRedirect, HTTPRouteSchemeRedirect"), "{stderr}");

    let routes = std::fs::read_to_string(scenario.join("routes.yaml")).unwrap();
    assert!(
        routes.contains("scheme: https")
            && routes.contains("replaceFullPath: /")
            && routes.contains("statusCode: 301"),
        "{routes}"
    );
    for file in ["routes.yaml", "scenario.yaml"] {
        let written = std::fs::read_to_string(scenario.join(file))
            .unwrap()
            .replace("name: after", "name: seed-migration");
        golden(&root.join("after").join(file), &written);
    }
    // Kong answers with exactly its location; the route keeps the query: the
    // scenario fails there, and only there.
    let t = gwlab(&["test", root.join("after").to_str().unwrap()]);
    assert_eq!(t.status.code(), Some(1), "{}", text(&t));
    let out = text(&t);
    assert!(
        out.contains(&format!("probe: {probe}"))
            && out.contains("redirect.query: expected none, got item=42"),
        "{out}"
    );
    assert_eq!(out.matches("probe: ").count(), 1, "{out}");
}

#[test]
fn unreadable_input_is_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("x.yaml"),
        "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: a\n",
    )
    .unwrap();
    let o = gwlab(&["migrate", dir.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("x.yaml:"), "{}", text(&o));
    let o = gwlab(&["migrate", "/nonexistent/ingress.yaml"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn compare_on_the_embedded_target_says_the_original_needs_the_lab() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/seed-migration/before");
    let out = tempfile::tempdir().unwrap();
    let scenario = out.path().join("after");
    let o = gwlab(&[
        "migrate",
        root.to_str().unwrap(),
        "--scenario",
        scenario.to_str().unwrap(),
        "--compare",
        "--target",
        "embedded",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("the original needs the lab: run `gwlab up` first"),
        "{}",
        text(&o)
    );
    // Refused before anything is written.
    assert!(!scenario.exists());
    // --compare compares the scenario's probes: it needs --scenario; and
    // --gateway-address is where --compare's probes go.
    let o = gwlab(&["migrate", root.to_str().unwrap(), "--compare"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let o = gwlab(&[
        "migrate",
        root.to_str().unwrap(),
        "--gateway-address",
        "127.0.0.1:8080",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("--compare"), "{}", text(&o));
    // --probe-timeout is how long --compare's probes wait: alone it is a
    // usage error, as --gateway-address is.
    let o = gwlab(&["migrate", root.to_str().unwrap(), "--probe-timeout", "5s"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("--compare"), "{}", text(&o));
}

#[test]
fn an_output_place_that_cannot_be_written_is_exit_2_not_a_verdict() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/seed-migration/before");
    let out = tempfile::tempdir().unwrap();
    let file = out.path().join("file");
    std::fs::write(&file, "").unwrap();
    // -o names a directory below a regular file: it cannot be created.
    let below = file.join("routes");
    let o = gwlab(&[
        "migrate",
        root.to_str().unwrap(),
        "-o",
        below.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("cannot create"), "{}", text(&o));
}

/// What `migrate -o DIR` writes is checked and drawn without a scenario:
/// `gwlab check DIR` and `gwlab explain DIR --graph` read its routes against
/// the lab Gateway, saying so; a directory with neither a scenario nor a
/// route is still bad input.
#[test]
fn check_and_explain_take_the_routes_migrate_writes_without_a_scenario() {
    let case = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/migrate/kong-methods/input.yaml");
    let out = tempfile::tempdir().unwrap();
    let routes = out.path().join("routes");
    let o = gwlab(&[
        "migrate",
        case.to_str().unwrap(),
        "-o",
        routes.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(!routes.join("scenario.yaml").exists());

    let o = gwlab(&["check", routes.to_str().unwrap()]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(0), "{t}");
    assert!(
        t.contains("has no scenario.yaml: its manifests are read against the lab Gateway"),
        "{t}"
    );
    assert!(
        t.contains("with an echo backend for each Service the routes name: "),
        "{t}"
    );
    assert!(t.contains("ok   routes ("), "{t}");

    let o = gwlab(&["explain", routes.to_str().unwrap(), "--graph", "mermaid"]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(0), "{t}");
    let drawn = String::from_utf8_lossy(&o.stdout);
    assert!(
        drawn.contains("HTTPRoute") || drawn.contains("kong"),
        "{drawn}"
    );
    assert!(
        !drawn.contains("not attached"),
        "every migrated route attaches: {drawn}"
    );

    // A route of the directory that no Gateway takes is named by the check
    // the directory implies, as a written scenario's would be.
    let text_of = std::fs::read_to_string(
        std::fs::read_dir(&routes)
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path(),
    )
    .unwrap();
    std::fs::write(
        routes.join("z-broken.yaml"),
        text_of
            .replace("name: kong\n", "name: nowhere\n")
            .replace("name: writes\n", "name: writes-broken\n"),
    )
    .unwrap();
    let o = gwlab(&["explain", routes.to_str().unwrap(), "--graph", "mermaid"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("not attached"),
        "{}",
        text(&o)
    );

    let empty = out.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let o = gwlab(&["check", empty.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("no scenario.yaml found here or below"),
        "{}",
        text(&o)
    );
}

/// A Kong redirect with 308 becomes 301 for Gateway API v1.2.1, and the
/// warning says which release keeps it; written for v1.5.1 the route keeps
/// 308, the scenario says its release and needs the 308 feature, and it
/// passes on the embedded gateway.
#[test]
fn a_308_redirect_keeps_its_code_when_written_for_v1_5_1() {
    let input = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/migrate/kong-https-redirect-methods/input.yaml");
    let o = gwlab(&["migrate", input.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(
        stderr.contains("Gateway API v1.2.1 redirects with 301 or 302 only; 308 becomes 301")
            && stderr.contains("; Gateway API v1.5.1 keeps 308: `--gateway-api v1.5.1`"),
        "{stderr}"
    );

    let out = tempfile::tempdir().unwrap();
    let scenario = out.path().join("kept");
    let o = gwlab(&[
        "migrate",
        input.to_str().unwrap(),
        "--gateway-api",
        "v1.5.1",
        "--scenario",
        scenario.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&o.stderr).to_string();
    assert_eq!(o.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("becomes 301"), "{stderr}");
    let routes = std::fs::read_to_string(scenario.join("routes.yaml")).unwrap();
    assert!(routes.contains("statusCode: 308"), "{routes}");
    let written = std::fs::read_to_string(scenario.join("scenario.yaml")).unwrap();
    assert!(
        written.starts_with("gatewayAPI: v1.5.1\n")
            && written.contains("HTTPRoute308RedirectStatusCode"),
        "{written}"
    );
    let t = gwlab(&["test", scenario.to_str().unwrap()]);
    assert_eq!(t.status.code(), Some(0), "{}", text(&t));
}
