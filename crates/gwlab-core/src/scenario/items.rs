//! The items of a scenario's lists (`backends`, `conditions`, `probes`),
//! checked one by one into the runner's types, every problem reported at the
//! item's line.

use std::collections::BTreeSet;
use std::path::Path;

use serde_saphyr::Spanned;

use super::types::*;
use super::*;
use crate::diag::Diagnostic;
use crate::manifest::METHODS;
use crate::stats::{self, AutoSamples};

const ROUTE_KINDS: &[&str] = &["HTTPRoute", "GRPCRoute"];
const CONDITION_KINDS: &[&str] = &["GatewayClass", "Gateway", "HTTPRoute", "GRPCRoute"];

pub(super) fn line<T>(s: &Spanned<T>) -> u64 {
    s.referenced.line()
}

/// The problems of one item of a list (`backends`, `conditions`, `probes`):
/// reported at its line, with the field under the list's name.
struct Item<'a> {
    file: &'a Path,
    line: u64,
    list: &'static str,
    problems: &'a mut Vec<Diagnostic>,
}

impl Item<'_> {
    fn err(&mut self, field: &str, message: impl Into<String>) {
        self.push(field, message, None);
    }

    fn push(&mut self, field: &str, message: impl Into<String>, hint: Option<&str>) {
        let mut d = Diagnostic::new(self.file, Some(self.line), message)
            .field(format!("{}[].{field}", self.list));
        if let Some(h) = hint {
            d = d.hint(h);
        }
        self.problems.push(d);
    }
}

/// Each item of the list `name`, checked by `one` into what it yields.
fn each<S, T>(
    file: &Path,
    list: &[Spanned<S>],
    name: &'static str,
    problems: &mut Vec<Diagnostic>,
    mut one: impl FnMut(&mut Item<'_>, &S) -> Option<T>,
) -> Vec<T> {
    let mut out = Vec::new();
    for s in list {
        let mut item = Item {
            file,
            line: line(s),
            list: name,
            problems,
        };
        out.extend(one(&mut item, &s.value));
    }
    out
}

pub(super) fn backends(
    file: &Path,
    list: &[Spanned<BackendSpec>],
    problems: &mut Vec<Diagnostic>,
) -> Vec<Backend> {
    let mut seen = BTreeSet::new();
    each(file, list, "backends", problems, |item, v| {
        if let Err(why) = dns_label(&v.name) {
            item.err("name", format!("backend name `{}` {why}", v.name));
        }
        if let Some(ns) = &v.namespace
            && let Err(why) = dns_label(ns)
        {
            item.err("namespace", format!("namespace `{ns}` {why}"));
        }
        if v.port == Some(0) {
            item.err("port", "port must be 1-65535");
        }
        if !seen.insert((v.namespace.clone(), v.name.clone())) {
            item.err("name", format!("backend `{}` is listed twice", v.name));
        }
        Some(Backend {
            name: v.name.clone(),
            port: v.port.unwrap_or(DEFAULT_BACKEND_PORT),
            namespace: v.namespace.clone(),
        })
    })
}

/// Why a name is not a DNS label.
#[derive(Debug, thiserror::Error)]
#[error(
    "must be a DNS label: lower-case letters, digits and `-`, starting with a letter, at most 63 characters"
)]
pub(crate) struct NotDnsLabel;

pub(crate) fn dns_label(s: &str) -> Result<(), NotDnsLabel> {
    let ok = !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && s.as_bytes()[0].is_ascii_lowercase()
        && !s.ends_with('-');
    if ok { Ok(()) } else { Err(NotDnsLabel) }
}

pub(super) fn conditions(
    file: &Path,
    list: &[Spanned<ConditionSpec>],
    problems: &mut Vec<Diagnostic>,
) -> Vec<Condition> {
    each(file, list, "conditions", problems, condition)
}

