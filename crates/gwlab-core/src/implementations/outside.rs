//! Objects that route traffic outside Gateway API: an Ingress, a KongPlugin
//! and the other Kong kinds. gwlab's reference gateway implements Gateway API
//! only, so it takes no notice of them; on a cluster they go to the API
//! server like every manifest, and Kong acts on them. A scenario that holds
//! one (a migration scenario keeping the original, say) is told so instead
//! of getting a 404 it cannot explain.

use std::path::PathBuf;

use crate::manifest::Manifest;

/// One such object, where it is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutsideGatewayApi {
    /// `Kind/name`.
    pub object: String,
    pub file: PathBuf,
    pub line: u64,
}

impl std::fmt::Display for OutsideGatewayApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} ({}:{}) is not Gateway API: gwlab's reference gateway ignores it, and probes that need it fail there; on a cluster (--target cluster) it is applied and Kong acts on it",
            self.object,
            self.file.display(),
            self.line
        )
    }
}

/// Whether objects of this kind route or change traffic without Gateway API:
/// an Ingress, or any kind of Kong's configuration groups.
fn routes_outside(api_version: &str, kind: &str) -> bool {
    let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
    (group == "networking.k8s.io" && kind == "Ingress") || group.ends_with("konghq.com")
}

/// The objects of `objects` that the reference gateway ignores though they
/// would route traffic on a cluster.
pub fn outside_gateway_api<'a>(
    objects: impl IntoIterator<Item = &'a Manifest>,
) -> Vec<OutsideGatewayApi> {
    objects
        .into_iter()
        .filter(|m| routes_outside(&m.api_version, &m.kind))
        .map(|m| OutsideGatewayApi {
            object: format!("{}/{}", m.kind, m.name),
            file: m.file.clone(),
            line: m.line,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ingresses_and_kong_kinds_are_outside_gateway_api() {
        assert!(routes_outside("networking.k8s.io/v1", "Ingress"));
        assert!(routes_outside("configuration.konghq.com/v1", "KongPlugin"));
        assert!(routes_outside(
            "configuration.konghq.com/v1beta1",
            "KongUpstreamPolicy"
        ));
        assert!(!routes_outside("networking.k8s.io/v1", "NetworkPolicy"));
        assert!(!routes_outside("gateway.networking.k8s.io/v1", "HTTPRoute"));
        assert!(!routes_outside("v1", "Service"));
    }
}
