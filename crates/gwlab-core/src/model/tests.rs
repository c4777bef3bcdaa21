//! Spec rules, each checked through real objects: YAML in, status and routing out.

use super::compile::{Compiled, compile};
use super::evaluate::{Outcome, evaluate, pick_backend};
use super::lab_gateway;
use super::request::RequestHead;
use super::status::find;
use super::test_support::{NS, apply};
use super::world::{EchoService, ObjKey, World};

fn world(yaml: &str, echo: &[&str]) -> World {
    let mut w = World::default();
    for m in lab_gateway::objects() {
        w.apply(m);
    }
    w.next_batch();
    for name in echo {
        let (ns, name) = name.split_once('/').unwrap_or((NS, name));
        w.add_echo(EchoService {
            namespace: ns.into(),
            name: name.into(),
            port: 8080,
        });
    }
    apply(&mut w, yaml);
    w
}

fn route(name: &str, spec: &str) -> String {
    format!(
        "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {{name: {name}}}\nspec:\n  parentRefs: [{{name: kong, namespace: kong-system}}]\n{spec}\n---\n"
    )
}

fn get(host: &str, path: &str) -> RequestHead {
    req("GET", host, path, &[])
}

fn req(method: &str, host: &str, target: &str, headers: &[(&str, &str)]) -> RequestHead {
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p.to_string(), Some(q.to_string())),
        None => (target.to_string(), None),
    };
    RequestHead {
        method: method.into(),
        scheme: "http".into(),
        host: host.into(),
        path,
        query,
        headers: headers
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect(),
    }
}

/// The backend that answers (or the status code, for anything else).
fn answer(c: &Compiled, gw: (&str, &str), port: u16, r: &RequestHead) -> String {
    let table = c.gateway(gw.0, gw.1).expect("gateway is compiled");
    match evaluate(table, port, r).outcome {
        Outcome::NotFound { .. } => "404".into(),
        Outcome::ServerError { .. } => "500".into(),
        Outcome::Answer { status, .. } => status.to_string(),
        Outcome::Preflight { .. } => "204".into(),
        Outcome::Redirect {
            status, location, ..
        } => format!("{status} {location}"),
        Outcome::Forward(f) => match &pick_backend(&f.backends, 0.0).unwrap().target {
            super::compile::BackendTarget::Echo { name, .. } => name.clone(),
            super::compile::BackendTarget::NoEndpoints { .. } => "503".into(),
            super::compile::BackendTarget::Invalid { .. } => "500".into(),
        },
    }
}

fn lab_answer(c: &Compiled, r: &RequestHead) -> String {
    answer(
        c,
        (lab_gateway::GATEWAY_NAMESPACE, lab_gateway::GATEWAY_NAME),
        80,
        r,
    )
}

fn route_condition(c: &Compiled, name: &str, ty: &str) -> (String, String) {
    let st = c
        .status
        .get(&ObjKey::new("HTTPRoute", NS, name))
        .expect("route status");
    let cond = find(&st.parents[0].conditions, ty).expect("condition");
    (cond.status.clone(), cond.reason.clone())
}

