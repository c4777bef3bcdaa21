//! JUnit XML (`--junit FILE`): one testsuite per scenario, one testcase per
//! condition and probe (plus setup and cleanup when they fail). Testcases
//! carry `file` and `line` (the scenario file and the line of the condition
//! or probe) so that CI systems can annotate the YAML; a failure's `message`
//! is the mismatch itself.

use std::fmt::Write;

use super::{CheckReport, RunReport, ScenarioReport, Verdict};
use gwlab_core::xml::escape;

/// Under several implementations (`--as spec,kong-3.9`), each run's
/// testsuites, named `scenario [implementation]`.
pub(crate) fn render(report: &RunReport) -> String {
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let runs = super::portability::all_runs(report);
    let several = runs.len() > 1;
    let scenarios: Vec<(&str, ScenarioReport)> = runs
        .iter()
        .flat_map(|r| {
            r.scenarios.iter().map(move |s| {
                let mut s = s.clone();
                if several {
                    s.name = format!("{} [{}]", s.name, r.implementation);
                }
                (r.target.as_str(), s)
            })
        })
        .collect();
    let tests: usize = scenarios.iter().map(|(_, s)| s.checks.len().max(1)).sum();
    let failures: usize = scenarios.iter().map(|(_, s)| s.failures().count()).sum();
    let skipped: usize = scenarios.iter().map(|(_, s)| skipped(s)).sum();
    let _ = writeln!(
        x,
        "<testsuites name=\"gwlab\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\" time=\"{:.3}\">",
        report.duration.as_secs_f64()
    );
    for (target, s) in &scenarios {
        testsuite(&mut x, target, s);
    }
    x.push_str("</testsuites>\n");
    x
}

/// The report of a run that bad input stopped before it started: one
/// testcase with an `<error>` per problem, at its file and line, so that a
/// CI step publishing the file finds it and shows why.
pub(crate) fn render_bad_input(problems: &[gwlab_core::diag::Diagnostic]) -> String {
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let n = problems.len();
    let _ = writeln!(
        x,
        "<testsuites name=\"gwlab\" tests=\"{n}\" failures=\"0\" errors=\"{n}\" skipped=\"0\" time=\"0\">"
    );
    let _ = writeln!(
        x,
        "  <testsuite name=\"bad input\" tests=\"{n}\" failures=\"0\" errors=\"{n}\" skipped=\"0\" time=\"0\">"
    );
    for d in problems {
        let file = d.file.display().to_string();
        let line = d.line.unwrap_or(1);
        let name = match &d.field {
            Some(f) => format!("{file}:{line}: {f}"),
            None => format!("{file}:{line}"),
        };
        let _ = writeln!(
            x,
            "    <testcase classname=\"bad input\" name=\"{}\" file=\"{}\" line=\"{line}\" time=\"0\">\n      <error message=\"{}\">{}</error>\n    </testcase>",
            escape(&name),
            escape(&file),
            escape(&d.message),
            escape(&d.to_string())
        );
    }
    x.push_str("  </testsuite>\n</testsuites>\n");
    x
}

/// How many of a scenario's testcases are skipped: all of one that did not
/// run (unsupported, or interrupted before it started).
fn skipped(s: &ScenarioReport) -> usize {
    match s.verdict {
        Verdict::Unsupported => s.checks.len().max(1),
        Verdict::Interrupted if s.checks.is_empty() => 1,
        _ => 0,
    }
}

/// Why a scenario that has no checks did not run.
fn not_run_reason(s: &ScenarioReport) -> Option<String> {
    if !s.checks.is_empty() {
        return None;
    }
    match s.verdict {
        Verdict::Unsupported => Some(format!(
            "unsupported: the target lacks {}",
            s.missing_features.join(", ")
        )),
        Verdict::Interrupted => Some("not run: the run was interrupted (Ctrl-C)".into()),
        _ => None,
    }
}

/// One scenario's testsuite.
fn testsuite(x: &mut String, target: &str, s: &ScenarioReport) {
    let name = escape(&s.name);
    let _ = writeln!(
        x,
        "  <testsuite name=\"{name}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"{}\" time=\"{:.3}\">",
        s.checks.len().max(1),
        s.failures().count(),
        skipped(s),
        s.duration.as_secs_f64()
    );
    properties(x, target, s);
    if let Some(msg) = not_run_reason(s) {
        let _ = writeln!(
            x,
            "    <testcase classname=\"{name}\" name=\"scenario\" file=\"{}\" line=\"{}\" time=\"0\">\n      <skipped message=\"{}\"/>\n    </testcase>",
            escape(&s.source.file),
            s.source.line,
            escape(&msg)
        );
    }
    for c in &s.checks {
        testcase(x, &name, s, c);
    }
    let _ = writeln!(x, "  </testsuite>");
}

fn properties(x: &mut String, target: &str, s: &ScenarioReport) {
    let _ = writeln!(x, "    <properties>");
    let mut property = |name: &str, value: &str| {
        let _ = writeln!(
            x,
            "      <property name=\"{name}\" value=\"{}\"/>",
            escape(value)
        );
    };
    property("target", target);
    property("dir", &s.dir);
    if let Some(ns) = &s.namespace {
        property("namespace", ns);
    }
    let _ = writeln!(x, "    </properties>");
}

