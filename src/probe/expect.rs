//! Comparing one response with a probe's `expect`, field by field.

use std::collections::BTreeMap;

use serde::Serialize;

use super::observe::{EchoSeen, Observation};
use crate::scenario::ExpectSpec;
use crate::scenario::types::{BackendRequestExpect, RedirectExpect};

/// One expectation that did not hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
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
    let mut out = Misses::default();
    if let Some(s) = expect.status
        && s != obs.status
    {
        out.miss("status", s.to_string(), obs.status.to_string());
    }
    out.headers("headers", &expect.headers, |n| obs.header(n));
    out.headers_absent("headersAbsent", &expect.headers_absent, |n| obs.header(n));
    if let Some(needle) = &expect.body_contains
        && !obs.body.contains(needle.as_str())
    {
        let snippet: String = obs.body.chars().take(120).collect();
        out.miss(
            "bodyContains",
            format!("{needle:?}"),
            format!("body {snippet:?}"),
        );
    }
    if let Some(r) = &expect.redirect {
        out.redirect(r, obs, request_url);
    }
    out.echo(expect, obs);
    out.0
}

/// The mismatches found so far, in the order the expectations are checked.
#[derive(Default)]
struct Misses(Vec<Mismatch>);

impl Misses {
    fn miss(&mut self, field: &str, expected: String, actual: String) {
        self.0.push(Mismatch {
            field: field.into(),
            expected,
            actual,
        })
    }

    /// Headers expected with these values; `prefix` names the field.
    fn headers(
        &mut self,
        prefix: &str,
        expected: &BTreeMap<String, String>,
        lookup: impl Fn(&str) -> Option<String>,
    ) {
        for (name, want) in expected {
            let got = lookup(name);
            if got.as_deref() != Some(want.as_str()) {
                self.miss(
                    &format!("{prefix}.{name}"),
                    format!("{want:?}"),
                    show(got.as_deref()),
                );
            }
        }
    }

    /// Headers expected absent; `prefix` names the field.
    fn headers_absent(
        &mut self,
        prefix: &str,
        names: &[String],
        lookup: impl Fn(&str) -> Option<String>,
    ) {
        for name in names {
            if let Some(got) = lookup(name) {
                self.miss(
                    &format!("{prefix}.{name}"),
                    "no such header".into(),
                    format!("{got:?}"),
                );
            }
        }
    }

    fn redirect(&mut self, r: &RedirectExpect, obs: &Observation, request_url: &url::Url) {
        let Some(loc) = obs.header("location") else {
            self.miss("redirect", "a Location header".into(), "none".into());
            return;
        };
        match request_url.join(&loc) {
            Err(e) => self.miss(
                "redirect",
                "a valid Location".into(),
                format!("{loc:?} ({e})"),
            ),
            Ok(u) => self.location(r, &loc, &u),
        }
    }

    /// Each part of a redirect's Location `loc`, resolved as `u`.
    fn location(&mut self, r: &RedirectExpect, loc: &str, u: &url::Url) {
        let exact = |a: &str, b: &str| a == b;
        self.location_part("redirect.scheme", &r.scheme, Some(u.scheme()), loc, exact);
        let host = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
        self.location_part("redirect.host", &r.host, u.host_str(), loc, host);
        if let Some(p) = r.port {
            // A default port equals an absent one.
            let got = u.port_or_known_default();
            if got != Some(p) {
                self.miss(
                    "redirect.port",
                    p.to_string(),
                    format!(
                        "{} (Location {loc})",
                        got.map(|p| p.to_string()).unwrap_or_else(|| "none".into())
                    ),
                );
            }
        }
        self.location_part("redirect.path", &r.path, Some(u.path()), loc, exact);
        // A Location without `?` and one ending in a bare `?` both have no query.
        let query = u.query().unwrap_or("");
        self.location_part("redirect.query", &r.query, Some(query), loc, exact);
    }

    /// One part of the Location, when one is expected: `same` compares it with `got`.
    fn location_part(
        &mut self,
        field: &str,
        want: &Option<String>,
        got: Option<&str>,
        loc: &str,
        same: impl Fn(&str, &str) -> bool,
    ) {
        if let Some(w) = want
            && !got.is_some_and(|g| same(w, g))
        {
            let got = got.unwrap_or("");
            // An expected empty part (the query) would print as nothing.
            let want = if w.is_empty() {
                "none".into()
            } else {
                w.clone()
            };
            self.miss(field, want, format!("{got} (Location {loc})"));
        }
    }

