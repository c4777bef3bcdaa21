//! The addons, in order: Gateway API CRDs, MetalLB (with a pool from the
//! Docker network), Kong. Each applies its manifests server-side and, unless
//! asked not to, waits for its readiness with watches.

use std::time::Duration;

use kube::Client;
use kube::api::Api;

use super::apply::{Ledger, apply, apply_as, existing};
use super::docker::NetworkInfo;
use super::{LabError, metallb, wait};
use crate::kong;

pub(crate) const BUNDLE_VERSION: &str = "gateway.networking.k8s.io/bundle-version";
pub(crate) const CHANNEL: &str = "gateway.networking.k8s.io/channel";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Addon {
    Crds,
    Metallb,
    Kong,
}

/// An `--addons` item gwlab does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown addon `{0}`; choose from crds, metallb, kong")]
pub(crate) struct UnknownAddon(pub String);

impl Addon {
    pub(crate) fn parse_list(s: &str) -> Result<Vec<Addon>, UnknownAddon> {
        let mut out = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            out.push(match part {
                "crds" => Addon::Crds,
                "metallb" => Addon::Metallb,
                "kong" => Addon::Kong,
                other => return Err(UnknownAddon(other.to_string())),
            });
        }
        out.sort();
        out.dedup();
        Ok(out)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Addon::Crds => "crds",
            Addon::Metallb => "metallb",
            Addon::Kong => "kong",
        }
    }
}

/// How to install.
#[derive(Debug, Clone)]
pub struct Options {
    pub lab: String,
    /// What the lab owns, and whether others' objects may be taken over.
    pub ledger: std::sync::Arc<Ledger>,
    /// Wait for readiness (false: `--no-wait`).
    pub wait: bool,
    /// Replace CRDs of another bundle version or channel.
    pub force: bool,
    pub timeout: Duration,
}

fn annotation<'a>(obj: &'a serde_json::Value, key: &str) -> Option<&'a str> {
    obj.pointer("/metadata/annotations")
        .and_then(|a| a.get(key))
        .and_then(|v| v.as_str())
}

fn bundle(obj: &serde_json::Value) -> (String, String) {
    (
        annotation(obj, BUNDLE_VERSION)
            .unwrap_or("none")
            .to_string(),
        annotation(obj, CHANNEL).unwrap_or("none").to_string(),
    )
}

/// What to do with the Gateway API CRDs: apply these; keep those
/// (someone else's, of the standard channel and the same release or a newer
/// one), each named with its bundle version.
pub(crate) struct CrdPlan {
    pub apply: Vec<serde_json::Value>,
    pub kept: Vec<String>,
}

/// The release of a bundle version as annotated, for ordering (`None`: one
/// gwlab cannot place, such as `none`).
fn release_of(bundle: &str) -> Option<crate::gateway_api::Release> {
    crate::gateway_api::Release::of_bundle(bundle)
}

/// Which of the Gateway API CRDs to apply: new ones and the lab's own.
/// Someone else's CRDs of the same bundle, or of the standard channel and a
/// newer release, are used as they are; of an older release or another
/// channel they stop the install (unless `force`, which replaces them),
/// naming what is installed and what gwlab would install. CRDs are never
/// replaced by older ones while the cluster has Gateway API's safe-upgrades
/// policy, which refuses them.
pub(crate) async fn crds_to_apply(
    client: &Client,
    docs: &[serde_json::Value],
    opts: &Options,
) -> Result<CrdPlan, LabError> {
    let mut plan = CrdPlan {
        apply: Vec::new(),
        kept: Vec::new(),
    };
    let mut conflicts = Vec::new();
    let mut downgrades = Vec::new();
    for doc in docs {
        let Some(existing) = existing(client, doc).await? else {
            plan.apply.push(doc.clone());
            continue;
        };
        let installed = serde_json::to_value(&existing).unwrap_or_default();
        let (have, want) = (bundle(&installed), bundle(doc));
        let name = existing.metadata.name.clone().unwrap_or_default();
        let ours = opts.ledger.is_ours(&existing);
        let newer_standard = have.1 == "standard"
            && want.1 == "standard"
            && release_of(&have.0).is_some_and(|h| release_of(&want.0).is_some_and(|w| h >= w));
        if have == want {
            if ours {
                plan.apply.push(doc.clone());
            }
            continue;
        }
        if !ours && newer_standard {
            plan.kept.push(format!("{name} {}", have.0));
            continue;
        }
        if !ours && !opts.force {
            conflicts.push(format!(
                "{name}: installed {} ({} channel), gwlab installs {} ({} channel)",
                have.0, have.1, want.0, want.1
            ));
            continue;
        }
        if release_of(&have.0).is_some_and(|h| release_of(&want.0).is_some_and(|w| h > w)) {
            downgrades.push(format!("{name} {} -> {}", have.0, want.0));
        }
        plan.apply.push(doc.clone());
    }
    if !conflicts.is_empty() {
        return Err(LabError::Refused(format!(
            "Gateway API CRDs of an older version or another channel are installed:\n  {}\nreplacing them can break the Gateway controllers that rely on them; re-run with --force to replace them, or use a cluster without them",
            conflicts.join("\n  ")
        )));
    }
    if !downgrades.is_empty() && safe_upgrades_policy(client).await? {
        return Err(LabError::Refused(format!(
            "the cluster has Gateway API's safe-upgrades policy ({SAFE_UPGRADES}), which refuses older CRDs than installed, and these would be older:\n  {}\nkeep the installed release (`--gateway-api` with it), or remove the policy first if you mean to go back",
            downgrades.join("\n  ")
        )));
    }
    Ok(plan)
}

