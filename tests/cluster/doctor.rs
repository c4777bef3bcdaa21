//! `gwlab doctor` on cluster states built as real object shapes and served
//! through kube's client by a fake API: a healthy lab has no finding; each of
//! the seed's failures, and each route problem, gives exactly its finding with
//! the evidence quoted. The machine checks run against this machine's Docker.

use crate::common::fake_api::{self, Shared, seed};
use gwlab::doctor::cluster::{analyze, gather};
use gwlab::doctor::{self, Finding};
use serde_json::{Value, json};

const GW: &str = "/apis/gateway.networking.k8s.io/v1";

/// gwlab's own Kong Deployment, as `gwlab up` applies it, running.
fn kong_deployment() -> Value {
    let mut d = gwlab::lab::addons::kong_manifests()
        .into_iter()
        .find(|d| d["kind"] == "Deployment")
        .unwrap();
    d["metadata"]["uid"] = json!("kong-uid");
    d["status"] = json!({"conditions": [{"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"}]});
    d
}

fn pod(name: &str, phase: &str, kic_state: Value, restarts: u32) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "kong-system", "labels": {"app": "kong"}},
           "spec": {"containers": [{"name": "proxy"}, {"name": "ingress-controller"}]},
           "status": {"phase": phase, "containerStatuses": [
               {"name": "proxy", "ready": true, "restartCount": 0, "image": "kong:3.9.3", "imageID": "", "state": {"running": {}}},
               {"name": "ingress-controller", "ready": phase == "Running", "restartCount": restarts, "image": "kong/kubernetes-ingress-controller:3.5.13", "imageID": "", "state": kic_state}]}})
}

fn crd(plural: &str) -> Value {
    json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
           "metadata": {"name": format!("{plural}.gateway.networking.k8s.io"), "annotations": {"gateway.networking.k8s.io/bundle-version": "v1.2.1", "gateway.networking.k8s.io/channel": "standard"}},
           "spec": {"group": "gateway.networking.k8s.io", "names": {"plural": plural, "kind": "X"}, "scope": "Namespaced", "versions": []}})
}

fn lab_gateway(programmed: &str, reason: &str, message: &str, annotation: &str) -> Value {
    json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
           "metadata": {"name": "kong", "namespace": "kong-system", "annotations": {"konghq.com/publish-service": annotation}},
           "spec": {"gatewayClassName": "kong", "listeners": [{"name": "http", "port": 80, "protocol": "HTTP", "allowedRoutes": {"namespaces": {"from": "All"}}}]},
           "status": {"addresses": [{"type": "IPAddress", "value": "172.18.255.254"}], "conditions": [{"type": "Programmed", "status": programmed, "reason": reason, "message": message}]}})
}

