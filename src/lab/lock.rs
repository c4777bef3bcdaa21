//! The lock file (`manifests/lock.yaml`): every upstream file gwlab installs,
//! pinned by repository, tag, path, sha256 and size, and every image, by tag
//! and index digest where a public source states one (else a `why`).

use std::path::Path;

use serde::{Deserialize, Serialize};

const LOCK: &str = include_str!("../../manifests/lock.yaml");

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lock {
    pub files: Vec<LockedFile>,
    pub images: Vec<LockedImage>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockedFile {
    /// The addon that installs it: `crds`, `metallb`, `kong`.
    pub addon: String,
    /// `owner/name` on GitHub.
    pub repo: String,
    pub tag: String,
    pub path: String,
    pub url: String,
    pub sha256: String,
    pub size: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockedImage {
    /// gwlab's name for the image (`kong`, `kong-ingress-controller`, ...).
    pub name: String,
    /// What needs it: an addon, `echo`, or `provider-k3s` / `provider-kind`.
    pub addon: String,
    /// `repository:tag`, as the registry names it.
    pub image: String,
    /// The index (multi-platform) digest, `sha256:<64 hex>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// Where the tag (and the digest) were read.
    pub source: String,
    /// Why this tag; required when no digest is pinned, saying why none is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
}

impl LockedImage {
    /// The reference to pull: by digest where one is pinned.
    pub fn reference(&self) -> String {
        match &self.digest {
            Some(d) => format!("{}@{d}", self.image),
            None => self.image.clone(),
        }
    }
}

impl LockedFile {
    /// Where a mirror that keeps the upstream layout serves this file.
    pub(crate) fn mirror_url(&self, mirror: &str) -> String {
        format!(
            "{}/{}/{}/{}",
            mirror.trim_end_matches('/'),
            self.repo,
            self.tag,
            self.path
        )
    }

    /// The file name, for messages.
    pub fn file_name(&self) -> &str {
        self.path.rsplit('/').next().unwrap_or(&self.path)
    }
}

/// A lock file that cannot be used, with the place and what to do.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("cannot read the lock {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Parse {
        path: String,
        #[source]
        source: Box<serde_saphyr::Error>,
    },
    #[error("{path}: image {name}: {problem}")]
    Image {
        path: String,
        name: String,
        problem: String,
    },
    #[error("{path}: no image named {name}; gwlab needs one for {needed_by}")]
    Missing {
        path: String,
        name: String,
        needed_by: String,
    },
}

/// The images gwlab itself needs a pin for, and what for.
const NEEDED: &[(&str, &str)] = &[
    ("k3s", "the k3s provider's node"),
    ("kind-node", "the kind provider's node"),
    ("kong", "Kong's proxy container"),
    ("kong-ingress-controller", "Kong's controller container"),
    ("metallb-controller", "MetalLB"),
    ("metallb-speaker", "MetalLB"),
    ("echo-basic", "the echo backends on a cluster"),
];

impl Lock {
    /// gwlab's own lock, built into the binary.
    pub fn builtin() -> Lock {
        Lock::parse(LOCK, "manifests/lock.yaml").expect("manifests/lock.yaml is valid")
    }

