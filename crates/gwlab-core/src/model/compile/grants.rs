//! Who may refer to what: ReferenceGrants for references across namespaces,
//! and the namespaces a listener admits routes from.

use std::collections::BTreeMap;

use crate::manifest::Object;
use crate::manifest::gateway_api::{LabelSelector, Listener, ReferenceGrant};
use crate::model::world::World;

/// A reference from an object of one kind and namespace to a named object in
/// another namespace, as ReferenceGrants describe them.
#[derive(Debug, Clone, Copy)]
pub struct GrantedRef<'a> {
    pub from_group: &'a str,
    pub from_kind: &'a str,
    pub from_namespace: &'a str,
    pub to_group: &'a str,
    pub to_kind: &'a str,
    pub to_namespace: &'a str,
    pub to_name: &'a str,
}

/// Whether a ReferenceGrant in the target's namespace lets objects of the
/// referring kind and namespace refer to the target.
pub fn grant_allows(world: &World, r: &GrantedRef<'_>) -> bool {
    world.of_kind("ReferenceGrant").any(|(key, stored)| {
        let Object::ReferenceGrant(g) = &stored.manifest.object else {
            return false;
        };
        key.namespace == r.to_namespace && grant_covers(g, r)
    })
}

/// Whether one grant (wherever it is) names both ends of the reference.
fn grant_covers(g: &ReferenceGrant, r: &GrantedRef<'_>) -> bool {
    g.spec.from.iter().any(|f| {
        f.group == r.from_group && f.kind == r.from_kind && f.namespace == r.from_namespace
    }) && g.spec.to.iter().any(|t| {
        t.group == r.to_group
            && t.kind == r.to_kind
            && t.name.as_deref().is_none_or(|n| n == r.to_name)
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

/// Whether a listener's `allowedRoutes.namespaces` admits routes of `route_ns`
/// (`Same` when not given).
pub(super) fn namespace_allowed(world: &World, l: &Listener, gw_ns: &str, route_ns: &str) -> bool {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::gateway_api::{AllowedRoutes, LabelSelectorRequirement, RouteNamespaces};
    use crate::model::test_support::world_of;

    const GRANT: &str = "apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: {name: g, namespace: backends}
spec:
  from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: app}]
  to: [{group: '', kind: Service, name: svc}]
";

    fn reference() -> GrantedRef<'static> {
        GrantedRef {
            from_group: "gateway.networking.k8s.io",
            from_kind: "HTTPRoute",
            from_namespace: "app",
            to_group: "",
            to_kind: "Service",
            to_namespace: "backends",
            to_name: "svc",
        }
    }

    #[test]
    fn a_grant_must_match_every_field() {
        let w = world_of(GRANT);
        let r = reference();
        assert!(grant_allows(&w, &r));
        let changed = [
            GrantedRef {
                from_group: "",
                ..r
            },
            GrantedRef {
                from_kind: "GRPCRoute",
                ..r
            },
            GrantedRef {
                from_namespace: "other",
                ..r
            },
            GrantedRef {
                to_group: "apps",
                ..r
            },
            GrantedRef {
                to_kind: "Secret",
                ..r
            },
            GrantedRef {
                to_namespace: "app",
                ..r
            },
            GrantedRef {
                to_name: "other",
                ..r
            },
        ];
        for c in changed {
            assert!(!grant_allows(&w, &c), "{c:?}");
        }
    }

    #[test]
    fn a_grant_without_a_target_name_covers_every_name() {
        let w = world_of(&GRANT.replace(", name: svc", ""));
        assert!(grant_allows(
            &w,
            &GrantedRef {
                to_name: "anything",
                ..reference()
            }
        ));
        assert!(!grant_allows(&World::default(), &reference()));
    }

    fn selector(labels: &[(&str, &str)], exprs: &[(&str, &str, &[&str])]) -> LabelSelector {
        LabelSelector {
            match_labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            match_expressions: exprs
                .iter()
                .map(|(key, op, values)| LabelSelectorRequirement {
                    key: key.to_string(),
                    operator: op.to_string(),
                    values: values.iter().map(|v| v.to_string()).collect(),
                })
                .collect(),
        }
    }

    #[test]
    fn selector_operators() {
        let labels: BTreeMap<String, String> = [("env".to_string(), "prod".to_string())].into();
        let yes = |s: LabelSelector| selector_matches(&s, &labels);
        assert!(yes(selector(&[("env", "prod")], &[])));
        assert!(!yes(selector(&[("env", "dev")], &[])));
        assert!(yes(selector(&[], &[("env", "In", &["dev", "prod"])])));
        assert!(!yes(selector(&[], &[("env", "NotIn", &["prod"])])));
        assert!(yes(selector(&[], &[("team", "NotIn", &["a"])])));
        assert!(yes(selector(&[], &[("env", "Exists", &[])])));
        assert!(yes(selector(&[], &[("team", "DoesNotExist", &[])])));
        assert!(!yes(selector(&[], &[("env", "Gt", &["1"])])));
    }

    fn listener(from: Option<&str>, sel: Option<LabelSelector>) -> Listener {
        Listener {
            allowed_routes: Some(AllowedRoutes {
                namespaces: Some(RouteNamespaces {
                    from: from.map(String::from),
                    selector: sel,
                }),
                kinds: None,
            }),
            ..Default::default()
        }
    }

    #[test]
    fn allowed_namespaces_default_to_the_gateways_own() {
        let w = world_of(
            "apiVersion: v1\nkind: Namespace\nmetadata: {name: team, labels: {shared: 'yes'}}\n",
        );
        assert!(namespace_allowed(&w, &Listener::default(), "gw", "gw"));
        assert!(!namespace_allowed(&w, &Listener::default(), "gw", "team"));
        assert!(!namespace_allowed(
            &w,
            &listener(Some("Same"), None),
            "gw",
            "team"
        ));
        assert!(namespace_allowed(
            &w,
            &listener(Some("All"), None),
            "gw",
            "team"
        ));
        let shared = selector(&[("shared", "yes")], &[]);
        assert!(namespace_allowed(
            &w,
            &listener(Some("Selector"), Some(shared.clone())),
            "gw",
            "team"
        ));
        assert!(!namespace_allowed(
            &w,
            &listener(Some("Selector"), Some(shared)),
            "gw",
            "other"
        ));
        // Every namespace carries its name as a label.
        let by_name = selector(&[("kubernetes.io/metadata.name", "other")], &[]);
        assert!(namespace_allowed(
            &w,
            &listener(Some("Selector"), Some(by_name)),
            "gw",
            "other"
        ));
        assert!(!namespace_allowed(
            &w,
            &listener(Some("Selector"), None),
            "gw",
            "gw"
        ));
    }
}
