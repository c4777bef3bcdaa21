//! A real Kubernetes API server for tests, as Go projects get from
//! controller-runtime's envtest: etcd, kube-apiserver and
//! kube-controller-manager on free loopback ports with private directories
//! and certificates. Started once per process ([`shared`]); each test makes its own
//! namespaces. The processes stop when the test binary exits, however it
//! exits (a small shell supervisor watches the test process).
//!
//! Where the binaries are: `GWLAB_TEST_ASSETS` or `KUBEBUILDER_ASSETS` (a
//! directory holding `kube-apiserver` and `kube-controller-manager`); etcd on
//! PATH. Without them, [`shared`] and [`another`] say why.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, SanType};

/// A running API server.
pub struct Envtest {
    /// A kubeconfig with cluster-admin rights (context `envtest`).
    pub kubeconfig: PathBuf,
    pub server: String,
    /// The kube-apiserver, for fault tests that stop and start it again.
    apiserver: std::sync::Mutex<Supervised>,
    /// Keeps the directory (and so the data) for the life of the test binary.
    _dir: tempfile::TempDir,
}

/// A process under its supervisor, and how to start it again.
struct Supervised {
    bin: PathBuf,
    args: Vec<String>,
    log: PathBuf,
    supervisor: std::process::Child,
}

static ENV: OnceLock<Result<Envtest, String>> = OnceLock::new();

/// Another API server of its own, for tests that change what the whole
/// cluster sees (the lab's Kong objects have fixed names) and must not meet
/// the shared one's other tests. It lives, like the shared one, until the
/// process ends. The error says why there is none.
pub fn another() -> Result<&'static Envtest, String> {
    another_with(&[])
}

/// [`another`], its kube-apiserver started with `flags` besides its own (a
/// tight flow control, say).
pub fn another_with(flags: &[&str]) -> Result<&'static Envtest, String> {
    start_with(flags).map(|e| &*Box::leak(Box::new(e)))
}

/// The shared API server, started at the first call; the error says why
/// there is none (the binaries are not there, or it cannot start).
pub fn shared() -> Result<&'static Envtest, String> {
    ENV.get_or_init(|| start_with(&[]))
        .as_ref()
        .map_err(Clone::clone)
}

impl Envtest {
    /// Kills the kube-apiserver (as a crash or a node's reboot does: a
    /// graceful stop keeps serving for up to a minute while it drains),
    /// keeps it down for `down`, then starts it again on the same port and
    /// etcd, and returns once it is ready, with how long it did not answer.
    /// Blocking: call it from a blocking task.
    pub fn restart_apiserver(&self, down: Duration) -> Result<Duration, String> {
        let mut apiserver = self.apiserver.lock().map_err(|e| e.to_string())?;
        let stopped = Instant::now();
        // The supervisor's USR1 trap kills kube-apiserver and waits for it.
        let killed = Command::new("kill")
            .args(["-USR1", &apiserver.supervisor.id().to_string()])
            .status()
            .map_err(|e| format!("cannot run kill: {e}"))?;
        if !killed.success() {
            return Err(format!("kill -USR1 {} failed", apiserver.supervisor.id()));
        }
        apiserver.supervisor.wait().map_err(|e| e.to_string())?;
        std::thread::sleep(down);
        let log = apiserver.log.with_extension("restarted.log");
        apiserver.supervisor = supervised(&apiserver.bin, &apiserver.args, &log)?;
        let ca = apiserver.log.with_file_name("ca.crt");
        wait_ready(&self.server, &ca, Duration::from_secs(60))?;
        Ok(stopped.elapsed())
    }

    /// A kube client for the server.
    pub async fn client(&self) -> kube::Client {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let kc = kube::config::Kubeconfig::read_from(&self.kubeconfig).unwrap();
        let config =
            kube::Config::from_custom_kubeconfig(kc, &kube::config::KubeConfigOptions::default())
                .await
                .unwrap();
        kube::Client::try_from(config).unwrap()
    }
}

/// Asserts that what an object's owner wrote (generation, labels,
/// annotations, spec) did not change; its status may move, as controllers
/// work on it.
pub fn assert_untouched(
    before: &kube::api::DynamicObject,
    after: &kube::api::DynamicObject,
    what: &str,
) {
    assert_eq!(
        after.metadata.generation, before.metadata.generation,
        "{what}: generation"
    );
    assert_eq!(
        after.metadata.labels, before.metadata.labels,
        "{what}: labels"
    );
    assert_eq!(
        after.metadata.annotations, before.metadata.annotations,
        "{what}: annotations"
    );
    assert_eq!(
        after.data.get("spec"),
        before.data.get("spec"),
        "{what}: spec"
    );
}

