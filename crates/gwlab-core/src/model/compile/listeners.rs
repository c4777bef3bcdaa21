//! Gateways of an owned class and their listeners: which are valid (protocol,
//! conflicts, route kinds, certificates), with their conditions, and the empty
//! tables routes attach to.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::tls::{CertificateRefError, listener_certificate};
use super::{CertificatePem, Compiled, ListenerTable, ns_of};
use crate::implementations::{Implementation, deviation};
use crate::kong::LAB_LISTENS;
use crate::manifest::gateway_api::{Gateway, Listener};
use crate::manifest::{GATEWAY_GROUP, Object};
use crate::model::status::{Condition, ListenerStatus, ObjectStatus};
use crate::model::world::World;

/// A listener while routes are attached to it.
pub(super) struct ListenerWork {
    pub table: ListenerTable,
    pub spec: Listener,
    pub attached: u32,
}

impl ListenerWork {
    /// A listener with nothing attached yet.
    pub(super) fn new(
        spec: &Listener,
        programmed: bool,
        certificate: Option<Arc<CertificatePem>>,
    ) -> Self {
        ListenerWork {
            table: ListenerTable {
                name: spec.name.clone(),
                port: spec.port,
                protocol: spec.protocol.clone(),
                hostname: spec.hostname.clone(),
                programmed,
                certificate,
                entries: Vec::new(),
            },
            spec: spec.clone(),
            attached: 0,
        }
    }
}

/// The listeners of each compiled Gateway, by (namespace, name).
pub(super) type GatewayWork = BTreeMap<(String, String), Vec<ListenerWork>>;

/// Status for every Gateway of an `owned` class, and its listeners to attach routes to.
pub(super) fn compile_gateways(world: &World, owned: &[String], out: &mut Compiled) -> GatewayWork {
    let mut work = GatewayWork::new();
    for (key, stored) in world.of_kind("Gateway") {
        let Object::Gateway(gw) = &stored.manifest.object else {
            continue;
        };
        if !owned.contains(&gw.spec.gateway_class_name) {
            continue;
        }
        let ns = ns_of(stored).to_string();
        let (status, listeners) =
            compile_gateway(world, &ns, gw, stored.generation, out.implementation);
        out.status.insert(key.clone(), status);
        work.insert((ns, key.name.clone()), listeners);
    }
    work
}

fn compile_gateway(
    world: &World,
    ns: &str,
    gw: &Gateway,
    generation: u64,
    implementation: Implementation,
) -> (ObjectStatus, Vec<ListenerWork>) {
    let all: Vec<&Listener> = gw.spec.listeners.iter().map(|l| &l.value).collect();
    let (statuses, work): (Vec<ListenerStatus>, Vec<ListenerWork>) = all
        .iter()
        .map(|l| compile_listener(world, ns, gw, l, &all, generation, implementation))
        .unzip();
    let valid = work.iter().filter(|w| w.table.programmed).count();
    let status = ObjectStatus {
        generation,
        conditions: gateway_conditions(valid, work.len(), generation),
        listeners: statuses,
        ..Default::default()
    };
    (status, work)
}

/// The Gateway's own conditions, from how many of its listeners are valid.
fn gateway_conditions(valid: usize, total: usize, generation: u64) -> Vec<Condition> {
    let accepted = if valid == total {
        Condition::new("Accepted", true, "Accepted", "", generation)
    } else {
        Condition::new(
            "Accepted",
            valid > 0,
            "ListenersNotValid",
            format!("{} of {total} listeners are not valid", total - valid),
            generation,
        )
    };
    let programmed = if valid > 0 {
        Condition::new(
            "Programmed",
            true,
            "Programmed",
            "served on loopback by the gwlab embedded gateway",
            generation,
        )
    } else {
        Condition::new(
            "Programmed",
            false,
            "Invalid",
            "no listener is valid",
            generation,
        )
    };
    vec![accepted, programmed]
}

