//! What `gwlab migrate` reads: Ingress objects and Kong plugin objects, leniently
//! (they come from live clusters, with status and fields gwlab does not need).

use std::collections::BTreeMap;

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub struct Ingress {
    pub metadata: Meta,
    #[serde(default)]
    pub spec: IngressSpec,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Meta {
    pub name: String,
    pub namespace: Option<String>,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IngressSpec {
    pub ingress_class_name: Option<String>,
    pub default_backend: Option<IngressBackend>,
    #[serde(default)]
    pub rules: Vec<IngressRule>,
    #[serde(default)]
    pub tls: Vec<IngressTls>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct IngressRule {
    pub host: Option<String>,
    pub http: Option<HttpRuleValue>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct HttpRuleValue {
    #[serde(default)]
    pub paths: Vec<HttpPath>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpPath {
    pub path: Option<String>,
    pub path_type: Option<String>,
    pub backend: IngressBackend,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct IngressBackend {
    pub service: Option<ServiceBackend>,
    pub resource: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ServiceBackend {
    pub name: String,
    pub port: Option<ServicePort>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ServicePort {
    pub number: Option<u16>,
    pub name: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IngressTls {
    #[serde(default)]
    pub hosts: Vec<String>,
    pub secret_name: Option<String>,
}

/// A KongPlugin or KongClusterPlugin.
#[derive(Debug, Clone, Deserialize)]
pub struct KongPlugin {
    pub metadata: Meta,
    pub plugin: String,
    #[serde(default)]
    pub config: serde_json::Value,
    #[serde(default)]
    pub disabled: bool,
}

/// A Service's ports, to resolve named Ingress ports.
#[derive(Debug, Clone, Deserialize)]
pub struct Service {
    pub metadata: Meta,
    #[serde(default)]
    pub spec: ServiceSpec,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ServiceSpec {
    #[serde(default)]
    pub ports: Vec<ServicePortSpec>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ServicePortSpec {
    pub name: Option<String>,
    pub port: u16,
}
