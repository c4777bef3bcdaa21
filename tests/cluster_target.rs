//! `gwlab test --target cluster` against a fake API server (kube's client with
//! a mock service) and a local HTTP server standing in for the Gateway's
//! address: what gwlab sends for a scenario, how it waits, cleans up after a
//! failure and after cancellation, and when it reports `unsupported`.

mod common;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::fake_api::{self, Shared};
use gwlab::model::request::RequestHead;
use gwlab::report::Verdict;
use gwlab::report::human::Console;
use gwlab::run::Runner;
use gwlab::targets::Target;
use gwlab::targets::cluster::{ClusterTarget, GatewayAddress};

/// An HTTP server answering every request as echo backend `service` would.
fn stand_in_gateway(service: &'static str) -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let mut host = String::new();
                    loop {
                        let mut h = String::new();
                        if reader.read_line(&mut h).unwrap_or(0) <= 2 {
                            break;
                        }
                        if let Some(v) = h
                            .strip_prefix("host: ")
                            .or_else(|| h.strip_prefix("Host: "))
                        {
                            host = v.trim().to_string();
                        }
                    }
                    let target = line.split_whitespace().nth(1).unwrap_or("/").to_string();
                    let (path, query) = match target.split_once('?') {
                        Some((p, q)) => (p.to_string(), Some(q.to_string())),
                        None => (target, None),
                    };
                    let req = RequestHead {
                        method: "GET".into(),
                        scheme: "http".into(),
                        host,
                        path,
                        query,
                        headers: vec![],
                    };
                    let answer = gwlab::targets::embedded::echo::respond(&req, "stand-in", service);
                    let head = format!(
                        "HTTP/1.1 {} OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                        answer.status,
                        answer.body.len()
                    );
                    let _ = stream.write_all(head.as_bytes());
                    let _ = stream.write_all(&answer.body);
                }
            });
        }
    });
    port
}

fn scenario(files: &[(&str, &str)]) -> (tempfile::TempDir, gwlab::scenario::Scenario) {
    let dir = tempfile::tempdir().unwrap();
    for (name, body) in files {
        std::fs::write(dir.path().join(name), body).unwrap();
    }
    let s = gwlab::scenario::load(dir.path()).unwrap_or_else(|e| panic!("{e}"));
    (dir, s)
}

const ROUTE: &str = "apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: app}
spec:
  parentRefs: [{name: kong, namespace: kong-system}]
  hostnames: [app.example.com]
  rules: [{backendRefs: [{name: app, port: 8080}]}]
";

const SCENARIO: &str = "name: on-cluster
backends: [{name: app}]
conditions:
  - {resource: HTTPRoute/app, type: Accepted}
probes:
  - name: app answers
    request: {url: 'http://app.example.com/x'}
    expect: {status: 200, backend: app}
timeouts: {conditions: 2s, probes: 2s}
";

fn runner<'a>(console: &'a Console, diagnostics: Option<&Path>) -> Runner<'a> {
    Runner {
        run_id: "run42".into(),
        console,
        retry_probes: true,
        cancel: Arc::new(AtomicBool::new(false)),
        created: Arc::new(Mutex::new(BTreeSet::new())),
        diagnostics: diagnostics.map(Path::to_path_buf),
        keep: false,
        features: BTreeSet::new(),
    }
}

fn target(client: kube::Client, gateway_port: u16) -> ClusterTarget {
    ClusterTarget::new(
        client,
        None,
        Some(GatewayAddress {
            host: "127.0.0.1".into(),
            http: gateway_port,
            https: None,
        }),
        "echo:test".into(),
        Duration::from_secs(2),
    )
}

fn lines(state: &Shared) -> Vec<String> {
    state
        .lock()
        .unwrap()
        .seen
        .iter()
        .filter(|s| !s.is_watch())
        .map(|s| s.line())
        .collect()
}

