//! The CORS filter (Gateway API v1.5.1, `HTTPCORSFilter`), as the embedded
//! gateway answers it. Where the spec leaves a choice, the reference
//! gateway takes the one that is right for every client:
//!
//! - `Access-Control-Allow-Origin` is always the request's `Origin` (never
//!   `*`), which the spec allows for any request and requires for
//!   credentialed ones;
//! - with `allowMethods: ['*']`, `Access-Control-Allow-Methods` is the
//!   preflight's `Access-Control-Request-Method`; with `allowHeaders: ['*']`,
//!   `Access-Control-Allow-Headers` is its `Access-Control-Request-Headers`,
//!   and left out when it has none;
//! - `exposeHeaders: ['*']` is sent as `*` unless credentials are allowed, when
//!   `*` would mean a header named `*` and it is left out;
//! - a preflight (`OPTIONS` with `Origin` and `Access-Control-Request-Method`)
//!   is answered by the gateway, 204 and no body; from an origin not allowed
//!   without any CORS header (the spec's 200/204 choice), so the browser
//!   refuses the actual request.
//!
//! Source: the field descriptions of `HTTPCORSFilter` in the standard CRD of
//! kubernetes-sigs/gateway-api v1.5.1 (`config/crd/standard/
//! gateway.networking.k8s.io_httproutes.yaml`) and its conformance test
//! `conformance/tests/httproute-cors.go` at the same tag.

use serde::Serialize;

use super::request::RequestHead;

/// An origin pattern of `allowOrigins`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Origin {
    /// `*`: every origin.
    Any,
    /// `scheme://host[:port]`; `host` may start with `*.`, any subdomains.
    Pattern {
        scheme: String,
        /// Lower case; `*.example.com` keeps its `*.`.
        host: String,
        port: u16,
    },
}

impl Origin {
    /// The pattern as `allowOrigins` writes it, if it is one.
    pub fn pattern(text: &str) -> Option<Origin> {
        if text == "*" {
            return Some(Origin::Any);
        }
        let (scheme, rest) = text.split_once("://")?;
        let default_port = match scheme {
            "http" => 80,
            "https" => 443,
            _ => return None,
        };
        let (host, port) = match rest.rsplit_once(':') {
            Some((h, p)) => {
                let port: u16 = p.parse().ok().filter(|p| *p > 0)?;
                (h, port)
            }
            None => (rest, default_port),
        };
        let bare = host.strip_prefix("*.").unwrap_or(host);
        let label =
            |l: &str| !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if host != "*" && !bare.split('.').all(label) {
            return None;
        }
        Some(Origin::Pattern {
            scheme: scheme.into(),
            host: host.to_ascii_lowercase(),
            port,
        })
    }

    /// Whether the request's `Origin` header value is allowed by this pattern.
    fn allows(&self, origin: &str) -> bool {
        let (scheme, host, port) = match (self, Origin::pattern(origin)) {
            (Origin::Any, _) => return true,
            (_, Some(Origin::Pattern { scheme, host, port })) if !host.starts_with('*') => {
                (scheme, host, port)
            }
            _ => return false,
        };
        let Origin::Pattern {
            scheme: want_scheme,
            host: want_host,
            port: want_port,
        } = self
        else {
            return false;
        };
        if scheme != *want_scheme || port != *want_port {
            return false;
        }
        match want_host.strip_prefix('*') {
            // `*` alone: any host; `*.b.com`: one or more labels left of `.b.com`.
            Some("") => true,
            Some(suffix) => host.len() > suffix.len() && host.ends_with(suffix),
            None => host == *want_host,
        }
    }
}

/// A CORS filter, compiled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cors {
    pub allow_origins: Vec<Origin>,
    pub allow_methods: Vec<String>,
    pub allow_headers: Vec<String>,
    pub expose_headers: Vec<String>,
    pub allow_credentials: bool,
    /// Seconds (the CRD's default: 5).
    pub max_age: i64,
}

