//! On a cluster whose Kong is 3.8, a probe whose answer is one of Kong's
//! known deviations names it, read from the lab's own Kong version: the
//! stand-in answers as Kong 3.8 does and the lab's proxy runs `kong:3.8.1`.

use std::path::Path;

use crate::common::bin::text;
use gwlab::implementations::Implementation;
use k8s_openapi::api::apps::v1::Deployment;
use kube::api::{Api, Patch, PatchParams};

#[tokio::test]
async fn a_probe_on_kong_3_8_names_the_redirect_deviation() {
    let kong_38 = Implementation::parse("kong-3.8").unwrap();
    let Some(lab) = crate::common::lab::own_as(kong_38) else {
        return;
    };
    let client = lab.standin.env.client().await;
    let deployments: Api<Deployment> = Api::namespaced(client, "kong-system");
    let patch = serde_json::json!({"spec": {"template": {"spec": {"containers": [
        {"name": "proxy", "image": "kong:3.8.1"}
    ]}}}});
    deployments
        .patch("kong", &PatchParams::default(), &Patch::Strategic(&patch))
        .await
        .unwrap();
    let report = lab.home.path().join("report.json");
    // The repository's scenario, with probes that give up after 2 s: two of
    // them fail on Kong 3.8 whatever the wait.
    let scenario = lab.home.path().join("redirect");
    std::fs::create_dir_all(&scenario).unwrap();
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/redirect");
    for f in ["route.yaml", "scenario.yaml"] {
        let mut text = std::fs::read_to_string(source.join(f)).unwrap();
        if f == "scenario.yaml" {
            text.push_str("timeouts: {probes: 2s}\n");
        }
        std::fs::write(scenario.join(f), text).unwrap();
    }
    let o = lab.gwlab(&[
        "test",
        scenario.to_str().unwrap(),
        "--kubeconfig",
        lab.kubeconfig(),
        "--gateway-address",
        &lab.standin.gateway_address(),
        "--json",
        report.to_str().unwrap(),
    ]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(
        t.contains("Kong on the cluster: Kong 3.8.1"),
        "the version is read from the lab: {t}"
    );
    assert!(
        t.contains("known KIC behaviour on Kong < 3.9: RequestRedirect becomes request-termination with a fixed Location [redirect-request-termination"),
        "{t}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let checks = json["scenarios"][0]["checks"].as_array().unwrap();
    let deep = checks
        .iter()
        .find(|c| c["name"] == "the request's scheme and path are kept")
        .unwrap();
    assert_eq!(deep["passed"], false);
    assert_eq!(deep["answer"], "301 http://portal.imprun.dev");
    assert_eq!(deep["deviations"][0]["id"], "redirect-request-termination");
    // A probe that fails for another reason names no deviation.
    let other = checks
        .iter()
        .find(|c| c["name"] == "other hosts are not redirected")
        .unwrap();
    assert_eq!(other["passed"], true);
    // It passes, and its 404 is Kong's own (the model says so too).
    assert_eq!(other["deviations"][0]["id"], "not-found-body");
}
