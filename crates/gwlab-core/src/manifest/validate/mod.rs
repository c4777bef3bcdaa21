//! Structural rules of the Gateway API standard-channel CRDs (their enums and
//! CEL validations), checked before anything is applied so that `gwlab check`
//! and the embedded target reject what an API server would reject. These are
//! the rules of the newest release gwlab knows (v1.6.1); what a release
//! added or refused since v1.2.1 is checked against the scenario's release by
//! `crate::gateway_api::newer_than`.

mod filters;

use serde_saphyr::Spanned;

use super::gateway_api::*;
use super::{Manifest, Object};
use crate::diag::Diagnostic;
use crate::hostname;
use filters::{check_filters, uses_replace_prefix};

/// The HTTP methods a match (and a probe) may name.
pub const METHODS: &[&str] = &[
    "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
];

struct Checker<'a> {
    m: &'a Manifest,
    out: Vec<Diagnostic>,
}

impl Checker<'_> {
    fn at<T>(&self, s: &Spanned<T>) -> u64 {
        self.m.file_line(s.referenced.line())
    }

    fn err(&mut self, line: u64, field: String, message: impl Into<String>) {
        self.out
            .push(Diagnostic::new(&self.m.file, Some(line), message).field(field));
    }
}

pub(super) fn check(m: &Manifest) -> Vec<Diagnostic> {
    let mut c = Checker { m, out: Vec::new() };
    match &m.object {
        Object::HttpRoute(r) => check_route(&mut c, r),
        Object::Gateway(g) => check_gateway(&mut c, g),
        Object::ReferenceGrant(g) => check_grant(&mut c, g),
        _ => {}
    }
    c.out
}

fn check_hostname(c: &mut Checker<'_>, line: u64, field: String, h: &str) {
    if let Err(why) = hostname::validate(h) {
        let mut d = Diagnostic::new(
            &c.m.file,
            Some(line),
            format!("hostname `{h}` is invalid: {why}"),
        )
        .field(field);
        if let Some(ascii) = hostname::ascii_form(h) {
            d = d.hint(format!(
                "a hostname of Gateway API is written in ASCII: for `{h}` write its IDNA (punycode) form `{ascii}`"
            ));
        }
        c.out.push(d);
    }
}

fn check_route(c: &mut Checker<'_>, r: &HttpRoute) {
    let line = c.m.line;
    for (i, h) in r.spec.hostnames.iter().enumerate() {
        let at = c.at(h);
        check_hostname(c, at, format!("spec.hostnames[{i}]"), &h.value);
    }
    for (i, p) in r.spec.parent_refs.iter().enumerate() {
        if let Some(port) = p.value.port
            && port == 0
        {
            let l = c.at(p);
            c.err(
                l,
                format!("spec.parentRefs[{i}].port"),
                "port must be 1-65535",
            );
        }
    }
    let Some(rules) = &r.spec.rules else { return };
    // No rules at all is taken up to v1.4.1 (see `gateway_api::newer`).
    if rules.len() > 16 {
        c.err(line, "spec.rules".into(), "a route has at most 16 rules");
    }
    for (ri, rule) in rules.iter().enumerate() {
        check_rule(c, rule, &format!("spec.rules[{ri}]"));
    }
}

/// A rule's name (v1.4.1): a DNS subdomain, as the CRD's pattern has it.
fn check_rule_name(c: &mut Checker<'_>, line: u64, at: &str, name: &str) {
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    if name.is_empty() || name.len() > 253 || !name.split('.').all(label_ok) {
        c.err(
            line,
            format!("{at}.name"),
            format!("`{name}` is not a rule name: lower-case letters, digits, `-` and `.`, each part starting and ending with a letter or digit, at most 253 characters"),
        );
    }
}

