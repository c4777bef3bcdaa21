//! What the original Ingress controller answers for a request the generated
//! scenario sends beyond a path's sample: which of the migration's paths
//! takes it under the original's matching rules, and what that path does.
//! Kong (KIC) and ingress-nginx match an Ingress `Prefix` path by whole
//! segments ignoring a trailing `/` (the Ingress specification's table), an
//! `ImplementationSpecific` path without regular-expression characters as a
//! plain string prefix, and `Exact` exactly; a path restricted to methods
//! (`konghq.com/methods`) takes only those.

use super::{Controller, Converted, Draft, PathKind};

/// What the original does with one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Answer {
    /// One backend serves it, seeing this path.
    Served { backend: String, path: String },
    /// No path of the migration takes it: 404.
    NotFound,
    /// nginx answers a request for a `/`-terminated plain prefix without its
    /// `/` with a 301 to the path with it (its `location` rule for proxied
    /// prefixes; ingress-nginx proxies every location).
    SlashAdded { path: String },
}

/// Whose matching rules decide: the original's, or the route's (Gateway API
/// PathPrefix matches whole segments, whatever the Ingress pathType was).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rules {
    Original,
    Route,
}

/// The request a probe sends.
pub struct Request<'a> {
    pub host: &'a Option<String>,
    pub http: bool,
    pub method: &'a str,
    pub path: &'a str,
}

/// Whether `d` takes `path` under `rules`.
fn matches(d: &Draft, path: &str, rules: Rules) -> bool {
    let plain = rules == Rules::Original && d.original.plain_prefix.is_some();
    match d.kind {
        PathKind::Exact => d.path == path,
        PathKind::Prefix if plain => path.starts_with(&d.path),
        PathKind::Prefix => crate::model::path::prefix_matches(&d.path, path),
    }
}

/// The path of the migration that takes `req` under `rules`, if any. A path
/// of the request's host comes before one without a host, then an Exact path
/// before any prefix, then the longest, then one restricted to the request's
/// method before an unrestricted one (Kong and Gateway API both rank a
/// method match higher). Of equals the first wins: Gateway API favours the
/// oldest route and its first rule, ingress-nginx the first Ingress.
pub(super) fn winner<'a>(
    converted: &'a [Converted],
    req: &Request<'_>,
    rules: Rules,
) -> Option<(&'a Converted, &'a Draft)> {
    converted
        .iter()
        .filter(|c| !c.is_canary)
        .flat_map(|c| c.drafts.iter().map(move |d| (c, d)))
        // A path without a host (a rule without one, the default backend)
        // takes requests for any host that no path of their host takes.
        .filter(|(_, d)| d.host.is_none() || d.host == *req.host)
        .filter(|(_, d)| {
            if req.http {
                d.http || d.https_redirect.is_some()
            } else {
                d.https
            }
        })
        .filter(|(_, d)| d.methods.is_empty() || d.methods.iter().any(|m| m == req.method))
        .filter(|(_, d)| matches(d, req.path, rules))
        .fold(None, |best, candidate| match best {
            Some(b) if rank(b) >= rank(candidate) => Some(b),
            _ => Some(candidate),
        })
}

/// How a path that takes a request ranks ([`winner`]): higher wins.
fn rank((_, d): (&Converted, &Draft)) -> (bool, bool, usize, bool) {
    (
        d.host.is_some(),
        d.kind == PathKind::Exact,
        d.path.len(),
        !d.methods.is_empty(),
    )
}

/// What `d`, the path that takes `req`, answers; `None` when it redirects,
/// splits or sends http to https: those have probes of their own.
fn served_by(d: &Draft, req: &Request<'_>) -> Option<Answer> {
    let redirected = req.http && !d.http;
    if d.redirect.is_some() || d.backends.len() != 1 || redirected {
        return None;
    }
    Some(Answer::Served {
        backend: d.backends[0].name.clone(),
        path: super::scenario::backend_path(d, req.path),
    })
}

/// The answer to `req` under `rules`, or `None` when the path that takes it
/// redirects, splits or sends http to https: those have probes of their own.
pub fn answer(converted: &[Converted], req: &Request<'_>, rules: Rules) -> Option<Answer> {
    match winner(converted, req, rules) {
        None => Some(Answer::NotFound),
        Some((_, d)) => served_by(d, req),
    }
}

/// The path with or without its trailing `/` that the scenario also sends
/// for a prefix path (`/api/` → `/api`, `/api` → `/api/`), if any.
pub(crate) fn other_slash(d: &Draft) -> Option<String> {
    if d.kind != PathKind::Prefix || d.path == "/" {
        return None;
    }
    Some(match d.path.strip_suffix('/') {
        Some(trimmed) => trimmed.to_string(),
        None => format!("{}/", d.path),
    })
}

