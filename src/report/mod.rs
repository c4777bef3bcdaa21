//! Results of a run and their renderings: lines for people, JUnit XML and
//! JSON for CI (and workflow annotations when running in GitHub Actions), and
//! an HTML page to look at; `saved` reads a JSON report back.

pub(crate) mod annotations;
pub(crate) mod html;
pub mod human;
pub mod json;
pub(crate) mod junit;
pub mod portability;
pub(crate) mod saved;
pub(crate) mod secs;
pub mod sink;

use std::time::Duration;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Passed,
    Failed,
    Unsupported,
    /// Not run, or stopped, because the run was interrupted (Ctrl-C).
    Interrupted,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Passed => "passed",
            Verdict::Failed => "failed",
            Verdict::Unsupported => "unsupported",
            Verdict::Interrupted => "interrupted",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckKind {
    Setup,
    Condition,
    Probe,
    Cleanup,
}

impl CheckKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckKind::Setup => "setup",
            CheckKind::Condition => "condition",
            CheckKind::Probe => "probe",
            CheckKind::Cleanup => "cleanup",
        }
    }
}

/// Where something is written: a file and a 1-based line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Source {
    pub file: String,
    pub line: u64,
}

impl Source {
    pub fn new(file: &std::path::Path, line: u64) -> Self {
        Source {
            file: file.display().to_string(),
            line,
        }
    }
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// One assertion (or a setup step that could fail): a JUnit testcase.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckReport {
    pub kind: CheckKind,
    pub name: String,
    /// The step it belongs to, for scenarios with `steps`.
    pub step: Option<String>,
    /// The condition or probe in `scenario.yaml`.
    pub source: Option<Source>,
    pub passed: bool,
    #[serde(rename = "durationSeconds", with = "secs")]
    pub duration: Duration,
    /// Probes that failed: the request, where it went and how many tries.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request: Option<String>,
    /// What was expected and what came instead, most telling first: the
    /// first line is the failure's message in JUnit and in annotations.
    pub failure: Vec<String>,
    /// Data about the check (the last response, split counts...), for JSON
    /// and the HTML page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<CheckDetail>,
    /// Split probes: what the judgement could have detected, in a sentence
    /// ("400 samples: a deviation of 8.0 points or more would have been
    /// caught with 95 % probability"); its figures are in `detail.split.power`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub power: Option<String>,
    /// Probes: what came back, in short (`301 http://a.example/`, `200 from
    /// echo-v1 at /x`), to compare answers across implementations.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answer: Option<String>,
    /// Probes: the known deviations from the spec of the implementation that
    /// answered which explain the answer (a failed probe's failure lines say
    /// them too).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deviations: Vec<crate::explain::DeviationView>,
    /// Failed probes: where the rule that answered is written (the line to
    /// change, beside the probe's own `source`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answered_by: Option<Source>,
}

/// What a check saw, beyond its verdict and failure lines. In JSON it is
/// the object itself, told apart by its fields (a probe's has `passed`, a
/// status its `generation`), as reports of schemaVersion 2 always wrote it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub enum CheckDetail {
    /// A probe: how it was judged and what came back.
    Probe(Box<ProbeDetail>),
    /// A condition that did not hold: the object's status as read.
    Status(Box<crate::model::status::ObjectStatus>),
}

impl CheckDetail {
    /// The probe's detail, for checks that are probes.
    pub fn probe(&self) -> Option<&ProbeDetail> {
        match self {
            CheckDetail::Probe(p) => Some(p),
            CheckDetail::Status(_) => None,
        }
    }
}

/// A probe's detail: its result and, for a failed probe on a target that
/// can tell, how the reference gateway routes its request.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProbeDetail {
    #[serde(flatten)]
    pub result: crate::probe::ProbeResult,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explain: Option<crate::explain::Explanation>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScenarioReport {
    pub name: String,
    pub dir: String,
    /// Its `scenario.yaml` (line 1).
    pub source: Source,
    pub verdict: Verdict,
    pub namespace: Option<String>,
    #[serde(rename = "durationSeconds", with = "secs")]
    pub duration: Duration,
    /// For unsupported scenarios: the features the target lacks.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing_features: Vec<String>,
    pub checks: Vec<CheckReport>,
    /// For failed scenarios on a cluster: the diagnostics bundle and its most telling lines.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diagnosis: Option<crate::targets::Diagnosis>,
    /// Where the scenario's time went, for scenarios that ran.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phases: Option<Phases>,
    /// What routed where when the scenario's checks ended, on targets that
    /// can tell (the embedded one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub route_map: Option<crate::route_map::RouteMap>,
}

/// A scenario's time by phase, in seconds in JSON.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Phases {
    /// Namespaces, backends and manifests applied (and step deletions).
    #[serde(rename = "applySeconds", with = "secs")]
    pub apply: Duration,
    /// Waiting for status conditions.
    #[serde(rename = "conditionsSeconds", with = "secs")]
    pub conditions: Duration,
    /// Sending probes (with their retries).
    #[serde(rename = "probesSeconds", with = "secs")]
    pub probes: Duration,
    /// Issuing the deletions (which finish in the background).
    #[serde(rename = "cleanupSeconds", with = "secs")]
    pub cleanup: Duration,
}

