//! The Gateway API CRDs: present, from one bundle version and channel, and the
//! one the lab expects.

use std::collections::BTreeSet;

use super::facts::Facts;
use super::{Finding, Layer};
use crate::lab::addons::{BUNDLE_VERSION, CHANNEL};

const CORE: [&str; 3] = [
    "gatewayclasses.gateway.networking.k8s.io",
    "gateways.gateway.networking.k8s.io",
    "httproutes.gateway.networking.k8s.io",
];

pub(super) fn check(f: &Facts, out: &mut Vec<Finding>, checks: &mut Vec<String>) {
    checks.push("Gateway API CRDs".into());
    out.extend(missing(f));
    out.extend(bundles(f));
}

/// The core CRDs that are not installed.
fn missing(f: &Facts) -> Option<Finding> {
    let missing: Vec<&str> = CORE
        .iter()
        .copied()
        .filter(|c| !f.crds.iter().any(|(n, _, _)| n == c))
        .collect();
    (!missing.is_empty()).then(|| {
        Finding::new("gateway-api-crds-missing", Layer::Crds, "Gateway API CRDs are missing")
            .evidence(format!("not installed: {}", missing.join(", ")))
            .fix("install the Gateway API v1.2.1 standard CRDs: `gwlab up --addons crds` (or on an existing cluster `gwlab up --provider existing --addons crds`)")
    })
}

/// CRDs of several bundles, or of one other than v1.2 standard.
fn bundles(f: &Facts) -> Option<Finding> {
    let versions: BTreeSet<(String, String)> = f
        .crds
        .iter()
        .map(|(_, v, c)| {
            (
                v.clone().unwrap_or_else(|| "none".into()),
                c.clone().unwrap_or_else(|| "none".into()),
            )
        })
        .collect();
    if versions.len() > 1 {
        return Some(mixed(f));
    }
    let (v, c) = versions.iter().next()?;
    (!v.starts_with("v1.2.") || c != "standard").then(|| {
        Finding::new("gateway-api-crds-unexpected", Layer::Crds, format!("the Gateway API CRDs are {v} ({c} channel); gwlab and the lab's Kong 3.4 expect v1.2.1 standard"))
            .evidence(format!("{BUNDLE_VERSION}: {v}, {CHANNEL}: {c}"))
            .fix("`gwlab up --addons crds --force` installs v1.2.1 standard (check what else on the cluster relies on these CRDs first)")
    })
}

fn mixed(f: &Facts) -> Finding {
    let list: Vec<String> = f
        .crds
        .iter()
        .map(|(n, v, c)| {
            format!(
                "{n}: {} ({})",
                v.as_deref().unwrap_or("no bundle-version"),
                c.as_deref().unwrap_or("no channel")
            )
        })
        .collect();
    Finding::new(
        "gateway-api-crds-mixed",
        Layer::Crds,
        "the Gateway API CRDs come from different bundle versions or channels",
    )
    .evidence(list.join("; "))
    .fix("install one bundle: `gwlab up --addons crds --force` replaces them with v1.2.1 standard")
}
