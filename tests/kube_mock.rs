//! The lab's Kubernetes interactions against kube's client with a mock API
//! service: what gwlab sends (order, server-side apply parameters, labels) and
//! how it reacts (watch events, timeouts, conflicts, a webhook not yet serving).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use gwlab::lab::addons::{self, Options};
use gwlab::lab::docker::NetworkInfo;
use gwlab::lab::wait;
use http::{Request, Response, StatusCode};
use kube::Client;
use kube::client::Body;
use serde_json::{Value, json};

#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    query: String,
    body: Option<Value>,
}

enum Reply {
    Json(StatusCode, Value),
    /// Newline-separated watch events, then the stream ends.
    Events(Vec<Value>),
    /// Never answer (a watch that stays open with nothing to say).
    Hang,
}

type Handler = Box<dyn Fn(&Seen, usize) -> Reply + Send + Sync>;

/// A kube client whose requests `handler` answers; every request is recorded.
fn mock(handler: Handler) -> (Client, Arc<Mutex<Vec<Seen>>>) {
    let (svc, mut handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        let mut hung = Vec::new();
        while let Some((req, send)) = handle.next_request().await {
            let (parts, body) = req.into_parts();
            let bytes = body.collect_bytes().await.unwrap_or_default();
            let s = Seen {
                method: parts.method.to_string(),
                path: parts.uri.path().to_string(),
                query: parts.uri.query().unwrap_or_default().to_string(),
                body: serde_json::from_slice(&bytes).ok(),
            };
            let n = {
                let mut l = log.lock().unwrap();
                l.push(s.clone());
                l.len()
            };
            match handler(&s, n) {
                Reply::Json(code, v) => send.send_response(
                    Response::builder()
                        .status(code)
                        .header("content-type", "application/json")
                        .body(Body::from(serde_json::to_vec(&v).unwrap()))
                        .unwrap(),
                ),
                Reply::Events(events) => {
                    let text: String = events.iter().map(|e| format!("{e}\n")).collect();
                    send.send_response(
                        Response::builder()
                            .status(200)
                            .body(Body::from(text.into_bytes()))
                            .unwrap(),
                    )
                }
                Reply::Hang => hung.push(send),
            }
        }
    });
    (Client::new(svc, "default"), seen)
}

fn not_found() -> Reply {
    Reply::Json(
        StatusCode::NOT_FOUND,
        json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "NotFound", "message": "not found", "code": 404}),
    )
}

fn crd_docs() -> Vec<Value> {
    ["gatewayclasses", "gateways", "httproutes"]
        .iter()
        .map(|p| json!({
            "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": format!("{p}.gateway.networking.k8s.io"), "annotations": {"gateway.networking.k8s.io/bundle-version": "v1.2.1", "gateway.networking.k8s.io/channel": "standard"}},
            "spec": {"group": "gateway.networking.k8s.io"}
        }))
        .collect()
}

fn opts(wait: bool, force: bool) -> Options {
    Options {
        ledger: Default::default(),
        lab: "lab1".into(),
        wait,
        force,
        timeout: Duration::from_millis(800),
    }
}

/// Echoes an applied object back, as the API server does.
fn echo(s: &Seen) -> Reply {
    Reply::Json(StatusCode::OK, s.body.clone().unwrap_or(json!({})))
}

#[tokio::test]
async fn crds_are_checked_then_applied_server_side_in_order_with_gwlab_labels() {
    let (client, seen) = mock(Box::new(|s, _| {
        if s.method == "GET" {
            not_found()
        } else {
            echo(s)
        }
    }));
    addons::install_crds(&client, &crd_docs(), &opts(false, false))
        .await
        .unwrap();
    let seen = seen.lock().unwrap().clone();
    let calls: Vec<String> = seen
        .iter()
        .map(|s| format!("{} {}", s.method, s.path))
        .collect();
    let base = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions";
    assert_eq!(
        calls,
        vec![
            format!("GET {base}/gatewayclasses.gateway.networking.k8s.io"),
            format!("GET {base}/gateways.gateway.networking.k8s.io"),
            format!("GET {base}/httproutes.gateway.networking.k8s.io"),
            format!("PATCH {base}/gatewayclasses.gateway.networking.k8s.io"),
            format!("PATCH {base}/gateways.gateway.networking.k8s.io"),
            format!("PATCH {base}/httproutes.gateway.networking.k8s.io"),
        ]
    );
    for patch in seen.iter().filter(|s| s.method == "PATCH") {
        assert!(
            patch.query.contains("fieldManager=gwlab"),
            "{}",
            patch.query
        );
        assert!(patch.query.contains("force=true"), "{}", patch.query);
        assert!(
            patch.query.contains("fieldValidation=Strict"),
            "{}",
            patch.query
        );
        let labels = &patch.body.as_ref().unwrap()["metadata"]["labels"];
        assert_eq!(labels["app.kubernetes.io/managed-by"], "gwlab");
        assert_eq!(labels["gwlab.dev/lab"], "lab1");
    }
}

