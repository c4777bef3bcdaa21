//! `gwlab migrate`: Ingress objects with Kong and ingress-nginx annotations to
//! Gateway API HTTPRoutes for the lab Gateway, every annotation either
//! translated or reported, plus a scenario whose probes state what the original
//! Ingress did.

pub mod check;
pub mod compare;
mod differences;
pub(crate) mod input;
mod kong;
mod nginx;
mod original;
pub mod output;
#[cfg(test)]
mod property;
mod routes;
pub mod scenario;
mod valid;
mod values;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use input::{Ingress, KongPlugin, Service};
use output::{BackendRef, HeaderOps, NameValue, PathModifier, Redirect, Route};

use crate::manifest::Manifest;

/// Reports what the converter could not carry over: (annotation, message).
type Warn<'a> = &'a mut dyn FnMut(Option<&str>, String);

/// Something the converter could not carry over exactly.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct Warning {
    /// `Ingress namespace/name`.
    pub object: String,
    pub annotation: Option<String>,
    pub message: String,
    /// The probe of the generated scenario that shows the difference (it
    /// expects the original, so the scenario fails exactly there).
    pub probe: Option<String>,
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shown = match &self.probe {
            Some(p) => format!(" (the scenario expects the original in probe `{p}`)"),
            None => String::new(),
        };
        let line = match &self.annotation {
            Some(a) => format!("{}: {a}: {}{shown}", self.object, self.message),
            None => format!("{}: {}{shown}", self.object, self.message),
        };
        // Annotation values are echoed: a long one is cut, never the
        // warning's own words.
        f.write_str(&crate::diag::clip_words(&line))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathKind {
    Exact,
    Prefix,
}

/// What the original Ingress does where the generated route does otherwise
/// (the differences the converter knows of); probes assert the original.
#[derive(Debug, Clone, Default)]
pub struct Original {
    /// The status of the original's redirect when Gateway API cannot express it.
    pub redirect_status: Option<u16>,
    /// Kong request-transformer `add`/`replace` semantics: (header, value, only_if_absent).
    pub conditional_headers: Vec<(String, String, bool)>,
    /// The original redirects to exactly one Location, whatever the request's
    /// path and query; the route keeps the request's query.
    pub exact_location: Option<ExactLocation>,
    /// The original matches the path as a plain string prefix (`/api` also
    /// matches `/api-more`); the route's PathPrefix matches whole segments.
    pub plain_prefix: Option<String>,
    /// The original answers plain http with this status (Kong's 426 Upgrade
    /// Required on an https-only route); the route is not on http (404).
    pub plain_http_status: Option<u16>,
}

/// A redirect whose Location is fixed: Kong's `redirect` plugin without
/// `keep_incoming_path`, ingress-nginx's `permanent-redirect` and
/// `temporal-redirect` (an nginx `return`, which adds no query).
#[derive(Debug, Clone)]
pub struct ExactLocation {
    /// The annotation that asked for the redirect.
    pub annotation: String,
    /// Who redirects, for the warning: `KongPlugin NAME`, `ingress-nginx`.
    pub by: String,
    pub location: String,
    /// The Location's raw query ("" for none).
    pub query: String,
}

/// One path of one Ingress rule, becoming one HTTPRoute rule.
#[derive(Debug, Clone)]
pub struct Draft {
    pub host: Option<String>,
    pub kind: PathKind,
    pub path: String,
    pub backends: Vec<BackendRef>,
    /// Canary-by-header: requests with this header go to that backend instead.
    pub header_canary: Option<(NameValue, BackendRef)>,
    pub methods: Vec<String>,
    pub redirect: Option<Redirect>,
    pub rewrite: Option<PathModifier>,
    pub request_headers: HeaderOps,
    pub response_headers: HeaderOps,
    /// Served on the http listener; false for https-only routes.
    pub http: bool,
    pub https: bool,
    /// http requests are redirected to https with this status.
    pub https_redirect: Option<u16>,
    pub original: Original,
}

/// Which controller served the original Ingress: its matching rules differ
/// in places.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Controller {
    Kong,
    Nginx,
}

