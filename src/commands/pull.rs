//! `gwlab pull`: every pinned file into the cache (checked), the node image
//! onto the Docker engine, the addons' images for the provider, and for k3s
//! its release's air-gap bundle, so that `gwlab up` then works with no
//! network: the workshop case. Every image is pulled by the digest the lock
//! pins (the registry must serve exactly that, or nothing is kept); an image
//! the lock pins no digest for is pulled by tag, and the digest it had is
//! recorded for `gwlab up` to name.

use bollard::Docker;
use futures_util::StreamExt;

use crate::cli::{ProviderKind, PullArgs};
use crate::exit;
use crate::lab::airgap::Bundle;
use crate::lab::cache::{Cache, CacheError, default_dir};
use crate::lab::client::{http_client, images_dir};
use crate::lab::docker;
use crate::lab::lock::{Lock, LockedImage};
use crate::lab::pulled::{Kept, PullRecord, PulledImage, now};
use crate::lab::registry::{self, ImageRef, Registry, RegistryError};

pub async fn run(args: &PullArgs) -> i32 {
    let lock = match Lock::chosen(args.lock.as_deref()) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::BAD_INPUT;
        }
    };
    let mut failed = match fetch_files(&lock, args).await {
        Fetched::Failed(n) => n,
        Fetched::Unreachable(e) => return unreachable(&e),
    };
    let provider = ProviderKind::from(args.provider);
    if provider == ProviderKind::K3s {
        failed += fetch_k3s_bundle(&lock, args).await;
    }
    let cache_dir = default_dir();
    let mut record = match PullRecord::load(&cache_dir) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::FAILED;
        }
    };
    let docker = match docker::connect().await {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::FAILED;
        }
    };
    let node = provider
        .node_image()
        .map(|n| lock.image(n))
        .expect("pull is for node providers");
    let mut pulled = vec![pull_node(&docker, node).await];
    let registry = Registry::new(registry::http_client());
    for image in lock
        .images
        .iter()
        .filter(|i| !i.addon.starts_with("provider-"))
    {
        let got = match provider {
            ProviderKind::K3s => archive_for_k3s(&registry, image, &record).await,
            _ => digest_only(&registry, image).await,
        };
        if let Err(Failure::Registry(e)) = &got
            && e.is_unreachable()
        {
            save(&record, &cache_dir);
            return unreachable(e);
        }
        pulled.push(got);
    }
    for result in pulled {
        match result {
            Ok(p) => {
                if let Some(earlier) = record.record(p.clone()) {
                    eprintln!(
                        "note: {} now points at {} (it was {} when pulled {}): the lab will run the new one",
                        p.image, p.digest, earlier.digest, earlier.pulled_at
                    );
                }
            }
            Err(e) => {
                failed += 1;
                eprintln!("error: {e}");
            }
        }
    }
    if !save(&record, &cache_dir) {
        return exit::FAILED;
    }
    if failed > 0 {
        eprintln!(
            "{} could not be fetched; `gwlab up` needs them (or network access)",
            crate::diag::counted(failed, "item")
        );
        exit::FAILED
    } else {
        exit::OK
    }
}

fn save(record: &PullRecord, cache_dir: &std::path::Path) -> bool {
    match record.save(cache_dir) {
        Ok(()) => true,
        Err(e) => {
            eprintln!("error: {e}");
            false
        }
    }
}

fn unreachable(e: &dyn std::fmt::Display) -> i32 {
    // Every other download and pull would fail the same way: one line.
    eprintln!(
        "error: no connection could be made ({e}): the network (or the mirror) is unreachable, and `gwlab pull` needs it; nothing more was tried"
    );
    exit::FAILED
}

/// Why one image was not pulled.
#[derive(Debug, thiserror::Error)]
enum Failure {
    #[error("{0}")]
    Registry(#[from] RegistryError),
    #[error("{image}: {source}")]
    Reference {
        image: String,
        #[source]
        source: registry::NotAReference,
    },
    #[error("cannot pull {reference}: {source}")]
    Engine {
        reference: String,
        #[source]
        source: Box<bollard::errors::Error>,
    },
    #[error(
        "refused {image}: the Docker engine holds it as {got}, not the digest the lock pins ({pinned}); nothing was tagged"
    )]
    Mismatch {
        image: String,
        got: String,
        pinned: String,
    },
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

fn reference(image: &LockedImage) -> Result<ImageRef, Failure> {
    let mut r = ImageRef::parse(&image.image).map_err(|source| Failure::Reference {
        image: image.image.clone(),
        source,
    })?;
    r.digest = image.digest.clone();
    Ok(r)
}

fn platform() -> String {
    format!("linux/{}", registry::host_arch())
}

fn short(digest: &str) -> &str {
    &digest[..digest.len().min(19)]
}

