//! The nodes and edges every renderer draws, listed once from a [`RouteMap`]:
//! ids, lines of text, tooltips, and which boxes are failures or apart.

use super::{ListenerRef, RouteMap, RouteNode};

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
                // The model always has a match; a saved report's map may not.
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
