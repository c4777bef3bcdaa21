//! ingress-nginx annotations (`nginx.ingress.kubernetes.io/*`).

use super::input::Ingress;
use super::output::{NameValue, PathModifier, Redirect};
use super::{Converted, Draft, ExactLocation, PathKind, Warn, gateway_status, redirect_to, values};
use crate::gateway_api::Release;

const P: &str = "nginx.ingress.kubernetes.io/";

pub(super) fn is_nginx(ing: &Ingress) -> bool {
    let class = ing.spec.ingress_class_name.as_deref().or(ing
        .metadata
        .annotations
        .get("kubernetes.io/ingress.class")
        .map(String::as_str));
    class.is_some_and(|c| c.contains("nginx"))
        || ing.metadata.annotations.keys().any(|k| k.starts_with(P))
}

/// The nginx annotations gwlab reads; any other is reported as not carried over.
const HANDLED: &[&str] = &[
    "app-root",
    "canary",
    "canary-by-header",
    "canary-by-header-value",
    "canary-weight",
    "canary-weight-total",
    "force-ssl-redirect",
    "permanent-redirect",
    "permanent-redirect-code",
    "rewrite-target",
    "ssl-redirect",
    "temporal-redirect",
    "use-regex",
];

/// An Ingress's `nginx.ingress.kubernetes.io/*` annotations, by short name.
struct Annotations<'a>(&'a Ingress);

impl Annotations<'_> {
    fn get(&self, k: &str) -> Option<String> {
        self.0
            .metadata
            .annotations
            .get(&key(k))
            .map(|s| s.trim().to_string())
    }
    fn is(&self, k: &str, value: &str) -> bool {
        self.get(k).as_deref() == Some(value)
    }
}

fn key(k: &str) -> String {
    format!("{P}{k}")
}

pub fn apply(ing: &Ingress, release: Release, c: &mut Converted, warn: Warn<'_>) {
    if !is_nginx(ing) {
        return;
    }
    let a = Annotations(ing);
    if let Some(target) = a.get("rewrite-target") {
        rewrite_target(&target, c, warn);
    }
    if a.is("use-regex", "true") {
        warn(
            Some(&key("use-regex")),
            "paths are regular expressions in ingress-nginx; they were converted as prefixes"
                .into(),
        );
    }
    case_insensitive(&a, c, warn);
    redirects(&a, release, c, warn);
    ssl_redirect(ing, &a, release, c, warn);
    if let Some(root) = a.get("app-root") {
        app_root(&root, c);
    }
    if a.is("canary", "true") {
        canary(&a, c, warn);
    }
    for k in ing.metadata.annotations.keys() {
        let Some(name) = k.strip_prefix(P) else {
            continue;
        };
        if !HANDLED.contains(&name) {
            warn(
                Some(k),
                "no Gateway API equivalent; not carried over".into(),
            );
        }
    }
}

/// With `rewrite-target` or `use-regex`, ingress-nginx writes every location
/// of the host as a case-insensitive regular expression: in ingress-nginx
/// controller-v1.14.5, `internal/ingress/controller/template/template.go`,
/// `buildLocation` returns `~* "^PATH"` when `enforceRegexModifier` holds (a
/// rewrite-target other than the path, or use-regex, on a location of the
/// server). Gateway API path matches are case-sensitive.
fn case_insensitive(a: &Annotations<'_>, c: &Converted, warn: Warn<'_>) {
    let which = if a.get("rewrite-target").is_some() {
        "rewrite-target"
    } else if a.is("use-regex", "true") {
        "use-regex"
    } else {
        return;
    };
    let example = c
        .drafts
        .iter()
        .map(|d| d.path.trim_end_matches("(/|$)(.*)"))
        .find(|p| p.chars().any(|ch| ch.is_ascii_lowercase()))
        .map(|p| format!(": {} is no longer taken", p.to_ascii_uppercase()))
        .unwrap_or_default();
    warn(
        Some(&key(which)),
        format!(
            "with {which}, ingress-nginx matches the host's paths case-insensitively (an nginx `location ~*`); the route's path matches are case-sensitive{example} (not probed)"
        ),
    );
}

fn rewrite_target(target: &str, c: &mut Converted, warn: Warn<'_>) {
    for d in &mut c.drafts {
        if !target.contains('$') {
            // nginx replaces the whole URI with the target for every matching request.
            d.rewrite = Some(PathModifier::full(target));
        } else if let Some(prefix) = d.path.strip_suffix("(/|$)(.*)").filter(|_| target == "/$2") {
            d.path = if prefix.is_empty() {
                "/".into()
            } else {
                prefix.to_string()
            };
            d.kind = PathKind::Prefix;
            d.rewrite = Some(PathModifier::prefix("/"));
        } else {
            warn(
                Some(&key("rewrite-target")),
                format!(
                    "rewrite-target {target} on path {}: only `/$2` with a path ending in `(/|$)(.*)`, or a target without captures, are converted",
                    d.path
                ),
            );
        }
    }
}

