//! `gwlab down`: delete what gwlab created for the lab, partial state
//! included, and nothing else. A cluster gwlab created (k3s, kind) goes as a
//! whole; on an existing cluster only the objects `up` recorded creating go,
//! by UID, newest first, CRDs only with `--crds`.

use crate::cli::DownArgs;
use crate::exit;
use crate::lab::LabError;
use crate::lab::client::{kube_client, lab_spec};
use crate::lab::providers::{Choice, LabProvider, ProviderKind};
use crate::lab::state::{self, LabState};
use crate::ownership::{Removal, delete_recorded};

pub async fn run(args: &DownArgs) -> i32 {
    let name = &args.lab.name;
    let st = match LabState::load(name) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::FAILED;
        }
    };
    let removed = match &st {
        Some(s) if s.provider == ProviderKind::Existing => down_existing(s, args).await,
        _ => {
            if args.cluster.given() {
                println!(
                    "note: --kubeconfig/--context matter only for a lab on an existing cluster; lab {name} goes with its containers"
                );
            }
            down_provider(name, st.as_ref().map(|s| s.provider)).await
        }
    };
    let removal = match removed {
        Ok(r) => r,
        Err(e) if st.is_none() => {
            eprintln!(
                "no lab named {name} (no state in {}), and Docker is not reachable: {e}",
                state::dir(name).display()
            );
            return exit::OK;
        }
        Err(e) => {
            eprintln!("error: {e}");
            return exit::FAILED;
        }
    };
    report(name, &removal, st.is_none())
}

fn report(name: &str, removal: &Removal, no_state: bool) -> i32 {
    for d in &removal.deleted {
        println!("deleted {d}");
    }
    for k in &removal.kept {
        println!("kept {k}");
    }
    for f in &removal.failed {
        eprintln!("error: {f}");
    }
    if !removal.failed.is_empty() {
        eprintln!("the lab's state is kept so that `gwlab down --name {name}` can try again");
        return exit::FAILED;
    }
    let dir = state::dir(name);
    if dir.exists() {
        if let Err(e) = std::fs::remove_dir_all(&dir) {
            eprintln!("error: cannot remove {}: {e}", dir.display());
            return exit::FAILED;
        }
        println!("deleted {}", dir.display());
    }
    if removal.deleted.is_empty() && no_state {
        println!("no lab named {name}: nothing to delete");
    }
    exit::OK
}

/// A cluster gwlab made: the provider removes it with everything in it.
async fn down_provider(name: &str, kind: Option<ProviderKind>) -> Result<Removal, LabError> {
    let provider = LabProvider::choose(Choice {
        // No state at all: whatever carries the lab's labels on Docker.
        kind: kind.unwrap_or(ProviderKind::K3s),
        // Removing a cluster needs no node image.
        node_image: String::new(),
        kubeconfig: None,
        context: None,
        start_timeout: Default::default(),
    })
    .await?;
    let deleted = provider.delete(&lab_spec(name, 0, 0)).await?;
    Ok(Removal {
        deleted,
        ..Default::default()
    })
}

/// An existing cluster (through the recorded kubeconfig and context, or
/// those given): only what `up` recorded creating; adopted objects stay.
async fn down_existing(st: &LabState, args: &DownArgs) -> Result<Removal, LabError> {
    let kubeconfig = args
        .cluster
        .kubeconfig
        .as_ref()
        .unwrap_or(&st.cluster.kubeconfig);
    let context = args
        .cluster
        .context
        .as_deref()
        .or(st.cluster.context.as_deref());
    let client = kube_client(kubeconfig, context).await?;
    let mut removal = delete_recorded(&client, &st.created, args.crds).await;
    for a in &st.adopted {
        removal.kept.push(format!(
            "{} (it existed before gwlab adopted it)",
            a.display()
        ));
    }
    Ok(removal)
}
