//! Facts from a recorded cluster state instead of a live API server: a
//! directory of Kubernetes objects as `kubectl get ... -o yaml` writes them
//! (single objects or `List`s, several documents a file) and controller
//! logs as `*.log` files, the way a gwlab diagnostics bundle holds them.
//! The same analysis then runs on them (`gwlab doctor --from DIR`).

use std::path::{Path, PathBuf};

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment};
use k8s_openapi::api::core::v1::{Event, Pod, Service};
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::facts::{Facts, Kic, Workload, is_metallb_controller, today};
use crate::diag::{Diagnostic, Diagnostics};
use crate::lab::addons::{BUNDLE_VERSION, CHANNEL};
use crate::manifest::GATEWAY_GROUP;
use crate::yaml;

/// The log file a diagnostics bundle writes for the controller container.
const BUNDLE_KIC_LOG: &str = "kic.log";

/// Why a recorded state cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum RecordedError {
    #[error("cannot read {}: {source}; give a directory of `kubectl get -o yaml` output", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Bad(#[source] Diagnostics),
    #[error("{} holds no Kubernetes objects (*.yaml, *.yml files of `kubectl get -o yaml` output)", dir.display())]
    Empty { dir: PathBuf },
}

/// Reads every object and log under `dir` into the facts doctor judges.
pub fn read(dir: &Path) -> Result<Facts, RecordedError> {
    let mut files = Vec::new();
    walk(dir, &mut files).map_err(|source| RecordedError::Read {
        path: dir.to_path_buf(),
        source,
    })?;
    files.sort();
    let mut objects = Recorded::default();
    let mut logs = Vec::new();
    let mut problems = Vec::new();
    for path in files {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or_default();
        if !matches!(ext, "yaml" | "yml" | "log") {
            continue;
        }
        let text = std::fs::read_to_string(&path).map_err(|source| RecordedError::Read {
            path: path.clone(),
            source,
        })?;
        if ext == "log" {
            logs.push((path, text));
            continue;
        }
        for doc in yaml::split_documents(&text) {
            match yaml::parse_value(&path, &doc) {
                Ok(v) => {
                    let mut found = Vec::new();
                    flatten(v, &mut found);
                    for o in found {
                        if let Err(d) = objects.add(&path, o) {
                            problems.push(d);
                        }
                    }
                }
                Err(d) => problems.push(d),
            }
        }
    }
    if !problems.is_empty() {
        return Err(RecordedError::Bad(Diagnostics(problems)));
    }
    if objects.count == 0 {
        return Err(RecordedError::Empty {
            dir: dir.to_path_buf(),
        });
    }
    Ok(facts(dir, objects, &logs))
}

/// A `List`'s items, or the object itself.
fn flatten(v: Value, out: &mut Vec<Value>) {
    match v["kind"].as_str() {
        Some("List") => {
            if let Some(items) = v["items"].as_array() {
                out.extend(items.iter().cloned());
            }
        }
        Some(_) => out.push(v),
        None => {}
    }
}

/// A recorded state's objects: the kinds doctor reads typed (workloads,
/// pods, events, Services) as their Kubernetes types, the rest as they are.
#[derive(Default)]
struct Recorded {
    count: usize,
    other: Vec<Value>,
    deployments: Vec<Deployment>,
    daemon_sets: Vec<DaemonSet>,
    pods: Vec<Pod>,
    events: Vec<Event>,
    services: Vec<Service>,
}

impl Recorded {
    /// `object`, read from `path`; one of a typed kind that does not read as
    /// that kind is bad input naming the object and why.
    fn add(&mut self, path: &Path, object: Value) -> Result<(), Diagnostic> {
        self.count += 1;
        match object["kind"].as_str().unwrap_or_default() {
            "Deployment" => self.deployments.push(typed(path, object)?),
            "DaemonSet" => self.daemon_sets.push(typed(path, object)?),
            "Pod" => self.pods.push(typed(path, object)?),
            "Event" => self.events.push(typed(path, object)?),
            "Service" => self.services.push(typed(path, object)?),
            _ => self.other.push(object),
        }
        Ok(())
    }

    fn of_kind<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a Value> {
        self.other.iter().filter(move |o| o["kind"] == kind)
    }
}

/// `object` as the Kubernetes type `T`.
fn typed<T: DeserializeOwned>(path: &Path, object: Value) -> Result<T, Diagnostic> {
    let what = format!(
        "{} {}",
        text(&object, "/kind"),
        text(&object, "/metadata/name")
    );
    serde_json::from_value(object).map_err(|e| {
        Diagnostic::new(path, None, format!("{what} is not one gwlab can read: {e}"))
            .hint("give objects as `kubectl get -o yaml` writes them")
    })
}

fn text<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
}

