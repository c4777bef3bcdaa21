//! The embedded target: Gateway API objects kept in memory, routed by the model,
//! and served as real HTTP/HTTPS on loopback with in-process echo backends.

pub(crate) mod echo;
pub mod server;
pub mod tls;

#[cfg(test)]
mod route_map_tests;

use std::collections::{BTreeMap, BTreeSet};
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use rustls::pki_types::CertificateDer;

use crate::implementations::Implementation;
use crate::manifest::Manifest;
use crate::model::compile::{self, Compiled};
use crate::model::lab_gateway;
use crate::model::status::ObjectStatus;
use crate::model::world::{EchoService, ObjKey, World};
use crate::targets::{EchoBackend, GatewayRef, Target, TargetError};
use server::{PortKey, PortServer, Scope, SharedState};
use tls::LabCa;

pub struct EmbeddedTarget {
    world: World,
    compiled: Arc<Compiled>,
    state: SharedState,
    ca: Arc<LabCa>,
    servers: BTreeMap<PortKey, PortServer>,
    /// Fixed loopback ports for listener ports (for `gwlab serve`); others get a free port.
    fixed_ports: BTreeMap<u16, u16>,
    /// Whose semantics it answers with (`--as`).
    implementation: Implementation,
}

impl EmbeddedTarget {
    /// A fresh gateway holding the lab objects, serving nothing until
    /// reconciled, with the spec's semantics.
    pub async fn start(
        ca: Arc<LabCa>,
        fixed_ports: BTreeMap<u16, u16>,
    ) -> Result<Self, TargetError> {
        Self::start_as(ca, fixed_ports, Implementation::Spec).await
    }

    /// A fresh gateway that answers as `implementation`.
    pub async fn start_as(
        ca: Arc<LabCa>,
        fixed_ports: BTreeMap<u16, u16>,
        implementation: Implementation,
    ) -> Result<Self, TargetError> {
        let mut world = World::default();
        for m in lab_gateway::objects() {
            world.apply(m);
        }
        world.next_batch();
        let compiled = Arc::new(compile::compile_as(&world, implementation));
        let mut t = EmbeddedTarget {
            world,
            state: Arc::new(RwLock::new(compiled.clone())),
            compiled,
            ca,
            servers: BTreeMap::new(),
            fixed_ports,
            implementation,
        };
        t.reconcile().await?;
        Ok(t)
    }

    pub fn compiled(&self) -> &Compiled {
        &self.compiled
    }

    /// Every socket served: Gateway listener port → loopback address.
    pub fn sockets(&self) -> Vec<(PortKey, SocketAddr, String)> {
        self.servers
            .iter()
            .map(|(k, s)| (k.clone(), s.addr, s.protocol.clone()))
            .collect()
    }

    /// Recomputes status and routing, then starts and stops sockets to match.
    async fn reconcile(&mut self) -> Result<(), TargetError> {
        let compiled = Arc::new(compile::compile_as(&self.world, self.implementation));
        *self.state.write().expect("state lock") = compiled.clone();
        let mut wanted: BTreeMap<PortKey, String> = BTreeMap::new();
        for gw in compiled.gateways.values() {
            for (port, protocol) in gw.ports() {
                wanted.insert(
                    PortKey {
                        namespace: gw.namespace.clone(),
                        gateway: gw.name.clone(),
                        port,
                    },
                    protocol,
                );
            }
        }
        self.servers
            .retain(|k, s| wanted.get(k) == Some(&s.protocol));
        for (key, protocol) in wanted {
            if self.servers.contains_key(&key) {
                continue;
            }
            // A fixed port serves the first Gateway that asks for it; others get a free one.
            let local = self
                .fixed_ports
                .get(&key.port)
                .copied()
                .filter(|p| *p == 0 || !self.servers.values().any(|s| s.addr.port() == *p))
                .unwrap_or(0);
            let bind = SocketAddr::from((Ipv4Addr::LOCALHOST, local));
            let tls = (protocol == "HTTPS").then(|| {
                Arc::new(tls::server_config(tls::PortResolver {
                    ca: self.ca.clone(),
                    state: self.state.clone(),
                    scope: Scope::Listener(key.clone()),
                }))
            });
            let server = server::start(
                Scope::Listener(key.clone()),
                protocol,
                bind,
                self.state.clone(),
                tls,
            )
            .await
            .map_err(|source| TargetError::Network {
                what: format!(
                    "cannot listen on {bind} for Gateway {}/{} port {}",
                    key.namespace, key.gateway, key.port
                ),
                source,
            })?;
            self.servers.insert(key, server);
        }
        self.compiled = compiled;
        Ok(())
    }
}

