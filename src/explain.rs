//! `gwlab explain`: why a request gets the answer it gets, from the model's own
//! evaluation: the listener, every candidate match with why it won or lost, the
//! filters, the backend shares, and how each route attached.

use serde::Serialize;

use crate::model::compile::{BackendTarget, Compiled};
use crate::model::evaluate::{self, Outcome};
use crate::model::request::RequestHead;
use crate::model::status::find;
use crate::targets::GatewayRef;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Explanation {
    pub request: RequestHead,
    pub gateway: String,
    pub port: u16,
    pub listener: Option<String>,
    pub candidates: Vec<CandidateView>,
    pub filters: Vec<String>,
    pub outcome: OutcomeView,
    pub attachments: Vec<Attachment>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CandidateView {
    pub route: String,
    pub rule: usize,
    #[serde(rename = "match")]
    pub match_index: usize,
    /// `won`, `lost` (matches but ranks lower) or `no match`.
    pub verdict: String,
    pub why: String,
    pub precedence: evaluate::Precedence,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OutcomeView {
    pub status: Option<u16>,
    pub summary: String,
    pub location: Option<String>,
    pub backends: Vec<BackendShare>,
    /// The request as forwarded, after the rule's filters.
    pub forwarded: Option<RequestHead>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BackendShare {
    pub backend: String,
    pub weight: u32,
    pub percent: f64,
    /// What that share of traffic gets.
    pub result: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Attachment {
    pub route: String,
    pub parent: String,
    pub section: Option<String>,
    pub accepted: String,
    pub resolved_refs: String,
}

fn condition_text(c: Option<&crate::model::status::Condition>) -> String {
    match c {
        None => "unknown".into(),
        Some(c) if c.message.is_empty() => format!("{} ({})", c.status, c.reason),
        Some(c) => format!("{} ({}: {})", c.status, c.reason, c.message),
    }
}

pub fn explain(
    compiled: &Compiled,
    gw: &GatewayRef,
    port: u16,
    req: RequestHead,
) -> Result<Explanation, String> {
    let table = compiled.gateway(&gw.namespace, &gw.name).ok_or_else(|| {
        format!("Gateway {gw} is not in the scenario (nor the lab Gateway kong-system/kong)")
    })?;
    let ev = evaluate::evaluate(table, port, &req);
    let winner = ev.winner.map(|i| ev.candidates[i].precedence.clone());
    let candidates = ev
        .candidates
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let (verdict, why) = match (&c.mismatch, &winner) {
                (Some(m), _) => ("no match", m.clone()),
                (None, Some(_)) if Some(i) == ev.winner => (
                    "won",
                    "highest precedence among the matching rules".to_string(),
                ),
                (None, Some(w)) => ("lost", c.precedence.lost_to(w)),
                (None, None) => ("lost", String::new()),
            };
            CandidateView {
                route: c.route.clone(),
                rule: c.rule,
                match_index: c.match_index,
                verdict: verdict.into(),
                why,
                precedence: c.precedence.clone(),
            }
        })
        .collect();
    let outcome = match &ev.outcome {
        Outcome::NotFound { why } => OutcomeView {
            status: Some(404),
            summary: format!("404: {why}"),
            location: None,
            backends: vec![],
            forwarded: None,
        },
        Outcome::ServerError { why } => OutcomeView {
            status: Some(500),
            summary: format!("500: {why}"),
            location: None,
            backends: vec![],
            forwarded: None,
        },
        Outcome::Redirect {
            status, location, ..
        } => OutcomeView {
            status: Some(*status),
            summary: format!("{status} redirect to {location}"),
            location: Some(location.clone()),
            backends: vec![],
            forwarded: None,
        },
        Outcome::Forward(f) => {
            let total: u32 = f.backends.iter().map(|b| b.weight).sum();
            let backends: Vec<BackendShare> = f
                .backends
                .iter()
                .map(|b| BackendShare {
                    backend: b.display.clone(),
                    weight: b.weight,
                    percent: if total == 0 {
                        0.0
                    } else {
                        100.0 * b.weight as f64 / total as f64
                    },
                    result: match &b.target {
                        _ if b.weight == 0 => "no traffic (weight 0)".into(),
                        BackendTarget::Echo { namespace, name } => {
                            format!("answered by echo backend {namespace}/{name}")
                        }
                        BackendTarget::NoEndpoints { namespace, name } => format!(
                            "503: Service {namespace}/{name} has no echo backend behind it here"
                        ),
                        BackendTarget::Invalid { reason, message } => {
                            format!("500: {reason}: {message}")
                        }
                    },
                })
                .collect();
            let all_echo = f
                .backends
                .iter()
                .filter(|b| b.weight > 0)
                .all(|b| matches!(b.target, BackendTarget::Echo { .. }));
            let summary = if backends.iter().filter(|b| b.weight > 0).count() == 1 {
                let b = backends
                    .iter()
                    .find(|b| b.weight > 0)
                    .expect("one backend with weight");
                format!("forwarded to {}: {}", b.backend, b.result)
            } else {
                format!(
                    "forwarded to one of {} backends by weight{}",
                    backends.iter().filter(|b| b.weight > 0).count(),
                    if all_echo { "" } else { " (some shares fail)" }
                )
            };
            OutcomeView {
                status: None,
                summary,
                location: None,
                backends,
                forwarded: Some(f.request.clone()),
            }
        }
    };
    let mut attachments = Vec::new();
    for (key, st) in &compiled.status {
        if key.kind != "HTTPRoute" {
            continue;
        }
        for p in &st.parents {
            attachments.push(Attachment {
                route: format!("{}/{}", key.namespace, key.name),
                parent: p.parent.clone(),
                section: p.section_name.clone(),
                accepted: condition_text(find(&p.conditions, "Accepted")),
                resolved_refs: condition_text(find(&p.conditions, "ResolvedRefs")),
            });
        }
    }
    Ok(Explanation {
        request: req,
        gateway: gw.to_string(),
        port,
        listener: ev.listener.clone(),
        candidates,
        filters: ev.filters_applied.clone(),
        outcome,
        attachments,
    })
}

pub fn render_text(e: &Explanation) -> String {
    let mut out = Vec::new();
    let r = &e.request;
    out.push(format!(
        "request:  {} {}://{}{} (Gateway {}, port {})",
        r.method,
        r.scheme,
        r.host,
        r.target(),
        e.gateway,
        e.port
    ));
    out.push(format!(
        "listener: {}",
        e.listener
            .as_deref()
            .unwrap_or("none accepts this host on this port")
    ));
    if e.candidates.is_empty() {
        out.push("candidates: none (no route is attached to this listener)".into());
    } else {
        out.push("candidates, in precedence order:".into());
        for c in &e.candidates {
            let p = &c.precedence;
            let traits = format!(
                "hostname {}/{}, {}, method {}, headers {}, query {}, age #{}",
                p.hostname.0,
                p.hostname.1,
                if p.exact_path {
                    "Exact path".to_string()
                } else {
                    format!("prefix {} chars", p.prefix_len)
                },
                if p.method { "yes" } else { "no" },
                p.headers,
                p.query,
                p.created
            );
            out.push(format!(
                "  {:<8} {} rule {} match {}: {}",
                c.verdict.to_uppercase(),
                c.route,
                c.rule,
                c.match_index,
                c.why
            ));
            out.push(format!("           ({traits})"));
        }
    }
    if !e.filters.is_empty() {
        out.push("filters, in order:".into());
        for f in &e.filters {
            out.push(format!("  {f}"));
        }
    }
    out.push(format!("outcome:  {}", e.outcome.summary));
    if e.outcome.backends.len() > 1 || e.outcome.backends.iter().any(|b| b.weight != 1) {
        for b in &e.outcome.backends {
            out.push(format!(
                "  {:>5.1}%  {} (weight {}): {}",
                b.percent, b.backend, b.weight, b.result
            ));
        }
    }
    if let Some(f) = &e.outcome.forwarded {
        out.push(format!(
            "forwarded request: {} {}{} host {}",
            f.method,
            f.path,
            f.query
                .as_ref()
                .map(|q| format!("?{q}"))
                .unwrap_or_default(),
            f.host
        ));
    }
    if !e.attachments.is_empty() {
        out.push("route attachment:".into());
        for a in &e.attachments {
            let section = a
                .section
                .as_ref()
                .map(|s| format!(" section {s}"))
                .unwrap_or_default();
            out.push(format!(
                "  {} → {}{section}: Accepted {}, ResolvedRefs {}",
                a.route, a.parent, a.accepted, a.resolved_refs
            ));
        }
    }
    out.join("\n") + "\n"
}
