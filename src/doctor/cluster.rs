//! The cluster's side: facts read through the API (Gateway API CRDs, classes,
//! Gateways, the Kong Ingress Controller's Deployments, pods, events and logs,
//! MetalLB, the proxy Service, routes), then judged.

use std::net::Ipv4Addr;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Event, Pod, Service};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::Client;
use kube::api::{Api, DynamicObject, ListParams, LogParams};
use serde_json::Value;

use super::{Finding, Layer};
use crate::lab::addons::{BUNDLE_VERSION, CHANNEL};
use crate::lab::apply::resource;
use crate::lab::metallb::Subnet;
use crate::lab::wait::{conditions_text, has_true};

/// Feature gates of KIC 3.4 (PINS.md §2 f).
pub const KIC_GATES: &[&str] = &[
    "GatewayAlpha",
    "FillIDs",
    "RewriteURIs",
    "KongServiceFacade",
    "SanitizeKonnectConfigDumps",
    "FallbackConfiguration",
    "KongCustomEntity",
    "CombinedServicesFromDifferentHTTPRoutes",
];
pub const PUBLISH_ANNOTATION: &str = "konghq.com/publish-service";

/// One Kong Ingress Controller found on the cluster.
#[derive(Debug, Clone, Default)]
pub struct Kic {
    pub namespace: String,
    pub name: String,
    pub deployment: Value,
    pub pods: Vec<Value>,
    /// Events about its pods.
    pub events: Vec<Value>,
    /// The last lines of the controller container's log (the previous run's when it crashed).
    pub log: String,
    pub publish_service: Option<String>,
    pub feature_gates: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct Facts {
    pub version: Option<String>,
    /// (name, bundle version, channel) of gateway.networking.k8s.io CRDs.
    pub crds: Vec<(String, Option<String>, Option<String>)>,
    pub classes: Vec<Value>,
    pub gateways: Vec<Value>,
    pub kics: Vec<Kic>,
    pub metallb_controller: Option<Value>,
    pub pools: Vec<Value>,
    pub services: Vec<Value>,
    pub routes: Vec<Value>,
    pub grants: Vec<Value>,
    pub services_all: Vec<(String, String)>,
}

fn json<T: serde::Serialize>(t: &T) -> Value {
    serde_json::to_value(t).unwrap_or_default()
}

/// A container's env value or `--flag=value` argument.
fn setting(container: &Value, env: &str, flag: &str) -> Option<String> {
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

fn kic_container(deployment: &Value) -> Option<&Value> {
    deployment["spec"]["template"]["spec"]["containers"]
        .as_array()?
        .iter()
        .find(|c| {
            c["image"]
                .as_str()
                .is_some_and(|i| i.contains("kubernetes-ingress-controller"))
        })
}

async fn list_dynamic(client: &Client, api_version: &str, kind: &str) -> Vec<Value> {
    let Some((ar, _)) = resource(api_version, kind) else {
        return vec![];
    };
    let api: Api<DynamicObject> = Api::all_with(client.clone(), &ar);
    api.list(&ListParams::default())
        .await
        .map(|l| l.items.iter().map(json).collect())
        .unwrap_or_default()
}

/// Reads everything the checks need. Missing kinds read as empty.
pub async fn gather(client: &Client) -> Result<Facts, String> {
    let mut f = Facts {
        version: Some(
            client
                .apiserver_version()
                .await
                .map_err(|e| format!("the API server does not answer: {e}"))?
                .git_version,
        ),
        ..Default::default()
    };
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    if let Ok(list) = crds.list(&ListParams::default()).await {
        for c in list {
            if c.spec.group != "gateway.networking.k8s.io" {
                continue;
            }
            let a = c.metadata.annotations.clone().unwrap_or_default();
            f.crds.push((
                c.metadata.name.clone().unwrap_or_default(),
                a.get(BUNDLE_VERSION).cloned(),
                a.get(CHANNEL).cloned(),
            ));
        }
    }
    f.classes = list_dynamic(client, "gateway.networking.k8s.io/v1", "GatewayClass").await;
    f.gateways = list_dynamic(client, "gateway.networking.k8s.io/v1", "Gateway").await;
    f.routes = list_dynamic(client, "gateway.networking.k8s.io/v1", "HTTPRoute").await;
    f.grants = list_dynamic(
        client,
        "gateway.networking.k8s.io/v1beta1",
        "ReferenceGrant",
    )
    .await;
    f.pools = list_dynamic(client, "metallb.io/v1beta1", "IPAddressPool").await;

    let deployments: Api<Deployment> = Api::all(client.clone());
    for d in deployments
        .list(&ListParams::default())
        .await
        .map(|l| l.items)
        .unwrap_or_default()
    {
        let dj = json(&d);
        let ns = d.metadata.namespace.clone().unwrap_or_default();
        let name = d.metadata.name.clone().unwrap_or_default();
        if ns == "metallb-system" && name == "controller" {
            f.metallb_controller = Some(dj.clone());
        }
        let Some(container) = kic_container(&dj) else {
            continue;
        };
        let mut kic = Kic {
            namespace: ns.clone(),
            name,
            publish_service: setting(container, "CONTROLLER_PUBLISH_SERVICE", "--publish-service"),
            feature_gates: setting(container, "CONTROLLER_FEATURE_GATES", "--feature-gates"),
            ..Default::default()
        };
        let container_name = container["name"].as_str().unwrap_or_default().to_string();
        kic.deployment = dj;
        let selector = d
            .spec
            .as_ref()
            .and_then(|s| s.selector.match_labels.clone())
            .unwrap_or_default();
        let selector = selector
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(",");
        let pods: Api<Pod> = Api::namespaced(client.clone(), &ns);
        let pod_list = pods
            .list(&ListParams::default().labels(&selector))
            .await
            .map(|l| l.items)
            .unwrap_or_default();
        let pod_names: Vec<String> = pod_list
            .iter()
            .filter_map(|p| p.metadata.name.clone())
            .collect();
        for p in &pod_list {
            let name = p.metadata.name.clone().unwrap_or_default();
            let crashed = p
                .status
                .as_ref()
                .and_then(|s| s.container_statuses.as_ref())
                .is_some_and(|cs| cs.iter().any(|c| c.restart_count > 0));
            if kic.log.is_empty() {
                let params = LogParams {
                    container: Some(container_name.clone()),
                    tail_lines: Some(100),
                    previous: crashed,
                    ..Default::default()
                };
                kic.log = pods.logs(&name, &params).await.unwrap_or_default();
            }
        }
        kic.pods = pod_list.iter().map(json).collect();
        let events: Api<Event> = Api::namespaced(client.clone(), &ns);
        kic.events = events
            .list(&ListParams::default())
            .await
            .map(|l| l.items)
            .unwrap_or_default()
            .into_iter()
            .filter(|e| {
                e.involved_object.kind.as_deref() == Some("Pod")
                    && e.involved_object
                        .name
                        .as_ref()
                        .is_some_and(|n| pod_names.contains(n))
            })
            .map(|e| json(&e))
            .collect();
        f.kics.push(kic);
    }
    let services: Api<Service> = Api::all(client.clone());
    for s in services
        .list(&ListParams::default())
        .await
        .map(|l| l.items)
        .unwrap_or_default()
    {
        f.services_all.push((
            s.metadata.namespace.clone().unwrap_or_default(),
            s.metadata.name.clone().unwrap_or_default(),
        ));
        if s.spec.as_ref().and_then(|sp| sp.type_.as_deref()) == Some("LoadBalancer") {
            f.services.push(json(&s));
        }
    }
    Ok(f)
}

fn condition<'a>(obj: &'a Value, type_: &str) -> Option<&'a Value> {
    obj["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == type_)
}

fn name_of(obj: &Value) -> String {
    match obj["metadata"]["namespace"].as_str() {
        Some(ns) => format!(
            "{ns}/{}",
            obj["metadata"]["name"].as_str().unwrap_or_default()
        ),
        None => obj["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    }
}

/// The lines of a log that contain `needle`, last one first.
fn log_line(log: &str, needle: &str) -> Option<String> {
    log.lines()
        .rev()
        .find(|l| l.contains(needle))
        .map(|l| l.chars().take(400).collect())
}

/// The MetalLB pool's addresses that collide with the Docker network's gateway
/// or with addresses in use.
pub fn pool_collisions(
    addresses: &[String],
    gateway: Option<Ipv4Addr>,
    in_use: &[Ipv4Addr],
) -> Vec<Ipv4Addr> {
    let mut hits = Vec::new();
    let taken: Vec<Ipv4Addr> = gateway.into_iter().chain(in_use.iter().copied()).collect();
    for a in addresses {
        let (lo, hi) = if let Some((a, b)) = a.split_once('-') {
            (
                a.trim().parse::<Ipv4Addr>().ok(),
                b.trim().parse::<Ipv4Addr>().ok(),
            )
        } else if let Ok(s) = a.parse::<Subnet>() {
            let bits = 32 - s.prefix as u32;
            let lo = u32::from(s.network);
            (
                Some(s.network),
                Some(Ipv4Addr::from(
                    lo + if bits >= 32 {
                        u32::MAX
                    } else {
                        (1u32 << bits) - 1
                    },
                )),
            )
        } else {
            (None, None)
        };
        let (Some(lo), Some(hi)) = (lo, hi) else {
            continue;
        };
        hits.extend(
            taken
                .iter()
                .filter(|t| u32::from(**t) >= u32::from(lo) && u32::from(**t) <= u32::from(hi)),
        );
    }
    hits.sort();
    hits.dedup();
    hits
}

/// Judges the facts. `network` is the lab's Docker network, when known.
pub fn analyze(
    f: &Facts,
    network: Option<&crate::lab::docker::NetworkInfo>,
) -> (Vec<Finding>, Vec<String>) {
    let mut out = Vec::new();
    let mut checks = vec![format!(
        "cluster reachable ({})",
        f.version.as_deref().unwrap_or("?")
    )];

    // Gateway API CRDs: present, one bundle version and channel, the expected one.
    checks.push("Gateway API CRDs".into());
    let core = [
        "gatewayclasses.gateway.networking.k8s.io",
        "gateways.gateway.networking.k8s.io",
        "httproutes.gateway.networking.k8s.io",
    ];
    let missing: Vec<&str> = core
        .iter()
        .copied()
        .filter(|c| !f.crds.iter().any(|(n, _, _)| n == c))
        .collect();
    if !missing.is_empty() {
        out.push(Finding::new("gateway-api-crds-missing", Layer::Crds, "Gateway API CRDs are missing").evidence(format!("not installed: {}", missing.join(", "))).fix("install the Gateway API v1.2.1 standard CRDs: `gwlab up --addons crds` (or on an existing cluster `gwlab up --provider existing --addons crds`)"));
    }
    let versions: std::collections::BTreeSet<(String, String)> = f
        .crds
        .iter()
        .map(|(_, v, c)| {
            (
                v.clone().unwrap_or_else(|| "none".into()),
                c.clone().unwrap_or_else(|| "none".into()),
            )
        })
        .collect();
    if versions.len() > 1 {
        let list: Vec<String> = f
            .crds
            .iter()
            .map(|(n, v, c)| {
                format!(
                    "{n}: {} ({})",
                    v.as_deref().unwrap_or("no bundle-version"),
                    c.as_deref().unwrap_or("no channel")
                )
            })
            .collect();
        out.push(Finding::new("gateway-api-crds-mixed", Layer::Crds, "the Gateway API CRDs come from different bundle versions or channels").evidence(list.join("; ")).fix("install one bundle: `gwlab up --addons crds --force` replaces them with v1.2.1 standard"));
    } else if let Some((v, c)) = versions.iter().next()
        && (!v.starts_with("v1.2.") || c != "standard")
    {
        out.push(Finding::new("gateway-api-crds-unexpected", Layer::Crds, format!("the Gateway API CRDs are {v} ({c} channel); gwlab and the lab's Kong 3.4 expect v1.2.1 standard")).evidence(format!("{BUNDLE_VERSION}: {v}, {CHANNEL}: {c}")).fix("`gwlab up --addons crds --force` installs v1.2.1 standard (check what else on the cluster relies on these CRDs first)"));
    }

    for kic in &f.kics {
        let at = format!("Deployment {}/{}", kic.namespace, kic.name);
        checks.push(format!("Kong Ingress Controller {at}"));
        // 1. `Gateway=true` makes KIC 3 exit at start.
        if let Some(gates) = &kic.feature_gates
            && gates
                .split(',')
                .any(|g| g.trim().split('=').next() == Some("Gateway"))
        {
            let mut fnd = Finding::new("kic-invalid-feature-gate", Layer::Controller, "the Kong Ingress Controller crash-loops: its feature gates name `Gateway`, which KIC 3 does not know")
                .evidence(format!("{at}: CONTROLLER_FEATURE_GATES={gates:?}"));
            for p in &kic.pods {
                for cs in p["status"]["containerStatuses"]
                    .as_array()
                    .into_iter()
                    .flatten()
                {
                    if let Some(reason) = cs["state"]["waiting"]["reason"].as_str() {
                        fnd = fnd.evidence(format!(
                            "pod {}: container {} {reason}, {} restarts",
                            p["metadata"]["name"].as_str().unwrap_or_default(),
                            cs["name"].as_str().unwrap_or_default(),
                            cs["restartCount"]
                        ));
                    }
                }
            }
            if let Some(l) = log_line(&kic.log, "is not a valid feature") {
                fnd = fnd.evidence(format!("log: {l}"));
            }
            out.push(
                fnd.fix("remove `Gateway=true`: KIC 3 serves Gateway API without any gate (Helm: drop it from ingressController.env.feature_gates)")
                    .fix(format!("the gates KIC 3.4 knows: {} (GatewayAlpha=true only for TCPRoute, UDPRoute, TLSRoute and BackendTLSPolicy)", KIC_GATES.join(", "))),
            );
        }
        // 3. hostNetwork with a rolling update: the new pod waits for the old one's ports.
        let host_network =
            kic.deployment["spec"]["template"]["spec"]["hostNetwork"].as_bool() == Some(true);
        let no_ports = kic.events.iter().find(|e| {
            e["reason"] == "FailedScheduling"
                && e["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("didn't have free ports"))
        });
        let pending: Vec<&str> = kic
            .pods
            .iter()
            .filter(|p| p["status"]["phase"] == "Pending")
            .filter_map(|p| p["metadata"]["name"].as_str())
            .collect();
        if host_network && (no_ports.is_some() || !pending.is_empty()) {
            let strategy = kic.deployment["spec"]["strategy"]["type"]
                .as_str()
                .unwrap_or("RollingUpdate");
            let mut fnd = Finding::new("kong-hostnetwork-port-conflict", Layer::Scheduling, "Kong pods are Pending: with hostNetwork, the new pod of a rolling update needs the host ports the old pod still holds")
                .evidence(format!("{at}: hostNetwork: true, strategy {strategy}"));
            if let Some(e) = no_ports {
                fnd = fnd.evidence(format!(
                    "event FailedScheduling on pod {}: {}",
                    e["involvedObject"]["name"].as_str().unwrap_or_default(),
                    e["message"].as_str().unwrap_or_default()
                ));
            }
            if !pending.is_empty() {
                fnd = fnd.evidence(format!("Pending: {}", pending.join(", ")));
            }
            out.push(
                fnd.fix(format!("unblock now: delete the old pod so the new one can bind the ports (`kubectl -n {} delete pod <the running kong pod>`), or set `strategy: {{type: Recreate}}`", kic.namespace))
                    .fix("lasting fix: drop hostNetwork and expose the proxy through a LoadBalancer Service (MetalLB on a local cluster, as `gwlab up` does), so updates never wait on host ports"),
            );
        }
        // 2. A Gateway annotation naming another publish service than the controller's.
        if let Some(publish) = &kic.publish_service {
            for gw in &f.gateways {
                let Some(annotation) = gw["metadata"]["annotations"][PUBLISH_ANNOTATION].as_str()
                else {
                    continue;
                };
                if annotation.split(',').all(|a| a.trim() == publish) {
                    continue;
                }
                let gname = name_of(gw);
                let programmed = condition(gw, "Programmed")
                    .map(|c| {
                        format!(
                            "Programmed={} ({}: {})",
                            c["status"].as_str().unwrap_or(""),
                            c["reason"].as_str().unwrap_or(""),
                            c["message"].as_str().unwrap_or("")
                        )
                    })
                    .unwrap_or_else(|| "no Programmed condition".into());
                let mut fnd = Finding::new("kong-publish-service-mismatch", Layer::PublishService, format!("Gateway {gname} is not programmed: its publish-service annotation does not match the controller's publish service"))
                    .evidence(format!("Gateway {gname}: {PUBLISH_ANNOTATION}: {annotation}"))
                    .evidence(format!("{at}: CONTROLLER_PUBLISH_SERVICE={publish}"))
                    .evidence(format!("Gateway {gname}: {programmed}"));
                if let Some(l) = log_line(&kic.log, "publish service") {
                    fnd = fnd.evidence(format!("log: {l}"));
                }
                out.push(
                    fnd.fix(format!("set the Gateway's annotation to `{PUBLISH_ANNOTATION}: {publish}`, or remove it (KIC writes its own publish service there)"))
                        .fix(format!("or, if `{annotation}` is the proxy Service you meant, point the controller at it: CONTROLLER_PUBLISH_SERVICE={annotation} (Helm: ingressController.env.publish_service)")),
                );
            }
        }
        // A crash loop with another cause: its last log lines say why.
        let crash = kic.pods.iter().any(|p| {
            p["status"]["containerStatuses"]
                .as_array()
                .is_some_and(|cs| {
                    cs.iter()
                        .any(|c| c["state"]["waiting"]["reason"] == "CrashLoopBackOff")
                })
        });
        if crash && !out.iter().any(|x| x.id == "kic-invalid-feature-gate") {
            let last = kic
                .log
                .lines()
                .rev()
                .take(3)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect::<Vec<_>>()
                .join(" | ");
            out.push(
                Finding::new(
                    "kic-crash-loop",
                    Layer::Controller,
                    format!("the Kong Ingress Controller {at} is crash-looping"),
                )
                .evidence(format!("last log lines: {last}"))
                .fix(format!(
                    "read `kubectl -n {} logs deploy/{} --previous` for the cause",
                    kic.namespace, kic.name
                )),
            );
        }
    }

    // GatewayClass kong and the lab Gateway.
    checks.push("GatewayClass kong Accepted".into());
    match f.classes.iter().find(|c| c["metadata"]["name"] == "kong") {
        None => out.push(Finding::new("gatewayclass-missing", Layer::GatewayClass, "GatewayClass kong does not exist").fix("`gwlab up` creates it (controllerName konghq.com/kic-gateway-controller, annotation konghq.com/gatewayclass-unmanaged: \"true\")")),
        Some(c) if !has_true(c.get("status"), "Accepted") => out.push(
            Finding::new("gatewayclass-not-accepted", Layer::GatewayClass, "GatewayClass kong is not Accepted")
                .evidence(format!("conditions: {}", conditions_text(c.get("status"))))
                .evidence(format!("controllerName: {}", c["spec"]["controllerName"].as_str().unwrap_or_default()))
                .fix("its controllerName must be konghq.com/kic-gateway-controller and a Kong Ingress Controller must be running (for an unmanaged class, with the annotation konghq.com/gatewayclass-unmanaged: \"true\")"),
        ),
        Some(_) => {}
    }
    checks.push("Gateway kong-system/kong Programmed, with an address".into());
    if let Some(gw) = f
        .gateways
        .iter()
        .find(|g| g["metadata"]["name"] == "kong" && g["metadata"]["namespace"] == "kong-system")
    {
        let addresses = gw["status"]["addresses"]
            .as_array()
            .map(|a| a.len())
            .unwrap_or(0);
        if !has_true(gw.get("status"), "Programmed") {
            out.push(Finding::new("gateway-not-programmed", Layer::Gateway, "Gateway kong-system/kong is not Programmed").evidence(format!("conditions: {}", conditions_text(gw.get("status")))).fix("see the findings above it; `kubectl -n kong-system describe gateway kong` shows the controller's messages"));
        } else if addresses == 0 {
            out.push(Finding::new("gateway-no-address", Layer::Gateway, "Gateway kong-system/kong has no address").evidence("status.addresses is empty").fix("the proxy Service needs an address: a LoadBalancer implementation (MetalLB on a local cluster)"));
        }
    }

    // MetalLB and the proxy Service.
    if let Some(c) = &f.metallb_controller {
        checks.push("MetalLB controller ready".into());
        if !c["status"]["conditions"].as_array().is_some_and(|cs| {
            cs.iter()
                .any(|x| x["type"] == "Available" && x["status"] == "True")
        }) {
            out.push(Finding::new("metallb-not-ready", Layer::LoadBalancer, "the MetalLB controller is not Available").evidence(format!("Deployment metallb-system/controller: {}", conditions_text(c.get("status")))).fix("`kubectl -n metallb-system get pods` and the controller's logs; `gwlab up --addons metallb` re-applies it"));
        }
    }
    if let Some(net) = network {
        checks.push(format!(
            "MetalLB pool clear of Docker network {} addresses in use",
            net.name
        ));
        for pool in &f.pools {
            let addresses: Vec<String> = pool["spec"]["addresses"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default();
            let hits = pool_collisions(&addresses, net.gateway, &net.in_use);
            if !hits.is_empty() {
                out.push(
                    Finding::new("metallb-pool-overlap", Layer::LoadBalancer, format!("MetalLB pool {} hands out addresses the Docker network {} already uses", name_of(pool), net.name))
                        .evidence(format!("pool addresses: {}", addresses.join(", ")))
                        .evidence(format!("in use on {} ({}/{}): {}", net.name, net.subnet.network, net.subnet.prefix, hits.iter().map(|h| h.to_string()).collect::<Vec<_>>().join(", ")))
                        .fix("use a range at the top of the network that skips its gateway: `gwlab up --addons metallb` writes one"),
                );
            }
        }
    }
    for kic in &f.kics {
        let Some(publish) = &kic.publish_service else {
            continue;
        };
        let Some((ns, name)) = publish.split_once('/') else {
            continue;
        };
        if let Some(svc) = f
            .services
            .iter()
            .find(|s| s["metadata"]["namespace"] == ns && s["metadata"]["name"] == name)
        {
            checks.push(format!("proxy Service {publish} has an address"));
            if svc["status"]["loadBalancer"]["ingress"]
                .as_array()
                .is_none_or(|i| i.is_empty())
            {
                out.push(Finding::new("proxy-service-no-address", Layer::LoadBalancer, format!("the proxy Service {publish} (LoadBalancer) has no address")).evidence("status.loadBalancer.ingress is empty").fix("install a LoadBalancer implementation (MetalLB: `gwlab up --addons metallb`), or reach the proxy through its NodePorts"));
            }
        }
    }
    checks.push(format!(
        "{} HTTPRoutes Accepted and ResolvedRefs",
        f.routes.len()
    ));
    out.extend(super::routes::check(f));
    (out, checks)
}
