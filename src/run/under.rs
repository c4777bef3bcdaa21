//! One scenario on fresh embedded gateways, once per implementation, for the
//! portability of a route: a lab exercise shows the student's route under
//! spec and Kong, and `gwlab migrate` warns where its new routes answer
//! otherwise on the lab's Kong.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use super::Runner;
use crate::implementations::Implementation;
use crate::report::RunReport;
use crate::report::human::Console;
use crate::report::sink::Sinks;
use crate::scenario::Scenario;
use crate::targets::TargetError;
use crate::targets::embedded::EmbeddedTarget;
use crate::targets::embedded::tls::LabCa;

/// Why the runs could not be made.
#[derive(Debug, thiserror::Error)]
pub enum UnderError {
    #[error("cannot make the lab certificate authority: {0}")]
    Ca(#[source] rcgen::Error),
    #[error("cannot start the embedded gateway: {0}")]
    Gateway(#[source] TargetError),
}

/// Runs `scenario` quietly under each implementation. Every feature of the
/// reference gateway is allowed: what an implementation would answer shows
/// even where its conformance report does not claim a feature the scenario
/// needs (`gwlab test --as` leaves such a scenario `unsupported`).
pub async fn under(
    scenario: &Scenario,
    implementations: &[Implementation],
) -> Result<Vec<RunReport>, UnderError> {
    let ca = Arc::new(LabCa::new().map_err(UnderError::Ca)?);
    let sinks = Sinks::terminal(Console::new(true));
    let mut runs = Vec::new();
    for i in implementations {
        let allowed = Implementation::Spec.features();
        let runner = Runner {
            run_id: super::new_run_id(),
            sinks: &sinks,
            retry_probes: false,
            cancel: Default::default(),
            created: Arc::new(Mutex::new(BTreeSet::new())),
            diagnostics: None,
            keep: false,
            features: crate::features::names(&allowed),
            explain_hints: false,
            gateway_api: None,
        };
        let start = Instant::now();
        let mut target = EmbeddedTarget::start_as(ca.clone(), Default::default(), *i)
            .await
            .map_err(UnderError::Gateway)?;
        let report = runner.run_scenario(&mut target, scenario).await;
        runs.push(RunReport {
            target: "embedded".into(),
            implementation: i.name(),
            run_id: runner.run_id.clone(),
            scenarios: vec![report],
            duration: start.elapsed(),
            require_features: false,
            interrupted: false,
            still_deleting: Vec::new(),
            namespaces_finishing: Vec::new(),
            portability: None,
        });
    }
    Ok(runs)
}
