//! Judging a weighted split: which backends may answer at all, then the counts
//! per backend against the weights, by the exact test or, with a tolerance, by
//! the tolerance test (the statistics are in [`crate::stats`]), and what the
//! judgement could have detected ([`Power`]).

pub(crate) mod power;
#[cfg(test)]
mod simulation;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::stats::exact::{self, ChiSquare};
use crate::stats::sequential::{self, Sequential};
use crate::stats::tolerance::{self, Finding};
use crate::stats::{self, AutoSamples, FALSE_FAILURE, MAX_AUTO_SAMPLES};
pub use power::{Power, points};

/// How a split probe is judged.
#[derive(Debug, Clone, Copy)]
pub struct Rule<'a> {
    /// Backend → relative weight.
    pub weights: &'a BTreeMap<String, u32>,
    /// Percentage points each share may be off its expectation; `None`: the
    /// exact test.
    pub tolerance: Option<f64>,
    /// What `samples: auto` computed, when the probe asked for it.
    pub auto: Option<&'a AutoSamples>,
}

#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SplitVerdict {
    pub passed: bool,
    pub counts: BTreeMap<String, u32>,
    pub expected: BTreeMap<String, f64>,
    pub chi_square: f64,
    pub degrees_of_freedom: u32,
    pub p_value: f64,
    /// The tolerance in percentage points, when the probe has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tolerance: Option<f64>,
    /// With a tolerance: each share's one-sided 95 % bounds, in percent.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub bounds: BTreeMap<String, [f64; 2]>,
    pub power: Power,
    /// Requests of the sample sent again because they got no answer.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub retried: u32,
    /// With `samples: auto` and a tolerance: how the sequential sample went.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sequential: Option<SequentialRun>,
    /// Why it failed, in words.
    pub problems: Vec<String>,
}

/// How a sequential sample went: the looks it took of its plan, and why it
/// stopped.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SequentialRun {
    pub plan: Sequential,
    /// The looks taken (1-based: the last one judged).
    pub looks: u32,
    pub stopped: Stopped,
}

/// Why a sequential sample stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Stopped {
    /// Every share was shown within the tolerance.
    Within,
    /// A share was shown outside it.
    Outside,
    /// The last look came, undecided.
    LastLook,
}

impl Stopped {
    pub fn of(finding: Finding) -> Stopped {
        match finding {
            Finding::Within => Stopped::Within,
            Finding::Outside => Stopped::Outside,
            Finding::Undecided => Stopped::LastLook,
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Stopped::Within => "as soon as every share was shown within the tolerance",
            Stopped::Outside => "as soon as a share was shown outside the tolerance",
            Stopped::LastLook => "at its last look, undecided",
        }
    }
}

/// Judges `counts` (backend → requests answered) by `rule`. Weight-0 backends
/// and backends outside the split must have no request, with or without a
/// tolerance.
pub(crate) fn judge(rule: Rule<'_>, counts: &BTreeMap<String, u32>) -> SplitVerdict {
    let split = Sample::of(rule.weights, counts, rule.plan());
    let (test, problems) = split.assess(rule, counts);
    let bounds = match rule.tolerance {
        Some(_) if split.n > 0 => split.bounds(),
        _ => BTreeMap::new(),
    };
    let sequential = split.plan.map(|plan| SequentialRun {
        plan,
        looks: plan.look_of(split.n),
        stopped: Stopped::of(sequential::decide(
            &split.counts,
            &split.shares,
            rule.tolerance.unwrap_or(0.0) / 100.0,
        )),
    });
    let expected = split
        .backends
        .iter()
        .zip(&split.shares)
        .map(|(b, p)| (b.clone(), split.n as f64 * p))
        .collect();
    SplitVerdict {
        passed: problems.is_empty(),
        counts: counts.clone(),
        expected,
        chi_square: test.statistic,
        degrees_of_freedom: test.degrees_of_freedom,
        p_value: test.p_value,
        tolerance: rule.tolerance,
        bounds,
        power: Power::of(&split.shares, split.n, rule, sequential.as_ref()),
        retried: 0,
        sequential,
        problems,
    }
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// Whether the answers so far decide a sequential sample: a request to a
/// backend that must get none fails it whatever follows; otherwise the
/// plan's look decides ([`sequential::decide`]).
pub(crate) fn decided(rule: Rule<'_>, counts: &BTreeMap<String, u32>) -> bool {
    let Some(plan) = rule.plan() else {
        return false;
    };
    if !stray_answers(rule.weights, counts).is_empty() {
        return true;
    }
    let split = Sample::of(rule.weights, counts, Some(plan));
    sequential::decide(
        &split.counts,
        &split.shares,
        rule.tolerance.unwrap_or(0.0) / 100.0,
    ) != Finding::Undecided
}

impl Rule<'_> {
    /// The sequential plan of `samples: auto` with a tolerance.
    pub(crate) fn plan(&self) -> Option<Sequential> {
        self.tolerance?;
        self.auto.and_then(|a| a.sequential)
    }
}

