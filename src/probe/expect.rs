//! Comparing one response with a probe's `expect`, field by field.

use serde::Serialize;

use super::observe::Observation;
use crate::scenario::ExpectSpec;

/// One expectation that did not hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mismatch {
    pub field: String,
    pub expected: String,
    pub actual: String,
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: expected {}, got {}",
            self.field, self.expected, self.actual
        )
    }
}

fn show(v: Option<&str>) -> String {
    match v {
        Some(v) => format!("{v:?}"),
        None => "nothing".into(),
    }
}

/// Every expectation of `expect` that `obs` breaks, except `split` (judged over a
/// whole sample). `request_url` resolves a relative Location.
pub fn check(expect: &ExpectSpec, obs: &Observation, request_url: &url::Url) -> Vec<Mismatch> {
    let mut out = Vec::new();
    let mut miss = |field: &str, expected: String, actual: String| {
        out.push(Mismatch {
            field: field.into(),
            expected,
            actual,
        })
    };

    if let Some(s) = expect.status
        && s != obs.status
    {
        miss("status", s.to_string(), obs.status.to_string());
    }
    for (name, want) in &expect.headers {
        let got = obs.header(name);
        if got.as_deref() != Some(want.as_str()) {
            miss(
                &format!("headers.{name}"),
                format!("{want:?}"),
                show(got.as_deref()),
            );
        }
    }
    for name in &expect.headers_absent {
        if let Some(got) = obs.header(name) {
            miss(
                &format!("headersAbsent.{name}"),
                "no such header".into(),
                format!("{got:?}"),
            );
        }
    }
    if let Some(needle) = &expect.body_contains
        && !obs.body.contains(needle.as_str())
    {
        let snippet: String = obs.body.chars().take(120).collect();
        miss(
            "bodyContains",
            format!("{needle:?}"),
            format!("body {snippet:?}"),
        );
    }
    if let Some(r) = &expect.redirect {
        match obs.header("location") {
            None => miss("redirect", "a Location header".into(), "none".into()),
            Some(loc) => match request_url.join(&loc) {
                Err(e) => miss(
                    "redirect",
                    "a valid Location".into(),
                    format!("{loc:?} ({e})"),
                ),
                Ok(u) => {
                    if let Some(s) = &r.scheme
                        && s != u.scheme()
                    {
                        miss(
                            "redirect.scheme",
                            s.clone(),
                            format!("{} (Location {loc})", u.scheme()),
                        );
                    }
                    if let Some(h) = &r.host
                        && !u.host_str().is_some_and(|got| got.eq_ignore_ascii_case(h))
                    {
                        miss(
                            "redirect.host",
                            h.clone(),
                            format!("{} (Location {loc})", u.host_str().unwrap_or("")),
                        );
                    }
                    if let Some(p) = r.port {
                        // A default port equals an absent one.
                        let got = u.port_or_known_default();
                        if got != Some(p) {
                            miss(
                                "redirect.port",
                                p.to_string(),
                                format!(
                                    "{} (Location {loc})",
                                    got.map(|p| p.to_string()).unwrap_or_else(|| "none".into())
                                ),
                            );
                        }
                    }
                    if let Some(p) = &r.path
                        && p != u.path()
                    {
                        miss(
                            "redirect.path",
                            p.clone(),
                            format!("{} (Location {loc})", u.path()),
                        );
                    }
                }
            },
        }
    }
    let needs_echo =
        expect.backend.is_some() || expect.namespace.is_some() || expect.backend_request.is_some();
    if needs_echo {
        match &obs.echo {
            None => miss(
                "backend",
                "an answer from an echo backend".into(),
                format!("status {} without echo JSON", obs.status),
            ),
            Some(echo) => {
                if let Some(b) = &expect.backend
                    && *b != echo.service
                {
                    miss("backend", b.clone(), echo.service.clone());
                }
                if let Some(ns) = &expect.namespace
                    && *ns != echo.namespace
                {
                    miss("namespace", ns.clone(), echo.namespace.clone());
                }
                if let Some(br) = &expect.backend_request {
                    if let Some(p) = &br.path
                        && *p != echo.path
                    {
                        miss("backendRequest.path", p.clone(), echo.path.clone());
                    }
                    for (k, v) in br.query.iter().flatten() {
                        let got = echo
                            .query
                            .iter()
                            .find(|(n, _)| n == k)
                            .map(|(_, v)| v.as_str());
                        if got != Some(v.as_str()) {
                            miss(
                                &format!("backendRequest.query.{k}"),
                                format!("{v:?}"),
                                show(got),
                            );
                        }
                    }
                    if let Some(h) = &br.host
                        && !h.eq_ignore_ascii_case(&echo.host)
                    {
                        miss("backendRequest.host", h.clone(), echo.host.clone());
                    }
                    if let Some(m) = &br.method
                        && *m != echo.method
                    {
                        miss("backendRequest.method", m.clone(), echo.method.clone());
                    }
                    for (name, want) in &br.headers {
                        let got = echo.header(name);
                        if got.as_deref() != Some(want.as_str()) {
                            miss(
                                &format!("backendRequest.headers.{name}"),
                                format!("{want:?}"),
                                show(got.as_deref()),
                            );
                        }
                    }
                    for name in &br.headers_absent {
                        if let Some(got) = echo.header(name) {
                            miss(
                                &format!("backendRequest.headersAbsent.{name}"),
                                "no such header".into(),
                                format!("{got:?}"),
                            );
                        }
                    }
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::types::{BackendRequestExpect, RedirectExpect};

    fn url() -> url::Url {
        url::Url::parse("http://imprun.dev/docs").unwrap()
    }

    fn redirect(location: &str) -> Observation {
        Observation::new(
            301,
            vec![("location".into(), location.into())],
            String::new(),
        )
    }

    #[test]
    fn default_port_equals_absent_port() {
        let e = ExpectSpec {
            redirect: Some(RedirectExpect {
                scheme: Some("https".into()),
                port: Some(443),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert!(check(&e, &redirect("https://portal.imprun.dev/docs"), &url()).is_empty());
        let m = check(&e, &redirect("https://portal.imprun.dev:8443/docs"), &url());
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].field, "redirect.port");
    }

    #[test]
    fn each_redirect_part_is_compared() {
        let e = ExpectSpec {
            status: Some(301),
            redirect: Some(RedirectExpect {
                scheme: Some("http".into()),
                host: Some("portal.imprun.dev".into()),
                port: None,
                path: Some("/docs".into()),
            }),
            ..Default::default()
        };
        assert!(check(&e, &redirect("http://portal.imprun.dev/docs"), &url()).is_empty());
        let m = check(&e, &redirect("https://portal.imprun.dev/"), &url());
        let fields: Vec<&str> = m.iter().map(|m| m.field.as_str()).collect();
        assert_eq!(fields, ["redirect.scheme", "redirect.path"]);
    }

    #[test]
    fn headers_compare_case_insensitively_and_join_values() {
        let obs = Observation::new(
            200,
            vec![("x-a".into(), "1".into()), ("X-A".into(), "2".into())],
            String::new(),
        );
        let mut e = ExpectSpec::default();
        e.headers.insert("X-a".into(), "1,2".into());
        e.headers_absent.push("x-b".into());
        assert!(check(&e, &obs, &url()).is_empty());
        e.headers_absent.push("X-A".into());
        assert_eq!(check(&e, &obs, &url()).len(), 1);
    }

    #[test]
    fn backend_request_reads_the_echo_json() {
        let body = r#"{"path":"/v2/users?page=2","host":"app.example.com","method":"GET","proto":"HTTP/1.1","headers":{"X-Added":["1"]},"namespace":"ns","service":"app-v1","pod":"p"}"#;
        let obs = Observation::new(200, vec![], body.into());
        let mut q = std::collections::BTreeMap::new();
        q.insert("page".to_string(), "2".to_string());
        let mut br = BackendRequestExpect {
            path: Some("/v2/users".into()),
            query: Some(q),
            host: Some("app.example.com".into()),
            ..Default::default()
        };
        br.headers.insert("x-added".into(), "1".into());
        br.headers_absent.push("x-removed".into());
        let e = ExpectSpec {
            backend: Some("app-v1".into()),
            namespace: Some("ns".into()),
            backend_request: Some(br),
            ..Default::default()
        };
        assert!(
            check(&e, &obs, &url()).is_empty(),
            "{:?}",
            check(&e, &obs, &url())
        );
        let e2 = ExpectSpec {
            backend: Some("app-v2".into()),
            ..Default::default()
        };
        assert_eq!(check(&e2, &obs, &url())[0].actual, "app-v1");
    }

    #[test]
    fn echo_expectations_on_a_non_echo_answer_fail() {
        let e = ExpectSpec {
            backend: Some("a".into()),
            ..Default::default()
        };
        let m = check(
            &e,
            &Observation::new(404, vec![], "no route".into()),
            &url(),
        );
        assert_eq!(m[0].field, "backend");
    }
}
