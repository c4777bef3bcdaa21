//! The Kubernetes core kinds a scenario may bring beside its Gateway API
//! objects. gwlab passes them to the target as written, so they are checked
//! here against the Kubernetes types: a Secret whose `data` is not base64
//! text, or a ConfigMap value that is a map, is reported by `gwlab check`
//! rather than by the API server (or the embedded gateway) in the middle of a
//! run. Unknown top-level fields are errors too; the types below ignore them.

use std::path::Path;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Secret, Service, ServiceAccount};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde::de::DeserializeOwned;

use crate::diag::Diagnostic;
use crate::yaml;

/// A kind checked here: its API version, name, the top-level fields it has
/// besides apiVersion, kind and metadata, and its check.
struct CoreKind {
    api_version: &'static str,
    kind: &'static str,
    fields: &'static [&'static str],
    check: fn(&Path, &yaml::Document<'_>) -> Result<(), Diagnostic>,
}

const KINDS: &[CoreKind] = &[
    CoreKind {
        api_version: "v1",
        kind: "Namespace",
        fields: &["spec", "status"],
        check: typed::<Namespace>,
    },
    CoreKind {
        api_version: "v1",
        kind: "ConfigMap",
        fields: &["data", "binaryData", "immutable"],
        check: typed::<ConfigMap>,
    },
    CoreKind {
        api_version: "v1",
        kind: "Secret",
        fields: &["data", "stringData", "type", "immutable"],
        check: typed::<Secret>,
    },
    CoreKind {
        api_version: "v1",
        kind: "Service",
        fields: &["spec", "status"],
        check: service,
    },
    CoreKind {
        api_version: "v1",
        kind: "ServiceAccount",
        fields: &[
            "secrets",
            "imagePullSecrets",
            "automountServiceAccountToken",
        ],
        check: typed::<ServiceAccount>,
    },
    CoreKind {
        api_version: "apps/v1",
        kind: "Deployment",
        fields: &["spec", "status"],
        check: typed::<Deployment>,
    },
];

/// Checks a document of one of the core kinds above; other kinds pass.
pub(super) fn check(
    path: &Path,
    doc: &yaml::Document<'_>,
    api_version: &str,
    kind: &str,
    raw: &serde_json::Value,
) -> Result<(), Vec<Diagnostic>> {
    let Some(k) = KINDS
        .iter()
        .find(|k| k.api_version == api_version && k.kind == kind)
    else {
        return Ok(());
    };
    let mut problems = Vec::new();
    for key in raw.as_object().into_iter().flat_map(|o| o.keys()) {
        if !matches!(key.as_str(), "apiVersion" | "kind" | "metadata")
            && !k.fields.contains(&key.as_str())
        {
            problems.push(
                Diagnostic::new(
                    path,
                    Some(doc.first_line),
                    format!("a {kind} has no field `{key}`"),
                )
                .field(key.clone())
                .hint(format!(
                    "a {kind} has apiVersion, kind, metadata and {}",
                    k.fields.join(", ")
                )),
            );
        }
    }
    if let Err(d) = (k.check)(path, doc) {
        problems.push(d);
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

/// The document read as the Kubernetes type `T`, at its lines.
fn typed<T: DeserializeOwned>(path: &Path, doc: &yaml::Document<'_>) -> Result<(), Diagnostic> {
    yaml::parse::<T>(path, doc).map(|_| ())
}

/// A Service: its type, and its port numbers within 1-65535 (the API
/// server's rule; the type says only `int32`).
fn service(path: &Path, doc: &yaml::Document<'_>) -> Result<(), Diagnostic> {
    let svc: Service = yaml::parse(path, doc)?;
    let ports = svc.spec.iter().flat_map(|s| s.ports.iter().flatten());
    for (i, p) in ports.enumerate() {
        let target = match &p.target_port {
            Some(IntOrString::Int(n)) => Some(*n),
            _ => None,
        };
        for (field, n) in [
            ("port", Some(p.port)),
            ("targetPort", target),
            ("nodePort", p.node_port),
        ] {
            if let Some(n) = n
                && !(1..=65535).contains(&n)
            {
                return Err(Diagnostic::new(
                    path,
                    Some(doc.first_line),
                    format!("port {n} is not within 1-65535"),
                )
                .field(format!("spec.ports[{i}].{field}")));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::manifest::parse_text;
    use std::path::Path;

    fn errors(text: &str) -> Vec<String> {
        match parse_text(Path::new("m.yaml"), text) {
            Ok(_) => vec![],
            Err(e) => e.iter().map(|d| d.to_string()).collect(),
        }
    }

    #[test]
    fn a_secret_is_type_checked() {
        // Found by fuzzing: both passed `gwlab check`.
        let e = errors("apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ntype: 12345\n");
        assert!(e.len() == 1 && e[0].starts_with("m.yaml:4:"), "{e:?}");
        let e =
            errors("apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata:\n  tls.crt: {a: 1}\n");
        assert!(e.len() == 1 && e[0].starts_with("m.yaml:5:"), "{e:?}");
        let e =
            errors("apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {a: 'not base64!'}\n");
        assert!(e.len() == 1 && e[0].contains("m.yaml:4:"), "{e:?}");
        let e = errors("apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringdata: {a: b}\n");
        assert!(
            e.len() == 1 && e[0].contains("no field `stringdata`"),
            "{e:?}"
        );
        assert!(
            errors("apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ntype: kubernetes.io/tls\ndata: {tls.crt: aGVsbG8=}\nstringData: {tls.key: x}\n")
                .is_empty()
        );
    }

    #[test]
    fn namespaces_config_maps_and_services_are_type_checked() {
        let e =
            errors("apiVersion: v1\nkind: Namespace\nmetadata: {name: n}\nspec: {finalizers: 3}\n");
        assert_eq!(e.len(), 1, "{e:?}");
        let e = errors("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: [1]}\n");
        assert_eq!(e.len(), 1, "{e:?}");
        let e = errors(
            "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  ports: [{port: 70000}]\n",
        );
        assert!(
            e.len() == 1 && e[0].contains("spec.ports[0].port") && e[0].contains("70000"),
            "{e:?}"
        );
        assert!(
            errors("apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  ports: [{port: 80, targetPort: http}]\n")
                .is_empty()
        );
        assert!(
            errors("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: 'x'}\n")
                .is_empty()
        );
    }
}
