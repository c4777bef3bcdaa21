//! gwlab's reference gateway as the cluster's Gateway controller (standing in
//! for Kong, with its stand-in kubelet) on an envtest API server: started
//! once per test binary (or per caller of [`on`]), on a thread and runtime
//! of its own that live as long as the test binary.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::OnceLock;

use super::envtest::{self, Envtest};

pub struct StandIn {
    pub env: &'static Envtest,
    /// The data plane: plain HTTP and HTTPS of every Gateway.
    pub http: SocketAddr,
    pub https: SocketAddr,
    /// Faults for the running controller, each answered once done.
    faults: tokio::sync::mpsc::UnboundedSender<(Fault, tokio::sync::oneshot::Sender<()>)>,
}

/// What a fault test can break in a running stand-in.
#[derive(Debug, Clone, Copy)]
enum Fault {
    /// The controller stops watching and writing status (the data plane
    /// keeps serving).
    Controller,
    /// The data plane's sockets close (status stays as written).
    DataPlane,
}

impl StandIn {
    /// `--gateway-address` for probes to reach the data plane.
    pub fn gateway_address(&self) -> String {
        format!("{},{}", self.http, self.https.port())
    }

    /// Stops the Gateway controller, as one that crashed: nothing writes
    /// status any more, the data plane goes on serving.
    pub async fn stop_controller(&self) {
        self.break_(Fault::Controller).await
    }

    /// Closes the data plane: the Gateway address refuses connections.
    pub async fn stop_data_plane(&self) {
        self.break_(Fault::DataPlane).await
    }

    async fn break_(&self, fault: Fault) {
        let (done, finished) = tokio::sync::oneshot::channel();
        self.faults.send((fault, done)).expect("the stand-in runs");
        finished.await.expect("the stand-in answers");
    }
}

static STAND_IN: OnceLock<Option<StandIn>> = OnceLock::new();

/// The stand-in, on an API server of its own (the shared one, of
/// [`envtest::get`], stays without a controller or kubelet for the tests that
/// write what those would), or `None` when there is no API server (the
/// reason is printed). Shared by the test binary.
pub fn get() -> Option<&'static StandIn> {
    STAND_IN.get_or_init(|| envtest::another().map(on)).as_ref()
}

/// A stand-in of its own on `env` (one of [`envtest::another`]), living as
/// long as the test binary.
pub fn on(env: &'static Envtest) -> StandIn {
    on_as(env, Default::default())
}

/// A stand-in of its own on `env` that answers as `implementation`.
pub fn on_as(
    env: &'static Envtest,
    implementation: gwlab::implementations::Implementation,
) -> StandIn {
    start(env, implementation, false)
}

/// A stand-in of its own on `env` serving each Gateway on an address of its
/// own (the spec's isolation).
pub fn on_isolated(env: &'static Envtest) -> StandIn {
    start(env, Default::default(), true)
}

fn start(
    env: &'static Envtest,
    implementation: gwlab::implementations::Implementation,
    isolated: bool,
) -> StandIn {
    let (tx, rx) = std::sync::mpsc::channel();
    let (faults, mut broken) =
        tokio::sync::mpsc::unbounded_channel::<(Fault, tokio::sync::oneshot::Sender<()>)>();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let client = env.client().await;
            let opts = gwlab_standin::controller::Options {
                bind: [127, 0, 0, 1].into(),
                kubelet: true,
                implementation,
                isolated,
            };
            let mut controller = gwlab_standin::controller::start(client, opts)
                .await
                .expect("the stand-in controller starts");
            tx.send((controller.http, controller.https)).unwrap();
            // Runs until the test binary exits, broken on demand.
            while let Some((fault, done)) = broken.recv().await {
                match fault {
                    Fault::Controller => controller.stop_controlling(),
                    Fault::DataPlane => controller.stop_serving(),
                }
                let _ = done.send(());
            }
            std::future::pending::<()>().await;
            drop(controller);
        });
    });
    let (http, https) = rx.recv().expect("the stand-in reports its sockets");
    StandIn {
        env,
        http,
        https,
        faults,
    }
}

/// Skips the calling test (returns from it) when there is no API server.
#[macro_export]
macro_rules! standin_or_skip {
    () => {
        match $crate::common::standin::get() {
            Some(s) => s,
            None => return,
        }
    };
}
