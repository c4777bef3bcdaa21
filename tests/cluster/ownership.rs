//! gwlab changes and deletes only what it created, on a real kube-apiserver
//! (envtest): a platform team's Kong survives `gwlab up`, a user's route
//! survives `gwlab test`, copied labels never make an object deletable, and
//! `--adopt` takes over knowingly.

use std::path::Path;
use std::process::Output;
use std::sync::Arc;

use crate::common::bin::text;
use crate::common::envtest::labelled;
use kube::api::{Api, DynamicObject};
use serde_json::{Value, json};

use crate::common::home::filled_cache;

/// `gwlab ARGS` with its own state, cache and home directories.
fn gwlab(args: &[&str], home: &Path) -> Output {
    crate::common::home::command(args, home)
        .output()
        .expect("gwlab runs")
}

/// `gwlab test scenarios/NAME --target cluster --kubeconfig KC -q EXTRA...`.
fn test_on_cluster(name: &str, kubeconfig: &str, extra: &[&str], home: &Path) -> Output {
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(name);
    let mut args = vec![
        "test",
        scenario.to_str().unwrap(),
        "--target",
        "cluster",
        "--kubeconfig",
        kubeconfig,
        "-q",
    ];
    // Diagnostics bundles of failed scenarios go into the test's own directory.
    let bundles = home.join("diagnostics");
    args.extend_from_slice(&["--diagnostics", bundles.to_str().unwrap()]);
    args.extend_from_slice(extra);
    gwlab(&args, home)
}

fn api(
    client: &kube::Client,
    api_version: &str,
    kind: &str,
    ns: Option<&str>,
) -> Api<DynamicObject> {
    let (ar, _) = gwlab::kinds::resource(api_version, kind).expect("a known kind");
    match ns {
        Some(ns) => Api::namespaced_with(client.clone(), ns, &ar),
        None => Api::all_with(client.clone(), &ar),
    }
}

/// Applies an object as a user would with `kubectl apply --server-side`.
/// Applies an object as a user would with `kubectl apply --server-side`.
async fn user_apply(client: &kube::Client, obj: Value) -> DynamicObject {
    crate::common::envtest::apply_as(client, "kubectl", obj).await
}

async fn get(
    client: &kube::Client,
    api_version: &str,
    kind: &str,
    ns: Option<&str>,
    name: &str,
) -> Option<DynamicObject> {
    api(client, api_version, kind, ns)
        .get_opt(name)
        .await
        .unwrap()
}

async fn config_map(client: &kube::Client, ns: &str, name: &str) -> Option<DynamicObject> {
    get(client, "v1", "ConfigMap", Some(ns), name).await
}

/// The GatewayClass `kong`, whoever made it.
async fn kong_class(client: &kube::Client) -> Option<DynamicObject> {
    get(
        client,
        "gateway.networking.k8s.io/v1",
        "GatewayClass",
        None,
        "kong",
    )
    .await
}

/// The Deployment `kong-system/kong`, whoever made it.
async fn kong_deployment(client: &kube::Client) -> Option<DynamicObject> {
    get(client, "apps/v1", "Deployment", Some("kong-system"), "kong").await
}

fn rv(o: &DynamicObject) -> String {
    o.metadata.resource_version.clone().unwrap()
}

/// The Gateway API CRDs as a platform team would have them: same bundle, not gwlab's.
async fn user_installs_gateway_api(client: &kube::Client) {
    crate::common::envtest::install_gateway_api(client).await
}

fn helm_kong() -> Vec<Value> {
    vec![
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "kong-system"}}),
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "kong", "namespace": "kong-system", "labels": {"app.kubernetes.io/managed-by": "Helm"}},
            "spec": {"selector": {"matchLabels": {"app": "kong"}}, "template": {"metadata": {"labels": {"app": "kong"}},
                "spec": {"containers": [{"name": "proxy", "image": "kong:3.9.1"}]}}}}),
        json!({"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "kong-proxy", "namespace": "kong-system", "labels": {"app.kubernetes.io/managed-by": "Helm"}},
            "spec": {"selector": {"app": "kong"}, "ports": [{"name": "proxy", "port": 80, "targetPort": 8000}]}}),
        json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "team-settings", "namespace": "kong-system"}, "data": {"owner": "platform"}}),
    ]
}