/// The request of `d`'s slash probe: `other` ([`other_slash`]) on the scheme
/// and with the method `d`'s own probe uses.
fn slash_request<'a>(d: &'a Draft, other: &'a str) -> Request<'a> {
    Request {
        host: &d.host,
        http: d.http,
        method: d.methods.first().map(String::as_str).unwrap_or("GET"),
        path: other,
    }
}

/// What `rules` do with `other`, `d`'s path with or without its trailing `/`
/// ([`other_slash`]). Only the original's rules for a `/`-terminated plain
/// prefix refuse `/api`; nginx then adds the `/` itself, unless a location
/// of exactly `/api` takes it: nginx's static location search answers the
/// 301 for a proxied `/api/` location over any shorter prefix (a catch-all
/// `/` included), but an `= /api` or a `/api` location matches the whole
/// request and wins.
pub(crate) fn slash_answer(
    c: &Converted,
    converted: &[Converted],
    d: &Draft,
    other: &str,
    rules: Rules,
) -> Option<Answer> {
    let req = slash_request(d, other);
    let plain = d.original.plain_prefix.is_some() && d.path.ends_with('/');
    if rules == Rules::Original && plain && c.controller == Controller::Nginx {
        return match winner(converted, &req, rules) {
            Some((_, w)) if w.path == other => served_by(w, &req),
            _ => Some(Answer::SlashAdded {
                path: d.path.clone(),
            }),
        };
    }
    answer(converted, &req, rules)
}

/// What the path that takes `other` under `rules` does where
/// [`slash_answer`] has no answer, in words for a warning.
pub(crate) fn slash_unanswered(
    converted: &[Converted],
    d: &Draft,
    other: &str,
    rules: Rules,
) -> &'static str {
    match winner(converted, &slash_request(d, other), rules) {
        Some((_, w)) if w.redirect.is_some() => "redirects it",
        Some((_, w)) if w.backends.len() != 1 => "splits it",
        Some(_) => "redirects it to https",
        None => "answers otherwise",
    }
}

/// A slash probe of the scenario: the path sent, and what the original answers.
pub(crate) struct SlashProbe {
    pub other: String,
    pub original: Answer,
}

/// The slash probe the scenario has for `d`, if any: the one predicate both
/// the scenario and the warnings of its differences go by. A canary's paths
/// are probed through its main Ingress; a request the original answers
/// otherwise than from one backend, with a 404 or nginx's 301 (it redirects
/// or splits) is not probed. A redirecting `/api/` is probed where the
/// original sends `/api` elsewhere: the route's PathPrefix redirects it.
pub(crate) fn slash_probe(c: &Converted, converted: &[Converted], d: &Draft) -> Option<SlashProbe> {
    if c.is_canary {
        return None;
    }
    let other = other_slash(d)?;
    let original = slash_answer(c, converted, d, &other, Rules::Original)?;
    Some(SlashProbe { other, original })
}

