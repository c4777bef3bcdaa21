//! The machine's side: the Docker engine (and which kind: Docker Desktop and
//! Podman change networking), the `kind` binary, the lock's images, host
//! ports, and the download cache against its sums.

use bollard::Docker;

use super::{Finding, Layer};
use crate::lab::LabError;
use crate::lab::airgap::{AirgapError, Bundle};
use crate::lab::cache::Cache;
use crate::lab::docker::{self, NetworkInfo};
use crate::lab::images::{self, named};
use crate::lab::lock::Lock;
use crate::lab::providers::kind::KIND_VERSION;
use crate::lab::pulled::{Kept, PullRecord};
use crate::lab::state::LabState;

pub struct Inputs<'a> {
    /// `k3s`, `kind` or `existing`: which images and binaries matter.
    pub provider: &'a str,
    pub lab: Option<&'a LabState>,
    pub cache: &'a Cache,
    pub lock: &'a Lock,
    /// What `gwlab pull` recorded.
    pub pulled: &'a PullRecord,
}

/// Checks the machine; returns findings, the checks that ran, and the lab's
/// Docker network when there is one (for the MetalLB pool check).
pub async fn check(i: &Inputs<'_>) -> (Vec<Finding>, Vec<String>, Option<NetworkInfo>) {
    let mut out = Vec::new();
    let mut checks = Vec::new();
    let mut network = None;
    match docker::connect().await {
        Err(e) => {
            if needs_docker(i) {
                out.push(Finding::new("docker-unreachable", Layer::Machine, "the Docker engine does not answer").evidence(e.to_string()).fix("start Docker (or set DOCKER_HOST to where it listens), then run `gwlab doctor` again"));
            }
        }
        Ok(d) => network = check_docker(i, &d, &mut out, &mut checks).await,
    }
    if i.provider == "kind" {
        checks.push("kind binary".into());
        out.extend(kind_binary().await);
    }
    checks.push(format!(
        "download cache {} against the lock's sums",
        i.cache.dir.display()
    ));
    out.extend(cache(i));
    if i.provider == "k3s"
        && let Ok(bundle) = Bundle::for_host(i.lock)
    {
        checks.push(format!("k3s air-gap bundle {}", bundle.file_name()));
        out.extend(airgap(&bundle, &i.cache.dir));
    }
    (out, checks, network)
}

/// Every provider but `existing` runs the cluster on Docker.
fn needs_docker(i: &Inputs<'_>) -> bool {
    i.provider != "existing"
}

/// The engine's kind, the lock's images, and the lab's network and host ports.
async fn check_docker(
    i: &Inputs<'_>,
    d: &Docker,
    out: &mut Vec<Finding>,
    checks: &mut Vec<String>,
) -> Option<NetworkInfo> {
    checks.push(engine(d).await);
    if needs_docker(i) {
        let images = lock_images(i, d).await;
        // Say what was found, so the check agrees with the findings below it.
        checks.push(format!(
            "the lab's images pulled for an offline start: {} of {} present",
            images.present, images.wanted
        ));
        out.extend(images_missing(i.provider, images.wanted, &images.missing));
        out.extend(images_unchecked(&images.unchecked));
    }
    let lab = i.lab?;
    let network = match &lab.cluster.network {
        Some(name) => docker::network(d, name).await.ok().flatten(),
        None => None,
    };
    host_ports(lab, d, out, checks).await;
    network
}

/// "Docker reachable", with the engine's kind: Docker Desktop and Podman change networking.
async fn engine(d: &Docker) -> String {
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
    format!(
        "Docker reachable: {kind_of} {}",
        version.and_then(|v| v.version).unwrap_or_default()
    )
}

/// The lock's images the provider needs, as the engine answered for each.
struct Images {
    wanted: usize,
    present: usize,
    missing: Vec<String>,
    /// Images the engine could not be asked about: neither present nor missing.
    unchecked: Vec<(String, LabError)>,
}