/// Applies an object server-side as field manager `manager`, forcing, as
/// `kubectl apply --server-side --force-conflicts` or Helm would.
pub async fn apply_as(
    client: &kube::Client,
    manager: &str,
    obj: serde_json::Value,
) -> kube::api::DynamicObject {
    use kube::api::{Api, Patch, PatchParams};
    let id = gwlab::lab::apply::identity(&obj);
    let (ar, namespaced) = gwlab::kinds::resource(&id.api_version, &id.kind).expect("a known kind");
    let api: Api<kube::api::DynamicObject> = match (namespaced, id.namespace.as_deref()) {
        (true, Some(ns)) => Api::namespaced_with(client.clone(), ns, &ar),
        _ => Api::all_with(client.clone(), &ar),
    };
    // A kind whose CRD was just Established can answer 404 for a moment,
    // until the API server serves it: asked again for up to ten seconds.
    let pp = PatchParams::apply(manager).force();
    let start = Instant::now();
    loop {
        match api.patch(&id.name, &pp, &Patch::Apply(&obj)).await {
            Ok(o) => return o,
            Err(kube::Error::Api(s))
                if s.code == 404 && start.elapsed() < Duration::from_secs(10) =>
            {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => panic!("{} {}: {e}", id.kind, id.name),
        }
    }
}

/// The upstream files, byte for byte, beside the repository
/// (`../shared/upstream`, two levels above this crate's repository root).
pub fn upstream() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/upstream")
}

/// The Gateway API v1.2.1 CRDs from the upstream files beside the
/// repository, applied as a user would, and Established.
pub async fn install_gateway_api(client: &kube::Client) {
    install_gateway_api_at(client, "v1.2.1").await
}

/// The standard Gateway API CRDs of a release (`v1.4.1`) from the upstream
/// files beside the repository, applied as a user would, and Established.
pub async fn install_gateway_api_at(client: &kube::Client, version: &str) {
    let dir = upstream().join(format!("gateway-api-{version}"));
    for entry in std::fs::read_dir(&dir).unwrap().flatten() {
        let p = entry.path();
        if p.extension().is_some_and(|e| e == "yaml") {
            let text = std::fs::read_to_string(&p).unwrap();
            for doc in gwlab::lab::apply::documents(&text, "crd").unwrap() {
                apply_as(client, "kubectl", doc).await;
            }
        }
    }
    for name in [
        "gatewayclasses",
        "gateways",
        "httproutes",
        "referencegrants",
    ] {
        gwlab::lab::wait::crd_established(
            client,
            &format!("{name}.gateway.networking.k8s.io"),
            Duration::from_secs(30),
        )
        .await
        .unwrap();
    }
}

/// `Kind name` of every object of gwlab's kinds that carries the labels of
/// `selector`, in every namespace.
pub async fn labelled(client: &kube::Client, selector: &str) -> Vec<String> {
    use kube::api::{Api, DynamicObject, ListParams};
    let mut out = Vec::new();
    for info in gwlab::kinds::KINDS {
        let (ar, _) = gwlab::kinds::api_resource(info);
        let api: Api<DynamicObject> = Api::all_with(client.clone(), &ar);
        if let Ok(list) = api.list(&ListParams::default().labels(selector)).await {
            out.extend(
                list.into_iter()
                    .map(|o| format!("{} {}", info.kind, o.metadata.name.unwrap_or_default())),
            );
        }
    }
    out
}