fn check_rule(c: &mut Checker<'_>, rule: &Spanned<HttpRouteRule>, at: &str) {
    let rule_line = c.at(rule);
    let rule = &rule.value;
    if let Some(name) = &rule.name {
        check_rule_name(c, rule_line, at, name);
    }
    let matches = rule.matches.as_deref().unwrap_or(&[]);
    if matches.len() > 64 {
        c.err(
            rule_line,
            format!("{at}.matches"),
            "a rule has at most 64 matches",
        );
    }
    for (mi, m) in matches.iter().enumerate() {
        check_match(c, m, &format!("{at}.matches[{mi}]"));
    }

    let plain_filters: Vec<&HttpRouteFilter> = rule.filters.iter().map(|f| &f.value).collect();
    check_filters(
        c,
        rule_line,
        at,
        &plain_filters,
        rule.filters.iter().map(|f| c.at(f)).collect(),
    );

    let has_redirect = rule
        .filters
        .iter()
        .any(|f| f.value.type_ == "RequestRedirect");
    if has_redirect && !rule.backend_refs.is_empty() {
        c.err(
            rule_line,
            format!("{at}.backendRefs"),
            "RequestRedirect filter must not be used together with backendRefs",
        );
    }
    check_prefix_rewrite(c, rule_line, at, rule, matches);
    for (bi, b) in rule.backend_refs.iter().enumerate() {
        check_backend_ref(c, b, &format!("{at}.backendRefs[{bi}]"));
    }
    if let Some(t) = &rule.timeouts {
        check_timeouts(c, rule_line, at, t);
    }
}

/// One match of a rule: its path, header and query matches, and method.
fn check_match(c: &mut Checker<'_>, m: &Spanned<HttpRouteMatch>, f: &str) {
    let l = c.at(m);
    if let Some(p) = &m.value.path {
        check_path_match(c, l, f, p);
    }
    for (kind, list) in [
        ("headers", &m.value.headers),
        ("queryParams", &m.value.query_params),
    ] {
        for (i, h) in list.iter().enumerate() {
            let ty = h.type_.as_deref().unwrap_or("Exact");
            if !matches!(ty, "Exact" | "RegularExpression") {
                c.err(
                    l,
                    format!("{f}.{kind}[{i}].type"),
                    format!("`{ty}` is not one of Exact, RegularExpression"),
                );
            }
            if h.name.is_empty() {
                c.err(l, format!("{f}.{kind}[{i}].name"), "name must not be empty");
            }
        }
    }
    if let Some(method) = &m.value.method
        && !METHODS.contains(&method.as_str())
    {
        c.err(
            l,
            format!("{f}.method"),
            format!("`{method}` is not one of {}", METHODS.join(", ")),
        );
    }
}

fn check_path_match(c: &mut Checker<'_>, l: u64, f: &str, p: &HttpPathMatch) {
    let value = p.value.as_deref().unwrap_or("/");
    let problem = match p.type_.as_deref().unwrap_or("PathPrefix") {
        "Exact" | "PathPrefix" => path_problem(value),
        "RegularExpression" => None,
        other => {
            c.err(
                l,
                format!("{f}.path.type"),
                format!("`{other}` is not one of Exact, PathPrefix, RegularExpression"),
            );
            None
        }
    };
    if let Some(problem) = problem {
        c.err(l, format!("{f}.path.value"), format!("`{value}` {problem}"));
    }
}

/// Why `value` cannot be the value of an Exact or PathPrefix path match, if
/// it cannot.
pub fn path_problem(value: &str) -> Option<&'static str> {
    if !value.starts_with('/') {
        Some("must be an absolute path starting with `/`")
    } else if value.contains("//") {
        Some("must not contain `//`")
    } else if value.contains('#') || value.contains("/./") || value.contains("/../") {
        Some("must not contain `#`, `/./` or `/../`")
    } else {
        None
    }
}

/// A path.replacePrefixMatch needs exactly one PathPrefix match.
fn check_prefix_rewrite(
    c: &mut Checker<'_>,
    rule_line: u64,
    at: &str,
    rule: &HttpRouteRule,
    matches: &[Spanned<HttpRouteMatch>],
) {
    let prefix_rewrite = rule.filters.iter().any(|f| uses_replace_prefix(&f.value))
        || rule
            .backend_refs
            .iter()
            .any(|b| b.value.filters.iter().any(uses_replace_prefix));
    if !prefix_rewrite {
        return;
    }
    let one_prefix = matches.len() == 1
        && matches[0]
            .value
            .path
            .as_ref()
            .map(|p| p.type_.as_deref().unwrap_or("PathPrefix") == "PathPrefix")
            .unwrap_or(false);
    if !one_prefix {
        c.err(rule_line, format!("{at}.matches"), "when a filter uses path.replacePrefixMatch, the rule must have exactly one PathPrefix match");
    }
}

