//! What gwlab keeps about a lab: `$XDG_STATE_HOME/gwlab/<lab>/` with the lab's
//! kubeconfig (mode 0600) and `lab.json`.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::ClusterError;

/// The state directory of a lab.
pub fn dir(lab: &str) -> PathBuf {
    let base = match std::env::var_os("XDG_STATE_HOME").filter(|d| !d.is_empty()) {
        Some(d) => PathBuf::from(d),
        None => std::env::var_os("HOME")
            .map(PathBuf::from)
            .unwrap_or_else(std::env::temp_dir)
            .join(".local")
            .join("state"),
    };
    base.join("gwlab").join(lab)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LabState {
    pub name: String,
    pub provider: String,
    pub kubeconfig: PathBuf,
    pub context: Option<String>,
    /// The API server as the kubeconfig names it.
    pub api: String,
    /// The Docker network of the nodes (for the MetalLB pool), if any.
    pub network: Option<String>,
    /// Host ports mapped to the Kong proxy's NodePorts for 80 and 443.
    pub http_port: Option<u16>,
    pub https_port: Option<u16>,
    pub addons: Vec<String>,
}

impl LabState {
    pub fn path(lab: &str) -> PathBuf {
        dir(lab).join("lab.json")
    }

    pub fn load(lab: &str) -> Result<Option<LabState>, ClusterError> {
        let path = Self::path(lab);
        match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text)
                .map(Some)
                .map_err(|e| ClusterError::Provider(format!("{}: {e}", path.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(ClusterError::Provider(format!("{}: {e}", path.display()))),
        }
    }

    pub fn save(&self) -> Result<(), ClusterError> {
        let path = Self::path(&self.name);
        write_private(
            &path,
            serde_json::to_string_pretty(self)
                .expect("state serialises")
                .as_bytes(),
        )
    }
}

/// Writes a file readable by its owner only (kubeconfigs hold credentials).
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<(), ClusterError> {
    use std::io::Write;
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let io =
        |e: std::io::Error| ClusterError::Provider(format!("cannot write {}: {e}", path.display()));
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io)?;
    }
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(io)?;
    // An existing file keeps its mode on open: set it.
    f.set_permissions(std::fs::Permissions::from_mode(0o600))
        .map_err(io)?;
    f.write_all(bytes).map_err(io)
}

/// Replaces the server of every cluster in a kubeconfig (k3s writes
/// `https://127.0.0.1:6443`; the published port differs).
pub fn rewrite_server(kubeconfig: &str, server: &str) -> String {
    kubeconfig
        .lines()
        .map(|l| match l.trim_start().strip_prefix("server:") {
            Some(_) => format!("{}server: {server}", &l[..l.len() - l.trim_start().len()]),
            None => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubeconfig_server_is_rewritten_and_nothing_else() {
        let k = "apiVersion: v1\nclusters:\n- cluster:\n    certificate-authority-data: QUJD\n    server: https://127.0.0.1:6443\n  name: default\n";
        let out = rewrite_server(k, "https://127.0.0.1:41234");
        assert!(out.contains("    server: https://127.0.0.1:41234\n"));
        assert!(out.contains("certificate-authority-data: QUJD"));
        assert!(!out.contains("6443"));
    }

    #[test]
    fn private_files_are_0600() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a/kubeconfig");
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, "old").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        write_private(&p, b"new").unwrap();
        assert_eq!(
            std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "new");
    }
}
