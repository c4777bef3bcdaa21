//! The cluster's side: facts read through the API (see `facts`), then judged
//! layer by layer from the root cause down: the Gateway API CRDs, the Kong
//! Ingress Controller, the GatewayClass and Gateway, the load balancer, routes.

use serde_json::Value;

use super::{Finding, crds, gateway, kic, metallb, routes, versions};
use crate::lab::docker::NetworkInfo;

pub use super::facts::{Facts, GatherError, Kic, KongProxy, gather};

/// Judges the facts. `network` is the lab's Docker network, when known.
pub fn analyze(f: &Facts, network: Option<&NetworkInfo>) -> (Vec<Finding>, Vec<String>) {
    let mut out = Vec::new();
    let mut checks = vec![format!(
        "cluster reachable ({})",
        f.version.as_deref().unwrap_or("?")
    )];
    crds::check(f, &mut out, &mut checks);
    kic::check(f, &mut out, &mut checks);
    versions::check(f, &mut out, &mut checks);
    gateway::check(f, &mut out, &mut checks);
    metallb::check(f, network, &mut out, &mut checks);
    checks.push(format!(
        "{} HTTPRoutes Accepted and ResolvedRefs",
        f.routes.len()
    ));
    out.extend(routes::check(f));
    (out, checks)
}

/// An object's condition of type `type_`.
pub(super) fn condition<'a>(obj: &'a Value, type_: &str) -> Option<&'a Value> {
    obj["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == type_)
}

/// `namespace/name`, or `name` for a cluster-scoped object.
pub(super) fn name_of(obj: &Value) -> String {
    let name = obj["metadata"]["name"].as_str().unwrap_or_default();
    match obj["metadata"]["namespace"].as_str() {
        Some(ns) => format!("{ns}/{name}"),
        None => name.to_string(),
    }
}
