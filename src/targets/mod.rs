//! What the runner needs of a place to run scenarios: apply and delete objects,
//! wait on their status, and give the socket address behind a Gateway listener.
//! Targets never judge expectations; the runner does.

pub mod cluster;
pub mod embedded;

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::time::Duration;

use rustls::pki_types::CertificateDer;

use crate::manifest::Manifest;
use crate::model::status::ObjectStatus;
use crate::model::world::ObjKey;

/// What can go wrong on a target. Callers act on the variant (an object that
/// is not this run's, a missing Gateway, an interruption), never on the text.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    /// A Kubernetes API call failed.
    #[error(transparent)]
    Kube(#[from] crate::kube_api::ApiError),
    /// The API server does not serve a kind a manifest uses.
    #[error(
        "the cluster does not serve {api_version} {kind}: {}",
        crate::kube_api::sentence(source)
    )]
    NotServed {
        api_version: String,
        kind: String,
        #[source]
        source: Box<kube::Error>,
    },
    /// One manifest object could not be applied.
    #[error("{file}:{line}: cannot apply {object}: {source}")]
    Apply {
        file: String,
        line: u64,
        object: String,
        #[source]
        source: Box<TargetError>,
    },
    /// An object the run would write exists and is not the run's own.
    #[error(
        "{object} already exists and was not created by this run ({owner}); gwlab changes and deletes only what it created: remove or rename it, or run the scenario against another cluster"
    )]
    NotOurs { object: String, owner: String },
    /// An object the run would write was left by an earlier gwlab run.
    #[error(
        "{object} was left by an earlier gwlab run ({run}, labelled gwlab.dev/run={run}); gwlab changes and deletes only what this run created: `gwlab clean --run {run}` removes what that run left"
    )]
    EarlierRun { object: String, run: String },
    /// A socket could not be opened or a name not resolved.
    #[error("{what}: {source}")]
    Network {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{host} has no address")]
    NoAddress { host: String },
    #[error(transparent)]
    Lab(#[from] crate::lab::LabError),
    #[error("watching {what}: {source}")]
    Watch {
        what: String,
        #[source]
        source: Box<kube::runtime::wait::Error>,
    },
    #[error("{what} still exists {secs}s after its deletion (a finalizer?)")]
    DeleteTimeout { what: String, secs: u64 },
    /// The cluster's features cannot be known without the GatewayClass.
    #[error(
        "GatewayClass {0} does not exist on this cluster: gwlab cannot tell which Gateway API features it supports; create the lab with `gwlab up` (or `gwlab up --provider existing --addons crds,kong` on this cluster)"
    )]
    NoGatewayClass(String),
    #[error("Gateway {0} does not exist on this target")]
    NoGateway(String),
    /// A deletion not tried: the API server stopped answering during cleanup.
    #[error("not deleted: the API server stopped answering during cleanup")]
    NotTried,
    #[error("Gateway {gateway} has no programmed listener on port {port}")]
    NoListener { gateway: String, port: u16 },
}

impl TargetError {
    pub fn kube(what: impl Into<String>) -> impl FnOnce(kube::Error) -> TargetError {
        let doing = crate::kube_api::ApiError::doing(what);
        move |source| TargetError::Kube(doing(source))
    }

    /// Whether the API server or the network failed (after the retries of
    /// [`crate::kube_api::retrying`]), rather than the request itself.
    pub fn is_unreachable(&self) -> bool {
        matches!(self, TargetError::Kube(e) if crate::kube_api::is_transient(&e.source))
    }
}

pub use crate::model::GatewayRef;

/// A backend to deploy: an echo server behind a Service.
#[derive(Debug, Clone)]
pub struct EchoBackend {
    pub namespace: String,
    pub name: String,
    pub port: u16,
}

// Used with static dispatch only, inside this crate: no Send bound is needed.
#[allow(async_fn_in_trait)]
pub trait Target {
    /// `embedded` or `cluster`, for the first line of output and the reports.
    fn name(&self) -> &'static str;

    /// Gateway API feature names the implementation supports.
    async fn supported_features(&self) -> Result<BTreeSet<String>, TargetError>;

    /// Makes sure a namespace exists; returns whether this call created it.
    async fn ensure_namespace(
        &mut self,
        namespace: &str,
        run_id: &str,
    ) -> Result<bool, TargetError>;

    /// Before any write of a scenario or a step: refuses objects that exist
    /// and were not created by this run, so that nothing of someone else's is
    /// changed. Targets that hold only the run's own objects accept all.
    async fn preflight(
        &self,
        objects: &[Manifest],
        backends: &[EchoBackend],
    ) -> Result<(), TargetError> {
        let _ = (objects, backends);
        Ok(())
    }

