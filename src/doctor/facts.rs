//! Gathering the cluster's facts through the API: Gateway API CRDs, classes,
//! Gateways, routes and grants, the Kong Ingress Controller's Deployments with
//! their pods, events and logs, MetalLB, and the Services. A kind the API does
//! not serve reads as empty; any other failed read is an error, never an empty
//! cluster to judge.

use std::fmt::Debug;

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment};
use k8s_openapi::api::core::v1::{Event, Pod, Service};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::Client;
use kube::api::{Api, DynamicObject, ListParams, LogParams};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::kong;
use crate::lab::addons::{BUNDLE_VERSION, CHANNEL};
use crate::lab::apply::resource;
use crate::manifest::GATEWAY_GROUP;

/// Why the facts could not be read.
#[derive(Debug, thiserror::Error)]
pub enum GatherError {
    #[error("the API server does not answer: {0}")]
    Version(#[source] Box<kube::Error>),
    #[error("cannot list {what}: {source}")]
    List {
        what: String,
        #[source]
        source: Box<kube::Error>,
    },
    #[error("gwlab has no table entry for {api_version} {kind}")]
    UnknownKind {
        api_version: &'static str,
        kind: &'static str,
    },
}

/// One Kong Ingress Controller found on the cluster, run by a Deployment or a
/// DaemonSet.
#[derive(Debug, Clone, Default)]
pub struct Kic {
    /// `Deployment` or `DaemonSet`.
    pub kind: String,
    pub namespace: String,
    pub name: String,
    /// The Deployment or DaemonSet, whole.
    pub workload: Value,
    pub pods: Vec<Value>,
    /// Events about its pods.
    pub events: Vec<Value>,
    /// The last lines of the controller container's log (the previous run's when it crashed).
    pub log: String,
    pub publish_service: Option<String>,
    pub feature_gates: Option<String>,
    /// The controller container's image, as the pod spec names it.
    pub image: String,
}

/// A Kong proxy container (`kong`, or Kong Gateway Enterprise's
/// `kong/kong-gateway`) in a Deployment or DaemonSet.
#[derive(Debug, Clone, Default)]
pub struct KongProxy {
    /// `Deployment` or `DaemonSet`.
    pub kind: String,
    pub namespace: String,
    pub name: String,
    pub container: String,
    pub image: String,
}

/// A Gateway API CRD: (name, bundle version, channel).
pub(crate) type Crd = (String, Option<String>, Option<String>);

#[derive(Debug, Clone, Default)]
pub struct Facts {
    pub version: Option<String>,
    /// The gateway.networking.k8s.io CRDs.
    pub crds: Vec<Crd>,
    pub classes: Vec<Value>,
    pub gateways: Vec<Value>,
    pub kics: Vec<Kic>,
    pub kongs: Vec<KongProxy>,
    pub metallb_controller: Option<Value>,
    pub pools: Vec<Value>,
    pub services: Vec<Value>,
    pub routes: Vec<Value>,
    pub grants: Vec<Value>,
    pub services_all: Vec<(String, String)>,
    /// The day the facts were read, for support dates (`None`: not judged).
    pub today: Option<jiff::civil::Date>,
}

/// Today's date (UTC), for judging support dates.
pub(crate) fn today() -> jiff::civil::Date {
    jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date()
}

fn json<T: serde::Serialize>(t: &T) -> Value {
    serde_json::to_value(t).unwrap_or_default()
}

/// Whether a failed read means the kind is not served (its CRD is not installed).
fn not_served(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 404)
}

/// A list's items; a kind the API does not serve reads as empty, any other
/// failure is an error.
fn served<T>(listed: Result<Vec<T>, kube::Error>, what: &str) -> Result<Vec<T>, GatherError> {
    match listed {
        Ok(items) => Ok(items),
        Err(e) if not_served(&e) => Ok(Vec::new()),
        Err(source) => Err(GatherError::List {
            what: what.into(),
            source: Box::new(source),
        }),
    }
}

