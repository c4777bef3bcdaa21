//! `gwlab doctor --from DIR` on the recorded cluster states of
//! `examples/doctor/`: each of the seed's three field failures is named with
//! its evidence, a healthy state has no finding, and unreadable input is
//! named by file and line.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

fn doctor(dir: &Path, json: bool) -> Output {
    let mut args = vec!["doctor", "--from", dir.to_str().unwrap()];
    if json {
        args.extend(["-o", "json"]);
    }
    Command::new(env!("CARGO_BIN_EXE_gwlab"))
        .args(&args)
        .env("NO_COLOR", "1")
        .output()
        .expect("gwlab runs")
}

fn state(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/doctor")
        .join(name)
}

/// The finding ids, root cause first, and all evidence as one text.
fn findings(name: &str) -> (Option<i32>, Vec<String>, String) {
    let o = doctor(&state(name), true);
    let report: Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{name}: {e}: {}", String::from_utf8_lossy(&o.stderr)));
    let list = report["findings"].as_array().unwrap();
    let ids = list
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect();
    (o.status.code(), ids, report["findings"].to_string())
}

#[test]
fn a_recorded_healthy_lab_has_no_finding() {
    let (code, ids, _) = findings("healthy");
    assert_eq!(code, Some(0));
    assert!(ids.is_empty(), "{ids:?}");
}

#[test]
fn the_publish_service_mismatch_is_named_from_the_recorded_objects_and_log() {
    let (code, ids, all) = findings("publish-service-mismatch");
    assert_eq!(code, Some(1));
    assert_eq!(
        ids,
        ["kong-publish-service-mismatch", "gateway-not-programmed"]
    );
    assert!(
        all.contains("konghq.com/publish-service: kong/kong-gateway-proxy"),
        "{all}"
    );
    assert!(
        all.contains("CONTROLLER_PUBLISH_SERVICE=kong-system/kong-proxy"),
        "{all}"
    );
    assert!(
        all.contains("did not match configured controller manager's publish services"),
        "{all}"
    );
}

#[test]
fn the_gateway_feature_gate_is_named_from_the_recorded_objects_and_log() {
    let (code, ids, all) = findings("feature-gate");
    assert_eq!(code, Some(1));
    assert_eq!(ids[0], "kic-invalid-feature-gate", "{ids:?}");
    assert!(all.contains("CrashLoopBackOff, 7 restarts"), "{all}");
    assert!(all.contains("Gateway is not a valid feature"), "{all}");
}

#[test]
fn the_host_network_port_conflict_is_named_from_the_recorded_event() {
    let (code, ids, all) = findings("hostnetwork-port-conflict");
    assert_eq!(code, Some(1));
    assert_eq!(ids, ["kong-hostnetwork-port-conflict"]);
    assert!(all.contains("didn't have free ports"), "{all}");
    assert!(all.contains("Pending: kong-5c8b-fghij"), "{all}");
}

#[test]
fn unreadable_or_empty_recordings_are_bad_input() {
    let tmp = tempfile::tempdir().unwrap();
    let o = doctor(tmp.path(), false);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("holds no Kubernetes objects"));

    std::fs::write(tmp.path().join("broken.yaml"), "kind: Pod\nmetadata: [\n").unwrap();
    let o = doctor(tmp.path(), false);
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("broken.yaml:"), "{err}");

    let o = doctor(&tmp.path().join("absent"), false);
    assert_eq!(o.status.code(), Some(2));
}

/// Recorded CRDs name their kinds and scopes as a cluster returns them (the
/// upstream CRDs of the bundle they record).
#[test]
fn recorded_crds_are_as_a_cluster_returns_them() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let upstream = gwlab_standin::envtest::upstream().join("gateway-api-v1.2.1");
    let mut checked = 0;
    let mut stack = vec![root.join("labs"), root.join("examples/doctor")];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            if p.file_name().is_none_or(|n| n != "cluster.yaml") {
                continue;
            }
            let doc: serde_json::Value =
                serde_saphyr::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
            for item in doc["items"].as_array().unwrap() {
                if item["kind"] != "CustomResourceDefinition" {
                    continue;
                }
                let name = item["metadata"]["name"].as_str().unwrap();
                let plural = name.split('.').next().unwrap();
                let file = upstream.join(format!("gateway.networking.k8s.io_{plural}.yaml"));
                let Ok(text) = std::fs::read_to_string(&file) else {
                    crate::common::skip::not_run(&format!(
                        "{} is not beside the checkout",
                        file.display()
                    ));
                    return;
                };
                let crd: serde_json::Value = serde_saphyr::from_str(&text).unwrap();
                assert_eq!(
                    item["spec"]["names"]["kind"],
                    crd["spec"]["names"]["kind"],
                    "{}: {name}",
                    p.display()
                );
                assert_eq!(
                    item["spec"]["scope"],
                    crd["spec"]["scope"],
                    "{}: {name}",
                    p.display()
                );
                checked += 1;
            }
        }
    }
    assert!(checked >= 40, "{checked} recorded CRDs");
}

/// A recorded lab without its Kong Ingress Controller: a finding of its
/// own, and the Gateway's finding does not point at findings that are not
/// there.
#[test]
fn a_missing_controller_is_a_finding() {
    let healthy = state("healthy").join("cluster.yaml");
    let mut doc: Value =
        serde_saphyr::from_str(&std::fs::read_to_string(healthy).unwrap()).unwrap();
    let items = doc["items"].as_array_mut().unwrap();
    let before = items.len();
    items.retain(|i| {
        !(i["kind"] == "Deployment" && i.to_string().contains("kong/kubernetes-ingress-controller"))
    });
    assert_eq!(
        items.len(),
        before - 1,
        "the recorded lab has one controller"
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("cluster.yaml"),
        serde_json::to_string(&doc).unwrap(),
    )
    .unwrap();
    let o = doctor(dir.path(), false);
    let t = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(
        t.contains("no Kong Ingress Controller runs") && t.contains("[kic-missing]"),
        "{t}"
    );
}

/// Doctor's own fix for the hostNetwork conflict resolves its finding: with
/// one replica, `strategy: Recreate`; with two on one node, Recreate alone
/// does not, and the fix says `replicas: 1`.
#[test]
fn the_hostnetwork_fix_doctor_gives_resolves_its_finding() {
    let start = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("labs/kong-troubleshooting/03-hostnetwork/start/cluster/cluster.yaml");
    let text = std::fs::read_to_string(start).unwrap();
    assert!(text.contains("    replicas: 1\n    strategy:\n      type: RollingUpdate\n"));
    let with = |replicas: u32, strategy: &str| -> String {
        let dir = tempfile::tempdir().unwrap();
        let changed = text.replace(
            "    replicas: 1\n    strategy:\n      type: RollingUpdate\n",
            &format!("    replicas: {replicas}\n    strategy:\n      type: {strategy}\n"),
        );
        std::fs::write(dir.path().join("cluster.yaml"), changed).unwrap();
        String::from_utf8_lossy(&doctor(dir.path(), false).stdout).into_owned()
    };
    assert!(with(1, "RollingUpdate").contains("[kong-hostnetwork-port-conflict]"));
    assert!(!with(1, "Recreate").contains("[kong-hostnetwork-port-conflict]"));
    let two = with(2, "Recreate");
    assert!(two.contains("[kong-hostnetwork-port-conflict]"), "{two}");
    assert!(two.contains("set `replicas: 1`"), "{two}");
}
