//! `gwlab lab` on the lab cluster (a real API server, gwlab's reference
//! gateway standing in for Kong, the lab made by `gwlab up`): an exercise's
//! check through the cluster target, and the troubleshooting exercises that
//! break the real lab, checked by live `gwlab doctor` and a request, and put
//! back when solved or reset.

use std::process::Output;
use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Event, Pod};
use kube::api::{Api, DynamicObject, Patch, PatchParams, PostParams};
use serde_json::{Value, json};

/// The tests change the one lab; one at a time.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn out(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// `gwlab ARGS` in the lab's home, printing how long it took.
fn gwlab(lab: &crate::common::lab::Lab, args: &[&str]) -> Output {
    let t0 = std::time::Instant::now();
    let o = lab.gwlab(args);
    eprintln!(
        "[{:.1}s] gwlab {}",
        t0.elapsed().as_secs_f64(),
        args.join(" ")
    );
    o
}

fn repo(p: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(p)
}

/// This module's lab: one of its own, on an API server of its own, since its
/// tests break the lab's Kong objects (shared by this module's tests, which
/// take turns through `SERIAL`).
fn lab() -> Option<&'static crate::common::lab::Lab> {
    static LAB: std::sync::OnceLock<Option<crate::common::lab::Lab>> = std::sync::OnceLock::new();
    LAB.get_or_init(crate::common::lab::own).as_ref()
}

/// What gwlab made of this run's objects that is still there (a check
/// returns once what it created is gone).
async fn run_objects(client: &kube::Client) -> Vec<String> {
    crate::common::envtest::labelled(client, "gwlab.dev/run").await
}

#[tokio::test]
async fn an_exercise_is_checked_on_the_cluster_from_start_to_solved() {
    let Some(lab) = lab() else {
        return;
    };
    let _one = SERIAL.lock().await;
    let client = lab.standin.env.client().await;
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path().join("ws");
    let wss = ws.to_str().unwrap();
    let gateway = lab.standin.gateway_address();

    let o = gwlab(
        lab,
        &[
            "lab",
            "start",
            "kong-to-gateway-api",
            "--dir",
            wss,
            "--target",
            "cluster",
            "--gateway-address",
            &gateway,
        ],
    );
    let all = out(&o);
    eprintln!("{all}");
    assert_eq!(o.status.code(), Some(0), "{all}");
    assert!(all.contains("checked on the cluster (lab gwlab"), "{all}");

    // No flag: the workspace keeps to the cluster it was started on.
    let o = gwlab(lab, &["lab", "check", wss]);
    let all = out(&o);
    eprintln!("{all}");
    assert_eq!(o.status.code(), Some(1), "{all}");
    assert!(
        all.contains("Checking exercise 1 of 10: A first route to a Service")
            && all.contains("on the cluster (lab gwlab"),
        "{all}"
    );
    // The starting route names no namespace for its parent: the route is not
    // accepted by the lab's Gateway, said in plain words with the way to see why.
    assert!(
        all.contains("✗ status condition: HTTPRoute/portal Accepted"),
        "{all}"
    );
    assert!(
        all.contains(&format!(
            "why: gwlab explain {} --url http://portal.imprun.dev/",
            ws.join("01-first-route").display()
        )),
        "{all}"
    );
    assert!(all.contains("A hint: gwlab lab hint"), "{all}");
    assert_eq!(run_objects(&client).await, Vec::<String>::new());

    let solution = std::fs::read(repo(
        "labs/kong-to-gateway-api/01-first-route/solution/route.yaml",
    ))
    .unwrap();
    std::fs::write(ws.join("01-first-route/route.yaml"), solution).unwrap();
    let o = gwlab(lab, &["lab", "check", wss]);
    let all = out(&o);
    eprintln!("{all}");
    assert_eq!(o.status.code(), Some(0), "{all}");
    assert!(
        all.contains("✓ Solved: A first route to a Service"),
        "{all}"
    );
    assert!(all.contains("Exercise 2 of 10"), "{all}");
    assert_eq!(run_objects(&client).await, Vec::<String>::new());
    let progress = std::fs::read_to_string(ws.join(".gwlab-lab.json")).unwrap();
    assert!(progress.contains("\"cluster\""), "{progress}");
}

