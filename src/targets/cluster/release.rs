//! Which Gateway API release a cluster serves: its HTTPRoute CRD's
//! `gateway.networking.k8s.io/bundle-version`, read once for a run whose
//! scenarios need more than v1.2.1.

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;

use crate::gateway_api::Release;
use crate::lab::addons::BUNDLE_VERSION;

/// The HTTPRoute CRD, whose bundle version stands for the installed release.
const HTTPROUTES: &str = "httproutes.gateway.networking.k8s.io";

/// What the cluster's Gateway API CRDs are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Installed {
    /// A release gwlab knows, from the annotation as written.
    Release { release: Release, bundle: String },
    /// No HTTPRoute CRD: no Gateway API at all.
    None,
    /// A CRD without a bundle version gwlab can read (`None`: none at all).
    Unknown(Option<String>),
}

impl Installed {
    /// The newest release a scenario may be written for here, `None` when
    /// it cannot be told (scenarios then run and the API server judges).
    pub(crate) fn serves(&self) -> Option<Release> {
        match self {
            Installed::Release { release, .. } => Some(*release),
            Installed::None => Some(Release::V1_2_1),
            Installed::Unknown(_) => None,
        }
    }

    /// How it reads in a scenario's `unsupported` line.
    pub(crate) fn said(&self) -> String {
        match self {
            Installed::Release { bundle, .. } => format!("the cluster's CRDs are {bundle}"),
            Installed::None => "the cluster has no Gateway API CRDs".into(),
            Installed::Unknown(Some(b)) => format!("the cluster's CRDs say {b}"),
            Installed::Unknown(None) => "the cluster's CRDs name no release".into(),
        }
    }
}

/// The release of the cluster's HTTPRoute CRD.
pub(crate) async fn installed(client: &kube::Client) -> Result<Installed, kube::Error> {
    let api: kube::Api<CustomResourceDefinition> = kube::Api::all(client.clone());
    let crd = crate::kube_api::retrying(crate::kube_api::TRANSIENT_BUDGET, || {
        api.get_opt(HTTPROUTES)
    })
    .await?;
    Ok(of_crd(crd.as_ref()))
}

fn of_crd(crd: Option<&CustomResourceDefinition>) -> Installed {
    let Some(crd) = crd else {
        return Installed::None;
    };
    let bundle = crd
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(BUNDLE_VERSION))
        .cloned();
    match bundle.as_deref().and_then(Release::of_bundle) {
        Some(release) => Installed::Release {
            release,
            bundle: bundle.unwrap_or_default(),
        },
        None => Installed::Unknown(bundle),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crd(bundle: Option<&str>) -> CustomResourceDefinition {
        let mut c = CustomResourceDefinition::default();
        c.metadata.annotations =
            bundle.map(|b| [(BUNDLE_VERSION.to_string(), b.to_string())].into());
        c
    }

    #[test]
    fn the_bundle_version_says_the_release() {
        let i = of_crd(Some(&crd(Some("v1.5.0"))));
        assert_eq!(i.serves(), Some(Release::V1_5_1));
        assert_eq!(i.said(), "the cluster's CRDs are v1.5.0");
        assert_eq!(of_crd(None).serves(), Some(Release::V1_2_1));
        let unknown = of_crd(Some(&crd(None)));
        assert_eq!(unknown.serves(), None);
        assert_eq!(unknown.said(), "the cluster's CRDs name no release");
        assert_eq!(of_crd(Some(&crd(Some("v0.8.0")))).serves(), None);
    }
}
