//! The differences between the original Ingress and the converted route that
//! the converter knows of, each said in a warning naming the probe of the
//! generated scenario that shows it (the probe expects the original, so the
//! scenario fails exactly there).

use super::scenario::{
    PLAIN_PREFIX_SUFFIX, plain_prefix_probe, plain_prefix_probe_name, query_probe_name,
};
use super::{Converted, Warn};

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
        if let Some(t) = &d.original.plain_prefix {
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