/// What the filter does with a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CorsAnswer {
    /// No `Origin`: not a cross-origin request; nothing to add.
    NotCors,
    /// A preflight: the gateway answers it itself with these headers (none
    /// when the origin is not allowed).
    Preflight(Vec<(String, String)>),
    /// A cross-origin request, forwarded: these headers go on the answer
    /// (none when the origin is not allowed).
    Actual(Vec<(String, String)>),
}

impl Cors {
    pub fn answer(&self, req: &RequestHead) -> CorsAnswer {
        let Some(origin) = req.header_values("origin").next() else {
            return CorsAnswer::NotCors;
        };
        let requested_method = req.header_values("access-control-request-method").next();
        let preflight = req.method == "OPTIONS" && requested_method.is_some();
        let allowed = self.allow_origins.iter().any(|o| o.allows(origin));
        let mut headers = Vec::new();
        if allowed {
            headers.push(("access-control-allow-origin".into(), origin.to_string()));
            if self.allow_credentials {
                headers.push(("access-control-allow-credentials".into(), "true".into()));
            }
            if let Some(expose) = self.expose_headers() {
                headers.push(("access-control-expose-headers".into(), expose));
            }
        }
        if !preflight {
            return CorsAnswer::Actual(headers);
        }
        if allowed {
            let requested_headers = req
                .header_values("access-control-request-headers")
                .next()
                .map(str::to_string);
            if let Some(methods) =
                wildcard_or_list(&self.allow_methods, requested_method.map(str::to_string))
            {
                headers.push(("access-control-allow-methods".into(), methods));
            }
            if let Some(allowed_headers) = wildcard_or_list(&self.allow_headers, requested_headers)
            {
                headers.push(("access-control-allow-headers".into(), allowed_headers));
            }
            headers.push(("access-control-max-age".into(), self.max_age.to_string()));
        }
        CorsAnswer::Preflight(headers)
    }

    /// `Access-Control-Expose-Headers`: the list, `*` when the request may
    /// not carry credentials, nothing otherwise.
    fn expose_headers(&self) -> Option<String> {
        match self.expose_headers.as_slice() {
            [] => None,
            [star] if star == "*" => (!self.allow_credentials).then(|| "*".to_string()),
            list => Some(list.join(", ")),
        }
    }
}

