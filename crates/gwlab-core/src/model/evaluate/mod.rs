//! Routing one request through a Gateway: the listener, the winning match by
//! the spec's precedence, the filters, and the backend. Every candidate is kept
//! with the reason it won or lost, for `gwlab explain`.

use std::cmp::Ordering;

use serde::Serialize;

mod apply;
mod kong;

use super::compile::{
    Backend, BackendTarget, Entry, Filter, GatewayTable, HeaderOps, ListenerTable, PathKind,
    PathRewrite, Share,
};
use super::hostname;
use super::path;
use super::request::{RequestHead, modify_headers};
use crate::implementations::{Implementation, KongRun};
use apply::apply_rule;
use kong::Noted;

/// The spec's precedence of one matching candidate, most important first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Precedence {
    /// (characters of a matching non-wildcard hostname, characters of a matching hostname)
    pub hostname: (usize, usize),
    pub exact_path: bool,
    pub prefix_len: usize,
    pub method: bool,
    pub headers: usize,
    pub query: usize,
    pub created: u64,
    pub route: String,
    pub rule: usize,
    pub match_index: usize,
}

impl Precedence {
    /// Why `self` ranks below `winner`: the first criterion of the spec's order
    /// on which they differ.
    pub(crate) fn lost_to(&self, winner: &Self) -> String {
        if self.hostname != winner.hostname {
            let (a, b) = (self.hostname, winner.hostname);
            if a.0 != b.0 {
                return format!(
                    "less specific hostname (non-wildcard characters {} < {})",
                    a.0, b.0
                );
            }
            return format!("less specific hostname (characters {} < {})", a.1, b.1);
        }
        if self.exact_path != winner.exact_path {
            return "the winner's path match is Exact".into();
        }
        if self.prefix_len != winner.prefix_len {
            return format!(
                "shorter path prefix ({} < {} characters)",
                self.prefix_len, winner.prefix_len
            );
        }
        if self.method != winner.method {
            return "the winner also matches the method".into();
        }
        if self.headers != winner.headers {
            return format!(
                "fewer header matches ({} < {})",
                self.headers, winner.headers
            );
        }
        if self.query != winner.query {
            return format!(
                "fewer query parameter matches ({} < {})",
                self.query, winner.query
            );
        }
        if self.created != winner.created {
            return format!(
                "newer route (created #{} after #{})",
                self.created, winner.created
            );
        }
        if self.route != winner.route {
            return format!(
                "{} sorts after {} (namespace/name)",
                self.route, winner.route
            );
        }
        if self.rule != winner.rule {
            return format!(
                "later rule of the same route ({} after {})",
                self.rule, winner.rule
            );
        }
        format!(
            "later match of the same rule ({} after {})",
            self.match_index, winner.match_index
        )
    }

