//! Gathering the cluster's facts through the API: Gateway API CRDs, classes,
//! Gateways, routes and grants, the Kong Ingress Controller's Deployments with
//! their pods, events and logs, MetalLB, and the Services. A kind the API does
//! not serve reads as empty; any other failed read is an error, never an empty
//! cluster to judge.

use std::fmt::Debug;

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment};
use k8s_openapi::api::core::v1::{Container, Event, Pod, PodSpec, Service};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
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

/// What runs a Kong container: a Deployment or a DaemonSet.
#[derive(Debug, Clone)]
pub enum Workload {
    Deployment(Box<Deployment>),
    DaemonSet(Box<DaemonSet>),
}

impl Workload {
    /// `Deployment` or `DaemonSet`.
    pub fn kind(&self) -> &'static str {
        match self {
            Workload::Deployment(_) => "Deployment",
            Workload::DaemonSet(_) => "DaemonSet",
        }
    }

    pub fn metadata(&self) -> &ObjectMeta {
        match self {
            Workload::Deployment(d) => &d.metadata,
            Workload::DaemonSet(d) => &d.metadata,
        }
    }

    pub fn namespace(&self) -> &str {
        self.metadata().namespace.as_deref().unwrap_or_default()
    }

    pub fn name(&self) -> &str {
        self.metadata().name.as_deref().unwrap_or_default()
    }

    /// The spec of the pods it makes.
    pub fn pod_spec(&self) -> Option<&PodSpec> {
        match self {
            Workload::Deployment(d) => d.spec.as_ref()?.template.spec.as_ref(),
            Workload::DaemonSet(d) => d.spec.as_ref()?.template.spec.as_ref(),
        }
    }

    pub fn containers(&self) -> &[Container] {
        self.pod_spec().map_or(&[], |s| s.containers.as_slice())
    }

    /// How it replaces its pods (`RollingUpdate` unless it says otherwise).
    pub fn strategy(&self) -> &str {
        let written = match self {
            Workload::Deployment(d) => d
                .spec
                .as_ref()
                .and_then(|s| s.strategy.as_ref()?.type_.as_deref()),
            Workload::DaemonSet(d) => d
                .spec
                .as_ref()
                .and_then(|s| s.update_strategy.as_ref()?.type_.as_deref()),
        };
        written.unwrap_or("RollingUpdate")
    }

    /// A Deployment's replicas (1 unless it says otherwise); a DaemonSet's
    /// pods are one a node, counted here as 1.
    pub fn replicas(&self) -> i32 {
        match self {
            Workload::Deployment(d) => d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1),
            Workload::DaemonSet(_) => 1,
        }
    }

    /// Its label selector's `matchLabels`, as a list query writes them.
    pub fn selector(&self) -> String {
        let labels = match self {
            Workload::Deployment(d) => d.spec.as_ref().map(|s| &s.selector),
            Workload::DaemonSet(d) => d.spec.as_ref().map(|s| &s.selector),
        };
        labels
            .and_then(|l| l.match_labels.as_ref())
            .into_iter()
            .flatten()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The Kong Ingress Controller's container, when it runs one.
    pub fn kic_container(&self) -> Option<&Container> {
        self.containers()
            .iter()
            .find(|c| c.image.as_deref().is_some_and(kong::is_controller_image))
    }

    /// Its Kong proxy containers: images whose repository is `kong` (the
    /// official image) or ends in `/kong` or `/kong-gateway`.
    pub fn kong_proxies(&self) -> Vec<KongProxy> {
        self.containers()
            .iter()
            .filter_map(|c| {
                let image = c.image.as_deref()?;
                let (repository, _) = kong::split_image(image).unwrap_or((image, ""));
                let last = repository.rsplit('/').next().unwrap_or(repository);
                let is_kong = last == "kong-gateway" || last == "kong";
                is_kong.then(|| KongProxy {
                    kind: self.kind().into(),
                    namespace: self.namespace().into(),
                    name: self.name().into(),
                    container: c.name.clone(),
                    image: image.into(),
                })
            })
            .collect()
    }
}

