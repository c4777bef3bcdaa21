//! One rule applied to a request: its filters in order, then the outcome
//! (forward to the backends, redirect, or an error).

use super::kong::{self, KongRedirect, Noted, RedirectFilter};
use super::{Forward, Outcome, redirect_location};
use crate::implementations::KongRun;
use crate::model::compile::{Backend, Entry, Filter, HeaderOps, PathRewrite, Rule, Share};
use crate::model::cors::CorsAnswer;
use crate::model::path;
use crate::model::request::{RequestHead, modify_headers};

fn rewrite_path(rewrite: &PathRewrite, entry: &Entry, path: &str) -> String {
    match rewrite {
        PathRewrite::Full(p) => p.clone(),
        PathRewrite::Prefix(p) => path::replace_prefix(path, &entry.m.path, p),
    }
}

/// A rule's filters running over a request, in order.
struct FilterRun<'a> {
    entry: &'a Entry,
    listener_port: u16,
    /// The Kong that answers, if not the spec; what it did otherwise is noted.
    kong: Option<KongRun>,
    noted: &'a mut Noted,
    /// The request as it arrived.
    original: &'a RequestHead,
    /// The request as the filters so far left it.
    request: RequestHead,
    /// Response header changes apply to whatever the rule answers, redirects
    /// included, wherever the filter is listed.
    response_headers: Vec<HeaderOps>,
    mirrors: Vec<(Backend, Share)>,
    applied: Vec<String>,
}

