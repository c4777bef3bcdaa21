//! One response as seen by a probe, with the echo backend's JSON when there is one.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Observation {
    pub status: u16,
    /// Response headers in order, names lower-cased.
    #[serde(
        serialize_with = "name_value_pairs",
        deserialize_with = "pairs_of_names_and_values"
    )]
    pub headers: Vec<(String, String)>,
    pub body: String,
    pub echo: Option<EchoSeen>,
}

/// What an echo backend reported it received.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EchoSeen {
    /// Path without the query.
    pub path: String,
    #[serde(
        serialize_with = "name_value_pairs",
        deserialize_with = "pairs_of_names_and_values"
    )]
    pub query: Vec<(String, String)>,
    pub host: String,
    pub method: String,
    pub headers: BTreeMap<String, Vec<String>>,
    pub namespace: String,
    pub service: String,
    pub pod: String,
}

#[derive(Deserialize)]
struct EchoJson {
    path: String,
    host: String,
    method: String,
    #[serde(default)]
    headers: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    namespace: String,
    #[serde(default)]
    service: String,
    #[serde(default)]
    pod: String,
}

impl Observation {
    pub fn new(status: u16, headers: Vec<(String, String)>, body: String) -> Self {
        let echo = serde_json::from_str::<EchoJson>(&body).ok().map(|e| {
            let (path, query) = match e.path.split_once('?') {
                Some((p, q)) => (p.to_string(), parse_query(q)),
                None => (e.path.clone(), Vec::new()),
            };
            EchoSeen {
                path,
                query,
                host: e.host,
                method: e.method,
                headers: e.headers,
                namespace: e.namespace,
                service: e.service,
                pod: e.pod,
            }
        });
        Observation {
            status,
            headers,
            body,
            echo,
        }
    }

    /// A response header's values joined with `,`, as the format compares them.
    pub fn header(&self, name: &str) -> Option<String> {
        let values: Vec<&str> = self
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect();
        (!values.is_empty()).then(|| values.join(","))
    }
}

impl EchoSeen {
    /// A request header the backend received, values joined with `,`.
    pub fn header(&self, name: &str) -> Option<String> {
        let values: Vec<&str> = self
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .flat_map(|(_, v)| v.iter().map(String::as_str))
            .collect();
        (!values.is_empty()).then(|| values.join(","))
    }
}

/// Ordered pairs as reports write them: `[{"name": ..., "value": ...}]`.
fn name_value_pairs<S: serde::Serializer>(
    pairs: &[(String, String)],
    s: S,
) -> Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    struct Pair<'a> {
        name: &'a str,
        value: &'a str,
    }
    s.collect_seq(pairs.iter().map(|(name, value)| Pair { name, value }))
}

/// [`name_value_pairs`] read back.
fn pairs_of_names_and_values<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Vec<(String, String)>, D::Error> {
    #[derive(Deserialize)]
    struct Pair {
        name: String,
        value: String,
    }
    let pairs = Vec::<Pair>::deserialize(d)?;
    Ok(pairs.into_iter().map(|p| (p.name, p.value)).collect())
}

fn parse_query(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (
                crate::model::request::percent_decode(k),
                crate::model::request::percent_decode(v),
            )
        })
        .collect()
}
