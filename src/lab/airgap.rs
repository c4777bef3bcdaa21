//! k3s's own images (pause, CoreDNS, local-path, metrics-server, ...) come
//! from the air-gap bundle of its release, not from gwlab's lock. `gwlab pull`
//! fetches the bundle of the pinned release for this machine's architecture
//! and checks it against the sums file that same release publishes: no sum of
//! the bundle is pinned here, so the first download is trusted as far as that
//! file is. The sum it verified is recorded beside the bundle, so that a copy
//! changed afterwards is caught before `gwlab up` hands it to k3s.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use super::cache::CacheError;
use super::lock::Lock;

/// Where k3s publishes its releases, in the layout a mirror keeps.
const RELEASES: &str = "https://github.com";
const REPO: &str = "k3s-io/k3s";

#[derive(Debug, thiserror::Error)]
pub enum AirgapError {
    #[error("k3s publishes no air-gap bundle for the architecture {0}")]
    Arch(String),
    #[error("the k3s image {0} does not name a k3s release (a tag like v1.32.11-k3s3)")]
    NotARelease(String),
    #[error(transparent)]
    Fetch(#[from] CacheError),
    #[error("{sums} has no sum for {file}; nothing was kept")]
    NoSum { sums: String, file: String },
    #[error(
        "{file} from {url} does not match its sum in {sums}: sha256 {actual}, expected {expected}; nothing was kept"
    )]
    Mismatch {
        file: String,
        url: String,
        sums: String,
        expected: String,
        actual: String,
    },
    #[error(
        "{path} changed since `gwlab pull` verified it: sha256 {actual}, recorded {expected}; run `gwlab pull` again"
    )]
    Tampered {
        path: String,
        expected: String,
        actual: String,
    },
}

/// The air-gap bundle of one k3s release for one architecture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bundle {
    /// The release as GitHub names it: `v1.32.11+k3s3`.
    pub release: String,
    /// k3s's name for the architecture: `amd64`, `arm64`.
    pub arch: &'static str,
}

impl Bundle {
    /// The bundle of the lock's k3s image for the machine gwlab runs on
    /// (the Docker engine runs containers of that architecture).
    pub(crate) fn for_host(lock: &Lock) -> Result<Bundle, AirgapError> {
        Bundle::for_image(&lock.image("k3s").image, std::env::consts::ARCH)
    }