/// Whether a listener is accepted, and if not why (reason, message): the
/// embedded gateway serves HTTP and HTTPS on any port; Kong only on its
/// listens (listener-needs-kong-listen).
fn accepted(l: &Listener, implementation: Implementation) -> Result<(), (&'static str, String)> {
    if !matches!(l.protocol.as_str(), "HTTP" | "HTTPS") {
        return Err((
            "UnsupportedProtocol",
            format!(
                "protocol {} is not served by the embedded gateway",
                l.protocol
            ),
        ));
    }
    let kong = implementation.deviates("listener-needs-kong-listen");
    if kong && !LAB_LISTENS.contains(&(l.protocol.as_str(), l.port)) {
        let said = deviation("listener-needs-kong-listen")
            .map(|d| d.said())
            .unwrap_or_default();
        return Err((
            "PortUnavailable",
            format!(
                "no Kong listen with the requested protocol is configured for the requested port ({} {}; the lab's Kong listens on HTTP 80 and HTTPS 443); {said}",
                l.protocol, l.port
            ),
        ));
    }
    Ok(())
}

/// One listener's status and table. `all` are the Gateway's listeners, this one included.
fn compile_listener(
    world: &World,
    ns: &str,
    gw: &Gateway,
    l: &Listener,
    all: &[&Listener],
    generation: u64,
    implementation: Implementation,
) -> (ListenerStatus, ListenerWork) {
    let accepted = accepted(l, implementation);
    let supported = accepted.is_ok();
    let conflict = conflict_reason(l, all);
    let kinds = route_kinds(l);
    let (certificate, cert_problem) = https_certificate(world, ns, gw, l);
    let programmed =
        supported && conflict.is_none() && cert_problem.is_none() && !kinds.valid.is_empty();
    let (reason, message) = accepted.err().unwrap_or(("Accepted", String::new()));
    let conditions = vec![
        Condition::holds_or("Accepted", supported, reason, message, generation),
        conflicted_condition(conflict, generation),
        resolved_refs_condition(l, cert_problem.as_ref(), &kinds, generation),
        Condition::holds_or(
            "Programmed",
            programmed,
            "Invalid",
            "the listener is not valid; see its other conditions",
            generation,
        ),
    ];
    let status = ListenerStatus {
        name: l.name.clone(),
        attached_routes: 0,
        supported_kinds: kinds.valid,
        conditions,
    };
    (status, ListenerWork::new(l, programmed, certificate))
}

/// The certificate of an HTTPS listener, or why it does not resolve; nothing
/// for other protocols.
fn https_certificate(
    world: &World,
    ns: &str,
    gw: &Gateway,
    l: &Listener,
) -> (Option<Arc<CertificatePem>>, Option<CertificateRefError>) {
    if l.protocol != "HTTPS" {
        return (None, None);
    }
    match listener_certificate(world, ns, &gw.metadata, l) {
        Ok(c) => (c, None),
        Err(problem) => (None, Some(problem)),
    }
}

fn conflicted_condition(conflict: Option<&str>, generation: u64) -> Condition {
    match conflict {
        Some(reason) => Condition::new(
            "Conflicted",
            true,
            reason,
            "another listener on this port conflicts with this one",
            generation,
        ),
        None => Condition::new("Conflicted", false, "NoConflicts", "", generation),
    }
}

fn resolved_refs_condition(
    l: &Listener,
    cert_problem: Option<&CertificateRefError>,
    kinds: &RouteKinds,
    generation: u64,
) -> Condition {
    if let Some(problem) = cert_problem {
        return Condition::new(
            "ResolvedRefs",
            false,
            problem.reason(),
            problem.to_string(),
            generation,
        );
    }
    if !kinds.invalid.is_empty() {
        return Condition::new(
            "ResolvedRefs",
            false,
            "InvalidRouteKinds",
            format!(
                "route kinds not supported on {}: {}",
                l.protocol,
                kinds.invalid.join(", ")
            ),
            generation,
        );
    }
    Condition::new("ResolvedRefs", true, "ResolvedRefs", "", generation)
}

