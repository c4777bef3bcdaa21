//! The images a lab runs, as its pod specs and containers name them: each
//! lock image by tag and digest, the digest being the lock's, else the one
//! `gwlab pull` recorded for that tag, else none (said, never guessed).
//! Also writes those names into gwlab's Kong manifests and the upstream
//! MetalLB manifest.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::lock::Lock;
use super::pulled::PullRecord;

/// Where the digest a pod spec names comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DigestFrom {
    /// Pinned in the lock, from a public source.
    Lock,
    /// What the tag pointed at when `gwlab pull` fetched it.
    Pulled,
    /// Neither: the tag alone.
    None,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LabImage {
    pub name: String,
    /// `repository:tag`.
    pub image: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    pub digest_from: DigestFrom,
}

impl LabImage {
    /// `repository:tag@sha256:…`, or the tag alone without a digest. Both
    /// containerd and Docker resolve such a reference by its digest.
    pub fn reference(&self) -> String {
        match &self.digest {
            Some(d) => format!("{}@{d}", self.image),
            None => self.image.clone(),
        }
    }

    /// `repository@sha256:…` (the form the Docker engine looks images up
    /// by), or the tag without a digest.
    pub(crate) fn by_digest(&self) -> String {
        match (&self.digest, crate::kong::split_image(&self.image)) {
            (Some(d), Some((repository, _))) => format!("{repository}@{d}"),
            _ => self.image.clone(),
        }
    }
}

/// Every lock image with the digest its pods will name.
pub fn resolve(lock: &Lock, pulled: &PullRecord) -> Vec<LabImage> {
    lock.images
        .iter()
        .map(|i| {
            let (digest, digest_from) = match (&i.digest, pulled.get(&i.name, &i.image)) {
                (Some(d), _) => (Some(d.clone()), DigestFrom::Lock),
                (None, Some(p)) => (Some(p.digest.clone()), DigestFrom::Pulled),
                (None, None) => (None, DigestFrom::None),
            };
            LabImage {
                name: i.name.clone(),
                image: i.image.clone(),
                digest,
                digest_from,
            }
        })
        .collect()
}

/// The image named `name` (one the lock is checked to have).
pub fn named<'a>(images: &'a [LabImage], name: &str) -> &'a LabImage {
    images
        .iter()
        .find(|i| i.name == name)
        .unwrap_or_else(|| panic!("image {name} is in the lock"))
}

/// The echo backends' image on a cluster, as scenarios' Deployments name
/// it: the built-in lock's, with the digest `gwlab pull` recorded if the
/// lock pins none.
pub(crate) fn echo_reference() -> Result<String, super::LabError> {
    let record = PullRecord::load(&super::cache::default_dir())?;
    Ok(named(&resolve(&Lock::builtin(), &record), "echo-basic").reference())
}

/// The images that will run by tag alone, for a note before `up` uses them.
pub fn unpinned(images: &[LabImage], names: &[&str]) -> Vec<String> {
    images
        .iter()
        .filter(|i| names.contains(&i.name.as_str()) && i.digest.is_none())
        .map(|i| i.image.clone())
        .collect()
}

/// Which lock image each container of gwlab's Kong Deployment runs.
pub(crate) const KONG_CONTAINERS: &[(&str, &str)] = &[
    ("proxy", "kong"),
    ("ingress-controller", "kong-ingress-controller"),
];

fn containers_mut(doc: &mut Value) -> impl Iterator<Item = &mut Value> {
    let spec = doc
        .pointer_mut("/spec/template/spec")
        .and_then(Value::as_object_mut);
    spec.into_iter().flat_map(|s| {
        s.iter_mut()
            .filter(|(k, _)| *k == "containers" || *k == "initContainers")
            .filter_map(|(_, v)| v.as_array_mut())
            .flatten()
    })
}

/// gwlab's Kong manifests with each container's image set from `images`.
pub(crate) fn set_kong_images(docs: &mut [Value], images: &[LabImage]) {
    for doc in docs.iter_mut().filter(|d| d["kind"] == "Deployment") {
        for c in containers_mut(doc) {
            let name = c["name"].as_str().unwrap_or_default();
            if let Some((_, image)) = KONG_CONTAINERS.iter().find(|(cn, _)| *cn == name) {
                c["image"] = Value::String(named(images, image).reference());
            }
        }
    }
}

