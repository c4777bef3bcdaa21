//! Checks on the lab cluster: an exercise's scenario through the cluster
//! target (the one `gwlab test` uses), and for an exercise that broke the lab,
//! that it works again: live `gwlab doctor` no longer finds the exercise's
//! findings, the lab's Gateway is Programmed, and a request through it
//! reaches a backend.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use super::check::{self, CheckError, Checked, Outcome, Why};
use super::format::{DoctorCheck, Exercise};
use super::scratch::Scratch;
use super::workspace::ClusterPlace;
use crate::kong;
use crate::lab::state::{self, LabState};
use crate::lab::wait::{conditions_text, has_true};
use crate::ownership::RunRecord;
use crate::report::human::Console;
use crate::report::sink::Sinks;
use crate::scenario::{self, Scenario};
use crate::targets::cluster::GatewayAddress;
use crate::targets::{Awaiting, Target};

/// How long a check waits for its objects to be gone, so that the next check
/// (which applies the same names) finds none of them.
const CLEANUP_WAIT: Duration = Duration::from_secs(90);

/// A student waits for a check: on a cluster it gives up sooner than `gwlab
/// test` does (Kong programs a route within seconds), unless the check's own
/// scenario asks for less.
const MAX_CONDITIONS_WAIT: Duration = Duration::from_secs(15);
const MAX_PROBES_WAIT: Duration = Duration::from_secs(10);

/// How long a cluster has to answer before a check says it cannot reach it.
const REACH_WAIT: Duration = Duration::from_secs(5);

/// A cluster to check on.
pub struct Cluster {
    pub client: kube::Client,
    /// The lab when the cluster is the one of `--name` (its host ports and
    /// certificate serve the checks).
    pub lab: Option<LabState>,
    /// The lab `gwlab up` made on this cluster, however it was named: what
    /// it created is what a break may change.
    recorded: Option<LabState>,
    pub place: ClusterPlace,
    gateway_address: Option<GatewayAddress>,
}

impl Cluster {
    /// Connects as `gwlab test` would: the kubeconfig and context given, else
    /// the lab `gwlab up` made under that name.
    pub async fn connect(place: &ClusterPlace) -> Result<Cluster, CheckError> {
        let gateway_address = match &place.gateway_address {
            Some(a) => Some(a.parse().map_err(|e| {
                CheckError::NoCluster(Box::new(crate::lab::LabError::Refused(format!(
                    "--gateway-address {a}: {e}"
                ))))
            })?),
            None => None,
        };
        let (client, lab) = crate::lab::client::cluster_client(
            place.kubeconfig.clone(),
            place.context.clone(),
            &place.name,
        )
        .await
        .map_err(|e| CheckError::NoCluster(Box::new(e)))?;
        // Reached now, so that a cluster that does not answer is said to be
        // unreachable rather than shown as a failing check.
        crate::lab::client::api_ready(&client, REACH_WAIT)
            .await
            .map_err(|e| CheckError::NoCluster(Box::new(e)))?;
        let recorded = match &lab {
            Some(lab) => Some(lab.clone()),
            None => lab_on_server(place).map_err(|e| CheckError::NoCluster(Box::new(e)))?,
        };
        Ok(Cluster {
            client,
            lab,
            recorded,
            place: place.clone(),
            gateway_address,
        })
    }

    /// What counts as gwlab's on this cluster, for a break (with no lab state
    /// for it, nothing does).
    pub fn ours(&self) -> super::breaks::Ours<'_> {
        super::breaks::Ours {
            lab: self
                .recorded
                .as_ref()
                .map(|l| (l.name.as_str(), l.created.as_slice())),
        }
    }

    /// Where it is, for the first line of a check.
    pub(crate) fn describe(&self) -> String {
        state::describe(&self.lab)
    }

    /// The `gwlab doctor` command for this cluster.
    pub(crate) fn doctor_command(&self) -> String {
        let mut cmd = "gwlab doctor".to_string();
        if let Some(k) = &self.place.kubeconfig {
            cmd.push_str(&format!(" --kubeconfig {}", k.display()));
        }
        if let Some(c) = &self.place.context {
            cmd.push_str(&format!(" --context {c}"));
        }
        if self.place.kubeconfig.is_none() && self.place.context.is_none() {
            cmd.push_str(&format!(" --name {}", self.place.name));
        }
        cmd
    }
}

/// The lab `gwlab up` made on the cluster a kubeconfig/context names: found
/// by its API server, so that naming the cluster with --kubeconfig does not
/// lose which objects gwlab created there.
fn lab_on_server(place: &ClusterPlace) -> Result<Option<LabState>, crate::lab::LabError> {
    let path = crate::lab::providers::existing::default_kubeconfig(place.kubeconfig.clone());
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(None);
    };
    match state::server_of(&text, place.context.as_deref()) {
        Some(api) => LabState::on_server(&api),
        None => Ok(None),
    }
}

/// Runs the check of `ex` on the cluster: its scenario on the student's files
/// in `dir`; for an exercise that breaks the lab, that the lab works again.
/// A troubleshooting exercise that does not break the lab stays on its
/// recorded state.
pub async fn exercise(
    c: &Cluster,
    ex: &Exercise,
    dir: &Path,
    shown: &Path,
) -> Result<Outcome, CheckError> {
    match (&ex.doctor, ex.fault) {
        (Some(d), Some(_)) => works_again(c, d).await,
        (Some(d), None) => check::doctor(d, dir, shown),
        (None, _) => {
            let scenario = scenario::load(dir).map_err(CheckError::Bad)?;
            let checked = run(c, scenario).await?;
            // A failure is compared with gwlab's reference gateway (a tenth of a
            // second): `explain` is named only where the reference fails too.
            let reference = match checked.passed() {
                true => None,
                false => Some(check::run(dir).await?),
            };
            Ok(Outcome {
                passed: checked.passed(),
                total: checked.report.checks.len(),
                failed: checked.failed(),
                lines: match &reference {
                    Some(r) => check::lines_with(&checked, shown, Why::Reference(r)),
                    None => check::failure_lines(&checked, shown),
                },
                missing_features: checked.report.missing_features.clone(),
                power: check::split_power(&checked.report),
            })
        }
    }
}