fn foreign_crd(name: &str) -> Value {
    json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
           "metadata": {"name": name, "annotations": {"gateway.networking.k8s.io/bundle-version": "v1.1.0", "gateway.networking.k8s.io/channel": "experimental"}},
           "spec": {"group": "gateway.networking.k8s.io", "names": {"plural": "x", "kind": "X"}, "scope": "Namespaced", "versions": []}})
}

#[tokio::test]
async fn crds_of_another_bundle_version_stop_the_install_unless_forced() {
    let handler = |s: &Seen, _: usize| {
        if s.method == "GET" && s.path.ends_with("/httproutes.gateway.networking.k8s.io") {
            Reply::Json(
                StatusCode::OK,
                foreign_crd("httproutes.gateway.networking.k8s.io"),
            )
        } else if s.method == "GET" {
            not_found()
        } else {
            echo(s)
        }
    };
    let (client, seen) = mock(Box::new(handler));
    let err = addons::install_crds(&client, &crd_docs(), &opts(false, false))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("httproutes.gateway.networking.k8s.io: installed v1.1.0 (experimental channel), gwlab installs v1.2.1 (standard channel)"), "{err}");
    assert!(err.contains("--force"), "{err}");
    assert!(
        !seen.lock().unwrap().iter().any(|s| s.method == "PATCH"),
        "nothing applied"
    );

    let (client, seen) = mock(Box::new(handler));
    addons::install_crds(&client, &crd_docs(), &opts(false, true))
        .await
        .unwrap();
    assert_eq!(
        seen.lock()
            .unwrap()
            .iter()
            .filter(|s| s.method == "PATCH")
            .count(),
        3,
        "--force replaces them"
    );
}

fn deployment(available: &str, reason: &str, rv: &str) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "kong", "namespace": "kong-system", "resourceVersion": rv},
           "spec": {"selector": {"matchLabels": {"app": "kong"}}, "template": {"metadata": {"labels": {"app": "kong"}}, "spec": {"containers": []}}},
           "status": {"conditions": [{"type": "Available", "status": available, "reason": reason, "message": "Deployment does not have minimum availability."}]}})
}

fn is_watch(s: &Seen) -> bool {
    s.query.contains("watch=true") || s.query.contains("watch=1")
}

#[tokio::test]
async fn a_wait_completes_on_a_watch_event() {
    let (client, seen) = mock(Box::new(|s, _| {
        if is_watch(s) {
            Reply::Events(vec![
                json!({"type": "MODIFIED", "object": deployment("True", "MinimumReplicasAvailable", "2")}),
            ])
        } else {
            Reply::Json(
                StatusCode::OK,
                json!({"apiVersion": "apps/v1", "kind": "DeploymentList", "metadata": {"resourceVersion": "1"}, "items": [deployment("False", "MinimumReplicasUnavailable", "1")]}),
            )
        }
    }));
    wait::deployment_available(&client, "kong-system", "kong", Duration::from_secs(5))
        .await
        .unwrap();
    let seen = seen.lock().unwrap();
    assert!(seen.iter().any(is_watch), "it watched: {seen:?}");
    assert!(
        seen.iter()
            .all(|s| s.query.contains("fieldSelector=metadata.name%3Dkong")),
        "only that object is watched: {seen:?}"
    );
}

