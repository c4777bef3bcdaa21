//! The cluster target in-process (the runner and `ClusterTarget`) on a real
//! API server, with gwlab's reference gateway standing in for Kong: how a
//! failing scenario is reported and diagnosed, what cleanup leaves (nothing),
//! and where probes are sent.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use gwlab::report::Verdict;
use gwlab::report::human::Console;
use gwlab::report::sink::Sinks;
use gwlab::run::Runner;
use gwlab::targets::cluster::{ClusterTarget, GatewayAddress};
use gwlab::targets::{Awaiting, GatewayRef, Target};

fn scenario(files: &[(&str, &str)]) -> (tempfile::TempDir, gwlab::scenario::Scenario) {
    let dir = tempfile::tempdir().unwrap();
    for (name, body) in files {
        std::fs::write(dir.path().join(name), body).unwrap();
    }
    let s = gwlab::scenario::load(dir.path()).unwrap_or_else(|e| panic!("{e}"));
    (dir, s)
}

/// A route bound to a listener the lab Gateway does not have.
const ROUTE: &str = "apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: app}
spec:
  parentRefs: [{name: kong, namespace: kong-system, sectionName: grpc}]
  hostnames: [target-test.example.com]
  rules: [{backendRefs: [{name: app, port: 8080}]}]
";

const SCENARIO: &str = "name: on-cluster
backends: [{name: app}]
conditions:
  - {resource: HTTPRoute/app, type: Accepted, parent: kong-system/kong}
probes:
  - name: app answers
    request: {url: 'http://target-test.example.com/x'}
    expect: {status: 200, backend: app}
timeouts: {conditions: 2s, probes: 1s}
";

fn runner<'a>(sinks: &'a Sinks, run_id: &str, diagnostics: &std::path::Path) -> Runner<'a> {
    Runner {
        run_id: run_id.into(),
        sinks,
        retry_probes: true,
        cancel: Default::default(),
        created: Arc::new(Mutex::new(BTreeSet::new())),
        diagnostics: Some(diagnostics.to_path_buf()),
        keep: false,
        features: BTreeSet::new(),
        explain_hints: true,
        gateway_api: None,
    }
}

fn target(client: kube::Client, standin: &crate::common::standin::StandIn) -> ClusterTarget {
    ClusterTarget::new(
        client,
        None,
        Some(GatewayAddress {
            host: "127.0.0.1".into(),
            http: standin.http.port(),
            https: Some(standin.https.port()),
        }),
        "echo:test".into(),
        Duration::from_secs(60),
    )
}

#[tokio::test]
async fn a_condition_that_never_holds_reports_the_actual_one_and_nothing_is_left() {
    let Some(lab) = crate::common::lab::lab() else {
        return;
    };
    let client = lab.standin.env.client().await;
    let (_dir, s) = scenario(&[("route.yaml", ROUTE), ("scenario.yaml", SCENARIO)]);
    let sinks = Sinks::terminal(Console::new(true));
    let diag = tempfile::tempdir().unwrap();
    let run_id = gwlab::run::new_run_id();
    let runner = runner(&sinks, &run_id, diag.path());
    let mut t = target(client.clone(), lab.standin);
    let report = runner.run_scenario(&mut t, &s).await;
    assert_eq!(report.verdict, Verdict::Failed);
    let cond = report
        .checks
        .iter()
        .find(|c| c.name.contains("Accepted"))
        .unwrap();
    // What the model says, written by the stand-in, read back from the server.
    assert!(
        cond.failure
            .iter()
            .any(|l| l.contains("Accepted=False (NoMatchingParent")),
        "{:?}",
        cond.failure
    );
    let probe = report
        .checks
        .iter()
        .find(|c| c.name == "app answers")
        .unwrap();
    assert!(
        probe.failure.iter().any(|l| l.contains("got 404")),
        "{:?}",
        probe.failure
    );
    assert!(
        probe
            .request
            .as_deref()
            .unwrap_or_default()
            .contains("tries"),
        "a cluster probe is retried until its timeout: {:?}",
        probe.request
    );
    let phases = report.phases.expect("phases");
    assert!(phases.conditions >= Duration::from_secs(2), "{phases:?}");
    // The diagnosis names the reason; the bundle has the objects as the server holds them.
    let d = report.diagnosis.as_ref().expect("a bundle for the failure");
    assert!(
        d.lines.iter().any(|l| l.contains("NoMatchingParent")),
        "{:?}",
        d.lines
    );
    let objects = std::fs::read_to_string(d.bundle.join("objects.yaml")).unwrap();
    assert!(
        objects.contains("kind: HTTPRoute") && objects.contains("NoMatchingParent"),
        "{objects}"
    );
    // Cleanup issued the deletions; once they are through nothing of the run is left.
    assert!(t.deleting());
    let left = t
        .deletions_done(Awaiting::Everything, Duration::from_secs(60))
        .await;
    assert!(left.is_empty(), "{left:?}");
    let labelled =
        crate::common::envtest::labelled(&client, &format!("gwlab.dev/run={run_id}")).await;
    assert!(labelled.is_empty(), "{labelled:?}");
}

#[tokio::test]
async fn the_lab_gateway_falls_back_to_the_mapped_host_ports() {
    let Some(lab) = crate::common::lab::lab() else {
        return;
    };
    let client = lab.standin.env.client().await;
    // The stand-in gives the lab Gateway the address 127.0.0.1, where nothing
    // listens on 80 or 443: the lab's mapped host ports are used instead.
    let lab_state = gwlab::lab::state::LabState {
        name: "t".into(),
        provider: gwlab::lab::providers::ProviderKind::K3s,
        cluster: gwlab::lab::providers::Provisioned {
            kubeconfig: "/dev/null".into(),
            context: None,
            api: String::new(),
            network: None,
            http_port: Some(lab.standin.http.port()),
            https_port: Some(lab.standin.https.port()),
            node_image: None,
        },
        addons: vec![],
        created: vec![],
        adopted: vec![],
        images: vec![],
    };
    let t = ClusterTarget::new(
        client,
        Some(lab_state),
        None,
        "echo".into(),
        Duration::from_secs(1),
    );
    let gw = GatewayRef {
        namespace: "kong-system".into(),
        name: "kong".into(),
    };
    assert_eq!(t.gateway_address(&gw, 80).await.unwrap(), lab.standin.http);
    assert_eq!(
        t.gateway_address(&gw, 443).await.unwrap(),
        lab.standin.https
    );
    // An address that answers is used as it is.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    assert_eq!(
        t.gateway_address(&gw, port).await.unwrap(),
        listener.local_addr().unwrap(),
        "a listener port other than 80/443 goes to the address itself"
    );
}