/// A healthy lab, as `gwlab up` leaves it.
fn healthy(state: &Shared) {
    seed(
        state,
        "/version",
        json!({"major": "1", "minor": "32", "gitVersion": "v1.32.11+k3s3", "gitCommit": "x", "gitTreeState": "clean", "buildDate": "2025-01-01T00:00:00Z", "goVersion": "go1.23", "compiler": "gc", "platform": "linux/amd64"}),
    );
    for p in [
        "gatewayclasses",
        "gateways",
        "httproutes",
        "referencegrants",
        "grpcroutes",
    ] {
        seed(
            state,
            &format!(
                "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{p}.gateway.networking.k8s.io"
            ),
            crd(p),
        );
    }
    seed(
        state,
        &format!("{GW}/gatewayclasses/kong"),
        json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "GatewayClass", "metadata": {"name": "kong"}, "spec": {"controllerName": "konghq.com/kic-gateway-controller"}, "status": {"conditions": [{"type": "Accepted", "status": "True", "reason": "Accepted"}]}}),
    );
    seed(
        state,
        &format!("{GW}/namespaces/kong-system/gateways/kong"),
        lab_gateway("True", "Programmed", "", "kong-system/kong-proxy"),
    );
    seed(
        state,
        "/apis/apps/v1/namespaces/kong-system/deployments/kong",
        kong_deployment(),
    );
    seed(
        state,
        "/api/v1/namespaces/kong-system/pods/kong-7d9f-abcde",
        pod("kong-7d9f-abcde", "Running", json!({"running": {}}), 0),
    );
    seed(
        state,
        "/api/v1/namespaces/kong-system/pods/kong-7d9f-abcde/log",
        Value::String(
            "time=... level=info msg=\"successfully synced configuration to Kong\"\n".into(),
        ),
    );
    seed(
        state,
        "/apis/apps/v1/namespaces/metallb-system/deployments/controller",
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "controller", "namespace": "metallb-system"}, "spec": {"selector": {"matchLabels": {"app": "metallb"}}, "template": {"spec": {"containers": [{"name": "controller", "image": "quay.io/metallb/controller:v0.15.3"}]}}}, "status": {"conditions": [{"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"}]}}),
    );
    seed(
        state,
        "/apis/metallb.io/v1beta1/namespaces/metallb-system/ipaddresspools/gwlab",
        json!({"apiVersion": "metallb.io/v1beta1", "kind": "IPAddressPool", "metadata": {"name": "gwlab", "namespace": "metallb-system"}, "spec": {"addresses": ["172.18.255.247-172.18.255.254"]}}),
    );
    seed(
        state,
        "/api/v1/namespaces/kong-system/services/kong-proxy",
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "kong-proxy", "namespace": "kong-system"}, "spec": {"type": "LoadBalancer", "ports": [{"port": 80}]}, "status": {"loadBalancer": {"ingress": [{"ip": "172.18.255.254"}]}}}),
    );
    seed(
        state,
        "/api/v1/namespaces/app/services/web",
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "app"}, "spec": {"ports": [{"port": 8080}]}}),
    );
    seed(
        state,
        &format!("{GW}/namespaces/app/httproutes/web"),
        route(
            "web",
            "app",
            json!([{"name": "web", "port": 8080}]),
            "Accepted",
            "True",
            "Accepted",
            "ResolvedRefs",
            "True",
            "ResolvedRefs",
        ),
    );
}

#[allow(clippy::too_many_arguments)]
fn route(
    name: &str,
    ns: &str,
    backends: Value,
    a: &str,
    a_status: &str,
    a_reason: &str,
    r: &str,
    r_status: &str,
    r_reason: &str,
) -> Value {
    json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute", "metadata": {"name": name, "namespace": ns},
           "spec": {"parentRefs": [{"name": "kong", "namespace": "kong-system"}], "hostnames": ["web.example.com"], "rules": [{"backendRefs": backends}]},
           "status": {"parents": [{"parentRef": {"name": "kong", "namespace": "kong-system"}, "controllerName": "konghq.com/kic-gateway-controller", "conditions": [
               {"type": a, "status": a_status, "reason": a_reason, "message": "msg"}, {"type": r, "status": r_status, "reason": r_reason, "message": "msg"}]}]}})
}

fn network() -> gwlab::lab::docker::NetworkInfo {
    gwlab::lab::docker::NetworkInfo {
        name: "gwlab".into(),
        subnet: "172.18.0.0/16".parse().unwrap(),
        gateway: Some("172.18.0.1".parse().unwrap()),
        in_use: vec!["172.18.0.2".parse().unwrap()],
        labels: Default::default(),
    }
}

/// A Kong pod Pending, and the scheduler's event saying its host ports are taken.
fn pending_on_host_ports(state: &Shared, name: &str) {
    seed(
        state,
        &format!("/api/v1/namespaces/kong-system/pods/{name}"),
        pod(
            name,
            "Pending",
            json!({"waiting": {"reason": "ContainerCreating"}}),
            0,
        ),
    );
    seed(
        state,
        &format!("/api/v1/namespaces/kong-system/events/{name}.1"),
        json!({"apiVersion": "v1", "kind": "Event", "metadata": {"name": format!("{name}.1"), "namespace": "kong-system"},
        "involvedObject": {"kind": "Pod", "name": name, "namespace": "kong-system"}, "reason": "FailedScheduling", "type": "Warning",
        "message": "0/1 nodes are available: 1 node(s) didn't have free ports for the requested pod ports. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod."}),
    );
}

async fn findings(state: &Shared, client: kube::Client) -> Vec<Finding> {
    let _ = state;
    let facts = gather(&client).await.expect("the fake answers");
    let (found, checks) = analyze(&facts, Some(&network()));
    let found = doctor::order(found);
    // What `gwlab doctor` prints for this state (shown with --nocapture).
    eprintln!("{}", doctor::render_text(&found, &checks));
    found
}

