//! The filters of a rule or a backendRef: one field per type, set for its type
//! only, not repeated (but RequestMirror and ExtensionRef), and each filter's
//! own rules.

use super::{Checker, check_hostname};
use crate::manifest::gateway_api::*;

pub(super) fn uses_replace_prefix(f: &HttpRouteFilter) -> bool {
    let path = f
        .request_redirect
        .as_ref()
        .and_then(|r| r.path.as_ref())
        .or(f.url_rewrite.as_ref().and_then(|u| u.path.as_ref()));
    path.is_some_and(|p| p.type_ == "ReplacePrefixMatch")
}

/// The filter types, with their field and whether this filter sets it.
fn filter_fields(f: &HttpRouteFilter) -> [(&'static str, &'static str, bool); 7] {
    [
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
        ("CORS", "cors", f.cors.is_some()),
    ]
}

pub(super) fn check_filters(
    c: &mut Checker<'_>,
    rule_line: u64,
    at: &str,
    filters: &[&HttpRouteFilter],
    lines: Vec<u64>,
) {
    let mut seen: Vec<&str> = Vec::new();
    for (i, (f, line)) in filters.iter().zip(lines).enumerate() {
        let field = format!("{at}.filters[{i}]");
        if !check_filter_type(c, line, &field, f) {
            continue;
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
        check_filter_fields(c, line, &field, f);
    }
    if seen.contains(&"RequestRedirect") && seen.contains(&"URLRewrite") {
        c.err(
            rule_line,
            format!("{at}.filters"),
            "may specify either RequestRedirect or URLRewrite, but not both",
        );
    }
}

/// A known filter type with its field set and no other; false for an unknown type.
fn check_filter_type(c: &mut Checker<'_>, line: u64, field: &str, f: &HttpRouteFilter) -> bool {
    let present = filter_fields(f);
    if !present.iter().any(|(t, _, _)| *t == f.type_) {
        c.err(line, format!("{field}.type"), format!("`{}` is not one of RequestHeaderModifier, ResponseHeaderModifier, RequestMirror, RequestRedirect, URLRewrite, ExtensionRef, CORS", f.type_));
        return false;
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
    true
}

/// The header modifiers, redirect and rewrite a filter sets.
fn check_filter_fields(c: &mut Checker<'_>, line: u64, field: &str, f: &HttpRouteFilter) {
    for (key, hm) in [
        ("requestHeaderModifier", &f.request_header_modifier),
        ("responseHeaderModifier", &f.response_header_modifier),
    ] {
        if let Some(hm) = hm {
            check_header_modifier(c, line, &format!("{field}.{key}"), hm);
        }
    }
    if let Some(r) = &f.request_redirect {
        check_redirect(c, line, &format!("{field}.requestRedirect"), r);
    }
    if let Some(m) = &f.request_mirror {
        check_mirror_share(c, line, &format!("{field}.requestMirror"), m);
    }
    if let Some(cors) = &f.cors {
        check_cors(c, line, &format!("{field}.cors"), cors);
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

fn check_redirect(c: &mut Checker<'_>, line: u64, at: &str, r: &RequestRedirect) {
    if let Some(s) = &r.scheme
        && !matches!(s.as_str(), "http" | "https")
    {
        c.err(
            line,
            format!("{at}.scheme"),
            format!("`{s}` is not one of http, https"),
        );
    }
    // 303, 307 and 308 since v1.5.1 (see `gateway_api::newer`).
    if let Some(code) = r.status_code
        && !matches!(code, 301 | 302 | 303 | 307 | 308)
    {
        c.err(
            line,
            format!("{at}.statusCode"),
            format!("{code} is not one of 301, 302, 303, 307, 308"),
        );
    }
    if let Some(h) = &r.hostname {
        check_hostname(c, line, format!("{at}.hostname"), h);
    }
    if let Some(p) = &r.path {
        check_path_modifier(c, line, &format!("{at}.path"), p);
    }
}

/// The share a mirror takes (v1.3.0): a percent, or a fraction, not both.
fn check_mirror_share(c: &mut Checker<'_>, line: u64, at: &str, m: &RequestMirror) {
    if m.percent.is_some() && m.fraction.is_some() {
        c.err(
            line,
            at.to_string(),
            "only one of percent or fraction may be specified in HTTPRequestMirrorFilter",
        );
    }
    if let Some(p) = m.percent
        && !(0..=100).contains(&p)
    {
        c.err(
            line,
            format!("{at}.percent"),
            format!("{p} is not a percent: 0 to 100"),
        );
    }
    if let Some(f) = &m.fraction {
        let denominator = f.denominator.unwrap_or(100);
        if f.numerator < 0 {
            c.err(
                line,
                format!("{at}.fraction.numerator"),
                "numerator must be 0 or more",
            );
        }
        if denominator < 1 {
            c.err(
                line,
                format!("{at}.fraction.denominator"),
                "denominator must be 1 or more",
            );
        } else if f.numerator > denominator {
            c.err(
                line,
                format!("{at}.fraction"),
                "numerator must be less than or equal to denominator",
            );
        }
    }
}

/// The CORS filter (v1.5.1): its lists, their `*`, and its maxAge.
fn check_cors(c: &mut Checker<'_>, line: u64, at: &str, cors: &Cors) {
    for (key, list, max) in [
        ("allowOrigins", &cors.allow_origins, 64),
        ("allowMethods", &cors.allow_methods, 9),
        ("allowHeaders", &cors.allow_headers, 64),
        ("exposeHeaders", &cors.expose_headers, 64),
    ] {
        if list.len() > max {
            c.err(
                line,
                format!("{at}.{key}"),
                format!("at most {max} entries"),
            );
        }
        if key != "exposeHeaders" && list.iter().any(|v| v == "*") && list.len() > 1 {
            c.err(
                line,
                format!("{at}.{key}"),
                format!("{key} cannot contain '*' alongside other values"),
            );
        }
        for (i, v) in list.iter().enumerate() {
            if list[..i].contains(v) {
                c.err(
                    line,
                    format!("{at}.{key}[{i}]"),
                    format!("`{v}` is listed twice"),
                );
            }
        }
    }
    for (i, o) in cors.allow_origins.iter().enumerate() {
        if crate::model::cors::Origin::pattern(o).is_none() {
            c.err(
                line,
                format!("{at}.allowOrigins[{i}]"),
                format!("`{o}` is not an origin: `*`, or `http(s)://host[:port]`, the host's leftmost part `*` for any subdomains"),
            );
        }
    }
    for (i, m) in cors.allow_methods.iter().enumerate() {
        if m != "*" && !super::METHODS.contains(&m.as_str()) {
            c.err(
                line,
                format!("{at}.allowMethods[{i}]"),
                format!("`{m}` is not one of {}, *", super::METHODS.join(", ")),
            );
        }
    }
    for (key, list) in [
        ("allowHeaders", &cors.allow_headers),
        ("exposeHeaders", &cors.expose_headers),
    ] {
        for (i, h) in list.iter().enumerate() {
            if h.is_empty() || h.len() > 256 || !h.bytes().all(is_token_byte) {
                c.err(
                    line,
                    format!("{at}.{key}[{i}]"),
                    format!("`{h}` is not a header name"),
                );
            }
        }
    }
    if let Some(age) = cors.max_age
        && age < 1
    {
        c.err(
            line,
            format!("{at}.maxAge"),
            format!("{age}: maxAge is 1 or more seconds"),
        );
    }
}

/// A byte of an HTTP token (RFC 9110), as the CRD's header name pattern has it.
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
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
