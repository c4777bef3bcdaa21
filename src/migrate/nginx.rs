//! ingress-nginx annotations (`nginx.ingress.kubernetes.io/*`).

use super::input::Ingress;
use super::output::{NameValue, PathModifier};
use super::{Converted, Draft, PathKind, gateway_status, redirect_to};

type Warn<'a> = &'a mut dyn FnMut(Option<&str>, String);

const P: &str = "nginx.ingress.kubernetes.io/";

fn is_nginx(ing: &Ingress) -> bool {
    let class = ing.spec.ingress_class_name.as_deref().or(ing
        .metadata
        .annotations
        .get("kubernetes.io/ingress.class")
        .map(String::as_str));
    class.is_some_and(|c| c.contains("nginx"))
        || ing.metadata.annotations.keys().any(|k| k.starts_with(P))
}

pub fn apply(ing: &Ingress, c: &mut Converted, warn: Warn<'_>) {
    if !is_nginx(ing) {
        return;
    }
    let ann = &ing.metadata.annotations;
    let get = |k: &str| ann.get(&format!("{P}{k}")).map(|s| s.trim().to_string());
    let key = |k: &str| format!("{P}{k}");
    let mut handled = vec![
        "rewrite-target",
        "permanent-redirect",
        "permanent-redirect-code",
        "temporal-redirect",
        "ssl-redirect",
        "force-ssl-redirect",
        "canary",
        "canary-weight",
        "canary-weight-total",
        "canary-by-header",
        "canary-by-header-value",
        "app-root",
        "use-regex",
    ];

    if let Some(target) = get("rewrite-target") {
        let k = key("rewrite-target");
        for d in &mut c.drafts {
            if !target.contains('$') {
                // nginx replaces the whole URI with the target for every matching request.
                d.rewrite = Some(PathModifier::full(&target));
            } else if let Some(prefix) =
                d.path.strip_suffix("(/|$)(.*)").filter(|_| target == "/$2")
            {
                d.path = if prefix.is_empty() {
                    "/".into()
                } else {
                    prefix.to_string()
                };
                d.kind = PathKind::Prefix;
                d.rewrite = Some(PathModifier::prefix("/"));
            } else {
                warn(
                    Some(&k),
                    format!(
                        "rewrite-target {target} on path {}: only `/$2` with a path ending in `(/|$)(.*)`, or a target without captures, are converted",
                        d.path
                    ),
                );
            }
        }
    }
    if get("use-regex").as_deref() == Some("true") {
        warn(
            Some(&key("use-regex")),
            "paths are regular expressions in ingress-nginx; they were converted as prefixes"
                .into(),
        );
    }
    for (k, default) in [("permanent-redirect", 301u16), ("temporal-redirect", 302)] {
        let Some(url) = get(k) else { continue };
        let code = if k == "permanent-redirect" {
            get("permanent-redirect-code")
                .and_then(|c| c.parse().ok())
                .unwrap_or(default)
        } else {
            default
        };
        match redirect_to(&url, code, false) {
            Ok(r) => {
                let (_, differs) = gateway_status(code);
                if differs {
                    warn(
                        Some(&key(k)),
                        format!(
                            "Gateway API redirects with 301 or 302 only; {code} becomes {} (the scenario expects {code})",
                            r.status_code
                        ),
                    );
                }
                for d in &mut c.drafts {
                    d.redirect = Some(r.clone());
                    if differs {
                        d.original.redirect_status = Some(code);
                    }
                }
            }
            Err(e) => warn(Some(&key(k)), e),
        }
    }
    let tls_hosts: Vec<&String> = ing.spec.tls.iter().flat_map(|t| &t.hosts).collect();
    let force = get("force-ssl-redirect").as_deref() == Some("true");
    let ssl = get("ssl-redirect").as_deref() != Some("false");
    let redirected: Vec<usize> = c
        .drafts
        .iter()
        .enumerate()
        .filter(|(_, d)| {
            d.host.is_some()
                && (force || (ssl && d.host.as_ref().is_some_and(|h| tls_hosts.contains(&h))))
        })
        .map(|(i, _)| i)
        .collect();
    if !redirected.is_empty() {
        let which = if force {
            "force-ssl-redirect"
        } else {
            "ssl-redirect"
        };
        warn(Some(&key(which)), "ingress-nginx redirects http to https with 308 (its default http-redirect-code); Gateway API redirects with 301 or 302, so the route uses 301 (the scenario expects 308)".into());
        for i in redirected {
            let d = &mut c.drafts[i];
            d.http = false;
            d.https = true;
            d.https_redirect = Some(301);
            d.original.redirect_status = Some(308);
        }
    }
    if let Some(root) = get("app-root") {
        let hosts: Vec<Option<String>> = {
            let mut h: Vec<Option<String>> = c.drafts.iter().map(|d| d.host.clone()).collect();
            h.dedup();
            h
        };
        for host in hosts {
            let template = c.drafts.iter().find(|d| d.host == host).cloned();
            if let Some(t) = template {
                let mut d = Draft {
                    kind: PathKind::Exact,
                    path: "/".into(),
                    rewrite: None,
                    header_canary: None,
                    methods: vec![],
                    ..t
                };
                d.redirect = Some(super::output::Redirect {
                    path: Some(PathModifier::full(&root)),
                    status_code: 302,
                    ..Default::default()
                });
                c.drafts.insert(0, d);
            }
        }
    }
    if get("canary").as_deref() == Some("true") {
        c.is_canary = true;
        let total: u32 = get("canary-weight-total")
            .and_then(|t| t.parse().ok())
            .unwrap_or(100);
        if let Some(w) = get("canary-weight").and_then(|w| w.parse::<u32>().ok()) {
            c.canary_weight = Some((w * 100).checked_div(total).unwrap_or(0));
        }
        if let Some(h) = get("canary-by-header") {
            let value = get("canary-by-header-value").unwrap_or_else(|| "always".into());
            if get("canary-by-header-value").is_none() {
                warn(
                    Some(&key("canary-by-header")),
                    format!(
                        "ingress-nginx sends `{h}: always` to the canary and `{h}: never` never; only `always` is converted"
                    ),
                );
            }
            c.canary_header = Some(NameValue { name: h, value });
        }
    }
    handled.sort();
    for k in ann.keys() {
        let Some(name) = k.strip_prefix(P) else {
            continue;
        };
        if handled.binary_search(&name).is_err() {
            warn(
                Some(k),
                "no Gateway API equivalent; not carried over".into(),
            );
        }
    }
}