/// One converted Ingress.
#[derive(Debug, Clone)]
pub struct Converted {
    pub name: String,
    pub namespace: Option<String>,
    pub controller: Controller,
    pub drafts: Vec<Draft>,
    pub is_canary: bool,
    pub canary_weight: Option<u32>,
    pub canary_header: Option<NameValue>,
}

#[derive(Debug, Default)]
pub struct Migration {
    /// Per Ingress (by name): the routes written for it.
    pub routes: Vec<(String, Vec<Route>)>,
    pub warnings: Vec<Warning>,
    pub converted: Vec<Converted>,
    /// Gateway API features the generated routes need beyond core.
    pub features: BTreeSet<String>,
    /// The Gateway API release the routes are written for.
    pub release: crate::gateway_api::Release,
}

impl Migration {
    /// Every route written, across Ingresses.
    pub fn all_routes(&self) -> Vec<Route> {
        self.routes.iter().flat_map(|(_, r)| r.clone()).collect()
    }
}

pub struct Inputs {
    /// The Gateway API release the routes are written for (v1.2.1 unless
    /// `--gateway-api` says otherwise): from v1.5.1 a 303, 307 or 308
    /// redirect keeps its code.
    pub release: crate::gateway_api::Release,
    pub ingresses: Vec<Ingress>,
    pub plugins: Vec<KongPlugin>,
    pub cluster_plugins: Vec<KongPlugin>,
    pub services: Vec<Service>,
    pub ignored: Vec<String>,
}

/// Why the manifests cannot be read as migrate's inputs.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    // The name and serde's message (which quotes the value) come from input:
    // long ones are cut.
    #[error("{}:{line}: {}: {}", .file.display(), crate::diag::clip(.object), crate::diag::clip(&.source.to_string()))]
    Malformed {
        file: PathBuf,
        line: u64,
        /// `Kind/name`.
        object: String,
        #[source]
        source: serde_json::Error,
    },
    #[error(
        "{}:{line}: {}: Ingress {api_version} is gone since Kubernetes 1.22; convert it to networking.k8s.io/v1 first", .file.display(), crate::diag::clip(.object)
    )]
    RemovedIngress {
        file: PathBuf,
        line: u64,
        object: String,
        api_version: String,
    },
}

impl InputError {
    /// The file the problem is in.
    pub fn file(&self) -> &Path {
        match self {
            InputError::Malformed { file, .. } | InputError::RemovedIngress { file, .. } => file,
        }
    }
}

/// Sorts parsed manifests into what migrate reads.
pub fn inputs(manifests: &[Manifest]) -> Result<Inputs, InputError> {
    let mut i = Inputs {
        release: Default::default(),
        ingresses: vec![],
        plugins: vec![],
        cluster_plugins: vec![],
        services: vec![],
        ignored: vec![],
    };
    for m in manifests {
        match (m.api_version.as_str(), m.kind.as_str()) {
            ("networking.k8s.io/v1", "Ingress") => i.ingresses.push(typed(m)?),
            (_, "KongPlugin") => i.plugins.push(typed(m)?),
            (_, "KongClusterPlugin") => i.cluster_plugins.push(typed(m)?),
            ("v1", "Service") => i.services.push(typed(m)?),
            ("networking.k8s.io/v1beta1" | "extensions/v1beta1", "Ingress") => {
                return Err(InputError::RemovedIngress {
                    file: m.file.clone(),
                    line: m.line,
                    object: m.display_name(),
                    api_version: m.api_version.clone(),
                });
            }
            _ => i.ignored.push(m.display_name()),
        }
    }
    Ok(i)
}

/// A manifest read as one of migrate's input types.
fn typed<T: serde::de::DeserializeOwned>(m: &Manifest) -> Result<T, InputError> {
    serde_json::from_value(m.raw.clone()).map_err(|source| InputError::Malformed {
        file: m.file.clone(),
        line: m.line,
        object: m.display_name(),
        source,
    })
}

fn object_name(ing: &Ingress) -> String {
    ingress_name(ing.metadata.namespace.as_deref(), &ing.metadata.name)
}

/// `Ingress namespace/name`, as warnings name the object.
pub fn ingress_name(namespace: Option<&str>, name: &str) -> String {
    match namespace {
        Some(ns) => format!("Ingress {ns}/{name}"),
        None => format!("Ingress {name}"),
    }
}