/// The node image onto the Docker engine, by its pinned digest where there
/// is one (the engine checks the content against it), then tagged
/// `repository:tag` there; its digest is what the engine reports.
async fn pull_node(docker: &Docker, image: &LockedImage) -> Result<PulledImage, Failure> {
    let wanted = reference(image)?;
    let (repository, tag) = crate::kong::split_image(&image.image).expect("the lock checks tags");
    let by = match &image.digest {
        Some(d) => format!("{repository}@{d}"),
        None => image.image.clone(),
    };
    let engine = |source| Failure::Engine {
        reference: by.clone(),
        source: Box::new(source),
    };
    if !docker::image_present(docker, &by).await.unwrap_or(false) {
        pull(docker, &by).await.map_err(engine)?;
    }
    let inspect = docker.inspect_image(&by).await.map_err(engine)?;
    let digest = inspect
        .repo_digests
        .unwrap_or_default()
        .iter()
        .filter_map(|rd| rd.split_once('@'))
        .find(|(name, _)| {
            ImageRef::parse(name)
                .is_ok_and(|n| n.registry == wanted.registry && n.repository == wanted.repository)
        })
        .map(|(_, d)| d.to_string());
    let digest = match (digest, &image.digest) {
        (Some(got), Some(pinned)) if got != *pinned => {
            return Err(Failure::Mismatch {
                image: image.image.clone(),
                got,
                pinned: pinned.clone(),
            });
        }
        (Some(got), _) => got,
        (None, Some(pinned)) => pinned.clone(),
        (None, None) => inspect.id.clone().unwrap_or_default(),
    };
    let options = bollard::query_parameters::TagImageOptionsBuilder::default()
        .repo(repository)
        .tag(tag)
        .build();
    docker.tag_image(&by, Some(options)).await.map_err(engine)?;
    println!(
        "ok    {} {} (Docker engine{})",
        image.image,
        short(&digest),
        if image.digest.is_some() {
            ", pinned digest"
        } else {
            ", digest recorded"
        }
    );
    Ok(PulledImage {
        name: image.name.clone(),
        image: image.image.clone(),
        digest,
        pinned: image.digest.is_some(),
        platform: platform(),
        archive: None,
        kept: Kept::Engine,
        pulled_at: now(),
    })
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

/// An addon image as an archive k3s imports at start (the registry's own
/// index and this machine's platform), unless the one already here is of
/// the same digest.
async fn archive_for_k3s(
    registry: &Registry,
    image: &LockedImage,
    record: &PullRecord,
) -> Result<PulledImage, Failure> {
    let mut wanted = reference(image)?;
    if wanted.digest.is_none() {
        // By tag: what it points at now decides whether the archive is current.
        let m = registry.manifest(&wanted, wanted.wanted()).await?;
        wanted.digest = Some(m.digest);
    }
    let digest = wanted.digest.clone().expect("set above");
    let dir = images_dir();
    let out = dir.join(format!("{}.tar", image.name));
    let current = record
        .get(&image.name, &image.image)
        .is_some_and(|p| p.digest == digest && p.kept == Kept::Archive)
        && out.is_file();
    let size = if current {
        None
    } else {
        std::fs::create_dir_all(&dir).map_err(|source| RegistryError::Io {
            path: dir.display().to_string(),
            source,
        })?;
        let a = registry::write_archive(registry, &wanted, registry::host_arch(), &out).await?;
        Some(a.size)
    };
    println!(
        "ok    {} {} ({}{})",
        image.image,
        short(&digest),
        match size {
            Some(s) => format!("archive for k3s, {:.1} MB", s as f64 / 1e6),
            None => "archive already here".into(),
        },
        if image.digest.is_some() {
            ", pinned digest"
        } else {
            ", digest recorded"
        }
    );
    Ok(PulledImage {
        name: image.name.clone(),
        image: image.image.clone(),
        digest,
        pinned: image.digest.is_some(),
        platform: platform(),
        archive: Some(out),
        kept: Kept::Archive,
        pulled_at: now(),
    })
}

/// For kind, whose node pulls each image by digest itself: the digest,
/// asked of the registry (which must still serve a pinned one).
async fn digest_only(registry: &Registry, image: &LockedImage) -> Result<PulledImage, Failure> {
    let wanted = reference(image)?;
    let m = registry.manifest(&wanted, wanted.wanted()).await?;
    println!(
        "ok    {} {} (the kind node pulls it by this digest{})",
        image.image,
        short(&m.digest),
        if image.digest.is_some() {
            ", pinned"
        } else {
            ", recorded"
        }
    );
    Ok(PulledImage {
        name: image.name.clone(),
        image: image.image.clone(),
        digest: m.digest,
        pinned: image.digest.is_some(),
        platform: platform(),
        archive: None,
        kept: Kept::Digest,
        pulled_at: now(),
    })
}
