//! The machine's side: the Docker engine (and which kind: Docker Desktop and
//! Podman change networking), the `kind` binary, the lock's images, host
//! ports, and the download cache against its sums.

use super::{Finding, Layer};
use crate::lab::cache::Cache;
use crate::lab::docker::{self, NetworkInfo};
use crate::lab::lock::Lock;
use crate::lab::state::LabState;

pub struct Inputs<'a> {
    /// `k3s`, `kind` or `existing`: which images and binaries matter.
    pub provider: &'a str,
    pub lab: Option<&'a LabState>,
    pub cache: &'a Cache,
    pub lock: &'a Lock,
}

/// Checks the machine; returns findings, the checks that ran, and the lab's
/// Docker network when there is one (for the MetalLB pool check).
pub async fn check(i: &Inputs<'_>) -> (Vec<Finding>, Vec<String>, Option<NetworkInfo>) {
    let mut out = Vec::new();
    let mut checks = Vec::new();
    let mut network = None;
    let needs_docker = i.provider != "existing";
    match docker::connect().await {
        Err(e) => {
            if needs_docker {
                out.push(Finding::new("docker-unreachable", Layer::Machine, "the Docker engine does not answer").evidence(e.to_string()).fix("start Docker (or set DOCKER_HOST to where it listens), then run `gwlab doctor` again"));
            }
        }
        Ok(d) => {
            let version = d.version().await.ok();
            let info = d.info().await.ok();
            let podman = version
                .as_ref()
                .and_then(|v| v.components.as_ref())
                .is_some_and(|c| c.iter().any(|c| c.name.to_lowercase().contains("podman")));
            let desktop = info
                .as_ref()
                .and_then(|i| i.operating_system.as_deref())
                .is_some_and(|o| o.contains("Docker Desktop"));
            let kind_of = if podman {
                "Podman (rootless networking may hide container addresses from the host: probes use the mapped host ports)"
            } else if desktop {
                "Docker Desktop (container addresses are not reachable from the host: probes use the mapped host ports)"
            } else {
                "Docker Engine"
            };
            checks.push(format!(
                "Docker reachable: {kind_of} {}",
                version.and_then(|v| v.version).unwrap_or_default()
            ));
            if needs_docker {
                let wanted: Vec<_> = i
                    .lock
                    .images
                    .iter()
                    .filter(|img| match img.addon.as_str() {
                        "provider-k3s" => i.provider == "k3s",
                        "provider-kind" => i.provider == "kind",
                        _ => true,
                    })
                    .collect();
                let mut missing = Vec::new();
                for img in &wanted {
                    if !docker::image_present(&d, &img.reference())
                        .await
                        .unwrap_or(false)
                    {
                        missing.push(img.reference());
                    }
                }
                checks.push(format!("{} images of the lock present", wanted.len()));
                if !missing.is_empty() {
                    let mut f = Finding::new(
                        "images-missing",
                        Layer::Machine,
                        format!(
                            "{} of the lab's {} images are not on this Docker engine",
                            missing.len(),
                            wanted.len()
                        ),
                    );
                    for m in &missing {
                        f = f.evidence(format!("missing: {m}"));
                    }
                    out.push(f.fix("with network access, `gwlab pull` fetches them (and the pinned files) so that `gwlab up` works offline"));
                }
            }
            if let Some(lab) = i.lab {
                if let Some(name) = &lab.cluster.network {
                    network = docker::network(&d, name).await.ok().flatten();
                }
                let container = format!("gwlab-{}-server", lab.name);
                let running = docker::container(&d, &container)
                    .await
                    .ok()
                    .flatten()
                    .is_some_and(|c| c.running);
                for port in [lab.cluster.http_port, lab.cluster.https_port]
                    .into_iter()
                    .flatten()
                {
                    checks.push(format!("host port {port} for the Gateway"));
                    if !running && std::net::TcpListener::bind(("127.0.0.1", port)).is_err() {
                        out.push(Finding::new("host-port-taken", Layer::Machine, format!("host port {port}, which the lab maps to the Gateway, is taken by another program")).evidence(format!("127.0.0.1:{port} cannot be bound and the lab's container {container} is not running")).fix(format!("stop what listens on {port}, or recreate the lab with other ports: `gwlab down --name {0}` then `gwlab up --name {0} --http-port P --https-port P`", lab.name)));
                    }
                }
            }
        }
    }
    if i.provider == "kind" {
        checks.push("kind binary".into());
        let found = std::process::Command::new("kind").arg("version").output();
        if !found.as_ref().is_ok_and(|o| o.status.success()) {
            out.push(Finding::new("kind-missing", Layer::Machine, "the `kind` binary is not on PATH").evidence(match found {
                Err(e) => e.to_string(),
                Ok(o) => String::from_utf8_lossy(&o.stderr).trim().to_string(),
            }).fix("install kind v0.31.0 (https://kind.sigs.k8s.io/docs/user/quick-start/#installation), or use the default provider: `gwlab up --provider k3s`"));
        }
    }
    checks.push(format!(
        "download cache {} against the lock's sums",
        i.cache.dir.display()
    ));
    for f in &i.lock.files {
        let path = i.cache.path(f);
        if !path.exists() {
            continue;
        }
        if !i.cache.verify(f).unwrap_or(false) {
            let actual = std::fs::read(&path)
                .map(|b| crate::lab::cache::sha256_hex(&b))
                .unwrap_or_default();
            out.push(
                Finding::new(
                    "cache-corrupt",
                    Layer::Machine,
                    format!("the cached {} does not match the lock", f.file_name()),
                )
                .evidence(format!(
                    "{}: sha256 {actual}, the lock says {}",
                    path.display(),
                    f.sha256
                ))
                .fix(format!(
                    "delete {} (gwlab fetches and checks it again)",
                    path.display()
                )),
            );
        }
    }
    (out, checks, network)
}