/// Why `l` conflicts with another listener of the same port, as a condition reason.
fn conflict_reason(l: &Listener, all: &[&Listener]) -> Option<&'static str> {
    let same_port: Vec<&&Listener> = all
        .iter()
        .filter(|o| o.port == l.port && o.name != l.name)
        .collect();
    if same_port.iter().any(|o| o.protocol != l.protocol) {
        return Some("ProtocolConflict");
    }
    if same_port.iter().any(|o| o.hostname == l.hostname) {
        return Some("HostnameConflict");
    }
    None
}

/// The route kinds a listener admits: the valid ones of `allowedRoutes.kinds`,
/// or, when none are given, those of its protocol; and the invalid ones named.
pub(super) struct RouteKinds {
    pub valid: Vec<String>,
    pub invalid: Vec<String>,
}

pub(super) fn route_kinds(l: &Listener) -> RouteKinds {
    let for_protocol: &[&str] = match l.protocol.as_str() {
        "HTTP" | "HTTPS" => &["HTTPRoute", "GRPCRoute"],
        "TLS" => &["TLSRoute"],
        "TCP" => &["TCPRoute"],
        "UDP" => &["UDPRoute"],
        _ => &[],
    };
    let Some(kinds) = l
        .allowed_routes
        .as_ref()
        .and_then(|a| a.kinds.as_ref())
        .filter(|k| !k.is_empty())
    else {
        return RouteKinds {
            valid: for_protocol.iter().map(|k| k.to_string()).collect(),
            invalid: vec![],
        };
    };
    let mut out = RouteKinds {
        valid: vec![],
        invalid: vec![],
    };
    for k in kinds {
        let group = k.group.as_deref().unwrap_or(GATEWAY_GROUP);
        if group == GATEWAY_GROUP && for_protocol.contains(&k.kind.as_str()) {
            out.valid.push(k.kind.clone());
        } else {
            out.invalid.push(format!("{group}/{}", k.kind));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::gateway_api::{AllowedRoutes, RouteGroupKind};
    use crate::model::status::find;
    use crate::model::test_support::world_of;

    fn listener(name: &str, port: u16, protocol: &str, hostname: Option<&str>) -> Listener {
        Listener {
            name: name.into(),
            port,
            protocol: protocol.into(),
            hostname: hostname.map(String::from),
            ..Default::default()
        }
    }

    fn with_kinds(protocol: &str, kinds: &[(Option<&str>, &str)]) -> Listener {
        Listener {
            allowed_routes: Some(AllowedRoutes {
                namespaces: None,
                kinds: Some(
                    kinds
                        .iter()
                        .map(|(g, k)| RouteGroupKind {
                            group: g.map(String::from),
                            kind: k.to_string(),
                        })
                        .collect(),
                ),
            }),
            ..listener("l", 80, protocol, None)
        }
    }

    #[test]
    fn listeners_on_one_port_conflict_by_protocol_then_hostname() {
        let a = listener("a", 80, "HTTP", Some("a.example.com"));
        let b = listener("b", 80, "HTTP", Some("b.example.com"));
        let c = listener("c", 80, "HTTPS", Some("c.example.com"));
        let d = listener("d", 80, "HTTP", Some("a.example.com"));
        let e = listener("e", 81, "TCP", Some("a.example.com"));
        assert_eq!(conflict_reason(&a, &[&a, &b, &e]), None);
        assert_eq!(conflict_reason(&a, &[&a, &b, &c]), Some("ProtocolConflict"));
        assert_eq!(conflict_reason(&a, &[&a, &d]), Some("HostnameConflict"));
        assert_eq!(conflict_reason(&a, &[&a]), None);
    }

    #[test]
    fn route_kinds_default_to_those_of_the_protocol() {
        let kinds = |p: &str| route_kinds(&listener("l", 80, p, None)).valid;
        assert_eq!(kinds("HTTP"), ["HTTPRoute", "GRPCRoute"]);
        assert_eq!(kinds("HTTPS"), ["HTTPRoute", "GRPCRoute"]);
        assert_eq!(kinds("TLS"), ["TLSRoute"]);
        assert_eq!(kinds("TCP"), ["TCPRoute"]);
        assert_eq!(kinds("UDP"), ["UDPRoute"]);
        assert!(kinds("SCTP").is_empty());
        // An empty list counts as none given.
        assert_eq!(route_kinds(&with_kinds("TLS", &[])).valid, ["TLSRoute"]);
    }

    #[test]
    fn given_route_kinds_split_into_valid_and_invalid() {
        let k = route_kinds(&with_kinds(
            "HTTP",
            &[
                (None, "HTTPRoute"),
                (Some("example.com"), "HTTPRoute"),
                (Some(GATEWAY_GROUP), "TCPRoute"),
            ],
        ));
        assert_eq!(k.valid, ["HTTPRoute"]);
        assert_eq!(
            k.invalid,
            [
                "example.com/HTTPRoute",
                "gateway.networking.k8s.io/TCPRoute"
            ]
        );
    }

    #[test]
    fn gateway_conditions_count_the_invalid_listeners() {
        let c = gateway_conditions(1, 3, 7);
        assert_eq!(
            (c[0].status.as_str(), c[0].reason.as_str()),
            ("True", "ListenersNotValid")
        );
        assert_eq!(c[0].message, "2 of 3 listeners are not valid");
        assert_eq!(
            (c[1].status.as_str(), c[1].reason.as_str()),
            ("True", "Programmed")
        );
        let none = gateway_conditions(0, 1, 7);
        assert_eq!(
            (none[0].status.as_str(), none[1].reason.as_str()),
            ("False", "Invalid")
        );
        let all = gateway_conditions(2, 2, 7);
        assert_eq!(all[0].reason, "Accepted");
        assert!(all.iter().all(|c| c.observed_generation == 7));
    }

    fn gateway(listeners: &str) -> Gateway {
        let yaml = format!(
            "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {{name: gw}}\nspec:\n  gatewayClassName: c\n  listeners:\n{listeners}"
        );
        let w = world_of(&yaml);
        let (_, stored) = w.of_kind("Gateway").next().expect("a Gateway");
        match &stored.manifest.object {
            Object::Gateway(g) => (**g).clone(),
            _ => unreachable!(),
        }
    }

    fn condition(s: &ListenerStatus, ty: &str) -> (String, String, String) {
        let c = find(&s.conditions, ty).expect(ty);
        (c.status.clone(), c.reason.clone(), c.message.clone())
    }

    #[test]
    fn a_listener_is_programmed_only_when_every_condition_holds() {
        let gw = gateway(
            "  - {name: web, port: 80, protocol: HTTP}
  - {name: raw, port: 9000, protocol: TCP}
  - {name: tls, port: 443, protocol: HTTPS, tls: {certificateRefs: [{name: missing}]}}
  - {name: grpc, port: 8080, protocol: HTTP, allowedRoutes: {kinds: [{kind: TLSRoute}]}}
",
        );
        let (status, work) =
            compile_gateway(&World::default(), "app", &gw, 3, Implementation::Spec);
        let programmed: Vec<bool> = work.iter().map(|w| w.table.programmed).collect();
        assert_eq!(programmed, [true, false, false, false]);
        let ls = &status.listeners;
        assert_eq!(ls[0].supported_kinds, ["HTTPRoute", "GRPCRoute"]);
        assert_eq!(
            condition(&ls[1], "Accepted"),
            (
                "False".into(),
                "UnsupportedProtocol".into(),
                "protocol TCP is not served by the embedded gateway".into()
            )
        );
        assert_eq!(
            condition(&ls[2], "ResolvedRefs"),
            (
                "False".into(),
                "InvalidCertificateRef".into(),
                "Secret app/missing does not exist".into()
            )
        );
        assert_eq!(
            condition(&ls[3], "ResolvedRefs"),
            (
                "False".into(),
                "InvalidRouteKinds".into(),
                "route kinds not supported on HTTP: gateway.networking.k8s.io/TLSRoute".into()
            )
        );
        assert_eq!(condition(&ls[3], "Programmed").1, "Invalid");
        assert_eq!(
            status.conditions[0].message,
            "3 of 4 listeners are not valid"
        );
    }
}
