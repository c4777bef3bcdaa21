//! The certificates of HTTPS listeners, read from `kubernetes.io/tls` Secrets.

use std::sync::Arc;

use super::CertificatePem;
use super::grants::{GrantedRef, grant_allows};
use crate::manifest::gateway_api::Listener;
use crate::manifest::meta::ObjectMeta;
use crate::manifest::{GATEWAY_GROUP, Object, SecretInfo};
use crate::model::lab_gateway::GENERATED_CERT_ANNOTATION;
use crate::model::world::{ObjKey, World};

/// A Secret value that cannot be read.
#[derive(Debug, thiserror::Error)]
pub(super) enum SecretValueError {
    #[error("data.{key} is not base64: {source}")]
    NotBase64 {
        key: String,
        #[source]
        source: base64::DecodeError,
    },
}

/// Why a listener's certificate does not resolve. The message is the
/// condition's; [`CertificateRefError::reason`] gives its reason.
#[derive(Debug, thiserror::Error)]
pub(super) enum CertificateRefError {
    #[error("the listener has no certificateRefs")]
    NoRefs,
    #[error("certificateRef {group}/{kind} {name} is not a Secret")]
    NotASecret {
        group: String,
        kind: String,
        name: String,
    },
    #[error("Secret {namespace}/{name} is in another namespace and no ReferenceGrant allows it")]
    NotPermitted { namespace: String, name: String },
    #[error("Secret {namespace}/{name} does not exist")]
    NoSecret { namespace: String, name: String },
    #[error("Secret {namespace}/{name} has no {key}")]
    MissingKey {
        namespace: String,
        name: String,
        key: &'static str,
    },
    #[error("Secret {namespace}/{name} {key} is not PEM")]
    NotPem {
        namespace: String,
        name: String,
        key: &'static str,
    },
    #[error(transparent)]
    Value(#[from] SecretValueError),
}

impl CertificateRefError {
    /// The listener's `ResolvedRefs` reason. The spec: InvalidCertificateRef
    /// only for references that are allowed.
    pub(super) fn reason(&self) -> &'static str {
        match self {
            CertificateRefError::NotPermitted { .. } => "RefNotPermitted",
            _ => "InvalidCertificateRef",
        }
    }
}

/// A Secret value: `stringData` as written, `data` base64-decoded.
fn secret_value(s: &SecretInfo, key: &str) -> Option<Result<Vec<u8>, SecretValueError>> {
    use base64::Engine;
    if let Some(v) = s.string_data.get(key) {
        return Some(Ok(v.clone().into_bytes()));
    }
    let v = s.data.get(key)?;
    let compact: String = v.chars().filter(|c| !c.is_whitespace()).collect();
    Some(
        base64::engine::general_purpose::STANDARD
            .decode(compact)
            .map_err(|source| SecretValueError::NotBase64 {
                key: key.into(),
                source,
            }),
    )
}

/// One PEM value of a TLS Secret.
fn pem_value(
    secret: &SecretInfo,
    namespace: &str,
    name: &str,
    key: &'static str,
) -> Result<Vec<u8>, CertificateRefError> {
    let v = secret_value(secret, key).ok_or_else(|| CertificateRefError::MissingKey {
        namespace: namespace.into(),
        name: name.into(),
        key,
    })??;
    if !String::from_utf8_lossy(&v).contains("-----BEGIN ") {
        return Err(CertificateRefError::NotPem {
            namespace: namespace.into(),
            name: name.into(),
            key,
        });
    }
    Ok(v)
}