    /// Image tags cannot hold `+`, so `rancher/k3s:v1.32.11-k3s3` is the
    /// release `v1.32.11+k3s3`.
    pub fn for_image(image: &str, rust_arch: &str) -> Result<Bundle, AirgapError> {
        let arch = match rust_arch {
            "x86_64" => "amd64",
            "aarch64" => "arm64",
            other => return Err(AirgapError::Arch(other.into())),
        };
        let not_a_release = || AirgapError::NotARelease(image.into());
        let tag = image
            .split('@')
            .next()
            .and_then(|i| i.rsplit_once(':'))
            .map(|(_, tag)| tag)
            .ok_or_else(not_a_release)?;
        let (version, build) = tag.rsplit_once("-k3s").ok_or_else(not_a_release)?;
        if !version.starts_with('v')
            || build.is_empty()
            || !build.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(not_a_release());
        }
        Ok(Bundle {
            release: format!("{version}+k3s{build}"),
            arch,
        })
    }

    /// The release asset k3s imports from its images directory.
    pub fn file_name(&self) -> String {
        format!("k3s-airgap-images-{}.tar.zst", self.arch)
    }

    /// The release asset holding the sha256 of every other asset.
    pub(crate) fn sums_name(&self) -> String {
        format!("sha256sum-{}.txt", self.arch)
    }

    /// Where an asset of the release is served: GitHub, or a mirror keeping
    /// GitHub's layout (`<mirror>/k3s-io/k3s/releases/download/<tag>/<asset>`).
    pub fn url(&self, asset: &str, mirror: Option<&str>) -> String {
        let base = mirror.map_or(RELEASES, |m| m.trim_end_matches('/'));
        format!(
            "{base}/{REPO}/releases/download/{}/{asset}",
            self.release.replace('+', "%2B")
        )
    }

    /// The bundle's place in the cache.
    pub fn path(&self, cache_dir: &Path) -> PathBuf {
        cache_dir
            .join("files")
            .join(REPO)
            .join(&self.release)
            .join(self.file_name())
    }

    /// The sum `pull` verified, in `sha256sum` format.
    pub fn record(&self, cache_dir: &Path) -> PathBuf {
        let mut name = self.path(cache_dir).into_os_string();
        name.push(".sha256");
        PathBuf::from(name)
    }

    /// The cached bundle when it is there and still has the sum `pull`
    /// verified; none when it was never fetched.
    pub fn verified(&self, cache_dir: &Path) -> Result<Option<PathBuf>, AirgapError> {
        let path = self.path(cache_dir);
        let record = self.record(cache_dir);
        let expected = match std::fs::read_to_string(&record) {
            Ok(text) => match sum_for(&text, &self.file_name()) {
                Some(sum) => sum,
                // A record gwlab did not write whole: as if never fetched.
                None => return Ok(None),
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io(&record, e).into()),
        };
        let actual = match hash_file(&path) {
            Ok(sum) => sum,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io(&path, e).into()),
        };
        if actual != expected {
            return Err(AirgapError::Tampered {
                path: path.display().to_string(),
                expected,
                actual,
            });
        }
        Ok(Some(path))
    }

    /// The bundle in the cache: kept when it still verifies, else fetched
    /// with the release's sums file, checked, and only then kept.
    pub async fn fetch(
        &self,
        client: &reqwest::Client,
        cache_dir: &Path,
        mirror: Option<&str>,
    ) -> Result<PathBuf, AirgapError> {
        match self.verified(cache_dir) {
            Ok(Some(path)) => return Ok(path),
            // A changed copy is replaced by a checked one.
            Ok(None) | Err(AirgapError::Tampered { .. }) => {}
            Err(e) => return Err(e),
        }
        let file = self.file_name();
        let sums_url = self.url(&self.sums_name(), mirror);
        let sums =
            String::from_utf8_lossy(&get(client, &sums_url, &self.sums_name()).await?).into_owned();
        let expected = sum_for(&sums, &file).ok_or_else(|| AirgapError::NoSum {
            sums: sums_url.clone(),
            file: file.clone(),
        })?;
        let path = self.path(cache_dir);
        let url = self.url(&file, mirror);
        let part = download(client, &url, &file, &path).await?;
        let actual = hash_file(&part).map_err(|e| io(&part, e))?;
        if actual != expected {
            let _ = std::fs::remove_file(&part);
            // A stale copy of the same name must not survive either.
            let _ = std::fs::remove_file(&path);
            let _ = std::fs::remove_file(self.record(cache_dir));
            return Err(AirgapError::Mismatch {
                file,
                url,
                sums: sums_url,
                expected,
                actual,
            });
        }
        std::fs::rename(&part, &path).map_err(|e| {
            let _ = std::fs::remove_file(&part);
            io(&path, e)
        })?;
        let record = self.record(cache_dir);
        std::fs::write(&record, format!("{expected}  {file}\n")).map_err(|e| io(&record, e))?;
        Ok(path)
    }
}

/// The sum a `sha256sum` listing gives `file` (binary-mode `*` names too).
pub(crate) fn sum_for(listing: &str, file: &str) -> Option<String> {
    listing.lines().find_map(|line| {
        let (sum, name) = line.trim().split_once(char::is_whitespace)?;
        let name = name.trim_start();
        let name = name.strip_prefix('*').unwrap_or(name);
        (name == file && sum.len() == 64 && sum.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| sum.to_ascii_lowercase())
    })
}

