//! Which scenarios may run side by side (the scenario format, "Namespaces"): not
//! two whose routes on one Gateway share a hostname (or where either has a
//! catch-all route there), nor two that write the same explicit namespace.
//! And `--shard I/N`: a deterministic share of a scenario set.

use std::collections::BTreeSet;

use crate::manifest::Object;
use crate::model::hostname;
use crate::model::lab_gateway;
use crate::scenario::Scenario;

/// What a scenario occupies that others could see.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Footprint {
    /// (Gateway `namespace/name`, hostname or `None` for a catch-all route).
    pub routes: BTreeSet<(String, Option<String>)>,
    /// Namespaces named explicitly (not the scenario's own).
    pub namespaces: BTreeSet<String>,
}

pub(crate) fn footprint(s: &Scenario) -> Footprint {
    let mut f = Footprint::default();
    for b in &s.backends {
        if let Some(ns) = &b.namespace {
            f.namespaces.insert(ns.clone());
        }
    }
    for m in s.all_objects() {
        if let Some(ns) = &m.namespace {
            f.namespaces.insert(ns.clone());
        }
        let Object::HttpRoute(r) = &m.object else {
            continue;
        };
        for p in &r.spec.parent_refs {
            // A Gateway in the scenario's own namespace is the scenario's alone.
            let gw_ns = match (&p.value.namespace, &m.namespace) {
                (Some(ns), _) | (None, Some(ns)) => ns.clone(),
                (None, None) => continue,
            };
            let gateway = format!("{gw_ns}/{}", p.value.name);
            if r.spec.hostnames.is_empty() {
                f.routes.insert((gateway.clone(), None));
            }
            for h in r.spec.hostname_values() {
                f.routes.insert((gateway.clone(), Some(h)));
            }
        }
    }
    // The lab's own namespace is shared by everyone; writing into it is not.
    f.namespaces.remove(lab_gateway::GATEWAY_NAMESPACE);
    f
}

/// Why two scenarios must not overlap, if they must not.
pub fn conflict(a: &Footprint, b: &Footprint) -> Option<String> {
    if let Some(ns) = a.namespaces.intersection(&b.namespaces).next() {
        return Some(format!("both write namespace {ns}"));
    }
    for (ga, ha) in &a.routes {
        for (gb, hb) in &b.routes {
            if ga != gb {
                continue;
            }
            match (ha, hb) {
                (None, _) | (_, None) => {
                    return Some(format!("a route without hostnames on Gateway {ga}"));
                }
                (Some(x), Some(y)) if overlap(x, y) => {
                    return Some(format!("hostnames {x} and {y} on Gateway {ga}"));
                }
                _ => {}
            }
        }
    }
    None
}

/// Whether two scenarios write a namespace in common.
pub(crate) fn shares_namespace(a: &Footprint, b: &Footprint) -> bool {
    a.namespaces.intersection(&b.namespaces).next().is_some()
}

fn overlap(a: &str, b: &str) -> bool {
    hostname::intersect(Some(a), b).is_some()
}

/// Why a `--shard` value is not `I/N`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ShardError {
    #[error("`{0}`: write I/N, e.g. 1/3")]
    NoSlash(String),
    #[error("`{text}` is not a number")]
    NotANumber {
        text: String,
        #[source]
        source: std::num::ParseIntError,
    },
    #[error("`{0}`: N, the number of shards, must be at least 1")]
    NoShards(String),
    #[error("`{given}`: I must be 1 to {n}")]
    OutOfRange { given: String, n: u32 },
}

/// `--shard I/N` (I from 1): parsed and checked.
pub(crate) fn parse_shard(s: &str) -> Result<(u32, u32), ShardError> {
    let (i, n) = s
        .split_once('/')
        .ok_or_else(|| ShardError::NoSlash(s.to_string()))?;
    let number = |text: &str| {
        text.parse::<u32>()
            .map_err(|source| ShardError::NotANumber {
                text: text.to_string(),
                source,
            })
    };
    let (i, n) = (number(i)?, number(n)?);
    if n == 0 {
        return Err(ShardError::NoShards(s.to_string()));
    }
    if i == 0 || i > n {
        return Err(ShardError::OutOfRange {
            given: s.to_string(),
            n,
        });
    }
    Ok((i, n))
}

