//! How probes reach the lab Gateway (Kong's proxy), best first:
//!
//! 1. an address in the Gateway's status that answers;
//! 2. the proxy Service's load-balancer address: KIC writes the Gateway's
//!    addresses only when `Programmed` first turns True, so an IP a load
//!    balancer assigns later shows only on the Service;
//! 3. the lab's host ports mapped to the NodePorts (k3s and kind labs);
//! 4. a node's address with the proxy Service's NodePorts (an existing
//!    cluster with no load balancer);
//! 5. nothing from outside the cluster: `kubectl port-forward` is the way.

use std::time::Duration;

use k8s_openapi::api::core::v1::{Node, Service};
use kube::Api;
use serde_json::Value;

use super::LabError;
use crate::kong;

/// What the cluster says about the ways in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Ways {
    /// `status.addresses` of the Gateway.
    pub gateway: Vec<String>,
    /// The proxy Service's `status.loadBalancer.ingress` (IP or hostname).
    pub load_balancer: Vec<String>,
    /// The proxy Service's NodePorts for 80 and 443.
    pub node_ports: (Option<u16>, Option<u16>),
    /// Nodes' InternalIP (or ExternalIP) addresses.
    pub nodes: Vec<String>,
    /// Host ports a lab gwlab created maps to the NodePorts.
    pub mapped: (Option<u16>, Option<u16>),
}

/// The way probes take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Reach {
    /// An address of the Gateway's own.
    Gateway(String),
    /// The proxy Service's load-balancer address.
    LoadBalancer(String),
    /// 127.0.0.1 and the lab's host ports.
    HostPorts { http: u16, https: Option<u16> },
    /// A node's address and the NodePorts.
    NodePort {
        node: String,
        http: u16,
        https: Option<u16>,
    },
    /// None from outside the cluster.
    PortForward,
}

impl Reach {
    /// Host and port to connect to for a Gateway listener port. Listener
    /// ports other than 80 and 443 are reachable only at an address.
    pub fn socket(&self, port: u16) -> Option<(String, u16)> {
        let pick = |http: u16, https: Option<u16>| match port {
            80 => Some(http),
            443 => https,
            _ => None,
        };
        match self {
            Reach::Gateway(a) | Reach::LoadBalancer(a) => Some((a.clone(), port)),
            Reach::HostPorts { http, https } => Some(("127.0.0.1".into(), pick(*http, *https)?)),
            Reach::NodePort { node, http, https } => Some((node.clone(), pick(*http, *https)?)),
            Reach::PortForward => None,
        }
    }

    /// One line for `up` and `status`.
    pub(crate) fn describe(&self) -> String {
        let gw = format!("{}/{}", kong::NAMESPACE, kong::GATEWAY_NAME);
        match self {
            Reach::Gateway(a) => format!("probes reach Gateway {gw} at its address {a}"),
            Reach::LoadBalancer(a) => format!(
                "Gateway {gw} has no address that answers; probes use the proxy Service's load-balancer address {a}"
            ),
            Reach::HostPorts { http, https } => format!(
                "probes reach Gateway {gw} through the lab's host ports: 127.0.0.1:{http} (80){}",
                https
                    .map(|p| format!(" and 127.0.0.1:{p} (443)"))
                    .unwrap_or_default()
            ),
            Reach::NodePort { node, http, https } => format!(
                "Gateway {gw} has no load-balancer address; probes use node {node} with the NodePorts {http} (80){}",
                https.map(|p| format!(" and {p} (443)")).unwrap_or_default()
            ),
            Reach::PortForward => format!(
                "Gateway {gw} is not reachable from outside the cluster (no load-balancer address, no NodePort that answers): run `kubectl port-forward -n {} svc/{} 8080:80 8443:443` and `gwlab test --gateway-address 127.0.0.1:8080,8443`",
                kong::NAMESPACE,
                kong::PROXY_SERVICE
            ),
        }
    }
}

/// Reads the ways in: the Gateway's addresses (from `gateway`, the object as
/// JSON), the proxy Service and the nodes.
pub(crate) async fn ways(
    client: &kube::Client,
    gateway: &Value,
    mapped: (Option<u16>, Option<u16>),
) -> Result<Ways, LabError> {
    let services: Api<Service> = Api::namespaced(client.clone(), kong::NAMESPACE);
    let proxy = services
        .get_opt(kong::PROXY_SERVICE)
        .await
        .map_err(LabError::kube(format!(
            "cannot read Service {}/{}",
            kong::NAMESPACE,
            kong::PROXY_SERVICE
        )))?;
    let proxy = proxy
        .map(|s| serde_json::to_value(s).unwrap_or_default())
        .unwrap_or_default();
    let node_ports = (node_port(&proxy, 80), node_port(&proxy, 443));
    let nodes = if node_ports.0.is_some() {
        let api: Api<Node> = Api::all(client.clone());
        let list = api
            .list(&Default::default())
            .await
            .map_err(LabError::kube("cannot list nodes"))?;
        list.items
            .iter()
            .flat_map(|n| n.status.iter().flat_map(|s| s.addresses.iter().flatten()))
            .filter(|a| a.type_ == "InternalIP" || a.type_ == "ExternalIP")
            .map(|a| a.address.clone())
            .collect()
    } else {
        Vec::new()
    };
    Ok(Ways {
        gateway: super::wait::gateway_addresses(gateway),
        load_balancer: load_balancer(&proxy),
        node_ports,
        nodes,
        mapped,
    })
}