/// Whether `counts` pass `rule`: the verdict without the figures that only
/// reports need, for simulations that judge thousands of samples.
#[cfg(test)]
fn passes(rule: Rule<'_>, counts: &BTreeMap<String, u32>) -> bool {
    Sample::of(rule.weights, counts, rule.plan())
        .assess(rule, counts)
        .1
        .is_empty()
}

/// Answers from backends that must get none: weight 0, or not in the split.
fn stray_answers(weights: &BTreeMap<String, u32>, counts: &BTreeMap<String, u32>) -> Vec<String> {
    let mut problems = Vec::new();
    for (backend, n) in counts {
        match weights.get(backend) {
            None if *n > 0 => problems.push(format!(
                "{backend} answered {n} requests but is not in the split"
            )),
            Some(0) if *n > 0 => {
                problems.push(format!("{backend} has weight 0 but answered {n} requests"))
            }
            _ => {}
        }
    }
    problems
}

/// The backends with a weight above 0, their shares and counts.
struct Sample {
    backends: Vec<String>,
    shares: Vec<f64>,
    counts: Vec<u64>,
    n: u64,
    /// Judged at the levels of this sequential plan.
    plan: Option<Sequential>,
}

impl Sample {
    fn of(
        weights: &BTreeMap<String, u32>,
        counts: &BTreeMap<String, u32>,
        plan: Option<Sequential>,
    ) -> Self {
        let (backends, weights): (Vec<String>, Vec<u32>) = weights
            .iter()
            .filter(|(_, w)| **w > 0)
            .map(|(b, w)| (b.clone(), *w))
            .unzip();
        let counts: Vec<u64> = backends
            .iter()
            .map(|b| u64::from(counts.get(b).copied().unwrap_or(0)))
            .collect();
        Sample {
            shares: stats::shares(&weights),
            n: counts.iter().sum(),
            backends,
            counts,
            plan,
        }
    }

    /// The exact test's figures, and every reason the sample fails `rule`.
    fn assess(&self, rule: Rule<'_>, counts: &BTreeMap<String, u32>) -> (ChiSquare, Vec<String>) {
        let mut problems = stray_answers(rule.weights, counts);
        let test = exact::chi_square(&self.shares, &self.counts);
        if self.n == 0 {
            problems.push("no request reached a backend of the split".into());
        } else if let Some(t) = rule.tolerance {
            problems.extend(self.tolerance_problem(t, rule.auto.is_some()));
        } else if test.rejects() {
            problems.push(format!(
                "the counts do not fit the weights (chi-square {:.2}, {} degrees of freedom, p = {:.2e} < {FALSE_FAILURE})",
                test.statistic, test.degrees_of_freedom, test.p_value
            ));
        }
        (test, problems)
    }

    fn observed(&self, i: usize) -> f64 {
        self.counts[i] as f64 / self.n as f64
    }

    /// Share `i`'s one-sided bounds: at 95 %, or with a sequential plan at
    /// the level of each look (95 % over all looks).
    fn bounds_of(&self, i: usize) -> (f64, f64) {
        match self.plan {
            Some(_) => tolerance::bounds_at(self.counts[i], self.n, sequential::within_level()),
            None => tolerance::bounds(self.counts[i], self.n),
        }
    }

