//! `gwlab explain`: why a request gets the answer it gets, from the model's own
//! evaluation: the listener, every candidate match with why it won or lost, the
//! filters, the backend shares, and how each route attached.

use serde::Serialize;

use crate::model::GatewayRef;
use crate::model::compile::{Backend, BackendTarget, Compiled};
use crate::model::evaluate::{self, Evaluation, Forward, Outcome};
use crate::model::request::RequestHead;
use crate::model::status::find;

#[derive(Debug, Clone, Serialize, serde::Deserialize)]
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
    /// `--as`'s name of the implementation that answered (`spec`, `kong-3.9`).
    pub implementation: String,
    /// Where that implementation's answer differs from the spec's, and why.
    pub deviations: Vec<DeviationView>,
}

/// A known deviation that changed the answer.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct DeviationView {
    pub id: String,
    /// `known KIC behaviour on Kong < 3.9: … [id; source]`.
    pub said: String,
    pub spec: String,
    pub kong: String,
    pub sources: Vec<String>,
    /// The scenario of gwlab's repository that shows it.
    pub scenario: String,
}

impl DeviationView {
    pub fn of(d: &crate::implementations::Deviation) -> DeviationView {
        DeviationView {
            id: d.id.into(),
            said: d.said(),
            spec: d.spec.into(),
            kong: d.kong.into(),
            sources: d.sources.iter().map(|s| s.to_string()).collect(),
            scenario: d.scenario(),
        }
    }

    /// The views of deviation ids (ids gwlab does not know are left out).
    pub fn all(ids: &[&str]) -> Vec<DeviationView> {
        ids.iter()
            .filter_map(|id| crate::implementations::deviation(id))
            .map(DeviationView::of)
            .collect()
    }
}

#[derive(Debug, Clone, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CandidateView {
    pub route: String,
    pub rule: usize,
    /// The rule's name (Gateway API v1.4.1), when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule_name: Option<String>,
    #[serde(rename = "match")]
    pub match_index: usize,
    /// `won`, `lost` (matches but ranks lower) or `no match`.
    pub verdict: String,
    pub why: String,
    pub precedence: evaluate::Precedence,
}

#[derive(Debug, Clone, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OutcomeView {
    pub status: Option<u16>,
    pub summary: String,
    pub location: Option<String>,
    pub backends: Vec<BackendShare>,
    /// The request as forwarded, after the rule's filters.
    pub forwarded: Option<RequestHead>,
    /// The body the gateway answers with itself, when it has one.
    pub body: Option<String>,
}

#[derive(Debug, Clone, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BackendShare {
    pub backend: String,
    pub weight: u32,
    pub percent: f64,
    /// What that share of traffic gets.
    pub result: String,
}

#[derive(Debug, Clone, Serialize, serde::Deserialize)]
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

/// The Gateway asked about is not one the target compiled.
#[derive(Debug, thiserror::Error)]
#[error("Gateway {gateway} is not in the scenario (nor the lab Gateway kong-system/kong)")]
pub struct UnknownGateway {
    pub gateway: String,
}

pub fn explain(
    compiled: &Compiled,
    gw: &GatewayRef,
    port: u16,
    req: RequestHead,
) -> Result<Explanation, UnknownGateway> {
    let table = compiled
        .gateway(&gw.namespace, &gw.name)
        .ok_or_else(|| UnknownGateway {
            gateway: gw.to_string(),
        })?;
    let ev = evaluate::evaluate(table, port, &req);
    Ok(Explanation {
        request: req,
        gateway: gw.to_string(),
        port,
        listener: ev.listener.clone(),
        candidates: candidate_views(&ev),
        filters: ev.filters_applied.clone(),
        outcome: outcome_view(&ev.outcome),
        attachments: attachments(compiled),
        implementation: table.implementation.name(),
        deviations: DeviationView::all(&ev.deviations),
    })
}

/// Every candidate with its verdict: won, lost (and to what), or no match (and why).
fn candidate_views(ev: &Evaluation) -> Vec<CandidateView> {
    let winner = ev.winner.map(|i| &ev.candidates[i].precedence);
    ev.candidates
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let (verdict, why) = match (&c.mismatch, winner) {
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
                rule_name: c.rule_name.clone(),
                match_index: c.match_index,
                verdict: verdict.into(),
                why,
                precedence: c.precedence.clone(),
            }
        })
        .collect()
}

fn outcome_view(outcome: &Outcome) -> OutcomeView {
    let answered =
        |status: u16, summary: String, location: Option<String>, body: &str| OutcomeView {
            status: Some(status),
            summary,
            location,
            backends: vec![],
            forwarded: None,
            body: (!body.is_empty()).then(|| body.to_string()),
        };
    match outcome {
        Outcome::NotFound { why } => answered(404, format!("404: {why}"), None, ""),
        Outcome::ServerError { why } => answered(500, format!("500: {why}"), None, ""),
        Outcome::Answer { status, body, why } => {
            answered(*status, format!("{status}: {why}"), None, body)
        }
        Outcome::Redirect {
            status,
            location,
            body,
            ..
        } => answered(
            *status,
            format!("{status} redirect to {location}"),
            Some(location.clone()),
            body,
        ),
        Outcome::Preflight { .. } => answered(
            204,
            "204: a CORS preflight, answered by the gateway".into(),
            None,
            "",
        ),
        Outcome::Forward(f) => forward_view(f),
    }
}

