//! From applied objects to what a Gateway API controller produces: status for
//! every object (attachment, references, listeners) and, per Gateway listener,
//! the table of route matches that requests are routed with.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use super::hostname;
use super::status::{Condition, ListenerStatus, ObjectStatus, ParentStatus};
use super::world::{ObjKey, Stored, World};
use crate::manifest::gateway_api::*;
use crate::manifest::{GATEWAY_GROUP, Object};

/// The controller the embedded gateway acts as: the lab GatewayClass's.
pub use crate::kong::CONTROLLER_NAME;

/// What the embedded gateway supports, as GatewayClass `status.supportedFeatures`:
/// every standard-channel HTTPRoute feature of Gateway API v1.2.
pub const SUPPORTED_FEATURES: &[&str] = &[
    "Gateway",
    "GatewayPort8080",
    "HTTPRoute",
    "HTTPRouteBackendRequestHeaderModification",
    "HTTPRouteHostRewrite",
    "HTTPRouteMethodMatching",
    "HTTPRouteParentRefPort",
    "HTTPRoutePathRedirect",
    "HTTPRoutePathRewrite",
    "HTTPRoutePortRedirect",
    "HTTPRouteQueryParamMatching",
    "HTTPRouteRequestMirror",
    "HTTPRouteRequestTimeout",
    "HTTPRouteBackendTimeout",
    "HTTPRouteResponseHeaderModification",
    "HTTPRouteSchemeRedirect",
    "ReferenceGrant",
];

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub enum PathKind {
    Exact,
    Prefix,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct MatchSpec {
    pub path_kind: PathKind,
    pub path: String,
    pub method: Option<String>,
    /// Header names lower-cased; only the first entry of a name counts.
    pub headers: Vec<(String, String)>,
    pub query: Vec<(String, String)>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct HeaderOps {
    pub set: Vec<(String, String)>,
    pub add: Vec<(String, String)>,
    pub remove: Vec<String>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub enum Filter {
    RequestHeaders(HeaderOps),
    ResponseHeaders(HeaderOps),
    Redirect {
        scheme: Option<String>,
        hostname: Option<String>,
        port: Option<u16>,
        path: Option<PathRewrite>,
        status: u16,
    },
    Rewrite {
        hostname: Option<String>,
        path: Option<PathRewrite>,
    },
    Mirror(Backend),
    /// An ExtensionRef: nothing the embedded gateway can run.
    Extension(String),
}

#[derive(Debug, Clone, serde::Serialize)]
pub enum PathRewrite {
    Full(String),
    Prefix(String),
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub enum BackendTarget {
    /// An echo backend answers.
    Echo { namespace: String, name: String },
    /// A Service of the scenario's own manifests: no workload runs behind it here.
    NoEndpoints { namespace: String, name: String },
    /// The reference does not resolve: its share of traffic answers 500.
    Invalid { reason: String, message: String },
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Backend {
    /// `namespace/name:port` as referenced.
    pub display: String,
    pub weight: u32,
    pub target: BackendTarget,
    pub filters: Vec<Filter>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Rule {
    pub filters: Vec<Filter>,
    pub backends: Vec<Backend>,
    pub request_timeout: Option<Duration>,
    pub backend_timeout: Option<Duration>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct RouteRef {
    pub namespace: String,
    pub name: String,
    pub created: u64,
}

/// One match of one rule of one route, as attached to a listener.
#[derive(Debug, Clone)]
pub struct Entry {
    pub route: Arc<RouteRef>,
    /// The route's hostnames intersected with the listener's; empty means any host
    /// the listener accepts.
    pub hostnames: Vec<String>,
    pub rule_index: usize,
    pub match_index: usize,
    pub m: Arc<MatchSpec>,
    pub rule: Arc<Rule>,
}

#[derive(Debug, Clone)]
pub struct ListenerTable {
    pub name: String,
    pub port: u16,
    pub protocol: String,
    pub hostname: Option<String>,
    pub programmed: bool,
    /// The certificate of an HTTPS listener, from its Secret; `None` where gwlab
    /// makes the certificate (the lab Gateway).
    pub certificate: Option<Arc<CertificatePem>>,
    pub entries: Vec<Entry>,
}

#[derive(Debug, Clone)]
pub struct GatewayTable {
    pub namespace: String,
    pub name: String,
    pub listeners: Vec<ListenerTable>,
}

impl GatewayTable {
    /// The distinct ports of programmed HTTP/HTTPS listeners, with their protocol.
    pub fn ports(&self) -> Vec<(u16, String)> {
        let mut out: Vec<(u16, String)> = Vec::new();
        for l in &self.listeners {
            if l.programmed && !out.iter().any(|(p, _)| *p == l.port) {
                out.push((l.port, l.protocol.clone()));
            }
        }
        out
    }
}

#[derive(Debug, Clone, Default)]
pub struct Compiled {
    pub status: BTreeMap<ObjKey, ObjectStatus>,
    pub gateways: BTreeMap<(String, String), GatewayTable>,
}

impl Compiled {
    pub fn gateway(&self, namespace: &str, name: &str) -> Option<&GatewayTable> {
        self.gateways
            .get(&(namespace.to_string(), name.to_string()))
    }
}

fn ns_of(s: &Stored) -> &str {
    s.manifest.namespace.as_deref().unwrap_or("")
}

/// Computes status and routing tables for everything in `world`.
pub fn compile(world: &World) -> Compiled {
    let mut out = Compiled::default();
    let owned_classes = compile_classes(world, &mut out);
    let mut listeners = compile_gateways(world, &owned_classes, &mut out);
    compile_routes(world, &mut listeners, &mut out);

    for ((ns, name), (gw_generation, mut tables)) in listeners {
        let key = ObjKey::new("Gateway", &ns, &name);
        if let Some(st) = out.status.get_mut(&key) {
            for (ls, t) in st.listeners.iter_mut().zip(tables.iter()) {
                ls.attached_routes = t.attached;
            }
            let _ = gw_generation;
        }
        let gateway = GatewayTable {
            namespace: ns.clone(),
            name: name.clone(),
            listeners: tables.drain(..).map(|t| t.table).collect(),
        };
        out.gateways.insert((ns, name), gateway);
    }
    out
}

fn compile_classes(world: &World, out: &mut Compiled) -> Vec<String> {
    let mut owned = Vec::new();
    for (key, stored) in world.of_kind("GatewayClass") {
        let Object::GatewayClass(gc) = &stored.manifest.object else {
            continue;
        };
        if gc.spec.controller_name != CONTROLLER_NAME {
            continue;
        }
        owned.push(key.name.clone());
        out.status.insert(
            key.clone(),
            ObjectStatus {
                generation: stored.generation,
                conditions: vec![Condition::new(
                    "Accepted",
                    true,
                    "Accepted",
                    "accepted by the gwlab embedded gateway",
                    stored.generation,
                )],
                supported_features: SUPPORTED_FEATURES.iter().map(|s| s.to_string()).collect(),
                ..Default::default()
            },
        );
    }
    owned
}

struct ListenerWork {
    table: ListenerTable,
    spec: Listener,
    attached: u32,
}

type GatewayWork = BTreeMap<(String, String), (u64, Vec<ListenerWork>)>;

fn compile_gateways(world: &World, owned: &[String], out: &mut Compiled) -> GatewayWork {
    let mut work = GatewayWork::new();
    for (key, stored) in world.of_kind("Gateway") {
        let Object::Gateway(gw) = &stored.manifest.object else {
            continue;
        };
        if !owned.contains(&gw.spec.gateway_class_name) {
            continue;
        }
        let generation = stored.generation;
        let ns = ns_of(stored).to_string();
        let listeners: Vec<&Listener> = gw.spec.listeners.iter().map(|l| &l.value).collect();
        let mut statuses = Vec::new();
        let mut tables = Vec::new();
        for l in &listeners {
            let mut conditions = Vec::new();
            let supported = matches!(l.protocol.as_str(), "HTTP" | "HTTPS");
            let conflict = conflict_reason(l, &listeners);
            let kinds = route_kinds(l);
            let (certificate, certs) = if l.protocol == "HTTPS" {
                match listener_certificate(world, &ns, &gw.metadata, l) {
                    Ok(c) => (c, None),
                    Err(problem) => (None, Some(problem)),
                }
            } else {
                (None, None)
            };
            if supported {
                conditions.push(Condition::new("Accepted", true, "Accepted", "", generation));
            } else {
                conditions.push(Condition::new(
                    "Accepted",
                    false,
                    "UnsupportedProtocol",
                    format!(
                        "protocol {} is not served by the embedded gateway",
                        l.protocol
                    ),
                    generation,
                ));
            }
            match &conflict {
                Some(reason) => conditions.push(Condition::new(
                    "Conflicted",
                    true,
                    reason,
                    "another listener on this port conflicts with this one",
                    generation,
                )),
                None => conditions.push(Condition::new(
                    "Conflicted",
                    false,
                    "NoConflicts",
                    "",
                    generation,
                )),
            }
            match (&certs, kinds.invalid.is_empty()) {
                (Some((reason, msg)), _) => conditions.push(Condition::new(
                    "ResolvedRefs",
                    false,
                    reason,
                    msg.clone(),
                    generation,
                )),
                (None, false) => conditions.push(Condition::new(
                    "ResolvedRefs",
                    false,
                    "InvalidRouteKinds",
                    format!(
                        "route kinds not supported on {}: {}",
                        l.protocol,
                        kinds.invalid.join(", ")
                    ),
                    generation,
                )),
                (None, true) => conditions.push(Condition::new(
                    "ResolvedRefs",
                    true,
                    "ResolvedRefs",
                    "",
                    generation,
                )),
            }
            let programmed =
                supported && conflict.is_none() && certs.is_none() && !kinds.valid.is_empty();
            conditions.push(if programmed {
                Condition::new("Programmed", true, "Programmed", "", generation)
            } else {
                Condition::new(
                    "Programmed",
                    false,
                    "Invalid",
                    "the listener is not valid; see its other conditions",
                    generation,
                )
            });
            statuses.push(ListenerStatus {
                name: l.name.clone(),
                attached_routes: 0,
                supported_kinds: kinds.valid.clone(),
                conditions,
            });
            tables.push(ListenerWork {
                table: ListenerTable {
                    name: l.name.clone(),
                    port: l.port,
                    protocol: l.protocol.clone(),
                    hostname: l.hostname.clone(),
                    programmed,
                    certificate,
                    entries: Vec::new(),
                },
                spec: (*l).clone(),
                attached: 0,
            });
        }
        let valid = tables.iter().filter(|t| t.table.programmed).count();
        let mut conditions = Vec::new();
        if valid == tables.len() {
            conditions.push(Condition::new("Accepted", true, "Accepted", "", generation));
        } else {
            conditions.push(Condition::new(
                "Accepted",
                valid > 0,
                "ListenersNotValid",
                format!(
                    "{} of {} listeners are not valid",
                    tables.len() - valid,
                    tables.len()
                ),
                generation,
            ));
        }
        conditions.push(if valid > 0 {
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
        });
        out.status.insert(
            key.clone(),
            ObjectStatus {
                generation,
                conditions,
                listeners: statuses,
                ..Default::default()
            },
        );
        work.insert((ns, key.name.clone()), (generation, tables));
    }
    work
}

fn conflict_reason(l: &Listener, all: &[&Listener]) -> Option<String> {
    let same_port: Vec<&&Listener> = all
        .iter()
        .filter(|o| o.port == l.port && o.name != l.name)
        .collect();
    if same_port.iter().any(|o| o.protocol != l.protocol) {
        return Some("ProtocolConflict".into());
    }
    if same_port.iter().any(|o| o.hostname == l.hostname) {
        return Some("HostnameConflict".into());
    }
    None
}

/// The route kinds a listener admits: the valid ones of `allowedRoutes.kinds`,
/// or, when none are given, those of its protocol; and the invalid ones named.
struct RouteKinds {
    valid: Vec<String>,
    invalid: Vec<String>,
}

fn route_kinds(l: &Listener) -> RouteKinds {
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

/// PEM text of a certificate chain and its private key, from a `kubernetes.io/tls` Secret.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CertificatePem {
    pub chain: Vec<u8>,
    pub key: Vec<u8>,
}

/// A Secret value: `stringData` as written, `data` base64-decoded.
fn secret_value(s: &crate::manifest::SecretInfo, key: &str) -> Option<Result<Vec<u8>, String>> {
    use base64::Engine;
    if let Some(v) = s.string_data.get(key) {
        return Some(Ok(v.clone().into_bytes()));
    }
    let v = s.data.get(key)?;
    let compact: String = v.chars().filter(|c| !c.is_whitespace()).collect();
    Some(
        base64::engine::general_purpose::STANDARD
            .decode(compact)
            .map_err(|e| format!("data.{key} is not base64: {e}")),
    )
}

/// The certificate of an HTTPS listener, or why it does not resolve (a
/// condition reason and a message). The lab Gateway's certificate is made by
/// gwlab, so it needs no Secret.
fn listener_certificate(
    world: &World,
    ns: &str,
    meta: &crate::manifest::meta::ObjectMeta,
    l: &Listener,
) -> Result<Option<Arc<CertificatePem>>, (&'static str, String)> {
    let invalid = |m: String| ("InvalidCertificateRef", m);
    let Some(tls) = l.tls.as_ref() else {
        return Ok(None);
    };
    if meta
        .annotations
        .contains_key(super::lab_gateway::GENERATED_CERT_ANNOTATION)
    {
        return Ok(None);
    }
    // Several refs may be given; the first serves (one certificate per listener here).
    let Some(r) = tls.certificate_refs.first() else {
        return Err(invalid("the listener has no certificateRefs".into()));
    };
    let group = r.group.as_deref().unwrap_or("");
    let kind = r.kind.as_deref().unwrap_or("Secret");
    if !group.is_empty() || kind != "Secret" {
        return Err(invalid(format!(
            "certificateRef {group}/{kind} {} is not a Secret",
            r.name
        )));
    }
    let target_ns = r.namespace.as_deref().unwrap_or(ns);
    if target_ns != ns
        && !grant_allows(
            world,
            GATEWAY_GROUP,
            "Gateway",
            ns,
            "",
            "Secret",
            target_ns,
            &r.name,
        )
    {
        // The spec: InvalidCertificateRef only for references that are allowed.
        return Err((
            "RefNotPermitted",
            format!(
                "Secret {target_ns}/{} is in another namespace and no ReferenceGrant allows it",
                r.name
            ),
        ));
    }
    let secret = match world
        .get(&ObjKey::new("Secret", target_ns, &r.name))
        .map(|s| &s.manifest.object)
    {
        Some(Object::Secret(s)) => s,
        _ => {
            return Err(invalid(format!(
                "Secret {target_ns}/{} does not exist",
                r.name
            )));
        }
    };
    let value = |key: &str| -> Result<Vec<u8>, String> {
        let v = secret_value(secret, key)
            .ok_or_else(|| format!("Secret {target_ns}/{} has no {key}", r.name))??;
        if !String::from_utf8_lossy(&v).contains("-----BEGIN ") {
            return Err(format!("Secret {target_ns}/{} {key} is not PEM", r.name));
        }
        Ok(v)
    };
    Ok(Some(Arc::new(CertificatePem {
        chain: value("tls.crt").map_err(invalid)?,
        key: value("tls.key").map_err(invalid)?,
    })))
}

/// Whether a ReferenceGrant in `to_ns` lets objects of `from` refer to the target.
#[allow(clippy::too_many_arguments)]
pub fn grant_allows(
    world: &World,
    from_group: &str,
    from_kind: &str,
    from_ns: &str,
    to_group: &str,
    to_kind: &str,
    to_ns: &str,
    to_name: &str,
) -> bool {
    world.of_kind("ReferenceGrant").any(|(key, stored)| {
        let Object::ReferenceGrant(g) = &stored.manifest.object else {
            return false;
        };
        key.namespace == to_ns
            && g.spec
                .from
                .iter()
                .any(|f| f.group == from_group && f.kind == from_kind && f.namespace == from_ns)
            && g.spec.to.iter().any(|t| {
                t.group == to_group
                    && t.kind == to_kind
                    && t.name.as_deref().is_none_or(|n| n == to_name)
            })
    })
}

fn selector_matches(sel: &LabelSelector, labels: &BTreeMap<String, String>) -> bool {
    sel.match_labels
        .iter()
        .all(|(k, v)| labels.get(k) == Some(v))
        && sel.match_expressions.iter().all(|e| {
            let v = labels.get(&e.key);
            match e.operator.as_str() {
                "In" => v.is_some_and(|v| e.values.contains(v)),
                "NotIn" => v.is_none_or(|v| !e.values.contains(v)),
                "Exists" => v.is_some(),
                "DoesNotExist" => v.is_none(),
                _ => false,
            }
        })
}

fn namespace_allowed(world: &World, l: &Listener, gw_ns: &str, route_ns: &str) -> bool {
    let ns = l
        .allowed_routes
        .as_ref()
        .and_then(|a| a.namespaces.as_ref());
    match ns.and_then(|n| n.from.as_deref()).unwrap_or("Same") {
        "All" => true,
        "Selector" => ns
            .and_then(|n| n.selector.as_ref())
            .is_some_and(|sel| selector_matches(sel, &world.namespace_labels(route_ns))),
        _ => gw_ns == route_ns,
    }
}

fn compile_routes(world: &World, gateways: &mut GatewayWork, out: &mut Compiled) {
    let mut routes: Vec<(&ObjKey, &Stored, &HttpRoute)> = world
        .of_kind("HTTPRoute")
        .filter_map(|(k, s)| match &s.manifest.object {
            Object::HttpRoute(r) => Some((k, s, r.as_ref())),
            _ => None,
        })
        .collect();
    routes.sort_by_key(|(k, s, _)| (s.created, k.namespace.clone(), k.name.clone()));

    for (key, stored, route) in routes {
        let generation = stored.generation;
        let ns = ns_of(stored).to_string();
        let (rules, unsupported) = compile_rules(world, &ns, route);
        let unresolved = rules
            .iter()
            .flat_map(|r| {
                r.backends
                    .iter()
                    .chain(r.filters.iter().filter_map(|f| match f {
                        Filter::Mirror(b) => Some(b),
                        _ => None,
                    }))
            })
            .find_map(|b| match &b.target {
                BackendTarget::Invalid { reason, message } => {
                    Some((reason.clone(), message.clone()))
                }
                _ => None,
            });
        let rules: Vec<Arc<Rule>> = rules.into_iter().map(Arc::new).collect();
        let route_ref = Arc::new(RouteRef {
            namespace: ns.clone(),
            name: key.name.clone(),
            created: stored.created,
        });
        let matches = route_matches(route);

        let mut parents = Vec::new();
        for p in &route.spec.parent_refs {
            let p = &p.value;
            let group = p.group.as_deref().unwrap_or(GATEWAY_GROUP);
            let kind = p.kind.as_deref().unwrap_or("Gateway");
            if group != GATEWAY_GROUP || kind != "Gateway" {
                continue; // Not a parent this controller owns.
            }
            let gw_ns = p.namespace.clone().unwrap_or_else(|| ns.clone());
            let parent_name = format!("{gw_ns}/{}", p.name);
            let accepted = match gateways.get_mut(&(gw_ns.clone(), p.name.clone())) {
                None => {
                    if world
                        .get(&ObjKey::new("Gateway", &gw_ns, &p.name))
                        .is_some()
                    {
                        continue; // A Gateway of another class: not ours to report on.
                    }
                    Condition::new(
                        "Accepted",
                        false,
                        "NoMatchingParent",
                        format!("Gateway {parent_name} does not exist"),
                        generation,
                    )
                }
                Some((_, listeners)) => {
                    if let Some(why) = &unsupported {
                        Condition::new(
                            "Accepted",
                            false,
                            "UnsupportedValue",
                            why.clone(),
                            generation,
                        )
                    } else {
                        attach(
                            world, &gw_ns, listeners, p, &ns, route, &route_ref, &rules, &matches,
                            generation,
                        )
                    }
                }
            };
            let resolved = match &unresolved {
                Some((reason, message)) => {
                    Condition::new("ResolvedRefs", false, reason, message.clone(), generation)
                }
                None => Condition::new("ResolvedRefs", true, "ResolvedRefs", "", generation),
            };
            parents.push(ParentStatus {
                parent: parent_name,
                section_name: p.section_name.clone(),
                port: p.port,
                controller_name: CONTROLLER_NAME.into(),
                conditions: vec![accepted, resolved],
            });
        }
        out.status.insert(
            key.clone(),
            ObjectStatus {
                generation,
                parents,
                ..Default::default()
            },
        );
    }
}

/// Binds a route to the listeners of one parentRef and says how it went.
#[allow(clippy::too_many_arguments)]
fn attach(
    world: &World,
    gw_ns: &str,
    listeners: &mut [ListenerWork],
    p: &ParentRef,
    route_ns: &str,
    route: &HttpRoute,
    route_ref: &Arc<RouteRef>,
    rules: &[Arc<Rule>],
    matches: &[(usize, usize, Arc<MatchSpec>)],
    generation: u64,
) -> Condition {
    let by_ref: Vec<usize> = (0..listeners.len())
        .filter(|&i| {
            p.section_name
                .as_ref()
                .is_none_or(|s| *s == listeners[i].spec.name)
        })
        .filter(|&i| p.port.is_none_or(|port| port == listeners[i].spec.port))
        .collect();
    if by_ref.is_empty() {
        let what = match (&p.section_name, p.port) {
            (Some(s), Some(port)) => format!("no listener named {s} on port {port}"),
            (Some(s), None) => format!("no listener named {s}"),
            (None, Some(port)) => format!("no listener on port {port}"),
            (None, None) => "the Gateway has no listeners".into(),
        };
        return Condition::new("Accepted", false, "NoMatchingParent", what, generation);
    }
    let allowed: Vec<usize> = by_ref
        .into_iter()
        .filter(|&i| {
            namespace_allowed(world, &listeners[i].spec, gw_ns, route_ns)
                && route_kinds(&listeners[i].spec)
                    .valid
                    .iter()
                    .any(|k| k == "HTTPRoute")
        })
        .collect();
    if allowed.is_empty() {
        return Condition::new(
            "Accepted",
            false,
            "NotAllowedByListeners",
            format!(
                "the listeners' allowedRoutes do not admit HTTPRoutes from namespace {route_ns}"
            ),
            generation,
        );
    }
    let mut bound = 0;
    for i in allowed {
        let lh = listeners[i].spec.hostname.clone();
        let hostnames: Vec<String> = if route.spec.hostnames.is_empty() {
            Vec::new()
        } else {
            let hs: Vec<String> = route
                .spec
                .hostnames
                .iter()
                .filter_map(|h| hostname::intersect(lh.as_deref(), h))
                .collect();
            if hs.is_empty() {
                continue;
            }
            hs
        };
        bound += 1;
        let l = &mut listeners[i];
        l.attached += 1;
        for (ri, mi, m) in matches {
            l.table.entries.push(Entry {
                route: route_ref.clone(),
                hostnames: hostnames.clone(),
                rule_index: *ri,
                match_index: *mi,
                m: m.clone(),
                rule: rules[*ri].clone(),
            });
        }
    }
    if bound == 0 {
        return Condition::new(
            "Accepted",
            false,
            "NoMatchingListenerHostname",
            "none of the route's hostnames intersects a listener hostname",
            generation,
        );
    }
    Condition::new("Accepted", true, "Accepted", "", generation)
}

/// A route without `rules` has one rule matching every request, as the CRD defaults it.
static DEFAULT_RULE: std::sync::LazyLock<HttpRouteRule> =
    std::sync::LazyLock::new(HttpRouteRule::default);

fn rules_of(route: &HttpRoute) -> Vec<&HttpRouteRule> {
    match &route.spec.rules {
        Some(r) => r.iter().map(|r| &r.value).collect(),
        None => vec![&*DEFAULT_RULE],
    }
}

fn route_matches(route: &HttpRoute) -> Vec<(usize, usize, Arc<MatchSpec>)> {
    let mut out = Vec::new();
    let rules = rules_of(route);
    for (ri, rule) in rules.iter().enumerate() {
        let default_match = [HttpRouteMatch::default()];
        let matches: Vec<&HttpRouteMatch> = match &rule.matches {
            Some(m) if !m.is_empty() => m.iter().map(|m| &m.value).collect(),
            _ => default_match.iter().collect(),
        };
        for (mi, m) in matches.iter().enumerate() {
            out.push((ri, mi, Arc::new(match_spec(m))));
        }
    }
    out
}

fn first_by_name(list: &[NameValueMatch], fold_case: bool) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for h in list {
        let name = if fold_case {
            h.name.to_ascii_lowercase()
        } else {
            h.name.clone()
        };
        if !out.iter().any(|(n, _)| *n == name) {
            out.push((name, h.value.clone()));
        }
    }
    out
}

fn match_spec(m: &HttpRouteMatch) -> MatchSpec {
    let (kind, value) = match &m.path {
        Some(p) => (
            p.type_.as_deref().unwrap_or("PathPrefix"),
            p.value.clone().unwrap_or_else(|| "/".into()),
        ),
        None => ("PathPrefix", "/".to_string()),
    };
    MatchSpec {
        path_kind: if kind == "Exact" {
            PathKind::Exact
        } else {
            PathKind::Prefix
        },
        path: value,
        method: m.method.clone(),
        headers: first_by_name(&m.headers, true),
        query: first_by_name(&m.query_params, false),
    }
}

/// Rules with their backends resolved, plus why the route is not supported (a
/// RegularExpression match: implementation-specific, not implemented here).
fn compile_rules(world: &World, ns: &str, route: &HttpRoute) -> (Vec<Rule>, Option<String>) {
    let mut unsupported = None;
    let rules = rules_of(route);
    let mut out = Vec::new();
    for (ri, rule) in rules.iter().enumerate() {
        for m in rule.matches.iter().flatten() {
            let regex = m
                .value
                .path
                .as_ref()
                .is_some_and(|p| p.type_.as_deref() == Some("RegularExpression"))
                || m.value
                    .headers
                    .iter()
                    .chain(m.value.query_params.iter())
                    .any(|h| h.type_.as_deref() == Some("RegularExpression"));
            if regex && unsupported.is_none() {
                unsupported = Some(format!(
                    "rule {ri}: RegularExpression matches are implementation-specific and not supported by the embedded gateway"
                ));
            }
        }
        let timeout = |v: &Option<String>| {
            v.as_deref()
                .and_then(|t| super::timeouts::parse_gateway_duration(t).ok())
                .filter(|d| !d.is_zero())
        };
        out.push(Rule {
            filters: rule
                .filters
                .iter()
                .map(|f| compile_filter(world, ns, &f.value))
                .collect(),
            backends: rule
                .backend_refs
                .iter()
                .map(|b| {
                    let b = &b.value;
                    let mut backend = resolve_backend(world, ns, &b.object_ref());
                    backend.weight = b.weight.unwrap_or(1);
                    backend.filters = b
                        .filters
                        .iter()
                        .map(|f| compile_filter(world, ns, f))
                        .collect();
                    backend
                })
                .collect(),
            request_timeout: rule.timeouts.as_ref().and_then(|t| timeout(&t.request)),
            backend_timeout: rule
                .timeouts
                .as_ref()
                .and_then(|t| timeout(&t.backend_request)),
        });
    }
    (out, unsupported)
}

fn header_ops(hm: &HeaderModifier) -> HeaderOps {
    let pairs = |l: &[HeaderValue]| {
        l.iter()
            .map(|h| (h.name.clone(), h.value.clone()))
            .collect()
    };
    HeaderOps {
        set: pairs(&hm.set),
        add: pairs(&hm.add),
        remove: hm.remove.clone(),
    }
}

fn path_rewrite(p: &Option<PathModifier>) -> Option<PathRewrite> {
    let p = p.as_ref()?;
    match p.type_.as_str() {
        "ReplaceFullPath" => Some(PathRewrite::Full(
            p.replace_full_path.clone().unwrap_or_default(),
        )),
        _ => Some(PathRewrite::Prefix(
            p.replace_prefix_match.clone().unwrap_or_default(),
        )),
    }
}

fn compile_filter(world: &World, ns: &str, f: &HttpRouteFilter) -> Filter {
    if let Some(hm) = &f.request_header_modifier {
        return Filter::RequestHeaders(header_ops(hm));
    }
    if let Some(hm) = &f.response_header_modifier {
        return Filter::ResponseHeaders(header_ops(hm));
    }
    if let Some(r) = &f.request_redirect {
        return Filter::Redirect {
            scheme: r.scheme.clone(),
            hostname: r.hostname.clone(),
            port: r.port,
            path: path_rewrite(&r.path),
            status: r.status_code.unwrap_or(302),
        };
    }
    if let Some(u) = &f.url_rewrite {
        return Filter::Rewrite {
            hostname: u.hostname.clone(),
            path: path_rewrite(&u.path),
        };
    }
    if let Some(m) = &f.request_mirror {
        let b = &m.backend_ref;
        return Filter::Mirror(resolve_backend(world, ns, b));
    }
    let what = f
        .extension_ref
        .as_ref()
        .map(|e| format!("{}/{} {}", e.group, e.kind, e.name))
        .unwrap_or_else(|| f.type_.clone());
    Filter::Extension(what)
}

/// Resolves one backendRef as the spec says: only core Services; across
/// namespaces only with a ReferenceGrant; the Service and port must exist.
pub fn resolve_backend(world: &World, route_ns: &str, r: &BackendObjectRef) -> Backend {
    let (group, kind, name, namespace, port) = (
        r.group.as_deref(),
        r.kind.as_deref(),
        r.name.as_str(),
        r.namespace.as_deref(),
        r.port,
    );
    let group = group.unwrap_or("");
    let kind = kind.unwrap_or("Service");
    let target_ns = namespace.unwrap_or(route_ns);
    let display = match port {
        Some(p) => format!("{target_ns}/{name}:{p}"),
        None => format!("{target_ns}/{name}"),
    };
    let invalid = |reason: &str, message: String| BackendTarget::Invalid {
        reason: reason.into(),
        message,
    };
    let target = if !group.is_empty() || kind != "Service" {
        let g = if group.is_empty() { "core" } else { group };
        invalid(
            "InvalidKind",
            format!("backendRef {name} is a {g}/{kind}; only Services are supported"),
        )
    } else if target_ns != route_ns
        && !grant_allows(
            world,
            GATEWAY_GROUP,
            "HTTPRoute",
            route_ns,
            "",
            "Service",
            target_ns,
            name,
        )
    {
        invalid(
            "RefNotPermitted",
            format!(
                "backendRef to Service {target_ns}/{name} is not permitted: no ReferenceGrant in {target_ns} allows HTTPRoutes from {route_ns}"
            ),
        )
    } else {
        match world.service_ports(target_ns, name) {
            None => invalid(
                "BackendNotFound",
                format!("Service {target_ns}/{name} not found"),
            ),
            Some(ports) if port.is_some_and(|p| !ports.contains(&p)) => invalid(
                "BackendNotFound",
                format!(
                    "Service {target_ns}/{name} has no port {}",
                    port.unwrap_or(0)
                ),
            ),
            Some(_) if world.echo(target_ns, name).is_some() => BackendTarget::Echo {
                namespace: target_ns.into(),
                name: name.into(),
            },
            Some(_) => BackendTarget::NoEndpoints {
                namespace: target_ns.into(),
                name: name.into(),
            },
        }
    };
    Backend {
        display,
        weight: 1,
        target,
        filters: Vec::new(),
    }
}
