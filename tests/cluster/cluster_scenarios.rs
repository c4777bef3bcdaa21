//! The cluster target end to end on a real API server: `gwlab up --provider
//! existing --addons crds,kong` makes the lab with gwlab's reference gateway
//! standing in for Kong (statuses and traffic both computed from what the API
//! server holds), then `gwlab test` runs the repository's scenarios on it,
//! and `gwlab migrate --compare` runs an original Ingress and its routes.

use std::path::Path;

use crate::common::bin::text;
use crate::common::home::command;
use crate::common::lab::{Lab, lab};

/// `test scenarios/ --gateway-address GATEWAY EXTRA...`: every repository
/// scenario, probes to the stand-in's data plane.
fn test_args<'a>(gateway: &'a str, extra: &[&'a str]) -> Vec<String> {
    let mut args: Vec<String> = vec![
        "test".into(),
        scenarios(),
        "--gateway-address".into(),
        gateway.into(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

fn scenarios() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .display()
        .to_string()
}

/// One `gwlab test` at a time on the lab: two runs of the same scenarios
/// would route each other's hostnames.
static ONE_RUN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A run waits for its objects to be gone: when it ends, only namespaces it
/// made are left of it, each named in its report as still being removed by
/// the cluster, and those go on their own.
async fn nothing_left(client: &kube::Client, report: &serde_json::Value) {
    let run = report["runId"].as_str().unwrap();
    let selector = format!("gwlab.dev/run={run}");
    let finishing: Vec<String> = report["namespacesFinishing"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|n| format!("Namespace {}", n.as_str().unwrap()))
                .collect()
        })
        .unwrap_or_default();
    for left in crate::common::envtest::labelled(client, &selector).await {
        assert!(
            finishing.contains(&left),
            "{left} is left and not reported: {report}"
        );
    }
    let left = crate::common::envtest::until_none_labelled(
        client,
        &selector,
        std::time::Duration::from_secs(60),
    )
    .await;
    assert!(left.is_empty(), "{left:?}");
}

fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[tokio::test]
async fn every_scenario_runs_on_the_lab_and_leaves_nothing() {
    let Some(lab) = lab() else { return };
    let _one = ONE_RUN.lock().await;
    let report = lab.home.path().join("report.json");
    let bundles = lab.home.path().join("bundles");
    let gateway = lab.standin.gateway_address();
    // No --target and no --kubeconfig: the lab that `gwlab up` made is chosen.
    let o = lab.gwlab(&test_args(
        &gateway,
        &[
            "--json",
            report.to_str().unwrap(),
            "--diagnostics",
            bundles.to_str().unwrap(),
        ],
    ));
    let t = text(&o);
    assert_eq!(o.status.code(), Some(0), "{t}");
    assert!(
        t.lines()
            .next()
            .unwrap()
            .starts_with("target: cluster (lab gwlab, from `gwlab up`"),
        "{t}"
    );
    let json = read_json(&report);
    assert_eq!(json["target"], "cluster");
    let (kong, _) = gwlab::targets::cluster::features::builtin(gwlab::kong::CONTROLLER_NAME, None);
    let mut passed = 0;
    for s in json["scenarios"].as_array().unwrap() {
        match s["verdict"].as_str().unwrap() {
            "passed" => {
                passed += 1;
                let phases = &s["phases"];
                assert!(phases["applySeconds"].as_f64().unwrap() > 0.0, "{s}");
                assert!(phases["probesSeconds"].as_f64().unwrap() > 0.0, "{s}");
            }
            // Only for what Kong's controller lacks: the stand-in plays Kong.
            "unsupported" => {
                for f in s["missingFeatures"].as_array().unwrap() {
                    assert!(!kong.contains(f.as_str().unwrap()), "{s}");
                }
            }
            other => panic!("{other}: {s}"),
        }
    }
    assert!(passed >= 10, "{t}");
    assert!(json.get("stillDeleting").is_none(), "{json}");
    let client = lab.standin.env.client().await;
    nothing_left(&client, &json).await;
    assert!(!bundles.exists(), "no scenario failed, so no bundle");
}