#[test]
fn precedence_exact_then_longest_prefix_then_method_headers_query() {
    let yaml = route(
        "r",
        "  rules:
  - matches: [{path: {type: PathPrefix, value: /}}]
    backendRefs: [{name: root, port: 8080}]
  - matches: [{path: {type: PathPrefix, value: /a}}]
    backendRefs: [{name: prefix-a, port: 8080}]
  - matches: [{path: {type: PathPrefix, value: /a/b}}]
    backendRefs: [{name: prefix-ab, port: 8080}]
  - matches: [{path: {type: Exact, value: /a}}]
    backendRefs: [{name: exact-a, port: 8080}]
  - matches: [{path: {type: PathPrefix, value: /a/b}, method: POST}]
    backendRefs: [{name: method, port: 8080}]
  - matches: [{path: {type: PathPrefix, value: /a/b}, headers: [{name: h1, value: x}, {name: h2, value: yy}]}]
    backendRefs: [{name: two-headers, port: 8080}]
  - matches: [{path: {type: PathPrefix, value: /a/b}, headers: [{name: h1, value: x}]}]
    backendRefs: [{name: one-header, port: 8080}]
  - matches: [{path: {type: PathPrefix, value: /a/b}, headers: [{name: h1, value: x}], queryParams: [{name: q, value: '1'}]}]
    backendRefs: [{name: header-and-query, port: 8080}]",
    );
    let all = [
        "root",
        "prefix-a",
        "prefix-ab",
        "exact-a",
        "method",
        "two-headers",
        "one-header",
        "header-and-query",
    ];
    let c = compile(&world(&yaml, &all));
    assert_eq!(lab_answer(&c, &get("x", "/a")), "exact-a");
    assert_eq!(lab_answer(&c, &get("x", "/a/")), "prefix-a");
    assert_eq!(lab_answer(&c, &get("x", "/a/b/c")), "prefix-ab");
    assert_eq!(
        lab_answer(&c, &get("x", "/ab")),
        "root",
        "prefixes match whole segments"
    );
    assert_eq!(
        lab_answer(&c, &req("POST", "x", "/a/b", &[("h1", "x"), ("h2", "yy")])),
        "method",
        "method beats headers"
    );
    assert_eq!(
        lab_answer(&c, &req("GET", "x", "/a/b", &[("H1", "x"), ("h2", "yy")])),
        "two-headers",
        "more headers win; names are case-insensitive"
    );
    assert_eq!(
        lab_answer(&c, &req("GET", "x", "/a/b?q=1", &[("h1", "x")])),
        "header-and-query",
        "a query match breaks the tie"
    );
    assert_eq!(
        lab_answer(&c, &req("GET", "x", "/a/b", &[("h1", "x")])),
        "one-header"
    );
    assert_eq!(
        lab_answer(&c, &req("GET", "x", "/a/b", &[("h1", "X")])),
        "prefix-ab",
        "header values are case-sensitive"
    );
}

#[test]
fn ties_go_to_the_oldest_route_then_alphabetical_then_rule_order() {
    let mut w = world(
        &route(
            "zz-old",
            "  rules:\n  - backendRefs: [{name: old, port: 8080}]",
        ),
        &["old", "new", "first", "second"],
    );
    w.next_batch();
    apply(
        &mut w,
        &route(
            "aa-new",
            "  rules:\n  - backendRefs: [{name: new, port: 8080}]",
        ),
    );
    let c = compile(&w);
    assert_eq!(
        lab_answer(&c, &get("x", "/")),
        "old",
        "creation order beats the name"
    );

    let two = route(
        "r",
        "  rules:\n  - backendRefs: [{name: first, port: 8080}]\n  - backendRefs: [{name: second, port: 8080}]",
    );
    let c = compile(&world(&two, &["first", "second"]));
    assert_eq!(
        lab_answer(&c, &get("x", "/")),
        "first",
        "the first rule wins within a route"
    );
}

#[test]
fn equally_old_routes_tie_break_by_namespace_and_name() {
    let make = |ns: &str, svc: &str| {
        format!(
            "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {{name: r, namespace: {ns}}}\nspec:\n  parentRefs: [{{name: kong, namespace: kong-system}}]\n  rules:\n  - backendRefs: [{{name: {svc}, port: 8080}}]\n"
        )
    };
    // Applied together (within a second on a cluster), the routes are equally old: a/r sorts first.
    let mut w = world("", &["b/svc-b", "a/svc-a"]);
    apply(&mut w, &make("b", "svc-b"));
    apply(&mut w, &make("a", "svc-a"));
    assert_eq!(lab_answer(&compile(&w), &get("x", "/")), "svc-a");
    // A batch apart, the older one wins whatever its name.
    let mut w = world("", &["b/svc-b", "a/svc-a"]);
    apply(&mut w, &make("b", "svc-b"));
    w.next_batch();
    apply(&mut w, &make("a", "svc-a"));
    assert_eq!(lab_answer(&compile(&w), &get("x", "/")), "svc-b");
}

