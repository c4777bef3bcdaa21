//! What Kong, as the Kong Ingress Controller programs it, answers where the
//! spec's answer differs: each function names the deviation (an id of
//! [`crate::implementations::DEVIATIONS`]) it applies, and the evaluation
//! keeps those whose answer ends up differing from the spec's.

use crate::implementations::{KongRun, kong_uri};
use crate::model::compile::{Backend, BackendTarget, PathRewrite};
use crate::model::request::RequestHead;

/// The ids of the deviations applied while routing one request, each once.
#[derive(Debug, Default)]
pub(super) struct Noted(pub(super) Vec<&'static str>);

impl Noted {
    pub(super) fn note(&mut self, id: &'static str) {
        debug_assert!(
            crate::implementations::deviation(id).is_some(),
            "{id} is a deviation"
        );
        if !self.0.contains(&id) {
            self.0.push(id);
        }
    }
}

/// Kong's own error answers (`kong.response.error`: a JSON body with the
/// message and the request's id, Kong/kong@3.9.3 `kong/tools/http.lua`
/// error templates). Kong's request id is random; gwlab's is a hash of the
/// request, so that one request always gets the same answer.
pub(super) fn error_body(message: &str, req: &RequestHead) -> String {
    use std::hash::{Hash, Hasher};
    let id: String = (0..2u8)
        .map(|half| {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            (half, &req.method, &req.host, &req.path, &req.query).hash(&mut h);
            format!("{:016x}", h.finish())
        })
        .collect();
    format!("{{\n  \"message\":\"{message}\",\n  \"request_id\":\"{id}\"\n}}")
}

pub(super) const NOT_FOUND: &str = "no Route matched with those values";
pub(super) const USE_HTTPS: &str = "Please use HTTPS protocol";
pub(super) const NO_PEER: &str = "failure to get a peer from the ring-balancer";
/// KIC's request-termination message for a rule whose every backendRef is
/// invalid (`kong.response.exit` with a table: JSON without a request id).
pub(super) const NO_BACKEND_BODY: &str = "{\"message\":\"no existing backendRef provided\"}";

/// The request as Kong routes it: its path normalised.
pub(super) fn routed_request(req: &RequestHead, noted: &mut Noted) -> RequestHead {
    let normalised = kong_uri::normalize(&req.path);
    let mut out = req.clone();
    if normalised != req.path {
        noted.note("path-normalised");
        out.path = normalised;
    }
    out
}

/// The path Kong forwards for a routed (normalised) path.
pub(super) fn forwarded_path(routed: &str) -> String {
    kong_uri::escape(routed)
}

/// Go's `path.Join` of a host (with port) and a path: the result cleaned, so
/// a trailing `/` goes and `host` + `/` is the bare host.
fn go_path_join(host_port: &str, path: &str) -> String {
    let joined = format!("{host_port}/{path}");
    let mut out: Vec<&str> = Vec::new();
    for seg in joined.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                if out.len() > 1 {
                    out.pop();
                }
            }
            s => out.push(s),
        }
    }
    out.join("/")
}

/// A RequestRedirect filter, as written.
pub(super) struct RedirectFilter<'a> {
    pub scheme: Option<&'a str>,
    pub hostname: Option<&'a str>,
    pub port: Option<u16>,
    pub path: Option<&'a PathRewrite>,
}

/// What Kong answers for a RequestRedirect: the Location and the body.
pub(super) struct KongRedirect {
    pub location: String,
    pub body: String,
}

