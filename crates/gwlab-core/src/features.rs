//! Gateway API feature names, as the v1.2 conformance suite names them (the
//! names GatewayClass `status.supportedFeatures` lists), and which extended
//! features a scenario's manifests use.

use std::collections::BTreeMap;

use crate::manifest::gateway_api::{HttpRoute, HttpRouteFilter};
use crate::manifest::{Manifest, Object};

/// Every feature name of Gateway API v1.2: core and extended, standard and
/// experimental channel. A name outside this list is a typo, never a
/// feature some target lacks.
pub const KNOWN: &[&str] = &[
    "BackendTLSPolicy",
    "GRPCRoute",
    "Gateway",
    "GatewayHTTPListenerIsolation",
    "GatewayInfrastructurePropagation",
    "GatewayPort8080",
    "GatewayStaticAddresses",
    "HTTPRoute",
    "HTTPRouteBackendProtocolH2C",
    "HTTPRouteBackendProtocolWebSocket",
    "HTTPRouteBackendRequestHeaderModification",
    "HTTPRouteBackendTimeout",
    "HTTPRouteDestinationPortMatching",
    "HTTPRouteHostRewrite",
    "HTTPRouteMethodMatching",
    "HTTPRouteParentRefPort",
    "HTTPRoutePathRedirect",
    "HTTPRoutePathRewrite",
    "HTTPRoutePortRedirect",
    "HTTPRouteQueryParamMatching",
    "HTTPRouteRequestMirror",
    "HTTPRouteRequestMultipleMirrors",
    "HTTPRouteRequestTimeout",
    "HTTPRouteResponseHeaderModification",
    "HTTPRouteSchemeRedirect",
    "Mesh",
    "MeshClusterIPMatching",
    "MeshConsumerRoute",
    "ReferenceGrant",
    "TCPRoute",
    "TLSRoute",
    "UDPRoute",
];

pub fn is_known(name: &str) -> bool {
    KNOWN.contains(&name)
}

/// An extended feature an object uses, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Use {
    pub feature: &'static str,
    /// `HTTPRoute ns/name` or `Gateway name`, as written.
    pub object: String,
    pub file: std::path::PathBuf,
    pub line: u64,
}

/// The extended features `objects` use: each feature once, at the first
/// object that uses it. Core features are left out: every conformant
/// implementation has them.
pub fn used<'a>(objects: impl Iterator<Item = &'a Manifest>) -> Vec<Use> {
    let mut first: BTreeMap<&'static str, Use> = BTreeMap::new();
    for m in objects {
        let mut note = |feature: &'static str| {
            first.entry(feature).or_insert_with(|| Use {
                feature,
                object: match &m.namespace {
                    Some(ns) => format!("{} {ns}/{}", m.kind, m.name),
                    None => format!("{} {}", m.kind, m.name),
                },
                file: m.file.clone(),
                line: m.line,
            });
        };
        match &m.object {
            Object::HttpRoute(r) => route_features(r, &mut note),
            Object::Gateway(g) => {
                if g.spec.listeners.iter().any(|l| l.value.port == 8080) {
                    note("GatewayPort8080");
                }
                if !g.spec.addresses.is_empty() {
                    note("GatewayStaticAddresses");
                }
            }
            _ => {}
        }
    }
    first.into_values().collect()
}

fn route_features(r: &HttpRoute, note: &mut impl FnMut(&'static str)) {
    if r.spec.parent_refs.iter().any(|p| p.value.port.is_some()) {
        note("HTTPRouteParentRefPort");
    }
    for rule in r.spec.rules.iter().flatten() {
        let rule = &rule.value;
        for m in rule.matches.iter().flatten() {
            if m.value.method.is_some() {
                note("HTTPRouteMethodMatching");
            }
            if !m.value.query_params.is_empty() {
                note("HTTPRouteQueryParamMatching");
            }
        }
        let mirrors = rule
            .filters
            .iter()
            .filter(|f| f.value.request_mirror.is_some())
            .count();
        if mirrors > 1 {
            note("HTTPRouteRequestMultipleMirrors");
        }
        for f in &rule.filters {
            filter_features(&f.value, note);
        }
        for b in &rule.backend_refs {
            if b.value
                .filters
                .iter()
                .any(|f| f.request_header_modifier.is_some())
            {
                note("HTTPRouteBackendRequestHeaderModification");
            }
            for f in &b.value.filters {
                filter_features(f, note);
            }
        }
        if let Some(t) = &rule.timeouts {
            if t.request.is_some() {
                note("HTTPRouteRequestTimeout");
            }
            if t.backend_request.is_some() {
                note("HTTPRouteBackendTimeout");
            }
        }
    }
}

fn filter_features(f: &HttpRouteFilter, note: &mut impl FnMut(&'static str)) {
    if let Some(r) = &f.request_redirect {
        if r.scheme.is_some() {
            note("HTTPRouteSchemeRedirect");
        }
        if r.port.is_some() {
            note("HTTPRoutePortRedirect");
        }
        if r.path.is_some() {
            note("HTTPRoutePathRedirect");
        }
    }
    if let Some(w) = &f.url_rewrite {
        if w.hostname.is_some() {
            note("HTTPRouteHostRewrite");
        }
        if w.path.is_some() {
            note("HTTPRoutePathRewrite");
        }
    }
    if f.response_header_modifier.is_some() {
        note("HTTPRouteResponseHeaderModification");
    }
    if f.request_mirror.is_some() {
        note("HTTPRouteRequestMirror");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_the_embedded_gateway_declares_is_known() {
        for f in crate::model::compile::SUPPORTED_FEATURES {
            assert!(is_known(f), "{f}");
        }
    }

    #[test]
    fn a_routes_filters_and_matches_name_the_features_they_need() {
        let yaml = "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r, namespace: ns}\nspec:\n  parentRefs: [{name: kong, namespace: kong-system}]\n  rules:\n    - matches: [{method: POST, queryParams: [{name: a, value: b}]}]\n      filters:\n        - type: RequestRedirect\n          requestRedirect: {scheme: https, statusCode: 301}\n        - type: ResponseHeaderModifier\n          responseHeaderModifier: {set: [{name: x, value: v}]}\n";
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("route.yaml");
        std::fs::write(&file, yaml).unwrap();
        let objects = crate::manifest::load_file(&file).unwrap();
        let names: Vec<&str> = used(objects.iter()).iter().map(|u| u.feature).collect();
        assert_eq!(
            names,
            vec![
                "HTTPRouteMethodMatching",
                "HTTPRouteQueryParamMatching",
                "HTTPRouteResponseHeaderModification",
                "HTTPRouteSchemeRedirect"
            ]
        );
        assert_eq!(used(objects.iter())[0].object, "HTTPRoute ns/r");
    }
}
