//! An existing cluster: any kubeconfig context (`--kubeconfig`, `--context`,
//! `KUBECONFIG`). Nothing is created or deleted; real clusters have their own
//! load balancers, so MetalLB is not installed unless asked for.

use std::path::PathBuf;

use super::{LabSpec, Provider, Provisioned};
use crate::lab::LabError;

pub(crate) struct Existing {
    pub kubeconfig: PathBuf,
    pub context: Option<String>,
}

/// The kubeconfig kubectl would use: `--kubeconfig`, else the first file of
/// `KUBECONFIG`, else `~/.kube/config`.
pub(crate) fn default_kubeconfig(flag: Option<PathBuf>) -> PathBuf {
    if let Some(p) = flag {
        return p;
    }
    if let Some(k) = std::env::var_os("KUBECONFIG").filter(|k| !k.is_empty())
        && let Some(first) = std::env::split_paths(&k).next()
    {
        return first;
    }
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default()
        .join(".kube")
        .join("config")
}

impl Provider for Existing {
    async fn provision(&self, _lab: &LabSpec) -> Result<Provisioned, LabError> {
        let text = std::fs::read_to_string(&self.kubeconfig).map_err(LabError::io(format!(
            "cannot read the kubeconfig {} (give one with --kubeconfig or KUBECONFIG)",
            self.kubeconfig.display()
        )))?;
        if let Some(ctx) = &self.context
            && !text.contains(&format!("name: {ctx}"))
        {
            return Err(LabError::Refused(format!(
                "the kubeconfig {} has no context {ctx}",
                self.kubeconfig.display()
            )));
        }
        let api = crate::lab::state::server_of(&text, self.context.as_deref()).unwrap_or_default();
        Ok(Provisioned {
            kubeconfig: self.kubeconfig.clone(),
            context: self.context.clone(),
            api,
            network: None,
            http_port: None,
            https_port: None,
            node_image: None,
        })
    }

    async fn delete(&self, _lab: &LabSpec) -> Result<Vec<String>, LabError> {
        Ok(Vec::new())
    }
}
