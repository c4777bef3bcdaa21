//! Faults of a real cluster, on a real API server: the API server out for
//! four seconds at each phase of a run (through [`Outage`], a forwarder that
//! refuses and cuts connections while the server itself keeps running)
//! changes no verdict and leaves nothing behind.

use std::path::Path;
use std::time::{Duration, Instant};

use kube::api::{Api, DynamicObject};

use crate::common::bin::text;
use crate::common::home::command;
use crate::common::outage::Outage;

/// Where in a run of scenarios/redirect the outage starts, told from what
/// the API server holds (the stand-in's own client sees it unhindered).
#[derive(Debug, Clone, Copy)]
enum Phase {
    /// At once: the run's first reads.
    Start,
    /// Its namespace exists: the route is being applied.
    Apply,
    /// The route exists: its conditions are awaited.
    Conditions,
    /// The route is Accepted: probes, then cleanup.
    Probes,
    /// The route is gone: the namespace's deletion is awaited.
    Cleanup,
}

async fn reached(
    phase: Phase,
    namespaces: &Api<DynamicObject>,
    routes: &Api<DynamicObject>,
) -> bool {
    let route = || async { routes.get_opt("imprun-root-redirect").await.ok().flatten() };
    match phase {
        Phase::Start => true,
        Phase::Apply => namespaces
            .get_opt("imprun-system")
            .await
            .ok()
            .flatten()
            .is_some(),
        Phase::Conditions => route().await.is_some(),
        Phase::Probes => route().await.is_some_and(|r| {
            r.data["status"]["parents"]
                .as_array()
                .is_some_and(|p| !p.is_empty())
        }),
        Phase::Cleanup => {
            // Seen once, then gone.
            route().await.is_none()
                && namespaces
                    .get_opt("imprun-system")
                    .await
                    .ok()
                    .flatten()
                    .is_some_and(|n| n.metadata.deletion_timestamp.is_some())
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_four_second_api_server_outage_at_any_phase_changes_no_verdict() {
    // A lab of its own: its runs and outages disturb no other test.
    let Some(lab) = crate::common::lab::own() else {
        return;
    };
    let env = lab.standin.env;
    let upstream = env
        .server
        .trim_start_matches("https://")
        .parse()
        .expect("an address");
    let outage = Outage::start(upstream).await;
    let kubeconfig = lab.home.path().join("through-outage.kubeconfig");
    outage.kubeconfig(&env.kubeconfig, &env.server, &kubeconfig);
    let redirect = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/redirect");
    let client = env.client().await;
    let (ns_kind, _) = gwlab::kinds::resource("v1", "Namespace").unwrap();
    let (route_kind, _) =
        gwlab::kinds::resource("gateway.networking.k8s.io/v1", "HTTPRoute").unwrap();
    let namespaces: Api<DynamicObject> = Api::all_with(client.clone(), &ns_kind);
    let routes: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), "imprun-system", &route_kind);
    for phase in [
        Phase::Start,
        Phase::Apply,
        Phase::Conditions,
        Phase::Probes,
        Phase::Cleanup,
    ] {
        let report = lab.home.path().join(format!("report-{phase:?}.json"));
        let t0 = Instant::now();
        let mut child = command(
            &[
                "test",
                redirect.to_str().unwrap(),
                "--target",
                "cluster",
                "--kubeconfig",
                kubeconfig.to_str().unwrap(),
                "--gateway-address",
                &lab.standin.gateway_address(),
                "--json",
                report.to_str().unwrap(),
            ],
            lab.home.path(),
        )
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
        let mut hit = false;
        while child.try_wait().unwrap().is_none() {
            if reached(phase, &namespaces, &routes).await {
                outage.outage(Duration::from_secs(4)).await;
                hit = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let o = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
            .await
            .unwrap();
        let t = text(&o);
        let wall = t0.elapsed();
        assert!(
            hit,
            "{phase:?}: the run ended before the phase was seen: {t}"
        );
        assert_eq!(o.status.code(), Some(0), "outage at {phase:?}: {t}");
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
        assert_eq!(
            json["scenarios"][0]["verdict"], "passed",
            "outage at {phase:?}: {t}"
        );
        assert!(
            wall >= Duration::from_secs(4),
            "the outage was within the run: {wall:?}"
        );
        let run = json["runId"].as_str().unwrap().to_string();
        let left = crate::common::envtest::until_none_labelled(
            &client,
            &format!("gwlab.dev/run={run}"),
            Duration::from_secs(60),
        )
        .await;
        assert!(left.is_empty(), "outage at {phase:?} left {left:?}: {t}");
        eprintln!(
            "outage at {phase:?}: passed, {:.1}s wall ({}), nothing left",
            wall.as_secs_f64(),
            json["scenarios"][0]["phases"]
        );
    }
}

/// An API server whose flow control is tight (5 requests in flight, 2 of them
/// writes) throttles gwlab with 429s: the repository's scenarios, four at a
/// time, pass all the same, each throttled call made again.
#[tokio::test]
async fn a_throttling_api_server_runs_the_repository_scenarios_four_at_a_time() {
    let Some(lab) = crate::common::lab::own_with(&[
        "--max-requests-inflight=5",
        "--max-mutating-requests-inflight=2",
    ]) else {
        return;
    };
    let scenarios = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let report = lab.home.path().join("report.json");
    let t0 = Instant::now();
    let o = lab.gwlab(&[
        "test",
        scenarios.to_str().unwrap(),
        "--parallel",
        "4",
        "--gateway-address",
        &lab.standin.gateway_address(),
        "--json",
        report.to_str().unwrap(),
    ]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(0), "{t}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let verdicts: Vec<&str> = json["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["verdict"].as_str().unwrap())
        .collect();
    assert_eq!(verdicts.len(), 11, "{t}");
    assert!(
        verdicts
            .iter()
            .all(|v| *v == "passed" || *v == "unsupported"),
        "{verdicts:?}: {t}"
    );
    eprintln!(
        "throttled (5 in flight, 2 mutating), --parallel 4: {} scenarios in {:.1}s",
        verdicts.len(),
        t0.elapsed().as_secs_f64()
    );
}
