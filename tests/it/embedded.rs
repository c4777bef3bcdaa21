//! The embedded target through its Rust interface: what it serves on the wire.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use gwlab::manifest::parse_text;
use gwlab::run::deploy::resolve_namespace;
use gwlab::targets::embedded::EmbeddedTarget;
use gwlab::targets::embedded::tls::LabCa;
use gwlab::targets::{GatewayRef, Target};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};

fn fixture(path: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).unwrap()
}

/// Completes a TLS handshake to `addr` with SNI `name`, trusting only `root`.
async fn handshake(
    addr: std::net::SocketAddr,
    name: &str,
    root: CertificateDer<'static>,
) -> Result<(), String> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(root).map_err(|e| e.to_string())?;
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let tcp = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|e| e.to_string())?;
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    connector
        .connect(ServerName::try_from(name.to_string()).unwrap(), tcp)
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}

#[tokio::test]
async fn https_listeners_serve_their_secret_and_the_lab_gateway_its_own_ca() {
    let ca = Arc::new(LabCa::new().unwrap());
    let mut target = EmbeddedTarget::start(ca.clone(), BTreeMap::new())
        .await
        .unwrap();
    let dir = "tests/scenarios/listener-hostnames";
    for file in ["secret.yaml", "gateway.yaml"] {
        for m in parse_text(Path::new(file), &fixture(&format!("{dir}/{file}"))).unwrap() {
            target
                .apply(&resolve_namespace(&m, "t"), "run")
                .await
                .unwrap();
        }
    }
    let secret = fixture(&format!("{dir}/secret.yaml"));
    let crt_b64 = secret
        .lines()
        .find_map(|l| l.trim().strip_prefix("tls.crt: "))
        .unwrap();
    use base64::Engine;
    let pem = base64::engine::general_purpose::STANDARD
        .decode(crt_b64)
        .unwrap();
    let secret_cert = CertificateDer::from_pem_slice(&pem).unwrap();

    let edge = target
        .gateway_address(
            &GatewayRef {
                namespace: "t".into(),
                name: "edge".into(),
            },
            443,
        )
        .await
        .unwrap();
    handshake(edge, "secure.example.com", secret_cert.clone())
        .await
        .expect("the Secret's certificate is served");
    assert!(
        handshake(edge, "secure.example.com", ca.ca_der())
            .await
            .is_err(),
        "not a lab-CA certificate"
    );

    let lab = target
        .gateway_address(
            &GatewayRef {
                namespace: "kong-system".into(),
                name: "kong".into(),
            },
            443,
        )
        .await
        .unwrap();
    handshake(lab, "anything.example.com", ca.ca_der())
        .await
        .expect("the lab Gateway serves lab-CA certificates for any name");
    assert!(
        handshake(lab, "anything.example.com", secret_cert)
            .await
            .is_err()
    );
}

#[tokio::test]
async fn deleting_a_gateway_stops_its_sockets() {
    let ca = Arc::new(LabCa::new().unwrap());
    let mut target = EmbeddedTarget::start(ca, BTreeMap::new()).await.unwrap();
    let gw = "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: g}\nspec:\n  gatewayClassName: kong\n  listeners: [{name: web, protocol: HTTP, port: 8080}]\n";
    let m = resolve_namespace(&parse_text(Path::new("g.yaml"), gw).unwrap()[0], "t");
    target.apply(&m, "run").await.unwrap();
    let r = GatewayRef {
        namespace: "t".into(),
        name: "g".into(),
    };
    let addr = target.gateway_address(&r, 8080).await.unwrap();
    assert!(tokio::net::TcpStream::connect(addr).await.is_ok());
    target.delete(&m).await.unwrap();
    assert!(target.gateway_address(&r, 8080).await.is_err());
    // The socket is closed once the server task is aborted.
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}
