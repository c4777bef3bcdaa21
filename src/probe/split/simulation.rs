//! The split judgement against a gateway simulated by a seeded random source:
//! each request goes to a backend drawn with the shares the gateway really
//! serves. The rates measured over many simulated runs are held against the
//! nominal ones: the false-failure rate against the 0.001 level, the power at
//! the deviation a result states against 95 %, the tolerance test at its
//! boundary, and `samples: auto` reaching its power.
//!
//! Every measured rate is allowed 4 standard errors of a binomial count
//! around its nominal rate (a 1-in-16,000 chance of a miss were the seeds
//! drawn anew; they are fixed, so the tests are deterministic). The runs are
//! few enough for a debug build; `GWLAB_SIMULATION_SCALE=N` runs N times as
//! many, for tighter figures (`--nocapture` prints them).

use std::collections::BTreeMap;

use super::{Rule, decided, judge, passes};
use crate::stats::exact::two_share_failure_rate;
use crate::stats::{AutoSamples, FALSE_FAILURE, POWER, auto_samples, shares};

/// A split and how it is judged.
struct Case {
    weights: BTreeMap<String, u32>,
    tolerance: Option<f64>,
    auto: Option<AutoSamples>,
}

impl Case {
    fn new(weights: &[(&str, u32)], tolerance: Option<f64>) -> Case {
        Case {
            weights: weights.iter().map(|(b, w)| (b.to_string(), *w)).collect(),
            tolerance,
            auto: None,
        }
    }

    /// The same, with `samples: auto`.
    fn auto(mut self) -> Case {
        let w: Vec<u32> = self.weights.values().copied().filter(|w| *w > 0).collect();
        self.auto = Some(auto_samples(&shares(&w), self.tolerance.map(|t| t / 100.0)));
        self
    }

    fn rule(&self) -> Rule<'_> {
        Rule {
            weights: &self.weights,
            tolerance: self.tolerance,
            auto: self.auto.as_ref(),
        }
    }

    fn samples(&self) -> u32 {
        self.auto.expect("an auto case").samples
    }

    /// How many of `runs` samples of `n` requests, from a gateway that serves
    /// `truth` (backend, share), fail.
    fn failures(&self, truth: &[(&str, f64)], n: u32, runs: u32, seed: u64) -> u32 {
        let mut rng = fastrand::Rng::with_seed(seed);
        let mut failed = 0;
        for _ in 0..runs {
            let mut counts = BTreeMap::new();
            for _ in 0..n {
                *counts.entry(draw(truth, &mut rng)).or_insert(0) += 1;
            }
            if !passes(self.rule(), &counts) {
                failed += 1;
            }
        }
        failed
    }

    /// Sequential samples, as the probe sends them, from a gateway that serves
    /// `truth`: how many of `runs` pass, and the requests each took.
    fn sequential(&self, truth: &[(&str, f64)], runs: u32, seed: u64) -> (u32, Vec<u64>) {
        let rule = self.rule();
        let plan = rule.plan().expect("a sequential case");
        let mut rng = fastrand::Rng::with_seed(seed);
        let mut passed = 0;
        let mut taken = Vec::with_capacity(runs as usize);
        for _ in 0..runs {
            let mut counts = BTreeMap::new();
            let mut n = 0;
            for size in plan.sizes() {
                while n < size {
                    *counts.entry(draw(truth, &mut rng)).or_insert(0) += 1;
                    n += 1;
                }
                if decided(rule, &counts) {
                    break;
                }
            }
            if passes(rule, &counts) {
                passed += 1;
            }
            taken.push(n);
        }
        taken.sort_unstable();
        (passed, taken)
    }

    /// The deviation, in points, the judgement of `n` requests says it catches.
    fn stated_deviation(&self, n: u32) -> f64 {
        let counts = self
            .weights
            .iter()
            .map(|(b, w)| (b.clone(), n * w / self.weights.values().sum::<u32>()))
            .collect();
        judge(self.rule(), &counts)
            .power
            .deviation
            .expect("a deviation is stated")
    }
}

/// The backend a request goes to, from a gateway that serves `truth`.
fn draw(truth: &[(&str, f64)], rng: &mut fastrand::Rng) -> String {
    let mut roll = rng.f64();
    for (b, s) in truth {
        if roll < *s {
            return b.to_string();
        }
        roll -= s;
    }
    // The last backend also takes what rounding leaves over.
    truth[truth.len() - 1].0.to_string()
}

