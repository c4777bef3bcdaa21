//! HTTPRoutes attaching to Gateway listeners: for each parentRef, the
//! listeners it names, those that admit the route, the hostnames they share;
//! the route's matches go into their tables and its parent status says how it went.

use std::sync::Arc;

use super::grants::namespace_allowed;
use super::listeners::{GatewayWork, ListenerWork, route_kinds};
use super::rules::{compile_rules, route_matches};
use super::{
    BackendTarget, CONTROLLER_NAME, Compiled, Entry, Filter, MatchSpec, RouteRef, RouteTable, Rule,
    ns_of,
};
use crate::manifest::gateway_api::{HttpRoute, ParentRef};
use crate::manifest::{GATEWAY_GROUP, Object};
use crate::model::hostname;
use crate::model::status::{Condition, ObjectStatus, ParentStatus};
use crate::model::world::{ObjKey, Stored, World};

/// One route compiled once, for attaching to each of its parents.
struct RouteWork<'a> {
    ns: String,
    route: &'a HttpRoute,
    route_ref: Arc<RouteRef>,
    rules: Vec<Arc<Rule>>,
    matches: Vec<(usize, usize, Arc<MatchSpec>)>,
    /// Why the route cannot be served at all.
    unsupported: Option<String>,
    /// The first backend reference that does not resolve: (reason, message).
    unresolved: Option<(String, String)>,
    generation: u64,
}

impl<'a> RouteWork<'a> {
    fn new(world: &World, key: &ObjKey, stored: &Stored, route: &'a HttpRoute) -> Self {
        let ns = ns_of(stored).to_string();
        let (rules, unsupported) = compile_rules(world, &ns, route);
        let unresolved = first_unresolved(&rules);
        RouteWork {
            route_ref: Arc::new(RouteRef {
                namespace: ns.clone(),
                name: key.name.clone(),
                created: stored.created,
            }),
            ns,
            route,
            rules: rules.into_iter().map(Arc::new).collect(),
            matches: route_matches(route),
            unsupported,
            unresolved,
            generation: stored.generation,
        }
    }

    fn resolved_refs(&self) -> Condition {
        match &self.unresolved {
            Some((reason, message)) => Condition::new(
                "ResolvedRefs",
                false,
                reason,
                message.clone(),
                self.generation,
            ),
            None => Condition::new("ResolvedRefs", true, "ResolvedRefs", "", self.generation),
        }
    }
}

/// The first backend of the rules (a backendRef or a mirror) that does not resolve.
fn first_unresolved(rules: &[Rule]) -> Option<(String, String)> {
    rules
        .iter()
        .flat_map(|r| {
            r.backends
                .iter()
                .chain(r.filters.iter().filter_map(|f| match f {
                    Filter::Mirror(b, _) => Some(b),
                    _ => None,
                }))
        })
        .find_map(|b| match &b.target {
            BackendTarget::Invalid { reason, message } => Some((reason.clone(), message.clone())),
            _ => None,
        })
}

/// Attaches every HTTPRoute, oldest first, and writes its status.
pub(super) fn compile_routes(world: &World, gateways: &mut GatewayWork, out: &mut Compiled) {
    let mut routes: Vec<(&ObjKey, &Stored, &HttpRoute)> = world
        .of_kind("HTTPRoute")
        .filter_map(|(k, s)| match &s.manifest.object {
            Object::HttpRoute(r) => Some((k, s, r.as_ref())),
            _ => None,
        })
        .collect();
    routes.sort_by_key(|(k, s, _)| (s.created, k.namespace.clone(), k.name.clone()));

    for (key, stored, route) in routes {
        let work = RouteWork::new(world, key, stored, route);
        let parents = route
            .spec
            .parent_refs
            .iter()
            .filter_map(|p| parent_status(world, gateways, &p.value, &work))
            .collect();
        out.status.insert(
            key.clone(),
            ObjectStatus {
                generation: stored.generation,
                parents,
                ..Default::default()
            },
        );
        out.routes.push(RouteTable {
            namespace: work.ns.clone(),
            name: key.name.clone(),
            hostnames: route.spec.hostname_values(),
            rules: work.rules.clone(),
            matches: work.matches.clone(),
        });
    }
}

