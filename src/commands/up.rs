//! `gwlab up`: provider, then the addons in order, each a step with its time.

use std::time::Duration;

use crate::cli::{ProviderKind, UpArgs};
use crate::exit;
use crate::lab::addons::{self, Addon, Options};
use crate::lab::apply::documents;
use crate::lab::cache::{Cache, default_dir};
use crate::lab::client::{
    api_ready, http_client, kube_client, lab_spec, node_image, provider_name,
};
use crate::lab::lock::Lock;
use crate::lab::providers::existing::{Existing, default_kubeconfig};
use crate::lab::providers::k3s::K3s;
use crate::lab::providers::kind::Kind;
use crate::lab::providers::{Provider, Provisioned};
use crate::lab::state::LabState;
use crate::lab::steps::Steps;
use crate::lab::{LabError, certs, docker};

pub async fn run(args: &UpArgs) -> i32 {
    let lock = Lock::builtin();
    let addons = match &args.addons {
        Some(list) => match Addon::parse_list(list) {
            Ok(a) => a,
            Err(e) => {
                eprintln!("error: --addons: {e}");
                return exit::BAD_INPUT;
            }
        },
        None if args.provider == ProviderKind::Existing => vec![Addon::Crds, Addon::Kong],
        None => vec![Addon::Crds, Addon::Metallb, Addon::Kong],
    };
    if args.provider != ProviderKind::Existing && (args.cluster.given()) {
        eprintln!(
            "error: --kubeconfig and --context choose an existing cluster: add --provider existing"
        );
        return exit::BAD_INPUT;
    }
    let steps = Steps::new(args.quiet);
    steps.note(&format!(
        "Creating lab \"{}\" ({}, addons: {})",
        args.lab.name,
        provider_name(args.provider),
        addons
            .iter()
            .map(|a| a.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    ));
    match up(args, &lock, &addons, &steps).await {
        Ok(()) => exit::OK,
        Err(e) => {
            eprintln!("error: {e}");
            eprintln!(
                "`gwlab up` can be re-run: it reuses what exists. `gwlab down --name {}` removes it.",
                args.lab.name
            );
            exit::FAILED
        }
    }
}

async fn provision(args: &UpArgs, lock: &Lock) -> Result<Provisioned, LabError> {
    let spec = lab_spec(&args.lab.name, args.http_port, args.https_port);
    match args.provider {
        ProviderKind::K3s => {
            let docker = docker::connect().await?;
            K3s {
                docker,
                image: node_image(args.provider, lock).expect("k3s has a node image"),
                start_timeout: args.timeout,
            }
            .provision(&spec)
            .await
        }
        ProviderKind::Kind => {
            Kind {
                binary: "kind".into(),
                node_image: node_image(args.provider, lock).expect("kind has a node image"),
                preload: lock
                    .images
                    .iter()
                    .filter(|i| !i.addon.starts_with("provider-"))
                    .map(|i| i.reference())
                    .collect(),
            }
            .provision(&spec)
            .await
        }
        ProviderKind::Existing => {
            Existing {
                kubeconfig: default_kubeconfig(args.cluster.kubeconfig.clone()),
                context: args.cluster.context.clone(),
            }
            .provision(&spec)
            .await
        }
    }
}

async fn up(args: &UpArgs, lock: &Lock, addons: &[Addon], steps: &Steps) -> Result<(), LabError> {
    let name = &args.lab.name;
    let provisioned = steps
        .run(
            &format!("Creating the cluster ({})", provider_name(args.provider)),
            provision(args, lock),
        )
        .await?;
    let mut state = LabState {
        name: name.clone(),
        provider: provider_name(args.provider).into(),
        cluster: provisioned.clone(),
        addons: Vec::new(),
    };
    state.save()?;
    let client = kube_client(&provisioned.kubeconfig, provisioned.context.as_deref()).await?;
    let version = steps
        .run(
            "Waiting for the API server",
            api_ready(&client, args.timeout),
        )
        .await?;
    steps.note(&format!("   Kubernetes {version} at {}", provisioned.api));

    let cache = Cache::new(default_dir(), args.mirror.clone());
    let http = http_client();
    let fetch = |addon: &'static str| {
        let cache = cache.clone();
        let http = http.clone();
        let files: Vec<_> = lock.files_of(addon).cloned().collect();
        async move {
            let mut docs = Vec::new();
            for f in &files {
                let bytes = cache.get(&http, f).await?;
                docs.extend(documents(&String::from_utf8_lossy(&bytes), f.file_name())?);
            }
            Ok::<_, LabError>(docs)
        }
    };
    let opts = Options {
        lab: name.clone(),
        wait: !args.no_wait,
        force: args.force,
        timeout: args.timeout,
    };
    let mut addresses = Vec::new();
    for addon in addons {
        match addon {
            Addon::Crds => {
                let docs = fetch("crds").await?;
                steps
                    .run(
                        "Installing the Gateway API CRDs v1.2.1 (standard)",
                        addons::install_crds(&client, &docs, &opts),
                    )
                    .await?;
            }
            Addon::Metallb => {
                let docs = fetch("metallb").await?;
                let network_name = provisioned.network.clone().ok_or_else(|| LabError::Refused("MetalLB needs the Docker network of the nodes; this provider has none (drop metallb from --addons)".into()))?;
                let docker = docker::connect().await?;
                let network = docker::network(&docker, &network_name)
                    .await?
                    .ok_or_else(|| {
                        LabError::Refused(format!("Docker network {network_name} not found"))
                    })?;
                if args.provider == ProviderKind::Kind {
                    // kind's node carries kubeadm's exclude-from-load-balancers label.
                    addons::allow_load_balancers_on_nodes(&client).await?;
                }
                let pool = steps
                    .run(
                        "Installing MetalLB v0.15.3",
                        addons::install_metallb(&client, &docs, &network, &opts),
                    )
                    .await?;
                steps.note(&format!("   address pool {}", pool.join(", ")));
            }
            Addon::Kong => {
                let crds = fetch("kong").await?;
                let secret = certs::lab_tls_secret(&state_dir(name))?;
                let manifests = addons::kong_manifests();
                addresses = steps
                    .run(
                        "Installing Kong 3.8 and the Kong Ingress Controller 3.4",
                        addons::install_kong(&client, &crds, &manifests, secret, &opts),
                    )
                    .await?;
            }
        }
        state.addons.push(addon.as_str().into());
        state.save()?;
    }
    if args.merge_kubeconfig {
        merge_kubeconfig(&provisioned)?;
    }
    steps.note(&format!(
        "\nexport KUBECONFIG={}",
        provisioned.kubeconfig.display()
    ));
    if !addresses.is_empty() {
        steps.note(&reach_line(&addresses, provisioned.http_port, provisioned.https_port).await);
    }
    Ok(())
}

