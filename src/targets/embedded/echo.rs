//! The echo backend, answering like the conformance suite's echo-basic image
//! (gateway-api v1.2.1 `conformance/echo-basic`): a JSON description of the
//! request it received, `X-Echo-Set-Header`, `/status/NNN`, `/health`, `?delay=`.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

use crate::model::request::RequestHead;

#[derive(Debug, Serialize)]
pub(crate) struct EchoBody<'a> {
    pub path: String,
    pub host: &'a str,
    pub method: &'a str,
    pub proto: &'a str,
    pub headers: BTreeMap<String, Vec<String>>,
    pub namespace: &'a str,
    pub ingress: &'a str,
    pub service: &'a str,
    pub pod: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EchoResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// Go's canonical header form, which echo-basic reports names in: `x-version` → `X-Version`.
pub(crate) fn canonical_header_name(name: &str) -> String {
    name.split('-')
        .map(|part| {
            let mut chars = part.chars();
            match chars.next() {
                Some(c) => {
                    c.to_ascii_uppercase().to_string() + &chars.as_str().to_ascii_lowercase()
                }
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join("-")
}

/// How long the echo server waits before answering (`?delay=1s`), if asked.
pub(crate) fn requested_delay(req: &RequestHead) -> Option<Duration> {
    req.query_value("delay")
        .and_then(|d| crate::duration::parse_gateway(&d).ok())
}

/// The echo server's answer to `req`, received by backend `service` in `namespace`.
pub(crate) fn respond(req: &RequestHead, namespace: &str, service: &str) -> EchoResponse {
    let pod = format!("{service}-embedded");
    if req.path == "/health" {
        return EchoResponse {
            status: 200,
            headers: vec![],
            body: b"OK".to_vec(),
        };
    }
    if let Some(code) = req.path.strip_prefix("/status/") {
        return match code.parse::<u16>() {
            Ok(n) if (100..=599).contains(&n) => EchoResponse {
                status: n,
                headers: vec![],
                body: Vec::new(),
            },
            _ => EchoResponse {
                status: 400,
                headers: vec![],
                body: format!("invalid status code {code}").into_bytes(),
            },
        };
    }
    let mut headers: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, value) in &req.headers {
        if name.eq_ignore_ascii_case("host") {
            continue;
        }
        headers
            .entry(canonical_header_name(name))
            .or_default()
            .push(value.clone());
    }
    let body = EchoBody {
        path: req.target(),
        host: &req.host,
        method: &req.method,
        proto: "HTTP/1.1",
        headers,
        namespace,
        ingress: "",
        service,
        pod,
    };
    let mut out_headers = vec![
        ("Content-Type".to_string(), "application/json".to_string()),
        ("X-Content-Type-Options".to_string(), "nosniff".to_string()),
    ];
    for value in req.header_values("x-echo-set-header") {
        for pair in value.split(',') {
            if let Some((name, v)) = pair.split_once(':') {
                let name = name.trim().to_string();
                match out_headers
                    .iter_mut()
                    .find(|(n, _)| n.eq_ignore_ascii_case(&name))
                {
                    Some((_, existing)) => {
                        existing.push(',');
                        existing.push_str(v.trim());
                    }
                    None => out_headers.push((name, v.trim().to_string())),
                }
            }
        }
    }
    let body = serde_json::to_vec(&body).expect("echo body serialises");
    EchoResponse {
        status: 200,
        headers: out_headers,
        body,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(path: &str, query: Option<&str>, headers: &[(&str, &str)]) -> RequestHead {
        RequestHead {
            method: "GET".into(),
            scheme: "http".into(),
            host: "a.example.com".into(),
            path: path.into(),
            query: query.map(String::from),
            headers: headers
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
        }
    }

    #[test]
    fn echo_json_has_the_fields_probes_read() {
        let r = respond(
            &req(
                "/v2/users",
                Some("page=2"),
                &[("x-version", "v2"), ("x-version", "v3"), ("host", "x")],
            ),
            "ns1",
            "app",
        );
        assert_eq!(r.status, 200);
        let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(v["path"], "/v2/users?page=2");
        assert_eq!(v["host"], "a.example.com");
        assert_eq!(v["namespace"], "ns1");
        assert_eq!(v["service"], "app");
        assert_eq!(v["proto"], "HTTP/1.1");
        assert_eq!(v["headers"]["X-Version"], serde_json::json!(["v2", "v3"]));
        assert!(v["headers"].get("Host").is_none());
        assert!(v["pod"].as_str().unwrap().starts_with("app-"));
    }

    #[test]
    fn set_header_and_status_paths() {
        let r = respond(
            &req(
                "/",
                None,
                &[("X-Echo-Set-Header", "X-Foo:1,x-foo:2,X-Bar:b")],
            ),
            "n",
            "s",
        );
        assert!(
            r.headers.contains(&("X-Foo".into(), "1,2".into())),
            "{:?}",
            r.headers
        );
        assert!(r.headers.contains(&("X-Bar".into(), "b".into())));
        assert_eq!(
            respond(&req("/status/418", None, &[]), "n", "s").status,
            418
        );
        assert_eq!(
            respond(&req("/status/abc", None, &[]), "n", "s").status,
            400
        );
        assert_eq!(respond(&req("/health", None, &[]), "n", "s").body, b"OK");
    }

    #[test]
    fn canonical_names() {
        assert_eq!(
            canonical_header_name("x-echo-set-header"),
            "X-Echo-Set-Header"
        );
        assert_eq!(canonical_header_name("ACCEPT"), "Accept");
    }
}
