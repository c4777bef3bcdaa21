//! `scenario.yaml` as written, field for field, as the scenario format defines it.
//! Unknown fields are rejected by serde so that typos are errors.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned;

use super::duration::DurationText;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct ScenarioFile {
    /// The Gateway API release the manifests are written for (v1.2.1 when
    /// not given).
    #[serde(rename = "gatewayAPI")]
    pub gateway_api: Option<Spanned<crate::gateway_api::Release>>,
    pub name: Option<String>,
    pub description: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub features: Vec<Spanned<String>>,
    #[serde(default)]
    pub backends: Vec<Spanned<BackendSpec>>,
    pub conditions: Option<Vec<Spanned<ConditionSpec>>>,
    pub probes: Option<Vec<Spanned<ProbeSpec>>>,
    pub steps: Option<Vec<Spanned<StepSpec>>>,
    pub timeouts: Option<TimeoutsSpec>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct BackendSpec {
    pub name: String,
    pub port: Option<u16>,
    pub namespace: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct StepSpec {
    pub name: Option<String>,
    #[serde(default)]
    pub apply: Vec<String>,
    #[serde(default)]
    pub delete: Vec<String>,
    #[serde(default)]
    pub conditions: Vec<Spanned<ConditionSpec>>,
    #[serde(default)]
    pub probes: Vec<Spanned<ProbeSpec>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TimeoutsSpec {
    pub conditions: Option<Spanned<DurationText>>,
    pub probes: Option<Spanned<DurationText>>,
}

/// A condition status: `"True"`, `"False"` or `"Unknown"`; a bare YAML boolean
/// is accepted too, since `status: True` is what people type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ConditionStatus {
    True,
    False,
    Unknown,
}

impl ConditionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ConditionStatus::True => "True",
            ConditionStatus::False => "False",
            ConditionStatus::Unknown => "Unknown",
        }
    }
}

impl<'de> Deserialize<'de> for ConditionStatus {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Bool(bool),
            Text(String),
        }
        match Raw::deserialize(d)? {
            Raw::Bool(true) => Ok(ConditionStatus::True),
            Raw::Bool(false) => Ok(ConditionStatus::False),
            Raw::Text(t) => match t.as_str() {
                "True" => Ok(ConditionStatus::True),
                "False" => Ok(ConditionStatus::False),
                "Unknown" => Ok(ConditionStatus::Unknown),
                other => Err(serde::de::Error::custom(format!(
                    "status `{other}` must be \"True\", \"False\" or \"Unknown\""
                ))),
            },
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ConditionSpec {
    pub resource: String,
    pub namespace: Option<String>,
    #[serde(rename = "type")]
    pub type_: Option<String>,
    pub status: Option<ConditionStatus>,
    pub reason: Option<String>,
    pub listener: Option<String>,
    pub attached_routes: Option<u32>,
    pub parent: Option<String>,
    pub parent_section: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ProbeSpec {
    pub name: Option<String>,
    pub gateway: Option<String>,
    pub request: RequestSpec,
    pub samples: Option<Samples>,
    /// Split probes: percentage points each share may be off its weight.
    pub tolerance: Option<f64>,
    pub expect: Option<ExpectSpec>,
}

/// A probe's `samples`: a number, or `auto` (a split sample sized by gwlab).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Samples {
    Count(u32),
    Auto,
}

impl<'de> Deserialize<'de> for Samples {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Samples;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a number of requests or `auto`")
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Samples, E> {
                u32::try_from(v)
                    .map(Samples::Count)
                    .map_err(|_| E::custom(format!("samples {v} is more than gwlab can send")))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Samples, E> {
                u64::try_from(v)
                    .map_err(|_| {
                        E::custom(format!("samples {v} must be a positive number or `auto`"))
                    })
                    .and_then(|v| self.visit_u64(v))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Samples, E> {
                match v {
                    "auto" => Ok(Samples::Auto),
                    other => Err(E::custom(format!(
                        "samples `{other}` must be a number of requests or `auto`"
                    ))),
                }
            }
        }
        d.deserialize_any(Visitor)
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RequestSpec {
    pub url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsSpec>,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TlsSpec {
    #[serde(default)]
    pub verify: bool,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ExpectSpec {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers_absent: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body_contains: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redirect: Option<RedirectExpect>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backend: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backend_request: Option<BackendRequestExpect>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub split: Option<BTreeMap<String, u32>>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RedirectExpect {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheme: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The raw query after `?`: absent, not checked; `""`, no query at all.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BackendRequestExpect {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers_absent: Vec<String>,
}

impl ConditionSpec {
    pub fn is_route_kind(kind: &str) -> bool {
        matches!(kind, "HTTPRoute" | "GRPCRoute")
    }
}
