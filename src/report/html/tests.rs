use std::time::Duration;

use super::*;
use crate::explain::{CandidateView, Explanation, OutcomeView};
use crate::model::request::RequestHead;
use crate::probe::ProbeResult;
use crate::probe::expect::Mismatch;
use crate::probe::split::SplitVerdict;
use crate::probe::split::power::Power;
use crate::report::test_support::{scenario_of, split_check};
use crate::report::{
    CheckDetail, CheckKind, CheckReport, ProbeDetail, ScenarioReport, Source, Verdict,
};

/// A probe's detail of one try.
fn probe_detail(
    mismatches: Vec<Mismatch>,
    split: Option<SplitVerdict>,
    explain: Option<Explanation>,
) -> CheckDetail {
    CheckDetail::Probe(Box::new(ProbeDetail {
        result: ProbeResult {
            passed: mismatches.is_empty() && split.as_ref().is_none_or(|s| s.passed),
            attempts: 1,
            requests: 1,
            elapsed: Duration::ZERO,
            mismatches,
            error: None,
            last: None,
            split,
        },
        explain,
    }))
}

/// A failed split's verdict with these counts against these weights.
fn split_verdict(
    counts: &[(&str, u32)],
    expected: &[(&str, f64)],
    statement: &str,
) -> SplitVerdict {
    SplitVerdict {
        passed: false,
        counts: counts.iter().map(|(b, n)| (b.to_string(), *n)).collect(),
        expected: expected.iter().map(|(b, n)| (b.to_string(), *n)).collect(),
        chi_square: 50.0,
        degrees_of_freedom: 1,
        p_value: 1e-12,
        tolerance: None,
        bounds: Default::default(),
        power: Power {
            samples: 400,
            deviation: Some(8.0),
            probability: 0.95,
            exact_split_passes: None,
            auto: None,
            statement: statement.into(),
        },
        retried: 0,
        sequential: None,
        problems: vec!["the counts do not fit the weights".into()],
    }
}

/// How the reference gateway routed a request to `listener` of Gateway
/// ns/gw on `port`.
fn explanation(port: u16, listener: Option<&str>, summary: &str) -> Explanation {
    Explanation {
        request: RequestHead {
            method: "GET".into(),
            scheme: "http".into(),
            host: "shop.example.com".into(),
            path: "/v1".into(),
            query: None,
            headers: vec![],
        },
        gateway: "ns/gw".into(),
        port,
        listener: listener.map(Into::into),
        candidates: vec![],
        filters: vec![],
        outcome: OutcomeView {
            status: Some(404),
            summary: summary.into(),
            location: None,
            backends: vec![],
            forwarded: None,
            body: None,
        },
        attachments: vec![],
        implementation: "spec".into(),
        deviations: vec![],
    }
}

fn candidate(
    route: &str,
    rule: usize,
    match_index: usize,
    verdict: &str,
    why: &str,
) -> CandidateView {
    CandidateView {
        route: route.into(),
        rule,
        rule_name: None,
        match_index,
        verdict: verdict.into(),
        why: why.into(),
        precedence: Default::default(),
    }
}

fn named(name: &str, verdict: Verdict, checks: Vec<CheckReport>) -> ScenarioReport {
    ScenarioReport {
        name: name.into(),
        verdict,
        ..scenario_of(checks)
    }
}

fn probe(name: &str, passed: bool) -> CheckReport {
    CheckReport {
        kind: CheckKind::Probe,
        name: name.into(),
        step: None,
        source: Some(Source {
            file: "shop/scenario.yaml".into(),
            line: 7,
        }),
        passed,
        duration: Duration::ZERO,
        request: (!passed).then(|| {
            "GET http://shop.example.com/v1 (via Gateway kong-system/kong, 127.0.0.1:80), 1 try"
                .into()
        }),
        failure: if passed {
            vec![]
        } else {
            vec![
                "path: expected /api/v2, got /api/v1".into(),
                "response body: no <match>".into(),
            ]
        },
        detail: (!passed).then(|| {
            let path = Mismatch {
                field: "path".into(),
                expected: "/api/v2".into(),
                actual: "/api/v1".into(),
            };
            probe_detail(vec![path], None, None)
        }),
        power: None,
        answer: None,
        deviations: Vec::new(),
        answered_by: None,
    }
}