fn ids(f: &[Finding]) -> Vec<&str> {
    f.iter().map(|f| f.id.as_str()).collect()
}

#[tokio::test]
async fn a_healthy_lab_has_no_finding() {
    let (client, state) = fake_api::fake();
    healthy(&state);
    let f = findings(&state, client).await;
    assert!(f.is_empty(), "{f:#?}");
}

#[tokio::test]
async fn a_publish_service_mismatch_is_named_with_both_values_and_the_log_line() {
    let (client, state) = fake_api::fake();
    healthy(&state);
    seed(
        &state,
        &format!("{GW}/namespaces/kong-system/gateways/kong"),
        lab_gateway(
            "Unknown",
            "Pending",
            "Waiting for controller",
            "kong/kong-gateway-proxy",
        ),
    );
    seed(&state, "/api/v1/namespaces/kong-system/pods/kong-7d9f-abcde/log", Value::String("level=error msg=\"failed to reconcile\" error=\"publish service reference \\\"kong/kong-gateway-proxy\\\" did not match configured controller manager's publish services\"\n".into()));
    let f = findings(&state, client).await;
    assert_eq!(
        ids(&f),
        vec!["kong-publish-service-mismatch", "gateway-not-programmed"],
        "the cause, then its effect: {f:#?}"
    );
    let e = f[0].evidence.join("\n");
    assert!(
        e.contains("konghq.com/publish-service: kong/kong-gateway-proxy"),
        "{e}"
    );
    assert!(
        e.contains("CONTROLLER_PUBLISH_SERVICE=kong-system/kong-proxy"),
        "{e}"
    );
    assert!(
        e.contains("Programmed=Unknown (Pending: Waiting for controller)"),
        "{e}"
    );
    assert!(
        e.contains("did not match configured controller manager's publish services"),
        "{e}"
    );
    let fix = f[0].fix.join("\n");
    assert!(
        fix.contains("konghq.com/publish-service: kong-system/kong-proxy")
            && fix.contains("ingressController.env.publish_service"),
        "{fix}"
    );
}

#[tokio::test]
async fn the_gateway_feature_gate_crash_loop_is_named() {
    let (client, state) = fake_api::fake();
    healthy(&state);
    let mut d = kong_deployment();
    let kic = d["spec"]["template"]["spec"]["containers"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|c| c["name"] == "ingress-controller")
        .unwrap();
    kic["env"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": "CONTROLLER_FEATURE_GATES", "value": "Gateway=true"}));
    seed(
        &state,
        "/apis/apps/v1/namespaces/kong-system/deployments/kong",
        d,
    );
    seed(
        &state,
        "/api/v1/namespaces/kong-system/pods/kong-7d9f-abcde",
        pod(
            "kong-7d9f-abcde",
            "Running",
            json!({"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 5m0s"}}),
            7,
        ),
    );
    seed(&state, "/api/v1/namespaces/kong-system/pods/kong-7d9f-abcde/log", Value::String("Error: invalid argument \"Gateway=true\" for \"--feature-gates\" flag: Gateway is not a valid feature\n".into()));
    let f = findings(&state, client).await;
    assert_eq!(ids(&f), vec!["kic-invalid-feature-gate"], "{f:#?}");
    let e = f[0].evidence.join("\n");
    assert!(
        e.contains("CONTROLLER_FEATURE_GATES=\"Gateway=true\""),
        "{e}"
    );
    assert!(e.contains("CrashLoopBackOff, 7 restarts"), "{e}");
    assert!(e.contains("Gateway is not a valid feature"), "{e}");
    assert!(
        f[0].fix.join("\n").contains("without any gate")
            && f[0].fix.join("\n").contains("GatewayAlpha")
    );
}

