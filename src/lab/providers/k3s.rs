//! k3s in Docker: one privileged k3s server container on a labelled network,
//! its API published on 127.0.0.1, host ports mapped to the proxy's NodePorts.

use std::time::{Duration, Instant};

use bollard::Docker;

use super::{LabSpec, Provider, Provisioned, network_name};
use crate::kong::{HTTP_NODE_PORT, HTTPS_NODE_PORT};
use crate::lab::docker::{self, ContainerSpec};
use crate::lab::state::{lab_kubeconfig, write_private};
use crate::lab::{LAB_LABEL, LabError, MANAGED_BY};

const API_PORT: u16 = 6443;
const KUBECONFIG_IN_CONTAINER: &str = "/etc/rancher/k3s/k3s.yaml";
/// Where k3s imports image archives from at start (its air-gap directory).
const AIRGAP_IMAGES: &str = "/var/lib/rancher/k3s/agent/images";

pub struct K3s {
    pub docker: Docker,
    pub image: String,
    /// How long to wait for k3s to write its kubeconfig.
    pub start_timeout: Duration,
}

pub(crate) fn container_name(lab: &str) -> String {
    format!("gwlab-{lab}-server")
}

/// The archives k3s imports at start, each mounted (read-only) as a file of
/// its images directory: the lab's image archives `gwlab pull` saved, and the
/// release's air-gap bundle when it is cached. Files, not the directory:
/// Docker cannot create a file's mount point inside a read-only directory mount.
pub(crate) fn airgap_binds(lab: &LabSpec) -> Vec<String> {
    let mut archives: Vec<std::path::PathBuf> = std::fs::read_dir(&lab.images_dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "tar"))
                .collect()
        })
        .unwrap_or_default();
    archives.sort();
    archives.extend(lab.k3s_bundle.iter().cloned());
    archives
        .iter()
        .filter_map(|p| {
            let name = p.file_name()?.to_string_lossy().into_owned();
            Some(format!("{}:{AIRGAP_IMAGES}/{name}:ro", p.display()))
        })
        .collect()
}

/// The server container, as k3d runs it.
pub(crate) fn server_spec(
    image: &str,
    lab: &LabSpec,
    api_port: u16,
    http_port: u16,
    https_port: u16,
) -> ContainerSpec {
    let binds = airgap_binds(lab);
    ContainerSpec {
        name: container_name(&lab.name),
        image: image.into(),
        cmd: vec![
            "server".into(),
            "--disable=traefik".into(),
            "--disable=servicelb".into(),
            "--tls-san=127.0.0.1".into(),
        ],
        env: vec![],
        network: network_name(&lab.name),
        privileged: true,
        tmpfs: vec!["/run".into(), "/var/run".into()],
        binds,
        ports: vec![
            (API_PORT, api_port),
            (HTTP_NODE_PORT, http_port),
            (HTTPS_NODE_PORT, https_port),
        ],
    }
}

