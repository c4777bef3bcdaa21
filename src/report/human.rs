//! Lines for people: one per scenario and one per failed assertion, with a
//! spinner while a scenario runs when the output is a terminal.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use super::{RunReport, ScenarioReport, Verdict};

/// Where progress and results go.
pub struct Console {
    quiet: bool,
    spinner: Option<ProgressBar>,
    /// Lines go to stderr: stdout belongs to the command that runs this one.
    to_stderr: bool,
}

impl Console {
    /// Progress is shown only on a terminal, without `NO_COLOR` and `--quiet`.
    pub fn new(quiet: bool) -> Self {
        let interactive =
            std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none() && !quiet;
        let spinner = interactive.then(|| {
            let pb = ProgressBar::new_spinner();
            pb.set_style(ProgressStyle::with_template("{spinner} {msg}").expect("static template"));
            pb.enable_steady_tick(Duration::from_millis(100));
            pb
        });
        Console {
            quiet,
            spinner,
            to_stderr: false,
        }
    }

    /// The same console writing its lines to stderr.
    pub(crate) fn on_stderr(mut self) -> Self {
        self.to_stderr = true;
        self
    }

    pub fn progress(&self, msg: impl Into<String>) {
        if let Some(pb) = &self.spinner {
            pb.set_message(msg.into());
        }
    }

    /// Prints a line above the spinner (or plainly).
    pub fn line(&self, text: &str) {
        match &self.spinner {
            Some(pb) => pb.println(text),
            None if self.to_stderr => {
                let mut out = std::io::stderr().lock();
                let _ = writeln!(out, "{text}");
            }
            None => {
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "{text}");
            }
        }
    }

    pub fn scenario(&self, s: &ScenarioReport) {
        if self.quiet && s.verdict == Verdict::Passed {
            return;
        }
        for l in scenario_lines(s) {
            self.line(&l);
        }
    }

    pub fn finish(&self, report: &RunReport) {
        if let Some(pb) = &self.spinner {
            pb.finish_and_clear();
        }
        let Some(p) = &report.portability else {
            self.line(&summary(report));
            return;
        };
        for l in super::portability::render_text(p) {
            self.line(&l);
        }
        for r in super::portability::all_runs(report) {
            self.line(&format!("{}: {}", r.implementation, summary(r)));
        }
    }
}

pub(crate) fn scenario_lines(s: &ScenarioReport) -> Vec<String> {
    let mut out = Vec::new();
    let head = match s.verdict {
        Verdict::Passed => "PASS",
        Verdict::Failed => "FAIL",
        Verdict::Unsupported => "SKIP",
        Verdict::Interrupted => "NOT RUN",
    };
    let mut first = format!("{head} {} ({:.2}s)", s.name, s.duration.as_secs_f64());
    if s.verdict == Verdict::Unsupported {
        first.push_str(&format!(
            ": unsupported, the target lacks {}",
            s.missing_features.join(", ")
        ));
    }
    if s.verdict == Verdict::Interrupted {
        first.push_str(": interrupted (Ctrl-C)");
    }
    out.push(first);
    if s.verdict == Verdict::Failed
        && let Some(p) = &s.phases
    {
        out.push(format!("     time: {}", p.line()));
    }
    if let Some(d) = &s.diagnosis {
        for l in &d.lines {
            out.push(format!("     ! {l}"));
        }
        out.push(format!("     diagnostics: {}", d.bundle.display()));
    }
    // Failed checks, then every passing split probe: a passing split says
    // what it could have detected, since "passed" alone does not, after the
    // failures, not among them.
    let failed = s.checks.iter().filter(|c| !c.passed);
    let passing_splits = s.checks.iter().filter(|c| c.passed && c.power.is_some());
    for c in failed.chain(passing_splits) {
        let step = c
            .step
            .as_ref()
            .map(|s| format!("[{s}] "))
            .unwrap_or_default();
        let passed = if c.passed && s.verdict == Verdict::Failed {
            " (passed)"
        } else {
            ""
        };
        out.push(format!(
            "     {step}{}: {}{passed}",
            c.kind.as_str(),
            c.name
        ));
        for f in c.request.iter().chain(&c.failure) {
            out.push(format!("       {f}"));
        }
        if let (false, Some(at)) = (c.passed, &c.source) {
            out.push(format!("       at {at}"));
        }
        if let Some(p) = &c.power {
            out.push(format!("       {p}"));
        }
    }
    out
}

