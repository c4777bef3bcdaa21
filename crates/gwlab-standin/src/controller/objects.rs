//! What the API server holds, as gwlab's model sees it: each object turned
//! back into a manifest (metadata cut to what routing reads, status dropped),
//! with the server's generation and creation time.

use std::path::Path;

use kube::api::DynamicObject;
use serde_json::{Value, json};

use super::Watched;
use gwlab::manifest::{self, Manifest};
use gwlab::model::world::{EchoService, World};

pub(super) fn world(watched: &[Watched]) -> World {
    let mut world = World::default();
    for w in watched {
        for obj in w.store.state() {
            if obj.metadata.deletion_timestamp.is_some() {
                continue;
            }
            let Some(m) = manifest_of(w.api_version, w.kind, &obj) else {
                continue;
            };
            if let Some(echo) = echo_service(&m) {
                world.add_echo(echo);
            }
            let created = obj
                .metadata
                .creation_timestamp
                .as_ref()
                .map(|t| t.0.as_second().max(0) as u64)
                .unwrap_or(0);
            world.insert(m, obj.metadata.generation.unwrap_or(1) as u64, created);
        }
    }
    world
}

/// The object as a manifest, or `None` when gwlab's checks reject it (a real
/// controller would ignore it too: the API server's own schema let it in,
/// but the model cannot route it).
fn manifest_of(api_version: &str, kind: &str, obj: &DynamicObject) -> Option<Manifest> {
    let mut v = serde_json::to_value(obj).ok()?;
    let map = v.as_object_mut()?;
    map.remove("status");
    map.insert("apiVersion".into(), json!(api_version));
    map.insert("kind".into(), json!(kind));
    let m = &obj.metadata;
    let mut meta = json!({"name": m.name});
    if let Some(ns) = &m.namespace {
        meta["namespace"] = json!(ns);
    }
    if let Some(labels) = &m.labels {
        meta["labels"] = json!(labels);
    }
    if let Some(annotations) = &m.annotations {
        meta["annotations"] = json!(annotations);
    }
    map.insert("metadata".into(), meta);
    let name = format!(
        "<API server> {kind} {}{}",
        m.namespace
            .as_deref()
            .map(|n| format!("{n}/"))
            .unwrap_or_default(),
        m.name.as_deref().unwrap_or_default()
    );
    // JSON is YAML: the same parser and checks as a scenario's files.
    let text = serde_json::to_string(&v).ok()?;
    manifest::parse_text(Path::new(&name), &text)
        .ok()?
        .into_iter()
        .next()
}

/// A Service that selects Pods answers as an echo backend: on an API server
/// without nodes, every Pod is the stand-in's, and they all echo.
fn echo_service(m: &Manifest) -> Option<EchoService> {
    if m.kind != "Service" {
        return None;
    }
    let selects = m
        .raw
        .pointer("/spec/selector")
        .and_then(Value::as_object)
        .is_some_and(|s| !s.is_empty());
    let port = m
        .raw
        .pointer("/spec/ports/0/port")
        .and_then(Value::as_u64)?;
    selects.then(|| EchoService {
        namespace: m.namespace.clone().unwrap_or_default(),
        name: m.name.clone(),
        port: port as u16,
    })
}
