//! gwlab's reference gateway as a Gateway API controller: it watches an API
//! server, writes the statuses gwlab's model computes (GatewayClass
//! `Accepted`; Gateway `Accepted`/`Programmed` with listeners, attached routes
//! and an address; HTTPRoute parents with `Accepted` and `ResolvedRefs`), and
//! serves every Gateway's routes on one loopback socket per protocol, as one
//! proxy serves all the Gateways of its class.
//!
//! It answers for GatewayClasses of Kong's controller name, so that the
//! scenarios and the lab written for Kong run on it unchanged. Today it
//! stands in for Kong in gwlab's own tests and benchmark on an API server
//! without nodes (envtest); with [`Options::kubelet`] it also does for Pods
//! what a kubelet would ([`kubelet`]).

mod isolated;
pub mod kubelet;
mod objects;
mod status;

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use futures_util::StreamExt;
use kube::api::{Api, DynamicObject};
use kube::runtime::reflector::{self, Store};
use kube::runtime::{WatchStreamExt, watcher};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use gwlab::model::compile::{self, Compiled};
use gwlab::targets::embedded::server::{self, PortServer, Scope};
use gwlab::targets::embedded::tls::{self, LabCa};

/// The kinds whose objects decide routing and status.
const WATCHED: &[(&str, &str)] = &[
    ("gateway.networking.k8s.io/v1", "GatewayClass"),
    ("gateway.networking.k8s.io/v1", "Gateway"),
    ("gateway.networking.k8s.io/v1", "HTTPRoute"),
    ("gateway.networking.k8s.io/v1beta1", "ReferenceGrant"),
    ("v1", "Service"),
    ("v1", "Namespace"),
    ("v1", "Secret"),
];

/// How long a burst of watch events is gathered before one reconcile.
const SETTLE: Duration = Duration::from_millis(20);

