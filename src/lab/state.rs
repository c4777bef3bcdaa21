//! What gwlab keeps about a lab: `$XDG_STATE_HOME/gwlab/<lab>/` with the lab's
//! kubeconfig (mode 0600) and `lab.json`.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::LabError;
use super::providers::{ProviderKind, Provisioned};
use crate::ownership::Created;

fn base() -> PathBuf {
    match std::env::var_os("XDG_STATE_HOME").filter(|d| !d.is_empty()) {
        Some(d) => PathBuf::from(d),
        None => std::env::var_os("HOME")
            .map(PathBuf::from)
            .unwrap_or_else(std::env::temp_dir)
            .join(".local")
            .join("state"),
    }
}

/// The state directory of a lab.
pub fn dir(lab: &str) -> PathBuf {
    base().join("gwlab").join(lab)
}

/// Where a test run records the objects it created (see `ownership::RunRecord`).
pub(crate) fn run_record(run: &str) -> PathBuf {
    base().join("gwlab-runs").join(format!("{run}.json"))
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LabState {
    pub name: String,
    pub provider: ProviderKind,
    /// What the provider made: kubeconfig, API server, network, host ports.
    #[serde(flatten)]
    pub cluster: Provisioned,
    pub addons: Vec<String>,
    /// The objects `up` created in the cluster, oldest first: the only ones
    /// `down` deletes on a cluster gwlab did not create.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub created: Vec<Created>,
    /// Objects taken over with `--adopt`: they existed before, so `down` keeps them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub adopted: Vec<Created>,
    /// The images the addons' pod specs name, as `up` last applied them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<crate::lab::images::LabImage>,
}

impl LabState {
    pub fn path(lab: &str) -> PathBuf {
        dir(lab).join("lab.json")
    }

    pub fn load(lab: &str) -> Result<Option<LabState>, LabError> {
        let path = Self::path(lab);
        match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text)
                .map(Some)
                .map_err(LabError::data(path.display().to_string())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(LabError::io(path.display().to_string())(e)),
        }
    }

    /// The lab `gwlab up` made on the API server `api` (as a kubeconfig
    /// names it), among the labs whose state is kept here.
    pub(crate) fn on_server(api: &str) -> Result<Option<LabState>, LabError> {
        let labs = base().join("gwlab");
        let entries = match std::fs::read_dir(&labs) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(LabError::io(labs.display().to_string())(e)),
        };
        for entry in entries {
            let entry = entry.map_err(LabError::io(labs.display().to_string()))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some(st) = Self::load(&name)?
                && st.cluster.api == api
            {
                return Ok(Some(st));
            }
        }
        Ok(None)
    }

    pub fn save(&self) -> Result<(), LabError> {
        let path = Self::path(&self.name);
        write_private(
            &path,
            serde_json::to_string_pretty(self)
                .expect("state serialises")
                .as_bytes(),
        )
    }
}

/// Where a cluster is, for a run's first line: the lab, or the kubeconfig's
/// cluster.
pub(crate) fn describe(lab: &Option<LabState>) -> String {
    match lab {
        Some(l) => format!("lab {} ({}, {})", l.name, l.provider, l.cluster.api),
        None => "the kubeconfig's cluster".to_string(),
    }
}

