//! `gwlab pull`: every pinned file into the cache (checked), every image onto
//! the Docker engine, and for k3s its release's air-gap bundle and an image
//! archive per lab image, which it imports at start, so that `gwlab up` then
//! works with no network: the workshop case.

use std::path::Path;

use bollard::Docker;
use futures_util::StreamExt;

use crate::cli::{ProviderKind, PullArgs};
use crate::exit;
use crate::lab::airgap::Bundle;
use crate::lab::cache::{Cache, CacheError, default_dir};
use crate::lab::client::{http_client, images_dir};
use crate::lab::docker;
use crate::lab::lock::{Lock, LockedImage};

/// Why an image could not be saved as an archive for k3s.
#[derive(Debug, thiserror::Error)]
enum SaveError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Docker(#[from] bollard::errors::Error),
}

pub async fn run(args: &PullArgs) -> i32 {
    let lock = Lock::builtin();
    let mut failed = match fetch_files(&lock, args).await {
        Fetched::Failed(n) => n,
        Fetched::Unreachable(e) => {
            // Every other download and pull would fail the same way: one line.
            eprintln!(
                "error: no connection could be made ({e}): the network (or the mirror) is unreachable, and `gwlab pull` needs it; nothing more was tried"
            );
            return exit::FAILED;
        }
    };
    let provider = ProviderKind::from(args.provider);
    if provider == ProviderKind::K3s {
        failed += fetch_k3s_bundle(&lock, args).await;
    }
    let docker = match docker::connect().await {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::FAILED;
        }
    };
    let wanted = wanted_images(&lock, provider);
    failed += pull_images(&docker, &wanted).await;
    if provider == ProviderKind::K3s {
        match save_for_k3s(&docker, &wanted).await {
            Ok(n) => failed += n,
            Err(code) => return code,
        }
    }
    if failed > 0 {
        eprintln!(
            "{failed} item(s) could not be fetched; `gwlab up` needs them (or network access)"
        );
        exit::FAILED
    } else {
        exit::OK
    }
}

/// What fetching the pinned files came to.
enum Fetched {
    /// How many could not be fetched.
    Failed(usize),
    /// No connection could be made at all: the network is down or blocked.
    Unreachable(CacheError),
}

/// Every pinned file into the cache, stopping at the first download that
/// cannot connect.
async fn fetch_files(lock: &Lock, args: &PullArgs) -> Fetched {
    let cache = Cache::new(default_dir(), args.mirror.clone());
    let http = http_client();
    let mut failed = 0;
    for f in &lock.files {
        match cache.get(&http, f).await {
            Ok(_) => println!("ok    {} {} ({})", f.repo, f.path, &f.sha256[..12]),
            Err(e) if cannot_connect(&e) => return Fetched::Unreachable(e),
            Err(e) => {
                failed += 1;
                eprintln!("error: {e}");
            }
        }
    }
    Fetched::Failed(failed)
}

/// A download that found no way to the server (as opposed to an answer that
/// was wrong): connection refused, no route, DNS failure, or timeout.
fn cannot_connect(e: &CacheError) -> bool {
    matches!(e, CacheError::Download { source, .. } if source.is_connect() || source.is_timeout())
}

/// The air-gap bundle of the pinned k3s release (its system images), which
/// `gwlab up` mounts where k3s imports images at start; how many failed.
async fn fetch_k3s_bundle(lock: &Lock, args: &PullArgs) -> usize {
    let fetched = match Bundle::for_host(lock) {
        Ok(bundle) => {
            bundle
                .fetch(&http_client(), &default_dir(), args.mirror.as_deref())
                .await
        }
        Err(e) => Err(e),
    };
    match fetched {
        Ok(path) => {
            println!("ok    {} (k3s imports it at start)", path.display());
            0
        }
        Err(e) => {
            eprintln!("error: {e}");
            1
        }
    }
}

/// The images of every addon, and of the chosen provider only.
fn wanted_images(lock: &Lock, provider: ProviderKind) -> Vec<&LockedImage> {
    lock.images
        .iter()
        .filter(|i| match i.addon.as_str() {
            "provider-k3s" => provider == ProviderKind::K3s,
            "provider-kind" => provider == ProviderKind::Kind,
            _ => true,
        })
        .collect()
}

async fn present(docker: &Docker, reference: &str) -> bool {
    docker::image_present(docker, reference)
        .await
        .unwrap_or(false)
}

/// Every image not yet on the engine, pulled; how many could not be.
async fn pull_images(docker: &Docker, wanted: &[&LockedImage]) -> usize {
    let mut failed = 0;
    for image in wanted {
        let reference = image.reference();
        if present(docker, &reference).await {
            println!("ok    {reference} (already here)");
            continue;
        }
        match pull(docker, &reference).await {
            Ok(()) => println!("ok    {reference}"),
            Err(e) => {
                failed += 1;
                eprintln!("error: cannot pull {reference}: {e}");
            }
        }
    }
    failed
}

/// One image pulled, up to the first error the engine reports.
async fn pull(docker: &Docker, reference: &str) -> Result<(), bollard::errors::Error> {
    let opts = bollard::query_parameters::CreateImageOptionsBuilder::default()
        .from_image(reference)
        .build();
    let mut stream = docker.create_image(Some(opts), None, None);
    while let Some(item) = stream.next().await {
        item?;
    }
    Ok(())
}

/// k3s imports every archive in its images directory when it starts; one
/// archive per image, so that one that cannot be saved loses no other.
/// How many could not be saved; the error is the exit code.
async fn save_for_k3s(docker: &Docker, wanted: &[&LockedImage]) -> Result<usize, i32> {
    let dir = images_dir();
    if let Err(e) = std::fs::create_dir_all(&dir) {
        eprintln!("error: cannot create {}: {e}", dir.display());
        return Err(exit::FAILED);
    }
    let mut failed = 0;
    for image in wanted.iter().filter(|i| !i.addon.starts_with("provider-")) {
        let reference = image.reference();
        if !present(docker, &reference).await {
            continue;
        }
        let path = dir.join(format!("{}.tar", image.name));
        match export(docker, &reference, &path).await {
            Ok(()) => println!("ok    {} (k3s imports it at start)", path.display()),
            Err(e) => {
                failed += 1;
                let _ = std::fs::remove_file(&path);
                eprintln!("error: cannot save {reference} to {}: {e}", path.display());
            }
        }
    }
    Ok(failed)
}

/// One image from the engine, written as an archive at `path`.
async fn export(docker: &Docker, reference: &str, path: &Path) -> Result<(), SaveError> {
    let mut out = std::fs::File::create(path)?;
    let mut stream = docker.export_images(&[reference]);
    while let Some(chunk) = stream.next().await {
        std::io::Write::write_all(&mut out, &chunk?)?;
    }
    Ok(())
}
