//! Where the lab cluster comes from. One small interface, a module per
//! provider: `k3s` (a k3s server in Docker, the default: needs only a Docker
//! engine), `kind` (the `kind` binary), `existing` (any kubeconfig context).

pub(crate) mod existing;
pub mod k3s;
pub(crate) mod kind;

use std::path::PathBuf;
use std::time::Duration;

use super::LabError;

/// Which provider a lab uses; recorded in the lab's state.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    /// k3s in Docker (needs only a Docker engine).
    K3s,
    /// kind (needs the `kind` binary).
    Kind,
    /// An existing cluster from a kubeconfig context.
    Existing,
}

impl ProviderKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderKind::K3s => "k3s",
            ProviderKind::Kind => "kind",
            ProviderKind::Existing => "existing",
        }
    }

    /// Whether MetalLB is among the default addons: on the clusters gwlab
    /// makes, so that the Gateway gets an address; never on an existing
    /// cluster, whose load balancer is its owner's.
    pub fn metallb_by_default(self) -> bool {
        self != ProviderKind::Existing
    }

    /// The lock's name of the node image the provider runs.
    pub fn node_image(self) -> Option<&'static str> {
        match self {
            ProviderKind::K3s => Some("k3s"),
            ProviderKind::Kind => Some("kind-node"),
            ProviderKind::Existing => None,
        }
    }
}

impl std::fmt::Display for ProviderKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The provider of a lab, chosen in one place for `up` and `down`.
pub(crate) enum LabProvider {
    K3s(k3s::K3s),
    Kind(kind::Kind),
    Existing(existing::Existing),
}

/// What choosing a provider needs to know.
pub(crate) struct Choice {
    pub kind: ProviderKind,
    /// The node image as the provider runs it: by digest where one is known
    /// (`repository@sha256:…` for the Docker engine, `repository:tag@sha256:…`
    /// for kind).
    pub node_image: String,
    /// `--kubeconfig` / `--context` (the existing provider).
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
    pub start_timeout: Duration,
}

impl LabProvider {
    pub(crate) async fn choose(c: Choice) -> Result<LabProvider, LabError> {
        let image = c.node_image;
        Ok(match c.kind {
            ProviderKind::K3s => LabProvider::K3s(k3s::K3s {
                docker: super::docker::connect().await?,
                image,
                start_timeout: c.start_timeout,
            }),
            ProviderKind::Kind => LabProvider::Kind(kind::Kind {
                binary: "kind".into(),
                node_image: image,
            }),
            ProviderKind::Existing => LabProvider::Existing(existing::Existing {
                kubeconfig: existing::default_kubeconfig(c.kubeconfig),
                context: c.context,
            }),
        })
    }

    pub async fn provision(&self, lab: &LabSpec) -> Result<Provisioned, LabError> {
        match self {
            LabProvider::K3s(p) => p.provision(lab).await,
            LabProvider::Kind(p) => p.provision(lab).await,
            LabProvider::Existing(p) => p.provision(lab).await,
        }
    }

    pub async fn delete(&self, lab: &LabSpec) -> Result<Vec<String>, LabError> {
        match self {
            LabProvider::K3s(p) => p.delete(lab).await,
            LabProvider::Kind(p) => p.delete(lab).await,
            LabProvider::Existing(p) => p.delete(lab).await,
        }
    }
}

/// A lab as the user asked for it.
#[derive(Debug, Clone)]
pub struct LabSpec {
    pub name: String,
    pub state_dir: PathBuf,
    /// Host ports for the proxy's 80 and 443 (0: any free port).
    pub http_port: u16,
    pub https_port: u16,
    /// Where `gwlab pull` saved image archives for an offline start.
    pub images_dir: PathBuf,
    /// k3s's own images (its release's air-gap bundle), verified in the
    /// cache; none when `gwlab pull` has not fetched it.
    pub k3s_bundle: Option<PathBuf>,
}

/// A cluster whose API server answers, short of any addon.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Provisioned {
    pub kubeconfig: PathBuf,
    pub context: Option<String>,
    /// The API server as the kubeconfig names it.
    pub api: String,
    /// The Docker network of the nodes, for the MetalLB pool.
    pub network: Option<String>,
    /// Host ports mapped to the Kong proxy's NodePorts for 80 and 443.
    pub http_port: Option<u16>,
    pub https_port: Option<u16>,
    /// The image the node runs (k3s, kind), as its container was created:
    /// a cluster made with older pins keeps its Kubernetes until recreated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_image: Option<String>,
}

// Static dispatch within this crate.
#[allow(async_fn_in_trait)]
pub trait Provider {
    /// Creates (or, re-run, reuses) the cluster's nodes and writes the lab's
    /// kubeconfig; returns once the API server's address is known, just short
    /// of installing anything in the cluster.
    async fn provision(&self, lab: &LabSpec) -> Result<Provisioned, LabError>;

    /// Deletes what this provider created for the lab (partial state
    /// included) and nothing else; returns what was deleted.
    async fn delete(&self, lab: &LabSpec) -> Result<Vec<String>, LabError>;
}

/// The name of a lab's Docker network: `gwlab` for the default lab.
pub(crate) fn network_name(lab: &str) -> String {
    if lab == "gwlab" {
        "gwlab".into()
    } else {
        format!("gwlab-{lab}")
    }
}