async fn list_served<K>(
    api: &Api<K>,
    params: &ListParams,
    what: &str,
) -> Result<Vec<K>, GatherError>
where
    K: Clone + DeserializeOwned + Debug,
{
    served(api.list(params).await.map(|l| l.items), what)
}

async fn list_dynamic(
    client: &Client,
    api_version: &'static str,
    kind: &'static str,
) -> Result<Vec<Value>, GatherError> {
    let (ar, _) =
        resource(api_version, kind).ok_or(GatherError::UnknownKind { api_version, kind })?;
    let api: Api<DynamicObject> = Api::all_with(client.clone(), &ar);
    let items = list_served(&api, &ListParams::default(), kind).await?;
    Ok(items.iter().map(json).collect())
}

/// A container's env value or `--flag=value` argument.
pub(super) fn setting(container: &Value, (env, flag): (&str, &str)) -> Option<String> {
    let from_env = container["env"]
        .as_array()
        .and_then(|e| e.iter().find(|v| v["name"] == env))
        .and_then(|v| v["value"].as_str())
        .map(String::from);
    from_env.or_else(|| {
        container["args"].as_array().and_then(|a| {
            a.iter()
                .filter_map(|x| x.as_str())
                .find_map(|x| x.strip_prefix(&format!("{flag}=")).map(String::from))
        })
    })
}

/// The Kong proxy containers of a workload: images whose repository is
/// `kong` (the official image) or ends in `/kong` or `/kong-gateway`.
pub(crate) fn kong_proxies(kind: &str, workload: &Value) -> Vec<KongProxy> {
    let text = |p: &str| {
        workload
            .pointer(p)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    workload["spec"]["template"]["spec"]["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| {
            let image = c["image"].as_str()?;
            let (repository, _) = kong::split_image(image).unwrap_or((image, ""));
            let last = repository.rsplit('/').next().unwrap_or(repository);
            let is_kong = last == "kong-gateway" || last == "kong";
            is_kong.then(|| KongProxy {
                kind: kind.into(),
                namespace: text("/metadata/namespace"),
                name: text("/metadata/name"),
                container: c["name"].as_str().unwrap_or_default().into(),
                image: image.into(),
            })
        })
        .collect()
}

pub(super) fn kic_container(deployment: &Value) -> Option<&Value> {
    deployment["spec"]["template"]["spec"]["containers"]
        .as_array()?
        .iter()
        .find(|c| c["image"].as_str().is_some_and(kong::is_controller_image))
}

/// Reads everything the checks need. Kinds the API does not serve read as empty.
pub async fn gather(client: &Client) -> Result<Facts, GatherError> {
    let version = client
        .apiserver_version()
        .await
        .map_err(|e| GatherError::Version(Box::new(e)))?;
    let gw = "gateway.networking.k8s.io/v1";
    let mut f = Facts {
        version: Some(version.git_version),
        crds: gateway_crds(client).await?,
        classes: list_dynamic(client, gw, "GatewayClass").await?,
        gateways: list_dynamic(client, gw, "Gateway").await?,
        routes: list_dynamic(client, gw, "HTTPRoute").await?,
        grants: list_dynamic(
            client,
            "gateway.networking.k8s.io/v1beta1",
            "ReferenceGrant",
        )
        .await?,
        pools: list_dynamic(client, "metallb.io/v1beta1", "IPAddressPool").await?,
        today: Some(today()),
        ..Default::default()
    };
    gather_deployments(client, &mut f).await?;
    gather_services(client, &mut f).await?;
    Ok(f)
}

/// The Gateway API CRDs.
async fn gateway_crds(client: &Client) -> Result<Vec<Crd>, GatherError> {
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    let list = list_served(&crds, &ListParams::default(), "CustomResourceDefinitions").await?;
    Ok(list
        .into_iter()
        .filter(|c| c.spec.group == GATEWAY_GROUP)
        .map(|c| {
            let a = c.metadata.annotations.unwrap_or_default();
            (
                c.metadata.name.unwrap_or_default(),
                a.get(BUNDLE_VERSION).cloned(),
                a.get(CHANNEL).cloned(),
            )
        })
        .collect())
}