fn condition(item: &mut Item<'_>, spec: &ConditionSpec) -> Option<Condition> {
    let Some((kind, name)) = spec.resource.split_once('/') else {
        item.err(
            "resource",
            format!(
                "`{}` must be written Kind/name, e.g. HTTPRoute/my-route",
                spec.resource
            ),
        );
        return None;
    };
    if !CONDITION_KINDS.contains(&kind) {
        item.err(
            "resource",
            format!(
                "kind `{kind}` has no conditions gwlab can read; use one of {}",
                CONDITION_KINDS.join(", ")
            ),
        );
    }
    check_assertion(item, spec, kind);
    if spec.listener.is_some() && kind != "Gateway" {
        item.err(
            "listener",
            "`listener` applies to `resource: Gateway/<name>` only",
        );
    }
    if (spec.parent.is_some() || spec.parent_section.is_some()) && !ROUTE_KINDS.contains(&kind) {
        item.err(
            "parent",
            "`parent` and `parentSection` apply to routes (HTTPRoute, GRPCRoute) only",
        );
    }
    if spec.parent_section.is_some() && spec.parent.is_none() {
        item.err("parentSection", "`parentSection` needs `parent`");
    }
    Some(Condition {
        spec: spec.clone(),
        kind: kind.into(),
        name: name.into(),
        line: item.line,
    })
}

/// What a condition asserts: a `type`, or a listener's `attachedRoutes`.
fn check_assertion(item: &mut Item<'_>, spec: &ConditionSpec, kind: &str) {
    match (&spec.type_, spec.attached_routes) {
        (None, None) => item.err(
            "type",
            "a condition needs `type` (e.g. Accepted) or, for a listener, `attachedRoutes`",
        ),
        (Some(_), Some(_)) => item.err(
            "attachedRoutes",
            "give either `type` or `attachedRoutes`, not both",
        ),
        (None, Some(_)) => {
            if kind != "Gateway" || spec.listener.is_none() {
                item.err("attachedRoutes", "`attachedRoutes` is asserted on a Gateway listener: give `resource: Gateway/<name>` and `listener:`");
            }
            if spec.status.is_some() || spec.reason.is_some() {
                item.err(
                    "status",
                    "`status` and `reason` go with `type`, not with `attachedRoutes`",
                );
            }
        }
        (Some(_), None) => {}
    }
}

pub(super) fn probes(
    file: &Path,
    list: &[Spanned<ProbeSpec>],
    problems: &mut Vec<Diagnostic>,
) -> Vec<Probe> {
    each(file, list, "probes", problems, probe)
}

fn probe(item: &mut Item<'_>, spec: &ProbeSpec) -> Option<Probe> {
    let Some(expect) = &spec.expect else {
        item.push(
            "expect",
            format!(
                "probe `{}` has no `expect`",
                spec.name.as_deref().unwrap_or(&spec.request.url)
            ),
            Some("a probe must say what must come back, e.g. `expect: {status: 200}`"),
        );
        return None;
    };
    let url = probe_url(item, &spec.request.url)?;
    let method = spec.request.method.clone().unwrap_or_else(|| "GET".into());
    if !METHODS.contains(&method.as_str()) {
        item.err(
            "request.method",
            format!(
                "`{method}` is not an HTTP method gwlab sends (upper case: {})",
                METHODS.join(", ")
            ),
        );
    }
    if spec.request.tls.is_some() && url.scheme() != "https" {
        item.err("request.tls", "`tls` applies to https:// URLs only");
    }
    check_expect(item, expect);
    let sampling = sampling(item, spec, expect);
    let name = spec
        .name
        .clone()
        .unwrap_or_else(|| format!("{method} {}", spec.request.url));
    Some(Probe {
        name,
        line: item.line,
        gateway: spec.gateway.clone(),
        request: spec.request.clone(),
        url,
        method,
        samples: sampling.samples,
        tolerance: sampling.tolerance,
        auto: sampling.auto,
        expect: expect.clone(),
    })
}

/// How many requests a probe sends, and how a split judges them.
struct Sampling {
    samples: u32,
    tolerance: Option<f64>,
    auto: Option<AutoSamples>,
}