#[tokio::test]
async fn host_network_pending_pods_are_named_with_the_scheduler_event() {
    let (client, state) = fake_api::fake();
    healthy(&state);
    let mut d = kong_deployment();
    d["spec"]["template"]["spec"]["hostNetwork"] = json!(true);
    seed(
        &state,
        "/apis/apps/v1/namespaces/kong-system/deployments/kong",
        d,
    );
    pending_on_host_ports(&state, "kong-8c5b-fghij");
    let f = findings(&state, client).await;
    assert_eq!(ids(&f), vec!["kong-hostnetwork-port-conflict"], "{f:#?}");
    let e = f[0].evidence.join("\n");
    assert!(
        e.contains("hostNetwork: true, strategy RollingUpdate"),
        "{e}"
    );
    assert!(
        e.contains("didn't have free ports for the requested pod ports"),
        "{e}"
    );
    assert!(e.contains("Pending: kong-8c5b-fghij"), "{e}");
    let fix = f[0].fix.join("\n");
    assert!(
        fix.contains("unblock now") && fix.contains("Recreate") && fix.contains("LoadBalancer"),
        "{fix}"
    );
}

/// The same proxy run by a DaemonSet (a state the real server cannot be made
/// to show without a scheduler that sets DaemonSet pods' nodes): its pod
/// finds the node's ports held by something else.
#[tokio::test]
async fn a_host_network_daemon_set_pending_on_its_ports_is_named() {
    let (client, state) = fake_api::fake();
    healthy(&state);
    let mut ds = kong_deployment();
    ds["kind"] = json!("DaemonSet");
    ds["spec"]["template"]["spec"]["hostNetwork"] = json!(true);
    ds["spec"].as_object_mut().unwrap().remove("strategy");
    state
        .lock()
        .unwrap()
        .objects
        .remove("/apis/apps/v1/namespaces/kong-system/deployments/kong");
    seed(
        &state,
        "/apis/apps/v1/namespaces/kong-system/daemonsets/kong",
        ds,
    );
    pending_on_host_ports(&state, "kong-ds-xk2p9");
    let f = findings(&state, client).await;
    assert_eq!(ids(&f), vec!["kong-hostnetwork-port-conflict"], "{f:#?}");
    assert!(
        f[0].evidence[0]
            .starts_with("DaemonSet kong-system/kong: hostNetwork: true, strategy RollingUpdate"),
        "{f:#?}"
    );
    assert!(
        f[0].problem.contains("something on the node holds them"),
        "{f:#?}"
    );
    assert!(f[0].fix.join("\n").contains("ss -ltnp"), "{f:#?}");
}

#[tokio::test]
async fn route_problems_are_translated_into_changes() {
    let (client, state) = fake_api::fake();
    healthy(&state);
    seed(
        &state,
        &format!("{GW}/namespaces/team/httproutes/blocked"),
        route(
            "blocked",
            "team",
            json!([{"name": "web", "namespace": "app", "port": 8080}]),
            "Accepted",
            "False",
            "NotAllowedByListeners",
            "ResolvedRefs",
            "True",
            "ResolvedRefs",
        ),
    );
    seed(
        &state,
        &format!("{GW}/namespaces/frontend/httproutes/cross"),
        route(
            "cross",
            "frontend",
            json!([{"name": "api", "namespace": "shared", "port": 8080}]),
            "Accepted",
            "True",
            "Accepted",
            "ResolvedRefs",
            "False",
            "RefNotPermitted",
        ),
    );
    seed(
        &state,
        &format!("{GW}/namespaces/app/httproutes/broken"),
        route(
            "broken",
            "app",
            json!([{"name": "missing-svc", "port": 8080}]),
            "Accepted",
            "True",
            "Accepted",
            "ResolvedRefs",
            "False",
            "BackendNotFound",
        ),
    );
    seed(
        &state,
        &format!("{GW}/namespaces/app/httproutes/grpc-section"),
        route(
            "grpc-section",
            "app",
            json!([{"name": "web", "port": 8080}]),
            "Accepted",
            "False",
            "NoMatchingParent",
            "ResolvedRefs",
            "True",
            "ResolvedRefs",
        ),
    );
    let f = findings(&state, client).await;
    let mut got = ids(&f);
    got.sort();
    assert_eq!(
        got,
        vec![
            "route-backend-not-found",
            "route-no-matching-parent",
            "route-not-allowed",
            "route-ref-not-permitted"
        ],
        "{f:#?}"
    );
    assert!(
        f.iter()
            .find(|x| x.id == "route-no-matching-parent")
            .unwrap()
            .fix[0]
            .contains("`kubectl get gateway -n kong-system kong -o yaml`"),
        "the command names the Gateway: {f:#?}"
    );
    let by = |id: &str| f.iter().find(|x| x.id == id).unwrap();
    assert!(
        by("route-not-allowed").fix[0].contains("from: All"),
        "{:?}",
        by("route-not-allowed")
    );
    let grant = by("route-ref-not-permitted").fix.join("\n");
    assert!(
        grant.contains("kind: ReferenceGrant")
            && grant.contains("namespace: shared")
            && grant.contains("namespace: frontend")
            && grant.contains("name: api"),
        "{grant}"
    );
    assert!(
        by("route-backend-not-found").fix[0]
            .contains("Service app/missing-svc was looked for and not found")
    );
}

