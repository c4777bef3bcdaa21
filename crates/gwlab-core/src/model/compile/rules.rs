//! An HTTPRoute's rules as the embedded gateway runs them: the match specs,
//! the filters, the backends resolved, the timeouts.

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use super::grants::{GrantedRef, grant_allows};
use super::{
    Backend, BackendTarget, Filter, HeaderOps, MatchSpec, PathKind, PathRewrite, Rule, Share,
};
use crate::duration::parse_gateway as parse_gateway_duration;
use crate::manifest::GATEWAY_GROUP;
use crate::manifest::gateway_api::{
    BackendObjectRef, HeaderModifier, HeaderValue, HttpBackendRef, HttpRoute, HttpRouteFilter,
    HttpRouteMatch, HttpRouteRule, NameValueMatch, PathModifier,
};
use crate::model::world::World;

/// A route without `rules` has one rule matching every request, as the CRD defaults it.
static DEFAULT_RULE: LazyLock<HttpRouteRule> = LazyLock::new(HttpRouteRule::default);

fn rules_of(route: &HttpRoute) -> Vec<&HttpRouteRule> {
    match &route.spec.rules {
        Some(r) => r.iter().map(|r| &r.value).collect(),
        None => vec![&*DEFAULT_RULE],
    }
}

/// Every match of every rule, as (rule index, match index, spec). A rule
/// without matches has one matching every request.
pub(super) fn route_matches(route: &HttpRoute) -> Vec<(usize, usize, Arc<MatchSpec>)> {
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
pub(super) fn compile_rules(
    world: &World,
    ns: &str,
    route: &HttpRoute,
) -> (Vec<Rule>, Option<String>) {
    let rules = rules_of(route);
    let unsupported = rules
        .iter()
        .enumerate()
        .find(|(_, rule)| uses_regex(rule))
        .map(|(ri, _)| {
            format!(
                "rule {ri}: RegularExpression matches are implementation-specific and not supported by the embedded gateway"
            )
        });
    let out = rules
        .iter()
        .map(|rule| compile_rule(world, ns, rule))
        .collect();
    (out, unsupported)
}

/// Whether any match of the rule is a RegularExpression (path, header or query).
fn uses_regex(rule: &HttpRouteRule) -> bool {
    let is_regex = |t: Option<&str>| t == Some("RegularExpression");
    rule.matches.iter().flatten().any(|m| {
        m.value
            .path
            .as_ref()
            .is_some_and(|p| is_regex(p.type_.as_deref()))
            || m.value
                .headers
                .iter()
                .chain(m.value.query_params.iter())
                .any(|h| is_regex(h.type_.as_deref()))
    })
}

fn compile_rule(world: &World, ns: &str, rule: &HttpRouteRule) -> Rule {
    let timeouts = rule.timeouts.as_ref();
    Rule {
        name: rule.name.clone(),
        filters: rule
            .filters
            .iter()
            .map(|f| compile_filter(world, ns, &f.value))
            .collect(),
        backends: rule
            .backend_refs
            .iter()
            .map(|b| compile_backend(world, ns, &b.value))
            .collect(),
        request_timeout: timeouts.and_then(|t| rule_timeout(&t.request)),
        backend_timeout: timeouts.and_then(|t| rule_timeout(&t.backend_request)),
    }
}

/// A rule timeout; an unparsable or zero one means none.
fn rule_timeout(v: &Option<String>) -> Option<Duration> {
    v.as_deref()
        .and_then(|t| parse_gateway_duration(t).ok())
        .filter(|d| !d.is_zero())
}

fn compile_backend(world: &World, ns: &str, b: &HttpBackendRef) -> Backend {
    let mut backend = resolve_backend(world, ns, &b.object_ref());
    backend.weight = b.weight.unwrap_or(1);
    backend.filters = b
        .filters
        .iter()
        .map(|f| compile_filter(world, ns, f))
        .collect();
    backend
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
        // Validated before: 0 to 100, a numerator at most its denominator.
        let share = match (m.percent, &m.fraction) {
            (Some(p), _) => Share {
                numerator: u32::try_from(p).unwrap_or(0),
                denominator: 100,
            },
            (None, Some(f)) => Share {
                numerator: u32::try_from(f.numerator).unwrap_or(0),
                denominator: u32::try_from(f.denominator.unwrap_or(100)).unwrap_or(100),
            },
            (None, None) => Share::ALL,
        };
        return Filter::Mirror(resolve_backend(world, ns, b), share);
    }
    if let Some(c) = &f.cors {
        return Filter::Cors(crate::model::cors::Cors {
            // Validated before: every pattern reads.
            allow_origins: c
                .allow_origins
                .iter()
                .filter_map(|o| crate::model::cors::Origin::pattern(o))
                .collect(),
            allow_methods: c.allow_methods.clone(),
            allow_headers: c.allow_headers.clone(),
            expose_headers: c.expose_headers.clone(),
            allow_credentials: c.allow_credentials.unwrap_or(false),
            max_age: c.max_age.unwrap_or(5),
        });
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
    let target_ns = r.namespace.as_deref().unwrap_or(route_ns);
    let display = match r.port {
        Some(p) => format!("{target_ns}/{}:{p}", r.name),
        None => format!("{target_ns}/{}", r.name),
    };
    Backend {
        display,
        weight: 1,
        target: backend_target(world, route_ns, r),
        filters: Vec::new(),
    }
}

fn backend_target(world: &World, route_ns: &str, r: &BackendObjectRef) -> BackendTarget {
    let group = r.group.as_deref().unwrap_or("");
    let kind = r.kind.as_deref().unwrap_or("Service");
    let name = r.name.as_str();
    let target_ns = r.namespace.as_deref().unwrap_or(route_ns);
    let invalid = |reason: &str, message: String| BackendTarget::Invalid {
        reason: reason.into(),
        message,
    };
    if !group.is_empty() || kind != "Service" {
        let g = if group.is_empty() { "core" } else { group };
        return invalid(
            "InvalidKind",
            format!("backendRef {name} is a {g}/{kind}; only Services are supported"),
        );
    }
    let granted = GrantedRef {
        from_group: GATEWAY_GROUP,
        from_kind: "HTTPRoute",
        from_namespace: route_ns,
        to_group: "",
        to_kind: "Service",
        to_namespace: target_ns,
        to_name: name,
    };
    if target_ns != route_ns && !grant_allows(world, &granted) {
        return invalid(
            "RefNotPermitted",
            format!(
                "backendRef to Service {target_ns}/{name} is not permitted: no ReferenceGrant in {target_ns} allows HTTPRoutes from {route_ns}"
            ),
        );
    }
    match world.service_ports(target_ns, name) {
        None => invalid(
            "BackendNotFound",
            format!("Service {target_ns}/{name} not found"),
        ),
        Some(ports) if r.port.is_some_and(|p| !ports.contains(&p)) => invalid(
            "BackendNotFound",
            format!(
                "Service {target_ns}/{name} has no port {}",
                r.port.unwrap_or(0)
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
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_mirror_share_takes_its_numerator_of_every_denominator_draws() {
        let taken = |share: Share| {
            (0..1000)
                .filter(|i| share.takes(f64::from(*i) / 1000.0))
                .count()
        };
        let tenth = Share {
            numerator: 10,
            denominator: 100,
        };
        let third = Share {
            numerator: 1,
            denominator: 3,
        };
        assert_eq!(taken(tenth), 100);
        assert_eq!(taken(third), 334);
        assert_eq!(taken(Share::ALL), 1000);
        assert_eq!(
            taken(Share {
                numerator: 0,
                denominator: 100
            }),
            0
        );
        assert_eq!(
            (tenth.said(), third.said(), Share::ALL.said()),
            ("10 %".to_string(), "1/3".to_string(), String::new())
        );
    }

    use super::*;
    use crate::manifest::gateway_api::HttpRouteSpec;
    use crate::model::test_support::{from_yaml, world_of};
    use crate::model::world::EchoService;

    fn route(spec: &str) -> HttpRoute {
        HttpRoute {
            api_version: "gateway.networking.k8s.io/v1".into(),
            kind: "HTTPRoute".into(),
            metadata: Default::default(),
            spec: from_yaml::<HttpRouteSpec>(spec),
            status: None,
        }
    }

    #[test]
    fn match_specs_default_to_prefix_slash_and_keep_the_first_of_a_name() {
        let m = match_spec(&HttpRouteMatch::default());
        assert_eq!((m.path_kind, m.path.as_str()), (PathKind::Prefix, "/"));
        let m = match_spec(&from_yaml(
            "{path: {type: Exact, value: /a}, method: POST,
              headers: [{name: X-A, value: '1'}, {name: x-a, value: '2'}],
              queryParams: [{name: Q, value: '1'}, {name: q, value: '2'}]}",
        ));
        assert_eq!((m.path_kind, m.path.as_str()), (PathKind::Exact, "/a"));
        assert_eq!(m.method.as_deref(), Some("POST"));
        assert_eq!(m.headers, [("x-a".to_string(), "1".to_string())]);
        assert_eq!(
            m.query,
            [
                ("Q".to_string(), "1".to_string()),
                ("q".to_string(), "2".to_string())
            ]
        );
        let m = match_spec(&from_yaml("{path: {value: /p}}"));
        assert_eq!((m.path_kind, m.path.as_str()), (PathKind::Prefix, "/p"));
    }

    #[test]
    fn every_rule_has_at_least_one_match() {
        let indices = |r: &HttpRoute| -> Vec<(usize, usize)> {
            route_matches(r)
                .iter()
                .map(|(ri, mi, _)| (*ri, *mi))
                .collect()
        };
        assert_eq!(indices(&route("{}")), [(0, 0)]);
        let r = route(
            "rules:
- matches: []
- matches: [{path: {value: /a}}, {path: {value: /b}}]
- {}",
        );
        assert_eq!(indices(&r), [(0, 0), (1, 0), (1, 1), (2, 0)]);
        assert_eq!(route_matches(&r)[2].2.path, "/b");
    }

    #[test]
    fn the_first_rule_with_a_regular_expression_makes_the_route_unsupported() {
        let r = route(
            "rules:
- matches: [{path: {value: /a}}]
- matches: [{queryParams: [{type: RegularExpression, name: q, value: '.*'}]}]
- matches: [{path: {type: RegularExpression, value: /a.*}}]",
        );
        let (rules, unsupported) = compile_rules(&World::default(), "app", &r);
        assert_eq!(rules.len(), 3);
        assert!(
            unsupported
                .expect("unsupported")
                .starts_with("rule 1: RegularExpression")
        );
        assert!(
            compile_rules(&World::default(), "app", &route("{}"))
                .1
                .is_none()
        );
    }

    #[test]
    fn zero_or_unparsable_timeouts_mean_none() {
        let r = route(
            "rules:
- timeouts: {request: 10s, backendRequest: 0s}
- timeouts: {request: soon}",
        );
        let (rules, _) = compile_rules(&World::default(), "app", &r);
        assert_eq!(rules[0].request_timeout, Some(Duration::from_secs(10)));
        assert_eq!(rules[0].backend_timeout, None);
        assert_eq!(rules[1].request_timeout, None);
    }

    fn filter(yaml: &str) -> Filter {
        compile_filter(&World::default(), "app", &from_yaml(yaml))
    }

    #[test]
    fn filters_compile_to_what_the_gateway_runs() {
        let Filter::RequestHeaders(ops) = filter(
            "{type: RequestHeaderModifier, requestHeaderModifier: {set: [{name: a, value: '1'}], add: [{name: b, value: '2'}], remove: [c]}}",
        ) else {
            panic!("request headers")
        };
        assert_eq!(ops.set, [("a".to_string(), "1".to_string())]);
        assert_eq!(ops.add, [("b".to_string(), "2".to_string())]);
        assert_eq!(ops.remove, ["c"]);
        let Filter::Redirect {
            status,
            path,
            scheme,
            ..
        } = filter(
            "{type: RequestRedirect, requestRedirect: {scheme: https, path: {type: ReplacePrefixMatch, replacePrefixMatch: /new}}}",
        )
        else {
            panic!("redirect")
        };
        assert_eq!((status, scheme.as_deref()), (302, Some("https")));
        assert!(matches!(path, Some(PathRewrite::Prefix(p)) if p == "/new"));
        let Filter::Rewrite { hostname, path } = filter(
            "{type: URLRewrite, urlRewrite: {hostname: b.example.com, path: {type: ReplaceFullPath, replaceFullPath: /x}}}",
        ) else {
            panic!("rewrite")
        };
        assert_eq!(hostname.as_deref(), Some("b.example.com"));
        assert!(matches!(path, Some(PathRewrite::Full(p)) if p == "/x"));
        let Filter::Mirror(b, share) =
            filter("{type: RequestMirror, requestMirror: {backendRef: {name: m, port: 80}}}")
        else {
            panic!("mirror")
        };
        assert_eq!(b.display, "app/m:80");
        assert_eq!(share, Share::ALL);
        for (spec, want) in [
            ("percent: 10", (10, 100)),
            ("fraction: {numerator: 1, denominator: 3}", (1, 3)),
            ("fraction: {numerator: 5}", (5, 100)),
        ] {
            let Filter::Mirror(_, share) = filter(&format!(
                "{{type: RequestMirror, requestMirror: {{backendRef: {{name: m, port: 80}}, {spec}}}}}"
            )) else {
                panic!("mirror")
            };
            assert_eq!((share.numerator, share.denominator), want, "{spec}");
        }
        assert!(matches!(
            filter("{type: ExtensionRef, extensionRef: {group: example.com, kind: Auth, name: a}}"),
            Filter::Extension(w) if w == "example.com/Auth a"
        ));
        assert!(matches!(filter("{type: CORS}"), Filter::Extension(w) if w == "CORS"));
    }

    #[test]
    fn backend_weights_and_filters_come_from_the_backend_ref() {
        let r = route(
            "rules:
- backendRefs:
  - {name: a, port: 8080}
  - {name: b, port: 8080, weight: 0, filters: [{type: ResponseHeaderModifier, responseHeaderModifier: {remove: [x]}}]}",
        );
        let (rules, _) = compile_rules(&World::default(), "app", &r);
        let b = &rules[0].backends;
        assert_eq!((b[0].weight, b[1].weight), (1, 0));
        assert!(b[0].filters.is_empty());
        assert!(matches!(&b[1].filters[..], [Filter::ResponseHeaders(ops)] if ops.remove == ["x"]));
    }

    fn target(world: &World, yaml: &str) -> BackendTarget {
        resolve_backend(world, "app", &from_yaml(yaml)).target
    }

    fn invalid(reason: &str, message: &str) -> BackendTarget {
        BackendTarget::Invalid {
            reason: reason.into(),
            message: message.into(),
        }
    }

    #[test]
    fn backends_resolve_only_existing_services_and_ports() {
        let mut w = world_of(
            "apiVersion: v1\nkind: Service\nmetadata: {name: plain}\nspec: {ports: [{port: 80}]}\n",
        );
        w.add_echo(EchoService {
            namespace: "app".into(),
            name: "echo".into(),
            port: 8080,
        });
        assert_eq!(
            target(&w, "{name: echo, port: 8080}"),
            BackendTarget::Echo {
                namespace: "app".into(),
                name: "echo".into()
            }
        );
        assert_eq!(
            target(&w, "{name: plain}"),
            BackendTarget::NoEndpoints {
                namespace: "app".into(),
                name: "plain".into()
            }
        );
        assert_eq!(
            target(&w, "{name: plain, port: 81}"),
            invalid("BackendNotFound", "Service app/plain has no port 81")
        );
        assert_eq!(
            target(&w, "{name: gone}"),
            invalid("BackendNotFound", "Service app/gone not found")
        );
        assert_eq!(
            target(&w, "{kind: ConfigMap, name: c}"),
            invalid(
                "InvalidKind",
                "backendRef c is a core/ConfigMap; only Services are supported"
            )
        );
        assert_eq!(
            target(&w, "{group: example.com, kind: Service, name: c}"),
            invalid(
                "InvalidKind",
                "backendRef c is a example.com/Service; only Services are supported"
            )
        );
        assert_eq!(
            target(&w, "{name: echo, namespace: other}"),
            invalid(
                "RefNotPermitted",
                "backendRef to Service other/echo is not permitted: no ReferenceGrant in other allows HTTPRoutes from app"
            )
        );
        let display = |yaml: &str| resolve_backend(&w, "app", &from_yaml(yaml)).display;
        assert_eq!(display("{name: a, namespace: b, port: 9}"), "b/a:9");
        assert_eq!(display("{name: a}"), "app/a");
    }
}
