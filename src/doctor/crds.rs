//! The Gateway API CRDs: present, from one bundle version and channel, and a
//! standard-channel release gwlab knows (v1.2.1 to v1.6.1; whether the
//! cluster's controller supports it is the versions check's).

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
            .fix("install the Gateway API standard CRDs: `gwlab up --addons crds` (v1.2.1; another release with `--gateway-api`; on an existing cluster add `--provider existing`)")
    })
}

/// CRDs of several bundles, or of one that is not the standard channel of a
/// release gwlab knows.
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
    (!known_standard(v, c)).then(|| {
        Finding::new("gateway-api-crds-unexpected", Layer::Crds, format!("the Gateway API CRDs are {v} ({c} channel); gwlab knows the standard channel of v1.2.1 to v1.6.1"))
            .evidence(format!("{BUNDLE_VERSION}: {v}, {CHANNEL}: {c}"))
            .fix("`gwlab up --addons crds --force --gateway-api VERSION` installs that release's standard CRDs (v1.2.1 without --gateway-api; check what else on the cluster relies on these CRDs first)")
    })
}

/// The standard channel of a release gwlab knows.
fn known_standard(version: &str, channel: &str) -> bool {
    channel == "standard" && crate::gateway_api::Release::of_bundle_minor(version).is_some()
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
    .fix("install one bundle: `gwlab up --addons crds --force` replaces them with v1.2.1 standard (another release with `--gateway-api`)")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(version: &str, channel: &str) -> Facts {
        Facts {
            crds: CORE
                .iter()
                .map(|n| (n.to_string(), Some(version.into()), Some(channel.into())))
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn a_standard_release_gwlab_knows_is_expected_and_others_are_named() {
        for v in ["v1.2.1", "v1.4.1", "v1.5.0", "v1.6.1"] {
            assert!(bundles(&with(v, "standard")).is_none(), "{v}");
        }
        for (v, c) in [
            ("v1.5.1", "experimental"),
            ("v1.1.0", "standard"),
            ("v1.7.0", "standard"),
        ] {
            let f = bundles(&with(v, c)).unwrap_or_else(|| panic!("{v} {c}"));
            assert_eq!(f.id, "gateway-api-crds-unexpected");
            assert!(f.problem.contains(&format!("{v} ({c} channel)")), "{f:?}");
        }
    }
}
