//! What `gwlab pull` fetched, per image: the digest the registry (or the
//! Docker engine) gave for it, and where its archive is. `gwlab up` names
//! these digests where the lock pins none; `gwlab status` shows them.
//! Kept in the cache directory, as `images/pulled.json`.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::LabError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PulledImage {
    /// The lock's name for the image.
    pub name: String,
    /// `repository:tag`, as the lock names it.
    pub image: String,
    /// The index (or manifest) digest that was pulled.
    pub digest: String,
    /// Whether the lock pinned that digest (else it is what the tag pointed at).
    pub pinned: bool,
    /// `linux/amd64`, ...
    pub platform: String,
    /// The archive k3s imports, for the addons' images.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archive: Option<PathBuf>,
    /// Where it went: `archive` (a file for k3s), `engine` (the Docker
    /// engine), or `digest` (only resolved: the node pulls it by digest).
    pub kept: Kept,
    /// When, as RFC 3339.
    pub pulled_at: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kept {
    Archive,
    Engine,
    Digest,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullRecord {
    pub images: Vec<PulledImage>,
}

impl PullRecord {
    pub fn path(cache_dir: &Path) -> PathBuf {
        cache_dir.join("images").join("pulled.json")
    }

    /// The record, or an empty one where nothing was pulled yet.
    pub fn load(cache_dir: &Path) -> Result<PullRecord, LabError> {
        let path = Self::path(cache_dir);
        match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text).map_err(LabError::data(format!(
                "{} (remove it and run `gwlab pull` again)",
                path.display()
            ))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(PullRecord::default()),
            Err(e) => Err(LabError::io(path.display().to_string())(e)),
        }
    }

    /// Written through a temporary file, so a record is never half written.
    pub fn save(&self, cache_dir: &Path) -> Result<(), LabError> {
        let path = Self::path(cache_dir);
        let io = |e| LabError::io(format!("cannot write {}", path.display()))(e);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let tmp = path.with_extension("json.partial");
        std::fs::write(
            &tmp,
            serde_json::to_string_pretty(self).expect("the record serialises"),
        )
        .map_err(io)?;
        std::fs::rename(&tmp, &path).map_err(io)
    }

    /// The entry of the image `name` pinned as `image` (an entry for another
    /// tag is stale: the lock moved on since).
    pub fn get(&self, name: &str, image: &str) -> Option<&PulledImage> {
        self.images
            .iter()
            .find(|p| p.name == name && p.image == image)
    }

    /// Records `pulled`, replacing the image's earlier entry; returns that
    /// earlier entry when its digest was another (the tag moved).
    pub fn record(&mut self, pulled: PulledImage) -> Option<PulledImage> {
        let earlier = self
            .images
            .iter()
            .position(|p| p.name == pulled.name)
            .map(|i| self.images.remove(i));
        let moved = earlier.filter(|e| e.image == pulled.image && e.digest != pulled.digest);
        self.images.push(pulled);
        self.images.sort_by(|a, b| a.name.cmp(&b.name));
        moved
    }
}

/// Now, as RFC 3339 in UTC.
pub fn now() -> String {
    jiff::Timestamp::now().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pulled(name: &str, digest: &str) -> PulledImage {
        PulledImage {
            name: name.into(),
            image: format!("r/{name}:1"),
            digest: digest.into(),
            pinned: false,
            platform: "linux/amd64".into(),
            archive: None,
            kept: Kept::Digest,
            pulled_at: now(),
        }
    }

    #[test]
    fn a_record_keeps_one_entry_per_image_and_says_when_a_tag_moved() {
        let dir = tempfile::tempdir().unwrap();
        let mut r = PullRecord::load(dir.path()).unwrap();
        assert!(r.images.is_empty());
        assert!(r.record(pulled("b", "sha256:1")).is_none());
        assert!(r.record(pulled("a", "sha256:2")).is_none());
        assert!(r.record(pulled("b", "sha256:1")).is_none(), "same digest");
        let moved = r.record(pulled("b", "sha256:3")).expect("the tag moved");
        assert_eq!(moved.digest, "sha256:1");
        r.save(dir.path()).unwrap();
        let back = PullRecord::load(dir.path()).unwrap();
        assert_eq!(back, r);
        assert_eq!(back.images.len(), 2);
        assert_eq!(back.get("b", "r/b:1").unwrap().digest, "sha256:3");
        assert!(back.get("b", "r/b:2").is_none(), "another tag is stale");
    }
}
