//! The route map: what routes where, as a small graph built from the compiled
//! model and its statuses. Gateway → listeners → attached routes → rules →
//! backends, and the routes no listener took, apart, with the reason.
//!
//! [`RouteMap`] is data (it goes into the JSON report as `routeMap`); the
//! renderers ([`svg`], [`dot`], [`mermaid`]) draw the same nodes and edges,
//! listed once here by [`RouteMap::graph`].

pub mod dot;
pub mod mermaid;
pub mod svg;

use serde::{Deserialize, Serialize};

use crate::model::compile::{
    BackendTarget, Compiled, Filter, GatewayTable, MatchSpec, PathKind, PathRewrite, RouteTable,
};
use crate::model::lab_gateway;
use crate::model::status::find;
use crate::model::world::ObjKey;

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
    pub fn is_attached(&self) -> bool {
        !self.attached.is_empty()
    }

    /// Why no listener took the route, in a few words (its first refusal's reason).
    pub fn refusal_reason(&self) -> String {
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

/// The map of the Gateways a scenario uses: its own, and the lab Gateway
/// when one of its routes names it (the embedded target always holds it).
/// Objects in `home` (the scenario's namespace, whose name is random) are
/// named without it, as kubectl names objects of the current namespace.
pub fn build(compiled: &Compiled, home: &str) -> RouteMap {
    let route_parents: Vec<String> = compiled
        .routes
        .iter()
        .filter_map(|r| compiled.status.get(&route_key(r)))
        .flat_map(|st| st.parents.iter().map(|p| p.parent.clone()))
        .collect();
    let lab = format!(
        "{}/{}",
        lab_gateway::GATEWAY_NAMESPACE,
        lab_gateway::GATEWAY_NAME
    );
    let shown: Vec<&GatewayTable> = compiled
        .gateways
        .values()
        .filter(|g| {
            let name = format!("{}/{}", g.namespace, g.name);
            name != lab || route_parents.contains(&name)
        })
        .collect();
    RouteMap {
        gateways: shown.iter().map(|g| gateway_node(g, home)).collect(),
        routes: compiled
            .routes
            .iter()
            .map(|r| route_node(compiled, &shown, r, home))
            .collect(),
    }
}

/// `namespace/name` (or `namespace/name:port`) without the namespace when it is `home`.
fn short(full: &str, home: &str) -> String {
    full.strip_prefix(home)
        .and_then(|rest| rest.strip_prefix('/'))
        .unwrap_or(full)
        .to_string()
}

fn route_key(r: &RouteTable) -> ObjKey {
    ObjKey::new("HTTPRoute", &r.namespace, &r.name)
}

fn gateway_node(g: &GatewayTable, home: &str) -> GatewayNode {
    GatewayNode {
        name: short(&format!("{}/{}", g.namespace, g.name), home),
        listeners: g
            .listeners
            .iter()
            .map(|l| ListenerNode {
                name: l.name.clone(),
                port: l.port,
                protocol: l.protocol.clone(),
                hostname: l.hostname.clone(),
                programmed: l.programmed,
            })
            .collect(),
    }
}

fn route_node(
    compiled: &Compiled,
    shown: &[&GatewayTable],
    r: &RouteTable,
    home: &str,
) -> RouteNode {
    // Attached means in a listener's routing table: what requests are routed by.
    let mut attached = Vec::new();
    for g in shown {
        for l in &g.listeners {
            let here = l
                .entries
                .iter()
                .any(|e| e.route.namespace == r.namespace && e.route.name == r.name);
            if here {
                attached.push(ListenerRef {
                    gateway: short(&format!("{}/{}", g.namespace, g.name), home),
                    listener: l.name.clone(),
                });
            }
        }
    }
    let refused = compiled
        .status
        .get(&route_key(r))
        .map(|st| st.parents.as_slice())
        .unwrap_or_default()
        .iter()
        .filter_map(|p| {
            let accepted = find(&p.conditions, "Accepted")?;
            (accepted.status != "True").then(|| Refusal {
                parent: short(&p.parent, home),
                reason: accepted.reason.clone(),
                message: accepted.message.clone(),
            })
        })
        .collect();
    let rules = r
        .rules
        .iter()
        .enumerate()
        .map(|(i, rule)| RuleNode {
            matches: r
                .matches
                .iter()
                .filter(|(ri, _, _)| *ri == i)
                .map(|(_, _, m)| match_brief(m))
                .collect(),
            filters: rule.filters.iter().map(|f| filter_brief(f, home)).collect(),
            backends: rule
                .backends
                .iter()
                .map(|b| {
                    let (problem, detail) = match &b.target {
                        BackendTarget::Echo { .. } => (None, None),
                        BackendTarget::NoEndpoints { namespace, name } => (
                            Some("503 no endpoints here".to_string()),
                            Some(format!(
                                "Service {namespace}/{name} has no echo backend behind it here"
                            )),
                        ),
                        BackendTarget::Invalid { reason, message } => {
                            (Some(format!("500 {reason}")), Some(message.clone()))
                        }
                    };
                    BackendNode {
                        name: short(&b.display, home),
                        weight: b.weight,
                        problem,
                        detail,
                    }
                })
                .collect(),
        })
        .collect();
    RouteNode {
        name: short(&format!("{}/{}", r.namespace, r.name), home),
        hostnames: r.hostnames.clone(),
        attached,
        refused,
        rules,
    }
}

/// `PathPrefix /api GET header x-env=test query v=2`.
fn match_brief(m: &MatchSpec) -> String {
    let kind = match m.path_kind {
        PathKind::Exact => "Exact",
        PathKind::Prefix => "PathPrefix",
    };
    let mut out = format!("{kind} {}", m.path);
    if let Some(method) = &m.method {
        out.push_str(&format!(" {method}"));
    }
    for (n, v) in &m.headers {
        out.push_str(&format!(" header {n}={v}"));
    }
    for (n, v) in &m.query {
        out.push_str(&format!(" query {n}={v}"));
    }
    out
}

fn rewrite_brief(p: &PathRewrite) -> String {
    match p {
        PathRewrite::Full(s) => format!("path {s}"),
        PathRewrite::Prefix(s) => format!("prefix {s}"),
    }
}

fn filter_brief(f: &Filter, home: &str) -> String {
    match f {
        Filter::RequestHeaders(_) => "request headers".into(),
        Filter::ResponseHeaders(_) => "response headers".into(),
        Filter::Redirect {
            scheme,
            hostname,
            port,
            path,
            status,
        } => {
            let mut out = String::from("redirect");
            for part in [
                scheme.clone(),
                hostname.clone(),
                port.map(|p| format!(":{p}")),
            ]
            .into_iter()
            .flatten()
            {
                out.push_str(&format!(" {part}"));
            }
            if let Some(p) = path {
                out.push_str(&format!(" {}", rewrite_brief(p)));
            }
            format!("{out} {status}")
        }
        Filter::Rewrite { hostname, path } => {
            let mut out = String::from("rewrite");
            if let Some(h) = hostname {
                out.push_str(&format!(" host {h}"));
            }
            if let Some(p) = path {
                out.push_str(&format!(" {}", rewrite_brief(p)));
            }
            out
        }
        Filter::Mirror(b) => format!("mirror {}", short(&b.display, home)),
        Filter::Extension(what) => format!("extension {what}"),
    }
}

/// What kind of thing a node stands for; ids start with its prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    Gateway,
    Listener,
    Route,
    Rule,
    Backend,
}

