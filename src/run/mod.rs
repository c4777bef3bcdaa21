//! The runner: one scenario at a time on a target — namespaces, backends,
//! manifests, steps, conditions and probes — then cleanup, on every path.

pub(crate) mod conditions;
pub mod deploy;
pub(crate) mod plan;
mod probe_check;
pub(crate) mod schedule;
pub(crate) mod under;

pub use deploy::Deployment;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::model::lab_gateway;
use crate::model::world::ObjKey;
use crate::probe;
use crate::report::sink::Sinks;
use crate::report::{
    CheckDetail, CheckKind, CheckReport, Phases, ProbeDetail, ScenarioReport, Source, Verdict,
};
use crate::scenario::{Condition, Probe, Scenario, Step};
use crate::targets::Target;

/// A short random id that tells one run's objects from another's.
pub fn new_run_id() -> String {
    (0..6)
        .map(|_| fastrand::alphanumeric().to_ascii_lowercase())
        .collect()
}

/// `gwlab-<scenario>-<random>`, a valid namespace name of at most 63 characters.
pub(crate) fn scenario_namespace(scenario: &str) -> String {
    let mut slug: String = scenario
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    slug.truncate(45);
    let slug = slug.trim_matches('-');
    let suffix: String = (0..5)
        .map(|_| fastrand::alphanumeric().to_ascii_lowercase())
        .collect();
    if slug.is_empty() {
        format!("gwlab-{suffix}")
    } else {
        format!("gwlab-{slug}-{suffix}")
    }
}

/// Ctrl-C, as the runner sees it: a flag to look at between actions and a
/// future that ends when it is set, to stop an await midway.
#[derive(Debug, Clone)]
pub struct Cancel(Arc<tokio::sync::watch::Sender<bool>>);

impl Default for Cancel {
    fn default() -> Self {
        Cancel(Arc::new(tokio::sync::watch::Sender::new(false)))
    }
}

impl Cancel {
    /// Sets the flag; returns whether it was set already.
    pub fn cancel(&self) -> bool {
        self.0.send_replace(true)
    }

    pub(crate) fn is_cancelled(&self) -> bool {
        *self.0.borrow()
    }

    /// Ends once the flag is set.
    pub(crate) async fn cancelled(&self) {
        let mut rx = self.0.subscribe();
        let _ = rx.wait_for(|c| *c).await;
    }
}

pub struct Runner<'a> {
    pub run_id: String,
    /// Where its events go: the terminal, report files.
    pub sinks: &'a Sinks,
    /// Retry failed probes until their timeout (targets whose routing converges
    /// asynchronously); settled targets answer finally on the first try.
    pub retry_probes: bool,
    /// Set on Ctrl-C: what is running stops at its next await and cleans up;
    /// nothing new starts.
    pub cancel: Cancel,
    /// Namespaces this run created and has not deleted yet (for a second Ctrl-C).
    pub created: Arc<Mutex<BTreeSet<String>>>,
    /// Where diagnostics bundles of failed scenarios go (`None`: not written).
    pub diagnostics: Option<PathBuf>,
    /// Leave everything in place after each scenario (`--keep`).
    pub keep: bool,
    /// The target's Gateway API features, read once before the run.
    pub features: BTreeSet<String>,
    /// The newest Gateway API release the target serves, with how that was
    /// told (`None`: every release gwlab knows, as the embedded gateway).
    pub gateway_api: Option<(crate::gateway_api::Release, String)>,
    /// Name the `gwlab explain` command under a failed probe (`gwlab lab`
    /// says itself where explain applies).
    pub explain_hints: bool,
}

impl Runner<'_> {
    pub(crate) fn cancelled(&self) -> bool {
        self.cancel.is_cancelled()
    }
}

struct Ctx<'s> {
    scenario: &'s Scenario,
    deployment: Deployment,
    checks: Vec<CheckReport>,
    phases: Phases,
    /// Stopped by Ctrl-C before its last step finished.
    interrupted: bool,
    /// What routed where when the checks ended, from targets that can tell.
    route_map: Option<crate::route_map::RouteMap>,
}

impl Ctx<'_> {
    fn failed(&self) -> bool {
        self.checks.iter().any(|c| !c.passed)
    }

    fn report(
        &self,
        start: Instant,
        diagnosis: Option<crate::targets::Diagnosis>,
    ) -> ScenarioReport {
        let verdict = if self.interrupted {
            Verdict::Interrupted
        } else if self.failed() {
            Verdict::Failed
        } else {
            Verdict::Passed
        };
        ScenarioReport {
            namespace: Some(self.deployment.namespace.clone()),
            duration: start.elapsed(),
            diagnosis,
            checks: self.checks.clone(),
            phases: Some(self.phases),
            route_map: self.route_map.clone(),
            ..ScenarioReport::not_run(self.scenario, verdict)
        }
    }
}

