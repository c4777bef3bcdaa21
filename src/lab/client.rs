//! What `up`, `down`, `status` and `pull` share: the lab's places, providers
//! and a client for its cluster.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::lab::providers::LabSpec;
use crate::lab::{LabError, cache, state};

pub fn lab_spec(name: &str, http_port: u16, https_port: u16) -> LabSpec {
    LabSpec {
        name: name.into(),
        state_dir: state::dir(name),
        http_port,
        https_port,
        images_dir: images_dir(),
        k3s_bundle: None,
    }
}

/// Where `gwlab pull` leaves image archives that k3s imports at start.
pub fn images_dir() -> PathBuf {
    cache::default_dir().join("images").join("k3s")
}

/// A client for a kubeconfig (and context), as kubectl would build it.
pub async fn kube_client(
    kubeconfig: &Path,
    context: Option<&str>,
) -> Result<kube::Client, LabError> {
    let kc = kube::config::Kubeconfig::read_from(kubeconfig).map_err(LabError::kubeconfig(
        format!("cannot read the kubeconfig {}", kubeconfig.display()),
    ))?;
    let opts = kube::config::KubeConfigOptions {
        context: context.map(String::from),
        ..Default::default()
    };
    let config = kube::Config::from_custom_kubeconfig(kc, &opts)
        .await
        .map_err(LabError::kubeconfig(format!(
            "kubeconfig {}",
            kubeconfig.display()
        )))?;
    kube::Client::try_from(config).map_err(LabError::kube(format!(
        "cannot make a client for the kubeconfig {}",
        kubeconfig.display()
    )))
}

/// Waits until the API server answers (k3s serves a little after it writes
/// its kubeconfig); returns its version.
pub(crate) async fn api_ready(
    client: &kube::Client,
    timeout: Duration,
) -> Result<String, LabError> {
    api_ready_as(client, "the API server", timeout).await
}

/// [`api_ready`], naming the API server as `what` when it does not answer.
pub(crate) async fn api_ready_as(
    client: &kube::Client,
    what: &str,
    timeout: Duration,
) -> Result<String, LabError> {
    match crate::kube_api::retrying(timeout, || client.apiserver_version()).await {
        Ok(v) => Ok(v.git_version),
        // Still no answer when time ran out.
        Err(e) if crate::kube_api::is_transient(&e) => Err(LabError::NoAnswer {
            what: what.into(),
            secs: timeout.as_secs(),
            source: Box::new(e),
        }),
        // An answer that is not trouble (401, 403, ...) will not change.
        Err(e) => Err(LabError::kube(format!("{what} answered"))(e)),
    }
}

/// A client for downloads: no proxy surprises, a bounded time.
pub(crate) fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()
        .expect("an HTTP client")
}

/// The cluster a command works on, as kubectl would choose it: `--kubeconfig`
/// / `--context` when given; else the lab's own kubeconfig when the lab
/// exists; else KUBECONFIG or ~/.kube/config. The lab state comes along when
/// the lab's cluster is the one used (for its host ports and certificate).
pub(crate) async fn cluster_client(
    kubeconfig: Option<PathBuf>,
    context: Option<String>,
    lab: &str,
) -> Result<(kube::Client, Option<state::LabState>), LabError> {
    let (client, lab, _) = cluster_client_at(kubeconfig, context, lab).await?;
    Ok((client, lab))
}

/// [`cluster_client`], and the API server it talks to, for messages.
pub(crate) async fn cluster_client_at(
    kubeconfig: Option<PathBuf>,
    context: Option<String>,
    lab: &str,
) -> Result<(kube::Client, Option<state::LabState>, String), LabError> {
    let (path, context, st) = if kubeconfig.is_some() || context.is_some() {
        let path = crate::lab::providers::existing::default_kubeconfig(kubeconfig);
        (path, context, None)
    } else if let Some(st) = state::LabState::load(lab)? {
        (
            st.cluster.kubeconfig.clone(),
            st.cluster.context.clone(),
            Some(st),
        )
    } else {
        let path = crate::lab::providers::existing::default_kubeconfig(None);
        if !path.exists() {
            return Err(LabError::Refused(format!(
                "no cluster: there is no lab named {lab} (create one with `gwlab up`) and no kubeconfig at {}; give --kubeconfig/--context",
                path.display()
            )));
        }
        (path, None, None)
    };
    let client = kube_client(&path, context.as_deref()).await?;
    let server = match server_of(&path, context.as_deref()) {
        Some(url) => format!("the API server at {url} (kubeconfig {})", path.display()),
        None => format!("the API server of the kubeconfig {}", path.display()),
    };
    Ok((client, st, server))
}

/// The API server a kubeconfig's context (or its current one) points at.
fn server_of(kubeconfig: &Path, context: Option<&str>) -> Option<String> {
    let kc = kube::config::Kubeconfig::read_from(kubeconfig).ok()?;
    let name = context.map(String::from).or(kc.current_context.clone())?;
    let ctx = kc
        .contexts
        .iter()
        .find(|c| c.name == name)?
        .context
        .as_ref()?;
    let cluster = kc
        .clusters
        .iter()
        .find(|c| c.name == ctx.cluster)?
        .cluster
        .as_ref()?;
    cluster.server.clone()
}
