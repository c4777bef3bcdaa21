//! The route map: what routes where, as a small graph built from the compiled
//! model and its statuses. Gateway → listeners → attached routes → rules →
//! backends, and the routes no listener took, apart, with the reason.
//!
//! [`RouteMap`] is data (it goes into the JSON report as `routeMap`); the
//! renderers ([`svg`], [`dot`], [`mermaid`]) draw the same nodes and edges,
//! listed once by [`RouteMap::graph`].

mod build;
pub mod dot;
mod graph;
pub mod mermaid;
pub mod svg;

use serde::{Deserialize, Serialize};

pub use build::build;
pub use graph::{Edge, EdgeKind, Graph, Node, NodeKind};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RouteMap {
    pub gateways: Vec<GatewayNode>,
    /// Every HTTPRoute, oldest first, attached or not.
    pub routes: Vec<RouteNode>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GatewayNode {
    /// `namespace/name`.
    pub name: String,
    pub listeners: Vec<ListenerNode>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListenerNode {
    pub name: String,
    pub port: u16,
    pub protocol: String,
    /// `None`: any host.
    pub hostname: Option<String>,
    pub programmed: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RouteNode {
    /// `namespace/name`.
    pub name: String,
    pub hostnames: Vec<String>,
    /// The listeners that took the route.
    pub attached: Vec<ListenerRef>,
    /// Parents that did not accept it, with their `Accepted` condition.
    pub refused: Vec<Refusal>,
    pub rules: Vec<RuleNode>,
}

impl RouteNode {
    pub(crate) fn is_attached(&self) -> bool {
        !self.attached.is_empty()
    }

    /// Why no listener took the route, in a few words (its first refusal's reason).
    pub(crate) fn refusal_reason(&self) -> String {
        match self.refused.first() {
            Some(r) => r.reason.clone(),
            None => "no parent served here".into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListenerRef {
    /// `namespace/name` of the Gateway.
    pub gateway: String,
    pub listener: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Refusal {
    /// `namespace/name` of the parent Gateway.
    pub parent: String,
    pub reason: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleNode {
    /// Each match in brief: `PathPrefix /api GET header x-env=test`.
    pub matches: Vec<String>,
    /// Each filter in brief: `redirect https 301`.
    pub filters: Vec<String>,
    pub backends: Vec<BackendNode>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BackendNode {
    /// `namespace/name:port` as referenced.
    pub name: String,
    pub weight: u32,
    /// What its share of traffic gets when that is not an answer from a
    /// backend, in brief: `503 no endpoints here`, `500 BackendNotFound`.
    pub problem: Option<String>,
    /// The problem in full, with the reference's message.
    pub detail: Option<String>,
}