    /// What the data show about share `i` with tolerance `t` (a fraction).
    fn finding(&self, i: usize, t: f64) -> Finding {
        match self.plan {
            Some(_) => {
                sequential::finding(self.counts[i], self.n, self.shares[i], t, self.shares.len())
            }
            None => tolerance::finding(self.counts[i], self.n, self.shares[i], t),
        }
    }

    /// Each share's bounds ([`Sample::bounds_of`]), in percent.
    fn bounds(&self) -> BTreeMap<String, [f64; 2]> {
        (0..self.backends.len())
            .map(|i| {
                let (lo, hi) = self.bounds_of(i);
                (self.backends[i].clone(), [lo * 100.0, hi * 100.0])
            })
            .collect()
    }

    /// Why the sample fails the tolerance test of `t` points, if it does:
    /// a share shown outside, or (the test passes only on evidence) shares not
    /// shown within, with the sample size that would decide them.
    fn tolerance_problem(&self, t: f64, auto: bool) -> Option<String> {
        let frac = t / 100.0;
        let findings: Vec<Finding> = (0..self.backends.len())
            .map(|i| self.finding(i, frac))
            .collect();
        let label = if self.plan.is_some() {
            "95 % bounds over the looks"
        } else {
            "95 % bounds"
        };
        let describe = |i: usize, verdict: &str| {
            let (lo, hi) = self.bounds_of(i);
            format!(
                "{} answered {:.1} % ({label} {:.1}–{:.1} %), {verdict} {} ± {} points",
                self.backends[i],
                self.observed(i) * 100.0,
                lo * 100.0,
                hi * 100.0,
                points(self.shares[i] * 100.0),
                points(t)
            )
        };
        let of = |wanted: Finding, verdict: &str| -> Vec<String> {
            (0..findings.len())
                .filter(|i| findings[*i] == wanted)
                .map(|i| describe(i, verdict))
                .collect()
        };
        let outside = of(Finding::Outside, "outside");
        if !outside.is_empty() {
            return Some(format!("outside the tolerance: {}", outside.join("; ")));
        }
        let undecided = of(Finding::Undecided, "not shown within");
        if undecided.is_empty() {
            return None;
        }
        Some(format!(
            "inconclusive, which fails: the sample does not show every share within the tolerance: {}; {}",
            undecided.join("; "),
            self.more_samples(&findings, frac, auto)
        ))
    }

    /// How many samples would decide the undecided shares, if they stay as observed.
    fn more_samples(&self, findings: &[Finding], t: f64, auto: bool) -> String {
        if let Some(plan) = self.plan {
            return format!(
                "the sequential sample reached its last look ({} requests) undecided: a share this near the edge of the tolerance cannot be placed inside or outside it; widen the tolerance, or give `samples: N` to judge a fixed sample",
                plan.cap()
            );
        }
        let limit = u64::from(MAX_AUTO_SAMPLES) * 10;
        let needed: Option<u64> = (0..findings.len())
            .filter(|i| findings[*i] == Finding::Undecided)
            .map(|i| tolerance::samples_to_decide(self.observed(i), self.shares[i], t, limit))
            .try_fold(0, |most, n| n.map(|n| most.max(n)));
        let mut said = match needed {
            Some(n) => format!("more samples are needed: about {n} would decide shares like these"),
            None => format!(
                "more samples are needed, over {limit} for shares this close to the edge of the tolerance"
            ),
        };
        if !auto {
            let a = stats::auto_samples(&self.shares, Some(t));
            said.push_str(&format!(
                " (`samples: auto` samples sequentially, up to {} requests, and stops as soon as the data decide)",
                a.samples,
            ));
        }
        said
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map<T: Copy>(pairs: &[(&str, T)]) -> BTreeMap<String, T> {
        pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
    }

    fn exact(weights: &BTreeMap<String, u32>) -> Rule<'_> {
        Rule {
            weights,
            tolerance: None,
            auto: None,
        }
    }

