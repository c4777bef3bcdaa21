//! Running an exercise's check (a scenario) on the embedded gateway, and
//! saying in plain words what failed, what came back, and the `gwlab
//! explain` command that shows why.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::{Arc, Mutex};

use super::format::{DoctorCheck, Exercise};
use crate::diag::Diagnostics;
use crate::doctor::Finding;
use crate::doctor::recorded;
use crate::implementations::Implementation;
use crate::report::human::Console;
use crate::report::sink::Sinks;
use crate::report::{CheckKind, CheckReport, ScenarioReport, Verdict};
use crate::run::{self, Runner};
use crate::scenario::{self, Scenario};
use crate::targets::TargetError;
use crate::targets::embedded::EmbeddedTarget;
use crate::targets::embedded::tls::LabCa;

/// Why a check could not run at all.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// The student's files (or the check) are not valid input.
    #[error("{0}")]
    Bad(#[source] Diagnostics),
    /// A troubleshooting exercise's recorded state cannot be read.
    #[error("{0}")]
    Recorded(#[source] crate::doctor::recorded::RecordedError),
    #[error("cannot make the lab certificate authority: {0}")]
    Ca(#[source] rcgen::Error),
    #[error("cannot start the embedded gateway: {0}")]
    Gateway(#[source] TargetError),
    /// No cluster to check on, or it cannot be reached.
    #[error("{0}")]
    NoCluster(#[source] Box<crate::lab::LabError>),
    #[error("on the cluster: {0}")]
    Cluster(#[source] Box<TargetError>),
    #[error("cannot read the cluster's state for doctor: {0}")]
    Gather(#[source] Box<crate::doctor::cluster::GatherError>),
    #[error("{0}")]
    Break(#[source] Box<super::breaks::BreakError>),
    #[error("{0}")]
    Files(#[source] Box<super::CourseError>),
}

/// A check that ran: the scenario and what came of it.
pub struct Checked {
    pub scenario: Scenario,
    pub report: ScenarioReport,
}

impl Checked {
    pub fn passed(&self) -> bool {
        self.report.verdict == Verdict::Passed
    }

    /// Its checks that failed.
    pub fn failed(&self) -> usize {
        self.report.checks.iter().filter(|c| !c.passed).count()
    }
}

/// What an exercise's check came to, whatever its kind.
pub struct Outcome {
    pub passed: bool,
    /// Expectations (scenario checks, or findings that must be gone).
    pub total: usize,
    /// Of those, the ones that failed.
    pub failed: usize,
    /// For each failed expectation, what it was and what came back.
    pub lines: Vec<String>,
    /// Gateway API features the check needs and the target lacks (then it
    /// did not run).
    pub missing_features: Vec<String>,
    /// What each split probe could have detected (its power), passed or not:
    /// "passed" alone says nothing of a split.
    pub power: Vec<String>,
}

/// The power statement of every split probe of a report, by probe.
pub(crate) fn split_power(report: &ScenarioReport) -> Vec<String> {
    report
        .checks
        .iter()
        .filter_map(|c| c.power.as_ref().map(|p| format!("{}: {p}", c.name)))
        .collect()
}

/// Runs the check of `ex` on the student's files in `dir` (`shown`: the
/// directory as the student names it, for the commands it prints).
pub async fn exercise(
    ex: &Exercise,
    dir: &Path,
    shown: &Path,
    implementation: Implementation,
) -> Result<Outcome, CheckError> {
    match &ex.doctor {
        Some(d) => doctor(d, dir, shown),
        None => {
            let c = run_as(dir, implementation).await?;
            Ok(Outcome {
                passed: c.passed(),
                total: c.report.checks.len(),
                failed: c.failed(),
                lines: failure_lines(&c, shown),
                missing_features: c.report.missing_features.clone(),
                power: split_power(&c.report),
            })
        }
    }
}

/// What the check's conditions look for and the student's files do not
/// define, in the student's words: the check's files are gwlab's, so a
/// problem there is named as what the check needs of the student's files.
pub(crate) fn unpinned(ex: &Exercise, dir: &Path) -> Vec<String> {
    let Some(text) = ex
        .check
        .get(crate::scenario::SCENARIO_FILE)
        .and_then(|b| std::str::from_utf8(b).ok())
    else {
        return Vec::new();
    };
    let Ok(spec) = serde_saphyr::from_str::<serde_json::Value>(text) else {
        return Vec::new();
    };
    let wanted: Vec<(String, String)> = spec["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["resource"].as_str())
        .filter_map(|r| r.split_once('/'))
        .map(|(k, n)| (k.to_string(), n.to_string()))
        .collect();
    let mut defined: Vec<(String, String)> = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        let yaml = path.extension().is_some_and(|e| e == "yaml" || e == "yml");
        if !yaml || ex.check.contains_key(&name) {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        if let Ok(objects) = crate::manifest::parse_text(&path, &text) {
            defined.extend(objects.into_iter().map(|m| (m.kind, m.name)));
        }
    }
    let mut out: Vec<String> = Vec::new();
    for (kind, name) in wanted {
        let line = format!(
            "✗ the check looks for {kind} {name} in your files, and none of them defines it: keep the name the task gives it (metadata.name: {name})"
        );
        if !defined.contains(&(kind, name)) && !out.contains(&line) {
            out.push(line);
        }
    }
    out
}

/// A troubleshooting check: doctor's analysis of the recorded state must no
/// longer find what the exercise is about.
pub(super) fn doctor(d: &DoctorCheck, dir: &Path, shown: &Path) -> Result<Outcome, CheckError> {
    let facts = recorded::read(&dir.join(&d.dir)).map_err(CheckError::Recorded)?;
    let why = format!("gwlab doctor --from {}", shown.join(&d.dir).display());
    let mut out = findings_left(d, &facts, &why);
    out.lines.push(format!(
        "{} of {} left",
        out.failed,
        crate::diag::counted(out.total, "problem")
    ));
    Ok(out)
}

/// Doctor's findings of a lab part that is not there at all: never a fix.
const REMOVED_PARTS: &[&str] = &["kic-missing", "gatewayclass-missing"];

/// The exercise's findings doctor still finds in `facts`, each with its
/// evidence and `why`, the doctor command that shows it.
pub(super) fn findings_left(
    d: &DoctorCheck,
    facts: &crate::doctor::cluster::Facts,
    why: &str,
) -> Outcome {
    let (findings, _) = crate::doctor::cluster::analyze(facts, None);
    // What the exercise is about must be gone, and not by removing the part
    // it is about: a deleted controller has no bad flag either. (Findings
    // that follow from the cause, such as a Gateway not Programmed, stay in
    // a recorded state after its fix: they are not asked about.)
    let left: Vec<&Finding> = findings
        .iter()
        .filter(|f| d.solves.contains(&f.id) || REMOVED_PARTS.contains(&f.id.as_str()))
        .collect();
    let mut lines = Vec::new();
    for f in &left {
        lines.push(format!("✗ doctor still finds: {} [{}]", f.problem, f.id));
        for e in &f.evidence {
            lines.push(format!("    evidence: {e}"));
        }
        lines.push(format!("    why: {why}"));
    }
    let removed = left.iter().filter(|f| !d.solves.contains(&f.id)).count();
    Outcome {
        passed: left.is_empty(),
        total: d.solves.len() + removed,
        failed: left.len(),
        lines,
        missing_features: Vec::new(),
        power: Vec::new(),
    }
}

/// A runner for one check: quiet, no diagnostics bundle, everything cleaned
/// up. `retry_probes`: on a cluster, where routes take a moment to program.
pub(super) fn runner(sinks: &Sinks, retry_probes: bool, features: BTreeSet<String>) -> Runner<'_> {
    Runner {
        run_id: run::new_run_id(),
        sinks,
        retry_probes,
        cancel: Default::default(),
        created: Arc::new(Mutex::new(BTreeSet::new())),
        diagnostics: None,
        keep: false,
        features,
        // The lab's failure lines name explain where it applies.
        explain_hints: false,
        gateway_api: None,
    }
}

/// Loads the scenario in `dir` and runs it on a fresh embedded gateway.
pub async fn run(dir: &Path) -> Result<Checked, CheckError> {
    run_as(dir, Implementation::Spec).await
}

/// Loads the scenario in `dir` and runs it on a fresh embedded gateway that
/// answers as `implementation`.
pub async fn run_as(dir: &Path, implementation: Implementation) -> Result<Checked, CheckError> {
    run_with(dir, implementation, &implementation.features()).await
}

/// The check of `dir` under each implementation, as the portability table's
/// lines: per probe, pass or fail under each, and the answers where they
/// differ. Every feature the reference gateway has is allowed, so that what
/// an implementation would answer shows even where its conformance report
/// does not claim a feature the check needs.
pub async fn compare(
    dir: &Path,
    implementations: &[Implementation],
) -> Result<Vec<String>, CheckError> {
    let scenario = scenario::load(dir).map_err(CheckError::Bad)?;
    let runs = run::under::under(&scenario, implementations)
        .await
        .map_err(|e| match e {
            run::under::UnderError::Ca(e) => CheckError::Ca(e),
            run::under::UnderError::Gateway(e) => CheckError::Gateway(e),
        })?;
    Ok(crate::report::portability::render_text(
        &crate::report::portability::table(&runs),
    ))
}

async fn run_with(
    dir: &Path,
    implementation: Implementation,
    features: &[crate::features::Feature],
) -> Result<Checked, CheckError> {
    let scenario = scenario::load(dir).map_err(CheckError::Bad)?;
    let sinks = Sinks::terminal(Console::new(true));
    // The embedded gateway is settled once applied: a failure is final.
    let runner = runner(&sinks, false, crate::features::names(features));
    let ca = Arc::new(LabCa::new().map_err(CheckError::Ca)?);
    let mut target = EmbeddedTarget::start_as(ca, Default::default(), implementation)
        .await
        .map_err(CheckError::Gateway)?;
    let report = runner.run_scenario(&mut target, &scenario).await;
    Ok(Checked { scenario, report })
}

/// For each failed expectation: what it was, what came back, and the
/// `gwlab explain` command (on `shown_dir`, the directory as the student
/// names it) that shows how the gateway routed that request.
pub(crate) fn failure_lines(checked: &Checked, shown_dir: &Path) -> Vec<String> {
    lines_with(checked, shown_dir, Why::Explain)
}

/// What a failure line points to, to see why.
pub(crate) enum Why<'a> {
    /// `gwlab explain`: the check ran on gwlab's reference gateway.
    Explain,
    /// The same check on gwlab's reference gateway, after a run on a cluster:
    /// `explain` shows the reference's routing, so it is named only for an
    /// expectation the reference fails too (the files are wrong); one the
    /// reference meets is the cluster's own difference.
    Reference(&'a Checked),
    /// A command that shows what keeps the cluster from working.
    Command(&'a str),
}

/// The failure lines of a check, pointing to `why`.
pub(crate) fn lines_with(checked: &Checked, shown_dir: &Path, why: Why<'_>) -> Vec<String> {
    let mut out = Vec::new();
    if checked.report.verdict == Verdict::Unsupported {
        out.push(format!(
            "✗ this cluster's Gateway implementation lacks what the check needs: {}",
            checked.report.missing_features.join(", ")
        ));
        out.push(
            "    check this exercise on gwlab's reference gateway: gwlab lab check --target embedded"
                .into(),
        );
        return out;
    }
    let failed: Vec<&CheckReport> = checked.report.failures().collect();
    for c in &failed {
        let what = match c.kind {
            CheckKind::Probe => "request",
            CheckKind::Condition => "status condition",
            CheckKind::Setup => "setting up",
            CheckKind::Cleanup => "cleaning up",
        };
        out.push(format!("✗ {what}: {}", c.name));
        for f in &c.failure {
            out.push(format!("    {f}"));
        }
        let met_by_reference = |r: &Checked| {
            r.report
                .checks
                .iter()
                .any(|x| x.passed && x.kind == c.kind && x.name == c.name && x.step == c.step)
        };
        match why {
            Why::Command(cmd) => out.push(format!("    why: {cmd}")),
            Why::Reference(r) if met_by_reference(r) => out.push("    gwlab's reference gateway meets this with the same files: they are right by Gateway API, and the cluster answers otherwise (`gwlab doctor` names what keeps a lab from working)".into()),
            Why::Explain | Why::Reference(_) => {
                if let Some(cmd) = explain_command(&checked.scenario, c, shown_dir) {
                    out.push(format!("    why: {cmd}"));
                }
            }
        }
    }
    let total = checked.report.checks.len();
    out.push(format!("{} of {total} expectations failed", failed.len()));
    out
}

/// The `gwlab explain` command for a failed check: the probe's own request,
/// or for a condition the first request of its step (whose explanation ends
/// with each route's attachment).
pub(crate) fn explain_command(
    scenario: &Scenario,
    check: &CheckReport,
    dir: &Path,
) -> Option<String> {
    let (index, step) = scenario
        .steps
        .iter()
        .enumerate()
        .find(|(_, s)| s.name == check.step)?;
    let probe = match check.kind {
        CheckKind::Probe => step.probes.iter().find(|p| p.name == check.name)?,
        CheckKind::Condition => step.probes.first()?,
        CheckKind::Setup | CheckKind::Cleanup => return None,
    };
    let mut cmd = format!(
        "gwlab explain {} --url {}",
        quote(&dir.display().to_string()),
        quote(probe.url.as_str())
    );
    if probe.method != "GET" {
        cmd.push_str(&format!(" -X {}", probe.method));
    }
    for (name, value) in &probe.request.headers {
        cmd.push_str(&format!(" -H {}", quote(&format!("{name}: {value}"))));
    }
    if let Some(gw) = &probe.gateway {
        cmd.push_str(&format!(" --gateway {}", quote(gw)));
    }
    if step.name.is_some() {
        cmd.push_str(&format!(" --step {}", index + 1));
    }
    Some(cmd)
}

/// Quotes a word for a POSIX shell when it needs it.
fn quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@,+%".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A report of `scenario` where only the named probe failed.
    fn failed_probe(scenario: &Scenario, name: &str) -> Checked {
        let mut report = ScenarioReport::not_run(scenario, Verdict::Failed);
        for p in &scenario.steps[0].probes {
            let failed = p.name == name;
            report.checks.push(CheckReport {
                kind: CheckKind::Probe,
                name: p.name.clone(),
                step: None,
                source: None,
                passed: !failed,
                duration: Default::default(),
                request: None,
                failure: if failed {
                    vec!["status: expected 200, got 404".into()]
                } else {
                    vec![]
                },
                detail: None,
                power: None,
                answer: None,
                deviations: Vec::new(),
                answered_by: None,
            });
        }
        Checked {
            scenario: scenario.clone(),
            report,
        }
    }

    #[test]
    fn explain_is_named_only_where_the_reference_gateway_fails_too() {
        let dir = tempfile::tempdir().unwrap();
        let yaml = "name: two\nbackends: [{name: a}]\nprobes:\n  - name: one\n    request: {url: 'http://a.test/'}\n    expect: {status: 200}\n  - name: two\n    request: {url: 'http://a.test/x'}\n    expect: {status: 200}\n";
        std::fs::write(dir.path().join("scenario.yaml"), yaml).unwrap();
        let s = crate::scenario::load(dir.path()).unwrap();
        let on_cluster = failed_probe(&s, "one");
        let shown = Path::new("ws/01");

        let alone = failure_lines(&on_cluster, shown).join("\n");
        assert!(
            alone.contains("why: gwlab explain ws/01 --url http://a.test/"),
            "{alone}"
        );

        // The reference fails it too: the files are wrong, explain shows why.
        let same =
            lines_with(&on_cluster, shown, Why::Reference(&failed_probe(&s, "one"))).join("\n");
        assert!(same.contains("why: gwlab explain"), "{same}");
        // The reference meets it: the cluster differs, explain would mislead.
        let differs =
            lines_with(&on_cluster, shown, Why::Reference(&failed_probe(&s, "two"))).join("\n");
        assert!(!differs.contains("gwlab explain"), "{differs}");
        assert!(
            differs.contains("gwlab's reference gateway meets this with the same files"),
            "{differs}"
        );
        assert!(differs.contains("1 of 2 expectations failed"), "{differs}");
    }

    #[test]
    fn quoting_keeps_urls_plain_and_protects_the_rest() {
        assert_eq!(quote("http://imprun.dev/docs"), "http://imprun.dev/docs");
        assert_eq!(quote("http://a/?x=1&y=2"), "'http://a/?x=1&y=2'");
        assert_eq!(quote("X-Beta: true"), "'X-Beta: true'");
        assert_eq!(quote("it's"), r"'it'\''s'");
    }
}
