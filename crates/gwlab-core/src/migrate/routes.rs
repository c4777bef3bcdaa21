//! The HTTPRoutes written for a converted Ingress: one per host (and one for
//! the default backend), each draft a rule (two with a header canary), plus an
//! http → https redirect route where the Ingress asked for one.

use std::collections::{BTreeMap, BTreeSet};

use super::output::{
    self, BackendRef, Filter, Match, NameValue, ParentRef, PathMatch, Redirect, Rewrite, Route,
    Rule, Spec,
};
use super::{Converted, Draft, PathKind};
use crate::model::lab_gateway;
use crate::slug::slug;

/// The most rules an HTTPRoute may have (the CRD's bound).
const MAX_RULES: usize = 16;

fn parent(section: &str) -> ParentRef {
    ParentRef {
        name: lab_gateway::GATEWAY_NAME.into(),
        namespace: lab_gateway::GATEWAY_NAMESPACE.into(),
        section_name: section.into(),
    }
}

fn path_match(d: &Draft) -> PathMatch {
    PathMatch {
        type_: if d.kind == PathKind::Exact {
            "Exact"
        } else {
            "PathPrefix"
        },
        value: d.path.clone(),
    }
}

/// A draft's filters, noting the features they need.
/// The feature a redirect status code beyond 301 and 302 needs (Gateway API
/// v1.5.1).
fn note_status(code: u16, features: &mut BTreeSet<String>) {
    let feature = match code {
        303 => crate::features::Feature::HTTPRoute303RedirectStatusCode,
        307 => crate::features::Feature::HTTPRoute307RedirectStatusCode,
        308 => crate::features::Feature::HTTPRoute308RedirectStatusCode,
        _ => return,
    };
    features.insert(feature.name().into());
}

fn filters_for(d: &Draft, features: &mut BTreeSet<String>) -> Vec<Filter> {
    let mut filters = Vec::new();
    if !d.request_headers.is_empty() {
        filters.push(Filter::request_headers(d.request_headers.clone()));
    }
    if !d.response_headers.is_empty() {
        features.insert("HTTPRouteResponseHeaderModification".into());
        filters.push(Filter::response_headers(d.response_headers.clone()));
    }
    if let Some(r) = &d.redirect {
        note_status(r.status_code, features);
        if r.scheme.is_some() {
            features.insert("HTTPRouteSchemeRedirect".into());
        }
        if r.port.is_some() {
            features.insert("HTTPRoutePortRedirect".into());
        }
        if r.path.is_some() {
            features.insert("HTTPRoutePathRedirect".into());
        }
        filters.push(Filter::redirect(r.clone()));
    } else if let Some(p) = &d.rewrite {
        features.insert("HTTPRoutePathRewrite".into());
        filters.push(Filter::rewrite(Rewrite {
            hostname: None,
            path: Some(p.clone()),
        }));
    }
    filters
}

/// A draft's rule, preceded by its header canary's rule when it has one.
fn rules_for(d: &Draft, features: &mut BTreeSet<String>) -> Vec<Rule> {
    let filters = filters_for(d, features);
    let backends = if d.redirect.is_some() {
        Vec::new()
    } else {
        d.backends.clone()
    };
    let methods: Vec<Option<String>> = if d.methods.is_empty() {
        vec![None]
    } else {
        d.methods.iter().cloned().map(Some).collect()
    };
    if !d.methods.is_empty() {
        features.insert("HTTPRouteMethodMatching".into());
    }
    let matches = |headers: Vec<NameValue>| -> Vec<Match> {
        methods
            .iter()
            .map(|m| Match {
                path: path_match(d),
                headers: headers.clone(),
                method: m.clone(),
            })
            .collect()
    };
    let mut rules = Vec::new();
    // A redirect answers every request of the path, the canary's too: a
    // canary rule would have nothing to forward to.
    if let Some((h, b)) = d.header_canary.as_ref().filter(|_| d.redirect.is_none()) {
        push_rules(
            &mut rules,
            matches(vec![h.clone()]),
            &filters,
            vec![BackendRef {
                weight: None,
                ..b.clone()
            }],
        );
    }
    push_rules(&mut rules, matches(vec![]), &filters, backends);
    rules
}

/// One rule with all of `matches`, or one rule per match where a filter uses
/// replacePrefixMatch: Gateway API lets such a rule have exactly one match
/// (the prefix it replaces must be unambiguous), so a draft with several
/// methods becomes several rules.
fn push_rules(
    rules: &mut Vec<Rule>,
    matches: Vec<Match>,
    filters: &[Filter],
    backend_refs: Vec<BackendRef>,
) {
    if filters.iter().any(Filter::replaces_prefix) {
        for m in matches {
            rules.push(Rule {
                matches: vec![m],
                filters: filters.to_vec(),
                backend_refs: backend_refs.clone(),
            });
        }
    } else {
        rules.push(Rule {
            matches,
            filters: filters.to_vec(),
            backend_refs,
        });
    }
}

