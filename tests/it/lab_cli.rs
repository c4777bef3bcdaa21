//! `gwlab up`, `down`, `status` through the binary, on what this machine can
//! do without upstream images: the failure paths must be clear and leave
//! nothing behind.

use crate::common::bin::text;
use std::path::Path;
use std::process::{Command, Output};

fn gwlab(args: &[&str], dirs: &tempfile::TempDir, path: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gwlab"));
    cmd.args(args)
        .env("XDG_STATE_HOME", dirs.path().join("state"))
        .env("XDG_CACHE_HOME", dirs.path().join("cache"))
        .env("NO_COLOR", "1")
        .env_remove("GWLAB_NAME")
        .env_remove("GWLAB_MIRROR");
    if let Some(p) = path {
        cmd.env("PATH", p);
    }
    cmd.output().expect("gwlab runs")
}

fn docker_ok() -> bool {
    let ok = Command::new("docker")
        .arg("info")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        crate::common::skip::not_run("no Docker engine");
    }
    ok
}

#[test]
fn up_without_the_k3s_image_says_to_pull_and_leaves_nothing() {
    if !docker_ok() {
        return;
    }
    let dirs = tempfile::tempdir().unwrap();
    let name = format!("cli{}", fastrand::u32(..));
    // The k3s image cannot be pulled here; when a user's engine has it, this
    // test would start a real cluster, so it only runs where it is absent.
    if Command::new("docker")
        .args(["image", "inspect", "rancher/k3s:v1.32.11-k3s3"])
        .output()
        .is_ok_and(|o| o.status.success())
    {
        crate::common::skip::not_run(
            "the k3s image is present here, so `up` would not fail as this test needs; tests/e2e.rs covers a real lab",
        );
        return;
    }
    let o = gwlab(&["up", "--name", &name], &dirs, None);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(
        t.contains("✗ Creating the cluster (k3s)"),
        "the failed step is named: {t}"
    );
    assert!(t.contains("run `gwlab pull`"), "{t}");
    assert!(t.contains(&format!("gwlab down --name {name}")), "{t}");
    let nets = Command::new("docker")
        .args([
            "network",
            "ls",
            "-q",
            "--filter",
            &format!("label=gwlab.dev/lab={name}"),
        ])
        .output()
        .unwrap();
    assert!(nets.stdout.is_empty(), "no network left behind");
    assert!(
        !dirs
            .path()
            .join("state/gwlab")
            .join(&name)
            .join("kubeconfig")
            .exists()
    );
}

#[test]
fn kind_missing_is_explained() {
    let dirs = tempfile::tempdir().unwrap();
    let o = gwlab(
        &["up", "--provider", "kind", "--name", "k"],
        &dirs,
        Some("/nonexistent"),
    );
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(
        t.contains("install kind v0.32.0") && t.contains("--provider k3s"),
        "{t}"
    );
}

#[test]
fn an_existing_cluster_that_does_not_answer_is_reported_with_its_address() {
    let dirs = tempfile::tempdir().unwrap();
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let kubeconfig = dirs.path().join("kubeconfig");
    std::fs::write(&kubeconfig, format!("apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:{port}\n    insecure-skip-tls-verify: true\ncontexts:\n- name: ctx\n  context: {{cluster: c, user: u}}\ncurrent-context: ctx\nusers:\n- name: u\n  user: {{token: t}}\n")).unwrap();
    let o = gwlab(
        &[
            "up",
            "--provider",
            "existing",
            "--kubeconfig",
            kubeconfig.to_str().unwrap(),
            "--context",
            "ctx",
            "--timeout",
            "2s",
            "--name",
            "ex",
        ],
        &dirs,
        None,
    );
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(t.contains("✓ Creating the cluster (existing)"), "{t}");
    assert!(
        t.contains("✗ Waiting for the API server") && t.contains("does not answer"),
        "{t}"
    );
    // The lab was recorded, so status can say what is wrong.
    let o = gwlab(&["status", "--name", "ex", "-o", "json"], &dirs, None);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["lab"]["provider"], "existing");
    assert!(
        v["error"]
            .as_str()
            .unwrap()
            .contains(&format!("https://127.0.0.1:{port}")),
        "{v}"
    );
    // A lab started on a cluster that does not answer says so (exit 2)
    // rather than failing its checks later, and makes no workspace.
    let ws = dirs.path().join("ws");
    let o = gwlab(
        &[
            "lab",
            "start",
            "kong-to-gateway-api",
            "--dir",
            ws.to_str().unwrap(),
            "--kubeconfig",
            kubeconfig.to_str().unwrap(),
            "--context",
            "ctx",
        ],
        &dirs,
        None,
    );
    let t = text(&o);
    assert_eq!(o.status.code(), Some(2), "{t}");
    assert!(t.contains("does not answer"), "{t}");
    assert!(!ws.exists());
    // A test run on it names the API server and why, once, and runs nothing
    // (exit 2), instead of failing every scenario on its first call.
    let redirect = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/redirect");
    let o = gwlab(
        &[
            "test",
            redirect.to_str().unwrap(),
            "--kubeconfig",
            kubeconfig.to_str().unwrap(),
        ],
        &dirs,
        None,
    );
    let t = text(&o);
    assert_eq!(o.status.code(), Some(2), "{t}");
    assert!(
        t.contains(&format!(
            "error: the API server at https://127.0.0.1:{port} (kubeconfig {}) does not answer after 20s: the API server refused the connection: is the cluster running?",
            kubeconfig.display()
        )),
        "{t}"
    );
    assert!(!t.contains("FAIL"), "{t}");
    // `down` on an existing cluster deletes no cluster: only what `up`
    // recorded creating (nothing, here) and gwlab's state.
    let o = gwlab(&["down", "--name", "ex"], &dirs, None);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(!text(&o).contains("deleted Namespace"), "{}", text(&o));
    assert!(!dirs.path().join("state/gwlab/ex").exists());
}

#[test]
fn status_and_down_of_an_unknown_lab() {
    let dirs = tempfile::tempdir().unwrap();
    let o = gwlab(&["status", "--name", "nope"], &dirs, None);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("no lab named nope"), "{}", text(&o));
    if docker_ok() {
        let o = gwlab(&["down", "--name", "nope"], &dirs, None);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        assert!(text(&o).contains("nothing to delete"));
    }
}

#[test]
fn bad_addons_and_flag_mixes_are_usage_errors() {
    let dirs = tempfile::tempdir().unwrap();
    let o = gwlab(&["up", "--addons", "crds,nginx"], &dirs, None);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("unknown addon `nginx`"));
    let o = gwlab(&["up", "--context", "x"], &dirs, None);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("--provider existing"));
}

#[test]
fn pull_without_network_says_so_in_one_line() {
    let dirs = tempfile::tempdir().unwrap();
    // Nothing listens on port 9 of loopback: every connection is refused.
    let o = gwlab(&["pull", "--mirror", "http://127.0.0.1:9"], &dirs, None);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error")).collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(
        errors[0].contains("the network (or the mirror) is unreachable"),
        "{stderr}"
    );
}

#[test]
fn status_as_json_without_a_lab_is_json_saying_so() {
    let dirs = tempfile::tempdir().unwrap();
    let o = gwlab(&["status", "--name", "none", "-o", "json"], &dirs, None);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON on stdout");
    assert_eq!(v["exists"], false);
    assert_eq!(v["name"], "none");
    assert!(
        v["error"]
            .as_str()
            .unwrap()
            .contains("gwlab up --name none")
    );
}
