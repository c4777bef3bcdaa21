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

    pub(crate) fn same_object(
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

/// The field managers that wrote an object, sorted, each once.
pub fn field_managers(obj: &DynamicObject) -> Vec<String> {
    let mut managers: Vec<String> = obj
        .metadata
        .managed_fields
        .iter()
        .flatten()
        .filter_map(|m| m.manager.clone())
        .collect();
    managers.sort();
    managers.dedup();
    managers
}

/// Who an object seems to belong to, for messages: its managed-by label and
/// the field managers that wrote it.
/// The run whose leftover `obj` is: its `gwlab.dev/run` label, when gwlab
/// labelled it as its own (`app.kubernetes.io/managed-by: gwlab`).
pub(crate) fn earlier_run(obj: &DynamicObject) -> Option<String> {
    let labels = obj.metadata.labels.as_ref()?;
    (labels
        .get("app.kubernetes.io/managed-by")
        .map(String::as_str)
        == Some("gwlab"))
    .then(|| labels.get(crate::targets::cluster::RUN_LABEL).cloned())
    .flatten()
}

pub(crate) fn describe_owner(obj: &DynamicObject) -> String {
    let managed_by = obj
        .metadata
        .labels
        .as_ref()
        .and_then(|l| l.get("app.kubernetes.io/managed-by"))
        .map(|m| format!("app.kubernetes.io/managed-by: {m}"));
    let managers = field_managers(obj);
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

/// What deleting recorded objects did.
#[derive(Debug, Default)]
pub struct Removal {
    pub deleted: Vec<String>,
    /// Left in place, with the reason.
    pub kept: Vec<String>,
    pub failed: Vec<String>,
}

/// Deletes the recorded objects, newest first, each by UID (an object of the
/// same name that someone else made since is left alone). CRDs are kept
/// unless `crds`; a namespace is kept while it holds objects that are not in
/// the record.
pub(crate) async fn delete_recorded(
    client: &kube::Client,
    objects: &[Created],
    crds: bool,
) -> Removal {
    let mut out = Removal::default();
    for c in objects.iter().rev() {
        if c.kind == "CustomResourceDefinition" && !crds {
            out.kept
                .push(format!("{} (CRDs stay unless --crds)", c.display()));
            continue;
        }
        if c.kind == "Namespace" {
            match others_in_namespace(client, &c.name, objects).await {
                Ok(others) if !others.is_empty() => {
                    out.kept.push(format!(
                        "{} (it holds objects gwlab did not create: {})",
                        c.display(),
                        others.join(", ")
                    ));
                    continue;
                }
                Ok(_) => {}
                Err(e) => {
                    out.failed.push(format!(
                        "cannot look into {}: {}",
                        c.display(),
                        crate::kube_api::sentence(&e)
                    ));
                    continue;
                }
            }
        }
        match delete_one(client, c).await {
            Ok(true) => out.deleted.push(c.display()),
            Ok(false) => out.kept.push(format!(
                "{} (gone, or replaced by someone else's object)",
                c.display()
            )),
            Err(e) => out.failed.push(format!(
                "cannot delete {}: {}",
                c.display(),
                crate::kube_api::sentence(&e)
            )),
        }
    }
    out
}

/// Deletes one recorded object; `false` when it is gone or is not the one recorded.
async fn delete_one(client: &kube::Client, c: &Created) -> Result<bool, kube::Error> {
    use kube::api::{DeleteParams, Preconditions};
    let Some((ar, namespaced)) = crate::kinds::resource(&c.api_version, &c.kind) else {
        return Ok(false);
    };
    let api = crate::kube_api::dynamic_api(client, &ar, namespaced, c.namespace.as_deref());
    let dp = DeleteParams {
        preconditions: Some(Preconditions {
            uid: Some(c.uid.clone()),
            resource_version: None,
        }),
        ..DeleteParams::background()
    };
    match api.delete(&c.name, &dp).await {
        Ok(_) => Ok(true),
        Err(e) => match crate::kube_api::fault(&e) {
            crate::kube_api::Fault::NotFound | crate::kube_api::Fault::Conflict => Ok(false),
            _ => Err(e),
        },
    }
}

/// What the cluster itself puts in every namespace, by kind and name: the
/// root CA ConfigMap, OpenShift's service CA ConfigMap, the default
/// ServiceAccount.
const PER_NAMESPACE: &[(&str, &str)] = &[
    ("ConfigMap", "kube-root-ca.crt"),
    ("ConfigMap", "openshift-service-ca.crt"),
    ("ServiceAccount", "default"),
];

/// The field managers of the cluster's own controllers.
const CLUSTER_MANAGERS: &[&str] = &[
    "kube-controller-manager",
    "kube-apiserver",
    "openshift-controller-manager",
    "service-ca-operator",
];

/// Whether an object is one the cluster makes in every namespace: its kind
/// and name say so, and only the cluster's controllers wrote it.
fn made_by_the_cluster(kind: &str, o: &DynamicObject) -> bool {
    let name = o.metadata.name.as_deref().unwrap_or_default();
    PER_NAMESPACE.contains(&(kind, name))
        && o.metadata
            .managed_fields
            .iter()
            .flatten()
            .filter_map(|m| m.manager.as_deref())
            .all(|m| CLUSTER_MANAGERS.contains(&m))
}

/// Objects in a namespace that are neither recorded nor made by Kubernetes
/// itself for every namespace nor owned by another object.
async fn others_in_namespace(
    client: &kube::Client,
    namespace: &str,
    recorded: &[Created],
) -> Result<Vec<String>, kube::Error> {
    use kube::api::{Api, ListParams};
    let mut others = Vec::new();
    for info in crate::kinds::KINDS.iter().filter(|k| k.namespaced) {
        let (ar, _) = crate::kinds::api_resource(info);
        let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), namespace, &ar);
        let list = match api.list(&ListParams::default()).await {
            Ok(l) => l,
            Err(e) if crate::kube_api::is_not_found(&e) => continue,
            Err(e) => return Err(e),
        };
        for o in list {
            let name = o.metadata.name.clone().unwrap_or_default();
            let uid = o.metadata.uid.clone().unwrap_or_default();
            let automatic = made_by_the_cluster(info.kind, &o);
            let owned = o
                .metadata
                .owner_references
                .as_ref()
                .is_some_and(|r| !r.is_empty());
            if !automatic && !owned && !recorded.iter().any(|c| c.uid == uid) {
                others.push(format!("{} {name}", info.kind));
            }
        }
    }
    Ok(others)
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

    #[test]
    fn what_the_cluster_makes_in_every_namespace_is_known_by_name_and_writer() {
        let cm = |name: &str, manager: &str| {
            obj(serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": name, "namespace": "n",
                    "managedFields": [{"manager": manager, "operation": "Update"}]}}))
        };
        assert!(made_by_the_cluster(
            "ConfigMap",
            &cm("kube-root-ca.crt", "kube-controller-manager")
        ));
        assert!(made_by_the_cluster(
            "ConfigMap",
            &cm("openshift-service-ca.crt", "kube-controller-manager")
        ));
        assert!(
            !made_by_the_cluster("ConfigMap", &cm("openshift-service-ca.crt", "kubectl")),
            "a user wrote it"
        );
        assert!(!made_by_the_cluster(
            "ConfigMap",
            &cm("users-own", "kube-controller-manager")
        ));
        assert!(!made_by_the_cluster(
            "Secret",
            &cm("kube-root-ca.crt", "kube-controller-manager")
        ));
    }
}