#[tokio::test]
async fn a_pool_over_the_docker_gateway_and_mixed_crds_are_found() {
    let (client, state) = fake_api::fake();
    healthy(&state);
    seed(
        &state,
        "/apis/metallb.io/v1beta1/namespaces/metallb-system/ipaddresspools/gwlab",
        json!({"apiVersion": "metallb.io/v1beta1", "kind": "IPAddressPool", "metadata": {"name": "gwlab", "namespace": "metallb-system"}, "spec": {"addresses": ["172.18.0.0/28"]}}),
    );
    let mut old = crd("grpcroutes");
    old["metadata"]["annotations"]["gateway.networking.k8s.io/bundle-version"] = json!("v1.1.0");
    seed(
        &state,
        "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/grpcroutes.gateway.networking.k8s.io",
        old,
    );
    let f = findings(&state, client).await;
    assert_eq!(
        ids(&f),
        vec!["gateway-api-crds-mixed", "metallb-pool-overlap"],
        "CRDs before the load balancer: {f:#?}"
    );
    assert!(f[0].evidence[0].contains("grpcroutes.gateway.networking.k8s.io: v1.1.0 (standard)"));
    assert!(
        f[1].evidence[1].contains("172.18.0.1, 172.18.0.2"),
        "{:?}",
        f[1].evidence
    );
}

#[tokio::test]
async fn machine_checks_on_this_engine() {
    if !std::process::Command::new("docker")
        .arg("info")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        crate::common::skip::not_run("no Docker engine");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let lock = gwlab::lab::lock::Lock::builtin();
    let cache = gwlab::lab::cache::Cache::new(dir.path().to_path_buf(), None);
    // A corrupt cached file is named with both sums.
    let f = lock.files_of("metallb").next().unwrap();
    std::fs::create_dir_all(cache.path(f).parent().unwrap()).unwrap();
    std::fs::write(cache.path(f), b"tampered").unwrap();
    let pulled = gwlab::lab::pulled::PullRecord::default();
    let (findings, checks, _) = gwlab::doctor::machine::check(&gwlab::doctor::machine::Inputs {
        provider: "k3s",
        lab: None,
        cache: &cache,
        lock: &lock,
        pulled: &pulled,
    })
    .await;
    assert!(
        checks.iter().any(|c| c.starts_with("Docker reachable")),
        "{checks:?}"
    );
    assert!(!findings.iter().any(|f| f.id == "docker-unreachable"));
    let corrupt = findings
        .iter()
        .find(|f| f.id == "cache-corrupt")
        .expect("the tampered file is found");
    assert!(
        corrupt.evidence[0].contains(&f.sha256)
            && corrupt.evidence[0].contains(&gwlab::lab::cache::sha256_hex(b"tampered"))
    );
    // No registry here: the lab's images are missing, and doctor says how to get them.
    if let Some(images) = findings.iter().find(|f| f.id == "images-missing") {
        assert!(images.fix[0].contains("gwlab pull"));
    }
}

