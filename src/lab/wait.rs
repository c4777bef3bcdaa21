//! Readiness waits: watches (kube's `await_condition`), never sleep loops,
//! each bounded by a timeout whose error shows what the object reported last.

use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::Client;
use kube::api::{Api, ApiResource, DynamicObject};
use kube::runtime::wait::{await_condition, conditions};

use super::LabError;
use super::apply::resource;

/// `Type=Status (Reason)` of each condition in `status.conditions` of an
/// object read as JSON (a custom resource's).
pub(crate) fn conditions_text(status: Option<&serde_json::Value>) -> String {
    let list = status
        .and_then(|s| s.get("conditions"))
        .and_then(|c| c.as_array())
        .map(Vec::as_slice)
        .unwrap_or_default();
    listed(list.iter().map(|c| {
        let s = |k: &str| c.get(k).and_then(|v| v.as_str()).unwrap_or("");
        [s("type"), s("status"), s("reason"), s("message")]
    }))
}

/// [`conditions_text`] of a Deployment.
pub(crate) fn deployment_conditions(d: &Deployment) -> String {
    let list = d.status.as_ref().and_then(|s| s.conditions.as_deref());
    listed(list.unwrap_or_default().iter().map(|c| {
        let reason = c.reason.as_deref().unwrap_or_default();
        let message = c.message.as_deref().unwrap_or_default();
        [c.type_.as_str(), c.status.as_str(), reason, message]
    }))
}

/// [`conditions_text`] of a CustomResourceDefinition.
fn crd_conditions(crd: &CustomResourceDefinition) -> String {
    let list = crd.status.as_ref().and_then(|s| s.conditions.as_deref());
    listed(list.unwrap_or_default().iter().map(|c| {
        let reason = c.reason.as_deref().unwrap_or_default();
        let message = c.message.as_deref().unwrap_or_default();
        [c.type_.as_str(), c.status.as_str(), reason, message]
    }))
}

/// Whether a Deployment says it is Available.
pub(crate) fn is_available(d: &Deployment) -> bool {
    d.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|c| {
            c.iter()
                .any(|c| c.type_ == "Available" && c.status == "True")
        })
}

/// Conditions given as `[type, status, reason, message]`, in a line.
fn listed<'a>(conditions: impl Iterator<Item = [&'a str; 4]>) -> String {
    let lines: Vec<String> = conditions
        .map(|[ty, status, reason, msg]| {
            if msg.is_empty() {
                format!("{ty}={status} ({reason})")
            } else {
                format!("{ty}={status} ({reason}: {msg})")
            }
        })
        .collect();
    if lines.is_empty() {
        "no conditions yet".into()
    } else {
        lines.join(", ")
    }
}