impl Runner<'_> {
    pub async fn run_scenario<T: Target>(
        &self,
        target: &mut T,
        scenario: &Scenario,
    ) -> ScenarioReport {
        let start = Instant::now();
        let missing: Vec<String> = scenario
            .features
            .iter()
            .filter(|f| !self.features.contains(*f))
            .cloned()
            .collect();
        if !missing.is_empty() {
            return ScenarioReport {
                duration: start.elapsed(),
                missing_features: missing,
                ..ScenarioReport::not_run(scenario, Verdict::Unsupported)
            };
        }
        if let Some((served, said)) = &self.gateway_api
            && scenario.gateway_api > *served
        {
            return ScenarioReport {
                duration: start.elapsed(),
                missing_features: vec![format!("Gateway API {} ({said})", scenario.gateway_api)],
                ..ScenarioReport::not_run(scenario, Verdict::Unsupported)
            };
        }
        let namespace = scenario_namespace(&scenario.name);
        let mut ctx = Ctx {
            scenario,
            deployment: Deployment::new(scenario, namespace),
            checks: Vec::new(),
            phases: Phases::default(),
            interrupted: false,
            route_map: None,
        };
        // Ctrl-C stops the scenario at its next await; cleanup still runs.
        tokio::select! {
            _ = self.run_steps(target, &mut ctx) => {}
            _ = self.cancel.cancelled() => {}
        }
        ctx.interrupted = self.cancelled();
        ctx.route_map = target.route_map(&ctx.deployment.namespace);
        self.created
            .lock()
            .expect("created namespaces")
            .extend(ctx.deployment.created_namespaces.iter().cloned());
        let diagnosis = match (&self.diagnostics, ctx.failed() && !ctx.interrupted) {
            (Some(dir), true) => self.diagnose(target, &ctx, dir).await,
            _ => None,
        };
        if !self.keep {
            let t0 = Instant::now();
            self.clean_up(target, &mut ctx).await;
            ctx.phases.cleanup = t0.elapsed();
        }
        ctx.report(start, diagnosis)
    }

    /// Brings the scenario up, then runs its steps until one cannot be applied.
    async fn run_steps<T: Target>(&self, target: &mut T, ctx: &mut Ctx<'_>) {
        let t0 = Instant::now();
        let scenario = ctx.scenario;
        let brought_up = ctx
            .deployment
            .bring_up(target, scenario, &self.run_id)
            .await;
        ctx.phases.apply += t0.elapsed();
        if let Err(why) = brought_up {
            ctx.checks.push(CheckReport::setup_failure(
                "setup".into(),
                None,
                t0.elapsed(),
                why.to_string(),
            ));
            return;
        }
        for step in &scenario.steps {
            if self.cancelled() {
                break;
            }
            self.sinks.progress(&format!(
                "{}: {}",
                scenario.name,
                step.name.as_deref().unwrap_or("checking")
            ));
            if !self.run_step(target, ctx, step).await {
                break;
            }
        }
    }

    async fn diagnose<T: Target>(
        &self,
        target: &T,
        ctx: &Ctx<'_>,
        dir: &std::path::Path,
    ) -> Option<crate::targets::Diagnosis> {
        let dir = dir.join(&self.run_id).join(&ctx.scenario.name);
        let objects: Vec<_> = ctx.deployment.applied.clone();
        let mut namespaces = ctx.deployment.created_namespaces.clone();
        namespaces.extend(objects.iter().filter_map(|m| m.namespace.clone()));
        namespaces.sort();
        namespaces.dedup();
        target.diagnose(&objects, &namespaces, &dir).await
    }

    /// Deletes what the scenario created; what stays is a failed cleanup check.
    async fn clean_up<T: Target>(&self, target: &mut T, ctx: &mut Ctx<'_>) {
        let t0 = Instant::now();
        let created_here = std::mem::take(&mut ctx.deployment.created_namespaces);
        ctx.deployment.applied.clear();
        let left = target.clean_up().await;
        {
            let mut created = self.created.lock().expect("created namespaces");
            for ns in &created_here {
                if !left.iter().any(|l| l.namespace.as_ref() == Some(ns)) {
                    created.remove(ns);
                }
            }
        }
        if left.is_empty() {
            return;
        }
        let mut failure: Vec<String> = left.iter().map(|l| l.to_string()).collect();
        failure.push(format!("objects of this run carry the labels app.kubernetes.io/managed-by=gwlab and gwlab.dev/run={}; `gwlab clean --run {}` removes them", self.run_id, self.run_id));
        ctx.checks.push(CheckReport {
            kind: CheckKind::Cleanup,
            name: "cleanup".into(),
            step: None,
            source: None,
            passed: false,
            duration: t0.elapsed(),
            request: None,
            failure,
            detail: None,
            power: None,
            answer: None,
            deviations: Vec::new(),
            answered_by: None,
        });
    }

    async fn run_step<T: Target>(&self, target: &mut T, ctx: &mut Ctx<'_>, step: &Step) -> bool {
        let t0 = Instant::now();
        let changed = async {
            ctx.deployment.preflight(target, &step.apply).await?;
            ctx.deployment.delete_files(target, &step.delete).await?;
            ctx.deployment
                .apply_files(target, &step.apply, &self.run_id)
                .await
        };
        let changed = changed.await;
        ctx.phases.apply += t0.elapsed();
        if let Err(why) = changed {
            ctx.checks.push(CheckReport::setup_failure(
                "step".into(),
                step.name.clone(),
                t0.elapsed(),
                why.to_string(),
            ));
            return false;
        }
        let t0 = Instant::now();
        for c in &step.conditions {
            let report = self.check_condition(target, ctx, c, step).await;
            ctx.checks.push(report);
        }
        ctx.phases.conditions += t0.elapsed();
        let t0 = Instant::now();
        for p in &step.probes {
            self.sinks
                .progress(&format!("{}: {}", ctx.scenario.name, p.name));
            let report = self.check_probe(target, ctx, p, step).await;
            ctx.checks.push(report);
        }
        ctx.phases.probes += t0.elapsed();
        true
    }

    fn object_namespace(&self, ctx: &Ctx<'_>, c: &Condition) -> String {
        if let Some(ns) = &c.spec.namespace {
            return ns.clone();
        }
        if crate::manifest::is_cluster_scoped(&c.kind) {
            return String::new();
        }
        if let Some(m) = ctx
            .deployment
            .files
            .iter()
            .flatten()
            .find(|m| m.kind == c.kind && m.name == c.name)
        {
            return m.namespace.clone().unwrap_or_default();
        }
        if c.kind == "Gateway" && c.name == lab_gateway::GATEWAY_NAME {
            return lab_gateway::GATEWAY_NAMESPACE.into();
        }
        ctx.deployment.namespace.clone()
    }

    async fn check_condition<T: Target>(
        &self,
        target: &T,
        ctx: &Ctx<'_>,
        c: &Condition,
        step: &Step,
    ) -> CheckReport {
        let t0 = Instant::now();
        let ns = self.object_namespace(ctx, c);
        let key = ObjKey::new(&c.kind, &ns, &c.name);
        let holds =
            |st: &crate::model::status::ObjectStatus| conditions::judge(c, &ns, Some(st)).is_ok();
        let mut deviations = Vec::new();
        let (passed, failure, detail) = match target
            .await_status(&key, &holds, ctx.scenario.timeouts.conditions)
            .await
        {
            Err(e) => (false, vec![e.to_string()], None),
            Ok(status) => match conditions::judge(c, &ns, status.as_ref()) {
                Ok(()) => (true, vec![], None),
                Err(why) => {
                    let mut failure = vec![format!("expected {}, got: {why}", c.title())];
                    deviations = listener_deviations(target.implementation(), status.as_ref());
                    failure.extend(deviations.iter().map(|d| d.said.clone()));
                    (
                        false,
                        failure,
                        status.map(|s| CheckDetail::Status(Box::new(s))),
                    )
                }
            },
        };
        CheckReport {
            kind: CheckKind::Condition,
            name: c.title(),
            step: step.name.clone(),
            source: Some(Source::new(&ctx.scenario.file, c.line)),
            passed,
            duration: t0.elapsed(),
            request: None,
            failure,
            detail,
            power: None,
            answer: None,
            deviations,
            answered_by: None,
        }
    }
}

/// The deviations behind a Gateway's listener that Kong did not accept: a
/// port or protocol Kong has no listen for (listener-needs-kong-listen).
fn listener_deviations(
    implementation: crate::implementations::Implementation,
    status: Option<&crate::model::status::ObjectStatus>,
) -> Vec<crate::explain::DeviationView> {
    let id = "listener-needs-kong-listen";
    let refused = status.is_some_and(|s| {
        s.listeners.iter().flat_map(|l| &l.conditions).any(|c| {
            c.type_ == "Accepted"
                && c.status == "False"
                && matches!(c.reason.as_str(), "PortUnavailable" | "UnsupportedProtocol")
        })
    });
    if refused && implementation.deviates(id) {
        crate::explain::DeviationView::all(&[id])
    } else {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaces_are_valid_dns_labels() {
        let ns = scenario_namespace("A Very_Long scenario name that goes on and on and on and on");
        assert!(ns.len() <= 63, "{ns}");
        assert!(ns.starts_with("gwlab-a-very-long-scenario"));
        assert!(
            ns.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
            "{ns}"
        );
        assert_ne!(scenario_namespace("x"), scenario_namespace("x"));
    }
}