#[test]
fn hostnames_exact_and_wildcard_with_specificity() {
    let yaml = route(
        "exact",
        "  hostnames: [foo.example.com]\n  rules:\n  - matches: [{path: {value: /only}}]\n    backendRefs: [{name: exact, port: 8080}]",
    ) + &route(
        "wild",
        "  hostnames: ['*.example.com']\n  rules:\n  - matches: [{path: {type: Exact, value: /only/x}}]\n    backendRefs: [{name: wild, port: 8080}]\n  - backendRefs: [{name: wild-any, port: 8080}]",
    ) + &route(
        "deeper",
        "  hostnames: ['*.bar.example.com']\n  rules:\n  - backendRefs: [{name: deeper, port: 8080}]",
    );
    let c = compile(&world(&yaml, &["exact", "wild", "wild-any", "deeper"]));
    assert_eq!(
        lab_answer(&c, &get("foo.example.com", "/only/x")),
        "exact",
        "an exact hostname outranks a wildcard's exact path"
    );
    assert_eq!(
        lab_answer(&c, &get("FOO.example.com:8080", "/only")),
        "exact",
        "Host is case-insensitive and its port ignored"
    );
    assert_eq!(
        lab_answer(&c, &get("a.b.example.com", "/")),
        "wild-any",
        "wildcards match several labels"
    );
    assert_eq!(
        lab_answer(&c, &get("x.bar.example.com", "/")),
        "deeper",
        "the longer wildcard wins"
    );
    assert_eq!(
        lab_answer(&c, &get("example.com", "/")),
        "404",
        "a wildcard does not match the bare domain"
    );
    assert_eq!(
        lab_answer(&c, &get("foo.example.com", "/elsewhere")),
        "wild-any",
        "rules that do not match fall to the next route"
    );
}

#[test]
fn query_params_and_method() {
    let yaml = route(
        "r",
        "  rules:\n  - matches: [{queryParams: [{name: v, value: '2'}], method: GET}]\n    backendRefs: [{name: v2, port: 8080}]",
    );
    let c = compile(&world(&yaml, &["v2"]));
    assert_eq!(lab_answer(&c, &get("x", "/?a=1&v=2")), "v2");
    assert_eq!(
        lab_answer(&c, &get("x", "/?v=2&v=3")),
        "v2",
        "the first value counts"
    );
    assert_eq!(
        lab_answer(&c, &get("x", "/?V=2")),
        "404",
        "query names are case-sensitive"
    );
    assert_eq!(lab_answer(&c, &req("POST", "x", "/?v=2", &[])), "404");
}

#[test]
fn redirect_port_follows_the_spec() {
    let redirect = |body: &str| {
        route(
            "r",
            &format!(
                "  rules:\n  - filters:\n    - type: RequestRedirect\n      requestRedirect: {body}"
            ),
        )
    };
    let check = |body: &str, port: u16, scheme: &str, want: &str| {
        let c = compile(&world(&redirect(body), &[]));
        let mut r = get("shop.example.com", "/cart?id=1");
        r.scheme = scheme.into();
        let gw = c.gateway("kong-system", "kong").unwrap();
        let got = match evaluate(gw, port, &r).outcome {
            Outcome::Redirect {
                status, location, ..
            } => format!("{status} {location}"),
            other => format!("{other:?}"),
        };
        assert_eq!(got, want, "{body} on port {port}");
    };
    check(
        "{hostname: portal.imprun.dev, statusCode: 301}",
        80,
        "http",
        "301 http://portal.imprun.dev/cart?id=1",
    );
    check(
        "{scheme: https}",
        80,
        "http",
        "302 https://shop.example.com/cart?id=1",
    );
    check(
        "{port: 8443}",
        80,
        "http",
        "302 http://shop.example.com:8443/cart?id=1",
    );
    check(
        "{scheme: https, port: 443}",
        80,
        "http",
        "302 https://shop.example.com/cart?id=1",
    );
    check(
        "{scheme: http}",
        443,
        "https",
        "302 http://shop.example.com/cart?id=1",
    );
    check(
        "{hostname: a.example.com}",
        443,
        "https",
        "302 https://a.example.com/cart?id=1",
    );
    check(
        "{path: {type: ReplaceFullPath, replaceFullPath: /}}",
        80,
        "http",
        "302 http://shop.example.com/?id=1",
    );
}

