//! The lab stack every target provides (the scenario format, section "The lab gateway"):
//! GatewayClass `kong` and Gateway `kong-system/kong` with listeners `http` (80)
//! and `https` (443).

use std::path::Path;

use crate::manifest::{self, Manifest};

pub use crate::kong::{CLASS_NAME, GATEWAY_NAME, NAMESPACE as GATEWAY_NAMESPACE};

/// Marks a Gateway whose HTTPS certificate gwlab makes itself.
pub(crate) const GENERATED_CERT_ANNOTATION: &str = "gwlab.dev/generated-certificate";

const LAB_YAML: &str = r#"apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata:
  name: kong
  annotations:
    konghq.com/gatewayclass-unmanaged: "true"
spec:
  controllerName: konghq.com/kic-gateway-controller
---
apiVersion: v1
kind: Namespace
metadata:
  name: kong-system
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: kong
  namespace: kong-system
  annotations:
    gwlab.dev/generated-certificate: "true"
spec:
  gatewayClassName: kong
  listeners:
  - name: http
    protocol: HTTP
    port: 80
    allowedRoutes:
      namespaces:
        from: All
  - name: https
    protocol: HTTPS
    port: 443
    tls:
      mode: Terminate
      certificateRefs:
      - name: kong-lab-tls
    allowedRoutes:
      namespaces:
        from: All
"#;

/// The lab objects, as manifests.
pub fn objects() -> Vec<Manifest> {
    manifest::parse_text(Path::new("<gwlab lab gateway>"), LAB_YAML)
        .expect("the built-in lab manifests are valid")
}

#[cfg(test)]
mod tests {
    #[test]
    fn lab_objects_parse() {
        let objs = super::objects();
        assert_eq!(objs.len(), 3);
        assert_eq!(objs[2].namespace.as_deref(), Some("kong-system"));
    }
}