impl Target for EmbeddedTarget {
    fn name(&self) -> &'static str {
        "embedded"
    }

    async fn supported_features(&self) -> Result<BTreeSet<String>, TargetError> {
        Ok(crate::features::names(&self.implementation.features()))
    }

    async fn ensure_namespace(
        &mut self,
        namespace: &str,
        _run_id: &str,
    ) -> Result<bool, TargetError> {
        // Namespaces exist implicitly here; only their labels (from Namespace
        // manifests) matter, for allowedRoutes selectors.
        let _ = namespace;
        Ok(true)
    }

    async fn deploy_backend(&mut self, b: &EchoBackend, _run_id: &str) -> Result<(), TargetError> {
        self.world.add_echo(EchoService {
            namespace: b.namespace.clone(),
            name: b.name.clone(),
            port: b.port,
        });
        self.reconcile().await
    }

    fn begin_batch(&mut self) {
        self.world.next_batch();
    }

    async fn apply(&mut self, object: &Manifest, _run_id: &str) -> Result<(), TargetError> {
        self.world.apply(object.clone());
        self.reconcile().await
    }

    async fn delete(&mut self, object: &Manifest) -> Result<(), TargetError> {
        let key = ObjKey::new(
            &object.kind,
            object.namespace.as_deref().unwrap_or(""),
            &object.name,
        );
        self.world.delete(&key);
        self.reconcile().await
    }

    async fn await_status(
        &self,
        key: &ObjKey,
        _holds: &dyn Fn(&ObjectStatus) -> bool,
        _timeout: Duration,
    ) -> Result<Option<ObjectStatus>, TargetError> {
        // Status is computed synchronously on every change: what is there now is final.
        Ok(self.compiled.status.get(key).cloned())
    }

    async fn gateway_address(
        &self,
        gateway: &GatewayRef,
        port: u16,
    ) -> Result<SocketAddr, TargetError> {
        if self
            .compiled
            .gateway(&gateway.namespace, &gateway.name)
            .is_none()
        {
            return Err(TargetError::NoGateway(gateway.to_string()));
        }
        let key = PortKey {
            namespace: gateway.namespace.clone(),
            gateway: gateway.name.clone(),
            port,
        };
        self.servers
            .get(&key)
            .map(|s| s.addr)
            .ok_or(TargetError::NoListener {
                gateway: gateway.to_string(),
                port,
            })
    }

    fn trust_anchor(&self) -> Option<CertificateDer<'static>> {
        Some(self.ca.ca_der())
    }

    fn implementation(&self) -> Implementation {
        self.implementation
    }

    fn route_map(&self, home: &str) -> Option<crate::route_map::RouteMap> {
        Some(crate::route_map::build(&self.compiled, home))
    }

    fn explain(
        &self,
        gateway: &GatewayRef,
        port: u16,
        request: crate::model::request::RequestHead,
    ) -> Option<crate::explain::Explanation> {
        // A Gateway the model does not hold has no routing to explain; the
        // probe's own failure already says it was not found.
        crate::explain::explain(&self.compiled, gateway, port, request).ok()
    }
}
