//! The cluster target: scenarios on a real cluster through kube. Objects are
//! applied server-side (field manager `gwlab`, strict validation) and labelled
//! with the run; conditions are awaited with watches; probes go to the
//! Gateway's address (or the lab's mapped host ports, or `--gateway-address`).

pub mod backends;
mod diagnostics;
pub mod features;
pub mod read_status;

use std::collections::{BTreeSet, HashMap};
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, ApiResource, DeleteParams, DynamicObject, GroupVersionKind, Patch};
use kube::runtime::wait::{await_condition, conditions};
use kube::{Client, ResourceExt};
use rustls::pki_types::CertificateDer;

use super::{EchoBackend, GatewayRef, Target, TargetError};
use crate::lab::MANAGED_BY;
use crate::lab::apply::{identity, params, resource, with_labels};
use crate::lab::state::LabState;
use crate::manifest::Manifest;
use crate::model::lab_gateway;
use crate::model::status::ObjectStatus;
use crate::model::world::ObjKey;

/// The label that ties an object to one run (`gwlab clean --run <id>`).
pub const RUN_LABEL: &str = "gwlab.dev/run";

/// `--gateway-address HOST:PORT[,HTTPS_PORT]`: where to send probes instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayAddress {
    pub host: String,
    pub http: u16,
    pub https: Option<u16>,
}

impl std::str::FromStr for GatewayAddress {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (main, https) = match s.split_once(',') {
            Some((m, h)) => (
                m,
                Some(
                    h.trim()
                        .parse::<u16>()
                        .map_err(|_| format!("`{h}` is not a port"))?,
                ),
            ),
            None => (s, None),
        };
        let (host, port) = main
            .rsplit_once(':')
            .ok_or_else(|| format!("`{s}`: write HOST:PORT[,HTTPS_PORT]"))?;
        let http = port
            .parse::<u16>()
            .map_err(|_| format!("`{port}` is not a port"))?;
        if host.is_empty() {
            return Err(format!("`{s}` has no host"));
        }
        Ok(GatewayAddress {
            host: host.trim_matches(['[', ']']).to_string(),
            http,
            https,
        })
    }
}

pub struct ClusterTarget {
    pub client: Client,
    /// The lab gwlab made, if the cluster is one (for its host ports and certificate).
    pub lab: Option<LabState>,
    pub gateway_address: Option<GatewayAddress>,
    pub echo_image: String,
    /// How long a backend or a deletion may take.
    pub wait_timeout: Duration,
    resources: Mutex<HashMap<(String, String), (ApiResource, bool)>>,
}

fn labelled(obj: serde_json::Value, run_id: &str) -> serde_json::Value {
    with_labels(obj, &[MANAGED_BY, (RUN_LABEL, run_id)])
}

async fn resolve(host: &str, port: u16) -> Result<SocketAddr, TargetError> {
    let mut addrs = tokio::net::lookup_host((host, port))
        .await
        .map_err(|e| TargetError::Start(format!("cannot resolve {host}: {e}")))?;
    addrs
        .next()
        .ok_or_else(|| TargetError::Start(format!("{host} has no address")))
}