/// Converts every Ingress of `inputs`.
pub fn migrate(inputs: &Inputs) -> Migration {
    let mut m = Migration {
        release: inputs.release,
        ..Migration::default()
    };
    let mut converted = Vec::new();
    for ing in &inputs.ingresses {
        let mut warn = |annotation: Option<&str>, message: String| {
            m.warnings.push(Warning {
                object: object_name(ing),
                annotation: annotation.map(String::from),
                message,
                probe: None,
            });
        };
        if let Some(problem) = valid::ingress_problem(ing) {
            warn(None, problem);
            continue;
        }
        let mut c = convert_rules(ing, inputs, &mut warn);
        kong::apply(ing, inputs, &mut c, &mut warn);
        nginx::apply(ing, inputs.release, &mut c, &mut warn);
        valid::leave_out_invalid(&mut c, &mut warn);
        if ing.spec.rules.is_empty() && ing.spec.default_backend.is_none() {
            warn(
                None,
                "has neither rules nor a defaultBackend; there is nothing to convert".into(),
            );
        }
        for a in ing.metadata.annotations.keys() {
            if !(a.starts_with("konghq.com/")
                || a.starts_with("nginx.ingress.kubernetes.io/")
                || a.starts_with("ingress.kubernetes.io/")
                || a == "kubernetes.io/ingress.class"
                || a.starts_with("kubectl.kubernetes.io/"))
            {
                warn(
                    Some(a),
                    "not a Kong or ingress-nginx annotation; not carried over".into(),
                );
            }
        }
        differences::warn(&c, &object_name(ing), &mut m.warnings);
        converted.push(c);
    }
    merge_canaries(&mut converted, &mut m.warnings);
    differences::warn_across(&converted, &mut m.warnings);
    for c in &converted {
        if c.is_canary {
            continue;
        }
        m.routes
            .push((c.name.clone(), routes::build_routes(c, &mut m.features)));
    }
    m.converted = converted;
    m.warnings.sort();
    m.warnings.dedup();
    m
}

fn service_port(
    svc: &input::ServiceBackend,
    ns: Option<&str>,
    inputs: &Inputs,
    warn: Warn<'_>,
) -> u16 {
    let port = svc.port.clone().unwrap_or_default();
    if let Some(n) = port.number {
        return n;
    }
    if let Some(name) = &port.name {
        let found = inputs
            .services
            .iter()
            .filter(|s| s.metadata.name == svc.name && s.metadata.namespace.as_deref() == ns)
            .flat_map(|s| &s.spec.ports)
            .find(|p| p.name.as_deref() == Some(name.as_str()));
        if let Some(p) = found {
            return p.port;
        }
        warn(
            None,
            format!(
                "backend {} uses the named port `{name}`, which a backendRef cannot; give the Service manifest too, or fix the port number (80 assumed)",
                svc.name
            ),
        );
    } else {
        warn(
            None,
            format!("backend {} has no port; 80 assumed", svc.name),
        );
    }
    80
}

/// The drafts of an Ingress's rules and default backend.
fn convert_rules(ing: &Ingress, inputs: &Inputs, warn: Warn<'_>) -> Converted {
    let ns = ing.metadata.namespace.as_deref();
    let mut drafts = Vec::new();
    for rule in &ing.spec.rules {
        rule_drafts(rule, ns, inputs, &mut drafts, warn);
    }
    if let Some(db) = &ing.spec.default_backend
        && let Some(b) = backend(db, ns, inputs, warn)
    {
        drafts.push(Draft::new(None, PathKind::Prefix, "/".into(), b));
    }
    warn_tls(ing, warn);
    Converted {
        name: ing.metadata.name.clone(),
        namespace: ing.metadata.namespace.clone(),
        controller: if nginx::is_nginx(ing) {
            Controller::Nginx
        } else {
            Controller::Kong
        },
        drafts,
        is_canary: false,
        canary_weight: None,
        canary_header: None,
    }
}

