//! The lab's Kubernetes interactions on a real kube-apiserver (envtest): CRDs
//! applied server-side as gwlab's and Established, another bundle refused
//! unless forced, readiness waits that end on a watch event or time out
//! showing what the object reported, kubeadm's load-balancer label removed.
//! One fault a real server cannot be made to produce on demand, a webhook
//! that does not serve yet, is shown on the fake API.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crate::common::fake_api;
use gwlab::lab::addons::{self, Options};
use gwlab::lab::apply::Ledger;
use gwlab::lab::docker::NetworkInfo;
use gwlab::lab::wait;
use kube::api::{Api, DynamicObject, Patch, PatchParams, PostParams};
use serde_json::{Value, json};

fn opts(lab: &str, wait: bool, force: bool) -> Options {
    Options {
        ledger: Arc::new(Ledger::default()),
        lab: lab.into(),
        wait,
        force,
        timeout: Duration::from_secs(20),
    }
}

/// The upstream Gateway API CRDs gwlab pins.
fn gateway_api_crds() -> Vec<Value> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/upstream/gateway-api-v1.2.1");
    let mut docs = Vec::new();
    for name in [
        "gatewayclasses",
        "gateways",
        "httproutes",
        "referencegrants",
        "grpcroutes",
    ] {
        let path = dir.join(format!("gateway.networking.k8s.io_{name}.yaml"));
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        docs.extend(gwlab::lab::apply::documents(&text, "crd").unwrap());
    }
    docs
}

fn crds_api(client: &kube::Client) -> Api<DynamicObject> {
    let (ar, _) =
        gwlab::kinds::resource("apiextensions.k8s.io/v1", "CustomResourceDefinition").unwrap();
    Api::all_with(client.clone(), &ar)
}

/// A CRD of a made-up group, annotated as another Gateway API bundle would be.
fn test_crd(group: &str, bundle: &str, channel: &str) -> Value {
    json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": format!("widgets.{group}"), "annotations": {
            "gateway.networking.k8s.io/bundle-version": bundle, "gateway.networking.k8s.io/channel": channel}},
        "spec": {"group": group, "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList"},
            "versions": [{"name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}]}})
}

#[tokio::test]
async fn crds_are_applied_server_side_as_gwlabs_and_established() {
    let env = crate::envtest_or_skip!();
    let client = env.client().await;
    let docs = vec![test_crd("applied.gwlab.test", "v1.2.1", "standard")];
    addons::install_crds(&client, &docs, &opts("lab1", true, false))
        .await
        .unwrap();
    let crd = crds_api(&client)
        .get("widgets.applied.gwlab.test")
        .await
        .unwrap();
    let labels = crd.metadata.labels.clone().unwrap();
    assert_eq!(labels["app.kubernetes.io/managed-by"], "gwlab");
    assert_eq!(labels["gwlab.dev/lab"], "lab1");
    let managers = gwlab::ownership::field_managers(&crd);
    assert!(managers.contains(&"gwlab".to_string()), "{managers:?}");
    assert!(
        wait::has_true(crd.data.get("status"), "Established"),
        "{:?}",
        crd.data["status"]
    );
    // The upstream schemas themselves are accepted by a real server, CEL rules included.
    let upstream = gateway_api_crds();
    for doc in &upstream {
        let id = gwlab::lab::apply::identity(doc);
        crds_api(&client)
            .patch(
                &id.name,
                &PatchParams::apply("gwlab-test").dry_run(),
                &Patch::Apply(doc),
            )
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", id.name));
    }
}

#[tokio::test]
async fn crds_of_another_bundle_version_stop_the_install_unless_forced() {
    let env = crate::envtest_or_skip!();
    let client = env.client().await;
    // Someone installed the experimental channel of an older bundle.
    let theirs = test_crd("bundle.gwlab.test", "v1.1.0", "experimental");
    crds_api(&client)
        .patch(
            "widgets.bundle.gwlab.test",
            &PatchParams::apply("kubectl"),
            &Patch::Apply(&theirs),
        )
        .await
        .unwrap();
    let before = crds_api(&client)
        .get("widgets.bundle.gwlab.test")
        .await
        .unwrap();
    let ours = vec![test_crd("bundle.gwlab.test", "v1.2.1", "standard")];
    let err = addons::install_crds(&client, &ours, &opts("lab2", false, false))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("widgets.bundle.gwlab.test: installed v1.1.0 (experimental channel), gwlab installs v1.2.1 (standard channel)"), "{err}");
    assert!(err.contains("--force"), "{err}");
    let after = crds_api(&client)
        .get("widgets.bundle.gwlab.test")
        .await
        .unwrap();
    crate::common::envtest::assert_untouched(&before, &after, "the other bundle's CRD");

    addons::install_crds(&client, &ours, &opts("lab2", false, true))
        .await
        .unwrap();
    let forced = crds_api(&client)
        .get("widgets.bundle.gwlab.test")
        .await
        .unwrap();
    assert_eq!(
        forced.metadata.annotations.unwrap()["gateway.networking.k8s.io/bundle-version"],
        "v1.2.1",
        "--force replaces them"
    );
}

async fn namespace(client: &kube::Client, name: &str) {
    let api: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(client.clone());
    let ns = serde_json::from_value(json!({"metadata": {"name": name}})).unwrap();
    let _ = api.create(&PostParams::default(), &ns).await;
}

fn deployment(name: &str) -> k8s_openapi::api::apps::v1::Deployment {
    serde_json::from_value(json!({"metadata": {"name": name},
        "spec": {"selector": {"matchLabels": {"app": name}}, "template": {"metadata": {"labels": {"app": name}},
            "spec": {"containers": [{"name": "c", "image": "example.invalid/app:1"}]}}}}))
    .unwrap()
}

