//! A probe of a scenario: sent, judged, and on failure explained (the
//! answer, the rule that gave it, the deviation of the implementation
//! behind it, the `gwlab explain` command that shows the routing).

use super::*;

impl Runner<'_> {
    pub(super) async fn check_probe<T: Target>(
        &self,
        target: &T,
        ctx: &Ctx<'_>,
        p: &Probe,
        step: &Step,
    ) -> CheckReport {
        let t0 = Instant::now();
        let gw = ctx.deployment.gateway(p.gateway.as_deref());
        let report = |passed, request, failure, detail, power, answer, deviations| CheckReport {
            kind: CheckKind::Probe,
            name: p.name.clone(),
            step: step.name.clone(),
            source: Some(Source::new(&ctx.scenario.file, p.line)),
            passed,
            duration: t0.elapsed(),
            request,
            failure,
            detail,
            power,
            answer,
            deviations,
            answered_by: None,
        };
        let addr = match target.gateway_address(&gw, p.port()).await {
            Ok(a) => a,
            Err(e) => {
                let request = format!("{} {} (via Gateway {gw})", p.method, p.url);
                return report(
                    false,
                    Some(request),
                    vec![e.to_string()],
                    None,
                    None,
                    None,
                    Vec::new(),
                );
            }
        };
        let policy = probe::Policy {
            timeout: ctx.scenario.timeouts.probes,
            retry: self.retry_probes,
        };
        let result = probe::run(p, addr, target.trust_anchor(), policy).await;
        // How the target's model routes the probe, and the deviations from
        // the spec behind its answer (when the model's answer is the one
        // observed): a passing probe keeps them too, for the portability
        // table and migrate's warnings.
        let trace = target.explain(&gw, p.port(), p.request_head());
        let deviations = trace
            .as_ref()
            .filter(|t| agrees(t, result.last.as_ref()))
            .map(|t| t.deviations.clone())
            .unwrap_or_default();
        let rule = (!result.passed)
            .then(|| trace.as_ref().and_then(|t| answering_rule(ctx, t)))
            .flatten();
        let (request, failure) = if result.passed {
            (None, Vec::new())
        } else {
            let request = format!(
                "{} {} (via Gateway {gw}, {addr}), {} {}",
                p.method,
                p.url,
                result.attempts,
                if result.attempts == 1 { "try" } else { "tries" }
            );
            let mut failure = probe_failure(&result);
            failure.extend(deviations.iter().map(|d| d.said.clone()));
            if let Some((_, said)) = &rule {
                failure.push(said.clone());
            }
            if self.explain_hints && !result.mismatches.is_empty() {
                let answering = trace
                    .as_ref()
                    .map(|t| t.implementation.as_str())
                    .filter(|i| *i != "spec");
                failure.push(format!(
                    "how the reference gateway routes it: {}",
                    explain_command(ctx.scenario, step, p, answering)
                ));
            }
            (Some(request), failure)
        };
        let passed = result.passed;
        let explain = if passed { None } else { trace };
        let power = result.split.as_ref().map(|s| s.power.statement.clone());
        let answer = answer(&result);
        let detail = Some(CheckDetail::Probe(Box::new(ProbeDetail {
            result,
            explain,
        })));
        let mut checked = report(passed, request, failure, detail, power, answer, deviations);
        checked.answered_by = rule.map(|(source, _)| source);
        checked
    }
}

/// Where the rule that answered a probe is written, as the model routed
/// it: `the rule that answered: routes.yaml:12 (HTTPRoute ns/r, rule 0)`,
/// so that a failure points at the line to change as well as the probe.
fn answering_rule(ctx: &Ctx<'_>, trace: &crate::explain::Explanation) -> Option<(Source, String)> {
    let won = trace.candidates.iter().find(|c| c.verdict == "won")?;
    let (ns, name) = won.route.split_once('/')?;
    let m =
        ctx.deployment.files.iter().flatten().find(|m| {
            m.kind == "HTTPRoute" && m.name == name && m.namespace.as_deref() == Some(ns)
        })?;
    let line = m.rule_line(won.rule)?;
    let said = format!(
        "the rule that answered: {}:{line} (HTTPRoute {}, rule {})",
        m.file.display(),
        won.route,
        won.rule
    );
    Some((Source::new(&m.file, line), said))
}

