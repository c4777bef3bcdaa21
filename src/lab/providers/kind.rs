//! kind: the `kind` binary creates the cluster from a generated config whose
//! extraPortMappings map host ports to the proxy's NodePorts.

use std::path::PathBuf;

use tokio::process::Command;

use super::{LabSpec, Provider, Provisioned};
use crate::kong::{HTTP_NODE_PORT, HTTPS_NODE_PORT};
use crate::lab::LabError;
use crate::lab::docker::port_or_free;

/// The kind release that built the lab's node image: kind supports a node
/// image with the release that built it (kubernetes-sigs/kind@v0.32.0
/// `site/content/docs/design/node-image.md`).
pub(crate) const KIND_VERSION: &str = "v0.32.0";

/// The addons' images are not loaded into the node: `kind load` imports a
/// `docker save` archive, under which an image is not found by its registry
/// digest (kind#2394), and the lab's pods name their images by digest. The
/// node pulls each by digest instead, which containerd verifies.
pub struct Kind {
    /// The `kind` binary (found on PATH by default).
    pub binary: PathBuf,
    /// `kindest/node:...@sha256:...`, from the lock.
    pub node_image: String,
}

pub(crate) fn cluster_name(lab: &str) -> String {
    format!("gwlab-{lab}")
}

/// The kind cluster configuration gwlab uses.
pub fn config(lab: &str, node_image: &str, http_port: u16, https_port: u16) -> String {
    format!(
        "kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
name: {name}
networking:
  apiServerAddress: 127.0.0.1
nodes:
  - role: control-plane
    image: {node_image}
    labels:
      gwlab.dev/lab: {lab}
    extraPortMappings:
      - {{containerPort: {HTTP_NODE_PORT}, hostPort: {http_port}, listenAddress: 127.0.0.1, protocol: TCP}}
      - {{containerPort: {HTTPS_NODE_PORT}, hostPort: {https_port}, listenAddress: 127.0.0.1, protocol: TCP}}
",
        name = cluster_name(lab)
    )
}

impl Kind {
    /// `kind ARGS`, with `stdin` written to it, awaited without blocking
    /// the runtime's threads; its standard output.
    async fn run(&self, args: &[&str], stdin: Option<&str>) -> Result<String, LabError> {
        use tokio::io::AsyncWriteExt;
        let mut cmd = Command::new(&self.binary);
        cmd.args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = cmd.spawn().map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                LabError::Refused(format!(
                    "the `kind` binary was not found ({}); install kind {KIND_VERSION} (https://kind.sigs.k8s.io/docs/user/quick-start/#installation, e.g. `go install sigs.k8s.io/kind@{KIND_VERSION}`), or use the default provider: `gwlab up --provider k3s`",
                    self.binary.display()
                ))
            } else {
                LabError::io(format!("cannot run {}", self.binary.display()))(e)
            }
        })?;
        if let Some(input) = stdin {
            child
                .stdin
                .take()
                .expect("piped stdin")
                .write_all(input.as_bytes())
                .await
                .map_err(LabError::io("cannot write to kind's standard input"))?;
        }
        drop(child.stdin.take());
        let out = child
            .wait_with_output()
            .await
            .map_err(LabError::io(format!(
                "cannot run {}",
                self.binary.display()
            )))?;
        if !out.status.success() {
            return Err(LabError::Refused(format!(
                "`kind {}` failed: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    async fn exists(&self, lab: &str) -> Result<bool, LabError> {
        Ok(self
            .run(&["get", "clusters"], None)
            .await?
            .lines()
            .any(|l| l.trim() == cluster_name(lab)))
    }
}

impl Provider for Kind {
    async fn provision(&self, lab: &LabSpec) -> Result<Provisioned, LabError> {
        let kubeconfig = lab.state_dir.join("kubeconfig");
        std::fs::create_dir_all(&lab.state_dir)
            .map_err(LabError::io(lab.state_dir.display().to_string()))?;
        let name = cluster_name(&lab.name);
        let kc = kubeconfig.display().to_string();
        if !self.exists(&lab.name).await? {
            let http = port_or_free(lab.http_port)?;
            let https = port_or_free(lab.https_port)?;
            self.run(
                &[
                    "create",
                    "cluster",
                    "--name",
                    &name,
                    "--kubeconfig",
                    &kc,
                    "--config",
                    "-",
                ],
                Some(&config(&lab.name, &self.node_image, http, https)),
            )
            .await?;
        } else {
            let text = self
                .run(&["get", "kubeconfig", "--name", &name], None)
                .await?;
            crate::lab::state::write_private(&kubeconfig, text.as_bytes())?;
        }
        // The mapped ports and the image, read back from the node as kind created it.
        let docker = crate::lab::docker::connect().await?;
        let node = crate::lab::docker::container(&docker, &format!("{name}-control-plane")).await?;
        let mapped = |node_port: u16| {
            node.as_ref()?
                .ports
                .iter()
                .find(|(c, _)| *c == node_port)
                .map(|(_, h)| *h)
        };
        let text = std::fs::read_to_string(&kubeconfig).unwrap_or_default();
        let api = crate::lab::state::server_of(&text, None).unwrap_or_default();
        Ok(Provisioned {
            kubeconfig,
            context: Some(format!("kind-{name}")),
            api,
            network: Some("kind".into()),
            http_port: mapped(HTTP_NODE_PORT),
            https_port: mapped(HTTPS_NODE_PORT),
            node_image: node.as_ref().map(|n| n.image.clone()),
        })
    }

    async fn delete(&self, lab: &LabSpec) -> Result<Vec<String>, LabError> {
        if !self.exists(&lab.name).await? {
            return Ok(vec![]);
        }
        let name = cluster_name(&lab.name);
        self.run(&["delete", "cluster", "--name", &name], None)
            .await?;
        Ok(vec![format!("kind cluster {name}")])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_maps_host_ports_to_the_proxy_node_ports() {
        let c = config("lab1", "kindest/node:v1.32.11@sha256:abc", 8080, 8443);
        assert!(c.contains("name: gwlab-lab1"));
        assert!(c.contains("image: kindest/node:v1.32.11@sha256:abc"));
        assert!(c.contains(
            "{containerPort: 30080, hostPort: 8080, listenAddress: 127.0.0.1, protocol: TCP}"
        ));
        assert!(c.contains(
            "{containerPort: 30443, hostPort: 8443, listenAddress: 127.0.0.1, protocol: TCP}"
        ));
    }

    #[tokio::test]
    async fn a_missing_kind_binary_says_how_to_get_it() {
        let k = Kind {
            binary: PathBuf::from("/nonexistent/kind"),
            node_image: "x".into(),
        };
        let lab = LabSpec {
            name: "t".into(),
            state_dir: std::env::temp_dir().join("gwlab-kind-test"),
            http_port: 0,
            https_port: 0,
            images_dir: PathBuf::new(),
            k3s_bundle: None,
        };
        let err = k.provision(&lab).await.unwrap_err().to_string();
        assert!(err.contains("install kind v0.32.0"), "{err}");
        assert!(err.contains("--provider k3s"), "{err}");
    }
}
