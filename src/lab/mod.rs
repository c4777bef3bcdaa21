//! The lab stack: a local cluster (k3s in Docker, kind, or an existing
//! kubeconfig), the pinned upstream files, and the addons (Gateway API CRDs,
//! MetalLB, Kong).

pub mod addons;
pub mod airgap;
pub mod apply;
pub mod cache;
pub mod certs;
pub mod client;
pub mod docker;
pub(crate) mod images;
pub mod lock;
pub mod metallb;
pub mod providers;
pub mod pulled;
pub(crate) mod reach;
pub mod registry;
pub mod state;
pub(crate) mod steps;
pub(crate) mod upgrade;
pub mod wait;

/// The label every object gwlab creates carries.
pub(crate) const MANAGED_BY: (&str, &str) = ("app.kubernetes.io/managed-by", "gwlab");
/// The label naming the lab an object belongs to (`--name`).
pub(crate) const LAB_LABEL: &str = "gwlab.dev/lab";

/// What can go wrong while making, reading or removing a lab. Callers act on
/// the variant (a timeout, a webhook not serving yet, an object that is not
/// gwlab's), never on the text.
#[derive(Debug, thiserror::Error)]
pub enum LabError {
    /// A Docker engine call failed.
    #[error("{context}: {source}")]
    Docker {
        context: String,
        #[source]
        source: Box<bollard::errors::Error>,
    },
    /// A Kubernetes API call failed.
    #[error(transparent)]
    Kube(#[from] crate::kube_api::ApiError),
    /// A file or process could not be read, written or run.
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    /// A kubeconfig could not be read or used.
    #[error("{context}: {source}")]
    Kubeconfig {
        context: String,
        #[source]
        source: Box<kube::config::KubeconfigError>,
    },
    /// Data gwlab reads or writes (lab state, certificates, kubeconfig
    /// text) that it cannot parse or produce.
    #[error("{context}: {source}")]
    Data {
        context: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error(transparent)]
    Cache(#[from] cache::CacheError),
    /// k3s's air-gap bundle could not be fetched, or changed in the cache.
    #[error(transparent)]
    Airgap(#[from] airgap::AirgapError),
    /// Something did not become ready in time; `last` is what it reported.
    #[error("{what} not ready after {secs}s: {last}")]
    Timeout {
        what: String,
        secs: u64,
        last: String,
    },
    /// A server never answered within the time given.
    #[error(
        "{what} does not answer after {secs}s: {}",
        crate::kube_api::sentence(source)
    )]
    NoAnswer {
        what: String,
        secs: u64,
        #[source]
        source: Box<kube::Error>,
    },
    /// A watch failed while gwlab waited.
    #[error("watching {what}: {source}")]
    Watch {
        what: String,
        #[source]
        source: Box<kube::runtime::wait::Error>,
    },
    /// MetalLB's admission webhook refused a call because it is not serving yet.
    #[error(
        "MetalLB's webhook is not serving yet: {}",
        crate::kube_api::sentence(source)
    )]
    WebhookNotReady {
        #[source]
        source: Box<kube::Error>,
    },
    /// Objects `up` would write exist and belong to someone else; nothing was
    /// written.
    #[error("{} that gwlab would write already {} and {} not created by gwlab for this lab; nothing was changed:\n  {}\nwhat to do: remove the other installation, or use another cluster; or re-run with --adopt to take these objects over knowingly (gwlab then changes them to its own manifests)", crate::diag::counted(objects.len(), "object"), if objects.len() == 1 { "exists" } else { "exist" }, if objects.len() == 1 { "was" } else { "were" }, objects.iter().map(|f| f.to_string()).collect::<Vec<_>>().join("\n  "))]
    NotOurs { objects: Vec<apply::Foreign> },
    /// gwlab found something it must not change or cannot use; the message
    /// says what and what to do.
    #[error("{0}")]
    Refused(String),
}

impl LabError {
    pub fn docker(context: impl Into<String>) -> impl FnOnce(bollard::errors::Error) -> LabError {
        let context = context.into();
        move |source| LabError::Docker {
            context,
            source: Box::new(source),
        }
    }

    pub fn kube(context: impl Into<String>) -> impl FnOnce(kube::Error) -> LabError {
        let context = context.into();
        move |source| LabError::Kube(crate::kube_api::ApiError::doing(context)(source))
    }

    pub fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> LabError {
        let context = context.into();
        move |source| LabError::Io { context, source }
    }

    pub fn data<E: std::error::Error + Send + Sync + 'static>(
        context: impl Into<String>,
    ) -> impl FnOnce(E) -> LabError {
        let context = context.into();
        move |source| LabError::Data {
            context,
            source: Box::new(source),
        }
    }

    pub fn kubeconfig(
        context: impl Into<String>,
    ) -> impl FnOnce(kube::config::KubeconfigError) -> LabError {
        let context = context.into();
        move |source| LabError::Kubeconfig {
            context,
            source: Box::new(source),
        }
    }
}
