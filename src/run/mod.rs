//! The runner: one scenario at a time on a target — namespaces, backends,
//! manifests, steps, conditions and probes — then cleanup, on every path.

pub mod conditions;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use crate::manifest::Manifest;
use crate::model::lab;
use crate::model::world::ObjKey;
use crate::probe;
use crate::report::human::Console;
use crate::report::{CheckKind, CheckReport, ScenarioReport, Verdict};
use crate::scenario::{Condition, Probe, Scenario, Step};
use crate::target::{EchoBackend, GatewayRef, Target};

/// A short random id that tells one run's objects from another's.
pub fn new_run_id() -> String {
    (0..6)
        .map(|_| fastrand::alphanumeric().to_ascii_lowercase())
        .collect()
}

/// `gwlab-<scenario>-<random>`, a valid namespace name of at most 63 characters.
pub fn scenario_namespace(scenario: &str) -> String {
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

pub struct Runner<'a> {
    pub run_id: String,
    pub console: &'a Console,
    /// Retry failed probes until their timeout (targets whose routing converges
    /// asynchronously); settled targets answer finally on the first try.
    pub retry_probes: bool,
}

struct Ctx<'s> {
    scenario: &'s Scenario,
    namespace: String,
    /// Every object with its namespace resolved, per manifest file.
    files: Vec<Vec<Manifest>>,
    checks: Vec<CheckReport>,
}

