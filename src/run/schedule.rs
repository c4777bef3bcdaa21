//! Running a set of scenarios, up to N side by side, never two that the
//! format says must not overlap; results come back in the scenarios' order.
//!
//! Cleanup does not hold the run up: a finished scenario's deletions go on in
//! the background, and only a scenario whose footprint conflicts with one
//! still going away waits for exactly those. At the end, every deletion is
//! awaited together, bounded. After Ctrl-C nothing new starts.

use std::future::Future;
use std::time::Duration;

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;

use super::{Runner, plan};
use crate::report::{CheckReport, ScenarioReport, Verdict};
use crate::scenario::Scenario;
use crate::targets::{Awaiting, Target, TargetError};

/// How long the run waits for deletions: before a scenario that conflicts
/// with them, and all together at the end.
const DELETIONS: Duration = Duration::from_secs(120);

/// After Ctrl-C the run ends promptly: deletions are issued and finish on the
/// API server without gwlab.
const DELETIONS_INTERRUPTED: Duration = Duration::from_secs(2);

/// What a set of scenarios came to.
pub struct Outcome {
    /// One report per scenario, in the scenarios' order.
    pub reports: Vec<ScenarioReport>,
    /// Deletions not finished when the run ended.
    pub still_deleting: Vec<String>,
    /// Namespaces of the run that the cluster was still removing.
    pub namespaces_finishing: Vec<String>,
}

/// Runs `scenarios`, each on a target from `make`, at most `parallel` at once.
pub(crate) async fn run_all<T, F, Fut>(
    runner: &Runner<'_>,
    scenarios: &[Scenario],
    parallel: usize,
    make: F,
) -> Outcome
where
    T: Target,
    F: Fn() -> Fut,
    Fut: Future<Output = Result<T, TargetError>>,
{
    let footprints: Vec<plan::Footprint> = scenarios.iter().map(plan::footprint).collect();
    let mut pending: Vec<usize> = (0..scenarios.len()).collect();
    let mut running: Vec<usize> = Vec::new();
    // Targets of finished scenarios whose deletions may still be going on.
    let mut draining: Vec<(usize, T)> = Vec::new();
    let mut results: Vec<Option<ScenarioReport>> = scenarios.iter().map(|_| None).collect();
    let mut in_flight = FuturesUnordered::new();
    let make = &make;
    loop {
        let mut i = 0;
        while !runner.cancelled() && i < pending.len() && running.len() < parallel.max(1) {
            let idx = pending[i];
            if running
                .iter()
                .any(|&r| plan::conflict(&footprints[r], &footprints[idx]).is_some())
            {
                i += 1;
                continue;
            }
            pending.remove(i);
            running.push(idx);
            let (blockers, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut draining)
                .into_iter()
                .partition(|(d, _)| plan::conflict(&footprints[*d], &footprints[idx]).is_some());
            draining = rest;
            let scenario = &scenarios[idx];
            let footprint = &footprints[idx];
            let footprints = &footprints;
            in_flight.push(async move {
                for (d, b) in &blockers {
                    let which = if plan::shares_namespace(&footprints[*d], footprint) {
                        Awaiting::Everything
                    } else {
                        Awaiting::Routes
                    };
                    b.deletions_done(which, DELETIONS).await;
                }
                let (report, target) = match make().await {
                    Ok(mut target) => {
                        let report = runner.run_scenario(&mut target, scenario).await;
                        (report, Some(target))
                    }
                    Err(e) => (failed_to_start(scenario, e), None),
                };
                (idx, report, target, blockers)
            });
        }
        match in_flight.next().await {
            Some((idx, report, target, blockers)) => {
                running.retain(|&r| r != idx);
                runner.sinks.scenario(&report);
                results[idx] = Some(report);
                let finished = target.into_iter().map(|t| (idx, t));
                draining.extend(
                    blockers
                        .into_iter()
                        .chain(finished)
                        .filter(|(_, t)| t.deleting()),
                );
            }
            None => break,
        }
    }
    for idx in pending {
        let report = ScenarioReport::not_run(&scenarios[idx], Verdict::Interrupted);
        runner.sinks.scenario(&report);
        results[idx] = Some(report);
    }
    let bound = if runner.cancelled() {
        DELETIONS_INTERRUPTED
    } else {
        DELETIONS
    };
    let waits = draining
        .iter()
        .map(|(_, t)| t.deletions_done(Awaiting::Objects, bound));
    let still_deleting = futures_util::future::join_all(waits)
        .await
        .into_iter()
        .flatten()
        .collect();
    let finishing = draining.iter().map(|(_, t)| t.namespaces_finishing());
    let namespaces_finishing = futures_util::future::join_all(finishing)
        .await
        .into_iter()
        .flatten()
        .collect();
    Outcome {
        reports: results.into_iter().flatten().collect(),
        still_deleting,
        namespaces_finishing,
    }
}

fn failed_to_start(s: &Scenario, e: TargetError) -> ScenarioReport {
    ScenarioReport {
        checks: vec![CheckReport::setup_failure(
            "target".into(),
            None,
            Default::default(),
            e.to_string(),
        )],
        ..ScenarioReport::not_run(s, Verdict::Failed)
    }
}