#[tokio::test]
async fn a_scenario_is_applied_awaited_probed_and_removed_in_reverse() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let (client, state) = fake_api::fake();
    fake_api::seed_lab(&state);
    let port = stand_in_gateway("app");
    let (_dir, s) = scenario(&[("route.yaml", ROUTE), ("scenario.yaml", SCENARIO)]);
    let console = Console::new(true);
    let runner = runner(&console, None);
    let mut t = target(client, port);
    let start = Instant::now();
    let report = runner.run_scenario(&mut t, &s).await;
    let elapsed = start.elapsed();
    assert_eq!(report.verdict, Verdict::Passed, "{:#?}", report.checks);
    let ns = report.namespace.clone().unwrap();

    let seen = state.lock().unwrap().seen.clone();
    let calls = lines(&state);
    let pos = |needle: &str| {
        calls
            .iter()
            .position(|c| c == needle)
            .unwrap_or_else(|| panic!("{needle} not in {calls:#?}"))
    };
    let ns_path = format!("/api/v1/namespaces/{ns}");
    let deploy = format!("/apis/apps/v1/namespaces/{ns}/deployments/app");
    let svc = format!("/api/v1/namespaces/{ns}/services/app");
    let route = format!("/apis/gateway.networking.k8s.io/v1/namespaces/{ns}/httproutes/app");
    // Namespace, then backend, then the manifests; deletions in reverse.
    assert!(pos(&format!("GET {ns_path}")) < pos(&format!("PATCH {ns_path}")));
    assert!(pos(&format!("PATCH {ns_path}")) < pos(&format!("PATCH {deploy}")));
    assert!(pos(&format!("PATCH {deploy}")) < pos(&format!("PATCH {svc}")));
    assert!(pos(&format!("PATCH {svc}")) < pos(&format!("PATCH {route}")));
    assert!(pos(&format!("PATCH {route}")) < pos(&format!("DELETE {route}")));
    assert!(
        pos(&format!("DELETE {route}")) < pos(&format!("DELETE {ns_path}")),
        "the route goes before the namespace it is in"
    );
    // Waits are watches: the backend's Deployment and the route.
    assert!(
        seen.iter().any(|s| s.path.ends_with("/deployments")
            && s.query.contains("fieldSelector=metadata.name%3Dapp")),
        "the backend is awaited (a watch on that Deployment)"
    );
    assert!(
        seen.iter().any(|s| s.path.ends_with("/httproutes")
            && s.query.contains("fieldSelector=metadata.name%3Dapp")),
        "the condition is awaited on that route"
    );
    for p in seen.iter().filter(|s| s.method == "PATCH") {
        assert!(
            p.query.contains("fieldManager=gwlab") && p.query.contains("fieldValidation=Strict"),
            "{}",
            p.query
        );
        let labels = &p.body.as_ref().unwrap()["metadata"]["labels"];
        assert_eq!(
            labels["app.kubernetes.io/managed-by"], "gwlab",
            "{}",
            p.path
        );
        assert_eq!(labels["gwlab.dev/run"], "run42", "{}", p.path);
    }
    let applied_route = seen
        .iter()
        .find(|s| s.method == "PATCH" && s.path == route)
        .unwrap()
        .body
        .clone()
        .unwrap();
    assert_eq!(
        applied_route["metadata"]["namespace"],
        ns.as_str(),
        "objects without a namespace get the scenario's"
    );
    let svc_body = seen
        .iter()
        .find(|s| s.method == "PATCH" && s.path == svc)
        .unwrap()
        .body
        .clone()
        .unwrap();
    assert_eq!(svc_body["spec"]["ports"][0]["port"], 8080);
    assert_eq!(svc_body["spec"]["ports"][0]["targetPort"], 3000);
    assert!(
        state
            .lock()
            .unwrap()
            .objects
            .keys()
            .all(|k| !k.contains(&ns)),
        "nothing of the scenario is left"
    );
    assert!(
        !state.lock().unwrap().objects.is_empty(),
        "the lab's own objects stay"
    );
    // gwlab's own overhead, for the closing note (the fake answers at once).
    eprintln!(
        "overhead: {:.1} ms for one scenario, {} API requests ({} not watches)",
        elapsed.as_secs_f64() * 1000.0,
        seen.len(),
        calls.len()
    );
}