/// One HTTPRoute per host (and one for the default backend), plus an http →
/// https redirect route where the Ingress asked for one.
pub(super) fn build_routes(c: &Converted, features: &mut BTreeSet<String>) -> Vec<Route> {
    let mut by_host: BTreeMap<Option<String>, Vec<&Draft>> = BTreeMap::new();
    for d in &c.drafts {
        by_host.entry(d.host.clone()).or_default().push(d);
    }
    let single = by_host.len() == 1;
    let mut routes = Vec::new();
    // Redirect routes by status and what they take: (code, matches) → hosts.
    let mut redirects: BTreeMap<(u16, String), (Vec<Match>, Vec<String>)> = BTreeMap::new();
    for (host, drafts) in &by_host {
        let name = match host {
            _ if single => c.name.clone(),
            Some(h) => format!("{}-{}", c.name, slug(h)),
            None => format!("{}-default", c.name),
        };
        let http = drafts.iter().any(|d| d.http);
        let https = drafts.iter().any(|d| d.https);
        let mut parent_refs = Vec::new();
        if http {
            parent_refs.push(parent("http"));
        }
        if https {
            parent_refs.push(parent("https"));
        }
        let code = drafts.iter().find_map(|d| d.https_redirect);
        if let (Some(code), Some(h)) = (code, host) {
            let matches = redirected_matches(drafts);
            let key = format!("{:?}", match_keys(&matches));
            let entry = redirects
                .entry((code, key))
                .or_insert_with(|| (matches, Vec::new()));
            entry.1.push(h.clone());
        }
        let rules: Vec<Rule> = drafts.iter().flat_map(|d| rules_for(d, features)).collect();
        // An HTTPRoute holds at most 16 rules. Splitting keeps precedence: it
        // ranks the matches, and only identical ones fall back to route names.
        for (i, rules) in rules.chunks(MAX_RULES).enumerate() {
            routes.push(Route {
                api_version: "gateway.networking.k8s.io/v1",
                kind: "HTTPRoute",
                metadata: output::Meta {
                    name: if i == 0 {
                        name.clone()
                    } else {
                        format!("{name}-{}", i + 1)
                    },
                    namespace: c.namespace.clone(),
                },
                spec: Spec {
                    parent_refs: parent_refs.clone(),
                    hostnames: host.iter().cloned().collect(),
                    rules: rules.to_vec(),
                },
            });
        }
    }
    for (i, ((code, _), (matches, mut hosts))) in redirects.into_iter().enumerate() {
        hosts.sort();
        hosts.dedup();
        features.insert("HTTPRouteSchemeRedirect".into());
        note_status(code, features);
        let name = match i {
            0 => format!("{}-https-redirect", c.name),
            n => format!("{}-https-redirect-{}", c.name, n + 1),
        };
        routes.push(https_redirect_route(c, name, code, matches, hosts));
    }
    routes
}

/// The most matches a rule may have (the CRD's bound).
const MAX_MATCHES: usize = 64;

/// What of one host's paths the original redirects from http to https: the
/// paths (and methods) of its routes, since Kong and ingress-nginx redirect
/// only requests a route of theirs takes (another gets 404). The whole host
/// where a path takes everything, or where the paths are more than one rule
/// can hold.
fn redirected_matches(drafts: &[&Draft]) -> Vec<Match> {
    let whole_host = || {
        vec![Match {
            path: PathMatch {
                type_: "PathPrefix",
                value: "/".into(),
            },
            headers: vec![],
            method: None,
        }]
    };
    let redirected: Vec<&&Draft> = drafts
        .iter()
        .filter(|d| d.https_redirect.is_some())
        .collect();
    let takes_all =
        |d: &&&Draft| d.kind == PathKind::Prefix && d.path == "/" && d.methods.is_empty();
    if redirected.iter().any(takes_all) {
        return whole_host();
    }
    let matches: Vec<Match> = redirected
        .iter()
        .flat_map(|d| {
            let methods: Vec<Option<String>> = if d.methods.is_empty() {
                vec![None]
            } else {
                d.methods.iter().cloned().map(Some).collect()
            };
            methods.into_iter().map(|method| Match {
                path: path_match(d),
                headers: vec![],
                method,
            })
        })
        .collect();
    if matches.is_empty() || matches.len() > MAX_MATCHES {
        whole_host()
    } else {
        matches
    }
}

/// Matches as comparable values: hosts whose redirects take the same
/// requests share a route.
fn match_keys(matches: &[Match]) -> Vec<(&str, &str, Option<&str>)> {
    matches
        .iter()
        .map(|m| (m.path.type_, m.path.value.as_str(), m.method.as_deref()))
        .collect()
}

/// The route that redirects http requests for `hosts` to https with `code`.
fn https_redirect_route(
    c: &Converted,
    name: String,
    code: u16,
    matches: Vec<Match>,
    hosts: Vec<String>,
) -> Route {
    Route {
        api_version: "gateway.networking.k8s.io/v1",
        kind: "HTTPRoute",
        metadata: output::Meta {
            name,
            namespace: c.namespace.clone(),
        },
        spec: Spec {
            parent_refs: vec![parent("http")],
            hostnames: hosts,
            rules: vec![Rule {
                matches,
                filters: vec![Filter::redirect(Redirect {
                    scheme: Some("https".into()),
                    status_code: code,
                    ..Default::default()
                })],
                backend_refs: vec![],
            }],
        },
    }
}