/// The node image on the Docker engine (by the digest its container is
/// made from), and for k3s the addons' archives `gwlab pull` wrote for the
/// lock's current tags. kind's node pulls the addons' images itself.
async fn lock_images(i: &Inputs<'_>, d: &Docker) -> Images {
    let resolved = images::resolve(i.lock, i.pulled);
    let mut images = Images {
        wanted: 0,
        present: 0,
        missing: Vec::new(),
        unchecked: Vec::new(),
    };
    let node = match i.provider {
        "k3s" => Some("k3s"),
        "kind" => Some("kind-node"),
        _ => None,
    };
    if let Some(node) = node {
        let reference = named(&resolved, node).by_digest();
        images.wanted += 1;
        match docker::image_present(d, &reference).await {
            Ok(true) => images.present += 1,
            Ok(false) => images.missing.push(reference),
            Err(e) => images.unchecked.push((reference, e)),
        }
    }
    if i.provider == "k3s" {
        for img in i
            .lock
            .images
            .iter()
            .filter(|x| !x.addon.starts_with("provider-"))
        {
            images.wanted += 1;
            let archived = i
                .pulled
                .get(&img.name, &img.image)
                .filter(|p| p.kept == Kept::Archive)
                .filter(|p| img.digest.as_ref().is_none_or(|d| *d == p.digest))
                .and_then(|p| p.archive.as_ref())
                .is_some_and(|a| a.is_file());
            if archived {
                images.present += 1;
            } else {
                images.missing.push(named(&resolved, &img.name).reference());
            }
        }
    }
    images
}

/// Images whose lookup failed: said as such, never counted as missing.
fn images_unchecked(unchecked: &[(String, LabError)]) -> Option<Finding> {
    if unchecked.is_empty() {
        return None;
    }
    let mut f = Finding::new(
        "images-unchecked",
        Layer::Machine,
        format!(
            "the Docker engine did not say whether {} of the lab's images are present",
            unchecked.len()
        ),
    );
    for (image, e) in unchecked {
        f = f.evidence(format!("{image}: {e}"));
    }
    Some(f.fix("check that Docker answers (`docker image ls`), then run `gwlab doctor` again"))
}

fn images_missing(provider: &str, wanted: usize, missing: &[String]) -> Option<Finding> {
    if missing.is_empty() {
        return None;
    }
    let mut f = Finding::new(
        "images-missing",
        Layer::Machine,
        format!(
            "{} of the lab's {wanted} images are not pulled for an offline start (the node image on the Docker engine{})",
            missing.len(),
            if provider == "k3s" {
                ", the addons' as archives k3s imports"
            } else {
                ""
            }
        ),
    );
    for m in missing {
        f = f.evidence(format!("missing: {m}"));
    }
    Some(f.fix("with network access, `gwlab pull` fetches them (and the pinned files) so that `gwlab up` works offline"))
}

/// The lab's host ports: free, or held by the lab's own running container.
async fn host_ports(lab: &LabState, d: &Docker, out: &mut Vec<Finding>, checks: &mut Vec<String>) {
    let container = format!("gwlab-{}-server", lab.name);
    // A failed lookup leaves it open whether the lab's own container holds
    // the port: then a taken port is reported with that doubt, not as a fact.
    let running = docker::container(d, &container)
        .await
        .map(|c| c.is_some_and(|c| c.running));
    for port in [lab.cluster.http_port, lab.cluster.https_port]
        .into_iter()
        .flatten()
    {
        checks.push(format!("host port {port} for the Gateway"));
        if matches!(running, Ok(true)) || std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            continue;
        }
        let (problem, evidence) = match &running {
            Err(e) => (
                format!("host port {port}, which the lab maps to the Gateway, cannot be bound"),
                format!(
                    "127.0.0.1:{port} cannot be bound, and whether the lab's container {container} holds it is unknown: {e}"
                ),
            ),
            Ok(_) => (
                format!(
                    "host port {port}, which the lab maps to the Gateway, is taken by another program"
                ),
                format!(
                    "127.0.0.1:{port} cannot be bound and the lab's container {container} is not running"
                ),
            ),
        };
        out.push(Finding::new("host-port-taken", Layer::Machine, problem).evidence(evidence).fix(format!("stop what listens on {port}, or recreate the lab with other ports: `gwlab down --name {0}` then `gwlab up --name {0} --http-port P --https-port P`", lab.name)));
    }
}

