//! `--as`: the embedded gateway answering as Kong. Every example of a known
//! deviation passes under the Kong version its tags name and fails as the
//! spec, naming the deviation; the seed's route answers as KIC translates it
//! for Kong 3.8 and 3.9; a run under several implementations prints and
//! writes the portability table; the deviations' reference lists them all.

use std::path::{Path, PathBuf};

use crate::common::bin::{gwlab, text};
use gwlab::implementations::DEVIATIONS;

fn repo(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(p)
}

fn json_of(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The Kong version an example is written for: its `kong-3.x` tag.
fn kong_tag(dir: &Path) -> String {
    let yaml = std::fs::read_to_string(dir.join("scenario.yaml")).unwrap();
    let tags = yaml
        .lines()
        .find_map(|l| l.strip_prefix("tags: ["))
        .expect("the example has tags");
    tags.trim_end_matches(']')
        .split(", ")
        .find(|t| t.starts_with("kong-3."))
        .expect("a kong-3.x tag")
        .to_string()
}

#[test]
fn every_deviation_example_passes_as_kong_and_fails_as_the_spec_naming_it() {
    let out = tempfile::tempdir().unwrap();
    for d in DEVIATIONS {
        let dir = repo(&d.scenario());
        if d.id == "header-all-values" {
            // A probe sends each header once: only the model's test shows it.
            assert!(!dir.exists());
            continue;
        }
        assert!(
            dir.join("scenario.yaml").is_file(),
            "{} has no example",
            d.id
        );
        let dir_s = dir.to_str().unwrap();
        let kong = kong_tag(&dir);
        let o = gwlab(&["test", dir_s, "--as", &kong]);
        assert_eq!(o.status.code(), Some(0), "{} as {kong}: {}", d.id, text(&o));
        let report = out.path().join(format!("{}.json", d.id));
        let o = gwlab(&["test", dir_s, "--json", report.to_str().unwrap()]);
        assert_eq!(
            o.status.code(),
            Some(1),
            "{} as the spec: {}",
            d.id,
            text(&o)
        );
        // Under Kong the answer is the one the example expects; the same
        // answer explained as Kong: the run under the spec fails, and the
        // Kong run's explanation names the deviation.
        let json = json_of(&report);
        let failed: Vec<&serde_json::Value> = json["scenarios"][0]["checks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["passed"] == false)
            .collect();
        assert!(!failed.is_empty(), "{}", d.id);
        let first = &failed[0];
        if first["kind"] == "condition" {
            // A status the spec and Kong write differently: the model's test
            // (crates/gwlab-core/src/model/kong_tests.rs) names it.
            assert_eq!(d.id, "listener-needs-kong-listen", "{first}");
            continue;
        }
        // `GET URL (via Gateway NS/NAME, ADDRESS), N tries`
        let request = first["request"].as_str().unwrap();
        let url = request.split(' ').nth(1).unwrap().to_string();
        let gateway = request
            .split("(via Gateway ")
            .nth(1)
            .and_then(|r| r.split(',').next())
            .unwrap()
            .to_string();
        // No example's probe sends headers: the URL is the whole request.
        let o = gwlab(&[
            "explain",
            dir_s,
            "--url",
            &url,
            "--gateway",
            &gateway,
            "--as",
            &kong,
            "-o",
            "json",
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        let e: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        let ids: Vec<&str> = e["deviations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["id"].as_str().unwrap())
            .collect();
        assert!(ids.contains(&d.id), "{}: explain names {ids:?}", d.id);
    }
}

#[test]
fn the_seed_redirect_answers_as_kic_translates_it() {
    let dir = repo("scenarios/redirect");
    let dir = dir.to_str().unwrap();
    let explain = |imp: &str| {
        let o = gwlab(&[
            "explain",
            dir,
            "--url",
            "http://imprun.dev/docs?page=2",
            "--as",
            imp,
            "-o",
            "json",
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        let e: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        (
            e["outcome"]["location"].as_str().unwrap().to_string(),
            e["deviations"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d["id"].as_str().unwrap().to_string())
                .collect::<Vec<_>>(),
        )
    };
    assert_eq!(
        explain("kong-3.8"),
        (
            "http://portal.imprun.dev".to_string(),
            vec!["redirect-request-termination".to_string()]
        )
    );
    assert_eq!(
        explain("kong-3.9").0,
        "http://portal.imprun.dev/docs?page=2"
    );
    assert_eq!(
        explain("spec"),
        ("http://portal.imprun.dev/docs?page=2".to_string(), vec![])
    );
    // The probe that states the spec's answer fails as Kong 3.8, naming why.
    let o = gwlab(&["test", dir, "--as", "kong-3.8"]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(
        t.contains("redirect.path: expected /docs, got / (Location http://portal.imprun.dev)"),
        "{t}"
    );
    assert!(t.contains("known KIC behaviour on Kong < 3.9: RequestRedirect becomes request-termination with a fixed Location [redirect-request-termination; Kong/kubernetes-ingress-controller@v3.5.13 internal/dataplane/translator/subtranslator/httproute.go generateRequestRedirectKongPlugin]"), "{t}");
    assert!(
        t.contains("--as kong-3.8"),
        "the explain hint answers as Kong too: {t}"
    );
}

#[test]
fn several_implementations_print_and_write_the_portability_table() {
    let out = tempfile::tempdir().unwrap();
    let json = out.path().join("r.json");
    let junit = out.path().join("r.xml");
    let html = out.path().join("r.html");
    let o = gwlab(&[
        "test",
        repo("scenarios/redirect").to_str().unwrap(),
        repo("scenarios/path-routing").to_str().unwrap(),
        "--as",
        "spec,kong-3.8,kong-3.9",
        "--json",
        json.to_str().unwrap(),
        "--junit",
        junit.to_str().unwrap(),
        "--html",
        html.to_str().unwrap(),
    ]);
    let t = text(&o);
    assert_eq!(
        o.status.code(),
        Some(1),
        "a failure under kong-3.8 fails the run: {t}"
    );
    assert!(
        t.contains("portability over spec, kong-3.8, kong-3.9: 8 probes, 2 answered differently"),
        "{t}"
    );
    let row = t
        .lines()
        .find(|l| l.starts_with("redirect: the request's scheme and path are kept"))
        .unwrap();
    assert!(row.ends_with("pass      FAIL      pass"), "{row}");
    assert!(
        t.contains("    kong-3.8  301 http://portal.imprun.dev  [redirect-request-termination]"),
        "{t}"
    );
    assert!(
        t.contains("kong-3.8: 1 passed, 1 failed, 0 unsupported"),
        "{t}"
    );
    let doc = json_of(&json);
    assert_eq!(doc["implementation"], "spec");
    let p = &doc["portability"];
    assert_eq!(
        p["implementations"],
        serde_json::json!(["spec", "kong-3.8", "kong-3.9"])
    );
    assert_eq!(p["runs"].as_array().unwrap().len(), 2);
    let differing: Vec<&serde_json::Value> = p["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["differs"] == true)
        .collect();
    assert_eq!(differing.len(), 2);
    assert_eq!(differing[0]["cells"][1]["result"], "failed");
    assert_eq!(
        differing[0]["cells"][1]["deviations"][0],
        "redirect-request-termination"
    );
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(
        xml.contains("testsuite name=\"redirect [kong-3.8]\""),
        "{xml}"
    );
    assert!(xml.contains("[redirect-request-termination;"), "{xml}");
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("<h2>Portability</h2>"));
    assert!(page.contains("<code>301 http://portal.imprun.dev</code>"));
    // The saved report renders the same table.
    let again = out.path().join("again.html");
    let o = gwlab(&[
        "report",
        json.to_str().unwrap(),
        "--html",
        again.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        std::fs::read_to_string(&again)
            .unwrap()
            .contains("<h2>Portability</h2>")
    );
}

#[test]
fn as_help_lists_the_implementations_and_bad_names_are_usage_errors() {
    let o = gwlab(&["test", "--as", "help"]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(0), "{t}");
    assert!(
        t.contains("kong-3.8   Kong 3.8.1 as the Kong Ingress Controller 3.5.13 programs it"),
        "{t}"
    );
    assert!(t.contains("redirect-request-termination"), "{t}");
    let o = gwlab(&["explain", ".", "--as", "help"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = gwlab(&["test", "scenarios", "--as", "kong-3.10"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("choose from spec, kong-3.8, kong-3.9"));
    let o = gwlab(&[
        "explain",
        "scenarios/redirect",
        "--url",
        "http://a/",
        "--as",
        "spec,kong-3.8",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o).contains("answers as one implementation"),
        "{}",
        text(&o)
    );
    // --as is for the reference gateway: the cluster's Kong answers there.
    let o = gwlab(&[
        "test",
        "scenarios/redirect",
        "--target",
        "cluster",
        "--as",
        "kong-3.9",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("Kong itself answers"), "{}", text(&o));
}

#[test]
fn the_reference_lists_every_deviation_with_its_sources() {
    let doc = std::fs::read_to_string(repo("docs/implementations.md")).unwrap();
    for d in DEVIATIONS {
        let row = doc
            .lines()
            .find(|l| l.starts_with(&format!("| `{}` |", d.id)))
            .unwrap_or_else(|| panic!("docs/implementations.md has no row for {}", d.id));
        assert!(row.contains(d.spec) && row.contains(d.kong), "{row}");
        for s in d.sources {
            assert!(
                row.contains(s.repo) && row.contains(s.path),
                "{} lacks {s}",
                d.id
            );
        }
    }
    for n in gwlab::implementations::NOT_MODELED {
        assert!(doc.contains(n.source.path), "{} is not listed", n.what);
    }
}

#[test]
fn migrate_warns_where_the_labs_kong_answers_otherwise_and_predicts_without_a_cluster() {
    let out = tempfile::tempdir().unwrap();
    let before = repo("examples/seed-migration/before");
    let scenario = out.path().join("s");
    let o = gwlab(&[
        "migrate",
        before.to_str().unwrap(),
        "--scenario",
        scenario.to_str().unwrap(),
        "-o",
        out.path().join("routes").to_str().unwrap(),
    ]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(0), "{t}");
    assert!(
        t.contains("warning: probe \"imprun-root imprun.dev/: redirected with the query item=42\": the new routes answer 301 https://portal.imprun.dev/?item=42 by the spec and 301 https://portal.imprun.dev on the lab's Kong (kong-3.9) [redirect-plugin, redirect-full-path-cleaned]"),
        "{t}"
    );
    // Without a cluster, --compare predicts with --as: Kong 3.8 drops the
    // query as the original did; the spec keeps it.
    let predict = |imp: &str| {
        let dir = out.path().join(format!("p-{imp}"));
        gwlab(&[
            "migrate",
            before.to_str().unwrap(),
            "--scenario",
            dir.to_str().unwrap(),
            "--compare",
            "--target",
            "embedded",
            "--as",
            imp,
        ])
    };
    let o = predict("kong-3.8");
    let t = text(&o);
    assert_eq!(o.status.code(), Some(0), "{t}");
    assert!(t.contains("prediction, no cluster:"), "{t}");
    assert!(
        t.contains("Kong 3.8.1 as the Kong Ingress Controller 3.5.13"),
        "{t}"
    );
    let row = t
        .lines()
        .find(|l| l.starts_with("imprun-root imprun.dev/: redirected with the query item=42"))
        .unwrap();
    assert!(
        row.ends_with("301 → https://portal.imprun.dev  same"),
        "{row}"
    );
    let o = predict("spec");
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(
        t.contains("301 → https://portal.imprun.dev/?item=42  DIFFERENT"),
        "{t}"
    );
    // Without --as and without a cluster, --compare says how to go on.
    let o = gwlab(&[
        "migrate",
        before.to_str().unwrap(),
        "--scenario",
        out.path().join("x").to_str().unwrap(),
        "--compare",
        "--target",
        "embedded",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("--as kong-3.9"), "{}", text(&o));
}

#[test]
fn the_kong_redirect_exercise_shows_the_route_as_spec_and_both_kongs() {
    let ws = tempfile::tempdir().unwrap();
    let root = ws.path().join("lab");
    let labs = repo("labs");
    let o = gwlab(&[
        "lab",
        "start",
        "kong-to-gateway-api",
        "--dir",
        root.to_str().unwrap(),
        "--labs",
        labs.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    // Exercises 1 and 2 done: exercise 3 is current, with its start files.
    let progress = root.join(".gwlab-lab.json");
    let mut p: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&progress).unwrap()).unwrap();
    p["current"] = "03-kong-redirect".into();
    p["done"] = serde_json::json!(["01-first-route", "02-path-routing"]);
    std::fs::write(&progress, p.to_string()).unwrap();
    let ex = root.join("03-kong-redirect");
    std::fs::create_dir_all(&ex).unwrap();
    let start = repo("labs/kong-to-gateway-api/03-kong-redirect/start/route.yaml");
    std::fs::copy(&start, ex.join("route.yaml")).unwrap();
    let o = gwlab(&[
        "lab",
        "check",
        root.to_str().unwrap(),
        "--labs",
        labs.to_str().unwrap(),
    ]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(
        t.contains("Your route, answered as each implementation does:"),
        "{t}"
    );
    assert!(
        t.contains("kong-3.8  301 http://portal.imprun.dev  [redirect-request-termination]"),
        "{t}"
    );
    assert!(
        t.contains("kong-3.9  301 http://portal.imprun.dev/docs/install  [redirect-plugin]"),
        "{t}"
    );
    // --as checks the files as Kong answers.
    let o = gwlab(&[
        "lab",
        "check",
        root.to_str().unwrap(),
        "--labs",
        labs.to_str().unwrap(),
        "--as",
        "kong-3.8",
    ]);
    let t = text(&o);
    assert!(t.contains("answering as kong-3.8"), "{t}");
    let task =
        std::fs::read_to_string(repo("labs/kong-to-gateway-api/03-kong-redirect/task.md")).unwrap();
    assert!(task.contains("## What Kong does with it"));
}

/// An Ingress and a KongPlugin in a scenario: the embedded gateway, which
/// implements Gateway API only, says it ignores each, at its file and line,
/// in `gwlab check` and before a run (on a cluster they are applied like any
/// manifest: tests/cluster/cluster_scenarios.rs, migrate --compare).
#[test]
fn objects_outside_gateway_api_are_named_where_the_embedded_gateway_ignores_them() {
    let dir = tempfile::tempdir().unwrap();
    let src = repo("scenarios/redirect");
    for f in std::fs::read_dir(&src).unwrap() {
        let f = f.unwrap().path();
        std::fs::copy(&f, dir.path().join(f.file_name().unwrap())).unwrap();
    }
    let original = "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: legacy\n  annotations: {konghq.com/plugins: legacy-redirect}\nspec:\n  ingressClassName: kong\n  rules:\n    - host: legacy.example.com\n      http:\n        paths:\n          - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}\n---\napiVersion: configuration.konghq.com/v1\nkind: KongPlugin\nmetadata:\n  name: legacy-redirect\nplugin: redirect\nconfig: {location: https://example.com, status_code: 301}\n";
    let file = dir.path().join("original.yaml");
    std::fs::write(&file, original).unwrap();
    let at = |line: u32| {
        format!(
            "({}:{line}) is not Gateway API: gwlab's reference gateway ignores it",
            file.display()
        )
    };

    let o = gwlab(&["check", dir.path().to_str().unwrap()]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(0), "{t}");
    assert!(t.contains(&format!("Ingress/legacy {}", at(1))), "{t}");
    assert!(
        t.contains(&format!("KongPlugin/legacy-redirect {}", at(14))),
        "{t}"
    );

    let o = gwlab(&["test", dir.path().to_str().unwrap()]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(0), "{t}");
    assert!(
        t.contains(&format!("note: Ingress/legacy {}", at(1))),
        "{t}"
    );
    assert!(
        t.contains("on a cluster (--target cluster) it is applied and Kong acts on it"),
        "{t}"
    );
}