impl NodeKind {
    /// The class the renderers give it (and the start of its id).
    pub fn class(self) -> &'static str {
        match self {
            NodeKind::Gateway => "gateway",
            NodeKind::Listener => "listener",
            NodeKind::Route => "route",
            NodeKind::Rule => "rule",
            NodeKind::Backend => "backend",
        }
    }
}

/// What an edge joins: a Gateway to its listener, a listener to a route it
/// took (an attachment), a route to its rule, a rule to its backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EdgeKind {
    Listener,
    Attachment,
    Rule,
    Backend,
}

impl EdgeKind {
    pub fn class(self) -> &'static str {
        match self {
            EdgeKind::Listener => "has-listener",
            EdgeKind::Attachment => "attachment",
            EdgeKind::Rule => "has-rule",
            EdgeKind::Backend => "has-backend",
        }
    }
}

/// One box of the map: its id, its lines (the first is its name), a
/// longer description for a tooltip, and whether it is drawn as a failure.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub id: String,
    pub kind: NodeKind,
    pub lines: Vec<String>,
    pub title: String,
    pub failed: bool,
    /// A route no listener took, or a rule or backend of one: drawn apart.
    pub apart: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Edge {
    pub from: String,
    pub to: String,
    pub kind: EdgeKind,
}

/// The nodes and edges every renderer draws, in drawing order: each Gateway
/// with its listeners, then the routes (attached ones first), each followed
/// by its rules and their backends.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Graph {
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
}

