//! Server-side apply of plain manifests (field manager `gwlab`, strict field
//! validation), every object labelled as gwlab's, in the order given.

use kube::Client;
use kube::api::{Api, DynamicObject, Patch, PatchParams, ValidationDirective};

use super::{LAB_LABEL, LabError, MANAGED_BY};

pub const FIELD_MANAGER: &str = "gwlab";

pub use crate::kinds::resource;

pub fn params() -> PatchParams {
    PatchParams {
        field_manager: Some(FIELD_MANAGER.into()),
        force: true,
        field_validation: Some(ValidationDirective::Strict),
        ..Default::default()
    }
}

/// `Kind namespace/name` of a manifest, for messages.
pub fn describe(obj: &serde_json::Value) -> String {
    let kind = obj.get("kind").and_then(|k| k.as_str()).unwrap_or("?");
    let name = obj
        .pointer("/metadata/name")
        .and_then(|n| n.as_str())
        .unwrap_or("?");
    match obj.pointer("/metadata/namespace").and_then(|n| n.as_str()) {
        Some(ns) => format!("{kind} {ns}/{name}"),
        None => format!("{kind} {name}"),
    }
}

/// What names an object: apiVersion, kind, name and namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub api_version: String,
    pub kind: String,
    pub name: String,
    pub namespace: Option<String>,
}

pub fn identity(obj: &serde_json::Value) -> Identity {
    let text = |p: &str| obj.pointer(p).and_then(|v| v.as_str()).map(String::from);
    Identity {
        api_version: text("/apiVersion").unwrap_or_default(),
        kind: text("/kind").unwrap_or_default(),
        name: text("/metadata/name").unwrap_or_default(),
        namespace: text("/metadata/namespace"),
    }
}

/// The object with these labels added to its metadata.
pub fn with_labels(mut obj: serde_json::Value, labels: &[(&str, &str)]) -> serde_json::Value {
    if let Some(meta) = obj.get_mut("metadata").and_then(|m| m.as_object_mut()) {
        let existing = meta
            .entry("labels")
            .or_insert_with(|| serde_json::json!({}));
        if let Some(l) = existing.as_object_mut() {
            for (k, v) in labels {
                l.insert((*k).into(), (*v).into());
            }
        }
    }
    obj
}

/// Applies one object as gwlab's (labelled with the lab).
pub async fn apply(client: &Client, lab: &str, obj: serde_json::Value) -> Result<(), LabError> {
    let what = describe(&obj);
    let id = identity(&obj);
    let (ar, namespaced) = resource(&id.api_version, &id.kind).ok_or_else(|| {
        LabError::Refused(format!(
            "{what}: gwlab does not install {} {}",
            id.api_version, id.kind
        ))
    })?;
    let obj = with_labels(obj, &[MANAGED_BY, (LAB_LABEL, lab)]);
    let api: Api<DynamicObject> = if namespaced {
        Api::namespaced_with(
            client.clone(),
            id.namespace.as_deref().unwrap_or("default"),
            &ar,
        )
    } else {
        Api::all_with(client.clone(), &ar)
    };
    api.patch(&id.name, &params(), &Patch::Apply(&obj))
        .await
        .map_err(LabError::kube(format!("cannot apply {what}")))?;
    Ok(())
}

/// Parses a multi-document manifest into objects (empty documents dropped).
pub fn documents(text: &str, source: &str) -> Result<Vec<serde_json::Value>, LabError> {
    let mut out = Vec::new();
    for doc in crate::yaml::split_documents(text) {
        let v = crate::yaml::parse_value(std::path::Path::new(source), &doc)
            .map_err(|d| LabError::Refused(d.to_string()))?;
        if !v.is_null() {
            out.push(v);
        }
    }
    Ok(out)
}
