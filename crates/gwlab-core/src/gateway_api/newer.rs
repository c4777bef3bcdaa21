//! What a manifest uses that a release does not have: fields and values a
//! later release added, and what a later release refuses that an earlier
//! one took (a route with no rules, refused since v1.5.1).

use super::Release;
use crate::manifest::gateway_api::{HttpRoute, HttpRouteFilter};
use crate::manifest::{Manifest, Object};

/// One use of a newer release's API in a manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Newer {
    /// Line of the manifest's file.
    pub line: u64,
    /// The field, as a dotted path (`spec.rules[0].name`).
    pub field: String,
    /// What of it is newer, in words (`statusCode 308`).
    pub what: String,
    /// The first release that has it, or that refuses it (`refused`).
    pub since: Release,
    /// The release refuses what older ones took (rather than adding it).
    pub refused: bool,
}

impl Newer {
    /// The problem in a sentence, for a scenario written for `release`.
    pub fn sentence(&self, release: Release) -> String {
        if self.refused {
            format!(
                "{} is refused since Gateway API {} (this scenario's manifests are for {release})",
                self.what, self.since
            )
        } else {
            format!(
                "{} is Gateway API {}, and this scenario's manifests are for {release}",
                self.what, self.since
            )
        }
    }
}

/// What of `m` the standard channel of `release` does not have (or refuses).
pub fn newer_than(m: &Manifest, release: Release) -> Vec<Newer> {
    let mut found = Vec::new();
    match &m.object {
        Object::HttpRoute(r) => route(m, r, &mut found),
        Object::Gateway(g) => {
            for (i, l) in g.spec.listeners.iter().enumerate() {
                if l.value.protocol == "TLS" && l.value.tls.is_none() {
                    found.push(Newer {
                        line: m.file_line(l.referenced.line()),
                        field: format!("spec.listeners[{i}].tls"),
                        what: "a TLS listener without `tls` (its mode)".into(),
                        since: Release::V1_5_1,
                        refused: true,
                    });
                }
            }
            let annotations = g
                .spec
                .infrastructure
                .as_ref()
                .and_then(|i| i.get("annotations"))
                .and_then(|a| a.as_object())
                .map_or(0, |a| a.len());
            if annotations > 8 {
                found.push(Newer {
                    line: m.line,
                    field: "spec.infrastructure.annotations".into(),
                    what: format!("{annotations} infrastructure annotations (up to 8 before)"),
                    since: Release::V1_6_1,
                    refused: false,
                });
            }
            for (i, a) in g.spec.addresses.iter().enumerate() {
                // v1.3.0's schema made `value` optional, but its CEL rules
                // (`IPAddress values must be unique`, ...) still read it: an
                // API server of v1.3.0 refuses such an address ("no such key:
                // value"). Its rules allow it from v1.4.1.
                if a.value.is_none() {
                    found.push(Newer {
                        line: m.line,
                        field: format!("spec.addresses[{i}].value"),
                        what: "a Gateway address without a value".into(),
                        since: Release::V1_4_1,
                        refused: false,
                    });
                }
            }
        }
        _ => {}
    }
    found.retain(|n| {
        if n.refused {
            release >= n.since
        } else {
            release < n.since
        }
    });
    found
}

fn route(m: &Manifest, r: &HttpRoute, found: &mut Vec<Newer>) {
    let Some(rules) = &r.spec.rules else {
        return;
    };
    if rules.is_empty() {
        found.push(Newer {
            line: m.line,
            field: "spec.rules".into(),
            what: "a route with no rules (`rules: []`)".into(),
            since: Release::V1_5_1,
            refused: true,
        });
    }
    for (ri, rule) in rules.iter().enumerate() {
        let line = m.file_line(rule.referenced.line());
        let at = format!("spec.rules[{ri}]");
        if rule.value.name.is_some() {
            found.push(Newer {
                line,
                field: format!("{at}.name"),
                what: "a named rule (`name:`)".into(),
                since: Release::V1_4_1,
                refused: false,
            });
        }
        for (fi, f) in rule.value.filters.iter().enumerate() {
            let line = m.file_line(f.referenced.line());
            filter(&f.value, line, &format!("{at}.filters[{fi}]"), found);
        }
        for (bi, b) in rule.value.backend_refs.iter().enumerate() {
            let line = m.file_line(b.referenced.line());
            for (fi, f) in b.value.filters.iter().enumerate() {
                filter(
                    f,
                    line,
                    &format!("{at}.backendRefs[{bi}].filters[{fi}]"),
                    found,
                );
            }
        }
    }
}

