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
    /// Where tokens come from, when the registry wants them.
    realm: Option<String>,
}

fn docker(args: &[&str]) -> std::process::Output {
    Command::new("docker")
        .args(args)
        .output()
        .expect("the docker CLI runs")
}

/// The registry's image, built once per test binary: the binary, the C
/// library it links, and a configuration with no authentication.
/// The calling test is reported as not run where it cannot be built.
fn built() -> bool {
    static BUILT: OnceLock<Result<(), String>> = OnceLock::new();
    let got = BUILT.get_or_init(build);
    if let Err(why) = got {
        super::skip::not_run(why);
    }
    got.is_ok()
}

fn build() -> Result<(), String> {
    {
        if !Command::new("docker")
            .arg("info")
            .output()
            .is_ok_and(|o| o.status.success())
        {
            return Err("no Docker engine answers `docker info`".into());
        }
        if !Path::new(BINARY).is_file() {
            return Err(format!("no {BINARY} (apt-get install docker-registry)"));
        }
        let dir = tempfile::tempdir().unwrap();
        let copy = |from: &str, to: &str| {
            let dest = dir.path().join(to);
            std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
            std::fs::copy(from, dest).unwrap();
        };
        copy(BINARY, "registry");
        copy(
            "/lib/x86_64-linux-gnu/libc.so.6",
            "lib/x86_64-linux-gnu/libc.so.6",
        );
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
            return Err(format!(
                "cannot build the registry image: {}",
                String::from_utf8_lossy(&o.stderr)
            ));
        }
        Ok(())
    }
}

/// A registry of its own for one test, open to anyone.
pub async fn start() -> Option<LocalRegistry> {
    start_with(None).await
}

/// A registry that answers 401 with a `Bearer` challenge, as Docker Hub
/// does, and accepts only tokens `tokens` signed (see `TokenService`).
pub async fn start_with_tokens(tokens: &TokenService) -> Option<LocalRegistry> {
    start_with(Some(tokens)).await
}

