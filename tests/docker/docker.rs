//! The lab's Docker side against this machine's real engine: labelled networks
//! and containers, port publishing, cleanup that removes only what gwlab
//! labelled, the MetalLB pool from a real network, and the k3s provider when
//! its image is missing. No image is pulled: the one container image is built
//! here, `FROM scratch` with a static busybox. Skips, saying why, where Docker
//! or busybox is missing.

use std::path::{Path, PathBuf};
use std::process::Command;

use gwlab::lab::docker::{self, ContainerSpec};
use gwlab::lab::metallb;
use gwlab::lab::providers::k3s::K3s;
use gwlab::lab::providers::{LabSpec, Provider};

const IMAGE: &str = "gwlab-test-busybox:1";

fn docker_cli(args: &[&str]) -> bool {
    Command::new("docker")
        .args(args)
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// Builds the test image once; `None` (the test reported as not run, with
/// why) when it cannot.
fn test_image() -> Option<&'static str> {
    static BUILT: std::sync::OnceLock<Result<(), String>> = std::sync::OnceLock::new();
    let built = BUILT.get_or_init(|| {
        if !docker_cli(&["info"]) {
            return Err("no Docker engine answers `docker info`".into());
        }
        let busybox = ["/bin/busybox", "/usr/bin/busybox"]
            .into_iter()
            .map(PathBuf::from)
            .find(|p| p.is_file())
            .ok_or("no static busybox (apt-get install busybox-static)")?;
        let dir = tempfile::tempdir().unwrap();
        std::fs::copy(&busybox, dir.path().join("busybox")).unwrap();
        std::fs::write(
            dir.path().join("Dockerfile"),
            "FROM scratch\nCOPY busybox /busybox\nENTRYPOINT [\"/busybox\"]\n",
        )
        .unwrap();
        if !docker_cli(&["build", "-q", "-t", IMAGE, dir.path().to_str().unwrap()]) {
            return Err("`docker build` of a FROM scratch image failed".into());
        }
        Ok(())
    });
    match built {
        Ok(()) => Some(IMAGE),
        Err(why) => {
            crate::common::skip::not_run(why);
            None
        }
    }
}

fn lab_name() -> String {
    format!("t{}", fastrand::u32(..))
}

/// Removes a lab's labelled containers and networks even when a test panics.
struct Leftovers(String);

impl Drop for Leftovers {
    fn drop(&mut self) {
        let filter = format!("label=gwlab.dev/lab={}", self.0);
        let ids = |args: &[&str]| -> Vec<String> {
            Command::new("docker")
                .args(args)
                .output()
                .map(|o| {
                    String::from_utf8_lossy(&o.stdout)
                        .split_whitespace()
                        .map(String::from)
                        .collect()
                })
                .unwrap_or_default()
        };
        for c in ids(&["ps", "-aq", "--filter", &filter]) {
            docker_cli(&["rm", "-f", &c]);
        }
        for n in ids(&["network", "ls", "-q", "--filter", &filter]) {
            docker_cli(&["network", "rm", &n]);
        }
    }
}

fn lab_spec(name: &str, state: &Path) -> LabSpec {
    LabSpec {
        name: name.into(),
        state_dir: state.to_path_buf(),
        http_port: 0,
        https_port: 0,
        images_dir: state.join("no-images"),
        k3s_bundle: None,
    }
}

