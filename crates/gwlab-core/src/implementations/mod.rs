//! Which implementation the embedded gateway answers as: the Gateway API
//! spec (`spec`, the default), or Kong as the Kong Ingress Controller
//! programs it (`kong-3.8`, `kong-3.9`: the lab's KIC release line, its
//! expressions router, and that Kong). Every way Kong answers otherwise is a
//! named [`Deviation`] with its source; the model applies those that hold
//! for the implementation chosen, and says which changed an answer.

mod deviations;
pub mod kong_uri;
mod listens;
mod outside;

use std::fmt;

pub use deviations::{DEVIATIONS, Deviation, NOT_MODELED, NotModeled, When, deviation};
pub use listens::{UnservedListener, unserved_listeners};
pub use outside::{OutsideGatewayApi, outside_gateway_api};

use crate::features::Feature;
use crate::kong::Version;

/// Kong driven by the Kong Ingress Controller, with the expressions router
/// (what KIC's own manifest and gwlab's lab set).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KongRun {
    pub kong: Version,
    pub kic: Version,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum Implementation {
    /// The Gateway API spec, as gwlab reads it (v1.2 HTTPRoute semantics).
    #[default]
    Spec,
    Kong(KongRun),
}

/// The lab's Kong Ingress Controller: the release line the deviations were
/// read at (Kong/kubernetes-ingress-controller@v3.5.13).
pub const LAB_KIC: Version = Version::new(3, 5, 13);

/// What `--as` takes, with the implementation each name stands for.
pub const CHOICES: &[(&str, Implementation)] = &[
    ("spec", Implementation::Spec),
    (
        "kong-3.8",
        Implementation::Kong(KongRun {
            // The newest 3.8 (Kong/kong tags 3.8.0, 3.8.1): what KIC
            // translates for depends only on < 3.9.
            kong: Version::new(3, 8, 1),
            kic: LAB_KIC,
        }),
    ),
    (
        "kong-3.9",
        Implementation::Kong(KongRun {
            kong: Version::new(3, 9, 3),
            kic: LAB_KIC,
        }),
    ),
];

/// An `--as` value gwlab does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown implementation `{0}`: choose from {choices} (`--as help` lists them)", choices = names())]
pub struct UnknownImplementation(pub String);

fn names() -> String {
    CHOICES
        .iter()
        .map(|(n, _)| *n)
        .collect::<Vec<_>>()
        .join(", ")
}

impl Implementation {
    pub fn parse(name: &str) -> Result<Implementation, UnknownImplementation> {
        CHOICES
            .iter()
            .find(|(n, _)| *n == name.trim())
            .map(|(_, i)| *i)
            .ok_or_else(|| UnknownImplementation(name.trim().to_string()))
    }

    /// A comma-separated list (`spec,kong-3.8,kong-3.9`), each once, in the
    /// order given.
    pub fn parse_list(list: &str) -> Result<Vec<Implementation>, UnknownImplementation> {
        let mut out: Vec<Implementation> = Vec::new();
        for name in list.split(',').filter(|n| !n.trim().is_empty()) {
            let i = Implementation::parse(name)?;
            if !out.contains(&i) {
                out.push(i);
            }
        }
        if out.is_empty() {
            return Err(UnknownImplementation(list.into()));
        }
        Ok(out)
    }

    /// `--as`'s name for it (`spec`, `kong-3.9`).
    pub fn name(&self) -> String {
        match self {
            Implementation::Spec => "spec".into(),
            Implementation::Kong(k) => format!("kong-{}.{}", k.kong.major, k.kong.minor),
        }
    }

    /// What it is, in words.
    pub fn describe(&self) -> String {
        match self {
            Implementation::Spec => {
                "the Gateway API spec (v1.2 HTTPRoute semantics), as gwlab's reference gateway implements it"
                    .into()
            }
            Implementation::Kong(k) => format!(
                "Kong {} as the Kong Ingress Controller {} programs it (expressions router)",
                k.kong, k.kic
            ),
        }
    }

