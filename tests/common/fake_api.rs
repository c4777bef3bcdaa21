//! A small stateful stand-in for a Kubernetes API server, behind kube's client:
//! objects are stored by path; server-side apply stores them; a Deployment
//! becomes Available and an HTTPRoute Accepted, as their controllers would
//! make them; deletes remove; list and watch see what is stored. Every
//! request is recorded, so tests can assert what gwlab sent.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use http::{Request, Response, StatusCode};
use kube::Client;
use kube::client::Body;
use serde_json::{Value, json};

#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub query: String,
    pub body: Option<Value>,
}

impl Seen {
    pub fn line(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
    pub fn is_watch(&self) -> bool {
        self.query.contains("watch=true") || self.query.contains("watch=1")
    }
}

#[derive(Default)]
pub struct State {
    pub objects: BTreeMap<String, Value>,
    pub seen: Vec<Seen>,
    pub next_uid: u64,
    /// Route status the fake controller writes: Accepted reason for every parent.
    pub route_accepted: bool,
    /// Faults a real API server cannot be made to produce on demand: when it
    /// returns an answer (status code, Status body), that answer is sent
    /// instead of the fake's own.
    pub fault: Option<Fault>,
}

pub type Fault = Box<dyn Fn(&Seen) -> Option<(u16, Value)> + Send>;

/// A failure as the API server words it.
pub fn failure(code: u16, reason: &str, message: &str) -> (u16, Value) {
    let (_, v) = status(code, reason, message);
    (code, v)
}

pub type Shared = Arc<Mutex<State>>;

fn status(code: u16, reason: &str, message: &str) -> (StatusCode, Value) {
    (
        StatusCode::from_u16(code).unwrap(),
        json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": code, "reason": reason, "message": message}),
    )
}

fn query_value(query: &str, key: &str) -> Option<String> {
    query
        .split('&')
        .find_map(|kv| kv.strip_prefix(&format!("{key}=")))
        .map(|v| {
            v.replace("%3D", "=")
                .replace("%2F", "/")
                .replace("%2C", ",")
        })
}

/// Simulates the controllers that would act on an applied object.
fn reconcile(obj: &mut Value, route_accepted: bool) {
    let kind = obj["kind"].as_str().unwrap_or_default().to_string();
    let generation = obj["metadata"]["generation"].as_u64().unwrap_or(1);
    match kind.as_str() {
        "Deployment" => {
            obj["status"] = json!({"conditions": [{"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"}]})
        }
        "Namespace" => obj["status"] = json!({"phase": "Active"}),
        "HTTPRoute" => {
            let ns = obj["metadata"]["namespace"].clone();
            let parents: Vec<Value> = obj["spec"]["parentRefs"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .map(|p| {
                    let mut r = p.clone();
                    if r.get("namespace").is_none() {
                        r["namespace"] = ns.clone();
                    }
                    let (st, reason) = if route_accepted { ("True", "Accepted") } else { ("False", "NotAllowedByListeners") };
                    json!({"parentRef": r, "controllerName": "konghq.com/kic-gateway-controller", "conditions": [
                        {"type": "Accepted", "status": st, "reason": reason, "message": "", "observedGeneration": generation},
                        {"type": "ResolvedRefs", "status": "True", "reason": "ResolvedRefs", "message": "", "observedGeneration": generation}]})
                })
                .collect();
            obj["status"] = json!({"parents": parents});
        }
        _ => {}
    }
}

fn handle(state: &Shared, s: &Seen) -> Option<(StatusCode, Value, bool)> {
    let mut st = state.lock().unwrap();
    if let Some((code, body)) = st.fault.as_ref().and_then(|f| f(s)) {
        return Some((StatusCode::from_u16(code).unwrap(), body, false));
    }
    let route_accepted = st.route_accepted;
    match s.method.as_str() {
        "PATCH" => {
            let mut obj = s.body.clone().unwrap_or(json!({}));
            let prev = st.objects.get(&s.path).cloned();
            let generation = match &prev {
                Some(p) if p["spec"] == obj["spec"] => {
                    p["metadata"]["generation"].as_u64().unwrap_or(1)
                }
                Some(p) => p["metadata"]["generation"].as_u64().unwrap_or(1) + 1,
                None => 1,
            };
            st.next_uid += 1;
            let uid = prev
                .as_ref()
                .and_then(|p| p["metadata"]["uid"].as_str().map(String::from))
                .unwrap_or_else(|| format!("uid-{}", st.next_uid));
            obj["metadata"]["generation"] = json!(generation);
            obj["metadata"]["uid"] = json!(uid);
            obj["metadata"]["resourceVersion"] = json!(st.next_uid.to_string());
            reconcile(&mut obj, route_accepted);
            st.objects.insert(s.path.clone(), obj.clone());
            Some((StatusCode::OK, obj, false))
        }
        "DELETE" => match st.objects.remove(&s.path) {
            Some(obj) => {
                // Deleting a namespace deletes what is in it, as the namespace controller does.
                if obj["kind"] == "Namespace" {
                    let inside = format!(
                        "/namespaces/{}/",
                        obj["metadata"]["name"].as_str().unwrap_or_default()
                    );
                    st.objects.retain(|k, _| !k.contains(&inside));
                }
                Some((
                    StatusCode::OK,
                    json!({"kind": "Status", "apiVersion": "v1", "status": "Success"}),
                    false,
                ))
            }
            None => {
                let (c, v) = status(404, "NotFound", "not found");
                Some((c, v, false))
            }
        },
        "GET" => {
            if let Some(obj) = st.objects.get(&s.path) {
                return Some((StatusCode::OK, obj.clone(), false));
            }
            // A collection: list (or watch) what is stored under it.
            let prefix = format!("{}/", s.path);
            let name = query_value(&s.query, "fieldSelector")
                .and_then(|f| f.strip_prefix("metadata.name=").map(String::from));
            let labels = query_value(&s.query, "labelSelector");
            // A list across namespaces (`/apis/g/v/<plural>`) sees every namespace's.
            let across = |k: &str| -> bool {
                let Some((base, plural)) = s.path.rsplit_once('/') else {
                    return false;
                };
                k.strip_prefix(&format!("{base}/namespaces/"))
                    .and_then(|rest| rest.split_once('/'))
                    .is_some_and(|(_, r)| {
                        r.strip_prefix(&format!("{plural}/"))
                            .is_some_and(|n| !n.contains('/'))
                    })
            };
            let items: Vec<Value> = st
                .objects
                .iter()
                .filter(|(k, _)| {
                    (k.starts_with(&prefix) && !k[prefix.len()..].contains('/')) || across(k)
                })
                .filter(|(k, _)| name.as_ref().is_none_or(|n| k[prefix.len()..] == **n))
                .filter(|(_, v)| {
                    labels.as_ref().is_none_or(|sel| {
                        sel.split(',').all(|kv| {
                            kv.split_once('=')
                                .is_some_and(|(k, val)| v["metadata"]["labels"][k] == val)
                        })
                    })
                })
                .map(|(_, v)| v.clone())
                .collect();
            if s.is_watch() {
                // Current objects as events; nothing more to say afterwards.
                return if items.is_empty() {
                    None
                } else {
                    let events: Vec<Value> = items
                        .into_iter()
                        .map(|o| json!({"type": "ADDED", "object": o}))
                        .collect();
                    Some((StatusCode::OK, Value::Array(events), true))
                };
            }
            if is_collection(&s.path) {
                return Some((
                    StatusCode::OK,
                    json!({"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": st.next_uid.to_string()}, "items": items}),
                    false,
                ));
            }
            let (c, v) = status(404, "NotFound", "not found");
            Some((c, v, false))
        }
        _ => {
            let (c, v) = status(405, "MethodNotAllowed", "not in the fake");
            Some((c, v, false))
        }
    }
}

/// `/api/v1/<plural>`, `/api/v1/namespaces/<ns>/<plural>`, `/apis/<g>/<v>/...`
/// alike: a collection has an odd number of segments after the version.
fn is_collection(path: &str) -> bool {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let after_version = match segments.first() {
        Some(&"api") => segments.len().saturating_sub(2),
        _ => segments.len().saturating_sub(3),
    };
    after_version % 2 == 1
}

/// A kube client backed by the fake, and the fake's state.
pub fn fake() -> (Client, Shared) {
    let state: Shared = Arc::new(Mutex::new(State {
        route_accepted: true,
        ..Default::default()
    }));
    let (svc, mut handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
    let st = state.clone();
    tokio::spawn(async move {
        let mut hung = Vec::new();
        while let Some((req, send)) = handle.next_request().await {
            let (parts, body) = req.into_parts();
            let bytes = body.collect_bytes().await.unwrap_or_default();
            let seen = Seen {
                method: parts.method.to_string(),
                path: parts.uri.path().to_string(),
                query: parts.uri.query().unwrap_or_default().to_string(),
                body: serde_json::from_slice(&bytes).ok(),
            };
            st.lock().unwrap().seen.push(seen.clone());
            match handle_request(&st, &seen) {
                Some(resp) => send.send_response(resp),
                None => hung.push(send),
            }
        }
    });
    (Client::new(svc, "default"), state)
}

fn handle_request(state: &Shared, s: &Seen) -> Option<Response<Body>> {
    let (code, value, events) = handle(state, s)?;
    let body = if let Value::String(text) = &value {
        // Pod logs are plain text.
        text.clone().into_bytes()
    } else if events {
        value
            .as_array()
            .unwrap()
            .iter()
            .map(|e| format!("{e}\n"))
            .collect::<String>()
            .into_bytes()
    } else {
        serde_json::to_vec(&value).unwrap()
    };
    Some(
        Response::builder()
            .status(code)
            .header("content-type", "application/json")
            .body(Body::from(body))
            .unwrap(),
    )
}

/// Puts an object in the fake as if it had always been there.
pub fn seed(state: &Shared, path: &str, obj: Value) {
    state.lock().unwrap().objects.insert(path.to_string(), obj);
}

/// The lab as `gwlab up` leaves it: GatewayClass kong (no supportedFeatures),
/// Gateway kong-system/kong, the Kong Deployment with KIC 3.5.13, kong-system.
pub fn seed_lab(state: &Shared) {
    seed(
        state,
        "/api/v1/namespaces/kong-system",
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "kong-system", "uid": "ks"}}),
    );
    seed(
        state,
        "/apis/gateway.networking.k8s.io/v1/gatewayclasses/kong",
        json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "GatewayClass", "metadata": {"name": "kong", "uid": "gc"}, "spec": {"controllerName": "konghq.com/kic-gateway-controller"}, "status": {"conditions": [{"type": "Accepted", "status": "True", "reason": "Accepted"}]}}),
    );
    seed(
        state,
        "/apis/gateway.networking.k8s.io/v1/namespaces/kong-system/gateways/kong",
        json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway", "metadata": {"name": "kong", "namespace": "kong-system", "uid": "gw"}, "spec": {"gatewayClassName": "kong", "listeners": []}, "status": {"addresses": [{"value": "127.0.0.1"}], "conditions": [{"type": "Programmed", "status": "True", "reason": "Programmed"}]}}),
    );
    seed(
        state,
        "/apis/apps/v1/namespaces/kong-system/deployments/kong",
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "kong", "namespace": "kong-system", "uid": "d"},
        "spec": {"selector": {"matchLabels": {"app": "kong"}}, "template": {"metadata": {"labels": {"app": "kong"}}, "spec": {"containers": [{"name": "proxy", "image": "kong:3.9.3"}, {"name": "ingress-controller", "image": "kong/kubernetes-ingress-controller:3.5.13"}]}}}}),
    );
}
