//! Where the lab cluster comes from. One small interface, a module per
//! provider: `k3s` (a k3s server in Docker, the default: needs only a Docker
//! engine), `kind` (the `kind` binary), `existing` (any kubeconfig context).

pub mod existing;
pub mod k3s;
pub mod kind;

use std::path::PathBuf;

use super::LabError;

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
}

/// What a provider is, in a few facts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProviderInfo {
    /// MetalLB is installed unless `--addons` says otherwise.
    pub metallb_by_default: bool,
}

// Static dispatch within this crate.
#[allow(async_fn_in_trait)]
pub trait Provider {
    fn name(&self) -> &'static str;

    fn info(&self) -> ProviderInfo;

    /// Creates (or, re-run, reuses) the cluster's nodes and writes the lab's
    /// kubeconfig; returns once the API server's address is known, just short
    /// of installing anything in the cluster.
    async fn provision(&self, lab: &LabSpec) -> Result<Provisioned, LabError>;

    /// Deletes what this provider created for the lab (partial state
    /// included) and nothing else; returns what was deleted.
    async fn delete(&self, lab: &LabSpec) -> Result<Vec<String>, LabError>;
}

/// The name of a lab's Docker network: `gwlab` for the default lab.
pub fn network_name(lab: &str) -> String {
    if lab == "gwlab" {
        "gwlab".into()
    } else {
        format!("gwlab-{lab}")
    }
}