/// Writes a file readable by its owner only (kubeconfigs hold credentials).
pub(crate) fn write_private(path: &Path, bytes: &[u8]) -> Result<(), LabError> {
    use std::io::Write;
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let io = |e: std::io::Error| LabError::io(format!("cannot write {}", path.display()))(e);
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

/// The lab's kubeconfig from the one k3s writes: the server rewritten to the
/// published port (k3s says `https://127.0.0.1:6443`), and k3s's `default`
/// cluster, user and context renamed `gwlab-<lab>` so that merging it into a
/// user's kubeconfig never collides with another `default`.
pub(crate) fn lab_kubeconfig(raw: &str, server: &str, lab: &str) -> Result<String, LabError> {
    let mut kc = kube::config::Kubeconfig::from_yaml(raw).map_err(LabError::kubeconfig(
        "k3s wrote a kubeconfig gwlab cannot read",
    ))?;
    let name = format!("gwlab-{lab}");
    let rename = |n: &mut String| {
        if n == "default" {
            *n = name.clone();
        }
    };
    for c in &mut kc.clusters {
        rename(&mut c.name);
        if let Some(cluster) = c.cluster.as_mut() {
            cluster.server = Some(server.to_string());
        }
    }
    for a in &mut kc.auth_infos {
        rename(&mut a.name);
    }
    for c in &mut kc.contexts {
        rename(&mut c.name);
        if let Some(ctx) = c.context.as_mut() {
            rename(&mut ctx.cluster);
            if let Some(u) = ctx.user.as_mut() {
                rename(u);
            }
        }
    }
    if let Some(c) = kc.current_context.as_mut() {
        rename(c);
    }
    serde_saphyr::to_string(&kc).map_err(LabError::data("cannot write the lab's kubeconfig"))
}

/// The API server a kubeconfig's context (its current one by default) points at.
pub(crate) fn server_of(kubeconfig: &str, context: Option<&str>) -> Option<String> {
    let kc = kube::config::Kubeconfig::from_yaml(kubeconfig).ok()?;
    let ctx = context.map(String::from).or(kc.current_context.clone())?;
    let cluster = kc
        .contexts
        .iter()
        .find(|c| c.name == ctx)?
        .context
        .as_ref()?
        .cluster
        .clone();
    kc.clusters
        .iter()
        .find(|c| c.name == cluster)?
        .cluster
        .as_ref()?
        .server
        .clone()
}

/// Merges the kubeconfig at `lab` into the one at `target`: earlier entries
/// of the lab's names are replaced, the lab's context becomes current. A
/// target gwlab cannot read stops the merge rather than being replaced.
/// Returns the current context.
pub(crate) fn merge_kubeconfig(lab: &Path, target: &Path) -> Result<String, LabError> {
    use kube::config::Kubeconfig;
    let lab = Kubeconfig::read_from(lab).map_err(LabError::kubeconfig(format!(
        "cannot read {}",
        lab.display()
    )))?;
    let mut mine = match std::fs::read_to_string(target) {
        Ok(text) => Kubeconfig::from_yaml(&text).map_err(LabError::kubeconfig(format!(
            "{} cannot be read; it was left as it is",
            target.display()
        )))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Kubeconfig::default(),
        Err(e) => {
            return Err(LabError::io(format!(
                "cannot read {}; it was left as it is",
                target.display()
            ))(e));
        }
    };
    let clusters: Vec<String> = lab.clusters.iter().map(|c| c.name.clone()).collect();
    let users: Vec<String> = lab.auth_infos.iter().map(|a| a.name.clone()).collect();
    let contexts: Vec<String> = lab.contexts.iter().map(|c| c.name.clone()).collect();
    mine.clusters.retain(|c| !clusters.contains(&c.name));
    mine.auth_infos.retain(|a| !users.contains(&a.name));
    mine.contexts.retain(|c| !contexts.contains(&c.name));
    let current = lab.current_context.clone();
    let mut merged = mine
        .merge(lab)
        .map_err(LabError::kubeconfig("cannot merge the kubeconfigs"))?;
    merged.current_context = current.or(merged.current_context);
    let text = serde_saphyr::to_string(&merged)
        .map_err(LabError::data("cannot write the merged kubeconfig"))?;
    write_private(target, text.as_bytes())?;
    Ok(merged.current_context.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn k3s_kubeconfig_gets_the_published_port_and_the_labs_names() {
        let k = "apiVersion: v1\nclusters:\n- cluster:\n    certificate-authority-data: QUJD\n    server: https://127.0.0.1:6443\n  name: default\ncontexts:\n- context:\n    cluster: default\n    user: default\n  name: default\ncurrent-context: default\nkind: Config\nusers:\n- name: default\n  user:\n    client-certificate-data: Q0VSVA==\n    client-key-data: S0VZ\n";
        let out = lab_kubeconfig(k, "https://127.0.0.1:41234", "lab1").unwrap();
        let kc = kube::config::Kubeconfig::from_yaml(&out).unwrap();
        assert_eq!(kc.clusters[0].name, "gwlab-lab1");
        assert_eq!(
            kc.clusters[0].cluster.as_ref().unwrap().server.as_deref(),
            Some("https://127.0.0.1:41234")
        );
        assert_eq!(
            kc.contexts[0].context.as_ref().unwrap().user.as_deref(),
            Some("gwlab-lab1")
        );
        assert_eq!(kc.current_context.as_deref(), Some("gwlab-lab1"));
        assert_eq!(kc.auth_infos[0].name, "gwlab-lab1");
        assert!(out.contains("QUJD"), "credentials are kept: {out}");
    }

    const KC: &str = "apiVersion: v1\nkind: Config\nclusters:\n- name: NAME\n  cluster: {server: SERVER}\ncontexts:\n- name: NAME\n  context: {cluster: NAME, user: NAME}\nusers:\n- name: NAME\n  user: {token: TOKEN}\ncurrent-context: NAME\n";

    fn kc(name: &str, server: &str, token: &str) -> String {
        KC.replace("NAME", name)
            .replace("SERVER", server)
            .replace("TOKEN", token)
    }

    #[test]
    fn the_server_is_the_chosen_contexts() {
        let two = format!(
            "{}---\n{}",
            kc("a", "https://a.example:6443", "x"),
            kc("b", "https://b.example:6443", "y")
        );
        let merged = kube::config::Kubeconfig::from_yaml(&two).unwrap();
        let text = serde_saphyr::to_string(&merged).unwrap();
        assert_eq!(
            server_of(&text, None).as_deref(),
            Some("https://a.example:6443"),
            "the current context's"
        );
        assert_eq!(
            server_of(&text, Some("b")).as_deref(),
            Some("https://b.example:6443")
        );
        assert_eq!(server_of(&text, Some("c")), None);
    }

    #[test]
    fn merging_replaces_the_labs_old_entries_and_keeps_the_users() {
        let dir = tempfile::tempdir().unwrap();
        let (lab, user) = (dir.path().join("lab"), dir.path().join("config"));
        std::fs::write(&lab, kc("gwlab-lab1", "https://127.0.0.1:2", "new")).unwrap();
        let mut mine =
            kube::config::Kubeconfig::from_yaml(&kc("work", "https://work.example:6443", "w"))
                .unwrap();
        mine = mine
            .merge(
                kube::config::Kubeconfig::from_yaml(&kc(
                    "gwlab-lab1",
                    "https://127.0.0.1:1",
                    "old",
                ))
                .unwrap(),
            )
            .unwrap();
        std::fs::write(&user, serde_saphyr::to_string(&mine).unwrap()).unwrap();
        assert_eq!(merge_kubeconfig(&lab, &user).unwrap(), "gwlab-lab1");
        let merged = kube::config::Kubeconfig::read_from(&user).unwrap();
        let names: Vec<&str> = merged.clusters.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["work", "gwlab-lab1"]);
        let lab_cluster = merged
            .clusters
            .iter()
            .find(|c| c.name == "gwlab-lab1")
            .unwrap();
        assert_eq!(
            lab_cluster.cluster.as_ref().unwrap().server.as_deref(),
            Some("https://127.0.0.1:2"),
            "the new lab replaces the old entry"
        );
        assert_eq!(merged.auth_infos.len(), 2);
    }

    #[test]
    fn an_unreadable_user_kubeconfig_is_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let (lab, user) = (dir.path().join("lab"), dir.path().join("config"));
        std::fs::write(&lab, kc("gwlab-lab1", "https://127.0.0.1:2", "new")).unwrap();
        std::fs::write(&user, "clusters: [this is: not, a kubeconfig\n").unwrap();
        let err = merge_kubeconfig(&lab, &user).unwrap_err().to_string();
        assert!(err.contains("left as it is"), "{err}");
        assert_eq!(
            std::fs::read_to_string(&user).unwrap(),
            "clusters: [this is: not, a kubeconfig\n"
        );
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
