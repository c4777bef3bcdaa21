//! `gwlab up`: provider, then the addons in order, each a step with its time.

use std::sync::Arc;

use crate::cli::UpArgs;
use crate::exit;
use crate::lab::addons::{self, Addon, Options};
use crate::lab::airgap::Bundle;
use crate::lab::apply::{Ledger, documents, foreign};
use crate::lab::cache::{Cache, default_dir};
use crate::lab::client::{api_ready, http_client, kube_client, lab_spec};
use crate::lab::lock::Lock;
use crate::lab::providers::existing::default_kubeconfig;
use crate::lab::providers::{Choice, LabProvider, ProviderKind, Provisioned};
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
        args.provider,
        addons
            .iter()
            .map(|a| a.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    ));
    match up(args, &lock, &addons, &steps).await {
        Ok(()) => exit::OK,
        Err(e @ LabError::NotOurs { .. }) => {
            eprintln!("error: {e}");
            exit::BAD_INPUT
        }
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

/// The files and objects of each addon, fetched (and checked) before
/// anything is written, so that a missing file or someone else's object
/// stops `up` with the cluster untouched.
struct Manifests {
    crds: Vec<serde_json::Value>,
    metallb: Vec<serde_json::Value>,
    kong_crds: Vec<serde_json::Value>,
    kong: Vec<serde_json::Value>,
    tls_secret: Option<serde_json::Value>,
}

impl Manifests {
    async fn fetch(args: &UpArgs, lock: &Lock, addons: &[Addon]) -> Result<Manifests, LabError> {
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
        let has = |a: Addon| addons.contains(&a);
        Ok(Manifests {
            crds: if has(Addon::Crds) {
                fetch("crds").await?
            } else {
                vec![]
            },
            metallb: if has(Addon::Metallb) {
                fetch("metallb").await?
            } else {
                vec![]
            },
            kong_crds: if has(Addon::Kong) {
                fetch("kong").await?
            } else {
                vec![]
            },
            kong: if has(Addon::Kong) {
                addons::kong_manifests()
            } else {
                vec![]
            },
            tls_secret: if has(Addon::Kong) {
                Some(certs::lab_tls_secret(&state_dir(&args.lab.name))?)
            } else {
                None
            },
        })
    }

    /// Every object `up` would write but the Gateway API CRDs, which are
    /// checked by bundle version instead.
    fn owned_objects(&self) -> Vec<serde_json::Value> {
        let mut all: Vec<serde_json::Value> = self.metallb.clone();
        all.extend(self.kong_crds.iter().cloned());
        all.extend(self.kong.iter().cloned());
        all.extend(self.tls_secret.iter().cloned());
        all
    }
}

async fn up(args: &UpArgs, lock: &Lock, addons: &[Addon], steps: &Steps) -> Result<(), LabError> {
    let name = &args.lab.name;
    let provisioned = create_cluster(args, lock, steps).await?;
    let mut state = first_state(args, &provisioned)?;
    state.save()?;
    let client = kube_client(&provisioned.kubeconfig, provisioned.context.as_deref()).await?;
    let version = steps
        .run(
            "Waiting for the API server",
            api_ready(&client, args.timeout),
        )
        .await?;
    steps.note(&format!("   Kubernetes {version} at {}", provisioned.api));
    let manifests = Manifests::fetch(args, lock, addons).await?;
    let ledger = Arc::new(Ledger::new(
        state.created.clone(),
        state.adopted.clone(),
        args.adopt,
    ));
    check_foreign(args, &client, &ledger, &manifests, steps).await?;
    let opts = Options {
        lab: name.clone(),
        ledger: ledger.clone(),
        wait: !args.no_wait,
        force: args.force,
        timeout: args.timeout,
    };
    let result = install(
        args,
        &client,
        &provisioned,
        addons,
        &manifests,
        &opts,
        steps,
        &mut state,
    )
    .await;
    // What was created is recorded even when a later step failed, so that
    // `down` can remove it.
    state.created = ledger.created();
    state.adopted = ledger.adopted();
    state.save()?;
    let gateway = result?;
    finish(args, &client, &provisioned, gateway.as_ref(), steps).await
}

/// The cluster, made (or found) by the chosen provider.
async fn create_cluster(
    args: &UpArgs,
    lock: &Lock,
    steps: &Steps,
) -> Result<Provisioned, LabError> {
    let provider = LabProvider::choose(Choice {
        kind: args.provider,
        lock,
        kubeconfig: args.cluster.kubeconfig.clone(),
        context: args.cluster.context.clone(),
        start_timeout: args.timeout,
    });
    let mut spec = lab_spec(&args.lab.name, args.http_port, args.https_port);
    if args.provider == ProviderKind::K3s {
        spec.k3s_bundle = k3s_bundle(lock, steps)?;
    }
    steps
        .run(
            &format!("Creating the cluster ({})", args.provider),
            async { provider.await?.provision(&spec).await },
        )
        .await
}

/// k3s's own images from the cache when `gwlab pull` fetched them (a copy
/// changed since is an error, never used); else k3s pulls them at start.
fn k3s_bundle(lock: &Lock, steps: &Steps) -> Result<Option<std::path::PathBuf>, LabError> {
    let bundle = match Bundle::for_host(lock) {
        Ok(b) => b,
        Err(e) => {
            steps.note(&format!("k3s pulls its own images at start ({e})"));
            return Ok(None);
        }
    };
    let found = bundle.verified(&default_dir())?;
    match &found {
        Some(path) => steps.note(&format!(
            "k3s imports its own images from {} (no network needed for them)",
            path.display()
        )),
        None => steps.note(&format!(
            "k3s pulls its own images at start: {} is not cached (`gwlab pull` fetches it for an offline start)",
            bundle.file_name()
        )),
    }
    Ok(found)
}

/// The lab's state before any addon: what an earlier `up` created or
/// adopted is kept.
fn first_state(args: &UpArgs, provisioned: &Provisioned) -> Result<LabState, LabError> {
    let previous = LabState::load(&args.lab.name)?;
    Ok(LabState {
        name: args.lab.name.clone(),
        provider: args.provider,
        cluster: provisioned.clone(),
        addons: Vec::new(),
        created: previous
            .as_ref()
            .map(|p| p.created.clone())
            .unwrap_or_default(),
        adopted: previous.map(|p| p.adopted).unwrap_or_default(),
    })
}

/// Refuses objects that exist and are not the lab's, unless `--adopt`
/// (then says which it takes over).
async fn check_foreign(
    args: &UpArgs,
    client: &kube::Client,
    ledger: &Ledger,
    manifests: &Manifests,
    steps: &Steps,
) -> Result<(), LabError> {
    let foreign = foreign(client, ledger, &manifests.owned_objects()).await?;
    if !foreign.is_empty() {
        if !args.adopt {
            return Err(LabError::NotOurs { objects: foreign });
        }
        for f in &foreign {
            steps.note(&format!(
                "   adopting {f}: gwlab's manifest replaces the fields it sets"
            ));
        }
    }
    Ok(())
}

/// The kubeconfig merged if asked, then how to use the lab.
async fn finish(
    args: &UpArgs,
    client: &kube::Client,
    provisioned: &Provisioned,
    gateway: Option<&serde_json::Value>,
    steps: &Steps,
) -> Result<(), LabError> {
    if args.merge_kubeconfig {
        merge_kubeconfig(provisioned)?;
    }
    steps.note(&format!(
        "\nexport KUBECONFIG={}",
        provisioned.kubeconfig.display()
    ));
    if let Some(gw) = gateway {
        let mapped = (provisioned.http_port, provisioned.https_port);
        let ways = crate::lab::reach::ways(client, gw, mapped).await?;
        steps.note(&format!(
            "Gateway {}/{} is Programmed; {}",
            crate::kong::NAMESPACE,
            crate::kong::GATEWAY_NAME,
            crate::lab::reach::choose(&ways).await.describe()
        ));
    }
    Ok(())
}

/// The addons in order; returns the lab Gateway once Programmed.
#[allow(clippy::too_many_arguments)]
async fn install(
    args: &UpArgs,
    client: &kube::Client,
    provisioned: &Provisioned,
    addons: &[Addon],
    m: &Manifests,
    opts: &Options,
    steps: &Steps,
    state: &mut LabState,
) -> Result<Option<serde_json::Value>, LabError> {
    let mut gateway = None;
    for addon in addons {
        match addon {
            Addon::Crds => {
                steps
                    .run(
                        "Installing the Gateway API CRDs v1.2.1 (standard)",
                        addons::install_crds(client, &m.crds, opts),
                    )
                    .await?;
            }
            Addon::Metallb => {
                let network = lab_network(provisioned).await?;
                if args.provider == ProviderKind::Kind {
                    // kind's node carries kubeadm's exclude-from-load-balancers label.
                    addons::allow_load_balancers_on_nodes(client).await?;
                }
                let pool = steps
                    .run(
                        "Installing MetalLB v0.15.3",
                        addons::install_metallb(client, &m.metallb, &network, opts),
                    )
                    .await?;
                steps.note(&format!("   address pool {}", pool.join(", ")));
            }
            Addon::Kong => {
                let secret = m.tls_secret.clone().expect("fetched with the kong addon");
                gateway = steps
                    .run(
                        &format!(
                            "Installing Kong {} and the Kong Ingress Controller {}",
                            crate::kong::KONG_VERSION,
                            crate::kong::KIC_VERSION
                        ),
                        addons::install_kong(client, &m.kong_crds, &m.kong, secret, opts),
                    )
                    .await?;
            }
        }
        state.addons.push(addon.as_str().into());
        state.created = opts.ledger.created();
        state.save()?;
    }
    Ok(gateway)
}

/// The Docker network of the lab's nodes, for the MetalLB pool.
async fn lab_network(p: &Provisioned) -> Result<docker::NetworkInfo, LabError> {
    let network_name = p.network.clone().ok_or_else(|| LabError::Refused("MetalLB needs the Docker network of the nodes; this provider has none (drop metallb from --addons)".into()))?;
    let docker = docker::connect().await?;
    docker::network(&docker, &network_name)
        .await?
        .ok_or_else(|| LabError::Refused(format!("Docker network {network_name} not found")))
}

fn state_dir(name: &str) -> std::path::PathBuf {
    crate::lab::state::dir(name)
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