/// The `status.addresses[].value` of a Gateway (as JSON).
pub(crate) fn gateway_addresses(gateway: &serde_json::Value) -> Vec<String> {
    gateway
        .pointer("/status/addresses")
        .and_then(|a| a.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|x| x.get("value")?.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// Whether `status.conditions` has `type` with status True.
pub fn has_true(status: Option<&serde_json::Value>, type_: &str) -> bool {
    status
        .and_then(|s| s.get("conditions"))
        .and_then(|c| c.as_array())
        .is_some_and(|list| {
            list.iter().any(|c| {
                c.get("type").and_then(|t| t.as_str()) == Some(type_)
                    && c.get("status").and_then(|s| s.as_str()) == Some("True")
            })
        })
}

/// The last state of an object, for a timeout's message: what `status` says
/// of it, "not found", or why it could not be read (never "not found" for a
/// read that failed).
fn last_state<K>(read: Result<Option<K>, kube::Error>, status: impl FnOnce(K) -> String) -> String {
    match read {
        Ok(Some(o)) => status(o),
        Ok(None) => "not found".into(),
        Err(e) => format!("could not be read: {}", crate::kube_api::sentence(&e)),
    }
}

/// Waits for what `watch` awaits, at most `timeout`. A watch that fails
/// (the API server restarting, a connection reset) is started again while
/// time is left: only running out of time, or the object deleted, ends the
/// wait early.
async fn bounded<T, F>(
    what: &str,
    timeout: Duration,
    mut watch: impl FnMut() -> F,
    last: impl std::future::Future<Output = String>,
) -> Result<T, LabError>
where
    F: std::future::Future<Output = Result<Option<T>, kube::runtime::wait::Error>>,
{
    match crate::kube_api::watching_again(timeout, &mut watch).await {
        Some(Ok(Some(obj))) => Ok(obj),
        Some(Ok(None)) => Err(LabError::Refused(format!(
            "{what} was deleted while gwlab waited for it"
        ))),
        Some(Err(source)) => Err(LabError::Watch {
            what: what.into(),
            source: Box::new(source),
        }),
        None => Err(LabError::Timeout {
            what: what.into(),
            secs: timeout.as_secs(),
            last: last.await,
        }),
    }
}

pub async fn crd_established(
    client: &Client,
    name: &str,
    timeout: Duration,
) -> Result<(), LabError> {
    let api: Api<CustomResourceDefinition> = Api::all(client.clone());
    let last = async { last_state(api.get_opt(name).await, |c| crd_conditions(&c)) };
    bounded(
        &format!("CustomResourceDefinition {name}"),
        timeout,
        || await_condition(api.clone(), name, conditions::is_crd_established()),
        last,
    )
    .await
    .map(|_| ())
}

pub async fn deployment_available(
    client: &Client,
    namespace: &str,
    name: &str,
    timeout: Duration,
) -> Result<(), LabError> {
    let api: Api<Deployment> = Api::namespaced(client.clone(), namespace);
    let available = |d: Option<&Deployment>| d.is_some_and(is_available);
    let last = async { last_state(api.get_opt(name).await, |d| deployment_conditions(&d)) };
    bounded(
        &format!("Deployment {namespace}/{name}"),
        timeout,
        || await_condition(api.clone(), name, available),
        last,
    )
    .await
    .map(|_| ())
}

/// Waits until a Deployment runs only pods of its current template, all
/// available: its rollout is complete (a fresh Deployment's, or an update's).
pub(crate) async fn deployment_rolled_out(
    client: &Client,
    namespace: &str,
    name: &str,
    timeout: Duration,
) -> Result<(), LabError> {
    let api: Api<Deployment> = Api::namespaced(client.clone(), namespace);
    let last = async {
        match api.get_opt(name).await {
            Ok(Some(d)) => {
                let waiting = waiting_pods(client, namespace, &d).await;
                if waiting.is_empty() {
                    rollout_text(&d)
                } else {
                    format!("{}; {}", rollout_text(&d), waiting.join("; "))
                }
            }
            read => last_state(read, |d| rollout_text(&d)),
        }
    };
    bounded(
        &format!("the rollout of Deployment {namespace}/{name}"),
        timeout,
        || {
            await_condition(api.clone(), name, |d: Option<&Deployment>| {
                d.is_some_and(rolled_out)
            })
        },
        last,
    )
    .await
    .map(|_| ())
}

/// Whether the controller has seen the current spec and every replica is
/// updated and available, with no pod of an older template left.
pub fn rolled_out(d: &Deployment) -> bool {
    let wanted = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
    let Some(s) = &d.status else { return false };
    s.observed_generation >= d.metadata.generation
        && s.updated_replicas.unwrap_or(0) == wanted
        && s.available_replicas.unwrap_or(0) == wanted
        && s.replicas.unwrap_or(0) == wanted
}

/// The Deployment's pods with a container waiting, and why (an image that
/// cannot be pulled, a crash loop): what keeps a rollout from finishing.
async fn waiting_pods(client: &Client, namespace: &str, d: &Deployment) -> Vec<String> {
    use k8s_openapi::api::core::v1::Pod;
    let selector = d
        .spec
        .as_ref()
        .and_then(|s| s.selector.match_labels.as_ref())
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default();
    let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let Ok(list) = pods
        .list(&kube::api::ListParams::default().labels(&selector))
        .await
    else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for p in list {
        let pod = p.metadata.name.clone().unwrap_or_default();
        for c in p
            .status
            .and_then(|s| s.container_statuses)
            .unwrap_or_default()
        {
            if let Some(w) = c.state.and_then(|s| s.waiting) {
                out.push(format!(
                    "pod {pod}: container {} waiting: {}{}",
                    c.name,
                    w.reason.unwrap_or_default(),
                    w.message.map(|m| format!(" ({m})")).unwrap_or_default()
                ));
            }
        }
    }
    out
}

fn rollout_text(d: &Deployment) -> String {
    let wanted = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
    let s = d.status.clone().unwrap_or_default();
    let conditions = deployment_conditions(d);
    format!(
        "{} of {wanted} pods updated, {} available, {} in all; {conditions}",
        s.updated_replicas.unwrap_or(0),
        s.available_replicas.unwrap_or(0),
        s.replicas.unwrap_or(0)
    )
}

/// Waits until a Service has a ready endpoint in one of its EndpointSlices.
pub(crate) async fn service_has_ready_endpoint(
    client: &Client,
    namespace: &str,
    service: &str,
    timeout: Duration,
) -> Result<(), LabError> {
    use k8s_openapi::api::discovery::v1::EndpointSlice;
    use kube::runtime::{WatchStreamExt, watcher};
    let api: Api<EndpointSlice> = Api::namespaced(client.clone(), namespace);
    let selector = format!("kubernetes.io/service-name={service}");
    let ready = |s: &EndpointSlice| {
        s.endpoints
            .iter()
            .any(|e| e.conditions.as_ref().and_then(|c| c.ready) == Some(true))
    };
    let stream = watcher(api, watcher::Config::default().labels(&selector)).applied_objects();
    let found = async {
        futures_util::pin_mut!(stream);
        use futures_util::StreamExt;
        while let Some(slice) = stream.next().await {
            match slice {
                Ok(s) if ready(&s) => return Ok(()),
                Ok(_) => {}
                Err(e) => {
                    return Err(LabError::Watch {
                        what: format!("the endpoints of Service {namespace}/{service}"),
                        source: Box::new(kube::runtime::wait::Error::ProbeFailed(e)),
                    });
                }
            }
        }
        Ok(())
    };
    match tokio::time::timeout(timeout, found).await {
        Ok(r) => r,
        Err(_) => Err(LabError::Timeout {
            what: format!("Service {namespace}/{service}"),
            secs: timeout.as_secs(),
            last: "no ready endpoint".into(),
        }),
    }
}

fn gateway_api(client: &Client, kind: &str, namespace: Option<&str>) -> Api<DynamicObject> {
    let (ar, _): (ApiResource, bool) =
        resource("gateway.networking.k8s.io/v1", kind).expect("Gateway API kinds are known");
    crate::kube_api::dynamic_api(client, &ar, true, namespace)
}

async fn wait_dynamic(
    api: Api<DynamicObject>,
    what: String,
    name: &str,
    timeout: Duration,
    ready: impl Fn(&DynamicObject) -> bool,
) -> Result<DynamicObject, LabError> {
    let cond = |o: Option<&DynamicObject>| o.is_some_and(&ready);
    let last = async {
        last_state(api.get_opt(name).await, |o| {
            conditions_text(o.data.get("status"))
        })
    };
    bounded(
        &what,
        timeout,
        || await_condition(api.clone(), name, cond),
        last,
    )
    .await
}

pub(crate) async fn gateway_class_accepted(
    client: &Client,
    name: &str,
    timeout: Duration,
) -> Result<(), LabError> {
    let api = gateway_api(client, "GatewayClass", None);
    wait_dynamic(api, format!("GatewayClass {name}"), name, timeout, |o| {
        has_true(o.data.get("status"), "Accepted")
    })
    .await
    .map(|_| ())
}

/// Waits for `Programmed=True`; returns the Gateway as JSON. An address is not
/// waited for: KIC writes one only when a load balancer gave the proxy one
/// before, and probes have other ways in (see `reach`).
pub(crate) async fn gateway_programmed(
    client: &Client,
    namespace: &str,
    name: &str,
    timeout: Duration,
) -> Result<serde_json::Value, LabError> {
    let api = gateway_api(client, "Gateway", Some(namespace));
    let gw = wait_dynamic(
        api,
        format!("Gateway {namespace}/{name}"),
        name,
        timeout,
        |o| has_true(o.data.get("status"), "Programmed"),
    )
    .await?;
    Ok(serde_json::to_value(gw).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditions_render_for_messages() {
        let s = serde_json::json!({"conditions": [{"type": "Programmed", "status": "Unknown", "reason": "Pending", "message": "Waiting for controller"}]});
        assert_eq!(
            conditions_text(Some(&s)),
            "Programmed=Unknown (Pending: Waiting for controller)"
        );
        assert!(!has_true(Some(&s), "Programmed"));
        assert_eq!(conditions_text(None), "no conditions yet");
    }
}
