//! Portability at a glance (`gwlab test --as spec,kong-3.8,kong-3.9`): the
//! same scenarios run once per implementation, and per probe whether each
//! passed and what each answered, with the deviations that explain where
//! they differ.

use serde::Serialize;

use super::{CheckKind, RunReport, ScenarioReport, Source, Verdict};

#[derive(Debug, Clone, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Portability {
    /// The implementations in the order run; the report holding this is
    /// the first's run.
    pub implementations: Vec<String>,
    pub rows: Vec<Row>,
    /// The runs of the other implementations, in order.
    pub runs: Vec<RunReport>,
}

/// One probe of one scenario, under every implementation.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Row {
    pub scenario: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
    pub probe: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<Source>,
    pub cells: Vec<Cell>,
    /// Whether the implementations pass it differently or answer it
    /// differently.
    pub differs: bool,
}

#[derive(Debug, Clone, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Cell {
    pub implementation: String,
    pub result: CellResult,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answer: Option<String>,
    /// Ids of the known deviations that explain a failure.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deviations: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum CellResult {
    Passed,
    Failed,
    /// The implementation lacks a feature the scenario needs.
    Unsupported,
    /// Not run there (interrupted, or the scenario stopped before it).
    NotRun,
}

impl CellResult {
    /// Its name in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            CellResult::Passed => "passed",
            CellResult::Failed => "failed",
            CellResult::Unsupported => "unsupported",
            CellResult::NotRun => "notRun",
        }
    }

    fn word(self) -> &'static str {
        match self {
            CellResult::Passed => "pass",
            CellResult::Failed => "FAIL",
            CellResult::Unsupported => "skip",
            CellResult::NotRun => "-",
        }
    }
}

/// The rows of runs of the same scenarios: every probe any run has, in the
/// order first seen.
fn rows(runs: &[RunReport]) -> Vec<Row> {
    let mut keys: Vec<(String, Option<String>, String, Option<Source>)> = Vec::new();
    for run in runs {
        for s in &run.scenarios {
            for c in s.checks.iter().filter(|c| c.kind == CheckKind::Probe) {
                let key = (
                    s.name.clone(),
                    c.step.clone(),
                    c.name.clone(),
                    c.source.clone(),
                );
                if !keys
                    .iter()
                    .any(|k| (&k.0, &k.1, &k.2) == (&key.0, &key.1, &key.2))
                {
                    keys.push(key);
                }
            }
        }
    }
    keys.into_iter()
        .map(|(scenario, step, probe, source)| {
            let cells: Vec<Cell> = runs
                .iter()
                .map(|run| cell(run, &scenario, step.as_deref(), &probe))
                .collect();
            let differs = cells
                .windows(2)
                .any(|w| (w[0].result, &w[0].answer) != (w[1].result, &w[1].answer));
            Row {
                scenario,
                step,
                probe,
                source,
                cells,
                differs,
            }
        })
        .collect()
}

fn cell(run: &RunReport, scenario: &str, step: Option<&str>, probe: &str) -> Cell {
    let s: Option<&ScenarioReport> = run.scenarios.iter().find(|s| s.name == scenario);
    let check = s.and_then(|s| {
        s.checks
            .iter()
            .find(|c| c.kind == CheckKind::Probe && c.step.as_deref() == step && c.name == probe)
    });
    let result = match (s.map(|s| s.verdict), check) {
        (Some(Verdict::Unsupported), _) => CellResult::Unsupported,
        (_, Some(c)) if c.passed => CellResult::Passed,
        (_, Some(_)) => CellResult::Failed,
        _ => CellResult::NotRun,
    };
    Cell {
        implementation: run.implementation.clone(),
        result,
        answer: check.and_then(|c| c.answer.clone()),
        deviations: check
            .map(|c| c.deviations.iter().map(|d| d.id.clone()).collect())
            .unwrap_or_default(),
    }
}

/// The table of runs of the same scenarios under several implementations
/// (without the runs themselves).
pub(crate) fn table(runs: &[RunReport]) -> Portability {
    Portability {
        implementations: runs.iter().map(|r| r.implementation.clone()).collect(),
        rows: rows(runs),
        runs: Vec::new(),
    }
}

/// The first run, carrying the portability of all of them.
pub(crate) fn combine(mut runs: Vec<RunReport>) -> RunReport {
    let Portability {
        implementations,
        rows,
        ..
    } = table(&runs);
    let others = runs.split_off(1);
    let mut first = runs.pop().expect("one run at least");
    first.duration += others
        .iter()
        .map(|r| r.duration)
        .sum::<std::time::Duration>();
    first.interrupted |= others.iter().any(|r| r.interrupted);
    first.portability = Some(Box::new(Portability {
        implementations,
        rows,
        runs: others,
    }));
    first
}

