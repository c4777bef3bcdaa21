//! The scenario `gwlab migrate --scenario` writes: the generated routes, echo
//! backends named like the Ingress's Services, and probes that state what the
//! original Ingress did, per the Kong and ingress-nginx documentation.

use std::collections::BTreeMap;

use serde::Serialize;

use super::original::{self, Answer, Rules};
use super::output::{Redirect, Route};
use super::{Converted, Draft, Migration, PathKind};
use crate::scenario::types::{BackendRequestExpect, ExpectSpec, RedirectExpect, RequestSpec};

#[derive(Debug, Serialize)]
pub struct ScenarioOut {
    /// The Gateway API release of the routes, when not v1.2.1.
    #[serde(rename = "gatewayAPI", skip_serializing_if = "Option::is_none")]
    pub gateway_api: Option<String>,
    pub name: String,
    pub description: String,
    pub tags: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub features: Vec<String>,
    pub backends: Vec<BackendOut>,
    pub conditions: Vec<ConditionOut>,
    pub probes: Vec<ProbeOut>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BackendOut {
    pub name: String,
    pub port: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct ConditionOut {
    pub resource: String,
    #[serde(rename = "type")]
    pub type_: String,
}

#[derive(Debug, Serialize)]
pub struct ProbeOut {
    pub name: String,
    pub request: RequestSpec,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub samples: Option<u32>,
    pub expect: ExpectSpec,
}

const ANY_HOST: &str = "migrated.example.com";

/// The query string sent where a difference in query handling shows.
pub(crate) const PROBE_QUERY: &str = "item=42";
/// Appended to a plain-prefix path: the original serves that path, the route does not.
pub(crate) const PLAIN_PREFIX_SUFFIX: &str = "-more";

/// `ingress host/path`, the start of every probe name of a draft.
fn what(c_name: &str, d: &Draft) -> String {
    format!("{c_name} {}{}", host(d), d.path)
}

/// The probe that sends a redirected path a query string.
pub(crate) fn query_probe_name(c_name: &str, d: &Draft) -> String {
    format!(
        "{}: redirected with the query {PROBE_QUERY}",
        what(c_name, d)
    )
}

/// The probe of plain http to an https-only path.
pub(crate) fn plain_http_probe_name(c_name: &str, d: &Draft) -> String {
    format!("{}: plain http is refused", what(c_name, d))
}

/// The probe of a longer path that the original's plain string prefix matches.
pub(crate) fn plain_prefix_probe_name(c_name: &str, d: &Draft) -> String {
    format!(
        "{}: {}{PLAIN_PREFIX_SUFFIX} is served too",
        what(c_name, d),
        d.path
    )
}

/// The probe of `other`, the path with or without its trailing `/`
/// ([`original::other_slash`]).
pub(crate) fn slash_probe_name(c_name: &str, d: &Draft, other: &str) -> String {
    if d.path.ends_with('/') {
        format!("{}: {other} without the trailing slash", what(c_name, d))
    } else {
        format!("{}: {other} with a trailing slash", what(c_name, d))
    }
}

/// Whether a plain-prefix draft gets the probe: one backend answers it, and
/// the longer path is not just a path below it (`/api/` + `-more`).
pub(crate) fn plain_prefix_probe(d: &Draft) -> bool {
    d.redirect.is_none() && d.backends.len() == 1 && !d.path.ends_with('/')
}

/// A method a path restricted to `methods` does not take, for the probe that
/// shows the restriction.
fn unlisted_method(methods: &[String]) -> Option<&'static str> {
    ["DELETE", "PUT", "PATCH", "POST", "GET"]
        .into_iter()
        .find(|m| !methods.iter().any(|x| x == m))
}

fn sample_path(d: &Draft) -> String {
    match d.kind {
        PathKind::Exact => d.path.clone(),
        PathKind::Prefix => format!("{}/sample", d.path.trim_end_matches('/')),
    }
}

pub(super) fn host(d: &Draft) -> String {
    match &d.host {
        Some(h) => h.replacen("*.", "www.", 1),
        None => ANY_HOST.into(),
    }
}

fn request(scheme: &str, d: &Draft, path: &str) -> RequestSpec {
    RequestSpec {
        url: format!("{scheme}://{}{path}", host(d)),
        method: d.methods.first().cloned(),
        headers: BTreeMap::new(),
        body: None,
        tls: None,
    }
}

fn redirect_expect(r: &Redirect, scheme: &str, d: &Draft, path: &str) -> RedirectExpect {
    let out_scheme = r.scheme.clone().unwrap_or_else(|| scheme.into());
    RedirectExpect {
        port: Some(
            r.port
                .unwrap_or(if out_scheme == "https" { 443 } else { 80 }),
        ),
        scheme: Some(out_scheme),
        host: Some(r.hostname.clone().unwrap_or_else(|| host(d))),
        path: Some(
            r.path
                .as_ref()
                .and_then(|p| p.replace_full_path.clone())
                .unwrap_or_else(|| path.into()),
        ),
        query: None,
    }
}

/// The path the backend sees, per the original's rewrite semantics.
pub(super) fn backend_path(d: &Draft, path: &str) -> String {
    match &d.rewrite {
        None => path.into(),
        Some(m) => match (&m.replace_full_path, &m.replace_prefix_match) {
            (Some(full), _) => full.clone(),
            (None, Some(prefix)) => crate::model::path::replace_prefix(path, &d.path, prefix),
            (None, None) => path.into(),
        },
    }
}

fn probes_for(all: &[Converted], c: &Converted, d: &Draft, out: &mut Vec<ProbeOut>) {
    let path = sample_path(d);
    let scheme = if d.http { "http" } else { "https" };
    let what = what(&c.name, d);
    if let Some(code) = d.https_redirect {
        out.push(https_redirect_probe(&what, d, &path, code));
    }
    if let Some(code) = d.original.plain_http_status {
        out.push(ProbeOut {
            name: plain_http_probe_name(&c.name, d),
            request: request("http", d, &path),
            samples: None,
            expect: ExpectSpec {
                status: Some(code),
                ..Default::default()
            },
        });
    }
    if let Some(r) = &d.redirect {
        out.push(ProbeOut {
            name: format!("{what}: redirected"),
            request: request(scheme, d, &path),
            samples: None,
            expect: ExpectSpec {
                status: Some(d.original.redirect_status.unwrap_or(r.status_code)),
                redirect: Some(redirect_expect(r, scheme, d, &path)),
                ..Default::default()
            },
        });
        out.push(query_probe(c, d, r, scheme, &path));
        slash_probe(all, c, d, scheme, out);
        return;
    }
    if d.original.plain_prefix.is_some() && plain_prefix_probe(d) {
        let longer = format!("{}{PLAIN_PREFIX_SUFFIX}", d.path);
        out.push(ProbeOut {
            name: plain_prefix_probe_name(&c.name, d),
            request: request(scheme, d, &longer),
            samples: None,
            expect: ExpectSpec {
                status: Some(200),
                backend: Some(d.backends[0].name.clone()),
                ..Default::default()
            },
        });
    }
    if let Some((h, b)) = &d.header_canary {
        let mut req = request(scheme, d, &path);
        req.headers.insert(h.name.clone(), h.value.clone());
        out.push(ProbeOut {
            name: format!("{what}: {}: {} goes to the canary", h.name, h.value),
            request: req,
            samples: None,
            expect: ExpectSpec {
                status: Some(200),
                backend: Some(b.name.clone()),
                ..Default::default()
            },
        });
    }
    if d.backends.len() > 1 {
        out.push(split_probe(&what, d, request(scheme, d, &path)));
    } else {
        out.push(served_probe(&what, d, request(scheme, d, &path), &path));
    }
    method_probes(all, d, &what, scheme, &path, out);
    slash_probe(all, c, d, scheme, out);
}

/// The probe of `d`'s path with or without its trailing `/`, where the
/// original answers it from one backend, with a 404 or nginx's 301.
fn slash_probe(all: &[Converted], c: &Converted, d: &Draft, scheme: &str, out: &mut Vec<ProbeOut>) {
    if let Some(p) = original::slash_probe(c, all, d) {
        let req = request(scheme, d, &p.other);
        let name = slash_probe_name(&c.name, d, &p.other);
        out.push(answer_probe(name, req, d, &p.original));
    }
}

/// For a path restricted to methods: each listed method after the first
/// (the sample probe sends the first) is taken, and one method not listed is
/// not: it goes where the original sends it (404 when nothing else takes it).
fn method_probes(
    all: &[Converted],
    d: &Draft,
    what: &str,
    scheme: &str,
    path: &str,
    out: &mut Vec<ProbeOut>,
) {
    if d.methods.is_empty() {
        return;
    }
    let unlisted = unlisted_method(&d.methods).map(|m| (m.to_string(), true));
    let listed = d.methods.iter().skip(1).map(|m| (m.clone(), false));
    for (method, is_unlisted) in listed.chain(unlisted) {
        let req = original::Request {
            host: &d.host,
            http: d.http,
            method: &method,
            path,
        };
        let Some(a) = original::answer(all, &req, Rules::Original) else {
            continue;
        };
        let name = if is_unlisted {
            format!("{what}: {method} is not one of its methods")
        } else {
            format!("{what}: {method} is one of its methods")
        };
        let mut request = request(scheme, d, path);
        request.method = Some(method.clone());
        out.push(answer_probe(name, request, d, &a));
    }
}

/// A probe expecting what the original answers.
fn answer_probe(name: String, request: RequestSpec, d: &Draft, a: &Answer) -> ProbeOut {
    let expect = match a {
        Answer::Served { backend, path } => ExpectSpec {
            status: Some(200),
            backend: Some(backend.clone()),
            backend_request: Some(BackendRequestExpect {
                path: Some(path.clone()),
                ..Default::default()
            }),
            ..Default::default()
        },
        Answer::NotFound => ExpectSpec {
            status: Some(404),
            ..Default::default()
        },
        Answer::SlashAdded { path } => {
            let http = request.url.starts_with("http:");
            ExpectSpec {
                status: Some(301),
                redirect: Some(RedirectExpect {
                    scheme: Some(if http { "http" } else { "https" }.into()),
                    host: Some(host(d)),
                    port: Some(if http { 80 } else { 443 }),
                    path: Some(path.clone()),
                    query: None,
                }),
                ..Default::default()
            }
        }
    };
    ProbeOut {
        name,
        request,
        samples: None,
        expect,
    }
}

/// A redirected request with a query string: the original keeps it (Kong's
/// `keep_incoming_path`), or answers with exactly its location, whose own
/// query is then the Location's.
fn query_probe(c: &Converted, d: &Draft, r: &Redirect, scheme: &str, path: &str) -> ProbeOut {
    let mut expect = redirect_expect(r, scheme, d, path);
    expect.query = Some(match &d.original.exact_location {
        Some(e) => e.query.clone(),
        None => PROBE_QUERY.into(),
    });
    ProbeOut {
        name: query_probe_name(&c.name, d),
        request: request(scheme, d, &format!("{path}?{PROBE_QUERY}")),
        samples: None,
        expect: ExpectSpec {
            status: Some(d.original.redirect_status.unwrap_or(r.status_code)),
            redirect: Some(expect),
            ..Default::default()
        },
    }
}

fn https_redirect_probe(what: &str, d: &Draft, path: &str, code: u16) -> ProbeOut {
    ProbeOut {
        name: format!("{what}: http is redirected to https"),
        request: request("http", d, path),
        samples: None,
        expect: ExpectSpec {
            status: Some(d.original.redirect_status.unwrap_or(code)),
            redirect: Some(RedirectExpect {
                scheme: Some("https".into()),
                host: Some(host(d)),
                port: Some(443),
                path: Some(path.into()),
                query: None,
            }),
            ..Default::default()
        },
    }
}

fn split_probe(what: &str, d: &Draft, request: RequestSpec) -> ProbeOut {
    let split = d
        .backends
        .iter()
        .map(|b| (b.name.clone(), b.weight.unwrap_or(1)))
        .collect();
    ProbeOut {
        name: format!("{what}: weighted split"),
        request,
        samples: Some(400),
        expect: ExpectSpec {
            status: Some(200),
            split: Some(split),
            ..Default::default()
        },
    }
}

/// The request reaches the one backend with the original's path rewrite and
/// header changes, and the response carries the original's header changes.
fn served_probe(what: &str, d: &Draft, mut req: RequestSpec, path: &str) -> ProbeOut {
    let br = backend_request(d, &mut req, path);
    let mut expect = ExpectSpec {
        status: Some(200),
        backend: Some(d.backends[0].name.clone()),
        backend_request: Some(br),
        ..Default::default()
    };
    for h in d.response_headers.set.iter().chain(&d.response_headers.add) {
        expect.headers.insert(h.name.clone(), h.value.clone());
    }
    if !d.response_headers.remove.is_empty() {
        let set: Vec<String> = d
            .response_headers
            .remove
            .iter()
            .map(|n| format!("{n}:from-backend"))
            .collect();
        req.headers
            .insert("X-Echo-Set-Header".into(), set.join(","));
        expect
            .headers_absent
            .extend(d.response_headers.remove.iter().cloned());
    }
    ProbeOut {
        name: format!("{what}: served by {}", d.backends[0].name),
        request: req,
        samples: None,
        expect,
    }
}

/// What the backend must see, per the original's request header semantics;
/// adds to `req` the headers the client must send for that to show.
fn backend_request(d: &Draft, req: &mut RequestSpec, path: &str) -> BackendRequestExpect {
    let mut br = BackendRequestExpect {
        path: Some(backend_path(d, path)),
        ..Default::default()
    };
    for h in &d.request_headers.set {
        let conditional = d
            .original
            .conditional_headers
            .iter()
            .find(|(n, _, _)| n.eq_ignore_ascii_case(&h.name));
        match conditional {
            // Kong `add`: only when absent, so a value the client sends stays.
            Some((_, _, true)) => {
                req.headers.insert(h.name.clone(), "from-client".into());
                br.headers.insert(h.name.clone(), "from-client".into());
            }
            // Kong `replace`: only when present, so an absent header stays absent.
            Some((_, _, false)) => br.headers_absent.push(h.name.clone()),
            None => {
                br.headers.insert(h.name.clone(), h.value.clone());
            }
        }
    }
    for h in &d.request_headers.add {
        br.headers.insert(h.name.clone(), h.value.clone());
    }
    for name in &d.request_headers.remove {
        req.headers.insert(name.clone(), "to-be-removed".into());
        br.headers_absent.push(name.clone());
    }
    br
}

pub fn build(m: &Migration, name: &str) -> ScenarioOut {
    let mut backends: Vec<BackendOut> = Vec::new();
    let mut probes = Vec::new();
    for c in &m.converted {
        for d in &c.drafts {
            let refs = d
                .backends
                .iter()
                .chain(d.header_canary.iter().map(|(_, b)| b));
            for b in refs {
                let out = BackendOut {
                    name: b.name.clone(),
                    port: b.port,
                    namespace: c.namespace.clone(),
                };
                if !backends
                    .iter()
                    .any(|x| x.name == out.name && x.namespace == out.namespace)
                {
                    backends.push(out);
                }
            }
            if !c.is_canary {
                probes_for(&m.converted, c, d, &mut probes);
            }
        }
    }
    let conditions = m
        .routes
        .iter()
        .flat_map(|(_, routes)| routes)
        .map(|r: &Route| ConditionOut {
            resource: format!("HTTPRoute/{}", r.metadata.name),
            type_: "Accepted".into(),
        })
        .collect();
    ScenarioOut {
        gateway_api: (m.release != crate::gateway_api::Release::default())
            .then(|| m.release.as_str().to_string()),
        name: name.into(),
        description: "Written by `gwlab migrate`: the probes state what the original Ingress did (Kong and ingress-nginx semantics); they run against the generated HTTPRoutes.".into(),
        tags: vec!["migrated".into()],
        features: m.features.iter().cloned().collect(),
        backends,
        conditions,
        probes,
    }
}