/// `gwlab test` started in the background, its output lines read as they come.
struct Running {
    child: std::process::Child,
    lines: std::sync::mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Running {
    fn start<S: AsRef<std::ffi::OsStr>>(lab: &Lab, args: &[S]) -> Running {
        use std::io::BufRead;
        let mut child = command(args, lab.home.path())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let (tx, lines) = std::sync::mpsc::channel();
        let out = child.stdout.take().unwrap();
        let err = child.stderr.take().unwrap();
        let tx2 = tx.clone();
        std::thread::spawn(move || {
            for l in std::io::BufReader::new(out).lines().map_while(Result::ok) {
                let _ = tx.send(l);
            }
        });
        std::thread::spawn(move || {
            for l in std::io::BufReader::new(err).lines().map_while(Result::ok) {
                let _ = tx2.send(l);
            }
        });
        Running {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Waits for a line that starts with `prefix`.
    fn wait_for(&mut self, prefix: &str) {
        while let Ok(l) = self.lines.recv_timeout(std::time::Duration::from_secs(120)) {
            let found = l.starts_with(prefix);
            self.seen.push(l);
            if found {
                return;
            }
        }
        panic!("no line starting with {prefix:?}: {:?}", self.seen);
    }

    /// Sends SIGINT, as Ctrl-C does.
    fn interrupt(&self) {
        let ok = std::process::Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok);
    }

    /// Waits for the exit (at most `limit`); returns the code and every line.
    fn finish(mut self, limit: std::time::Duration) -> (Option<i32>, Vec<String>) {
        let start = std::time::Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                self.seen.extend(self.lines.try_iter().collect::<Vec<_>>());
                std::thread::sleep(std::time::Duration::from_millis(100));
                self.seen.extend(self.lines.try_iter().collect::<Vec<_>>());
                return (status.code(), self.seen);
            }
            if start.elapsed() > limit {
                let _ = self.child.kill();
                panic!("still running {limit:?} after: {:?}", self.seen);
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }
}

#[tokio::test]
async fn ctrl_c_stops_the_run_reports_the_rest_as_not_run_and_leaves_nothing() {
    let Some(lab) = lab() else { return };
    let _one = ONE_RUN.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let (report, junit, bundles) = (
        dir.path().join("r.json"),
        dir.path().join("j.xml"),
        dir.path().join("bundles"),
    );
    let gateway = lab.standin.gateway_address();
    let args = test_args(
        &gateway,
        &[
            "--json",
            report.to_str().unwrap(),
            "--junit",
            junit.to_str().unwrap(),
            "--diagnostics",
            bundles.to_str().unwrap(),
        ],
    );
    let mut run = Running::start(lab, &args);
    run.wait_for("PASS ");
    let t0 = std::time::Instant::now();
    run.interrupt();
    let (code, lines) = run.finish(std::time::Duration::from_secs(30));
    let took = t0.elapsed();
    let all = lines.join("\n");
    assert_eq!(code, Some(130), "{all}");
    assert!(took < std::time::Duration::from_secs(8), "{took:?}: {all}");
    assert!(all.contains("interrupted: cleaning up"), "{all}");
    assert!(!all.contains("FAIL "), "nothing is reported failed: {all}");
    assert!(all.contains("NOT RUN "), "{all}");

    let json = read_json(&report);
    assert_eq!(json["interrupted"], true);
    let verdicts: Vec<&str> = json["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["verdict"].as_str().unwrap())
        .collect();
    assert!(verdicts.contains(&"interrupted"), "{verdicts:?}");
    assert!(!verdicts.contains(&"failed"), "{verdicts:?}");
    let xml = std::fs::read_to_string(&junit).unwrap();
    let doc = roxmltree::Document::parse(&xml).expect("the JUnit report is XML");
    let skipped: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("skipped"))
        .filter_map(|n| n.attribute("message"))
        .collect();
    assert!(
        skipped.iter().any(|m| m.contains("interrupted")),
        "{skipped:?}"
    );
    assert!(
        !bundles.exists(),
        "no diagnostics bundle for an interruption"
    );

    let client = lab.standin.env.client().await;
    let run = json["runId"].as_str().unwrap();
    let left = crate::common::envtest::until_none_labelled(
        &client,
        &format!("gwlab.dev/run={run}"),
        std::time::Duration::from_secs(60),
    )
    .await;
    assert!(left.is_empty(), "{left:?}");
}

/// Kinds whose objects --compare applies, with gwlab's labels: `Kind name`.
async fn applied_by_gwlab(client: &kube::Client) -> Vec<String> {
    crate::common::envtest::labelled(client, "app.kubernetes.io/managed-by=gwlab")
        .await
        .into_iter()
        .filter(|o| {
            ["Ingress ", "KongPlugin ", "HTTPRoute "]
                .iter()
                .any(|k| o.starts_with(k))
        })
        .collect()
}

/// `gwlab migrate --compare` on the lab: the original Ingress with its
/// KongPlugin, then the converted route, each applied with gwlab's labels and
/// probed by the generated scenario; a table per probe; nothing of either run
/// left, and a user's own Ingress beside them untouched. The stand-in serves
/// HTTPRoutes only, so the original's answers are the data plane's 404s: the
/// table says DIFFERENT and the exit is 1, as it must where the two differ.
#[tokio::test]
async fn migrate_compare_runs_the_original_then_the_route_and_leaves_nothing() {
    let Some(lab) = lab() else { return };
    let _one = ONE_RUN.lock().await;
    let client = lab.standin.env.client().await;
    let ns = serde_json::json!({"apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": "imprun-system"}});
    crate::common::envtest::apply_as(&client, "kubectl", ns).await;
    let bystander = serde_json::json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
        "metadata": {"name": "bystander", "namespace": "imprun-system"},
        "spec": {"ingressClassName": "kong", "rules": [{"host": "imprun.dev", "http": {"paths": [
            {"path": "/other", "pathType": "Prefix",
             "backend": {"service": {"name": "other", "port": {"number": 80}}}}]}}]}});
    let before = crate::common::envtest::apply_as(&client, "kubectl", bystander).await;

    let out = tempfile::tempdir().unwrap();
    let after = out.path().join("after");
    let seed = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/seed-migration/before");
    let args = [
        "migrate".to_string(),
        seed.display().to_string(),
        "--scenario".into(),
        after.display().to_string(),
        "--compare".into(),
        "--gateway-address".into(),
        lab.standin.gateway_address(),
        // The original's answers here are 404s that no wait changes.
        "--probe-timeout".into(),
        "2s".into(),
    ];
    let home = lab.home.path().to_path_buf();
    let run = tokio::task::spawn_blocking(move || command(&args, &home).output().unwrap());
    // What gwlab applies, seen while it runs.
    let mut seen = std::collections::BTreeSet::new();
    while !run.is_finished() {
        seen.extend(applied_by_gwlab(&client).await);
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    let o = run.await.unwrap();
    let (stdout, all) = (String::from_utf8_lossy(&o.stdout).to_string(), text(&o));
    eprintln!("{stdout}");
    assert_eq!(o.status.code(), Some(1), "{all}");
    for object in [
        "Ingress imprun-root",
        "KongPlugin imprun-root-redirect",
        "HTTPRoute imprun-root",
    ] {
        assert!(
            seen.contains(object),
            "{object} was never applied: {seen:?}"
        );
    }

    // One row per probe of the scenario, with both answers.
    let scenario = std::fs::read_to_string(after.join("scenario.yaml")).unwrap();
    let probes = scenario
        .split("\nprobes:")
        .nth(1)
        .unwrap()
        .matches("\n- name: ")
        .count();
    let rows: Vec<&str> = stdout.lines().collect();
    assert!(
        rows[0].starts_with("probe") && rows[0].contains("original (Ingress)"),
        "{stdout}"
    );
    assert_eq!(rows.len(), probes + 1, "{stdout}");
    let redirected = rows
        .iter()
        .find(|r| r.starts_with("imprun-root imprun.dev/: redirected "))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(
        redirected.contains("404")
            && redirected.contains("301 → https://portal.imprun.dev/")
            && redirected.ends_with("DIFFERENT"),
        "{redirected}"
    );
    assert!(!stdout.contains("not run"), "{stdout}");

    // Both runs' objects are gone; the user's Ingress and namespace stay.
    let compare = out.path().join("after.compare");
    for name in ["original", "route"] {
        nothing_left(&client, &read_json(&compare.join(format!("{name}.json")))).await;
    }
    use kube::api::{Api, DynamicObject};
    let (ar, _) = gwlab::kinds::resource("networking.k8s.io/v1", "Ingress").unwrap();
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), "imprun-system", &ar);
    let now = api.get("bystander").await.unwrap();
    crate::common::envtest::assert_untouched(&before, &now, "the user's Ingress");
    let namespaces: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(client.clone());
    let ns = namespaces.get("imprun-system").await.unwrap();
    assert!(
        ns.metadata.deletion_timestamp.is_none(),
        "the user's namespace stays"
    );
}