#[derive(Debug, Clone)]
pub struct Options {
    /// The loopback (or other local) address the proxy sockets bind.
    pub bind: IpAddr,
    /// Bind Pods to a node of its own and report them running and ready.
    pub kubelet: bool,
    /// Whose semantics statuses and answers follow (Kong's, to stand in for a
    /// Kong of that version).
    pub implementation: gwlab::implementations::Implementation,
    /// Serve each Gateway on a loopback address of its own (127.0.0.2, …),
    /// on its listeners' own ports, as the spec isolates Gateways; by
    /// default every Gateway shares the controller's two sockets, as one
    /// Kong serves all the Gateways of its class. Ports below 1024 need
    /// the right to bind them (root, or CAP_NET_BIND_SERVICE).
    pub isolated: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ControllerError {
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot make the certificate authority: {0}")]
    Ca(#[source] rcgen::Error),
    #[error(transparent)]
    Kube(#[from] gwlab::kube_api::ApiError),
}

/// A kind not served yet (its CRD comes later, with `gwlab up`) is asked for
/// again twice a second, so that the controller follows within moments.
struct Retry;

impl Iterator for Retry {
    type Item = Duration;
    fn next(&mut self) -> Option<Duration> {
        Some(Duration::from_millis(500))
    }
}

impl kube::runtime::utils::Backoff for Retry {
    fn reset(&mut self) {}
}

/// A running controller; dropping it stops it.
pub struct Controller {
    /// Where plain HTTP listeners of every Gateway are served.
    pub http: SocketAddr,
    /// Where HTTPS listeners of every Gateway are served.
    pub https: SocketAddr,
    /// The CA of the certificates made for listeners without their own.
    pub ca: Arc<LabCa>,
    servers: Vec<PortServer>,
    tasks: Vec<JoinHandle<()>>,
}

impl Controller {
    /// Stops watching and writing status, as a Gateway controller that
    /// crashed: the data plane keeps serving what it was last given, as
    /// Kong's proxy does while KIC is down.
    pub fn stop_controlling(&mut self) {
        for t in self.tasks.drain(..) {
            t.abort();
        }
    }

    /// Closes the data plane's two sockets: the Gateway address refuses
    /// connections while status stays as written.
    pub fn stop_serving(&mut self) {
        self.servers.clear();
    }
}

impl Drop for Controller {
    fn drop(&mut self) {
        self.stop_controlling();
    }
}

/// One watched kind: its store, filled by a reflector.
struct Watched {
    api_version: &'static str,
    kind: &'static str,
    store: Store<DynamicObject>,
}

pub async fn start(client: kube::Client, opts: Options) -> Result<Controller, ControllerError> {
    let ca = Arc::new(LabCa::new().map_err(ControllerError::Ca)?);
    let state: server::SharedState = Arc::new(RwLock::new(Arc::new(Compiled::default())));
    let http = listen(&opts, "HTTP", &state, None).await?;
    let resolver = tls::PortResolver {
        ca: ca.clone(),
        state: state.clone(),
        scope: Scope::Shared,
    };
    let https = listen(
        &opts,
        "HTTPS",
        &state,
        Some(Arc::new(tls::server_config(resolver))),
    )
    .await?;
    let changed = Arc::new(Notify::new());
    let mut tasks = Vec::new();
    let mut watched = Vec::new();
    for &(api_version, kind) in WATCHED {
        let (ar, _) = gwlab::kinds::resource(api_version, kind).expect("gwlab's table has it");
        let writer = reflector::store::Writer::new(ar.clone());
        watched.push(Watched {
            api_version,
            kind,
            store: writer.as_reader(),
        });
        let api = Api::<DynamicObject>::all_with(client.clone(), &ar);
        let changed = changed.clone();
        let events = reflector::reflector(
            writer,
            watcher(api, watcher::Config::default()).backoff(Retry),
        );
        tasks.push(tokio::spawn(async move {
            futures_util::pin_mut!(events);
            while let Some(event) = events.next().await {
                if event.is_ok() {
                    changed.notify_one();
                }
            }
        }));
    }
    let address = http.addr.ip().to_string();
    let isolated = opts.isolated.then(|| isolated::Isolated::new(ca.clone()));
    tasks.push(tokio::spawn(reconcile_loop(
        client.clone(),
        watched,
        state,
        changed,
        address,
        opts.implementation,
        isolated,
    )));
    if opts.kubelet {
        let node = kubelet::Node::register(&client).await?;
        tasks.push(tokio::spawn(kubelet::run(client, node)));
    }
    Ok(Controller {
        http: http.addr,
        https: https.addr,
        ca,
        servers: vec![http, https],
        tasks,
    })
}

async fn listen(
    opts: &Options,
    protocol: &str,
    state: &server::SharedState,
    tls: Option<Arc<rustls::ServerConfig>>,
) -> Result<PortServer, ControllerError> {
    let addr = SocketAddr::new(opts.bind, 0);
    server::start(Scope::Shared, protocol.into(), addr, state.clone(), tls)
        .await
        .map_err(|source| ControllerError::Listen { addr, source })
}

/// Recomputes routing and status from the stores whenever they change, and
/// writes the statuses that differ. A failed write is retried shortly.
async fn reconcile_loop(
    client: kube::Client,
    watched: Vec<Watched>,
    state: server::SharedState,
    changed: Arc<Notify>,
    address: String,
    implementation: gwlab::implementations::Implementation,
    mut isolated: Option<isolated::Isolated>,
) {
    loop {
        changed.notified().await;
        tokio::time::sleep(SETTLE).await;
        let world = objects::world(&watched);
        let compiled = Arc::new(compile::compile_as(&world, implementation));
        *state.write().expect("state lock") = compiled.clone();
        let mut addresses = std::collections::BTreeMap::new();
        if let Some(iso) = &mut isolated {
            iso.serve(&compiled, &state).await;
            for gw in compiled.gateways.values() {
                let ip = iso.address(&gw.namespace, &gw.name);
                addresses.insert((gw.namespace.clone(), gw.name.clone()), ip.to_string());
            }
        }
        let written = status::write_all(&client, &watched, &compiled, &addresses, &address).await;
        if !written {
            let changed = changed.clone();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(200)).await;
                changed.notify_one();
            });
        }
    }
}