impl std::fmt::Display for Answer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Answer::Served { backend, path } => write!(f, "{backend} serves it (as {path})"),
            Answer::NotFound => f.write_str("404: no path takes it"),
            Answer::SlashAdded { path } => write!(f, "301 to {path}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::migrate::{inputs, migrate};

    fn converted(yaml: &str) -> Vec<Converted> {
        let objects = crate::manifest::parse_text(std::path::Path::new("in.yaml"), yaml).unwrap();
        migrate(&inputs(&objects).unwrap()).converted
    }

    const INGRESS: &str = "apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: shop
  annotations: {konghq.com/methods: 'GET,POST', ANNOTATION}
spec:
  rules:
    - host: shop.example.com
      http:
        paths:
          - {path: /api/, pathType: ImplementationSpecific, backend: {service: {name: api, port: {number: 80}}}}
";

    fn req<'a>(host: &'a Option<String>, method: &'a str, path: &'a str) -> Request<'a> {
        Request {
            host,
            http: true,
            method,
            path,
        }
    }

    #[test]
    fn a_slash_terminated_plain_prefix_does_not_take_the_path_without_its_slash() {
        let c = converted(&INGRESS.replace(", ANNOTATION", ""));
        let host = Some("shop.example.com".to_string());
        let served = |path: &str| Answer::Served {
            backend: "api".into(),
            path: path.into(),
        };
        let original = |m, p| answer(&c, &req(&host, m, p), Rules::Original);
        let route = |m, p| answer(&c, &req(&host, m, p), Rules::Route);
        assert_eq!(original("GET", "/api/x"), Some(served("/api/x")));
        assert_eq!(original("GET", "/api"), Some(Answer::NotFound));
        assert_eq!(route("GET", "/api"), Some(served("/api")));
        // A method the path does not list goes nowhere else.
        assert_eq!(original("DELETE", "/api/x"), Some(Answer::NotFound));
        assert_eq!(original("POST", "/api/x"), Some(served("/api/x")));
        let d = &c[0].drafts[0];
        assert_eq!(other_slash(d).as_deref(), Some("/api"));
        assert_eq!(
            slash_answer(&c[0], &c, d, "/api", Rules::Original),
            Some(Answer::NotFound)
        );
    }

    #[test]
    fn the_default_backend_takes_what_no_path_of_the_host_does() {
        let with_default = INGRESS.replace(", ANNOTATION", "").replace(
            "spec:\n",
            "spec:\n  defaultBackend: {service: {name: fallback, port: {number: 80}}}\n",
        );
        let c = converted(&with_default);
        let host = Some("shop.example.com".to_string());
        let fallback = |path: &str| {
            Some(Answer::Served {
                backend: "fallback".into(),
                path: path.into(),
            })
        };
        let original = |m, p| answer(&c, &req(&host, m, p), Rules::Original);
        assert_eq!(original("GET", "/api"), fallback("/api"));
        assert_eq!(original("GET", "/other"), fallback("/other"));
        // konghq.com/methods holds for every path of the Ingress, its
        // default backend's too.
        assert_eq!(original("DELETE", "/api/x"), Some(Answer::NotFound));
        assert_eq!(
            original("GET", "/api/x"),
            Some(Answer::Served {
                backend: "api".into(),
                path: "/api/x".into()
            })
        );
    }

    #[test]
    fn nginx_adds_the_slash_itself() {
        let c = converted(&INGRESS.replace(
            "ANNOTATION",
            "nginx.ingress.kubernetes.io/proxy-body-size: 1m",
        ));
        assert_eq!(c[0].controller, Controller::Nginx);
        let d = &c[0].drafts[0];
        assert_eq!(
            slash_answer(&c[0], &c, d, "/api", Rules::Original),
            Some(Answer::SlashAdded {
                path: "/api/".into()
            })
        );
    }

    fn ingress(name: &str, annotations: &str, paths: &str) -> String {
        format!(
            "apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {{name: {name}, annotations: {{{annotations}}}}}
spec:
  rules:
    - host: shop.example.com
      http:
        paths:
{paths}"
        )
    }

    fn path(path: &str, kind: &str, backend: &str) -> String {
        format!(
            "          - {{path: {path}, pathType: {kind}, backend: {{service: {{name: {backend}, port: {{number: 80}}}}}}}}\n"
        )
    }

    #[test]
    fn of_equal_paths_the_first_wins_and_a_method_match_outranks_none() {
        let api = path("/api", "Prefix", "BACKEND");
        let yaml = [
            ingress("all", "", &api.replace("BACKEND", "all")),
            ingress(
                "get",
                "konghq.com/methods: GET",
                &api.replace("BACKEND", "get"),
            ),
            ingress("later", "", &api.replace("BACKEND", "later")),
        ]
        .join("---\n");
        let c = converted(&yaml);
        let host = Some("shop.example.com".to_string());
        let backend = |m| match answer(&c, &req(&host, m, "/api/x"), Rules::Route) {
            Some(Answer::Served { backend, .. }) => backend,
            other => panic!("{other:?}"),
        };
        assert_eq!(backend("GET"), "get");
        assert_eq!(backend("POST"), "all");
    }

    #[test]
    fn nginx_adds_the_slash_unless_a_path_of_exactly_that_takes_it() {
        let nginx = "kubernetes.io/ingress.class: nginx";
        let slash = path("/api/", "ImplementationSpecific", "api");
        let catch_all = path("/", "Prefix", "web");
        let c = converted(&ingress("shop", nginx, &format!("{slash}{catch_all}")));
        assert_eq!(c[0].controller, Controller::Nginx);
        let d = &c[0].drafts[0];
        // nginx's 301 for the proxied `/api/` location beats a shorter prefix.
        assert_eq!(
            slash_answer(&c[0], &c, d, "/api", Rules::Original),
            Some(Answer::SlashAdded {
                path: "/api/".into()
            })
        );
        let exact = path("/api", "Exact", "api-root");
        let c = converted(&ingress("shop", nginx, &format!("{slash}{exact}")));
        let p = slash_probe(&c[0], &c, &c[0].drafts[0]).unwrap();
        assert_eq!(p.other, "/api");
        assert_eq!(
            p.original,
            Answer::Served {
                backend: "api-root".into(),
                path: "/api".into()
            }
        );
        // The route's Exact /api takes it too: no difference.
        assert_eq!(
            slash_answer(&c[0], &c, &c[0].drafts[0], "/api", Rules::Route),
            Some(p.original)
        );
    }
}
