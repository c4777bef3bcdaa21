//! `gwlab lock resolve` and `gwlab pull` against a real registry on loopback
//! (a container started through testcontainers, see common/registry.rs) and
//! a local HTTP server for the pinned files: digests resolved and written
//! into a lock, a stale pin and a changed file named, images pulled by
//! digest (the node onto the Docker engine, the addons as OCI archives for
//! k3s holding only this machine's platform, which a real containerd
//! imports under the index digest), a pin the registry does not serve
//! refused with nothing kept, and a moved tag said.

use std::path::Path;
use std::process::Output;

use crate::common::bin::text;
use crate::common::home::command;
use crate::common::http::serve;
use crate::common::registry::{self, LocalRegistry, Pushed};
use gwlab::lab::cache::sha256_hex;

/// The images a lock needs, each pushed to the registry (tiny scratch images).
struct Images {
    node: Pushed,
    kong_amd64: Pushed,
    kong_arm64: Pushed,
    kong_index: String,
    kic: Pushed,
    controller: Pushed,
    echo: Pushed,
}

async fn push_all(r: &LocalRegistry) -> Images {
    let kong_amd64 = r.push("test/kong:amd64", "kong for amd64").await;
    let kong_arm64 = r.push("test/kong:arm64", "kong for arm64").await;
    let kong_index = r
        .put_index(
            "test/kong",
            "3.9.3",
            &[(&kong_amd64, "amd64"), (&kong_arm64, "arm64")],
        )
        .await;
    r.push("test/node:v1.33.12", "kind node").await;
    r.push("test/speaker:v0.15.3", "metallb speaker").await;
    Images {
        node: r.push("test/k3s:v1.33.7-k3s3", "k3s").await,
        kong_amd64,
        kong_arm64,
        kong_index,
        kic: r.push("test/kic:3.5.13", "kic").await,
        controller: r
            .push("test/controller:v0.15.3", "metallb controller")
            .await,
        echo: r.push("test/echo:v1", "echo").await,
    }
}

/// A lock naming the registry's images: kong and kic pinned as given, the
/// others by tag with a reason; and `files` (name → served content) with
/// the sums of `expected` (name → content the lock expects).
fn lock_text(
    host: &str,
    kong_digest: &str,
    kic_digest: &str,
    files_url: &str,
    expected: &[(&str, &str)],
) -> String {
    let mut t = String::from("# a test lock\nfiles:\n");
    for (name, content) in expected {
        t.push_str(&format!(
            "  - addon: kong\n    repo: test/files\n    tag: v1\n    path: {name}\n    url: {files_url}/test/files/v1/{name}\n    sha256: {}\n    size: {}\n",
            sha256_hex(content.as_bytes()),
            content.len()
        ));
    }
    t.push_str("images:\n");
    let unpinned = |name: &str, addon: &str, image: &str| {
        format!(
            "  - name: {name}\n    addon: {addon}\n    image: {host}/{image}\n    source: test@v1 the registry\n    why: >-\n      pinned by tag in this test\n"
        )
    };
    t.push_str(&unpinned("k3s", "provider-k3s", "test/k3s:v1.33.7-k3s3"));
    t.push_str(&unpinned(
        "kind-node",
        "provider-kind",
        "test/node:v1.33.12",
    ));
    t.push_str(&format!(
        "  - name: kong\n    addon: kong\n    image: {host}/test/kong:3.9.3\n    digest: {kong_digest}\n    source: test@v1 the registry\n"
    ));
    t.push_str(&format!(
        "  - name: kong-ingress-controller\n    addon: kong\n    image: {host}/test/kic:3.5.13\n    digest: {kic_digest}\n    source: test@v1 the registry\n"
    ));
    t.push_str(&unpinned(
        "metallb-controller",
        "metallb",
        "test/controller:v0.15.3",
    ));
    t.push_str(&unpinned(
        "metallb-speaker",
        "metallb",
        "test/speaker:v0.15.3",
    ));
    t.push_str(&unpinned("echo-basic", "echo", "test/echo:v1"));
    t
}

/// Serves `files` (name → content) at `<url>/test/files/v1/<name>`.
fn serve_files(files: &[(&str, &str)]) -> (tempfile::TempDir, String) {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("test/files/v1");
    std::fs::create_dir_all(&dir).unwrap();
    for (name, content) in files {
        std::fs::write(dir.join(name), content).unwrap();
    }
    let url = serve(root.path().to_path_buf());
    (root, url)
}

