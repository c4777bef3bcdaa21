//! The lab Gateway's certificate, made once per lab and kept in its state
//! directory, as the Secret `kong-system/kong-lab-tls`.

use std::path::Path;

use base64::Engine;
use rcgen::{CertificateParams, DnType, KeyPair};

use super::LabError;
use super::state::write_private;

pub const SECRET_NAME: &str = "kong-lab-tls";

/// Names the lab certificate covers: the hostnames scenarios use most.
pub(crate) const NAMES: &[&str] = &[
    "localhost",
    "example.com",
    "*.example.com",
    "imprun.dev",
    "*.imprun.dev",
];

/// The TLS Secret, from `state_dir` (created there on first use, key 0600).
pub(crate) fn lab_tls_secret(state_dir: &Path) -> Result<serde_json::Value, LabError> {
    let cert_path = state_dir.join("lab-tls.crt");
    let key_path = state_dir.join("lab-tls.key");
    let (cert, key) = match (
        std::fs::read_to_string(&cert_path),
        std::fs::read_to_string(&key_path),
    ) {
        (Ok(c), Ok(k)) => (c, k),
        _ => {
            let err = LabError::data::<rcgen::Error>("cannot make the lab certificate");
            let mut params =
                CertificateParams::new(NAMES.iter().map(|s| s.to_string()).collect::<Vec<_>>())
                    .map_err(err)?;
            let err = LabError::data::<rcgen::Error>("cannot make the lab certificate");
            params
                .distinguished_name
                .push(DnType::CommonName, "gwlab lab gateway");
            let key = KeyPair::generate().map_err(err)?;
            let err = LabError::data::<rcgen::Error>("cannot make the lab certificate");
            let cert = params.self_signed(&key).map_err(err)?;
            write_private(&cert_path, cert.pem().as_bytes())?;
            write_private(&key_path, key.serialize_pem().as_bytes())?;
            (cert.pem(), key.serialize_pem())
        }
    };
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    Ok(serde_json::json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": SECRET_NAME, "namespace": "kong-system"},
        "type": "kubernetes.io/tls",
        "data": {"tls.crt": b64(&cert), "tls.key": b64(&key)},
    }))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_certificate_is_made_once_and_kept_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let a = super::lab_tls_secret(dir.path()).unwrap();
        let b = super::lab_tls_secret(dir.path()).unwrap();
        assert_eq!(a, b, "re-running `gwlab up` keeps the certificate");
        assert_eq!(a["type"], "kubernetes.io/tls");
        let mode = std::fs::metadata(dir.path().join("lab-tls.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