impl RouteMap {
    pub fn graph(&self) -> Graph {
        let mut g = Graph::default();
        for (gi, gw) in self.gateways.iter().enumerate() {
            let gw_id = format!("gateway{gi}");
            g.nodes.push(Node {
                id: gw_id.clone(),
                kind: NodeKind::Gateway,
                lines: vec!["Gateway".into(), gw.name.clone()],
                title: format!("Gateway {}", gw.name),
                failed: false,
                apart: false,
            });
            for (li, l) in gw.listeners.iter().enumerate() {
                let id = listener_id(gi, li);
                let host = l.hostname.as_deref().unwrap_or("any host");
                let mut lines = vec![
                    format!("{} :{} {}", l.name, l.port, l.protocol),
                    host.into(),
                ];
                if !l.programmed {
                    lines.push("not programmed".into());
                }
                g.nodes.push(Node {
                    id: id.clone(),
                    kind: NodeKind::Listener,
                    title: format!(
                        "listener {} of {}: port {}, {}, {host}",
                        l.name, gw.name, l.port, l.protocol
                    ),
                    lines,
                    failed: !l.programmed,
                    apart: false,
                });
                g.edges.push(Edge {
                    from: gw_id.clone(),
                    to: id,
                    kind: EdgeKind::Listener,
                });
            }
        }
        let attached_first = self
            .routes
            .iter()
            .enumerate()
            .filter(|(_, r)| r.is_attached())
            .chain(
                self.routes
                    .iter()
                    .enumerate()
                    .filter(|(_, r)| !r.is_attached()),
            );
        for (ri, r) in attached_first {
            self.route_nodes(ri, r, &mut g);
        }
        g
    }

    /// The id of the listener a route is attached to, if the map shows it.
    fn listener_of(&self, at: &ListenerRef) -> Option<String> {
        let gi = self.gateways.iter().position(|g| g.name == at.gateway)?;
        let li = self.gateways[gi]
            .listeners
            .iter()
            .position(|l| l.name == at.listener)?;
        Some(listener_id(gi, li))
    }

    fn route_nodes(&self, ri: usize, r: &RouteNode, g: &mut Graph) {
        let id = format!("route{ri}");
        let apart = !r.is_attached();
        let hosts = if r.hostnames.is_empty() {
            "any host".to_string()
        } else {
            r.hostnames.join(", ")
        };
        let mut lines = vec![r.name.clone(), hosts.clone()];
        let mut title = format!("HTTPRoute {} for {hosts}", r.name);
        if apart {
            lines.push(format!("not attached: {}", r.refusal_reason()));
        }
        for f in &r.refused {
            title.push_str(&format!(
                "; not accepted by {}: {}: {}",
                f.parent, f.reason, f.message
            ));
        }
        g.nodes.push(Node {
            id: id.clone(),
            kind: NodeKind::Route,
            lines,
            title,
            failed: apart,
            apart,
        });
        for at in &r.attached {
            if let Some(l) = self.listener_of(at) {
                g.edges.push(Edge {
                    from: l,
                    to: id.clone(),
                    kind: EdgeKind::Attachment,
                });
            }
        }
        for (ui, rule) in r.rules.iter().enumerate() {
            let rule_id = format!("rule{ri}_{ui}");
            let mut lines = vec![format!("rule {ui}")];
            lines.push(match rule.matches.as_slice() {
                [one] => one.clone(),
                [first, rest @ ..] => format!("{first} (+{} more)", rest.len()),
                [] => "every request".into(),
            });
            if !rule.filters.is_empty() {
                lines.push(rule.filters.join(", "));
            }
            let mut title = format!("rule {ui} of {}: {}", r.name, rule.matches.join(" | "));
            if !rule.filters.is_empty() {
                title.push_str(&format!("; filters: {}", rule.filters.join(", ")));
            }
            g.nodes.push(Node {
                id: rule_id.clone(),
                kind: NodeKind::Rule,
                lines,
                title,
                failed: false,
                apart,
            });
            g.edges.push(Edge {
                from: id.clone(),
                to: rule_id.clone(),
                kind: EdgeKind::Rule,
            });
            let total: u32 = rule.backends.iter().map(|b| b.weight).sum();
            for (bi, b) in rule.backends.iter().enumerate() {
                let backend_id = format!("backend{ri}_{ui}_{bi}");
                let share = if total == 0 {
                    0.0
                } else {
                    100.0 * f64::from(b.weight) / f64::from(total)
                };
                let mut lines = vec![
                    b.name.clone(),
                    format!("weight {} ({share:.0} %)", b.weight),
                ];
                if let Some(p) = &b.problem {
                    lines.push(p.clone());
                }
                g.nodes.push(Node {
                    id: backend_id.clone(),
                    kind: NodeKind::Backend,
                    title: format!(
                        "backend {} of rule {ui} of {}: weight {}{}",
                        b.name,
                        r.name,
                        b.weight,
                        [&b.problem, &b.detail]
                            .into_iter()
                            .flatten()
                            .map(|p| format!("; {p}"))
                            .collect::<String>()
                    ),
                    lines,
                    failed: b.problem.is_some() && b.weight > 0,
                    apart,
                });
                g.edges.push(Edge {
                    from: rule_id.clone(),
                    to: backend_id,
                    kind: EdgeKind::Backend,
                });
            }
        }
    }
}

fn listener_id(gi: usize, li: usize) -> String {
    format!("listener{gi}_{li}")
}

#[cfg(test)]
mod tests;
