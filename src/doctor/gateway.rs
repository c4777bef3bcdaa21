//! The lab's GatewayClass (Accepted) and Gateway (Programmed, with an address).

use serde_json::Value;

use super::facts::Facts;
use super::{Finding, Layer};
use crate::kong;
use crate::lab::wait::{conditions_text, has_true};

pub(super) fn check(f: &Facts, out: &mut Vec<Finding>, checks: &mut Vec<String>) {
    checks.push(format!("GatewayClass {} Accepted", kong::CLASS_NAME));
    out.extend(class(f));
    checks.push(format!(
        "Gateway {}/{} Programmed, with an address",
        kong::NAMESPACE,
        kong::GATEWAY_NAME
    ));
    let explained = out.iter().any(|x| x.is_problem());
    out.extend(gateway(f, explained));
}

fn class(f: &Facts) -> Option<Finding> {
    let (name, controller, unmanaged) = (
        kong::CLASS_NAME,
        kong::CONTROLLER_NAME,
        kong::UNMANAGED_ANNOTATION,
    );
    match f.classes.iter().find(|c| c["metadata"]["name"] == name) {
        None => Some(Finding::new("gatewayclass-missing", Layer::GatewayClass, format!("GatewayClass {name} does not exist"))
            .fix(format!("`gwlab up` creates it (controllerName {controller}, annotation {unmanaged}: \"true\")"))),
        Some(c) if !has_true(c.get("status"), "Accepted") => Some(
            Finding::new("gatewayclass-not-accepted", Layer::GatewayClass, format!("GatewayClass {name} is not Accepted"))
                .evidence(format!("conditions: {}", conditions_text(c.get("status"))))
                .evidence(format!("controllerName: {}", c["spec"]["controllerName"].as_str().unwrap_or_default()))
                .fix(format!("its controllerName must be {controller} and a Kong Ingress Controller must be running (for an unmanaged class, with the annotation {unmanaged}: \"true\")")),
        ),
        Some(_) => None,
    }
}

/// `explained`: a finding before this one says why the Gateway is not
/// programmed.
fn gateway(f: &Facts, explained: bool) -> Option<Finding> {
    let (ns, name) = (kong::NAMESPACE, kong::GATEWAY_NAME);
    let gw: &Value = f
        .gateways
        .iter()
        .find(|g| g["metadata"]["name"] == name && g["metadata"]["namespace"] == ns)?;
    let addresses = gw["status"]["addresses"]
        .as_array()
        .map(|a| a.len())
        .unwrap_or(0);
    if !has_true(gw.get("status"), "Programmed") {
        Some(Finding::new("gateway-not-programmed", Layer::Gateway, format!("Gateway {ns}/{name} is not Programmed"))
            .evidence(format!("conditions: {}", conditions_text(gw.get("status"))))
            .fix(if explained {
                format!("see the findings above it; `kubectl -n {ns} describe gateway {name}` shows the controller's messages")
            } else {
                format!("no other finding explains it: `kubectl -n {ns} describe gateway {name}` shows the controller's messages")
            }))
    } else if addresses == 0 {
        Some(Finding::new("gateway-no-address", Layer::Gateway, format!("Gateway {ns}/{name} has no address"))
            .evidence("status.addresses is empty")
            .fix("the proxy Service needs an address: a LoadBalancer implementation (MetalLB on a local cluster)"))
    } else {
        None
    }
}
