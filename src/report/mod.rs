//! Results of a run and their three renderings: lines for people, JUnit XML and
//! JSON for CI.

pub mod human;
pub mod json;
pub mod junit;

use std::time::Duration;

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckKind {
    Setup,
    Condition,
    Probe,
    Cleanup,
}

/// One assertion (or a setup step that could fail): a JUnit testcase.
#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    pub kind: CheckKind,
    pub name: String,
    /// The step it belongs to, for scenarios with `steps`.
    pub step: Option<String>,
    pub passed: bool,
    #[serde(with = "secs")]
    pub duration: Duration,
    /// Lines saying what was expected and what came instead.
    pub failure: Vec<String>,
    /// Data about the check (the last response, split counts...), for JSON.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<serde_json::Value>,
    /// Split probes: what the judgement could have detected, in a sentence
    /// ("400 samples: a deviation of 8.0 points or more would have been
    /// caught with 95 % probability"); its figures are in `detail.split.power`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub power: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ScenarioReport {
    pub name: String,
    pub dir: String,
    pub verdict: Verdict,
    pub namespace: Option<String>,
    #[serde(with = "secs")]
    pub duration: Duration,
    /// For unsupported scenarios: the features the target lacks.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub missing_features: Vec<String>,
    pub checks: Vec<CheckReport>,
    /// For failed scenarios on a cluster: the diagnostics bundle and its most telling lines.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diagnosis: Option<crate::targets::Diagnosis>,
    /// Where the scenario's time went, for scenarios that ran.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phases: Option<Phases>,
}

/// A scenario's time by phase, in seconds in JSON.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Phases {
    /// Namespaces, backends and manifests applied (and step deletions).
    #[serde(with = "secs")]
    pub apply: Duration,
    /// Waiting for status conditions.
    #[serde(with = "secs")]
    pub conditions: Duration,
    /// Sending probes (with their retries).
    #[serde(with = "secs")]
    pub probes: Duration,
    /// Issuing the deletions (which finish in the background).
    #[serde(with = "secs")]
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
    pub fn setup_failure(
        name: String,
        step: Option<String>,
        duration: Duration,
        why: String,
    ) -> Self {
        CheckReport {
            kind: CheckKind::Setup,
            name,
            step,
            passed: false,
            duration,
            failure: vec![why],
            detail: None,
            power: None,
        }
    }
}

impl ScenarioReport {
    pub fn with_verdict(self, verdict: Verdict) -> Self {
        ScenarioReport { verdict, ..self }
    }

    pub fn failures(&self) -> impl Iterator<Item = &CheckReport> {
        self.checks.iter().filter(|c| !c.passed)
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RunReport {
    pub target: String,
    pub run_id: String,
    pub scenarios: Vec<ScenarioReport>,
    #[serde(with = "secs")]
    pub duration: Duration,
    pub require_features: bool,
    /// The run was interrupted (Ctrl-C): scenarios not run say so.
    pub interrupted: bool,
    /// Deletions this run issued that had not finished when it ended.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub still_deleting: Vec<String>,
}

impl RunReport {
    pub fn count(&self, v: Verdict) -> usize {
        self.scenarios.iter().filter(|s| s.verdict == v).count()
    }

    /// 0 when every scenario that ran passed, 1 otherwise (unsupported counts as
    /// failed only with `--require-features`); 130 after an interruption, as
    /// shells report a process stopped by SIGINT.
    pub fn exit_code(&self) -> i32 {
        if self.interrupted {
            return crate::exit::INTERRUPTED;
        }
        let failed = self.count(Verdict::Failed) > 0
            || (self.require_features && self.count(Verdict::Unsupported) > 0);
        i32::from(failed)
    }
}

mod secs {
    use std::time::Duration;

    pub fn serialize<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64((d.as_secs_f64() * 1000.0).round() / 1000.0)
    }
}

#[cfg(test)]
pub(crate) mod test_support {
    use super::*;

    /// A probe check of a split, passed or failed, with its power statement.
    pub fn split_check(passed: bool) -> CheckReport {
        CheckReport {
            kind: CheckKind::Probe,
            name: "canary split".into(),
            step: None,
            passed,
            duration: Duration::ZERO,
            failure: if passed {
                vec![]
            } else {
                vec!["split: the counts do not fit the weights".into()]
            },
            detail: None,
            power: Some("400 samples: a deviation of 8.0 points or more would have been caught with 95 % probability".into()),
        }
    }

    pub fn scenario_of(checks: Vec<CheckReport>) -> ScenarioReport {
        let verdict = if checks.iter().all(|c| c.passed) {
            Verdict::Passed
        } else {
            Verdict::Failed
        };
        ScenarioReport {
            name: "canary".into(),
            dir: "scenarios/canary".into(),
            verdict,
            namespace: None,
            duration: Duration::ZERO,
            missing_features: vec![],
            checks,
            diagnosis: None,
            phases: None,
        }
    }
}