    /// A lock file of one's own (`--lock`): another registry, a mirror, a
    /// newer pin under test. Checked as the built-in one is.
    pub fn from_path(path: &Path) -> Result<Lock, LockError> {
        let text = std::fs::read_to_string(path).map_err(|source| LockError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Lock::parse(&text, &path.display().to_string())
    }

    /// The built-in lock, or the file given.
    pub fn chosen(path: Option<&Path>) -> Result<Lock, LockError> {
        match path {
            Some(p) => Lock::from_path(p),
            None => Ok(Lock::builtin()),
        }
    }

    pub fn parse(text: &str, path: &str) -> Result<Lock, LockError> {
        let lock: Lock = serde_saphyr::from_str(text).map_err(|source| LockError::Parse {
            path: path.into(),
            source: Box::new(source),
        })?;
        lock.check(path)?;
        Ok(lock)
    }

    /// Every image names a tag, a well-formed digest or a reason for none,
    /// and no withdrawn release; every image gwlab needs is there.
    fn check(&self, path: &str) -> Result<(), LockError> {
        for i in &self.images {
            let problem = |p: String| LockError::Image {
                path: path.into(),
                name: i.name.clone(),
                problem: p,
            };
            if crate::kong::split_image(&i.image).is_none() || i.image.contains('@') {
                return Err(problem(format!(
                    "`image: {}` must be repository:tag (a digest goes in `digest`)",
                    i.image
                )));
            }
            match &i.digest {
                Some(d) if !is_digest(d) => {
                    return Err(problem(format!(
                        "`digest: {d}` is not sha256: and 64 lowercase hex digits"
                    )));
                }
                None if i.why.as_deref().is_none_or(|w| w.trim().is_empty()) => {
                    return Err(problem(
                        "no `digest` and no `why`: pin the index digest from a public source, or say why none is stated".into(),
                    ));
                }
                _ => {}
            }
            if i.source.trim().is_empty() {
                return Err(problem(
                    "`source` is empty: name where the tag was read".into(),
                ));
            }
            if let Some(w) = crate::kong::facts::withdrawn(&i.image) {
                return Err(problem(format!(
                    "{} was withdrawn ({}): use {} or later",
                    i.image, w.advisory, w.fixed_in
                )));
            }
        }
        for (name, needed_by) in NEEDED {
            if !self.images.iter().any(|i| i.name == *name) {
                return Err(LockError::Missing {
                    path: path.into(),
                    name: name.to_string(),
                    needed_by: needed_by.to_string(),
                });
            }
        }
        Ok(())
    }

    pub fn files_of<'a>(&'a self, addon: &'a str) -> impl Iterator<Item = &'a LockedFile> + 'a {
        self.files.iter().filter(move |f| f.addon == addon)
    }

    /// The standard-channel CRDs of Gateway API `release` the lock pins.
    pub fn crds_of(
        &self,
        release: crate::gateway_api::Release,
    ) -> impl Iterator<Item = &LockedFile> + '_ {
        self.files_of("crds")
            .filter(move |f| f.tag == release.as_str())
    }

    /// An image gwlab needs; every such name is checked present when the
    /// lock is read.
    pub fn image(&self, name: &str) -> &LockedImage {
        self.images
            .iter()
            .find(|i| i.name == name)
            .unwrap_or_else(|| panic!("image {name} is in the lock"))
    }
}

