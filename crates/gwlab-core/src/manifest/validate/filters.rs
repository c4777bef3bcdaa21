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
fn filter_fields(f: &HttpRouteFilter) -> [(&'static str, &'static str, bool); 6] {
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
        c.err(line, format!("{field}.type"), format!("`{}` is not one of RequestHeaderModifier, ResponseHeaderModifier, RequestMirror, RequestRedirect, URLRewrite, ExtensionRef", f.type_));
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
    if let Some(code) = r.status_code
        && !matches!(code, 301 | 302)
    {
        c.err(
            line,
            format!("{at}.statusCode"),
            format!("{code} is not one of 301, 302"),
        );
    }
    if let Some(h) = &r.hostname {
        check_hostname(c, line, format!("{at}.hostname"), h);
    }
    if let Some(p) = &r.path {
        check_path_modifier(c, line, &format!("{at}.path"), p);
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
