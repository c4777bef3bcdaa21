//! The download cache (`$XDG_CACHE_HOME/gwlab`): pinned files fetched once,
//! checked against their sha256 and size before every use. A file that does
//! not match is never kept.

use std::path::{Path, PathBuf};

use super::lock::LockedFile;

#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("cannot download {file} from {url}: {source}")]
    Download {
        file: String,
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("cannot download {file} from {url}: HTTP {status}")]
    Status {
        file: String,
        url: String,
        status: reqwest::StatusCode,
    },
    #[error(
        "{file} from {url} does not match the lock: sha256 {actual} ({actual_size} bytes), expected {expected} ({expected_size} bytes); nothing was kept"
    )]
    Mismatch {
        file: String,
        url: String,
        expected: String,
        actual: String,
        expected_size: u64,
        actual_size: u64,
    },
    #[error("cache {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// Where the cache lives: `$XDG_CACHE_HOME/gwlab`, else `~/.cache/gwlab`.
pub(crate) fn default_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("XDG_CACHE_HOME").filter(|d| !d.is_empty()) {
        return PathBuf::from(d).join("gwlab");
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    home.join(".cache").join("gwlab")
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, bytes);
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

#[derive(Debug, Clone)]
pub struct Cache {
    pub dir: PathBuf,
    /// A mirror keeping the upstream layout (`<mirror>/<owner>/<repo>/<tag>/<path>`).
    pub mirror: Option<String>,
}

impl Cache {
    pub fn new(dir: PathBuf, mirror: Option<String>) -> Self {
        Cache { dir, mirror }
    }

    /// The cache path of a locked file.
    pub fn path(&self, f: &LockedFile) -> PathBuf {
        self.dir
            .join("files")
            .join(&f.repo)
            .join(&f.tag)
            .join(&f.path)
    }

    fn source(&self, f: &LockedFile) -> String {
        match &self.mirror {
            Some(m) => f.mirror_url(m),
            None => f.url.clone(),
        }
    }

    /// Whether the cached copy exists and matches the lock.
    pub fn verify(&self, f: &LockedFile) -> Result<bool, CacheError> {
        let path = self.path(f);
        match std::fs::read(&path) {
            Ok(bytes) => Ok(bytes.len() as u64 == f.size && sha256_hex(&bytes) == f.sha256),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(io(&path, e)),
        }
    }

    /// The file's bytes: from the cache when they match, else downloaded,
    /// checked, and only then stored.
    pub async fn get(
        &self,
        client: &reqwest::Client,
        f: &LockedFile,
    ) -> Result<Vec<u8>, CacheError> {
        let path = self.path(f);
        if self.verify(f)? {
            return std::fs::read(&path).map_err(|e| io(&path, e));
        }
        let url = self.source(f);
        let download = |source: reqwest::Error| CacheError::Download {
            file: f.file_name().into(),
            url: url.clone(),
            source,
        };
        let resp = client.get(&url).send().await.map_err(download)?;
        if !resp.status().is_success() {
            return Err(CacheError::Status {
                file: f.file_name().into(),
                url: url.clone(),
                status: resp.status(),
            });
        }
        let bytes = resp.bytes().await.map_err(download)?.to_vec();
        let actual = sha256_hex(&bytes);
        if actual != f.sha256 || bytes.len() as u64 != f.size {
            // A stale copy of the same name must not survive either.
            let _ = std::fs::remove_file(&path);
            return Err(CacheError::Mismatch {
                file: f.file_name().into(),
                url,
                expected: f.sha256.clone(),
                actual,
                expected_size: f.size,
                actual_size: bytes.len() as u64,
            });
        }
        write_atomically(&path, &bytes)?;
        Ok(bytes)
    }
}

fn io(path: &Path, source: std::io::Error) -> CacheError {
    CacheError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Writes through a temporary file in the same directory, so a reader never
/// sees half a file.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), CacheError> {
    let dir = path.parent().expect("cache paths have a parent");
    std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    replace_file(path, bytes).map_err(|e| io(path, e))
}

/// Replaces `path` (in an existing directory) with `bytes` through a
/// temporary file beside it and a rename: a reader, or a crash, sees the old
/// file or the new one, never half of one.
pub(crate) fn replace_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.part-{}",
        path.file_name().unwrap_or_default().to_string_lossy(),
        std::process::id()
    ));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn sha256_of_known_input() {
        assert_eq!(
            super::sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