fn state_dir(name: &str) -> std::path::PathBuf {
    crate::lab::state::dir(name)
}

/// How probes reach the Gateway: its (MetalLB) address when it answers a TCP
/// connect within a second, else the host ports mapped to the NodePorts.
pub async fn reach_line(
    addresses: &[String],
    http_port: Option<u16>,
    https_port: Option<u16>,
) -> String {
    for a in addresses {
        let target = format!("{a}:80");
        if let Ok(Ok(_)) = tokio::time::timeout(
            Duration::from_secs(1),
            tokio::net::TcpStream::connect(&target),
        )
        .await
        {
            return format!(
                "Gateway kong-system/kong is Programmed; probes reach it at {a} (ports 80 and 443)"
            );
        }
    }
    match (http_port, https_port) {
        (Some(h), Some(s)) => format!(
            "Gateway kong-system/kong is Programmed at {}; that address does not answer from here, so probes use 127.0.0.1:{h} (80) and 127.0.0.1:{s} (443)",
            addresses.join(", ")
        ),
        _ => format!(
            "Gateway kong-system/kong is Programmed at {}",
            addresses.join(", ")
        ),
    }
}

/// Merges the lab's kubeconfig into the user's (KUBECONFIG's first file or
/// ~/.kube/config), saying so.
fn merge_kubeconfig(p: &Provisioned) -> Result<(), LabError> {
    let target = default_kubeconfig(None);
    let current = crate::lab::state::merge_kubeconfig(&p.kubeconfig, &target)?;
    eprintln!(
        "merged the lab's kubeconfig into {}; current context: {current}",
        target.display()
    );
    Ok(())
}
