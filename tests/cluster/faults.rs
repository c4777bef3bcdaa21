//! Faults of a real cluster, on a real API server: the API server out for
//! four seconds at each phase of a run (through [`Outage`], a forwarder that
//! refuses and cuts connections while the server itself keeps running), or
//! kube-apiserver itself killed and started again on the same etcd, changes
//! no verdict and leaves nothing behind; a Gateway controller or data plane
//! that stops mid-run fails the run with a sentence that names it.

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

/// What breaks the API server while a phase runs.
#[derive(Clone, Copy)]
enum ApiFault {
    /// The forwarder in front of it refuses and cuts connections for 4 s.
    Outage(&'static Outage),
    /// kube-apiserver itself is killed, stays down 1 s, and starts again on
    /// the same port and etcd (down for as long as that takes).
    Restart(&'static gwlab_standin::envtest::Envtest),
}

impl ApiFault {
    /// Breaks the API server and returns once it answers again, with how
    /// long it did not.
    async fn strike(self) -> Duration {
        match self {
            ApiFault::Outage(o) => {
                let length = Duration::from_secs(4);
                o.outage(length).await;
                length
            }
            ApiFault::Restart(env) => {
                tokio::task::spawn_blocking(move || env.restart_apiserver(Duration::from_secs(1)))
                    .await
                    .unwrap()
                    .expect("kube-apiserver starts again")
            }
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
    let outage: &'static Outage = Box::leak(Box::new(Outage::start(upstream).await));
    let kubeconfig = lab.home.path().join("through-outage.kubeconfig");
    outage.kubeconfig(&env.kubeconfig, &env.server, &kubeconfig);
    at_every_phase(&lab, &kubeconfig, ApiFault::Outage(outage)).await;
}

/// The API server itself killed and started again at each phase, on the
/// same etcd: the stand-in controller's watches break too, as a real
/// controller's would, and every run still passes and leaves nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_server_restarted_at_any_phase_changes_no_verdict() {
    let Some(lab) = crate::common::lab::own() else {
        return;
    };
    let env = lab.standin.env;
    at_every_phase(&lab, &env.kubeconfig, ApiFault::Restart(env)).await;
}

/// Runs scenarios/redirect once per phase through `kubeconfig`, striking the
/// API server with `fault` when the run reaches that phase: each run passes,
/// exits 0 and leaves nothing.
async fn at_every_phase(lab: &crate::common::lab::Lab, kubeconfig: &Path, fault: ApiFault) {
    let env = lab.standin.env;
    let redirect = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/redirect");
    let client = env.client().await;
    let (ns_kind, _) = gwlab::kinds::resource("v1", "Namespace").unwrap();
    let namespaces: Api<DynamicObject> = Api::all_with(client.clone(), &ns_kind);
    let name = match fault {
        ApiFault::Outage(_) => "outage",
        ApiFault::Restart(_) => "restart",
    };
    for phase in [
        Phase::Start,
        Phase::Apply,
        Phase::Conditions,
        Phase::Probes,
        Phase::Cleanup,
    ] {
        // A run starts once the cluster has finished removing the last run's
        // namespace: after a restart its namespace controller can take
        // minutes, and a run that needs the namespace waits for it.
        let settle = Instant::now();
        while namespaces
            .get_opt("imprun-system")
            .await
            .ok()
            .flatten()
            .is_some()
        {
            assert!(
                settle.elapsed() < Duration::from_secs(240),
                "{name} before {phase:?}: the cluster did not remove namespace imprun-system in 240 s"
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        let Struck {
            output: o,
            report: json,
            strike: down,
            wall,
        } = run_struck(lab, &redirect, kubeconfig, phase, || fault.strike()).await;
        let t = text(&o);
        assert_eq!(o.status.code(), Some(0), "{name} at {phase:?}: {t}");
        assert_eq!(
            json["scenarios"][0]["verdict"], "passed",
            "{name} at {phase:?}: {t}"
        );
        assert!(wall >= down, "the {name} was within the run: {wall:?}");
        let run = json["runId"].as_str().unwrap().to_string();
        let left = crate::common::envtest::until_none_labelled(
            &client,
            &format!("gwlab.dev/run={run}"),
            Duration::from_secs(60),
        )
        .await;
        // After a restart the cluster's namespace controller may take longer
        // than a minute to finish the namespaces whose deletion gwlab issued
        // and the API server accepted (the run notes them): those may stay
        // finalizing; nothing else may.
        let mut finalizing = Vec::new();
        for object in &left {
            let deleting = match object.strip_prefix("Namespace ") {
                Some(n) => namespace_deleting(&namespaces, n).await,
                None => false,
            };
            assert!(deleting, "{name} at {phase:?} left {left:?}: {t}");
            finalizing.push(object.clone());
        }
        assert!(
            finalizing.is_empty() || matches!(fault, ApiFault::Restart(_)),
            "{name} at {phase:?} left {finalizing:?}: {t}"
        );
        if !finalizing.is_empty() {
            assert!(t.contains("being removed by the cluster"), "{t}");
        }
        eprintln!(
            "{name} at {phase:?} (API server down {:.1}s): passed, {:.1}s wall ({}), left nothing but {finalizing:?} (finalizing)",
            down.as_secs_f64(),
            wall.as_secs_f64(),
            json["scenarios"][0]["phases"]
        );
    }
}

/// Whether namespace `name` is being deleted (its deletion accepted).
async fn namespace_deleting(namespaces: &Api<DynamicObject>, name: &str) -> bool {
    namespaces
        .get_opt(name)
        .await
        .ok()
        .flatten()
        .is_some_and(|n| n.metadata.deletion_timestamp.is_some())
}

/// scenarios/redirect with short timeouts, for runs that are meant to fail.
fn redirect_with_short_timeouts(dir: &Path) -> std::path::PathBuf {
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/redirect");
    let to = dir.join("redirect-short");
    std::fs::create_dir_all(&to).unwrap();
    for f in ["scenario.yaml", "route.yaml"] {
        std::fs::copy(from.join(f), to.join(f)).unwrap();
    }
    let mut scenario = std::fs::read_to_string(to.join("scenario.yaml")).unwrap();
    scenario.push_str("timeouts: {conditions: 4s, probes: 3s}\n");
    std::fs::write(to.join("scenario.yaml"), scenario).unwrap();
    to
}

/// One run of `scenario` on `lab` through `kubeconfig`, struck once it
/// reaches `phase`.
struct Struck<T> {
    output: std::process::Output,
    report: serde_json::Value,
    /// What the strike returned.
    strike: T,
    wall: Duration,
}

/// Runs `scenario` on `lab` through `kubeconfig`, calling `strike` once the
/// API server shows `phase` (the cleanup phase only after the run's own
/// route was seen: an earlier run's namespace may still be finalizing);
/// panics if the run ended first.
async fn run_struck<T, F, Fut>(
    lab: &crate::common::lab::Lab,
    scenario: &Path,
    kubeconfig: &Path,
    phase: Phase,
    strike: F,
) -> Struck<T>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = T>,
{
    let client = lab.standin.env.client().await;
    let (ns_kind, _) = gwlab::kinds::resource("v1", "Namespace").unwrap();
    let (route_kind, _) =
        gwlab::kinds::resource("gateway.networking.k8s.io/v1", "HTTPRoute").unwrap();
    let namespaces: Api<DynamicObject> = Api::all_with(client.clone(), &ns_kind);
    let routes: Api<DynamicObject> = Api::namespaced_with(client, "imprun-system", &route_kind);
    let report = tempfile::NamedTempFile::new_in(lab.home.path()).unwrap();
    let t0 = Instant::now();
    let mut child = command(
        &[
            "test",
            scenario.to_str().unwrap(),
            "--target",
            "cluster",
            "--kubeconfig",
            kubeconfig.to_str().unwrap(),
            "--gateway-address",
            &lab.standin.gateway_address(),
            "--json",
            report.path().to_str().unwrap(),
        ],
        lab.home.path(),
    )
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::piped())
    .spawn()
    .unwrap();
    let mut strike = Some(strike);
    let mut struck = None;
    let mut route_seen = false;
    while child.try_wait().unwrap().is_none() {
        route_seen = route_seen
            || routes
                .get_opt("imprun-root-redirect")
                .await
                .ok()
                .flatten()
                .is_some();
        let this_run = !matches!(phase, Phase::Cleanup) || route_seen;
        if this_run && reached(phase, &namespaces, &routes).await {
            let s = strike.take().expect("struck once");
            struck = Some(s().await);
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let output = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    let wall = t0.elapsed();
    let Some(strike) = struck else {
        panic!("the run ended before {phase:?}: {}", text(&output));
    };
    let report = serde_json::from_str(&std::fs::read_to_string(report.path()).unwrap()).unwrap();
    Struck {
        output,
        report,
        strike,
        wall,
    }
}

/// The Gateway's data plane gone while the route is being accepted: the
/// probes fail naming the Gateway address and its refusal; then the Gateway
/// controller gone as soon as the run's namespace exists: the condition
/// timeout says no controller wrote status and points at doctor. Either
/// way the run exits 1 and leaves nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_data_plane_or_controller_that_stops_mid_run_is_named() {
    let Some(lab) = crate::common::lab::own() else {
        return;
    };
    let client = lab.standin.env.client().await;
    let env_kubeconfig = lab.standin.env.kubeconfig.clone();
    let scenario = redirect_with_short_timeouts(lab.home.path());

    let Struck {
        output: o,
        report: json,
        ..
    } = run_struck(&lab, &scenario, &env_kubeconfig, Phase::Conditions, || {
        lab.standin.stop_data_plane()
    })
    .await;
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert_eq!(json["scenarios"][0]["verdict"], "failed", "{t}");
    let refused = format!(
        "the Gateway address {} refused the connection (is the data plane there, and is the address right?)",
        lab.standin.http
    );
    assert!(t.contains(&refused), "{refused}\n{t}");
    let left = crate::common::envtest::until_none_labelled(
        &client,
        &format!("gwlab.dev/run={}", json["runId"].as_str().unwrap()),
        Duration::from_secs(60),
    )
    .await;
    assert!(left.is_empty(), "left {left:?}: {t}");
    eprintln!("data plane stopped before the probes: exit 1, the refusal named, nothing left");

    let Struck {
        output: o,
        report: json,
        ..
    } = run_struck(&lab, &scenario, &env_kubeconfig, Phase::Apply, || {
        lab.standin.stop_controller()
    })
    .await;
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert_eq!(json["scenarios"][0]["verdict"], "failed", "{t}");
    assert!(
        t.contains("the route's status has no parent entries: no Gateway controller has written its status (is one running for the Gateway? on the lab, `gwlab doctor` checks Kong's)"),
        "{t}"
    );
    let left = crate::common::envtest::until_none_labelled(
        &client,
        &format!("gwlab.dev/run={}", json["runId"].as_str().unwrap()),
        Duration::from_secs(60),
    )
    .await;
    assert!(left.is_empty(), "left {left:?}: {t}");
    eprintln!(
        "controller stopped once the namespace existed: exit 1, no controller named, nothing left"
    );
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
    assert_eq!(
        verdicts.len(),
        crate::common::bin::repository_scenarios(),
        "{t}"
    );
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