/// Shard `i` of `n` of a scenario set: the scenarios in the order of their
/// names, dealt out one by one, so that shards differ in size by one at
/// most and every scenario is in exactly one (every shard of a run must see
/// the same set).
pub(crate) fn shard(mut scenarios: Vec<Scenario>, i: u32, n: u32) -> Vec<Scenario> {
    scenarios.sort_by(|a, b| a.name.cmp(&b.name));
    scenarios
        .into_iter()
        .enumerate()
        .filter(|(k, _)| *k as u64 % n as u64 == (i - 1) as u64)
        .map(|(_, s)| s)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fp(routes: &[(&str, Option<&str>)], namespaces: &[&str]) -> Footprint {
        Footprint {
            routes: routes
                .iter()
                .map(|(g, h)| (g.to_string(), h.map(String::from)))
                .collect(),
            namespaces: namespaces.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn shared_hostnames_on_one_gateway_conflict() {
        let a = fp(&[("kong-system/kong", Some("a.example.com"))], &[]);
        let b = fp(&[("kong-system/kong", Some("*.example.com"))], &[]);
        let c = fp(&[("kong-system/kong", Some("b.example.org"))], &[]);
        let d = fp(&[("other/gw", Some("a.example.com"))], &[]);
        assert!(
            conflict(&a, &b)
                .unwrap()
                .contains("a.example.com and *.example.com")
        );
        assert_eq!(conflict(&a, &c), None);
        assert_eq!(conflict(&a, &d), None, "another Gateway");
    }

    #[test]
    fn catch_all_routes_and_shared_namespaces_conflict() {
        let all = fp(&[("kong-system/kong", None)], &[]);
        let a = fp(&[("kong-system/kong", Some("a.example.com"))], &[]);
        assert!(conflict(&all, &a).unwrap().contains("without hostnames"));
        let n1 = fp(&[], &["shared"]);
        let n2 = fp(&[], &["shared", "x"]);
        assert!(conflict(&n1, &n2).unwrap().contains("shared"));
    }

    #[test]
    fn repository_scenarios_footprints() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
        let load = |n: &str| crate::scenario::load(&dir.join(n)).unwrap();
        let redirect = footprint(&load("redirect"));
        assert!(
            redirect
                .routes
                .contains(&("kong-system/kong".into(), Some("imprun.dev".into())))
        );
        assert!(redirect.namespaces.contains("imprun-system"));
        let canary = footprint(&load("canary"));
        assert_eq!(
            canary.routes,
            [(
                "kong-system/kong".to_string(),
                Some("canary.example.com".to_string())
            )]
            .into()
        );
        assert!(
            canary.namespaces.is_empty(),
            "the scenario's own namespace is not shared"
        );
        assert_eq!(conflict(&redirect, &canary), None);
        let cross = footprint(&load("cross-namespace"));
        assert_eq!(conflict(&redirect, &cross), None);
        assert!(
            conflict(&cross, &cross).is_some(),
            "a scenario with explicit namespaces never overlaps a copy of itself"
        );
    }

    #[test]
    fn shards_are_dealt_by_count_and_cover_every_scenario_once() {
        let names = ["c", "a", "b"];
        let scenarios = || -> Vec<Scenario> {
            names
                .iter()
                .map(|n| Scenario {
                    dir: n.into(),
                    file: format!("{n}/scenario.yaml").into(),
                    name: n.to_string(),
                    description: None,
                    tags: vec![],
                    features: vec![],
                    backends: vec![],
                    manifests: vec![],
                    initial: vec![],
                    steps: vec![],
                    timeouts: crate::scenario::Timeouts {
                        conditions: std::time::Duration::ZERO,
                        probes: std::time::Duration::ZERO,
                    },
                    gateway_api: Default::default(),
                })
                .collect()
        };
        let of = |i, n| -> Vec<String> {
            shard(scenarios(), i, n)
                .into_iter()
                .map(|s| s.name)
                .collect()
        };
        assert_eq!(of(1, 2), ["a", "c"]);
        assert_eq!(of(2, 2), ["b"]);
        assert_eq!(of(3, 3), ["c"]);
        assert!(of(4, 4).is_empty());
        assert_eq!(parse_shard("2/3").unwrap(), (2, 3));
        assert_eq!(
            parse_shard("1/0").unwrap_err().to_string(),
            "`1/0`: N, the number of shards, must be at least 1"
        );
        assert_eq!(
            parse_shard("4/3").unwrap_err().to_string(),
            "`4/3`: I must be 1 to 3"
        );
        assert!(parse_shard("0/3").is_err() && parse_shard("x").is_err());
    }
}
