//! The stand-in controller in its two modes on a real API server: isolated
//! (each Gateway on an address of its own, as the spec isolates Gateways)
//! and shared (every Gateway from one proxy, as Kong serves them, with the
//! cluster target naming the deviation); and the features it writes into
//! the GatewayClass where the CRD has room for them.

use std::path::Path;
use std::time::Duration;

use crate::common::bin::text;
use gwlab::implementations::Implementation;

/// A scenario with a Gateway of its own: a route attached to it answers
/// through it, and not through the lab Gateway.
fn two_gateways(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(
        dir.join("routes.yaml"),
        "apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: other}
spec:
  gatewayClassName: kong
  listeners:
    - {name: web, protocol: HTTP, port: 80, allowedRoutes: {namespaces: {from: Same}}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: on-other}
spec:
  parentRefs: [{name: other}]
  hostnames: [isolation.example]
  rules:
    - backendRefs: [{name: app, port: 8080}]
",
    )
    .unwrap();
    std::fs::write(
        dir.join("scenario.yaml"),
        "name: two-gateways
backends: [{name: app}]
conditions:
  - {resource: HTTPRoute/on-other, type: Accepted}
probes:
  - name: its own Gateway serves the route
    gateway: other
    request: {url: \"http://isolation.example/\"}
    expect: {status: 200, backend: app}
  - name: the lab Gateway does not
    gateway: kong-system/kong
    request: {url: \"http://isolation.example/\"}
    expect: {status: 404}
timeouts: {probes: 3s}
",
    )
    .unwrap();
}

/// Whether this process may bind port 80 of a loopback address other than
/// 127.0.0.1 (isolated Gateways listen on their listeners' own ports).
fn may_bind_low_ports() -> bool {
    std::net::TcpListener::bind("127.0.0.2:80").is_ok()
}

#[tokio::test]
async fn isolated_gateways_keep_their_routes_and_a_shared_proxy_serves_them_everywhere() {
    if !may_bind_low_ports() {
        crate::common::skip::not_run(
            "binding port 80 of 127.0.0.2 needs root or CAP_NET_BIND_SERVICE",
        );
        return;
    }
    let Some(env) = crate::common::envtest::another() else {
        return;
    };
    // Isolated: no --gateway-address; each Gateway's own address is used.
    let standin: &'static crate::common::standin::StandIn =
        Box::leak(Box::new(crate::common::standin::on_isolated(env)));
    let Some(lab) = crate::common::lab::up_on(standin) else {
        return;
    };
    let dir = lab.home.path().join("two-gateways");
    two_gateways(&dir);
    let t0 = std::time::Instant::now();
    let o = lab.gwlab(&[
        "test",
        dir.to_str().unwrap(),
        "--kubeconfig",
        lab.kubeconfig(),
    ]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(0), "{t}");
    eprintln!("isolated: {:.1}s", t0.elapsed().as_secs_f64());

    // Shared, as Kong 3.9 serves them: the lab Gateway answers the route,
    // and the failure names the deviation, from the lab's Kong version.
    let Some(shared) = crate::common::lab::own_as(Implementation::parse("kong-3.9").unwrap())
    else {
        return;
    };
    let dir = shared.home.path().join("two-gateways");
    two_gateways(&dir);
    let t0 = std::time::Instant::now();
    let o = shared.gwlab(&[
        "test",
        dir.to_str().unwrap(),
        "--kubeconfig",
        shared.kubeconfig(),
        "--gateway-address",
        &shared.standin.gateway_address(),
    ]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(t.contains("probe: the lab Gateway does not"), "{t}");
    assert!(t.contains("status: expected 404, got 200"), "{t}");
    assert!(
        t.contains("known KIC behaviour: every Gateway of the class is served by one Kong, which routes by host alone [shared-proxy;"),
        "{t}"
    );
    eprintln!("shared: {:.1}s", t0.elapsed().as_secs_f64());
}

#[tokio::test]
async fn the_stand_in_writes_its_features_where_the_gatewayclass_has_room() {
    let Some(env) = crate::common::envtest::another() else {
        return;
    };
    let client = env.client().await;
    gwlab_standin::envtest::install_gateway_api_at(&client, "v1.4.1").await;
    let _standin = crate::common::standin::on(env);
    let class: kube::api::DynamicObject = serde_json::from_value(serde_json::json!({
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "GatewayClass",
        "metadata": {"name": "kong"},
        "spec": {"controllerName": gwlab::kong::CONTROLLER_NAME},
    }))
    .unwrap();
    let (ar, _) = gwlab::kinds::resource("gateway.networking.k8s.io/v1", "GatewayClass").unwrap();
    let api: kube::Api<kube::api::DynamicObject> = kube::Api::all_with(client, &ar);
    api.create(&Default::default(), &class).await.unwrap();
    let mut features = Vec::new();
    for _ in 0..100 {
        let c = api.get("kong").await.unwrap();
        features =
            gwlab::targets::cluster::read_status::object_status(&serde_json::to_value(&c).unwrap())
                .supported_features;
        if !features.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        features.contains(&"HTTPRouteRequestMirror".to_string()),
        "{features:?}"
    );
    assert!(
        features.contains(&"HTTPRouteSchemeRedirect".to_string()),
        "{features:?}"
    );
}

/// `bench/cluster.sh`: the repository's scenarios and the two-Gateway
/// scenario through the cluster target, with the stand-in isolated and
/// shared (as Kong 3.9): wall time and outcome of each.
#[tokio::test]
#[ignore = "a benchmark: bench/cluster.sh runs it"]
async fn bench_scenarios_on_the_stand_in_isolated_and_shared() {
    if !may_bind_low_ports() {
        crate::common::skip::not_run(
            "binding port 80 of 127.0.0.2 needs root or CAP_NET_BIND_SERVICE",
        );
        return;
    }
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let Some(env) = crate::common::envtest::another() else {
        return;
    };
    let isolated: &'static crate::common::standin::StandIn =
        Box::leak(Box::new(crate::common::standin::on_isolated(env)));
    let Some(iso) = crate::common::lab::up_on(isolated) else {
        return;
    };
    let Some(shared) = crate::common::lab::own_as(Implementation::parse("kong-3.9").unwrap())
    else {
        return;
    };
    for (mode, lab, address) in [
        ("isolated", &iso, None),
        (
            "shared (kong-3.9)",
            &shared,
            Some(shared.standin.gateway_address()),
        ),
    ] {
        let two = lab.home.path().join("two-gateways");
        two_gateways(&two);
        for dir in [repo.clone(), two] {
            let mut args = vec![
                "test".to_string(),
                dir.display().to_string(),
                "--kubeconfig".into(),
                lab.kubeconfig().into(),
            ];
            if let Some(a) = &address {
                args.extend(["--gateway-address".into(), a.clone()]);
            }
            let t0 = std::time::Instant::now();
            let o = lab.gwlab(&args);
            let summary = text(&o)
                .lines()
                .rev()
                .find(|l| l.contains(" passed, "))
                .unwrap_or_default()
                .to_string();
            eprintln!(
                "{mode}: {}: {:.1}s wall, exit {:?}: {summary}",
                dir.file_name().unwrap().to_string_lossy(),
                t0.elapsed().as_secs_f64(),
                o.status.code()
            );
        }
    }
}
