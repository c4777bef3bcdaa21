//! `gwlab migrate --compare`: the generated scenario run twice on the lab,
//! once against the original Ingress objects (with their KongPlugins) and once
//! against the converted HTTPRoutes, and a table per probe of what each
//! answered. Only Kong serves the original, so the comparison needs the lab.

use std::collections::BTreeMap;

use crate::manifest::Manifest;
use crate::migrate::scenario::ProbeOut;
use crate::scenario::ExpectSpec;

/// The file the original objects are written to in the original's scenario.
pub const ORIGINAL_FILE: &str = "original.yaml";

/// The objects the original's scenario applies: the Ingresses and the Kong
/// plugins they use. Services are left out: the scenario's echo backends are
/// Services of the same names.
pub fn original_objects(objects: &[Manifest]) -> Vec<&serde_json::Value> {
    objects
        .iter()
        .filter(|m| {
            matches!(
                (m.api_version.as_str(), m.kind.as_str()),
                ("networking.k8s.io/v1", "Ingress") | (_, "KongPlugin") | (_, "KongClusterPlugin")
            )
        })
        .map(|m| &m.raw)
        .collect()
}

/// What the original answers to a probe as the generated scenario states
/// it: the probe's expectation, in the words of the answers (a part the
/// expectation leaves open is `*`).
pub fn expected_answer(e: &ExpectSpec) -> String {
    let status = e.status.map_or("*".to_string(), |s| s.to_string());
    if let Some(r) = &e.redirect {
        let scheme = r.scheme.as_deref().unwrap_or("*");
        let port = r
            .port
            .filter(|p| !matches!((scheme, p), ("http", 80) | ("https", 443)))
            .map(|p| format!(":{p}"))
            .unwrap_or_default();
        let query = r
            .query
            .as_deref()
            .filter(|q| !q.is_empty())
            .map(|q| format!("?{q}"))
            .unwrap_or_default();
        return format!(
            "{status} → {scheme}://{}{port}{}{query}",
            r.host.as_deref().unwrap_or("*"),
            r.path.as_deref().unwrap_or("/*")
        );
    }
    if let Some(l) = e
        .headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("location"))
    {
        return format!("{status} → {}", l.1);
    }
    match &e.backend {
        Some(b) => {
            let path = e
                .backend_request
                .as_ref()
                .and_then(|r| r.path.as_deref())
                .unwrap_or("*");
            format!("{status} from {b} ({path})")
        }
        None => status,
    }
}

/// The rows of a prediction: the original's answers as the scenario states
/// them, the new route's as it ran; the same when its probe passed (each
/// probe states the original's answer).
pub fn predicted_rows(
    probes: &[ProbeOut],
    passed: &BTreeMap<String, bool>,
    converted: &BTreeMap<String, String>,
) -> Vec<Row> {
    probes
        .iter()
        .map(|p| Row {
            probe: p.name.clone(),
            original: expected_answer(&p.expect),
            route: converted
                .get(&p.name)
                .cloned()
                .unwrap_or_else(|| "not run".into()),
            same: passed.get(&p.name).copied().unwrap_or(false),
        })
        .collect()
}

/// One probe's row of the table: what the original and the new route answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub probe: String,
    pub original: String,
    pub route: String,
    /// Both answered, alike. A probe one run did not report is never the same.
    pub same: bool,
}

/// One row per probe (in the scenario's order): the original's answer, the
/// new route's, and whether they are the same.
pub fn rows(
    probes: &[String],
    original: &BTreeMap<String, String>,
    converted: &BTreeMap<String, String>,
) -> Vec<Row> {
    probes
        .iter()
        .map(|p| {
            let (o, c) = (original.get(p), converted.get(p));
            let missing = || "not run".to_string();
            Row {
                probe: p.clone(),
                same: o.is_some() && o == c,
                original: o.cloned().unwrap_or_else(missing),
                route: c.cloned().unwrap_or_else(missing),
            }
        })
        .collect()
}

/// The rows as an aligned text table with a header line.
pub fn table(rows: &[Row]) -> String {
    let cells: Vec<[String; 4]> = rows
        .iter()
        .map(|r| {
            let same = if r.same { "same" } else { "DIFFERENT" };
            [
                r.probe.clone(),
                r.original.clone(),
                r.route.clone(),
                same.into(),
            ]
        })
        .collect();
    let head = [
        "probe".to_string(),
        "original (Ingress)".into(),
        "new route (HTTPRoute)".into(),
        String::new(),
    ];
    let widths: Vec<usize> = (0..4)
        .map(|i| {
            cells
                .iter()
                .chain(std::iter::once(&head))
                .map(|r| r[i].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |r: &[String; 4]| {
        let cells: Vec<String> = r
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        format!("{}\n", cells.join("  ").trim_end())
    };
    std::iter::once(&head).chain(&cells).map(line).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_says_same_or_different_per_probe() {
        let probes = vec!["a".to_string(), "b".into(), "c".into()];
        let o = BTreeMap::from([
            ("a".into(), "301 → https://x/".into()),
            ("b".into(), "200".into()),
        ]);
        let n = BTreeMap::from([
            ("a".into(), "301 → https://x/?item=42".into()),
            ("b".into(), "200".into()),
        ]);
        let r = rows(&probes, &o, &n);
        assert_eq!(
            r.iter().map(|r| r.same).collect::<Vec<_>>(),
            [false, true, false]
        );
        // Two runs that both missed a probe do not agree on it.
        let none = rows(&probes, &BTreeMap::new(), &BTreeMap::new());
        assert!(none.iter().all(|r| !r.same && r.original == "not run"));
        let t = table(&r);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines.len(), 4, "{t}");
        assert!(
            lines[1].starts_with("a ") && lines[1].ends_with("DIFFERENT"),
            "{t}"
        );
        assert!(lines[2].ends_with("same"), "{t}");
        // A probe one run did not report is never "same".
        assert!(
            lines[3].contains("not run") && lines[3].ends_with("DIFFERENT"),
            "{t}"
        );
    }

    #[test]
    fn the_original_is_its_ingresses_and_plugins_without_services() {
        let text = "apiVersion: v1\nkind: Service\nmetadata: {name: app}\n---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: i}\n---\napiVersion: configuration.konghq.com/v1\nkind: KongPlugin\nmetadata: {name: p}\nplugin: redirect\n";
        let objects = crate::manifest::parse_text(std::path::Path::new("x.yaml"), text).unwrap();
        let kept: Vec<&str> = original_objects(&objects)
            .iter()
            .map(|v| v["kind"].as_str().unwrap())
            .collect();
        assert_eq!(kept, ["Ingress", "KongPlugin"]);
    }
}
