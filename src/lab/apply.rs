//! Server-side apply of plain manifests (field manager `gwlab`, strict field
//! validation), every object labelled as gwlab's, in the order given, and
//! only over objects the lab owns: others' objects are named, not changed.

use std::sync::Mutex;

use kube::Client;
use kube::api::{Api, DynamicObject, Patch};

use super::{LAB_LABEL, LabError, MANAGED_BY};
use crate::ownership::{Created, describe_owner};

pub use crate::kinds::resource;
pub use crate::kube_api::{FIELD_MANAGER, apply_params as params};

/// `Kind namespace/name` of a manifest, for messages.
pub(crate) fn describe(obj: &serde_json::Value) -> String {
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
pub(crate) fn with_labels(
    mut obj: serde_json::Value,
    labels: &[(&str, &str)],
) -> serde_json::Value {
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

/// The lab's ledger while `up` writes: what earlier runs of `up` created
/// (from the lab state), what this one creates, and whether objects of
/// others may be taken over (`--adopt`).
#[derive(Debug, Default)]
pub struct Ledger {
    known: Vec<Created>,
    pub adopt: bool,
    created: Mutex<Vec<Created>>,
    adopted: Mutex<Vec<Created>>,
}

impl Ledger {
    /// A ledger from the lab state: what `up` created and adopted before.
    pub fn new(known: Vec<Created>, adopted: Vec<Created>, adopt: bool) -> Ledger {
        Ledger {
            known,
            adopt,
            adopted: Mutex::new(adopted),
            ..Default::default()
        }
    }

    /// Whether `existing` is an object gwlab created for this lab.
    pub(crate) fn is_ours(&self, existing: &DynamicObject) -> bool {
        let uid = existing.metadata.uid.as_deref();
        self.known
            .iter()
            .chain(self.created.lock().expect("ledger").iter())
            .chain(self.adopted.lock().expect("ledger").iter())
            .any(|c| Some(c.uid.as_str()) == uid)
    }

    /// Everything gwlab now holds for the lab: what it created, oldest first.
    pub fn created(&self) -> Vec<Created> {
        let mut all = self.known.clone();
        for c in self.created.lock().expect("ledger").iter() {
            if !all.iter().any(|k| k.uid == c.uid) {
                all.push(c.clone());
            }
        }
        all
    }

    /// Objects taken over with `--adopt`, now and before (kept by `gwlab down`).
    pub fn adopted(&self) -> Vec<Created> {
        self.adopted.lock().expect("ledger").clone()
    }
}

/// An object `up` would write that someone else owns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Foreign {
    pub object: String,
    pub owner: String,
}

impl std::fmt::Display for Foreign {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.object, self.owner)
    }
}

fn api_for(client: &Client, obj: &serde_json::Value) -> Result<Api<DynamicObject>, LabError> {
    let what = describe(obj);
    let id = identity(obj);
    let (ar, namespaced) = resource(&id.api_version, &id.kind).ok_or_else(|| {
        LabError::Refused(format!(
            "{what}: gwlab does not install {} {}",
            id.api_version, id.kind
        ))
    })?;
    // A namespaced object without a namespace goes where kubectl puts it.
    let namespace = id.namespace.as_deref().or(Some("default"));
    Ok(crate::kube_api::dynamic_api(
        client, &ar, namespaced, namespace,
    ))
}

/// The object as it is on the cluster, if it exists (a kind the cluster does
/// not serve yet, as before its CRD, has no objects).
pub async fn existing(
    client: &Client,
    obj: &serde_json::Value,
) -> Result<Option<DynamicObject>, LabError> {
    let api = api_for(client, obj)?;
    let name = identity(obj).name;
    match crate::kube_api::retrying(crate::kube_api::TRANSIENT_BUDGET, || api.get(&name)).await {
        Ok(o) => Ok(Some(o)),
        Err(e) if crate::kube_api::is_not_found(&e) => Ok(None),
        Err(e) => Err(LabError::kube(format!("cannot read {}", describe(obj)))(e)),
    }
}

fn is_namespace(obj: &serde_json::Value) -> bool {
    obj.get("kind").and_then(|k| k.as_str()) == Some("Namespace")
}

/// The objects among `docs` that exist and are not the lab's, read before
/// anything is written. Existing namespaces are not among them: gwlab puts
/// its objects in them and leaves them as they are.
pub async fn foreign(
    client: &Client,
    ledger: &Ledger,
    docs: &[serde_json::Value],
) -> Result<Vec<Foreign>, LabError> {
    let mut out = Vec::new();
    for doc in docs.iter().filter(|d| !is_namespace(d)) {
        if let Some(o) = existing(client, doc).await?
            && !ledger.is_ours(&o)
        {
            out.push(Foreign {
                object: describe(doc),
                owner: describe_owner(&o),
            });
        }
    }
    Ok(out)
}

/// Applies one object as gwlab's (labelled with the lab): created and
/// recorded when it is new, updated when the lab owns it, taken over only
/// with `--adopt`, and otherwise refused without a write.
pub async fn apply(
    client: &Client,
    lab: &str,
    ledger: &Ledger,
    obj: serde_json::Value,
) -> Result<(), LabError> {
    apply_as(client, lab, ledger, obj, ledger.adopt).await
}

/// [`apply`], taking over another owner's object when `take_over`.
pub async fn apply_as(
    client: &Client,
    lab: &str,
    ledger: &Ledger,
    obj: serde_json::Value,
    take_over: bool,
) -> Result<(), LabError> {
    let what = describe(&obj);
    let id = identity(&obj);
    let before = existing(client, &obj).await?;
    if let Some(o) = &before
        && is_namespace(&obj)
        && !ledger.is_ours(o)
    {
        // Someone's namespace is used as it is, never relabelled or deleted.
        return Ok(());
    }
    let adopting = match &before {
        Some(o) if !ledger.is_ours(o) => {
            if !take_over {
                return Err(LabError::NotOurs {
                    objects: vec![Foreign {
                        object: what,
                        owner: describe_owner(o),
                    }],
                });
            }
            true
        }
        _ => false,
    };
    let obj = with_labels(obj, &[MANAGED_BY, (LAB_LABEL, lab)]);
    let mut pp = params();
    pp.force = adopting;
    let api = api_for(client, &obj)?;
    let patch = Patch::Apply(&obj);
    let after = crate::kube_api::retrying(crate::kube_api::TRANSIENT_BUDGET, || {
        api.patch(&id.name, &pp, &patch)
    })
    .await
    .map_err(LabError::kube(format!("cannot apply {what}")))?;
    if let Some(c) = Created::of(&id.api_version, &id.kind, &after) {
        match (&before, adopting) {
            (None, _) => ledger.created.lock().expect("ledger").push(c),
            (Some(_), true) => {
                let mut adopted = ledger.adopted.lock().expect("ledger");
                if !adopted.iter().any(|a| a.uid == c.uid) {
                    adopted.push(c);
                }
            }
            (Some(_), false) => {}
        }
    }
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