#[test]
fn redirect_on_a_non_default_listener_port_keeps_it() {
    let gw = "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: g}\nspec:\n  gatewayClassName: kong\n  listeners:\n  - {name: web, protocol: HTTP, port: 8080}\n---\n";
    let r = "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r}\nspec:\n  parentRefs: [{name: g}]\n  rules:\n  - filters:\n    - {type: RequestRedirect, requestRedirect: {hostname: b.example.com}}\n    - {type: ResponseHeaderModifier, responseHeaderModifier: {set: [{name: x, value: z}]}}\n";
    let c = compile(&world(&format!("{gw}{r}"), &[]));
    assert_eq!(
        answer(&c, (NS, "g"), 8080, &get("a.example.com", "/p")),
        "302 http://b.example.com:8080/p"
    );
}

#[test]
fn prefix_redirect_and_rewrite_use_the_matched_prefix() {
    let yaml = route(
        "r",
        "  rules:\n  - matches: [{path: {value: /old/}}]\n    filters:\n    - type: RequestRedirect\n      requestRedirect: {path: {type: ReplacePrefixMatch, replacePrefixMatch: /new}}",
    );
    let c = compile(&world(&yaml, &[]));
    assert_eq!(
        lab_answer(&c, &get("x", "/old/a/b")),
        "302 http://x/new/a/b"
    );
    assert_eq!(lab_answer(&c, &get("x", "/old")), "302 http://x/new");
}

#[test]
fn weights_zero_gets_nothing_and_unresolved_shares_answer_500() {
    let yaml = route(
        "r",
        "  rules:\n  - backendRefs:\n    - {name: a, port: 8080, weight: 1}\n    - {name: zero, port: 8080, weight: 0}\n    - {name: missing, port: 8080, weight: 1}",
    );
    let c = compile(&world(&yaml, &["a", "zero"]));
    let gw = c.gateway("kong-system", "kong").unwrap();
    let Outcome::Forward(f) = evaluate(gw, 80, &get("x", "/")).outcome else {
        panic!()
    };
    let names: Vec<String> = (0..100)
        .map(
            |i| match &pick_backend(&f.backends, i as f64 / 100.0).unwrap().target {
                super::compile::BackendTarget::Echo { name, .. } => name.clone(),
                _ => "500".into(),
            },
        )
        .collect();
    assert_eq!(names.iter().filter(|n| *n == "a").count(), 50);
    assert_eq!(names.iter().filter(|n| *n == "500").count(), 50);
    assert!(!names.iter().any(|n| n == "zero"));
    assert_eq!(
        route_condition(&c, "r", "ResolvedRefs"),
        ("False".into(), "BackendNotFound".into())
    );
    assert_eq!(
        route_condition(&c, "r", "Accepted"),
        ("True".into(), "Accepted".into())
    );
}

#[test]
fn a_rule_without_backends_or_with_only_zero_weights_answers_500() {
    let yaml = route(
        "r",
        "  rules:\n  - matches: [{path: {value: /none}}]\n  - matches: [{path: {value: /zero}}]\n    backendRefs: [{name: a, port: 8080, weight: 0}]",
    );
    let c = compile(&world(&yaml, &["a"]));
    assert_eq!(lab_answer(&c, &get("x", "/none")), "500");
    assert_eq!(lab_answer(&c, &get("x", "/zero")), "500");
}

#[test]
fn backend_refs_resolve_only_services_with_the_port() {
    let yaml = route(
        "kind",
        "  hostnames: [k.example]\n  rules:\n  - backendRefs: [{group: example.com, kind: Thing, name: a}]",
    ) + &route(
        "port",
        "  hostnames: [p.example]\n  rules:\n  - backendRefs: [{name: a, port: 9999}]",
    );
    let c = compile(&world(&yaml, &["a"]));
    assert_eq!(route_condition(&c, "kind", "ResolvedRefs").1, "InvalidKind");
    assert_eq!(
        route_condition(&c, "port", "ResolvedRefs").1,
        "BackendNotFound"
    );
    assert_eq!(lab_answer(&c, &get("k.example", "/")), "500");
}

