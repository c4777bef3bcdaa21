//! The Kong Ingress Controller's Deployments and DaemonSets: feature gates KIC does not know,
//! hostNetwork pods stuck behind their own host ports, a Gateway annotation
//! naming another publish service, and crash loops of any other cause.

use k8s_openapi::api::core::v1::{ContainerStatus, Pod};
use serde_json::Value;

use super::cluster::{condition, name_of};
use super::facts::{Facts, Kic};
use super::{Finding, Layer};
use crate::kong;

const INVALID_GATE: &str = "kic-invalid-feature-gate";

pub(super) fn check(f: &Facts, out: &mut Vec<Finding>, checks: &mut Vec<String>) {
    if f.kics.is_empty() {
        checks.push("a Kong Ingress Controller runs".into());
        out.push(
            Finding::new(
                "kic-missing",
                Layer::Controller,
                "no Kong Ingress Controller runs: no Deployment or DaemonSet has a container of image kong/kubernetes-ingress-controller",
            )
            .evidence(format!(
                "{} found, and no controller beside them",
                crate::diag::counted(f.kongs.len(), "Kong proxy container")
            ))
            .fix(format!(
                "install it: `gwlab up` does (the lab's Deployment {}/{}), or re-apply the manifests that made it",
                kong::NAMESPACE,
                kong::DEPLOYMENT
            )),
        );
    }
    for kic in &f.kics {
        let at = format!("{} {}/{}", kic.kind(), kic.namespace(), kic.name());
        checks.push(format!("Kong Ingress Controller {at}"));
        out.extend(invalid_gate(kic, &at));
        out.extend(host_network(kic, &at));
        out.extend(publish_mismatches(f, kic, &at));
        // A crash loop with another cause: its last log lines say why.
        if crash_looping(kic) && !out.iter().any(|x| x.id == INVALID_GATE) {
            out.push(crash_loop(kic, &at));
        }
    }
}

/// The last line of a log that contains `needle`, cut to 400 characters.
fn log_line(log: &str, needle: &str) -> Option<String> {
    log.lines()
        .rev()
        .find(|l| l.contains(needle))
        .map(|l| l.chars().take(400).collect())
}

/// `Gateway=true` makes KIC 3 exit at start.
fn invalid_gate(kic: &Kic, at: &str) -> Option<Finding> {
    let gates = kic.feature_gates.as_ref()?;
    let names_gateway = gates
        .split(',')
        .any(|g| g.trim().split('=').next() == Some("Gateway"));
    if !names_gateway {
        return None;
    }
    let env = kong::FEATURE_GATES_ENV.0;
    let mut fnd = Finding::new(INVALID_GATE, Layer::Controller, "the Kong Ingress Controller crash-loops: its feature gates name `Gateway`, which KIC 3 does not know")
        .evidence(format!("{at}: {env}={gates:?}"));
    for e in waiting_containers(kic) {
        fnd = fnd.evidence(e);
    }
    if let Some(l) = log_line(&kic.log, "is not a valid feature") {
        fnd = fnd.evidence(format!("log: {l}"));
    }
    let line = kong::image_version(&kic.image)
        .and_then(kong::Version::parse)
        .and_then(kong::facts::kic_line)
        .unwrap_or_else(|| {
            kong::facts::KIC_LINES
                .last()
                .expect("gwlab knows a KIC line")
        });
    Some(
        fnd.fix("remove `Gateway=true`: KIC 3 serves Gateway API without any gate (Helm: drop it from ingressController.env.feature_gates)")
            .fix(format!(
                "the gates KIC {}.{} knows: {} (GatewayAlpha=true only for TCPRoute, UDPRoute, TLSRoute and BackendTLSPolicy; {})",
                line.line.0,
                line.line.1,
                line.feature_gates.value.join(", "),
                line.feature_gates.source
            )),
    )
}

/// A line for each container of the controller's pods that waits, with why.
fn waiting_containers(kic: &Kic) -> Vec<String> {
    let mut lines = Vec::new();
    for p in &kic.pods {
        for cs in container_statuses(p) {
            if let Some(reason) = waiting_reason(cs) {
                lines.push(format!(
                    "pod {}: container {} {reason}, {} restarts",
                    p.metadata.name.as_deref().unwrap_or_default(),
                    cs.name,
                    cs.restart_count
                ));
            }
        }
    }
    lines
}