impl ClusterTarget {
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
        }
    }

    /// The API resource of a kind: gwlab's table, else the API server's discovery.
    async fn resource(
        &self,
        api_version: &str,
        kind: &str,
    ) -> Result<(ApiResource, bool), TargetError> {
        if let Some(r) = resource(api_version, kind) {
            return Ok(r);
        }
        let key = (api_version.to_string(), kind.to_string());
        if let Some(r) = self.resources.lock().expect("resource cache").get(&key) {
            return Ok(r.clone());
        }
        let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
        let gvk = GroupVersionKind::gvk(group, version, kind);
        let (ar, caps) = kube::discovery::pinned_kind(&self.client, &gvk)
            .await
            .map_err(|e| {
                TargetError::Start(format!(
                    "the cluster does not serve {api_version} {kind}: {e}"
                ))
            })?;
        let namespaced = caps.scope == kube::discovery::Scope::Namespaced;
        self.resources
            .lock()
            .expect("resource cache")
            .insert(key, (ar.clone(), namespaced));
        Ok((ar, namespaced))
    }

    fn api(
        &self,
        ar: &ApiResource,
        namespaced: bool,
        namespace: Option<&str>,
    ) -> Api<DynamicObject> {
        match (namespaced, namespace) {
            (true, Some(ns)) => Api::namespaced_with(self.client.clone(), ns, ar),
            _ => Api::all_with(self.client.clone(), ar),
        }
    }

    async fn api_for_key(&self, key: &ObjKey) -> Result<Api<DynamicObject>, TargetError> {
        let api_version = match key.kind.as_str() {
            "ReferenceGrant" => "gateway.networking.k8s.io/v1beta1",
            _ => "gateway.networking.k8s.io/v1",
        };
        let (ar, namespaced) = self.resource(api_version, &key.kind).await?;
        Ok(self.api(
            &ar,
            namespaced,
            (!key.namespace.is_empty()).then_some(key.namespace.as_str()),
        ))
    }

    async fn apply_value(&self, obj: serde_json::Value, what: &str) -> Result<(), String> {
        let id = identity(&obj);
        let (ar, namespaced) = self
            .resource(&id.api_version, &id.kind)
            .await
            .map_err(|e| e.to_string())?;
        self.api(&ar, namespaced, id.namespace.as_deref())
            .patch(&id.name, &params(), &Patch::Apply(&obj))
            .await
            .map_err(|e| format!("{what}: {e}"))?;
        Ok(())
    }

    /// Deletes an object and waits until it is gone.
    async fn delete_and_wait(
        &self,
        api: Api<DynamicObject>,
        name: &str,
    ) -> Result<(), TargetError> {
        let Some(obj) = api
            .get_opt(name)
            .await
            .map_err(|e| TargetError::Start(format!("cannot read {name}: {e}")))?
        else {
            return Ok(());
        };
        let uid = obj.uid().unwrap_or_default();
        match api.delete(name, &DeleteParams::background()).await {
            Ok(_) => {}
            Err(kube::Error::Api(s)) if s.code == 404 => return Ok(()),
            Err(e) => return Err(TargetError::Start(format!("cannot delete {name}: {e}"))),
        }
        match tokio::time::timeout(
            self.wait_timeout,
            await_condition(api, name, conditions::is_deleted(&uid)),
        )
        .await
        {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(TargetError::Start(format!(
                "watching the deletion of {name}: {e}"
            ))),
            Err(_) => Err(TargetError::Start(format!(
                "{name} still exists {}s after its deletion (a finalizer?)",
                self.wait_timeout.as_secs()
            ))),
        }
    }

    /// The lab Gateway's address: the MetalLB address when it answers a TCP
    /// connect within a second, else the host ports mapped to the NodePorts.
    async fn lab_address(
        &self,
        gw: &DynamicObject,
        port: u16,
    ) -> Result<Option<SocketAddr>, TargetError> {
        let addresses = crate::lab::wait::gateway_addresses(&gw.data);
        for a in &addresses {
            if let Ok(addr) = resolve(a, port).await
                && let Ok(Ok(_)) = tokio::time::timeout(
                    Duration::from_secs(1),
                    tokio::net::TcpStream::connect(addr),
                )
                .await
            {
                return Ok(Some(addr));
            }
        }
        let mapped = self.lab.as_ref().and_then(|l| match port {
            80 => l.cluster.http_port,
            443 => l.cluster.https_port,
            _ => None,
        });
        match mapped {
            Some(p) => Ok(Some(SocketAddr::from(([127, 0, 0, 1], p)))),
            None => match addresses.first() {
                Some(a) => resolve(a, port).await.map(Some),
                None => Ok(None),
            },
        }
    }

    /// The implementation's version, from its controller image tag.
    async fn controller_version(&self) -> Option<String> {
        let api: Api<Deployment> =
            Api::namespaced(self.client.clone(), lab_gateway::GATEWAY_NAMESPACE);
        let d = api.get_opt("kong").await.ok()??;
        d.spec?
            .template
            .spec?
            .containers
            .iter()
            .find(|c| {
                c.image
                    .as_deref()
                    .is_some_and(|i| i.contains("kubernetes-ingress-controller"))
            })?
            .image
            .as_ref()?
            .rsplit(':')
            .next()
            .map(String::from)
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
        let class = api.get_opt(lab_gateway::CLASS_NAME).await.map_err(|e| {
            TargetError::Start(format!(
                "cannot read GatewayClass {}: {e}",
                lab_gateway::CLASS_NAME
            ))
        })?;
        let Some(class) = class else {
            return Err(TargetError::Start(format!(
                "GatewayClass {} does not exist on this cluster; create the lab with `gwlab up`",
                lab_gateway::CLASS_NAME
            )));
        };
        let json = serde_json::to_value(&class).unwrap_or_default();
        let reported = read_status::object_status(&json).supported_features;
        if !reported.is_empty() {
            return Ok(reported.into_iter().collect());
        }
        let controller = json
            .pointer("/spec/controllerName")
            .and_then(|c| c.as_str())
            .unwrap_or_default();
        Ok(features::builtin(controller, self.controller_version().await.as_deref()).0)
    }

    async fn ensure_namespace(
        &mut self,
        namespace: &str,
        run_id: &str,
    ) -> Result<bool, TargetError> {
        let api: Api<Namespace> = Api::all(self.client.clone());
        if api
            .get_opt(namespace)
            .await
            .map_err(|e| TargetError::Start(format!("cannot read namespace {namespace}: {e}")))?
            .is_some()
        {
            return Ok(false);
        }
        let ns = labelled(
            serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}),
            run_id,
        );
        self.apply_value(ns, &format!("namespace {namespace}"))
            .await
            .map_err(TargetError::Start)?;
        Ok(true)
    }

    async fn deploy_backend(&mut self, b: &EchoBackend, run_id: &str) -> Result<(), TargetError> {
        let d = labelled(
            backends::deployment(&b.namespace, &b.name, &self.echo_image),
            run_id,
        );
        let s = labelled(backends::service(&b.namespace, &b.name, b.port), run_id);
        self.apply_value(d, &format!("echo Deployment {}/{}", b.namespace, b.name))
            .await
            .map_err(TargetError::Start)?;
        self.apply_value(s, &format!("echo Service {}/{}", b.namespace, b.name))
            .await
            .map_err(TargetError::Start)?;
        crate::lab::wait::deployment_available(
            &self.client,
            &b.namespace,
            &b.name,
            self.wait_timeout,
        )
        .await
        .map_err(|e| TargetError::Start(e.to_string()))
    }

    async fn apply(&mut self, object: &Manifest, run_id: &str) -> Result<(), TargetError> {
        let obj = labelled(object.raw.clone(), run_id);
        self.apply_value(obj, &object.display_name())
            .await
            .map_err(|message| TargetError::Apply {
                file: object.file.display().to_string(),
                line: object.line,
                object: object.display_name(),
                message,
            })
    }

    async fn delete(&mut self, object: &Manifest) -> Result<(), TargetError> {
        let (ar, namespaced) = self.resource(&object.api_version, &object.kind).await?;
        let api = self.api(&ar, namespaced, object.namespace.as_deref());
        self.delete_and_wait(api, &object.name).await
    }

    async fn await_status(
        &self,
        key: &ObjKey,
        holds: &dyn Fn(&ObjectStatus) -> bool,
        timeout: Duration,
    ) -> Result<Option<ObjectStatus>, TargetError> {
        let api = self.api_for_key(key).await?;
        let cond = |o: Option<&DynamicObject>| {
            o.is_some_and(|o| {
                holds(&read_status::object_status(
                    &serde_json::to_value(o).unwrap_or_default(),
                ))
            })
        };
        let _ = tokio::time::timeout(timeout, await_condition(api.clone(), &key.name, cond)).await;
        // Whatever happened, the last status decides (and is shown when it does not hold).
        let obj = api
            .get_opt(&key.name)
            .await
            .map_err(|e| TargetError::Start(format!("cannot read {key}: {e}")))?;
        Ok(obj.map(|o| read_status::object_status(&serde_json::to_value(o).unwrap_or_default())))
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
            return resolve(&over.host, p).await;
        }
        let api = self
            .api_for_key(&ObjKey::new("Gateway", &gateway.namespace, &gateway.name))
            .await?;
        let gw = api
            .get_opt(&gateway.name)
            .await
            .map_err(|e| TargetError::Start(format!("cannot read Gateway {gateway}: {e}")))?
            .ok_or_else(|| TargetError::NoGateway(gateway.to_string()))?;
        let is_lab = gateway.namespace == lab_gateway::GATEWAY_NAMESPACE
            && gateway.name == lab_gateway::GATEWAY_NAME;
        let addr = if is_lab {
            self.lab_address(&gw, port).await?
        } else {
            let first = gw
                .data
                .pointer("/status/addresses/0/value")
                .and_then(|v| v.as_str())
                .map(String::from);
            match first {
                Some(a) => Some(resolve(&a, port).await?),
                None => None,
            }
        };
        addr.ok_or_else(|| TargetError::NoListener {
            gateway: format!("{gateway} (it has no address yet)"),
            port,
        })
    }

    fn trust_anchor(&self) -> Option<CertificateDer<'static>> {
        use rustls::pki_types::pem::PemObject;
        let lab = self.lab.as_ref()?;
        let pem = std::fs::read(crate::lab::state::dir(&lab.name).join("lab-tls.crt")).ok()?;
        CertificateDer::from_pem_slice(&pem).ok()
    }

    async fn delete_namespace(&mut self, namespace: &str) -> Result<(), TargetError> {
        let (ar, _) = resource("v1", "Namespace").expect("namespaces are known");
        let api: Api<DynamicObject> = Api::all_with(self.client.clone(), &ar);
        self.delete_and_wait(api, namespace).await
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
    fn gateway_address_flag_forms() {
        assert_eq!(
            "127.0.0.1:8080".parse::<GatewayAddress>().unwrap(),
            GatewayAddress {
                host: "127.0.0.1".into(),
                http: 8080,
                https: None
            }
        );
        assert_eq!(
            "gw.local:80,8443".parse::<GatewayAddress>().unwrap(),
            GatewayAddress {
                host: "gw.local".into(),
                http: 80,
                https: Some(8443)
            }
        );
        assert_eq!("[::1]:80".parse::<GatewayAddress>().unwrap().host, "::1");
        assert!("8080".parse::<GatewayAddress>().is_err());
        assert!("h:x".parse::<GatewayAddress>().is_err());
    }

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
