//! A real OCI registry on loopback for the tests of `gwlab pull` and `gwlab
//! lock resolve`: Debian's `docker-registry` (distribution 2.8) in an image
//! built here `FROM scratch` (no image can be pulled), run as a container
//! through testcontainers, which maps its port, waits until it listens and
//! removes it when dropped. Images are pushed to it with this machine's
//! Docker engine, which trusts registries on 127.0.0.0/8 without TLS.
//! Skips, saying why, where Docker or the registry binary is missing.

#![allow(dead_code)]

use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

use testcontainers::core::{IntoContainerPort, WaitFor};
use testcontainers::runners::AsyncRunner;
use testcontainers::{ContainerAsync, GenericImage};

const IMAGE: (&str, &str) = ("gwlab-test-registry", "2.8");
const BINARY: &str = "/usr/bin/docker-registry";

pub struct LocalRegistry {
    /// Kept for its lifetime: testcontainers removes the container on drop.
    _container: ContainerAsync<GenericImage>,
    /// `127.0.0.1:PORT`, as image references name it.
    pub host: String,
    http: reqwest::Client,
}

fn docker(args: &[&str]) -> std::process::Output {
    Command::new("docker")
        .args(args)
        .output()
        .expect("the docker CLI runs")
}

/// The registry's image, built once per test binary: the binary, the C
/// library it links, and a configuration with no authentication.
fn built() -> bool {
    static BUILT: OnceLock<bool> = OnceLock::new();
    *BUILT.get_or_init(|| {
        if !Command::new("docker")
            .arg("info")
            .output()
            .is_ok_and(|o| o.status.success())
        {
            eprintln!("SKIPPED: no Docker engine answers `docker info`");
            return false;
        }
        if !Path::new(BINARY).is_file() {
            eprintln!("SKIPPED: no {BINARY} (apt-get install docker-registry)");
            return false;
        }
        let dir = tempfile::tempdir().unwrap();
        let copy = |from: &str, to: &str| {
            let dest = dir.path().join(to);
            std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
            std::fs::copy(from, dest).unwrap();
        };
        copy(BINARY, "registry");
        copy("/lib/x86_64-linux-gnu/libc.so.6", "lib/x86_64-linux-gnu/libc.so.6");
        copy("/lib64/ld-linux-x86-64.so.2", "lib64/ld-linux-x86-64.so.2");
        std::fs::write(
            dir.path().join("config.yml"),
            "version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: /data\n  delete:\n    enabled: true\nhttp:\n  addr: :5000\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("Dockerfile"),
            "FROM scratch\nCOPY lib /lib\nCOPY lib64 /lib64\nCOPY registry /registry\nCOPY config.yml /config.yml\nENTRYPOINT [\"/registry\", \"serve\", \"/config.yml\"]\n",
        )
        .unwrap();
        let tag = format!("{}:{}", IMAGE.0, IMAGE.1);
        let o = docker(&["build", "-q", "-t", &tag, dir.path().to_str().unwrap()]);
        if !o.status.success() {
            eprintln!(
                "SKIPPED: cannot build the registry image: {}",
                String::from_utf8_lossy(&o.stderr)
            );
        }
        o.status.success()
    })
}

/// A registry of its own for one test.
pub async fn start() -> Option<LocalRegistry> {
    if !built() {
        return None;
    }
    let container = GenericImage::new(IMAGE.0, IMAGE.1)
        .with_exposed_port(5000.tcp())
        .with_wait_for(WaitFor::message_on_stderr("listening on"))
        .start()
        .await
        .expect("the registry container starts");
    let port = container
        .get_host_port_ipv4(5000)
        .await
        .expect("port 5000 is mapped");
    Some(LocalRegistry {
        _container: container,
        host: format!("127.0.0.1:{port}"),
        http: {
            let _ = rustls::crypto::ring::default_provider().install_default();
            reqwest::Client::builder().no_proxy().build().unwrap()
        },
    })
}

/// A pushed image: its reference and manifest.
#[derive(Debug, Clone)]
pub struct Pushed {
    pub reference: String,
    /// The digest of the manifest the registry stored.
    pub digest: String,
    pub size: u64,
    pub media_type: String,
}

impl LocalRegistry {
    /// Builds a `FROM scratch` image holding one file with `content` and
    /// pushes it as `<host>/<name>` (`test/kong:3.9.3`); the local copy is
    /// removed, so a pull has to fetch it.
    pub async fn push(&self, name: &str, content: &str) -> Pushed {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("content"), content).unwrap();
        std::fs::write(
            dir.path().join("Dockerfile"),
            "FROM scratch\nCOPY content /content\n",
        )
        .unwrap();
        let reference = format!("{}/{name}", self.host);
        let o = docker(&[
            "build",
            "-q",
            "-t",
            &reference,
            dir.path().to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let o = docker(&["push", &reference]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        docker(&["rmi", &reference]);
        let (repo, tag) = name.rsplit_once(':').unwrap();
        let m = self
            .http
            .get(format!("http://{}/v2/{repo}/manifests/{tag}", self.host))
            .header(
                "accept",
                "application/vnd.docker.distribution.manifest.v2+json",
            )
            .send()
            .await
            .unwrap();
        assert!(m.status().is_success());
        let digest = m.headers()["docker-content-digest"]
            .to_str()
            .unwrap()
            .to_string();
        let media_type = m.headers()["content-type"].to_str().unwrap().to_string();
        let size = m.bytes().await.unwrap().len() as u64;
        Pushed {
            reference,
            digest,
            size,
            media_type,
        }
    }

    /// Stores an OCI image index under `<repo>:<tag>` listing `entries` as
    /// (manifest, architecture); returns its digest.
    pub async fn put_index(&self, repo: &str, tag: &str, entries: &[(&Pushed, &str)]) -> String {
        let manifests: Vec<serde_json::Value> = entries
            .iter()
            .map(|(p, arch)| {
                serde_json::json!({"mediaType": p.media_type, "digest": p.digest, "size": p.size,
                    "platform": {"os": "linux", "architecture": arch}})
            })
            .collect();
        let index = serde_json::json!({"schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": manifests});
        let r = self
            .http
            .put(format!("http://{}/v2/{repo}/manifests/{tag}", self.host))
            .header("content-type", "application/vnd.oci.image.index.v1+json")
            .body(serde_json::to_vec(&index).unwrap())
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{}", r.status());
        r.headers()["docker-content-digest"]
            .to_str()
            .unwrap()
            .to_string()
    }
}