/// Polls [`labelled`] until nothing carries the labels or `timeout` passes;
/// returns what is left.
pub async fn until_none_labelled(
    client: &kube::Client,
    selector: &str,
    timeout: Duration,
) -> Vec<String> {
    let start = Instant::now();
    loop {
        let left = labelled(client, selector).await;
        if left.is_empty() || start.elapsed() > timeout {
            return left;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

fn assets() -> Result<PathBuf, String> {
    let dir = std::env::var_os("GWLAB_TEST_ASSETS")
        .or_else(|| std::env::var_os("KUBEBUILDER_ASSETS"))
        .ok_or("set GWLAB_TEST_ASSETS (or KUBEBUILDER_ASSETS) to a directory with kube-apiserver and kube-controller-manager")?;
    let dir = PathBuf::from(dir);
    for bin in ["kube-apiserver", "kube-controller-manager"] {
        if !dir.join(bin).is_file() {
            return Err(format!("{} has no {bin}", dir.display()));
        }
    }
    Ok(dir)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Binaries that lost their run bit (some copies drop it) are copied and made executable.
fn executable(bin: &Path, scratch: &Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(bin)
        .map(|m| m.permissions().mode())
        .unwrap_or(0);
    if mode & 0o111 != 0 {
        return bin.to_path_buf();
    }
    let copy = scratch.join(bin.file_name().unwrap());
    std::fs::copy(bin, &copy).unwrap();
    std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o755)).unwrap();
    copy
}

/// Starts `bin args` under a supervisor that stops it when this test process
/// is gone; its output goes to `log`.
fn supervised(bin: &Path, args: &[String], log: &Path) -> Result<std::process::Child, String> {
    let script = r#"bin="$1"; shift; "$bin" "$@" & child=$!
trap 'kill $child 2>/dev/null; exit 0' TERM INT
trap 'kill -9 $child 2>/dev/null; wait $child 2>/dev/null; exit 0' USR1
while kill -0 "$WATCH" 2>/dev/null && kill -0 "$child" 2>/dev/null; do sleep 0.5; done
kill $child 2>/dev/null; sleep 1; kill -9 $child 2>/dev/null; wait $child 2>/dev/null"#;
    let out = std::fs::File::create(log).map_err(|e| e.to_string())?;
    Command::new("sh")
        .arg("-c")
        .arg(script)
        .arg("supervisor")
        .arg(bin)
        .args(args)
        .env("WATCH", std::process::id().to_string())
        .stdin(Stdio::null())
        .stdout(out.try_clone().map_err(|e| e.to_string())?)
        .stderr(out)
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", bin.display()))
}

struct Certs {
    ca_pem: String,
}

fn write_certs(dir: &Path) -> Certs {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name.push(DnType::CommonName, "envtest CA");
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca, &ca_key);
    let serving_key = KeyPair::generate().unwrap();
    let mut serving = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    serving
        .subject_alt_names
        .push(SanType::IpAddress("127.0.0.1".parse().unwrap()));
    let serving_cert = serving.signed_by(&serving_key, &issuer).unwrap();
    let sa = KeyPair::generate().unwrap();
    let w = |name: &str, text: &str| std::fs::write(dir.join(name), text).unwrap();
    w("ca.crt", &ca_cert.pem());
    w("ca.key", &ca_key.serialize_pem());
    w("serving.crt", &serving_cert.pem());
    w("serving.key", &serving_key.serialize_pem());
    w("sa.key", &sa.serialize_pem());
    w("sa.pub", &sa.public_key_pem());
    w("tokens.csv", "envtest-admin-token,admin,1,system:masters\n");
    Certs {
        ca_pem: ca_cert.pem(),
    }
}

fn kubeconfig(server: &str, ca_pem: &str) -> String {
    use base64::Engine;
    let ca = base64::engine::general_purpose::STANDARD.encode(ca_pem);
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: envtest\n  cluster:\n    server: {server}\n    certificate-authority-data: {ca}\nusers:\n- name: admin\n  user:\n    token: envtest-admin-token\ncontexts:\n- name: envtest\n  context:\n    cluster: envtest\n    user: admin\ncurrent-context: envtest\n"
    )
}

