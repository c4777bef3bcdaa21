//! Which Gateway API features a cluster's implementation supports: what its
//! GatewayClass reports in `status.supportedFeatures`, or, where that is empty,
//! gwlab's own table per implementation and version.

use std::collections::BTreeSet;

/// Core features every conformant implementation has.
pub const CORE: &[&str] = &["Gateway", "HTTPRoute", "ReferenceGrant"];

/// Kong Ingress Controller 3.4 with the expressions router: the extended
/// features its v1.2.1 conformance report claims (PINS.md §2 g).
pub const KONG_3_4_EXPRESSIONS: &[&str] = &[
    "HTTPRouteHostRewrite",
    "HTTPRouteMethodMatching",
    "HTTPRoutePathRewrite",
    "HTTPRouteQueryParamMatching",
    "HTTPRouteResponseHeaderModification",
];

pub const KONG_CONTROLLER: &str = "konghq.com/kic-gateway-controller";

/// The features of an implementation, from its controller name and version
/// (the controller image's tag), when its GatewayClass reports none.
pub fn builtin(controller: &str, version: Option<&str>) -> (BTreeSet<String>, String) {
    let mut set: BTreeSet<String> = CORE.iter().map(|s| s.to_string()).collect();
    if controller == KONG_CONTROLLER {
        set.extend(KONG_3_4_EXPRESSIONS.iter().map(|s| s.to_string()));
        let source = match version {
            Some(v) if v.starts_with("3.4") => {
                format!("gwlab's table for Kong Ingress Controller {v} (expressions router)")
            }
            Some(v) => format!("gwlab's table for Kong Ingress Controller 3.4, applied to {v}"),
            None => "gwlab's table for Kong Ingress Controller 3.4".into(),
        };
        (set, source)
    } else {
        (
            set,
            format!("core features only: gwlab has no table for {controller}"),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kong_3_4_lacks_redirect_features() {
        let (set, source) = builtin(KONG_CONTROLLER, Some("3.4.0"));
        assert!(
            set.contains("HTTPRoutePathRewrite") && set.contains("HTTPRouteQueryParamMatching")
        );
        for missing in [
            "HTTPRouteSchemeRedirect",
            "HTTPRoutePortRedirect",
            "HTTPRoutePathRedirect",
            "HTTPRouteRequestMirror",
        ] {
            assert!(!set.contains(missing), "{missing}");
        }
        assert!(source.contains("3.4.0"));
        let (other, _) = builtin("example.com/gateway", None);
        assert_eq!(other.len(), CORE.len());
    }
}
