//! `gwlab test`: load every scenario first (bad input stops the run before
//! anything is applied), run them on the chosen target, write the reports.
//! Ctrl-C stops after cleanup; a second Ctrl-C stops at once and says what
//! was left and how to remove it.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::cli::{TargetKind, TestArgs};
use crate::exit;
use crate::lab::lock::Lock;
use crate::report::human::Console;
use crate::report::{RunReport, ScenarioReport, junit};
use crate::run::{self, Runner, plan, schedule};
use crate::scenario::{self, Scenario};
use crate::targets::cluster::ClusterTarget;
use crate::targets::embedded::EmbeddedTarget;
use crate::targets::embedded::tls::LabCa;

pub async fn run(args: &TestArgs) -> i32 {
    let scenarios = match load_all(args) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let kind = args.target.unwrap_or(if args.cluster.given() {
        TargetKind::Cluster
    } else {
        TargetKind::Embedded
    });
    let console = Console::new(args.quiet);
    let run_id = run::new_run_id();
    let runner = Runner {
        run_id: run_id.clone(),
        console: &console,
        retry_probes: kind == TargetKind::Cluster,
        cancel: Arc::new(AtomicBool::new(false)),
        created: Arc::new(Mutex::new(BTreeSet::new())),
        diagnostics: (kind == TargetKind::Cluster).then(|| args.diagnostics.clone()),
        keep: args.keep,
    };
    let start = Instant::now();
    let reports = match kind {
        TargetKind::Embedded => {
            console.line(&format!("target: embedded (gwlab's reference gateway, Gateway API v1.2 semantics, on 127.0.0.1), run {run_id}, {} scenarios", scenarios.len()));
            let ca = match LabCa::new() {
                Ok(ca) => Arc::new(ca),
                Err(e) => {
                    eprintln!("error: cannot make the lab certificate authority: {e}");
                    return exit::FAILED;
                }
            };
            // A fresh gateway per scenario: nothing leaks from one to the next.
            let make = || EmbeddedTarget::start(ca.clone(), Default::default());
            interruptible(
                &runner,
                schedule::run_all(&runner, &scenarios, args.parallel, make),
            )
            .await
        }
        TargetKind::Cluster => {
            let (client, lab) = match crate::lab::client::cluster_client(
                args.cluster.kubeconfig.clone(),
                args.cluster.context.clone(),
                &args.name,
            )
            .await
            {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("error: {e}");
                    return exit::BAD_INPUT;
                }
            };
            let place = match &lab {
                Some(l) => format!("lab {} ({}, {})", l.name, l.provider, l.cluster.api),
                None => "the kubeconfig's cluster".to_string(),
            };
            console.line(&format!(
                "target: cluster ({place}), run {run_id}, {} scenarios",
                scenarios.len()
            ));
            let echo = Lock::builtin().image("echo-basic").reference();
            let make = || {
                let t = ClusterTarget::new(
                    client.clone(),
                    lab.clone(),
                    args.gateway_address.clone(),
                    echo.clone(),
                    Duration::from_secs(180),
                );
                async move { Ok(t) }
            };
            interruptible(
                &runner,
                schedule::run_all(&runner, &scenarios, args.parallel, make),
            )
            .await
        }
    };
    finish(
        args,
        &console,
        RunReport {
            target: if kind == TargetKind::Cluster {
                "cluster".into()
            } else {
                "embedded".into()
            },
            run_id,
            scenarios: reports,
            duration: start.elapsed(),
            require_features: args.require_features,
        },
    )
}

/// Awaits the run; the first Ctrl-C asks the runner to stop after cleanup, a
/// second stops at once.
async fn interruptible(
    runner: &Runner<'_>,
    run: impl std::future::Future<Output = Vec<ScenarioReport>>,
) -> Vec<ScenarioReport> {
    tokio::pin!(run);
    loop {
        tokio::select! {
            reports = &mut run => return reports,
            _ = tokio::signal::ctrl_c() => {
                if runner.cancel.swap(true, Ordering::SeqCst) {
                    let left: Vec<String> = runner.created.lock().expect("created namespaces").iter().cloned().collect();
                    eprintln!("stopped at once; left behind: {}", if left.is_empty() { "nothing gwlab knows of".to_string() } else { format!("namespaces {}", left.join(", ")) });
                    eprintln!("remove everything of this run with: gwlab clean --run {}", runner.run_id);
                    std::process::exit(130);
                }
                eprintln!("interrupted: cleaning up (Ctrl-C again to stop at once)");
            }
        }
    }
}

fn finish(args: &TestArgs, console: &Console, report: RunReport) -> i32 {
    console.finish(&report);
    if let Some(path) = &args.junit
        && let Err(e) = std::fs::write(path, junit::render(&report))
    {
        eprintln!(
            "error: cannot write the JUnit report to {}: {e}",
            path.display()
        );
        return exit::BAD_INPUT;
    }
    if let Some(path) = &args.json
        && let Err(e) = std::fs::write(path, crate::report::json::render(&report))
    {
        eprintln!(
            "error: cannot write the JSON report to {}: {e}",
            path.display()
        );
        return exit::BAD_INPUT;
    }
    report.exit_code()
}

fn load_all(args: &TestArgs) -> Result<Vec<Scenario>, i32> {
    let dirs = scenario::find(&args.paths).map_err(|e| {
        eprintln!("{e}");
        exit::BAD_INPUT
    })?;
    let mut scenarios = Vec::new();
    let mut problems = Vec::new();
    for dir in dirs {
        match scenario::load(&dir) {
            Ok(s) => scenarios.push(s),
            Err(e) => problems.push(e),
        }
    }
    if !problems.is_empty() {
        for p in &problems {
            eprintln!("{p}");
        }
        eprintln!(
            "error: {} scenario(s) have problems; nothing was run (fix them, or see `gwlab check`)",
            problems.len()
        );
        return Err(exit::BAD_INPUT);
    }
    if !args.tags.is_empty() {
        scenarios.retain(|s| s.tags.iter().any(|t| args.tags.contains(t)));
        if scenarios.is_empty() {
            eprintln!(
                "error: no scenario has any of the tags {}",
                args.tags.join(", ")
            );
            return Err(exit::BAD_INPUT);
        }
    }
    if let Some((i, n)) = args.shard {
        scenarios.retain(|s| plan::in_shard(&s.name, i, n));
    }
    Ok(scenarios)
}