    /// The expectations answered by the echo JSON: backend, namespace, backendRequest.
    fn echo(&mut self, expect: &ExpectSpec, obs: &Observation) {
        let needs_echo = expect.backend.is_some()
            || expect.namespace.is_some()
            || expect.backend_request.is_some();
        if !needs_echo {
            return;
        }
        let Some(echo) = &obs.echo else {
            self.miss(
                "backend",
                "an answer from an echo backend".into(),
                format!("status {} without echo JSON", obs.status),
            );
            return;
        };
        if let Some(b) = &expect.backend
            && *b != echo.service
        {
            self.miss("backend", b.clone(), echo.service.clone());
        }
        if let Some(ns) = &expect.namespace
            && *ns != echo.namespace
        {
            self.miss("namespace", ns.clone(), echo.namespace.clone());
        }
        if let Some(br) = &expect.backend_request {
            self.backend_request(br, echo);
        }
    }

    /// The request as the backend saw it.
    fn backend_request(&mut self, br: &BackendRequestExpect, echo: &EchoSeen) {
        if let Some(p) = &br.path
            && *p != echo.path
        {
            self.miss("backendRequest.path", p.clone(), echo.path.clone());
        }
        for (k, v) in br.query.iter().flatten() {
            let got = echo
                .query
                .iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.as_str());
            if got != Some(v.as_str()) {
                self.miss(
                    &format!("backendRequest.query.{k}"),
                    format!("{v:?}"),
                    show(got),
                );
            }
        }
        if let Some(h) = &br.host
            && !h.eq_ignore_ascii_case(&echo.host)
        {
            self.miss("backendRequest.host", h.clone(), echo.host.clone());
        }
        if let Some(m) = &br.method
            && *m != echo.method
        {
            self.miss("backendRequest.method", m.clone(), echo.method.clone());
        }
        self.headers("backendRequest.headers", &br.headers, |n| echo.header(n));
        self.headers_absent("backendRequest.headersAbsent", &br.headers_absent, |n| {
            echo.header(n)
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn redirect_query_is_the_raw_query_and_empty_means_none() {
        let want = |q: &str| ExpectSpec {
            redirect: Some(RedirectExpect {
                query: Some(q.into()),
                ..Default::default()
            }),
            ..Default::default()
        };
        let none = want("");
        assert!(check(&none, &redirect("https://shop.example.com/"), &url()).is_empty());
        let m = check(
            &none,
            &redirect("https://shop.example.com/?item=42"),
            &url(),
        );
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].field, "redirect.query");
        let kept = want("item=42&b=%20");
        let loc = "https://shop.example.com/cart?item=42&b=%20";
        assert!(check(&kept, &redirect(loc), &url()).is_empty());
        assert_eq!(
            check(&kept, &redirect("https://shop.example.com/"), &url()).len(),
            1
        );
        // Not given: not checked.
        let unchecked = ExpectSpec {
            redirect: Some(RedirectExpect::default()),
            ..Default::default()
        };
        assert!(check(&unchecked, &redirect(loc), &url()).is_empty());
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
                query: None,
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
    fn a_redirect_without_location_is_one_mismatch() {
        let e = ExpectSpec {
            redirect: Some(RedirectExpect::default()),
            ..Default::default()
        };
        let m = check(&e, &Observation::new(302, vec![], String::new()), &url());
        assert_eq!(
            m,
            [Mismatch {
                field: "redirect".into(),
                expected: "a Location header".into(),
                actual: "none".into(),
            }]
        );
    }

    #[test]
    fn backend_request_mismatches_come_field_by_field_in_order() {
        let body = r#"{"path":"/p?a=1","host":"h.example.com","method":"GET","proto":"HTTP/1.1","headers":{"X-Gone":["still"]},"namespace":"ns","service":"s","pod":"p"}"#;
        let obs = Observation::new(200, vec![], body.into());
        let mut br = BackendRequestExpect {
            path: Some("/q".into()),
            query: Some([("a".to_string(), "2".to_string())].into()),
            host: Some("H.EXAMPLE.COM".into()),
            method: Some("POST".into()),
            ..Default::default()
        };
        br.headers.insert("x-new".into(), "1".into());
        br.headers_absent.push("x-gone".into());
        let e = ExpectSpec {
            namespace: Some("other".into()),
            backend_request: Some(br),
            ..Default::default()
        };
        let m = check(&e, &obs, &url());
        let fields: Vec<&str> = m.iter().map(|m| m.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "namespace",
                "backendRequest.path",
                "backendRequest.query.a",
                "backendRequest.method",
                "backendRequest.headers.x-new",
                "backendRequest.headersAbsent.x-gone",
            ]
        );
        assert_eq!(
            (m[2].expected.as_str(), m[2].actual.as_str()),
            ("\"2\"", "\"1\"")
        );
        assert_eq!(m[4].actual, "nothing");
        assert_eq!(m[5].actual, "\"still\"");
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