/// The lab's Gateway and Deployment as their owner wrote them.
async fn lab_objects(client: &kube::Client) -> (DynamicObject, Deployment) {
    let (ar, _) = gwlab::lab::apply::resource("gateway.networking.k8s.io/v1", "Gateway").unwrap();
    let gateways: Api<DynamicObject> = Api::namespaced_with(client.clone(), "kong-system", &ar);
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), "kong-system");
    (
        gateways.get("kong").await.unwrap(),
        deployments.get("kong").await.unwrap(),
    )
}

fn controller_env(d: &Deployment, name: &str) -> Option<String> {
    d.spec
        .as_ref()?
        .template
        .spec
        .as_ref()?
        .containers
        .iter()
        .find(|c| c.name == "ingress-controller")?
        .env
        .as_ref()?
        .iter()
        .find(|e| e.name == name)?
        .value
        .clone()
}

/// A JSON patch as `kubectl edit` or `kubectl patch --type json` makes it.
async fn kubectl_patch<K>(api: &Api<K>, name: &str, ops: Value)
where
    K: Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    let patch: json_patch::Patch = serde_json::from_value(ops).unwrap();
    api.patch(
        name,
        &PatchParams {
            field_manager: Some("kubectl-edit".into()),
            ..Default::default()
        },
        &Patch::<()>::Json(patch),
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn troubleshooting_exercises_break_the_real_lab_and_put_it_back() {
    let Some(lab) = lab() else {
        return;
    };
    let _one = SERIAL.lock().await;
    let client = lab.standin.env.client().await;
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path().join("ws");
    let wss = ws.to_str().unwrap();
    let gateway = lab.standin.gateway_address();
    let (gw_before, d_before) = lab_objects(&client).await;
    let (ar, _) = gwlab::lab::apply::resource("gateway.networking.k8s.io/v1", "Gateway").unwrap();
    let gateways: Api<DynamicObject> = Api::namespaced_with(client.clone(), "kong-system", &ar);
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), "kong-system");
    let start = [
        "lab",
        "start",
        "kong-troubleshooting",
        "--dir",
        wss,
        "--target",
        "cluster",
        "--gateway-address",
        &gateway,
    ];

    // A Gateway gwlab did not make is never changed: the start is refused
    // before anything is written, the workspace included.
    let label = "/metadata/labels/app.kubernetes.io~1managed-by";
    kubectl_patch(&gateways, "kong", json!([{"op": "remove", "path": label}])).await;
    let o = gwlab(lab, &start);
    let all = out(&o);
    assert_eq!(o.status.code(), Some(2), "{all}");
    assert!(
        all.contains("Gateway kong-system/kong was not created by gwlab"),
        "{all}"
    );
    assert!(!ws.exists(), "no workspace is made");
    let (gw, _) = lab_objects(&client).await;
    assert_eq!(gw.metadata.annotations, gw_before.metadata.annotations);
    kubectl_patch(
        &gateways,
        "kong",
        json!([{"op": "add", "path": label, "value": "gwlab"}]),
    )
    .await;

    // 1. Starting breaks the real Gateway's publish-service annotation.
    let o = gwlab(lab, &start);
    let all = out(&o);
    eprintln!("{all}");
    assert_eq!(o.status.code(), Some(0), "{all}");
    assert!(
        all.contains("This exercise broke the lab on the cluster"),
        "{all}"
    );
    let (gw, _) = lab_objects(&client).await;
    let annotation = |g: &DynamicObject| {
        g.metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get("konghq.com/publish-service"))
            .cloned()
    };
    assert_eq!(
        annotation(&gw).as_deref(),
        Some("kong-system/kong-kong-proxy")
    );
    // The Gateway carries the break's record, written by the same patch.
    let record: Value =
        serde_json::from_str(&gw.metadata.annotations.as_ref().unwrap()["gwlab.dev/lab-break"])
            .unwrap();
    assert_eq!(record["exercise"], "01-publish-service", "{record}");

    // A crash between the patch and the workspace's save loses the
    // workspace's record: the next check adopts the one on the Gateway, with
    // the value from before the break (not the fault) to put back.
    let progress_file = ws.join(".gwlab-lab.json");
    let mut progress: Value =
        serde_json::from_str(&std::fs::read_to_string(&progress_file).unwrap()).unwrap();
    progress.as_object_mut().unwrap().remove("breaks");
    std::fs::write(&progress_file, progress.to_string()).unwrap();

    let o = gwlab(lab, &["lab", "check", wss]);
    let all = out(&o);
    eprintln!("{all}");
    assert_eq!(o.status.code(), Some(1), "{all}");
    assert!(
        all.contains("✗ doctor still finds: Gateway kong-system/kong is not programmed"),
        "{all}"
    );
    assert!(all.contains("[kong-publish-service-mismatch]"), "{all}");
    assert!(all.contains("why: gwlab doctor --name gwlab"), "{all}");
    assert!(
        all.contains("This exercise's break was already in the lab"),
        "{all}"
    );
    let progress: Value =
        serde_json::from_str(&std::fs::read_to_string(&progress_file).unwrap()).unwrap();
    let kept = &progress["breaks"]["01-publish-service"]["changes"][0];
    assert_eq!(
        kept["before"].as_str(),
        annotation(&gw_before).as_deref(),
        "{progress}"
    );

    // The student's fix, with kubectl: the lab works again, the next exercise breaks the controller.
    kubectl_patch(&gateways, "kong", json!([{"op": "replace",
        "path": "/metadata/annotations/konghq.com~1publish-service", "value": "kong-system/kong-proxy"}])).await;
    let o = gwlab(lab, &["lab", "check", wss]);
    let all = out(&o);
    eprintln!("{all}");
    assert_eq!(o.status.code(), Some(0), "{all}");
    assert!(
        all.contains("✓ Solved: The Gateway that never becomes Programmed"),
        "{all}"
    );
    assert!(all.contains("Exercise 2 of 3"), "{all}");
    assert_eq!(run_objects(&client).await, Vec::<String>::new());
    let (_, d) = lab_objects(&client).await;
    assert_eq!(
        controller_env(&d, "CONTROLLER_FEATURE_GATES").as_deref(),
        Some("Gateway=true")
    );

    // 2. Reset puts the controller back, then starts the exercise over (broken again).
    let o = gwlab(lab, &["lab", "reset", "--exercise", wss]);
    let all = out(&o);
    eprintln!("{all}");
    assert_eq!(o.status.code(), Some(0), "{all}");
    assert!(all.contains("gwlab put back: Deployment kong-system/kong: controller env CONTROLLER_FEATURE_GATES back to (absent)"), "{all}");
    assert!(all.contains("This exercise broke the lab"), "{all}");
    let o = gwlab(lab, &["lab", "check", wss]);
    let all = out(&o);
    assert_eq!(o.status.code(), Some(1), "{all}");
    assert!(all.contains("[kic-invalid-feature-gate]"), "{all}");
    // One break at a time: checking exercise 3 by name while exercise 2's
    // is in the lab is refused, the Deployment left as it is.
    let third = ws.join("03-hostnetwork");
    let o = gwlab(lab, &["lab", "check", third.to_str().unwrap()]);
    let all = out(&o);
    assert_eq!(o.status.code(), Some(2), "{all}");
    assert!(
        all.contains("exercise 02-feature-gate still has the lab broken"),
        "{all}"
    );
    let (_, d) = lab_objects(&client).await;
    assert_eq!(d.spec.as_ref().unwrap().replicas, Some(1));
    // Nor is a break solved by checking it on another cluster (here the same
    // one under another kubeconfig): refused, and the workspace stays put.
    let elsewhere = tmp.path().join("elsewhere.kubeconfig");
    std::fs::copy(lab.kubeconfig(), &elsewhere).unwrap();
    let o = gwlab(
        lab,
        &[
            "lab",
            "check",
            wss,
            "--kubeconfig",
            elsewhere.to_str().unwrap(),
        ],
    );
    let all = out(&o);
    assert_eq!(o.status.code(), Some(2), "{all}");
    assert!(
        all.contains("exercise 02-feature-gate broke the lab on the lab gwlab of `gwlab up`"),
        "{all}"
    );
    let (_, d) = lab_objects(&client).await;
    let containers = &d
        .spec
        .as_ref()
        .unwrap()
        .template
        .spec
        .as_ref()
        .unwrap()
        .containers;
    let kic = containers
        .iter()
        .position(|c| c.name == "ingress-controller")
        .unwrap();
    let at = containers[kic]
        .env
        .as_ref()
        .unwrap()
        .iter()
        .position(|e| e.name == "CONTROLLER_FEATURE_GATES")
        .unwrap();
    kubectl_patch(
        &deployments,
        "kong",
        json!([{"op": "remove",
        "path": format!("/spec/template/spec/containers/{kic}/env/{at}")}]),
    )
    .await;
    let o = gwlab(lab, &["lab", "check", wss]);
    let all = out(&o);
    eprintln!("{all}");
    assert_eq!(o.status.code(), Some(0), "{all}");
    assert!(all.contains("Exercise 3 of 3"), "{all}");

    // 3. The proxy on hostNetwork with two replicas; the stand-in kubelet runs
    // every pod, so the scheduler's verdict on the second one is written here.
    let (_, d) = lab_objects(&client).await;
    let spec = d.spec.as_ref().unwrap();
    assert_eq!(
        (
            spec.replicas,
            spec.template.spec.as_ref().unwrap().host_network
        ),
        (Some(2), Some(true))
    );
    let pods: Api<Pod> = Api::namespaced(client.clone(), "kong-system");
    let mut pending = None;
    for _ in 0..100 {
        let list = pods.list(&Default::default()).await.unwrap();
        pending = list
            .items
            .into_iter()
            .find(|p| p.spec.as_ref().and_then(|s| s.host_network) == Some(true))
            .and_then(|p| p.metadata.name);
        if pending.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let pending = pending.expect("a pod of the hostNetwork template");
    let events: Api<Event> = Api::namespaced(client.clone(), "kong-system");
    let event = json!({"apiVersion": "v1", "kind": "Event",
        "metadata": {"name": format!("{pending}.failedscheduling"), "namespace": "kong-system"},
        "involvedObject": {"kind": "Pod", "name": pending, "namespace": "kong-system"},
        "reason": "FailedScheduling", "type": "Warning",
        "message": "0/1 nodes are available: 1 node(s) didn't have free ports for the requested pod ports."});
    events
        .create(
            &PostParams::default(),
            &serde_json::from_value(event).unwrap(),
        )
        .await
        .unwrap();
    let o = gwlab(lab, &["lab", "check", wss]);
    let all = out(&o);
    eprintln!("{all}");
    assert_eq!(o.status.code(), Some(1), "{all}");
    assert!(
        all.contains("[kong-hostnetwork-port-conflict]") && all.contains("didn't have free ports"),
        "{all}"
    );

    // The lasting fix drops hostNetwork; solving puts back what gwlab set and
    // the student left (the second replica).
    kubectl_patch(
        &deployments,
        "kong",
        json!([{"op": "remove", "path": "/spec/template/spec/hostNetwork"}]),
    )
    .await;
    let o = gwlab(lab, &["lab", "check", wss]);
    let all = out(&o);
    eprintln!("{all}");
    assert_eq!(o.status.code(), Some(0), "{all}");
    assert!(
        all.contains("gwlab put back: Deployment kong-system/kong: spec.replicas back to 1"),
        "{all}"
    );
    assert!(
        all.contains("Every exercise of lab kong-troubleshooting is solved"),
        "{all}"
    );

    // Nothing of the lab is left changed, and nothing of the checks is left.
    let (gw, d) = lab_objects(&client).await;
    assert_eq!(annotation(&gw), annotation(&gw_before));
    assert_eq!(gw.metadata.labels, gw_before.metadata.labels);
    assert_eq!(gw.data.get("spec"), gw_before.data.get("spec"));
    assert_eq!(
        d.spec, d_before.spec,
        "the Deployment's spec as gwlab up wrote it"
    );
    assert_eq!(d.metadata.labels, d_before.metadata.labels);
    assert_eq!(run_objects(&client).await, Vec::<String>::new());
    let progress = std::fs::read_to_string(ws.join(".gwlab-lab.json")).unwrap();
    assert!(
        !progress.contains("\"breaks\""),
        "no break left recorded: {progress}"
    );

    // A Gateway made again since `gwlab up`, even with gwlab's labels, is not
    // the one gwlab created: on the lab `gwlab up` recorded, it is refused.
    gateways.delete("kong", &Default::default()).await.unwrap();
    let mut again = gwlab::lab::addons::kong_manifests()
        .into_iter()
        .find(|o| o["kind"] == "Gateway")
        .unwrap();
    again["metadata"]["labels"] =
        json!({"app.kubernetes.io/managed-by": "gwlab", "gwlab.dev/lab": "gwlab"});
    for _ in 0..100 {
        if gateways.get_opt("kong").await.unwrap().is_none() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    crate::common::envtest::apply_as(&client, "someone", again).await;
    let ws3 = tmp.path().join("ws3");
    let o = gwlab(
        lab,
        &[
            "lab",
            "start",
            "kong-troubleshooting",
            "--dir",
            ws3.to_str().unwrap(),
            "--target",
            "cluster",
        ],
    );
    let all = out(&o);
    assert_eq!(o.status.code(), Some(2), "{all}");
    assert!(
        all.contains("Gateway kong-system/kong is labelled as gwlab's but is not among the objects `gwlab up` created for lab gwlab"),
        "{all}"
    );
    assert!(!ws3.exists());
    // Named by its kubeconfig, the cluster is still the lab `gwlab up`
    // recorded (found by its API server): the same refusal.
    let o = gwlab(
        lab,
        &[
            "lab",
            "start",
            "kong-troubleshooting",
            "--dir",
            ws3.to_str().unwrap(),
            "--kubeconfig",
            lab.kubeconfig(),
        ],
    );
    let all = out(&o);
    assert_eq!(o.status.code(), Some(2), "{all}");
    assert!(
        all.contains("is not among the objects `gwlab up` created for lab gwlab"),
        "{all}"
    );
    assert!(!ws3.exists());
}

/// `gwlab lab verify labs/` on the cluster: the whole catalogue, every break
/// put in and taken back. Minutes long (each starting state waits out its
/// conditions), so run by hand: `cargo test --test lab_cluster -- --ignored`.
#[tokio::test]
#[ignore]
async fn the_catalogue_verifies_on_the_cluster() {
    let Some(lab) = lab() else {
        return;
    };
    let _one = SERIAL.lock().await;
    let client = lab.standin.env.client().await;
    // The stand-in has no scheduler: its verdict on a hostNetwork pod that
    // finds its ports taken is written here, as a scheduler would.
    let scheduler = tokio::spawn(async move {
        let pods: Api<Pod> = Api::namespaced(client.clone(), "kong-system");
        let events: Api<Event> = Api::namespaced(client.clone(), "kong-system");
        loop {
            for p in pods.list(&Default::default()).await.unwrap().items {
                let name = p.metadata.name.clone().unwrap_or_default();
                if p.spec.as_ref().and_then(|s| s.host_network) == Some(true) {
                    let event = json!({"apiVersion": "v1", "kind": "Event",
                        "metadata": {"name": format!("{name}.failedscheduling"), "namespace": "kong-system"},
                        "involvedObject": {"kind": "Pod", "name": name, "namespace": "kong-system"},
                        "reason": "FailedScheduling", "type": "Warning",
                        "message": "0/1 nodes are available: 1 node(s) didn't have free ports for the requested pod ports."});
                    let _ = events
                        .create(
                            &PostParams::default(),
                            &serde_json::from_value(event).unwrap(),
                        )
                        .await;
                }
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    });
    let t0 = std::time::Instant::now();
    // Off the runtime's thread, so that the scheduler above runs meanwhile.
    let o = tokio::task::spawn_blocking(move || {
        lab.gwlab(&[
            "lab",
            "verify",
            repo("labs").to_str().unwrap(),
            "--kubeconfig",
            lab.kubeconfig(),
            "--gateway-address",
            &lab.standin.gateway_address(),
        ])
    })
    .await
    .unwrap();
    scheduler.abort();
    let all = out(&o);
    eprintln!(
        "{all}\nverified on the cluster in {:.1}s",
        t0.elapsed().as_secs_f64()
    );
    assert_eq!(o.status.code(), Some(0), "{all}");
    assert!(
        all.contains("ok   kong-troubleshooting/03-hostnetwork: on the cluster: fault host-network fails the check"),
        "{all}"
    );
    assert!(
        all.contains("kong-to-gateway-api/03-kong-redirect: not run on this cluster: its implementation lacks"),
        "{all}"
    );
}