/// One Kong Ingress Controller found on the cluster, run by a Deployment or a
/// DaemonSet.
#[derive(Debug, Clone)]
pub struct Kic {
    /// The Deployment or DaemonSet, whole (its kind, namespace and name are
    /// the controller's).
    pub workload: Workload,
    pub pods: Vec<Pod>,
    /// Events about its pods.
    pub events: Vec<Event>,
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
    pub metallb_controller: Option<Deployment>,
    pub pools: Vec<Value>,
    /// The LoadBalancer Services.
    pub services: Vec<Service>,
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
pub(super) fn setting(container: &Container, (env, flag): (&str, &str)) -> Option<String> {
    let from_env = container
        .env
        .iter()
        .flatten()
        .find(|v| v.name == env)
        .and_then(|v| v.value.clone());
    from_env.or_else(|| {
        let prefix = format!("{flag}=");
        container
            .args
            .iter()
            .flatten()
            .find_map(|x| x.strip_prefix(&prefix).map(String::from))
    })
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
    let mut workloads = Vec::new();
    for d in list_served(&deployments, &ListParams::default(), "Deployments").await? {
        if is_metallb_controller(&d.metadata) {
            f.metallb_controller = Some(d.clone());
        }
        workloads.push(Workload::Deployment(Box::new(d)));
    }
    let daemon_sets: Api<DaemonSet> = Api::all(client.clone());
    for d in list_served(&daemon_sets, &ListParams::default(), "DaemonSets").await? {
        workloads.push(Workload::DaemonSet(Box::new(d)));
    }
    for w in workloads {
        f.kongs.extend(w.kong_proxies());
        if w.kic_container().is_some() {
            f.kics.push(gather_kic(client, w).await?);
        }
    }
    Ok(())
}

/// MetalLB's controller Deployment, as its manifests name it.
pub(super) fn is_metallb_controller(meta: &ObjectMeta) -> bool {
    meta.namespace.as_deref() == Some("metallb-system")
        && meta.name.as_deref() == Some("controller")
}

/// One controller workload's settings, pods, their events and the controller's log.
async fn gather_kic(client: &Client, workload: Workload) -> Result<Kic, GatherError> {
    let (kind, ns, name) = (workload.kind(), workload.namespace(), workload.name());
    let pods: Api<Pod> = Api::namespaced(client.clone(), ns);
    let params = ListParams::default().labels(&workload.selector());
    let pod_list = list_served(&pods, &params, &format!("the pods of {kind} {ns}/{name}")).await?;
    let container = workload.kic_container().cloned().unwrap_or_default();
    let log = controller_log(&pods, &pod_list, &container.name).await;
    let events = pod_events(client, ns, &pod_list).await?;
    Ok(Kic::of(workload, container, pod_list, events, log))
}

impl Kic {
    pub fn kind(&self) -> &'static str {
        self.workload.kind()
    }

    pub fn namespace(&self) -> &str {
        self.workload.namespace()
    }

    pub fn name(&self) -> &str {
        self.workload.name()
    }

    /// The controller `workload` runs in `container`, with its pods, their
    /// events and the controller's log.
    pub(super) fn of(
        workload: Workload,
        container: Container,
        pods: Vec<Pod>,
        events: Vec<Event>,
        log: String,
    ) -> Kic {
        Kic {
            publish_service: setting(&container, kong::PUBLISH_SERVICE_ENV),
            feature_gates: setting(&container, kong::FEATURE_GATES_ENV),
            image: container.image.clone().unwrap_or_default(),
            workload,
            pods,
            events,
            log,
        }
    }
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
async fn pod_events(client: &Client, ns: &str, list: &[Pod]) -> Result<Vec<Event>, GatherError> {
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
        .into_iter()
        .filter(|e| {
            e.involved_object.kind.as_deref() == Some("Pod")
                && e.involved_object
                    .name
                    .as_deref()
                    .is_some_and(|n| names.contains(&n))
        })
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
            f.services.push(s);
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