/// Attaches the route to one parentRef and says how it went; nothing for a
/// parent this controller does not own.
fn parent_status(
    world: &World,
    gateways: &mut GatewayWork,
    p: &ParentRef,
    work: &RouteWork<'_>,
) -> Option<ParentStatus> {
    let group = p.group.as_deref().unwrap_or(GATEWAY_GROUP);
    let kind = p.kind.as_deref().unwrap_or("Gateway");
    if group != GATEWAY_GROUP || kind != "Gateway" {
        return None; // Not a parent this controller owns.
    }
    let gw_ns = p.namespace.clone().unwrap_or_else(|| work.ns.clone());
    let parent_name = format!("{gw_ns}/{}", p.name);
    let accepted = match gateways.get_mut(&(gw_ns.clone(), p.name.clone())) {
        None if world
            .get(&ObjKey::new("Gateway", &gw_ns, &p.name))
            .is_some() =>
        {
            return None; // A Gateway of another class: not ours to report on.
        }
        None => Condition::new(
            "Accepted",
            false,
            "NoMatchingParent",
            format!("Gateway {parent_name} does not exist"),
            work.generation,
        ),
        Some(listeners) => match &work.unsupported {
            Some(why) => Condition::new(
                "Accepted",
                false,
                "UnsupportedValue",
                why.clone(),
                work.generation,
            ),
            None => attach(world, &gw_ns, listeners, p, work),
        },
    };
    Some(ParentStatus {
        parent: parent_name,
        section_name: p.section_name.clone(),
        port: p.port,
        controller_name: CONTROLLER_NAME.into(),
        conditions: vec![accepted, work.resolved_refs()],
    })
}

