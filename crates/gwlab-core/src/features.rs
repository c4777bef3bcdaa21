//! Gateway API feature names, as the conformance suite names them (the
//! names GatewayClass `status.supportedFeatures` lists; those of v1.2.1, and
//! the HTTPRoute features v1.3.0 to v1.5.1 added, from
//! kubernetes-sigs/gateway-api `pkg/features/httproute.go` at those tags),
//! and which extended features a scenario's manifests use.

use std::collections::BTreeMap;

use crate::manifest::gateway_api::{HttpRoute, HttpRouteFilter};
use crate::manifest::{Manifest, Object};

/// Defines [`Feature`] from its variants, each named as the conformance suite
/// names it, and the list of them all.
macro_rules! features {
    ($($variant:ident => $name:literal,)*) => {
        /// A Gateway API feature, as the conformance suite names it
        /// (core and extended, standard and experimental channel). A name
        /// outside this enum is a typo, never a feature some target lacks.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Feature {
            $($variant,)*
        }

        impl Feature {
            /// Every feature, in the order of their names.
            pub(crate) const ALL: &[Feature] = &[$(Feature::$variant,)*];

            /// The conformance suite's name (what `supportedFeatures` lists).
            pub fn name(self) -> &'static str {
                match self {
                    $(Feature::$variant => $name,)*
                }
            }
        }
    };
}

#[rustfmt::skip]
features! {
    BackendTLSPolicy => "BackendTLSPolicy",
    GRPCRoute => "GRPCRoute",
    Gateway => "Gateway",
    GatewayHTTPListenerIsolation => "GatewayHTTPListenerIsolation",
    GatewayInfrastructurePropagation => "GatewayInfrastructurePropagation",
    GatewayPort8080 => "GatewayPort8080",
    GatewayStaticAddresses => "GatewayStaticAddresses",
    HTTPRoute => "HTTPRoute",
    HTTPRoute303RedirectStatusCode => "HTTPRoute303RedirectStatusCode",
    HTTPRoute307RedirectStatusCode => "HTTPRoute307RedirectStatusCode",
    HTTPRoute308RedirectStatusCode => "HTTPRoute308RedirectStatusCode",
    HTTPRouteBackendProtocolH2C => "HTTPRouteBackendProtocolH2C",
    HTTPRouteBackendProtocolWebSocket => "HTTPRouteBackendProtocolWebSocket",
    HTTPRouteBackendRequestHeaderModification => "HTTPRouteBackendRequestHeaderModification",
    HTTPRouteBackendTimeout => "HTTPRouteBackendTimeout",
    HTTPRouteCORS => "HTTPRouteCORS",
    HTTPRouteDestinationPortMatching => "HTTPRouteDestinationPortMatching",
    HTTPRouteHostRewrite => "HTTPRouteHostRewrite",
    HTTPRouteMethodMatching => "HTTPRouteMethodMatching",
    HTTPRouteNamedRouteRule => "HTTPRouteNamedRouteRule",
    HTTPRouteParentRefPort => "HTTPRouteParentRefPort",
    HTTPRoutePathRedirect => "HTTPRoutePathRedirect",
    HTTPRoutePathRewrite => "HTTPRoutePathRewrite",
    HTTPRoutePortRedirect => "HTTPRoutePortRedirect",
    HTTPRouteQueryParamMatching => "HTTPRouteQueryParamMatching",
    HTTPRouteRequestMirror => "HTTPRouteRequestMirror",
    HTTPRouteRequestMultipleMirrors => "HTTPRouteRequestMultipleMirrors",
    HTTPRouteRequestPercentageMirror => "HTTPRouteRequestPercentageMirror",
    HTTPRouteRequestTimeout => "HTTPRouteRequestTimeout",
    HTTPRouteResponseHeaderModification => "HTTPRouteResponseHeaderModification",
    HTTPRouteSchemeRedirect => "HTTPRouteSchemeRedirect",
    Mesh => "Mesh",
    MeshClusterIPMatching => "MeshClusterIPMatching",
    MeshConsumerRoute => "MeshConsumerRoute",
    ReferenceGrant => "ReferenceGrant",
    TCPRoute => "TCPRoute",
    TLSRoute => "TLSRoute",
    UDPRoute => "UDPRoute",
}

impl Feature {
    /// The feature of a name, if it is one.
    pub(crate) fn from_name(name: &str) -> Option<Feature> {
        Feature::ALL.iter().copied().find(|f| f.name() == name)
    }
}

impl std::fmt::Display for Feature {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The names of features, as strings (for sets a target reports).
pub fn names(features: &[Feature]) -> std::collections::BTreeSet<String> {
    features.iter().map(|f| f.name().to_string()).collect()
}

pub fn is_known(name: &str) -> bool {
    Feature::from_name(name).is_some()
}

/// Every feature name, comma-separated, for messages.
pub(crate) fn known_list() -> String {
    Feature::ALL
        .iter()
        .map(|f| f.name())
        .collect::<Vec<_>>()
        .join(", ")
}

/// An extended feature an object uses, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Use {
    pub feature: Feature,
    /// `HTTPRoute ns/name` or `Gateway name`, as written.
    pub object: String,
    pub file: std::path::PathBuf,
    pub line: u64,
}