#[tokio::test]
async fn a_condition_that_never_holds_reports_the_actual_one_and_everything_is_cleaned() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let (client, state) = fake_api::fake();
    fake_api::seed_lab(&state);
    state.lock().unwrap().route_accepted = false;
    let port = stand_in_gateway("other");
    let (_dir, s) = scenario(&[("route.yaml", ROUTE), ("scenario.yaml", SCENARIO)]);
    let console = Console::new(true);
    let diag = tempfile::tempdir().unwrap();
    let runner = runner(&console, Some(diag.path()));
    let report = runner.run_scenario(&mut target(client, port), &s).await;
    assert_eq!(report.verdict, Verdict::Failed);
    let cond = report
        .checks
        .iter()
        .find(|c| c.name.contains("Accepted"))
        .unwrap();
    assert!(
        cond.failure
            .iter()
            .any(|l| l.contains("Accepted=False (NotAllowedByListeners")),
        "{:?}",
        cond.failure
    );
    let probe = report
        .checks
        .iter()
        .find(|c| c.name == "app answers")
        .unwrap();
    assert!(
        probe
            .failure
            .iter()
            .any(|l| l.contains("backend: expected app, got other")),
        "{:?}",
        probe.failure
    );
    assert!(
        probe.failure[0].contains("tries"),
        "a cluster probe is retried until its timeout: {:?}",
        probe.failure
    );
    // The diagnosis names the reason, and the bundle has the objects.
    let d = report.diagnosis.as_ref().expect("a bundle for the failure");
    assert!(
        d.lines
            .iter()
            .any(|l| l.contains("Accepted=False (NotAllowedByListeners")),
        "{:?}",
        d.lines
    );
    let objects = std::fs::read_to_string(d.bundle.join("objects.yaml")).unwrap();
    assert!(
        objects.contains("kind: HTTPRoute") && objects.contains("NotAllowedByListeners"),
        "{objects}"
    );
    // Cleanup ran anyway.
    let ns = report.namespace.unwrap();
    assert!(lines(&state).contains(&format!("DELETE /api/v1/namespaces/{ns}")));
    assert!(
        state
            .lock()
            .unwrap()
            .objects
            .keys()
            .all(|k| !k.contains(&ns))
    );
}

#[tokio::test]
async fn cancellation_skips_the_steps_but_not_the_cleanup() {
    let (client, state) = fake_api::fake();
    fake_api::seed_lab(&state);
    let (_dir, s) = scenario(&[("route.yaml", ROUTE), ("scenario.yaml", SCENARIO)]);
    let console = Console::new(true);
    let runner = runner(&console, None);
    runner
        .cancel
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let report = runner.run_scenario(&mut target(client, 9), &s).await;
    assert_eq!(report.verdict, Verdict::Failed);
    assert!(
        report
            .checks
            .iter()
            .any(|c| c.failure.iter().any(|f| f.contains("interrupted"))),
        "{:#?}",
        report.checks
    );
    assert!(
        !report.checks.iter().any(|c| c.name == "app answers"),
        "no probe after Ctrl-C"
    );
    let ns = report.namespace.unwrap();
    let calls = lines(&state);
    assert!(
        calls.contains(&format!(
            "DELETE /apis/gateway.networking.k8s.io/v1/namespaces/{ns}/httproutes/app"
        )),
        "{calls:#?}"
    );
    assert!(calls.contains(&format!("DELETE /api/v1/namespaces/{ns}")));
    assert!(
        runner.created.lock().unwrap().is_empty(),
        "nothing is left to report"
    );
}

