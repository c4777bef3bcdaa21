//! Downloads into the cache, checked by sha256, from a local HTTP server (tests
//! never reach the internet): the lock's sums against the upstream files in
//! ../shared/upstream, a mirror in the upstream layout, and a tampered file;
//! k3s's air-gap bundle against the sums file of its release.

use std::path::{Path, PathBuf};

use gwlab::lab::airgap::{AirgapError, Bundle};
use gwlab::lab::cache::{Cache, CacheError, sha256_hex};
use gwlab::lab::lock::Lock;

use crate::common::http::serve;

fn upstream() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/upstream");
    if p.is_dir() {
        Some(p)
    } else {
        crate::common::skip::not_run("../shared/upstream is not beside the checkout");
        None
    }
}

/// The shared/upstream folder a locked file lives in.
fn upstream_copy(root: &Path, repo: &str, tag: &str, file: &str) -> PathBuf {
    let folder = match repo {
        "kubernetes-sigs/gateway-api" => format!("gateway-api-{tag}"),
        "metallb/metallb" => format!("metallb-{tag}"),
        "Kong/kubernetes-configuration" => format!("kong-kubernetes-configuration-{tag}"),
        other => panic!("unexpected repo {other}"),
    };
    root.join(folder).join(file)
}

fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder().no_proxy().build().unwrap()
}

#[test]
fn the_lock_sums_equal_the_upstream_sha256sums() {
    let Some(root) = upstream() else { return };
    let lock = Lock::builtin();
    for f in &lock.files {
        let copy = upstream_copy(&root, &f.repo, &f.tag, f.file_name());
        let sums = std::fs::read_to_string(copy.parent().unwrap().join("SHA256SUMS")).unwrap();
        let line = sums
            .lines()
            .find(|l| l.ends_with(&format!("  {}", f.file_name())))
            .unwrap_or_else(|| panic!("{} not in SHA256SUMS", f.file_name()));
        assert_eq!(
            line.split_whitespace().next().unwrap(),
            f.sha256,
            "{}",
            f.file_name()
        );
        let bytes = std::fs::read(&copy).unwrap();
        assert_eq!(bytes.len() as u64, f.size, "{}", f.file_name());
        assert_eq!(sha256_hex(&bytes), f.sha256);
    }
}

#[tokio::test]
async fn a_mirror_in_the_upstream_layout_fills_the_cache() {
    let Some(root) = upstream() else { return };
    let lock = Lock::builtin();
    // <mirror>/<owner>/<repo>/<tag>/<path>, as an air-gapped mirror keeps it.
    let mirror_root = tempfile::tempdir().unwrap();
    for f in &lock.files {
        let dest = mirror_root.path().join(&f.repo).join(&f.tag).join(&f.path);
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::copy(upstream_copy(&root, &f.repo, &f.tag, f.file_name()), dest).unwrap();
    }
    let mirror = serve(mirror_root.path().to_path_buf());
    let cache_dir = tempfile::tempdir().unwrap();
    let cache = Cache::new(cache_dir.path().to_path_buf(), Some(format!("{mirror}/")));
    let c = client();
    for f in &lock.files {
        assert!(!cache.verify(f).unwrap());
        let bytes = cache.get(&c, f).await.unwrap();
        assert_eq!(sha256_hex(&bytes), f.sha256);
        assert!(cache.verify(f).unwrap(), "{} is cached", f.file_name());
    }
    // Once cached, nothing is fetched: a cache with a dead mirror still answers.
    let offline = Cache::new(
        cache_dir.path().to_path_buf(),
        Some("http://127.0.0.1:9".into()),
    );
    for f in &lock.files {
        offline.get(&c, f).await.expect("served from the cache");
    }
}

#[tokio::test]
async fn a_tampered_file_is_an_error_naming_both_sums_and_is_not_kept() {
    let lock = Lock::builtin();
    let f = lock.files_of("metallb").next().unwrap().clone();
    let mirror_root = tempfile::tempdir().unwrap();
    let dest = mirror_root.path().join(&f.repo).join(&f.tag).join(&f.path);
    std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
    let evil = b"apiVersion: v1\nkind: Namespace\nmetadata: {name: evil}\n";
    std::fs::write(&dest, evil).unwrap();
    let mirror = serve(mirror_root.path().to_path_buf());
    let cache_dir = tempfile::tempdir().unwrap();
    let cache = Cache::new(cache_dir.path().to_path_buf(), Some(mirror));
    let err = cache.get(&client(), &f).await.unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, CacheError::Mismatch { .. }), "{text}");
    assert!(text.contains("metallb-native.yaml"), "{text}");
    assert!(
        text.contains(&f.sha256) && text.contains(&sha256_hex(evil)),
        "both sums: {text}"
    );
    assert!(!cache.path(&f).exists(), "nothing kept");
    let leftovers: Vec<_> = walk(cache_dir.path());
    assert!(leftovers.is_empty(), "the cache stays clean: {leftovers:?}");
}

