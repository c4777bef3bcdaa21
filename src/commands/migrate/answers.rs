//! What each probe of a `--compare` run got, in a few words, read from the
//! run's report: the rows of the comparison table.

use std::collections::BTreeMap;

use crate::report::{CheckKind, CheckReport, RunReport};

/// Each probe of `report`: name → what it got.
pub(super) fn answers(report: &RunReport) -> BTreeMap<String, String> {
    probes(report)
        .map(|c| (c.name.clone(), answer(c)))
        .collect()
}

/// Each probe of `report`: name → whether it passed.
pub(super) fn verdicts(report: &RunReport) -> BTreeMap<String, bool> {
    probes(report).map(|c| (c.name.clone(), c.passed)).collect()
}

fn probes(report: &RunReport) -> impl Iterator<Item = &CheckReport> {
    report
        .scenarios
        .iter()
        .flat_map(|s| &s.checks)
        .filter(|c| c.kind == CheckKind::Probe)
}

/// What one probe got: the status, and the Location of a redirect or the
/// echo backend that answered; or that nothing answered, and why.
fn answer(check: &CheckReport) -> String {
    let result = check
        .detail
        .as_ref()
        .and_then(|d| d.probe())
        .map(|p| &p.result);
    let Some(last) = result.and_then(|r| r.last.as_ref()) else {
        return match result.and_then(|r| r.error.as_deref()) {
            Some(e) => format!("no answer ({e})"),
            None => "no answer".into(),
        };
    };
    let location = last
        .headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("location"))
        .map(|(_, value)| value);
    match (location, &last.echo) {
        (Some(l), _) => format!("{} → {l}", last.status),
        (None, Some(echo)) => format!("{} from {} ({})", last.status, echo.service, echo.path),
        (None, None) => last.status.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::ProbeResult;
    use crate::probe::observe::Observation;
    use crate::report::test_support::{run_of, scenario_of, split_check};
    use crate::report::{CheckDetail, ProbeDetail};

    fn probe(name: &str, last: Option<Observation>, error: Option<&str>) -> CheckReport {
        let result = ProbeResult {
            passed: error.is_none(),
            attempts: 1,
            requests: 1,
            elapsed: std::time::Duration::ZERO,
            mismatches: vec![],
            error: error.map(Into::into),
            last,
            split: None,
        };
        CheckReport {
            name: name.into(),
            kind: CheckKind::Probe,
            passed: error.is_none(),
            detail: Some(CheckDetail::Probe(Box::new(ProbeDetail {
                result,
                explain: None,
            }))),
            ..split_check(true)
        }
    }

    #[test]
    fn answers_name_the_location_or_the_backend() {
        let redirected = Observation::new(
            301,
            vec![
                ("server".into(), "x".into()),
                ("Location".into(), "https://a/?item=42".into()),
            ],
            String::new(),
        );
        let echo = r#"{"path": "/sample?x=1", "host": "a", "method": "GET", "service": "app"}"#;
        let served = Observation::new(200, vec![], echo.into());
        let condition = CheckReport {
            kind: CheckKind::Condition,
            name: "HTTPRoute/a Accepted".into(),
            ..split_check(true)
        };
        let report = run_of(
            "cluster",
            vec![scenario_of(vec![
                condition,
                probe("redirected", Some(redirected), None),
                probe("served", Some(served), None),
                probe("refused", None, Some("connection refused")),
            ])],
        );
        let a = answers(&report);
        assert_eq!(a.len(), 3);
        assert_eq!(a["redirected"], "301 → https://a/?item=42");
        assert_eq!(a["served"], "200 from app (/sample)");
        assert_eq!(a["refused"], "no answer (connection refused)");
        let v = verdicts(&report);
        assert_eq!(v.len(), 3);
        assert!(v["served"] && !v["refused"]);
    }
}