/// The three field failures of the seed story, built in a real API server (no kubelet, no scheduler: Pods stay
/// Pending as unscheduled Pods do, and the test writes the statuses and events
/// a kubelet and a scheduler would). Logs cannot be read there, so the
/// findings stand on specs, statuses and events alone; the log evidence is
/// covered by the tests above. One test, one state after another, because
/// `doctor` reads the whole cluster.
#[tokio::test]
async fn the_field_failures_are_named_first_on_a_real_api_server() {
    use crate::common::envtest::apply_as;
    use kube::api::{Api, Patch, PatchParams, PostParams};
    // An API server of its own: doctor reads the whole cluster.
    let Some(env) = crate::common::envtest::another() else {
        return;
    };
    let client = env.client().await;
    crate::common::envtest::install_gateway_api(&client).await;
    let kong = gwlab::lab::addons::kong_manifests();
    for obj in &kong {
        apply_as(&client, "helm", obj.clone()).await;
    }
    let findings_now = || async {
        let facts = gather(&client).await.expect("a real server answers");
        let (found, checks) = analyze(&facts, None);
        let found = doctor::order(found);
        eprintln!("{}", doctor::render_text(&found, &checks));
        found
    };
    let original = |kind: &str| kong.iter().find(|o| o["kind"] == kind).cloned().unwrap();
    let pods: Api<k8s_openapi::api::core::v1::Pod> = Api::namespaced(client.clone(), "kong-system");
    // Pods of the Deployment's current template, once the controllers made them.
    let pods_now = |hash_of: &'static str| {
        let pods = pods.clone();
        async move {
            for _ in 0..100 {
                let list = pods.list(&Default::default()).await.unwrap();
                let named: Vec<String> = list
                    .items
                    .iter()
                    .filter(|p| serde_json::to_string(&p.spec).unwrap().contains(hash_of))
                    .filter_map(|p| p.metadata.name.clone())
                    .collect();
                if !named.is_empty() {
                    return named;
                }
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            panic!("no pod with {hash_of}");
        }
    };
    let event = |pod: &str, ns: &str, reason: &str, message: &str| {
        json!({"apiVersion": "v1", "kind": "Event",
            "metadata": {"name": format!("{pod}.{}", reason.to_lowercase()), "namespace": ns},
            "involvedObject": {"kind": "Pod", "name": pod, "namespace": ns},
            "reason": reason, "type": "Warning", "message": message})
    };
    let events: Api<k8s_openapi::api::core::v1::Event> =
        Api::namespaced(client.clone(), "kong-system");

    // 1. publish_service names kong-system/kong-kong-proxy; the Service is kong-system/kong-proxy.
    let mut gw = original("Gateway");
    gw["metadata"]["annotations"][gwlab::kong::PUBLISH_ANNOTATION] =
        json!("kong-system/kong-kong-proxy");
    apply_as(&client, "helm", gw).await;
    let f = findings_now().await;
    assert_eq!(f[0].id, "kong-publish-service-mismatch", "{f:#?}");
    let e = f[0].evidence.join("\n");
    assert!(
        e.contains("konghq.com/publish-service: kong-system/kong-kong-proxy"),
        "{e}"
    );
    assert!(
        e.contains("CONTROLLER_PUBLISH_SERVICE=kong-system/kong-proxy"),
        "{e}"
    );
    // The CRD's default status, as the API server wrote it: no controller took the Gateway.
    assert!(
        e.contains("Programmed=Unknown (Pending: Waiting for controller)"),
        "{e}"
    );
    apply_as(&client, "helm", original("Gateway")).await;

    // 2. Gateway=true in the controller's feature gates: KIC 3 exits at start.
    let mut d = original("Deployment");
    let kic = d["spec"]["template"]["spec"]["containers"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|c| c["name"] == "ingress-controller")
        .unwrap();
    kic["env"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": "CONTROLLER_FEATURE_GATES", "value": "Gateway=true"}));
    apply_as(&client, "helm", d).await;
    for pod in pods_now("Gateway=true").await {
        let status = json!({"status": {"phase": "Running", "containerStatuses": [
            {"name": "ingress-controller", "ready": false, "restartCount": 7, "image": "kong/kubernetes-ingress-controller:3.4", "imageID": "",
             "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 5m0s restarting failed container"}}}]}});
        pods.patch_status(&pod, &PatchParams::default(), &Patch::Merge(&status))
            .await
            .unwrap();
    }
    let f = findings_now().await;
    assert_eq!(f[0].id, "kic-invalid-feature-gate", "{f:#?}");
    let e = f[0].evidence.join("\n");
    assert!(
        e.contains("CONTROLLER_FEATURE_GATES=\"Gateway=true\""),
        "{e}"
    );
    assert!(e.contains("CrashLoopBackOff, 7 restarts"), "{e}");

    // Back to a clean Deployment: the crash-looping pods go with it.
    let deployments: Api<k8s_openapi::api::apps::v1::Deployment> =
        Api::namespaced(client.clone(), "kong-system");
    deployments
        .delete("kong", &kube::api::DeleteParams::foreground())
        .await
        .unwrap();
    for _ in 0..200 {
        let gone = deployments.get_opt("kong").await.unwrap().is_none()
            && pods
                .list(&Default::default())
                .await
                .unwrap()
                .items
                .is_empty();
        if gone {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }

    // 3. The proxy on hostNetwork: the rolling update's new pod is Pending on its ports.
    apply_as(&client, "helm", original("Deployment")).await;
    let mut d = original("Deployment");
    d["spec"]["template"]["spec"]["hostNetwork"] = json!(true);
    apply_as(&client, "helm", d).await;
    let pending = pods_now("\"hostNetwork\":true").await;
    events
        .create(&PostParams::default(), &serde_json::from_value(event(&pending[0], "kong-system", "FailedScheduling",
            "0/1 nodes are available: 1 node(s) didn't have free ports for the requested pod ports.")).unwrap())
        .await
        .unwrap();
    let f = findings_now().await;
    assert_eq!(f[0].id, "kong-hostnetwork-port-conflict", "{f:#?}");
    let e = f[0].evidence.join("\n");
    assert!(
        e.contains("Deployment kong-system/kong: hostNetwork: true, strategy RollingUpdate"),
        "{e}"
    );
    assert!(e.contains("didn't have free ports"), "{e}");
    assert!(
        e.contains(&format!("Pending: {}", pending[0])) || e.contains("Pending: "),
        "{e}"
    );
    assert!(f[0].fix.join("\n").contains("Recreate"));
    apply_as(&client, "helm", original("Deployment")).await;

    // 4. A user's Kong with the withdrawn KIC 3.4.0 image (and Kong 3.8):
    // named first, as critical, with the running image and the advisory.
    let mut d = original("Deployment");
    for c in d["spec"]["template"]["spec"]["containers"]
        .as_array_mut()
        .unwrap()
    {
        c["image"] = match c["name"].as_str() {
            Some("proxy") => json!("kong:3.8.0"),
            _ => json!("kong/kubernetes-ingress-controller:3.4.0"),
        };
    }
    apply_as(&client, "helm", d).await;
    for pod in pods_now("ingress-controller:3.4.0").await {
        let status = json!({"status": {"phase": "Running", "containerStatuses": [
            {"name": "ingress-controller", "ready": true, "restartCount": 0,
             "image": "docker.io/kong/kubernetes-ingress-controller:3.4.0",
             "imageID": "docker.io/kong/kubernetes-ingress-controller@sha256:8cf1a2ba4c1f4a2cd3ac1c6b8c8dd9f4b6f0cbd0d4e9fd48c4cf0d8e1a2b3c4d",
             "state": {"running": {}}}]}});
        pods.patch_status(&pod, &PatchParams::default(), &Patch::Merge(&status))
            .await
            .unwrap();
    }
    let f = findings_now().await;
    assert_eq!(f[0].id, "kic-withdrawn-image", "{f:#?}");
    assert_eq!(f[0].severity, doctor::Severity::Critical);
    assert!(
        f[0].problem.contains("GHSA-58mg-ww7q-xw3p"),
        "{}",
        f[0].problem
    );
    assert!(
        f[0].evidence
            .iter()
            .any(|e| e.contains("runs docker.io/kong/kubernetes-ingress-controller@sha256:8cf1")),
        "{:#?}",
        f[0].evidence
    );
    assert!(f.iter().any(|x| x.id == "kong-past-support"), "{f:#?}");
    // The command line: exit 1, the finding marked CRITICAL, the way out named.
    let o =
        crate::common::bin::gwlab(&["doctor", "--kubeconfig", env.kubeconfig.to_str().unwrap()]);
    let t = crate::common::bin::text(&o);
    eprintln!("{t}");
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(
        t.contains("1. CRITICAL: Deployment kong-system/kong runs kong/kubernetes-ingress-controller:3.4.0, a withdrawn release"),
        "{t}"
    );
    assert!(
        t.contains("move to 3.4.1 or later now") && t.contains("outbound connections"),
        "{t}"
    );
    apply_as(&client, "helm", original("Deployment")).await;
}
