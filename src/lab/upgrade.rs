//! `gwlab up` on a lab that already runs: what this gwlab would run
//! differently (each addon container's image as its pod spec names it, and
//! the node's image), said before anything is written. Kong's two
//! containers share one pod template, so one rollout moves both or neither:
//! until the new pod is ready the old one keeps serving.

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment};
use k8s_openapi::api::core::v1::PodTemplateSpec;
use kube::Client;
use kube::api::Api;

use super::LabError;
use super::images::{LabImage, named};

/// One thing the lab runs that `up` changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub what: String,
    pub from: String,
    pub to: String,
}

impl std::fmt::Display for Change {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {} → {}", self.what, self.from, self.to)
    }
}

/// The containers gwlab's addons run: (kind, namespace, name, container, lock image).
const CONTAINERS: &[(&str, &str, &str, &str, &str)] = &[
    ("Deployment", "kong-system", "kong", "proxy", "kong"),
    (
        "Deployment",
        "kong-system",
        "kong",
        "ingress-controller",
        "kong-ingress-controller",
    ),
    (
        "Deployment",
        "metallb-system",
        "controller",
        "controller",
        "metallb-controller",
    ),
    (
        "DaemonSet",
        "metallb-system",
        "speaker",
        "speaker",
        "metallb-speaker",
    ),
];

async fn template(
    client: &Client,
    kind: &str,
    ns: &str,
    name: &str,
) -> Result<Option<PodTemplateSpec>, LabError> {
    let what = format!("cannot read {kind} {ns}/{name}");
    Ok(match kind {
        "Deployment" => Api::<Deployment>::namespaced(client.clone(), ns)
            .get_opt(name)
            .await
            .map_err(LabError::kube(what))?
            .and_then(|d| d.spec)
            .map(|s| s.template),
        _ => Api::<DaemonSet>::namespaced(client.clone(), ns)
            .get_opt(name)
            .await
            .map_err(LabError::kube(what))?
            .and_then(|d| d.spec)
            .map(|s| s.template),
    })
}

/// The addon containers whose image `up` would change, for the addons that
/// are installed. An addon not installed yet is no change.
pub(crate) async fn image_changes(
    client: &Client,
    images: &[LabImage],
    addons: &[&str],
) -> Result<Vec<Change>, LabError> {
    let mut changes = Vec::new();
    for (kind, ns, name, container, image) in CONTAINERS {
        let addon = if *ns == "kong-system" {
            "kong"
        } else {
            "metallb"
        };
        if !addons.contains(&addon) {
            continue;
        }
        let Some(t) = template(client, kind, ns, name).await? else {
            continue;
        };
        let running = t
            .spec
            .into_iter()
            .flat_map(|s| s.containers)
            .find(|c| c.name == *container)
            .and_then(|c| c.image);
        let wanted = named(images, image).reference();
        if let Some(running) = running.filter(|r| *r != wanted) {
            changes.push(Change {
                what: format!("{kind} {ns}/{name} container {container}"),
                from: running,
                to: wanted,
            });
        }
    }
    Ok(changes)
}

/// The node's image, when the lab's running node was made from another one
/// than this gwlab would use: `up` keeps the running cluster (it cannot
/// change a node's Kubernetes in place) and says how to move.
pub(crate) fn node_change(running: Option<&str>, wanted: &LabImage) -> Option<Change> {
    let running = running?;
    let same = running == wanted.reference()
        || running == wanted.by_digest()
        || (wanted.digest.is_none() && running == wanted.image);
    (!same).then(|| Change {
        what: "the cluster's node".into(),
        from: running.into(),
        to: wanted.reference(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::images::DigestFrom;

    fn image(tag: &str, digest: Option<&str>) -> LabImage {
        LabImage {
            name: "k3s".into(),
            image: format!("rancher/k3s:{tag}"),
            digest: digest.map(String::from),
            digest_from: DigestFrom::Pulled,
        }
    }

    #[test]
    fn a_node_made_from_the_same_image_in_any_spelling_is_no_change() {
        let wanted = image("v1.33.7-k3s3", Some("sha256:aa"));
        assert!(node_change(Some("rancher/k3s@sha256:aa"), &wanted).is_none());
        assert!(node_change(Some("rancher/k3s:v1.33.7-k3s3@sha256:aa"), &wanted).is_none());
        assert!(node_change(None, &wanted).is_none());
        let c = node_change(Some("rancher/k3s:v1.32.11-k3s3"), &wanted).unwrap();
        assert_eq!(c.from, "rancher/k3s:v1.32.11-k3s3");
        assert_eq!(c.to, "rancher/k3s:v1.33.7-k3s3@sha256:aa");
        let by_tag = image("v1.33.7-k3s3", None);
        assert!(node_change(Some("rancher/k3s:v1.33.7-k3s3"), &by_tag).is_none());
    }
}
