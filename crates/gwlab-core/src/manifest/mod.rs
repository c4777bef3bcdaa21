//! Kubernetes manifests of a scenario: multi-document YAML, each object kept with
//! the file and line it came from. Gateway API kinds are typed and checked
//! structurally, the core kinds a scenario brings are type-checked, other
//! kinds are kept as they are.

mod core_kinds;
pub(crate) mod gateway_api;
pub(crate) mod meta;
mod validate;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::diag::Diagnostic;
use crate::yaml;
use gateway_api::{Gateway, GatewayClass, HttpRoute, ReferenceGrant};
use meta::ObjectMeta;

pub const GATEWAY_GROUP: &str = "gateway.networking.k8s.io";

/// One object of a manifest file.
#[derive(Debug, Clone)]
pub struct Manifest {
    pub file: PathBuf,
    /// 1-based line of the document's first line in `file`.
    pub line: u64,
    pub api_version: String,
    pub kind: String,
    pub name: String,
    /// As written; `None` means "the scenario namespace" for namespaced kinds.
    pub namespace: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub object: Object,
    /// The document as data, for targets that send it on unchanged.
    pub raw: serde_json::Value,
}

impl Manifest {
    /// `Kind/name` (with namespace when written), for messages.
    pub fn display_name(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{}/{} in namespace {ns}", self.kind, self.name),
            None => format!("{}/{}", self.kind, self.name),
        }
    }

    pub fn is_cluster_scoped(&self) -> bool {
        is_cluster_scoped(&self.kind)
    }

    /// Converts a line inside this document to a line of the file.
    pub(crate) fn file_line(&self, doc_line: u64) -> u64 {
        doc_line + self.line - 1
    }

    /// The line of the file where rule `index` of an HTTPRoute starts
    /// (`None` for another kind, or a rule it does not have).
    pub fn rule_line(&self, index: usize) -> Option<u64> {
        let Object::HttpRoute(r) = &self.object else {
            return None;
        };
        let rule = r.spec.rules.as_ref()?.get(index)?;
        Some(self.file_line(rule.referenced.line()))
    }
}

pub use crate::kinds::is_cluster_scoped;
pub use validate::{METHODS, path_problem};

/// The typed content of a manifest, for the kinds gwlab gives meaning to.
#[derive(Debug, Clone)]
pub enum Object {
    HttpRoute(Box<HttpRoute>),
    Gateway(Box<Gateway>),
    GatewayClass(Box<GatewayClass>),
    ReferenceGrant(Box<ReferenceGrant>),
    Service(ServiceInfo),
    Namespace,
    Secret(SecretInfo),
    Other,
}

/// What the embedded gateway needs of a Service: its ports.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServiceInfo {
    pub ports: Vec<u16>,
}

/// A Secret's `data`/`stringData`, for TLS certificates.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SecretInfo {
    pub type_: Option<String>,
    pub data: BTreeMap<String, String>,
    pub string_data: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Head {
    api_version: Option<String>,
    kind: Option<String>,
    metadata: Option<serde_json::Value>,
}

/// Reads every object of a manifest file. All problems are returned, not only the first.
pub fn load_file(path: &Path) -> Result<Vec<Manifest>, Vec<Diagnostic>> {
    let text = crate::files::read_to_string(path)
        .map_err(|e| vec![Diagnostic::new(path, None, e.to_string())])?;
    parse_text(path, &text)
}

