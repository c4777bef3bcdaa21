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

#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error("cannot start the target: {0}")]
    Start(String),
    #[error("{file}:{line}: cannot apply {object}: {message}")]
    Apply {
        file: String,
        line: u64,
        object: String,
        message: String,
    },
    #[error("Gateway {0} does not exist on this target")]
    NoGateway(String),
    #[error("Gateway {gateway} has no programmed listener on port {port}")]
    NoListener { gateway: String, port: u16 },
}

/// A Gateway, by namespace and name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct GatewayRef {
    pub namespace: String,
    pub name: String,
}

impl std::fmt::Display for GatewayRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

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

    /// Deletes a namespace this run created, with everything in it.
    async fn delete_namespace(&mut self, namespace: &str) -> Result<(), TargetError>;

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

/// A diagnostics bundle and its most telling lines.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Diagnosis {
    pub bundle: std::path::PathBuf,
    pub lines: Vec<String>,
}