fn forward_view(f: &Forward) -> OutcomeView {
    let total: u32 = f.backends.iter().map(|b| b.weight).sum();
    let backends: Vec<BackendShare> = f.backends.iter().map(|b| share(b, total)).collect();
    let all_echo = f
        .backends
        .iter()
        .filter(|b| b.weight > 0)
        .all(|b| matches!(b.target, BackendTarget::Echo { .. }));
    let with_traffic: Vec<&BackendShare> = backends.iter().filter(|b| b.weight > 0).collect();
    let summary = match with_traffic[..] {
        [b] => format!("forwarded to {}: {}", b.backend, b.result),
        _ => format!(
            "forwarded to one of {} backends by weight{}",
            with_traffic.len(),
            if all_echo { "" } else { " (some shares fail)" }
        ),
    };
    OutcomeView {
        status: None,
        summary,
        location: None,
        backends,
        forwarded: Some(f.request.clone()),
        body: None,
    }
}

/// One backend's share of the traffic and what that share gets.
fn share(b: &Backend, total: u32) -> BackendShare {
    BackendShare {
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
            BackendTarget::NoEndpoints { namespace, name } => {
                format!("503: Service {namespace}/{name} has no echo backend behind it here")
            }
            BackendTarget::Invalid { reason, message } => format!("500: {reason}: {message}"),
        },
    }
}

/// How every HTTPRoute attached to each of its parents.
fn attachments(compiled: &Compiled) -> Vec<Attachment> {
    let mut out = Vec::new();
    for (key, st) in &compiled.status {
        if key.kind != "HTTPRoute" {
            continue;
        }
        for p in &st.parents {
            out.push(Attachment {
                route: format!("{}/{}", key.namespace, key.name),
                parent: p.parent.clone(),
                section: p.section_name.clone(),
                accepted: condition_text(find(&p.conditions, "Accepted")),
                resolved_refs: condition_text(find(&p.conditions, "ResolvedRefs")),
            });
        }
    }
    out
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
    if e.implementation != "spec" {
        out.push(format!("as:       {}", e.implementation));
    }
    out.push(format!(
        "listener: {}",
        e.listener
            .as_deref()
            .unwrap_or("none accepts this host on this port")
    ));
    render_candidates(&e.candidates, &mut out);
    if !e.filters.is_empty() {
        out.push("filters, in order:".into());
        for f in &e.filters {
            out.push(format!("  {f}"));
        }
    }
    render_outcome(&e.outcome, &mut out);
    if !e.deviations.is_empty() {
        out.push("where this differs from the spec:".into());
        for d in &e.deviations {
            out.push(format!("  {}", d.said));
            out.push(format!("    spec: {}", d.spec));
            out.push(format!("    kong: {}", d.kong));
        }
    }
    render_attachments(&e.attachments, &mut out);
    out.join("\n") + "\n"
}

fn render_candidates(candidates: &[CandidateView], out: &mut Vec<String>) {
    if candidates.is_empty() {
        out.push("candidates: none (no route is attached to this listener)".into());
        return;
    }
    out.push("candidates, in precedence order:".into());
    for c in candidates {
        let name = c
            .rule_name
            .as_ref()
            .map(|n| format!(" ({n})"))
            .unwrap_or_default();
        out.push(format!(
            "  {:<8} {} rule {}{name} match {}: {}",
            c.verdict.to_uppercase(),
            c.route,
            c.rule,
            c.match_index,
            c.why
        ));
        out.push(format!("           ({})", traits(&c.precedence)));
    }
}

/// What a candidate's precedence rests on, in the spec's order.
fn traits(p: &evaluate::Precedence) -> String {
    format!(
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
    )
}

