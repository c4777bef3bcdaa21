//! Structural rules of the Gateway API v1.2.1 CRDs (their enums and CEL
//! validations), checked before anything is applied so that `gwlab check` and
//! the embedded target reject what an API server would reject.

use serde_saphyr::Spanned;

use super::gateway_api::*;
use super::{Manifest, Object};
use crate::diag::Diagnostic;
use crate::model::hostname;

const METHODS: &[&str] = &[
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

pub fn check(m: &Manifest) -> Vec<Diagnostic> {
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
        c.err(line, field, format!("hostname `{h}` is invalid: {why}"));
    }
}

fn check_route(c: &mut Checker<'_>, r: &HttpRoute) {
    let line = c.m.line;
    for (i, h) in r.spec.hostnames.iter().enumerate() {
        check_hostname(c, line, format!("spec.hostnames[{i}]"), h);
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
    if rules.is_empty() || rules.len() > 16 {
        c.err(line, "spec.rules".into(), "a route has 1 to 16 rules");
    }
    for (ri, rule) in rules.iter().enumerate() {
        check_rule(c, rule, &format!("spec.rules[{ri}]"));
    }
}

fn check_rule(c: &mut Checker<'_>, rule: &Spanned<HttpRouteRule>, at: &str) {
    let rule_line = c.at(rule);
    let rule = &rule.value;
    let matches = rule.matches.as_deref().unwrap_or(&[]);
    if matches.len() > 64 {
        c.err(
            rule_line,
            format!("{at}.matches"),
            "a rule has at most 64 matches",
        );
    }
    for (mi, m) in matches.iter().enumerate() {
        let l = c.at(m);
        let f = format!("{at}.matches[{mi}]");
        if let Some(p) = &m.value.path {
            let ty = p.type_.as_deref().unwrap_or("PathPrefix");
            let value = p.value.as_deref().unwrap_or("/");
            match ty {
                "Exact" | "PathPrefix" => {
                    if !value.starts_with('/') {
                        c.err(
                            l,
                            format!("{f}.path.value"),
                            format!("`{value}` must be an absolute path starting with `/`"),
                        );
                    } else if value.contains("//") {
                        c.err(
                            l,
                            format!("{f}.path.value"),
                            format!("`{value}` must not contain `//`"),
                        );
                    } else if value.contains('#') || value.contains("/./") || value.contains("/../")
                    {
                        c.err(
                            l,
                            format!("{f}.path.value"),
                            format!("`{value}` must not contain `#`, `/./` or `/../`"),
                        );
                    }
                }
                "RegularExpression" => {}
                other => c.err(
                    l,
                    format!("{f}.path.type"),
                    format!("`{other}` is not one of Exact, PathPrefix, RegularExpression"),
                ),
            }
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
    let prefix_rewrite = rule.filters.iter().any(|f| uses_replace_prefix(&f.value))
        || rule
            .backend_refs
            .iter()
            .any(|b| b.value.filters.iter().any(uses_replace_prefix));
    if prefix_rewrite {
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
    for (bi, b) in rule.backend_refs.iter().enumerate() {
        let l = c.at(b);
        let f = format!("{at}.backendRefs[{bi}]");
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
        check_filters(c, l, &f, &filters, lines);
    }
    if let Some(t) = &rule.timeouts {
        for (name, v) in [
            ("request", &t.request),
            ("backendRequest", &t.backend_request),
        ] {
            if let Some(v) = v
                && crate::model::timeouts::parse_gateway_duration(v).is_err()
            {
                c.err(
                    rule_line,
                    format!("{at}.timeouts.{name}"),
                    format!("`{v}` is not a Gateway API duration (e.g. `10s`, `500ms`, `1h2m`)"),
                );
            }
        }
    }
}

fn uses_replace_prefix(f: &HttpRouteFilter) -> bool {
    let path = f
        .request_redirect
        .as_ref()
        .and_then(|r| r.path.as_ref())
        .or(f.url_rewrite.as_ref().and_then(|u| u.path.as_ref()));
    path.is_some_and(|p| p.type_ == "ReplacePrefixMatch")
}

fn check_filters(
    c: &mut Checker<'_>,
    rule_line: u64,
    at: &str,
    filters: &[&HttpRouteFilter],
    lines: Vec<u64>,
) {
    let mut seen: Vec<&str> = Vec::new();
    for (i, (f, line)) in filters.iter().zip(lines).enumerate() {
        let field = format!("{at}.filters[{i}]");
        let present = [
            (
                "RequestHeaderModifier",
                "requestHeaderModifier",
                f.request_header_modifier.is_some(),
            ),
            (
                "ResponseHeaderModifier",
                "responseHeaderModifier",
                f.response_header_modifier.is_some(),
            ),
            ("RequestMirror", "requestMirror", f.request_mirror.is_some()),
            (
                "RequestRedirect",
                "requestRedirect",
                f.request_redirect.is_some(),
            ),
            ("URLRewrite", "urlRewrite", f.url_rewrite.is_some()),
            ("ExtensionRef", "extensionRef", f.extension_ref.is_some()),
        ];
        if !present.iter().any(|(t, _, _)| *t == f.type_) {
            c.err(line, format!("{field}.type"), format!("`{}` is not one of RequestHeaderModifier, ResponseHeaderModifier, RequestMirror, RequestRedirect, URLRewrite, ExtensionRef", f.type_));
            continue;
        }
        for (ty, key, is_set) in present {
            if ty == f.type_ && !is_set {
                c.err(
                    line,
                    format!("{field}.{key}"),
                    format!("filter.{key} must be specified for {ty} filter.type"),
                );
            } else if ty != f.type_ && is_set {
                c.err(
                    line,
                    format!("{field}.{key}"),
                    format!(
                        "filter.{key} must be nil if the filter.type is not {ty} (it is {})",
                        f.type_
                    ),
                );
            }
        }
        if !matches!(f.type_.as_str(), "RequestMirror" | "ExtensionRef") {
            if seen.contains(&f.type_.as_str()) {
                c.err(
                    line,
                    format!("{field}.type"),
                    format!("{} filter cannot be repeated", f.type_),
                );
            }
            seen.push(&f.type_);
        }
        for (key, hm) in [
            ("requestHeaderModifier", &f.request_header_modifier),
            ("responseHeaderModifier", &f.response_header_modifier),
        ] {
            if let Some(hm) = hm {
                check_header_modifier(c, line, &format!("{field}.{key}"), hm);
            }
        }
        if let Some(r) = &f.request_redirect {
            if let Some(s) = &r.scheme
                && !matches!(s.as_str(), "http" | "https")
            {
                c.err(
                    line,
                    format!("{field}.requestRedirect.scheme"),
                    format!("`{s}` is not one of http, https"),
                );
            }
            if let Some(code) = r.status_code
                && !matches!(code, 301 | 302)
            {
                c.err(
                    line,
                    format!("{field}.requestRedirect.statusCode"),
                    format!("{code} is not one of 301, 302"),
                );
            }
            if let Some(h) = &r.hostname {
                check_hostname(c, line, format!("{field}.requestRedirect.hostname"), h);
            }
            if let Some(p) = &r.path {
                check_path_modifier(c, line, &format!("{field}.requestRedirect.path"), p);
            }
        }
        if let Some(u) = &f.url_rewrite {
            if let Some(h) = &u.hostname {
                check_hostname(c, line, format!("{field}.urlRewrite.hostname"), h);
            }
            if let Some(p) = &u.path {
                check_path_modifier(c, line, &format!("{field}.urlRewrite.path"), p);
            }
        }
    }
    if seen.contains(&"RequestRedirect") && seen.contains(&"URLRewrite") {
        c.err(
            rule_line,
            format!("{at}.filters"),
            "may specify either RequestRedirect or URLRewrite, but not both",
        );
    }
}

fn check_header_modifier(c: &mut Checker<'_>, line: u64, at: &str, hm: &HeaderModifier) {
    for (key, list) in [("set", &hm.set), ("add", &hm.add)] {
        let mut names: Vec<String> = Vec::new();
        for (i, h) in list.iter().enumerate() {
            let lower = h.name.to_ascii_lowercase();
            if names.contains(&lower) {
                c.err(
                    line,
                    format!("{at}.{key}[{i}].name"),
                    format!("header `{}` is listed twice", h.name),
                );
            }
            names.push(lower);
        }
    }
}

fn check_path_modifier(c: &mut Checker<'_>, line: u64, at: &str, p: &PathModifier) {
    match p.type_.as_str() {
        "ReplaceFullPath" => {
            if p.replace_full_path.is_none() {
                c.err(
                    line,
                    format!("{at}.replaceFullPath"),
                    "replaceFullPath must be specified when type is ReplaceFullPath",
                );
            }
            if p.replace_prefix_match.is_some() {
                c.err(
                    line,
                    format!("{at}.replacePrefixMatch"),
                    "type ReplaceFullPath takes replaceFullPath, not replacePrefixMatch",
                );
            }
        }
        "ReplacePrefixMatch" => {
            if p.replace_prefix_match.is_none() {
                c.err(
                    line,
                    format!("{at}.replacePrefixMatch"),
                    "replacePrefixMatch must be specified when type is ReplacePrefixMatch",
                );
            }
            if p.replace_full_path.is_some() {
                c.err(
                    line,
                    format!("{at}.replaceFullPath"),
                    "type ReplacePrefixMatch takes replacePrefixMatch, not replaceFullPath",
                );
            }
        }
        other => c.err(
            line,
            format!("{at}.type"),
            format!("`{other}` is not one of ReplaceFullPath, ReplacePrefixMatch"),
        ),
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
        if let Some(ns) = l
            .allowed_routes
            .as_ref()
            .and_then(|a| a.namespaces.as_ref())
        {
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