/// The extended features `objects` use: each feature once, at the first
/// object that uses it. Core features are left out: every conformant
/// implementation has them.
pub fn used<'a>(objects: impl Iterator<Item = &'a Manifest>) -> Vec<Use> {
    let mut first: BTreeMap<Feature, Use> = BTreeMap::new();
    for m in objects {
        let mut note = |feature: Feature| {
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
                    note(Feature::GatewayPort8080);
                }
                if !g.spec.addresses.is_empty() {
                    note(Feature::GatewayStaticAddresses);
                }
            }
            _ => {}
        }
    }
    first.into_values().collect()
}

fn route_features(r: &HttpRoute, note: &mut impl FnMut(Feature)) {
    if r.spec.parent_refs.iter().any(|p| p.value.port.is_some()) {
        note(Feature::HTTPRouteParentRefPort);
    }
    for rule in r.spec.rules.iter().flatten() {
        let rule = &rule.value;
        if rule.name.is_some() {
            note(Feature::HTTPRouteNamedRouteRule);
        }
        for m in rule.matches.iter().flatten() {
            if m.value.method.is_some() {
                note(Feature::HTTPRouteMethodMatching);
            }
            if !m.value.query_params.is_empty() {
                note(Feature::HTTPRouteQueryParamMatching);
            }
        }
        let mirrors = rule
            .filters
            .iter()
            .filter(|f| f.value.request_mirror.is_some())
            .count();
        if mirrors > 1 {
            note(Feature::HTTPRouteRequestMultipleMirrors);
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
                note(Feature::HTTPRouteBackendRequestHeaderModification);
            }
            for f in &b.value.filters {
                filter_features(f, note);
            }
        }
        if let Some(t) = &rule.timeouts {
            if t.request.is_some() {
                note(Feature::HTTPRouteRequestTimeout);
            }
            if t.backend_request.is_some() {
                note(Feature::HTTPRouteBackendTimeout);
            }
        }
    }
}

fn filter_features(f: &HttpRouteFilter, note: &mut impl FnMut(Feature)) {
    if let Some(r) = &f.request_redirect {
        if r.scheme.is_some() {
            note(Feature::HTTPRouteSchemeRedirect);
        }
        if r.port.is_some() {
            note(Feature::HTTPRoutePortRedirect);
        }
        if r.path.is_some() {
            note(Feature::HTTPRoutePathRedirect);
        }
        match r.status_code {
            Some(303) => note(Feature::HTTPRoute303RedirectStatusCode),
            Some(307) => note(Feature::HTTPRoute307RedirectStatusCode),
            Some(308) => note(Feature::HTTPRoute308RedirectStatusCode),
            _ => {}
        }
    }
    if let Some(w) = &f.url_rewrite {
        if w.hostname.is_some() {
            note(Feature::HTTPRouteHostRewrite);
        }
        if w.path.is_some() {
            note(Feature::HTTPRoutePathRewrite);
        }
    }
    if f.response_header_modifier.is_some() {
        note(Feature::HTTPRouteResponseHeaderModification);
    }
    if let Some(m) = &f.request_mirror {
        note(Feature::HTTPRouteRequestMirror);
        if m.percent.is_some() || m.fraction.is_some() {
            note(Feature::HTTPRouteRequestPercentageMirror);
        }
    }
    if f.cors.is_some() {
        note(Feature::HTTPRouteCORS);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_the_embedded_gateway_declares_is_known() {
        for f in Feature::ALL {
            assert_eq!(Feature::from_name(f.name()), Some(*f));
        }
        assert!(
            Feature::ALL.windows(2).all(|w| w[0].name() < w[1].name()),
            "listed by name"
        );
        assert!(!is_known("HTTPRouteSchemeRedirects"));
    }

    #[test]
    fn a_routes_filters_and_matches_name_the_features_they_need() {
        let yaml = "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r, namespace: ns}\nspec:\n  parentRefs: [{name: kong, namespace: kong-system}]\n  rules:\n    - matches: [{method: POST, queryParams: [{name: a, value: b}]}]\n      filters:\n        - type: RequestRedirect\n          requestRedirect: {scheme: https, statusCode: 301}\n        - type: ResponseHeaderModifier\n          responseHeaderModifier: {set: [{name: x, value: v}]}\n";
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("route.yaml");
        std::fs::write(&file, yaml).unwrap();
        let objects = crate::manifest::load_file(&file).unwrap();
        let names: Vec<&str> = used(objects.iter())
            .iter()
            .map(|u| u.feature.name())
            .collect();
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
