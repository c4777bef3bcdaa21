//! What a kubelet would do, for an API server without nodes (envtest): one
//! Node that reports Ready, every Pod bound to it and reported running and
//! ready (so that Deployments become Available and EndpointSlices fill), and
//! Pods being deleted removed at once, as a kubelet does once their
//! containers stopped (without it a namespace never finishes terminating).

use std::sync::atomic::{AtomicU32, Ordering};

use futures_util::StreamExt;
use k8s_openapi::api::core::v1::{Node as NodeObject, Pod};
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams, Preconditions};
use kube::runtime::{WatchStreamExt, watcher};
use serde_json::json;

use super::ControllerError;

/// The node every Pod is bound to.
pub const NODE_NAME: &str = "gwlab-stand-in";

pub struct Node {
    next_ip: AtomicU32,
}

impl Node {
    /// Creates the Node (or takes the one left by an earlier run) and reports it Ready.
    pub async fn register(client: &kube::Client) -> Result<Node, ControllerError> {
        let api: Api<NodeObject> = Api::all(client.clone());
        let kube_err = |what: &str| {
            let doing = gwlab::kube_api::ApiError::doing(what.to_string());
            move |source| ControllerError::Kube(doing(source))
        };
        let node = json!({"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": NODE_NAME, "labels": {"kubernetes.io/hostname": NODE_NAME}}});
        let pp = PatchParams::apply("gwlab-stand-in").force();
        api.patch(NODE_NAME, &pp, &Patch::Apply(&node))
            .await
            .map_err(kube_err("cannot create the stand-in Node"))?;
        let now = k8s_openapi::jiff::Timestamp::now().to_string();
        let status = json!({"status": {
            "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                "message": "gwlab's stand-in kubelet", "lastHeartbeatTime": now, "lastTransitionTime": now}],
            "addresses": [{"type": "InternalIP", "address": "127.0.0.1"}, {"type": "Hostname", "address": NODE_NAME}],
            "capacity": {"cpu": "8", "memory": "16Gi", "pods": "250"},
            "allocatable": {"cpu": "8", "memory": "16Gi", "pods": "250"}}});
        api.patch_status(NODE_NAME, &PatchParams::default(), &Patch::Merge(&status))
            .await
            .map_err(kube_err("cannot report the stand-in Node Ready"))?;
        Ok(Node {
            next_ip: AtomicU32::new(1),
        })
    }

    fn pod_ip(&self) -> String {
        let n = self.next_ip.fetch_add(1, Ordering::Relaxed);
        format!("10.244.{}.{}", (n >> 8) & 0xff, n & 0xff)
    }
}

/// Images on this registry are ones the stand-in cannot pull, as a kubelet
/// cannot pull an image its registry does not serve: their pods stay Pending
/// with `ImagePullBackOff`, so a rollout to them never completes.
pub const UNPULLABLE_REGISTRY: &str = "unpullable.invalid";

fn unpullable(pod: &Pod) -> Option<String> {
    pod.spec
        .as_ref()?
        .containers
        .iter()
        .filter_map(|c| c.image.clone())
        .find(|i| i.starts_with(&format!("{UNPULLABLE_REGISTRY}/")))
}

/// A Pending pod's status with every unpullable container waiting.
fn pull_failed(pod: &Pod, image: &str, now: &str) -> serde_json::Value {
    let containers: Vec<serde_json::Value> = pod
        .spec
        .as_ref()
        .map(|s| s.containers.as_slice())
        .unwrap_or_default()
        .iter()
        .map(|c| {
            let this = c.image.clone().unwrap_or_default();
            let state = if this == image {
                json!({"waiting": {"reason": "ImagePullBackOff",
                    "message": format!("Back-off pulling image \"{this}\"")}})
            } else {
                json!({"waiting": {"reason": "PodInitializing"}})
            };
            json!({"name": c.name, "image": this, "imageID": "", "ready": false,
                "restartCount": 0, "state": state})
        })
        .collect();
    json!({"status": {"phase": "Pending", "hostIP": "127.0.0.1", "startTime": now,
        "conditions": [{"type": "PodScheduled", "status": "True", "lastTransitionTime": now},
            {"type": "Ready", "status": "False", "reason": "ContainersNotReady", "lastTransitionTime": now}],
        "containerStatuses": containers}})
}

