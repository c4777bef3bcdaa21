//! `gwlab test`: load every scenario first (bad input stops the run before
//! anything is applied), run them on the chosen target, write the reports
//! (JUnit, JSON, HTML).
//! Ctrl-C stops after cleanup; a second Ctrl-C stops at once and says what
//! was left and how to remove it.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::cli::{AsArg, TargetKind, TestArgs};
use crate::exit;
use crate::implementations::Implementation;
use crate::lab::state;
use crate::ownership::RunRecord;
use crate::report::human::Console;
use crate::report::sink::{Annotations, ReportFile, Sinks};
use crate::report::{RunReport, annotations, junit};
use crate::run::{self, Runner, plan, schedule};
use crate::scenario::{self, Scenario};
use crate::targets::cluster::ClusterTarget;
use crate::targets::embedded::EmbeddedTarget;
use crate::targets::embedded::tls::LabCa;
use crate::targets::{Target, TargetError};

pub async fn run(args: &TestArgs) -> i32 {
    if let Some(AsArg::Help) = &args.implementations {
        print!("{}", crate::implementations::help());
        return exit::OK;
    }
    let console = if args.nested {
        Console::new(args.quiet).on_stderr()
    } else {
        Console::new(args.quiet)
    };
    let mut sinks = Sinks::terminal(console);
    if annotations::in_github_actions() && !args.nested {
        sinks = sinks.with(Annotations);
    }
    // Written in this order when the run ends, as their flags are listed.
    if let Some(path) = &args.junit {
        sinks = sinks.with(ReportFile::junit(path.clone()));
    }
    if let Some(path) = &args.json {
        sinks = sinks.with(ReportFile::json(path.clone()));
    }
    if let Some(path) = &args.html {
        sinks = sinks.with(ReportFile::html(path.clone()));
    }
    match report(args, &sinks).await {
        Ok(report) => finish(&sinks, report),
        Err(code) => code,
    }
}

/// Runs the scenarios `args` name, telling `sinks` how it goes, and
/// returns the run's report; a run that could not be made is its exit code
/// (bad input, no target), said on stderr.
pub(crate) async fn report(args: &TestArgs, sinks: &Sinks) -> Result<RunReport, i32> {
    let implementations = match &args.implementations {
        Some(AsArg::Use(list)) => list.clone(),
        Some(AsArg::Help) | None => vec![Implementation::Spec],
    };
    if args.paths.is_empty() {
        eprintln!("error: name the scenario directories to run, e.g. gwlab test scenarios/");
        return Err(exit::BAD_INPUT);
    }
    // A report that cannot be written is found before anything runs.
    if let Err(e) = report_paths(args) {
        eprintln!("error: {e}");
        return Err(exit::BAD_INPUT);
    }
    let scenarios = match load_all(args) {
        Ok(s) => s,
        Err(code) => return Err(code),
    };
    let (kind, why) = choose_target(args);
    if kind == TargetKind::Cluster && implementations != [Implementation::Spec] {
        eprintln!(
            "error: --as chooses how gwlab's reference gateway answers, and this run is on the cluster ({why}), where Kong itself answers (a failed probe there names the known deviations of the lab's Kong version); run with --target embedded --as ..."
        );
        return Err(exit::BAD_INPUT);
    }
    let run_id = run::new_run_id();
    let mut runner = Runner {
        run_id: run_id.clone(),
        sinks,
        retry_probes: kind == TargetKind::Cluster,
        cancel: Default::default(),
        created: Arc::new(Mutex::new(BTreeSet::new())),
        diagnostics: (kind == TargetKind::Cluster).then(|| args.diagnostics.clone()),
        keep: args.keep,
        features: BTreeSet::new(),
        explain_hints: true,
        gateway_api: None,
    };
    if kind == TargetKind::Embedded {
        for o in scenarios
            .iter()
            .flat_map(|s| crate::implementations::outside_gateway_api(s.all_objects()))
        {
            sinks.note(&format!("note: {o}"));
        }
    }
    let mut runs = Vec::new();
    for implementation in implementations {
        let start = Instant::now();
        let outcome = match kind {
            TargetKind::Embedded => {
                let answering = match implementation {
                    Implementation::Spec => {
                        "gwlab's reference gateway, Gateway API semantics up to v1.6.1".to_string()
                    }
                    other => format!(
                        "gwlab's reference gateway answering as {}",
                        other.describe()
                    ),
                };
                sinks.note(&format!(
                    "target: embedded ({why}: {answering}, on 127.0.0.1), run {run_id}, {}",
                    crate::diag::counted(scenarios.len(), "scenario")
                ));
                runner.features = crate::features::names(&implementation.features());
                match run_embedded(&runner, &scenarios, args, implementation).await {
                    Ok(r) => r,
                    Err(code) => return Err(code),
                }
            }
            TargetKind::Cluster => match run_cluster(&mut runner, &scenarios, args, &why).await {
                Ok(r) => r,
                Err(code) => return Err(code),
            },
        };
        let report = RunReport {
            target: if kind == TargetKind::Cluster {
                "cluster".into()
            } else {
                "embedded".into()
            },
            implementation: implementation.name(),
            run_id: run_id.clone(),
            scenarios: outcome.reports,
            duration: start.elapsed(),
            require_features: args.require_features,
            interrupted: runner.cancelled(),
            still_deleting: outcome.still_deleting,
            namespaces_finishing: outcome.namespaces_finishing,
            portability: None,
        };
        runs.push(report);
        if runner.cancelled() {
            break;
        }
    }
    Ok(if runs.len() > 1 {
        crate::report::portability::combine(runs)
    } else {
        runs.pop().expect("one run")
    })
}

