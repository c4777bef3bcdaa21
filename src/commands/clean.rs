//! `gwlab clean --run <id>`: delete what one test run created and left
//! behind (after a second Ctrl-C or a crash). The run recorded the UID of
//! every object it created; only those are deleted. Objects that merely
//! carry the run's labels are named and left alone: labels can be copied.

use kube::api::{Api, DynamicObject, ListParams};

use crate::cli::CleanArgs;
use crate::exit;
use crate::kinds::KINDS;
use crate::ownership::{Created, Removal, RunRecord, delete_recorded};
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
    let path = crate::lab::state::run_record(&args.run);
    let recorded = match RunRecord::read(&path) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::BAD_INPUT;
        }
    };
    let outcome = clean_run(&client, &args.run, &recorded).await;
    for d in &outcome.removal.deleted {
        println!("deleted {d}");
    }
    for k in &outcome.removal.kept {
        println!("kept {k}");
    }
    for u in &outcome.unrecorded {
        println!(
            "left alone {u}: it carries the run's labels, but the run did not record creating it"
        );
    }
    for f in &outcome.removal.failed {
        eprintln!("error: {f}");
    }
    println!(
        "{} of run {} deleted",
        crate::diag::counted(outcome.removal.deleted.len(), "object"),
        args.run
    );
    if !outcome.removal.failed.is_empty() {
        return exit::FAILED;
    }
    let _ = std::fs::remove_file(&path);
    exit::OK
}

/// What `clean` did: the recorded objects it deleted (or kept), and the
/// objects labelled with the run that it did not touch.
#[derive(Debug, Default)]
pub struct CleanOutcome {
    pub removal: Removal,
    pub unrecorded: Vec<String>,
}

/// Deletes the objects the run recorded creating, namespaces last, and lists
/// the labelled objects it leaves alone.
pub async fn clean_run(client: &kube::Client, run: &str, recorded: &[Created]) -> CleanOutcome {
    let removal = delete_recorded(client, recorded, false).await;
    let mut unrecorded = Vec::new();
    let selector = ListParams::default().labels(&format!(
        "{RUN_LABEL}={run},app.kubernetes.io/managed-by=gwlab"
    ));
    for info in KINDS.iter().filter(|k| k.cleanable) {
        let (ar, _) = crate::kinds::api_resource(info);
        let api: Api<DynamicObject> = Api::all_with(client.clone(), &ar);
        let list = match api.list(&selector).await {
            Ok(l) => l,
            // A kind the cluster does not serve has nothing of the run.
            Err(e) if crate::kube_api::is_not_found(&e) => continue,
            Err(e) => {
                unrecorded.push(format!(
                    "{}s (cannot list them: {})",
                    info.kind,
                    crate::kube_api::sentence(&e)
                ));
                continue;
            }
        };
        for obj in list {
            let uid = obj.metadata.uid.clone().unwrap_or_default();
            if recorded.iter().any(|c| c.uid == uid) {
                continue;
            }
            let name = obj.metadata.name.clone().unwrap_or_default();
            unrecorded.push(match &obj.metadata.namespace {
                Some(ns) => format!("{} {ns}/{name}", info.kind),
                None => format!("{} {name}", info.kind),
            });
        }
    }
    CleanOutcome {
        removal,
        unrecorded,
    }
}