/// A run of every verdict: passed, failed (a mismatch), a failed split,
/// unsupported and interrupted, listed passes first.
fn run() -> RunReport {
    let mut split = split_check(false);
    split.detail = Some(probe_detail(
        vec![],
        Some(split_verdict(
            &[("stable", 300), ("canary", 100)],
            &[("stable", 200.0), ("canary", 200.0)],
            "ignored: the check's own statement wins",
        )),
        None,
    ));
    let mut unsupported = named("mirror", Verdict::Unsupported, vec![]);
    unsupported.missing_features = vec!["HTTPRouteRequestMirror".into()];
    let mut failed = named(
        "shop",
        Verdict::Failed,
        vec![probe("ok", true), probe("the shop answers", false)],
    );
    failed.phases = Some(crate::report::Phases {
        probes: Duration::from_millis(250),
        ..Default::default()
    });
    RunReport {
        target: "embedded".into(),
        implementation: "spec".into(),
        run_id: "r1x2".into(),
        scenarios: vec![
            named("fine", Verdict::Passed, vec![probe("fine probe", true)]),
            failed,
            named("canary", Verdict::Failed, vec![split]),
            unsupported,
            named("later", Verdict::Interrupted, vec![]),
        ],
        duration: Duration::from_millis(1500),
        require_features: false,
        interrupted: true,
        still_deleting: vec![],
        namespaces_finishing: Vec::new(),
        portability: None,
    }
}

fn at(page: &str, needle: &str) -> usize {
    page.find(needle)
        .unwrap_or_else(|| panic!("{needle:?} not in:\n{page}"))
}

#[test]
fn the_summary_counts_every_verdict_with_the_run_and_its_phases() {
    let page = render(&run());
    for part in [
        "1 passed",
        "2 failed",
        "1 unsupported",
        "1 interrupted",
        "target <b>embedded</b>",
        "run <code>r1x2</code>",
        "1.50s",
        "interrupted (Ctrl-C)",
        "probes 0.25s",
    ] {
        at(&page, part);
    }
}

#[test]
fn failures_come_first_and_open_passes_last_and_closed() {
    let page = render(&run());
    let (shop, canary, later, mirror, fine) = (
        at(&page, "</span> shop "),
        at(&page, "</span> canary "),
        at(&page, "</span> later "),
        at(&page, "</span> mirror "),
        at(&page, "</span> fine "),
    );
    assert!(shop < canary && canary < later && later < mirror && mirror < fine);
    assert_eq!(
        page.matches("<details class=\"scenario failed\" open>")
            .count(),
        2
    );
    at(&page, "<details class=\"scenario passed\"><summary>");
    at(&page, "not run: the run was interrupted");
    at(&page, "the target lacks HTTPRouteRequestMirror");
}

#[test]
fn a_mismatch_is_expected_beside_got_with_the_difference_marked() {
    let page = render(&run());
    at(&page, "GET http://shop.example.com/v1 (via Gateway");
    at(
        &page,
        "<tr><td>path</td><td class=\"mono\">/api/v<mark>2</mark></td><td class=\"mono\">/api/v<mark>1</mark></td></tr>",
    );
    // The mismatch is in the table; the other failure lines are listed.
    assert!(
        !page.contains("path: expected /api/v2, got /api/v1"),
        "{page}"
    );
    at(&page, "<li>response body: no &lt;match&gt;</li>");
    at(&page, "<code>shop/scenario.yaml:7</code>");
    // The failed probe is before the passed one of the same scenario.
    assert!(at(&page, "the shop answers") < at(&page, "probe: ok"));
}

#[test]
fn a_split_is_drawn_with_its_power_in_words() {
    let page = render(&run());
    let svg = at(&page, "<svg class=\"split\"");
    assert!(svg < at(&page, "</svg>"));
    at(&page, "got 75.0 % (300)");
    at(&page, "expected 50.0 %");
    at(&page, "400 samples: a deviation of 8.0 points or more");
    assert!(
        !page.contains("ignored:"),
        "the check's statement is the one shown"
    );
}