/// Runs a scenario on the cluster and waits until what it created is gone.
pub async fn run(c: &Cluster, mut scenario: Scenario) -> Result<Checked, CheckError> {
    scenario.timeouts.conditions = scenario.timeouts.conditions.min(MAX_CONDITIONS_WAIT);
    scenario.timeouts.probes = scenario.timeouts.probes.min(MAX_PROBES_WAIT);
    let sinks = Sinks::terminal(Console::new(true));
    let mut runner = check::runner(&sinks, true, BTreeSet::new());
    let record = Arc::new(RunRecord::new(state::run_record(&runner.run_id)));
    let echo =
        crate::lab::images::echo_reference().map_err(|e| CheckError::NoCluster(Box::new(e)))?;
    let mut target = crate::targets::cluster::ClusterTarget::for_lab(
        &c.client,
        &c.lab,
        &c.gateway_address,
        echo,
    )
    .recording(record);
    if !scenario.features.is_empty() {
        runner.features = target
            .supported_features()
            .await
            .map_err(|e| CheckError::Cluster(Box::new(e)))?;
    }
    let report = runner.run_scenario(&mut target, &scenario).await;
    target
        .deletions_done(Awaiting::Everything, CLEANUP_WAIT)
        .await;
    Ok(Checked { scenario, report })
}

/// The scenario that proves the lab routes: an echo backend behind a route
/// on the lab's Gateway, and a request to it.
const WORKS_SCENARIO: &str = r#"name: the-lab-works
backends:
  - name: lab-works
conditions:
  - resource: HTTPRoute/lab-works
    type: Accepted
    parent: kong-system/kong
probes:
  - name: a request through the lab's Gateway reaches a backend
    request: {url: "http://lab-works.gwlab.test/"}
    expect: {status: 200, backend: lab-works}
"#;

const WORKS_ROUTE: &str = r#"apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: lab-works
spec:
  parentRefs:
    - name: kong
      namespace: kong-system
  hostnames: [lab-works.gwlab.test]
  rules:
    - backendRefs:
        - name: lab-works
          port: 8080
"#;

/// After a break: doctor no longer finds the exercise's findings, the lab's
/// Gateway is Programmed, and a request through it reaches a backend.
async fn works_again(c: &Cluster, d: &DoctorCheck) -> Result<Outcome, CheckError> {
    let facts = crate::doctor::cluster::gather(&c.client)
        .await
        .map_err(|e| CheckError::Gather(Box::new(e)))?;
    let mut out = check::findings_left(d, &facts, &c.doctor_command());
    out.total += 2;
    let (ns, name) = (kong::NAMESPACE, kong::GATEWAY_NAME);
    let gateway = facts
        .gateways
        .iter()
        .find(|g| g["metadata"]["name"] == name && g["metadata"]["namespace"] == ns);
    let programmed = match gateway {
        None => {
            out.lines.push(format!(
                "✗ the lab's Gateway {ns}/{name} is not on the cluster"
            ));
            false
        }
        Some(g) if !has_true(g.get("status"), "Programmed") => {
            out.lines.push(format!(
                "✗ the lab's Gateway {ns}/{name} is not Programmed: {}",
                conditions_text(g.get("status"))
            ));
            out.lines
                .push(format!("    why: kubectl -n {ns} describe gateway {name}"));
            false
        }
        Some(_) => true,
    };
    // A request is worth sending only through a Gateway that is programmed,
    // once doctor finds nothing.
    let routes = if programmed && out.failed == 0 {
        Some({
            let checked = run(c, works_scenario()?).await?;
            if !checked.passed() {
                out.lines.push("✗ the lab does not route yet:".to_string());
                let doctor = c.doctor_command();
                out.lines.extend(
                    check::lines_with(&checked, Path::new("."), Why::Command(&doctor))
                        .into_iter()
                        .map(|l| format!("  {l}")),
                );
            }
            checked.passed()
        })
    } else {
        None
    };
    // Not tried (through a Gateway not programmed, or with doctor's findings
    // left) is not counted as failed, nor as passed.
    out.failed += usize::from(!programmed) + usize::from(routes == Some(false));
    out.passed = out.failed == 0 && routes == Some(true);
    out.lines.push(format!(
        "{} of {} expectations failed (doctor's findings gone, the Gateway Programmed, a request routed)",
        out.failed, out.total
    ));
    Ok(out)
}

fn works_scenario() -> Result<Scenario, CheckError> {
    let scratch = Scratch::new("the-lab-works").map_err(|e| CheckError::Files(Box::new(e)))?;
    for (name, text) in [
        ("scenario.yaml", WORKS_SCENARIO),
        ("route.yaml", WORKS_ROUTE),
    ] {
        super::workspace::write(&scratch.0.join(name), text.as_bytes())
            .map_err(|e| CheckError::Files(Box::new(e)))?;
    }
    // Loaded whole into memory: the scratch directory may go.
    scenario::load(&scratch.0).map_err(CheckError::Bad)
}