/// The sha256 of a file read in pieces: the bundle is hundreds of megabytes.
fn hash_file(path: &Path) -> std::io::Result<String> {
    let mut f = std::fs::File::open(path)?;
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        ctx.update(&buf[..n]);
    }
    Ok(ctx
        .finish()
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

async fn response(
    client: &reqwest::Client,
    url: &str,
    file: &str,
) -> Result<reqwest::Response, CacheError> {
    let resp = client
        .get(url)
        .send()
        .await
        .map_err(|source| CacheError::Download {
            file: file.into(),
            url: url.into(),
            source,
        })?;
    if !resp.status().is_success() {
        return Err(CacheError::Status {
            file: file.into(),
            url: url.into(),
            status: resp.status(),
        });
    }
    Ok(resp)
}

/// A small file, whole.
async fn get(client: &reqwest::Client, url: &str, file: &str) -> Result<Vec<u8>, CacheError> {
    let resp = response(client, url, file).await?;
    let bytes = resp.bytes().await.map_err(|source| CacheError::Download {
        file: file.into(),
        url: url.into(),
        source,
    })?;
    Ok(bytes.to_vec())
}

/// The bundle, streamed into a temporary file beside `dest` (never into
/// memory whole); the temporary file's path. Removed on any error.
async fn download(
    client: &reqwest::Client,
    url: &str,
    file: &str,
    dest: &Path,
) -> Result<PathBuf, CacheError> {
    let dir = dest.parent().expect("cache paths have a parent");
    std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    let part = dir.join(format!(".{file}.part-{}", std::process::id()));
    let result = async {
        let mut resp = response(client, url, file).await?;
        let mut out = std::fs::File::create(&part).map_err(|e| io(&part, e))?;
        while let Some(chunk) = resp.chunk().await.map_err(|source| CacheError::Download {
            file: file.into(),
            url: url.into(),
            source,
        })? {
            out.write_all(&chunk).map_err(|e| io(&part, e))?;
        }
        out.flush().map_err(|e| io(&part, e))
    }
    .await;
    match result {
        Ok(()) => Ok(part),
        Err(e) => {
            let _ = std::fs::remove_file(&part);
            Err(e)
        }
    }
}

fn io(path: &Path, source: std::io::Error) -> CacheError {
    CacheError::Io {
        path: path.display().to_string(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::cache::sha256_hex;

    #[test]
    fn the_image_tag_names_the_release_and_the_host_its_architecture() {
        let b = Bundle::for_image("rancher/k3s:v1.32.11-k3s3", "x86_64").unwrap();
        assert_eq!(b.release, "v1.32.11+k3s3");
        assert_eq!(b.file_name(), "k3s-airgap-images-amd64.tar.zst");
        assert_eq!(b.sums_name(), "sha256sum-amd64.txt");
        assert_eq!(
            b.url(&b.file_name(), None),
            "https://github.com/k3s-io/k3s/releases/download/v1.32.11%2Bk3s3/k3s-airgap-images-amd64.tar.zst"
        );
        assert_eq!(
            b.url(&b.sums_name(), Some("http://m.local/gh/")),
            "http://m.local/gh/k3s-io/k3s/releases/download/v1.32.11%2Bk3s3/sha256sum-amd64.txt"
        );
        let arm = Bundle::for_image("rancher/k3s:v1.32.11-k3s3", "aarch64").unwrap();
        assert_eq!(arm.file_name(), "k3s-airgap-images-arm64.tar.zst");
        assert!(matches!(
            Bundle::for_image("rancher/k3s:v1.32.11-k3s3", "riscv64"),
            Err(AirgapError::Arch(_))
        ));
        for bad in [
            "rancher/k3s:latest",
            "rancher/k3s",
            "rancher/k3s:v1.32.11-k3s",
        ] {
            assert!(
                matches!(
                    Bundle::for_image(bad, "x86_64"),
                    Err(AirgapError::NotARelease(_))
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn the_lock_pins_a_k3s_release() {
        let lock = Lock::builtin();
        let b = Bundle::for_image(&lock.image("k3s").image, "x86_64").unwrap();
        assert_eq!(b.release, "v1.33.7+k3s3");
    }

    #[test]
    fn sums_are_read_as_sha256sum_writes_them() {
        let a = "a".repeat(64);
        let b = "B".repeat(64);
        let listing = format!(
            "{a}  k3s\n{b} *k3s-airgap-images-amd64.tar.zst\nnot-a-sum  k3s-airgap-images-amd64.tar\n"
        );
        assert_eq!(sum_for(&listing, "k3s").unwrap(), a);
        assert_eq!(
            sum_for(&listing, "k3s-airgap-images-amd64.tar.zst").unwrap(),
            "b".repeat(64)
        );
        assert_eq!(sum_for(&listing, "k3s-airgap-images-amd64.tar"), None);
        assert_eq!(sum_for(&listing, "k3s-airgap-images-arm64.tar.zst"), None);
    }

    #[test]
    fn hashing_in_pieces_equals_hashing_whole() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        let bytes: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&p, &bytes).unwrap();
        assert_eq!(hash_file(&p).unwrap(), sha256_hex(&bytes));
    }
}
