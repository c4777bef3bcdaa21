//! Every output of the converter passes `gwlab check`'s validation: each
//! golden input (tests/migrate and the seed example) under every combination
//! of the Kong annotations the converter handles (strip-path × methods ×
//! redirect × transformers × protocols). An output the check rejects would be
//! a route the lab's API server refuses, so one failing case fails the test.
//! And every warning that names a probe (a known difference) names one the
//! scenario has; the other way round, every probe whose expectation (the
//! original's answer) the route's matching rules do not give is named by a
//! warning.

use std::path::{Path, PathBuf};

use serde_json::json;

use super::input::{KongPlugin, Meta};
use super::original::{self, Answer, Request, Rules};
use super::scenario::ProbeOut;
use super::{Inputs, Migration, check, inputs, migrate, scenario};
use crate::manifest;
use crate::scenario::types::ExpectSpec;

const STRIP: &[Option<&str>] = &[None, Some("true"), Some("false")];
/// Unknown and lower-case methods included: the converter must leave them out
/// or normalise them, never write them.
const METHODS: &[Option<&str>] = &[
    None,
    Some("GET"),
    Some("GET,POST"),
    Some("get, DELETE,BREW"),
];
const PROTOCOLS: &[&[(&str, &str)]] = &[
    &[],
    &[("konghq.com/protocols", "http")],
    &[("konghq.com/protocols", "https")],
    &[
        ("konghq.com/protocols", "https"),
        ("konghq.com/https-redirect-status-code", "308"),
    ],
    &[("konghq.com/protocols", "grpc,grpcs")],
];

/// The redirect plugins tried: none, the seed's, keeping the path, and one
/// whose location has a port, a path and a query.
fn redirects() -> Vec<Option<serde_json::Value>> {
    vec![
        None,
        Some(json!({"location": "https://portal.example.com", "status_code": 301})),
        Some(
            json!({"location": "https://portal.example.com/", "keep_incoming_path": true, "status_code": 302}),
        ),
        Some(json!({"location": "http://portal.example.com:8080/to?x=1", "status_code": 308})),
    ]
}

/// Transformer plugins tried: none, request, response, both.
fn transformers() -> Vec<Vec<(&'static str, serde_json::Value)>> {
    let request = (
        "request-transformer",
        json!({"add": {"headers": ["X-Add:1"]}, "replace": {"headers": ["X-Rep:2"]},
               "append": {"headers": ["X-App:3"]}, "remove": {"headers": ["X-Gone"]}}),
    );
    let response = (
        "response-transformer",
        json!({"add": {"headers": ["X-Res:1"]}, "remove": {"headers": ["Server"]}}),
    );
    vec![
        vec![],
        vec![request.clone()],
        vec![response.clone()],
        vec![request, response],
    ]
}

fn golden_inputs() -> Vec<PathBuf> {
    // The repository, two levels above this crate.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut files: Vec<PathBuf> = std::fs::read_dir(root.join("tests/migrate"))
        .unwrap()
        .map(|e| e.unwrap().path().join("input.yaml"))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files.push(root.join("examples/seed-migration/before/ingress.yaml"));
    files
}

fn plugin(
    name: &str,
    namespace: &Option<String>,
    kind: &str,
    config: serde_json::Value,
) -> KongPlugin {
    KongPlugin {
        metadata: Meta {
            name: name.into(),
            namespace: namespace.clone(),
            ..Default::default()
        },
        plugin: kind.into(),
        config,
        disabled: false,
    }
}

/// `base` with every Ingress given the annotations (and plugins) of one combination.
fn with_annotations(
    base: &Inputs,
    annotations: &[(&str, &str)],
    plugins: &[(&str, serde_json::Value)],
) -> Inputs {
    let mut i = Inputs {
        release: Default::default(),
        ingresses: base.ingresses.clone(),
        plugins: base.plugins.clone(),
        cluster_plugins: base.cluster_plugins.clone(),
        services: base.services.clone(),
        ignored: vec![],
    };
    for ing in &mut i.ingresses {
        let a = &mut ing.metadata.annotations;
        for (k, v) in annotations {
            a.insert((*k).into(), (*v).into());
        }
        if plugins.is_empty() {
            continue;
        }
        let mut names: Vec<String> = a
            .get("konghq.com/plugins")
            .map(|p| vec![p.clone()])
            .unwrap_or_default();
        for (n, (kind, config)) in plugins.iter().enumerate() {
            let name = format!("gwlab-property-{n}");
            i.plugins
                .push(plugin(&name, &ing.metadata.namespace, kind, config.clone()));
            names.push(name);
        }
        a.insert("konghq.com/plugins".into(), names.join(","));
    }
    i
}

/// A warning that names a probe the scenario does not have: the difference
/// it reports would never be shown.
fn unprobed_warning(m: &Migration, s: &scenario::ScenarioOut) -> Option<String> {
    m.warnings
        .iter()
        .filter_map(|w| w.probe.as_deref())
        .find(|name| !s.probes.iter().any(|p| p.name == *name))
        .map(String::from)
}