/// The configured list joined, or for `*` what the preflight asked for
/// (nothing when it asked for nothing).
fn wildcard_or_list(list: &[String], requested: Option<String>) -> Option<String> {
    match list {
        [] => None,
        [star] if star == "*" => requested,
        list => Some(list.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(method: &str, headers: &[(&str, &str)]) -> RequestHead {
        RequestHead {
            method: method.into(),
            scheme: "http".into(),
            host: "api.example.com".into(),
            path: "/cors-1".into(),
            query: None,
            headers: headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
        }
    }

    /// The conformance suite's `cors-multiple-origins-methods-headers` route.
    fn multiple() -> Cors {
        Cors {
            allow_origins: ["https://www.foo.com", "https://*.bar.com"]
                .iter()
                .map(|o| Origin::pattern(o).unwrap())
                .collect(),
            allow_methods: vec!["GET".into(), "OPTIONS".into()],
            allow_headers: vec!["x-header-1".into(), "x-header-2".into()],
            expose_headers: vec!["x-header-3".into(), "x-header-4".into()],
            allow_credentials: true,
            max_age: 3600,
        }
    }

    fn get<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    #[test]
    fn a_preflight_from_an_allowed_origin_gets_every_header() {
        for origin in [
            "https://www.foo.com",
            "https://www.bar.com",
            "https://xpto.www.bar.com",
        ] {
            let req = request(
                "OPTIONS",
                &[
                    ("origin", origin),
                    ("access-control-request-method", "GET"),
                    ("access-control-request-headers", "x-header-1, x-header-2"),
                ],
            );
            let CorsAnswer::Preflight(h) = multiple().answer(&req) else {
                panic!("a preflight");
            };
            assert_eq!(get(&h, "access-control-allow-origin"), Some(origin));
            assert_eq!(
                get(&h, "access-control-allow-methods"),
                Some("GET, OPTIONS")
            );
            assert_eq!(
                get(&h, "access-control-allow-headers"),
                Some("x-header-1, x-header-2")
            );
            assert_eq!(
                get(&h, "access-control-expose-headers"),
                Some("x-header-3, x-header-4")
            );
            assert_eq!(get(&h, "access-control-max-age"), Some("3600"));
            assert_eq!(get(&h, "access-control-allow-credentials"), Some("true"));
        }
    }

    #[test]
    fn an_origin_not_allowed_gets_no_cors_header() {
        for origin in [
            "https://foobar.com",
            "http://www.foo.com",
            "https://www.foo.com:8443",
            "https://bar.com",
        ] {
            let pre = request(
                "OPTIONS",
                &[("origin", origin), ("access-control-request-method", "GET")],
            );
            assert_eq!(
                multiple().answer(&pre),
                CorsAnswer::Preflight(vec![]),
                "{origin}"
            );
            let actual = request("GET", &[("origin", origin)]);
            assert_eq!(
                multiple().answer(&actual),
                CorsAnswer::Actual(vec![]),
                "{origin}"
            );
        }
        // Without Origin a request is not a CORS request at all.
        assert_eq!(
            multiple().answer(&request("OPTIONS", &[])),
            CorsAnswer::NotCors
        );
    }

    #[test]
    fn an_actual_request_gets_the_origin_credentials_and_exposed_headers_only() {
        let req = request("GET", &[("origin", "https://www.bar.com")]);
        let CorsAnswer::Actual(h) = multiple().answer(&req) else {
            panic!("an actual request");
        };
        assert_eq!(
            get(&h, "access-control-allow-origin"),
            Some("https://www.bar.com")
        );
        assert_eq!(get(&h, "access-control-allow-credentials"), Some("true"));
        assert_eq!(
            get(&h, "access-control-expose-headers"),
            Some("x-header-3, x-header-4")
        );
        assert_eq!(get(&h, "access-control-allow-methods"), None);
        assert_eq!(get(&h, "access-control-max-age"), None);
    }

    #[test]
    fn wildcards_answer_with_what_the_preflight_asked_for() {
        let cors = Cors {
            allow_origins: vec![Origin::Any],
            allow_methods: vec!["*".into()],
            allow_headers: vec!["*".into()],
            expose_headers: vec!["*".into()],
            allow_credentials: false,
            max_age: 5,
        };
        let req = request(
            "OPTIONS",
            &[
                ("origin", "https://foobar.com"),
                ("access-control-request-method", "PUT"),
            ],
        );
        let CorsAnswer::Preflight(h) = cors.answer(&req) else {
            panic!("a preflight");
        };
        assert_eq!(
            get(&h, "access-control-allow-origin"),
            Some("https://foobar.com")
        );
        assert_eq!(get(&h, "access-control-allow-methods"), Some("PUT"));
        // No Access-Control-Request-Headers: no Access-Control-Allow-Headers.
        assert_eq!(get(&h, "access-control-allow-headers"), None);
        assert_eq!(get(&h, "access-control-expose-headers"), Some("*"));
        assert_eq!(get(&h, "access-control-allow-credentials"), None);
        assert_eq!(get(&h, "access-control-max-age"), Some("5"));
        // With credentials, `*` cannot be sent for exposed headers.
        let credentialed = Cors {
            allow_credentials: true,
            ..cors
        };
        let CorsAnswer::Preflight(h) = credentialed.answer(&req) else {
            panic!("a preflight");
        };
        assert_eq!(get(&h, "access-control-expose-headers"), None);
    }

    #[test]
    fn origin_patterns_are_read_as_the_crd_writes_them() {
        assert_eq!(
            Origin::pattern("https://*.bar.com"),
            Some(Origin::Pattern {
                scheme: "https".into(),
                host: "*.bar.com".into(),
                port: 443
            })
        );
        assert_eq!(
            Origin::pattern("http://Local.Example:8080"),
            Some(Origin::Pattern {
                scheme: "http".into(),
                host: "local.example".into(),
                port: 8080
            })
        );
        for bad in [
            "ftp://a.com",
            "https://",
            "https://a.com:0",
            "a.com",
            "https://a..com",
            "https://a.*.com",
        ] {
            assert_eq!(Origin::pattern(bad), None, "{bad}");
        }
    }
}
