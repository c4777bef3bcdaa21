//! The differences between the original Ingress and the converted route that
//! the converter knows of, each said in a warning naming the probe of the
//! generated scenario that shows it (the probe expects the original, so the
//! scenario fails exactly there).

use super::original::{self, Answer, Rules};
use super::scenario::{
    PLAIN_PREFIX_SUFFIX, plain_http_probe_name, plain_prefix_probe, plain_prefix_probe_name,
    query_probe_name, slash_probe_name,
};
use super::{Controller, Converted, Warning};

/// Warns of each known difference of `c`'s drafts (`object` names the
/// Ingress), naming its probe.
pub(super) fn warn(c: &Converted, object: &str, warnings: &mut Vec<Warning>) {
    let mut push = |annotation: Option<&str>, message: String, probe: Option<String>| {
        warnings.push(Warning {
            object: object.to_string(),
            annotation: annotation.map(String::from),
            message,
            probe,
        });
    };
    // Kong's 426 is one answer for the whole Ingress: said once, with the
    // probe of its first path.
    if let Some((d, code)) = c
        .drafts
        .iter()
        .find_map(|d| d.original.plain_http_status.map(|code| (d, code)))
    {
        let (probe, unprobed) = shown_by(c, || plain_http_probe_name(&c.name, d));
        push(
            Some("konghq.com/protocols"),
            format!(
                "Kong answers plain http on an https-only route with {code} Upgrade Required; the HTTPRoute is simply not attached to the http listener (404){unprobed}"
            ),
            probe,
        );
    }
    for d in &c.drafts {
        if let Some(e) = &d.original.exact_location {
            let query = if e.query.is_empty() {
                String::new()
            } else {
                format!(" and cannot add `?{}`", e.query)
            };
            let (probe, unprobed) = shown_by(c, || query_probe_name(&c.name, d));
            push(
                Some(&e.annotation),
                format!(
                    "{} redirects to exactly {}, without the request's path and query; the route keeps the query{query}{unprobed}",
                    e.by, e.location,
                ),
                probe,
            );
        }
        if let Some(t) = d
            .original
            .plain_prefix
            .as_ref()
            .filter(|_| !d.path.ends_with('/'))
        {
            let (probe, unprobed) = if plain_prefix_probe(d) {
                shown_by(c, || plain_prefix_probe_name(&c.name, d))
            } else {
                (
                    None,
                    " (not probed: the path redirects or splits its traffic)".into(),
                )
            };
            push(
                None,
                format!(
                    "path {p} (pathType {t}): Kong and ingress-nginx match a plain prefix ({p}{PLAIN_PREFIX_SUFFIX} too), the route's PathPrefix whole segments only{unprobed}",
                    p = d.path,
                ),
                probe,
            );
        }
    }
}

/// Where the scenario shows a difference: the probe, or (for the message)
/// why there is none.
fn shown_by(c: &Converted, probe: impl FnOnce() -> String) -> (Option<String>, String) {
    if c.is_canary {
        (
            None,
            " (a canary's paths are probed through its main Ingress)".into(),
        )
    } else {
        (Some(probe()), String::new())
    }
}

/// Warns of the differences that depend on the other paths of the migration
/// (where a request the route takes goes in the original): a `/`-terminated
/// plain prefix (`/api/`) does not take `/api` in the original, the route's
/// PathPrefix does. Every slash probe the scenario has is looked at
/// ([`original::slash_probe`]).
pub(super) fn warn_across(converted: &[Converted], warnings: &mut Vec<Warning>) {
    for c in converted {
        for d in &c.drafts {
            let Some(probe) = original::slash_probe(c, converted, d) else {
                continue;
            };
            let (other, expected) = (&probe.other, &probe.original);
            let route = original::slash_answer(c, converted, d, other, Rules::Route);
            if route.as_ref() == Some(expected) {
                continue;
            }
            let by = match (expected, c.controller) {
                (Answer::SlashAdded { .. }, _) | (_, Controller::Nginx) => "ingress-nginx",
                _ => "Kong",
            };
            let why = match &d.original.plain_prefix {
                Some(t) if d.path.ends_with('/') => format!(
                    " (pathType {t}: {by} matches a plain prefix, which {other} does not start with)"
                ),
                _ => String::new(),
            };
            let route = route.map_or_else(
                || original::slash_unanswered(converted, d, other, Rules::Route).to_string(),
                |a| a.to_string(),
            );
            warnings.push(Warning {
                object: super::ingress_name(c.namespace.as_deref(), &c.name),
                annotation: None,
                message: format!(
                    "path {p}{why}: for {other}, {by}: {expected}; the route: {route}",
                    p = d.path,
                ),
                probe: Some(slash_probe_name(&c.name, d, other)),
            });
        }
    }
}