/// `permanent-redirect` (with its code) and `temporal-redirect`.
fn redirects(a: &Annotations<'_>, release: Release, c: &mut Converted, warn: Warn<'_>) {
    for (k, default) in [("permanent-redirect", 301u16), ("temporal-redirect", 302)] {
        let Some(url) = a.get(k) else { continue };
        let code = if k == "permanent-redirect" {
            permanent_redirect_code(a, warn)
        } else {
            default
        };
        let r = match redirect_to(&url, code, false, release) {
            Ok(r) => r,
            Err(e) => {
                warn(Some(&key(k)), e.to_string());
                continue;
            }
        };
        let (_, differs) = gateway_status(code, release);
        if differs {
            warn(
                Some(&key(k)),
                format!(
                    "Gateway API {release} redirects with {} only; {code} becomes {}{} (the scenario expects {code}{})",
                    super::allowed_statuses(release),
                    r.status_code,
                    super::method_change(code, r.status_code),
                    super::later_release_keeps(code, release)
                ),
            );
        }
        // ingress-nginx answers with an nginx `return` of the URL as given:
        // neither the request's path nor its query is added.
        let exact = ExactLocation {
            annotation: key(k),
            by: "ingress-nginx".into(),
            location: url.to_string(),
            query: super::kong::location_query(&url),
        };
        for d in &mut c.drafts {
            d.redirect = Some(r.clone());
            d.original.exact_location = Some(exact.clone());
            if differs {
                d.original.redirect_status = Some(code);
            }
        }
    }
}

/// `permanent-redirect-code`: ingress-nginx uses 301 for a code outside
/// 300-308, and so does the converter, saying so.
fn permanent_redirect_code(a: &Annotations<'_>, warn: Warn<'_>) -> u16 {
    let Some(text) = a.get("permanent-redirect-code") else {
        return 301;
    };
    match values::annotation(&text, 300..=308) {
        Ok(n) => n as u16,
        Err(e) => {
            warn(
                Some(&key("permanent-redirect-code")),
                format!(
                    "{e} (a redirect status, 300-308); ingress-nginx then redirects with 301, and so does the route"
                ),
            );
            301
        }
    }
}

/// http → https for the TLS hosts (`ssl-redirect`, on by default) or for every
/// host (`force-ssl-redirect`).
fn ssl_redirect(
    ing: &Ingress,
    a: &Annotations<'_>,
    release: Release,
    c: &mut Converted,
    warn: Warn<'_>,
) {
    let tls_hosts: Vec<&String> = ing.spec.tls.iter().flat_map(|t| &t.hosts).collect();
    let force = a.is("force-ssl-redirect", "true");
    let ssl = !a.is("ssl-redirect", "false");
    let redirected = |d: &Draft| {
        d.host
            .as_ref()
            .is_some_and(|h| force || (ssl && tls_hosts.contains(&h)))
    };
    if !c.drafts.iter().any(redirected) {
        return;
    }
    let which = if force {
        "force-ssl-redirect"
    } else {
        "ssl-redirect"
    };
    let (code, differs) = gateway_status(308, release);
    if differs {
        warn(
            Some(&key(which)),
            format!(
                "ingress-nginx redirects http to https with 308 (its default http-redirect-code); Gateway API {release} redirects with {} only, so the route uses {code}{} (the scenario expects 308{})",
                super::allowed_statuses(release),
                super::method_change(308, code),
                super::later_release_keeps(308, release)
            ),
        );
    }
    for d in c.drafts.iter_mut().filter(|d| redirected(d)) {
        d.http = false;
        d.https = true;
        d.https_redirect = Some(code);
        if differs {
            d.original.redirect_status = Some(308);
        }
    }
}

/// `app-root`: `/` of each host redirects to the root.
fn app_root(root: &str, c: &mut Converted) {
    let mut hosts: Vec<Option<String>> = c.drafts.iter().map(|d| d.host.clone()).collect();
    hosts.dedup();
    for host in hosts {
        let Some(t) = c.drafts.iter().find(|d| d.host == host).cloned() else {
            continue;
        };
        let d = Draft {
            kind: PathKind::Exact,
            path: "/".into(),
            rewrite: None,
            header_canary: None,
            methods: vec![],
            redirect: Some(Redirect {
                path: Some(PathModifier::full(root)),
                status_code: 302,
                ..Default::default()
            }),
            ..t
        };
        c.drafts.insert(0, d);
    }
}

/// The canary's share in percent of `weight` out of `total`; a weight above
/// the total sends everything to the canary, as in ingress-nginx.
fn canary_percent(weight: &str, total: u64, warn: Warn<'_>) -> Option<u32> {
    let w = match values::annotation(weight, 0..=u64::MAX) {
        Ok(w) => w,
        Err(e) => {
            warn(
                Some(&key("canary-weight")),
                format!("{e}; no weighted split is converted"),
            );
            return None;
        }
    };
    if w > total {
        warn(
            Some(&key("canary-weight")),
            format!(
                "{w} is more than canary-weight-total ({total}); the canary gets all the traffic (100%)"
            ),
        );
    }
    // u128: `w * 100` must not wrap (42949673 * 100 did, in u32).
    let percent = (u128::from(w.min(total)) * 100 / u128::from(total)) as u32;
    Some(percent)
}

/// A canary Ingress: its weight (out of `canary-weight-total`) and header.
fn canary(a: &Annotations<'_>, c: &mut Converted, warn: Warn<'_>) {
    c.is_canary = true;
    let total = match a.get("canary-weight-total") {
        None => 100,
        Some(t) => values::annotation(&t, 1..=u64::from(u32::MAX)).unwrap_or_else(|e| {
            warn(
                Some(&key("canary-weight-total")),
                format!("{e}; 100 (the default) is used"),
            );
            100
        }),
    };
    if let Some(w) = a.get("canary-weight") {
        c.canary_weight = canary_percent(&w, total, warn);
    }
    if let Some(h) = a.get("canary-by-header") {
        let value = a.get("canary-by-header-value");
        if value.is_none() {
            warn(
                Some(&key("canary-by-header")),
                format!(
                    "ingress-nginx sends `{h}: always` to the canary and `{h}: never` never; only `always` is converted"
                ),
            );
        }
        c.canary_header = Some(NameValue {
            name: h,
            value: value.unwrap_or_else(|| "always".into()),
        });
    }
}
