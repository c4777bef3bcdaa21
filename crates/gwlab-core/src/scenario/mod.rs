//! Scenarios: a directory with `scenario.yaml` and manifests, read and checked
//! against the scenario format into plain types the runner uses.

mod bounds;
pub mod duration;
mod find;
mod items;
mod load;
mod set;
pub mod types;

pub use bounds::{MAX_SAMPLES, MAX_SPLIT_WEIGHT, MAX_TIMEOUT};
pub use find::{SCENARIO_FILE, find};
pub(crate) use items::dns_label;
pub use load::{from_text, load, load_as, load_bare, load_bare_as};
pub use set::duplicate_names;

use std::path::PathBuf;
use std::time::Duration;

use crate::manifest::Manifest;
pub use types::{ConditionSpec, ConditionStatus, ExpectSpec, RequestSpec, Samples};

pub(crate) const DEFAULT_BACKEND_PORT: u16 = 8080;
pub(crate) const DEFAULT_SPLIT_SAMPLES: u32 = 200;
pub(crate) const DEFAULT_CONDITIONS_TIMEOUT: Duration = Duration::from_secs(60);
pub(crate) const DEFAULT_PROBES_TIMEOUT: Duration = Duration::from_secs(30);
/// Consecutive passing requests after which a probe holds.
pub const CONSECUTIVE_PASSES: u32 = 3;

#[derive(Debug, Clone)]
pub struct Scenario {
    pub dir: PathBuf,
    pub file: PathBuf,
    pub name: String,
    pub description: Option<String>,
    pub tags: Vec<String>,
    pub features: Vec<String>,
    pub backends: Vec<Backend>,
    pub manifests: Vec<ManifestFile>,
    /// Indexes into `manifests` of the files applied before the first step.
    pub initial: Vec<usize>,
    pub steps: Vec<Step>,
    pub timeouts: Timeouts,
    /// The Gateway API release its manifests are written for.
    pub gateway_api: crate::gateway_api::Release,
}

impl Scenario {
    /// Every object of the scenario, in apply order.
    pub fn all_objects(&self) -> impl Iterator<Item = &Manifest> {
        self.manifests.iter().flat_map(|f| f.objects.iter())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backend {
    pub name: String,
    pub port: u16,
    /// `None`: the scenario namespace.
    pub namespace: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ManifestFile {
    /// The file name within the scenario directory, as steps name it.
    pub name: String,
    pub objects: Vec<Manifest>,
}

#[derive(Debug, Clone)]
pub struct Step {
    /// `None` for the single implicit step of a scenario without `steps`.
    pub name: Option<String>,
    pub apply: Vec<usize>,
    pub delete: Vec<usize>,
    pub conditions: Vec<Condition>,
    pub probes: Vec<Probe>,
}

#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    pub conditions: Duration,
    pub probes: Duration,
}

#[derive(Debug, Clone)]
pub struct Condition {
    pub spec: ConditionSpec,
    pub kind: String,
    pub name: String,
    pub line: u64,
}

impl Condition {
    /// A one-line name for reports: `HTTPRoute/x Accepted=True (parent kong-system/kong)`.
    pub fn title(&self) -> String {
        let s = &self.spec;
        let mut t = s.resource.clone();
        if let Some(l) = &s.listener {
            t.push_str(&format!(" listener {l}"));
        }
        match (&s.type_, s.attached_routes) {
            (_, Some(n)) => t.push_str(&format!(" attachedRoutes={n}")),
            (Some(ty), None) => {
                let status = s.status.unwrap_or(ConditionStatus::True).as_str();
                t.push_str(&format!(" {ty}={status}"));
                if let Some(r) = &s.reason {
                    t.push_str(&format!(" ({r})"));
                }
            }
            (None, None) => {}
        }
        if let Some(p) = &s.parent {
            t.push_str(&format!(" parent {p}"));
            if let Some(sec) = &s.parent_section {
                t.push_str(&format!("/{sec}"));
            }
        }
        t
    }
}

#[derive(Debug, Clone)]
pub struct Probe {
    pub name: String,
    pub line: u64,
    /// `namespace/name` or a bare name (the scenario namespace); `None`: the default Gateway.
    pub gateway: Option<String>,
    pub request: RequestSpec,
    pub url: url::Url,
    pub method: String,
    /// Requests per sample for `split` probes (`samples`, or what `auto`
    /// computed); for other probes the consecutive passes asked for (default 1).
    pub samples: u32,
    /// Split probes: percentage points each share may be off its weight;
    /// `None`: the exact test.
    pub tolerance: Option<f64>,
    /// Split probes with `samples: auto`: what it computed.
    pub auto: Option<crate::stats::AutoSamples>,
    pub expect: ExpectSpec,
}

impl Probe {
    /// The gateway listener port the URL goes to.
    pub fn port(&self) -> u16 {
        self.url.port_or_known_default().unwrap_or(80)
    }

    /// The request head the probe sends, as the gateway routes it.
    pub fn request_head(&self) -> crate::model::request::RequestHead {
        let headers = self
            .request
            .headers
            .iter()
            .map(|(n, v)| (n.clone(), v.clone()))
            .collect();
        crate::model::request::RequestHead::for_url(&self.method, &self.url, headers)
    }
}