impl Runner<'_> {
    pub async fn run_scenario<T: Target>(
        &self,
        target: &mut T,
        scenario: &Scenario,
    ) -> ScenarioReport {
        let start = Instant::now();
        let supported = target.supported_features().await.unwrap_or_default();
        let missing: Vec<String> = scenario
            .features
            .iter()
            .filter(|f| !supported.contains(*f))
            .cloned()
            .collect();
        if !missing.is_empty() {
            return ScenarioReport {
                name: scenario.name.clone(),
                dir: scenario.dir.display().to_string(),
                verdict: Verdict::Unsupported,
                namespace: None,
                duration: start.elapsed(),
                missing_features: missing,
                checks: Vec::new(),
            };
        }
        let namespace = scenario_namespace(&scenario.name);
        let files = scenario
            .manifests
            .iter()
            .map(|f| {
                f.objects
                    .iter()
                    .map(|m| resolve_namespace(m, &namespace))
                    .collect()
            })
            .collect();
        let mut ctx = Ctx {
            scenario,
            namespace: namespace.clone(),
            files,
            checks: Vec::new(),
        };
        let mut created_namespaces = Vec::new();
        let mut applied: Vec<Manifest> = Vec::new();

        let setup = self
            .setup(target, &mut ctx, &mut created_namespaces, &mut applied)
            .await;
        if setup {
            for step in &scenario.steps {
                self.console.progress(format!(
                    "{}: {}",
                    scenario.name,
                    step.name.as_deref().unwrap_or("checking")
                ));
                if !self.run_step(target, &mut ctx, step, &mut applied).await {
                    break;
                }
            }
        }
        self.cleanup(target, &mut ctx, applied, created_namespaces)
            .await;

        let verdict = if ctx.checks.iter().all(|c| c.passed) {
            Verdict::Passed
        } else {
            Verdict::Failed
        };
        ScenarioReport {
            name: scenario.name.clone(),
            dir: scenario.dir.display().to_string(),
            verdict,
            namespace: Some(namespace),
            duration: start.elapsed(),
            missing_features: Vec::new(),
            checks: ctx.checks,
        }
    }

    /// Namespaces, backends and the manifests applied before the first step.
    /// Returns false (with a setup check that says why) when something failed.
    async fn setup<T: Target>(
        &self,
        target: &mut T,
        ctx: &mut Ctx<'_>,
        created: &mut Vec<String>,
        applied: &mut Vec<Manifest>,
    ) -> bool {
        let t0 = Instant::now();
        let s = ctx.scenario;
        let mut namespaces = vec![ctx.namespace.clone()];
        for b in &s.backends {
            if let Some(ns) = &b.namespace {
                namespaces.push(ns.clone());
            }
        }
        for m in ctx.files.iter().flatten() {
            if let Some(ns) = &m.namespace {
                namespaces.push(ns.clone());
            }
        }
        let mut seen = BTreeSet::new();
        namespaces.retain(|n| seen.insert(n.clone()));
        for ns in namespaces {
            match target.ensure_namespace(&ns, &self.run_id).await {
                Ok(true) => created.push(ns),
                Ok(false) => {}
                Err(e) => return self.setup_failed(ctx, t0, format!("namespace {ns}: {e}")),
            }
        }
        for b in &s.backends {
            let backend = EchoBackend {
                namespace: b.namespace.clone().unwrap_or_else(|| ctx.namespace.clone()),
                name: b.name.clone(),
                port: b.port,
            };
            if let Err(e) = target.deploy_backend(&backend, &self.run_id).await {
                return self.setup_failed(
                    ctx,
                    t0,
                    format!("backend {}/{}: {e}", backend.namespace, backend.name),
                );
            }
        }
        for &ix in &s.initial {
            for m in ctx.files[ix].clone() {
                if let Err(e) = target.apply(&m, &self.run_id).await {
                    return self.setup_failed(ctx, t0, e.to_string());
                }
                applied.push(m);
            }
        }
        true
    }

    fn setup_failed(&self, ctx: &mut Ctx<'_>, t0: Instant, why: String) -> bool {
        ctx.checks.push(CheckReport::setup_failure(
            "setup".into(),
            None,
            t0.elapsed(),
            why,
        ));
        false
    }

    async fn run_step<T: Target>(
        &self,
        target: &mut T,
        ctx: &mut Ctx<'_>,
        step: &Step,
        applied: &mut Vec<Manifest>,
    ) -> bool {
        let t0 = Instant::now();
        for &ix in &step.delete {
            for m in ctx.files[ix].clone().iter().rev() {
                if let Err(e) = target.delete(m).await {
                    ctx.checks.push(CheckReport::setup_failure(
                        format!("delete {}", m.display_name()),
                        step.name.clone(),
                        t0.elapsed(),
                        e.to_string(),
                    ));
                    return false;
                }
                applied.retain(|a| {
                    !(a.kind == m.kind && a.name == m.name && a.namespace == m.namespace)
                });
            }
        }
        for &ix in &step.apply {
            for m in ctx.files[ix].clone() {
                if let Err(e) = target.apply(&m, &self.run_id).await {
                    ctx.checks.push(CheckReport::setup_failure(
                        format!("apply {}", m.display_name()),
                        step.name.clone(),
                        t0.elapsed(),
                        e.to_string(),
                    ));
                    return false;
                }
                applied.push(m);
            }
        }
        for c in &step.conditions {
            let report = self.check_condition(target, ctx, c, step).await;
            ctx.checks.push(report);
        }
        for p in &step.probes {
            self.console
                .progress(format!("{}: {}", ctx.scenario.name, p.name));
            let report = self.check_probe(target, ctx, p, step).await;
            ctx.checks.push(report);
        }
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
            .files
            .iter()
            .flatten()
            .find(|m| m.kind == c.kind && m.name == c.name)
        {
            return m.namespace.clone().unwrap_or_default();
        }
        if c.kind == "Gateway" && c.name == lab::GATEWAY_NAME {
            return lab::GATEWAY_NAMESPACE.into();
        }
        ctx.namespace.clone()
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
        let (passed, failure, detail) = match target
            .await_status(&key, &holds, ctx.scenario.timeouts.conditions)
            .await
        {
            Err(e) => (false, vec![e.to_string()], None),
            Ok(status) => match conditions::judge(c, &ns, status.as_ref()) {
                Ok(()) => (true, vec![], None),
                Err(why) => (
                    false,
                    vec![
                        format!("expected {}", c.title()),
                        format!("actual: {why}"),
                        format!("at {}:{}", ctx.scenario.file.display(), c.line),
                    ],
                    status.map(|s| serde_json::to_value(s).unwrap_or_default()),
                ),
            },
        };
        CheckReport {
            kind: CheckKind::Condition,
            name: c.title(),
            step: step.name.clone(),
            passed,
            duration: t0.elapsed(),
            failure,
            detail,
        }
    }

    fn gateway_for(&self, ctx: &Ctx<'_>, p: &Probe) -> GatewayRef {
        match &p.gateway {
            Some(g) => match g.split_once('/') {
                Some((ns, name)) => GatewayRef {
                    namespace: ns.into(),
                    name: name.into(),
                },
                None => GatewayRef {
                    namespace: ctx.namespace.clone(),
                    name: g.clone(),
                },
            },
            None => {
                let own: Vec<&Manifest> = ctx
                    .files
                    .iter()
                    .flatten()
                    .filter(|m| m.kind == "Gateway")
                    .collect();
                match own.as_slice() {
                    [only] => GatewayRef {
                        namespace: only.namespace.clone().unwrap_or_default(),
                        name: only.name.clone(),
                    },
                    _ => GatewayRef {
                        namespace: lab::GATEWAY_NAMESPACE.into(),
                        name: lab::GATEWAY_NAME.into(),
                    },
                }
            }
        }
    }

    async fn check_probe<T: Target>(
        &self,
        target: &T,
        ctx: &Ctx<'_>,
        p: &Probe,
        step: &Step,
    ) -> CheckReport {
        let t0 = Instant::now();
        let gw = self.gateway_for(ctx, p);
        let at = format!("at {}:{}", ctx.scenario.file.display(), p.line);
        let addr = match target.gateway_address(&gw, p.port()).await {
            Ok(a) => a,
            Err(e) => {
                return CheckReport {
                    kind: CheckKind::Probe,
                    name: p.name.clone(),
                    step: step.name.clone(),
                    passed: false,
                    duration: t0.elapsed(),
                    failure: vec![format!("{} {}: {e}", p.method, p.url), at],
                    detail: None,
                };
            }
        };
        let policy = probe::Policy {
            timeout: ctx.scenario.timeouts.probes,
            retry: self.retry_probes,
        };
        let result = probe::run(p, addr, target.trust_anchor(), policy).await;
        let mut failure = Vec::new();
        if !result.passed {
            failure.push(format!(
                "{} {} (via Gateway {gw}, {addr}), {} {}",
                p.method,
                p.url,
                result.attempts,
                if result.attempts == 1 { "try" } else { "tries" }
            ));
            if let Some(e) = &result.error {
                failure.push(format!("request failed: {e}"));
            }
            for m in &result.mismatches {
                failure.push(m.to_string());
            }
            if let Some(split) = &result.split {
                for problem in &split.problems {
                    failure.push(format!("split: {problem}"));
                }
                if !split.passed {
                    let counts: Vec<String> = split
                        .counts
                        .iter()
                        .map(|(b, n)| format!("{b}={n}"))
                        .collect();
                    let expected: Vec<String> = split
                        .expected
                        .iter()
                        .map(|(b, n)| format!("{b}≈{n:.0}"))
                        .collect();
                    failure.push(format!(
                        "split: counts {} against expected {}",
                        counts.join(" "),
                        expected.join(" ")
                    ));
                }
            }
            if let Some(last) = &result.last
                && result.mismatches.iter().any(|m| m.field == "status")
                && last.echo.is_none()
                && !last.body.is_empty()
            {
                let body: String = last.body.trim().chars().take(200).collect();
                failure.push(format!("response body: {body}"));
            }
            failure.push(at);
        }
        let detail = serde_json::to_value(&result).ok();
        CheckReport {
            kind: CheckKind::Probe,
            name: p.name.clone(),
            step: step.name.clone(),
            passed: result.passed,
            duration: t0.elapsed(),
            failure,
            detail,
        }
    }

    /// Deletes what this scenario applied (newest first), then the namespaces it created.
    async fn cleanup<T: Target>(
        &self,
        target: &mut T,
        ctx: &mut Ctx<'_>,
        applied: Vec<Manifest>,
        created: Vec<String>,
    ) {
        let t0 = Instant::now();
        let mut problems = Vec::new();
        for m in applied.iter().rev() {
            if let Err(e) = target.delete(m).await {
                problems.push(format!("{}: {e}", m.display_name()));
            }
        }
        for ns in created.iter().rev() {
            if let Err(e) = target.delete_namespace(ns).await {
                problems.push(format!("namespace {ns}: {e}"));
            }
        }
        if !problems.is_empty() {
            problems.push(format!("objects of this run carry the label app.kubernetes.io/managed-by=gwlab and gwlab.dev/run={}", self.run_id));
            ctx.checks.push(CheckReport {
                kind: CheckKind::Cleanup,
                name: "cleanup".into(),
                step: None,
                passed: false,
                duration: t0.elapsed(),
                failure: problems,
                detail: None,
            });
        }
        let _ = Duration::ZERO;
    }
}

/// The object with the scenario namespace filled in where it names none.
pub fn resolve_namespace(m: &Manifest, scenario_namespace: &str) -> Manifest {
    let mut m = m.clone();
    if m.namespace.is_none() && !m.is_cluster_scoped() {
        m.namespace = Some(scenario_namespace.to_string());
        if let Some(meta) = m.raw.get_mut("metadata").and_then(|v| v.as_object_mut()) {
            meta.insert(
                "namespace".into(),
                serde_json::Value::String(scenario_namespace.into()),
            );
        }
    }
    m
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
