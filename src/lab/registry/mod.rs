//! Speaking to container registries over the OCI distribution API: a tag's
//! index digest (for `gwlab lock resolve` and for pins the lock leaves open),
//! manifests and blobs checked against their sha256 as they arrive, and an
//! OCI-layout archive of one image for k3s to import. Anonymous access only,
//! with the bearer-token flow Docker Hub, quay.io and registry.k8s.io use.

mod archive;
mod auth;
mod reference;

use std::collections::HashMap;
use std::path::Path;

use tokio::sync::Mutex;

pub use archive::{Archived, write_archive};
pub use reference::{ImageRef, NotAReference};

use super::cache::sha256_hex;

/// The manifest kinds gwlab accepts, most wanted first: a multi-platform
/// index (OCI or Docker's manifest list), then a single-platform manifest.
pub(crate) const INDEX_TYPES: &[&str] = &[
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
];
pub(crate) const MANIFEST_TYPES: &[&str] = &[
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
];

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("cannot reach {url}: {source}")]
    Connect {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("{url} answered HTTP {status}{}", hint(*status))]
    Status {
        url: String,
        status: reqwest::StatusCode,
    },
    #[error(
        "{registry} asks for credentials ({challenge}); gwlab reads public images anonymously only"
    )]
    NeedsCredentials { registry: String, challenge: String },
    #[error("the token service at {realm} gave no usable token: {detail}")]
    Token { realm: String, detail: String },
    #[error("{what} from {url} has sha256 {actual}, not {expected}: nothing was kept")]
    DigestMismatch {
        what: String,
        url: String,
        expected: String,
        actual: String,
    },
    #[error("{what} from {url} is not what gwlab can read: {detail}")]
    Unreadable {
        what: String,
        url: String,
        detail: String,
    },
    #[error("{image}: the index lists no linux/{arch} image")]
    NoPlatform { image: String, arch: String },
    #[error("cannot write {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

fn hint(status: reqwest::StatusCode) -> &'static str {
    match status.as_u16() {
        404 => " (not found: the tag or digest is not served there)",
        429 => " (too many requests: the registry limits anonymous pulls; wait, or use a mirror)",
        _ => "",
    }
}

impl RegistryError {
    /// No connection could be made at all (as opposed to a wrong answer).
    pub(crate) fn is_unreachable(&self) -> bool {
        matches!(self, RegistryError::Connect { source, .. } if source.is_connect() || source.is_timeout())
    }
}

/// A manifest or index, as the registry sent it.
#[derive(Debug, Clone)]
pub struct Manifest {
    pub media_type: String,
    /// The sha256 of `bytes`, checked against what was asked for.
    pub digest: String,
    pub bytes: Vec<u8>,
}

impl Manifest {
    pub(crate) fn is_index(&self) -> bool {
        INDEX_TYPES.contains(&self.media_type.as_str())
    }

    pub fn json(&self) -> Result<serde_json::Value, serde_json::Error> {
        serde_json::from_slice(&self.bytes)
    }
}

/// A client for any number of registries, keeping one pull token per repository.
pub struct Registry {
    http: reqwest::Client,
    tokens: Mutex<HashMap<(String, String), String>>,
}

impl Registry {
    pub fn new(http: reqwest::Client) -> Self {
        Registry {
            http,
            tokens: Mutex::new(HashMap::new()),
        }
    }