fn gateway_class(controller: &str) -> Value {
    json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "GatewayClass",
        "metadata": {"name": "kong"}, "spec": {"controllerName": controller}})
}

/// Everything carrying these labels, by kind.

#[tokio::test]
async fn up_and_down_on_a_cluster_with_someone_elses_kong() {
    let env = crate::envtest_or_skip!();
    let client = env.client().await;
    let home = tempfile::tempdir().unwrap();
    if !filled_cache(&home.path().join("cache")) {
        return;
    }
    let kc = env.kubeconfig.to_str().unwrap();
    user_installs_gateway_api(&client).await;

    // 0. Without GatewayClass kong, gwlab cannot tell the cluster's features:
    // that is an error (exit 2) saying what to do, never "unsupported".
    let o = test_on_cluster("https-redirect", kc, &[], home.path());
    let t = text(&o);
    assert_eq!(o.status.code(), Some(2), "{t}");
    assert!(
        t.contains("GatewayClass kong does not exist on this cluster"),
        "{t}"
    );
    assert!(t.contains("gwlab up"), "{t}");
    assert!(!t.contains("unsupported"), "{t}");

    for obj in helm_kong() {
        user_apply(&client, obj).await;
    }
    user_apply(&client, gateway_class("example.com/platform-gateway")).await;
    let before_deploy = kong_deployment(&client).await.unwrap();
    let before_svc = get(&client, "v1", "Service", Some("kong-system"), "kong-proxy")
        .await
        .unwrap();
    let before_class = kong_class(&client).await.unwrap();

    // 1. Someone else's Kong: nothing changes, each object is named with its owner.
    let up = [
        "up",
        "--provider",
        "existing",
        "--kubeconfig",
        kc,
        "--addons",
        "crds,kong",
        "--no-wait",
        "--name",
        "own",
        "--timeout",
        "60s",
    ];
    let o = gwlab(&up, home.path());
    let t = text(&o);
    assert_eq!(o.status.code(), Some(2), "{t}");
    for named in [
        "3 objects that gwlab would write already exist",
        "Deployment kong-system/kong (app.kubernetes.io/managed-by: Helm; field managers: ",
        "Service kong-system/kong-proxy (app.kubernetes.io/managed-by: Helm",
        "GatewayClass kong (field managers: kubectl)",
        "--adopt",
    ] {
        assert!(t.contains(named), "{named} in:\n{t}");
    }
    assert!(!t.contains("Status {"), "API errors are sentences:\n{t}");
    let after = kong_deployment(&client).await.unwrap();
    crate::common::envtest::assert_untouched(&before_deploy, &after, "the user's Deployment");
    assert_eq!(
        rv(
            &get(&client, "v1", "Service", Some("kong-system"), "kong-proxy")
                .await
                .unwrap()
        ),
        rv(&before_svc)
    );
    assert_eq!(rv(&kong_class(&client).await.unwrap()), rv(&before_class));
    assert_eq!(
        labelled(
            &client,
            "app.kubernetes.io/managed-by=gwlab,gwlab.dev/lab=own"
        )
        .await,
        Vec::<String>::new(),
        "nothing was written"
    );

    // 2. Labels copied onto a user's object never make it gwlab's.
    user_apply(
        &client,
        json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "copied-labels", "namespace": "kong-system",
            "labels": {"app.kubernetes.io/managed-by": "gwlab", "gwlab.dev/lab": "own"}}}),
    )
    .await;

    // 3. --adopt takes the Deployment and Service over knowingly (the
    // platform's GatewayClass, of another controller, is removed first: its
    // controllerName cannot change).
    api(
        &client,
        "gateway.networking.k8s.io/v1",
        "GatewayClass",
        None,
    )
    .delete("kong", &Default::default())
    .await
    .unwrap();
    let mut adopt = up.to_vec();
    adopt.push("--adopt");
    let o = gwlab(&adopt, home.path());
    let t = text(&o);
    assert_eq!(o.status.code(), Some(0), "{t}");
    assert!(
        t.contains("adopting Deployment kong-system/kong (app.kubernetes.io/managed-by: Helm"),
        "{t}"
    );
    let adopted = kong_deployment(&client).await.unwrap();
    assert_eq!(
        adopted.metadata.labels.as_ref().unwrap()["app.kubernetes.io/managed-by"],
        "gwlab"
    );
    let class = kong_class(&client).await.unwrap();
    assert_eq!(
        class.data["spec"]["controllerName"],
        gwlab::kong::CONTROLLER_NAME
    );

    // 4. A second `up` converges: nothing new is created, nothing conflicts.
    let state = home.path().join("state/gwlab/own/lab.json");
    let created = |p: &Path| -> Vec<String> {
        let v: Value = serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap();
        v["created"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["uid"].as_str().unwrap().to_string())
            .collect()
    };
    let first = created(&state);
    assert!(first.len() > 5, "{first:?}");
    let o = gwlab(&up, home.path());
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(created(&state), first, "the same objects, no duplicates");

    // 5. down deletes exactly what up created: the adopted Deployment and
    // Service, the team's ConfigMap, the copied-labels ConfigMap, the
    // namespace that holds them and the user's CRDs stay.
    let o = gwlab(&["down", "--name", "own"], home.path());
    let t = text(&o);
    assert_eq!(o.status.code(), Some(0), "{t}");
    assert!(t.contains("deleted GatewayClass kong"), "{t}");
    assert!(
        t.contains("kept Deployment kong-system/kong (it existed before gwlab adopted it)"),
        "{t}"
    );
    assert!(kong_class(&client).await.is_none());
    for (kind, name) in [
        ("ConfigMap", "team-settings"),
        ("ConfigMap", "copied-labels"),
        ("Service", "kong-proxy"),
    ] {
        let v = if kind == "ConfigMap" || kind == "Service" {
            "v1"
        } else {
            "apps/v1"
        };
        assert!(
            get(&client, v, kind, Some("kong-system"), name)
                .await
                .is_some(),
            "{kind} {name} survives down"
        );
    }
    assert!(kong_deployment(&client).await.is_some());
    assert!(
        get(&client, "v1", "Namespace", None, "kong-system")
            .await
            .is_some()
    );
    assert!(
        get(
            &client,
            "apiextensions.k8s.io/v1",
            "CustomResourceDefinition",
            None,
            "httproutes.gateway.networking.k8s.io"
        )
        .await
        .is_some()
    );
    assert!(
        !home.path().join("state/gwlab/own").exists(),
        "the lab's state is gone"
    );
}