fn check_backend_ref(c: &mut Checker<'_>, b: &Spanned<HttpBackendRef>, f: &str) {
    let l = c.at(b);
    let group = b.value.group.as_deref().unwrap_or("");
    let kind = b.value.kind.as_deref().unwrap_or("Service");
    if group.is_empty() && kind == "Service" && b.value.port.is_none() {
        c.err(
            l,
            format!("{f}.port"),
            "a backendRef to a Service must have a port",
        );
    }
    if let Some(w) = b.value.weight
        && w > 1_000_000
    {
        c.err(l, format!("{f}.weight"), "weight must be 0 to 1000000");
    }
    let filters: Vec<&HttpRouteFilter> = b.value.filters.iter().collect();
    let lines = vec![l; filters.len()];
    check_filters(c, l, f, &filters, lines);
}

fn check_timeouts(c: &mut Checker<'_>, rule_line: u64, at: &str, t: &HttpRouteTimeouts) {
    for (name, v) in [
        ("request", &t.request),
        ("backendRequest", &t.backend_request),
    ] {
        if let Some(v) = v
            && crate::duration::parse_gateway(v).is_err()
        {
            c.err(
                rule_line,
                format!("{at}.timeouts.{name}"),
                format!("`{v}` is not a Gateway API duration (e.g. `10s`, `500ms`, `1h2m`)"),
            );
        }
    }
}

fn check_gateway(c: &mut Checker<'_>, g: &Gateway) {
    let line = c.m.line;
    if g.spec.listeners.is_empty() || g.spec.listeners.len() > 64 {
        c.err(
            line,
            "spec.listeners".into(),
            "a Gateway has 1 to 64 listeners",
        );
    }
    // Up to 16 annotations since v1.6.1 (8 before: `gateway_api::newer`).
    if let Some(infra) = &g.spec.infrastructure {
        for (key, max) in [("annotations", 16), ("labels", 8)] {
            let n = infra
                .get(key)
                .and_then(|a| a.as_object())
                .map_or(0, |a| a.len());
            if n > max {
                c.err(
                    line,
                    format!("spec.infrastructure.{key}"),
                    format!("{n} {key}: at most {max}"),
                );
            }
        }
    }
    let mut names: Vec<&str> = Vec::new();
    for (i, l) in g.spec.listeners.iter().enumerate() {
        let at = c.at(l);
        let f = format!("spec.listeners[{i}]");
        let l = &l.value;
        if names.contains(&l.name.as_str()) {
            c.err(
                at,
                format!("{f}.name"),
                format!("listener name `{}` is used twice", l.name),
            );
        }
        names.push(&l.name);
        if l.port == 0 {
            c.err(at, format!("{f}.port"), "port must be 1-65535");
        }
        if let Some(h) = &l.hostname {
            check_hostname(c, at, format!("{f}.hostname"), h);
        }
        check_listener_protocol(c, at, &f, l);
        if let Some(ns) = l
            .allowed_routes
            .as_ref()
            .and_then(|a| a.namespaces.as_ref())
        {
            check_route_namespaces(c, at, &f, ns);
        }
    }
}

/// The protocol, and the tls it needs (HTTPS) or must not have (HTTP).
fn check_listener_protocol(c: &mut Checker<'_>, at: u64, f: &str, l: &Listener) {
    match l.protocol.as_str() {
        "HTTP" => {
            if l.tls.is_some() {
                c.err(
                    at,
                    format!("{f}.tls"),
                    "tls must not be specified for protocol HTTP",
                );
            }
        }
        "HTTPS" => match &l.tls {
            None => c.err(
                at,
                format!("{f}.tls"),
                "tls must be specified for protocol HTTPS",
            ),
            Some(t) => {
                let mode = t.mode.as_deref().unwrap_or("Terminate");
                if mode == "Terminate" && t.certificate_refs.is_empty() {
                    c.err(
                        at,
                        format!("{f}.tls.certificateRefs"),
                        "certificateRefs must be specified when tls mode is Terminate",
                    );
                }
            }
        },
        "TLS" | "TCP" | "UDP" => {}
        other => {
            if !other.contains('/') {
                c.err(at, format!("{f}.protocol"), format!("`{other}` is not a protocol (HTTP, HTTPS, TLS, TCP, UDP or a domain-prefixed name)"));
            }
        }
    }
}

