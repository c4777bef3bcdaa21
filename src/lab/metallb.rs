//! The MetalLB address pool: a small range at the top of the Docker network's
//! subnet, where Docker's own allocation (from the bottom) does not reach, that
//! skips the network's gateway address and every address in use.

use std::net::Ipv4Addr;

/// Where MetalLB's native manifest installs it.
pub(crate) const NAMESPACE: &str = "metallb-system";
/// The Service in front of the controller's admission webhook.
pub(crate) const WEBHOOK_SERVICE: &str = "metallb-webhook-service";

/// An IPv4 subnet as Docker reports it (`172.18.0.0/16`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subnet {
    pub network: Ipv4Addr,
    pub prefix: u8,
}

/// A subnet that does not read as IPv4 CIDR.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an IPv4 CIDR (address/prefix length)")]
pub struct NotCidr(pub String);

/// Why no pool fits a network.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PoolError {
    #[error(
        "the Docker network {network}/{prefix} is too small for a load-balancer pool (at most /28)"
    )]
    TooSmall { network: Ipv4Addr, prefix: u8 },
    #[error("only {free} free addresses at the top of {network}/{prefix}; {needed} are needed")]
    Full {
        free: usize,
        needed: u32,
        network: Ipv4Addr,
        prefix: u8,
    },
}

impl std::str::FromStr for Subnet {
    type Err = NotCidr;
    fn from_str(s: &str) -> Result<Self, NotCidr> {
        let bad = || NotCidr(s.to_string());
        let (addr, prefix) = s.split_once('/').ok_or_else(bad)?;
        let addr: Ipv4Addr = addr.parse().map_err(|_| bad())?;
        let prefix: u8 = prefix.parse().ok().filter(|p| *p <= 32).ok_or_else(bad)?;
        let mask = if prefix == 0 {
            0
        } else {
            u32::MAX << (32 - prefix)
        };
        Ok(Subnet {
            network: Ipv4Addr::from(u32::from(addr) & mask),
            prefix,
        })
    }
}

impl Subnet {
    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        let mask = if self.prefix == 0 {
            0
        } else {
            u32::MAX << (32 - self.prefix)
        };
        u32::from(ip) & mask == u32::from(self.network)
    }

    fn broadcast(&self) -> u32 {
        u32::from(self.network) | (u32::MAX >> self.prefix)
    }
}

/// `size` addresses from the top of `subnet` (below the broadcast address),
/// skipping `gateway` and `in_use`, as MetalLB `spec.addresses` entries
/// (`a-b` for each run of consecutive addresses, `a/32` for a lone one).
pub fn pool(
    subnet: Subnet,
    gateway: Option<Ipv4Addr>,
    in_use: &[Ipv4Addr],
    size: u32,
) -> Result<Vec<String>, PoolError> {
    if subnet.prefix > 28 {
        return Err(PoolError::TooSmall {
            network: subnet.network,
            prefix: subnet.prefix,
        });
    }
    let lowest = u32::from(subnet.network) + 1;
    let mut picked = Vec::new();
    let mut ip = subnet.broadcast() - 1;
    // Never take more than the top quarter: Docker hands out addresses from the bottom.
    let floor = subnet.broadcast() - ((subnet.broadcast() - lowest) / 4);
    while picked.len() < size as usize && ip >= floor.max(lowest) {
        let addr = Ipv4Addr::from(ip);
        if Some(addr) != gateway && !in_use.contains(&addr) {
            picked.push(ip);
        }
        ip -= 1;
    }
    if picked.len() < size as usize {
        return Err(PoolError::Full {
            free: picked.len(),
            needed: size,
            network: subnet.network,
            prefix: subnet.prefix,
        });
    }
    picked.sort_unstable();
    let range = |a: u32, b: u32| {
        if a == b {
            format!("{}/32", Ipv4Addr::from(a))
        } else {
            format!("{}-{}", Ipv4Addr::from(a), Ipv4Addr::from(b))
        }
    };
    let mut ranges = Vec::new();
    let mut start = picked[0];
    let mut prev = picked[0];
    for &ip in &picked[1..] {
        if ip != prev + 1 {
            ranges.push(range(start, prev));
            start = ip;
        }
        prev = ip;
    }
    ranges.push(range(start, prev));
    Ok(ranges)
}

/// The MetalLB objects for a pool: an IPAddressPool and an L2Advertisement of it.
pub(crate) fn pool_manifests(addresses: &[String]) -> Vec<serde_json::Value> {
    vec![
        serde_json::json!({
            "apiVersion": "metallb.io/v1beta1",
            "kind": "IPAddressPool",
            "metadata": {"name": "gwlab", "namespace": NAMESPACE, "labels": {super::MANAGED_BY.0: super::MANAGED_BY.1}},
            "spec": {"addresses": addresses},
        }),
        serde_json::json!({
            "apiVersion": "metallb.io/v1beta1",
            "kind": "L2Advertisement",
            "metadata": {"name": "gwlab", "namespace": NAMESPACE, "labels": {super::MANAGED_BY.0: super::MANAGED_BY.1}},
            "spec": {"ipAddressPools": ["gwlab"]},
        }),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> Ipv4Addr {
        s.parse().unwrap()
    }

    #[test]
    fn top_of_a_16_skips_broadcast() {
        let s: Subnet = "172.18.0.0/16".parse().unwrap();
        assert_eq!(
            pool(s, Some(ip("172.18.0.1")), &[], 8).unwrap(),
            vec!["172.18.255.247-172.18.255.254"]
        );
    }

    #[test]
    fn gateway_and_used_addresses_are_skipped() {
        let s: Subnet = "10.9.0.0/24".parse().unwrap();
        let got = pool(s, Some(ip("10.9.0.254")), &[ip("10.9.0.250")], 4).unwrap();
        assert_eq!(got, vec!["10.9.0.249/32", "10.9.0.251-10.9.0.253"]);
        for r in got {
            assert!(!r.contains("10.9.0.254") && !r.contains("10.9.0.250"));
        }
    }

    #[test]
    fn small_or_full_networks_are_refused() {
        assert!(pool("10.0.0.0/29".parse().unwrap(), None, &[], 2).is_err());
        let s: Subnet = "10.0.0.0/27".parse().unwrap();
        let used: Vec<Ipv4Addr> = (20..31).map(|i| ip(&format!("10.0.0.{i}"))).collect();
        assert!(matches!(
            pool(s, None, &used, 4),
            Err(PoolError::Full { needed: 4, .. })
        ));
    }

    #[test]
    fn cidr_parsing_normalises_the_network() {
        let s: Subnet = "192.168.49.7/24".parse().unwrap();
        assert_eq!(s.network, ip("192.168.49.0"));
        assert!(s.contains(ip("192.168.49.200")));
        assert!(!s.contains(ip("192.168.50.1")));
        assert!("fd00::/64".parse::<Subnet>().is_err());
    }
}