/// Watches every Pod until aborted. Failed calls are not fatal: the next
/// event of the Pod (or the watch's periodic relist) tries again.
pub async fn run(client: kube::Client, node: Node) {
    let all: Api<Pod> = Api::all(client.clone());
    let events = watcher(all, watcher::Config::default())
        .default_backoff()
        .applied_objects();
    futures_util::pin_mut!(events);
    while let Some(event) = events.next().await {
        let Ok(pod) = event else { continue };
        let (Some(ns), Some(name)) = (pod.metadata.namespace.clone(), pod.metadata.name.clone())
        else {
            continue;
        };
        let api: Api<Pod> = Api::namespaced(client.clone(), &ns);
        let _ = step(&api, &name, &pod, &node).await;
    }
}

/// Moves one Pod on by one step: remove, bind, or report ready.
async fn step(api: &Api<Pod>, name: &str, pod: &Pod, node: &Node) -> Result<(), kube::Error> {
    let spec = pod.spec.as_ref();
    if pod.metadata.deletion_timestamp.is_some() {
        let dp = DeleteParams {
            grace_period_seconds: Some(0),
            preconditions: Some(Preconditions {
                uid: pod.metadata.uid.clone(),
                resource_version: None,
            }),
            ..Default::default()
        };
        return api.delete(name, &dp).await.map(|_| ());
    }
    if spec.and_then(|s| s.node_name.as_deref()).is_none() {
        let binding = json!({"apiVersion": "v1", "kind": "Binding", "metadata": {"name": name},
            "target": {"apiVersion": "v1", "kind": "Node", "name": NODE_NAME}});
        return api
            .create_subresource::<_, serde_json::Value>(
                "binding",
                name,
                &PostParams::default(),
                &binding,
            )
            .await
            .map(|_| ());
    }
    let ready = pod
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"));
    if ready {
        return Ok(());
    }
    let now = k8s_openapi::jiff::Timestamp::now().to_string();
    if let Some(image) = unpullable(pod) {
        let reported = pod
            .status
            .as_ref()
            .and_then(|s| s.container_statuses.as_ref())
            .is_some_and(|cs| {
                cs.iter().any(|c| {
                    c.state
                        .as_ref()
                        .and_then(|s| s.waiting.as_ref())
                        .and_then(|w| w.reason.as_deref())
                        == Some("ImagePullBackOff")
                })
            });
        if reported {
            // Said once: a status written again would wake this watch again.
            return Ok(());
        }
        return api
            .patch_status(
                name,
                &PatchParams::default(),
                &Patch::Merge(&pull_failed(pod, &image, &now)),
            )
            .await
            .map(|_| ());
    }
    let ip = node.pod_ip();
    let containers: Vec<serde_json::Value> = spec
        .map(|s| s.containers.as_slice())
        .unwrap_or_default()
        .iter()
        .map(|c| {
            json!({"name": c.name, "image": c.image.clone().unwrap_or_default(), "imageID": "",
                "ready": true, "started": true, "restartCount": 0, "state": {"running": {"startedAt": now}}})
        })
        .collect();
    let condition = |t: &str| json!({"type": t, "status": "True", "lastTransitionTime": now});
    let status = json!({"status": {
        "phase": "Running", "hostIP": "127.0.0.1", "podIP": ip, "podIPs": [{"ip": ip}], "startTime": now,
        "conditions": [condition("PodScheduled"), condition("Initialized"), condition("ContainersReady"), condition("Ready")],
        "containerStatuses": containers}});
    api.patch_status(name, &PatchParams::default(), &Patch::Merge(&status))
        .await
        .map(|_| ())
}
