//! Kong Ingress Controller annotations (`konghq.com/*`) and KongPlugins.

use super::input::{Ingress, KongPlugin};
use super::output::{HeaderOps, NameValue, PathModifier};
use super::{
    Converted, ExactLocation, Inputs, PathKind, Warn, gateway_status, redirect_to, values,
};
use crate::gateway_api::Release;

/// Annotations with no Gateway API equivalent, and what to use instead if anything.
const NO_EQUIVALENT: &[(&str, &str)] = &[
    (
        "konghq.com/host-header",
        "a URLRewrite hostname changes the Host header instead; check the intent",
    ),
    (
        "konghq.com/path",
        "a URLRewrite ReplacePrefixMatch may express it",
    ),
    (
        "konghq.com/regex-priority",
        "Gateway API precedence is fixed by the spec",
    ),
    (
        "konghq.com/override",
        "KongIngress overrides are deprecated; move them to annotations first",
    ),
    (
        "konghq.com/connect-timeout",
        "rules[].timeouts.backendRequest is the nearest",
    ),
    (
        "konghq.com/read-timeout",
        "rules[].timeouts.backendRequest is the nearest",
    ),
    (
        "konghq.com/write-timeout",
        "rules[].timeouts.backendRequest is the nearest",
    ),
    ("konghq.com/retries", ""),
    ("konghq.com/snis", ""),
    ("konghq.com/request-buffering", ""),
    ("konghq.com/response-buffering", ""),
    (
        "konghq.com/client-cert",
        "use a BackendTLSPolicy (experimental)",
    ),
    ("konghq.com/tags", ""),
];

pub fn apply(ing: &Ingress, inputs: &Inputs, c: &mut Converted, warn: Warn<'_>) {
    for (key, value) in &ing.metadata.annotations {
        let Some(name) = key.strip_prefix("konghq.com/") else {
            continue;
        };
        let a = Some(key.as_str());
        match name {
            "plugins" => plugins(ing, inputs, value, c, a, warn),
            "strip-path" => {
                if value.trim().eq_ignore_ascii_case("true") {
                    strip_path(c);
                }
            }
            "protocols" => protocols(ing, value, c, a, warn),
            "https-redirect-status-code" => https_redirect(ing, value, inputs.release, c, a, warn),
            "methods" => {
                let methods: Vec<String> = value
                    .split(',')
                    .map(|m| m.trim().to_ascii_uppercase())
                    .filter(|m| !m.is_empty())
                    .collect();
                for d in &mut c.drafts {
                    d.methods = methods.clone();
                }
            }
            "preserve-host" => {
                if value.trim().eq_ignore_ascii_case("false") {
                    warn(a, "Gateway API forwards the Host header unchanged; to send the upstream's host add a URLRewrite hostname".into());
                }
            }
            "strip-path-disabled" | "ingress.class" => {}
            other => warn(
                a,
                format!("no Gateway API equivalent; not carried over{}", hint(other)),
            ),
        }
    }
}

/// What to use instead of an annotation without equivalent, as ` (…)`, if anything.
fn hint(name: &str) -> String {
    NO_EQUIVALENT
        .iter()
        .find(|(k, _)| k.strip_prefix("konghq.com/") == Some(name))
        .map(|(_, h)| *h)
        .filter(|h| !h.is_empty())
        .map(|h| format!(" ({h})"))
        .unwrap_or_default()
}

/// `konghq.com/plugins`: each KongPlugin (of the Ingress's namespace) or
/// KongClusterPlugin named, converted.
fn plugins(
    ing: &Ingress,
    inputs: &Inputs,
    value: &str,
    c: &mut Converted,
    a: Option<&str>,
    warn: Warn<'_>,
) {
    for plugin_name in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let found = inputs
            .plugins
            .iter()
            .find(|p| {
                p.metadata.name == plugin_name && p.metadata.namespace == ing.metadata.namespace
            })
            .or_else(|| {
                inputs
                    .cluster_plugins
                    .iter()
                    .find(|p| p.metadata.name == plugin_name)
            });
        match found {
            None => warn(
                a,
                format!(
                    "KongPlugin {plugin_name} is not among the inputs; give its manifest to convert it"
                ),
            ),
            Some(p) if p.disabled => warn(
                a,
                format!("KongPlugin {plugin_name} is disabled; nothing converted"),
            ),
            Some(p) => plugin(p, inputs.release, c, a, warn),
        }
    }
}

fn strip_path(c: &mut Converted) {
    for d in &mut c.drafts {
        d.rewrite = Some(match d.kind {
            PathKind::Prefix => PathModifier::prefix("/"),
            PathKind::Exact => PathModifier::full("/"),
        });
    }
}