/// `sha256:` and 64 lowercase hex digits.
pub(crate) fn is_digest(d: &str) -> bool {
    d.strip_prefix("sha256:")
        .is_some_and(|h| h.len() == 64 && h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lock_pins_every_addon_file_with_a_consistent_url() {
        let lock = Lock::builtin();
        use crate::gateway_api::Release;
        // Every standard-channel CRD of each release (kubernetes-sigs/gateway-api
        // config/crd/standard/ at its tag), its safe-upgrades policy aside.
        let counts: Vec<usize> = Release::ALL
            .iter()
            .map(|r| lock.crds_of(*r).count())
            .collect();
        assert_eq!(counts, [5, 5, 6, 8, 10]);
        assert_eq!(lock.files_of("crds").count(), 34);
        for r in Release::ALL {
            assert!(
                lock.crds_of(r)
                    .any(|f| f.file_name() == "gateway.networking.k8s.io_httproutes.yaml"),
                "{r}"
            );
        }
        assert_eq!(lock.files_of("metallb").count(), 1);
        assert_eq!(
            lock.files_of("kong").count(),
            12,
            "the Kong CRDs KIC 3.5 installs"
        );
        for f in &lock.files {
            assert_eq!(
                f.url,
                format!(
                    "https://raw.githubusercontent.com/{}/{}/{}",
                    f.repo, f.tag, f.path
                )
            );
            assert_eq!(f.sha256.len(), 64);
            assert!(f.size > 0);
        }
        assert!(lock.image("kind-node").reference().contains("@sha256:"));
    }

    #[test]
    fn the_lab_runs_kong_3_9_and_a_kic_that_supports_it() {
        use crate::kong::facts::{RedirectTranslation, kic_line, redirect_translation};
        use crate::kong::{Version, image_version};
        let lock = Lock::builtin();
        let kong = Version::parse(image_version(&lock.image("kong").image).unwrap()).unwrap();
        let kic =
            Version::parse(image_version(&lock.image("kong-ingress-controller").image).unwrap())
                .unwrap();
        let line = kic_line(kic).expect("gwlab has facts for the lab's KIC line");
        assert_eq!(kic, line.newest, "the newest release of its line");
        assert!(kong >= line.kong_minimum.value);
        assert!(line.kong_compatible.value.contains(kong.line()));
        assert_eq!(
            redirect_translation(kong),
            RedirectTranslation::RedirectPlugin
        );
        // The Kong CRDs the lock installs are the ones this KIC release installs.
        assert!(lock.files_of("kong").all(|f| f.tag == line.kong_crds.value));
        // The node images run the Kubernetes minor KIC tests.
        let tested = line.kubernetes_tested.value;
        let minor = &tested[..tested.rfind('.').unwrap()];
        for node in ["k3s", "kind-node"] {
            let tag = image_version(&lock.image(node).image).unwrap();
            assert!(tag.starts_with(&format!("{minor}.")), "{node}: {tag}");
        }
    }

    #[test]
    fn every_image_has_a_digest_or_says_why_not() {
        let lock = Lock::builtin();
        for i in &lock.images {
            assert!(
                i.digest.is_some() || i.why.is_some(),
                "{}: digest or why",
                i.name
            );
            assert!(
                i.source.contains('@'),
                "{}: the source names a tag or commit",
                i.name
            );
        }
        // The ones a public source states a digest for.
        for name in ["kind-node", "kong", "kong-ingress-controller"] {
            assert!(lock.image(name).digest.is_some(), "{name}");
        }
    }

    fn lock_with(image_lines: &str) -> Result<Lock, LockError> {
        let mut text = String::from("files: []\nimages:\n");
        for (name, _) in NEEDED {
            if !image_lines.contains(&format!("name: {name},")) {
                text.push_str(&format!(
                    "  - {{name: {name}, addon: x, image: \"r/{name}:1\", source: \"a@b c\", why: none stated}}\n"
                ));
            }
        }
        text.push_str(image_lines);
        Lock::parse(&text, "test.yaml")
    }

    #[test]
    fn a_bad_lock_is_refused_naming_the_image_and_what_to_do() {
        assert!(lock_with("").is_ok());
        let err =
            lock_with("  - {name: kong, addon: kong, image: \"kong:3.9.3\", source: \"a@b c\"}\n")
                .unwrap_err()
                .to_string();
        assert!(
            err.contains("test.yaml: image kong") && err.contains("why"),
            "{err}"
        );
        let err = lock_with("  - {name: kong, addon: kong, image: \"kong:3.9.3\", digest: \"sha256:abc\", source: \"a@b c\"}\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("64 lowercase hex"), "{err}");
        let err = lock_with(
            "  - {name: kong-ingress-controller, addon: kong, image: \"kong/kubernetes-ingress-controller:3.4.0\", source: \"a@b c\", why: x}\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("GHSA-58mg-ww7q-xw3p") && err.contains("3.4.1"),
            "{err}"
        );
        let err = lock_with(
            "  - {name: kong, addon: kong, image: \"kong@sha256:00\", source: \"a@b c\", why: x}\n",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("repository:tag"), "{err}");
        let err = Lock::parse("files: []\nimages: []\n", "t.yaml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("no image named k3s"), "{err}");
    }

    #[test]
    fn mirror_urls_keep_the_upstream_layout() {
        let lock = Lock::builtin();
        let f = lock.files_of("metallb").next().unwrap();
        assert_eq!(
            f.mirror_url("http://m.local/gh/"),
            "http://m.local/gh/metallb/metallb/v0.15.3/config/manifests/metallb-native.yaml"
        );
    }
}
