//! Every repository scenario's map holds exactly one node per listener,
//! route, rule and backend and one edge per attachment, counted here from
//! the manifests and the Gateways' status (`attachedRoutes`), not from the
//! map; the three renderers are read back structurally.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::manifest::Manifest;
use crate::model::compile::Compiled;
use crate::model::lab_gateway;
use crate::model::world::ObjKey;
use crate::route_map::*;

/// What a scenario's map must hold, from its objects and their status.
#[derive(Debug, Default, PartialEq, Eq)]
struct Expected {
    gateways: usize,
    listeners: usize,
    routes: usize,
    rules: usize,
    backends: usize,
    attachments: usize,
}

fn expected(objects: &[Manifest], compiled: &Compiled) -> Expected {
    let routes: Vec<&Manifest> = objects.iter().filter(|m| m.kind == "HTTPRoute").collect();
    // The Gateways drawn: the scenario's own, and the lab's when a route names it.
    let names_lab = routes.iter().any(|r| {
        r.raw["spec"]["parentRefs"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|p| p["name"] == "kong" && p["namespace"] == "kong-system")
    });
    let mut gateways: Vec<Manifest> = objects
        .iter()
        .filter(|m| m.kind == "Gateway")
        .cloned()
        .collect();
    if names_lab {
        gateways.extend(
            lab_gateway::objects()
                .into_iter()
                .filter(|m| m.kind == "Gateway"),
        );
    }
    let rules: Vec<Value> = routes
        .iter()
        .flat_map(|r| match r.raw["spec"]["rules"].as_array() {
            Some(rules) => rules.clone(),
            // The CRD's default: one rule, no backends.
            None => vec![Value::Null],
        })
        .collect();
    let attachments = gateways
        .iter()
        .map(|g| {
            let key = ObjKey::new("Gateway", g.namespace.as_deref().unwrap_or(""), &g.name);
            compiled.status[&key]
                .listeners
                .iter()
                .map(|l| l.attached_routes as usize)
                .sum::<usize>()
        })
        .sum();
    Expected {
        gateways: gateways.len(),
        listeners: gateways
            .iter()
            .map(|g| g.raw["spec"]["listeners"].as_array().map_or(0, Vec::len))
            .sum(),
        routes: routes.len(),
        rules: rules.len(),
        backends: rules
            .iter()
            .map(|r| r["backendRefs"].as_array().map_or(0, Vec::len))
            .sum(),
        attachments,
    }
}

/// The SVG's nodes and edges by class, each node's box per column, after
/// checking that every edge joins two drawn nodes.
fn counted_svg(svg: &str) -> (Expected, Vec<(String, f64, f64)>) {
    let doc = roxmltree::Document::parse(svg).expect("the SVG is well-formed XML");
    let classes = |n: &roxmltree::Node| -> Vec<String> {
        n.attribute("class")
            .unwrap_or("")
            .split_whitespace()
            .map(String::from)
            .collect()
    };
    let nodes: Vec<roxmltree::Node> = doc
        .descendants()
        .filter(|n| n.has_tag_name("g") && classes(n).contains(&"node".to_string()))
        .collect();
    let ids: BTreeSet<&str> = nodes
        .iter()
        .filter_map(|n| n.attribute("data-id"))
        .collect();
    assert_eq!(ids.len(), nodes.len(), "node ids are unique");
    let edges: Vec<roxmltree::Node> = doc
        .descendants()
        .filter(|n| n.has_tag_name("path") && classes(n).contains(&"edge".to_string()))
        .collect();
    for e in &edges {
        for end in ["data-from", "data-to"] {
            assert!(ids.contains(e.attribute(end).unwrap()), "{end} of an edge");
        }
    }
    let nodes_of = |c: &str| {
        nodes
            .iter()
            .filter(|n| classes(n).contains(&c.to_string()))
            .count()
    };
    let edges_of = |c: &str| {
        edges
            .iter()
            .filter(|n| classes(n).contains(&c.to_string()))
            .count()
    };
    let boxes = nodes
        .iter()
        .map(|n| {
            let rect = n.children().find(|c| c.has_tag_name("rect")).unwrap();
            let f = |a: &str| rect.attribute(a).unwrap().parse::<f64>().unwrap();
            (format!("{}", f("x")), f("y"), f("y") + f("height"))
        })
        .collect();
    let counts = Expected {
        gateways: nodes_of("gateway"),
        listeners: nodes_of("listener"),
        routes: nodes_of("route"),
        rules: nodes_of("rule"),
        backends: nodes_of("backend"),
        attachments: edges_of("attachment"),
    };
    assert_eq!(edges_of("has-listener"), counts.listeners);
    assert_eq!(edges_of("has-rule"), counts.rules);
    assert_eq!(edges_of("has-backend"), counts.backends);
    (counts, boxes)
}