/// `samples` and `tolerance`: a count, or `auto` for a split (sized from its
/// weights and tolerance); a tolerance only on a split, in points above 0 and
/// below 100.
fn sampling(item: &mut Item<'_>, spec: &ProbeSpec, expect: &ExpectSpec) -> Sampling {
    let split = expect.split.as_ref();
    let tolerance = match (spec.tolerance, split) {
        (None, _) => None,
        (Some(_), None) => {
            item.push(
                "tolerance",
                "`tolerance` applies to probes with `expect.split`",
                Some("it says how many percentage points each backend's share may be off its weight; remove it here"),
            );
            None
        }
        (Some(t), Some(_)) if t > 0.0 && t < 100.0 => Some(t),
        (Some(t), Some(_)) => {
            item.push(
                "tolerance",
                format!("tolerance {t} is not a number of percentage points above 0 and below 100"),
                Some("write how far each share may be off its weight, e.g. `tolerance: 5`"),
            );
            None
        }
    };
    let mut auto = None;
    let samples = match (spec.samples, split) {
        (Some(Samples::Count(0)), _) => {
            item.err("samples", "samples must be at least 1");
            1
        }
        (Some(Samples::Count(n)), _) if n > MAX_SAMPLES => {
            item.push(
                "samples",
                format!("{n} samples is more than the most a probe sends, {MAX_SAMPLES}"),
                Some("a split is judged well from a few hundred requests (`samples: auto` sizes it); 200 is the default"),
            );
            n
        }
        (Some(Samples::Count(n)), _) => n,
        (Some(Samples::Auto), None) => {
            item.push(
                "samples",
                "`samples: auto` sizes the sample of a `split`; this probe has none",
                Some(
                    "give a number of consecutive passes, e.g. `samples: 3`, or add `expect.split`",
                ),
            );
            1
        }
        (Some(Samples::Auto), Some(weights)) => {
            let positive: Vec<u32> = weights.values().copied().filter(|w| *w > 0).collect();
            if positive.is_empty() {
                // `check_expect` has said so; there is nothing to size.
                DEFAULT_SPLIT_SAMPLES
            } else {
                let a =
                    stats::auto_samples(&stats::shares(&positive), tolerance.map(|t| t / 100.0));
                auto = Some(a);
                a.samples
            }
        }
        (None, Some(_)) => DEFAULT_SPLIT_SAMPLES,
        (None, None) => 1,
    };
    Sampling {
        samples,
        tolerance,
        auto,
    }
}

/// The probe's URL: http or https, with a host.
fn probe_url(item: &mut Item<'_>, url: &str) -> Option<url::Url> {
    match url::Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => Some(u),
        Ok(_) => {
            item.err(
                "request.url",
                format!("`{url}` must be an http:// or https:// URL with a host"),
            );
            None
        }
        Err(e) => {
            item.err("request.url", format!("`{url}` is not a URL: {e}"));
            None
        }
    }
}

fn check_expect(item: &mut Item<'_>, expect: &ExpectSpec) {
    if let Some(s) = expect.status
        && !(100..=599).contains(&s)
    {
        item.err("expect.status", format!("{s} is not an HTTP status code"));
    }
    if let Some(split) = &expect.split {
        if split.values().all(|w| *w == 0) {
            item.err(
                "expect.split",
                "a split needs at least one backend with a weight above 0",
            );
        }
        if expect.backend.is_some() {
            item.err("expect.backend", "`backend` and `split` cannot both be given: the split says which backends may answer");
        }
        let mut over = false;
        for (backend, w) in split {
            if *w > MAX_SPLIT_WEIGHT {
                over = true;
                item.err(
                    &format!("expect.split.{backend}"),
                    format!(
                        "weight {w} is above the largest, {MAX_SPLIT_WEIGHT} (as for a backendRef)"
                    ),
                );
            }
        }
        // Each weight is bounded, but not their number: the total is counted in u32.
        let total: u64 = split.values().map(|w| u64::from(*w)).sum();
        if !over && total > u64::from(u32::MAX) {
            item.err(
                "expect.split",
                format!("the weights add up to {total}, more than {}", u32::MAX),
            );
        }
    }
    if let Some(r) = &expect.redirect
        && r.port == Some(0)
    {
        item.err("expect.redirect.port", "port must be 1-65535");
    }
}
