//! The cluster target: scenarios on a real cluster through kube. Objects are
//! applied server-side (field manager `gwlab`, strict validation) and labelled
//! with the run, but only when the run created them: an object of the same
//! name that someone else made stops the scenario before any write. Conditions
//! are awaited with watches; probes go to the Gateway's address (or the lab's
//! mapped host ports, or `--gateway-address`).

mod address;
mod api;
pub(crate) mod backends;
mod diagnostics;
pub mod features;
pub(crate) mod kong_model;
pub mod read_status;
pub(crate) mod release;

pub use address::{BadAddress, GatewayAddress};

use std::collections::{BTreeSet, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use k8s_openapi::api::core::v1::Namespace;
use kube::Client;
use kube::api::{Api, ApiResource, DynamicObject};
use kube::runtime::wait::await_condition;
use rustls::pki_types::CertificateDer;

use super::{EchoBackend, GatewayRef, Target, TargetError};
use crate::kinds;
use crate::kube_api::{TRANSIENT_BUDGET, retrying};
use crate::lab::MANAGED_BY;
use crate::lab::apply::with_labels;
use crate::lab::state::LabState;
use crate::manifest::Manifest;
use crate::model::lab_gateway;
use crate::model::status::ObjectStatus;
use crate::model::world::ObjKey;
use crate::ownership::{Created, RunRecord};

/// The label that ties an object to one run (`gwlab clean --run <id>`).
pub(crate) const RUN_LABEL: &str = "gwlab.dev/run";

pub struct ClusterTarget {
    pub client: Client,
    /// The lab gwlab made, if the cluster is one (for its host ports and certificate).
    pub lab: Option<LabState>,
    pub gateway_address: Option<GatewayAddress>,
    pub echo_image: String,
    /// How long a backend or a deletion may take.
    pub wait_timeout: Duration,
    resources: Mutex<HashMap<(String, String), (ApiResource, bool)>>,
    /// What this target created, by UID: the only objects it may delete.
    created: Mutex<Vec<Created>>,
    /// The run's record on disk, for `gwlab clean --run`.
    record_to: Option<Arc<RunRecord>>,
    /// Deletions issued and not yet seen through.
    deleting: Mutex<Vec<Deleting>>,
    /// The ways into the lab Gateway and the one probes take, read once per
    /// target (a scenario), not per probe.
    reach: tokio::sync::OnceCell<(crate::lab::reach::Ways, crate::lab::reach::Reach)>,
    /// What the run applied, routed as the cluster's Kong, when gwlab has a
    /// model of that Kong: names the known deviations behind failed probes.
    kong: Option<kong_model::KongModel>,
}

/// A deletion issued without waiting for it.
struct Deleting {
    api: Api<DynamicObject>,
    name: String,
    uid: String,
    what: String,
    kind: String,
}

fn labelled(obj: serde_json::Value, run_id: &str) -> serde_json::Value {
    with_labels(obj, &[MANAGED_BY, (RUN_LABEL, run_id)])
}

impl ClusterTarget {
    /// A cluster target for one scenario of `gwlab test` or a lab check: the
    /// lab's echo backends, waits of at most 180 s.
    pub(crate) fn for_lab(
        client: &Client,
        lab: &Option<LabState>,
        gateway_address: &Option<GatewayAddress>,
        echo_image: String,
    ) -> Self {
        ClusterTarget::new(
            client.clone(),
            lab.clone(),
            gateway_address.clone(),
            echo_image,
            Duration::from_secs(180),
        )
    }

    pub fn new(
        client: Client,
        lab: Option<LabState>,
        gateway_address: Option<GatewayAddress>,
        echo_image: String,
        wait_timeout: Duration,
    ) -> Self {
        ClusterTarget {
            client,
            lab,
            gateway_address,
            echo_image,
            wait_timeout,
            resources: Mutex::new(HashMap::new()),
            created: Mutex::new(Vec::new()),
            record_to: None,
            deleting: Mutex::new(Vec::new()),
            reach: tokio::sync::OnceCell::new(),
            kong: None,
        }
    }

    /// Models the run as `kong` routes it (see [`kong_model::cluster_kong`]).
    pub(crate) fn modelled_as(
        mut self,
        kong: Option<crate::implementations::Implementation>,
    ) -> Self {
        self.kong = kong.map(kong_model::KongModel::new);
        self
    }

    /// Records what this target creates in the run's file as well.
    pub fn recording(mut self, record: Arc<RunRecord>) -> Self {
        self.record_to = Some(record);
        self
    }

    async fn api_for_key(&self, key: &ObjKey) -> Result<Api<DynamicObject>, TargetError> {
        let api_version = kinds::gateway_api_version(&key.kind);
        let (ar, namespaced) = self.resource(api_version, &key.kind).await?;
        Ok(self.api(
            &ar,
            namespaced,
            (!key.namespace.is_empty()).then_some(key.namespace.as_str()),
        ))
    }

    /// The lab Gateway's address for a listener port: an address of the
    /// Gateway's or of the proxy's load balancer that answers on that port,
    /// else the way in `reach` chooses (mapped host ports, NodePorts), found
    /// once per target.
    async fn lab_address(
        &self,
        gw: &DynamicObject,
        port: u16,
    ) -> Result<Option<SocketAddr>, TargetError> {
        let (ways, reach) = self
            .reach
            .get_or_try_init(|| async {
                let gw = serde_json::to_value(gw).unwrap_or_default();
                let mapped = self
                    .lab
                    .as_ref()
                    .map(|l| (l.cluster.http_port, l.cluster.https_port))
                    .unwrap_or_default();
                let ways = crate::lab::reach::ways(&self.client, &gw, mapped).await?;
                let reach = crate::lab::reach::choose(&ways).await;
                Ok::<_, TargetError>((ways, reach))
            })
            .await?;
        let addresses: Vec<String> = ways
            .gateway
            .iter()
            .chain(&ways.load_balancer)
            .cloned()
            .collect();
        if let Some(addr) = address::first_answering(&addresses, port).await {
            return Ok(Some(addr));
        }
        match reach.socket(port) {
            Some((host, p)) => address::resolve(&host, p).await.map(Some),
            None => Ok(None),
        }
    }

    async fn delete_manifest(&self, object: &Manifest, wait: bool) -> Result<(), TargetError> {
        self.delete_created(
            &object.api_version,
            &object.kind,
            object.namespace.as_deref(),
            &object.name,
            wait,
        )
        .await
    }
}

impl Target for ClusterTarget {
    fn name(&self) -> &'static str {
        "cluster"
    }

    async fn supported_features(&self) -> Result<BTreeSet<String>, TargetError> {
        let api = self
            .api_for_key(&ObjKey::new("GatewayClass", "", lab_gateway::CLASS_NAME))
            .await?;
        let class = retrying(TRANSIENT_BUDGET, || api.get_opt(lab_gateway::CLASS_NAME))
            .await
            .map_err(TargetError::kube(format!(
                "cannot read GatewayClass {}",
                lab_gateway::CLASS_NAME
            )))?
            .ok_or_else(|| TargetError::NoGatewayClass(lab_gateway::CLASS_NAME.into()))?;
        Ok(features::of_class(&self.client, &class).await?.0)
    }

    async fn ensure_namespace(
        &mut self,
        namespace: &str,
        run_id: &str,
    ) -> Result<bool, TargetError> {
        let api: Api<Namespace> = Api::all(self.client.clone());
        let existing = retrying(TRANSIENT_BUDGET, || api.get_opt(namespace))
            .await
            .map_err(TargetError::kube(format!(
                "cannot read namespace {namespace}"
            )))?;
        if let Some(ns) = existing {
            if ns.metadata.deletion_timestamp.is_none() {
                // A namespace that exists is used and never deleted.
                return Ok(false);
            }
            // Being removed (an earlier run's, which does not wait for the
            // namespace controller): nothing can be created in it, so it is
            // waited for and made again.
            let uid = ns.metadata.uid.unwrap_or_default();
            let (ar, namespaced) = self.resource("v1", "Namespace").await?;
            let what = format!("namespace {namespace}, being deleted when this run needed it,");
            self.await_gone(self.api(&ar, namespaced, None), namespace, &uid, &what)
                .await?;
        }
        let ns = labelled(
            serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}),
            run_id,
        );
        self.apply_value(ns).await?;
        Ok(true)
    }

    async fn preflight(
        &self,
        objects: &[Manifest],
        backends: &[EchoBackend],
    ) -> Result<(), TargetError> {
        let mut values: Vec<serde_json::Value> = objects.iter().map(|m| m.raw.clone()).collect();
        for b in backends {
            values.push(backends::deployment(
                &b.namespace,
                &b.name,
                &self.echo_image,
            ));
            values.push(backends::service(&b.namespace, &b.name, b.port));
        }
        for v in &values {
            self.check_ours(v).await?;
        }
        Ok(())
    }

    async fn deploy_backend(&mut self, b: &EchoBackend, run_id: &str) -> Result<(), TargetError> {
        let d = labelled(
            backends::deployment(&b.namespace, &b.name, &self.echo_image),
            run_id,
        );
        let s = labelled(backends::service(&b.namespace, &b.name, b.port), run_id);
        self.apply_value(d).await?;
        self.apply_value(s).await?;
        crate::lab::wait::deployment_available(
            &self.client,
            &b.namespace,
            &b.name,
            self.wait_timeout,
        )
        .await?;
        if let Some(k) = &mut self.kong {
            k.add_echo(&b.namespace, &b.name, b.port);
        }
        Ok(())
    }

    fn begin_batch(&mut self) {
        if let Some(k) = &mut self.kong {
            k.next_batch();
        }
    }

    async fn apply(&mut self, object: &Manifest, run_id: &str) -> Result<(), TargetError> {
        let obj = labelled(object.raw.clone(), run_id);
        if let Some(k) = &mut self.kong {
            k.apply(object);
        }
        self.apply_value(obj).await.map_err(|e| match e {
            // Not the manifest's fault: no line of it is blamed.
            e @ (TargetError::NotOurs { .. } | TargetError::EarlierRun { .. }) => e,
            e => TargetError::Apply {
                file: object.file.display().to_string(),
                line: object.line,
                object: object.display_name(),
                source: Box::new(e),
            },
        })
    }

    async fn delete(&mut self, object: &Manifest) -> Result<(), TargetError> {
        if let Some(k) = &mut self.kong {
            k.delete(object);
        }
        self.delete_manifest(object, true).await
    }

    fn explain(
        &self,
        gateway: &GatewayRef,
        port: u16,
        request: crate::model::request::RequestHead,
    ) -> Option<crate::explain::Explanation> {
        self.kong.as_ref()?.explain(gateway, port, request)
    }

    fn implementation(&self) -> crate::implementations::Implementation {
        self.kong
            .as_ref()
            .map_or(Default::default(), |k| k.implementation())
    }

    async fn await_status(
        &self,
        key: &ObjKey,
        holds: &dyn Fn(&ObjectStatus) -> bool,
        timeout: Duration,
    ) -> Result<Option<ObjectStatus>, TargetError> {
        let api = self.api_for_key(key).await?;
        let status_of = |o: &DynamicObject| {
            read_status::object_status(&serde_json::to_value(o).unwrap_or_default())
        };
        let cond = |o: Option<&DynamicObject>| o.is_some_and(|o| holds(&status_of(o)));
        // A watch that fails (the API server restarting, a connection reset)
        // is watched again while time is left; a timeout is not a verdict
        // either: the last status, read below, decides (and is shown when it
        // does not hold).
        let _ = crate::kube_api::watching_again(timeout, || {
            await_condition(api.clone(), &key.name, cond)
        })
        .await;
        let obj = retrying(TRANSIENT_BUDGET, || api.get_opt(&key.name))
            .await
            .map_err(TargetError::kube(format!("cannot read {key}")))?;
        Ok(obj.as_ref().map(status_of))
    }

    async fn gateway_address(
        &self,
        gateway: &GatewayRef,
        port: u16,
    ) -> Result<SocketAddr, TargetError> {
        if let Some(over) = &self.gateway_address {
            let p = match port {
                443 => over.https.ok_or_else(|| TargetError::NoListener {
                    gateway: format!("{gateway} (--gateway-address gives no HTTPS port)"),
                    port,
                })?,
                _ => over.http,
            };
            return address::resolve(&over.host, p).await;
        }
        let api = self
            .api_for_key(&ObjKey::new("Gateway", &gateway.namespace, &gateway.name))
            .await?;
        let gw = retrying(TRANSIENT_BUDGET, || api.get_opt(&gateway.name))
            .await
            .map_err(TargetError::kube(format!("cannot read Gateway {gateway}")))?
            .ok_or_else(|| TargetError::NoGateway(gateway.to_string()))?;
        let is_lab = gateway.namespace == lab_gateway::GATEWAY_NAMESPACE
            && gateway.name == lab_gateway::GATEWAY_NAME;
        let addr = if is_lab {
            self.lab_address(&gw, port).await?
        } else {
            match crate::lab::wait::gateway_addresses(&gw.data).first() {
                Some(a) => Some(address::resolve(a, port).await?),
                None => None,
            }
        };
        addr.ok_or_else(|| TargetError::NoListener {
            gateway: if is_lab {
                format!(
                    "{gateway} (no way in from here for this port: {})",
                    crate::lab::reach::Reach::PortForward.describe()
                )
            } else {
                format!("{gateway} (it has no address yet)")
            },
            port,
        })
    }

    fn trust_anchor(&self) -> Option<CertificateDer<'static>> {
        use rustls::pki_types::pem::PemObject;
        let lab = self.lab.as_ref()?;
        let pem = std::fs::read(crate::lab::state::dir(&lab.name).join("lab-tls.crt")).ok()?;
        CertificateDer::from_pem_slice(&pem).ok()
    }

    async fn clean_up(&mut self) -> Vec<super::Leftover> {
        self.delete_all_created().await
    }

    fn deleting(&self) -> bool {
        !self.deleting.lock().expect("deletions").is_empty()
    }

    async fn deletions_done(&self, which: super::Awaiting, timeout: Duration) -> Vec<String> {
        self.await_deletions(which, timeout).await
    }

    async fn namespaces_finishing(&self) -> Vec<String> {
        self.namespaces_not_gone().await
    }

    async fn diagnose(
        &self,
        objects: &[Manifest],
        namespaces: &[String],
        dir: &std::path::Path,
    ) -> Option<super::Diagnosis> {
        self.write_bundle(objects, namespaces, dir).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn applied_objects_carry_the_run() {
        let o = labelled(
            serde_json::json!({"metadata": {"name": "a", "labels": {"app": "x"}}}),
            "r1",
        );
        assert_eq!(o["metadata"]["labels"]["app"], "x");
        assert_eq!(o["metadata"]["labels"][RUN_LABEL], "r1");
        assert_eq!(o["metadata"]["labels"][MANAGED_BY.0], MANAGED_BY.1);
    }
}