fn runs(base: u32) -> u32 {
    let scale = std::env::var("GWLAB_SIMULATION_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    base * scale
}

/// How a measured rate may stand to its nominal rate.
enum Claim {
    /// At most the nominal rate (a false-failure or false-pass rate).
    AtMost,
    /// At least it (a power that is a lower bound).
    AtLeast,
    /// The nominal rate itself (an exact power).
    Near,
}

/// Checks `k` of `runs` against `nominal` with 4 standard errors of margin.
fn assert_rate(what: &str, k: u32, runs: u32, nominal: f64, claim: Claim) {
    let rate = f64::from(k) / f64::from(runs);
    let margin = 4.0 * (nominal * (1.0 - nominal) / f64::from(runs)).sqrt();
    println!("{what}: {k}/{runs} = {rate:.4} against {nominal:.4} (margin {margin:.4})");
    let ok = match claim {
        Claim::AtMost => rate <= nominal + margin,
        Claim::AtLeast => rate >= nominal - margin,
        Claim::Near => (rate - nominal).abs() <= margin,
    };
    assert!(
        ok,
        "{what}: {k} of {runs} ({rate:.4}) against nominal {nominal} ± {margin:.4}"
    );
}

const CANARY: &[(&str, u32)] = &[("app-v1", 90), ("app-v2", 10)];
const THREE: &[(&str, u32)] = &[("a", 50), ("b", 30), ("c", 20)];

#[test]
fn the_exact_test_fails_a_true_split_at_its_real_rate() {
    let n = runs(4000);
    let canary = Case::new(CANARY, None);
    // The chi-square approximation says 0.001; with 40 expected answers from
    // app-v2 the binomial's skew makes the real rate higher, and with two
    // shares it can be computed exactly.
    let real = two_share_failure_rate(&[0.9, 0.1], 400, 0.9);
    println!(
        "exact 90/10, 400 samples: real false-failure rate {real:.5}, nominal {FALSE_FAILURE}"
    );
    assert!(real > FALSE_FAILURE && real < 3.0 * FALSE_FAILURE, "{real}");
    let k = canary.failures(&[("app-v1", 0.9), ("app-v2", 0.1)], 400, n, 1);
    assert_rate(
        "exact 90/10, 400 samples, served 90/10: failed",
        k,
        n,
        real,
        Claim::Near,
    );
    let even = Case::new(&[("a", 1), ("b", 1)], None);
    let real = two_share_failure_rate(&[0.5, 0.5], 400, 0.5);
    assert!((real - FALSE_FAILURE).abs() < 0.5 * FALSE_FAILURE, "{real}");
    let k = even.failures(&[("a", 0.5), ("b", 0.5)], 400, n, 13);
    assert_rate(
        "exact 50/50, 400 samples, served 50/50: failed",
        k,
        n,
        real,
        Claim::Near,
    );
    let three = Case::new(THREE, None);
    let k = three.failures(&[("a", 0.5), ("b", 0.3), ("c", 0.2)], 400, n, 2);
    assert_rate(
        "exact 50/30/20, 400 samples, served so: failed",
        k,
        n,
        FALSE_FAILURE,
        Claim::Near,
    );
}

#[test]
fn the_exact_test_catches_the_stated_deviation_with_the_stated_power() {
    let n = runs(1000);
    let canary = Case::new(CANARY, None);
    let d = canary.stated_deviation(400) / 100.0;
    // Towards 50/50 the count varies most: the hard side, where two shares
    // give the stated power exactly.
    let k = canary.failures(&[("app-v1", 0.9 - d), ("app-v2", 0.1 + d)], 400, n, 3);
    assert_rate(
        "exact 90/10, 400 samples, served 90-D/10+D: caught",
        k,
        n,
        POWER,
        Claim::Near,
    );
    let k = canary.failures(&[("app-v1", 0.9 + d), ("app-v2", 0.1 - d)], 400, n, 4);
    assert_rate(
        "exact 90/10, 400 samples, served 90+D/10-D: caught",
        k,
        n,
        POWER,
        Claim::AtLeast,
    );
    // With three shares the stated figure is a lower bound.
    let three = Case::new(THREE, None);
    let d = three.stated_deviation(600) / 100.0;
    let k = three.failures(
        &[
            ("a", 0.5 - d * 5.0 / 7.0),
            ("b", 0.3 + d),
            ("c", 0.2 - d * 2.0 / 7.0),
        ],
        600,
        n,
        5,
    );
    assert_rate(
        "exact 50/30/20, 600 samples, b off by D: caught",
        k,
        n,
        POWER,
        Claim::AtLeast,
    );
}

#[test]
fn the_tolerance_test_passes_a_share_at_the_tolerance_at_most_at_its_level() {
    let n = runs(2000);
    let canary = Case::new(CANARY, Some(5.0));
    for (what, v1, seed) in [("85/15", 0.85, 6), ("95/5", 0.95, 7)] {
        let k = canary.failures(&[("app-v1", v1), ("app-v2", 1.0 - v1)], 971, n, seed);
        assert_rate(
            &format!("tolerance 5, 90/10, 971 samples, served {what}: passed"),
            n - k,
            n,
            1.0 - POWER,
            Claim::AtMost,
        );
    }
}

/// `samples: auto` with a tolerance, sent look by look as the probe does,
/// from gateways whose true share sits at 0, 25, 50, 75 and 100 % of the
/// tolerance from the weight, and beyond it: inside, a split passes with
/// high probability (at 0 % failing at most at the false-failure rate); at
/// the edge and beyond, it passes at most at the test's level.
#[test]
fn a_sequential_sample_decides_wherever_the_share_sits() {
    let n = runs(400);
    for (weights, t) in [
        (CANARY, 5.0),
        (&[("a", 50), ("b", 50)][..], 5.0),
        (CANARY, 8.0),
    ] {
        let case = Case::new(weights, Some(t)).auto();
        let (first, cap) = {
            let p = case.rule().plan().unwrap();
            (p.first, p.cap())
        };
        let names: Vec<&str> = weights.iter().map(|(b, _)| *b).collect();
        let p0 = f64::from(weights[0].1) / 100.0;
        for (i, at) in [0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5]
            .into_iter()
            .enumerate()
        {
            // Towards 50/50, where the count varies most.
            let toward = if p0 > 0.5 { -1.0 } else { 1.0 };
            let q = p0 + toward * at * t / 100.0;
            let (passed, taken) =
                case.sequential(&[(names[0], q), (names[1], 1.0 - q)], n, 100 + i as u64);
            let mean = taken.iter().sum::<u64>() as f64 / taken.len() as f64;
            let p95 = taken[(taken.len() * 95 / 100).min(taken.len() - 1)];
            let what = format!(
                "sequential {weights:?} ± {t} (looks from {first} to {cap}), share at {:.0} % of the tolerance: passed (mean {mean:.0}, p95 {p95} samples)",
                at * 100.0
            );
            if at == 0.0 {
                assert_rate(&what, n - passed, n, FALSE_FAILURE, Claim::AtMost);
            } else if at <= 0.5 {
                assert_rate(&what, passed, n, 1.0 - FALSE_FAILURE, Claim::AtLeast);
            } else if at < 1.0 {
                assert_rate(&what, passed, n, 0.99, Claim::AtLeast);
            } else {
                assert_rate(&what, passed, n, 1.0 - POWER, Claim::AtMost);
            }
            if at == 0.0 {
                assert!(
                    p95 < cap,
                    "an exact split stops before the last look: {what}"
                );
            }
        }
    }
}

#[test]
fn auto_samples_reach_their_power() {
    let n = runs(1000);
    for (weights, truth, seed) in [
        (&[("a", 50), ("b", 50)][..], [0.45, 0.55], 10),
        (CANARY, [0.85, 0.15], 11),
        (&[("a", 99), ("b", 1)][..], [0.94, 0.06], 12),
    ] {
        let case = Case::new(weights, None).auto();
        let samples = case.samples();
        let names: Vec<&str> = weights.iter().map(|(b, _)| *b).collect();
        let k = case.failures(
            &[(names[0], truth[0]), (names[1], truth[1])],
            samples,
            n,
            seed,
        );
        assert_rate(
            &format!("exact {weights:?}, auto ({samples} samples), off by 5 points: caught"),
            k,
            n,
            POWER,
            Claim::AtLeast,
        );
    }
}
