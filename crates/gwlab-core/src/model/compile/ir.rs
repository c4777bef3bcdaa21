//! What compiling produces: per Gateway listener, the table of route matches
//! that requests are routed with, and the status of every object.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use crate::model::status::ObjectStatus;
use crate::model::world::ObjKey;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub enum PathKind {
    Exact,
    Prefix,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct MatchSpec {
    pub path_kind: PathKind,
    pub path: String,
    pub method: Option<String>,
    /// Header names lower-cased; only the first entry of a name counts.
    pub headers: Vec<(String, String)>,
    pub query: Vec<(String, String)>,
}

/// The share of requests a mirror copies (Gateway API v1.3.0: `percent`, or
/// `fraction` with a denominator of 100 unless given); all of them unless
/// the filter says otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Share {
    pub numerator: u32,
    pub denominator: u32,
}

impl Share {
    pub const ALL: Share = Share {
        numerator: 1,
        denominator: 1,
    };

    /// Whether a request whose uniform draw in [0, 1) is `draw` is copied:
    /// exactly `numerator` of every `denominator` draws, on average.
    pub fn takes(self, draw: f64) -> bool {
        draw * f64::from(self.denominator) < f64::from(self.numerator)
    }

    /// `10 %`, or `1/3` where that is not a whole percent; empty for all.
    pub fn said(self) -> String {
        if self == Share::ALL || self.numerator == self.denominator {
            String::new()
        } else if (self.numerator * 100) % self.denominator == 0 {
            format!("{} %", self.numerator * 100 / self.denominator)
        } else {
            format!("{}/{}", self.numerator, self.denominator)
        }
    }
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct HeaderOps {
    pub set: Vec<(String, String)>,
    pub add: Vec<(String, String)>,
    pub remove: Vec<String>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub enum Filter {
    RequestHeaders(HeaderOps),
    ResponseHeaders(HeaderOps),
    Redirect {
        scheme: Option<String>,
        hostname: Option<String>,
        port: Option<u16>,
        path: Option<PathRewrite>,
        status: u16,
    },
    Rewrite {
        hostname: Option<String>,
        path: Option<PathRewrite>,
    },
    /// RequestMirror: a copy of a share of the requests to this backend.
    Mirror(Backend, Share),
    /// The CORS filter (v1.5.1).
    Cors(crate::model::cors::Cors),
    /// An ExtensionRef: nothing the embedded gateway can run.
    Extension(String),
}

#[derive(Debug, Clone, serde::Serialize)]
pub enum PathRewrite {
    Full(String),
    Prefix(String),
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub enum BackendTarget {
    /// An echo backend answers.
    Echo { namespace: String, name: String },
    /// A Service of the scenario's own manifests: no workload runs behind it here.
    NoEndpoints { namespace: String, name: String },
    /// The reference does not resolve: its share of traffic answers 500.
    Invalid { reason: String, message: String },
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Backend {
    /// `namespace/name:port` as referenced.
    pub display: String,
    pub weight: u32,
    pub target: BackendTarget,
    pub filters: Vec<Filter>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Rule {
    /// Its `name` (Gateway API v1.4.1), when it has one.
    pub name: Option<String>,
    pub filters: Vec<Filter>,
    pub backends: Vec<Backend>,
    pub request_timeout: Option<Duration>,
    pub backend_timeout: Option<Duration>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct RouteRef {
    pub namespace: String,
    pub name: String,
    pub created: u64,
}

/// One match of one rule of one route, as attached to a listener.
#[derive(Debug, Clone)]
pub struct Entry {
    pub route: Arc<RouteRef>,
    /// The route's hostnames intersected with the listener's; empty means any host
    /// the listener accepts.
    pub hostnames: Vec<String>,
    pub rule_index: usize,
    pub match_index: usize,
    pub m: Arc<MatchSpec>,
    pub rule: Arc<Rule>,
}

#[derive(Debug, Clone)]
pub struct ListenerTable {
    pub name: String,
    pub port: u16,
    pub protocol: String,
    pub hostname: Option<String>,
    pub programmed: bool,
    /// The certificate of an HTTPS listener, from its Secret; `None` where gwlab
    /// makes the certificate (the lab Gateway).
    pub certificate: Option<Arc<CertificatePem>>,
    pub entries: Vec<Entry>,
}

#[derive(Debug, Clone)]
pub struct GatewayTable {
    pub namespace: String,
    pub name: String,
    pub listeners: Vec<ListenerTable>,
    /// Whose semantics requests through it are routed with.
    pub implementation: crate::implementations::Implementation,
    /// Under Kong, which serves every Gateway of its class from one router:
    /// the entries of every programmed listener of every Gateway.
    pub shared: Option<Arc<SharedRoutes>>,
}

/// The routes one proxy serves for all its Gateways, by listener protocol.
#[derive(Debug, Clone, Default)]
pub struct SharedRoutes {
    /// (protocol, the entry's own listener hostname, the entry), each match
    /// of each route once per protocol.
    pub entries: Vec<(String, Option<String>, Entry)>,
}

impl SharedRoutes {
    /// The entries of listeners of `protocol`, with their listener's hostname.
    pub fn of(&self, protocol: &str) -> impl Iterator<Item = (Option<&str>, &Entry)> {
        self.entries
            .iter()
            .filter(move |(p, _, _)| p == protocol)
            .map(|(_, h, e)| (h.as_deref(), e))
    }
}

impl GatewayTable {
    /// The distinct ports of programmed HTTP/HTTPS listeners, with their protocol.
    pub fn ports(&self) -> Vec<(u16, String)> {
        let mut out: Vec<(u16, String)> = Vec::new();
        for l in &self.listeners {
            if l.programmed && !out.iter().any(|(p, _)| *p == l.port) {
                out.push((l.port, l.protocol.clone()));
            }
        }
        out
    }
}

/// One HTTPRoute as compiled, attached or not: what the route map draws of
/// it, including for routes that no listener took.
#[derive(Debug, Clone)]
pub struct RouteTable {
    pub namespace: String,
    pub name: String,
    pub hostnames: Vec<String>,
    pub rules: Vec<Arc<Rule>>,
    /// Every match of every rule, as (rule index, match index, spec).
    pub matches: Vec<(usize, usize, Arc<MatchSpec>)>,
}

#[derive(Debug, Clone, Default)]
pub struct Compiled {
    pub status: BTreeMap<ObjKey, ObjectStatus>,
    pub gateways: BTreeMap<(String, String), GatewayTable>,
    /// Every HTTPRoute, oldest first (the order they attach in).
    pub routes: Vec<RouteTable>,
    /// The implementation compiled for (the spec unless asked otherwise).
    pub implementation: crate::implementations::Implementation,
}

impl Compiled {
    pub fn gateway(&self, namespace: &str, name: &str) -> Option<&GatewayTable> {
        self.gateways
            .get(&(namespace.to_string(), name.to_string()))
    }
}

/// PEM text of a certificate chain and its private key, from a `kubernetes.io/tls` Secret.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CertificatePem {
    pub chain: Vec<u8>,
    pub key: Vec<u8>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listener(name: &str, port: u16, protocol: &str, programmed: bool) -> ListenerTable {
        ListenerTable {
            name: name.into(),
            port,
            protocol: protocol.into(),
            hostname: None,
            programmed,
            certificate: None,
            entries: Vec::new(),
        }
    }

    #[test]
    fn ports_are_the_distinct_ports_of_programmed_listeners() {
        let gw = GatewayTable {
            namespace: "ns".into(),
            name: "gw".into(),
            listeners: vec![
                listener("a", 80, "HTTP", true),
                listener("b", 80, "HTTP", true),
                listener("c", 443, "HTTPS", false),
                listener("d", 8443, "HTTPS", true),
            ],
            implementation: Default::default(),
            shared: None,
        };
        assert_eq!(
            gw.ports(),
            [(80, "HTTP".to_string()), (8443, "HTTPS".to_string())]
        );
        let mut compiled = Compiled::default();
        compiled.gateways.insert(("ns".into(), "gw".into()), gw);
        assert!(compiled.gateway("ns", "gw").is_some());
        assert!(compiled.gateway("gw", "ns").is_none());
    }
}
