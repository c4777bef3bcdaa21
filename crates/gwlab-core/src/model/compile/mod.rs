//! From applied objects to what a Gateway API controller produces: status for
//! every object (attachment, references, listeners) and, per Gateway listener,
//! the table of route matches that requests are routed with.
//!
//! One module per step: [`classes`] accepts the GatewayClasses this controller
//! owns, [`listeners`] validates Gateways and their listeners (with [`tls`] for
//! listener certificates), [`attachment`] binds HTTPRoutes to listeners, and
//! [`rules`] turns route rules into matches, filters and backends. [`grants`]
//! holds the ReferenceGrant and namespace checks several of them share.

mod attachment;
mod classes;
mod grants;
mod ir;
mod listeners;
mod rules;
mod tls;

pub use classes::SUPPORTED_FEATURES;
pub use grants::{GrantedRef, grant_allows};
pub use ir::*;
pub use rules::resolve_backend;

/// The controller the embedded gateway acts as: the lab GatewayClass's.
pub use crate::kong::CONTROLLER_NAME;

use super::world::{ObjKey, Stored, World};
use crate::implementations::Implementation;
use listeners::GatewayWork;
use std::sync::Arc;

fn ns_of(s: &Stored) -> &str {
    s.manifest.namespace.as_deref().unwrap_or("")
}

/// Computes status and routing tables for everything in `world`, as the
/// spec says.
pub fn compile(world: &World) -> Compiled {
    compile_as(world, Implementation::Spec)
}

/// Computes status and routing tables as `implementation` does: the
/// GatewayClass says that implementation's features, and requests are
/// routed with its semantics.
pub fn compile_as(world: &World, implementation: Implementation) -> Compiled {
    let mut out = Compiled {
        implementation,
        ..Compiled::default()
    };
    let owned_classes = classes::compile_classes(world, &mut out);
    let mut gateways = listeners::compile_gateways(world, &owned_classes, &mut out);
    attachment::compile_routes(world, &mut gateways, &mut out);
    finish_gateways(gateways, &mut out);
    out
}

/// Writes each listener's count of attached routes into its Gateway's status
/// and keeps the listener tables.
fn finish_gateways(gateways: GatewayWork, out: &mut Compiled) {
    let shared = out
        .implementation
        .deviates("shared-proxy")
        .then(|| Arc::new(shared_routes(&gateways)));
    for ((ns, name), work) in gateways {
        let key = ObjKey::new("Gateway", &ns, &name);
        if let Some(st) = out.status.get_mut(&key) {
            for (ls, w) in st.listeners.iter_mut().zip(work.iter()) {
                ls.attached_routes = w.attached;
            }
        }
        let gateway = GatewayTable {
            namespace: ns.clone(),
            name: name.clone(),
            listeners: work.into_iter().map(|w| w.table).collect(),
            implementation: out.implementation,
            shared: shared.clone(),
        };
        out.gateways.insert((ns, name), gateway);
    }
}

/// Every programmed listener's entries, of every Gateway: what one proxy
/// serving them all routes with. A match of a route attached to several
/// listeners of a protocol is kept once.
fn shared_routes(gateways: &GatewayWork) -> SharedRoutes {
    let mut out = SharedRoutes::default();
    for l in gateways
        .values()
        .flatten()
        .map(|w| &w.table)
        .filter(|l| l.programmed)
    {
        for e in &l.entries {
            let seen = out.entries.iter().any(|(p, _, o)| {
                *p == l.protocol
                    && o.route.namespace == e.route.namespace
                    && o.route.name == e.route.name
                    && o.rule_index == e.rule_index
                    && o.match_index == e.match_index
                    && o.hostnames == e.hostnames
            });
            if !seen {
                out.entries
                    .push((l.protocol.clone(), l.hostname.clone(), e.clone()));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::gateway_api::Listener;
    use crate::model::status::{ListenerStatus, ObjectStatus};
    use listeners::ListenerWork;

    #[test]
    fn attached_route_counts_go_into_the_gateway_status() {
        let spec = |name: &str| Listener {
            name: name.into(),
            port: 80,
            protocol: "HTTP".into(),
            ..Default::default()
        };
        let mut a = ListenerWork::new(&spec("a"), true, None);
        a.attached = 2;
        let b = ListenerWork::new(&spec("b"), false, None);
        let mut out = Compiled::default();
        let status = |name: &str| ListenerStatus {
            name: name.into(),
            attached_routes: 0,
            supported_kinds: vec![],
            conditions: vec![],
        };
        out.status.insert(
            ObjKey::new("Gateway", "ns", "gw"),
            ObjectStatus {
                listeners: vec![status("a"), status("b")],
                ..Default::default()
            },
        );
        let work: GatewayWork = [(("ns".to_string(), "gw".to_string()), vec![a, b])].into();
        finish_gateways(work, &mut out);
        let counts: Vec<u32> = out.status[&ObjKey::new("Gateway", "ns", "gw")]
            .listeners
            .iter()
            .map(|l| l.attached_routes)
            .collect();
        assert_eq!(counts, [2, 0]);
        let table = out.gateway("ns", "gw").expect("the Gateway's table");
        let names: Vec<&str> = table.listeners.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(names, ["a", "b"]);
    }
}
