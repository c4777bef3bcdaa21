//! The lock file (`manifests/lock.yaml`): every upstream file gwlab installs,
//! pinned by repository, tag, path, sha256 and size, and every image, by tag
//! (and digest where known).

use serde::Deserialize;

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

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockedImage {
    pub name: String,
    pub addon: String,
    pub image: String,
    pub digest: Option<String>,
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
    pub fn mirror_url(&self, mirror: &str) -> String {
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

impl Lock {
    /// gwlab's own lock, built into the binary.
    pub fn builtin() -> Lock {
        serde_saphyr::from_str(LOCK).expect("manifests/lock.yaml is valid")
    }

    pub fn files_of<'a>(&'a self, addon: &'a str) -> impl Iterator<Item = &'a LockedFile> + 'a {
        self.files.iter().filter(move |f| f.addon == addon)
    }

    pub fn image(&self, name: &str) -> &LockedImage {
        self.images
            .iter()
            .find(|i| i.name == name)
            .unwrap_or_else(|| panic!("image {name} is in the lock"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lock_pins_every_addon_file_with_a_consistent_url() {
        let lock = Lock::builtin();
        assert_eq!(
            lock.files_of("crds").count(),
            5,
            "the five standard-channel CRDs"
        );
        assert_eq!(lock.files_of("metallb").count(), 1);
        assert_eq!(
            lock.files_of("kong").count(),
            12,
            "the Kong CRDs KIC 3.4 needs"
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
        for name in [
            "k3s",
            "kind-node",
            "kong",
            "kong-ingress-controller",
            "metallb-controller",
            "metallb-speaker",
            "echo-basic",
        ] {
            let i = lock.image(name);
            assert!(i.image.contains(':'), "{name} is pinned by tag");
        }
        assert!(lock.image("kind-node").reference().contains("@sha256:"));
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
