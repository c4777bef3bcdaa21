//! `metadata` of any object, with the fields Kubernetes accepts in a manifest.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ObjectMeta {
    pub name: Option<String>,
    pub generate_name: Option<String>,
    pub namespace: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    // Fields a `kubectl get -o yaml` copy carries; accepted and ignored.
    #[serde(default, skip_serializing)]
    pub finalizers: Option<serde_json::Value>,
    #[serde(default, skip_serializing)]
    pub owner_references: Option<serde_json::Value>,
    #[serde(default, skip_serializing)]
    pub creation_timestamp: Option<serde_json::Value>,
    #[serde(default, skip_serializing)]
    pub resource_version: Option<serde_json::Value>,
    #[serde(default, skip_serializing)]
    pub uid: Option<serde_json::Value>,
    #[serde(default, skip_serializing)]
    pub generation: Option<serde_json::Value>,
    #[serde(default, skip_serializing)]
    pub managed_fields: Option<serde_json::Value>,
    #[serde(default, skip_serializing)]
    pub deletion_grace_period_seconds: Option<serde_json::Value>,
    #[serde(default, skip_serializing)]
    pub deletion_timestamp: Option<serde_json::Value>,
    #[serde(default, skip_serializing)]
    pub self_link: Option<serde_json::Value>,
}
