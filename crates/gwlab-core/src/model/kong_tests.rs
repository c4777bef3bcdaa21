//! Each known Kong deviation through real objects: the same YAML and request
//! answered as the spec and as Kong, the answers differing as the deviation
//! says, and the deviation named (only where the answers differ).

use super::compile::{BackendTarget, compile_as};
use super::evaluate::{Evaluation, Outcome, evaluate};
use super::lab_gateway;
use super::request::RequestHead;
use super::test_support::{NS, apply};
use super::world::{EchoService, World};
use crate::implementations::Implementation;

fn world(yaml: &str, echo: &[&str]) -> World {
    let mut w = World::default();
    for m in lab_gateway::objects() {
        w.apply(m);
    }
    w.next_batch();
    for name in echo {
        w.add_echo(EchoService {
            namespace: NS.into(),
            name: (*name).into(),
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

fn url(method: &str, u: &str, headers: &[(&str, &str)]) -> RequestHead {
    let parsed = url::Url::parse(u).unwrap();
    let mut r = RequestHead::for_url(
        method,
        &parsed,
        headers
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect(),
    );
    // `url` resolves dot segments; a raw target keeps what the test wrote.
    if let Some((_, rest)) = u.split_once("://")
        && let Some(i) = rest.find('/')
    {
        let target = &rest[i..];
        let (p, q) = target
            .split_once('?')
            .map_or((target, None), |(p, q)| (p, Some(q)));
        r.path = p.into();
        r.query = q.map(String::from);
    }
    r
}

fn get(u: &str) -> RequestHead {
    url("GET", u, &[])
}

/// The evaluation under `imp`, on the lab Gateway's listener for the
/// request's scheme.
fn eval(w: &World, imp: &str, r: &RequestHead) -> Evaluation {
    let c = compile_as(w, Implementation::parse(imp).unwrap());
    let gw = c.gateway("kong-system", "kong").unwrap();
    let port = if r.scheme == "https" { 443 } else { 80 };
    evaluate(gw, port, r)
}

/// What a client sees: `301 <location>`, `404`, a backend's name and the
/// path it got, or `<status> <body>`.
fn seen(ev: &Evaluation) -> String {
    match &ev.outcome {
        Outcome::NotFound { .. } => "404".into(),
        Outcome::ServerError { .. } => "500".into(),
        Outcome::Answer { status, body, .. } => {
            let message = body
                .split("\"message\":\"")
                .nth(1)
                .and_then(|m| m.split('"').next())
                .unwrap_or(body);
            format!("{status} {message}")
        }
        Outcome::Redirect {
            status, location, ..
        } => format!("{status} {location}"),
        Outcome::Preflight { .. } => "204".into(),
        Outcome::Forward(f) => {
            let shares: Vec<String> = f
                .backends
                .iter()
                .filter(|b| b.weight > 0)
                .map(|b| match &b.target {
                    BackendTarget::Echo { name, .. } => name.clone(),
                    BackendTarget::NoEndpoints { name, .. } => format!("{name} (no endpoints)"),
                    BackendTarget::Invalid { .. } => "invalid".into(),
                })
                .collect();
            format!("{} {}", shares.join("+"), f.request.target())
        }
    }
}

/// Spec answer, Kong answer, and the deviations named, for one request.
fn compare(w: &World, imp: &str, r: &RequestHead) -> (String, String, Vec<&'static str>) {
    let spec = eval(w, "spec", r);
    assert!(spec.deviations.is_empty(), "the spec deviates from nothing");
    let kong = eval(w, imp, r);
    (seen(&spec), seen(&kong), kong.deviations)
}

const SEED: &str = "  hostnames: [imprun.dev]\n  rules:\n  - filters:\n    - type: RequestRedirect\n      requestRedirect: {hostname: portal.imprun.dev, statusCode: 301}";

#[test]
fn redirect_request_termination_below_3_9() {
    let w = world(&route("r", SEED), &[]);
    let (spec, kong, ids) = compare(&w, "kong-3.8", &get("http://imprun.dev/docs?page=2"));
    assert_eq!(spec, "301 http://portal.imprun.dev/docs?page=2");
    assert_eq!(kong, "301 http://portal.imprun.dev");
    assert_eq!(ids, ["redirect-request-termination"]);
    // The match's path value is the Location's path.
    let w = world(
        &route(
            "r",
            "  rules:\n  - matches: [{path: {type: PathPrefix, value: /old}}]\n    filters:\n    - type: RequestRedirect\n      requestRedirect: {hostname: example.org}",
        ),
        &[],
    );
    let (_, kong, _) = compare(&w, "kong-3.8", &get("http://a.example/old/page?x=1"));
    assert_eq!(kong, "302 http://example.org/old");
    // Without a hostname the Location is the path alone.
    let w = world(
        &route(
            "r",
            "  rules:\n  - filters:\n    - type: RequestRedirect\n      requestRedirect: {scheme: https, statusCode: 301}",
        ),
        &[],
    );
    let (spec, kong, ids) = compare(&w, "kong-3.8", &get("http://a.example/x"));
    assert_eq!(spec, "301 https://a.example/x");
    assert_eq!(kong, "301 /");
    assert_eq!(ids, ["redirect-request-termination"]);
}

#[test]
fn redirect_plugin_from_3_9_keeps_the_path_and_query() {
    let w = world(&route("r", SEED), &[]);
    let r = get("http://imprun.dev/docs?page=2");
    let kong = eval(&w, "kong-3.9", &r);
    assert_eq!(seen(&kong), "301 http://portal.imprun.dev/docs?page=2");
    // The same Location as gwlab's spec answer; only the body differs.
    let Outcome::Redirect { body, .. } = &kong.outcome else {
        panic!("{:?}", kong.outcome)
    };
    assert_eq!(body, "redirecting");
    assert_eq!(kong.deviations, ["redirect-plugin"]);
    // The normalised path goes into the Location.
    let (spec, kong, ids) = compare(&w, "kong-3.9", &get("http://imprun.dev//docs/%7Eme"));
    assert_eq!(spec, "301 http://portal.imprun.dev//docs/%7Eme");
    assert_eq!(kong, "301 http://portal.imprun.dev/docs/~me");
    assert_eq!(ids, ["path-normalised", "redirect-plugin"]);
}

#[test]
fn redirect_scheme_defaults_to_http() {
    let w = world(&route("r", SEED), &[]);
    let mut r = get("https://imprun.dev/docs");
    r.scheme = "https".into();
    let (spec, kong, ids) = compare(&w, "kong-3.9", &r);
    assert_eq!(spec, "301 https://portal.imprun.dev/docs");
    assert_eq!(kong, "301 http://portal.imprun.dev/docs");
    assert_eq!(ids, ["redirect-plugin", "redirect-scheme-http"]);
}

#[test]
fn redirect_port_is_the_filters_or_none() {
    let with = |body: &str| {
        world(
            &route(
                "r",
                &format!(
                    "  rules:\n  - matches: [{{path: {{type: PathPrefix, value: /}}}}]\n    filters:\n    - type: RequestRedirect\n      requestRedirect: {body}"
                ),
            ),
            &[],
        )
    };
    let w = with("{hostname: example.org, port: 80}");
    let (spec, kong, ids) = compare(&w, "kong-3.8", &get("http://a.example/p"));
    assert_eq!(spec, "302 http://example.org/p");
    assert_eq!(kong, "302 http://example.org:80");
    assert!(ids.contains(&"redirect-port-as-written"), "{ids:?}");
    // 3.9's URL parser drops the default port: the Location is the spec's
    // (only the plugin's body differs).
    let (_, kong, ids) = compare(&w, "kong-3.9", &get("http://a.example/p"));
    assert_eq!(kong, "302 http://example.org/p");
    assert_eq!(ids, ["redirect-plugin"]);
}

#[test]
fn redirect_prefix_replacement_is_ignored() {
    let w = world(
        &route(
            "r",
            "  rules:\n  - matches: [{path: {type: PathPrefix, value: /old}}]\n    filters:\n    - type: RequestRedirect\n      requestRedirect: {hostname: example.org, path: {type: ReplacePrefixMatch, replacePrefixMatch: /new}}",
        ),
        &[],
    );
    let r = get("http://a.example/old/a");
    let (spec, k38, ids) = compare(&w, "kong-3.8", &r);
    assert_eq!(spec, "302 http://example.org/new/a");
    assert_eq!(k38, "302 http://example.org/old");
    assert!(ids.contains(&"redirect-prefix-ignored"), "{ids:?}");
    let (_, k39, ids) = compare(&w, "kong-3.9", &r);
    assert_eq!(k39, "302 http://example.org/old/a");
    assert_eq!(ids, ["redirect-plugin", "redirect-prefix-ignored"]);
}

#[test]
fn redirect_full_path_loses_its_trailing_slash() {
    let w = world(
        &route(
            "r",
            "  rules:\n  - filters:\n    - type: RequestRedirect\n      requestRedirect: {hostname: example.org, path: {type: ReplaceFullPath, replaceFullPath: /new/}}",
        ),
        &[],
    );
    let (spec, kong, ids) = compare(&w, "kong-3.9", &get("http://a.example/x?q=1"));
    assert_eq!(spec, "302 http://example.org/new/?q=1");
    assert_eq!(kong, "302 http://example.org/new");
    assert_eq!(ids, ["redirect-plugin", "redirect-full-path-cleaned"]);
}

#[test]
fn a_redirect_without_hostname_is_not_served_from_3_9() {
    let w = world(
        &route(
            "r",
            "  rules:\n  - filters:\n    - type: RequestRedirect\n      requestRedirect: {scheme: https, statusCode: 301}",
        ),
        &[],
    );
    let (spec, kong, ids) = compare(&w, "kong-3.9", &get("http://a.example/x"));
    assert_eq!(spec, "301 https://a.example/x");
    assert_eq!(kong, "404 no Route matched with those values");
    assert_eq!(
        ids,
        ["redirect-without-hostname-rejected", "not-found-body"]
    );
}

#[test]
fn kong_answers_an_unrouted_request_with_its_json() {
    let w = world("", &[]);
    let kong = eval(&w, "kong-3.9", &get("http://nobody.example/"));
    assert_eq!(seen(&kong), "404 no Route matched with those values");
    assert_eq!(kong.deviations, ["not-found-body"]);
    let Outcome::Answer { body, .. } = &kong.outcome else {
        panic!()
    };
    assert!(body.contains("\"request_id\":\""), "{body}");
}

#[test]
fn invalid_backends_are_dropped_and_their_share_goes_to_the_others() {
    let w = world(
        &route(
            "r",
            "  rules:\n  - backendRefs: [{name: good, port: 8080}, {name: missing, port: 8080}]",
        ),
        &["good"],
    );
    let (spec, kong, ids) = compare(&w, "kong-3.8", &get("http://a.example/"));
    assert_eq!(spec, "good+invalid /");
    assert_eq!(kong, "good /");
    assert_eq!(ids, ["invalid-backends-dropped"]);
}

#[test]
fn a_rule_without_a_valid_backend_answers_kics_message() {
    let w = world(
        &route(
            "r",
            "  rules:\n  - backendRefs: [{name: missing, port: 8080}]",
        ),
        &[],
    );
    let (spec, kong, ids) = compare(&w, "kong-3.8", &get("http://a.example/"));
    assert_eq!(spec, "invalid /");
    assert_eq!(kong, "500 no existing backendRef provided");
    assert_eq!(ids, ["no-valid-backend-body"]);
}

#[test]
fn zero_weights_and_no_backends_answer_503() {
    let w = world(
        &route(
            "r",
            "  rules:\n  - matches: [{path: {value: /zero}}]\n    backendRefs: [{name: a, port: 8080, weight: 0}]\n  - matches: [{path: {value: /none}}]",
        ),
        &["a"],
    );
    for path in ["/zero", "/none"] {
        let (spec, kong, ids) = compare(&w, "kong-3.8", &get(&format!("http://a.example{path}")));
        assert_eq!(spec, "500");
        assert_eq!(kong, "503 failure to get a peer from the ring-balancer");
        assert_eq!(ids, ["zero-weights-503"]);
    }
}

#[test]
fn kong_matches_and_forwards_the_normalised_path() {
    let w = world(
        &route(
            "r",
            "  rules:\n  - matches: [{path: {type: Exact, value: /~user/docs}}]\n    backendRefs: [{name: a, port: 8080}]",
        ),
        &["a"],
    );
    let (spec, kong, ids) = compare(&w, "kong-3.9", &get("http://a.example//%7Euser/docs"));
    assert_eq!(spec, "404");
    assert_eq!(kong, "a /~user/docs");
    assert_eq!(ids, ["path-normalised"]);
    // A path Kong leaves alone routes alike.
    let (spec, kong, ids) = compare(&w, "kong-3.9", &get("http://a.example/~user/docs"));
    assert_eq!((spec.as_str(), ids.len()), (kong.as_str(), 0));
}

#[test]
fn a_repeated_query_parameter_matches_only_if_every_value_does() {
    let w = world(
        &route(
            "r",
            "  rules:\n  - matches: [{queryParams: [{name: page, value: '1'}]}]\n    backendRefs: [{name: a, port: 8080}]",
        ),
        &["a"],
    );
    let (spec, kong, ids) = compare(&w, "kong-3.9", &get("http://a.example/?page=1&page=2"));
    assert_eq!(spec, "a /?page=1&page=2");
    assert_eq!(kong, "404 no Route matched with those values");
    assert_eq!(ids, ["query-all-values", "not-found-body"]);
}

#[test]
fn a_repeated_header_matches_only_if_every_value_does() {
    let w = world(
        &route(
            "r",
            "  rules:\n  - matches: [{headers: [{name: color, value: blue}]}]\n    backendRefs: [{name: a, port: 8080}]",
        ),
        &["a"],
    );
    let twice = url(
        "GET",
        "http://a.example/",
        &[("color", "blue"), ("color", "blue")],
    );
    let (spec, kong, ids) = compare(&w, "kong-3.8", &twice);
    assert_eq!(spec, "404");
    assert_eq!(kong, "a /");
    assert_eq!(ids, ["header-all-values"]);
    let mixed = url(
        "GET",
        "http://a.example/",
        &[("color", "blue"), ("color", "red")],
    );
    let (spec, kong, _) = compare(&w, "kong-3.8", &mixed);
    assert_eq!(
        (spec.as_str(), kong.as_str()),
        ("404", "404 no Route matched with those values")
    );
}

#[test]
fn the_request_timeout_is_not_carried_over() {
    let w = world(
        &route(
            "r",
            "  rules:\n  - timeouts: {request: 1s}\n    backendRefs: [{name: a, port: 8080}]",
        ),
        &["a"],
    );
    let spec = eval(&w, "spec", &get("http://a.example/"));
    let kong = eval(&w, "kong-3.9", &get("http://a.example/"));
    let timeout = |ev: &Evaluation| match &ev.outcome {
        Outcome::Forward(f) => f.request_timeout,
        other => panic!("{other:?}"),
    };
    assert_eq!(timeout(&spec), Some(std::time::Duration::from_secs(1)));
    assert_eq!(timeout(&kong), None);
    assert_eq!(kong.deviations, ["request-timeout-ignored"]);
}

#[test]
fn equal_routes_tie_break_on_namespace_then_name() {
    let yaml = "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: a-b}\n---\n".to_string()
        + &route("x", "  rules:\n  - backendRefs: [{name: one, port: 8080, namespace: app}]").replace("metadata: {name: x}", "metadata: {name: x, namespace: a}")
        + &route("x", "  rules:\n  - backendRefs: [{name: two, port: 8080, namespace: app}]").replace("metadata: {name: x}", "metadata: {name: x, namespace: a-b}")
        + "apiVersion: gateway.networking.k8s.io/v1beta1\nkind: ReferenceGrant\nmetadata: {name: g, namespace: app}\nspec:\n  from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: a}, {group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: a-b}]\n  to: [{group: '', kind: Service}]\n";
    let w = world(&yaml, &["one", "two"]);
    let (spec, kong, ids) = compare(&w, "kong-3.9", &get("http://a.example/"));
    assert_eq!(spec, "two /", "`a-b/x` sorts before `a/x` as one string");
    assert_eq!(kong, "one /");
    assert_eq!(ids, ["tie-namespace-first"]);
}

#[test]
fn a_rule_with_a_mirror_gets_no_kong_route() {
    let w = world(
        &route(
            "r",
            "  rules:\n  - matches: [{path: {value: /m}}]\n    filters:\n    - type: RequestMirror\n      requestMirror: {backendRef: {name: copy, port: 8080}}\n    backendRefs: [{name: a, port: 8080}]\n  - backendRefs: [{name: other, port: 8080}]",
        ),
        &["a", "copy", "other"],
    );
    let (spec, kong, ids) = compare(&w, "kong-3.8", &get("http://a.example/m/x"));
    assert_eq!(spec, "a /m/x");
    assert_eq!(kong, "other /m/x");
    assert_eq!(ids, ["mirror-rule-dropped"]);
}

#[test]
fn a_route_only_on_https_answers_plain_http_with_426() {
    let w = world(
        &route(
            "r",
            "  hostnames: [secure.example]\n  rules:\n  - backendRefs: [{name: a, port: 8080}]",
        )
        .replace(
            "parentRefs: [{name: kong, namespace: kong-system}]",
            "parentRefs: [{name: kong, namespace: kong-system, sectionName: https}]",
        ),
        &["a"],
    );
    let (spec, kong, ids) = compare(&w, "kong-3.9", &get("http://secure.example/"));
    assert_eq!(spec, "404");
    assert_eq!(kong, "426 Please use HTTPS protocol");
    assert_eq!(ids, ["https-only-426"]);
}

const OTHER_GATEWAY: &str = "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: other, namespace: app}\nspec:\n  gatewayClassName: kong\n  listeners:\n  - {name: web, protocol: HTTP, port: 80, hostname: '*.other.example', allowedRoutes: {namespaces: {from: Same}}}\n---\n";

#[test]
fn one_kong_serves_a_route_on_every_gateway_of_its_class() {
    let route = "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r}\nspec:\n  parentRefs: [{name: other}]\n  hostnames: [shop.other.example]\n  rules:\n  - backendRefs: [{name: a, port: 8080}]\n";
    let w = world(&(OTHER_GATEWAY.to_string() + route), &["a"]);
    // Through the lab Gateway, which the route is not attached to.
    let (spec, kong, ids) = compare(&w, "kong-3.9", &get("http://shop.other.example/"));
    assert_eq!(spec, "404");
    assert_eq!(kong, "a /");
    assert_eq!(ids, ["shared-proxy"]);
    // Through its own Gateway, both serve it.
    let own = |imp: &str| {
        let c = compile_as(&w, Implementation::parse(imp).unwrap());
        seen(&evaluate(
            c.gateway("app", "other").unwrap(),
            80,
            &get("http://shop.other.example/"),
        ))
    };
    assert_eq!(
        (own("spec"), own("kong-3.9")),
        ("a /".to_string(), "a /".to_string())
    );
    // Its hostname still keeps other hosts out.
    let (_, kong, _) = compare(&w, "kong-3.9", &get("http://shop.elsewhere.example/"));
    assert_eq!(kong, "404 no Route matched with those values");
}

#[test]
fn a_listener_kong_does_not_listen_on_is_not_accepted() {
    let gw = "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: alt, namespace: app}\nspec:\n  gatewayClassName: kong\n  listeners:\n  - {name: alt, protocol: HTTP, port: 8080}\n  - {name: web, protocol: HTTP, port: 80}\n";
    let w = world(gw, &[]);
    let listener = |imp: &str, name: &str| {
        let c = compile_as(&w, Implementation::parse(imp).unwrap());
        let st = &c.status[&super::world::ObjKey::new("Gateway", "app", "alt")];
        let l = st.listeners.iter().find(|l| l.name == name).unwrap();
        let accepted = l.conditions.iter().find(|c| c.type_ == "Accepted").unwrap();
        let programmed = c
            .gateway("app", "alt")
            .unwrap()
            .listeners
            .iter()
            .find(|l| l.name == name)
            .unwrap()
            .programmed;
        (
            accepted.status.clone(),
            accepted.reason.clone(),
            accepted.message.clone(),
            programmed,
        )
    };
    let (status, reason, _, programmed) = listener("spec", "alt");
    assert_eq!(
        (status.as_str(), reason.as_str(), programmed),
        ("True", "Accepted", true)
    );
    // listener-needs-kong-listen:
    let (status, reason, message, programmed) = listener("kong-3.8", "alt");
    assert_eq!(
        (status.as_str(), reason.as_str(), programmed),
        ("False", "PortUnavailable", false)
    );
    let id = "listener-needs-kong-listen";
    assert!(message.contains(&format!("[{id};")), "{message}");
    let (status, _, _, programmed) = listener("kong-3.8", "web");
    assert_eq!((status.as_str(), programmed), ("True", true));
}

#[test]
fn every_deviation_has_a_test_here() {
    let source = include_str!("kong_tests.rs");
    for d in crate::implementations::DEVIATIONS {
        assert!(
            source.contains(&format!("\"{}\"", d.id)),
            "{} is not checked by a test of this file",
            d.id
        );
    }
}