/// Which target a run uses, and why: `--target`, then `GWLAB_TARGET`, then
/// `--kubeconfig`/`--context`, then the lab of `--name` when `gwlab up` made
/// it, else the embedded gateway.
pub(crate) fn choose_target(args: &TestArgs) -> (TargetKind, String) {
    args.on.choose(true)
}

async fn run_embedded(
    runner: &Runner<'_>,
    scenarios: &[Scenario],
    args: &TestArgs,
    implementation: Implementation,
) -> Result<schedule::Outcome, i32> {
    let ca = match LabCa::new() {
        Ok(ca) => Arc::new(ca),
        Err(e) => {
            eprintln!("error: cannot make the lab certificate authority: {e}");
            return Err(exit::FAILED);
        }
    };
    // A fresh gateway per scenario: nothing leaks from one to the next.
    let make = || EmbeddedTarget::start_as(ca.clone(), Default::default(), implementation);
    Ok(interruptible(
        runner,
        schedule::run_all(runner, scenarios, args.parallel, make),
    )
    .await)
}

/// How long a run waits for the cluster's API server to answer at all.
const ANSWER_BUDGET: std::time::Duration = std::time::Duration::from_secs(20);

async fn run_cluster(
    runner: &mut Runner<'_>,
    scenarios: &[Scenario],
    args: &TestArgs,
    why: &str,
) -> Result<schedule::Outcome, i32> {
    let (client, lab, server) = crate::lab::client::cluster_client_at(
        args.on.cluster.kubeconfig.clone(),
        args.on.cluster.context.clone(),
        &args.on.name,
    )
    .await
    .map_err(|e| {
        eprintln!("error: {e}");
        exit::BAD_INPUT
    })?;
    // A cluster that does not answer is said once, naming it, within
    // ANSWER_BUDGET: not as every scenario failing on its first call.
    if let Err(e) = client.apiserver_version().await
        && crate::kube_api::is_transient(&e)
    {
        runner.sinks.note(&format!(
            "waiting up to {}s for {server}: {}",
            ANSWER_BUDGET.as_secs(),
            crate::kube_api::sentence(&e)
        ));
    }
    crate::lab::client::api_ready_as(&client, &server, ANSWER_BUDGET)
        .await
        .map_err(|e| {
            eprintln!("error: {e}");
            exit::BAD_INPUT
        })?;
    let place = state::describe(&lab);
    runner.sinks.note(&format!(
        "target: cluster ({why}: {place}), run {}, {}",
        runner.run_id,
        crate::diag::counted(scenarios.len(), "scenario")
    ));
    let record = Arc::new(RunRecord::new(state::run_record(&runner.run_id)));
    let echo = crate::lab::images::echo_reference().map_err(|e| {
        eprintln!("error: {e}");
        exit::FAILED
    })?;
    // Read once for the run: a cluster whose Kong gwlab cannot tell is run
    // all the same, without naming deviations.
    let kong = crate::targets::cluster::kong_model::cluster_kong(&client)
        .await
        .unwrap_or_else(|e| {
            runner.sinks.note(&format!(
                "note: Kong's version is unknown ({e}): failed probes will not name Kong's known deviations"
            ));
            None
        });
    if let Some(k) = kong {
        runner.sinks.note(&format!(
            "Kong on the cluster: {} (failed probes name its known deviations from the spec)",
            k.describe()
        ));
    }
    let make = || {
        let t = ClusterTarget::for_lab(&client, &lab, &args.on.gateway_address, echo.clone())
            .recording(record.clone())
            .modelled_as(kong);
        async move { Ok(t) }
    };
    if scenarios
        .iter()
        .any(|s| s.gateway_api > crate::gateway_api::Release::V1_2_1)
    {
        // Read once for the run; a failure to read is an error, never "unsupported".
        let installed = crate::targets::cluster::release::installed(&client)
            .await
            .map_err(|e| {
                eprintln!(
                    "error: cannot read the cluster's Gateway API CRDs: {}",
                    crate::kube_api::sentence(&e)
                );
                exit::BAD_INPUT
            })?;
        runner.gateway_api = installed.serves().map(|r| (r, installed.said()));
    }
    if scenarios.iter().any(|s| !s.features.is_empty()) {
        // Read once for the run; a failure to read is an error, never "unsupported".
        let probe = make().await.map_err(|e: TargetError| {
            eprintln!("error: {e}");
            exit::BAD_INPUT
        })?;
        runner.features = probe.supported_features().await.map_err(|e| {
            eprintln!("error: cannot tell which Gateway API features the cluster supports: {e}");
            exit::BAD_INPUT
        })?;
    }
    let runner: &Runner<'_> = runner;
    Ok(interruptible(
        runner,
        schedule::run_all(runner, scenarios, args.parallel, make),
    )
    .await)
}