#[test]
fn the_page_needs_nothing_from_elsewhere() {
    let page = render(&run());
    assert!(!page.contains("<script"), "no scripts");
    assert!(!page.contains("<link"), "no linked styles");
    for external in ["src=", "href=\"http", "url("] {
        assert!(!page.contains(external), "{external} in the page");
    }
}

#[test]
fn names_messages_and_headers_from_the_report_are_escaped() {
    let mut r = run();
    r.scenarios[0].name = "<script>alert('x')</script>".into();
    r.scenarios[1].checks[1]
        .failure
        .push("header x-a: expected \"<b>\" & more".into());
    let page = render(&r);
    assert!(!page.contains("<script>"), "{page}");
    at(&page, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;");
    at(&page, "expected &quot;&lt;b&gt;&quot; &amp; more");
}

#[test]
fn marking_differences_works_on_characters_not_bytes() {
    assert_eq!(
        marked("é1ü", "é2ü"),
        (
            "é<mark>1</mark>ü".to_string(),
            "é<mark>2</mark>ü".to_string()
        )
    );
    assert_eq!(
        marked("ab", "abc"),
        ("ab".to_string(), "ab<mark>c</mark>".to_string())
    );
    assert_eq!(
        marked("same", "same"),
        ("same".to_string(), "same".to_string())
    );
}

#[test]
fn a_failed_probes_trace_is_a_table_of_its_candidates_escaped() {
    let mut r = run();
    let mut explain = explanation(80, Some("http"), "404: no <rule>");
    explain.gateway = "kong-system/kong".into();
    explain.filters = vec!["RequestHeaderModifier".into()];
    explain.candidates = vec![
        candidate("ns/a", 1, 0, "won", "highest"),
        candidate(
            "ns/<b>",
            0,
            2,
            "no match",
            "path /x does not match Exact /y",
        ),
    ];
    r.scenarios[1].checks[1].detail = Some(probe_detail(vec![], None, Some(explain)));
    // A passed probe's trace (there is none in practice) is not drawn.
    r.scenarios[1].checks[0].detail = r.scenarios[1].checks[1].detail.clone();
    let page = render(&r);
    assert_eq!(page.matches("<table class=\"trace\">").count(), 1);
    at(
        &page,
        "port 80, listener <b>http</b>; outcome: 404: no &lt;rule&gt;",
    );
    at(
        &page,
        "<tr class=\"won\"><td>won</td><td>ns/a</td><td>1</td><td>0</td><td>highest</td></tr>",
    );
    at(
        &page,
        "<tr class=\"other\"><td>no match</td><td>ns/&lt;b&gt;</td><td>0</td><td>2</td><td>path /x does not match Exact /y</td></tr>",
    );
    at(&page, "filters, in order: RequestHeaderModifier");
}

#[test]
fn a_request_no_listener_took_says_so_instead_of_a_table() {
    let trace = trace::table(&explanation(8080, None, "404: no listener"));
    assert!(
        trace.contains("no listener accepts this host on this port"),
        "{trace}"
    );
    // Not also "no route is attached to this listener": there is none.
    assert!(!trace.contains("attached to this listener"), "{trace}");
    assert!(!trace.contains("<table"), "{trace}");
    let on_listener = trace::table(&explanation(8080, Some("http"), "404"));
    assert!(
        on_listener.contains("no route is attached to this listener"),
        "{on_listener}"
    );
    assert!(on_listener.contains("port 8080"), "{on_listener}");
}

#[test]
fn a_route_map_is_drawn_per_scenario_that_has_one() {
    let mut r = run();
    r.scenarios[0].route_map = Some(crate::route_map::RouteMap {
        gateways: vec![],
        routes: vec![],
    });
    let page = render(&r);
    assert_eq!(
        page.matches("<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"route-map\"")
            .count(),
        1
    );
    // The other scenarios have none, and draw none.
    let page = render(&run());
    assert!(!page.contains("class=\"route-map\""));
}
