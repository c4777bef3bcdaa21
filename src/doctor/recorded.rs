//! Facts from a recorded cluster state instead of a live API server: a
//! directory of Kubernetes objects as `kubectl get ... -o yaml` writes them
//! (single objects or `List`s, several documents a file) and controller
//! logs as `*.log` files, the way a gwlab diagnostics bundle holds them.
//! The same analysis then runs on them (`gwlab doctor --from DIR`).

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::facts::{Facts, Kic, kic_container, kong_proxies, selector, setting, today};
use crate::diag::{Diagnostic, Diagnostics};
use crate::kong;
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
    let mut objects = Vec::new();
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
                Ok(v) => flatten(v, &mut objects),
                Err(d) => problems.push(d),
            }
        }
    }
    if !problems.is_empty() {
        return Err(RecordedError::Bad(Diagnostics(problems)));
    }
    if objects.is_empty() {
        return Err(RecordedError::Empty {
            dir: dir.to_path_buf(),
        });
    }
    Ok(facts(dir, &objects, &logs))
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

fn of_kind<'a>(objects: &'a [Value], kind: &'a str) -> impl Iterator<Item = &'a Value> {
    objects.iter().filter(move |o| o["kind"] == kind)
}

fn text<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
}

fn facts(dir: &Path, objects: &[Value], logs: &[(PathBuf, String)]) -> Facts {
    let all = |kind| of_kind(objects, kind).cloned().collect::<Vec<_>>();
    let mut f = Facts {
        version: Some(format!("recorded in {}", dir.display())),
        crds: of_kind(objects, "CustomResourceDefinition")
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
    for d in of_kind(objects, "Deployment") {
        if text(d, "/metadata/namespace") == "metallb-system"
            && text(d, "/metadata/name") == "controller"
        {
            f.metallb_controller = Some(d.clone());
        }
    }
    for kind in ["Deployment", "DaemonSet"] {
        for w in of_kind(objects, kind) {
            f.kongs.extend(kong_proxies(kind, w));
        }
        for w in of_kind(objects, kind).filter(|w| kic_container(w).is_some()) {
            f.kics.push(kic(kind, w, objects, logs));
        }
    }
    for s in of_kind(objects, "Service") {
        f.services_all.push((
            text(s, "/metadata/namespace").to_string(),
            text(s, "/metadata/name").to_string(),
        ));
        if s["spec"]["type"] == "LoadBalancer" {
            f.services.push(s.clone());
        }
    }
    f
}

/// A controller workload with its pods (by its selector), their events, and
/// the log of the first pod that has one (`<pod>.log`), else the bundle's
/// `kic.log`.
fn kic(kind: &str, w: &Value, objects: &[Value], logs: &[(PathBuf, String)]) -> Kic {
    let ns = text(w, "/metadata/namespace").to_string();
    let wanted: Vec<(String, String)> = selector(w)
        .split(',')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let pods: Vec<Value> = of_kind(objects, "Pod")
        .filter(|p| text(p, "/metadata/namespace") == ns)
        .filter(|p| {
            wanted
                .iter()
                .all(|(k, v)| p["metadata"]["labels"][k].as_str() == Some(v))
        })
        .cloned()
        .collect();
    let names: Vec<&str> = pods.iter().map(|p| text(p, "/metadata/name")).collect();
    let events = of_kind(objects, "Event")
        .filter(|e| {
            e["involvedObject"]["kind"] == "Pod" && names.contains(&text(e, "/involvedObject/name"))
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
    let container = kic_container(w).cloned().unwrap_or_default();
    Kic {
        kind: kind.to_string(),
        namespace: ns,
        name: text(w, "/metadata/name").to_string(),
        workload: w.clone(),
        pods,
        events,
        log,
        publish_service: setting(&container, kong::PUBLISH_SERVICE_ENV),
        feature_gates: setting(&container, kong::FEATURE_GATES_ENV),
        image: container["image"].as_str().unwrap_or_default().into(),
    }
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