fn render_outcome(o: &OutcomeView, out: &mut Vec<String>) {
    out.push(format!("outcome:  {}", o.summary));
    if let Some(body) = &o.body {
        out.push(format!("body:     {}", body.replace('\n', " ")));
    }
    if o.backends.len() > 1 || o.backends.iter().any(|b| b.weight != 1) {
        for b in &o.backends {
            out.push(format!(
                "  {:>5.1}%  {} (weight {}): {}",
                b.percent, b.backend, b.weight, b.result
            ));
        }
    }
    if let Some(f) = &o.forwarded {
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
}

fn render_attachments(attachments: &[Attachment], out: &mut Vec<String>) {
    if attachments.is_empty() {
        return;
    }
    out.push("route attachment:".into());
    for a in attachments {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn backend(name: &str, weight: u32, target: BackendTarget) -> Backend {
        Backend {
            display: format!("app/{name}:80"),
            weight,
            target,
            filters: vec![],
        }
    }

    fn echo(name: &str) -> BackendTarget {
        BackendTarget::Echo {
            namespace: "app".into(),
            name: name.into(),
        }
    }

    fn request() -> RequestHead {
        RequestHead {
            method: "GET".into(),
            scheme: "http".into(),
            host: "a.example.com".into(),
            path: "/".into(),
            query: Some("x=1".into()),
            headers: vec![],
        }
    }

    fn forward(backends: Vec<Backend>) -> OutcomeView {
        outcome_view(&Outcome::Forward(Box::new(Forward {
            request: request(),
            backends,
            response_headers: vec![],
            mirrors: vec![],
            matched_path: "/".into(),
            request_timeout: None,
            backend_timeout: None,
        })))
    }

    #[test]
    fn shares_say_what_each_part_of_the_traffic_gets() {
        let v = forward(vec![
            backend("a", 3, echo("a")),
            backend(
                "b",
                1,
                BackendTarget::NoEndpoints {
                    namespace: "app".into(),
                    name: "b".into(),
                },
            ),
            backend("c", 0, echo("c")),
        ]);
        let results: Vec<(f64, &str)> = v
            .backends
            .iter()
            .map(|b| (b.percent, b.result.as_str()))
            .collect();
        assert_eq!(
            results,
            [
                (75.0, "answered by echo backend app/a"),
                (
                    25.0,
                    "503: Service app/b has no echo backend behind it here"
                ),
                (0.0, "no traffic (weight 0)"),
            ]
        );
        assert_eq!(
            v.summary,
            "forwarded to one of 2 backends by weight (some shares fail)"
        );
        assert_eq!(v.status, None);
        assert_eq!(v.forwarded, Some(request()));
    }

    #[test]
    fn one_backend_with_traffic_is_named_in_the_summary() {
        let invalid = BackendTarget::Invalid {
            reason: "BackendNotFound".into(),
            message: "Service app/x not found".into(),
        };
        let v = forward(vec![backend("x", 1, invalid), backend("y", 0, echo("y"))]);
        assert_eq!(
            v.summary,
            "forwarded to app/x:80: 500: BackendNotFound: Service app/x not found"
        );
        let none = forward(vec![backend("z", 0, echo("z"))]);
        assert_eq!(
            (none.backends[0].percent, none.summary.as_str()),
            (0.0, "forwarded to one of 0 backends by weight")
        );
    }

    #[test]
    fn answers_without_backends_carry_their_status() {
        let v = outcome_view(&Outcome::Redirect {
            status: 301,
            location: "https://a.example.com/".into(),
            body: String::new(),
            response_headers: vec![],
        });
        assert_eq!(
            (v.status, v.summary.as_str()),
            (Some(301), "301 redirect to https://a.example.com/")
        );
        assert_eq!(v.location.as_deref(), Some("https://a.example.com/"));
        let v = outcome_view(&Outcome::NotFound {
            why: "no route".into(),
        });
        assert_eq!((v.status, v.summary.as_str()), (Some(404), "404: no route"));
        let v = outcome_view(&Outcome::ServerError { why: "bad".into() });
        assert_eq!((v.status, v.summary.as_str()), (Some(500), "500: bad"));
    }

    #[test]
    fn an_unknown_gateway_is_an_error_naming_it() {
        let gw = GatewayRef {
            namespace: "ns".into(),
            name: "missing".into(),
        };
        let e = explain(&Compiled::default(), &gw, 80, request()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Gateway ns/missing is not in the scenario (nor the lab Gateway kong-system/kong)"
        );
    }

    #[test]
    fn text_rendering_lists_the_forwarded_request_and_weighted_shares() {
        let e = Explanation {
            request: request(),
            gateway: "ns/gw".into(),
            port: 80,
            listener: None,
            candidates: vec![],
            filters: vec!["RequestHeaderModifier".into()],
            outcome: forward(vec![backend("a", 2, echo("a"))]),
            attachments: vec![Attachment {
                route: "app/r".into(),
                parent: "ns/gw".into(),
                section: Some("http".into()),
                accepted: "True (Accepted)".into(),
                resolved_refs: "True (ResolvedRefs)".into(),
            }],
            implementation: "spec".into(),
            deviations: vec![],
        };
        let text = render_text(&e);
        let expected = "request:  GET http://a.example.com/?x=1 (Gateway ns/gw, port 80)
listener: none accepts this host on this port
candidates: none (no route is attached to this listener)
filters, in order:
  RequestHeaderModifier
outcome:  forwarded to app/a:80: answered by echo backend app/a
  100.0%  app/a:80 (weight 2): answered by echo backend app/a
forwarded request: GET /?x=1 host a.example.com
route attachment:
  app/r → ns/gw section http: Accepted True (Accepted), ResolvedRefs True (ResolvedRefs)
";
        assert_eq!(text, expected);
    }
}
