//! The upper bounds gwlab puts on the numbers a scenario gives, so that no
//! value read from input can make a run wait for ever, allocate without limit
//! or overflow a sum. `gwlab check` enforces them; README.md lists them.

use std::path::Path;
use std::time::Duration;

use serde_saphyr::Spanned;

use super::duration::{self, DurationText};
use crate::diag::Diagnostic;

/// The longest `timeouts.conditions` or `timeouts.probes`: an hour is far
/// beyond what a route takes to be programmed.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(3600);
/// The most requests one probe sends (`samples`); each answer is kept until
/// the probe is judged.
pub const MAX_SAMPLES: u32 = 100_000;
/// The largest weight in an `expect.split`: a backendRef's largest weight in
/// Gateway API.
pub const MAX_SPLIT_WEIGHT: u32 = 1_000_000;

/// A timeout of `timeouts`: its value, or `default` when not given; a problem
/// (not a duration, over [`MAX_TIMEOUT`]) is reported and gives `default`.
pub(super) fn timeout(
    file: &Path,
    field: &str,
    given: Option<&Spanned<DurationText>>,
    default: Duration,
    problems: &mut Vec<Diagnostic>,
) -> Duration {
    let Some(given) = given else {
        return default;
    };
    let at = |message: String| {
        Diagnostic::new(file, Some(given.referenced.line()), message)
            .field(format!("timeouts.{field}"))
    };
    match duration::parse(&given.value.0) {
        Ok(d) if d <= MAX_TIMEOUT => d,
        Ok(_) => {
            problems.push(
                at(format!(
                    "`{}` is longer than the longest timeout, 1h",
                    given.value.0
                ))
                .hint("a route that is not programmed within minutes will not be; give e.g. `60s`"),
            );
            default
        }
        Err(e) => {
            problems.push(at(e.to_string()));
            default
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::diag::Diagnostic;

    const ROUTE: &str = "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: app}\nspec:\n  parentRefs: [{name: kong, namespace: kong-system}]\n  rules:\n  - backendRefs: [{name: app, port: 8080}]\n";

    /// The problems of a scenario whose scenario.yaml is `text`, beside one route.
    fn problems(text: &str) -> Vec<Diagnostic> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("route.yaml"), ROUTE).unwrap();
        std::fs::write(dir.path().join("scenario.yaml"), text).unwrap();
        match crate::scenario::load(dir.path()) {
            Ok(_) => vec![],
            Err(d) => d.0,
        }
    }

    const PROBE: &str = "probes:\n- request: {url: 'http://a/'}\n  expect: {status: 200}\n";

    #[test]
    fn timeouts_beyond_the_bound_or_beyond_counting_are_errors_naming_the_field() {
        for (timeouts, needle) in [
            ("{probes: 5124095576030432h}", "longer than any duration"),
            (
                "{conditions: 18446744073709551615s1s}",
                "longer than any duration",
            ),
            ("{probes: 2h}", "longer than the longest timeout, 1h"),
        ] {
            let p = problems(&format!("timeouts: {timeouts}\n{PROBE}"));
            assert_eq!(p.len(), 1, "{timeouts}: {p:?}");
            assert!(p[0].message.contains(needle), "{}", p[0]);
            assert_eq!(p[0].line, Some(1), "{}", p[0]);
            assert!(
                p[0].field.as_deref().unwrap().starts_with("timeouts."),
                "{}",
                p[0]
            );
        }
        assert!(
            problems(&format!(
                "timeouts: {{probes: 1h, conditions: 59m}}\n{PROBE}"
            ))
            .is_empty()
        );
    }

    #[test]
    fn samples_are_bounded() {
        let probe = |samples: u64| {
            problems(&format!(
                "probes:\n- request: {{url: 'http://a/'}}\n  samples: {samples}\n  expect: {{status: 200, split: {{app: 1}}}}\n"
            ))
        };
        // Found by fuzzing: 4000000000 passed `check`, and `test` then aborted
        // allocating 992 GB.
        let p = probe(4_000_000_000);
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!(p[0].field.as_deref(), Some("probes[].samples"));
        assert!(p[0].message.contains("100000"), "{}", p[0]);
        assert!(probe(100_000).is_empty());
    }

    #[test]
    fn split_weights_are_bounded_and_their_sum_fits() {
        let p = problems(
            "probes:\n- request: {url: 'http://a/'}\n  expect: {status: 200, split: {app: 4294967295, b: 1}}\n",
        );
        let fields: Vec<&str> = p.iter().filter_map(|d| d.field.as_deref()).collect();
        assert_eq!(fields, ["probes[].expect.split.app"], "{p:?}");
        assert!(
            problems("probes:\n- request: {url: 'http://a/'}\n  expect: {status: 200, split: {app: 1000000, b: 0}}\n")
                .is_empty()
        );
    }

    #[test]
    fn a_redirect_port_of_zero_is_an_error() {
        let p = problems(
            "probes:\n- request: {url: 'http://a/'}\n  expect: {status: 301, redirect: {port: 0}}\n",
        );
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!(p[0].field.as_deref(), Some("probes[].expect.redirect.port"));
    }
}