#[test]
fn reference_grants_must_match_every_field() {
    let r = "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r}\nspec:\n  parentRefs: [{name: kong, namespace: kong-system}]\n  rules:\n  - backendRefs: [{name: svc, namespace: other, port: 8080}]\n---\n";
    let grant = |from_group: &str, from_kind: &str, from_ns: &str, to_kind: &str, to_name: &str| {
        format!(
            "apiVersion: gateway.networking.k8s.io/v1beta1\nkind: ReferenceGrant\nmetadata: {{name: g, namespace: other}}\nspec:\n  from: [{{group: {from_group}, kind: {from_kind}, namespace: {from_ns}}}]\n  to: [{{group: '', kind: {to_kind}{to_name}}}]\n"
        )
    };
    let resolved = |g: &str| {
        let c = compile(&world(&format!("{r}{g}"), &["other/svc"]));
        route_condition(&c, "r", "ResolvedRefs")
    };
    assert_eq!(resolved(""), ("False".into(), "RefNotPermitted".into()));
    assert_eq!(
        resolved(&grant(
            "gateway.networking.k8s.io",
            "HTTPRoute",
            NS,
            "Service",
            ""
        ))
        .0,
        "True"
    );
    assert_eq!(
        resolved(&grant(
            "gateway.networking.k8s.io",
            "HTTPRoute",
            NS,
            "Service",
            ", name: svc"
        ))
        .0,
        "True"
    );
    assert_eq!(
        resolved(&grant(
            "gateway.networking.k8s.io",
            "HTTPRoute",
            NS,
            "Service",
            ", name: other-svc"
        ))
        .0,
        "False",
        "wrong to.name"
    );
    assert_eq!(
        resolved(&grant(
            "gateway.networking.k8s.io",
            "HTTPRoute",
            "elsewhere",
            "Service",
            ""
        ))
        .0,
        "False",
        "wrong from.namespace"
    );
    assert_eq!(
        resolved(&grant(
            "gateway.networking.k8s.io",
            "GRPCRoute",
            NS,
            "Service",
            ""
        ))
        .0,
        "False",
        "wrong from.kind"
    );
    assert_eq!(
        resolved(&grant("example.com", "HTTPRoute", NS, "Service", "")).0,
        "False",
        "wrong from.group"
    );
    assert_eq!(
        resolved(&grant(
            "gateway.networking.k8s.io",
            "HTTPRoute",
            NS,
            "Secret",
            ""
        ))
        .0,
        "False",
        "wrong to.kind"
    );
}

const GATEWAY: &str = "apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: g}
spec:
  gatewayClassName: kong
  listeners:
  - {name: any, protocol: HTTP, port: 80}
  - {name: wild, protocol: HTTP, port: 80, hostname: '*.example.com'}
  - {name: exact, protocol: HTTP, port: 80, hostname: foo.example.com}
  - name: same-ns-only
    protocol: HTTP
    port: 8080
  - name: selected
    protocol: HTTP
    port: 8081
    allowedRoutes:
      namespaces:
        from: Selector
        selector: {matchLabels: {team: blue}}
---
";

fn gw_route(name: &str, ns: &str, parent: &str, hostnames: &str) -> String {
    format!(
        "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {{name: {name}, namespace: {ns}}}\nspec:\n  parentRefs: [{parent}]\n  hostnames: [{hostnames}]\n  rules:\n  - backendRefs: [{{name: svc, namespace: {NS}, port: 8080}}]\n---\n"
    )
}

fn parent_condition(c: &Compiled, ns: &str, name: &str) -> (String, String) {
    let st = c
        .status
        .get(&ObjKey::new("HTTPRoute", ns, name))
        .expect("route status");
    let cond = find(&st.parents[0].conditions, "Accepted").unwrap();
    (cond.status.clone(), cond.reason.clone())
}

