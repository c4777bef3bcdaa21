//! Whose an object is. gwlab changes and deletes only what it created: it
//! looks at an object before writing it, and it records the UID of every
//! object it creates so that copied labels never make someone else's object
//! deletable.

use kube::api::DynamicObject;
use serde::{Deserialize, Serialize};

/// One object gwlab created, as recorded for its later deletion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Created {
    pub api_version: String,
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub name: String,
    pub uid: String,
}

impl Created {
    pub fn of(api_version: &str, kind: &str, obj: &DynamicObject) -> Option<Created> {
        Some(Created {
            api_version: api_version.to_string(),
            kind: kind.to_string(),
            namespace: obj.metadata.namespace.clone(),
            name: obj.metadata.name.clone()?,
            uid: obj.metadata.uid.clone()?,
        })
    }

    /// `Kind namespace/name`.
    pub fn display(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{} {ns}/{}", self.kind, self.name),
            None => format!("{} {}", self.kind, self.name),
        }
    }

    pub fn same_object(
        &self,
        api_version: &str,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
    ) -> bool {
        self.kind == kind
            && self.api_version == api_version
            && self.namespace.as_deref() == namespace
            && self.name == name
    }
}

/// Whether the object carries every one of these labels.
pub fn carries(obj: &DynamicObject, labels: &[(&str, &str)]) -> bool {
    let have = obj.metadata.labels.as_ref();
    labels
        .iter()
        .all(|(k, v)| have.and_then(|l| l.get(*k)).map(String::as_str) == Some(*v))
}

/// Who an object seems to belong to, for messages: its managed-by label and
/// the field managers that wrote it.
pub fn describe_owner(obj: &DynamicObject) -> String {
    let managed_by = obj
        .metadata
        .labels
        .as_ref()
        .and_then(|l| l.get("app.kubernetes.io/managed-by"))
        .map(|m| format!("app.kubernetes.io/managed-by: {m}"));
    let mut managers: Vec<String> = obj
        .metadata
        .managed_fields
        .iter()
        .flatten()
        .filter_map(|m| m.manager.clone())
        .collect();
    managers.sort();
    managers.dedup();
    let managers =
        (!managers.is_empty()).then(|| format!("field managers: {}", managers.join(", ")));
    let parts: Vec<String> = [managed_by, managers].into_iter().flatten().collect();
    if parts.is_empty() {
        "no owner recorded".into()
    } else {
        parts.join("; ")
    }
}

/// The objects one test run created, kept in a file while the run goes on,
/// so that `gwlab clean --run ID` can delete exactly those after a crash or a
/// second Ctrl-C. Shared by the run's targets.
#[derive(Debug)]
pub struct RunRecord {
    pub path: std::path::PathBuf,
    objects: std::sync::Mutex<Vec<Created>>,
}

impl RunRecord {
    pub fn new(path: std::path::PathBuf) -> RunRecord {
        RunRecord {
            path,
            objects: std::sync::Mutex::new(Vec::new()),
        }
    }

    /// The objects recorded in a run's file (none if there is no file).
    pub fn read(path: &std::path::Path) -> Result<Vec<Created>, RecordError> {
        match std::fs::read_to_string(path) {
            Ok(text) => serde_json::from_str(&text).map_err(|source| RecordError::Parse {
                path: path.display().to_string(),
                source,
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(source) => Err(RecordError::Io {
                path: path.display().to_string(),
                source,
            }),
        }
    }

    pub fn add(&self, c: &Created) {
        let mut objects = self.objects.lock().expect("run record");
        objects.push(c.clone());
        self.save(&objects);
    }

    pub fn remove(&self, uid: &str) {
        let mut objects = self.objects.lock().expect("run record");
        objects.retain(|c| c.uid != uid);
        self.save(&objects);
    }

    pub fn objects(&self) -> Vec<Created> {
        self.objects.lock().expect("run record").clone()
    }

    /// Best effort: the record helps a later `gwlab clean`; a run that
    /// cannot write it still cleans up after itself.
    fn save(&self, objects: &[Created]) {
        if objects.is_empty() {
            let _ = std::fs::remove_file(&self.path);
            return;
        }
        if let Some(dir) = self.path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let text = serde_json::to_string_pretty(objects).expect("records serialise");
        let _ = std::fs::write(&self.path, text);
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("cannot read the run record {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the run record {path} is not gwlab's: {source}")]
    Parse {
        path: String,
        #[source]
        source: serde_json::Error,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(v: serde_json::Value) -> DynamicObject {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn owners_are_described_from_labels_and_managers() {
        let o = obj(serde_json::json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "kong", "namespace": "kong-system", "uid": "u1",
                "labels": {"app.kubernetes.io/managed-by": "Helm"},
                "managedFields": [{"manager": "helm", "operation": "Update"}, {"manager": "kubectl", "operation": "Update"}, {"manager": "helm", "operation": "Update"}]}
        }));
        assert_eq!(
            describe_owner(&o),
            "app.kubernetes.io/managed-by: Helm; field managers: helm, kubectl"
        );
        assert!(carries(&o, &[("app.kubernetes.io/managed-by", "Helm")]));
        assert!(!carries(&o, &[("app.kubernetes.io/managed-by", "gwlab")]));
        let c = Created::of("apps/v1", "Deployment", &o).unwrap();
        assert_eq!(c.display(), "Deployment kong-system/kong");
        assert!(c.same_object("apps/v1", "Deployment", Some("kong-system"), "kong"));
        assert!(!c.same_object("apps/v1", "Deployment", None, "kong"));
    }
}