pub fn summary(report: &RunReport) -> String {
    let mut s = format!(
        "{} passed, {} failed, {} unsupported in {:.2}s",
        report.count(Verdict::Passed),
        report.count(Verdict::Failed),
        report.count(Verdict::Unsupported),
        report.duration.as_secs_f64()
    );
    let not_run = report.count(Verdict::Interrupted);
    if report.interrupted {
        s.push_str(&format!(", {not_run} not run: interrupted (Ctrl-C)"));
    }
    if !report.namespaces_finishing.is_empty() {
        s.push_str(&format!(
            "\nnote: {} of this run, emptied of its objects, {} being removed by the cluster (`gwlab clean --run {}` removes anything left)",
            crate::diag::counted(report.namespaces_finishing.len(), "namespace"),
            if report.namespaces_finishing.len() == 1 { "is" } else { "are" },
            report.run_id
        ));
    }
    if !report.still_deleting.is_empty() {
        s.push_str(&format!(
            "\nstill being deleted when the run ended (the API server finishes on its own; `gwlab clean --run {}` removes anything left): {}",
            report.run_id,
            report.still_deleting.join(", ")
        ));
    }
    let unsupported: Vec<String> = report
        .scenarios
        .iter()
        .filter(|s| s.verdict == Verdict::Unsupported)
        .map(|s| format!("{} (needs {})", s.name, s.missing_features.join(", ")))
        .collect();
    if !unsupported.is_empty() {
        let ran = report.scenarios.len() - unsupported.len();
        let failing = if report.require_features {
            " (failing the run: --require-features)"
        } else {
            ""
        };
        s.push_str(&format!(
            "\nfeatures: {} ran; unsupported on the {} target{failing}: {}",
            crate::diag::counted(ran, "scenario"),
            report.target,
            unsupported.join(", ")
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{run_of, scenario_of, split_check};
    use super::*;

    #[test]
    fn what_the_cluster_still_removes_is_noted_and_what_is_still_deleting_named() {
        let mut run = run_of("cluster", vec![scenario_of(vec![split_check(true)])]);
        assert!(
            !summary(&run).contains("being removed"),
            "{}",
            summary(&run)
        );
        run.namespaces_finishing = vec!["gwlab-canary-abcde".into(), "imprun-system".into()];
        run.still_deleting = vec!["HTTPRoute ns/canary".into()];
        let s = summary(&run);
        assert!(
            s.contains("note: 2 namespaces of this run, emptied of its objects, are being removed by the cluster (`gwlab clean --run r` removes anything left)"),
            "{s}"
        );
        assert!(s.contains("still being deleted when the run ended"), "{s}");
        assert!(s.contains("HTTPRoute ns/canary"), "{s}");
    }

    #[test]
    fn a_passing_split_states_its_power() {
        let lines = scenario_lines(&scenario_of(vec![split_check(true)]));
        assert_eq!(lines[0], "PASS canary (0.00s)");
        assert_eq!(lines[1], "     probe: canary split");
        assert!(
            lines[2].starts_with("       400 samples: a deviation of 8.0 points"),
            "{lines:?}"
        );
    }

    #[test]
    fn a_passing_split_of_a_failed_scenario_comes_after_the_failures() {
        let mut passing = split_check(true);
        passing.name = "the good split".into();
        let mut s = scenario_of(vec![passing, split_check(false)]);
        s.verdict = Verdict::Failed;
        let lines = scenario_lines(&s);
        let at = |needle: &str| lines.iter().position(|l| l.contains(needle)).unwrap();
        assert!(
            at("probe: canary split") < at("probe: the good split (passed)"),
            "{lines:?}"
        );
    }

    #[test]
    fn a_failing_split_states_its_power_after_the_failure() {
        let lines = scenario_lines(&scenario_of(vec![split_check(false)]));
        assert_eq!(lines[0], "FAIL canary (0.00s)");
        assert!(lines[2].starts_with("       GET http://canary.example.com/"));
        assert_eq!(lines[3], "       split: the counts do not fit the weights");
        assert_eq!(lines[4], "       at scenarios/canary/scenario.yaml:12");
        assert!(lines[5].contains("would have been caught"), "{lines:?}");
    }
}
