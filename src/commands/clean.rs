//! `gwlab clean --run <id>`: delete everything that one test run labelled
//! (`gwlab.dev/run=<id>`), namespaces first, then labelled objects elsewhere.

use kube::api::{Api, DeleteParams, DynamicObject, ListParams};

use crate::cli::CleanArgs;
use crate::cluster::apply::resource;
use crate::exit;
use crate::target::cluster::RUN_LABEL;

/// Kinds scenarios put outside their own namespaces.
const KINDS: &[(&str, &str)] = &[
    ("gateway.networking.k8s.io/v1", "HTTPRoute"),
    ("gateway.networking.k8s.io/v1", "Gateway"),
    ("gateway.networking.k8s.io/v1", "GatewayClass"),
    ("gateway.networking.k8s.io/v1beta1", "ReferenceGrant"),
    ("v1", "Service"),
    ("v1", "Secret"),
    ("v1", "ConfigMap"),
    ("apps/v1", "Deployment"),
    ("v1", "Namespace"),
];

pub async fn run(args: &CleanArgs) -> i32 {
    let (client, _) = match super::lab::cluster_client(
        args.kubeconfig.clone(),
        args.context.clone(),
        &args.lab.name,
    )
    .await
    {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::BAD_INPUT;
        }
    };
    let selector = ListParams::default().labels(&format!(
        "{RUN_LABEL}={},app.kubernetes.io/managed-by=gwlab",
        args.run
    ));
    let mut deleted = 0;
    let mut failed = 0;
    for (api_version, kind) in KINDS {
        let (ar, _) = resource(api_version, kind).expect("known kinds");
        let api: Api<DynamicObject> = Api::all_with(client.clone(), &ar);
        let list = match api.list(&selector).await {
            Ok(l) => l,
            // A kind the cluster does not serve has nothing of the run.
            Err(kube::Error::Api(s)) if s.code == 404 => continue,
            Err(e) => {
                eprintln!("error: cannot list {kind}: {e}");
                failed += 1;
                continue;
            }
        };
        for obj in list {
            let name = obj.metadata.name.clone().unwrap_or_default();
            let ns = obj.metadata.namespace.clone();
            let api: Api<DynamicObject> = match &ns {
                Some(ns) => Api::namespaced_with(client.clone(), ns, &ar),
                None => Api::all_with(client.clone(), &ar),
            };
            match api.delete(&name, &DeleteParams::background()).await {
                Ok(_) => {
                    deleted += 1;
                    println!(
                        "deleted {kind} {}{name}",
                        ns.map(|n| format!("{n}/")).unwrap_or_default()
                    );
                }
                Err(e) => {
                    failed += 1;
                    eprintln!("error: cannot delete {kind} {name}: {e}");
                }
            }
        }
    }
    println!("{deleted} object(s) of run {} deleted", args.run);
    if failed > 0 { exit::FAILED } else { exit::OK }
}