#[tokio::test]
async fn networks_containers_and_ports_are_labelled_and_cleaned_up_alone() {
    let Some(image) = test_image() else { return };
    let d = docker::connect().await.unwrap();
    let lab = lab_name();
    let _leftovers = Leftovers(lab.clone());
    let net = format!("gwlab-{lab}");

    let n = docker::ensure_network(&d, &net, &lab).await.unwrap();
    assert_eq!(
        n.labels
            .get("app.kubernetes.io/managed-by")
            .map(String::as_str),
        Some("gwlab")
    );
    assert_eq!(
        docker::ensure_network(&d, &net, &lab).await.unwrap().subnet,
        n.subnet,
        "re-running reuses the network"
    );

    let port = docker::free_port().unwrap();
    let spec = ContainerSpec {
        name: format!("gwlab-{lab}-web"),
        image: image.into(),
        cmd: vec![
            "httpd".into(),
            "-f".into(),
            "-p".into(),
            "8080".into(),
            "-h".into(),
            "/".into(),
        ],
        network: net.clone(),
        ports: vec![(8080, port)],
        ..Default::default()
    };
    docker::run(&d, &spec, &lab).await.unwrap();
    let state = docker::container(&d, &spec.name).await.unwrap().unwrap();
    assert!(state.running);
    assert_eq!(state.ports, vec![(8080, port)]);

    // The published port answers (busybox httpd serves / as a directory).
    let mut answered = false;
    for _ in 0..50 {
        if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            use std::io::{Read, Write};
            s.write_all(b"GET /busybox HTTP/1.0\r\n\r\n").unwrap();
            let mut buf = [0u8; 12];
            if s.read_exact(&mut buf).is_ok() && buf.starts_with(b"HTTP/1.") {
                answered = true;
                break;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(answered, "the published port answers");

    // An unlabelled look-alike on the same network must survive cleanup.
    let lookalike = format!("gwlab-{lab}-lookalike");
    assert!(docker_cli(&[
        "run",
        "-d",
        "--name",
        &lookalike,
        "--network",
        &net,
        image,
        "sleep",
        "300"
    ]));
    let err = docker::remove_lab(&d, &lab).await;
    // The network cannot go while the look-alike is attached: said, not hidden.
    assert!(
        err.as_ref()
            .is_err_and(|e| e.to_string().contains("is something else attached")),
        "{err:?}"
    );
    assert!(
        docker::container(&d, &spec.name).await.unwrap().is_none(),
        "the labelled container is gone"
    );
    assert!(
        docker::container(&d, &lookalike).await.unwrap().is_some(),
        "the unlabelled one survives"
    );
    assert!(docker_cli(&["rm", "-f", &lookalike]));
    let removed = docker::remove_lab(&d, &lab).await.unwrap();
    assert_eq!(removed, vec![format!("network {net}")]);
    assert!(docker::network(&d, &net).await.unwrap().is_none());
}

#[tokio::test]
async fn someone_elses_network_is_not_adopted() {
    if test_image().is_none() {
        return;
    }
    let d = docker::connect().await.unwrap();
    let lab = lab_name();
    let net = format!("gwlab-{lab}");
    assert!(docker_cli(&["network", "create", &net]));
    let err = docker::ensure_network(&d, &net, &lab)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("was not created by gwlab"), "{err}");
    assert!(
        docker::remove_lab(&d, &lab).await.unwrap().is_empty(),
        "nothing of the lab to remove"
    );
    assert!(
        docker::network(&d, &net).await.unwrap().is_some(),
        "the foreign network is untouched"
    );
    assert!(docker_cli(&["network", "rm", &net]));
}

#[tokio::test]
async fn the_metallb_pool_comes_from_the_real_network_and_avoids_its_addresses() {
    let Some(image) = test_image() else { return };
    let d = docker::connect().await.unwrap();
    let lab = lab_name();
    let _leftovers = Leftovers(lab.clone());
    let net = format!("gwlab-{lab}");
    // A network whose gateway sits at the top, where the pool goes.
    let third = 100 + fastrand::u8(..100);
    let subnet = format!("10.{third}.7.0/24");
    let gateway = format!("10.{third}.7.254");
    assert!(docker_cli(&[
        "network",
        "create",
        "--subnet",
        &subnet,
        "--gateway",
        &gateway,
        "--label",
        "app.kubernetes.io/managed-by=gwlab",
        "--label",
        &format!("gwlab.dev/lab={lab}"),
        &net
    ]));
    let taken = format!("10.{third}.7.252");
    let spec = ContainerSpec {
        name: format!("gwlab-{lab}-node"),
        image: image.into(),
        cmd: vec!["sleep".into(), "300".into()],
        network: net.clone(),
        ..Default::default()
    };
    docker::run(&d, &spec, &lab).await.unwrap();
    assert!(docker_cli(&[
        "run",
        "-d",
        "--name",
        &format!("gwlab-{lab}-fixed"),
        "--label",
        "app.kubernetes.io/managed-by=gwlab",
        "--label",
        &format!("gwlab.dev/lab={lab}"),
        "--network",
        &net,
        "--ip",
        &taken,
        image,
        "sleep",
        "300"
    ]));

    let info = docker::network(&d, &net).await.unwrap().unwrap();
    assert_eq!(info.subnet, subnet.parse().unwrap());
    assert_eq!(info.gateway, Some(gateway.parse().unwrap()));
    assert!(info.in_use.contains(&taken.parse().unwrap()));
    let pool = metallb::pool(info.subnet, info.gateway, &info.in_use, 8).unwrap();
    let joined = pool.join(",");
    assert!(
        !joined.contains(&gateway) && !joined.contains(&taken),
        "{joined}"
    );
    assert_eq!(
        pool,
        vec![
            format!("10.{third}.7.245-10.{third}.7.251"),
            format!("10.{third}.7.253/32")
        ]
    );
    docker::remove_lab(&d, &lab).await.unwrap();
}

#[tokio::test]
async fn k3s_without_its_image_says_to_pull_and_leaves_nothing() {
    if test_image().is_none() {
        return;
    }
    let d = docker::connect().await.unwrap();
    let lab = lab_name();
    let state = tempfile::tempdir().unwrap();
    let k3s = K3s {
        docker: d.clone(),
        image: "rancher/k3s:v0.0.0-gwlab-absent".into(),
        start_timeout: std::time::Duration::from_secs(5),
    };
    let err = k3s
        .provision(&lab_spec(&lab, state.path()))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("gwlab pull"), "{err}");
    assert!(
        docker::network(&d, &format!("gwlab-{lab}"))
            .await
            .unwrap()
            .is_none(),
        "no network left behind"
    );
    assert!(
        docker::container(&d, &format!("gwlab-{lab}-server"))
            .await
            .unwrap()
            .is_none()
    );
    assert!(!state.path().join("kubeconfig").exists());
}