#[test]
fn attachment_reasons_follow_the_spec() {
    let grant = "apiVersion: gateway.networking.k8s.io/v1beta1\nkind: ReferenceGrant\nmetadata: {name: all, namespace: app}\nspec:\n  from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: blue}, {group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: red}]\n  to: [{group: '', kind: Service}]\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: blue, labels: {team: blue}}\n---\n";
    let yaml = format!(
        "{GATEWAY}{grant}{}{}{}{}{}{}{}",
        gw_route(
            "section",
            NS,
            "{name: g, sectionName: exact}",
            "foo.example.com"
        ),
        gw_route(
            "no-section",
            NS,
            "{name: g, sectionName: nope}",
            "foo.example.com"
        ),
        gw_route("bad-port", NS, "{name: g, port: 9999}", "foo.example.com"),
        gw_route(
            "other-ns",
            "red",
            "{name: g, namespace: app, port: 8080}",
            "a.example.com"
        ),
        gw_route(
            "selected",
            "blue",
            "{name: g, namespace: app, port: 8081}",
            "a.example.com"
        ),
        gw_route(
            "not-selected",
            "red",
            "{name: g, namespace: app, port: 8081}",
            "a.example.com"
        ),
        gw_route(
            "no-host",
            NS,
            "{name: g, sectionName: exact}",
            "bar.example.com"
        ),
    );
    let c = compile(&world(&yaml, &["svc"]));
    assert_eq!(parent_condition(&c, NS, "section").0, "True");
    assert_eq!(parent_condition(&c, NS, "no-section").1, "NoMatchingParent");
    assert_eq!(parent_condition(&c, NS, "bad-port").1, "NoMatchingParent");
    assert_eq!(
        parent_condition(&c, "red", "other-ns").1,
        "NotAllowedByListeners",
        "allowedRoutes defaults to Same"
    );
    assert_eq!(parent_condition(&c, "blue", "selected").0, "True");
    assert_eq!(
        parent_condition(&c, "red", "not-selected").1,
        "NotAllowedByListeners"
    );
    assert_eq!(
        parent_condition(&c, NS, "no-host").1,
        "NoMatchingListenerHostname"
    );

    let gw = c.status.get(&ObjKey::new("Gateway", NS, "g")).unwrap();
    let attached = |l: &str| {
        gw.listeners
            .iter()
            .find(|s| s.name == l)
            .unwrap()
            .attached_routes
    };
    assert_eq!(attached("exact"), 1);
    assert_eq!(attached("selected"), 1);
    assert_eq!(attached("same-ns-only"), 0);
    assert_eq!(find(&gw.conditions, "Programmed").unwrap().status, "True");
}

/// GatewayHTTPListenerIsolation, which the embedded gateway declares: routes of
/// a listener without hostname never see a request a more specific listener
/// takes, even when their own hostnames match it.
#[test]
fn the_most_specific_listener_hostname_takes_the_request() {
    let yaml = format!(
        "{GATEWAY}{}{}{}",
        gw_route(
            "on-any",
            NS,
            "{name: g, sectionName: any}",
            "foo.example.com, bar.example.com, other.net"
        ),
        gw_route(
            "on-wild",
            NS,
            "{name: g, sectionName: wild}",
            "'*.example.com'"
        ),
        gw_route(
            "on-exact",
            NS,
            "{name: g, sectionName: exact}",
            "foo.example.com"
        ),
    );
    let mut w = world(&yaml, &["svc"]);
    // Give each route its own backend so answers tell them apart.
    for (route, svc) in [
        ("on-any", "svc-any"),
        ("on-wild", "svc-wild"),
        ("on-exact", "svc-exact"),
    ] {
        w.add_echo(EchoService {
            namespace: NS.into(),
            name: svc.into(),
            port: 8080,
        });
        apply(
            &mut w,
            &gw_route(
                route,
                NS,
                &format!(
                    "{{name: g, sectionName: {}}}",
                    route.trim_start_matches("on-")
                ),
                match route {
                    "on-any" => "foo.example.com, bar.example.com, other.net",
                    "on-wild" => "'*.example.com'",
                    _ => "foo.example.com",
                },
            )
            .replace("name: svc,", &format!("name: {svc},")),
        );
    }
    let c = compile(&w);
    let at = |host: &str| answer(&c, (NS, "g"), 80, &get(host, "/"));
    assert_eq!(at("foo.example.com"), "svc-exact");
    assert_eq!(
        at("bar.example.com"),
        "svc-wild",
        "the wildcard listener is more specific than none"
    );
    assert_eq!(at("other.net"), "svc-any");
}