/// The ValidatingAdmissionPolicy Gateway API's standard install carries from
/// v1.5.1 (`gateway.networking.k8s.io_vap_safeupgrades.yaml`).
const SAFE_UPGRADES: &str = "safe-upgrades.gateway.networking.k8s.io";

/// Whether the cluster has the safe-upgrades policy.
async fn safe_upgrades_policy(client: &Client) -> Result<bool, LabError> {
    let (ar, _) = crate::kinds::resource(
        "admissionregistration.k8s.io/v1",
        "ValidatingAdmissionPolicy",
    )
    .expect("gwlab's table has it");
    let api: kube::Api<kube::api::DynamicObject> = kube::Api::all_with(client.clone(), &ar);
    crate::kube_api::retrying(crate::kube_api::TRANSIENT_BUDGET, || {
        api.get_opt(SAFE_UPGRADES)
    })
    .await
    .map(|p| p.is_some())
    .map_err(LabError::kube(format!(
        "cannot read the ValidatingAdmissionPolicy {SAFE_UPGRADES}"
    )))
}

/// Applies objects in order; with `wait`, each CRD among them is awaited
/// `Established` before the objects after it that may need it.
pub(crate) async fn apply_in_order(
    client: &Client,
    docs: &[serde_json::Value],
    opts: &Options,
) -> Result<(), LabError> {
    for doc in docs {
        // CRDs reaching here with --force replace another bundle's knowingly.
        let crd = doc.get("kind").and_then(|k| k.as_str()) == Some("CustomResourceDefinition");
        let take_over = opts.ledger.adopt || (crd && opts.force);
        apply_as(client, &opts.lab, &opts.ledger, doc.clone(), take_over).await?;
    }
    if opts.wait {
        for doc in docs
            .iter()
            .filter(|d| d.get("kind").and_then(|k| k.as_str()) == Some("CustomResourceDefinition"))
        {
            let name = doc
                .pointer("/metadata/name")
                .and_then(|n| n.as_str())
                .unwrap_or_default();
            wait::crd_established(client, name, opts.timeout).await?;
        }
    }
    Ok(())
}

/// Gateway API CRDs: checked against what is installed, applied, awaited
/// Established; returns those kept as installed (name and bundle version).
pub async fn install_crds(
    client: &Client,
    docs: &[serde_json::Value],
    opts: &Options,
) -> Result<Vec<String>, LabError> {
    let plan = crds_to_apply(client, docs, opts).await?;
    apply_in_order(client, &plan.apply, opts).await?;
    Ok(plan.kept)
}

/// MetalLB: the native manifest, the controller Available, then the pool —
/// retried while the controller's webhook is not serving yet.
pub async fn install_metallb(
    client: &Client,
    manifest: &[serde_json::Value],
    network: &NetworkInfo,
    opts: &Options,
) -> Result<Vec<String>, LabError> {
    let (crds, rest): (Vec<_>, Vec<_>) = manifest
        .iter()
        .cloned()
        .partition(|d| d.get("kind").and_then(|k| k.as_str()) == Some("CustomResourceDefinition"));
    let ns: Vec<_> = rest
        .iter()
        .filter(|d| d.get("kind").and_then(|k| k.as_str()) == Some("Namespace"))
        .cloned()
        .collect();
    let others: Vec<_> = rest
        .iter()
        .filter(|d| d.get("kind").and_then(|k| k.as_str()) != Some("Namespace"))
        .cloned()
        .collect();
    apply_in_order(client, &ns, opts).await?;
    apply_in_order(
        client,
        &crds,
        &Options {
            wait: true,
            ..opts.clone()
        },
    )
    .await?;
    apply_in_order(client, &others, opts).await?;
    let addresses = metallb::pool(network.subnet, network.gateway, &network.in_use, 8)
        .map_err(|e| LabError::Refused(e.to_string()))?;
    // Pools are validated by the controller's webhook, which serves a little
    // after the controller is Available (metallb#1540): wait for its
    // Service to have a ready endpoint rather than for errors to stop.
    if opts.wait {
        wait::deployment_available(client, metallb::NAMESPACE, "controller", opts.timeout).await?;
        wait::service_has_ready_endpoint(
            client,
            metallb::NAMESPACE,
            metallb::WEBHOOK_SERVICE,
            opts.timeout,
        )
        .await?;
    }
    let deadline = tokio::time::Instant::now() + opts.timeout;
    for obj in metallb::pool_manifests(&addresses) {
        apply_through_webhook(client, &opts.lab, &opts.ledger, obj, deadline).await?;
    }
    Ok(addresses)
}