/// One draft per path of an Ingress rule.
fn rule_drafts(
    rule: &input::IngressRule,
    ns: Option<&str>,
    inputs: &Inputs,
    drafts: &mut Vec<Draft>,
    warn: Warn<'_>,
) {
    let host = rule.host.clone();
    for p in rule.http.iter().flat_map(|h| &h.paths) {
        let Some(b) = backend(&p.backend, ns, inputs, warn) else {
            continue;
        };
        let path = p.path.clone().unwrap_or_else(|| "/".into());
        let kind = path_kind(p.path_type.as_deref(), &path, warn);
        let mut d = Draft::new(host.clone(), kind, path, b);
        d.original.plain_prefix = plain_prefix(p.path_type.as_deref(), &d.path);
        drafts.push(d);
    }
}

/// An Ingress backend as a backendRef; a `resource` backend has none.
fn backend(
    b: &input::IngressBackend,
    ns: Option<&str>,
    inputs: &Inputs,
    warn: Warn<'_>,
) -> Option<BackendRef> {
    let Some(s) = &b.service else {
        warn(
            None,
            "a `resource` backend has no Gateway API equivalent; that path is left out".into(),
        );
        return None;
    };
    Some(BackendRef {
        name: s.name.clone(),
        namespace: None,
        port: service_port(s, ns, inputs, warn),
        weight: None,
    })
}

/// The pathType of a path Kong and ingress-nginx match as a plain string
/// prefix, where the route's PathPrefix matches whole segments: an
/// ImplementationSpecific path without regular-expression characters. `/api`
/// then also takes `/api-more`; `/api/` does not take `/api`.
fn plain_prefix(path_type: Option<&str>, path: &str) -> Option<String> {
    let t = path_type.unwrap_or("ImplementationSpecific");
    let regex = path.chars().any(|c| "~^$()[]{}*+?|\\.".contains(c));
    (!matches!(t, "Exact" | "Prefix") && !regex).then(|| t.to_string())
}

/// An Ingress pathType as a path match kind: anything but Exact is a prefix.
fn path_kind(path_type: Option<&str>, path: &str, warn: Warn<'_>) -> PathKind {
    match path_type.unwrap_or("ImplementationSpecific") {
        "Exact" => PathKind::Exact,
        "Prefix" => PathKind::Prefix,
        // The difference is warned of with the probe that shows it.
        t if plain_prefix(Some(t), path).is_some() => PathKind::Prefix,
        other => {
            warn(
                None,
                format!(
                    "path {path} has pathType {other}: treated as PathPrefix (Kong reads it as a regular-expression-capable prefix, ingress-nginx as a prefix)"
                ),
            );
            PathKind::Prefix
        }
    }
}

/// TLS sections are served by the lab Gateway's https listener.
fn warn_tls(ing: &Ingress, warn: Warn<'_>) {
    for t in &ing.spec.tls {
        if let Some(secret) = &t.secret_name {
            warn(
                None,
                format!(
                    "TLS for {} is served by the lab Gateway's https listener; on a real Gateway add an HTTPS listener with certificateRefs: [{{name: {secret}}}]",
                    t.hosts.join(", ")
                ),
            );
        }
    }
}

impl Draft {
    /// Kong and ingress-nginx both serve every Ingress host on http and https
    /// (https with a default certificate where the Ingress names none).
    fn new(host: Option<String>, kind: PathKind, path: String, backend: BackendRef) -> Self {
        Draft {
            host,
            kind,
            path,
            backends: vec![backend],
            header_canary: None,
            methods: Vec::new(),
            redirect: None,
            rewrite: None,
            request_headers: HeaderOps::default(),
            response_headers: HeaderOps::default(),
            http: true,
            https: true,
            https_redirect: None,
            original: Original::default(),
        }
    }
}

/// Canary Ingresses (ingress-nginx `canary: "true"`) join the main Ingress of
/// the same host and path: as a weighted backend, or as a header-matched rule.
fn merge_canaries(converted: &mut [Converted], warnings: &mut Vec<Warning>) {
    let canaries: Vec<Converted> = converted.iter().filter(|c| c.is_canary).cloned().collect();
    for canary in canaries {
        for cd in &canary.drafts {
            let main = converted
                .iter_mut()
                .filter(|c| !c.is_canary && c.namespace == canary.namespace)
                .flat_map(|c| c.drafts.iter_mut())
                .find(|d| d.host == cd.host && d.path == cd.path && d.kind == cd.kind);
            let Some(main) = main else {
                warnings.push(Warning {
                    object: ingress_name(canary.namespace.as_deref(), &canary.name),
                    annotation: Some("nginx.ingress.kubernetes.io/canary".into()),
                    message: format!(
                        "no main Ingress serves host {} path {}; the canary is left out",
                        cd.host.as_deref().unwrap_or("*"),
                        cd.path
                    ),
                    probe: None,
                });
                continue;
            };
            let canary_backend = cd.backends[0].clone();
            if let Some(h) = &canary.canary_header {
                main.header_canary = Some((h.clone(), canary_backend.clone()));
            }
            if let Some(w) = canary.canary_weight {
                let w = w.min(100);
                for b in &mut main.backends {
                    b.weight = Some(100 - w);
                }
                main.backends.push(BackendRef {
                    weight: Some(w),
                    ..canary_backend
                });
            }
        }
    }
}

