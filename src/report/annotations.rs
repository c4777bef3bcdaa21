//! GitHub Actions workflow annotations: in a workflow (`GITHUB_ACTIONS=true`)
//! every failed check is also printed as an `::error` command on its scenario
//! file and line, which GitHub shows on that line of the pull request.

use super::{CheckReport, RunReport, ScenarioReport, Verdict};

/// Whether the process runs as a GitHub Actions step.
pub(crate) fn in_github_actions() -> bool {
    std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true")
}

/// One `::error` line per failed check of `report` (and per scenario that
/// failed without a located check, on its `scenario.yaml`).
pub(crate) fn render(report: &RunReport) -> Vec<String> {
    report
        .scenarios
        .iter()
        .filter(|s| s.verdict == Verdict::Failed)
        .flat_map(scenario)
        .collect()
}

/// One `::error` line per problem of input that stopped a run before it
/// started, at its file and line.
pub(crate) fn bad_input(problems: &[gwlab_core::diag::Diagnostic]) -> Vec<String> {
    problems
        .iter()
        .map(|d| {
            let title = match &d.field {
                Some(f) => format!("gwlab: bad input: {f}"),
                None => "gwlab: bad input".to_string(),
            };
            let message = match &d.hint {
                Some(h) => format!("{}\nhint: {h}", d.message),
                None => d.message.clone(),
            };
            command(
                &d.file.display().to_string(),
                d.line.unwrap_or(1),
                &title,
                &message,
            )
        })
        .collect()
}

/// Per failed check, an error at its line; for a probe, also a notice at
/// the rule that answered it (the line that may need the change).
fn scenario(s: &ScenarioReport) -> Vec<String> {
    let mut out = Vec::new();
    for c in s.failures() {
        let source = c.source.as_ref().unwrap_or(&s.source);
        let title = format!("gwlab: {}: {}", s.name, c.name);
        out.push(command(&source.file, source.line, &title, &message(c)));
        if let Some(rule) = &c.answered_by {
            out.push(format!(
                "::notice file={},line={},title={}::{}",
                property(&rule.file),
                rule.line,
                property(&format!(
                    "gwlab: {}: the rule that answered {}",
                    s.name, c.name
                )),
                data(&message(c))
            ));
        }
    }
    out
}

/// The mismatch first, then the rest of the failure and the request.
fn message(c: &CheckReport) -> String {
    let mut lines: Vec<&str> = c.failure.iter().map(String::as_str).collect();
    if lines.is_empty() {
        lines.push("failed");
    }
    if let Some(r) = &c.request {
        lines.push(r);
    }
    lines.join("\n")
}

fn command(file: &str, line: u64, title: &str, message: &str) -> String {
    format!(
        "::error file={},line={line},title={}::{}",
        property(file),
        property(title),
        data(message)
    )
}

/// Escapes a command's message: `%`, CR and LF.
fn data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a property value: as data, plus `:` and `,`, which end properties.
fn property(s: &str) -> String {
    data(s).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{scenario_of, split_check};
    use super::*;

    #[test]
    fn a_failed_check_is_an_error_on_its_file_and_line_with_the_mismatch_first() {
        let report = RunReport {
            target: "embedded".into(),
            implementation: "spec".into(),
            run_id: "r".into(),
            scenarios: vec![
                scenario_of(vec![split_check(false)]),
                scenario_of(vec![split_check(true)]),
            ],
            duration: std::time::Duration::ZERO,
            require_features: false,
            interrupted: false,
            still_deleting: vec![],
            namespaces_finishing: Vec::new(),
            portability: None,
        };
        let lines = render(&report);
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert_eq!(
            lines[0],
            "::error file=scenarios/canary/scenario.yaml,line=12,title=gwlab%3A canary%3A canary split::split: the counts do not fit the weights%0AGET http://canary.example.com/ (via Gateway kong-system/kong, 127.0.0.1:80), 1 try"
        );
    }

    #[test]
    fn escapes_what_would_end_a_property_or_the_command() {
        assert_eq!(data("100% done\r\nnext"), "100%25 done%0D%0Anext");
        assert_eq!(property("a: b, c"), "a%3A b%2C c");
    }
}