#[tokio::test]
async fn a_wait_that_times_out_shows_the_actual_conditions() {
    let (client, _) = mock(Box::new(|s, _| {
        if is_watch(s) {
            Reply::Hang
        } else if s.query.contains("fieldSelector") {
            Reply::Json(
                StatusCode::OK,
                json!({"apiVersion": "apps/v1", "kind": "DeploymentList", "metadata": {"resourceVersion": "1"}, "items": [deployment("False", "MinimumReplicasUnavailable", "1")]}),
            )
        } else {
            Reply::Json(
                StatusCode::OK,
                deployment("False", "MinimumReplicasUnavailable", "1"),
            )
        }
    }));
    let err =
        wait::deployment_available(&client, "kong-system", "kong", Duration::from_millis(500))
            .await
            .unwrap_err()
            .to_string();
    assert!(
        err.contains("Deployment kong-system/kong not ready after"),
        "{err}"
    );
    assert!(err.contains("Available=False (MinimumReplicasUnavailable: Deployment does not have minimum availability.)"), "{err}");
}

#[tokio::test]
async fn the_metallb_pool_is_retried_while_the_webhook_is_not_serving() {
    let (client, seen) = mock(Box::new(|s, _| {
        if s.method == "PATCH" && s.path.contains("ipaddresspools") {
            let attempts = PATCHES.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            if attempts < 2 {
                return Reply::Json(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 500, "reason": "InternalError",
                    "message": "Internal error occurred: failed calling webhook \"ipaddresspoolvalidationwebhook.metallb.io\": connection refused"}),
                );
            }
        }
        echo(s)
    }));
    static PATCHES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let network = NetworkInfo {
        name: "gwlab".into(),
        subnet: "172.30.0.0/16".parse().unwrap(),
        gateway: Some("172.30.0.1".parse().unwrap()),
        in_use: vec![],
        labels: Default::default(),
    };
    let manifest = vec![
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "metallb-system"}}),
    ];
    let o = Options {
        timeout: Duration::from_secs(10),
        ..opts(false, false)
    };
    let pool = addons::install_metallb(&client, &manifest, &network, &o)
        .await
        .unwrap();
    assert_eq!(pool, vec!["172.30.255.247-172.30.255.254"]);
    let seen = seen.lock().unwrap();
    let pool_patches: Vec<&Seen> = seen
        .iter()
        .filter(|s| s.path.contains("ipaddresspools"))
        .collect();
    assert_eq!(pool_patches.len(), 3, "two refusals, then accepted");
    assert_eq!(
        pool_patches[2].body.as_ref().unwrap()["spec"]["addresses"],
        json!(["172.30.255.247-172.30.255.254"])
    );
    assert!(
        seen.iter().any(|s| s.path.contains("l2advertisements")),
        "then the L2Advertisement"
    );
    assert_eq!(
        seen[0].path, "/api/v1/namespaces/metallb-system",
        "the namespace first"
    );
}

#[tokio::test]
async fn the_exclude_from_load_balancers_label_is_removed_from_lab_nodes() {
    let (client, seen) = mock(Box::new(|s, _| {
        if s.method == "GET" {
            Reply::Json(
                StatusCode::OK,
                json!({"apiVersion": "v1", "kind": "NodeList", "metadata": {}, "items": [
                {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "gwlab-lab-control-plane", "labels": {"node.kubernetes.io/exclude-from-external-load-balancers": ""}}}]}),
            )
        } else {
            // The node as the API server returns it after the merge patch.
            Reply::Json(
                StatusCode::OK,
                json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "gwlab-lab-control-plane", "labels": {}}}),
            )
        }
    }));
    let changed = addons::allow_load_balancers_on_nodes(&client)
        .await
        .unwrap();
    assert_eq!(changed, vec!["gwlab-lab-control-plane"]);
    let seen = seen.lock().unwrap();
    assert!(
        seen[0]
            .query
            .contains("labelSelector=node.kubernetes.io%2Fexclude-from-external-load-balancers"),
        "{}",
        seen[0].query
    );
    assert_eq!(seen[1].method, "PATCH");
    assert_eq!(
        seen[1].body.as_ref().unwrap()["metadata"]["labels"]["node.kubernetes.io/exclude-from-external-load-balancers"],
        serde_json::Value::Null
    );
}
