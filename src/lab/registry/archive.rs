//! One image as an OCI-layout archive that k3s imports at start: the
//! registry's own index (so the image keeps its index digest once imported,
//! and a pod spec naming `repo:tag@sha256:<index>` finds it with no network),
//! and the manifest, config and layers of this machine's platform only, each
//! byte for byte as the registry served it and checked against its digest.
//! The other platforms' blobs are left out: containerd's import skips
//! content an index names but the archive lacks when asked to, as k3s asks
//! (k3s-io/k3s `pkg/agent/containerd`, import `WithSkipMissing`).

use std::path::{Path, PathBuf};

use serde_json::json;

use super::{ImageRef, Manifest, Registry, RegistryError, platform_entry};

/// What was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Archived {
    pub path: PathBuf,
    /// The digest the registry served for the reference (an index, usually).
    pub digest: String,
    /// The manifest of this machine's platform.
    pub platform_digest: String,
    pub size: u64,
}

/// The image `image` names (by digest when it has one, else by tag), for
/// linux/`arch`, written to `out` through a temporary file: an archive
/// that is there is whole.
pub async fn write_archive(
    registry: &Registry,
    image: &ImageRef,
    arch: &str,
    out: &Path,
) -> Result<Archived, RegistryError> {
    let top = registry.manifest(image, image.wanted()).await?;
    let platform = if top.is_index() {
        let index = top.json().map_err(|e| unreadable(image, "the index", e))?;
        let entry = platform_entry(&index, arch).ok_or_else(|| RegistryError::NoPlatform {
            image: image.to_string(),
            arch: arch.into(),
        })?;
        let digest = entry["digest"]
            .as_str()
            .ok_or_else(|| unreadable(image, "the index", "an entry without a digest"))?;
        Some(registry.manifest(image, digest).await?)
    } else {
        None
    };
    let manifest = platform.as_ref().unwrap_or(&top);
    let parsed = manifest
        .json()
        .map_err(|e| unreadable(image, "the manifest", e))?;
    let mut blobs: Vec<String> = Vec::new();
    // A layer an image repeats is fetched and stored once.
    for d in std::iter::once(&parsed["config"])
        .chain(parsed["layers"].as_array().into_iter().flatten())
        .map(|b| b["digest"].as_str())
    {
        let d = d.ok_or_else(|| unreadable(image, "the manifest", "a blob without a digest"))?;
        if !blobs.iter().any(|b| b == d) {
            blobs.push(d.to_string());
        }
    }

    let work = partial(out, "blobs");
    let io = |p: &Path| {
        let path = p.display().to_string();
        move |source| RegistryError::Io { path, source }
    };
    std::fs::create_dir_all(&work).map_err(io(&work))?;
    let written = async {
        for d in &blobs {
            registry.blob_to_file(image, d, &work.join(hex(d))).await?;
        }
        let tar_path = partial(out, "tar");
        write_tar(image, &top, platform.as_ref(), &blobs, &work, &tar_path)
            .map_err(io(&tar_path))?;
        std::fs::rename(&tar_path, out).map_err(io(out))?;
        std::fs::metadata(out).map(|m| m.len()).map_err(io(out))
    }
    .await;
    let _ = std::fs::remove_dir_all(&work);
    Ok(Archived {
        path: out.to_path_buf(),
        digest: top.digest.clone(),
        platform_digest: manifest.digest.clone(),
        size: written?,
    })
}

fn unreadable(image: &ImageRef, what: &str, detail: impl std::fmt::Display) -> RegistryError {
    RegistryError::Unreadable {
        what: format!("{what} of {image}"),
        url: image.api_base(),
        detail: detail.to_string(),
    }
}

fn partial(out: &Path, what: &str) -> PathBuf {
    let mut name = out.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".partial-{what}"));
    out.with_file_name(name)
}

fn hex(digest: &str) -> &str {
    digest.strip_prefix("sha256:").unwrap_or(digest)
}

/// The OCI image layout (`oci-layout`, `index.json`, `blobs/sha256/…`) as a tar.
fn write_tar(
    image: &ImageRef,
    top: &Manifest,
    platform: Option<&Manifest>,
    blobs: &[String],
    work: &Path,
    path: &Path,
) -> std::io::Result<()> {
    let mut tar = tar::Builder::new(std::fs::File::create(path)?);
    let mut annotations = serde_json::Map::new();
    annotations.insert("io.containerd.image.name".into(), json!(image.full_name()));
    if let Some(tag) = &image.tag {
        annotations.insert("org.opencontainers.image.ref.name".into(), json!(tag));
    }
    let index = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{
            "mediaType": top.media_type,
            "digest": top.digest,
            "size": top.bytes.len(),
            "annotations": annotations,
        }],
    });
    add(&mut tar, "oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#)?;
    add(
        &mut tar,
        "index.json",
        &serde_json::to_vec(&index).expect("JSON"),
    )?;
    for m in std::iter::once(top).chain(platform) {
        add(
            &mut tar,
            &format!("blobs/sha256/{}", hex(&m.digest)),
            &m.bytes,
        )?;
    }
    for d in blobs {
        let mut file = std::fs::File::open(work.join(hex(d)))?;
        tar.append_file(format!("blobs/sha256/{}", hex(d)), &mut file)?;
    }
    tar.into_inner()?.sync_all()
}

fn add(tar: &mut tar::Builder<std::fs::File>, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    let mut header = tar::Header::new_ustar();
    header.set_size(bytes.len() as u64);
    header.set_mode(0o644);
    header.set_cksum();
    tar.append_data(&mut header, name, bytes)
}
