//! What gwlab knows about Kong, in one place: the lab's Kong objects and their
//! names, the Kong Ingress Controller's controller name, feature gates and
//! settings, and the Gateway API features each KIC version supports. The
//! cluster target, `gwlab doctor` and the lab's addons all read it from here.

use std::collections::BTreeSet;

/// The controller name KIC writes into GatewayClasses it serves.
pub const CONTROLLER_NAME: &str = "konghq.com/kic-gateway-controller";
/// The lab's GatewayClass.
pub const CLASS_NAME: &str = "kong";
/// Where the lab's Kong runs, and the name of its Deployment and Gateway.
pub const NAMESPACE: &str = "kong-system";
pub const DEPLOYMENT: &str = "kong";
pub const GATEWAY_NAME: &str = "kong";
/// The proxy's LoadBalancer Service, named by the publish-service settings.
pub const PROXY_SERVICE: &str = "kong-proxy";
/// The Kong Gateway and controller versions gwlab's lab runs.
///
/// The lab stays on Kong 3.8, although Kong 3.9 is the first with the
/// `redirect` plugin (so an Ingress original using that plugin cannot be
/// reproduced here by `gwlab migrate --compare`), because no public source
/// ties Kong 3.9 to KIC 3.4:
/// - KIC v3.4.0 tests with `kong:3.8.0` (Kong/kubernetes-ingress-controller
///   @v3.4.0 `.github/test_dependencies.yaml`); the later revision naming
///   `kong-oss: 3.9.1` also names `kong-ee: 3.11.0.7`, long after KIC 3.4.
/// - KIC's `versions.KongRedirectPluginCutoff` (3.9.0, `internal/versions`)
///   comes with `KongStickySessionsCutoff` (3.11.0), from PR #6804; the
///   translator of the 3.4 line (`internal/dataplane/translator/
///   subtranslator/httproute.go`) has no version gate and answers a
///   RequestRedirect with `request-termination` plus a fixed `Location`.
/// - KIC v3.4.0's Gateway API v1.2.1 conformance report (kubernetes-sigs/
///   gateway-api `conformance/reports/v1.2.1/kong-kubernetes-ingress-controller/`)
///   lists HTTPRouteSchemeRedirect, HTTPRoutePortRedirect and
///   HTTPRoutePathRedirect as unsupported.
///
/// Even where KIC uses the plugin, an unset scheme becomes `http` rather than
/// the request's (#6856) and ReplacePrefixMatch is not translated (#6557), so
/// the feature table below is the conformance report's.
pub const KONG_VERSION: &str = "3.8";
pub const KIC_VERSION: &str = "3.4";

/// The Kong proxy's fixed NodePorts, which the lab's host ports map to.
pub const HTTP_NODE_PORT: u16 = 30080;
pub const HTTPS_NODE_PORT: u16 = 30443;

/// A Gateway annotation naming the proxy Service KIC publishes addresses of.
pub const PUBLISH_ANNOTATION: &str = "konghq.com/publish-service";
/// The GatewayClass annotation that makes KIC serve it without an operator.
pub const UNMANAGED_ANNOTATION: &str = "konghq.com/gatewayclass-unmanaged";
/// The controller's publish-service setting: environment variable and flag.
pub const PUBLISH_SERVICE_ENV: (&str, &str) = ("CONTROLLER_PUBLISH_SERVICE", "--publish-service");
/// The controller's feature-gates setting: environment variable and flag.
pub const FEATURE_GATES_ENV: (&str, &str) = ("CONTROLLER_FEATURE_GATES", "--feature-gates");

/// The feature gates KIC 3.4 knows (`Gateway` is not one of them: KIC 3
/// serves Gateway API without any gate, and exits on an unknown gate).
pub const KIC_GATES: &[&str] = &[
    "GatewayAlpha",
    "FillIDs",
    "RewriteURIs",
    "KongServiceFacade",
    "SanitizeKonnectConfigDumps",
    "FallbackConfiguration",
    "KongCustomEntity",
    "CombinedServicesFromDifferentHTTPRoutes",
];

/// Whether a container image is the Kong Ingress Controller.
pub fn is_controller_image(image: &str) -> bool {
    image.contains("kubernetes-ingress-controller")
}

/// The version in an image reference's tag (`kong/kubernetes-ingress-controller:3.4.0` → `3.4.0`).
pub fn image_version(image: &str) -> Option<&str> {
    let tag = image.rsplit_once(':')?.1;
    // A registry port (`host:5000/kic`) is not a tag.
    (!tag.contains('/')).then_some(tag)
}

/// The version of the lab's Kong Ingress Controller, from its image tag
/// (`None` when the lab's Deployment is not there or names no version).
pub async fn controller_version(client: &kube::Client) -> Result<Option<String>, kube::Error> {
    use k8s_openapi::api::apps::v1::Deployment;
    let api: kube::Api<Deployment> = kube::Api::namespaced(client.clone(), NAMESPACE);
    let Some(d) = api.get_opt(DEPLOYMENT).await? else {
        return Ok(None);
    };
    Ok(d.spec
        .and_then(|s| s.template.spec)
        .and_then(|s| {
            s.containers
                .into_iter()
                .filter_map(|c| c.image)
                .find(|i| is_controller_image(i))
        })
        .and_then(|i| image_version(&i).map(String::from)))
}

/// Kong Ingress Controller 3.4 with the expressions router: the extended
/// features its Gateway API v1.2.1 conformance report claims. Redirects are
/// missing: Kong 3.8 has no redirect plugin for KIC to program them with.
/// Kong 3.9 would not add all three: KIC 3.4 then programs a RequestRedirect
/// as Kong's `redirect` plugin (location = scheme, host, port and a full path;
/// no path keeps the request's path and query), but an unset scheme becomes
/// `http` rather than the request's, and ReplacePrefixMatch is not translated.
pub const KIC_3_4_FEATURES: &[&str] = &[
    "HTTPRouteHostRewrite",
    "HTTPRouteMethodMatching",
    "HTTPRoutePathRewrite",
    "HTTPRouteQueryParamMatching",
    "HTTPRouteResponseHeaderModification",
];

/// The extended features of a KIC version, and a sentence saying where they
/// come from (for the run's feature line).
pub fn features(version: Option<&str>) -> (BTreeSet<String>, String) {
    let set = KIC_3_4_FEATURES.iter().map(|s| s.to_string()).collect();
    let source = match version {
        Some(v) if v.starts_with(KIC_VERSION) => {
            format!("gwlab's table for Kong Ingress Controller {v} (expressions router)")
        }
        Some(v) => {
            format!("gwlab's table for Kong Ingress Controller {KIC_VERSION}, applied to {v}")
        }
        None => format!("gwlab's table for Kong Ingress Controller {KIC_VERSION}"),
    };
    (set, source)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kic_3_4_lacks_redirect_features() {
        let (set, source) = features(Some("3.4.0"));
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
        assert!(features(Some("3.5.1")).1.contains("applied to 3.5.1"));
    }

    #[test]
    fn image_tags() {
        assert_eq!(
            image_version("kong/kubernetes-ingress-controller:3.4.0"),
            Some("3.4.0")
        );
        assert_eq!(image_version("localhost:5000/kic"), None);
        assert!(is_controller_image(
            "kong/kubernetes-ingress-controller:3.4.0"
        ));
        assert!(!is_controller_image("kong:3.8.0"));
    }
}