fn gwlab(args: &[&str], home: &Path) -> Output {
    command(args, home).output().expect("gwlab runs")
}

#[tokio::test]
async fn lock_resolve_names_moved_and_missing_digests_and_changed_files_then_writes_the_digests() {
    let Some(r) = registry::start().await else {
        return;
    };
    let im = push_all(&r).await;
    let (_files, url) = serve_files(&[("a.yaml", "kind: A\n"), ("b.yaml", "kind: B, changed\n")]);
    let home = tempfile::tempdir().unwrap();
    let lock = home.path().join("lock.yaml");
    // kong pinned to a digest its tag no longer points at; kic pinned right.
    let stale = im.kong_amd64.digest.clone();
    std::fs::write(
        &lock,
        lock_text(
            &r.host,
            &stale,
            &im.kic.digest,
            &url,
            &[("a.yaml", "kind: A\n"), ("b.yaml", "kind: B\n")],
        ),
    )
    .unwrap();
    let lock_arg = lock.to_str().unwrap();

    let o = gwlab(&["lock", "resolve", "--lock", lock_arg], home.path());
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(
        t.contains(&format!(
            "moved   {}/test/kong:3.9.3: the tag points at {} now, the lock pins {stale}",
            r.host, im.kong_index
        )),
        "{t}"
    );
    assert!(
        t.contains(&format!("same    {}/test/kic:3.5.13", r.host)),
        "{t}"
    );
    assert!(
        t.contains(&format!(
            "digest  {}/test/controller:v0.15.3: {} (application/vnd.docker.distribution.manifest.v2+json); the lock pins none",
            r.host, im.controller.digest
        )),
        "{t}"
    );
    assert!(t.contains("same    test/files v1 a.yaml"), "{t}");
    assert!(
        t.contains(&format!(
            "changed test/files v1 b.yaml: sha256 {} now",
            sha256_hex(b"kind: B, changed\n")
        )),
        "{t}"
    );

    // As data.
    let o = gwlab(
        &["lock", "resolve", "--lock", lock_arg, "-o", "json"],
        home.path(),
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let verdict = |name: &str| {
        v["images"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["name"] == name)
            .unwrap()["verdict"]
            .clone()
    };
    assert_eq!(verdict("kong"), "moved");
    assert_eq!(verdict("kong-ingress-controller"), "same");
    assert_eq!(verdict("echo-basic"), "unpinned");
    assert_eq!(v["files"][1]["verdict"], "changed");

    // --write pins what the registry serves now; every other line stays.
    let before = std::fs::read_to_string(&lock).unwrap();
    let o = gwlab(
        &["lock", "resolve", "--lock", lock_arg, "--write"],
        home.path(),
    );
    let t = text(&o);
    assert_eq!(
        o.status.code(),
        Some(1),
        "the changed file still fails: {t}"
    );
    assert!(t.contains("wrote the digests into"), "{t}");
    let after = std::fs::read_to_string(&lock).unwrap();
    assert!(after.starts_with("# a test lock\n"), "{after}");
    assert!(after.contains(&format!("    digest: {}\n", im.kong_index)));
    assert!(!after.contains(&stale));
    assert!(after.contains(&format!("test/echo:v1\n    digest: {}\n", im.echo.digest)));
    assert!(
        after.contains("pinned by tag in this test"),
        "the why is kept"
    );
    assert_eq!(
        before.lines().count() + 5,
        after.lines().count(),
        "one digest line added for each of the five unpinned images"
    );
    let lock_now = gwlab::lab::lock::Lock::from_path(&lock).unwrap();
    assert!(lock_now.images.iter().all(|i| i.digest.is_some()));

    // With the file as the lock expects, everything matches: exit 0.
    let fixed = after.replace(
        &format!("sha256: {}\n    size: 8\n", sha256_hex(b"kind: B\n")),
        &format!(
            "sha256: {}\n    size: 17\n",
            sha256_hex(b"kind: B, changed\n")
        ),
    );
    std::fs::write(&lock, fixed).unwrap();
    let o = gwlab(&["lock", "resolve", "--lock", lock_arg], home.path());
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(!text(&o).contains("moved") && !text(&o).contains("changed"));
}

/// A mirror for `gwlab pull --provider k3s`: the pinned files in the
/// upstream layout and k3s's release assets (a stand-in air-gap bundle with
/// its sums file).
fn pull_mirror(files: &[(&str, &str)]) -> (tempfile::TempDir, String) {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("test/files/v1");
    std::fs::create_dir_all(&dir).unwrap();
    for (name, content) in files {
        std::fs::write(dir.join(name), content).unwrap();
    }
    let release = root
        .path()
        .join("k3s-io/k3s/releases/download/v1.33.7+k3s3");
    std::fs::create_dir_all(&release).unwrap();
    let bundle = b"k3s's own images".repeat(10);
    std::fs::write(release.join("k3s-airgap-images-amd64.tar.zst"), &bundle).unwrap();
    std::fs::write(
        release.join("sha256sum-amd64.txt"),
        format!("{}  k3s-airgap-images-amd64.tar.zst\n", sha256_hex(&bundle)),
    )
    .unwrap();
    let url = serve(root.path().to_path_buf());
    (root, url)
}

/// The files of a tar archive: name → bytes.
fn untar(path: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut a = tar::Archive::new(std::fs::File::open(path).unwrap());
    a.entries()
        .unwrap()
        .map(|e| {
            let mut e = e.unwrap();
            let name = e.path().unwrap().display().to_string();
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(&mut e, &mut bytes).unwrap();
            (name, bytes)
        })
        .collect()
}

fn docker_rmi(reference: &str) {
    let _ = std::process::Command::new("docker")
        .args(["rmi", "-f", reference])
        .output();
}

#[tokio::test]
async fn pull_for_k3s_takes_each_image_by_digest_and_records_it() {
    if std::env::consts::ARCH != "x86_64" {
        crate::common::skip::not_run(
            "the pushed test index names amd64 as this machine's platform",
        );
        return;
    }
    let Some(r) = registry::start().await else {
        return;
    };
    let im = push_all(&r).await;
    let files = [("a.yaml", "kind: A\n")];
    let (_mirror, url) = pull_mirror(&files);
    let home = tempfile::tempdir().unwrap();
    let lock = home.path().join("lock.yaml");
    std::fs::write(
        &lock,
        lock_text(&r.host, &im.kong_index, &im.kic.digest, &url, &files),
    )
    .unwrap();
    let node = format!("{}/test/k3s:v1.33.7-k3s3", r.host);
    docker_rmi(&node);

    let pull = |lock: &Path| {
        gwlab(
            &["pull", "--lock", lock.to_str().unwrap(), "--mirror", &url],
            home.path(),
        )
    };
    let o = pull(&lock);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(0), "{t}");

    // What was pulled, with the digest of each.
    let cache = home.path().join("cache/gwlab");
    let record: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(cache.join("images/pulled.json")).unwrap())
            .unwrap();
    let entry = |name: &str| {
        record["images"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["name"] == name)
            .unwrap_or_else(|| panic!("{name} recorded: {record}"))
            .clone()
    };
    assert_eq!(entry("kong")["digest"], im.kong_index.as_str());
    assert_eq!(entry("kong")["pinned"], true);
    assert_eq!(
        entry("metallb-controller")["digest"],
        im.controller.digest.as_str()
    );
    assert_eq!(entry("metallb-controller")["pinned"], false);
    assert_eq!(entry("k3s")["digest"], im.node.digest.as_str());
    assert_eq!(entry("k3s")["kept"], "engine");

    // The node image is on the Docker engine under its tag.
    let o = std::process::Command::new("docker")
        .args([
            "image",
            "inspect",
            "--format",
            "{{json .RepoDigests}}",
            &node,
        ])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&o.stdout).contains(&im.node.digest),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );

    // Kong's archive: the registry's index, and only amd64's manifest and blobs.
    let archive = cache.join("images/k3s/kong.tar");
    let tar = untar(&archive);
    let index: serde_json::Value = serde_json::from_slice(&tar["index.json"]).unwrap();
    assert_eq!(index["manifests"][0]["digest"], im.kong_index.as_str());
    assert_eq!(
        index["manifests"][0]["annotations"]["io.containerd.image.name"],
        format!("{}/test/kong:3.9.3", r.host)
    );
    for (name, bytes) in &tar {
        if let Some(hex) = name.strip_prefix("blobs/sha256/") {
            assert_eq!(sha256_hex(bytes), hex, "{name} holds what its name says");
        }
    }
    let blob = |digest: &str| format!("blobs/sha256/{}", digest.trim_start_matches("sha256:"));
    assert!(tar.contains_key(&blob(&im.kong_index)));
    assert!(tar.contains_key(&blob(&im.kong_amd64.digest)));
    assert!(
        !tar.contains_key(&blob(&im.kong_arm64.digest)),
        "not this machine's platform"
    );
    let amd64: serde_json::Value =
        serde_json::from_slice(&tar[&blob(&im.kong_amd64.digest)]).unwrap();
    for layer in amd64["layers"].as_array().unwrap() {
        assert!(tar.contains_key(&blob(layer["digest"].as_str().unwrap())));
    }

    // containerd (what k3s imports with) takes the archive as the registry's
    // image: named by its tag, with the index digest a pod spec names.
    if let Some(c) = crate::common::containerd::Containerd::start() {
        let o = c.import(&archive);
        assert!(o.status.success(), "{}", text(&o));
        let o = c.ctr(&["images", "ls"]);
        let listed = String::from_utf8_lossy(&o.stdout).to_string();
        let line = listed
            .lines()
            .find(|l| l.starts_with(&format!("{}/test/kong:3.9.3 ", r.host)))
            .unwrap_or_else(|| panic!("imported under its name: {listed}"));
        assert!(line.contains(&im.kong_index), "{line}");
        assert!(
            line.contains("application/vnd.oci.image.index.v1+json"),
            "{line}"
        );
        eprintln!("containerd imported: {line}");
    }

    // A second pull finds everything current and fetches nothing again.
    let o = pull(&lock);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("archive already here"), "{}", text(&o));

    // A tag that moved is said, and the new digest recorded.
    let moved = r
        .push("test/controller:v0.15.3", "metallb controller, rebuilt")
        .await;
    let o = pull(&lock);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(0), "{t}");
    assert!(
        t.contains(&format!(
            "note: {}/test/controller:v0.15.3 now points at {} (it was {}",
            r.host, moved.digest, im.controller.digest
        )),
        "{t}"
    );

    // A pin the registry does not serve is refused: nothing is kept.
    let gone = format!("sha256:{}", sha256_hex(b"no such manifest"));
    let bad = home.path().join("bad-lock.yaml");
    std::fs::write(
        &bad,
        lock_text(&r.host, &gone, &im.kic.digest, &url, &files),
    )
    .unwrap();
    std::fs::remove_file(&archive).unwrap();
    let o = pull(&bad);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(t.contains(&gone) && t.contains("HTTP 404"), "{t}");
    assert!(
        !archive.exists(),
        "no archive of an image that did not match its pin"
    );
    let record = std::fs::read_to_string(cache.join("images/pulled.json")).unwrap();
    assert!(!record.contains(&gone));
    docker_rmi(&node);
}

