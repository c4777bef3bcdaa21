//! The lab CA and the certificates the embedded gateway serves: one minted per
//! SNI name, signed by the lab CA, so `tls.verify: true` works for any hostname.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

pub struct LabCa {
    issuer: CertifiedIssuer<'static, KeyPair>,
    leaves: Mutex<HashMap<String, Arc<CertifiedKey>>>,
}

impl fmt::Debug for LabCa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LabCa")
    }
}

impl LabCa {
    pub fn new() -> Result<Self, rcgen::Error> {
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params
            .distinguished_name
            .push(DnType::CommonName, "gwlab lab CA");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let issuer = CertifiedIssuer::self_signed(params, KeyPair::generate()?)?;
        Ok(LabCa {
            issuer,
            leaves: Mutex::new(HashMap::new()),
        })
    }

    /// The CA certificate (DER), which probes with `tls.verify: true` trust.
    pub fn ca_der(&self) -> CertificateDer<'static> {
        self.issuer.der().clone()
    }

    pub fn ca_pem(&self) -> String {
        self.issuer.pem()
    }

    /// A certificate for `name`, minted on first use and kept.
    pub fn leaf(&self, name: &str) -> Result<Arc<CertifiedKey>, String> {
        let mut leaves = self.leaves.lock().expect("leaf cache lock");
        if let Some(k) = leaves.get(name) {
            return Ok(k.clone());
        }
        let mint = || -> Result<(Vec<u8>, Vec<u8>), rcgen::Error> {
            let mut params = CertificateParams::new(vec![name.to_string()])?;
            params.distinguished_name.push(DnType::CommonName, name);
            let key = KeyPair::generate()?;
            let cert = params.signed_by(&key, &self.issuer)?;
            Ok((cert.der().to_vec(), key.serialize_der()))
        };
        let (cert, key) =
            mint().map_err(|e| format!("cannot make a certificate for {name}: {e}"))?;
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key));
        let provider = rustls::crypto::ring::default_provider();
        let signing = provider
            .key_provider
            .load_private_key(key)
            .map_err(|e| format!("cannot load the key for {name}: {e}"))?;
        let certified = Arc::new(CertifiedKey::new(
            vec![CertificateDer::from(cert), self.ca_der()],
            signing,
        ));
        leaves.insert(name.to_string(), certified.clone());
        Ok(certified)
    }
}

/// Serves the leaf for the client's SNI name (`localhost` when it sends none).
#[derive(Debug)]
pub struct SniResolver(pub Arc<LabCa>);

impl ResolvesServerCert for SniResolver {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let name = hello
            .server_name()
            .unwrap_or("localhost")
            .to_ascii_lowercase();
        self.0.leaf(&name).ok()
    }
}

pub fn server_config(ca: Arc<LabCa>) -> rustls::ServerConfig {
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("ring supports the default TLS versions")
    .with_no_client_auth()
    .with_cert_resolver(Arc::new(SniResolver(ca)));
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    config
}