fn facts(dir: &Path, objects: Recorded, logs: &[(PathBuf, String)]) -> Facts {
    let all = |kind| objects.of_kind(kind).cloned().collect::<Vec<_>>();
    let mut f = Facts {
        version: Some(format!("recorded in {}", dir.display())),
        crds: objects
            .of_kind("CustomResourceDefinition")
            .filter(|c| c["spec"]["group"] == GATEWAY_GROUP)
            .map(|c| {
                let a = &c["metadata"]["annotations"];
                (
                    text(c, "/metadata/name").to_string(),
                    a[BUNDLE_VERSION].as_str().map(String::from),
                    a[CHANNEL].as_str().map(String::from),
                )
            })
            .collect(),
        classes: all("GatewayClass"),
        gateways: all("Gateway"),
        routes: all("HTTPRoute"),
        grants: all("ReferenceGrant"),
        pools: all("IPAddressPool"),
        // Recorded objects are judged against today's support dates.
        today: Some(today()),
        ..Default::default()
    };
    f.metallb_controller = objects
        .deployments
        .iter()
        .find(|d| is_metallb_controller(&d.metadata))
        .cloned();
    let workloads = objects
        .deployments
        .iter()
        .cloned()
        .map(|d| Workload::Deployment(Box::new(d)))
        .chain(
            objects
                .daemon_sets
                .iter()
                .cloned()
                .map(|d| Workload::DaemonSet(Box::new(d))),
        );
    for w in workloads {
        f.kongs.extend(w.kong_proxies());
        if w.kic_container().is_some() {
            f.kics.push(kic(w, &objects, logs));
        }
    }
    for s in objects.services {
        f.services_all.push((
            s.metadata.namespace.clone().unwrap_or_default(),
            s.metadata.name.clone().unwrap_or_default(),
        ));
        if s.spec.as_ref().and_then(|sp| sp.type_.as_deref()) == Some("LoadBalancer") {
            f.services.push(s);
        }
    }
    f
}

/// A controller workload with its pods (by its selector), their events, and
/// the log of the first pod that has one (`<pod>.log`), else the bundle's
/// `kic.log`.
fn kic(w: Workload, objects: &Recorded, logs: &[(PathBuf, String)]) -> Kic {
    let ns = w.namespace();
    let selector = w.selector();
    let wanted: Vec<(&str, &str)> = selector
        .split(',')
        .filter_map(|kv| kv.split_once('='))
        .collect();
    let pods: Vec<Pod> = objects
        .pods
        .iter()
        .filter(|p| p.metadata.namespace.as_deref() == Some(ns))
        .filter(|p| {
            let labels = p.metadata.labels.as_ref();
            wanted
                .iter()
                .all(|(k, v)| labels.and_then(|l| l.get(*k)).map(String::as_str) == Some(*v))
        })
        .cloned()
        .collect();
    let names: Vec<&str> = pods
        .iter()
        .map(|p| p.metadata.name.as_deref().unwrap_or_default())
        .collect();
    let events = objects
        .events
        .iter()
        .filter(|e| {
            e.involved_object.kind.as_deref() == Some("Pod")
                && names.contains(&e.involved_object.name.as_deref().unwrap_or_default())
        })
        .cloned()
        .collect();
    let stem = |p: &PathBuf| {
        p.file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    let log = names
        .iter()
        .find_map(|n| logs.iter().find(|(p, _)| stem(p) == *n))
        .or_else(|| {
            logs.iter()
                .find(|(p, _)| p.file_name().is_some_and(|f| f == BUNDLE_KIC_LOG))
        })
        .map(|(_, t)| t.clone())
        .unwrap_or_default();
    let container = w.kic_container().cloned().unwrap_or_default();
    Kic::of(w, container, pods, events, log)
}

/// Regular files under `dir`; symlinks are not followed.
fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        let meta = std::fs::symlink_metadata(e.path())?;
        if meta.is_dir() {
            walk(&e.path(), out)?;
        } else if meta.is_file() {
            out.push(e.path());
        }
    }
    Ok(())
}

impl From<Diagnostic> for RecordedError {
    fn from(d: Diagnostic) -> Self {
        RecordedError::Bad(d.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_object_that_does_not_read_as_its_kind_is_named_with_its_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("kong.yaml");
        // A Deployment whose replicas are not a number.
        std::fs::write(
            &file,
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: kong, namespace: kong}\nspec:\n  replicas: two\n  selector: {matchLabels: {app: kong}}\n  template: {spec: {containers: []}}\n",
        )
        .unwrap();
        let e = read(dir.path()).expect_err("bad input").to_string();
        assert!(e.contains(&file.display().to_string()), "{e}");
        assert!(
            e.contains("Deployment kong is not one gwlab can read"),
            "{e}"
        );
        assert!(e.contains("\"two\""), "{e}");
        assert!(
            e.contains("give objects as `kubectl get -o yaml` writes them"),
            "{e}"
        );
        // With a number, it reads, and its controller-less pod spec makes
        // no KIC.
        std::fs::write(
            &file,
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: kong, namespace: kong}\nspec:\n  selector: {matchLabels: {app: kong}}\n  template: {spec: {containers: []}}\n",
        )
        .unwrap();
        let f = read(dir.path()).unwrap_or_else(|e| panic!("{e}"));
        assert!(f.kics.is_empty());
    }
}