/// No two boxes of a column overlap.
fn assert_apart(boxes: &[(String, f64, f64)], name: &str) {
    let mut by_column: BTreeMap<&str, Vec<(f64, f64)>> = BTreeMap::new();
    for (x, top, bottom) in boxes {
        by_column.entry(x).or_default().push((*top, *bottom));
    }
    for column in by_column.values_mut() {
        column.sort_by(|a, b| a.0.total_cmp(&b.0));
        for pair in column.windows(2) {
            assert!(pair[0].1 <= pair[1].0, "{name}: boxes overlap: {pair:?}");
        }
    }
}

/// DOT read back: node statements and edges by their `class` attribute.
fn counted_dot(dot: &str) -> Expected {
    assert!(dot.starts_with("digraph route_map {") && dot.trim_end().ends_with('}'));
    assert_eq!(dot.matches('{').count(), dot.matches('}').count());
    let class_of = |line: &str| {
        line.split("class=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .map(String::from)
    };
    let mut nodes: BTreeMap<String, usize> = BTreeMap::new();
    let mut edges: BTreeMap<String, usize> = BTreeMap::new();
    for line in dot.lines().map(str::trim) {
        let Some(class) = class_of(line) else {
            continue;
        };
        let into = if line.contains("\" -> \"") {
            &mut edges
        } else {
            &mut nodes
        };
        *into.entry(class).or_default() += 1;
    }
    let n = |c: &str| nodes.get(c).copied().unwrap_or(0);
    Expected {
        gateways: n("gateway"),
        listeners: n("listener"),
        routes: n("route"),
        rules: n("rule"),
        backends: n("backend"),
        attachments: edges.get("attachment").copied().unwrap_or(0),
    }
}

/// Mermaid read back: node declarations by id, edges between declared
/// nodes, subgraphs closed.
fn counted_mermaid(text: &str) -> Expected {
    let mut lines = text.lines().map(str::trim);
    assert_eq!(lines.next(), Some("flowchart LR"));
    let mut declared: Vec<String> = Vec::new();
    let mut edges: Vec<(String, String)> = Vec::new();
    let mut open = 0i32;
    for line in lines {
        if line.starts_with("subgraph ") {
            open += 1;
        } else if line == "end" {
            open -= 1;
        } else if let Some((from, to)) = line.split_once(" --> ") {
            edges.push((from.into(), to.into()));
        } else if let Some((id, label)) = line.split_once("[\"") {
            assert!(label.ends_with("\"]") && !label[..label.len() - 2].contains('"'));
            declared.push(id.into());
        }
    }
    assert_eq!(open, 0, "every subgraph ends");
    for (from, to) in &edges {
        assert!(
            declared.contains(from) && declared.contains(to),
            "{from} --> {to}"
        );
    }
    let n = |prefix: &str| declared.iter().filter(|d| d.starts_with(prefix)).count();
    Expected {
        gateways: n("gateway"),
        listeners: n("listener"),
        routes: n("route"),
        rules: n("rule"),
        backends: n("backend"),
        attachments: edges
            .iter()
            .filter(|(f, t)| f.starts_with("listener") && t.starts_with("route"))
            .count(),
    }
}

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// The scenario's objects as brought up on the embedded gateway, its map.
async fn mapped(dir: &Path) -> (Vec<Manifest>, Compiled, RouteMap) {
    let scenario = crate::scenario::load(dir).expect("the scenario loads");
    let (target, deployment) = crate::commands::embedded_deployment(
        &scenario,
        Default::default(),
        None,
        Default::default(),
    )
    .await
    .expect("the scenario comes up");
    let compiled = target.compiled().clone();
    let map = build(&compiled, &deployment.namespace);
    (deployment.applied.clone(), compiled, map)
}

#[tokio::test]
async fn every_scenario_maps_one_node_per_object_and_one_edge_per_attachment() {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(repo("scenarios"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    dirs.push(repo("tests/fixtures/report-showcase"));
    assert!(dirs.len() >= 12, "{dirs:?}");
    for dir in dirs {
        let name = dir.display().to_string();
        let (objects, compiled, map) = mapped(&dir).await;
        let want = expected(&objects, &compiled);
        assert!(want.routes > 0 && want.listeners > 0, "{name}: {want:?}");
        let (svg_counts, boxes) = counted_svg(&svg::render(&map));
        assert_eq!(svg_counts, want, "{name}: SVG");
        assert_apart(&boxes, &name);
        assert_eq!(counted_dot(&dot::render(&map)), want, "{name}: DOT");
        assert_eq!(
            counted_mermaid(&mermaid::render(&map)),
            want,
            "{name}: Mermaid"
        );
    }
}

#[tokio::test]
async fn a_route_no_listener_takes_is_drawn_apart_in_the_failure_colour_with_its_reason() {
    let (_, _, map) = mapped(&repo("tests/fixtures/report-showcase")).await;
    let svg = svg::render(&map);
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let admin = doc
        .descendants()
        .find(|n| {
            n.has_tag_name("g")
                && n.descendants()
                    .any(|t| t.has_tag_name("text") && t.text() == Some("admin"))
        })
        .expect("the admin route is drawn");
    assert_eq!(admin.attribute("class"), Some("node route failed"));
    let texts: Vec<&str> = admin.descendants().filter_map(|t| t.text()).collect();
    assert!(
        texts.contains(&"not attached: NoMatchingParent"),
        "{texts:?}"
    );
    assert!(
        texts.iter().any(|t| t.contains("no listener named admin")),
        "the tooltip has the condition's message: {texts:?}"
    );
    // Below every attached route, inside the dashed frame.
    let top = |g: roxmltree::Node| -> f64 {
        g.children()
            .find(|c| c.has_tag_name("rect"))
            .unwrap()
            .attribute("y")
            .unwrap()
            .parse()
            .unwrap()
    };
    let frame: f64 = doc
        .descendants()
        .find(|n| n.attribute("class") == Some("apart"))
        .and_then(|r| r.attribute("y"))
        .unwrap()
        .parse()
        .unwrap();
    for route in doc
        .descendants()
        .filter(|n| n.attribute("class") == Some("node route"))
    {
        assert!(top(route) < frame && frame < top(admin));
    }
    // DOT and Mermaid put it in a cluster / subgraph of its own.
    let dot = dot::render(&map);
    let cluster = dot.split("subgraph cluster_not_attached").nth(1).unwrap();
    assert!(
        cluster.contains("label=\"admin\\nadmin.example.com\\nnot attached: NoMatchingParent\"")
    );
    let mermaid = mermaid::render(&map);
    let sub = mermaid.split("subgraph not_attached").nth(1).unwrap();
    let id = map.routes.iter().position(|r| r.name == "admin").unwrap();
    assert!(
        sub.contains(&format!("route{id}[\"admin<br/>")),
        "{mermaid}"
    );
    let failed: Vec<&str> = mermaid
        .lines()
        .find_map(|l| l.trim().strip_prefix("class "))
        .and_then(|l| l.strip_suffix(" failed"))
        .expect("a class line for the failed nodes")
        .split(',')
        .collect();
    assert!(failed.contains(&format!("route{id}").as_str()), "{mermaid}");
}

#[test]
fn labels_are_escaped_for_each_format() {
    let map = RouteMap {
        gateways: vec![],
        routes: vec![RouteNode {
            name: "ns/\"q\"<b>#1".into(),
            hostnames: vec![],
            attached: vec![],
            refused: vec![],
            rules: vec![],
        }],
    };
    let svg = svg::render(&map);
    assert!(svg.contains("ns/&quot;q&quot;&lt;b&gt;#1"), "{svg}");
    roxmltree::Document::parse(&svg).unwrap();
    let dot = dot::render(&map);
    assert!(dot.contains("label=\"ns/\\\"q\\\"<b>#1\\n"), "{dot}");
    let mermaid = mermaid::render(&map);
    assert!(
        mermaid.contains("ns/#quot;q#quot;#lt;b#gt;#35;1"),
        "{mermaid}"
    );
    assert!(
        mermaid.contains("not attached: no parent served here"),
        "{mermaid}"
    );
}

#[test]
fn control_characters_in_a_label_keep_every_format_well_formed() {
    // Header and query match values have no pattern in the CRD: a CR or
    // another control character can reach a label.
    let map = RouteMap {
        gateways: vec![],
        routes: vec![RouteNode {
            name: "ns/a\r\u{1}b".into(),
            hostnames: vec![],
            attached: vec![],
            refused: vec![],
            rules: vec![],
        }],
    };
    let svg = svg::render(&map);
    roxmltree::Document::parse(&svg).expect("the SVG stays XML");
    let dot = dot::render(&map);
    assert!(dot.contains("ns/a\u{FFFD}\u{FFFD}b"), "{dot}");
    assert!(!dot.contains('\r') && !dot.contains('\u{1}'), "{dot}");
    let mermaid = mermaid::render(&map);
    assert!(
        !mermaid.contains('\r') && !mermaid.contains('\u{1}'),
        "{mermaid:?}"
    );
}
