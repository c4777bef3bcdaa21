//! The Kubernetes kinds gwlab knows without asking the API server: API
//! version, plural, scope, and whether `gwlab clean` sweeps them. One table
//! for applying, for reading manifests and for cleaning up, so that the three
//! never disagree. Kinds not listed here are found through discovery.

/// One kind of object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KindInfo {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub plural: &'static str,
    pub namespaced: bool,
    /// `gwlab clean --run` lists this kind for objects labelled with the run.
    /// CRDs are left out: deleting one deletes every object of its kind.
    pub cleanable: bool,
}

const fn k(
    api_version: &'static str,
    kind: &'static str,
    plural: &'static str,
    namespaced: bool,
    cleanable: bool,
) -> KindInfo {
    KindInfo {
        api_version,
        kind,
        plural,
        namespaced,
        cleanable,
    }
}

const GW: &str = "gateway.networking.k8s.io/v1";
const GW_BETA: &str = "gateway.networking.k8s.io/v1beta1";
const RBAC: &str = "rbac.authorization.k8s.io/v1";

/// Namespaces first and CRDs early: the order in which cleanup would be wrong
/// to start is the reverse of this one, so `gwlab clean` walks it backwards.
pub const KINDS: &[KindInfo] = &[
    k("v1", "Namespace", "namespaces", false, true),
    k(
        "apiextensions.k8s.io/v1",
        "CustomResourceDefinition",
        "customresourcedefinitions",
        false,
        false,
    ),
    // Gateway API's safe-upgrades policy (v1.5.1 on): read, never written.
    k(
        "admissionregistration.k8s.io/v1",
        "ValidatingAdmissionPolicy",
        "validatingadmissionpolicies",
        false,
        false,
    ),
    k(
        "admissionregistration.k8s.io/v1",
        "ValidatingAdmissionPolicyBinding",
        "validatingadmissionpolicybindings",
        false,
        false,
    ),
    k(RBAC, "ClusterRole", "clusterroles", false, true),
    k(
        RBAC,
        "ClusterRoleBinding",
        "clusterrolebindings",
        false,
        true,
    ),
    k(RBAC, "Role", "roles", true, true),
    k(RBAC, "RoleBinding", "rolebindings", true, true),
    k("v1", "ServiceAccount", "serviceaccounts", true, true),
    k("v1", "ConfigMap", "configmaps", true, true),
    k("v1", "Secret", "secrets", true, true),
    k("v1", "Service", "services", true, true),
    k("apps/v1", "Deployment", "deployments", true, true),
    k("apps/v1", "DaemonSet", "daemonsets", true, true),
    k(
        "admissionregistration.k8s.io/v1",
        "ValidatingWebhookConfiguration",
        "validatingwebhookconfigurations",
        false,
        true,
    ),
    k("v1", "PersistentVolume", "persistentvolumes", false, true),
    k(
        "storage.k8s.io/v1",
        "StorageClass",
        "storageclasses",
        false,
        true,
    ),
    k(
        "networking.k8s.io/v1",
        "IngressClass",
        "ingressclasses",
        false,
        true,
    ),
    k("networking.k8s.io/v1", "Ingress", "ingresses", true, true),
    k(
        "configuration.konghq.com/v1",
        "KongPlugin",
        "kongplugins",
        true,
        true,
    ),
    k(
        "configuration.konghq.com/v1",
        "KongClusterPlugin",
        "kongclusterplugins",
        false,
        true,
    ),
    k(
        "metallb.io/v1beta1",
        "IPAddressPool",
        "ipaddresspools",
        true,
        true,
    ),
    k(
        "metallb.io/v1beta1",
        "L2Advertisement",
        "l2advertisements",
        true,
        true,
    ),
    k(GW, "GatewayClass", "gatewayclasses", false, true),
    k(GW, "Gateway", "gateways", true, true),
    k(GW, "HTTPRoute", "httproutes", true, true),
    k(GW, "GRPCRoute", "grpcroutes", true, true),
    k(GW_BETA, "ReferenceGrant", "referencegrants", true, true),
];

/// The entry for an API version and kind.
pub fn find(api_version: &str, kind: &str) -> Option<&'static KindInfo> {
    KINDS
        .iter()
        .find(|k| k.api_version == api_version && k.kind == kind)
}

/// Whether a kind (by name, whatever its version) is cluster-scoped.
pub fn is_cluster_scoped(kind: &str) -> bool {
    KINDS.iter().any(|k| k.kind == kind && !k.namespaced)
}

/// The API version gwlab uses for a Gateway API kind.
pub fn gateway_api_version(kind: &str) -> &'static str {
    KINDS
        .iter()
        .find(|k| k.kind == kind && k.api_version.starts_with("gateway.networking.k8s.io/"))
        .map(|k| k.api_version)
        .unwrap_or(GW)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_is_read_from_the_one_table() {
        for kind in [
            "Namespace",
            "GatewayClass",
            "ClusterRole",
            "KongClusterPlugin",
        ] {
            assert!(is_cluster_scoped(kind), "{kind}");
        }
        for kind in ["HTTPRoute", "Secret", "Deployment", "Thing"] {
            assert!(!is_cluster_scoped(kind), "{kind}");
        }
        assert_eq!(
            gateway_api_version("ReferenceGrant"),
            "gateway.networking.k8s.io/v1beta1"
        );
        assert_eq!(gateway_api_version("HTTPRoute"), GW);
    }

    #[test]
    fn every_kind_is_listed_once_and_crds_are_never_swept() {
        for (i, a) in KINDS.iter().enumerate() {
            assert!(
                KINDS[i + 1..]
                    .iter()
                    .all(|b| (a.api_version, a.kind) != (b.api_version, b.kind)),
                "{} twice",
                a.kind
            );
        }
        assert!(
            !find("apiextensions.k8s.io/v1", "CustomResourceDefinition")
                .unwrap()
                .cleanable
        );
    }
}