#[test]
fn conflicting_listeners_are_not_programmed() {
    let gw = "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: g}\nspec:\n  gatewayClassName: kong\n  listeners:\n  - {name: a, protocol: HTTP, port: 80, hostname: x.example}\n  - {name: b, protocol: HTTP, port: 80, hostname: x.example}\n  - {name: c, protocol: HTTP, port: 81}\n  - name: d\n    protocol: HTTPS\n    port: 81\n    tls: {certificateRefs: [{name: missing}]}\n  - name: e\n    protocol: HTTPS\n    port: 443\n    tls: {certificateRefs: [{name: missing}]}\n";
    let c = compile(&world(gw, &[]));
    let st = c.status.get(&ObjKey::new("Gateway", NS, "g")).unwrap();
    let cond = |l: &str, ty: &str| {
        let c = find(
            &st.listeners
                .iter()
                .find(|s| s.name == l)
                .unwrap()
                .conditions,
            ty,
        )
        .unwrap();
        (c.status.clone(), c.reason.clone())
    };
    assert_eq!(
        cond("a", "Conflicted"),
        ("True".into(), "HostnameConflict".into())
    );
    assert_eq!(
        cond("c", "Conflicted"),
        ("True".into(), "ProtocolConflict".into())
    );
    assert_eq!(
        cond("e", "ResolvedRefs"),
        ("False".into(), "InvalidCertificateRef".into())
    );
    assert_eq!(cond("e", "Programmed").0, "False");
    assert_eq!(find(&st.conditions, "Programmed").unwrap().status, "False");
}

#[test]
fn observed_generation_follows_spec_changes() {
    let r1 = route("r", "  rules:\n  - backendRefs: [{name: a, port: 8080}]");
    let mut w = world(&r1, &["a"]);
    apply(&mut w, &r1);
    let c = compile(&w);
    let st = c.status.get(&ObjKey::new("HTTPRoute", NS, "r")).unwrap();
    assert_eq!(
        st.generation, 1,
        "re-applying the same spec keeps the generation"
    );
    apply(
        &mut w,
        &route(
            "r",
            "  rules:\n  - backendRefs: [{name: a, port: 8080, weight: 2}]",
        ),
    );
    let c = compile(&w);
    let st = c.status.get(&ObjKey::new("HTTPRoute", NS, "r")).unwrap();
    assert_eq!(st.generation, 2);
    assert_eq!(st.parents[0].conditions[0].observed_generation, 2);
}

#[test]
fn regular_expression_matches_are_reported_unsupported() {
    let yaml = route(
        "r",
        "  rules:\n  - matches: [{path: {type: RegularExpression, value: '/a.*'}}]\n    backendRefs: [{name: a, port: 8080}]",
    );
    let c = compile(&world(&yaml, &["a"]));
    assert_eq!(
        route_condition(&c, "r", "Accepted"),
        ("False".into(), "UnsupportedValue".into())
    );
    assert_eq!(lab_answer(&c, &get("x", "/abc")), "404");
}

#[test]
fn the_lab_class_is_accepted_with_its_features() {
    let c = compile(&world("", &[]));
    let st = c
        .status
        .get(&ObjKey::new("GatewayClass", "", lab_gateway::CLASS_NAME))
        .unwrap();
    assert_eq!(find(&st.conditions, "Accepted").unwrap().status, "True");
    assert!(
        st.supported_features
            .iter()
            .any(|f| f == "HTTPRouteSchemeRedirect")
    );
}

