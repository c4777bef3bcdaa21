//! Real HTTP/HTTPS on loopback, for one Gateway listener port or for every
//! Gateway at once: every request is routed by the model and answered by an
//! in-process echo backend.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::task::{JoinHandle, JoinSet};
use tokio_rustls::TlsAcceptor;

use super::echo;
use crate::model::compile::{BackendTarget, Compiled, HeaderOps};
use crate::model::evaluate::{self, Dispatch, Forward, Outcome};
use crate::model::request::{RequestHead, modify_headers};

/// The routing state every listener reads; replaced whole on each change.
pub type SharedState = Arc<RwLock<Arc<Compiled>>>;

/// Which Gateway listener port a socket serves.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct PortKey {
    pub namespace: String,
    pub gateway: String,
    pub port: u16,
}

/// What a socket serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// One listener port of one Gateway (the embedded target: a socket each).
    Listener(PortKey),
    /// Every Gateway, as one proxy serves all the Gateways of its class
    /// (Kong's does): the listener port is the request's (its Host header's,
    /// else the scheme's), and the first Gateway that routes the request
    /// answers it.
    Shared,
}

/// A running listener socket; dropping it stops it and its connections.
#[derive(Debug)]
pub struct PortServer {
    pub addr: SocketAddr,
    pub protocol: String,
    task: JoinHandle<()>,
}

impl Drop for PortServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub async fn start(
    scope: Scope,
    protocol: String,
    bind: SocketAddr,
    state: SharedState,
    tls: Option<Arc<rustls::ServerConfig>>,
) -> std::io::Result<PortServer> {
    let listener = TcpListener::bind(bind).await?;
    let addr = listener.local_addr()?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    let scope = Arc::new(scope);
    let task = tokio::spawn(async move {
        let mut connections = JoinSet::new();
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            let state = state.clone();
            let scope = scope.clone();
            let tls = tls.clone();
            connections.spawn(async move {
                let service = service_fn(move |req| {
                    let state = state.clone();
                    let scope = scope.clone();
                    async move { Ok::<_, Infallible>(handle(&state, &scope, scheme, req).await) }
                });
                let builder = hyper::server::conn::http1::Builder::new();
                match tls {
                    Some(cfg) => {
                        if let Ok(stream) = TlsAcceptor::from(cfg).accept(stream).await {
                            let _ = builder
                                .serve_connection(TokioIo::new(stream), service)
                                .await;
                        }
                    }
                    None => {
                        let _ = builder
                            .serve_connection(TokioIo::new(stream), service)
                            .await;
                    }
                }
            });
            // Reap finished connections so the set does not grow without bound.
            while connections.try_join_next().is_some() {}
        }
    });
    Ok(PortServer {
        addr,
        protocol,
        task,
    })
}

fn plain(status: u16, text: String) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(text)));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    r.headers_mut().insert(
        "content-type",
        "text/plain; charset=utf-8".parse().expect("static header"),
    );
    r
}

fn with_headers(
    mut r: Response<Full<Bytes>>,
    extra: Vec<(String, String)>,
    ops: &[HeaderOps],
) -> Response<Full<Bytes>> {
    let mut headers = header_pairs(r.headers());
    headers.extend(extra);
    for op in ops {
        modify_headers(&mut headers, &op.set, &op.add, &op.remove);
    }
    let map = r.headers_mut();
    map.clear();
    for (n, v) in headers {
        if let (Ok(n), Ok(v)) = (
            hyper::header::HeaderName::from_bytes(n.as_bytes()),
            hyper::header::HeaderValue::from_str(&v),
        ) {
            map.append(n, v);
        }
    }
    r
}