fn check_route_namespaces(c: &mut Checker<'_>, at: u64, f: &str, ns: &RouteNamespaces) {
    match ns.from.as_deref().unwrap_or("Same") {
        "All" | "Same" => {}
        "Selector" => {
            if ns.selector.is_none() {
                c.err(
                    at,
                    format!("{f}.allowedRoutes.namespaces.selector"),
                    "from: Selector needs a selector",
                );
            }
        }
        other => c.err(
            at,
            format!("{f}.allowedRoutes.namespaces.from"),
            format!("`{other}` is not one of All, Same, Selector"),
        ),
    }
}

fn check_grant(c: &mut Checker<'_>, g: &ReferenceGrant) {
    let line = c.m.line;
    if g.spec.from.is_empty() {
        c.err(
            line,
            "spec.from".into(),
            "a ReferenceGrant needs at least one `from` entry",
        );
    }
    if g.spec.to.is_empty() {
        c.err(
            line,
            "spec.to".into(),
            "a ReferenceGrant needs at least one `to` entry",
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::manifest::parse_text;
    use std::path::Path;

    fn errors(spec: &str) -> Vec<String> {
        let text = format!(
            "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {{name: r}}\nspec:\n{spec}"
        );
        match parse_text(Path::new("r.yaml"), &text) {
            Ok(_) => vec![],
            Err(e) => e.iter().map(|d| d.to_string()).collect(),
        }
    }

    #[test]
    fn a_non_ascii_hostname_is_named_at_its_line_with_its_ascii_form() {
        let e = errors("  hostnames:\n    - ok.example\n    - bücher.example\n  rules: [{}]\n");
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(
            e[0].starts_with(
                "r.yaml:7: field `spec.hostnames[1]`: hostname `bücher.example` is invalid"
            ),
            "{e:?}"
        );
        assert!(e[0].contains("`xn--bcher-kva.example`"), "{e:?}");
    }

    #[test]
    fn redirect_with_backend_refs_is_rejected() {
        let e = errors(
            "  rules:\n  - filters:\n    - type: RequestRedirect\n      requestRedirect: {hostname: a.example}\n    backendRefs: [{name: s, port: 80}]\n",
        );
        assert!(
            e.iter()
                .any(|m| m.contains("must not be used together with backendRefs")),
            "{e:?}"
        );
    }

    #[test]
    fn replace_prefix_needs_exactly_one_prefix_match() {
        let e = errors(
            "  rules:\n  - matches: [{path: {type: Exact, value: /a}}]\n    filters:\n    - type: URLRewrite\n      urlRewrite: {path: {type: ReplacePrefixMatch, replacePrefixMatch: /b}}\n    backendRefs: [{name: s, port: 80}]\n",
        );
        assert!(
            e.iter().any(|m| m.contains("exactly one PathPrefix match")),
            "{e:?}"
        );
    }

    #[test]
    fn filter_type_and_field_must_agree() {
        let e = errors(
            "  rules:\n  - filters:\n    - type: RequestHeaderModifier\n      responseHeaderModifier: {set: [{name: a, value: b}]}\n    backendRefs: [{name: s, port: 80}]\n",
        );
        assert_eq!(e.len(), 2, "{e:?}");
        assert!(e[0].contains(":7:"), "errors name the filter's line: {e:?}");
    }

    #[test]
    fn service_backend_needs_a_port() {
        let e = errors("  rules:\n  - backendRefs: [{name: s}]\n");
        assert!(e.iter().any(|m| m.contains("must have a port")), "{e:?}");
    }

    #[test]
    fn bad_enums_are_rejected() {
        let e = errors(
            "  rules:\n  - matches: [{path: {type: Prefix, value: /a}, method: get}]\n    backendRefs: [{name: s, port: 80}]\n",
        );
        assert_eq!(e.len(), 2, "{e:?}");
    }

    #[test]
    fn relative_path_is_rejected() {
        let e = errors(
            "  rules:\n  - matches: [{path: {value: api}}]\n    backendRefs: [{name: s, port: 80}]\n",
        );
        assert!(e.iter().any(|m| m.contains("absolute path")), "{e:?}");
    }

    #[test]
    fn a_valid_route_passes() {
        let e = errors(
            "  hostnames: [\"*.example.com\"]\n  rules:\n  - matches: [{path: {type: PathPrefix, value: /a}, headers: [{name: x, value: \"1\"}]}]\n    filters:\n    - type: URLRewrite\n      urlRewrite: {path: {type: ReplacePrefixMatch, replacePrefixMatch: /}}\n    backendRefs: [{name: s, port: 80, weight: 0}]\n",
        );
        assert!(e.is_empty(), "{e:?}");
    }
}