#[test]
fn a_certificate_in_another_namespace_without_a_grant_is_ref_not_permitted() {
    let gw = "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: g}\nspec:\n  gatewayClassName: kong\n  listeners:\n  - name: s\n    protocol: HTTPS\n    port: 443\n    tls: {certificateRefs: [{name: cert, namespace: certs}]}\n";
    let c = compile(&world(gw, &[]));
    let st = c.status.get(&ObjKey::new("Gateway", NS, "g")).unwrap();
    let rr = find(&st.listeners[0].conditions, "ResolvedRefs").unwrap();
    assert_eq!(
        (rr.status.as_str(), rr.reason.as_str()),
        ("False", "RefNotPermitted"),
        "InvalidCertificateRef is only for allowed references"
    );
}

#[test]
fn allowed_route_kinds_keep_the_valid_ones_and_follow_the_protocol() {
    let gw = "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: g}\nspec:\n  gatewayClassName: kong\n  listeners:\n  - name: mixed\n    protocol: HTTP\n    port: 80\n    allowedRoutes: {kinds: [{kind: Foo}, {kind: HTTPRoute}]}\n  - {name: tcp, protocol: TCP, port: 9000}\n---\n";
    let yaml = format!(
        "{gw}{}{}",
        gw_route(
            "on-mixed",
            NS,
            "{name: g, sectionName: mixed}",
            "a.example.com"
        ),
        gw_route("on-tcp", NS, "{name: g, sectionName: tcp}", "a.example.com")
    );
    let c = compile(&world(&yaml, &["svc"]));
    let st = c.status.get(&ObjKey::new("Gateway", NS, "g")).unwrap();
    let mixed = st.listeners.iter().find(|l| l.name == "mixed").unwrap();
    assert_eq!(
        mixed.supported_kinds,
        vec!["HTTPRoute"],
        "the valid kinds are listed"
    );
    assert_eq!(
        find(&mixed.conditions, "ResolvedRefs").unwrap().reason,
        "InvalidRouteKinds"
    );
    assert_eq!(
        parent_condition(&c, NS, "on-mixed").0,
        "True",
        "an HTTPRoute still attaches"
    );
    let tcp = st.listeners.iter().find(|l| l.name == "tcp").unwrap();
    assert_eq!(tcp.supported_kinds, vec!["TCPRoute"]);
    assert_eq!(
        parent_condition(&c, NS, "on-tcp").1,
        "NotAllowedByListeners",
        "a TCP listener takes no HTTPRoute"
    );
}

#[test]
fn response_headers_apply_to_redirects_wherever_the_filter_is_listed() {
    let yaml = route(
        "r",
        "  rules:\n  - filters:\n    - {type: RequestRedirect, requestRedirect: {hostname: b.example.com}}\n    - {type: ResponseHeaderModifier, responseHeaderModifier: {add: [{name: X-A, value: '1'}]}}",
    );
    let c = compile(&world(&yaml, &[]));
    let gw = c.gateway("kong-system", "kong").unwrap();
    match evaluate(gw, 80, &get("a.example.com", "/")).outcome {
        Outcome::Redirect {
            response_headers, ..
        } => assert_eq!(
            response_headers[0].add,
            vec![("X-A".to_string(), "1".to_string())]
        ),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_repeated_request_header_matches_as_its_joined_values() {
    let yaml = route(
        "r",
        "  rules:\n  - matches: [{headers: [{name: x-v, value: 'a,b'}]}]\n    backendRefs: [{name: joined, port: 8080}]\n  - matches: [{headers: [{name: x-v, value: a}]}]\n    backendRefs: [{name: single, port: 8080}]",
    );
    let c = compile(&world(&yaml, &["joined", "single"]));
    assert_eq!(
        lab_answer(&c, &req("GET", "x", "/", &[("X-V", "a"), ("x-v", "b")])),
        "joined"
    );
    assert_eq!(
        lab_answer(&c, &req("GET", "x", "/", &[("X-V", "a")])),
        "single"
    );
}
