//! The lab CA and the certificates the embedded gateway serves: a Secret's own
//! certificate where a listener names one, else one minted per SNI name by the
//! lab CA, so `tls.verify: true` works for any hostname.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

use super::server::{Scope, SharedState};
use crate::model::compile::CertificatePem;
use crate::model::evaluate::select_listener;

/// Why the lab CA cannot give a certificate for a handshake.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CertError {
    #[error("cannot make a certificate for {name}: {source}")]
    Mint {
        name: String,
        #[source]
        source: rcgen::Error,
    },
    #[error("cannot load the key for {name}: {source}")]
    LoadKey {
        name: String,
        #[source]
        source: rustls::Error,
    },
    #[error("tls.crt: {0}")]
    Chain(#[source] pem::Error),
    #[error("tls.crt holds no certificate")]
    EmptyChain,
    #[error("tls.key: {0}")]
    KeyPem(#[source] pem::Error),
    #[error("tls.key: {0}")]
    Key(#[source] rustls::Error),
}

pub struct LabCa {
    issuer: CertifiedIssuer<'static, KeyPair>,
    leaves: Mutex<HashMap<String, Arc<CertifiedKey>>>,
    parsed: Mutex<HashMap<CertificatePem, Arc<CertifiedKey>>>,
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
            parsed: Mutex::new(HashMap::new()),
        })
    }

    /// The CA certificate (DER), which probes with `tls.verify: true` trust.
    pub fn ca_der(&self) -> CertificateDer<'static> {
        self.issuer.der().clone()
    }

    /// A certificate for `name`, minted on first use and kept.
    pub(crate) fn leaf(&self, name: &str) -> Result<Arc<CertifiedKey>, CertError> {
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
        let (cert, key) = mint().map_err(|source| CertError::Mint {
            name: name.to_string(),
            source,
        })?;
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key));
        let provider = rustls::crypto::ring::default_provider();
        let signing = provider
            .key_provider
            .load_private_key(key)
            .map_err(|source| CertError::LoadKey {
                name: name.to_string(),
                source,
            })?;
        let certified = Arc::new(CertifiedKey::new(
            vec![CertificateDer::from(cert), self.ca_der()],
            signing,
        ));
        leaves.insert(name.to_string(), certified.clone());
        Ok(certified)
    }

    /// A certificate from PEM text (a Secret's tls.crt and tls.key), kept once parsed.
    pub(crate) fn certified(&self, pem: &CertificatePem) -> Result<Arc<CertifiedKey>, CertError> {
        let mut parsed = self.parsed.lock().expect("parsed cache lock");
        if let Some(k) = parsed.get(pem) {
            return Ok(k.clone());
        }
        let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&pem.chain)
            .collect::<Result<_, _>>()
            .map_err(CertError::Chain)?;
        if chain.is_empty() {
            return Err(CertError::EmptyChain);
        }
        let key = PrivateKeyDer::from_pem_slice(&pem.key).map_err(CertError::KeyPem)?;
        let signing = rustls::crypto::ring::default_provider()
            .key_provider
            .load_private_key(key)
            .map_err(CertError::Key)?;
        let certified = Arc::new(CertifiedKey::new(chain, signing));
        parsed.insert(pem.clone(), certified.clone());
        Ok(certified)
    }
}

/// Picks the certificate for a TLS handshake: the listener that the SNI name
/// selects (on the socket's Gateway port, or on any Gateway's HTTPS port for a
/// shared socket) serves its Secret's certificate; the lab Gateway (and a
/// client without SNI) get one minted by the lab CA.
#[derive(Debug)]
pub struct PortResolver {
    pub ca: Arc<LabCa>,
    pub state: SharedState,
    pub scope: Scope,
}

impl ResolvesServerCert for PortResolver {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let name = hello
            .server_name()
            .unwrap_or("localhost")
            .to_ascii_lowercase();
        let compiled = self.state.read().expect("state lock").clone();
        let certificate = match &self.scope {
            Scope::Listener(key) => compiled
                .gateway(&key.namespace, &key.gateway)
                .and_then(|gw| select_listener(gw, key.port, &name))
                .and_then(|l| l.certificate.clone()),
            Scope::Shared => compiled.gateways.values().find_map(|gw| {
                gw.ports()
                    .into_iter()
                    .filter(|(_, protocol)| protocol == "HTTPS")
                    .find_map(|(port, _)| select_listener(gw, port, &name)?.certificate.clone())
            }),
        };
        match certificate.as_ref() {
            Some(pem) => self.ca.certified(pem).ok(),
            None => self.ca.leaf(&name).ok(),
        }
    }
}

pub fn server_config(resolver: PortResolver) -> rustls::ServerConfig {
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("ring supports the default TLS versions")
    .with_no_client_auth()
    .with_cert_resolver(Arc::new(resolver));
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    config
}
