//! One module per subcommand; each returns the process exit code.

pub mod check;
pub mod clean;
pub mod completions;
pub mod doctor;
pub mod down;
pub mod explain;
pub mod init;
pub mod lab;
pub mod lock;
pub mod migrate;
pub mod pull;
pub mod report;
pub mod serve;
pub mod status;
pub mod test;
pub mod up;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use crate::exit;
use crate::implementations::Implementation;
use crate::run::deploy::DeployError;
use crate::run::{self, Deployment};
use crate::scenario::{self, Scenario};
use crate::targets::embedded::EmbeddedTarget;
use crate::targets::embedded::tls::LabCa;

/// `--as help`: lists the implementations; `true` when it was asked.
pub(crate) fn as_help(arg: &Option<crate::cli::AsArg>) -> bool {
    let asked = matches!(arg, Some(crate::cli::AsArg::Help));
    if asked {
        print!("{}", crate::implementations::help());
    }
    asked
}

/// Reads one scenario; bad input is printed and becomes exit code 2.
pub(crate) fn load_one(
    dir: &Path,
    release: Option<crate::gateway_api::Release>,
) -> Result<Scenario, i32> {
    scenario::load_as(dir, release).map_err(|e| {
        eprintln!("{e}");
        exit::BAD_INPUT
    })
}

/// The scenario in `dir`, or, for a directory of manifests without a
/// scenario.yaml (what `gwlab migrate --output` writes), the scenario they
/// imply, saying so on stderr.
pub(crate) fn load_one_or_bare(
    dir: &Path,
    release: Option<crate::gateway_api::Release>,
) -> Result<Scenario, i32> {
    match scenario::load_bare_as(dir, release) {
        Ok(Some(s)) => {
            eprintln!("{}", bare_note(dir, &s));
            Ok(s)
        }
        Ok(None) => load_one(dir, release),
        Err(e) => {
            eprintln!("{e}");
            Err(exit::BAD_INPUT)
        }
    }
}

/// What gwlab assumed of a directory of manifests without a scenario.yaml.
pub(crate) fn bare_note(dir: &Path, s: &Scenario) -> String {
    let backends: Vec<&str> = s.backends.iter().map(|b| b.name.as_str()).collect();
    format!(
        "note: {} has no scenario.yaml: its manifests are read against the lab Gateway (kong in kong-system){}",
        dir.display(),
        if backends.is_empty() {
            String::new()
        } else {
            format!(
                ", with an echo backend for each Service the routes name: {}",
                backends.join(", ")
            )
        }
    )
}

/// A scenario brought up on a fresh embedded gateway, in the state before its
/// first step or, with `step`, after that step (1-based).
pub(crate) async fn embedded_deployment(
    scenario: &Scenario,
    fixed_ports: BTreeMap<u16, u16>,
    step: Option<usize>,
    implementation: Implementation,
) -> Result<(EmbeddedTarget, Deployment), DeployError> {
    if let Some(n) = step
        && (n == 0 || n > scenario.steps.len() || scenario.steps[0].name.is_none())
    {
        return Err(DeployError::NoSuchStep {
            asked: n,
            steps: if scenario.steps[0].name.is_none() {
                0
            } else {
                scenario.steps.len()
            },
        });
    }
    let ca = Arc::new(LabCa::new().map_err(DeployError::Ca)?);
    let mut target = EmbeddedTarget::start_as(ca, fixed_ports, implementation)
        .await
        .map_err(DeployError::Start)?;
    let run_id = run::new_run_id();
    let mut deployment = Deployment::new(scenario, run::scenario_namespace(&scenario.name));
    deployment.bring_up(&mut target, scenario, &run_id).await?;
    for s in scenario.steps.iter().take(step.unwrap_or(0)) {
        deployment.delete_files(&mut target, &s.delete).await?;
        deployment
            .apply_files(&mut target, &s.apply, &run_id)
            .await?;
    }
    Ok((target, deployment))
}