/// `konghq.com/protocols`: which of the http and https listeners serve the routes.
fn protocols(ing: &Ingress, value: &str, c: &mut Converted, a: Option<&str>, warn: Warn<'_>) {
    let protocols: Vec<String> = value
        .split(',')
        .map(|s| s.trim().to_ascii_lowercase())
        .collect();
    let http = protocols.iter().any(|p| p == "http");
    let https = protocols.iter().any(|p| p == "https");
    if !http && !https {
        warn(
            a,
            format!(
                "protocols {value}: only http and https are converted (GRPCRoute and TLSRoute are separate kinds)"
            ),
        );
        return;
    }
    for d in &mut c.drafts {
        d.http = http;
        d.https = https;
    }
    let code = ing
        .metadata
        .annotations
        .get("konghq.com/https-redirect-status-code");
    // An https-only route answers http with a redirect only when given a redirect status.
    let redirects =
        code.is_some_and(|c| matches!(values::annotation(c, 0..=999), Ok(301 | 302 | 307 | 308)));
    if !http && !redirects {
        // The difference is warned with the probe that shows it
        // (differences.rs).
        for d in &mut c.drafts {
            d.original.plain_http_status = Some(426);
        }
    }
}

/// `konghq.com/https-redirect-status-code`: Kong redirects http to https on
/// https-only routes.
fn https_redirect(
    ing: &Ingress,
    value: &str,
    release: Release,
    c: &mut Converted,
    a: Option<&str>,
    warn: Warn<'_>,
) {
    let code = match values::annotation(value, 0..=999) {
        Ok(n @ (301 | 302 | 307 | 308 | 426)) => n as u16,
        Ok(_) | Err(_) => {
            warn(
                a,
                format!(
                    "`{value}` is not one of 301, 302, 307, 308 and 426, the status codes Kong answers http with on an https-only route; nothing converted"
                ),
            );
            return;
        }
    };
    let https_only = ing
        .metadata
        .annotations
        .get("konghq.com/protocols")
        .is_some_and(|p| !p.split(',').any(|s| s.trim().eq_ignore_ascii_case("http")));
    if !https_only {
        warn(a, "Kong redirects only on routes whose konghq.com/protocols is https alone; nothing converted".into());
        return;
    }
    if code == 426 {
        // Not a redirect: Kong's default answer, which `protocols` reports.
        return;
    }
    let (gw, differs) = gateway_status(code, release);
    if differs {
        warn(
            a,
            format!(
                "Gateway API {} redirects with {} only; {code} becomes {gw}{} (the scenario expects Kong's {code}{})",
                release,
                super::allowed_statuses(release),
                super::method_change(code, gw),
                super::later_release_keeps(code, release)
            ),
        );
    }
    for d in &mut c.drafts {
        d.http = false;
        d.https = true;
        d.https_redirect = Some(gw);
        if differs {
            d.original.redirect_status = Some(code);
        }
    }
}

