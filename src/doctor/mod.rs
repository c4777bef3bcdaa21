//! `gwlab doctor`: what keeps a Gateway from working, each finding with its
//! evidence (quoted from the machine or the cluster) and its fix, ordered from
//! the root cause down. Facts are gathered first, then judged by pure
//! functions, so every check can be tested on a state built for it.

pub mod cluster;
mod crds;
pub mod facts;
mod gateway;
mod kic;
pub mod machine;
mod metallb;
pub mod recorded;
pub mod routes;

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

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// A stable identifier, e.g. `kong-publish-service-mismatch`.
    pub id: String,
    pub layer: Layer,
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
}

/// Sorts findings from the root cause down (stable within a layer).
pub fn order(mut findings: Vec<Finding>) -> Vec<Finding> {
    findings.sort_by_key(|f| f.layer);
    findings
}

pub fn render_text(findings: &[Finding], checks: &[String]) -> String {
    let mut out = String::new();
    if findings.is_empty() {
        out.push_str(&format!("healthy: {} checks passed\n", checks.len()));
        for c in checks {
            out.push_str(&format!("  ✓ {c}\n"));
        }
        return out;
    }
    out.push_str(&format!(
        "{} problem(s), root cause first:\n",
        findings.len()
    ));
    for (i, f) in findings.iter().enumerate() {
        out.push_str(&format!("\n{}. {} [{}]\n", i + 1, f.problem, f.id));
        for e in &f.evidence {
            out.push_str(&format!("   evidence: {e}\n"));
        }
        for x in &f.fix {
            out.push_str(&format!("   fix: {x}\n"));
        }
    }
    out
}
