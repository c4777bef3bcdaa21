//! The Kubernetes kinds gwlab knows without asking the API server (the table
//! is gwlab-core's), as kube's `ApiResource` for the API calls.

use kube::api::{ApiResource, GroupVersionKind};

pub use gwlab_core::kinds::*;

/// The kube resource of a kind in the table, and whether it is namespaced.
pub fn api_resource(k: &KindInfo) -> (ApiResource, bool) {
    let (group, version) = k.api_version.split_once('/').unwrap_or(("", k.api_version));
    let gvk = GroupVersionKind::gvk(group, version, k.kind);
    (
        ApiResource::from_gvk_with_plural(&gvk, k.plural),
        k.namespaced,
    )
}

/// The kube resource of a known kind, and whether it is namespaced.
pub fn resource(api_version: &str, kind: &str) -> Option<(ApiResource, bool)> {
    find(api_version, kind).map(api_resource)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_kinds_resolve_with_their_scope() {
        let (ar, namespaced) = resource("apps/v1", "Deployment").unwrap();
        assert_eq!(
            (ar.group.as_str(), ar.plural.as_str(), namespaced),
            ("apps", "deployments", true)
        );
        let (ar, namespaced) =
            resource("apiextensions.k8s.io/v1", "CustomResourceDefinition").unwrap();
        assert_eq!(
            (ar.plural.as_str(), namespaced),
            ("customresourcedefinitions", false)
        );
        assert!(resource("example.com/v1", "Thing").is_none());
    }
}