/// The MetalLB controller and every Kong Ingress Controller, whether a
/// Deployment or a DaemonSet runs it.
async fn gather_deployments(client: &Client, f: &mut Facts) -> Result<(), GatherError> {
    let deployments: Api<Deployment> = Api::all(client.clone());
    for d in list_served(&deployments, &ListParams::default(), "Deployments").await? {
        let dj = json(&d);
        let ns = d.metadata.namespace.clone().unwrap_or_default();
        let name = d.metadata.name.clone().unwrap_or_default();
        if ns == "metallb-system" && name == "controller" {
            f.metallb_controller = Some(dj.clone());
        }
        f.kongs.extend(kong_proxies("Deployment", &dj));
        if kic_container(&dj).is_some() {
            f.kics.push(gather_kic(client, "Deployment", dj).await?);
        }
    }
    let daemon_sets: Api<DaemonSet> = Api::all(client.clone());
    for d in list_served(&daemon_sets, &ListParams::default(), "DaemonSets").await? {
        let dj = json(&d);
        f.kongs.extend(kong_proxies("DaemonSet", &dj));
        if kic_container(&dj).is_some() {
            f.kics.push(gather_kic(client, "DaemonSet", dj).await?);
        }
    }
    Ok(())
}

/// One controller workload's settings, pods, their events and the controller's log.
async fn gather_kic(client: &Client, kind: &str, dj: Value) -> Result<Kic, GatherError> {
    let text = |p: &str| {
        dj.pointer(p)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let (ns, name) = (text("/metadata/namespace"), text("/metadata/name"));
    let container = kic_container(&dj).cloned().unwrap_or_default();
    let pods: Api<Pod> = Api::namespaced(client.clone(), &ns);
    let params = ListParams::default().labels(&selector(&dj));
    let pod_list = list_served(&pods, &params, &format!("the pods of {kind} {ns}/{name}")).await?;
    let container_name = container["name"].as_str().unwrap_or_default();
    let log = controller_log(&pods, &pod_list, container_name).await;
    let events = pod_events(client, &ns, &pod_list).await?;
    Ok(Kic {
        publish_service: setting(&container, kong::PUBLISH_SERVICE_ENV),
        feature_gates: setting(&container, kong::FEATURE_GATES_ENV),
        image: container["image"].as_str().unwrap_or_default().into(),
        kind: kind.to_string(),
        namespace: ns,
        name,
        workload: dj,
        pods: pod_list.iter().map(json).collect(),
        events,
        log,
    })
}

/// A workload's label selector (`spec.selector.matchLabels`), as a list
/// query writes it.
pub(super) fn selector(workload: &Value) -> String {
    workload
        .pointer("/spec/selector/matchLabels")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
        .collect::<Vec<_>>()
        .join(",")
}

/// The last lines of the first pod's controller log that has any (the previous
/// run's for a pod that restarted). A log is evidence only, and a previous run's
/// log may be gone: one that cannot be read stays empty.
async fn controller_log(pods: &Api<Pod>, list: &[Pod], container: &str) -> String {
    for p in list {
        let name = p.metadata.name.clone().unwrap_or_default();
        let crashed = p
            .status
            .as_ref()
            .and_then(|s| s.container_statuses.as_ref())
            .is_some_and(|cs| cs.iter().any(|c| c.restart_count > 0));
        let params = LogParams {
            container: Some(container.to_string()),
            tail_lines: Some(100),
            previous: crashed,
            ..Default::default()
        };
        let log = pods.logs(&name, &params).await.unwrap_or_default();
        if !log.is_empty() {
            return log;
        }
    }
    String::new()
}

/// The events of namespace `ns` about the pods of `list`.
async fn pod_events(client: &Client, ns: &str, list: &[Pod]) -> Result<Vec<Value>, GatherError> {
    let names: Vec<&str> = list
        .iter()
        .filter_map(|p| p.metadata.name.as_deref())
        .collect();
    let events: Api<Event> = Api::namespaced(client.clone(), ns);
    let all = list_served(
        &events,
        &ListParams::default(),
        &format!("the events of namespace {ns}"),
    )
    .await?;
    Ok(all
        .iter()
        .filter(|e| {
            e.involved_object.kind.as_deref() == Some("Pod")
                && e.involved_object
                    .name
                    .as_deref()
                    .is_some_and(|n| names.contains(&n))
        })
        .map(json)
        .collect())
}

/// Every Service's name, and the LoadBalancer Services whole.
async fn gather_services(client: &Client, f: &mut Facts) -> Result<(), GatherError> {
    let services: Api<Service> = Api::all(client.clone());
    for s in list_served(&services, &ListParams::default(), "Services").await? {
        f.services_all.push((
            s.metadata.namespace.clone().unwrap_or_default(),
            s.metadata.name.clone().unwrap_or_default(),
        ));
        if s.spec.as_ref().and_then(|sp| sp.type_.as_deref()) == Some("LoadBalancer") {
            f.services.push(json(&s));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api_error(code: u16) -> kube::Error {
        kube::Error::Api(Box::new(kube::core::Status {
            code,
            message: "from the test".into(),
            ..Default::default()
        }))
    }

    #[test]
    fn only_an_unserved_kind_reads_as_empty() {
        assert!(served::<Value>(Err(api_error(404)), "IPAddressPool").is_ok_and(|i| i.is_empty()));
        for code in [403, 500, 503] {
            let e = served::<Value>(Err(api_error(code)), "GatewayClass").unwrap_err();
            assert!(
                matches!(&e, GatherError::List { what, .. } if what == "GatewayClass"),
                "{e:?}"
            );
        }
    }

    /// A stand-in API server: `/version` answers, every list is empty, except
    /// at the paths of `failing`, which answer with their status code.
    fn api(failing: &'static [(&'static str, u16)]) -> Client {
        use kube::client::Body;
        use serde_json::json;
        let (svc, mut handle) =
            tower_test::mock::pair::<http::Request<Body>, http::Response<Body>>();
        tokio::spawn(async move {
            while let Some((req, send)) = handle.next_request().await {
                let path = req.uri().path().to_string();
                let (code, body) = match failing.iter().find(|(p, _)| *p == path) {
                    Some((_, code)) => (
                        *code,
                        json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": code, "message": "from the test"}),
                    ),
                    None if path == "/version" => (
                        200,
                        json!({"major": "1", "minor": "32", "gitVersion": "v1.32.0", "gitCommit": "x", "gitTreeState": "clean", "buildDate": "2025-01-01T00:00:00Z", "goVersion": "go1.23", "compiler": "gc", "platform": "linux/amd64"}),
                    ),
                    None => (
                        200,
                        json!({"apiVersion": "v1", "kind": "List", "metadata": {}, "items": []}),
                    ),
                };
                let response = http::Response::builder()
                    .status(code)
                    .header("content-type", "application/json")
                    .body(Body::from(serde_json::to_vec(&body).unwrap()))
                    .unwrap();
                send.send_response(response);
            }
        });
        Client::new(svc, "default")
    }

    #[tokio::test]
    async fn a_failed_list_is_an_error_not_an_empty_cluster() {
        let client = api(&[("/apis/gateway.networking.k8s.io/v1/gatewayclasses", 500)]);
        let e = gather(&client).await.unwrap_err();
        assert!(
            matches!(&e, GatherError::List { what, .. } if what == "GatewayClass"),
            "{e:?}"
        );
    }

    #[tokio::test]
    async fn a_kind_the_cluster_does_not_serve_reads_as_empty() {
        let client = api(&[("/apis/metallb.io/v1beta1/ipaddresspools", 404)]);
        let f = gather(&client).await.expect("a 404 is not an error");
        assert!(f.pools.is_empty() && f.kics.is_empty());
        assert_eq!(f.version.as_deref(), Some("v1.32.0"));
    }
}