const USERS_ROUTE: &str = r#"{"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
  "metadata": {"name": "imprun-root-redirect", "namespace": "imprun-system"},
  "spec": {"parentRefs": [{"name": "kong", "namespace": "kong-system"}], "hostnames": ["imprun.dev"],
    "rules": [{"filters": [{"type": "RequestRedirect", "requestRedirect": {"scheme": "https", "hostname": "portal.imprun.dev", "statusCode": 301}}]}]}}"#;

#[tokio::test]
async fn a_users_route_of_the_same_name_survives_gwlab_test() {
    let env = crate::envtest_or_skip!();
    let client = env.client().await;
    // Another test of this binary may be installing the CRDs right now:
    // applying them again is harmless, and waits until they are Established.
    user_installs_gateway_api(&client).await;
    user_apply(
        &client,
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "imprun-system"}}),
    )
    .await;
    let before = user_apply(&client, serde_json::from_str(USERS_ROUTE).unwrap()).await;
    let home = tempfile::tempdir().unwrap();
    let report = home.path().join("report.json");
    let o = test_on_cluster(
        "redirect",
        env.kubeconfig.to_str().unwrap(),
        &["--json", report.to_str().unwrap()],
        home.path(),
    );
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    let json = std::fs::read_to_string(&report).unwrap();
    assert!(
        json.contains("HTTPRoute imprun-system/imprun-root-redirect already exists and was not created by this run (field managers: kubectl)"),
        "{json}"
    );
    let after = get(
        &client,
        "gateway.networking.k8s.io/v1",
        "HTTPRoute",
        Some("imprun-system"),
        "imprun-root-redirect",
    )
    .await
    .unwrap();
    assert_eq!(rv(&after), rv(&before), "the user's route is untouched");
    assert_eq!(
        after.data["spec"]["rules"][0]["filters"][0]["requestRedirect"]["scheme"],
        "https"
    );
    let run_objects = labelled(&client, "gwlab.dev/run").await;
    assert!(
        run_objects.iter().all(|o| !o.contains("gwlab-redirect")),
        "the scenario created nothing: {run_objects:?}"
    );

    // The same route left by an earlier gwlab run: the refusal names that
    // run and the command that removes what it left.
    let mut leftover: Value = serde_json::from_str(USERS_ROUTE).unwrap();
    leftover["metadata"]["labels"] =
        json!({"app.kubernetes.io/managed-by": "gwlab", "gwlab.dev/run": "old42"});
    user_apply(&client, leftover).await;
    let o = test_on_cluster(
        "redirect",
        env.kubeconfig.to_str().unwrap(),
        &["--json", report.to_str().unwrap()],
        home.path(),
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let json = std::fs::read_to_string(&report).unwrap();
    assert!(
        json.contains("HTTPRoute imprun-system/imprun-root-redirect was left by an earlier gwlab run (old42, labelled gwlab.dev/run=old42)")
            && json.contains("`gwlab clean --run old42` removes what that run left"),
        "{json}"
    );
}

