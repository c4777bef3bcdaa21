//! The spec's isolation, for tests that need it: each Gateway on a loopback
//! address of its own (127.0.0.2, 127.0.0.3, … in the order Gateways
//! appear), one socket per listener port there, so that a request reaches
//! only the routes of the Gateway it was sent to. Kong instead serves every
//! Gateway from one proxy (the controller's shared sockets).

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use gwlab::model::compile::Compiled;
use gwlab::targets::embedded::server::{self, PortKey, PortServer, Scope};
use gwlab::targets::embedded::tls::{self, LabCa};

/// Each Gateway's address, kept while the controller runs, and the sockets
/// serving its listener ports.
pub(super) struct Isolated {
    ca: Arc<LabCa>,
    addresses: BTreeMap<(String, String), IpAddr>,
    servers: BTreeMap<PortKey, PortServer>,
    /// Listener ports that could not be bound, said once each.
    refused: Vec<PortKey>,
}

impl Isolated {
    pub(super) fn new(ca: Arc<LabCa>) -> Self {
        Isolated {
            ca,
            addresses: BTreeMap::new(),
            servers: BTreeMap::new(),
            refused: Vec::new(),
        }
    }

    /// The Gateway's own address (given on first asking, never reused).
    pub(super) fn address(&mut self, namespace: &str, name: &str) -> IpAddr {
        let next = Ipv4Addr::new(127, 0, 0, 2 + self.addresses.len() as u8);
        *self
            .addresses
            .entry((namespace.to_string(), name.to_string()))
            .or_insert(IpAddr::V4(next))
    }

    /// Starts and stops sockets to serve every programmed listener port of
    /// every Gateway, each on its Gateway's address.
    pub(super) async fn serve(&mut self, compiled: &Compiled, state: &server::SharedState) {
        let mut wanted: BTreeMap<PortKey, String> = BTreeMap::new();
        for gw in compiled.gateways.values() {
            for (port, protocol) in gw.ports() {
                let key = PortKey {
                    namespace: gw.namespace.clone(),
                    gateway: gw.name.clone(),
                    port,
                };
                wanted.insert(key, protocol);
            }
        }
        self.servers
            .retain(|k, s| wanted.get(k) == Some(&s.protocol));
        for (key, protocol) in wanted {
            if self.servers.contains_key(&key) || self.refused.contains(&key) {
                continue;
            }
            let ip = self.address(&key.namespace, &key.gateway);
            let addr = SocketAddr::new(ip, key.port);
            let tls = (protocol == "HTTPS").then(|| {
                Arc::new(tls::server_config(tls::PortResolver {
                    ca: self.ca.clone(),
                    state: state.clone(),
                    scope: Scope::Listener(key.clone()),
                }))
            });
            match server::start(
                Scope::Listener(key.clone()),
                protocol,
                addr,
                state.clone(),
                tls,
            )
            .await
            {
                Ok(s) => {
                    self.servers.insert(key, s);
                }
                Err(e) => {
                    eprintln!(
                        "gwlab-standin: cannot serve Gateway {}/{} port {} on {addr}: {e}",
                        key.namespace, key.gateway, key.port
                    );
                    self.refused.push(key);
                }
            }
        }
    }
}
