//! `gwlab down`: delete what gwlab created for the lab (by label), partial
//! state included, and nothing else.

use crate::cli::LabArgs;
use crate::exit;
use crate::lab::client::{lab_spec, node_image};
use crate::lab::docker;
use crate::lab::lock::Lock;
use crate::lab::providers::Provider;
use crate::lab::providers::k3s::K3s;
use crate::lab::providers::kind::Kind;
use crate::lab::state::{self, LabState};

pub async fn run(args: &LabArgs) -> i32 {
    let name = &args.name;
    let lock = Lock::builtin();
    let spec = lab_spec(name, 0, 0);
    let st = match LabState::load(name) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::FAILED;
        }
    };
    let provider = st.as_ref().map(|s| s.provider.as_str()).unwrap_or("k3s");
    let removed = match provider {
        "kind" => {
            Kind {
                binary: "kind".into(),
                node_image: node_image(crate::cli::ProviderKind::Kind, &lock).unwrap_or_default(),
                preload: vec![],
            }
            .delete(&spec)
            .await
        }
        "existing" => {
            eprintln!(
                "lab {name} uses an existing cluster: gwlab leaves the cluster as it is (its objects carry app.kubernetes.io/managed-by=gwlab)"
            );
            Ok(Vec::new())
        }
        // k3s, or no state at all: whatever carries the lab's labels.
        _ => match docker::connect().await {
            Ok(d) => {
                K3s {
                    docker: d,
                    image: String::new(),
                    start_timeout: Default::default(),
                }
                .delete(&spec)
                .await
            }
            Err(e) if st.is_none() => {
                eprintln!(
                    "no lab named {name} (no state in {}), and Docker is not reachable: {e}",
                    state::dir(name).display()
                );
                return exit::OK;
            }
            Err(e) => Err(e),
        },
    };
    match removed {
        Ok(removed) => {
            for r in &removed {
                println!("deleted {r}");
            }
            let dir = state::dir(name);
            if dir.exists() {
                if let Err(e) = std::fs::remove_dir_all(&dir) {
                    eprintln!("error: cannot remove {}: {e}", dir.display());
                    return exit::FAILED;
                }
                println!("deleted {}", dir.display());
            }
            if removed.is_empty() && st.is_none() {
                println!("no lab named {name}: nothing to delete");
            }
            exit::OK
        }
        Err(e) => {
            eprintln!("error: {e}");
            exit::FAILED
        }
    }
}