#[tokio::test]
async fn clean_deletes_what_the_run_recorded_and_not_copied_labels() {
    use gwlab::targets::Target;
    let env = crate::envtest_or_skip!();
    let client = env.client().await;
    let dir = tempfile::tempdir().unwrap();
    let record = Arc::new(gwlab::ownership::RunRecord::new(
        dir.path().join("run.json"),
    ));
    let mut target = gwlab::targets::cluster::ClusterTarget::new(
        client.clone(),
        None,
        None,
        "echo:test".into(),
        std::time::Duration::from_secs(30),
    )
    .recording(record.clone());
    assert!(
        target
            .ensure_namespace("gwlab-clean-abcde", "run77")
            .await
            .unwrap()
    );
    let m = gwlab::manifest::parse_text(
        Path::new("cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: made-by-run, namespace: gwlab-clean-abcde}\ndata: {a: b}\n",
    )
    .unwrap();
    target.apply(&m[0], "run77").await.unwrap();
    // Someone copies the run's labels onto their own objects, inside and outside the run's namespace.
    let copied = json!({"app.kubernetes.io/managed-by": "gwlab", "gwlab.dev/run": "run77"});
    user_apply(
        &client,
        json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "users-own", "namespace": "gwlab-clean-abcde", "labels": copied}}),
    )
    .await;
    user_apply(
        &client,
        json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "users-elsewhere", "namespace": "default", "labels": copied}}),
    )
    .await;

    let recorded = gwlab::ownership::RunRecord::read(&dir.path().join("run.json")).unwrap();
    assert_eq!(
        recorded.len(),
        2,
        "the namespace and the ConfigMap: {recorded:?}"
    );
    let outcome = gwlab::commands::clean::clean_run(&client, "run77", &recorded).await;
    assert_eq!(
        outcome.removal.deleted,
        vec!["ConfigMap gwlab-clean-abcde/made-by-run"]
    );
    assert!(
        outcome.removal.kept[0].starts_with("Namespace gwlab-clean-abcde (it holds objects gwlab did not create: ConfigMap users-own"),
        "{:?}",
        outcome.removal.kept
    );
    assert!(
        outcome
            .unrecorded
            .contains(&"ConfigMap default/users-elsewhere".to_string()),
        "{:?}",
        outcome.unrecorded
    );
    assert!(
        config_map(&client, "default", "users-elsewhere")
            .await
            .is_some()
    );
    assert!(
        config_map(&client, "gwlab-clean-abcde", "users-own")
            .await
            .is_some()
    );
    assert!(
        config_map(&client, "gwlab-clean-abcde", "made-by-run")
            .await
            .is_none()
    );
}
