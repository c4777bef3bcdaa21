//! An HTTP client pinned to one gateway address: the request keeps the probe
//! URL's host in `Host` and in SNI while the connection goes where the target says.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

use super::observe::Observation;

/// Accepts any certificate (the lab's is self-made), still checking handshake signatures.
#[derive(Debug)]
struct AcceptAnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

fn tls_config(
    verify: bool,
    anchor: Option<CertificateDer<'static>>,
) -> Result<rustls::ClientConfig, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?;
    let mut config = if verify {
        let mut roots = rustls::RootCertStore::empty();
        let anchor =
            anchor.ok_or("tls.verify: true, but this target has no lab CA to verify against")?;
        roots
            .add(anchor)
            .map_err(|e| format!("the lab CA is not usable: {e}"))?;
        builder.with_root_certificates(roots).with_no_client_auth()
    } else {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate(provider)))
            .with_no_client_auth()
    };
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// The port written in a URL's authority, if any (`http://a:80/` gives 80).
pub fn written_port(raw: &str) -> Option<u16> {
    let rest = raw.split_once("://").map(|(_, r)| r)?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host_port = authority
        .rsplit_once('@')
        .map(|(_, h)| h)
        .unwrap_or(authority);
    let after_host = match host_port.strip_prefix('[') {
        Some(v6) => v6.split_once(']')?.1,
        None => host_port
            .split_once(':')
            .map(|(_, p)| p)
            .map(|p| &host_port[host_port.len() - p.len() - 1..])
            .unwrap_or(""),
    };
    after_host.strip_prefix(':')?.parse().ok()
}

/// A client for one probe: requests to `url` go to `addr`. Clones share connections.
#[derive(Clone)]
pub struct PinnedClient {
    client: reqwest::Client,
    /// The URL actually requested: the probe URL with the port (and, for plain
    /// http or IP hosts, the host) of the target address.
    wire_url: url::Url,
    host_header: String,
}

impl PinnedClient {
    /// `raw` is the URL as written: a port written there goes into `Host`,
    /// even a default one (which the parsed `url` drops).
    pub fn new(
        raw: &str,
        url: &url::Url,
        addr: SocketAddr,
        verify: bool,
        anchor: Option<CertificateDer<'static>>,
    ) -> Result<Self, String> {
        let host = url.host_str().ok_or("the URL has no host")?.to_string();
        let host_header = match written_port(raw) {
            Some(p) => format!("{host}:{p}"),
            None => host.clone(),
        };
        let mut wire_url = url.clone();
        wire_url
            .set_port(Some(addr.port()))
            .map_err(|_| "cannot set the port")?;
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .timeout(Duration::from_secs(10))
            .pool_max_idle_per_host(4);
        let is_ip = url
            .host()
            .is_some_and(|h| !matches!(h, url::Host::Domain(_)));
        // Always our own TLS configuration: reqwest's default would load the
        // platform's root store for every client, which costs more than a probe.
        builder = builder
            .tls_backend_preconfigured(tls_config(verify && url.scheme() == "https", anchor)?);
        if url.scheme() == "https" {
            if is_ip {
                wire_url
                    .set_ip_host(addr.ip())
                    .map_err(|_| "cannot set the address")?;
            } else {
                // SNI comes from the URL host; DNS for it is pinned to the target.
                builder = builder.resolve(&host, addr);
            }
        } else {
            wire_url
                .set_ip_host(addr.ip())
                .map_err(|_| "cannot set the address")?;
        }
        let client = builder
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        Ok(PinnedClient {
            client,
            wire_url,
            host_header,
        })
    }

    pub async fn send(
        &self,
        method: &str,
        headers: &std::collections::BTreeMap<String, String>,
        body: Option<&str>,
    ) -> Result<Observation, String> {
        let method = reqwest::Method::from_bytes(method.as_bytes()).map_err(|e| e.to_string())?;
        let mut req = self
            .client
            .request(method, self.wire_url.clone())
            .header(reqwest::header::HOST, &self.host_header);
        for (k, v) in headers {
            req = req.header(k.as_str(), v.as_str());
        }
        if let Some(b) = body {
            req = req.body(b.to_string());
        }
        let resp = req.send().await.map_err(|e| describe(&e))?;
        let status = resp.status().as_u16();
        let headers = resp
            .headers()
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let body = resp.text().await.map_err(|e| describe(&e))?;
        Ok(Observation::new(status, headers, body))
    }
}

fn describe(e: &reqwest::Error) -> String {
    let mut s = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(inner) = src {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        src = inner.source();
    }
    s
}

#[cfg(test)]
mod tests {
    #[test]
    fn written_ports_are_read_from_the_url_text() {
        assert_eq!(super::written_port("http://a.example.com:80/x"), Some(80));
        assert_eq!(
            super::written_port("https://a.example.com:8443"),
            Some(8443)
        );
        assert_eq!(super::written_port("http://a.example.com/x:9"), None);
        assert_eq!(super::written_port("http://[::1]:8080/"), Some(8080));
        assert_eq!(super::written_port("http://[::1]/"), None);
        assert_eq!(super::written_port("http://user:pw@a.example.com/"), None);
    }
}