impl Provider for K3s {
    async fn provision(&self, lab: &LabSpec) -> Result<Provisioned, LabError> {
        let name = container_name(&lab.name);
        let existing = docker::container(&self.docker, &name).await?;
        // Checked before anything is created, so a missing image leaves
        // nothing behind. A lab's existing container needs no image pulled.
        if existing.is_none() && !docker::image_present(&self.docker, &self.image).await? {
            return Err(LabError::Refused(format!(
                "the image {} is not on this Docker engine; run `gwlab pull` where there is network access (it pulls every image of the lab), then `gwlab up` again",
                self.image
            )));
        }
        let network = network_name(&lab.name);
        docker::ensure_network(&self.docker, &network, &lab.name).await?;
        let state = match existing {
            Some(c) => {
                let ours = c.labels.get(MANAGED_BY.0).map(String::as_str) == Some(MANAGED_BY.1)
                    && c.labels.get(LAB_LABEL) == Some(&lab.name);
                if !ours {
                    return Err(LabError::Refused(format!(
                        "a container named {name} exists and was not created by gwlab; remove it or choose another --name"
                    )));
                }
                if !c.running {
                    self.docker
                        .start_container(&name, None)
                        .await
                        .map_err(LabError::docker(format!("cannot start {name}")))?;
                }
                c
            }
            None => {
                let spec = server_spec(
                    &self.image,
                    lab,
                    docker::free_port()?,
                    docker::port_or_free(lab.http_port)?,
                    docker::port_or_free(lab.https_port)?,
                );
                docker::run(&self.docker, &spec, &lab.name).await?;
                docker::container(&self.docker, &name)
                    .await?
                    .ok_or_else(|| LabError::Refused(format!("{name} vanished after start")))?
            }
        };
        let host_port = |c: u16| state.ports.iter().find(|(cp, _)| *cp == c).map(|(_, h)| *h);
        let api_port = host_port(API_PORT).ok_or_else(|| {
            LabError::Refused(format!("{name} does not publish the API port {API_PORT}"))
        })?;
        let raw = self.wait_for_kubeconfig(&name).await?;
        let api = format!("https://127.0.0.1:{api_port}");
        let kubeconfig = lab.state_dir.join("kubeconfig");
        write_private(
            &kubeconfig,
            lab_kubeconfig(&raw, &api, &lab.name)?.as_bytes(),
        )?;
        Ok(Provisioned {
            kubeconfig,
            context: Some(format!("gwlab-{}", lab.name)),
            api,
            network: Some(network),
            http_port: host_port(HTTP_NODE_PORT),
            https_port: host_port(HTTPS_NODE_PORT),
            node_image: Some(state.image.clone()),
        })
    }

    async fn delete(&self, lab: &LabSpec) -> Result<Vec<String>, LabError> {
        docker::remove_lab(&self.docker, &lab.name).await
    }
}

impl K3s {
    /// k3s writes its kubeconfig once the API server has its certificates.
    async fn wait_for_kubeconfig(&self, container: &str) -> Result<String, LabError> {
        let start = Instant::now();
        let mut pause = Duration::from_millis(200);
        loop {
            match docker::exec_output(&self.docker, container, &["cat", KUBECONFIG_IN_CONTAINER])
                .await
            {
                Ok(text) if text.contains("server:") => return Ok(text),
                Ok(_) | Err(_) if start.elapsed() < self.start_timeout => {}
                Ok(_) | Err(_) => {
                    return Err(LabError::Timeout {
                        what: format!("k3s's kubeconfig {KUBECONFIG_IN_CONTAINER}"),
                        secs: self.start_timeout.as_secs(),
                        last: format!("not written yet; see `docker logs {container}`"),
                    });
                }
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_secs(2));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lab(images_dir: &std::path::Path, bundle: Option<std::path::PathBuf>) -> LabSpec {
        LabSpec {
            name: "t".into(),
            state_dir: images_dir.join("state"),
            http_port: 0,
            https_port: 0,
            images_dir: images_dir.to_path_buf(),
            k3s_bundle: bundle,
        }
    }

    #[test]
    fn a_cached_bundle_is_mounted_read_only_where_k3s_imports_images() {
        let dir = tempfile::tempdir().unwrap();
        let images = dir.path().join("images");
        std::fs::create_dir_all(&images).unwrap();
        std::fs::write(images.join("kong.tar"), b"x").unwrap();
        std::fs::write(images.join("notes.txt"), b"x").unwrap();
        let bundle = dir.path().join("k3s-airgap-images-amd64.tar.zst");
        std::fs::write(&bundle, b"x").unwrap();

        let spec = server_spec(
            "rancher/k3s:v1",
            &lab(&images, Some(bundle.clone())),
            1,
            2,
            3,
        );
        assert_eq!(
            spec.binds,
            vec![
                format!(
                    "{}:/var/lib/rancher/k3s/agent/images/kong.tar:ro",
                    images.join("kong.tar").display()
                ),
                format!(
                    "{}:/var/lib/rancher/k3s/agent/images/k3s-airgap-images-amd64.tar.zst:ro",
                    bundle.display()
                ),
            ]
        );

        let without = server_spec("rancher/k3s:v1", &lab(&images, None), 1, 2, 3);
        assert_eq!(without.binds.len(), 1, "{:?}", without.binds);
        assert!(!without.binds[0].contains("airgap"));
        let nothing = server_spec(
            "rancher/k3s:v1",
            &lab(&dir.path().join("none"), None),
            1,
            2,
            3,
        );
        assert!(nothing.binds.is_empty());
    }
}
