//! `gwlab status`: the lab as it is now. Text for people, `-o json` as data.

use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, DynamicObject};
use serde::Serialize;

use crate::cli::{OutputFormat, StatusArgs};
use crate::exit;
use crate::lab::LabError;
use crate::lab::addons::{BUNDLE_VERSION, CHANNEL};
use crate::lab::apply::resource;
use crate::lab::client::kube_client;
use crate::lab::state::{self, LabState};
use crate::lab::wait::{conditions_text, gateway_addresses, has_true};

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    pub lab: LabState,
    pub kubernetes: Option<String>,
    pub error: Option<String>,
    pub gateway_api_crds: Option<String>,
    pub metallb_ready: Option<bool>,
    pub kong_ready: Option<bool>,
    pub gateway_class: Option<String>,
    pub gateway: Option<String>,
    pub gateway_addresses: Vec<String>,
    /// How probes reach the Gateway.
    pub reach: Option<String>,
    /// What `gwlab pull` fetched on this machine, with the digests it recorded.
    pub pulled: Vec<crate::lab::pulled::PulledImage>,
}

async fn deployment_ready(client: &kube::Client, ns: &str, name: &str) -> Option<bool> {
    let api: Api<Deployment> = Api::namespaced(client.clone(), ns);
    let d = api.get_opt(name).await.ok()??;
    Some(d.status.and_then(|s| s.conditions).is_some_and(|c| {
        c.iter()
            .any(|c| c.type_ == "Available" && c.status == "True")
    }))
}

/// Why the lab's API server cannot be asked about the lab.
#[derive(Debug, thiserror::Error)]
enum Unreachable {
    #[error("{0}")]
    Client(#[source] LabError),
    #[error("the API server at {api} does not answer: {source}")]
    NoAnswer {
        api: String,
        #[source]
        source: kube::Error,
    },
    #[error("the API server at {api} does not answer within 5s")]
    Timeout { api: String },
}

async fn collect(lab: LabState) -> Status {
    let mut st = Status {
        lab,
        kubernetes: None,
        error: None,
        gateway_api_crds: None,
        metallb_ready: None,
        kong_ready: None,
        gateway_class: None,
        gateway: None,
        gateway_addresses: vec![],
        reach: None,
        pulled: crate::lab::pulled::PullRecord::load(&crate::lab::cache::default_dir())
            .map(|r| r.images)
            .unwrap_or_default(),
    };
    let client = match connect(&st.lab).await {
        Ok((client, version)) => {
            st.kubernetes = Some(version);
            client
        }
        Err(e) => {
            st.error = Some(e.to_string());
            return st;
        }
    };
    st.gateway_api_crds = crds_bundle(&client).await;
    st.metallb_ready = deployment_ready(&client, "metallb-system", "controller").await;
    st.kong_ready = deployment_ready(&client, "kong-system", "kong").await;
    if st.gateway_api_crds.is_some() {
        read_gateway(&client, &mut st).await;
    }
    st
}

/// A client for the lab's cluster, and the Kubernetes version its API server
/// reports within 5s.
async fn connect(lab: &LabState) -> Result<(kube::Client, String), Unreachable> {
    let client = kube_client(&lab.cluster.kubeconfig, lab.cluster.context.as_deref())
        .await
        .map_err(Unreachable::Client)?;
    let api = || lab.cluster.api.to_string();
    match tokio::time::timeout(Duration::from_secs(5), client.apiserver_version()).await {
        Ok(Ok(v)) => Ok((client, v.git_version)),
        Ok(Err(source)) => Err(Unreachable::NoAnswer { api: api(), source }),
        Err(_) => Err(Unreachable::Timeout { api: api() }),
    }
}

/// The bundle version and channel of the Gateway API CRDs, if installed.
async fn crds_bundle(client: &kube::Client) -> Option<String> {
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    let crd = crds
        .get_opt("gateways.gateway.networking.k8s.io")
        .await
        .ok()??;
    let a = crd.metadata.annotations.unwrap_or_default();
    Some(format!(
        "{} ({} channel)",
        a.get(BUNDLE_VERSION)
            .map(String::as_str)
            .unwrap_or("unknown version"),
        a.get(CHANNEL).map(String::as_str).unwrap_or("unknown")
    ))
}

/// GatewayClass kong and Gateway kong-system/kong: their conditions, the
/// Gateway's addresses and, once it is Programmed, how probes reach it.
async fn read_gateway(client: &kube::Client, st: &mut Status) {
    let (ar, _) = resource("gateway.networking.k8s.io/v1", "GatewayClass").expect("known kind");
    if let Ok(Some(gc)) = Api::<DynamicObject>::all_with(client.clone(), &ar)
        .get_opt("kong")
        .await
    {
        st.gateway_class = Some(conditions_text(gc.data.get("status")));
    }
    let (ar, _) = resource("gateway.networking.k8s.io/v1", "Gateway").expect("known kind");
    if let Ok(Some(gw)) = Api::<DynamicObject>::namespaced_with(client.clone(), "kong-system", &ar)
        .get_opt("kong")
        .await
    {
        let status = gw.data.get("status");
        st.gateway = Some(conditions_text(status));
        st.gateway_addresses = gateway_addresses(&gw.data);
        if has_true(status, "Programmed") {
            let mapped = (st.lab.cluster.http_port, st.lab.cluster.https_port);
            let gw = serde_json::to_value(&gw).unwrap_or_default();
            st.reach = Some(match crate::lab::reach::ways(client, &gw, mapped).await {
                Ok(ways) => crate::lab::reach::choose(&ways).await.describe(),
                Err(e) => format!("cannot tell how probes reach it: {e}"),
            });
        }
    }
}

fn yes_no(v: Option<bool>) -> &'static str {
    match v {
        Some(true) => "ready",
        Some(false) => "not ready",
        None => "not installed",
    }
}