fn filter(f: &HttpRouteFilter, line: u64, at: &str, found: &mut Vec<Newer>) {
    let mut note = |field: String, what: String, since| {
        found.push(Newer {
            line,
            field,
            what,
            since,
            refused: false,
        })
    };
    if f.type_ == "CORS" || f.cors.is_some() {
        note(
            format!("{at}.cors"),
            "the CORS filter".into(),
            Release::V1_5_1,
        );
    }
    if let Some(r) = &f.request_redirect
        && let Some(code) = r.status_code.filter(|c| matches!(c, 303 | 307 | 308))
    {
        note(
            format!("{at}.requestRedirect.statusCode"),
            format!("redirect statusCode {code}"),
            Release::V1_5_1,
        );
    }
    if let Some(mirror) = &f.request_mirror {
        if mirror.percent.is_some() {
            note(
                format!("{at}.requestMirror.percent"),
                "a mirror of a share of requests (`percent`)".into(),
                Release::V1_3_0,
            );
        }
        if mirror.fraction.is_some() {
            note(
                format!("{at}.requestMirror.fraction"),
                "a mirror of a share of requests (`fraction`)".into(),
                Release::V1_3_0,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::parse_text;
    use std::path::Path;

    fn route(spec: &str) -> Manifest {
        let text = format!(
            "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {{name: r}}\nspec:\n{spec}"
        );
        parse_text(Path::new("r.yaml"), &text)
            .unwrap_or_else(|e| panic!("{e:?}"))
            .remove(0)
    }

    #[test]
    fn each_newer_field_names_its_release_and_line() {
        let m = route(
            "  rules:\n  - name: first\n    filters:\n    - type: RequestRedirect\n      requestRedirect: {statusCode: 308}\n  - filters:\n    - type: CORS\n      cors: {allowOrigins: ['*']}\n    backendRefs:\n    - name: s\n      port: 80\n      filters:\n      - type: RequestMirror\n        requestMirror: {backendRef: {name: m, port: 80}, percent: 10}\n",
        );
        let found = newer_than(&m, Release::V1_2_1);
        let said: Vec<(u64, &str, Release)> = found
            .iter()
            .map(|n| (n.line, n.field.as_str(), n.since))
            .collect();
        assert_eq!(
            said,
            [
                (6, "spec.rules[0].name", Release::V1_4_1),
                (
                    8,
                    "spec.rules[0].filters[0].requestRedirect.statusCode",
                    Release::V1_5_1
                ),
                (11, "spec.rules[1].filters[0].cors", Release::V1_5_1),
                (
                    14,
                    "spec.rules[1].backendRefs[0].filters[0].requestMirror.percent",
                    Release::V1_3_0
                ),
            ]
        );
        assert_eq!(
            found[1].sentence(Release::V1_2_1),
            "redirect statusCode 308 is Gateway API v1.5.1, and this scenario's manifests are for v1.2.1"
        );
        // v1.4.1 has named rules and mirrors of a share, not 308 or CORS.
        let on_1_4: Vec<&str> = newer_than(&m, Release::V1_4_1)
            .iter()
            .map(|n| n.since.as_str())
            .collect();
        assert_eq!(on_1_4, ["v1.5.1", "v1.5.1"]);
        assert!(newer_than(&m, Release::V1_6_1).is_empty());
    }

    #[test]
    fn a_route_without_rules_is_refused_from_v1_5_1_only() {
        let m = route("  rules: []\n");
        assert!(newer_than(&m, Release::V1_4_1).is_empty());
        let found = newer_than(&m, Release::V1_5_1);
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].sentence(Release::V1_5_1),
            "a route with no rules (`rules: []`) is refused since Gateway API v1.5.1 (this scenario's manifests are for v1.5.1)"
        );
    }

    #[test]
    fn a_gateway_address_without_a_value_is_v1_4_1() {
        let text = "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: g}\nspec:\n  gatewayClassName: c\n  addresses: [{type: IPAddress}]\n  listeners: [{name: http, port: 80, protocol: HTTP}]\n";
        let m = parse_text(Path::new("g.yaml"), text).unwrap().remove(0);
        let found = newer_than(&m, Release::V1_2_1);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].field, "spec.addresses[0].value");
        assert_eq!(newer_than(&m, Release::V1_3_0).len(), 1);
        assert!(newer_than(&m, Release::V1_4_1).is_empty());
    }
}