/// The redirect Kong answers: below 3.9 KIC's request-termination with a
/// fixed Location (`generateRequestRedirectKongPlugin`), from 3.9 Kong's
/// `redirect` plugin (`generateRequestRedirectUsingRedirectKongPlugin` and
/// `kong/plugins/redirect/handler.lua`). `routed` is the request as Kong
/// routes it; `match_path` the value of the match that won.
pub(super) fn redirect(
    kong: KongRun,
    f: &RedirectFilter<'_>,
    routed: &RequestHead,
    match_path: &str,
    listener_port: u16,
    noted: &mut Noted,
) -> KongRedirect {
    let plugin = kong.kong >= crate::kong::facts::REDIRECT_PLUGIN_SINCE.value;
    noted.note(if plugin {
        "redirect-plugin"
    } else {
        "redirect-request-termination"
    });
    let scheme = f.scheme.unwrap_or("http");
    if f.scheme.is_none() && routed.scheme != "http" && f.hostname.is_some() {
        noted.note("redirect-scheme-http");
    }
    let full = match f.path {
        Some(PathRewrite::Full(p)) => {
            if p.ends_with('/') && f.hostname.is_some() {
                noted.note("redirect-full-path-cleaned");
            }
            Some(p.as_str())
        }
        Some(PathRewrite::Prefix(_)) => {
            noted.note("redirect-prefix-ignored");
            None
        }
        None => None,
    };
    let port = f.port.map(|p| format!(":{p}")).unwrap_or_default();
    let default_port = matches!((scheme, f.port), ("http", Some(80)) | ("https", Some(443)));
    // The port Kong writes: the filter's, except where the 3.9 plugin's URL
    // parser drops a default one.
    let kong_port = if plugin && full.is_none() && default_port {
        ""
    } else {
        port.as_str()
    };
    if f.hostname.is_some() && kong_port != spec_port(f, &routed.scheme, listener_port) {
        noted.note("redirect-port-as-written");
    }
    if !plugin {
        let path = full.unwrap_or(match_path);
        let location = match f.hostname {
            Some(h) => format!("{scheme}://{}", go_path_join(&format!("{h}{port}"), path)),
            None => path.to_string(),
        };
        return KongRedirect {
            location,
            body: String::new(),
        };
    }
    let Some(host) = f.hostname else {
        // What KIC writes; Kong refuses it, so such a rule is never served
        // (see `kong_drops_rule`).
        return KongRedirect {
            location: full.unwrap_or("/").to_string(),
            body: "redirecting".into(),
        };
    };
    let location = format!(
        "{scheme}://{}",
        go_path_join(&format!("{host}{port}"), full.unwrap_or("/"))
    );
    let location = match full {
        // keep_incoming_path false: the location as KIC wrote it.
        Some(_) => location,
        // keep_incoming_path: the plugin parses the location as a WHATWG URL
        // (lua-resty-ada), so a scheme's default port goes, and puts in the
        // request's normalised path and raw query.
        None => {
            let host_port = format!("{host}{kong_port}");
            let query = routed
                .query
                .as_deref()
                .filter(|q| !q.is_empty())
                .map(|q| format!("?{q}"))
                .unwrap_or_default();
            format!(
                "{scheme}://{}{}{query}",
                host_port.to_ascii_lowercase(),
                forwarded_path(&routed.path)
            )
        }
    };
    KongRedirect {
        location,
        body: "redirecting".into(),
    }
}

/// The port the spec writes into a Location (see `redirect_location`), as
/// `:port` or nothing.
fn spec_port(f: &RedirectFilter<'_>, request_scheme: &str, listener_port: u16) -> String {
    let scheme = f.scheme.unwrap_or(request_scheme);
    let port = f.port.unwrap_or(match f.scheme {
        Some("https") => 443,
        Some("http") => 80,
        _ => listener_port,
    });
    if matches!((scheme, port), ("http", 80) | ("https", 443)) {
        String::new()
    } else {
        format!(":{port}")
    }
}

/// The backends Kong balances over: those whose reference resolves (KIC
/// skips the others, `backendRefsToKongStateBackends`).
pub(super) fn resolved_backends(backends: &[Backend], noted: &mut Noted) -> Vec<Backend> {
    let valid: Vec<Backend> = backends
        .iter()
        .filter(|b| !matches!(b.target, BackendTarget::Invalid { .. }))
        .cloned()
        .collect();
    if valid.len() < backends.len() && !valid.is_empty() {
        noted.note("invalid-backends-dropped");
    }
    valid
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_path_join_cleans_like_go() {
        assert_eq!(go_path_join("portal.imprun.dev", "/"), "portal.imprun.dev");
        assert_eq!(go_path_join("h:8080", "/new/"), "h:8080/new");
        assert_eq!(go_path_join("h", "/a//b/../c"), "h/a/c");
        assert_eq!(go_path_join("h", "/docs"), "h/docs");
    }
}
