//! Where probes go on a cluster: `--gateway-address`, the lab Gateway's
//! MetalLB address when it answers, the lab's host ports mapped to Kong's
//! NodePorts, or a Gateway's `status.addresses`.

use std::net::SocketAddr;
use std::time::Duration;

use crate::targets::TargetError;

/// `--gateway-address HOST:PORT[,HTTPS_PORT]`: where to send probes instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayAddress {
    pub host: String,
    pub http: u16,
    pub https: Option<u16>,
}

/// A `--gateway-address` that does not read as HOST:PORT[,HTTPS_PORT].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadAddress {
    #[error("`{0}` is not a port")]
    Port(String),
    #[error("`{0}`: write HOST:PORT[,HTTPS_PORT]")]
    Form(String),
    #[error("`{0}` has no host")]
    NoHost(String),
}

/// As `--gateway-address` takes it: `HOST:PORT[,HTTPS_PORT]`.
impl std::fmt::Display for GatewayAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.host, self.http)?;
        if let Some(https) = self.https {
            write!(f, ",{https}")?;
        }
        Ok(())
    }
}

impl std::str::FromStr for GatewayAddress {
    type Err = BadAddress;
    fn from_str(s: &str) -> Result<Self, BadAddress> {
        let port = |p: &str| {
            p.trim()
                .parse::<u16>()
                .map_err(|_| BadAddress::Port(p.to_string()))
        };
        let (main, https) = match s.split_once(',') {
            Some((m, h)) => (m, Some(port(h)?)),
            None => (s, None),
        };
        let (host, http) = main
            .rsplit_once(':')
            .ok_or_else(|| BadAddress::Form(s.to_string()))?;
        let http = port(http)?;
        if host.is_empty() {
            return Err(BadAddress::NoHost(s.to_string()));
        }
        Ok(GatewayAddress {
            host: host.trim_matches(['[', ']']).to_string(),
            http,
            https,
        })
    }
}

pub async fn resolve(host: &str, port: u16) -> Result<SocketAddr, TargetError> {
    let mut addrs = tokio::net::lookup_host((host, port))
        .await
        .map_err(|source| TargetError::Network {
            what: format!("cannot resolve {host}"),
            source,
        })?;
    addrs.next().ok_or_else(|| TargetError::NoAddress {
        host: host.to_string(),
    })
}

/// The first of `addresses` that accepts a TCP connection on `port` within a second.
pub(crate) async fn first_answering(addresses: &[String], port: u16) -> Option<SocketAddr> {
    for a in addresses {
        if let Ok(addr) = resolve(a, port).await
            && let Ok(Ok(_)) =
                tokio::time::timeout(Duration::from_secs(1), tokio::net::TcpStream::connect(addr))
                    .await
        {
            return Some(addr);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gateway_address_flag_forms() {
        assert_eq!(
            "127.0.0.1:8080".parse::<GatewayAddress>().unwrap(),
            GatewayAddress {
                host: "127.0.0.1".into(),
                http: 8080,
                https: None
            }
        );
        assert_eq!(
            "gw.local:80,8443".parse::<GatewayAddress>().unwrap(),
            GatewayAddress {
                host: "gw.local".into(),
                http: 80,
                https: Some(8443)
            }
        );
        assert_eq!("[::1]:80".parse::<GatewayAddress>().unwrap().host, "::1");
        assert_eq!(
            "8080".parse::<GatewayAddress>(),
            Err(BadAddress::Form("8080".into()))
        );
        assert_eq!(
            "h:x".parse::<GatewayAddress>(),
            Err(BadAddress::Port("x".into()))
        );
        assert_eq!(
            ":80".parse::<GatewayAddress>(),
            Err(BadAddress::NoHost(":80".into()))
        );
    }
}