    fn within(weights: &BTreeMap<String, u32>, t: f64) -> Rule<'_> {
        Rule {
            weights,
            tolerance: Some(t),
            auto: None,
        }
    }

    #[test]
    fn a_fair_90_10_sample_passes_and_a_50_50_one_fails() {
        let w = map(&[("app-v1", 90), ("app-v2", 10)]);
        let v = judge(exact(&w), &map(&[("app-v1", 176), ("app-v2", 24)]));
        assert!(v.passed, "{v:?}");
        let v = judge(exact(&w), &map(&[("app-v1", 100), ("app-v2", 100)]));
        assert!(!v.passed);
        assert!(v.problems[0].contains("do not fit"), "{v:?}");
    }

    #[test]
    fn traffic_to_a_weight_0_backend_fails_even_with_a_tolerance() {
        let w = map(&[("a", 1), ("b", 0)]);
        let counts = map(&[("a", 199), ("b", 1)]);
        for rule in [exact(&w), within(&w, 50.0)] {
            let v = judge(rule, &counts);
            assert!(!v.passed);
            assert!(v.problems[0].contains("weight 0"), "{v:?}");
        }
    }

    #[test]
    fn a_backend_outside_the_split_fails() {
        let w = map(&[("a", 1)]);
        let v = judge(exact(&w), &map(&[("a", 150), ("c", 50)]));
        assert!(!v.passed);
        assert!(v.problems[0].contains("not in the split"));
    }

    #[test]
    fn rounded_weights_fail_the_exact_test_but_pass_a_tolerance() {
        // A gateway serving 90/10 as 90.4/9.6, seen over 100000 requests.
        let w = map(&[("app-v1", 90), ("app-v2", 10)]);
        let counts = map(&[("app-v1", 90_400), ("app-v2", 9_600)]);
        assert!(!judge(exact(&w), &counts).passed);
        let v = judge(within(&w, 1.0), &counts);
        assert!(v.passed, "{v:?}");
        assert_eq!(v.bounds.len(), 2);
    }

    #[test]
    fn a_share_outside_the_tolerance_fails_naming_it() {
        let w = map(&[("app-v1", 90), ("app-v2", 10)]);
        let v = judge(within(&w, 5.0), &map(&[("app-v1", 800), ("app-v2", 200)]));
        assert!(!v.passed);
        assert!(
            v.problems[0].starts_with("outside the tolerance: app-v1 answered 80.0 %"),
            "{v:?}"
        );
        assert!(v.problems[0].contains("outside 90 ± 5 points"), "{v:?}");
    }

    #[test]
    fn too_small_a_sample_fails_saying_how_many_would_do() {
        let w = map(&[("app-v1", 90), ("app-v2", 10)]);
        let v = judge(within(&w, 5.0), &map(&[("app-v1", 36), ("app-v2", 4)]));
        assert!(!v.passed);
        let p = &v.problems[0];
        assert!(p.starts_with("inconclusive, which fails"), "{p}");
        assert!(p.contains("more samples are needed: about "), "{p}");
        let auto = stats::auto_samples(&[0.9, 0.1], Some(0.05)).samples;
        assert!(
            p.contains(&format!(
                "`samples: auto` samples sequentially, up to {auto} requests"
            )),
            "{p}"
        );
    }

    #[test]
    fn every_verdict_states_its_power() {
        let w = map(&[("app-v1", 90), ("app-v2", 10)]);
        let v = judge(exact(&w), &map(&[("app-v1", 360), ("app-v2", 40)]));
        assert!(
            v.power
                .statement
                .starts_with("400 samples: a deviation of 8.0 points or more"),
            "{}",
            v.power.statement
        );
        let v = judge(within(&w, 5.0), &map(&[("app-v1", 900), ("app-v2", 100)]));
        assert!(v.passed, "{v:?}");
        assert!(
            v.power
                .statement
                .contains("a deviation of 5 points (the tolerance) or more"),
            "{}",
            v.power.statement
        );
    }
}