    /// Deploys an echo backend and returns once it can answer.
    async fn deploy_backend(
        &mut self,
        backend: &EchoBackend,
        run_id: &str,
    ) -> Result<(), TargetError>;

    /// Marks the start of a batch of applies (a scenario's initial manifests,
    /// one step's files): objects created in one batch count as equally old,
    /// as they would within a second on a cluster.
    fn begin_batch(&mut self) {}

    /// Creates or updates one object (its namespace already resolved).
    async fn apply(&mut self, object: &Manifest, run_id: &str) -> Result<(), TargetError>;

    /// Deletes one object and returns once it is gone.
    async fn delete(&mut self, object: &Manifest) -> Result<(), TargetError>;

    /// Waits until `holds` accepts the object's status or `timeout` passes, and
    /// returns the last status seen (`None` if the object has none).
    async fn await_status(
        &self,
        key: &ObjKey,
        holds: &dyn Fn(&ObjectStatus) -> bool,
        timeout: Duration,
    ) -> Result<Option<ObjectStatus>, TargetError>;

    /// Where to connect for a Gateway listener port.
    async fn gateway_address(
        &self,
        gateway: &GatewayRef,
        port: u16,
    ) -> Result<SocketAddr, TargetError>;

    /// The CA that probes with `tls.verify: true` trust.
    fn trust_anchor(&self) -> Option<CertificateDer<'static>>;

    /// Deletes everything this target created for the scenario, newest first;
    /// a namespace it created goes as a whole, with what is in it. Returns
    /// once the deletions are issued (see [`Target::deletions_done`]), with
    /// what could not be deleted. Targets that vanish with their scenario (the
    /// embedded one) have nothing to delete.
    async fn clean_up(&mut self) -> Vec<Leftover> {
        Vec::new()
    }

    /// Whether deletions this target issued may still be in progress.
    fn deleting(&self) -> bool {
        false
    }

    /// Waits until the deletions this target issued (all, or only those of
    /// routes) have finished, at most `timeout`; returns what is still going
    /// away.
    /// The namespaces whose deletion this target issued and that are still
    /// there (looked at once, not waited for).
    async fn namespaces_finishing(&self) -> Vec<String> {
        Vec::new()
    }

    async fn deletions_done(&self, which: Awaiting, timeout: Duration) -> Vec<String> {
        let _ = (which, timeout);
        Vec::new()
    }

    /// What routes where now, for the report, with the objects of `home` (the
    /// scenario's namespace) named without it. Only targets that compile the
    /// routing themselves (the embedded one) can tell; others give `None`.
    fn route_map(&self, home: &str) -> Option<crate::route_map::RouteMap> {
        let _ = home;
        None
    }

    /// Whose semantics the target answers with, as far as gwlab models it:
    /// the embedded gateway's `--as`, a cluster's Kong by its version; the
    /// spec where gwlab cannot tell.
    fn implementation(&self) -> crate::implementations::Implementation {
        crate::implementations::Implementation::Spec
    }

    /// How the target routes one request (listener, candidates, outcome), for
    /// a failed probe's report; `None` where the routing is not the target's
    /// own to explain (a cluster's controller).
    fn explain(
        &self,
        gateway: &GatewayRef,
        port: u16,
        request: crate::model::request::RequestHead,
    ) -> Option<crate::explain::Explanation> {
        let _ = (gateway, port, request);
        None
    }

    /// After a failure, before cleanup: writes what explains it under `dir`
    /// and returns the few lines that tell the most. Targets whose state is
    /// all in the report already (the embedded one) have nothing to add.
    async fn diagnose(
        &self,
        objects: &[Manifest],
        namespaces: &[String],
        dir: &std::path::Path,
    ) -> Option<Diagnosis> {
        let _ = (objects, namespaces, dir);
        None
    }
}

/// Which of a finished scenario's deletions another one waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Awaiting {
    /// Its routes: the other one routes the same hostnames on a shared Gateway.
    Routes,
    /// Everything: the other one uses the same namespace.
    Everything,
    /// Everything but namespaces: the run ends. Its objects are gone (so
    /// nothing of it routes or runs); the namespaces it made, emptied, are
    /// the cluster's namespace controller's to finish, which takes seconds
    /// gwlab need not wait for. One not gone yet is named.
    Objects,
}

/// Kinds that route traffic through a Gateway.
pub(crate) fn is_route_kind(kind: &str) -> bool {
    kind.ends_with("Route")
}

/// One object or namespace cleanup could not remove.
#[derive(Debug, thiserror::Error)]
#[error("{what}: {source}")]
pub struct Leftover {
    pub what: String,
    /// Set for a namespace this run created and could not delete.
    pub namespace: Option<String>,
    #[source]
    pub source: TargetError,
}

/// A diagnostics bundle and its most telling lines.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Diagnosis {
    pub bundle: std::path::PathBuf,
    pub lines: Vec<String>,
}