fn load_balancer(service: &Value) -> Vec<String> {
    service
        .pointer("/status/loadBalancer/ingress")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|i| {
            i.get("ip")
                .or_else(|| i.get("hostname"))
                .and_then(Value::as_str)
                .map(String::from)
        })
        .collect()
}

fn node_port(service: &Value, port: u64) -> Option<u16> {
    service
        .pointer("/spec/ports")
        .and_then(Value::as_array)?
        .iter()
        .find(|p| p.get("port").and_then(Value::as_u64) == Some(port))?
        .get("nodePort")
        .and_then(Value::as_u64)
        .and_then(|p| u16::try_from(p).ok())
}

/// Whether `host:port` accepts a TCP connection within a second.
async fn answers(host: &str, port: u16) -> bool {
    matches!(
        tokio::time::timeout(
            Duration::from_secs(1),
            tokio::net::TcpStream::connect((host, port))
        )
        .await,
        Ok(Ok(_))
    )
}

/// The best way in that answers (on port 80, or the NodePort for it).
pub(crate) async fn choose(ways: &Ways) -> Reach {
    for a in &ways.gateway {
        if answers(a, 80).await {
            return Reach::Gateway(a.clone());
        }
    }
    for a in &ways.load_balancer {
        if answers(a, 80).await {
            return Reach::LoadBalancer(a.clone());
        }
    }
    if let (Some(http), https) = ways.mapped {
        return Reach::HostPorts { http, https };
    }
    if let (Some(http), https) = ways.node_ports {
        for n in &ways.nodes {
            if answers(n, http).await {
                return Reach::NodePort {
                    node: n.clone(),
                    http,
                    https,
                };
            }
        }
    }
    // Nothing answers from here: an address the cluster gives is still the
    // best guess (probes then say it does not answer).
    match (ways.gateway.first(), ways.load_balancer.first()) {
        (Some(a), _) => Reach::Gateway(a.clone()),
        (None, Some(a)) => Reach::LoadBalancer(a.clone()),
        (None, None) => Reach::PortForward,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_proxy_service_gives_load_balancer_addresses_and_node_ports() {
        let svc = json!({"spec": {"ports": [{"port": 80, "nodePort": 30080}, {"port": 443, "nodePort": 30443}]},
            "status": {"loadBalancer": {"ingress": [{"ip": "172.18.255.254"}, {"hostname": "lb.example.com"}]}}});
        assert_eq!(
            load_balancer(&svc),
            vec!["172.18.255.254", "lb.example.com"]
        );
        assert_eq!(node_port(&svc, 80), Some(30080));
        assert_eq!(node_port(&svc, 443), Some(30443));
        assert_eq!(node_port(&json!({}), 80), None);
    }

    #[test]
    fn listener_ports_map_to_each_way() {
        let hp = Reach::HostPorts {
            http: 18080,
            https: Some(18443),
        };
        assert_eq!(hp.socket(80), Some(("127.0.0.1".into(), 18080)));
        assert_eq!(hp.socket(443), Some(("127.0.0.1".into(), 18443)));
        assert_eq!(hp.socket(8080), None);
        let lb = Reach::LoadBalancer("10.0.0.9".into());
        assert_eq!(lb.socket(8080), Some(("10.0.0.9".into(), 8080)));
        assert_eq!(Reach::PortForward.socket(80), None);
        assert!(
            Reach::PortForward
                .describe()
                .contains("kubectl port-forward")
        );
    }

    #[tokio::test]
    async fn an_answering_load_balancer_beats_a_silent_gateway_address_and_port_forward_is_last() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        // 192.0.2.1 (TEST-NET-1) never answers.
        let ways = Ways {
            gateway: vec!["192.0.2.1".into()],
            nodes: vec!["127.0.0.1".into()],
            node_ports: (Some(port), None),
            ..Default::default()
        };
        assert_eq!(
            choose(&ways).await,
            Reach::NodePort {
                node: "127.0.0.1".into(),
                http: port,
                https: None
            }
        );
        assert_eq!(choose(&Ways::default()).await, Reach::PortForward);
        let silent = Ways {
            gateway: vec!["192.0.2.1".into()],
            ..Default::default()
        };
        assert_eq!(choose(&silent).await, Reach::Gateway("192.0.2.1".into()));
    }
}