    /// The features a scenario may need and still run: the embedded
    /// gateway's own for the spec; for Kong, core and what KIC's conformance
    /// report claims (a feature it does not claim stays `unsupported`).
    pub fn features(&self) -> Vec<Feature> {
        match self {
            Implementation::Spec => crate::model::compile::SUPPORTED_FEATURES.to_vec(),
            Implementation::Kong(_) => [
                Feature::Gateway,
                Feature::HTTPRoute,
                Feature::ReferenceGrant,
            ]
            .into_iter()
            .chain(
                crate::kong::facts::CONFORMANCE_FEATURES
                    .value
                    .iter()
                    .copied(),
            )
            .collect(),
        }
    }

    /// Whether a deviation holds for this implementation.
    pub fn has(&self, d: &Deviation) -> bool {
        match self {
            Implementation::Spec => false,
            Implementation::Kong(k) => d.when.holds(k.kong),
        }
    }

    /// Whether the deviation of this id holds (an id gwlab does not know, never).
    pub fn deviates(&self, id: &str) -> bool {
        deviation(id).is_some_and(|d| self.has(d))
    }

    pub fn is_spec(&self) -> bool {
        *self == Implementation::Spec
    }

    /// The implementation that models a Kong the cluster runs (by its
    /// version), with the lab's KIC line; `None` for a Kong line gwlab has no
    /// model of (below 3.4, where KIC 3 does not run).
    pub fn for_kong(kong: Version) -> Option<Implementation> {
        (kong >= crate::kong::facts::KIC_LINES[0].kong_minimum.value)
            .then_some(Implementation::Kong(KongRun { kong, kic: LAB_KIC }))
    }
}

impl fmt::Display for Implementation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

/// `--as help`: every implementation, what it is, and its deviations.
pub fn help() -> String {
    let mut out = String::from("Implementations the embedded gateway answers as (--as):\n");
    for (name, i) in CHOICES {
        out.push_str(&format!("  {name:<10} {}\n", i.describe()));
        let ids: Vec<&str> = DEVIATIONS
            .iter()
            .filter(|d| i.has(d))
            .map(|d| d.id)
            .collect();
        if !ids.is_empty() {
            out.push_str(&format!("             deviations: {}\n", ids.join(", ")));
        }
    }
    out.push_str("Each deviation, with its source: docs/implementations.md\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_lists_keep_their_order() {
        for (name, i) in CHOICES {
            assert_eq!(Implementation::parse(name).unwrap(), *i);
            assert_eq!(i.name(), *name);
        }
        let list = Implementation::parse_list("kong-3.9, spec,kong-3.9").unwrap();
        assert_eq!(
            list.iter().map(|i| i.name()).collect::<Vec<_>>(),
            ["kong-3.9", "spec"]
        );
        let e = Implementation::parse("kong-3.10").unwrap_err().to_string();
        assert!(
            e.contains("kong-3.10") && e.contains("spec, kong-3.8, kong-3.9"),
            "{e}"
        );
        assert!(Implementation::parse_list(",").is_err());
    }

    #[test]
    fn kong_claims_only_what_its_report_does() {
        let kong = Implementation::parse("kong-3.9").unwrap().features();
        assert!(kong.contains(&Feature::HTTPRoutePathRewrite));
        assert!(!kong.contains(&Feature::HTTPRouteSchemeRedirect));
        assert!(
            Implementation::Spec
                .features()
                .contains(&Feature::HTTPRouteSchemeRedirect)
        );
    }

    #[test]
    fn the_redirect_translation_follows_the_kong_version() {
        let k38 = Implementation::parse("kong-3.8").unwrap();
        let k39 = Implementation::parse("kong-3.9").unwrap();
        assert!(k38.deviates("redirect-request-termination"));
        assert!(!k38.deviates("redirect-plugin"));
        assert!(k39.deviates("redirect-plugin"));
        assert!(!k39.deviates("redirect-request-termination"));
        assert!(!Implementation::Spec.deviates("redirect-plugin"));
        assert_eq!(
            Implementation::for_kong(Version::new(3, 9, 1)).map(|i| i.name()),
            Some("kong-3.9".into())
        );
        assert_eq!(Implementation::for_kong(Version::new(3, 3, 0)), None);
        assert!(help().contains("kong-3.8") && help().contains("redirect-request-termination"));
    }
}
