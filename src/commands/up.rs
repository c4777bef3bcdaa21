//! `gwlab up`: provider, then the addons in order, each a step with its time.

use std::sync::Arc;

use crate::cli::UpArgs;
use crate::exit;
use crate::lab::addons::{self, Addon, Options};
use crate::lab::airgap::Bundle;
use crate::lab::apply::{Ledger, documents, foreign};
use crate::lab::cache::{Cache, default_dir};
use crate::lab::client::{api_ready, http_client, kube_client, lab_spec};
use crate::lab::images::{self, LabImage, named};
use crate::lab::lock::Lock;
use crate::lab::providers::existing::default_kubeconfig;
use crate::lab::providers::{Choice, LabProvider, ProviderKind, Provisioned};
use crate::lab::pulled::PullRecord;
use crate::lab::state::LabState;
use crate::lab::steps::Steps;
use crate::lab::upgrade::{self, Change};
use crate::lab::{LabError, certs, docker};

pub async fn run(args: &UpArgs) -> i32 {
    let lock = match Lock::chosen(args.lock.as_deref()) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::BAD_INPUT;
        }
    };
    let images = match PullRecord::load(&default_dir()) {
        Ok(record) => images::resolve(&lock, &record),
        Err(e) => {
            eprintln!("error: {e}");
            return exit::FAILED;
        }
    };
    let addons = match &args.addons {
        Some(list) => match Addon::parse_list(list) {
            Ok(a) => a,
            Err(e) => {
                eprintln!("error: --addons: {e}");
                return exit::BAD_INPUT;
            }
        },
        None if args.provider.metallb_by_default() => {
            vec![Addon::Crds, Addon::Metallb, Addon::Kong]
        }
        None => vec![Addon::Crds, Addon::Kong],
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
    match up(args, &lock, &images, &addons, &steps).await {
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
    async fn fetch(
        args: &UpArgs,
        lock: &Lock,
        images: &[LabImage],
        addons: &[Addon],
    ) -> Result<Manifests, LabError> {
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
        let crds = lock.crds_of(args.gateway_api).cloned().collect::<Vec<_>>();
        if has(Addon::Crds) && crds.is_empty() {
            return Err(LabError::Refused(format!(
                "the lock pins no Gateway API {} CRDs: give another --gateway-api, or a lock that pins them (--lock)",
                args.gateway_api
            )));
        }
        Ok(Manifests {
            crds: if has(Addon::Crds) {
                let mut docs = Vec::new();
                for f in &crds {
                    let bytes = cache.get(&http, f).await?;
                    docs.extend(documents(&String::from_utf8_lossy(&bytes), f.file_name())?);
                }
                docs
            } else {
                vec![]
            },
            metallb: if has(Addon::Metallb) {
                let mut docs = fetch("metallb").await?;
                images::pin_upstream_images(&mut docs, images);
                docs
            } else {
                vec![]
            },
            kong_crds: if has(Addon::Kong) {
                fetch("kong").await?
            } else {
                vec![]
            },
            kong: if has(Addon::Kong) {
                addons::kong_manifests_with(images)
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

async fn up(
    args: &UpArgs,
    lock: &Lock,
    images: &[LabImage],
    addons: &[Addon],
    steps: &Steps,
) -> Result<(), LabError> {
    let name = &args.lab.name;
    let previous = LabState::load(name)?;
    let provisioned = create_cluster(args, lock, images, steps).await?;
    let mut state = first_state(args, &provisioned, previous.as_ref());
    state.save()?;
    let client = kube_client(&provisioned.kubeconfig, provisioned.context.as_deref()).await?;
    let version = steps
        .run(
            "Waiting for the API server",
            api_ready(&client, args.timeout),
        )
        .await?;
    steps.note(&format!("   Kubernetes {version} at {}", provisioned.api));
    let manifests = Manifests::fetch(args, lock, images, addons).await?;
    let ledger = Arc::new(Ledger::new(
        state.created.clone(),
        state.adopted.clone(),
        args.adopt,
    ));
    check_foreign(args, &client, &ledger, &manifests, steps).await?;
    let kong_changes = say_changes(
        args,
        &client,
        &provisioned,
        images,
        addons,
        previous.as_ref(),
        steps,
    )
    .await?;
    say_unpinned(args, images, addons, steps);
    if addons.contains(&Addon::Kong) {
        say_kic_gateway_api(args, images, steps);
    }
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
        images,
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
    if let (Err(LabError::Timeout { .. }), false) = (&result, kong_changes.is_empty()) {
        say_rollout_stopped(&kong_changes);
    }
    let gateway = result?;
    finish(args, &client, &provisioned, gateway.as_ref(), steps).await
}

/// The cluster, made (or found) by the chosen provider.
async fn create_cluster(
    args: &UpArgs,
    lock: &Lock,
    images: &[LabImage],
    steps: &Steps,
) -> Result<Provisioned, LabError> {
    let node_image = match args.provider.node_image().map(|n| named(images, n)) {
        // The Docker engine finds an image by `repository@digest`; kind's
        // config takes `repository:tag@digest`.
        Some(i) if args.provider == ProviderKind::K3s => i.by_digest(),
        Some(i) => i.reference(),
        None => String::new(),
    };
    let provider = LabProvider::choose(Choice {
        kind: args.provider,
        node_image,
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
/// adopted is kept, and the images its addons ran until they are replaced.
fn first_state(args: &UpArgs, provisioned: &Provisioned, previous: Option<&LabState>) -> LabState {
    LabState {
        name: args.lab.name.clone(),
        provider: args.provider,
        cluster: provisioned.clone(),
        addons: Vec::new(),
        created: previous.map(|p| p.created.clone()).unwrap_or_default(),
        adopted: previous.map(|p| p.adopted.clone()).unwrap_or_default(),
        images: previous.map(|p| p.images.clone()).unwrap_or_default(),
    }
}

/// Before anything is written to a lab that runs: what `up` changes (each
/// addon container's image, as its pod spec names it) and what it cannot
/// (the node's Kubernetes). Returns the changes to Kong's containers.
async fn say_changes(
    args: &UpArgs,
    client: &kube::Client,
    provisioned: &Provisioned,
    images: &[LabImage],
    addons: &[Addon],
    previous: Option<&LabState>,
    steps: &Steps,
) -> Result<Vec<Change>, LabError> {
    let installed: Vec<&str> = previous
        .map(|p| p.addons.iter().map(String::as_str).collect())
        .unwrap_or_default();
    let wanted: Vec<&str> = addons
        .iter()
        .map(|a| a.as_str())
        .filter(|a| installed.contains(a))
        .collect();
    let changes = upgrade::image_changes(client, images, &wanted).await?;
    if !changes.is_empty() {
        steps
            .note("   This gwlab pins other images than the lab runs; `up` moves the lab to them:");
        for c in &changes {
            steps.note(&format!("     {c}"));
        }
        steps.note("   Kong's proxy and controller share one pod: the old pod serves until the new one is ready.");
    }
    let node = args
        .provider
        .node_image()
        .and_then(|n| upgrade::node_change(provisioned.node_image.as_deref(), named(images, n)));
    if let Some(c) = node {
        eprintln!(
            "note: {c}. `up` keeps the running cluster (a node's Kubernetes is not changed in place); to move it: `gwlab down --name {n} && gwlab up --name {n}` (everything in the cluster is recreated)",
            n = args.lab.name
        );
    }
    Ok(changes
        .into_iter()
        .filter(|c| c.what.contains("kong-system/kong"))
        .collect())
}

/// The addons' images that will run by tag alone: no digest is pinned or
/// recorded for them.
/// A warning when the lab's KIC does not support the Gateway API release
/// asked for, as Kong's compatibility table says (KIC 3.5: up to v1.3).
fn say_kic_gateway_api(args: &UpArgs, images: &[LabImage], steps: &Steps) {
    let kic = named(images, "kong-ingress-controller");
    let Some(line) = crate::kong::image_version(&kic.image)
        .and_then(crate::kong::Version::parse)
        .and_then(crate::kong::facts::kic_line)
    else {
        return;
    };
    let (major, minor) = args.gateway_api.minor();
    if !line
        .gateway_api
        .value
        .contains((u64::from(major), u64::from(minor)))
    {
        steps.note(&format!(
            "warning: the lab's Kong Ingress Controller {}.{} supports Gateway API {} ({}); with the CRDs of {} it may not serve what that release added, and scenarios written for it may fail on the lab",
            line.line.0,
            line.line.1,
            line.gateway_api.value,
            line.gateway_api.source,
            args.gateway_api
        ));
    }
}

fn say_unpinned(args: &UpArgs, images: &[LabImage], addons: &[Addon], steps: &Steps) {
    let mut names: Vec<&str> = Vec::new();
    if addons.contains(&Addon::Metallb) {
        names.extend(["metallb-controller", "metallb-speaker"]);
    }
    if addons.contains(&Addon::Kong) {
        names.extend(["kong", "kong-ingress-controller"]);
    }
    names.extend(args.provider.node_image());
    let unpinned = images::unpinned(images, &names);
    if !unpinned.is_empty() {
        steps.note(&format!(
            "   by tag alone (no digest pinned or recorded; `gwlab pull` records the one it pulls): {}",
            unpinned.join(", ")
        ));
    }
}

/// Kong's rollout did not finish: say where the lab stands and how to move on.
fn say_rollout_stopped(changes: &[Change]) {
    eprintln!(
        "Kong did not finish moving to the new images; the pod of the earlier ones keeps serving (a Deployment replaces a pod only once its successor is ready). `kubectl -n {} describe pod` says why the new pod is not ready; `gwlab up` again continues, `kubectl -n {} rollout undo deployment/{}` goes back.",
        crate::kong::NAMESPACE,
        crate::kong::NAMESPACE,
        crate::kong::DEPLOYMENT
    );
    for c in changes {
        if let Some(w) = crate::kong::facts::withdrawn(&c.from) {
            eprintln!(
                "Do not go back to {}: that release was withdrawn ({}); move forward instead.",
                c.from, w.advisory
            );
        }
    }
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
    images: &[LabImage],
    m: &Manifests,
    opts: &Options,
    steps: &Steps,
    state: &mut LabState,
) -> Result<Option<serde_json::Value>, LabError> {
    let mut gateway = None;
    for addon in addons {
        state
            .images
            .retain(|i| !addon_images(*addon).contains(&i.name.as_str()));
        state.images.extend(
            images
                .iter()
                .filter(|i| addon_images(*addon).contains(&i.name.as_str()))
                .cloned(),
        );
        match addon {
            Addon::Crds => {
                let kept = steps
                    .run(
                        &format!(
                            "Installing the Gateway API CRDs {} (standard)",
                            args.gateway_api
                        ),
                        addons::install_crds(client, &m.crds, opts),
                    )
                    .await?;
                if !kept.is_empty() {
                    steps.note(&format!(
                        "   kept as installed (standard channel, {} or newer): {}",
                        args.gateway_api,
                        kept.join(", ")
                    ));
                }
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
                            tag_of(named(images, "kong")),
                            tag_of(named(images, "kong-ingress-controller"))
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

/// The images an addon runs (its pods name them).
fn addon_images(addon: Addon) -> &'static [&'static str] {
    match addon {
        Addon::Crds => &[],
        Addon::Metallb => &["metallb-controller", "metallb-speaker"],
        Addon::Kong => &["kong", "kong-ingress-controller"],
    }
}

/// The tag of an image (`3.9.3` of `kong:3.9.3`), for messages.
fn tag_of(i: &LabImage) -> &str {
    crate::kong::image_version(&i.image).unwrap_or(&i.image)
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