/// One check's testcase; `classname` is the escaped scenario name. Checks
/// without a line of their own (setup, cleanup) point at the scenario file.
fn testcase(x: &mut String, classname: &str, s: &ScenarioReport, c: &CheckReport) {
    let case = match &c.step {
        Some(step) => format!("{}: {}: {}", step, c.kind.as_str(), c.name),
        None => format!("{}: {}", c.kind.as_str(), c.name),
    };
    let source = c.source.as_ref().unwrap_or(&s.source);
    let _ = write!(
        x,
        "    <testcase classname=\"{classname}\" name=\"{}\" file=\"{}\" line=\"{}\" time=\"{:.3}\"",
        escape(&case),
        escape(&source.file),
        source.line,
        c.duration.as_secs_f64()
    );
    if c.passed && c.power.is_none() {
        let _ = writeln!(x, "/>");
        return;
    }
    let _ = writeln!(x, ">");
    if !c.passed {
        let message = c.failure.first().map_or("failed", String::as_str);
        let mut body: Vec<String> = c.failure.clone();
        body.extend(c.request.iter().map(|r| format!("request: {r}")));
        body.push(format!("at {source}"));
        let _ = writeln!(
            x,
            "      <failure message=\"{}\">{}</failure>",
            escape(message),
            escape(&body.join("\n"))
        );
    }
    // A split's power is no failure: it goes where test output goes.
    if let Some(power) = &c.power {
        let _ = writeln!(x, "      <system-out>{}</system-out>", escape(power));
    }
    let _ = writeln!(x, "    </testcase>");
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{run_of, scenario_of, split_check};
    use super::*;

    fn junit_of(checks: Vec<CheckReport>) -> String {
        render(&run_of("embedded", vec![scenario_of(checks)]))
    }

    #[test]
    fn every_mix_of_verdicts_is_xml_and_scenarios_that_did_not_run_are_skipped() {
        let passed = scenario_of(vec![split_check(true)]);
        let failed = scenario_of(vec![split_check(false)]);
        let not_run = |verdict, missing: &[&str]| ScenarioReport {
            verdict,
            checks: vec![],
            missing_features: missing.iter().map(|s| s.to_string()).collect(),
            ..scenario_of(vec![])
        };
        let xml = render(&RunReport {
            interrupted: true,
            ..run_of(
                "cluster",
                vec![
                    passed,
                    not_run(Verdict::Unsupported, &["HTTPRouteSchemeRedirect"]),
                    failed,
                    not_run(Verdict::Interrupted, &[]),
                ],
            )
        });
        let doc = roxmltree::Document::parse(&xml).expect("well-formed XML");
        let suites: Vec<_> = doc
            .descendants()
            .filter(|n| n.has_tag_name("testsuite"))
            .collect();
        assert_eq!(suites.len(), 4);
        let skipped: Vec<&str> = doc
            .descendants()
            .filter(|n| n.has_tag_name("skipped"))
            .filter_map(|n| n.attribute("message"))
            .collect();
        assert_eq!(
            skipped,
            vec![
                "unsupported: the target lacks HTTPRouteSchemeRedirect",
                "not run: the run was interrupted (Ctrl-C)"
            ]
        );
        assert_eq!(doc.root_element().attribute("skipped"), Some("2"));
    }

    #[test]
    fn a_split_testcase_carries_its_power_in_system_out() {
        for passed in [true, false] {
            let xml = junit_of(vec![split_check(passed)]);
            let doc = roxmltree::Document::parse(&xml).expect("well-formed");
            let case = doc
                .descendants()
                .find(|n| n.has_tag_name("testcase"))
                .unwrap();
            let out = case
                .children()
                .find(|n| n.has_tag_name("system-out"))
                .and_then(|n| n.text())
                .unwrap_or_default();
            assert!(
                out.starts_with("400 samples: a deviation of 8.0 points"),
                "{xml}"
            );
            let failed = case.children().any(|n| n.has_tag_name("failure"));
            assert_eq!(failed, !passed, "{xml}");
        }
    }

    #[test]
    fn a_failure_message_is_the_mismatch_and_testcases_name_their_file_and_line() {
        let xml = junit_of(vec![split_check(false)]);
        let doc = roxmltree::Document::parse(&xml).expect("well-formed");
        let case = doc
            .descendants()
            .find(|n| n.has_tag_name("testcase"))
            .unwrap();
        assert_eq!(
            case.attribute("file"),
            Some("scenarios/canary/scenario.yaml")
        );
        assert_eq!(case.attribute("line"), Some("12"));
        let failure = case.children().find(|n| n.has_tag_name("failure")).unwrap();
        assert_eq!(
            failure.attribute("message"),
            Some("split: the counts do not fit the weights")
        );
        let body = failure.text().unwrap();
        assert!(
            body.contains("request: GET http://canary.example.com/"),
            "{body}"
        );
        assert!(
            body.ends_with("at scenarios/canary/scenario.yaml:12"),
            "{body}"
        );
    }
}
