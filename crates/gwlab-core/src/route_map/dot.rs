//! The route map in Graphviz DOT (`dot -Tsvg`), left to right; routes no
//! listener took sit in a dashed cluster of their own, in the failure colour.

use std::fmt::Write;

use super::{Graph, Node, RouteMap};

const FAILED: &str = "#c0262d";

pub fn render(map: &RouteMap) -> String {
    let Graph { nodes, edges } = map.graph();
    let mut out = String::from(
        "digraph route_map {\n  rankdir=LR;\n  graph [fontname=\"sans-serif\", fontsize=11];\n  node [shape=box, style=\"rounded,filled\", fillcolor=\"#f3f5f9\", fontname=\"sans-serif\", fontsize=10];\n  edge [color=\"#8a94a6\"];\n",
    );
    for n in nodes.iter().filter(|n| !n.apart) {
        let _ = writeln!(out, "  {}", node(n));
    }
    if nodes.iter().any(|n| n.apart) {
        let _ = writeln!(
            out,
            "  subgraph cluster_not_attached {{\n    label=\"not attached to any listener\";\n    style=dashed;\n    color=\"{FAILED}\";\n    fontcolor=\"{FAILED}\";"
        );
        for n in nodes.iter().filter(|n| n.apart) {
            let _ = writeln!(out, "    {}", node(n));
        }
        out.push_str("  }\n");
    }
    for e in &edges {
        let _ = writeln!(
            out,
            "  {} -> {} [class=\"{}\"];",
            quoted(&e.from),
            quoted(&e.to),
            e.kind.class()
        );
    }
    out.push_str("}\n");
    out
}

fn node(n: &Node) -> String {
    let mut attrs = format!(
        "label={}, tooltip={}, class=\"{}\"",
        quoted(&n.lines.join("\n")),
        quoted(&n.title),
        n.kind.class()
    );
    if n.failed {
        let _ = write!(
            attrs,
            ", color=\"{FAILED}\", fontcolor=\"{FAILED}\", fillcolor=\"#fde8e8\", penwidth=2"
        );
    }
    format!("{} [{attrs}];", quoted(&n.id))
}

/// A DOT string: quotes and backslashes escaped, newlines as `\n`.
fn quoted(s: &str) -> String {
    let mut out = String::from("\"");
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            // A raw CR or other control character would end or garble the
            // string for Graphviz; match values may hold them.
            c if c.is_control() => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