#[tokio::test]
async fn a_missing_file_on_the_mirror_names_the_url() {
    let lock = Lock::builtin();
    let f = lock.files_of("crds").next().unwrap().clone();
    let mirror = serve(tempfile::tempdir().unwrap().keep());
    let cache = Cache::new(tempfile::tempdir().unwrap().keep(), Some(mirror.clone()));
    let text = cache.get(&client(), &f).await.unwrap_err().to_string();
    assert!(
        text.contains("HTTP 404") && text.contains(&mirror) && text.contains(&f.path),
        "{text}"
    );
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

fn k3s_bundle() -> Bundle {
    Bundle::for_image("rancher/k3s:v1.32.11-k3s3", "x86_64").unwrap()
}

/// A mirror in GitHub's release layout holding `bundle` and a sums file
/// listing `listed` for it (and a sum for another asset, as k3s's does).
fn release_mirror(bundle: &[u8], listed: Option<&str>) -> (tempfile::TempDir, String) {
    let root = tempfile::tempdir().unwrap();
    let dir = root
        .path()
        .join("k3s-io/k3s/releases/download/v1.32.11+k3s3");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("k3s-airgap-images-amd64.tar.zst"), bundle).unwrap();
    let mut sums = format!("{}  k3s\n", sha256_hex(b"the k3s binary"));
    if let Some(sum) = listed {
        sums.push_str(&format!("{sum}  k3s-airgap-images-amd64.tar.zst\n"));
    }
    std::fs::write(dir.join("sha256sum-amd64.txt"), sums).unwrap();
    let url = serve(root.path().to_path_buf());
    (root, url)
}

#[tokio::test]
async fn the_k3s_bundle_is_fetched_checked_against_the_release_sums_and_kept() {
    let bytes = b"zstd archive of pause, coredns, local-path".repeat(1000);
    let (_root, mirror) = release_mirror(&bytes, Some(&sha256_hex(&bytes)));
    let cache_dir = tempfile::tempdir().unwrap();
    let b = k3s_bundle();
    assert_eq!(b.verified(cache_dir.path()).unwrap(), None);

    let path = b
        .fetch(&client(), cache_dir.path(), Some(&mirror))
        .await
        .unwrap();
    assert_eq!(path, b.path(cache_dir.path()));
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
    assert_eq!(b.verified(cache_dir.path()).unwrap(), Some(path.clone()));

    // Once verified, nothing is fetched: a dead mirror still answers.
    b.fetch(&client(), cache_dir.path(), Some("http://127.0.0.1:9"))
        .await
        .expect("served from the cache");

    // A copy changed after `pull` is caught by the recorded sum...
    std::fs::write(&path, b"evil").unwrap();
    let err = b.verified(cache_dir.path()).unwrap_err();
    assert!(matches!(err, AirgapError::Tampered { .. }), "{err}");
    assert!(err.to_string().contains(&sha256_hex(&bytes)), "{err}");
    // ...and the next `pull` replaces it with a checked one.
    b.fetch(&client(), cache_dir.path(), Some(&mirror))
        .await
        .unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
}

#[tokio::test]
async fn a_k3s_bundle_not_matching_the_release_sums_is_refused_and_not_kept() {
    let bytes = b"a bundle someone swapped";
    let listed = sha256_hex(b"the bundle k3s released");
    let (_root, mirror) = release_mirror(bytes, Some(&listed));
    let cache_dir = tempfile::tempdir().unwrap();
    let b = k3s_bundle();
    let err = b
        .fetch(&client(), cache_dir.path(), Some(&mirror))
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, AirgapError::Mismatch { .. }), "{text}");
    assert!(
        text.contains(&listed) && text.contains(&sha256_hex(bytes)),
        "both sums: {text}"
    );
    assert!(text.contains("sha256sum-amd64.txt"), "{text}");
    assert_eq!(b.verified(cache_dir.path()).unwrap(), None);
    assert!(walk(cache_dir.path()).is_empty(), "nothing kept");
}

#[tokio::test]
async fn a_k3s_bundle_the_sums_file_does_not_list_is_an_error_naming_it() {
    let (_root, mirror) = release_mirror(b"bundle", None);
    let cache_dir = tempfile::tempdir().unwrap();
    let err = k3s_bundle()
        .fetch(&client(), cache_dir.path(), Some(&mirror))
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, AirgapError::NoSum { .. }), "{text}");
    assert!(
        text.contains("k3s-airgap-images-amd64.tar.zst") && text.contains("sha256sum-amd64.txt"),
        "{text}"
    );
    assert!(walk(cache_dir.path()).is_empty(), "nothing kept");
}