    /// `Less` means `self` wins. Equal routes tie-break on `namespace/name`
    /// as one string (the spec), or with `namespace_first` on the namespace
    /// and then the name (KIC: tie-namespace-first).
    fn rank(&self, other: &Self, namespace_first: bool) -> Ordering {
        let by_name = if namespace_first {
            let split = |r: &str| {
                r.split_once('/')
                    .map(|(a, b)| (a.to_string(), b.to_string()))
            };
            split(&self.route).cmp(&split(&other.route))
        } else {
            self.route.cmp(&other.route)
        };
        other
            .hostname
            .cmp(&self.hostname)
            .then(other.exact_path.cmp(&self.exact_path))
            .then(other.prefix_len.cmp(&self.prefix_len))
            .then(other.method.cmp(&self.method))
            .then(other.headers.cmp(&self.headers))
            .then(other.query.cmp(&self.query))
            .then(self.created.cmp(&other.created))
            .then(by_name)
            .then(self.rule.cmp(&other.rule))
            .then(self.match_index.cmp(&other.match_index))
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Candidate {
    pub route: String,
    pub rule: usize,
    /// The rule's name, when it has one.
    pub rule_name: Option<String>,
    pub match_index: usize,
    /// Why this match does not apply to the request, if it does not.
    pub mismatch: Option<String>,
    pub precedence: Precedence,
}

#[derive(Debug, Clone, Serialize)]
pub enum Outcome {
    NotFound {
        why: String,
    },
    Redirect {
        status: u16,
        location: String,
        /// What the implementation sends with it (nothing for the spec).
        body: String,
        response_headers: Vec<HeaderOps>,
    },
    Forward(Box<Forward>),
    ServerError {
        why: String,
    },
    /// A CORS preflight the gateway answers itself: 204, no body, these
    /// headers (the CORS filter's, and the rule's response header changes).
    Preflight {
        response_headers: Vec<HeaderOps>,
    },
    /// An answer the implementation makes itself, with its own body (Kong's
    /// JSON errors).
    Answer {
        status: u16,
        body: String,
        why: String,
    },
}

/// Status, body, Location, backends and the forwarded request: what
/// [`Outcome::seen`] compares.
type Seen = (
    Option<u16>,
    String,
    Option<String>,
    Vec<(String, u32, BackendTarget)>,
    Option<(RequestHead, Option<std::time::Duration>)>,
);

impl Outcome {
    /// What a client sees of the outcome, to tell whether two
    /// implementations answer alike (for a forward: where it goes and what
    /// the backend is sent).
    fn seen(&self) -> Seen {
        match self {
            Outcome::NotFound { why } | Outcome::ServerError { why } => {
                let status = if matches!(self, Outcome::NotFound { .. }) {
                    404
                } else {
                    500
                };
                (Some(status), why.clone(), None, Vec::new(), None)
            }
            Outcome::Redirect {
                status,
                location,
                body,
                ..
            } => (
                Some(*status),
                body.clone(),
                Some(location.clone()),
                Vec::new(),
                None,
            ),
            Outcome::Answer { status, body, .. } => {
                (Some(*status), body.clone(), None, Vec::new(), None)
            }
            Outcome::Preflight { .. } => (Some(204), String::new(), None, Vec::new(), None),
            Outcome::Forward(f) => (
                None,
                String::new(),
                None,
                f.backends
                    .iter()
                    .map(|b| (b.display.clone(), b.weight, b.target.clone()))
                    .collect(),
                Some((f.request.clone(), f.request_timeout)),
            ),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Forward {
    /// The request after the rule's filters.
    pub request: RequestHead,
    pub backends: Vec<Backend>,
    pub response_headers: Vec<HeaderOps>,
    /// The mirrors, each with the share of requests it copies.
    pub mirrors: Vec<(Backend, Share)>,
    /// The path value of the match that won, for backend-level prefix rewrites.
    pub matched_path: String,
    #[serde(skip)]
    pub request_timeout: Option<std::time::Duration>,
    #[serde(skip)]
    pub backend_timeout: Option<std::time::Duration>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Evaluation {
    pub listener: Option<String>,
    /// Candidates in precedence order (the matching ones first).
    pub candidates: Vec<Candidate>,
    pub winner: Option<usize>,
    pub filters_applied: Vec<String>,
    pub outcome: Outcome,
    /// The implementation's known deviations (ids of
    /// [`crate::implementations::DEVIATIONS`]) that make this answer differ
    /// from the spec's; empty for the spec, and when the answers agree.
    pub deviations: Vec<&'static str>,
}

/// Chooses the listener of `port` for a host: the most specific listener
/// hostname that matches; a listener without hostname accepts every host.
pub fn select_listener<'a>(
    gw: &'a GatewayTable,
    port: u16,
    host: &str,
) -> Option<&'a ListenerTable> {
    gw.listeners
        .iter()
        .filter(|l| l.port == port && l.programmed)
        .filter(|l| {
            l.hostname
                .as_deref()
                .is_none_or(|h| hostname::matches(h, host))
        })
        .max_by_key(|l| hostname::specificity(l.hostname.as_deref()))
}

/// How specifically an entry's hostnames match `host` (`None`: not at all).
/// An entry without hostnames takes what its listener (of hostname
/// `listener_hostname`) accepts.
fn matching_hostname(
    entry: &Entry,
    listener_hostname: Option<&str>,
    host: &str,
) -> Option<(usize, usize)> {
    if entry.hostnames.is_empty() {
        return listener_hostname
            .is_none_or(|h| hostname::matches(h, host))
            .then(|| hostname::specificity(listener_hostname));
    }
    entry
        .hostnames
        .iter()
        .filter(|h| hostname::matches(h, host))
        .map(|h| hostname::specificity(Some(h)))
        .max()
}

/// The entries a request on `listener` is routed among, each with its own
/// listener's hostname: the listener's, or under Kong (shared-proxy) those
/// of every listener of its protocol of every Gateway.
fn entries_for<'a>(
    gw: &'a GatewayTable,
    listener: &'a ListenerTable,
    kong: Option<KongRun>,
) -> Vec<(Option<&'a str>, &'a Entry)> {
    match gw.shared.as_ref().filter(|_| kong.is_some()) {
        Some(shared) => shared.of(&listener.protocol).collect(),
        None => listener
            .entries
            .iter()
            .map(|e| (listener.hostname.as_deref(), e))
            .collect(),
    }
}

/// Whether `e` is one of the listener's own entries (the same match of the
/// same route).
fn own_entry(listener: &ListenerTable, e: &Entry) -> bool {
    listener.entries.iter().any(|o| {
        o.route.namespace == e.route.namespace
            && o.route.name == e.route.name
            && o.rule_index == e.rule_index
            && o.match_index == e.match_index
    })
}

fn check_match(entry: &Entry, req: &RequestHead, kong: Option<&mut Noted>) -> Option<String> {
    let m = &entry.m;
    let path_ok = match m.path_kind {
        PathKind::Exact => path::exact_matches(&m.path, &req.path),
        PathKind::Prefix => path::prefix_matches(&m.path, &req.path),
    };
    if !path_ok {
        let kind = if m.path_kind == PathKind::Exact {
            "Exact"
        } else {
            "PathPrefix"
        };
        return Some(format!(
            "path {} does not match {kind} {}",
            req.path, m.path
        ));
    }
    if let Some(method) = &m.method
        && *method != req.method
    {
        return Some(format!("method {} is not {method}", req.method));
    }
    // The spec leaves repeated headers and query parameters to the
    // implementation: gwlab joins a header's values with `,` and takes a
    // parameter's first value; Kong's expressions router wants every value
    // to match (header-all-values, query-all-values).
    let mut kong = kong;
    for (name, value) in &m.headers {
        let values: Vec<&str> = req.header_values(name).collect();
        let spec = !values.is_empty() && values.join(",") == *value;
        let all = !values.is_empty() && values.iter().all(|v| v == value);
        if let Some(noted) = kong.as_deref_mut()
            && all != spec
        {
            noted.note("header-all-values");
        }
        if !(if kong.is_some() { all } else { spec }) {
            return Some(format!("header {name}: {value} is missing"));
        }
    }
    for (name, value) in &m.query {
        let values = req.query_values(name);
        let spec = values.first() == Some(value);
        let all = !values.is_empty() && values.iter().all(|v| v == value);
        if let Some(noted) = kong.as_deref_mut()
            && all != spec
        {
            noted.note("query-all-values");
        }
        if !(if kong.is_some() { all } else { spec }) {
            return Some(format!("query parameter {name}={value} is missing"));
        }
    }
    None
}

/// Why Kong serves none of a rule, if it does not: KIC leaves out a rule
/// with a RequestMirror filter (mirror-rule-dropped), and from Kong 3.9 Kong
/// refuses a redirect without a hostname (redirect-without-hostname-rejected).
fn kong_drops_rule(kong: KongRun, entry: &Entry) -> Option<(&'static str, &'static str)> {
    let filters = &entry.rule.filters;
    if filters.iter().any(|f| matches!(f, Filter::Mirror(..))) {
        return Some((
            "mirror-rule-dropped",
            "KIC does not translate a rule with a RequestMirror filter",
        ));
    }
    let plugin = kong.kong >= crate::kong::facts::REDIRECT_PLUGIN_SINCE.value;
    if plugin
        && filters
            .iter()
            .any(|f| matches!(f, Filter::Redirect { hostname: None, .. }))
    {
        return Some((
            "redirect-without-hostname-rejected",
            "Kong refuses the redirect plugin KIC writes for a redirect without a hostname",
        ));
    }
    None
}

/// Routes `req`, which arrived on listener port `port` of `gw`, as the
/// Gateway's implementation does; under Kong, the deviations that made the
/// answer differ from the spec's are named.
pub fn evaluate(gw: &GatewayTable, port: u16, req: &RequestHead) -> Evaluation {
    let Implementation::Kong(kong) = gw.implementation else {
        return evaluate_as(gw, port, req, None);
    };
    let mut ev = evaluate_as(gw, port, req, Some(kong));
    if !ev.deviations.is_empty()
        && evaluate_as(gw, port, req, None).outcome.seen() == ev.outcome.seen()
    {
        ev.deviations.clear();
    }
    ev
}

fn evaluate_as(
    gw: &GatewayTable,
    port: u16,
    req: &RequestHead,
    kong: Option<KongRun>,
) -> Evaluation {
    let mut noted = Noted::default();
    let routed = match kong {
        Some(_) => kong::routed_request(req, &mut noted),
        None => req.clone(),
    };
    let host = hostname::host_without_port(&routed.host);
    // One Kong serves every Gateway: a listener's hostname does not keep a
    // request out (its routes' hostnames do).
    let listener = select_listener(gw, port, &host).or_else(|| {
        gw.shared.as_ref().filter(|_| kong.is_some())?;
        gw.listeners.iter().find(|l| l.port == port && l.programmed)
    });
    let Some(listener) = listener else {
        let why = format!(
            "no listener of Gateway {}/{} on port {port} accepts host {host}; {}",
            gw.namespace,
            gw.name,
            hostnames_on_port(gw, port)
        );
        return Evaluation {
            listener: None,
            candidates: Vec::new(),
            winner: None,
            filters_applied: Vec::new(),
            outcome: not_found(kong, why, &routed, &mut noted),
            deviations: noted.0,
        };
    };
    let candidates = ranked_candidates(
        &entries_for(gw, listener, kong),
        &host,
        &routed,
        kong,
        &mut noted,
    );
    let winner = candidates
        .first()
        .filter(|(c, _)| c.mismatch.is_none())
        .map(|(_, e)| *e);
    if let Some(e) = winner
        && kong.is_some()
        && gw.shared.is_some()
        && !own_entry(listener, e)
    {
        noted.note("shared-proxy");
    }
    let (outcome, filters_applied) = match winner {
        None => {
            let why = format!(
                "no rule attached to listener {} matches the request for host {host}; {}",
                listener.name,
                hostnames_on_port(gw, port)
            );
            let outcome = match kong.and_then(|k| https_only(gw, &host, &routed, k)) {
                Some(route) => {
                    noted.note("https-only-426");
                    Outcome::Answer {
                        status: 426,
                        body: kong::error_body(kong::USE_HTTPS, &routed),
                        why: format!(
                            "{route} is attached only to HTTPS listeners, and Kong answers a plain HTTP request for such a route 426"
                        ),
                    }
                }
                None => not_found(kong, why, &routed, &mut noted),
            };
            (outcome, Vec::new())
        }
        Some(entry) => apply_rule(entry, &entry.rule, listener.port, &routed, kong, &mut noted),
    };
    Evaluation {
        listener: Some(listener.name.clone()),
        winner: winner.map(|_| 0),
        candidates: candidates.into_iter().map(|(c, _)| c).collect(),
        filters_applied,
        outcome,
        deviations: noted.0,
    }
}

/// No route takes the request: the spec's 404, or Kong's with its body.
fn not_found(kong: Option<KongRun>, why: String, req: &RequestHead, noted: &mut Noted) -> Outcome {
    match kong {
        None => Outcome::NotFound { why },
        Some(_) => {
            noted.note("not-found-body");
            Outcome::Answer {
                status: 404,
                body: kong::error_body(kong::NOT_FOUND, req),
                why,
            }
        }
    }
}

/// A route attached only to HTTPS listeners that would take this plain HTTP
/// request: Kong's one router finds it (the route's protocols are its
/// listeners') and answers 426.
fn https_only(gw: &GatewayTable, host: &str, req: &RequestHead, kong: KongRun) -> Option<String> {
    if req.scheme != "http" {
        return None;
    }
    // Called under Kong only: the shared routes when the compile made them.
    let of = |protocol: &str| -> Vec<(Option<&str>, &Entry)> {
        match &gw.shared {
            Some(shared) => shared.of(protocol).collect(),
            None => gw
                .listeners
                .iter()
                .filter(|l| l.programmed && l.protocol == protocol)
                .flat_map(|l| l.entries.iter().map(move |e| (l.hostname.as_deref(), e)))
                .collect(),
        }
    };
    let http = of("HTTP");
    let on_http = |e: &Entry| {
        http.iter()
            .any(|(_, o)| o.route.namespace == e.route.namespace && o.route.name == e.route.name)
    };
    of("HTTPS")
        .into_iter()
        .find(|(listener_hostname, e)| {
            matching_hostname(e, *listener_hostname, host).is_some()
                && !on_http(e)
                && kong_drops_rule(kong, e).is_none()
                && check_match(e, req, Some(&mut Noted::default())).is_none()
        })
        .map(|(_, e)| format!("HTTPRoute {}/{}", e.route.namespace, e.route.name))
}

/// The hostnames served on `port`, so that a 404 caused by a misspelt host
/// shows the right ones: each listener's (`*` without one) and the routes'
/// attached to it, e.g. `on port 80: listener http (any host): routes
/// shop/shop (shop.example.com)`.
pub(crate) fn hostnames_on_port(gw: &GatewayTable, port: u16) -> String {
    let listeners: Vec<String> = gw
        .listeners
        .iter()
        .filter(|l| l.port == port && l.programmed)
        .map(|l| {
            let mut routes: Vec<String> = Vec::new();
            for e in &l.entries {
                let hosts = if e.hostnames.is_empty() {
                    "any host".to_string()
                } else {
                    e.hostnames.join(", ")
                };
                let r = format!("{}/{} ({hosts})", e.route.namespace, e.route.name);
                if !routes.contains(&r) {
                    routes.push(r);
                }
            }
            let routes = if routes.is_empty() {
                "no routes".to_string()
            } else {
                format!("routes {}", routes.join(", "))
            };
            format!(
                "listener {} ({}): {routes}",
                l.name,
                l.hostname.as_deref().unwrap_or("any host")
            )
        })
        .collect();
    if listeners.is_empty() {
        format!("no listener on port {port}")
    } else {
        format!("on port {port}: {}", listeners.join("; "))
    }
}

/// Every entry as a candidate for the request: the matching ones first,
/// each group in precedence order.
fn ranked_candidates<'a>(
    entries: &[(Option<&str>, &'a Entry)],
    host: &str,
    req: &RequestHead,
    kong: Option<KongRun>,
    noted: &mut Noted,
) -> Vec<(Candidate, &'a Entry)> {
    let mut candidates: Vec<(Candidate, &Entry)> = entries
        .iter()
        .map(|(listener_hostname, e)| {
            (candidate(e, *listener_hostname, host, req, kong, noted), *e)
        })
        .collect();
    let order = |namespace_first: bool| {
        move |(a, _): &(Candidate, &Entry), (b, _): &(Candidate, &Entry)| {
            a.mismatch
                .is_some()
                .cmp(&b.mismatch.is_some())
                .then(a.precedence.rank(&b.precedence, namespace_first))
        }
    };
    candidates.sort_by(order(kong.is_some()));
    if kong.is_some() {
        let spec_first = candidates.iter().min_by(|a, b| order(false)(a, b));
        if let (Some((spec, _)), Some((first, _))) = (spec_first, candidates.first())
            && spec.precedence != first.precedence
        {
            noted.note("tie-namespace-first");
        }
    }
    candidates
}

fn candidate(
    e: &Entry,
    listener_hostname: Option<&str>,
    host: &str,
    req: &RequestHead,
    kong: Option<KongRun>,
    noted: &mut Noted,
) -> Candidate {
    let hostname = matching_hostname(e, listener_hostname, host);
    let dropped = kong.and_then(|k| kong_drops_rule(k, e));
    let mismatch = match (hostname, dropped) {
        (None, _) => Some(format!(
            "host {host} matches none of {}",
            e.hostnames.join(", ")
        )),
        (Some(_), Some((id, why))) => match check_match(e, req, None) {
            // Only a rule that would have matched changes the answer.
            None => {
                noted.note(id);
                Some(format!("{why} ({id})"))
            }
            Some(m) => Some(m),
        },
        (Some(_), None) => check_match(e, req, kong.is_some().then_some(noted)),
    };
    let precedence = precedence(e, hostname.unwrap_or((0, 0)));
    Candidate {
        route: precedence.route.clone(),
        rule: e.rule_index,
        rule_name: e.rule.name.clone(),
        match_index: e.match_index,
        mismatch,
        precedence,
    }
}

fn precedence(e: &Entry, hostname: (usize, usize)) -> Precedence {
    Precedence {
        hostname,
        exact_path: e.m.path_kind == PathKind::Exact,
        prefix_len: if e.m.path_kind == PathKind::Prefix {
            e.m.path.len()
        } else {
            0
        },
        method: e.m.method.is_some(),
        headers: e.m.headers.len(),
        query: e.m.query.len(),
        created: e.route.created,
        route: format!("{}/{}", e.route.namespace, e.route.name),
        rule: e.rule_index,
        match_index: e.match_index,
    }
}

/// The Location of a RequestRedirect. The port is the redirect's own, else the
/// well-known port of the redirect scheme when one is set, else the listener's;
/// port 80 with http and 443 with https are left out.
pub(crate) fn redirect_location(
    req: &RequestHead,
    listener_port: u16,
    scheme: Option<&str>,
    hostname: Option<&str>,
    port: Option<u16>,
    path: Option<String>,
) -> String {
    let out_scheme = scheme.unwrap_or(&req.scheme);
    let host = hostname
        .map(String::from)
        .unwrap_or_else(|| hostname::host_without_port(&req.host));
    let out_port = port.unwrap_or(match scheme {
        Some("https") => 443,
        Some("http") => 80,
        _ => listener_port,
    });
    let default = matches!((out_scheme, out_port), ("http", 80) | ("https", 443));
    let path = path.unwrap_or_else(|| req.path.clone());
    let query = req
        .query
        .as_ref()
        .map(|q| format!("?{q}"))
        .unwrap_or_default();
    if default {
        format!("{out_scheme}://{host}{path}{query}")
    } else {
        format!("{out_scheme}://{host}:{out_port}{path}{query}")
    }
}

/// Picks a backend by weight, `roll` uniform in [0, 1). Weight-0 backends never.
pub fn pick_backend(backends: &[Backend], roll: f64) -> Option<&Backend> {
    let total: u64 = backends.iter().map(|b| b.weight as u64).sum();
    if total == 0 {
        return None;
    }
    let mut point = (roll * total as f64) as u64;
    for b in backends {
        if point < b.weight as u64 {
            return Some(b);
        }
        point -= b.weight as u64;
    }
    backends.iter().rev().find(|b| b.weight > 0)
}

/// What happens once a backend is picked: its own filters run, then the
/// request goes to an echo server, or the answer is 500 / 503.
#[derive(Debug, Clone)]
pub enum Dispatch {
    Echo {
        namespace: String,
        name: String,
        request: RequestHead,
    },
    Unavailable {
        why: String,
    },
    Invalid {
        why: String,
    },
}

pub fn dispatch(
    backend: &Backend,
    request: &RequestHead,
    matched_path: &str,
) -> (Dispatch, Vec<HeaderOps>) {
    let mut request = request.clone();
    let mut response_ops = Vec::new();
    for f in &backend.filters {
        match f {
            Filter::RequestHeaders(ops) => {
                modify_headers(&mut request.headers, &ops.set, &ops.add, &ops.remove)
            }
            Filter::ResponseHeaders(ops) => response_ops.push(ops.clone()),
            Filter::Rewrite { hostname, path } => {
                if let Some(h) = hostname {
                    request.host = h.clone();
                }
                if let Some(p) = path {
                    request.path = match p {
                        PathRewrite::Full(v) => v.clone(),
                        PathRewrite::Prefix(v) => {
                            path::replace_prefix(&request.path, matched_path, v)
                        }
                    };
                }
            }
            _ => {}
        }
    }
    let d = match &backend.target {
        BackendTarget::Echo { namespace, name } => Dispatch::Echo {
            namespace: namespace.clone(),
            name: name.clone(),
            request,
        },
        BackendTarget::NoEndpoints { namespace, name } => Dispatch::Unavailable {
            why: format!(
                "Service {namespace}/{name} has no echo backend behind it in the embedded gateway"
            ),
        },
        BackendTarget::Invalid { message, .. } => Dispatch::Invalid {
            why: message.clone(),
        },
    };
    (d, response_ops)
}