impl FilterRun<'_> {
    /// Runs one filter; a filter that answers by itself gives the outcome.
    fn apply(&mut self, f: &Filter) -> Option<Outcome> {
        match f {
            Filter::RequestHeaders(ops) => {
                modify_headers(&mut self.request.headers, &ops.set, &ops.add, &ops.remove);
                self.applied.push("RequestHeaderModifier".to_string());
            }
            Filter::ResponseHeaders(_) => self.applied.push("ResponseHeaderModifier".to_string()),
            Filter::Rewrite { hostname, path } => {
                if let Some(h) = hostname {
                    self.request.host = h.clone();
                }
                if let Some(p) = path {
                    self.request.path = rewrite_path(p, self.entry, &self.request.path);
                }
                self.applied.push(format!(
                    "URLRewrite → host {} path {}",
                    self.request.host, self.request.path
                ));
            }
            Filter::Redirect {
                scheme,
                hostname,
                port,
                path,
                status,
            } => {
                let (location, body) = match self.kong {
                    None => (
                        redirect_location(
                            self.original,
                            self.listener_port,
                            scheme.as_deref(),
                            hostname.as_deref(),
                            *port,
                            path.as_ref()
                                .map(|p| rewrite_path(p, self.entry, &self.original.path)),
                        ),
                        String::new(),
                    ),
                    Some(k) => {
                        let filter = RedirectFilter {
                            scheme: scheme.as_deref(),
                            hostname: hostname.as_deref(),
                            port: *port,
                            path: path.as_ref(),
                        };
                        let KongRedirect { location, body } = kong::redirect(
                            k,
                            &filter,
                            self.original,
                            &self.entry.m.path,
                            self.listener_port,
                            self.noted,
                        );
                        (location, body)
                    }
                };
                self.applied
                    .push(format!("RequestRedirect → {status} {location}"));
                return Some(Outcome::Redirect {
                    status: *status,
                    location,
                    body,
                    response_headers: self.response_headers.clone(),
                });
            }
            Filter::Mirror(b, share) => {
                self.mirrors.push((b.clone(), *share));
                let of = share.said();
                self.applied.push(if of.is_empty() {
                    format!("RequestMirror → {}", b.display)
                } else {
                    format!("RequestMirror → {} ({of} of requests)", b.display)
                });
            }
            Filter::Cors(cors) => match cors.answer(self.original) {
                CorsAnswer::NotCors => self
                    .applied
                    .push("CORS: no Origin, not a cross-origin request".to_string()),
                CorsAnswer::Actual(headers) => {
                    self.applied.push(format!(
                        "CORS: {}",
                        if headers.is_empty() {
                            "origin not allowed, no CORS headers"
                        } else {
                            "origin allowed"
                        }
                    ));
                    self.response_headers.push(HeaderOps {
                        set: headers,
                        ..Default::default()
                    });
                }
                CorsAnswer::Preflight(headers) => {
                    self.applied.push(format!(
                        "CORS preflight answered: {}",
                        if headers.is_empty() {
                            "origin not allowed"
                        } else {
                            "origin allowed"
                        }
                    ));
                    let mut response_headers = vec![HeaderOps {
                        set: headers,
                        ..Default::default()
                    }];
                    response_headers.extend(self.response_headers.iter().cloned());
                    return Some(Outcome::Preflight { response_headers });
                }
            },
            Filter::Extension(what) => {
                self.applied.push(format!("ExtensionRef {what}"));
                return Some(Outcome::ServerError {
                    why: format!(
                        "ExtensionRef filter {what} is not supported by the embedded gateway"
                    ),
                });
            }
        }
        None
    }

    /// After every filter: forward to the rule's backends, if any can get
    /// traffic. Kong balances over the backends that resolve, answers 500
    /// with KIC's message when none does, and 503 when none may get traffic.
    fn forward(self, rule: &Rule) -> Outcome {
        let backends = match self.kong {
            None => rule.backends.clone(),
            Some(_) => {
                let valid = kong::resolved_backends(&rule.backends, self.noted);
                if valid.is_empty() && !rule.backends.is_empty() {
                    self.noted.note("no-valid-backend-body");
                    return Outcome::Answer {
                        status: 500,
                        body: kong::NO_BACKEND_BODY.into(),
                        why: "no backendRef of the rule resolves".into(),
                    };
                }
                valid
            }
        };
        if backends.iter().all(|b| b.weight == 0) {
            let why = if backends.is_empty() {
                "the rule has no backendRefs"
            } else {
                "every backendRef has weight 0"
            };
            if self.kong.is_some() {
                self.noted.note("zero-weights-503");
                return Outcome::Answer {
                    status: 503,
                    body: kong::error_body(kong::NO_PEER, &self.request),
                    why: format!("{why}: Kong's upstream has no target to balance to"),
                };
            }
            return Outcome::ServerError { why: why.into() };
        }
        let request_timeout = match self.kong {
            Some(_) if rule.request_timeout.is_some() => {
                self.noted.note("request-timeout-ignored");
                None
            }
            _ => rule.request_timeout,
        };
        Outcome::Forward(Box::new(Forward {
            request: self.request,
            backends,
            response_headers: self.response_headers,
            mirrors: self.mirrors,
            matched_path: self.entry.m.path.clone(),
            request_timeout,
            backend_timeout: rule.backend_timeout,
        }))
    }
}