impl Phases {
    /// `apply 0.41s, conditions 0.52s, probes 0.20s, cleanup 0.05s`.
    pub fn line(&self) -> String {
        format!(
            "apply {:.2}s, conditions {:.2}s, probes {:.2}s, cleanup {:.2}s",
            self.apply.as_secs_f64(),
            self.conditions.as_secs_f64(),
            self.probes.as_secs_f64(),
            self.cleanup.as_secs_f64()
        )
    }
}

impl CheckReport {
    /// A setup action (apply, delete, namespace, backend) that failed.
    pub(crate) fn setup_failure(
        name: String,
        step: Option<String>,
        duration: Duration,
        why: String,
    ) -> Self {
        CheckReport {
            kind: CheckKind::Setup,
            name,
            step,
            source: None,
            passed: false,
            duration,
            request: None,
            failure: vec![why],
            detail: None,
            power: None,
            answer: None,
            deviations: Vec::new(),
            answered_by: None,
        }
    }
}

impl ScenarioReport {
    /// The report of a scenario that did not run (yet): no checks, no time.
    pub fn not_run(s: &crate::scenario::Scenario, verdict: Verdict) -> Self {
        ScenarioReport {
            name: s.name.clone(),
            dir: s.dir.display().to_string(),
            source: Source::new(&s.file, 1),
            verdict,
            namespace: None,
            duration: Duration::ZERO,
            missing_features: vec![],
            checks: vec![],
            diagnosis: None,
            phases: None,
            route_map: None,
        }
    }

    pub fn failures(&self) -> impl Iterator<Item = &CheckReport> {
        self.checks.iter().filter(|c| !c.passed)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunReport {
    pub target: String,
    /// `--as`'s name of the implementation that answered (`spec` unless
    /// asked otherwise; on a cluster, `spec` too: Kong itself answered).
    pub implementation: String,
    pub run_id: String,
    pub scenarios: Vec<ScenarioReport>,
    #[serde(rename = "durationSeconds", with = "secs")]
    pub duration: Duration,
    pub require_features: bool,
    /// The run was interrupted (Ctrl-C): scenarios not run say so.
    pub interrupted: bool,
    /// Deletions this run issued that had not finished when it ended.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub still_deleting: Vec<String>,
    /// Namespaces this run made, emptied of its objects, that the cluster
    /// had not finished removing when it ended (it was not waited for).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub namespaces_finishing: Vec<String>,
    /// With `--as` naming several implementations: every probe under each,
    /// and the other implementations' runs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub portability: Option<Box<portability::Portability>>,
}

impl RunReport {
    pub fn count(&self, v: Verdict) -> usize {
        self.scenarios.iter().filter(|s| s.verdict == v).count()
    }

    /// 0 when every scenario that ran passed, 1 otherwise (unsupported counts as
    /// failed only with `--require-features`); 130 after an interruption, as
    /// shells report a process stopped by SIGINT.
    /// Under several implementations, a failure under any of them fails the run.
    pub(crate) fn exit_code(&self) -> i32 {
        if self.interrupted {
            return crate::exit::INTERRUPTED;
        }
        let failed = portability::all_runs(self).iter().any(|r| {
            r.count(Verdict::Failed) > 0
                || (r.require_features && r.count(Verdict::Unsupported) > 0)
        });
        i32::from(failed)
    }
}

#[cfg(test)]
pub(crate) mod test_support {
    use super::*;

    /// A probe check of a split, passed or failed, with its power statement.
    pub(crate) fn split_check(passed: bool) -> CheckReport {
        CheckReport {
            kind: CheckKind::Probe,
            name: "canary split".into(),
            step: None,
            source: Some(Source {
                file: "scenarios/canary/scenario.yaml".into(),
                line: 12,
            }),
            passed,
            duration: Duration::ZERO,
            request: (!passed).then(|| "GET http://canary.example.com/ (via Gateway kong-system/kong, 127.0.0.1:80), 1 try".into()),
            failure: if passed {
                vec![]
            } else {
                vec!["split: the counts do not fit the weights".into()]
            },
            detail: None,
            power: Some("400 samples: a deviation of 8.0 points or more would have been caught with 95 % probability".into()),
            answer: None,
            deviations: Vec::new(),
            answered_by: None,
        }
    }

    /// A finished run of `scenarios` on `target`, nothing left over.
    pub(crate) fn run_of(target: &str, scenarios: Vec<ScenarioReport>) -> RunReport {
        RunReport {
            target: target.into(),
            implementation: "spec".into(),
            run_id: "r".into(),
            scenarios,
            duration: Duration::ZERO,
            require_features: false,
            interrupted: false,
            still_deleting: vec![],
            namespaces_finishing: vec![],
            portability: None,
        }
    }

    pub(crate) fn scenario_of(checks: Vec<CheckReport>) -> ScenarioReport {
        let verdict = if checks.iter().all(|c| c.passed) {
            Verdict::Passed
        } else {
            Verdict::Failed
        };
        ScenarioReport {
            name: "canary".into(),
            dir: "scenarios/canary".into(),
            source: Source {
                file: "scenarios/canary/scenario.yaml".into(),
                line: 1,
            },
            verdict,
            namespace: None,
            duration: Duration::ZERO,
            missing_features: vec![],
            checks,
            diagnosis: None,
            phases: None,
            route_map: None,
        }
    }
}
