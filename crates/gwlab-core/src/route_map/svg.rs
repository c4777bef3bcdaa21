//! The route map as one self-contained SVG: five columns (Gateway, listeners,
//! routes, rules, backends) laid out as a tree, so that each route sits beside
//! its rules and each rule beside its backends; routes no listener took are
//! drawn apart below, in the failure colour. Colours follow the reader's light
//! or dark scheme and print in black on white; no scripts, no fonts fetched.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::{Edge, EdgeKind, Graph, Node, NodeKind, RouteMap};
// An XML escape, not HTML's: `explain --graph svg` prints a document of its
// own, which XML-illegal control characters (possible in match values) break.
use crate::xml::escape as esc;

const WIDTHS: [f64; 5] = [150.0, 185.0, 225.0, 235.0, 215.0];
const HEADS: [&str; 5] = ["Gateway", "listeners", "routes", "rules", "backends"];
const GAP: f64 = 40.0;
const MARGIN: f64 = 10.0;
/// Height of one row of the layout: one box of at most three lines, plus air.
const ROW: f64 = 58.0;
const TOP: f64 = 28.0;
const LINE: f64 = 13.0;
/// Average width of a character at the map's font size, to cut long lines.
const CHAR: f64 = 6.3;

const STYLE: &str = "svg.route-map{max-width:100%;height:auto;--bg:#fff;--fg:#222;--muted:#555;--box:#f3f5f9;--line:#8a94a6;--bad:#c0262d;--badbox:#fde8e8;font-family:system-ui,sans-serif;font-size:11px}\
@media (prefers-color-scheme:dark){svg.route-map{--bg:#1c2128;--fg:#e6e6e6;--muted:#adbac7;--box:#2d333b;--line:#768390;--bad:#ff7b72;--badbox:#3c1f22}}\
@media print{svg.route-map{--bg:#fff;--fg:#000;--muted:#333;--box:#fff;--line:#555;--bad:#a00;--badbox:#fff}}\
svg.route-map rect.bg{fill:var(--bg)}svg.route-map text{fill:var(--fg)}\
svg.route-map text.sub,svg.route-map text.head{fill:var(--muted)}svg.route-map text.name{font-weight:bold}\
svg.route-map .node rect{fill:var(--box);stroke:var(--line);rx:5px}\
svg.route-map path.edge{fill:none;stroke:var(--line);stroke-width:1.3}\
svg.route-map .failed rect{fill:var(--badbox);stroke:var(--bad);stroke-width:2}\
svg.route-map .failed text{fill:var(--bad)}\
svg.route-map rect.apart{fill:none;stroke:var(--bad);stroke-dasharray:5 3}svg.route-map text.apart{fill:var(--bad);font-weight:bold}";

fn column(kind: NodeKind) -> usize {
    match kind {
        NodeKind::Gateway => 0,
        NodeKind::Listener => 1,
        NodeKind::Route => 2,
        NodeKind::Rule => 3,
        NodeKind::Backend => 4,
    }
}

fn column_x(c: usize) -> f64 {
    MARGIN + WIDTHS[..c].iter().map(|w| w + GAP).sum::<f64>()
}

/// Where each node goes: its row (a centre, in rows from the top) and where
/// the routes drawn apart begin.
struct Layout<'g> {
    graph: &'g Graph,
    rows: BTreeMap<&'g str, f64>,
    cursor: f64,
}

impl<'g> Layout<'g> {
    fn children(&self, id: &str, kind: EdgeKind) -> Vec<&'g str> {
        self.graph
            .edges
            .iter()
            .filter(|e| e.from == id && e.kind == kind)
            .map(|e| e.to.as_str())
            .collect()
    }

    /// Places a node after its children (a route's rules, a rule's
    /// backends), centred on them; a leaf takes the next row.
    fn place(&mut self, id: &'g str) {
        let children: Vec<&'g str> = self
            .graph
            .edges
            .iter()
            .filter(|e| e.from == id && matches!(e.kind, EdgeKind::Rule | EdgeKind::Backend))
            .map(|e| e.to.as_str())
            .collect();
        self.centre_on(id, &children);
    }

    fn centre_on(&mut self, id: &'g str, children: &[&'g str]) {
        for c in children {
            self.place(c);
        }
        let row = match (children.first(), children.last()) {
            (Some(a), Some(b)) => (self.rows[a] + self.rows[b]) / 2.0,
            _ => {
                self.cursor += 1.0;
                self.cursor - 0.5
            }
        };
        self.rows.insert(id, row);
    }

    /// The route's first attachment is to this listener.
    fn first_listener(&self, route: &str) -> Option<&'g str> {
        self.graph
            .edges
            .iter()
            .find(|e| e.to == route && e.kind == EdgeKind::Attachment)
            .map(|e| e.from.as_str())
    }
}