#[tokio::test]
async fn a_registry_that_wants_a_bearer_token_gets_one_from_its_realm() {
    let tokens = registry::TokenService::start();
    let Some(r) = registry::start_with_tokens(&tokens).await else {
        return;
    };
    // The registry refuses anonymous requests with a Bearer challenge.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let plain = reqwest::get(format!("http://{}/v2/", r.host))
        .await
        .unwrap();
    assert_eq!(plain.status(), 401);
    let challenge = plain.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(challenge.starts_with("Bearer realm="), "{challenge}");
    let im = push_all(&r).await;
    let before = tokens.issued();
    let (_files, url) = serve_files(&[("a.yaml", "kind: A\n")]);
    let home = tempfile::tempdir().unwrap();
    let lock = home.path().join("lock.yaml");
    std::fs::write(
        &lock,
        lock_text(
            &r.host,
            &im.kong_index,
            &im.kic.digest,
            &url,
            &[("a.yaml", "kind: A\n")],
        ),
    )
    .unwrap();
    let o = gwlab(
        &["lock", "resolve", "--lock", lock.to_str().unwrap()],
        home.path(),
    );
    let t = text(&o);
    assert!(
        !t.contains("error "),
        "every image resolved through the token flow: {t}"
    );
    assert!(
        t.contains(&format!("same    {}/test/kong:3.9.3", r.host)),
        "{t}"
    );
    assert!(
        tokens.issued() > before,
        "gwlab asked the realm for tokens ({} before, {} after)",
        before,
        tokens.issued()
    );
}