/// An upstream manifest (MetalLB's) with every container image that is a
/// lock image's tag named by that image's reference; returns how many.
pub(crate) fn pin_upstream_images(docs: &mut [Value], images: &[LabImage]) -> usize {
    let mut pinned = 0;
    for doc in docs.iter_mut() {
        for c in containers_mut(doc) {
            let current = c["image"].as_str().unwrap_or_default();
            if let Some(i) = images.iter().find(|i| i.image == current) {
                c["image"] = Value::String(i.reference());
                pinned += 1;
            }
        }
    }
    pinned
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::lab::pulled::{Kept, PulledImage};

    fn pulled(name: &str, image: &str, digest: &str) -> PulledImage {
        PulledImage {
            name: name.into(),
            image: image.into(),
            digest: digest.into(),
            pinned: false,
            platform: "linux/amd64".into(),
            archive: None,
            kept: Kept::Archive,
            pulled_at: "2026-12-06T00:00:00Z".into(),
        }
    }

    #[test]
    fn digests_come_from_the_lock_then_the_pull_record() {
        let lock = Lock::builtin();
        let metallb = lock.image("metallb-controller").image.clone();
        let record = PullRecord {
            images: vec![
                pulled("metallb-controller", &metallb, "sha256:aa"),
                // A record for another tag than the lock's is not used.
                pulled("echo-basic", "gcr.io/x/echo-basic:old", "sha256:bb"),
                // Nor does a record override the lock's pin.
                pulled("kong", &lock.image("kong").image, "sha256:cc"),
            ],
        };
        let images = resolve(&lock, &record);
        let kong = named(&images, "kong");
        assert_eq!(kong.digest_from, DigestFrom::Lock);
        assert_eq!(kong.digest, lock.image("kong").digest);
        assert_eq!(
            kong.reference(),
            format!("kong:3.9.3@{}", lock.image("kong").digest.as_ref().unwrap())
        );
        assert!(kong.by_digest().starts_with("kong@sha256:"));
        let m = named(&images, "metallb-controller");
        assert_eq!(
            (m.digest.as_deref(), m.digest_from),
            (Some("sha256:aa"), DigestFrom::Pulled)
        );
        let echo = named(&images, "echo-basic");
        assert_eq!(echo.digest_from, DigestFrom::None);
        assert_eq!(echo.reference(), echo.image);
        assert_eq!(
            unpinned(&images, &["echo-basic", "kong"]),
            vec![echo.image.clone()]
        );
    }

    #[test]
    fn the_kong_deployment_and_metallb_name_the_resolved_references() {
        let lock = Lock::builtin();
        let images = resolve(&lock, &PullRecord::default());
        let mut docs = vec![
            json!({"kind": "Deployment", "spec": {"template": {"spec": {"containers": [
            {"name": "proxy", "image": "placeholder"},
            {"name": "ingress-controller", "image": "placeholder"},
            {"name": "sidecar", "image": "busybox:1"}]}}}}),
        ];
        set_kong_images(&mut docs, &images);
        let c = &docs[0]["spec"]["template"]["spec"]["containers"];
        assert_eq!(c[0]["image"], named(&images, "kong").reference());
        assert_eq!(
            c[1]["image"],
            named(&images, "kong-ingress-controller").reference()
        );
        assert_eq!(c[2]["image"], "busybox:1");
        let controller = lock.image("metallb-controller").image.clone();
        let mut upstream = vec![json!({"kind": "Deployment", "spec": {"template": {"spec": {
            "containers": [{"name": "controller", "image": controller}]}}}})];
        let record = PullRecord {
            images: vec![pulled("metallb-controller", &controller, "sha256:dd")],
        };
        let images = resolve(&lock, &record);
        assert_eq!(pin_upstream_images(&mut upstream, &images), 1);
        assert_eq!(
            upstream[0]["spec"]["template"]["spec"]["containers"][0]["image"],
            format!("{controller}@sha256:dd")
        );
    }
}
