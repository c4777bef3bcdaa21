//! The route map as a Mermaid flowchart (GitHub renders it in Markdown):
//! left to right, routes no listener took in a subgraph of their own, failures
//! in the failure colour.

use std::fmt::Write;

use super::{Graph, Node, RouteMap};

pub fn render(map: &RouteMap) -> String {
    let Graph { nodes, edges } = map.graph();
    let mut out = String::from("flowchart LR\n");
    for n in nodes.iter().filter(|n| !n.apart) {
        let _ = writeln!(out, "  {}", node(n));
    }
    if nodes.iter().any(|n| n.apart) {
        out.push_str("  subgraph not_attached[\"not attached to any listener\"]\n");
        for n in nodes.iter().filter(|n| n.apart) {
            let _ = writeln!(out, "    {}", node(n));
        }
        out.push_str("  end\n");
    }
    for e in &edges {
        let _ = writeln!(out, "  {} --> {}", e.from, e.to);
    }
    out.push_str("  classDef failed fill:#fde8e8,stroke:#c0262d,stroke-width:2px,color:#c0262d\n");
    if nodes.iter().any(|n| n.apart) {
        out.push_str("  style not_attached stroke:#c0262d,stroke-dasharray:5 3\n");
    }
    let failed: Vec<&str> = nodes
        .iter()
        .filter(|n| n.failed)
        .map(|n| n.id.as_str())
        .collect();
    if !failed.is_empty() {
        let _ = writeln!(out, "  class {} failed", failed.join(","));
    }
    out
}

fn node(n: &Node) -> String {
    let lines: Vec<String> = n.lines.iter().map(|l| text(l)).collect();
    format!("{}[\"{}\"]", n.id, lines.join("<br/>"))
}

/// Label text Mermaid shows as written: its entity codes for the characters
/// that would end the label or be read as markup.
fn text(s: &str) -> String {
    let mut out = String::new();
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("#quot;"),
            '#' => out.push_str("#35;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '&' => out.push_str("#amp;"),
            // A line break ends a Mermaid statement mid-label.
            c if c.is_control() => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}
