//! `gwlab doctor`: what keeps a Gateway from working, each finding with its
//! evidence (quoted from the machine or the cluster) and its fix, ordered from
//! the root cause down. Facts are gathered first, then judged by pure
//! functions, so every check can be tested on a state built for it.

pub mod cluster;
mod crds;
pub(crate) mod facts;
mod gateway;
mod kic;
pub mod machine;
mod metallb;
pub(crate) mod recorded;
pub(crate) mod routes;
mod versions;

use crate::diag::counted;
use serde::Serialize;

/// Where a finding sits in the chain of causes: lower runs first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Layer {
    Machine,
    Cluster,
    Crds,
    Controller,
    Scheduling,
    PublishService,
    GatewayClass,
    Gateway,
    LoadBalancer,
    Routes,
}

/// How much a finding matters. Errors and critical findings make `gwlab
/// doctor` exit 1; warnings are said, and leave the verdict healthy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Act now: the cluster runs something known to be malicious or broken.
    Critical,
    Error,
    /// Works today, but past its support or outside what was tested.
    Warning,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// A stable identifier, e.g. `kong-publish-service-mismatch`.
    pub id: String,
    pub layer: Layer,
    pub severity: Severity,
    /// What is wrong, in one line.
    pub problem: String,
    /// What shows it, quoted from where it was read.
    pub evidence: Vec<String>,
    /// What to do.
    pub fix: Vec<String>,
}

impl Finding {
    pub fn new(id: &str, layer: Layer, problem: impl Into<String>) -> Self {
        Finding {
            id: id.into(),
            layer,
            severity: Severity::Error,
            problem: problem.into(),
            evidence: vec![],
            fix: vec![],
        }
    }
    pub fn evidence(mut self, e: impl Into<String>) -> Self {
        self.evidence.push(e.into());
        self
    }
    pub fn fix(mut self, f: impl Into<String>) -> Self {
        self.fix.push(f.into());
        self
    }
    pub fn severity(mut self, s: Severity) -> Self {
        self.severity = s;
        self
    }
    /// Whether it makes the verdict unhealthy (anything but a warning).
    pub(crate) fn is_problem(&self) -> bool {
        self.severity != Severity::Warning
    }
}

/// Sorts findings: critical ones first, then from the root cause down
/// (stable within a layer).
pub fn order(mut findings: Vec<Finding>) -> Vec<Finding> {
    findings.sort_by_key(|f| (f.severity != Severity::Critical, f.layer));
    findings
}

/// Whether nothing but warnings was found.
pub fn healthy(findings: &[Finding]) -> bool {
    !findings.iter().any(Finding::is_problem)
}

pub fn render_text(findings: &[Finding], checks: &[String]) -> String {
    let mut out = String::new();
    let problems = findings.iter().filter(|f| f.is_problem()).count();
    let warnings = findings.len() - problems;
    if problems == 0 {
        out.push_str(&format!(
            "healthy: {} passed\n",
            counted(checks.len(), "check")
        ));
        for c in checks {
            out.push_str(&format!("  ✓ {c}\n"));
        }
        if warnings == 0 {
            return out;
        }
        out.push_str(&format!("\n{}:\n", counted(warnings, "warning")));
    } else if warnings == 0 {
        out.push_str(&format!(
            "{}, root cause first:\n",
            counted(problems, "problem")
        ));
    } else {
        out.push_str(&format!(
            "{} and {}, root cause first:\n",
            counted(problems, "problem"),
            counted(warnings, "warning")
        ));
    }
    for (i, f) in findings.iter().enumerate() {
        let mark = match f.severity {
            Severity::Critical => "CRITICAL: ",
            Severity::Error => "",
            Severity::Warning => "warning: ",
        };
        out.push_str(&format!("\n{}. {mark}{} [{}]\n", i + 1, f.problem, f.id));
        for e in &f.evidence {
            out.push_str(&format!("   evidence: {e}\n"));
        }
        for x in &f.fix {
            out.push_str(&format!("   fix: {x}\n"));
        }
    }
    out
}