pub async fn run(args: &StatusArgs) -> i32 {
    let lab = match LabState::load(&args.lab.name) {
        Ok(Some(l)) => l,
        Ok(None) => {
            let why = format!(
                "no lab named {} (nothing in {}); create it with `gwlab up --name {}`",
                args.lab.name,
                state::dir(&args.lab.name).display(),
                args.lab.name
            );
            // A script asking for JSON gets JSON, also when there is no lab.
            if args.output == OutputFormat::Json {
                let doc = serde_json::json!({
                    "name": args.lab.name,
                    "exists": false,
                    "error": why,
                });
                println!("{}", serde_json::to_string_pretty(&doc).expect("json"));
            } else {
                eprintln!("{why}");
            }
            return exit::FAILED;
        }
        Err(e) => {
            eprintln!("error: {e}");
            return exit::FAILED;
        }
    };
    let st = collect(lab).await;
    match args.output {
        OutputFormat::Json => println!(
            "{}",
            serde_json::to_string_pretty(&st).expect("status serialises")
        ),
        OutputFormat::Text => print_text(&st),
    }
    if st.error.is_some() {
        exit::FAILED
    } else {
        exit::OK
    }
}

/// The status for people, one line per part of the lab.
fn print_text(st: &Status) {
    println!("lab:        {} ({})", st.lab.name, st.lab.provider);
    println!(
        "kubeconfig: {}{}",
        st.lab.cluster.kubeconfig.display(),
        st.lab
            .cluster
            .context
            .as_ref()
            .map(|c| format!(" (context {c})"))
            .unwrap_or_default()
    );
    println!(
        "api server: {} {}",
        st.lab.cluster.api,
        st.kubernetes.as_deref().unwrap_or("(not answering)")
    );
    if let Some(e) = &st.error {
        println!("error:      {e}");
    }
    println!("addons:     {}", st.lab.addons.join(", "));
    println!(
        "  Gateway API CRDs: {}",
        st.gateway_api_crds.as_deref().unwrap_or("not installed")
    );
    println!("  MetalLB:          {}", yes_no(st.metallb_ready));
    println!("  Kong:             {}", yes_no(st.kong_ready));
    println!(
        "GatewayClass kong:  {}",
        st.gateway_class.as_deref().unwrap_or("absent")
    );
    println!(
        "Gateway kong-system/kong: {}",
        st.gateway.as_deref().unwrap_or("absent")
    );
    if !st.gateway_addresses.is_empty() {
        println!("  addresses: {}", st.gateway_addresses.join(", "));
    }
    if let Some(r) = &st.reach {
        println!("{r}");
    }
    print_images(st);
}

/// The images the lab's pods name (with where each digest comes from), and
/// what `gwlab pull` recorded.
fn print_images(st: &Status) {
    use crate::lab::images::DigestFrom;
    if st.lab.images.is_empty() && st.lab.cluster.node_image.is_none() {
        return;
    }
    println!("images (as the lab runs them):");
    if let Some(node) = &st.lab.cluster.node_image {
        println!("  {:<24} {node}", "node");
    }
    for i in &st.lab.images {
        let from = match i.digest_from {
            DigestFrom::Lock => "digest pinned in the lock",
            DigestFrom::Pulled => "digest recorded by gwlab pull",
            DigestFrom::None => "tag only: no digest pinned or recorded",
        };
        println!("  {:<24} {} ({from})", i.name, i.reference());
    }
    if !st.pulled.is_empty() {
        println!("pulled on this machine:");
        for p in &st.pulled {
            println!(
                "  {:<24} {}@{} ({}, {}, {})",
                p.name,
                p.image,
                p.digest,
                p.platform,
                match p.kept {
                    crate::lab::pulled::Kept::Archive => "archive for k3s",
                    crate::lab::pulled::Kept::Engine => "Docker engine",
                    crate::lab::pulled::Kept::Digest => "digest only",
                },
                p.pulled_at
            );
        }
    }
}
