//! An HTTP client pinned to one gateway address: the request keeps the probe
//! URL's host in `Host` and in SNI while the connection goes where the target says.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

use super::observe::Observation;

/// Why a probe's client cannot be made.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ClientError {
    #[error("{0}")]
    Protocols(#[source] rustls::Error),
    #[error("tls.verify: true, but this target has no lab CA to verify against")]
    NoLabCa,
    #[error("the lab CA is not usable: {0}")]
    LabCa(#[source] rustls::Error),
    #[error("the URL has no host")]
    NoHost,
    #[error("cannot set the port")]
    SetPort,
    #[error("cannot set the address")]
    SetAddress,
    #[error("cannot build the HTTP client: {0}")]
    Build(#[source] reqwest::Error),
}

/// Why a request got no response.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SendError {
    #[error("{0}")]
    Method(#[source] http::method::InvalidMethod),
    /// Displayed with every underlying cause, as `error: cause: cause...`.
    #[error("{}", describe(.0))]
    Transport(#[source] reqwest::Error),
    #[error("request task failed: {0}")]
    Task(#[source] tokio::task::JoinError),
}

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
) -> Result<rustls::ClientConfig, ClientError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(ClientError::Protocols)?;
    let mut config = if verify {
        let mut roots = rustls::RootCertStore::empty();
        let anchor = anchor.ok_or(ClientError::NoLabCa)?;
        roots.add(anchor).map_err(ClientError::LabCa)?;
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
pub(crate) fn written_port(raw: &str) -> Option<u16> {
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
pub(crate) struct PinnedClient {
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
    ) -> Result<Self, ClientError> {
        let host = url.host_str().ok_or(ClientError::NoHost)?.to_string();
        let host_header = match written_port(raw) {
            Some(p) => format!("{host}:{p}"),
            None => host.clone(),
        };
        let mut wire_url = url.clone();
        wire_url
            .set_port(Some(addr.port()))
            .map_err(|()| ClientError::SetPort)?;
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
                    .map_err(|()| ClientError::SetAddress)?;
            } else {
                // SNI comes from the URL host; DNS for it is pinned to the target.
                builder = builder.resolve(&host, addr);
            }
        } else {
            wire_url
                .set_ip_host(addr.ip())
                .map_err(|()| ClientError::SetAddress)?;
        }
        let client = builder.build().map_err(ClientError::Build)?;
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
    ) -> Result<Observation, SendError> {
        let method = reqwest::Method::from_bytes(method.as_bytes()).map_err(SendError::Method)?;
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
        let resp = req.send().await.map_err(SendError::Transport)?;
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
        let body = resp.text().await.map_err(SendError::Transport)?;
        Ok(Observation::new(status, headers, body))
    }
}

/// An error with its chain of causes, `: `-separated; a connection the
/// address refused or that went unanswered is said first, naming the
/// address (read from the I/O error in the chain, not from the text).
fn describe(e: &reqwest::Error) -> String {
    let mut s = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(inner) = src {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        src = inner.source();
    }
    let io = crate::causes::io_cause(e).map(std::io::Error::kind);
    let at = e
        .url()
        .and_then(|u| Some(format!("{}:{}", u.host_str()?, u.port_or_known_default()?)));
    match (io, at) {
        (Some(std::io::ErrorKind::ConnectionRefused), Some(at)) => {
            format!(
                "the Gateway address {at} refused the connection (is the data plane there, and is the address right?): {s}"
            )
        }
        (Some(std::io::ErrorKind::TimedOut), Some(at)) => {
            format!("the Gateway address {at} did not answer in time: {s}")
        }
        _ => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr() -> SocketAddr {
        "127.0.0.1:9".parse().unwrap()
    }

    #[test]
    fn clients_that_cannot_be_made_say_why() {
        let no_host = url::Url::parse("unix:/run/x").unwrap();
        let e = PinnedClient::new("unix:/run/x", &no_host, addr(), false, None)
            .err()
            .expect("no host");
        assert!(matches!(e, ClientError::NoHost));
        assert_eq!(e.to_string(), "the URL has no host");
        let https = url::Url::parse("https://a.example.com/").unwrap();
        let e = PinnedClient::new(https.as_str(), &https, addr(), true, None)
            .err()
            .expect("no lab CA");
        assert_eq!(
            e.to_string(),
            "tls.verify: true, but this target has no lab CA to verify against"
        );
        let e = tls_config(true, Some(CertificateDer::from(vec![1, 2, 3])))
            .expect_err("not a certificate");
        assert!(
            e.to_string().starts_with("the lab CA is not usable: "),
            "{e}"
        );
        assert!(std::error::Error::source(&e).is_some());
    }

    #[tokio::test]
    async fn an_invalid_method_fails_before_sending() {
        let u = url::Url::parse("http://a.example.com/").unwrap();
        let c = PinnedClient::new(u.as_str(), &u, addr(), false, None).unwrap();
        let e = c
            .send("BAD METHOD", &Default::default(), None)
            .await
            .expect_err("invalid method");
        assert!(matches!(e, SendError::Method(_)));
        assert_eq!(e.to_string(), "invalid HTTP method");
    }

    #[tokio::test]
    async fn a_gateway_address_that_refuses_is_named() {
        // A port nothing listens on: a real refusal.
        let free = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let u = url::Url::parse("http://a.example.com/").unwrap();
        let c = PinnedClient::new(u.as_str(), &u, free, false, None).unwrap();
        let e = c.send("GET", &Default::default(), None).await.unwrap_err();
        assert!(
            e.to_string().starts_with(&format!(
                "the Gateway address {free} refused the connection (is the data plane there, and is the address right?): "
            )),
            "{e}"
        );
    }

    #[test]
    fn written_ports_are_read_from_the_url_text() {
        assert_eq!(written_port("http://a.example.com:80/x"), Some(80));
        assert_eq!(
            super::written_port("https://a.example.com:8443"),
            Some(8443)
        );
        assert_eq!(written_port("http://a.example.com/x:9"), None);
        assert_eq!(written_port("http://[::1]:8080/"), Some(8080));
        assert_eq!(written_port("http://[::1]/"), None);
        assert_eq!(written_port("http://user:pw@a.example.com/"), None);
    }
}
