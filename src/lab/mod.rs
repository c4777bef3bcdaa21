//! The lab stack: a local cluster (k3s in Docker, kind, or an existing
//! kubeconfig), the pinned upstream files, and the addons (Gateway API CRDs,
//! MetalLB, Kong).

pub mod addons;
pub mod apply;
pub mod cache;
pub mod certs;
pub mod client;
pub mod docker;
pub mod lock;
pub mod metallb;
pub mod providers;
pub mod state;
pub mod steps;
pub mod wait;

/// The label every object gwlab creates carries.
pub const MANAGED_BY: (&str, &str) = ("app.kubernetes.io/managed-by", "gwlab");
/// The label naming the lab an object belongs to (`--name`).
pub const LAB_LABEL: &str = "gwlab.dev/lab";

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("{0}")]
    Docker(String),
    #[error("{0}")]
    Provider(String),
    #[error(transparent)]
    Cache(#[from] cache::CacheError),
    #[error("{0}")]
    Kube(String),
}