/// Awaits the run; the first Ctrl-C asks the runner to stop after cleanup, a
/// second stops at once.
async fn interruptible(
    runner: &Runner<'_>,
    run: impl std::future::Future<Output = schedule::Outcome>,
) -> schedule::Outcome {
    tokio::pin!(run);
    loop {
        tokio::select! {
            reports = &mut run => return reports,
            _ = tokio::signal::ctrl_c() => {
                if runner.cancel.cancel() {
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

/// The finished report to every sink; a report file that cannot be
/// written is exit 2, whatever the verdict.
fn finish(sinks: &Sinks, report: RunReport) -> i32 {
    if let Err(e) = sinks.finished(&report) {
        eprintln!("error: {e}");
        return exit::BAD_INPUT;
    }
    report.exit_code()
}

/// Why a report file of `--junit`, `--json` or `--html` could not be written.
#[derive(Debug, thiserror::Error)]
enum ReportPathError {
    #[error("{flag} {}: is a directory; give a file name", .path.display())]
    Directory {
        flag: &'static str,
        path: std::path::PathBuf,
    },
    #[error("{flag} {}: the directory {} does not exist; create it first", .path.display(), .dir.display())]
    NoDirectory {
        flag: &'static str,
        path: std::path::PathBuf,
        dir: std::path::PathBuf,
    },
}

/// Checks, before anything runs, that every report file asked for can be
/// written where it is asked for.
fn report_paths(args: &TestArgs) -> Result<(), ReportPathError> {
    for (flag, path) in [
        ("--junit", &args.junit),
        ("--json", &args.json),
        ("--html", &args.html),
    ] {
        let Some(path) = path else { continue };
        if path.is_dir() {
            return Err(ReportPathError::Directory {
                flag,
                path: path.clone(),
            });
        }
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(std::path::Path::new("."));
        if !dir.is_dir() {
            return Err(ReportPathError::NoDirectory {
                flag,
                path: path.clone(),
                dir: dir.to_path_buf(),
            });
        }
    }
    Ok(())
}

fn load_all(args: &TestArgs) -> Result<Vec<Scenario>, i32> {
    let dirs = scenario::find(&args.paths).map_err(|e| {
        eprintln!("{e}");
        exit::BAD_INPUT
    })?;
    let mut scenarios = Vec::new();
    let mut problems = Vec::new();
    for dir in dirs {
        match scenario::load_as(&dir, args.gateway_api) {
            Ok(s) => scenarios.push(s),
            Err(e) => problems.push(e),
        }
    }
    if !problems.is_empty() {
        for p in &problems {
            eprintln!("{p}");
        }
        let all: Vec<crate::diag::Diagnostic> =
            problems.iter().flat_map(|p| p.0.iter().cloned()).collect();
        if annotations::in_github_actions() && !args.nested {
            for line in annotations::bad_input(&all) {
                println!("{line}");
            }
        }
        if let Some(path) = &args.junit
            && let Err(e) = std::fs::write(path, junit::render_bad_input(&all))
        {
            eprintln!(
                "error: cannot write the JUnit report to {}: {e}",
                path.display()
            );
        }
        eprintln!(
            "error: {} {} problems; nothing was run (fix them, or see `gwlab check`)",
            crate::diag::counted(problems.len(), "scenario"),
            if problems.len() == 1 { "has" } else { "have" }
        );
        return Err(exit::BAD_INPUT);
    }
    let duplicates = scenario::duplicate_names(&scenarios);
    if !duplicates.is_empty() {
        for d in &duplicates {
            eprintln!("{d}");
        }
        eprintln!("error: scenario names must be unique in a run; nothing was run");
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
        let all = scenarios.len();
        scenarios = plan::shard(scenarios, i, n);
        if scenarios.is_empty() {
            eprintln!(
                "note: shard {i}/{n} is empty: {} dealt over {n} shards leave none to this one",
                crate::diag::counted(all, "scenario")
            );
        }
    }
    Ok(scenarios)
}
