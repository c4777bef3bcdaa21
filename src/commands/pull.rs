//! `gwlab pull`: every pinned file into the cache (checked), every image onto
//! the Docker engine, and for k3s an image archive it imports at start, so
//! that `gwlab up` then works with no network: the workshop case.

use futures_util::StreamExt;

use crate::cli::{ProviderKind, PullArgs};
use crate::exit;
use crate::lab::cache::{Cache, default_dir};
use crate::lab::client::{http_client, images_dir};
use crate::lab::docker;
use crate::lab::lock::Lock;

pub async fn run(args: &PullArgs) -> i32 {
    let lock = Lock::builtin();
    let cache = Cache::new(default_dir(), args.mirror.clone());
    let http = http_client();
    let mut failed = 0;
    for f in &lock.files {
        match cache.get(&http, f).await {
            Ok(_) => println!("ok    {} {} ({})", f.repo, f.path, &f.sha256[..12]),
            Err(e) => {
                failed += 1;
                eprintln!("error: {e}");
            }
        }
    }
    let docker = match docker::connect().await {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::FAILED;
        }
    };
    let wanted: Vec<_> = lock
        .images
        .iter()
        .filter(|i| match i.addon.as_str() {
            "provider-k3s" => args.provider == ProviderKind::K3s,
            "provider-kind" => args.provider == ProviderKind::Kind,
            _ => true,
        })
        .collect();
    for image in &wanted {
        let reference = image.reference();
        if docker::image_present(&docker, &reference)
            .await
            .unwrap_or(false)
        {
            println!("ok    {reference} (already here)");
            continue;
        }
        let opts = bollard::query_parameters::CreateImageOptionsBuilder::default()
            .from_image(&reference)
            .build();
        let mut stream = docker.create_image(Some(opts), None, None);
        let mut error = None;
        while let Some(item) = stream.next().await {
            if let Err(e) = item {
                error = Some(e.to_string());
                break;
            }
        }
        match error {
            None => println!("ok    {reference}"),
            Some(e) => {
                failed += 1;
                eprintln!("error: cannot pull {reference}: {e}");
            }
        }
    }
    if args.provider == ProviderKind::K3s {
        // k3s imports every archive in its images directory when it starts; one
        // archive per image, so that one that cannot be saved loses no other.
        let dir = images_dir();
        if let Err(e) = std::fs::create_dir_all(&dir) {
            eprintln!("error: cannot create {}: {e}", dir.display());
            return exit::FAILED;
        }
        for image in wanted.iter().filter(|i| !i.addon.starts_with("provider-")) {
            let reference = image.reference();
            if !docker::image_present(&docker, &reference)
                .await
                .unwrap_or(false)
            {
                continue;
            }
            let path = dir.join(format!("{}.tar", image.name));
            let result = async {
                let mut out = std::fs::File::create(&path).map_err(|e| e.to_string())?;
                let mut stream = docker.export_images(&[reference.as_str()]);
                while let Some(chunk) = stream.next().await {
                    std::io::Write::write_all(&mut out, &chunk.map_err(|e| e.to_string())?)
                        .map_err(|e| e.to_string())?;
                }
                Ok::<(), String>(())
            }
            .await;
            match result {
                Ok(()) => println!("ok    {} (k3s imports it at start)", path.display()),
                Err(e) => {
                    failed += 1;
                    let _ = std::fs::remove_file(&path);
                    eprintln!("error: cannot save {reference} to {}: {e}", path.display());
                }
            }
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