/// Applies one rule's filters in order.
/// `req` is the request as the implementation routes it (Kong: its path
/// normalised); Kong forwards that path escaped again.
pub(super) fn apply_rule(
    entry: &Entry,
    rule: &Rule,
    listener_port: u16,
    req: &RequestHead,
    kong: Option<KongRun>,
    noted: &mut Noted,
) -> (Outcome, Vec<String>) {
    let mut request = req.clone();
    if kong.is_some() {
        request.path = kong::forwarded_path(&req.path);
    }
    let mut run = FilterRun {
        entry,
        listener_port,
        kong,
        noted,
        original: req,
        request,
        response_headers: rule
            .filters
            .iter()
            .filter_map(|f| match f {
                Filter::ResponseHeaders(ops) => Some(ops.clone()),
                _ => None,
            })
            .collect(),
        mirrors: Vec::new(),
        applied: Vec::new(),
    };
    for f in &rule.filters {
        if let Some(outcome) = run.apply(f) {
            return (outcome, run.applied);
        }
    }
    let applied = std::mem::take(&mut run.applied);
    (run.forward(rule), applied)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::model::compile::{BackendTarget, MatchSpec, PathKind, RouteRef};

    fn entry(filters: Vec<Filter>, backends: Vec<Backend>) -> Entry {
        Entry {
            route: Arc::new(RouteRef {
                namespace: "app".into(),
                name: "r".into(),
                created: 1,
            }),
            hostnames: vec![],
            rule_index: 0,
            match_index: 0,
            m: Arc::new(MatchSpec {
                path_kind: PathKind::Prefix,
                path: "/old".into(),
                method: None,
                headers: vec![],
                query: vec![],
            }),
            rule: Arc::new(Rule {
                name: None,
                filters,
                backends,
                request_timeout: None,
                backend_timeout: None,
            }),
        }
    }

    fn backend(name: &str, weight: u32) -> Backend {
        Backend {
            display: format!("app/{name}"),
            weight,
            target: BackendTarget::Echo {
                namespace: "app".into(),
                name: name.into(),
            },
            filters: vec![],
        }
    }

    fn request() -> RequestHead {
        RequestHead {
            method: "GET".into(),
            scheme: "http".into(),
            host: "a.example.com".into(),
            path: "/old/x".into(),
            query: None,
            headers: vec![],
        }
    }

    fn run(e: &Entry) -> (Outcome, Vec<String>) {
        apply_rule(e, &e.rule, 8080, &request(), None, &mut Noted::default())
    }

    #[test]
    fn filters_run_in_order_until_one_answers() {
        let ops = HeaderOps {
            set: vec![],
            add: vec![],
            remove: vec![],
        };
        let e = entry(
            vec![
                Filter::Mirror(backend("m", 1), Share::ALL),
                Filter::Rewrite {
                    hostname: Some("b.example.com".into()),
                    path: Some(PathRewrite::Prefix("/new".into())),
                },
                Filter::ResponseHeaders(ops),
            ],
            vec![backend("a", 1)],
        );
        let (outcome, applied) = run(&e);
        assert_eq!(
            applied,
            [
                "RequestMirror → app/m",
                "URLRewrite → host b.example.com path /new/x",
                "ResponseHeaderModifier",
            ]
        );
        let Outcome::Forward(f) = outcome else {
            panic!("forwarded")
        };
        assert_eq!(
            (f.request.host.as_str(), f.request.path.as_str()),
            ("b.example.com", "/new/x")
        );
        assert_eq!((f.mirrors.len(), f.response_headers.len()), (1, 1));
        assert_eq!(f.matched_path, "/old");

        let e = entry(
            vec![
                Filter::Extension("example.com/Auth a".into()),
                Filter::Mirror(backend("m", 1), Share::ALL),
            ],
            vec![backend("a", 1)],
        );
        let (outcome, applied) = run(&e);
        assert_eq!(applied, ["ExtensionRef example.com/Auth a"]);
        assert!(matches!(outcome, Outcome::ServerError { why } if why.contains("not supported")));
    }

    #[test]
    fn a_redirect_answers_from_the_request_as_it_arrived() {
        let e = entry(
            vec![
                Filter::Rewrite {
                    hostname: Some("b.example.com".into()),
                    path: None,
                },
                Filter::Redirect {
                    scheme: None,
                    hostname: None,
                    port: None,
                    path: Some(PathRewrite::Full("/gone".into())),
                    status: 301,
                },
            ],
            vec![],
        );
        let (outcome, applied) = run(&e);
        assert_eq!(
            applied[1],
            "RequestRedirect → 301 http://a.example.com:8080/gone"
        );
        assert!(matches!(outcome, Outcome::Redirect { status: 301, .. }));
    }

    #[test]
    fn rules_without_traffic_answer_500() {
        let why = |e: Entry| match run(&e).0 {
            Outcome::ServerError { why } => why,
            other => panic!("{other:?}"),
        };
        assert_eq!(why(entry(vec![], vec![])), "the rule has no backendRefs");
        assert_eq!(
            why(entry(vec![], vec![backend("a", 0)])),
            "every backendRef has weight 0"
        );
    }
}
