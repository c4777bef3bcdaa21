//! The load balancer: the MetalLB controller, its address pools against the
//! lab's Docker network, and the controllers' proxy Services' addresses.

use std::net::Ipv4Addr;

use k8s_openapi::api::apps::v1::Deployment;
use serde_json::Value;

use super::cluster::name_of;
use super::facts::Facts;
use super::{Finding, Layer};
use crate::lab::docker::NetworkInfo;
use crate::lab::metallb::Subnet;
use crate::lab::wait::{deployment_conditions, is_available};

pub(super) fn check(
    f: &Facts,
    network: Option<&NetworkInfo>,
    out: &mut Vec<Finding>,
    checks: &mut Vec<String>,
) {
    if let Some(c) = &f.metallb_controller {
        checks.push("MetalLB controller ready".into());
        out.extend(controller(c));
    }
    if let Some(net) = network {
        checks.push(format!(
            "MetalLB pool clear of Docker network {} addresses in use",
            net.name
        ));
        out.extend(f.pools.iter().filter_map(|pool| pool_overlap(pool, net)));
    }
    proxy_services(f, out, checks);
}

fn controller(c: &Deployment) -> Option<Finding> {
    (!is_available(c)).then(|| {
        Finding::new("metallb-not-ready", Layer::LoadBalancer, "the MetalLB controller is not Available")
            .evidence(format!("Deployment metallb-system/controller: {}", deployment_conditions(c)))
            .fix("`kubectl -n metallb-system get pods` and the controller's logs; `gwlab up --addons metallb` re-applies it")
    })
}

fn pool_overlap(pool: &Value, net: &NetworkInfo) -> Option<Finding> {
    let addresses: Vec<String> = pool["spec"]["addresses"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    let hits = pool_collisions(&addresses, net.gateway, &net.in_use);
    if hits.is_empty() {
        return None;
    }
    let hits: Vec<String> = hits.iter().map(|h| h.to_string()).collect();
    Some(
        Finding::new("metallb-pool-overlap", Layer::LoadBalancer, format!("MetalLB pool {} hands out addresses the Docker network {} already uses", name_of(pool), net.name))
            .evidence(format!("pool addresses: {}", addresses.join(", ")))
            .evidence(format!("in use on {} ({}/{}): {}", net.name, net.subnet.network, net.subnet.prefix, hits.join(", ")))
            .fix("use a range at the top of the network that skips its gateway: `gwlab up --addons metallb` writes one"),
    )
}

/// The first and last address of a pool entry: `a-b` or a CIDR.
fn address_range(entry: &str) -> Option<(Ipv4Addr, Ipv4Addr)> {
    if let Some((a, b)) = entry.split_once('-') {
        return Some((a.trim().parse().ok()?, b.trim().parse().ok()?));
    }
    let s = entry.parse::<Subnet>().ok()?;
    let bits = 32 - s.prefix as u32;
    let size = if bits >= 32 {
        u32::MAX
    } else {
        (1u32 << bits) - 1
    };
    Some((s.network, Ipv4Addr::from(u32::from(s.network) + size)))
}

/// The MetalLB pool's addresses that collide with the Docker network's gateway
/// or with addresses in use.
pub(crate) fn pool_collisions(
    addresses: &[String],
    gateway: Option<Ipv4Addr>,
    in_use: &[Ipv4Addr],
) -> Vec<Ipv4Addr> {
    let taken: Vec<Ipv4Addr> = gateway.into_iter().chain(in_use.iter().copied()).collect();
    let mut hits = Vec::new();
    for (lo, hi) in addresses.iter().filter_map(|a| address_range(a)) {
        hits.extend(taken.iter().filter(|t| (lo..=hi).contains(*t)));
    }
    hits.sort();
    hits.dedup();
    hits
}

/// Each controller's publish service, when it is a LoadBalancer Service, has an address.
fn proxy_services(f: &Facts, out: &mut Vec<Finding>, checks: &mut Vec<String>) {
    for publish in f.kics.iter().filter_map(|k| k.publish_service.as_ref()) {
        let Some((ns, name)) = publish.split_once('/') else {
            continue;
        };
        let Some(svc) = f.services.iter().find(|s| {
            s.metadata.namespace.as_deref() == Some(ns) && s.metadata.name.as_deref() == Some(name)
        }) else {
            continue;
        };
        checks.push(format!("proxy Service {publish} has an address"));
        let ingress = svc
            .status
            .as_ref()
            .and_then(|s| s.load_balancer.as_ref()?.ingress.as_ref());
        if ingress.is_none_or(|i| i.is_empty()) {
            out.push(Finding::new("proxy-service-no-address", Layer::LoadBalancer, format!("the proxy Service {publish} (LoadBalancer) has no address")).evidence("status.loadBalancer.ingress is empty").fix("install a LoadBalancer implementation (MetalLB: `gwlab up --addons metallb`), or reach the proxy through its NodePorts"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_and_cidrs_collide_with_the_gateway_and_addresses_in_use() {
        let gateway = Ipv4Addr::new(172, 18, 0, 1);
        let gw = Some(gateway);
        let in_use = [Ipv4Addr::new(172, 18, 255, 250)];
        let pools = ["172.18.255.247-172.18.255.254".to_string()];
        assert_eq!(pool_collisions(&pools, gw, &in_use), in_use.to_vec());
        let cidr = ["172.18.0.0/24".to_string(), "not an address".to_string()];
        assert_eq!(pool_collisions(&cidr, gw, &in_use), vec![gateway]);
    }
}
