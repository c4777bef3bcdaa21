//! `gwlab doctor`: the machine, then the cluster; findings root cause first.

use serde::Serialize;

use crate::cli::{DoctorArgs, OutputFormat};
use crate::doctor::{self, Finding, Layer};
use crate::exit;
use crate::lab::cache::{Cache, default_dir};
use crate::lab::client::cluster_client;
use crate::lab::lock::Lock;
use crate::lab::pulled::PullRecord;
use crate::lab::state::LabState;

#[derive(Serialize)]
struct Report {
    healthy: bool,
    checks: Vec<String>,
    findings: Vec<Finding>,
}

pub async fn run(args: &DoctorArgs) -> i32 {
    if let Some(dir) = &args.from {
        return from_recorded(dir, args.output);
    }
    let lab = LabState::load(&args.lab.name)
        .ok()
        .flatten()
        .filter(|_| !args.cluster.given());
    let provider = match (args.provider, &lab) {
        (Some(p), _) => p.as_str().to_string(),
        (None, Some(l)) => l.provider.as_str().to_string(),
        (None, None) if args.cluster.given() => "existing".into(),
        (None, None) => "k3s".into(),
    };
    let lock = Lock::builtin();
    let cache = Cache::new(default_dir(), None);
    let mut unreadable = None;
    let pulled = PullRecord::load(&cache.dir).unwrap_or_else(|e| {
        unreadable = Some(e);
        PullRecord::default()
    });
    let (mut findings, mut checks, network) = doctor::machine::check(&doctor::machine::Inputs {
        provider: &provider,
        lab: lab.as_ref(),
        cache: &cache,
        lock: &lock,
        pulled: &pulled,
    })
    .await;
    if let Some(e) = unreadable {
        // Said, and its images then counted as not pulled: never as pulled.
        findings.push(
            Finding::new(
                "pull-record-unreadable",
                Layer::Machine,
                "gwlab pull's record of what it fetched cannot be read",
            )
            .evidence(e.to_string())
            .fix(format!(
                "remove {} and run `gwlab pull` again",
                PullRecord::path(&cache.dir).display()
            )),
        );
    }
    match cluster_client(args.cluster.kubeconfig.clone(), args.cluster.context.clone(), &args.lab.name).await {
        Err(e) => findings.push(Finding::new("no-cluster", Layer::Cluster, "no cluster to check").evidence(e.to_string()).fix(format!("create the lab with `gwlab up --name {}`, or point at a cluster with --kubeconfig/--context", args.lab.name))),
        Ok((client, _)) => match doctor::cluster::gather(&client).await {
            Err(e) => findings.push(Finding::new("cluster-unreachable", Layer::Cluster, "the cluster does not answer").evidence(e.to_string()).fix("is it running? `gwlab status` shows the lab; `docker ps` its container")),
            Ok(facts) => {
                let (f, c) = doctor::cluster::analyze(&facts, network.as_ref());
                findings.extend(f);
                checks.extend(c);
            }
        },
    }
    report(findings, checks, args.output)
}

/// `--from DIR`: the cluster's analysis on recorded objects.
fn from_recorded(dir: &std::path::Path, output: OutputFormat) -> i32 {
    match doctor::recorded::read(dir) {
        Err(e) => {
            eprintln!("error: {e}");
            exit::BAD_INPUT
        }
        Ok(facts) => {
            let (findings, checks) = doctor::cluster::analyze(&facts, None);
            report(findings, checks, output)
        }
    }
}

fn report(findings: Vec<Finding>, checks: Vec<String>, output: OutputFormat) -> i32 {
    let findings = doctor::order(findings);
    let healthy = doctor::healthy(&findings);
    match output {
        OutputFormat::Json => println!(
            "{}",
            serde_json::to_string_pretty(&Report {
                healthy,
                checks,
                findings
            })
            .expect("reports serialise")
        ),
        OutputFormat::Text => print!("{}", doctor::render_text(&findings, &checks)),
    }
    if healthy { exit::OK } else { exit::FAILED }
}
