//! What gwlab knows about Kong, in one place: the lab's Kong objects and their
//! names, the Kong Ingress Controller's controller name and settings, and
//! (in `facts`) per KIC release line the versions, features and behaviour
//! read from Kong's sources. The cluster target, `gwlab doctor` and the lab's
//! addons all read it from here.

use std::collections::BTreeSet;

pub mod facts;
pub(crate) mod version;

pub use version::Version;

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
/// The Kong proxy's fixed NodePorts, which the lab's host ports map to.
pub const HTTP_NODE_PORT: u16 = 30080;
/// The listeners the lab's Kong can serve a Gateway on: the ports of its
/// publish Service (`kong-proxy` in `manifests/kong/kong.yaml`: 80 to Kong's
/// plain listen 8000, 443 to its `ssl` listen 8443), each with the protocol
/// of the Kong listen behind it. KIC accepts a Gateway listener only on one
/// of these (Kong/kubernetes-ingress-controller@v3.5.13
/// `internal/controllers/gateway/gateway_controller.go`
/// `determineListenersFromDataPlane`, `gateway_utils.go` `getListenerStatus`).
pub const LAB_LISTENS: &[(&str, u16)] = &[("HTTP", 80), ("HTTPS", 443)];
pub const HTTPS_NODE_PORT: u16 = 30443;

/// A Gateway annotation naming the proxy Service KIC publishes addresses of.
pub const PUBLISH_ANNOTATION: &str = "konghq.com/publish-service";
/// The GatewayClass annotation that makes KIC serve it without an operator.
pub const UNMANAGED_ANNOTATION: &str = "konghq.com/gatewayclass-unmanaged";
/// The controller's publish-service setting: environment variable and flag.
pub const PUBLISH_SERVICE_ENV: (&str, &str) = ("CONTROLLER_PUBLISH_SERVICE", "--publish-service");
/// The controller's feature-gates setting: environment variable and flag.
pub const FEATURE_GATES_ENV: (&str, &str) = ("CONTROLLER_FEATURE_GATES", "--feature-gates");

/// Whether a container image is the Kong Ingress Controller.
pub fn is_controller_image(image: &str) -> bool {
    image.contains("kubernetes-ingress-controller")
}

/// An image reference's repository (with its registry, if named) and tag;
/// a digest after the tag is ignored. `None` without a tag
/// (`localhost:5000/kic` has a registry port, not a tag).
pub fn split_image(image: &str) -> Option<(&str, &str)> {
    let named = image.split('@').next().unwrap_or(image);
    let (repository, tag) = named.rsplit_once(':')?;
    (!tag.contains('/') && !tag.is_empty()).then_some((repository, tag))
}

/// The version in an image reference's tag (`kong/kubernetes-ingress-controller:3.4.0` → `3.4.0`).
pub fn image_version(image: &str) -> Option<&str> {
    split_image(image).map(|(_, tag)| tag)
}

/// The extended features of a KIC version, and a sentence saying where they
/// come from (for the run's feature line): the only conformance report KIC
/// published for its 3.x line, for every 3.x release.
pub fn features(version: Option<&str>) -> (BTreeSet<String>, String) {
    let set = crate::features::names(facts::CONFORMANCE_FEATURES.value);
    let report = "KIC v3.4.0's Gateway API v1.2.1 conformance report (expressions router)";
    let source = match version {
        Some(v) if Version::parse(v).is_some_and(|v| v == Version::new(3, 4, 0)) => {
            format!("gwlab's table for Kong Ingress Controller {v}: {report}")
        }
        Some(v) => format!(
            "gwlab's table for Kong Ingress Controller {v}: {report}, the newest KIC has published"
        ),
        None => format!("gwlab's table for the Kong Ingress Controller: {report}"),
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
        assert!(features(Some("3.5.13")).1.contains("3.5.13"));
    }

    #[test]
    fn image_tags() {
        assert_eq!(
            image_version("kong/kubernetes-ingress-controller:3.4.0"),
            Some("3.4.0")
        );
        assert_eq!(image_version("localhost:5000/kic"), None);
        assert_eq!(
            split_image("kong:3.9.3@sha256:4d6a"),
            Some(("kong", "3.9.3"))
        );
        assert_eq!(
            split_image("localhost:5000/kong:3.9.3"),
            Some(("localhost:5000/kong", "3.9.3"))
        );
        assert!(is_controller_image(
            "kong/kubernetes-ingress-controller:3.4.0"
        ));
        assert!(!is_controller_image("kong:3.8.0"));
    }
}