/// What a client may do differently when `code` becomes `gw`: 307 and 308
/// keep the request's method and body, 301 and 302 let a client resend a
/// POST as a GET (RFC 9110, sections 15.4.2, 15.4.3, 15.4.8 and 15.4.9).
pub(crate) fn method_change(code: u16, gw: u16) -> String {
    if matches!(code, 307 | 308) && matches!(gw, 301 | 302) {
        format!(
            "; unlike {code}, a {gw} lets clients resend a POST or PUT as a GET without its body"
        )
    } else {
        String::new()
    }
}

/// For a code a later release keeps (303, 307, 308 before v1.5.1): how to
/// keep it, to end a warning with.
pub(crate) fn later_release_keeps(code: u16, release: crate::gateway_api::Release) -> String {
    let v1_5 = crate::gateway_api::Release::V1_5_1;
    if matches!(code, 303 | 307 | 308) && release < v1_5 {
        format!("; Gateway API {v1_5} keeps {code}: `--gateway-api {v1_5}`")
    } else {
        String::new()
    }
}

/// The redirect status codes Gateway API `release` allows, in words.
pub(crate) fn allowed_statuses(release: crate::gateway_api::Release) -> &'static str {
    if release >= crate::gateway_api::Release::V1_5_1 {
        "301, 302, 303, 307 or 308"
    } else {
        "301 or 302"
    }
}

/// The status a RequestRedirect of `release` gives for `code`: the code
/// itself where the release allows it (301 and 302; 303, 307 and 308 from
/// v1.5.1), else the nearest (308 → 301, others → 302), and whether it
/// differs.
pub(crate) fn gateway_status(code: u16, release: crate::gateway_api::Release) -> (u16, bool) {
    let v1_5 = release >= crate::gateway_api::Release::V1_5_1;
    match code {
        301 | 302 => (code, false),
        303 | 307 | 308 if v1_5 => (code, false),
        308 => (301, true),
        _ => (302, true),
    }
}

/// Why a redirect target cannot be a RequestRedirect.
#[derive(Debug, thiserror::Error)]
pub(crate) enum BadRedirect {
    #[error("`{url}` is not an absolute URL: {source}")]
    NotAbsolute {
        url: String,
        #[source]
        source: url::ParseError,
    },
    #[error("`{0}` is not an http or https URL")]
    NotHttp(String),
    #[error("`{url}`: a RequestRedirect hostname must be a DNS name: {source}")]
    Host {
        url: String,
        #[source]
        source: crate::model::hostname::HostnameError,
    },
}

/// Splits an absolute URL into the parts a RequestRedirect can set.
pub(crate) fn redirect_to(
    url: &str,
    status: u16,
    keep_path: bool,
    release: crate::gateway_api::Release,
) -> Result<Redirect, BadRedirect> {
    let u = url::Url::parse(url).map_err(|source| BadRedirect::NotAbsolute {
        url: url.into(),
        source,
    })?;
    if !matches!(u.scheme(), "http" | "https") {
        return Err(BadRedirect::NotHttp(url.into()));
    }
    if let Some(h) = u.host_str() {
        crate::model::hostname::validate(h).map_err(|source| BadRedirect::Host {
            url: url.into(),
            source,
        })?;
    }
    let (status_code, _) = gateway_status(status, release);
    Ok(Redirect {
        scheme: Some(u.scheme().to_string()),
        hostname: u.host_str().map(String::from),
        port: u.port(),
        path: (!keep_path).then(|| PathModifier::full(u.path())),
        status_code,
    })
}