#[tokio::test]
async fn missing_features_make_the_scenario_unsupported_without_touching_the_cluster() {
    let (client, state) = fake_api::fake();
    fake_api::seed_lab(&state);
    let scenario_text = SCENARIO.replace(
        "name: on-cluster",
        "name: needs-redirects\nfeatures: [HTTPRouteSchemeRedirect, HTTPRoutePathRewrite]",
    );
    let (_dir, s) = scenario(&[("route.yaml", ROUTE), ("scenario.yaml", &scenario_text)]);
    let console = Console::new(true);
    let mut t = target(client.clone(), 9);
    let mut r = runner(&console, None);
    r.features = t.supported_features().await.unwrap();
    let report = r.run_scenario(&mut t, &s).await;
    assert_eq!(report.verdict, Verdict::Unsupported);
    assert_eq!(
        report.missing_features,
        vec!["HTTPRouteSchemeRedirect"],
        "Kong 3.4's table has path rewrites, not scheme redirects"
    );
    assert!(
        !state
            .lock()
            .unwrap()
            .seen
            .iter()
            .any(|s| s.method == "PATCH"),
        "nothing applied"
    );

    // A GatewayClass that reports its features is believed over the table.
    let mut class =
        state.lock().unwrap().objects["/apis/gateway.networking.k8s.io/v1/gatewayclasses/kong"]
            .clone();
    class["status"]["supportedFeatures"] =
        serde_json::json!([{"name": "HTTPRoute"}, {"name": "HTTPRouteSchemeRedirect"}]);
    fake_api::seed(
        &state,
        "/apis/gateway.networking.k8s.io/v1/gatewayclasses/kong",
        class,
    );
    let mut t = target(client, 9);
    let mut r = runner(&console, None);
    r.features = t.supported_features().await.unwrap();
    let report = r.run_scenario(&mut t, &s).await;
    assert_eq!(report.missing_features, vec!["HTTPRoutePathRewrite"]);
}

#[tokio::test]
async fn probes_go_to_the_gateway_address_with_host_from_the_url() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let (client, state) = fake_api::fake();
    fake_api::seed_lab(&state);
    let port = stand_in_gateway("app");
    let probe_scenario = SCENARIO.replace(
        "expect: {status: 200, backend: app}",
        "expect: {status: 200, backend: app, backendRequest: {host: app.example.com, path: /x}}",
    );
    let (_dir, s) = scenario(&[("route.yaml", ROUTE), ("scenario.yaml", &probe_scenario)]);
    let console = Console::new(true);
    let report = runner(&console, None)
        .run_scenario(&mut target(client, port), &s)
        .await;
    assert_eq!(report.verdict, Verdict::Passed, "{:#?}", report.checks);
}

#[tokio::test]
async fn the_lab_gateway_falls_back_to_the_mapped_host_ports() {
    let (client, state) = fake_api::fake();
    fake_api::seed_lab(&state);
    // An address that does not answer (nothing listens on 127.0.0.3:80).
    let mut gw = state.lock().unwrap().objects["/apis/gateway.networking.k8s.io/v1/namespaces/kong-system/gateways/kong"].clone();
    gw["status"]["addresses"] = serde_json::json!([{"value": "127.0.0.3"}]);
    fake_api::seed(
        &state,
        "/apis/gateway.networking.k8s.io/v1/namespaces/kong-system/gateways/kong",
        gw,
    );
    let lab = gwlab::lab::state::LabState {
        name: "t".into(),
        provider: gwlab::lab::providers::ProviderKind::K3s,
        cluster: gwlab::lab::providers::Provisioned {
            kubeconfig: "/dev/null".into(),
            context: None,
            api: String::new(),
            network: None,
            http_port: Some(18080),
            https_port: Some(18443),
        },
        addons: vec![],
        created: vec![],
        adopted: vec![],
    };
    let t = ClusterTarget::new(
        client,
        Some(lab),
        None,
        "echo".into(),
        Duration::from_secs(1),
    );
    use gwlab::targets::{GatewayRef, Target};
    let gw = GatewayRef {
        namespace: "kong-system".into(),
        name: "kong".into(),
    };
    assert_eq!(
        t.gateway_address(&gw, 80).await.unwrap(),
        "127.0.0.1:18080".parse().unwrap()
    );
    assert_eq!(
        t.gateway_address(&gw, 443).await.unwrap(),
        "127.0.0.1:18443".parse().unwrap()
    );
    // An address that answers is used as it is.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    assert_eq!(
        t.gateway_address(&gw, port).await.unwrap().port(),
        port,
        "a listener port other than 80/443 goes to the address itself"
    );
}