/// hostNetwork pods Pending for want of their host ports: a Deployment's new
/// pod waits for the old one's ports during a rolling update; a DaemonSet's
/// pod finds them held by something else on its node.
fn host_network(kic: &Kic, at: &str) -> Option<Finding> {
    let host_network = kic.workload.pod_spec().and_then(|s| s.host_network);
    if host_network != Some(true) {
        return None;
    }
    let no_ports = kic.events.iter().find(|e| {
        e.reason.as_deref() == Some("FailedScheduling")
            && e.message
                .as_deref()
                .is_some_and(|m| m.contains("didn't have free ports"))
    });
    let pending: Vec<&str> = kic
        .pods
        .iter()
        .filter(|p| p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Pending"))
        .filter_map(|p| p.metadata.name.as_deref())
        .collect();
    if no_ports.is_none() && pending.is_empty() {
        return None;
    }
    let daemon_set = kic.kind() == "DaemonSet";
    let strategy = kic.workload.strategy();
    let replicas = kic.workload.replicas();
    // One pod, replaced only after the old one is gone: nothing of its own
    // holds the ports any more (what is Pending was from before the change).
    if !daemon_set && strategy == "Recreate" && replicas <= 1 {
        return None;
    }
    let summary = if daemon_set {
        "Kong pods are Pending: with hostNetwork, each pod needs its node's ports 80/443 (and the proxy's others), and something on the node holds them".to_string()
    } else if replicas > 1 {
        format!(
            "Kong pods are Pending: with hostNetwork, each of the {replicas} replicas needs the same host ports, which one node can give to one pod only"
        )
    } else {
        "Kong pods are Pending: with hostNetwork, the new pod of a rolling update needs the host ports the old pod still holds".to_string()
    };
    let mut fnd = Finding::new("kong-hostnetwork-port-conflict", Layer::Scheduling, summary)
        .evidence(format!(
            "{at}: hostNetwork: true, strategy {strategy}, replicas {replicas}"
        ));
    if let Some(e) = no_ports {
        fnd = fnd.evidence(format!(
            "event FailedScheduling on pod {}: {}",
            e.involved_object.name.as_deref().unwrap_or_default(),
            e.message.as_deref().unwrap_or_default()
        ));
    }
    if !pending.is_empty() {
        fnd = fnd.evidence(format!("Pending: {}", pending.join(", ")));
    }
    let unblock = if daemon_set {
        "unblock now: find what holds the ports on the node (another proxy on hostNetwork, k3s's ServiceLB or Traefik, a host process: `ss -ltnp` on the node) and stop it".to_string()
    } else if replicas > 1 {
        "unblock now: set `replicas: 1` and `strategy: {type: Recreate}` (Recreate alone leaves the other replicas Pending: they want the same ports on one node)".to_string()
    } else {
        format!(
            "unblock now: delete the old pod so the new one can bind the ports (`kubectl -n {} delete pod <the running kong pod>`), or set `strategy: {{type: Recreate}}`",
            kic.namespace()
        )
    };
    Some(fnd.fix(unblock).fix("lasting fix: drop hostNetwork and expose the proxy through a LoadBalancer Service (MetalLB on a local cluster, as `gwlab up` does), so updates never wait on host ports"))
}

/// Gateways whose publish-service annotation names another Service than the
/// controller's publish service.
fn publish_mismatches(f: &Facts, kic: &Kic, at: &str) -> Vec<Finding> {
    let Some(publish) = &kic.publish_service else {
        return Vec::new();
    };
    f.gateways
        .iter()
        .filter_map(|gw| {
            let annotation = gw["metadata"]["annotations"][kong::PUBLISH_ANNOTATION].as_str()?;
            let matches = annotation.split(',').all(|a| a.trim() == publish);
            (!matches).then(|| publish_mismatch(kic, at, gw, annotation, publish))
        })
        .collect()
}

fn publish_mismatch(kic: &Kic, at: &str, gw: &Value, annotation: &str, publish: &str) -> Finding {
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
    let (key, env) = (kong::PUBLISH_ANNOTATION, kong::PUBLISH_SERVICE_ENV.0);
    let mut fnd = Finding::new("kong-publish-service-mismatch", Layer::PublishService, format!("Gateway {gname} is not programmed: its publish-service annotation does not match the controller's publish service"))
        .evidence(format!("Gateway {gname}: {key}: {annotation}"))
        .evidence(format!("{at}: {env}={publish}"))
        .evidence(format!("Gateway {gname}: {programmed}"));
    if let Some(l) = log_line(&kic.log, "publish service") {
        fnd = fnd.evidence(format!("log: {l}"));
    }
    fnd.fix(format!("set the Gateway's annotation to `{key}: {publish}`, or remove it (KIC writes its own publish service there)"))
        .fix(format!("or, if `{annotation}` is the proxy Service you meant, point the controller at it: {env}={annotation} (Helm: ingressController.env.publish_service)"))
}

fn crash_looping(kic: &Kic) -> bool {
    kic.pods.iter().any(|p| {
        container_statuses(p)
            .iter()
            .any(|c| waiting_reason(c) == Some("CrashLoopBackOff"))
    })
}

/// A pod's container statuses, none when it has no status yet.
pub(super) fn container_statuses(p: &Pod) -> &[ContainerStatus] {
    p.status
        .as_ref()
        .and_then(|s| s.container_statuses.as_deref())
        .unwrap_or_default()
}

/// Why a container waits, when it does.
fn waiting_reason(c: &ContainerStatus) -> Option<&str> {
    c.state.as_ref()?.waiting.as_ref()?.reason.as_deref()
}

fn crash_loop(kic: &Kic, at: &str) -> Finding {
    let mut last: Vec<&str> = kic.log.lines().rev().take(3).collect();
    last.reverse();
    Finding::new(
        "kic-crash-loop",
        Layer::Controller,
        format!("the Kong Ingress Controller {at} is crash-looping"),
    )
    .evidence(format!("last log lines: {}", last.join(" | ")))
    .fix(format!(
        "read `kubectl -n {} logs {}/{} --previous` for the cause",
        kic.namespace(),
        if kic.kind() == "DaemonSet" {
            "ds"
        } else {
            "deploy"
        },
        kic.name()
    ))
}