pub fn render(map: &RouteMap) -> String {
    let graph = map.graph();
    let mut layout = Layout {
        graph: &graph,
        rows: BTreeMap::new(),
        cursor: 0.0,
    };
    for gw in graph.nodes.iter().filter(|n| n.kind == NodeKind::Gateway) {
        let listeners = layout.children(&gw.id, EdgeKind::Listener);
        for l in &listeners {
            let routes: Vec<&str> = graph
                .nodes
                .iter()
                .filter(|n| n.kind == NodeKind::Route && layout.first_listener(&n.id) == Some(*l))
                .map(|n| n.id.as_str())
                .collect();
            layout.centre_on(l, &routes);
        }
        let row = match (listeners.first(), listeners.last()) {
            (Some(a), Some(b)) => (layout.rows[a] + layout.rows[b]) / 2.0,
            _ => {
                layout.cursor += 1.0;
                layout.cursor - 0.5
            }
        };
        layout.rows.insert(&gw.id, row);
    }
    let apart_from = layout.cursor;
    let apart: Vec<&Node> = graph
        .nodes
        .iter()
        .filter(|n| n.kind == NodeKind::Route && n.apart)
        .collect();
    if !apart.is_empty() {
        // Room for the "not attached" label above the routes drawn apart.
        layout.cursor += 0.5;
        for r in &apart {
            layout.place(&r.id);
        }
    }
    // Routes whose listener the map does not show (none, as built): still drawn.
    for n in &graph.nodes {
        if n.kind == NodeKind::Route && !layout.rows.contains_key(n.id.as_str()) {
            layout.place(&n.id);
        }
    }
    let rows = layout.rows;
    let width = column_x(5) - GAP + MARGIN;
    let height = TOP + ROW * layout.cursor.max(1.0) + MARGIN;
    let mut out = String::new();
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"route-map\" role=\"img\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\"><title>{}</title><style>{STYLE}</style><rect class=\"bg\" width=\"{width}\" height=\"{height}\"/>",
        esc(&summary(&graph))
    );
    for (c, head) in HEADS.iter().enumerate() {
        let _ = write!(
            out,
            "<text class=\"head\" x=\"{:.1}\" y=\"16\">{head}</text>",
            column_x(c)
        );
    }
    if !apart.is_empty() {
        let y = TOP + ROW * apart_from + 4.0;
        let x = column_x(2) - 8.0;
        let _ = write!(
            out,
            "<rect class=\"apart\" x=\"{x:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{:.1}\"/><text class=\"apart\" x=\"{:.1}\" y=\"{:.1}\">not attached to any listener</text>",
            width - x - MARGIN / 2.0,
            ROW * (layout.cursor - apart_from) - 6.0,
            x + 6.0,
            y + 16.0
        );
    }
    let centre = |id: &str| TOP + ROW * rows[id];
    let kind_of: BTreeMap<&str, NodeKind> = graph
        .nodes
        .iter()
        .map(|n| (n.id.as_str(), n.kind))
        .collect();
    for e in &graph.edges {
        out.push_str(&edge(e, &kind_of, &centre));
    }
    for n in &graph.nodes {
        out.push_str(&node(n, centre(&n.id)));
    }
    out.push_str("</svg>");
    out
}

/// The map's title: what it holds, in numbers.
fn summary(g: &Graph) -> String {
    let count = |k: NodeKind| g.nodes.iter().filter(|n| n.kind == k).count();
    let apart = g
        .nodes
        .iter()
        .filter(|n| n.kind == NodeKind::Route && n.apart)
        .count();
    format!(
        "route map: {}, {}, {} ({apart} not attached), {}, {}",
        crate::diag::counted(count(NodeKind::Gateway), "Gateway"),
        crate::diag::counted(count(NodeKind::Listener), "listener"),
        crate::diag::counted(count(NodeKind::Route), "route"),
        crate::diag::counted(count(NodeKind::Rule), "rule"),
        crate::diag::counted(count(NodeKind::Backend), "backend")
    )
}

fn box_height(lines: usize) -> f64 {
    12.0 + LINE * lines as f64
}

fn edge(e: &Edge, kind_of: &BTreeMap<&str, NodeKind>, centre: &dyn Fn(&str) -> f64) -> String {
    let (from, to) = (
        column(kind_of[e.from.as_str()]),
        column(kind_of[e.to.as_str()]),
    );
    let (x1, y1) = (column_x(from) + WIDTHS[from], centre(&e.from));
    let (x2, y2) = (column_x(to), centre(&e.to));
    let mid = (x1 + x2) / 2.0;
    format!(
        "<path class=\"edge {}\" data-from=\"{}\" data-to=\"{}\" d=\"M{x1:.1} {y1:.1}C{mid:.1} {y1:.1},{mid:.1} {y2:.1},{x2:.1} {y2:.1}\"/>",
        e.kind.class(),
        esc(&e.from),
        esc(&e.to)
    )
}

fn node(n: &Node, centre: f64) -> String {
    let c = column(n.kind);
    let (x, w) = (column_x(c), WIDTHS[c]);
    let h = box_height(n.lines.len());
    let top = centre - h / 2.0;
    let mut out = format!(
        "<g class=\"node {}{}\" data-id=\"{}\"><title>{}</title><rect x=\"{x:.1}\" y=\"{top:.1}\" width=\"{w}\" height=\"{h:.1}\"/>",
        n.kind.class(),
        if n.failed { " failed" } else { "" },
        esc(&n.id),
        esc(&n.title)
    );
    let fits = ((w - 12.0) / CHAR) as usize;
    for (i, line) in n.lines.iter().enumerate() {
        let _ = write!(
            out,
            "<text class=\"{}\" x=\"{:.1}\" y=\"{:.1}\">{}</text>",
            if i == 0 { "name" } else { "sub" },
            x + 6.0,
            top + 6.0 + LINE * (i as f64 + 1.0) - 2.0,
            esc(&shortened(line, fits))
        );
    }
    out.push_str("</g>");
    out
}

/// At most `fits` characters, the cut marked with an ellipsis (the tooltip has it all).
fn shortened(s: &str, fits: usize) -> String {
    if s.chars().count() <= fits {
        return s.to_string();
    }
    let mut out: String = s.chars().take(fits.saturating_sub(1)).collect();
    out.push('…');
    out
}