/// Header names and values as text (values that are not UTF-8, lossily).
fn header_pairs(map: &hyper::HeaderMap) -> Vec<(String, String)> {
    map.iter()
        .map(|(n, v)| {
            (
                n.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect()
}

fn request_head(req: &Request<Incoming>, scheme: &str) -> RequestHead {
    let host = req
        .headers()
        .get(hyper::header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(String::from)
        .or_else(|| req.uri().authority().map(|a| a.to_string()))
        .unwrap_or_default();
    RequestHead {
        method: req.method().as_str().to_string(),
        scheme: scheme.to_string(),
        host,
        path: req.uri().path().to_string(),
        query: req.uri().query().map(String::from),
        headers: header_pairs(req.headers()),
    }
}

async fn handle(
    state: &SharedState,
    scope: &Scope,
    scheme: &str,
    req: Request<Incoming>,
) -> Response<Full<Bytes>> {
    let head = request_head(&req, scheme);
    // The echo server ignores bodies, but reading it keeps the connection reusable.
    let _ = req.into_body().collect().await;
    let compiled = state.read().expect("state lock").clone();
    let outcome = match scope {
        Scope::Listener(key) => match compiled.gateway(&key.namespace, &key.gateway) {
            Some(gw) => evaluate::evaluate(gw, key.port, &head).outcome,
            None => Outcome::NotFound {
                why: format!("Gateway {}/{} is gone", key.namespace, key.gateway),
            },
        },
        Scope::Shared => shared_outcome(&compiled, scheme, &head),
    };
    match outcome {
        Outcome::NotFound { why } => plain(404, format!("{why}\n")),
        Outcome::ServerError { why } => plain(500, format!("{why}\n")),
        Outcome::Answer { status, body, .. } => {
            let mut r = plain(status, body);
            r.headers_mut().insert(
                "content-type",
                "application/json; charset=utf-8"
                    .parse()
                    .expect("static header"),
            );
            r
        }
        Outcome::Preflight { response_headers } => {
            let mut r = Response::new(Full::new(Bytes::new()));
            *r.status_mut() = StatusCode::NO_CONTENT;
            with_headers(r, vec![], &response_headers)
        }
        Outcome::Redirect {
            status,
            location,
            body,
            response_headers,
        } => {
            let r = plain(status, body);
            with_headers(r, vec![("location".into(), location)], &response_headers)
        }
        Outcome::Forward(fwd) => match fwd.request_timeout {
            Some(t) => tokio::time::timeout(t, forward(&fwd))
                .await
                .unwrap_or_else(|_| plain(504, "request timeout\n".into())),
            None => forward(&fwd).await,
        },
    }
}

/// The listener port a request was sent to: its Host header's port, else
/// the scheme's well-known one.
pub(crate) fn request_port(scheme: &str, host: &str) -> u16 {
    let port = match host.strip_prefix('[') {
        Some(v6) => v6.split_once("]:").map(|(_, p)| p),
        None => host.rsplit_once(':').map(|(_, p)| p),
    };
    port.and_then(|p| p.parse().ok())
        .unwrap_or(if scheme == "https" { 443 } else { 80 })
}

/// Routes a request on a socket shared by every Gateway: the first Gateway
/// (by namespace and name) with a listener on the request's port whose
/// routes match it answers; when none does, the first one's 404 says why.
fn shared_outcome(compiled: &Compiled, scheme: &str, head: &RequestHead) -> Outcome {
    let port = request_port(scheme, &head.host);
    let mut first_miss = None;
    for gw in compiled.gateways.values() {
        if !gw.ports().iter().any(|(p, _)| *p == port) {
            continue;
        }
        match evaluate::evaluate(gw, port, head).outcome {
            miss @ Outcome::NotFound { .. } => {
                first_miss.get_or_insert(miss);
            }
            hit => return hit,
        }
    }
    first_miss.unwrap_or_else(|| Outcome::NotFound {
        why: format!("no Gateway has a programmed listener on port {port}"),
    })
}

/// A forwarded request: mirrors are sent, one backend is picked by weight and
/// its filters run, then the echo backend answers (or the dispatch fails).
async fn forward(fwd: &Forward) -> Response<Full<Bytes>> {
    let Some(backend) = evaluate::pick_backend(&fwd.backends, fastrand::f64()) else {
        return plain(500, "no backend with a weight above 0\n".into());
    };
    send_mirrors(fwd);
    let (dispatch, backend_ops) = evaluate::dispatch(backend, &fwd.request, &fwd.matched_path);
    match dispatch {
        Dispatch::Invalid { why } => plain(500, format!("{why}\n")),
        Dispatch::Unavailable { why } => plain(503, format!("{why}\n")),
        Dispatch::Echo {
            namespace,
            name,
            request,
        } => {
            let Some(answer) = echo_answer(&request, &namespace, &name, fwd.backend_timeout).await
            else {
                return plain(504, "upstream request timeout\n".into());
            };
            let mut r = Response::new(Full::new(Bytes::from(answer.body)));
            *r.status_mut() = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK);
            let ops: Vec<HeaderOps> = fwd
                .response_headers
                .iter()
                .chain(backend_ops.iter())
                .cloned()
                .collect();
            with_headers(r, answer.headers, &ops)
        }
    }
}

/// Mirrored requests are sent and their answers dropped, as the spec says;
/// a mirror of a share of requests copies each with that probability.
fn send_mirrors(fwd: &Forward) {
    for (mirror, share) in &fwd.mirrors {
        if !share.takes(fastrand::f64()) {
            continue;
        }
        if let BackendTarget::Echo { namespace, name } = &mirror.target {
            let _ = echo::respond(&fwd.request, namespace, name);
        }
    }
}

/// The echo backend's answer, after any delay it was asked for; `None` when the
/// backend timeout runs out first.
async fn echo_answer(
    request: &RequestHead,
    namespace: &str,
    name: &str,
    timeout: Option<Duration>,
) -> Option<echo::EchoResponse> {
    let answer = async {
        if let Some(delay) = echo::requested_delay(request) {
            tokio::time::sleep(delay).await;
        }
        echo::respond(request, namespace, name)
    };
    match timeout {
        Some(t) => tokio::time::timeout(t, answer).await.ok(),
        None => Some(answer.await),
    }
}