/// Runs `gwlab ARGS` in the lab's home, printing each output line with the
/// time since the start; returns the exit code and the lines.
fn timed<S: AsRef<std::ffi::OsStr>>(lab: &Lab, args: &[S]) -> (Option<i32>, Vec<(f64, String)>) {
    use std::io::BufRead;
    let t0 = std::time::Instant::now();
    let mut child = command(args, lab.home.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let err = child.stderr.take().unwrap();
    let errs = std::thread::spawn(move || {
        std::io::BufReader::new(err)
            .lines()
            .map_while(Result::ok)
            .map(|l| (t0.elapsed().as_secs_f64(), l))
            .collect::<Vec<_>>()
    });
    let mut lines: Vec<(f64, String)> = std::io::BufReader::new(child.stdout.take().unwrap())
        .lines()
        .map_while(Result::ok)
        .map(|l| (t0.elapsed().as_secs_f64(), l))
        .collect();
    let status = child.wait().unwrap();
    lines.extend(errs.join().unwrap());
    lines.sort_by(|a, b| a.0.total_cmp(&b.0));
    (status.code(), lines)
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs.get(xs.len() / 2).copied().unwrap_or(0.0)
}

#[tokio::test]
#[ignore = "a benchmark: bench/cluster.sh runs it"]
async fn bench_repository_scenarios_on_the_stand_in() {
    let Some(lab) = lab() else { return };
    let _one = ONE_RUN.lock().await;
    let gateway = lab.standin.gateway_address();
    let report = lab.home.path().join("bench.json");
    let args = test_args(&gateway, &["--json", report.to_str().unwrap()]);
    let (code, lines) = timed(lab, &args);
    for (t, l) in &lines {
        println!("{t:7.2}s  {l}");
    }
    assert_eq!(code, Some(0));
    let json = read_json(&report);
    let ran: Vec<&serde_json::Value> = json["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s.get("phases").is_some())
        .collect();
    let phase = |name: &str| {
        median(
            ran.iter()
                .map(|s| s["phases"][format!("{name}Seconds")].as_f64().unwrap())
                .collect(),
        )
    };
    let last = lines
        .iter()
        .filter(|(_, l)| l.starts_with("PASS") || l.starts_with("FAIL"))
        .map(|(t, _)| *t)
        .fold(0.0, f64::max);
    println!(
        "\nall {} scenarios ({} ran): {:.2}s wall, last scenario done at {last:.2}s, then {:.2}s waiting for the deletions",
        json["scenarios"].as_array().unwrap().len(),
        ran.len(),
        lines.last().unwrap().0,
        lines.last().unwrap().0 - last
    );
    println!(
        "per-scenario medians: total {:.2}s = apply {:.2}s, conditions {:.2}s, probes {:.2}s, cleanup {:.2}s",
        median(
            ran.iter()
                .map(|s| s["durationSeconds"].as_f64().unwrap())
                .collect()
        ),
        phase("apply"),
        phase("conditions"),
        phase("probes"),
        phase("cleanup")
    );

    // One scenario at a time, as a user iterating on one route runs it.
    let redirect = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios/redirect")
        .display()
        .to_string();
    // Back to back, a run finds the last one's imprun-system (a namespace
    // the scenario names) still being removed and waits for it; 8 s apart,
    // the namespace controller has finished.
    for (what, pause) in [("back to back", 0), ("8 s apart", 8)] {
        let mut walls = Vec::new();
        for _ in 0..5 {
            std::thread::sleep(std::time::Duration::from_secs(pause));
            let t0 = std::time::Instant::now();
            let o = lab.gwlab(&["test", &redirect, "--gateway-address", &gateway]);
            assert_eq!(o.status.code(), Some(0), "{}", text(&o));
            walls.push(t0.elapsed().as_secs_f64());
        }
        println!(
            "\nscenarios/redirect alone, 5 runs {what}: median {:.2}s wall (each: {})",
            median(walls.clone()),
            walls
                .iter()
                .map(|w| format!("{w:.2}s"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }

    let mut run = Running::start(lab, &args);
    let t0 = std::time::Instant::now();
    run.wait_for("PASS ");
    std::thread::sleep(std::time::Duration::from_millis(300));
    let sent = t0.elapsed();
    let t1 = std::time::Instant::now();
    run.interrupt();
    let (code, lines) = run.finish(std::time::Duration::from_secs(60));
    println!(
        "\nSIGINT {:.2}s into the run: exit {code:?} {:.2}s later. Output:",
        sent.as_secs_f64(),
        t1.elapsed().as_secs_f64()
    );
    for l in lines {
        println!("  {l}");
    }
}

/// A scenario written for a later Gateway API release than the cluster's
/// CRDs (v1.2.1 on the lab) is `unsupported`, naming both, and applies
/// nothing: the API server would refuse or drop its newer fields.
#[tokio::test]
async fn a_scenario_for_a_later_gateway_api_release_is_unsupported_naming_both() {
    let Some(lab) = lab() else { return };
    let _one = ONE_RUN.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let named = dir.path().join("named-rules");
    std::fs::create_dir_all(&named).unwrap();
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/named-rules");
    std::fs::copy(from.join("route.yaml"), named.join("route.yaml")).unwrap();
    // Without its feature line, only the release can make it unsupported.
    let scenario: String = std::fs::read_to_string(from.join("scenario.yaml"))
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("features:"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(named.join("scenario.yaml"), scenario).unwrap();
    let report = lab.home.path().join("later-release.json");
    let o = lab.gwlab(&[
        "test",
        named.to_str().unwrap(),
        "--gateway-address",
        &lab.standin.gateway_address(),
        "--json",
        report.to_str().unwrap(),
    ]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(0), "{t}");
    let json = read_json(&report);
    let s = &json["scenarios"][0];
    assert_eq!(s["verdict"], "unsupported", "{t}");
    assert_eq!(
        s["missingFeatures"],
        serde_json::json!(["Gateway API v1.4.1 (the cluster's CRDs are v1.2.1)"]),
        "{t}"
    );
    assert!(s.get("phases").is_none(), "nothing ran: {s}");
    let client = lab.standin.env.client().await;
    let left = crate::common::envtest::labelled(
        &client,
        &format!("gwlab.dev/run={}", json["runId"].as_str().unwrap()),
    )
    .await;
    assert!(left.is_empty(), "{left:?}");
    // Run with --require-features, it fails the run.
    let o = lab.gwlab(&[
        "test",
        named.to_str().unwrap(),
        "--gateway-address",
        &lab.standin.gateway_address(),
        "--require-features",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
}
