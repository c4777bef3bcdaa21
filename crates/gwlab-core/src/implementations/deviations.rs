//! Where Kong, as the Kong Ingress Controller programs it, answers an
//! HTTPRoute otherwise than the spec: each a named rule with the Kong
//! versions it holds for, both answers, the source it was read from, and a
//! scenario of this repository that shows it (`examples/kong/<id>/`, which
//! passes as that Kong and fails as the spec). Read at
//! Kong/kubernetes-ingress-controller@v3.5.13, Kong/kong@3.8.1 and @3.9.3
//! (whose router and transformer plugins are the same code; only the
//! `redirect` plugin is new in 3.9), Kong/atc-router@v1.6.2 (the expressions
//! router both pin), against kubernetes-sigs/gateway-api@v1.2.1
//! `apis/v1/httproute_types.go`.

use crate::kong::Version;
use crate::kong::facts::Source;

/// The Kong versions a deviation holds for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    Always,
    KongBelow(Version),
    KongFrom(Version),
}

impl When {
    pub fn holds(self, kong: Version) -> bool {
        match self {
            When::Always => true,
            When::KongBelow(v) => kong < v,
            When::KongFrom(v) => kong >= v,
        }
    }

    /// ` on Kong < 3.9`, or nothing when it always holds.
    pub fn phrase(self) -> String {
        match self {
            When::Always => String::new(),
            When::KongBelow(v) => format!(" on Kong < {}.{}", v.major, v.minor),
            When::KongFrom(v) => format!(" on Kong >= {}.{}", v.major, v.minor),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deviation {
    pub id: &'static str,
    /// What Kong does, in one line.
    pub title: &'static str,
    pub when: When,
    /// The spec's answer.
    pub spec: &'static str,
    /// Kong's answer.
    pub kong: &'static str,
    pub sources: &'static [Source],
}

impl Deviation {
    /// How reports name it: `known KIC behaviour on Kong < 3.9: … [id]`.
    pub fn said(&self) -> String {
        format!(
            "known KIC behaviour{}: {} [{}; {}]",
            self.when.phrase(),
            self.title,
            self.id,
            self.sources[0]
        )
    }

    /// The scenario of this repository that shows it.
    pub fn scenario(&self) -> String {
        format!("examples/kong/{}", self.id)
    }
}

const fn kic(path: &'static str) -> Source {
    Source {
        repo: "Kong/kubernetes-ingress-controller",
        at: "v3.5.13",
        path,
    }
}

const fn kong(path: &'static str) -> Source {
    Source {
        repo: "Kong/kong",
        at: "3.9.3",
        path,
    }
}

const ATC: Source = Source {
    repo: "Kong/atc-router",
    at: "v1.6.2",
    path: "src/interpreter.rs (a field's values must all match unless any() is asked)",
};

const CUTOFF: Version = Version::new(3, 9, 0);

pub const DEVIATIONS: &[Deviation] = &[
    Deviation {
        id: "redirect-request-termination",
        title: "RequestRedirect becomes request-termination with a fixed Location",
        when: When::KongBelow(CUTOFF),
        spec: "Location keeps the request's path (gwlab keeps its query too)",
        kong: "Location is scheme://hostname[:port] joined with the match's path value (or ReplaceFullPath); the request's path and query are dropped; without a hostname it is that path alone; the body is empty",
        sources: &[kic(
            "internal/dataplane/translator/subtranslator/httproute.go generateRequestRedirectKongPlugin",
        )],
    },
    Deviation {
        id: "redirect-plugin",
        title: "RequestRedirect becomes Kong's redirect plugin, which keeps the request's path and query",
        when: When::KongFrom(CUTOFF),
        spec: "Location keeps the request's path; a redirect's own port is written unless it is the scheme's default",
        kong: "Location is scheme://hostname[:port] with the request's normalised path and raw query (keep_incoming_path), rebuilt by a WHATWG URL parser that drops a default port; with ReplaceFullPath, that path and no query; the body is `redirecting`",
        sources: &[
            kic(
                "internal/dataplane/translator/subtranslator/httproute.go generateRequestRedirectUsingRedirectKongPlugin",
            ),
            kong("kong/plugins/redirect/handler.lua RedirectHandler:access"),
        ],
    },
    Deviation {
        id: "redirect-scheme-http",
        title: "a redirect without a scheme goes to http, whatever the request's scheme",
        when: When::Always,
        spec: "an unset scheme keeps the request's (https stays https)",
        kong: "an unset scheme is `http`",
        sources: &[kic(
            "internal/dataplane/translator/subtranslator/httproute.go schemeHostPortFromHTTPPathModifier",
        )],
    },
    Deviation {
        id: "redirect-port-as-written",
        title: "a redirect's port is the filter's, 80 and 443 included",
        when: When::Always,
        spec: "no port for the scheme's default (80, 443); without a port and a scheme, the listener's port",
        kong: "the filter's port when it sets one: Kong < 3.9 writes 80 and 443 too, 3.9's URL parser drops them unless ReplaceFullPath is set (without one, no port: on the lab's Kong, whose listeners are on 80 and 443, as the spec)",
        sources: &[kic(
            "internal/dataplane/translator/subtranslator/httproute.go schemeHostPortFromHTTPPathModifier",
        )],
    },
    Deviation {
        id: "redirect-prefix-ignored",
        title: "a redirect's ReplacePrefixMatch is ignored",
        when: When::Always,
        spec: "the matched prefix is replaced (`/old/a` with prefix `/old` → `/new/a`)",
        kong: "below 3.9 the match's path value stays (`/old`); from 3.9 the request's whole path (`/old/a`)",
        sources: &[kic(
            "internal/dataplane/translator/subtranslator/httproute.go generateRequestRedirectKongPlugin (\"only ReplaceFullPath currently supported\")",
        )],
    },
    Deviation {
        id: "redirect-full-path-cleaned",
        title: "a redirect's ReplaceFullPath loses its trailing slash",
        when: When::Always,
        spec: "the path as written (`/new/`)",
        kong: "Go's path.Join of host and path (`/new`)",
        sources: &[kic(
            "internal/dataplane/translator/subtranslator/httproute.go (pathlib.Join(hostPort, path))",
        )],
    },
    Deviation {
        id: "redirect-without-hostname-rejected",
        title: "a redirect without a hostname is refused by Kong, so its rule is not served",
        when: When::KongFrom(CUTOFF),
        spec: "the request's host is kept",
        kong: "KIC gives the redirect plugin a location without a host, which Kong's schema refuses (\"missing host in url\"); KIC then keeps the last configuration Kong accepted, so nothing of that change is served (gwlab models the rule alone as not served; end to end unverified)",
        sources: &[
            kong("kong/db/schema/typedefs.lua validate_url"),
            kic("internal/dataplane/kong_client.go maybeTryRecoveringFromGatewaysSyncError"),
        ],
    },
    Deviation {
        id: "not-found-body",
        title: "Kong answers a request no route takes with its own JSON body",
        when: When::Always,
        spec: "404 (no body specified)",
        kong: "404 with a JSON body: `message` `no Route matched with those values` and the request's id",
        sources: &[kong(
            "kong/runloop/handler.lua (kong.response.error(404, ...))",
        )],
    },
    Deviation {
        id: "invalid-backends-dropped",
        title: "backendRefs that do not resolve are dropped, and the others take all the traffic",
        when: When::Always,
        spec: "the share of an invalid backendRef is answered 500",
        kong: "the valid backendRefs share all the traffic",
        sources: &[kic(
            "internal/dataplane/translator/subtranslator/backendref.go backendRefsToKongStateBackends",
        )],
    },
    Deviation {
        id: "no-valid-backend-body",
        title: "a rule whose every backendRef is invalid answers 500 with KIC's message",
        when: When::Always,
        spec: "500",
        kong: "500 with `{\"message\":\"no existing backendRef provided\"}`",
        sources: &[kic(
            "internal/dataplane/translator/subtranslator/httproute.go translateHTTPRouteRulesMetaToKongstateService",
        )],
    },
    Deviation {
        id: "zero-weights-503",
        title: "a rule whose backendRefs all have weight 0, or that has none, answers 503",
        when: When::Always,
        spec: "500 for a rule without backendRefs; all weights 0 is not stated by v1.2.1, and gwlab answers 500 for it too",
        kong: "503 with `failure to get a peer from the ring-balancer` (an upstream with no target of weight above 0)",
        sources: &[
            kic("internal/dataplane/translator/translate_upstreams.go getUpstreams"),
            kong("kong/runloop/balancer/init.lua"),
        ],
    },
    Deviation {
        id: "path-normalised",
        title: "Kong matches and forwards the normalised path",
        when: When::Always,
        spec: "not stated; gwlab matches the path as sent",
        kong: "duplicate slashes merged, `.` and `..` resolved, percent-encoded unreserved characters decoded, before matching; the backend gets that path",
        sources: &[kong(
            "kong/router/utils.lua strip_uri_args (normalize(req_uri, true))",
        )],
    },
    Deviation {
        id: "query-all-values",
        title: "a query parameter sent several times matches only if every value does",
        when: When::Always,
        spec: "left to the implementation; the first value is recommended (gwlab uses it)",
        kong: "every value must equal the match's",
        sources: &[ATC],
    },
    Deviation {
        id: "header-all-values",
        title: "a header sent several times matches only if every value does",
        when: When::Always,
        spec: "left to the implementation (gwlab joins the values with `,`)",
        kong: "every value must equal the match's",
        sources: &[ATC],
    },
    Deviation {
        id: "request-timeout-ignored",
        title: "timeouts.request is not carried over",
        when: When::Always,
        spec: "the whole request times out (gwlab answers 504)",
        kong: "no request timeout (only backendRequest sets the service's timeouts)",
        sources: &[kic(
            "internal/dataplane/translator/subtranslator/httproute.go applyTimeoutToServiceFromHTTPRouteRule",
        )],
    },
    Deviation {
        id: "tie-namespace-first",
        title: "equal matches of routes created together are ordered by namespace, then name",
        when: When::Always,
        spec: "by `namespace/name` as one string (`a-b/x` before `a/x`)",
        kong: "by namespace, then name (`a/x` before `a-b/x`)",
        sources: &[kic(
            "internal/dataplane/translator/subtranslator/httproute_atc.go compareSplitHTTPRouteMatchesRelativePriority",
        )],
    },
    Deviation {
        id: "mirror-rule-dropped",
        title: "a rule with a RequestMirror filter gets no Kong route",
        when: When::Always,
        spec: "the rule routes, and a copy goes to the mirror",
        kong: "KIC fails to translate the rule (\"httpFilter RequestMirror unsupported\"): its requests get another route or 404",
        sources: &[kic(
            "internal/dataplane/translator/subtranslator/httproute.go generatePluginsFromHTTPRouteFilters",
        )],
    },
    Deviation {
        id: "https-only-426",
        title: "a route attached only to HTTPS listeners answers plain HTTP with 426",
        when: When::Always,
        spec: "404: no HTTP listener takes the route",
        kong: "426 with `Please use HTTPS protocol`: one router serves every port, and the route's protocols are its listeners'",
        sources: &[
            kic(
                "internal/dataplane/translator/subtranslator/httproute.go protocolsFromHTTPRoutesGatewayListeners",
            ),
            kong(
                "kong/router/expressions.lua get_expression (no net.protocol for an https-only route)",
            ),
            kong("kong/runloop/handler.lua (kong.response.error(426, ...))"),
        ],
    },
    Deviation {
        id: "shared-proxy",
        title: "every Gateway of the class is served by one Kong, which routes by host alone",
        when: When::Always,
        spec: "a route answers only through the Gateways (and listeners) it is attached to",
        kong: "a route attached to any Gateway of the class answers on every Gateway's address and every port of its protocol, for the hosts it matches",
        sources: &[
            kic(
                "internal/controllers/gateway/gateway_utils.go getListenerStatus (\"Kong serves all HTTP routes on all HTTP ports\")",
            ),
            kic(
                "internal/dataplane/translator/translate_httproute.go ingressRulesFromHTTPRoutes (every HTTPRoute of the store in one configuration)",
            ),
        ],
    },
    Deviation {
        id: "listener-needs-kong-listen",
        title: "a listener whose port or protocol is not one of Kong's listens is not accepted",
        when: When::Always,
        spec: "any port, for the HTTP and HTTPS protocols",
        kong: "Accepted False with PortUnavailable for a port Kong does not listen on with that protocol, UnsupportedProtocol for a protocol it has no listen for (the lab's Kong: HTTP on 80, HTTPS on 443); the listener is not programmed",
        sources: &[
            kic("internal/controllers/gateway/gateway_utils.go getListenerStatus"),
            kic(
                "internal/controllers/gateway/gateway_controller.go determineListenersFromDataPlane",
            ),
        ],
    },
];

/// The deviation of an id.
pub fn deviation(id: &str) -> Option<&'static Deviation> {
    DEVIATIONS.iter().find(|d| d.id == id)
}

/// What was read from source but is not modelled, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotModeled {
    pub what: &'static str,
    pub why: &'static str,
    pub source: Source,
}

pub const NOT_MODELED: &[NotModeled] = &[
    NotModeled {
        what: "traditional_compatible router: header values compared without case, a header or method match outranking any longer path, a trailing-slash PathPrefix not matching the bare path, regex characters in Exact and PathPrefix values, ties by route UUID, query matches leaving the whole HTTPRoute out",
        why: "the lab's Kong runs the expressions router (KONG_ROUTER_FLAVOR, as KIC's own manifest sets it)",
        source: Source {
            repo: "Kong/kong",
            at: "3.9.3",
            path: "kong/router/transform.lua get_expression, get_priority",
        },
    },
    NotModeled {
        what: "URLRewrite ReplacePrefixMatch puts the prefix into a regular expression unescaped (`/v1.0` also matches `/v1x0/a`)",
        why: "it needs Kong's regular-expression engine",
        source: Source {
            repo: "Kong/kubernetes-ingress-controller",
            at: "v3.5.13",
            path: "internal/dataplane/translator/subtranslator/httproute_atc.go pathMatcherFromHTTPPathMatch",
        },
    },
    NotModeled {
        what: "header and URLRewrite values containing `$(…)` are evaluated as Lua templates by request-transformer",
        why: "a Lua evaluator; gwlab sends values as written",
        source: Source {
            repo: "Kong/kong",
            at: "3.9.3",
            path: "kong/plugins/request-transformer/access.lua param_value",
        },
    },
    NotModeled {
        what: "a header modifier's add is sent as a second header line instead of one comma-joined line",
        why: "no difference in gwlab's answers: gwlab's own model adds a header line too, and both read the same",
        source: Source {
            repo: "Kong/kubernetes-ingress-controller",
            at: "v3.5.13",
            path: "internal/dataplane/translator/subtranslator/httproute.go generateHeaderModifierKongPlugin",
        },
    },
    NotModeled {
        what: "a query parameter name with `-` is not an expressions-router identifier",
        why: "unverified: what Kong does with the refused route was not established from source",
        source: Source {
            repo: "Kong/atc-router",
            at: "v1.6.2",
            path: "src/atc_grammar.pest",
        },
    },
    NotModeled {
        what: "each backend's weight is divided among its endpoints",
        why: "every echo backend of gwlab has one endpoint, so the shares are the spec's",
        source: Source {
            repo: "Kong/kubernetes-ingress-controller",
            at: "v3.5.13",
            path: "internal/dataplane/translator/translate_upstreams.go getUpstreams",
        },
    },
    NotModeled {
        what: "timeouts.backendRequest becomes the service's connect, read and write timeouts, with retries",
        why: "unverified: which failures Kong retries, and whether the read timeout is per read",
        source: Source {
            repo: "Kong/kubernetes-ingress-controller",
            at: "v3.5.13",
            path: "internal/dataplane/translator/subtranslator/httproute.go applyTimeoutToServiceFromHTTPRouteRule",
        },
    },
    NotModeled {
        what: "a wildcard route hostname on two listeners keeps only the first listener's intersection",
        why: "not modelled yet: it changes answers only for Gateways whose listeners have hostnames (the lab's have none)",
        source: Source {
            repo: "Kong/kubernetes-ingress-controller",
            at: "v3.5.13",
            path: "internal/controllers/gateway/route_utils.go getMinimumHostnameIntersection",
        },
    },
    NotModeled {
        what: "the Host header is compared with its case",
        why: "unverified: read from the router's source, not established end to end",
        source: Source {
            repo: "Kong/kong",
            at: "3.9.3",
            path: "kong/router/atc.lua exec",
        },
    },
    NotModeled {
        what: "Kong adds Via, Server and X-Kong-* response headers and X-Forwarded-* request headers",
        why: "not modelled yet: no scenario of gwlab's asserts their absence",
        source: Source {
            repo: "Kong/kong",
            at: "3.9.3",
            path: "kong/templates/nginx_kong.lua, kong/runloop/handler.lua header_filter",
        },
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_each_names_a_source_file() {
        let mut ids: Vec<&str> = DEVIATIONS.iter().map(|d| d.id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), DEVIATIONS.len());
        for d in DEVIATIONS {
            assert!(!d.sources.is_empty() && d.sources.iter().all(|s| s.path.contains('/')));
            assert!(d.said().contains(d.id));
        }
        assert_eq!(
            deviation("redirect-request-termination").unwrap().said(),
            "known KIC behaviour on Kong < 3.9: RequestRedirect becomes request-termination with a fixed Location [redirect-request-termination; Kong/kubernetes-ingress-controller@v3.5.13 internal/dataplane/translator/subtranslator/httproute.go generateRequestRedirectKongPlugin]"
        );
    }
}