/// What a probe expects, where the route's matching rules can tell: a
/// redirect, a 404, or one backend (seeing a path, if the probe says which).
#[derive(Debug, PartialEq)]
enum Expected {
    Redirect,
    NotFound,
    Served(String, Option<String>),
}

fn expected(e: &ExpectSpec) -> Option<Expected> {
    if e.redirect.is_some() {
        return Some(Expected::Redirect);
    }
    match (e.status, &e.backend, &e.split) {
        (Some(404), None, None) => Some(Expected::NotFound),
        (_, Some(b), None) => Some(Expected::Served(
            b.clone(),
            e.backend_request.as_ref().and_then(|r| r.path.clone()),
        )),
        _ => None,
    }
}

/// The request a probe sends, as the matching rules see it; `None` for one
/// they cannot tell (a header a canary goes by).
fn probe_request<'a>(m: &'a Migration, p: &'a ProbeOut) -> Option<Request<'a>> {
    let drafts = || m.converted.iter().flat_map(|c| &c.drafts);
    let canary_header = drafts()
        .filter_map(|d| d.header_canary.as_ref())
        .any(|(h, _)| {
            p.request
                .headers
                .keys()
                .any(|k| k.eq_ignore_ascii_case(&h.name))
        });
    if canary_header {
        return None;
    }
    let (scheme, rest) = p.request.url.split_once("://")?;
    let (host, path) = rest.split_at(rest.find('/')?);
    let path = path.split('?').next()?;
    // The probe's host is its draft's (a wildcard's shown with `www.`).
    static NO_HOST: Option<String> = None;
    let host = drafts()
        .find(|d| d.host.is_some() && scenario::host(d) == host)
        .map_or(&NO_HOST, |d| &d.host);
    Some(Request {
        host,
        http: scheme == "http",
        method: p.request.method.as_deref().unwrap_or("GET"),
        path,
    })
}

/// A probe whose expectation (the original's answer) the route's matching
/// rules do not give, while no warning names it: a difference the scenario
/// shows without the converter saying so.
fn unwarned_difference(m: &Migration, s: &scenario::ScenarioOut) -> Option<String> {
    s.probes.iter().find_map(|p| {
        let want = expected(&p.expect)?;
        let req = probe_request(m, p)?;
        let got = match original::answer(&m.converted, &req, Rules::Route)? {
            Answer::Served { backend, path } => {
                let seen = matches!(&want, Expected::Served(_, Some(_))).then_some(path);
                Expected::Served(backend, seen)
            }
            Answer::NotFound => Expected::NotFound,
            Answer::SlashAdded { .. } => Expected::Redirect,
        };
        let warned = m
            .warnings
            .iter()
            .any(|w| w.probe.as_deref() == Some(&p.name));
        (got != want && !warned)
            .then(|| format!("{}: expects {want:?}, the route gives {got:?}", p.name))
    })
}

#[test]
fn every_output_passes_the_check_for_every_annotation_combination() {
    let mut cases = 0usize;
    let mut seen = std::collections::HashSet::new();
    for file in golden_inputs() {
        let text = std::fs::read_to_string(&file).unwrap();
        let objects = manifest::parse_text(&file, &text).unwrap();
        let base = inputs(&objects).unwrap();
        for strip in STRIP {
            for methods in METHODS {
                for redirect in redirects() {
                    for transformers in transformers() {
                        for protocols in PROTOCOLS {
                            let mut annotations: Vec<(&str, &str)> = protocols.to_vec();
                            annotations.extend(strip.map(|v| ("konghq.com/strip-path", v)));
                            annotations.extend(methods.map(|v| ("konghq.com/methods", v)));
                            let mut plugins = transformers.clone();
                            plugins.extend(redirect.clone().map(|c| ("redirect", c)));
                            let i = with_annotations(&base, &annotations, &plugins);
                            let m = migrate(&i);
                            let s = scenario::build(&m, "property");
                            cases += 1;
                            if let Some(missing) = unprobed_warning(&m, &s) {
                                panic!(
                                    "{}: annotations {annotations:?}, plugins {plugins:?}: a warning names a probe the scenario lacks: {missing}",
                                    file.display()
                                );
                            }
                            if let Some(d) = unwarned_difference(&m, &s) {
                                panic!(
                                    "{}: annotations {annotations:?}, plugins {plugins:?}: a probe differs on the route and no warning names it: {d}",
                                    file.display()
                                );
                            }
                            // Many combinations convert alike (grpc protocols
                            // like none, strip-path false like absent): each
                            // distinct output is checked once. The Debug form
                            // tells outputs apart as the YAML would, faster.
                            if !seen.insert(format!("{:?}{:?}", m.all_routes(), s)) {
                                continue;
                            }
                            if let Err(d) = check::output(&m, Some(&s)) {
                                panic!(
                                    "{}: annotations {annotations:?}, plugins {plugins:?}: the output fails the check:\n{d}",
                                    file.display()
                                );
                            }
                        }
                    }
                }
            }
        }
    }
    // Every input × 3 × 4 × 4 × 4 × 5 combinations; the count keeps a dimension
    // from silently dropping out.
    assert_eq!(cases, golden_inputs().len() * 3 * 4 * 4 * 4 * 5);
    eprintln!("{cases} cases, {} distinct outputs checked", seen.len());
}