async fn kind_binary() -> Option<Finding> {
    let found = tokio::process::Command::new("kind")
        .arg("version")
        .output()
        .await;
    if found.as_ref().is_ok_and(|o| o.status.success()) {
        return None;
    }
    Some(Finding::new("kind-missing", Layer::Machine, "the `kind` binary is not on PATH").evidence(match found {
        Err(e) => e.to_string(),
        Ok(o) => String::from_utf8_lossy(&o.stderr).trim().to_string(),
    }).fix(format!("install kind {KIND_VERSION}, the release that built the lab's node image (https://kind.sigs.k8s.io/docs/user/quick-start/#installation), or use the default provider: `gwlab up --provider k3s`")))
}

/// Cached files that do not match the lock's sums.
fn cache(i: &Inputs<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    for f in &i.lock.files {
        let path = i.cache.path(f);
        if !path.exists() || i.cache.verify(f).unwrap_or(false) {
            continue;
        }
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
    out
}

/// k3s's air-gap bundle changed since `gwlab pull` verified it: `gwlab up`
/// refuses it. A bundle never fetched is no finding: k3s then pulls.
fn airgap(bundle: &Bundle, cache_dir: &std::path::Path) -> Option<Finding> {
    match bundle.verified(cache_dir) {
        Ok(_) => None,
        Err(e @ AirgapError::Tampered { .. }) => Some(
            Finding::new(
                "cache-corrupt",
                Layer::Machine,
                format!(
                    "the cached {} does not match the sum `gwlab pull` verified",
                    bundle.file_name()
                ),
            )
            .evidence(e.to_string())
            .fix("run `gwlab pull` where there is network access (it fetches and checks the bundle again)"),
        ),
        Err(e) => Some(
            Finding::new(
                "cache-unreadable",
                Layer::Machine,
                format!("the cached {} cannot be read", bundle.file_name()),
            )
            .evidence(e.to_string())
            .fix(format!(
                "check the permissions of {}",
                bundle.path(cache_dir).display()
            )),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_image_the_engine_cannot_be_asked_about_is_unchecked_not_missing() {
        // An engine that does not answer: every lookup fails.
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("no-engine.sock");
        // The socket file stays, with no one listening: connections are refused.
        drop(std::os::unix::net::UnixListener::bind(&socket).unwrap());
        let d =
            Docker::connect_with_unix(socket.to_str().unwrap(), 5, bollard::API_DEFAULT_VERSION)
                .unwrap();
        let (lock, cache) = (Lock::builtin(), Cache::new(dir.path().into(), None));
        let pulled = PullRecord::default();
        let i = Inputs {
            provider: "kind",
            lab: None,
            cache: &cache,
            lock: &lock,
            pulled: &pulled,
        };
        let images = lock_images(&i, &d).await;
        assert_eq!(images.wanted, 1, "kind: the node image alone");
        assert_eq!((images.present, images.missing.len()), (0, 0));
        assert_eq!(images.unchecked.len(), images.wanted);
        assert!(images_missing("kind", images.wanted, &images.missing).is_none());
        let f = images_unchecked(&images.unchecked).expect("a finding");
        assert_eq!(f.id, "images-unchecked");
        assert!(f.evidence[0].contains("kindest/node"), "{:?}", f.evidence);
    }

    #[test]
    fn a_k3s_bundle_changed_since_pull_is_a_finding_naming_both_sums() {
        let dir = tempfile::tempdir().unwrap();
        let bundle = Bundle::for_image("rancher/k3s:v1.33.7-k3s3", "x86_64").unwrap();
        assert!(
            airgap(&bundle, dir.path()).is_none(),
            "never fetched: no finding"
        );
        let path = bundle.path(dir.path());
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, b"changed").unwrap();
        let verified = crate::lab::cache::sha256_hex(b"as pulled");
        std::fs::write(
            bundle.record(dir.path()),
            format!("{verified}  {}\n", bundle.file_name()),
        )
        .unwrap();
        let f = airgap(&bundle, dir.path()).expect("a finding");
        assert_eq!(f.id, "cache-corrupt");
        let evidence = f.evidence.join(" ");
        assert!(
            evidence.contains(&verified)
                && evidence.contains(&crate::lab::cache::sha256_hex(b"changed")),
            "{evidence}"
        );
        assert!(f.fix[0].contains("gwlab pull"));
        std::fs::write(&path, b"as pulled").unwrap();
        assert!(
            airgap(&bundle, dir.path()).is_none(),
            "verified: no finding"
        );
    }
}
