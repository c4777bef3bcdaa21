//! `gwlab clean --run <id>`: delete everything that one test run labelled
//! (`gwlab.dev/run=<id>`): labelled objects wherever they are, then the
//! run's namespaces.

use kube::api::{Api, DeleteParams, DynamicObject, ListParams};

use crate::cli::CleanArgs;
use crate::exit;
use crate::kinds::KINDS;
use crate::targets::cluster::RUN_LABEL;

pub async fn run(args: &CleanArgs) -> i32 {
    let (client, _) = match crate::lab::client::cluster_client(
        args.cluster.kubeconfig.clone(),
        args.cluster.context.clone(),
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
    let (deleted, failed) = clean_run(&client, &args.run).await;
    for d in &deleted {
        println!("deleted {d}");
    }
    for f in &failed {
        eprintln!("error: {f}");
    }
    let deleted = deleted.len();
    println!("{deleted} object(s) of run {} deleted", args.run);
    if failed.is_empty() {
        exit::OK
    } else {
        exit::FAILED
    }
}

/// Deletes every object labelled with the run, namespaces last; returns what
/// was deleted and what could not be.
pub async fn clean_run(client: &kube::Client, run: &str) -> (Vec<String>, Vec<String>) {
    let selector = ListParams::default().labels(&format!(
        "{RUN_LABEL}={run},app.kubernetes.io/managed-by=gwlab"
    ));
    let mut deleted = Vec::new();
    let mut failed = Vec::new();
    // Newest kinds first, namespaces last: what lives in a namespace goes
    // before the namespace does.
    for info in KINDS.iter().rev().filter(|k| k.cleanable) {
        let kind = info.kind;
        let (ar, _) = info.api_resource();
        let api: Api<DynamicObject> = Api::all_with(client.clone(), &ar);
        let list = match api.list(&selector).await {
            Ok(l) => l,
            // A kind the cluster does not serve has nothing of the run.
            Err(kube::Error::Api(s)) if s.code == 404 => continue,
            Err(e) => {
                failed.push(format!("cannot list {kind}: {e}"));
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
            let what = format!(
                "{kind} {}{name}",
                ns.map(|n| format!("{n}/")).unwrap_or_default()
            );
            match api.delete(&name, &DeleteParams::background()).await {
                Ok(_) => deleted.push(what),
                Err(e) => failed.push(format!("cannot delete {what}: {e}")),
            }
        }
    }
    (deleted, failed)
}