fn start_with(flags: &[&str]) -> Result<Envtest, String> {
    let assets = assets()?;
    let etcd = which("etcd").ok_or("etcd is not on PATH (Debian: apt-get install etcd-server)")?;
    let started = Instant::now();
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let d = dir.path();
    let certs = write_certs(d);
    let apiserver = executable(&assets.join("kube-apiserver"), d);
    let kcm = executable(&assets.join("kube-controller-manager"), d);
    let (client_port, peer_port, api_port, kcm_port) =
        (free_port(), free_port(), free_port(), free_port());
    let s = |x: &str| x.to_string();
    let p = |x: &str| d.join(x).display().to_string();
    supervised(
        &etcd,
        &[
            s("--data-dir"),
            p("etcd"),
            s("--listen-client-urls"),
            format!("http://127.0.0.1:{client_port}"),
            s("--advertise-client-urls"),
            format!("http://127.0.0.1:{client_port}"),
            s("--listen-peer-urls"),
            format!("http://127.0.0.1:{peer_port}"),
            s("--initial-advertise-peer-urls"),
            format!("http://127.0.0.1:{peer_port}"),
            s("--initial-cluster"),
            format!("default=http://127.0.0.1:{peer_port}"),
            s("--unsafe-no-fsync"),
        ],
        &d.join("etcd.log"),
    )?;
    let server = format!("https://127.0.0.1:{api_port}");
    let apiserver_args: Vec<String> = [
        s("--etcd-servers"),
        format!("http://127.0.0.1:{client_port}"),
        s("--bind-address=127.0.0.1"),
        s("--advertise-address=127.0.0.1"),
        format!("--secure-port={api_port}"),
        format!("--tls-cert-file={}", p("serving.crt")),
        format!("--tls-private-key-file={}", p("serving.key")),
        format!("--client-ca-file={}", p("ca.crt")),
        format!("--token-auth-file={}", p("tokens.csv")),
        s("--authorization-mode=RBAC"),
        s("--service-account-issuer=https://kubernetes.default.svc"),
        format!("--service-account-key-file={}", p("sa.pub")),
        format!("--service-account-signing-key-file={}", p("sa.key")),
        s("--service-cluster-ip-range=10.96.0.0/16"),
        s("--allow-privileged=true"),
        s("--enable-admission-plugins=NamespaceLifecycle,ServiceAccount"),
    ]
    .into_iter()
    .chain(flags.iter().map(|f| f.to_string()))
    .collect();
    let apiserver_log = d.join("kube-apiserver.log");
    let apiserver_supervisor = supervised(&apiserver, &apiserver_args, &apiserver_log)?;
    let kc = d.join("kubeconfig");
    std::fs::write(&kc, kubeconfig(&server, &certs.ca_pem)).map_err(|e| e.to_string())?;
    wait_ready(&server, &d.join("ca.crt"), Duration::from_secs(60)).map_err(|e| {
        let log = std::fs::read_to_string(d.join("kube-apiserver.log")).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(15).collect();
        format!(
            "{e}; kube-apiserver log ends:\n{}",
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        )
    })?;
    supervised(
        &kcm,
        &[
            format!("--kubeconfig={}", kc.display()),
            s("--bind-address=127.0.0.1"),
            format!("--secure-port={kcm_port}"),
            format!("--service-account-private-key-file={}", p("sa.key")),
            format!("--root-ca-file={}", p("ca.crt")),
            format!("--cluster-signing-cert-file={}", p("ca.crt")),
            format!("--cluster-signing-key-file={}", p("ca.key")),
            // No kubelet heartbeats here: the node lifecycle controller would
            // mark the stand-in's node unreachable and its Pods not ready.
            s("--controllers=*,-node-lifecycle-controller"),
            s("--leader-elect=false"),
            s("--use-service-account-credentials=false"),
        ],
        &d.join("kube-controller-manager.log"),
    )?;
    eprintln!(
        "envtest: kube-apiserver ready at {server} after {:.1}s",
        started.elapsed().as_secs_f64()
    );
    Ok(Envtest {
        kubeconfig: kc,
        server,
        apiserver: std::sync::Mutex::new(Supervised {
            bin: apiserver,
            args: apiserver_args,
            log: apiserver_log,
            supervisor: apiserver_supervisor,
        }),
        _dir: dir,
    })
}

fn which(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// Polls `/readyz` until it answers 200, on a thread of its own (the caller
/// may be inside a test's runtime).
fn wait_ready(server: &str, ca: &Path, timeout: Duration) -> Result<(), String> {
    let (server, ca) = (server.to_string(), ca.to_path_buf());
    std::thread::spawn(move || poll_ready(&server, &ca, timeout))
        .join()
        .map_err(|_| "the readiness poll panicked".to_string())?
}

fn poll_ready(server: &str, ca: &Path, timeout: Duration) -> Result<(), String> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let ca_pem = std::fs::read(ca).map_err(|e| e.to_string())?;
    let start = Instant::now();
    rt.block_on(async {
        let mut roots = rustls::RootCertStore::empty();
        use rustls::pki_types::pem::PemObject;
        for c in rustls::pki_types::CertificateDer::pem_slice_iter(&ca_pem) {
            roots
                .add(c.map_err(|e| e.to_string())?)
                .map_err(|e| e.to_string())?;
        }
        let tls = rustls::ClientConfig::builder()
            .with_root_certificates(roots)
            .with_no_client_auth();
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .timeout(Duration::from_secs(2))
            .build()
            .map_err(|e| e.to_string())?;
        loop {
            let r = http
                .get(format!("{server}/readyz"))
                .bearer_auth("envtest-admin-token")
                .send()
                .await;
            match r {
                Ok(resp) if resp.status().is_success() => return Ok(()),
                _ if start.elapsed() > timeout => {
                    return Err(format!(
                        "kube-apiserver not ready after {}s",
                        timeout.as_secs()
                    ));
                }
                _ => tokio::time::sleep(Duration::from_millis(250)).await,
            }
        }
    })
}