fn headers(config: &serde_json::Value, section: &str) -> Vec<String> {
    config
        .pointer(&format!("/{section}/headers"))
        .and_then(|h| h.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

fn pairs(list: &[String]) -> Vec<NameValue> {
    list.iter()
        .filter_map(|h| h.split_once(':'))
        .map(|(n, v)| NameValue {
            name: n.trim().to_string(),
            value: v.trim().to_string(),
        })
        .collect()
}

fn plugin(p: &KongPlugin, release: Release, c: &mut Converted, a: Option<&str>, warn: Warn<'_>) {
    match p.plugin.as_str() {
        "redirect" => redirect_plugin(p, release, c, a, warn),
        "request-transformer" | "response-transformer" => transformer(p, c, a, warn),
        // KIC keeps any KongPlugin on an HTTPRoute through an ExtensionRef
        // filter: Kong/kubernetes-ingress-controller v3.5.13,
        // internal/dataplane/translator/subtranslator/httproute.go,
        // generateExtensionRefKongPlugin accepts group
        // configuration.konghq.com, kind KongPlugin, and puts the plugin on
        // the rule's Kong routes.
        other => warn(
            a,
            format!(
                "KongPlugin {name} (plugin {other}) has no Gateway API equivalent; not carried over. On Kong it can stay: apply the KongPlugin beside the route and add to each rule the filter {{type: ExtensionRef, extensionRef: {{group: configuration.konghq.com, kind: KongPlugin, name: {name}}}}}, which KIC turns into the plugin on the rule's Kong routes; gwlab's reference gateway runs no Kong plugin, so a probe of its effect needs the lab",
                name = p.metadata.name
            ),
        ),
    }
}

/// The `redirect` plugin: every request to `config.location`.
fn redirect_plugin(
    p: &KongPlugin,
    release: Release,
    c: &mut Converted,
    a: Option<&str>,
    warn: Warn<'_>,
) {
    let name = &p.metadata.name;
    let cfg = &p.config;
    let Some(location) = cfg.get("location").and_then(|l| l.as_str()) else {
        warn(
            a,
            format!(
                "KongPlugin {name} (redirect) has no config.location (a string); not converted"
            ),
        );
        return;
    };
    let code = match cfg.get("status_code").map(|v| values::config(v, 100..=599)) {
        None => 301,
        Some(Ok(n)) => n as u16,
        Some(Err(e)) => {
            warn(
                a,
                format!(
                    "KongPlugin {name} (redirect): config.status_code {e} (a status code, 100-599); Kong refuses such a config, so the plugin is not converted"
                ),
            );
            return;
        }
    };
    let keep = match cfg.get("keep_incoming_path") {
        None => false,
        Some(serde_json::Value::Bool(k)) => *k,
        Some(other) => {
            warn(
                a,
                format!(
                    "KongPlugin {name} (redirect): config.keep_incoming_path {other} is not true or false; Kong refuses such a config, so the plugin is not converted"
                ),
            );
            return;
        }
    };
    let r = match redirect_to(location, code, keep, release) {
        Ok(r) => r,
        Err(e) => {
            warn(a, format!("KongPlugin {name}: {e}"));
            return;
        }
    };
    let (_, differs) = gateway_status(code, release);
    if differs {
        warn(
            a,
            format!(
                "KongPlugin {name}: Gateway API {} redirects with {} only; {code} becomes {}{} (the scenario expects Kong's {code}{})",
                release,
                super::allowed_statuses(release),
                r.status_code,
                super::method_change(code, r.status_code),
                super::later_release_keeps(code, release)
            ),
        );
    }
    // Kong's plugin answers with exactly `location` unless it keeps the
    // incoming path, and then it takes the request's path and query both.
    let exact = (!keep).then(|| ExactLocation {
        annotation: a.unwrap_or("konghq.com/plugins").to_string(),
        by: format!("KongPlugin {name}"),
        location: location.to_string(),
        query: location_query(location),
    });
    for d in &mut c.drafts {
        d.redirect = Some(r.clone());
        d.original.exact_location = exact.clone();
        if differs {
            d.original.redirect_status = Some(code);
        }
    }
}

/// The raw query of an absolute URL ("" for none, or for one that is not a URL).
pub(super) fn location_query(url: &str) -> String {
    url::Url::parse(url)
        .ok()
        .and_then(|u| u.query().map(String::from))
        .unwrap_or_default()
}

/// The request- and response-transformer plugins: their header operations.
fn transformer(p: &KongPlugin, c: &mut Converted, a: Option<&str>, warn: Warn<'_>) {
    let request = p.plugin == "request-transformer";
    let (ops, conditional) = transformer_headers(p, request, a, warn);
    warn_unconverted(p, a, warn);
    for d in &mut c.drafts {
        let target = if request {
            &mut d.request_headers
        } else {
            &mut d.response_headers
        };
        target.set.extend(ops.set.clone());
        target.add.extend(ops.add.clone());
        target.remove.extend(ops.remove.clone());
        if request {
            d.original.conditional_headers.extend(conditional.clone());
        }
    }
}

/// A transformer's header operations, and Kong's conditional `add` and
/// `replace` as (header, value, only_if_absent).
fn transformer_headers(
    p: &KongPlugin,
    request: bool,
    a: Option<&str>,
    warn: Warn<'_>,
) -> (HeaderOps, Vec<(String, String, bool)>) {
    let (name, cfg) = (&p.metadata.name, &p.config);
    let mut ops = HeaderOps::default();
    let mut conditional = Vec::new();
    for h in pairs(&headers(cfg, "add")) {
        warn(
            a,
            format!(
                "KongPlugin {name}: Kong adds {} only when the {} lacks it; the HTTPRoute's `set` also overwrites a value already there (the scenario expects Kong's behaviour)",
                h.name,
                if request { "request" } else { "response" }
            ),
        );
        conditional.push((h.name.clone(), h.value.clone(), true));
        ops.set.push(h);
    }
    for h in pairs(&headers(cfg, "replace")) {
        warn(
            a,
            format!(
                "KongPlugin {name}: Kong replaces {} only when present; the HTTPRoute's `set` also adds it when absent (the scenario expects Kong's behaviour)",
                h.name
            ),
        );
        conditional.push((h.name.clone(), h.value.clone(), false));
        ops.set.push(h);
    }
    ops.add.extend(pairs(&headers(cfg, "append")));
    ops.remove.extend(headers(cfg, "remove"));
    (ops, conditional)
}

/// What a transformer does besides headers, which has no Gateway API equivalent.
fn warn_unconverted(p: &KongPlugin, a: Option<&str>, warn: Warn<'_>) {
    let (name, cfg) = (&p.metadata.name, &p.config);
    if !headers(cfg, "rename").is_empty() {
        warn(
            a,
            format!("KongPlugin {name}: rename.headers has no Gateway API equivalent"),
        );
    }
    for section in ["add", "append", "remove", "replace", "rename"] {
        for what in ["querystring", "body", "json", "json_types"] {
            if cfg
                .pointer(&format!("/{section}/{what}"))
                .and_then(|v| v.as_array())
                .is_some_and(|a| !a.is_empty())
            {
                warn(
                    a,
                    format!("KongPlugin {name}: {section}.{what} has no Gateway API equivalent"),
                );
            }
        }
    }
    if cfg.pointer("/replace/uri").is_some() || cfg.get("http_method").is_some() {
        warn(
            a,
            format!("KongPlugin {name}: replace.uri / http_method are not converted"),
        );
    }
}
