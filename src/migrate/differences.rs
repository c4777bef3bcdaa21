//! The differences between the original Ingress and the converted route that
//! the converter knows of, each said in a warning naming the probe of the
//! generated scenario that shows it (the probe expects the original, so the
//! scenario fails exactly there).

use super::original::{self, Answer, Rules};
use super::scenario::{
    PLAIN_PREFIX_SUFFIX, plain_prefix_probe, plain_prefix_probe_name, query_probe_name,
    slash_probe_name,
};
use super::{Converted, Warn, Warning};

/// Warns of each known difference of `c`'s drafts, naming its probe.
pub(super) fn warn(c: &Converted, warn: Warn<'_>) {
    for d in &c.drafts {
        if let Some(e) = &d.original.exact_location {
            let query = if e.query.is_empty() {
                String::new()
            } else {
                format!(" and cannot add `?{}`", e.query)
            };
            warn(
                Some(&e.annotation),
                format!(
                    "{} redirects to exactly {}, without the request's path and query; the route keeps the query{query} ({})",
                    e.by,
                    e.location,
                    shown_by(c, || query_probe_name(&c.name, d))
                ),
            );
        }
        if let Some(t) = d
            .original
            .plain_prefix
            .as_ref()
            .filter(|_| !d.path.ends_with('/'))
        {
            let probe = if plain_prefix_probe(d) {
                shown_by(c, || plain_prefix_probe_name(&c.name, d))
            } else {
                "not probed: the path redirects or splits its traffic".into()
            };
            warn(
                None,
                format!(
                    "path {p} (pathType {t}): Kong and ingress-nginx match a plain prefix ({p}{PLAIN_PREFIX_SUFFIX} too), the route's PathPrefix whole segments only ({probe})",
                    p = d.path,
                ),
            );
        }
    }
}

/// Where the scenario shows a difference: the probe, or why there is none.
fn shown_by(c: &Converted, probe: impl FnOnce() -> String) -> String {
    if c.is_canary {
        "a canary's paths are probed through its main Ingress".into()
    } else {
        format!("the scenario expects the original in probe `{}`", probe())
    }
}

/// Warns of the differences that depend on the other paths of the migration
/// (where a request the route takes goes in the original): a `/`-terminated
/// plain prefix (`/api/`) does not take `/api` in the original, the route's
/// PathPrefix does.
pub(super) fn warn_across(converted: &[Converted], warnings: &mut Vec<Warning>) {
    for c in converted.iter().filter(|c| !c.is_canary) {
        // A redirected path's requests are probed as redirects.
        for d in c.drafts.iter().filter(|d| d.redirect.is_none()) {
            let Some(expected) = original::slash_answer(c, converted, d, Rules::Original) else {
                continue;
            };
            let route = original::slash_answer(c, converted, d, Rules::Route);
            if route.as_ref() == Some(&expected) {
                continue;
            }
            let by = match (&expected, c.controller) {
                (Answer::SlashAdded { .. }, _) | (_, super::Controller::Nginx) => "ingress-nginx",
                _ => "Kong",
            };
            let other = original::other_slash(d).unwrap_or_default();
            let why = match &d.original.plain_prefix {
                Some(t) if d.path.ends_with('/') => format!(
                    " (pathType {t}: {by} matches a plain prefix, which {other} does not start with)"
                ),
                _ => String::new(),
            };
            let route = route.map_or_else(|| "answers otherwise".to_string(), |a| a.to_string());
            warnings.push(Warning {
                object: super::ingress_name(c.namespace.as_deref(), &c.name),
                annotation: None,
                message: format!(
                    "path {p}{why}: for {other}, {by}: {expected}; the route: {route} (the scenario expects the original in probe `{probe}`)",
                    p = d.path,
                    probe = slash_probe_name(&c.name, d),
                ),
            });
        }
    }
}