    /// The manifest or index `wanted` names (a tag or a digest), checked:
    /// its sha256 equals the digest asked for, and the registry's own
    /// `Docker-Content-Digest` where it sends one.
    pub async fn manifest(
        &self,
        image: &ImageRef,
        wanted: &str,
    ) -> Result<Manifest, RegistryError> {
        let url = format!(
            "{}/v2/{}/manifests/{wanted}",
            image.api_base(),
            image.repository
        );
        let accept = [INDEX_TYPES, MANIFEST_TYPES].concat().join(", ");
        let response = self.get(image, &url, Some(&accept)).await?;
        let stated = response
            .headers()
            .get("docker-content-digest")
            .and_then(|v| v.to_str().ok())
            .map(String::from);
        let media_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or(v).trim().to_string());
        let bytes = response
            .bytes()
            .await
            .map_err(|source| RegistryError::Connect {
                url: url.clone(),
                source,
            })?
            .to_vec();
        let digest = format!("sha256:{}", sha256_hex(&bytes));
        let expected = if super::lock::is_digest(wanted) {
            Some(wanted.to_string())
        } else {
            stated
        };
        if let Some(expected) = expected
            && expected != digest
        {
            return Err(RegistryError::DigestMismatch {
                what: format!("the manifest of {image}"),
                url,
                expected,
                actual: digest,
            });
        }
        // Some registries label manifests loosely; the document says what it is.
        let declared = serde_json::from_slice::<serde_json::Value>(&bytes)
            .ok()
            .and_then(|v| v["mediaType"].as_str().map(String::from));
        let media_type = declared
            .or(media_type)
            .ok_or_else(|| RegistryError::Unreadable {
                what: format!("the manifest of {image}"),
                url: url.clone(),
                detail: "no media type".into(),
            })?;
        Ok(Manifest {
            media_type,
            digest,
            bytes,
        })
    }

    /// A blob written to `out` as it arrives, its sha256 checked against
    /// `digest`; nothing is left at `out` when it differs.
    pub(crate) async fn blob_to_file(
        &self,
        image: &ImageRef,
        digest: &str,
        out: &Path,
    ) -> Result<u64, RegistryError> {
        use std::io::Write;
        let url = format!(
            "{}/v2/{}/blobs/{digest}",
            image.api_base(),
            image.repository
        );
        let mut response = self.get(image, &url, None).await?;
        let io = |source| RegistryError::Io {
            path: out.display().to_string(),
            source,
        };
        let mut file = std::fs::File::create(out).map_err(io)?;
        let mut hasher = ring::digest::Context::new(&ring::digest::SHA256);
        let mut size = 0u64;
        loop {
            let chunk = response
                .chunk()
                .await
                .map_err(|source| RegistryError::Connect {
                    url: url.clone(),
                    source,
                });
            let chunk = match chunk {
                Ok(Some(c)) => c,
                Ok(None) => break,
                Err(e) => {
                    let _ = std::fs::remove_file(out);
                    return Err(e);
                }
            };
            hasher.update(&chunk);
            size += chunk.len() as u64;
            if let Err(e) = file.write_all(&chunk) {
                let _ = std::fs::remove_file(out);
                return Err(io(e));
            }
        }
        let actual = format!(
            "sha256:{}",
            hasher
                .finish()
                .as_ref()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        );
        if actual != digest {
            let _ = std::fs::remove_file(out);
            return Err(RegistryError::DigestMismatch {
                what: format!("a layer of {image}"),
                url,
                expected: digest.into(),
                actual,
            });
        }
        Ok(size)
    }

    /// A GET, with the registry's bearer token fetched on its challenge.
    async fn get(
        &self,
        image: &ImageRef,
        url: &str,
        accept: Option<&str>,
    ) -> Result<reqwest::Response, RegistryError> {
        let key = (image.registry.clone(), image.repository.clone());
        for attempt in 0..2 {
            let mut request = self.http.get(url);
            if let Some(a) = accept {
                request = request.header(reqwest::header::ACCEPT, a);
            }
            if let Some(token) = self.tokens.lock().await.get(&key) {
                request = request.bearer_auth(token);
            }
            let response = request
                .send()
                .await
                .map_err(|source| RegistryError::Connect {
                    url: url.into(),
                    source,
                })?;
            let status = response.status();
            if status == reqwest::StatusCode::UNAUTHORIZED && attempt == 0 {
                let challenge = response
                    .headers()
                    .get(reqwest::header::WWW_AUTHENTICATE)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_string();
                let token =
                    auth::token(&self.http, &image.registry, &image.repository, &challenge).await?;
                self.tokens.lock().await.insert(key.clone(), token);
                continue;
            }
            if !status.is_success() {
                return Err(RegistryError::Status {
                    url: url.into(),
                    status,
                });
            }
            return Ok(response);
        }
        Err(RegistryError::Status {
            url: url.into(),
            status: reqwest::StatusCode::UNAUTHORIZED,
        })
    }
}

/// Kubernetes' and Docker's name for this machine's architecture.
pub(crate) fn host_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    }
}

/// The entry of an index for linux on `arch` (arm64 accepts no variant or v8).
pub(crate) fn platform_entry<'a>(
    index: &'a serde_json::Value,
    arch: &str,
) -> Option<&'a serde_json::Value> {
    index["manifests"].as_array()?.iter().find(|m| {
        let p = &m["platform"];
        p["os"] == "linux"
            && p["architecture"] == arch
            && match p["variant"].as_str() {
                None => true,
                Some(v) => arch == "arm64" && v == "v8",
            }
    })
}

/// An HTTP client for registries: no overall deadline (a layer can be large
/// on a slow network), but connecting and every read are bounded.
pub(crate) fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(std::time::Duration::from_secs(15))
        .read_timeout(std::time::Duration::from_secs(60))
        .build()
        .expect("an HTTP client")
}