/// Applies an object that a webhook validates, retrying while the API server
/// cannot reach the webhook (it answers 500 InternalError then, by code).
async fn apply_through_webhook(
    client: &Client,
    lab: &str,
    ledger: &Ledger,
    obj: serde_json::Value,
    deadline: tokio::time::Instant,
) -> Result<(), LabError> {
    let mut pause = Duration::from_millis(250);
    loop {
        match apply(client, lab, ledger, obj.clone()).await {
            Err(LabError::Kube(crate::kube_api::ApiError { source, .. })) if matches!(&*source, kube::Error::Api(s) if s.code == 500) =>
            {
                if tokio::time::Instant::now() + pause >= deadline {
                    return Err(LabError::WebhookNotReady { source });
                }
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(2));
            }
            other => return other,
        }
    }
}

/// Kong: its CRDs (Established before KIC starts, or it exits), gwlab's Kong
/// manifests with the lab certificate, then the controller and the Gateway.
/// Returns the Programmed Gateway (none with `--no-wait`).
pub(crate) async fn install_kong(
    client: &Client,
    crds: &[serde_json::Value],
    manifests: &[serde_json::Value],
    tls_secret: serde_json::Value,
    opts: &Options,
) -> Result<Option<serde_json::Value>, LabError> {
    apply_in_order(
        client,
        crds,
        &Options {
            wait: true,
            ..opts.clone()
        },
    )
    .await?;
    let (ns, rest): (Vec<_>, Vec<_>) = manifests
        .iter()
        .cloned()
        .partition(|d| d.get("kind").and_then(|k| k.as_str()) == Some("Namespace"));
    apply_in_order(client, &ns, opts).await?;
    apply(client, &opts.lab, &opts.ledger, tls_secret).await?;
    apply_in_order(client, &rest, opts).await?;
    if !opts.wait {
        return Ok(None);
    }
    // Complete, not just available: on an upgrade the old pod is available
    // until its successor is ready.
    wait::deployment_rolled_out(client, kong::NAMESPACE, kong::DEPLOYMENT, opts.timeout).await?;
    wait::gateway_class_accepted(client, kong::CLASS_NAME, opts.timeout).await?;
    wait::gateway_programmed(client, kong::NAMESPACE, kong::GATEWAY_NAME, opts.timeout)
        .await
        .map(Some)
}

/// The label kubeadm puts on control-plane nodes, which MetalLB honours by
/// announcing nothing from them (kind#3506): a one-node lab would be unreachable.
pub(crate) const EXCLUDE_LB_LABEL: &str = "node.kubernetes.io/exclude-from-external-load-balancers";

/// Removes [`EXCLUDE_LB_LABEL`] from the nodes of a cluster gwlab created
/// (never an existing one); returns the nodes changed.
pub async fn allow_load_balancers_on_nodes(client: &Client) -> Result<Vec<String>, LabError> {
    use k8s_openapi::api::core::v1::Node;
    use kube::api::{ListParams, Patch, PatchParams};
    let api: Api<Node> = Api::all(client.clone());
    let nodes = api
        .list(&ListParams::default().labels(EXCLUDE_LB_LABEL))
        .await
        .map_err(LabError::kube("cannot list nodes"))?;
    let mut changed = Vec::new();
    for n in nodes {
        let name = n.metadata.name.unwrap_or_default();
        let patch = serde_json::json!({"metadata": {"labels": {EXCLUDE_LB_LABEL: null}}});
        api.patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .map_err(LabError::kube(format!("cannot relabel node {name}")))?;
        changed.push(name);
    }
    Ok(changed)
}

/// The objects of gwlab's Kong manifests, built into the binary, with each
/// container's image from `images` (the lock's, as the lab resolves them).
pub(crate) fn kong_manifests_with(images: &[super::images::LabImage]) -> Vec<serde_json::Value> {
    let mut docs = super::apply::documents(
        include_str!("../../manifests/kong/kong.yaml"),
        "manifests/kong/kong.yaml",
    )
    .expect("gwlab's Kong manifests are valid");
    super::images::set_kong_images(&mut docs, images);
    docs
}

/// gwlab's Kong manifests with the built-in lock's pins (its digests only).
pub fn kong_manifests() -> Vec<serde_json::Value> {
    let lock = super::lock::Lock::builtin();
    kong_manifests_with(&super::images::resolve(
        &lock,
        &super::pulled::PullRecord::default(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addons_parse_in_install_order() {
        assert_eq!(
            Addon::parse_list("kong,crds").unwrap(),
            vec![Addon::Crds, Addon::Kong]
        );
        assert!(
            Addon::parse_list("crds,nginx")
                .unwrap_err()
                .to_string()
                .contains("nginx")
        );
    }
}