/// Binds a route to the listeners of one parentRef and says how it went.
fn attach(
    world: &World,
    gw_ns: &str,
    listeners: &mut [ListenerWork],
    p: &ParentRef,
    work: &RouteWork<'_>,
) -> Condition {
    let generation = work.generation;
    let by_ref = listeners_by_ref(listeners, p);
    if by_ref.is_empty() {
        let what = no_listener_message(p);
        return Condition::new("Accepted", false, "NoMatchingParent", what, generation);
    }
    let allowed: Vec<usize> = by_ref
        .into_iter()
        .filter(|&i| admits_http_routes(world, &listeners[i], gw_ns, &work.ns))
        .collect();
    if allowed.is_empty() {
        return Condition::new(
            "Accepted",
            false,
            "NotAllowedByListeners",
            format!(
                "the listeners' allowedRoutes do not admit HTTPRoutes from namespace {}",
                work.ns
            ),
            generation,
        );
    }
    let mut bound = 0;
    for i in allowed {
        let listener_host = listeners[i].spec.hostname.as_deref();
        let Some(hostnames) = shared_hostnames(listener_host, &work.route.spec.hostname_values())
        else {
            continue;
        };
        bind(&mut listeners[i], &hostnames, work);
        bound += 1;
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

/// The listeners a parentRef names by `sectionName` and `port` (all when neither is given).
fn listeners_by_ref(listeners: &[ListenerWork], p: &ParentRef) -> Vec<usize> {
    (0..listeners.len())
        .filter(|&i| {
            p.section_name
                .as_ref()
                .is_none_or(|s| *s == listeners[i].spec.name)
        })
        .filter(|&i| p.port.is_none_or(|port| port == listeners[i].spec.port))
        .collect()
}

fn no_listener_message(p: &ParentRef) -> String {
    match (&p.section_name, p.port) {
        (Some(s), Some(port)) => format!("no listener named {s} on port {port}"),
        (Some(s), None) => format!("no listener named {s}"),
        (None, Some(port)) => format!("no listener on port {port}"),
        (None, None) => "the Gateway has no listeners".into(),
    }
}

/// Whether a listener admits HTTPRoutes from `route_ns`: by namespace and by kind.
fn admits_http_routes(world: &World, l: &ListenerWork, gw_ns: &str, route_ns: &str) -> bool {
    namespace_allowed(world, &l.spec, gw_ns, route_ns)
        && route_kinds(&l.spec).valid.iter().any(|k| k == "HTTPRoute")
}

/// The hostnames a route has on a listener: none (any the listener accepts)
/// when the route names none, else the intersections; `None` when no route
/// hostname intersects the listener's.
fn shared_hostnames(listener: Option<&str>, route_hostnames: &[String]) -> Option<Vec<String>> {
    if route_hostnames.is_empty() {
        return Some(Vec::new());
    }
    let shared: Vec<String> = route_hostnames
        .iter()
        .filter_map(|h| hostname::intersect(listener, h))
        .collect();
    (!shared.is_empty()).then_some(shared)
}

/// Adds every match of the route to the listener's table.
fn bind(l: &mut ListenerWork, hostnames: &[String], work: &RouteWork<'_>) {
    l.attached += 1;
    for (ri, mi, m) in &work.matches {
        l.table.entries.push(Entry {
            route: work.route_ref.clone(),
            hostnames: hostnames.to_vec(),
            rule_index: *ri,
            match_index: *mi,
            m: m.clone(),
            rule: work.rules[*ri].clone(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::gateway_api::{AllowedRoutes, Listener, RouteNamespaces};
    use crate::model::status::find;
    use crate::model::test_support::world_of;

    fn listener(name: &str, port: u16, hostname: Option<&str>) -> ListenerWork {
        let spec = Listener {
            name: name.into(),
            port,
            protocol: "HTTP".into(),
            hostname: hostname.map(String::from),
            ..Default::default()
        };
        ListenerWork::new(&spec, true, None)
    }

    fn parent(section: Option<&str>, port: Option<u16>) -> ParentRef {
        ParentRef {
            name: "gw".into(),
            section_name: section.map(String::from),
            port,
            ..Default::default()
        }
    }

    const ROUTE: &str = "apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r}
spec:
  parentRefs: [{name: gw}]
  hostnames: [a.example.com, b.example.com]
  rules:
  - matches: [{path: {value: /one}}, {path: {value: /two}}]
  - backendRefs: [{name: svc, port: 80}]
";

    /// Runs `check` on the route work of `yaml`'s only HTTPRoute.
    fn with_route(world: &World, check: impl FnOnce(&RouteWork<'_>)) {
        let (key, stored) = world.of_kind("HTTPRoute").next().expect("a route");
        let Object::HttpRoute(r) = &stored.manifest.object else {
            unreachable!()
        };
        check(&RouteWork::new(world, key, stored, r));
    }

    #[test]
    fn parent_refs_pick_listeners_by_section_and_port() {
        let ls = [
            listener("a", 80, None),
            listener("b", 80, None),
            listener("c", 81, None),
        ];
        assert_eq!(listeners_by_ref(&ls, &parent(None, None)), [0, 1, 2]);
        assert_eq!(listeners_by_ref(&ls, &parent(Some("b"), None)), [1]);
        assert_eq!(listeners_by_ref(&ls, &parent(None, Some(80))), [0, 1]);
        assert!(listeners_by_ref(&ls, &parent(Some("c"), Some(80))).is_empty());
        assert_eq!(
            no_listener_message(&parent(Some("c"), Some(80))),
            "no listener named c on port 80"
        );
        assert_eq!(
            no_listener_message(&parent(Some("c"), None)),
            "no listener named c"
        );
        assert_eq!(
            no_listener_message(&parent(None, Some(80))),
            "no listener on port 80"
        );
        assert_eq!(
            no_listener_message(&parent(None, None)),
            "the Gateway has no listeners"
        );
    }

    #[test]
    fn hostnames_shared_with_a_listener() {
        let route = ["a.example.com".to_string(), "*.other.com".to_string()];
        assert_eq!(shared_hostnames(Some("*.example.com"), &[]), Some(vec![]));
        assert_eq!(
            shared_hostnames(Some("*.example.com"), &route),
            Some(vec!["a.example.com".to_string()])
        );
        assert_eq!(shared_hostnames(None, &route).map(|h| h.len()), Some(2));
        assert_eq!(shared_hostnames(Some("b.example.com"), &route), None);
    }

    #[test]
    fn a_route_binds_every_match_to_each_listener_sharing_a_hostname() {
        let w = world_of(ROUTE);
        let mut ls = [
            listener("a", 80, Some("a.example.com")),
            listener("c", 80, Some("c.example.com")),
            listener("any", 81, None),
        ];
        with_route(&w, |work| {
            let c = attach(&w, "app", &mut ls, &parent(None, None), work);
            assert_eq!((c.status.as_str(), c.reason.as_str()), ("True", "Accepted"));
        });
        let attached: Vec<u32> = ls.iter().map(|l| l.attached).collect();
        assert_eq!(attached, [1, 0, 1]);
        let entries = &ls[0].table.entries;
        let at: Vec<(usize, usize)> = entries
            .iter()
            .map(|e| (e.rule_index, e.match_index))
            .collect();
        assert_eq!(at, [(0, 0), (0, 1), (1, 0)]);
        assert_eq!(entries[0].hostnames, ["a.example.com"]);
        assert_eq!(entries[1].m.path, "/two");
        assert_eq!(ls[2].table.entries[0].hostnames.len(), 2);
    }

    #[test]
    fn a_route_is_refused_by_namespace_then_by_hostname() {
        let w = world_of(ROUTE);
        let mut other_ns = [listener("a", 80, Some("a.example.com"))];
        let mut no_host = [listener("c", 80, Some("c.example.com"))];
        let mut admits_all = listener("all", 80, None);
        admits_all.spec.allowed_routes = Some(AllowedRoutes {
            namespaces: Some(RouteNamespaces {
                from: Some("All".into()),
                selector: None,
            }),
            kinds: None,
        });
        with_route(&w, |work| {
            let c = attach(&w, "gw-ns", &mut other_ns, &parent(None, None), work);
            assert_eq!(c.reason, "NotAllowedByListeners");
            assert_eq!(
                c.message,
                "the listeners' allowedRoutes do not admit HTTPRoutes from namespace app"
            );
            let c = attach(&w, "app", &mut no_host, &parent(None, None), work);
            assert_eq!(
                (c.status.as_str(), c.reason.as_str()),
                ("False", "NoMatchingListenerHostname")
            );
            let c = attach(&w, "app", &mut no_host, &parent(Some("x"), None), work);
            assert_eq!(
                (c.reason.as_str(), c.message.as_str()),
                ("NoMatchingParent", "no listener named x")
            );
            let c = attach(
                &w,
                "gw-ns",
                std::slice::from_mut(&mut admits_all),
                &parent(None, None),
                work,
            );
            assert_eq!(c.reason, "Accepted");
        });
        assert!(other_ns[0].table.entries.is_empty() && no_host[0].table.entries.is_empty());
    }

    #[test]
    fn parents_are_reported_only_when_this_controller_owns_them() {
        let w = world_of(&format!(
            "{ROUTE}---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {{name: foreign}}\nspec: {{gatewayClassName: other, listeners: [{{name: l, port: 80, protocol: HTTP}}]}}\n"
        ));
        let mut gateways = GatewayWork::new();
        with_route(&w, |work| {
            let service = ParentRef {
                kind: Some("Service".into()),
                ..parent(None, None)
            };
            assert!(parent_status(&w, &mut gateways, &service, work).is_none());
            let foreign = ParentRef {
                name: "foreign".into(),
                ..parent(None, None)
            };
            assert!(parent_status(&w, &mut gateways, &foreign, work).is_none());
            let st = parent_status(&w, &mut gateways, &parent(Some("s"), Some(80)), work)
                .expect("a status for a missing Gateway");
            assert_eq!(
                (st.parent.as_str(), st.section_name.as_deref(), st.port),
                ("app/gw", Some("s"), Some(80))
            );
            let accepted = find(&st.conditions, "Accepted").unwrap();
            assert_eq!(accepted.reason, "NoMatchingParent");
            assert_eq!(accepted.message, "Gateway app/gw does not exist");
            // The backend Service does not exist: refs are not resolved, whatever the parent.
            let resolved = find(&st.conditions, "ResolvedRefs").unwrap();
            assert_eq!(
                (resolved.status.as_str(), resolved.reason.as_str()),
                ("False", "BackendNotFound")
            );
        });
    }

    #[test]
    fn the_first_unresolved_reference_counts_mirrors_too() {
        let w = World::default();
        let (rules, _) = compile_rules(
            &w,
            "app",
            &crate::model::test_support::from_yaml::<HttpRoute>(
                "apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
spec:
  rules:
  - filters: [{type: RequestMirror, requestMirror: {backendRef: {name: m, kind: Pod}}}]",
            ),
        );
        assert_eq!(
            first_unresolved(&rules),
            Some((
                "InvalidKind".into(),
                "backendRef m is a core/Pod; only Services are supported".into()
            ))
        );
        assert_eq!(first_unresolved(&[]), None);
    }
}
