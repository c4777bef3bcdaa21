//! Running a set of scenarios, up to N side by side, never two that the
//! format says must not overlap; results come back in the scenarios' order.

use std::future::Future;

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;

use super::{Runner, plan};
use crate::report::{CheckReport, ScenarioReport, Verdict};
use crate::scenario::Scenario;
use crate::targets::{Target, TargetError};

/// Runs `scenarios`, each on a target from `make`, at most `parallel` at once.
pub async fn run_all<T, F, Fut>(
    runner: &Runner<'_>,
    scenarios: &[Scenario],
    parallel: usize,
    make: F,
) -> Vec<ScenarioReport>
where
    T: Target,
    F: Fn() -> Fut,
    Fut: Future<Output = Result<T, TargetError>>,
{
    let footprints: Vec<plan::Footprint> = scenarios.iter().map(plan::footprint).collect();
    let mut pending: Vec<usize> = (0..scenarios.len()).collect();
    let mut running: Vec<usize> = Vec::new();
    let mut results: Vec<Option<ScenarioReport>> = scenarios.iter().map(|_| None).collect();
    let mut in_flight = FuturesUnordered::new();
    let make = &make;
    loop {
        let mut i = 0;
        while i < pending.len() && running.len() < parallel.max(1) {
            let idx = pending[i];
            if running
                .iter()
                .all(|&r| plan::conflict(&footprints[r], &footprints[idx]).is_none())
            {
                pending.remove(i);
                running.push(idx);
                let scenario = &scenarios[idx];
                in_flight.push(async move {
                    let report = match make().await {
                        Ok(mut target) => runner.run_scenario(&mut target, scenario).await,
                        Err(e) => failed_to_start(scenario, e),
                    };
                    (idx, report)
                });
            } else {
                i += 1;
            }
        }
        match in_flight.next().await {
            Some((idx, report)) => {
                running.retain(|&r| r != idx);
                runner.console.scenario(&report);
                results[idx] = Some(report);
            }
            None => break,
        }
    }
    results.into_iter().flatten().collect()
}

fn failed_to_start(s: &Scenario, e: TargetError) -> ScenarioReport {
    ScenarioReport {
        name: s.name.clone(),
        dir: s.dir.display().to_string(),
        verdict: Verdict::Failed,
        namespace: None,
        duration: Default::default(),
        missing_features: vec![],
        checks: vec![CheckReport::setup_failure(
            "target".into(),
            None,
            Default::default(),
            e.to_string(),
        )],
        diagnosis: None,
    }
}