/// Every run of a report: its own, then its portability's others.
pub(crate) fn all_runs(report: &RunReport) -> Vec<&RunReport> {
    let mut out = vec![report];
    if let Some(p) = &report.portability {
        out.extend(p.runs.iter());
    }
    out
}

/// The table for the terminal: a line per probe with each implementation's
/// result, and under a probe answered differently, each answer.
pub fn render_text(p: &Portability) -> Vec<String> {
    let label = |r: &Row| {
        let step = r
            .step
            .as_ref()
            .map(|s| format!(" [{s}]"))
            .unwrap_or_default();
        let mut l = format!("{}{step}: {}", r.scenario, r.probe);
        if l.chars().count() > 64 {
            l = l.chars().take(63).collect::<String>() + "…";
        }
        l
    };
    let width = p
        .rows
        .iter()
        .map(|r| label(r).chars().count())
        .max()
        .unwrap_or(0)
        .max(5);
    let col = p
        .implementations
        .iter()
        .map(String::len)
        .max()
        .unwrap_or(4)
        .max(4);
    let differing = p.rows.iter().filter(|r| r.differs).count();
    let mut out = vec![format!(
        "portability over {}: {} probes, {differing} answered differently",
        p.implementations.join(", "),
        p.rows.len()
    )];
    let mut head = format!("{:width$}", "probe");
    for i in &p.implementations {
        head.push_str(&format!("  {i:col$}"));
    }
    out.push(head.trim_end().to_string());
    for r in &p.rows {
        let mut line = format!("{:width$}", label(r));
        for c in &r.cells {
            line.push_str(&format!("  {:col$}", c.result.word()));
        }
        out.push(line.trim_end().to_string());
        if r.differs {
            for c in &r.cells {
                let ids = if c.deviations.is_empty() {
                    String::new()
                } else {
                    format!("  [{}]", c.deviations.join(", "))
                };
                out.push(format!(
                    "    {:col$}  {}{ids}",
                    c.implementation,
                    c.answer.as_deref().unwrap_or(c.result.word())
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::test_support::scenario_of;
    use super::*;
    use crate::explain::DeviationView;

    fn probe(
        name: &str,
        passed: bool,
        answer: &str,
        deviation: Option<&str>,
    ) -> super::super::CheckReport {
        let mut c = super::super::test_support::split_check(passed);
        c.kind = CheckKind::Probe;
        c.name = name.into();
        c.power = None;
        c.answer = Some(answer.into());
        c.deviations = deviation
            .into_iter()
            .filter_map(|id| crate::implementations::deviation(id))
            .map(DeviationView::of)
            .collect();
        c
    }

    fn run(implementation: &str, checks: Vec<super::super::CheckReport>) -> RunReport {
        let mut s = scenario_of(checks);
        s.verdict = if s.checks.iter().all(|c| c.passed) {
            Verdict::Passed
        } else {
            Verdict::Failed
        };
        RunReport {
            target: "embedded".into(),
            implementation: implementation.into(),
            run_id: "r".into(),
            scenarios: vec![s],
            duration: std::time::Duration::from_secs(1),
            require_features: false,
            interrupted: false,
            still_deleting: vec![],
            namespaces_finishing: Vec::new(),
            portability: None,
        }
    }

    #[test]
    fn probes_answered_differently_show_each_answer_and_deviation() {
        let report = combine(vec![
            run(
                "spec",
                vec![
                    probe("root", true, "301 http://p/", None),
                    probe("deep", true, "301 http://p/docs?page=2", None),
                ],
            ),
            run(
                "kong-3.8",
                vec![
                    probe("root", true, "301 http://p/", None),
                    probe(
                        "deep",
                        false,
                        "301 http://p",
                        Some("redirect-request-termination"),
                    ),
                ],
            ),
        ]);
        assert_eq!(report.implementation, "spec");
        assert_eq!(report.duration, std::time::Duration::from_secs(2));
        let p = report.portability.as_ref().unwrap();
        assert_eq!(p.runs.len(), 1);
        assert_eq!(
            p.rows.iter().map(|r| r.differs).collect::<Vec<_>>(),
            [false, true]
        );
        let text = render_text(p);
        assert_eq!(
            text[0],
            "portability over spec, kong-3.8: 2 probes, 1 answered differently"
        );
        assert_eq!(text[1], "probe         spec      kong-3.8");
        assert_eq!(text[2], "canary: root  pass      pass");
        assert_eq!(text[3], "canary: deep  pass      FAIL");
        assert_eq!(text[4], "    spec      301 http://p/docs?page=2");
        assert_eq!(
            text[5],
            "    kong-3.8  301 http://p  [redirect-request-termination]"
        );
        assert_eq!(all_runs(&report).len(), 2);
    }
}
