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