#[tokio::test]
async fn a_wait_completes_on_a_watch_event() {
    use k8s_openapi::api::apps::v1::Deployment;
    let env = crate::envtest_or_skip!();
    let client = env.client().await;
    namespace(&client, "wait-done").await;
    let api: Api<Deployment> = Api::namespaced(client.clone(), "wait-done");
    api.create(&PostParams::default(), &deployment("app"))
        .await
        .unwrap();
    // No kubelet here: a stand-in reports the Deployment Available a moment later.
    let later = api.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(700)).await;
        let status = json!({"status": {"conditions": [{"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"}]}});
        later
            .patch_status("app", &PatchParams::default(), &Patch::Merge(&status))
            .await
            .unwrap();
    });
    let started = std::time::Instant::now();
    wait::deployment_available(&client, "wait-done", "app", Duration::from_secs(20))
        .await
        .unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(600),
        "it waited for the event"
    );
}

#[tokio::test]
async fn a_wait_that_times_out_shows_the_actual_conditions() {
    use k8s_openapi::api::apps::v1::Deployment;
    let env = crate::envtest_or_skip!();
    let client = env.client().await;
    namespace(&client, "wait-late").await;
    let api: Api<Deployment> = Api::namespaced(client.clone(), "wait-late");
    api.create(&PostParams::default(), &deployment("kong"))
        .await
        .unwrap();
    let status = json!({"status": {"conditions": [{"type": "Available", "status": "False", "reason": "MinimumReplicasUnavailable", "message": "Deployment does not have minimum availability."}]}});
    api.patch_status("kong", &PatchParams::default(), &Patch::Merge(&status))
        .await
        .unwrap();
    let err = wait::deployment_available(&client, "wait-late", "kong", Duration::from_secs(2))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("Deployment wait-late/kong not ready after 2s"),
        "{err}"
    );
    assert!(err.contains("Available=False (MinimumReplicasUnavailable: Deployment does not have minimum availability.)"), "{err}");
}

#[tokio::test]
async fn the_exclude_from_load_balancers_label_is_removed_from_lab_nodes() {
    use k8s_openapi::api::core::v1::Node;
    let env = crate::envtest_or_skip!();
    let client = env.client().await;
    let api: Api<Node> = Api::all(client.clone());
    let node = serde_json::from_value(json!({"metadata": {"name": "gwlab-lab-control-plane",
        "labels": {"node.kubernetes.io/exclude-from-external-load-balancers": "", "kubernetes.io/hostname": "gwlab-lab-control-plane"}}}))
    .unwrap();
    api.create(&PostParams::default(), &node).await.unwrap();
    let changed = addons::allow_load_balancers_on_nodes(&client)
        .await
        .unwrap();
    assert_eq!(changed, vec!["gwlab-lab-control-plane"]);
    let labels = api
        .get("gwlab-lab-control-plane")
        .await
        .unwrap()
        .metadata
        .labels
        .unwrap();
    assert!(
        !labels.contains_key("node.kubernetes.io/exclude-from-external-load-balancers"),
        "{labels:?}"
    );
    assert!(
        labels.contains_key("kubernetes.io/hostname"),
        "other labels stay"
    );
}

#[tokio::test]
async fn the_metallb_pool_is_retried_while_the_webhook_is_not_serving() {
    let (client, state) = fake_api::fake();
    let refused = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = refused.clone();
    state.lock().unwrap().fault = Some(Box::new(move |s| {
        (s.method == "PATCH"
            && s.path.contains("ipaddresspools")
            && count.fetch_add(1, std::sync::atomic::Ordering::SeqCst) < 2)
            .then(|| {
                fake_api::failure(
                    500,
                    "InternalError",
                    "Internal error occurred: failed calling webhook \"ipaddresspoolvalidationwebhook.metallb.io\": connection refused",
                )
            })
    }));
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
    let pool = addons::install_metallb(&client, &manifest, &network, &opts("lab1", false, false))
        .await
        .unwrap();
    assert_eq!(pool, vec!["172.30.255.247-172.30.255.254"]);
    let st = state.lock().unwrap();
    let pool_patches: Vec<_> = st
        .seen
        .iter()
        .filter(|s| s.method == "PATCH" && s.path.contains("ipaddresspools"))
        .collect();
    assert_eq!(pool_patches.len(), 3, "two refusals, then accepted");
    assert_eq!(
        pool_patches[2].body.as_ref().unwrap()["spec"]["addresses"],
        json!(["172.30.255.247-172.30.255.254"])
    );
    assert!(
        st.objects.keys().any(|k| k.contains("l2advertisements")),
        "then the L2Advertisement"
    );
    assert_eq!(
        st.seen[0].path, "/api/v1/namespaces/metallb-system",
        "the namespace first"
    );
}

#[tokio::test]
async fn a_webhook_that_never_serves_ends_in_its_own_error() {
    let (client, state) = fake_api::fake();
    state.lock().unwrap().fault = Some(Box::new(|s| {
        (s.method == "PATCH" && s.path.contains("ipaddresspools"))
            .then(|| fake_api::failure(500, "InternalError", "failed calling webhook"))
    }));
    let network = NetworkInfo {
        name: "gwlab".into(),
        subnet: "172.30.0.0/16".parse().unwrap(),
        gateway: None,
        in_use: vec![],
        labels: Default::default(),
    };
    let mut o = opts("lab1", false, false);
    o.timeout = Duration::from_millis(600);
    let err = addons::install_metallb(&client, &[], &network, &o)
        .await
        .unwrap_err();
    assert!(
        matches!(err, gwlab::lab::LabError::WebhookNotReady { .. }),
        "{err}"
    );
}