/// The certificate of an HTTPS listener, or why it does not resolve. The lab
/// Gateway's certificate is made by gwlab, so it needs no Secret.
pub(super) fn listener_certificate(
    world: &World,
    ns: &str,
    meta: &ObjectMeta,
    l: &Listener,
) -> Result<Option<Arc<CertificatePem>>, CertificateRefError> {
    let Some(tls) = l.tls.as_ref() else {
        return Ok(None);
    };
    if meta.annotations.contains_key(GENERATED_CERT_ANNOTATION) {
        return Ok(None);
    }
    // Several refs may be given; the first serves (one certificate per listener here).
    let r = tls
        .certificate_refs
        .first()
        .ok_or(CertificateRefError::NoRefs)?;
    let group = r.group.as_deref().unwrap_or("");
    let kind = r.kind.as_deref().unwrap_or("Secret");
    if !group.is_empty() || kind != "Secret" {
        return Err(CertificateRefError::NotASecret {
            group: group.into(),
            kind: kind.into(),
            name: r.name.clone(),
        });
    }
    let target_ns = r.namespace.as_deref().unwrap_or(ns);
    let granted = GrantedRef {
        from_group: GATEWAY_GROUP,
        from_kind: "Gateway",
        from_namespace: ns,
        to_group: "",
        to_kind: "Secret",
        to_namespace: target_ns,
        to_name: &r.name,
    };
    if target_ns != ns && !grant_allows(world, &granted) {
        return Err(CertificateRefError::NotPermitted {
            namespace: target_ns.into(),
            name: r.name.clone(),
        });
    }
    let secret = match world
        .get(&ObjKey::new("Secret", target_ns, &r.name))
        .map(|s| &s.manifest.object)
    {
        Some(Object::Secret(s)) => s,
        _ => {
            return Err(CertificateRefError::NoSecret {
                namespace: target_ns.into(),
                name: r.name.clone(),
            });
        }
    };
    Ok(Some(Arc::new(CertificatePem {
        chain: pem_value(secret, target_ns, &r.name, "tls.crt")?,
        key: pem_value(secret, target_ns, &r.name, "tls.key")?,
    })))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::gateway_api::{ListenerTls, SecretObjectRef};
    use crate::model::test_support::world_of;

    const PEM: &str = "-----BEGIN CERTIFICATE-----\\nMIIB\\n-----END CERTIFICATE-----\\n";

    fn secret(ns: &str, name: &str, data: &str) -> String {
        format!(
            "apiVersion: v1\nkind: Secret\nmetadata: {{name: {name}, namespace: {ns}}}\ntype: kubernetes.io/tls\n{data}\n---\n"
        )
    }

    fn https(refs: Vec<SecretObjectRef>) -> Listener {
        Listener {
            name: "https".into(),
            port: 443,
            protocol: "HTTPS".into(),
            tls: Some(ListenerTls {
                certificate_refs: refs,
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn secret_ref(name: &str, namespace: Option<&str>) -> SecretObjectRef {
        SecretObjectRef {
            name: name.into(),
            namespace: namespace.map(String::from),
            ..Default::default()
        }
    }

    fn certificate(
        world: &World,
        l: &Listener,
    ) -> Result<Option<Arc<CertificatePem>>, CertificateRefError> {
        listener_certificate(world, "app", &ObjectMeta::default(), l)
    }

    fn failure(world: &World, l: &Listener) -> (&'static str, String) {
        let e = certificate(world, l).expect_err("the certificate does not resolve");
        (e.reason(), e.to_string())
    }

    #[test]
    fn secret_values_come_from_string_data_or_base64_data() {
        let s = SecretInfo {
            type_: None,
            data: [
                ("b".to_string(), "aGVs\n bG8=".to_string()),
                ("bad".to_string(), "!!".to_string()),
            ]
            .into(),
            string_data: [("a".to_string(), "plain".to_string())].into(),
        };
        assert_eq!(secret_value(&s, "a").unwrap().unwrap(), b"plain");
        assert_eq!(secret_value(&s, "b").unwrap().unwrap(), b"hello");
        assert!(secret_value(&s, "missing").is_none());
        let e = secret_value(&s, "bad").unwrap().unwrap_err();
        assert!(e.to_string().starts_with("data.bad is not base64: "), "{e}");
        assert!(std::error::Error::source(&e).is_some());
    }

    #[test]
    fn a_secret_with_both_pem_values_resolves() {
        let w = world_of(&secret(
            "app",
            "cert",
            &format!(
                "stringData: {{tls.crt: \"{PEM}\", tls.key: \"{}\"}}",
                PEM.replace("CERTIFICATE", "PRIVATE KEY")
            ),
        ));
        let pem = certificate(&w, &https(vec![secret_ref("cert", None)]))
            .unwrap()
            .expect("a certificate");
        assert!(String::from_utf8_lossy(&pem.chain).contains("BEGIN CERTIFICATE"));
        assert!(String::from_utf8_lossy(&pem.key).contains("BEGIN PRIVATE KEY"));
    }

    #[test]
    fn no_tls_or_a_generated_certificate_needs_no_secret() {
        let w = World::default();
        assert!(certificate(&w, &Listener::default()).unwrap().is_none());
        let mut meta = ObjectMeta::default();
        meta.annotations
            .insert(GENERATED_CERT_ANNOTATION.into(), "true".into());
        let l = https(vec![secret_ref("missing", None)]);
        assert!(
            listener_certificate(&w, "app", &meta, &l)
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn certificate_lookups_fail_with_reason_and_message() {
        let w = world_of(
            &(secret(
                "app",
                "nokey",
                &format!("stringData: {{tls.crt: \"{PEM}\"}}"),
            ) + &secret(
                "app",
                "notpem",
                "stringData: {tls.crt: hello, tls.key: hello}",
            ) + &secret(
                "other",
                "far",
                &format!("stringData: {{tls.crt: \"{PEM}\", tls.key: \"{PEM}\"}}"),
            )),
        );
        let invalid = "InvalidCertificateRef";
        assert_eq!(
            failure(&w, &https(vec![])),
            (invalid, "the listener has no certificateRefs".into())
        );
        let configmap = SecretObjectRef {
            kind: Some("ConfigMap".into()),
            ..secret_ref("c", None)
        };
        assert_eq!(
            failure(&w, &https(vec![configmap])),
            (
                invalid,
                "certificateRef /ConfigMap c is not a Secret".into()
            )
        );
        assert_eq!(
            failure(&w, &https(vec![secret_ref("missing", None)])),
            (invalid, "Secret app/missing does not exist".into())
        );
        assert_eq!(
            failure(&w, &https(vec![secret_ref("nokey", None)])),
            (invalid, "Secret app/nokey has no tls.key".into())
        );
        assert_eq!(
            failure(&w, &https(vec![secret_ref("notpem", None)])),
            (invalid, "Secret app/notpem tls.crt is not PEM".into())
        );
        assert_eq!(
            failure(&w, &https(vec![secret_ref("far", Some("other"))])),
            (
                "RefNotPermitted",
                "Secret other/far is in another namespace and no ReferenceGrant allows it".into()
            )
        );
    }
}
