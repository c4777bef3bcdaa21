//! The route map built from the compiled model: the Gateways a scenario
//! uses, each listener's attached routes (from the routing tables, what
//! requests are routed by), each route's refusals (from its status), rules
//! and backends in brief.

use super::{
    BackendNode, GatewayNode, ListenerNode, ListenerRef, Refusal, RouteMap, RouteNode, RuleNode,
};
use crate::model::compile::{
    BackendTarget, Compiled, Filter, GatewayTable, MatchSpec, PathKind, PathRewrite, RouteTable,
};
use crate::model::lab_gateway;
use crate::model::status::find;
use crate::model::world::ObjKey;

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
        Filter::Cors(_) => "CORS".into(),
        Filter::Mirror(b, share) => {
            let of = share.said();
            let mirror = format!("mirror {}", short(&b.display, home));
            if of.is_empty() {
                mirror
            } else {
                format!("{mirror} {of}")
            }
        }
        Filter::Extension(what) => format!("extension {what}"),
    }
}