/// Whether the model's explanation predicts what was observed: the same
/// status (and Location), or a forward that an echo backend answered.
fn agrees(trace: &crate::explain::Explanation, last: Option<&probe::observe::Observation>) -> bool {
    let Some(o) = last else {
        return false;
    };
    match trace.outcome.status {
        Some(status) => {
            let location = o
                .headers
                .iter()
                .find(|(n, _)| n == "location")
                .map(|(_, v)| v.as_str());
            o.status == status
                && trace
                    .outcome
                    .location
                    .as_deref()
                    .is_none_or(|l| Some(l) == location)
        }
        None => o.echo.is_some(),
    }
}

/// What a probe got, in short: the status with a redirect's Location or the
/// echo backend that answered and the path it saw; for a split, the backends
/// that answered.
fn answer(result: &probe::ProbeResult) -> Option<String> {
    if let Some(split) = &result.split {
        let seen: Vec<&str> = split
            .counts
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|(b, _)| b.as_str())
            .collect();
        return Some(format!("split over {}", seen.join(", ")));
    }
    if result.error.is_some() {
        return Some("no answer".into());
    }
    let o = result.last.as_ref()?;
    if let Some((_, location)) = o.headers.iter().find(|(n, _)| n == "location") {
        return Some(format!("{} {location}", o.status));
    }
    Some(match &o.echo {
        Some(echo) => format!("{} from {} at {}", o.status, echo.service, echo.path),
        None => o.status.to_string(),
    })
}

/// The `gwlab explain` line that shows how a probe's request is routed.
fn explain_command(
    scenario: &crate::scenario::Scenario,
    step: &Step,
    p: &Probe,
    answering: Option<&str>,
) -> String {
    let mut cmd = format!("gwlab explain {} --url '{}'", scenario.dir.display(), p.url);
    if let Some(i) = answering {
        cmd.push_str(&format!(" --as {i}"));
    }
    // A named step is one of `steps`: explain the state after it.
    if step.name.is_some()
        && let Some(i) = scenario.steps.iter().position(|s| std::ptr::eq(s, step))
    {
        cmd.push_str(&format!(" --step {}", i + 1));
    }
    if p.method != "GET" {
        cmd.push_str(&format!(" -X {}", p.method));
    }
    for (name, value) in &p.request.headers {
        cmd.push_str(&format!(" -H '{name}: {value}'"));
    }
    if let Some(g) = &p.gateway {
        cmd.push_str(&format!(" --gateway {g}"));
    }
    cmd
}

/// Why a probe failed, in report lines: the transport error, the mismatches,
/// the split, and the body of an unexpected status.
fn probe_failure(result: &probe::ProbeResult) -> Vec<String> {
    let mut failure = Vec::new();
    if let Some(e) = &result.error {
        failure.push(format!("request failed: {e}"));
    }
    for m in &result.mismatches {
        failure.push(m.to_string());
    }
    if let Some(split) = &result.split {
        failure.extend(split_failure(split));
    }
    if let Some(last) = &result.last
        && result.mismatches.iter().any(|m| m.field == "status")
        && last.echo.is_none()
        && !last.body.is_empty()
    {
        // Long enough for a 404's list of the hostnames served on the port.
        let body: String = last.body.trim().chars().take(1000).collect();
        failure.push(format!("response body: {body}"));
    }
    failure
}

/// A split's problems and, when it failed, its counts against the expected ones.
fn split_failure(split: &probe::split::SplitVerdict) -> Vec<String> {
    let mut failure: Vec<String> = split
        .problems
        .iter()
        .map(|problem| format!("split: {problem}"))
        .collect();
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
        if split.retried > 0 {
            failure.push(format!(
                "split: {} got no answer at first and were sent again",
                crate::diag::counted(split.retried as usize, "request")
            ));
        }
    }
    failure
}