async fn start_with(tokens: Option<&TokenService>) -> Option<LocalRegistry> {
    if !built() {
        return None;
    }
    let image = GenericImage::new(IMAGE.0, IMAGE.1)
        .with_exposed_port(5000.tcp())
        .with_wait_for(WaitFor::message_on_stderr("listening on"));
    let request = match tokens {
        None => image.into(),
        Some(t) => {
            use testcontainers::ImageExt;
            image
                .with_copy_to("/config.yml", t.registry_config().into_bytes())
                .with_copy_to("/certs/root.pem", t.cert_pem.clone().into_bytes())
        }
    };
    let container: ContainerAsync<GenericImage> = testcontainers::ContainerRequest::start(request)
        .await
        .expect("the registry container starts");
    let port = container
        .get_host_port_ipv4(5000)
        .await
        .expect("port 5000 is mapped");
    Some(LocalRegistry {
        _container: container,
        realm: tokens.map(|t| t.realm.clone()),
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
    /// A request with a push-and-pull token for `repo` where the registry
    /// wants one (the fixture's own calls, not gwlab's).
    async fn authorized(
        &self,
        request: reqwest::RequestBuilder,
        repo: &str,
    ) -> reqwest::RequestBuilder {
        let Some(realm) = &self.realm else {
            return request;
        };
        let body = self
            .http
            .get(format!(
                "{realm}?service={SERVICE}&scope=repository:{repo}:pull,push"
            ))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        let token: serde_json::Value = serde_json::from_slice(&body).unwrap();
        request.bearer_auth(token["token"].as_str().unwrap())
    }

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
        let get = self
            .http
            .get(format!("http://{}/v2/{repo}/manifests/{tag}", self.host))
            .header(
                "accept",
                "application/vnd.docker.distribution.manifest.v2+json",
            );
        let m = self.authorized(get, repo).await.send().await.unwrap();
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
        let put = self
            .http
            .put(format!("http://{}/v2/{repo}/manifests/{tag}", self.host))
            .header("content-type", "application/vnd.oci.image.index.v1+json")
            .body(serde_json::to_vec(&index).unwrap());
        let r = self.authorized(put, repo).await.send().await.unwrap();
        assert!(r.status().is_success(), "{}", r.status());
        r.headers()["docker-content-digest"]
            .to_str()
            .unwrap()
            .to_string()
    }
}

/// A token service as the registry token specification describes it (what
/// Docker Hub's auth.docker.io is): `GET /token?service=…&scope=…` answers
/// `{"token": JWT}`, a JWT signed with ES256 whose `x5c` certificate the
/// registry trusts, granting anyone the actions asked for. Counts its answers.
pub struct TokenService {
    pub realm: String,
    cert_pem: String,
    issued: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

const ISSUER: &str = "gwlab-test-tokens";
const SERVICE: &str = "gwlab-test-registry";

impl TokenService {
    pub fn start() -> TokenService {
        use base64::Engine;
        use std::io::{BufRead, BufReader, Write};
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let mut params = rcgen::CertificateParams::new(vec!["gwlab-test-tokens".into()]).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let cert = params.self_signed(&key).unwrap();
        let der = base64::engine::general_purpose::STANDARD.encode(cert.der());
        let pkcs8 = key.serialize_der();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let realm = format!("http://{}/token", listener.local_addr().unwrap());
        let issued = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let count = issued.clone();
        std::thread::spawn(move || {
            let rng = ring::rand::SystemRandom::new();
            let signer = ring::signature::EcdsaKeyPair::from_pkcs8(
                &ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                &pkcs8,
                &rng,
            )
            .unwrap();
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut line = String::new();
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                if reader.read_line(&mut line).is_err() {
                    continue;
                }
                let mut h = String::new();
                while reader.read_line(&mut h).is_ok_and(|n| n > 2) {
                    h.clear();
                }
                let target = line.split_whitespace().nth(1).unwrap_or("/");
                let url = url::Url::parse(&format!("http://x{target}")).unwrap();
                let scope = url
                    .query_pairs()
                    .find(|(k, _)| k == "scope")
                    .map(|(_, v)| v.into_owned())
                    .unwrap_or_default();
                let jwt = sign(&signer, &rng, &der, &scope);
                count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let body = serde_json::json!({"token": jwt}).to_string();
                let _ = stream.write_all(
                    format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    )
                    .as_bytes(),
                );
            }
        });
        TokenService {
            realm,
            cert_pem: cert.pem(),
            issued,
        }
    }

    /// How many tokens it gave out.
    pub fn issued(&self) -> usize {
        self.issued.load(std::sync::atomic::Ordering::SeqCst)
    }

    fn registry_config(&self) -> String {
        format!(
            "version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: /data\nhttp:\n  addr: :5000\nauth:\n  token:\n    realm: {}\n    service: {SERVICE}\n    issuer: {ISSUER}\n    rootcertbundle: /certs/root.pem\n",
            self.realm
        )
    }
}

/// A JWT granting `scope` (`repository:NAME:ACTIONS`, space-separated).
fn sign(
    signer: &ring::signature::EcdsaKeyPair,
    rng: &ring::rand::SystemRandom,
    x5c: &str,
    scope: &str,
) -> String {
    use base64::Engine;
    let b64 = |v: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
    let access: Vec<serde_json::Value> = scope
        .split(' ')
        .filter_map(|s| {
            let mut parts = s.splitn(3, ':');
            let (kind, name, actions) = (parts.next()?, parts.next()?, parts.next()?);
            Some(serde_json::json!({"type": kind, "name": name, "actions": actions.split(',').collect::<Vec<_>>()}))
        })
        .collect();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let header = serde_json::json!({"typ": "JWT", "alg": "ES256", "x5c": [x5c]});
    let claims = serde_json::json!({"iss": ISSUER, "sub": "", "aud": SERVICE,
        "exp": now + 300, "nbf": now - 10, "iat": now, "jti": format!("{now}-{}", fastrand::u64(..)),
        "access": access});
    let signing_input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let signature = signer.sign(rng, signing_input.as_bytes()).unwrap();
    format!("{signing_input}.{}", b64(signature.as_ref()))
}