/// Parses manifest text (as if read from `path`).
pub fn parse_text(path: &Path, text: &str) -> Result<Vec<Manifest>, Vec<Diagnostic>> {
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for doc in yaml::split_documents(text) {
        match parse_document(path, &doc) {
            Ok(m) => out.push(m),
            Err(mut d) => problems.append(&mut d),
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

fn parse_document(path: &Path, doc: &yaml::Document<'_>) -> Result<Manifest, Vec<Diagnostic>> {
    let raw = yaml::parse_value(path, doc).map_err(|d| vec![d])?;
    let at = Some(doc.first_line);
    let (api_version, kind, meta_value) = head(path, at, &raw)?;
    let (group, version) = match api_version.split_once('/') {
        Some((g, v)) => (g, v),
        None => ("", api_version.as_str()),
    };

    let object = match (group, kind.as_str()) {
        (GATEWAY_GROUP, _) => parse_gateway_api(path, doc, version, &kind)?,
        ("", "Service") if version == "v1" => Object::Service(service_info(&raw)),
        ("", "Namespace") if version == "v1" => Object::Namespace,
        ("", "Secret") if version == "v1" => Object::Secret(secret_info(&raw)),
        _ => Object::Other,
    };
    let meta = metadata(path, at, &object, meta_value)?;
    let name = named(path, at, &kind, &meta)?;
    core_kinds::check(path, doc, &api_version, &kind, &raw)?;

    let manifest = Manifest {
        file: path.to_path_buf(),
        line: doc.first_line,
        api_version,
        kind,
        name,
        namespace: meta.namespace,
        labels: meta.labels,
        object,
        raw,
    };
    let problems = validate::check(&manifest);
    if problems.is_empty() {
        Ok(manifest)
    } else {
        Err(problems)
    }
}

/// A document's apiVersion, kind and metadata (as written), each required
/// but the metadata.
fn head(
    path: &Path,
    at: Option<u64>,
    raw: &serde_json::Value,
) -> Result<(String, String, serde_json::Value), Vec<Diagnostic>> {
    if !raw.is_object() {
        return Err(vec![Diagnostic::new(
            path,
            at,
            "a manifest document must be a mapping with apiVersion, kind and metadata",
        )]);
    }
    let head: Head = serde_json::from_value(raw.clone())
        .map_err(|e| vec![Diagnostic::new(path, at, e.to_string())])?;
    let api_version = head.api_version.ok_or_else(|| {
        vec![Diagnostic::new(path, at, "the object has no apiVersion").field("apiVersion")]
    })?;
    let kind = head
        .kind
        .ok_or_else(|| vec![Diagnostic::new(path, at, "the object has no kind").field("kind")])?;
    Ok((
        api_version,
        kind,
        head.metadata.unwrap_or(serde_json::Value::Null),
    ))
}

/// The object's metadata, checked for every kind: `lables:` must not pass.
fn metadata(
    path: &Path,
    at: Option<u64>,
    object: &Object,
    meta_value: serde_json::Value,
) -> Result<ObjectMeta, Vec<Diagnostic>> {
    Ok(match object {
        Object::HttpRoute(r) => r.metadata.clone(),
        Object::Gateway(g) => g.metadata.clone(),
        Object::GatewayClass(g) => g.metadata.clone(),
        Object::ReferenceGrant(g) => g.metadata.clone(),
        _ => serde_json::from_value(meta_value).map_err(|e| {
            vec![
                Diagnostic::new(path, at, format!("invalid metadata: {e}"))
                    .field("metadata")
                    .hint("metadata takes name, namespace, labels and annotations"),
            ]
        })?,
    })
}

/// The object's name; and no namespace on a cluster-scoped kind.
fn named(
    path: &Path,
    at: Option<u64>,
    kind: &str,
    meta: &ObjectMeta,
) -> Result<String, Vec<Diagnostic>> {
    let name = meta.name.clone().ok_or_else(|| {
        vec![
            Diagnostic::new(path, at, format!("the {kind} has no metadata.name"))
                .field("metadata.name")
                .hint("gwlab applies manifests as written and needs a name to track and delete each object"),
        ]
    })?;
    if is_cluster_scoped(kind) && meta.namespace.is_some() {
        return Err(vec![
            Diagnostic::new(
                path,
                at,
                format!("a {kind} is cluster-scoped and takes no namespace"),
            )
            .field("metadata.namespace"),
        ]);
    }
    Ok(name)
}

fn parse_gateway_api(
    path: &Path,
    doc: &yaml::Document<'_>,
    version: &str,
    kind: &str,
) -> Result<Object, Vec<Diagnostic>> {
    if !GATEWAY_KINDS.contains(&kind) {
        return Err(vec![unknown_gateway_kind(path, doc, kind)]);
    }
    let served = match kind {
        "HTTPRoute" | "Gateway" | "GatewayClass" => matches!(version, "v1" | "v1beta1"),
        "ReferenceGrant" => version == "v1beta1",
        "GRPCRoute" => version == "v1",
        _ => false,
    };
    if !served {
        return Err(vec![
            Diagnostic::new(
                path,
                Some(doc.first_line),
                format!("{GATEWAY_GROUP}/{version} {kind} is not part of the Gateway API v1.2.1 standard channel"),
            )
            .field("apiVersion")
            .hint("use gateway.networking.k8s.io/v1 for HTTPRoute, Gateway, GatewayClass and GRPCRoute, and v1beta1 for ReferenceGrant"),
        ]);
    }
    let one = |d| vec![d];
    Ok(match kind {
        "HTTPRoute" => Object::HttpRoute(Box::new(yaml::parse(path, doc).map_err(one)?)),
        "Gateway" => Object::Gateway(Box::new(yaml::parse(path, doc).map_err(one)?)),
        "GatewayClass" => Object::GatewayClass(Box::new(yaml::parse(path, doc).map_err(one)?)),
        "ReferenceGrant" => Object::ReferenceGrant(Box::new(yaml::parse(path, doc).map_err(one)?)),
        _ => Object::Other,
    })
}

/// Every kind of the Gateway API group (v1.2, both channels).
const GATEWAY_KINDS: &[&str] = &[
    "BackendLBPolicy",
    "BackendTLSPolicy",
    "GRPCRoute",
    "Gateway",
    "GatewayClass",
    "HTTPRoute",
    "ReferenceGrant",
    "TCPRoute",
    "TLSRoute",
    "UDPRoute",
];

/// A `kind` the Gateway API group does not have, reported on `kind` (not on
/// `apiVersion`, which is right): kinds are case-sensitive, so `HttpRoute`
/// is the usual mistake.
fn unknown_gateway_kind(path: &Path, doc: &yaml::Document<'_>, kind: &str) -> Diagnostic {
    let line = (doc.first_line..)
        .zip(doc.text.lines())
        .find(|(_, l)| l.trim_start().starts_with("kind:"))
        .map_or(doc.first_line, |(n, _)| n);
    let d = Diagnostic::new(
        path,
        Some(line),
        format!("`{kind}` is not a kind of the Gateway API ({GATEWAY_GROUP})"),
    )
    .field("kind");
    match GATEWAY_KINDS.iter().find(|k| k.eq_ignore_ascii_case(kind)) {
        Some(k) => d.hint(format!("kinds are case-sensitive: write `kind: {k}`")),
        None => d.hint(format!(
            "the group's kinds are {}",
            GATEWAY_KINDS.join(", ")
        )),
    }
}

fn service_info(raw: &serde_json::Value) -> ServiceInfo {
    let ports = raw
        .pointer("/spec/ports")
        .and_then(|p| p.as_array())
        .map(|ports| {
            ports
                .iter()
                .filter_map(|p| p.get("port").and_then(|n| n.as_u64()))
                .filter_map(|n| u16::try_from(n).ok())
                .collect()
        })
        .unwrap_or_default();
    ServiceInfo { ports }
}

fn secret_info(raw: &serde_json::Value) -> SecretInfo {
    let map = |key: &str| -> BTreeMap<String, String> {
        raw.get(key)
            .and_then(|v| v.as_object())
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
                    .collect()
            })
            .unwrap_or_default()
    };
    SecretInfo {
        type_: raw.get("type").and_then(|t| t.as_str()).map(String::from),
        data: map("data"),
        string_data: map("stringData"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Vec<Manifest>, Vec<Diagnostic>> {
        parse_text(Path::new("m.yaml"), text)
    }

    #[test]
    fn backend_ref_typo_is_an_error_at_its_line() {
        let text = "\
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: r
spec:
  parentRefs: [{name: kong, namespace: kong-system}]
  rules:
  - backendRef:
    - name: app
      port: 8080
";
        let errs = parse(text).unwrap_err();
        assert_eq!(errs.len(), 1);
        assert!(errs[0].message.contains("backendRef"), "{}", errs[0]);
        assert_eq!(errs[0].line, Some(8), "{}", errs[0]);
    }

    #[test]
    fn metadata_typo_is_an_error_for_any_kind() {
        let text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  lables: {a: b}\n";
        let errs = parse(text).unwrap_err();
        assert!(errs[0].message.contains("lables"), "{}", errs[0]);
    }

    #[test]
    fn several_documents_keep_their_lines() {
        let text = "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  ports: [{port: 8080}]\n";
        let ms = parse(text).unwrap();
        assert_eq!(ms.len(), 2);
        assert_eq!(ms[1].line, 5);
        match &ms[1].object {
            Object::Service(s) => assert_eq!(s.ports, vec![8080]),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn experimental_kinds_are_named_as_such() {
        let text = "apiVersion: gateway.networking.k8s.io/v1alpha2\nkind: TCPRoute\nmetadata: {name: t}\nspec: {}\n";
        let errs = parse(text).unwrap_err();
        assert!(errs[0].message.contains("standard channel"), "{}", errs[0]);
    }

    #[test]
    fn a_misspelt_gateway_kind_is_blamed_on_kind() {
        let errs = parse(
            "apiVersion: gateway.networking.k8s.io/v1\nmetadata: {name: a}\nkind: HttpRoute\n",
        )
        .unwrap_err();
        assert_eq!(errs[0].field.as_deref(), Some("kind"), "{errs:?}");
        assert_eq!(errs[0].line, Some(3));
        assert_eq!(
            errs[0].hint.as_deref(),
            Some("kinds are case-sensitive: write `kind: HTTPRoute`")
        );
    }

    #[test]
    fn missing_name_is_an_error() {
        let errs = parse("apiVersion: v1\nkind: Service\nmetadata: {}\n").unwrap_err();
        assert_eq!(errs[0].field.as_deref(), Some("metadata.name"));
    }
}
