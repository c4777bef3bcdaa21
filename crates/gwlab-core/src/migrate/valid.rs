//! What the converter leaves out, saying so, because the HTTPRoute or the
//! scenario written for it would be rejected by `gwlab check` (and by an API
//! server): Ingress objects come from files, where nothing has validated
//! them, so a path `api` or a Service name `App_1` can be there.

use super::input::Ingress;
use super::{Converted, Draft, Warn};
use crate::manifest::{METHODS, path_problem};
use crate::model::hostname;
use crate::scenario::dns_label;

/// Why an Ingress cannot be converted at all: a name or namespace that no
/// HTTPRoute (or scenario backend) may have.
pub(super) fn ingress_problem(ing: &Ingress) -> Option<String> {
    let name = &ing.metadata.name;
    if name.starts_with('*') || hostname::validate(name).is_err() {
        return Some(format!(
            "the name `{name}` is not a Kubernetes object name (lower-case letters, digits, `-` and `.`); not converted"
        ));
    }
    if let Some(ns) = &ing.metadata.namespace
        && let Err(why) = dns_label(ns)
    {
        return Some(format!("the namespace `{ns}` {why}; not converted"));
    }
    None
}

/// Removes the drafts (and the parts of drafts) that would make an invalid
/// route or scenario, with a warning for each.
pub(super) fn leave_out_invalid(c: &mut Converted, warn: Warn<'_>) {
    c.drafts.retain_mut(|d| keep(d, warn));
}

fn keep(d: &mut Draft, warn: Warn<'_>) -> bool {
    let at = format!("host {} path {}", d.host.as_deref().unwrap_or("*"), d.path);
    if let Some(h) = &d.host
        && let Err(why) = hostname::validate(h)
    {
        warn(
            None,
            format!(
                "host `{h}` is not a valid HTTPRoute hostname ({why}); its path {} is left out",
                d.path
            ),
        );
        return false;
    }
    if let Some(problem) = path_problem(&d.path) {
        warn(
            None,
            format!("{at}: the path {problem}, as an HTTPRoute path must; left out"),
        );
        return false;
    }
    for b in d
        .backends
        .iter()
        .chain(d.header_canary.iter().map(|(_, b)| b))
    {
        if let Err(why) = dns_label(&b.name) {
            warn(
                None,
                format!("{at}: backend Service `{}` {why}; left out", b.name),
            );
            return false;
        }
        if b.port == 0 {
            warn(
                None,
                format!(
                    "{at}: backend Service `{}` has port 0 (ports are 1-65535); left out",
                    b.name
                ),
            );
            return false;
        }
    }
    if let Some((h, _)) = &d.header_canary
        && http::HeaderName::from_bytes(h.name.as_bytes()).is_err()
    {
        warn(
            Some("nginx.ingress.kubernetes.io/canary-by-header"),
            format!(
                "`{}` is not an HTTP header name; the header canary is left out",
                h.name
            ),
        );
        d.header_canary = None;
    }
    let (known, unknown): (Vec<String>, Vec<String>) = d
        .methods
        .drain(..)
        .partition(|m| METHODS.contains(&m.as_str()));
    if !unknown.is_empty() {
        warn(
            Some("konghq.com/methods"),
            format!(
                "{} {} no Gateway API method (one of {}); left out of the matches",
                unknown.join(", "),
                if unknown.len() == 1 { "is" } else { "are" },
                METHODS.join(", ")
            ),
        );
        if known.is_empty() {
            warn(
                Some("konghq.com/methods"),
                format!(
                    "{at}: no method left to match; the path is left out rather than matching every method"
                ),
            );
            return false;
        }
    }
    d.methods = known;
    true
}
